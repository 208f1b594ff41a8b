//! MFA preferences: SetUserMFAPreference (access token), AdminSetUserMFAPreference (signed).

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// SetUserMFAPreference.
pub async fn set_user_mfa_preference(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("SetUserMFAPreference"))
}

/// AdminSetUserMFAPreference.
pub async fn admin_set_user_mfa_preference(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("AdminSetUserMFAPreference"))
}
