//! CORS for the endpoints single-page apps call from the browser (token, userInfo,
//! revoke): an origin is allowed for a client when the client lists it in
//! `allowed_cors_origins` or registers a callback URL on it (a SPA's callback is on its own
//! origin). Preflights carry no client id, so they are allowed for any origin some client
//! allows; the actual response then checks the specific client.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use url::Url;

use crate::core::model::AppClient;
use crate::core::storage::Store;

/// The origin (`scheme://host[:port]`) of a URL, as browsers send it.
pub fn origin_of(url: &str) -> Option<String> {
    let url = Url::parse(url).ok()?;
    match url.origin() {
        url::Origin::Tuple(..) => Some(url.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

/// Whether `client` may be called from `origin`.
pub fn client_allows(client: &AppClient, origin: &str) -> bool {
    client.allowed_cors_origins.iter().any(|o| o == origin)
        || client
            .callback_urls
            .iter()
            .any(|u| origin_of(u).as_deref() == Some(origin))
}

/// Remembers, for a minute, whether any client allows an origin.
#[derive(Clone)]
pub struct OriginCache {
    cache: moka::future::Cache<String, bool>,
}

impl Default for OriginCache {
    fn default() -> Self {
        OriginCache {
            cache: moka::future::Cache::builder()
                .time_to_live(Duration::from_secs(60))
                .max_capacity(10_000)
                .build(),
        }
    }
}

impl OriginCache {
    pub async fn any_client_allows(&self, store: &Arc<dyn Store>, origin: &str) -> bool {
        if let Some(hit) = self.cache.get(origin).await {
            return hit;
        }
        let mut allowed = false;
        if let Ok(pools) = store.list_pools().await {
            'pools: for pool in pools {
                if let Ok(clients) = store.list_clients(&pool.id).await {
                    for c in clients {
                        if client_allows(&c, origin) {
                            allowed = true;
                            break 'pools;
                        }
                    }
                }
            }
        }
        self.cache.insert(origin.to_string(), allowed).await;
        allowed
    }
}

/// The request's `Origin` header.
pub fn request_origin(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Adds `Access-Control-Allow-Origin` for an allowed origin.
pub fn allow(mut response: Response, origin: Option<&str>) -> Response {
    if let Some(value) = origin.and_then(|o| HeaderValue::from_str(o).ok()) {
        let h = response.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        h.append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

/// The answer to a preflight (`OPTIONS`) for an allowed origin; 403 otherwise.
pub fn preflight(origin: Option<&str>, allowed: bool, methods: &[Method]) -> Response {
    match origin {
        Some(o) if allowed => {
            let methods = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            let mut r = StatusCode::NO_CONTENT.into_response();
            let h = r.headers_mut();
            if let Ok(v) = HeaderValue::from_str(o) {
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
            }
            if let Ok(v) = HeaderValue::from_str(&methods) {
                h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, v);
            }
            h.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static(
                    "authorization, content-type, x-amz-target, x-amz-user-agent",
                ),
            );
            h.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("600"),
            );
            h.append(header::VARY, HeaderValue::from_static("Origin"));
            r
        }
        _ => StatusCode::FORBIDDEN.into_response(),
    }
}
