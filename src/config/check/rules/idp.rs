//! The rules of `[[pools.identity_providers]]`. The provider record's rules are the
//! core's ([`admin::validate_identity_provider`]: names, identifiers, mapping, URLs,
//! scopes, Apple's key ids, Google's hosted domain); the checker resolves each declared
//! provider (preset plus overrides) into that record, runs them, and places every field
//! error on the TOML key that wrote the value, so an override that breaks the preset is
//! caught too. What is left here is the declaration's own: the preset it names, secrets
//! named by environment variables (never written in the file), which credential keys
//! each kind of provider takes, and the pool's account-linking option; a SAML provider's
//! metadata and the keys only one protocol takes are [`saml`]'s.

use super::super::Checker;
use super::CHECKED_POOL_ID;
use crate::config::decl::{IdpDecl, PoolDecl};
use crate::core::admin::{self, FieldError, Rule};
use crate::core::model::{IdentityProvider, Protocol, ProtocolSettings};
use crate::core::secrets::{EncryptedSecret, MasterKey};
use crate::federation::presets;

pub(super) fn check_identity_providers(c: &mut Checker<'_>, at: &str, pool: &PoolDecl) {
    // The providers declared before the one checked, resolved: the core compares names
    // and identifiers with them, so the later of two declarations is the one refused.
    let mut earlier: Vec<IdentityProvider> = Vec::new();
    for (k, idp) in pool.identity_providers.iter().enumerate() {
        let iat = format!("{at}.identity_providers[{k}]");
        let context = pool.to_record_with_providers(CHECKED_POOL_ID, Vec::new(), 0, None);
        let places = Places {
            at,
            iat: &iat,
            pool,
            index: k,
            idp,
        };
        let Some(record) = checked_record(idp) else {
            c.error(
                format!("{iat}.preset"),
                format!("{:?} is not a provider preset", idp.preset),
                format!("use one of: {}", presets::names().join(", ")),
            );
            // The name and identifiers do not depend on the preset: they are checked on
            // the provider resolved as the generic one, without the social-name rule
            // (which only holds for an OpenID Connect preset).
            let stand_in = IdpDecl {
                preset: "oidc".into(),
                ..idp.clone()
            };
            if let Some(record) = checked_record(&stand_in) {
                let errors = admin::validate_identity_provider_among(&record, &earlier, &context)
                    .into_iter()
                    .filter(|e| {
                        (e.field() == "name" && !is_social_refusal(e, &record))
                            || e.field() == "identifiers"
                    })
                    .collect();
                report(c, &places, errors, &record);
                earlier.push(record);
            }
            continue;
        };
        check_literal_secrets(c, &iat, idp);
        if !saml::check_keys(c, &iat, idp) {
            earlier.push(record);
            continue;
        }
        if !idp.is_saml() {
            check_credentials(c, &iat, idp);
        }
        let mut errors = admin::validate_identity_provider_among(&record, &earlier, &context);
        if idp.is_saml() {
            errors = saml::place_errors(idp, errors);
        } else if idp.client_id.is_empty() {
            // Reported as the missing key by saml::check_keys.
            errors.retain(|e| e.field() != "client_id");
        }
        report(c, &places, errors, &record);
        check_dropped(c, &places, &record, &earlier, &context);
        earlier.push(record);
    }
    saml::check_idp_initiated(c, at, pool, &earlier);
    if pool.link_federated_users_by_email {
        check_linking(c, at, pool);
    } else {
        // A promise the pool would not keep: without the pool's option nothing links.
        for (k, idp) in pool.identity_providers.iter().enumerate() {
            if idp.link_by_email == Some(true) {
                c.error(
                    format!("{at}.identity_providers[{k}].link_by_email"),
                    "link_by_email = true has no effect: the pool does not link federated \
                     users by email",
                    "set link_federated_users_by_email = true on the pool, or remove \
                     link_by_email",
                );
            }
        }
    }
}

/// Where a declared provider sits, for placing its errors and naming earlier declarations.
struct Places<'a> {
    at: &'a str,
    iat: &'a str,
    pool: &'a PoolDecl,
    index: usize,
    idp: &'a IdpDecl,
}

/// An Apple team or key id of Apple's shape, standing in for one the declaration lacks.
const PLACEHOLDER_APPLE_ID: &str = "CHECKED000";

/// The record the core's rules see for a declaration: resolved against its preset, with
/// a stand-in sealed credential (and Apple ids where the declaration lacks them), since
/// the checker reads no secret and whether the declaration names each credential's
/// source is this file's own rule ([`check_credentials`]); and with the attributes the
/// declaration unmaps (`picture = ""`) kept under an empty claim, so their names are
/// checked too. `None` for an unknown preset.
fn checked_record(idp: &IdpDecl) -> Option<IdentityProvider> {
    let (secret, apple_key) = if idp.uses_apple_key() {
        (None, placeholder_secret())
    } else {
        (placeholder_secret(), None)
    };
    let filled = IdpDecl {
        team_id: idp
            .team_id
            .clone()
            .or_else(|| Some(PLACEHOLDER_APPLE_ID.into())),
        key_id: idp
            .key_id
            .clone()
            .or_else(|| Some(PLACEHOLDER_APPLE_ID.into())),
        ..idp.clone()
    };
    let mut record = filled.to_record(secret, apple_key, 0, None)?;
    for (attribute, claim) in &idp.attribute_mapping {
        if claim.is_empty() {
            record
                .attribute_mapping
                .entry(attribute.clone())
                .or_default();
        }
    }
    Some(record)
}

/// A sealed stand-in credential; the rules only ask whether a provider has one.
fn placeholder_secret() -> Option<EncryptedSecret> {
    MasterKey::from_bytes(&[0; 32])
        .ok()
        .map(|key| key.seal("checked-identity-provider", b"checked"))
}

/// Keys the declaration writes that its protocol does not read (an issuer on a plain
/// OAuth 2.0 provider, a profile endpoint on an OpenID Connect one) never reach the
/// record; they are checked with the same rules on the provider resolved as the other
/// protocol, keeping only the errors on those keys.
fn check_dropped(
    c: &mut Checker<'_>,
    places: &Places<'_>,
    record: &IdentityProvider,
    earlier: &[IdentityProvider],
    context: &crate::core::model::UserPool,
) {
    let idp = places.idp;
    let e = &idp.endpoints;
    let (other, dropped): (Protocol, Vec<&str>) = match &record.protocol {
        ProtocolSettings::OAuth2(_) => (
            Protocol::Oidc,
            [
                ("issuer", idp.issuer.is_some()),
                ("issuer_aliases", idp.issuer_aliases.is_some()),
                ("endpoints.userinfo", e.userinfo.is_some()),
                ("endpoints.jwks", e.jwks.is_some()),
                ("hosted_domain", idp.hosted_domain.is_some()),
            ]
            .into_iter()
            .filter_map(|(key, written)| written.then_some(key))
            .collect(),
        ),
        ProtocolSettings::Oidc(_) => (
            Protocol::Oauth2,
            e.profile
                .is_some()
                .then_some("endpoints.profile")
                .into_iter()
                .collect(),
        ),
        // No OAuth key is dropped silently from a SAML provider: each is refused where the
        // SAML declaration is checked.
        ProtocolSettings::Saml(_) => return,
    };
    if dropped.is_empty() {
        return;
    }
    let probe = IdpDecl {
        protocol: Some(other),
        ..idp.clone()
    };
    let Some(probe) = checked_record(&probe) else {
        return;
    };
    let errors = admin::validate_identity_provider_among(&probe, earlier, context)
        .into_iter()
        .filter(|err| {
            let key = toml_key(&err.path);
            err.rule != Rule::Missing
                && dropped
                    .iter()
                    .any(|d| key == *d || key.strip_prefix(d).is_some_and(|r| r.starts_with('[')))
        })
        .collect();
    report(c, places, errors, &probe);
}

/// Whether `e` is the core's refusal of a social provider's name on an OpenID Connect
/// provider.
fn is_social_refusal(e: &FieldError, record: &IdentityProvider) -> bool {
    e.rule == Rule::Reserved
        && record.provider_type.required_name().is_none()
        && !record
            .name
            .eq_ignore_ascii_case(crate::core::model::OWN_USERS)
}

/// Whether `e` is the core's refusal of a social provider not named after its type (the
/// one `Reserved` name error whose fix writes the required name; `COGNITO` is refused
/// beside it with its own words).
fn is_required_name_refusal(e: &FieldError, record: &IdentityProvider) -> bool {
    e.rule == Rule::Reserved
        && record
            .provider_type
            .required_name()
            .is_some_and(|required| {
                e.fix.as_deref() == Some(&format!("write name = \"{required}\""))
            })
}

/// The file's key for a path of the provider record: the protocol's settings are written
/// at the provider's top level, and Apple's key ids beside its other keys.
fn toml_key(model: &str) -> &str {
    match model {
        "protocol.client_secret.team_id" => "team_id",
        "protocol.client_secret.key_id" => "key_id",
        other => other.strip_prefix("protocol.").unwrap_or(other),
    }
}

/// Whether the declaration writes the key an error is about. Values it does not write
/// come from the preset or from other keys (the button text defaults to the name), and
/// are reported where they are written, so an error on them is not placed here.
fn declared(idp: &IdpDecl, key: &str) -> bool {
    let top = key.split(['.', '[']).next().unwrap_or(key);
    let e = &idp.endpoints;
    match top {
        "display_name" => idp.display_name.is_some(),
        "issuer" => idp.issuer.is_some(),
        "issuer_aliases" => idp.issuer_aliases.is_some(),
        "scopes" => idp.scopes.is_some(),
        "subject_claim" => idp.subject_claim.is_some(),
        "hosted_domain" => idp.hosted_domain.is_some(),
        "team_id" => idp.team_id.is_some(),
        "key_id" => idp.key_id.is_some(),
        "attribute_mapping" => key
            .strip_prefix("attribute_mapping.")
            .is_some_and(|attribute| idp.attribute_mapping.contains_key(attribute)),
        "endpoints" => match key.strip_prefix("endpoints.") {
            Some("authorize") => e.authorize.is_some(),
            Some("token") => e.token.is_some(),
            Some("userinfo") => e.userinfo.is_some(),
            Some("jwks") => e.jwks.is_some(),
            Some("profile") => e.profile.is_some(),
            _ => true,
        },
        _ => true,
    }
}

/// Reports the core's field errors of the provider declared at `places.iat`, each at
/// its TOML key, with the file's own words where it has them: a duplicate names the
/// earlier declaration, a social name suggests the social preset, a missing issuer names
/// the preset. A missing credential is not repeated: [`check_credentials`] names the
/// key that should say where it comes from.
fn report(
    c: &mut Checker<'_>,
    places: &Places<'_>,
    errors: Vec<FieldError>,
    record: &IdentityProvider,
) {
    let Places {
        at, iat, pool, idp, ..
    } = *places;
    for e in errors {
        let key = toml_key(&e.path);
        if e.rule == Rule::NeedsSecret || (e.rule != Rule::Missing && !declared(idp, key)) {
            continue;
        }
        let fix = e.fix.clone().unwrap_or_default();
        let (path, message, fix) = match (e.rule, e.field()) {
            (Rule::Duplicate, "name") => {
                let first = pool
                    .identity_providers
                    .iter()
                    .position(|o| o.name.eq_ignore_ascii_case(&idp.name))
                    .unwrap_or_default();
                (
                    format!("{iat}.name"),
                    format!(
                        "identity provider {:?} is also declared at {at}.identity_providers[{first}]",
                        idp.name
                    ),
                    fix,
                )
            }
            (Rule::Reserved, "name") if is_social_refusal(&e, record) => (
                format!("{iat}.name"),
                e.message,
                format!(
                    "use preset = \"{}\" for it, or give this OIDC provider another name",
                    social_preset(&idp.name)
                ),
            ),
            (Rule::Reserved, "name") if is_required_name_refusal(&e, record) => {
                let required = record.provider_type.required_name().unwrap_or_default();
                (
                    format!("{iat}.name"),
                    format!(
                        "the {} preset's provider must be named {required:?} (Cognito's name \
                         for it)",
                        idp.preset
                    ),
                    fix,
                )
            }
            (Rule::Duplicate, "identifiers") => {
                let message = first_claim(places, key)
                    .map(|(identifier, first)| {
                        format!("identifier {identifier:?} is also claimed at {first}")
                    })
                    .unwrap_or(e.message);
                (
                    format!("{iat}.{key}"),
                    message,
                    "an identifier routes sign-ins to one identity provider: keep it on one"
                        .to_string(),
                )
            }
            (Rule::Missing, "protocol") if key == "issuer" => (
                iat.to_string(),
                format!(
                    "missing key `issuer`: the {} preset needs the provider's issuer (its \
                     discovery document is read from <issuer>/.well-known/openid-configuration)",
                    idp.preset
                ),
                fix,
            ),
            (Rule::Invalid, "protocol") if key == "scopes" => (
                format!("{iat}.scopes"),
                e.message,
                "remove the key to use the preset's scopes".to_string(),
            ),
            _ => (format!("{iat}.{key}"), e.message, fix),
        };
        c.error(path, message, fix);
    }
}

/// For a refused `identifiers[n]` of the declaration: the identifier and where it was
/// first claimed (an earlier provider's key, or an earlier entry of this one).
fn first_claim(places: &Places<'_>, key: &str) -> Option<(String, String)> {
    let n: usize = key
        .strip_prefix("identifiers[")?
        .strip_suffix(']')?
        .parse()
        .ok()?;
    let identifier = places.idp.identifiers.get(n)?;
    let wanted = identifier.to_lowercase();
    let earlier = places.pool.identity_providers[..places.index]
        .iter()
        .enumerate()
        .find_map(|(j, p)| {
            p.identifiers
                .iter()
                .position(|i| i.to_lowercase() == wanted)
                .map(|m| format!("{}.identity_providers[{j}].identifiers[{m}]", places.at))
        });
    let first = earlier.or_else(|| {
        places.idp.identifiers[..n]
            .iter()
            .position(|i| i.to_lowercase() == wanted)
            .map(|m| format!("{}.identifiers[{m}]", places.iat))
    })?;
    Some((identifier.clone(), first))
}

/// Automatic account linking trusts only verified addresses, so it needs a provider whose
/// emails can count as verified: one that maps `email` and either sends `email_verified`
/// or is declared `emails_verified`, and that is authorized for some domain (its
/// identifiers, or `link_by_email`). Without one the option would silently never link.
fn check_linking(c: &mut Checker<'_>, at: &str, pool: &PoolDecl) {
    let vouches = |p: &IdentityProvider| {
        let mapped = |attribute: &str| {
            p.attribute_mapping
                .get(attribute)
                .is_some_and(|claim| !claim.is_empty())
        };
        mapped("email")
            && (p.emails_verified || mapped("email_verified"))
            && (p.link_by_email || !p.identifiers.is_empty())
    };
    let any = pool
        .identity_providers
        .iter()
        .filter_map(|idp| idp.to_record(None, None, 0, None))
        .any(|p| vouches(&p));
    if !any {
        c.error(
            format!("{at}.link_federated_users_by_email"),
            "no identity provider of this pool can vouch for an email address (none maps \
             `email` with an `email_verified` claim or `emails_verified = true`, and is \
             authorized for a domain by its identifiers or link_by_email = true), so no \
             account would ever be linked",
            "declare a provider that sends email_verified (the google, apple and oidc presets \
             map it) and list its email domains in identifiers (an enterprise OIDC provider \
             links only those), set emails_verified = true on a provider you trust to verify \
             addresses, or remove link_federated_users_by_email",
        );
    }
}

fn social_preset(name: &str) -> &'static str {
    match name.to_ascii_lowercase().as_str() {
        "google" => "google",
        "signinwithapple" => "apple",
        "facebook" => "facebook",
        _ => "amazon",
    }
}

/// Secrets come from the environment: a literal in the file is refused, whatever the
/// provider.
fn check_literal_secrets(c: &mut Checker<'_>, iat: &str, idp: &IdpDecl) {
    for (present, key, var_key) in [
        (
            idp.literal_client_secret.is_some(),
            "client_secret",
            "client_secret_env",
        ),
        (
            idp.literal_private_key.is_some(),
            "private_key",
            "private_key_env",
        ),
    ] {
        if present {
            c.error(
                format!("{iat}.{key}"),
                format!(
                    "secrets are not accepted in the configuration file (it is usually \
                     committed to version control): {key} cannot be written here"
                ),
                format!(
                    "remove this line; put the value in an environment variable and name it \
                     with {var_key} = \"MY_VARIABLE\""
                ),
            );
        }
    }
}

/// Each kind of OAuth provider names the variables its credentials come from (Apple a
/// `.p8` key with its team and key ids, the others a secret). The ids' shape is the
/// core's rule on the record.
fn check_credentials(c: &mut Checker<'_>, iat: &str, idp: &IdpDecl) {
    for (key, var) in [
        ("client_secret_env", &idp.client_secret_env),
        ("private_key_env", &idp.private_key_env),
    ] {
        if let Some(var) = var {
            if !valid_env_name(var) {
                c.error(
                    format!("{iat}.{key}"),
                    format!(
                        "{var:?} is not an environment variable name (letters, digits and _, \
                         not starting with a digit); it names the variable holding the secret, \
                         not the secret itself"
                    ),
                    format!("write e.g. {key} = \"GOOGLE_CLIENT_SECRET\""),
                );
            }
        }
    }
    if idp.uses_apple_key() {
        let missing = [
            ("team_id", idp.team_id.is_none(), "team_id = \"ABCDE12345\""),
            ("key_id", idp.key_id.is_none(), "key_id = \"ABC123DEFG\""),
            (
                "private_key_env",
                idp.private_key_env.is_none(),
                "private_key_env = \"APPLE_PRIVATE_KEY\"",
            ),
        ];
        for (key, absent, example) in missing {
            if absent {
                c.error(
                    iat,
                    format!(
                        "Sign in with Apple needs {key}: its client secret is a JWT signed \
                         with the .p8 key"
                    ),
                    format!("add {example}"),
                );
            }
        }
        if idp.client_secret_env.is_some() {
            c.error(
                format!("{iat}.client_secret_env"),
                "Sign in with Apple has no static client secret: Cognate mints it from the \
                 .p8 key",
                "remove client_secret_env; set team_id, key_id and private_key_env",
            );
        }
    } else {
        if idp.client_secret_env.is_none() {
            c.error(
                iat,
                "missing key `client_secret_env`: the provider's client secret is read from \
                 the environment variable it names",
                "add client_secret_env = \"MY_IDP_CLIENT_SECRET\" and set that variable",
            );
        }
        for (key, present) in [
            ("team_id", idp.team_id.is_some()),
            ("key_id", idp.key_id.is_some()),
            ("private_key_env", idp.private_key_env.is_some()),
        ] {
            if present {
                c.error(
                    format!("{iat}.{key}"),
                    format!("{key} is only for Sign in with Apple (preset \"apple\")"),
                    "remove it",
                );
            }
        }
    }
}

fn valid_env_name(var: &str) -> bool {
    var.chars()
        .next()
        .is_some_and(|ch| ch.is_ascii_alphabetic() || ch == '_')
        && var
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || ch == '_')
}

mod saml;

pub(in crate::config::check) use saml::load_saml_metadata;

#[cfg(test)]
mod tests;
