//! Reading stored identity providers of every shape Cognate has written. Pools are stored
//! whole as JSON, so a provider written before its settings were split by protocol is
//! still the flat record below inside a pool document; it is converted when read (and
//! written back in the current shape the next time the pool is saved), so no migration
//! is needed and an older pool keeps loading.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{
    AppleSigningKey, FlatProtocolSettings, IdentityProvider, Origin, Protocol, ProtocolSettings,
    ProviderType, Quirk, ResponseMode, TokenEndpointAuthMethod,
};
use crate::core::secrets::EncryptedSecret;
use crate::core::UnixTime;

/// A stored provider: the current shape, else the flat shape of earlier versions. The two
/// cannot be confused: the current `protocol` is an object (`{"oidc": {...}}`), the flat
/// one a string (`"oidc"`).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum StoredIdentityProvider {
    Current(Box<Current>),
    Flat(Box<Flat>),
}

impl From<StoredIdentityProvider> for IdentityProvider {
    fn from(stored: StoredIdentityProvider) -> Self {
        match stored {
            StoredIdentityProvider::Current(c) => c.into_provider(),
            StoredIdentityProvider::Flat(f) => f.into_provider(),
        }
    }
}

/// [`IdentityProvider`] as it serializes (its derived `Deserialize` goes through
/// [`StoredIdentityProvider`], so the fields are spelled once more here).
#[derive(Deserialize)]
pub(super) struct Current {
    name: String,
    provider_type: ProviderType,
    preset: String,
    #[serde(default)]
    origin: Origin,
    display_name: String,
    client_id: String,
    subject_claim: String,
    #[serde(default)]
    attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    emails_verified: bool,
    #[serde(default)]
    quirks: Vec<Quirk>,
    #[serde(default)]
    identifiers: Vec<String>,
    /// Absent from providers stored before it existed: they link no address outside
    /// their identifiers until the operator opts in again.
    #[serde(default)]
    link_by_email: bool,
    protocol: ProtocolSettings,
    created_at: UnixTime,
    updated_at: UnixTime,
}

impl Current {
    fn into_provider(self) -> IdentityProvider {
        IdentityProvider {
            name: self.name,
            provider_type: self.provider_type,
            preset: self.preset,
            origin: self.origin,
            display_name: self.display_name,
            client_id: self.client_id,
            subject_claim: self.subject_claim,
            attribute_mapping: self.attribute_mapping,
            emails_verified: self.emails_verified,
            quirks: self.quirks,
            identifiers: self.identifiers,
            link_by_email: self.link_by_email,
            protocol: self.protocol,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The flat provider record of earlier versions: every protocol's settings side by side,
/// `protocol` naming the ones in use.
#[derive(Deserialize)]
pub(super) struct Flat {
    name: String,
    provider_type: ProviderType,
    preset: String,
    #[serde(default)]
    origin: Origin,
    display_name: String,
    protocol: Protocol,
    client_id: String,
    #[serde(default)]
    client_secret: Option<EncryptedSecret>,
    #[serde(default)]
    apple: Option<AppleSigningKey>,
    #[serde(default)]
    issuer: Option<String>,
    #[serde(default)]
    issuer_aliases: Vec<String>,
    #[serde(default)]
    endpoints: FlatEndpoints,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    pkce: bool,
    #[serde(default)]
    response_mode: ResponseMode,
    #[serde(default)]
    token_endpoint_auth_method: TokenEndpointAuthMethod,
    subject_claim: String,
    #[serde(default)]
    fetch_userinfo: bool,
    #[serde(default)]
    attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    emails_verified: bool,
    #[serde(default)]
    quirks: Vec<Quirk>,
    #[serde(default)]
    identifiers: Vec<String>,
    /// Absent from providers stored before it existed: they link no address outside
    /// their identifiers until the operator opts in again.
    #[serde(default)]
    link_by_email: bool,
    #[serde(default)]
    hosted_domain: Option<String>,
    created_at: UnixTime,
    updated_at: UnixTime,
}

/// The flat record's endpoints, every protocol's together.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct FlatEndpoints {
    authorize: Option<String>,
    token: Option<String>,
    userinfo: Option<String>,
    jwks: Option<String>,
    profile: Option<String>,
}

impl Flat {
    /// The current shape of a flat record ([`FlatProtocolSettings`] says where each
    /// protocol key goes). The credential is the one the runtime used: with
    /// [`Quirk::AppleClientSecret`] the Apple key, else the static secret.
    fn into_provider(self) -> IdentityProvider {
        let e = self.endpoints;
        let protocol = FlatProtocolSettings {
            protocol: self.protocol,
            issuer: self.issuer,
            issuer_aliases: self.issuer_aliases,
            authorize: e.authorize,
            token: e.token,
            userinfo: e.userinfo,
            jwks: e.jwks,
            profile: e.profile,
            scopes: self.scopes,
            pkce: self.pkce,
            response_mode: self.response_mode,
            token_endpoint_auth_method: self.token_endpoint_auth_method,
            fetch_userinfo: self.fetch_userinfo,
            client_secret: self.client_secret,
            apple_key: self.apple,
            apple_client_secret: self.quirks.contains(&Quirk::AppleClientSecret),
            hosted_domain: self.hosted_domain,
        }
        .into_settings();
        IdentityProvider {
            name: self.name,
            provider_type: self.provider_type,
            preset: self.preset,
            origin: self.origin,
            display_name: self.display_name,
            client_id: self.client_id,
            subject_claim: self.subject_claim,
            attribute_mapping: self.attribute_mapping,
            emails_verified: self.emails_verified,
            quirks: self.quirks,
            identifiers: self.identifiers,
            link_by_email: self.link_by_email,
            protocol,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

#[cfg(test)]
mod tests;
