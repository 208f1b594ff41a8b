//! OpenID Connect discovery (OpenID Connect Discovery 1.0 section 4) and the JWKS
//! (RFC 7517), per pool, at Cognito's paths: `/<poolId>/.well-known/openid-configuration`
//! and `/<poolId>/.well-known/jwks.json`; and the same two documents for the identity
//! service's issuer (`/identity/.well-known/...`, [`crate::core::identity_pools::openid`]),
//! which is what an AWS IAM OIDC identity provider reads.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{ApiError, AppState};
use crate::core::ids::is_valid_pool_id;

async fn known_pool(state: &AppState, pool_id: &str) -> Result<(), ApiError> {
    if !is_valid_pool_id(pool_id) || state.node.store.get_pool(pool_id).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "User pool {pool_id} does not exist."
        )));
    }
    Ok(())
}

/// The discovery document. Endpoints are at the root of the public URL, as Cognito's are
/// on the pool's domain; the issuer is `<public URL>/<poolId>`.
pub async fn openid_configuration(
    State(state): State<AppState>,
    Path(pool_id): Path<String>,
) -> Result<Response, ApiError> {
    known_pool(&state, &pool_id).await?;
    let base = state.node.config.public_url();
    let issuer = state.node.issuer(&pool_id);
    let doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{base}/oauth2/authorize"),
        "token_endpoint": format!("{base}/oauth2/token"),
        "userinfo_endpoint": format!("{base}/oauth2/userInfo"),
        "revocation_endpoint": format!("{base}/oauth2/revoke"),
        "end_session_endpoint": format!("{base}/logout"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code", "token"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", "implicit"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"],
        "claims_supported": [
            "sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash",
            "email", "email_verified", "phone_number", "phone_number_verified",
            "name", "given_name", "family_name", "middle_name", "nickname",
            "preferred_username", "profile", "picture", "website", "gender",
            "birthdate", "zoneinfo", "locale", "address", "updated_at",
            "cognito:username", "cognito:groups", "identities"
        ],
        "request_parameter_supported": false,
        "authorization_response_iss_parameter_supported": true,
    });
    Ok(([(header::CACHE_CONTROL, "public, max-age=3600")], Json(doc)).into_response())
}

/// The pool's public keys: the active ID- and access-token keys and retired keys whose
/// tokens may still be alive.
pub async fn jwks(
    State(state): State<AppState>,
    Path(pool_id): Path<String>,
) -> Result<Response, ApiError> {
    known_pool(&state, &pool_id).await?;
    let jwks = state.node.keys.jwks(&pool_id, crate::core::now()).await?;
    // Verifiers refetch on an unknown kid, so a short max-age is enough for rotation.
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(jwks)).into_response())
}

/// The identity service's discovery document: only what a relying party of its tokens
/// needs (it has no authorization or token endpoint; tokens come from GetOpenIdToken).
/// AWS IAM's OIDC provider reads `issuer` and `jwks_uri` from it.
pub async fn identity_openid_configuration(
    State(state): State<AppState>,
) -> Result<Response, ApiError> {
    let issuer = state.node.identity_tokens.issuer();
    let doc = json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "amr", "iat", "exp", "jti"],
    });
    Ok(([(header::CACHE_CONTROL, "public, max-age=3600")], Json(doc)).into_response())
}

/// The identity service's public keys: the active key (made here if none exists yet, so
/// a relying party set up before the first token finds one) and retired keys whose tokens
/// may still be alive.
pub async fn identity_jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let now = crate::core::now();
    let tokens = &state.node.identity_tokens;
    tokens.ensure_key(now).await.map_err(identity_error)?;
    let jwks = tokens.jwks(now).await.map_err(identity_error)?;
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(jwks)).into_response())
}

/// Any failure to read or make the identity keys is the server's (or the store's), logged,
/// not shown.
fn identity_error(e: crate::core::identity_pools::openid::OpenIdError) -> ApiError {
    use crate::core::identity_pools::openid::OpenIdError;
    match e {
        OpenIdError::Store(s) => s.into(),
        OpenIdError::Keys(k) => k.into(),
        other => ApiError::internal(other),
    }
}
