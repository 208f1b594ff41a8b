//! The message triggers: custom message (Cognito's `CustomMessage_*`), custom email sender
//! (`CustomEmailSender_*`) and custom SMS sender (`CustomSMSSender_*`).
//!
//! | trigger | `request` | answer honoured |
//! |---|---|---|
//! | custom message | `userAttributes`, `codeParameter` `"{####}"`, `linkParameter`, `usernameParameter` (`"{username}"` for `_AdminCreateUser`, else null), `clientMetadata` | `emailSubject`, `emailMessage` (must hold `{####}`), `smsMessage`; null keeps Cognate's text; a failure fails the operation |
//! | custom email / SMS sender | `type` `customEmailSenderRequestV1` / `customSMSSenderRequestV1`, `code` (the code as a compact JWE, [`super::jwe`]), `userAttributes`, `clientMetadata` | none; the webhook delivers the message itself; a failure fails the delivery |
//!
//! The event's `version` is "1" for all three (the senders' `LambdaVersion` `V1_0`).
//! The clear code is never logged: it leaves Cognate only encrypted (senders) or in the
//! message the custom message webhook writes around the `{####}` placeholder, which
//! Cognate fills in after the answer (the webhook never sees the code).

use serde_json::{json, Map, Value};

use super::events::{event, TriggerCaller};
use super::jwe::SenderKey;
use super::{TriggerError, Webhooks};
use crate::core::model::{TriggerKind, UserPool};

/// Cognito's code placeholder.
pub const CODE_PARAMETER: &str = "{####}";
/// Cognito's username placeholder.
pub const USERNAME_PARAMETER: &str = "{username}";
/// Cognito's link placeholder (links are not sent by Cognate: codes only).
pub const LINK_PARAMETER: &str = "{##Click Here##}";
/// Cognito's limits on a custom message's parts (`EmailMessage` 20,000 characters,
/// `EmailSubject` 140, `SmsMessage` 140).
pub const MAX_EMAIL_MESSAGE: usize = 20_000;
pub const MAX_EMAIL_SUBJECT: usize = 140;
pub const MAX_SMS_MESSAGE: usize = 140;

/// Why a message with a code is sent: the suffix of the trigger sources
/// (`CustomMessage_SignUp`, `CustomEmailSender_ForgotPassword`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageSource {
    /// The confirmation code of a sign-up.
    SignUp,
    /// An administrator's invitation (the code is the temporary password).
    AdminCreateUser,
    /// ResendConfirmationCode.
    ResendCode,
    /// ForgotPassword (and AdminResetUserPassword).
    ForgotPassword,
    /// A changed email or phone number (UpdateUserAttributes).
    UpdateUserAttribute,
    /// GetUserAttributeVerificationCode.
    VerifyUserAttribute,
    /// A one-time code of a sign-in (MFA or passwordless).
    Authentication,
    /// Custom senders only: a notice of an account takeover risk.
    AccountTakeOverNotification,
}

impl MessageSource {
    /// The trigger source's suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            MessageSource::SignUp => "SignUp",
            MessageSource::AdminCreateUser => "AdminCreateUser",
            MessageSource::ResendCode => "ResendCode",
            MessageSource::ForgotPassword => "ForgotPassword",
            MessageSource::UpdateUserAttribute => "UpdateUserAttribute",
            MessageSource::VerifyUserAttribute => "VerifyUserAttribute",
            MessageSource::Authentication => "Authentication",
            MessageSource::AccountTakeOverNotification => "AccountTakeOverNotification",
        }
    }
}

/// The message a custom message webhook wrote, placeholders filled in; `None` parts keep
/// Cognate's own text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct CustomText {
    pub email_subject: Option<String>,
    pub email_message: Option<String>,
    pub sms_message: Option<String>,
}

impl std::fmt::Debug for CustomText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The messages carry the code.
        f.debug_struct("CustomText")
            .field("email_subject", &self.email_subject)
            .finish_non_exhaustive()
    }
}

/// One message with a code, as the message triggers are told of it.
#[derive(Clone)]
pub struct CodeMessage {
    pub source: MessageSource,
    /// The event's `userName`.
    pub user_name: String,
    /// The event's `request.userAttributes` ([`super::events::user_attributes`]).
    pub user_attributes: Value,
    /// The code (or, for `AdminCreateUser`, the temporary password).
    pub code: String,
    pub caller: TriggerCaller,
}

impl std::fmt::Debug for CodeMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeMessage")
            .field("source", &self.source)
            .field("user_name", &self.user_name)
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    /// The custom message webhook (`CustomMessage_<source>`), when the pool declares one:
    /// its answer with `{####}` replaced by the code and `{username}` by the user name. An
    /// email or SMS message without `{####}` is refused, as Cognito refuses it (the user
    /// would never get the code); a failure fails the operation
    /// (`CustomMessage failed with error ...`).
    pub async fn custom_message(
        &self,
        pool: &UserPool,
        message: &CodeMessage,
    ) -> Option<Result<CustomText, TriggerError>> {
        let event = custom_message_event(pool, message);
        let answer = self.call(pool, TriggerKind::CustomMessage, &event).await?;
        Some(answer.and_then(|response| {
            custom_text(&response, &message.code, &message.user_name).map_err(|message| {
                TriggerError::Failed {
                    kind: TriggerKind::CustomMessage,
                    message,
                }
            })
        }))
    }

    /// The custom email or SMS sender (`kind`), when the pool declares it: the event
    /// `CustomEmailSender_<source>` / `CustomSMSSender_<source>` with the code encrypted to
    /// the pool's sender key. The webhook delivers the message; its answer is not read
    /// beyond success. Without a usable sender key the call fails (nothing is sent in
    /// clear).
    pub async fn custom_sender(
        &self,
        pool: &UserPool,
        kind: TriggerKind,
        message: &CodeMessage,
    ) -> Option<Result<(), TriggerError>> {
        if !kind.is_sender() {
            return None;
        }
        pool.triggers.url(kind)?;
        let event = match sender_event(pool, kind, message) {
            Ok(event) => event,
            Err(e) => return Some(Err(e)),
        };
        Some(self.call(pool, kind, &event).await?.map(drop))
    }
}

/// The custom message event (`CustomMessage_<source>`); the code is not in it (Cognate
/// fills in `{####}` after the answer).
pub(super) fn custom_message_event(pool: &UserPool, message: &CodeMessage) -> Value {
    let request = json!({
        "userAttributes": message.user_attributes,
        "codeParameter": CODE_PARAMETER,
        "linkParameter": LINK_PARAMETER,
        "usernameParameter": (message.source == MessageSource::AdminCreateUser)
            .then_some(USERNAME_PARAMETER),
        "clientMetadata": message.caller.client_metadata,
    });
    let response = json!({"smsMessage": null, "emailMessage": null, "emailSubject": null});
    let source = format!("CustomMessage_{}", message.source.suffix());
    event(
        pool,
        &source,
        &message.user_name,
        &message.caller,
        request,
        response,
    )
}

/// The custom email or SMS sender's event (`kind`): the code encrypted to the pool's
/// sender key. Without a usable sender key there is no event (nothing is sent in clear).
pub(super) fn sender_event(
    pool: &UserPool,
    kind: TriggerKind,
    message: &CodeMessage,
) -> Result<Value, TriggerError> {
    let failed = |message: String| TriggerError::Failed { kind, message };
    let (prefix, request_type) = match kind {
        TriggerKind::CustomEmailSender => ("CustomEmailSender", "customEmailSenderRequestV1"),
        TriggerKind::CustomSmsSender => ("CustomSMSSender", "customSMSSenderRequestV1"),
        _ => return Err(failed(format!("{} is not a custom sender", kind.key()))),
    };
    let code = match pool.triggers.sender_key().map(SenderKey::parse) {
        Some(Ok(key)) => key.encrypt(message.code.as_bytes()).map_err(failed)?,
        Some(Err(e)) => return Err(failed(format!("the pool's sender key is unusable: {e}"))),
        None => return Err(failed(NO_SENDER_KEY.into())),
    };
    let request = json!({
        "type": request_type,
        "code": code,
        "userAttributes": message.user_attributes,
        "clientMetadata": message.caller.client_metadata,
    });
    let source = format!("{prefix}_{}", message.source.suffix());
    Ok(event(
        pool,
        &source,
        &message.user_name,
        &message.caller,
        request,
        json!({}),
    ))
}

/// Why a custom sender has no event without a sender key.
pub const NO_SENDER_KEY: &str = "the pool has no sender key to encrypt the code to (KMSKeyID / \
     [pools.triggers] sender_key)";

/// Reads a custom message answer: each part a string or null, within Cognito's lengths,
/// messages holding the code placeholder; placeholders filled in.
pub(super) fn custom_text(
    response: &Map<String, Value>,
    code: &str,
    user_name: &str,
) -> Result<CustomText, String> {
    let part = |name: &str, max: usize, needs_code: bool| -> Result<Option<String>, String> {
        let text = match response.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::String(s)) if s.is_empty() => return Ok(None),
            Some(Value::String(s)) => s,
            Some(_) => return Err(format!("{name} is not a string")),
        };
        if text.chars().count() > max {
            return Err(format!("{name} is longer than {max} characters"));
        }
        if needs_code && !text.contains(CODE_PARAMETER) {
            return Err(format!(
                "{name} does not contain the code parameter {CODE_PARAMETER}"
            ));
        }
        Ok(Some(
            text.replace(CODE_PARAMETER, code)
                .replace(USERNAME_PARAMETER, user_name),
        ))
    };
    Ok(CustomText {
        email_subject: part("emailSubject", MAX_EMAIL_SUBJECT, false)?,
        email_message: part("emailMessage", MAX_EMAIL_MESSAGE, true)?,
        sms_message: part("smsMessage", MAX_SMS_MESSAGE, true)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_filled_and_the_code_required() {
        let response: Map<String, Value> = serde_json::from_value(json!({
            "emailSubject": "Welcome {username}",
            "emailMessage": "Hi {username}, your code is {####}.",
            "smsMessage": null,
        }))
        .unwrap();
        let text = custom_text(&response, "123456", "alice").unwrap();
        assert_eq!(text.email_subject.as_deref(), Some("Welcome alice"));
        assert_eq!(
            text.email_message.as_deref(),
            Some("Hi alice, your code is 123456.")
        );
        assert_eq!(text.sms_message, None);
        assert!(!format!("{text:?}").contains("123456"));

        let no_code: Map<String, Value> =
            serde_json::from_value(json!({"emailMessage": "Hello"})).unwrap();
        let err = custom_text(&no_code, "1", "a").unwrap_err();
        assert!(err.contains("{####}"), "{err}");
        let long: Map<String, Value> =
            serde_json::from_value(json!({"smsMessage": format!("{{####}}{}", "x".repeat(140))}))
                .unwrap();
        assert!(custom_text(&long, "1", "a").unwrap_err().contains("140"));
        let wrong: Map<String, Value> = serde_json::from_value(json!({"emailSubject": 5})).unwrap();
        assert!(custom_text(&wrong, "1", "a").is_err());
    }
}
