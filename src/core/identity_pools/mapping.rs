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

/// At most this many rules per provider (Cognito's `RulesConfigurationType.Rules`).
pub const MAX_RULES: usize = 25;
/// Cognito's `MappingRule.Claim` length limit.
pub const MAX_CLAIM_LEN: usize = 64;
/// Cognito's `MappingRule.Value` length limit.
pub const MAX_VALUE_LEN: usize = 128;

/// Why no role was given, named as Cognito's GetCredentialsForIdentity names its errors
/// (<https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_GetCredentialsForIdentity.html>).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    /// `InvalidIdentityPoolConfigurationException`: "the identity pool has no role
    /// associated for the given auth type (auth/unauth)".
    #[error("InvalidIdentityPoolConfigurationException: {0}")]
    InvalidIdentityPoolConfiguration(&'static str),
    /// `NotAuthorizedException`: the mapping refuses this identity (ambiguous with Deny,
    /// or a `CustomRoleArn` the token does not carry).
    #[error("NotAuthorizedException: {0}")]
    NotAuthorized(&'static str),
    /// `InvalidParameterException`: a `CustomRoleArn` that is not a role ARN, or one sent
    /// for a guest identity.
    #[error("InvalidParameterException: {0}")]
    InvalidParameter(&'static str),
}

impl MappingError {
    /// The AWS error type (`__type`) for the edge to render.
    pub fn aws_type(&self) -> &'static str {
        match self {
            MappingError::InvalidIdentityPoolConfiguration(_) => {
                "InvalidIdentityPoolConfigurationException"
            }
            MappingError::NotAuthorized(_) => "NotAuthorizedException",
            MappingError::InvalidParameter(_) => "InvalidParameterException",
        }
    }

    /// The message for the client: fixed text that names no claim and no role.
    pub fn message(&self) -> &'static str {
        match self {
            MappingError::InvalidIdentityPoolConfiguration(m)
            | MappingError::NotAuthorized(m)
            | MappingError::InvalidParameter(m) => m,
        }
    }
}

/// Whether `s` is an IAM role ARN: `arn:<partition>:iam::<12 digits>:role/<path/name>`,
/// the shape Cognito's `ARNString` and IAM's role names allow: partition `aws`,
/// `aws-cn` or `aws-us-gov`; a name (with an optional `/path/`) of 1 to 512 characters of
/// letters, digits and `+=,.@_-/`, no empty segment.
pub fn is_role_arn(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    if !matches!(partition, "aws" | "aws-cn" | "aws-us-gov") {
        return false;
    }
    let Some(rest) = rest.strip_prefix("iam::") else {
        return false;
    };
    let Some((account, resource)) = rest.split_once(':') else {
        return false;
    };
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Some(name) = resource.strip_prefix("role/") else {
        return false;
    };
    !name.is_empty()
        && name.len() <= 512
        && name.split('/').all(|seg| !seg.is_empty())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c))
}

/// The role an identity gets, as Cognito's GetCredentialsForIdentity (enhanced flow)
/// picks it
/// (<https://docs.aws.amazon.com/cognito/latest/developerguide/role-based-access-control.html>):
///
/// - a guest (`authenticated == false`) gets the pool's unauthenticated role; no mapping
///   applies and a `CustomRoleArn` is refused (roles are chosen from a token's claims,
///   which a guest has none of);
/// - without a mapping for the provider, the pool's authenticated role; a `CustomRoleArn`
///   other than that role is refused rather than silently ignored;
/// - `Token`: with a `CustomRoleArn`, it must be one of the token's `cognito:roles`;
///   otherwise `cognito:preferred_role`, else the only entry of `cognito:roles`, else the
///   ambiguous resolution ("there is no cognito:preferred_role claim and there are
///   multiple cognito:roles matches", RoleMapping's API reference);
/// - `Rules`: "Rules are evaluated in order. The first one to match specifies the role"
///   (RulesConfigurationType); a `CustomRoleArn` overrides the order but must be the role
///   of a rule that matches; no match is ambiguous;
/// - ambiguous: `AuthenticatedRole` gives the pool's authenticated role, `Deny` refuses.
///
/// `claims` are the verified token's claims. Missing roles are
/// `InvalidIdentityPoolConfigurationException`, refusals `NotAuthorizedException`.
pub fn resolve_role(
    roles: &IdentityPoolRoles,
    mapping: Option<&RoleMapping>,
    claims: &serde_json::Map<String, serde_json::Value>,
    authenticated: bool,
    custom_role_arn: Option<&str>,
) -> Result<String, MappingError> {
    if let Some(custom) = custom_role_arn {
        if !authenticated {
            return Err(MappingError::InvalidParameter(
                "CustomRoleArn is not allowed for unauthenticated identities.",
            ));
        }
        if !is_role_arn(custom) {
            return Err(MappingError::InvalidParameter(
                "CustomRoleArn is not a valid role ARN.",
            ));
        }
    }
    if !authenticated {
        return roles.unauthenticated.clone().ok_or(
            MappingError::InvalidIdentityPoolConfiguration(
                "Unauthenticated role is not configured for this identity pool.",
            ),
        );
    }
    let authenticated_role = || {
        roles
            .authenticated
            .clone()
            .ok_or(MappingError::InvalidIdentityPoolConfiguration(
                "Authenticated role is not configured for this identity pool.",
            ))
    };
    let Some(mapping) = mapping else {
        let role = authenticated_role()?;
        return match custom_role_arn {
            Some(custom) if custom != role => Err(MappingError::NotAuthorized(
                "The requested role is not available to this identity.",
            )),
            _ => Ok(role),
        };
    };
    let chosen = match mapping.kind {
        RoleMappingKind::Token => token_role(claims, custom_role_arn)?,
        RoleMappingKind::Rules => rules_role(&mapping.rules, claims, custom_role_arn)?,
    };
    match chosen {
        Some(role) => Ok(role),
        None => match mapping.ambiguous {
            AmbiguousRoleResolution::AuthenticatedRole => {
                let role = authenticated_role()?;
                match custom_role_arn {
                    Some(custom) if custom != role => Err(MappingError::NotAuthorized(
                        "The requested role is not available to this identity.",
                    )),
                    _ => Ok(role),
                }
            }
            AmbiguousRoleResolution::Deny => Err(MappingError::NotAuthorized(
                "Unable to determine a role for this identity (ambiguous role mapping).",
            )),
        },
    }
}

/// Token mapping: `Ok(None)` is the ambiguous case.
fn token_role(
    claims: &serde_json::Map<String, serde_json::Value>,
    custom_role_arn: Option<&str>,
) -> Result<Option<String>, MappingError> {
    let roles = claim_strings(claims.get("cognito:roles"));
    if let Some(custom) = custom_role_arn {
        return if roles.iter().any(|r| r == custom) {
            Ok(Some(custom.to_string()))
        } else {
            Err(MappingError::NotAuthorized(
                "The requested role is not available to this identity.",
            ))
        };
    }
    if let Some(serde_json::Value::String(preferred)) = claims.get("cognito:preferred_role") {
        if is_role_arn(preferred) {
            return Ok(Some(preferred.clone()));
        }
    }
    match roles.as_slice() {
        [only] if is_role_arn(only) => Ok(Some(only.clone())),
        _ => Ok(None),
    }
}

/// Rules mapping: the first rule that matches, or with `CustomRoleArn` the matching rule
/// naming it. `Ok(None)` is the ambiguous case (no rule matches).
fn rules_role(
    rules: &[MappingRule],
    claims: &serde_json::Map<String, serde_json::Value>,
    custom_role_arn: Option<&str>,
) -> Result<Option<String>, MappingError> {
    let mut matching = rules.iter().filter(|r| rule_matches(r, claims));
    match custom_role_arn {
        None => Ok(matching.next().map(|r| r.role_arn.clone())),
        Some(custom) => {
            let any_match = rules.iter().any(|r| rule_matches(r, claims));
            if matching.any(|r| r.role_arn == custom) {
                Ok(Some(custom.to_string()))
            } else if any_match {
                Err(MappingError::NotAuthorized(
                    "The requested role is not available to this identity.",
                ))
            } else {
                // No rule matches at all: the ambiguous resolution decides (and checks the
                // custom role against the authenticated role).
                Ok(None)
            }
        }
    }
}

/// Whether one rule matches the token's claims. A missing claim matches no rule, not
/// even `NotEqual` (Cognito: "The claim name that must be present in the token"). A
/// multi-valued claim (`cognito:groups` is a JSON array) matches when one of its values
/// does: `Equals`/`Contains` test membership (so `Contains "admin"` never matches a
/// group named `superadmin`), `StartsWith` a prefix of one value, and `NotEqual` holds
/// when no value equals. Numbers and booleans compare by their JSON text.
fn rule_matches(rule: &MappingRule, claims: &serde_json::Map<String, serde_json::Value>) -> bool {
    let Some(claim) = claims.get(&rule.claim) else {
        return false;
    };
    let v = rule.value.as_str();
    match claim {
        serde_json::Value::Array(_) => {
            let items = claim_strings(Some(claim));
            match rule.match_type {
                MatchType::Equals | MatchType::Contains => items.iter().any(|i| i == v),
                MatchType::StartsWith => items.iter().any(|i| i.starts_with(v)),
                MatchType::NotEqual => !items.iter().any(|i| i == v),
            }
        }
        _ => {
            let Some(text) = scalar_text(claim) else {
                return false;
            };
            match rule.match_type {
                MatchType::Equals => text == v,
                MatchType::Contains => text.contains(v),
                MatchType::StartsWith => text.starts_with(v),
                MatchType::NotEqual => text != v,
            }
        }
    }
}

fn scalar_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A claim's values: an array's scalar elements, or a single scalar.
fn claim_strings(v: Option<&serde_json::Value>) -> Vec<String> {
    match v {
        Some(serde_json::Value::Array(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(other) => scalar_text(other).into_iter().collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
