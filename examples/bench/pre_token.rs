//! Issue 16's figure: `InitiateAuth` `USER_PASSWORD_AUTH` sign-ins/s of a pool whose pre
//! token generation webhook (V2_0, adding an access-token claim) is served in this
//! process, as a ratio to the same sign-ins of the plain pool (goal at least 0.9), and the
//! p99 the webhook adds. The receiver verifies every delivery's Standard Webhooks
//! signature, as a real one would, before answering.

use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::{auth, load, PASSWORD};

pub const HOOKED_POOL: &str = "us-east-1_BenchHook1";
pub const HOOKED_WEB: &str = "benchhook0000000000000001";

/// The pool's signing key, set once `cognate triggers secret` printed it.
pub type Secret = Arc<OnceLock<Vec<u8>>>;

/// The `[[pools]]` block of the hooked pool, its webhook at `url`.
pub fn pool_toml(url: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{HOOKED_POOL}"
name = "bench hooked"

[pools.triggers]
pre_token_generation = {{ url = "{url}", version = "V2_0" }}

[[pools.clients]]
id = "{HOOKED_WEB}"
name = "web"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#
    )
}

/// Starts the receiver on 127.0.0.1:0; its URL.
pub async fn start_receiver(secret: Secret) -> String {
    let app = axum::Router::new().fallback(receive).with_state(secret);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/pre-token", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    url
}

async fn receive(
    State(secret): State<Secret>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let Some(key) = secret.get() else {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    };
    let signed = [
        header("webhook-id").as_bytes(),
        b".",
        header("webhook-timestamp").as_bytes(),
        b".",
        &body,
    ]
    .concat();
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key),
        &signed,
    );
    let expected = format!("v1,{}", STANDARD.encode(tag.as_ref()));
    if !header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
    {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let Ok(mut event) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    event["response"] = json!({
        "claimsAndScopeOverrideDetails": {
            "accessTokenGeneration": {"claimsToAddOrOverride": {"tenant": "bench"}},
        }
    });
    axum::Json(event).into_response()
}

async fn sign_in(
    client: reqwest::Client,
    base: Arc<String>,
    app: &'static str,
    user: String,
    hooked: bool,
) -> bool {
    let body = json!({
        "ClientId": app,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD},
    });
    let Some(answer) = auth::call(&client, &base, "InitiateAuth", body).await else {
        return false;
    };
    let Some(access) = answer["AuthenticationResult"]["AccessToken"].as_str() else {
        return false;
    };
    // The hooked pool's tokens must carry the webhook's claim (its answer was honoured).
    !hooked || access_claim(access, "tenant").as_deref() == Some("bench")
}

fn access_claim(token: &str, name: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    claims[name].as_str().map(str::to_string)
}

/// Prints the figures: plain and hooked sign-ins (users `bench{i}` in both pools, taken
/// in turn), each phase `seconds` long at `conns` connections.
pub async fn figures(conns: usize, seconds: f64, base: Arc<String>) {
    let phase = |app: &'static str, hooked: bool| {
        let base = base.clone();
        let turn = Arc::new(std::sync::atomic::AtomicU64::new(0));
        move |client: reqwest::Client| {
            let i = turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % conns as u64;
            sign_in(client, base.clone(), app, format!("bench{i}"), hooked)
        }
    };
    let plain = load(conns, seconds, phase(super::WEB, false)).await;
    let hooked = load(conns, seconds, phase(HOOKED_WEB, true)).await;
    println!(
        "USER_PASSWORD_AUTH, no trigger:        {:>8.1} sign-ins/s  p50 {:.1} ms  p99 {:.1} ms  errors {}",
        plain.rate(),
        plain.pct(0.50),
        plain.pct(0.99),
        plain.errors
    );
    println!(
        "USER_PASSWORD_AUTH, pre token webhook: {:>8.1} sign-ins/s ({:.2} of without, goal >= 0.9)  p50 {:.1} ms  p99 {:.1} ms (+{:.1} ms)  errors {}",
        hooked.rate(),
        hooked.rate() / plain.rate().max(f64::MIN_POSITIVE),
        hooked.pct(0.50),
        hooked.pct(0.99),
        hooked.pct(0.99) - plain.pct(0.99),
        hooked.errors
    );
}
