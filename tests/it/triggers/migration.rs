//! Issue 16, part C: lazy user migration. An unknown user signing in with a password (the
//! hosted UI, USER_PASSWORD_AUTH through the AWS SDK) or asking for a reset is offered to
//! the pool's `user_migration` webhook (the verifying receiver); the user is created only
//! when it accepts, with the password typed. The security points each have a test: the
//! webhook is called after the attempt is counted, once per burst, never for SRP, and a
//! refusal answers as an unknown user.

use std::sync::Arc;

use aws_cognito_srp::{SrpClient, User as SrpUser, UserAuthenticationParameters};
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_cognitoidentityprovider::Client;
use cognate::core::throttle::PAIR_LOCK_FAILURES;
use serde_json::{json, Value};

use crate::support::pg::PgNodeEnv;
use crate::support::server::{
    absolute, browser_client, hidden, sign_in as hosted_sign_in, TestServer,
};
use crate::support::webhook::{Answer, Receiver};
use crate::user_pools::operator_client;
use crate::user_pools::public_client;

const POOL: &str = "us-east-1_Migrate01";
const APP: &str = "migrateapp00000000000001";
const PASSWORD: &str = "Old-system-pass-1";
const MIGRATION: &str = "/user-migration";
/// A pool with `mfa = "ON"` and the same webhook.
const MFA_POOL: &str = "us-east-1_Migrate02";
const MFA_APP: &str = "migratemfa00000000000001";

/// A pool whose only trigger is the migration webhook.
fn pools(receiver: &Receiver) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "migration"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]

[pools.triggers]
user_migration = "{url}"

[[pools.clients]]
id = "{APP}"
name = "app"
callback_urls = ["https://app.example/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pools]]
id = "{MFA_POOL}"
name = "migration with mfa"
mfa = "ON"

[pools.triggers]
user_migration = "{url}"

[[pools.clients]]
id = "{MFA_APP}"
name = "mfa app"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#,
        url = receiver.url(MIGRATION),
    )
}

/// Sign-in attempts are counted per `X-Forwarded-For` address (the throttle test needs
/// two addresses).
const SERVER: &str = "trigger_timeout_ms = 2000\ntrusted_proxies = [\"127.0.0.1/32\"]";

async fn start() -> (Arc<TestServer>, Receiver) {
    let receiver = Receiver::start().await;
    let server = TestServer::start_with(&pools(&receiver), SERVER, &[]).await;
    let secret = server.node.webhooks.secret(POOL).await.unwrap();
    receiver.set_secret(&secret.display());
    (Arc::new(server), receiver)
}

async fn stop(server: Arc<TestServer>) {
    if let Ok(server) = Arc::try_unwrap(server) {
        server.stop().await;
    }
}

/// The old system's answer for a user it knows.
fn accept(email: &str) -> Answer {
    Answer::Respond(Some(json!({
        "userAttributes": {"email": email, "email_verified": "true"},
        "finalUserStatus": "CONFIRMED",
        "messageAction": "SUPPRESS",
    })))
}

async fn password_sign_in(sdk: &Client, login: &str, password: &str) -> Result<(), String> {
    let out = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", login)
        .auth_parameters("PASSWORD", password)
        .client_metadata("app", "web")
        .send()
        .await
        .map_err(|e| {
            format!(
                "{}: {}",
                e.code().unwrap_or_default(),
                e.message().unwrap_or_default()
            )
        })?;
    assert!(out.authentication_result.is_some(), "{out:?}");
    Ok(())
}

/// An InitiateAuth USER_PASSWORD_AUTH from `address` (raw, for the bursts).
async fn raw_sign_in(server: &TestServer, login: &str, password: &str, address: &str) -> Value {
    let body = json!({
        "ClientId": APP,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": login, "PASSWORD": password},
    });
    browser_client()
        .post(&server.base)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.InitiateAuth",
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

fn authorize_url(server: &TestServer) -> String {
    format!(
        "{}/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        server.base
    )
}

#[tokio::test]
async fn user_password_auth_migrates_an_unknown_user_once_with_cognitos_event() {
    let (server, hooks) = start().await;
    hooks.answer(MIGRATION, accept("olga@example.com"));
    let sdk = public_client(&server);
    password_sign_in(&sdk, "olga", PASSWORD)
        .await
        .expect("migrated and signed in");

    let events = hooks.events(MIGRATION);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["version"], "1");
    assert_eq!(e["region"], "us-east-1");
    assert_eq!(e["userPoolId"], POOL);
    assert_eq!(e["userName"], "olga");
    assert_eq!(e["triggerSource"], "UserMigration_Authentication");
    assert_eq!(e["callerContext"]["clientId"], APP);
    assert_eq!(
        e["request"],
        json!({
            "password": PASSWORD,
            "validationData": {"app": "web"},
            "clientMetadata": {},
        })
    );
    assert!(e["response"]["userAttributes"].is_object(), "{e}");

    // Stored with the answer's attributes and the typed password, hashed with Argon2id,
    // and an SRP verifier.
    let user = server.find_user(POOL, "olga").await.expect("stored");
    assert_eq!(user.status.as_str(), "CONFIRMED");
    assert_eq!(user.attribute("email"), Some("olga@example.com"));
    assert_eq!(user.attribute("email_verified"), Some("true"));
    let hash = user.password_hash.as_ref().unwrap().expose();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert!(!hash.contains(PASSWORD));
    assert!(user.srp.is_some());

    // The second sign-in (here by the email alias) does not call the webhook; a wrong
    // password is refused as for any user.
    password_sign_in(&sdk, "olga@example.com", PASSWORD)
        .await
        .expect("second sign-in");
    assert_eq!(
        password_sign_in(&sdk, "olga", "Wrong-pass-99").await,
        Err("NotAuthorizedException: Incorrect username or password.".into())
    );
    assert_eq!(hooks.events(MIGRATION).len(), 1);

    // SRP works for the migrated user from now on (the verifier was made).
    let srp = SrpClient::new(SrpUser::new(POOL, "olga", PASSWORD), APP, None);
    assert!(srp_sign_in(&sdk, &srp).await.is_ok());
    assert_eq!(hooks.events(MIGRATION).len(), 1);

    // ADMIN_USER_PASSWORD_AUTH migrates too.
    hooks.answer(MIGRATION, accept("adam@example.com"));
    let admin = operator_client(&server).await;
    let out = admin
        .admin_initiate_auth()
        .user_pool_id(POOL)
        .client_id(APP)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "adam")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("admin sign-in");
    assert!(out.authentication_result.is_some());
    let events = hooks.events(MIGRATION);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["userName"], "adam");
    assert_eq!(events[1]["request"]["password"], PASSWORD);
    assert!(server.find_user(POOL, "adam").await.is_some());
    stop(server).await;
}

/// USER_SRP_AUTH, both steps; the answer's error code when refused.
async fn srp_sign_in(sdk: &Client, srp: &SrpClient<SrpUser>) -> Result<(), String> {
    let UserAuthenticationParameters { a, username } = srp.get_auth_parameters();
    let challenge = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("SRP_A", a)
        .send()
        .await
        .map_err(|e| e.code().unwrap_or_default().to_string())?;
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
        .client_id(APP)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .send()
        .await
        .map_err(|e| e.code().unwrap_or_default().to_string())?;
    assert!(out.authentication_result().is_some());
    Ok(())
}

#[tokio::test]
async fn srp_for_an_unknown_user_never_calls_the_webhook() {
    let (server, hooks) = start().await;
    hooks.answer(MIGRATION, accept("sam@example.com"));
    let sdk = public_client(&server);
    // No password reaches Cognate: the unknown user's proof fails, nothing is offered.
    let srp = SrpClient::new(SrpUser::new(POOL, "sam", PASSWORD), APP, None);
    assert_eq!(
        srp_sign_in(&sdk, &srp).await,
        Err("NotAuthorizedException".into())
    );
    assert!(hooks.events(MIGRATION).is_empty());
    assert!(server.find_user(POOL, "sam").await.is_none());
    // The same user migrates through USER_PASSWORD_AUTH (what Amplify apps must use for
    // migrating users), then SRP holds.
    password_sign_in(&sdk, "sam", PASSWORD)
        .await
        .expect("migrated");
    assert!(srp_sign_in(&sdk, &srp).await.is_ok());
    assert_eq!(hooks.events(MIGRATION).len(), 1);
    stop(server).await;
}

#[tokio::test]
async fn refusals_answer_as_an_unknown_user_and_store_nothing() {
    let (server, hooks) = start().await;
    let sdk = public_client(&server);
    let unknown = Err("NotAuthorizedException: Incorrect username or password.".to_string());
    // The old system does not know the user (a Lambda's error).
    hooks.answer(MIGRATION, Answer::Error(400, "Bad password".into()));
    assert_eq!(password_sign_in(&sdk, "rita", PASSWORD).await, unknown);
    // An answer Cognate cannot honour is refused, never half applied.
    for response in [
        json!({"userAttributes": {"email": "rita@example.com"}, "messageAction": "RESEND"}),
        json!({"userAttributes": {"email": "rita@example.com"}, "desiredDeliveryMediums": ["SMS"]}),
        json!({"userAttributes": {"email": "rita@example.com"}, "finalUserStatus": "UNCONFIRMED"}),
        json!({"userAttributes": {"email": "rita@example.com"}, "forceAliasCreation": true}),
        json!({"userAttributes": {"email": 7}}),
    ] {
        hooks.answer(MIGRATION, Answer::Respond(Some(response)));
        assert_eq!(password_sign_in(&sdk, "rita", PASSWORD).await, unknown);
    }
    // The hosted UI answers as for a wrong password too.
    let browser = browser_client();
    let page = hosted_sign_in(
        &browser,
        &server.base,
        &authorize_url(&server),
        "rita",
        PASSWORD,
    )
    .await
    .expect_err("refused on the page");
    assert!(page.contains("Incorrect username or password"), "{page}");
    assert!(server.find_user(POOL, "rita").await.is_none());
    assert_eq!(hooks.events(MIGRATION).len(), 7);

    // An answer whose email is another user's verified alias: the directory's identifier
    // rules hold, nothing is stored.
    hooks.answer(MIGRATION, accept("owner@example.com"));
    password_sign_in(&sdk, "owner", PASSWORD)
        .await
        .expect("the owner migrates");
    assert_eq!(password_sign_in(&sdk, "rita", PASSWORD).await, unknown);
    assert!(server.find_user(POOL, "rita").await.is_none());
    // The honest answer moves rita in.
    hooks.answer(MIGRATION, accept("rita@example.com"));
    password_sign_in(&sdk, "rita", PASSWORD)
        .await
        .expect("migrated");
    assert!(server.find_user(POOL, "rita").await.is_some());
    stop(server).await;
}

#[tokio::test]
async fn hosted_ui_sign_in_migrates_the_user() {
    let (server, hooks) = start().await;
    hooks.answer(MIGRATION, accept("hana@example.com"));
    let browser = browser_client();
    let location = hosted_sign_in(
        &browser,
        &server.base,
        &authorize_url(&server),
        "hana",
        PASSWORD,
    )
    .await
    .expect("hosted sign-in");
    assert!(
        location.starts_with("https://app.example/cb?code="),
        "{location}"
    );
    let events = hooks.events(MIGRATION);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["triggerSource"], "UserMigration_Authentication");
    assert_eq!(events[0]["request"]["password"], PASSWORD);
    assert_eq!(events[0]["callerContext"]["clientId"], APP);
    assert!(server.find_user(POOL, "hana").await.is_some());
    stop(server).await;
}

#[tokio::test]
async fn forgot_password_migrates_the_user_then_the_reset_and_sign_in_work() {
    let (server, hooks) = start().await;
    hooks.answer(
        MIGRATION,
        Answer::Respond(Some(json!({
            "userAttributes": {"email": "fred@example.com", "email_verified": "true"},
            "finalUserStatus": "RESET_REQUIRED",
            "messageAction": "SUPPRESS",
            "desiredDeliveryMediums": ["EMAIL"],
        }))),
    );
    let sdk = public_client(&server);
    let out = sdk
        .forgot_password()
        .client_id(APP)
        .username("fred")
        .client_metadata("from", "reset")
        .send()
        .await
        .expect("forgot password");
    assert!(out.code_delivery_details.is_some());
    let events = hooks.events(MIGRATION);
    assert_eq!(events.len(), 1);
    let e = &events[0];
    assert_eq!(e["triggerSource"], "UserMigration_ForgotPassword");
    assert_eq!(e["userName"], "fred");
    // No password in a reset's event.
    assert_eq!(
        e["request"],
        json!({"validationData": {}, "clientMetadata": {"from": "reset"}})
    );
    let user = server.find_user(POOL, "fred").await.expect("stored");
    assert_eq!(user.status.as_str(), "RESET_REQUIRED");
    assert!(user.password_hash.is_none());
    // A reset's migration answered CONFIRMED still makes a RESET_REQUIRED user: a
    // password-less CONFIRMED account would be one anyone asking for a reset could create.
    hooks.answer(
        MIGRATION,
        Answer::Respond(Some(json!({
            "userAttributes": {"email": "gina@example.com", "email_verified": "true"},
            "finalUserStatus": "CONFIRMED",
        }))),
    );
    sdk.forgot_password()
        .client_id(APP)
        .username("gina")
        .send()
        .await
        .expect("forgot password");
    let gina = server.find_user(POOL, "gina").await.expect("stored");
    assert_eq!(gina.status.as_str(), "RESET_REQUIRED");

    let code = server.inbox.code_for("fred@example.com").await;
    sdk.confirm_forgot_password()
        .client_id(APP)
        .username("fred")
        .confirmation_code(code)
        .password("New-system-pass-2")
        .send()
        .await
        .expect("reset");
    password_sign_in(&sdk, "fred", "New-system-pass-2")
        .await
        .expect("signed in");
    assert_eq!(hooks.events(MIGRATION).len(), 2);
    stop(server).await;
}

#[tokio::test]
async fn the_hosted_forgot_page_migrates_the_user() {
    let (server, hooks) = start().await;
    let base = server.base.as_str();
    let browser = browser_client();
    let r = browser.get(authorize_url(&server)).send().await.unwrap();
    let login = r.headers()["location"].to_str().unwrap().to_string();
    let page = browser
        .get(absolute(base, &login))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let flow = hidden(&page, "flow").unwrap();
    let csrf = hidden(&page, "_csrf").unwrap();
    let forgot = |username: &'static str| {
        let (browser, flow, csrf) = (browser.clone(), flow.clone(), csrf.clone());
        async move {
            browser
                .post(format!("{base}/forgot-password"))
                .form(&[
                    ("flow", flow.as_str()),
                    ("_csrf", csrf.as_str()),
                    ("username", username),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    // Refused by the old system: the page answers as for anyone (a code "sent"), and
    // nothing is stored.
    hooks.answer(MIGRATION, Answer::Error(404, "unknown".into()));
    let r = forgot("hugo").await;
    assert_eq!(r.status(), 303);
    assert!(server.find_user(POOL, "hugo").await.is_none());
    // Accepted: the user is moved in and mailed a code.
    hooks.answer(MIGRATION, accept("hugo@example.com"));
    let r = forgot("hugo").await;
    assert_eq!(r.status(), 303);
    let reset = r.headers()["location"].to_str().unwrap().to_string();
    assert!(reset.starts_with("/reset-password?flow="), "{reset}");
    let code = server.inbox.code_for("hugo@example.com").await;
    assert_eq!(code.len(), 6);
    let events = hooks.events(MIGRATION);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1]["triggerSource"], "UserMigration_ForgotPassword");
    assert_eq!(events[1]["callerContext"]["clientId"], APP);
    assert!(events[1]["request"].get("password").is_none());
    assert!(server.find_user(POOL, "hugo").await.is_some());
    stop(server).await;
}

#[tokio::test]
async fn a_burst_of_first_sign_ins_calls_the_webhook_once() {
    let (server, hooks) = start().await;
    // A slow old system, so the burst overlaps the call: the answer is the event as sent
    // (empty attributes, CONFIRMED).
    hooks.answer(
        MIGRATION,
        Answer::Sleep(std::time::Duration::from_millis(400)),
    );
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let server = server.clone();
        tasks.spawn(async move { raw_sign_in(&server, "bursty", PASSWORD, "198.51.100.7").await });
    }
    while let Some(answer) = tasks.join_next().await {
        let body = answer.unwrap();
        assert!(body["AuthenticationResult"].is_object(), "{body}");
    }
    assert_eq!(hooks.events(MIGRATION).len(), 1);
    assert_eq!(server.user_count(POOL).await, 1);
    stop(server).await;
}

#[tokio::test]
async fn a_burst_split_across_two_nodes_calls_the_webhook_once() {
    let Some(pg) = PgNodeEnv::new("migration_nodes").await else {
        return;
    };
    let hooks = Receiver::start().await;
    let env = pg.with(&[]);
    let a = Arc::new(TestServer::start_with(&pools(&hooks), SERVER, &env).await);
    let b = Arc::new(TestServer::start_with(&pools(&hooks), SERVER, &env).await);
    assert_eq!(a.node.store.engine(), "postgres");
    // One secret for both nodes (kept in the shared database).
    let secret = a.node.webhooks.secret(POOL).await.unwrap();
    assert_eq!(
        b.node.webhooks.secret(POOL).await.unwrap().display(),
        secret.display()
    );
    hooks.set_secret(&secret.display());
    hooks.answer(
        MIGRATION,
        Answer::Sleep(std::time::Duration::from_millis(400)),
    );
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let node = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.spawn(async move { raw_sign_in(&node, "twonodes", PASSWORD, "198.51.100.8").await });
    }
    while let Some(answer) = tasks.join_next().await {
        let body = answer.unwrap();
        assert!(body["AuthenticationResult"].is_object(), "{body}");
    }
    assert_eq!(hooks.events(MIGRATION).len(), 1);
    assert_eq!(a.user_count(POOL).await, 1);
    stop(a).await;
    stop(b).await;
    pg.cleanup().await;
}

#[tokio::test]
async fn attempt_limits_hold_for_unknown_users_with_migration_on() {
    let (server, hooks) = start().await;
    // The old system knows the user but the guesses are wrong.
    hooks.answer(MIGRATION, Answer::Error(400, "Bad password".into()));
    const BURST: usize = 30;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..BURST {
        let server = server.clone();
        tasks.spawn(async move {
            raw_sign_in(&server, "victim", &format!("Guess-{i}-aA1"), "203.0.113.9").await
        });
    }
    let (mut wrong, mut locked) = (0, 0);
    while let Some(answer) = tasks.join_next().await {
        let body = answer.unwrap();
        assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
        match body["message"].as_str().unwrap() {
            "Incorrect username or password." => wrong += 1,
            "Password attempts exceeded" => locked += 1,
            other => panic!("{other}"),
        }
    }
    // Exactly as for a known user: the limit's worth of attempts go on, the rest are
    // refused before the webhook; each guess that went on reached the webhook at most
    // once (a burst shares one call).
    let limit = usize::try_from(PAIR_LOCK_FAILURES).unwrap();
    assert_eq!((wrong, locked), (limit, BURST - limit));
    let calls = hooks.events(MIGRATION).len();
    assert!((1..=limit).contains(&calls), "{calls} webhook calls");
    // The locked address stays refused without a call, even with the right password.
    hooks.answer(MIGRATION, accept("victim@example.com"));
    let body = raw_sign_in(&server, "victim", PASSWORD, "203.0.113.9").await;
    assert_eq!(body["message"], "Password attempts exceeded", "{body}");
    assert_eq!(hooks.events(MIGRATION).len(), calls);
    // The real user, from their own address, migrates.
    let body = raw_sign_in(&server, "victim", PASSWORD, "198.51.100.20").await;
    assert!(body["AuthenticationResult"].is_object(), "{body}");
    assert_eq!(hooks.events(MIGRATION).len(), calls + 1);
    stop(server).await;
}

#[tokio::test]
async fn a_migrated_sign_in_continues_to_the_pools_mfa() {
    let (server, hooks) = start().await;
    let secret = server.node.webhooks.secret(MFA_POOL).await.unwrap();
    hooks.set_secret(&secret.display());
    hooks.answer(MIGRATION, accept("mia@example.com"));
    let out = public_client(&server)
        .initiate_auth()
        .client_id(MFA_APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "mia")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("a challenge");
    // No token before the second factor: mfa = "ON" asks the new user to enrol one.
    assert!(out.authentication_result.is_none());
    assert_eq!(out.challenge_name, Some(ChallengeNameType::MfaSetup));
    let events = hooks.events(MIGRATION);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["userPoolId"], MFA_POOL);
    assert!(server.find_user(MFA_POOL, "mia").await.is_some());
    stop(server).await;
}
