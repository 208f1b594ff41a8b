//! AssociateSoftwareToken and VerifySoftwareToken: enrolling an authenticator app, with
//! the `Session` of an `MFA_SETUP` challenge (the core's challenge session) or with a
//! signed-in user's `AccessToken`, over the MFA core's TOTP enrolment.

use serde_json::{json, Value};

use super::{api, challenge_error};
use crate::core::challenge::ChallengeError;
use crate::core::mfa::MfaError;
use crate::web::aws::idp::{invalid, optional, required};
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// Exactly one of `Session` and `AccessToken`.
fn session_or_token(input: &Value) -> Result<Result<&str, &str>, AwsError> {
    match (optional(input, "Session")?, optional(input, "AccessToken")?) {
        (Some(session), None) if !session.is_empty() => Ok(Ok(session)),
        (None, Some(token)) if !token.is_empty() => Ok(Err(token)),
        _ => Err(invalid(
            "Exactly one of Session and AccessToken is required.",
        )),
    }
}

/// `AssociateSoftwareToken`: a new TOTP key (`SecretCode`, base32) for the user.
pub async fn associate_software_token(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let api = api(state);
    match session_or_token(&input)? {
        Ok(session) => {
            let (secret, session) = api
                .associate_software_token(session, call.now)
                .await
                .map_err(|e| challenge_error(call, e))?;
            Ok(json!({ "SecretCode": secret.expose(), "Session": session }))
        }
        Err(token) => {
            let signed_in = super::super::access_token_user(state, call, token).await?;
            let secret = api
                .associate_for_user(&signed_in.pool, &signed_in.user, call.now)
                .await
                .map_err(|e| challenge_error(call, e))?;
            Ok(json!({ "SecretCode": secret.expose() }))
        }
    }
}

/// `VerifySoftwareToken`: one right code (`UserCode`) enrols the app. A wrong code is
/// Cognito's `EnableSoftwareTokenMFAException` (counted by the MFA core's throttle).
pub async fn verify_software_token(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let code = required(&input, "UserCode")?;
    let name = optional(&input, "FriendlyDeviceName")?.unwrap_or("");
    let api = api(state);
    let refused = |e: ChallengeError| match e {
        ChallengeError::Mfa(MfaError::CodeMismatch) => AwsError::bad_request(
            "EnableSoftwareTokenMFAException",
            "Code mismatch and fail enable Software Token MFA",
        ),
        e => challenge_error(call, e),
    };
    match session_or_token(&input)? {
        Ok(session) => {
            let session = api
                .verify_software_token(session, code, name, call.client_ip, call.now)
                .await
                .map_err(refused)?;
            Ok(json!({ "Status": "SUCCESS", "Session": session }))
        }
        Err(token) => {
            let signed_in = super::super::access_token_user(state, call, token).await?;
            api.verify_for_user(
                &signed_in.pool,
                &signed_in.user.sub,
                code,
                name,
                call.client_ip,
                call.now,
            )
            .await
            .map_err(refused)?;
            Ok(json!({ "Status": "SUCCESS" }))
        }
    }
}
