//! Sign in with Apple's quirks: the client secret is a short-lived ES256 JWT signed with
//! the developer's `.p8` key, and the first authorization carries an unsigned `user` JSON
//! whose name is never sent again.
//!
//! Apple's documentation ("Creating a client secret"): header `{alg: ES256, kid: <key
//! id>}`; claims `iss` = team id, `iat`, `exp` (at most 15,777,000 seconds, six months,
//! after `iat`), `aud` = `https://appleid.apple.com`, `sub` = the Services ID (client id).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

use crate::core::model::{AppleSigningKey, IdentityProvider};
use crate::core::secrets::SecretString;
use crate::core::UnixTime;

/// The `aud` of every Apple client secret.
pub const APPLE_AUDIENCE: &str = "https://appleid.apple.com";
/// Apple refuses client secrets that live longer than six months.
pub const MAX_LIFETIME_SECS: i64 = 15_777_000;
/// Cognate mints secrets for an hour: a leaked one is soon useless, and minting is cheap.
pub const DEFAULT_LIFETIME_SECS: i64 = 3600;
/// A cached secret is replaced this long before it expires, so a secret handed out is
/// never about to expire on its way to Apple.
pub const REFRESH_MARGIN_SECS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppleKeyError {
    #[error(
        "not a PEM private key: expected the contents of the AuthKey_<KEY ID>.p8 file, \
         from -----BEGIN PRIVATE KEY----- to -----END PRIVATE KEY-----"
    )]
    NotPem,
    #[error("the key's PEM body is not valid base64")]
    Base64,
    #[error("not a PKCS#8 P-256 private key (Apple's .p8 keys for Sign in with Apple are)")]
    NotP256,
    #[error("signing the Apple client secret failed")]
    Sign,
}

/// Parses the operator's `.p8` file: a PKCS#8 PEM holding a P-256 key. Literal `\n`
/// sequences (a PEM squeezed into one line of an env file) are accepted as newlines.
pub fn parse_p8(pem: &str) -> Result<EcdsaKeyPair, AppleKeyError> {
    let pem = pem.replace("\\n", "\n");
    let pem = pem.trim();
    let body = pem
        .strip_prefix("-----BEGIN PRIVATE KEY-----")
        .and_then(|rest| rest.strip_suffix("-----END PRIVATE KEY-----"))
        .ok_or(AppleKeyError::NotPem)?;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    let der = STANDARD.decode(b64).map_err(|_| AppleKeyError::Base64)?;
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der)
        .map_err(|_| AppleKeyError::NotP256)
}

/// Mints and caches the client secret of one Apple Services ID.
pub struct AppleClientSecret {
    team_id: String,
    key_id: String,
    client_id: String,
    key: EcdsaKeyPair,
    lifetime: i64,
    /// The current secret and its `exp`.
    cached: Mutex<Option<(SecretString, UnixTime)>>,
}

impl fmt::Debug for AppleClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppleClientSecret")
            .field("team_id", &self.team_id)
            .field("key_id", &self.key_id)
            .field("client_id", &self.client_id)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl AppleClientSecret {
    /// From the `.p8` PEM, the team id, the key id and the Services ID.
    pub fn new(
        p8_pem: &str,
        team_id: &str,
        key_id: &str,
        client_id: &str,
    ) -> Result<Self, AppleKeyError> {
        Ok(AppleClientSecret {
            team_id: team_id.to_string(),
            key_id: key_id.to_string(),
            client_id: client_id.to_string(),
            key: parse_p8(p8_pem)?,
            lifetime: DEFAULT_LIFETIME_SECS,
            cached: Mutex::new(None),
        })
    }

    /// Another lifetime, kept between one minute and Apple's six-month limit.
    pub fn with_lifetime(mut self, secs: i64) -> Self {
        self.lifetime = secs.clamp(60, MAX_LIFETIME_SECS);
        self
    }

    /// The secret to send at `now`: the cached one while it has more than the refresh
    /// margin left, else a freshly minted one.
    pub fn get(&self, now: UnixTime) -> Result<SecretString, AppleKeyError> {
        let margin = REFRESH_MARGIN_SECS.min(self.lifetime / 2);
        let mut cached = self
            .cached
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((secret, exp)) = cached.as_ref() {
            // A clock that went backwards past `iat` also mints anew.
            if now < exp - margin && now >= exp - self.lifetime {
                return Ok(secret.clone());
            }
        }
        let secret = self.mint(now)?;
        *cached = Some((secret.clone(), now + self.lifetime));
        Ok(secret)
    }

    /// A new secret issued at `now` (JWS compact serialization, RFC 7515 section 7.1;
    /// ES256 signatures are the 64-byte `r || s`, RFC 7518 section 3.4).
    pub fn mint(&self, now: UnixTime) -> Result<SecretString, AppleKeyError> {
        let header = json!({"alg": "ES256", "kid": self.key_id, "typ": "JWT"});
        let claims = json!({
            "iss": self.team_id,
            "iat": now,
            "exp": now + self.lifetime,
            "aud": APPLE_AUDIENCE,
            "sub": self.client_id,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| AppleKeyError::Sign)?;
        Ok(SecretString::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )))
    }
}

/// The minters of a node, one per (pool, provider), so each Services ID's secret is minted
/// once and reused until it nears expiry. A minter is kept only while the provider's
/// client id, team id, key id and sealed key are those it was built from: an update of any
/// of them (through the API, the file or the CLI, on any node) builds a new one.
#[derive(Debug, Default)]
pub struct SecretCache {
    minters: Mutex<HashMap<(String, String), Cached>>,
}

/// A minter and the settings it was built from.
type Cached = (Fingerprint, Arc<AppleClientSecret>);

/// (client id, team id, key id, sealed private key): what a minted secret depends on.
type Fingerprint = (String, String, String, String);

impl SecretCache {
    /// The minter of this provider, built from the `.p8` PEM `open_pem` returns (called
    /// only when no minter of the same settings is cached).
    pub fn minter<E: From<AppleKeyError>>(
        &self,
        pool_id: &str,
        provider: &IdentityProvider,
        key: &AppleSigningKey,
        open_pem: impl FnOnce() -> Result<SecretString, E>,
    ) -> Result<Arc<AppleClientSecret>, E> {
        let id = (pool_id.to_string(), provider.name.clone());
        let fingerprint = (
            provider.client_id.clone(),
            key.team_id.clone(),
            key.key_id.clone(),
            key.private_key.as_stored().to_string(),
        );
        let mut minters = self
            .minters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((built_from, minter)) = minters.get(&id) {
            if *built_from == fingerprint {
                return Ok(minter.clone());
            }
        }
        let pem = open_pem()?;
        let minter = Arc::new(AppleClientSecret::new(
            pem.expose(),
            &key.team_id,
            &key.key_id,
            &provider.client_id,
        )?);
        minters.insert(id, (fingerprint, minter.clone()));
        Ok(minter)
    }
}

/// Places the name from Apple's first-authorization `user` JSON
/// (`{"name":{"firstName":..,"lastName":..},"email":..}`) under `user.name` in the ID
/// token's claims, where the Apple preset's mapping finds it. Only the name is taken: the
/// JSON is unsigned, so its `email` is ignored (the email comes from the signed ID token).
/// A malformed JSON is ignored with a warning; returns whether a name was merged.
pub fn merge_user_json(claims: &mut Value, user_json: &str) -> bool {
    let Ok(user) = serde_json::from_str::<Value>(user_json) else {
        tracing::warn!("ignoring Apple's user JSON: it is not JSON");
        return false;
    };
    let part = |key: &str| {
        user.get("name")
            .and_then(|n| n.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let mut name = serde_json::Map::new();
    for key in ["firstName", "lastName"] {
        if let Some(value) = part(key) {
            name.insert(key.to_string(), Value::String(value));
        }
    }
    let Some(map) = claims.as_object_mut() else {
        return false;
    };
    if name.is_empty() {
        return false;
    }
    map.insert("user".to_string(), json!({ "name": name }));
    true
}

#[cfg(test)]
pub(crate) mod tests {
    use aws_lc_rs::signature::KeyPair;
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};

    use super::*;

    /// A fresh P-256 key as Apple's `.p8` file, and the verifying key for it.
    pub(crate) fn p8() -> (String, DecodingKey) {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = key.to_pkcs8v1().unwrap();
        let b64 = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        );
        // The public key is the uncompressed point 04 || x || y.
        let point = key.public_key().as_ref();
        assert_eq!(point.len(), 65);
        let decoding = DecodingKey::from_ec_components(
            &URL_SAFE_NO_PAD.encode(&point[1..33]),
            &URL_SAFE_NO_PAD.encode(&point[33..]),
        )
        .unwrap();
        (pem, decoding)
    }

    #[test]
    fn the_secret_is_an_es256_jwt_apple_accepts() {
        let (pem, public) = p8();
        let minter =
            AppleClientSecret::new(&pem, "TEAM123456", "KEY1234567", "com.example.web").unwrap();
        let now = chrono::Utc::now().timestamp();
        let secret = minter.get(now).unwrap();

        let header = jsonwebtoken::decode_header(secret.expose()).unwrap();
        assert_eq!(header.alg, Algorithm::ES256);
        assert_eq!(header.kid.as_deref(), Some("KEY1234567"));

        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[APPLE_AUDIENCE]);
        validation.set_issuer(&["TEAM123456"]);
        validation.sub = Some("com.example.web".into());
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<Value>(secret.expose(), &public, &validation).unwrap();
        let claims = data.claims;
        assert_eq!(claims["iss"], "TEAM123456");
        assert_eq!(claims["sub"], "com.example.web");
        assert_eq!(claims["aud"], APPLE_AUDIENCE);
        assert_eq!(claims["iat"], now);
        assert_eq!(claims["exp"], now + DEFAULT_LIFETIME_SECS);
        assert!(claims["exp"].as_i64().unwrap() - now <= MAX_LIFETIME_SECS);

        // Another key does not verify it: the signature really covers the claims.
        let (_, other) = p8();
        assert!(jsonwebtoken::decode::<Value>(secret.expose(), &other, &validation).is_err());
        // The Debug output names no key material.
        assert!(!format!("{minter:?}").contains("PRIVATE"));
    }

    #[test]
    fn the_cached_secret_is_refreshed_before_it_expires() {
        let (pem, _) = p8();
        let minter = AppleClientSecret::new(&pem, "T", "K", "c").unwrap();
        let t0 = 1_700_000_000;
        let first = minter.get(t0).unwrap();
        assert_eq!(minter.get(t0 + 1).unwrap(), first);
        let last_cached = t0 + DEFAULT_LIFETIME_SECS - REFRESH_MARGIN_SECS - 1;
        assert_eq!(minter.get(last_cached).unwrap(), first);
        // Within the margin: a new secret, issued now, cached in its turn.
        let second = minter.get(last_cached + 1).unwrap();
        assert_ne!(second, first);
        let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(second.expose())
            .unwrap()
            .claims;
        assert_eq!(claims["iat"], last_cached + 1);
        assert_eq!(minter.get(last_cached + 2).unwrap(), second);
        // A clock set back before the cached secret's iat mints anew.
        assert_ne!(minter.get(t0).unwrap(), second);

        // Lifetimes are clamped to Apple's limit; a short one still refreshes early.
        let long = AppleClientSecret::new(&pem, "T", "K", "c")
            .unwrap()
            .with_lifetime(365 * 86400);
        let claims =
            jsonwebtoken::dangerous::insecure_decode::<Value>(long.get(t0).unwrap().expose())
                .unwrap()
                .claims;
        assert_eq!(claims["exp"], t0 + MAX_LIFETIME_SECS);
        let short = AppleClientSecret::new(&pem, "T", "K", "c")
            .unwrap()
            .with_lifetime(120);
        let s = short.get(t0).unwrap();
        assert_eq!(short.get(t0 + 59).unwrap(), s);
        assert_ne!(short.get(t0 + 60).unwrap(), s);
    }

    /// The payload of a minted secret (its signature is checked by the test above).
    fn sub_of(secret: &SecretString) -> Value {
        let payload = secret.expose().split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
    }

    #[test]
    fn the_cache_follows_a_change_of_the_providers_settings() {
        use crate::core::secrets::EncryptedSecret;
        let (pem, _) = p8();
        let cache = SecretCache::default();
        let mut provider = crate::federation::mapping::tests::provider("apple");
        provider.client_id = "com.example.old".into();
        let key = |sealed: &str| AppleSigningKey {
            team_id: "TEAM123456".into(),
            key_id: "KEY1234567".into(),
            private_key: EncryptedSecret::from_stored(sealed.into()),
        };
        let open = || Ok::<_, AppleKeyError>(SecretString::new(pem.clone()));
        let now = chrono::Utc::now().timestamp();
        let first = cache
            .minter("p", &provider, &key("sealed-1"), open)
            .unwrap();
        assert_eq!(sub_of(&first.get(now).unwrap())["sub"], "com.example.old");
        // Same settings: the cached minter, the PEM not opened again.
        let again = cache
            .minter(
                "p",
                &provider,
                &key("sealed-1"),
                || -> Result<_, AppleKeyError> { panic!("the cached minter should serve") },
            )
            .unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        // A new Services ID: a new minter signing for it.
        provider.client_id = "com.example.new".into();
        let renamed = cache
            .minter("p", &provider, &key("sealed-1"), open)
            .unwrap();
        assert_eq!(sub_of(&renamed.get(now).unwrap())["sub"], "com.example.new");
        // A replaced key under the same key id: built again too.
        let rekeyed = cache
            .minter("p", &provider, &key("sealed-2"), open)
            .unwrap();
        assert!(!Arc::ptr_eq(&renamed, &rekeyed));
    }

    #[test]
    fn a_malformed_p8_gives_a_clear_error() {
        let (pem, _) = p8();
        assert_eq!(parse_p8("hello").unwrap_err(), AppleKeyError::NotPem);
        assert_eq!(
            parse_p8("-----BEGIN PRIVATE KEY-----\n%%%\n-----END PRIVATE KEY-----").unwrap_err(),
            AppleKeyError::Base64
        );
        assert_eq!(
            parse_p8("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").unwrap_err(),
            AppleKeyError::NotP256
        );
        // An RSA key is PKCS#8 too, but not what Apple issues.
        let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der =
            aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&rsa).unwrap();
        let rsa_pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
            STANDARD.encode(der.as_ref())
        );
        assert_eq!(parse_p8(&rsa_pem).unwrap_err(), AppleKeyError::NotP256);
        let err =
            AppleClientSecret::new("-----BEGIN EC PRIVATE KEY-----", "T", "K", "c").unwrap_err();
        assert!(err.to_string().contains("AuthKey_<KEY ID>.p8"), "{err}");
        // A PEM flattened into one line with literal \n, as env files often hold it.
        let flat = pem.trim().replace('\n', "\\n");
        assert!(parse_p8(&flat).is_ok());
    }

    #[test]
    fn only_the_name_is_taken_from_the_user_json() {
        let mut claims = json!({"sub": "s", "email": "signed@privaterelay.appleid.com"});
        let user =
            r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"forged@evil.example"}"#;
        assert!(merge_user_json(&mut claims, user));
        assert_eq!(
            claims,
            json!({
                "sub": "s",
                "email": "signed@privaterelay.appleid.com",
                "user": {"name": {"firstName": "Ada", "lastName": "Lovelace"}}
            })
        );
        let mut claims = json!({"sub": "s"});
        assert!(!merge_user_json(&mut claims, "{not json"));
        assert!(!merge_user_json(&mut claims, r#"{"email":"a@b.example"}"#));
        assert_eq!(claims, json!({"sub": "s"}));
        assert!(merge_user_json(
            &mut claims,
            r#"{"name":{"firstName":"Ada"}}"#
        ));
        assert_eq!(claims["user"]["name"], json!({"firstName": "Ada"}));
    }
}
