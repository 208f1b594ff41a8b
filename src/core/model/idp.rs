//! Upstream identity providers of a pool (Cognito's `IdentityProviderType`), shaped by
//! protocol: what every provider has (its name and type, client id, claim mapping,
//! identifiers, quirks) is [`IdentityProvider`]; how Cognate talks to it is
//! [`ProtocolSettings`], one variant per protocol, each holding its own vendor settings
//! (Apple's signing key and Google's hosted domain are OpenID Connect settings). Code for
//! a protocol matches on its variant instead of testing a protocol field and unwrapping
//! options that only some providers have.
//!
//! Pools stored by earlier versions hold the older flat shape; [`legacy`] reads it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::secrets::EncryptedSecret;
use crate::core::UnixTime;

use super::Origin;

mod legacy;
/// Cognito's `ProviderType` for the kinds of upstream IdP Cognate federates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderType {
    Google,
    SignInWithApple,
    Facebook,
    LoginWithAmazon,
    #[serde(rename = "OIDC")]
    Oidc,
    /// A SAML 2.0 identity provider (Okta, Entra ID, ADFS, Google Workspace, Keycloak,
    /// Shibboleth...).
    #[serde(rename = "SAML")]
    Saml,
}

impl ProviderType {
    /// Cognito's spelling (`Google`, `SignInWithApple`, ..., `OIDC`), as in the
    /// `identities` claim's `providerType`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderType::Google => "Google",
            ProviderType::SignInWithApple => "SignInWithApple",
            ProviderType::Facebook => "Facebook",
            ProviderType::LoginWithAmazon => "LoginWithAmazon",
            ProviderType::Oidc => "OIDC",
            ProviderType::Saml => "SAML",
        }
    }

    /// The provider name Cognito requires for a social provider (its `ProviderName` must
    /// equal its type); `None` for enterprise OIDC and SAML, which take any name.
    pub fn required_name(self) -> Option<&'static str> {
        match self {
            ProviderType::Oidc | ProviderType::Saml => None,
            social => Some(social.as_str()),
        }
    }
}

impl fmt::Display for ProviderType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The protocol of an upstream IdP, by name: how presets and the configuration file
/// choose [`ProtocolSettings`]' variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// OpenID Connect: a signed ID token carries the identity (Google, Apple, enterprise).
    Oidc,
    /// Plain OAuth 2.0 and a profile API called with the access token (Facebook, Amazon).
    Oauth2,
    /// SAML 2.0 Web Browser SSO: a signed assertion carries the identity.
    Saml,
}

/// How the IdP returns the authorization response (OAuth 2.0 Multiple Response Type
/// Encoding Practices; Form Post Response Mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// A redirect with the response in the query string (GET callback).
    #[default]
    Query,
    /// An auto-submitted form POSTed to the callback (Apple with `name email` scopes).
    FormPost,
}

/// How Cognate authenticates at the IdP's token endpoint (RFC 6749 section 2.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenEndpointAuthMethod {
    /// HTTP Basic with the form-urlencoded client id and secret.
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
}

/// A vendor behaviour that data cannot express; code paths key on these by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Quirk {
    /// The client secret is an ES256 JWT signed with the operator's `.p8` key (Apple).
    AppleClientSecret,
    /// The first authorization POSTs a `user` JSON with the name, never sent again; only
    /// the name is read from it (it is unsigned).
    AppleUserJson,
    /// Graph API calls carry `appsecret_proof` = HMAC-SHA256(app secret, access token).
    FacebookAppsecretProof,
    /// The `hd` claim names the Workspace domain; `hosted_domain` restricts sign-in to it.
    GoogleHd,
    /// `email_verified` may be the string `"true"` / `"false"` instead of a boolean.
    StringEmailVerified,
}

impl Quirk {
    pub const ALL: [Quirk; 5] = [
        Quirk::AppleClientSecret,
        Quirk::AppleUserJson,
        Quirk::FacebookAppsecretProof,
        Quirk::GoogleHd,
        Quirk::StringEmailVerified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Quirk::AppleClientSecret => "apple_client_secret",
            Quirk::AppleUserJson => "apple_user_json",
            Quirk::FacebookAppsecretProof => "facebook_appsecret_proof",
            Quirk::GoogleHd => "google_hd",
            Quirk::StringEmailVerified => "string_email_verified",
        }
    }
}

/// Apple's client-secret signing material: the `.p8` key (sealed), its key id and the
/// developer team id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppleSigningKey {
    pub team_id: String,
    pub key_id: String,
    /// The PKCS#8 PEM, sealed under the master key with
    /// [`crate::core::secrets::idp_secret_context`].
    pub private_key: EncryptedSecret,
}

/// An upstream identity provider of a pool (Cognito's `IdentityProviderType`), fully
/// resolved: the preset's values with the operator's overrides applied, so the runtime
/// never needs the preset again. The fields here are common to every protocol; the
/// protocol's own are in [`IdentityProvider::protocol`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "legacy::StoredIdentityProvider")]
pub struct IdentityProvider {
    /// The provider name in the pool: `Google`, `SignInWithApple`, `Facebook`,
    /// `LoginWithAmazon`, or any name for enterprise OIDC. Federated usernames are
    /// `<name>_<upstream subject>`.
    pub name: String,
    pub provider_type: ProviderType,
    /// The preset it was resolved from (`google`, `apple`, `facebook`, `amazon`, `oidc`).
    pub preset: String,
    pub origin: Origin,
    /// The hosted UI's button text.
    pub display_name: String,
    /// The id Cognate is registered under at the IdP (OAuth 2.0 `client_id`, Apple's
    /// Services ID).
    pub client_id: String,
    /// The claim (dotted path) holding the upstream user id: `sub`, Facebook's `id`,
    /// Amazon's `user_id`.
    pub subject_claim: String,
    /// Directory attribute -> upstream claim (a dotted path such as `picture.data.url`).
    pub attribute_mapping: BTreeMap<String, String>,
    /// Whether the provider's emails count as verified when no `email_verified` claim
    /// comes with them.
    pub emails_verified: bool,
    pub quirks: Vec<Quirk>,
    /// Email domains (or other identifiers) that route `idp_identifier` here. With the
    /// pool's `link_federated_users_by_email`, they are also the domains whose verified
    /// addresses this provider may link to existing users ([`Self::vouches_for`]).
    pub identifiers: Vec<String>,
    /// Whether the provider's verified emails may link to existing users whatever their
    /// domain (an operator's explicit trust; the social presets set it, the generic
    /// OpenID Connect preset does not). Without it a provider links only addresses of
    /// its own `identifiers`: a tenant's IdP, whose administrator sets any `email`,
    /// must not vouch for another tenant's domain.
    pub link_by_email: bool,
    /// How Cognate talks to the provider, with that protocol's settings.
    pub protocol: ProtocolSettings,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

impl IdentityProvider {
    pub fn has_quirk(&self, quirk: Quirk) -> bool {
        self.quirks.contains(&quirk)
    }

    /// Who issues this provider's subjects, as a federated link records it
    /// ([`super::FederatedIdentity::bound_to`]). OpenID Connect: the issuer, within which
    /// a `sub` is unique and never reassigned (OpenID Connect Core 1.0 section 2); the
    /// client id is left out, as one issuer's public subjects are the same for every
    /// client (pairwise ones differ, making new users, never another's). Plain OAuth 2.0
    /// has no issuer and its ids may be per application (Facebook's app-scoped ids): the
    /// token endpoint and the client id. An OpenID Connect provider declared without an
    /// issuer falls back to its token endpoint the same way.
    pub fn link_binding(&self) -> String {
        let (token, client) = match &self.protocol {
            ProtocolSettings::Oidc(oidc) => match &oidc.issuer {
                Some(issuer) => return issuer.clone(),
                None => (oidc.endpoints.token.as_deref(), &self.client_id),
            },
            ProtocolSettings::OAuth2(oauth2) => {
                (oauth2.endpoints.token.as_deref(), &self.client_id)
            }
            // A NameID (or the configured attribute) is unique within its IdP's entity id
            // (SAML Core 2.0 section 8.3.7).
            ProtocolSettings::Saml(saml) => return saml.entity_id.clone(),
        };
        format!("{} client_id={client}", token.unwrap_or("-"))
    }

    /// Whether the provider may vouch for an address at `domain` when linking by email:
    /// it opted in for every domain (`link_by_email`), or `domain` is one of its
    /// identifiers (compared without case, exactly: a subdomain is another domain).
    pub fn vouches_for(&self, domain: &str) -> bool {
        self.link_by_email
            || self
                .identifiers
                .iter()
                .any(|i| i.to_lowercase() == domain.to_lowercase())
    }
}

/// The protocol part of an [`IdentityProvider`]. The two OAuth variants sign in with the
/// OAuth 2.0 authorization code grant (RFC 6749 section 4.1) and differ in who vouches for
/// the user; SAML 2.0 (entity id, SSO endpoints, signing certificates) has its code in
/// `federation::saml`, beside `federation::oauth`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ProtocolSettings {
    /// OpenID Connect: a signed ID token carries the identity (Google, Apple, enterprise).
    #[serde(rename = "oidc")]
    Oidc(OidcSettings),
    /// Plain OAuth 2.0 and a profile API called with the access token (Facebook, Amazon).
    #[serde(rename = "oauth2")]
    OAuth2(OAuth2Settings),
    /// SAML 2.0 Web Browser SSO profile: a signed assertion POSTed to the ACS.
    #[serde(rename = "saml")]
    Saml(SamlSettings),
}

impl ProtocolSettings {
    /// The protocol's name, as presets and the configuration file spell it.
    pub fn kind(&self) -> Protocol {
        match self {
            ProtocolSettings::Oidc(_) => Protocol::Oidc,
            ProtocolSettings::OAuth2(_) => Protocol::Oauth2,
            ProtocolSettings::Saml(_) => Protocol::Saml,
        }
    }

    /// The OpenID Connect settings, if the provider speaks OpenID Connect.
    pub fn as_oidc(&self) -> Option<&OidcSettings> {
        match self {
            ProtocolSettings::Oidc(oidc) => Some(oidc),
            ProtocolSettings::OAuth2(_) | ProtocolSettings::Saml(_) => None,
        }
    }

    /// The plain OAuth 2.0 settings, if the provider speaks plain OAuth 2.0.
    pub fn as_oauth2(&self) -> Option<&OAuth2Settings> {
        match self {
            ProtocolSettings::OAuth2(oauth2) => Some(oauth2),
            ProtocolSettings::Oidc(_) | ProtocolSettings::Saml(_) => None,
        }
    }

    /// The SAML 2.0 settings, if the provider speaks SAML.
    pub fn as_saml(&self) -> Option<&SamlSettings> {
        match self {
            ProtocolSettings::Saml(saml) => Some(saml),
            ProtocolSettings::Oidc(_) | ProtocolSettings::OAuth2(_) => None,
        }
    }

    /// The issuer the provider names itself by (OIDC `iss`), if its protocol has one.
    pub fn issuer(&self) -> Option<&str> {
        match self {
            ProtocolSettings::Oidc(oidc) => oidc.issuer.as_deref(),
            ProtocolSettings::OAuth2(_) | ProtocolSettings::Saml(_) => None,
        }
    }

    /// The sealed static client secret, of either protocol (`None` for Apple, whose
    /// secret is minted from its key).
    pub fn client_secret(&self) -> Option<&EncryptedSecret> {
        match self {
            ProtocolSettings::Oidc(oidc) => match &oidc.client_secret {
                Some(OidcClientSecret::Sealed(sealed)) => Some(sealed),
                Some(OidcClientSecret::AppleKey(_)) | None => None,
            },
            ProtocolSettings::OAuth2(oauth2) => oauth2.client_secret.as_ref(),
            ProtocolSettings::Saml(_) => None,
        }
    }

    /// Apple's signing key, when the provider's client secret is minted from one.
    pub fn apple_key(&self) -> Option<&AppleSigningKey> {
        match self {
            ProtocolSettings::Oidc(OidcSettings {
                client_secret: Some(OidcClientSecret::AppleKey(key)),
                ..
            }) => Some(key),
            _ => None,
        }
    }
}

/// A provider's protocol keys side by side, as operators write them (preset files and
/// `[[pools.identity_providers]]`) and as pools of earlier versions stored them;
/// `protocol` chooses which are read. The one place that says where each flat key goes.
#[derive(Debug, Clone)]
pub struct FlatProtocolSettings {
    pub protocol: Protocol,
    pub issuer: Option<String>,
    pub issuer_aliases: Vec<String>,
    pub authorize: Option<String>,
    pub token: Option<String>,
    pub userinfo: Option<String>,
    pub jwks: Option<String>,
    pub profile: Option<String>,
    pub scopes: Vec<String>,
    pub pkce: bool,
    pub response_mode: ResponseMode,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    pub fetch_userinfo: bool,
    pub client_secret: Option<EncryptedSecret>,
    pub apple_key: Option<AppleSigningKey>,
    /// Whether the provider has [`Quirk::AppleClientSecret`]: then its credential is
    /// Apple's key (a static secret is never read), else the static secret.
    pub apple_client_secret: bool,
    pub hosted_domain: Option<String>,
}

impl FlatProtocolSettings {
    /// The protocol's settings. What the chosen protocol does not read is dropped: a plain
    /// OAuth 2.0 provider's issuer, userinfo, JWKS, Apple key and hosted domain, an OpenID
    /// Connect provider's profile endpoint.
    pub fn into_settings(self) -> ProtocolSettings {
        match self.protocol {
            Protocol::Oidc => {
                let client_secret = if self.apple_client_secret {
                    self.apple_key.map(OidcClientSecret::AppleKey)
                } else {
                    self.client_secret.map(OidcClientSecret::Sealed)
                };
                ProtocolSettings::Oidc(OidcSettings {
                    issuer: self.issuer,
                    issuer_aliases: self.issuer_aliases,
                    endpoints: OidcEndpoints {
                        authorize: self.authorize,
                        token: self.token,
                        userinfo: self.userinfo,
                        jwks: self.jwks,
                    },
                    scopes: self.scopes,
                    pkce: self.pkce,
                    response_mode: self.response_mode,
                    token_endpoint_auth_method: self.token_endpoint_auth_method,
                    fetch_userinfo: self.fetch_userinfo,
                    client_secret,
                    hosted_domain: self.hosted_domain,
                })
            }
            Protocol::Oauth2 => ProtocolSettings::OAuth2(OAuth2Settings {
                endpoints: OAuth2Endpoints {
                    authorize: self.authorize,
                    token: self.token,
                    profile: self.profile,
                },
                scopes: self.scopes,
                pkce: self.pkce,
                response_mode: self.response_mode,
                token_endpoint_auth_method: self.token_endpoint_auth_method,
                client_secret: self.client_secret,
            }),
            // None of the flat keys are SAML's: its settings come from the IdP's metadata
            // and the declaration ([`SamlSettings`]), filled in by whoever declares it.
            Protocol::Saml => ProtocolSettings::Saml(SamlSettings::default()),
        }
    }
}

/// An OpenID Connect provider's settings (OIDC Core 1.0, authorization code flow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OidcSettings {
    /// The issuer (`iss` of its ID tokens). Always set on a stored provider; `None` only
    /// in a declaration being checked, which the checker refuses.
    pub issuer: Option<String>,
    /// Other spellings of the issuer accepted in `iss` (Google's `accounts.google.com`).
    pub issuer_aliases: Vec<String>,
    pub endpoints: OidcEndpoints,
    pub scopes: Vec<String>,
    /// Send PKCE (RFC 7636, S256) toward the IdP.
    pub pkce: bool,
    pub response_mode: ResponseMode,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// Merge the userinfo endpoint's claims into the ID token's (OIDC Core 5.3).
    pub fetch_userinfo: bool,
    /// How Cognate authenticates at the token endpoint: a sealed secret, or Apple's key.
    pub client_secret: Option<OidcClientSecret>,
    /// Google only: the Workspace domain (`hd` claim) a user must belong to.
    pub hosted_domain: Option<String>,
}

impl OidcSettings {
    /// Whether `iss` names this provider: the issuer or one of its aliases, compared
    /// exactly (OIDC Core 3.1.3.7 step 2).
    pub fn accepts_issuer(&self, iss: &str) -> bool {
        self.issuer.as_deref() == Some(iss) || self.issuer_aliases.iter().any(|a| a == iss)
    }
}

/// An OpenID Connect provider's client credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OidcClientSecret {
    /// A static client secret, sealed under the master key.
    Sealed(EncryptedSecret),
    /// Sign in with Apple: the secret is an ES256 JWT minted from this key (quirk
    /// [`Quirk::AppleClientSecret`]).
    AppleKey(AppleSigningKey),
}

/// An OpenID Connect provider's endpoints; any left out is taken from the issuer's
/// discovery document (`<issuer>/.well-known/openid-configuration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OidcEndpoints {
    pub authorize: Option<String>,
    pub token: Option<String>,
    pub userinfo: Option<String>,
    pub jwks: Option<String>,
}

/// A plain OAuth 2.0 provider's settings: the user is whoever its profile API says the
/// access token belongs to (RFC 6749 has no identity layer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OAuth2Settings {
    pub endpoints: OAuth2Endpoints,
    pub scopes: Vec<String>,
    /// Send PKCE (RFC 7636, S256) toward the IdP.
    pub pkce: bool,
    pub response_mode: ResponseMode,
    pub token_endpoint_auth_method: TokenEndpointAuthMethod,
    /// The client secret, sealed under the master key.
    pub client_secret: Option<EncryptedSecret>,
}

/// A plain OAuth 2.0 provider's endpoints. There is no discovery: the checker requires
/// all three.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct OAuth2Endpoints {
    pub authorize: Option<String>,
    pub token: Option<String>,
    /// The profile API (Facebook's Graph `/me`, Amazon's `/user/profile`), called with
    /// the access token.
    pub profile: Option<String>,
}

/// How an AuthnRequest travels to the IdP (SAML Bindings 2.0 sections 3.4 and 3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SamlBinding {
    /// HTTP-Redirect: deflated, base64 and URL-encoded in the query; signed over the query.
    #[default]
    Redirect,
    /// HTTP-POST: an auto-submitting form; signed as XML.
    Post,
}

impl SamlBinding {
    /// The binding's URN, as metadata names it.
    pub fn urn(self) -> &'static str {
        match self {
            SamlBinding::Redirect => "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect",
            SamlBinding::Post => "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST",
        }
    }
}

/// A SAML 2.0 identity provider's settings: what its metadata says (parsed when it is
/// declared, so the runtime never reads XML metadata) and the operator's choices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct SamlSettings {
    /// The IdP's entity id (metadata `entityID`): every response's and assertion's
    /// `Issuer` must equal it.
    pub entity_id: String,
    /// SingleSignOnService locations by binding (at least one).
    pub sso_redirect_url: Option<String>,
    pub sso_post_url: Option<String>,
    /// SingleLogoutService location (HTTP-Redirect), kept for single logout.
    pub slo_redirect_url: Option<String>,
    /// The IdP's signing certificates (standard base64 of the DER), from its metadata: the
    /// only keys a response's signature is checked with (several during a key rollover).
    pub signing_certificates: Vec<String>,
    /// The binding Cognate sends AuthnRequests by.
    pub request_binding: SamlBinding,
    /// Sign AuthnRequests (the metadata's `WantAuthnRequestsSigned`, or the operator's
    /// choice).
    pub sign_requests: bool,
    /// The attribute whose value is the upstream user id instead of the NameID (required
    /// for an IdP that sends transient NameIDs).
    pub user_id_attribute: Option<String>,
    /// Accept RSA-SHA1 signatures and SHA-1 digests (an operator's opt-in for old IdPs).
    pub allow_sha1: bool,
    /// Accept AES-CBC content encryption in an EncryptedAssertion (an operator's opt-in
    /// for IdPs without AES-GCM; CBC is unauthenticated). AES-GCM is always accepted.
    pub allow_aes_cbc: bool,
    /// The attribute holding the user's groups at the IdP (default: the common names).
    pub groups_attribute: Option<String>,
    /// IdP group value -> directory group. Only these groups are granted from the IdP's
    /// word, and a membership granted here is removed when the IdP stops sending it.
    pub group_mapping: BTreeMap<String, String>,
    /// Where the metadata above was fetched from (`metadata_url`), when it came from a URL:
    /// every node refetches it periodically and keeps the last good copy.
    pub metadata_url: Option<String>,
    /// Seconds between two fetches of `metadata_url` (`metadata_refresh_secs`; `None`:
    /// [`DEFAULT_METADATA_REFRESH_SECS`]).
    pub metadata_refresh_secs: Option<u64>,
    /// IdP-initiated sign-in (an unsolicited response at the ACS): off when `None`.
    pub idp_initiated: Option<IdpInitiated>,
}

/// Where an IdP-initiated (unsolicited) sign-in lands: the app client that receives the
/// code, its redirect URI and the scopes of the code. The client must list this IdP, the
/// redirect URI must be one of its callback URLs, and it must list no provider other than
/// SAML IdPs (Cognito's guard: a forged unsolicited login cannot ride a client that also
/// signs users in another way).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct IdpInitiated {
    pub client_id: String,
    pub redirect_uri: String,
    /// The code's scopes (empty: all the client's allowed scopes, as an authorization
    /// request without `scope`).
    pub scopes: Vec<String>,
}

/// How often metadata from a URL is refetched when the operator says nothing: hourly.
pub const DEFAULT_METADATA_REFRESH_SECS: u64 = 3600;
/// The shortest refresh period accepted (an IdP's metadata changes on key rollovers,
/// announced weeks ahead; more often only loads the IdP).
pub const MIN_METADATA_REFRESH_SECS: u64 = 300;
/// The longest refresh period accepted (a day: a rollover must reach Cognate before the
/// IdP switches keys).
pub const MAX_METADATA_REFRESH_SECS: u64 = 86_400;

impl SamlSettings {
    /// The refresh period of `metadata_url`.
    pub fn refresh_secs(&self) -> u64 {
        self.metadata_refresh_secs
            .unwrap_or(DEFAULT_METADATA_REFRESH_SECS)
    }

    /// The SSO endpoint of a binding, if the IdP offers it.
    pub fn sso_url(&self, binding: SamlBinding) -> Option<&str> {
        match binding {
            SamlBinding::Redirect => self.sso_redirect_url.as_deref(),
            SamlBinding::Post => self.sso_post_url.as_deref(),
        }
    }
}
