//! What is refused and creates no user: an expired upstream flow, forged, replayed and
//! cross-browser callbacks, a flow answered by another IdP, bad ID tokens, an upstream
//! refusal or timeout; and the fake IdP's own strictness (wrong verifier, wrong secret).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::support::fake_oidc::{Bendable, ClientAuth, FakeOidc, TokenMode};
use crate::support::federated::{assert_failed_page, callback, fake_code, param};
use crate::support::server::browser_client;

use super::{env, rp, sign_in, via_idp, CALLBACK, CLIENT, POOL, VERIFIER};

/// The upstream flow expires after 10 minutes (time injected into the core).
#[tokio::test]
async fn an_expired_upstream_flow_is_refused() {
    use cognate::federation::flow::{Federation, FederationError};
    use cognate::federation::http::{HttpSettings, IdpHttp};
    use cognate::federation::oauth::flow::{CallbackParams, CallbackRoute};
    let env = env().await;
    let node = &env.server.node;
    let federation = Federation::new(
        node.directory.clone(),
        node.master.clone(),
        IdpHttp::new(HttpSettings::default()),
        node.config.public_url(),
        node.sp_keys.clone(),
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
        max_age: None,
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
    // Google's own callback: the pool has two providers, so the bare one is refused.
    let google = CallbackRoute::Provider {
        pool_id: POOL.into(),
        provider: "Google".into(),
    };
    let late = federation
        .callback(
            &params(&started.state),
            &google,
            Some("browser-cookie"),
            &Default::default(),
            now + 601,
        )
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
        .callback(
            &params(&started.state),
            &google,
            Some("browser-cookie"),
            &Default::default(),
            now + 599,
        )
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
    // Each provider answers at its own callback (two providers in the pool).
    let base = format!("{}/oauth2/idpresponse/{POOL}/Google", env.server.base);
    assert!(
        okta_back.starts_with(&format!(
            "{}/oauth2/idpresponse/{POOL}/Okta?",
            env.server.base
        )),
        "{okta_back}"
    );

    // Okta's code delivered into a Google flow at Google's callback: Google's token
    // endpoint refuses it.
    let google_back = via_idp(&browser, &env, "Google").await;
    assert!(
        google_back.starts_with(&format!("{base}?")),
        "{google_back}"
    );
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
