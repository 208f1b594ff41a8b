//! SetRiskConfiguration and DescribeRiskConfiguration: Cognito's view of a pool's threat
//! protection ([`ThreatProtection`]), so tools written for Cognito's advanced security
//! (boto3 scripts, Terraform's `aws_cognito_risk_configuration`) set Cognate's.
//!
//! The mapping:
//! - `CompromisedCredentialsRiskConfiguration` `{Actions: {EventAction}, EventFilter}` is
//!   `compromised_passwords`: `NO_ACTION` (or none) is `off`; `BLOCK` at `SIGN_UP` and
//!   `PASSWORD_CHANGE` is `block`; `BLOCK` with `SIGN_IN` too (or no filter, Cognito's
//!   "all events") is `reset`. Other filters would check some new passwords and not others,
//!   which Cognate does not do: they are refused by name.
//! - `AccountTakeoverRiskConfiguration.Actions` `{Low,Medium,High}Action {Notify,
//!   EventAction}` are the levels' actions: `NO_ACTION` allow, `MFA_REQUIRED` mfa (a user
//!   without a factor gets an emailed code where the pool allows it, else is blocked),
//!   `BLOCK` block. `MFA_IF_CONFIGURED` (let a user without a factor through) and
//!   `NotifyConfiguration` (SES sender and templates: Cognate mails through the pool's SMTP
//!   sender with its own templates) are refused by name, never stored and ignored.
//! - `RiskExceptionConfiguration` (always-block and never-score address ranges) and
//!   per-client configurations (`ClientId`) are refused by name.
//!
//! Cognito answers `UserPoolAddOnNotEnabledException` unless the pool's advanced security
//! is on (`AUDIT` or `ENFORCED`); so does Cognate.

use serde_json::{json, Map, Value};

use super::super::{optional_bool, pool, required};
use super::input::{check_enum, object, refused};
use super::{change_error, ChangeError};
use crate::core::admin::AdminService;
use crate::core::model::{
    CompromisedPasswords, LevelAction, Origin, RiskAction, ThreatProtection, UserPool,
};
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

const EVENTS: &[&str] = &["SIGN_IN", "PASSWORD_CHANGE", "SIGN_UP"];
const COMPROMISED_ACTIONS: &[&str] = &["BLOCK", "NO_ACTION"];
const TAKEOVER_ACTIONS: &[&str] = &["BLOCK", "MFA_IF_CONFIGURED", "MFA_REQUIRED", "NO_ACTION"];

/// Cognito's answer for a pool whose advanced security is off.
fn add_on_not_enabled() -> AwsError {
    AwsError::bad_request(
        "UserPoolAddOnNotEnabledException",
        "Advanced security (threat protection) is not enabled for this user pool: set \
         UserPoolAddOns.AdvancedSecurityMode to AUDIT or ENFORCED, or [pools.threat_protection] \
         mode in the configuration file.",
    )
}

fn refuse_client(input: &Value) -> Result<(), AwsError> {
    if input.get("ClientId").is_some_and(|v| !v.is_null()) {
        return Err(refused(
            "ClientId",
            "risk configurations are per user pool in Cognate (no per-client override); \
             omit ClientId",
        ));
    }
    Ok(())
}

/// `CompromisedCredentialsRiskConfiguration` as `compromised_passwords`.
fn compromised_in(c: &Map<String, Value>) -> Result<CompromisedPasswords, AwsError> {
    let at = "CompromisedCredentialsRiskConfiguration";
    let actions = match c.get("Actions") {
        Some(Value::Object(a)) => a,
        _ => {
            return Err(refused(
                &format!("{at}.Actions"),
                "is required (a structure with EventAction)",
            ))
        }
    };
    let action = match actions.get("EventAction") {
        Some(Value::String(a)) => a.as_str(),
        _ => {
            return Err(refused(
                &format!("{at}.Actions.EventAction"),
                "is required: BLOCK or NO_ACTION",
            ))
        }
    };
    check_enum(action, "EventAction", COMPROMISED_ACTIONS)?;
    let filter: Vec<String> = match c.get("EventFilter") {
        None | Some(Value::Null) => EVENTS.iter().map(|e| e.to_string()).collect(),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for item in items {
                let Some(e) = item.as_str() else {
                    return Err(refused(&format!("{at}.EventFilter"), "must be strings"));
                };
                check_enum(e, "EventFilter", EVENTS)?;
                out.push(e.to_string());
            }
            out
        }
        Some(_) => return Err(refused(&format!("{at}.EventFilter"), "must be a list")),
    };
    if action == "NO_ACTION" {
        return Ok(CompromisedPasswords::Off);
    }
    let has = |e: &str| filter.iter().any(|f| f == e);
    match (has("SIGN_UP") && has("PASSWORD_CHANGE"), has("SIGN_IN")) {
        (true, false) => Ok(CompromisedPasswords::Block),
        (true, true) => Ok(CompromisedPasswords::Reset),
        _ => Err(refused(
            &format!("{at}.EventFilter"),
            "Cognate checks every new password alike: use [SIGN_UP, PASSWORD_CHANGE] (block \
             compromised new passwords) or all three events (also require a reset at a \
             sign-in with a compromised password)",
        )),
    }
}

fn compromised_out(c: CompromisedPasswords) -> Option<Value> {
    let filter: &[&str] = match c {
        CompromisedPasswords::Off => return None,
        CompromisedPasswords::Block => &["SIGN_UP", "PASSWORD_CHANGE"],
        CompromisedPasswords::Reset => &["SIGN_IN", "SIGN_UP", "PASSWORD_CHANGE"],
    };
    Some(json!({"EventFilter": filter, "Actions": {"EventAction": "BLOCK"}}))
}

/// One `AccountTakeoverActionType`.
fn level_in(at: &str, a: &Value) -> Result<LevelAction, AwsError> {
    if !a.is_object() {
        return Err(refused(
            at,
            "must be a structure with Notify and EventAction",
        ));
    }
    let notify = optional_bool(a, "Notify")?
        .ok_or_else(|| refused(&format!("{at}.Notify"), "is required (true or false)"))?;
    let action = match a.get("EventAction") {
        Some(Value::String(s)) => s.as_str(),
        _ => {
            return Err(refused(
                &format!("{at}.EventAction"),
                "is required: BLOCK, MFA_REQUIRED or NO_ACTION",
            ))
        }
    };
    check_enum(action, "EventAction", TAKEOVER_ACTIONS)?;
    let action =
        match action {
            "BLOCK" => RiskAction::Block,
            "MFA_REQUIRED" => RiskAction::Mfa,
            "NO_ACTION" => RiskAction::Allow,
            _ => return Err(refused(
                &format!("{at}.EventAction"),
                "MFA_IF_CONFIGURED would let a risky sign-in of a user without a second factor \
                 through; Cognate's MFA_REQUIRED asks such a user for an emailed code where the \
                 pool allows email codes, and blocks otherwise",
            )),
        };
    Ok(LevelAction { action, notify })
}

fn level_out(l: LevelAction) -> Value {
    let action = match l.action {
        RiskAction::Allow => "NO_ACTION",
        RiskAction::Mfa => "MFA_REQUIRED",
        RiskAction::Block => "BLOCK",
    };
    json!({"Notify": l.notify, "EventAction": action})
}

/// `AccountTakeoverRiskConfiguration` onto the levels' actions (an omitted level allows).
fn takeover_in(t: &Map<String, Value>, into: &mut ThreatProtection) -> Result<(), AwsError> {
    let at = "AccountTakeoverRiskConfiguration";
    if t.get("NotifyConfiguration").is_some_and(|v| !v.is_null()) {
        return Err(refused(
            &format!("{at}.NotifyConfiguration"),
            "Cognate mails risk notices through the pool's SMTP sender with its own templates \
             (templates/), not through SES; omit NotifyConfiguration",
        ));
    }
    let actions = match t.get("Actions") {
        Some(Value::Object(a)) => a,
        _ => {
            return Err(refused(
                &format!("{at}.Actions"),
                "is required (LowAction, MediumAction, HighAction)",
            ))
        }
    };
    let mut levels = [LevelAction::default(); 3];
    for (i, name) in ["LowAction", "MediumAction", "HighAction"]
        .iter()
        .enumerate()
    {
        if let Some(a) = actions.get(*name).filter(|v| !v.is_null()) {
            levels[i] = level_in(&format!("{at}.Actions.{name}"), a)?;
        }
    }
    [into.low, into.medium, into.high] = levels;
    Ok(())
}

fn configuration_out(pool: &UserPool) -> Value {
    let t = &pool.threat_protection;
    let mut out = json!({
        "UserPoolId": pool.id,
        "AccountTakeoverRiskConfiguration": {
            "Actions": {
                "LowAction": level_out(t.low),
                "MediumAction": level_out(t.medium),
                "HighAction": level_out(t.high),
            }
        },
        "LastModifiedDate": pool.updated_at,
    });
    if let Some(c) = compromised_out(t.compromised_passwords) {
        out["CompromisedCredentialsRiskConfiguration"] = c;
    }
    out
}

/// SetRiskConfiguration: replaces the compromised-credentials and account-takeover
/// settings (an omitted configuration returns to its default, as in Cognito).
pub async fn set_risk_configuration(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let id = required(&input, "UserPoolId")?;
    refuse_client(&input)?;
    if input
        .get("RiskExceptionConfiguration")
        .is_some_and(|v| !v.is_null())
    {
        return Err(refused(
            "RiskExceptionConfiguration",
            "address ranges that are always blocked or never scored are not supported; omit it",
        ));
    }
    let compromised = match object(&input, "CompromisedCredentialsRiskConfiguration")? {
        Some(c) => compromised_in(c)?,
        None => CompromisedPasswords::Off,
    };
    let takeover = object(&input, "AccountTakeoverRiskConfiguration")?.cloned();
    let updated = AdminService::new(state.node.store.clone())
        .update_pool_by(id, Origin::Api, |stored| {
            if !stored.threat_protection.records_events() {
                return Err(ChangeError::Edge(add_on_not_enabled()));
            }
            let t = &mut stored.threat_protection;
            t.compromised_passwords = compromised;
            [t.low, t.medium, t.high] = [LevelAction::default(); 3];
            if let Some(takeover) = &takeover {
                takeover_in(takeover, t)?;
            }
            stored.updated_at = call.now;
            Ok(())
        })
        .await
        .map_err(|e| change_error(state, call, e))?;
    Ok(json!({ "RiskConfiguration": configuration_out(&updated) }))
}

/// DescribeRiskConfiguration.
pub async fn describe_risk_configuration(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let id = required(&input, "UserPoolId")?;
    refuse_client(&input)?;
    let pool = pool(state, call, id).await?;
    if !pool.threat_protection.records_events() {
        return Err(add_on_not_enabled());
    }
    Ok(json!({ "RiskConfiguration": configuration_out(&pool) }))
}
