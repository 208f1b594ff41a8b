//! Federated sign-ins that go through: the `identity_provider` shortcut creating and then
//! updating the user, the sign-in page's button, and refresh without the IdP (stopping
//! when the user is disabled).

use serde_json::{json, Value};

use crate::support::federated::{at_idp, callback, location, login_page, param, payload};
use crate::support::server::{absolute, browser_client};

use super::{authorize_url, env, id_token, redeem, rp, sign_in, Env, CLIENT, POOL};

#[tokio::test]
async fn identity_provider_shortcut_signs_in_creates_and_then_updates_the_user() {
    let env = env().await;
    let redirect = sign_in(&env, "Google").await.expect("signed in");
    let tokens = redeem(&env, &redirect).await;
    let id = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "Google_g-alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["name"], "Alice");
    assert_eq!(id["nonce"], "client-nonce");
    let group = format!("{POOL}_Google");
    assert_eq!(id["cognito:groups"], json!([group]));
    let identities = id["identities"].as_array().expect("identities claim");
    assert_eq!(identities.len(), 1);
    let first = &identities[0];
    assert_eq!(first["userId"], "g-alice");
    assert_eq!(first["providerName"], "Google");
    assert_eq!(first["providerType"], "Google");
    assert_eq!(first["issuer"], Value::Null);
    assert_eq!(first["primary"], "true");
    assert!(first["dateCreated"]
        .as_str()
        .unwrap()
        .parse::<i64>()
        .is_ok());

    let stored = env
        .server
        .find_user(POOL, "Google_g-alice")
        .await
        .expect("the user");
    assert_eq!(stored.status.as_str(), "EXTERNAL_PROVIDER");
    assert!(stored.password_hash.is_none());
    let groups = env
        .server
        .node
        .store
        .groups_of_user(POOL, &stored.sub)
        .await
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0].name, group);

    // A later sign-in updates the mapped attributes of the same user.
    env.google.set_user(
        "g-alice",
        json!({"email": "alice@example.com", "email_verified": true, "name": "Alice Liddell"}),
    );
    let redirect = sign_in(&env, "Google").await.expect("signed in again");
    let id = id_token(&env, &redirect).await;
    assert_eq!(id["name"], "Alice Liddell");
    assert_eq!(env.server.user_count(POOL).await, 1);
    let again = env.server.find_user(POOL, "Google_g-alice").await.unwrap();
    assert_eq!(again.sub, stored.sub);
    assert_eq!(again.attribute("name"), Some("Alice Liddell"));

    // The enterprise IdP (discovery, client_secret_basic with a secret that needs
    // encoding, userinfo) signs in too; its identity carries the issuer.
    let redirect = sign_in(&env, "Okta").await.expect("signed in with Okta");
    let id = id_token(&env, &redirect).await;
    assert_eq!(id["cognito:username"], "Okta_o-bob");
    assert_eq!(id["email"], "bob@corp.example");
    assert_eq!(id["identities"][0]["providerType"], "OIDC");
    assert_eq!(id["identities"][0]["issuer"], json!(env.okta.issuer));

    // A disabled user cannot sign in through the IdP either.
    let pool = env.server.pool(POOL).await;
    let now = cognate::core::now();
    let directory = &env.server.node.directory;
    directory
        .set_enabled(&pool, &stored.sub, false, now)
        .await
        .unwrap();
    match sign_in(&env, "Google").await {
        Err((403, page)) => {
            assert!(page.contains("disabled"), "{page}");
            rp().assert_back_to_client(&page, "access_denied", "disabled");
        }
        other => panic!("a disabled user signed in: {other:?}"),
    }
    directory
        .set_enabled(&pool, &stored.sub, true, now)
        .await
        .unwrap();
    sign_in(&env, "Google").await.expect("enabled again");
}

#[tokio::test]
async fn the_login_page_button_leads_through_the_idp() {
    let env = env().await;
    let browser = browser_client();
    let (login, page) = login_page(
        &browser,
        &env.server.base,
        &authorize_url(&env.server.base, None),
    )
    .await;
    // minijinja escapes `/` and `&` in attributes.
    let page = page.replace("&#x2f;", "/");
    let start = page
        .find("href=\"/oauth2/idp?")
        .unwrap_or_else(|| panic!("no provider button: {page}"))
        + 6;
    let href = page[start..start + page[start..].find('"').unwrap()].replace("&amp;", "&");
    assert!(href.ends_with("provider=Google"), "{href}");
    assert!(page.contains("provider=Okta"));
    let r = browser
        .get(absolute(&env.server.base, &href))
        .send()
        .await
        .unwrap();
    let upstream = location(&r);
    assert!(upstream.starts_with(&env.google.issuer), "{upstream}");
    assert_eq!(param(&upstream, "hd"), None);
    assert_eq!(
        param(&upstream, "code_challenge_method").as_deref(),
        Some("S256")
    );
    let back = at_idp(&browser, &upstream).await;
    let redirect = callback(&browser, &back).await.expect("signed in");
    let id = id_token(&env, &redirect).await;
    assert_eq!(id["cognito:username"], "Google_g-alice");
    // The login flow was consumed with the sign-in.
    let again = browser.get(&login).send().await.unwrap();
    assert_eq!(again.status(), 400);
}

#[tokio::test]
async fn refresh_works_without_the_idp_and_stops_when_the_user_is_disabled() {
    let env = env().await;
    let redirect = sign_in(&env, "Google").await.expect("signed in");
    let tokens = redeem(&env, &redirect).await;
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_string();
    let Env { server, google, .. } = env;
    google.stop().await;
    let refresh = || {
        browser_client()
            .post(format!("{}/oauth2/token", server.base))
            .form(&[
                ("grant_type", "refresh_token"),
                ("client_id", CLIENT),
                ("refresh_token", refresh_token.as_str()),
            ])
            .send()
    };
    let r = refresh().await.unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        payload(body["id_token"].as_str().unwrap())["cognito:username"],
        "Google_g-alice"
    );

    let pool = server.pool(POOL).await;
    let user = server.find_user(POOL, "Google_g-alice").await.unwrap();
    server
        .node
        .directory
        .set_enabled(&pool, &user.sub, false, cognate::core::now())
        .await
        .unwrap();
    let r = refresh().await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_grant");
}
