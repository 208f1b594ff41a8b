//! Secrets never reach a log: runs at TRACE level are searched for the actual secret
//! values. One drives the CLI and the operational endpoints (a user's password and its
//! hash, a client secret, the master key, the private signing keys); the other a hosted
//! sign-up and sign-in with everything a browser and an app send (passwords, codes, the
//! PKCE verifier, tokens, cookies).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::Value;

use cognate::config::Config;
use cognate::core::oauth::grants::pkce_challenge;
use cognate::core::secrets::{signing_key_context, MasterKey};
use cognate::server::Node;

use crate::claims::query_param;
use crate::support::federated::location;
use crate::support::http;
use crate::support::process::{run, CognateProcess};
use crate::support::server::{absolute, hidden, page};

const POOL: &str = "us-east-1_SecretsT1";
const CLIENT: &str = "secretsclient0000000000001";
const CLIENT_SECRET: &str = "client-secret-value-3f9a7c1e5b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a";
const PASSWORD: &str = "Pa55word-that-must-not-leak!";

#[tokio::test]
async fn trace_logs_of_a_full_run_contain_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
[server]
data_dir = "data"

[[pools]]
id = "{POOL}"
name = "Secrets test"

[[pools.clients]]
id = "{CLIENT}"
name = "confidential"
generate_secret = true
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
"#
    );
    std::fs::write(dir.path().join("cognate.toml"), config).unwrap();
    let (_, master_key) = MasterKey::generate();
    let secret_var = format!("COGNATE_CLIENT_SECRET_{CLIENT}");
    let env = [
        ("RUST_LOG", "trace"),
        ("COGNATE_MASTER_KEY", master_key.as_str()),
        (secret_var.as_str(), CLIENT_SECRET),
        ("COGNATE_METRICS_LISTEN", "127.0.0.1:0"),
    ];
    let args = ["--config", "cognate.toml"];
    let server = CognateProcess::start(dir.path(), &args, &env).await;
    let client = http();
    for path in [
        "/health".to_string(),
        "/health/ready".to_string(),
        format!("/{POOL}/.well-known/openid-configuration"),
        format!("/{POOL}/.well-known/jwks.json"),
    ] {
        let r = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}");
    }
    let metrics = server.metrics_url().expect("metrics listener");
    assert!(client
        .get(&metrics)
        .send()
        .await
        .unwrap()
        .status()
        .is_success());

    let mut cli_logs = String::new();
    let cli = |argv: Vec<&str>| {
        let argv: Vec<String> = args
            .iter()
            .map(|s| s.to_string())
            .chain(argv.into_iter().map(str::to_string))
            .collect();
        let dir = dir.path().to_path_buf();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        async move {
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            run(&dir, &argv, &env).await
        }
    };
    let (code, out, err) = cli(vec![
        "users",
        "create",
        "--pool",
        POOL,
        "carol",
        "--password",
        PASSWORD,
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    cli_logs.push_str(&err);
    let (code, out, err) = cli(vec![
        "users",
        "set-password",
        "--pool",
        POOL,
        "carol",
        "--password",
        PASSWORD,
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    cli_logs.push_str(&err);
    let (code, out, err) = cli(vec!["users", "describe", "--pool", POOL, "carol"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !out.contains("argon2"),
        "describe must not print the hash: {out}"
    );
    cli_logs.push_str(&err);
    let (code, out, err) = cli(vec!["keys", "rotate", "--pool", POOL]).await;
    assert_eq!(code, 0, "{out}{err}");
    cli_logs.push_str(&err);
    // `clients describe` shows the secret on stdout by design (like Cognito's
    // DescribeUserPoolClient); its log output on stderr must not.
    let (code, out, err) = cli(vec!["clients", "describe", CLIENT]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(CLIENT_SECRET),
        "the env secret was applied: {out}"
    );
    cli_logs.push_str(&err);

    let server_log = server.log();
    assert!(server.terminate().await.success());
    assert!(
        server_log.contains("TRACE") || server_log.contains("DEBUG"),
        "the run really logged at trace level"
    );

    // The values to look for, including ones only the database holds.
    let mut config = Config::default();
    config.server.data_dir = dir.path().join("data");
    config.master_key = Some(cognate::core::secrets::SecretString::new(
        master_key.clone(),
    ));
    let node = Node::open(config).await.unwrap();
    let pool = node.store.get_pool(POOL).await.unwrap().unwrap();
    let user = node.directory.require_user(&pool, "carol").await.unwrap();
    let hash = user.password_hash.unwrap().expose().to_string();
    let mut secrets = vec![
        ("password", PASSWORD.to_string()),
        ("password hash", hash.clone()),
        (
            "password hash digest",
            hash.rsplit('$').next().unwrap().to_string(),
        ),
        ("client secret", CLIENT_SECRET.to_string()),
        ("master key", master_key.clone()),
    ];
    for key in node.store.list_keys(POOL).await.unwrap() {
        let der = node
            .master
            .open(&signing_key_context(POOL, &key.kid), &key.private_pkcs8)
            .unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        // Any 40-character window of the PEM body would do; take one from the middle.
        secrets.push(("private key", b64[200..240].to_string()));
    }
    for (what, value) in &secrets {
        assert!(
            !server_log.contains(value.as_str()),
            "{what} found in the server log"
        );
        assert!(
            !cli_logs.contains(value.as_str()),
            "{what} found in CLI logs"
        );
    }
}

const HOSTED_POOL: &str = "us-east-1_SecretsT2";
const WEB: &str = "secretsclient0000000000002";
const WEB_SECRET: &str = "web-client-secret-7d1e9b3f5a2c4e6b8d0f1a3c5e7b9d1f3a5c7e9b";
const CALLBACK: &str = "https://app.example.com/cb";
const EMAIL: &str = "dana@example.com";
const SIGN_UP_PASSWORD: &str = "Sign-up-Pa55word-must-not-leak!";
const NEW_PASSWORD: &str = "Reset-Pa55word-must-not-leak!";
const WRONG_PASSWORD: &str = "Wrong-Pa55word-must-not-leak!";
const VERIFIER: &str = "pkce-verifier-that-must-not-leak-0123456789-abcdefghijklmnop";
const NONCE: &str = "nonce-that-must-not-leak-4b7e";
const WRONG_SECRET: &str = "wrong-client-secret-that-must-not-leak-9c2a";
const WRONG_VERIFIER: &str = "wrong-pkce-verifier-that-must-not-leak-0123456789-abcdefghij";

/// The hosted UI and the OAuth endpoints end to end, as a browser and a confidential app
/// drive them, with the server logging at TRACE: sign-up, the mailed confirmation code, a
/// forgotten password and its reset code, a wrong then a right password, the code
/// exchange with PKCE and the client secret, userInfo, a second sign-in by the session
/// cookie, refresh, revoke and logout. Then no secret may be in the log, except the codes
/// in the development mail sender's own lines (see below).
#[tokio::test]
async fn trace_logs_of_hosted_sign_up_sign_in_and_tokens_contain_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    // JSON logs: one event per line, so each event of the development mail sender (which
    // carries a code by design) is one line, the only one the code search leaves out.
    let config = format!(
        r#"
[server]
data_dir = "data"
log_format = "json"

[[pools]]
id = "{HOSTED_POOL}"
name = "Secrets hosted test"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
required_attributes = ["email"]

[[pools.clients]]
id = "{WEB}"
name = "web"
generate_secret = true
callback_urls = ["{CALLBACK}"]
logout_urls = ["https://app.example.com/bye"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
refresh_token_rotation = {{ enabled = true, grace_period_seconds = 0 }}
"#
    );
    std::fs::write(dir.path().join("cognate.toml"), config).unwrap();
    let (_, master_key) = MasterKey::generate();
    let secret_var = format!("COGNATE_CLIENT_SECRET_{WEB}");
    let env = [
        ("RUST_LOG", "trace"),
        ("COGNATE_MASTER_KEY", master_key.as_str()),
        (secret_var.as_str(), WEB_SECRET),
    ];
    let server = CognateProcess::start(dir.path(), &["--config", "cognate.toml"], &env).await;
    let base = server.base.clone();
    let base_url: url::Url = base.parse().unwrap();
    let app = http();
    // Like `browser_client`, with the jar at hand to read the cookie values.
    let jar = Arc::new(Jar::default());
    let browser = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // Every cookie value the browser ever held (the browser binding, the session).
    let mut cookies: Vec<(String, String)> = Vec::new();
    let mut keep_cookies = || {
        let header = jar.cookies(&base_url);
        let text = header.as_ref().and_then(|h| h.to_str().ok()).unwrap_or("");
        for pair in text.split("; ") {
            if let Some((name, value)) = pair.split_once('=') {
                if !value.is_empty() && !cookies.iter().any(|(_, v)| v == value) {
                    cookies.push((name.to_string(), value.to_string()));
                }
            }
        }
    };

    let authorize = format!(
        "{base}/oauth2/authorize?response_type=code&client_id={WEB}&redirect_uri={}&scope=openid+email+profile&state=st-1&nonce={NONCE}&code_challenge={}&code_challenge_method=S256",
        urlencode(CALLBACK),
        pkce_challenge(VERIFIER)
    );
    let r = browser.get(&authorize).send().await.unwrap();
    let login = absolute(&base, &location(&r));
    let flow = query_param(&login, "flow").expect("a login flow");
    let page = page(&browser, &format!("{base}/signup?flow={flow}")).await;
    let csrf = hidden(&page, "_csrf").expect("a CSRF token");
    keep_cookies();
    let form = |fields: &[(&'static str, &str)]| {
        let mut all = vec![("flow", flow.clone()), ("_csrf", csrf.clone())];
        all.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
        all
    };

    // Sign up, and confirm with the mailed code.
    let r = browser
        .post(format!("{base}/signup"))
        .form(&form(&[
            ("username", "dana"),
            ("email", EMAIL),
            ("password", SIGN_UP_PASSWORD),
            ("password_confirm", SIGN_UP_PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "sign-up: {}", r.text().await.unwrap());
    let confirmation_code = mailed_code(&server, 1).await;
    let r = browser
        .post(format!("{base}/confirm"))
        .form(&form(&[("username", "dana"), ("code", &confirmation_code)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "confirm: {}", r.text().await.unwrap());

    // Forgot password: the reset code, then the new password.
    let r = browser
        .post(format!("{base}/forgot-password"))
        .form(&form(&[("username", EMAIL)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "forgot: {}", r.text().await.unwrap());
    let reset_code = mailed_code(&server, 2).await;
    let r = browser
        .post(format!("{base}/reset-password"))
        .form(&form(&[
            ("username", EMAIL),
            ("code", &reset_code),
            ("password", NEW_PASSWORD),
            ("password_confirm", NEW_PASSWORD),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "reset: {}", r.text().await.unwrap());

    // A wrong password is refused (a failure is worth a log line, never with what was
    // typed); the new one signs in.
    let r = browser
        .post(format!("{base}/login"))
        .form(&form(&[("username", EMAIL), ("password", WRONG_PASSWORD)]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "a wrong password is refused on the page");
    let r = browser
        .post(format!("{base}/login"))
        .form(&form(&[("username", EMAIL), ("password", NEW_PASSWORD)]))
        .send()
        .await
        .unwrap();
    let redirect = location(&r);
    assert!(redirect.starts_with(CALLBACK), "{redirect}");
    let code = query_param(&redirect, "code").expect("an authorization code");
    keep_cookies();

    // The app: code exchange (client_secret_basic + PKCE), userInfo, refresh, revoke.
    let tokens = token(
        &app,
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let id = tokens["id_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();
    let info = app
        .get(format!("{base}/oauth2/userInfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);

    // The session cookie signs the browser in again, without a password.
    let r = browser.get(&authorize).send().await.unwrap();
    let redirect = location(&r);
    assert!(redirect.starts_with(CALLBACK), "{redirect}");
    let session_code = query_param(&redirect, "code").expect("a code from the session");

    let refreshed = token(
        &app,
        &base,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    let refreshed_access = refreshed["access_token"].as_str().unwrap().to_string();
    let refreshed_id = refreshed["id_token"].as_str().unwrap().to_string();
    let rotated_refresh = refreshed["refresh_token"].as_str().unwrap().to_string();
    let r = app
        .post(format!("{base}/oauth2/revoke"))
        .basic_auth(WEB, Some(WEB_SECRET))
        .form(&[("token", rotated_refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = browser
        .get(format!(
            "{base}/logout?client_id={WEB}&logout_uri={}",
            urlencode("https://app.example.com/bye")
        ))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_redirection(), "logout: {}", r.status());

    // Refusals log what went wrong, never what was presented: a wrong client secret, a
    // wrong PKCE verifier, a replayed code (which revokes its tokens), a rotated-out
    // refresh token, an access token of a revoked family.
    let wrong = [
        (WRONG_SECRET, session_code.as_str(), VERIFIER, 401),
        (WEB_SECRET, session_code.as_str(), WRONG_VERIFIER, 400),
        (WEB_SECRET, code.as_str(), VERIFIER, 400),
    ];
    for (secret, code, verifier, status) in wrong {
        let form = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier),
        ];
        let r = token_request(&app, &base, secret, &form).await;
        assert_eq!(r.status(), status, "{}", r.text().await.unwrap());
    }
    let form = [("grant_type", "refresh_token"), ("refresh_token", &refresh)];
    let r = token_request(&app, &base, WEB_SECRET, &form).await;
    assert_eq!(r.status(), 400, "a rotated-out refresh token is refused");
    let r = app
        .get(format!("{base}/oauth2/userInfo"))
        .bearer_auth(&refreshed_access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "the revoked family's access token is refused"
    );

    let log = server.log();
    assert!(server.terminate().await.success());
    // The filter let everything through (this run has no TRACE event of its own: the
    // request and SQL lines are at DEBUG).
    assert!(
        log.contains("\"level\":\"TRACE\"") || log.contains("\"level\":\"DEBUG\""),
        "the run really logged at trace level"
    );
    assert!(
        cookies
            .iter()
            .any(|(name, _)| name.starts_with("cognate_session_")),
        "the browser held a session: {:?}",
        cookies.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );

    let basic =
        |secret: &str| base64::engine::general_purpose::STANDARD.encode(format!("{WEB}:{secret}"));
    let mut secrets: Vec<(String, String)> = vec![
        ("sign-up password".into(), SIGN_UP_PASSWORD.into()),
        ("new password".into(), NEW_PASSWORD.into()),
        ("wrong password".into(), WRONG_PASSWORD.into()),
        ("CSRF token".into(), csrf.clone()),
        ("nonce".into(), NONCE.into()),
        ("PKCE verifier".into(), VERIFIER.into()),
        ("authorization code".into(), code.clone()),
        ("authorization code from the session".into(), session_code),
        ("access token".into(), access),
        ("ID token".into(), id),
        ("refresh token".into(), refresh),
        ("refreshed access token".into(), refreshed_access),
        ("refreshed ID token".into(), refreshed_id),
        ("rotated refresh token".into(), rotated_refresh),
        ("client secret".into(), WEB_SECRET.into()),
        ("client credentials (Basic)".into(), basic(WEB_SECRET)),
        ("wrong client secret".into(), WRONG_SECRET.into()),
        (
            "wrong client credentials (Basic)".into(),
            basic(WRONG_SECRET),
        ),
        ("wrong PKCE verifier".into(), WRONG_VERIFIER.into()),
    ];
    for (name, value) in &cookies {
        secrets.push((format!("cookie {name}"), value.clone()));
    }
    // A signed cookie is `value.signature`: each part is secret on its own.
    for (name, value) in &cookies {
        for part in value.split('.').filter(|p| p.len() >= 16) {
            secrets.push((format!("part of cookie {name}"), part.to_string()));
        }
    }

    // The development mail sender (no SMTP here) writes each message, code included, to
    // the log on purpose (target `cognate::dev_mail`, see `DevMailer`): those lines, and
    // only those, may hold the codes, and only the codes.
    let (mail_lines, other_lines): (Vec<&str>, Vec<&str>) =
        log.lines().partition(|line| is_dev_mail(line));
    assert_eq!(mail_lines.len(), 2, "one message per code: {mail_lines:?}");
    assert!(contains_code(mail_lines[0], &confirmation_code));
    assert!(contains_code(mail_lines[1], &reset_code));
    for line in log.lines() {
        for (what, value) in &secrets {
            for form in log_forms(value) {
                assert!(!line.contains(&form), "{what} found in the log: {line}");
            }
        }
    }
    for (what, code) in [
        ("confirmation code", &confirmation_code),
        ("reset code", &reset_code),
    ] {
        for line in &other_lines {
            assert!(
                !contains_code(line, code),
                "{what} found in the log: {line}"
            );
        }
    }
}

/// `POST /oauth2/token` as the confidential client (`client_secret_basic`).
async fn token(app: &reqwest::Client, base: &str, form: &[(&str, &str)]) -> Value {
    let r = token_request(app, base, WEB_SECRET, form).await;
    assert_eq!(r.status(), 200, "token endpoint: {:?}", form.first());
    r.json().await.unwrap()
}

async fn token_request(
    app: &reqwest::Client,
    base: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.post(format!("{base}/oauth2/token"))
        .basic_auth(WEB, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// How a value would show in a log: as it is, or form-urlencoded (a logged query string
/// or form body). JSON escaping leaves these values unchanged (no quote, no backslash).
fn log_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_string()];
    let encoded = urlencode(value);
    if encoded != value {
        forms.push(encoded);
    }
    forms
}

/// A development mail sender's event (JSON log line).
fn is_dev_mail(line: &str) -> bool {
    serde_json::from_str::<Value>(line).is_ok_and(|event| event["target"] == "cognate::dev_mail")
}

/// Whether a six-digit code stands in `line` as a number of its own. A bare substring
/// search would find it, by chance, in the digits of timestamps and durations (their
/// fractions follow a `.`), so only a run of exactly these six digits, not after a `.`,
/// counts.
fn contains_code(line: &str, code: &str) -> bool {
    line.match_indices(code).any(|(at, _)| {
        let bytes = line.as_bytes();
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + code.len()).copied();
        !before.is_some_and(|b| b.is_ascii_digit() || b == b'.')
            && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

/// The code in the `nth` message (from 1) the development sender logged to [`EMAIL`]; the
/// reset code is mailed in the background, hence the wait.
async fn mailed_code(server: &CognateProcess, nth: usize) -> String {
    for _ in 0..400 {
        let log = server.log();
        let found = log
            .lines()
            .filter(|line| is_dev_mail(line))
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|event| event["to"] == EMAIL)
            .nth(nth - 1)
            .and_then(|event| {
                let message = event["message"].as_str()?.to_string();
                let (_, rest) = message.split_once("code is ")?;
                Some(rest.chars().take(6).collect::<String>())
            });
        if let Some(code) = found {
            assert!(code.chars().all(|c| c.is_ascii_digit()), "{code}");
            return code;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no message {nth} to {EMAIL} in the log:\n{}", server.log());
}
