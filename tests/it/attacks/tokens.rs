//! The token endpoint's RFC 6749 errors, and userInfo refusing every token that is not a
//! live access token of this server.

use super::*;

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

/// Tokens with made-up `kid`s at userInfo (issue 8, hole 9a): each used to reload and
/// decrypt the pool's keys, unauthenticated. Now a `kid` the cached keys lack reloads them
/// at most once per pool per `UNKNOWN_KID_RELOAD_SECS` on a node, counted with the key
/// service's own load counter; and a key rotated in on another node over the same store is
/// still accepted once the bound allows a reload.
async fn unknown_kids_reload_the_keys_at_most_once_per_interval(
    server: TestServer,
    db: Option<crate::support::pg::PgTestDb>,
) {
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let tokens = spa_tokens(&server, &browser).await;
    let access = tokens.str("access_token");
    assert_eq!(userinfo(&base, &access).await.0, 200, "the real token");
    let real = claims_of(&access);
    let keys = &server.node.keys;

    // A burst of tokens for the pool, each naming a kid nobody issued.
    let forged = |kid: String| {
        let header = json!({"alg": "RS256", "kid": kid, "typ": "JWT"});
        format!("{}.{}.{}", b64(&header), b64(&real), "c2lnbmF0dXJl")
    };
    let burst = || async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..100 {
            let (base, token) = (base.clone(), forged(uuid::Uuid::new_v4().to_string()));
            tasks.spawn(async move { userinfo(&base, &token).await.0 });
        }
        while let Some(status) = tasks.join_next().await {
            assert_eq!(status.unwrap(), 401);
        }
    };
    let before = keys.loads();
    burst().await;
    // One reload the guard allows (at most one more should the 30 s cache expire
    // meanwhile: concurrent misses share one load), not one per request.
    let after_first = keys.loads();
    assert!(after_first - before <= 2, "{before} -> {after_first}");
    burst().await;
    assert!(keys.loads() - before <= 2, "{before} -> {}", keys.loads());

    // Another node over the same store rotates the keys and signs with the new one.
    let other = cognate::server::Node::open((*server.node.config).clone())
        .await
        .unwrap();
    let now = cognate::core::now();
    let kids = other.keys.rotate(POOL, now).await.unwrap();
    let signer = other
        .keys
        .signer(POOL, KeyPurpose::AccessToken, now)
        .await
        .unwrap();
    assert!(kids.iter().any(|k| k == signer.kid()));
    let rotated = signer.sign(&real).unwrap();
    // Once the interval since the last reload has passed, the first request naming the
    // new kid reloads the keys, and the token is accepted; then it is cached.
    tokio::time::sleep(Duration::from_secs(
        u64::try_from(cognate::core::keys::UNKNOWN_KID_RELOAD_SECS).unwrap() + 1,
    ))
    .await;
    let before = keys.loads();
    assert_eq!(userinfo(&base, &rotated).await.0, 200, "the rotated key");
    assert_eq!(userinfo(&base, &rotated).await.0, 200, "the rotated key");
    assert!(keys.loads() - before <= 1, "{before} -> {}", keys.loads());
    // The old key stays published until its tokens expire.
    assert_eq!(userinfo(&base, &access).await.0, 200, "the first key");
    // And right after that reload, unknown kids are refused without another.
    let before = keys.loads();
    burst().await;
    assert_eq!(keys.loads(), before);
    server.stop().await;
    if let Some(db) = db {
        db.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_kids_at_userinfo_reload_the_keys_at_most_once_per_interval() {
    unknown_kids_reload_the_keys_at_most_once_per_interval(start_on(None).await, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn unknown_kids_at_userinfo_reload_the_keys_at_most_once_per_interval_on_postgres() {
    let Some(db) = crate::support::pg::fresh_pg_url("unknown_kid").await else {
        return;
    };
    let server = start_on(Some(&db)).await;
    unknown_kids_reload_the_keys_at_most_once_per_interval(server, Some(db)).await;
}
