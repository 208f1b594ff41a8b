//! The OAuth 2.0 / OIDC JSON endpoints: `POST /oauth2/token`, `GET|POST /oauth2/userInfo`,
//! `POST /oauth2/revoke`. Errors are RFC 6749 section 5.2 JSON (RFC 6750 section 3 for
//! userInfo), never a panic or a bare 500.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};

use super::cors;
use super::AppState;
use crate::core::model::AppClient;
use crate::core::now;
use crate::core::oauth::claims::userinfo_claims;
use crate::core::oauth::client_auth::{authenticate_client, AuthMethod, PresentedClient};
use crate::core::oauth::verify::verify_access_token;
use crate::core::oauth::{ErrorCode, OAuthError};
use crate::core::secrets::SecretString;
use crate::core::storage::UserRef;

/// An OAuth error as an HTTP response.
pub struct OAuthResponse {
    pub error: OAuthError,
    /// The client used HTTP Basic: `invalid_client` answers 401 with a challenge.
    pub basic: bool,
}

impl From<OAuthError> for OAuthResponse {
    fn from(error: OAuthError) -> Self {
        OAuthResponse {
            error,
            basic: false,
        }
    }
}

impl IntoResponse for OAuthResponse {
    fn into_response(self) -> Response {
        let status = match self.error.code {
            ErrorCode::InvalidClient if self.basic => StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        };
        let body = json!({
            "error": self.error.code.as_str(),
            "error_description": self.error.description,
        });
        let mut response = (status, no_store(), Json(body)).into_response();
        let challenge = match self.error.code {
            ErrorCode::InvalidClient if self.basic => Some("Basic realm=\"cognate\"".to_string()),
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => Some(format!(
                "Bearer realm=\"cognate\", error=\"{}\"",
                self.error.code.as_str()
            )),
            _ => None,
        };
        if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, v);
        }
        response
    }
}

/// RFC 6749 section 5.1: token responses must not be cached.
fn no_store() -> [(header::HeaderName, &'static str); 2] {
    [
        (header::CACHE_CONTROL, "no-store"),
        (header::PRAGMA, "no-cache"),
    ]
}

/// Parses an `application/x-www-form-urlencoded` body. A repeated parameter is an error
/// (RFC 6749 section 3.2).
pub fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<HashMap<String, String>, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.split(';').next().is_some_and(|t| {
        t.trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    }) {
        return Err(OAuthError::invalid_request(
            "The body must be application/x-www-form-urlencoded.",
        ));
    }
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if out.insert(k.to_string(), v.to_string()).is_some() {
            return Err(OAuthError::invalid_request(format!(
                "The parameter {k} is repeated."
            )));
        }
    }
    Ok(out)
}

/// Client credentials from `Authorization: Basic` (each part form-urlencoded, RFC 6749
/// section 2.3.1) or from the body; using both is refused.
fn presented_client(
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<PresentedClient, OAuthResponse> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        });
    if let Some(encoded) = basic {
        let fail = || OAuthResponse {
            error: OAuthError::invalid_client("Malformed Basic credentials."),
            basic: true,
        };
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(fail)?;
        let (id, secret) = decoded.split_once(':').ok_or_else(fail)?;
        let decode = |s: &str| -> String {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.to_string())
                .unwrap_or_default()
        };
        let (id, secret) = (decode(id), decode(secret));
        if form.contains_key("client_secret") || form.get("client_id").is_some_and(|f| f != &id) {
            return Err(OAuthResponse {
                error: OAuthError::invalid_request(
                    "Use one client authentication method, not two.",
                ),
                basic: true,
            });
        }
        return Ok(PresentedClient {
            client_id: id,
            secret: Some(SecretString::new(secret)),
            method: AuthMethod::Basic,
        });
    }
    let client_id = form
        .get("client_id")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| OAuthResponse::from(OAuthError::invalid_client("client_id is missing.")))?;
    Ok(PresentedClient {
        client_id: client_id.clone(),
        secret: form.get("client_secret").cloned().map(SecretString::new),
        method: AuthMethod::Post,
    })
}

async fn authenticated_client(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<AppClient, OAuthResponse> {
    let presented = presented_client(headers, form)?;
    authenticate_client(state.node.store.as_ref(), &state.node.master, &presented)
        .await
        .map_err(|error| OAuthResponse {
            error,
            basic: presented.method == AuthMethod::Basic,
        })
}

/// `POST /oauth2/token`.
pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let origin = cors::request_origin(&headers);
    let (client, result) = match token_inner(&state, &headers, &body).await {
        Ok((client, json)) => (Some(client), Ok(json)),
        Err((client, e)) => (client, Err(e)),
    };
    let response = match result {
        Ok(json) => (StatusCode::OK, no_store(), Json(json)).into_response(),
        Err(e) => e.into_response(),
    };
    with_client_cors(response, origin.as_deref(), client.as_ref())
}

type TokenResult = Result<(AppClient, Value), (Option<AppClient>, OAuthResponse)>;

async fn token_inner(state: &AppState, headers: &HeaderMap, body: &[u8]) -> TokenResult {
    let form = parse_form(headers, body).map_err(|e| (None, e.into()))?;
    let client = authenticated_client(state, headers, &form)
        .await
        .map_err(|e| (None, e))?;
    let now = now();
    let tokens = &state.node.tokens;
    let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    let result = match param("grant_type") {
        Some("authorization_code") => match param("code") {
            Some(code) => {
                tokens
                    .exchange_code(
                        &client,
                        code,
                        param("redirect_uri"),
                        param("code_verifier"),
                        now,
                    )
                    .await
            }
            None => Err(OAuthError::invalid_request("code is missing.")),
        },
        Some("refresh_token") => match param("refresh_token") {
            Some(rt) => tokens.refresh(&client, rt, &Default::default(), now).await,
            None => Err(OAuthError::invalid_request("refresh_token is missing.")),
        },
        Some("client_credentials") => {
            tokens
                .client_credentials(&client, param("scope"), now)
                .await
        }
        Some(_) => Err(OAuthError::new(
            ErrorCode::UnsupportedGrantType,
            "grant_type must be authorization_code, refresh_token or client_credentials.",
        )),
        None => Err(OAuthError::invalid_request("grant_type is missing.")),
    };
    match result {
        Ok(response) => match serde_json::to_value(&response) {
            Ok(v) => Ok((client, v)),
            Err(e) => Err((Some(client), OAuthError::server_error(e).into())),
        },
        Err(e) => Err((Some(client), e.into())),
    }
}

fn with_client_cors(
    response: Response,
    origin: Option<&str>,
    client: Option<&AppClient>,
) -> Response {
    match (origin, client) {
        (Some(o), Some(c)) if cors::client_allows(c, o) => cors::allow(response, Some(o)),
        _ => response,
    }
}

/// `OPTIONS` on the browser-callable endpoints.
pub async fn preflight(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let origin = cors::request_origin(&headers);
    let allowed = match &origin {
        Some(o) => state.origins.any_client_allows(&state.node.store, o).await,
        None => false,
    };
    cors::preflight(
        origin.as_deref(),
        allowed,
        &[Method::GET, Method::POST, Method::OPTIONS],
    )
}

/// `POST /oauth2/revoke` (RFC 7009): revokes a refresh token and its family. Always 200
/// for a token that is unknown or not the client's.
pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let origin = cors::request_origin(&headers);
    let result: Result<AppClient, (Option<AppClient>, OAuthResponse)> = async {
        let form = parse_form(&headers, &body).map_err(|e| (None, e.into()))?;
        let client = authenticated_client(&state, &headers, &form)
            .await
            .map_err(|e| (None, e))?;
        let Some(token) = form.get("token").filter(|t| !t.is_empty()) else {
            return Err((
                Some(client),
                OAuthError::invalid_request("token is missing.").into(),
            ));
        };
        match state.node.tokens.revoke(&client, token, now()).await {
            Ok(()) => Ok(client),
            Err(e) => Err((Some(client), e.into())),
        }
    }
    .await;
    match result {
        Ok(client) => with_client_cors(
            (StatusCode::OK, no_store()).into_response(),
            origin.as_deref(),
            Some(&client),
        ),
        Err((client, e)) => with_client_cors(e.into_response(), origin.as_deref(), client.as_ref()),
    }
}

/// `GET|POST /oauth2/userInfo` with a Bearer access token (RFC 6750 section 2.1).
pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let origin = cors::request_origin(&headers);
    let (client, result) = userinfo_inner(&state, &headers).await;
    let response = match result {
        Ok(body) => (StatusCode::OK, no_store(), Json(body)).into_response(),
        Err(e) => OAuthResponse::from(e).into_response(),
    };
    with_client_cors(response, origin.as_deref(), client.as_ref())
}

async fn userinfo_inner(
    state: &AppState,
    headers: &HeaderMap,
) -> (Option<AppClient>, Result<Value, OAuthError>) {
    let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return (
            None,
            Err(OAuthError::new(
                ErrorCode::InvalidToken,
                "An access token is required (Authorization: Bearer).",
            )),
        );
    };
    let now = now();
    let (pool_id, claims) = match verify_access_token(&state.node.tokens, token, now).await {
        Ok(v) => v,
        Err(e) => return (None, Err(e)),
    };
    // A deleted app client's tokens no longer answer (and its read_attributes are gone).
    let client = match state.node.store.get_client(&claims.client_id).await {
        Ok(Some(c)) if c.pool_id == pool_id => c,
        Ok(_) => {
            return (
                None,
                Err(OAuthError::new(
                    ErrorCode::InvalidToken,
                    "The token's app client no longer exists.",
                )),
            )
        }
        Err(e) => return (None, Err(e.into())),
    };
    if !claims.has_scope("openid") {
        return (
            Some(client),
            Err(OAuthError::new(
                ErrorCode::InsufficientScope,
                "userInfo needs the openid scope.",
            )),
        );
    }
    let user = match state
        .node
        .store
        .get_user(&pool_id, &UserRef::Sub(claims.sub.clone()))
        .await
    {
        Ok(Some(u)) if u.enabled => u,
        Ok(_) => {
            return (
                Some(client),
                Err(OAuthError::new(
                    ErrorCode::InvalidToken,
                    "The user is not active.",
                )),
            )
        }
        Err(e) => return (Some(client), Err(e.into())),
    };
    let pool = state.node.store.get_pool(&pool_id).await.ok().flatten();
    let body = userinfo_claims(pool.as_ref(), &client, &user, &claims.scope);
    (Some(client), Ok(Value::Object(body)))
}
