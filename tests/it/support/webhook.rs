//! An in-process trigger webhook receiver on 127.0.0.1:0, as a team would write one: it
//! verifies every delivery's Standard Webhooks signature with the pool's secret
//! (`whsec_<base64 key>`, from `cognate triggers secret`) exactly as the README says, and
//! refuses (401) what does not verify; it records the events that did, by path, and
//! answers as told per path: the event with a `response` (the default echoes the event),
//! an error status with Lambda's `errorMessage`, a sleep past the timeout, a redirect, or
//! 10 MB.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// How long after its timestamp a delivery is accepted (the Standard Webhooks
/// libraries' default tolerance): an older one is a replay.
pub const TOLERANCE_SECS: i64 = 300;

/// What the receiver answers on a path.
#[derive(Debug, Clone)]
pub enum Answer {
    /// 200 with the event, its `response` replaced by this (`None`: unchanged).
    Respond(Option<Value>),
    /// This status with `{"errorMessage": ...}`.
    Error(u16, String),
    /// Sleeps this long, then answers as `Respond(None)`.
    Sleep(Duration),
    /// 302 to another URL.
    Redirect,
    /// 200 with a 10 MB JSON body.
    Huge,
    /// 200 with the event, its `response` replaced by what the function makes of the
    /// event (a handler with logic, like a custom auth challenge Lambda).
    Compute(Handler),
}

/// A function from the event to its `response`.
#[derive(Clone)]
pub struct Handler(pub Arc<dyn Fn(&Value) -> Value + Send + Sync>);

impl Answer {
    /// [`Answer::Compute`] with `f`.
    pub fn compute(f: impl Fn(&Value) -> Value + Send + Sync + 'static) -> Answer {
        Answer::Compute(Handler(Arc::new(f)))
    }
}

impl std::fmt::Debug for Handler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handler")
    }
}

/// One delivery as it arrived.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub path: String,
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
}

impl Delivery {
    pub fn event(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Inner {
    secret: Option<String>,
    answers: HashMap<String, Answer>,
    /// Deliveries that verified, in order.
    verified: Vec<Delivery>,
    /// Requests refused for a bad or missing signature.
    refused: usize,
}

pub struct Receiver {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    inner: Arc<Mutex<Inner>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Receiver {
            base,
            inner,
            shutdown: Some(tx),
        }
    }

    /// `<base><path>`
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The secret deliveries are verified with (`whsec_...`).
    pub fn set_secret(&self, secret: &str) {
        self.inner.lock().unwrap().secret = Some(secret.to_string());
    }

    pub fn answer(&self, path: &str, answer: Answer) {
        self.inner
            .lock()
            .unwrap()
            .answers
            .insert(path.to_string(), answer);
    }

    /// The verified deliveries to `path`.
    pub fn deliveries(&self, path: &str) -> Vec<Delivery> {
        let inner = self.inner.lock().unwrap();
        inner
            .verified
            .iter()
            .filter(|d| d.path == path)
            .cloned()
            .collect()
    }

    /// The verified events sent to `path`.
    pub fn events(&self, path: &str) -> Vec<Value> {
        self.deliveries(path).iter().map(Delivery::event).collect()
    }

    pub fn refused(&self) -> usize {
        self.inner.lock().unwrap().refused
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The documented verification: the key is the base64 after `whsec_`; the signed content
/// is `{webhook-id}.{webhook-timestamp}.{body}`; `webhook-signature` holds one or more
/// space-separated `v1,<base64 HMAC-SHA256>`, one of which must match (compared in
/// constant time); the timestamp must be within [`TOLERANCE_SECS`] of `now`.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: &str,
    signature: &str,
    body: &str,
    now: i64,
) -> Result<(), String> {
    let key = secret
        .strip_prefix("whsec_")
        .and_then(|k| STANDARD.decode(k).ok())
        .ok_or("bad secret")?;
    let ts: i64 = timestamp.parse().map_err(|_| "bad timestamp")?;
    if (now - ts).abs() > TOLERANCE_SECS {
        return Err("timestamp outside the tolerance (a replay?)".into());
    }
    for candidate in signature.split(' ') {
        let Some(sig) = candidate.strip_prefix("v1,") else {
            continue;
        };
        let Ok(sig) = STANDARD.decode(sig) else {
            continue;
        };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
        mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
        if mac.verify_slice(&sig).is_ok() {
            return Ok(());
        }
    }
    Err("no signature matches".into())
}

fn header_of(headers: &HeaderMap, name: &str) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body = String::from_utf8_lossy(&body).into_owned();
    let delivery = Delivery {
        path: uri.path().to_string(),
        id: header_of(&headers, "webhook-id"),
        timestamp: header_of(&headers, "webhook-timestamp"),
        signature: header_of(&headers, "webhook-signature"),
        body,
    };
    let json_type = header_of(&headers, "content-type") == "application/json";
    let answer = {
        let mut inner = inner.lock().unwrap();
        let secret = inner.secret.clone().unwrap_or_default();
        let checked = verify(
            &secret,
            &delivery.id,
            &delivery.timestamp,
            &delivery.signature,
            &delivery.body,
            chrono::Utc::now().timestamp(),
        );
        if checked.is_err() || !json_type {
            inner.refused += 1;
            return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
        }
        inner.verified.push(delivery.clone());
        inner
            .answers
            .get(&delivery.path)
            .cloned()
            .unwrap_or(Answer::Respond(None))
    };
    let mut event = delivery.event();
    match answer {
        Answer::Respond(response) => {
            if let Some(response) = response {
                event["response"] = response;
            }
            axum::Json(event).into_response()
        }
        Answer::Error(status, message) => (
            StatusCode::from_u16(status).unwrap(),
            axum::Json(json!({ "errorMessage": message, "errorType": "Error" })),
        )
            .into_response(),
        Answer::Compute(handler) => {
            event["response"] = (handler.0)(&event);
            axum::Json(event).into_response()
        }
        Answer::Sleep(duration) => {
            tokio::time::sleep(duration).await;
            axum::Json(event).into_response()
        }
        Answer::Redirect => (
            StatusCode::FOUND,
            [(header::LOCATION, "http://127.0.0.1:9/elsewhere")],
        )
            .into_response(),
        Answer::Huge => {
            let filler = "x".repeat(10 * 1024 * 1024);
            let body = format!("{{\"response\":{{}},\"filler\":\"{filler}\"}}");
            ([(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    }
}
