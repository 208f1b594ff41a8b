//! `POST /iam/authorize`: the authorization check for resource servers (issue 12, item 5),
//! over [`crate::core::identity_pools::authorize`].
//!
//! **Who may call it.** Resource servers only, authenticated with an admin key
//! ([`crate::core::admin_keys`]) of purpose `authorize` (or `operator`) sent as HTTP Basic
//! (RFC 7617): `Authorization: Basic base64(<access key id>:<secret>)`. The secret is
//! compared in constant time ([`crate::core::secrets::constant_time_eq`]) with the key's
//! secret opened from the store (so a deleted key stops at its next call, on every node).
//! Basic rather than SigV4: a resource server checks many requests, and Basic costs one
//! compare where SigV4 would cost a canonical request and five HMACs per call; the endpoint
//! must be reached over TLS (or a private network), as every Basic-authenticated one. A
//! missing, malformed or wrong credential is `401` with `WWW-Authenticate: Basic
//! realm="cognate-authorize"` and `{"error":"unauthorized","message":...}`; an unknown
//! key id and a wrong secret are answered alike.
//!
//! **Input** (JSON, unknown fields refused):
//!
//! ```json
//! {
//!   "request": {
//!     "method": "PUT", "path": "/files/a%20b", "query": "x=1",
//!     "headers": [["host", "files.example"], ["x-amz-date", "..."], ["authorization", "..."]],
//!     "body_sha256": "<64 lowercase hex>"          // or "body_base64": "<the body>"
//!   },
//!   "service": "files", "region": "us-east-1",
//!   "action": "files:PutObject", "resource": "arn:cognate:files:::<key>"
//! }
//! ```
//!
//! `path` and `query` are raw, as received (still percent-encoded); `headers` every header
//! as received, in order. Exactly one of `body_sha256` / `body_base64`. Malformed input is
//! `400` with `{"error":"bad_request","message":<what and where>}`.
//!
//! **Output** (`200`): `{"decision":"Allow","principal":{identity_id, identity_pool_id,
//! role_arn, authenticated, access_key_id, user_pool_id?, user_sub?}}` or
//! `{"decision":"Deny"}`, with no word on which part failed: the reason is logged
//! (`authorization check denied`, with the reason and the access key id). A store failure
//! is `503` (`{"error":"unavailable"}`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use crate::core::identity_pools::authorize::{Check, CheckRequest, Payload};
use crate::core::secrets::constant_time_eq;
use crate::web::AppState;

/// The route.
pub const PATH: &str = "/iam/authorize";
/// At most this many forwarded headers.
pub const MAX_HEADERS: usize = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    request: ForwardedRequest,
    service: String,
    region: String,
    action: String,
    resource: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ForwardedRequest {
    method: String,
    path: String,
    #[serde(default)]
    query: String,
    headers: Vec<(String, String)>,
    #[serde(default)]
    body_sha256: Option<String>,
    #[serde(default)]
    body_base64: Option<String>,
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let mut r = (
        status,
        json!({ "error": code, "message": message }).to_string(),
    )
        .into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn unauthorized(message: &str) -> Response {
    let mut r = error(StatusCode::UNAUTHORIZED, "unauthorized", message);
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"cognate-authorize\""),
    );
    r
}

fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, "bad_request", message)
}

/// The `(access key id, secret)` of a Basic `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

/// Whether the Basic credentials name an admin key (either purpose) with that secret.
async fn caller_allowed(state: &AppState, headers: &HeaderMap) -> Result<bool, Response> {
    let Some((id, secret)) = basic_credentials(headers) else {
        return Ok(false);
    };
    match state.admin_keys.lookup_secret(&id).await {
        // Both purposes may check; `authorize` may do nothing else.
        Ok(Some((stored, _purpose))) => Ok(constant_time_eq(
            stored.expose().as_bytes(),
            secret.as_bytes(),
        )),
        Ok(None) => Ok(false),
        Err(e) => {
            tracing::error!(error = %e, "authorization check: admin key lookup failed");
            Err(error(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "try again",
            ))
        }
    }
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `POST /iam/authorize`.
pub async fn check(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match caller_allowed(&state, &headers).await {
        Ok(true) => {}
        Ok(false) => {
            return unauthorized("send an admin key of purpose authorize or operator as HTTP Basic")
        }
        Err(r) => return r,
    }
    let input: Input = match serde_json::from_slice(&body) {
        Ok(i) => i,
        Err(e) => return bad_request(&format!("the body is not a valid check request: {e}")),
    };
    let r = &input.request;
    if r.headers.len() > MAX_HEADERS {
        return bad_request(&format!("request.headers: at most {MAX_HEADERS} headers"));
    }
    if r.method.is_empty() || !r.path.starts_with('/') {
        return bad_request("request.method must be set and request.path start with '/'");
    }
    if input.service.is_empty() || input.region.is_empty() {
        return bad_request("service and region must be set");
    }
    if input
        .action
        .split_once(':')
        .is_none_or(|(s, a)| s.is_empty() || a.is_empty())
    {
        return bad_request("action must be service:Action");
    }
    if input.resource.is_empty() {
        return bad_request("resource must be set");
    }
    let decoded;
    let payload = match (&r.body_sha256, &r.body_base64) {
        (Some(h), None) => {
            if !is_sha256_hex(h) {
                return bad_request("request.body_sha256 must be 64 lowercase hex digits");
            }
            Payload::Sha256Hex(h)
        }
        (None, Some(b)) => match STANDARD.decode(b) {
            Ok(bytes) => {
                decoded = bytes;
                Payload::Body(&decoded)
            }
            Err(_) => return bad_request("request.body_base64 is not standard base64"),
        },
        _ => return bad_request("send exactly one of request.body_sha256 and request.body_base64"),
    };
    let req = CheckRequest {
        method: &r.method,
        path: &r.path,
        query: &r.query,
        headers: &r.headers,
        payload,
        service: &input.service,
        region: &input.region,
        action: &input.action,
        resource: &input.resource,
    };
    let outcome = match state.authorizer.check(&req, crate::core::now()).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "authorization check: store failed");
            return error(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again");
        }
    };
    let body = match outcome {
        Check::Allow(principal) => json!({ "decision": "Allow", "principal": principal }),
        Check::Deny(reason) => {
            tracing::info!(?reason, action = %input.action, "authorization check denied");
            json!({ "decision": "Deny" })
        }
    };
    let mut response = (StatusCode::OK, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_parse() {
        let mut h = HeaderMap::new();
        assert_eq!(basic_credentials(&h), None);
        let v = format!("Basic {}", STANDARD.encode("AKID:se:cret"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&v).unwrap());
        assert_eq!(
            basic_credentials(&h),
            Some(("AKID".into(), "se:cret".into()))
        );
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer x"));
        assert_eq!(basic_credentials(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!"));
        assert_eq!(basic_credentials(&h), None);
    }

    #[test]
    fn hashes_are_lowercase_hex() {
        assert!(is_sha256_hex(&"a".repeat(64)));
        assert!(!is_sha256_hex(&"A".repeat(64)));
        assert!(!is_sha256_hex(&"a".repeat(63)));
    }
}
