//! The Logins attacks of issue 12's "Bad input", each beside the honest call succeeding,
//! each refused in AWS's shape with AWS's error code.

use super::*;

/// GetId's error code for these Logins on [`IDP`], or `"ok"`.
async fn get_id_code(server: &TestServer, logins: &[(&str, &str)]) -> String {
    let mut call = client(&server.base, None).get_id().identity_pool_id(IDP);
    for (k, v) in logins {
        call = call.logins(*k, *v);
    }
    match call.send().await {
        Ok(_) => "ok".into(),
        Err(e) => code_of(&e),
    }
}

#[tokio::test]
async fn expired_forged_wrong_issuer_and_wrong_audience_tokens_are_refused() {
    let server = start().await;
    user(&server, POOL, "alice").await;
    let honest = id_token(&server, WEB, "alice").await;
    let login = key(&server, POOL);
    assert_eq!(get_id_code(&server, &[(&login, &honest)]).await, "ok");

    let now = cognate::core::now();
    let expired = resign(&server, POOL, &honest, |c| {
        c["iat"] = (now - 7_200).into();
        c["auth_time"] = (now - 7_200).into();
        c["exp"] = (now - 3_600).into();
    })
    .await;
    // The same claims signed by another pool's key (a key POOL never published).
    let forged = resign(&server, UNTRUSTED_POOL, &honest, |_| {}).await;
    let wrong_issuer = resign(&server, POOL, &honest, |c| {
        c["iss"] = format!("http://evil.example/{POOL}").into();
    })
    .await;
    user(&server, POOL, "bob").await;
    let unlisted_client = id_token(&server, OTHER_CLIENT, "bob").await;
    let mut tampered = honest.clone();
    tampered.insert(honest.find('.').unwrap() + 3, 'x');
    for (name, token) in [
        ("expired", &expired),
        ("forged", &forged),
        ("wrong issuer", &wrong_issuer),
        ("unlisted client", &unlisted_client),
        ("tampered", &tampered),
        ("not a JWT", &"not-a-token".to_string()),
    ] {
        assert_eq!(
            get_id_code(&server, &[(&login, token)]).await,
            "NotAuthorizedException",
            "{name}"
        );
    }
    // No identity for any of them; one for the honest call.
    assert_eq!(server.node.store.count_identities(IDP).await.unwrap(), 1);
}

#[tokio::test]
async fn a_logins_key_must_name_the_tokens_pool_and_a_trusted_pool() {
    let server = start().await;
    user(&server, POOL, "alice").await;
    user(&server, UNTRUSTED_POOL, "mallory").await;
    let honest = id_token(&server, WEB, "alice").await;
    let foreign = id_token(&server, UNTRUSTED_CLIENT, "mallory").await;
    let login = key(&server, POOL);
    assert_eq!(get_id_code(&server, &[(&login, &honest)]).await, "ok");
    let untrusted_key = key(&server, UNTRUSTED_POOL);
    let wrong_region = format!("cognito-idp.eu-west-1.amazonaws.com/{POOL}");
    for (name, k, token) in [
        // The key names another pool than the token's issuer, both ways.
        (
            "POOL token under the untrusted key",
            untrusted_key.as_str(),
            &honest,
        ),
        ("untrusted token under POOL's key", login.as_str(), &foreign),
        // A pool the identity pool does not list.
        ("untrusted pool", untrusted_key.as_str(), &foreign),
        (
            "Cognito spelling, wrong region",
            wrong_region.as_str(),
            &honest,
        ),
        (
            "a provider that is none of ours",
            "accounts.google.com",
            &honest,
        ),
    ] {
        assert_eq!(
            get_id_code(&server, &[(k, token)]).await,
            "NotAuthorizedException",
            "{name}"
        );
    }
    // An untrusted login beside the honest one.
    assert_eq!(
        get_id_code(&server, &[(&login, &honest), (&untrusted_key, &foreign)]).await,
        "NotAuthorizedException"
    );
    // Two logins of a listed pool (both spellings): Cognate links one login per identity.
    let cognito_key = format!("cognito-idp.us-east-1.amazonaws.com/{POOL}");
    assert_eq!(
        get_id_code(&server, &[(&login, &honest), (&cognito_key, &honest)]).await,
        "InvalidParameterException"
    );
    assert_eq!(server.node.store.count_identities(IDP).await.unwrap(), 1);
}

#[tokio::test]
async fn an_identity_is_only_usable_with_its_own_login() {
    let server = start().await;
    user(&server, POOL, "alice").await;
    user(&server, POOL, "bob").await;
    let alice = id_token(&server, WEB, "alice").await;
    let bob = id_token(&server, WEB, "bob").await;
    let login = key(&server, POOL);
    let sdk = client(&server.base, None);
    let ida = sdk
        .get_id()
        .identity_pool_id(IDP)
        .logins(&login, &alice)
        .send()
        .await
        .unwrap();
    let ida = ida.identity_id().unwrap().to_string();

    // Honest: alice's identity with alice's token.
    sdk.get_credentials_for_identity()
        .identity_id(&ida)
        .logins(&login, &alice)
        .send()
        .await
        .expect("her own identity");
    sdk.get_open_id_token()
        .identity_id(&ida)
        .logins(&login, &alice)
        .send()
        .await
        .expect("her own identity");

    // Bob's token on alice's identity.
    let e = sdk
        .get_credentials_for_identity()
        .identity_id(&ida)
        .logins(&login, &bob)
        .send()
        .await
        .expect_err("someone else's identity");
    assert_eq!(code_of(&e), "NotAuthorizedException");
    let e = sdk
        .get_open_id_token()
        .identity_id(&ida)
        .logins(&login, &bob)
        .send()
        .await
        .expect_err("someone else's identity");
    assert_eq!(code_of(&e), "NotAuthorizedException");

    // Alice's identity without Logins: a guest call cannot borrow her identity.
    let e = sdk
        .get_credentials_for_identity()
        .identity_id(&ida)
        .send()
        .await
        .expect_err("no Logins");
    assert_eq!(code_of(&e), "NotAuthorizedException");
    assert!(
        e.message()
            .unwrap_or_default()
            .starts_with("Logins don't match"),
        "{e:?}"
    );
    let e = sdk
        .get_open_id_token()
        .identity_id(&ida)
        .send()
        .await
        .expect_err("no Logins");
    assert_eq!(code_of(&e), "NotAuthorizedException");

    // A guest identity presented with a user's Logins (Cognate does not link).
    let guest = sdk.get_id().identity_pool_id(IDP).send().await.unwrap();
    let e = sdk
        .get_credentials_for_identity()
        .identity_id(guest.identity_id().unwrap())
        .logins(&login, &alice)
        .send()
        .await
        .expect_err("a guest identity with Logins");
    assert_eq!(code_of(&e), "NotAuthorizedException");

    // An identity id that does not exist.
    let e = sdk
        .get_credentials_for_identity()
        .identity_id("us-east-1:00000000-0000-4000-8000-000000000000")
        .logins(&login, &alice)
        .send()
        .await
        .expect_err("no such identity");
    assert_eq!(code_of(&e), "ResourceNotFoundException");
}

#[tokio::test]
async fn guest_access_when_disabled_is_refused() {
    let server = start().await;
    user(&server, POOL, "alice").await;
    let alice = id_token(&server, WEB, "alice").await;
    let sdk = client(&server.base, None);
    let e = sdk
        .get_id()
        .identity_pool_id(IDP_TOKEN)
        .send()
        .await
        .expect_err("no guests");
    assert_eq!(code_of(&e), "NotAuthorizedException");
    assert_eq!(
        e.message(),
        Some("Unauthenticated access is not supported for this identity pool.")
    );
    sdk.get_id()
        .identity_pool_id(IDP_TOKEN)
        .logins(key(&server, POOL), &alice)
        .send()
        .await
        .expect("a signed-in user");
    assert_eq!(
        server.node.store.count_identities(IDP_TOKEN).await.unwrap(),
        1
    );
}

#[tokio::test]
async fn a_custom_role_must_be_one_the_token_carries() {
    let server = start().await;
    let reader = user(&server, POOL, "reader").await;
    join(&server, &reader, "readers", READERS_ROLE).await;
    let token = id_token(&server, WEB, "reader").await;
    assert_eq!(
        claims_of(&token)["cognito:roles"],
        serde_json::json!([READERS_ROLE])
    );
    let login = key(&server, POOL);
    let sdk = client(&server.base, None);
    let id = sdk
        .get_id()
        .identity_pool_id(IDP_TOKEN)
        .logins(&login, &token)
        .send()
        .await
        .unwrap();
    let id = id.identity_id().unwrap();
    let e = sdk
        .get_credentials_for_identity()
        .identity_id(id)
        .logins(&login, &token)
        .custom_role_arn(ADMINS_ROLE)
        .send()
        .await
        .expect_err("a role the token does not carry");
    assert_eq!(code_of(&e), "NotAuthorizedException");
    let ok = sdk
        .get_credentials_for_identity()
        .identity_id(id)
        .logins(&login, &token)
        .custom_role_arn(READERS_ROLE)
        .send()
        .await
        .expect("the token's role");
    let c = ok.credentials().unwrap();
    let (grant, _) = cognate::core::identity_pools::credentials::open(
        &server.node.master,
        c.access_key_id().unwrap(),
        c.session_token().unwrap(),
        cognate::core::now(),
    )
    .unwrap();
    assert_eq!(grant.role_arn, READERS_ROLE);
}

#[tokio::test]
async fn a_guest_never_gets_the_authenticated_role() {
    let server = start().await;
    let sdk = client(&server.base, None);
    let guest = sdk.get_id().identity_pool_id(IDP).send().await.unwrap();
    let guest = guest.identity_id().unwrap();
    for role in [AUTH_ROLE, ADMINS_ROLE] {
        let e = sdk
            .get_credentials_for_identity()
            .identity_id(guest)
            .custom_role_arn(role)
            .send()
            .await
            .expect_err("a guest asking for a signed-in role");
        assert_eq!(code_of(&e), "InvalidParameterException", "{role}");
    }
    let ok = sdk
        .get_credentials_for_identity()
        .identity_id(guest)
        .send()
        .await
        .expect("the guest role");
    let c = ok.credentials().unwrap();
    let (grant, _) = cognate::core::identity_pools::credentials::open(
        &server.node.master,
        c.access_key_id().unwrap(),
        c.session_token().unwrap(),
        cognate::core::now(),
    )
    .unwrap();
    assert_eq!(grant.role_arn, GUEST_ROLE);
    assert!(!grant.authenticated);
}

#[tokio::test]
async fn a_disabled_users_unexpired_token_gets_nothing() {
    let server = start().await;
    let alice = user(&server, POOL, "alice").await;
    let token = id_token(&server, WEB, "alice").await;
    let login = key(&server, POOL);
    let sdk = client(&server.base, None);
    // Honest: the token works while alice is enabled.
    let identity = sdk
        .get_id()
        .identity_pool_id(IDP)
        .logins(&login, &token)
        .send()
        .await
        .expect("GetId")
        .identity_id()
        .unwrap()
        .to_string();
    // Disabled: the same, still unexpired token gets no identity and no credentials.
    let pool = server.pool(POOL).await;
    server
        .node
        .directory
        .set_enabled(&pool, &alice.sub, false, cognate::core::now())
        .await
        .unwrap();
    assert_eq!(
        get_id_code(&server, &[(&login, &token)]).await,
        "NotAuthorizedException"
    );
    let refused = sdk
        .get_credentials_for_identity()
        .identity_id(&identity)
        .logins(&login, &token)
        .send()
        .await
        .expect_err("a disabled user gets no credentials");
    assert_eq!(code_of(&refused), "NotAuthorizedException");
}

#[tokio::test]
async fn the_basic_flow_is_refused_where_the_pool_does_not_allow_it() {
    let server = start().await;
    user(&server, POOL, "alice").await;
    let token = id_token(&server, WEB, "alice").await;
    let login = key(&server, POOL);
    let sdk = client(&server.base, None);
    for (pool, allowed) in [(IDP, true), (IDP_TOKEN, false)] {
        let identity = sdk
            .get_id()
            .identity_pool_id(pool)
            .logins(&login, &token)
            .send()
            .await
            .expect("GetId")
            .identity_id()
            .unwrap()
            .to_string();
        let answer = sdk
            .get_open_id_token()
            .identity_id(&identity)
            .logins(&login, &token)
            .send()
            .await;
        match (allowed, answer) {
            (true, Ok(t)) => assert!(t.token().is_some()),
            (false, Err(e)) => {
                assert_eq!(code_of(&e), "InvalidParameterException");
                assert!(
                    e.to_string().contains("classic") || format!("{e:?}").contains("classic"),
                    "{e:?}"
                );
            }
            (allowed, answer) => panic!("allowed={allowed}: {answer:?}"),
        }
    }
}
