//! Password sign-in: no user enumeration, brute-force locks (per account, per account and
//! address), CSRF and browser binding, double submits.

use super::*;

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
    // One hash either way: an unknown user costs a verification against a dummy hash, so
    // the answer does not come back measurably sooner. (The fastest of three tries, a
    // generous bound: a missing hash would be ten times faster on this path.)
    let mut fastest = [Duration::MAX; 2];
    for i in 0..3 {
        for (slot, name) in [(0, "alice".to_string()), (1, format!("ghost{i}"))] {
            let started = Instant::now();
            attempt(&browser, &base, &flow, &name, "Wrong-horse-1", None).await;
            fastest[slot] = fastest[slot].min(started.elapsed());
        }
    }
    assert!(
        fastest[1] * 3 >= fastest[0],
        "unknown user {:?} vs wrong password {:?}",
        fastest[1],
        fastest[0]
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
            let reserved = throttle
                .reserve(POOL, &login_key(&pool, name), from, now)
                .await
                .unwrap();
            assert!(matches!(reserved, Verdict::Allow { .. }), "{name} {i}");
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
async fn every_identifier_of_an_account_counts_as_one_account() {
    // Email aliases are matched case-insensitively even where usernames are not; an
    // attacker varying the case, or switching between the username and the email alias,
    // must not get twenty guesses per variant.
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
        "carol",
        "cArol@example.com",
        "carol",
        "carOl@example.com",
    ] {
        let page = attempt(&browser, &base, &flow, typed, "Wrong-horse-1", None).await;
        assert_eq!(page.status, 200, "{typed}");
    }
    // All five were counted on carol's one account (five failures: the next attempt, the
    // sixth, reserved here, waits), none on the email as a login of its own.
    let throttle = Throttle::new(server.node.store.clone());
    let now = cognate::core::now();
    let key = account_login_key(&pool, "carol@example.com", Some(&carol));
    assert_eq!(key, account_login_key(&pool, "carol", Some(&carol)));
    let from = IpAddr::from([192, 0, 2, 1]);
    assert_eq!(
        throttle.reserve(CASE_POOL, &key, from, now).await.unwrap(),
        Verdict::Allow {
            delay: delay_for(5)
        }
    );
    assert_eq!(
        throttle
            .reserve(CASE_POOL, &login_key(&pool, "carol@example.com"), from, now)
            .await
            .unwrap(),
        Verdict::Allow {
            delay: Duration::ZERO
        }
    );
    for i in 6..ACCOUNT_LOCK_FAILURES {
        let from = IpAddr::from([192, 0, 2, u8::try_from(i).unwrap()]);
        let reserved = throttle.reserve(CASE_POOL, &key, from, now).await.unwrap();
        assert!(matches!(reserved, Verdict::Allow { .. }), "{i}");
    }
    // Locked by any of its identifiers, even with the right password.
    for typed in ["CaRoL@ExAmPlE.cOm", "carol"] {
        let locked = attempt(&browser, &base, &flow, typed, PASSWORD, None).await;
        assert_eq!(locked.status, 429, "{typed}: {}", locked.body);
    }
    let out = cognate_cli(
        &server,
        &["users", "unlock", "--pool", CASE_POOL, "carol@example.com"],
    );
    assert!(out.contains("unlocked"), "{out}");
    let after = attempt(&browser, &base, &flow, "carol", PASSWORD, None).await;
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
        let reserved = throttle
            .reserve(
                POOL,
                &login_key(&pool, "alice"),
                attacker_ip.parse().unwrap(),
                now,
            )
            .await
            .unwrap();
        assert!(matches!(reserved, Verdict::Allow { .. }));
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

/// Behind a trusted proxy, an `X-Forwarded-For` entry that is no address (`unknown`, as
/// some proxies write) must not let the entry to its left, which the attacker wrote, pick
/// the address counted: every such attempt counts under the proxy's own address, so
/// changing the spoofed entry gains nothing. The honest client, named properly, signs in.
#[tokio::test]
async fn an_unparseable_forwarded_entry_cannot_pick_the_counted_address() {
    let server = start_with_server_toml("trusted_proxies = [\"127.0.0.1/32\"]").await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let pool = server.pool(POOL).await;
    let pkce = Pkce::new("spoof");
    let attacker = browser_client();
    let flow = login_form(&attacker, &base, &spa_authorize(&base, &pkce, "n")).await;
    for i in 0..5 {
        let spoofed = format!("10.9.8.{i}, unknown");
        let page = attempt(
            &attacker,
            &base,
            &flow,
            "alice",
            "Wrong-horse-1",
            Some(&spoofed),
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.body);
    }
    // Five more counted under the proxy's address, as five more such attempts would be
    // (without waiting out their growing delays)...
    let throttle = Throttle::new(server.node.store.clone());
    let now = cognate::core::now();
    for _ in 5..PAIR_LOCK_FAILURES {
        let reserved = throttle
            .reserve(
                POOL,
                &login_key(&pool, "alice"),
                "127.0.0.1".parse().unwrap(),
                now,
            )
            .await
            .unwrap();
        assert!(matches!(reserved, Verdict::Allow { .. }), "{reserved:?}");
    }
    // ...so a fresh spoofed entry meets the proxy address's lock, even with the right
    // password: it was never the spoofed address that counted.
    let spoofed = attempt(
        &attacker,
        &base,
        &flow,
        "alice",
        PASSWORD,
        Some("10.9.8.77, unknown"),
    )
    .await;
    assert_eq!(spoofed.status, 429, "{}", spoofed.body);
    // The honest client, whose proxy names it properly, signs in.
    let user = browser_client();
    let user_flow = login_form(&user, &base, &spa_authorize(&base, &pkce, "n")).await;
    let page = attempt(
        &user,
        &base,
        &user_flow,
        "alice",
        PASSWORD,
        Some("198.51.100.7"),
    )
    .await;
    assert_signed_in(&page, "the properly forwarded client");
    server.stop().await;
}
