//! The pre token generation trigger (issue 16, part B): each `TokenGeneration_*` source
//! fires with Cognito's event, field by field, and V1 / V2 / V3 answers change exactly the
//! tokens they name. The pool is the claims fixture's ([`crate::claims`]) with the trigger
//! declared and an API client added, so the hosted UI, the token endpoint, the user pools
//! API and client credentials all issue its tokens.

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_cognitoidentityprovider::Client;
use cognate::core::directory::{InitialState, NewUser};
use cognate::core::secrets::SecretString;
use serde_json::{json, Value};

use crate::claims::{
    claims_of, code_authorize, code_for, join_groups, rich_user, secrets_env, token, Pkce,
    ADMINS_ROLE, M2M, M2M_SECRET, PASSWORD, POOL, READERS_ROLE, SPA, STRINGS_POOL,
};
use crate::support::server::{browser_client, TestServer};
use crate::support::webhook::{Answer, Receiver};
use crate::user_pools::public_client;

const HOOK: &str = "/pre-token";
/// An app client of the pool for the user pools API's sign-in.
const API: &str = "pretokenapi0000000000001";
const VIP_ROLE: &str = "arn:aws:iam::123456789012:role/Vip";

/// The claims fixture, its pool calling the receiver's pre token generation webhook with
/// this event version.
async fn start(version: &str) -> (TestServer, Receiver) {
    let receiver = Receiver::start().await;
    let marker = format!("\n[[pools]]\nid = \"{STRINGS_POOL}\"");
    let extra = format!(
        r#"
[[pools.clients]]
id = "{API}"
name = "api"
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[pools.triggers]
pre_token_generation = {{ url = "{}", version = "{version}" }}
"#,
        receiver.url(HOOK)
    );
    let pools = crate::claims::pools_toml().replacen(&marker, &format!("{extra}{marker}"), 1);
    assert!(
        pools.contains("pre_token_generation"),
        "the fixture changed"
    );
    let env = secrets_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = TestServer::start_with(&pools, super::SERVER_SETTINGS, &env).await;
    let secret = server.node.webhooks.secret(POOL).await.unwrap();
    receiver.set_secret(&secret.display());
    (server, receiver)
}

/// The SPA's code flow through the hosted UI: the token endpoint's answer.
async fn hosted_tokens(server: &TestServer, user: &str) -> crate::claims::Answer {
    let browser = browser_client();
    let pkce = Pkce::new(user);
    let code = code_for(
        &browser,
        &server.base,
        &code_authorize(&server.base, SPA, &pkce, "n-1"),
        user,
    )
    .await;
    crate::claims::exchange(&server.base, SPA, &code, &pkce.verifier).await
}

async fn api_sign_in(sdk: &Client, user: &str, password: &str) -> Result<Value, (String, String)> {
    let out = sdk
        .initiate_auth()
        .client_id(API)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", user)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map_err(|e| refusal(&e))?;
    let result = out.authentication_result.expect("tokens");
    Ok(json!({
        "id": claims_of(result.id_token().unwrap()),
        "access": claims_of(result.access_token().unwrap()),
    }))
}

fn refusal<E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata>(
    err: &E,
) -> (String, String) {
    (
        err.code().unwrap_or_default().to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

/// The last event and how many came.
fn last_event(hooks: &Receiver) -> (Value, usize) {
    let events = hooks.events(HOOK);
    (events.last().cloned().expect("an event"), events.len())
}

/// Cognito's common parameters of a user's event.
#[track_caller]
fn assert_user_event(e: &Value, version: &str, source: &str, client: &str, sub: &str) {
    assert_eq!(e["version"], version, "{e}");
    assert_eq!(e["triggerSource"], source, "{e}");
    assert_eq!(e["region"], "us-east-1", "{e}");
    assert_eq!(e["userPoolId"], POOL, "{e}");
    assert_eq!(e["userName"], "alice", "{e}");
    assert_eq!(e["callerContext"]["clientId"], client, "{e}");
    assert_eq!(e["request"]["userAttributes"]["sub"], sub, "{e}");
    assert_eq!(
        e["request"]["userAttributes"]["email"], "alice@example.com",
        "{e}"
    );
    assert_eq!(
        e["request"]["groupConfiguration"],
        json!({
            "groupsToOverride": ["readers", "admins"],
            "iamRolesToOverride": [READERS_ROLE, ADMINS_ROLE],
            "preferredRole": READERS_ROLE,
        }),
        "{e}"
    );
    assert_eq!(e["request"]["clientMetadata"], json!({}), "{e}");
}

#[tokio::test]
async fn v1_fires_for_every_source_and_changes_the_id_token_only() {
    let (server, hooks) = start("V1_0").await;
    let alice = rich_user(&server, POOL, "alice").await;
    join_groups(&server, &alice).await;
    hooks.answer(
        HOOK,
        Answer::Respond(Some(json!({
            "claimsOverrideDetails": {
                "claimsToAddOrOverride": {"plan": "gold", "email": "alias@example.com"},
                "claimsToSuppress": ["name"],
                "groupOverrideDetails": {
                    "groupsToOverride": ["vip"],
                    "iamRolesToOverride": [VIP_ROLE],
                    "preferredRole": VIP_ROLE,
                },
            }
        }))),
    );

    // The hosted UI (authorization code).
    let tokens = hosted_tokens(&server, "alice").await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let (e, n) = last_event(&hooks);
    assert_eq!(n, 1);
    assert_user_event(&e, "1", "TokenGeneration_HostedAuth", SPA, &alice.sub);
    assert!(
        e["request"].get("scopes").is_none(),
        "V1 has no scopes: {e}"
    );
    assert_eq!(e["response"], json!({"claimsOverrideDetails": null}));
    let id = claims_of(&tokens.str("id_token"));
    assert_eq!(id["plan"], "gold");
    assert_eq!(id["email"], "alias@example.com");
    assert!(id.get("name").is_none(), "{id}");
    assert_eq!(id["cognito:groups"], json!(["vip"]));
    assert_eq!(id["cognito:roles"], json!([VIP_ROLE]));
    assert_eq!(id["cognito:preferred_role"], VIP_ROLE);
    assert_eq!(id["sub"], alice.sub.as_str());
    // V1 leaves the access token as it was.
    let access = claims_of(&tokens.str("access_token"));
    assert_eq!(access["cognito:groups"], json!(["readers", "admins"]));
    assert!(access.get("plan").is_none(), "{access}");

    // A refresh at the token endpoint.
    let refreshed = token(
        &server.base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", &tokens.str("refresh_token")),
        ],
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    let (e, n) = last_event(&hooks);
    assert_eq!(n, 2);
    assert_user_event(&e, "1", "TokenGeneration_RefreshTokens", SPA, &alice.sub);
    assert_eq!(claims_of(&refreshed.str("id_token"))["plan"], "gold");

    // The user pools API's sign-in.
    let sdk = public_client(&server);
    let api = api_sign_in(&sdk, "alice", PASSWORD).await.expect("sign-in");
    let (e, n) = last_event(&hooks);
    assert_eq!(n, 3);
    assert_user_event(&e, "1", "TokenGeneration_Authentication", API, &alice.sub);
    assert_eq!(api["id"]["plan"], "gold");
    assert!(api["access"].get("plan").is_none(), "{api}");

    // NEW_PASSWORD_REQUIRED answered: its own source.
    let pool = server.pool(POOL).await;
    let mut attributes = BTreeMap::new();
    attributes.insert("email".to_string(), "bob@example.com".to_string());
    server
        .node
        .directory
        .create_user(
            &pool,
            NewUser {
                username: "bob".into(),
                attributes,
                password: Some(SecretString::new("Temporary-pass-1")),
                state: InitialState::ForceChangePassword,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    let started = sdk
        .initiate_auth()
        .client_id(API)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "bob")
        .auth_parameters("PASSWORD", "Temporary-pass-1")
        .send()
        .await
        .expect("first sign-in");
    assert_eq!(
        started.challenge_name,
        Some(ChallengeNameType::NewPasswordRequired)
    );
    let done = sdk
        .respond_to_auth_challenge()
        .client_id(API)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(started.session.unwrap())
        .challenge_responses("USERNAME", "bob")
        .challenge_responses("NEW_PASSWORD", "Brand-new-pass-2")
        .send()
        .await
        .expect("new password");
    assert!(done.authentication_result.is_some());
    let (e, n) = last_event(&hooks);
    assert_eq!(n, 4);
    assert_eq!(e["triggerSource"], "TokenGeneration_NewPasswordChallenge");
    assert_eq!(e["userName"], "bob");

    // Client credentials call only a V3 trigger.
    let m2m = token(
        &server.base,
        &[("grant_type", "client_credentials")],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(m2m.status, 200, "{}", m2m.json);
    assert_eq!(hooks.events(HOOK).len(), 4);
    server.stop().await;
}

#[tokio::test]
async fn v2_changes_both_tokens_and_scopes_and_refuses_protected_claims() {
    let (server, hooks) = start("V2_0").await;
    let alice = rich_user(&server, POOL, "alice").await;
    join_groups(&server, &alice).await;
    let honest = json!({
        "claimsAndScopeOverrideDetails": {
            "idTokenGeneration": {
                "claimsToAddOrOverride": {"plan": "gold"},
                "claimsToSuppress": ["email"],
            },
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"tenant": "acme", "roles": ["reader", "writer"]},
                "claimsToSuppress": ["username"],
                "scopesToAdd": ["orders/read"],
                "scopesToSuppress": ["profile"],
            },
            "groupOverrideDetails": {"groupsToOverride": ["vip"]},
        }
    });
    hooks.answer(HOOK, Answer::Respond(Some(honest.clone())));
    let tokens = hosted_tokens(&server, "alice").await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let (e, _) = last_event(&hooks);
    assert_user_event(&e, "2", "TokenGeneration_HostedAuth", SPA, &alice.sub);
    assert_eq!(
        e["request"]["scopes"],
        json!([
            "openid",
            "email",
            "profile",
            "aws.cognito.signin.user.admin"
        ])
    );
    assert_eq!(
        e["response"],
        json!({"claimsAndScopeOverrideDetails": null})
    );
    let id = claims_of(&tokens.str("id_token"));
    assert_eq!(id["plan"], "gold");
    assert!(id.get("email").is_none(), "{id}");
    assert_eq!(id["cognito:groups"], json!(["vip"]));
    assert!(id.get("tenant").is_none(), "{id}");
    let access = claims_of(&tokens.str("access_token"));
    assert_eq!(access["tenant"], "acme");
    assert_eq!(access["roles"], json!(["reader", "writer"]));
    assert!(access.get("username").is_none(), "{access}");
    assert_eq!(access["cognito:groups"], json!(["vip"]));
    assert_eq!(
        access["scope"],
        "openid email aws.cognito.signin.user.admin orders/read"
    );
    assert_eq!(access["sub"], alice.sub.as_str());

    // A change to a protected claim refuses the tokens, at the token endpoint and in the
    // API; the honest answer above succeeded on the same paths.
    let sdk = public_client(&server);
    for bad in [
        json!({"accessTokenGeneration": {"claimsToAddOrOverride": {"sub": "someone-else"}}}),
        json!({"idTokenGeneration": {"claimsToSuppress": ["cognito:username"]}}),
        json!({"accessTokenGeneration": {"claimsToAddOrOverride": {"scope": "orders/write"}}}),
        // The claims Cognate reads to act on an access token, and the account scope.
        json!({"accessTokenGeneration": {"claimsToAddOrOverride": {"client_id": "another"}}}),
        json!({"accessTokenGeneration": {"claimsToSuppress": ["client_id"]}}),
        json!({"accessTokenGeneration": {"scopesToAdd": ["aws.cognito.signin.user.admin"]}}),
    ] {
        hooks.answer(
            HOOK,
            Answer::Respond(Some(json!({"claimsAndScopeOverrideDetails": bad}))),
        );
        let refused = token(
            &server.base,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", SPA),
                ("refresh_token", &tokens.str("refresh_token")),
            ],
            None,
        )
        .await;
        assert_eq!(refused.status, 400, "{}", refused.json);
        assert_eq!(refused.error(), "invalid_request");
        let description = refused.json["error_description"].as_str().unwrap();
        assert!(
            description.starts_with("PreTokenGeneration failed with error"),
            "{description}"
        );
        let (code, message) = api_sign_in(&sdk, "alice", PASSWORD).await.unwrap_err();
        assert_eq!(code, "UserLambdaValidationException", "{message}");
        assert!(
            message.starts_with("PreTokenGeneration failed with error"),
            "{message}"
        );
    }
    hooks.answer(HOOK, Answer::Respond(Some(honest)));
    let api = api_sign_in(&sdk, "alice", PASSWORD).await.expect("honest");
    assert_eq!(api["access"]["tenant"], "acme");
    assert_eq!(
        api["access"]["scope"],
        "aws.cognito.signin.user.admin orders/read"
    );

    // A failing webhook refuses the tokens with its error message.
    hooks.answer(HOOK, Answer::Error(400, "plan lookup failed".into()));
    let (code, message) = api_sign_in(&sdk, "alice", PASSWORD).await.unwrap_err();
    assert_eq!(code, "UserLambdaValidationException");
    assert_eq!(
        message,
        "PreTokenGeneration failed with error plan lookup failed."
    );
    let refused = token(
        &server.base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", &tokens.str("refresh_token")),
        ],
        None,
    )
    .await;
    assert_eq!(refused.status, 400, "{}", refused.json);
    assert_eq!(
        refused.json["error_description"],
        "PreTokenGeneration failed with error plan lookup failed."
    );
    server.stop().await;
}

#[tokio::test]
async fn v3_changes_client_credentials_tokens() {
    let (server, hooks) = start("V3_0").await;
    let m2m = || {
        token(
            &server.base,
            &[("grant_type", "client_credentials")],
            Some((M2M, M2M_SECRET)),
        )
    };
    hooks.answer(
        HOOK,
        Answer::Respond(Some(json!({
            "claimsAndScopeOverrideDetails": {
                "accessTokenGeneration": {
                    "claimsToAddOrOverride": {"tenant": "acme"},
                    "scopesToSuppress": ["orders/write"],
                },
            }
        }))),
    );
    let answer = m2m().await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    let (e, n) = last_event(&hooks);
    assert_eq!(n, 1);
    assert_eq!(e["version"], "3");
    assert_eq!(e["triggerSource"], "TokenGeneration_ClientCredentials");
    assert_eq!(e["userPoolId"], POOL);
    assert_eq!(e["callerContext"]["clientId"], M2M);
    assert!(e.get("userName").is_none(), "no user: {e}");
    assert_eq!(
        e["request"],
        json!({
            "userAttributes": {},
            "groupConfiguration": {
                "groupsToOverride": [],
                "iamRolesToOverride": [],
                "preferredRole": null,
            },
            "clientMetadata": {},
            "scopes": ["orders/read", "orders/write"],
        })
    );
    let access = claims_of(&answer.str("access_token"));
    assert_eq!(access["tenant"], "acme");
    assert_eq!(access["scope"], "orders/read");
    assert_eq!(access["sub"], M2M);

    // A protected claim: refused; the honest answer above was not.
    hooks.answer(
        HOOK,
        Answer::Respond(Some(json!({
            "claimsAndScopeOverrideDetails": {
                "accessTokenGeneration": {"claimsToAddOrOverride": {"iss": "https://evil.example"}},
            }
        }))),
    );
    let refused = m2m().await;
    assert_eq!(refused.status, 400, "{}", refused.json);
    assert_eq!(refused.error(), "invalid_request");
    assert!(refused.json.get("access_token").is_none());
    server.stop().await;
}

#[tokio::test]
async fn pre_token_generation_config_round_trips_through_the_sdk() {
    use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
    use aws_sdk_cognitoidentityprovider::types::{
        LambdaConfigType, PreTokenGenerationLambdaVersionType as Version,
        PreTokenGenerationVersionConfigType as Config,
    };
    let (server, hooks) = start("V1_0").await;
    let admin = crate::user_pools::operator_client(&server).await;
    let url = hooks.url("/api-pre-token");
    let config = |arn: &str, version: Version| {
        Config::builder()
            .lambda_arn(arn)
            .lambda_version(version)
            .build()
            .unwrap()
    };
    let created = admin
        .create_user_pool()
        .pool_name("api pre token")
        .lambda_config(
            LambdaConfigType::builder()
                .pre_token_generation_config(config(&url, Version::V20))
                .build(),
        )
        .send()
        .await
        .expect("create");
    let id = created.user_pool.unwrap().id.unwrap();
    let describe = || async {
        admin
            .describe_user_pool()
            .user_pool_id(&id)
            .send()
            .await
            .unwrap()
            .user_pool
            .unwrap()
            .lambda_config
            .unwrap()
    };
    let lambda = describe().await;
    assert_eq!(lambda.pre_token_generation.as_deref(), Some(url.as_str()));
    let declared = lambda.pre_token_generation_config.unwrap();
    assert_eq!(declared.lambda_arn(), url);
    assert_eq!(declared.lambda_version(), &Version::V20);
    assert_eq!(
        server.pool(&id).await.triggers.pre_token_version(),
        cognate::core::model::PreTokenVersion::V2
    );

    // The legacy member alone is V1_0.
    admin
        .update_user_pool()
        .user_pool_id(&id)
        .lambda_config(
            LambdaConfigType::builder()
                .pre_token_generation(&url)
                .build(),
        )
        .send()
        .await
        .expect("legacy member");
    let lambda = describe().await;
    assert_eq!(
        lambda.pre_token_generation_config.unwrap().lambda_version(),
        &Version::V10
    );

    // Refused by name: a Lambda ARN, an unknown version, two different URLs.
    for (bad, expected) in [
        (
            LambdaConfigType::builder()
                .pre_token_generation_config(config(
                    "arn:aws:lambda:us-east-1:123456789012:function:tokens",
                    Version::V30,
                ))
                .build(),
            "LambdaConfig.PreTokenGenerationConfig.LambdaArn",
        ),
        (
            LambdaConfigType::builder()
                .pre_token_generation_config(config(&url, Version::from("V9_0")))
                .build(),
            "V9_0",
        ),
        (
            LambdaConfigType::builder()
                .pre_token_generation("https://hooks.example.com/other")
                .pre_token_generation_config(config(&url, Version::V30))
                .build(),
            "must be the same",
        ),
    ] {
        let e = admin
            .update_user_pool()
            .user_pool_id(&id)
            .lambda_config(bad)
            .send()
            .await
            .expect_err("refused");
        assert_eq!(e.code(), Some("InvalidParameterException"));
        let message = e.message().unwrap_or_default();
        assert!(message.contains(expected), "{message}");
    }
    // The refusals changed nothing.
    assert_eq!(
        describe().await.pre_token_generation.as_deref(),
        Some(url.as_str())
    );
    server.stop().await;
}
