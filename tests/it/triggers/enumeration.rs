//! Review finding: a pre authentication webhook must not tell existing users from unknown
//! ones. It is called only once the first factor is proven, so a webhook that refuses
//! (here: every sign-in, as a block list refusing the user would) answers a wrong password
//! for an existing user exactly as for a login nobody has, and is not even called; the
//! honest sign-in (right password) then meets its refusal, or passes when it accepts. On
//! every path: USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_SRP_AUTH, USER_AUTH
//! (PREFERRED_CHALLENGE PASSWORD) and the hosted UI.

use aws_cognito_srp::{SrpClient, User as SrpUser, UserAuthenticationParameters};
use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_cognitoidentityprovider::Client;

use super::PASSWORD;
use crate::support::server::{browser_client, sign_in as hosted_sign_in, TestServer};
use crate::support::webhook::{Answer, Receiver};
use crate::user_pools::{operator_client, public_client};

const POOL: &str = "us-east-1_PreAuthEnum";
const APP: &str = "preauthenum0000000000001";
const HOOK: &str = "/pre-auth";
const WRONG: &str = "Wr0ng-horse-hooks";

async fn start() -> (TestServer, Receiver) {
    let hooks = Receiver::start().await;
    let pools = format!(
        r#"
[[pools]]
id = "{POOL}"
name = "pre authentication"
alias_attributes = ["email"]

[pools.triggers]
pre_authentication = "{}"

[[pools.clients]]
id = "{APP}"
name = "app"
callback_urls = ["https://app.example/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]
explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#,
        hooks.url(HOOK)
    );
    let server = TestServer::start_with(&pools, "trigger_timeout_ms = 1000", &[]).await;
    let secret = server.node.webhooks.secret(POOL).await.unwrap();
    hooks.set_secret(&secret.display());
    let attributes = [("email", "erin@example.com"), ("email_verified", "true")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    server.create_user(POOL, "erin", attributes, PASSWORD).await;
    (server, hooks)
}

/// The `__type` and message of a refusal, or `("ok", "")` for tokens.
type Outcome = (String, String);

fn refused<E: ProvideErrorMetadata>(e: &E) -> Outcome {
    (
        e.code().unwrap_or_default().to_string(),
        e.message().unwrap_or_default().to_string(),
    )
}

fn ok() -> Outcome {
    ("ok".into(), String::new())
}

async fn user_password(sdk: &Client, login: &str, password: &str) -> Outcome {
    match sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", login)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
    {
        Ok(out) if out.authentication_result.is_some() => ok(),
        Ok(out) => panic!("{out:?}"),
        Err(e) => refused(&e),
    }
}

async fn admin_password(admin: &Client, login: &str, password: &str) -> Outcome {
    match admin
        .admin_initiate_auth()
        .user_pool_id(POOL)
        .client_id(APP)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", login)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
    {
        Ok(out) if out.authentication_result.is_some() => ok(),
        Ok(out) => panic!("{out:?}"),
        Err(e) => refused(&e),
    }
}

async fn user_auth(sdk: &Client, login: &str, password: &str) -> Outcome {
    match sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserAuth)
        .auth_parameters("USERNAME", login)
        .auth_parameters("PREFERRED_CHALLENGE", "PASSWORD")
        .auth_parameters("PASSWORD", password)
        .send()
        .await
    {
        Ok(out) if out.authentication_result.is_some() => ok(),
        Ok(out) => panic!("{out:?}"),
        Err(e) => refused(&e),
    }
}

async fn srp(sdk: &Client, login: &str, password: &str) -> Outcome {
    let client = SrpClient::new(SrpUser::new(POOL, login, password), APP, None);
    let UserAuthenticationParameters { a, username } = client.get_auth_parameters();
    let challenge = match sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("SRP_A", a)
        .send()
        .await
    {
        Ok(c) => c,
        Err(e) => return refused(&e),
    };
    let p = challenge.challenge_parameters().unwrap();
    let v = client
        .verify(
            &p["SECRET_BLOCK"],
            &p["USER_ID_FOR_SRP"],
            &p["SALT"],
            &p["SRP_B"],
        )
        .unwrap();
    match sdk
        .respond_to_auth_challenge()
        .client_id(APP)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .send()
        .await
    {
        Ok(out) if out.authentication_result.is_some() => ok(),
        Ok(out) => panic!("{out:?}"),
        Err(e) => refused(&e),
    }
}

fn authorize_url(server: &TestServer) -> String {
    format!(
        "{}/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
        server.base
    )
}

/// The hosted UI's answer: "ok" for a redirect to the app with a code, else the page's
/// error text (the alert's words).
async fn hosted(server: &TestServer, login: &str, password: &str) -> Outcome {
    let browser = browser_client();
    match hosted_sign_in(
        &browser,
        &server.base,
        &authorize_url(server),
        login,
        password,
    )
    .await
    {
        Ok(location) if location.starts_with("https://app.example/cb?code=") => ok(),
        Ok(location) => panic!("{location}"),
        Err(page) => {
            // The error box's words, tags stripped (the rest of the page carries
            // per-request tokens).
            let boxed = page
                .split("id=\"form-errors\"")
                .nth(1)
                .and_then(|s| s.split("</div>").next())
                .unwrap_or(&page);
            let mut alert = String::new();
            let mut in_tag = false;
            for c in boxed.chars() {
                match c {
                    '<' => in_tag = true,
                    '>' => in_tag = false,
                    c if !in_tag => alert.push(c),
                    _ => {}
                }
            }
            let alert = alert.split_whitespace().collect::<Vec<_>>().join(" ");
            ("page".into(), alert)
        }
    }
}

#[tokio::test]
async fn a_refusing_pre_authentication_webhook_cannot_tell_users_apart() {
    let (server, hooks) = start().await;
    let sdk = public_client(&server);
    let admin = operator_client(&server).await;
    hooks.answer(HOOK, Answer::Error(403, "Sign-in blocked".into()));
    let blocked = (
        "UserLambdaValidationException".to_string(),
        "PreAuthentication failed with error Sign-in blocked.".to_string(),
    );

    // Each way: a wrong password for erin answers exactly as one for nobody, and the
    // webhook hears of neither; the right password meets its refusal.
    for way in ["password", "admin", "user_auth", "srp"] {
        let attempt = |login: &'static str, password: &'static str| {
            let (sdk, admin) = (sdk.clone(), admin.clone());
            async move {
                match way {
                    "password" => user_password(&sdk, login, password).await,
                    "admin" => admin_password(&admin, login, password).await,
                    "user_auth" => user_auth(&sdk, login, password).await,
                    _ => srp(&sdk, login, password).await,
                }
            }
        };
        let calls = hooks.events(HOOK).len();
        let existing = attempt("erin", WRONG).await;
        let unknown = attempt("nobody", WRONG).await;
        assert_eq!(existing.0, "NotAuthorizedException", "{way}: {existing:?}");
        assert_eq!(
            existing, unknown,
            "{way}: existing and unknown answered alike"
        );
        assert_eq!(
            hooks.events(HOOK).len(),
            calls,
            "{way}: no call before the proof"
        );
        assert_eq!(attempt("erin", PASSWORD).await, blocked, "{way}");
        let events = hooks.events(HOOK);
        assert_eq!(
            events.len(),
            calls + 1,
            "{way}: called once the password held"
        );
        assert_eq!(events[calls]["userName"], "erin");
        assert_eq!(events[calls]["request"]["userNotFound"], false);
    }

    // The hosted UI likewise: the same page for both wrong passwords.
    let existing = hosted(&server, "erin", WRONG).await;
    let unknown = hosted(&server, "nobody", WRONG).await;
    assert_eq!(existing.0, "page");
    assert_eq!(existing, unknown);
    assert_eq!(hooks.events(HOOK).len(), 4);
    let refusal = hosted(&server, "erin", PASSWORD).await;
    assert!(refusal.1.contains("Sign-in blocked"), "{refusal:?}");
    assert_eq!(hooks.events(HOOK).len(), 5);

    // The honest sign-in passes on every way once the webhook accepts.
    hooks.answer(HOOK, Answer::Respond(None));
    assert_eq!(user_password(&sdk, "erin", PASSWORD).await, ok());
    assert_eq!(admin_password(&admin, "erin", PASSWORD).await, ok());
    assert_eq!(user_auth(&sdk, "erin", PASSWORD).await, ok());
    assert_eq!(srp(&sdk, "erin", PASSWORD).await, ok());
    assert_eq!(hosted(&server, "erin", PASSWORD).await, ok());
    assert_eq!(hooks.events(HOOK).len(), 10);
    server.stop().await;
}
