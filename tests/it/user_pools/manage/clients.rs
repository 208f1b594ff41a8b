//! Issue 15: clients through the user pools API.
//!
//! CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient,
//! DeleteUserPoolClient and ListUserPoolClients through the official AWS SDK signed with
//! an operator key, in the fixture pool [`POOL`] (declared in the configuration file; the
//! API adds its own clients beside the file's): every setting read back, the update's
//! reset of each omitted member, invalid settings named by their members, the quota and
//! paging, file-owned and other pools' clients refused, unsigned and wrongly signed calls
//! refused, and an API client signing a user in (InitiateAuth, the hosted UI with PKCE),
//! losing its tokens when deleted, and surviving `cognate apply`.

use aws_sdk_cognitoidentityprovider::types::{
    AnalyticsConfigurationType, AuthFlowType, ExplicitAuthFlowsType as Flow, FeatureType,
    OAuthFlowType, PreventUserExistenceErrorTypes, RefreshTokenRotationType, TimeUnitsType,
    TokenValidityUnitsType, UserPoolClientType,
};
use aws_sdk_cognitoidentityprovider::Client;

use super::super::users::{refusal, sign_in_on};
use super::super::{
    client_with, confirmed_user, operator_client, public_client, start, APP, MFA_POOL, PASSWORD,
    POOL, SECRET, SECRET_APP,
};
use crate::claims::{authorize_url, exchange, query_param, Pkce, SPA_CALLBACK};
use crate::support::server::{browser_client, sign_in};

const CB: &str = "https://app.example.com/callback";
const LOGOUT: &str = "https://app.example.com/bye";

/// A client with every member Cognate honours set away from its default.
async fn full_client(admin: &Client, name: &str) -> UserPoolClientType {
    admin
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name(name)
        .generate_secret(true)
        .id_token_validity(30)
        .access_token_validity(2)
        .refresh_token_validity(90)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .id_token(TimeUnitsType::Minutes)
                .access_token(TimeUnitsType::Hours)
                .refresh_token(TimeUnitsType::Days)
                .build(),
        )
        .read_attributes("email")
        .read_attributes("name")
        .write_attributes("name")
        .explicit_auth_flows(Flow::AllowUserPasswordAuth)
        .explicit_auth_flows(Flow::AllowRefreshTokenAuth)
        .supported_identity_providers("COGNITO")
        .callback_urls(CB)
        .callback_urls("http://localhost:3000/cb")
        .logout_urls(LOGOUT)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_flows_user_pool_client(true)
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Legacy)
        .enable_token_revocation(true)
        .enable_propagate_additional_user_context_data(false)
        .auth_session_validity(3)
        .refresh_token_rotation(
            RefreshTokenRotationType::builder()
                .feature(FeatureType::Enabled)
                .retry_grace_period_seconds(20)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client
        .expect("UserPoolClient")
}

async fn describe(admin: &Client, id: &str) -> UserPoolClientType {
    admin
        .describe_user_pool_client()
        .user_pool_id(POOL)
        .client_id(id)
        .send()
        .await
        .expect("DescribeUserPoolClient")
        .user_pool_client
        .expect("UserPoolClient")
}

fn strs(items: &[String]) -> Vec<&str> {
    items.iter().map(String::as_str).collect()
}

#[tokio::test]
async fn a_client_with_every_setting_is_read_back() {
    let server = start().await;
    let admin = operator_client(&server).await;
    let created = full_client(&admin, "every setting").await;
    let id = created.client_id().unwrap().to_string();
    // Cognito's shape of ids: 26 lowercase alphanumerics; the secret shown at creation.
    assert_eq!(id.len(), 26, "{id}");
    assert!(id
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
    let secret = created.client_secret().expect("secret").to_string();
    assert!(secret.len() >= 24, "{secret}");

    let c = describe(&admin, &id).await;
    assert_eq!(c.user_pool_id(), Some(POOL));
    assert_eq!(c.client_name(), Some("every setting"));
    assert_eq!(c.client_secret(), Some(secret.as_str()), "the same secret");
    assert!(c.creation_date().is_some() && c.last_modified_date().is_some());
    assert_eq!(c.id_token_validity(), Some(30));
    assert_eq!(c.access_token_validity(), Some(2));
    assert_eq!(c.refresh_token_validity(), 90);
    let units = c.token_validity_units().expect("units");
    assert_eq!(units.id_token(), Some(&TimeUnitsType::Minutes));
    assert_eq!(units.access_token(), Some(&TimeUnitsType::Hours));
    assert_eq!(units.refresh_token(), Some(&TimeUnitsType::Days));
    assert_eq!(strs(c.read_attributes()), ["email", "name"]);
    assert_eq!(strs(c.write_attributes()), ["name"]);
    assert_eq!(
        c.explicit_auth_flows(),
        [Flow::AllowUserPasswordAuth, Flow::AllowRefreshTokenAuth]
    );
    assert_eq!(strs(c.supported_identity_providers()), ["COGNITO"]);
    assert_eq!(strs(c.callback_urls()), [CB, "http://localhost:3000/cb"]);
    assert_eq!(strs(c.logout_urls()), [LOGOUT]);
    assert_eq!(c.allowed_o_auth_flows(), [OAuthFlowType::Code]);
    assert_eq!(strs(c.allowed_o_auth_scopes()), ["openid", "email"]);
    assert_eq!(c.allowed_o_auth_flows_user_pool_client(), Some(true));
    assert_eq!(
        c.prevent_user_existence_errors(),
        Some(&PreventUserExistenceErrorTypes::Legacy)
    );
    assert_eq!(c.enable_token_revocation(), Some(true));
    assert_eq!(
        c.enable_propagate_additional_user_context_data(),
        Some(false)
    );
    assert_eq!(c.auth_session_validity(), Some(3));
    let rotation = c.refresh_token_rotation().expect("rotation");
    assert_eq!(rotation.feature(), &FeatureType::Enabled);
    assert_eq!(rotation.retry_grace_period_seconds(), Some(20));
    // The record holds the lifetimes in seconds and is the API's.
    let stored = server.node.store.get_client(&id).await.unwrap().unwrap();
    assert_eq!(stored.token_validity.id_token_secs, 30 * 60);
    assert_eq!(stored.token_validity.access_token_secs, 2 * 3600);
    assert_eq!(stored.token_validity.refresh_token_secs, 90 * 86400);
    assert_eq!(stored.origin, cognate::core::model::Origin::Api);

    // A client created with nothing but a name: Cognito's defaults, and Cognate's safe
    // PreventUserExistenceErrors (ENABLED where Cognito's API says LEGACY); no secret.
    let bare = admin
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("bare")
        .send()
        .await
        .expect("a bare client")
        .user_pool_client
        .unwrap();
    assert_defaults(&bare);
    assert_eq!(bare.client_secret(), None);

    // The legacy flow names keep their meaning (SRP and refresh always allowed).
    let legacy = admin
        .create_user_pool_client()
        .user_pool_id(POOL)
        .client_name("legacy flows")
        .explicit_auth_flows(Flow::AdminNoSrpAuth)
        .explicit_auth_flows(Flow::UserPasswordAuth)
        .send()
        .await
        .expect("legacy flows")
        .user_pool_client
        .unwrap();
    assert_eq!(
        legacy.explicit_auth_flows(),
        [
            Flow::AllowUserSrpAuth,
            Flow::AllowUserPasswordAuth,
            Flow::AllowAdminUserPasswordAuth,
            Flow::AllowRefreshTokenAuth
        ]
    );
    server.stop().await;
}

/// Every member of a client created or updated with none: Cognito's defaults.
fn assert_defaults(c: &UserPoolClientType) {
    assert_eq!(c.id_token_validity(), Some(1), "1 hour");
    assert_eq!(c.access_token_validity(), Some(1), "1 hour");
    assert_eq!(c.refresh_token_validity(), 30, "30 days");
    let units = c.token_validity_units().expect("units");
    assert_eq!(units.id_token(), Some(&TimeUnitsType::Hours));
    assert_eq!(units.access_token(), Some(&TimeUnitsType::Hours));
    assert_eq!(units.refresh_token(), Some(&TimeUnitsType::Days));
    assert!(c.read_attributes().is_empty());
    assert!(c.write_attributes().is_empty());
    assert_eq!(
        c.explicit_auth_flows(),
        [
            Flow::AllowUserSrpAuth,
            Flow::AllowCustomAuth,
            Flow::AllowRefreshTokenAuth
        ]
    );
    assert!(c.supported_identity_providers().is_empty());
    assert!(c.callback_urls().is_empty());
    assert!(c.logout_urls().is_empty());
    assert!(c.allowed_o_auth_flows().is_empty());
    assert!(c.allowed_o_auth_scopes().is_empty());
    assert_eq!(c.allowed_o_auth_flows_user_pool_client(), Some(false));
    assert_eq!(
        c.prevent_user_existence_errors(),
        Some(&PreventUserExistenceErrorTypes::Enabled)
    );
    let rotation = c.refresh_token_rotation().expect("rotation");
    assert_eq!(rotation.feature(), &FeatureType::Disabled);
    assert_eq!(rotation.retry_grace_period_seconds(), Some(0));
}

#[tokio::test]
async fn an_update_resets_every_omitted_member_and_keeps_id_and_secret() {
    let server = start().await;
    let admin = operator_client(&server).await;
    let created = full_client(&admin, "to reset").await;
    let id = created.client_id().unwrap().to_string();
    let secret = created.client_secret().unwrap().to_string();
    // Cognate's own settings that are not Cognito members stay as stored.
    let mut stored = server.node.store.get_client(&id).await.unwrap().unwrap();
    stored.allowed_cors_origins = vec!["https://app.example.com".into()];
    stored.branding.display_name = Some("Shop".into());
    server.node.store.put_client(&stored).await.unwrap();

    // One member changed: every other goes back to its default.
    let updated = admin
        .update_user_pool_client()
        .user_pool_id(POOL)
        .client_id(&id)
        .client_name("renamed")
        .send()
        .await
        .expect("UpdateUserPoolClient")
        .user_pool_client
        .unwrap();
    assert_eq!(updated.client_name(), Some("renamed"));
    assert_eq!(updated.client_id(), Some(id.as_str()));
    assert_eq!(
        updated.client_secret(),
        Some(secret.as_str()),
        "secret kept"
    );
    assert_defaults(&updated);
    assert_defaults(&describe(&admin, &id).await);
    let after = server.node.store.get_client(&id).await.unwrap().unwrap();
    assert_eq!(after.allowed_cors_origins, stored.allowed_cors_origins);
    assert_eq!(after.branding, stored.branding);
    assert_eq!(after.require_pkce, stored.require_pkce);
    assert_eq!(after.created_at, stored.created_at);

    // Member by member: each set alone is the only one away from its default.
    let one = |b: aws_sdk_cognitoidentityprovider::operation::update_user_pool_client::builders::UpdateUserPoolClientFluentBuilder| async move {
        b.send().await.expect("update").user_pool_client.unwrap()
    };
    let base = || {
        admin
            .update_user_pool_client()
            .user_pool_id(POOL)
            .client_id(&id)
    };
    let c = one(base().read_attributes("email")).await;
    assert_eq!(strs(c.read_attributes()), ["email"]);
    assert!(c.callback_urls().is_empty());
    let c = one(base().callback_urls(CB)).await;
    assert_eq!(strs(c.callback_urls()), [CB]);
    assert!(c.read_attributes().is_empty(), "reset by the next update");
    let c = one(base().logout_urls(LOGOUT)).await;
    assert_eq!(strs(c.logout_urls()), [LOGOUT]);
    assert!(c.callback_urls().is_empty());
    let c = one(base().explicit_auth_flows(Flow::AllowUserPasswordAuth)).await;
    assert_eq!(c.explicit_auth_flows(), [Flow::AllowUserPasswordAuth]);
    assert!(c.logout_urls().is_empty());
    let c = one(base().id_token_validity(2)).await;
    assert_eq!(c.id_token_validity(), Some(2));
    assert_eq!(c.explicit_auth_flows().len(), 3, "default flows again");
    let c = one(base().prevent_user_existence_errors(PreventUserExistenceErrorTypes::Legacy)).await;
    assert_eq!(
        c.prevent_user_existence_errors(),
        Some(&PreventUserExistenceErrorTypes::Legacy)
    );
    assert_eq!(c.id_token_validity(), Some(1));
    let c = one(base().supported_identity_providers("COGNITO")).await;
    assert_eq!(strs(c.supported_identity_providers()), ["COGNITO"]);
    assert_eq!(
        c.prevent_user_existence_errors(),
        Some(&PreventUserExistenceErrorTypes::Enabled)
    );
    let c = one(base().refresh_token_rotation(
        RefreshTokenRotationType::builder()
            .feature(FeatureType::Enabled)
            .build()
            .unwrap(),
    ))
    .await;
    assert_eq!(
        c.refresh_token_rotation().unwrap().feature(),
        &FeatureType::Enabled
    );
    assert!(c.supported_identity_providers().is_empty());
    let c = one(base()
        .callback_urls(CB)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_flows_user_pool_client(true))
    .await;
    assert_eq!(c.allowed_o_auth_flows(), [OAuthFlowType::Code]);
    assert_eq!(
        c.refresh_token_rotation().unwrap().feature(),
        &FeatureType::Disabled
    );
    let c = one(base()).await;
    assert_defaults(&c);
    assert_eq!(c.client_name(), Some("renamed"), "no name given: kept");
    server.stop().await;
}

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
