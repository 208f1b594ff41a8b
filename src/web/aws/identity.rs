//! The identity API's end-user and developer actions (target prefix
//! `AWSCognitoIdentityService`), in botocore's JSON shapes
//! (<https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/>):
//!
//! - `GetId { IdentityPoolId, Logins?, AccountId? }` -> `{ IdentityId }` (unsigned;
//!   `AccountId` is ignored, Cognate has no AWS account);
//! - `GetOpenIdToken { IdentityId, Logins? }` -> `{ IdentityId, Token }` (unsigned);
//! - `GetCredentialsForIdentity { IdentityId, Logins?, CustomRoleArn? }` ->
//!   `{ IdentityId, Credentials { AccessKeyId, SecretKey, SessionToken, Expiration } }`
//!   (unsigned; `Expiration` in epoch seconds, as the JSON 1.1 protocol writes
//!   timestamps);
//! - `GetOpenIdTokenForDeveloperIdentity { IdentityPoolId, IdentityId?, Logins,
//!   TokenDuration? }` -> `{ IdentityId, Token }` (SigV4-signed with an operator key; the
//!   dispatcher checked it).
//!
//! The edge parses and renders; the decisions are
//! [`crate::core::identity_pools::service`]'s. With an identity pool's upstream STS, the
//! enhanced flow's exchange at AWS is made here, through [`crate::federation::aws_sts`]
//! (the core does not call out). Errors are AWS's: `NotAuthorizedException`,
//! `ResourceNotFoundException`, `InvalidParameterException`,
//! `InvalidIdentityPoolConfigurationException`, `TooManyRequestsException`,
//! `ExternalServiceException`, with AWS's messages, which never say more about a refused
//! login than AWS says.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{AwsCall, AwsError};
use crate::core::identity_pools::service::{CredentialsOutcome, IdentityError};
use crate::federation::aws_sts::assume_role_with_web_identity;
use crate::web::AppState;

/// The session name Cognito gives the sessions it assumes for an identity.
const UPSTREAM_SESSION_NAME: &str = "CognitoIdentityCredentials";

fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

/// A required string member.
fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    match input.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        None | Some(Value::Null) => Err(invalid(format!("{name} is required."))),
        _ => Err(invalid(format!("{name} must be a non-empty string."))),
    }
}

/// An optional string member.
fn optional<'a>(input: &'a Value, name: &str) -> Result<Option<&'a str>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        _ => Err(invalid(format!("{name} must be a string."))),
    }
}

/// `Logins`: a map of strings (absent is empty).
fn logins(input: &Value) -> Result<BTreeMap<String, String>, AwsError> {
    match input.get("Logins") {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(invalid("Logins values must be strings.")),
            })
            .collect(),
        Some(_) => Err(invalid("Logins must be a map.")),
    }
}

/// The core's refusal in AWS's shape; internal detail goes to the log.
fn render(call: &AwsCall, e: IdentityError) -> AwsError {
    match e.aws_type() {
        Some(code) => AwsError::bad_request(code, e.message()),
        None => AwsError::internal(call.protocol, e),
    }
}

/// `GetId`.
pub async fn get_id(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError> {
    let pool_id = required(&input, "IdentityPoolId")?;
    let logins = logins(&input)?;
    let id = state
        .identity
        .get_id(pool_id, &logins, call.client_ip, call.now)
        .await
        .map_err(|e| render(call, e))?;
    Ok(json!({ "IdentityId": id }))
}

/// `GetOpenIdToken`.
pub async fn get_open_id_token(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let identity_id = required(&input, "IdentityId")?;
    let logins = logins(&input)?;
    let (id, token) = state
        .identity
        .get_open_id_token(identity_id, &logins, call.now)
        .await
        .map_err(|e| render(call, e))?;
    Ok(json!({ "IdentityId": id, "Token": token }))
}

/// `GetCredentialsForIdentity`.
pub async fn get_credentials_for_identity(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let identity_id = required(&input, "IdentityId")?;
    let logins = logins(&input)?;
    let custom_role_arn = optional(&input, "CustomRoleArn")?;
    let outcome = state
        .identity
        .get_credentials_for_identity(identity_id, &logins, custom_role_arn, call.now)
        .await
        .map_err(|e| render(call, e))?;
    match outcome {
        CredentialsOutcome::Vended {
            identity_id,
            credentials,
        } => Ok(json!({
            "IdentityId": identity_id,
            "Credentials": {
                "AccessKeyId": credentials.access_key_id,
                "SecretKey": credentials.secret_access_key.expose(),
                "SessionToken": credentials.session_token,
                "Expiration": credentials.expiration,
            }
        })),
        CredentialsOutcome::Upstream {
            identity_id,
            endpoint,
            role_arn,
            web_identity_token,
            duration_secs,
        } => {
            let endpoint = url::Url::parse(&endpoint)
                .map_err(|e| AwsError::internal(call.protocol, format!("upstream STS: {e}")))?;
            let creds = assume_role_with_web_identity(
                &state.node.idp_http,
                &endpoint,
                &role_arn,
                UPSTREAM_SESSION_NAME,
                &web_identity_token,
                duration_secs,
            )
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, role = %role_arn, "upstream STS refused the exchange");
                AwsError::bad_request(
                    "ExternalServiceException",
                    "The upstream security token service refused the exchange.",
                )
            })?;
            Ok(json!({
                "IdentityId": identity_id,
                "Credentials": {
                    "AccessKeyId": creds.access_key_id,
                    "SecretKey": creds.secret_access_key.expose(),
                    "SessionToken": creds.session_token.expose(),
                    "Expiration": creds.expiration,
                }
            }))
        }
    }
}

/// `GetOpenIdTokenForDeveloperIdentity` (operator-signed).
pub async fn get_open_id_token_for_developer_identity(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "IdentityPoolId")?;
    let identity_id = optional(&input, "IdentityId")?;
    let logins = logins(&input)?;
    let duration = match input.get("TokenDuration") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| invalid("TokenDuration must be a number of seconds."))?,
        ),
    };
    let (id, token) = state
        .identity
        .get_open_id_token_for_developer_identity(pool_id, identity_id, &logins, duration, call.now)
        .await
        .map_err(|e| render(call, e))?;
    Ok(json!({ "IdentityId": id, "Token": token }))
}
