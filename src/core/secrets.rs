//! Secrets: redacted wrappers, the master key, and encryption of stored secrets.
//!
//! Everything secret that Cognate stores (client secrets, private signing keys) is sealed
//! with AES-256-GCM under the master key, with the record's identity as associated data so
//! a ciphertext cannot be moved to another record. All primitives come from aws-lc-rs.

use std::fmt;
use std::path::Path;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};

/// A string that must never reach a log: `Debug` and `Display` print a placeholder.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(s: impl Into<String>) -> Self {
        SecretString(s.into())
    }

    /// The secret itself. Call sites are few and easy to audit.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretString({REDACTED})")
    }
}

/// What a hand-written `Debug` prints for a secret field.
pub const REDACTED: &str = "<redacted>";

/// [`REDACTED`] for an optional secret that is set, so a `Debug` still tells whether it was.
pub fn redacted<T>(secret: &Option<T>) -> Option<&'static str> {
    secret.as_ref().map(|_| REDACTED)
}

impl From<String> for SecretString {
    fn from(s: String) -> Self {
        SecretString(s)
    }
}

/// Compares two secrets in constant time (for equal lengths; the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

/// Fills a buffer from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    // aws-lc-rs reads the OS CSPRNG; it fails only if the OS has none, which we cannot
    // recover from anyway.
    aws_lc_rs::rand::fill(&mut buf).expect("the operating system's random source failed");
    buf
}

/// A random URL-safe token carrying `N` bytes of entropy.
pub fn random_token<const N: usize>() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<N>())
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the master key must be 32 bytes, base64 encoded (got {0} bytes)")]
    BadMasterKeyLength(usize),
    #[error("the master key is not valid base64")]
    BadMasterKeyEncoding,
    #[error("a stored secret could not be decrypted: wrong master key or corrupted record ({0})")]
    Decrypt(String),
    #[error("reading the master key file {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The 256-bit key that seals every stored secret, and from which the cookie-signing key
/// is derived (HKDF-SHA256, RFC 5869), so every node signs cookies alike.
pub struct MasterKey {
    key: LessSafeKey,
    cookie_key: aws_lc_rs::hmac::Key,
    /// HKDF-SHA256's pseudorandom key of the master key, for [`MasterKey::derive_key`].
    prk: aws_lc_rs::hkdf::Prk,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SecretError> {
        if bytes.len() != 32 {
            return Err(SecretError::BadMasterKeyLength(bytes.len()));
        }
        let unbound = UnboundKey::new(&AES_256_GCM, bytes)
            .map_err(|_| SecretError::BadMasterKeyLength(bytes.len()))?;
        let prk =
            aws_lc_rs::hkdf::Salt::new(aws_lc_rs::hkdf::HKDF_SHA256, b"cognate").extract(bytes);
        let mut cookie_bytes = [0u8; 32];
        prk.expand(&[b"cookie-signing-v1"], aws_lc_rs::hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut cookie_bytes))
            .map_err(|_| SecretError::BadMasterKeyLength(bytes.len()))?;
        Ok(MasterKey {
            key: LessSafeKey::new(unbound),
            cookie_key: aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &cookie_bytes),
            prk,
        })
    }

    /// Parses the base64 form used in `COGNATE_MASTER_KEY` and key files.
    pub fn from_base64(text: &str) -> Result<Self, SecretError> {
        let bytes = STANDARD
            .decode(text.trim())
            .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim()))
            .map_err(|_| SecretError::BadMasterKeyEncoding)?;
        Self::from_bytes(&bytes)
    }

    /// A fresh random key and its base64 form (to be written to a 0600 file).
    pub fn generate() -> (Self, String) {
        let bytes = random_bytes::<32>();
        let text = STANDARD.encode(bytes);
        let key = Self::from_bytes(&bytes).expect("32 random bytes make a valid key");
        (key, text)
    }

    /// Reads a key file written by [`MasterKey::load_or_create_file`] or by an operator.
    pub fn read_file(path: &Path) -> Result<Self, SecretError> {
        let text = std::fs::read_to_string(path).map_err(|source| SecretError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_base64(&text)
    }

    /// Loads the key file, creating it (mode 0600) if it does not exist. Creation uses
    /// `create_new`, so two processes starting at once cannot both write a key: the loser
    /// reads the winner's file.
    pub fn load_or_create_file(path: &Path) -> Result<Self, SecretError> {
        use std::io::Write;
        let io = |source| SecretError::Io {
            path: path.display().to_string(),
            source,
        };
        if path.exists() {
            return Self::read_file(path);
        }
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(path) {
            Ok(mut file) => {
                let (key, text) = Self::generate();
                file.write_all(text.as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Another process won the race; give it a moment to finish writing.
                for _ in 0..50 {
                    if let Ok(key) = Self::read_file(path) {
                        return Ok(key);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Self::read_file(path)
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Seals `plaintext`, binding it to `context` (the owning record's identity).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> EncryptedSecret {
        let nonce_bytes = random_bytes::<NONCE_LEN>();
        let nonce = Nonce::assume_unique_for_key(nonce_bytes);
        let mut in_out = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        let mut out = nonce_bytes.to_vec();
        out.extend_from_slice(&in_out);
        EncryptedSecret(format!("v1:{}", STANDARD.encode(out)))
    }

    /// Opens a sealed secret; fails if the key, the context or the bytes are wrong.
    pub fn open(&self, context: &str, sealed: &EncryptedSecret) -> Result<Vec<u8>, SecretError> {
        let body = sealed
            .0
            .strip_prefix("v1:")
            .ok_or_else(|| SecretError::Decrypt("unknown format".into()))?;
        let raw = STANDARD
            .decode(body)
            .map_err(|_| SecretError::Decrypt("not base64".into()))?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(SecretError::Decrypt("too short".into()));
        }
        let (nonce_bytes, ciphertext) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce_bytes)
            .map_err(|_| SecretError::Decrypt("bad nonce".into()))?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| SecretError::Decrypt(format!("context {context}")))?;
        Ok(plain.to_vec())
    }

    /// Opens a sealed UTF-8 secret.
    pub fn open_string(
        &self,
        context: &str,
        sealed: &EncryptedSecret,
    ) -> Result<SecretString, SecretError> {
        let bytes = self.open(context, sealed)?;
        String::from_utf8(bytes)
            .map(SecretString)
            .map_err(|_| SecretError::Decrypt("not UTF-8".into()))
    }
}

impl MasterKey {
    /// A 256-bit key for `purpose`, derived with HKDF-SHA256 (RFC 5869) like the
    /// cookie-signing key (another `info`, so never equal to it), for a keyed hash every
    /// node must compute alike (the SRP answers for unknown users) without handing out the
    /// master key itself.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        self.prk
            .expand(
                &[b"derived-key-v1:", purpose.as_bytes()],
                aws_lc_rs::hkdf::HKDF_SHA256,
            )
            .and_then(|okm| okm.fill(&mut out))
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        out
    }

    /// `value.signature` with an HMAC-SHA256 over the cookie's name and value, so a
    /// cookie cannot be forged, altered or moved to another cookie name.
    pub fn sign_cookie(&self, name: &str, value: &str) -> String {
        let tag = aws_lc_rs::hmac::sign(&self.cookie_key, format!("{name}={value}").as_bytes());
        format!("{value}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
    }

    /// The value of a cookie signed by [`MasterKey::sign_cookie`], if the signature holds.
    pub fn verify_cookie(&self, name: &str, signed: &str) -> Option<String> {
        let (value, tag) = signed.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        aws_lc_rs::hmac::verify(&self.cookie_key, format!("{name}={value}").as_bytes(), &tag)
            .ok()
            .map(|_| value.to_string())
    }
}

/// A secret sealed under the master key (`v1:` + base64 of nonce, ciphertext and tag).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EncryptedSecret(String);

impl EncryptedSecret {
    /// A sealed secret as a storage engine read it from a column of its own.
    pub(crate) fn from_stored(text: String) -> Self {
        EncryptedSecret(text)
    }

    /// The sealed form (nonce, ciphertext and tag; nothing secret without the master key),
    /// for a storage engine to write to a column of its own.
    pub(crate) fn as_stored(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for EncryptedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncryptedSecret(..)")
    }
}

/// The associated-data context of an app client's secret.
pub fn client_secret_context(client_id: &str) -> String {
    format!("client-secret:{client_id}")
}

/// The associated-data context of a signing key's private part.
pub fn signing_key_context(pool_id: &str, kid: &str) -> String {
    format!("signing-key:{pool_id}:{kid}")
}

/// The associated-data context of a pool's SAML service-provider private key, bound to
/// the pool and the key's id (a distinct prefix, so a token key's ciphertext can never be
/// opened as an SP key nor the reverse).
pub fn sp_key_context(pool_id: &str, kid: &str) -> String {
    format!("saml-sp-key:{pool_id}:{kid}")
}

/// The associated-data context of an identity provider's credential (its client secret,
/// or Apple's `.p8` private key), bound to the pool and the provider name.
pub fn idp_secret_context(pool_id: &str, provider_name: &str) -> String {
    format!("idp-secret:{pool_id}:{provider_name}")
}

/// The associated-data context of a user's TOTP key (RFC 6238), bound to the pool, the
/// user and the factor, so a sealed key can be opened only as that factor's key.
pub fn totp_secret_context(pool_id: &str, sub: &str, factor_id: &str) -> String {
    format!("totp-secret:{pool_id}:{sub}:{factor_id}")
}

/// The associated-data context of a user's SRP verifier, bound to the pool, the user and
/// the salt, so a sealed verifier cannot be moved to another user or salt.
pub fn srp_verifier_context(pool_id: &str, sub: &str, salt: &str) -> String {
    format!("srp-verifier:{pool_id}:{sub}:{salt}")
}

/// The associated-data context of a pool's trigger webhook signing secret, bound to the
/// pool.
pub fn webhook_secret_context(pool_id: &str) -> String {
    format!("webhook-secret:{pool_id}")
}

/// The context of the value stored to check that a node has the right master key.
pub const MASTER_KEY_CHECK_CONTEXT: &str = "master-key-check";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_context_binding() {
        let (key, _) = MasterKey::generate();
        let sealed = key.seal("client-secret:a", b"hunter2");
        assert_eq!(key.open("client-secret:a", &sealed).unwrap(), b"hunter2");
        // The same ciphertext under another record's context is refused.
        assert!(key.open("client-secret:b", &sealed).is_err());
        // Another master key cannot open it.
        let (other, _) = MasterKey::generate();
        assert!(other.open("client-secret:a", &sealed).is_err());
    }

    #[test]
    fn idp_secrets_are_bound_to_pool_and_provider() {
        let (key, _) = MasterKey::generate();
        let context = idp_secret_context("us-east-1_A", "Google");
        assert_eq!(context, "idp-secret:us-east-1_A:Google");
        let sealed = key.seal(&context, b"s3cret");
        assert_eq!(key.open(&context, &sealed).unwrap(), b"s3cret");
        assert!(key
            .open(&idp_secret_context("us-east-1_B", "Google"), &sealed)
            .is_err());
        assert!(key
            .open(&idp_secret_context("us-east-1_A", "Facebook"), &sealed)
            .is_err());
    }

    #[test]
    fn signed_cookies_resist_tampering() {
        let (key, _) = MasterKey::generate();
        let signed = key.sign_cookie("session", "abc");
        assert_eq!(
            key.verify_cookie("session", &signed).as_deref(),
            Some("abc")
        );
        assert!(key.verify_cookie("other", &signed).is_none());
        assert!(key
            .verify_cookie("session", &signed.replace("abc", "abd"))
            .is_none());
        let (other, _) = MasterKey::generate();
        assert!(other.verify_cookie("session", &signed).is_none());
    }

    #[test]
    fn debug_output_hides_secrets() {
        let s = SecretString::new("hunter2");
        assert!(!format!("{s:?}").contains("hunter2"));
        let (key, text) = MasterKey::generate();
        assert!(!format!("{key:?}").contains(&text));
    }

    #[test]
    fn master_key_parsing_rejects_wrong_lengths() {
        assert!(matches!(
            MasterKey::from_base64("AAAA"),
            Err(SecretError::BadMasterKeyLength(3))
        ));
        assert!(MasterKey::from_base64("!!!").is_err());
        let (_, text) = MasterKey::generate();
        assert!(MasterKey::from_base64(&text).is_ok());
    }
}
