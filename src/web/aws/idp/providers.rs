//! A pool's identity providers: CreateIdentityProvider, DescribeIdentityProvider,
//! UpdateIdentityProvider, DeleteIdentityProvider, ListIdentityProviders,
//! GetIdentityProviderByIdentifier.
//!
//! Cognito's `ProviderType` and `ProviderDetails` are read into a declaration of the
//! provider's preset (`google`, `facebook`, `amazon`, `apple`, `oidc`, `saml`), resolved as
//! the configuration file's `[[pools.identity_providers]]` are, with the credentials
//! sealed under the master key; the administration service checks and stores the record
//! ([`crate::core::admin::identity_providers`]). A key Cognito does not define for the
//! type, or a value Cognate cannot honour, is refused naming the key. Describe renders
//! the keys Cognito adds itself from the record (the endpoints Cognate calls), never a
//! secret.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Map, Value};

use super::{epoch, invalid, not_found, optional, optional_int, pool, required, string_list};
use crate::config::decl::{EndpointsDecl, IdpDecl};
use crate::core::admin::identity_providers::MAX_IDENTITY_PROVIDERS;
use crate::core::admin::{AdminError, AdminService, RecordKind, Rule};
use crate::core::model::{
    IdentityProvider, Origin, PageRequest, ProtocolSettings, ProviderType, SamlBinding,
    SamlSettings, UserPool,
};
use crate::core::secrets::{idp_secret_context, EncryptedSecret};
use crate::federation::oauth::apple;
use crate::federation::saml::metadata::{self, IdpMetadata};
use crate::federation::saml::remote;
use crate::federation::saml::sp::xml_escape;
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// Cognito's `MaxResults` of ListIdentityProviders: 1 to 60, 60 when absent.
const MAX_RESULTS: i64 = 60;

/// The SAML NameID, as Cognito's `AttributeMapping` names it for `username`.
const NAME_ID: &str = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier";

/// The `ProviderDetails` keys a caller gives for a type, and those Cognito adds itself
/// (accepted back only unchanged, so a Describe answer can be sent to Update).
fn detail_keys(t: ProviderType) -> (&'static [&'static str], &'static [&'static str]) {
    match t {
        ProviderType::Google => (
            &["client_id", "client_secret", "authorize_scopes"],
            &[
                "authorize_url",
                "token_url",
                "attributes_url",
                "attributes_url_add_attributes",
                "token_request_method",
                "oidc_issuer",
            ],
        ),
        ProviderType::Facebook => (
            &[
                "client_id",
                "client_secret",
                "authorize_scopes",
                "api_version",
            ],
            &[
                "authorize_url",
                "token_url",
                "attributes_url",
                "attributes_url_add_attributes",
                "token_request_method",
            ],
        ),
        ProviderType::LoginWithAmazon => (
            &["client_id", "client_secret", "authorize_scopes"],
            &[
                "authorize_url",
                "token_url",
                "attributes_url",
                "attributes_url_add_attributes",
                "token_request_method",
            ],
        ),
        ProviderType::SignInWithApple => (
            &[
                "client_id",
                "team_id",
                "key_id",
                "private_key",
                "authorize_scopes",
            ],
            &[
                "authorize_url",
                "token_url",
                "oidc_issuer",
                "token_request_method",
            ],
        ),
        ProviderType::Oidc => (
            &[
                "client_id",
                "client_secret",
                "attributes_request_method",
                "oidc_issuer",
                "authorize_scopes",
                "authorize_url",
                "token_url",
                "attributes_url",
                "jwks_uri",
            ],
            &["attributes_url_add_attributes", "token_request_method"],
        ),
        ProviderType::Saml => (
            &[
                "MetadataFile",
                "MetadataURL",
                "IDPSignout",
                "EncryptedResponses",
                "RequestSigningAlgorithm",
                "IDPInit",
            ],
            &["SSORedirectBindingURI", "SLORedirectBindingURI"],
        ),
    }
}

fn provider_type_of(text: &str) -> Option<ProviderType> {
    Some(match text {
        "Google" => ProviderType::Google,
        "Facebook" => ProviderType::Facebook,
        "LoginWithAmazon" => ProviderType::LoginWithAmazon,
        "SignInWithApple" => ProviderType::SignInWithApple,
        "OIDC" => ProviderType::Oidc,
        "SAML" => ProviderType::Saml,
        _ => return None,
    })
}

fn preset_of(t: ProviderType) -> &'static str {
    match t {
        ProviderType::Google => "google",
        ProviderType::Facebook => "facebook",
        ProviderType::LoginWithAmazon => "amazon",
        ProviderType::SignInWithApple => "apple",
        ProviderType::Oidc => "oidc",
        ProviderType::Saml => "saml",
    }
}

/// Where a record path of the service's errors is in Cognito's input; the SAML settings
/// read from the metadata are the key it was given by (`MetadataFile` or `MetadataURL`).
fn api_path(path: &str, metadata_key: &str) -> String {
    const PATHS: &[(&str, &str)] = &[
        ("name", "ProviderName"),
        ("identifiers", "IdpIdentifiers"),
        ("attribute_mapping", "AttributeMapping"),
        ("subject_claim", "AttributeMapping.username"),
        ("client_id", "ProviderDetails.client_id"),
        ("protocol.issuer", "ProviderDetails.oidc_issuer"),
        (
            "protocol.endpoints.authorize",
            "ProviderDetails.authorize_url",
        ),
        ("protocol.endpoints.token", "ProviderDetails.token_url"),
        (
            "protocol.endpoints.userinfo",
            "ProviderDetails.attributes_url",
        ),
        (
            "protocol.endpoints.profile",
            "ProviderDetails.attributes_url",
        ),
        ("protocol.endpoints.jwks", "ProviderDetails.jwks_uri"),
        ("protocol.scopes", "ProviderDetails.authorize_scopes"),
        ("protocol.client_secret.team_id", "ProviderDetails.team_id"),
        ("protocol.client_secret.key_id", "ProviderDetails.key_id"),
        ("protocol.client_secret", "ProviderDetails.client_secret"),
        ("protocol.metadata_url", "ProviderDetails.MetadataURL"),
        (
            "protocol.sign_requests",
            "ProviderDetails.RequestSigningAlgorithm",
        ),
        ("protocol.user_id_attribute", "AttributeMapping.username"),
        ("provider_type", "ProviderType"),
    ];
    for (ours, theirs) in PATHS {
        if let Some(rest) = path.strip_prefix(ours) {
            if rest.is_empty() || rest.starts_with(['.', '[']) {
                return format!("{theirs}{rest}");
            }
        }
    }
    match path.strip_prefix("protocol") {
        Some(rest) if rest.is_empty() || rest.starts_with('.') => {
            format!("ProviderDetails.{metadata_key}{rest}")
        }
        _ => path.to_string(),
    }
}

/// The key a SAML provider's metadata came by.
fn metadata_key(idp: &IdentityProvider) -> &'static str {
    match idp.protocol.as_saml() {
        Some(saml) if saml.metadata_url.is_some() => "MetadataURL",
        _ => "MetadataFile",
    }
}

/// The administration service's refusal in Cognito's terms: a name or identifier taken is
/// `DuplicateProviderException`, other invalid settings `InvalidParameterException` naming
/// the API member (`metadata_key`: the key a SAML provider's metadata came by).
fn admin_error(state: &AppState, call: &AwsCall, e: AdminError, metadata_key: &str) -> AwsError {
    match e {
        AdminError::Invalid { errors, .. } => {
            let message = errors
                .iter()
                .map(|f| format!("{}: {}", api_path(&f.path, metadata_key), f.message))
                .collect::<Vec<_>>()
                .join("; ");
            if errors.iter().any(|f| f.rule == Rule::Duplicate) {
                AwsError::bad_request("DuplicateProviderException", message)
            } else {
                invalid(message)
            }
        }
        e => super::admin_error(state, call, e, &NAMES),
    }
}

const NAMES: super::AdminNames = super::AdminNames {
    fields: &[],
    not_found: "Identity provider does not exist.",
    exists: (
        "DuplicateProviderException",
        "A provider with this name already exists in this user pool.",
    ),
};

fn provider_not_found(name: &str) -> AwsError {
    not_found(format!("Identity provider {name} does not exist."))
}

fn config_owned(state: &AppState, call: &AwsCall, idp: &IdentityProvider) -> Option<AwsError> {
    (idp.origin == Origin::Config).then(|| {
        admin_error(
            state,
            call,
            AdminError::ConfigOwned {
                kind: RecordKind::IdentityProvider,
                id: idp.name.clone(),
            },
            "MetadataFile",
        )
    })
}

fn existing<'a>(pool: &'a UserPool, name: &str) -> Result<&'a IdentityProvider, AwsError> {
    pool.identity_provider(name)
        .ok_or_else(|| provider_not_found(name))
}

/// `authorize_scopes`: Cognito separates them by spaces (Facebook's by commas).
fn scopes_of(text: &str) -> Vec<String> {
    text.split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A `"true"` / `"false"` SAML detail; `"true"` is refused with `why`.
fn saml_flag(details: &BTreeMap<String, String>, key: &str, why: &str) -> Result<(), AwsError> {
    match details.get(key).map(String::as_str) {
        None | Some("false") => Ok(()),
        Some("true") => Err(invalid(format!("ProviderDetails.{key}: {why}"))),
        Some(other) => Err(invalid(format!(
            "ProviderDetails.{key}: {other:?} is not \"true\" or \"false\"."
        ))),
    }
}

/// Facebook's Graph API version in the preset's endpoints, replaced by `version`.
fn with_api_version(url: &str, version: &str) -> String {
    let mut out = Vec::new();
    for segment in url.split('/') {
        if is_api_version(segment) {
            out.push(version.to_string());
        } else {
            out.push(segment.to_string());
        }
    }
    out.join("/")
}

fn is_api_version(segment: &str) -> bool {
    let Some(rest) = segment.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.split('.');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(a), Some(b), None)
            if !a.is_empty() && !b.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && b.chars().all(|c| c.is_ascii_digit())
    )
}

/// `AttributeMapping` without `username`, and `username`'s claim.
type Mapping = (BTreeMap<String, String>, Option<String>);

/// What a request says about the provider, as read from its members.
struct Requested {
    name: String,
    provider_type: ProviderType,
    details: BTreeMap<String, String>,
    mapping: Option<Mapping>,
    identifiers: Option<Vec<String>>,
}

fn read_mapping(input: &Value) -> Result<Option<Mapping>, AwsError> {
    if input.get("AttributeMapping").is_none_or(Value::is_null) {
        return Ok(None);
    }
    let mut mapping = super::string_map(input, "AttributeMapping")?;
    let username = mapping.remove("username");
    Ok(Some((mapping, username)))
}

fn read_identifiers(input: &Value) -> Result<Option<Vec<String>>, AwsError> {
    if input.get("IdpIdentifiers").is_none_or(Value::is_null) {
        return Ok(None);
    }
    Ok(Some(string_list(input, "IdpIdentifiers")?))
}

/// The record a request asks for: `details` (the whole set) resolved through the type's
/// preset, or, when `ProviderDetails` is absent on an update, the stored protocol kept.
/// Credentials and SAML metadata absent on an update keep the stored ones (Describe never
/// returns a secret, so its answer can be sent back).
async fn build(
    state: &AppState,
    call: &AwsCall,
    pool: &UserPool,
    req: &Requested,
    details_given: bool,
    stored: Option<&IdentityProvider>,
) -> Result<IdentityProvider, AwsError> {
    let t = req.provider_type;
    let mut record = match (details_given, stored) {
        (false, Some(stored)) => stored.clone(),
        _ => resolve(state, call, pool, req, stored).await?,
    };
    record.origin = Origin::Api;
    record.created_at = stored.map_or(call.now, |s| s.created_at);
    record.updated_at = call.now;
    if let Some(stored) = stored {
        record.display_name = stored.display_name.clone();
    }
    match &req.mapping {
        Some((mapping, username)) => {
            record.attribute_mapping = mapping.clone();
            set_username(&mut record, username.clone(), t);
        }
        None if stored.is_none() => {
            // Cognito maps nothing but `username` until told.
            record.attribute_mapping = BTreeMap::new();
        }
        None => {
            if let Some(stored) = stored {
                record.attribute_mapping = stored.attribute_mapping.clone();
                record.subject_claim = stored.subject_claim.clone();
                if let (ProtocolSettings::Saml(new), Some(old)) =
                    (&mut record.protocol, stored.protocol.as_saml())
                {
                    new.user_id_attribute = old.user_id_attribute.clone();
                }
            }
        }
    }
    record.identifiers = match (&req.identifiers, stored) {
        (Some(ids), _) => ids.clone(),
        (None, Some(stored)) => stored.identifiers.clone(),
        (None, None) => Vec::new(),
    };
    // The keys Cognito adds itself come back only as Describe shows them.
    if details_given {
        let (_, added) = detail_keys(t);
        let shown = details_of(&record);
        for key in added {
            if let Some(value) = req.details.get(*key) {
                if shown.get(*key) != Some(value) {
                    return Err(invalid(format!(
                        "ProviderDetails.{key}: {value:?} is not what Cognate uses for this \
                         provider; this key is set by Cognate, not by the caller."
                    )));
                }
            }
        }
    }
    Ok(record)
}

/// `username` in `AttributeMapping`: the claim holding the user id (for SAML an
/// attribute, or the NameID); without it, the type's default (the preset's claim, or the
/// NameID).
fn set_username(record: &mut IdentityProvider, username: Option<String>, t: ProviderType) {
    match &mut record.protocol {
        ProtocolSettings::Saml(saml) => {
            saml.user_id_attribute = username.filter(|u| u != NAME_ID);
        }
        _ => {
            let default = crate::federation::presets::get(preset_of(t))
                .map(|p| p.subject_claim.clone())
                .unwrap_or_else(|| "sub".to_string());
            record.subject_claim = username.unwrap_or(default);
        }
    }
}

/// `ProviderDetails` resolved through the preset into a record.
async fn resolve(
    state: &AppState,
    call: &AwsCall,
    pool: &UserPool,
    req: &Requested,
    stored: Option<&IdentityProvider>,
) -> Result<IdentityProvider, AwsError> {
    let t = req.provider_type;
    let d = &req.details;
    let (given, added) = detail_keys(t);
    for key in d.keys() {
        if !given.contains(&key.as_str()) && !added.contains(&key.as_str()) {
            return Err(invalid(format!(
                "ProviderDetails.{key}: not a key of a {t} provider (Cognito's keys for it: {}).",
                given.join(", ")
            )));
        }
    }
    let need = |key: &str| -> Result<String, AwsError> {
        match d.get(key) {
            Some(v) if !v.trim().is_empty() => Ok(v.clone()),
            _ => Err(invalid(format!(
                "ProviderDetails.{key}: a {t} provider needs it."
            ))),
        }
    };
    let master = &state.node.master;
    let context = idp_secret_context(&pool.id, &req.name);
    let mut decl = IdpDecl {
        name: req.name.clone(),
        preset: preset_of(t).to_string(),
        ..IdpDecl::default()
    };
    let mut secret: Option<EncryptedSecret> = None;
    let mut apple_key: Option<EncryptedSecret> = None;
    if t == ProviderType::Saml {
        saml_flag(
            d,
            "IDPSignout",
            "Cognate does not send SAML single logout requests to the IdP yet.",
        )?;
        saml_flag(
            d,
            "EncryptedResponses",
            "Cognate decrypts encrypted assertions whatever this says, but does not refuse \
             unencrypted ones, so it cannot promise that responses are encrypted.",
        )?;
        saml_flag(
            d,
            "IDPInit",
            "IdP-initiated sign-in needs the app client and redirect URI it lands on, which \
             only the configuration file's idp_initiated can give.",
        )?;
        match d.get("RequestSigningAlgorithm").map(String::as_str) {
            None => {}
            Some("rsa-sha256") => decl.sign_requests = Some(true),
            Some(other) => {
                return Err(invalid(format!(
                    "ProviderDetails.RequestSigningAlgorithm: {other:?} is not rsa-sha256."
                )))
            }
        }
        let parsed = match (d.get("MetadataFile"), d.get("MetadataURL")) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "ProviderDetails: give MetadataFile or MetadataURL, not both.",
                ))
            }
            (Some(xml), None) => metadata::parse(xml).map_err(|e| {
                invalid(format!(
                    "ProviderDetails.MetadataFile: not usable SAML metadata: {e}"
                ))
            })?,
            (None, Some(url)) => {
                decl.metadata_url = Some(url.clone());
                remote::fetch(&state.node.idp_http, url)
                    .await
                    .map_err(|e| invalid(format!("ProviderDetails.MetadataURL: {e}")))?
            }
            (None, None) => match stored.and_then(|s| s.protocol.as_saml()) {
                Some(saml) => {
                    decl.metadata_url = saml.metadata_url.clone();
                    IdpMetadata::from_settings(saml)
                }
                None => {
                    return Err(invalid(
                        "ProviderDetails.MetadataFile: a SAML provider needs MetadataFile or \
                         MetadataURL.",
                    ))
                }
            },
        };
        decl.saml_metadata = Some(parsed);
    } else {
        decl.client_id = need("client_id")?;
        if let Some(scopes) = d.get("authorize_scopes") {
            decl.scopes = Some(scopes_of(scopes));
        } else if t == ProviderType::Oidc {
            return Err(need("authorize_scopes").unwrap_err());
        }
        if t == ProviderType::SignInWithApple {
            decl.team_id = Some(need("team_id")?);
            decl.key_id = Some(need("key_id")?);
            apple_key = match d.get("private_key") {
                Some(pem) => {
                    apple::parse_p8(pem)
                        .map_err(|e| invalid(format!("ProviderDetails.private_key: {e}")))?;
                    Some(master.seal(&context, pem.as_bytes()))
                }
                None => match stored.and_then(|s| s.protocol.apple_key()) {
                    Some(key) => Some(key.private_key.clone()),
                    None => return Err(need("private_key").unwrap_err()),
                },
            };
        } else {
            secret = match d.get("client_secret") {
                Some(s) if !s.is_empty() => Some(master.seal(&context, s.as_bytes())),
                _ => match stored.and_then(|s| s.protocol.client_secret()) {
                    Some(sealed) => Some(sealed.clone()),
                    None => return Err(need("client_secret").unwrap_err()),
                },
            };
        }
        if t == ProviderType::Facebook {
            if let Some(version) = d.get("api_version") {
                if !is_api_version(version) {
                    return Err(invalid(format!(
                        "ProviderDetails.api_version: {version:?} is not a Graph API version \
                         such as v19.0."
                    )));
                }
                let preset = crate::federation::presets::get("facebook");
                let e = preset.map(|p| p.endpoints.clone()).unwrap_or_default();
                decl.endpoints = EndpointsDecl {
                    authorize: e.authorize.map(|u| with_api_version(&u, version)),
                    token: e.token.map(|u| with_api_version(&u, version)),
                    profile: e.profile.map(|u| with_api_version(&u, version)),
                    ..EndpointsDecl::default()
                };
            }
        }
        if t == ProviderType::Oidc {
            decl.issuer = Some(need("oidc_issuer")?);
            match d.get("attributes_request_method").map(String::as_str) {
                None | Some("GET") => {}
                Some(other) => {
                    return Err(invalid(format!(
                        "ProviderDetails.attributes_request_method: {other:?}: Cognate calls \
                         the userinfo endpoint with GET only."
                    )))
                }
            }
            decl.endpoints = EndpointsDecl {
                authorize: d.get("authorize_url").cloned(),
                token: d.get("token_url").cloned(),
                userinfo: d.get("attributes_url").cloned(),
                jwks: d.get("jwks_uri").cloned(),
                profile: None,
            };
        }
    }
    let mut record = decl
        .to_record(secret, apple_key, call.now, None)
        .ok_or_else(|| AwsError::internal(call.protocol, "a built-in preset is missing"))?;
    // The record's protocol settings are the type's; the API gives no way to change the
    // preset's other choices.
    record.provider_type = t;
    Ok(record)
}

/// `ProviderDetails` as Describe shows them: the keys of the type, with the endpoints
/// Cognate calls; never a secret (`client_secret`, `private_key`) nor the metadata XML.
fn details_of(idp: &IdentityProvider) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: Option<&str>| {
        if let Some(v) = v {
            out.insert(k.to_string(), v.to_string());
        }
    };
    match &idp.protocol {
        ProtocolSettings::Oidc(oidc) => {
            put("client_id", Some(&idp.client_id));
            put("authorize_scopes", Some(&oidc.scopes.join(" ")));
            put("authorize_url", oidc.endpoints.authorize.as_deref());
            put("token_url", oidc.endpoints.token.as_deref());
            put("oidc_issuer", oidc.issuer.as_deref());
            match idp.provider_type {
                ProviderType::SignInWithApple => {
                    if let Some(key) = idp.protocol.apple_key() {
                        put("team_id", Some(&key.team_id));
                        put("key_id", Some(&key.key_id));
                    }
                    put("token_request_method", Some("POST"));
                }
                ProviderType::Oidc => {
                    put("attributes_url", oidc.endpoints.userinfo.as_deref());
                    put("jwks_uri", oidc.endpoints.jwks.as_deref());
                    put("attributes_request_method", Some("GET"));
                    put("attributes_url_add_attributes", Some("false"));
                    put("token_request_method", Some("POST"));
                }
                _ => {
                    put("attributes_url", oidc.endpoints.userinfo.as_deref());
                    put("attributes_url_add_attributes", Some("false"));
                    put("token_request_method", Some("POST"));
                }
            }
        }
        ProtocolSettings::OAuth2(oauth2) => {
            put("client_id", Some(&idp.client_id));
            let sep = if idp.provider_type == ProviderType::Facebook {
                ","
            } else {
                " "
            };
            put("authorize_scopes", Some(&oauth2.scopes.join(sep)));
            put("authorize_url", oauth2.endpoints.authorize.as_deref());
            put("token_url", oauth2.endpoints.token.as_deref());
            put("attributes_url", oauth2.endpoints.profile.as_deref());
            put("attributes_url_add_attributes", Some("false"));
            put("token_request_method", Some("POST"));
            if idp.provider_type == ProviderType::Facebook {
                let version = oauth2
                    .endpoints
                    .token
                    .as_deref()
                    .and_then(|u| u.split('/').find(|s| is_api_version(s)));
                put("api_version", version);
            }
        }
        ProtocolSettings::Saml(saml) => {
            put("MetadataURL", saml.metadata_url.as_deref());
            if saml.metadata_url.is_none() {
                put("MetadataFile", Some(&metadata_document(saml)));
            }
            put("SSORedirectBindingURI", saml.sso_redirect_url.as_deref());
            put("SLORedirectBindingURI", saml.slo_redirect_url.as_deref());
            put("IDPSignout", Some("false"));
            put(
                "IDPInit",
                Some(if saml.idp_initiated.is_some() {
                    "true"
                } else {
                    "false"
                }),
            );
            put("EncryptedResponses", Some("false"));
            if saml.sign_requests {
                put("RequestSigningAlgorithm", Some("rsa-sha256"));
            }
        }
    }
    out
}

/// The IdP metadata Cognate holds for a provider given by `MetadataFile`, as a document:
/// its entity id, SSO and SLO endpoints, `WantAuthnRequestsSigned` (the provider's
/// `sign_requests`) and signing certificates. The file itself is not kept (its other
/// elements change nothing Cognate does); this document gives the same provider back.
fn metadata_document(saml: &SamlSettings) -> String {
    let mut services = String::new();
    let mut service = |element: &str, binding: SamlBinding, url: &Option<String>| {
        if let Some(url) = url {
            services.push_str(&format!(
                "<md:{element} Binding=\"{}\" Location=\"{}\"/>",
                binding.urn(),
                xml_escape(url)
            ));
        }
    };
    service(
        "SingleLogoutService",
        SamlBinding::Redirect,
        &saml.slo_redirect_url,
    );
    service(
        "SingleSignOnService",
        SamlBinding::Redirect,
        &saml.sso_redirect_url,
    );
    service("SingleSignOnService", SamlBinding::Post, &saml.sso_post_url);
    let keys: String = saml
        .signing_certificates
        .iter()
        .map(|cert| {
            format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data>\
                 <ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>\
                 </md:KeyDescriptor>",
                xml_escape(cert)
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><md:EntityDescriptor \
         xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" \
         xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" entityID=\"{}\">\
         <md:IDPSSODescriptor WantAuthnRequestsSigned=\"{}\" \
         protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">{keys}{services}\
         </md:IDPSSODescriptor></md:EntityDescriptor>",
        xml_escape(&saml.entity_id),
        saml.sign_requests,
    )
}

/// Cognito's `AttributeMapping`: the record's, with `username` (the user id's claim).
fn mapping_of(idp: &IdentityProvider) -> BTreeMap<String, String> {
    let mut out = idp.attribute_mapping.clone();
    let username = match idp.protocol.as_saml() {
        Some(saml) => saml
            .user_id_attribute
            .clone()
            .unwrap_or_else(|| NAME_ID.to_string()),
        None => idp.subject_claim.clone(),
    };
    out.insert("username".into(), username);
    out
}

/// Cognito's `IdentityProviderType`.
fn provider_type_out(pool: &UserPool, idp: &IdentityProvider) -> Value {
    json!({
        "UserPoolId": pool.id,
        "ProviderName": idp.name,
        "ProviderType": idp.provider_type.as_str(),
        "ProviderDetails": details_of(idp),
        "AttributeMapping": mapping_of(idp),
        "IdpIdentifiers": idp.identifiers,
        "LastModifiedDate": epoch(idp.updated_at),
        "CreationDate": epoch(idp.created_at),
    })
}

fn details_in(input: &Value) -> Result<(bool, BTreeMap<String, String>), AwsError> {
    let given = input.get("ProviderDetails").is_some_and(|v| !v.is_null());
    Ok((given, super::string_map(input, "ProviderDetails")?))
}

/// `CreateIdentityProvider`.
pub async fn create_identity_provider(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let name = required(&input, "ProviderName")?;
    let type_text = required(&input, "ProviderType")?;
    let provider_type = provider_type_of(type_text).ok_or_else(|| {
        invalid(format!(
            "1 validation error detected: Value '{type_text}' at 'providerType' failed to \
             satisfy constraint: Member must satisfy enum value set: [SAML, Google, \
             LoginWithAmazon, OIDC, SignInWithApple, Facebook]"
        ))
    })?;
    if input.get("ProviderDetails").is_none_or(Value::is_null) {
        return Err(required(&input, "ProviderDetails").unwrap_err());
    }
    let (_, details) = details_in(&input)?;
    let req = Requested {
        name: name.to_string(),
        provider_type,
        details,
        mapping: read_mapping(&input)?,
        identifiers: read_identifiers(&input)?,
    };
    let pool = pool(state, call, pool_id).await?;
    if pool.identity_provider(name).is_some() {
        return Err(AwsError::bad_request(
            "DuplicateProviderException",
            format!("A provider with the name {name} already exists in this user pool."),
        ));
    }
    if pool.identity_providers.len() >= MAX_IDENTITY_PROVIDERS {
        return Err(AwsError::bad_request(
            "LimitExceededException",
            format!("A user pool has at most {MAX_IDENTITY_PROVIDERS} identity providers."),
        ));
    }
    let record = build(state, call, &pool, &req, true, None).await?;
    let key = metadata_key(&record);
    let updated = AdminService::new(state.node.store.clone())
        .add_identity_provider(&pool.id, record, call.now)
        .await
        .map_err(|e| admin_error(state, call, e, key))?;
    let idp = existing(&updated, name)?;
    Ok(json!({ "IdentityProvider": provider_type_out(&updated, idp) }))
}

/// `DescribeIdentityProvider`.
pub async fn describe_identity_provider(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let name = required(&input, "ProviderName")?;
    let pool = pool(state, call, pool_id).await?;
    let idp = existing(&pool, name)?;
    Ok(json!({ "IdentityProvider": provider_type_out(&pool, idp) }))
}

/// `UpdateIdentityProvider`: the members given replace the provider's (`ProviderDetails`
/// as a whole set, except that an absent credential or SAML metadata is kept); absent
/// members are kept. The type cannot change.
pub async fn update_identity_provider(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let name = required(&input, "ProviderName")?;
    let (details_given, details) = details_in(&input)?;
    let mapping = read_mapping(&input)?;
    let identifiers = read_identifiers(&input)?;
    let pool = pool(state, call, pool_id).await?;
    let stored = existing(&pool, name)?;
    if let Some(refused) = config_owned(state, call, stored) {
        return Err(refused);
    }
    let req = Requested {
        name: stored.name.clone(),
        provider_type: stored.provider_type,
        details,
        mapping,
        identifiers,
    };
    let record = build(state, call, &pool, &req, details_given, Some(stored)).await?;
    let key = metadata_key(&record);
    let updated = AdminService::new(state.node.store.clone())
        .replace_identity_provider(&pool.id, record, call.now)
        .await
        .map_err(|e| admin_error(state, call, e, key))?;
    let idp = existing(&updated, name)?;
    Ok(json!({ "IdentityProvider": provider_type_out(&updated, idp) }))
}

/// `DeleteIdentityProvider`.
pub async fn delete_identity_provider(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let name = required(&input, "ProviderName")?;
    let pool = pool(state, call, pool_id).await?;
    let existed = AdminService::new(state.node.store.clone())
        .remove_identity_provider_by(&pool.id, name, Origin::Api, call.now)
        .await
        .map_err(|e| admin_error(state, call, e, "MetadataFile"))?;
    if !existed {
        return Err(provider_not_found(name));
    }
    Ok(json!({}))
}

/// The offset a `NextToken` of this listing carries (opaque to callers).
fn offset_of(input: &Value) -> Result<usize, AwsError> {
    let Some(token) = optional(input, "NextToken")? else {
        return Ok(0);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| invalid("NextToken is not a token this listing issued."))
}

/// `ListIdentityProviders`: `ProviderDescription`s in the pool's order.
pub async fn list_identity_providers(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let limit =
        optional_int(&input, "MaxResults", 1..=MAX_RESULTS)?.unwrap_or(MAX_RESULTS) as usize;
    let offset = offset_of(&input)?;
    let pool = pool(state, call, pool_id).await?;
    let total = pool.identity_providers.len();
    let page: Vec<Value> = pool
        .identity_providers
        .iter()
        .skip(offset)
        .take(limit)
        .map(|idp| {
            json!({
                "ProviderName": idp.name,
                "ProviderType": idp.provider_type.as_str(),
                "LastModifiedDate": epoch(idp.updated_at),
                "CreationDate": epoch(idp.created_at),
            })
        })
        .collect();
    let end = offset.saturating_add(page.len());
    let mut out = Map::new();
    out.insert("Providers".into(), Value::Array(page));
    if end < total {
        out.insert(
            "NextToken".into(),
            json!(PageRequest::token_after(&format!("offset:{end}"))),
        );
    }
    Ok(Value::Object(out))
}

/// `GetIdentityProviderByIdentifier`: identifiers compare without case.
pub async fn get_identity_provider_by_identifier(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let identifier = required(&input, "IdpIdentifier")?;
    let pool = pool(state, call, pool_id).await?;
    let wanted = identifier.to_lowercase();
    let idp = pool
        .identity_providers
        .iter()
        .find(|p| p.identifiers.iter().any(|i| i.to_lowercase() == wanted))
        .ok_or_else(|| {
            not_found(format!(
                "Identity provider with identifier {identifier} does not exist."
            ))
        })?;
    Ok(json!({ "IdentityProvider": provider_type_out(&pool, idp) }))
}
