//! `cognate triggers test`: a sample event sent, signed as deliveries are, to the pool's
//! webhook or `--url`, the outcome printed with what Cognate would do with the answer.
//! The receiver is the verifying one of [`crate::support::webhook`] (it records only
//! deliveries whose signature verifies with the pool's secret); badly answering receivers
//! (4xx, a redirect, 10 MB) and refused answers exit non-zero with a clear message.

use serde_json::json;

use cognate::core::model::{PreTokenVersion, TriggerKind};

use super::Cli;
use crate::support::webhook::{Answer, Receiver};

#[test]
fn triggers_test_sends_signed_samples_and_reads_the_answers() {
    let cli = Cli::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let hooks = runtime.block_on(Receiver::start());
    let pool = cli.create_pool("");
    let p = pool.as_str();
    let secret = cli.ok(&format!("triggers secret {p}"));
    hooks.set_secret(secret.trim());

    // Declare two webhooks on the pool (as the file or UpdateUserPool would).
    runtime.block_on(async {
        let node = cli.node().await;
        let mut stored = node.store.get_pool(p).await.unwrap().unwrap();
        stored
            .triggers
            .0
            .insert(TriggerKind::PreSignUp, hooks.url("/pre-sign-up"));
        stored
            .triggers
            .0
            .insert(TriggerKind::PreTokenGeneration, hooks.url("/tokens"));
        stored.triggers.1 = PreTokenVersion::V2;
        node.store.put_pool(&stored).await.unwrap();
    });

    // Pre sign-up: the answer's flags, as the sign-up path reads them.
    hooks.answer(
        "/pre-sign-up",
        Answer::Respond(Some(
            json!({"autoConfirmUser": true, "autoVerifyEmail": true}),
        )),
    );
    let out = cli.ok(&format!(
        "triggers test {p} pre_sign_up --source PreSignUp_AdminCreateUser"
    ));
    for needle in [
        "HTTP 200",
        "latency:",
        "autoConfirmUser",
        "email_verified",
        "response:",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    let events = hooks.events("/pre-sign-up");
    assert_eq!(events.len(), 1, "one signed delivery");
    assert_eq!(events[0]["triggerSource"], "PreSignUp_AdminCreateUser");
    assert_eq!(events[0]["userPoolId"], p);
    assert!(events[0]["request"]["userAttributes"]["email"].is_string());

    // Pre token generation V2: honest claim changes shown; a protected claim is refused
    // as the token path refuses it, with a non-zero exit.
    hooks.answer(
        "/tokens",
        Answer::Respond(Some(json!({"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToAddOrOverride": {"tier": "gold"}},
            "accessTokenGeneration": {"scopesToAdd": ["shop/read"]}}}))),
    );
    let out = cli.ok(&format!("triggers test {p} PreTokenGeneration"));
    for needle in [
        "V2_0",
        "ID token: add or override",
        "tier",
        "scopes added: shop/read",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    assert_eq!(
        hooks.events("/tokens")[0]["triggerSource"],
        "TokenGeneration_HostedAuth"
    );
    hooks.answer(
        "/tokens",
        Answer::Respond(Some(json!({"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {"claimsToAddOrOverride": {"sub": "someone-else"}}}}))),
    );
    cli.fails(
        &format!("triggers test {p} pre_token_generation --source TokenGeneration_RefreshTokens"),
        &[
            "UserLambdaValidationException",
            "\"sub\"",
            "cannot be changed",
        ],
    );
    // V2 sends no client-credentials event; the sources are named.
    cli.fails(
        &format!(
            "triggers test {p} pre_token_generation --source TokenGeneration_ClientCredentials"
        ),
        &["TokenGeneration_HostedAuth", "V3_0"],
    );

    // Receivers answering badly, through --url: a refusal (4xx, not retried), a redirect
    // (not followed), 10 MB (refused past the cap). Each is one signed attempt.
    hooks.answer(
        "/refuses",
        Answer::Error(403, "Email domain not allowed".into()),
    );
    hooks.answer("/redirects", Answer::Redirect);
    hooks.answer("/huge", Answer::Huge);
    for (path, needles) in [
        ("/refuses", &["HTTP 403", "Email domain not allowed"][..]),
        ("/redirects", &["HTTP 302", "redirect", "not followed"][..]),
        ("/huge", &["larger than 262144 bytes"][..]),
    ] {
        let url = hooks.url(path);
        let out = cli.run(&format!("triggers test {p} pre_sign_up --url {url}"), None);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{path}: {stdout}\n{stderr}");
        assert!(
            stderr.contains("the pre_sign_up webhook test failed")
                && stderr.contains("UserLambdaValidationException"),
            "{path}: {stderr}"
        );
        for needle in needles {
            assert!(
                stdout.contains(needle) || stderr.contains(needle),
                "{path}: {needle}: {stdout}\n{stderr}"
            );
        }
        assert_eq!(hooks.deliveries(path).len(), 1, "{path}: one attempt");
    }
    // A post confirmation failure is logged by Cognate (the confirmation stands): the
    // test still exits non-zero, saying so.
    cli.fails(
        &format!(
            "triggers test {p} post_confirmation --url {}",
            hooks.url("/refuses")
        ),
        &["logged", "the confirmation stands"],
    );
    assert_eq!(hooks.refused(), 0, "every delivery verified");

    // Refused by name: a trigger not supported yet, a source of another trigger, a
    // trigger the pool does not declare without --url, something not a trigger.
    cli.fails(
        &format!("triggers test {p} custom_message --url {}", hooks.url("/m")),
        &["custom_message", "not supported yet"],
    );
    cli.fails(
        &format!("triggers test {p} pre_sign_up --source UserMigration_Authentication"),
        &["PreSignUp_SignUp", "PreSignUp_AdminCreateUser"],
    );
    cli.fails(
        &format!("triggers test {p} user_migration"),
        &["declares no user_migration webhook", "--url"],
    );
    cli.fails(&format!("triggers test {p} nonsense"), &["not a trigger"]);
    assert!(hooks.deliveries("/m").is_empty());
}
