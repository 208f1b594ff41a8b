//! Risk-based responses over real HTTP (issue 17), each on SQLite and PostgreSQL, each
//! attack beside the honest sign-in that still goes through:
//! - a sign-in from a new device (a fresh cookie jar) with the `notify` action mails a
//!   "was this you?" link; its GET changes nothing, its POST "not me" locks the account
//!   down (refresh token refused, hosted session gone, next sign-in must reset), once;
//!   "it was me" records `Valid` and changes nothing;
//! - a burst of failures across accounts from one address raises the level to high and
//!   blocks a right password from that address, while the user signs in from another;
//! - impossible travel with a GeoIP file written by the test MMDB writer;
//! - the `mfa` action asks an emailed code of a user the pool's rule would not ask;
//! - `audit` mode scores and records without acting.
//!
//! Client addresses are named in `X-Forwarded-For` (127.0.0.1 is a trusted proxy).

use std::net::Ipv4Addr;
use std::time::Duration;

use serde_json::{json, Value};

use cognate::core::model::{
    AuthEvent, AuthEventKind, AuthEventOutcome, PageRequest, RiskLevel, UserStatus,
};

use crate::claims::{authorize_url, Pkce};
use crate::support::mmdb::{self, Place};
use crate::support::pg::PgNodeEnv;
use crate::support::server::{browser_client, hidden, sign_in, TestServer};

const POOL: &str = "us-east-1_Risk000001";
const CLIENT: &str = "riskweb000000000000000001";
const CALLBACK: &str = "http://127.0.0.1:9/cb";
const PASSWORD: &str = "Corr3ct-horse-risk";

fn pool_toml(threat: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "Risk"
mfa_factors = ["TOTP", "EMAIL"]

[pools.threat_protection]
{threat}

[[pools.clients]]
id = "{CLIENT}"
name = "web"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
"#
    )
}

/// A server for `threat` (the `[pools.threat_protection]` keys) on `env`'s engine.
async fn start(threat: &str, server_toml: &str, env: &[(&str, &str)]) -> TestServer {
    let server_toml = format!("trusted_proxies = [\"127.0.0.1/32\"]\n{server_toml}");
    TestServer::start_with(&pool_toml(threat), &server_toml, env).await
}

/// Runs `test` on SQLite, then on PostgreSQL when a test database is configured.
macro_rules! on_both_engines {
    ($sqlite:ident, $pg:ident, $run:ident) => {
        #[tokio::test]
        async fn $sqlite() {
            $run(&[]).await;
        }

        #[tokio::test]
        async fn $pg() {
            let Some(pg) = PgNodeEnv::new(stringify!($pg)).await else {
                return;
            };
            $run(&pg.vars()).await;
            pg.cleanup().await;
        }
    };
}

/// One user pools API call from client address `from`.
async fn call(server: &TestServer, action: &str, body: Value, from: &str) -> (u16, Value) {
    let r = browser_client()
        .post(&server.base)
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-forwarded-for", from)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// USER_PASSWORD_AUTH from `from`.
async fn password_auth(
    server: &TestServer,
    user: &str,
    password: &str,
    from: &str,
) -> (u16, Value) {
    call(
        server,
        "InitiateAuth",
        json!({
            "ClientId": CLIENT,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": user, "PASSWORD": password},
        }),
        from,
    )
    .await
}

fn kind(answer: &(u16, Value)) -> &str {
    answer.1.get("__type").and_then(Value::as_str).unwrap_or("")
}

fn signed_in(answer: &(u16, Value), what: &str) -> String {
    assert_eq!(answer.0, 200, "{what}: {:?}", answer.1);
    answer.1["AuthenticationResult"]["RefreshToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no tokens: {:?}", answer.1))
        .to_string()
}

/// The user's events, newest first (this node's queue written first).
async fn events_of(server: &TestServer, username: &str) -> Vec<AuthEvent> {
    let user = server.find_user(POOL, username).await.expect("user");
    let page = server
        .node
        .events
        .list(
            POOL,
            Some(&user.sub),
            &PageRequest {
                limit: 50,
                after: None,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    page.items
}

/// Waits until this node's queued events are written (the next sign-in reads them).
async fn flush(server: &TestServer) {
    server.node.events.flush().await;
}

/// The hosted authorization request; `prompt=login` asks the password even of a browser
/// with a session.
fn hosted_authorize(server: &TestServer, prompt_login: bool) -> String {
    let pkce = Pkce::new("risk");
    let mut params = vec![
        ("response_type", "code"),
        ("client_id", CLIENT),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email"),
        ("state", "st"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    if prompt_login {
        params.push(("prompt", "login"));
    }
    authorize_url(&server.base, &params)
}

/// The event of `events` from `address` (events of one second have no set order).
fn from_address<'a>(events: &'a [AuthEvent], address: &str) -> &'a AuthEvent {
    let address = address.parse().unwrap();
    events
        .iter()
        .find(|e| e.address == Some(address))
        .unwrap_or_else(|| panic!("no event from {address}: {events:?}"))
}

/// A mail's text, its transfer encoding undone (lettre picks quoted-printable or base64
/// for long lines).
fn mail_text(raw: &str) -> String {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or(("", raw));
    let head = head.to_ascii_lowercase();
    if head.contains("content-transfer-encoding: base64") {
        use base64::Engine;
        let joined: String = body.split_whitespace().collect();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(joined.trim_end_matches('.'))
            .unwrap_or_default();
        return String::from_utf8_lossy(&bytes).into_owned();
    }
    if head.contains("content-transfer-encoding: quoted-printable") {
        let joined = body.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'=' && i + 2 < bytes.len() {
                if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                    out.push(b);
                    i += 3;
                    continue;
                }
            }
            out.push(bytes[i]);
            i += 1;
        }
        return String::from_utf8_lossy(&out).into_owned();
    }
    body.to_string()
}

/// The "not me" link of the newest notice to `to`, waiting for the mail (it is sent off
/// the request path).
async fn notice_link(server: &TestServer, to: &str) -> String {
    for _ in 0..200 {
        let found = server.inbox.all().iter().rev().find_map(|m| {
            if !m.contains(&format!("To: {to}")) {
                return None;
            }
            let text = mail_text(m);
            let start = text.find("http://")?;
            let link: String = text[start..]
                .chars()
                .take_while(|c| !c.is_whitespace())
                .collect();
            link.contains("/security/not-me?token=").then_some(link)
        });
        if let Some(link) = found {
            return link;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no notice mailed to {to}: {:?}", server.inbox.all());
}

fn notices_to(server: &TestServer, to: &str) -> usize {
    server
        .inbox
        .all()
        .iter()
        .filter(|m| m.contains(&format!("To: {to}")) && mail_text(m).contains("/security/not-me"))
        .count()
}

/// Waits for the clock's next second: the global sign-out refuses tokens issued in
/// earlier seconds, so a token must be older than the answer that revokes it.
async fn next_second() {
    let start = cognate::core::now();
    while cognate::core::now() == start {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn refresh(server: &TestServer, token: &str) -> (u16, Value) {
    call(
        server,
        "InitiateAuth",
        json!({
            "ClientId": CLIENT,
            "AuthFlow": "REFRESH_TOKEN_AUTH",
            "AuthParameters": {"REFRESH_TOKEN": token},
        }),
        "203.0.113.9",
    )
    .await
}

// --- new device, notify, "not me" --------------------------------------------------------

on_both_engines!(
    new_device_notice_and_not_me_sqlite,
    new_device_notice_and_not_me_postgres,
    new_device_notice_and_not_me
);

async fn new_device_notice_and_not_me(env: &[(&str, &str)]) {
    let server = start(
        "mode = \"enforced\"\nlow = { notify = true }\nmedium = { notify = true }",
        "",
        env,
    )
    .await;
    server.user(POOL, "ann", PASSWORD).await;
    server.user(POOL, "bob", PASSWORD).await;
    let authorize = hosted_authorize(&server, true);
    let sso_authorize = hosted_authorize(&server, false);

    // The first sign-in (no history) and a second from the same browser: no signal, no
    // notice (the honest case).
    let home = browser_client();
    for _ in 0..2 {
        let to = sign_in(&home, &server.base, &authorize, "ann", PASSWORD)
            .await
            .expect("sign-in from the known browser");
        assert!(to.starts_with(CALLBACK), "{to}");
        flush(&server).await;
    }
    let events = events_of(&server, "ann").await;
    assert_eq!(events.len(), 2, "{events:?}");
    assert!(events.iter().all(|e| e.outcome == AuthEventOutcome::Pass
        && e.risk.signals.is_empty()
        && e.device.is_some()
        && e.client_id.as_deref() == Some(CLIENT)
        && e.challenges == ["Password:Success"]));
    assert_eq!(
        events[0].device, events[1].device,
        "one browser, one device"
    );
    assert_eq!(notices_to(&server, "ann@example.com"), 0);

    // A fresh browser: a new device, low risk, allowed, and the notice mailed.
    let elsewhere = browser_client();
    let to = sign_in(&elsewhere, &server.base, &authorize, "ann", PASSWORD)
        .await
        .expect("the new device is allowed (low: allow + notify)");
    assert!(to.starts_with(CALLBACK), "{to}");
    let link = notice_link(&server, "ann@example.com").await;
    let events = events_of(&server, "ann").await;
    let newest = events
        .iter()
        .find(|e| !e.risk.signals.is_empty())
        .expect("the new device's event");
    assert_eq!(newest.risk.signals, ["new_device"]);
    assert_eq!(newest.risk.level, RiskLevel::Low);
    assert_eq!(newest.risk.decision, "allow+notify");
    let known_device = events.iter().find(|e| e.risk.signals.is_empty()).unwrap();
    assert_ne!(newest.device, known_device.device);

    // A refresh token from before the answer, which the answer must revoke.
    let refresh_token = signed_in(
        &password_auth(&server, "ann", PASSWORD, "127.0.0.1").await,
        "API sign-in",
    );
    next_second().await;

    // GET changes nothing (mail scanners fetch links).
    let page = browser_client().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let body = page.text().await.unwrap();
    let token = hidden(&body, "token").expect("the form carries the token");
    assert!(body.contains("value=\"not_me\""), "{body}");
    let again = browser_client().get(&link).send().await.unwrap();
    assert_eq!(again.status(), 200, "a GET does not use the link up");
    assert_eq!(
        server.find_user(POOL, "ann").await.unwrap().status,
        UserStatus::Confirmed
    );
    assert_eq!(refresh(&server, &refresh_token).await.0, 200);
    let sso = elsewhere.get(&sso_authorize).send().await.unwrap();
    let sso_to = sso.headers()["location"].to_str().unwrap().to_string();
    assert!(
        sso_to.starts_with(CALLBACK),
        "the session still signs in: {sso_to}"
    );

    // A POST with a wrong token changes nothing either.
    let forged = browser_client()
        .post(format!("{}/security/not-me", server.base))
        .form(&[("token", "forged-token-value"), ("answer", "not_me")])
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 410);
    assert_eq!(
        server.find_user(POOL, "ann").await.unwrap().status,
        UserStatus::Confirmed
    );

    // POST "not me": signed out everywhere, reset required, feedback recorded.
    let answered = browser_client()
        .post(format!("{}/security/not-me", server.base))
        .form(&[("token", token.as_str()), ("answer", "not_me")])
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 200);
    let refused = refresh(&server, &refresh_token).await;
    assert_eq!(kind(&refused), "NotAuthorizedException", "{refused:?}");
    let sso = elsewhere.get(&sso_authorize).send().await.unwrap();
    let sso_to = sso.headers()["location"].to_str().unwrap().to_string();
    assert!(
        sso_to.starts_with("/login"),
        "the session is gone: {sso_to}"
    );
    assert_eq!(
        server.find_user(POOL, "ann").await.unwrap().status,
        UserStatus::ResetRequired
    );
    let next = password_auth(&server, "ann", PASSWORD, "127.0.0.1").await;
    assert_eq!(kind(&next), "PasswordResetRequiredException", "{next:?}");
    let events = events_of(&server, "ann").await;
    let noticed = events.iter().find(|e| e.id == newest.id).unwrap();
    let feedback = noticed.feedback.as_ref().expect("feedback recorded");
    assert_eq!(
        (feedback.value.as_str(), feedback.provider.as_str()),
        ("Invalid", "User")
    );

    // Single use: the second POST is refused, and so is the page.
    let twice = browser_client()
        .post(format!("{}/security/not-me", server.base))
        .form(&[("token", token.as_str()), ("answer", "not_me")])
        .send()
        .await
        .unwrap();
    assert_eq!(twice.status(), 410);
    assert_eq!(
        browser_client().get(&link).send().await.unwrap().status(),
        410
    );

    // "It was me": Valid, nothing else changes.
    sign_in(&browser_client(), &server.base, &authorize, "bob", PASSWORD)
        .await
        .unwrap();
    flush(&server).await;
    sign_in(&browser_client(), &server.base, &authorize, "bob", PASSWORD)
        .await
        .unwrap();
    let link = notice_link(&server, "bob@example.com").await;
    let body = browser_client()
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = hidden(&body, "token").unwrap();
    // Eight answers at once (a double click, a replay): one is taken, the rest are 410.
    let answers = (0..8).map(|_| {
        browser_client()
            .post(format!("{}/security/not-me", server.base))
            .form(&[("token", token.as_str()), ("answer", "me")])
            .send()
    });
    let mut statuses: Vec<u16> = futures::future::join_all(answers)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    statuses.sort();
    assert_eq!(statuses, [200, 410, 410, 410, 410, 410, 410, 410]);
    assert_eq!(
        server.find_user(POOL, "bob").await.unwrap().status,
        UserStatus::Confirmed
    );
    signed_in(
        &password_auth(&server, "bob", PASSWORD, "127.0.0.1").await,
        "bob still signs in",
    );
    let events = events_of(&server, "bob").await;
    let answered: Vec<_> = events.iter().filter_map(|e| e.feedback.as_ref()).collect();
    assert_eq!(answered.len(), 1, "{events:?}");
    assert_eq!(answered[0].value, "Valid");
    server.stop().await;
}

// --- a burst of failures across accounts --------------------------------------------------

on_both_engines!(
    failure_burst_blocks_the_address_sqlite,
    failure_burst_blocks_the_address_postgres,
    failure_burst_blocks_the_address
);

const BURST_THREAT: &str = "mode = \"enforced\"\nhigh = { action = \"block\" }\n\n[pools.threat_protection.tuning]\nburst_failures = 5\nfailure_burst = 70";

async fn failure_burst_blocks_the_address(env: &[(&str, &str)]) {
    let server = start(BURST_THREAT, "", env).await;
    server.user(POOL, "victim", PASSWORD).await;
    for i in 0..5 {
        server.user(POOL, &format!("user{i}"), PASSWORD).await;
    }
    let attacker = "198.51.100.66";
    // Before the burst the victim signs in from the attacker's address too (a shared
    // NAT): allowed.
    signed_in(
        &password_auth(&server, "victim", PASSWORD, attacker).await,
        "before the burst",
    );
    // One wrong password per account (no account's own lockout is reached), and an
    // unknown login.
    for i in 0..4 {
        let r = password_auth(&server, &format!("user{i}"), "wrong-Passw0rd", attacker).await;
        assert_eq!(kind(&r), "NotAuthorizedException");
    }
    let r = password_auth(&server, "nobody-here", "wrong-Passw0rd", attacker).await;
    assert_eq!(kind(&r), "NotAuthorizedException");
    // The right password from that address is now refused: high risk, block.
    let blocked = password_auth(&server, "victim", PASSWORD, attacker).await;
    assert_eq!(kind(&blocked), "NotAuthorizedException", "{blocked:?}");
    assert_eq!(
        blocked.1["message"], "Unable to login because of security reasons.",
        "{blocked:?}"
    );
    // The hosted UI says so on a page of its own.
    let page = hosted_attempt(&server, "victim", PASSWORD, attacker).await;
    assert_eq!(page.0, 403, "{}", page.1);
    assert!(page.1.contains("security reasons"), "{}", page.1);
    // The same user from another address signs in.
    signed_in(
        &password_auth(&server, "victim", PASSWORD, "203.0.113.20").await,
        "from another address",
    );
    let page = hosted_attempt(&server, "victim", PASSWORD, "203.0.113.21").await;
    assert_eq!(page.0, 303, "{}", page.1);
    let events = events_of(&server, "victim").await;
    let blocked_event = events
        .iter()
        .find(|e| e.risk.decision == "block")
        .expect("the blocked attempt is recorded");
    assert_eq!(blocked_event.outcome, AuthEventOutcome::Fail);
    assert_eq!(blocked_event.risk.level, RiskLevel::High);
    assert!(blocked_event
        .risk
        .signals
        .contains(&"failure_burst".to_string()));
    let failed = events_of(&server, "user0").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].outcome, AuthEventOutcome::Fail);
    assert_eq!(failed[0].challenges, ["Password:Failure"]);
    // The unknown login is recorded without a user.
    let all = server
        .node
        .events
        .list(
            POOL,
            None,
            &PageRequest {
                limit: 50,
                after: None,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    assert!(all
        .items
        .iter()
        .any(|e| e.sub.is_none() && e.username == "nobody-here"));
    server.stop().await;
}

/// The failure-burst count under a parallel burst split across nodes: `burst_failures`
/// (5) wrong passwords sent at once, over one node (SQLite) or two nodes sharing one
/// PostgreSQL store, are all counted, no fewer (a lost update would let an attacker
/// through) and no more (one below the limit still lets the honest user in).
async fn parallel_failure_burst(nodes: &[TestServer]) {
    let first = &nodes[0];
    first.user(POOL, "victim", PASSWORD).await;
    let attacker = "198.51.100.77";
    let at_once = |range: std::ops::Range<usize>| {
        let calls =
            range.map(|i| {
                let node = &nodes[i % nodes.len()];
                async move {
                    password_auth(node, &format!("ghost{i}"), "wrong-Passw0rd", attacker).await
                }
            });
        futures::future::join_all(calls)
    };
    // Four at once: one below the limit. The victim, behind the same address, gets in
    // on every node.
    for r in at_once(0..4).await {
        assert_eq!(kind(&r), "NotAuthorizedException", "{r:?}");
    }
    for node in nodes {
        signed_in(
            &password_auth(node, "victim", PASSWORD, attacker).await,
            "one failure below the burst",
        );
    }
    // The fifth failure: the address is now blocked on every node.
    for r in at_once(4..5).await {
        assert_eq!(kind(&r), "NotAuthorizedException", "{r:?}");
    }
    for node in nodes {
        let blocked = password_auth(node, "victim", PASSWORD, attacker).await;
        assert_eq!(
            blocked.1["message"], "Unable to login because of security reasons.",
            "{blocked:?}"
        );
        // The honest user from elsewhere is not held up.
        signed_in(
            &password_auth(node, "victim", PASSWORD, "203.0.113.30").await,
            "from another address",
        );
    }
    // Every failure is in the log, whichever node took it.
    for node in nodes {
        node.node.events.flush().await;
    }
    let all = first
        .node
        .events
        .list(
            POOL,
            None,
            &PageRequest {
                limit: 60,
                after: None,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    let ghosts = all
        .items
        .iter()
        .filter(|e| e.username.starts_with("ghost") && e.outcome == AuthEventOutcome::Fail)
        .count();
    assert_eq!(ghosts, 5, "{:?}", all.items);
}

#[tokio::test]
async fn a_parallel_failure_burst_is_counted_exactly_sqlite() {
    let server = start(BURST_THREAT, "", &[]).await;
    parallel_failure_burst(std::slice::from_ref(&server)).await;
    server.stop().await;
}

#[tokio::test]
async fn a_parallel_failure_burst_split_across_two_nodes_is_counted_exactly_postgres() {
    let Some(pg) = PgNodeEnv::new("burst_across_nodes").await else {
        return;
    };
    // One after the other: the first applies the configuration and makes the keys.
    let a = start(BURST_THREAT, "", &pg.vars()).await;
    let b = start(BURST_THREAT, "", &pg.vars()).await;
    let nodes = [a, b];
    parallel_failure_burst(&nodes).await;
    for node in nodes {
        node.stop().await;
    }
    pg.cleanup().await;
}

// --- passwordless first factors are scored too ---------------------------------------------

const CODE_CLIENT: &str = "riskapi000000000000000002";

/// A pool whose users may sign in with an emailed code (USER_AUTH), under `threat`.
fn passwordless_toml(threat: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "Risk, passwordless"
sign_in_factors = ["PASSWORD", "EMAIL_OTP"]

[pools.threat_protection]
{threat}

[[pools.clients]]
id = "{CODE_CLIENT}"
name = "api"
explicit_auth_flows = ["ALLOW_USER_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]

[[pools.clients]]
id = "{CLIENT}"
name = "web"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
"#
    )
}

/// A USER_AUTH sign-in with an emailed code from `from`: the answer to the code.
async fn code_sign_in(server: &TestServer, user: &str, from: &str) -> (u16, Value) {
    let to = format!("{user}@example.com");
    let seen = crate::mfa::mails_to(server, &to);
    let asked = call(
        server,
        "InitiateAuth",
        json!({
            "ClientId": CODE_CLIENT,
            "AuthFlow": "USER_AUTH",
            "AuthParameters": {"USERNAME": user, "PREFERRED_CHALLENGE": "EMAIL_OTP"},
        }),
        from,
    )
    .await;
    assert_eq!(asked.1["ChallengeName"], "EMAIL_OTP", "{asked:?}");
    let code = crate::mfa::next_code(server, &to, seen).await;
    call(
        server,
        "RespondToAuthChallenge",
        json!({
            "ClientId": CODE_CLIENT,
            "ChallengeName": "EMAIL_OTP",
            "Session": asked.1["Session"],
            "ChallengeResponses": {"USERNAME": user, "EMAIL_OTP_CODE": code},
        }),
        from,
    )
    .await
}

/// A hosted sign-in with an emailed code in `browser`: the page the code answers with.
async fn hosted_code_sign_in(
    server: &TestServer,
    browser: &crate::mfa::Browser,
    user: &str,
) -> crate::mfa::Page {
    let to = format!("{user}@example.com");
    let flow = browser.start(CLIENT, &[("prompt", "login")]).await;
    let seen = crate::mfa::mails_to(server, &to);
    let asked = browser
        .form(&flow, "/login/email", &[("username", user)])
        .await;
    assert_eq!(asked.status, 200, "{asked:?}");
    let code = crate::mfa::next_code(server, &to, seen).await;
    browser
        .form(&flow, "/login/email/verify", &[("code", &code)])
        .await
}

on_both_engines!(
    an_emailed_code_sign_in_is_scored_sqlite,
    an_emailed_code_sign_in_is_scored_postgres,
    an_emailed_code_sign_in_is_scored
);

/// The right emailed code from an address in a failure burst is blocked as the right
/// password is; from elsewhere it signs in. Both are recorded as the code's step.
async fn an_emailed_code_sign_in_is_scored(env: &[(&str, &str)]) {
    let server_toml = "trusted_proxies = [\"127.0.0.1/32\"]";
    let server = TestServer::start_with(&passwordless_toml(BURST_THREAT), server_toml, env).await;
    server.user(POOL, "pia", PASSWORD).await;
    signed_in(
        &code_sign_in(&server, "pia", "203.0.113.40").await,
        "the honest code",
    );
    let attacker = "198.51.100.88";
    for i in 0..5 {
        let r = call(
            &server,
            "InitiateAuth",
            json!({
                "ClientId": CODE_CLIENT,
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": format!("ghost{i}"), "PASSWORD": "wrong-Passw0rd"},
            }),
            attacker,
        )
        .await;
        assert_eq!(kind(&r), "NotAuthorizedException", "{r:?}");
    }
    let blocked = code_sign_in(&server, "pia", attacker).await;
    assert_eq!(kind(&blocked), "NotAuthorizedException", "{blocked:?}");
    assert_eq!(
        blocked.1["message"], "Unable to login because of security reasons.",
        "{blocked:?}"
    );
    // The honest user elsewhere is not held up.
    signed_in(
        &code_sign_in(&server, "pia", "203.0.113.41").await,
        "from elsewhere",
    );
    flush(&server).await;
    let events = events_of(&server, "pia").await;
    let steps: Vec<&AuthEvent> = events
        .iter()
        .filter(|e| e.challenges == ["EmailOtp:Success"])
        .collect();
    assert_eq!(steps.len(), 3, "{events:?}");
    assert!(steps.iter().all(|e| e.details["factor"] == "email"));
    let block = from_address(&events, attacker);
    assert_eq!(block.outcome, AuthEventOutcome::Fail);
    assert_eq!(block.risk.decision, "block");
    assert!(block.risk.signals.contains(&"failure_burst".to_string()));
    server.stop().await;
}

on_both_engines!(
    a_hosted_emailed_code_sign_in_is_scored_sqlite,
    a_hosted_emailed_code_sign_in_is_scored_postgres,
    a_hosted_emailed_code_sign_in_is_scored
);

/// The hosted UI's emailed code is scored as its password is: a new device (low risk,
/// action `block` here) is refused with the security page; the known browser signs in.
async fn a_hosted_emailed_code_sign_in_is_scored(env: &[(&str, &str)]) {
    use crate::mfa::Browser;
    let threat = "mode = \"enforced\"\nlow = { action = \"block\" }";
    let server_toml = "trusted_proxies = [\"127.0.0.1/32\"]";
    let server = TestServer::start_with(&passwordless_toml(threat), server_toml, env).await;
    server.user(POOL, "quin", PASSWORD).await;
    let home = Browser::new(&server);
    hosted_code_sign_in(&server, &home, "quin")
        .await
        .expect_code("the first sign-in");
    flush(&server).await;
    hosted_code_sign_in(&server, &home, "quin")
        .await
        .expect_code("the known browser");
    flush(&server).await;
    let refused = hosted_code_sign_in(&server, &Browser::new(&server), "quin").await;
    assert_eq!(refused.status, 403, "{refused:?}");
    assert!(
        refused.body.contains("security reasons"),
        "{}",
        refused.body
    );
    flush(&server).await;
    let events = events_of(&server, "quin").await;
    let block = events
        .iter()
        .find(|e| e.risk.decision == "block")
        .unwrap_or_else(|| panic!("no blocked event: {events:?}"));
    assert_eq!(block.challenges, ["EmailOtp:Success"]);
    assert_eq!(block.risk.signals, ["new_device"]);
    assert_eq!(block.outcome, AuthEventOutcome::Fail);
    server.stop().await;
}

// --- what an attacker may try on the signals ---------------------------------------------

on_both_engines!(
    events_anyone_can_cause_never_push_sign_ins_out_of_history_sqlite,
    events_anyone_can_cause_never_push_sign_ins_out_of_history_postgres,
    events_anyone_can_cause_never_push_sign_ins_out_of_history
);

/// Sixty ForgotPassword calls under the victim's name (anyone may make them; each is
/// recorded as the victim's) do not push the victim's sign-ins out of the history the
/// signals compare with: the stolen password from a new network still scores.
async fn events_anyone_can_cause_never_push_sign_ins_out_of_history(env: &[(&str, &str)]) {
    let server = start("mode = \"enforced\"\nlow = { action = \"block\" }", "", env).await;
    server.user(POOL, "vera", PASSWORD).await;
    signed_in(
        &password_auth(&server, "vera", PASSWORD, "203.0.113.50").await,
        "the victim at home",
    );
    flush(&server).await;
    let attacker = "198.51.100.99";
    for i in 0..60 {
        // From many addresses, as a botnet would (the code budgets answer most).
        let from = format!("192.0.2.{}", i + 1);
        let r = call(
            &server,
            "ForgotPassword",
            json!({"ClientId": CLIENT, "Username": "vera"}),
            &from,
        )
        .await;
        assert!(r.0 == 200 || kind(&r) == "LimitExceededException", "{r:?}");
    }
    flush(&server).await;
    let blocked = password_auth(&server, "vera", PASSWORD, attacker).await;
    assert_eq!(
        blocked.1["message"], "Unable to login because of security reasons.",
        "the new network still scores: {blocked:?}"
    );
    // The victim at home is not held up.
    signed_in(
        &password_auth(&server, "vera", PASSWORD, "203.0.113.51").await,
        "the victim's own network",
    );
    server.stop().await;
}

on_both_engines!(
    a_risky_sign_in_cannot_set_a_new_password_in_place_of_a_factor_sqlite,
    a_risky_sign_in_cannot_set_a_new_password_in_place_of_a_factor_postgres,
    a_risky_sign_in_cannot_set_a_new_password_in_place_of_a_factor
);

/// Under `mfa`, a risky sign-in with a temporary password (an intercepted reset by an
/// administrator) is refused: setting the new password proves no second factor. From the
/// user's own network the new password is asked as usual.
async fn a_risky_sign_in_cannot_set_a_new_password_in_place_of_a_factor(env: &[(&str, &str)]) {
    let server = start("mode = \"enforced\"\nlow = { action = \"mfa\" }", "", env).await;
    let user = server.user(POOL, "wynn", PASSWORD).await;
    signed_in(
        &password_auth(&server, "wynn", PASSWORD, "203.0.113.60").await,
        "the user at home",
    );
    flush(&server).await;
    let temporary = "Temp-0rary-passw0rd!";
    let pool = server.node.store.get_pool(POOL).await.unwrap().unwrap();
    server
        .node
        .directory
        .set_password(
            &pool,
            &user.sub,
            &cognate::core::secrets::SecretString::new(temporary),
            false,
            cognate::core::now(),
        )
        .await
        .unwrap();
    let refused = password_auth(&server, "wynn", temporary, "198.51.100.61").await;
    assert_eq!(
        refused.1["message"], "Unable to login because of security reasons.",
        "{refused:?}"
    );
    let asked = password_auth(&server, "wynn", temporary, "203.0.113.61").await;
    assert_eq!(asked.0, 200, "{asked:?}");
    assert_eq!(
        asked.1["ChallengeName"], "NEW_PASSWORD_REQUIRED",
        "{asked:?}"
    );
    server.stop().await;
}

on_both_engines!(
    admin_sign_ins_are_scored_by_the_users_context_data_sqlite,
    admin_sign_ins_are_scored_by_the_users_context_data_postgres,
    admin_sign_ins_are_scored_by_the_users_context_data
);

/// ADMIN_USER_PASSWORD_AUTH from the app's server, which names the user's address and
/// browser in `ContextData` (an AWS SDK sends it): scored and recorded as the user's.
async fn admin_sign_ins_are_scored_by_the_users_context_data(env: &[(&str, &str)]) {
    use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
    use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ContextDataType, HttpHeader};
    let server = start("mode = \"enforced\"\nlow = { action = \"block\" }", "", env).await;
    server.user(POOL, "xena", PASSWORD).await;
    let sdk = crate::user_pools::operator_client(&server).await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
    let sign_in = |ip: &str| {
        let context = ContextDataType::builder()
            .ip_address(ip)
            .server_name("app.example.com")
            .server_path("/login")
            .http_headers(
                HttpHeader::builder()
                    .header_name("User-Agent")
                    .header_value(firefox)
                    .build(),
            )
            .build()
            .unwrap();
        sdk.admin_initiate_auth()
            .user_pool_id(POOL)
            .client_id(CLIENT)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "xena")
            .auth_parameters("PASSWORD", PASSWORD)
            .context_data(context)
            .send()
    };
    let home = sign_in("203.0.113.70").await.expect("the user at home");
    assert!(home.authentication_result().is_some());
    flush(&server).await;
    // The same server, the user elsewhere: a new network, blocked.
    let err = sign_in("198.51.100.70").await.expect_err("a new network");
    assert_eq!(err.code(), Some("NotAuthorizedException"), "{err:?}");
    assert_eq!(
        err.message(),
        Some("Unable to login because of security reasons.")
    );
    // The user's own network again: signed in.
    assert!(sign_in("203.0.113.71")
        .await
        .expect("the user's network")
        .authentication_result()
        .is_some());
    // An address that is none is refused by name.
    let err = sign_in("not-an-address").await.expect_err("no address");
    assert_eq!(err.code(), Some("InvalidParameterException"), "{err:?}");
    let events = events_of(&server, "xena").await;
    let at_home = from_address(&events, "203.0.113.70");
    assert_eq!(at_home.user_agent.as_deref(), Some(firefox));
    assert_eq!(at_home.outcome, AuthEventOutcome::Pass);
    let away = from_address(&events, "198.51.100.70");
    assert_eq!(away.risk.signals, ["new_network"]);
    assert_eq!(away.risk.decision, "block");
    server.stop().await;
}

/// A hosted sign-in from client address `from` (a fresh browser): the status and the
/// page (or the redirect's location).
async fn hosted_attempt(
    server: &TestServer,
    user: &str,
    password: &str,
    from: &str,
) -> (u16, String) {
    let browser = browser_client();
    let started = browser
        .get(hosted_authorize(server, true))
        .header("x-forwarded-for", from)
        .send()
        .await
        .unwrap();
    let location = started.headers()["location"].to_str().unwrap().to_string();
    let page = browser
        .get(format!("{}{location}", server.base))
        .header("x-forwarded-for", from)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (flow, csrf) = (
        hidden(&page, "flow").unwrap(),
        hidden(&page, "_csrf").unwrap(),
    );
    let r = browser
        .post(format!("{}/login", server.base))
        .header("x-forwarded-for", from)
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", user),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    match r.headers().get("location") {
        Some(l) => (status, l.to_str().unwrap().to_string()),
        None => (status, r.text().await.unwrap()),
    }
}

// --- impossible travel ------------------------------------------------------------------

fn geo_file() -> (tempfile::TempDir, std::path::PathBuf) {
    let bytes = mmdb::write(&[
        Place {
            network: Ipv4Addr::new(203, 0, 113, 0),
            prefix: 24,
            country: "FR",
            latitude: 48.8566,
            longitude: 2.3522,
        },
        Place {
            network: Ipv4Addr::new(192, 0, 2, 0),
            prefix: 24,
            country: "FR",
            latitude: 48.8049,
            longitude: 2.1204,
        },
        Place {
            network: Ipv4Addr::new(198, 51, 100, 0),
            prefix: 24,
            country: "US",
            latitude: 40.7128,
            longitude: -74.0060,
        },
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test-city.mmdb");
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

#[test]
fn the_test_geoip_file_reads_back_with_maxminddb() {
    let (_dir, path) = geo_file();
    let reader = maxminddb::Reader::open_readfile(&path).expect("a valid MaxMind DB");
    assert_eq!(reader.metadata().ip_version, 4);
    assert_eq!(reader.metadata().record_size, 32);
    let geo = cognate::core::threat::GeoIp::open(&path).unwrap();
    let paris = geo.locate("203.0.113.7".parse().unwrap()).unwrap();
    assert_eq!(paris.country.as_deref(), Some("FR"));
    assert!((paris.latitude - 48.8566).abs() < 1e-9);
    let new_york = geo.locate("198.51.100.5".parse().unwrap()).unwrap();
    assert_eq!(new_york.country.as_deref(), Some("US"));
    assert!((new_york.longitude + 74.006).abs() < 1e-9);
    assert!(geo.locate("10.1.2.3".parse().unwrap()).is_none());
}

on_both_engines!(
    impossible_travel_sqlite,
    impossible_travel_postgres,
    impossible_travel
);

async fn impossible_travel(env: &[(&str, &str)]) {
    let (_dir, path) = geo_file();
    let server_toml = format!("geoip_database = \"{}\"", path.display());
    let server = start(
        "mode = \"enforced\"\nhigh = { action = \"block\" }",
        &server_toml,
        env,
    )
    .await;
    server.user(POOL, "carol", PASSWORD).await;
    signed_in(
        &password_auth(&server, "carol", PASSWORD, "203.0.113.7").await,
        "Paris",
    );
    flush(&server).await;
    // Versailles, minutes later: another network (low), a short way: allowed.
    signed_in(
        &password_auth(&server, "carol", PASSWORD, "192.0.2.7").await,
        "Versailles",
    );
    flush(&server).await;
    // New York, seconds later: impossible.
    let blocked = password_auth(&server, "carol", PASSWORD, "198.51.100.7").await;
    assert_eq!(kind(&blocked), "NotAuthorizedException", "{blocked:?}");
    let events = events_of(&server, "carol").await;
    assert_eq!(events.len(), 3);
    let new_york = from_address(&events, "198.51.100.7");
    assert_eq!(new_york.risk.signals, ["new_network", "impossible_travel"]);
    assert_eq!(new_york.risk.level, RiskLevel::High);
    assert_eq!(new_york.outcome, AuthEventOutcome::Fail);
    assert_eq!(
        new_york
            .location
            .as_ref()
            .and_then(|l| l.country.as_deref()),
        Some("US")
    );
    let versailles = from_address(&events, "192.0.2.7");
    assert_eq!(versailles.risk.signals, ["new_network"]);
    assert_eq!(versailles.risk.level, RiskLevel::Low);
    assert_eq!(versailles.outcome, AuthEventOutcome::Pass);
    server.stop().await;
}

// --- the mfa action -------------------------------------------------------------------

on_both_engines!(
    mfa_action_asks_an_emailed_code_sqlite,
    mfa_action_asks_an_emailed_code_postgres,
    mfa_action_asks_an_emailed_code
);

async fn mfa_action_asks_an_emailed_code(env: &[(&str, &str)]) {
    let server = start("mode = \"enforced\"\nlow = { action = \"mfa\" }", "", env).await;
    server.user(POOL, "dana", PASSWORD).await;
    signed_in(
        &password_auth(&server, "dana", PASSWORD, "203.0.113.7").await,
        "first sign-in",
    );
    flush(&server).await;
    // From the known network: no second factor (the pool's rule asks none).
    signed_in(
        &password_auth(&server, "dana", PASSWORD, "203.0.113.8").await,
        "known network",
    );
    flush(&server).await;
    // From a new network: low risk, mfa: an emailed code first.
    let asked = password_auth(&server, "dana", PASSWORD, "198.51.100.7").await;
    assert_eq!(asked.0, 200, "{asked:?}");
    assert_eq!(asked.1["ChallengeName"], "EMAIL_OTP", "{asked:?}");
    assert!(asked.1.get("AuthenticationResult").is_none());
    let session = asked.1["Session"].as_str().unwrap().to_string();
    let code = emailed_code(&server, "dana@example.com").await;
    let wrong = call(
        &server,
        "RespondToAuthChallenge",
        json!({
            "ClientId": CLIENT,
            "ChallengeName": "EMAIL_OTP",
            "Session": session,
            "ChallengeResponses": {"USERNAME": "dana", "EMAIL_OTP_CODE": if code == "00000000" { "11111111" } else { "00000000" }},
        }),
        "198.51.100.7",
    )
    .await;
    assert_eq!(kind(&wrong), "CodeMismatchException", "{wrong:?}");
    let session = wrong.1["Session"]
        .as_str()
        .map(str::to_string)
        .unwrap_or(session);
    let passed = call(
        &server,
        "RespondToAuthChallenge",
        json!({
            "ClientId": CLIENT,
            "ChallengeName": "EMAIL_OTP",
            "Session": session,
            "ChallengeResponses": {"USERNAME": "dana", "EMAIL_OTP_CODE": code},
        }),
        "198.51.100.7",
    )
    .await;
    signed_in(&passed, "after the emailed code");
    flush(&server).await;
    let events = events_of(&server, "dana").await;
    let away: Vec<&AuthEvent> = events
        .iter()
        .filter(|e| e.address == Some("198.51.100.7".parse().unwrap()))
        .collect();
    let with = |challenge: &str| {
        *away
            .iter()
            .find(|e| e.challenges == [challenge])
            .unwrap_or_else(|| panic!("no {challenge} event: {away:?}"))
    };
    assert_eq!(away.len(), 3, "{away:?}");
    // The password proven, the risk's emailed code asked.
    let asked = with("Password:Success");
    assert_eq!(asked.outcome, AuthEventOutcome::InProgress);
    assert_eq!(asked.risk.decision, "mfa");
    // The wrong code, then the right one: each answer recorded as its own step.
    let failed = with("Mfa:Failure");
    assert_eq!(failed.kind, AuthEventKind::SignIn);
    assert_eq!(failed.outcome, AuthEventOutcome::Fail);
    assert_eq!(failed.details["factor"], "email");
    assert_eq!(failed.details["reason"], "code_mismatch");
    assert_eq!(failed.client_id.as_deref(), Some(CLIENT));
    let passed = with("Mfa:Success");
    assert_eq!(passed.kind, AuthEventKind::SignIn);
    assert_eq!(passed.outcome, AuthEventOutcome::Pass);
    assert_eq!(passed.details["factor"], "email");
    assert_eq!(passed.sub, asked.sub);
    server.stop().await;
}

/// The code (a run of 6 to 8 digits) of the newest code mail to `to`.
async fn emailed_code(server: &TestServer, to: &str) -> String {
    for _ in 0..200 {
        let found = server.inbox.all().iter().rev().find_map(|m| {
            if !m.contains(&format!("To: {to}")) {
                return None;
            }
            mail_text(m)
                .split(|c: char| !c.is_ascii_digit())
                .find(|run| (6..=8).contains(&run.len()))
                .map(str::to_string)
        });
        if let Some(code) = found {
            return code;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no code mailed to {to}");
}

on_both_engines!(
    hosted_mfa_action_asks_an_emailed_code_sqlite,
    hosted_mfa_action_asks_an_emailed_code_postgres,
    hosted_mfa_action_asks_an_emailed_code
);

/// The hosted UI's side of the `mfa` action: a new device must pass an emailed code (the
/// pool's rule alone asks no second factor); the known device signs in with the password.
async fn hosted_mfa_action_asks_an_emailed_code(env: &[(&str, &str)]) {
    use crate::mfa::{Browser, PASSWORD as MFA_PASSWORD};
    let server = start("mode = \"enforced\"\nlow = { action = \"mfa\" }", "", env).await;
    server.user(POOL, "hal", MFA_PASSWORD).await;
    let home = Browser::new(&server);
    let (_, page) = home.password(CLIENT, "hal").await;
    page.expect_code("the first sign-in");
    flush(&server).await;
    let flow = home.start(CLIENT, &[("prompt", "login")]).await;
    home.password_on(&flow, "hal")
        .await
        .expect_code("the known device");
    flush(&server).await;

    let away = Browser::new(&server);
    let (flow, page) = away.password(CLIENT, "hal").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    let challenge = away.get(page.location()).await;
    assert_eq!(challenge.status, 200, "{challenge:?}");
    let sent = away.form(&flow, "/login/mfa/email-code", &[]).await;
    assert_eq!(sent.status, 200, "{sent:?}");
    let code = emailed_code(&server, "hal@example.com").await;
    away.form(&flow, "/login/mfa", &[("factor", "email"), ("code", &code)])
        .await
        .expect_code("the new device after the emailed code");
    flush(&server).await;
    // The answer is a sign-in step of its own, with the browser's device: that device
    // is now known, and signs in again with the password alone.
    let events = events_of(&server, "hal").await;
    let passed = events
        .iter()
        .find(|e| e.challenges == ["Mfa:Success"])
        .unwrap_or_else(|| panic!("no second factor event: {events:?}"));
    assert_eq!(passed.outcome, AuthEventOutcome::Pass);
    assert_eq!(passed.details["factor"], "email");
    assert!(passed.device.is_some(), "{passed:?}");
    let flow = away.start(CLIENT, &[("prompt", "login")]).await;
    away.password_on(&flow, "hal")
        .await
        .expect_code("the device that passed the emailed code");
    server.stop().await;
}

// --- audit mode -------------------------------------------------------------------------

on_both_engines!(
    audit_mode_records_without_acting_sqlite,
    audit_mode_records_without_acting_postgres,
    audit_mode_records_without_acting
);

async fn audit_mode_records_without_acting(env: &[(&str, &str)]) {
    let threat = BURST_THREAT.replace("enforced", "audit");
    let server = start(&threat, "", env).await;
    server.user(POOL, "erin", PASSWORD).await;
    let attacker = "198.51.100.66";
    for i in 0..5 {
        let r = password_auth(&server, &format!("ghost{i}"), "wrong-Passw0rd", attacker).await;
        assert_eq!(kind(&r), "NotAuthorizedException");
    }
    let wrong = password_auth(&server, "erin", "wrong-Passw0rd", "203.0.113.5").await;
    assert_eq!(kind(&wrong), "NotAuthorizedException");
    // Scored high, not blocked.
    signed_in(
        &password_auth(&server, "erin", PASSWORD, attacker).await,
        "audit mode does not block",
    );
    let events = events_of(&server, "erin").await;
    assert_eq!(events.len(), 2, "{events:?}");
    let scored = from_address(&events, attacker);
    assert_eq!(scored.outcome, AuthEventOutcome::Pass);
    assert_eq!(scored.risk.level, RiskLevel::High);
    assert_eq!(scored.risk.signals, ["failure_burst"]);
    assert_eq!(scored.risk.decision, "audit");
    let failed = from_address(&events, "203.0.113.5");
    assert_eq!(failed.outcome, AuthEventOutcome::Fail);
    assert_eq!(failed.challenges, ["Password:Failure"]);
    assert_eq!(notices_to(&server, "erin@example.com"), 0);
    server.stop().await;
}

// --- SRP sign-ins are recorded too ---------------------------------------------------

/// USER_SRP_AUTH, both steps, through the AWS SDK and an independent SRP client; the
/// refusal's code.
async fn srp_sign_in(server: &TestServer, user: &str, password: &str) -> Result<(), String> {
    use aws_cognito_srp::{SrpClient, User as SrpUser, UserAuthenticationParameters};
    use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
    use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
    let sdk = crate::user_pools::public_client(server);
    let srp = SrpClient::new(SrpUser::new(POOL, user, password), CLIENT, None);
    let UserAuthenticationParameters { a, username } = srp.get_auth_parameters();
    let challenge = sdk
        .initiate_auth()
        .client_id(CLIENT)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("SRP_A", a)
        .send()
        .await
        .map_err(|e| e.code().unwrap_or_default().to_string())?;
    let p = challenge.challenge_parameters().unwrap();
    let v = srp
        .verify(
            &p["SECRET_BLOCK"],
            &p["USER_ID_FOR_SRP"],
            &p["SALT"],
            &p["SRP_B"],
        )
        .unwrap();
    sdk.respond_to_auth_challenge()
        .client_id(CLIENT)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .send()
        .await
        .map_err(|e| e.code().unwrap_or_default().to_string())?;
    Ok(())
}

on_both_engines!(
    srp_sign_ins_are_recorded_sqlite,
    srp_sign_ins_are_recorded_postgres,
    srp_sign_ins_are_recorded
);

async fn srp_sign_ins_are_recorded(env: &[(&str, &str)]) {
    let server = start("mode = \"audit\"", "", env).await;
    server.user(POOL, "gus", PASSWORD).await;
    assert_eq!(
        srp_sign_in(&server, "gus", "wrong-Passw0rd").await,
        Err("NotAuthorizedException".to_string())
    );
    srp_sign_in(&server, "gus", PASSWORD)
        .await
        .expect("SRP sign-in");
    let events = events_of(&server, "gus").await;
    assert_eq!(events.len(), 2, "{events:?}");
    let passed = events
        .iter()
        .find(|e| e.outcome == AuthEventOutcome::Pass)
        .expect("the SRP sign-in");
    assert_eq!(passed.challenges, ["PasswordVerifier:Success"]);
    assert_eq!(passed.risk.decision, "audit");
    let failed = events
        .iter()
        .find(|e| e.outcome == AuthEventOutcome::Fail)
        .expect("the wrong proof");
    assert_eq!(failed.challenges, ["PasswordVerifier:Failure"]);
    server.stop().await;
}

// --- threat protection off records nothing --------------------------------------------

#[tokio::test]
async fn off_records_nothing() {
    let server = start("mode = \"off\"", "", &[]).await;
    server.user(POOL, "fay", PASSWORD).await;
    signed_in(
        &password_auth(&server, "fay", PASSWORD, "203.0.113.5").await,
        "off",
    );
    assert!(events_of(&server, "fay").await.is_empty());
    server.stop().await;
}
