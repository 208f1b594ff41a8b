//! The account hardening issue's attacks (issue 8) through the user pools API, each beside
//! the honest request succeeding, mirroring the hosted-UI versions of
//! `tests/it/account_attacks/` (attack 1, parallel wrong passwords through InitiateAuth,
//! is in `auth::bursts`):
//! 2. sign-ups carrying someone else's address, and guesses spread over them, spend only
//!    that address's budgets (SignUp, ConfirmSignUp, ResendConfirmationCode);
//! 6. ConfirmSignUp, ResendConfirmationCode and ForgotPassword answer unknown, unconfirmed
//!    and confirmed users alike on an `ENABLED` client;
//! 8. an attacker's reset requests and wrong codes cost the attacker, not the owner
//!    (ForgotPassword, ConfirmForgotPassword).
//!
//! Raw JSON requests name their client address in `X-Forwarded-For` (127.0.0.1 is a
//! trusted proxy in the fixture), as a load balancer would; the SDK cannot.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};

use cognate::core::model::CodeLimits;

use super::{confirmed_user, APP, PASSWORD, POOL};
use crate::support::server::{browser_client, TestServer};

const VICTIM: &str = "ceo@victim.test";
const NEW_PASSWORD: &str = "N3w-battery-staple";

/// One user pools API call from client address `from`: the status and the JSON answer.
async fn call(server: &TestServer, action: &str, body: Value, from: &str) -> (u16, Value) {
    let r = browser_client()
        .post(&server.base)
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-forwarded-for", from)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The `__type` of an error answer (empty for a success).
fn kind(answer: &(u16, Value)) -> &str {
    answer.1.get("__type").and_then(Value::as_str).unwrap_or("")
}

fn sign_up_body(username: &str, email: &str) -> Value {
    json!({
        "ClientId": APP,
        "Username": username,
        "Password": PASSWORD,
        "UserAttributes": [{"Name": "email", "Value": email}],
    })
}

fn mails_to(server: &TestServer, address: &str) -> usize {
    let to = format!("To: {address}");
    server
        .inbox
        .all()
        .iter()
        .filter(|m| m.lines().any(|l| l.eq_ignore_ascii_case(&to)))
        .count()
}

/// Waits until `count` mails reached `address` (some codes go out in the background),
/// then a little longer to see that no more come.
async fn settle_mails(server: &TestServer, address: &str, count: usize) -> usize {
    for _ in 0..200 {
        if mails_to(server, address) >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    mails_to(server, address)
}

/// The code of the latest mail to `address`, once there are `count` of them.
async fn latest_code(server: &TestServer, address: &str, count: usize) -> String {
    assert_eq!(settle_mails(server, address, count).await, count);
    let to = format!("To: {address}");
    server
        .inbox
        .all()
        .iter()
        .rev()
        .find(|m| m.lines().any(|l| l.eq_ignore_ascii_case(&to)))
        .and_then(|m| crate::support::smtp::six_digits(m))
        .expect("a code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_over_many_sign_ups_never_verify_someone_elses_address() {
    let server = super::start().await;
    let limits = CodeLimits::default();
    // 20 sign-ups carrying the victim's address, at once, from 20 addresses.
    let signups = futures::stream::iter(0..20)
        .map(|i| {
            let server = &server;
            async move {
                let body = sign_up_body(&format!("mallory{i}"), VICTIM);
                (
                    i,
                    call(server, "SignUp", body, &format!("198.51.100.{i}")).await,
                )
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<_>>()
        .await;
    let accepted: Vec<usize> = signups
        .iter()
        .filter(|(_, a)| a.0 == 200)
        .map(|(i, _)| *i)
        .collect();
    let refused = signups
        .iter()
        .filter(|(_, a)| kind(a) == "LimitExceededException")
        .count();
    assert_eq!(accepted.len() + refused, 20, "{signups:?}");
    assert_eq!(accepted.len(), limits.sends_per_destination as usize);
    assert_eq!(
        settle_mails(&server, VICTIM, accepted.len()).await,
        accepted.len()
    );
    // The refused sign-ups were undone.
    assert_eq!(server.user_count(POOL).await, accepted.len() as u64);
    // Asking again for those accounts mails the victim nothing more.
    let again = call(
        &server,
        "ResendConfirmationCode",
        json!({"ClientId": APP, "Username": format!("mallory{}", accepted[0])}),
        "198.51.100.200",
    )
    .await;
    assert_eq!(kind(&again), "LimitExceededException");

    // 100 guesses spread over those accounts, at once, from 100 addresses: codes that are
    // none of the mailed ones, so any that verified would be a guess.
    let mailed: BTreeSet<String> = server
        .inbox
        .all()
        .iter()
        .filter(|m| m.contains(VICTIM))
        .filter_map(|m| crate::support::smtp::six_digits(m))
        .collect();
    let guesses: Vec<String> = (0u32..)
        .map(|n| format!("{n:06}"))
        .filter(|c| !mailed.contains(c))
        .take(100)
        .collect();
    let answers = futures::stream::iter(guesses.iter().enumerate())
        .map(|(k, code)| {
            let server = &server;
            let body = json!({
                "ClientId": APP,
                "Username": format!("mallory{}", accepted[k % accepted.len()]),
                "ConfirmationCode": code,
            });
            async move { call(server, "ConfirmSignUp", body, &format!("203.0.113.{k}")).await }
        })
        .buffer_unordered(25)
        .collect::<Vec<_>>()
        .await;
    let compared = answers
        .iter()
        .filter(|a| kind(a) == "CodeMismatchException")
        .count();
    let limited = answers
        .iter()
        .filter(|a| kind(a) == "LimitExceededException")
        .count();
    assert_eq!(compared + limited, 100, "{:?}", answers.first());
    assert_eq!(compared, limits.tries_per_destination as usize);
    for i in &accepted {
        let user = server
            .find_user(POOL, &format!("mallory{i}"))
            .await
            .unwrap();
        assert_eq!(user.attribute("email_verified"), None, "mallory{i}");
        assert_eq!(user.status.as_str(), "UNCONFIRMED");
    }

    // Beside it, an honest user with another address signs up and confirms.
    let (status, _) = call(
        &server,
        "SignUp",
        sign_up_body("alice", "alice@example.com"),
        "192.0.2.10",
    )
    .await;
    assert_eq!(status, 200);
    let code = latest_code(&server, "alice@example.com", 1).await;
    let confirmed = call(
        &server,
        "ConfirmSignUp",
        json!({"ClientId": APP, "Username": "alice", "ConfirmationCode": code}),
        "192.0.2.10",
    )
    .await;
    assert_eq!(confirmed.0, 200, "{:?}", confirmed.1);
}

/// The shape of an answer with every masked letter and digit of the destination blurred:
/// what an enumerating attacker could compare.
fn shape(answer: &(u16, Value)) -> Value {
    let mut value = answer.1.clone();
    if let Some(details) = value.get_mut("CodeDeliveryDetails") {
        let destination = details["Destination"].as_str().unwrap_or_default();
        assert!(destination.contains("***@"), "{destination}");
        details["Destination"] = json!("masked");
    }
    json!({"status": answer.0, "body": value})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_unconfirmed_and_confirmed_users_are_answered_alike() {
    let server = super::start().await;
    confirmed_user(&server, POOL, "confirmed", "confirmed@example.com").await;
    let (status, _) = call(
        &server,
        "SignUp",
        sign_up_body("unconfirmed", "unconfirmed@example.com"),
        "192.0.2.1",
    )
    .await;
    assert_eq!(status, 200);
    let code = latest_code(&server, "unconfirmed@example.com", 1).await;
    let users = ["nobody", "unconfirmed", "confirmed"];

    for (i, action) in ["ConfirmSignUp", "ResendConfirmationCode", "ForgotPassword"]
        .into_iter()
        .enumerate()
    {
        let mut shapes = Vec::new();
        for (j, user) in users.into_iter().enumerate() {
            let mut body = json!({"ClientId": APP, "Username": user});
            if action == "ConfirmSignUp" {
                body["ConfirmationCode"] =
                    json!(if code == "000000" { "000001" } else { "000000" });
            }
            let answer = call(&server, action, body, &format!("203.0.113.{}", i * 3 + j)).await;
            shapes.push(shape(&answer));
        }
        assert_eq!(shapes[0], shapes[1], "{action}: unknown vs unconfirmed");
        assert_eq!(shapes[1], shapes[2], "{action}: unconfirmed vs confirmed");
        if action == "ConfirmSignUp" {
            assert_eq!(shapes[0]["body"]["__type"], "CodeMismatchException");
        } else {
            assert_eq!(shapes[0]["status"], 200, "{action}: {:?}", shapes[0]);
        }
    }

    // Beside it, the honest unconfirmed user's latest code confirms them.
    let code = latest_code(&server, "unconfirmed@example.com", 2).await;
    let confirmed = call(
        &server,
        "ConfirmSignUp",
        json!({"ClientId": APP, "Username": "unconfirmed", "ConfirmationCode": code}),
        "192.0.2.1",
    )
    .await;
    assert_eq!(confirmed.0, 200, "{:?}", confirmed.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_cannot_deny_the_owner_recovery() {
    let server = super::start().await;
    let limits = CodeLimits::default();
    let owner = "owner@example.com";
    confirmed_user(&server, POOL, "owner", owner).await;
    let attacker = "203.0.113.66";
    let forgot = json!({"ClientId": APP, "Username": "owner"});

    // The attacker asks for resets and guesses codes from one address until refused.
    let mut sent = 0;
    for _ in 0..10 {
        match kind(&call(&server, "ForgotPassword", forgot.clone(), attacker).await) {
            "" => sent += 1,
            "LimitExceededException" => {}
            other => panic!("{other}"),
        }
    }
    // One address gets at most half the destination's sends.
    assert_eq!(sent, (limits.sends_per_destination as usize).div_ceil(2));
    let mut tried = 0;
    for k in 0..20 {
        let guess = json!({
            "ClientId": APP,
            "Username": "owner",
            "ConfirmationCode": format!("{k:06}"),
            "Password": NEW_PASSWORD,
        });
        match kind(&call(&server, "ConfirmForgotPassword", guess, attacker).await) {
            "CodeMismatchException" => tried += 1,
            "LimitExceededException" => {}
            // A guess that hit would have been the attacker's luck, one in a million.
            other => panic!("{other}"),
        }
    }
    assert_eq!(tried, (limits.tries_per_destination as usize).div_ceil(2));

    // The owner, from their own address, still gets a code and resets with it.
    let mails = settle_mails(&server, owner, sent).await;
    let home = "198.51.100.8";
    let asked = call(&server, "ForgotPassword", forgot.clone(), home).await;
    assert_eq!(asked.0, 200, "{:?}", asked.1);
    let code = latest_code(&server, owner, mails + 1).await;
    let reset = call(
        &server,
        "ConfirmForgotPassword",
        json!({
            "ClientId": APP,
            "Username": "owner",
            "ConfirmationCode": code,
            "Password": NEW_PASSWORD,
        }),
        home,
    )
    .await;
    assert_eq!(reset.0, 200, "{:?}", reset.1);
    let signed_in = call(
        &server,
        "InitiateAuth",
        json!({
            "ClientId": APP,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "owner", "PASSWORD": NEW_PASSWORD},
        }),
        home,
    )
    .await;
    assert_eq!(signed_in.0, 200, "{:?}", signed_in.1);
}
