//! The rules of `[[pools.identity_providers]]`. Names and identifiers follow Cognito's
//! CreateIdentityProvider; everything else is checked on the provider as it resolves
//! (preset plus overrides), so an override that breaks the preset is caught too.

use std::collections::HashMap;

use super::super::{is_loopback, Checker};
use crate::config::decl::{IdpDecl, PoolDecl};
use crate::core::attributes::STANDARD_ATTRIBUTES;
use crate::core::model::{IdentityProvider, ProtocolSettings, ProviderType, Quirk};
use crate::federation::presets;

/// Cognito's limit on provider names.
const MAX_NAME_LEN: usize = 32;
/// Cognito's limits on `IdpIdentifiers`.
const MAX_IDENTIFIERS: usize = 50;
const MAX_IDENTIFIER_LEN: usize = 40;

pub(super) fn check_identity_providers(c: &mut Checker<'_>, at: &str, pool: &PoolDecl) {
    let mut names: HashMap<String, usize> = HashMap::new();
    let mut identifiers: HashMap<String, String> = HashMap::new();
    for (k, idp) in pool.identity_providers.iter().enumerate() {
        let iat = format!("{at}.identity_providers[{k}]");
        check_name(c, &iat, idp);
        if let Some(first) = names.insert(idp.name.to_lowercase(), k) {
            c.error(
                format!("{iat}.name"),
                format!(
                    "identity provider {:?} is also declared at {at}.identity_providers[{first}]",
                    idp.name
                ),
                "give each identity provider of a pool its own name (names differing only in \
                 case collide: federated usernames are <name>_<id>)",
            );
        }
        for (n, identifier) in idp.identifiers.iter().enumerate() {
            let nat = format!("{iat}.identifiers[{n}]");
            if !valid_identifier(identifier) {
                c.error(
                    nat,
                    format!(
                        "{identifier:?} is not an identifier: use 1 to {MAX_IDENTIFIER_LEN} \
                         letters, digits and . _ - @ + = (usually an email domain)"
                    ),
                    "write e.g. identifiers = [\"example.com\"]",
                );
            } else if let Some(first) = identifiers.insert(identifier.to_lowercase(), nat.clone()) {
                c.error(
                    nat,
                    format!("identifier {identifier:?} is also claimed at {first}"),
                    "an identifier routes sign-ins to one identity provider: keep it on one",
                );
            }
        }
        if idp.identifiers.len() > MAX_IDENTIFIERS {
            c.error(
                format!("{iat}.identifiers"),
                format!("at most {MAX_IDENTIFIERS} identifiers are allowed"),
                "remove identifiers",
            );
        }
        let Some(preset) = presets::get(&idp.preset) else {
            c.error(
                format!("{iat}.preset"),
                format!("{:?} is not a provider preset", idp.preset),
                format!("use one of: {}", presets::names().join(", ")),
            );
            continue;
        };
        if let Some(required) = preset.provider_type.required_name() {
            if idp.name != required {
                c.error(
                    format!("{iat}.name"),
                    format!(
                        "the {} preset's provider must be named {required:?} (Cognito's name \
                         for it)",
                        idp.preset
                    ),
                    format!("write name = \"{required}\""),
                );
            }
        }
        check_credentials(c, &iat, idp);
        check_display_name(c, &iat, idp);
        if let Some(resolved) = idp.to_record(None, None, 0, None) {
            check_resolved(c, &iat, pool, idp, &resolved);
        }
    }
    if pool.link_federated_users_by_email {
        check_linking(c, at, pool);
    }
}

/// Automatic account linking trusts only verified addresses, so it needs a provider whose
/// emails can count as verified: one that maps `email` and either sends `email_verified`
/// or is declared `emails_verified`. Without one the option would silently never link.
fn check_linking(c: &mut Checker<'_>, at: &str, pool: &PoolDecl) {
    let vouches = |p: &IdentityProvider| {
        let mapped = |attribute: &str| {
            p.attribute_mapping
                .get(attribute)
                .is_some_and(|claim| !claim.is_empty())
        };
        mapped("email") && (p.emails_verified || mapped("email_verified"))
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
             `email` with an `email_verified` claim or `emails_verified = true`), so no \
             account would ever be linked",
            "declare a provider that sends email_verified (the google, apple and oidc presets \
             map it), set emails_verified = true on a provider you trust to verify addresses, \
             or remove link_federated_users_by_email",
        );
    }
}

fn check_name(c: &mut Checker<'_>, iat: &str, idp: &IdpDecl) {
    let valid = (1..=MAX_NAME_LEN).contains(&idp.name.chars().count())
        && idp
            .name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-'));
    if !valid {
        c.error(
            format!("{iat}.name"),
            format!(
                "{:?} is not a provider name: use 1 to {MAX_NAME_LEN} letters, digits, _ . or -",
                idp.name
            ),
            "write e.g. name = \"Okta\"",
        );
    } else if idp.name.eq_ignore_ascii_case("COGNITO") {
        c.error(
            format!("{iat}.name"),
            "COGNITO is the pool's own directory, not an identity provider name",
            "choose another name, e.g. name = \"Corporate\"",
        );
    } else if presets::get(&idp.preset).is_some_and(|p| p.provider_type == ProviderType::Oidc)
        && [
            ProviderType::Google,
            ProviderType::SignInWithApple,
            ProviderType::Facebook,
            ProviderType::LoginWithAmazon,
        ]
        .iter()
        .any(|t| t.as_str().eq_ignore_ascii_case(&idp.name))
    {
        c.error(
            format!("{iat}.name"),
            format!(
                "{:?} is reserved for the social provider of that name (Cognito rule)",
                idp.name
            ),
            format!(
                "use preset = \"{}\" for it, or give this OIDC provider another name",
                social_preset(&idp.name)
            ),
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

/// An `IdpIdentifiers` entry: Cognito's `[\w\s+=.@-]+` without spaces.
fn valid_identifier(text: &str) -> bool {
    (1..=MAX_IDENTIFIER_LEN).contains(&text.chars().count())
        && text
            .chars()
            .all(|ch| ch.is_alphanumeric() || matches!(ch, '_' | '.' | '-' | '@' | '+' | '='))
}

/// Secrets come from the environment: a literal in the file is refused, and each kind of
/// provider names the variables it needs (Apple a `.p8` key, the others a secret).
fn check_credentials(c: &mut Checker<'_>, iat: &str, idp: &IdpDecl) {
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
    if idp.client_id.trim().is_empty() || idp.client_id.chars().count() > 256 {
        c.error(
            format!("{iat}.client_id"),
            "client_id must have 1 to 256 characters",
            "write the client id (Apple: the Services ID) the provider issued",
        );
    }
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
        for (key, value) in [("team_id", &idp.team_id), ("key_id", &idp.key_id)] {
            if let Some(v) = value {
                if v.len() != 10 || !v.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                    c.error(
                        format!("{iat}.{key}"),
                        format!("{v:?} is not an Apple {key}: Apple's are 10 letters and digits"),
                        "copy it from the Apple developer account (Membership, or Keys)",
                    );
                }
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

fn check_display_name(c: &mut Checker<'_>, iat: &str, idp: &IdpDecl) {
    if let Some(name) = &idp.display_name {
        if name.trim().is_empty() || name.chars().count() > 128 {
            c.error(
                format!("{iat}.display_name"),
                "display_name must have 1 to 128 characters",
                "write e.g. display_name = \"Corporate login\"",
            );
        }
    }
}

/// The provider as it resolves must be usable: well-formed URLs, what its protocol needs,
/// and a mapping onto attributes the pool has.
fn check_resolved(
    c: &mut Checker<'_>,
    iat: &str,
    pool: &PoolDecl,
    idp: &IdpDecl,
    resolved: &IdentityProvider,
) {
    if let Some(issuer) = &idp.issuer {
        if let Err(message) = check_idp_url(issuer) {
            c.error(
                format!("{iat}.issuer"),
                message,
                "write the issuer exactly as the provider's ID tokens carry it in `iss`, e.g. \
                 issuer = \"https://login.example.com\"",
            );
        }
    }
    if let Some(aliases) = &idp.issuer_aliases {
        for (n, alias) in aliases.iter().enumerate() {
            if alias.trim().is_empty() || alias.chars().any(char::is_whitespace) {
                c.error(
                    format!("{iat}.issuer_aliases[{n}]"),
                    format!("{alias:?} is not an issuer"),
                    "write another spelling of `iss` the provider uses, e.g. \
                     \"accounts.google.com\"",
                );
            }
        }
    }
    let e = &idp.endpoints;
    for (key, value) in [
        ("authorize", &e.authorize),
        ("token", &e.token),
        ("userinfo", &e.userinfo),
        ("jwks", &e.jwks),
        ("profile", &e.profile),
    ] {
        if let Some(url) = value {
            if let Err(message) = check_idp_url(url) {
                c.error(
                    format!("{iat}.endpoints.{key}"),
                    message,
                    "write an https URL (http only on localhost, 127.x.x.x or [::1])",
                );
            }
        }
    }
    match &resolved.protocol {
        ProtocolSettings::Oidc(oidc) if oidc.issuer.is_none() => c.error(
            iat,
            format!(
                "missing key `issuer`: the {} preset needs the provider's issuer (its \
                 discovery document is read from <issuer>/.well-known/openid-configuration)",
                idp.preset
            ),
            "add issuer = \"https://login.example.com\"",
        ),
        ProtocolSettings::OAuth2(oauth2) => {
            let ep = &oauth2.endpoints;
            for (key, value) in [
                ("authorize", &ep.authorize),
                ("token", &ep.token),
                ("profile", &ep.profile),
            ] {
                if value.is_none() {
                    c.error(
                        format!("{iat}.endpoints"),
                        format!("a plain OAuth 2.0 provider needs the {key} endpoint"),
                        format!("add endpoints = {{ {key} = \"https://...\" }}"),
                    );
                }
            }
        }
        ProtocolSettings::Oidc(_) => {}
    }
    if let Some(scopes) = &idp.scopes {
        if scopes.is_empty() {
            c.error(
                format!("{iat}.scopes"),
                "scopes cannot be empty",
                "remove the key to use the preset's scopes",
            );
        }
        for (n, scope) in scopes.iter().enumerate() {
            let printable = !scope.is_empty()
                && scope
                    .chars()
                    .all(|ch| ch.is_ascii_graphic() && ch != '"' && ch != '\\');
            if !printable {
                c.error(
                    format!("{iat}.scopes[{n}]"),
                    format!("{scope:?} is not a scope (RFC 6749 section 3.3)"),
                    "write each scope as its own string, e.g. scopes = [\"openid\", \"email\"]",
                );
            }
        }
    }
    if idp.subject_claim.as_deref().is_some_and(str::is_empty) {
        c.error(
            format!("{iat}.subject_claim"),
            "subject_claim cannot be empty",
            "write the claim holding the user id, e.g. subject_claim = \"sub\"",
        );
    }
    for (attribute, path) in &idp.attribute_mapping {
        let known = match attribute.strip_prefix("custom:") {
            Some(custom) => pool.custom_attributes.iter().any(|a| a.name == custom),
            None => STANDARD_ATTRIBUTES.contains(&attribute.as_str()),
        };
        if !known {
            c.error(
                format!("{iat}.attribute_mapping.{attribute}"),
                format!("{attribute:?} is not an attribute of this pool"),
                "map onto a standard attribute (email, name, ...) or custom:<name> of a \
                 declared custom attribute (quote it: \"custom:tenant\" = \"tid\")",
            );
        }
        if path.chars().any(char::is_whitespace) {
            c.error(
                format!("{iat}.attribute_mapping.{attribute}"),
                format!("{path:?} is not a claim path"),
                "write the upstream claim, dotted for nested ones: \"picture.data.url\"",
            );
        }
    }
    if let Some(domain) = &idp.hosted_domain {
        if !resolved.has_quirk(Quirk::GoogleHd) {
            c.error(
                format!("{iat}.hosted_domain"),
                "hosted_domain restricts Google sign-in to a Workspace domain; this provider \
                 is not Google",
                "remove it",
            );
        } else if !valid_domain(domain) {
            c.error(
                format!("{iat}.hosted_domain"),
                format!("{domain:?} is not a domain name"),
                "write the Workspace domain, e.g. hosted_domain = \"example.com\"",
            );
        }
    }
}

/// An IdP URL: absolute, no fragment, https except http on a loopback host.
fn check_idp_url(text: &str) -> Result<(), String> {
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
            "{text:?} uses http, allowed only for a loopback host (a local test provider); \
             identity providers are reached over https"
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

#[cfg(test)]
mod tests;
