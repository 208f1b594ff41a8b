//! The hosted UI's session: one sign-in serves every app client of its pool without the
//! form (Cognito's single sign-on across a pool's clients), `prompt=login` asks again, a
//! session never signs anyone in to another pool, and its cookie is HttpOnly, SameSite and,
//! behind an https public URL, Secure.

use reqwest::header::{COOKIE, SET_COOKIE};

use crate::claims::{
    authorize_url, claims_of, code_authorize, exchange, pools_toml, query_param, rich_user,
    secrets_env, start, Pkce, PASSWORD, POOL, READER, SPA, SPA_CALLBACK, STRINGS_POOL, STR_SPA,
};
use crate::support::server::{absolute, browser_client, hidden, page, sign_in, TestServer};

/// Where `authorize` sends `browser`: the redirect's Location.
async fn authorize(browser: &reqwest::Client, url: &str) -> String {
    let r = browser.get(url).send().await.unwrap();
    r.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect: {}", r.status()))
        .to_str()
        .unwrap()
        .to_string()
}

/// The login form was shown: the authorize request went to `/login`.
fn assert_form(location: &str, what: &str) {
    assert!(location.starts_with("/login?flow="), "{what}: {location}");
}

/// The client got a code at once: no form.
fn assert_code(location: &str, what: &str) -> String {
    assert!(location.starts_with(SPA_CALLBACK), "{what}: {location}");
    query_param(location, "code").unwrap_or_else(|| panic!("{what}: no code in {location}"))
}

#[tokio::test]
async fn a_session_signs_in_to_the_pools_other_clients_without_the_form() {
    let server = start().await;
    let base = server.base.clone();
    let alice = rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let spa = Pkce::new("sso-spa");
    let reader = Pkce::new("sso-reader");
    let reader_url = code_authorize(&base, READER, &reader, "n-reader");

    // No session yet: the second client shows the form too.
    assert_form(&authorize(&browser, &reader_url).await, "before sign-in");
    let first = sign_in(
        &browser,
        &base,
        &code_authorize(&base, SPA, &spa, "n-spa"),
        "alice",
        PASSWORD,
    )
    .await
    .unwrap_or_else(|page| panic!("sign-in: {page}"));
    let first = assert_code(&first, "the SPA's sign-in");
    let spa_tokens = exchange(&base, SPA, &first, &spa.verifier).await;
    let auth_time = claims_of(&spa_tokens.str("id_token"))["auth_time"].clone();

    // The pool's other client: a code straight away, for the same user and sign-in time.
    let code = assert_code(&authorize(&browser, &reader_url).await, "single sign-on");
    let tokens = exchange(&base, READER, &code, &reader.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let id = claims_of(&tokens.str("id_token"));
    assert_eq!(id["aud"], READER);
    assert_eq!(id["sub"], alice.sub.as_str());
    assert_eq!(id["nonce"], "n-reader");
    assert_eq!(id["auth_time"], auth_time);

    // prompt=login asks for the password again, session or not.
    let again = format!("{reader_url}&prompt=login");
    assert_form(&authorize(&browser, &again).await, "prompt=login");
    // Another browser has no session.
    assert_form(
        &authorize(&browser_client(), &reader_url).await,
        "another browser",
    );
    server.stop().await;
}

#[tokio::test]
async fn a_session_in_one_pool_does_not_sign_in_to_another_pools_client() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let other = rich_user(&server, STRINGS_POOL, "alice").await;
    let browser = browser_client();
    let spa = Pkce::new("pool-a");
    sign_in(
        &browser,
        &base,
        &code_authorize(&base, SPA, &spa, "n"),
        "alice",
        PASSWORD,
    )
    .await
    .unwrap_or_else(|page| panic!("sign-in to pool A: {page}"));
    let pool_a = code_authorize(&base, SPA, &Pkce::new("pool-a-again"), "n");
    assert_code(&authorize(&browser, &pool_a).await, "pool A's session");

    // Pool B's client (same username, another user): the form, not pool A's session.
    let pkce = Pkce::new("pool-b");
    let pool_b = authorize_url(
        &base,
        &[
            ("response_type", "code"),
            ("client_id", STR_SPA),
            ("redirect_uri", SPA_CALLBACK),
            ("scope", "openid email"),
            ("state", "st-1"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    );
    assert_form(
        &authorize(&browser, &pool_b).await,
        "pool B with A's session",
    );
    let prompt_none = format!("{pool_b}&prompt=none");
    let refused = authorize(&browser, &prompt_none).await;
    assert_eq!(
        query_param(&refused, "error").as_deref(),
        Some("login_required"),
        "{refused}"
    );

    // Signing in there with the form works, as pool B's own user.
    let location = sign_in(&browser, &base, &pool_b, "alice", PASSWORD)
        .await
        .unwrap_or_else(|page| panic!("sign-in to pool B: {page}"));
    let code = assert_code(&location, "pool B's sign-in");
    let tokens = exchange(&base, STR_SPA, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let id = claims_of(&tokens.str("id_token"));
    assert_eq!(id["sub"], other.sub.as_str());
    assert_eq!(id["iss"], format!("{base}/{STRINGS_POOL}").as_str());

    // Both sessions live side by side (a cookie each), and signing out of pool B leaves
    // pool A's.
    assert_code(&authorize(&browser, &pool_b).await, "pool B's session");
    assert_code(
        &authorize(&browser, &code_authorize(&base, SPA, &Pkce::new("a3"), "n")).await,
        "pool A's session beside pool B's",
    );
    let out = browser
        .get(format!("{base}/logout?client_id={STR_SPA}"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert_form(
        &authorize(&browser, &pool_b).await,
        "pool B after its sign-out",
    );
    assert_code(
        &authorize(&browser, &code_authorize(&base, SPA, &Pkce::new("a4"), "n")).await,
        "pool A's session after pool B's sign-out",
    );
    server.stop().await;
}

/// The `Set-Cookie` of `name` among a response's.
fn set_cookie(r: &reqwest::Response, name: &str) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie set: {:?}", r.headers()))
}

/// A cookie's attributes, lowercased (`httponly`, `samesite=lax`...).
fn attributes(cookie: &str) -> Vec<String> {
    cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

/// `name=value` of a `Set-Cookie`, to send back.
fn pair(cookie: &str) -> String {
    cookie.split(';').next().unwrap().to_string()
}

/// Signs alice in by the form with a client that keeps no cookies (a cookie jar would not
/// send a Secure cookie over the test's plain http), carrying them by hand: the browser
/// cookie's and the session cookie's `Set-Cookie`.
/// `prefix` is `__Host-` behind an https public URL, else empty.
async fn cookies_of_a_sign_in(server: &TestServer, prefix: &str) -> (String, String) {
    let base = &server.base;
    let http = crate::support::http();
    let url = code_authorize(base, SPA, &Pkce::new("cookies"), "n");
    let r = http.get(&url).send().await.unwrap();
    let browser = set_cookie(&r, &format!("{prefix}cognate_browser"));
    let login = r.headers()["location"].to_str().unwrap().to_string();
    assert_form(&login, "sign-in");
    let form = http
        .get(absolute(base, &login))
        .header(COOKIE, pair(&browser))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = http
        .post(format!("{base}/login"))
        .header(COOKIE, pair(&browser))
        .form(&[
            ("flow", hidden(&form, "flow").expect("flow").as_str()),
            ("_csrf", hidden(&form, "_csrf").expect("_csrf").as_str()),
            ("username", "alice"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let session = set_cookie(&r, &format!("{prefix}cognate_session_{POOL}"));
    assert_code(r.headers()["location"].to_str().unwrap(), "sign-in");

    // The session cookie is the session: sent back, it answers without the form.
    let r = http
        .get(&url)
        .header(COOKIE, pair(&session))
        .send()
        .await
        .unwrap();
    assert_code(r.headers()["location"].to_str().unwrap(), "the session");
    (browser, session)
}

#[tokio::test]
async fn session_cookies_are_http_only_same_site_and_secure_behind_an_https_public_url() {
    // Served on 127.0.0.1 over http, published as https (a TLS terminator in front).
    let public = "https://auth.example.com";
    let mut env = secrets_env();
    env.push(("COGNATE_PUBLIC_URL".into(), public.into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = TestServer::start_with(&pools_toml(), "", &env).await;
    rich_user(&server, POOL, "alice").await;
    let (browser, session) = cookies_of_a_sign_in(&server, "__Host-").await;
    for cookie in [&browser, &session] {
        let attributes = attributes(cookie);
        for wanted in ["httponly", "samesite=lax", "secure", "path=/"] {
            assert!(attributes.iter().any(|a| a == wanted), "{wanted}: {cookie}");
        }
        // `__Host-` (RFC 6265bis section 4.1.3.2): no Domain, so no sibling subdomain
        // shares, plants or overwrites it.
        assert!(cookie.starts_with("__Host-"), "{cookie}");
        assert!(
            !attributes.iter().any(|a| a.starts_with("domain")),
            "{cookie}"
        );
    }
    // The same values under the plain names (which a sibling subdomain or a plain-http
    // page could set) are not read: no session, and the sign-in form again.
    let unprefixed = |c: &str| pair(c).trim_start_matches("__Host-").to_string();
    let url = code_authorize(&server.base, SPA, &Pkce::new("plain"), "n");
    let r = crate::support::http()
        .get(&url)
        .header(
            COOKIE,
            format!("{}; {}", unprefixed(&browser), unprefixed(&session)),
        )
        .send()
        .await
        .unwrap();
    assert_form(
        r.headers()["location"].to_str().unwrap(),
        "plain-named cookies",
    );
    assert!(
        r.headers()
            .get_all(SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("__Host-cognate_browser=")),
        "a new browser cookie is issued: {:?}",
        r.headers()
    );
    // The session outlives the browser's session (Cognito keeps it an hour); the flow's
    // browser binding does not.
    assert!(
        attributes(&session)
            .iter()
            .any(|a| a.starts_with("max-age=")),
        "{session}"
    );
    // The issuer is the public URL.
    let discovery = page(
        &crate::support::http(),
        &format!("{}/{POOL}/.well-known/openid-configuration", server.base),
    )
    .await;
    assert!(
        discovery.contains(&format!("\"{public}/{POOL}\"")),
        "{discovery}"
    );
    server.stop().await;

    // Published as http: the same cookies, without Secure (a browser would drop them).
    let server = start().await;
    rich_user(&server, POOL, "alice").await;
    let (browser, session) = cookies_of_a_sign_in(&server, "").await;
    for cookie in [&browser, &session] {
        let attributes = attributes(cookie);
        assert!(!attributes.iter().any(|a| a == "secure"), "{cookie}");
        assert!(!cookie.starts_with("__Host-"), "{cookie}");
        for wanted in ["httponly", "samesite=lax"] {
            assert!(attributes.iter().any(|a| a == wanted), "{wanted}: {cookie}");
        }
    }
    server.stop().await;
}
