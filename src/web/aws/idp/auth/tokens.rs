//! GetTokensFromRefreshToken and RevokeToken: the token service's refresh and
//! revocation (RFC 7009), with the client's secret, when it has one, checked in constant
//! time.

use serde_json::{json, Value};

use super::{api, authentication_result, challenge_error};
use crate::core::challenge::{check_flow, RequestedFlow};
use crate::core::oauth::client_auth::{authenticate_client, AuthMethod, PresentedClient};
use crate::core::secrets::SecretString;
use crate::web::aws::idp::{client_of, not_authorized, optional, required};
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// The client of `ClientId`, with its `ClientSecret` checked (a confidential client must
/// present it; a public one must not), through the token endpoint's client check.
async fn authenticated_client(
    state: &AppState,
    call: &AwsCall,
    input: &Value,
    refused: impl Fn() -> AwsError,
) -> Result<crate::core::model::AppClient, AwsError> {
    let client_id = required(input, "ClientId")?;
    // Unknown clients are Cognito's ResourceNotFoundException.
    client_of(state, call, client_id).await?;
    let presented = PresentedClient {
        client_id: client_id.to_string(),
        secret: optional(input, "ClientSecret")?.map(SecretString::new),
        method: AuthMethod::Post,
    };
    authenticate_client(state.node.store.as_ref(), &state.node.master, &presented)
        .await
        .map_err(|e| match e.code {
            crate::core::oauth::ErrorCode::InvalidClient => refused(),
            _ => AwsError::internal(call.protocol, e),
        })
}

/// `GetTokensFromRefreshToken`: new ID and access tokens, and, for a client that rotates
/// refresh tokens, a new refresh token (the old one lasts its grace period).
pub async fn get_tokens_from_refresh_token(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let token = required(&input, "RefreshToken")?;
    let client = authenticated_client(state, call, &input, || {
        not_authorized("Unable to verify the client secret.")
    })
    .await?;
    check_flow(&client, RequestedFlow::RefreshToken).map_err(|e| challenge_error(call, e))?;
    let tokens = api(state)
        .with_client_metadata(super::super::client_metadata(&input)?)
        .refresh(&client, token, false, call.now)
        .await
        .map_err(|e| challenge_error(call, e))?;
    Ok(json!({ "AuthenticationResult": authentication_result(&tokens) }))
}

/// `RevokeToken`: revokes a refresh token and every token of its family. A token of
/// another client, or none, is left alone and answered the same (RFC 7009 section 2.2).
pub async fn revoke_token(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let token = required(&input, "Token")?;
    let client = authenticated_client(state, call, &input, || {
        AwsError::bad_request(
            "UnauthorizedException",
            "Unable to verify the client secret.",
        )
    })
    .await?;
    // A JWT (an ID or access token) is not what RevokeToken takes (Cognito's
    // UnsupportedTokenTypeException); refresh tokens here are opaque.
    if token.split('.').count() == 3 {
        return Err(AwsError::bad_request(
            "UnsupportedTokenTypeException",
            "Only refresh tokens can be revoked.",
        ));
    }
    api(state)
        .tokens()
        .revoke(&client, token, call.now)
        .await
        .map_err(|e| challenge_error(call, e.into()))?;
    Ok(json!({}))
}
