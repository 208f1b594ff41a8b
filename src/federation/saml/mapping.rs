//! A verified SAML assertion to the directory's terms: the upstream user id, the mapped
//! attributes and the IdP's groups.
//!
//! The user id is the NameID (persistent, email or unspecified formats), or the value of
//! the attribute the operator names (`user_id_attribute`). A transient NameID changes at
//! every sign-in, so it is refused unless an attribute is named: it would make a new user
//! each time.
//!
//! Attribute mapping is by exact attribute `Name`. IdPs spell the common attributes in
//! several ways (the WS-Federation claim URIs of ADFS and Entra ID, the `urn:oid` names of
//! Shibboleth and Google Workspace, plain names); a mapped name the assertion lacks is
//! looked up under the other spellings of the same attribute ([`ALIASES`]).

use std::collections::{BTreeMap, BTreeSet};

use super::response::VerifiedAssertion;
use crate::core::attributes::MAX_ATTRIBUTE_LEN;
use crate::core::model::{IdentityProvider, SamlSettings};
use crate::federation::mapping::{check_subject, with_verification, Mapped, MappingError};

/// SAML Core 2.0 section 8.3.8: a transient identifier, new at every sign-in.
pub const TRANSIENT: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient";

/// The spellings of one attribute that IdPs use; a mapped name is looked up under the
/// others of its set when the assertion lacks it.
pub const ALIASES: &[&[&str]] = &[
    &[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "urn:oid:0.9.2342.19200300.100.1.3",
        "email",
        "mail",
        "Email",
    ],
    &[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
        "urn:oid:2.5.4.42",
        "given_name",
        "givenName",
        "firstName",
    ],
    &[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
        "urn:oid:2.5.4.4",
        "family_name",
        "sn",
        "surname",
        "lastName",
    ],
    &[
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name",
        "urn:oid:2.16.840.1.113730.3.1.241",
        "name",
        "displayName",
    ],
    &[
        "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
        "http://schemas.xmlsoap.org/claims/Group",
        "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
        "groups",
        "memberOf",
    ],
];

/// The default groups attribute: any spelling of the groups set of [`ALIASES`].
const GROUPS: &str = "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups";

/// The values of attribute `name`, or of another spelling of it.
fn values<'a>(assertion: &'a VerifiedAssertion, name: &str) -> Option<&'a [String]> {
    if let Some(v) = assertion.attributes.get(name) {
        return Some(v);
    }
    let set = ALIASES.iter().find(|set| set.contains(&name))?;
    set.iter()
        .find_map(|alias| assertion.attributes.get(*alias))
        .map(Vec::as_slice)
}

/// The assertion as a federated identity: user id and directory attributes.
pub fn map_assertion(
    provider: &IdentityProvider,
    saml: &SamlSettings,
    assertion: &VerifiedAssertion,
) -> Result<Mapped, MappingError> {
    let subject = match &saml.user_id_attribute {
        Some(attribute) => {
            let missing = || MappingError::MissingSubject {
                claim: attribute.clone(),
            };
            match assertion.attributes.get(attribute).map(Vec::as_slice) {
                Some([one]) => one.clone(),
                Some([]) | None => return Err(missing()),
                Some(_) => {
                    return Err(MappingError::BadSubject {
                        reason: "the user id attribute has several values",
                    })
                }
            }
        }
        None => {
            let name_id =
                assertion
                    .name_id
                    .as_ref()
                    .ok_or_else(|| MappingError::MissingSubject {
                        claim: "NameID".to_string(),
                    })?;
            if name_id.format.as_deref() == Some(TRANSIENT) {
                return Err(MappingError::BadSubject {
                    reason: "the NameID is transient (a new id at every sign-in); name an \
                             attribute as the user id (user_id_attribute)",
                });
            }
            name_id.value.clone()
        }
    };
    let subject = check_subject(subject, || MappingError::MissingSubject {
        claim: saml
            .user_id_attribute
            .clone()
            .unwrap_or_else(|| "NameID".to_string()),
    })?;
    let mut attributes = BTreeMap::new();
    for (attribute, name) in &provider.attribute_mapping {
        if name.is_empty() {
            continue;
        }
        let Some(value) = values(assertion, name).and_then(|v| v.first()) else {
            continue;
        };
        let text = if attribute.ends_with("_verified") {
            match value.trim() {
                "true" | "1" => "true".to_string(),
                "false" | "0" => "false".to_string(),
                _ => {
                    tracing::warn!(provider = %provider.name, attribute = %attribute,
                        "ignoring a verification flag that is not a boolean");
                    continue;
                }
            }
        } else {
            value.clone()
        };
        if text.chars().count() > MAX_ATTRIBUTE_LEN {
            tracing::warn!(provider = %provider.name, attribute = %attribute,
                "ignoring an attribute value longer than the directory allows");
            continue;
        }
        attributes.insert(attribute.clone(), text);
    }
    Ok(with_verification(provider, subject, attributes))
}

/// The directory groups the IdP's groups map to, through the provider's explicit table
/// only: a value the table does not name grants nothing (a tenant's IdP must not be able
/// to assert `admins`).
pub fn mapped_groups(saml: &SamlSettings, assertion: &VerifiedAssertion) -> BTreeSet<String> {
    let attribute = saml.groups_attribute.as_deref().unwrap_or(GROUPS);
    values(assertion, attribute)
        .unwrap_or_default()
        .iter()
        .filter_map(|value| saml.group_mapping.get(value).cloned())
        .collect()
}

/// Every directory group the provider's table can grant: the groups whose membership the
/// IdP decides for its users.
pub fn managed_groups(saml: &SamlSettings) -> BTreeSet<String> {
    saml.group_mapping.values().cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::saml::response::NameId;

    fn assertion(
        name_id: Option<(&str, Option<&str>)>,
        attrs: &[(&str, &[&str])],
    ) -> VerifiedAssertion {
        VerifiedAssertion {
            response_id: "_r".into(),
            assertion_id: "_a".into(),
            issuer: "https://idp".into(),
            name_id: name_id.map(|(v, f)| NameId {
                value: v.into(),
                format: f.map(str::to_string),
            }),
            attributes: attrs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect(),
            session_index: None,
            expires_at: 0,
        }
    }

    fn provider() -> (IdentityProvider, SamlSettings) {
        let saml = SamlSettings {
            group_mapping: BTreeMap::from([
                ("Engineering".to_string(), "engineers".to_string()),
                ("S-1-5-21-42".to_string(), "admins".to_string()),
            ]),
            ..SamlSettings::default()
        };
        let provider: IdentityProvider = serde_json::from_value(serde_json::json!({
            "name": "Okta", "provider_type": "SAML", "preset": "saml", "display_name": "Okta",
            "client_id": "", "subject_claim": "NameID",
            "attribute_mapping": {
                "email": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                "given_name": "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
            },
            "protocol": {"saml": {}}, "created_at": 0, "updated_at": 0,
        }))
        .unwrap();
        (provider, saml)
    }

    #[test]
    fn the_name_id_is_the_user_id_and_attributes_map_by_any_spelling() {
        let (p, saml) = provider();
        let a = assertion(
            Some((
                "00u1abc",
                Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"),
            )),
            &[
                ("urn:oid:0.9.2342.19200300.100.1.3", &["ada@example.com"]),
                ("givenName", &["Ada"]),
            ],
        );
        let m = map_assertion(&p, &saml, &a).unwrap();
        assert_eq!(m.subject, "00u1abc");
        assert_eq!(m.attributes["email"], "ada@example.com");
        assert_eq!(m.attributes["email_verified"], "false");
        assert_eq!(m.attributes["given_name"], "Ada");
    }

    #[test]
    fn a_transient_name_id_needs_a_named_attribute() {
        let (p, mut saml) = provider();
        let a = assertion(Some(("_t1", Some(TRANSIENT))), &[("uid", &["ada"])]);
        let e = map_assertion(&p, &saml, &a).unwrap_err();
        assert!(e.to_string().contains("transient"), "{e}");
        saml.user_id_attribute = Some("uid".into());
        assert_eq!(map_assertion(&p, &saml, &a).unwrap().subject, "ada");
        // A multi-valued or missing id attribute is no id.
        let two = assertion(None, &[("uid", &["a", "b"])]);
        assert!(map_assertion(&p, &saml, &two).is_err());
        assert!(map_assertion(&p, &saml, &assertion(None, &[])).is_err());
    }

    #[test]
    fn groups_map_only_through_the_table() {
        let (_, saml) = provider();
        let a = assertion(
            None,
            &[(
                "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups",
                &["Engineering", "admins", "Sales"],
            )],
        );
        assert_eq!(
            mapped_groups(&saml, &a),
            BTreeSet::from(["engineers".to_string()])
        );
        let b = assertion(None, &[("groups", &["S-1-5-21-42"])]);
        assert_eq!(
            mapped_groups(&saml, &b),
            BTreeSet::from(["admins".to_string()])
        );
        assert_eq!(managed_groups(&saml).len(), 2);
    }
}
