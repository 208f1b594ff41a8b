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
use cognate::core::throttle::{login_key, Throttle, ACCOUNT_LOCK_FAILURES, PAIR_LOCK_FAILURES};

use crate::claims::{
    authorize_url, claims_of, code_for, header_of, query_param, rich_user, spa_authorize,
    spa_exchange, start, start_with_server_toml, token, userinfo, Pkce, BASIC, BASIC_CALLBACK,
    BASIC_SECRET, CASE_POOL, CASE_SPA, M2M, M2M_SECRET, PASSWORD, POOL, POST, POST_SECRET, SPA,
    SPA_CALLBACK, SPA_LOGOUT, STRINGS_POOL,
};
use crate::support::http;
use crate::support::server::{absolute, browser_client, hidden, TestServer};

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

/// Runs the real `cognate` binary on the server's data directory.
fn cognate_cli(server: &TestServer, args: &[&str]) -> String {
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
    assert!(
        out.status.success(),
        "cognate {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
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

// --- the authorization endpoint -------------------------------------------------------------

#[tokio::test]
async fn unknown_client_or_unregistered_redirect_uri_gets_an_error_page_never_a_redirect() {
    let server = start().await;
    let base = server.base.clone();
    let browser = browser_client();
    let pkce = Pkce::new("page");
    let url = |client: &str, redirect: Option<&str>| {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", client),
            ("scope", "openid"),
            ("state", "s"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        if let Some(r) = redirect {
            params.push(("redirect_uri", r));
        }
        authorize_url(&base, &params)
    };
    // The registered pair: on to the login page.
    let ok = get(&browser, &url(SPA, Some(SPA_CALLBACK))).await;
    assert!(ok
        .location
        .as_deref()
        .is_some_and(|l| l.starts_with("/login?flow=")));

    let unknown = get(
        &browser,
        &url("nosuchclient0000000000001", Some(SPA_CALLBACK)),
    )
    .await;
    assert_error_page(&unknown, "unknown client_id");
    assert_error_page(
        &get(&browser, &url("", Some(SPA_CALLBACK))).await,
        "empty client_id",
    );
    assert_error_page(&get(&browser, &url(SPA, None)).await, "no redirect_uri");
    // Exact string match: no prefix, no normalization, no other port or host.
    for bad in [
        "",
        "http://127.0.0.1:9/cb/",
        "http://127.0.0.1:9/cb?x=1",
        "http://127.0.0.1:9/cbx",
        "http://127.0.0.1:9/cb#f",
        "http://127.0.0.1:9/cb/../evil",
        "HTTP://127.0.0.1:9/cb",
        "http://127.0.0.1:10/cb",
        "http://localhost:9/cb",
        "https://evil.example.com/cb",
        BASIC_CALLBACK,
    ] {
        assert_error_page(&get(&browser, &url(SPA, Some(bad))).await, bad);
    }
    server.stop().await;
}

#[tokio::test]
async fn pkce_plain_a_missing_challenge_and_a_forbidden_scope_are_refused_on_the_redirect_uri() {
    let server = start().await;
    let base = server.base.clone();
    let browser = browser_client();
    let pkce = Pkce::new("plain");
    let attempt = |extra: &[(&'static str, &str)]| {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", SPA),
            ("redirect_uri", SPA_CALLBACK),
            ("state", "st"),
        ];
        params.extend_from_slice(extra);
        authorize_url(&base, &params)
    };
    let expect_error = |page: &Page, code: &str, what: &str| {
        let location = page
            .location
            .as_deref()
            .unwrap_or_else(|| panic!("{what}: {}", page.body));
        assert!(location.starts_with(SPA_CALLBACK), "{what}: {location}");
        assert_eq!(
            query_param(location, "error").as_deref(),
            Some(code),
            "{what}"
        );
        assert_eq!(
            query_param(location, "state").as_deref(),
            Some("st"),
            "{what}"
        );
        // RFC 9207 section 2: error responses carry the issuer too (mix-up defence).
        assert_eq!(
            query_param(location, "iss"),
            Some(format!("{base}/{POOL}")),
            "{what}"
        );
        assert!(query_param(location, "code").is_none(), "{what}");
    };
    let plain = get(
        &browser,
        &attempt(&[
            ("scope", "openid"),
            ("code_challenge", &pkce.verifier),
            ("code_challenge_method", "plain"),
        ]),
    )
    .await;
    expect_error(&plain, "invalid_request", "plain PKCE");
    let no_method = get(
        &browser,
        &attempt(&[("scope", "openid"), ("code_challenge", &pkce.verifier)]),
    )
    .await;
    expect_error(
        &no_method,
        "invalid_request",
        "no method (plain by default)",
    );
    // A public client must use PKCE.
    let none = get(&browser, &attempt(&[("scope", "openid")])).await;
    expect_error(&none, "invalid_request", "no PKCE on a public client");
    let scope = get(
        &browser,
        &attempt(&[
            ("scope", "openid phone"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ]),
    )
    .await;
    expect_error(&scope, "invalid_scope", "a scope the client may not have");
    let custom = get(
        &browser,
        &attempt(&[
            ("scope", "openid orders/read"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ]),
    )
    .await;
    expect_error(&custom, "invalid_scope", "another client's resource scope");
    // The implicit flow is off unless the client enables it (the error goes in the
    // fragment, as the implicit flow's answers do); unknown response types are refused.
    let implicit = get(
        &browser,
        &authorize_url(
            &base,
            &[
                ("response_type", "token"),
                ("client_id", SPA),
                ("redirect_uri", SPA_CALLBACK),
                ("scope", "openid"),
                ("nonce", "n"),
            ],
        ),
    )
    .await;
    let location = implicit.location.expect("an error redirect");
    let fragment = location
        .split_once('#')
        .map(|(_, f)| f.to_string())
        .unwrap_or_default();
    assert!(fragment.contains("error=unauthorized_client"), "{location}");
    let odd = get(
        &browser,
        &authorize_url(
            &base,
            &[
                ("response_type", "id_token"),
                ("client_id", SPA),
                ("redirect_uri", SPA_CALLBACK),
                ("state", "st"),
            ],
        ),
    )
    .await;
    expect_error(&odd, "unsupported_response_type", "response_type=id_token");
    // Corrected: S256 and allowed scopes go on to the login page.
    let ok = get(
        &browser,
        &attempt(&[
            ("scope", "openid email"),
            ("code_challenge", &pkce.challenge),
            ("code_challenge_method", "S256"),
        ]),
    )
    .await;
    assert!(
        ok.location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login?flow=")),
        "{:?}",
        ok.location
    );
    server.stop().await;
}

#[tokio::test]
async fn prompt_none_needs_a_session_and_prompt_login_asks_again() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let pkce = Pkce::new("prompt");
    let with_prompt = |prompt: &str| {
        authorize_url(
            &base,
            &[
                ("response_type", "code"),
                ("client_id", SPA),
                ("redirect_uri", SPA_CALLBACK),
                ("scope", "openid"),
                ("state", "p"),
                ("prompt", prompt),
                ("code_challenge", pkce.challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        )
    };
    let no_session = get(&browser, &with_prompt("none")).await;
    let location = no_session.location.expect("an error redirect");
    assert!(location.starts_with(SPA_CALLBACK), "{location}");
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("p"));
    assert_eq!(
        query_param(&location, "iss"),
        Some(format!("{base}/{POOL}"))
    );

    // Signed in: prompt=none answers with a code, prompt=login shows the login page.
    code_for(&browser, &base, &spa_authorize(&base, &pkce, "n"), "alice").await;
    let silent = get(&browser, &with_prompt("none")).await;
    assert_signed_in(&silent, "prompt=none with a session");
    let login = get(&browser, &with_prompt("login")).await;
    let location = login.location.expect("a redirect");
    assert!(
        location.starts_with("/login?flow="),
        "prompt=login: {location}"
    );
    server.stop().await;
}

#[tokio::test]
async fn logout_accepts_only_registered_uris_and_ends_the_session() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let pkce = Pkce::new("logout");
    let authorize = spa_authorize(&base, &pkce, "n");
    let (flow, csrf) = login_form(&browser, &base, &authorize).await;
    let response = browser
        .post(format!("{base}/login"))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    // The session cookie, as an attacker who copied it would replay it.
    let session_cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("cognate_session="))
        .and_then(|c| c.split(';').next())
        .expect("a session cookie")
        .to_string();
    assert_signed_in(&read(response).await, "sign-in");
    let replay = |cookie: String| {
        let authorize = authorize.clone();
        async move {
            let r = http()
                .get(&authorize)
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            read(r).await
        }
    };
    assert_signed_in(&replay(session_cookie.clone()).await, "the session works");

    let logout = |uri: &str| {
        let mut url = url::Url::parse(&format!("{base}/logout")).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", SPA)
            .append_pair("logout_uri", uri);
        url.to_string()
    };
    for bad in [
        "https://evil.example.com/bye",
        "http://127.0.0.1:9/bye/",
        SPA_CALLBACK,
    ] {
        assert_error_page(&get(&browser, &logout(bad)).await, bad);
    }
    assert_error_page(
        &get(
            &browser,
            &format!("{base}/logout?client_id=nosuchclient&logout_uri={SPA_LOGOUT}"),
        )
        .await,
        "unknown client",
    );
    // Still signed in after the refused logouts.
    assert_signed_in(&get(&browser, &authorize).await, "after refused logouts");

    let out = get(&browser, &logout(SPA_LOGOUT)).await;
    assert_eq!(out.location.as_deref(), Some(SPA_LOGOUT));
    let after = get(&browser, &authorize).await;
    assert!(
        after
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login?flow=")),
        "signed out: {:?}",
        after.location
    );
    // Ended on the server, not only forgotten by the browser.
    let replayed = replay(session_cookie).await;
    assert!(
        replayed
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login?flow=")),
        "a copied session cookie after logout: {:?}",
        replayed.location
    );
    server.stop().await;
}

// --- authorization codes --------------------------------------------------------------------

#[tokio::test]
async fn a_replayed_code_fails_and_revokes_what_its_first_use_issued() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let pkce = Pkce::new("replay");
    let code = code_for(&browser, &base, &spa_authorize(&base, &pkce, "n"), "alice").await;
    let first = spa_exchange(&base, &code, &pkce.verifier).await;
    assert_eq!(first.status, 200, "{}", first.json);
    assert_eq!(userinfo(&base, &first.str("access_token")).await.0, 200);

    let replay = spa_exchange(&base, &code, &pkce.verifier).await;
    assert_eq!(replay.status, 400);
    assert_eq!(replay.error(), "invalid_grant");
    let refresh = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", first.str("refresh_token").as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(
        refresh.error(),
        "invalid_grant",
        "the first use's refresh token"
    );
    assert_refused(
        &base,
        &first.str("access_token"),
        "the first use's access token",
    )
    .await;

    // Corrected: a fresh code, used once, works and keeps working.
    let fresh = spa_tokens(&server, &browser).await;
    assert_eq!(userinfo(&base, &fresh.str("access_token")).await.0, 200);
    let refresh = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", fresh.str("refresh_token").as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(refresh.status, 200, "{}", refresh.json);
    server.stop().await;
}

/// Codes live five minutes. Sleeping that long is not a test, so this drives the real code
/// path (the authorize validation, `issue_code` with the client's code lifetime as the
/// hosted login calls it, and the token service's exchange) with the clock moved.
#[tokio::test]
async fn codes_expire_after_five_minutes() {
    let server = start().await;
    let alice = rich_user(&server, POOL, "alice").await;
    let pkce = Pkce::new("expiry");
    let params = AuthorizeParams {
        response_type: Some("code".into()),
        client_id: Some(SPA.into()),
        redirect_uri: Some(SPA_CALLBACK.into()),
        scope: Some("openid email".into()),
        code_challenge: Some(pkce.challenge.clone()),
        code_challenge_method: Some("S256".into()),
        ..AuthorizeParams::default()
    };
    let store = server.node.store.as_ref();
    let (request, client) = authorize::validate(store, &params).await.unwrap();
    assert_eq!(client.token_validity.auth_code_secs, 300);
    let t0 = cognate::core::now();
    let issue = || {
        issue_code(
            store,
            &request,
            &alice.sub,
            t0,
            client.token_validity.auth_code_secs,
            t0,
        )
    };
    let tokens = &server.node.tokens;
    let late = issue().await.unwrap();
    let refused = tokens
        .exchange_code(
            &client,
            &late,
            Some(SPA_CALLBACK),
            Some(&pkce.verifier),
            t0 + 301,
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::InvalidGrant);
    let in_time = issue().await.unwrap();
    let answer = tokens
        .exchange_code(
            &client,
            &in_time,
            Some(SPA_CALLBACK),
            Some(&pkce.verifier),
            t0 + 299,
        )
        .await
        .unwrap();
    assert!(answer.refresh_token.is_some());
    server.stop().await;
}

#[tokio::test]
async fn codes_are_bound_to_the_client_the_redirect_uri_and_the_pkce_challenge() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let pkce = Pkce::new("bound");
    let spa_code =
        || async { code_for(&browser, &base, &spa_authorize(&base, &pkce, "n"), "alice").await };
    let exchange = |code: String,
                    extra: Vec<(&'static str, String)>,
                    basic: Option<(&'static str, &'static str)>| {
        let base = base.clone();
        async move {
            let mut form: Vec<(&str, String)> =
                vec![("grant_type", "authorization_code".into()), ("code", code)];
            form.extend(extra);
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token(&base, &form, basic).await
        }
    };
    let spa = |verifier: Option<&str>, redirect: Option<&str>| {
        let mut extra = vec![("client_id", SPA.to_string())];
        if let Some(v) = verifier {
            extra.push(("code_verifier", v.to_string()));
        }
        if let Some(r) = redirect {
            extra.push(("redirect_uri", r.to_string()));
        }
        extra
    };
    let invalid_grant = |answer: &crate::claims::Answer, what: &str| {
        assert_eq!(answer.status, 400, "{what}: {}", answer.json);
        assert_eq!(answer.error(), "invalid_grant", "{what}");
    };

    // Another client, with its own valid credentials.
    let stolen = exchange(
        spa_code().await,
        vec![
            ("code_verifier", pkce.verifier.clone()),
            ("redirect_uri", SPA_CALLBACK.into()),
        ],
        Some((BASIC, BASIC_SECRET)),
    )
    .await;
    invalid_grant(&stolen, "another client");
    let a = exchange(
        spa_code().await,
        spa(Some(&pkce.verifier), Some("http://127.0.0.1:9/other")),
        None,
    )
    .await;
    invalid_grant(&a, "another redirect_uri");
    let a = exchange(spa_code().await, spa(Some(&pkce.verifier), None), None).await;
    invalid_grant(&a, "no redirect_uri");
    let wrong = Pkce::new("wrong");
    let a = exchange(
        spa_code().await,
        spa(Some(&wrong.verifier), Some(SPA_CALLBACK)),
        None,
    )
    .await;
    invalid_grant(&a, "wrong code_verifier");
    let a = exchange(spa_code().await, spa(None, Some(SPA_CALLBACK)), None).await;
    invalid_grant(&a, "no code_verifier");
    let a = exchange(
        spa_code().await,
        spa(Some(&pkce.challenge), Some(SPA_CALLBACK)),
        None,
    )
    .await;
    invalid_grant(&a, "the challenge as the verifier");
    let ok = exchange(
        spa_code().await,
        spa(Some(&pkce.verifier), Some(SPA_CALLBACK)),
        None,
    )
    .await;
    assert_eq!(ok.status, 200, "corrected: {}", ok.json);

    // RFC 9700 section 4.8.2: a code_verifier for a request that had no code_challenge.
    let basic_authorize = authorize_url(
        &base,
        &[
            ("response_type", "code"),
            ("client_id", BASIC),
            ("redirect_uri", BASIC_CALLBACK),
            ("scope", "openid"),
        ],
    );
    let basic_code = || async { code_for(&browser, &base, &basic_authorize, "alice").await };
    let redirect = || vec![("redirect_uri", BASIC_CALLBACK.to_string())];
    let mut extra = redirect();
    extra.push(("code_verifier", pkce.verifier.clone()));
    let a = exchange(basic_code().await, extra, Some((BASIC, BASIC_SECRET))).await;
    invalid_grant(&a, "a verifier without a challenge");
    let ok = exchange(basic_code().await, redirect(), Some((BASIC, BASIC_SECRET))).await;
    assert_eq!(ok.status, 200, "corrected: {}", ok.json);
    server.stop().await;
}

#[tokio::test]
async fn refresh_tokens_serve_and_revoke_only_for_their_own_client() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let tokens = spa_tokens(&server, &browser).await;
    let refresh = tokens.str("refresh_token");
    let as_post = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", POST),
            ("client_secret", POST_SECRET),
            ("refresh_token", refresh.as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(
        (as_post.status.as_u16(), as_post.error()),
        (400, "invalid_grant")
    );
    // Another client's revocation is answered 200 (RFC 7009 section 2.2) and changes nothing.
    let r = http()
        .post(format!("{base}/oauth2/revoke"))
        .basic_auth(BASIC, Some(BASIC_SECRET))
        .form(&[("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let own = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", refresh.as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.json);
    assert_eq!(userinfo(&base, &tokens.str("access_token")).await.0, 200);
    // The owner's revocation works; a wrong secret is refused before anything happens.
    let r = http()
        .post(format!("{base}/oauth2/revoke"))
        .basic_auth(BASIC, Some("not-the-secret"))
        .form(&[("token", "whatever")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http()
        .post(format!("{base}/oauth2/revoke"))
        .form(&[("client_id", SPA), ("token", refresh.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_refused(
        &base,
        &tokens.str("access_token"),
        "after its owner revoked",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn cors_answers_only_the_clients_own_origins() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let spa_origin = "http://127.0.0.1:9";
    let evil = "https://evil.example.com";
    let basic_origin = "https://basic.example.com";
    let allow_origin = |r: &reqwest::Response| {
        r.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_string())
    };
    for path in ["/oauth2/token", "/oauth2/userInfo", "/oauth2/revoke"] {
        let preflight = |origin: &'static str| {
            http()
                .request(reqwest::Method::OPTIONS, format!("{base}{path}"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .send()
        };
        let ok = preflight(spa_origin).await.unwrap();
        assert_eq!(ok.status(), 204, "{path}");
        assert_eq!(allow_origin(&ok).as_deref(), Some(spa_origin), "{path}");
        let refused = preflight(evil).await.unwrap();
        assert_eq!(allow_origin(&refused), None, "{path}");
        assert!(refused.status().is_client_error(), "{path}");
    }
    // The actual answers name the origin only for the client that owns it.
    let browser = browser_client();
    let exchange = |origin: &'static str| {
        let browser = browser.clone();
        let base = base.clone();
        async move {
            let pkce = Pkce::new("cors");
            let code = code_for(&browser, &base, &spa_authorize(&base, &pkce, "n"), "alice").await;
            http()
                .post(format!("{base}/oauth2/token"))
                .header("origin", origin)
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("client_id", SPA),
                    ("code", code.as_str()),
                    ("redirect_uri", SPA_CALLBACK),
                    ("code_verifier", pkce.verifier.as_str()),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let ok = exchange(spa_origin).await;
    assert_eq!(allow_origin(&ok).as_deref(), Some(spa_origin));
    let access = ok.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(allow_origin(&exchange(evil).await), None);
    assert_eq!(
        allow_origin(&exchange(basic_origin).await),
        None,
        "another client's origin"
    );
    let info = |origin: &'static str| {
        http()
            .get(format!("{base}/oauth2/userInfo"))
            .header("origin", origin)
            .bearer_auth(&access)
            .send()
    };
    assert_eq!(
        allow_origin(&info(spa_origin).await.unwrap()).as_deref(),
        Some(spa_origin)
    );
    assert_eq!(allow_origin(&info(evil).await.unwrap()), None);
    server.stop().await;
}

// --- the token endpoint ---------------------------------------------------------------------

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

#[tokio::test]
async fn token_endpoint_errors_are_rfc_6749s() {
    let server = start().await;
    let base = server.base.clone();
    let cc = [("grant_type", "client_credentials")];

    let ok = token(&base, &cc, Some((M2M, M2M_SECRET))).await;
    assert_eq!(ok.status, 200, "{}", ok.json);

    // Wrong secret with HTTP Basic: 401 and a Basic challenge (RFC 6749 section 5.2).
    let wrong = token(&base, &cc, Some((M2M, "not-the-secret"))).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.error(), "invalid_client");
    let challenge = wrong
        .headers
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    assert!(
        challenge.as_deref().is_some_and(|c| c.starts_with("Basic")),
        "{challenge:?}"
    );
    let unknown = token(&base, &cc, Some(("nosuchclient", M2M_SECRET))).await;
    assert_eq!(
        (unknown.status.as_u16(), unknown.error()),
        (401, "invalid_client")
    );
    // Wrong secret in the body: invalid_client (400 or 401).
    let post = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", M2M),
            ("client_secret", "not-the-secret"),
        ],
        None,
    )
    .await;
    assert!(matches!(post.status.as_u16(), 400 | 401), "{}", post.status);
    assert_eq!(post.error(), "invalid_client");
    let corrected = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", M2M),
            ("client_secret", M2M_SECRET),
        ],
        None,
    )
    .await;
    assert_eq!(corrected.status, 200, "{}", corrected.json);
    // A confidential client that sends no secret is not authenticated.
    let bare = token(
        &base,
        &[("grant_type", "client_credentials"), ("client_id", M2M)],
        None,
    )
    .await;
    assert_eq!(bare.error(), "invalid_client");
    // A public client may not present a secret it does not have.
    let public = token(
        &base,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        Some((SPA, "made-up")),
    )
    .await;
    assert_eq!(public.error(), "invalid_client");

    // A grant the client may not use.
    let spa_cc = token(
        &base,
        &[("grant_type", "client_credentials"), ("client_id", SPA)],
        None,
    )
    .await;
    assert_eq!(
        (spa_cc.status.as_u16(), spa_cc.error()),
        (400, "unauthorized_client")
    );
    let post_cc = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", POST),
            ("client_secret", POST_SECRET),
        ],
        None,
    )
    .await;
    assert_eq!(
        post_cc.error(),
        "unauthorized_client",
        "a confidential client without the flow"
    );
    let m2m_code = token(
        &base,
        &[
            ("grant_type", "authorization_code"),
            ("code", "abc"),
            ("redirect_uri", SPA_CALLBACK),
        ],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(m2m_code.error(), "unauthorized_client");

    // A scope it may not have.
    for scope in ["orders/delete", "openid", "orders/read other/read"] {
        let s = token(
            &base,
            &[("grant_type", "client_credentials"), ("scope", scope)],
            Some((M2M, M2M_SECRET)),
        )
        .await;
        assert_eq!(
            (s.status.as_u16(), s.error()),
            (400, "invalid_scope"),
            "{scope}"
        );
    }
    let s = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders/write"),
        ],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(s.status, 200, "{}", s.json);

    // Unsupported and missing grant types.
    let password = token(
        &base,
        &[
            ("grant_type", "password"),
            ("username", "a"),
            ("password", "b"),
        ],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(
        (password.status.as_u16(), password.error()),
        (400, "unsupported_grant_type")
    );
    let missing = token(&base, &[("scope", "orders/read")], Some((M2M, M2M_SECRET))).await;
    assert_eq!(
        (missing.status.as_u16(), missing.error()),
        (400, "invalid_request")
    );

    // Repeated parameters (RFC 6749 section 3.2).
    for body in [
        "grant_type=client_credentials&grant_type=client_credentials",
        "grant_type=client_credentials&scope=orders%2Fread&scope=orders%2Fwrite",
    ] {
        let (status, _, json) = raw_token(&base, FORM, body.into(), Some((M2M, M2M_SECRET))).await;
        assert_eq!(
            (status.as_u16(), json["error"].as_str()),
            (400, Some("invalid_request")),
            "{body}"
        );
    }
    let body = format!(
        "grant_type=client_credentials&client_id={M2M}&client_id={M2M}&client_secret={M2M_SECRET}"
    );
    let (status, _, json) = raw_token(&base, FORM, body.into_bytes(), None).await;
    assert_eq!(
        (status.as_u16(), json["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, _, _) = raw_token(
        &base,
        FORM,
        b"grant_type=client_credentials&scope=orders%2Fread".to_vec(),
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(status, 200);
    server.stop().await;
}

// --- userInfo -------------------------------------------------------------------------------

#[tokio::test]
async fn userinfo_refuses_forged_expired_foreign_and_id_tokens() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let tokens = spa_tokens(&server, &browser).await;
    let access = tokens.str("access_token");
    let id_token = tokens.str("id_token");
    assert_eq!(
        userinfo(&base, &access).await.0,
        200,
        "the real access token"
    );

    let now = cognate::core::now();
    let signer = server
        .node
        .keys
        .signer(POOL, KeyPurpose::AccessToken, now)
        .await
        .unwrap();
    let real = claims_of(&access);
    let with = |changes: &[(&str, Value)]| {
        let mut c = real.clone();
        for (k, v) in changes {
            c[*k] = v.clone();
        }
        c
    };
    // Re-signed by the pool's key, unchanged: accepted (the signer below is the real one).
    assert_eq!(userinfo(&base, &signer.sign(&real).unwrap()).await.0, 200);

    // A forged payload under the real signature.
    let parts: Vec<&str> = access.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(&with(&[("username", json!("mallory"))])),
        parts[2]
    );
    assert_refused(&base, &forged, "forged payload").await;
    let truncated = format!(
        "{}.{}.{}",
        parts[0],
        parts[1],
        &parts[2][..parts[2].len() - 4]
    );
    assert_refused(&base, &truncated, "damaged signature").await;
    // Expired, signed with the pool's real key.
    let expired = signer
        .sign(&with(&[
            ("exp", json!(now - 3600)),
            ("iat", json!(now - 7200)),
        ]))
        .unwrap();
    assert_refused(&base, &expired, "expired").await;
    // Wrong issuer: a stranger's, and another real pool's (whose keys did not sign it).
    let stranger = signer
        .sign(&with(&[(
            "iss",
            json!(format!("https://evil.example.com/{POOL}")),
        )]))
        .unwrap();
    assert_refused(&base, &stranger, "foreign issuer").await;
    let other_pool = signer
        .sign(&with(&[("iss", json!(format!("{base}/{STRINGS_POOL}")))]))
        .unwrap();
    assert_refused(&base, &other_pool, "another pool's issuer").await;
    // An audience: access tokens have none (that is an ID token's claim).
    let audience = signer.sign(&with(&[("aud", json!(SPA))])).unwrap();
    assert_refused(&base, &audience, "with aud").await;
    let id_use = signer.sign(&with(&[("token_use", json!("id"))])).unwrap();
    assert_refused(&base, &id_use, "token_use id").await;
    assert_refused(&base, &id_token, "the ID token itself").await;
    // alg none.
    let kid = header_of(&access)["kid"].clone();
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": kid})),
        parts[1]
    );
    assert_refused(&base, &none, "alg none").await;
    // HS256 keyed with the public key's bytes (the RS256/HS256 confusion attack).
    let jwks: Value = http()
        .get(format!("{base}/{POOL}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
        .clone();
    let modulus = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    for secret in [modulus, serde_json::to_vec(&jwk).unwrap()] {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
        header.kid = kid.as_str().map(str::to_string);
        let hs = jsonwebtoken::encode(
            &header,
            &real,
            &jsonwebtoken::EncodingKey::from_secret(&secret),
        )
        .unwrap();
        assert_refused(&base, &hs, "HS256 with the public key").await;
    }
    // RS256 under the pool's kid, signed by a key of the attacker's.
    let rsa = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let input = format!("{}.{}", parts[0], parts[1]);
    let mut signature = vec![0; rsa.public_modulus_len()];
    rsa.sign(
        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
        &aws_lc_rs::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut signature,
    )
    .unwrap();
    let attacker = format!("{input}.{}", URL_SAFE_NO_PAD.encode(&signature));
    assert_refused(&base, &attacker, "another RSA key").await;
    // No token, and junk.
    for junk in ["", "x", "a.b.c", "....", &"A".repeat(5000)] {
        assert_refused(&base, junk, "junk").await;
    }
    let bare = http()
        .get(format!("{base}/oauth2/userInfo"))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 401);
    // After all that, the real token still works.
    assert_eq!(userinfo(&base, &access).await.0, 200);
    server.stop().await;
}

// --- sign-in --------------------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_user_is_answered_exactly_like_a_wrong_password() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let pkce = Pkce::new("unknown");
    let flow = login_form(&browser, &base, &spa_authorize(&base, &pkce, "n")).await;
    let wrong = attempt(&browser, &base, &flow, "alice", "Wrong-horse-1", None).await;
    let unknown = attempt(&browser, &base, &flow, "ghost", "Wrong-horse-1", None).await;
    assert_eq!(wrong.status, unknown.status);
    assert!(wrong.location.is_none() && unknown.location.is_none());
    assert_eq!(
        masked(&wrong, &[&flow.0, &flow.1, "alice"]),
        masked(&unknown, &[&flow.0, &flow.1, "ghost"])
    );
    assert!(
        wrong.body.contains("Incorrect username or password."),
        "{}",
        wrong.body
    );
    let right = attempt(&browser, &base, &flow, "alice", PASSWORD, None).await;
    assert_signed_in(&right, "the right password");
    server.stop().await;
}

#[tokio::test]
async fn twenty_failures_lock_known_and_unknown_accounts_alike_until_unlocked() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let pool = server.pool(POOL).await;
    let throttle = Throttle::new(server.node.store.clone());
    let browser = browser_client();
    let pkce = Pkce::new("lock");
    let flow = login_form(&browser, &base, &spa_authorize(&base, &pkce, "n")).await;
    let now = cognate::core::now();
    for name in ["alice", "ghost"] {
        // Five real failures over HTTP (no delay yet), then the rest counted directly, from
        // other addresses, so that the lock is the account's, not this address's: waiting
        // out 15 growing delays would make this test take over a minute.
        for _ in 0..5 {
            let page = attempt(&browser, &base, &flow, name, "Wrong-horse-1", None).await;
            assert_eq!(page.status, 200);
        }
        for i in 5..ACCOUNT_LOCK_FAILURES {
            let from = IpAddr::from([192, 0, 2, u8::try_from(i).unwrap()]);
            throttle
                .record_failure(POOL, &login_key(&pool, name), from, now)
                .await
                .unwrap();
        }
    }
    let alice = attempt(&browser, &base, &flow, "alice", PASSWORD, None).await;
    let ghost = attempt(&browser, &base, &flow, "ghost", PASSWORD, None).await;
    assert_eq!(alice.status, 429, "locked even with the right password");
    assert_eq!(ghost.status, alice.status);
    assert!(alice.location.is_none());
    assert_eq!(
        masked(&alice, &[&flow.0, &flow.1, "alice"]),
        masked(&ghost, &[&flow.0, &flow.1, "ghost"])
    );
    assert!(alice.body.contains("locked"), "{}", alice.body);
    // Another account is not affected.
    rich_user(&server, POOL, "bob").await;
    let other = browser_client();
    let bob_flow = login_form(&other, &base, &spa_authorize(&base, &pkce, "n")).await;
    assert_signed_in(
        &attempt(&other, &base, &bob_flow, "bob", PASSWORD, None).await,
        "bob",
    );

    let listed = cognate_cli(&server, &["users", "lockouts", "--pool", POOL]);
    assert!(
        listed.contains("alice") && listed.contains("ghost"),
        "{listed}"
    );
    let out = cognate_cli(&server, &["users", "unlock", "--pool", POOL, "alice"]);
    assert!(out.contains("unlocked"), "{out}");
    let listed = cognate_cli(&server, &["users", "lockouts", "--pool", POOL]);
    assert!(
        !listed.contains("alice") && listed.contains("ghost"),
        "{listed}"
    );
    let alice = attempt(&browser, &base, &flow, "alice", PASSWORD, None).await;
    assert_signed_in(&alice, "after unlock");
    server.stop().await;
}

#[tokio::test]
async fn case_variants_of_an_email_login_count_as_one_account() {
    // Email aliases are matched case-insensitively even where usernames are not; an
    // attacker varying the case must not get twenty guesses per variant.
    let server = start().await;
    let base = server.base.clone();
    let carol = rich_user(&server, CASE_POOL, "carol").await;
    let pool = server.pool(CASE_POOL).await;
    let browser = browser_client();
    let pkce = Pkce::new("case");
    let authorize = authorize_url(
        &base,
        &[
            ("response_type", "code"),
            ("client_id", CASE_SPA),
            ("redirect_uri", SPA_CALLBACK),
            ("scope", "openid"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    );
    let flow = login_form(&browser, &base, &authorize).await;
    // The alias works in any case.
    let right = attempt(&browser, &base, &flow, "Carol@Example.COM", PASSWORD, None).await;
    assert_signed_in(&right, "email alias in another case");
    assert!(carol.attributes.contains_key("email"));

    // A fresh browser (the first one is signed in now).
    let browser = browser_client();
    let flow = login_form(&browser, &base, &authorize).await;
    for typed in [
        "CAROL@example.com",
        "Carol@example.com",
        "cArol@example.com",
        "caRol@example.com",
        "carOl@example.com",
    ] {
        let page = attempt(&browser, &base, &flow, typed, "Wrong-horse-1", None).await;
        assert_eq!(page.status, 200, "{typed}");
    }
    let throttle = Throttle::new(server.node.store.clone());
    let now = cognate::core::now();
    for i in 5..ACCOUNT_LOCK_FAILURES {
        let from = IpAddr::from([192, 0, 2, u8::try_from(i).unwrap()]);
        throttle
            .record_failure(CASE_POOL, &login_key(&pool, "carol@example.com"), from, now)
            .await
            .unwrap();
    }
    let locked = attempt(&browser, &base, &flow, "CaRoL@ExAmPlE.cOm", PASSWORD, None).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    let out = cognate_cli(
        &server,
        &["users", "unlock", "--pool", CASE_POOL, "carol@example.com"],
    );
    assert!(out.contains("unlocked"), "{out}");
    let after = attempt(&browser, &base, &flow, "CaRoL@ExAmPlE.cOm", PASSWORD, None).await;
    assert_signed_in(&after, "after unlock");
    server.stop().await;
}

#[tokio::test]
async fn another_address_is_only_slowed_down_before_the_account_lock() {
    // Behind a trusted proxy, X-Forwarded-For names the client.
    let server = start_with_server_toml("trusted_proxies = [\"127.0.0.1/32\"]").await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let pool = server.pool(POOL).await;
    let pkce = Pkce::new("pair");
    let attacker_ip = "203.0.113.9";
    let attacker = browser_client();
    let attacker_flow = login_form(&attacker, &base, &spa_authorize(&base, &pkce, "n")).await;
    for _ in 0..5 {
        let page = attempt(
            &attacker,
            &base,
            &attacker_flow,
            "alice",
            "Wrong-horse-1",
            Some(attacker_ip),
        )
        .await;
        assert_eq!(page.status, 200);
    }
    let throttle = Throttle::new(server.node.store.clone());
    let now = cognate::core::now();
    for _ in 5..PAIR_LOCK_FAILURES {
        throttle
            .record_failure(
                POOL,
                &login_key(&pool, "alice"),
                attacker_ip.parse().unwrap(),
                now,
            )
            .await
            .unwrap();
    }
    // The attacking address is locked out of alice, even with the right password...
    let locked = attempt(
        &attacker,
        &base,
        &attacker_flow,
        "alice",
        PASSWORD,
        Some(attacker_ip),
    )
    .await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    // ...while alice, from elsewhere, is only slowed down.
    let user = browser_client();
    let user_flow = login_form(&user, &base, &spa_authorize(&base, &pkce, "n")).await;
    let started = Instant::now();
    let page = attempt(
        &user,
        &base,
        &user_flow,
        "alice",
        PASSWORD,
        Some("198.51.100.7"),
    )
    .await;
    assert_signed_in(&page, "the user from another address");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // Her success does not lift the attacker's lock.
    let still = attempt(
        &attacker,
        &base,
        &attacker_flow,
        "alice",
        PASSWORD,
        Some(attacker_ip),
    )
    .await;
    assert_eq!(still.status, 429);
    let listed = cognate_cli(&server, &["users", "lockouts", "--pool", POOL]);
    assert!(listed.contains(attacker_ip), "{listed}");
    server.stop().await;
}

#[tokio::test]
async fn the_login_form_needs_its_browser_and_csrf_token_and_signs_in_once() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let pkce = Pkce::new("csrf");
    let authorize = spa_authorize(&base, &pkce, "n");
    let (flow, csrf) = login_form(&browser, &base, &authorize).await;
    let form = |csrf: Option<&str>| {
        let mut f = vec![
            ("flow", flow.clone()),
            ("username", "alice".to_string()),
            ("password", PASSWORD.to_string()),
        ];
        if let Some(c) = csrf {
            f.push(("_csrf", c.to_string()));
        }
        f
    };
    let send = |client: reqwest::Client, fields: Vec<(&'static str, String)>| {
        let base = base.clone();
        async move {
            let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_login(&client, &base, &fields, None).await
        }
    };
    // Another browser (no cookie) with the right flow and token.
    let foreign = send(http(), form(Some(&csrf))).await;
    assert_eq!(foreign.status, 403, "{}", foreign.body);
    assert!(foreign.content_type.starts_with("text/html"));
    // Another browser's own cookie.
    let other = browser_client();
    login_form(&other, &base, &authorize).await;
    assert_eq!(send(other, form(Some(&csrf))).await.status, 403);
    // The right browser with a wrong or missing token.
    assert_eq!(send(browser.clone(), form(Some("wrong"))).await.status, 403);
    assert_eq!(send(browser.clone(), form(None)).await.status, 403);
    // Corrected, and sent twice at once: one sign-in.
    let (a, b) = tokio::join!(
        send(browser.clone(), form(Some(&csrf))),
        send(browser.clone(), form(Some(&csrf)))
    );
    let codes: Vec<&Page> = [&a, &b]
        .into_iter()
        .filter(|p| p.location.as_deref().is_some_and(|l| l.contains("code=")))
        .collect();
    assert_eq!(
        codes.len(),
        1,
        "{:?} {:?} / {:?} {:?}",
        a.status,
        a.location,
        b.status,
        b.location
    );
    let loser = if a.location.is_some() { &b } else { &a };
    assert!(
        matches!(loser.status.as_u16(), 403 | 409),
        "{}",
        loser.status
    );
    // And once more after it completed.
    let again = send(browser.clone(), form(Some(&csrf))).await;
    assert!(
        again.location.is_none(),
        "a used flow: {:?}",
        again.location
    );
    server.stop().await;
}

// --- oversized and malformed input ------------------------------------------------------------

#[tokio::test]
async fn oversized_and_malformed_input_is_refused_never_with_a_500() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let client = http();

    // 2 MiB bodies: 413.
    let big = vec![b'a'; 2 * 1024 * 1024];
    for path in ["/oauth2/token", "/login", "/oauth2/revoke", "/signup"] {
        let r = client
            .post(format!("{base}{path}"))
            .header("content-type", FORM)
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 413, "{path}");
    }
    // 10 kB query strings: 414.
    let long = "a".repeat(10 * 1024);
    for path in [
        "/oauth2/authorize",
        "/login",
        "/oauth2/token",
        "/oauth2/userInfo",
    ] {
        let r = client
            .get(format!("{base}{path}?x={long}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 414, "{path}");
    }
    // Corrected sizes go through.
    let ok = token(
        &base,
        &[("grant_type", "client_credentials")],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(ok.status, 200);

    // Wrong content types and garbage bodies at the token endpoint: 400 invalid_request.
    let cc = format!("grant_type=client_credentials&client_id={M2M}&client_secret={M2M_SECRET}");
    let (status, _, json) = raw_token(&base, FORM, cc.clone().into_bytes(), None).await;
    assert_eq!(status, 200, "{json}");
    let json_body = serde_json::to_vec(
        &json!({"grant_type": "client_credentials", "client_id": M2M, "client_secret": M2M_SECRET}),
    )
    .unwrap();
    for (content_type, body) in [
        ("application/json", json_body),
        ("text/plain", cc.clone().into_bytes()),
        ("multipart/form-data; boundary=x", cc.clone().into_bytes()),
        ("", cc.clone().into_bytes()),
    ] {
        let (status, _, json) = raw_token(&base, content_type, body, None).await;
        assert_eq!(
            (status.as_u16(), json["error"].as_str()),
            (400, Some("invalid_request")),
            "{content_type:?}"
        );
    }
    for garbage in [
        b"\xff\xfe\xfd\x00\x01".to_vec(),
        b"%%%%&&&====".to_vec(),
        b"grant_type".to_vec(),
        b"=&=&=".to_vec(),
        vec![b'&'; 10_000],
    ] {
        let (status, _, json) =
            raw_token(&base, FORM, garbage.clone(), Some((M2M, M2M_SECRET))).await;
        assert_eq!(
            (status.as_u16(), json["error"].as_str()),
            (400, Some("invalid_request")),
            "{:?}",
            String::from_utf8_lossy(&garbage)
        );
        // Without credentials the request is first of all unauthenticated (RFC 6749
        // section 5.2: "no client authentication included" is invalid_client).
        let (status, _, json) = raw_token(&base, FORM, garbage.clone(), None).await;
        assert_eq!(status, 400);
        assert!(
            matches!(
                json["error"].as_str(),
                Some("invalid_request" | "invalid_client")
            ),
            "{json}"
        );
    }
    // Non-UTF-8 in values: a clean error.
    let (status, _, json) = raw_token(
        &base,
        FORM,
        b"grant_type=client_credentials&scope=%FF%FE\xff".to_vec(),
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(
        (status.as_u16(), json["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let r = client
        .post(format!("{base}/oauth2/token"))
        .header("content-type", FORM)
        .header("authorization", b"Basic \xff\xfe".as_slice())
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "an unreadable Authorization header authenticates nobody"
    );
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    let r = client
        .post(format!("{base}/oauth2/token"))
        .header("content-type", FORM)
        .header("authorization", "Basic !!!not-base64!!!")
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "malformed Basic credentials");
    let r = client
        .get(format!("{base}/oauth2/userInfo"))
        .header("authorization", b"Bearer \xff\xfe".as_slice())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // The authorization endpoint and the hosted pages with junk: never a 500.
    for query in [
        "client_id=%FF%FE&redirect_uri=%C0%AF",
        "client_id=\u{0}&response_type=%00",
        &format!("client_id={SPA}&client_id={SPA}&redirect_uri={SPA_CALLBACK}&response_type=code"),
        "%%%%",
        "=&=&=",
    ] {
        let page = get(&client, &format!("{base}/oauth2/authorize?{query}")).await;
        assert_eq!(page.status, 400, "{query}: {}", page.body);
        assert!(page.location.is_none(), "{query}: {:?}", page.location);
    }
    for path in [
        "/login?flow=%FF",
        "/login?flow=../../etc",
        "/signup?flow=x",
        "/logout?client_id=%FF",
    ] {
        let page = get(&client, &format!("{base}{path}")).await;
        assert!(page.status.is_client_error(), "{path}: {}", page.status);
    }

    // Huge and non-UTF-8 usernames at the login form: the same page as a wrong password.
    let browser = browser_client();
    let pkce = Pkce::new("junk");
    let flow = login_form(&browser, &base, &spa_authorize(&base, &pkce, "n")).await;
    let huge = "u".repeat(100_000);
    for username in [
        huge.as_str(),
        "\u{0}\u{1}",
        "\u{202e}alice",
        "alice\u{fffd}",
    ] {
        let page = attempt(&browser, &base, &flow, username, "Wrong-horse-1", None).await;
        assert_eq!(page.status, 200, "{}", &username[..username.len().min(20)]);
        assert!(page.body.contains("Incorrect username or password."));
    }
    let raw = format!(
        "flow={}&_csrf={}&username=%FF%FEalice&password=%FF",
        flow.0, flow.1
    );
    let page = read(
        browser
            .post(format!("{base}/login"))
            .header("content-type", FORM)
            .body(raw)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let page = attempt(&browser, &base, &flow, "alice", PASSWORD, None).await;
    assert_signed_in(&page, "corrected");
    server.stop().await;
}
