//! The identity API's end-user and developer actions (issue 12, items 4 to 6), driven by
//! the official `aws-sdk-cognitoidentity` client after real hosted-UI sign-ins:
//! [`flows`] (GetId, the enhanced and basic flows, role rules, the developer flow, the
//! upstream STS) and [`attacks`] (the Logins attacks of "Bad input", each beside the
//! honest call succeeding).
//!
//! The fixture: user pool [`POOL`] with the listed client [`WEB`] and an unlisted one
//! [`OTHER_CLIENT`]; user pool [`UNTRUSTED_POOL`] no identity pool lists; identity pool
//! [`IDP`] (guests allowed, Rules mapping: `cognito:groups` contains `admins` ->
//! [`ADMINS_ROLE`], developer provider [`DEV_PROVIDER`]) and [`IDP_TOKEN`] (no guests,
//! Token mapping, no basic flow).

mod attacks;
mod flows;
mod multinode;
mod scenario;

use aws_sdk_cognitoidentity::config::retry::RetryConfig;
use aws_sdk_cognitoidentity::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentity::error::ProvideErrorMetadata;
use cognate::core::directory::GroupSpec;
use cognate::core::model::{Origin, User};
use serde_json::Value;

use crate::claims::{claims_of, query_param, token, Pkce, PASSWORD, SPA_CALLBACK};
use crate::support::server::{browser_client, sign_in, TestServer};

pub const POOL: &str = "us-east-1_IdpTest01";
pub const WEB: &str = "idpweb0000000000000000001";
pub const OTHER_CLIENT: &str = "idpother00000000000000001";
pub const UNTRUSTED_POOL: &str = "us-east-1_IdpTest02";
pub const UNTRUSTED_CLIENT: &str = "idpuntrusted0000000000001";

pub const IDP: &str = "us-east-1:1d000000-0000-4000-8000-000000000001";
pub const IDP_TOKEN: &str = "us-east-1:1d000000-0000-4000-8000-000000000002";
pub const DEV_PROVIDER: &str = "login.example.app";

pub const AUTH_ROLE: &str = "arn:aws:iam::123456789012:role/Users";
pub const GUEST_ROLE: &str = "arn:aws:iam::123456789012:role/Guests";
pub const ADMINS_ROLE: &str = "arn:aws:iam::123456789012:role/Admins";
pub const READERS_ROLE: &str = "arn:aws:iam::123456789012:role/Readers";

const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;

pub fn toml() -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "identity tests"
required_attributes = ["email"]

[[pools.clients]]
id = "{WEB}"
name = "web"
callback_urls = ["{SPA_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]

[[pools.clients]]
id = "{OTHER_CLIENT}"
name = "other"
callback_urls = ["{SPA_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]

[[pools]]
id = "{UNTRUSTED_POOL}"
name = "untrusted"
required_attributes = ["email"]

[[pools.clients]]
id = "{UNTRUSTED_CLIENT}"
name = "untrusted web"
callback_urls = ["{SPA_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]

[[roles]]
arn = "{AUTH_ROLE}"
trust = {{ identity_pools = ["{IDP}", "{IDP_TOKEN}"], amr = "authenticated" }}
policy = '{POLICY}'

[[roles]]
arn = "{GUEST_ROLE}"
trust = {{ identity_pools = ["{IDP}"], amr = "unauthenticated" }}
policy = '{POLICY}'

[[roles]]
arn = "{ADMINS_ROLE}"
trust = {{ identity_pools = ["{IDP}", "{IDP_TOKEN}"], amr = "authenticated" }}
policy = '{POLICY}'

[[roles]]
arn = "{READERS_ROLE}"
trust = {{ identity_pools = ["{IDP_TOKEN}"], amr = "authenticated" }}
policy = '{POLICY}'

[[identity_pools]]
id = "{IDP}"
name = "app"
allow_unauthenticated = true
allow_classic_flow = true
developer_provider_name = "{DEV_PROVIDER}"
authenticated_role = "{AUTH_ROLE}"
unauthenticated_role = "{GUEST_ROLE}"

[[identity_pools.user_pools]]
pool = "{POOL}"
client = "{WEB}"

[identity_pools.role_mappings."{POOL}"]
type = "rules"
ambiguous = "authenticated_role"
rules = [{{ claim = "cognito:groups", match_type = "contains", value = "admins", role = "{ADMINS_ROLE}" }}]

[[identity_pools]]
id = "{IDP_TOKEN}"
name = "token mapped"
authenticated_role = "{AUTH_ROLE}"

[[identity_pools.user_pools]]
pool = "{POOL}"
client = "{WEB}"

[identity_pools.role_mappings."{POOL}"]
type = "token"
ambiguous = "deny"
"#
    )
}

pub async fn start() -> TestServer {
    TestServer::start(&toml()).await
}

/// The identity API's client, unsigned (GetId and friends are public), or signed with
/// `creds` (access key id, secret) for the developer action.
pub fn client(base: &str, creds: Option<(&str, &str)>) -> aws_sdk_cognitoidentity::Client {
    let mut config = aws_sdk_cognitoidentity::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(base)
        .retry_config(RetryConfig::disabled());
    if let Some((akid, secret)) = creds {
        config = config.credentials_provider(Credentials::new(akid, secret, None, None, "test"));
    }
    aws_sdk_cognitoidentity::Client::from_conf(config.build())
}

/// The Logins key of a Cognate pool on this server: its issuer without the scheme.
pub fn key(server: &TestServer, pool_id: &str) -> String {
    format!("{}/{pool_id}", server.base.trim_start_matches("http://"))
}

/// A confirmed user of `pool_id` (password [`PASSWORD`]).
pub async fn user(server: &TestServer, pool_id: &str, name: &str) -> User {
    server.user(pool_id, name, PASSWORD).await
}

/// Puts `user` of [`POOL`] in `group`, whose role is `role`.
pub async fn join(server: &TestServer, user: &User, group: &str, role: &str) {
    let pool = server.pool(POOL).await;
    let dir = &server.node.directory;
    dir.put_group(
        &pool,
        GroupSpec {
            name: group.to_string(),
            precedence: Some(1),
            role_arn: Some(role.to_string()),
            ..GroupSpec::default()
        },
        Origin::Api,
        cognate::core::now(),
    )
    .await
    .unwrap();
    dir.add_to_group(&pool, group, &user.sub).await.unwrap();
}

/// Signs `username` in through the hosted UI with `client_id` (authorization code with
/// PKCE) and returns the ID token.
pub async fn id_token(server: &TestServer, client_id: &str, username: &str) -> String {
    let browser = browser_client();
    let pkce = Pkce::new("identity");
    let authorize = crate::claims::authorize_url(
        &server.base,
        &[
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", SPA_CALLBACK),
            ("scope", "openid email profile"),
            ("state", "st-1"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    );
    let location = sign_in(&browser, &server.base, &authorize, username, PASSWORD)
        .await
        .unwrap_or_else(|body| panic!("sign-in failed: {body}"));
    let code = query_param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"));
    let answer = token(
        &server.base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", &code),
            ("redirect_uri", SPA_CALLBACK),
            ("code_verifier", &pkce.verifier),
        ],
        None,
    )
    .await;
    let id = answer.str("id_token");
    assert_eq!(claims_of(&id)["aud"], client_id);
    id
}

/// The error code of a refused SDK call.
pub fn code_of<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E) -> String {
    err.code()
        .unwrap_or_else(|| panic!("no error code: {err:?}"))
        .to_string()
}

/// Re-signs `token`'s claims, changed by `edit`, with the pool's own current signing key
/// (so only the edited claim is wrong).
pub async fn resign(
    server: &TestServer,
    pool_id: &str,
    token: &str,
    edit: impl FnOnce(&mut Value),
) -> String {
    let mut claims = claims_of(token);
    edit(&mut claims);
    let signer = server
        .node
        .keys
        .signer(
            pool_id,
            cognate::core::model::KeyPurpose::IdToken,
            cognate::core::now(),
        )
        .await
        .expect("the pool's signer");
    signer.sign(&claims).unwrap()
}
