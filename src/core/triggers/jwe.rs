//! The encrypted code of the custom sender triggers: Cognito encrypts the code it hands
//! to a custom email or SMS sender with the pool's KMS key; Cognate encrypts it as a
//! compact JWE (RFC 7516 section 7.1) to an RSA public key the operator configures per
//! pool (`[pools.triggers] sender_key`, or UpdateUserPool's `LambdaConfig.KMSKeyID`, which
//! here takes the PEM or JWK public key instead of a KMS key ARN).
//!
//! - `alg` **RSA-OAEP-256** (RFC 7518 section 4.3: RSAES-OAEP, SHA-256 and MGF1-SHA-256)
//!   wraps a fresh 256-bit content key;
//! - `enc` **A256GCM** (RFC 7518 section 5.3) encrypts the code under it with a fresh
//!   96-bit IV; the additional data is the ASCII of the encoded protected header
//!   (RFC 7516 section 5.1 step 14).
//!
//! Both primitives are aws-lc-rs's (the crypto stack of the rest of Cognate); this module
//! only frames their output as RFC 7516 says (base64url parts joined by dots). The tests
//! decrypt with an independent implementation (OpenSSL) rather than with this code.

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rsa::{
    OaepPublicEncryptingKey, PublicEncryptingKey, PublicKeyComponents, OAEP_SHA256_MGF1SHA256,
};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;

use crate::core::secrets::random_bytes;

/// The smallest RSA key accepted (NIST SP 800-57: 2048 bits through 2030).
pub const MIN_KEY_BITS: usize = 2048;

/// The protected header of every code: `{"alg":"RSA-OAEP-256","enc":"A256GCM"}`, with the
/// key's `kid` when the operator's JWK names one.
fn protected_header(kid: Option<&str>) -> String {
    let mut header = serde_json::json!({"alg": "RSA-OAEP-256", "enc": "A256GCM"});
    if let Some(kid) = kid {
        header["kid"] = Value::String(kid.to_string());
    }
    header.to_string()
}

/// A pool's sender key: the RSA public key the codes are encrypted to.
pub struct SenderKey {
    key: OaepPublicEncryptingKey,
    kid: Option<String>,
}

impl std::fmt::Debug for SenderKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SenderKey")
            .field("bits", &self.key.key_size_bits())
            .field("kid", &self.kid)
            .finish()
    }
}

impl SenderKey {
    /// Reads the operator's key: a PEM `PUBLIC KEY` (X.509 SubjectPublicKeyInfo, what
    /// `openssl rsa -pubout` writes) or an RSA JWK (`{"kty":"RSA","n":...,"e":...}`), of
    /// at least 2048 bits. A KMS key id or ARN is refused by name: Cognate has no KMS.
    /// The message is safe to show (a public key is no secret, but it is not repeated).
    pub fn parse(text: &str) -> Result<SenderKey, String> {
        let text = text.trim();
        if text.starts_with("arn:") || is_kms_key_id(text) {
            return Err(
                "Cognate encrypts sender codes without KMS: give the RSA public key \
                 (PEM \"-----BEGIN PUBLIC KEY-----\" or an RSA JWK), not a KMS key id or ARN"
                    .into(),
            );
        }
        let (public, kid) = if text.starts_with('{') {
            jwk_key(text)?
        } else if text.starts_with("-----BEGIN PUBLIC KEY-----") {
            (pem_key(text)?, None)
        } else if text.starts_with("-----BEGIN") {
            return Err(
                "the sender key must be a public key (\"-----BEGIN PUBLIC KEY-----\", \
                 as `openssl rsa -pubout` writes it); never give Cognate the private key"
                    .into(),
            );
        } else {
            return Err("the sender key is neither a PEM public key \
                 (\"-----BEGIN PUBLIC KEY-----\") nor an RSA JWK ({\"kty\":\"RSA\",...})"
                .into());
        };
        if public.key_size_bits() < MIN_KEY_BITS {
            return Err(format!(
                "the sender key has {} bits; use an RSA key of at least {MIN_KEY_BITS} bits",
                public.key_size_bits()
            ));
        }
        let key = OaepPublicEncryptingKey::new(public)
            .map_err(|_| "the sender key cannot encrypt with RSA-OAEP".to_string())?;
        Ok(SenderKey { key, kid })
    }

    /// `plaintext` as a compact JWE (RSA-OAEP-256, A256GCM): five base64url parts,
    /// header.encrypted_key.iv.ciphertext.tag.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<String, String> {
        let header = URL_SAFE_NO_PAD.encode(protected_header(self.kid.as_deref()));
        let cek = random_bytes::<32>();
        let mut wrapped = vec![0u8; self.key.ciphertext_size()];
        let wrapped = self
            .key
            .encrypt(&OAEP_SHA256_MGF1SHA256, &cek, &mut wrapped, None)
            .map_err(|_| "RSA-OAEP encryption failed".to_string())?;
        let iv = random_bytes::<NONCE_LEN>();
        let aead = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &cek).map_err(|_| "bad content key".to_string())?,
        );
        let mut ciphertext = plaintext.to_vec();
        let tag = aead
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(iv),
                Aad::from(header.as_bytes()),
                &mut ciphertext,
            )
            .map_err(|_| "AES-GCM encryption failed".to_string())?;
        Ok([
            header,
            URL_SAFE_NO_PAD.encode(wrapped),
            URL_SAFE_NO_PAD.encode(iv),
            URL_SAFE_NO_PAD.encode(&ciphertext),
            URL_SAFE_NO_PAD.encode(tag.as_ref()),
        ]
        .join("."))
    }
}

/// A bare KMS key id (a UUID) or alias (`alias/...`).
fn is_kms_key_id(text: &str) -> bool {
    text.starts_with("alias/")
        || (text.len() == 36
            && text.chars().all(|c| c.is_ascii_hexdigit() || c == '-')
            && text.matches('-').count() == 4)
}

fn pem_key(text: &str) -> Result<PublicEncryptingKey, String> {
    let body = text
        .strip_prefix("-----BEGIN PUBLIC KEY-----")
        .and_then(|t| t.trim_end().strip_suffix("-----END PUBLIC KEY-----"))
        .ok_or("the PEM public key has no \"-----END PUBLIC KEY-----\" line")?;
    let base64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD
        .decode(base64)
        .map_err(|_| "the PEM public key is not valid base64")?;
    PublicEncryptingKey::from_der(&der)
        .map_err(|e| format!("the PEM public key is not an RSA key ({e})"))
}

fn jwk_key(text: &str) -> Result<(PublicEncryptingKey, Option<String>), String> {
    let jwk: Value =
        serde_json::from_str(text).map_err(|e| format!("the JWK is not JSON ({e})"))?;
    if jwk.get("kty").and_then(Value::as_str) != Some("RSA") {
        return Err("the JWK is not an RSA key (kty must be \"RSA\")".into());
    }
    if jwk.get("d").is_some() {
        return Err("the JWK holds a private key; give Cognate the public key only".into());
    }
    let part = |name: &str| -> Result<Vec<u8>, String> {
        let text = jwk
            .get(name)
            .and_then(Value::as_str)
            .ok_or(format!("the JWK has no {name}"))?;
        URL_SAFE_NO_PAD
            .decode(text.trim_end_matches('='))
            .map_err(|_| format!("the JWK's {name} is not base64url"))
    };
    let components = PublicKeyComponents {
        n: part("n")?,
        e: part("e")?,
    };
    let key: PublicEncryptingKey = components
        .try_into()
        .map_err(|_| "the JWK is not a usable RSA public key".to_string())?;
    let kid = jwk.get("kid").and_then(Value::as_str).map(str::to_string);
    Ok((key, kid))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::{KeySize, OaepPrivateDecryptingKey, PrivateDecryptingKey};

    fn pem_of(private: &PrivateDecryptingKey) -> String {
        let der = private.public_key().as_der().unwrap();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der.as_ref())
        )
    }

    #[test]
    fn the_compact_form_has_five_parts_and_the_header() {
        let private = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        let key = SenderKey::parse(&pem_of(&private)).unwrap();
        let jwe = key.encrypt(b"123456").unwrap();
        let parts: Vec<&str> = jwe.split('.').collect();
        assert_eq!(parts.len(), 5);
        let header: Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RSA-OAEP-256");
        assert_eq!(header["enc"], "A256GCM");
        // The wrapped key opens with the private key (the whole JWE is decrypted by
        // OpenSSL in the integration tests).
        let oaep = OaepPrivateDecryptingKey::new(private).unwrap();
        let wrapped = URL_SAFE_NO_PAD.decode(parts[1]).unwrap();
        let mut out = vec![0u8; oaep.min_output_size()];
        let cek = oaep
            .decrypt(&OAEP_SHA256_MGF1SHA256, &wrapped, &mut out, None)
            .unwrap();
        assert_eq!(cek.len(), 32);
        assert!(!jwe.contains("123456"));
    }

    #[test]
    fn keys_that_are_not_rsa_public_keys_are_refused() {
        for (text, says) in [
            ("arn:aws:kms:us-east-1:123456789012:key/abc", "KMS"),
            ("1234abcd-12ab-34cd-56ef-1234567890ab", "KMS"),
            (
                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
                "private",
            ),
            ("{\"kty\":\"EC\",\"crv\":\"P-256\"}", "RSA"),
            (
                "{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\",\"d\":\"AQAB\"}",
                "private",
            ),
            ("hello", "neither"),
        ] {
            let err = SenderKey::parse(text).unwrap_err();
            assert!(err.contains(says), "{text}: {err}");
        }
        let small = PrivateDecryptingKey::generate(KeySize::Rsa2048).unwrap();
        assert!(SenderKey::parse(&pem_of(&small)).is_ok());
    }
}
