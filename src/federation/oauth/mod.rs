//! OpenID Connect and plain OAuth 2.0 toward upstream IdPs: both sign in with the
//! authorization code grant (RFC 6749 section 4.1) and differ in who vouches for the user
//! (a signed ID token, or the profile API). Everything that speaks OAuth is here; what
//! any protocol shares (the stored upstream flow, linking, claim mapping, the HTTP client,
//! presets, errors) is one level up in [`crate::federation`], where a `saml` module will
//! sit beside this one.
//!
//! - [`flow`]: the OAuth leg of a sign-in: `start`, `accept_post` (Apple's `form_post`)
//!   and `callback` on [`Federation`](crate::federation::flow::Federation).
//! - [`leg`]: what an OAuth flow keeps in the stored upstream flow (nonce, PKCE verifier).
//! - [`protocol`]: the authorization URL and the code exchange, on the `oauth2` crate.
//! - [`id_token`]: strict validation of an upstream ID token.
//! - [`oauth2_profile`]: the profile API call of plain OAuth 2.0 providers (Facebook's
//!   Graph `/me`, Amazon's `/user/profile`).
//! - [`apple`]: Apple's ES256 client secret and its first-sign-in `user` JSON.
//! - [`facebook`]: Graph API `appsecret_proof`.

pub mod apple;
pub mod facebook;
pub mod flow;
pub mod id_token;
pub mod leg;
pub mod oauth2_profile;
pub mod protocol;

use crate::core::model::{
    IdentityProvider, ProtocolSettings, ResponseMode, TokenEndpointAuthMethod,
};
use crate::federation::error::FederationError;

/// What the authorization code grant needs of a provider, which both OAuth protocols'
/// settings hold: the code paths they share read it here instead of matching twice.
#[derive(Debug, Clone, Copy)]
pub struct CodeGrant<'a> {
    pub scopes: &'a [String],
    /// Send PKCE (RFC 7636, S256).
    pub pkce: bool,
    pub response_mode: ResponseMode,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
}

impl<'a> CodeGrant<'a> {
    /// The grant's settings; `None` for a protocol that is not OAuth (SAML).
    pub fn of(protocol: &'a ProtocolSettings) -> Option<Self> {
        match protocol {
            ProtocolSettings::Oidc(oidc) => Some(CodeGrant {
                scopes: &oidc.scopes,
                pkce: oidc.pkce,
                response_mode: oidc.response_mode,
                token_endpoint_auth_method: oidc.token_endpoint_auth_method,
            }),
            ProtocolSettings::OAuth2(oauth2) => Some(CodeGrant {
                scopes: &oauth2.scopes,
                pkce: oauth2.pkce,
                response_mode: oauth2.response_mode,
                token_endpoint_auth_method: oauth2.token_endpoint_auth_method,
            }),
            ProtocolSettings::Saml(_) => None,
        }
    }

    /// The grant of a provider the OAuth leg serves; a provider of another protocol is
    /// [`FederationError::UnsupportedProtocol`] here.
    pub fn for_provider(provider: &'a IdentityProvider) -> Result<Self, FederationError> {
        Self::of(&provider.protocol)
            .ok_or_else(|| FederationError::UnsupportedProtocol(provider.name.clone()))
    }
}
