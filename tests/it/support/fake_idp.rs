//! What the fake identity providers share: the RSA keys an OpenID provider signs its ID
//! tokens with (one published in its JWKS, one never published), the ways a test bends
//! the provider ([`Bendable`]: a [`TokenMode`], claim overrides, an error instead of a
//! code), and the first check of an authorization request. [`super::fake_oidc`] and [`super::fake_apple`] sign with these; the plain
//! OAuth 2.0 fakes of [`super::fake_oauth2`] share only the authorize check.

use std::collections::HashMap;

use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Map, Value};

/// What the token endpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenMode {
    /// A correct RS256 ID token (with the configured overrides).
    #[default]
    Normal,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 with the IdP's public key (DER) as the HMAC secret.
    Hs256PublicKey,
    /// Signed by another key, under a `kid` the JWKS does not have.
    UnknownKid,
    /// 200 with a body that is not JSON.
    Garbage,
    /// Never answers.
    Hang,
}

/// How a test has bent a fake IdP to play an attacker; the default is a well-behaved IdP.
#[derive(Default)]
pub struct Bends {
    /// Claims overriding the ID token's computed ones; `null` removes a claim.
    pub overrides: Map<String, Value>,
    /// How the ID token is signed, or how the token endpoint misbehaves.
    pub mode: TokenMode,
    /// The OAuth error the authorize endpoint answers with instead of a code.
    pub authorize_error: Option<String>,
}

/// The attacker's knobs of a fake ID token issuer, which only has to say where its
/// [`Bends`] are.
pub trait Bendable {
    /// Applies `change` to the fake's bends.
    fn bend(&self, change: impl FnOnce(&mut Bends));

    /// Claims overriding the ID token's computed ones (`aud`, `iss`, `exp`, `iat`,
    /// `nonce`...); `null` removes a claim.
    fn set_overrides(&self, overrides: Value) {
        self.bend(|b| b.overrides = overrides.as_object().cloned().unwrap_or_default());
    }

    /// How the ID tokens are signed, or how the token endpoint misbehaves.
    fn set_mode(&self, mode: TokenMode) {
        self.bend(|b| b.mode = mode);
    }

    /// The authorize endpoint answers with this OAuth error instead of a code (Apple
    /// posts it with `state` only, as it does with `user_cancelled_authorize`).
    fn set_authorize_error(&self, error: Option<&str>) {
        self.bend(|b| b.authorize_error = error.map(str::to_string));
    }

    /// Back to a well-behaved IdP (its user, and what it remembers, stay).
    fn reset(&self) {
        self.bend(|b| *b = Bends::default());
    }
}

/// An IdP's ID token signing keys: `key` under `kid` (published), and `other_key`, which
/// signs the tokens of [`TokenMode::UnknownKid`] and is never published.
pub struct SigningKeys {
    key: RsaKeyPair,
    other_key: RsaKeyPair,
    kid: String,
}

impl SigningKeys {
    /// Two fresh RSA-2048 keys; the published one goes by `kid`.
    pub fn generate(kid: &str) -> SigningKeys {
        let generate =
            || RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA key generation");
        SigningKeys {
            key: generate(),
            other_key: generate(),
            kid: kid.to_string(),
        }
    }

    /// The JWKS document (RFC 7517 section 5) publishing the signing key.
    pub fn jwks(&self) -> Value {
        let public = self.key.public_key();
        json!({ "keys": [{
            "kty": "RSA", "use": "sig", "alg": "RS256", "kid": self.kid,
            "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
            "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        }]})
    }

    /// `claims` as a compact JWS (RFC 7515) signed as `mode` says: RS256 under the
    /// published key unless the mode plays an attacker. `header` holds the header fields
    /// besides `alg` and `kid` (Google's tokens carry `typ`, Apple's do not).
    pub fn sign(&self, mode: TokenMode, header: &Value, claims: &Value) -> String {
        let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
        let header_with = |alg: &str, kid: &str| {
            let mut h = header.as_object().cloned().unwrap_or_default();
            h.insert("alg".into(), json!(alg));
            h.insert("kid".into(), json!(kid));
            b64(&Value::Object(h))
        };
        let payload = b64(claims);
        let rsa = |key: &RsaKeyPair, kid: &str| {
            let input = format!("{}.{payload}", header_with("RS256", kid));
            let mut sig = vec![0u8; key.public_modulus_len()];
            key.sign(
                &RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .unwrap();
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
        };
        match mode {
            TokenMode::AlgNone => format!("{}.{payload}.", header_with("none", &self.kid)),
            TokenMode::Hs256PublicKey => {
                // The confusion attack: the HMAC secret is the public key a verifier holds.
                let input = format!("{}.{payload}", header_with("HS256", &self.kid));
                let key = aws_lc_rs::hmac::Key::new(
                    aws_lc_rs::hmac::HMAC_SHA256,
                    self.key.public_key().as_ref(),
                );
                let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
                format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
            }
            TokenMode::UnknownKid => rsa(&self.other_key, "rotated-away"),
            _ => rsa(&self.key, &self.kid),
        }
    }
}

/// An ID token's claims: the ones the IdP computed (`iss`, `sub`, `aud`, times, `nonce`),
/// then the user's `claims`, then the test's `overrides`, where `null` removes a claim.
pub fn id_token_claims(
    mut computed: Map<String, Value>,
    claims: &Map<String, Value>,
    overrides: &Map<String, Value>,
) -> Value {
    for (k, v) in claims {
        computed.insert(k.clone(), v.clone());
    }
    for (k, v) in overrides {
        if v.is_null() {
            computed.remove(k);
        } else {
            computed.insert(k.clone(), v.clone());
        }
    }
    Value::Object(computed)
}

/// The first check of an authorization request (RFC 6749 section 4.1.1): `redirect_uri`
/// and `client_id` present, the client known, `response_type=code`. The redirect URI, or
/// the 400 a real provider shows instead of redirecting anywhere.
pub fn authorize_request(
    q: &HashMap<String, String>,
    client_id: &str,
) -> Result<String, (StatusCode, &'static str)> {
    let (Some(redirect_uri), Some(client)) = (q.get("redirect_uri"), q.get("client_id")) else {
        return Err((
            StatusCode::BAD_REQUEST,
            "redirect_uri and client_id are required",
        ));
    };
    if client != client_id || q.get("response_type").map(String::as_str) != Some("code") {
        return Err((StatusCode::BAD_REQUEST, "unknown client or response_type"));
    }
    Ok(redirect_uri.clone())
}
