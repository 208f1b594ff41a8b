//! SMS and phone verification (issue 16 item 4): Cognate sends text messages only through
//! the pool's custom SMS sender webhook, the code encrypted (the receiver decrypts it with
//! OpenSSL); a phone number verified by that code becomes a sign-in alias and a recovery
//! destination; the per-destination budgets hold for phone numbers under parallel bursts;
//! a pool that would verify phones without a sender is refused.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, DeliveryMediumType};
use aws_sdk_cognitoidentityprovider::Client;
use serde_json::Value;

use super::{attr, PASSWORD};
use crate::support::pg::PgNodeEnv;
use crate::support::sender_key::SenderKeyPair;
use crate::support::server::TestServer;
use crate::support::webhook::{Answer, Receiver};
use crate::user_pools::{operator_client, public_client};

const POOL: &str = "us-east-1_SmsPool01";
const APP: &str = "smsapp000000000000000001";
const SMS: &str = "/custom-sms-sender";
/// A phone-as-username pool with a hosted UI client, on the same receiver.
const PHONE_POOL: &str = "us-east-1_SmsPool02";
const WEB: &str = "smsweb000000000000000001";
const PHONE_SMS: &str = "/phone-pool-sms";

fn pools(hooks: &Receiver, keys: &SenderKeyPair) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "sms"
alias_attributes = ["email", "phone_number"]
auto_verified_attributes = ["email", "phone_number"]

[pools.code_limits]
sends_per_destination = 3
sends_per_client_address = 4

[pools.triggers]
custom_sms_sender = "{}"
sender_key = """
{}"""

[[pools.clients]]
id = "{APP}"
name = "app"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pools]]
id = "{PHONE_POOL}"
name = "phones"
username_attributes = ["phone_number"]
auto_verified_attributes = ["phone_number"]

[pools.triggers]
custom_sms_sender = "{}"
sender_key = """
{}"""

[[pools.clients]]
id = "{WEB}"
name = "web"
callback_urls = ["https://web.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "phone"]
"#,
        hooks.url(SMS),
        keys.public_pem,
        hooks.url(PHONE_SMS),
        keys.public_pem
    )
}

async fn start(env: &[(&str, &str)]) -> (TestServer, Receiver, SenderKeyPair) {
    let keys = SenderKeyPair::generate();
    let hooks = Receiver::start().await;
    let server =
        TestServer::start_with(&pools(&hooks, &keys), "trigger_timeout_ms = 1000", env).await;
    let secret = server.node.webhooks.secret(POOL).await.unwrap();
    hooks.set_secret(&secret.display());
    (server, hooks, keys)
}

/// Waits for the `n`th SMS event (sends after the answer run in the background).
async fn nth_sms(hooks: &Receiver, n: usize) -> Value {
    for _ in 0..200 {
        if let Some(e) = hooks.events(SMS).get(n - 1) {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no SMS number {n}: {:?}", hooks.events(SMS));
}

async fn sign_up(sdk: &Client, name: &str, phone: &str) -> Result<(String, String), String> {
    sdk.sign_up()
        .client_id(APP)
        .username(name)
        .password(PASSWORD)
        .user_attributes(attr("phone_number", phone))
        .user_attributes(attr("email", &format!("{name}@example.com")))
        .send()
        .await
        .map(|out| {
            let d = out.code_delivery_details.unwrap();
            assert_eq!(d.delivery_medium, Some(DeliveryMediumType::Sms));
            assert_eq!(d.attribute_name.as_deref(), Some("phone_number"));
            (name.to_string(), d.destination.unwrap())
        })
        .map_err(|e| e.code().unwrap_or_default().to_string())
}

async fn password_sign_in(sdk: &Client, login: &str, password: &str) -> bool {
    sdk.initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", login)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .is_ok_and(|out| out.authentication_result.is_some())
}

async fn phone_sign_up_confirm_sign_in_and_reset(env: &[(&str, &str)]) {
    let (server, hooks, keys) = start(env).await;
    let sdk = public_client(&server);
    let phone = "+15555551234";
    // Email and phone both auto-verified: the code goes to the phone (Cognito's rule).
    let (_, destination) = sign_up(&sdk, "ivan", phone).await.unwrap();
    assert_eq!(destination, "+*******1234");
    let event = nth_sms(&hooks, 1).await;
    assert_eq!(event["version"], "1", "{event}");
    assert_eq!(event["triggerSource"], "CustomSMSSender_SignUp", "{event}");
    assert_eq!(event["userPoolId"], POOL, "{event}");
    assert_eq!(event["userName"], "ivan", "{event}");
    assert_eq!(event["callerContext"]["clientId"], APP, "{event}");
    let request = &event["request"];
    assert_eq!(request["type"], "customSMSSenderRequestV1");
    assert_eq!(request["userAttributes"]["phone_number"], phone);
    assert!(request["clientMetadata"].is_object(), "{event}");
    let code = keys.decrypt(request["code"].as_str().unwrap());
    assert!(
        server.inbox.all().is_empty(),
        "no mail: {:?}",
        server.inbox.all()
    );
    // Before verification the number is no sign-in alias.
    assert!(!password_sign_in(&sdk, phone, PASSWORD).await);

    sdk.confirm_sign_up()
        .client_id(APP)
        .username("ivan")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    let user = server.find_user(POOL, "ivan").await.unwrap();
    assert_eq!(user.attribute("phone_number_verified"), Some("true"));
    assert_ne!(user.attribute("email_verified"), Some("true"));
    // The verified number signs in (the honest request) as the username does.
    assert!(password_sign_in(&sdk, phone, PASSWORD).await);
    assert!(password_sign_in(&sdk, "ivan", PASSWORD).await);

    // ForgotPassword by the phone number: no verified email, so the code goes by SMS.
    let out = sdk
        .forgot_password()
        .client_id(APP)
        .username(phone)
        .send()
        .await
        .unwrap();
    let d = out.code_delivery_details.unwrap();
    assert_eq!(d.delivery_medium, Some(DeliveryMediumType::Sms));
    assert_eq!(d.destination.as_deref(), Some("+*******1234"));
    let event = nth_sms(&hooks, 2).await;
    assert_eq!(event["triggerSource"], "CustomSMSSender_ForgotPassword");
    let code = keys.decrypt(event["request"]["code"].as_str().unwrap());
    sdk.confirm_forgot_password()
        .client_id(APP)
        .username(phone)
        .confirmation_code(code)
        .password("N3w-sms-password-1")
        .send()
        .await
        .unwrap();
    assert!(password_sign_in(&sdk, phone, "N3w-sms-password-1").await);
    server.stop().await;
}

#[tokio::test]
async fn a_phone_verified_by_sms_signs_in_and_resets_by_sms_on_sqlite() {
    phone_sign_up_confirm_sign_in_and_reset(&[]).await;
}

#[tokio::test]
async fn a_phone_verified_by_sms_signs_in_and_resets_by_sms_on_postgres() {
    let Some(pg) = PgNodeEnv::new("sms_phone").await else {
        return;
    };
    phone_sign_up_confirm_sign_in_and_reset(&pg.vars()).await;
    pg.cleanup().await;
}

#[tokio::test]
async fn phone_budgets_hold_under_parallel_bursts() {
    let (server, hooks, _keys) = start(&[]).await;
    let sdk = Arc::new(public_client(&server));
    // Many accounts with one number, at once: one client address gets half the number's
    // budget of 3 (2), whatever the accounts; the rest are refused and not kept.
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..10 {
        let sdk = sdk.clone();
        burst.spawn(async move { sign_up(&sdk, &format!("pump{i}"), "+15555550000").await });
    }
    let mut sent = 0;
    while let Some(answer) = burst.join_next().await {
        match answer.unwrap() {
            Ok(_) => sent += 1,
            Err(code) => assert_eq!(code, "LimitExceededException"),
        }
    }
    assert_eq!(sent, 2);
    assert_eq!(hooks.events(SMS).len(), 2);
    assert_eq!(server.user_count(POOL).await, 2);

    // Many numbers from one client address: sign-ups are not counted per address (people
    // behind one NAT), but code requests are: 4 resends an hour from this address.
    for i in 0..6 {
        sign_up(&sdk, &format!("many{i}"), &format!("+1555555100{i}"))
            .await
            .unwrap();
    }
    assert_eq!(hooks.events(SMS).len(), 8);
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..6 {
        let sdk = sdk.clone();
        burst.spawn(async move {
            sdk.resend_confirmation_code()
                .client_id(APP)
                .username(format!("many{i}"))
                .send()
                .await
                .map_err(|e| e.code().unwrap_or_default().to_string())
        });
    }
    let mut resent = 0;
    while let Some(answer) = burst.join_next().await {
        match answer.unwrap() {
            Ok(out) => {
                let d = out.code_delivery_details.unwrap();
                assert_eq!(d.delivery_medium, Some(DeliveryMediumType::Sms));
                resent += 1;
            }
            Err(code) => assert_eq!(code, "LimitExceededException"),
        }
    }
    assert_eq!(resent, 4);
    nth_sms(&hooks, 12).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(hooks.events(SMS).len(), 12);
    server.stop().await;
}

#[tokio::test]
async fn a_failing_sms_sender_fails_the_sign_up() {
    let (server, hooks, _keys) = start(&[]).await;
    let sdk = public_client(&server);
    hooks.answer(SMS, Answer::Error(502, "carrier refused".into()));
    let err = sdk
        .sign_up()
        .client_id(APP)
        .username("jill")
        .password(PASSWORD)
        .user_attributes(attr("phone_number", "+15555552222"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("UserLambdaValidationException"));
    assert!(
        err.message()
            .unwrap_or_default()
            .starts_with("CustomSMSSender failed with error"),
        "{err:?}"
    );
    assert!(server.find_user(POOL, "jill").await.is_none());
    // The honest sign-up once the sender works again.
    hooks.answer(SMS, Answer::Respond(None));
    sign_up(&sdk, "jill", "+15555552222").await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn phone_verification_without_an_sms_sender_is_refused() {
    // The API: auto-verifying phone numbers needs a custom SMS sender and a key.
    let keys = SenderKeyPair::generate();
    let server = TestServer::start(&format!("[[pools]]\nid = \"{POOL}\"\nname = \"sms\"\n")).await;
    let admin = operator_client(&server).await;
    use aws_sdk_cognitoidentityprovider::types::{
        CustomSmsLambdaVersionConfigType, CustomSmsSenderLambdaVersionType, LambdaConfigType,
        VerifiedAttributeType,
    };
    let err = admin
        .create_user_pool()
        .pool_name("no sms")
        .auto_verified_attributes(VerifiedAttributeType::PhoneNumber)
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
    let created = admin
        .create_user_pool()
        .pool_name("sms")
        .auto_verified_attributes(VerifiedAttributeType::PhoneNumber)
        .lambda_config(
            LambdaConfigType::builder()
                .custom_sms_sender(sender)
                .kms_key_id(&keys.public_pem)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let pool = server.pool(&created.user_pool.unwrap().id.unwrap()).await;
    assert!(cognate::core::delivery::sms_available(&pool));
    assert_eq!(
        pool.auto_verified_attributes,
        vec![cognate::core::model::AliasAttribute::PhoneNumber]
    );
    server.stop().await;
}

/// Waits for the `n`th event on `path`.
async fn nth_event(hooks: &Receiver, path: &str, n: usize) -> Value {
    for _ in 0..200 {
        if let Some(e) = hooks.events(path).get(n - 1) {
            return e.clone();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no event number {n} on {path}: {:?}", hooks.events(path));
}

#[tokio::test]
async fn the_hosted_sign_up_confirms_a_phone_by_its_sms_code() {
    use crate::support::server::{absolute, browser_client, hidden};
    let (server, hooks, keys) = start(&[]).await;
    let secret = server.node.webhooks.secret(PHONE_POOL).await.unwrap();
    hooks.set_secret(&secret.display());
    let client = browser_client();
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={WEB}&redirect_uri=https%3A%2F%2Fweb.example.com%2Fcb&scope=openid+phone&state=s1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        server.base
    );
    let r = client.get(&authorize).send().await.unwrap();
    let login = absolute(&server.base, r.headers()["location"].to_str().unwrap());
    let flow = url::Url::parse(&login)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "flow")
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| panic!("no flow in {login}"));
    let page = client
        .get(format!("{}/signup?flow={flow}", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("type=\"tel\""), "{page}");
    let csrf = hidden(&page, "_csrf").unwrap();
    let r = client
        .post(format!("{}/signup", server.base))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "+15555553333"),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let confirm_url = absolute(&server.base, r.headers()["location"].to_str().unwrap());
    let confirm_page = client
        .get(&confirm_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(confirm_page.contains("+*******3333"), "{confirm_page}");
    let event = nth_event(&hooks, PHONE_SMS, 1).await;
    assert_eq!(event["triggerSource"], "CustomSMSSender_SignUp");
    assert_eq!(event["userPoolId"], PHONE_POOL);
    assert_eq!(
        event["request"]["userAttributes"]["phone_number"],
        "+15555553333"
    );
    let code = keys.decrypt(event["request"]["code"].as_str().unwrap());
    let csrf = hidden(&confirm_page, "_csrf").unwrap_or(csrf);
    let r = client
        .post(format!("{}/confirm", server.base))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "+15555553333"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = client
        .post(format!("{}/login", server.base))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "+1 (555) 555-3333"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("https://web.example.com/cb?code="), "{loc}");
    server.stop().await;
}

#[tokio::test]
async fn a_phone_number_added_later_is_verified_by_its_sms_code() {
    let (server, hooks, keys) = start(&[]).await;
    let sdk = public_client(&server);
    // Signed up with an email only: the code goes by mail.
    let out = sdk
        .sign_up()
        .client_id(APP)
        .username("kate")
        .password(PASSWORD)
        .user_attributes(attr("email", "kate@example.com"))
        .send()
        .await
        .unwrap();
    let d = out.code_delivery_details.unwrap();
    assert_eq!(d.delivery_medium, Some(DeliveryMediumType::Email));
    let code = server.inbox.code_for("kate@example.com").await;
    sdk.confirm_sign_up()
        .client_id(APP)
        .username("kate")
        .confirmation_code(code)
        .send()
        .await
        .unwrap();
    let token = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "kate")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap()
        .authentication_result
        .unwrap()
        .access_token
        .unwrap();
    // UpdateUserAttributes with a phone number: stored unverified, a code goes by SMS.
    let out = sdk
        .update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("phone_number", "+15555556666"))
        .send()
        .await
        .unwrap();
    let list = out.code_delivery_details_list.unwrap_or_default();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].delivery_medium, Some(DeliveryMediumType::Sms));
    assert_eq!(list[0].attribute_name.as_deref(), Some("phone_number"));
    assert_eq!(list[0].destination.as_deref(), Some("+*******6666"));
    let event = nth_sms(&hooks, 1).await;
    assert_eq!(
        event["triggerSource"],
        "CustomSMSSender_UpdateUserAttribute"
    );
    assert_eq!(event["callerContext"]["clientId"], APP);
    assert!(!password_sign_in(&sdk, "+15555556666", PASSWORD).await);

    // GetUserAttributeVerificationCode sends a fresh code (the first one is replaced); a
    // wrong code is refused and the right one verifies the number.
    let out = sdk
        .get_user_attribute_verification_code()
        .access_token(&token)
        .attribute_name("phone_number")
        .send()
        .await
        .unwrap();
    let d = out.code_delivery_details.unwrap();
    assert_eq!(d.delivery_medium, Some(DeliveryMediumType::Sms));
    assert_eq!(d.destination.as_deref(), Some("+*******6666"));
    let event = nth_sms(&hooks, 2).await;
    assert_eq!(
        event["triggerSource"],
        "CustomSMSSender_VerifyUserAttribute"
    );
    let code = keys.decrypt(event["request"]["code"].as_str().unwrap());
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let err = sdk
        .verify_user_attribute()
        .access_token(&token)
        .attribute_name("phone_number")
        .code(wrong)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("CodeMismatchException"));
    sdk.verify_user_attribute()
        .access_token(&token)
        .attribute_name("phone_number")
        .code(code)
        .send()
        .await
        .unwrap();
    let user = server.find_user(POOL, "kate").await.unwrap();
    assert_eq!(user.attribute("phone_number_verified"), Some("true"));
    assert!(password_sign_in(&sdk, "+15555556666", PASSWORD).await);
    server.stop().await;
}
