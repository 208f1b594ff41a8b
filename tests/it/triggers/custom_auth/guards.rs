//! What an attacker of CUSTOM_AUTH meets: single-use sessions bound to their user and
//! client, refused clients and pools, unknown users asked alike, a parallel guessing burst
//! stopped by the attempt limits, failing webhooks answered with Cognito's errors, and an
//! oversized ClientMetadata refused. Each is paired with the honest flow succeeding.

use super::*;

#[tokio::test]
async fn sessions_are_single_use_and_bound_to_their_user_and_client() {
    let (server, _hooks, mailbox) = start().await;
    server.user(POOL, "sam", PASSWORD).await;
    server.user(POOL, "mallory", PASSWORD).await;
    let sdk = public_client(&server);
    let expired = pair((
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
    ));

    // Another client's session, and another user's name on it, are refused...
    let session = initiate(&sdk, APP, "sam").await.unwrap().session.unwrap();
    let code = last_code(&mailbox, "sam");
    assert_eq!(
        answer(&sdk, OTHER, &session, "sam", &code)
            .await
            .unwrap_err(),
        expired
    );
    assert_eq!(
        answer(&sdk, APP, &session, "mallory", &code)
            .await
            .unwrap_err(),
        expired
    );
    // ... and leave it to its owner, whose answer is taken once.
    let done = answer(&sdk, APP, &session, "sam", &code)
        .await
        .expect("tokens");
    assert!(done.authentication_result.is_some());
    assert_eq!(
        answer(&sdk, APP, &session, "sam", &code).await.unwrap_err(),
        expired
    );

    // A session answered wrongly is spent too: its replay with the right code fails.
    let session = initiate(&sdk, APP, "sam").await.unwrap().session.unwrap();
    let code = last_code(&mailbox, "sam");
    let next = answer(&sdk, APP, &session, "sam", "nope").await.unwrap();
    assert_eq!(
        answer(&sdk, APP, &session, "sam", &code).await.unwrap_err(),
        expired
    );
    let code = last_code(&mailbox, "sam");
    let done = answer(&sdk, APP, &next.session.unwrap(), "sam", &code)
        .await
        .expect("tokens");
    assert!(done.authentication_result.is_some());
    stop(server).await;
}

#[tokio::test]
async fn the_flow_is_refused_without_allow_custom_auth_or_triggers() {
    let (server, hooks, mailbox) = start().await;
    server.user(POOL, "nina", PASSWORD).await;
    let sdk = public_client(&server);
    assert_eq!(
        initiate(&sdk, NO_CUSTOM, "nina").await.unwrap_err(),
        pair((
            "InvalidParameterException",
            "CUSTOM_AUTH flow not enabled for this client"
        ))
    );
    // A session of the flow cannot be answered through that client either.
    let session = initiate(&sdk, APP, "nina").await.unwrap().session.unwrap();
    let code = last_code(&mailbox, "nina");
    assert_eq!(
        answer(&sdk, NO_CUSTOM, &session, "nina", &code)
            .await
            .unwrap_err()
            .0,
        "InvalidParameterException"
    );
    // A pool without the triggers refuses as Cognito does.
    assert_eq!(
        initiate(&sdk, PLAIN_APP, "nina").await.unwrap_err(),
        pair((
            "InvalidParameterException",
            "Custom auth lambda trigger is not configured for the user pool."
        ))
    );
    // The SRP-first variant is refused by name.
    let err = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "nina")
        .auth_parameters("CHALLENGE_NAME", "SRP_A")
        .auth_parameters("SRP_A", "abcd")
        .send()
        .await
        .unwrap_err();
    let (kind, message) = refusal(&err);
    assert_eq!(kind, "InvalidParameterException");
    assert!(message.contains("CHALLENGE_NAME SRP_A"), "{message}");
    // The honest flow through the allowed client still works.
    let done = answer(&sdk, APP, &session, "nina", &code)
        .await
        .expect("tokens");
    assert!(done.authentication_result.is_some());
    assert_eq!(hooks.events(VERIFY).len(), 1);
    stop(server).await;
}

#[tokio::test]
async fn unknown_users_are_asked_alike_and_never_signed_in() {
    let (server, hooks, mailbox) = start().await;
    server.user(POOL, "kate", PASSWORD).await;
    let sdk = public_client(&server);

    let known = initiate(&sdk, APP, "kate").await.unwrap();
    let ghost = initiate(&sdk, APP, "ghost").await.expect("a challenge");
    assert_eq!(ghost.challenge_name, known.challenge_name);
    let mut known_keys: Vec<_> = known
        .challenge_parameters
        .clone()
        .unwrap()
        .into_keys()
        .collect();
    let mut ghost_keys: Vec<_> = ghost
        .challenge_parameters
        .clone()
        .unwrap()
        .into_keys()
        .collect();
    known_keys.sort();
    ghost_keys.sort();
    assert_eq!(known_keys, ghost_keys);
    assert_eq!(
        ghost.challenge_parameters.as_ref().unwrap()["USERNAME"],
        "ghost"
    );
    let define = hooks.events(DEFINE).pop().unwrap();
    assert_eq!(define["userName"], "ghost");
    assert_eq!(define["request"]["userNotFound"], true);
    assert_eq!(define["request"]["userAttributes"], json!({}));
    assert_eq!(
        hooks.events(CREATE).pop().unwrap()["request"]["userNotFound"],
        true
    );

    // Even the code create made is no right answer for nobody: the rounds go as a known
    // user's wrong answers go, to the same refusal.
    let mut k = known.session.unwrap();
    let mut g = ghost.session.unwrap();
    for round in 0..3 {
        let code = last_code(&mailbox, "ghost");
        let known_answer = answer(&sdk, APP, &k, "kate", "nope").await;
        let ghost_answer = answer(&sdk, APP, &g, "ghost", &code).await;
        let verify = hooks.events(VERIFY).pop().unwrap();
        assert_eq!(verify["request"]["userNotFound"], true);
        if round < 2 {
            let (ka, ga) = (known_answer.unwrap(), ghost_answer.unwrap());
            assert_eq!(ka.challenge_name, ga.challenge_name);
            k = ka.session.unwrap();
            g = ga.session.unwrap();
        } else {
            assert_eq!(known_answer.unwrap_err(), pair(INCORRECT));
            assert_eq!(ghost_answer.unwrap_err(), pair(INCORRECT));
        }
    }
    let last = hooks.events(DEFINE).pop().unwrap();
    assert_eq!(last["request"]["session"][0]["challengeResult"], false);
    assert!(server.find_user(POOL, "ghost").await.is_none());

    // A LEGACY client tells, as Cognito's LEGACY setting does.
    assert_eq!(
        initiate(&sdk, LEGACY, "ghost").await.unwrap_err(),
        pair(("UserNotFoundException", "User does not exist."))
    );
    // The honest user still signs in.
    let session = initiate(&sdk, APP, "kate").await.unwrap().session.unwrap();
    let code = last_code(&mailbox, "kate");
    assert!(answer(&sdk, APP, &session, "kate", &code)
        .await
        .unwrap()
        .authentication_result
        .is_some());
    stop(server).await;
}

/// A raw InitiateAuth / RespondToAuthChallenge from `address`.
async fn raw(server: &TestServer, action: &str, body: Value, address: &str) -> Value {
    browser_client()
        .post(&server.base)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .header("x-forwarded-for", address)
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn raw_initiate(server: &TestServer, user: &str, address: &str) -> String {
    let body = json!({
        "ClientId": APP,
        "AuthFlow": "CUSTOM_AUTH",
        "AuthParameters": {"USERNAME": user},
    });
    let out = raw(server, "InitiateAuth", body, address).await;
    out["Session"].as_str().expect("a session").to_string()
}

fn raw_answer(session: &str, user: &str, answer: &str) -> Value {
    json!({
        "ClientId": APP,
        "ChallengeName": "CUSTOM_CHALLENGE",
        "Session": session,
        "ChallengeResponses": {"USERNAME": user, "ANSWER": answer},
    })
}

#[tokio::test]
async fn a_parallel_burst_of_guesses_is_stopped_by_the_attempt_limits() {
    let (server, hooks, mailbox) = start().await;
    server.user(POOL, "otto", PASSWORD).await;
    const BURST: usize = 24;
    let attacker = "203.0.113.50";
    let mut sessions = Vec::new();
    for _ in 0..BURST {
        sessions.push(raw_initiate(&server, "otto", attacker).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, session) in sessions.into_iter().enumerate() {
        let server = server.clone();
        tasks.spawn(async move {
            let guess = format!("{:06}", 999_000 + i);
            raw(
                &server,
                "RespondToAuthChallenge",
                raw_answer(&session, "otto", &guess),
                attacker,
            )
            .await
        });
    }
    let (mut asked_again, mut locked) = (0, 0);
    while let Some(out) = tasks.join_next().await {
        let body = out.unwrap();
        if body["ChallengeName"] == "CUSTOM_CHALLENGE" {
            asked_again += 1;
        } else {
            assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
            assert_eq!(body["message"], "Password attempts exceeded", "{body}");
            locked += 1;
        }
    }
    let limit = usize::try_from(PAIR_LOCK_FAILURES).unwrap();
    // Only the limit's worth of answers reached verify, however many arrived at once.
    assert_eq!(hooks.events(VERIFY).len(), limit);
    assert_eq!((asked_again, locked), (limit, BURST - limit));
    // The attacker's address stays locked even with the right code.
    let session = raw_initiate(&server, "otto", attacker).await;
    let code = last_code(&mailbox, "otto");
    let body = raw(
        &server,
        "RespondToAuthChallenge",
        raw_answer(&session, "otto", &code),
        attacker,
    )
    .await;
    assert_eq!(body["message"], "Password attempts exceeded", "{body}");
    assert_eq!(hooks.events(VERIFY).len(), limit);
    // The real user, from their own address, signs in (slowed, not locked).
    let honest = "198.51.100.60";
    let session = raw_initiate(&server, "otto", honest).await;
    let code = last_code(&mailbox, "otto");
    let body = raw(
        &server,
        "RespondToAuthChallenge",
        raw_answer(&session, "otto", &code),
        honest,
    )
    .await;
    assert!(
        body["AuthenticationResult"]["AccessToken"].is_string(),
        "{body}"
    );
    stop(server).await;
}

#[tokio::test]
async fn webhook_failures_give_cognitos_errors() {
    let (server, hooks, mailbox) = start().await;
    server.user(POOL, "fay", PASSWORD).await;
    let sdk = public_client(&server);

    hooks.answer(DEFINE, Answer::Error(400, "define is down".into()));
    assert_eq!(
        initiate(&sdk, APP, "fay").await.unwrap_err(),
        pair((
            "UserLambdaValidationException",
            "DefineAuthChallenge failed with error define is down."
        ))
    );
    hooks.answer(DEFINE, Answer::Respond(Some(json!({"issueTokens": "yes"}))));
    let (kind, _) = initiate(&sdk, APP, "fay").await.unwrap_err();
    assert_eq!(kind, "InvalidLambdaResponseException");
    // issueTokens before any answer is never a sign-in.
    hooks.answer(DEFINE, Answer::Respond(Some(json!({"issueTokens": true}))));
    let (kind, _) = initiate(&sdk, APP, "fay").await.unwrap_err();
    assert_eq!(kind, "InvalidLambdaResponseException");
    hooks.answer(DEFINE, Answer::compute(define));

    hooks.answer(CREATE, Answer::Error(500, "no mail".into()));
    assert_eq!(
        initiate(&sdk, APP, "fay").await.unwrap_err(),
        pair((
            "UserLambdaValidationException",
            "CreateAuthChallenge failed with error no mail."
        ))
    );
    // Back to the OTP handlers; verify fails.
    let mailbox2 = otp_handlers(&hooks);
    let session = initiate(&sdk, APP, "fay").await.unwrap().session.unwrap();
    let code = last_code(&mailbox2, "fay");
    hooks.answer(VERIFY, Answer::Error(400, "verify refused".into()));
    assert_eq!(
        answer(&sdk, APP, &session, "fay", &code).await.unwrap_err(),
        pair((
            "UserLambdaValidationException",
            "VerifyAuthChallengeResponse failed with error verify refused."
        ))
    );
    // The honest flow with working webhooks.
    let mailbox3 = otp_handlers(&hooks);
    let session = initiate(&sdk, APP, "fay").await.unwrap().session.unwrap();
    let code = last_code(&mailbox3, "fay");
    assert!(answer(&sdk, APP, &session, "fay", &code)
        .await
        .unwrap()
        .authentication_result
        .is_some());
    drop(mailbox);
    stop(server).await;
}

#[tokio::test]
async fn oversized_client_metadata_is_refused_by_name() {
    let (server, hooks, _mailbox) = start().await;
    server.user(POOL, "max", PASSWORD).await;
    let sdk = public_client(&server);
    let err = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "max")
        .client_metadata("blob", "x".repeat(70 * 1024))
        .send()
        .await
        .unwrap_err();
    let (kind, message) = refusal(&err);
    assert_eq!(kind, "InvalidParameterException");
    assert!(message.contains("ClientMetadata"), "{message}");
    assert!(hooks.events(DEFINE).is_empty());
    assert!(initiate(&sdk, APP, "max").await.is_ok());
    stop(server).await;
}

#[tokio::test]
async fn an_unconfirmed_users_status_is_told_only_after_the_challenge() {
    let (server, _hooks, mailbox) = start().await;
    let sdk = public_client(&server);
    sdk.sign_up()
        .client_id(APP)
        .username("una")
        .password(PASSWORD)
        .user_attributes(super::super::attr("email", "una@example.com"))
        .send()
        .await
        .expect("signed up");
    // Asked like anyone; a wrong answer is a wrong answer.
    let session = initiate(&sdk, APP, "una").await.unwrap().session.unwrap();
    let next = answer(&sdk, APP, &session, "una", "nope").await.unwrap();
    // The right one tells the status, and no token.
    let code = last_code(&mailbox, "una");
    assert_eq!(
        answer(&sdk, APP, &next.session.unwrap(), "una", &code)
            .await
            .unwrap_err(),
        pair(("UserNotConfirmedException", "User is not confirmed."))
    );
    stop(server).await;
}
