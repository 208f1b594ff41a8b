//! Sign in with Apple end to end against a fake Apple: `response_mode=form_post` (the
//! cross-site POST to `/oauth2/idpresponse`, stored and continued by a same-site 303 GET),
//! the ES256 client secret minted from the `.p8` key (which the fake verifies), the
//! first-authorization `user` JSON (name only; the email comes from the signed ID token),
//! string or boolean `email_verified`, private relay emails, and replays of the POST.
//! One test drives a real Chromium with the fake Apple on another site. The attacks on the
//! ID token, the posted fields and Apple's error answers are in [`attacks`].

mod attacks;

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::support::browser::Browser;
use crate::support::fake_apple::{generate_p8, Bendable, FakeApple, TokenMode};
use crate::support::fake_oidc::FakeOidc;
use crate::support::federated::{
    apple_form, apple_idp, assert_failed_page, assert_page, assert_refused_post, button_href,
    callback as continue_in, fake_google, google_idp, location, login_page, param, post_form,
    Client, Outcome, APPLE_KEY_ENV, BARE_REFUSED, EXPIRED, FAILED, GOOGLE_SECRET_ENV,
    WRONG_CALLBACK,
};
use crate::support::server::{browser_client, TestServer};

const POOL: &str = "us-east-1_AppleTest1";
const CLIENT: &str = "appleweb00000000000000001";
const SERVICES_ID: &str = "com.example.web";
const TEAM: &str = "ABCDE12345";
const KEY_ID: &str = "KEY1234567";
const VERIFIER: &str = "apple-test-verifier-0123456789-abcdefghijklmnopqrstuv";
const SUB: &str = "001234.5f2b1c0e9a8d4b7c.0815";

struct Env {
    server: TestServer,
    apple: FakeApple,
    /// A provider that answers in the query, not by form_post (see [`env_with_google`]).
    google: Option<FakeOidc>,
    callback: String,
}

impl Env {
    /// The pool's client.
    fn rp(&self) -> Client {
        Client::new(CLIENT, &self.callback, VERIFIER)
    }
}

/// A pool with `SignInWithApple` (the apple preset, endpoints pointed at the fake) and a
/// client whose callback is `callback`. Cognate signs client secrets with `cognate_p8`;
/// the fake accepts those of `registered_public` only.
async fn env_with(
    apple_host: &str,
    callback: &str,
    cognate_p8: &str,
    registered_public: Vec<u8>,
) -> Env {
    env_full(apple_host, callback, cognate_p8, registered_public, None).await
}

/// [`env`] plus `Google` (the google preset on a fake OIDC IdP), which answers in the
/// query of a GET, as every provider but Apple does.
async fn env_with_google() -> Env {
    let google = fake_google().await;
    google.set_user(
        "g-carol",
        json!({"email": "carol@example.com", "email_verified": true, "name": "Carol"}),
    );
    let (pem, public) = generate_p8();
    env_full(
        "127.0.0.1",
        "https://app.example.com/cb",
        &pem,
        public,
        Some(google),
    )
    .await
}

async fn env_full(
    apple_host: &str,
    callback: &str,
    cognate_p8: &str,
    registered_public: Vec<u8>,
    google: Option<FakeOidc>,
) -> Env {
    let apple = FakeApple::start(apple_host, SERVICES_ID, TEAM, KEY_ID, registered_public).await;
    let client = Client::new(CLIENT, callback, VERIFIER);
    let (google_idp, client) = match &google {
        Some(g) => (
            google_idp(&g.issuer),
            client.toml(&["SignInWithApple", "Google"]),
        ),
        None => (String::new(), client.toml(&["SignInWithApple"])),
    };
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Apple federation tests\"\n{}{google_idp}{client}",
        apple_idp(&apple.base, SERVICES_ID, TEAM, KEY_ID),
    );
    let server = TestServer::start_with(
        &pools,
        "idp_timeout_secs = 5",
        &[(APPLE_KEY_ENV, cognate_p8), GOOGLE_SECRET_ENV],
    )
    .await;
    Env {
        server,
        apple,
        google,
        callback: callback.to_string(),
    }
}

async fn env() -> Env {
    let (pem, public) = generate_p8();
    env_with("127.0.0.1", "https://app.example.com/cb", &pem, public).await
}

fn authorize_url(env: &Env) -> String {
    authorize_url_for(env, "SignInWithApple")
}

fn authorize_url_for(env: &Env, idp: &str) -> String {
    env.rp()
        .authorize_url(&env.server.base, &[("identity_provider", idp)])
}

/// Authorize at Cognate with `identity_provider=SignInWithApple`, then at the fake Apple:
/// the upstream authorization URL and the form Apple's page would POST.
async fn at_apple(browser: &reqwest::Client, env: &Env) -> (String, Vec<(String, String)>) {
    let r = browser.get(authorize_url(env)).send().await.unwrap();
    let upstream = location(&r);
    assert_eq!(param(&upstream, "scope").as_deref(), Some("name email"));
    assert!(param(&upstream, "nonce").is_some_and(|n| n.len() >= 32));
    assert!(param(&upstream, "state").is_some());
    assert!(
        param(&upstream, "code_challenge").is_none(),
        "Apple has no PKCE"
    );
    let (action, fields) = apple_form(browser, &upstream).await;
    // The bare callback while Apple is the instance's only provider; its own beside Google.
    let expected = match env.google {
        None => format!("{}/oauth2/idpresponse", env.server.base),
        Some(_) => format!(
            "{}/oauth2/idpresponse/{POOL}/SignInWithApple",
            env.server.base
        ),
    };
    assert_eq!(action, expected);
    assert_eq!(param(&upstream, "redirect_uri"), Some(expected));
    (action, fields)
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A whole sign-in in a fresh browser; the client's redirect or the page shown.
async fn sign_in(env: &Env) -> Outcome {
    let browser = browser_client();
    let (action, fields) = at_apple(&browser, env).await;
    let posted = post_form(&action, &fields).await;
    if posted.status() != 303 {
        return Err((posted.status().as_u16(), posted.text().await.unwrap()));
    }
    let continuation = location(&posted);
    continue_in(&browser, &continuation).await
}

async fn id_token_of(env: &Env, redirect: &str) -> Value {
    env.rp().id_token(&env.server.base, redirect).await
}

/// The client heard the OAuth error `code` on its redirect URI (RFC 6749 section
/// 4.1.2.1), with its own state and Cognate's issuer (RFC 9207), and no code.
fn assert_oauth_error(env: &Env, redirect: &str, code: &str) {
    env.rp().assert_error(redirect, code);
    assert_eq!(
        param(redirect, "iss"),
        Some(format!("{}/{POOL}", env.server.base))
    );
    assert!(param(redirect, "error_description").is_some());
}

#[tokio::test]
async fn first_sign_in_takes_the_name_from_the_user_json_and_the_email_from_the_id_token() {
    let env = env().await;
    env.apple.set_user(
        SUB,
        json!({"email": "ada@example.com", "email_verified": true, "is_private_email": false}),
        Some(json!({
            "name": {"firstName": "Ada", "lastName": "Lovelace"},
            "email": "forged@evil.example",
        })),
    );
    let browser = browser_client();
    let (action, fields) = at_apple(&browser, &env).await;
    assert!(field(&fields, "user").is_some(), "first authorization");
    assert!(field(&fields, "id_token").is_some());
    let posted = post_form(&action, &fields).await;
    assert_eq!(posted.status(), 303);
    let continuation = location(&posted);
    // The continuation token: only this browser, which posted, received it.
    assert!(param(&continuation, "posted").is_some_and(|t| t.len() >= 43));
    assert_eq!(
        param(&continuation, "state").as_deref(),
        field(&fields, "state")
    );
    let redirect = continue_in(&browser, &continuation).await.unwrap();
    let claims = id_token_of(&env, &redirect).await;
    let username = format!("SignInWithApple_{SUB}");
    assert_eq!(claims["cognito:username"], username);
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["given_name"], "Ada");
    assert_eq!(claims["family_name"], "Lovelace");
    let identities = claims["identities"].as_array().unwrap();
    assert_eq!(identities[0]["providerType"], "SignInWithApple");
    assert_eq!(identities[0]["providerName"], "SignInWithApple");
    assert_eq!(identities[0]["userId"], SUB);
    assert!(claims["cognito:groups"]
        .as_array()
        .unwrap()
        .contains(&json!(format!("{POOL}_SignInWithApple"))));

    let stored = env
        .server
        .find_user(POOL, &username)
        .await
        .expect("the user");
    assert_eq!(stored.attributes["email"], "ada@example.com");
    assert_eq!(stored.attributes["email_verified"], "true");
    assert_eq!(stored.attributes["given_name"], "Ada");
    assert!(stored
        .attributes
        .values()
        .all(|v| !v.contains("forged@evil.example")));

    // Later sign-ins carry no `user` JSON: the name stays, the email follows the token.
    env.apple.set_user(
        SUB,
        json!({"email": "ada@newmail.example", "email_verified": true}),
        Some(json!({"name": {"firstName": "Eve", "lastName": "Mallory"}})),
    );
    let browser = browser_client();
    let (action, fields) = at_apple(&browser, &env).await;
    assert!(field(&fields, "user").is_none(), "only the first time");
    let posted = post_form(&action, &fields).await;
    let redirect = continue_in(&browser, &location(&posted)).await.unwrap();
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["given_name"], "Ada");
    assert_eq!(claims["family_name"], "Lovelace");
    assert_eq!(claims["email"], "ada@newmail.example");
    assert_eq!(env.server.user_count(POOL).await, 1);
    // Cognate minted one client secret and reused it: every exchange was accepted.
    assert_eq!(env.apple.refused_secrets(), 0);
    assert_eq!(env.apple.token_requests(), 2);
}

#[tokio::test]
async fn string_email_verified_and_private_relay_emails() {
    let env = env().await;
    env.apple.set_user(
        "000111.relay.0001",
        json!({
            "email": "x7k2abc9qz@privaterelay.appleid.com",
            "email_verified": "true",
            "is_private_email": "true",
        }),
        None,
    );
    let redirect = sign_in(&env).await.unwrap();
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["email"], "x7k2abc9qz@privaterelay.appleid.com");
    assert_eq!(claims["email_verified"], true);
    let stored = env
        .server
        .find_user(POOL, "SignInWithApple_000111.relay.0001")
        .await
        .unwrap();
    assert_eq!(
        stored.attributes["email"],
        "x7k2abc9qz@privaterelay.appleid.com"
    );
    assert_eq!(stored.attributes["email_verified"], "true");
    assert!(!stored.attributes.contains_key("given_name"));

    env.apple.set_user(
        "000222.plain.0002",
        json!({"email": "bob@example.com", "email_verified": "false", "is_private_email": false}),
        None,
    );
    let redirect = sign_in(&env).await.unwrap();
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["email_verified"], false);
    let stored = env
        .server
        .find_user(POOL, "SignInWithApple_000222.plain.0002")
        .await
        .unwrap();
    assert_eq!(stored.attributes["email_verified"], "false");
}

#[tokio::test]
async fn the_form_post_cannot_be_replayed_or_continued_in_another_browser() {
    let env = env().await;
    env.apple.set_user(
        SUB,
        json!({"email": "ada@example.com", "email_verified": true}),
        None,
    );

    // A second POST for the same state is refused, before and after the continuation.
    let browser = browser_client();
    let (action, fields) = at_apple(&browser, &env).await;
    let first = post_form(&action, &fields).await;
    assert_eq!(first.status(), 303);
    let replay = post_form(&action, &fields).await;
    assert_eq!(replay.status(), 400);
    assert!(replay.text().await.unwrap().contains(EXPIRED));
    let continuation = location(&first);
    let redirect = continue_in(&browser, &continuation).await.unwrap();
    assert!(redirect.starts_with(&env.callback));
    let after = post_form(&action, &fields).await;
    assert_eq!(after.status(), 400);
    // Nor is the continuation usable twice.
    assert_failed_page(
        continue_in(&browser, &continuation).await,
        "a replayed continuation",
    );
    assert_eq!(env.server.user_count(POOL).await, 1);

    // The continuation without the browser's cookie (another browser) is refused and
    // does not spend the attempt: the right browser finishes it afterwards, once.
    let victim = browser_client();
    let (action, fields) = at_apple(&victim, &env).await;
    let posted = post_form(&action, &fields).await;
    let continuation = location(&posted);
    assert_failed_page(
        continue_in(&browser_client(), &continuation).await,
        "a continuation in another browser",
    );
    let redirect = continue_in(&victim, &continuation)
        .await
        .expect("the owner's continuation");
    assert!(redirect.starts_with(&env.callback));
    assert_failed_page(
        continue_in(&victim, &continuation).await,
        "a continuation after the flow was finished",
    );
    // A code in a plain GET query is not how Apple answers: refused.
    let victim = browser_client();
    let (_, fields) = at_apple(&victim, &env).await;
    let mut forged = url::Url::parse(&action).unwrap();
    forged
        .query_pairs_mut()
        .append_pair("state", field(&fields, "state").unwrap())
        .append_pair("code", field(&fields, "code").unwrap());
    assert_failed_page(
        continue_in(&victim, forged.as_str()).await,
        "a form_post answer sent as a GET",
    );
    // A POST with an unknown state is refused.
    let unknown = post_form(
        &action,
        &[
            ("state".to_string(), "not-a-state".to_string()),
            ("code".to_string(), "c".to_string()),
        ],
    )
    .await;
    assert_eq!(unknown.status(), 400);

    // Login CSRF: the attacker starts an attempt and leads a victim to Apple with it;
    // the victim's browser posts the victim's answer. The attacker holds the flow's
    // cookie but not the token the victim's browser got: nothing to finish.
    let attacker = browser_client();
    let (action, fields) = at_apple(&attacker, &env).await;
    let victims_post = post_form(&action, &fields).await;
    let victims_continuation = location(&victims_post);
    assert_failed_page(
        continue_in(&browser_client(), &victims_continuation).await,
        "the victim's own continuation (not the flow's browser)",
    );
    let mut without_token = url::Url::parse(&victims_continuation).unwrap();
    let kept: Vec<(String, String)> = without_token
        .query_pairs()
        .filter(|(k, _)| k != "posted")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    without_token.query_pairs_mut().clear().extend_pairs(&kept);
    for forged in [
        without_token.to_string(),
        format!("{without_token}&posted=1"),
        format!("{without_token}&posted=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        assert_failed_page(
            continue_in(&attacker, &forged).await,
            "the attacker's continuation without the victim's token",
        );
    }
    assert_eq!(env.server.user_count(POOL).await, 1);

    // The corrected flow succeeds.
    let redirect = sign_in(&env).await.unwrap();
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn the_fake_apple_refuses_a_client_secret_signed_by_another_key() {
    // Cognate holds one .p8, Apple knows the public key of another.
    let (cognate_pem, _) = generate_p8();
    let (_, registered) = generate_p8();
    let bad = env_with(
        "127.0.0.1",
        "https://app.example.com/cb",
        &cognate_pem,
        registered,
    )
    .await;
    bad.apple.set_user(
        SUB,
        json!({"email": "ada@example.com", "email_verified": true}),
        None,
    );
    assert_failed_page(sign_in(&bad).await, "a bad client secret");
    assert_eq!(bad.apple.refused_secrets(), 1);
    assert_eq!(bad.server.user_count(POOL).await, 0);

    // The corrected configuration (the registered key) signs in.
    let env = env().await;
    env.apple.set_user(
        SUB,
        json!({"email": "ada@example.com", "email_verified": true}),
        None,
    );
    assert!(sign_in(&env).await.is_ok());
    assert_eq!(env.apple.refused_secrets(), 0);
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn the_sign_in_page_button_leads_through_apple() {
    let env = env().await;
    env.apple.set_user(
        SUB,
        json!({"email": "ada@example.com", "email_verified": true}),
        Some(json!({"name": {"firstName": "Ada", "lastName": "Lovelace"}})),
    );
    let browser = browser_client();
    let url = authorize_url(&env).replace("&identity_provider=SignInWithApple", "");
    let (_, page) = login_page(&browser, &env.server.base, &url).await;
    assert!(page.contains("Apple"));
    let button = button_href(&env.server.base, &page, "SignInWithApple");
    let r = browser.get(&button).send().await.unwrap();
    let upstream = location(&r);
    assert_eq!(param(&upstream, "scope").as_deref(), Some("name email"));
    let (action, fields) = apple_form(&browser, &upstream).await;
    let posted = post_form(&action, &fields).await;
    assert_eq!(posted.status(), 303);
    let redirect = continue_in(&browser, &location(&posted))
        .await
        .expect("signed in through the button");
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["cognito:username"], format!("SignInWithApple_{SUB}"));
    assert_eq!(claims["given_name"], "Ada");
}

/// The client's callback page on another origin (`http://localhost:<port>/cb`).
async fn client_origin() -> String {
    use axum::response::Html;
    let app = axum::Router::new().route(
        "/cb",
        axum::routing::get(|| async { Html("<!doctype html><title>callback</title><p>back</p>") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://localhost:{port}")
}

#[tokio::test]
async fn a_real_browser_survives_apples_cross_site_form_post() {
    let Some(browser) = Browser::start("apple-form-post").await else {
        return;
    };
    let app = client_origin().await;
    let (pem, public) = generate_p8();
    // The fake Apple is another site (`localhost`) than Cognate (`127.0.0.1`): its form
    // POST to Cognate carries no SameSite=Lax cookie.
    let env = env_with("localhost", &format!("{app}/cb"), &pem, public).await;
    env.apple.set_user(
        SUB,
        json!({"email": "ada@example.com", "email_verified": "true"}),
        Some(json!({"name": {"firstName": "Ada", "lastName": "Lovelace"}})),
    );
    browser.goto(&authorize_url(&env)).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let landed = loop {
        let url = browser.client.current_url().await.expect("current url");
        if url.as_str().starts_with(&env.callback) {
            break url;
        }
        if Instant::now() >= deadline {
            let title = browser.title().await;
            panic!("the browser did not reach the client: {url} ({title:?})");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let redirect = landed.to_string();
    let claims = id_token_of(&env, &redirect).await;
    assert_eq!(claims["cognito:username"], format!("SignInWithApple_{SUB}"));
    assert_eq!(claims["given_name"], "Ada");
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(env.apple.refused_secrets(), 0);
}
