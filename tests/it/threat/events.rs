//! The auth event log over the user pools API: the account flows, MFA changes and
//! federated sign-ins of a pool in `audit` mode are recorded with their outcome, address,
//! user agent and client, listed newest first by AdminListUserAuthEvents (paged by
//! `MaxResults` / `NextToken`), and marked by AdminUpdateAuthEventFeedback; a pool whose
//! `AdvancedSecurityMode` is `OFF` records nothing and answers
//! `UserPoolAddOnNotEnabledException`; a burst of concurrent sign-ups loses no event to
//! the batch writer. Every test runs on SQLite and on PostgreSQL.
//!
//! Raw JSON requests name their client address in `X-Forwarded-For` (127.0.0.1 is a
//! trusted proxy here) and send [`AGENT`] as their `User-Agent`. Sign-in events are the
//! sign-in's own (recorded with their risk by the sign-in); these tests leave them out.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AdvancedSecurityAdditionalFlowsType, AdvancedSecurityEnabledModeType, AdvancedSecurityModeType,
    EventFeedbackType,
};
use aws_sdk_cognitoidentityprovider::types::{
    AuthEventType, FeedbackValueType, UserPoolAddOnsType,
};
use serde_json::{json, Value};

use cognate::core::model::{AuthEvent, PageRequest};

use crate::support::federated::{self, fake_google, google_idp, Client, GOOGLE_SECRET_ENV};
use crate::support::pg::PgNodeEnv;
use crate::support::server::{browser_client, TestServer};
use crate::support::smtp::six_digits;
use crate::user_pools::operator_client;

const POOL: &str = "us-east-1_Events0001";
const APP: &str = "evapp000000000000000000001";
const OFF_POOL: &str = "us-east-1_EventsOff1";
const OFF_APP: &str = "evoff000000000000000000001";
const PASSWORD: &str = "Corr3ct-horse-events";
const NEW_PASSWORD: &str = "N3w-battery-staple-ev";
const NEWER_PASSWORD: &str = "N3wer-battery-staple-ev";
/// The client address the raw requests come from.
const ADDRESS: &str = "203.0.113.7";
/// Their user agent.
const AGENT: &str = "EventsTest/1.0 (integration)";

const ALL_FLOWS: &str = r#"explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]"#;

fn pool_toml(id: &str, client: &str, mode: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{id}"
name = "events {mode}"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
mfa = "OPTIONAL"
mfa_factors = ["TOTP"]

[pools.threat_protection]
mode = "{mode}"

[[pools.clients]]
id = "{client}"
name = "app"
callback_urls = ["https://app.example/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "aws.cognito.signin.user.admin"]
{ALL_FLOWS}
"#
    )
}

async fn start(pg: Option<&PgNodeEnv>) -> TestServer {
    let pools = pool_toml(POOL, APP, "audit") + &pool_toml(OFF_POOL, OFF_APP, "off");
    let vars: Vec<(&str, &str)> = pg.map(|p| p.vars().to_vec()).unwrap_or_default();
    TestServer::start_with(&pools, "trusted_proxies = [\"127.0.0.1/32\"]", &vars).await
}

/// Runs `test` on SQLite, then on PostgreSQL (when a test database is configured).
macro_rules! on_both_engines {
    ($sqlite:ident, $postgres:ident, $label:literal, $body:ident) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $sqlite() {
            $body(start(None).await).await;
        }

        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $postgres() {
            let Some(pg) = PgNodeEnv::new($label).await else {
                return;
            };
            $body(start(Some(&pg)).await).await;
            pg.cleanup().await;
        }
    };
}

/// One user pools API call from [`ADDRESS`] with [`AGENT`]: the status and the answer.
async fn call(server: &TestServer, action: &str, body: Value) -> (u16, Value) {
    let r = browser_client()
        .post(&server.base)
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-forwarded-for", ADDRESS)
        .header("user-agent", AGENT)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// [`call`] that must succeed.
async fn ok(server: &TestServer, action: &str, body: Value) -> Value {
    let (status, answer) = call(server, action, body).await;
    assert_eq!(status, 200, "{action}: {answer}");
    answer
}

/// The `__type` of an error answer.
fn kind(answer: &(u16, Value)) -> &str {
    answer.1.get("__type").and_then(Value::as_str).unwrap_or("")
}

/// The SDK error's code.
fn code_of<E: ProvideErrorMetadata>(e: &E) -> String {
    e.code().unwrap_or_default().to_string()
}

/// Mails to `to` so far.
fn mails_to(server: &TestServer, to: &str) -> Vec<String> {
    server
        .inbox
        .all()
        .into_iter()
        .filter(|m| m.contains(to))
        .collect()
}

/// The code of the first mail to `to` after the `seen` ones.
async fn next_code(server: &TestServer, to: &str, seen: usize) -> String {
    for _ in 0..200 {
        let mails = mails_to(server, to);
        if mails.len() > seen {
            return six_digits(&mails[seen]).expect("a code in the mail");
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no new mail to {to}");
}

fn sign_up_body(username: &str, email: &str) -> Value {
    json!({
        "ClientId": APP,
        "Username": username,
        "Password": PASSWORD,
        "UserAttributes": [{"Name": "email", "Value": email}],
    })
}

/// The TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of the base32 `key` now, taken at the
/// start of a step so it cannot go stale on the way.
async fn fresh_totp(key: &str) -> String {
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    };
    if now() % 30 > 25 {
        tokio::time::sleep(std::time::Duration::from_secs(30 - now() % 30)).await;
    }
    let secret = totp_rs::Secret::Encoded(key.to_string())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret).generate(now())
}

/// The user's events through AdminListUserAuthEvents, every page of `page_size`.
async fn listed(server: &TestServer, username: &str, page_size: Option<i32>) -> Vec<AuthEventType> {
    let sdk = operator_client(server).await;
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let answer = sdk
            .admin_list_user_auth_events()
            .user_pool_id(POOL)
            .username(username)
            .set_max_results(page_size)
            .set_next_token(next.clone())
            .send()
            .await
            .expect("AdminListUserAuthEvents");
        let page = answer.auth_events().to_vec();
        if let Some(size) = page_size {
            assert!(page.len() <= size as usize, "a page larger than MaxResults");
        }
        out.extend(page);
        match answer.next_token() {
            Some(token) => next = Some(token.to_string()),
            None => return out,
        }
    }
}

/// The events other than sign-ins (which the sign-in records itself).
fn not_sign_ins(events: &[AuthEventType]) -> Vec<&AuthEventType> {
    events
        .iter()
        .filter(|e| e.event_type().map(|t| t.as_str()) != Some("SignIn"))
        .collect()
}

fn summary(e: &AuthEventType) -> (String, String) {
    (
        e.event_type()
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        e.event_response()
            .map(|r| r.as_str().to_string())
            .unwrap_or_default(),
    )
}

/// The stored events of `pool` (every field, as the CLI's JSON shows them).
async fn stored(server: &TestServer, pool: &str) -> Vec<AuthEvent> {
    let page = PageRequest {
        limit: 1000,
        after: None,
    };
    server
        .node
        .events
        .list(pool, None, &page, cognate::core::now())
        .await
        .expect("the stored events")
        .items
}

on_both_engines!(
    account_flows_are_listed_newest_first_with_their_fields,
    account_flows_are_listed_newest_first_with_their_fields_on_postgres,
    "events_flows",
    account_flows_are_listed
);

async fn account_flows_are_listed(server: TestServer) {
    let started = cognate::core::now();
    let email = "alice@events.test";
    ok(&server, "SignUp", sign_up_body("alice", email)).await;
    next_code(&server, email, 0).await;
    ok(
        &server,
        "ResendConfirmationCode",
        json!({"ClientId": APP, "Username": "alice"}),
    )
    .await;
    let code = next_code(&server, email, 1).await;
    let wrong = format!("{:06}", (code.parse::<u32>().unwrap() + 1) % 1_000_000);
    let refused = call(
        &server,
        "ConfirmSignUp",
        json!({"ClientId": APP, "Username": "alice", "ConfirmationCode": wrong}),
    )
    .await;
    assert_eq!(kind(&refused), "CodeMismatchException", "{refused:?}");
    ok(
        &server,
        "ConfirmSignUp",
        json!({"ClientId": APP, "Username": "alice", "ConfirmationCode": code}),
    )
    .await;
    ok(
        &server,
        "ForgotPassword",
        json!({"ClientId": APP, "Username": "alice"}),
    )
    .await;
    let reset = next_code(&server, email, 2).await;
    ok(
        &server,
        "ConfirmForgotPassword",
        json!({"ClientId": APP, "Username": "alice", "ConfirmationCode": reset, "Password": NEW_PASSWORD}),
    )
    .await;
    let signed_in = ok(
        &server,
        "InitiateAuth",
        json!({"ClientId": APP, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": NEW_PASSWORD}}),
    )
    .await;
    let token = signed_in["AuthenticationResult"]["AccessToken"]
        .as_str()
        .expect("an access token")
        .to_string();
    ok(
        &server,
        "ChangePassword",
        json!({"AccessToken": token, "PreviousPassword": NEW_PASSWORD, "ProposedPassword": NEWER_PASSWORD}),
    )
    .await;
    let associated = ok(
        &server,
        "AssociateSoftwareToken",
        json!({"AccessToken": token}),
    )
    .await;
    let key = associated["SecretCode"].as_str().expect("a TOTP key");
    let totp = fresh_totp(key).await;
    ok(
        &server,
        "VerifySoftwareToken",
        json!({"AccessToken": token, "UserCode": totp, "FriendlyDeviceName": "Phone"}),
    )
    .await;
    ok(
        &server,
        "SetUserMFAPreference",
        json!({"AccessToken": token, "SoftwareTokenMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    )
    .await;
    let sdk = operator_client(&server).await;
    sdk.admin_set_user_password()
        .user_pool_id(POOL)
        .username("alice")
        .password("Adm1n-chosen-password")
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");
    let finished = cognate::core::now();

    let all = listed(&server, "alice", None).await;
    let events = not_sign_ins(&all);
    let kinds: Vec<(String, String)> = events.iter().map(|e| summary(e)).collect();
    let expected = [
        ("PasswordChange", "Pass"),
        ("MfaChange", "Pass"),
        ("MfaChange", "Pass"),
        ("PasswordChange", "Pass"),
        ("ForgotPassword", "Pass"),
        ("ForgotPassword", "Pass"),
        ("Confirmation", "Pass"),
        ("Confirmation", "Fail"),
        ("ResendCode", "Pass"),
        ("SignUp", "Pass"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(k, r)| (k.to_string(), r.to_string()))
        .collect();
    assert_eq!(kinds, expected, "newest first");
    for (i, e) in events.iter().enumerate() {
        let at = e.creation_date().expect("CreationDate").secs();
        assert!((started..=finished).contains(&at), "event {i} at {at}");
        let risk = e.event_risk().expect("EventRisk");
        assert_eq!(risk.risk_decision().map(|d| d.as_str()), Some("NoRisk"));
        assert_eq!(risk.compromised_credentials_detected(), Some(false));
        assert!(e.event_feedback().is_none());
        let context = e.event_context_data().expect("EventContextData");
        if i == 0 {
            // The administrator's call came from the test itself, through the SDK.
            assert_eq!(context.ip_address(), Some("127.0.0.1"));
            assert!(context.device_name().is_some_and(|d| d.contains("aws-sdk")));
        } else {
            assert_eq!(context.ip_address(), Some(ADDRESS), "event {i}");
        }
    }
    // Where the API call had a client and a user agent, the log has them.
    let user = server.find_user(POOL, "alice").await.unwrap();
    let mut mine: Vec<AuthEvent> = stored(&server, POOL)
        .await
        .into_iter()
        .filter(|e| e.sub.as_deref() == Some(&user.sub) && e.kind.as_str() != "SignIn")
        .collect();
    assert_eq!(mine.len(), 10);
    let admin = mine.remove(0);
    assert_eq!(admin.client_id, None);
    assert_eq!(admin.details.get("by").map(String::as_str), Some("admin"));
    for e in &mine {
        let what = e.kind.as_str();
        assert_eq!(e.username, "alice", "{what}");
        assert_eq!(e.address.map(|a| a.to_string()).as_deref(), Some(ADDRESS));
        if what == "MfaChange" && e.details.get("change").map(String::as_str) == Some("enrol") {
            // VerifySoftwareToken's enrolment is recorded where the second factor is
            // checked, which knows the address only.
            assert_eq!(e.details.get("factor").map(String::as_str), Some("totp"));
            continue;
        }
        assert_eq!(e.client_id.as_deref(), Some(APP), "{what}");
        assert_eq!(e.user_agent.as_deref(), Some(AGENT), "{what}");
    }
    let steps: Vec<&str> = mine
        .iter()
        .filter_map(|e| e.details.get("step").map(String::as_str))
        .collect();
    assert_eq!(steps, ["confirm", "request"]);
    let failed = mine
        .iter()
        .find(|e| e.outcome.as_str() == "Fail")
        .expect("the failed confirmation");
    assert_eq!(
        failed.details.get("reason").map(String::as_str),
        Some("CodeMismatchException")
    );

    // Paging: pages of 3 give the same events in the same order, and say when they end.
    let paged = listed(&server, "alice", Some(3)).await;
    let ids = |events: &[AuthEventType]| -> Vec<String> {
        events
            .iter()
            .map(|e| e.event_id().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(ids(&paged), ids(&all));

    // Feedback on alice's newest event shows in the next listing; bob's event is not
    // alice's to mark.
    ok(&server, "SignUp", sign_up_body("bob", "bob@events.test")).await;
    let bobs = listed(&server, "bob", None).await;
    let bob_event = bobs[0].event_id().unwrap().to_string();
    let newest = all[0].event_id().unwrap().to_string();
    sdk.admin_update_auth_event_feedback()
        .user_pool_id(POOL)
        .username("alice")
        .event_id(&newest)
        .feedback_value(FeedbackValueType::Invalid)
        .send()
        .await
        .expect("AdminUpdateAuthEventFeedback");
    let again = listed(&server, "alice", None).await;
    let feedback: &EventFeedbackType = again[0].event_feedback().expect("the feedback");
    assert_eq!(feedback.feedback_value().as_str(), "Invalid");
    assert_eq!(feedback.provider(), "Admin");
    assert!(feedback.feedback_date().is_some());
    assert!(again[1..].iter().all(|e| e.event_feedback().is_none()));
    let refused = sdk
        .admin_update_auth_event_feedback()
        .user_pool_id(POOL)
        .username("alice")
        .event_id(&bob_event)
        .feedback_value(FeedbackValueType::Invalid)
        .send()
        .await
        .expect_err("another user's event");
    assert_eq!(code_of(&refused), "ResourceNotFoundException");
    let bobs = listed(&server, "bob", None).await;
    assert!(bobs[0].event_feedback().is_none(), "bob's event unchanged");

    // Bad input: precise AWS errors.
    let too_many = sdk
        .admin_list_user_auth_events()
        .user_pool_id(POOL)
        .username("alice")
        .max_results(61)
        .send()
        .await
        .expect_err("MaxResults 61");
    assert_eq!(code_of(&too_many), "InvalidParameterException");
    assert!(too_many
        .message()
        .unwrap_or_default()
        .contains("maxResults"));
    let nobody = sdk
        .admin_list_user_auth_events()
        .user_pool_id(POOL)
        .username("nobody")
        .send()
        .await
        .expect_err("an unknown user");
    assert_eq!(code_of(&nobody), "UserNotFoundException");
    let unknown_event = sdk
        .admin_update_auth_event_feedback()
        .user_pool_id(POOL)
        .username("alice")
        .event_id("0123456789abcdef0123456789abcdef")
        .feedback_value(FeedbackValueType::Valid)
        .send()
        .await
        .expect_err("an unknown event");
    assert_eq!(code_of(&unknown_event), "ResourceNotFoundException");
    let bad_value = sdk
        .admin_update_auth_event_feedback()
        .user_pool_id(POOL)
        .username("alice")
        .event_id(&newest)
        .feedback_value(FeedbackValueType::from("Maybe"))
        .send()
        .await
        .expect_err("a feedback value Cognito does not have");
    assert_eq!(code_of(&bad_value), "InvalidParameterException");
    let bad_token = sdk
        .admin_list_user_auth_events()
        .user_pool_id(POOL)
        .username("alice")
        .next_token("not-a-token")
        .send()
        .await
        .expect_err("a forged NextToken");
    assert_eq!(code_of(&bad_token), "InvalidParameterException");
    server.stop().await;
}

on_both_engines!(
    a_pool_with_advanced_security_off_records_nothing,
    a_pool_with_advanced_security_off_records_nothing_on_postgres,
    "events_off",
    off_records_nothing
);

async fn off_records_nothing(server: TestServer) {
    // The honest sign-up of the OFF pool succeeds, and is not recorded.
    ok(
        &server,
        "SignUp",
        json!({"ClientId": OFF_APP, "Username": "carol", "Password": PASSWORD,
               "UserAttributes": [{"Name": "email", "Value": "carol@events.test"}]}),
    )
    .await;
    let sdk = operator_client(&server).await;
    let refused = sdk
        .admin_list_user_auth_events()
        .user_pool_id(OFF_POOL)
        .username("carol")
        .send()
        .await
        .expect_err("no log in an OFF pool");
    assert_eq!(code_of(&refused), "UserPoolAddOnNotEnabledException");
    let refused = sdk
        .admin_update_auth_event_feedback()
        .user_pool_id(OFF_POOL)
        .username("carol")
        .event_id("0123456789abcdef0123456789abcdef")
        .feedback_value(FeedbackValueType::Valid)
        .send()
        .await
        .expect_err("no feedback in an OFF pool");
    assert_eq!(code_of(&refused), "UserPoolAddOnNotEnabledException");
    assert!(stored(&server, OFF_POOL).await.is_empty());
    // The same sign-up in the AUDIT pool is recorded.
    ok(
        &server,
        "SignUp",
        sign_up_body("carol", "carol@events.test"),
    )
    .await;
    let events = listed(&server, "carol", None).await;
    assert_eq!(events.len(), 1);
    assert_eq!(summary(&events[0]), ("SignUp".into(), "Pass".into()));

    // AdvancedSecurityMode through the API: set, echoed, reset when omitted.
    let created = sdk
        .create_user_pool()
        .pool_name("audited")
        .user_pool_add_ons(
            UserPoolAddOnsType::builder()
                .advanced_security_mode(AdvancedSecurityModeType::Audit)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateUserPool with AUDIT");
    let id = created.user_pool().unwrap().id().unwrap().to_string();
    let mode = |answer: &aws_sdk_cognitoidentityprovider::operation::describe_user_pool::DescribeUserPoolOutput| {
        answer
            .user_pool()
            .and_then(|p| p.user_pool_add_ons())
            .map(|a| a.advanced_security_mode().as_str().to_string())
    };
    let described = sdk
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(mode(&described).as_deref(), Some("AUDIT"));
    sdk.update_user_pool()
        .user_pool_id(&id)
        .user_pool_add_ons(
            UserPoolAddOnsType::builder()
                .advanced_security_mode(AdvancedSecurityModeType::Enforced)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateUserPool with ENFORCED");
    let described = sdk
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(mode(&described).as_deref(), Some("ENFORCED"));
    sdk.update_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("UpdateUserPool without add-ons");
    let described = sdk
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(mode(&described).as_deref(), Some("OFF"));
    let refused = sdk
        .update_user_pool()
        .user_pool_id(&id)
        .user_pool_add_ons(
            UserPoolAddOnsType::builder()
                .advanced_security_mode(AdvancedSecurityModeType::from("SOMETIMES"))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect_err("an unknown mode");
    assert_eq!(code_of(&refused), "InvalidParameterException");
    assert!(refused.message().unwrap_or_default().contains("AUDIT"));
    let refused = sdk
        .update_user_pool()
        .user_pool_id(&id)
        .user_pool_add_ons(
            UserPoolAddOnsType::builder()
                .advanced_security_mode(AdvancedSecurityModeType::Audit)
                .advanced_security_additional_flows(
                    AdvancedSecurityAdditionalFlowsType::builder()
                        .custom_auth_mode(AdvancedSecurityEnabledModeType::Enforced)
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect_err("a separate mode for custom auth flows");
    assert_eq!(code_of(&refused), "InvalidParameterException");
    assert!(refused
        .message()
        .unwrap_or_default()
        .contains("AdvancedSecurityAdditionalFlows"));
    let described = sdk
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(mode(&described).as_deref(), Some("OFF"), "nothing changed");
    server.stop().await;
}

on_both_engines!(
    a_burst_of_concurrent_sign_ups_records_one_event_each,
    a_burst_of_concurrent_sign_ups_records_one_event_each_on_postgres,
    "events_burst",
    burst_records_every_event
);

async fn burst_records_every_event(server: TestServer) {
    const N: usize = 40;
    let server = std::sync::Arc::new(server);
    let mut tasks = Vec::new();
    for i in 0..N {
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            let answer = call(
                &server,
                "SignUp",
                sign_up_body(&format!("burst{i}"), &format!("burst{i}@events.test")),
            )
            .await;
            assert_eq!(answer.0, 200, "{answer:?}");
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let events = stored(&server, POOL).await;
    let mut names: Vec<String> = events
        .iter()
        .filter(|e| e.kind.as_str() == "SignUp")
        .map(|e| e.username.clone())
        .collect();
    names.sort();
    let mut expected: Vec<String> = (0..N).map(|i| format!("burst{i}")).collect();
    expected.sort();
    assert_eq!(names, expected, "one SignUp event per sign-up");
    let ids: std::collections::BTreeSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), events.len(), "distinct event ids");
    if let Ok(server) = std::sync::Arc::try_unwrap(server) {
        server.stop().await;
    }
}

// --- federated sign-ins -------------------------------------------------------------------

const FED_POOL: &str = "us-east-1_EventsFed1";
const FED_CLIENT: &str = "evfed000000000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "events-test-verifier-0123456789-abcdefghijklmnopqrs";

fn rp() -> Client {
    Client::new(FED_CLIENT, CALLBACK, VERIFIER).with_nonce("client-nonce")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_sign_ins_and_hosted_sign_ups_are_recorded() {
    federated_sign_ins_are_recorded(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn federated_sign_ins_and_hosted_sign_ups_are_recorded_on_postgres() {
    let Some(pg) = PgNodeEnv::new("events_fed").await else {
        return;
    };
    federated_sign_ins_are_recorded(Some(&pg)).await;
    pg.cleanup().await;
}

async fn federated_sign_ins_are_recorded(pg: Option<&PgNodeEnv>) {
    let google = fake_google().await;
    google.set_user(
        "g-alice",
        json!({"email": "alice@example.com", "email_verified": true, "name": "Alice"}),
    );
    let pools = format!(
        "[[pools]]\nid = \"{FED_POOL}\"\nname = \"Federated events\"\n\n[pools.threat_protection]\nmode = \"audit\"\n{}{}",
        google_idp(&google.issuer),
        rp().toml(&["Google"]),
    );
    let mut vars = vec![GOOGLE_SECRET_ENV];
    if let Some(pg) = pg {
        vars.extend(pg.vars());
    }
    let server = TestServer::start_with(
        &pools,
        "idp_timeout_secs = 2\ntrusted_proxies = [\"127.0.0.1/32\"]",
        &vars,
    )
    .await;
    let authorize = rp().authorize_url(&server.base, &[("identity_provider", "Google")]);
    federated::sign_in(&authorize).await.expect("signed in");
    let sdk = operator_client(&server).await;
    sdk.admin_disable_user()
        .user_pool_id(FED_POOL)
        .username("Google_g-alice")
        .send()
        .await
        .expect("AdminDisableUser");
    // Refused: a page, or an error on the client's redirect URI, never a code.
    if let Ok(redirect) = federated::sign_in(&authorize).await {
        assert!(federated::param(&redirect, "code").is_none(), "{redirect}");
    }
    let answer = sdk
        .admin_list_user_auth_events()
        .user_pool_id(FED_POOL)
        .username("Google_g-alice")
        .send()
        .await
        .expect("AdminListUserAuthEvents");
    let events = not_sign_ins(answer.auth_events());
    let kinds: Vec<(String, String)> = events.iter().map(|e| summary(e)).collect();
    assert_eq!(
        kinds,
        [
            ("FederatedSignIn".to_string(), "Fail".to_string()),
            ("FederatedSignIn".to_string(), "Pass".to_string()),
        ]
    );
    for e in &events {
        let context = e.event_context_data().expect("EventContextData");
        assert_eq!(context.ip_address(), Some("127.0.0.1"));
    }
    let all = stored(&server, FED_POOL).await;
    let federated: Vec<&AuthEvent> = all
        .iter()
        .filter(|e| e.kind.as_str() == "FederatedSignIn")
        .collect();
    assert_eq!(federated.len(), 2);
    for e in &federated {
        assert_eq!(e.client_id.as_deref(), Some(FED_CLIENT));
        assert_eq!(
            e.details.get("provider").map(String::as_str),
            Some("Google")
        );
        assert_eq!(e.username, "Google_g-alice");
    }
    assert_eq!(
        federated[0].details.get("reason").map(String::as_str),
        Some("user_disabled")
    );

    // The hosted sign-up page records through the same account service, with the
    // browser's address, user agent and the flow's client.
    let status = hosted_sign_up(&server.base, "dana").await;
    assert_eq!(status, 303, "the sign-up goes on to the next page");
    let all = stored(&server, FED_POOL).await;
    let sign_up = all
        .iter()
        .find(|e| e.kind.as_str() == "SignUp")
        .expect("the hosted sign-up's event");
    assert_eq!(sign_up.username, "dana");
    assert_eq!(sign_up.outcome.as_str(), "Pass");
    assert_eq!(sign_up.client_id.as_deref(), Some(FED_CLIENT));
    assert_eq!(sign_up.user_agent.as_deref(), Some(AGENT));
    assert_eq!(
        sign_up.address.map(|a| a.to_string()).as_deref(),
        Some(ADDRESS)
    );
    let dana = server.find_user(FED_POOL, "dana").await.expect("dana");
    assert_eq!(sign_up.sub.as_deref(), Some(dana.sub.as_str()));
    server.stop().await;
}

/// Signs up `username` over the hosted `/signup` page, from [`ADDRESS`] with [`AGENT`];
/// returns the answer's status.
async fn hosted_sign_up(base: &str, username: &str) -> u16 {
    let browser = browser_client();
    let r = browser
        .get(rp().authorize_url(base, &[]))
        .send()
        .await
        .unwrap();
    let login = crate::support::server::absolute(base, &federated::location(&r));
    let flow = federated::param(&login, "flow").expect("a login flow");
    let page = browser
        .get(format!("{base}/signup?flow={flow}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = crate::support::server::hidden(&page, "_csrf").expect("_csrf");
    let r = browser
        .post(format!("{base}/signup"))
        .header("x-forwarded-for", ADDRESS)
        .header("user-agent", AGENT)
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}
