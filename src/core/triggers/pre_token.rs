//! The pre token generation trigger: Cognito's `TokenGeneration_*` events, sent before
//! tokens are signed, and the changes their answers ask, checked and ready for
//! [`crate::core::oauth::tokens`] to apply.
//!
//! - Event `version` "1" (`V1_0`), "2" (`V2_0`) or "3" (`V3_0`). `request`:
//!   `userAttributes`, `groupConfiguration` {`groupsToOverride`, `iamRolesToOverride`,
//!   `preferredRole`}, `clientMetadata`, and from V2 `scopes`.
//! - V1 answers `claimsOverrideDetails` {`claimsToAddOrOverride`, `claimsToSuppress`,
//!   `groupOverrideDetails`} for the ID token; V2 and V3 answer
//!   `claimsAndScopeOverrideDetails` {`idTokenGeneration`, `accessTokenGeneration`
//!   (also `scopesToAdd`, `scopesToSuppress`), `groupOverrideDetails`}.
//! - A change to a claim Cognito protects ([`PROTECTED_CLAIMS`]; `scope` too, which
//!   changes only through the scope lists) fails the trigger, and so the token issuance.
//! - Client-credentials tokens call only a `V3_0` trigger (`TokenGeneration_ClientCredentials`).

use serde_json::{json, Map, Value};

use super::events::{event, user_attributes, TriggerCaller};
use super::{TriggerError, Webhooks};
use crate::core::model::{Group, PreTokenVersion, TriggerKind, User, UserPool};

/// The claims no answer may add, override or suppress (Cognito's list).
pub const PROTECTED_CLAIMS: &[&str] = &[
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
    "token_use",
];

/// Why tokens are being issued: the event's `triggerSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// The hosted UI's sign-in (authorization code or implicit grant).
    HostedAuth,
    /// The user pools API's sign-in.
    Authentication,
    /// The API's sign-in finished by answering `NEW_PASSWORD_REQUIRED`.
    NewPasswordChallenge,
    /// A refresh token (token endpoint or API).
    RefreshTokens,
    /// `grant_type=client_credentials` (V3 only).
    ClientCredentials,
}

impl TokenSource {
    pub fn trigger_source(self) -> &'static str {
        match self {
            TokenSource::HostedAuth => "TokenGeneration_HostedAuth",
            TokenSource::Authentication => "TokenGeneration_Authentication",
            TokenSource::NewPasswordChallenge => "TokenGeneration_NewPasswordChallenge",
            TokenSource::RefreshTokens => "TokenGeneration_RefreshTokens",
            TokenSource::ClientCredentials => "TokenGeneration_ClientCredentials",
        }
    }
}

/// Claims to add or override, then to suppress, in one token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClaimChanges {
    pub add_or_override: Map<String, Value>,
    pub suppress: Vec<String>,
}

impl ClaimChanges {
    /// Applies the changes to `claims` (a suppressed claim goes even when also added).
    pub fn apply(&self, claims: &mut Map<String, Value>) {
        for (name, value) in &self.add_or_override {
            claims.insert(name.clone(), value.clone());
        }
        for name in &self.suppress {
            claims.remove(name);
        }
    }
}

/// `groupOverrideDetails`: each list present replaces its claim (an empty one removes it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupOverride {
    pub groups: Option<Vec<String>>,
    pub iam_roles: Option<Vec<String>>,
    pub preferred_role: Option<String>,
}

/// What a pre token generation answer changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenOverrides {
    pub version: PreTokenVersion,
    pub id_token: ClaimChanges,
    /// V2 and V3 only.
    pub access_token: ClaimChanges,
    pub scopes_to_add: Vec<String>,
    pub scopes_to_suppress: Vec<String>,
    pub groups: GroupOverride,
}

impl TokenOverrides {
    /// The ID token's claims: group override, then the claim changes.
    pub fn apply_id(&self, claims: &mut Map<String, Value>) {
        set_list(claims, "cognito:groups", &self.groups.groups);
        set_list(claims, "cognito:roles", &self.groups.iam_roles);
        if let Some(role) = &self.groups.preferred_role {
            claims.insert("cognito:preferred_role".into(), json!(role));
        }
        self.id_token.apply(claims);
    }

    /// The access token's claims (V2 and V3): groups, scopes, then the claim changes.
    pub fn apply_access(&self, claims: &mut Map<String, Value>) {
        if self.version == PreTokenVersion::V1 {
            return;
        }
        set_list(claims, "cognito:groups", &self.groups.groups);
        if !self.scopes_to_add.is_empty() || !self.scopes_to_suppress.is_empty() {
            let mut scopes: Vec<String> = claims
                .get("scope")
                .and_then(Value::as_str)
                .unwrap_or("")
                .split(' ')
                .filter(|s| !s.is_empty() && !self.scopes_to_suppress.iter().any(|x| x == s))
                .map(str::to_string)
                .collect();
            for s in &self.scopes_to_add {
                if !scopes.contains(s) && !self.scopes_to_suppress.contains(s) {
                    scopes.push(s.clone());
                }
            }
            if scopes.is_empty() {
                claims.remove("scope");
            } else {
                claims.insert("scope".into(), json!(scopes.join(" ")));
            }
        }
        self.access_token.apply(claims);
    }
}

fn set_list(claims: &mut Map<String, Value>, name: &str, list: &Option<Vec<String>>) {
    match list {
        Some(l) if l.is_empty() => {
            claims.remove(name);
        }
        Some(l) => {
            claims.insert(name.into(), json!(l));
        }
        None => {}
    }
}

/// What the event is about: the user (none for client credentials), their groups by
/// precedence, and the scopes asked.
pub struct PreTokenInput<'a> {
    pub user: Option<&'a User>,
    pub groups: &'a [Group],
    pub scopes: &'a [String],
    pub caller: &'a TriggerCaller,
}

impl Webhooks {
    /// Pre token generation. `None` without a webhook, or for client credentials under a
    /// version before `V3_0`. A failure (or a protected claim changed) refuses the tokens.
    pub async fn pre_token_generation(
        &self,
        pool: &UserPool,
        source: TokenSource,
        input: PreTokenInput<'_>,
    ) -> Result<Option<TokenOverrides>, TriggerError> {
        let version = pool.triggers.pre_token_version();
        if pool.triggers.url(TriggerKind::PreTokenGeneration).is_none()
            || (source == TokenSource::ClientCredentials && version != PreTokenVersion::V3)
        {
            return Ok(None);
        }
        let event = pre_token_event(pool, source, version, &input);
        let Some(answer) = self
            .call(pool, TriggerKind::PreTokenGeneration, &event)
            .await
        else {
            return Ok(None);
        };
        parse_answer(version, &answer?)
            .map(Some)
            .map_err(|message| TriggerError::Failed {
                kind: TriggerKind::PreTokenGeneration,
                message,
            })
    }
}

/// The event, in Cognito's shape for `version`.
pub fn pre_token_event(
    pool: &UserPool,
    source: TokenSource,
    version: PreTokenVersion,
    input: &PreTokenInput<'_>,
) -> Value {
    let groups: Vec<&str> = input.groups.iter().map(|g| g.name.as_str()).collect();
    let roles: Vec<&str> = input
        .groups
        .iter()
        .filter_map(|g| g.role_arn.as_deref())
        .collect();
    let mut request = json!({
        "userAttributes": input.user.map_or_else(|| json!({}), user_attributes),
        "groupConfiguration": {
            "groupsToOverride": groups,
            "iamRolesToOverride": roles,
            "preferredRole": roles.first(),
        },
        "clientMetadata": input.caller.client_metadata,
    });
    let response = match version {
        PreTokenVersion::V1 => json!({ "claimsOverrideDetails": null }),
        _ => {
            request["scopes"] = json!(input.scopes);
            json!({ "claimsAndScopeOverrideDetails": null })
        }
    };
    let user_name = input.user.map_or("", |u| u.username.as_str());
    let mut event = event(
        pool,
        source.trigger_source(),
        user_name,
        input.caller,
        request,
        response,
    );
    event["version"] = json!(match version {
        PreTokenVersion::V1 => "1",
        PreTokenVersion::V2 => "2",
        PreTokenVersion::V3 => "3",
    });
    if input.user.is_none() {
        if let Some(e) = event.as_object_mut() {
            e.remove("userName");
        }
    }
    event
}

/// Reads and checks an answer's `response`.
pub fn parse_answer(
    version: PreTokenVersion,
    response: &Map<String, Value>,
) -> Result<TokenOverrides, String> {
    let mut out = TokenOverrides {
        version,
        ..Default::default()
    };
    let details_name = match version {
        PreTokenVersion::V1 => "claimsOverrideDetails",
        _ => "claimsAndScopeOverrideDetails",
    };
    let Some(details) = object(response, details_name)? else {
        return Ok(out);
    };
    if let Some(g) = object(details, "groupOverrideDetails")? {
        out.groups = GroupOverride {
            groups: strings(g, "groupsToOverride")?,
            iam_roles: strings(g, "iamRolesToOverride")?,
            preferred_role: match g.get("preferredRole") {
                None | Some(Value::Null) => None,
                Some(Value::String(r)) => Some(r.clone()),
                Some(_) => return Err("preferredRole is not a string".into()),
            },
        };
    }
    match version {
        PreTokenVersion::V1 => out.id_token = changes(details, false)?,
        _ => {
            if let Some(id) = object(details, "idTokenGeneration")? {
                out.id_token = changes(id, false)?;
            }
            if let Some(access) = object(details, "accessTokenGeneration")? {
                out.access_token = changes(access, true)?;
                out.scopes_to_add = strings(access, "scopesToAdd")?.unwrap_or_default();
                if out.scopes_to_add.iter().any(|s| s == ACCOUNT_SCOPE) {
                    return Err(format!("scopesToAdd may not add {ACCOUNT_SCOPE}"));
                }
                out.scopes_to_suppress = strings(access, "scopesToSuppress")?.unwrap_or_default();
            }
        }
    }
    Ok(out)
}

/// The access token's claims that Cognate itself reads to act on the token besides the
/// protected ones (`client_id`, the client it was issued to; `scope`, which changes only
/// through the scope lists): an answer changing them would let the token act as another
/// client or with other rights.
pub const PROTECTED_ACCESS_CLAIMS: &[&str] = &["client_id", "scope"];

/// The scope no answer may add: it opens the user's own account actions of the user pools
/// API (GetUser, ChangePassword ...), which only a sign-in through the API, or a client
/// allowed it, grants.
const ACCOUNT_SCOPE: &str = "aws.cognito.signin.user.admin";

/// `claimsToAddOrOverride` and `claimsToSuppress`, refusing protected claims (and, in the
/// access token, [`PROTECTED_ACCESS_CLAIMS`]).
fn changes(m: &Map<String, Value>, access: bool) -> Result<ClaimChanges, String> {
    let protected = |name: &str| {
        PROTECTED_CLAIMS.contains(&name) || (access && PROTECTED_ACCESS_CLAIMS.contains(&name))
    };
    let add_or_override = object(m, "claimsToAddOrOverride")?
        .cloned()
        .unwrap_or_default();
    let suppress = strings(m, "claimsToSuppress")?.unwrap_or_default();
    for name in add_or_override.keys().chain(suppress.iter()) {
        if protected(name) {
            return Err(format!(
                "the answer changes the claim {name:?}, which cannot be changed"
            ));
        }
    }
    if let Some((name, _)) = add_or_override.iter().find(|(_, v)| v.is_null()) {
        return Err(format!("claimsToAddOrOverride.{name} is null"));
    }
    Ok(ClaimChanges {
        add_or_override,
        suppress,
    })
}

fn object<'a>(
    m: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, String> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(format!("{name} is not an object")),
    }
}

fn strings(m: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, String> {
    match m.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Some)
            .ok_or_else(|| format!("{name} is not a list of strings")),
        Some(_) => Err(format!("{name} is not a list of strings")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn protected_claims_are_refused_and_honest_ones_applied() {
        let bad = answer(json!({"claimsOverrideDetails": {"claimsToAddOrOverride": {"sub": "x"}}}));
        assert!(parse_answer(PreTokenVersion::V1, &bad)
            .unwrap_err()
            .contains("sub"));
        let bad = answer(json!({"claimsAndScopeOverrideDetails": {
            "accessTokenGeneration": {"claimsToAddOrOverride": {"scope": "admin"}}}}));
        assert!(parse_answer(PreTokenVersion::V2, &bad)
            .unwrap_err()
            .contains("scope"));
        let good = answer(json!({"claimsAndScopeOverrideDetails": {
            "accessTokenGeneration": {"claimsToSuppress": ["username"],
                "scopesToAdd": ["a/b"], "scopesToSuppress": ["email"]},
            "groupOverrideDetails": {"groupsToOverride": ["g"]}}}));
        let o = parse_answer(PreTokenVersion::V2, &good).unwrap();
        let mut claims = answer(json!({"scope": "openid email", "username": "u", "sub": "s"}));
        o.apply_access(&mut claims);
        assert_eq!(
            Value::Object(claims),
            json!({"scope": "openid a/b", "sub": "s", "cognito:groups": ["g"]})
        );
    }
}
