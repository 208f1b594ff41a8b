//! Strict validation of an upstream ID token (OpenID Connect Core 1.0 section 3.1.3.7):
//! RS256 or ES256 only, and only as the JWKS key says (never `none`, never HS256, which
//! would turn the IdP's public key into an HMAC secret); the signature against the IdP's
//! JWKS (refetched on an unknown `kid`, rate limited by [`IdpHttp`]); `iss` (the issuer or
//! an alias, such as Google's two spellings), `aud`/`azp`, `exp` and `iat` against the
//! injected time. The `nonce` is the flow's business ([`super::flow`]).

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::flow::FederationError;
use super::http::IdpHttp;
use crate::core::model::IdentityProvider;
use crate::core::UnixTime;

/// Clock difference tolerated between Cognate and the IdP for `exp` and `iat`.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// OIDC Core 3.1.3.7: signature (RS256/ES256 by the JWKS key), `iss`, `aud`/`azp`,
/// `exp` and `iat`. The nonce is checked by the caller.
pub async fn verify(
    http: &IdpHttp,
    provider: &IdentityProvider,
    jwks_url: &str,
    token: &str,
    now: UnixTime,
) -> Result<Value, FederationError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| FederationError::MalformedIdToken(e.to_string()))?;
    let alg = match header.alg {
        Algorithm::RS256 => "RS256",
        Algorithm::ES256 => "ES256",
        // HS256 would make the IdP's public key an HMAC secret; `none` does not even
        // parse as a header.
        other => return Err(FederationError::UnsupportedAlgorithm(format!("{other:?}"))),
    };
    let jwks = http.jwks(jwks_url, header.kid.as_deref()).await?;
    let keys: Vec<&Value> = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|k| k.iter().collect())
        .unwrap_or_default();
    let jwk = match header.kid.as_deref() {
        Some(kid) => keys
            .iter()
            .find(|k| k.get("kid").and_then(Value::as_str) == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
    .ok_or(FederationError::UnknownKey)?;
    let field = |name: &str| jwk.get(name).and_then(Value::as_str);
    if field("alg").is_some_and(|a| a != alg) || field("use").is_some_and(|u| u != "sig") {
        return Err(FederationError::KeyMismatch);
    }
    let key = match (alg, field("kty"), field("crv")) {
        ("RS256", Some("RSA"), _) => match (field("n"), field("e")) {
            (Some(n), Some(e)) => DecodingKey::from_rsa_components(n, e),
            _ => return Err(FederationError::KeyMismatch),
        },
        ("ES256", Some("EC"), Some("P-256")) => match (field("x"), field("y")) {
            (Some(x), Some(y)) => DecodingKey::from_ec_components(x, y),
            _ => return Err(FederationError::KeyMismatch),
        },
        _ => return Err(FederationError::KeyMismatch),
    }
    .map_err(|_| FederationError::KeyMismatch)?;
    // Only the signature here; the claims are checked below against the injected time.
    let mut validation = Validation::new(header.alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let data =
        jsonwebtoken::decode::<Value>(token, &key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => FederationError::BadSignature,
            _ => FederationError::MalformedIdToken(e.to_string()),
        })?;
    let claims = data.claims;
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if !provider.accepts_issuer(iss) {
        return Err(FederationError::WrongIssuer(iss.to_string()));
    }
    check_audience(&claims, &provider.client_id)?;
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    match number("exp") {
        Some(exp) if exp + CLOCK_SKEW_SECS > now => {}
        _ => return Err(FederationError::Expired),
    }
    match number("iat") {
        Some(iat) if iat <= now + CLOCK_SKEW_SECS => {}
        Some(_) => return Err(FederationError::IssuedInFuture),
        None => return Err(FederationError::MalformedIdToken("no iat".into())),
    }
    Ok(claims)
}

/// OIDC Core 3.1.3.7 steps 3 to 5: our client id among the audiences, and with several
/// audiences `azp` must be us.
fn check_audience(claims: &Value, client_id: &str) -> Result<(), FederationError> {
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.as_str()],
        Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !audiences.contains(&client_id) {
        return Err(FederationError::WrongAudience);
    }
    let azp = claims.get("azp").and_then(Value::as_str);
    if (audiences.len() > 1 && azp.is_none()) || azp.is_some_and(|a| a != client_id) {
        return Err(FederationError::WrongAudience);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn audience_rules() {
        assert!(check_audience(&json!({"aud": "c"}), "c").is_ok());
        assert!(check_audience(&json!({"aud": ["c"]}), "c").is_ok());
        assert!(check_audience(&json!({"aud": "d"}), "c").is_err());
        assert!(check_audience(&json!({}), "c").is_err());
        // Several audiences need azp = us.
        assert!(check_audience(&json!({"aud": ["c", "d"]}), "c").is_err());
        assert!(check_audience(&json!({"aud": ["c", "d"], "azp": "c"}), "c").is_ok());
        assert!(check_audience(&json!({"aud": "c", "azp": "d"}), "c").is_err());
    }
}
