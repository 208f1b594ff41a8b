//! Issue 15: pools through the user pools API, driven by the official AWS SDK for Rust signed
//! with an operator key: CreateUserPool with custom attributes read back by
//! DescribeUserPool, UpdateUserPool resetting each omitted member to its default,
//! DeleteUserPool (deletion protection, the pool's users going with it), ListUserPools'
//! paging, AddCustomAttributes, GetSigningCertificate, Set/GetUserPoolMfaConfig; and the
//! refusals, each beside the honest call: invalid settings named by their member (the
//! service's check-config messages), members Cognate cannot honour (Lambda ARNs, SMS ...),
//! pools declared in the configuration file, unsigned and wrongly signed calls.

use aws_sdk_cognitoidentityprovider::operation::update_user_pool::builders::UpdateUserPoolFluentBuilder;
use aws_sdk_cognitoidentityprovider::types::{
    AdminCreateUserConfigType, AliasAttributeType, AttributeDataType, AuthFactorType,
    DeletionProtectionType, EmailConfigurationType, EmailMfaConfigType, EmailSendingAccountType,
    LambdaConfigType, PasswordPolicyType, SchemaAttributeType, SignInPolicyType,
    SmsConfigurationType, SmsMfaConfigType, SoftwareTokenMfaConfigType,
    StringAttributeConstraintsType, UserPoolAddOnsType, UserPoolMfaType, UserPoolPolicyType,
    UserPoolTierType, UserPoolType, UserVerificationType, UsernameAttributeType,
    UsernameConfigurationType, VerifiedAttributeType, WebAuthnConfigurationType,
};
use aws_sdk_cognitoidentityprovider::Client;
use serde_json::json;

use super::super::admin::refusal;
use super::super::{operator_client, public_client, MFA_POOL, POOL};
use cognate::core::model::Origin;

fn custom(name: &str, data_type: AttributeDataType) -> SchemaAttributeType {
    SchemaAttributeType::builder()
        .name(name)
        .attribute_data_type(data_type)
        .mutable(true)
        .build()
}

fn policies(min: i32, first: &[AuthFactorType]) -> UserPoolPolicyType {
    let mut sign_in = SignInPolicyType::builder();
    for f in first {
        sign_in = sign_in.allowed_first_auth_factors(f.clone());
    }
    UserPoolPolicyType::builder()
        .password_policy(
            PasswordPolicyType::builder()
                .minimum_length(min)
                .require_numbers(true)
                .temporary_password_validity_days(3)
                .build(),
        )
        .sign_in_policy(sign_in.build())
        .build()
}

async fn describe(admin: &Client, id: &str) -> UserPoolType {
    admin
        .describe_user_pool()
        .user_pool_id(id)
        .send()
        .await
        .expect("DescribeUserPool")
        .user_pool
        .expect("UserPool")
}

/// A minimal pool made through the API; returns its id.
async fn new_pool(admin: &Client, name: &str) -> String {
    admin
        .create_user_pool()
        .pool_name(name)
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .expect("Id")
}

#[tokio::test]
async fn a_pool_is_created_with_custom_attributes_and_read_back() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let out = admin
        .create_user_pool()
        .pool_name("shop customers")
        .policies(policies(
            12,
            &[AuthFactorType::Password, AuthFactorType::EmailOtp],
        ))
        .alias_attributes(AliasAttributeType::Email)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(true)
                .build()
                .unwrap(),
        )
        .schema(
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(AttributeDataType::String)
                .required(true)
                .mutable(true)
                .build(),
        )
        .schema(
            SchemaAttributeType::builder()
                .name("tenant")
                .attribute_data_type(AttributeDataType::String)
                .mutable(false)
                .string_attribute_constraints(
                    StringAttributeConstraintsType::builder()
                        .min_length("2")
                        .max_length("64")
                        .build(),
                )
                .build(),
        )
        .schema(custom("age", AttributeDataType::Number))
        .deletion_protection(DeletionProtectionType::Active)
        .mfa_configuration(UserPoolMfaType::Optional)
        .admin_create_user_config(
            AdminCreateUserConfigType::builder()
                .allow_admin_create_user_only(true)
                .build(),
        )
        .user_pool_tags("team", "identity")
        .user_pool_tier(UserPoolTierType::Essentials)
        .email_configuration(
            EmailConfigurationType::builder()
                .email_sending_account(EmailSendingAccountType::CognitoDefault)
                .build(),
        )
        .send()
        .await
        .expect("CreateUserPool");
    let created = out.user_pool.expect("UserPool");
    let id = created.id.clone().expect("Id");
    let (region, rest) = id.split_once('_').unwrap();
    assert_eq!(region, "us-east-1");
    assert_eq!(rest.len(), 9);
    assert!(rest.chars().all(|c| c.is_ascii_alphanumeric()), "{id}");

    let pool = describe(&admin, &id).await;
    assert_eq!(pool.name(), Some("shop customers"));
    assert_eq!(
        pool.arn(),
        Some(format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{id}").as_str())
    );
    assert!(pool.creation_date().is_some() && pool.last_modified_date().is_some());
    let pp = pool.policies().and_then(|p| p.password_policy()).unwrap();
    assert_eq!(pp.minimum_length(), Some(12));
    assert!(pp.require_numbers());
    assert!(!pp.require_symbols());
    assert_eq!(pp.temporary_password_validity_days(), 3);
    let first = pool
        .policies()
        .and_then(|p| p.sign_in_policy())
        .map(|s| s.allowed_first_auth_factors().to_vec());
    assert_eq!(
        first,
        Some(vec![AuthFactorType::Password, AuthFactorType::EmailOtp])
    );
    assert_eq!(pool.alias_attributes(), [AliasAttributeType::Email]);
    assert!(pool.username_attributes().is_empty());
    assert_eq!(
        pool.auto_verified_attributes(),
        [VerifiedAttributeType::Email]
    );
    assert_eq!(
        pool.username_configuration().map(|u| u.case_sensitive()),
        Some(true)
    );
    assert_eq!(
        pool.deletion_protection(),
        Some(&DeletionProtectionType::Active)
    );
    assert_eq!(pool.mfa_configuration(), Some(&UserPoolMfaType::Optional));
    assert_eq!(
        pool.admin_create_user_config()
            .map(|a| a.allow_admin_create_user_only()),
        Some(true)
    );
    assert_eq!(
        pool.user_pool_tags().and_then(|t| t.get("team")),
        Some(&"identity".to_string())
    );
    assert_eq!(pool.estimated_number_of_users(), 0);

    // The schema: sub and the standard attributes, then the custom ones.
    let schema = pool.schema_attributes();
    assert_eq!(schema[0].name(), Some("sub"));
    let email = schema.iter().find(|a| a.name() == Some("email")).unwrap();
    assert_eq!(email.required(), Some(true));
    let names: Vec<_> = schema.iter().filter_map(|a| a.name()).collect();
    let tail = &names[names.len() - 2..];
    assert_eq!(tail, ["custom:tenant", "custom:age"]);
    let tenant = &schema[names.len() - 2];
    assert_eq!(tenant.mutable(), Some(false));
    let lengths = tenant.string_attribute_constraints().unwrap();
    assert_eq!(
        (lengths.min_length(), lengths.max_length()),
        (Some("2"), Some("64"))
    );
    assert_eq!(
        schema[names.len() - 1].attribute_data_type(),
        Some(&AttributeDataType::Number)
    );

    // The record behind it: the API's, with the attributes the directory enforces.
    let record = server.pool(&id).await;
    assert_eq!(record.origin, Origin::Api);
    assert_eq!(record.custom_attributes[0].max_length, Some(64));
    assert_eq!(record.required_attributes, ["email"]);

    // AddCustomAttributes: a new one is added; an existing or required one is refused.
    admin
        .add_custom_attributes()
        .user_pool_id(&id)
        .custom_attributes(custom("plan", AttributeDataType::String))
        .send()
        .await
        .expect("AddCustomAttributes");
    let names: Vec<String> = describe(&admin, &id)
        .await
        .schema_attributes()
        .iter()
        .filter_map(|a| a.name().map(str::to_string))
        .collect();
    assert_eq!(names.last().map(String::as_str), Some("custom:plan"));
    let err = admin
        .add_custom_attributes()
        .user_pool_id(&id)
        .custom_attributes(custom("tenant", AttributeDataType::String))
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("CustomAttributes[3].name")
            && message.contains("Existing attribute already has name custom:tenant"),
        "{message}"
    );
    let err = admin
        .add_custom_attributes()
        .user_pool_id(&id)
        .custom_attributes(
            SchemaAttributeType::builder()
                .name("must")
                .required(true)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("cannot be required"), "{message}");
    let err = admin
        .add_custom_attributes()
        .user_pool_id(&id)
        .custom_attributes(custom(
            "name_that_is_far_too_long",
            AttributeDataType::String,
        ))
        .send()
        .await
        .unwrap_err();
    let (_, message) = refusal(&err);
    assert!(message.contains("1 to 20 letters"), "{message}");
    assert_eq!(server.pool(&id).await.custom_attributes.len(), 3);

    // GetSigningCertificate: the pool's SAML SP certificate, base64 DER.
    let cert = admin
        .get_signing_certificate()
        .user_pool_id(&id)
        .send()
        .await
        .expect("GetSigningCertificate")
        .certificate
        .expect("Certificate");
    use base64::Engine;
    let der = base64::engine::general_purpose::STANDARD
        .decode(&cert)
        .unwrap();
    let active = server
        .node
        .sp_keys
        .active(&id, cognate::core::now())
        .await
        .unwrap();
    assert_eq!(der, active.certificate_der());
    let err = admin
        .get_signing_certificate()
        .user_pool_id("us-east-1_Nowhere00")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
}

/// Every updatable member set away from its default.
fn full_update(admin: &Client, id: &str, skip: &str) -> UpdateUserPoolFluentBuilder {
    let mut b = admin.update_user_pool().user_pool_id(id);
    if skip != "Policies" {
        b = b.policies(policies(
            10,
            &[AuthFactorType::Password, AuthFactorType::EmailOtp],
        ));
    }
    if skip != "DeletionProtection" {
        b = b.deletion_protection(DeletionProtectionType::Active);
    }
    if skip != "AutoVerifiedAttributes" {
        b = b.auto_verified_attributes(VerifiedAttributeType::Email);
    }
    if skip != "MfaConfiguration" {
        b = b.mfa_configuration(UserPoolMfaType::Optional);
    }
    if skip != "AdminCreateUserConfig" {
        b = b.admin_create_user_config(
            AdminCreateUserConfigType::builder()
                .allow_admin_create_user_only(true)
                .build(),
        );
    }
    if skip != "UserPoolTags" {
        b = b.user_pool_tags("team", "identity");
    }
    b
}

#[tokio::test]
async fn update_returns_each_omitted_member_to_its_default() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let id = admin
        .create_user_pool()
        .pool_name("resets")
        .username_attributes(UsernameAttributeType::Email)
        .schema(custom("tenant", AttributeDataType::String))
        .username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .unwrap();

    // All members given: each is stored.
    full_update(&admin, &id, "")
        .send()
        .await
        .expect("full update");
    let full = describe(&admin, &id).await;
    let pp = full.policies().and_then(|p| p.password_policy()).unwrap();
    assert_eq!(pp.minimum_length(), Some(10));
    assert_eq!(
        full.deletion_protection(),
        Some(&DeletionProtectionType::Active)
    );
    assert_eq!(full.mfa_configuration(), Some(&UserPoolMfaType::Optional));

    let members = [
        "Policies",
        "DeletionProtection",
        "AutoVerifiedAttributes",
        "MfaConfiguration",
        "AdminCreateUserConfig",
        "UserPoolTags",
    ];
    for member in members {
        full_update(&admin, &id, member)
            .send()
            .await
            .unwrap_or_else(|e| panic!("update without {member}: {e:?}"));
        let pool = describe(&admin, &id).await;
        let pp = pool.policies().and_then(|p| p.password_policy()).unwrap();
        let first = pool
            .policies()
            .and_then(|p| p.sign_in_policy())
            .map(|s| s.allowed_first_auth_factors().to_vec())
            .unwrap();
        let reset = |m: &str| m == member;
        // The omitted member is back to Cognito's default ...
        assert_eq!(
            pp.minimum_length(),
            Some(if reset("Policies") { 8 } else { 10 }),
            "{member}"
        );
        assert_eq!(
            pp.require_symbols(),
            reset("Policies"),
            "{member}: the default policy requires symbols"
        );
        assert_eq!(
            first.len(),
            if reset("Policies") { 1 } else { 2 },
            "{member}"
        );
        assert_eq!(
            pool.deletion_protection(),
            Some(if reset("DeletionProtection") {
                &DeletionProtectionType::Inactive
            } else {
                &DeletionProtectionType::Active
            }),
            "{member}"
        );
        assert_eq!(
            pool.auto_verified_attributes().is_empty(),
            reset("AutoVerifiedAttributes"),
            "{member}"
        );
        assert_eq!(
            pool.mfa_configuration(),
            Some(if reset("MfaConfiguration") {
                &UserPoolMfaType::Off
            } else {
                &UserPoolMfaType::Optional
            }),
            "{member}"
        );
        assert_eq!(
            pool.admin_create_user_config()
                .map(|a| a.allow_admin_create_user_only()),
            Some(!reset("AdminCreateUserConfig")),
            "{member}"
        );
        assert_eq!(
            pool.user_pool_tags().is_none_or(|t| t.is_empty()),
            reset("UserPoolTags"),
            "{member}"
        );
        // ... and what UpdateUserPool cannot change stays.
        assert_eq!(pool.name(), Some("resets"), "{member}");
        assert_eq!(pool.username_attributes(), [UsernameAttributeType::Email]);
        assert_eq!(
            pool.username_configuration().map(|u| u.case_sensitive()),
            Some(true)
        );
        assert!(pool
            .schema_attributes()
            .iter()
            .any(|a| a.name() == Some("custom:tenant")));
        // Back to everything set for the next member.
        full_update(&admin, &id, "")
            .send()
            .await
            .expect("full update");
    }

    // A bare update resets everything at once (and may rename).
    admin
        .update_user_pool()
        .user_pool_id(&id)
        .pool_name("renamed")
        .send()
        .await
        .expect("bare update");
    let bare = describe(&admin, &id).await;
    assert_eq!(bare.name(), Some("renamed"));
    assert_eq!(
        bare.deletion_protection(),
        Some(&DeletionProtectionType::Inactive)
    );
    assert_eq!(bare.mfa_configuration(), Some(&UserPoolMfaType::Off));
    let record = server.pool(&id).await;
    assert_eq!(record.password_policy, Default::default());
    assert_eq!(record.custom_attributes.len(), 1);
    assert!(record.username_case_sensitive);
}

#[tokio::test]
async fn invalid_settings_are_refused_by_member_with_the_checkers_words() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let before = server.node.store.list_pools().await.unwrap().len();

    // A password length outside 6..99: the service's rule, named by its member.
    let err = admin
        .create_user_pool()
        .pool_name("short")
        .policies(policies(5, &[AuthFactorType::Password]))
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("Policies.PasswordPolicy.MinimumLength: minimum_length 5 is outside Cognito's range 6 to 99"),
        "{message}"
    );
    // Username and alias attributes together.
    let err = admin
        .create_user_pool()
        .pool_name("both")
        .username_attributes(UsernameAttributeType::Email)
        .alias_attributes(AliasAttributeType::PreferredUsername)
        .send()
        .await
        .unwrap_err();
    let (_, message) = refusal(&err);
    assert!(
        message.contains(
            "AliasAttributes: username_attributes and alias_attributes cannot both be set"
        ),
        "{message}"
    );
    // Phone numbers verified by SMS.
    let err = admin
        .create_user_pool()
        .pool_name("sms")
        .auto_verified_attributes(VerifiedAttributeType::PhoneNumber)
        .send()
        .await
        .unwrap_err();
    let (_, message) = refusal(&err);
    assert!(
        message.contains(
            "AutoVerifiedAttributes[0]: phone_number cannot be verified: this pool cannot send SMS"
        ),
        "{message}"
    );
    // EMAIL_OTP sign-in with MFA required.
    let err = admin
        .create_user_pool()
        .pool_name("otp on")
        .mfa_configuration(UserPoolMfaType::On)
        .policies(policies(
            8,
            &[AuthFactorType::Password, AuthFactorType::EmailOtp],
        ))
        .send()
        .await
        .unwrap_err();
    let (_, message) = refusal(&err);
    assert!(
        message.contains(
            "Policies.SignInPolicy.AllowedFirstAuthFactors[1]: EMAIL_OTP sign-in is one factor"
        ),
        "{message}"
    );
    // SMS_OTP sign-in; a sign-in policy without PASSWORD.
    let err = admin
        .create_user_pool()
        .pool_name("sms otp")
        .policies(policies(
            8,
            &[AuthFactorType::Password, AuthFactorType::SmsOtp],
        ))
        .send()
        .await
        .unwrap_err();
    assert!(refusal(&err).1.contains("SMS_OTP is refused"), "{err:?}");
    let err = admin
        .create_user_pool()
        .pool_name("no password")
        .policies(policies(8, &[AuthFactorType::EmailOtp]))
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err)
            .1
            .contains("Policies.SignInPolicy.AllowedFirstAuthFactors: the sign-in factors must include PASSWORD"),
        "{err:?}"
    );
    // A custom attribute with a bad name, and a value outside an enum.
    let err = admin
        .create_user_pool()
        .pool_name("bad attr")
        .schema(custom("has space", AttributeDataType::String))
        .send()
        .await
        .unwrap_err();
    assert!(refusal(&err).1.contains("Schema[0].name"), "{err:?}");
    let err = admin
        .create_user_pool()
        .pool_name("bad enum")
        .mfa_configuration(UserPoolMfaType::from("SOMETIMES"))
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err)
            .1
            .contains("Value 'SOMETIMES' at 'mfaConfiguration' failed to satisfy constraint: Member must satisfy enum value set: [OFF, ON, OPTIONAL]"),
        "{err:?}"
    );
    // An empty name.
    let err = admin
        .create_user_pool()
        .pool_name("")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
    assert_eq!(
        server.node.store.list_pools().await.unwrap().len(),
        before,
        "nothing was created"
    );

    // The honest pool, and the same refusal on update.
    let id = new_pool(&admin, "honest").await;
    let err = admin
        .update_user_pool()
        .user_pool_id(&id)
        .policies(policies(100, &[AuthFactorType::Password]))
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err)
            .1
            .contains("Policies.PasswordPolicy.MinimumLength"),
        "{err:?}"
    );
    assert_eq!(server.pool(&id).await.password_policy.minimum_length, 8);
}

#[tokio::test]
async fn members_cognate_cannot_honour_are_refused_never_ignored() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let before = server.node.store.list_pools().await.unwrap().len();
    let err = admin
        .create_user_pool()
        .pool_name("triggers")
        .lambda_config(
            LambdaConfigType::builder()
                .pre_sign_up("arn:aws:lambda:us-east-1:123456789012:function:pre")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    // A Lambda ARN: triggers are webhooks here (see tests/it/triggers for their URLs).
    assert!(
        message.starts_with("LambdaConfig.PreSignUp:")
            && message.contains("give the webhook's URL"),
        "{message}"
    );
    let err = admin
        .create_user_pool()
        .pool_name("sms")
        .sms_configuration(
            SmsConfigurationType::builder()
                .sns_caller_arn("arn:aws:iam::123456789012:role/sns")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err).1.starts_with(
            "SmsConfiguration: Cognate sends text messages only through a custom SMS sender"
        ),
        "{err:?}"
    );
    let err = admin
        .create_user_pool()
        .pool_name("threats")
        .user_pool_add_ons(
            // AdvancedSecurityMode is honoured (tests/it/threat); a separate mode for
            // custom authentication flows is not.
            UserPoolAddOnsType::builder()
                .advanced_security_mode("ENFORCED".into())
                .advanced_security_additional_flows(
                    aws_sdk_cognitoidentityprovider::types::AdvancedSecurityAdditionalFlowsType::builder()
                        .custom_auth_mode("AUDIT".into())
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err)
            .1
            .starts_with("UserPoolAddOns.AdvancedSecurityAdditionalFlows:"),
        "{err:?}"
    );
    let err = admin
        .create_user_pool()
        .pool_name("plus")
        .user_pool_tier(UserPoolTierType::Plus)
        .send()
        .await
        .unwrap_err();
    assert!(refusal(&err).1.starts_with("UserPoolTier:"), "{err:?}");
    let err = admin
        .create_user_pool()
        .pool_name("ses")
        .email_configuration(
            EmailConfigurationType::builder()
                .email_sending_account(EmailSendingAccountType::Developer)
                .source_arn("arn:aws:ses:us-east-1:123456789012:identity/a@b.c")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err).1.starts_with("EmailConfiguration:"),
        "{err:?}"
    );
    assert_eq!(server.node.store.list_pools().await.unwrap().len(), before);

    // Their defaults are accepted: an empty LambdaConfig, OFF, ESSENTIALS, COGNITO_DEFAULT.
    let id = admin
        .create_user_pool()
        .pool_name("defaults")
        .lambda_config(LambdaConfigType::builder().build())
        .user_pool_add_ons(
            UserPoolAddOnsType::builder()
                .advanced_security_mode("OFF".into())
                .build()
                .unwrap(),
        )
        .user_pool_tier(UserPoolTierType::Essentials)
        .send()
        .await
        .expect("defaults")
        .user_pool
        .and_then(|p| p.id)
        .unwrap();
    // LambdaConfig on update too.
    let err = admin
        .update_user_pool()
        .user_pool_id(&id)
        .lambda_config(
            LambdaConfigType::builder()
                .post_confirmation("arn:aws:lambda:us-east-1:123456789012:function:post")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err)
            .1
            .starts_with("LambdaConfig.PostConfirmation:"),
        "{err:?}"
    );
}

#[tokio::test]
async fn pools_declared_in_the_file_are_refused_to_api_writes() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let before = server.pool(POOL).await;
    let expect_file = |err: (String, String)| {
        assert_eq!(err.0, "NotAuthorizedException", "{err:?}");
        assert!(
            err.1.contains("is declared in the configuration file"),
            "{err:?}"
        );
    };
    let err = admin
        .update_user_pool()
        .user_pool_id(POOL)
        .pool_name("taken over")
        .send()
        .await
        .unwrap_err();
    expect_file(refusal(&err));
    let err = admin
        .delete_user_pool()
        .user_pool_id(POOL)
        .send()
        .await
        .unwrap_err();
    expect_file(refusal(&err));
    let err = admin
        .add_custom_attributes()
        .user_pool_id(POOL)
        .custom_attributes(custom("plan", AttributeDataType::String))
        .send()
        .await
        .unwrap_err();
    expect_file(refusal(&err));
    let err = admin
        .set_user_pool_mfa_config()
        .user_pool_id(MFA_POOL)
        .mfa_configuration(UserPoolMfaType::Off)
        .send()
        .await
        .unwrap_err();
    expect_file(refusal(&err));
    assert_eq!(server.pool(POOL).await, before, "unchanged");
    assert_eq!(
        server.pool(MFA_POOL).await.mfa,
        cognate::core::model::MfaSetting::Optional
    );
    // Reading them is fine.
    assert_eq!(describe(&admin, POOL).await.name(), Some("user pools API"));
    let got = admin
        .get_user_pool_mfa_config()
        .user_pool_id(MFA_POOL)
        .send()
        .await
        .expect("GetUserPoolMfaConfig");
    assert_eq!(got.mfa_configuration(), Some(&UserPoolMfaType::Optional));
    assert!(got.email_mfa_configuration().is_some());

    // The same writes on a pool the API made succeed.
    let id = new_pool(&admin, "mine").await;
    admin
        .add_custom_attributes()
        .user_pool_id(&id)
        .custom_attributes(custom("plan", AttributeDataType::String))
        .send()
        .await
        .expect("AddCustomAttributes");
    admin
        .update_user_pool()
        .user_pool_id(&id)
        .pool_name("still mine")
        .send()
        .await
        .expect("UpdateUserPool");
    admin
        .delete_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("DeleteUserPool");
}

#[tokio::test]
async fn unsigned_and_wrongly_signed_calls_are_refused() {
    let server = super::super::start().await;
    let before = server.node.store.list_pools().await.unwrap().len();
    // A key that is not an operator's.
    let err = public_client(&server)
        .create_user_pool()
        .pool_name("intruder")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnrecognizedClientException");
    // An operator's key id signed with the wrong secret.
    let key = crate::aws_edge::make_key(&server, None, None).await;
    let forged = super::super::client_with(&server.base, &key.access_key_id, "wrong-secret");
    let err = forged
        .create_user_pool()
        .pool_name("intruder")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidSignatureException");
    let err = forged
        .delete_user_pool()
        .user_pool_id(POOL)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidSignatureException");
    // Not signed at all.
    for (target, body) in [
        ("CreateUserPool", json!({"PoolName": "intruder"})),
        ("DeleteUserPool", json!({"UserPoolId": POOL})),
    ] {
        let response = crate::aws_edge::client()
            .post(format!("{}/", server.base))
            .header("content-type", "application/x-amz-json-1.1")
            .header(
                "x-amz-target",
                format!("AWSCognitoIdentityProviderService.{target}"),
            )
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error());
        assert_eq!(
            response
                .headers()
                .get("x-amzn-ErrorType")
                .and_then(|v| v.to_str().ok()),
            Some("MissingAuthenticationTokenException")
        );
    }
    assert_eq!(server.node.store.list_pools().await.unwrap().len(), before);
    // The honest operator.
    let admin = operator_client(&server).await;
    new_pool(&admin, "honest").await;
    assert_eq!(
        server.node.store.list_pools().await.unwrap().len(),
        before + 1
    );
}

#[tokio::test]
async fn list_user_pools_pages_through_every_pool() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let mut made = Vec::new();
    for i in 0..4 {
        made.push(new_pool(&admin, &format!("listed {i}")).await);
    }
    let total = server.node.store.list_pools().await.unwrap().len();
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let out = admin
            .list_user_pools()
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListUserPools");
        assert!(out.user_pools().len() <= 2);
        for p in out.user_pools() {
            assert!(p.creation_date().is_some() && p.name().is_some());
            seen.push(p.id().unwrap().to_string());
        }
        pages += 1;
        token = out.next_token.clone();
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), total);
    assert_eq!(pages, total.div_ceil(2));
    for id in made.iter().chain([POOL.to_string()].iter()) {
        assert!(seen.contains(id), "{id}");
    }
    // MaxResults outside 1..60, and a token the listing did not issue.
    for bad in [0, 61] {
        let err = admin
            .list_user_pools()
            .max_results(bad)
            .send()
            .await
            .unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException");
        assert!(message.contains("maxResults"), "{message}");
    }
    let err = admin
        .list_user_pools()
        .max_results(2)
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
}

#[tokio::test]
async fn deletion_protection_holds_the_pool_until_it_is_turned_off() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let id = admin
        .create_user_pool()
        .pool_name("protected")
        .deletion_protection(DeletionProtectionType::Active)
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .unwrap();
    server.user(&id, "ana", "Corr3ct-horse-api!").await;
    let err = admin
        .delete_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("The pool cannot be deleted because deletion protection is activated"),
        "{message}"
    );
    assert_eq!(
        server.user_count(&id).await,
        1,
        "the pool and its user stay"
    );
    assert_eq!(describe(&admin, &id).await.estimated_number_of_users(), 1);
    // An update that omits DeletionProtection turns it off (Cognito's reset rule).
    admin
        .update_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("UpdateUserPool");
    admin
        .delete_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .expect("DeleteUserPool");
    assert!(server.node.store.get_pool(&id).await.unwrap().is_none());
    assert_eq!(server.user_count(&id).await, 0, "its users went with it");
    let err = admin
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    let err = admin
        .delete_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
}

#[tokio::test]
async fn a_pool_made_by_the_api_survives_applying_a_file_that_does_not_name_it() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let id = new_pool(&admin, "api owned").await;
    // The fixture's file declares other pools only; apply it again, pruning.
    server.node.bootstrap(true).await.expect("apply");
    let pool = describe(&admin, &id).await;
    assert_eq!(pool.name(), Some("api owned"));
    assert_eq!(server.pool(&id).await.origin, Origin::Api);
    // The file's own pools are still there too.
    describe(&admin, POOL).await;
}

#[tokio::test]
async fn the_mfa_configuration_is_set_and_read() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let id = new_pool(&admin, "mfa").await;
    let out = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder().enabled(true).build(),
        )
        .email_mfa_configuration(EmailMfaConfigType::builder().build())
        .web_authn_configuration(
            WebAuthnConfigurationType::builder()
                .relying_party_id("example.com")
                .user_verification(UserVerificationType::Required)
                .build(),
        )
        .send()
        .await
        .expect("SetUserPoolMfaConfig");
    assert_eq!(out.mfa_configuration(), Some(&UserPoolMfaType::Optional));
    let got = admin
        .get_user_pool_mfa_config()
        .user_pool_id(&id)
        .send()
        .await
        .expect("GetUserPoolMfaConfig");
    assert_eq!(got.mfa_configuration(), Some(&UserPoolMfaType::Optional));
    assert_eq!(
        got.software_token_mfa_configuration().map(|t| t.enabled()),
        Some(true)
    );
    assert!(got.email_mfa_configuration().is_some());
    assert_eq!(
        got.web_authn_configuration()
            .and_then(|w| w.relying_party_id()),
        Some("example.com")
    );
    let record = server.pool(&id).await;
    use cognate::core::model::MfaFactor;
    assert_eq!(record.factors.mfa, [MfaFactor::Totp, MfaFactor::Email]);
    assert_eq!(
        record.factors.passkeys.relying_party_id.as_deref(),
        Some("example.com")
    );
    assert_eq!(
        describe(&admin, &id).await.mfa_configuration(),
        Some(&UserPoolMfaType::Optional)
    );

    // Refusals: SMS, preferred verification, an IP relying party, ON with no factor.
    let err = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&id)
        .sms_mfa_configuration(SmsMfaConfigType::builder().build())
        .send()
        .await
        .unwrap_err();
    // (SMS MFA needs a custom SMS sender, which this pool does not have.)
    let message = refusal(&err).1;
    assert!(
        message.starts_with("SmsMfaConfiguration: ") && message.contains("custom SMS sender"),
        "{err:?}"
    );
    let err = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&id)
        .web_authn_configuration(
            WebAuthnConfigurationType::builder()
                .user_verification(UserVerificationType::Preferred)
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err)
            .1
            .starts_with("WebAuthnConfiguration.UserVerification:"),
        "{err:?}"
    );
    let err = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&id)
        .web_authn_configuration(
            WebAuthnConfigurationType::builder()
                .relying_party_id("10.0.0.1")
                .build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err)
            .1
            .contains("WebAuthnConfiguration.RelyingPartyId: \"10.0.0.1\" is an IP address"),
        "{err:?}"
    );
    let err = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&id)
        .mfa_configuration(UserPoolMfaType::On)
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err)
            .1
            .contains("MfaConfiguration: mfa ON needs at least one second factor"),
        "{err:?}"
    );
    let record_after = server.pool(&id).await;
    assert_eq!(record_after.factors, record.factors, "unchanged");

    // The pool's own rules apply: EMAIL_OTP sign-in cannot go with MFA ON.
    admin
        .update_user_pool()
        .user_pool_id(&id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .policies(policies(
            8,
            &[AuthFactorType::Password, AuthFactorType::EmailOtp],
        ))
        .send()
        .await
        .expect("EMAIL_OTP with OPTIONAL");
    let err = admin
        .set_user_pool_mfa_config()
        .user_pool_id(&id)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder().enabled(true).build(),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        refusal(&err).1.contains("EMAIL_OTP sign-in is one factor"),
        "{err:?}"
    );
    // Turning TOTP off by omitting it, as Cognito does.
    admin
        .set_user_pool_mfa_config()
        .user_pool_id(&id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .email_mfa_configuration(EmailMfaConfigType::builder().build())
        .send()
        .await
        .expect("email only");
    assert_eq!(server.pool(&id).await.factors.mfa, [MfaFactor::Email]);
}

#[tokio::test]
async fn the_file_and_the_api_agree_on_deletion_protection() {
    // `deletion_protection = true` in the file is the API's DeletionProtection ACTIVE.
    let file_pool = "us-east-1_Protect01";
    let server = crate::support::server::TestServer::start(&format!(
        "[[pools]]\nid = \"{file_pool}\"\nname = \"protected by the file\"\n\
         deletion_protection = true\n"
    ))
    .await;
    let admin = operator_client(&server).await;
    let pool = describe(&admin, file_pool).await;
    assert_eq!(
        pool.deletion_protection(),
        Some(&DeletionProtectionType::Active)
    );
    assert!(server.pool(file_pool).await.deletion_protection);
    // Without the key, INACTIVE.
    let unprotected = super::super::start().await;
    let admin = operator_client(&unprotected).await;
    assert_eq!(
        describe(&admin, POOL).await.deletion_protection(),
        Some(&DeletionProtectionType::Inactive)
    );
}

#[tokio::test]
async fn a_pool_without_username_configuration_is_case_sensitive_as_in_cognito() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let id = new_pool(&admin, "defaults").await;
    let pool = describe(&admin, &id).await;
    assert_eq!(
        pool.username_configuration().map(|u| u.case_sensitive()),
        Some(true)
    );
    for username in ["Alice", "alice"] {
        admin
            .admin_create_user()
            .user_pool_id(&id)
            .username(username)
            .message_action(aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{username}: {e:?}"));
    }
    assert_eq!(server.user_count(&id).await, 2);
    // A UsernameConfiguration must say which.
    let body = json!({"PoolName": "p", "UsernameConfiguration": {}}).to_string();
    let (status, code, message) = super::providers::raw(&server, "CreateUserPool", &body).await;
    assert_eq!((status, code.as_str()), (400, "InvalidParameterException"));
    assert!(
        message.contains("UsernameConfiguration.CaseSensitive"),
        "{message}"
    );
}

#[tokio::test]
async fn list_user_pools_requires_max_results() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let err = admin.list_user_pools().send().await.unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains(
            "Value at 'maxResults' failed to satisfy constraint: Member must not be null"
        ),
        "{message}"
    );
    let out = admin
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("ListUserPools");
    assert!(out.next_token.is_none());
    assert!(out.user_pools().iter().any(|p| p.id() == Some(POOL)));
}

/// What the API sets up, the hosted UI honours: a pool made by CreateUserPool signs a user
/// in; after SetUserPoolMfaConfig ON, the same sign-in is sent to set up a second factor.
#[tokio::test]
async fn the_hosted_ui_honours_what_the_api_sets() {
    use cognate::core::admin::AdminService;
    use cognate::core::model::{AppClient, OAuthFlow};

    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let id = new_pool(&admin, "hosted").await;
    let callback = "https://app.example/cb";
    let now = cognate::core::now();
    let client = AppClient {
        id: "hostedapiclient000000001".into(),
        pool_id: id.clone(),
        name: "web".into(),
        origin: Origin::Api,
        secret: None,
        callback_urls: vec![callback.into()],
        logout_urls: Vec::new(),
        allowed_oauth_flows: vec![OAuthFlow::Code],
        allowed_oauth_scopes: vec!["openid".into()],
        supported_identity_providers: vec!["COGNITO".into()],
        token_validity: Default::default(),
        refresh_rotation: Default::default(),
        require_pkce: false,
        read_attributes: Vec::new(),
        write_attributes: Vec::new(),
        allowed_cors_origins: Vec::new(),
        branding: Default::default(),
        explicit_auth_flows: cognate::core::model::default_auth_flows(),
        prevent_user_existence_errors: Default::default(),
        created_at: now,
        updated_at: now,
    };
    AdminService::new(server.node.store.clone())
        .put_client(&client)
        .await
        .expect("the client");
    server.user(&id, "ana", "Corr3ct-horse-api!").await;
    let authorize = {
        let mut url = url::Url::parse(&format!("{}/oauth2/authorize", server.base)).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &client.id)
            .append_pair("redirect_uri", callback)
            .append_pair("scope", "openid")
            .append_pair("state", "st");
        url.to_string()
    };
    let browser = crate::support::server::browser_client();
    let location = crate::support::server::sign_in(
        &browser,
        &server.base,
        &authorize,
        "ana",
        "Corr3ct-horse-api!",
    )
    .await
    .expect("sign-in");
    assert!(location.starts_with(callback), "{location}");

    admin
        .set_user_pool_mfa_config()
        .user_pool_id(&id)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(
            SoftwareTokenMfaConfigType::builder().enabled(true).build(),
        )
        .send()
        .await
        .expect("SetUserPoolMfaConfig");
    let browser = crate::support::server::browser_client();
    let location = crate::support::server::sign_in(
        &browser,
        &server.base,
        &authorize,
        "ana",
        "Corr3ct-horse-api!",
    )
    .await
    .expect("sign-in");
    assert!(
        location.starts_with("/login/mfa-setup"),
        "MFA ON asks for a factor: {location}"
    );
}

#[tokio::test]
async fn cognitos_quotas_are_limit_exceeded() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let id = new_pool(&admin, "quota").await;
    // 50 custom attributes fit; the 51st is over the quota.
    let mut add = admin.add_custom_attributes().user_pool_id(&id);
    for i in 0..50 {
        add = add.custom_attributes(custom(&format!("a{i}"), AttributeDataType::String));
    }
    add.send().await.expect("50 custom attributes");
    let err = admin
        .add_custom_attributes()
        .user_pool_id(&id)
        .custom_attributes(custom("one_more", AttributeDataType::String))
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "LimitExceededException");
    assert!(message.contains("at most 50"), "{message}");
    assert_eq!(server.pool(&id).await.custom_attributes.len(), 50);

    // 1,000 pools: the next CreateUserPool is refused, and succeeds once one is gone.
    let mut filler = server.pool(&id).await;
    filler.custom_attributes.clear();
    let have = server.node.store.list_pools().await.unwrap().len();
    for i in have..1000 {
        filler.id = format!("us-east-1_Fill{i:05}");
        server.node.store.put_pool(&filler).await.unwrap();
    }
    let err = admin
        .create_user_pool()
        .pool_name("one too many")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "LimitExceededException");
    assert!(message.contains("quota is 1000"), "{message}");
    admin
        .delete_user_pool()
        .user_pool_id("us-east-1_Fill00999")
        .send()
        .await
        .expect("DeleteUserPool");
    new_pool(&admin, "fits again").await;
}
