//! Identity pools (Cognito's "federated identities"), the roles they hand out, and the
//! identities they give out ids for.
//!
//! - [`IdentityPool`]: Cognito's `IdentityPool` (CreateIdentityPool's fields) plus the
//!   pool's default roles and role mappings (SetIdentityPoolRoles), kept in one record.
//! - [`Role`]: an IAM-style role record. IAM is not Cognito's API, so roles are declared
//!   in the configuration file (`[[roles]]`) and written by `cognate apply`; credentials
//!   vended for a role are checked against the role as stored at each request, so editing
//!   its policy and applying takes effect for credentials already out.
//! - [`Identity`]: an identity id (`<region>:<uuid>`) with the logins linked to it; no
//!   logins is a guest (unauthenticated) identity.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Origin;
use crate::core::identity_pools::mapping::{IdentityPoolRoles, RoleMapping};
use crate::core::UnixTime;

/// Role session bounds (IAM's `MaxSessionDuration`: 1 to 12 hours, 1 hour by default).
pub const MIN_ROLE_SESSION_SECS: u32 = 900;
pub const MAX_ROLE_SESSION_SECS: u32 = 43_200;
pub const DEFAULT_ROLE_SESSION_SECS: u32 = 3600;

/// One user pool an identity pool accepts tokens of (Cognito's `CognitoIdentityProvider`).
/// The API renders its `ProviderName` as `<issuer host>/<pool id>`; the record keeps the
/// pool id, so a change of the node's public URL changes nothing stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPoolUserPool {
    pub pool_id: String,
    pub client_id: String,
    /// Cognito's `ServerSideTokenCheck`: also check that the user was not signed out
    /// globally since the token was issued.
    #[serde(default)]
    pub server_side_token_check: bool,
}

/// An identity pool (Cognito's `IdentityPool` with its roles).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPool {
    /// `<region>:<uuid v4>`.
    pub id: String,
    /// Cognito's `IdentityPoolName`: 1 to 128 word characters or spaces.
    pub name: String,
    /// Cognito's `AllowUnauthenticatedIdentities` (guest access).
    #[serde(default)]
    pub allow_unauthenticated: bool,
    /// Cognito's `AllowClassicFlow` (GetOpenIdToken + AssumeRoleWithWebIdentity).
    #[serde(default)]
    pub allow_classic_flow: bool,
    /// Cognito's `CognitoIdentityProviders`.
    #[serde(default)]
    pub user_pools: Vec<IdentityPoolUserPool>,
    /// Cognito's `SupportedLoginProviders` (social tokens directly). Refused non-empty by
    /// validation for now.
    #[serde(default)]
    pub supported_login_providers: BTreeMap<String, String>,
    /// Cognito's `DeveloperProviderName`: immutable once set.
    #[serde(default)]
    pub developer_provider_name: Option<String>,
    /// SetIdentityPoolRoles' `Roles`.
    #[serde(default)]
    pub roles: IdentityPoolRoles,
    /// SetIdentityPoolRoles' `RoleMappings`, keyed by user pool id (the API's key is the
    /// provider name `<issuer host>/<pool id>`; the edge translates).
    #[serde(default)]
    pub role_mappings: BTreeMap<String, RoleMapping>,
    /// Cognito's `IdentityPoolTags`.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Issue 12, item 6 ("optional real AWS"): an STS endpoint (`https://sts.<region>.
    /// amazonaws.com/`) where GetCredentialsForIdentity exchanges a fresh OpenID token
    /// for the resolved role ARN (AssumeRoleWithWebIdentity) instead of vending Cognate's
    /// own credentials. The roles are then real IAM roles, not Cognate role records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream_sts_endpoint: Option<String>,
    #[serde(default)]
    pub origin: Origin,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// Which identities a role's trust admits (the `cognito-identity.amazonaws.com:amr`
/// condition of an IAM trust policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustAmr {
    Authenticated,
    Unauthenticated,
    Any,
}

impl TrustAmr {
    /// Whether a role with this trust may be a pool's authenticated role.
    pub fn admits_authenticated(self) -> bool {
        matches!(self, TrustAmr::Authenticated | TrustAmr::Any)
    }

    /// Whether a role with this trust may be a pool's unauthenticated (guest) role.
    pub fn admits_unauthenticated(self) -> bool {
        matches!(self, TrustAmr::Unauthenticated | TrustAmr::Any)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TrustAmr::Authenticated => "authenticated",
            TrustAmr::Unauthenticated => "unauthenticated",
            TrustAmr::Any => "any",
        }
    }
}

/// A role's trust: which identity pools (the `cognito-identity.amazonaws.com:aud`
/// condition) and which kind of identity may assume it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleTrust {
    /// Identity pool ids; never empty.
    pub identity_pool_ids: Vec<String>,
    pub amr: TrustAmr,
}

impl RoleTrust {
    /// Whether the trust admits `identity_pool_id`.
    pub fn trusts_pool(&self, identity_pool_id: &str) -> bool {
        self.identity_pool_ids.iter().any(|p| p == identity_pool_id)
    }
}

/// A role: its ARN is its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// `arn:aws:iam::<12 digits>:role/<path/name>`.
    pub arn: String,
    pub trust: RoleTrust,
    /// The IAM-style permissions policy document, as JSON text.
    pub policy: String,
    /// How long credentials for the role may last (900..=43200 seconds).
    #[serde(default = "default_session_secs")]
    pub max_session_secs: u32,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub origin: Origin,
    pub updated_at: UnixTime,
}

fn default_session_secs() -> u32 {
    DEFAULT_ROLE_SESSION_SECS
}

/// One login linked to an identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IdentityLogin {
    /// The canonical provider key: the user pool id for Cognate pools, the developer
    /// provider name for developer identities.
    pub provider: String,
    /// The user's `sub`, or the developer user identifier.
    pub subject: String,
}

/// An identity of an identity pool (Cognito's `IdentityDescription`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// `<region>:<uuid>`.
    pub id: String,
    pub identity_pool_id: String,
    /// Ordered by (provider, subject). Empty: a guest identity, or one whose last login
    /// was unlinked (Cognito: "removing the last linked login will make this identity
    /// inaccessible"; the record stays, reachable by id only).
    pub logins: Vec<IdentityLogin>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// A new identity pool or identity id: `<region>:<uuid v4>`, as Cognito shapes them.
pub fn new_identity_id(region: &str) -> String {
    format!("{region}:{}", crate::core::ids::new_sub())
}

/// Whether `id` has Cognito's identity (pool) id shape: `<region>:<uuid>` (the pattern
/// `[\w-]+:[0-9a-f-]+`, 1 to 55 characters).
pub fn is_identity_id(id: &str) -> bool {
    let Some((region, rest)) = id.split_once(':') else {
        return false;
    };
    id.len() <= 55
        && !region.is_empty()
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && uuid::Uuid::try_parse(rest).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_ids_are_region_and_uuid() {
        let id = new_identity_id("eu-west-1");
        assert!(id.starts_with("eu-west-1:"), "{id}");
        assert!(is_identity_id(&id), "{id}");
        assert_ne!(id, new_identity_id("eu-west-1"));
        for bad in [
            "",
            "eu-west-1",
            ":0b9b1c9e-1f2a-4c55-9a4e-2f5d7c1a0b3c",
            "eu west:0b9b1c9e-1f2a-4c55-9a4e-2f5d7c1a0b3c",
            "eu-west-1:not-a-uuid",
        ] {
            assert!(!is_identity_id(bad), "{bad}");
        }
    }

    #[test]
    fn trust_amr_admits() {
        assert!(TrustAmr::Any.admits_authenticated() && TrustAmr::Any.admits_unauthenticated());
        assert!(TrustAmr::Authenticated.admits_authenticated());
        assert!(!TrustAmr::Authenticated.admits_unauthenticated());
        assert!(TrustAmr::Unauthenticated.admits_unauthenticated());
        assert!(!TrustAmr::Unauthenticated.admits_authenticated());
    }
}
