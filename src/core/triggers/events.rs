//! Cognito's trigger events and what Cognate does with their answers.
//!
//! Every event has Cognito's common parameters: `version` "1", `region` (the pool id's
//! prefix), `userPoolId`, `userName`, `callerContext` {`awsSdkVersion`, `clientId`},
//! `triggerSource`, `request`, `response`. The triggers of this part:
//!
//! | trigger | `triggerSource` | `request` | answer honoured |
//! |---|---|---|---|
//! | pre sign-up | `PreSignUp_SignUp`, `PreSignUp_AdminCreateUser` | `userAttributes`, `validationData`, `clientMetadata` | `autoConfirmUser`, `autoVerifyEmail`, `autoVerifyPhone`; a failure refuses the sign-up |
//! | post confirmation | `PostConfirmation_ConfirmSignUp`, `PostConfirmation_ConfirmForgotPassword` | `userAttributes`, `clientMetadata` | none; a failure is logged |
//! | pre authentication | `PreAuthentication_Authentication` (after the first factor is proven) | `userAttributes`, `validationData`, `userNotFound` (false) | a failure refuses the sign-in |
//! | post authentication | `PostAuthentication_Authentication` | `userAttributes`, `newDeviceUsed`, `clientMetadata` | a failure refuses the sign-in |
//! | user migration | `UserMigration_Authentication`, `UserMigration_ForgotPassword` | `password` (sign-in only), `validationData`, `clientMetadata` | `userAttributes`, `finalUserStatus`, `messageAction`, `desiredDeliveryMediums`, `forceAliasCreation` ([`MigrationAnswer`]); a failure answers as for an unknown user |
//!
//! Pre token generation has its own module ([`super::pre_token`]), and define / create /
//! verify auth challenge theirs ([`super::custom_auth`]).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{TriggerError, Webhooks};
use crate::core::model::{TriggerKind, User, UserPool, UserStatus};
use crate::core::secrets::SecretString;

/// Cognito's `clientId` for calls no app client made (administrator actions).
pub const NO_CLIENT: &str = "CLIENT_ID_NOT_APPLICABLE";

/// Who asked, as the event's `callerContext` and request maps carry it.
#[derive(Debug, Clone, Default)]
pub struct TriggerCaller {
    /// The app client of the call; `None` for an administrator's.
    pub client_id: Option<String>,
    /// The request's `ClientMetadata`.
    pub client_metadata: BTreeMap<String, String>,
    /// The request's `ValidationData` (SignUp; `ClientMetadata` of sign-ins in Cognito's
    /// pre authentication event is `validationData`).
    pub validation_data: BTreeMap<String, String>,
}

impl TriggerCaller {
    /// A call made through an app client, without metadata.
    pub fn client(client_id: &str) -> Self {
        TriggerCaller {
            client_id: Some(client_id.to_string()),
            ..Default::default()
        }
    }
}

/// What a pre sign-up webhook answered (all false without one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreSignUpAnswer {
    pub auto_confirm_user: bool,
    /// Honoured only with `auto_confirm_user` (Cognito's rule).
    pub auto_verify_email: bool,
    pub auto_verify_phone: bool,
}

/// What a user migration webhook answered: the user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationAnswer {
    /// `userAttributes` (checked by the directory's rules when the user is created).
    pub attributes: BTreeMap<String, String>,
    /// `finalUserStatus`: `CONFIRMED` (the default) or `RESET_REQUIRED`.
    pub final_status: UserStatus,
}

/// The event: Cognito's common parameters around `request` and `response`.
pub fn event(
    pool: &UserPool,
    source: &str,
    user_name: &str,
    caller: &TriggerCaller,
    request: Value,
    response: Value,
) -> Value {
    let region = pool.id.split_once('_').map_or("", |(region, _)| region);
    json!({
        "version": "1",
        "region": region,
        "userPoolId": pool.id,
        "userName": user_name,
        "callerContext": {
            "awsSdkVersion": concat!("cognate-", env!("CARGO_PKG_VERSION")),
            "clientId": caller.client_id.as_deref().unwrap_or(NO_CLIENT),
        },
        "triggerSource": source,
        "request": request,
        "response": response,
    })
}

/// A stored user's `userAttributes`: their attributes with `sub` and
/// `cognito:user_status`, as Cognito sends them.
pub fn user_attributes(user: &User) -> Value {
    let mut attributes: Map<String, Value> = user
        .attributes
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    attributes.insert("sub".into(), Value::String(user.sub.clone()));
    attributes.insert(
        "cognito:user_status".into(),
        Value::String(user.status.as_str().to_string()),
    );
    Value::Object(attributes)
}

fn string_map(map: &BTreeMap<String, String>) -> Value {
    json!(map)
}

fn flag(response: &Map<String, Value>, name: &str) -> bool {
    response.get(name).and_then(Value::as_bool).unwrap_or(false)
}

impl Webhooks {
    /// Pre sign-up, before the user is stored (`source` is `PreSignUp_SignUp` or
    /// `PreSignUp_AdminCreateUser`). A failure refuses the sign-up.
    pub async fn pre_sign_up(
        &self,
        pool: &UserPool,
        source: &str,
        user_name: &str,
        attributes: &BTreeMap<String, String>,
        caller: &TriggerCaller,
    ) -> Result<PreSignUpAnswer, TriggerError> {
        let event = pre_sign_up_event(pool, source, user_name, attributes, caller);
        let Some(answer) = self.call(pool, TriggerKind::PreSignUp, &event).await else {
            return Ok(PreSignUpAnswer::default());
        };
        Ok(pre_sign_up_answer(&answer?))
    }

    /// Post confirmation (`PostConfirmation_ConfirmSignUp` or
    /// `PostConfirmation_ConfirmForgotPassword`), after the confirmation is stored. A
    /// failure is logged (by [`Webhooks::call`]) and undoes nothing. Not for federated
    /// users.
    pub async fn post_confirmation(
        &self,
        pool: &UserPool,
        source: &str,
        user: &User,
        caller: &TriggerCaller,
    ) {
        if user.status == UserStatus::ExternalProvider {
            return;
        }
        let event = post_confirmation_event(pool, source, user, caller);
        let _ = self.call(pool, TriggerKind::PostConfirmation, &event).await;
    }

    /// Pre authentication (`PreAuthentication_Authentication`), for a user whose first
    /// factor was just proven (see [`crate::core::signin`]: never before the check, so a
    /// refusal cannot tell existing users from unknown ones; `userNotFound` is therefore
    /// always false). A failure refuses the sign-in.
    pub async fn pre_authentication(
        &self,
        pool: &UserPool,
        user: &User,
        caller: &TriggerCaller,
    ) -> Result<(), TriggerError> {
        let event = pre_authentication_event(pool, user, caller);
        match self
            .call(pool, TriggerKind::PreAuthentication, &event)
            .await
        {
            Some(answer) => answer.map(drop),
            None => Ok(()),
        }
    }

    /// Post authentication (`PostAuthentication_Authentication`), after a first factor
    /// that held. A failure refuses the sign-in, as in Cognito.
    pub async fn post_authentication(
        &self,
        pool: &UserPool,
        user: &User,
        caller: &TriggerCaller,
    ) -> Result<(), TriggerError> {
        let event = post_authentication_event(pool, user, caller);
        match self
            .call(pool, TriggerKind::PostAuthentication, &event)
            .await
        {
            Some(answer) => answer.map(drop),
            None => Ok(()),
        }
    }

    /// User migration (`UserMigration_Authentication` with the password typed,
    /// `UserMigration_ForgotPassword` without one), for a login nobody in the pool has.
    /// `None` when the pool declares no such webhook. The answer is read strictly: what
    /// Cognate cannot honour (`messageAction` `RESEND`, an `SMS` delivery medium,
    /// `forceAliasCreation`) is a failure with a message saying so, never half applied.
    pub async fn user_migration(
        &self,
        pool: &UserPool,
        source: &str,
        user_name: &str,
        password: Option<&SecretString>,
        caller: &TriggerCaller,
    ) -> Option<Result<MigrationAnswer, TriggerError>> {
        let event = user_migration_event(pool, source, user_name, password, caller);
        let answer = self.call(pool, TriggerKind::UserMigration, &event).await?;
        Some(answer.and_then(|response| {
            migration_answer(&response).map_err(|message| {
                tracing::warn!(pool = %pool.id, error = %message, "user migration answer refused");
                TriggerError::Failed {
                    kind: TriggerKind::UserMigration,
                    message,
                }
            })
        }))
    }
}

/// The pre sign-up event (`PreSignUp_SignUp`, `PreSignUp_AdminCreateUser`).
pub fn pre_sign_up_event(
    pool: &UserPool,
    source: &str,
    user_name: &str,
    attributes: &BTreeMap<String, String>,
    caller: &TriggerCaller,
) -> Value {
    let request = json!({
        "userAttributes": string_map(attributes),
        "validationData": string_map(&caller.validation_data),
        "clientMetadata": string_map(&caller.client_metadata),
    });
    let response = json!({
        "autoConfirmUser": false,
        "autoVerifyEmail": false,
        "autoVerifyPhone": false,
    });
    event(pool, source, user_name, caller, request, response)
}

/// Reads a pre sign-up answer: the flags, `autoVerify*` honoured only with
/// `autoConfirmUser` (Cognito's rule).
pub fn pre_sign_up_answer(response: &Map<String, Value>) -> PreSignUpAnswer {
    let auto_confirm_user = flag(response, "autoConfirmUser");
    PreSignUpAnswer {
        auto_confirm_user,
        auto_verify_email: auto_confirm_user && flag(response, "autoVerifyEmail"),
        auto_verify_phone: auto_confirm_user && flag(response, "autoVerifyPhone"),
    }
}

/// The post confirmation event.
pub fn post_confirmation_event(
    pool: &UserPool,
    source: &str,
    user: &User,
    caller: &TriggerCaller,
) -> Value {
    let request = json!({
        "userAttributes": user_attributes(user),
        "clientMetadata": string_map(&caller.client_metadata),
    });
    event(pool, source, &user.username, caller, request, json!({}))
}

/// The pre authentication event.
pub fn pre_authentication_event(pool: &UserPool, user: &User, caller: &TriggerCaller) -> Value {
    let request = json!({
        "userAttributes": user_attributes(user),
        "userNotFound": false,
        "validationData": string_map(&caller.validation_data),
    });
    event(
        pool,
        "PreAuthentication_Authentication",
        &user.username,
        caller,
        request,
        json!({}),
    )
}

/// The post authentication event.
pub fn post_authentication_event(pool: &UserPool, user: &User, caller: &TriggerCaller) -> Value {
    let request = json!({
        "userAttributes": user_attributes(user),
        "newDeviceUsed": false,
        "clientMetadata": string_map(&caller.client_metadata),
    });
    event(
        pool,
        "PostAuthentication_Authentication",
        &user.username,
        caller,
        request,
        json!({}),
    )
}

/// The user migration event (`password` only for `UserMigration_Authentication`).
pub fn user_migration_event(
    pool: &UserPool,
    source: &str,
    user_name: &str,
    password: Option<&SecretString>,
    caller: &TriggerCaller,
) -> Value {
    let mut request = json!({
        "validationData": string_map(&caller.validation_data),
        "clientMetadata": string_map(&caller.client_metadata),
    });
    if let Some(password) = password {
        request["password"] = Value::String(password.expose().to_string());
    }
    let response = json!({
        "userAttributes": {},
        "finalUserStatus": null,
        "messageAction": null,
        "desiredDeliveryMediums": null,
        "forceAliasCreation": null,
        "enableSMSMFA": null,
    });
    event(pool, source, user_name, caller, request, response)
}

/// Reads a user migration answer (Cognito's `response` fields).
pub fn migration_answer(response: &Map<String, Value>) -> Result<MigrationAnswer, String> {
    let attributes = match response.get("userAttributes") {
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(format!("userAttributes.{k} is not a string")),
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?,
        _ => return Err("the answer has no userAttributes object".into()),
    };
    let final_status = match response.get("finalUserStatus") {
        None | Some(Value::Null) => UserStatus::Confirmed,
        Some(Value::String(s)) if s == "CONFIRMED" => UserStatus::Confirmed,
        Some(Value::String(s)) if s == "RESET_REQUIRED" => UserStatus::ResetRequired,
        Some(other) => {
            return Err(format!(
                "finalUserStatus {other} is not CONFIRMED or RESET_REQUIRED"
            ))
        }
    };
    match response.get("messageAction") {
        None | Some(Value::Null) => {}
        Some(Value::String(s)) if s == "SUPPRESS" => {}
        Some(other) => {
            return Err(format!(
                "messageAction {other} is not supported: Cognate sends migrated users no \
                 welcome message; answer SUPPRESS"
            ))
        }
    }
    match response.get("desiredDeliveryMediums") {
        None | Some(Value::Null) => {}
        Some(Value::Array(mediums)) if mediums.iter().all(|m| m == "EMAIL") => {}
        Some(other) => {
            return Err(format!(
                "desiredDeliveryMediums {other} is not supported: Cognate sends migrated \
                 users no welcome message, and none by SMS; answer [\"EMAIL\"] or omit it"
            ))
        }
    }
    if flag(response, "forceAliasCreation") {
        return Err(
            "forceAliasCreation is not supported: an alias another user holds \
                    stays theirs"
                .into(),
        );
    }
    if flag(response, "enableSMSMFA") {
        return Err("enableSMSMFA is not supported: Cognate has no SMS second factor yet".into());
    }
    Ok(MigrationAnswer {
        attributes,
        final_status,
    })
}
