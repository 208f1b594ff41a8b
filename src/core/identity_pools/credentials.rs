//! Vended AWS credentials: the temporary `AccessKeyId`, `SecretKey` and `SessionToken`
//! that GetCredentialsForIdentity and STS's AssumeRoleWithWebIdentity answer with.
//!
//! They are stateless, so any node verifies any credential without a store read: the
//! session token is the [`SessionGrant`] (who, which pool, which role, until when) and the
//! secret access key, sealed under the master key (AES-256-GCM, [`MasterKey::seal`]) with
//! the context `aws-session:<access key id>`. The context binds a token to its access key
//! id: a token presented with another key id does not open, and neither does a tampered
//! one. Whether the user is still enabled and what the role's policy allows are not in the
//! token: the authorization check reads them at each call (issue 12, item 5).
//!
//! Shapes follow AWS: an access key id of temporary credentials is `ASIA` and 16
//! characters of `[A-Z2-7]` (80 random bits, RFC 4648 base32 alphabet), a secret access
//! key is 40 characters (30 random bytes, standard base64).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::core::secrets::{random_bytes, EncryptedSecret, MasterKey, SecretString};
use crate::core::UnixTime;

/// How long vended credentials live unless the caller asks otherwise (Cognito's one hour).
pub const DEFAULT_CREDENTIALS_SECS: i64 = 3_600;

/// The prefix of temporary access key ids (AWS's, for STS session credentials).
pub const ACCESS_KEY_PREFIX: &str = "ASIA";

/// The longest session token [`open`] looks at; anything longer is refused unread (a
/// grant seals to well under 2 KiB).
pub const MAX_SESSION_TOKEN_LEN: usize = 8_192;

/// The user-pool user behind an authenticated identity, so the authorization check can
/// refuse a disabled user's credentials at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub pool_id: String,
    pub sub: String,
}

/// What a set of credentials stands for: sealed into the session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionGrant {
    pub identity_id: String,
    pub identity_pool_id: String,
    pub role_arn: String,
    /// The user-pool user, for identities signed in through a Cognate user pool.
    pub user: Option<SessionUser>,
    /// `false` for guest (unauthenticated) identities.
    pub authenticated: bool,
    pub issued_at: UnixTime,
    pub expires_at: UnixTime,
}

/// Credentials as GetCredentialsForIdentity returns them.
#[derive(Clone)]
pub struct VendedCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: String,
    pub expiration: UnixTime,
}

impl std::fmt::Debug for VendedCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The session token is no secret by itself (sealed), but it is a bearer of one.
        f.debug_struct("VendedCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &crate::core::secrets::REDACTED)
            .field("session_token", &crate::core::secrets::REDACTED)
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// Why a presented credential is refused. The edge answers every variant alike (AWS says
/// only that the security token is invalid or expired).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CredentialError {
    /// Not a session token or access key id of ours (shape, length, encoding).
    #[error("malformed credentials")]
    Malformed,
    /// Does not open under the master key for this access key id: forged, tampered, or
    /// presented with another access key id.
    #[error("the session token is invalid")]
    Invalid,
    #[error("the credentials have expired")]
    Expired,
}

/// What the session token seals: the grant and the secret access key.
#[derive(Serialize, Deserialize)]
struct Sealed {
    grant: SessionGrant,
    secret: SecretString,
}

/// The sealing context binding a session token to its access key id.
fn session_context(access_key_id: &str) -> String {
    format!("aws-session:{access_key_id}")
}

/// Mints credentials for `grant` (expiring at `grant.expires_at`).
pub fn vend(master: &MasterKey, grant: &SessionGrant) -> VendedCredentials {
    let access_key_id = format!("{ACCESS_KEY_PREFIX}{}", base32(&random_bytes::<10>()));
    let secret = SecretString::new(STANDARD.encode(random_bytes::<30>()));
    let sealed = Sealed {
        grant: grant.clone(),
        secret: secret.clone(),
    };
    // Serialising plain strings and integers cannot fail.
    let plain = serde_json::to_vec(&sealed).unwrap_or_default();
    let token = master.seal(&session_context(&access_key_id), &plain);
    VendedCredentials {
        session_token: token.as_stored().to_string(),
        access_key_id,
        secret_access_key: secret,
        expiration: grant.expires_at,
    }
}

/// Opens the session token presented with `access_key_id`: the grant and the secret access
/// key to check the request's signature with. Refuses a token sealed for another access
/// key id, a tampered or foreign one, and expired credentials (at `expires_at`).
pub fn open(
    master: &MasterKey,
    access_key_id: &str,
    session_token: &str,
    now: UnixTime,
) -> Result<(SessionGrant, SecretString), CredentialError> {
    if !is_temporary_access_key_id(access_key_id) || session_token.len() > MAX_SESSION_TOKEN_LEN {
        return Err(CredentialError::Malformed);
    }
    let sealed = EncryptedSecret::from_stored(session_token.to_string());
    let plain = master
        .open(&session_context(access_key_id), &sealed)
        .map_err(|_| CredentialError::Invalid)?;
    // It opened, so we sealed it: a body that does not parse is a format we no longer read.
    let Sealed { grant, secret } =
        serde_json::from_slice(&plain).map_err(|_| CredentialError::Invalid)?;
    if now >= grant.expires_at {
        return Err(CredentialError::Expired);
    }
    Ok((grant, secret))
}

/// Whether `id` has the shape of a vended access key id (`ASIA` + 16 of `[A-Z2-7]`).
pub fn is_temporary_access_key_id(id: &str) -> bool {
    id.len() == ACCESS_KEY_PREFIX.len() + 16
        && id.starts_with(ACCESS_KEY_PREFIX)
        && id[ACCESS_KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
}

/// RFC 4648 base32 (no padding) of 10 bytes: 16 characters of `[A-Z2-7]`.
fn base32(bytes: &[u8; 10]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bits: u128 = 0;
    for b in bytes {
        bits = (bits << 8) | u128::from(*b);
    }
    (0..16)
        .rev()
        .map(|i| char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(expires_at: UnixTime) -> SessionGrant {
        SessionGrant {
            identity_id: "us-east-1:6b9c8f5e-0000-4000-8000-000000000001".into(),
            identity_pool_id: "us-east-1:2a4f1c3e-0000-4000-8000-000000000002".into(),
            role_arn: "arn:aws:iam::000000000000:role/Authenticated".into(),
            user: Some(SessionUser {
                pool_id: "us-east-1_Pool1".into(),
                sub: "a1b2".into(),
            }),
            authenticated: true,
            issued_at: 1_000,
            expires_at,
        }
    }

    #[test]
    fn vended_credentials_open_on_any_node_with_the_master_key() {
        let (master, text) = MasterKey::generate();
        let g = grant(1_000 + DEFAULT_CREDENTIALS_SECS);
        let creds = vend(&master, &g);
        assert!(is_temporary_access_key_id(&creds.access_key_id));
        assert_eq!(creds.secret_access_key.expose().len(), 40);
        assert_eq!(creds.expiration, g.expires_at);
        // Another node: the same master key, nothing else shared.
        let other_node = MasterKey::from_base64(&text).unwrap();
        let (opened, secret) = open(
            &other_node,
            &creds.access_key_id,
            &creds.session_token,
            1_001,
        )
        .unwrap();
        assert_eq!(opened, g);
        assert_eq!(secret, creds.secret_access_key);
        // Two vends never share an access key id or a secret.
        let again = vend(&master, &g);
        assert_ne!(again.access_key_id, creds.access_key_id);
        assert_ne!(again.secret_access_key, creds.secret_access_key);
    }

    #[test]
    fn a_token_does_not_open_under_another_access_key_id() {
        let (master, _) = MasterKey::generate();
        let g = grant(5_000);
        let mine = vend(&master, &g);
        let theirs = vend(&master, &g);
        assert_eq!(
            open(&master, &theirs.access_key_id, &mine.session_token, 1_001),
            Err(CredentialError::Invalid)
        );
        assert!(open(&master, &mine.access_key_id, &mine.session_token, 1_001).is_ok());
        // Another deployment's master key opens nothing of ours.
        let (foreign, _) = MasterKey::generate();
        assert_eq!(
            open(&foreign, &mine.access_key_id, &mine.session_token, 1_001),
            Err(CredentialError::Invalid)
        );
    }

    #[test]
    fn tampered_and_malformed_tokens_are_refused() {
        let (master, _) = MasterKey::generate();
        let creds = vend(&master, &grant(5_000));
        let akid = &creds.access_key_id;
        // Flip one character in the middle of the ciphertext.
        let mut bytes = creds.session_token.clone().into_bytes();
        let mid = bytes.len() / 2;
        bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert_eq!(
            open(&master, akid, &tampered, 1_001),
            Err(CredentialError::Invalid)
        );
        let truncated = &creds.session_token[..creds.session_token.len() - 4];
        assert!(open(&master, akid, truncated, 1_001).is_err());
        assert_eq!(
            open(&master, akid, "", 1_001),
            Err(CredentialError::Invalid)
        );
        let huge = "v1:".to_string() + &"A".repeat(MAX_SESSION_TOKEN_LEN);
        assert_eq!(
            open(&master, akid, &huge, 1_001),
            Err(CredentialError::Malformed)
        );
        // A long-term-looking or malformed key id is not ours.
        for bad in ["AKIAABCDEFGHIJKLMNOP", "ASIAabcdefghijklmnop", "ASIA1", ""] {
            assert_eq!(
                open(&master, bad, &creds.session_token, 1_001),
                Err(CredentialError::Malformed),
                "{bad}"
            );
        }
        assert!(open(&master, akid, &creds.session_token, 1_001).is_ok());
    }

    #[test]
    fn credentials_expire_at_their_expiration() {
        let (master, _) = MasterKey::generate();
        let creds = vend(&master, &grant(5_000));
        let akid = &creds.access_key_id;
        assert!(open(&master, akid, &creds.session_token, 4_999).is_ok());
        assert_eq!(
            open(&master, akid, &creds.session_token, 5_000),
            Err(CredentialError::Expired)
        );
        assert_eq!(
            open(&master, akid, &creds.session_token, 9_000),
            Err(CredentialError::Expired)
        );
    }

    #[test]
    fn debug_prints_no_secret() {
        let (master, _) = MasterKey::generate();
        let creds = vend(&master, &grant(5_000));
        let shown = format!("{creds:?}");
        assert!(!shown.contains(creds.secret_access_key.expose()), "{shown}");
        assert!(!shown.contains(&creds.session_token), "{shown}");
        assert!(shown.contains(&creds.access_key_id), "{shown}");
        let (_, secret) = open(&master, &creds.access_key_id, &creds.session_token, 1).unwrap();
        assert!(!format!("{secret:?}").contains(secret.expose()));
    }

    #[test]
    fn base32_covers_the_alphabet_in_order() {
        assert_eq!(base32(&[0; 10]), "AAAAAAAAAAAAAAAA");
        assert_eq!(base32(&[0xff; 10]), "7777777777777777");
        // RFC 4648 section 10: BASE32("fooba") = "MZXW6YTB".
        assert_eq!(&base32(b"foobafooba")[..8], "MZXW6YTB");
    }
}
