//! Signing keys: RS256 2048-bit keys per pool, one for ID tokens and one for access tokens
//! (Cognito signs them with different keys), the JWT signer, and the JWKS.
//!
//! Private keys are stored sealed under the master key. A node parses them once and keeps
//! the parsed aws-lc-rs key pair in memory: `jsonwebtoken::encode` re-parses the key on
//! every call (about 1,100 signs/s here against 3,900/s with a parsed key), so signing goes
//! straight to aws-lc-rs and the JWS compact form is assembled here (RFC 7515 section 7.1).
//!
//! Keys are cached per pool for [`KEY_CACHE_TTL`], so a rotation made by another node or by
//! the CLI is picked up within that time; concurrent misses share one load.
//!
//! A token whose `kid` the cached keys lack may be signed by a key rotated in elsewhere
//! since, so verifying it reloads the pool's keys ([`KeyService::verification_key`]), but
//! at most once per pool per [`UNKNOWN_KID_RELOAD_SECS`] on this node: the `kid` comes from
//! a token nobody has authenticated yet, and a load reads the store and opens every active
//! private key. Within that time an unknown `kid` is refused without reloading. The guard
//! is per node on purpose: it only bounds work and holds nothing a node needs (the keys
//! themselves always come from the store).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::Serialize;
use serde_json::json;

use super::ids::new_kid;
use super::model::{KeyPurpose, SigningKey};
use super::secrets::{signing_key_context, MasterKey, SecretError};
use super::storage::{Store, StoreError};
use super::UnixTime;

/// How long a node trusts its cached copy of a pool's keys.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// The shortest time between two reloads of one pool's keys asked for by tokens with a
/// `kid` the cached keys lack (a key rotated in elsewhere is accepted at most this long
/// after the previous such reload).
pub const UNKNOWN_KID_RELOAD_SECS: i64 = 5;

/// The longest a token can live (Cognito's cap for ID and access tokens): a retired key
/// stays in the JWKS at least this long unless every client of the pool issues shorter
/// tokens.
pub const MAX_TOKEN_LIFETIME_SECS: i64 = 86_400;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("signing key {kid} could not be parsed: {reason}")]
    BadKey { kid: String, reason: String },
    #[error("pool {0} has no active {1} signing key")]
    NoActiveKey(String, &'static str),
    #[error("key generation failed")]
    Generation,
    #[error("making the key's certificate failed: {0}")]
    Certificate(String),
    #[error("RSA signing failed")]
    Signing,
    #[error("token serialization failed: {0}")]
    Serialize(String),
    /// A load of the pool's keys that this caller waited on (another's) failed.
    #[error("loading the pool's keys failed: {0}")]
    Load(Arc<KeyError>),
}

/// Generates a new RSA-2048 key for `purpose`, sealing its private part under the master
/// key. CPU-heavy (0.1 to 0.4 s): call it from a blocking task.
pub fn generate_key(
    master: &MasterKey,
    pool_id: &str,
    purpose: KeyPurpose,
    now: UnixTime,
) -> Result<SigningKey, KeyError> {
    let RsaParts { pkcs8, n, e } = generate_rsa()?;
    let kid = new_kid();
    Ok(SigningKey {
        pool_id: pool_id.to_string(),
        private_pkcs8: master.seal(&signing_key_context(pool_id, &kid), &pkcs8),
        kid,
        purpose,
        n,
        e,
        created_at: now,
        retired_at: None,
    })
}

/// A fresh RSA-2048 key pair: the private key as PKCS#8 DER (to be sealed by the caller
/// under its own context) and the public modulus and exponent as a JWK carries them
/// (base64url, RFC 7518 section 6.3.1). CPU-heavy: call it from a blocking task.
pub(crate) struct RsaParts {
    pub pkcs8: Vec<u8>,
    pub n: String,
    pub e: String,
}

pub(crate) fn generate_rsa() -> Result<RsaParts, KeyError> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
    let pkcs8 = pair.as_der().map_err(|_| KeyError::Generation)?;
    let public = pair.public_key();
    Ok(RsaParts {
        pkcs8: pkcs8.as_ref().to_vec(),
        n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    })
}

/// A parsed private key ready to sign.
pub struct Signer {
    kid: String,
    pair: RsaKeyPair,
    /// `base64url({"alg":"RS256","kid":..,"typ":"JWT"})`, computed once.
    header_b64: String,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("kid", &self.kid).finish()
    }
}

impl Signer {
    fn from_record(master: &MasterKey, key: &SigningKey) -> Result<Self, KeyError> {
        let der = master.open(
            &signing_key_context(&key.pool_id, &key.kid),
            &key.private_pkcs8,
        )?;
        Self::from_pkcs8(&key.kid, &der)
    }

    /// A signer from an opened PKCS#8 private key (for keys kept outside `signing_keys`,
    /// such as the identity service's, [`super::identity_pools::openid`]).
    pub(crate) fn from_pkcs8(kid: &str, der: &[u8]) -> Result<Self, KeyError> {
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|e| KeyError::BadKey {
            kid: kid.to_string(),
            reason: e.to_string(),
        })?;
        let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
        Ok(Signer {
            kid: kid.to_string(),
            pair,
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs `claims` as an RS256 JWS in compact serialization.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String, KeyError> {
        let payload = serde_json::to_vec(claims).map_err(|e| KeyError::Serialize(e.to_string()))?;
        let mut out = String::with_capacity(self.header_b64.len() + payload.len() * 4 / 3 + 350);
        out.push_str(&self.header_b64);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&payload, &mut out);
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, out.as_bytes(), &mut sig)
            .map_err(|_| KeyError::Serialize("RSA signing failed".into()))?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&sig, &mut out);
        Ok(out)
    }
}

/// One published public key, as it appears in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Jwk {
    pub kty: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

/// A pool's keys as one node holds them: the active signer per purpose and every public
/// key that must still be published.
#[derive(Debug)]
pub struct PoolKeys {
    signers: HashMap<KeyPurpose, Arc<Signer>>,
    pub published: Vec<Jwk>,
}

impl PoolKeys {
    pub fn signer(&self, purpose: KeyPurpose) -> Option<&Arc<Signer>> {
        self.signers.get(&purpose)
    }

    /// The JWKS document (RFC 7517 section 5).
    pub fn jwks(&self) -> serde_json::Value {
        json!({ "keys": self.published })
    }

    /// The published key with this `kid`, for verifying Cognate's own tokens.
    pub fn public_key(&self, kid: &str) -> Option<&Jwk> {
        self.published.iter().find(|k| k.kid == kid)
    }
}

/// Loads, caches, creates and rotates pool keys.
#[derive(Clone)]
pub struct KeyService {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    cache: moka::future::Cache<String, Arc<PoolKeys>>,
    /// When each pool's keys were last reloaded for an unknown `kid` (only pools reloaded
    /// within the last [`UNKNOWN_KID_RELOAD_SECS`] are kept).
    unknown_kid_reloads: Arc<Mutex<HashMap<String, UnixTime>>>,
    /// How many times this node loaded a pool's keys from the store.
    loads: Arc<AtomicU64>,
}

impl KeyService {
    pub fn new(store: Arc<dyn Store>, master: Arc<MasterKey>) -> Self {
        KeyService {
            store,
            master,
            cache: moka::future::Cache::builder()
                .time_to_live(KEY_CACHE_TTL)
                .max_capacity(10_000)
                .build(),
            unknown_kid_reloads: Arc::new(Mutex::new(HashMap::new())),
            loads: Arc::new(AtomicU64::new(0)),
        }
    }

    /// How many times this node has loaded a pool's keys from the store (reading them and
    /// opening the private keys), since it started: what the cache and the unknown-`kid`
    /// guard keep low.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// The published key `kid` of a pool, to verify one of Cognate's own tokens. A `kid`
    /// the cached keys lack reloads them (it may have been rotated in by another node or
    /// the CLI), unless this pool was reloaded so within the last
    /// [`UNKNOWN_KID_RELOAD_SECS`] or has no keys at all: then it is refused as unknown
    /// (`None`) without touching the store.
    pub async fn verification_key(
        &self,
        pool_id: &str,
        kid: &str,
        now: UnixTime,
    ) -> Result<Option<Jwk>, KeyError> {
        let keys = self.pool_keys(pool_id, now).await?;
        if let Some(jwk) = keys.public_key(kid) {
            return Ok(Some(jwk.clone()));
        }
        // A pool without keys (one that does not exist) has nothing to rotate in.
        if keys.published.is_empty() || !self.may_reload_for_unknown_kid(pool_id, now) {
            return Ok(None);
        }
        // Replaced rather than invalidated, so that other requests keep the cached keys
        // meanwhile instead of loading them again.
        let fresh = Arc::new(self.load(pool_id, now).await?);
        self.cache.insert(pool_id.to_string(), fresh.clone()).await;
        Ok(fresh.public_key(kid).cloned())
    }

    /// Whether an unknown `kid` may reload this pool's keys now; if so, the reload is
    /// recorded, so that of concurrent callers exactly one gets `true`.
    fn may_reload_for_unknown_kid(&self, pool_id: &str, now: UnixTime) -> bool {
        // A poisoned lock only means another request panicked while holding it; the map
        // (times of recent reloads) is still coherent.
        let mut reloads = self
            .unknown_kid_reloads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if reloads
            .get(pool_id)
            .is_some_and(|last| now < last + UNKNOWN_KID_RELOAD_SECS)
        {
            return false;
        }
        reloads.retain(|_, last| now < *last + UNKNOWN_KID_RELOAD_SECS);
        reloads.insert(pool_id.to_string(), now);
        true
    }

    /// Makes sure the pool has an active key for each purpose. Safe when several nodes do it
    /// at once: each may generate a key, but the store keeps one active key per purpose and
    /// every node ends up with that one.
    pub async fn ensure_pool_keys(&self, pool_id: &str, now: UnixTime) -> Result<(), KeyError> {
        let existing = self.store.list_keys(pool_id).await?;
        for purpose in KeyPurpose::ALL {
            if existing
                .iter()
                .any(|k| k.purpose == purpose && k.retired_at.is_none())
            {
                continue;
            }
            let key = self.generate(pool_id, purpose, now).await?;
            self.store.insert_key_if_none_active(&key).await?;
        }
        self.cache.invalidate(pool_id).await;
        Ok(())
    }

    /// Adds a new active key for each purpose; the old ones stay published until every
    /// token they signed has expired. Returns the new kids.
    pub async fn rotate(&self, pool_id: &str, now: UnixTime) -> Result<Vec<String>, KeyError> {
        let mut kids = Vec::new();
        for purpose in KeyPurpose::ALL {
            let key = self.generate(pool_id, purpose, now).await?;
            self.store.rotate_key(&key, now).await?;
            kids.push(key.kid);
        }
        self.cache.invalidate(pool_id).await;
        Ok(kids)
    }

    async fn generate(
        &self,
        pool_id: &str,
        purpose: KeyPurpose,
        now: UnixTime,
    ) -> Result<SigningKey, KeyError> {
        let master = self.master.clone();
        let pool_id = pool_id.to_string();
        tokio::task::spawn_blocking(move || generate_key(&master, &pool_id, purpose, now))
            .await
            .map_err(|_| KeyError::Generation)?
    }

    /// The pool's keys, from the cache or the store (concurrent misses share one load).
    pub async fn pool_keys(&self, pool_id: &str, now: UnixTime) -> Result<Arc<PoolKeys>, KeyError> {
        self.cache
            .try_get_with_by_ref(pool_id, async {
                self.load(pool_id, now).await.map(Arc::new)
            })
            .await
            .map_err(|shared| Arc::try_unwrap(shared).unwrap_or_else(KeyError::Load))
    }

    async fn load(&self, pool_id: &str, now: UnixTime) -> Result<PoolKeys, KeyError> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        let records = self.store.list_keys(pool_id).await?;
        let mut signers = HashMap::new();
        for key in records.iter().filter(|k| k.retired_at.is_none()) {
            if let std::collections::hash_map::Entry::Vacant(slot) = signers.entry(key.purpose) {
                slot.insert(Arc::new(Signer::from_record(&self.master, key)?));
            }
        }
        let published = self.published(pool_id, &records, now).await?;
        Ok(PoolKeys { signers, published })
    }

    /// The public keys to publish: active keys, and retired keys whose tokens may still
    /// be alive. A retired key signed tokens until `retired_at`; they expire at most
    /// [`Self::retention_secs`] later.
    async fn published(
        &self,
        pool_id: &str,
        records: &[SigningKey],
        now: UnixTime,
    ) -> Result<Vec<Jwk>, KeyError> {
        let keep_for = self.retention_secs(pool_id).await?;
        Ok(records
            .iter()
            .filter(|k| k.retired_at.is_none_or(|retired| retired + keep_for > now))
            .map(|k| Jwk {
                kty: "RSA",
                alg: "RS256",
                use_: "sig",
                kid: k.kid.clone(),
                n: k.n.clone(),
                e: k.e.clone(),
            })
            .collect())
    }

    /// The JWKS document, read from the store on every call (no private key is parsed),
    /// so a rotation made anywhere is published at once, before any node signs with the
    /// new key for longer than the cache time.
    pub async fn jwks(&self, pool_id: &str, now: UnixTime) -> Result<serde_json::Value, KeyError> {
        let records = self.store.list_keys(pool_id).await?;
        Ok(json!({ "keys": self.published(pool_id, &records, now).await? }))
    }

    /// How long a retired key must stay published: the longest ID/access token lifetime
    /// among the pool's clients (Cognito's one-day cap when the pool has no clients yet).
    async fn retention_secs(&self, pool_id: &str) -> Result<i64, KeyError> {
        let clients = self.store.list_clients(pool_id).await?;
        Ok(clients
            .iter()
            .map(|c| {
                c.token_validity
                    .id_token_secs
                    .max(c.token_validity.access_token_secs)
            })
            .max()
            .unwrap_or(MAX_TOKEN_LIFETIME_SECS)
            .min(MAX_TOKEN_LIFETIME_SECS))
    }

    /// The active signer for a purpose.
    pub async fn signer(
        &self,
        pool_id: &str,
        purpose: KeyPurpose,
        now: UnixTime,
    ) -> Result<Arc<Signer>, KeyError> {
        self.pool_keys(pool_id, now)
            .await?
            .signer(purpose)
            .cloned()
            .ok_or_else(|| KeyError::NoActiveKey(pool_id.to_string(), purpose.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn unknown_kids_reload_a_pool_at_most_once_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::sqlite::SqliteStore::open(&dir.path().join("k.db"))
            .await
            .unwrap();
        let (master, _) = MasterKey::generate();
        let keys = KeyService::new(Arc::new(store), Arc::new(master));
        let t = 1_000;
        assert!(keys.may_reload_for_unknown_kid("p1", t));
        assert!(!keys.may_reload_for_unknown_kid("p1", t));
        assert!(!keys.may_reload_for_unknown_kid("p1", t + UNKNOWN_KID_RELOAD_SECS - 1));
        // Per pool.
        assert!(keys.may_reload_for_unknown_kid("p2", t + 1));
        assert!(keys.may_reload_for_unknown_kid("p1", t + UNKNOWN_KID_RELOAD_SECS));
        // Only recent reloads are remembered.
        assert!(keys.may_reload_for_unknown_kid("p3", t + 100));
        assert_eq!(keys.unknown_kid_reloads.lock().unwrap().len(), 1);

        // A pool without keys (none such) is loaded once, then refuses every kid from the
        // cache, never reloading.
        for _ in 0..3 {
            let found = keys.verification_key("p4", "kid", t).await.unwrap();
            assert!(found.is_none());
        }
        assert_eq!(keys.loads(), 1);
        assert!(!keys.unknown_kid_reloads.lock().unwrap().contains_key("p4"));
    }

    #[test]
    fn generated_key_signs_a_verifiable_jwt() {
        let (master, _) = MasterKey::generate();
        let key = generate_key(&master, "us-east-1_x", KeyPurpose::IdToken, 0).unwrap();
        let signer = Signer::from_record(&master, &key).unwrap();
        let token = signer
            .sign(&json!({"sub": "abc", "exp": 4_000_000_000i64}))
            .unwrap();
        let decoding = jsonwebtoken::DecodingKey::from_rsa_components(&key.n, &key.e).unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.required_spec_claims.clear();
        validation.validate_aud = false;
        let data =
            jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
        assert_eq!(data.claims["sub"], "abc");
        assert_eq!(data.header.kid.as_deref(), Some(key.kid.as_str()));
        // A key sealed for one pool cannot be opened as another pool's key.
        let mut moved = key.clone();
        moved.pool_id = "us-east-1_y".into();
        assert!(Signer::from_record(&master, &moved).is_err());
    }
}
