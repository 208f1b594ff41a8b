//! Federated sign-in through OpenID Connect IdPs, end to end and browserless: Cognate's
//! `/oauth2/authorize` sends the browser to a fake IdP (its own RSA key, discovery, JWKS,
//! a strict token endpoint), which answers at `/oauth2/idpresponse`; the client then
//! redeems Cognate's code. Every attack is paired with the corrected flow succeeding,
//! and none of them creates a user.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::fake_oidc::{Bendable, ClientAuth, FakeOidc, TokenMode};
use crate::support::federated::{
    self, assert_failed_page, at_idp, callback, fake_code, fake_google, google_idp, location,
    login_page, oidc_idp, param, payload, through_idp, Client, Outcome, GOOGLE_SECRET_ENV,
};
use crate::support::server::{absolute, browser_client, TestServer};

const POOL: &str = "us-east-1_FederTst1";
const CLIENT: &str = "fedweb00000000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "federation-test-verifier-0123456789-abcdefghijklmnop";
/// The pool's second client: Google only (not Okta, not the pool's own users).
const GOOGLE_ONLY: &str = "fedweb00000000000000000002";

struct Env {
    server: TestServer,
    google: FakeOidc,
    okta: FakeOidc,
}

/// The pool's client, which also sends a nonce.
fn rp() -> Client {
    Client::new(CLIENT, CALLBACK, VERIFIER).with_nonce("client-nonce")
}

/// [`GOOGLE_ONLY`], which also sends a nonce.
fn google_only() -> Client {
    Client::new(GOOGLE_ONLY, CALLBACK, VERIFIER).with_nonce("client-nonce")
}

/// A pool with `Google` (the google preset, every endpoint pointed at a fake; the preset
/// authenticates with client_secret_post) and `Okta` (the oidc preset: discovery,
/// client_secret_basic, userinfo); its client [`CLIENT`] enables both and the pool's own
/// users, [`GOOGLE_ONLY`] only Google.
async fn env() -> Env {
    let google = fake_google().await;
    let okta = FakeOidc::start("okta-client", "okta s3cret:&", ClientAuth::Basic).await;
    let okta_idp = oidc_idp(
        "Okta",
        "okta-client",
        "FED_OKTA_SECRET",
        &okta.issuer,
        "display_name = \"Okta\"",
    );
    let google_only = format!(
        r#"
[[pools.clients]]
id = "{GOOGLE_ONLY}"
name = "google only"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
supported_identity_providers = ["Google"]
"#
    );
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Federation tests\"\n{}{okta_idp}{}{google_only}",
        google_idp(&google.issuer),
        rp().toml(&["Google", "Okta"]),
    );
    let server = TestServer::start_with(
        &pools,
        "idp_timeout_secs = 2",
        &[GOOGLE_SECRET_ENV, ("FED_OKTA_SECRET", "okta s3cret:&")],
    )
    .await;
    google.set_user(
        "g-alice",
        json!({"email": "alice@example.com", "email_verified": true, "name": "Alice"}),
    );
    okta.set_user(
        "o-bob",
        json!({"email": "bob@corp.example", "email_verified": true, "name": "Bob"}),
    );
    Env {
        server,
        google,
        okta,
    }
}

/// Cognate's authorization request for the pool's client, naming `idp` if any.
fn authorize_url(base: &str, idp: Option<&str>) -> String {
    rp().authorize_url(base, idp.map(|idp| ("identity_provider", idp)).as_slice())
}

/// Authorize at Cognate with `identity_provider`, then at the fake IdP: the URL the IdP
/// sends the browser back to (Cognate's `/oauth2/idpresponse?code=..&state=..`).
async fn via_idp(browser: &reqwest::Client, env: &Env, idp: &str) -> String {
    through_idp(browser, &authorize_url(&env.server.base, Some(idp))).await
}

/// A whole sign-in through `idp` in a fresh browser; the client's redirect.
async fn sign_in(env: &Env, idp: &str) -> Outcome {
    federated::sign_in(&authorize_url(&env.server.base, Some(idp))).await
}

async fn redeem(env: &Env, redirect: &str) -> Value {
    rp().tokens(&env.server.base, redirect).await
}

async fn id_token(env: &Env, redirect: &str) -> Value {
    rp().id_token(&env.server.base, redirect).await
}

#[tokio::test]
async fn identity_provider_shortcut_signs_in_creates_and_then_updates_the_user() {
    let env = env().await;
    let redirect = sign_in(&env, "Google").await.expect("signed in");
    let tokens = redeem(&env, &redirect).await;
    let id = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "Google_g-alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Alice");
    assert_eq!(id["nonce"], "client-nonce");
    let group = format!("{POOL}_Google");
    assert_eq!(id["cognito:groups"], json!([group]));
    let identities = id["identities"].as_array().expect("identities claim");
    assert_eq!(identities.len(), 1);
    let first = &identities[0];
    assert_eq!(first["userId"], "g-alice");
    assert_eq!(first["providerName"], "Google");
    assert_eq!(first["providerType"], "Google");
    assert_eq!(first["issuer"], Value::Null);
    assert_eq!(first["primary"], "true");
    assert!(first["dateCreated"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .is_ok());

    let stored = env
        .server
        .find_user(POOL, "Google_g-alice")
        .await
        .expect("the user");
    assert_eq!(stored.status.as_str(), "EXTERNAL_PROVIDER");
    assert!(stored.password_hash.is_none());
    let groups = env
        .server
        .node
        .store
        .groups_of_user(POOL, &stored.sub)
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, group);

    // A later sign-in updates the mapped attributes of the same user.
    env.google.set_user(
        "g-alice",
        json!({"email": "alice@example.com", "email_verified": true, "name": "Alice Liddell"}),
    );
    let redirect = sign_in(&env, "Google").await.expect("signed in again");
    let id = id_token(&env, &redirect).await;
    assert_eq!(id["name"], "Alice Liddell");
    assert_eq!(env.server.user_count(POOL).await, 1);
    let again = env.server.find_user(POOL, "Google_g-alice").await.unwrap();
    assert_eq!(again.sub, stored.sub);
    assert_eq!(again.attribute("name"), Some("Alice Liddell"));

    // The enterprise IdP (discovery, client_secret_basic with a secret that needs
    // encoding, userinfo) signs in too; its identity carries the issuer.
    let redirect = sign_in(&env, "Okta").await.expect("signed in with Okta");
    let id = id_token(&env, &redirect).await;
    assert_eq!(id["cognito:username"], "Okta_o-bob");
    assert_eq!(id["email"], "bob@corp.example");
    assert_eq!(id["identities"][0]["providerType"], "OIDC");
    assert_eq!(id["identities"][0]["issuer"], json!(env.okta.issuer));

    // A disabled user cannot sign in through the IdP either.
    let pool = env.server.pool(POOL).await;
    let now = cognate::core::now();
    let directory = &env.server.node.directory;
    directory
        .set_enabled(&pool, &stored.sub, false, now)
        .await
        .unwrap();
    match sign_in(&env, "Google").await {
        Err((403, page)) => {
            assert!(page.contains("disabled"), "{page}");
            rp().assert_back_to_client(&page, "access_denied", "disabled");
        }
        other => panic!("a disabled user signed in: {other:?}"),
    }
    directory
        .set_enabled(&pool, &stored.sub, true, now)
        .await
        .unwrap();
    sign_in(&env, "Google").await.expect("enabled again");
}

/// The upstream flow expires after 10 minutes (time injected into the core).
#[tokio::test]
async fn an_expired_upstream_flow_is_refused() {
    use cognate::federation::flow::{Federation, FederationError};
    use cognate::federation::http::{HttpSettings, IdpHttp};
    use cognate::federation::oauth::flow::CallbackParams;
    let env = env().await;
    let node = &env.server.node;
    let federation = Federation::new(
        node.directory.clone(),
        node.master.clone(),
        IdpHttp::new(HttpSettings::default()),
        node.config.public_url(),
    );
    let pool = env.server.pool(POOL).await;
    let request = cognate::core::oauth::authorize::AuthorizeRequest {
        pool_id: POOL.into(),
        client_id: CLIENT.into(),
        redirect_uri: CALLBACK.into(),
        response_type: cognate::core::oauth::authorize::ResponseType::Code,
        scopes: vec!["openid".into()],
        state: None,
        nonce: None,
        code_challenge: None,
        prompt: Default::default(),
        login_hint: Some("alice@example.com".into()),
        identity_provider: Some("Google".into()),
        idp_identifier: None,
        lang: None,
    };
    let now = 1_800_000_000;
    let start = |request| federation.start(&pool, "Google", request, "browser-cookie", None, now);
    let started = start(request.clone()).await.unwrap();
    assert_eq!(
        param(&started.url, "login_hint").as_deref(),
        Some("alice@example.com")
    );
    let params = |state: &str| CallbackParams {
        state: Some(state.to_string()),
        ..CallbackParams::default()
    };
    let late = federation
        .callback(&params(&started.state), Some("browser-cookie"), now + 601)
        .await
        .unwrap_err();
    assert!(
        matches!(late.error, FederationError::UnknownState),
        "{:?}",
        late.error
    );
    // Within the ten minutes the same flow is found (and fails only for want of a code).
    let started = start(request).await.unwrap();
    let in_time = federation
        .callback(&params(&started.state), Some("browser-cookie"), now + 599)
        .await
        .unwrap_err();
    assert!(
        matches!(in_time.error, FederationError::MissingCode),
        "{:?}",
        in_time.error
    );
    assert_eq!(env.server.user_count(POOL).await, 0);
}

#[tokio::test]
async fn the_login_page_button_leads_through_the_idp() {
    let env = env().await;
    let browser = browser_client();
    let (login, page) = login_page(
        &browser,
        &env.server.base,
        &authorize_url(&env.server.base, None),
    )
    .await;
    // minijinja escapes `/` and `&` in attributes.
    let page = page.replace("&#x2f;", "/");
    let start = page
        .find("href=\"/oauth2/idp?")
        .unwrap_or_else(|| panic!("no provider button: {page}"))
        + 6;
    let href = page[start..start + page[start..].find('"').unwrap()].replace("&amp;", "&");
    assert!(href.ends_with("provider=Google"), "{href}");
    assert!(page.contains("provider=Okta"));
    let r = browser
        .get(absolute(&env.server.base, &href))
        .send()
        .await
        .unwrap();
    let upstream = location(&r);
    assert!(upstream.starts_with(&env.google.issuer), "{upstream}");
    assert_eq!(param(&upstream, "hd"), None);
    assert_eq!(
        param(&upstream, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let back = at_idp(&browser, &upstream).await;
    let redirect = callback(&browser, &back).await.expect("signed in");
    let id = id_token(&env, &redirect).await;
    assert_eq!(id["cognito:username"], "Google_g-alice");
    // The login flow was consumed with the sign-in.
    let again = browser.get(&login).send().await.unwrap();
    assert_eq!(again.status(), 400);
}

#[tokio::test]
async fn forged_replayed_and_cross_browser_callbacks_are_refused() {
    let env = env().await;
    let browser = browser_client();

    // Missing and wrong state.
    let back = via_idp(&browser, &env, "Google").await;
    let state = param(&back, "state").unwrap();
    let code = param(&back, "code").unwrap();
    let base = format!("{}/oauth2/idpresponse", env.server.base);
    let no_state = format!("{base}?code={code}");
    assert_failed_page(callback(&browser, &no_state).await, "missing state");
    let wrong = format!("{base}?code={code}&state=x{state}");
    assert_failed_page(callback(&browser, &wrong).await, "wrong state");
    // Another browser cannot use this browser's callback (login CSRF / code injection),
    // nor spend the attempt for its owner.
    assert_failed_page(callback(&browser_client(), &back).await, "other browser");
    assert_eq!(env.server.user_count(POOL).await, 0);

    // The right browser finishes that same attempt, once: replaying its callback fails.
    callback(&browser, &back).await.expect("the real callback");
    assert_failed_page(callback(&browser, &back).await, "replayed callback");
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn a_flow_started_for_one_idp_cannot_be_answered_by_another() {
    let env = env().await;
    let browser = browser_client();
    let okta_back = via_idp(&browser, &env, "Okta").await;
    let okta_code = param(&okta_back, "code").unwrap();
    let base = format!("{}/oauth2/idpresponse", env.server.base);

    // Okta's code delivered into a Google flow: Google's token endpoint refuses it.
    let google_back = via_idp(&browser, &env, "Google").await;
    let google_state = param(&google_back, "state").unwrap();
    let mixed = format!("{base}?code={okta_code}&state={google_state}");
    assert_failed_page(callback(&browser, &mixed).await, "code of another IdP");

    // With RFC 9207 `iss` naming the other IdP, refused before any exchange.
    let google_back = via_idp(&browser, &env, "Google").await;
    let google_state = param(&google_back, "state").unwrap();
    let before = env.google.token_requests();
    let mut mixed = url::Url::parse(&base).unwrap();
    mixed
        .query_pairs_mut()
        .append_pair("code", &okta_code)
        .append_pair("state", &google_state)
        .append_pair("iss", &env.okta.issuer);
    assert_failed_page(
        callback(&browser, mixed.as_str()).await,
        "iss of another IdP",
    );
    assert_eq!(env.google.token_requests(), before);
    assert_eq!(env.server.user_count(POOL).await, 0);

    // Each IdP's own answer, with its own `iss`, works.
    env.google.set_send_iss(true);
    let back = via_idp(&browser, &env, "Google").await;
    assert_eq!(
        param(&back, "iss").as_deref(),
        Some(env.google.issuer.as_str())
    );
    callback(&browser, &back)
        .await
        .expect("Google's own answer");
    callback(&browser, &okta_back)
        .await
        .expect("Okta's own answer");
    assert!(env.server.find_user(POOL, "Okta_o-bob").await.is_some());
    assert_eq!(env.server.user_count(POOL).await, 2);
}

#[tokio::test]
async fn bad_id_tokens_are_refused_and_create_no_user() {
    let env = env().await;
    let now = cognate::core::now();
    let cases: Vec<(&str, Value, TokenMode)> = vec![
        (
            "bad nonce",
            json!({"nonce": "not-the-flow-nonce"}),
            TokenMode::Normal,
        ),
        ("no nonce", json!({"nonce": null}), TokenMode::Normal),
        (
            "wrong aud",
            json!({"aud": "someone-else"}),
            TokenMode::Normal,
        ),
        (
            "wrong azp",
            json!({"aud": ["google-client", "x"], "azp": "x"}),
            TokenMode::Normal,
        ),
        (
            "wrong iss",
            json!({"iss": "https://evil.example"}),
            TokenMode::Normal,
        ),
        (
            "expired",
            json!({"exp": now - 600, "iat": now - 4200}),
            TokenMode::Normal,
        ),
        (
            "future iat",
            json!({"iat": now + 3600, "exp": now + 7200}),
            TokenMode::Normal,
        ),
        ("unknown kid", json!({}), TokenMode::UnknownKid),
        ("alg none", json!({}), TokenMode::AlgNone),
        (
            "HS256 over the public key",
            json!({}),
            TokenMode::Hs256PublicKey,
        ),
        ("garbage token response", json!({}), TokenMode::Garbage),
    ];
    for (k, (what, overrides, mode)) in cases.into_iter().enumerate() {
        let evil = format!("evil-{k}");
        env.google
            .set_user(&evil, json!({"email": "mallory@example.com"}));
        env.google.set_overrides(overrides);
        env.google.set_mode(mode);
        let started = Instant::now();
        let outcome = sign_in(&env, "Google").await;
        if let Err((_, page)) = &outcome {
            rp().assert_back_to_client(page, "server_error", what);
        }
        assert_failed_page(outcome, what);
        assert!(started.elapsed() < Duration::from_secs(5), "{what}");
        assert!(
            env.server
                .find_user(POOL, &format!("Google_{evil}"))
                .await
                .is_none(),
            "{what}"
        );
        assert_eq!(env.server.user_count(POOL).await, k as u64, "{what}");

        // The same attempt with an honest IdP succeeds.
        env.google.reset();
        let good = format!("good-{k}");
        env.google
            .set_user(&good, json!({"email": "good@example.com"}));
        sign_in(&env, "Google")
            .await
            .unwrap_or_else(|e| panic!("{what}: corrected flow failed: {e:?}"));
        assert!(
            env.server
                .find_user(POOL, &format!("Google_{good}"))
                .await
                .is_some(),
            "{what}"
        );
    }
}

#[tokio::test]
async fn upstream_refusal_and_timeout() {
    let env = env().await;
    // The user declines at the IdP: the client hears access_denied on its redirect URI.
    env.google.set_authorize_error(Some("access_denied"));
    let redirect = sign_in(&env, "Google")
        .await
        .expect("an OAuth error redirect");
    rp().assert_error(&redirect, "access_denied");
    assert_eq!(env.server.user_count(POOL).await, 0);

    // A token endpoint that never answers costs at most the configured 2 s.
    env.google.reset();
    env.google.set_mode(TokenMode::Hang);
    let started = Instant::now();
    assert_failed_page(sign_in(&env, "Google").await, "hanging IdP");
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert_eq!(env.server.user_count(POOL).await, 0);

    env.google.reset();
    let redirect = sign_in(&env, "Google").await.expect("the corrected flow");
    assert!(param(&redirect, "code").is_some());
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn the_fake_idp_refuses_a_wrong_verifier_and_a_wrong_secret() {
    let fake = FakeOidc::start("c", "right-secret", ClientAuth::Basic).await;
    let http = crate::support::http();
    let challenge = cognate::core::oauth::grants::pkce_challenge(VERIFIER);
    let code = || async {
        let params = [
            ("client_id", "c"),
            ("response_type", "code"),
            ("redirect_uri", "https://rp.example/cb"),
            ("state", "s"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        fake_code(&http, &fake.url("/authorize"), &params).await
    };
    let exchange = |code: String, secret: &'static str, verifier: &'static str| {
        let http = http.clone();
        let url = fake.url("/token");
        async move {
            http.post(url)
                .basic_auth("c", Some(secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", "https://rp.example/cb"),
                    ("code_verifier", verifier),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let c = code().await;
    assert_eq!(
        exchange(c, "right-secret", "wrong-verifier").await.status(),
        400
    );
    let c = code().await;
    assert_eq!(exchange(c, "wrong-secret", VERIFIER).await.status(), 401);
    let c = code().await;
    let ok = exchange(c.clone(), "right-secret", VERIFIER).await;
    assert_eq!(ok.status(), 200);
    // Codes are single use.
    assert_eq!(exchange(c, "right-secret", VERIFIER).await.status(), 400);
}

#[tokio::test]
async fn refresh_works_without_the_idp_and_stops_when_the_user_is_disabled() {
    let env = env().await;
    let redirect = sign_in(&env, "Google").await.expect("signed in");
    let tokens = redeem(&env, &redirect).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let Env { server, google, .. } = env;
    google.stop().await;
    let refresh = || {
        browser_client()
            .post(format!("{}/oauth2/token", server.base))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT),
                ("refresh_token", refresh_token.as_str()),
            ])
            .send()
    };
    let r = refresh().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        payload(body["id_token"].as_str().unwrap())["cognito:username"],
        "Google_g-alice"
    );

    let pool = server.pool(POOL).await;
    let user = server.find_user(POOL, "Google_g-alice").await.unwrap();
    server
        .node
        .directory
        .set_enabled(&pool, &user.sub, false, cognate::core::now())
        .await
        .unwrap();
    let r = refresh().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}

#[tokio::test]
async fn an_open_session_answers_identity_provider_unless_prompt_is_login() {
    let env = env().await;
    let browser = browser_client();
    let back = via_idp(&browser, &env, "Google").await;
    let first = callback(&browser, &back).await.expect("signed in");
    let google_user = id_token(&env, &first).await;

    // The session answers: no trip to Okta, the Google user again.
    let r = browser
        .get(authorize_url(&env.server.base, Some("Okta")))
        .send()
        .await
        .unwrap();
    let again = location(&r);
    assert!(again.starts_with(CALLBACK), "{again}");
    let id = id_token(&env, &again).await;
    assert_eq!(id["sub"], google_user["sub"]);
    assert_eq!(env.server.user_count(POOL).await, 1);

    // prompt=login goes to the provider anyway, and signs in its user.
    let with_prompt = format!(
        "{}&prompt=login",
        authorize_url(&env.server.base, Some("Okta"))
    );
    let r = browser.get(&with_prompt).send().await.unwrap();
    let upstream = location(&r);
    assert!(upstream.starts_with(&env.okta.issuer), "{upstream}");
    let back = at_idp(&browser, &upstream).await;
    let okta = callback(&browser, &back)
        .await
        .expect("signed in with Okta");
    let id = id_token(&env, &okta).await;
    assert_eq!(id["cognito:username"], "Okta_o-bob");
    assert_ne!(id["sub"], google_user["sub"]);
}

/// Cognito's `SupportedIdentityProviders`: a client signs in only through the IdPs it
/// enables. Another IdP of the pool is refused on `identity_provider` (to the client, on its
/// redirect URI) and on the sign-in page's `/oauth2/idp` (a page), the page offers only the
/// enabled IdP's button, and without `COGNITO` neither the password form nor
/// `identity_provider=COGNITO`.
#[tokio::test]
async fn a_client_signs_in_only_through_the_idps_it_enables() {
    let env = env().await;
    let base = env.server.base.clone();
    env.server.user(POOL, "carol", "Carol-pass-1").await;
    let only = google_only();
    let browser = browser_client();
    for idp in ["Okta", "COGNITO", "NoSuchIdp"] {
        let r = browser
            .get(only.authorize_url(&base, &[("identity_provider", idp)]))
            .send()
            .await
            .unwrap();
        only.assert_error(&location(&r), "invalid_request");
    }

    let (login, page) = login_page(&browser, &base, &only.authorize_url(&base, &[])).await;
    let page = page.replace("&#x2f;", "/");
    assert!(page.contains("provider=Google"), "{page}");
    assert!(!page.contains("provider=Okta"), "{page}");
    assert!(
        !page.contains("name=\"password\""),
        "a password form: {page}"
    );
    let flow = param(&login, "flow").expect("a flow");
    let button = |provider: &str| {
        let mut url = url::Url::parse(&format!("{base}/oauth2/idp")).unwrap();
        url.query_pairs_mut()
            .append_pair("flow", &flow)
            .append_pair("provider", provider);
        url.to_string()
    };
    for idp in ["Okta", "COGNITO", "NoSuchIdp"] {
        let r = browser.get(button(idp)).send().await.unwrap();
        let refused = federated::outcome(r).await;
        federated::assert_page(refused, 400, "not valid", idp);
    }
    // A password posted anyway (the form is not offered) signs nobody in.
    // The page has no form, so no CSRF token either: the attacker read it from the store.
    let stored = env.server.node.sessions.flow(&flow, cognate::core::now());
    let csrf = stored.await.unwrap().expect("the flow").csrf;
    let r = browser
        .post(format!("{base}/login"))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "carol"),
            ("password", "Carol-pass-1"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("set-cookie").is_none());
    federated::assert_page(federated::outcome(r).await, 400, "not valid", "password");
    assert_eq!(env.okta.token_requests(), 0);
    assert_eq!(env.server.user_count(POOL).await, 1);
    // Nor does it offer the pool's own account pages (sign-up, confirmation, reset), by
    // URL or by a posted form.
    const IDPS_ONLY: &str = "only through its identity providers";
    let pages = ["/signup", "/confirm", "/forgot-password", "/reset-password"];
    for path in pages {
        let r = browser
            .get(format!("{base}{path}?flow={flow}"))
            .send()
            .await
            .unwrap();
        federated::assert_page(federated::outcome(r).await, 403, IDPS_ONLY, path);
    }
    let r = browser
        .post(format!("{base}/forgot-password"))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "carol"),
        ])
        .send()
        .await
        .unwrap();
    federated::assert_page(federated::outcome(r).await, 403, IDPS_ONLY, "posted");
    // The pool's other client, which takes its own users, offers them.
    let (other, _) = login_page(&browser, &base, &rp().authorize_url(&base, &[])).await;
    let other_flow = param(&other, "flow").expect("a flow");
    for path in pages {
        let r = browser
            .get(format!("{base}{path}?flow={other_flow}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }

    // The enabled IdP: its button (the same flow) and `identity_provider` both sign in.
    let r = browser.get(button("Google")).send().await.unwrap();
    let upstream = location(&r);
    assert!(upstream.starts_with(&env.google.issuer), "{upstream}");
    let back = at_idp(&browser, &upstream).await;
    let redirect = callback(&browser, &back).await.expect("signed in");
    let id = only.id_token(&base, &redirect).await;
    assert_eq!(id["aud"], GOOGLE_ONLY);
    assert_eq!(id["cognito:username"], "Google_g-alice");
    let direct = only.authorize_url(&base, &[("identity_provider", "Google")]);
    let redirect = federated::sign_in(&direct)
        .await
        .expect("identity_provider");
    only.id_token(&base, &redirect).await;
    // The pool's client that enables Okta and the pool's own users still has both.
    let redirect = sign_in(&env, "Okta")
        .await
        .expect("Okta for the other client");
    assert_eq!(id_token(&env, &redirect).await["aud"], CLIENT);
    assert_eq!(env.server.user_count(POOL).await, 3);
}

/// `identity_provider=COGNITO` is the pool's own sign-in page (Cognito), buttons included,
/// and its password form signs the pool's user in.
#[tokio::test]
async fn identity_provider_cognito_shows_the_pools_own_sign_in() {
    let env = env().await;
    let base = env.server.base.clone();
    let carol = env.server.user(POOL, "carol", "Carol-pass-1").await;
    let browser = browser_client();
    let url = authorize_url(&base, Some("COGNITO"));
    let (_, page) = login_page(&browser, &base, &url).await;
    assert!(
        page.contains("name=\"password\""),
        "no password form: {page}"
    );
    let page = page.replace("&#x2f;", "/");
    assert!(page.contains("provider=Google") && page.contains("provider=Okta"));
    let redirect = crate::support::server::sign_in(&browser, &base, &url, "carol", "Carol-pass-1")
        .await
        .unwrap_or_else(|page| panic!("password sign-in: {page}"));
    let id = id_token(&env, &redirect).await;
    assert_eq!(id["sub"], carol.sub.as_str());
    assert_eq!(id["cognito:username"], "carol");
    assert!(id.get("identities").is_none(), "{id}");
    assert_eq!(env.google.token_requests() + env.okta.token_requests(), 0);
}

/// A session answers a client only when it was signed in a way the client takes: a
/// password session does not enter a client of Google alone (its form or IdP is shown,
/// and `prompt=none` is `login_required`), even for a user linked to a Google identity,
/// while a Google session does.
#[tokio::test]
async fn a_session_answers_only_clients_that_take_its_users_way_in() {
    let env = env().await;
    let base = env.server.base.clone();
    let carol = env.server.user(POOL, "carol", "Carol-pass-1").await;
    // Carol also has a Google identity linked (as `cognate users link` makes).
    let pool = env.server.pool(POOL).await;
    env.server
        .node
        .directory
        .modify_user(&pool, &carol.sub, |u| {
            u.identities.push(cognate::core::model::FederatedIdentity {
                provider_name: "Google".into(),
                provider_type: "Google".into(),
                user_id: "g-carol".into(),
                issuer: None,
                attributes: Default::default(),
                linked_at: cognate::core::now(),
            });
            Ok(())
        })
        .await
        .expect("link");
    let only = google_only();
    let browser = browser_client();
    let redirect = crate::support::server::sign_in(
        &browser,
        &base,
        &rp().authorize_url(&base, &[]),
        "carol",
        "Carol-pass-1",
    )
    .await
    .expect("password sign-in");
    assert_eq!(id_token(&env, &redirect).await["cognito:username"], "carol");
    let authorize = |url: String| {
        let browser = browser.clone();
        async move { location(&browser.get(url).send().await.unwrap()) }
    };
    let with_code = |url: &str| url.starts_with(CALLBACK) && param(url, "code").is_some();

    // The password session answers the client that takes passwords...
    let again = authorize(rp().authorize_url(&base, &[("prompt", "none")])).await;
    assert!(with_code(&again), "{again}");
    // ...but not the client of Google alone.
    let silent = authorize(only.authorize_url(&base, &[("prompt", "none")])).await;
    only.assert_error(&silent, "login_required");
    let shown = authorize(only.authorize_url(&base, &[])).await;
    assert!(shown.starts_with("/login"), "{shown}");
    let to_google = authorize(only.authorize_url(&base, &[("identity_provider", "Google")])).await;
    assert!(to_google.starts_with(&env.google.issuer), "{to_google}");

    // Signed in through Google there, the Google session answers both clients.
    let back = at_idp(&browser, &to_google).await;
    let redirect = callback(&browser, &back).await.expect("Google sign-in");
    assert_eq!(
        only.id_token(&base, &redirect).await["cognito:username"],
        "Google_g-alice"
    );
    let silent = authorize(only.authorize_url(&base, &[("prompt", "none")])).await;
    assert!(with_code(&silent), "{silent}");
    let both = authorize(rp().authorize_url(&base, &[("prompt", "none")])).await;
    assert!(with_code(&both), "{both}");
    assert_eq!(
        id_token(&env, &both).await["cognito:username"],
        "Google_g-alice"
    );
}
