//! Resource servers: CreateResourceServer, DescribeResourceServer, UpdateResourceServer,
//! DeleteResourceServer, ListResourceServers.
//!
//! The rules (identifiers, names, scopes, 100 scopes per server, 25 servers per pool, what
//! a removed scope does to the clients that allowed it) are the administration service's
//! ([`crate::core::admin::resource_servers`]), shared with the configuration file and the
//! CLI; a server declared in the configuration file is refused to API writes.

use base64::Engine;
use serde_json::{json, Value};

use super::{invalid, not_found, optional, pool, required, AdminNames};
use crate::core::admin::{AdminError, AdminService};
use crate::core::model::{Origin, ResourceScope, ResourceServer};
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

const NAMES: AdminNames = AdminNames {
    fields: &[
        ("identifier", "Identifier"),
        ("name", "Name"),
        ("scopes", "Scopes"),
    ],
    not_found: "Resource server not found.",
    exists: (
        "InvalidParameterException",
        "A resource server with this identifier already exists in the user pool.",
    ),
};

/// Cognito's `MaxResults` of ListResourceServers: 1 to 50, required.
const MAX_RESULTS: i64 = 50;

fn admin_error(state: &AppState, call: &AwsCall, e: AdminError) -> AwsError {
    // The pool's quota of servers is Cognito's LimitExceededException.
    if let Some(limit) = e
        .field_errors()
        .iter()
        .find(|f| f.path == "resource_servers")
    {
        return AwsError::bad_request("LimitExceededException", limit.message.clone());
    }
    super::admin_error(state, call, e, &NAMES)
}

/// Cognito's `ResourceServerType`.
fn server_type(server: &ResourceServer) -> Value {
    let scopes: Vec<Value> = server
        .scopes
        .iter()
        .map(|s| json!({"ScopeName": s.name, "ScopeDescription": s.description}))
        .collect();
    json!({
        "UserPoolId": server.pool_id,
        "Identifier": server.identifier,
        "Name": server.name,
        "Scopes": scopes,
    })
}

/// `Scopes`: a list of `{ScopeName, ScopeDescription}` (absent: none).
fn scopes_in(input: &Value) -> Result<Vec<ResourceScope>, AwsError> {
    let items = match input.get("Scopes") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("Scopes must be a list of scopes.")),
    };
    items
        .iter()
        .map(|item| {
            if !item.is_object() {
                return Err(invalid("Scopes must be a list of scopes."));
            }
            Ok(ResourceScope {
                name: required(item, "ScopeName")?.to_string(),
                description: required(item, "ScopeDescription")?.to_string(),
            })
        })
        .collect()
}

/// The server a create or update request describes.
async fn server_in(
    state: &AppState,
    call: &AwsCall,
    input: &Value,
) -> Result<ResourceServer, AwsError> {
    let pool_id = required(input, "UserPoolId")?;
    let identifier = required(input, "Identifier")?;
    let name = required(input, "Name")?;
    let scopes = scopes_in(input)?;
    let pool = pool(state, call, pool_id).await?;
    Ok(ResourceServer {
        pool_id: pool.id,
        identifier: identifier.to_string(),
        name: name.to_string(),
        origin: Origin::Api,
        scopes,
    })
}

/// CreateResourceServer.
pub async fn create_resource_server(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let server = server_in(state, call, &input).await?;
    AdminService::new(state.node.store.clone())
        .create_resource_server(&server)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    Ok(json!({ "ResourceServer": server_type(&server) }))
}

/// DescribeResourceServer.
pub async fn describe_resource_server(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let identifier = required(&input, "Identifier")?;
    let pool = pool(state, call, pool_id).await?;
    let found = AdminService::new(state.node.store.clone())
        .resource_server(&pool.id, identifier)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    match found {
        Some(server) => Ok(json!({ "ResourceServer": server_type(&server) })),
        None => Err(not_found(NAMES.not_found)),
    }
}

/// UpdateResourceServer: `Name` and `Scopes` replaced (no `Scopes` is none).
pub async fn update_resource_server(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let server = server_in(state, call, &input).await?;
    let updated = AdminService::new(state.node.store.clone())
        .update_resource_server(&server, Origin::Api)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    Ok(json!({ "ResourceServer": server_type(&updated) }))
}

/// DeleteResourceServer.
pub async fn delete_resource_server(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let identifier = required(&input, "Identifier")?;
    let pool = pool(state, call, pool_id).await?;
    let existed = AdminService::new(state.node.store.clone())
        .delete_resource_server_by(&pool.id, identifier, Origin::Api)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    if !existed {
        return Err(not_found(NAMES.not_found));
    }
    Ok(json!({}))
}

/// ListResourceServers, by identifier; `NextToken` carries the last identifier returned.
pub async fn list_resource_servers(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let limit = match input.get("MaxResults") {
        None | Some(Value::Null) => {
            return Err(invalid(
                "1 validation error detected: Value at 'maxResults' failed to satisfy \
                 constraint: Member must not be null",
            ))
        }
        _ => super::optional_int(&input, "MaxResults", 1..=MAX_RESULTS)?.unwrap_or(MAX_RESULTS),
    } as usize;
    let after = match optional(&input, "NextToken")? {
        None => None,
        Some(token) => Some(
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(token)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|s| s.strip_prefix("after:").map(str::to_string))
                .ok_or_else(|| invalid("NextToken is not a token this listing issued."))?,
        ),
    };
    let pool = pool(state, call, pool_id).await?;
    let servers = AdminService::new(state.node.store.clone())
        .resource_servers(&pool.id)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    let rest: Vec<&ResourceServer> = servers
        .iter()
        .filter(|s| after.as_deref().is_none_or(|a| s.identifier.as_str() > a))
        .collect();
    let page: Vec<Value> = rest.iter().take(limit).map(|s| server_type(s)).collect();
    let mut out = json!({ "ResourceServers": page });
    if rest.len() > limit {
        let last = &rest[limit - 1].identifier;
        out["NextToken"] =
            json!(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("after:{last}")));
    }
    Ok(out)
}
