//! App clients: CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient,
//! DeleteUserPoolClient, ListUserPoolClients.
//!
//! The rules on a client (URLs, lifetimes, flows, scopes, identity providers, attribute
//! lists, the 1000 clients of a pool) are the administration service's
//! ([`crate::core::admin::clients`]), shared with the configuration file and the CLI; this
//! edge reads Cognito's `CreateUserPoolClient` shape into an [`AppClient`] and renders
//! Cognito's `UserPoolClientType`. Members whose value Cognate would not honour
//! (`AnalyticsConfiguration`, `DefaultRedirectURI`, `EnableTokenRevocation = false`,
//! `EnablePropagateAdditionalUserContextData = true`, an `AuthSessionValidity` other than
//! the 3 minutes Cognate's sign-in sessions last) are refused, never stored and ignored.
//!
//! UpdateUserPoolClient follows Cognito: the request replaces the whole client, every
//! member it omits going back to its default; the id, the secret and Cognate's own
//! settings that are not Cognito members (PKCE required, CORS origins, branding) stay.

use serde_json::{json, Map, Value};

use super::{
    epoch, invalid, not_found, optional, optional_bool, optional_int, pool, required, string_list,
    AdminNames,
};
use crate::core::admin::{AdminError, AdminService, FieldError, RecordKind};
use crate::core::ids;
use crate::core::model::{
    default_auth_flows, AppClient, AuthFlow, Branding, OAuthFlow, Origin, PageRequest,
    RefreshRotation, TokenValidity, UserExistenceErrors, OWN_USERS,
};
use crate::core::secrets::client_secret_context;
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// Cognito's `MaxResults` of ListUserPoolClients: 1 to 60 (60 when absent).
const MAX_RESULTS: i64 = 60;

/// Cognate's sign-in sessions (the `Session` of a challenge) last 3 minutes, Cognito's
/// default `AuthSessionValidity`.
const AUTH_SESSION_MINUTES: i64 = 3;

const NAMES: AdminNames = AdminNames {
    fields: &[
        ("id", "ClientId"),
        ("pool_id", "UserPoolId"),
        ("name", "ClientName"),
        ("callback_urls", "CallbackURLs"),
        ("logout_urls", "LogoutURLs"),
        ("allowed_oauth_flows", "AllowedOAuthFlows"),
        ("allowed_oauth_scopes", "AllowedOAuthScopes"),
        ("supported_identity_providers", "SupportedIdentityProviders"),
        ("read_attributes", "ReadAttributes"),
        ("write_attributes", "WriteAttributes"),
        ("explicit_auth_flows", "ExplicitAuthFlows"),
        (
            "prevent_user_existence_errors",
            "PreventUserExistenceErrors",
        ),
    ],
    not_found: "User pool client does not exist.",
    exists: (
        "InvalidParameterException",
        "A client with this id already exists.",
    ),
};

/// The record paths that are not one field of Cognito's shape, in its names.
const NESTED: &[(&str, &str)] = &[
    ("token_validity.id_token_secs", "IdTokenValidity"),
    ("token_validity.access_token_secs", "AccessTokenValidity"),
    ("token_validity.refresh_token_secs", "RefreshTokenValidity"),
    (
        "refresh_rotation.grace_period_secs",
        "RefreshTokenRotation.RetryGracePeriodSeconds",
    ),
];

/// The service's refusal in Cognito's terms: an unknown client names its id, the rest
/// (the pool's quota included) as every kind.
fn admin_error(state: &AppState, call: &AwsCall, client_id: &str, e: AdminError) -> AwsError {
    match e {
        AdminError::Invalid { kind, errors } => {
            let errors = errors
                .into_iter()
                .map(|f| match NESTED.iter().find(|(ours, _)| *ours == f.path) {
                    Some((_, theirs)) => FieldError {
                        path: (*theirs).to_string(),
                        ..f
                    },
                    None => f,
                })
                .collect();
            super::admin_error(state, call, AdminError::Invalid { kind, errors }, &NAMES)
        }
        AdminError::NotFound {
            kind: RecordKind::Client,
            ..
        } => client_not_found(client_id),
        e => super::admin_error(state, call, e, &NAMES),
    }
}

fn client_not_found(client_id: &str) -> AwsError {
    not_found(format!("User pool client {client_id} does not exist."))
}

fn service(state: &AppState) -> AdminService {
    AdminService::new(state.node.store.clone())
}

/// Cognito's `TimeUnitsType` in seconds.
fn unit_secs(unit: &str) -> Option<i64> {
    Some(match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        "days" => 86400,
        _ => return None,
    })
}

/// One token lifetime: `value` (absent: Cognate's default `default_secs`) in the unit
/// `TokenValidityUnits.<unit_member>` names (absent: `default_unit`, Cognito's).
fn lifetime(
    input: &Value,
    member: &str,
    unit_member: &str,
    default_unit: &str,
    default_secs: i64,
) -> Result<i64, AwsError> {
    let unit = match input.get("TokenValidityUnits") {
        None | Some(Value::Null) => None,
        Some(units @ Value::Object(_)) => optional(units, unit_member)?,
        Some(_) => return Err(invalid("TokenValidityUnits must be an object.")),
    };
    let unit = unit.unwrap_or(default_unit);
    let Some(mult) = unit_secs(unit) else {
        return Err(invalid(format!(
            "TokenValidityUnits.{unit_member}: {unit:?} is not a unit; use seconds, minutes, \
             hours or days."
        )));
    };
    Ok(optional_int(input, member, 0..=i64::from(i32::MAX))?.map_or(default_secs, |v| v * mult))
}

/// A lifetime in Cognito's output: in `preferred` (Cognito's default unit) when it divides
/// evenly, else the largest unit that does.
fn lifetime_out(secs: i64, preferred: &'static str) -> (i64, &'static str) {
    for unit in [preferred, "days", "hours", "minutes"] {
        let mult = unit_secs(unit).unwrap_or(1);
        if secs % mult == 0 {
            return (secs / mult, unit);
        }
    }
    (secs, "seconds")
}

/// `ExplicitAuthFlows`. Absent or empty: Cognito's default (SRP, custom, refresh). The
/// legacy names (without `ALLOW_`) keep Cognito's meaning: a legacy client always allows
/// SRP and refresh, `ADMIN_NO_SRP_AUTH` adds admin password sign-in, `USER_PASSWORD_AUTH`
/// password sign-in, and `CUSTOM_AUTH_FLOW_ONLY` replaces SRP by the custom flow. Legacy
/// and `ALLOW_` names cannot be mixed (Cognito's rule).
fn explicit_auth_flows(input: &Value) -> Result<Vec<AuthFlow>, AwsError> {
    let names = string_list(input, "ExplicitAuthFlows")?;
    if names.is_empty() {
        return Ok(default_auth_flows());
    }
    let legacy = |n: &str| {
        matches!(
            n,
            "ADMIN_NO_SRP_AUTH" | "CUSTOM_AUTH_FLOW_ONLY" | "USER_PASSWORD_AUTH"
        )
    };
    let legacy_count = names.iter().filter(|n| legacy(n)).count();
    if legacy_count == 0 {
        return names
            .iter()
            .enumerate()
            .map(|(k, n)| {
                AuthFlow::parse(n).ok_or_else(|| {
                    let all: Vec<&str> = AuthFlow::ALL.iter().map(|f| f.as_str()).collect();
                    invalid(format!(
                        "ExplicitAuthFlows[{k}]: {n:?} is not an auth flow; use {}.",
                        all.join(", ")
                    ))
                })
            })
            .collect();
    }
    if legacy_count != names.len() {
        return Err(invalid(
            "ExplicitAuthFlows: the legacy flows (ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, \
             USER_PASSWORD_AUTH) cannot be mixed with the ALLOW_ flows.",
        ));
    }
    let mut flows = Vec::new();
    if names.iter().any(|n| n == "CUSTOM_AUTH_FLOW_ONLY") {
        flows.push(AuthFlow::AllowCustomAuth);
    } else {
        flows.push(AuthFlow::AllowUserSrpAuth);
    }
    if names.iter().any(|n| n == "USER_PASSWORD_AUTH") {
        flows.push(AuthFlow::AllowUserPasswordAuth);
    }
    if names.iter().any(|n| n == "ADMIN_NO_SRP_AUTH") {
        flows.push(AuthFlow::AllowAdminUserPasswordAuth);
    }
    flows.push(AuthFlow::AllowRefreshTokenAuth);
    Ok(flows)
}

fn oauth_flow_name(flow: OAuthFlow) -> &'static str {
    match flow {
        OAuthFlow::Code => "code",
        OAuthFlow::Implicit => "implicit",
        OAuthFlow::ClientCredentials => "client_credentials",
    }
}

fn oauth_flows(input: &Value) -> Result<Vec<OAuthFlow>, AwsError> {
    string_list(input, "AllowedOAuthFlows")?
        .iter()
        .enumerate()
        .map(|(k, name)| match name.as_str() {
            "code" => Ok(OAuthFlow::Code),
            "implicit" => Ok(OAuthFlow::Implicit),
            "client_credentials" => Ok(OAuthFlow::ClientCredentials),
            _ => Err(invalid(format!(
                "AllowedOAuthFlows[{k}]: {name:?} is not a flow; use code, implicit or \
                 client_credentials."
            ))),
        })
        .collect()
}

/// `RefreshTokenRotation` (absent: off).
fn rotation(input: &Value) -> Result<RefreshRotation, AwsError> {
    let value = match input.get("RefreshTokenRotation") {
        None | Some(Value::Null) => return Ok(RefreshRotation::default()),
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(invalid("RefreshTokenRotation must be an object.")),
    };
    if value.get("Feature").is_none_or(Value::is_null) {
        return Err(invalid(
            "1 validation error detected: Value at 'refreshTokenRotation.feature' failed to \
             satisfy constraint: Member must not be null",
        ));
    }
    let enabled = match required(value, "Feature")? {
        "ENABLED" => true,
        "DISABLED" => false,
        other => {
            return Err(invalid(format!(
                "RefreshTokenRotation.Feature: {other:?} is not ENABLED or DISABLED."
            )))
        }
    };
    let grace = match value.get("RetryGracePeriodSeconds") {
        None | Some(Value::Null) => 0,
        Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
            invalid("RefreshTokenRotation.RetryGracePeriodSeconds must be an integer.")
        })?,
        Some(_) => {
            return Err(invalid(
                "RefreshTokenRotation.RetryGracePeriodSeconds must be a number.",
            ))
        }
    };
    Ok(RefreshRotation {
        enabled,
        grace_period_secs: grace,
    })
}

/// What a request sets: everything of the client that Cognito's shape carries.
struct Settings {
    name: Option<String>,
    token_validity: TokenValidity,
    read_attributes: Vec<String>,
    write_attributes: Vec<String>,
    explicit_auth_flows: Vec<AuthFlow>,
    supported_identity_providers: Vec<String>,
    callback_urls: Vec<String>,
    logout_urls: Vec<String>,
    allowed_oauth_flows: Vec<OAuthFlow>,
    allowed_oauth_scopes: Vec<String>,
    prevent_user_existence_errors: UserExistenceErrors,
    refresh_rotation: RefreshRotation,
}

/// Reads the members shared by CreateUserPoolClient and UpdateUserPoolClient; each
/// absent member is its default (Cognito's update replaces the whole client). Members
/// Cognate cannot honour are refused here, naming the member.
fn settings(input: &Value) -> Result<Settings, AwsError> {
    let defaults = TokenValidity::default();
    let token_validity = TokenValidity {
        id_token_secs: lifetime(
            input,
            "IdTokenValidity",
            "IdToken",
            "hours",
            defaults.id_token_secs,
        )?,
        access_token_secs: lifetime(
            input,
            "AccessTokenValidity",
            "AccessToken",
            "hours",
            defaults.access_token_secs,
        )?,
        refresh_token_secs: lifetime(
            input,
            "RefreshTokenValidity",
            "RefreshToken",
            "days",
            defaults.refresh_token_secs,
        )?,
        auth_code_secs: defaults.auth_code_secs,
    };
    let allowed_oauth_flows = oauth_flows(input)?;
    let allowed_oauth_scopes = string_list(input, "AllowedOAuthScopes")?;
    let oauth_on = optional_bool(input, "AllowedOAuthFlowsUserPoolClient")?.unwrap_or(false);
    let any_oauth = !allowed_oauth_flows.is_empty() || !allowed_oauth_scopes.is_empty();
    if any_oauth && !oauth_on {
        return Err(invalid(
            "AllowedOAuthFlowsUserPoolClient must be true for a client with AllowedOAuthFlows \
             or AllowedOAuthScopes (Cognito's rule: the OAuth settings apply only when it is).",
        ));
    }
    if oauth_on && allowed_oauth_flows.is_empty() {
        return Err(invalid(
            "AllowedOAuthFlowsUserPoolClient is true but AllowedOAuthFlows is empty; give the \
             flows (code, implicit or client_credentials) and AllowedOAuthScopes.",
        ));
    }
    if input
        .get("DefaultRedirectURI")
        .is_some_and(|v| !v.is_null() && v != "")
    {
        return Err(invalid(
            "DefaultRedirectURI is not supported: Cognate's /oauth2/authorize always takes the \
             redirect_uri of the request, one of CallbackURLs.",
        ));
    }
    if input
        .get("AnalyticsConfiguration")
        .is_some_and(|v| !v.is_null())
    {
        return Err(invalid(
            "AnalyticsConfiguration is not supported: Cognate sends no events to Amazon \
             Pinpoint.",
        ));
    }
    if optional_bool(input, "EnableTokenRevocation")? == Some(false) {
        return Err(invalid(
            "EnableTokenRevocation cannot be false: Cognate always honours RevokeToken and \
             /oauth2/revoke for every client.",
        ));
    }
    if optional_bool(input, "EnablePropagateAdditionalUserContextData")? == Some(true) {
        return Err(invalid(
            "EnablePropagateAdditionalUserContextData cannot be true: Cognate's threat \
             protection does not read UserContextData yet (the admin calls' ContextData it \
             does read).",
        ));
    }
    if let Some(minutes) = optional_int(input, "AuthSessionValidity", 3..=15)? {
        if minutes != AUTH_SESSION_MINUTES {
            return Err(invalid(format!(
                "AuthSessionValidity {minutes} is not supported: Cognate's sign-in sessions \
                 last {AUTH_SESSION_MINUTES} minutes (give 3 or leave it out)."
            )));
        }
    }
    let prevent_user_existence_errors = match optional(input, "PreventUserExistenceErrors")? {
        None | Some("ENABLED") => UserExistenceErrors::Enabled,
        Some("LEGACY") => UserExistenceErrors::Legacy,
        Some(other) => {
            return Err(invalid(format!(
                "PreventUserExistenceErrors: {other:?} is not ENABLED or LEGACY."
            )))
        }
    };
    Ok(Settings {
        name: optional(input, "ClientName")?.map(str::to_string),
        token_validity,
        read_attributes: string_list(input, "ReadAttributes")?,
        write_attributes: string_list(input, "WriteAttributes")?,
        explicit_auth_flows: explicit_auth_flows(input)?,
        // Left out, the pool's own users: Cognito's API gives such a client no providers,
        // yet signs its users in with passwords through the API (the list only governs
        // the hosted UI there), which Cognate ties to `COGNITO` being listed.
        supported_identity_providers: match input.get("SupportedIdentityProviders") {
            None | Some(Value::Null) => vec![OWN_USERS.to_string()],
            Some(_) => string_list(input, "SupportedIdentityProviders")?,
        },
        callback_urls: string_list(input, "CallbackURLs")?,
        logout_urls: string_list(input, "LogoutURLs")?,
        allowed_oauth_flows,
        allowed_oauth_scopes,
        prevent_user_existence_errors,
        refresh_rotation: rotation(input)?,
    })
}

impl Settings {
    /// The client record these settings make, over `base` (its id, pool, name, origin,
    /// secret, Cognate's own settings, dates).
    fn apply(self, base: AppClient) -> AppClient {
        AppClient {
            name: self.name.unwrap_or(base.name.clone()),
            token_validity: self.token_validity,
            read_attributes: self.read_attributes,
            write_attributes: self.write_attributes,
            explicit_auth_flows: self.explicit_auth_flows,
            supported_identity_providers: self.supported_identity_providers,
            callback_urls: self.callback_urls,
            logout_urls: self.logout_urls,
            allowed_oauth_flows: self.allowed_oauth_flows,
            allowed_oauth_scopes: self.allowed_oauth_scopes,
            prevent_user_existence_errors: self.prevent_user_existence_errors,
            refresh_rotation: self.refresh_rotation,
            ..base
        }
    }
}

/// Cognito's `UserPoolClientType`: every member, lists left out when empty, the secret
/// (when given) in clear as Cognito shows it.
fn client_type(c: &AppClient, secret: Option<&str>) -> Value {
    let mut out = Map::new();
    out.insert("UserPoolId".into(), json!(c.pool_id));
    out.insert("ClientName".into(), json!(c.name));
    out.insert("ClientId".into(), json!(c.id));
    if let Some(secret) = secret {
        out.insert("ClientSecret".into(), json!(secret));
    }
    out.insert("LastModifiedDate".into(), epoch(c.updated_at));
    out.insert("CreationDate".into(), epoch(c.created_at));
    let v = &c.token_validity;
    let (refresh, refresh_unit) = lifetime_out(v.refresh_token_secs, "days");
    let (access, access_unit) = lifetime_out(v.access_token_secs, "hours");
    let (id, id_unit) = lifetime_out(v.id_token_secs, "hours");
    out.insert("RefreshTokenValidity".into(), json!(refresh));
    out.insert("AccessTokenValidity".into(), json!(access));
    out.insert("IdTokenValidity".into(), json!(id));
    out.insert(
        "TokenValidityUnits".into(),
        json!({
            "AccessToken": access_unit,
            "IdToken": id_unit,
            "RefreshToken": refresh_unit,
        }),
    );
    let lists: [(&str, Vec<&str>); 8] = [
        (
            "ReadAttributes",
            c.read_attributes.iter().map(String::as_str).collect(),
        ),
        (
            "WriteAttributes",
            c.write_attributes.iter().map(String::as_str).collect(),
        ),
        (
            "ExplicitAuthFlows",
            c.explicit_auth_flows.iter().map(|f| f.as_str()).collect(),
        ),
        (
            "SupportedIdentityProviders",
            c.supported_identity_providers
                .iter()
                .map(String::as_str)
                .collect(),
        ),
        (
            "CallbackURLs",
            c.callback_urls.iter().map(String::as_str).collect(),
        ),
        (
            "LogoutURLs",
            c.logout_urls.iter().map(String::as_str).collect(),
        ),
        (
            "AllowedOAuthFlows",
            c.allowed_oauth_flows
                .iter()
                .map(|f| oauth_flow_name(*f))
                .collect(),
        ),
        (
            "AllowedOAuthScopes",
            c.allowed_oauth_scopes.iter().map(String::as_str).collect(),
        ),
    ];
    for (name, items) in lists {
        if !items.is_empty() {
            out.insert(name.into(), json!(items));
        }
    }
    out.insert(
        "AllowedOAuthFlowsUserPoolClient".into(),
        json!(!c.allowed_oauth_flows.is_empty()),
    );
    out.insert(
        "PreventUserExistenceErrors".into(),
        json!(match c.prevent_user_existence_errors {
            UserExistenceErrors::Enabled => "ENABLED",
            UserExistenceErrors::Legacy => "LEGACY",
        }),
    );
    out.insert("EnableTokenRevocation".into(), json!(true));
    out.insert(
        "EnablePropagateAdditionalUserContextData".into(),
        json!(false),
    );
    out.insert("AuthSessionValidity".into(), json!(AUTH_SESSION_MINUTES));
    out.insert(
        "RefreshTokenRotation".into(),
        json!({
            "Feature": if c.refresh_rotation.enabled { "ENABLED" } else { "DISABLED" },
            "RetryGracePeriodSeconds": c.refresh_rotation.grace_period_secs,
        }),
    );
    Value::Object(out)
}

/// The client's secret in clear (sealed under the node's master key).
fn secret_of(state: &AppState, call: &AwsCall, c: &AppClient) -> Result<Option<String>, AwsError> {
    let Some(sealed) = &c.secret else {
        return Ok(None);
    };
    state
        .node
        .master
        .open_string(&client_secret_context(&c.id), sealed)
        .map(|s| Some(s.expose().to_string()))
        .map_err(|e| AwsError::internal(call.protocol, e))
}

/// `ClientSecret` of CreateUserPoolClient (an operator's own secret), by Cognito's
/// pattern: 24 to 64 characters of `[\w+]`.
fn given_secret(input: &Value) -> Result<Option<String>, AwsError> {
    let Some(secret) = optional(input, "ClientSecret")? else {
        return Ok(None);
    };
    let ok = (24..=64).contains(&secret.len())
        && secret
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+');
    if !ok {
        return Err(invalid(
            "ClientSecret must have 24 to 64 letters, digits, _ or + (or leave it out and let \
             GenerateSecret make one).",
        ));
    }
    Ok(Some(secret.to_string()))
}

/// `CreateUserPoolClient`: a new client with a generated id (and secret, with
/// `GenerateSecret`), owned by the API.
pub async fn create_user_pool_client(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let name = required(&input, "ClientName")?;
    let generate = optional_bool(&input, "GenerateSecret")?;
    let given = given_secret(&input)?;
    if given.is_some() && generate == Some(false) {
        return Err(invalid(
            "ClientSecret is given but GenerateSecret is false; a client with a secret needs \
             GenerateSecret true (or left out).",
        ));
    }
    let settings = settings(&input)?;
    let pool = pool(state, call, pool_id).await?;
    let id = ids::new_client_id();
    let secret = given.or_else(|| (generate == Some(true)).then(ids::new_client_secret));
    let base = AppClient {
        id: id.clone(),
        pool_id: pool.id.clone(),
        name: name.to_string(),
        origin: Origin::Api,
        secret: secret.as_ref().map(|s| {
            state
                .node
                .master
                .seal(&client_secret_context(&id), s.as_bytes())
        }),
        callback_urls: Vec::new(),
        logout_urls: Vec::new(),
        allowed_oauth_flows: Vec::new(),
        allowed_oauth_scopes: Vec::new(),
        supported_identity_providers: Vec::new(),
        token_validity: TokenValidity::default(),
        refresh_rotation: RefreshRotation::default(),
        // A public client cannot keep a secret, so PKCE is its only code binding (as the
        // CLI and the file decide).
        require_pkce: secret.is_none(),
        read_attributes: Vec::new(),
        write_attributes: Vec::new(),
        allowed_cors_origins: Vec::new(),
        branding: Branding::default(),
        explicit_auth_flows: default_auth_flows(),
        prevent_user_existence_errors: UserExistenceErrors::default(),
        created_at: call.now,
        updated_at: call.now,
    };
    let client = settings.apply(base);
    service(state)
        .create_client(&client)
        .await
        .map_err(|e| admin_error(state, call, &id, e))?;
    Ok(json!({ "UserPoolClient": client_type(&client, secret.as_deref()) }))
}

/// `DescribeUserPoolClient`, secret included (as Cognito shows it).
pub async fn describe_user_pool_client(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let client_id = required(&input, "ClientId")?;
    let client = service(state)
        .stored_client(pool_id, client_id)
        .await
        .map_err(|e| admin_error(state, call, client_id, e))?;
    let secret = secret_of(state, call, &client)?;
    Ok(json!({ "UserPoolClient": client_type(&client, secret.as_deref()) }))
}

/// `UpdateUserPoolClient`: the request replaces the client's Cognito settings (omitted
/// members go back to their defaults; an omitted `ClientName` keeps the name, which has
/// none); the id, the secret, PKCE, CORS origins and branding stay.
pub async fn update_user_pool_client(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let client_id = required(&input, "ClientId")?;
    let settings = settings(&input)?;
    let admin = service(state);
    let stored = admin
        .stored_client(pool_id, client_id)
        .await
        .map_err(|e| admin_error(state, call, client_id, e))?;
    let client = settings.apply(AppClient {
        updated_at: call.now,
        ..stored
    });
    let updated = admin
        .update_client(&client, Origin::Api)
        .await
        .map_err(|e| admin_error(state, call, client_id, e))?;
    let secret = secret_of(state, call, &updated)?;
    Ok(json!({ "UserPoolClient": client_type(&updated, secret.as_deref()) }))
}

/// `DeleteUserPoolClient`: its refresh tokens stop working with it.
pub async fn delete_user_pool_client(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let client_id = required(&input, "ClientId")?;
    service(state)
        .delete_client_by(pool_id, client_id, Origin::Api)
        .await
        .map_err(|e| admin_error(state, call, client_id, e))?;
    Ok(json!({}))
}

/// `ListUserPoolClients`, by client id, `MaxResults` (1 to 60) at a time; the
/// `NextToken` carries the last id of the page.
pub async fn list_user_pool_clients(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let limit = optional_int(&input, "MaxResults", 1..=MAX_RESULTS)?.unwrap_or(MAX_RESULTS);
    let after = match optional(&input, "NextToken")? {
        None => None,
        Some(token) => Some(after_of(token)?),
    };
    let pool = pool(state, call, pool_id).await?;
    let mut clients = state
        .node
        .store
        .list_clients(&pool.id)
        .await
        .map_err(|e| AwsError::internal(call.protocol, e))?;
    clients.sort_by(|a, b| a.id.cmp(&b.id));
    let rest: Vec<&AppClient> = clients
        .iter()
        .filter(|c| after.as_deref().is_none_or(|last| c.id.as_str() > last))
        .collect();
    let page = &rest[..rest.len().min(limit as usize)];
    let mut out = json!({
        "UserPoolClients": page
            .iter()
            .map(|c| json!({ "ClientId": c.id, "UserPoolId": c.pool_id, "ClientName": c.name }))
            .collect::<Vec<_>>(),
    });
    if let (true, Some(last), Some(obj)) =
        (rest.len() > page.len(), page.last(), out.as_object_mut())
    {
        obj.insert(
            "NextToken".into(),
            json!(PageRequest::token_after(&last.id)),
        );
    }
    Ok(out)
}

/// The last client id a `NextToken` of [`list_user_pool_clients`] carries.
fn after_of(token: &str) -> Result<String, AwsError> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .filter(|id| ids::is_valid_client_id(id))
        .ok_or_else(|| invalid("NextToken is not a token this listing issued."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_read_back_in_cognitos_unit_when_it_divides() {
        assert_eq!(lifetime_out(3600, "hours"), (1, "hours"));
        assert_eq!(lifetime_out(1800, "hours"), (30, "minutes"));
        assert_eq!(lifetime_out(86400, "hours"), (24, "hours"));
        assert_eq!(lifetime_out(30 * 86400, "days"), (30, "days"));
        assert_eq!(lifetime_out(7200, "days"), (2, "hours"));
        assert_eq!(lifetime_out(301, "hours"), (301, "seconds"));
        let input =
            json!({"RefreshTokenValidity": 2, "TokenValidityUnits": {"RefreshToken": "hours"}});
        assert_eq!(
            lifetime(&input, "RefreshTokenValidity", "RefreshToken", "days", 0).unwrap(),
            7200
        );
        let input = json!({"RefreshTokenValidity": 2});
        assert_eq!(
            lifetime(&input, "RefreshTokenValidity", "RefreshToken", "days", 0).unwrap(),
            2 * 86400,
            "Cognito's default unit of refresh tokens is days"
        );
        assert_eq!(
            lifetime(&json!({}), "IdTokenValidity", "IdToken", "hours", 3600).unwrap(),
            3600
        );
    }

    #[test]
    fn legacy_auth_flow_names_keep_cognitos_meaning() {
        let flows = |names: &[&str]| explicit_auth_flows(&json!({ "ExplicitAuthFlows": names }));
        assert_eq!(flows(&[]).unwrap(), default_auth_flows());
        assert_eq!(
            flows(&["CUSTOM_AUTH_FLOW_ONLY"]).unwrap(),
            [AuthFlow::AllowCustomAuth, AuthFlow::AllowRefreshTokenAuth]
        );
        assert_eq!(
            flows(&["USER_PASSWORD_AUTH"]).unwrap(),
            [
                AuthFlow::AllowUserSrpAuth,
                AuthFlow::AllowUserPasswordAuth,
                AuthFlow::AllowRefreshTokenAuth
            ]
        );
        assert_eq!(
            flows(&["ALLOW_USER_AUTH"]).unwrap(),
            [AuthFlow::AllowUserAuth]
        );
        assert!(flows(&["ADMIN_NO_SRP_AUTH", "ALLOW_USER_SRP_AUTH"]).is_err());
        assert!(flows(&["ALLOW_NOTHING"]).is_err());
    }
}
