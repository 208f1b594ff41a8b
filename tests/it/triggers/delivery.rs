//! Delivery: timeouts, redirects and oversized answers refused; signatures that a
//! receiver verifies, and replayed or forged ones it refuses; the secret shown and
//! rotated by the CLI; LambdaConfig through the AWS SDK.

use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::LambdaConfigType;
use aws_sdk_cognitoidentityprovider::Client;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};

use super::{attr, start, APP, PASSWORD, POOL, PRE_SIGN_UP};
use crate::support::webhook::{verify, Answer};
use crate::user_pools::{operator_client, public_client};

async fn sign_up(sdk: &Client, username: &str) -> Result<bool, (String, String)> {
    sdk.sign_up()
        .client_id(APP)
        .username(username)
        .password(PASSWORD)
        .user_attributes(attr("email", &format!("{username}@example.com")))
        .send()
        .await
        .map(|out| out.user_confirmed)
        .map_err(|e| {
            (
                e.code().unwrap_or_default().to_string(),
                e.message().unwrap_or_default().to_string(),
            )
        })
}

#[tokio::test]
async fn timeouts_redirects_and_oversized_answers_refuse_the_sign_up() {
    let (server, hooks) = start().await;
    let sdk = public_client(&server);

    // Past the (test's 1 s) timeout: three attempts, then refused.
    hooks.answer(PRE_SIGN_UP, Answer::Sleep(Duration::from_millis(1500)));
    let started = Instant::now();
    let (kind, message) = sign_up(&sdk, "slow").await.expect_err("timed out");
    assert_eq!(kind, "UserLambdaValidationException");
    assert!(
        message.starts_with("PreSignUp failed with error Task timed out"),
        "{message}"
    );
    assert_eq!(hooks.deliveries(PRE_SIGN_UP).len(), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );

    // A redirect is a failure (never followed, not retried).
    hooks.answer(PRE_SIGN_UP, Answer::Redirect);
    let (kind, message) = sign_up(&sdk, "bounced").await.expect_err("redirect");
    assert_eq!(kind, "UserLambdaValidationException");
    assert!(message.contains("redirect"), "{message}");
    assert_eq!(hooks.deliveries(PRE_SIGN_UP).len(), 4);

    // 10 MB is past the cap.
    hooks.answer(PRE_SIGN_UP, Answer::Huge);
    let (kind, message) = sign_up(&sdk, "flooded").await.expect_err("too large");
    assert_eq!(kind, "UserLambdaValidationException");
    assert!(message.contains("larger than"), "{message}");

    for name in ["slow", "bounced", "flooded"] {
        assert!(
            server.find_user(POOL, name).await.is_none(),
            "{name} stored"
        );
    }
    // The honest webhook: the sign-up passes.
    hooks.answer(PRE_SIGN_UP, Answer::Respond(None));
    assert_eq!(sign_up(&sdk, "patient").await, Ok(false));
    assert!(server.find_user(POOL, "patient").await.is_some());
}

fn sign_with(key: &[u8], id: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn replayed_or_forged_signatures_fail_the_receivers_check() {
    let (server, hooks) = start().await;
    let sdk = public_client(&server);
    assert_eq!(sign_up(&sdk, "erin").await, Ok(false));
    let honest = hooks.deliveries(PRE_SIGN_UP).remove(0);
    let secret = server.node.webhooks.secret(POOL).await.unwrap().display();
    let now = chrono::Utc::now().timestamp();
    let check =
        |id: &str, ts: &str, sig: &str, body: &str, at: i64| verify(&secret, id, ts, sig, body, at);
    assert_eq!(
        check(
            &honest.id,
            &honest.timestamp,
            &honest.signature,
            &honest.body,
            now
        ),
        Ok(())
    );
    // Replayed later than the tolerance: refused.
    assert!(check(
        &honest.id,
        &honest.timestamp,
        &honest.signature,
        &honest.body,
        now + 600
    )
    .is_err());
    // A changed body, or a signature under another key: refused.
    let forged_body = honest.body.replace("erin", "mallory");
    assert!(check(
        &honest.id,
        &honest.timestamp,
        &honest.signature,
        &forged_body,
        now
    )
    .is_err());
    let ts: i64 = honest.timestamp.parse().unwrap();
    let other_key = sign_with(&[7u8; 32], &honest.id, ts, &honest.body);
    assert!(check(&honest.id, &honest.timestamp, &other_key, &honest.body, now).is_err());

    // Over HTTP, the receiver refuses both, and takes the honest delivery.
    let http = crate::support::http();
    let post = |ts: String, sig: String, body: String| {
        http.post(hooks.url(PRE_SIGN_UP))
            .header("content-type", "application/json")
            .header("webhook-id", &honest.id)
            .header("webhook-timestamp", ts)
            .header("webhook-signature", sig)
            .body(body)
            .send()
    };
    let key = STANDARD.decode(&secret["whsec_".len()..]).unwrap();
    let old = now - 3600;
    let replay = post(
        old.to_string(),
        sign_with(&key, &honest.id, old, &honest.body),
        honest.body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(replay.status(), 401);
    let forged = post(honest.timestamp.clone(), other_key, honest.body.clone())
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(hooks.refused(), 2);
    let again = post(
        honest.timestamp.clone(),
        honest.signature.clone(),
        honest.body.clone(),
    )
    .await
    .unwrap();
    assert_eq!(again.status(), 200);
}

fn cli(server: &crate::support::server::TestServer, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"))
        .arg("--data-dir")
        .arg(server.data_dir())
        .args(args)
        .env_remove("COGNATE_DATABASE_URL")
        .env_remove("COGNATE_MASTER_KEY")
        .env_remove("COGNATE_CONFIG")
        .output()
        .expect("run cognate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test]
async fn the_cli_shows_and_rotates_the_secret_receivers_verify_with() {
    let (server, hooks) = start().await;
    let sdk = public_client(&server);
    let shown = cli(&server, &["triggers", "secret", POOL]);
    assert_eq!(
        shown,
        server.node.webhooks.secret(POOL).await.unwrap().display()
    );
    assert!(shown.starts_with("whsec_"));

    let rotated = cli(&server, &["triggers", "rotate-secret", POOL]);
    assert_ne!(rotated, shown);
    // The receiver still holds the old secret: it refuses the delivery (401), which
    // refuses the sign-up.
    let (kind, _) = sign_up(&sdk, "frank").await.expect_err("old secret");
    assert_eq!(kind, "UserLambdaValidationException");
    assert_eq!(hooks.refused(), 1);
    // Given the new one, it verifies again.
    hooks.set_secret(&rotated);
    assert_eq!(sign_up(&sdk, "frank").await, Ok(false));
}

#[tokio::test]
async fn lambda_config_round_trips_through_the_sdk() {
    let (server, hooks) = start().await;
    let admin = operator_client(&server).await;
    let url = hooks.url("/api-pre-sign-up");
    let created = admin
        .create_user_pool()
        .pool_name("api hooks")
        .lambda_config(
            LambdaConfigType::builder()
                .pre_sign_up(&url)
                .post_authentication("https://hooks.example.com/post-auth")
                .build(),
        )
        .send()
        .await
        .expect("create");
    let id = created.user_pool.unwrap().id.unwrap();
    let described = admin
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap();
    let lambda = described.user_pool.unwrap().lambda_config.unwrap();
    assert_eq!(lambda.pre_sign_up.as_deref(), Some(url.as_str()));
    assert_eq!(
        lambda.post_authentication.as_deref(),
        Some("https://hooks.example.com/post-auth")
    );
    assert_eq!(lambda.pre_authentication, None);

    // Refused by name: an ARN, a trigger not called yet, plain http beyond loopback.
    let refused = |config: LambdaConfigType| {
        let admin = admin.clone();
        let id = id.clone();
        async move {
            let e = admin
                .update_user_pool()
                .user_pool_id(id)
                .lambda_config(config)
                .send()
                .await
                .expect_err("refused");
            (
                e.code().unwrap_or_default().to_string(),
                e.message().unwrap_or_default().to_string(),
            )
        }
    };
    let (kind, message) = refused(
        LambdaConfigType::builder()
            .pre_sign_up("arn:aws:lambda:us-east-1:123456789012:function:pre")
            .build(),
    )
    .await;
    assert_eq!(kind, "InvalidParameterException");
    assert!(
        message.contains("LambdaConfig.PreSignUp") && message.contains("URL"),
        "{message}"
    );
    // The migration webhook receives clear passwords: https only (http to loopback).
    let (kind, message) = refused(
        LambdaConfigType::builder()
            .user_migration("http://hooks.example.com/migrate")
            .build(),
    )
    .await;
    assert_eq!(kind, "InvalidParameterException");
    assert!(
        message.contains("LambdaConfig.UserMigration") && message.contains("loopback"),
        "{message}"
    );
    let (kind, message) = refused(
        LambdaConfigType::builder()
            .post_confirmation("http://hooks.example.com/confirmed")
            .build(),
    )
    .await;
    assert_eq!(kind, "InvalidParameterException");
    assert!(
        message.contains("LambdaConfig.PostConfirmation") && message.contains("loopback"),
        "{message}"
    );

    // The honest update replaces the set; an update without LambdaConfig clears it.
    admin
        .update_user_pool()
        .user_pool_id(&id)
        .lambda_config(
            LambdaConfigType::builder()
                .post_confirmation("https://hooks.example.com/confirmed")
                .user_migration("https://hooks.example.com/migrate")
                .build(),
        )
        .send()
        .await
        .expect("update");
    let lambda = admin
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .lambda_config
        .unwrap();
    assert_eq!(lambda.pre_sign_up, None);
    assert_eq!(
        lambda.post_confirmation.as_deref(),
        Some("https://hooks.example.com/confirmed")
    );
    assert_eq!(
        lambda.user_migration.as_deref(),
        Some("https://hooks.example.com/migrate")
    );
    admin
        .update_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("update");
    let lambda = admin
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .lambda_config;
    assert!(
        lambda.is_none_or(|l| l.post_confirmation.is_none() && l.pre_sign_up.is_none()),
        "cleared"
    );
}

/// Review finding: any holder of an operator API key could point a pool's webhooks at the
/// node's own or its network's internal services (SSRF). Without the operator's opt-in
/// (`[server] api_webhooks_on_loopback`), LambdaConfig through the API refuses loopback
/// hosts, and any address written in the URL that is not public; a public https URL is
/// accepted. The file's triggers stay free to use loopback (every test receiver is).
#[tokio::test]
async fn api_webhooks_may_not_target_internal_addresses() {
    let server = crate::support::server::TestServer::start("").await;
    let admin = operator_client(&server).await;
    let before = server.node.store.list_pools().await.unwrap().len();
    for (url, expected) in [
        ("http://127.0.0.1:6379/hook", "api_webhooks_on_loopback"),
        ("http://localhost:8080/admin", "api_webhooks_on_loopback"),
        ("https://sub.localhost/hook", "api_webhooks_on_loopback"),
        ("http://[::1]:9000/hook", "api_webhooks_on_loopback"),
        ("https://10.0.0.5/hook", "not a public address"),
        (
            "https://169.254.169.254/latest/meta-data",
            "not a public address",
        ),
        ("https://[::ffff:192.168.1.1]/hook", "not a public address"),
    ] {
        let e = admin
            .create_user_pool()
            .pool_name("ssrf")
            .lambda_config(LambdaConfigType::builder().pre_sign_up(url).build())
            .send()
            .await
            .expect_err(url);
        assert_eq!(e.code(), Some("InvalidParameterException"), "{url}");
        let message = e.message().unwrap_or_default();
        assert!(
            message.starts_with("LambdaConfig.PreSignUp:") && message.contains(expected),
            "{url}: {message}"
        );
    }
    assert_eq!(server.node.store.list_pools().await.unwrap().len(), before);

    // The honest webhook, on a public https URL, is accepted; an update cannot move it
    // onto loopback either, and the refused update changes nothing.
    let id = admin
        .create_user_pool()
        .pool_name("public hooks")
        .lambda_config(
            LambdaConfigType::builder()
                .pre_sign_up("https://hooks.example.com/pre-sign-up")
                .build(),
        )
        .send()
        .await
        .expect("a public webhook")
        .user_pool
        .and_then(|p| p.id)
        .unwrap();
    let e = admin
        .update_user_pool()
        .user_pool_id(&id)
        .lambda_config(
            LambdaConfigType::builder()
                .user_migration("http://127.0.0.1:5432/")
                .build(),
        )
        .send()
        .await
        .expect_err("loopback on update");
    let message = e.message().unwrap_or_default();
    assert!(
        message.starts_with("LambdaConfig.UserMigration:"),
        "{message}"
    );
    let stored = server.pool(&id).await;
    assert_eq!(
        stored
            .triggers
            .url(cognate::core::model::TriggerKind::PreSignUp),
        Some("https://hooks.example.com/pre-sign-up")
    );
    assert_eq!(
        stored
            .triggers
            .url(cognate::core::model::TriggerKind::UserMigration),
        None
    );
    server.stop().await;
}

/// Review finding (issue 16's note): `api_webhooks_on_loopback` was checked only when a
/// URL was set, so a loopback URL accepted while it was on kept being called after the
/// operator turned it off. Now every delivery checks it too: the same API pool's webhook
/// on loopback is refused (and never reached) by a node with the setting off, and called
/// by one with it on; a configuration file's pool may always call loopback.
#[tokio::test]
async fn api_loopback_webhooks_are_refused_at_delivery_once_the_setting_is_off() {
    use cognate::core::model::{Origin, TriggerKind};
    use cognate::core::triggers::{WebhookSettings, Webhooks};

    let (server, receiver) = start().await;
    let mut pool = server.pool(POOL).await;
    let event =
        serde_json::json!({"triggerSource": "PreSignUp_SignUp", "request": {}, "response": {}});
    let node = |api_loopback: bool| {
        Webhooks::new(
            server.node.store.clone(),
            server.node.master.clone(),
            WebhookSettings {
                api_loopback,
                ..WebhookSettings::default()
            },
        )
    };
    let (off, on) = (node(false), node(true));

    // The file's pool: called on loopback whatever the setting.
    assert_eq!(pool.origin, Origin::Config);
    let called = off.call(&pool, TriggerKind::PreSignUp, &event).await;
    assert!(matches!(called, Some(Ok(_))), "{called:?}");
    assert_eq!(receiver.deliveries(PRE_SIGN_UP).len(), 1);

    // The same webhook as an API pool's: refused at once with the setting off, nothing
    // sent; called with it on.
    pool.origin = Origin::Api;
    let refused = off.call(&pool, TriggerKind::PreSignUp, &event).await;
    let message = match refused {
        Some(Err(e)) => e.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert!(
        message.starts_with("PreSignUp failed with error")
            && message.contains("api_webhooks_on_loopback is off"),
        "{message}"
    );
    assert_eq!(receiver.deliveries(PRE_SIGN_UP).len(), 1);
    let called = on.call(&pool, TriggerKind::PreSignUp, &event).await;
    assert!(matches!(called, Some(Ok(_))), "{called:?}");
    assert_eq!(receiver.deliveries(PRE_SIGN_UP).len(), 2);
}
