//! Strict validation of an upstream ID token (OpenID Connect Core 1.0 section 3.1.3.7)
//! with the `openidconnect` crate's verifier: RS256 or ES256 only, and only with a JWKS key
//! whose type, `use` and `alg` fit (never `none`, never HS256, which would turn the IdP's
//! public key into an HMAC secret); the signature against the IdP's JWKS (refetched on an
//! unknown `kid`, rate limited by [`IdpHttp`]); `iss` (the issuer or an alias, such as
//! Google's two spellings), `aud`/`azp`, `exp` and `iat` against the injected time, and
//! the flow's `nonce`.
//!
//! The claims are returned as the JSON object the IdP signed (the mapping reads any claim,
//! not only the standard ones the crate types).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use openidconnect::core::{
    CoreIdToken, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{
    ClaimsVerificationError, ClientId, IssuerUrl, Nonce, SignatureVerificationError,
};
use serde_json::Value;

use super::error::FederationError;
use super::http::IdpHttp;
use crate::core::model::IdentityProvider;
use crate::core::UnixTime;

/// Clock difference tolerated between Cognate and the IdP for `exp` and `iat`.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// What the `iat` check reports (the crate files it under "expired").
const ISSUED_IN_FUTURE: &str = "issued in the future";

/// OIDC Core 3.1.3.7: signature (RS256/ES256 by the JWKS key), `iss`, `aud`/`azp`,
/// `exp`, `iat` and `nonce`. Returns the token's claims.
pub async fn verify(
    http: &IdpHttp,
    provider: &IdentityProvider,
    jwks_url: &str,
    token: &CoreIdToken,
    nonce: &str,
    now: UnixTime,
) -> Result<Value, FederationError> {
    let compact = token.to_string();
    let (header, payload) = segments(&compact)?;
    let kid = header.get("kid").and_then(Value::as_str);
    let jwks = http.jwks(jwks_url, kid).await?;
    let keys: CoreJsonWebKeySet = serde_json::from_value((*jwks).clone())
        .map_err(|e| FederationError::MalformedIdToken(format!("the IdP's JWKS: {e}")))?;
    let issuer = IssuerUrl::new(provider.issuer.clone().unwrap_or_default())
        .unwrap_or_else(|_| IssuerUrl::from_url(url::Url::parse("urn:none").expect("a URL")));
    let at = |secs: i64| DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default();
    let verifier = CoreIdTokenVerifier::new_public_client(
        ClientId::new(provider.client_id.clone()),
        issuer,
        keys,
    )
    .set_allowed_algs([
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    ])
    // `iss` is checked below against the issuer and its aliases.
    .require_issuer_match(false)
    .set_time_fn(move || at(now - CLOCK_SKEW_SECS))
    .set_issue_time_verifier_fn(move |iat| {
        if iat <= at(now + CLOCK_SKEW_SECS) {
            Ok(())
        } else {
            Err(ISSUED_IN_FUTURE.to_string())
        }
    });
    let expected = Nonce::new(nonce.to_string());
    let claims = token
        .claims(&verifier, &expected)
        .map_err(verification_error)?;
    if !provider.accepts_issuer(claims.issuer().as_str()) {
        return Err(FederationError::WrongIssuer(claims.issuer().to_string()));
    }
    // The crate leaves azp's "several audiences need an azp" rule out (OIDC Core issue
    // 973); Cognate keeps it: an ID token for several parties is refused.
    check_audience(&payload, &provider.client_id)?;
    Ok(payload)
}

/// The JOSE header and the claims of a compact JWS, as JSON (after the crate checked the
/// signature, the claims are those the IdP signed).
fn segments(compact: &str) -> Result<(Value, Value), FederationError> {
    let decode = |part: Option<&str>| -> Result<Value, FederationError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part.unwrap_or_default())
            .map_err(|e| FederationError::MalformedIdToken(e.to_string()))?;
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| FederationError::MalformedIdToken(e.to_string()))?;
        if value.is_object() {
            Ok(value)
        } else {
            Err(FederationError::MalformedIdToken(
                "not a JSON object".into(),
            ))
        }
    };
    let mut parts = compact.split('.');
    Ok((decode(parts.next())?, decode(parts.next())?))
}

/// The crate's verdict in Cognate's terms.
fn verification_error(error: ClaimsVerificationError) -> FederationError {
    match error {
        ClaimsVerificationError::Expired(why) if why == ISSUED_IN_FUTURE => {
            FederationError::IssuedInFuture
        }
        ClaimsVerificationError::Expired(_) => FederationError::Expired,
        ClaimsVerificationError::InvalidAudience(_) => FederationError::WrongAudience,
        ClaimsVerificationError::InvalidIssuer(iss) => FederationError::WrongIssuer(iss),
        ClaimsVerificationError::InvalidNonce(_) => FederationError::BadNonce,
        ClaimsVerificationError::SignatureVerification(e) => match e {
            SignatureVerificationError::NoMatchingKey => FederationError::UnknownKey,
            SignatureVerificationError::DisallowedAlg(alg)
            | SignatureVerificationError::UnsupportedAlg(alg) => {
                FederationError::UnsupportedAlgorithm(alg)
            }
            SignatureVerificationError::CryptoError(_) => FederationError::BadSignature,
            SignatureVerificationError::NoSignature => {
                FederationError::UnsupportedAlgorithm("none".into())
            }
            _ => FederationError::KeyMismatch,
        },
        other => FederationError::MalformedIdToken(other.to_string()),
    }
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
