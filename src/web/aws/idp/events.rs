//! The auth event log of a user (threat protection): AdminListUserAuthEvents and
//! AdminUpdateAuthEventFeedback, both signed, over the core's
//! [`AuthEvents`](crate::core::threat::AuthEvents). A pool whose `AdvancedSecurityMode` is
//! `OFF` answers `UserPoolAddOnNotEnabledException`, as Cognito does.
//!
//! Cognito's `EventType` is one of `SignIn`, `SignUp`, `ForgotPassword`, `PasswordChange`,
//! `ResendCode`; Cognate also records `Confirmation`, `MfaChange` and `FederatedSignIn`
//! (the SDKs read an unknown enum value as such, never as an error).

use serde_json::{json, Map, Value};

use super::admin::pool_and_user;
use super::{epoch, invalid, not_found, optional, optional_int, required};
use crate::core::model::{AuthEvent, PageRequest, RiskLevel};
use crate::core::threat::{FeedbackProvider, ReviewError};
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// Cognito's `MaxResults` of AdminListUserAuthEvents: 0 to 60 (0, the SDKs' unset
/// value, is the full page).
const MAX_RESULTS: i64 = 60;

fn review_error(call: &AwsCall, e: ReviewError) -> AwsError {
    match e {
        ReviewError::NotEnabled => {
            AwsError::bad_request("UserPoolAddOnNotEnabledException", e.to_string())
        }
        ReviewError::UnknownEvent(_) => not_found(e.to_string()),
        ReviewError::BadToken => invalid("NextToken is not valid."),
        ReviewError::Store(e) => AwsError::internal(call.protocol, e),
    }
}

/// `AdminListUserAuthEvents`: `UserPoolId`, `Username`, `MaxResults`, `NextToken`; the
/// user's events newest first.
pub async fn admin_list_user_auth_events(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let limit = optional_int(&input, "MaxResults", 0..=MAX_RESULTS)?
        .filter(|n| *n > 0)
        .unwrap_or(MAX_RESULTS);
    let after = optional(&input, "NextToken")?.map(str::to_string);
    let (pool, user) = pool_and_user(state, call, &input).await?;
    let page = PageRequest {
        limit: u32::try_from(limit).unwrap_or(60),
        after,
    };
    let found = state
        .node
        .events
        .user_events(&pool, &user, &page, call.now)
        .await
        .map_err(|e| review_error(call, e))?;
    let events: Vec<Value> = found.items.iter().map(auth_event_type).collect();
    let mut out = json!({ "AuthEvents": events });
    if let Some(next) = found.next {
        out["NextToken"] = json!(next);
    }
    Ok(out)
}

/// `AdminUpdateAuthEventFeedback`: `UserPoolId`, `Username`, `EventId`, `FeedbackValue`
/// (`Valid` or `Invalid`).
pub async fn admin_update_auth_event_feedback(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let event_id = required(&input, "EventId")?;
    let valid = match required(&input, "FeedbackValue")? {
        "Valid" => true,
        "Invalid" => false,
        other => {
            return Err(invalid(format!(
                "1 validation error detected: Value '{}' at 'feedbackValue' failed to satisfy constraint: Member must satisfy enum value set: [Valid, Invalid]",
                other.chars().take(64).collect::<String>()
            )))
        }
    };
    if event_id.len() > 50 {
        return Err(invalid(
            "1 validation error detected: Value at 'eventId' failed to satisfy constraint: Member must have length less than or equal to 50",
        ));
    }
    let (pool, user) = pool_and_user(state, call, &input).await?;
    state
        .node
        .events
        .give_feedback(
            &pool,
            &user,
            event_id,
            valid,
            FeedbackProvider::Admin,
            call.now,
        )
        .await
        .map_err(|e| review_error(call, e))?;
    Ok(json!({}))
}

/// Cognito's `AuthEventType`.
fn auth_event_type(event: &AuthEvent) -> Value {
    let risk = &event.risk;
    let decision = match risk.decision.as_str() {
        d if d.starts_with("block") => "Block",
        _ if risk.level > RiskLevel::None => "AccountTakeover",
        _ => "NoRisk",
    };
    let mut event_risk = Map::new();
    event_risk.insert("RiskDecision".into(), json!(decision));
    if let Some(level) = risk.level.as_cognito() {
        event_risk.insert("RiskLevel".into(), json!(level));
    }
    event_risk.insert(
        "CompromisedCredentialsDetected".into(),
        json!(risk.compromised_credentials),
    );
    let challenges: Vec<Value> = event
        .challenges
        .iter()
        .map(|c| {
            let (name, response) = c.split_once(':').unwrap_or((c.as_str(), ""));
            json!({ "ChallengeName": name, "ChallengeResponse": response })
        })
        .collect();
    let mut context = Map::new();
    if let Some(address) = event.address {
        context.insert("IpAddress".into(), json!(address.to_string()));
    }
    // Cognito names the device from the user agent ("Chrome 120, Windows 10"); Cognate
    // shows the user agent itself.
    if let Some(device) = event.user_agent.as_ref().or(event.device.as_ref()) {
        context.insert("DeviceName".into(), json!(device));
    }
    if let Some(country) = event.location.as_ref().and_then(|l| l.country.as_ref()) {
        context.insert("Country".into(), json!(country));
    }
    let mut out = json!({
        "EventId": event.id,
        "EventType": event.kind.as_str(),
        "CreationDate": epoch(event.created_at),
        "EventResponse": event.outcome.as_str(),
        "EventRisk": event_risk,
        "ChallengeResponses": challenges,
        "EventContextData": context,
    });
    if let Some(feedback) = &event.feedback {
        out["EventFeedback"] = json!({
            "FeedbackValue": feedback.value,
            "Provider": feedback.provider,
            "FeedbackDate": epoch(feedback.at),
        });
    }
    out
}
