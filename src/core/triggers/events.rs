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
//! | pre authentication | `PreAuthentication_Authentication` | `userAttributes`, `validationData`, `userNotFound` | a failure refuses the sign-in |
//! | post authentication | `PostAuthentication_Authentication` | `userAttributes`, `newDeviceUsed`, `clientMetadata` | a failure refuses the sign-in |
//!
//! Pre token generation has its own module ([`super::pre_token`]).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::{TriggerError, Webhooks};
use crate::core::model::{TriggerKind, User, UserPool, UserStatus};

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
        let event = event(pool, source, user_name, caller, request, response);
        let Some(answer) = self.call(pool, TriggerKind::PreSignUp, &event).await else {
            return Ok(PreSignUpAnswer::default());
        };
        let response = answer?;
        let auto_confirm_user = flag(&response, "autoConfirmUser");
        Ok(PreSignUpAnswer {
            auto_confirm_user,
            auto_verify_email: auto_confirm_user && flag(&response, "autoVerifyEmail"),
            auto_verify_phone: auto_confirm_user && flag(&response, "autoVerifyPhone"),
        })
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
        let request = json!({
            "userAttributes": user_attributes(user),
            "clientMetadata": string_map(&caller.client_metadata),
        });
        let event = event(pool, source, &user.username, caller, request, json!({}));
        let _ = self.call(pool, TriggerKind::PostConfirmation, &event).await;
    }

    /// Pre authentication (`PreAuthentication_Authentication`), for an existing user
    /// before the password is checked. A failure refuses the sign-in.
    pub async fn pre_authentication(
        &self,
        pool: &UserPool,
        user: &User,
        caller: &TriggerCaller,
    ) -> Result<(), TriggerError> {
        let request = json!({
            "userAttributes": user_attributes(user),
            "userNotFound": false,
            "validationData": string_map(&caller.validation_data),
        });
        let event = event(
            pool,
            "PreAuthentication_Authentication",
            &user.username,
            caller,
            request,
            json!({}),
        );
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
        let request = json!({
            "userAttributes": user_attributes(user),
            "newDeviceUsed": false,
            "clientMetadata": string_map(&caller.client_metadata),
        });
        let event = event(
            pool,
            "PostAuthentication_Authentication",
            &user.username,
            caller,
            request,
            json!({}),
        );
        match self
            .call(pool, TriggerKind::PostAuthentication, &event)
            .await
        {
            Some(answer) => answer.map(drop),
            None => Ok(()),
        }
    }
}
