//! Attacks on Sign in with Apple: bad ID tokens (each refused, then the honest flow
//! succeeds), a forged posted `id_token`, Apple's error answers (which reach the client as
//! RFC 6749 errors) and form_posts that answer no form_post flow. None creates a user.

use super::*;

#[tokio::test]
async fn bad_id_tokens_are_refused_and_create_no_user() {
    let env = env().await;
    let now = cognate::core::now();
    let cases: Vec<(&str, Value, TokenMode)> = vec![
        (
            "wrong iss",
            json!({"iss": "https://appleid.apple.com.evil.example"}),
            TokenMode::Normal,
        ),
        (
            "wrong aud (another Services ID)",
            json!({"aud": "com.example.other"}),
            TokenMode::Normal,
        ),
        (
            "expired exp",
            json!({"exp": now - 600, "iat": now - 1200}),
            TokenMode::Normal,
        ),
        (
            "future iat",
            json!({"iat": now + 3600, "exp": now + 4200}),
            TokenMode::Normal,
        ),
        (
            "bad nonce",
            json!({"nonce": "not-the-flow-nonce"}),
            TokenMode::Normal,
        ),
        ("no nonce", json!({"nonce": null}), TokenMode::Normal),
        ("unknown kid", json!({}), TokenMode::UnknownKid),
        ("alg none", json!({}), TokenMode::AlgNone),
        (
            "HS256 signed with the public key",
            json!({}),
            TokenMode::Hs256PublicKey,
        ),
        (
            "a token response that is not JSON",
            json!({}),
            TokenMode::Garbage,
        ),
    ];
    for (k, (what, overrides, mode)) in cases.into_iter().enumerate() {
        let evil = format!("000666.evil.{k}");
        env.apple.set_user(
            &evil,
            json!({"email": "mallory@example.com", "email_verified": true}),
            Some(json!({"name": {"firstName": "Mallory"}})),
        );
        env.apple.set_overrides(overrides);
        env.apple.set_mode(mode);
        let exchanges = env.apple.token_requests();
        let started = Instant::now();
        // Refused at the continuation, once the code exchange brought the ID token: a
        // page, and the client is not redirected (only an error the IdP itself reports
        // goes back to it; see the error answers below).
        assert_page(sign_in(&env).await, 502, FAILED, what);
        assert!(started.elapsed() < Duration::from_secs(5), "{what}");
        // The exchange happened and the client secret was fine: the ID token was refused.
        assert_eq!(env.apple.token_requests(), exchanges + 1, "{what}");
        assert_eq!(env.apple.refused_secrets(), 0, "{what}");
        assert!(
            env.server
                .find_user(POOL, &format!("SignInWithApple_{evil}"))
                .await
                .is_none(),
            "{what}"
        );
        assert_eq!(env.server.user_count(POOL).await, k as u64, "{what}");

        // The same attempt with an honest Apple succeeds.
        env.apple.reset();
        let good = format!("000777.good.{k}");
        env.apple.set_user(
            &good,
            json!({"email": "good@example.com", "email_verified": true}),
            None,
        );
        let redirect = sign_in(&env)
            .await
            .unwrap_or_else(|e| panic!("{what}: the corrected flow failed: {e:?}"));
        let claims = id_token_of(&env, &redirect).await;
        assert_eq!(
            claims["cognito:username"],
            format!("SignInWithApple_{good}"),
            "{what}"
        );
        assert_eq!(env.server.user_count(POOL).await, k as u64 + 1, "{what}");
    }
}

#[tokio::test]
async fn the_posted_id_token_is_not_what_signs_in() {
    let env = env().await;
    env.apple.set_user(
        SUB,
        json!({"email": "ada@example.com", "email_verified": true}),
        None,
    );
    // Apple's form also carries an ID token; an attacker who rewrites the form (or posts
    // their own) puts an unsigned one naming a victim there. Cognate validates only the
    // ID token of its own code exchange.
    let b64 = |v: Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let forged = format!(
        "{}.{}.",
        b64(json!({"alg": "none"})),
        b64(json!({
            "iss": env.apple.base, "aud": SERVICES_ID, "sub": "000999.victim.0001",
            "email": "victim@example.com", "email_verified": true,
            "iat": cognate::core::now(), "exp": cognate::core::now() + 600,
        }))
    );
    let browser = browser_client();
    let (action, mut fields) = at_apple(&browser, &env).await;
    for (name, value) in fields.iter_mut() {
        if name == "id_token" {
            *value = forged.clone();
        }
    }
    let posted = post_form(&action, &fields).await;
    assert_eq!(posted.status(), 303);
    let redirect = continue_in(&browser, &location(&posted)).await.unwrap();
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["cognito:username"], format!("SignInWithApple_{SUB}"));
    assert_eq!(claims["email"], "ada@example.com");
    assert!(env
        .server
        .find_user(POOL, "SignInWithApple_000999.victim.0001")
        .await
        .is_none());
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn apples_error_answers_reach_the_client_as_oauth_errors() {
    let env = env().await;
    env.apple.set_user(
        SUB,
        json!({"email": "ada@example.com", "email_verified": true}),
        Some(json!({"name": {"firstName": "Ada", "lastName": "Lovelace"}})),
    );

    // The user cancels at Apple: Apple posts `error` and `state`, nothing else. The
    // resource owner denied the request: RFC 6749 section 4.1.2.1's `access_denied`.
    env.apple
        .set_authorize_error(Some("user_cancelled_authorize"));
    let browser = browser_client();
    let (action, fields) = at_apple(&browser, &env).await;
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["error", "state"]);
    let posted = post_form(&action, &fields).await;
    assert_eq!(posted.status(), 303);
    let continuation = location(&posted);
    let redirect = continue_in(&browser, &continuation)
        .await
        .expect("an OAuth error on the client's redirect URI");
    assert_oauth_error(&env, &redirect, "access_denied");
    // The answer and its continuation are single use, like a code's.
    assert_refused_post(post_form(&action, &fields).await, "a replayed cancel").await;
    assert_page(
        continue_in(&browser, &continuation).await,
        400,
        EXPIRED,
        "a replayed cancel continuation",
    );

    // Any other error Apple reports is about Cognate's request to Apple, not the client's
    // request to Cognate: `server_error`, and Apple's description (text an attacker can
    // post) is not passed on to the client.
    env.apple.set_authorize_error(Some("invalid_request"));
    let (action, mut fields) = at_apple(&browser, &env).await;
    fields.push((
        "error_description".to_string(),
        "Call +1-555-0100 to unlock your account".to_string(),
    ));
    let posted = post_form(&action, &fields).await;
    let redirect = continue_in(&browser, &location(&posted)).await.unwrap();
    assert_oauth_error(&env, &redirect, "server_error");
    assert!(!redirect.contains("unlock"), "{redirect}");

    // A cancel continued in another browser: the flow is not that browser's, so nothing
    // is said to the client; a page.
    env.apple
        .set_authorize_error(Some("user_cancelled_authorize"));
    let (action, fields) = at_apple(&browser, &env).await;
    let posted = post_form(&action, &fields).await;
    assert_page(
        continue_in(&browser_client(), &location(&posted)).await,
        400,
        EXPIRED,
        "a cancel continued in another browser",
    );
    assert_eq!(env.apple.token_requests(), 0, "no exchange without a code");
    assert_eq!(env.server.user_count(POOL).await, 0);

    // The user consents this time: signed in, with the name of this first authorization.
    env.apple.reset();
    let redirect = sign_in(&env).await.expect("the corrected flow");
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["cognito:username"], format!("SignInWithApple_{SUB}"));
    assert_eq!(claims["given_name"], "Ada");
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn form_posts_for_no_form_post_flow_are_refused_with_a_clear_page() {
    let env = env_with_google().await;
    let google = env.google.as_ref().unwrap();
    env.apple.set_user(
        SUB,
        json!({"email": "ada@example.com", "email_verified": true}),
        None,
    );
    let action = format!("{}/oauth2/idpresponse", env.server.base);
    let pairs = |p: &[(&str, &str)]| -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };

    // A state no sign-in attempt has, and none at all.
    let unknown = pairs(&[
        ("state", "x-not-a-state"),
        ("code", "c1"),
        ("id_token", "x"),
    ]);
    assert_refused_post(post_form(&action, &unknown).await, "an unknown state").await;
    assert_refused_post(
        post_form(&action, &pairs(&[("code", "c1")])).await,
        "no state",
    )
    .await;
    assert_refused_post(
        post_form(
            &action,
            &pairs(&[("state", ""), ("error", "access_denied")]),
        )
        .await,
        "an empty state",
    )
    .await;
    // Nor does a forged continuation find anything.
    let forged = format!("{action}?state=x-not-a-state&posted=1");
    assert_page(
        continue_in(&browser_client(), &forged).await,
        400,
        EXPIRED,
        "a forged continuation",
    );

    // A live Google flow answered by POST: Google answers in the query of a GET, so this
    // did not come from Google. Refused before any exchange, cookie or not.
    let browser = browser_client();
    let r = browser
        .get(authorize_url_for(&env, "Google"))
        .send()
        .await
        .unwrap();
    let upstream = location(&r);
    assert!(upstream.starts_with(&google.issuer), "{upstream}");
    assert_eq!(param(&upstream, "response_mode"), None);
    let back = location(&browser.get(&upstream).send().await.unwrap());
    // Beside Apple, Google answers at its own callback.
    let google_action = format!("{action}/{POOL}/Google");
    assert!(back.starts_with(&format!("{google_action}?")), "{back}");
    let answer = pairs(&[
        ("state", &param(&back, "state").unwrap()),
        ("code", &param(&back, "code").unwrap()),
    ]);
    // At Google's own callback: not a form_post provider. At Apple's: not this flow's
    // provider. At the bare one: refused beside two providers, naming the URL to register.
    let apple_action = format!("{action}/{POOL}/SignInWithApple");
    for (at, sentence) in [
        (&google_action, EXPIRED),
        (&apple_action, WRONG_CALLBACK),
        (&action, BARE_REFUSED),
    ] {
        for r in [
            post_form(at, &answer).await,
            browser.post(at).form(&answer).send().await.unwrap(),
        ] {
            assert!(r.headers().get("location").is_none(), "{at}: continued");
            let status = r.status().as_u16();
            let page = r.text().await.unwrap();
            assert_page(Err((status, page.clone())), 400, sentence, at);
            if sentence == BARE_REFUSED {
                assert!(
                    page.replace("&#x2f;", "/").contains(&google_action),
                    "{page}"
                );
            }
        }
    }
    assert_eq!(google.token_requests(), 0);
    assert_eq!(env.apple.token_requests(), 0);
    assert_eq!(env.server.user_count(POOL).await, 0);

    // The flow was left alone: Google's own answer, a GET in the browser, signs in; and
    // Apple's form_post works beside it.
    let redirect = continue_in(&browser, &back).await.expect("Google's answer");
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["cognito:username"], "Google_g-carol");
    let redirect = sign_in(&env).await.expect("Apple's form_post");
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["cognito:username"], format!("SignInWithApple_{SUB}"));
    assert_eq!(env.server.user_count(POOL).await, 2);
}
