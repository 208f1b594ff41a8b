//! The ID and access tokens' claims (names, types, groups and roles, `auth_time` and
//! `origin_jti` across refresh, `at_hash`, the JWKS `kid`s), client-credentials tokens, and
//! refresh-token rotation with reuse detection.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::support::server::{browser_client, TestServer};

use super::{
    authorize_url, claims_of, code_for, files_under, header_of, join_groups, rich_user, s256, set,
    set_of, spa_authorize, spa_exchange, start, token, userinfo, Answer, Pkce, ADMINS_ROLE, BASIC,
    BASIC_CALLBACK, BASIC_SECRET, M2M, M2M_SECRET, POOL, POST, POST_CALLBACK, POST_SECRET,
    READERS_ROLE, SPA,
};

#[tokio::test]
async fn id_and_access_tokens_carry_cognitos_claims() {
    let server = start().await;
    let base = server.base.clone();
    let alice = rich_user(&server, POOL, "alice").await;
    join_groups(&server, &alice).await;
    let browser = browser_client();
    let pkce = Pkce::new("claims");
    let before = cognate::core::now();
    let code = code_for(
        &browser,
        &base,
        &spa_authorize(&base, &pkce, "n-0S6"),
        "alice",
    )
    .await;
    let after = cognate::core::now();
    let tokens = spa_exchange(&base, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    assert_eq!(tokens.json["token_type"], "Bearer");
    assert_eq!(
        tokens.json["expires_in"], 900,
        "the client's access-token lifetime"
    );
    let id_token = tokens.str("id_token");
    let access_token = tokens.str("access_token");
    let refresh_token = tokens.str("refresh_token");
    // The refresh token is opaque: not a JWT whose claims a client could read.
    assert!(!refresh_token.contains('.'), "{refresh_token}");
    // At rest, codes and refresh tokens are only hashes (SHA-256, base64url): the store's
    // files hold the hash and never the token.
    let at_rest = files_under(&server.node.config.server.data_dir);
    let holds = |needle: &str| {
        at_rest
            .iter()
            .any(|f| f.windows(needle.len()).any(|w| w == needle.as_bytes()))
    };
    assert!(
        holds(&s256(&refresh_token)),
        "the refresh token's hash is stored"
    );
    assert!(
        !holds(&refresh_token),
        "a refresh token stored in the clear"
    );
    assert!(!holds(&code), "an authorization code stored in the clear");

    let issuer = format!("{base}/{POOL}");
    let id = claims_of(&id_token);
    assert_eq!(id["sub"], alice.sub.as_str());
    assert_eq!(id["aud"], SPA);
    assert_eq!(id["iss"], issuer.as_str());
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(set_of(&id["cognito:groups"]), set(&["admins", "readers"]));
    assert_eq!(
        set_of(&id["cognito:roles"]),
        set(&[ADMINS_ROLE, READERS_ROLE])
    );
    // The role of the group with the lowest precedence number.
    assert_eq!(id["cognito:preferred_role"], READERS_ROLE);
    assert_eq!(id["nonce"], "n-0S6");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], Value::Bool(true));
    assert_eq!(id["name"], "alice Liddell");
    // Custom attributes are strings, a Number one included.
    assert_eq!(id["custom:tier"], "gold");
    assert_eq!(id["custom:level"], "7");
    let auth_time = id["auth_time"].as_i64().expect("auth_time is a number");
    assert!((before..=after).contains(&auth_time), "{auth_time}");
    assert!(id["jti"].is_string());
    let origin_jti = id["origin_jti"].as_str().expect("origin_jti").to_string();
    assert_eq!(
        id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(),
        600
    );
    // OIDC Core 3.1.3.6: the left half of SHA-256 of the access token, base64url.
    let digest = Sha256::digest(access_token.as_bytes());
    assert_eq!(
        id["at_hash"],
        URL_SAFE_NO_PAD.encode(&digest[..16]).as_str()
    );

    let access = claims_of(&access_token);
    assert_eq!(access["sub"], alice.sub.as_str());
    assert_eq!(access["client_id"], SPA);
    assert!(
        access.get("aud").is_none(),
        "access tokens carry no aud: {access}"
    );
    assert_eq!(access["iss"], issuer.as_str());
    assert_eq!(access["username"], "alice");
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["version"], 2);
    assert_eq!(
        set_of(&access["scope"]),
        set(&[
            "openid",
            "email",
            "profile",
            "aws.cognito.signin.user.admin"
        ])
    );
    assert_eq!(
        set_of(&access["cognito:groups"]),
        set(&["admins", "readers"])
    );
    assert_eq!(access["origin_jti"], origin_jti.as_str());
    assert_eq!(access["auth_time"], auth_time);
    assert!(access["jti"].is_string());
    assert_ne!(access["jti"], id["jti"]);
    assert_eq!(
        access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(),
        900
    );
    // Profile attributes stay in the ID token.
    assert!(access.get("email").is_none() && access.get("custom:tier").is_none());

    // Different keys, both published.
    let (id_kid, access_kid) = (
        header_of(&id_token)["kid"].clone(),
        header_of(&access_token)["kid"].clone(),
    );
    assert_eq!(header_of(&id_token)["alg"], "RS256");
    assert_eq!(header_of(&access_token)["alg"], "RS256");
    assert!(id_kid.is_string() && access_kid.is_string());
    assert_ne!(id_kid, access_kid);
    let jwks: Value = crate::support::http()
        .get(format!("{issuer}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<&Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| &k["kid"])
        .collect();
    assert!(
        kids.contains(&&id_kid) && kids.contains(&&access_kid),
        "{jwks}"
    );

    // Refresh: new jti and iat, the same auth_time and origin_jti; no nonce or at_hash.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let refreshed = token(
        &base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", refresh_token.as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    // Rotation is off for this client: no new refresh token.
    assert!(
        refreshed.json.get("refresh_token").is_none(),
        "{}",
        refreshed.json
    );
    let id2 = claims_of(&refreshed.str("id_token"));
    let access2 = claims_of(&refreshed.str("access_token"));
    assert_eq!(id2["auth_time"], auth_time);
    assert_eq!(id2["origin_jti"], origin_jti.as_str());
    assert_eq!(access2["auth_time"], auth_time);
    assert_eq!(access2["origin_jti"], origin_jti.as_str());
    assert_ne!(id2["jti"], id["jti"]);
    assert_ne!(access2["jti"], access["jti"]);
    assert!(id2["iat"].as_i64() > id["iat"].as_i64());
    assert_eq!(id2["sub"], id["sub"]);
    assert_eq!(id2["aud"], id["aud"]);
    assert_eq!(id2["cognito:preferred_role"], READERS_ROLE);
    assert!(id2.get("nonce").is_none(), "{id2}");
    server.stop().await;
}

#[tokio::test]
async fn client_credentials_tokens_are_the_clients_own() {
    let server = start().await;
    let base = server.base.clone();
    let all = token(
        &base,
        &[("grant_type", "client_credentials")],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(all.status, 200, "{}", all.json);
    assert!(all.json.get("refresh_token").is_none(), "{}", all.json);
    assert!(all.json.get("id_token").is_none(), "{}", all.json);
    assert_eq!(all.json["expires_in"], 300);
    let claims = claims_of(&all.str("access_token"));
    assert_eq!(claims["sub"], M2M);
    assert_eq!(claims["client_id"], M2M);
    assert!(claims.get("username").is_none(), "{claims}");
    assert!(claims.get("aud").is_none(), "{claims}");
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["version"], 2);
    assert_eq!(claims["iss"], format!("{base}/{POOL}").as_str());
    assert_eq!(
        set_of(&claims["scope"]),
        set(&["orders/read", "orders/write"])
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );

    // A narrower request gets exactly what it asked for.
    let narrow = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "orders/read"),
        ],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(narrow.status, 200, "{}", narrow.json);
    assert_eq!(
        claims_of(&narrow.str("access_token"))["scope"],
        "orders/read"
    );

    // No openid scope: userInfo refuses it (403 insufficient_scope), it is not a user's.
    let (status, challenge, _) = userinfo(&base, &all.str("access_token")).await;
    assert_eq!(status, 403);
    assert!(challenge.unwrap_or_default().contains("insufficient_scope"));
    server.stop().await;
}

/// The code flow of a confidential client whose secret goes in the body.
async fn post_client_tokens(
    server: &TestServer,
    browser: &reqwest::Client,
    client: &str,
) -> Answer {
    let (callback, secret) = match client {
        BASIC => (BASIC_CALLBACK, BASIC_SECRET),
        _ => (POST_CALLBACK, POST_SECRET),
    };
    let authorize = authorize_url(
        &server.base,
        &[
            ("response_type", "code"),
            ("client_id", client),
            ("redirect_uri", callback),
            ("scope", "openid email"),
        ],
    );
    let code = code_for(browser, &server.base, &authorize, "alice").await;
    let answer = token(
        &server.base,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client),
            ("client_secret", secret),
            ("code", code.as_str()),
            ("redirect_uri", callback),
        ],
        None,
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.json);
    answer
}

async fn refresh_with(base: &str, client: &str, refresh_token: &str) -> Answer {
    let secret = match client {
        BASIC => BASIC_SECRET,
        _ => POST_SECRET,
    };
    token(
        base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client),
            ("client_secret", secret),
            ("refresh_token", refresh_token),
        ],
        None,
    )
    .await
}

#[tokio::test]
async fn rotated_out_refresh_token_reused_after_grace_revokes_the_family() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, POOL, "alice").await;
    let browser = browser_client();

    // Within the grace period (60 s) the rotated-out token still works (a retry after a
    // lost answer), and both of its successors work too.
    let first = post_client_tokens(&server, &browser, POST).await;
    let rt1 = first.str("refresh_token");
    let second = refresh_with(&base, POST, &rt1).await;
    assert_eq!(second.status, 200, "{}", second.json);
    let rt2 = second.str("refresh_token");
    assert_ne!(rt1, rt2, "rotation issues a new refresh token");
    let retry = refresh_with(&base, POST, &rt1).await;
    assert_eq!(retry.status, 200, "within grace: {}", retry.json);
    let again = refresh_with(&base, POST, &rt2).await;
    assert_eq!(again.status, 200, "{}", again.json);
    assert_eq!(userinfo(&base, &again.str("access_token")).await.0, 200);

    // No grace: the rotated-out token presented later revokes the whole family.
    let first = post_client_tokens(&server, &browser, BASIC).await;
    let rt1 = first.str("refresh_token");
    let a1 = first.str("access_token");
    let second = refresh_with(&base, BASIC, &rt1).await;
    assert_eq!(second.status, 200, "{}", second.json);
    let rt2 = second.str("refresh_token");
    let a2 = second.str("access_token");
    assert_ne!(rt1, rt2);
    assert_eq!(
        claims_of(&a1)["origin_jti"],
        claims_of(&a2)["origin_jti"],
        "one family"
    );
    assert_eq!(userinfo(&base, &a2).await.0, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let reuse = refresh_with(&base, BASIC, &rt1).await;
    assert_eq!(reuse.status, 400, "{}", reuse.json);
    assert_eq!(reuse.error(), "invalid_grant");
    let successor = refresh_with(&base, BASIC, &rt2).await;
    assert_eq!(successor.status, 400, "{}", successor.json);
    assert_eq!(successor.error(), "invalid_grant");
    for access in [&a1, &a2] {
        let (status, challenge, _) = userinfo(&base, access).await;
        assert_eq!(status, 401, "a revoked family's access token");
        assert!(challenge.unwrap_or_default().contains("invalid_token"));
    }
    // Another sign-in's family is untouched.
    let other = post_client_tokens(&server, &browser, BASIC).await;
    assert_eq!(userinfo(&base, &other.str("access_token")).await.0, 200);
    server.stop().await;
}
