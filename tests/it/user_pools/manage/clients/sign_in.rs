//! A client created through the API in use: InitiateAuth and the hosted UI's code flow with
//! PKCE sign a user in; deleting the client ends its tokens; `cognate apply` leaves it be.

use aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType as Flow, OAuthFlowType,
};

use super::super::super::users::{refusal, sign_in_on};
use super::super::super::{
    confirmed_user, operator_client, public_client, secret_hash, start, APP, PASSWORD, POOL,
};
use super::{describe, full_client, strs};
use crate::claims::{authorize_url, exchange, query_param, Pkce, SPA_CALLBACK};
use crate::support::server::{browser_client, sign_in};

#[tokio::test]
async fn an_api_client_signs_a_user_in_and_its_tokens_end_with_it() {
    let server = start().await;
    let admin = operator_client(&server).await;
    confirmed_user(&server, POOL, "ada", "ada@example.com").await;
    let id = admin
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("api sign-in")
        .supported_identity_providers("COGNITO")
        .explicit_auth_flows(Flow::AllowUserPasswordAuth)
        .explicit_auth_flows(Flow::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("create")
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let sdk = public_client(&server);
    let tokens = sign_in_on(&sdk, &id, "ada", PASSWORD)
        .await
        .expect("USER_PASSWORD_AUTH on the API's client");
    let refresh = tokens.refresh_token().unwrap().to_string();
    let access = tokens.access_token().unwrap().to_string();
    let refreshed = sdk
        .initiate_auth()
        .client_id(&id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .send()
        .await
        .expect("refresh while the client exists");
    assert!(refreshed.authentication_result().is_some());
    sdk.get_user()
        .access_token(&access)
        .send()
        .await
        .expect("GetUser while the client exists");

    // A flow the client was not given is refused on it.
    let err = sdk
        .initiate_auth()
        .client_id(&id)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", "ada")
        .auth_parameters("SRP_A", "abcd")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("USER_SRP_AUTH flow not enabled"),
        "{message}"
    );

    admin
        .delete_user_pool_client()
        .user_pool_id(POOL)
        .client_id(&id)
        .send()
        .await
        .expect("delete");
    let err = sdk
        .initiate_auth()
        .client_id(&id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refusal(&err).0,
        "ResourceNotFoundException",
        "the client is gone"
    );
    let err = sdk
        .get_user()
        .access_token(&access)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
    let err = sign_in_on(&sdk, &id, "ada", PASSWORD).await.unwrap_err();
    assert_eq!(err.0, "ResourceNotFoundException");
    server.stop().await;
}

#[tokio::test]
async fn an_api_client_signs_a_user_in_through_the_hosted_ui_with_pkce() {
    let server = start().await;
    let base = server.base.clone();
    let admin = operator_client(&server).await;
    confirmed_user(&server, POOL, "bea", "bea@example.com").await;
    let id = admin
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("spa")
        .supported_identity_providers("COGNITO")
        .callback_urls(SPA_CALLBACK)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_flows_user_pool_client(true)
        .send()
        .await
        .expect("create")
        .user_pool_client
        .unwrap()
        .client_id
        .unwrap();
    let url = |pkce: Option<&Pkce>| {
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", id.as_str()),
            ("redirect_uri", SPA_CALLBACK),
            ("scope", "openid email"),
            ("state", "st-1"),
        ];
        if let Some(p) = pkce {
            params.push(("code_challenge", p.challenge.as_str()));
            params.push(("code_challenge_method", "S256"));
        }
        authorize_url(&base, &params)
    };
    // A public client created by the API requires PKCE.
    let r = browser_client().get(url(None)).send().await.unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(location.starts_with(SPA_CALLBACK), "{location}");
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request"),
        "no PKCE, no sign-in: {location}"
    );
    assert!(query_param(&location, "code").is_none());
    // An unregistered redirect URI is refused.
    let evil = url(Some(&Pkce::new("evil"))).replace("127.0.0.1%3A9", "evil.example");
    assert!(evil.contains("evil.example"), "{evil}");
    let r = browser_client().get(&evil).send().await.unwrap();
    assert_eq!(r.status(), 400, "an error page, no redirect");
    assert!(r.headers().get("location").is_none());

    let pkce = Pkce::new("api-client");
    let location = sign_in(&browser_client(), &base, &url(Some(&pkce)), "bea", PASSWORD)
        .await
        .unwrap_or_else(|page| panic!("hosted sign-in: {page}"));
    assert!(location.starts_with(SPA_CALLBACK), "{location}");
    let code = query_param(&location, "code").expect("a code");
    let wrong = exchange(&base, &id, &code, &Pkce::new("other").verifier).await;
    assert_eq!(wrong.error(), "invalid_grant", "{}", wrong.json);
    // A refused verifier burns the code (single use): sign in again for the honest one.
    let pkce = Pkce::new("api-client-2");
    let location = sign_in(&browser_client(), &base, &url(Some(&pkce)), "bea", PASSWORD)
        .await
        .unwrap_or_else(|page| panic!("hosted sign-in: {page}"));
    let code = query_param(&location, "code").expect("a code");
    let tokens = exchange(&base, &id, &code, &pkce.verifier).await;
    assert_eq!(tokens.status, 200, "{}", tokens.json);
    let claims = crate::claims::claims_of(&tokens.str("id_token"));
    assert_eq!(claims["aud"], id.as_str());
    assert_eq!(claims["cognito:username"], "bea");

    // The refresh token works at /oauth2/token while the client exists, and not after.
    let refresh = tokens.str("refresh_token");
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", id.as_str()),
        ("refresh_token", refresh.as_str()),
    ];
    let again = crate::claims::token(&base, &form, None).await;
    assert_eq!(again.status, 200, "{}", again.json);
    admin
        .delete_user_pool_client()
        .user_pool_id(POOL)
        .client_id(&id)
        .send()
        .await
        .expect("delete");
    let after = crate::claims::token(&base, &form, None).await;
    assert_eq!(after.error(), "invalid_client", "{}", after.json);
    server.stop().await;
}

#[tokio::test]
async fn an_api_client_survives_cognate_apply() {
    let server = start().await;
    let admin = operator_client(&server).await;
    let made = full_client(&admin, "survivor").await;
    let id = made.client_id().unwrap();
    // `cognate apply --prune`: the file's records are put back, the API's left alone.
    let report = server.node.bootstrap(true).await.expect("apply");
    assert!(report.report.is_some());
    let after = describe(&admin, id).await;
    assert_eq!(after.client_name(), Some("survivor"));
    assert_eq!(after.client_secret(), made.client_secret());
    assert_eq!(strs(after.callback_urls()), strs(made.callback_urls()));
    assert!(server.node.store.get_client(APP).await.unwrap().is_some());
    server.stop().await;
}

#[tokio::test]
async fn the_secret_an_api_client_is_shown_is_the_one_its_sign_ins_check() {
    let server = start().await;
    let admin = operator_client(&server).await;
    confirmed_user(&server, POOL, "cy", "cy@example.com").await;
    let created = admin
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("confidential")
        .generate_secret(true)
        .supported_identity_providers("COGNITO")
        .explicit_auth_flows(Flow::AllowUserPasswordAuth)
        .send()
        .await
        .expect("create")
        .user_pool_client
        .unwrap();
    let id = created.client_id().unwrap();
    let secret = describe(&admin, id).await.client_secret.expect("secret");
    let sdk = public_client(&server);
    let attempt = |hash: Option<String>| {
        sdk.initiate_auth()
            .client_id(id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .set_auth_parameters({
                let mut p = std::collections::HashMap::new();
                p.insert("USERNAME".to_string(), "cy".to_string());
                p.insert("PASSWORD".to_string(), PASSWORD.to_string());
                if let Some(h) = hash {
                    p.insert("SECRET_HASH".to_string(), h);
                }
                Some(p)
            })
            .send()
    };
    let err = attempt(None).await.unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
    let forged = secret_hash("not-the-secret-of-this-client-0000", "cy", id);
    let err = attempt(Some(forged)).await.unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
    let out = attempt(Some(secret_hash(&secret, "cy", id)))
        .await
        .expect("the shown secret signs in");
    assert!(out.authentication_result().is_some());
    server.stop().await;
}
