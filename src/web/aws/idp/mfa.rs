//! MFA preferences: SetUserMFAPreference (access token), AdminSetUserMFAPreference (signed),
//! and the legacy SetUserSettings / AdminSetUserSettings (`MFAOptions`: SMS on or off),
//! over the MFA core's [`crate::core::mfa::Mfa::set_mfa_preferences`] (the rules live
//! there, shared with the hosted account page's factors).
//!
//! Cognito's members: `SoftwareTokenMfaSettings` (TOTP), `EmailMfaSettings` (EMAIL),
//! `SMSMfaSettings` (SMS: a verified phone number, a pool whose custom SMS sender can
//! send) and `WebAuthnMfaSettings` (passkeys; `Enabled` only).

use serde_json::{json, Value};

use super::auth::challenge_error;
use super::{access_token_user, account_error, invalid, optional_bool, pool, required};
use crate::core::challenge::ChallengeError;
use crate::core::mfa::manage::MfaPreference;
use crate::core::mfa::MfaError;
use crate::core::model::{MfaFactor, User, UserPool};
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// The settings members a request may name, with the factor each stands for.
const MEMBERS: [(&str, MfaFactor); 4] = [
    ("SMSMfaSettings", MfaFactor::Sms),
    ("SoftwareTokenMfaSettings", MfaFactor::Totp),
    ("EmailMfaSettings", MfaFactor::Email),
    ("WebAuthnMfaSettings", MfaFactor::Passkey),
];

/// Reads the settings members of `input` (each an object of `Enabled` and
/// `PreferredMfa` booleans; `WebAuthnMfaSettings` has `Enabled` only).
fn preferences(input: &Value) -> Result<Vec<MfaPreference>, AwsError> {
    let mut out = Vec::new();
    for (member, factor) in MEMBERS {
        let settings = match input.get(member) {
            None | Some(Value::Null) => continue,
            Some(v @ Value::Object(_)) => v,
            Some(_) => return Err(invalid(format!("{member} must be a structure."))),
        };
        let enabled = optional_bool(settings, "Enabled")?;
        let preferred = if factor == MfaFactor::Passkey {
            if settings.get("PreferredMfa").is_some() {
                return Err(invalid(
                    "WebAuthnMfaSettings has no PreferredMfa member; passkeys are not asked as a preferred second factor.",
                ));
            }
            None
        } else {
            optional_bool(settings, "PreferredMfa")?
        };
        out.push(MfaPreference {
            factor,
            enabled,
            preferred,
        });
    }
    Ok(out)
}

/// Applies the preferences; the core's refusals in Cognito's terms.
async fn apply(
    state: &AppState,
    call: &AwsCall,
    pool: &UserPool,
    user: &User,
    client_id: Option<&str>,
    changes: &[MfaPreference],
) -> Result<Value, AwsError> {
    if changes.is_empty() {
        return Ok(json!({}));
    }
    state
        .mfa
        .set_mfa_preferences(
            pool,
            &user.sub,
            changes,
            &call.event_context(client_id),
            call.now,
        )
        .await
        .map_err(|e| match e {
            MfaError::FactorNotAllowed => invalid(format!(
                "{}: this MFA method is not enabled for the user pool",
                disallowed(pool, changes)
            )),
            MfaError::NotFound => {
                AwsError::bad_request("UserNotFoundException", "User does not exist.")
            }
            e => challenge_error(call, ChallengeError::Mfa(e)),
        })?;
    Ok(json!({}))
}

/// The member naming the first factor the pool does not allow (for the refusal).
fn disallowed(pool: &UserPool, changes: &[MfaPreference]) -> &'static str {
    changes
        .iter()
        .find(|c| !pool.factors.allows_mfa(c.factor))
        .and_then(|c| {
            MEMBERS
                .iter()
                .find(|(_, f)| *f == c.factor)
                .map(|(m, _)| *m)
        })
        .unwrap_or("MFA settings")
}

/// SetUserMFAPreference: the signed-in user's own preferences (`AccessToken`).
pub async fn set_user_mfa_preference(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let token = required(&input, "AccessToken")?;
    let changes = preferences(&input)?;
    let signed_in = access_token_user(state, call, token).await?;
    let client_id = Some(signed_in.client.id.as_str());
    apply(
        state,
        call,
        &signed_in.pool,
        &signed_in.user,
        client_id,
        &changes,
    )
    .await
}

/// AdminSetUserMFAPreference: any user's preferences (`UserPoolId`, `Username`; signed).
pub async fn admin_set_user_mfa_preference(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let username = required(&input, "Username")?;
    let changes = preferences(&input)?;
    let pool = pool(state, call, pool_id).await?;
    let user = state
        .accounts
        .admin_user(&pool, username)
        .await
        .map_err(|e| account_error(call, e))?;
    apply(state, call, &pool, &user, None, &changes).await
}

/// The legacy `MFAOptions` of SetUserSettings / AdminSetUserSettings, Cognito's older way
/// to switch SMS MFA: `[{DeliveryMedium: SMS, AttributeName: phone_number}]` switches it
/// on, an empty list off. Any other medium or attribute is refused by name.
fn legacy_options(input: &Value) -> Result<MfaPreference, AwsError> {
    let options = match input.get("MFAOptions") {
        Some(Value::Array(options)) => options,
        None | Some(Value::Null) => return Err(invalid("Missing required parameter MFAOptions")),
        Some(_) => return Err(invalid("MFAOptions must be a list.")),
    };
    for option in options {
        let medium = option.get("DeliveryMedium").and_then(Value::as_str);
        let attribute = option.get("AttributeName").and_then(Value::as_str);
        if medium != Some("SMS") || attribute != Some("phone_number") {
            return Err(invalid(
                "MFAOptions: only {DeliveryMedium: SMS, AttributeName: phone_number} is an MFA option; use SetUserMFAPreference for the other factors.",
            ));
        }
    }
    Ok(MfaPreference {
        factor: MfaFactor::Sms,
        enabled: Some(!options.is_empty()),
        preferred: None,
    })
}

/// SetUserSettings: the signed-in user's legacy `MFAOptions` (SMS MFA on or off).
pub async fn set_user_settings(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let token = required(&input, "AccessToken")?;
    let change = legacy_options(&input)?;
    let signed_in = access_token_user(state, call, token).await?;
    let client_id = Some(signed_in.client.id.as_str());
    apply(
        state,
        call,
        &signed_in.pool,
        &signed_in.user,
        client_id,
        &[change],
    )
    .await
}

/// AdminSetUserSettings: any user's legacy `MFAOptions` (`UserPoolId`, `Username`; signed).
pub async fn admin_set_user_settings(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let username = required(&input, "Username")?;
    let change = legacy_options(&input)?;
    let pool = pool(state, call, pool_id).await?;
    let user = state
        .accounts
        .admin_user(&pool, username)
        .await
        .map_err(|e| account_error(call, e))?;
    apply(state, call, &pool, &user, None, &[change]).await
}
