//! The Cognito user pools API (issue 14), driven by the official AWS SDK for Rust
//! (`aws-sdk-cognitoidentityprovider`) with only the endpoint URL changed, an independent
//! Cognito SRP client (`aws-cognito-srp`), and Amplify v6 in Chromium.
//!
//! - [`auth`]: InitiateAuth / AdminInitiateAuth, the challenges, refresh, revocation,
//!   SECRET_HASH, ExplicitAuthFlows, PreventUserExistenceErrors (and their attacks);
//! - [`srp`]: USER_SRP_AUTH with aws-cognito-srp, and the SRP attacks;
//! - [`users`]: sign-up, confirmation, recovery and the access-token actions;
//! - [`account_attacks`]: the account hardening issue's attacks 1, 2, 6 and 8 through the API;
//! - [`admin`] and [`groups`]: the signed administration of users and groups;
//! - [`list_users`]: ListUsers' filters and paging;
//! - [`amplify`]: Amplify v6 in Chromium (sign-up, confirmation, SRP sign-in, refresh,
//!   sign-out).
//!
//! The fixture: pool [`POOL`] (usernames, email as an alias, email verified by code) with
//! clients [`APP`] (public, every flow), [`SRP_ONLY`] (Cognito's default flows),
//! [`SECRET_APP`] (a secret, every flow), [`ROTATING`] (refresh-token rotation),
//! [`LEGACY`] (`PreventUserExistenceErrors = LEGACY`) and [`NO_PASSWORDS`] (no `COGNITO`
//! provider); pool [`MFA_POOL`] (`mfa = "OPTIONAL"`, TOTP and email) with client
//! [`MFA_APP`]; pool [`MFA_ON_POOL`] (`mfa = "ON"`) with client [`MFA_ON_APP`].

mod account_attacks;
mod admin;
mod amplify;
mod auth;
mod groups;
mod list_users;
mod manage;
mod mfa_api;
mod passkeys_api;
mod srp;
mod users;

use aws_sdk_cognitoidentityprovider::config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::Client;

use crate::support::server::TestServer;

pub const POOL: &str = "us-east-1_ApiTest01";
pub const APP: &str = "apiapp0000000000000000001";
pub const SRP_ONLY: &str = "apisrp0000000000000000001";
pub const SECRET_APP: &str = "apisecret000000000000001";
pub const SECRET: &str = "s3cr3t-of-the-api-secret-app-0123456789";
pub const ROTATING: &str = "apirotating0000000000001";
pub const LEGACY: &str = "apilegacy000000000000001";
pub const NO_PASSWORDS: &str = "apinopass000000000000001";

pub const MFA_POOL: &str = "us-east-1_ApiMfa0001";
pub const MFA_APP: &str = "apimfa0000000000000000001";
pub const MFA_ON_POOL: &str = "us-east-1_ApiMfaOn01";
pub const MFA_ON_APP: &str = "apimfaon00000000000000001";

pub const PASSWORD: &str = "Corr3ct-horse-api";
pub const CALLBACK: &str = "https://app.example/cb";

const ALL_FLOWS: &str = r#"explicit_auth_flows = ["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]"#;

fn client_toml(id: &str, name: &str, extra: &str) -> String {
    format!(
        r#"
[[pools.clients]]
id = "{id}"
name = "{name}"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]
{extra}
"#
    )
}

/// The fixture's configuration (pools and clients).
pub fn pools_toml() -> String {
    let mut out = format!(
        r#"
[[pools]]
id = "{POOL}"
name = "user pools API"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
"#
    );
    out += &client_toml(APP, "app", ALL_FLOWS);
    out += &client_toml(SRP_ONLY, "srp only", "");
    out += &client_toml(
        SECRET_APP,
        "secret app",
        &format!("generate_secret = true\n{ALL_FLOWS}"),
    );
    out += &client_toml(
        ROTATING,
        "rotating",
        &format!(
            "refresh_token_rotation = {{ enabled = true, grace_period_seconds = 0 }}\n{ALL_FLOWS}"
        ),
    );
    out += &client_toml(
        LEGACY,
        "legacy",
        &format!("prevent_user_existence_errors = \"LEGACY\"\n{ALL_FLOWS}"),
    );
    out += &client_toml(
        NO_PASSWORDS,
        "no passwords",
        &format!("supported_identity_providers = []\n{ALL_FLOWS}"),
    );
    out += &format!(
        r#"
[[pools]]
id = "{MFA_POOL}"
name = "API MFA optional"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
mfa = "OPTIONAL"
mfa_factors = ["TOTP", "EMAIL"]
"#
    );
    out += &client_toml(MFA_APP, "mfa app", ALL_FLOWS);
    out += &format!(
        r#"
[[pools]]
id = "{MFA_ON_POOL}"
name = "API MFA on"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
mfa = "ON"
"#
    );
    out += &client_toml(MFA_ON_APP, "mfa on app", ALL_FLOWS);
    out
}

/// The secret of [`SECRET_APP`], as the operator sets it.
pub fn secrets_env() -> Vec<(String, String)> {
    vec![(
        format!("COGNATE_CLIENT_SECRET_{SECRET_APP}"),
        SECRET.to_string(),
    )]
}

/// The fixture's server. 127.0.0.1 is a trusted proxy, so tests may name client addresses
/// in `X-Forwarded-For` (raw requests; the SDK sends none).
pub async fn start() -> TestServer {
    start_with_server_toml("").await
}

/// [`start`] with more lines for the `[server]` table.
pub async fn start_with_server_toml(server_toml: &str) -> TestServer {
    let env = secrets_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestServer::start_with(
        &pools_toml(),
        &format!("trusted_proxies = [\"127.0.0.1/32\"]\n{server_toml}"),
        &env,
    )
    .await
}

fn client_with(base: &str, access_key_id: &str, secret: &str) -> Client {
    let config = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(base)
        .retry_config(RetryConfig::disabled())
        .credentials_provider(Credentials::new(access_key_id, secret, None, None, "test"))
        .build();
    Client::from_conf(config)
}

/// The SDK as an app uses it: the public actions go unsigned whatever the credentials
/// (these are not an operator key, so a signed admin call through this client is refused).
pub fn public_client(server: &TestServer) -> Client {
    client_with(&server.base, "AKIDNOTANOPERATOR000", "not-a-secret")
}

/// The SDK signed with a fresh operator key (the admin actions).
pub async fn operator_client(server: &TestServer) -> Client {
    let key = crate::aws_edge::make_key(server, None, None).await;
    client_with(&server.base, &key.access_key_id, key.secret.expose())
}

/// Cognito's SECRET_HASH, computed here independently of the server:
/// `base64(HMAC-SHA256(secret, username || client_id))`.
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A confirmed user of `pool` with a verified email, made through the directory (not
/// through the API under test).
pub async fn confirmed_user(
    server: &TestServer,
    pool: &str,
    username: &str,
    email: &str,
) -> cognate::core::model::User {
    let attributes = [("email", email), ("email_verified", "true")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    server
        .create_user(pool, username, attributes, PASSWORD)
        .await
}
