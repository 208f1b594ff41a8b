//! The signed administration of groups: CreateGroup, GetGroup, UpdateGroup, DeleteGroup,
//! ListGroups, AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser,
//! ListUsersInGroup.
//!
//! The rules on names, precedence, descriptions and role ARNs are the administration
//! service's ([`crate::core::admin::groups`]), shared with the configuration file and the
//! CLI; a group declared in the configuration file is refused to API writes. The listings
//! page with `Limit` and an opaque `NextToken`.

use base64::Engine;
use serde_json::{json, Map, Value};

use super::{
    account_error, directory_error, epoch, invalid, not_found, optional, optional_int, pool,
    required, user_type, AdminNames,
};
use crate::core::admin::{AdminError, AdminService};
use crate::core::model::{Group, Origin, PageRequest, UserPool};
use crate::core::storage::UserRef;
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// Cognito's `Limit` of the group listings: 1 to 60, 60 when absent.
const MAX_LIMIT: i64 = 60;

/// Cognito's `GroupType`; absent members are left out.
fn group_type(group: &Group) -> Value {
    let mut out = Map::new();
    out.insert("GroupName".into(), json!(group.name));
    out.insert("UserPoolId".into(), json!(group.pool_id));
    if let Some(d) = &group.description {
        out.insert("Description".into(), json!(d));
    }
    if let Some(r) = &group.role_arn {
        out.insert("RoleArn".into(), json!(r));
    }
    if let Some(p) = group.precedence {
        out.insert("Precedence".into(), json!(p));
    }
    out.insert("LastModifiedDate".into(), epoch(group.updated_at));
    out.insert("CreationDate".into(), epoch(group.created_at));
    Value::Object(out)
}

fn group_not_found() -> AwsError {
    not_found("Group not found.")
}

const NAMES: AdminNames = AdminNames {
    fields: &[
        ("name", "GroupName"),
        ("description", "Description"),
        ("precedence", "Precedence"),
        ("role_arn", "RoleArn"),
    ],
    not_found: "Group not found.",
    exists: (
        "GroupExistsException",
        "A group with the name already exists.",
    ),
};

fn admin_error(state: &AppState, call: &AwsCall, e: AdminError) -> AwsError {
    super::admin_error(state, call, e, &NAMES)
}

/// The group `GroupName` names in `pool` (`ResourceNotFoundException` "Group not found.").
async fn existing_group(
    state: &AppState,
    call: &AwsCall,
    pool: &UserPool,
    name: &str,
) -> Result<Group, AwsError> {
    match state.node.store.get_group(&pool.id, name).await {
        Ok(Some(group)) => Ok(group),
        Ok(None) => Err(group_not_found()),
        Err(e) => Err(AwsError::internal(call.protocol, e)),
    }
}

/// `Description`, `RoleArn` and `Precedence` as given (absent: `None`).
struct Settings {
    description: Option<String>,
    role_arn: Option<String>,
    precedence: Option<i64>,
}

fn group_settings(input: &Value) -> Result<Settings, AwsError> {
    Ok(Settings {
        description: optional(input, "Description")?.map(str::to_string),
        role_arn: optional(input, "RoleArn")?.map(str::to_string),
        precedence: optional_int(input, "Precedence", 0..=i64::from(i32::MAX))?,
    })
}

/// `CreateGroup`.
pub async fn create_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "GroupName")?;
    let pool_id = required(&input, "UserPoolId")?;
    let Settings {
        description,
        role_arn,
        precedence,
    } = group_settings(&input)?;
    let pool = pool(state, call, pool_id).await?;
    let group = Group {
        pool_id: pool.id.clone(),
        name: name.to_string(),
        description,
        precedence,
        role_arn,
        origin: Origin::Api,
        created_at: call.now,
        updated_at: call.now,
    };
    AdminService::new(state.node.store.clone())
        .create_group(&group)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    Ok(json!({ "Group": group_type(&group) }))
}

/// `GetGroup`.
pub async fn get_group(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError> {
    let name = required(&input, "GroupName")?;
    let pool_id = required(&input, "UserPoolId")?;
    let pool = pool(state, call, pool_id).await?;
    let group = existing_group(state, call, &pool, name).await?;
    Ok(json!({ "Group": group_type(&group) }))
}

/// `UpdateGroup`: the members given replace the group's; those absent are kept.
pub async fn update_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "GroupName")?;
    let pool_id = required(&input, "UserPoolId")?;
    let Settings {
        description,
        role_arn,
        precedence,
    } = group_settings(&input)?;
    let pool = pool(state, call, pool_id).await?;
    let stored = existing_group(state, call, &pool, name).await?;
    let group = Group {
        description: description.or(stored.description.clone()),
        role_arn: role_arn.or(stored.role_arn.clone()),
        precedence: precedence.or(stored.precedence),
        updated_at: call.now,
        ..stored
    };
    let updated = AdminService::new(state.node.store.clone())
        .update_group(&group, Origin::Api)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    Ok(json!({ "Group": group_type(&updated) }))
}

/// `DeleteGroup`: its members stay in the pool.
pub async fn delete_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "GroupName")?;
    let pool_id = required(&input, "UserPoolId")?;
    let pool = pool(state, call, pool_id).await?;
    let existed = AdminService::new(state.node.store.clone())
        .delete_group_by(&pool.id, name, Origin::Api)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    if !existed {
        return Err(group_not_found());
    }
    Ok(json!({}))
}

/// `Limit` (1 to 60, 60 when absent).
fn limit(input: &Value) -> Result<usize, AwsError> {
    Ok(optional_int(input, "Limit", 1..=MAX_LIMIT)?.unwrap_or(MAX_LIMIT) as usize)
}

/// The offset a `NextToken` of an in-memory listing carries (opaque to callers).
fn offset_of(input: &Value) -> Result<usize, AwsError> {
    let Some(token) = optional(input, "NextToken")? else {
        return Ok(0);
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("offset:").and_then(|n| n.parse().ok()))
        .ok_or_else(|| invalid("NextToken is not a token this listing issued."))
}

/// One page of `items` from `offset`, with the `NextToken` of the rest (if any).
fn page_of<T>(items: Vec<T>, offset: usize, limit: usize) -> (Vec<T>, Option<String>) {
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let end = offset.saturating_add(page.len());
    let next = (end < total).then(|| PageRequest::token_after(&format!("offset:{end}")));
    (page, next)
}

fn with_next(mut out: Value, next: Option<String>) -> Value {
    if let (Some(next), Some(obj)) = (next, out.as_object_mut()) {
        obj.insert("NextToken".into(), json!(next));
    }
    out
}

/// `ListGroups`, by name.
pub async fn list_groups(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let limit = limit(&input)?;
    let offset = offset_of(&input)?;
    let pool = pool(state, call, pool_id).await?;
    let mut groups = state
        .node
        .store
        .list_groups(&pool.id)
        .await
        .map_err(|e| AwsError::internal(call.protocol, e))?;
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    let (page, next) = page_of(groups, offset, limit);
    Ok(with_next(
        json!({ "Groups": page.iter().map(group_type).collect::<Vec<_>>() }),
        next,
    ))
}

/// The pool, user and group an Admin*Group call names.
async fn membership(
    state: &AppState,
    call: &AwsCall,
    input: &Value,
) -> Result<(UserPool, String, Group), AwsError> {
    let pool_id = required(input, "UserPoolId")?;
    let username = required(input, "Username")?;
    let group_name = required(input, "GroupName")?;
    let pool = pool(state, call, pool_id).await?;
    let user = state
        .accounts
        .admin_user(&pool, username)
        .await
        .map_err(|e| account_error(call, e))?;
    let group = existing_group(state, call, &pool, group_name).await?;
    Ok((pool, user.sub, group))
}

/// `AdminAddUserToGroup` (idempotent).
pub async fn admin_add_user_to_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let (pool, sub, group) = membership(state, call, &input).await?;
    state
        .node
        .directory
        .add_to_group(&pool, &group.name, &sub)
        .await
        .map_err(|e| match e {
            crate::core::directory::DirectoryError::GroupNotFound(_) => group_not_found(),
            e => directory_error(call, e),
        })?;
    Ok(json!({}))
}

/// `AdminRemoveUserFromGroup` (a user not in the group is no error, as in Cognito).
pub async fn admin_remove_user_from_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let (pool, sub, group) = membership(state, call, &input).await?;
    state
        .node
        .store
        .remove_member(&pool.id, &group.name, &sub)
        .await
        .map_err(|e| AwsError::internal(call.protocol, e))?;
    Ok(json!({}))
}

/// `AdminListGroupsForUser`, by precedence (lowest first), then name.
pub async fn admin_list_groups_for_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let username = required(&input, "Username")?;
    let limit = limit(&input)?;
    let offset = offset_of(&input)?;
    let pool = pool(state, call, pool_id).await?;
    let user = state
        .accounts
        .admin_user(&pool, username)
        .await
        .map_err(|e| account_error(call, e))?;
    let groups = state
        .node
        .store
        .groups_of_user(&pool.id, &user.sub)
        .await
        .map_err(|e| AwsError::internal(call.protocol, e))?;
    let (page, next) = page_of(groups, offset, limit);
    Ok(with_next(
        json!({ "Groups": page.iter().map(group_type).collect::<Vec<_>>() }),
        next,
    ))
}

/// `ListUsersInGroup`: a page of the store's member listing, each member as a `UserType`.
pub async fn list_users_in_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let group_name = required(&input, "GroupName")?;
    let limit = limit(&input)?;
    let after = optional(&input, "NextToken")?.map(str::to_string);
    let pool = pool(state, call, pool_id).await?;
    let group = existing_group(state, call, &pool, group_name).await?;
    let page = state
        .node
        .store
        .members_of_group(
            &pool.id,
            &group.name,
            &PageRequest {
                limit: limit as u32,
                after,
            },
        )
        .await
        .map_err(|e| match e {
            crate::core::storage::StoreError::NotFound => {
                invalid("NextToken is not a token this listing issued.")
            }
            e => AwsError::internal(call.protocol, e),
        })?;
    let mut users = Vec::with_capacity(page.items.len());
    for sub in &page.items {
        // A member deleted between the two reads is simply left out.
        if let Some(user) = state
            .node
            .store
            .get_user(&pool.id, &UserRef::Sub(sub.clone()))
            .await
            .map_err(|e| AwsError::internal(call.protocol, e))?
        {
            users.push(user_type(&user));
        }
    }
    Ok(with_next(json!({ "Users": users }), page.next))
}
