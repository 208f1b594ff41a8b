//! Turning an upstream identity (ID token claims, merged userinfo, or a profile API's JSON)
//! into the directory's terms: the upstream user id and the mapped attributes.
//!
//! The mapping is declarative (directory attribute -> dotted claim path, from the preset
//! and the operator's overrides). Everything here is lenient about attributes and strict
//! about identity: a value that cannot be used is dropped with a warning and the sign-in
//! goes on, but a missing user id, or a Google account outside the required Workspace
//! domain, refuses it.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core::attributes::MAX_ATTRIBUTE_LEN;
use crate::core::model::{IdentityProvider, ProtocolSettings, Quirk};

/// Longest upstream user id accepted. Federated usernames are `<provider>_<id>`; real ids
/// are far shorter (Google's 21 digits, Amazon's `amzn1.account.` + 28 characters).
pub const MAX_SUBJECT_LEN: usize = 255;

/// An upstream identity in the directory's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    /// The upstream user id (the provider's `subject_claim`).
    pub subject: String,
    /// Directory attributes, as strings (Cognito's model). `email_verified` is present
    /// exactly when `email` is.
    pub attributes: BTreeMap<String, String>,
    /// Whether the mapped email is verified: the provider's own claim when it sent one,
    /// else the provider's `emails_verified` declaration. `None` when there is no email.
    pub email_verified: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("the identity provider sent no usable user id (claim {claim:?})")]
    MissingSubject { claim: String },
    #[error("the identity provider's user id is unusable: {reason}")]
    BadSubject { reason: &'static str },
    #[error("the account is not in the required Google Workspace domain {expected:?}")]
    HostedDomain {
        expected: String,
        got: Option<String>,
    },
}

/// Maps an upstream identity's claims through the provider's attribute mapping.
pub fn map_claims(provider: &IdentityProvider, claims: &Value) -> Result<Mapped, MappingError> {
    let subject = subject(provider, claims)?;
    if provider.has_quirk(Quirk::GoogleHd) {
        check_hosted_domain(provider, claims)?;
    }
    let strings_allowed = provider.has_quirk(Quirk::StringEmailVerified);
    let mut attributes = BTreeMap::new();
    for (attribute, path) in &provider.attribute_mapping {
        if path.is_empty() {
            // An operator's override unmapping a preset attribute.
            continue;
        }
        let Some(value) = lookup(claims, path) else {
            continue;
        };
        let text = if attribute.ends_with("_verified") {
            match as_bool(value, strings_allowed) {
                Some(b) => b.to_string(),
                None => {
                    tracing::warn!(
                        provider = %provider.name,
                        attribute = %attribute,
                        "ignoring a verification flag that is not a boolean"
                    );
                    continue;
                }
            }
        } else {
            match stringify(value) {
                Some(text) => text,
                None => continue,
            }
        };
        if text.chars().count() > MAX_ATTRIBUTE_LEN {
            tracing::warn!(
                provider = %provider.name,
                attribute = %attribute,
                length = text.chars().count(),
                limit = MAX_ATTRIBUTE_LEN,
                "ignoring an attribute value longer than the directory allows"
            );
            continue;
        }
        attributes.insert(attribute.clone(), text);
    }
    Ok(with_verification(provider, subject, attributes))
}

/// The mapped identity with its verification flags settled (every protocol's): a flag
/// means nothing without the value it verifies, and an email without a flag is as
/// verified as the provider's `emails_verified` declares.
pub fn with_verification(
    provider: &IdentityProvider,
    subject: String,
    mut attributes: BTreeMap<String, String>,
) -> Mapped {
    if !attributes.contains_key("phone_number") {
        attributes.remove("phone_number_verified");
    }
    let email_verified = if attributes.contains_key("email") {
        let verified = attributes
            .get("email_verified")
            .map_or(provider.emails_verified, |v| v == "true");
        attributes.insert("email_verified".to_string(), verified.to_string());
        Some(verified)
    } else {
        attributes.remove("email_verified");
        None
    };
    Mapped {
        subject,
        attributes,
        email_verified,
    }
}

fn subject(provider: &IdentityProvider, claims: &Value) -> Result<String, MappingError> {
    let missing = || MappingError::MissingSubject {
        claim: provider.subject_claim.clone(),
    };
    let subject = match lookup(claims, &provider.subject_claim).ok_or_else(missing)? {
        Value::String(s) => s.clone(),
        // Some IdPs send numeric ids; integers only (a float id would not round-trip).
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        _ => return Err(missing()),
    };
    check_subject(subject, missing)
}

/// An upstream user id as the directory takes it: not empty, at most
/// [`MAX_SUBJECT_LEN`] bytes, no control characters (every protocol's ids).
pub fn check_subject(
    subject: String,
    missing: impl Fn() -> MappingError,
) -> Result<String, MappingError> {
    if subject.is_empty() {
        return Err(missing());
    }
    if subject.len() > MAX_SUBJECT_LEN {
        return Err(MappingError::BadSubject {
            reason: "longer than 255 bytes",
        });
    }
    if subject.chars().any(char::is_control) {
        return Err(MappingError::BadSubject {
            reason: "contains control characters",
        });
    }
    Ok(subject)
}

/// Google's `hd` restriction: with `hosted_domain` set, only accounts of that Workspace
/// domain may sign in (consumer accounts have no `hd` at all). The `hd` authorize
/// parameter is only a UI hint; this check on the signed claim is what enforces it.
fn check_hosted_domain(provider: &IdentityProvider, claims: &Value) -> Result<(), MappingError> {
    // `hosted_domain` is an OpenID Connect setting (Google's `hd` is an ID token claim).
    let ProtocolSettings::Oidc(oidc) = &provider.protocol else {
        return Ok(());
    };
    let Some(expected) = &oidc.hosted_domain else {
        return Ok(());
    };
    let got = claims.get("hd").and_then(Value::as_str);
    if got.is_some_and(|hd| hd.eq_ignore_ascii_case(expected)) {
        return Ok(());
    }
    Err(MappingError::HostedDomain {
        expected: expected.clone(),
        got: got.map(str::to_string),
    })
}

/// The value at a dotted path (`picture.data.url`; a numeric segment indexes an array).
/// A top-level claim whose name itself contains dots (`https://example.com/roles`) is
/// found first; `null` counts as absent.
pub fn lookup<'a>(claims: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(v) = claims.get(path) {
        return (!v.is_null()).then_some(v);
    }
    let mut current = claims;
    for segment in path.split('.') {
        current = match current {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    (!current.is_null()).then_some(current)
}

/// A claim as a directory string: strings as they are, numbers and booleans in their
/// JSON spelling, objects and arrays as compact JSON (as OIDC's `address` object becomes
/// Cognito's JSON-string `address`). Empty strings are dropped.
fn stringify(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(_) | Value::Object(_) => Some(value.to_string()),
    }
}

/// A boolean claim; with the `string_email_verified` quirk also `"true"` / `"false"`
/// (Apple sends either form).
fn as_bool(value: &Value, strings_allowed: bool) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) if strings_allowed => match s.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::model::Origin;
    use crate::federation::presets;

    /// A record resolved from a preset with no overrides (as applying the file makes).
    pub(crate) fn provider(preset: &str) -> IdentityProvider {
        let p = presets::get(preset).unwrap();
        IdentityProvider {
            name: p
                .provider_type
                .required_name()
                .unwrap_or("Corp")
                .to_string(),
            provider_type: p.provider_type,
            preset: p.name.clone(),
            origin: Origin::Config,
            display_name: p.display_name.clone().unwrap_or_else(|| "Corp".into()),
            client_id: "client".into(),
            subject_claim: p.subject_claim.clone(),
            attribute_mapping: p.attribute_mapping.clone(),
            emails_verified: p.emails_verified,
            quirks: p.quirks.clone(),
            identifiers: vec![],
            link_by_email: p.link_by_email,
            protocol: p.protocol_settings(Default::default(), None),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn google_id_token_claims() {
        let claims = json!({
            "iss": "https://accounts.google.com",
            "azp": "client", "aud": "client",
            "sub": "110169484474386276334",
            "hd": "example.com",
            "email": "alice@example.com",
            "email_verified": true,
            "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
            "name": "Alice Liddell",
            "picture": "https://lh3.googleusercontent.com/a/photo.jpg",
            "given_name": "Alice",
            "family_name": "Liddell",
            "locale": "en",
            "iat": 1353601026, "exp": 1353604926
        });
        let mapped = map_claims(&provider("google"), &claims).unwrap();
        assert_eq!(mapped.subject, "110169484474386276334");
        assert_eq!(mapped.email_verified, Some(true));
        assert_eq!(
            mapped.attributes,
            attrs(&[
                ("email", "alice@example.com"),
                ("email_verified", "true"),
                ("family_name", "Liddell"),
                ("given_name", "Alice"),
                ("locale", "en"),
                ("name", "Alice Liddell"),
                ("picture", "https://lh3.googleusercontent.com/a/photo.jpg"),
            ])
        );

        // Google sends a boolean; a string is not accepted without the quirk.
        let stringly = json!({"sub": "1", "email": "a@example.com", "email_verified": "true"});
        let mapped = map_claims(&provider("google"), &stringly).unwrap();
        assert_eq!(mapped.email_verified, Some(false));
        assert_eq!(mapped.attributes["email_verified"], "false");
    }

    #[test]
    fn google_hosted_domain_is_enforced_on_the_signed_claim() {
        let mut google = provider("google");
        let ProtocolSettings::Oidc(oidc) = &mut google.protocol else {
            panic!("the google preset is OpenID Connect");
        };
        oidc.hosted_domain = Some("example.com".into());
        let member = json!({"sub": "1", "hd": "Example.COM", "email": "a@example.com"});
        assert!(map_claims(&google, &member).is_ok());
        let consumer = json!({"sub": "2", "email": "a@gmail.com", "email_verified": true});
        assert_eq!(
            map_claims(&google, &consumer).unwrap_err(),
            MappingError::HostedDomain {
                expected: "example.com".into(),
                got: None
            }
        );
        let other = json!({"sub": "3", "hd": "evil.example"});
        assert!(matches!(
            map_claims(&google, &other),
            Err(MappingError::HostedDomain { got: Some(d), .. }) if d == "evil.example"
        ));
        // Without the restriction any account signs in.
        assert!(map_claims(&provider("google"), &consumer).is_ok());
    }

    #[test]
    fn apple_id_token_with_string_or_boolean_flags() {
        let apple = provider("apple");
        let claims = json!({
            "iss": "https://appleid.apple.com",
            "aud": "com.example.web",
            "exp": 1700003600, "iat": 1700000000,
            "sub": "001234.0a1b2c3d4e5f60718293a4b5c6d7e8f9.1234",
            "nonce": "n-0S6_WzA2Mj", "nonce_supported": true,
            "email": "x7k2abc9@privaterelay.appleid.com",
            "email_verified": "true",
            "is_private_email": "true",
            "real_user_status": 2,
            "auth_time": 1700000000
        });
        let mapped = map_claims(&apple, &claims).unwrap();
        assert_eq!(
            mapped.subject,
            "001234.0a1b2c3d4e5f60718293a4b5c6d7e8f9.1234"
        );
        assert_eq!(mapped.email_verified, Some(true));
        assert_eq!(
            mapped.attributes,
            attrs(&[
                ("email", "x7k2abc9@privaterelay.appleid.com"),
                ("email_verified", "true"),
            ])
        );

        let boolean = json!({"sub": "s", "email": "a@icloud.com", "email_verified": false});
        assert_eq!(
            map_claims(&apple, &boolean).unwrap().email_verified,
            Some(false)
        );
        let strange = json!({"sub": "s", "email": "a@icloud.com", "email_verified": "yes"});
        assert_eq!(
            map_claims(&apple, &strange).unwrap().email_verified,
            Some(false)
        );

        // First sign-in: the flow has merged the `user` JSON's name under `user`.
        let first = json!({
            "sub": "s", "email": "a@icloud.com", "email_verified": true,
            "user": {"name": {"firstName": "Ada", "lastName": "Lovelace"}}
        });
        let mapped = map_claims(&apple, &first).unwrap();
        assert_eq!(mapped.attributes["given_name"], "Ada");
        assert_eq!(mapped.attributes["family_name"], "Lovelace");
    }

    #[test]
    fn facebook_profile_with_and_without_email() {
        let facebook = provider("facebook");
        let me = json!({
            "id": "10158012345678901",
            "name": "Bob Example",
            "email": "bob@example.com",
            "first_name": "Bob",
            "last_name": "Example",
            "picture": {"data": {
                "height": 50, "is_silhouette": false,
                "url": "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=1&height=50",
                "width": 50
            }}
        });
        let mapped = map_claims(&facebook, &me).unwrap();
        assert_eq!(mapped.subject, "10158012345678901");
        // No email_verified claim, and Facebook's emails are not declared verified.
        assert_eq!(mapped.email_verified, Some(false));
        assert_eq!(
            mapped.attributes,
            attrs(&[
                ("email", "bob@example.com"),
                ("email_verified", "false"),
                ("family_name", "Example"),
                ("given_name", "Bob"),
                ("name", "Bob Example"),
                (
                    "picture",
                    "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=1&height=50"
                ),
            ])
        );

        // The user declined the email permission (or has none): no email, no flag.
        let no_email = json!({"id": "10158012345678902", "name": "Carol", "first_name": "Carol",
            "last_name": "X", "picture": {"data": {"url": "https://x.example/p.jpg"}}});
        let mapped = map_claims(&facebook, &no_email).unwrap();
        assert_eq!(mapped.email_verified, None);
        assert!(!mapped.attributes.contains_key("email"));
        assert!(!mapped.attributes.contains_key("email_verified"));

        // An operator who declares Facebook's emails verified.
        let trusted = IdentityProvider {
            emails_verified: true,
            ..facebook.clone()
        };
        assert_eq!(
            map_claims(&trusted, &me).unwrap().email_verified,
            Some(true)
        );

        // Graph's error body has no id: refused, not signed in as "".
        let error = json!({"error": {"message": "Invalid OAuth access token.",
            "type": "OAuthException", "code": 190, "fbtrace_id": "A1b2"}});
        assert_eq!(
            map_claims(&facebook, &error).unwrap_err(),
            MappingError::MissingSubject { claim: "id".into() }
        );
    }

    #[test]
    fn amazon_profile() {
        let profile = json!({
            "user_id": "amzn1.account.AGHJKLMNOPQRSTUVWXYZ12345678",
            "name": "Dana Example",
            "email": "dana@example.com",
            "postal_code": "98101"
        });
        let mapped = map_claims(&provider("amazon"), &profile).unwrap();
        assert_eq!(mapped.subject, "amzn1.account.AGHJKLMNOPQRSTUVWXYZ12345678");
        assert_eq!(
            mapped.attributes,
            attrs(&[
                ("email", "dana@example.com"),
                ("email_verified", "false"),
                ("name", "Dana Example"),
            ])
        );
    }

    #[test]
    fn enterprise_oidc_claims_of_every_type() {
        let mut oidc = provider("oidc");
        oidc.attribute_mapping
            .insert("custom:roles".into(), "https://corp.example/roles".into());
        oidc.attribute_mapping
            .insert("custom:level".into(), "org.level".into());
        oidc.attribute_mapping
            .insert("custom:first_group".into(), "groups.0".into());
        let claims = json!({
            "sub": 424242,
            "email": "eve@corp.example",
            "email_verified": true,
            "phone_number_verified": true,
            "address": {"street_address": "1 Main St", "country": "US"},
            "updated_at": 1700000000,
            "https://corp.example/roles": ["admin", "dev"],
            "org": {"level": 3.5},
            "groups": ["g1", "g2"],
            "name": null,
            "nickname": ""
        });
        let mapped = map_claims(&oidc, &claims).unwrap();
        assert_eq!(mapped.subject, "424242");
        assert_eq!(
            mapped.attributes,
            attrs(&[
                (
                    "address",
                    r#"{"country":"US","street_address":"1 Main St"}"#
                ),
                ("custom:first_group", "g1"),
                ("custom:level", "3.5"),
                ("custom:roles", r#"["admin","dev"]"#),
                ("email", "eve@corp.example"),
                ("email_verified", "true"),
            ])
        );
    }

    #[test]
    fn overlong_values_are_dropped_and_the_sign_in_goes_on() {
        let long = "x".repeat(MAX_ATTRIBUTE_LEN + 1);
        let fits = "é".repeat(MAX_ATTRIBUTE_LEN);
        let claims = json!({"sub": "1", "name": long, "given_name": fits, "email": "a@b.example"});
        let mapped = map_claims(&provider("google"), &claims).unwrap();
        assert!(!mapped.attributes.contains_key("name"));
        assert_eq!(
            mapped.attributes["given_name"].chars().count(),
            MAX_ATTRIBUTE_LEN
        );
        assert_eq!(mapped.attributes["email"], "a@b.example");
    }

    #[test]
    fn the_subject_must_be_usable() {
        let google = provider("google");
        for claims in [
            json!({}),
            json!({"sub": ""}),
            json!({"sub": null}),
            json!({"sub": true}),
            json!({"sub": 1.5}),
            json!({"sub": {"id": "1"}}),
        ] {
            assert!(
                matches!(
                    map_claims(&google, &claims),
                    Err(MappingError::MissingSubject { .. })
                ),
                "{claims}"
            );
        }
        assert!(matches!(
            map_claims(&google, &json!({"sub": "a\nb"})),
            Err(MappingError::BadSubject { .. })
        ));
        assert!(matches!(
            map_claims(&google, &json!({"sub": "1".repeat(256)})),
            Err(MappingError::BadSubject { .. })
        ));
        // A subject at a dotted path.
        let nested = IdentityProvider {
            subject_claim: "data.user.id".into(),
            ..google
        };
        let mapped = map_claims(&nested, &json!({"data": {"user": {"id": "u-1"}}})).unwrap();
        assert_eq!(mapped.subject, "u-1");
    }

    #[test]
    fn an_empty_path_unmaps_a_preset_attribute() {
        let mut google = provider("google");
        google
            .attribute_mapping
            .insert("picture".into(), String::new());
        let claims = json!({"sub": "1", "picture": "https://x.example/p.png"});
        assert!(!map_claims(&google, &claims)
            .unwrap()
            .attributes
            .contains_key("picture"));
    }
}
