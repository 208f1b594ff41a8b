//! The tokens' raw claims, asserted one by one against the Cognito compatibility sheet
//! (`shared/reference/cognito.md`): names, types, the absence of `aud` in access tokens,
//! groups and roles, `auth_time` and `origin_jti` across refresh, `at_hash`, distinct
//! `kid`s published in the JWKS, client-credentials tokens, lifetimes from the app client,
//! and refresh-token rotation with reuse detection.
//!
//! The fixture at the top (a pool with custom attributes, a resource server and four app
//! clients, plus helpers to decode tokens and drive the code flow over HTTP) is shared with
//! `oidc` and `attacks`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};

use cognate::core::directory::{GroupSpec, InitialState, NewUser};
use cognate::core::model::{Origin, User};
use cognate::core::secrets::SecretString;

use crate::support::server::{browser_client, sign_in, TestServer};

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

// --- the tests ------------------------------------------------------------------------------

#[tokio::test]
async fn id_and_access_tokens_carry_cognitos_claims() {
    let server = start().await;
    let base = server.base.clone();
    let alice = rich_user(&server, POOL, "alice").await;
    join_groups(&server, &alice).await;
    let browser = browser_client();
    let pkce = Pkce::new("claims");
    let before = cognate::core::now();
    let code = code_for(
        &browser,
        &base,
        &spa_authorize(&base, &pkce, "n-0S6"),
        "alice",
    )
    .await;
    let after = cognate::core::now();
    let tokens = spa_exchange(&base, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    assert_eq!(tokens.json["token_type"], "Bearer");
    assert_eq!(
        tokens.json["expires_in"], 900,
        "the client's access-token lifetime"
    );
    let id_token = tokens.str("id_token");
    let access_token = tokens.str("access_token");
    let refresh_token = tokens.str("refresh_token");
    // The refresh token is opaque: not a JWT whose claims a client could read.
    assert!(!refresh_token.contains('.'), "{refresh_token}");
    // At rest, codes and refresh tokens are only hashes (SHA-256, base64url): the store's
    // files hold the hash and never the token.
    let at_rest = files_under(&server.node.config.server.data_dir);
    let holds = |needle: &str| {
        at_rest
            .iter()
            .any(|f| f.windows(needle.len()).any(|w| w == needle.as_bytes()))
    };
    assert!(
        holds(&s256(&refresh_token)),
        "the refresh token's hash is stored"
    );
    assert!(
        !holds(&refresh_token),
        "a refresh token stored in the clear"
    );
    assert!(!holds(&code), "an authorization code stored in the clear");

    let issuer = format!("{base}/{POOL}");
    let id = claims_of(&id_token);
    assert_eq!(id["sub"], alice.sub.as_str());
    assert_eq!(id["aud"], SPA);
    assert_eq!(id["iss"], issuer.as_str());
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(set_of(&id["cognito:groups"]), set(&["admins", "readers"]));
    assert_eq!(
        set_of(&id["cognito:roles"]),
        set(&[ADMINS_ROLE, READERS_ROLE])
    );
    // The role of the group with the lowest precedence number.
    assert_eq!(id["cognito:preferred_role"], READERS_ROLE);
    assert_eq!(id["nonce"], "n-0S6");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], Value::Bool(true));
    assert_eq!(id["name"], "alice Liddell");
    // Custom attributes are strings, a Number one included.
    assert_eq!(id["custom:tier"], "gold");
    assert_eq!(id["custom:level"], "7");
    let auth_time = id["auth_time"].as_i64().expect("auth_time is a number");
    assert!((before..=after).contains(&auth_time), "{auth_time}");
    assert!(id["jti"].is_string());
    let origin_jti = id["origin_jti"].as_str().expect("origin_jti").to_string();
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        600
    );
    // OIDC Core 3.1.3.6: the left half of SHA-256 of the access token, base64url.
    let digest = Sha256::digest(access_token.as_bytes());
    assert_eq!(
        id["at_hash"],
        URL_SAFE_NO_PAD.encode(&digest[..16]).as_str()
    );

    let access = claims_of(&access_token);
    assert_eq!(access["sub"], alice.sub.as_str());
    assert_eq!(access["client_id"], SPA);
    assert!(
        access.get("aud").is_none(),
        "access tokens carry no aud: {access}"
    );
    assert_eq!(access["iss"], issuer.as_str());
    assert_eq!(access["username"], "alice");
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["version"], 2);
    assert_eq!(
        set_of(&access["scope"]),
        set(&[
            "openid",
            "email",
            "profile",
            "aws.cognito.signin.user.admin"
        ])
    );
    assert_eq!(
        set_of(&access["cognito:groups"]),
        set(&["admins", "readers"])
    );
    assert_eq!(access["origin_jti"], origin_jti.as_str());
    assert_eq!(access["auth_time"], auth_time);
    assert!(access["jti"].is_string());
    assert_ne!(access["jti"], id["jti"]);
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        900
    );
    // Profile attributes stay in the ID token.
    assert!(access.get("email").is_none() && access.get("custom:tier").is_none());

    // Different keys, both published.
    let (id_kid, access_kid) = (
        header_of(&id_token)["kid"].clone(),
        header_of(&access_token)["kid"].clone(),
    );
    assert_eq!(header_of(&id_token)["alg"], "RS256");
    assert_eq!(header_of(&access_token)["alg"], "RS256");
    assert!(id_kid.is_string() && access_kid.is_string());
    assert_ne!(id_kid, access_kid);
    let jwks: Value = crate::support::http()
        .get(format!("{issuer}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(
        kids.contains(&&id_kid) && kids.contains(&&access_kid),
        "{jwks}"
    );

    // Refresh: new jti and iat, the same auth_time and origin_jti; no nonce or at_hash.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let refreshed = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", refresh_token.as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    // Rotation is off for this client: no new refresh token.
    assert!(
        refreshed.json.get("refresh_token").is_none(),
        "{}",
        refreshed.json
    );
    let id2 = claims_of(&refreshed.str("id_token"));
    let access2 = claims_of(&refreshed.str("access_token"));
    assert_eq!(id2["auth_time"], auth_time);
    assert_eq!(id2["origin_jti"], origin_jti.as_str());
    assert_eq!(access2["auth_time"], auth_time);
    assert_eq!(access2["origin_jti"], origin_jti.as_str());
    assert_ne!(id2["jti"], id["jti"]);
    assert_ne!(access2["jti"], access["jti"]);
    assert!(id2["iat"].as_i64() > id["iat"].as_i64());
    assert_eq!(id2["sub"], id["sub"]);
    assert_eq!(id2["aud"], id["aud"]);
    assert_eq!(id2["cognito:preferred_role"], READERS_ROLE);
    assert!(id2.get("nonce").is_none(), "{id2}");
    server.stop().await;
}

/// The claims `client` reads of alice (in `browser`, signed in by its first call): its ID
/// token's, and userInfo's for its access token.
async fn read_by(server: &TestServer, browser: &reqwest::Client, client: &str) -> (Value, Value) {
    let pkce = Pkce::new(client);
    let authorize = code_authorize(&server.base, client, &pkce, "n-read");
    let code = code_for(browser, &server.base, &authorize, "alice").await;
    let tokens = exchange(&server.base, client, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{client}: {}", tokens.json);
    let (status, _, body) = userinfo(&server.base, &tokens.str("access_token")).await;
    assert_eq!(status, 200, "{client}: {body}");
    (
        claims_of(&tokens.str("id_token")),
        serde_json::from_str(&body).unwrap(),
    )
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// Cognito's `ReadAttributes`: a client that may read only some attributes finds only those
/// in its ID tokens and at userInfo (even with `aws.cognito.signin.user.admin`, which
/// releases every attribute); a client that lists none reads them all.
#[tokio::test]
async fn read_attributes_limit_the_id_token_and_userinfo() {
    let server = start().await;
    let alice = rich_user(&server, POOL, "alice").await;
    let browser = browser_client();

    let (id, info) = read_by(&server, &browser, READER).await;
    assert_eq!(id["aud"], READER);
    assert_eq!(id["sub"], alice.sub.as_str());
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], Value::Bool(true));
    assert_eq!(id["custom:tier"], "gold");
    for hidden in ["name", "custom:level"] {
        assert!(id.get(hidden).is_none(), "{hidden} in {id}");
    }
    assert_eq!(
        keys(&info),
        set(&["sub", "username", "email", "email_verified", "custom:tier"]),
        "{info}"
    );
    assert_eq!(info["custom:tier"], "gold");

    // The same user, the same session, a client with every attribute readable.
    let (id, info) = read_by(&server, &browser, SPA).await;
    assert_eq!(id["aud"], SPA);
    assert_eq!(id["sub"], alice.sub.as_str());
    assert_eq!(id["name"], "alice Liddell");
    assert_eq!(id["custom:tier"], "gold");
    assert_eq!(id["custom:level"], "7");
    assert_eq!(
        keys(&info),
        set(&[
            "sub",
            "username",
            "email",
            "email_verified",
            "name",
            "custom:tier",
            "custom:level"
        ]),
        "{info}"
    );
    server.stop().await;
}

/// RFC 6750 section 2.1 and Cognito: userInfo answers `POST` with the Bearer header as it
/// answers `GET`, and refuses a `POST` without a token.
#[tokio::test]
async fn userinfo_answers_post_as_it_answers_get() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let pkce = Pkce::new("post-userinfo");
    let authorize = spa_authorize(&base, &pkce, "n");
    let code = code_for(&browser_client(), &base, &authorize, "alice").await;
    let tokens = spa_exchange(&base, &code, &pkce.verifier).await;
    let access_token = tokens.str("access_token");
    let post = |bearer: Option<&str>| {
        let mut request = crate::support::http()
            .post(format!("{base}/oauth2/userInfo"))
            .form(&[("unrelated", "field")]);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let refused = post(None).await.unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let forged = post(Some("not-a-token")).await.unwrap();
    assert_eq!(forged.status(), 401);

    let (status, _, got) = userinfo(&base, &access_token).await;
    assert_eq!(status, 200, "{got}");
    let posted = post(Some(&access_token)).await.unwrap();
    assert_eq!(posted.status(), 200);
    assert_eq!(
        posted.headers()["cache-control"].to_str().unwrap(),
        "no-store"
    );
    let posted: Value = posted.json().await.unwrap();
    assert_eq!(posted, serde_json::from_str::<Value>(&got).unwrap());
    assert_eq!(posted["email"], "alice@example.com");
    server.stop().await;
}

#[tokio::test]
async fn client_credentials_tokens_are_the_clients_own() {
    let server = start().await;
    let base = server.base.clone();
    let all = token(
        &base,
        &[("grant_type", "client_credentials")],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(all.status, 200, "{}", all.json);
    assert!(all.json.get("refresh_token").is_none(), "{}", all.json);
    assert!(all.json.get("id_token").is_none(), "{}", all.json);
    assert_eq!(all.json["expires_in"], 300);
    let claims = claims_of(&all.str("access_token"));
    assert_eq!(claims["sub"], M2M);
    assert_eq!(claims["client_id"], M2M);
    assert!(claims.get("username").is_none(), "{claims}");
    assert!(claims.get("aud").is_none(), "{claims}");
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["version"], 2);
    assert_eq!(claims["iss"], format!("{base}/{POOL}").as_str());
    assert_eq!(
        set_of(&claims["scope"]),
        set(&["orders/read", "orders/write"])
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );

    // A narrower request gets exactly what it asked for.
    let narrow = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders/read"),
        ],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(narrow.status, 200, "{}", narrow.json);
    assert_eq!(
        claims_of(&narrow.str("access_token"))["scope"],
        "orders/read"
    );

    // No openid scope: userInfo refuses it (403 insufficient_scope), it is not a user's.
    let (status, challenge, _) = userinfo(&base, &all.str("access_token")).await;
    assert_eq!(status, 403);
    assert!(challenge.unwrap_or_default().contains("insufficient_scope"));
    server.stop().await;
}

/// The code flow of a confidential client whose secret goes in the body.
async fn post_client_tokens(
    server: &TestServer,
    browser: &reqwest::Client,
    client: &str,
) -> Answer {
    let (callback, secret) = match client {
        BASIC => (BASIC_CALLBACK, BASIC_SECRET),
        _ => (POST_CALLBACK, POST_SECRET),
    };
    let authorize = authorize_url(
        &server.base,
        &[
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", callback),
            ("scope", "openid email"),
        ],
    );
    let code = code_for(browser, &server.base, &authorize, "alice").await;
    let answer = token(
        &server.base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("client_secret", secret),
            ("code", code.as_str()),
            ("redirect_uri", callback),
        ],
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    answer
}

async fn refresh_with(base: &str, client: &str, refresh_token: &str) -> Answer {
    let secret = match client {
        BASIC => BASIC_SECRET,
        _ => POST_SECRET,
    };
    token(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client),
            ("client_secret", secret),
            ("refresh_token", refresh_token),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn rotated_out_refresh_token_reused_after_grace_revokes_the_family() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();

    // Within the grace period (60 s) the rotated-out token still works (a retry after a
    // lost answer), and both of its successors work too.
    let first = post_client_tokens(&server, &browser, POST).await;
    let rt1 = first.str("refresh_token");
    let second = refresh_with(&base, POST, &rt1).await;
    assert_eq!(second.status, 200, "{}", second.json);
    let rt2 = second.str("refresh_token");
    assert_ne!(rt1, rt2, "rotation issues a new refresh token");
    let retry = refresh_with(&base, POST, &rt1).await;
    assert_eq!(retry.status, 200, "within grace: {}", retry.json);
    let again = refresh_with(&base, POST, &rt2).await;
    assert_eq!(again.status, 200, "{}", again.json);
    assert_eq!(userinfo(&base, &again.str("access_token")).await.0, 200);

    // No grace: the rotated-out token presented later revokes the whole family.
    let first = post_client_tokens(&server, &browser, BASIC).await;
    let rt1 = first.str("refresh_token");
    let a1 = first.str("access_token");
    let second = refresh_with(&base, BASIC, &rt1).await;
    assert_eq!(second.status, 200, "{}", second.json);
    let rt2 = second.str("refresh_token");
    let a2 = second.str("access_token");
    assert_ne!(rt1, rt2);
    assert_eq!(
        claims_of(&a1)["origin_jti"],
        claims_of(&a2)["origin_jti"],
        "one family"
    );
    assert_eq!(userinfo(&base, &a2).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reuse = refresh_with(&base, BASIC, &rt1).await;
    assert_eq!(reuse.status, 400, "{}", reuse.json);
    assert_eq!(reuse.error(), "invalid_grant");
    let successor = refresh_with(&base, BASIC, &rt2).await;
    assert_eq!(successor.status, 400, "{}", successor.json);
    assert_eq!(successor.error(), "invalid_grant");
    for access in [&a1, &a2] {
        let (status, challenge, _) = userinfo(&base, access).await;
        assert_eq!(status, 401, "a revoked family's access token");
        assert!(challenge.unwrap_or_default().contains("invalid_token"));
    }
    // Another sign-in's family is untouched.
    let other = post_client_tokens(&server, &browser, BASIC).await;
    assert_eq!(userinfo(&base, &other.str("access_token")).await.0, 200);
    server.stop().await;
}
