//! The hosted pages driven by a real headless Chromium (see `support::browser`): a
//! newcomer's first minute against the real binary with no configuration (sign up, confirm
//! with the code the development mail sender logs, sign in, see the tokens, sign out), the
//! sign-in in French on a phone, per-client branding, and CORS as a browser enforces it.
//!
//! Each test saves a screenshot per step into its run dir (kept on failure with
//! `failure.png`, or always with `COGNATE_KEEP_BROWSER_RUNS=1`).

use std::time::{Duration, Instant};

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use serde_json::Value;

use crate::support::browser::Browser;
use crate::support::process::CognateProcess;
use crate::support::server::TestServer;

const PASSWORD: &str = "Correct-horse-1";

/// Saves a screenshot of the current page as `<run dir>/<name>.png`.
async fn shot(browser: &Browser, name: &str) {
    browser
        .screenshot(&browser.run_dir().join(format!("{name}.png")))
        .await;
}

/// Waits for the page title to start with `prefix` (a form submit or a redirect chain
/// may still be loading when a click returns).
async fn wait_title(browser: &Browser, prefix: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let title = browser.title().await;
        if title.starts_with(prefix) {
            return title;
        }
        if Instant::now() >= deadline {
            let url = browser.client.current_url().await.map(|u| u.to_string());
            panic!("expected a page titled {prefix:?}, got {title:?} at {url:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn current_url(browser: &Browser) -> url::Url {
    browser.client.current_url().await.expect("current url")
}

async fn eval(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
}

async fn assert_no_horizontal_scroll(browser: &Browser, what: &str) {
    let widths = eval(
        browser,
        "return [document.documentElement.scrollWidth, window.innerWidth];",
    )
    .await;
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "{what}: the page scrolls sideways ({widths})"
    );
}

/// Every token box of the demo page stays inside the card (long claim lines scroll inside
/// their box instead of pushing it out).
async fn assert_tokens_fit(browser: &Browser, what: &str) {
    let overflow = eval(
        browser,
        "const card = document.querySelector('.card').getBoundingClientRect();\
         return [...document.querySelectorAll('.card pre')]\
           .map(p => p.getBoundingClientRect())\
           .filter(r => r.left < card.left || r.right > card.right)\
           .map(r => [r.left, r.right, card.left, card.right]);",
    )
    .await;
    assert_eq!(
        overflow,
        serde_json::json!([]),
        "{what}: a token box leaves the card"
    );
}

/// The confirmation code the development mail sender logged for `email`: the first run
/// of exactly six digits after the last `To: <email>` of a `cognate::dev_mail` entry
/// ("Your verification code is 123456.").
fn logged_code(log: &str, email: &str) -> Option<String> {
    let to = log.rfind(&format!("To: {email}"))?;
    if !log[..to].contains("cognate::dev_mail") {
        return None;
    }
    log[to..]
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() == 6)
        .map(str::to_string)
}

async fn wait_for_code(server: &CognateProcess, email: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(code) = logged_code(&server.log(), email) {
            return code;
        }
        if Instant::now() >= deadline {
            panic!(
                "no code for {email} in the log within 10 s:\n{}",
                server.log()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A newcomer's first minute (issue 3, point 6): the real binary, no config file, the demo
/// app.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_signs_up_confirms_signs_in_sees_tokens_and_signs_out() {
    let Some(browser) = Browser::start("newcomer").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let server = CognateProcess::start(dir.path(), &[], &[]).await;
    let base = server.base.clone();
    let email = "newcomer@example.com";

    // /demo starts a real code + PKCE sign-in: the hosted sign-in page.
    browser.goto(&format!("{base}/demo")).await;
    wait_title(&browser, "Sign in").await;
    assert_eq!(current_url(&browser).await.path(), "/login");
    shot(&browser, "01-sign-in").await;

    // Sign up: the demo pool signs in by email, so the username field is the email and no
    // separate email attribute is asked for.
    browser.click("a[href^='/signup']").await;
    wait_title(&browser, "Create an account").await;
    let username_type = browser.find("#username").await.attr("type").await.unwrap();
    assert_eq!(username_type.as_deref(), Some("email"));
    assert!(
        browser
            .client
            .find_all(fantoccini::Locator::Css("#attr-email"))
            .await
            .unwrap()
            .is_empty(),
        "the email is asked twice"
    );
    browser.fill("#username", email).await;
    browser.fill("#password", PASSWORD).await;
    browser.fill("#password_confirm", PASSWORD).await;
    shot(&browser, "02-sign-up").await;
    browser.click("button[type=submit]").await;

    // Confirm with the code the development mail sender wrote to the log.
    wait_title(&browser, "Confirm your account").await;
    assert_eq!(
        browser
            .find("#username-shown")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some(email)
    );
    shot(&browser, "03-confirm").await;
    let code = wait_for_code(&server, email).await;
    browser.fill("#code", &code).await;
    browser
        .click("form[action='/confirm'] button[type=submit]")
        .await;

    // Back on the sign-in page, with the notice and the username filled in.
    wait_title(&browser, "Sign in").await;
    assert!(
        browser
            .text("[role=status]")
            .await
            .contains("Your account is confirmed"),
        "no confirmation notice"
    );
    assert_eq!(
        browser
            .find("#username")
            .await
            .prop("value")
            .await
            .unwrap()
            .as_deref(),
        Some(email)
    );
    shot(&browser, "04-confirmed").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;

    // The demo callback exchanged the code and shows the decoded tokens.
    wait_title(&browser, "You are signed in").await;
    assert_eq!(current_url(&browser).await.path(), "/demo/callback");
    let claims = browser
        .text("section[aria-labelledby=id-token] .tokens > div:nth-child(2) pre")
        .await;
    assert!(claims.contains(email), "ID token claims: {claims}");
    assert!(
        claims.contains(r#""token_use": "id""#),
        "ID token claims: {claims}"
    );
    let access = browser
        .text("section[aria-labelledby=access-token] .tokens > div:nth-child(2) pre")
        .await;
    assert!(
        access.contains(r#""token_use": "access""#),
        "access token claims: {access}"
    );
    shot(&browser, "05-tokens").await;
    assert_tokens_fit(&browser, "the demo page on a desktop").await;
    browser.set_size(390, 844).await;
    assert_tokens_fit(&browser, "the demo page on a phone").await;
    assert_no_horizontal_scroll(&browser, "the demo page on a phone").await;
    shot(&browser, "05-tokens-phone").await;
    browser.set_size(1280, 800).await;

    // Sign out ends the session: the demo asks for a password again.
    browser.click("a[href^='/logout']").await;
    wait_title(&browser, "Sign in").await;
    shot(&browser, "06-signed-out").await;
    browser.goto(&format!("{base}/demo")).await;
    let title = wait_title(&browser, "Sign in").await;
    assert!(!title.starts_with("You are signed in"));
    assert_eq!(current_url(&browser).await.path(), "/login");
    assert!(browser
        .find("#password")
        .await
        .is_displayed()
        .await
        .unwrap());
}

/// A second origin for the browser: `http://localhost:<port>` is another site than the
/// server's `http://127.0.0.1:<port>`. Serves a probe page (`/`), a callback page (`/cb`)
/// and a logo (`/logo.svg`).
async fn second_origin() -> String {
    const PROBE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>probe</title></head>
<body><pre id="out">(nothing yet)</pre>
<script>
// Fetches `url` from this origin and writes what the page could read.
async function probe(url, init) {
  let result;
  try {
    const response = await fetch(url, init);
    result = { ok: true, status: response.status, body: await response.text() };
  } catch (e) {
    result = { ok: false, error: e.name + ": " + e.message };
  }
  document.getElementById("out").textContent = JSON.stringify(result, null, 2);
  return result;
}
</script></body></html>"#;
    const LOGO: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="160" height="48" viewBox="0 0 160 48"><rect width="160" height="48" rx="8" fill="#aa3300"/><text x="80" y="32" font-family="sans-serif" font-size="22" fill="#fff" text-anchor="middle">ACME</text></svg>"##;
    let app = Router::new()
        .route("/", get(|| async { Html(PROBE) }))
        .route(
            "/cb",
            get(|| async { Html("<!doctype html><title>callback</title><p>back at the app</p>") }),
        )
        .route(
            "/logo.svg",
            get(|| async { ([("content-type", "image/svg+xml")], LOGO).into_response() }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://localhost:{port}")
}

const POOL: &str = "us-east-1_BrowserF01";
const APP: &str = "browserflowsapp0000000001";
const OTHER: &str = "browserflowsother00000001";

/// A pool signing in by username, a public app whose callback is on `app_origin` (with
/// `branding`), and a second public client elsewhere.
fn pools_toml(app_origin: &str, branding: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "Browser flows"
auto_verified_attributes = ["email"]

[[pools.clients]]
id = "{APP}"
name = "app"
callback_urls = ["{app_origin}/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
{branding}

[[pools.clients]]
id = "{OTHER}"
name = "other"
callback_urls = ["https://other.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]
"#
    )
}

fn authorize_url(base: &str, app_origin: &str, extra: &str) -> String {
    let challenge = cognate::core::oauth::grants::pkce_challenge(&"v".repeat(50));
    let redirect: String =
        url::form_urlencoded::byte_serialize(format!("{app_origin}/cb").as_bytes()).collect();
    format!(
        "{base}/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri={redirect}&scope=openid+email&state=st-1&code_challenge={challenge}&code_challenge_method=S256{extra}"
    )
}

/// The hosted sign-in in French (`lang=fr`) on a phone-sized viewport.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_in_french_on_a_phone() {
    let Some(browser) = Browser::start("french-phone").await else {
        return;
    };
    let origin = second_origin().await;
    let server = TestServer::start(&pools_toml(&origin, "")).await;
    server.user(POOL, "marie", PASSWORD).await;

    browser.set_size(390, 844).await;
    browser
        .goto(&authorize_url(&server.base, &origin, "&lang=fr"))
        .await;
    wait_title(&browser, "Connexion").await;
    let html_lang = eval(&browser, "return document.documentElement.lang;").await;
    assert_eq!(html_lang, "fr");
    assert_eq!(browser.text("label[for=password]").await, "Mot de passe");
    assert_eq!(browser.text("button[type=submit]").await, "Se connecter");
    assert!(browser.text(".links").await.contains("Créer un compte"));

    // Phone size: no sideways scrolling, a comfortable touch target.
    assert_eq!(browser.viewport().await, (390, 844));
    assert_no_horizontal_scroll(&browser, "the login page on a phone").await;
    let height = eval(
        &browser,
        "return document.querySelector('button[type=submit]').getBoundingClientRect().height;",
    )
    .await;
    assert!(
        height.as_f64().unwrap_or(0.0) >= 44.0,
        "the submit button is {height} px high"
    );
    shot(&browser, "01-login-fr-phone").await;

    // Sign in: back at the app with a code.
    browser.fill("#username", "marie").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    wait_title(&browser, "callback").await;
    let url = current_url(&browser).await;
    assert_eq!(url.origin().ascii_serialization(), origin);
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(
        query.iter().any(|(k, v)| k == "code" && !v.is_empty()),
        "{url}"
    );
    assert!(
        query.iter().any(|(k, v)| k == "state" && v == "st-1"),
        "{url}"
    );
}

/// The language chosen with `lang=fr` holds for the whole flow: after a failed sign-in,
/// and on the pages the login page links to (the flow remembers it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_language_chosen_with_lang_holds_for_the_whole_flow() {
    let Some(browser) = Browser::start("french-flow").await else {
        return;
    };
    let origin = second_origin().await;
    let server = TestServer::start(&pools_toml(&origin, "")).await;
    server.user(POOL, "marie", PASSWORD).await;
    browser
        .goto(&authorize_url(&server.base, &origin, "&lang=fr"))
        .await;
    wait_title(&browser, "Connexion").await;

    browser.fill("#username", "marie").await;
    browser.fill("#password", "Wrong-horse-1").await;
    browser.click("button[type=submit]").await;
    let alert = browser.text("[role=alert]").await;
    shot(&browser, "01-wrong-password-fr").await;
    assert_eq!(alert, "Nom d'utilisateur ou mot de passe incorrect.");
    wait_title(&browser, "Connexion").await;

    browser.click("a[href^='/signup']").await;
    wait_title(&browser, "Créer un compte").await;
}

/// Per-client branding: the name, the logo and the primary colour reach the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_wears_the_clients_branding() {
    let Some(browser) = Browser::start("branding").await else {
        return;
    };
    let origin = second_origin().await;
    let branding = format!(
        r##"branding = {{ display_name = "Acme", primary_color = "#aa3300", logo_url = "{origin}/logo.svg" }}"##
    );
    let server = TestServer::start(&pools_toml(&origin, &branding)).await;

    browser
        .goto(&authorize_url(&server.base, &origin, ""))
        .await;
    let title = wait_title(&browser, "Sign in").await;
    assert_eq!(title, "Sign in · Acme");
    assert!(browser.text(".lead").await.contains("Acme"));
    let logo = browser.find(".brand img").await;
    assert_eq!(logo.attr("alt").await.unwrap().as_deref(), Some("Acme"));
    let logo_width = eval(
        &browser,
        "return document.querySelector('.brand img').naturalWidth;",
    )
    .await;
    assert_eq!(logo_width, 160, "the logo did not load");
    let background = eval(
        &browser,
        "return getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor;",
    )
    .await;
    assert_eq!(background, "rgb(170, 51, 0)");
    shot(&browser, "01-branded-login").await;

    // Another client of the same pool keeps the default look.
    browser
        .goto(&format!(
            "{}/oauth2/authorize?response_type=code&client_id={OTHER}&redirect_uri=https%3A%2F%2Fother.example.com%2Fcb&scope=openid&code_challenge={}&code_challenge_method=S256",
            server.base,
            cognate::core::oauth::grants::pkce_challenge(&"w".repeat(50)),
        ))
        .await;
    assert_eq!(wait_title(&browser, "Sign in").await, "Sign in");
    let background = eval(
        &browser,
        "return getComputedStyle(document.querySelector('button[type=submit]')).backgroundColor;",
    )
    .await;
    assert_ne!(background, "rgb(170, 51, 0)");
    shot(&browser, "02-default-login").await;
}

/// Runs `probe(url, init)` in the probe page of `origin` and returns what the page read.
async fn probe(browser: &Browser, origin: &str, url: &str, init: Value) -> Value {
    browser.goto(&format!("{origin}/")).await;
    browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             probe(arguments[0], arguments[1]).then(done);",
            vec![Value::String(url.to_string()), init],
        )
        .await
        .unwrap_or_else(|e| panic!("probe {url} from {origin}: {e}"))
}

/// CORS as Chromium enforces it: discovery and JWKS are readable from any origin; a token
/// endpoint answer only from an origin the client allows (its callback's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_lets_the_clients_origin_read_token_answers_and_anyone_read_jwks() {
    let Some(browser) = Browser::start("cors").await else {
        return;
    };
    let allowed = second_origin().await;
    let stranger = second_origin().await;
    let server = TestServer::start(&pools_toml(&allowed, "")).await;
    let jwks_url = format!("{}/{POOL}/.well-known/jwks.json", server.base);
    let discovery_url = format!("{}/{POOL}/.well-known/openid-configuration", server.base);

    for origin in [&allowed, &stranger] {
        let read = probe(&browser, origin, &jwks_url, Value::Null).await;
        assert_eq!(read["ok"], true, "JWKS from {origin}: {read}");
        let jwks: Value = serde_json::from_str(read["body"].as_str().unwrap()).unwrap();
        assert!(
            jwks["keys"].as_array().is_some_and(|k| !k.is_empty()),
            "{jwks}"
        );
        let read = probe(&browser, origin, &discovery_url, Value::Null).await;
        assert_eq!(read["ok"], true, "discovery from {origin}: {read}");
        assert!(read["body"].as_str().unwrap().contains("\"issuer\""));
    }
    shot(&browser, "01-jwks-from-a-stranger").await;

    // A token request as a single-page app sends it (a simple request: no preflight). The
    // code is bogus, so the answer is an error the app must be able to read.
    let token_url = format!("{}/oauth2/token", server.base);
    let body = format!(
        "grant_type=authorization_code&client_id={APP}&code=bogus&redirect_uri={}&code_verifier={}",
        url::form_urlencoded::byte_serialize(format!("{allowed}/cb").as_bytes())
            .collect::<String>(),
        "v".repeat(50)
    );
    let init = serde_json::json!({
        "method": "POST",
        "headers": { "Content-Type": "application/x-www-form-urlencoded" },
        "body": body,
    });
    let read = probe(&browser, &allowed, &token_url, init.clone()).await;
    shot(&browser, "02-token-from-the-app").await;
    assert_eq!(read["ok"], true, "token from the app's origin: {read}");
    assert_eq!(read["status"], 400, "{read}");
    let error: Value = serde_json::from_str(read["body"].as_str().unwrap()).unwrap();
    assert_eq!(error["error"], "invalid_grant", "{error}");

    let read = probe(&browser, &stranger, &token_url, init).await;
    shot(&browser, "03-token-from-a-stranger").await;
    assert_eq!(
        read["ok"], false,
        "a stranger read the token answer: {read}"
    );
    assert!(
        read["error"].as_str().unwrap().starts_with("TypeError"),
        "{read}"
    );
}
