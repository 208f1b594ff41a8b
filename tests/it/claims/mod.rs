//! The tokens' raw claims, asserted one by one against the Cognito compatibility sheet
//! (`shared/reference/cognito.md`): names, types, the absence of `aud` in access tokens,
//! groups and roles, `auth_time` and `origin_jti` across refresh, `at_hash`, distinct
//! `kid`s published in the JWKS, client-credentials tokens, lifetimes from the app client,
//! and refresh-token rotation with reuse detection.
//!
//! The fixture at the top (a pool with custom attributes, a resource server and four app
//! clients, plus helpers to decode tokens and drive the code flow over HTTP) is shared with
//! `oidc` and `attacks`.
//!
//! The tokens' claims and their rotation are asserted in [`tokens`]; what `read_attributes`
//! releases to the ID token and userInfo, and userInfo over POST, in [`userinfo`].

mod tokens;
mod userinfo;

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use cognate::core::directory::{GroupSpec, InitialState, NewUser};
use cognate::core::model::{Origin, User};
use cognate::core::secrets::SecretString;

use crate::support::server::{sign_in, TestServer};

// --- the shared fixture -------------------------------------------------------------------

pub const POOL: &str = "us-east-1_OidcTest01";
/// A pool with `userinfo_string_values = true` (Cognito's all-strings userInfo).
pub const STRINGS_POOL: &str = "us-east-1_OidcTest02";
/// Public, PKCE required; ID tokens live 10 minutes and access tokens 15.
pub const SPA: &str = "oidcspa000000000000000001";
/// Confidential (client_secret_basic in the tests); rotation on, no grace period.
pub const BASIC: &str = "oidcbasic0000000000000001";
pub const BASIC_SECRET: &str = "basicsecret0123456789abcdefghijklmnopqrstuvwxyzABC";
/// Confidential (client_secret_post in the tests); rotation on, 60 s grace.
pub const POST: &str = "oidcpost00000000000000001";
pub const POST_SECRET: &str = "postsecret0123456789abcdefghijklmnopqrstuvwxyzABCD";
/// Machine to machine: client_credentials only, the `orders` resource server's scopes.
pub const M2M: &str = "oidcm2m000000000000000001";
pub const M2M_SECRET: &str = "m2msecret0123456789abcdefghijklmnopqrstuvwxyzABCDE";
/// Public, like the SPA, but may read only `email`, `email_verified` and `custom:tier`
/// (Cognito's `ReadAttributes`).
pub const READER: &str = "oidcreader000000000000001";
/// Public, the code and the implicit flows.
pub const IMPLICIT: &str = "oidcimplicit0000000000001";
/// The strings pool's public client.
pub const STR_SPA: &str = "oidcstrspa000000000000001";
/// A pool with case-sensitive usernames and email as an alias.
pub const CASE_POOL: &str = "us-east-1_OidcTest03";
pub const CASE_SPA: &str = "oidccasespa00000000000001";

pub const SPA_CALLBACK: &str = "http://127.0.0.1:9/cb";
pub const SPA_LOGOUT: &str = "http://127.0.0.1:9/bye";
pub const IMPLICIT_CALLBACK: &str = "http://127.0.0.1:9/implicit";
pub const BASIC_CALLBACK: &str = "https://basic.example.com/cb";
pub const POST_CALLBACK: &str = "https://post.example.com/cb";

pub const PASSWORD: &str = "Correct-horse-1";
pub const ADMINS_ROLE: &str = "arn:aws:iam::123456789012:role/Admins";
pub const READERS_ROLE: &str = "arn:aws:iam::123456789012:role/Readers";

pub fn pools_toml() -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "OIDC tests"
alias_attributes = ["email"]
required_attributes = ["email"]
custom_attributes = [{{ name = "tier" }}, {{ name = "level", type = "Number" }}]

[[pools.resource_servers]]
identifier = "orders"
name = "Orders API"
scopes = [{{ name = "read" }}, {{ name = "write" }}]

[[pools.clients]]
id = "{SPA}"
name = "spa"
callback_urls = ["{SPA_CALLBACK}"]
logout_urls = ["{SPA_LOGOUT}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]
id_token_validity = "10m"
access_token_validity = "15m"

[[pools.clients]]
id = "{READER}"
name = "reader"
callback_urls = ["{SPA_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]
read_attributes = ["email", "email_verified", "custom:tier"]

[[pools.clients]]
id = "{IMPLICIT}"
name = "implicit"
callback_urls = ["{IMPLICIT_CALLBACK}"]
allowed_oauth_flows = ["code", "implicit"]
allowed_oauth_scopes = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]
access_token_validity = "20m"

[[pools.clients]]
id = "{BASIC}"
name = "basic"
generate_secret = true
callback_urls = ["{BASIC_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
refresh_token_rotation = {{ enabled = true, grace_period_seconds = 0 }}

[[pools.clients]]
id = "{POST}"
name = "post"
generate_secret = true
callback_urls = ["{POST_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "phone"]
refresh_token_rotation = {{ enabled = true, grace_period_seconds = 60 }}

[[pools.clients]]
id = "{M2M}"
name = "m2m"
generate_secret = true
allowed_oauth_flows = ["client_credentials"]
allowed_oauth_scopes = ["orders/read", "orders/write"]
access_token_validity = "5m"

[[pools]]
id = "{STRINGS_POOL}"
name = "Cognito strings"
required_attributes = ["email"]
userinfo_string_values = true

[[pools.clients]]
id = "{STR_SPA}"
name = "strings spa"
callback_urls = ["{SPA_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]

[[pools]]
id = "{CASE_POOL}"
name = "Case-sensitive usernames"
username_case_sensitive = true
alias_attributes = ["email"]
required_attributes = ["email"]

[[pools.clients]]
id = "{CASE_SPA}"
name = "case spa"
callback_urls = ["{SPA_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
"#
    )
}

/// The confidential clients' secrets, as the operator sets them.
pub fn secrets_env() -> Vec<(String, String)> {
    [
        (BASIC, BASIC_SECRET),
        (POST, POST_SECRET),
        (M2M, M2M_SECRET),
    ]
    .iter()
    .map(|(id, s)| (format!("COGNATE_CLIENT_SECRET_{id}"), s.to_string()))
    .collect()
}

/// The fixture's server.
pub async fn start() -> TestServer {
    start_with_server_toml("").await
}

/// The fixture's server with extra `[server]` lines.
pub async fn start_with_server_toml(server_toml: &str) -> TestServer {
    let env = secrets_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestServer::start_with(&pools_toml(), server_toml, &env).await
}

/// A confirmed user with a verified email, a name and both custom attributes.
pub async fn rich_user(server: &TestServer, pool_id: &str, username: &str) -> User {
    let pool = server.pool(pool_id).await;
    let mut attributes = BTreeMap::new();
    attributes.insert("email".to_string(), format!("{username}@example.com"));
    attributes.insert("email_verified".to_string(), "true".to_string());
    attributes.insert("name".to_string(), format!("{username} Liddell"));
    if pool_id == POOL {
        attributes.insert("custom:tier".to_string(), "gold".to_string());
        attributes.insert("custom:level".to_string(), "7".to_string());
    }
    server
        .node
        .directory
        .create_user(
            &pool,
            NewUser {
                username: username.to_string(),
                attributes,
                password: Some(SecretString::new(PASSWORD)),
                state: InitialState::Confirmed,
            },
            cognate::core::now(),
        )
        .await
        .unwrap()
}

/// Puts `user` in `admins` (precedence 5) and `readers` (precedence 1), each with a role.
pub async fn join_groups(server: &TestServer, user: &User) {
    let pool = server.pool(POOL).await;
    let dir = &server.node.directory;
    let now = cognate::core::now();
    for (name, precedence, role) in [("admins", 5, ADMINS_ROLE), ("readers", 1, READERS_ROLE)] {
        dir.put_group(
            &pool,
            GroupSpec {
                name: name.to_string(),
                precedence: Some(precedence),
                role_arn: Some(role.to_string()),
                ..GroupSpec::default()
            },
            Origin::Api,
            now,
        )
        .await
        .unwrap();
        dir.add_to_group(&pool, name, &user.sub).await.unwrap();
    }
}

// --- helpers --------------------------------------------------------------------------------

fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("a JWT part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// A JWT's payload, undecorated (no signature check: the tests that need one verify it).
pub fn claims_of(token: &str) -> Value {
    jwt_part(token, 1)
}

/// A JWT's header.
pub fn header_of(token: &str) -> Value {
    jwt_part(token, 0)
}

/// One query parameter of a URL (the first with that name).
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `BASE64URL(SHA256(verifier))`, computed here rather than by Cognate.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// An authorization URL with the parameters properly encoded.
pub fn authorize_url(base: &str, params: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs(params);
    url.into()
}

/// A PKCE verifier (43 to 128 unreserved characters) and its challenge.
pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new(seed: &str) -> Pkce {
        let verifier = format!("{seed}-{}", "k".repeat(50));
        Pkce {
            challenge: s256(&verifier),
            verifier,
        }
    }
}

/// Signs in through the hosted page (or the browser's session) and returns the code.
pub async fn code_for(
    browser: &reqwest::Client,
    base: &str,
    authorize: &str,
    username: &str,
) -> String {
    let location = sign_in(browser, base, authorize, username, PASSWORD)
        .await
        .unwrap_or_else(|body| panic!("sign-in failed: {body}"));
    query_param(&location, "code").unwrap_or_else(|| panic!("no code in {location}"))
}

/// The SPA's authorization URL with PKCE, a nonce and a state.
pub fn spa_authorize(base: &str, pkce: &Pkce, nonce: &str) -> String {
    code_authorize(base, SPA, pkce, nonce)
}

/// The authorization URL of `client` (one redirecting to [`SPA_CALLBACK`]), as
/// [`spa_authorize`] builds the SPA's.
pub fn code_authorize(base: &str, client: &str, pkce: &Pkce, nonce: &str) -> String {
    authorize_url(
        base,
        &[
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", SPA_CALLBACK),
            (
                "scope",
                "openid email profile aws.cognito.signin.user.admin",
            ),
            ("state", "st-1"),
            ("nonce", nonce),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    )
}

/// A token endpoint answer.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
}

impl Answer {
    pub fn error(&self) -> &str {
        self.json["error"].as_str().unwrap_or("")
    }

    pub fn str(&self, name: &str) -> String {
        self.json[name]
            .as_str()
            .unwrap_or_else(|| panic!("no {name} in {}", self.json))
            .to_string()
    }
}

/// `POST /oauth2/token` with a form, and HTTP Basic credentials when given.
pub async fn token(base: &str, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Answer {
    let mut request = crate::support::http()
        .post(format!("{base}/oauth2/token"))
        .form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|_| panic!("token endpoint answered {status} with {text:?}"));
    Answer {
        status,
        headers,
        json,
    }
}

/// The SPA's code exchange.
pub async fn spa_exchange(base: &str, code: &str, verifier: &str) -> Answer {
    exchange(base, SPA, code, verifier).await
}

/// The code exchange of a public `client` redirecting to [`SPA_CALLBACK`].
pub async fn exchange(base: &str, client: &str, code: &str, verifier: &str) -> Answer {
    token(
        base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("code", code),
            ("redirect_uri", SPA_CALLBACK),
            ("code_verifier", verifier),
        ],
        None,
    )
    .await
}

/// `GET /oauth2/userInfo` with a Bearer token: status, `WWW-Authenticate`, body.
pub async fn userinfo(base: &str, access_token: &str) -> (StatusCode, Option<String>, String) {
    let response = crate::support::http()
        .get(format!("{base}/oauth2/userInfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    (status, challenge, response.text().await.unwrap())
}

/// The contents of every file under `dir` (the database and its journal).
fn files_under(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else if let Ok(bytes) = std::fs::read(&path) {
            out.push(bytes);
        }
    }
    out
}

fn set_of(value: &Value) -> BTreeSet<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().expect("a string").to_string())
            .collect(),
        Value::String(s) => s.split(' ').map(str::to_string).collect(),
        other => panic!("not a list: {other}"),
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}
