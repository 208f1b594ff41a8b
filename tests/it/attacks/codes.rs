//! Authorization codes (single use, five minutes, bound to client, redirect URI and PKCE) and
//! tokens that serve only their own client, CORS included.

use super::*;
use crate::claims::{exchange, READER};
use crate::support::pg::fresh_pg_url;

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

/// A leaked code presented by another client (issue 8, hole 7) is refused before it is
/// consumed: the owner's exchange still works and its tokens are not revoked. Only the
/// owner's own replay revokes (RFC 6749 section 4.1.2).
#[tokio::test]
async fn another_client_cannot_burn_a_code_or_revoke_its_tokens() {
    another_client_cannot_burn_a_code(start_on(None).await).await;
}

#[tokio::test]
async fn another_client_cannot_burn_a_code_or_revoke_its_tokens_on_postgres() {
    let Some(db) = fresh_pg_url("code_burn").await else {
        return;
    };
    another_client_cannot_burn_a_code(start_on(Some(&db)).await).await;
    db.cleanup().await;
}

async fn another_client_cannot_burn_a_code(server: TestServer) {
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let pkce = Pkce::new("burn");
    let code = code_for(&browser, &base, &spa_authorize(&base, &pkce, "n"), "alice").await;
    let refresh = |client: &'static str, refresh_token: String| {
        let base = base.clone();
        async move {
            let form = [
                ("grant_type", "refresh_token"),
                ("client_id", client),
                ("refresh_token", refresh_token.as_str()),
            ];
            token(&base, &form, None).await
        }
    };
    let code_grant = |code: &str, verifier: Option<&str>| {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", SPA_CALLBACK),
        ];
        form.extend(verifier.map(|v| ("code_verifier", v)));
        form.into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect::<Vec<_>>()
    };
    let send = |form: Vec<(&'static str, String)>, basic: Option<(&'static str, &'static str)>| {
        let base = base.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token(&base, &form, basic).await
        }
    };

    // Another public client with the same redirect URI and even the right verifier, a
    // confidential client with its own valid secret, and the owner's public client id
    // without the verifier (a thief of the code alone): all refused, nothing consumed.
    let other_public = exchange(&base, READER, &code, &pkce.verifier).await;
    assert_eq!(
        other_public.error(),
        "invalid_grant",
        "{}",
        other_public.json
    );
    let confidential = send(
        code_grant(&code, Some(&pkce.verifier)),
        Some((BASIC, BASIC_SECRET)),
    )
    .await;
    assert_eq!(
        confidential.error(),
        "invalid_grant",
        "{}",
        confidential.json
    );
    let mut thief = code_grant(&code, None);
    thief.push(("client_id", SPA.to_string()));
    let thief = send(thief, None).await;
    assert_eq!(thief.error(), "invalid_grant", "{}", thief.json);

    // The owner's exchange still succeeds, and its refresh token works.
    let first = spa_exchange(&base, &code, &pkce.verifier).await;
    assert_eq!(first.status, 200, "{}", first.json);
    let refreshed = refresh(SPA, first.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);

    // Once used, another client's replay is refused and revokes nothing.
    let replayed = exchange(&base, READER, &code, &pkce.verifier).await;
    assert_eq!(replayed.error(), "invalid_grant", "{}", replayed.json);
    let replayed = send(
        code_grant(&code, Some(&pkce.verifier)),
        Some((BASIC, BASIC_SECRET)),
    )
    .await;
    assert_eq!(replayed.error(), "invalid_grant", "{}", replayed.json);
    assert_eq!(userinfo(&base, &first.str("access_token")).await.0, 200);
    let refreshed = refresh(SPA, first.str("refresh_token")).await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);

    // The owner's own replay is refused and revokes the family.
    let replay = spa_exchange(&base, &code, &pkce.verifier).await;
    assert_eq!(replay.error(), "invalid_grant", "{}", replay.json);
    let refreshed = refresh(SPA, first.str("refresh_token")).await;
    assert_eq!(
        refreshed.error(),
        "invalid_grant",
        "after the owner's replay"
    );
    assert_refused(
        &base,
        &first.str("access_token"),
        "after the owner's replay",
    )
    .await;
    server.stop().await;
}

/// The binding is read before the code is taken; the take stays single use: of many
/// concurrent redemptions (the owner's, and other clients' among them) exactly one gets
/// tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_of_one_code_issue_tokens_once() {
    concurrent_redemptions_issue_tokens_once(start_on(None).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_redemptions_of_one_code_issue_tokens_once_on_postgres() {
    let Some(db) = fresh_pg_url("code_race").await else {
        return;
    };
    concurrent_redemptions_issue_tokens_once(start_on(Some(&db)).await).await;
    db.cleanup().await;
}

async fn concurrent_redemptions_issue_tokens_once(server: TestServer) {
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let pkce = Pkce::new("race");
    let code = code_for(&browser, &base, &spa_authorize(&base, &pkce, "n"), "alice").await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..16 {
        let (base, code, verifier) = (base.clone(), code.clone(), pkce.verifier.clone());
        let client = if i % 2 == 0 { SPA } else { READER };
        tasks.spawn(async move { (client, exchange(&base, client, &code, &verifier).await) });
    }
    let mut issued = 0;
    while let Some(answer) = tasks.join_next().await {
        let (client, answer) = answer.unwrap();
        if answer.status == 200 {
            assert_eq!(client, SPA);
            issued += 1;
        } else {
            assert_eq!(answer.error(), "invalid_grant", "{}", answer.json);
        }
    }
    assert_eq!(issued, 1);
    // Corrected: a fresh code, redeemed once, works.
    let pkce = Pkce::new("race-fresh");
    let code = code_for(&browser, &base, &spa_authorize(&base, &pkce, "n"), "alice").await;
    let fresh = spa_exchange(&base, &code, &pkce.verifier).await;
    assert_eq!(fresh.status, 200, "{}", fresh.json);
    assert_eq!(userinfo(&base, &fresh.str("access_token")).await.0, 200);
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
async fn a_deleted_clients_tokens_no_longer_answer() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();
    let tokens = spa_tokens(&server, &browser).await;
    // While the client exists, its tokens serve.
    assert_eq!(userinfo(&base, &tokens.str("access_token")).await.0, 200);
    let kept = spa_tokens(&server, &browser).await;

    assert!(server.node.store.delete_client(SPA).await.unwrap());
    assert_refused(
        &base,
        &tokens.str("access_token"),
        "a deleted client's token",
    )
    .await;
    let refresh = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", kept.str("refresh_token").as_str()),
        ],
        None,
    )
    .await;
    assert!(
        [400, 401].contains(&refresh.status.as_u16()),
        "{}",
        refresh.json
    );
    assert!(
        refresh.json.get("access_token").is_none(),
        "{}",
        refresh.json
    );
    // Another client's tokens still serve.
    let pkce = Pkce::new("other");
    let authorize = crate::claims::code_authorize(&base, crate::claims::READER, &pkce, "n");
    let code = crate::claims::code_for(&browser, &base, &authorize, "alice").await;
    let other = crate::claims::exchange(&base, crate::claims::READER, &code, &pkce.verifier).await;
    assert_eq!(userinfo(&base, &other.str("access_token")).await.0, 200);
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
