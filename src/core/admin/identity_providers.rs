//! A pool's identity providers: CreateIdentityProvider / UpdateIdentityProvider /
//! DeleteIdentityProvider as adding, replacing and removing one entry of the pool's list,
//! with the rules Cognito and Cognate's federation apply to the resolved record.
//!
//! [`validate_identity_provider`] checks what can be checked on the stored record: the
//! name (pattern, `COGNITO`, social names, uniqueness without case), the client id and
//! button text, identifiers (`IdpIdentifiers`: well-formed, claimed by one provider),
//! the attribute mapping (onto the pool's attributes), and the protocol's settings:
//! issuer and endpoint URLs (https, http only on a loopback host, as the redirect-URL
//! rule allows), scopes (RFC 6749 section 3.3), the credential the protocol needs (a
//! sealed secret, or Apple's `.p8` key with its team and key ids), and Google's hosted
//! domain. A SAML provider has no client id; its name follows Cognito's `ProviderName`
//! pattern, and its settings need the entity id, an SSO endpoint (for the request
//! binding) and signing certificates from the IdP's metadata, attribute names, and
//! group-mapping targets that are group names. Parsing the metadata is the declaring
//! edge's (the core does not read XML). How a provider is declared (presets, secrets read from the environment) is
//! the declaring edge's concern; the configuration checker runs these rules on the
//! records it resolves and places each error on its TOML key.

use std::collections::HashMap;
use std::ops::Deref;

use base64::Engine;

use super::clients::is_loopback;
use super::groups::is_group_name;
use super::roles::refuse_config_owned;
use super::{valid, AdminError, AdminResult, AdminService, Errors, FieldError, RecordKind, Rule};
use crate::core::attributes::STANDARD_ATTRIBUTES;
use crate::core::model::{
    AppleSigningKey, IdentityProvider, OidcClientSecret, Origin, Protocol, ProtocolSettings,
    ProviderType, Quirk, SamlBinding, SamlSettings, UserPool, DEFAULT_METADATA_REFRESH_SECS,
    MAX_METADATA_REFRESH_SECS, MIN_METADATA_REFRESH_SECS, OWN_USERS,
};
use crate::core::storage::Store;
use crate::core::UnixTime;

/// Cognito's limit on provider names.
const MAX_NAME_LEN: usize = 32;
/// Cognito's limit on `ProviderDetails.client_id`.
const MAX_CLIENT_ID_LEN: usize = 256;
/// The hosted UI's button text.
const MAX_DISPLAY_NAME_LEN: usize = 128;
/// Cognito's quota of identity providers per pool.
pub const MAX_IDENTITY_PROVIDERS: usize = 300;
/// Cognito's limits on `IdpIdentifiers`.
const MAX_IDENTIFIERS: usize = 50;
const MAX_IDENTIFIER_LEN: usize = 40;

/// The social provider types, whose names are reserved for them.
const SOCIAL: [ProviderType; 4] = [
    ProviderType::Google,
    ProviderType::SignInWithApple,
    ProviderType::Facebook,
    ProviderType::LoginWithAmazon,
];

/// CreateIdentityProvider's name rules for `idp` among the pool's `others` (the providers
/// it would sit beside; a replaced provider is not among them). Names compare without
/// case: federated usernames are `<name>_<id>`, so `Okta` and `okta` would collide.
pub fn validate_identity_provider_name(
    idp: &IdentityProvider,
    others: &[IdentityProvider],
) -> Vec<FieldError> {
    let mut e = Errors::default();
    check_name(&mut e, idp, &others.iter().collect::<Vec<_>>());
    e.into_vec()
}

/// Every rule on `idp` as a provider of `pool`: its name and identifiers against the
/// pool's other providers (those of another name, so a provider being replaced is not
/// compared with itself), its attribute mapping against the pool's attributes, and its
/// own fields and protocol settings. Paths are the record's: `name`, `identifiers[1]`,
/// `attribute_mapping.custom:tenant`, `protocol.issuer`, `protocol.endpoints.token`,
/// `protocol.scopes[0]`, `protocol.client_secret.team_id`.
pub fn validate_identity_provider(idp: &IdentityProvider, pool: &UserPool) -> Vec<FieldError> {
    let others: Vec<&IdentityProvider> = pool
        .identity_providers
        .iter()
        .filter(|p| p.name != idp.name)
        .collect();
    validate_among(idp, &others, pool)
}

/// As [`validate_identity_provider`], beside exactly `others` (the pool's own list is not
/// read): for a caller that holds providers not yet in a pool, such as the configuration
/// checker comparing a declaration with the ones declared before it, where two of the
/// same name are a duplicate, not a replacement.
pub fn validate_identity_provider_among(
    idp: &IdentityProvider,
    others: &[IdentityProvider],
    pool: &UserPool,
) -> Vec<FieldError> {
    validate_among(idp, &others.iter().collect::<Vec<_>>(), pool)
}

/// The rules on every provider of `pool`, each among the others, with paths under
/// `identity_providers[i]`, and Cognito's quota of providers: what a whole-pool write
/// checks.
pub fn validate_identity_providers(pool: &UserPool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if pool.identity_providers.len() > MAX_IDENTITY_PROVIDERS {
        errors.push(FieldError {
            path: "identity_providers".into(),
            rule: Rule::Invalid,
            message: format!(
                "{} identity providers: a pool has at most {MAX_IDENTITY_PROVIDERS} \
                 (Cognito's quota)",
                pool.identity_providers.len()
            ),
            fix: Some("declare fewer identity providers".into()),
        });
    }
    for (i, idp) in pool.identity_providers.iter().enumerate() {
        let others: Vec<&IdentityProvider> = pool
            .identity_providers
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, p)| p)
            .collect();
        errors.extend(validate_among(idp, &others, pool).into_iter().map(|mut e| {
            e.path = format!("identity_providers[{i}].{}", e.path);
            e
        }));
    }
    errors
}

fn validate_among(
    idp: &IdentityProvider,
    others: &[&IdentityProvider],
    pool: &UserPool,
) -> Vec<FieldError> {
    let mut e = Errors::default();
    check_name(&mut e, idp, others);
    let saml = idp.protocol.kind() == Protocol::Saml;
    if saml {
        // Cognito's SAML providers have no client id: it is OAuth's registration.
        if !idp.client_id.is_empty() {
            e.push(
                "client_id",
                Rule::Invalid,
                "a SAML provider has no client id (it is an OAuth 2.0 setting)",
                "remove the client id",
            );
        }
    } else if idp.client_id.trim().is_empty() || idp.client_id.chars().count() > MAX_CLIENT_ID_LEN {
        e.push(
            "client_id",
            Rule::Invalid,
            format!("client_id must have 1 to {MAX_CLIENT_ID_LEN} characters"),
            "write the client id (Apple: the Services ID) the provider issued",
        );
    }
    let shown = &idp.display_name;
    if shown.trim().is_empty() || shown.chars().count() > MAX_DISPLAY_NAME_LEN {
        e.push(
            "display_name",
            Rule::Invalid,
            format!("display_name must have 1 to {MAX_DISPLAY_NAME_LEN} characters"),
            "write e.g. display_name = \"Corporate login\"",
        );
    }
    check_identifiers(&mut e, idp, others);
    // A SAML provider's user id is the NameID or `SamlSettings::user_id_attribute`.
    if idp.subject_claim.is_empty() && !saml {
        e.push(
            "subject_claim",
            Rule::Invalid,
            "subject_claim cannot be empty",
            "write the claim holding the user id, e.g. subject_claim = \"sub\"",
        );
    }
    check_mapping(&mut e, idp, pool);
    check_protocol(&mut e, idp);
    e.into_vec()
}

fn check_name(e: &mut Errors, idp: &IdentityProvider, others: &[&IdentityProvider]) {
    let name = &idp.name;
    let valid = (1..=MAX_NAME_LEN).contains(&name.chars().count())
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-'));
    if !valid {
        e.push(
            "name",
            Rule::Invalid,
            format!("{name:?} is not a provider name: use 1 to {MAX_NAME_LEN} letters, digits, _ . or -"),
            "write e.g. name = \"Okta\"",
        );
    } else if idp.protocol.kind() == Protocol::Saml && !cognito_provider_name(name) {
        e.push(
            "name",
            Rule::Invalid,
            format!(
                "{name:?} is not a SAML provider name: Cognito's ProviderName pattern \
                 ([^_\\p{{Z}}][\\p{{L}}\\p{{M}}\\p{{S}}\\p{{N}}\\p{{P}}][^_\\p{{Z}}]+) wants at \
                 least 3 characters and no _ except as the second (federated usernames \
                 are <name>_<id>)"
            ),
            "write e.g. name = \"Okta\"",
        );
    } else if name.eq_ignore_ascii_case(OWN_USERS) {
        e.push(
            "name",
            Rule::Reserved,
            "COGNITO is the pool's own directory, not an identity provider name",
            "choose another name, e.g. name = \"Corporate\"",
        );
    } else if idp.provider_type.required_name().is_none()
        && SOCIAL.iter().any(|t| t.as_str().eq_ignore_ascii_case(name))
    {
        e.push(
            "name",
            Rule::Reserved,
            format!("{name:?} is reserved for the social provider of that name (Cognito rule)"),
            "give this OIDC provider another name",
        );
    }
    // Whatever else is wrong with the name, a social provider's is fixed: say which.
    if let Some(required) = idp.provider_type.required_name() {
        if name != required {
            e.push(
                "name",
                Rule::Reserved,
                format!(
                    "a {} provider must be named {required:?} (Cognito's name for it)",
                    idp.provider_type
                ),
                format!("write name = \"{required}\""),
            );
        }
    }
    if others.iter().any(|o| o.name.eq_ignore_ascii_case(name)) {
        e.push(
            "name",
            Rule::Duplicate,
            format!("identity provider {name:?} already exists in this pool"),
            "give each identity provider of a pool its own name (names differing only in \
             case collide: federated usernames are <name>_<id>)",
        );
    }
}

/// Cognito's `ProviderName` pattern, `[^_\p{Z}][\p{L}\p{M}\p{S}\p{N}\p{P}][^_\p{Z}]+`, on a
/// name already limited to ASCII letters, digits, `_`, `.` and `-`: three characters or
/// more, `_` only as the second. Cognito applies it to SAML providers; the OpenID Connect
/// providers keep the looser rule they were declared under.
fn cognito_provider_name(name: &str) -> bool {
    name.len() >= 3 && name.char_indices().all(|(i, ch)| ch != '_' || i == 1)
}

/// `IdpIdentifiers`: each well-formed, and each routing to one provider of the pool
/// (compared without case, as email domains are).
fn check_identifiers(e: &mut Errors, idp: &IdentityProvider, others: &[&IdentityProvider]) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (n, identifier) in idp.identifiers.iter().enumerate() {
        let path = format!("identifiers[{n}]");
        if !valid_identifier(identifier) {
            e.push(
                path,
                Rule::Invalid,
                format!(
                    "{identifier:?} is not an identifier: use 1 to {MAX_IDENTIFIER_LEN} \
                     letters, digits and . _ - @ + = (usually an email domain)"
                ),
                "write e.g. identifiers = [\"example.com\"]",
            );
            continue;
        }
        let key = identifier.to_lowercase();
        if let Some(first) = seen.insert(key.clone(), n) {
            e.push(
                path,
                Rule::Duplicate,
                format!("identifier {identifier:?} is also listed at identifiers[{first}]"),
                "list each identifier once",
            );
        } else if let Some(other) = others
            .iter()
            .find(|o| o.identifiers.iter().any(|i| i.to_lowercase() == key))
        {
            e.push(
                path,
                Rule::Duplicate,
                format!(
                    "identifier {identifier:?} is also claimed by identity provider {:?}",
                    other.name
                ),
                "an identifier routes sign-ins to one identity provider: keep it on one",
            );
        }
    }
    if idp.identifiers.len() > MAX_IDENTIFIERS {
        e.push(
            "identifiers",
            Rule::Invalid,
            format!("at most {MAX_IDENTIFIERS} identifiers are allowed"),
            "remove identifiers",
        );
    }
}

/// An `IdpIdentifiers` entry: Cognito's `[\w\s+=.@-]+` without spaces.
fn valid_identifier(text: &str) -> bool {
    (1..=MAX_IDENTIFIER_LEN).contains(&text.chars().count())
        && text
            .chars()
            .all(|ch| ch.is_alphanumeric() || matches!(ch, '_' | '.' | '-' | '@' | '+' | '='))
}

/// Cognito's `AttributeMapping`: keys are the pool's attributes (standard, or `custom:`
/// ones it declares); values are upstream claims, dotted for nested ones. An empty claim
/// maps nothing.
fn check_mapping(e: &mut Errors, idp: &IdentityProvider, pool: &UserPool) {
    for (attribute, claim) in &idp.attribute_mapping {
        let known = match attribute.strip_prefix("custom:") {
            Some(custom) => pool.custom_attributes.iter().any(|a| a.name == custom),
            None => STANDARD_ATTRIBUTES.contains(&attribute.as_str()),
        };
        let path = format!("attribute_mapping.{attribute}");
        if !known {
            e.push(
                path.clone(),
                Rule::Unknown,
                format!("{attribute:?} is not an attribute of this pool"),
                "map onto a standard attribute (email, name, ...) or custom:<name> of a \
                 declared custom attribute (quote it: \"custom:tenant\" = \"tid\")",
            );
        }
        if claim.chars().any(char::is_whitespace) {
            e.push(
                path,
                Rule::Invalid,
                format!("{claim:?} is not a claim path"),
                "write the upstream claim, dotted for nested ones: \"picture.data.url\"",
            );
        }
    }
}

/// The protocol's settings: what it needs present, and that what is present is usable.
fn check_protocol(e: &mut Errors, idp: &IdentityProvider) {
    match &idp.protocol {
        ProtocolSettings::Oidc(oidc) => {
            match &oidc.issuer {
                None => e.push(
                    "protocol.issuer",
                    Rule::Missing,
                    "an OpenID Connect provider needs its issuer (its discovery document is \
                     read from <issuer>/.well-known/openid-configuration)",
                    "add issuer = \"https://login.example.com\"",
                ),
                Some(issuer) => check_issuer(e, "protocol.issuer", issuer),
            }
            for (n, alias) in oidc.issuer_aliases.iter().enumerate() {
                check_issuer_alias(e, &format!("protocol.issuer_aliases[{n}]"), alias);
            }
            let ep = &oidc.endpoints;
            for (key, value) in [
                ("authorize", &ep.authorize),
                ("token", &ep.token),
                ("userinfo", &ep.userinfo),
                ("jwks", &ep.jwks),
            ] {
                if let Some(url) = value {
                    check_endpoint(e, &format!("protocol.endpoints.{key}"), url);
                }
            }
            check_scopes(e, &oidc.scopes);
            if idp.has_quirk(Quirk::AppleClientSecret) {
                match &oidc.client_secret {
                    Some(OidcClientSecret::AppleKey(key)) => check_apple_key(e, key),
                    _ => e.push(
                        "protocol.client_secret",
                        Rule::NeedsSecret,
                        "Sign in with Apple needs its signing key (team id, key id and the \
                         .p8 key): its client secret is a JWT signed with the .p8 key",
                        "give the provider its Apple signing key",
                    ),
                }
            } else if !matches!(oidc.client_secret, Some(OidcClientSecret::Sealed(_))) {
                needs_secret(e);
            }
            if let Some(domain) = &oidc.hosted_domain {
                check_hosted_domain(e, idp, domain);
            }
        }
        ProtocolSettings::OAuth2(oauth2) => {
            let ep = &oauth2.endpoints;
            for (key, value) in [
                ("authorize", &ep.authorize),
                ("token", &ep.token),
                ("profile", &ep.profile),
            ] {
                match value {
                    None => e.push(
                        "protocol.endpoints",
                        Rule::Missing,
                        format!("a plain OAuth 2.0 provider needs the {key} endpoint"),
                        format!("add endpoints = {{ {key} = \"https://...\" }}"),
                    ),
                    Some(url) => check_endpoint(e, &format!("protocol.endpoints.{key}"), url),
                }
            }
            check_scopes(e, &oauth2.scopes);
            if oauth2.client_secret.is_none() {
                needs_secret(e);
            }
        }
        ProtocolSettings::Saml(saml) => check_saml(e, saml),
    }
}

/// A SAML provider's settings, as its metadata gave them: an entity id, an SSO endpoint
/// for the binding requests go by, and at least one signing certificate (the only keys
/// its responses are checked with).
fn check_saml(e: &mut Errors, saml: &SamlSettings) {
    let entity_id = saml.entity_id.trim();
    if entity_id.is_empty() {
        e.push(
            "protocol.entity_id",
            Rule::Missing,
            "a SAML provider needs its entity id (the metadata's entityID)",
            "give the IdP's metadata, whose EntityDescriptor carries entityID",
        );
    } else if entity_id.len() > 1024 || entity_id != saml.entity_id {
        e.push(
            "protocol.entity_id",
            Rule::Invalid,
            "the entity id must be at most 1024 characters without surrounding spaces",
            "give the IdP's metadata as the IdP publishes it",
        );
    }
    for (key, value) in [
        ("sso_redirect_url", &saml.sso_redirect_url),
        ("sso_post_url", &saml.sso_post_url),
        ("slo_redirect_url", &saml.slo_redirect_url),
    ] {
        if let Some(url) = value {
            check_endpoint(e, &format!("protocol.{key}"), url);
        }
    }
    if saml.sso_redirect_url.is_none() && saml.sso_post_url.is_none() {
        e.push(
            "protocol.sso_redirect_url",
            Rule::Missing,
            "a SAML provider needs an SSO endpoint (a SingleSignOnService with the \
             HTTP-Redirect or HTTP-POST binding)",
            "give metadata whose IDPSSODescriptor lists its SingleSignOnService",
        );
    } else if saml.sso_url(saml.request_binding).is_none() {
        e.push(
            "protocol.request_binding",
            Rule::Invalid,
            format!(
                "the IdP's metadata has no SingleSignOnService for the {} binding",
                saml.request_binding.urn()
            ),
            "choose a binding the metadata lists (redirect or post)",
        );
    } else if saml.sign_requests && saml.request_binding == SamlBinding::Post {
        e.push(
            "protocol.sign_requests",
            Rule::NotSupported,
            "signed AuthnRequests are sent by the HTTP-Redirect binding only: Cognate does \
             not sign requests of the HTTP-POST binding (an enveloped XML signature) yet",
            "use request_binding = \"redirect\" (the IdP's metadata must list it)",
        );
    }
    for (n, cert) in saml.signing_certificates.iter().enumerate() {
        // The certificate itself was parsed where the metadata was read; the record
        // keeps standard base64 of its DER.
        let decoded = base64::engine::general_purpose::STANDARD.decode(cert.as_bytes());
        if cert.is_empty() || decoded.is_err() {
            e.push(
                format!("protocol.signing_certificates[{n}]"),
                Rule::Invalid,
                "a signing certificate must be standard base64 of its DER",
                "give the IdP's metadata as the IdP publishes it",
            );
        }
    }
    for (key, value) in [
        ("user_id_attribute", &saml.user_id_attribute),
        ("groups_attribute", &saml.groups_attribute),
    ] {
        if let Some(name) = value {
            if name.trim().is_empty() || name.trim() != name || name.chars().count() > 1024 {
                e.push(
                    format!("protocol.{key}"),
                    Rule::Invalid,
                    format!("{name:?} is not a SAML attribute name"),
                    "write the attribute's Name as the IdP sends it, e.g. \
                     \"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress\"",
                );
            }
        }
    }
    for (value, group) in &saml.group_mapping {
        if value.is_empty() {
            e.push(
                "protocol.group_mapping",
                Rule::Invalid,
                "an IdP group value cannot be empty",
                "write the value the IdP sends, e.g. group_mapping = { \"Engineering\" = \"staff\" }",
            );
        }
        if !is_group_name(group) {
            e.push(
                format!("protocol.group_mapping.{value}"),
                Rule::Invalid,
                format!("{group:?} is not a group name: use 1 to 128 characters without spaces"),
                "map onto a directory group, e.g. group_mapping = { \"Engineering\" = \"staff\" }",
            );
        }
    }
    if let Some(url) = &saml.metadata_url {
        if let Err(message) = check_idp_url(url) {
            e.push(
                "protocol.metadata_url",
                Rule::Invalid,
                message,
                "write the IdP's metadata URL, https (http only on localhost, 127.x.x.x or \
                 [::1]), e.g. \"https://idp.example.com/saml/metadata\"",
            );
        }
    }
    if let Some(secs) = saml.metadata_refresh_secs {
        if saml.metadata_url.is_none() {
            e.push(
                "protocol.metadata_refresh_secs",
                Rule::Invalid,
                "metadata_refresh_secs applies only to metadata fetched from metadata_url",
                "remove it, or give the metadata as metadata_url",
            );
        } else if !(MIN_METADATA_REFRESH_SECS..=MAX_METADATA_REFRESH_SECS).contains(&secs) {
            e.push(
                "protocol.metadata_refresh_secs",
                Rule::Invalid,
                format!(
                    "{secs} is out of range: the metadata is refetched every \
                     {MIN_METADATA_REFRESH_SECS} to {MAX_METADATA_REFRESH_SECS} seconds"
                ),
                format!(
                    "write e.g. metadata_refresh_secs = {DEFAULT_METADATA_REFRESH_SECS} (hourly)"
                ),
            );
        }
    }
    if saml.signing_certificates.is_empty() {
        e.push(
            "protocol.signing_certificates",
            Rule::Missing,
            "a SAML provider needs at least one signing certificate: responses are \
             checked against the metadata's certificates only",
            "give metadata whose IDPSSODescriptor has a KeyDescriptor with the signing \
             certificate",
        );
    }
}

fn needs_secret(e: &mut Errors) {
    e.push(
        "protocol.client_secret",
        Rule::NeedsSecret,
        "the provider's client secret is missing: its token endpoint authenticates Cognate \
         with it (RFC 6749 section 2.3.1)",
        "give the client secret the provider issued",
    );
}

/// An issuer: exactly as the provider's ID tokens carry it in `iss`.
fn check_issuer(e: &mut Errors, path: &str, issuer: &str) {
    if let Err(message) = check_idp_url(issuer) {
        e.push(
            path,
            Rule::Invalid,
            message,
            "write the issuer exactly as the provider's ID tokens carry it in `iss`, e.g. \
             issuer = \"https://login.example.com\"",
        );
    }
}

/// Another spelling of `iss` (Google's `accounts.google.com` has no scheme), so only its
/// shape is checked.
fn check_issuer_alias(e: &mut Errors, path: &str, alias: &str) {
    if alias.trim().is_empty() || alias.chars().any(char::is_whitespace) {
        e.push(
            path,
            Rule::Invalid,
            format!("{alias:?} is not an issuer"),
            "write another spelling of `iss` the provider uses, e.g. \"accounts.google.com\"",
        );
    }
}

/// An endpoint Cognate calls or sends the browser to.
fn check_endpoint(e: &mut Errors, path: &str, url: &str) {
    if let Err(message) = check_idp_url(url) {
        e.push(
            path,
            Rule::Invalid,
            message,
            "write an https URL (http only on localhost, 127.x.x.x or [::1])",
        );
    }
}

/// The scopes requested at the IdP: at least one, each a `scope-token` of RFC 6749
/// section 3.3 (printable ASCII without space, `"` or `\\`).
fn check_scopes(e: &mut Errors, scopes: &[String]) {
    if scopes.is_empty() {
        e.push(
            "protocol.scopes",
            Rule::Invalid,
            "scopes cannot be empty",
            "list the scopes to request, e.g. scopes = [\"openid\", \"email\"]",
        );
    }
    for (n, scope) in scopes.iter().enumerate() {
        let printable = !scope.is_empty()
            && scope
                .chars()
                .all(|ch| ch.is_ascii_graphic() && ch != '"' && ch != '\\');
        if !printable {
            e.push(
                format!("protocol.scopes[{n}]"),
                Rule::Invalid,
                format!("{scope:?} is not a scope (RFC 6749 section 3.3)"),
                "write each scope as its own string, e.g. scopes = [\"openid\", \"email\"]",
            );
        }
    }
}

/// Apple's team and key ids are 10 letters and digits (the client secret's `iss` and
/// `kid`; Sign in with Apple, "Creating a client secret").
fn check_apple_key(e: &mut Errors, key: &AppleSigningKey) {
    for (field, value) in [("team_id", &key.team_id), ("key_id", &key.key_id)] {
        if value.len() != 10 || !value.chars().all(|ch| ch.is_ascii_alphanumeric()) {
            e.push(
                format!("protocol.client_secret.{field}"),
                Rule::Invalid,
                format!("{value:?} is not an Apple {field}: Apple's are 10 letters and digits"),
                "copy it from the Apple developer account (Membership, or Keys)",
            );
        }
    }
}

/// Google's `hd` restriction: only on a provider with the Google quirk, and a domain name.
fn check_hosted_domain(e: &mut Errors, idp: &IdentityProvider, domain: &str) {
    if !idp.has_quirk(Quirk::GoogleHd) {
        e.push(
            "protocol.hosted_domain",
            Rule::Invalid,
            "hosted_domain restricts Google sign-in to a Workspace domain; this provider is \
             not Google",
            "remove it",
        );
    } else if !valid_domain(domain) {
        e.push(
            "protocol.hosted_domain",
            Rule::Invalid,
            format!("{domain:?} is not a domain name"),
            "write the Workspace domain, e.g. hosted_domain = \"example.com\"",
        );
    }
}

/// An IdP URL: absolute, no fragment, https except http on a loopback host (a local test
/// provider), as the redirect-URL rule allows.
fn check_idp_url(text: &str) -> Result<(), String> {
    check_service_url(
        text,
        "a local test provider",
        "identity providers are reached over https",
    )
}

/// A URL Cognate calls (an IdP's, a trigger's webhook): absolute, no fragment, https
/// except http on a loopback host (`local` says what such a host is for, `reached` why
/// https), as the redirect-URL rule allows.
pub(crate) fn check_service_url(text: &str, local: &str, reached: &str) -> Result<(), String> {
    let url =
        url::Url::parse(text).map_err(|e| format!("{text:?} is not an absolute URL ({e})"))?;
    if url.fragment().is_some() {
        return Err(format!("{text:?} must not have a fragment (#...)"));
    }
    if url.host().is_none() {
        return Err(format!("{text:?} has no host"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err(format!(
            "{text:?} uses http, allowed only for a loopback host ({local}); {reached}"
        )),
        other => Err(format!("{text:?} has scheme {other:?}; use https")),
    }
}

fn valid_domain(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    /// CreateIdentityProvider: adds `idp` to the pool's list. The list lives on the pool
    /// record, so the write is [`AdminService::modify_pool`]'s compare-and-swap: providers
    /// created at once on any nodes (Terraform creates in parallel) all land, and of two
    /// creates of one name exactly one does (the other is [`AdminError::Exists`]).
    pub async fn add_identity_provider(
        &self,
        pool_id: &str,
        idp: IdentityProvider,
        now: UnixTime,
    ) -> AdminResult<UserPool> {
        let (pool, ()) = self
            .modify_pool(pool_id, |pool| {
                if let Some(taken) = pool.identity_provider(&idp.name) {
                    return Err(AdminError::Exists {
                        kind: RecordKind::IdentityProvider,
                        id: taken.name.clone(),
                    });
                }
                let mut errors = validate_identity_provider(&idp, pool);
                if pool.identity_providers.len() >= MAX_IDENTITY_PROVIDERS {
                    errors.push(FieldError {
                        path: "name".into(),
                        rule: Rule::Invalid,
                        message: format!(
                            "the pool already has {MAX_IDENTITY_PROVIDERS} identity providers, \
                             Cognito's quota"
                        ),
                        fix: Some("delete an identity provider first".into()),
                    });
                }
                valid(RecordKind::IdentityProvider, errors)?;
                pool.identity_providers.push(idp.clone());
                pool.updated_at = now;
                Ok(())
            })
            .await?;
        Ok(pool)
    }

    /// UpdateIdentityProvider: replaces the pool's provider of `idp`'s name, in place. A
    /// provider the configuration file declared is refused to a record of the API
    /// (`idp.origin == Origin::Api`: [`AdminError::ConfigOwned`]), and a provider's type
    /// cannot change (Cognito's `ProviderType` is fixed at creation). Written through
    /// [`AdminService::modify_pool`], so the pool's other providers changed meanwhile are
    /// kept.
    pub async fn replace_identity_provider(
        &self,
        pool_id: &str,
        idp: IdentityProvider,
        now: UnixTime,
    ) -> AdminResult<UserPool> {
        let (pool, ()) = self
            .modify_pool(pool_id, |pool| {
                let Some(index) = pool
                    .identity_providers
                    .iter()
                    .position(|p| p.name == idp.name)
                else {
                    return Err(AdminError::NotFound {
                        kind: RecordKind::IdentityProvider,
                        id: idp.name.clone(),
                    });
                };
                let stored = &pool.identity_providers[index];
                refuse_config_owned(
                    RecordKind::IdentityProvider,
                    &idp.name,
                    stored.origin,
                    idp.origin,
                )?;
                let mut errors = validate_identity_provider(&idp, pool);
                if stored.provider_type != idp.provider_type {
                    errors.push(FieldError {
                        path: "provider_type".into(),
                        rule: Rule::Invalid,
                        message: format!(
                            "a provider's type cannot change ({} is a {} provider)",
                            idp.name, stored.provider_type
                        ),
                        fix: Some(
                            "delete the provider and create it again with the new type".into(),
                        ),
                    });
                }
                valid(RecordKind::IdentityProvider, errors)?;
                pool.identity_providers[index] = idp.clone();
                pool.updated_at = now;
                Ok(())
            })
            .await?;
        Ok(pool)
    }

    /// Removes the pool's provider of this name whatever declared it: the operator's
    /// console (`cognate admin idps delete`, which warns that the next apply recreates a
    /// provider of the file). Returns whether it existed.
    pub async fn remove_identity_provider(
        &self,
        pool_id: &str,
        name: &str,
        now: UnixTime,
    ) -> AdminResult<bool> {
        self.remove_identity_provider_by(pool_id, name, Origin::Config, now)
            .await
    }

    /// DeleteIdentityProvider: removes the pool's provider of this name for a caller of
    /// origin `by`; a provider of the configuration file is refused to the API
    /// ([`AdminError::ConfigOwned`]). Returns whether it existed. Clients listing it in
    /// `supported_identity_providers` keep the name; their next update is refused until it
    /// is removed there.
    pub async fn remove_identity_provider_by(
        &self,
        pool_id: &str,
        name: &str,
        by: Origin,
        now: UnixTime,
    ) -> AdminResult<bool> {
        let removed = self
            .modify_pool(pool_id, |pool| {
                if let Some(stored) = pool.identity_provider(name) {
                    refuse_config_owned(RecordKind::IdentityProvider, name, stored.origin, by)?;
                }
                let before = pool.identity_providers.len();
                pool.identity_providers.retain(|p| p.name != name);
                if pool.identity_providers.len() == before {
                    // Nothing changed: modify_pool writes nothing.
                    return Ok::<_, AdminError>(false);
                }
                pool.updated_at = now;
                Ok(true)
            })
            .await?
            .1;
        Ok(removed)
    }
}
