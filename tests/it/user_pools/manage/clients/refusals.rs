//! The refusals of the client actions, each beside the honest request: invalid settings
//! named by their members, the pool's quota and the listing's paging, file-owned and other
//! pools' clients, unsigned and wrongly signed calls, wrong types and missing members.

use aws_sdk_cognitoidentityprovider::types::{
    AnalyticsConfigurationType, ExplicitAuthFlowsType as Flow, FeatureType, OAuthFlowType,
    RefreshTokenRotationType, TimeUnitsType, TokenValidityUnitsType,
};

use super::super::super::users::refusal;
use super::super::super::{
    client_with, operator_client, public_client, start, APP, MFA_POOL, POOL, SECRET, SECRET_APP,
};
use super::{describe, full_client, CB, LOGOUT};

/// The refusal of a CreateUserPoolClient, asserting InvalidParameterException naming
/// `member`.
async fn refused(
    b: aws_sdk_cognitoidentityprovider::operation::create_user_pool_client::builders::CreateUserPoolClientFluentBuilder,
    member: &str,
) -> String {
    let err = b.send().await.expect_err(member);
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException", "{member}: {message}");
    assert!(message.contains(member), "{member}: {message}");
    message
}

#[tokio::test]
async fn invalid_settings_are_refused_naming_their_members() {
    let server = start().await;
    let admin = operator_client(&server).await;
    let new = || {
        admin
            .create_user_pool_client()
            .user_pool_id(POOL)
            .client_name("c")
    };
    let oauth = || {
        new()
            .allowed_o_auth_flows_user_pool_client(true)
            .allowed_o_auth_flows(OAuthFlowType::Code)
            .allowed_o_auth_scopes("openid")
    };
    // The service's rules, named as check-config names them, in the API's member names.
    let m = refused(
        oauth().callback_urls("http://app.example.com/cb"),
        "CallbackURLs[0]",
    )
    .await;
    assert!(m.contains("http"), "{m}");
    refused(
        oauth().callback_urls("https://app.example.com/cb#frag"),
        "CallbackURLs[0]",
    )
    .await;
    refused(
        oauth().callback_urls(CB).logout_urls("javascript:alert(1)"),
        "LogoutURLs[0]",
    )
    .await;
    let many: Vec<String> = (0..101).map(|k| format!("https://a.example/{k}")).collect();
    refused(oauth().set_callback_urls(Some(many)), "CallbackURLs").await;
    refused(oauth(), "AllowedOAuthFlows[0]").await; // code without a callback URL
    refused(
        oauth()
            .callback_urls(CB)
            .allowed_o_auth_scopes("orders/read"),
        "AllowedOAuthScopes[1]",
    )
    .await;
    refused(
        new()
            .allowed_o_auth_flows_user_pool_client(true)
            .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
            .allowed_o_auth_scopes("https://api.example/read"),
        "AllowedOAuthFlows[0]",
    )
    .await; // client_credentials without a secret
    refused(
        new().supported_identity_providers("Google"),
        "SupportedIdentityProviders[0]",
    )
    .await;
    refused(new().read_attributes("custom:nope"), "ReadAttributes[0]").await;
    refused(new().write_attributes("sub"), "WriteAttributes[0]").await;
    refused(
        new().id_token_validity(2).token_validity_units(
            TokenValidityUnitsType::builder()
                .id_token(TimeUnitsType::Minutes)
                .build(),
        ),
        "IdTokenValidity",
    )
    .await;
    refused(new().access_token_validity(25), "AccessTokenValidity").await; // 25 hours
    refused(
        new().refresh_token_validity(11 * 365),
        "RefreshTokenValidity",
    )
    .await;
    refused(
        new().refresh_token_rotation(
            RefreshTokenRotationType::builder()
                .feature(FeatureType::Enabled)
                .retry_grace_period_seconds(61)
                .build()
                .unwrap(),
        ),
        "RefreshTokenRotation.RetryGracePeriodSeconds",
    )
    .await;
    refused(
        new()
            .explicit_auth_flows(Flow::AllowUserSrpAuth)
            .explicit_auth_flows(Flow::AllowUserSrpAuth),
        "ExplicitAuthFlows[1]",
    )
    .await;
    refused(
        new()
            .explicit_auth_flows(Flow::UserPasswordAuth)
            .explicit_auth_flows(Flow::AllowUserSrpAuth),
        "ExplicitAuthFlows",
    )
    .await;
    refused(new().client_name("x".repeat(129)), "ClientName").await;
    // The API's own consistency rule on OAuth.
    refused(
        new()
            .callback_urls(CB)
            .allowed_o_auth_flows(OAuthFlowType::Code)
            .allowed_o_auth_scopes("openid"),
        "AllowedOAuthFlowsUserPoolClient",
    )
    .await;
    refused(
        new().allowed_o_auth_flows_user_pool_client(true),
        "AllowedOAuthFlowsUserPoolClient",
    )
    .await;
    // Settings Cognate would not honour: refused, never stored and ignored.
    refused(
        new().analytics_configuration(
            AnalyticsConfigurationType::builder()
                .application_id("a")
                .build(),
        ),
        "AnalyticsConfiguration",
    )
    .await;
    refused(
        new().enable_token_revocation(false),
        "EnableTokenRevocation",
    )
    .await;
    refused(
        new().enable_propagate_additional_user_context_data(true),
        "EnablePropagateAdditionalUserContextData",
    )
    .await;
    refused(new().auth_session_validity(10), "AuthSessionValidity").await;
    refused(new().default_redirect_uri(CB), "DefaultRedirectURI").await;
    refused(
        new().generate_secret(false).client_secret("a".repeat(30)),
        "ClientSecret",
    )
    .await;
    refused(
        new().generate_secret(true).client_secret("short"),
        "ClientSecret",
    )
    .await;
    let before = server.node.store.list_clients(POOL).await.unwrap().len();

    // The honest requests beside them succeed.
    let honest = oauth()
        .callback_urls(CB)
        .logout_urls(LOGOUT)
        .supported_identity_providers("COGNITO")
        .read_attributes("email")
        .write_attributes("email")
        .id_token_validity(5)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .id_token(TimeUnitsType::Minutes)
                .build(),
        )
        .enable_token_revocation(true)
        .auth_session_validity(3)
        .send()
        .await
        .expect("the honest client");
    assert!(honest.user_pool_client.is_some());
    let own_secret = "my_own+secret_of_thirty_chars_";
    let with_secret = new()
        .generate_secret(true)
        .client_secret(own_secret)
        .send()
        .await
        .expect("an operator's own secret")
        .user_pool_client
        .unwrap();
    assert_eq!(with_secret.client_secret(), Some(own_secret));
    assert_eq!(
        server.node.store.list_clients(POOL).await.unwrap().len(),
        before + 2,
        "nothing of the refused requests was stored"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_pools_quota_and_paging_hold() {
    let server = start().await;
    let admin = operator_client(&server).await;
    // Paging: MaxResults 1 to 60; every client exactly once.
    for bad in [0, 61] {
        let err = admin
            .list_user_pool_clients()
            .user_pool_id(POOL)
            .max_results(bad)
            .send()
            .await
            .unwrap_err();
        assert_eq!(refusal(&err).0, "InvalidParameterException", "{bad}");
    }
    let err = admin
        .list_user_pool_clients()
        .user_pool_id(POOL)
        .next_token("!!not a token!!")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
    let made = full_client(&admin, "listed").await;
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = admin
            .list_user_pool_clients()
            .user_pool_id(POOL)
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListUserPoolClients");
        assert!(page.user_pool_clients().len() <= 2);
        for c in page.user_pool_clients() {
            assert_eq!(c.user_pool_id(), Some(POOL));
            seen.push(c.client_id().unwrap().to_string());
        }
        token = page.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    let mut expected: Vec<String> = server
        .node
        .store
        .list_clients(POOL)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    expected.sort();
    assert_eq!(seen, expected);
    assert!(seen.contains(&made.client_id().unwrap().to_string()));

    // The quota: 1000 clients per pool (filled here straight in the store).
    let template = server.node.store.get_client(APP).await.unwrap().unwrap();
    let count = expected.len();
    for k in count..1000 {
        let mut c = template.clone();
        c.id = format!("filler{k:04}");
        c.origin = cognate::core::model::Origin::Api;
        server.node.store.put_client(&c).await.unwrap();
    }
    let err = admin
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("one too many")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "LimitExceededException");
    assert!(message.contains("1000"), "{message}");
    admin
        .delete_user_pool_client()
        .user_pool_id(POOL)
        .client_id("filler0999")
        .send()
        .await
        .expect("delete one");
    admin
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("room again")
        .send()
        .await
        .expect("room for one");
    server.stop().await;
}

#[tokio::test]
async fn file_clients_and_other_pools_clients_are_refused() {
    let server = start().await;
    let admin = operator_client(&server).await;
    // A file-owned client is readable, secret included...
    let file = describe(&admin, SECRET_APP).await;
    assert_eq!(file.client_secret(), Some(SECRET));
    // ...but only the file changes or deletes it.
    let err = admin
        .update_user_pool_client()
        .user_pool_id(POOL)
        .client_id(APP)
        .client_name("hijacked")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "NotAuthorizedException");
    assert!(
        message.contains("cognate.toml"),
        "names the file: {message}"
    );
    let err = admin
        .delete_user_pool_client()
        .user_pool_id(POOL)
        .client_id(APP)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
    let kept = server.node.store.get_client(APP).await.unwrap().unwrap();
    assert_eq!(kept.name, "app");

    // A client of another pool, named with this one: not found, unchanged.
    for pool in [MFA_POOL] {
        let err = admin
            .describe_user_pool_client()
            .user_pool_id(pool)
            .client_id(APP)
            .send()
            .await
            .unwrap_err();
        assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    }
    let api = full_client(&admin, "mine").await;
    let api_id = api.client_id().unwrap();
    let err = admin
        .update_user_pool_client()
        .user_pool_id(MFA_POOL)
        .client_id(api_id)
        .client_name("moved")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "ResourceNotFoundException");
    assert!(message.contains(api_id), "{message}");
    let err = admin
        .delete_user_pool_client()
        .user_pool_id(MFA_POOL)
        .client_id(api_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    let err = admin
        .describe_user_pool_client()
        .user_pool_id("us-east-1_Nowhere1")
        .client_id(api_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    // The honest calls on the API's own client, in its own pool.
    admin
        .update_user_pool_client()
        .user_pool_id(POOL)
        .client_id(api_id)
        .client_name("mine, renamed")
        .send()
        .await
        .expect("update");
    admin
        .delete_user_pool_client()
        .user_pool_id(POOL)
        .client_id(api_id)
        .send()
        .await
        .expect("delete");
    let err = admin
        .describe_user_pool_client()
        .user_pool_id(POOL)
        .client_id(api_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    server.stop().await;
}

#[tokio::test]
async fn unsigned_and_wrongly_signed_calls_are_refused() {
    let server = start().await;
    // Signed by a key that is no operator's.
    let err = public_client(&server)
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("intruder")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnrecognizedClientException");
    // An operator's key id with the wrong secret.
    let key = crate::aws_edge::make_key(&server, None, None).await;
    let forged = client_with(
        &server.base,
        &key.access_key_id,
        "not-the-secret-of-this-key",
    );
    let err = forged
        .list_user_pool_clients()
        .user_pool_id(POOL)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidSignatureException");
    let err = forged
        .describe_user_pool_client()
        .user_pool_id(POOL)
        .client_id(SECRET_APP)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidSignatureException");
    // Not signed at all.
    let response = crate::aws_edge::client()
        .post(format!("{}/", server.base))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.DeleteUserPoolClient",
        )
        .body(serde_json::json!({"UserPoolId": POOL, "ClientId": SECRET_APP}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("x-amzn-ErrorType")
            .and_then(|v| v.to_str().ok()),
        Some("MissingAuthenticationTokenException")
    );
    let names: Vec<String> = server
        .node
        .store
        .list_clients(POOL)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(!names.contains(&"intruder".to_string()), "{names:?}");
    assert!(server
        .node
        .store
        .get_client(SECRET_APP)
        .await
        .unwrap()
        .is_some());
    // The same calls with the right secret succeed.
    let honest = client_with(&server.base, &key.access_key_id, key.secret.expose());
    let out = honest
        .list_user_pool_clients()
        .user_pool_id(POOL)
        .send()
        .await
        .expect("signed by the operator");
    assert!(!out.user_pool_clients().is_empty());
    server.stop().await;
}

/// A signed raw `POST /` of `action` with `body` (shapes the SDK never sends): the
/// answer's status and JSON.
async fn raw(
    server: &crate::support::server::TestServer,
    key: &cognate::core::admin_keys::CreatedAdminKey,
    action: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let body = body.to_string();
    let host = server.base.trim_start_matches("http://").to_string();
    let target = format!("AWSCognitoIdentityProviderService.{action}");
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target.as_str()),
    ];
    let signed = crate::aws_edge::Signing::new(key, "cognito-idp").sign(
        &server.base,
        &headers,
        body.as_bytes(),
    );
    let response = crate::aws_edge::post(&server.base, &signed, body.as_bytes()).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test]
async fn wrong_types_and_missing_members_get_cognitos_validation_errors() {
    use serde_json::json;
    let server = start().await;
    let key = crate::aws_edge::make_key(&server, None, None).await;
    let before = server.node.store.list_clients(POOL).await.unwrap().len();
    let cases = [
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL}),
            "clientName",
        ),
        (
            "CreateUserPoolClient",
            json!({"ClientName": "c"}),
            "userPoolId",
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL, "ClientName": "c", "GenerateSecret": "yes"}),
            "GenerateSecret",
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL, "ClientName": "c", "CallbackURLs": "https://a.example/cb"}),
            "CallbackURLs",
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL, "ClientName": "c", "IdTokenValidity": -1}),
            "idTokenValidity",
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL, "ClientName": "c", "TokenValidityUnits": {"IdToken": "weeks"}}),
            "TokenValidityUnits.IdToken",
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL, "ClientName": "c", "AllowedOAuthFlows": ["password"], "AllowedOAuthFlowsUserPoolClient": true}),
            "AllowedOAuthFlows[0]",
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL, "ClientName": "c", "ExplicitAuthFlows": ["ALLOW_EVERYTHING"]}),
            "ExplicitAuthFlows[0]",
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL, "ClientName": "c", "PreventUserExistenceErrors": "MAYBE"}),
            "PreventUserExistenceErrors",
        ),
        (
            "CreateUserPoolClient",
            json!({"UserPoolId": POOL, "ClientName": "c", "RefreshTokenRotation": {"RetryGracePeriodSeconds": 5}}),
            "refreshTokenRotation.feature",
        ),
        (
            "DescribeUserPoolClient",
            json!({"UserPoolId": POOL}),
            "clientId",
        ),
        (
            "UpdateUserPoolClient",
            json!({"ClientId": APP}),
            "userPoolId",
        ),
        (
            "DeleteUserPoolClient",
            json!({"UserPoolId": POOL, "ClientId": 7}),
            "ClientId",
        ),
        (
            "ListUserPoolClients",
            json!({"UserPoolId": POOL, "MaxResults": "ten"}),
            "MaxResults",
        ),
    ];
    for (action, body, member) in cases {
        let (status, answer) = raw(&server, &key, action, body.clone()).await;
        assert_eq!(status, 400, "{action} {body}: {answer}");
        assert_eq!(
            answer["__type"], "InvalidParameterException",
            "{action} {body}: {answer}"
        );
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(member), "{action} {body}: {message}");
    }
    assert_eq!(
        server.node.store.list_clients(POOL).await.unwrap().len(),
        before,
        "nothing stored"
    );
    // The honest raw request.
    let (status, answer) = raw(
        &server,
        &key,
        "CreateUserPoolClient",
        json!({"UserPoolId": POOL, "ClientName": "raw", "TokenValidityUnits": {"IdToken": "minutes"}, "IdTokenValidity": 45}),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["UserPoolClient"]["IdTokenValidity"], 45);
    server.stop().await;
}
