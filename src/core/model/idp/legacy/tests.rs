//! Unit tests of [`super`]: pools written before providers were split by protocol still
//! load, every field in its place, and the current shape reads back what it wrote.

use serde_json::{json, Value};

use super::super::*;
use crate::core::model::{Origin, UserPool};

/// A pool as the flat-provider version stored it: made by that version's
/// `IdpDecl::to_record` (Apple, Google with `hosted_domain`, Facebook with
/// `emails_verified`, an enterprise OIDC provider with overrides) and its serializer.
const FLAT_POOL: &str = r#"{
  "id": "eu-west-1_Legacy1",
  "name": "legacy",
  "origin": "api",
  "username_case_sensitive": false,
  "username_attributes": [],
  "alias_attributes": [],
  "auto_verified_attributes": [],
  "required_attributes": [],
  "custom_attributes": [],
  "password_policy": {
    "minimum_length": 8,
    "require_uppercase": true,
    "require_lowercase": true,
    "require_numbers": true,
    "require_symbols": true,
    "temporary_password_validity_days": 7
  },
  "admin_create_user_only": false,
  "mfa": "OFF",
  "userinfo_string_values": false,
  "link_federated_users_by_email": false,
  "identity_providers": [
    {
      "name": "SignInWithApple",
      "provider_type": "SignInWithApple",
      "preset": "apple",
      "origin": "config",
      "display_name": "Apple",
      "protocol": "oidc",
      "client_id": "com.example.web",
      "client_secret": null,
      "apple": {
        "team_id": "ABCDE12345",
        "key_id": "ABC123DEFG",
        "private_key": "v1:By/+OvqI6uBE+Mzw9LGPl+DfavVA41slxsloxmHmTxJ6FA=="
      },
      "issuer": "https://appleid.apple.com",
      "issuer_aliases": [],
      "endpoints": {
        "authorize": "https://appleid.apple.com/auth/authorize",
        "token": "https://appleid.apple.com/auth/token",
        "userinfo": null,
        "jwks": "https://appleid.apple.com/auth/keys",
        "profile": null
      },
      "scopes": [
        "name",
        "email"
      ],
      "pkce": false,
      "response_mode": "form_post",
      "token_endpoint_auth_method": "client_secret_post",
      "subject_claim": "sub",
      "fetch_userinfo": false,
      "attribute_mapping": {
        "email": "email",
        "email_verified": "email_verified",
        "family_name": "user.name.lastName",
        "given_name": "user.name.firstName"
      },
      "emails_verified": false,
      "quirks": [
        "apple_client_secret",
        "apple_user_json",
        "string_email_verified"
      ],
      "identifiers": [
        "apple.example"
      ],
      "hosted_domain": null,
      "created_at": 1700000000,
      "updated_at": 1700000000
    },
    {
      "name": "Google",
      "provider_type": "Google",
      "preset": "google",
      "origin": "config",
      "display_name": "Google",
      "protocol": "oidc",
      "client_id": "g-client.apps.googleusercontent.com",
      "client_secret": "v1:+T5zRKua+nnregCmWeNq7y8WIeyU/edxzN7yfCTzh1XbmA==",
      "apple": null,
      "issuer": "https://accounts.google.com",
      "issuer_aliases": [
        "accounts.google.com"
      ],
      "endpoints": {
        "authorize": "https://accounts.google.com/o/oauth2/v2/auth",
        "token": "https://oauth2.googleapis.com/token",
        "userinfo": "https://openidconnect.googleapis.com/v1/userinfo",
        "jwks": "https://www.googleapis.com/oauth2/v3/certs",
        "profile": null
      },
      "scopes": [
        "openid",
        "email",
        "profile"
      ],
      "pkce": true,
      "response_mode": "query",
      "token_endpoint_auth_method": "client_secret_post",
      "subject_claim": "sub",
      "fetch_userinfo": false,
      "attribute_mapping": {
        "email": "email",
        "email_verified": "email_verified",
        "family_name": "family_name",
        "given_name": "given_name",
        "locale": "locale",
        "name": "name",
        "picture": "picture"
      },
      "emails_verified": false,
      "quirks": [
        "google_hd"
      ],
      "identifiers": [],
      "hosted_domain": "example.com",
      "created_at": 1700000001,
      "updated_at": 1700000001
    },
    {
      "name": "Facebook",
      "provider_type": "Facebook",
      "preset": "facebook",
      "origin": "config",
      "display_name": "Facebook",
      "protocol": "oauth2",
      "client_id": "1234567890",
      "client_secret": "v1:ulR1YIdjyU+St8SUzh0rdHdDTMLOcySJ9ErQ5jN+6gA9GQ==",
      "apple": null,
      "issuer": null,
      "issuer_aliases": [],
      "endpoints": {
        "authorize": "https://www.facebook.com/v19.0/dialog/oauth",
        "token": "https://graph.facebook.com/v19.0/oauth/access_token",
        "userinfo": null,
        "jwks": null,
        "profile": "https://graph.facebook.com/v19.0/me?fields=id,name,email,first_name,last_name,picture"
      },
      "scopes": [
        "public_profile",
        "email"
      ],
      "pkce": false,
      "response_mode": "query",
      "token_endpoint_auth_method": "client_secret_post",
      "subject_claim": "id",
      "fetch_userinfo": false,
      "attribute_mapping": {
        "email": "email",
        "family_name": "last_name",
        "given_name": "first_name",
        "name": "name",
        "picture": "picture.data.url"
      },
      "emails_verified": true,
      "quirks": [
        "facebook_appsecret_proof"
      ],
      "identifiers": [],
      "hosted_domain": null,
      "created_at": 1700000002,
      "updated_at": 1700000002
    },
    {
      "name": "Okta",
      "provider_type": "OIDC",
      "preset": "oidc",
      "origin": "config",
      "display_name": "Corporate login",
      "protocol": "oidc",
      "client_id": "okta-client",
      "client_secret": "v1:x//g1Yb9eHYC6H3dT8sgFgAlAkqZXr+tCl5nwsxLC0YM9Q==",
      "apple": null,
      "issuer": "https://corp.okta.example",
      "issuer_aliases": [
        "corp.okta.example"
      ],
      "endpoints": {
        "authorize": null,
        "token": null,
        "userinfo": null,
        "jwks": null,
        "profile": null
      },
      "scopes": [
        "openid",
        "email",
        "profile"
      ],
      "pkce": true,
      "response_mode": "query",
      "token_endpoint_auth_method": "client_secret_post",
      "subject_claim": "sub",
      "fetch_userinfo": true,
      "attribute_mapping": {
        "address": "address",
        "birthdate": "birthdate",
        "custom:tenant": "tid",
        "email": "email",
        "email_verified": "email_verified",
        "family_name": "family_name",
        "gender": "gender",
        "given_name": "given_name",
        "locale": "locale",
        "middle_name": "middle_name",
        "name": "name",
        "phone_number": "phone_number",
        "phone_number_verified": "phone_number_verified",
        "picture": "picture",
        "profile": "profile",
        "website": "website",
        "zoneinfo": "zoneinfo"
      },
      "emails_verified": false,
      "quirks": [],
      "identifiers": [
        "corp.example",
        "corp.example.org"
      ],
      "hosted_domain": null,
      "created_at": 1700000003,
      "updated_at": 1700000003
    }
  ],
  "created_at": 1690000000,
  "updated_at": 1700000000
}"#;

fn sealed(text: &str) -> EncryptedSecret {
    serde_json::from_value(json!(text)).unwrap()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn mapping(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_pool_of_flat_providers_loads_into_the_protocol_shape() {
    let pool: UserPool = serde_json::from_str(FLAT_POOL).unwrap();
    assert_eq!(pool.id, "eu-west-1_Legacy1");
    let [apple, google, facebook, okta] = &pool.identity_providers[..] else {
        panic!("{:?}", pool.identity_providers);
    };

    let expected_apple = IdentityProvider {
        name: "SignInWithApple".into(),
        provider_type: ProviderType::SignInWithApple,
        preset: "apple".into(),
        origin: Origin::Config,
        display_name: "Apple".into(),
        client_id: "com.example.web".into(),
        subject_claim: "sub".into(),
        attribute_mapping: mapping(&[
            ("email", "email"),
            ("email_verified", "email_verified"),
            ("family_name", "user.name.lastName"),
            ("given_name", "user.name.firstName"),
        ]),
        emails_verified: false,
        quirks: vec![
            Quirk::AppleClientSecret,
            Quirk::AppleUserJson,
            Quirk::StringEmailVerified,
        ],
        identifiers: strings(&["apple.example"]),
        link_by_email: false,
        protocol: ProtocolSettings::Oidc(OidcSettings {
            issuer: Some("https://appleid.apple.com".into()),
            issuer_aliases: vec![],
            endpoints: OidcEndpoints {
                authorize: Some("https://appleid.apple.com/auth/authorize".into()),
                token: Some("https://appleid.apple.com/auth/token".into()),
                userinfo: None,
                jwks: Some("https://appleid.apple.com/auth/keys".into()),
            },
            scopes: strings(&["name", "email"]),
            pkce: false,
            response_mode: ResponseMode::FormPost,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
            fetch_userinfo: false,
            client_secret: Some(OidcClientSecret::AppleKey(AppleSigningKey {
                team_id: "ABCDE12345".into(),
                key_id: "ABC123DEFG".into(),
                private_key: sealed("v1:By/+OvqI6uBE+Mzw9LGPl+DfavVA41slxsloxmHmTxJ6FA=="),
            })),
            hosted_domain: None,
        }),
        created_at: 1_700_000_000,
        updated_at: 1_700_000_000,
    };
    assert_eq!(apple, &expected_apple);

    let expected_google = IdentityProvider {
        name: "Google".into(),
        provider_type: ProviderType::Google,
        preset: "google".into(),
        origin: Origin::Config,
        display_name: "Google".into(),
        client_id: "g-client.apps.googleusercontent.com".into(),
        subject_claim: "sub".into(),
        attribute_mapping: mapping(&[
            ("email", "email"),
            ("email_verified", "email_verified"),
            ("family_name", "family_name"),
            ("given_name", "given_name"),
            ("locale", "locale"),
            ("name", "name"),
            ("picture", "picture"),
        ]),
        emails_verified: false,
        quirks: vec![Quirk::GoogleHd],
        identifiers: vec![],
        link_by_email: false,
        protocol: ProtocolSettings::Oidc(OidcSettings {
            issuer: Some("https://accounts.google.com".into()),
            issuer_aliases: strings(&["accounts.google.com"]),
            endpoints: OidcEndpoints {
                authorize: Some("https://accounts.google.com/o/oauth2/v2/auth".into()),
                token: Some("https://oauth2.googleapis.com/token".into()),
                userinfo: Some("https://openidconnect.googleapis.com/v1/userinfo".into()),
                jwks: Some("https://www.googleapis.com/oauth2/v3/certs".into()),
            },
            scopes: strings(&["openid", "email", "profile"]),
            pkce: true,
            response_mode: ResponseMode::Query,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
            fetch_userinfo: false,
            client_secret: Some(OidcClientSecret::Sealed(sealed(
                "v1:+T5zRKua+nnregCmWeNq7y8WIeyU/edxzN7yfCTzh1XbmA==",
            ))),
            hosted_domain: Some("example.com".into()),
        }),
        created_at: 1_700_000_001,
        updated_at: 1_700_000_001,
    };
    assert_eq!(google, &expected_google);

    let expected_facebook = IdentityProvider {
        name: "Facebook".into(),
        provider_type: ProviderType::Facebook,
        preset: "facebook".into(),
        origin: Origin::Config,
        display_name: "Facebook".into(),
        client_id: "1234567890".into(),
        subject_claim: "id".into(),
        attribute_mapping: mapping(&[
            ("email", "email"),
            ("family_name", "last_name"),
            ("given_name", "first_name"),
            ("name", "name"),
            ("picture", "picture.data.url"),
        ]),
        emails_verified: true,
        quirks: vec![Quirk::FacebookAppsecretProof],
        identifiers: vec![],
        link_by_email: false,
        protocol: ProtocolSettings::OAuth2(OAuth2Settings {
            endpoints: OAuth2Endpoints {
                authorize: Some("https://www.facebook.com/v19.0/dialog/oauth".into()),
                token: Some("https://graph.facebook.com/v19.0/oauth/access_token".into()),
                profile: Some(
                    "https://graph.facebook.com/v19.0/me?fields=id,name,email,first_name,\
                     last_name,picture"
                        .into(),
                ),
            },
            scopes: strings(&["public_profile", "email"]),
            pkce: false,
            response_mode: ResponseMode::Query,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
            client_secret: Some(sealed(
                "v1:ulR1YIdjyU+St8SUzh0rdHdDTMLOcySJ9ErQ5jN+6gA9GQ==",
            )),
        }),
        created_at: 1_700_000_002,
        updated_at: 1_700_000_002,
    };
    assert_eq!(facebook, &expected_facebook);

    let expected_okta = IdentityProvider {
        name: "Okta".into(),
        provider_type: ProviderType::Oidc,
        preset: "oidc".into(),
        origin: Origin::Config,
        display_name: "Corporate login".into(),
        client_id: "okta-client".into(),
        subject_claim: "sub".into(),
        attribute_mapping: mapping(&[
            ("address", "address"),
            ("birthdate", "birthdate"),
            ("custom:tenant", "tid"),
            ("email", "email"),
            ("email_verified", "email_verified"),
            ("family_name", "family_name"),
            ("gender", "gender"),
            ("given_name", "given_name"),
            ("locale", "locale"),
            ("middle_name", "middle_name"),
            ("name", "name"),
            ("phone_number", "phone_number"),
            ("phone_number_verified", "phone_number_verified"),
            ("picture", "picture"),
            ("profile", "profile"),
            ("website", "website"),
            ("zoneinfo", "zoneinfo"),
        ]),
        emails_verified: false,
        quirks: vec![],
        identifiers: strings(&["corp.example", "corp.example.org"]),
        link_by_email: false,
        protocol: ProtocolSettings::Oidc(OidcSettings {
            issuer: Some("https://corp.okta.example".into()),
            issuer_aliases: strings(&["corp.okta.example"]),
            endpoints: OidcEndpoints::default(),
            scopes: strings(&["openid", "email", "profile"]),
            pkce: true,
            response_mode: ResponseMode::Query,
            token_endpoint_auth_method: TokenEndpointAuthMethod::ClientSecretPost,
            fetch_userinfo: true,
            client_secret: Some(OidcClientSecret::Sealed(sealed(
                "v1:x//g1Yb9eHYC6H3dT8sgFgAlAkqZXr+tCl5nwsxLC0YM9Q==",
            ))),
            hosted_domain: None,
        }),
        created_at: 1_700_000_003,
        updated_at: 1_700_000_003,
    };
    assert_eq!(okta, &expected_okta);
}

#[test]
fn the_protocol_shape_round_trips() {
    let pool: UserPool = serde_json::from_str(FLAT_POOL).unwrap();
    let text = serde_json::to_string(&pool).unwrap();
    let stored: Value = serde_json::from_str(&text).unwrap();
    // Written in the current shape: the protocol's settings under its name, nothing flat.
    let providers = stored["identity_providers"].as_array().unwrap();
    assert_eq!(
        providers[0]["protocol"]["oidc"]["hosted_domain"],
        Value::Null
    );
    assert_eq!(
        providers[1]["protocol"]["oidc"]["hosted_domain"],
        "example.com"
    );
    assert!(providers[2]["protocol"]["oauth2"]["endpoints"]["profile"].is_string());
    assert!(providers[0]["protocol"]["oidc"]["client_secret"]["apple_key"].is_object());
    for provider in providers {
        for flat in [
            "issuer",
            "endpoints",
            "client_secret",
            "apple",
            "hosted_domain",
        ] {
            assert!(provider.get(flat).is_none(), "{flat} in {provider}");
        }
    }
    let again: UserPool = serde_json::from_str(&text).unwrap();
    assert_eq!(again, pool);
    assert_eq!(serde_json::to_string(&again).unwrap(), text);
}
