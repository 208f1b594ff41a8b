//! The declarations of `[[roles]]` and `[[identity_pools]]`.
//!
//! ```toml
//! [[roles]]
//! arn = "arn:aws:iam::123456789012:role/app-users"
//! description = "signed-in users"
//! max_session_secs = 3600
//! trust = { identity_pools = ["app users"], amr = "authenticated" }
//! policy_file = "policies/app-users.json"   # or policy = '''{ ... }'''
//!
//! [[identity_pools]]
//! name = "app users"                        # id optional, as for [[pools]]
//! allow_unauthenticated = false
//! authenticated_role = "arn:aws:iam::123456789012:role/app-users"
//! [[identity_pools.user_pools]]
//! pool = "customers"                        # a pool id, or a pool name from the file
//! client = "web"                            # a client id, or that pool's client name
//! [identity_pools.role_mappings."customers"]
//! type = "rules"
//! ambiguous = "authenticated_role"
//! rules = [{ claim = "cognito:groups", match_type = "contains", value = "admins",
//!            role = "arn:aws:iam::123456789012:role/admins" }]
//! ```
//!
//! References by name are resolved when applying (a pool without an id gets one then);
//! `policy_file` is read by `check-config` relative to the configuration file's
//! directory, into `policy`.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::core::identity_pools::mapping::{
    AmbiguousRoleResolution, IdentityPoolRoles, MappingRule, MatchType, RoleMapping,
    RoleMappingKind,
};
use crate::core::model::{
    IdentityPool, IdentityPoolUserPool, Origin, Role, RoleTrust, TrustAmr,
    DEFAULT_ROLE_SESSION_SECS,
};
use crate::core::UnixTime;

/// `[[roles]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDecl {
    pub arn: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default = "default_session")]
    pub max_session_secs: u32,
    pub trust: TrustDecl,
    /// The policy document's JSON text (or read from `policy_file`).
    #[serde(default)]
    pub policy: Option<String>,
    /// A file holding the policy, relative to the configuration file.
    #[serde(default)]
    pub policy_file: Option<String>,
}

fn default_session() -> u32 {
    DEFAULT_ROLE_SESSION_SECS
}

/// `trust = { identity_pools = [...], amr = "..." }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustDecl {
    /// Identity pool ids, or names of `[[identity_pools]]` in the file.
    pub identity_pools: Vec<String>,
    pub amr: TrustAmr,
}

impl RoleDecl {
    /// The stored role, trusting `pool_ids` (the trust's references resolved); keeps the
    /// stored `updated_at` when nothing else changes.
    pub fn to_record(&self, pool_ids: Vec<String>, now: UnixTime, existing: Option<&Role>) -> Role {
        let mut role = Role {
            arn: self.arn.clone(),
            trust: RoleTrust {
                identity_pool_ids: pool_ids,
                amr: self.trust.amr,
            },
            policy: self.policy.clone().unwrap_or_default(),
            max_session_secs: self.max_session_secs,
            description: self.description.clone(),
            origin: Origin::Config,
            updated_at: now,
        };
        if let Some(existing) = existing {
            let mut same = role.clone();
            same.updated_at = existing.updated_at;
            if &same == existing {
                role.updated_at = existing.updated_at;
            }
        }
        role
    }
}

/// `[[identity_pools]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityPoolDecl {
    /// The stable id (`<region>:<uuid>`). When omitted, applying adopts the file-owned
    /// identity pool of this name, or generates an id and prints it.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub allow_unauthenticated: bool,
    #[serde(default)]
    pub allow_classic_flow: bool,
    #[serde(default)]
    pub developer_provider_name: Option<String>,
    #[serde(default)]
    pub authenticated_role: Option<String>,
    #[serde(default)]
    pub unauthenticated_role: Option<String>,
    #[serde(default)]
    pub user_pools: Vec<IdentityPoolUserPoolDecl>,
    /// Keyed by a pool id or a pool name from the file.
    #[serde(default)]
    pub role_mappings: BTreeMap<String, RoleMappingDecl>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// P1 (issue 12, item 6): an STS endpoint where GetCredentialsForIdentity exchanges an
    /// OpenID token for the resolved role (a real AWS IAM role ARN) instead of vending.
    #[serde(default)]
    pub upstream_sts_endpoint: Option<String>,
}

/// `[[identity_pools.user_pools]]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityPoolUserPoolDecl {
    /// A pool id, or the name of a `[[pools]]` in the file.
    pub pool: String,
    /// A client id, or the name of that pool's `[[pools.clients]]`.
    pub client: String,
    #[serde(default)]
    pub server_side_token_check: bool,
}

/// `[identity_pools.role_mappings."<pool>"]`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMappingDecl {
    #[serde(rename = "type")]
    pub kind: RoleMappingKind,
    pub ambiguous: AmbiguousRoleResolution,
    #[serde(default)]
    pub rules: Vec<RuleDecl>,
}

/// One `rules = [{ ... }]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleDecl {
    pub claim: String,
    pub match_type: MatchType,
    pub value: String,
    /// The role's ARN.
    pub role: String,
}

/// How a declaration's references resolve: (user pool id, client id) for each
/// `user_pools` entry, and the user pool id for each role-mapping key.
pub type Resolve<'a> = dyn Fn(&str) -> String + 'a;

impl IdentityPoolDecl {
    /// The stored record: `pool_of` turns a pool reference into a pool id, `client_of`
    /// a (pool id, client reference) into a client id. Timestamps as for pools.
    pub fn to_record(
        &self,
        id: &str,
        pool_of: &Resolve<'_>,
        client_of: &dyn Fn(&str, &str) -> String,
        now: UnixTime,
        existing: Option<&IdentityPool>,
    ) -> IdentityPool {
        let user_pools = self
            .user_pools
            .iter()
            .map(|up| {
                let pool_id = pool_of(&up.pool);
                IdentityPoolUserPool {
                    client_id: client_of(&pool_id, &up.client),
                    pool_id,
                    server_side_token_check: up.server_side_token_check,
                }
            })
            .collect();
        let role_mappings = self
            .role_mappings
            .iter()
            .map(|(key, m)| {
                let mapping = RoleMapping {
                    kind: m.kind,
                    ambiguous: m.ambiguous,
                    rules: m
                        .rules
                        .iter()
                        .map(|r| MappingRule {
                            claim: r.claim.clone(),
                            match_type: r.match_type,
                            value: r.value.clone(),
                            role_arn: r.role.clone(),
                        })
                        .collect(),
                };
                (pool_of(key), mapping)
            })
            .collect();
        let mut pool = IdentityPool {
            id: id.to_string(),
            name: self.name.clone(),
            allow_unauthenticated: self.allow_unauthenticated,
            allow_classic_flow: self.allow_classic_flow,
            user_pools,
            supported_login_providers: BTreeMap::new(),
            developer_provider_name: self.developer_provider_name.clone(),
            roles: IdentityPoolRoles {
                authenticated: self.authenticated_role.clone(),
                unauthenticated: self.unauthenticated_role.clone(),
            },
            role_mappings,
            tags: self.tags.clone(),
            upstream_sts_endpoint: self.upstream_sts_endpoint.clone(),
            origin: Origin::Config,
            created_at: now,
            updated_at: now,
        };
        if let Some(existing) = existing {
            pool.created_at = existing.created_at;
            let mut same = pool.clone();
            same.updated_at = existing.updated_at;
            if &same == existing {
                pool.updated_at = existing.updated_at;
            }
        }
        pool
    }
}
