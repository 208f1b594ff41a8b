//! The administration rules, each refusal paired with the honest record it accepts, and
//! the service's writes over a real (SQLite) store.

use std::sync::Arc;

use super::*;
use crate::core::model::{
    AliasAttribute, AppClient, AttributeDataType, Branding, CustomAttribute, FirstFactor, Group,
    IdentityProvider, MfaFactor, MfaSetting, OAuthFlow, OidcClientSecret, Origin, PasswordPolicy,
    ProtocolSettings, RefreshRotation, ResourceScope, ResourceServer, TokenValidity, UserPool,
};
use crate::core::storage::Store;
// As in the throttle's tests: the service is driven over the real engine, which the core
// itself never names outside tests.
use crate::store::sqlite::SqliteStore;

const POOL: &str = "us-east-1_AdminTest";

pub(crate) fn pool() -> UserPool {
    UserPool {
        id: POOL.into(),
        name: "customers".into(),
        origin: Origin::Api,
        username_case_sensitive: false,
        username_attributes: vec![AliasAttribute::Email],
        alias_attributes: Vec::new(),
        auto_verified_attributes: vec![AliasAttribute::Email],
        required_attributes: vec!["email".into()],
        custom_attributes: vec![CustomAttribute {
            name: "tenant_id".into(),
            data_type: Default::default(),
            mutable: true,
            min_length: Some(1),
            max_length: Some(64),
            min_value: None,
            max_value: None,
        }],
        password_policy: PasswordPolicy::default(),
        admin_create_user_only: false,
        mfa: Default::default(),
        userinfo_string_values: false,
        link_federated_users_by_email: false,
        deletion_protection: false,
        tags: Default::default(),
        code_limits: Default::default(),
        threat_protection: Default::default(),
        triggers: Default::default(),
        identity_providers: Vec::new(),
        saml_sp_entity_id: None,
        created_at: 1,
        updated_at: 1,
        version: 0,
        factors: Default::default(),
    }
}

pub(crate) fn client() -> AppClient {
    AppClient {
        id: "webclient1".into(),
        pool_id: POOL.into(),
        name: "web".into(),
        origin: Origin::Api,
        secret: None,
        callback_urls: vec!["https://app.example.com/cb".into()],
        logout_urls: vec!["http://localhost:3000/".into()],
        allowed_oauth_flows: vec![OAuthFlow::Code],
        allowed_oauth_scopes: vec!["openid".into(), "email".into()],
        supported_identity_providers: vec!["COGNITO".into()],
        token_validity: TokenValidity::default(),
        refresh_rotation: RefreshRotation::default(),
        require_pkce: true,
        read_attributes: vec!["sub".into(), "custom:tenant_id".into()],
        write_attributes: vec!["email".into()],
        allowed_cors_origins: vec!["https://app.example.com".into()],
        branding: Branding::default(),
        explicit_auth_flows: crate::core::model::default_auth_flows(),
        prevent_user_existence_errors: Default::default(),
        created_at: 1,
        updated_at: 1,
    }
}

fn server() -> ResourceServer {
    ResourceServer {
        pool_id: POOL.into(),
        identifier: "https://api.example.com".into(),
        name: "Orders API".into(),
        origin: Origin::Api,
        scopes: vec![ResourceScope {
            name: "orders.read".into(),
            description: String::new(),
        }],
    }
}

fn group() -> Group {
    Group {
        pool_id: POOL.into(),
        name: "admins".into(),
        description: Some("Administrators".into()),
        precedence: Some(1),
        role_arn: Some("arn:aws:iam::123456789012:role/Admins".into()),
        origin: Origin::Api,
        created_at: 1,
        updated_at: 1,
    }
}

/// An identity provider in its stored (JSON) form, so the test does not depend on how the
/// model spells its protocol settings.
fn idp(name: &str, provider_type: &str) -> IdentityProvider {
    shown_as(name, provider_type, name)
}

/// An honest enterprise OIDC provider (a social type named after it): an https issuer,
/// `openid` requested, a sealed client secret.
fn shown_as(name: &str, provider_type: &str, display_name: &str) -> IdentityProvider {
    let mut idp: IdentityProvider = serde_json::from_value(serde_json::json!({
        "name": name,
        "provider_type": provider_type,
        "preset": "oidc",
        "display_name": display_name,
        "protocol": "oidc",
        "client_id": "upstream-client",
        "issuer": "https://idp.example.com",
        "subject_claim": "sub",
        "created_at": 1,
        "updated_at": 1,
    }))
    .expect("a stored identity provider");
    if let ProtocolSettings::Oidc(oidc) = &mut idp.protocol {
        oidc.scopes = vec!["openid".into(), "email".into()];
        oidc.client_secret = Some(OidcClientSecret::Sealed(sealed()));
    }
    idp
}

fn context() -> ClientContext {
    let mut pool = pool();
    pool.identity_providers = vec![idp("Okta", "OIDC")];
    ClientContext::of(&pool, &[server()])
}

/// Exactly one error, at `path`, for `rule`.
#[track_caller]
fn refused(errors: Vec<FieldError>, path: &str, rule: Rule) -> FieldError {
    assert_eq!(errors.len(), 1, "{errors:#?}");
    let e = errors.into_iter().next().unwrap();
    assert_eq!((e.path.as_str(), e.rule), (path, rule), "{e}");
    assert!(!e.message.is_empty());
    e
}

#[test]
fn pool_rules_refuse_and_accept() {
    assert_eq!(validate_pool(&pool()), []);
    let check = |edit: &dyn Fn(&mut UserPool), honest: &dyn Fn(&mut UserPool), path, rule| {
        let mut bad = pool();
        edit(&mut bad);
        refused(validate_pool(&bad), path, rule);
        let mut good = pool();
        honest(&mut good);
        assert_eq!(validate_pool(&good), [], "{path}");
    };
    check(
        &|p| p.id = "nounderscore".into(),
        &|p| p.id = "eu-west-1_Xyz".into(),
        "id",
        Rule::IdFormat,
    );
    check(
        &|p| p.name = " ".into(),
        &|p| p.name = "x".repeat(128),
        "name",
        Rule::Invalid,
    );
    check(
        &|p| p.name = "x".repeat(129),
        &|p| p.name = "shop".into(),
        "name",
        Rule::Invalid,
    );
    check(
        &|p| p.username_attributes = vec![AliasAttribute::PreferredUsername],
        &|p| p.username_attributes = vec![AliasAttribute::Email, AliasAttribute::PhoneNumber],
        "username_attributes[0]",
        Rule::Invalid,
    );
    check(
        &|p| p.alias_attributes = vec![AliasAttribute::PreferredUsername],
        &|p| {
            p.username_attributes.clear();
            p.alias_attributes = vec![AliasAttribute::PreferredUsername];
        },
        "alias_attributes",
        Rule::Exclusive,
    );
    check(
        &|p| p.auto_verified_attributes = vec![AliasAttribute::PreferredUsername],
        &|p| p.auto_verified_attributes = vec![AliasAttribute::Email],
        "auto_verified_attributes[0]",
        Rule::Invalid,
    );
    check(
        &|p| p.auto_verified_attributes = vec![AliasAttribute::Email, AliasAttribute::PhoneNumber],
        &|p| p.auto_verified_attributes = vec![AliasAttribute::Email],
        "auto_verified_attributes[1]",
        Rule::NotSupported,
    );
    // MFA (issue 13): ON and OPTIONAL are honoured, with a factor to enrol.
    check(
        &|p| {
            p.mfa = MfaSetting::On;
            p.factors.mfa.clear();
        },
        &|p| p.mfa = MfaSetting::On,
        "factors.mfa",
        Rule::Missing,
    );
    check(
        &|p| {
            p.mfa = MfaSetting::Optional;
            p.factors.mfa.clear();
        },
        &|p| {
            p.mfa = MfaSetting::Optional;
            p.factors.mfa = vec![MfaFactor::Email, MfaFactor::Passkey];
        },
        "factors.mfa",
        Rule::Missing,
    );
    check(
        &|p| p.factors.mfa = vec![MfaFactor::Totp, MfaFactor::Email, MfaFactor::Totp],
        &|p| p.factors.mfa.clear(),
        "factors.mfa[2]",
        Rule::Duplicate,
    );
    check(
        &|p| p.factors.first = vec![FirstFactor::Passkey],
        &|p| p.factors.first = vec![FirstFactor::Passkey, FirstFactor::Password],
        "factors.first",
        Rule::Missing,
    );
    check(
        &|p| {
            p.mfa = MfaSetting::On;
            p.factors.first = vec![FirstFactor::Password, FirstFactor::EmailOtp];
        },
        &|p| {
            p.mfa = MfaSetting::Optional;
            p.factors.first = vec![FirstFactor::Password, FirstFactor::EmailOtp];
        },
        "factors.first[1]",
        Rule::Exclusive,
    );
    // A passkey sign-in is two factors: allowed under ON.
    check(
        &|p| {
            p.mfa = MfaSetting::On;
            p.factors.first = vec![FirstFactor::Password, FirstFactor::Password];
        },
        &|p| {
            p.mfa = MfaSetting::On;
            p.factors.first = vec![FirstFactor::Password, FirstFactor::Passkey];
        },
        "factors.first[1]",
        Rule::Duplicate,
    );
    for bad in [
        "127.0.0.1",
        "[::1]",
        "Example.com",
        "https://example.com",
        "com",
        "a..b",
        "-a.com",
    ] {
        check(
            &|p| p.factors.passkeys.relying_party_id = Some(bad.into()),
            &|p| p.factors.passkeys.relying_party_id = Some("example.com".into()),
            "factors.passkeys.relying_party_id",
            Rule::Invalid,
        );
    }
    for bad in [
        "http://app.example.com",
        "https://10.0.0.1",
        "https://app.example.com/path",
        "ftp://app.example.com",
        "app.example.com",
        "https://user@app.example.com",
    ] {
        check(
            &|p| p.factors.passkeys.origins = vec!["https://login.example.com".into(), bad.into()],
            &|p| {
                p.factors.passkeys.origins = vec![
                    "https://login.example.com".into(),
                    "http://localhost:3000".into(),
                    "https://app.example.com:8443".into(),
                ]
            },
            "factors.passkeys.origins[1]",
            Rule::Invalid,
        );
    }
    check(
        &|p| {
            p.factors.passkeys.relying_party_id = Some("example.com".into());
            p.factors.passkeys.origins = vec!["https://app.example.org".into()];
        },
        &|p| {
            p.factors.passkeys.relying_party_id = Some("example.com".into());
            p.factors.passkeys.origins = vec!["https://app.example.com".into()];
        },
        "factors.passkeys.origins[0]",
        Rule::Invalid,
    );
    check(
        &|p| p.factors.passkeys.register_at_sign_up = true,
        &|p| {
            p.factors.passkeys.register_at_sign_up = true;
            p.factors.mfa.push(MfaFactor::Passkey);
        },
        "factors.passkeys.register_at_sign_up",
        Rule::Missing,
    );
    check(
        &|p| p.factors.passkeys.origins = vec!["https://a.example.com".into(); 2],
        &|p| p.factors.passkeys.origins = vec!["https://a.example.com".into()],
        "factors.passkeys.origins[1]",
        Rule::Duplicate,
    );
    check(
        &|p| p.required_attributes = vec!["email".into(), "shoe_size".into()],
        &|p| p.required_attributes = vec!["email".into(), "family_name".into()],
        "required_attributes[1]",
        Rule::Unknown,
    );
    check(
        &|p| p.required_attributes = vec!["email".into(), "email".into()],
        &|p| p.required_attributes = vec!["email".into(), "name".into()],
        "required_attributes[1]",
        Rule::Duplicate,
    );
    check(
        &|p| p.custom_attributes[0].name = "custom:tenant".into(),
        &|p| p.custom_attributes[0].name = "exactly_twenty_chars".into(),
        "custom_attributes[0].name",
        Rule::Invalid,
    );
    check(
        &|p| {
            let again = p.custom_attributes[0].clone();
            p.custom_attributes.push(again);
        },
        &|p| {
            let mut other = p.custom_attributes[0].clone();
            other.name = "plan".into();
            p.custom_attributes.push(other);
        },
        "custom_attributes[1].name",
        Rule::Duplicate,
    );
    check(
        &|p| p.custom_attributes[0].max_length = Some(2049),
        &|p| p.custom_attributes[0].max_length = Some(2048),
        "custom_attributes[0].max_length",
        Rule::Invalid,
    );
    check(
        &|p| p.custom_attributes[0].min_length = Some(65),
        &|p| p.custom_attributes[0].min_length = Some(64),
        "custom_attributes[0].min_length",
        Rule::Invalid,
    );
    // NumberAttributeConstraints: on Number attributes only, the least at most the greatest.
    let number = |p: &mut UserPool, min, max| {
        p.custom_attributes[0].data_type = AttributeDataType::Number;
        p.custom_attributes[0].min_value = min;
        p.custom_attributes[0].max_value = max;
    };
    check(
        &|p| number(p, Some(11), Some(10)),
        &|p| number(p, Some(10), Some(10)),
        "custom_attributes[0].min_value",
        Rule::Invalid,
    );
    check(
        &|p| number(p, Some(-5), Some(-10)),
        &|p| number(p, Some(-10), None),
        "custom_attributes[0].min_value",
        Rule::Invalid,
    );
    check(
        &|p| p.custom_attributes[0].min_value = Some(1),
        &|p| number(p, Some(1), None),
        "custom_attributes[0].min_value",
        Rule::Invalid,
    );
    check(
        &|p| p.custom_attributes[0].max_value = Some(10),
        &|p| number(p, None, Some(10)),
        "custom_attributes[0].max_value",
        Rule::Invalid,
    );
    check(
        &|p| p.password_policy.minimum_length = 5,
        &|p| p.password_policy.minimum_length = 99,
        "password_policy.minimum_length",
        Rule::Invalid,
    );
    check(
        &|p| p.password_policy.temporary_password_validity_days = 366,
        &|p| p.password_policy.temporary_password_validity_days = 365,
        "password_policy.temporary_password_validity_days",
        Rule::Invalid,
    );
    check(
        &|p| p.code_limits.sends_per_destination = 0,
        &|p| p.code_limits.sends_per_destination = 100,
        "code_limits.sends_per_destination",
        Rule::Invalid,
    );
    check(
        &|p| p.code_limits.tries_per_destination = 101,
        &|p| p.code_limits.tries_per_destination = 1,
        "code_limits.tries_per_destination",
        Rule::Invalid,
    );
    check(
        &|p| p.code_limits.tries_per_client_address = 0,
        &|p| p.code_limits.tries_per_client_address = 100_000,
        "code_limits.tries_per_client_address",
        Rule::Invalid,
    );
}

/// `edit` breaks the good client at `path`; `honest` is the nearby record that passes.
#[track_caller]
fn client_case(
    edit: impl Fn(&mut AppClient),
    honest: impl Fn(&mut AppClient),
    path: &str,
    rule: Rule,
) -> FieldError {
    let mut bad = client();
    edit(&mut bad);
    let e = refused(validate_client(&bad, &context()), path, rule);
    let mut good = client();
    honest(&mut good);
    assert_eq!(validate_client(&good, &context()), [], "{path}");
    e
}

/// A confidential machine client of the resource server's scope.
fn machine(c: &mut AppClient) {
    c.secret = Some(sealed());
    c.callback_urls.clear();
    c.allowed_oauth_flows = vec![OAuthFlow::ClientCredentials];
    c.allowed_oauth_scopes = vec!["https://api.example.com/orders.read".into()];
}

fn sealed() -> crate::core::secrets::EncryptedSecret {
    let (key, _) = crate::core::secrets::MasterKey::generate();
    key.seal("client-secret:webclient1", b"s3cret")
}

#[test]
fn client_name_url_and_lifetime_rules() {
    assert_eq!(validate_client(&client(), &context()), []);
    client_case(
        |c| c.id = "web client".into(),
        |c| c.id = "web_client-1".into(),
        "id",
        Rule::IdFormat,
    );
    client_case(
        |c| c.name = String::new(),
        |c| c.name = "w".into(),
        "name",
        Rule::Invalid,
    );
    let e = client_case(
        |c| c.callback_urls = vec!["http://app.example.com/cb".into()],
        |c| c.callback_urls = vec!["http://127.0.0.1:8080/cb".into(), "http://[::1]/cb".into()],
        "callback_urls[0]",
        Rule::Invalid,
    );
    assert_eq!(e.fix.as_deref(), Some("use https://app.example.com/cb"));
    client_case(
        |c| c.callback_urls = vec!["https://app.example.com/cb#x".into()],
        |c| c.callback_urls = vec!["https://app.example.com/cb?x=1".into()],
        "callback_urls[0]",
        Rule::Invalid,
    );
    client_case(
        |c| c.logout_urls = vec!["javascript://alert(1)".into()],
        |c| c.logout_urls = vec!["com.example.app://signed-out".into()],
        "logout_urls[0]",
        Rule::Invalid,
    );
    client_case(
        |c| c.callback_urls = vec!["https://a.example.com/".into(); 2],
        |c| {
            c.callback_urls = vec![
                "https://a.example.com/".into(),
                "https://b.example.com/".into(),
            ]
        },
        "callback_urls[1]",
        Rule::Duplicate,
    );
    let e = client_case(
        |c| c.token_validity.id_token_secs = 299,
        |c| c.token_validity.id_token_secs = 300,
        "token_validity.id_token_secs",
        Rule::Invalid,
    );
    assert!(
        e.message.starts_with("id_token_validity is 299 seconds"),
        "{e}"
    );
    client_case(
        |c| c.token_validity.access_token_secs = 86401,
        |c| c.token_validity.access_token_secs = 86400,
        "token_validity.access_token_secs",
        Rule::Invalid,
    );
    client_case(
        |c| c.token_validity.refresh_token_secs = 3599,
        |c| c.token_validity.refresh_token_secs = 3600,
        "token_validity.refresh_token_secs",
        Rule::Invalid,
    );
    client_case(
        |c| c.refresh_rotation.grace_period_secs = 61,
        |c| {
            c.refresh_rotation = RefreshRotation {
                enabled: true,
                grace_period_secs: 60,
            }
        },
        "refresh_rotation.grace_period_secs",
        Rule::Invalid,
    );
}

#[test]
fn client_flow_and_scope_rules() {
    client_case(
        |c| c.callback_urls.clear(),
        |c| {
            c.callback_urls.clear();
            c.allowed_oauth_flows.clear();
            c.allowed_oauth_scopes.clear();
        },
        "allowed_oauth_flows[0]",
        Rule::NeedsCallbackUrl,
    );
    client_case(
        |c| {
            machine(c);
            c.secret = None;
        },
        machine,
        "allowed_oauth_flows[0]",
        Rule::NeedsSecret,
    );
    client_case(
        |c| {
            machine(c);
            c.callback_urls = vec!["https://m.example.com/cb".into()];
            c.allowed_oauth_flows.push(OAuthFlow::Code);
        },
        machine,
        "allowed_oauth_flows[0]",
        Rule::Exclusive,
    );
    let mut bare = client();
    machine(&mut bare);
    bare.allowed_oauth_scopes.clear();
    let errors = validate_client(&bare, &context());
    let rules: Vec<(&str, Rule)> = errors.iter().map(|e| (e.path.as_str(), e.rule)).collect();
    assert_eq!(
        rules,
        [
            ("allowed_oauth_flows[0]", Rule::NeedsScope),
            ("allowed_oauth_scopes", Rule::NeedsScope)
        ]
    );
    client_case(
        |c| {
            machine(c);
            c.allowed_oauth_scopes = vec!["openid".into()];
        },
        machine,
        "allowed_oauth_scopes[0]",
        Rule::ScopeNotAllowed,
    );
    client_case(
        |c| c.allowed_oauth_scopes = vec!["email".into()],
        |c| c.allowed_oauth_scopes = vec!["email".into(), "openid".into()],
        "allowed_oauth_scopes[0]",
        Rule::ScopeNotAllowed,
    );
    let e = client_case(
        |c| {
            c.allowed_oauth_scopes = vec![
                "openid".into(),
                "https://api.example.com/orders.delete".into(),
            ]
        },
        |c| {
            c.allowed_oauth_scopes = vec![
                "openid".into(),
                "https://api.example.com/orders.read".into(),
            ]
        },
        "allowed_oauth_scopes[1]",
        Rule::Unknown,
    );
    assert!(e
        .fix
        .unwrap()
        .ends_with(", https://api.example.com/orders.read"));
    client_case(
        |c| c.allowed_oauth_scopes = vec!["openid".into(), "openid".into()],
        |c| c.allowed_oauth_scopes = vec!["openid".into(), "aws.cognito.signin.user.admin".into()],
        "allowed_oauth_scopes[1]",
        Rule::Duplicate,
    );
    // ExplicitAuthFlows: a flow named twice is refused; none at all is allowed (the
    // client signs in through the hosted UI only).
    use crate::core::model::AuthFlow;
    client_case(
        |c| c.explicit_auth_flows = vec![AuthFlow::AllowUserSrpAuth, AuthFlow::AllowUserSrpAuth],
        |c| c.explicit_auth_flows = Vec::new(),
        "explicit_auth_flows[1]",
        Rule::Duplicate,
    );
}

#[test]
fn client_provider_attribute_and_branding_rules() {
    let e = client_case(
        |c| c.supported_identity_providers = vec!["COGNITO".into(), "Google".into()],
        |c| c.supported_identity_providers = vec!["COGNITO".into(), "Okta".into()],
        "supported_identity_providers[1]",
        Rule::Unknown,
    );
    assert_eq!(
        e.fix.as_deref(),
        Some("use \"COGNITO\" (the pool's own directory), \"Okta\"")
    );
    client_case(
        |c| c.supported_identity_providers = vec!["Okta".into(), "Okta".into()],
        |c| c.supported_identity_providers = vec!["Okta".into()],
        "supported_identity_providers[1]",
        Rule::Duplicate,
    );
    client_case(
        |c| c.read_attributes = vec!["custom:plan".into()],
        |c| c.read_attributes = vec!["custom:tenant_id".into(), "email".into()],
        "read_attributes[0]",
        Rule::Unknown,
    );
    client_case(
        |c| c.write_attributes = vec!["sub".into()],
        |c| c.write_attributes = vec!["custom:tenant_id".into()],
        "write_attributes[0]",
        Rule::Unknown,
    );
    client_case(
        |c| c.allowed_cors_origins = vec!["https://app.example.com/path".into()],
        |c| c.allowed_cors_origins = vec!["http://localhost:3000".into()],
        "allowed_cors_origins[0]",
        Rule::Invalid,
    );
    client_case(
        |c| c.branding.primary_color = Some("blue; } body { x: y".into()),
        |c| c.branding.primary_color = Some("#abc".into()),
        "branding.primary_color",
        Rule::Invalid,
    );
    client_case(
        |c| c.branding.logo_url = Some("http://cdn.example.com/logo.png".into()),
        |c| c.branding.logo_url = Some("https://cdn.example.com/logo.png".into()),
        "branding.logo_url",
        Rule::Invalid,
    );
    client_case(
        |c| c.branding.extra_css = Some("</style><script>".into()),
        |c| c.branding.extra_css = Some("body > main { color: red }".into()),
        "branding.extra_css",
        Rule::Invalid,
    );
}

#[test]
fn resource_server_and_group_rules_refuse_and_accept() {
    assert_eq!(validate_resource_server(&server()), []);
    let rs = |edit: &dyn Fn(&mut ResourceServer)| {
        let mut s = server();
        edit(&mut s);
        validate_resource_server(&s)
    };
    refused(
        rs(&|s| s.identifier = "has space".into()),
        "identifier",
        Rule::Invalid,
    );
    assert_eq!(rs(&|s| s.identifier = "urn:orders".into()), []);
    refused(rs(&|s| s.name = " ".into()), "name", Rule::Invalid);
    refused(
        rs(&|s| s.scopes[0].name = "orders/read".into()),
        "scopes[0].name",
        Rule::Invalid,
    );
    let again = |s: &mut ResourceServer| s.scopes.push(s.scopes[0].clone());
    refused(rs(&again), "scopes[1].name", Rule::Duplicate);
    assert_eq!(
        rs(&|s| s.scopes.push(ResourceScope {
            name: "orders.write".into(),
            description: String::new()
        })),
        []
    );

    assert_eq!(validate_group(&group()), []);
    let g = |edit: &dyn Fn(&mut Group)| {
        let mut g = group();
        edit(&mut g);
        validate_group(&g)
    };
    refused(g(&|g| g.name = "the admins".into()), "name", Rule::Invalid);
    assert_eq!(g(&|g| g.name = "Admins-2".into()), []);
    refused(g(&|g| g.precedence = Some(-1)), "precedence", Rule::Invalid);
    assert_eq!(g(&|g| g.precedence = Some(i64::from(i32::MAX))), []);
    refused(
        g(&|g| g.role_arn = Some("Admins".into())),
        "role_arn",
        Rule::Invalid,
    );
    assert_eq!(g(&|g| g.role_arn = None), []);
    refused(
        g(&|g| g.description = Some("d".repeat(2049))),
        "description",
        Rule::Invalid,
    );
    assert_eq!(g(&|g| g.description = Some("d".repeat(2048))), []);
}

#[test]
fn identity_provider_name_rules_refuse_and_accept() {
    let others = [idp("Okta", "OIDC")];
    let check = |name: &str, kind: &str| validate_identity_provider_name(&idp(name, kind), &others);
    assert_eq!(check("Corporate", "OIDC"), []);
    refused(check("has space", "OIDC"), "name", Rule::Invalid);
    refused(check("cognito", "OIDC"), "name", Rule::Reserved);
    refused(check("google", "OIDC"), "name", Rule::Reserved);
    refused(check("okta", "OIDC"), "name", Rule::Duplicate);
    refused(check("MyGoogle", "Google"), "name", Rule::Reserved);
    assert_eq!(check("Google", "Google"), []);
}

pub(crate) async fn service() -> (tempfile::TempDir, AdminService) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("admin.db"))
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    (dir, AdminService::new(store))
}

#[tokio::test]
async fn the_service_writes_only_valid_records() {
    let (_dir, admin) = service().await;
    let mut bad = pool();
    bad.name = String::new();
    let err = admin.create_pool(&bad).await.unwrap_err();
    assert_eq!(err.field_errors()[0].path, "name");
    assert!(
        admin.store().get_pool(POOL).await.unwrap().is_none(),
        "nothing written"
    );
    admin.create_pool(&pool()).await.unwrap();
    assert!(matches!(
        admin.create_pool(&pool()).await,
        Err(AdminError::Exists {
            kind: RecordKind::Pool,
            ..
        })
    ));

    // A client may name the scopes of the pool's stored servers, and only those.
    let mut api = client();
    api.allowed_oauth_scopes
        .push("https://api.example.com/orders.read".into());
    let err = admin.put_client(&api).await.unwrap_err();
    assert_eq!(err.field_errors()[0].rule, Rule::Unknown);
    admin.put_resource_server(&server()).await.unwrap();
    admin.put_client(&api).await.unwrap();
    let mut orphan = client();
    orphan.id = "orphan".into();
    orphan.pool_id = "us-east-1_Nope".into();
    assert!(matches!(
        admin.put_client(&orphan).await,
        Err(AdminError::NotFound {
            kind: RecordKind::Pool,
            ..
        })
    ));

    admin.create_group(&group()).await.unwrap();
    assert!(matches!(
        admin.create_group(&group()).await,
        Err(AdminError::Exists {
            kind: RecordKind::Group,
            ..
        })
    ));
    let mut spaced = group();
    spaced.name = "the admins".into();
    assert!(admin.put_group(&spaced).await.is_err());
    assert!(admin.delete_group(POOL, "admins").await.unwrap());
    assert!(admin.delete_client("webclient1").await.unwrap());
    assert!(admin
        .delete_resource_server(POOL, "https://api.example.com")
        .await
        .unwrap());
    assert!(admin.delete_pool(POOL).await.unwrap());
    assert!(!admin.delete_pool(POOL).await.unwrap());
}

#[tokio::test]
async fn identity_providers_are_added_replaced_and_removed_on_the_pool() {
    let (_dir, admin) = service().await;
    admin.create_pool(&pool()).await.unwrap();
    let added = admin
        .add_identity_provider(POOL, idp("Okta", "OIDC"), 5)
        .await
        .unwrap();
    assert_eq!((added.identity_providers.len(), added.updated_at), (1, 5));
    assert!(matches!(
        admin
            .add_identity_provider(POOL, idp("Okta", "OIDC"), 6)
            .await,
        Err(AdminError::Exists { .. })
    ));
    let err = admin
        .add_identity_provider(POOL, idp("okta", "OIDC"), 6)
        .await
        .unwrap_err();
    assert_eq!(
        err.field_errors()[0].rule,
        Rule::Duplicate,
        "names collide without case"
    );
    admin
        .add_identity_provider(POOL, idp("Google", "Google"), 6)
        .await
        .unwrap();

    // Updating the pool's settings keeps its providers.
    let updated = admin
        .update_pool(POOL, |p| {
            p.name = "shop".into();
            Ok::<_, AdminError>(())
        })
        .await
        .unwrap();
    assert_eq!(updated.identity_providers.len(), 2);
    assert_eq!(
        admin.store().get_pool(POOL).await.unwrap().unwrap().name,
        "shop"
    );

    let okta = shown_as("Okta", "OIDC", "Okta SSO");
    let replaced = admin
        .replace_identity_provider(POOL, okta.clone(), 7)
        .await
        .unwrap();
    assert_eq!(replaced.identity_provider("Okta"), Some(&okta));
    assert!(matches!(
        admin
            .replace_identity_provider(POOL, idp("Azure", "OIDC"), 7)
            .await,
        Err(AdminError::NotFound {
            kind: RecordKind::IdentityProvider,
            ..
        })
    ));
    assert!(admin
        .remove_identity_provider(POOL, "Okta", 8)
        .await
        .unwrap());
    assert!(!admin
        .remove_identity_provider(POOL, "Okta", 8)
        .await
        .unwrap());
    let stored = admin.store().get_pool(POOL).await.unwrap().unwrap();
    assert_eq!(stored.identity_providers.len(), 1);
}

#[tokio::test]
async fn a_builtin_client_may_redirect_to_the_nodes_own_pages_only() {
    let (_dir, admin) = service().await;
    admin.create_pool(&pool()).await.unwrap();
    // A node listening on a LAN address over plain http, without a public URL.
    let base = "http://0.0.0.0:8750";
    let mut demo = client();
    demo.callback_urls = vec![format!("{base}/demo/callback")];
    demo.logout_urls = vec![format!("{base}/demo")];
    let err = admin.put_client(&demo).await.unwrap_err();
    assert_eq!(err.field_errors()[0].path, "callback_urls[0]");
    admin.put_builtin_client(&demo, base).await.unwrap();
    // Every other URL keeps Cognito's rule, look-alike hosts included.
    for other in [
        "http://0.0.0.0:8750.evil.example/cb",
        "http://app.example.com/cb",
    ] {
        demo.callback_urls = vec![other.to_string()];
        let err = admin.put_builtin_client(&demo, base).await.unwrap_err();
        assert_eq!(err.field_errors()[0].path, "callback_urls[0]", "{other}");
    }
}

mod identity_providers;

/// The passkey rules that need the public URL: a host name, and a relying party that is
/// that host or a parent domain of it.
#[test]
fn passkeys_need_a_host_name_and_a_matching_relying_party() {
    use crate::core::admin::validate_passkeys_at;
    let url = |u: &str| url::Url::parse(u).unwrap();
    let mut p = pool();
    // No passkeys: an IP public URL is fine.
    assert_eq!(validate_passkeys_at(&p, &url("http://127.0.0.1:9000")), []);
    p.factors.mfa.push(MfaFactor::Passkey);
    let errors = validate_passkeys_at(&p, &url("http://127.0.0.1:9000"));
    refused(errors.clone(), "factors.mfa", Rule::Invalid);
    assert!(errors[0].message.contains("IP"), "{}", errors[0]);
    assert!(errors[0]
        .fix
        .as_deref()
        .unwrap_or_default()
        .contains("localhost"));
    p.factors.first.push(FirstFactor::Passkey);
    refused(
        validate_passkeys_at(&p, &url("http://[::1]:9000")),
        "factors.first",
        Rule::Invalid,
    );
    assert_eq!(validate_passkeys_at(&p, &url("http://localhost:9000")), []);
    for (rp, public) in [
        ("login.example.com", "https://login.example.com"),
        ("example.com", "https://login.example.com"),
        ("example.com", "https://a.b.example.com:8443"),
    ] {
        p.factors.passkeys.relying_party_id = Some(rp.into());
        assert_eq!(validate_passkeys_at(&p, &url(public)), [], "{rp} {public}");
    }
    for (rp, public) in [
        ("other.com", "https://login.example.com"),
        ("ample.com", "https://login.example.com"),
        ("a.login.example.com", "https://login.example.com"),
    ] {
        p.factors.passkeys.relying_party_id = Some(rp.into());
        refused(
            validate_passkeys_at(&p, &url(public)),
            "factors.passkeys.relying_party_id",
            Rule::Invalid,
        );
    }
}
