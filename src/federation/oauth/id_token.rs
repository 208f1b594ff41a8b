//! Strict validation of an upstream ID token (OpenID Connect Core 1.0 section 3.1.3.7).
//!
//! The signature is checked by `jsonwebtoken` (the same crate and aws-lc-rs stack that
//! checks Cognate's own tokens) with a key of the IdP's JWKS: RS256 or ES256 only, and only
//! with a key whose type, `use` and `alg` fit (never `none`, never HS256, which would turn
//! the IdP's public key into an HMAC secret). The JWKS is refetched on an unknown `kid`,
//! rate limited by [`IdpHttp`].
//!
//! The claims are then checked here, on the JSON object the IdP signed: `iss` (the issuer
//! or one of its other spellings, such as Google's scheme-less `accounts.google.com`, which
//! is no URL and so cannot go through a parser that types `iss` as one), `aud`/`azp`,
//! `exp` and `iat` against the injected time with [`CLOCK_SKEW_SECS`] of tolerance, `nbf`
//! when present, and the flow's `nonce` (compared in constant time). The mapping then reads
//! any claim, not only the standard ones.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::{
    AlgorithmParameters, EllipticCurve, EllipticCurveKeyParameters, Jwk, KeyAlgorithm, PublicKeyUse,
};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::core::model::{IdentityProvider, OidcSettings};
use crate::core::secrets::constant_time_eq;
use crate::core::UnixTime;
use crate::federation::error::FederationError;
use crate::federation::http::IdpHttp;

/// Clock difference tolerated between Cognate and the IdP for `exp`, `iat` and `nbf`.
pub const CLOCK_SKEW_SECS: i64 = 60;

/// OIDC Core 3.1.3.7: signature (RS256/ES256 by a JWKS key), `iss`, `aud`/`azp`, `exp`,
/// `iat`, `nbf` and `nonce`. Returns the token's claims.
pub async fn verify(
    http: &IdpHttp,
    provider: &IdentityProvider,
    oidc: &OidcSettings,
    jwks_url: &str,
    token: &str,
    nonce: &str,
    now: UnixTime,
) -> Result<Value, FederationError> {
    let (header, _) = segments(token)?;
    let alg = match header.get("alg").and_then(Value::as_str) {
        Some("RS256") => Algorithm::RS256,
        Some("ES256") => Algorithm::ES256,
        other => {
            return Err(FederationError::UnsupportedAlgorithm(
                other.unwrap_or("none").to_string(),
            ))
        }
    };
    let kid = header.get("kid").and_then(Value::as_str);
    let jwks = http.jwks(jwks_url, kid).await?;
    let jwk = signing_key(&jwks, kid, alg)?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| FederationError::KeyMismatch)?;
    let claims = jsonwebtoken::decode::<Value>(token, &key, &signature_only(alg))
        .map_err(|e| match e.kind() {
            ErrorKind::InvalidSignature => FederationError::BadSignature,
            ErrorKind::InvalidAlgorithm
            | ErrorKind::InvalidKeyFormat
            | ErrorKind::InvalidRsaKey(_)
            | ErrorKind::InvalidEcdsaKey => FederationError::KeyMismatch,
            _ => FederationError::MalformedIdToken(e.to_string()),
        })?
        .claims;
    if !claims.is_object() {
        return Err(FederationError::MalformedIdToken(
            "the claims are not a JSON object".into(),
        ));
    }
    check_claims(provider, oidc, &claims, nonce, now)?;
    Ok(claims)
}

/// The claims once the signature holds: issuer, audience, times, nonce.
fn check_claims(
    provider: &IdentityProvider,
    oidc: &OidcSettings,
    claims: &Value,
    nonce: &str,
    now: UnixTime,
) -> Result<(), FederationError> {
    let iss = claims
        .get("iss")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !oidc.accepts_issuer(iss) {
        return Err(FederationError::WrongIssuer(
            iss.chars().take(200).collect(),
        ));
    }
    check_audience(claims, &provider.client_id)?;
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    match time("exp") {
        Some(exp) if exp.saturating_add(CLOCK_SKEW_SECS) > now => {}
        Some(_) => return Err(FederationError::Expired),
        None => return Err(FederationError::MalformedIdToken("no exp".into())),
    }
    match time("iat") {
        Some(iat) if iat <= now.saturating_add(CLOCK_SKEW_SECS) => {}
        Some(_) => return Err(FederationError::IssuedInFuture),
        None => return Err(FederationError::MalformedIdToken("no iat".into())),
    }
    if time("nbf").is_some_and(|nbf| nbf > now.saturating_add(CLOCK_SKEW_SECS)) {
        return Err(FederationError::IssuedInFuture);
    }
    let signed_nonce = claims.get("nonce").and_then(Value::as_str);
    if !signed_nonce.is_some_and(|n| constant_time_eq(n.as_bytes(), nonce.as_bytes())) {
        return Err(FederationError::BadNonce);
    }
    Ok(())
}

/// `jsonwebtoken` checks the signature and the algorithm only; the claims are checked by
/// [`check_claims`] against the injected time.
fn signature_only(alg: Algorithm) -> Validation {
    let mut validation = Validation::new(alg);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    validation
}

/// The JWKS key that signed a token with `kid` (or, without one, the single key that
/// fits `alg`). A key of another type, or declared for encryption or another algorithm,
/// is refused: an IdP's key serves the purpose it publishes.
fn signing_key(jwks: &Value, kid: Option<&str>, alg: Algorithm) -> Result<Jwk, FederationError> {
    // Keys are read one by one, so a key of a kind this crate does not know (an IdP may
    // publish encryption keys beside its signing keys) does not hide the others.
    let keys: Vec<Jwk> = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|keys| {
            keys.iter()
                .filter_map(|k| serde_json::from_value(k.clone()).ok())
                .collect()
        })
        .unwrap_or_default();
    let fits = |key: &Jwk| {
        let kty_fits = matches!(
            (&key.algorithm, alg),
            (AlgorithmParameters::RSA(_), Algorithm::RS256)
                | (
                    AlgorithmParameters::EllipticCurve(EllipticCurveKeyParameters {
                        curve: EllipticCurve::P256,
                        ..
                    }),
                    Algorithm::ES256
                )
        );
        let use_fits = matches!(
            key.common.public_key_use,
            None | Some(PublicKeyUse::Signature)
        );
        let alg_fits = match key.common.key_algorithm {
            None => true,
            Some(KeyAlgorithm::RS256) => alg == Algorithm::RS256,
            Some(KeyAlgorithm::ES256) => alg == Algorithm::ES256,
            Some(_) => false,
        };
        kty_fits && use_fits && alg_fits
    };
    let key = match kid {
        Some(kid) => {
            let key = keys
                .into_iter()
                .find(|k| k.common.key_id.as_deref() == Some(kid))
                .ok_or(FederationError::UnknownKey)?;
            if !fits(&key) {
                return Err(FederationError::KeyMismatch);
            }
            key
        }
        None => {
            let mut fitting = keys.into_iter().filter(fits);
            match (fitting.next(), fitting.next()) {
                (Some(key), None) => key,
                _ => return Err(FederationError::UnknownKey),
            }
        }
    };
    Ok(key)
}

/// The JOSE header and the claims of a compact JWS, as JSON (unverified: the header
/// chooses the key, and nothing of the claims is used before the signature holds).
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
    let (header, claims) = (decode(parts.next())?, decode(parts.next())?);
    if parts.next().is_none() || parts.next().is_some() {
        return Err(FederationError::MalformedIdToken(
            "not a compact JWS of three parts".into(),
        ));
    }
    Ok((header, claims))
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

    fn rsa(kid: &str, extra: Value) -> Value {
        let mut key = json!({"kty": "RSA", "kid": kid, "n": "sXch", "e": "AQAB"});
        key.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        key
    }

    #[test]
    fn keys_must_fit_the_algorithm_and_their_declared_use() {
        let ec = json!({"kty": "EC", "kid": "e", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        let jwks = json!({"keys": [
            rsa("r", json!({})),
            rsa("enc", json!({"use": "enc"})),
            rsa("ps", json!({"alg": "PS256"})),
            ec,
            {"kty": "weird", "kid": "w"},
        ]});
        let kid = |k: &str, alg| signing_key(&jwks, Some(k), alg).map(|j| j.common.key_id);
        assert_eq!(kid("r", Algorithm::RS256).unwrap().as_deref(), Some("r"));
        assert_eq!(kid("e", Algorithm::ES256).unwrap().as_deref(), Some("e"));
        assert!(matches!(
            kid("r", Algorithm::ES256),
            Err(FederationError::KeyMismatch)
        ));
        assert!(matches!(
            kid("e", Algorithm::RS256),
            Err(FederationError::KeyMismatch)
        ));
        assert!(matches!(
            kid("enc", Algorithm::RS256),
            Err(FederationError::KeyMismatch)
        ));
        assert!(matches!(
            kid("ps", Algorithm::RS256),
            Err(FederationError::KeyMismatch)
        ));
        assert!(matches!(
            kid("nope", Algorithm::RS256),
            Err(FederationError::UnknownKey)
        ));
        // ES256 is P-256 only: a P-384 key does not fit it.
        let p384 = json!({"keys": [{"kty": "EC", "kid": "p384", "crv": "P-384",
            "x": "iA7lWQLzVrKGEFjfGMfMHfTEZ2KnLezo4NzyWrL-6KXu8E4jRPIVJBMIQv1PaWGg",
            "y": "2ZrNXvGvVQQg6hVKbgCSEtKZHcWdQ2eaWvm3A3Yt-5LNhOqB5eV9JBNYRUHeAPjv"}]});
        assert!(matches!(
            signing_key(&p384, Some("p384"), Algorithm::ES256),
            Err(FederationError::KeyMismatch)
        ));
        // Without a kid: the one key that fits, or none at all.
        let one = signing_key(&jwks, None, Algorithm::ES256).unwrap();
        assert_eq!(one.common.key_id.as_deref(), Some("e"));
        let two = json!({"keys": [rsa("a", json!({})), rsa("b", json!({}))]});
        assert!(matches!(
            signing_key(&two, None, Algorithm::RS256),
            Err(FederationError::UnknownKey)
        ));
    }

    #[test]
    fn a_token_must_have_three_parts() {
        let part = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let (h, c) = (part(json!({"alg": "RS256"})), part(json!({"sub": "1"})));
        assert!(segments(&format!("{h}.{c}.sig")).is_ok());
        assert!(segments(&format!("{h}.{c}")).is_err());
        assert!(segments(&format!("{h}.{c}.sig.more")).is_err());
        assert!(segments(&format!("{h}.{}.sig", part(json!([1])))).is_err());
    }
}
