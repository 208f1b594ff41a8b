//! Issue 14's sign-in figures over the user pools API (`POST /`, AWS JSON 1.1):
//! `InitiateAuth` `USER_PASSWORD_AUTH` sign-ins/s as a ratio to the raw Argon2id rate on
//! all cores (measured right before, goal at least 0.8), and `USER_SRP_AUTH` sign-ins/s
//! (InitiateAuth, then RespondToAuthChallenge `PASSWORD_VERIFIER`; no Argon2id) as a ratio
//! to `USER_PASSWORD_AUTH`. The client side of SRP is computed here by the independent
//! `aws-cognito-srp` crate, in this process, on the same two cores as the server: the
//! SRP figure pays for both ends.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_cognito_srp::{SrpClient, User as SrpUser};
use serde_json::{json, Value};

use super::{load, raw_argon2_rate, PASSWORD, POOL, WEB};

/// One AWS JSON call of the user pools API; the answer if it succeeded.
pub async fn call(
    client: &reqwest::Client,
    base: &str,
    action: &str,
    body: Value,
) -> Option<Value> {
    let response = client
        .post(format!("{base}/"))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .body(body.to_string())
        .send()
        .await
        .ok()?;
    if !response.status().is_success() {
        return None;
    }
    response.json().await.ok()
}

fn signed_in(answer: &Value) -> bool {
    answer["AuthenticationResult"]["AccessToken"].is_string()
}

async fn password_once(client: reqwest::Client, base: Arc<String>, user: String) -> bool {
    let body = json!({
        "ClientId": WEB,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD},
    });
    call(&client, &base, "InitiateAuth", body)
        .await
        .is_some_and(|a| signed_in(&a))
}

async fn srp_once(client: reqwest::Client, base: Arc<String>, user: String) -> bool {
    let srp = Arc::new(SrpClient::new(
        SrpUser::new(POOL, &user, PASSWORD),
        WEB,
        None,
    ));
    // The client's big-number work runs off the I/O threads.
    let params = {
        let srp = srp.clone();
        match tokio::task::spawn_blocking(move || srp.get_auth_parameters()).await {
            Ok(p) => p,
            Err(_) => return false,
        }
    };
    let body = json!({
        "ClientId": WEB,
        "AuthFlow": "USER_SRP_AUTH",
        "AuthParameters": {"USERNAME": params.username, "SRP_A": params.a},
    });
    let Some(challenge) = call(&client, &base, "InitiateAuth", body).await else {
        return false;
    };
    let p = &challenge["ChallengeParameters"];
    let text = |name: &str| p[name].as_str().unwrap_or_default().to_string();
    let (block, id, salt, b) = (
        text("SECRET_BLOCK"),
        text("USER_ID_FOR_SRP"),
        text("SALT"),
        text("SRP_B"),
    );
    let verified =
        tokio::task::spawn_blocking(move || srp.verify(&block, &id, &salt, &b).ok()).await;
    let Ok(Some(v)) = verified else {
        return false;
    };
    let body = json!({
        "ClientId": WEB,
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeResponses": {
            "USERNAME": text("USER_ID_FOR_SRP"),
            "PASSWORD_CLAIM_SECRET_BLOCK": v.password_claim_secret_block,
            "PASSWORD_CLAIM_SIGNATURE": v.password_claim_signature,
            "TIMESTAMP": v.timestamp,
        },
    });
    call(&client, &base, "RespondToAuthChallenge", body)
        .await
        .is_some_and(|a| signed_in(&a))
}

/// Prints the two figures (users `bench0` .. `bench{conns-1}`, taken in turn, as the
/// hosted-UI phase does).
pub async fn figures(conns: usize, seconds: f64, base: Arc<String>) {
    let user_of = {
        let turn = Arc::new(AtomicU64::new(0));
        move || {
            format!(
                "bench{}",
                turn.fetch_add(1, Ordering::Relaxed) % conns as u64
            )
        }
    };
    let raw_argon = raw_argon2_rate(seconds);
    println!("raw Argon2id verification, all cores: {raw_argon:>8.1} hashes/s");
    let password = {
        let (base, user_of) = (base.clone(), user_of.clone());
        move |client: reqwest::Client| password_once(client, base.clone(), user_of())
    };
    let phase = load(conns, seconds, password).await;
    let password_rate = phase.rate();
    println!(
        "InitiateAuth USER_PASSWORD_AUTH:      {:>8.1} sign-ins/s ({:.2} of raw Argon2id, goal >= 0.8)  p50 {:.1} ms  p99 {:.1} ms  errors {}",
        password_rate,
        password_rate / raw_argon,
        phase.pct(0.50),
        phase.pct(0.99),
        phase.errors
    );
    let srp = {
        let (base, user_of) = (base.clone(), user_of.clone());
        move |client: reqwest::Client| srp_once(client, base.clone(), user_of())
    };
    let phase = load(conns, seconds, srp).await;
    println!(
        "USER_SRP_AUTH (2 calls, client SRP here): {:>6.1} sign-ins/s ({:.2} of USER_PASSWORD_AUTH)  p50 {:.1} ms  p99 {:.1} ms  errors {}",
        phase.rate(),
        phase.rate() / password_rate.max(f64::MIN_POSITIVE),
        phase.pct(0.50),
        phase.pct(0.99),
        phase.errors
    );
}
