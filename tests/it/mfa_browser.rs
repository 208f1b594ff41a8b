//! Multi-factor sign-in in a real headless Chromium (issue 13, "Tests": "In the real
//! browser: TOTP enrolment (read the key from the page), and passkey registration and
//! sign-in with Chromium's virtual authenticator ..., on desktop and phone viewports").
//!
//! - TOTP: a pool with `mfa = "ON"` takes a user who signed in with a password to the
//!   enrolment page; the test reads the key from `#totp-secret`, types the code it
//!   computes (RFC 6238, totp-rs), sees the ten recovery codes, continues, and lands on the
//!   client's redirect URI with a code. A second sign-in is challenged for a code.
//! - Passkeys: WebDriver's virtual authenticator (W3C WebAuthn level 2, section 11) stands
//!   in for the phone or laptop; the passkey is registered on the account security page,
//!   then used alone (no password typed) and as the second factor after a password, on a
//!   desktop and on a phone-sized viewport.
//!
//! Chromium refuses WebAuthn on an IP-address origin (testing.md), so these servers run
//! with `public_url = "http://localhost:PORT"` ([`LocalServer`]), which `TestServer`
//! (public URL on 127.0.0.1) cannot give. Each step saves a screenshot in the browser's
//! run dir (kept on failure, or always with `COGNATE_KEEP_BROWSER_RUNS=1`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use cognate::config::Config;
use cognate::core::directory::{InitialState, NewUser};
use cognate::core::model::{MfaFactor, User};
use cognate::core::password::Passwords;
use cognate::core::secrets::SecretString;
use cognate::server::Node;
use cognate::web::AppState;
use serde_json::Value;

use crate::support::browser::{Browser, DESKTOP, PHONE};
use crate::support::smtp::{self, Inbox};

const PASSWORD: &str = "Correct-horse-1";
const POOL: &str = "us-east-1_MfaBrowse01";
const APP: &str = "mfabrowserapp000000000001";
/// The PKCE verifier of every authorization request here.
const VERIFIER: &str = "mfa-browser-verifier-0123456789-0123456789-0123456789";

/// The real server in the test process, as `TestServer` starts it, but with its public
/// URL on `localhost` (a host name WebAuthn accepts) while it listens on 127.0.0.1.
struct LocalServer {
    /// `http://localhost:<port>`: what the browser uses.
    base: String,
    /// `http://127.0.0.1:<port>`: what the test's own HTTP client uses.
    direct: String,
    node: Node,
    _inbox: Inbox,
    _dir: tempfile::TempDir,
    handle: tokio::task::JoinHandle<()>,
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.handle.abort();
    }
}

impl LocalServer {
    async fn start(pools_toml: &str) -> LocalServer {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://localhost:{port}");
        let (smtp_url, inbox) = smtp::start().await;
        let text = format!(
            "[server]\ndata_dir = \"{}\"\npublic_url = \"{base}\"\n\n[server.smtp]\nurl = \"{smtp_url}\"\nfrom = \"no-reply@example.com\"\n\n{pools_toml}",
            dir.path().join("data").display()
        );
        let path = dir.path().join("cognate.toml");
        std::fs::write(&path, text).unwrap();
        let config = Config::load_with_env(Some(&path), &|_: &str| None)
            .unwrap_or_else(|d| panic!("test config: {d:?}"));
        let node = Node::open_with(config, Passwords::standard().unwrap())
            .await
            .unwrap();
        node.bootstrap(false).await.unwrap();
        let state = AppState::new(node.clone()).unwrap();
        let handle = tokio::spawn(async move {
            let _ = cognate::web::serve(listener, state, std::future::pending::<()>()).await;
        });
        LocalServer {
            base,
            direct: format!("http://127.0.0.1:{port}"),
            node,
            _inbox: inbox,
            _dir: dir,
            handle,
        }
    }

    /// Creates a CONFIRMED user with a verified email and [`PASSWORD`].
    async fn user(&self, username: &str) {
        let pool = self.node.store.get_pool(POOL).await.unwrap().unwrap();
        let attributes = BTreeMap::from([
            ("email".to_string(), format!("{username}@example.com")),
            ("email_verified".to_string(), "true".to_string()),
        ]);
        self.node
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
            .unwrap();
    }

    /// The pool's user `username` as stored now.
    async fn find_user(&self, username: &str) -> User {
        let pool = self.node.store.get_pool(POOL).await.unwrap().unwrap();
        self.node
            .directory
            .find_user(&pool, username)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no user {username}"))
    }

    /// The `amr` of the browser's session in [`POOL`], read from its session cookie (the
    /// browser visits the server's origin to read it; it leaves the current page).
    async fn session_amr(&self, browser: &Browser) -> Vec<String> {
        browser.goto(&format!("{}/health", self.base)).await;
        let name = cognate::web::cookies::session(POOL);
        let cookie = browser
            .client
            .get_named_cookie(&name)
            .await
            .unwrap_or_else(|e| panic!("no session cookie {name}: {e}"));
        let sid = self
            .node
            .master
            .verify_cookie(&name, cookie.value())
            .expect("the session cookie is signed by this server");
        let session = self
            .node
            .sessions
            .session(&sid, cognate::core::now())
            .await
            .unwrap()
            .expect("the session cookie names a live session");
        session.amr
    }

    /// Exchanges `code` (from the client's redirect URI) at the token endpoint and returns
    /// the ID token's claims.
    async fn redeem(&self, code: &str, callback: &str) -> Value {
        cognate::federation::http::install_crypto_provider();
        let response = reqwest::Client::new()
            .post(format!("{}/oauth2/token", self.direct))
            .form(&[
                ("grant_type", "authorization_code"),
                ("client_id", APP),
                ("code", code),
                ("redirect_uri", callback),
                ("code_verifier", VERIFIER),
            ])
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 200, "token endpoint: {body}");
        let id_token = body["id_token"].as_str().expect("an ID token");
        let payload = id_token.split('.').nth(1).expect("a JWT");
        let json =
            base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap();
        serde_json::from_slice(&json).unwrap()
    }
}

/// The client app: a callback page on another origin (`http://127.0.0.1:<port>/cb`)
/// titled "callback".
async fn app_origin() -> String {
    let app = Router::new().route(
        "/cb",
        get(|| async { Html("<!doctype html><title>callback</title><p>back at the app</p>") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}")
}

/// A pool with these settings (`mfa`, `mfa_factors`, `sign_in_factors`) and a public app
/// whose callback is on `app`.
fn pools_toml(app: &str, settings: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "MFA browser"
auto_verified_attributes = ["email"]
{settings}

[[pools.clients]]
id = "{APP}"
name = "app"
callback_urls = ["{app}/cb"]
logout_urls = ["{app}/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
"#
    )
}

fn authorize_url(base: &str, app: &str, extra: &str) -> String {
    let challenge = cognate::core::oauth::grants::pkce_challenge(VERIFIER);
    let redirect: String =
        url::form_urlencoded::byte_serialize(format!("{app}/cb").as_bytes()).collect();
    format!(
        "{base}/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri={redirect}&scope=openid+email&state=st-1&code_challenge={challenge}&code_challenge_method=S256{extra}"
    )
}

/// Saves a screenshot of the current page as `<run dir>/<name>.png`.
async fn shot(browser: &Browser, name: &str) {
    browser
        .screenshot(&browser.run_dir().join(format!("{name}.png")))
        .await;
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

/// Waits for the browser to be on a page whose path is `path` (a form post or a redirect
/// chain may still be loading when a click returns), and returns its URL.
async fn wait_path(browser: &Browser, path: &str) -> url::Url {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = current_url(browser).await;
        let ready = eval(browser, "return document.readyState;").await;
        if url.path() == path && ready == "complete" {
            return url;
        }
        if Instant::now() >= deadline {
            let text = eval(
                browser,
                "return document.body ? document.body.innerText : '';",
            )
            .await;
            panic!("expected to be at {path}, still at {url}; the page says:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Clicks `selector` and waits until the page it posts or links to has loaded (a new
/// document: a page that answers with the same URL, as a form shown again with an error
/// does, is told apart from the old one by a mark the old one carries).
async fn click_and_wait(browser: &Browser, selector: &str) {
    mark_document(browser).await;
    browser.click(selector).await;
    wait_new_document(browser, selector).await;
}

async fn mark_document(browser: &Browser) {
    eval(browser, "window.cognateTestOldPage = true; return null;").await;
}

/// Waits for a document without the mark of [`mark_document`] to finish loading.
async fn wait_new_document(browser: &Browser, after: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // A navigation in progress can make the script fail: try again.
        let state = browser
            .client
            .execute(
                "return [window.cognateTestOldPage === true, document.readyState];",
                vec![],
            )
            .await
            .ok();
        if let Some(state) = state {
            if state[0] == false && state[1] == "complete" {
                return;
            }
        }
        if Instant::now() >= deadline {
            let url = current_url(browser).await;
            let text = eval(
                browser,
                "return document.body ? document.body.innerText : '';",
            )
            .await;
            panic!("no new page after {after} (at {url}); the page says:\n{text}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits to be back at the app's callback and returns the authorization code.
async fn wait_for_code(browser: &Browser, app: &str) -> String {
    let url = wait_path(browser, "/cb").await;
    assert_eq!(url.origin().ascii_serialization(), app, "{url}");
    let query: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(
        query.get("state").map(String::as_str),
        Some("st-1"),
        "{url}"
    );
    assert!(!query.contains_key("error"), "{url}");
    query
        .get("code")
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| panic!("no code at the callback: {url}"))
        .clone()
}

async fn count(browser: &Browser, selector: &str) -> usize {
    browser
        .client
        .find_all(fantoccini::Locator::Css(selector))
        .await
        .unwrap_or_default()
        .len()
}

/// The TOTP key the enrolment page shows for manual entry (`#totp-secret`; spaces that
/// group it for reading are dropped).
async fn page_key(browser: &Browser) -> String {
    browser
        .text("#totp-secret")
        .await
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The TOTP code (RFC 6238: SHA-1, 6 digits, 30 s) of the base32 `key` at `unix_time`.
fn totp_code(key: &str, unix_time: u64) -> String {
    let secret = totp_rs::Secret::Encoded(key.to_string())
        .to_bytes()
        .unwrap_or_else(|e| panic!("the key {key:?} is not base32: {e:?}"));
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret).generate(unix_time)
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Types `username` and [`PASSWORD`] into the sign-in page and submits it.
async fn sign_in_with_password(browser: &Browser, username: &str) {
    wait_path(browser, "/login").await;
    browser.fill("#username", username).await;
    browser.fill("#password", PASSWORD).await;
    browser
        .click("form:has(#password) button[type=submit]")
        .await;
}

/// Signs the browser out of the pool (Cognito's `/logout` with a registered `logout_uri`).
async fn sign_out(browser: &Browser, server: &LocalServer, app: &str) {
    let logout: String =
        url::form_urlencoded::byte_serialize(format!("{app}/cb").as_bytes()).collect();
    browser
        .goto(&format!(
            "{}/logout?client_id={APP}&logout_uri={logout}",
            server.base
        ))
        .await;
    wait_path(browser, "/cb").await;
}

/// Clicks the visible passkey button of the current page (`purpose` = `signin`, `mfa` or
/// `register`): /static/passkey.js shows it when the browser has WebAuthn, runs the
/// ceremony with the virtual authenticator and posts the form. Returns when the page the
/// form posted to has loaded.
async fn click_passkey(browser: &Browser, purpose: &str) {
    let selector = format!("button[data-passkey-purpose='{purpose}']");
    let button = browser.find(&selector).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !button.is_displayed().await.unwrap_or(false) {
        if Instant::now() >= deadline {
            let text = eval(browser, "return document.body.innerText;").await;
            panic!(
                "the passkey button {selector} stays hidden (no WebAuthn?); the page says:\n{text}"
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    mark_document(browser).await;
    button
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {selector}: {e}"));
    wait_new_document(browser, &selector).await;
}

/// Asserts the page fits a phone: nothing scrolls sideways, and `selector` is a
/// comfortable touch target (44 CSS pixels high, WCAG 2.5.5).
async fn assert_fits_phone(browser: &Browser, what: &str, selector: &str) {
    let widths = eval(
        browser,
        "return [document.documentElement.scrollWidth, window.innerWidth];",
    )
    .await;
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "{what}: the page scrolls sideways ({widths})"
    );
    let height = browser
        .client
        .execute(
            "return document.querySelector(arguments[0]).getBoundingClientRect().height;",
            vec![Value::String(selector.to_string())],
        )
        .await
        .unwrap_or_else(|e| panic!("{what}: no {selector}: {e}"));
    assert!(
        height.as_f64().unwrap_or(0.0) >= 44.0,
        "{what}: {selector} is {height} px high"
    );
}

/// The enrolment form's submit button (the page's other forms: language, back links).
const SETUP_SUBMIT: &str = "form:has(input[name=enrolment]) button[type=submit]";

/// TOTP enrolment at sign-in under `mfa = "ON"` (Cognito's MFA_SETUP), then a sign-in
/// challenged for a code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_enrolment_at_sign_in_reads_the_key_from_the_page() {
    let Some(browser) = Browser::start("mfa-totp").await else {
        return;
    };
    let app = app_origin().await;
    let server =
        LocalServer::start(&pools_toml(&app, "mfa = \"ON\"\nmfa_factors = [\"TOTP\"]")).await;
    server.user("tina").await;

    browser.goto(&authorize_url(&server.base, &app, "")).await;
    sign_in_with_password(&browser, "tina").await;

    // ON and nothing enrolled: the enrolment page, no code for the app yet.
    let url = wait_path(&browser, "/login/mfa-setup").await;
    shot(&browser, "01-setup").await;
    if count(&browser, "#totp-secret").await == 0 {
        // A page to choose the factor first.
        click_and_wait(&browser, "a[data-factor='totp']").await;
    }
    assert!(!url.as_str().contains("code="), "{url}");
    let key = page_key(&browser).await;
    assert!(key.len() >= 16, "the key on the page: {key:?}");
    let uri = browser
        .find("#totp-uri")
        .await
        .attr("href")
        .await
        .unwrap()
        .expect("the otpauth link has an href");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={key}")), "{uri} vs {key}");
    assert!(
        count(&browser, "svg").await >= 1,
        "no QR code drawn as inline SVG"
    );
    shot(&browser, "02-totp-key").await;

    // A wrong code first: the page again with an error, still no code.
    let right = totp_code(&key, unix_now());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    browser.fill("#code", wrong).await;
    click_and_wait(&browser, SETUP_SUBMIT).await;
    assert_eq!(current_url(&browser).await.path(), "/login/mfa-setup");
    assert_eq!(
        count(&browser, "li.recovery-code").await,
        0,
        "a wrong code enrolled the factor"
    );
    assert!(
        browser
            .text("[role=alert]")
            .await
            .contains("Invalid verification code"),
        "no error shown for a wrong code"
    );
    shot(&browser, "03-wrong-code").await;
    // The same enrolment takes the code again (the key is not shown twice); a page that
    // draws a fresh key shows it.
    let key = if count(&browser, "#totp-secret").await > 0 {
        page_key(&browser).await
    } else {
        key
    };

    // The right code (computed now: the step may have turned since).
    browser.fill("#code", &totp_code(&key, unix_now())).await;
    click_and_wait(&browser, SETUP_SUBMIT).await;
    let codes = browser
        .client
        .find_all(fantoccini::Locator::Css("li.recovery-code"))
        .await
        .unwrap();
    if codes.len() != 10 {
        let text = eval(&browser, "return document.body.innerText;").await;
        panic!(
            "{} recovery codes, not ten; the page says:\n{text}",
            codes.len()
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    for code in &codes {
        let text = code.text().await.unwrap();
        assert!(text.trim().len() >= 8, "a short recovery code {text:?}");
        seen.insert(text);
    }
    assert_eq!(seen.len(), 10, "recovery codes repeat: {seen:?}");
    shot(&browser, "04-recovery-codes").await;

    browser
        .click("form[action='/login/mfa-setup/done'] button[type=submit]")
        .await;
    let code = wait_for_code(&browser, &app).await;
    let amr = server.session_amr(&browser).await;
    for want in ["pwd", "otp", "mfa"] {
        assert!(amr.iter().any(|a| a == want), "session amr {amr:?}");
    }
    let claims = server.redeem(&code, &format!("{app}/cb")).await;
    assert_eq!(claims["cognito:username"], "tina", "{claims}");

    // Signing in again asks for a code: the next step's (one step of drift is accepted,
    // and the step used at enrolment is never accepted again).
    sign_out(&browser, &server, &app).await;
    browser.goto(&authorize_url(&server.base, &app, "")).await;
    sign_in_with_password(&browser, "tina").await;
    wait_path(&browser, "/login/mfa").await;
    shot(&browser, "05-challenge").await;
    browser
        .fill("#code", &totp_code(&key, unix_now() + 30))
        .await;
    click_and_wait(&browser, "#mfa-form button[type=submit]").await;
    wait_for_code(&browser, &app).await;
}

/// A pool offering passkeys both as a first factor and as a second one, under
/// `OPTIONAL` (a user without a factor signs in with a password alone).
fn passkey_pool(app: &str) -> String {
    pools_toml(
        app,
        "mfa = \"OPTIONAL\"\nmfa_factors = [\"TOTP\", \"PASSKEY\"]\nsign_in_factors = [\"PASSWORD\", \"PASSKEY\"]",
    )
}

/// Signs in with a password through the account security page (which sends a browser
/// without a session to sign in first) and registers a passkey there with the virtual
/// authenticator `authenticator`. Returns how many recovery codes the page showed.
async fn register_passkey_on_security_page(
    browser: &Browser,
    server: &LocalServer,
    authenticator: &str,
    username: &str,
) -> usize {
    browser
        .goto(&format!("{}/account/security?client_id={APP}", server.base))
        .await;
    sign_in_with_password(browser, username).await;
    wait_path(browser, "/account/security").await;
    assert_eq!(
        count(browser, "li.factor").await,
        0,
        "a new user has no factor"
    );
    shot(browser, "01-security-page").await;

    browser.fill("#passkey-name", "Virtual key").await;
    click_passkey(browser, "register").await;
    // The first factor's ten recovery codes are shown once (counted here, checked by the
    // caller at the end so the sign-ins after it run either way).
    let recovery_codes = count(browser, "li.recovery-code").await;
    shot(browser, "02-passkey-registered").await;

    let credentials = browser.virtual_credentials(authenticator).await;
    assert_eq!(credentials.len(), 1, "{credentials:?}");
    assert_eq!(
        credentials[0]["isResidentCredential"], true,
        "{credentials:?}"
    );
    assert_eq!(credentials[0]["rpId"], "localhost", "{credentials:?}");

    browser
        .goto(&format!("{}/account/security?client_id={APP}", server.base))
        .await;
    wait_path(browser, "/account/security").await;
    let factor = browser.find("li.factor[data-kind='PASSKEY']").await;
    assert!(
        factor.text().await.unwrap().contains("Virtual key"),
        "the passkey's name is not listed"
    );
    recovery_codes
}

/// Signs in with the passkey alone from the sign-in page (no username, no password) and
/// checks the session counts it as two factors.
async fn sign_in_with_passkey_alone(
    browser: &Browser,
    server: &LocalServer,
    app: &str,
    step: &str,
) {
    browser.goto(&authorize_url(&server.base, app, "")).await;
    wait_path(browser, "/login").await;
    shot(browser, &format!("{step}-sign-in-page")).await;
    click_passkey(browser, "signin").await;
    let code = wait_for_code(browser, app).await;
    let amr = server.session_amr(browser).await;
    assert!(amr.iter().any(|a| a == "hwk"), "session amr {amr:?}");
    assert!(amr.iter().any(|a| a == "mfa"), "session amr {amr:?}");
    assert!(!amr.iter().any(|a| a == "pwd"), "session amr {amr:?}");
    let claims = server.redeem(&code, &format!("{app}/cb")).await;
    assert_eq!(claims["cognito:username"], "pat", "{claims}");
}

/// A passkey registered on the account security page signs in alone (passwordless,
/// Cognito's WEB_AUTHN first factor), and is asked for as the second factor after a
/// password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_registered_on_the_security_page_signs_in_alone_and_as_second_factor() {
    let Some(browser) = Browser::start("mfa-passkey").await else {
        return;
    };
    let app = app_origin().await;
    let server = LocalServer::start(&passkey_pool(&app)).await;
    server.user("pat").await;
    let authenticator = browser.add_virtual_authenticator().await;

    let recovery_codes =
        register_passkey_on_security_page(&browser, &server, &authenticator, "pat").await;
    let user = server.find_user("pat").await;
    let passkeys = user
        .mfa
        .factors
        .iter()
        .filter(|f| f.kind == MfaFactor::Passkey)
        .count();
    assert_eq!(passkeys, 1, "the passkey is stored on the user");

    // Passwordless: the passkey alone.
    sign_out(&browser, &server, &app).await;
    sign_in_with_passkey_alone(&browser, &server, &app, "03").await;
    let after = server.find_user("pat").await;
    let used = after
        .mfa
        .factors
        .iter()
        .find(|f| f.kind == MfaFactor::Passkey)
        .and_then(|f| f.last_used_at);
    assert!(used.is_some(), "the passkey's last use is recorded");

    // A password is not enough any more (OPTIONAL with a factor enrolled): the challenge
    // page asks for the passkey.
    sign_out(&browser, &server, &app).await;
    browser.goto(&authorize_url(&server.base, &app, "")).await;
    sign_in_with_password(&browser, "pat").await;
    let url = wait_path(&browser, "/login/mfa").await;
    assert!(!url.as_str().contains("code="), "{url}");
    shot(&browser, "04-challenge").await;
    click_passkey(&browser, "mfa").await;
    let code = wait_for_code(&browser, &app).await;
    let amr = server.session_amr(&browser).await;
    for want in ["pwd", "hwk", "mfa"] {
        assert!(amr.iter().any(|a| a == want), "session amr {amr:?}");
    }
    server.redeem(&code, &format!("{app}/cb")).await;

    assert_eq!(
        recovery_codes, 10,
        "the first factor (a passkey) shows ten recovery codes"
    );
}

/// The passkey sign-in on a phone-sized viewport and on a desktop: the sign-in page's
/// passkey button fits a thumb and the page does not scroll sideways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkey_sign_in_on_a_phone_and_on_a_desktop() {
    let Some(browser) = Browser::start("mfa-passkey-viewports").await else {
        return;
    };
    let app = app_origin().await;
    let server = LocalServer::start(&passkey_pool(&app)).await;
    server.user("pat").await;
    let authenticator = browser.add_virtual_authenticator().await;

    browser.set_viewport(PHONE).await;
    assert_eq!(browser.viewport().await, (390, 844));
    let recovery_codes =
        register_passkey_on_security_page(&browser, &server, &authenticator, "pat").await;

    for (name, viewport) in [("phone", PHONE), ("desktop", DESKTOP)] {
        browser.set_viewport(viewport).await;
        sign_out(&browser, &server, &app).await;
        browser.goto(&authorize_url(&server.base, &app, "")).await;
        wait_path(&browser, "/login").await;
        if viewport == PHONE {
            assert_fits_phone(
                &browser,
                "the sign-in page on a phone",
                "button[data-passkey-purpose='signin']",
            )
            .await;
        }
        sign_in_with_passkey_alone(&browser, &server, &app, name).await;
        shot(&browser, &format!("{name}-signed-in")).await;
    }
    assert_eq!(
        recovery_codes, 10,
        "the first factor shows ten recovery codes"
    );
}
