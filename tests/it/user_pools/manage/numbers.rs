//! Cognito's `NumberAttributeConstraints` through the API, driven by the AWS SDK for Rust:
//! a pool whose `custom:seats` is a Number from 1 to 10 echoes its bounds in
//! DescribeUserPool, and every attribute write (SignUp, AdminCreateUser,
//! AdminUpdateUserAttributes, UpdateUserAttributes) refuses a value outside them or not an
//! integer, naming the attribute and storing nothing, beside the honest write that
//! succeeds. Bad bounds are refused by CreateUserPool and AddCustomAttributes by member.

use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, AuthFlowType, ExplicitAuthFlowsType, MessageActionType,
    NumberAttributeConstraintsType, SchemaAttributeType,
};
use aws_sdk_cognitoidentityprovider::Client;

use super::super::admin::refusal;
use super::super::{operator_client, public_client};
use crate::support::server::TestServer;

const PASSWORD: &str = "Seat-Passw0rd!";

fn number(name: &str, min: Option<&str>, max: Option<&str>) -> SchemaAttributeType {
    let mut bounds = NumberAttributeConstraintsType::builder();
    if let Some(min) = min {
        bounds = bounds.min_value(min);
    }
    if let Some(max) = max {
        bounds = bounds.max_value(max);
    }
    SchemaAttributeType::builder()
        .name(name)
        .attribute_data_type(AttributeDataType::Number)
        .mutable(true)
        .number_attribute_constraints(bounds.build())
        .build()
}

fn seats(value: &str) -> AttributeType {
    AttributeType::builder()
        .name("custom:seats")
        .value(value)
        .build()
        .unwrap()
}

/// The user's stored `custom:seats`, or `None` when the user does not exist.
async fn stored_seats(server: &TestServer, pool_id: &str, username: &str) -> Option<String> {
    let user = server.find_user(pool_id, username).await?;
    Some(
        user.attribute("custom:seats")
            .unwrap_or_else(|| panic!("{username} has no custom:seats"))
            .to_string(),
    )
}

/// CreateUserPool with `custom:seats` from 1 to 10, and a public client allowing
/// USER_PASSWORD_AUTH; returns (pool id, client id).
async fn seats_pool(admin: &Client) -> (String, String) {
    let pool_id = admin
        .create_user_pool()
        .pool_name("seats")
        .schema(number("seats", Some("1"), Some("10")))
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .expect("Id");
    let client_id = admin
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client
        .and_then(|c| c.client_id)
        .expect("ClientId");
    (pool_id, client_id)
}

/// Asserts an InvalidParameterException naming `custom:seats` and saying why.
fn refused_naming_seats<
    E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata + std::fmt::Debug,
>(
    err: &E,
    why: &str,
) {
    let (code, message) = refusal(err);
    assert_eq!(code, "InvalidParameterException", "{message}");
    assert_eq!(message, format!("Invalid value for custom:seats: {why}"));
}

#[tokio::test]
async fn number_bounds_are_echoed_and_enforced_on_every_write() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let public = public_client(&server);
    let (pool_id, client_id) = seats_pool(&admin).await;

    // DescribeUserPool echoes the bounds as botocore's strings.
    let pool = admin
        .describe_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .expect("DescribeUserPool")
        .user_pool
        .expect("UserPool");
    let attr = pool
        .schema_attributes()
        .iter()
        .find(|a| a.name() == Some("custom:seats"))
        .expect("custom:seats in the schema");
    assert_eq!(attr.attribute_data_type(), Some(&AttributeDataType::Number));
    let bounds = attr.number_attribute_constraints().expect("bounds");
    assert_eq!(
        (bounds.min_value(), bounds.max_value()),
        (Some("1"), Some("10"))
    );
    let record = server.pool(&pool_id).await;
    let seats_def = &record.custom_attributes[0];
    assert_eq!(
        (seats_def.min_value, seats_def.max_value),
        (Some(1), Some(10))
    );

    // SignUp: out of bounds and not an integer are refused, nothing stored.
    for (value, why) in [
        ("11", "must be at most 10"),
        ("0", "must be at least 1"),
        ("abc", "must be an integer"),
        ("5.5", "must be an integer"),
    ] {
        let err = public
            .sign_up()
            .client_id(&client_id)
            .username("signer")
            .password(PASSWORD)
            .user_attributes(seats(value))
            .send()
            .await
            .expect_err(value);
        refused_naming_seats(&err.into_service_error(), why);
        assert_eq!(stored_seats(&server, &pool_id, "signer").await, None);
    }
    public
        .sign_up()
        .client_id(&client_id)
        .username("signer")
        .password(PASSWORD)
        .user_attributes(seats("5"))
        .send()
        .await
        .expect("SignUp with 5 seats");
    assert_eq!(
        stored_seats(&server, &pool_id, "signer").await.as_deref(),
        Some("5")
    );

    // AdminCreateUser: the same.
    for (value, why) in [("11", "must be at most 10"), ("abc", "must be an integer")] {
        let err = admin
            .admin_create_user()
            .user_pool_id(&pool_id)
            .username("made")
            .message_action(MessageActionType::Suppress)
            .user_attributes(seats(value))
            .send()
            .await
            .expect_err(value);
        refused_naming_seats(&err.into_service_error(), why);
        assert_eq!(stored_seats(&server, &pool_id, "made").await, None);
    }
    assert_eq!(server.user_count(&pool_id).await, 1);
    admin
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username("made")
        .message_action(MessageActionType::Suppress)
        .user_attributes(seats("5"))
        .send()
        .await
        .expect("AdminCreateUser with 5 seats");
    assert_eq!(
        stored_seats(&server, &pool_id, "made").await.as_deref(),
        Some("5")
    );

    // AdminUpdateUserAttributes: a refused value leaves the stored one.
    for (value, why) in [("11", "must be at most 10"), ("1e1", "must be an integer")] {
        let err = admin
            .admin_update_user_attributes()
            .user_pool_id(&pool_id)
            .username("made")
            .user_attributes(seats(value))
            .send()
            .await
            .expect_err(value);
        refused_naming_seats(&err.into_service_error(), why);
        assert_eq!(
            stored_seats(&server, &pool_id, "made").await.as_deref(),
            Some("5")
        );
    }
    admin
        .admin_update_user_attributes()
        .user_pool_id(&pool_id)
        .username("made")
        .user_attributes(seats("10"))
        .send()
        .await
        .expect("AdminUpdateUserAttributes to 10 seats");
    assert_eq!(
        stored_seats(&server, &pool_id, "made").await.as_deref(),
        Some("10")
    );

    // UpdateUserAttributes, the user's own write with an access token.
    admin
        .admin_set_user_password()
        .user_pool_id(&pool_id)
        .username("made")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");
    let token = public
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "made")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth")
        .authentication_result
        .and_then(|r| r.access_token)
        .expect("AccessToken");
    for (value, why) in [
        ("-1", "must be at least 1"),
        ("seven", "must be an integer"),
    ] {
        let err = public
            .update_user_attributes()
            .access_token(&token)
            .user_attributes(seats(value))
            .send()
            .await
            .expect_err(value);
        refused_naming_seats(&err.into_service_error(), why);
        assert_eq!(
            stored_seats(&server, &pool_id, "made").await.as_deref(),
            Some("10")
        );
    }
    public
        .update_user_attributes()
        .access_token(&token)
        .user_attributes(seats("7"))
        .send()
        .await
        .expect("UpdateUserAttributes to 7 seats");
    assert_eq!(
        stored_seats(&server, &pool_id, "made").await.as_deref(),
        Some("7")
    );
}

#[tokio::test]
async fn bad_bounds_are_refused_by_member() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let create = |attr: SchemaAttributeType| {
        admin
            .create_user_pool()
            .pool_name("bounds")
            .schema(attr)
            .send()
    };
    let before = admin
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("ListUserPools")
        .user_pools()
        .len();

    // Not an integer: named by its member.
    let err = create(number("seats", Some("1.5"), None))
        .await
        .expect_err("MinValue 1.5");
    let (code, message) = refusal(&err.into_service_error());
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("Schema(seats).NumberAttributeConstraints.MinValue"),
        "{message}"
    );
    // The least above the greatest: named by the service's rule.
    let err = create(number("seats", Some("10"), Some("1")))
        .await
        .expect_err("MinValue above MaxValue");
    let (code, message) = refusal(&err.into_service_error());
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("min_value 10 is larger than max_value 1"),
        "{message}"
    );
    // Bounds on a String attribute would bound nothing.
    let string_with_bounds = SchemaAttributeType::builder()
        .name("plan")
        .attribute_data_type(AttributeDataType::String)
        .number_attribute_constraints(
            NumberAttributeConstraintsType::builder()
                .max_value("3")
                .build(),
        )
        .build();
    let err = create(string_with_bounds)
        .await
        .expect_err("bounds on a String");
    let (code, message) = refusal(&err.into_service_error());
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("Number attributes only"), "{message}");
    let after = admin
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("ListUserPools")
        .user_pools()
        .len();
    assert_eq!(after, before, "a refused pool was stored");

    // The honest pools: equal bounds, one bound, negative bounds.
    let pool_id = create(number("seats", Some("-5"), Some("-5")))
        .await
        .expect("MinValue = MaxValue")
        .user_pool
        .and_then(|p| p.id)
        .expect("Id");
    // AddCustomAttributes takes bounds too, and refuses bad ones.
    let err = admin
        .add_custom_attributes()
        .user_pool_id(&pool_id)
        .custom_attributes(number("rank", Some("4"), Some("3")))
        .send()
        .await
        .expect_err("MinValue above MaxValue");
    let (code, message) = refusal(&err.into_service_error());
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("CustomAttributes"), "{message}");
    admin
        .add_custom_attributes()
        .user_pool_id(&pool_id)
        .custom_attributes(number("rank", None, Some("3")))
        .send()
        .await
        .expect("AddCustomAttributes with MaxValue 3");
    let record = server.pool(&pool_id).await;
    let bounds: Vec<_> = record
        .custom_attributes
        .iter()
        .map(|c| (c.name.as_str(), c.min_value, c.max_value))
        .collect();
    assert_eq!(
        bounds,
        [("seats", Some(-5), Some(-5)), ("rank", None, Some(3))]
    );
}
