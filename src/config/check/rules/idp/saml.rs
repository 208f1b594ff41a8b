//! The declaration rules of SAML 2.0 providers (`preset = "saml"`): the IdP's metadata,
//! given once (inline, as a file, or as a URL) and read before the rules run (a URL's
//! form only: `check-config` does not fetch it; applying does); no OAuth key on a SAML
//! provider and no SAML key on an OAuth one (a setting is a promise: one the provider
//! would not read is refused, not ignored); and the core's errors on what came from the
//! metadata placed on the key that gave it.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::super::super::Checker;
use crate::config::decl::{IdpDecl, PoolDecl};
use crate::config::Config;
use crate::core::admin::FieldError;
use crate::core::model::{IdentityProvider, Protocol};
use crate::federation::presets;
use crate::federation::saml::metadata::{self, MetadataError, MAX_METADATA_BYTES};
use crate::federation::saml::unsolicited;

/// The SAML keys of a declaration, and whether each is written.
fn saml_keys(idp: &IdpDecl) -> [(&'static str, bool); 12] {
    [
        ("metadata", idp.metadata.is_some()),
        ("metadata_file", idp.metadata_file.is_some()),
        ("metadata_url", idp.metadata_url.is_some()),
        ("metadata_refresh_secs", idp.metadata_refresh_secs.is_some()),
        ("user_id_attribute", idp.user_id_attribute.is_some()),
        ("allow_sha1", idp.allow_sha1.is_some()),
        ("allow_aes_cbc", idp.allow_aes_cbc.is_some()),
        ("request_binding", idp.request_binding.is_some()),
        ("sign_requests", idp.sign_requests.is_some()),
        ("groups_attribute", idp.groups_attribute.is_some()),
        ("group_mapping", idp.group_mapping.is_some()),
        ("idp_initiated", idp.idp_initiated.is_some()),
    ]
}

/// The OAuth 2.0 / OpenID Connect keys of a declaration, whether each is written, and
/// what a SAML provider takes instead, if anything.
fn oauth_keys(idp: &IdpDecl) -> Vec<(&'static str, bool, &'static str)> {
    let e = &idp.endpoints;
    let none = "remove it";
    vec![
        ("client_id", !idp.client_id.is_empty(), none),
        ("client_secret_env", idp.client_secret_env.is_some(), none),
        ("team_id", idp.team_id.is_some(), none),
        ("key_id", idp.key_id.is_some(), none),
        ("private_key_env", idp.private_key_env.is_some(), none),
        ("hosted_domain", idp.hosted_domain.is_some(), none),
        (
            "issuer",
            idp.issuer.is_some(),
            "remove it; the IdP's entity id comes from its metadata",
        ),
        ("issuer_aliases", idp.issuer_aliases.is_some(), none),
        (
            "endpoints",
            e.authorize.is_some()
                || e.token.is_some()
                || e.userinfo.is_some()
                || e.jwks.is_some()
                || e.profile.is_some(),
            "remove it; the IdP's SSO endpoints come from its metadata",
        ),
        ("scopes", idp.scopes.is_some(), none),
        ("pkce", idp.pkce.is_some(), none),
        ("response_mode", idp.response_mode.is_some(), none),
        (
            "token_endpoint_auth_method",
            idp.token_endpoint_auth_method.is_some(),
            none,
        ),
        (
            "subject_claim",
            idp.subject_claim.is_some(),
            "remove it; the user id is the NameID, or the attribute named by \
             user_id_attribute",
        ),
        ("fetch_userinfo", idp.fetch_userinfo.is_some(), none),
        ("quirks", idp.quirks.is_some(), none),
    ]
}

/// Reads the metadata of every SAML provider declared (inline, or the file named,
/// relative to `base`), keeping it on the declaration; a missing, unreadable or refused
/// document is a diagnostic on the key that gave it, with the parser's reason. Both or
/// neither of the keys is [`check_keys`]' to report.
pub(in crate::config::check) fn load_saml_metadata(
    c: &mut Checker<'_>,
    config: &mut Config,
    base: Option<&Path>,
) {
    for (i, pool) in config.pools.iter_mut().enumerate() {
        for (j, idp) in pool.identity_providers.iter_mut().enumerate() {
            if !idp.is_saml() {
                continue;
            }
            let at = format!("pools[{i}].identity_providers[{j}]");
            let (key, xml) = match (&idp.metadata, &idp.metadata_file) {
                (Some(xml), None) => ("metadata", xml.clone()),
                (None, Some(file)) => match read_metadata_file(file, base) {
                    Ok(xml) => ("metadata_file", xml),
                    Err(message) => {
                        c.error(
                            format!("{at}.metadata_file"),
                            message,
                            "check the path (relative to the configuration file's directory) \
                             and the file's permissions; save the IdP's metadata XML there",
                        );
                        continue;
                    }
                },
                _ => continue,
            };
            match metadata::parse(&xml) {
                Ok(parsed) => idp.saml_metadata = Some(parsed),
                Err(e) => {
                    let what = match &idp.metadata_file {
                        Some(file) if key == "metadata_file" => format!("metadata file {file:?}"),
                        _ => "the inline metadata".to_string(),
                    };
                    c.error(
                        format!("{at}.{key}"),
                        format!("{what} is refused: {e}"),
                        metadata_fix(&e),
                    );
                }
            }
        }
    }
}

/// The metadata file's text, at most [`MAX_METADATA_BYTES`] read.
fn read_metadata_file(file: &str, base: Option<&Path>) -> Result<String, String> {
    let path = match base {
        Some(base) if Path::new(file).is_relative() => base.join(file),
        _ => PathBuf::from(file),
    };
    let shown = path.display();
    let cannot = |e: std::io::Error| format!("cannot read metadata file {file:?} ({shown}): {e}");
    let handle = std::fs::File::open(&path).map_err(cannot)?;
    let mut bytes = Vec::new();
    handle
        .take(MAX_METADATA_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() > MAX_METADATA_BYTES {
        return Err(format!(
            "metadata file {file:?} ({shown}) is larger than {MAX_METADATA_BYTES} bytes; \
             it is not one IdP's metadata"
        ));
    }
    String::from_utf8(bytes)
        .map_err(|_| format!("metadata file {file:?} ({shown}) is not UTF-8 text"))
}

/// What to do about refused metadata.
fn metadata_fix(e: &MetadataError) -> &'static str {
    match e {
        MetadataError::SeveralIdentityProviders(_) => {
            "give the metadata of one IdP: save its EntityDescriptor alone"
        }
        MetadataError::NoSigningCertificate(_) | MetadataError::BadCertificate { .. } => {
            "download the metadata again from the IdP; its signing certificate must be an RSA \
             key of 2048 bits or more (rotate it at the IdP if it is shorter)"
        }
        MetadataError::NoSsoEndpoint(_) => {
            "enable SP-initiated sign-in at the IdP (an HTTP-Redirect or HTTP-POST SSO \
             endpoint) and download its metadata again"
        }
        _ => {
            "give the IdP's SAML 2.0 metadata XML as the IdP publishes it (its metadata URL, \
              saved to a file)"
        }
    }
}

/// The declaration's protocol keys: `protocol` agrees with the preset; a SAML provider
/// has its metadata once and no OAuth key; an OAuth provider no SAML key and a client id.
/// Returns false when `protocol` contradicts the preset (reported): the declaration's
/// other keys are then not checked against either protocol.
pub(super) fn check_keys(c: &mut Checker<'_>, iat: &str, idp: &IdpDecl) -> bool {
    let preset_saml =
        presets::get(&idp.preset).is_some_and(|preset| preset.protocol == Protocol::Saml);
    // A protocol the preset does not speak: the other keys are not checked against
    // either protocol until that is settled.
    match idp.protocol {
        Some(p) if preset_saml && p != Protocol::Saml => {
            c.error(
                format!("{iat}.protocol"),
                "the saml preset's providers speak SAML 2.0; protocol cannot change that",
                "remove protocol, or use the oidc preset for an OpenID Connect provider",
            );
            return false;
        }
        Some(Protocol::Saml) if !preset_saml && presets::get(&idp.preset).is_some() => {
            c.error(
                format!("{iat}.protocol"),
                "a SAML 2.0 provider is declared with the saml preset, from its IdP's metadata",
                "write preset = \"saml\" and remove protocol",
            );
            return false;
        }
        _ => {}
    }
    if idp.is_saml() {
        for (key, written, fix) in oauth_keys(idp) {
            if written {
                c.error(
                    format!("{iat}.{key}"),
                    format!(
                        "{key} is an OAuth 2.0 / OpenID Connect setting; a SAML provider does \
                         not read it"
                    ),
                    fix,
                );
            }
        }
        let given: Vec<&str> = [
            ("metadata", idp.metadata.is_some()),
            ("metadata_file", idp.metadata_file.is_some()),
            ("metadata_url", idp.metadata_url.is_some()),
        ]
        .into_iter()
        .filter_map(|(key, written)| written.then_some(key))
        .collect();
        match given.as_slice() {
            [] => c.error(
                iat,
                "missing key `metadata_file`: a SAML provider is declared from its IdP's \
                 metadata XML",
                "add metadata_file = \"idp-metadata.xml\" (relative to this file), \
                 metadata_url = \"https://idp.example.com/metadata\" (fetched when the file \
                 is applied and refreshed), or the XML inline as \
                 metadata = \"\"\"<md:EntityDescriptor ...>\"\"\"",
            ),
            [_] => {}
            [.., last] => c.error(
                format!("{iat}.{last}"),
                format!(
                    "the IdP's metadata is given {}: {}",
                    if given.len() == 2 {
                        "twice"
                    } else {
                        "three times"
                    },
                    given.join(" and ")
                ),
                "keep one of them",
            ),
        }
        let wants_signed = idp
            .saml_metadata
            .as_ref()
            .is_some_and(|m| m.want_authn_requests_signed);
        if wants_signed && idp.sign_requests == Some(false) {
            c.error(
                format!("{iat}.sign_requests"),
                "the IdP's metadata says it wants signed AuthnRequests \
                 (WantAuthnRequestsSigned), so it would refuse unsigned ones",
                "remove sign_requests = false",
            );
        }
    } else if idp.protocol().is_some() {
        let speaks = match idp.protocol() {
            Some(Protocol::Oauth2) => "OAuth 2.0",
            _ => "OpenID Connect",
        };
        for (key, written) in saml_keys(idp) {
            if written {
                c.error(
                    format!("{iat}.{key}"),
                    format!(
                        "{key} is a SAML setting; this {} provider speaks {speaks} and does \
                         not read it",
                        idp.preset
                    ),
                    "remove it (a SAML 2.0 provider is declared with preset = \"saml\")",
                );
            }
        }
        if idp.client_id.is_empty() {
            c.error(
                iat,
                format!(
                    "missing key `client_id`: the {} preset's provider needs the client id it \
                     issued to Cognate",
                    idp.preset
                ),
                "add client_id = \"...\" (Apple: the Services ID)",
            );
        }
    }
    true
}

/// `idp_initiated` of every SAML provider of the pool: the named client is declared in
/// this pool with its `id`, and passes Cognito's rules for an IdP-initiated target
/// ([`unsolicited::target_problems`]), each refusal placed on the key at fault.
/// `providers` are the pool's providers, resolved.
pub(super) fn check_idp_initiated(
    c: &mut Checker<'_>,
    at: &str,
    pool: &PoolDecl,
    providers: &[IdentityProvider],
) {
    for (k, idp) in pool.identity_providers.iter().enumerate() {
        let Some(target) = idp.idp_initiated.as_ref().filter(|_| idp.is_saml()) else {
            continue;
        };
        let key = format!("{at}.identity_providers[{k}].idp_initiated");
        let client = pool
            .clients
            .iter()
            .find(|cl| cl.id.as_deref() == Some(target.client_id.as_str()))
            .map(|cl| cl.to_record(&target.client_id, &pool_id(pool), None, 0, None));
        for p in unsolicited::target_problems(target, &idp.name, client.as_ref(), providers) {
            let fix = if client.is_none() {
                "name the id of a client declared in this pool (write id = \"...\" on the \
                 client)"
                    .to_string()
            } else {
                p.fix
            };
            c.error(format!("{key}.{}", p.key), p.message, fix);
        }
    }
}

fn pool_id(pool: &PoolDecl) -> String {
    pool.id
        .clone()
        .unwrap_or_else(|| super::super::CHECKED_POOL_ID.to_string())
}

/// The core's errors on a SAML provider as the file's: those on values that came from the
/// metadata are placed on the key that gave it (and dropped when the metadata was refused,
/// which is reported already); the client id's, reported by [`check_keys`], are dropped.
pub(super) fn place_errors(idp: &IdpDecl, errors: Vec<FieldError>) -> Vec<FieldError> {
    let top = |path: &str| -> String {
        let field = path.strip_prefix("protocol.").unwrap_or("");
        field.split(['.', '[']).next().unwrap_or(field).to_string()
    };
    let key = if idp.metadata_url.is_some() {
        "metadata_url"
    } else if idp.metadata_file.is_some() {
        "metadata_file"
    } else {
        "metadata"
    };
    errors
        .into_iter()
        .filter(|e| e.field() != "client_id")
        .filter_map(|mut e| {
            let top = top(&e.path);
            let from_metadata = matches!(
                top.as_str(),
                "entity_id"
                    | "sso_redirect_url"
                    | "sso_post_url"
                    | "slo_redirect_url"
                    | "signing_certificates"
            );
            // Checked against metadata that was refused, the binding says nothing new.
            if from_metadata || top == "request_binding" {
                idp.saml_metadata.as_ref()?;
            }
            if from_metadata || (top == "request_binding" && idp.request_binding.is_none()) {
                e.path = key.to_string();
                e.message = format!("the IdP's metadata: {}", e.message);
            }
            Some(e)
        })
        .collect()
}

#[cfg(test)]
mod tests;
