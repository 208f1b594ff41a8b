//! USER_AUTH (choice-based sign-in, ALLOW_USER_AUTH): SELECT_CHALLENGE with the pool's
//! first factors, PREFERRED_CHALLENGE PASSWORD, PASSWORD_SRP (computed by aws-cognito-srp)
//! and EMAIL_OTP (the code read from the SMTP sink), an unknown user answered alike.

use aws_cognito_srp::{SrpClient, User as SrpUser};
use aws_sdk_cognitoidentityprovider::types::ChallengeNameType;

use super::*;

const CHOICE_POOL: &str = "us-east-1_ApiChoice01";
const CHOICE_APP: &str = "apichoice000000000000001";

fn toml() -> String {
    format!(
        r#"
[[pools]]
id = "{CHOICE_POOL}"
name = "API choice-based sign-in"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
sign_in_factors = ["PASSWORD", "EMAIL_OTP"]
# The log on (scoring acts on nothing): each sign-in step is recorded.
threat_protection = {{ mode = "audit" }}
{}"#,
        client_toml(
            CHOICE_APP,
            "choice app",
            r#"explicit_auth_flows = ["ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]"#
        )
    )
}

fn code_in(server: &TestServer, to: &str, seen: usize) -> Option<String> {
    let mails: Vec<String> = server
        .inbox
        .all()
        .into_iter()
        .filter(|m| m.contains(to))
        .collect();
    if mails.len() <= seen {
        return None;
    }
    let body = mails
        .last()?
        .split("\r\n\r\n")
        .skip(1)
        .collect::<Vec<_>>()
        .join("\n");
    let bytes = body.as_bytes();
    (0..bytes.len().saturating_sub(7)).find_map(|i| {
        let window = &bytes[i..i + 8];
        let before = i.checked_sub(1).map(|j| bytes[j]);
        let after = bytes.get(i + 8).copied();
        (window.iter().all(u8::is_ascii_digit)
            && !before.is_some_and(|b| b.is_ascii_digit())
            && !after.is_some_and(|b| b.is_ascii_digit()))
        .then(|| String::from_utf8_lossy(window).into_owned())
    })
}

async fn user_auth(
    sdk: &Client,
    username: &str,
    extra: &[(&str, &str)],
) -> Result<
    InitiateAuthOutput,
    SdkError<aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError>,
> {
    let mut call = sdk
        .initiate_auth()
        .client_id(CHOICE_APP)
        .auth_flow(AuthFlowType::UserAuth)
        .auth_parameters("USERNAME", username);
    for (k, v) in extra {
        call = call.auth_parameters(*k, *v);
    }
    call.send().await
}

#[tokio::test]
async fn user_auth_offers_the_pools_first_factors() {
    let server = TestServer::start(&toml()).await;
    confirmed_user(&server, CHOICE_POOL, "uma", "uma@example.com").await;
    let sdk = public_client(&server);

    // No preference: SELECT_CHALLENGE, the same for an unknown user.
    let out = user_auth(&sdk, "uma", &[]).await.unwrap();
    assert_eq!(
        out.challenge_name(),
        Some(&ChallengeNameType::SelectChallenge)
    );
    let available: Vec<&str> = out
        .available_challenges()
        .iter()
        .map(|c| c.as_str())
        .collect();
    assert_eq!(available, ["PASSWORD", "PASSWORD_SRP", "EMAIL_OTP"]);
    let ghost = user_auth(&sdk, "nobody", &[]).await.unwrap();
    assert_eq!(ghost.challenge_name(), out.challenge_name());
    assert_eq!(ghost.available_challenges(), out.available_challenges());
    // ANSWER PASSWORD: a wrong one refused (the session is spent), the right one signs in.
    let select = |session: String, answer: &'static str, extra: Vec<(&'static str, String)>| {
        let mut call = sdk
            .respond_to_auth_challenge()
            .client_id(CHOICE_APP)
            .challenge_name(ChallengeNameType::SelectChallenge)
            .session(session)
            .challenge_responses("USERNAME", "uma")
            .challenge_responses("ANSWER", answer);
        for (k, v) in extra {
            call = call.challenge_responses(k, v);
        }
        call.send()
    };
    let session = out.session().unwrap().to_string();
    let answered = select(
        session.clone(),
        "PASSWORD",
        vec![("PASSWORD", PASSWORD.into())],
    )
    .await
    .unwrap();
    assert_api_tokens(
        &server,
        CHOICE_POOL,
        CHOICE_APP,
        "uma",
        answered.authentication_result().unwrap(),
    )
    .await;
    assert_eq!(
        refusal(select(session, "PASSWORD", vec![("PASSWORD", PASSWORD.into())]).await).0,
        "NotAuthorizedException"
    );

    // ANSWER PASSWORD_SRP: the PASSWORD_VERIFIER challenge, answered by an independent client.
    let session = user_auth(&sdk, "uma", &[])
        .await
        .unwrap()
        .session()
        .unwrap()
        .to_string();
    let srp = SrpClient::new(SrpUser::new(CHOICE_POOL, "uma", PASSWORD), CHOICE_APP, None);
    let a = srp.get_auth_parameters().a;
    let challenge = select(session, "PASSWORD_SRP", vec![("SRP_A", a)])
        .await
        .unwrap();
    assert_eq!(
        challenge.challenge_name(),
        Some(&ChallengeNameType::PasswordVerifier)
    );
    let p = challenge.challenge_parameters().unwrap();
    let v = srp
        .verify(
            &p["SECRET_BLOCK"],
            &p["USER_ID_FOR_SRP"],
            &p["SALT"],
            &p["SRP_B"],
        )
        .unwrap();
    let out = sdk
        .respond_to_auth_challenge()
        .client_id(CHOICE_APP)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .send()
        .await
        .unwrap();
    assert!(out.authentication_result().is_some());

    // PREFERRED_CHALLENGE PASSWORD straight away; a wrong password is the usual refusal.
    let out = user_auth(
        &sdk,
        "uma",
        &[("PREFERRED_CHALLENGE", "PASSWORD"), ("PASSWORD", PASSWORD)],
    )
    .await
    .unwrap();
    assert!(out.authentication_result().is_some());
    let (code, _) = refusal(
        user_auth(
            &sdk,
            "uma",
            &[
                ("PREFERRED_CHALLENGE", "PASSWORD"),
                ("PASSWORD", "Wrong-horse-1"),
            ],
        )
        .await,
    );
    assert_eq!(code, "NotAuthorizedException");

    // PREFERRED_CHALLENGE EMAIL_OTP: a code mailed; wrong refused, right signs in.
    let seen = server
        .inbox
        .all()
        .iter()
        .filter(|m| m.contains("uma@example.com"))
        .count();
    let out = user_auth(&sdk, "uma", &[("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    let session = out.session().unwrap().to_string();
    let mut code = None;
    for _ in 0..200 {
        code = code_in(&server, "uma@example.com", seen);
        if code.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let code = code.expect("a sign-in code mailed");
    let answer = |code: String| {
        sdk.respond_to_auth_challenge()
            .client_id(CHOICE_APP)
            .challenge_name(ChallengeNameType::EmailOtp)
            .session(&session)
            .challenge_responses("USERNAME", "uma")
            .challenge_responses("EMAIL_OTP_CODE", code)
            .send()
    };
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    assert_eq!(
        refusal(answer(wrong.into()).await).0,
        "CodeMismatchException"
    );
    let out = answer(code).await.unwrap();
    assert_api_tokens(
        &server,
        CHOICE_POOL,
        CHOICE_APP,
        "uma",
        out.authentication_result().unwrap(),
    )
    .await;
    // The pool's log holds each answer to the emailed code as a sign-in step.
    server.node.events.flush().await;
    let uma = server.find_user(CHOICE_POOL, "uma").await.unwrap();
    let page = cognate::core::model::PageRequest {
        limit: 50,
        after: None,
    };
    let events = server
        .node
        .events
        .list(CHOICE_POOL, Some(&uma.sub), &page, cognate::core::now())
        .await
        .unwrap()
        .items;
    let step = |challenge: &str| {
        events
            .iter()
            .find(|e| e.challenges == [challenge])
            .unwrap_or_else(|| panic!("no {challenge} event: {events:?}"))
    };
    let failed = step("EmailOtp:Failure");
    assert_eq!(failed.outcome, cognate::core::model::AuthEventOutcome::Fail);
    assert_eq!(failed.details["reason"], "code_mismatch");
    assert_eq!(failed.client_id.as_deref(), Some(CHOICE_APP));
    let passed = step("EmailOtp:Success");
    assert_eq!(passed.outcome, cognate::core::model::AuthEventOutcome::Pass);
    assert_eq!(passed.details["factor"], "email");
    assert_eq!(passed.kind, cognate::core::model::AuthEventKind::SignIn);
    // An unknown user's EMAIL_OTP looks the same and no code matches.
    let out = user_auth(&sdk, "nobody", &[("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    // USER_AUTH is this client's only password flow: USER_PASSWORD_AUTH is refused.
    let (code, _) = refusal(password_auth(&sdk, CHOICE_APP, "uma", PASSWORD, None).await);
    assert_eq!(code, "InvalidParameterException");
    server.stop().await;
}
