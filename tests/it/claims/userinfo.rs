//! What an app client's `read_attributes` releases to the ID token and to userInfo, and
//! userInfo answering POST as it answers GET.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::server::{browser_client, TestServer};

use super::{
    claims_of, code_authorize, code_for, exchange, rich_user, set, spa_authorize, spa_exchange,
    start, userinfo, Pkce, POOL, READER, SPA,
};

/// The claims `client` reads of alice (in `browser`, signed in by its first call): its ID
/// token's, and userInfo's for its access token.
async fn read_by(server: &TestServer, browser: &reqwest::Client, client: &str) -> (Value, Value) {
    let pkce = Pkce::new(client);
    let authorize = code_authorize(&server.base, client, &pkce, "n-read");
    let code = code_for(browser, &server.base, &authorize, "alice").await;
    let tokens = exchange(&server.base, client, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{client}: {}", tokens.json);
    let (status, _, body) = userinfo(&server.base, &tokens.str("access_token")).await;
    assert_eq!(status, 200, "{client}: {body}");
    (
        claims_of(&tokens.str("id_token")),
        serde_json::from_str(&body).unwrap(),
    )
}

fn keys(value: &Value) -> BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

/// Cognito's `ReadAttributes`: a client that may read only some attributes finds only those
/// in its ID tokens and at userInfo (even with `aws.cognito.signin.user.admin`, which
/// releases every attribute); a client that lists none reads them all.
#[tokio::test]
async fn read_attributes_limit_the_id_token_and_userinfo() {
    let server = start().await;
    let alice = rich_user(&server, POOL, "alice").await;
    let browser = browser_client();

    let (id, info) = read_by(&server, &browser, READER).await;
    assert_eq!(id["aud"], READER);
    assert_eq!(id["sub"], alice.sub.as_str());
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], Value::Bool(true));
    assert_eq!(id["custom:tier"], "gold");
    for hidden in ["name", "custom:level"] {
        assert!(id.get(hidden).is_none(), "{hidden} in {id}");
    }
    assert_eq!(
        keys(&info),
        set(&["sub", "username", "email", "email_verified", "custom:tier"]),
        "{info}"
    );
    assert_eq!(info["custom:tier"], "gold");

    // The same user, the same session, a client with every attribute readable.
    let (id, info) = read_by(&server, &browser, SPA).await;
    assert_eq!(id["aud"], SPA);
    assert_eq!(id["sub"], alice.sub.as_str());
    assert_eq!(id["name"], "alice Liddell");
    assert_eq!(id["custom:tier"], "gold");
    assert_eq!(id["custom:level"], "7");
    assert_eq!(
        keys(&info),
        set(&[
            "sub",
            "username",
            "email",
            "email_verified",
            "name",
            "custom:tier",
            "custom:level"
        ]),
        "{info}"
    );
    server.stop().await;
}

/// RFC 6750 section 2.1 and Cognito: userInfo answers `POST` with the Bearer header as it
/// answers `GET`, and refuses a `POST` without a token.
#[tokio::test]
async fn userinfo_answers_post_as_it_answers_get() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let pkce = Pkce::new("post-userinfo");
    let authorize = spa_authorize(&base, &pkce, "n");
    let code = code_for(&browser_client(), &base, &authorize, "alice").await;
    let tokens = spa_exchange(&base, &code, &pkce.verifier).await;
    let access_token = tokens.str("access_token");
    let post = |bearer: Option<&str>| {
        let mut request = crate::support::http()
            .post(format!("{base}/oauth2/userInfo"))
            .form(&[("unrelated", "field")]);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send()
    };

    let refused = post(None).await.unwrap();
    assert_eq!(refused.status(), 401);
    let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
    let forged = post(Some("not-a-token")).await.unwrap();
    assert_eq!(forged.status(), 401);

    let (status, _, got) = userinfo(&base, &access_token).await;
    assert_eq!(status, 200, "{got}");
    let posted = post(Some(&access_token)).await.unwrap();
    assert_eq!(posted.status(), 200);
    assert_eq!(
        posted.headers()["cache-control"].to_str().unwrap(),
        "no-store"
    );
    let posted: Value = posted.json().await.unwrap();
    assert_eq!(posted, serde_json::from_str::<Value>(&got).unwrap());
    assert_eq!(posted["email"], "alice@example.com");
    server.stop().await;
}
