//! The signed administration of groups: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups, AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser, ListUsersInGroup.

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// `CreateGroup`.
pub async fn create_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "CreateGroup is not served yet (issue 14 H4).",
    ))
}

/// `GetGroup`.
pub async fn get_group(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "GetGroup is not served yet (issue 14 H4).",
    ))
}

/// `UpdateGroup`.
pub async fn update_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "UpdateGroup is not served yet (issue 14 H4).",
    ))
}

/// `DeleteGroup`.
pub async fn delete_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "DeleteGroup is not served yet (issue 14 H4).",
    ))
}

/// `ListGroups`.
pub async fn list_groups(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "ListGroups is not served yet (issue 14 H4).",
    ))
}

/// `AdminAddUserToGroup`.
pub async fn admin_add_user_to_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminAddUserToGroup is not served yet (issue 14 H4).",
    ))
}

/// `AdminRemoveUserFromGroup`.
pub async fn admin_remove_user_from_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminRemoveUserFromGroup is not served yet (issue 14 H4).",
    ))
}

/// `AdminListGroupsForUser`.
pub async fn admin_list_groups_for_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminListGroupsForUser is not served yet (issue 14 H4).",
    ))
}

/// `ListUsersInGroup`.
pub async fn list_users_in_group(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "ListUsersInGroup is not served yet (issue 14 H4).",
    ))
}
