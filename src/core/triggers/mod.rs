//! Triggers as webhooks: Cognito's Lambda triggers, called as HTTP POSTs of Cognito's own
//! event JSON, so a Lambda handler ports by wrapping it in any web framework.
//!
//! - **Declared** per pool ([`crate::core::model::Triggers`]): a URL per trigger kind,
//!   checked by the administration rules (https, or http to a loopback host; no
//!   credentials in the URL).
//! - **Signed** with the Standard Webhooks scheme (<https://www.standardwebhooks.com>):
//!   headers `webhook-id` (one per event, the same on every retry), `webhook-timestamp`
//!   (seconds) and `webhook-signature: v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
//!   The key is 32 random bytes per pool, made on first need, sealed under the master key
//!   ([`webhook_secret_context`]) and kept in the shared store, so every node signs alike;
//!   the operator reads it as `whsec_<base64 key>` (`cognate triggers secret`). It is read
//!   per event (a rotation holds at once on every node), but opened once per node.
//! - **Delivered** through the IdP HTTP client ([`IdpHttp`]: no redirects followed, the
//!   address connected to checked, answers read within a cap), with a 5 s timeout per
//!   attempt (`[server] trigger_timeout_ms`) and up to 3 attempts on connection errors,
//!   timeouts and 5xx answers, as Cognito retries its Lambda calls. A 4xx, a redirect, an
//!   answer over 256 KiB, or a 2xx whose body is not an event object with a `response`
//!   object is a failure at once. Only `response` is read from the answer.
//! - **Answered** by the callers ([`events`], [`pre_token`], [`custom_auth`]): what a failure means is the trigger's
//!   (a refused sign-up, a logged post confirmation).
//!
//! Metrics per pool and trigger: calls, failures, latency ([`TriggerMetrics`]). No secret,
//! password or event body reaches a log.

pub mod custom_auth;
pub mod events;
pub mod jwe;
mod metrics;
pub mod pre_token;
pub mod sample;
pub mod senders;

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use reqwest::header::CONTENT_TYPE;
use serde_json::Value;

use super::model::{Origin, TriggerKind, UserPool};
use super::secrets::{
    random_bytes, random_token, webhook_secret_context, EncryptedSecret, MasterKey,
};
use super::storage::Store;
use crate::federation::http::{for_log_str, HttpError, HttpSettings, IdpHttp};

pub use events::{MigrationAnswer, PreSignUpAnswer, TriggerCaller};
pub use metrics::TriggerMetrics;
pub use senders::{CodeMessage, CustomText, MessageSource};

/// How a secret is shown to operators (the Standard Webhooks convention).
pub const SECRET_PREFIX: &str = "whsec_";
/// Cognito's Lambda timeout for triggers.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts of one event (Cognito retries a failed trigger call up to 3 times in all).
pub const ATTEMPTS: u32 = 3;
/// The largest answer read from a webhook.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;
/// How many opened signing secrets a node keeps (by their sealed form, see
/// [`Webhooks::secret`]).
const OPENED_SECRETS: u64 = 10_000;

/// The store's metadata key of a pool's sealed webhook secret.
fn secret_meta_key(pool_id: &str) -> String {
    format!("webhook-secret:{pool_id}")
}

/// How webhooks are called.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Per attempt, connection and answer included.
    pub timeout: Duration,
    /// Non-public networks webhooks may be on (the operator's `idp_private_networks`).
    pub private_networks: Vec<ipnet::IpNet>,
    /// Whether webhooks of pools made through the API (not the configuration file) may be
    /// on loopback (`[server] api_webhooks_on_loopback`). Checked when a URL is set and
    /// again at every delivery, so turning the setting off stops URLs accepted before.
    pub api_loopback: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        WebhookSettings {
            timeout: DEFAULT_TIMEOUT,
            private_networks: Vec::new(),
            api_loopback: false,
        }
    }
}

/// Why a trigger call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TriggerError {
    /// The webhook failed or refused: Cognito's `UserLambdaValidationException` message.
    #[error("{} failed with error {message}.", kind.error_name())]
    Failed { kind: TriggerKind, message: String },
    /// The signing secret could not be read or made (store, master key); for the log.
    #[error("trigger signing secret: {0}")]
    Internal(String),
}

/// A pool's webhook signing key (32 bytes). `Debug` prints nothing of it.
#[derive(Clone)]
pub struct WebhookSecret([u8; 32]);

impl WebhookSecret {
    /// `whsec_<base64 key>`, the form receivers are configured with.
    pub fn display(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(self.0))
    }

    /// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.0);
        let tag = aws_lc_rs::hmac::sign(&key, format!("{id}.{timestamp}.{body}").as_bytes());
        format!("v1,{}", STANDARD.encode(tag.as_ref()))
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// The webhook caller. Cheap to clone.
#[derive(Clone)]
pub struct Webhooks {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    http: IdpHttp,
    metrics: TriggerMetrics,
    /// See [`WebhookSettings::api_loopback`].
    api_loopback: bool,
    /// Opened signing secrets by their sealed form as stored.
    opened: moka::future::Cache<String, WebhookSecret>,
}

impl std::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhooks").finish_non_exhaustive()
    }
}

impl Webhooks {
    pub fn new(store: Arc<dyn Store>, master: Arc<MasterKey>, settings: WebhookSettings) -> Self {
        let api_loopback = settings.api_loopback;
        let http = IdpHttp::new(HttpSettings {
            connect_timeout: settings.timeout,
            timeout: settings.timeout,
            max_body_bytes: MAX_RESPONSE_BYTES,
            private_networks: settings.private_networks,
            ..HttpSettings::default()
        });
        Webhooks {
            inner: Arc::new(Inner {
                store,
                master,
                http,
                metrics: TriggerMetrics::default(),
                api_loopback,
                opened: moka::future::Cache::builder()
                    .max_capacity(OPENED_SECRETS)
                    .build(),
            }),
        }
    }

    /// The longest one event's delivery may take (every attempt timing out), for claims
    /// held while a webhook is called.
    pub fn max_delivery_time(&self) -> Duration {
        self.inner.http.settings().timeout * ATTEMPTS
    }

    /// The counters and latencies, for the `/metrics` registry.
    pub fn metrics(&self) -> &TriggerMetrics {
        &self.inner.metrics
    }

    /// The pool's signing secret, made and stored on first need (nodes racing to make it
    /// converge on the first one stored).
    ///
    /// The sealed secret is read from the store for every event, so a rotation on any node
    /// takes effect at once everywhere; its opening is kept, by the sealed text (a new
    /// secret is a new text, and the text names its pool through the sealing context).
    pub async fn secret(&self, pool_id: &str) -> Result<WebhookSecret, TriggerError> {
        let key = secret_meta_key(pool_id);
        let store = &self.inner.store;
        let stored = match store.get_meta(&key).await.map_err(internal)? {
            Some(stored) => stored,
            None => {
                let sealed = self.seal(pool_id, &random_bytes::<32>());
                store
                    .put_meta_if_absent(&key, sealed.as_stored())
                    .await
                    .map_err(internal)?
            }
        };
        let cache_key = format!("{pool_id}\n{stored}");
        if let Some(secret) = self.inner.opened.get(&cache_key).await {
            return Ok(secret);
        }
        let secret = self.open(pool_id, stored)?;
        self.inner.opened.insert(cache_key, secret.clone()).await;
        Ok(secret)
    }

    /// Replaces the pool's signing secret with a new random one (receivers must be given
    /// it: events are signed with the new one from now on).
    pub async fn rotate_secret(&self, pool_id: &str) -> Result<WebhookSecret, TriggerError> {
        let bytes = random_bytes::<32>();
        let sealed = self.seal(pool_id, &bytes);
        self.inner
            .store
            .put_meta(&secret_meta_key(pool_id), sealed.as_stored())
            .await
            .map_err(internal)?;
        Ok(WebhookSecret(bytes))
    }

    fn seal(&self, pool_id: &str, bytes: &[u8; 32]) -> EncryptedSecret {
        self.inner
            .master
            .seal(&webhook_secret_context(pool_id), bytes)
    }

    fn open(&self, pool_id: &str, stored: String) -> Result<WebhookSecret, TriggerError> {
        let opened = self
            .inner
            .master
            .open(
                &webhook_secret_context(pool_id),
                &EncryptedSecret::from_stored(stored),
            )
            .map_err(internal)?;
        let bytes: [u8; 32] = opened
            .try_into()
            .map_err(|_| TriggerError::Internal("the stored secret is not 32 bytes".into()))?;
        Ok(WebhookSecret(bytes))
    }

    /// Sends `event` (Cognito's event JSON) to the pool's `kind` webhook and returns the
    /// answer's `response` object. `None` when the pool declares no such webhook.
    pub async fn call(
        &self,
        pool: &UserPool,
        kind: TriggerKind,
        event: &Value,
    ) -> Option<Result<serde_json::Map<String, Value>, TriggerError>> {
        let url = pool.triggers.url(kind)?;
        let started = Instant::now();
        // Only the pool's own deliveries are held to the API's loopback rule: `send` is
        // the operator's `cognate triggers test`, run at the console.
        let result = match self.loopback_refusal(pool, url) {
            Some(message) => Err(TriggerError::Failed { kind, message }),
            None => self.deliver(pool, kind, url, event, &mut Vec::new()).await,
        };
        let metrics = &self.inner.metrics;
        metrics.observe(&pool.id, kind, started.elapsed(), result.is_ok());
        if let Err(e) = &result {
            tracing::warn!(
                pool = %pool.id,
                trigger = kind.key(),
                url = %for_log_str(url),
                error = %e,
                "trigger webhook failed"
            );
        }
        Some(result)
    }

    /// Sends `event` to `url` as [`Webhooks::call`] does (signed, retried, capped), but
    /// counts no metric and logs nothing: `cognate triggers test`'s delivery. Returns the
    /// answer's `response` (or the failure) and each attempt's outcome.
    pub async fn send(
        &self,
        pool: &UserPool,
        kind: TriggerKind,
        url: &str,
        event: &Value,
    ) -> (
        Result<serde_json::Map<String, Value>, TriggerError>,
        Vec<Attempt>,
    ) {
        let mut attempts = Vec::new();
        let result = self.deliver(pool, kind, url, event, &mut attempts).await;
        (result, attempts)
    }

    /// The delivery of one event: signed, up to [`ATTEMPTS`] tries, each recorded in
    /// `attempts`.
    async fn deliver(
        &self,
        pool: &UserPool,
        kind: TriggerKind,
        url: &str,
        event: &Value,
        attempts: &mut Vec<Attempt>,
    ) -> Result<serde_json::Map<String, Value>, TriggerError> {
        let failed = |message: String| TriggerError::Failed { kind, message };
        let secret = self.secret(&pool.id).await?;
        let body = event.to_string();
        // One id per event, the same on every attempt (receivers deduplicate by it).
        let id = format!("msg_{}", random_token::<18>());
        let timeout = self.inner.http.settings().timeout;
        let mut last = String::new();
        for _ in 0..ATTEMPTS {
            let started = Instant::now();
            let outcome = self.attempt(&secret, &id, url, &body, timeout).await;
            attempts.push(Attempt {
                status: outcome.status,
                elapsed: started.elapsed(),
                error: outcome.verdict.as_ref().err().map(|(m, _)| m.clone()),
            });
            match outcome.verdict {
                Ok(response) => return Ok(response),
                Err((message, true)) => last = message,
                Err((message, false)) => return Err(failed(message)),
            }
        }
        Err(failed(last))
    }

    /// Why `url` may not be called for `pool`: a loopback URL of a pool made through the
    /// API while `[server] api_webhooks_on_loopback` is off. The API refuses such URLs
    /// when they are set; this holds for URLs accepted while the setting was on. (Other
    /// non-public addresses are refused by the HTTP client itself, whatever the pool.)
    fn loopback_refusal(&self, pool: &UserPool, url: &str) -> Option<String> {
        if pool.origin == Origin::Config || self.inner.api_loopback {
            return None;
        }
        let url = url::Url::parse(url).ok()?;
        let host = url.host()?;
        crate::federation::http::guard::is_loopback_host(&host).then(|| {
            "the webhook is on loopback, which webhooks set through the API may not be \
             ([server] api_webhooks_on_loopback is off)"
                .to_string()
        })
    }

    /// One signed POST and what its answer means: the `response`, or why not and whether
    /// another attempt may help (connection errors, timeouts and 5xx, as Cognito retries).
    async fn attempt(
        &self,
        secret: &WebhookSecret,
        id: &str,
        url: &str,
        body: &str,
        timeout: Duration,
    ) -> AttemptOutcome {
        let at_once = |message: String| (message, false);
        let retry = |message: String| (message, true);
        let mut status = None;
        let verdict = async {
            let timestamp = chrono::Utc::now().timestamp();
            let request = self
                .inner
                .http
                .client()
                .map_err(|e| at_once(e.to_string()))?
                .post(url)
                .header(CONTENT_TYPE, "application/json")
                .header("webhook-id", id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", secret.sign(id, timestamp, body))
                .body(body.to_string());
            match self.inner.http.execute(request).await {
                Ok(answer) => {
                    status = Some(answer.status);
                    match answer.status {
                        200..=299 => response_of(&answer.body).map_err(at_once),
                        300..=399 => Err(at_once(format!(
                            "the webhook answered a redirect (HTTP {}), which is not followed",
                            answer.status
                        ))),
                        400..=499 => Err(at_once(error_message(answer.status, &answer.body))),
                        other => Err(retry(error_message(other, &answer.body))),
                    }
                }
                Err(HttpError::Timeout { .. }) => Err(retry(format!(
                    "Task timed out after {:.2} seconds",
                    timeout.as_secs_f64()
                ))),
                Err(e @ (HttpError::Connect { .. } | HttpError::Request { .. })) => {
                    Err(retry(e.to_string()))
                }
                Err(HttpError::TooLarge { limit, .. }) => Err(at_once(format!(
                    "the webhook's answer is larger than {limit} bytes"
                ))),
                Err(e) => Err(at_once(e.to_string())),
            }
        }
        .await;
        AttemptOutcome { status, verdict }
    }
}

/// What one attempt came to: the HTTP status (when an answer came), and the `response`
/// or the failure's message with whether to try again.
struct AttemptOutcome {
    status: Option<u16>,
    verdict: Result<serde_json::Map<String, Value>, (String, bool)>,
}

/// One attempt of a delivery, as `cognate triggers test` shows it.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The HTTP status answered; `None` when no answer came (connection, timeout).
    pub status: Option<u16>,
    pub elapsed: Duration,
    /// Why the attempt failed, if it did.
    pub error: Option<String>,
}

fn internal(e: impl std::fmt::Display) -> TriggerError {
    TriggerError::Internal(e.to_string())
}

/// The `response` of a 2xx answer: the answer must be the event (a JSON object) with a
/// `response` object, as a Lambda returns it.
fn response_of(body: &[u8]) -> Result<serde_json::Map<String, Value>, String> {
    let answer: Value = serde_json::from_slice(body)
        .map_err(|e| format!("the webhook's answer is not JSON ({e})"))?;
    match answer.get("response") {
        Some(Value::Object(response)) => Ok(response.clone()),
        Some(Value::Null) => Ok(serde_json::Map::new()),
        _ => Err("the webhook's answer is not the event with a response object".into()),
    }
}

/// A failed answer's message: the receiver's `errorMessage` (what a Lambda's error
/// carries), else the status.
fn error_message(status: u16, body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| {
            v.get("errorMessage")
                .and_then(Value::as_str)
                .map(|m| m.chars().take(1000).collect::<String>())
        })
        .unwrap_or_else(|| format!("the webhook answered HTTP {status}"))
}

#[cfg(test)]
mod tests;
