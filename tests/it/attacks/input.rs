//! Oversized and malformed input: 413, 414, 400, never a 500; nothing reflected unescaped.

use super::*;

#[tokio::test]
async fn oversized_and_malformed_input_is_refused_never_with_a_500() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let client = http();

    // 2 MiB bodies: 413, from the announced length, before a byte of the body is read.
    for path in ["/oauth2/token", "/login", "/oauth2/revoke", "/signup"] {
        assert_eq!(
            status_of_announced_body(&base, path, 2 * 1024 * 1024).await,
            413,
            "{path}"
        );
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
    // What a page echoes back is escaped (no reflected markup).
    let xss = "\"><script>alert(1)</script>";
    let page = attempt(&browser, &base, &flow, xss, "Wrong-horse-1", None).await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("<script>alert(1)"), "{}", page.body);
    let notice = get(
        &browser,
        &format!(
            "{base}/login?flow={}&notice=code_sent&sent=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
            flow.0
        ),
    )
    .await;
    assert_eq!(notice.status, 200);
    assert!(!notice.body.contains("<script>alert(1)"), "{}", notice.body);
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

/// The status of a POST that announces a `length`-byte form body and sends none of it.
/// (Sending 2 MiB through an HTTP client races the server's early 413 and the connection
/// it then closes: the client may see a broken pipe instead of the answer.)
async fn status_of_announced_body(base: &str, path: &str, length: usize) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {FORM}\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 1024];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer before the body")
        .unwrap();
    let text = String::from_utf8_lossy(&answer[..n]);
    text.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {text:?}"))
}
