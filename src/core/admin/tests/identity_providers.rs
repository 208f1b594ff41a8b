//! The identity-provider rules, each refusal paired with the honest record it accepts:
//! names, client id and button text, identifiers, mapping, and each protocol's settings.

use super::*;
use crate::core::model::{
    AppleSigningKey, OAuth2Endpoints, OAuth2Settings, OidcClientSecret, ProtocolSettings, Quirk,
};

/// The provider's OIDC settings, for a test to edit.
fn oidc(idp: &mut IdentityProvider) -> &mut crate::core::model::OidcSettings {
    match &mut idp.protocol {
        ProtocolSettings::Oidc(oidc) => oidc,
        ProtocolSettings::OAuth2(_) | ProtocolSettings::Saml(_) => panic!("an OIDC provider"),
    }
}

/// An honest plain OAuth 2.0 provider (Facebook).
fn facebook() -> IdentityProvider {
    let mut fb = idp("Facebook", "Facebook");
    fb.protocol = ProtocolSettings::OAuth2(OAuth2Settings {
        endpoints: OAuth2Endpoints {
            authorize: Some("https://www.facebook.com/v19.0/dialog/oauth".into()),
            token: Some("https://graph.facebook.com/v19.0/oauth/access_token".into()),
            profile: Some("https://graph.facebook.com/me".into()),
        },
        scopes: vec!["email".into(), "public_profile".into()],
        client_secret: Some(sealed()),
        ..OAuth2Settings::default()
    });
    fb
}

/// An honest Sign in with Apple provider: its credential is the signing key.
fn apple() -> IdentityProvider {
    let mut apple = idp("SignInWithApple", "SignInWithApple");
    apple.quirks = vec![Quirk::AppleClientSecret, Quirk::AppleUserJson];
    oidc(&mut apple).client_secret = Some(OidcClientSecret::AppleKey(AppleSigningKey {
        team_id: "ABCDE12345".into(),
        key_id: "ABC123DEFG".into(),
        private_key: sealed(),
    }));
    apple
}

#[test]
fn identity_provider_rules_refuse_and_accept() {
    let mut context = pool();
    let mut okta = idp("Okta", "OIDC");
    okta.identifiers = vec!["corp.example".into()];
    context.identity_providers = vec![okta];
    let honest = || idp("Corporate", "OIDC");
    assert_eq!(validate_identity_provider(&honest(), &context), []);
    assert_eq!(validate_identity_provider(&facebook(), &context), []);
    assert_eq!(validate_identity_provider(&apple(), &context), []);
    let check = |edit: &dyn Fn(&mut IdentityProvider),
                 honest_edit: &dyn Fn(&mut IdentityProvider),
                 base: &dyn Fn() -> IdentityProvider,
                 path: &str,
                 rule: Rule| {
        let mut bad = base();
        edit(&mut bad);
        refused(validate_identity_provider(&bad, &context), path, rule);
        let mut good = base();
        honest_edit(&mut good);
        assert_eq!(validate_identity_provider(&good, &context), [], "{path}");
    };
    let corporate = &honest;

    // Names: pattern, COGNITO, social names, case-insensitive uniqueness, social types.
    check(
        &|p| p.name = "My Okta".into(),
        &|p| p.name = "My.Okta-1".into(),
        corporate,
        "name",
        Rule::Invalid,
    );
    check(
        &|p| p.name = "x".repeat(33),
        &|p| p.name = "x".repeat(32),
        corporate,
        "name",
        Rule::Invalid,
    );
    check(
        &|p| p.name = "Cognito".into(),
        &|p| p.name = "Cognitive".into(),
        corporate,
        "name",
        Rule::Reserved,
    );
    check(
        &|p| p.name = "facebook".into(),
        &|p| p.name = "Facebook2".into(),
        corporate,
        "name",
        Rule::Reserved,
    );
    check(
        &|p| p.name = "OKTA".into(),
        &|p| p.name = "Okta2".into(),
        corporate,
        "name",
        Rule::Duplicate,
    );
    check(
        &|p| p.name = "Fb".into(),
        &|p| p.name = "Facebook".into(),
        &facebook,
        "name",
        Rule::Reserved,
    );

    // The client id and the button text.
    check(
        &|p| p.client_id = " ".into(),
        &|p| p.client_id = "c".repeat(256),
        corporate,
        "client_id",
        Rule::Invalid,
    );
    check(
        &|p| p.client_id = "c".repeat(257),
        &|p| p.client_id = "0oa1".into(),
        corporate,
        "client_id",
        Rule::Invalid,
    );
    check(
        &|p| p.display_name = String::new(),
        &|p| p.display_name = "d".repeat(128),
        corporate,
        "display_name",
        Rule::Invalid,
    );

    // Identifiers: well-formed, at most 50, each routing to one provider.
    check(
        &|p| p.identifiers = vec!["two words".into()],
        &|p| p.identifiers = vec!["a+b=c@d.e_f-g".into()],
        corporate,
        "identifiers[0]",
        Rule::Invalid,
    );
    check(
        &|p| p.identifiers = vec!["x".repeat(41)],
        &|p| p.identifiers = vec!["x".repeat(40)],
        corporate,
        "identifiers[0]",
        Rule::Invalid,
    );
    check(
        &|p| p.identifiers = (0..51).map(|n| format!("d{n}.example")).collect(),
        &|p| p.identifiers = (0..50).map(|n| format!("d{n}.example")).collect(),
        corporate,
        "identifiers",
        Rule::Invalid,
    );
    check(
        &|p| p.identifiers = vec!["CORP.example".into()],
        &|p| p.identifiers = vec!["corp.example.org".into()],
        corporate,
        "identifiers[0]",
        Rule::Duplicate,
    );
    check(
        &|p| p.identifiers = vec!["a.example".into(), "A.example".into()],
        &|p| p.identifiers = vec!["a.example".into(), "b.example".into()],
        corporate,
        "identifiers[1]",
        Rule::Duplicate,
    );

    // The subject claim and the attribute mapping.
    check(
        &|p| p.subject_claim = String::new(),
        &|p| p.subject_claim = "oid".into(),
        corporate,
        "subject_claim",
        Rule::Invalid,
    );
    check(
        &|p| {
            drop(
                p.attribute_mapping
                    .insert("custom:nope".into(), "tid".into()),
            )
        },
        &|p| {
            drop(
                p.attribute_mapping
                    .insert("custom:tenant_id".into(), "tid".into()),
            )
        },
        corporate,
        "attribute_mapping.custom:nope",
        Rule::Unknown,
    );
    check(
        &|p| drop(p.attribute_mapping.insert("sub".into(), "oid".into())),
        &|p| drop(p.attribute_mapping.insert("email".into(), "mail".into())),
        corporate,
        "attribute_mapping.sub",
        Rule::Unknown,
    );
    check(
        &|p| {
            drop(
                p.attribute_mapping
                    .insert("picture".into(), "picture data".into()),
            )
        },
        &|p| {
            drop(
                p.attribute_mapping
                    .insert("picture".into(), "picture.data.url".into()),
            )
        },
        corporate,
        "attribute_mapping.picture",
        Rule::Invalid,
    );

    // OpenID Connect: the issuer, its aliases, endpoints, scopes, the secret.
    check(
        &|p| oidc(p).issuer = None,
        &|p| oidc(p).issuer = Some("https://corp.okta.com".into()),
        corporate,
        "protocol.issuer",
        Rule::Missing,
    );
    check(
        &|p| oidc(p).issuer = Some("http://corp.okta.com".into()),
        &|p| oidc(p).issuer = Some("http://127.0.0.1:9999".into()),
        corporate,
        "protocol.issuer",
        Rule::Invalid,
    );
    check(
        &|p| oidc(p).issuer = Some("https://corp.okta.com/#x".into()),
        &|p| oidc(p).issuer = Some("http://[::1]:9999/realm".into()),
        corporate,
        "protocol.issuer",
        Rule::Invalid,
    );
    check(
        &|p| oidc(p).issuer_aliases = vec!["two words".into()],
        &|p| oidc(p).issuer_aliases = vec!["accounts.google.com".into()],
        corporate,
        "protocol.issuer_aliases[0]",
        Rule::Invalid,
    );
    check(
        &|p| oidc(p).endpoints.jwks = Some("ftp://localhost/jwks".into()),
        &|p| oidc(p).endpoints.jwks = Some("http://localhost:9999/jwks".into()),
        corporate,
        "protocol.endpoints.jwks",
        Rule::Invalid,
    );
    check(
        &|p| oidc(p).endpoints.userinfo = Some("/userinfo".into()),
        &|p| oidc(p).endpoints.userinfo = Some("https://idp.example.com/userinfo".into()),
        corporate,
        "protocol.endpoints.userinfo",
        Rule::Invalid,
    );
    check(
        &|p| oidc(p).scopes.clear(),
        &|p| oidc(p).scopes = vec!["openid".into()],
        corporate,
        "protocol.scopes",
        Rule::Invalid,
    );
    check(
        &|p| oidc(p).scopes = vec!["openid email".into()],
        &|p| oidc(p).scopes = vec!["openid".into(), "email".into()],
        corporate,
        "protocol.scopes[0]",
        Rule::Invalid,
    );
    check(
        &|p| oidc(p).client_secret = None,
        &|p| oidc(p).client_secret = Some(OidcClientSecret::Sealed(sealed())),
        corporate,
        "protocol.client_secret",
        Rule::NeedsSecret,
    );

    // Google's hosted domain: only with the Google quirk, and a domain name.
    check(
        &|p| oidc(p).hosted_domain = Some("example.com".into()),
        &|p| {
            p.quirks = vec![Quirk::GoogleHd];
            oidc(p).hosted_domain = Some("example.com".into());
        },
        corporate,
        "protocol.hosted_domain",
        Rule::Invalid,
    );
    check(
        &|p| {
            p.quirks = vec![Quirk::GoogleHd];
            oidc(p).hosted_domain = Some("not a domain".into());
        },
        &|p| {
            p.quirks = vec![Quirk::GoogleHd];
            oidc(p).hosted_domain = Some("corp-1.example.com".into());
        },
        corporate,
        "protocol.hosted_domain",
        Rule::Invalid,
    );

    // Apple: the key, with ids of Apple's shape, and no static secret.
    check(
        &|p| oidc(p).client_secret = Some(OidcClientSecret::Sealed(sealed())),
        &|_| {},
        &apple,
        "protocol.client_secret",
        Rule::NeedsSecret,
    );
    let apple_key = |team_id: &'static str| {
        move |p: &mut IdentityProvider| {
            if let Some(OidcClientSecret::AppleKey(key)) = &mut oidc(p).client_secret {
                key.team_id = team_id.into();
            }
        }
    };
    check(
        &apple_key("ABC"),
        &apple_key("ZYXWV98765"),
        &apple,
        "protocol.client_secret.team_id",
        Rule::Invalid,
    );

    // Plain OAuth 2.0: all three endpoints, https, scopes, a secret.
    let edit2 = |f: fn(&mut OAuth2Settings)| {
        move |p: &mut IdentityProvider| match &mut p.protocol {
            ProtocolSettings::OAuth2(o) => f(o),
            ProtocolSettings::Oidc(_) | ProtocolSettings::Saml(_) => {
                panic!("an OAuth 2.0 provider")
            }
        }
    };
    check(
        &edit2(|o| o.endpoints.profile = None),
        &edit2(|_| {}),
        &facebook,
        "protocol.endpoints",
        Rule::Missing,
    );
    check(
        &edit2(|o| o.endpoints.token = Some("http://graph.facebook.com/token".into())),
        &edit2(|o| o.endpoints.token = Some("http://localhost:4000/token".into())),
        &facebook,
        "protocol.endpoints.token",
        Rule::Invalid,
    );
    check(
        &edit2(|o| o.scopes.clear()),
        &edit2(|o| o.scopes = vec!["email".into()]),
        &facebook,
        "protocol.scopes",
        Rule::Invalid,
    );
    check(
        &edit2(|o| o.client_secret = None),
        &edit2(|_| {}),
        &facebook,
        "protocol.client_secret",
        Rule::NeedsSecret,
    );
}

#[test]
fn a_whole_pool_write_checks_every_provider_among_the_others() {
    let mut p = pool();
    p.identity_providers = vec![idp("Okta", "OIDC"), facebook()];
    assert_eq!(validate_identity_providers(&p), []);
    p.identity_providers.push(idp("okta", "OIDC"));
    let errors = validate_identity_providers(&p);
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["identity_providers[0].name", "identity_providers[2].name"]
    );
    assert!(errors.iter().all(|e| e.rule == Rule::Duplicate));
}

#[tokio::test]
async fn a_pool_write_refuses_a_provider_the_rules_refuse() {
    let (_dir, admin) = service().await;
    let mut p = pool();
    let mut okta = idp("Okta", "OIDC");
    oidc(&mut okta).issuer = Some("http://corp.okta.com".into());
    p.identity_providers = vec![okta];
    let err = admin.put_pool(&p).await.unwrap_err();
    assert_eq!(
        err.field_errors()[0].path,
        "identity_providers[0].protocol.issuer"
    );
    assert!(
        admin.store().get_pool(POOL).await.unwrap().is_none(),
        "nothing written"
    );
    p.identity_providers = vec![idp("Okta", "OIDC")];
    admin.put_pool(&p).await.unwrap();
    let err = admin
        .add_identity_provider(POOL, facebook_without_profile(), 2)
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].path, "protocol.endpoints");
}

fn facebook_without_profile() -> IdentityProvider {
    let mut fb = facebook();
    if let ProtocolSettings::OAuth2(o) = &mut fb.protocol {
        o.endpoints.profile = None;
    }
    fb
}

#[test]
fn beside_given_providers_the_same_name_is_a_duplicate_not_a_replacement() {
    let others = [idp("Okta", "OIDC")];
    let errors = validate_identity_provider_among(&idp("Okta", "OIDC"), &others, &pool());
    refused(errors, "name", Rule::Duplicate);
    assert_eq!(
        validate_identity_provider_among(&idp("Corporate", "OIDC"), &others, &pool()),
        []
    );
    // A social provider's required name is said even when the name is malformed too.
    let mut spaced = facebook();
    spaced.name = "Face book".into();
    let rules: Vec<Rule> = validate_identity_provider(&spaced, &pool())
        .into_iter()
        .map(|e| e.rule)
        .collect();
    assert_eq!(rules, [Rule::Invalid, Rule::Reserved]);
}

/// An honest SAML provider, as its metadata and the declaration give it.
fn saml() -> IdentityProvider {
    let mut p = idp("Okta", "SAML");
    p.preset = "saml".into();
    p.client_id = String::new();
    p.subject_claim = String::new();
    p.protocol = ProtocolSettings::Saml(crate::core::model::SamlSettings {
        entity_id: "http://www.okta.com/exk1".into(),
        sso_redirect_url: Some("https://corp.okta.com/app/exk1/sso/saml".into()),
        sso_post_url: Some("https://corp.okta.com/app/exk1/sso/saml".into()),
        signing_certificates: vec!["MIIBAAAA".into()],
        group_mapping: [("Engineering".to_string(), "staff".to_string())].into(),
        ..Default::default()
    });
    p
}

fn saml_settings(p: &mut IdentityProvider) -> &mut crate::core::model::SamlSettings {
    match &mut p.protocol {
        ProtocolSettings::Saml(s) => s,
        ProtocolSettings::Oidc(_) | ProtocolSettings::OAuth2(_) => panic!("a SAML provider"),
    }
}

#[test]
fn saml_provider_rules_refuse_and_accept() {
    let context = pool();
    assert_eq!(validate_identity_provider(&saml(), &context), []);
    let check = |edit: &dyn Fn(&mut IdentityProvider),
                 honest_edit: &dyn Fn(&mut IdentityProvider),
                 path: &str,
                 rule: Rule| {
        let mut bad = saml();
        edit(&mut bad);
        refused(validate_identity_provider(&bad, &context), path, rule);
        let mut good = saml();
        honest_edit(&mut good);
        assert_eq!(validate_identity_provider(&good, &context), [], "{path}");
    };
    // Cognito's ProviderName pattern: 3 or more characters, `_` only as the second.
    check(
        &|p| p.name = "Ok".into(),
        &|p| p.name = "Oka".into(),
        "name",
        Rule::Invalid,
    );
    check(
        &|p| p.name = "Corp_IdP".into(),
        &|p| p.name = "C_orp".into(),
        "name",
        Rule::Invalid,
    );
    check(
        &|p| p.name = "_Corp".into(),
        &|p| p.name = "Corp.IdP-1".into(),
        "name",
        Rule::Invalid,
    );
    check(
        &|p| p.name = "x".repeat(33),
        &|p| p.name = "x".repeat(32),
        "name",
        Rule::Invalid,
    );
    // No OAuth client id; no subject claim needed.
    check(
        &|p| p.client_id = "abc".into(),
        &|p| p.subject_claim = String::new(),
        "client_id",
        Rule::Invalid,
    );
    // What the metadata gives: entity id, an SSO endpoint for the binding, certificates.
    check(
        &|p| saml_settings(p).entity_id = String::new(),
        &|p| saml_settings(p).entity_id = "urn:okta:exk1".into(),
        "protocol.entity_id",
        Rule::Missing,
    );
    check(
        &|p| saml_settings(p).entity_id = " urn:x ".into(),
        &|p| saml_settings(p).entity_id = "urn:x".into(),
        "protocol.entity_id",
        Rule::Invalid,
    );
    check(
        &|p| {
            let s = saml_settings(p);
            s.sso_redirect_url = None;
            s.sso_post_url = None;
        },
        &|p| {
            let s = saml_settings(p);
            s.sso_redirect_url = None;
            s.request_binding = crate::core::model::SamlBinding::Post;
        },
        "protocol.sso_redirect_url",
        Rule::Missing,
    );
    check(
        &|p| saml_settings(p).sso_redirect_url = None,
        &|p| saml_settings(p).sso_post_url = None,
        "protocol.request_binding",
        Rule::Invalid,
    );
    for bad in [
        "/sso",
        "http://corp.okta.com/sso",
        "ftp://corp.okta.com/sso",
    ] {
        check(
            &|p| saml_settings(p).sso_post_url = Some(bad.into()),
            &|p| saml_settings(p).sso_post_url = Some("http://localhost:8080/sso".into()),
            "protocol.sso_post_url",
            Rule::Invalid,
        );
    }
    check(
        &|p| saml_settings(p).signing_certificates.clear(),
        &|p| {
            saml_settings(p)
                .signing_certificates
                .push("MIIBBBBB".into())
        },
        "protocol.signing_certificates",
        Rule::Missing,
    );
    check(
        &|p| saml_settings(p).signing_certificates = vec!["not base64!".into()],
        &|p| saml_settings(p).signing_certificates = vec!["TUlJ".into()],
        "protocol.signing_certificates[0]",
        Rule::Invalid,
    );
    // The operator's choices.
    check(
        &|p| saml_settings(p).user_id_attribute = Some(" uid".into()),
        &|p| saml_settings(p).user_id_attribute = Some("uid".into()),
        "protocol.user_id_attribute",
        Rule::Invalid,
    );
    check(
        &|p| saml_settings(p).groups_attribute = Some(String::new()),
        &|p| {
            saml_settings(p).groups_attribute =
                Some("http://schemas.microsoft.com/ws/2008/06/identity/claims/groups".into())
        },
        "protocol.groups_attribute",
        Rule::Invalid,
    );
    check(
        &|p| {
            saml_settings(p)
                .group_mapping
                .insert("Admins".into(), "two words".into());
        },
        &|p| {
            saml_settings(p)
                .group_mapping
                .insert("Admins".into(), "admins".into());
        },
        "protocol.group_mapping.Admins",
        Rule::Invalid,
    );
}

/// The API's writes: a provider of the configuration file is refused to an API record
/// (replace and delete), an API provider is replaced and deleted, a type cannot change,
/// and a pool takes at most Cognito's 300 providers.
#[tokio::test]
async fn api_writes_refuse_config_providers_type_changes_and_the_301st_provider() {
    use crate::core::admin::identity_providers::MAX_IDENTITY_PROVIDERS;
    use crate::core::model::Origin;
    let (_dir, admin) = service().await;
    let mut p = pool();
    let mut declared = idp("Declared", "OIDC");
    declared.origin = Origin::Config;
    p.identity_providers = vec![declared.clone()];
    admin.put_pool(&p).await.unwrap();

    // The file's provider: an API record does not replace it, the API does not delete it.
    let mut from_api = declared.clone();
    from_api.origin = Origin::Api;
    from_api.display_name = "Changed".into();
    let err = admin
        .replace_identity_provider(POOL, from_api, 2)
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::ConfigOwned { .. }), "{err:?}");
    let err = admin
        .remove_identity_provider_by(POOL, "Declared", Origin::Api, 2)
        .await
        .unwrap_err();
    assert!(matches!(err, AdminError::ConfigOwned { .. }), "{err:?}");
    let stored = admin.store().get_pool(POOL).await.unwrap().unwrap();
    assert_eq!(stored.identity_provider("Declared"), Some(&declared));

    // An API provider is replaced (not as another type) and deleted.
    let mut corp = idp("Corp", "OIDC");
    corp.origin = Origin::Api;
    admin
        .add_identity_provider(POOL, corp.clone(), 3)
        .await
        .unwrap();
    let mut as_google = corp.clone();
    as_google.provider_type = crate::core::model::ProviderType::Google;
    let err = admin
        .replace_identity_provider(POOL, as_google, 4)
        .await
        .unwrap_err();
    assert!(err.field_errors().iter().any(|e| e.path == "provider_type"));
    corp.display_name = "Corporate".into();
    let replaced = admin
        .replace_identity_provider(POOL, corp.clone(), 4)
        .await
        .unwrap();
    assert_eq!(replaced.identity_provider("Corp"), Some(&corp));
    assert!(admin
        .remove_identity_provider_by(POOL, "Corp", Origin::Api, 5)
        .await
        .unwrap());
    assert!(!admin
        .remove_identity_provider_by(POOL, "Corp", Origin::Api, 5)
        .await
        .unwrap());
    // The console's delete (`cognate admin idps delete`) still removes the file's.
    assert!(admin
        .remove_identity_provider(POOL, "Declared", 6)
        .await
        .unwrap());

    // Cognito's quota: 300 providers; the 301st is refused, the 300th accepted.
    let mut full = pool();
    full.identity_providers = (1..MAX_IDENTITY_PROVIDERS)
        .map(|n| idp(&format!("Idp{n}"), "OIDC"))
        .collect();
    admin.put_pool(&full).await.unwrap();
    admin
        .add_identity_provider(POOL, idp("Idp300", "OIDC"), 7)
        .await
        .unwrap();
    let err = admin
        .add_identity_provider(POOL, idp("Idp301", "OIDC"), 8)
        .await
        .unwrap_err();
    assert!(
        err.field_errors()[0].message.contains("300"),
        "{:?}",
        err.field_errors()
    );
}

/// A whole-pool write (the configuration file) has the same quota.
#[test]
fn a_pool_of_301_providers_is_refused() {
    use crate::core::admin::identity_providers::MAX_IDENTITY_PROVIDERS;
    let mut full = pool();
    full.identity_providers = (0..MAX_IDENTITY_PROVIDERS)
        .map(|n| idp(&format!("Idp{n}"), "OIDC"))
        .collect();
    assert_eq!(validate_identity_providers(&full), []);
    full.identity_providers.push(idp("Idp300", "OIDC"));
    let errors = validate_identity_providers(&full);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].path, "identity_providers");
}
