//! The message triggers (issue 16 items 1 and 3): custom message rewrites the mail,
//! custom email sender receives the code as a JWE that the receiver decrypts with OpenSSL
//! (independently of Cognate's code) and that confirms the account; failures of each.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::Client;
use serde_json::{json, Value};

use super::{attr, PASSWORD};
use crate::support::sender_key::SenderKeyPair;
use crate::support::server::TestServer;
use crate::support::webhook::{Answer, Receiver};
use crate::user_pools::public_client;

const POOL: &str = "us-east-1_Senders01";
const APP: &str = "senderapp000000000000001";
const MESSAGE: &str = "/custom-message";
const EMAIL_SENDER: &str = "/custom-email-sender";

/// A pool with the given `[pools.triggers]` lines.
async fn start(triggers: &str) -> TestServer {
    let pools = format!(
        r#"
[[pools]]
id = "{POOL}"
name = "senders"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]

[pools.triggers]
{triggers}

[[pools.clients]]
id = "{APP}"
name = "app"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#
    );
    TestServer::start_with(&pools, "trigger_timeout_ms = 1000", &[]).await
}

async fn receiver_for(server: &TestServer, receiver: &Receiver) {
    let secret = server.node.webhooks.secret(POOL).await.unwrap();
    receiver.set_secret(&secret.display());
}

async fn sign_up(sdk: &Client, name: &str, email: &str) -> Result<Value, (String, String)> {
    sdk.sign_up()
        .client_id(APP)
        .username(name)
        .password(PASSWORD)
        .user_attributes(attr("email", email))
        .client_metadata("campaign", "spring")
        .send()
        .await
        .map(|out| {
            let d = out.code_delivery_details.unwrap();
            json!({
                "medium": d.delivery_medium.map(|m| m.as_str().to_string()),
                "attribute": d.attribute_name,
                "destination": d.destination,
            })
        })
        .map_err(|e| {
            (
                e.code().unwrap_or_default().to_string(),
                e.message().unwrap_or_default().to_string(),
            )
        })
}

async fn confirm(sdk: &Client, name: &str, code: &str) -> Result<(), String> {
    sdk.confirm_sign_up()
        .client_id(APP)
        .username(name)
        .confirmation_code(code)
        .send()
        .await
        .map(drop)
        .map_err(|e| format!("{:?}", e.code()))
}

/// Cognito's common parameters.
#[track_caller]
fn assert_common(event: &Value, source: &str, user_name: &str) {
    assert_eq!(event["version"], "1", "{event}");
    assert_eq!(event["region"], "us-east-1", "{event}");
    assert_eq!(event["userPoolId"], POOL, "{event}");
    assert_eq!(event["userName"], user_name, "{event}");
    assert_eq!(event["triggerSource"], source, "{event}");
    assert_eq!(event["callerContext"]["clientId"], APP, "{event}");
    assert!(
        event["callerContext"]["awsSdkVersion"].is_string(),
        "{event}"
    );
}

#[tokio::test]
async fn custom_message_rewrites_the_mailed_subject_and_body() {
    let hooks = Receiver::start().await;
    let server = start(&format!("custom_message = \"{}\"", hooks.url(MESSAGE))).await;
    receiver_for(&server, &hooks).await;
    hooks.answer(
        MESSAGE,
        Answer::Respond(Some(json!({
            "emailSubject": "Welcome to ACME, {username}",
            "emailMessage": "Hello {username}! Your ACME code: {####} (keep it secret)",
            "smsMessage": null,
        }))),
    );
    let sdk = public_client(&server);
    let delivery = sign_up(&sdk, "carol", "carol@example.com").await.unwrap();
    assert_eq!(delivery["medium"], "EMAIL");

    let events = hooks.events(MESSAGE);
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_common(event, "CustomMessage_SignUp", "carol");
    let request = &event["request"];
    assert_eq!(request["codeParameter"], "{####}");
    assert_eq!(request["linkParameter"], "{##Click Here##}");
    assert_eq!(request["usernameParameter"], Value::Null);
    assert_eq!(request["userAttributes"]["email"], "carol@example.com");
    assert_eq!(
        request["userAttributes"]["cognito:user_status"],
        "UNCONFIRMED"
    );
    assert!(request["userAttributes"]["sub"].is_string());
    assert_eq!(request["clientMetadata"]["campaign"], "spring");
    assert_eq!(
        event["response"],
        json!({"smsMessage": null, "emailMessage": null, "emailSubject": null})
    );
    let code = server.inbox.code_for("carol@example.com").await;
    // The webhook never sees the code: only the placeholder.
    assert!(!event.to_string().contains(&code), "{event}");
    let mail = server
        .inbox
        .all()
        .into_iter()
        .find(|m| m.contains("carol@example.com"))
        .unwrap();
    assert!(mail.contains("Subject: Welcome to ACME, carol"), "{mail}");
    assert!(
        mail.contains(&format!(
            "Hello carol! Your ACME code: {code} (keep it secret)"
        )),
        "{mail}"
    );
    assert!(!mail.contains("{####}"), "{mail}");
    confirm(&sdk, "carol", &code).await.unwrap();

    // An answer without the code placeholder is refused as Cognito refuses it: the
    // sign-up fails and nothing is stored.
    hooks.answer(
        MESSAGE,
        Answer::Respond(Some(json!({"emailMessage": "Hello, no code here"}))),
    );
    let (code_name, message) = sign_up(&sdk, "dave", "dave@example.com").await.unwrap_err();
    assert_eq!(code_name, "UserLambdaValidationException");
    assert!(
        message.starts_with("CustomMessage failed with error"),
        "{message}"
    );
    assert!(message.contains("{####}"), "{message}");
    assert!(server.find_user(POOL, "dave").await.is_none());

    // A failing webhook fails the operation the same way.
    hooks.answer(MESSAGE, Answer::Error(400, "no template".into()));
    let (code_name, message) = sign_up(&sdk, "erin", "erin@example.com").await.unwrap_err();
    assert_eq!(code_name, "UserLambdaValidationException");
    assert_eq!(message, "CustomMessage failed with error no template.");
    assert!(server.find_user(POOL, "erin").await.is_none());

    // A null answer keeps Cognate's own text.
    hooks.answer(MESSAGE, Answer::Respond(None));
    sign_up(&sdk, "fay", "fay@example.com").await.unwrap();
    let code = server.inbox.code_for("fay@example.com").await;
    confirm(&sdk, "fay", &code).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn custom_email_sender_gets_a_jwe_that_openssl_decrypts_to_a_working_code() {
    let keys = SenderKeyPair::generate();
    let hooks = Receiver::start().await;
    let server = start(&format!(
        "custom_email_sender = \"{}\"\nsender_key = \"\"\"\n{}\"\"\"",
        hooks.url(EMAIL_SENDER),
        keys.public_pem
    ))
    .await;
    receiver_for(&server, &hooks).await;
    let sdk = public_client(&server);
    let delivery = sign_up(&sdk, "gina", "gina@example.com").await.unwrap();
    assert_eq!(delivery["medium"], "EMAIL");
    assert_eq!(delivery["destination"], "g***@e***.com");

    let events = hooks.events(EMAIL_SENDER);
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_common(event, "CustomEmailSender_SignUp", "gina");
    let request = &event["request"];
    assert_eq!(request["type"], "customEmailSenderRequestV1");
    assert_eq!(request["userAttributes"]["email"], "gina@example.com");
    assert_eq!(request["clientMetadata"]["campaign"], "spring");
    let jwe = request["code"].as_str().unwrap();
    let code = keys.decrypt(jwe);
    assert_eq!(code.len(), 6, "{code}");
    assert!(!jwe.contains(&code));
    // The sender delivers: Cognate mails nothing itself.
    assert!(server.inbox.all().is_empty(), "{:?}", server.inbox.all());
    // A wrong code is refused, the decrypted one confirms the account.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert!(confirm(&sdk, "gina", wrong).await.is_err());
    confirm(&sdk, "gina", &code).await.unwrap();

    // ForgotPassword: CustomEmailSender_ForgotPassword (sent in the background).
    sdk.forgot_password()
        .client_id(APP)
        .username("gina")
        .send()
        .await
        .unwrap();
    let mut reset = None;
    for _ in 0..100 {
        let events = hooks.events(EMAIL_SENDER);
        if events.len() == 2 {
            reset = Some(events[1].clone());
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let reset = reset.expect("the reset code reached the sender");
    assert_eq!(reset["triggerSource"], "CustomEmailSender_ForgotPassword");
    let code = keys.decrypt(reset["request"]["code"].as_str().unwrap());
    sdk.confirm_forgot_password()
        .client_id(APP)
        .username("gina")
        .confirmation_code(code)
        .password("N3w-password-for-gina")
        .send()
        .await
        .unwrap();

    // A failing sender fails the sign-up (nothing mailed in clear instead).
    hooks.answer(EMAIL_SENDER, Answer::Error(500, "provider down".into()));
    let (code_name, message) = sign_up(&sdk, "hank", "hank@example.com").await.unwrap_err();
    assert_eq!(code_name, "UserLambdaValidationException");
    assert_eq!(
        message,
        "CustomEmailSender failed with error provider down."
    );
    assert!(server.find_user(POOL, "hank").await.is_none());
    assert!(server.inbox.all().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn a_sender_without_a_key_is_refused_and_lambda_config_takes_the_key() {
    // The configuration file: a sender needs the key.
    let pools = format!(
        r#"
[[pools]]
id = "{POOL}"
name = "senders"
[pools.triggers]
custom_email_sender = "https://hooks.example.com/email"
"#
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cognate.toml");
    std::fs::write(
        &path,
        format!("[server]\ndata_dir = \"{}\"\n{pools}", dir.path().display()),
    )
    .unwrap();
    let no_env = |_: &str| -> Option<String> { None };
    let Err(diagnostics) = cognate::config::Config::load_with_env(Some(&path), &no_env) else {
        panic!("a sender without a key is refused");
    };
    let err = format!("{diagnostics:?}");
    assert!(err.contains("sender_key"), "{err}");

    // The API: CustomEmailSender needs KMSKeyID, which takes the public key, not an ARN.
    let keys = SenderKeyPair::generate();
    let server = start("").await;
    let admin = crate::user_pools::operator_client(&server).await;
    let sender =
        aws_sdk_cognitoidentityprovider::types::CustomEmailLambdaVersionConfigType::builder()
            .lambda_version(
                aws_sdk_cognitoidentityprovider::types::CustomEmailSenderLambdaVersionType::V10,
            )
            .lambda_arn("https://hooks.example.com/email")
            .build()
            .unwrap();
    let create = |kms: Option<&str>| {
        let mut config = aws_sdk_cognitoidentityprovider::types::LambdaConfigType::builder()
            .custom_email_sender(sender.clone());
        if let Some(kms) = kms {
            config = config.kms_key_id(kms);
        }
        admin
            .create_user_pool()
            .pool_name("api senders")
            .auto_verified_attributes(
                aws_sdk_cognitoidentityprovider::types::VerifiedAttributeType::Email,
            )
            .lambda_config(config.build())
    };
    let err = create(None).send().await.unwrap_err();
    assert!(
        err.message().unwrap_or_default().contains("sender key"),
        "{err:?}"
    );
    let err = create(Some("arn:aws:kms:us-east-1:123456789012:key/1234abcd"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(err.message().unwrap_or_default().contains("KMS"), "{err:?}");
    let created = create(Some(&keys.public_pem)).send().await.unwrap();
    let id = created.user_pool.unwrap().id.unwrap();
    let described = admin
        .describe_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .unwrap();
    let config = described.user_pool.unwrap().lambda_config.unwrap();
    let got = config.custom_email_sender.unwrap();
    assert_eq!(got.lambda_arn, "https://hooks.example.com/email");
    assert_eq!(got.lambda_version.as_str(), "V1_0");
    assert_eq!(config.kms_key_id.as_deref(), Some(keys.public_pem.trim()));
    server.stop().await;
}

#[tokio::test]
async fn admin_invitations_and_resets_go_through_the_message_triggers() {
    let keys = SenderKeyPair::generate();
    let hooks = Receiver::start().await;
    let server = start(&format!(
        "custom_email_sender = \"{}\"\nsender_key = \"\"\"\n{}\"\"\"",
        hooks.url(EMAIL_SENDER),
        keys.public_pem
    ))
    .await;
    receiver_for(&server, &hooks).await;
    let admin = crate::user_pools::operator_client(&server).await;
    admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("ivy")
        .user_attributes(attr("email", "ivy@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .desired_delivery_mediums(aws_sdk_cognitoidentityprovider::types::DeliveryMediumType::Email)
        .send()
        .await
        .unwrap();
    let events = hooks.events(EMAIL_SENDER);
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["triggerSource"], "CustomEmailSender_AdminCreateUser");
    assert_eq!(event["userName"], "ivy");
    assert_eq!(
        event["callerContext"]["clientId"],
        "CLIENT_ID_NOT_APPLICABLE"
    );
    assert_eq!(event["request"]["type"], "customEmailSenderRequestV1");
    // The "code" of an invitation is the temporary password: it signs in.
    let temporary = keys.decrypt(event["request"]["code"].as_str().unwrap());
    assert!(server.inbox.all().is_empty());
    let sdk = public_client(&server);
    let out = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ivy")
        .auth_parameters("PASSWORD", &temporary)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.challenge_name
            .map(|c| c.as_str().to_string())
            .as_deref(),
        Some("NEW_PASSWORD_REQUIRED")
    );

    // AdminResetUserPassword: CustomEmailSender_ForgotPassword, the code resets.
    admin
        .admin_reset_user_password()
        .user_pool_id(POOL)
        .username("ivy")
        .send()
        .await
        .unwrap();
    let events = hooks.events(EMAIL_SENDER);
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(
        events[1]["triggerSource"],
        "CustomEmailSender_ForgotPassword"
    );
    let code = keys.decrypt(events[1]["request"]["code"].as_str().unwrap());
    sdk.confirm_forgot_password()
        .client_id(APP)
        .username("ivy")
        .confirmation_code(code)
        .password("Ivy-chose-this-1")
        .send()
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn custom_message_writes_the_reset_mail_and_a_failure_there_is_only_logged() {
    let hooks = Receiver::start().await;
    let server = start(&format!("custom_message = \"{}\"", hooks.url(MESSAGE))).await;
    receiver_for(&server, &hooks).await;
    let attributes = [("email", "jade@example.com"), ("email_verified", "true")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    server.create_user(POOL, "jade", attributes, PASSWORD).await;
    hooks.answer(
        MESSAGE,
        Answer::Respond(Some(json!({
            "emailSubject": "Reset for {username}",
            "emailMessage": "Code {####} resets {username}'s password",
        }))),
    );
    let sdk = public_client(&server);
    sdk.forgot_password()
        .client_id(APP)
        .username("jade")
        .send()
        .await
        .unwrap();
    let code = server.inbox.code_for("jade@example.com").await;
    let mail = server.inbox.all().join("\n");
    assert!(mail.contains("Subject: Reset for jade"), "{mail}");
    assert!(
        mail.contains(&format!("Code {code} resets jade's password")),
        "{mail}"
    );
    let event = &hooks.events(MESSAGE)[0];
    assert_common_admin(event, "CustomMessage_ForgotPassword", "jade");
    // ForgotPassword answers before the message is written (its timing must not tell
    // whether the account exists): a failing webhook is logged and nothing is mailed.
    hooks.answer(MESSAGE, Answer::Error(400, "down".into()));
    let before = server.inbox.all().len();
    sdk.forgot_password()
        .client_id(APP)
        .username("jade")
        .send()
        .await
        .unwrap();
    for _ in 0..50 {
        if hooks.events(MESSAGE).len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(hooks.events(MESSAGE).len(), 2);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(server.inbox.all().len(), before);
    server.stop().await;
}

/// The common fields of an event no app client's `ClientMetadata` reached.
#[track_caller]
fn assert_common_admin(event: &Value, source: &str, user_name: &str) {
    assert_eq!(event["version"], "1", "{event}");
    assert_eq!(event["userPoolId"], POOL, "{event}");
    assert_eq!(event["userName"], user_name, "{event}");
    assert_eq!(event["triggerSource"], source, "{event}");
    assert_eq!(event["request"]["codeParameter"], "{####}", "{event}");
}
