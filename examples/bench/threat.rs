//! Issue 17's figure: `InitiateAuth` `USER_PASSWORD_AUTH` sign-ins/s of a pool whose
//! threat protection is `enforced` (every level's action `allow`, no notice: the cost of
//! scoring, one history read and the failure-burst count, and recording each attempt in
//! the batched event log), as a ratio to the same sign-ins of the plain pool (goal at
//! least 0.9). Phases interleave as in [`super::pre_token`]; medians are compared.

use std::sync::Arc;

use serde_json::json;

use super::{auth, load, PASSWORD};

pub const THREAT_POOL: &str = "us-east-1_BenchRisk1";
pub const THREAT_WEB: &str = "benchrisk0000000000000001";

/// The `[[pools]]` block of the protected pool.
pub fn pool_toml() -> String {
    format!(
        r#"
[[pools]]
id = "{THREAT_POOL}"
name = "bench threat protection"

[pools.threat_protection]
mode = "enforced"

[[pools.clients]]
id = "{THREAT_WEB}"
name = "web"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#
    )
}

async fn sign_in(
    client: reqwest::Client,
    base: Arc<String>,
    app: &'static str,
    user: String,
) -> bool {
    let body = json!({
        "ClientId": app,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD},
    });
    let Some(answer) = auth::call(&client, &base, "InitiateAuth", body).await else {
        return false;
    };
    answer["AuthenticationResult"]["AccessToken"].is_string()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// Prints the figures: plain and protected sign-ins (users `bench{i}` in both pools,
/// taken in turn), warmed up, then alternating over `BENCH_ROUNDS` rounds.
pub async fn figures(conns: usize, seconds: f64, base: Arc<String>) {
    let phase = |app: &'static str| {
        let base = base.clone();
        let turn = Arc::new(std::sync::atomic::AtomicU64::new(0));
        move |client: reqwest::Client| {
            let i = turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % conns as u64;
            sign_in(client, base.clone(), app, format!("bench{i}"))
        }
    };
    let warm = (seconds / 2.0).clamp(1.0, 3.0);
    load(conns, warm, phase(super::WEB)).await;
    load(conns, warm, phase(THREAT_WEB)).await;
    let (mut plain, mut protected) = (Vec::new(), Vec::new());
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r: &usize| r > 0)
        .unwrap_or(3);
    for round in 0..rounds {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for with_threat in order {
            let (app, into) = if with_threat {
                (THREAT_WEB, &mut protected)
            } else {
                (super::WEB, &mut plain)
            };
            let p = load(conns, seconds, phase(app)).await;
            println!(
                "  round {} {:<9} {:>8.1} sign-ins/s  p50 {:.1} ms  p99 {:.1} ms  errors {}",
                round + 1,
                if with_threat { "protected" } else { "off" },
                p.rate(),
                p.pct(0.50),
                p.pct(0.99),
                p.errors
            );
            into.push(p);
        }
    }
    let rate = |phases: &[super::Phase]| median(phases.iter().map(|p| p.rate()).collect());
    let p99 = |phases: &[super::Phase]| median(phases.iter().map(|p| p.pct(0.99)).collect());
    let (off, on) = (rate(&plain), rate(&protected));
    println!(
        "USER_PASSWORD_AUTH, threat protection off:      {off:>8.1} sign-ins/s  p99 {:.1} ms (median of {} rounds)",
        p99(&plain),
        plain.len()
    );
    println!(
        "USER_PASSWORD_AUTH, threat protection enforced: {on:>8.1} sign-ins/s ({:.2} of off, goal >= 0.9)  p99 {:.1} ms  errors {}",
        on / off.max(f64::MIN_POSITIVE),
        p99(&protected),
        protected.iter().map(|p| p.errors).sum::<u64>()
    );
}
