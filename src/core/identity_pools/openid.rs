//! The identity service's OpenID tokens: what GetOpenIdToken and
//! GetOpenIdTokenForDeveloperIdentity answer with, and what STS's
//! AssumeRoleWithWebIdentity (Cognate's, or AWS's through an IAM OIDC provider) accepts.
//!
//! One issuer per deployment, as Cognito has `https://cognito-identity.amazonaws.com`:
//! `<public URL>/identity` ([`identity_issuer`]), with OpenID Connect discovery at
//! `<issuer>/.well-known/openid-configuration` and the JWKS at
//! `<issuer>/.well-known/jwks.json` (`web::discovery`). AWS IAM's OIDC identity provider
//! needs exactly these two documents and an `aud` it is told to trust (the identity pool
//! id); trust conditions then test `<issuer host>/identity:aud`, not
//! `cognito-identity.amazonaws.com:aud`.
//!
//! The token is an RS256 JWT (RFC 7519) whose claims mirror Cognito's:
//! - `iss`: the issuer above; `sub`: the identity id; `aud`: the identity pool id (one
//!   string, as Cognito sends it);
//! - `amr`: `["authenticated", "<provider key>", "<provider key>:<...>:<subject>"]` for a
//!   signed-in identity, `["unauthenticated"]` for a guest (the caller builds the list);
//! - `iat`, `exp` (10 minutes by default, up to a day for the developer flow), and a random
//!   `jti`.
//!
//! Cognito's newer tokens also carry `https://cognito-identity.amazonaws.com/identity-pool-arn`;
//! Cognate has no AWS account to put in an ARN, so it leaves the claim out (no trust
//! condition or SDK reads it).
//!
//! Keys live in their own table, `identity_keys` (migration 0009): RSA-2048, the private
//! part sealed under the master key with [`identity_key_context`], made with
//! [`crate::core::keys`]'s generator and signed with its [`Signer`]. The first key is made
//! at first use; nodes making it at once converge through the store's one-active-key
//! index. A rotation keeps the retired key in the JWKS until every token it signed has
//! expired ([`MAX_OPENID_TOKEN_SECS`] plus the verification leeway). Like pool keys, a
//! node caches the keys for [`KEY_CACHE_TTL`], and a `kid` it lacks reloads them at most
//! once per [`UNKNOWN_KID_RELOAD_SECS`].

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::core::ids::new_kid;
use crate::core::keys::UNKNOWN_KID_RELOAD_SECS;
use crate::core::keys::{generate_rsa, Jwk, KeyError, RsaParts, Signer, KEY_CACHE_TTL};
use crate::core::secrets::{random_token, EncryptedSecret, MasterKey};
use crate::core::storage::{Store, StoreError};
use crate::core::UnixTime;

/// The path of the identity issuer under the public URL.
pub const IDENTITY_ISSUER_PATH: &str = "identity";

/// The OpenID token's lifetime unless the caller asks otherwise (Cognito's 10 minutes).
pub const DEFAULT_OPENID_TOKEN_SECS: i64 = 600;

/// The longest lifetime a caller may ask for (GetOpenIdTokenForDeveloperIdentity's
/// `TokenDuration` cap, one day).
pub const MAX_OPENID_TOKEN_SECS: i64 = 86_400;

/// Clock skew tolerated on `exp` and `iat` when verifying.
pub const VERIFY_LEEWAY_SECS: i64 = 30;

/// The longest token [`OpenIdTokens::verify`] looks at.
pub const MAX_TOKEN_LEN: usize = 16_384;

/// The identity issuer of a deployment whose public URL is `public_url`.
pub fn identity_issuer(public_url: &str) -> String {
    format!(
        "{}/{IDENTITY_ISSUER_PATH}",
        public_url.trim_end_matches('/')
    )
}

/// The associated-data context of an identity key's private part.
pub fn identity_key_context(kid: &str) -> String {
    format!("identity-key:{kid}")
}

/// One of the identity service's RSA keys, as stored (table `identity_keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityKeyRecord {
    pub kid: String,
    /// PKCS#8 DER sealed under the master key ([`identity_key_context`]).
    pub private_pkcs8: EncryptedSecret,
    /// The public modulus and exponent, base64url, as the JWK carries them.
    pub n: String,
    pub e: String,
    pub created_at: UnixTime,
    /// When a newer key replaced this one (`None` while active).
    pub retired_at: Option<UnixTime>,
    /// Until when a retired key stays in the JWKS.
    pub published_until: Option<UnixTime>,
}

impl IdentityKeyRecord {
    fn jwk(&self) -> Jwk {
        Jwk {
            kty: "RSA",
            alg: "RS256",
            use_: "sig",
            kid: self.kid.clone(),
            n: self.n.clone(),
            e: self.e.clone(),
        }
    }

    /// Whether the JWKS carries this key at `now`.
    fn published_at(&self, now: UnixTime) -> bool {
        self.retired_at.is_none() || self.published_until.is_some_and(|until| now < until)
    }
}

/// Generates an identity key, its private part sealed under the master key. CPU-heavy
/// (0.1 to 0.4 s): call it from a blocking task.
pub fn generate_identity_key(
    master: &MasterKey,
    now: UnixTime,
) -> Result<IdentityKeyRecord, KeyError> {
    let RsaParts { pkcs8, n, e } = generate_rsa()?;
    let kid = new_kid();
    Ok(IdentityKeyRecord {
        private_pkcs8: master.seal(&identity_key_context(&kid), &pkcs8),
        kid,
        n,
        e,
        created_at: now,
        retired_at: None,
        published_until: None,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum OpenIdError {
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The caller asked for something the service does not issue (a bad lifetime, an
    /// empty id or `amr`): a bug or bad input at the caller, never a token's fault.
    #[error("invalid token request: {0}")]
    BadRequest(&'static str),
    /// The token is not one of ours, or not valid: the reason is for the log only.
    #[error("invalid identity token: {0}")]
    Invalid(&'static str),
    #[error("the identity token has expired")]
    Expired,
    /// A load of the keys that this caller waited on (another's) failed.
    #[error("loading the identity keys failed: {0}")]
    Load(Arc<OpenIdError>),
}

/// What to put in a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityTokenRequest {
    pub identity_id: String,
    pub identity_pool_id: String,
    /// Authentication methods references, built by the caller as Cognito does (see the
    /// module doc).
    pub amr: Vec<String>,
    /// 1 to [`MAX_OPENID_TOKEN_SECS`]; [`DEFAULT_OPENID_TOKEN_SECS`] unless the developer
    /// flow asked for another.
    pub ttl_secs: i64,
}

/// The claims of a verified token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIdClaims {
    /// The identity id.
    pub sub: String,
    /// The identity pool id.
    pub aud: String,
    pub amr: Vec<String>,
    pub iat: UnixTime,
    pub exp: UnixTime,
}

/// The claims as signed.
#[derive(Serialize)]
struct IssuedClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    amr: &'a [String],
    iat: UnixTime,
    exp: UnixTime,
    jti: String,
}

/// The claims as read back: `aud` must be one string, every field present.
#[derive(Deserialize)]
struct ReadClaims {
    iss: String,
    sub: String,
    aud: String,
    amr: Vec<String>,
    iat: UnixTime,
    exp: UnixTime,
}

/// The identity keys as one node holds them.
struct IdentityKeys {
    signer: Option<Arc<Signer>>,
    verifiers: HashMap<String, DecodingKey>,
}

/// Issues and verifies the identity service's OpenID tokens; publishes their keys.
#[derive(Clone)]
pub struct OpenIdTokens {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    issuer: Arc<str>,
    cache: moka::future::Cache<(), Arc<IdentityKeys>>,
    /// When this node last reloaded the keys for a `kid` it lacked.
    unknown_kid_reload: Arc<AtomicI64>,
}

impl std::fmt::Debug for OpenIdTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenIdTokens")
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl OpenIdTokens {
    /// The service of the deployment whose public URL is `public_url`.
    pub fn new(store: Arc<dyn Store>, master: Arc<MasterKey>, public_url: &str) -> Self {
        OpenIdTokens {
            store,
            master,
            issuer: identity_issuer(public_url).into(),
            cache: moka::future::Cache::builder()
                .time_to_live(KEY_CACHE_TTL)
                .max_capacity(1)
                .build(),
            unknown_kid_reload: Arc::new(AtomicI64::new(i64::MIN)),
        }
    }

    /// The `iss` of every token: `<public URL>/identity`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Signs a token for `request` at `now`.
    pub async fn issue(
        &self,
        request: &IdentityTokenRequest,
        now: UnixTime,
    ) -> Result<String, OpenIdError> {
        if !(1..=MAX_OPENID_TOKEN_SECS).contains(&request.ttl_secs) {
            return Err(OpenIdError::BadRequest("lifetime outside 1 s to 1 day"));
        }
        if request.identity_id.is_empty() || request.identity_pool_id.is_empty() {
            return Err(OpenIdError::BadRequest("empty identity or pool id"));
        }
        if request.amr.is_empty() {
            return Err(OpenIdError::BadRequest("empty amr"));
        }
        let signer = self.signer(now).await?;
        let claims = IssuedClaims {
            iss: &self.issuer,
            sub: &request.identity_id,
            aud: &request.identity_pool_id,
            amr: &request.amr,
            iat: now,
            exp: now + request.ttl_secs,
            jti: random_token::<16>(),
        };
        Ok(signer.sign(&claims)?)
    }

    /// Verifies one of our tokens at `now`: RS256 only, signed by a key of our JWKS, `iss`
    /// exactly ours, `aud` one string, not expired (with [`VERIFY_LEEWAY_SECS`]) and not
    /// issued in the future.
    pub async fn verify(&self, token: &str, now: UnixTime) -> Result<OpenIdClaims, OpenIdError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(OpenIdError::Invalid("too long"));
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|_| OpenIdError::Invalid("header"))?;
        if header.alg != Algorithm::RS256 {
            return Err(OpenIdError::Invalid("algorithm"));
        }
        let kid = header.kid.ok_or(OpenIdError::Invalid("no kid"))?;
        let key = self
            .verification_key(&kid, now)
            .await?
            .ok_or(OpenIdError::Invalid("unknown kid"))?;
        let mut validation = Validation::new(Algorithm::RS256);
        // Time is judged against `now` below, not the library's clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let data = jsonwebtoken::decode::<ReadClaims>(token, &key, &validation)
            .map_err(|_| OpenIdError::Invalid("signature or claims"))?;
        let c = data.claims;
        if c.iss != *self.issuer {
            return Err(OpenIdError::Invalid("issuer"));
        }
        if c.sub.is_empty() || c.aud.is_empty() {
            return Err(OpenIdError::Invalid("empty sub or aud"));
        }
        if c.iat > now + VERIFY_LEEWAY_SECS {
            return Err(OpenIdError::Invalid("issued in the future"));
        }
        if now >= c.exp + VERIFY_LEEWAY_SECS {
            return Err(OpenIdError::Expired);
        }
        Ok(OpenIdClaims {
            sub: c.sub,
            aud: c.aud,
            amr: c.amr,
            iat: c.iat,
            exp: c.exp,
        })
    }

    /// The JWKS document (RFC 7517 section 5), read from the store on every call so a
    /// rotation made anywhere is published at once.
    pub async fn jwks(&self, now: UnixTime) -> Result<serde_json::Value, OpenIdError> {
        let keys: Vec<Jwk> = self
            .store
            .list_identity_keys()
            .await?
            .iter()
            .filter(|k| k.published_at(now))
            .map(IdentityKeyRecord::jwk)
            .collect();
        Ok(json!({ "keys": keys }))
    }

    /// Makes sure an active key exists (at first use, or at start). Safe when several
    /// nodes do it at once: the store keeps one and every node ends up with that one.
    pub async fn ensure_key(&self, now: UnixTime) -> Result<(), OpenIdError> {
        let existing = self.store.list_identity_keys().await?;
        if !existing.iter().any(|k| k.retired_at.is_none()) {
            let key = self.generate(now).await?;
            self.store.insert_identity_key_if_none_active(&key).await?;
            self.cache.invalidate(&()).await;
        }
        Ok(())
    }

    /// Makes a new active key; the old one stays in the JWKS until every token it signed
    /// has expired, and keys past that are pruned. Returns the new kid. Other nodes sign
    /// with it within [`KEY_CACHE_TTL`].
    pub async fn rotate(&self, now: UnixTime) -> Result<String, OpenIdError> {
        let key = self.generate(now).await?;
        let published_until = now + MAX_OPENID_TOKEN_SECS + VERIFY_LEEWAY_SECS;
        self.store
            .rotate_identity_key(&key, now, published_until)
            .await?;
        self.store.prune_identity_keys(now).await?;
        self.cache.invalidate(&()).await;
        Ok(key.kid)
    }

    async fn generate(&self, now: UnixTime) -> Result<IdentityKeyRecord, OpenIdError> {
        let master = self.master.clone();
        Ok(
            tokio::task::spawn_blocking(move || generate_identity_key(&master, now))
                .await
                .map_err(|_| KeyError::Generation)??,
        )
    }

    /// The active signer, making the first key if there is none.
    async fn signer(&self, now: UnixTime) -> Result<Arc<Signer>, OpenIdError> {
        if let Some(signer) = &self.keys(now).await?.signer {
            return Ok(signer.clone());
        }
        self.ensure_key(now).await?;
        self.keys(now)
            .await?
            .signer
            .clone()
            .ok_or_else(|| OpenIdError::Keys(KeyError::NoActiveKey("identity".into(), "identity")))
    }

    /// The key `kid` of the JWKS. A `kid` the cached keys lack reloads them at most once
    /// per [`UNKNOWN_KID_RELOAD_SECS`] on this node (the `kid` comes from a token nobody
    /// has authenticated yet).
    async fn verification_key(
        &self,
        kid: &str,
        now: UnixTime,
    ) -> Result<Option<DecodingKey>, OpenIdError> {
        let keys = self.keys(now).await?;
        if let Some(key) = keys.verifiers.get(kid) {
            return Ok(Some(key.clone()));
        }
        let last = self.unknown_kid_reload.load(Ordering::Relaxed);
        if now < last.saturating_add(UNKNOWN_KID_RELOAD_SECS)
            || self
                .unknown_kid_reload
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return Ok(None);
        }
        let fresh = Arc::new(self.load(now).await?);
        self.cache.insert((), fresh.clone()).await;
        Ok(fresh.verifiers.get(kid).cloned())
    }

    /// The keys, from the cache or the store (concurrent misses share one load).
    async fn keys(&self, now: UnixTime) -> Result<Arc<IdentityKeys>, OpenIdError> {
        self.cache
            .try_get_with((), async { self.load(now).await.map(Arc::new) })
            .await
            .map_err(|shared| Arc::try_unwrap(shared).unwrap_or_else(OpenIdError::Load))
    }

    async fn load(&self, now: UnixTime) -> Result<IdentityKeys, OpenIdError> {
        let records = self.store.list_identity_keys().await?;
        let signer = match records.iter().find(|k| k.retired_at.is_none()) {
            Some(active) => {
                let der = self
                    .master
                    .open(&identity_key_context(&active.kid), &active.private_pkcs8)
                    .map_err(KeyError::from)?;
                Some(Arc::new(Signer::from_pkcs8(&active.kid, &der)?))
            }
            None => None,
        };
        let mut verifiers = HashMap::new();
        for key in records.iter().filter(|k| k.published_at(now)) {
            let decoding =
                DecodingKey::from_rsa_components(&key.n, &key.e).map_err(|e| KeyError::BadKey {
                    kid: key.kid.clone(),
                    reason: e.to_string(),
                })?;
            verifiers.insert(key.kid.clone(), decoding);
        }
        Ok(IdentityKeys { signer, verifiers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    const T0: UnixTime = 1_800_000_000;

    async fn service(dir: &tempfile::TempDir, url: &str) -> (OpenIdTokens, Arc<dyn Store>) {
        let store: Arc<dyn Store> = Arc::new(
            crate::store::sqlite::SqliteStore::open(&dir.path().join("i.db"))
                .await
                .unwrap(),
        );
        let (master, _) = MasterKey::generate();
        (
            OpenIdTokens::new(store.clone(), Arc::new(master), url),
            store,
        )
    }

    fn request() -> IdentityTokenRequest {
        IdentityTokenRequest {
            identity_id: "us-east-1:11111111-2222-4333-8444-555555555555".into(),
            identity_pool_id: "us-east-1:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee".into(),
            amr: vec![
                "authenticated".into(),
                "cognate.example/us-east-1_Pool1".into(),
                "cognate.example/us-east-1_Pool1:CognitoSignIn:sub-1".into(),
            ],
            ttl_secs: DEFAULT_OPENID_TOKEN_SECS,
        }
    }

    /// `header.payload.` re-signed by `sign` over the new header and payload.
    fn forge(header: serde_json::Value, payload: &serde_json::Value, sig: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(sig)
        )
    }

    fn payload_of(token: &str) -> serde_json::Value {
        let part = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[tokio::test]
    async fn issued_tokens_verify_with_cognito_shaped_claims() {
        let dir = tempfile::tempdir().unwrap();
        let (tokens, _) = service(&dir, "https://id.example.com/").await;
        assert_eq!(tokens.issuer(), "https://id.example.com/identity");
        let req = request();
        let token = tokens.issue(&req, T0).await.unwrap();
        let claims = tokens.verify(&token, T0 + 1).await.unwrap();
        assert_eq!(claims.sub, req.identity_id);
        assert_eq!(claims.aud, req.identity_pool_id);
        assert_eq!(claims.amr, req.amr);
        assert_eq!((claims.iat, claims.exp), (T0, T0 + 600));
        let payload = payload_of(&token);
        assert_eq!(payload["iss"], "https://id.example.com/identity");
        // `aud` is one string, as Cognito sends it.
        assert!(payload["aud"].is_string());
        // Guests, and the developer flow's longer lifetime.
        let guest = IdentityTokenRequest {
            amr: vec!["unauthenticated".into()],
            ttl_secs: MAX_OPENID_TOKEN_SECS,
            ..request()
        };
        let token = tokens.issue(&guest, T0).await.unwrap();
        let claims = tokens.verify(&token, T0 + 86_000).await.unwrap();
        assert_eq!(claims.amr, ["unauthenticated"]);
        // Lifetimes outside 1 s to a day are refused.
        for ttl in [0, -1, MAX_OPENID_TOKEN_SECS + 1] {
            let bad = IdentityTokenRequest {
                ttl_secs: ttl,
                ..request()
            };
            assert!(matches!(
                tokens.issue(&bad, T0).await,
                Err(OpenIdError::BadRequest(_))
            ));
        }
    }

    #[tokio::test]
    async fn expired_and_future_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (tokens, _) = service(&dir, "https://id.example.com").await;
        let token = tokens.issue(&request(), T0).await.unwrap();
        let exp = T0 + DEFAULT_OPENID_TOKEN_SECS;
        assert!(tokens
            .verify(&token, exp + VERIFY_LEEWAY_SECS - 1)
            .await
            .is_ok());
        assert!(matches!(
            tokens.verify(&token, exp + VERIFY_LEEWAY_SECS).await,
            Err(OpenIdError::Expired)
        ));
        // Issued more than the leeway after `now` (a clock far ahead, or a forged iat).
        assert!(matches!(
            tokens.verify(&token, T0 - VERIFY_LEEWAY_SECS - 1).await,
            Err(OpenIdError::Invalid(_))
        ));
    }

    #[tokio::test]
    async fn forged_tokens_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (tokens, _) = service(&dir, "https://id.example.com").await;
        let honest = tokens.issue(&request(), T0).await.unwrap();
        assert!(tokens.verify(&honest, T0).await.is_ok());
        let kid = jsonwebtoken::decode_header(&honest).unwrap().kid.unwrap();
        let payload = payload_of(&honest);

        // Signed by another key under our kid.
        let (other_master, _) = MasterKey::generate();
        let other = generate_identity_key(&other_master, T0).unwrap();
        let der = other_master
            .open(&identity_key_context(&other.kid), &other.private_pkcs8)
            .unwrap();
        let foreign = Signer::from_pkcs8(&kid, &der)
            .unwrap()
            .sign(&payload)
            .unwrap();
        assert!(matches!(
            tokens.verify(&foreign, T0).await,
            Err(OpenIdError::Invalid(_))
        ));

        // alg none and HS256 (keyed with the public modulus, the classic confusion).
        let none = forge(json!({"alg": "none", "kid": kid}), &payload, b"");
        assert!(tokens.verify(&none, T0).await.is_err());
        let hs_header = json!({"alg": "HS256", "kid": kid, "typ": "JWT"});
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(hs_header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let records = tokens.store.list_identity_keys().await.unwrap();
        let mac_key =
            aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, records[0].n.as_bytes());
        let tag = aws_lc_rs::hmac::sign(&mac_key, signing_input.as_bytes());
        let hs = forge(hs_header, &payload, tag.as_ref());
        assert!(matches!(
            tokens.verify(&hs, T0).await,
            Err(OpenIdError::Invalid("algorithm"))
        ));

        // Our own key, but another issuer (a token of another deployment sharing keys is
        // not ours), or `aud` as a list.
        let (master, store) = (tokens.master.clone(), tokens.store.clone());
        let elsewhere = OpenIdTokens::new(store, master, "https://other.example.com");
        let theirs = elsewhere.issue(&request(), T0).await.unwrap();
        assert!(elsewhere.verify(&theirs, T0).await.is_ok());
        assert!(matches!(
            tokens.verify(&theirs, T0).await,
            Err(OpenIdError::Invalid("issuer"))
        ));
        let signer = tokens.signer(T0).await.unwrap();
        let mut listed = payload.clone();
        listed["aud"] = json!([payload["aud"].clone()]);
        let listed = signer.sign(&listed).unwrap();
        assert!(tokens.verify(&listed, T0).await.is_err());
        // A signature moved onto another payload.
        let mut parts: Vec<&str> = honest.split('.').collect();
        let mut changed = payload.clone();
        changed["sub"] = json!("us-east-1:someone-else");
        let changed_b64 = URL_SAFE_NO_PAD.encode(changed.to_string());
        parts[1] = &changed_b64;
        assert!(tokens.verify(&parts.join("."), T0).await.is_err());
        // An unknown kid.
        let unknown = forge(json!({"alg": "RS256", "kid": "nope"}), &payload, b"x");
        assert!(matches!(
            tokens.verify(&unknown, T0).await,
            Err(OpenIdError::Invalid("unknown kid"))
        ));
        // The honest token still verifies after all that.
        assert!(tokens.verify(&honest, T0).await.is_ok());
    }

    #[tokio::test]
    async fn rotation_keeps_old_tokens_verifiable_until_they_expire() {
        let dir = tempfile::tempdir().unwrap();
        let (tokens, store) = service(&dir, "https://id.example.com").await;
        let old = tokens.issue(&request(), T0).await.unwrap();
        let old_kid = jsonwebtoken::decode_header(&old).unwrap().kid.unwrap();
        let new_kid = tokens.rotate(T0 + 10).await.unwrap();
        let new = tokens.issue(&request(), T0 + 10).await.unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&new).unwrap().kid.unwrap(),
            new_kid
        );
        assert!(tokens.verify(&old, T0 + 20).await.is_ok());
        assert!(tokens.verify(&new, T0 + 20).await.is_ok());
        let kids = |jwks: serde_json::Value| -> Vec<String> {
            jwks["keys"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| k["kid"].as_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            kids(tokens.jwks(T0 + 20).await.unwrap()),
            [new_kid.clone(), old_kid.clone()]
        );
        // Past the longest token's life the old key leaves the JWKS and a later rotation
        // prunes it.
        let later = T0 + 10 + MAX_OPENID_TOKEN_SECS + VERIFY_LEEWAY_SECS;
        assert_eq!(kids(tokens.jwks(later).await.unwrap()), [new_kid]);
        tokens.rotate(later).await.unwrap();
        let stored: Vec<String> = store
            .list_identity_keys()
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(stored.len(), 2);
        assert!(!stored.contains(&old_kid));
    }
}
