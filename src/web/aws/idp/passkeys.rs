//! Passkeys of the signed-in user (access token): StartWebAuthnRegistration,
//! CompleteWebAuthnRegistration, ListWebAuthnCredentials, DeleteWebAuthnCredential.

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// StartWebAuthnRegistration.
pub async fn start_web_authn_registration(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("StartWebAuthnRegistration"))
}

/// CompleteWebAuthnRegistration.
pub async fn complete_web_authn_registration(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("CompleteWebAuthnRegistration"))
}

/// ListWebAuthnCredentials.
pub async fn list_web_authn_credentials(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("ListWebAuthnCredentials"))
}

/// DeleteWebAuthnCredential.
pub async fn delete_web_authn_credential(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DeleteWebAuthnCredential"))
}
