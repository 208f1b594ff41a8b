//! The issue's "Bad input and attacks", one by one, each paired with the corrected request
//! succeeding (a handler that refused everything would fail every test here).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::StatusCode;
use serde_json::{json, Value};

use cognate::core::model::KeyPurpose;
use cognate::core::oauth::authorize::{self, issue_code, AuthorizeParams};
use cognate::core::oauth::ErrorCode;
use cognate::core::throttle::{
    account_login_key, delay_for, login_key, Throttle, Verdict, ACCOUNT_LOCK_FAILURES,
    PAIR_LOCK_FAILURES,
};

use crate::claims::{
    authorize_url, claims_of, code_for, header_of, query_param, rich_user, spa_authorize,
    spa_exchange, start, start_with_server_toml, token, userinfo, Pkce, BASIC, BASIC_CALLBACK,
    BASIC_SECRET, CASE_POOL, CASE_SPA, M2M, M2M_SECRET, PASSWORD, POOL, POST, POST_SECRET, SPA,
    SPA_CALLBACK, SPA_LOGOUT, STRINGS_POOL,
};
use crate::support::http;
use crate::support::server::{absolute, browser_client, hidden, TestServer};

mod bursts;
mod codes;
mod identifiers;
mod input;
mod redirects;
mod settings;
mod signin;
mod tokens;

// --- helpers --------------------------------------------------------------------------------

/// An HTTP answer, read whole.
struct Page {
    status: StatusCode,
    location: Option<String>,
    content_type: String,
    body: String,
}

async fn read(response: reqwest::Response) -> Page {
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap_or("<binary>").to_string())
    };
    let location = header("location");
    let content_type = header("content-type").unwrap_or_default();
    Page {
        status: response.status(),
        location,
        content_type,
        body: response.text().await.unwrap_or_default(),
    }
}

async fn get(client: &reqwest::Client, url: &str) -> Page {
    read(client.get(url).send().await.unwrap()).await
}

/// An error page: HTML, 400, and no redirect to anywhere.
fn assert_error_page(page: &Page, what: &str) {
    assert_eq!(page.status, 400, "{what}: {}", page.body);
    assert!(
        page.location.is_none(),
        "{what}: redirected to {:?}",
        page.location
    );
    assert!(
        page.content_type.starts_with("text/html"),
        "{what}: {}",
        page.content_type
    );
}

/// Starts a login flow in `browser`; returns the flow id and its CSRF token.
async fn login_form(browser: &reqwest::Client, base: &str, authorize: &str) -> (String, String) {
    let started = get(browser, authorize).await;
    let location = started
        .location
        .expect("authorize redirects to the login page");
    assert!(location.starts_with("/login?flow="), "{location}");
    let page = get(browser, &absolute(base, &location)).await;
    assert_eq!(page.status, 200);
    (
        hidden(&page.body, "flow").expect("flow"),
        hidden(&page.body, "_csrf").expect("_csrf"),
    )
}

/// Posts the login form (optionally from a forwarded address).
async fn post_login(
    client: &reqwest::Client,
    base: &str,
    fields: &[(&str, &str)],
    forwarded_for: Option<&str>,
) -> Page {
    let mut request = client.post(format!("{base}/login")).form(fields);
    if let Some(ip) = forwarded_for {
        request = request.header("x-forwarded-for", ip);
    }
    read(request.send().await.unwrap()).await
}

async fn attempt(
    browser: &reqwest::Client,
    base: &str,
    (flow, csrf): &(String, String),
    username: &str,
    password: &str,
    forwarded_for: Option<&str>,
) -> Page {
    post_login(
        browser,
        base,
        &[
            ("flow", flow),
            ("_csrf", csrf),
            ("username", username),
            ("password", password),
        ],
        forwarded_for,
    )
    .await
}

/// A sign-in that reached the client: the redirect carries a code.
fn assert_signed_in(page: &Page, what: &str) {
    let location = page
        .location
        .as_deref()
        .unwrap_or_else(|| panic!("{what}: no redirect ({}): {}", page.status, page.body));
    assert!(
        location.starts_with(SPA_CALLBACK) && query_param(location, "code").is_some(),
        "{what}: {location}"
    );
}

/// A page body with what legitimately differs between two attempts masked.
fn masked(page: &Page, secrets: &[&str]) -> String {
    let mut body = page.body.clone();
    for s in secrets {
        body = body.replace(s, "<masked>");
    }
    body
}

/// Runs the real `cognate` binary on the server's data directory; returns the exit code,
/// stdout and stderr.
fn cognate_cli_output(server: &TestServer, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"));
    cmd.arg("--data-dir")
        .arg(&server.node.config.server.data_dir)
        .args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("COGNATE_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    let out = cmd.output().expect("run cognate");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the real `cognate` binary on the server's data directory; it must succeed.
fn cognate_cli(server: &TestServer, args: &[&str]) -> String {
    let (code, stdout, stderr) = cognate_cli_output(server, args);
    assert_eq!(code, Some(0), "cognate {args:?}: {stderr}");
    stdout
}

/// userInfo refuses the token as RFC 6750 says: 401 with a Bearer challenge.
async fn assert_refused(base: &str, token: &str, what: &str) {
    let (status, challenge, body) = userinfo(base, token).await;
    assert_eq!(status, 401, "{what}: {body}");
    let challenge = challenge.unwrap_or_else(|| panic!("{what}: no WWW-Authenticate"));
    assert!(
        challenge.starts_with("Bearer") && challenge.contains("error=\"invalid_token\""),
        "{what}: {challenge}"
    );
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// A signed-in SPA session and a fresh set of its tokens.
async fn spa_tokens(server: &TestServer, browser: &reqwest::Client) -> crate::claims::Answer {
    let pkce = Pkce::new("spa");
    let code = code_for(
        browser,
        &server.base,
        &spa_authorize(&server.base, &pkce, "n"),
        "alice",
    )
    .await;
    let answer = spa_exchange(&server.base, &code, &pkce.verifier).await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    answer
}

/// The fixture's server on `db` (PostgreSQL), or on its own SQLite file without it.
async fn start_on(db: Option<&crate::support::pg::PgTestDb>) -> TestServer {
    let (_, master_key) = cognate::core::secrets::MasterKey::generate();
    let mut env = crate::claims::secrets_env();
    if let Some(db) = db {
        env.push(("COGNATE_DATABASE_URL".into(), db.url.clone()));
        env.push(("COGNATE_MASTER_KEY".into(), master_key));
    }
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    TestServer::start_with(&crate::claims::pools_toml(), "", &env).await
}

/// Posts raw bytes to the token endpoint.
async fn raw_token(
    base: &str,
    content_type: &str,
    body: Vec<u8>,
    basic: Option<(&str, &str)>,
) -> (StatusCode, Option<String>, Value) {
    let mut request = http()
        .post(format!("{base}/oauth2/token"))
        .header("content-type", content_type)
        .body(body);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    let text = r.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text:?}"));
    (status, challenge, json)
}

const FORM: &str = "application/x-www-form-urlencoded";
