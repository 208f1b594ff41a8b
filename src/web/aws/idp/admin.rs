//! The signed administration of users: AdminCreateUser, AdminGetUser, AdminUpdateUserAttributes, AdminDeleteUserAttributes, AdminDeleteUser, AdminDisableUser, AdminEnableUser, AdminSetUserPassword, AdminResetUserPassword, AdminConfirmSignUp, AdminUserGlobalSignOut, AdminLinkProviderForUser, AdminDisableProviderForUser.

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// `AdminCreateUser`.
pub async fn admin_create_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminCreateUser is not served yet (issue 14 H4).",
    ))
}

/// `AdminGetUser`.
pub async fn admin_get_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminGetUser is not served yet (issue 14 H4).",
    ))
}

/// `AdminUpdateUserAttributes`.
pub async fn admin_update_user_attributes(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminUpdateUserAttributes is not served yet (issue 14 H4).",
    ))
}

/// `AdminDeleteUserAttributes`.
pub async fn admin_delete_user_attributes(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminDeleteUserAttributes is not served yet (issue 14 H4).",
    ))
}

/// `AdminDeleteUser`.
pub async fn admin_delete_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminDeleteUser is not served yet (issue 14 H4).",
    ))
}

/// `AdminDisableUser`.
pub async fn admin_disable_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminDisableUser is not served yet (issue 14 H4).",
    ))
}

/// `AdminEnableUser`.
pub async fn admin_enable_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminEnableUser is not served yet (issue 14 H4).",
    ))
}

/// `AdminSetUserPassword`.
pub async fn admin_set_user_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminSetUserPassword is not served yet (issue 14 H4).",
    ))
}

/// `AdminResetUserPassword`.
pub async fn admin_reset_user_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminResetUserPassword is not served yet (issue 14 H4).",
    ))
}

/// `AdminConfirmSignUp`.
pub async fn admin_confirm_sign_up(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminConfirmSignUp is not served yet (issue 14 H4).",
    ))
}

/// `AdminUserGlobalSignOut`.
pub async fn admin_user_global_sign_out(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminUserGlobalSignOut is not served yet (issue 14 H4).",
    ))
}

/// `AdminLinkProviderForUser`.
pub async fn admin_link_provider_for_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminLinkProviderForUser is not served yet (issue 14 H4).",
    ))
}

/// `AdminDisableProviderForUser`.
pub async fn admin_disable_provider_for_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminDisableProviderForUser is not served yet (issue 14 H4).",
    ))
}
