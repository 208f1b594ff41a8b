//! `cognate triggers test`: a sample event sent, signed as deliveries are, to the pool's
//! webhook or `--url`, the outcome printed with what Cognate would do with the answer.
//! The receiver is the verifying one of [`crate::support::webhook`] (it records only
//! deliveries whose signature verifies with the pool's secret); badly answering receivers
//! (4xx, a redirect, 10 MB) and refused answers exit non-zero with a clear message.

use serde_json::json;

use cognate::core::model::{PreTokenVersion, TriggerKind};

use super::Cli;
use crate::support::sender_key::SenderKeyPair;
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

    // Refused by name: a source of another trigger, a trigger the pool does not declare
    // without --url, a custom sender without a sender key, something not a trigger.
    cli.fails(
        &format!("triggers test {p} custom_message --source PreSignUp_SignUp"),
        &["CustomMessage_SignUp", "CustomMessage_Authentication"],
    );
    cli.fails(
        &format!(
            "triggers test {p} custom_email_sender --url {}",
            hooks.url("/m")
        ),
        &["no sample custom_email_sender event is sent", "sender key"],
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

/// The message triggers (the sample code filled in, or encrypted to the pool's sender key
/// as deliveries encrypt it) and the custom challenge triggers (the flow's parsers and
/// rules), each with an honest answer and a refused one.
#[test]
fn triggers_test_covers_messages_and_custom_challenges() {
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
    let keys = SenderKeyPair::generate();
    runtime.block_on(async {
        let node = cli.node().await;
        let mut stored = node.store.get_pool(p).await.unwrap().unwrap();
        for (kind, path) in [
            (TriggerKind::CustomMessage, "/message"),
            (TriggerKind::CustomEmailSender, "/email"),
            (TriggerKind::CustomSmsSender, "/sms"),
            (TriggerKind::DefineAuthChallenge, "/define"),
            (TriggerKind::CreateAuthChallenge, "/create"),
            (TriggerKind::VerifyAuthChallenge, "/verify"),
        ] {
            stored.triggers.0.insert(kind, hooks.url(path));
        }
        stored.triggers.2 = Some(keys.public_pem.clone());
        node.store.put_pool(&stored).await.unwrap();
    });

    // Custom message: the messages Cognate would send, the sample code filled in; an
    // email message without {####} is refused as the delivery refuses it.
    hooks.answer(
        "/message",
        Answer::Respond(Some(json!({
            "emailSubject": "Welcome",
            "emailMessage": "Hello {username}, your code is {####}",
            "smsMessage": null}))),
    );
    let out = cli.ok(&format!(
        "triggers test {p} CustomMessage --source CustomMessage_AdminCreateUser"
    ));
    for needle in [
        "email subject: Welcome",
        "email message: Hello sample-user, your code is 123456",
        "SMS message: Cognate's own",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    let event = &hooks.events("/message")[0];
    assert_eq!(event["triggerSource"], "CustomMessage_AdminCreateUser");
    assert_eq!(event["request"]["codeParameter"], "{####}");
    assert_eq!(event["request"]["usernameParameter"], "{username}");
    hooks.answer(
        "/message",
        Answer::Respond(Some(json!({"emailMessage": "Hello, no code"}))),
    );
    cli.fails(
        &format!("triggers test {p} custom_message"),
        &["UserLambdaValidationException", "{####}"],
    );

    // Custom senders: the code encrypted to the pool's key (the receiver decrypts it);
    // the answer is not read; a refusing webhook fails the test.
    let out = cli.ok(&format!("triggers test {p} custom_email_sender"));
    assert!(out.contains("the answer is not read"), "{out}");
    let out = cli.ok(&format!(
        "triggers test {p} CustomSMSSender --source CustomSMSSender_ForgotPassword"
    ));
    assert!(out.contains("the answer is not read"), "{out}");
    for (path, source, request_type) in [
        (
            "/email",
            "CustomEmailSender_SignUp",
            "customEmailSenderRequestV1",
        ),
        (
            "/sms",
            "CustomSMSSender_ForgotPassword",
            "customSMSSenderRequestV1",
        ),
    ] {
        let event = &hooks.events(path)[0];
        assert_eq!(event["triggerSource"], source);
        assert_eq!(event["request"]["type"], request_type);
        let code = event["request"]["code"].as_str().unwrap();
        assert_ne!(code, "123456");
        assert_eq!(keys.decrypt(code), "123456");
    }
    hooks.answer("/sms", Answer::Error(403, "carrier refused".into()));
    cli.fails(
        &format!("triggers test {p} custom_sms_sender"),
        &["UserLambdaValidationException", "carrier refused"],
    );

    // Define: after one correct answer (the sample session), issuing tokens is honoured;
    // a challenge Cognate does not serve is InvalidLambdaResponseException.
    hooks.answer(
        "/define",
        Answer::Respond(Some(json!({"issueTokens": true}))),
    );
    let out = cli.ok(&format!("triggers test {p} define_auth_challenge"));
    assert!(out.contains("Cognate issues the tokens"), "{out}");
    let session = &hooks.events("/define")[0]["request"]["session"];
    assert_eq!(session[0]["challengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(session[0]["challengeResult"], true);
    hooks.answer(
        "/define",
        Answer::Respond(Some(json!({"challengeName": "SRP_A"}))),
    );
    cli.fails(
        &format!("triggers test {p} DefineAuthChallenge"),
        &["InvalidLambdaResponseException", "CUSTOM_CHALLENGE only"],
    );

    // Create: public parameters (with USERNAME) for the client, private ones kept; a
    // parameter that is not a string is refused.
    hooks.answer(
        "/create",
        Answer::Respond(Some(json!({
            "publicChallengeParameters": {"question": "2+2?"},
            "privateChallengeParameters": {"expected": "4"},
            "challengeMetadata": "ARITHMETIC"}))),
    );
    let out = cli.ok(&format!("triggers test {p} create_auth_challenge"));
    for needle in [
        "sent to the client",
        "\"question\":\"2+2?\"",
        "\"USERNAME\":\"sample-user\"",
        "kept sealed on the server for verify: expected",
        "ARITHMETIC",
    ] {
        assert!(out.contains(needle), "{needle}: {out}");
    }
    assert_eq!(
        hooks.events("/create")[0]["request"]["challengeName"],
        "CUSTOM_CHALLENGE"
    );
    hooks.answer(
        "/create",
        Answer::Respond(Some(json!({"publicChallengeParameters": {"question": 4}}))),
    );
    cli.fails(
        &format!("triggers test {p} create_auth_challenge"),
        &[
            "InvalidLambdaResponseException",
            "publicChallengeParameters.question",
        ],
    );

    // Verify: answerCorrect read as the flow reads it; not a boolean is refused.
    hooks.answer(
        "/verify",
        Answer::Respond(Some(json!({"answerCorrect": true}))),
    );
    let out = cli.ok(&format!("triggers test {p} verify_auth_challenge"));
    assert!(out.contains("answerCorrect true"), "{out}");
    let event = &hooks.events("/verify")[0];
    assert_eq!(
        event["triggerSource"],
        "VerifyAuthChallengeResponse_Authentication"
    );
    assert!(event["request"]["challengeAnswer"].is_string());
    hooks.answer(
        "/verify",
        Answer::Respond(Some(json!({"answerCorrect": "yes"}))),
    );
    cli.fails(
        &format!("triggers test {p} verify_auth_challenge"),
        &["InvalidLambdaResponseException", "answerCorrect"],
    );
    assert_eq!(hooks.refused(), 0, "every delivery verified");
}
