//! `[[pools.identity_providers]]`: an upstream identity provider declared on a pool, and
//! its resolution against the preset it names into the stored record.

use std::collections::BTreeMap;

use serde::de::{self, Deserializer};
use serde::Deserialize;

use super::touch;
use crate::config::check::Diagnostic;
use crate::core::model::{
    AppleSigningKey, IdentityProvider, IdpInitiated, Origin, Protocol, ProtocolSettings, Quirk,
    ResponseMode, SamlBinding, SamlSettings, TokenEndpointAuthMethod,
};
use crate::core::secrets::{EncryptedSecret, SecretString};
use crate::core::UnixTime;
use crate::federation::oauth::apple;
use crate::federation::presets::{self, Credentials, Endpoints, Preset};
use crate::federation::saml::metadata::IdpMetadata;

/// `[[pools.identity_providers]]`: an upstream IdP users may sign in through. It names a
/// preset (`providers/<preset>.toml`) and may override any of the preset's values.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct IdpDecl {
    /// The provider name: `Google`, `SignInWithApple`, `Facebook`, `LoginWithAmazon` for
    /// the social presets (Cognito's names), any name for enterprise OIDC and SAML.
    pub name: String,
    /// `google`, `apple`, `facebook`, `amazon`, `oidc` or `saml`.
    pub preset: String,
    /// The OAuth 2.0 client id (required by the OAuth presets; a SAML provider has none).
    #[serde(default)]
    pub client_id: String,
    /// The environment variable holding the client secret (never the file).
    #[serde(default)]
    pub client_secret_env: Option<String>,
    /// Apple: the developer team id (the client secret's `iss`).
    #[serde(default)]
    pub team_id: Option<String>,
    /// Apple: the id of the `.p8` key (the client secret's `kid`).
    #[serde(default)]
    pub key_id: Option<String>,
    /// Apple: the environment variable holding the `.p8` PEM.
    #[serde(default)]
    pub private_key_env: Option<String>,
    /// Email domains routing `idp_identifier` (and "sign in with your work email") here.
    #[serde(default)]
    pub identifiers: Vec<String>,
    /// Google: the Workspace domain (`hd`) users must belong to.
    #[serde(default)]
    pub hosted_domain: Option<String>,
    /// The button text in the hosted UI (default: the preset's, else `name`).
    #[serde(default)]
    pub display_name: Option<String>,

    // Overrides of the preset.
    #[serde(default)]
    pub protocol: Option<Protocol>,
    #[serde(default)]
    pub issuer: Option<String>,
    #[serde(default)]
    pub issuer_aliases: Option<Vec<String>>,
    #[serde(default)]
    pub endpoints: EndpointsDecl,
    #[serde(default)]
    pub scopes: Option<Vec<String>>,
    #[serde(default)]
    pub pkce: Option<bool>,
    #[serde(default)]
    pub response_mode: Option<ResponseMode>,
    #[serde(default)]
    pub token_endpoint_auth_method: Option<TokenEndpointAuthMethod>,
    #[serde(default)]
    pub subject_claim: Option<String>,
    #[serde(default)]
    pub fetch_userinfo: Option<bool>,
    /// Merged over the preset's mapping; an empty path unmaps an attribute.
    #[serde(default)]
    pub attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub emails_verified: Option<bool>,
    /// Whether the provider's verified emails may link to existing users of any domain
    /// (default: the preset's; the social presets' true, the generic OIDC preset's false).
    #[serde(default)]
    pub link_by_email: Option<bool>,
    #[serde(default)]
    pub quirks: Option<Vec<Quirk>>,

    // SAML 2.0 (preset `saml`): the IdP's metadata and the operator's choices
    // ([`SamlSettings`]).
    /// The IdP's metadata XML, inline.
    #[serde(default)]
    pub metadata: Option<String>,
    /// A file holding the IdP's metadata XML, relative to the configuration file's
    /// directory.
    #[serde(default)]
    pub metadata_file: Option<String>,
    /// The IdP's metadata URL (https): fetched when the configuration is applied, then
    /// refetched every `metadata_refresh_secs` by every node (`check-config` does not fetch).
    #[serde(default)]
    pub metadata_url: Option<String>,
    /// Seconds between two fetches of `metadata_url` (default 3600; 300 to 86400).
    #[serde(default)]
    pub metadata_refresh_secs: Option<u64>,
    /// The attribute whose value is the user id instead of the NameID.
    #[serde(default)]
    pub user_id_attribute: Option<String>,
    /// Accept RSA-SHA1 / SHA-1 from this IdP (default false).
    #[serde(default)]
    pub allow_sha1: Option<bool>,
    /// Accept AES-CBC encrypted assertions from this IdP (default false: AES-GCM only).
    #[serde(default)]
    pub allow_aes_cbc: Option<bool>,
    /// `redirect` or `post` (default: redirect when the metadata offers it, else post).
    #[serde(default)]
    pub request_binding: Option<SamlBinding>,
    /// Sign AuthnRequests (default: the metadata's `WantAuthnRequestsSigned`).
    #[serde(default)]
    pub sign_requests: Option<bool>,
    /// The attribute holding the user's groups at the IdP.
    #[serde(default)]
    pub groups_attribute: Option<String>,
    /// IdP group value -> directory group.
    #[serde(default)]
    pub group_mapping: Option<BTreeMap<String, String>>,
    /// IdP-initiated sign-in: `{ client_id, redirect_uri, scopes }` (off when absent).
    #[serde(default)]
    pub idp_initiated: Option<IdpInitiated>,

    /// A literal `client_secret` / `private_key` in the file: accepted by the parser only
    /// so the checker can refuse it with its location; the value itself is discarded.
    #[serde(default, rename = "client_secret")]
    pub literal_client_secret: Option<LiteralSecret>,
    #[serde(default, rename = "private_key")]
    pub literal_private_key: Option<LiteralSecret>,

    /// The secret read from `client_secret_env` when the configuration is loaded.
    #[serde(skip)]
    pub client_secret: Option<SecretString>,
    /// The `.p8` PEM read from `private_key_env` when the configuration is loaded.
    #[serde(skip)]
    pub private_key: Option<SecretString>,
    /// The IdP metadata read from `metadata` / `metadata_file` when the configuration is
    /// checked, or fetched from `metadata_url` when it is applied (`None` when none is
    /// given, it was refused, or the fetch failed).
    #[serde(skip)]
    pub saml_metadata: Option<IdpMetadata>,
    /// Why fetching `metadata_url` failed when the configuration was about to be applied
    /// (the stored copy is used then, if there is one).
    #[serde(skip)]
    pub metadata_fetch_error: Option<String>,
}

/// `endpoints = { ... }`: per-endpoint overrides of the preset.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct EndpointsDecl {
    pub authorize: Option<String>,
    pub token: Option<String>,
    pub userinfo: Option<String>,
    pub jwks: Option<String>,
    pub profile: Option<String>,
}

/// A value written where a secret must not be; holds nothing of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiteralSecret;

impl<'de> Deserialize<'de> for LiteralSecret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        de::IgnoredAny::deserialize(deserializer).map(|_| LiteralSecret)
    }
}

impl IdpDecl {
    /// Whether this provider authenticates with Apple's minted client secret (and so
    /// takes `team_id`, `key_id` and `private_key_env` instead of a secret).
    pub fn uses_apple_key(&self) -> bool {
        self.effective_quirks()
            .is_some_and(|q| q.contains(&Quirk::AppleClientSecret))
    }

    /// The protocol the provider speaks: the declaration's override, else its preset's
    /// (`None` for an unknown preset).
    pub fn protocol(&self) -> Option<Protocol> {
        self.protocol
            .or_else(|| presets::get(&self.preset).map(|p| p.protocol))
    }

    /// Whether the provider is a SAML 2.0 one (and so takes metadata, not OAuth keys).
    pub fn is_saml(&self) -> bool {
        self.protocol() == Some(Protocol::Saml)
    }

    /// The SAML settings: the metadata's, with the declaration's choices over them.
    fn saml_settings(&self) -> SamlSettings {
        let mut saml = self
            .saml_metadata
            .as_ref()
            .map(IdpMetadata::to_settings)
            .unwrap_or_default();
        if let Some(binding) = self.request_binding {
            saml.request_binding = binding;
        }
        if let Some(sign) = self.sign_requests {
            saml.sign_requests = sign;
        }
        saml.user_id_attribute = self.user_id_attribute.clone();
        saml.allow_sha1 = self.allow_sha1.unwrap_or(false);
        saml.allow_aes_cbc = self.allow_aes_cbc.unwrap_or(false);
        saml.groups_attribute = self.groups_attribute.clone();
        saml.group_mapping = self.group_mapping.clone().unwrap_or_default();
        saml.metadata_url = self.metadata_url.clone();
        saml.metadata_refresh_secs = self.metadata_refresh_secs;
        saml.idp_initiated = self.idp_initiated.clone();
        saml
    }

    fn effective_quirks(&self) -> Option<Vec<Quirk>> {
        match &self.quirks {
            Some(q) => Some(q.clone()),
            None => presets::get(&self.preset).map(|p| p.quirks.clone()),
        }
    }

    /// The stored record: the preset's values, each overridden by the declaration's when
    /// given, with the sealed credentials passed in. `None` for an unknown preset (the
    /// checker reports it). Timestamps as for pools.
    pub fn to_record(
        &self,
        client_secret: Option<EncryptedSecret>,
        apple_key: Option<EncryptedSecret>,
        now: UnixTime,
        existing: Option<&IdentityProvider>,
    ) -> Option<IdentityProvider> {
        let preset = presets::get(&self.preset)?;
        let issuer = self.issuer.clone().or_else(|| preset.issuer.clone());
        // The preset's other spellings belong to the preset's issuer: an overridden
        // issuer (a test fake, a proxy) does not inherit them.
        let issuer_aliases = match (&self.issuer_aliases, &self.issuer) {
            (Some(aliases), _) => aliases.clone(),
            (None, Some(_)) => Vec::new(),
            (None, None) => preset.issuer_aliases.clone(),
        };
        let e = &self.endpoints;
        let p = &preset.endpoints;
        let pick = |o: &Option<String>, d: &Option<String>| o.clone().or_else(|| d.clone());
        let mut attribute_mapping = preset.attribute_mapping.clone();
        for (attribute, path) in &self.attribute_mapping {
            if path.is_empty() {
                attribute_mapping.remove(attribute);
            } else {
                attribute_mapping.insert(attribute.clone(), path.clone());
            }
        }
        let apple = match (apple_key, &self.team_id, &self.key_id) {
            (Some(private_key), Some(team_id), Some(key_id)) => Some(AppleSigningKey {
                team_id: team_id.clone(),
                key_id: key_id.clone(),
                private_key,
            }),
            _ => None,
        };
        // The preset with the declaration's overrides, shaped by the protocol it names.
        let resolved = Preset {
            protocol: self.protocol.unwrap_or(preset.protocol),
            issuer,
            issuer_aliases,
            endpoints: Endpoints {
                authorize: pick(&e.authorize, &p.authorize),
                token: pick(&e.token, &p.token),
                userinfo: pick(&e.userinfo, &p.userinfo),
                jwks: pick(&e.jwks, &p.jwks),
                profile: pick(&e.profile, &p.profile),
            },
            scopes: self.scopes.clone().unwrap_or_else(|| preset.scopes.clone()),
            pkce: self.pkce.unwrap_or(preset.pkce),
            response_mode: self.response_mode.unwrap_or(preset.response_mode),
            token_endpoint_auth_method: self
                .token_endpoint_auth_method
                .unwrap_or(preset.token_endpoint_auth_method),
            subject_claim: self
                .subject_claim
                .clone()
                .unwrap_or_else(|| preset.subject_claim.clone()),
            fetch_userinfo: self.fetch_userinfo.unwrap_or(preset.fetch_userinfo),
            emails_verified: self.emails_verified.unwrap_or(preset.emails_verified),
            quirks: self.effective_quirks().unwrap_or_default(),
            attribute_mapping,
            ..preset.clone()
        };
        let saml = resolved.protocol == Protocol::Saml;
        let protocol = if saml {
            ProtocolSettings::Saml(self.saml_settings())
        } else {
            resolved.protocol_settings(
                Credentials {
                    client_secret,
                    apple_key: apple,
                },
                self.hosted_domain.clone(),
            )
        };
        let record = IdentityProvider {
            name: self.name.clone(),
            provider_type: preset.provider_type,
            preset: preset.name.clone(),
            origin: Origin::Config,
            display_name: self
                .display_name
                .clone()
                .or_else(|| preset.display_name.clone())
                .unwrap_or_else(|| self.name.clone()),
            client_id: self.client_id.clone(),
            // A SAML provider's user id is the NameID or `user_id_attribute`.
            subject_claim: if saml {
                String::new()
            } else {
                resolved.subject_claim
            },
            attribute_mapping: resolved.attribute_mapping,
            emails_verified: resolved.emails_verified,
            quirks: resolved.quirks,
            identifiers: self.identifiers.clone(),
            link_by_email: self.link_by_email.unwrap_or(preset.link_by_email),
            protocol,
            created_at: existing.map_or(now, |x| x.created_at),
            updated_at: existing.map_or(now, |x| x.updated_at),
        };
        Some(touch(record, existing, now, |r, t| r.updated_at = t))
    }

    /// Reads the credentials named by `client_secret_env` / `private_key_env` from the
    /// environment; a missing variable or a malformed `.p8` key is a diagnostic.
    pub fn read_env(
        &mut self,
        pool_name: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Vec<Diagnostic> {
        let mut errors = Vec::new();
        let read = |var: &str, what: &str, errors: &mut Vec<Diagnostic>| {
            let value = env(var).filter(|v| !v.trim().is_empty());
            if value.is_none() {
                errors.push(Diagnostic::env(
                    var,
                    format!(
                        "identity provider {:?} of pool {pool_name:?} takes its {what} from \
                         {var}, which is not set",
                        self.name
                    ),
                    format!("set {var} (the {what} the provider issued to Cognate)"),
                ));
            }
            value
        };
        if let Some(var) = self.client_secret_env.clone() {
            self.client_secret = read(&var, "client secret", &mut errors).map(SecretString::new);
        }
        if let Some(var) = self.private_key_env.clone() {
            if let Some(pem) = read(&var, ".p8 private key", &mut errors) {
                match apple::parse_p8(&pem) {
                    Ok(_) => self.private_key = Some(SecretString::new(pem)),
                    Err(e) => errors.push(Diagnostic::env(
                        &var,
                        format!("identity provider {:?}: {e}", self.name),
                        "set it to the whole AuthKey_<KEY ID>.p8 file downloaded from Apple \
                         (e.g. SIWA_KEY=\"$(cat AuthKey_ABC123DEFG.p8)\")",
                    )),
                }
            }
        }
        errors
    }
}
