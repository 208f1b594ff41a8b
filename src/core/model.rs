//! The directory's records, with Cognito's semantics.
//!
//! Records are stored whole (as JSON documents beside a few indexed columns), so adding an
//! optional field later needs no schema migration: give it `#[serde(default)]`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::secrets::{EncryptedSecret, SecretString};
use super::UnixTime;

mod domain;
mod identity_pool;
mod idp;
mod mfa;
mod threat;
mod triggers;

pub use domain::{default_managed_login_version, Domain, DomainKind};
pub use identity_pool::{
    is_identity_id, new_identity_id, Identity, IdentityLogin, IdentityPool, IdentityPoolUserPool,
    Role, RoleTrust, TrustAmr, DEFAULT_ROLE_SESSION_SECS, MAX_ROLE_SESSION_SECS,
    MIN_ROLE_SESSION_SECS,
};
pub use idp::{
    AppleSigningKey, FlatProtocolSettings, IdentityProvider, IdpInitiated, OAuth2Endpoints,
    OAuth2Settings, OidcClientSecret, OidcEndpoints, OidcSettings, Protocol, ProtocolSettings,
    ProviderType, Quirk, ResponseMode, SamlBinding, SamlSettings, TokenEndpointAuthMethod,
    DEFAULT_METADATA_REFRESH_SECS, MAX_METADATA_REFRESH_SECS, MIN_METADATA_REFRESH_SECS,
};
pub use mfa::{
    Factor, FactorData, FactorSettings, FirstFactor, MfaFactor, PasskeySettings, RecoveryCode,
    UserMfa,
};
pub use threat::{
    AuthEvent, AuthEventKind, AuthEventOutcome, CompromisedPasswords, EventFeedback, EventRisk,
    GeoPoint, LevelAction, RiskAction, RiskLevel, RiskTuning, ThreatMode, ThreatProtection,
};
pub use triggers::{PreTokenVersion, TriggerKind, Triggers};

/// Who owns a record. Applying the config file creates, updates and (with an explicit
/// prune) deletes only `Config` records; records made by the CLI or the API are never
/// touched by the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Config,
    #[default]
    Api,
}

/// Sign-in identifiers that may stand in for the username (Cognito's `UsernameAttributes`
/// and `AliasAttributes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum AliasAttribute {
    Email,
    PhoneNumber,
    PreferredUsername,
}

impl AliasAttribute {
    /// The attribute's name in the directory (`email`, `phone_number`, ...).
    pub fn attribute_name(self) -> &'static str {
        match self {
            AliasAttribute::Email => "email",
            AliasAttribute::PhoneNumber => "phone_number",
            AliasAttribute::PreferredUsername => "preferred_username",
        }
    }
}

/// Cognito's `MfaConfiguration`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "UPPERCASE")]
pub enum MfaSetting {
    #[default]
    Off,
    Optional,
    On,
}

impl MfaSetting {
    /// Cognito's spelling: `OFF`, `OPTIONAL`, `ON`.
    pub fn as_str(self) -> &'static str {
        match self {
            MfaSetting::Off => "OFF",
            MfaSetting::Optional => "OPTIONAL",
            MfaSetting::On => "ON",
        }
    }
}

impl std::fmt::Display for MfaSetting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Cognito's `PasswordPolicyType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PasswordPolicy {
    pub minimum_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    /// Days an admin-set temporary password stays valid.
    pub temporary_password_validity_days: u32,
}

impl Default for PasswordPolicy {
    /// Cognito's defaults for a new pool.
    fn default() -> Self {
        PasswordPolicy {
            minimum_length: 8,
            require_uppercase: true,
            require_lowercase: true,
            require_numbers: true,
            require_symbols: true,
            temporary_password_validity_days: 7,
        }
    }
}

/// The budgets of mailed codes (sign-up confirmation and password reset), each counted
/// per hour in the shared store, so they hold across nodes (see
/// [`crate::core::account`]). Cognito has no such settings (its own limits are fixed and
/// unpublished); the per-destination defaults are the ones issue 8 asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CodeLimits {
    /// Codes mailed to one destination address (the normalized email) per hour, across
    /// accounts: a bound on mail bombing and on the codes an attacker can have pending
    /// for someone else's address.
    pub sends_per_destination: u32,
    /// Code tries checked against codes mailed to one destination address per hour,
    /// across accounts (every try counts, since it is reserved before the comparison):
    /// the bound on guessing a code.
    pub tries_per_destination: u32,
    /// Code requests (resend, forgot password) from one client address (an IPv6 /64)
    /// per hour. Sign-ups are not counted here: users behind one NAT share an address.
    pub sends_per_client_address: u32,
    /// Code tries from one client address (an IPv6 /64) per hour.
    pub tries_per_client_address: u32,
}

impl Default for CodeLimits {
    fn default() -> Self {
        CodeLimits {
            sends_per_destination: 5,
            tries_per_destination: 10,
            sends_per_client_address: 30,
            tries_per_client_address: 60,
        }
    }
}

/// The type of a custom attribute. Values are stored and emitted as strings, as Cognito does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum AttributeDataType {
    #[default]
    String,
    Number,
    Boolean,
    DateTime,
}

/// A `custom:<name>` attribute declared on a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomAttribute {
    /// The name without the `custom:` prefix.
    pub name: String,
    #[serde(default)]
    pub data_type: AttributeDataType,
    #[serde(default = "default_true")]
    pub mutable: bool,
    #[serde(default)]
    pub min_length: Option<u32>,
    #[serde(default)]
    pub max_length: Option<u32>,
    /// Cognito's `NumberAttributeConstraints.MinValue`: the least value of a `Number`
    /// attribute. Number values are integers, so the bounds are too.
    #[serde(default)]
    pub min_value: Option<i64>,
    /// Cognito's `NumberAttributeConstraints.MaxValue`: the greatest value of a `Number`
    /// attribute.
    #[serde(default)]
    pub max_value: Option<i64>,
}

fn default_true() -> bool {
    true
}

/// A user pool: the directory and its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserPool {
    /// `<region>_<9 alphanumerics>`, e.g. `us-east-1_AbC123dEf`.
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub origin: Origin,
    /// Cognito's `UsernameConfiguration.CaseSensitive`; Cognate's default is insensitive,
    /// as Cognito recommends for new pools.
    #[serde(default)]
    pub username_case_sensitive: bool,
    /// Attributes that replace the username (email-as-username); the username is then a
    /// generated UUID and sign-in uses the attribute.
    #[serde(default)]
    pub username_attributes: Vec<AliasAttribute>,
    /// Attributes that may be used to sign in besides the username.
    #[serde(default)]
    pub alias_attributes: Vec<AliasAttribute>,
    /// Attributes verified automatically by a code (email and/or phone_number).
    #[serde(default)]
    pub auto_verified_attributes: Vec<AliasAttribute>,
    /// Standard attributes a user must have at sign-up.
    #[serde(default)]
    pub required_attributes: Vec<String>,
    #[serde(default)]
    pub custom_attributes: Vec<CustomAttribute>,
    #[serde(default)]
    pub password_policy: PasswordPolicy,
    /// `AdminCreateUserConfig.AllowAdminCreateUserOnly`: no self sign-up.
    #[serde(default)]
    pub admin_create_user_only: bool,
    #[serde(default)]
    pub mfa: MfaSetting,
    /// Which second factors and which first factors (passwordless sign-in) the pool
    /// allows, and its passkey settings (issue 13).
    #[serde(default)]
    pub factors: FactorSettings,
    /// Return userInfo values in Cognito's all-strings form instead of OIDC Core types.
    #[serde(default)]
    pub userinfo_string_values: bool,
    /// A federated identity signing in for the first time becomes the one user of the
    /// pool that holds its verified email address (see [`crate::federation::linking`]).
    /// Off by default: Cognito links only by an administrator's call or a pre-sign-up
    /// trigger.
    #[serde(default)]
    pub link_federated_users_by_email: bool,
    /// Budgets of mailed codes per destination address and per client address (pools
    /// stored before they existed get the defaults).
    #[serde(default)]
    pub code_limits: CodeLimits,
    /// Webhooks called as Cognito calls its Lambda triggers (`LambdaConfig`), by kind.
    #[serde(default, skip_serializing_if = "Triggers::is_empty")]
    pub triggers: Triggers,
    /// Compromised-password checks, the auth event log and risk-based responses (issue
    /// 17; Cognito's advanced security).
    #[serde(default)]
    pub threat_protection: ThreatProtection,
    /// Upstream identity providers users may sign in through (federation).
    #[serde(default)]
    pub identity_providers: Vec<IdentityProvider>,
    /// The SAML SP entity id this pool presents to SAML IdPs; `None` is Cognito's
    /// `urn:amazon:cognito:sp:<poolId>` (see [`UserPool::sp_entity_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml_sp_entity_id: Option<String>,
    /// Cognito's `DeletionProtection` (`ACTIVE`): DeleteUserPool refuses the pool until
    /// it is turned off.
    #[serde(default)]
    pub deletion_protection: bool,
    /// Cognito's `UserPoolTags`: AWS plumbing that changes no behaviour, stored and
    /// echoed by the API (at most 50, as in Cognito).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    /// Optimistic-concurrency version, as a user's: every write of the pool bumps it, and
    /// [`Store::replace_pool`](crate::core::storage::Store::replace_pool) names the version
    /// it read and fails if another writer (on any node) got there first. The store's
    /// column is authoritative; 0 for a record not read from the store.
    #[serde(default)]
    pub version: i64,
}

impl UserPool {
    /// The entity id of the pool's SAML service provider: the configured one, else
    /// Cognito's `urn:amazon:cognito:sp:<poolId>` (the Audience SAML IdPs are set up with
    /// for a Cognito pool, so a pool moved from Cognito keeps working unchanged).
    pub fn sp_entity_id(&self) -> String {
        match &self.saml_sp_entity_id {
            Some(id) => id.clone(),
            None => format!("urn:amazon:cognito:sp:{}", self.id),
        }
    }

    /// The AWS region part of the pool id (`us-east-1` for `us-east-1_AbC123dEf`).
    pub fn region(&self) -> &str {
        self.id.split('_').next().unwrap_or("us-east-1")
    }

    /// Identifiers a user may sign in with, besides (or instead of) the username.
    pub fn sign_in_aliases(&self) -> impl Iterator<Item = AliasAttribute> + '_ {
        self.username_attributes
            .iter()
            .chain(self.alias_attributes.iter())
            .copied()
    }

    /// The identity provider with this name (exact, as Cognito's provider names are).
    pub fn identity_provider(&self, name: &str) -> Option<&IdentityProvider> {
        self.identity_providers.iter().find(|p| p.name == name)
    }
}

/// OAuth flows an app client may use (Cognito's `AllowedOAuthFlows`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthFlow {
    Code,
    Implicit,
    ClientCredentials,
}

/// Token lifetimes in seconds (Cognito: ID/access 5 min to 1 day, refresh 1 h to 10 years).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TokenValidity {
    pub id_token_secs: i64,
    pub access_token_secs: i64,
    pub refresh_token_secs: i64,
    /// Authorization codes live 5 minutes, as Cognito's do.
    pub auth_code_secs: i64,
}

impl Default for TokenValidity {
    fn default() -> Self {
        TokenValidity {
            id_token_secs: 3600,
            access_token_secs: 3600,
            refresh_token_secs: 30 * 86400,
            auth_code_secs: 300,
        }
    }
}

/// Limits Cognito enforces on token lifetimes.
pub const MIN_TOKEN_SECS: i64 = 300;
pub const MAX_TOKEN_SECS: i64 = 86400;
pub const MIN_REFRESH_SECS: i64 = 3600;
pub const MAX_REFRESH_SECS: i64 = 10 * 365 * 86400;

/// Refresh-token rotation (Cognito's `RefreshTokenRotation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct RefreshRotation {
    pub enabled: bool,
    /// Seconds a rotated-out token still works (0 to 60).
    pub grace_period_secs: i64,
}

/// The user pools API's sign-in flows an app client may use (Cognito's
/// `ExplicitAuthFlows`). The hosted UI's own sign-in is not governed by them, as in Cognito.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AuthFlow {
    /// `USER_SRP_AUTH` (Amplify's default).
    AllowUserSrpAuth,
    /// `USER_PASSWORD_AUTH`: the password sent in clear over TLS.
    AllowUserPasswordAuth,
    /// `ADMIN_USER_PASSWORD_AUTH` (AdminInitiateAuth, signed).
    AllowAdminUserPasswordAuth,
    /// `REFRESH_TOKEN_AUTH` / `REFRESH_TOKEN` and GetTokensFromRefreshToken.
    AllowRefreshTokenAuth,
    /// `USER_AUTH`: choice-based sign-in.
    AllowUserAuth,
    /// `CUSTOM_AUTH`: needs the custom-challenge triggers; without them Cognito (and
    /// Cognate) refuse the flow itself.
    AllowCustomAuth,
}

impl AuthFlow {
    /// Cognito's name (`ALLOW_USER_SRP_AUTH`).
    pub fn as_str(self) -> &'static str {
        match self {
            AuthFlow::AllowUserSrpAuth => "ALLOW_USER_SRP_AUTH",
            AuthFlow::AllowUserPasswordAuth => "ALLOW_USER_PASSWORD_AUTH",
            AuthFlow::AllowAdminUserPasswordAuth => "ALLOW_ADMIN_USER_PASSWORD_AUTH",
            AuthFlow::AllowRefreshTokenAuth => "ALLOW_REFRESH_TOKEN_AUTH",
            AuthFlow::AllowUserAuth => "ALLOW_USER_AUTH",
            AuthFlow::AllowCustomAuth => "ALLOW_CUSTOM_AUTH",
        }
    }

    /// Every flow, in Cognito's documentation order.
    pub const ALL: [AuthFlow; 6] = [
        AuthFlow::AllowUserSrpAuth,
        AuthFlow::AllowUserPasswordAuth,
        AuthFlow::AllowAdminUserPasswordAuth,
        AuthFlow::AllowRefreshTokenAuth,
        AuthFlow::AllowUserAuth,
        AuthFlow::AllowCustomAuth,
    ];

    pub fn parse(text: &str) -> Option<AuthFlow> {
        AuthFlow::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// Cognito's default `ExplicitAuthFlows` for a client created without any: SRP, custom
/// and refresh.
pub fn default_auth_flows() -> Vec<AuthFlow> {
    vec![
        AuthFlow::AllowUserSrpAuth,
        AuthFlow::AllowCustomAuth,
        AuthFlow::AllowRefreshTokenAuth,
    ]
}

/// Cognito's `PreventUserExistenceErrors` of an app client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserExistenceErrors {
    /// Unknown users are answered exactly like known ones (wrong password, masked decoy
    /// delivery): Cognate's behaviour, and its default.
    #[default]
    Enabled,
    /// Cognito's LEGACY: `UserNotFoundException` tells that a user does not exist (the
    /// default of clients that Cognito's API creates).
    Legacy,
}

/// Per-client look of the hosted UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct Branding {
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
    pub extra_css: Option<String>,
}

/// An app client of a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppClient {
    /// Unique across all pools: the pool is found from the client id.
    pub id: String,
    pub pool_id: String,
    pub name: String,
    #[serde(default)]
    pub origin: Origin,
    /// The secret, encrypted under the master key so it can be shown again (as Cognito's
    /// DescribeUserPoolClient does). `None` for public clients.
    #[serde(default)]
    pub secret: Option<EncryptedSecret>,
    #[serde(default)]
    pub callback_urls: Vec<String>,
    #[serde(default)]
    pub logout_urls: Vec<String>,
    #[serde(default)]
    pub allowed_oauth_flows: Vec<OAuthFlow>,
    #[serde(default)]
    pub allowed_oauth_scopes: Vec<String>,
    /// `COGNITO` and/or IdP names.
    #[serde(default)]
    pub supported_identity_providers: Vec<String>,
    #[serde(default)]
    pub token_validity: TokenValidity,
    #[serde(default)]
    pub refresh_rotation: RefreshRotation,
    /// PKCE required on the authorization code flow; on by default for public clients.
    #[serde(default)]
    pub require_pkce: bool,
    /// Attributes the client may read (empty means every attribute).
    #[serde(default)]
    pub read_attributes: Vec<String>,
    /// Attributes the client may write (empty means every mutable attribute).
    #[serde(default)]
    pub write_attributes: Vec<String>,
    /// Origins allowed to call token, userInfo and revoke from a browser.
    #[serde(default)]
    pub allowed_cors_origins: Vec<String>,
    #[serde(default)]
    pub branding: Branding,
    /// The user pools API's sign-in flows this client may use (Cognito's
    /// `ExplicitAuthFlows`; issue 14).
    #[serde(default = "default_auth_flows")]
    pub explicit_auth_flows: Vec<AuthFlow>,
    /// Cognito's `PreventUserExistenceErrors` (issue 14).
    #[serde(default)]
    pub prevent_user_existence_errors: UserExistenceErrors,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// The name `supported_identity_providers` (and a session's sign-in method) give the
/// pool's own directory, password sign-in, as Cognito names it.
pub const OWN_USERS: &str = "COGNITO";

impl AppClient {
    pub fn is_confidential(&self) -> bool {
        self.secret.is_some()
    }

    /// Whether `name` ([`OWN_USERS`] or an IdP of the pool) is a way to sign in to this
    /// client.
    pub fn supports(&self, name: &str) -> bool {
        self.supported_identity_providers.iter().any(|p| p == name)
    }

    /// Whether the pool's own users sign in here with a password ([`OWN_USERS`] among the
    /// client's providers; a client of IdPs only offers their buttons, no password form
    /// and no account pages).
    pub fn takes_own_users(&self) -> bool {
        self.supports(OWN_USERS)
    }

    /// Whether the client's `ExplicitAuthFlows` allow `flow`.
    pub fn allows_flow(&self, flow: AuthFlow) -> bool {
        self.explicit_auth_flows.contains(&flow)
    }
}

/// A scope of a resource server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceScope {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// A resource server: its scopes appear as `<identifier>/<scope>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceServer {
    pub pool_id: String,
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub origin: Origin,
    #[serde(default)]
    pub scopes: Vec<ResourceScope>,
}

/// Cognito's user status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    ForceChangePassword,
    ResetRequired,
    ExternalProvider,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ResetRequired => "RESET_REQUIRED",
            UserStatus::ExternalProvider => "EXTERNAL_PROVIDER",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "UNCONFIRMED" => UserStatus::Unconfirmed,
            "CONFIRMED" => UserStatus::Confirmed,
            "FORCE_CHANGE_PASSWORD" => UserStatus::ForceChangePassword,
            "RESET_REQUIRED" => UserStatus::ResetRequired,
            "EXTERNAL_PROVIDER" => UserStatus::ExternalProvider,
            _ => return None,
        })
    }
}

impl fmt::Display for UserStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The most upstream identities one user may be linked to (Cognito's limit for
/// AdminLinkProviderForUser).
pub const MAX_LINKED_IDENTITIES: usize = 5;

/// A link between a directory user and an identity at an upstream IdP (Cognito's
/// `identities` entries).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FederatedIdentity {
    /// The IdP's name in the pool (`Google`, `SignInWithApple`, `MyOkta`, ...).
    pub provider_name: String,
    /// `Google`, `Facebook`, `LoginWithAmazon`, `SignInWithApple`, `OIDC` or `SAML`.
    pub provider_type: String,
    /// The upstream subject (Google's `sub`, Facebook's `id`, a SAML NameID, ...).
    pub user_id: String,
    /// The upstream issuer for OIDC/SAML; `None` for social providers, as in Cognito.
    #[serde(default)]
    pub issuer: Option<String>,
    /// Attributes last received from the IdP.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// Who issued `user_id`, as [`IdentityProvider::link_binding`] names it when the link
    /// was made: a provider name is the operator's label, and a `sub` is unique only
    /// within its issuer (OpenID Connect Core 1.0 section 2), so a provider repointed at
    /// another IdP must not sign its `"1"` into this user. `None` on links made before
    /// Cognate recorded it (and on imported or CLI links to an undeclared provider): an
    /// OpenID Connect link is held to its recorded `issuer` meanwhile, and the next
    /// sign-in adopts the provider's current binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_to: Option<String>,
    /// When the link was made (seconds since the epoch).
    pub linked_at: UnixTime,
}

/// The normalized keys a user is found by. The core computes them (Unicode-aware case
/// folding in Rust, never the database's collation) and the store indexes them uniquely
/// per pool, so both engines agree on what collides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UserLookup {
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone_number: Option<String>,
    #[serde(default)]
    pub preferred_username: Option<String>,
    /// The `email` attribute, normalized, when it is verified, whether or not it is a
    /// sign-in identifier. Not unique: automatic account linking finds users by it
    /// ([`crate::core::storage::Store::users_by_verified_email`]).
    #[serde(default)]
    pub verified_email: Option<String>,
}

/// A directory user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub pool_id: String,
    /// UUID, stable, never reused.
    pub sub: String,
    /// The username as given (its case kept for display).
    pub username: String,
    /// Standard and `custom:` attributes, as strings (Cognito's model). `sub` is not
    /// repeated here.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub status: UserStatus,
    pub enabled: bool,
    /// PHC string (Argon2id, or an imported bcrypt / PBKDF2 / scrypt hash until the next
    /// sign-in upgrades it).
    #[serde(default)]
    pub password_hash: Option<SecretString>,
    /// When an admin-set temporary password stops working.
    #[serde(default)]
    pub temporary_password_expires_at: Option<UnixTime>,
    #[serde(default)]
    pub identities: Vec<FederatedIdentity>,
    pub lookup: UserLookup,
    /// Enrolled second factors and recovery codes (issue 13). Secrets in it are sealed or
    /// hashed; it is left out of exports unless asked for.
    #[serde(default, skip_serializing_if = "UserMfa::is_empty")]
    pub mfa: UserMfa,
    /// The SRP verifier of the current password (issue 14, `USER_SRP_AUTH`), computed
    /// whenever the password is set or checked in clear; `None` until then (an imported
    /// hash). Sealed under the master key: a verifier is a fast hash of the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub srp: Option<SrpVerifier>,
    /// Email or phone number changes waiting for their code (Cognito's
    /// AttributesRequireVerificationBeforeUpdate): the attribute keeps its old, verified
    /// value until the new one is verified (issue 14).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending_attributes: BTreeMap<String, String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    /// Optimistic-concurrency version: an update names the version it read and fails if
    /// another writer got there first (no lost update).
    #[serde(default)]
    pub version: i64,
}

impl User {
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes.get(name).map(String::as_str)
    }
}

/// A user's SRP verifier (`v = g^x mod N`, Cognito's variant: see [`crate::core::srp`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SrpVerifier {
    /// The salt, as the lowercase hex Cognito's `SALT` challenge parameter carries.
    pub salt: String,
    /// The verifier's big-endian bytes, sealed under the master key with
    /// [`crate::core::secrets::srp_verifier_context`].
    pub verifier: EncryptedSecret,
}

/// A group of a pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Group {
    pub pool_id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Lower wins for `cognito:preferred_role`.
    #[serde(default)]
    pub precedence: Option<i64>,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub origin: Origin,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// What a signing key signs. Cognito signs ID and access tokens with different keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyPurpose {
    IdToken,
    AccessToken,
}

impl KeyPurpose {
    pub const ALL: [KeyPurpose; 2] = [KeyPurpose::IdToken, KeyPurpose::AccessToken];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyPurpose::IdToken => "id_token",
            KeyPurpose::AccessToken => "access_token",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "id_token" => Some(KeyPurpose::IdToken),
            "access_token" => Some(KeyPurpose::AccessToken),
            _ => None,
        }
    }
}

/// An RS256 signing key of a pool. The private key (PKCS#8 DER) is encrypted under the
/// master key; the public part is kept in the clear for the JWKS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SigningKey {
    pub pool_id: String,
    pub kid: String,
    pub purpose: KeyPurpose,
    pub private_pkcs8: EncryptedSecret,
    /// Base64url modulus and exponent, as they appear in the JWK.
    pub n: String,
    pub e: String,
    pub created_at: UnixTime,
    /// Set when a newer key replaced this one; the key stays in the JWKS until every token
    /// it signed has expired.
    #[serde(default)]
    pub retired_at: Option<UnixTime>,
}

/// A pool's SAML 2.0 service-provider key pair (RSA-2048) and the self-signed X.509
/// certificate that carries its public key in the SP metadata (SAML 2.0 Metadata section
/// 2.4.1.1, `KeyDescriptor use="signing"`). The private key (PKCS#8 DER) is sealed under
/// the master key like the token keys. One is active per pool; a rotated-out key stays in
/// the metadata until `published_until`, so IdPs that refresh metadata late still trust
/// what the SP signed before the rotation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpKeyRecord {
    pub pool_id: String,
    pub kid: String,
    pub private_pkcs8: EncryptedSecret,
    /// The certificate's DER, standard base64 (as `ds:X509Certificate` carries it).
    pub certificate: String,
    pub created_at: UnixTime,
    /// When a newer key replaced this one (`None` while active).
    pub retired_at: Option<UnixTime>,
    /// Until when a retired key's certificate stays in the metadata.
    pub published_until: Option<UnixTime>,
}

/// A page of results with an opaque continuation token.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// A request for one page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PageRequest {
    pub limit: u32,
    /// The `next` token of the previous page.
    pub after: Option<String>,
}

impl PageRequest {
    /// The page that starts after `key` in the listing's order (users: by sub), as if a
    /// previous page had ended there, so a caller can start anywhere (the simulated
    /// destinations of [`crate::core::account`] start at a point derived from a hash).
    pub fn after_key(key: &str, limit: u32) -> Self {
        PageRequest {
            limit,
            after: Some(Self::token_after(key)),
        }
    }

    /// The page token of a page that ended at `last_key`: the key, base64url-encoded so
    /// callers treat it as opaque. The one definition: the engines write their tokens with it.
    pub fn token_after(last_key: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last_key)
    }
}
