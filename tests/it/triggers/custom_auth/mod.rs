//! Issue 16: CUSTOM_AUTH, Cognito's custom authentication challenges, through the AWS SDK
//! against a receiver that implements define / create / verify auth challenge as a
//! typical Lambda OTP-by-email handler does: define asks CUSTOM_CHALLENGE until the last
//! answer was right (users named `two...` need two right answers), and fails the sign-in
//! after three wrong ones; create makes a random six-digit code, "mails" it (the test's
//! mailbox) and keeps it in privateChallengeParameters; verify compares.
//!
//! Here the honest flows and what they fire; in [`guards`] what an attacker meets
//! (replays, other clients and users, unknown users, guessing bursts, failing webhooks).

mod guards;

use std::sync::{Arc, Mutex};

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_cognitoidentityprovider::Client;
use cognate::core::throttle::PAIR_LOCK_FAILURES;
use serde_json::{json, Value};

use crate::support::pg::PgNodeEnv;
use crate::support::server::{browser_client, TestServer};
use crate::support::webhook::{Answer, Receiver};
use crate::user_pools::{operator_client, public_client};

const POOL: &str = "us-east-1_Custom0001";
const APP: &str = "customapp000000000000001";
/// Another client of the pool with CUSTOM_AUTH.
const OTHER: &str = "customother0000000000001";
/// A client without ALLOW_CUSTOM_AUTH.
const NO_CUSTOM: &str = "customnone00000000000001";
/// A client with PreventUserExistenceErrors LEGACY.
const LEGACY: &str = "customlegacy000000000001";
/// A pool without the custom challenge triggers.
const PLAIN_POOL: &str = "us-east-1_Custom0002";
const PLAIN_APP: &str = "customplain0000000000001";
const PASSWORD: &str = "Unused-passw0rd-custom";

const DEFINE: &str = "/define";
const CREATE: &str = "/create";
const VERIFY: &str = "/verify";
const PRE_AUTH: &str = "/pre-auth";
const POST_AUTH: &str = "/post-auth";
const PRE_TOKEN: &str = "/pre-token";
const PRE_SIGN_UP: &str = "/pre-sign-up";
const POST_CONFIRMATION: &str = "/post-confirmation";
/// A pool with `mfa = "ON"` and the same custom challenge webhooks.
const MFA_POOL: &str = "us-east-1_Custom0003";
const MFA_APP: &str = "custommfa000000000000001";

fn pools(hooks: &Receiver) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "custom"
alias_attributes = ["email"]

[pools.triggers]
define_auth_challenge = "{define}"
create_auth_challenge = "{create}"
verify_auth_challenge = "{verify}"
pre_authentication = "{pre_auth}"
post_authentication = "{post_auth}"
pre_token_generation = "{pre_token}"
pre_sign_up = "{pre_sign_up}"
post_confirmation = "{post_confirmation}"

[[pools.clients]]
id = "{APP}"
name = "app"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pools.clients]]
id = "{OTHER}"
name = "other"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pools.clients]]
id = "{NO_CUSTOM}"
name = "no custom"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pools.clients]]
id = "{LEGACY}"
name = "legacy"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
prevent_user_existence_errors = "LEGACY"

[[pools]]
id = "{PLAIN_POOL}"
name = "plain"

[[pools.clients]]
id = "{PLAIN_APP}"
name = "plain"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pools]]
id = "{MFA_POOL}"
name = "custom with mfa"
mfa = "ON"

[pools.triggers]
define_auth_challenge = "{define}"
create_auth_challenge = "{create}"
verify_auth_challenge = "{verify}"

[[pools.clients]]
id = "{MFA_APP}"
name = "mfa"
explicit_auth_flows = ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#,
        define = hooks.url(DEFINE),
        create = hooks.url(CREATE),
        verify = hooks.url(VERIFY),
        pre_auth = hooks.url(PRE_AUTH),
        post_auth = hooks.url(POST_AUTH),
        pre_token = hooks.url(PRE_TOKEN),
        pre_sign_up = hooks.url(PRE_SIGN_UP),
        post_confirmation = hooks.url(POST_CONFIRMATION),
    )
}

/// Attempts are counted per `X-Forwarded-For` address (the burst test needs two).
const SERVER: &str =
    "trigger_timeout_ms = 2000\ntrusted_proxies = [\"127.0.0.1/32\"]\napi_webhooks_on_loopback = true";

/// The codes create "mailed", in order: (userName, code).
type Mailbox = Arc<Mutex<Vec<(String, String)>>>;

/// Installs the OTP handlers on `hooks`.
fn otp_handlers(hooks: &Receiver) -> Mailbox {
    let mailbox: Mailbox = Arc::default();
    hooks.answer(DEFINE, Answer::compute(define));
    let mail = mailbox.clone();
    hooks.answer(
        CREATE,
        Answer::compute(move |event| {
            let code = format!("{:06}", rand_code());
            let user = event["userName"].as_str().unwrap_or_default().to_string();
            mail.lock().unwrap().push((user, code.clone()));
            let round = event["request"]["session"].as_array().map_or(0, Vec::len);
            json!({
                "publicChallengeParameters": {"delivery": "EMAIL", "round": round.to_string()},
                "privateChallengeParameters": {"answer": code},
                "challengeMetadata": format!("CODE-{round}"),
            })
        }),
    );
    hooks.answer(
        VERIFY,
        Answer::compute(|event| {
            let r = &event["request"];
            json!({"answerCorrect": r["privateChallengeParameters"]["answer"] == r["challengeAnswer"]})
        }),
    );
    mailbox
}

fn rand_code() -> u128 {
    uuid::Uuid::new_v4().as_u128() % 1_000_000
}

/// The define handler: the typical Lambda's logic.
fn define(event: &Value) -> Value {
    let session = event["request"]["session"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let needed = if event["userName"]
        .as_str()
        .is_some_and(|u| u.starts_with("two"))
    {
        2
    } else {
        1
    };
    let right = session
        .iter()
        .filter(|s| s["challengeResult"] == true)
        .count();
    let wrong = session.len() - right;
    if event["request"]["userNotFound"] == true && wrong >= 3 {
        return json!({"issueTokens": false, "failAuthentication": true});
    }
    if right >= needed && session.last().is_some_and(|s| s["challengeResult"] == true) {
        json!({"issueTokens": true, "failAuthentication": false})
    } else if wrong >= 3 {
        json!({"issueTokens": false, "failAuthentication": true})
    } else {
        json!({"challengeName": "CUSTOM_CHALLENGE", "issueTokens": false, "failAuthentication": false})
    }
}

fn last_code(mailbox: &Mailbox, user: &str) -> String {
    mailbox
        .lock()
        .unwrap()
        .iter()
        .rev()
        .find(|(u, _)| u == user)
        .map(|(_, c)| c.clone())
        .expect("a code was mailed")
}

async fn start() -> (Arc<TestServer>, Receiver, Mailbox) {
    let hooks = Receiver::start().await;
    let server = TestServer::start_with(&pools(&hooks), SERVER, &[]).await;
    let secret = server.node.webhooks.secret(POOL).await.unwrap();
    hooks.set_secret(&secret.display());
    let mailbox = otp_handlers(&hooks);
    (Arc::new(server), hooks, mailbox)
}

async fn stop(server: Arc<TestServer>) {
    if let Ok(server) = Arc::try_unwrap(server) {
        server.stop().await;
    }
}

fn refusal<E: ProvideErrorMetadata>(err: &E) -> (String, String) {
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

async fn initiate(
    sdk: &Client,
    client: &str,
    user: &str,
) -> Result<InitiateAuthOutput, (String, String)> {
    sdk.initiate_auth()
        .client_id(client)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", user)
        .client_metadata("from", "initiate")
        .send()
        .await
        .map_err(|e| refusal(&e))
}

async fn answer(
    sdk: &Client,
    client: &str,
    session: &str,
    user: &str,
    answer: &str,
) -> Result<RespondToAuthChallengeOutput, (String, String)> {
    sdk.respond_to_auth_challenge()
        .client_id(client)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(session)
        .challenge_responses("USERNAME", user)
        .challenge_responses("ANSWER", answer)
        .client_metadata("from", "respond")
        .send()
        .await
        .map_err(|e| refusal(&e))
}

const INCORRECT: (&str, &str) = ("NotAuthorizedException", "Incorrect username or password.");

fn pair((a, b): (&str, &str)) -> (String, String) {
    (a.to_string(), b.to_string())
}

#[tokio::test]
async fn the_honest_flow_gets_tokens_in_one_and_two_rounds_with_cognitos_events() {
    let (server, hooks, mailbox) = start().await;
    server.user(POOL, "carol", PASSWORD).await;
    let sdk = public_client(&server);

    let out = initiate(&sdk, APP, "carol").await.expect("a challenge");
    assert_eq!(out.challenge_name, Some(ChallengeNameType::CustomChallenge));
    assert!(out.authentication_result.is_none());
    // The public parameters and USERNAME; nothing private.
    let params = out.challenge_parameters.clone().unwrap();
    let code = last_code(&mailbox, "carol");
    assert_eq!(params.len(), 3, "{params:?}");
    assert_eq!(params["USERNAME"], "carol");
    assert_eq!(params["delivery"], "EMAIL");
    assert_eq!(params["round"], "0");
    assert!(!format!("{out:?}").contains(&code));
    let session = out.session.clone().unwrap();

    let done = answer(&sdk, APP, &session, "carol", &code)
        .await
        .expect("tokens");
    let tokens = done.authentication_result.expect("tokens");
    assert!(tokens.id_token.is_some() && tokens.access_token.is_some());
    assert!(tokens.refresh_token.is_some());

    // Cognito's events, field by field, with each call's ClientMetadata.
    let defines = hooks.events(DEFINE);
    assert_eq!(defines.len(), 2);
    for e in &defines {
        assert_eq!(e["triggerSource"], "DefineAuthChallenge_Authentication");
        assert_eq!(e["userPoolId"], POOL);
        assert_eq!(e["userName"], "carol");
        assert_eq!(e["callerContext"]["clientId"], APP);
        assert_eq!(e["request"]["userNotFound"], false);
        assert_eq!(e["request"]["userAttributes"]["email"], "carol@example.com");
    }
    assert_eq!(defines[0]["request"]["session"], json!([]));
    assert_eq!(
        defines[0]["request"]["clientMetadata"],
        json!({"from": "initiate"})
    );
    assert_eq!(
        defines[1]["request"]["session"],
        json!([{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "CODE-0"}])
    );
    assert_eq!(
        defines[1]["request"]["clientMetadata"],
        json!({"from": "respond"})
    );
    let creates = hooks.events(CREATE);
    assert_eq!(creates.len(), 1);
    assert_eq!(
        creates[0]["triggerSource"],
        "CreateAuthChallenge_Authentication"
    );
    assert_eq!(creates[0]["request"]["challengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(creates[0]["request"]["session"], json!([]));
    assert_eq!(creates[0]["request"]["userNotFound"], false);
    assert_eq!(
        creates[0]["request"]["clientMetadata"],
        json!({"from": "initiate"})
    );
    let verifies = hooks.events(VERIFY);
    assert_eq!(verifies.len(), 1);
    let v = &verifies[0];
    assert_eq!(
        v["triggerSource"],
        "VerifyAuthChallengeResponse_Authentication"
    );
    assert_eq!(
        v["request"]["privateChallengeParameters"],
        json!({"answer": code})
    );
    assert_eq!(v["request"]["challengeAnswer"], code.as_str());
    assert_eq!(v["request"]["userNotFound"], false);
    assert_eq!(v["request"]["clientMetadata"], json!({"from": "respond"}));
    // Pre authentication once an answer proved the user (a refusal at the start would
    // tell existing logins from unknown ones), then post authentication and pre token
    // generation, all with the answering call's metadata.
    let pre = hooks.events(PRE_AUTH);
    assert_eq!(pre.len(), 1);
    assert_eq!(
        pre[0]["request"]["validationData"],
        json!({"from": "respond"})
    );
    let post = hooks.events(POST_AUTH);
    assert_eq!(post.len(), 1);
    assert_eq!(
        post[0]["request"]["clientMetadata"],
        json!({"from": "respond"})
    );
    let pre_token = hooks.events(PRE_TOKEN);
    assert_eq!(pre_token.len(), 1);
    assert_eq!(
        pre_token[0]["triggerSource"],
        "TokenGeneration_Authentication"
    );
    assert_eq!(
        pre_token[0]["request"]["clientMetadata"],
        json!({"from": "respond"})
    );
    // A refresh's ClientMetadata reaches pre token generation too.
    let refreshed = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", tokens.refresh_token.clone().unwrap())
        .client_metadata("from", "refresh")
        .send()
        .await
        .expect("refreshed");
    assert!(refreshed.authentication_result.is_some());
    let e = hooks.events(PRE_TOKEN).pop().unwrap();
    assert_eq!(e["triggerSource"], "TokenGeneration_RefreshTokens");
    assert_eq!(e["request"]["clientMetadata"], json!({"from": "refresh"}));

    // Two rounds (the define handler wants two right answers of "two..." users), through
    // the admin actions.
    server.user(POOL, "twobox", PASSWORD).await;
    let admin = operator_client(&server).await;
    let first = admin
        .admin_initiate_auth()
        .user_pool_id(POOL)
        .client_id(APP)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "twobox")
        .send()
        .await
        .expect("round one");
    let code = last_code(&mailbox, "twobox");
    let second = admin
        .admin_respond_to_auth_challenge()
        .user_pool_id(POOL)
        .client_id(APP)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(first.session.unwrap())
        .challenge_responses("USERNAME", "twobox")
        .challenge_responses("ANSWER", &code)
        .send()
        .await
        .expect("round two");
    assert_eq!(
        second.challenge_name,
        Some(ChallengeNameType::CustomChallenge)
    );
    assert!(second.authentication_result.is_none());
    assert_eq!(second.challenge_parameters.as_ref().unwrap()["round"], "1");
    let code2 = last_code(&mailbox, "twobox");
    assert_ne!(code, code2);
    let third = admin
        .admin_respond_to_auth_challenge()
        .user_pool_id(POOL)
        .client_id(APP)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(second.session.unwrap())
        .challenge_responses("USERNAME", "twobox")
        .challenge_responses("ANSWER", &code2)
        .send()
        .await
        .expect("tokens");
    assert!(third.authentication_result.is_some());
    let last_define = hooks.events(DEFINE).pop().unwrap();
    assert_eq!(
        last_define["request"]["session"],
        json!([
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "CODE-0"},
            {"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "CODE-1"},
        ])
    );
    stop(server).await;
}

#[tokio::test]
async fn a_wrong_answer_then_the_right_one_and_fail_authentication() {
    let (server, hooks, mailbox) = start().await;
    server.user(POOL, "wendy", PASSWORD).await;
    let sdk = public_client(&server);
    let out = initiate(&sdk, APP, "wendy").await.unwrap();
    let code = last_code(&mailbox, "wendy");
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let retry = answer(&sdk, APP, &out.session.unwrap(), "wendy", wrong)
        .await
        .expect("another challenge");
    assert_eq!(
        retry.challenge_name,
        Some(ChallengeNameType::CustomChallenge)
    );
    assert!(retry.authentication_result.is_none());
    let define = hooks.events(DEFINE).pop().unwrap();
    assert_eq!(define["request"]["session"][0]["challengeResult"], false);
    let code = last_code(&mailbox, "wendy");
    let done = answer(&sdk, APP, &retry.session.unwrap(), "wendy", &code)
        .await
        .expect("tokens");
    assert!(done.authentication_result.is_some());

    // Three wrong answers: define fails the sign-in.
    let mut session = initiate(&sdk, APP, "wendy").await.unwrap().session.unwrap();
    for round in 0..3 {
        let result = answer(&sdk, APP, &session, "wendy", "not-the-code").await;
        if round < 2 {
            session = result.expect("another round").session.unwrap();
        } else {
            assert_eq!(result.unwrap_err(), pair(INCORRECT));
        }
    }
    assert_eq!(hooks.events(POST_AUTH).len(), 1);
    stop(server).await;
}

#[tokio::test]
async fn a_flow_started_on_one_node_continues_on_another() {
    let Some(pg) = PgNodeEnv::new("custom_auth_nodes").await else {
        return;
    };
    let hooks = Receiver::start().await;
    let env = pg.with(&[]);
    let a = TestServer::start_with(&pools(&hooks), SERVER, &env).await;
    let b = TestServer::start_with(&pools(&hooks), SERVER, &env).await;
    assert_eq!(a.node.store.engine(), "postgres");
    hooks.set_secret(&a.node.webhooks.secret(POOL).await.unwrap().display());
    let mailbox = otp_handlers(&hooks);
    a.user(POOL, "nora", PASSWORD).await;
    let (sdk_a, sdk_b) = (public_client(&a), public_client(&b));
    let session = initiate(&sdk_a, APP, "nora")
        .await
        .unwrap()
        .session
        .unwrap();
    let code = last_code(&mailbox, "nora");
    // A wrong answer on B, the right one on A: the rounds travel in the shared store.
    let next = answer(&sdk_b, APP, &session, "nora", "nope").await.unwrap();
    assert_eq!(
        answer(&sdk_a, APP, &session, "nora", &code)
            .await
            .unwrap_err()
            .0,
        "NotAuthorizedException"
    );
    let code = last_code(&mailbox, "nora");
    let done = answer(&sdk_a, APP, &next.session.unwrap(), "nora", &code)
        .await
        .expect("tokens");
    assert!(done.authentication_result.is_some());
    let define = hooks.events(DEFINE).pop().unwrap();
    assert_eq!(define["request"]["session"].as_array().unwrap().len(), 2);
    a.stop().await;
    b.stop().await;
    pg.cleanup().await;
}

#[tokio::test]
async fn issued_tokens_wait_for_the_pools_mfa() {
    let (server, hooks, mailbox) = start().await;
    hooks.set_secret(
        &server
            .node
            .webhooks
            .secret(MFA_POOL)
            .await
            .unwrap()
            .display(),
    );
    server.user(MFA_POOL, "mia", PASSWORD).await;
    let sdk = public_client(&server);
    let session = initiate(&sdk, MFA_APP, "mia")
        .await
        .unwrap()
        .session
        .unwrap();
    let code = last_code(&mailbox, "mia");
    // issueTokens, then the pool's MFA: the user has no factor, so MFA_SETUP, no token.
    let out = answer(&sdk, MFA_APP, &session, "mia", &code)
        .await
        .expect("a challenge");
    assert!(out.authentication_result.is_none());
    assert_eq!(out.challenge_name, Some(ChallengeNameType::MfaSetup));
    assert!(out.session.is_some());
    assert_eq!(hooks.events(DEFINE).pop().unwrap()["userPoolId"], MFA_POOL);
    stop(server).await;
}

#[tokio::test]
async fn client_metadata_reaches_the_administrators_triggers() {
    let (server, hooks, _mailbox) = start().await;
    let admin = operator_client(&server).await;
    admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("ada")
        .user_attributes(super::attr("email", "ada@example.com"))
        .validation_data(super::attr("invite", "yes"))
        .client_metadata("source", "admin")
        .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .send()
        .await
        .expect("created");
    let e = hooks.events(PRE_SIGN_UP).pop().expect("pre sign-up");
    assert_eq!(e["triggerSource"], "PreSignUp_AdminCreateUser");
    assert_eq!(e["callerContext"]["clientId"], "CLIENT_ID_NOT_APPLICABLE");
    assert_eq!(e["request"]["clientMetadata"], json!({"source": "admin"}));
    assert_eq!(e["request"]["validationData"], json!({"invite": "yes"}));

    // A signed-up user confirmed by the administrator: post confirmation gets its metadata.
    let sdk = public_client(&server);
    sdk.sign_up()
        .client_id(APP)
        .username("bea")
        .password(PASSWORD)
        .user_attributes(super::attr("email", "bea@example.com"))
        .client_metadata("source", "signup")
        .send()
        .await
        .expect("signed up");
    assert_eq!(
        hooks.events(PRE_SIGN_UP).pop().unwrap()["request"]["clientMetadata"],
        json!({"source": "signup"})
    );
    admin
        .admin_confirm_sign_up()
        .user_pool_id(POOL)
        .username("bea")
        .client_metadata("source", "confirm")
        .send()
        .await
        .expect("confirmed");
    let e = hooks
        .events(POST_CONFIRMATION)
        .pop()
        .expect("post confirmation");
    assert_eq!(e["triggerSource"], "PostConfirmation_ConfirmSignUp");
    assert_eq!(e["request"]["clientMetadata"], json!({"source": "confirm"}));
    stop(server).await;
}

#[tokio::test]
async fn lambda_config_declares_the_custom_challenge_webhooks() {
    use aws_sdk_cognitoidentityprovider::types::{ExplicitAuthFlowsType, LambdaConfigType};
    let (server, hooks, mailbox) = start().await;
    let admin = operator_client(&server).await;
    let created = admin
        .create_user_pool()
        .pool_name("api custom auth")
        .lambda_config(
            LambdaConfigType::builder()
                .define_auth_challenge(hooks.url(DEFINE))
                .create_auth_challenge(hooks.url(CREATE))
                .verify_auth_challenge_response(hooks.url(VERIFY))
                .build(),
        )
        .send()
        .await
        .expect("created");
    let pool_id = created.user_pool.unwrap().id.unwrap();
    let described = admin
        .describe_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap();
    let lambda = described.user_pool.unwrap().lambda_config.unwrap();
    assert_eq!(lambda.define_auth_challenge, Some(hooks.url(DEFINE)));
    assert_eq!(lambda.create_auth_challenge, Some(hooks.url(CREATE)));
    assert_eq!(
        lambda.verify_auth_challenge_response,
        Some(hooks.url(VERIFY))
    );
    let client_id = admin
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("custom")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowCustomAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("client")
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    hooks.set_secret(
        &server
            .node
            .webhooks
            .secret(&pool_id)
            .await
            .unwrap()
            .display(),
    );
    server.user(&pool_id, "api", PASSWORD).await;
    let sdk = public_client(&server);
    let session = initiate(&sdk, &client_id, "api")
        .await
        .unwrap()
        .session
        .unwrap();
    let code = last_code(&mailbox, "api");
    let done = answer(&sdk, &client_id, &session, "api", &code)
        .await
        .expect("tokens");
    assert!(done.authentication_result.is_some());
    stop(server).await;
}
