//! Each trigger fires at its moment with Cognito's event shape, and its answer changes
//! the result.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;
use aws_sdk_cognitoidentityprovider::Client;
use serde_json::{json, Value};

use super::{
    attr, start, APP, PASSWORD, POOL, POST_AUTH, POST_CONFIRMATION, PRE_AUTH, PRE_SIGN_UP,
};
use crate::support::server::{browser_client, sign_in as hosted_sign_in, TestServer};
use crate::support::webhook::Answer;
use crate::user_pools::public_client;

/// The `__type` and message of a refused call.
fn refusal<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E) -> (String, String) {
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

async fn password_sign_in(sdk: &Client, login: &str) -> Result<(), (String, String)> {
    let out = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", login)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .map_err(|e| refusal(&e))?;
    assert!(out.authentication_result.is_some(), "{out:?}");
    Ok(())
}

/// Cognito's common parameters, checked field by field.
#[track_caller]
fn assert_common(event: &Value, source: &str, user_name: &str, client_id: &str) {
    assert_eq!(event["version"], "1", "{event}");
    assert_eq!(event["region"], "us-east-1", "{event}");
    assert_eq!(event["userPoolId"], POOL, "{event}");
    assert_eq!(event["userName"], user_name, "{event}");
    assert_eq!(event["triggerSource"], source, "{event}");
    assert_eq!(event["callerContext"]["clientId"], client_id, "{event}");
    assert!(
        event["callerContext"]["awsSdkVersion"].is_string(),
        "{event}"
    );
    assert!(
        event["request"].is_object() && event["response"].is_object(),
        "{event}"
    );
}

#[tokio::test]
async fn auto_confirmed_sign_up_then_sign_in_fire_every_trigger_in_cognitos_shape() {
    let (server, hooks) = start().await;
    hooks.answer(
        PRE_SIGN_UP,
        Answer::Respond(Some(json!({
            "autoConfirmUser": true,
            "autoVerifyEmail": true,
            "autoVerifyPhone": false,
        }))),
    );
    let sdk = public_client(&server);
    let out = sdk
        .sign_up()
        .client_id(APP)
        .username("alice")
        .password(PASSWORD)
        .user_attributes(attr("email", "alice@example.com"))
        .validation_data(attr("invite", "abc"))
        .client_metadata("source", "tests")
        .send()
        .await
        .expect("sign-up");
    // autoConfirmUser: confirmed, no code mailed.
    assert!(out.user_confirmed);
    assert!(out.code_delivery_details.is_none());

    let events = hooks.events(PRE_SIGN_UP);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_common(e, "PreSignUp_SignUp", "alice", APP);
    assert_eq!(
        e["request"],
        json!({
            "userAttributes": {"email": "alice@example.com"},
            "validationData": {"invite": "abc"},
            "clientMetadata": {"source": "tests"},
        })
    );
    assert_eq!(
        e["response"],
        json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false})
    );

    let user = server.find_user(POOL, "alice").await.expect("stored");
    assert_eq!(user.status.as_str(), "CONFIRMED");
    // autoVerifyEmail: verified without a code.
    assert_eq!(user.attribute("email_verified"), Some("true"));
    assert!(
        !server
            .inbox
            .all()
            .iter()
            .any(|m| m.contains("alice@example.com")),
        "no code is mailed to an auto-confirmed user"
    );

    // The auto-confirmation fires post confirmation, with the stored user's attributes.
    let confirmed = hooks.events(POST_CONFIRMATION);
    assert_eq!(confirmed.len(), 1);
    let c = &confirmed[0];
    assert_common(c, "PostConfirmation_ConfirmSignUp", "alice", APP);
    assert_eq!(c["request"]["userAttributes"]["sub"], user.sub.as_str());
    assert_eq!(c["request"]["userAttributes"]["email"], "alice@example.com");
    assert_eq!(c["request"]["userAttributes"]["email_verified"], "true");
    assert_eq!(
        c["request"]["userAttributes"]["cognito:user_status"],
        "CONFIRMED"
    );
    assert_eq!(c["request"]["clientMetadata"], json!({"source": "tests"}));

    // The user signs in without any code; pre and post authentication fire.
    password_sign_in(&sdk, "alice").await.expect("sign-in");
    let pre = hooks.events(PRE_AUTH);
    assert_eq!(pre.len(), 1);
    assert_common(&pre[0], "PreAuthentication_Authentication", "alice", APP);
    assert_eq!(pre[0]["request"]["userNotFound"], false);
    assert_eq!(
        pre[0]["request"]["userAttributes"]["sub"],
        user.sub.as_str()
    );
    assert!(pre[0]["request"]["validationData"].is_object());
    let post = hooks.events(POST_AUTH);
    assert_eq!(post.len(), 1);
    assert_common(&post[0], "PostAuthentication_Authentication", "alice", APP);
    assert_eq!(post[0]["request"]["newDeviceUsed"], false);
    assert_eq!(
        post[0]["request"]["userAttributes"]["email"],
        "alice@example.com"
    );
    // No delivery ever failed its signature check.
    assert_eq!(hooks.refused(), 0);
}

#[tokio::test]
async fn a_failing_pre_sign_up_stores_nothing_and_the_honest_one_passes() {
    let (server, hooks) = start().await;
    let sdk = public_client(&server);
    hooks.answer(
        PRE_SIGN_UP,
        Answer::Error(400, "Email domain not allowed".into()),
    );
    let refused = sdk
        .sign_up()
        .client_id(APP)
        .username("mallory")
        .password(PASSWORD)
        .user_attributes(attr("email", "mallory@blocked.example"))
        .send()
        .await
        .expect_err("the webhook refuses");
    assert_eq!(
        refusal(&refused),
        (
            "UserLambdaValidationException".to_string(),
            "PreSignUp failed with error Email domain not allowed.".to_string()
        )
    );
    assert!(server.find_user(POOL, "mallory").await.is_none());
    // A 4xx is the webhook's answer: not retried.
    assert_eq!(hooks.events(PRE_SIGN_UP).len(), 1);
    assert!(hooks.events(POST_CONFIRMATION).is_empty());

    // The hosted UI shows the webhook's message on the sign-up page, and stores nothing.
    let browser = browser_client();
    let page = hosted_sign_up(&server, &browser, &authorize_url(&server), "trudy").await;
    assert!(page.contains("Email domain not allowed"), "{page}");
    assert!(server.find_user(POOL, "trudy").await.is_none());

    // The honest sign-up: the webhook accepts without auto-confirming; a code is mailed.
    hooks.answer(PRE_SIGN_UP, Answer::Respond(None));
    let out = sdk
        .sign_up()
        .client_id(APP)
        .username("mallory")
        .password(PASSWORD)
        .user_attributes(attr("email", "mallory@blocked.example"))
        .send()
        .await
        .expect("sign-up");
    assert!(!out.user_confirmed);
    assert!(out.code_delivery_details.is_some());
    let user = server.find_user(POOL, "mallory").await.unwrap();
    assert_eq!(user.status.as_str(), "UNCONFIRMED");
}

/// The hosted UI's authorize request for [`APP`] (PKCE, as a public client).
fn authorize_url(server: &TestServer) -> String {
    format!(
        "{}/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        server.base
    )
}

/// Posts the hosted sign-up form for `username`; returns the page answered (or the
/// redirect's location).
async fn hosted_sign_up(
    server: &TestServer,
    browser: &reqwest::Client,
    url: &str,
    username: &str,
) -> String {
    use crate::support::server::{absolute, hidden};
    // The authorize request opens a flow on the login page; its sign-up link shares it.
    let r = browser.get(url).send().await.unwrap();
    let login = absolute(&server.base, r.headers()["location"].to_str().unwrap());
    let signup = login.replacen("/login?", "/signup?", 1);
    let html = browser
        .get(signup)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let flow = hidden(&html, "flow").unwrap_or_else(|| panic!("no flow: {html}"));
    let csrf = hidden(&html, "_csrf").unwrap();
    let r = browser
        .post(format!("{}/signup", server.base))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("email", "trudy@blocked.example"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    match r.headers().get("location") {
        Some(l) => l.to_str().unwrap().to_string(),
        None => r.text().await.unwrap(),
    }
}

#[tokio::test]
async fn a_failing_post_confirmation_keeps_the_user_confirmed() {
    let (server, hooks) = start().await;
    let sdk = public_client(&server);
    hooks.answer(
        POST_CONFIRMATION,
        Answer::Error(500, "database down".into()),
    );
    sdk.sign_up()
        .client_id(APP)
        .username("carol")
        .password(PASSWORD)
        .user_attributes(attr("email", "carol@example.com"))
        .send()
        .await
        .expect("sign-up");
    let code = server.inbox.code_for("carol@example.com").await;
    sdk.confirm_sign_up()
        .client_id(APP)
        .username("carol")
        .confirmation_code(code)
        .send()
        .await
        .expect("confirmation stands whatever the webhook says");
    let user = server.find_user(POOL, "carol").await.unwrap();
    assert_eq!(user.status.as_str(), "CONFIRMED");
    assert_eq!(user.attribute("email_verified"), Some("true"));
    // A 5xx is retried: 3 attempts of one event (one webhook-id).
    let tries = hooks.deliveries(POST_CONFIRMATION);
    assert_eq!(tries.len(), 3, "{tries:?}");
    assert!(tries.iter().all(|d| d.id == tries[0].id));
    assert_common(
        &tries[0].event(),
        "PostConfirmation_ConfirmSignUp",
        "carol",
        APP,
    );
    password_sign_in(&sdk, "carol")
        .await
        .expect("confirmed user signs in");

    // A password reset's confirmation fires PostConfirmation_ConfirmForgotPassword.
    let mailed = |server: &TestServer| {
        server
            .inbox
            .all()
            .iter()
            .filter(|m| m.contains("carol@example.com"))
            .count()
    };
    hooks.answer(POST_CONFIRMATION, Answer::Respond(None));
    assert_eq!(mailed(&server), 1);
    sdk.forgot_password()
        .client_id(APP)
        .username("carol")
        .send()
        .await
        .expect("forgot password");
    while mailed(&server) < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let reset = server.inbox.code_for("carol@example.com").await;
    sdk.confirm_forgot_password()
        .client_id(APP)
        .username("carol")
        .confirmation_code(reset)
        .password("N3w-battery-staple")
        .send()
        .await
        .expect("reset");
    let events = hooks.events(POST_CONFIRMATION);
    let last = events.last().unwrap();
    assert_common(last, "PostConfirmation_ConfirmForgotPassword", "carol", APP);
}

#[tokio::test]
async fn a_failing_pre_or_post_authentication_refuses_the_sign_in() {
    let (server, hooks) = start().await;
    let sdk = public_client(&server);
    let attributes = [("email", "dave@example.com"), ("email_verified", "true")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    server.create_user(POOL, "dave", attributes, PASSWORD).await;

    hooks.answer(PRE_AUTH, Answer::Error(403, "Sign-in blocked".into()));
    let refused = password_sign_in(&sdk, "dave").await.expect_err("refused");
    assert_eq!(
        refused,
        (
            "UserLambdaValidationException".to_string(),
            "PreAuthentication failed with error Sign-in blocked.".to_string()
        )
    );
    // Through the hosted UI too, with the webhook's message on the page.
    let browser = browser_client();
    let authorize = authorize_url(&server);
    let page = hosted_sign_in(&browser, &server.base, &authorize, "dave", PASSWORD)
        .await
        .expect_err("refused on the page");
    assert!(page.contains("Sign-in blocked"), "{page}");
    assert!(
        hooks.events(POST_AUTH).is_empty(),
        "no post authentication after a refusal"
    );

    // The honest sign-in passes, on both ways.
    hooks.answer(PRE_AUTH, Answer::Respond(None));
    password_sign_in(&sdk, "dave").await.expect("sign-in");
    let location = hosted_sign_in(&browser, &server.base, &authorize, "dave", PASSWORD)
        .await
        .expect("hosted sign-in");
    assert!(
        location.starts_with("https://app.example/cb?code="),
        "{location}"
    );
    assert_eq!(hooks.events(POST_AUTH).len(), 2);

    // Post authentication's failure refuses the sign-in too (Cognito's behaviour).
    hooks.answer(POST_AUTH, Answer::Error(400, "Session policy".into()));
    let refused = password_sign_in(&sdk, "dave").await.expect_err("refused");
    assert_eq!(
        refused.1,
        "PostAuthentication failed with error Session policy."
    );
}
