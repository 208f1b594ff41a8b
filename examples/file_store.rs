//! A small resource server guarded by Cognate's authorization check (issue 12, item 5).
//!
//! ```sh
//! COGNATE_URL=http://127.0.0.1:8080 COGNATE_AUTHORIZE_KEY_ID=<id> \
//! COGNATE_AUTHORIZE_SECRET=<secret> FILES_LISTEN=127.0.0.1:9000 FILES_REGION=us-east-1 \
//!   cargo run --example file_store
//! ```
//!
//! It serves files kept in memory:
//! - `PUT /files/{key...}` (`files:PutObject`), `GET /files/{key...}` (`files:GetObject`),
//!   `DELETE /files/{key...}` (`files:DeleteObject`), each on resource
//!   `arn:cognate:files:::<key>` (the key percent-decoded);
//! - `GET /files?prefix=<p>` (`files:ListBucket` on `arn:cognate:files:::<p>`): the keys
//!   starting with `p`, one a line.
//!
//! Every request must be SigV4-signed by the caller with credentials vended by Cognate
//! (service `files`, the configured region), as an AWS SDK or `aws-sigv4` signs. The
//! server cannot verify that itself: it forwards the request's canonical parts (method,
//! raw path and query, every header, the body's SHA-256) to Cognate's `POST
//! /iam/authorize`, authenticated as a resource server with an admin key of purpose
//! `authorize` (HTTP Basic). `Allow` serves the request; `Deny` is `403`; an unreachable
//! or failing Cognate is `503` (fail closed).
//!
//! The test binary runs it in-process: `tests/it/authorize` includes this file with
//! `#[path]` and calls [`serve`].

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::digest;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use percent_encoding::percent_decode_str;

/// How the file server reaches Cognate.
#[derive(Clone)]
pub struct FileStoreConfig {
    /// Cognate's base URL (`http://127.0.0.1:8080`).
    pub cognate_url: String,
    /// An admin key of purpose `authorize`.
    pub key_id: String,
    pub secret: String,
    /// The region callers sign for.
    pub region: String,
}

#[derive(Clone)]
struct Files {
    config: Arc<FileStoreConfig>,
    http: reqwest::Client,
    files: Arc<Mutex<BTreeMap<String, Bytes>>>,
}

/// The SigV4 service name callers sign for.
pub const SERVICE: &str = "files";

/// The router: every path goes through [`handle`].
pub fn app(config: FileStoreConfig) -> Router {
    cognate::federation::http::install_crypto_provider();
    let state = Files {
        config: Arc::new(config),
        http: reqwest::Client::new(),
        files: Arc::new(Mutex::new(BTreeMap::new())),
    };
    Router::new().fallback(handle).with_state(state)
}

/// Serves [`app`] on `listener` until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: FileStoreConfig,
) -> std::io::Result<()> {
    axum::serve(listener, app(config)).await
}

/// What a request means: the action, the resource, the key.
fn route(method: &Method, path: &str, query: &str) -> Option<(&'static str, String, String)> {
    if path == "/files" || path == "/files/" {
        if method != Method::GET {
            return None;
        }
        let prefix = url::form_urlencoded::parse(query.as_bytes())
            .find(|(k, _)| k == "prefix")
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
        return Some((
            "files:ListBucket",
            format!("arn:cognate:files:::{prefix}"),
            prefix,
        ));
    }
    let raw = path.strip_prefix("/files/")?;
    let key = percent_decode_str(raw).decode_utf8().ok()?.into_owned();
    if key.is_empty() {
        return None;
    }
    let action = match *method {
        Method::PUT => "files:PutObject",
        Method::GET => "files:GetObject",
        Method::DELETE => "files:DeleteObject",
        _ => return None,
    };
    Some((action, format!("arn:cognate:files:::{key}"), key))
}

async fn handle(State(files): State<Files>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "body too large\n").into_response();
    };
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or_default().to_string();
    let Some((action, resource, key)) = route(&parts.method, &path, &query) else {
        return (StatusCode::NOT_FOUND, "no such route\n").into_response();
    };
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let body_sha256: String = digest::digest(&digest::SHA256, &body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let check = serde_json::json!({
        "request": {
            "method": parts.method.as_str(),
            "path": path,
            "query": query,
            "headers": headers,
            "body_sha256": body_sha256,
        },
        "service": SERVICE,
        "region": files.config.region,
        "action": action,
        "resource": resource,
    });
    let answer = files
        .http
        .post(format!("{}/iam/authorize", files.config.cognate_url))
        .basic_auth(&files.config.key_id, Some(&files.config.secret))
        .json(&check)
        .send()
        .await;
    let decision = match answer {
        Ok(r) if r.status().is_success() => {
            r.json::<serde_json::Value>().await.ok().and_then(|v| {
                v.get("decision")
                    .and_then(|d| d.as_str())
                    .map(str::to_string)
            })
        }
        _ => None,
    };
    match decision.as_deref() {
        Some("Allow") => {}
        Some(_) => return (StatusCode::FORBIDDEN, "access denied\n").into_response(),
        None => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "authorization unavailable\n",
            )
                .into_response()
        }
    }
    let Ok(mut store) = files.files.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match action {
        "files:PutObject" => {
            store.insert(key, body);
            StatusCode::OK.into_response()
        }
        "files:GetObject" => match store.get(&key) {
            Some(b) => (StatusCode::OK, b.clone()).into_response(),
            None => (StatusCode::NOT_FOUND, "no such key\n").into_response(),
        },
        "files:DeleteObject" => {
            store.remove(&key);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => {
            let keys: String = store
                .keys()
                .filter(|k| k.starts_with(&key))
                .map(|k| format!("{k}\n"))
                .collect();
            (StatusCode::OK, keys).into_response()
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let env = |name: &str| std::env::var(name).unwrap_or_default();
    let config = FileStoreConfig {
        cognate_url: env("COGNATE_URL"),
        key_id: env("COGNATE_AUTHORIZE_KEY_ID"),
        secret: env("COGNATE_AUTHORIZE_SECRET"),
        region: std::env::var("FILES_REGION").unwrap_or_else(|_| "us-east-1".into()),
    };
    let listen = std::env::var("FILES_LISTEN").unwrap_or_else(|_| "127.0.0.1:9000".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    eprintln!(
        "file_store on http://{listen}, checking with {}",
        config.cognate_url
    );
    serve(listener, config).await
}
