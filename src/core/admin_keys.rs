//! Operator credentials: the access keys that sign calls to the AWS edge (`POST /`) with
//! SigV4 ([`crate::core::sigv4`]), as an IAM user's access keys sign calls to AWS.
//!
//! A key is an access key id and a secret. Both may be chosen by the operator, so
//! infrastructure code and CI keep the keys they already hold, or generated the way AWS
//! generates them (`AKIA` and 16 upper-case letters or digits; a 40-character secret of
//! `A-Za-z0-9+/`).
//!
//! Rules:
//! - access key id: 1 to 128 characters of `A-Za-z0-9` and `_ . @ + = -` (IAM's user-name
//!   characters without `,`, which would break the `Authorization` header's list, and
//!   without `/`, which separates the credential scope);
//! - a chosen secret: 16 to 128 printable ASCII characters, no spaces (SigV4 signs with
//!   the bytes, and they have to survive shells and environment variables);
//! - description: at most 256 characters.
//!
//! The secret is sealed under the master key with the context `admin-key:<access key id>`
//! (SigV4 needs the secret itself to sign again: it cannot be stored as a hash). It is
//! shown once, at creation, and never again: listings carry no secret.
//!
//! Purposes: [`AdminKeyPurpose::Operator`] signs every management call;
//! [`AdminKeyPurpose::Authorize`] only the resource servers' authorization check (so a
//! resource server's key cannot manage identity pools).
//!
//! [`AdminKeys::lookup_secret`] reads the store on every call (no cache), so a deleted key
//! stops working at once on every node.

use std::fmt;
use std::sync::Arc;

use super::secrets::{random_bytes, MasterKey, SecretError, SecretString};
use super::storage::{Conflict, Store, StoreError};
use super::UnixTime;

/// The longest access key id.
pub const MAX_ACCESS_KEY_ID_LEN: usize = 128;
/// The shortest chosen secret.
pub const MIN_SECRET_LEN: usize = 16;
/// The longest chosen secret.
pub const MAX_SECRET_LEN: usize = 128;
/// The longest description.
pub const MAX_DESCRIPTION_LEN: usize = 256;

/// What a key may sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AdminKeyPurpose {
    /// Every signed management call (and the authorization check).
    Operator,
    /// Only the resource servers' authorization check.
    Authorize,
}

impl AdminKeyPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            AdminKeyPurpose::Operator => "operator",
            AdminKeyPurpose::Authorize => "authorize",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "operator" => Some(AdminKeyPurpose::Operator),
            "authorize" => Some(AdminKeyPurpose::Authorize),
            _ => None,
        }
    }
}

/// A stored operator credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminKey {
    pub access_key_id: String,
    /// The secret, sealed with [`admin_key_context`].
    pub secret: super::secrets::EncryptedSecret,
    pub description: String,
    pub purpose: AdminKeyPurpose,
    pub created_at: UnixTime,
}

/// The associated-data context of an operator credential's secret.
pub fn admin_key_context(access_key_id: &str) -> String {
    format!("admin-key:{access_key_id}")
}

/// A key to create: what the operator chose; the rest is generated.
#[derive(Clone)]
pub struct NewAdminKey {
    pub access_key_id: Option<String>,
    pub secret: Option<SecretString>,
    pub description: String,
    pub purpose: AdminKeyPurpose,
}

impl fmt::Debug for NewAdminKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAdminKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret", &super::secrets::redacted(&self.secret))
            .field("description", &self.description)
            .field("purpose", &self.purpose)
            .finish()
    }
}

/// A created key, with its secret (shown once).
#[derive(Debug, Clone)]
pub struct CreatedAdminKey {
    pub access_key_id: String,
    pub secret: SecretString,
    /// Whether the secret was generated (else the operator chose it and knows it).
    pub generated_secret: bool,
    pub purpose: AdminKeyPurpose,
}

/// Why a key operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminKeyError {
    /// A field breaks its rule (`field` is `access_key_id`, `secret` or `description`).
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("access key id {0:?} is already taken")]
    Exists(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the secret of access key {0:?} cannot be opened with this master key")]
    Sealed(String, #[source] SecretError),
}

/// Whether an access key id follows the rules in the module docs.
pub fn valid_access_key_id(id: &str) -> bool {
    (1..=MAX_ACCESS_KEY_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.@+=-".contains(&b))
}

fn check_secret(secret: &str) -> Result<(), AdminKeyError> {
    let invalid = |message: String| AdminKeyError::Invalid {
        field: "secret",
        message,
    };
    if !(MIN_SECRET_LEN..=MAX_SECRET_LEN).contains(&secret.len()) {
        return Err(invalid(format!(
            "a secret has {MIN_SECRET_LEN} to {MAX_SECRET_LEN} characters (this one has {})",
            secret.chars().count()
        )));
    }
    if !secret.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(invalid(
            "a secret is printable ASCII without spaces".to_string(),
        ));
    }
    Ok(())
}

/// `n` characters drawn uniformly from `alphabet` (at most 256 characters) by the CSPRNG.
fn random_from(alphabet: &[u8], n: usize) -> String {
    // Rejection sampling: bytes past the largest multiple of the alphabet's size are
    // dropped, so every character is equally likely.
    let limit = 256 - 256 % alphabet.len();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes::<64>() {
            if (b as usize) < limit && out.len() < n {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// A generated access key id: `AKIA` and 16 upper-case letters or digits, as AWS's.
pub fn generate_access_key_id() -> String {
    format!(
        "AKIA{}",
        random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16)
    )
}

/// A generated secret: 40 characters of `A-Za-z0-9+/`, as AWS's (240 bits).
pub fn generate_secret() -> SecretString {
    SecretString::new(random_from(
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        40,
    ))
}

/// The operator credential service.
#[derive(Clone)]
pub struct AdminKeys {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
}

impl AdminKeys {
    pub fn new(store: Arc<dyn Store>, master: Arc<MasterKey>) -> Self {
        AdminKeys { store, master }
    }

    /// Creates a key from what the operator chose, generating the rest. A chosen id
    /// that is taken is refused ([`AdminKeyError::Exists`]); a generated one is drawn
    /// again.
    pub async fn create(
        &self,
        new: NewAdminKey,
        now: UnixTime,
    ) -> Result<CreatedAdminKey, AdminKeyError> {
        if let Some(id) = &new.access_key_id {
            if !valid_access_key_id(id) {
                return Err(AdminKeyError::Invalid {
                    field: "access_key_id",
                    message: format!(
                        "{id:?} is not an access key id: 1 to {MAX_ACCESS_KEY_ID_LEN} characters of A-Z a-z 0-9 _ . @ + = -"
                    ),
                });
            }
        }
        if let Some(secret) = &new.secret {
            check_secret(secret.expose())?;
        }
        if new.description.chars().count() > MAX_DESCRIPTION_LEN {
            return Err(AdminKeyError::Invalid {
                field: "description",
                message: format!("a description has at most {MAX_DESCRIPTION_LEN} characters"),
            });
        }
        let generated_secret = new.secret.is_none();
        let secret = new.secret.unwrap_or_else(generate_secret);
        // 36^16 ids: a collision of generated ids is all but impossible; a few draws
        // make it impossible in practice.
        for _ in 0..5 {
            let id = new
                .access_key_id
                .clone()
                .unwrap_or_else(generate_access_key_id);
            let key = AdminKey {
                secret: self
                    .master
                    .seal(&admin_key_context(&id), secret.expose().as_bytes()),
                access_key_id: id.clone(),
                description: new.description.clone(),
                purpose: new.purpose,
                created_at: now,
            };
            match self.store.insert_admin_key(&key).await {
                Ok(()) => {
                    return Ok(CreatedAdminKey {
                        access_key_id: id,
                        secret,
                        generated_secret,
                        purpose: new.purpose,
                    })
                }
                Err(StoreError::Conflict(Conflict::Exists)) if new.access_key_id.is_none() => {
                    continue
                }
                Err(StoreError::Conflict(Conflict::Exists)) => {
                    return Err(AdminKeyError::Exists(id))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(AdminKeyError::Exists("(generated)".into()))
    }

    /// Every key (sealed secrets only), ordered by access key id.
    pub async fn list(&self) -> Result<Vec<AdminKey>, AdminKeyError> {
        Ok(self.store.list_admin_keys().await?)
    }

    /// Deletes a key; whether it existed. Takes effect at the next request on every
    /// node (nothing caches keys).
    pub async fn delete(&self, access_key_id: &str) -> Result<bool, AdminKeyError> {
        Ok(self.store.delete_admin_key(access_key_id).await?)
    }

    /// The secret and purpose of a key, for the SigV4 verifier; `None` for an unknown id.
    pub async fn lookup_secret(
        &self,
        access_key_id: &str,
    ) -> Result<Option<(SecretString, AdminKeyPurpose)>, AdminKeyError> {
        if !valid_access_key_id(access_key_id) {
            return Ok(None);
        }
        let Some(key) = self.store.get_admin_key(access_key_id).await? else {
            return Ok(None);
        };
        let secret = self
            .master
            .open_string(&admin_key_context(access_key_id), &key.secret)
            .map_err(|e| AdminKeyError::Sealed(access_key_id.to_string(), e))?;
        Ok(Some((secret, key.purpose)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    async fn service() -> (AdminKeys, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("c.db")).await.unwrap();
        let (master, _) = MasterKey::generate();
        (AdminKeys::new(Arc::new(store), Arc::new(master)), dir)
    }

    fn new(id: Option<&str>, secret: Option<&str>) -> NewAdminKey {
        NewAdminKey {
            access_key_id: id.map(str::to_string),
            secret: secret.map(SecretString::new),
            description: "ci".into(),
            purpose: AdminKeyPurpose::Operator,
        }
    }

    #[test]
    fn generated_ids_and_secrets_look_like_aws() {
        let id = generate_access_key_id();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("AKIA"));
        assert!(id[4..]
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
        assert!(valid_access_key_id(&id));
        let secret = generate_secret();
        assert_eq!(secret.expose().len(), 40);
        assert!(check_secret(secret.expose()).is_ok());
        assert_ne!(generate_access_key_id(), id);
        assert_ne!(generate_secret(), secret);
    }

    #[test]
    fn access_key_id_rules() {
        for ok in [
            "A",
            "AKIAIOSFODNN7EXAMPLE",
            "ci_deploy.bot@example+1=-",
            &"x".repeat(128),
        ] {
            assert!(valid_access_key_id(ok), "{ok}");
        }
        for bad in ["", "a,b", "a/b", "a b", "é", &"x".repeat(129)] {
            assert!(!valid_access_key_id(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn create_lookup_delete() {
        let (keys, _dir) = service().await;
        let made = keys.create(new(None, None), 100).await.unwrap();
        assert!(made.generated_secret);
        let (secret, purpose) = keys
            .lookup_secret(&made.access_key_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(secret, made.secret);
        assert_eq!(purpose, AdminKeyPurpose::Operator);

        // A chosen id and secret, as CI already holds them.
        let chosen = keys
            .create(new(Some("ci-deploy"), Some("0123456789abcdef")), 100)
            .await
            .unwrap();
        assert!(!chosen.generated_secret);
        assert_eq!(chosen.secret.expose(), "0123456789abcdef");
        let again = keys
            .create(new(Some("ci-deploy"), Some("another-secret-00")), 101)
            .await;
        assert!(matches!(again, Err(AdminKeyError::Exists(id)) if id == "ci-deploy"));
        // The first one stands.
        let (secret, _) = keys.lookup_secret("ci-deploy").await.unwrap().unwrap();
        assert_eq!(secret.expose(), "0123456789abcdef");

        let listed: Vec<String> = keys
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.access_key_id)
            .collect();
        assert_eq!(listed.len(), 2);
        assert!(listed.contains(&"ci-deploy".to_string()));

        assert!(keys.delete("ci-deploy").await.unwrap());
        assert!(!keys.delete("ci-deploy").await.unwrap());
        assert!(keys.lookup_secret("ci-deploy").await.unwrap().is_none());
        assert!(keys.lookup_secret("no,such").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn bad_input_is_refused() {
        let (keys, _dir) = service().await;
        let short = keys.create(new(Some("k1"), Some("short")), 1).await;
        assert!(matches!(
            short,
            Err(AdminKeyError::Invalid {
                field: "secret",
                ..
            })
        ));
        let spaced = keys
            .create(new(Some("k1"), Some("has a space in it!")), 1)
            .await;
        assert!(matches!(
            spaced,
            Err(AdminKeyError::Invalid {
                field: "secret",
                ..
            })
        ));
        let bad_id = keys.create(new(Some("a/b"), None), 1).await;
        assert!(matches!(
            bad_id,
            Err(AdminKeyError::Invalid {
                field: "access_key_id",
                ..
            })
        ));
        let mut long = new(Some("k1"), None);
        long.description = "d".repeat(257);
        assert!(matches!(
            keys.create(long, 1).await,
            Err(AdminKeyError::Invalid {
                field: "description",
                ..
            })
        ));
        assert!(keys.list().await.unwrap().is_empty());
        // The corrected call succeeds.
        assert!(keys
            .create(new(Some("k1"), Some("long-enough-secret")), 1)
            .await
            .is_ok());
    }

    #[test]
    fn debug_prints_no_secret() {
        let n = new(Some("k"), Some("super-secret-value-1"));
        assert!(!format!("{n:?}").contains("super-secret-value-1"));
        let c = CreatedAdminKey {
            access_key_id: "k".into(),
            secret: SecretString::new("super-secret-value-1"),
            generated_secret: true,
            purpose: AdminKeyPurpose::Operator,
        };
        assert!(!format!("{c:?}").contains("super-secret-value-1"));
    }
}
