//! The end-user actions: sign-up and recovery (SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword) through the account service, and the actions of a signed-in user holding an access token (GetUser, UpdateUserAttributes, DeleteUserAttributes, VerifyUserAttribute, GetUserAttributeVerificationCode, ChangePassword, DeleteUser, GlobalSignOut).

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// `SignUp`.
pub async fn sign_up(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "SignUp is not served yet (issue 14 H3).",
    ))
}

/// `ConfirmSignUp`.
pub async fn confirm_sign_up(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "ConfirmSignUp is not served yet (issue 14 H3).",
    ))
}

/// `ResendConfirmationCode`.
pub async fn resend_confirmation_code(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "ResendConfirmationCode is not served yet (issue 14 H3).",
    ))
}

/// `ForgotPassword`.
pub async fn forgot_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "ForgotPassword is not served yet (issue 14 H3).",
    ))
}

/// `ConfirmForgotPassword`.
pub async fn confirm_forgot_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "ConfirmForgotPassword is not served yet (issue 14 H3).",
    ))
}

/// `GetUser`.
pub async fn get_user(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "GetUser is not served yet (issue 14 H3).",
    ))
}

/// `UpdateUserAttributes`.
pub async fn update_user_attributes(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "UpdateUserAttributes is not served yet (issue 14 H3).",
    ))
}

/// `DeleteUserAttributes`.
pub async fn delete_user_attributes(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "DeleteUserAttributes is not served yet (issue 14 H3).",
    ))
}

/// `VerifyUserAttribute`.
pub async fn verify_user_attribute(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "VerifyUserAttribute is not served yet (issue 14 H3).",
    ))
}

/// `GetUserAttributeVerificationCode`.
pub async fn get_user_attribute_verification_code(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "GetUserAttributeVerificationCode is not served yet (issue 14 H3).",
    ))
}

/// `ChangePassword`.
pub async fn change_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "ChangePassword is not served yet (issue 14 H3).",
    ))
}

/// `DeleteUser`.
pub async fn delete_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "DeleteUser is not served yet (issue 14 H3).",
    ))
}

/// `GlobalSignOut`.
pub async fn global_sign_out(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "GlobalSignOut is not served yet (issue 14 H3).",
    ))
}
