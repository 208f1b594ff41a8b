//! SMS as a second factor (Cognito's `SMS_MFA`, issue 16 item 4): the codes reach the pool's custom SMS
//! sender encrypted, and the receiver here decrypts them with OpenSSL
//! ([`SenderKeyPair`]). Through the AWS SDK (SetUserMFAPreference, InitiateAuth,
//! RespondToAuthChallenge, SetUserPoolMfaConfig, AdminCreateUser) and the hosted UI's MFA
//! page (reqwest). Each refusal is paired with the honest request succeeding. The
//! invitations are in [`super::sms_invitations`].

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, CustomSmsLambdaVersionConfigType,
    CustomSmsSenderLambdaVersionType, DeliveryMediumType, LambdaConfigType, SmsMfaConfigType,
    SmsMfaSettingsType, UserPoolMfaType,
};
use aws_sdk_cognitoidentityprovider::Client;
use reqwest::StatusCode;
use serde_json::Value;

use crate::mfa::{tokens_for, wrong, Browser, CALLBACK, MFA_LOCK_FAILURES, PASSWORD};
use crate::support::pg::PgNodeEnv;
use crate::support::sender_key::SenderKeyPair;
use crate::support::server::TestServer;
use crate::support::webhook::Receiver;
use crate::user_pools::{operator_client, public_client};

pub(super) const POOL: &str = "us-east-1_SmsMfa0001";
pub(super) const APP: &str = "smsmfaapp000000000000001";
pub(super) const SMS: &str = "/custom-sms-sender";
pub(super) const PHONE: &str = "+15555551234";

fn pools(hooks: &Receiver, keys: &SenderKeyPair, sends_per_destination: u32) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "sms mfa"
mfa = "OPTIONAL"
mfa_factors = ["TOTP", "EMAIL", "SMS"]

[pools.code_limits]
sends_per_destination = {sends_per_destination}
sends_per_client_address = 100

[pools.triggers]
custom_sms_sender = "{}"
sender_key = """
{}"""

[[pools.clients]]
id = "{APP}"
name = "app"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
"#,
        hooks.url(SMS),
        keys.public_pem
    )
}

pub(super) async fn start(
    env: &[(&str, &str)],
    sends: u32,
) -> (TestServer, Receiver, SenderKeyPair) {
    let keys = SenderKeyPair::generate();
    let hooks = Receiver::start().await;
    let server = TestServer::start_with(
        &pools(&hooks, &keys, sends),
        "trigger_timeout_ms = 2000",
        env,
    )
    .await;
    let secret = server.node.webhooks.secret(POOL).await.unwrap();
    hooks.set_secret(&secret.display());
    (server, hooks, keys)
}

/// A confirmed user with a verified email and this phone number (verified or not).
async fn user_with_phone(server: &TestServer, name: &str, phone: &str, verified: bool) {
    let attributes = BTreeMap::from([
        ("email".to_string(), format!("{name}@example.com")),
        ("email_verified".to_string(), "true".to_string()),
        ("phone_number".to_string(), phone.to_string()),
        ("phone_number_verified".to_string(), verified.to_string()),
    ]);
    server.create_user(POOL, name, attributes, PASSWORD).await;
}

async fn password_auth(sdk: &Client, login: &str) -> Result<InitiateAuthOutput, String> {
    sdk.initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", login)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .map_err(|e| e.code().unwrap_or_default().to_string())
}

/// Waits for the `n`th SMS event.
pub(super) async fn nth_sms(hooks: &Receiver, n: usize) -> Value {
    for _ in 0..200 {
        if let Some(e) = hooks.events(SMS).get(n - 1) {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no SMS number {n}: {:?}", hooks.events(SMS));
}

/// The code of the `n`th SMS, decrypted, after checking its event is a sign-in's.
async fn nth_code(hooks: &Receiver, keys: &SenderKeyPair, n: usize) -> String {
    let event = nth_sms(hooks, n).await;
    assert_eq!(
        event["triggerSource"], "CustomSMSSender_Authentication",
        "{event}"
    );
    assert_eq!(event["request"]["type"], "customSMSSenderRequestV1");
    keys.decrypt(event["request"]["code"].as_str().unwrap())
}

async fn answer(
    sdk: &Client,
    session: &str,
    user: &str,
    code: &str,
) -> Result<aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput, String>{
    sdk.respond_to_auth_challenge()
        .client_id(APP)
        .challenge_name(ChallengeNameType::SmsMfa)
        .session(session)
        .challenge_responses("USERNAME", user)
        .challenge_responses("SMS_MFA_CODE", code)
        .send()
        .await
        .map_err(|e| e.code().unwrap_or_default().to_string())
}

/// Signs in with a password and expects the SMS_MFA challenge: its session.
async fn sms_challenge(sdk: &Client, user: &str) -> String {
    let out = password_auth(sdk, user).await.unwrap();
    assert_eq!(
        out.challenge_name,
        Some(ChallengeNameType::SmsMfa),
        "{out:?}"
    );
    let p = out.challenge_parameters.unwrap();
    assert_eq!(p["CODE_DELIVERY_DELIVERY_MEDIUM"], "SMS");
    assert_eq!(p["CODE_DELIVERY_DESTINATION"], "+*******1234");
    out.session.unwrap()
}

async fn enable_sms(sdk: &Client, access_token: &str) -> Result<(), String> {
    sdk.set_user_mfa_preference()
        .access_token(access_token)
        .sms_mfa_settings(
            SmsMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().unwrap_or_default().to_string())
}

async fn sms_mfa_signs_in_with_the_texted_code_once(env: &[(&str, &str)]) {
    let (server, hooks, keys) = start(env, 50).await;
    let sdk = public_client(&server);
    user_with_phone(&server, "sam", PHONE, true).await;

    // No factor yet: the password signs in; the user switches SMS MFA on.
    let out = password_auth(&sdk, "sam").await.unwrap();
    let access = out.authentication_result.unwrap().access_token.unwrap();
    enable_sms(&sdk, &access).await.unwrap();
    let me = sdk.get_user().access_token(&access).send().await.unwrap();
    assert_eq!(me.user_mfa_setting_list(), ["SMS_MFA".to_string()]);
    assert_eq!(me.preferred_mfa_setting(), Some("SMS_MFA"));
    let options = me.mfa_options();
    assert_eq!(options.len(), 1, "{options:?}");
    assert_eq!(options[0].attribute_name(), Some("phone_number"));

    // The challenge texts a code through the custom SMS sender; a wrong code is refused
    // and the session stays for the right one.
    let session = sms_challenge(&sdk, "sam").await;
    let code = nth_code(&hooks, &keys, 1).await;
    assert_eq!(code.len(), 6, "{code}");
    assert_eq!(
        answer(&sdk, &session, "sam", &wrong(&code))
            .await
            .unwrap_err(),
        "CodeMismatchException"
    );
    let out = answer(&sdk, &session, "sam", &code).await.unwrap();
    let tokens = out.authentication_result.unwrap();
    assert!(tokens.id_token.is_some() && tokens.access_token.is_some());
    // The session and the code are used: replaying either is refused.
    assert_eq!(
        answer(&sdk, &session, "sam", &code).await.unwrap_err(),
        "NotAuthorizedException"
    );
    let session = sms_challenge(&sdk, "sam").await;
    let fresh = nth_code(&hooks, &keys, 2).await;
    if fresh != code {
        assert_eq!(
            answer(&sdk, &session, "sam", &code).await.unwrap_err(),
            "CodeMismatchException"
        );
    }
    answer(&sdk, &session, "sam", &fresh)
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    // The only mail is the notice of the factor added (in words), never a code.
    let mails = server.inbox.all();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].contains("text message codes"), "{mails:?}");
    assert!(
        !mails[0].contains(&code) && !mails[0].contains(&fresh),
        "{mails:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn sms_mfa_signs_in_with_the_texted_code_once_on_sqlite() {
    sms_mfa_signs_in_with_the_texted_code_once(&[]).await;
}

#[tokio::test]
async fn sms_mfa_signs_in_with_the_texted_code_once_on_postgres() {
    let Some(pg) = PgNodeEnv::new("sms_mfa").await else {
        return;
    };
    sms_mfa_signs_in_with_the_texted_code_once(&pg.vars()).await;
    pg.cleanup().await;
}

#[tokio::test]
async fn sms_mfa_needs_a_verified_phone_number() {
    let (server, _hooks, _keys) = start(&[], 50).await;
    let sdk = public_client(&server);
    user_with_phone(&server, "una", "+15555550111", false).await;
    let out = password_auth(&sdk, "una").await.unwrap();
    let access = out.authentication_result.unwrap().access_token.unwrap();
    assert_eq!(
        enable_sms(&sdk, &access).await.unwrap_err(),
        "InvalidParameterException"
    );
    let admin = operator_client(&server).await;
    let err = admin
        .admin_set_user_mfa_preference()
        .user_pool_id(POOL)
        .username("una")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(
        err.message().unwrap_or_default().contains("verified phone"),
        "{err:?}"
    );
    // The honest request: a user with a verified number, by the administrator.
    user_with_phone(&server, "vic", "+15555550112", true).await;
    admin
        .admin_set_user_mfa_preference()
        .user_pool_id(POOL)
        .username("vic")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
        .send()
        .await
        .unwrap();
    let got = admin
        .admin_get_user()
        .user_pool_id(POOL)
        .username("vic")
        .send()
        .await
        .unwrap();
    assert_eq!(got.user_mfa_setting_list(), ["SMS_MFA".to_string()]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_of_a_texted_code_are_stopped_by_the_throttle() {
    let (server, hooks, keys) = start(&[], 50).await;
    let sdk = Arc::new(public_client(&server));
    user_with_phone(&server, "wes", PHONE, true).await;
    let admin = operator_client(&server).await;
    admin
        .admin_set_user_mfa_preference()
        .user_pool_id(POOL)
        .username("wes")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
        .send()
        .await
        .unwrap();
    let session = sms_challenge(&sdk, "wes").await;
    let code = nth_code(&hooks, &keys, 1).await;
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..20u32 {
        let sdk = sdk.clone();
        let session = session.clone();
        let guess = format!("{:06}", (code.parse::<u32>().unwrap() + 1 + i) % 1_000_000);
        burst.spawn(async move { answer(&sdk, &session, "wes", &guess).await });
    }
    let (mut mismatched, mut locked) = (0, 0);
    while let Some(r) = burst.join_next().await {
        match r.unwrap() {
            Ok(out) => panic!("a wrong code signed in: {out:?}"),
            Err(code) if code == "CodeMismatchException" => mismatched += 1,
            Err(code) => {
                assert_eq!(code, "NotAuthorizedException");
                locked += 1
            }
        }
    }
    assert!(mismatched <= MFA_LOCK_FAILURES, "{mismatched} compared");
    assert_eq!(mismatched + locked, 20);
    // Locked: even the right code is refused now.
    assert_eq!(
        answer(&sdk, &session, "wes", &code).await.unwrap_err(),
        "NotAuthorizedException"
    );
    // The honest sign-in of another user is unaffected.
    user_with_phone(&server, "xia", "+15555550199", true).await;
    admin
        .admin_set_user_mfa_preference()
        .user_pool_id(POOL)
        .username("xia")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
        .send()
        .await
        .unwrap();
    let out = password_auth(&sdk, "xia").await.unwrap();
    let session = out.session.unwrap();
    let code = nth_code(&hooks, &keys, 2).await;
    answer(&sdk, &session, "xia", &code)
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_phone_numbers_send_budget_holds_across_parallel_sign_ins() {
    // Three texts an hour to one number; several accounts share it.
    let (server, hooks, _keys) = start(&[], 3).await;
    let sdk = Arc::new(public_client(&server));
    let admin = operator_client(&server).await;
    for name in ["pam", "pat", "pia"] {
        user_with_phone(&server, name, "+15555557777", true).await;
        admin
            .admin_set_user_mfa_preference()
            .user_pool_id(POOL)
            .username(name)
            .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
            .send()
            .await
            .unwrap();
    }
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..12 {
        let sdk = sdk.clone();
        let name = ["pam", "pat", "pia"][i % 3];
        burst.spawn(async move { password_auth(&sdk, name).await });
    }
    let mut sent = 0;
    while let Some(r) = burst.join_next().await {
        match r.unwrap() {
            Ok(out) => {
                assert_eq!(out.challenge_name, Some(ChallengeNameType::SmsMfa));
                sent += 1;
            }
            Err(code) => assert_eq!(code, "LimitExceededException"),
        }
    }
    assert!((1..=3).contains(&sent), "{sent} texts to one number");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hooks.events(SMS).len(), sent);
    for event in hooks.events(SMS) {
        assert_eq!(
            event["request"]["userAttributes"]["phone_number"],
            "+15555557777"
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hosted_ui_asks_for_the_texted_code() {
    let (server, hooks, keys) = start(&[], 50).await;
    user_with_phone(&server, "hal", PHONE, true).await;
    let admin = operator_client(&server).await;
    admin
        .admin_set_user_mfa_preference()
        .user_pool_id(POOL)
        .username("hal")
        .sms_mfa_settings(
            SmsMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .email_mfa_settings(
            aws_sdk_cognitoidentityprovider::types::EmailMfaSettingsType::builder()
                .enabled(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let browser = Browser::new(&server);
    let (flow, page) = browser.password(APP, "hal").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    page.assert_no_code("the password alone");
    // The preferred factor's page offers to text a code; the chooser lists the others.
    let challenge = browser.get(page.location()).await;
    assert_eq!(challenge.status, StatusCode::OK, "{challenge:?}");
    assert!(challenge.body.contains("sms-code"), "{}", challenge.body);
    assert!(
        challenge.body.contains("Text me a code"),
        "{}",
        challenge.body
    );
    let email_page = browser
        .get(&format!("/login/mfa?flow={}&factor=email", flow.flow))
        .await;
    assert!(
        email_page.body.contains("data-factor=\"sms\"") && email_page.body.contains("Text message"),
        "{}",
        email_page.body
    );
    let sent = browser.form(&flow, "/login/mfa/sms-code", &[]).await;
    assert_eq!(sent.status, StatusCode::OK, "{sent:?}");
    assert!(sent.body.contains("+*******1234"), "{}", sent.body);
    let code = nth_code(&hooks, &keys, 1).await;
    let refused = browser
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "sms"), ("code", &wrong(&code))],
        )
        .await;
    refused.assert_refused("a wrong texted code");
    let done = browser
        .form(&flow, "/login/mfa", &[("factor", "sms"), ("code", &code)])
        .await;
    let authorization = done.expect_code("the texted code");
    let (claims, _) = tokens_for(&server.base, &flow, &authorization, "hal").await;
    assert_eq!(claims["phone_number"], PHONE, "{claims}");
    server.stop().await;
}

#[tokio::test]
async fn sms_mfa_config_needs_a_pool_that_can_send_sms() {
    let keys = SenderKeyPair::generate();
    let server =
        TestServer::start("[[pools]]\nid = \"us-east-1_SmsMfaPlain\"\nname = \"plain\"\n").await;
    let admin = operator_client(&server).await;
    let plain = admin
        .create_user_pool()
        .pool_name("no sms")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    let err = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&plain)
        .mfa_configuration(UserPoolMfaType::Optional)
        .sms_mfa_configuration(SmsMfaConfigType::builder().build())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("custom SMS sender"),
        "{err:?}"
    );
    let sender = CustomSmsLambdaVersionConfigType::builder()
        .lambda_version(CustomSmsSenderLambdaVersionType::V10)
        .lambda_arn("https://hooks.example.com/sms")
        .build()
        .unwrap();
    let able = admin
        .create_user_pool()
        .pool_name("sms")
        .lambda_config(
            LambdaConfigType::builder()
                .custom_sms_sender(sender)
                .kms_key_id(&keys.public_pem)
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    // A message Cognate would not write is refused by name, even where SMS can be sent.
    let err = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&able)
        .mfa_configuration(UserPoolMfaType::Optional)
        .sms_mfa_configuration(
            SmsMfaConfigType::builder()
                .sms_authentication_message("Your code is {####}")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("SmsMfaConfiguration.SmsAuthenticationMessage"),
        "{err:?}"
    );
    let set = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&able)
        .mfa_configuration(UserPoolMfaType::Optional)
        .sms_mfa_configuration(SmsMfaConfigType::builder().build())
        .send()
        .await
        .unwrap();
    assert!(set.sms_mfa_configuration.is_some(), "{set:?}");
    let got = admin
        .get_user_pool_mfa_config()
        .user_pool_id(&able)
        .send()
        .await
        .unwrap();
    assert!(got.sms_mfa_configuration.is_some(), "{got:?}");
    assert_eq!(got.mfa_configuration, Some(UserPoolMfaType::Optional));
    let pool = server.pool(&able).await;
    assert!(pool
        .factors
        .allows_mfa(cognate::core::model::MfaFactor::Sms));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn select_mfa_type_offers_sms_among_the_users_factors() {
    let (server, hooks, keys) = start(&[], 50).await;
    user_with_phone(&server, "rae", PHONE, true).await;
    let admin = operator_client(&server).await;
    admin
        .admin_set_user_mfa_preference()
        .user_pool_id(POOL)
        .username("rae")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
        .email_mfa_settings(
            aws_sdk_cognitoidentityprovider::types::EmailMfaSettingsType::builder()
                .enabled(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let sdk = public_client(&server);
    let out = password_auth(&sdk, "rae").await.unwrap();
    assert_eq!(out.challenge_name, Some(ChallengeNameType::SelectMfaType));
    assert_eq!(
        out.challenge_parameters.as_ref().unwrap()["MFAS_CAN_CHOOSE"],
        r#"["EMAIL_OTP","SMS_MFA"]"#
    );
    assert!(
        hooks.events(SMS).is_empty(),
        "nothing sent before the choice"
    );
    let chosen = sdk
        .respond_to_auth_challenge()
        .client_id(APP)
        .challenge_name(ChallengeNameType::SelectMfaType)
        .session(out.session.unwrap())
        .challenge_responses("USERNAME", "rae")
        .challenge_responses("ANSWER", "SMS_MFA")
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.challenge_name, Some(ChallengeNameType::SmsMfa));
    let p = chosen.challenge_parameters.unwrap();
    assert_eq!(p["CODE_DELIVERY_DELIVERY_MEDIUM"], "SMS");
    let code = nth_code(&hooks, &keys, 1).await;
    answer(&sdk, &chosen.session.unwrap(), "rae", &code)
        .await
        .unwrap()
        .authentication_result
        .unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_account_page_switches_sms_codes_on_and_off() {
    let (server, hooks, keys) = start(&[], 50).await;
    user_with_phone(&server, "ida", PHONE, true).await;
    // No factor yet (OPTIONAL): the password signs in; the page offers text message codes.
    let browser = Browser::new(&server);
    let (_, page) = browser.password(APP, "ida").await;
    page.expect_code("the password alone");
    let page = browser
        .get(&format!("/account/security?client_id={APP}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert!(
        page.body.contains("/account/security/sms/enable"),
        "{}",
        page.body
    );
    let csrf = crate::support::server::hidden(&page.body, "_csrf").unwrap();
    let enabled = browser
        .post(
            "/account/security/sms/enable",
            &[("_csrf", csrf.as_str()), ("client_id", APP)],
        )
        .await;
    assert_eq!(enabled.status, StatusCode::SEE_OTHER, "{enabled:?}");
    assert!(
        enabled.location().contains("notice=factor_added"),
        "{enabled:?}"
    );
    let stored = server.find_user(POOL, "ida").await.unwrap();
    assert!(
        stored.mfa.has(cognate::core::model::MfaFactor::Sms),
        "{:?}",
        stored.mfa
    );
    // The password-only session no longer satisfies the pool's rule for this user: the
    // account page asks for a sign-in again.
    let page = browser
        .get(&format!("/account/security?client_id={APP}"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");

    // The next sign-in asks for a texted code.
    let other = Browser::new(&server);
    let (flow, page) = other.password(APP, "ida").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    other.form(&flow, "/login/mfa/sms-code", &[]).await;
    let code = nth_code(&hooks, &keys, 1).await;
    other
        .form(&flow, "/login/mfa", &[("factor", "sms"), ("code", &code)])
        .await
        .expect_code("the texted code");

    // Listed, and removed like any factor: the sign-in after asks for nothing more.
    let body = page_body(&other).await;
    let listed = crate::mfa::factors(&body);
    assert_eq!(listed.len(), 1, "{listed:?} {body}");
    assert_eq!(listed[0].1, "SMS", "{listed:?}");
    assert!(!body.contains("/account/security/sms/enable"));
    let csrf = crate::support::server::hidden(&body, "_csrf").unwrap();
    let removed = other
        .post(
            "/account/security/remove",
            &[
                ("_csrf", csrf.as_str()),
                ("client_id", APP),
                ("factor", listed[0].0.as_str()),
            ],
        )
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{removed:?}");
    assert!(
        removed.location().contains("notice=factor_removed"),
        "{removed:?}"
    );
    let third = Browser::new(&server);
    let (_, page) = third.password(APP, "ida").await;
    page.expect_code("SMS codes switched off");
    server.stop().await;
}

async fn page_body(browser: &Browser) -> String {
    browser
        .get(&format!("/account/security?client_id={APP}"))
        .await
        .body
}

#[tokio::test]
async fn the_legacy_mfa_options_switch_sms_mfa() {
    use aws_sdk_cognitoidentityprovider::types::MfaOptionType;
    let (server, hooks, keys) = start(&[], 50).await;
    user_with_phone(&server, "lee", PHONE, true).await;
    let admin = operator_client(&server).await;
    let option = |medium: DeliveryMediumType| {
        MfaOptionType::builder()
            .delivery_medium(medium)
            .attribute_name("phone_number")
            .build()
    };
    let err = admin
        .admin_set_user_settings()
        .user_pool_id(POOL)
        .username("lee")
        .mfa_options(option(DeliveryMediumType::Email))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(
        err.message().unwrap_or_default().contains("MFAOptions"),
        "{err:?}"
    );
    admin
        .admin_set_user_settings()
        .user_pool_id(POOL)
        .username("lee")
        .mfa_options(option(DeliveryMediumType::Sms))
        .send()
        .await
        .unwrap();
    let got = admin
        .admin_get_user()
        .user_pool_id(POOL)
        .username("lee")
        .send()
        .await
        .unwrap();
    assert_eq!(got.user_mfa_setting_list(), ["SMS_MFA".to_string()]);
    assert_eq!(got.mfa_options().len(), 1, "{got:?}");
    // The user's own call switches it off again.
    let sdk = public_client(&server);
    let session = sms_challenge(&sdk, "lee").await;
    let code = nth_code(&hooks, &keys, 1).await;
    let access = answer(&sdk, &session, "lee", &code)
        .await
        .unwrap()
        .authentication_result
        .unwrap()
        .access_token
        .unwrap();
    sdk.set_user_settings()
        .access_token(&access)
        .set_mfa_options(Some(Vec::new()))
        .send()
        .await
        .unwrap();
    let out = password_auth(&sdk, "lee").await.unwrap();
    assert!(out.authentication_result.is_some(), "{out:?}");
    server.stop().await;
}
