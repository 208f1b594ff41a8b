//! A password reset by code signs the user out everywhere (issue 8, hole 9): whoever
//! knew the old password may hold a session, refresh tokens and unexchanged codes; after
//! the reset none of them works, and access tokens issued before are refused, while the
//! new password signs in and what it issues works.

use std::time::Duration;

use serde_json::Value;

use super::{on_both_engines, pkce, Env, Flow, CALLBACK, NEW_PASSWORD, PASSWORD, POOL, SPA};

on_both_engines!(a_reset_by_code_ends_sessions_and_refresh_tokens);

/// The `code` of a redirect to the client.
fn code_of(location: &str) -> String {
    assert!(location.starts_with(CALLBACK), "{location}");
    let url = url::Url::parse(location).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| panic!("no code in {location}"))
}

async fn token(env: &Env, form: &[(&str, &str)]) -> (u16, Value) {
    let r = crate::support::http()
        .post(format!("{}/oauth2/token", env.server.base))
        .form(form)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn exchange(env: &Env, code: &str) -> Value {
    let verifier = pkce().verifier;
    let (status, json) = token(
        env,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier.as_str()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{json}");
    json
}

async fn refresh(env: &Env, refresh_token: &str) -> (u16, Value) {
    token(
        env,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", refresh_token),
        ],
    )
    .await
}

async fn userinfo(env: &Env, access_token: &str) -> u16 {
    crate::support::http()
        .get(format!("{}/oauth2/userInfo", env.server.base))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Where the authorization request takes the flow's browser: straight back to the client
/// with a code when its session signs it in silently, else to the login page.
async fn silent(env: &Env, flow: &Flow) -> String {
    let r = flow.browser.get(env.authorize_url()).send().await.unwrap();
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn a_reset_by_code_ends_sessions_and_refresh_tokens(engine: super::Engine) {
    let Some(env) = Env::start(engine, "").await else {
        return;
    };
    env.server.user(POOL, "vic", PASSWORD).await;
    let from = "192.0.2.30";
    // Signed in with the old password: a session and tokens.
    let old = env.flow().await;
    let page = old.sign_in("vic", PASSWORD, from).await;
    let old_tokens = exchange(&env, &code_of(&page.location.unwrap_or_default())).await;
    let old_refresh = old_tokens["refresh_token"].as_str().unwrap().to_string();
    let old_access = old_tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(userinfo(&env, &old_access).await, 200);
    let (status, json) = refresh(&env, &old_refresh).await;
    assert_eq!(status, 200, "{json}");
    code_of(&silent(&env, &old).await);
    // A code from a sign-in with the old password, not yet exchanged.
    let pending = env.flow().await;
    let page = pending.sign_in("vic", PASSWORD, from).await;
    let pending_code = code_of(&page.location.unwrap_or_default());
    // Access tokens and codes are refused by the second of their sign-in or issue: let
    // that second pass.
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // The reset by code, from another browser.
    let reset = env.flow().await;
    let page = reset.forgot("vic", from).await;
    assert_eq!(page.status, 303, "{}", page.body);
    let code = env.server.inbox.code_for("vic@example.com").await;
    let page = reset.reset("vic", &code, NEW_PASSWORD, from).await;
    assert_eq!(page.status, 303, "{}", page.body);

    // What the old password got no longer works.
    assert_eq!(
        userinfo(&env, &old_access).await,
        401,
        "the old access token"
    );
    let (status, json) = refresh(&env, &old_refresh).await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let verifier = pkce().verifier;
    let (status, json) = token(
        &env,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", pending_code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", verifier.as_str()),
        ],
    )
    .await;
    assert_eq!(
        (status, json["error"].as_str()),
        (400, Some("invalid_grant")),
        "a code from before the reset"
    );
    let location = silent(&env, &old).await;
    assert!(location.starts_with("/login?flow="), "{location}");
    let retry = env.flow().await;
    let page = retry.sign_in("vic", PASSWORD, from).await;
    assert_eq!(page.status, 200, "the old password: {page:?}");
    assert!(page.location.is_none(), "the old password: {page:?}");

    // The new password signs in, and what it gets works, session included.
    let fresh = env.flow().await;
    let page = fresh.sign_in("vic", NEW_PASSWORD, from).await;
    let tokens = exchange(&env, &code_of(&page.location.unwrap_or_default())).await;
    assert_eq!(
        userinfo(&env, tokens["access_token"].as_str().unwrap()).await,
        200
    );
    let (status, json) = refresh(&env, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{json}");
    code_of(&silent(&env, &fresh).await);
    env.stop().await;
}
