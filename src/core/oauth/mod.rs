//! The OAuth 2.0 / OpenID Connect provider core: authorization requests, codes, tokens,
//! refresh-token families, revocation and access-token verification. Protocol rules are
//! here; HTTP parsing and rendering are in [`crate::web`].
//!
//! - [`authorize`]: validating `/oauth2/authorize` (RFC 6749 section 4.1.1, OIDC Core 3.1.2.1,
//!   RFC 7636 PKCE).
//! - [`tokens`]: Cognito-shaped ID and access tokens, opaque refresh tokens.
//! - [`grants`]: the token endpoint's grants and revocation (RFC 6749 sections 4.1.3, 4.4, 6;
//!   RFC 7009).
//! - [`claims`]: the attributes released to userInfo (by scope and `ReadAttributes`).
//! - [`verify`]: checking Cognate's own access tokens (userInfo, later the APIs).
//! - [`client_auth`]: client authentication (RFC 6749 section 2.3.1), constant time.

use serde::{Deserialize, Serialize};

pub mod authorize;
pub mod claims;
pub mod client_auth;
pub mod grants;
pub mod tokens;
pub mod verify;

/// The OIDC scopes Cognito knows besides resource-server scopes. The one list: the
/// administration service's scope check ([`crate::core::admin::clients`]) reads it for the
/// configuration file, the CLI and the API alike.
pub const STANDARD_SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// RFC 6749 section 5.2 (token endpoint) and 4.1.2.1 (authorization endpoint) error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    InvalidRequest,
    InvalidClient,
    InvalidGrant,
    UnauthorizedClient,
    UnsupportedGrantType,
    UnsupportedResponseType,
    InvalidScope,
    AccessDenied,
    ServerError,
    TemporarilyUnavailable,
    /// OIDC Core 3.1.2.6: `prompt=none` and no session.
    LoginRequired,
    /// RFC 6750 section 3.1 (userInfo).
    InvalidToken,
    InsufficientScope,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
        }
    }
}

/// An OAuth error with its RFC 6749 code and a description safe to show the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {description}", code.as_str())]
pub struct OAuthError {
    pub code: ErrorCode,
    pub description: String,
    /// A trigger webhook refused (Cognito's `UserLambdaValidationException` in the API).
    pub trigger_refused: bool,
}

impl OAuthError {
    pub fn new(code: ErrorCode, description: impl Into<String>) -> Self {
        OAuthError {
            code,
            description: description.into(),
            trigger_refused: false,
        }
    }

    /// A trigger's failure: `invalid_request` with Cognito's message ("PreTokenGeneration
    /// failed with error ..."); its signing secret failing is a server error.
    pub fn trigger(e: crate::core::triggers::TriggerError) -> Self {
        match e {
            crate::core::triggers::TriggerError::Failed { .. } => OAuthError {
                trigger_refused: true,
                ..Self::invalid_request(e.to_string())
            },
            crate::core::triggers::TriggerError::Internal(_) => Self::server_error(e),
        }
    }

    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }

    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }

    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }

    pub fn server_error(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "oauth server error");
        Self::new(ErrorCode::ServerError, "An internal error occurred.")
    }

    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %detail, "oauth dependency unavailable");
        Self::new(
            ErrorCode::TemporarilyUnavailable,
            "The service is temporarily unavailable.",
        )
    }
}

impl From<crate::core::storage::StoreError> for OAuthError {
    fn from(e: crate::core::storage::StoreError) -> Self {
        match e {
            crate::core::storage::StoreError::Unavailable(_) => OAuthError::unavailable(e),
            other => OAuthError::server_error(other),
        }
    }
}

impl From<crate::core::keys::KeyError> for OAuthError {
    fn from(e: crate::core::keys::KeyError) -> Self {
        OAuthError::server_error(e)
    }
}

/// Splits a space-separated scope string (RFC 6749 section 3.3), dropping duplicates and
/// keeping order.
pub fn parse_scopes(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split(' ').filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_string());
        }
    }
    out
}

/// The first of `scopes` naming a resource-server scope (`<identifier>/<name>`) that the
/// pool's resource servers no longer define, if any. A client's allowed scopes are pruned
/// when a scope goes (the administration service does it), but that write may lose a race
/// with an update of the client or fail half way; granting checks the live definition too,
/// so a removed scope is never granted.
pub async fn retired_scope(
    store: &dyn crate::core::storage::Store,
    pool_id: &str,
    scopes: &[String],
) -> crate::core::storage::StoreResult<Option<String>> {
    if !scopes.iter().any(|s| s.contains('/')) {
        return Ok(None);
    }
    let servers = store.list_resource_servers(pool_id).await?;
    let defined = |scope: &str| {
        servers.iter().any(|rs| {
            scope
                .strip_prefix(rs.identifier.as_str())
                .and_then(|rest| rest.strip_prefix('/'))
                .is_some_and(|name| rs.scopes.iter().any(|s| s.name == name))
        })
    };
    Ok(scopes
        .iter()
        .find(|s| s.contains('/') && !defined(s))
        .cloned())
}

/// SHA-256, base64url: how codes, refresh tokens and sessions are keyed in the store, so a
/// database leak reveals no usable token.
pub fn token_hash(token: &str) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest.as_ref())
}
