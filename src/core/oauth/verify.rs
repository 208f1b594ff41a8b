//! Verifying Cognate's own tokens: access tokens (userInfo, and later the user-pool API) and
//! ID tokens (an identity pool's `Logins`). Access tokens: RS256
//! only, a `kid` the pool publishes, our issuer, not expired, `token_use` = access, no
//! `aud` (an ID token is not an access token), a family that was not revoked, and a user
//! not signed out everywhere since it was issued.

use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::grants::TokenService;
use super::{ErrorCode, OAuthError};
use crate::core::ids::is_valid_pool_id;
use crate::core::UnixTime;

/// Clock skew tolerated between nodes, in seconds.
pub const LEEWAY_SECS: i64 = 5;

/// The description of a token refused because its family was revoked or its user signed
/// out everywhere since it was issued (the user pools API tells this case apart:
/// "Access Token has been revoked").
pub const REVOKED: &str = "The token has been revoked.";

/// The description of a token refused because it expired ("Access Token has expired").
pub const EXPIRED: &str = "The token has expired.";

/// The claims of a verified access token.
#[derive(Debug, Clone, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub client_id: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub scope: String,
    pub origin_jti: String,
    pub token_use: String,
    pub iss: String,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
    #[serde(default)]
    pub auth_time: Option<i64>,
    #[serde(default)]
    pub aud: Option<Value>,
}

impl AccessClaims {
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

fn invalid(description: &str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidToken, description)
}

/// Verifies an access token; returns the pool id and the claims.
pub async fn verify_access_token(
    tokens: &TokenService,
    token: &str,
    now: UnixTime,
) -> Result<(String, AccessClaims), OAuthError> {
    let (pool_id, claims) = verify_signed::<AccessClaims>(tokens, token, now).await?;
    if claims.exp + LEEWAY_SECS <= now {
        return Err(invalid(EXPIRED));
    }
    if claims.token_use != "access" || claims.aud.is_some() {
        return Err(invalid("This is not an access token."));
    }
    check_not_revoked(
        tokens,
        &pool_id,
        &claims.origin_jti,
        &claims.sub,
        claims.iat,
        now,
    )
    .await?;
    Ok((pool_id, claims))
}

/// The claims of a verified ID token: the few the checks need, and every claim as issued
/// (an identity pool's role rules match on any of them).
#[derive(Debug, Clone)]
pub struct IdClaims {
    pub sub: String,
    /// The app client the token was issued to.
    pub aud: String,
    pub exp: i64,
    pub all: Map<String, Value>,
}

#[derive(Deserialize)]
struct IdClaimsWire {
    sub: String,
    aud: String,
    token_use: String,
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
    origin_jti: String,
}

/// Verifies one of Cognate's ID tokens as an identity pool's `Logins` value (Cognito's
/// GetId and GetCredentialsForIdentity): RS256 with a key the pool publishes, the pool's
/// exact issuer, not expired, `token_use` = id with one string `aud`, a token family that
/// was not revoked and a user not signed out everywhere since. Returns the pool id and the
/// claims; the caller checks that `aud` is a client the identity pool trusts.
pub async fn verify_id_token(
    tokens: &TokenService,
    token: &str,
    now: UnixTime,
) -> Result<(String, IdClaims), OAuthError> {
    let (pool_id, all) = verify_signed::<Map<String, Value>>(tokens, token, now).await?;
    let wire: IdClaimsWire = serde_json::from_value(Value::Object(all.clone()))
        .map_err(|_| invalid("This is not an ID token."))?;
    if wire.exp + LEEWAY_SECS <= now {
        return Err(invalid(EXPIRED));
    }
    if wire.token_use != "id" {
        return Err(invalid("This is not an ID token."));
    }
    check_not_revoked(tokens, &pool_id, &wire.origin_jti, &wire.sub, wire.iat, now).await?;
    Ok((
        pool_id,
        IdClaims {
            sub: wire.sub,
            aud: wire.aud,
            exp: wire.exp,
            all,
        },
    ))
}

async fn check_not_revoked(
    tokens: &TokenService,
    pool_id: &str,
    origin_jti: &str,
    sub: &str,
    iat: Option<i64>,
    now: UnixTime,
) -> Result<(), OAuthError> {
    if tokens.is_family_revoked(origin_jti, now).await? {
        return Err(invalid(REVOKED));
    }
    // A user signed out everywhere since the token was issued (GlobalSignOut).
    if let Some(issued_at) = iat {
        if tokens
            .is_signed_out_since(pool_id, sub, issued_at, now)
            .await?
        {
            return Err(invalid(REVOKED));
        }
    }
    Ok(())
}

/// Checks a token's signature and issuer against the keys of the pool its issuer names;
/// returns the pool id and the decoded claims (expiry is the caller's, on its clock).
async fn verify_signed<T: serde::de::DeserializeOwned>(
    tokens: &TokenService,
    token: &str,
    now: UnixTime,
) -> Result<(String, T), OAuthError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| invalid("Malformed token."))?;
    // Only the algorithm we sign with: refuses `none` and HS256-with-the-public-key.
    if header.alg != Algorithm::RS256 {
        return Err(invalid("Unsupported token algorithm."));
    }
    let kid = header
        .kid
        .ok_or_else(|| invalid("The token has no key id."))?;
    // Which pool? From the (not yet verified) issuer; the signature check below then
    // proves it, since only that pool's keys are tried.
    let payload = token
        .split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|b| serde_json::from_slice::<Map<String, Value>>(&b).ok())
        .ok_or_else(|| invalid("Malformed token."))?;
    let iss = payload
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("The token has no issuer."))?;
    let pool_id = iss
        .strip_prefix(&tokens.issuer(""))
        .filter(|p| is_valid_pool_id(p))
        .ok_or_else(|| invalid("The token was not issued here."))?
        .to_string();
    // A kid the cached keys lack reloads them at most once per pool every few seconds
    // (perhaps rotated in by another node): this token is not authenticated yet.
    let jwk = tokens
        .keys()
        .verification_key(&pool_id, &kid, now)
        .await?
        .ok_or_else(|| invalid("The token's key is unknown."))?;
    let key = DecodingKey::from_rsa_components(&jwk.n, &jwk.e).map_err(OAuthError::server_error)?;
    let mut validation = Validation::new(Algorithm::RS256);
    // Time and audience are checked below against the injected clock and Cognito's
    // access-token shape.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation.set_issuer(&[tokens.issuer(&pool_id)]);
    let claims = jsonwebtoken::decode::<T>(token, &key, &validation)
        .map_err(|_| invalid("The token signature or issuer is invalid."))?
        .claims;
    Ok((pool_id, claims))
}
