//! Issue 15: clients through the user pools API.
//!
//! CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient,
//! DeleteUserPoolClient and ListUserPoolClients through the official AWS SDK signed with
//! an operator key, in the fixture pool [`POOL`] (declared in the configuration file; the
//! API adds its own clients beside the file's): every setting read back, the update's
//! reset of each omitted member, invalid settings named by their members, the quota and
//! paging, file-owned and other pools' clients refused, unsigned and wrongly signed calls
//! refused ([`refusals`]), and an API client signing a user in (InitiateAuth, the hosted UI
//! with PKCE), losing its tokens when deleted, and surviving `cognate apply` ([`sign_in`]).

use aws_sdk_cognitoidentityprovider::types::{
    ExplicitAuthFlowsType as Flow, FeatureType, OAuthFlowType, PreventUserExistenceErrorTypes,
    RefreshTokenRotationType, TimeUnitsType, TokenValidityUnitsType, UserPoolClientType,
};
use aws_sdk_cognitoidentityprovider::Client;

use super::super::{operator_client, start, POOL};

mod refusals;
mod sign_in;

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
    // Left out: the pool's own users (see the README).
    assert_eq!(strs(c.supported_identity_providers()), ["COGNITO"]);
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
    // Left out: the pool's own users (see the README).
    assert_eq!(strs(c.supported_identity_providers()), ["COGNITO"]);
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
