//! The declarations of the configuration file: `[[pools]]` and what a pool holds
//! (`[[pools.clients]]`, `[[pools.resource_servers]]`, `[[pools.groups]]`,
//! `[[pools.identity_providers]]`), and the identity pools with the roles they hand out
//! (`[[identity_pools]]`, `[[roles]]`, in `identity_pool`).
//!
//! Every table denies unknown keys, so a misspelt key is an error with its location rather
//! than a silently ignored setting. The `to_record` helpers turn a declaration into the
//! stored record ([`crate::core::model`]), owned by the file (`Origin::Config`).

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::core::model::{
    AliasAttribute, AppClient, AttributeDataType, Branding, CodeLimits, CustomAttribute,
    FactorSettings, FirstFactor, Group, IdentityProvider, MfaFactor, MfaSetting, OAuthFlow, Origin,
    PasskeySettings, PasswordPolicy, RefreshRotation, ResourceScope, ResourceServer,
    ThreatProtection, TokenValidity, TriggerKind, Triggers, UserPool,
};
use crate::core::secrets::{EncryptedSecret, SecretString};
use crate::core::UnixTime;

mod identity_pool;
mod idp;
mod trigger;

pub use identity_pool::{
    IdentityPoolDecl, IdentityPoolUserPoolDecl, RoleDecl, RoleMappingDecl, RuleDecl, TrustDecl,
};
pub use idp::{EndpointsDecl, IdpDecl, LiteralSecret};
pub use trigger::{TriggerDecl, TriggersDecl};

/// `[[pools]]`: a user pool.
#[derive(Debug, Clone, PartialEq, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PoolDecl {
    /// The stable pool id. When omitted, applying the file adopts the config-owned pool
    /// of the same name, or generates an id and prints it so the operator can pin it.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub username_case_sensitive: bool,
    /// Email and/or phone number as the username (Cognito's `UsernameAttributes`).
    #[serde(default)]
    pub username_attributes: Vec<AliasAttribute>,
    /// Extra sign-in identifiers (Cognito's `AliasAttributes`).
    #[serde(default)]
    pub alias_attributes: Vec<AliasAttribute>,
    #[serde(default)]
    pub auto_verified_attributes: Vec<AliasAttribute>,
    #[serde(default)]
    pub required_attributes: Vec<String>,
    #[serde(default)]
    pub custom_attributes: Vec<CustomAttributeDecl>,
    #[serde(default)]
    pub password_policy: PasswordPolicyDecl,
    #[serde(default)]
    pub admin_create_user_only: bool,
    #[serde(default)]
    pub mfa: MfaSetting,
    /// Second factors users may enrol and pass: `TOTP`, `EMAIL`, `PASSKEY` (omitted:
    /// `["TOTP"]`).
    #[serde(default)]
    pub mfa_factors: Option<Vec<MfaFactor>>,
    /// Ways to start signing in: `PASSWORD`, `EMAIL_OTP`, `PASSKEY` (omitted:
    /// `["PASSWORD"]`).
    #[serde(default)]
    pub sign_in_factors: Option<Vec<FirstFactor>>,
    /// `passkeys = { relying_party_id, origins, register_at_sign_up }`.
    #[serde(default)]
    pub passkeys: PasskeysDecl,
    #[serde(default)]
    pub userinfo_string_values: bool,
    /// Link a federated identity's first sign-in to the one user holding its verified
    /// email address (see [`crate::federation::linking`]).
    #[serde(default)]
    pub link_federated_users_by_email: bool,
    /// Cognito's `DeletionProtection`: the API's DeleteUserPool refuses the pool.
    #[serde(default)]
    pub deletion_protection: bool,
    /// `[pools.code_limits]`: budgets of mailed codes per destination and client address.
    #[serde(default)]
    pub code_limits: CodeLimitsDecl,
    /// `[pools.threat_protection]`: compromised passwords, the auth event log and
    /// risk-based responses (the model's own shape, unknown keys refused).
    #[serde(default)]
    pub threat_protection: ThreatProtection,
    /// `[pools.triggers]`: a webhook URL per Cognito trigger (`pre_sign_up = "https://..."`;
    /// `pre_token_generation = { url = "https://...", version = "V2_0" }`), and the custom
    /// senders' `sender_key`.
    #[serde(default)]
    pub triggers: TriggersDecl,
    /// This pool's mail sender (confirmation and reset codes); else `[server.smtp]`.
    #[serde(default)]
    pub email: Option<EmailDecl>,
    #[serde(default)]
    pub clients: Vec<ClientDecl>,
    #[serde(default)]
    pub resource_servers: Vec<ResourceServerDecl>,
    #[serde(default)]
    pub groups: Vec<GroupDecl>,
    #[serde(default)]
    pub identity_providers: Vec<IdpDecl>,
    /// The SAML SP entity id presented to SAML IdPs (an absolute URI or a URN); Cognito's
    /// `urn:amazon:cognito:sp:<poolId>` when omitted.
    #[serde(default)]
    pub saml_sp_entity_id: Option<String>,
    /// The pool's prefix domain (Cognito's CreateUserPoolDomain without a certificate): a
    /// name kept for compatibility (issue 15).
    #[serde(default)]
    pub domain: Option<String>,
    /// The pool's custom domain: a host name Cognate answers for behind the proxy.
    #[serde(default)]
    pub custom_domain: Option<CustomDomainDecl>,
}

/// `custom_domain = { domain = "auth.example.com", certificate_arn = "arn:aws:acm:..." }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomDomainDecl {
    pub domain: String,
    pub certificate_arn: String,
}

/// `passkeys = { ... }`: the pool's WebAuthn relying party (used when `mfa_factors` or
/// `sign_in_factors` has `PASSKEY`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct PasskeysDecl {
    /// The relying-party id: the public URL's host (the default) or a parent domain of it.
    pub relying_party_id: Option<String>,
    /// Origins besides the public URL's that may run passkey ceremonies
    /// (`https://app.example.com`).
    pub origins: Vec<String>,
    /// Offer passkey registration right after sign-up.
    pub register_at_sign_up: bool,
}

/// `email = { from, smtp_url_env }`: how a pool's codes are mailed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailDecl {
    /// The sender: `no-reply@example.com` or `Shop <no-reply@example.com>`.
    pub from: String,
    /// The name of an environment variable holding this pool's SMTP URL (the URL holds a
    /// password, so it never sits in the file). Without it, `[server.smtp]` sends.
    #[serde(default)]
    pub smtp_url_env: Option<String>,
    /// The URL read from `smtp_url_env` when the configuration is loaded.
    #[serde(skip)]
    pub smtp_url: Option<SecretString>,
}

/// `[[pools.custom_attributes]]`: a `custom:<name>` attribute.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomAttributeDecl {
    /// The name without the `custom:` prefix.
    pub name: String,
    /// `String`, `Number`, `Boolean` or `DateTime`.
    #[serde(default, rename = "type")]
    pub data_type: AttributeDataType,
    #[serde(default = "default_true")]
    pub mutable: bool,
    #[serde(default)]
    pub min_length: Option<u32>,
    #[serde(default)]
    pub max_length: Option<u32>,
    /// The least value of a `Number` attribute (an integer).
    #[serde(default)]
    pub min_value: Option<i64>,
    /// The greatest value of a `Number` attribute (an integer).
    #[serde(default)]
    pub max_value: Option<i64>,
}

fn default_true() -> bool {
    true
}

/// `password_policy = { ... }`: Cognito's `PasswordPolicyType`, with Cognito's defaults.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PasswordPolicyDecl {
    pub minimum_length: u32,
    pub require_uppercase: bool,
    pub require_lowercase: bool,
    pub require_numbers: bool,
    pub require_symbols: bool,
    pub temporary_password_validity_days: u32,
}

impl Default for PasswordPolicyDecl {
    fn default() -> Self {
        let p = PasswordPolicy::default();
        PasswordPolicyDecl {
            minimum_length: p.minimum_length,
            require_uppercase: p.require_uppercase,
            require_lowercase: p.require_lowercase,
            require_numbers: p.require_numbers,
            require_symbols: p.require_symbols,
            temporary_password_validity_days: p.temporary_password_validity_days,
        }
    }
}

impl From<&PasswordPolicyDecl> for PasswordPolicy {
    fn from(d: &PasswordPolicyDecl) -> Self {
        PasswordPolicy {
            minimum_length: d.minimum_length,
            require_uppercase: d.require_uppercase,
            require_lowercase: d.require_lowercase,
            require_numbers: d.require_numbers,
            require_symbols: d.require_symbols,
            temporary_password_validity_days: d.temporary_password_validity_days,
        }
    }
}

/// `[pools.code_limits]`: the budgets of mailed codes, per hour
/// ([`crate::core::model::CodeLimits`], whose defaults these are).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CodeLimitsDecl {
    pub sends_per_destination: u32,
    pub tries_per_destination: u32,
    pub sends_per_client_address: u32,
    pub tries_per_client_address: u32,
}

impl Default for CodeLimitsDecl {
    fn default() -> Self {
        let l = CodeLimits::default();
        CodeLimitsDecl {
            sends_per_destination: l.sends_per_destination,
            tries_per_destination: l.tries_per_destination,
            sends_per_client_address: l.sends_per_client_address,
            tries_per_client_address: l.tries_per_client_address,
        }
    }
}

impl From<&CodeLimitsDecl> for CodeLimits {
    fn from(d: &CodeLimitsDecl) -> Self {
        CodeLimits {
            sends_per_destination: d.sends_per_destination,
            tries_per_destination: d.tries_per_destination,
            sends_per_client_address: d.sends_per_client_address,
            tries_per_client_address: d.tries_per_client_address,
        }
    }
}

/// `[[pools.clients]]`: an app client.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientDecl {
    /// The stable client id (unique across all pools). When omitted, applying the file
    /// adopts the config-owned client of the same name in the pool, or generates one.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    /// A confidential client: a secret is generated once and kept across applies.
    #[serde(default)]
    pub generate_secret: bool,
    /// The secret from `COGNATE_CLIENT_SECRET_<ID>`. Never read from the file: a literal
    /// secret there is refused by the checker.
    #[serde(skip)]
    pub secret: Option<SecretString>,
    #[serde(default)]
    pub callback_urls: Vec<String>,
    #[serde(default)]
    pub logout_urls: Vec<String>,
    #[serde(default)]
    pub allowed_oauth_flows: Vec<OAuthFlow>,
    #[serde(default)]
    pub allowed_oauth_scopes: Vec<String>,
    #[serde(default = "default_providers")]
    pub supported_identity_providers: Vec<String>,
    #[serde(default)]
    pub id_token_validity: Option<Lifetime>,
    #[serde(default)]
    pub access_token_validity: Option<Lifetime>,
    #[serde(default)]
    pub refresh_token_validity: Option<Lifetime>,
    #[serde(default)]
    pub refresh_token_rotation: RotationDecl,
    /// PKCE on the code flow; defaults to on for public clients, off for confidential ones.
    #[serde(default)]
    pub require_pkce: Option<bool>,
    #[serde(default)]
    pub read_attributes: Vec<String>,
    #[serde(default)]
    pub write_attributes: Vec<String>,
    #[serde(default)]
    pub allowed_cors_origins: Vec<String>,
    #[serde(default)]
    pub branding: BrandingDecl,
    /// Cognito's `ExplicitAuthFlows` (`ALLOW_USER_SRP_AUTH`, ...); omitted is Cognito's
    /// default (SRP, custom, refresh).
    #[serde(default = "crate::core::model::default_auth_flows")]
    pub explicit_auth_flows: Vec<crate::core::model::AuthFlow>,
    /// Cognito's `PreventUserExistenceErrors`: `ENABLED` (the default) or `LEGACY`.
    #[serde(default)]
    pub prevent_user_existence_errors: crate::core::model::UserExistenceErrors,
}

fn default_providers() -> Vec<String> {
    vec!["COGNITO".to_string()]
}

impl Default for ClientDecl {
    fn default() -> Self {
        ClientDecl {
            id: None,
            name: String::new(),
            generate_secret: false,
            secret: None,
            callback_urls: Vec::new(),
            logout_urls: Vec::new(),
            allowed_oauth_flows: Vec::new(),
            allowed_oauth_scopes: Vec::new(),
            supported_identity_providers: default_providers(),
            id_token_validity: None,
            access_token_validity: None,
            refresh_token_validity: None,
            refresh_token_rotation: RotationDecl::default(),
            require_pkce: None,
            read_attributes: Vec::new(),
            write_attributes: Vec::new(),
            allowed_cors_origins: Vec::new(),
            branding: BrandingDecl::default(),
            explicit_auth_flows: crate::core::model::default_auth_flows(),
            prevent_user_existence_errors: Default::default(),
        }
    }
}

/// `refresh_token_rotation = { enabled, grace_period_seconds }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct RotationDecl {
    pub enabled: bool,
    pub grace_period_seconds: i64,
}

/// `branding = { ... }`: the hosted UI's look for this client.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct BrandingDecl {
    pub display_name: Option<String>,
    pub logo_url: Option<String>,
    pub primary_color: Option<String>,
    pub background_color: Option<String>,
    pub extra_css: Option<String>,
}

/// `[[pools.resource_servers]]`: an API whose scopes are `<identifier>/<scope>`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceServerDecl {
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<ScopeDecl>,
}

/// `scopes = [{ name, description }]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScopeDecl {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// `[[pools.groups]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDecl {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub precedence: Option<i64>,
    #[serde(default)]
    pub role_arn: Option<String>,
}

/// A token lifetime in seconds, written as integer seconds or a human duration:
/// `"90s"`, `"60m"`, `"1h"`, `"30d"`, `"1h30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime(pub i64);

impl Lifetime {
    /// Parses a human duration: one or more `<number><unit>` parts, units `s`, `m`, `h`,
    /// `d`; a bare number is seconds.
    pub fn parse(text: &str) -> Result<Lifetime, String> {
        let bad = || {
            format!(
                "{text:?} is not a duration: write a number with a unit s, m, h or d \
                 (e.g. \"1h\", \"60m\", \"30d\") or whole seconds"
            )
        };
        let text_trimmed = text.trim();
        if text_trimmed.is_empty() {
            return Err(bad());
        }
        if let Ok(secs) = text_trimmed.parse::<i64>() {
            return Ok(Lifetime(secs));
        }
        let mut total: i64 = 0;
        let mut number = String::new();
        for c in text_trimmed.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86400,
                _ => return Err(bad()),
            };
            let n: i64 = number.parse().map_err(|_| bad())?;
            number.clear();
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(bad)?;
        }
        if !number.is_empty() {
            // "1h30" — a trailing number without a unit is ambiguous.
            return Err(bad());
        }
        Ok(Lifetime(total))
    }
}

impl<'de> Deserialize<'de> for Lifetime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LifetimeVisitor;

        impl Visitor<'_> for LifetimeVisitor {
            type Value = Lifetime;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration like \"1h\", \"60m\", \"30d\" or whole seconds")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lifetime, E> {
                Ok(Lifetime(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lifetime, E> {
                i64::try_from(v)
                    .map(Lifetime)
                    .map_err(|_| E::custom("the duration is too large"))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Lifetime, E> {
                Lifetime::parse(v).map_err(E::custom)
            }
        }

        deserializer.deserialize_any(LifetimeVisitor)
    }
}

impl PoolDecl {
    /// The pool's declared domains as file-owned records (prefix first).
    pub fn domain_records(&self, pool_id: &str, now: UnixTime) -> Vec<crate::core::model::Domain> {
        let record = |domain: &str, certificate_arn: Option<&str>| crate::core::model::Domain {
            domain: domain.to_string(),
            pool_id: pool_id.to_string(),
            certificate_arn: certificate_arn.map(str::to_string),
            managed_login_version: crate::core::model::default_managed_login_version(),
            origin: Origin::Config,
            created_at: now,
            updated_at: now,
        };
        let mut out = Vec::new();
        if let Some(prefix) = &self.domain {
            out.push(record(prefix, None));
        }
        if let Some(custom) = &self.custom_domain {
            out.push(record(&custom.domain, Some(&custom.certificate_arn)));
        }
        out
    }

    /// The pool's factor settings, with the defaults for what is not declared.
    pub fn factor_settings(&self) -> FactorSettings {
        let defaults = FactorSettings::default();
        FactorSettings {
            mfa: self.mfa_factors.clone().unwrap_or(defaults.mfa),
            first: self.sign_in_factors.clone().unwrap_or(defaults.first),
            passkeys: PasskeySettings {
                relying_party_id: self.passkeys.relying_party_id.clone(),
                origins: self.passkeys.origins.clone(),
                register_at_sign_up: self.passkeys.register_at_sign_up,
            },
        }
    }

    /// The stored pool for this declaration. `existing` (the stored record with this id)
    /// keeps its creation time and, when nothing differs, its update time, so applying an
    /// unchanged file changes nothing.
    ///
    /// The pool's identity providers are kept as stored: their credentials are sealed
    /// under the master key, so [`crate::config::apply`] resolves the declared ones and
    /// passes them to [`PoolDecl::to_record_with_providers`].
    pub fn to_record(&self, id: &str, now: UnixTime, existing: Option<&UserPool>) -> UserPool {
        let providers = existing.map_or_else(Vec::new, |e| e.identity_providers.clone());
        self.to_record_with_providers(id, providers, now, existing)
    }

    /// As [`PoolDecl::to_record`], with these identity providers.
    pub fn to_record_with_providers(
        &self,
        id: &str,
        identity_providers: Vec<IdentityProvider>,
        now: UnixTime,
        existing: Option<&UserPool>,
    ) -> UserPool {
        let record = UserPool {
            id: id.to_string(),
            name: self.name.clone(),
            origin: Origin::Config,
            username_case_sensitive: self.username_case_sensitive,
            username_attributes: self.username_attributes.clone(),
            alias_attributes: self.alias_attributes.clone(),
            auto_verified_attributes: self.auto_verified_attributes.clone(),
            required_attributes: self.required_attributes.clone(),
            custom_attributes: self
                .custom_attributes
                .iter()
                .map(|c| CustomAttribute {
                    name: c.name.clone(),
                    data_type: c.data_type,
                    mutable: c.mutable,
                    min_length: c.min_length,
                    max_length: c.max_length,
                    min_value: c.min_value,
                    max_value: c.max_value,
                })
                .collect(),
            password_policy: (&self.password_policy).into(),
            admin_create_user_only: self.admin_create_user_only,
            mfa: self.mfa,
            userinfo_string_values: self.userinfo_string_values,
            link_federated_users_by_email: self.link_federated_users_by_email,
            deletion_protection: self.deletion_protection,
            tags: Default::default(),
            code_limits: (&self.code_limits).into(),
            threat_protection: self.threat_protection.clone(),
            triggers: Triggers(
                self.triggers
                    .iter()
                    .map(|(kind, d)| (*kind, d.url.clone()))
                    .collect(),
                self.triggers
                    .get(&TriggerKind::PreTokenGeneration)
                    .and_then(|d| d.version)
                    .unwrap_or_default(),
                self.triggers
                    .sender_key
                    .as_ref()
                    .map(|k| k.trim().to_string()),
            ),
            identity_providers,
            saml_sp_entity_id: self.saml_sp_entity_id.clone(),
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: existing.map_or(now, |e| e.updated_at),
            factors: self.factor_settings(),
            // The version read: an update is a compare-and-swap against it.
            version: existing.map_or(0, |e| e.version),
        };
        touch(record, existing, now, |r, t| r.updated_at = t)
    }
}

impl ClientDecl {
    /// Whether the client is confidential (has a secret).
    pub fn is_confidential(&self) -> bool {
        self.generate_secret
    }

    /// PKCE requirement: as declared, else on for public clients and off for confidential
    /// ones (a public client cannot keep a secret, so PKCE is its only code binding).
    pub fn effective_require_pkce(&self) -> bool {
        self.require_pkce.unwrap_or(!self.is_confidential())
    }

    /// Token lifetimes with Cognito's defaults for what is not declared.
    pub fn token_validity(&self) -> TokenValidity {
        let d = TokenValidity::default();
        TokenValidity {
            id_token_secs: self.id_token_validity.map_or(d.id_token_secs, |l| l.0),
            access_token_secs: self
                .access_token_validity
                .map_or(d.access_token_secs, |l| l.0),
            refresh_token_secs: self
                .refresh_token_validity
                .map_or(d.refresh_token_secs, |l| l.0),
            auth_code_secs: d.auth_code_secs,
        }
    }

    /// The stored client. `secret` is the sealed secret to store (the caller decides
    /// whether to keep the existing one); `existing` keeps the timestamps as for pools.
    pub fn to_record(
        &self,
        id: &str,
        pool_id: &str,
        secret: Option<EncryptedSecret>,
        now: UnixTime,
        existing: Option<&AppClient>,
    ) -> AppClient {
        let record = AppClient {
            id: id.to_string(),
            pool_id: pool_id.to_string(),
            name: self.name.clone(),
            origin: Origin::Config,
            secret,
            callback_urls: self.callback_urls.clone(),
            logout_urls: self.logout_urls.clone(),
            allowed_oauth_flows: self.allowed_oauth_flows.clone(),
            allowed_oauth_scopes: self.allowed_oauth_scopes.clone(),
            supported_identity_providers: self.supported_identity_providers.clone(),
            token_validity: self.token_validity(),
            refresh_rotation: RefreshRotation {
                enabled: self.refresh_token_rotation.enabled,
                grace_period_secs: self.refresh_token_rotation.grace_period_seconds,
            },
            require_pkce: self.effective_require_pkce(),
            read_attributes: self.read_attributes.clone(),
            write_attributes: self.write_attributes.clone(),
            allowed_cors_origins: self.allowed_cors_origins.clone(),
            branding: Branding {
                display_name: self.branding.display_name.clone(),
                logo_url: self.branding.logo_url.clone(),
                primary_color: self.branding.primary_color.clone(),
                background_color: self.branding.background_color.clone(),
                extra_css: self.branding.extra_css.clone(),
            },
            explicit_auth_flows: self.explicit_auth_flows.clone(),
            prevent_user_existence_errors: self.prevent_user_existence_errors,
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: existing.map_or(now, |e| e.updated_at),
        };
        touch(record, existing, now, |r, t| r.updated_at = t)
    }
}

impl ResourceServerDecl {
    /// The stored resource server (it has no timestamps).
    pub fn to_record(&self, pool_id: &str) -> ResourceServer {
        ResourceServer {
            pool_id: pool_id.to_string(),
            identifier: self.identifier.clone(),
            name: self.name.clone(),
            origin: Origin::Config,
            scopes: self
                .scopes
                .iter()
                .map(|s| ResourceScope {
                    name: s.name.clone(),
                    description: s.description.clone(),
                })
                .collect(),
        }
    }
}

impl GroupDecl {
    /// The stored group; timestamps as for pools.
    pub fn to_record(&self, pool_id: &str, now: UnixTime, existing: Option<&Group>) -> Group {
        let record = Group {
            pool_id: pool_id.to_string(),
            name: self.name.clone(),
            description: self.description.clone(),
            precedence: self.precedence,
            role_arn: self.role_arn.clone(),
            origin: Origin::Config,
            created_at: existing.map_or(now, |e| e.created_at),
            updated_at: existing.map_or(now, |e| e.updated_at),
        };
        touch(record, existing, now, |r, t| r.updated_at = t)
    }
}

/// Sets `updated_at` to `now` unless the record equals the existing one (which already
/// carries the existing timestamps), so an unchanged declaration stays byte-identical.
fn touch<T: PartialEq>(
    mut record: T,
    existing: Option<&T>,
    now: UnixTime,
    set: impl Fn(&mut T, UnixTime),
) -> T {
    if existing != Some(&record) {
        set(&mut record, now);
    }
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_parse_as_seconds_or_human_durations() {
        assert_eq!(Lifetime::parse("1h"), Ok(Lifetime(3600)));
        assert_eq!(Lifetime::parse("60m"), Ok(Lifetime(3600)));
        assert_eq!(Lifetime::parse("30d"), Ok(Lifetime(30 * 86400)));
        assert_eq!(Lifetime::parse("1h30m"), Ok(Lifetime(5400)));
        assert_eq!(Lifetime::parse("300"), Ok(Lifetime(300)));
        for bad in ["", "1x", "h", "1h30", "1.5h", "-"] {
            let err = Lifetime::parse(bad).unwrap_err();
            assert!(err.contains("not a duration"), "{bad}: {err}");
        }
        #[derive(Deserialize)]
        struct T {
            a: Lifetime,
            b: Lifetime,
        }
        let t: T = toml::from_str("a = 900\nb = \"15m\"").unwrap();
        assert_eq!((t.a, t.b), (Lifetime(900), Lifetime(900)));
    }

    #[test]
    fn client_defaults_follow_confidentiality() {
        let public = ClientDecl {
            name: "web".into(),
            ..ClientDecl::default()
        };
        assert!(public.effective_require_pkce());
        let confidential = ClientDecl {
            generate_secret: true,
            ..public.clone()
        };
        assert!(!confidential.effective_require_pkce());
        let forced = ClientDecl {
            require_pkce: Some(true),
            ..confidential
        };
        assert!(forced.effective_require_pkce());
        assert_eq!(public.token_validity(), TokenValidity::default());
        assert_eq!(public.supported_identity_providers, ["COGNITO"]);
    }

    #[test]
    fn to_record_keeps_timestamps_when_unchanged() {
        let decl = PoolDecl {
            name: "shop".into(),
            ..PoolDecl::default()
        };
        let first = decl.to_record("us-east-1_abc", 100, None);
        assert_eq!((first.created_at, first.updated_at), (100, 100));
        assert_eq!(first.origin, Origin::Config);
        let same = decl.to_record("us-east-1_abc", 200, Some(&first));
        assert_eq!(same, first);
        let renamed = PoolDecl {
            name: "store".into(),
            ..decl
        };
        let changed = renamed.to_record("us-east-1_abc", 300, Some(&first));
        assert_eq!((changed.created_at, changed.updated_at), (100, 300));
    }
}
