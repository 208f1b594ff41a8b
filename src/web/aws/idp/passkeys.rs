//! Passkeys of the signed-in user (access token): StartWebAuthnRegistration,
//! CompleteWebAuthnRegistration, ListWebAuthnCredentials, DeleteWebAuthnCredential, over
//! the MFA core's passkeys ([`crate::core::mfa::passkeys::api`]): the registration's state
//! lives in the shared store, bound to the user and app client that started it.

use serde_json::{json, Value};

use super::auth::challenge_error;
use super::{access_token_user, epoch, invalid, not_found, optional, optional_int, required};
use crate::core::challenge::ChallengeError;
use crate::core::mfa::passkeys::api::CLIENT_MISMATCH;
use crate::core::mfa::passkeys::TOO_MANY_PASSKEYS;
use crate::core::mfa::MfaError;
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// `ListWebAuthnCredentials`' page size: `MaxResults` 1..20, Cognito's range.
const MAX_RESULTS: std::ops::RangeInclusive<i64> = 1..=20;

/// The core's refusals in Cognito's passkey terms.
fn passkey_error(call: &AwsCall, e: MfaError) -> AwsError {
    match e {
        MfaError::FactorNotAllowed => AwsError::bad_request(
            "WebAuthnNotEnabledException",
            "Passkeys are not enabled for this user pool.",
        ),
        MfaError::Expired => AwsError::bad_request(
            "WebAuthnChallengeNotFoundException",
            "No passkey registration was started for this user, or it expired; call StartWebAuthnRegistration again.",
        ),
        MfaError::NotPossible(m) if m == CLIENT_MISMATCH => {
            AwsError::bad_request("WebAuthnClientMismatchException", m)
        }
        MfaError::NotPossible(m) if m.starts_with("Passkeys need") => {
            AwsError::bad_request("WebAuthnConfigurationMissingException", m)
        }
        MfaError::NotPossible(m) if m == TOO_MANY_PASSKEYS => {
            AwsError::bad_request("LimitExceededException", m)
        }
        MfaError::NotFound => not_found("The passkey was not found."),
        e => challenge_error(call, ChallengeError::Mfa(e)),
    }
}

/// StartWebAuthnRegistration: `CredentialCreationOptions`, the `publicKey` member of
/// `navigator.credentials.create()` (challenge and ids base64url, as WebAuthn's JSON
/// serialization, level 3 `PublicKeyCredential.parseCreationOptionsFromJSON`).
pub async fn start_web_authn_registration(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let token = required(&input, "AccessToken")?;
    let signed_in = access_token_user(state, call, token).await?;
    let options = state
        .mfa
        .start_user_registration(
            &signed_in.pool,
            &signed_in.client.id,
            &signed_in.user,
            call.now,
        )
        .await
        .map_err(|e| passkey_error(call, e))?;
    Ok(json!({ "CredentialCreationOptions": options }))
}

/// CompleteWebAuthnRegistration: `Credential`, the browser's `PublicKeyCredential` as
/// JSON (`toJSON()`), for the registration this user started through this client.
pub async fn complete_web_authn_registration(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let token = required(&input, "AccessToken")?;
    let credential = match input.get("Credential") {
        Some(v @ Value::Object(_)) => v,
        None | Some(Value::Null) => return Err(invalid(
            "1 validation error detected: Value at 'credential' failed to satisfy constraint: Member must not be null",
        )),
        Some(_) => return Err(invalid("Credential must be a JSON object (the browser's PublicKeyCredential).")),
    };
    let signed_in = access_token_user(state, call, token).await?;
    state
        .mfa
        .finish_user_registration(
            &signed_in.pool,
            &signed_in.client.id,
            &signed_in.user.sub,
            credential,
            &call.event_context(Some(&signed_in.client.id)),
            call.now,
        )
        .await
        .map_err(|e| passkey_error(call, e))?;
    Ok(json!({}))
}

/// ListWebAuthnCredentials: the user's passkeys, `MaxResults` (1..20, default 20) a page,
/// `NextToken` the position of the next page.
pub async fn list_web_authn_credentials(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let token = required(&input, "AccessToken")?;
    let limit = optional_int(&input, "MaxResults", MAX_RESULTS)?.unwrap_or(20) as usize;
    let start = match optional(&input, "NextToken")? {
        None => 0,
        Some(t) => t
            .strip_prefix("pk.")
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| invalid("Invalid NextToken."))?,
    };
    let signed_in = access_token_user(state, call, token).await?;
    let all = state.mfa.passkeys_of(&signed_in.pool, &signed_in.user);
    if start > all.len() {
        return Err(invalid("Invalid NextToken."));
    }
    let page: Vec<Value> = all
        .iter()
        .skip(start)
        .take(limit)
        .map(|p| {
            json!({
                "CredentialId": p.credential_id,
                "FriendlyCredentialName": p.name,
                "RelyingPartyId": p.relying_party_id,
                "AuthenticatorTransports": p.transports,
                "CreatedAt": epoch(p.created_at),
            })
        })
        .collect();
    let mut out = json!({ "Credentials": page });
    let end = start.saturating_add(limit);
    if end < all.len() {
        out["NextToken"] = json!(format!("pk.{end}"));
    }
    Ok(out)
}

/// DeleteWebAuthnCredential: removes one of the user's passkeys (`CredentialId`).
pub async fn delete_web_authn_credential(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let token = required(&input, "AccessToken")?;
    let credential_id = required(&input, "CredentialId")?;
    let signed_in = access_token_user(state, call, token).await?;
    state
        .mfa
        .remove_passkey(
            &signed_in.pool,
            &signed_in.user,
            credential_id,
            &call.event_context(Some(&signed_in.client.id)),
            call.now,
        )
        .await
        .map_err(|e| passkey_error(call, e))?;
    Ok(json!({}))
}
