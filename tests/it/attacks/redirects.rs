//! The authorization endpoint: untrusted clients and redirect URIs get an error page, never a
//! redirect; PKCE, scopes, response types and `prompt`; `/logout`.

use super::*;

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

/// The parameters of a redirect's fragment (the implicit flow's answer, RFC 6749 section
/// 4.2.2).
fn fragment_params(location: &str) -> std::collections::BTreeMap<String, String> {
    let (_, fragment) = location
        .split_once('#')
        .unwrap_or_else(|| panic!("no fragment: {location}"));
    url::form_urlencoded::parse(fragment.as_bytes())
        .into_owned()
        .collect()
}

/// The refusal above, corrected: a client that enables the implicit flow gets its tokens
/// in the fragment (never the query), with the state and `iss`; the ID token echoes the
/// nonce OIDC Core 3.2.2.1 requires, and carries `at_hash` (3.2.2.10). No refresh token
/// (RFC 6749 section 4.2.2).
#[tokio::test]
async fn implicit_flow_returns_tokens_in_the_fragment_for_a_client_that_enables_it() {
    use crate::claims::{IMPLICIT, IMPLICIT_CALLBACK};
    let server = start().await;
    let base = server.base.clone();
    let alice = rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let implicit = |scope: &str, nonce: Option<&str>| {
        let mut params = vec![
            ("response_type", "token"),
            ("client_id", IMPLICIT),
            ("redirect_uri", IMPLICIT_CALLBACK),
            ("scope", scope),
            ("state", "imp"),
        ];
        params.extend(nonce.map(|n| ("nonce", n)));
        authorize_url(&base, &params)
    };

    // Without a nonce, the openid scope is refused, in the fragment.
    let refused = get(&browser, &implicit("openid email", None)).await;
    let location = refused.location.expect("an error redirect");
    assert!(location.starts_with(IMPLICIT_CALLBACK), "{location}");
    assert_eq!(query_param(&location, "error"), None, "{location}");
    let error = fragment_params(&location);
    assert_eq!(error["error"], "invalid_request", "{location}");
    assert_eq!(error["state"], "imp");
    assert!(!error.contains_key("access_token"));

    let issuer = format!("{base}/{POOL}");
    let location = crate::support::server::sign_in(
        &browser,
        &base,
        &implicit("openid email profile", Some("n-implicit")),
        "alice",
        PASSWORD,
    )
    .await
    .unwrap_or_else(|page| panic!("implicit sign-in: {page}"));
    assert!(location.starts_with(IMPLICIT_CALLBACK), "{location}");
    let url = url::Url::parse(&location).unwrap();
    assert_eq!(url.query(), None, "nothing in the query: {location}");
    let answer = fragment_params(&location);
    assert_eq!(answer["token_type"], "Bearer");
    assert_eq!(answer["expires_in"], "1200");
    assert_eq!(answer["state"], "imp");
    assert_eq!(answer["iss"], issuer);
    assert!(!answer.contains_key("code"), "{location}");
    assert!(!answer.contains_key("refresh_token"), "{location}");
    let access_token = &answer["access_token"];
    let id = claims_of(&answer["id_token"]);
    assert_eq!(id["nonce"], "n-implicit");
    assert_eq!(id["aud"], IMPLICIT);
    assert_eq!(id["iss"], issuer.as_str());
    assert_eq!(id["sub"], alice.sub.as_str());
    assert_eq!(id["email"], "alice@example.com");
    let digest = <sha2::Sha256 as sha2::Digest>::digest(access_token.as_bytes());
    assert_eq!(
        id["at_hash"],
        URL_SAFE_NO_PAD.encode(&digest[..16]).as_str()
    );
    let access = claims_of(access_token);
    assert_eq!(access["client_id"], IMPLICIT);
    assert_eq!(access["token_use"], "access");
    let (status, _, body) = userinfo(&base, access_token).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("alice@example.com"), "{body}");

    // With the session, and without openid (so no nonce is needed): only an access token.
    let silent = get(&browser, &implicit("aws.cognito.signin.user.admin", None)).await;
    let location = silent.location.expect("a redirect");
    let answer = fragment_params(&location);
    assert!(answer.contains_key("access_token"), "{location}");
    assert!(!answer.contains_key("id_token"), "{location}");
    assert_eq!(answer["state"], "imp");
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
    // The state comes back exactly, whatever it holds.
    let odd_state = "a b&c=d#e/?\u{fc}%25+";
    let odd = get(
        &browser,
        &authorize_url(
            &base,
            &[
                ("response_type", "code"),
                ("client_id", SPA),
                ("redirect_uri", SPA_CALLBACK),
                ("scope", "openid"),
                ("state", odd_state),
                ("code_challenge", pkce.challenge.as_str()),
                ("code_challenge_method", "S256"),
            ],
        ),
    )
    .await;
    let location = odd.location.expect("a redirect");
    assert_eq!(query_param(&location, "state").as_deref(), Some(odd_state));
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
        .find(|c| c.starts_with("cognate_session_"))
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

    // Cognito's "sign out and sign in again": with response_type and redirect_uri instead
    // of logout_uri, the session ends and the login page follows.
    let flow = login_form(&browser, &base, &authorize).await;
    let again = attempt(&browser, &base, &flow, "alice", PASSWORD, None).await;
    assert_signed_in(&again, "signed in again");
    let mut relogin = url::Url::parse(&format!("{base}/logout")).unwrap();
    relogin
        .query_pairs_mut()
        .append_pair("client_id", SPA)
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", SPA_CALLBACK)
        .append_pair("scope", "openid")
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    let to = get(&browser, relogin.as_str())
        .await
        .location
        .expect("a redirect to authorize");
    assert!(to.starts_with("/oauth2/authorize?"), "{to}");
    let login = get(&browser, &absolute(&base, &to)).await;
    assert!(
        login
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("/login?flow=")),
        "{:?}",
        login.location
    );
    server.stop().await;
}
