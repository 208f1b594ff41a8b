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

/// Rounds of each phase (`BENCH_ROUNDS`, default 3); the medians are reported.
fn rounds() -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(3)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Prints the figures: plain and hooked sign-ins (users `bench{i}` in both pools, taken
/// in turn), each phase `seconds` long at `conns` connections. After a warm-up of each
/// (connections open, caches filled), the phases alternate plain, hooked, hooked, plain,
/// ... so neither always runs first on a machine whose load drifts; the medians of the
/// rounds are compared.
pub async fn figures(conns: usize, seconds: f64, base: Arc<String>) {
    let phase = |app: &'static str, hooked: bool| {
        let base = base.clone();
        let turn = Arc::new(std::sync::atomic::AtomicU64::new(0));
        move |client: reqwest::Client| {
            let i = turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % conns as u64;
            sign_in(client, base.clone(), app, format!("bench{i}"), hooked)
        }
    };
    let warm = (seconds / 2.0).clamp(1.0, 3.0);
    load(conns, warm, phase(super::WEB, false)).await;
    load(conns, warm, phase(HOOKED_WEB, true)).await;
    let (mut plain, mut hooked) = (Vec::new(), Vec::new());
    for round in 0..rounds() {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for with_hook in order {
            let (app, into) = if with_hook {
                (HOOKED_WEB, &mut hooked)
            } else {
                (super::WEB, &mut plain)
            };
            let p = load(conns, seconds, phase(app, with_hook)).await;
            println!(
                "  round {} {:<7} {:>8.1} sign-ins/s  p50 {:.1} ms  p99 {:.1} ms  errors {}",
                round + 1,
                if with_hook { "hooked" } else { "plain" },
                p.rate(),
                p.pct(0.50),
                p.pct(0.99),
                p.errors
            );
            into.push(p);
        }
    }
    let med = |phases: &[super::Phase], f: &dyn Fn(&super::Phase) -> f64| {
        median(phases.iter().map(f).collect())
    };
    let (plain_rate, hooked_rate) = (med(&plain, &|p| p.rate()), med(&hooked, &|p| p.rate()));
    let (plain_p50, hooked_p50) = (med(&plain, &|p| p.pct(0.5)), med(&hooked, &|p| p.pct(0.5)));
    let (plain_p99, hooked_p99) = (
        med(&plain, &|p| p.pct(0.99)),
        med(&hooked, &|p| p.pct(0.99)),
    );
    let errors = |phases: &[super::Phase]| phases.iter().map(|p| p.errors).sum::<u64>();
    println!(
        "USER_PASSWORD_AUTH, no trigger:        {plain_rate:>8.1} sign-ins/s  p50 {plain_p50:.1} ms  p99 {plain_p99:.1} ms  errors {} (median of {} rounds)",
        errors(&plain),
        plain.len()
    );
    println!(
        "USER_PASSWORD_AUTH, pre token webhook: {hooked_rate:>8.1} sign-ins/s ({:.2} of without, goal >= 0.9)  p50 {hooked_p50:.1} ms  p99 {hooked_p99:.1} ms (webhook adds {:+.1} ms at p99)  errors {}",
        hooked_rate / plain_rate.max(f64::MIN_POSITIVE),
        hooked_p99 - plain_p99,
        errors(&hooked)
    );
}
