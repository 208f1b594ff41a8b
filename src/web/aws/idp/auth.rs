//! Sign-in over the user pools API: InitiateAuth and AdminInitiateAuth (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_SRP_AUTH, REFRESH_TOKEN_AUTH), their challenges (RespondToAuthChallenge, AdminRespondToAuthChallenge), GetTokensFromRefreshToken, RevokeToken, and the software-token enrolment of MFA_SETUP (AssociateSoftwareToken, VerifySoftwareToken).

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// `InitiateAuth`.
pub async fn initiate_auth(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "InitiateAuth is not served yet (issue 14 H2).",
    ))
}

/// `AdminInitiateAuth`.
pub async fn admin_initiate_auth(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminInitiateAuth is not served yet (issue 14 H2).",
    ))
}

/// `RespondToAuthChallenge`.
pub async fn respond_to_auth_challenge(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "RespondToAuthChallenge is not served yet (issue 14 H2).",
    ))
}

/// `AdminRespondToAuthChallenge`.
pub async fn admin_respond_to_auth_challenge(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AdminRespondToAuthChallenge is not served yet (issue 14 H2).",
    ))
}

/// `GetTokensFromRefreshToken`.
pub async fn get_tokens_from_refresh_token(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "GetTokensFromRefreshToken is not served yet (issue 14 H2).",
    ))
}

/// `RevokeToken`.
pub async fn revoke_token(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "RevokeToken is not served yet (issue 14 H2).",
    ))
}

/// `AssociateSoftwareToken`.
pub async fn associate_software_token(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "AssociateSoftwareToken is not served yet (issue 14 H2).",
    ))
}

/// `VerifySoftwareToken`.
pub async fn verify_software_token(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let _ = (state, call, input);
    Err(AwsError::bad_request(
        "UnknownOperationException",
        "VerifySoftwareToken is not served yet (issue 14 H2).",
    ))
}
