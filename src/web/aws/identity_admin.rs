//! The identity pools API's management actions (target prefix
//! `AWSCognitoIdentityService`, SigV4 service `cognito-identity`), each SigV4-signed with
//! an operator key (`Auth::Operator`: the dispatcher refuses an unsigned call with
//! `MissingAuthenticationTokenException`, a bad signature with `InvalidSignatureException`
//! / `UnrecognizedClientException`, and an `authorize`-purpose key with
//! `AccessDeniedException` before a handler runs):
//!
//! CreateIdentityPool, DescribeIdentityPool, UpdateIdentityPool, DeleteIdentityPool,
//! ListIdentityPools, SetIdentityPoolRoles, GetIdentityPoolRoles, DescribeIdentity,
//! ListIdentities, DeleteIdentities and UnlinkIdentity, in the shapes of botocore's
//! `cognito-identity` 2014-06-30 model
//! (<https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/Welcome.html>).
//! The handlers translate the API's shapes to the records of [`crate::core::model`] and
//! call [`AdminService`]; every rule lives there.
//!
//! Translations and choices:
//! - A user pool's `ProviderName` is rendered `<public URL without scheme>/<poolId>`
//!   (the issuer without its scheme, as Cognito's `cognito-idp.<region>.amazonaws.com/<poolId>`
//!   is); on input Cognito's spelling is accepted too when `<region>` is the pool id's own
//!   region, so infrastructure code written for Cognito works unchanged. Any other
//!   provider name is `InvalidParameterException`; so is a pool that does not exist.
//!   Role mappings are keyed by the same provider names.
//! - UpdateIdentityPool is a full replacement: an optional field left out is reset
//!   (no login providers, no tags, classic flow off). The roles and role mappings stay:
//!   they are SetIdentityPoolRoles' business, as in Cognito.
//! - `OpenIdConnectProviderARNs` and `SamlProviderARNs` (IAM's identity providers) and
//!   `SupportedLoginProviders` (social tokens straight to the pool) are refused when
//!   non-empty: a setting that is accepted must be honoured, and Cognate does not.
//! - Field errors from the admin service become `InvalidParameterException` naming each
//!   field in the API's spelling (`CognitoIdentityProviders[0].ClientId`,
//!   `RoleMappings.<ProviderName>.RulesConfiguration.Rules[3].RoleARN`); a missing record is
//!   `ResourceNotFoundException`; a taken id `ResourceConflictException`; a change to an
//!   identity pool declared in the configuration file is `NotAuthorizedException` naming
//!   the file (`Config::source`).
//! - ListIdentities' `HideDisabled`: Cognate has no disabled identities (an identity
//!   whose last login was unlinked is kept, reachable by id only), so it hides nothing.
//! - DeleteIdentities reports an id that names no identity in `UnprocessedIdentityIds`
//!   with `ErrorCode` `AccessDenied` (the API's only caller-side code).
//! - UnlinkIdentity: Cognito lets an end user call it unsigned with `Logins` proving the
//!   identity, and the official SDKs send it unsigned (a no-auth override in the
//!   service's model), so an SDK's UnlinkIdentity is refused here with
//!   `MissingAuthenticationTokenException`. It is operator-signed only (a raw SigV4
//!   request, or an SDK client with signing forced): the signature is the authority, the
//!   `Logins` tokens are not verified (no token verifier of the identity service is
//!   wired in yet), and every login of each provider in `LoginsToRemove` is removed.
//!   Serving the end-user form needs an optional-signature mode in the dispatcher plus
//!   the identity service's `Logins` verifier.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{AwsCall, AwsError, Protocol};
use crate::core::admin::{AdminError, AdminService, RecordKind};
use crate::core::identity_pools::mapping::{
    AmbiguousRoleResolution, IdentityPoolRoles, MappingRule, MatchType, RoleMapping,
    RoleMappingKind,
};
use crate::core::identity_pools::service::pool_of_key;
use crate::core::model::{
    is_identity_id, new_identity_id, Identity, IdentityLogin, IdentityPool, IdentityPoolUserPool,
    Origin,
};
use crate::web::AppState;

// --- errors ----------------------------------------------------------------------------------

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", message)
}

/// The answer for an [`AdminError`], field paths in the API's spelling.
fn admin_error(state: &AppState, e: AdminError) -> AwsError {
    let names = ProviderNames::of(state);
    match e {
        AdminError::Invalid { errors, .. } => invalid(
            errors
                .iter()
                .map(|f| format!("{}: {}", api_path(&f.path, &names), f.message))
                .collect::<Vec<_>>()
                .join("; "),
        ),
        AdminError::NotFound { kind, id } => not_found(match kind {
            RecordKind::IdentityPool => format!("IdentityPool '{id}' not found."),
            RecordKind::Identity => format!("Identity '{id}' not found."),
            other => format!("{other} '{id}' not found."),
        }),
        AdminError::Exists { kind, id } => AwsError::bad_request(
            "ResourceConflictException",
            format!("{kind} {id} already exists."),
        ),
        AdminError::ConfigOwned { kind, id } => {
            let file = state
                .node
                .config
                .source
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "the configuration file".into());
            AwsError::bad_request(
                "NotAuthorizedException",
                format!(
                    "{kind} {id} is declared in the configuration file {file}; change it there and run `cognate apply`."
                ),
            )
        }
        e @ AdminError::Concurrent { .. } => {
            AwsError::bad_request("ConcurrentModificationException", e.to_string())
        }
        AdminError::Store(e) => AwsError::internal(Protocol::Json, e),
    }
}

/// An admin-service path (`user_pools[0].client_id`) in the API's spelling
/// (`CognitoIdentityProviders[0].ClientId`).
fn api_path(path: &str, names: &ProviderNames) -> String {
    const FIELDS: &[(&str, &str)] = &[
        ("id", "IdentityPoolId"),
        ("name", "IdentityPoolName"),
        ("allow_unauthenticated", "AllowUnauthenticatedIdentities"),
        ("allow_classic_flow", "AllowClassicFlow"),
        ("supported_login_providers", "SupportedLoginProviders"),
        ("developer_provider_name", "DeveloperProviderName"),
        ("tags", "IdentityPoolTags"),
        ("max_results", "MaxResults"),
        ("identity_ids", "IdentityIdsToDelete"),
        ("roles.authenticated", "Roles.authenticated"),
        ("roles.unauthenticated", "Roles.unauthenticated"),
    ];
    if let Some(rest) = path.strip_prefix("user_pools") {
        let rest = rest
            .replace(".pool_id", ".ProviderName")
            .replace(".client_id", ".ClientId");
        return format!("CognitoIdentityProviders{rest}");
    }
    if let Some(rest) = path.strip_prefix("role_mappings.") {
        let (key, rest) = rest.split_at(rest.find('.').unwrap_or(rest.len()));
        let rest = rest
            .replacen(".rules", ".RulesConfiguration.Rules", 1)
            .replace(".role_arn", ".RoleARN")
            .replace(".claim", ".Claim")
            .replace(".value", ".Value");
        return format!("RoleMappings.{}{rest}", names.render(key));
    }
    if let Some(rest) = path.strip_prefix("tags.") {
        return format!("IdentityPoolTags.{rest}");
    }
    FIELDS
        .iter()
        .find(|(ours, _)| *ours == path)
        .map(|(_, api)| api.to_string())
        .unwrap_or_else(|| path.to_string())
}

// --- provider names --------------------------------------------------------------------------

/// Renders and reads user pools' `ProviderName`s for this node.
struct ProviderNames {
    /// The public URL without its scheme (`auth.example.com`, `127.0.0.1:9000/base`).
    host: String,
}

impl ProviderNames {
    fn of(state: &AppState) -> Self {
        ProviderNames {
            host: state.identity.issuer_host().to_string(),
        }
    }

    /// `<public URL without scheme>/<poolId>` (the identity service's Logins key).
    fn render(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.host)
    }

    /// The user pool id a provider name names, by the same rule as a `Logins` key.
    fn parse(&self, name: &str) -> Option<String> {
        pool_of_key(&self.host, name)
    }

    /// The provider name of a stored login: the identity pool's developer provider name
    /// as is (it may look like a pool id: `login_example`), else a user pool's.
    fn login(&self, login: &IdentityLogin, developer: Option<&str>) -> String {
        if developer == Some(login.provider.as_str()) {
            login.provider.clone()
        } else {
            self.render(&login.provider)
        }
    }
}

// --- input helpers ---------------------------------------------------------------------------

/// Reads an action's input; a member of the wrong JSON type is `SerializationException`,
/// as AWS answers a body its model cannot read.
fn input<T: for<'de> Deserialize<'de>>(input: Value) -> Result<T, AwsError> {
    serde_json::from_value(input).map_err(|e| {
        AwsError::serialization(
            Protocol::Json,
            format!("The request body is malformed: {e}"),
        )
    })
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, AwsError> {
    value.ok_or_else(|| invalid(format!("{field}: a value is required.")))
}

fn identity_pool_id(value: Option<String>) -> Result<String, AwsError> {
    let id = required(value, "IdentityPoolId")?;
    if !is_identity_id(&id) {
        return Err(invalid(format!(
            "IdentityPoolId: {id:?} is not an identity pool id (<region>:<uuid>)."
        )));
    }
    Ok(id)
}

fn identity_id(value: Option<String>, field: &str) -> Result<String, AwsError> {
    let id = required(value, field)?;
    if !is_identity_id(&id) {
        return Err(invalid(format!(
            "{field}: {id:?} is not an identity id (<region>:<uuid>)."
        )));
    }
    Ok(id)
}

/// `MaxResults`: required, 1 to 60 (the service says so again).
fn max_results(value: Option<i64>) -> Result<u32, AwsError> {
    let n = required(value, "MaxResults")?;
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=60).contains(n))
        .ok_or_else(|| invalid(format!("MaxResults: {n} is not between 1 and 60.")))
}

fn admin(state: &AppState) -> AdminService {
    AdminService::new(state.node.store.clone())
}

// --- identity pools --------------------------------------------------------------------------

/// Botocore's `CognitoIdentityProvider`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderIn {
    provider_name: Option<String>,
    client_id: Option<String>,
    #[serde(default)]
    server_side_token_check: bool,
}

/// The members CreateIdentityPool and UpdateIdentityPool share (botocore's
/// `CreateIdentityPoolInput` and `IdentityPool`).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolIn {
    identity_pool_id: Option<String>,
    identity_pool_name: Option<String>,
    allow_unauthenticated_identities: Option<bool>,
    #[serde(default)]
    allow_classic_flow: bool,
    #[serde(default)]
    supported_login_providers: BTreeMap<String, String>,
    developer_provider_name: Option<String>,
    #[serde(default, rename = "OpenIdConnectProviderARNs")]
    open_id_connect_provider_arns: Vec<String>,
    #[serde(default)]
    cognito_identity_providers: Vec<ProviderIn>,
    #[serde(default, rename = "SamlProviderARNs")]
    saml_provider_arns: Vec<String>,
    #[serde(default)]
    identity_pool_tags: BTreeMap<String, String>,
}

impl PoolIn {
    /// The record these members describe (roles and mappings empty, times `now`).
    fn record(self, id: String, names: &ProviderNames, now: i64) -> Result<IdentityPool, AwsError> {
        if !self.open_id_connect_provider_arns.is_empty() {
            return Err(invalid(
                "OpenIdConnectProviderARNs: IAM OpenID Connect providers are not supported; list Cognate user pools in CognitoIdentityProviders.",
            ));
        }
        if !self.saml_provider_arns.is_empty() {
            return Err(invalid(
                "SamlProviderARNs: IAM SAML providers are not supported; federate the SAML IdP into a Cognate user pool and list that pool in CognitoIdentityProviders.",
            ));
        }
        let mut user_pools = Vec::with_capacity(self.cognito_identity_providers.len());
        for (i, p) in self.cognito_identity_providers.into_iter().enumerate() {
            let name = required(
                p.provider_name,
                &format!("CognitoIdentityProviders[{i}].ProviderName"),
            )?;
            let pool_id = names.parse(&name).ok_or_else(|| {
                invalid(format!(
                    "CognitoIdentityProviders[{i}].ProviderName: {name:?} is not a user pool of this server (use {:?} or cognito-idp.<region>.amazonaws.com/<poolId>).",
                    names.render("<poolId>")
                ))
            })?;
            let client_id = required(
                p.client_id,
                &format!("CognitoIdentityProviders[{i}].ClientId"),
            )?;
            user_pools.push(IdentityPoolUserPool {
                pool_id,
                client_id,
                server_side_token_check: p.server_side_token_check,
            });
        }
        Ok(IdentityPool {
            id,
            name: required(self.identity_pool_name, "IdentityPoolName")?,
            allow_unauthenticated: required(
                self.allow_unauthenticated_identities,
                "AllowUnauthenticatedIdentities",
            )?,
            allow_classic_flow: self.allow_classic_flow,
            user_pools,
            supported_login_providers: self.supported_login_providers,
            developer_provider_name: self.developer_provider_name,
            roles: IdentityPoolRoles::default(),
            role_mappings: BTreeMap::new(),
            tags: self.identity_pool_tags,
            // Not in the Cognito API: an upstream STS is set in the configuration file.
            upstream_sts_endpoint: None,
            origin: Origin::Api,
            created_at: now,
            updated_at: now,
        })
    }
}

/// Botocore's `IdentityPool` output shape.
fn render_pool(pool: &IdentityPool, names: &ProviderNames) -> Value {
    let providers: Vec<Value> = pool
        .user_pools
        .iter()
        .map(|up| {
            json!({
                "ProviderName": names.render(&up.pool_id),
                "ClientId": up.client_id,
                "ServerSideTokenCheck": up.server_side_token_check,
            })
        })
        .collect();
    let mut out = json!({
        "IdentityPoolId": pool.id,
        "IdentityPoolName": pool.name,
        "AllowUnauthenticatedIdentities": pool.allow_unauthenticated,
        "AllowClassicFlow": pool.allow_classic_flow,
        "SupportedLoginProviders": pool.supported_login_providers,
        "OpenIdConnectProviderARNs": [],
        "SamlProviderARNs": [],
        "CognitoIdentityProviders": providers,
        "IdentityPoolTags": pool.tags,
    });
    if let (Some(name), Value::Object(o)) = (&pool.developer_provider_name, &mut out) {
        o.insert("DeveloperProviderName".into(), json!(name));
    }
    out
}

/// CreateIdentityPool: a new id `<region>:<uuid>` in the server's region.
pub async fn create_identity_pool(
    state: &AppState,
    call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let names = ProviderNames::of(state);
    let pool_in: PoolIn = input(body)?;
    let id = new_identity_id(&state.node.config.server.region);
    let pool = pool_in.record(id, &names, call.now)?;
    admin(state)
        .create_identity_pool(&pool)
        .await
        .map_err(|e| admin_error(state, e))?;
    Ok(render_pool(&pool, &names))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolIdIn {
    identity_pool_id: Option<String>,
}

/// DescribeIdentityPool.
pub async fn describe_identity_pool(
    state: &AppState,
    _call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let id = identity_pool_id(input::<PoolIdIn>(body)?.identity_pool_id)?;
    let pool = admin(state)
        .describe_identity_pool(&id)
        .await
        .map_err(|e| admin_error(state, e))?;
    Ok(render_pool(&pool, &ProviderNames::of(state)))
}

/// UpdateIdentityPool: a full replacement of the pool's settings (see the module docs).
pub async fn update_identity_pool(
    state: &AppState,
    call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let names = ProviderNames::of(state);
    let pool_in: PoolIn = input(body)?;
    let id = identity_pool_id(pool_in.identity_pool_id.clone())?;
    let pool = pool_in.record(id, &names, call.now)?;
    let stored = admin(state)
        .update_identity_pool(pool, call.now)
        .await
        .map_err(|e| admin_error(state, e))?;
    Ok(render_pool(&stored, &names))
}

/// DeleteIdentityPool, with its identities.
pub async fn delete_identity_pool(
    state: &AppState,
    _call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let id = identity_pool_id(input::<PoolIdIn>(body)?.identity_pool_id)?;
    let existed = admin(state)
        .delete_identity_pool(&id, Origin::Api)
        .await
        .map_err(|e| admin_error(state, e))?;
    if !existed {
        return Err(not_found(format!("IdentityPool '{id}' not found.")));
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListIn {
    identity_pool_id: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    hide_disabled: bool,
}

/// ListIdentityPools: `MaxResults` 1 to 60, `NextToken` from the previous page.
pub async fn list_identity_pools(
    state: &AppState,
    _call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let list: ListIn = input(body)?;
    let max = max_results(list.max_results)?;
    let page = admin(state)
        .list_identity_pools(max, list.next_token)
        .await
        .map_err(|e| admin_error(state, e))?;
    let pools: Vec<Value> = page
        .items
        .iter()
        .map(|p| json!({"IdentityPoolId": p.id, "IdentityPoolName": p.name}))
        .collect();
    Ok(with_next_token(
        json!({ "IdentityPools": pools }),
        page.next,
    ))
}

/// A listing's output with its `NextToken` when there is a next page.
fn with_next_token(mut out: Value, next: Option<String>) -> Value {
    if let (Some(next), Value::Object(o)) = (next, &mut out) {
        o.insert("NextToken".into(), json!(next));
    }
    out
}

// --- roles -----------------------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RulesConfigIn {
    rules: Option<Vec<RuleIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RuleIn {
    claim: Option<String>,
    match_type: Option<String>,
    value: Option<String>,
    #[serde(rename = "RoleARN")]
    role_arn: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MappingIn {
    #[serde(rename = "Type")]
    kind: Option<String>,
    ambiguous_role_resolution: Option<String>,
    rules_configuration: Option<RulesConfigIn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetRolesIn {
    identity_pool_id: Option<String>,
    roles: Option<BTreeMap<String, String>>,
    #[serde(default)]
    role_mappings: BTreeMap<String, MappingIn>,
}

/// `Roles`: only the keys `authenticated` and `unauthenticated`.
fn roles_in(roles: BTreeMap<String, String>) -> Result<IdentityPoolRoles, AwsError> {
    let mut out = IdentityPoolRoles::default();
    for (key, arn) in roles {
        match key.as_str() {
            "authenticated" => out.authenticated = Some(arn),
            "unauthenticated" => out.unauthenticated = Some(arn),
            other => {
                return Err(invalid(format!(
                    "Roles.{other}: the keys are \"authenticated\" and \"unauthenticated\"."
                )))
            }
        }
    }
    Ok(out)
}

fn mapping_in(base: &str, m: MappingIn) -> Result<RoleMapping, AwsError> {
    let kind = match required(m.kind, &format!("{base}.Type"))?.as_str() {
        "Token" => RoleMappingKind::Token,
        "Rules" => RoleMappingKind::Rules,
        other => {
            return Err(invalid(format!(
                "{base}.Type: {other:?} is not one of Token, Rules."
            )))
        }
    };
    let ambiguous = match required(
        m.ambiguous_role_resolution,
        &format!("{base}.AmbiguousRoleResolution"),
    )?
    .as_str()
    {
        "AuthenticatedRole" => AmbiguousRoleResolution::AuthenticatedRole,
        "Deny" => AmbiguousRoleResolution::Deny,
        other => {
            return Err(invalid(format!(
                "{base}.AmbiguousRoleResolution: {other:?} is not one of AuthenticatedRole, Deny."
            )))
        }
    };
    let rules_in = match m.rules_configuration {
        Some(c) => required(c.rules, &format!("{base}.RulesConfiguration.Rules"))?,
        None => Vec::new(),
    };
    let mut rules = Vec::with_capacity(rules_in.len());
    for (j, r) in rules_in.into_iter().enumerate() {
        let path = format!("{base}.RulesConfiguration.Rules[{j}]");
        let match_type = match required(r.match_type, &format!("{path}.MatchType"))?.as_str() {
            "Equals" => MatchType::Equals,
            "Contains" => MatchType::Contains,
            "StartsWith" => MatchType::StartsWith,
            "NotEqual" => MatchType::NotEqual,
            other => {
                return Err(invalid(format!(
                "{path}.MatchType: {other:?} is not one of Equals, Contains, StartsWith, NotEqual."
            )))
            }
        };
        rules.push(MappingRule {
            claim: required(r.claim, &format!("{path}.Claim"))?,
            match_type,
            value: required(r.value, &format!("{path}.Value"))?,
            role_arn: required(r.role_arn, &format!("{path}.RoleARN"))?,
        });
    }
    Ok(RoleMapping {
        kind,
        ambiguous,
        rules,
    })
}

/// SetIdentityPoolRoles: replaces the default roles and the role mappings.
pub async fn set_identity_pool_roles(
    state: &AppState,
    call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let names = ProviderNames::of(state);
    let set: SetRolesIn = input(body)?;
    let id = identity_pool_id(set.identity_pool_id)?;
    let roles = roles_in(required(set.roles, "Roles")?)?;
    let mut mappings = BTreeMap::new();
    for (name, m) in set.role_mappings {
        let base = format!("RoleMappings.{name}");
        let pool_id = names.parse(&name).ok_or_else(|| {
            invalid(format!(
                "{base}: {name:?} is not a user pool provider name of this server."
            ))
        })?;
        mappings.insert(pool_id, mapping_in(&base, m)?);
    }
    admin(state)
        .set_identity_pool_roles(&id, roles, mappings, Origin::Api, call.now)
        .await
        .map_err(|e| admin_error(state, e))?;
    Ok(json!({}))
}

fn render_mapping(m: &RoleMapping) -> Value {
    let mut out = Map::new();
    out.insert(
        "Type".into(),
        json!(match m.kind {
            RoleMappingKind::Token => "Token",
            RoleMappingKind::Rules => "Rules",
        }),
    );
    out.insert(
        "AmbiguousRoleResolution".into(),
        json!(match m.ambiguous {
            AmbiguousRoleResolution::AuthenticatedRole => "AuthenticatedRole",
            AmbiguousRoleResolution::Deny => "Deny",
        }),
    );
    if m.kind == RoleMappingKind::Rules {
        let rules: Vec<Value> = m
            .rules
            .iter()
            .map(|r| {
                json!({
                    "Claim": r.claim,
                    "MatchType": match r.match_type {
                        MatchType::Equals => "Equals",
                        MatchType::Contains => "Contains",
                        MatchType::StartsWith => "StartsWith",
                        MatchType::NotEqual => "NotEqual",
                    },
                    "Value": r.value,
                    "RoleARN": r.role_arn,
                })
            })
            .collect();
        out.insert("RulesConfiguration".into(), json!({ "Rules": rules }));
    }
    Value::Object(out)
}

/// GetIdentityPoolRoles.
pub async fn get_identity_pool_roles(
    state: &AppState,
    _call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let names = ProviderNames::of(state);
    let id = identity_pool_id(input::<PoolIdIn>(body)?.identity_pool_id)?;
    let (roles, mappings) = admin(state)
        .get_identity_pool_roles(&id)
        .await
        .map_err(|e| admin_error(state, e))?;
    let mut roles_out = Map::new();
    if let Some(arn) = roles.authenticated {
        roles_out.insert("authenticated".into(), json!(arn));
    }
    if let Some(arn) = roles.unauthenticated {
        roles_out.insert("unauthenticated".into(), json!(arn));
    }
    let mappings_out: Map<String, Value> = mappings
        .iter()
        .map(|(pool_id, m)| (names.render(pool_id), render_mapping(m)))
        .collect();
    Ok(json!({
        "IdentityPoolId": id,
        "Roles": roles_out,
        "RoleMappings": mappings_out,
    }))
}

// --- identities ------------------------------------------------------------------------------

/// Botocore's `IdentityDescription` (dates as epoch seconds, AWS JSON's timestamps).
fn render_identity(identity: &Identity, names: &ProviderNames, developer: Option<&str>) -> Value {
    let logins: Vec<String> = identity
        .logins
        .iter()
        .map(|l| names.login(l, developer))
        .collect();
    json!({
        "IdentityId": identity.id,
        "Logins": logins,
        "CreationDate": identity.created_at,
        "LastModifiedDate": identity.updated_at,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IdentityIn {
    identity_id: Option<String>,
}

/// DescribeIdentity.
pub async fn describe_identity(
    state: &AppState,
    _call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let id = identity_id(input::<IdentityIn>(body)?.identity_id, "IdentityId")?;
    let identity = admin(state)
        .describe_identity(&id)
        .await
        .map_err(|e| admin_error(state, e))?;
    let developer = developer_name(state, &identity.identity_pool_id).await?;
    Ok(render_identity(
        &identity,
        &ProviderNames::of(state),
        developer.as_deref(),
    ))
}

/// The developer provider name of an identity's pool (none when the pool is gone).
async fn developer_name(state: &AppState, pool_id: &str) -> Result<Option<String>, AwsError> {
    match admin(state).describe_identity_pool(pool_id).await {
        Ok(pool) => Ok(pool.developer_provider_name),
        Err(AdminError::NotFound { .. }) => Ok(None),
        Err(e) => Err(admin_error(state, e)),
    }
}

/// ListIdentities: `MaxResults` 1 to 60; `HideDisabled` hides nothing (module docs).
pub async fn list_identities(
    state: &AppState,
    _call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let names = ProviderNames::of(state);
    let list: ListIn = input(body)?;
    let id = identity_pool_id(list.identity_pool_id)?;
    let max = max_results(list.max_results)?;
    let developer = developer_name(state, &id).await?;
    let page = admin(state)
        .list_identities(&id, max, list.next_token)
        .await
        .map_err(|e| admin_error(state, e))?;
    let identities: Vec<Value> = page
        .items
        .iter()
        .map(|i| render_identity(i, &names, developer.as_deref()))
        .collect();
    Ok(with_next_token(
        json!({ "IdentityPoolId": id, "Identities": identities }),
        page.next,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteIdentitiesIn {
    identity_ids_to_delete: Option<Vec<String>>,
}

/// DeleteIdentities: 1 to 60 ids; those naming no identity come back unprocessed.
pub async fn delete_identities(
    state: &AppState,
    _call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let ids = required(
        input::<DeleteIdentitiesIn>(body)?.identity_ids_to_delete,
        "IdentityIdsToDelete",
    )?;
    for (i, id) in ids.iter().enumerate() {
        identity_id(Some(id.clone()), &format!("IdentityIdsToDelete[{i}]"))?;
    }
    let unprocessed = admin(state)
        .delete_identities(&ids)
        .await
        .map_err(|e| admin_error(state, e))?;
    let unprocessed: Vec<Value> = unprocessed
        .iter()
        .map(|id| json!({"IdentityId": id, "ErrorCode": "AccessDenied"}))
        .collect();
    Ok(json!({ "UnprocessedIdentityIds": unprocessed }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UnlinkIn {
    identity_id: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    logins: BTreeMap<String, String>,
    logins_to_remove: Option<Vec<String>>,
}

/// UnlinkIdentity, operator-signed: removes every login of each provider named in
/// `LoginsToRemove` (a user pool's provider name, either spelling, or the pool's
/// developer provider name). A provider the identity holds no login of is refused.
pub async fn unlink_identity(
    state: &AppState,
    call: &AwsCall,
    body: Value,
) -> Result<Value, AwsError> {
    let names = ProviderNames::of(state);
    let unlink: UnlinkIn = input(body)?;
    let id = identity_id(unlink.identity_id, "IdentityId")?;
    let remove = required(unlink.logins_to_remove, "LoginsToRemove")?;
    let service = admin(state);
    let identity = service
        .describe_identity(&id)
        .await
        .map_err(|e| admin_error(state, e))?;
    let developer = developer_name(state, &identity.identity_pool_id).await?;
    let mut logins: Vec<IdentityLogin> = Vec::new();
    for (i, name) in remove.iter().enumerate() {
        let provider = if developer.as_deref() == Some(name.as_str()) {
            Some(name.clone())
        } else {
            names.parse(name)
        };
        let held: Vec<&IdentityLogin> = identity
            .logins
            .iter()
            .filter(|l| provider.as_ref() == Some(&l.provider))
            .collect();
        if held.is_empty() {
            return Err(invalid(format!(
                "LoginsToRemove[{i}]: identity {id} has no login of {name:?}."
            )));
        }
        logins.extend(held.into_iter().cloned());
    }
    for login in &logins {
        service
            .unlink_identity(&id, login, call.now)
            .await
            .map_err(|e| admin_error(state, e))?;
    }
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names() -> ProviderNames {
        ProviderNames {
            host: "auth.example.com".into(),
        }
    }

    #[test]
    fn provider_names_accept_both_spellings_of_a_local_pool() {
        let n = names();
        assert_eq!(n.render("eu-west-1_Abc"), "auth.example.com/eu-west-1_Abc");
        assert_eq!(
            n.parse("auth.example.com/eu-west-1_Abc").as_deref(),
            Some("eu-west-1_Abc")
        );
        assert_eq!(
            n.parse("cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc")
                .as_deref(),
            Some("eu-west-1_Abc")
        );
        for bad in [
            "cognito-idp.us-east-1.amazonaws.com/eu-west-1_Abc",
            "other.example.com/eu-west-1_Abc",
            "auth.example.com/not a pool",
            "eu-west-1_Abc",
            "https://auth.example.com/eu-west-1_Abc",
            "",
        ] {
            assert_eq!(n.parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn field_paths_are_spelled_as_the_api_spells_them() {
        let n = names();
        for (ours, api) in [
            ("name", "IdentityPoolName"),
            (
                "user_pools[1].client_id",
                "CognitoIdentityProviders[1].ClientId",
            ),
            (
                "user_pools[0].pool_id",
                "CognitoIdentityProviders[0].ProviderName",
            ),
            ("roles.authenticated", "Roles.authenticated"),
            (
                "role_mappings.eu-west-1_Abc.rules[3].role_arn",
                "RoleMappings.auth.example.com/eu-west-1_Abc.RulesConfiguration.Rules[3].RoleARN",
            ),
            (
                "role_mappings.eu-west-1_Abc.rules",
                "RoleMappings.auth.example.com/eu-west-1_Abc.RulesConfiguration.Rules",
            ),
            ("tags.team", "IdentityPoolTags.team"),
            ("developer_provider_name", "DeveloperProviderName"),
        ] {
            assert_eq!(api_path(ours, &n), api, "{ours}");
        }
    }

    #[test]
    fn role_mappings_read_the_api_shape() {
        let m: MappingIn = serde_json::from_value(json!({
            "Type": "Rules",
            "AmbiguousRoleResolution": "Deny",
            "RulesConfiguration": {"Rules": [{
                "Claim": "cognito:groups", "MatchType": "Contains", "Value": "admins",
                "RoleARN": "arn:aws:iam::123456789012:role/admins"
            }]}
        }))
        .unwrap();
        let m = mapping_in("RoleMappings.x", m).unwrap();
        assert_eq!(m.kind, RoleMappingKind::Rules);
        assert_eq!(m.ambiguous, AmbiguousRoleResolution::Deny);
        assert_eq!(m.rules[0].match_type, MatchType::Contains);
        assert_eq!(
            render_mapping(&m)["RulesConfiguration"]["Rules"][0]["RoleARN"],
            "arn:aws:iam::123456789012:role/admins"
        );

        let bad: MappingIn = serde_json::from_value(json!({
            "Type": "Rules", "AmbiguousRoleResolution": "Maybe"
        }))
        .unwrap();
        let e = mapping_in("RoleMappings.x", bad).unwrap_err();
        assert_eq!(e.code, "InvalidParameterException");
        assert!(
            e.message.contains("RoleMappings.x.AmbiguousRoleResolution"),
            "{}",
            e.message
        );
    }

    #[test]
    fn roles_take_only_the_two_keys() {
        let ok = roles_in(BTreeMap::from([(
            "authenticated".to_string(),
            "arn:aws:iam::123456789012:role/a".to_string(),
        )]))
        .unwrap();
        assert_eq!(
            ok.authenticated.as_deref(),
            Some("arn:aws:iam::123456789012:role/a")
        );
        let e = roles_in(BTreeMap::from([("admin".to_string(), "x".to_string())])).unwrap_err();
        assert!(e.message.contains("Roles.admin"), "{}", e.message);
    }

    #[test]
    fn max_results_is_one_to_sixty() {
        assert_eq!(max_results(Some(60)).unwrap(), 60);
        assert_eq!(max_results(Some(1)).unwrap(), 1);
        for bad in [Some(0), Some(61), Some(-1), None] {
            let e = max_results(bad).unwrap_err();
            assert!(e.message.starts_with("MaxResults"), "{}", e.message);
        }
    }
}
