//! Role resolution for an identity pool (Cognito's role-based access control): the pool's
//! default roles and, per login provider, a role mapping of type Token
//! (`cognito:preferred_role` / `cognito:roles`) or Rules (first match wins), with
//! ambiguity resolved to the authenticated role or refused.

use serde::{Deserialize, Serialize};

/// The pool's default roles (Cognito's `Roles` map: `authenticated`, `unauthenticated`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPoolRoles {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticated: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unauthenticated: Option<String>,
}

/// Cognito's `RoleMapping.Type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RoleMappingKind {
    /// Use the token's `cognito:preferred_role`, or the `CustomRoleArn` if the token's
    /// `cognito:roles` carries it.
    Token,
    /// The first rule whose claim matches names the role.
    Rules,
}

/// Cognito's `AmbiguousRoleResolution`: what to do when no rule matches or the token
/// names no role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AmbiguousRoleResolution {
    AuthenticatedRole,
    Deny,
}

/// Cognito's `MappingRule.MatchType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchType {
    Equals,
    Contains,
    StartsWith,
    NotEqual,
}

/// One rule of a Rules mapping (Cognito's `MappingRule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRule {
    pub claim: String,
    pub match_type: MatchType,
    pub value: String,
    pub role_arn: String,
}

/// A provider's role mapping (Cognito's `RoleMapping`). `rules` is empty for Token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMapping {
    pub kind: RoleMappingKind,
    pub ambiguous: AmbiguousRoleResolution,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<MappingRule>,
}
