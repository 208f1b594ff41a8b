//! The custom authentication challenge triggers of Cognito's `CUSTOM_AUTH` flow: define,
//! create and verify auth challenge, with Cognito's events field by field.
//!
//! | trigger | `triggerSource` | `request` | answer read |
//! |---|---|---|---|
//! | define | `DefineAuthChallenge_Authentication` | `userAttributes`, `session` (list of `{challengeName, challengeResult, challengeMetadata}`), `clientMetadata`, `userNotFound` | `challengeName`, `issueTokens`, `failAuthentication` |
//! | create | `CreateAuthChallenge_Authentication` | `userAttributes`, `challengeName`, `session`, `clientMetadata`, `userNotFound` | `publicChallengeParameters`, `privateChallengeParameters`, `challengeMetadata` |
//! | verify | `VerifyAuthChallengeResponse_Authentication` | `userAttributes`, `privateChallengeParameters`, `challengeAnswer`, `clientMetadata`, `userNotFound` | `answerCorrect` |
//!
//! A failed call is [`TriggerError`] (Cognito's `UserLambdaValidationException`); an
//! answer that cannot be read in Cognito's terms is [`CustomAuthError::InvalidResponse`]
//! (Cognito's `InvalidLambdaResponseException`). What the flow does with the answers is
//! [`crate::core::challenge::custom`]'s.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::events::{event, user_attributes, TriggerCaller};
use super::{TriggerError, Webhooks};
use crate::core::model::{TriggerKind, User, UserPool};

/// Cognito's name of the custom challenge.
pub const CUSTOM_CHALLENGE: &str = "CUSTOM_CHALLENGE";

/// One entry of the events' `session`: a challenge asked in this flow and how it was
/// answered (Cognito's `ChallengeResultType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeResult {
    #[serde(rename = "challengeName")]
    pub challenge_name: String,
    #[serde(rename = "challengeResult")]
    pub challenge_result: bool,
    /// The create trigger's `challengeMetadata` for this challenge (absent: null).
    #[serde(rename = "challengeMetadata")]
    pub challenge_metadata: Option<String>,
}

/// Who the flow is for, as the three events tell it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// `userName`: the user's username, or the login typed for a user nobody has.
    pub user_name: &'a str,
    /// The user; `None` is Cognito's `userNotFound: true` (with an empty
    /// `userAttributes`).
    pub user: Option<&'a User>,
}

impl Subject<'_> {
    fn attributes(&self) -> Value {
        self.user.map_or_else(|| json!({}), user_attributes)
    }
}

/// What define auth challenge answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DefineAnswer {
    /// `issueTokens: true`.
    IssueTokens,
    /// `failAuthentication: true`.
    Fail,
    /// `challengeName` to ask next (only `CUSTOM_CHALLENGE` is served).
    Challenge(String),
}

/// What create auth challenge answered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateAnswer {
    /// `publicChallengeParameters`: sent to the client.
    pub public: BTreeMap<String, String>,
    /// `privateChallengeParameters`: kept on the server, given to verify.
    pub private: BTreeMap<String, String>,
    /// `challengeMetadata`: recorded in the following events' `session`.
    pub metadata: Option<String>,
}

/// Why a custom challenge trigger gave no usable answer.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CustomAuthError {
    /// The call failed or the webhook refused (`UserLambdaValidationException`).
    #[error(transparent)]
    Trigger(#[from] TriggerError),
    /// The answer is not one Cognito would accept (`InvalidLambdaResponseException`).
    #[error("{0}")]
    InvalidResponse(String),
}

fn session_json(session: &[ChallengeResult]) -> Value {
    json!(session)
}

fn string_map(
    kind: TriggerKind,
    response: &Map<String, Value>,
    name: &str,
) -> Result<BTreeMap<String, String>, CustomAuthError> {
    match response.get(name) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(invalid(kind, &format!("{name}.{k} is not a string"))),
            })
            .collect(),
        Some(_) => Err(invalid(kind, &format!("{name} is not a map of strings"))),
    }
}

pub(super) fn invalid(kind: TriggerKind, detail: &str) -> CustomAuthError {
    CustomAuthError::InvalidResponse(format!(
        "Unrecognizable lambda output: {} answered {detail}.",
        kind.error_name()
    ))
}

/// A required webhook's answer: a pool without the webhook is refused as Cognito refuses
/// a pool without the custom auth Lambda.
async fn required_call(
    webhooks: &Webhooks,
    pool: &UserPool,
    kind: TriggerKind,
    event: &Value,
) -> Result<Map<String, Value>, CustomAuthError> {
    match webhooks.call(pool, kind, event).await {
        Some(answer) => Ok(answer?),
        None => Err(CustomAuthError::Trigger(TriggerError::Failed {
            kind,
            message: "the user pool declares no such webhook".into(),
        })),
    }
}

/// Reads define's answer: `issueTokens` and `failAuthentication` are booleans (absent is
/// false), both true is refused, and with neither a `challengeName` must be named.
pub(super) fn define_answer(response: &Map<String, Value>) -> Result<DefineAnswer, String> {
    let boolean = |name: &str| match response.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(format!("{name} {other}, which is not a boolean")),
    };
    let issue = boolean("issueTokens")?;
    let fail = boolean("failAuthentication")?;
    match (issue, fail) {
        (true, true) => Err("both issueTokens and failAuthentication".into()),
        (true, false) => Ok(DefineAnswer::IssueTokens),
        (false, true) => Ok(DefineAnswer::Fail),
        (false, false) => match response.get("challengeName") {
            Some(Value::String(name)) if !name.is_empty() => {
                Ok(DefineAnswer::Challenge(name.clone()))
            }
            _ => Err("neither issueTokens, failAuthentication nor a challengeName".into()),
        },
    }
}

impl Webhooks {
    /// Define auth challenge (`DefineAuthChallenge_Authentication`): what comes next
    /// after the challenges of `session`.
    pub async fn define_auth_challenge(
        &self,
        pool: &UserPool,
        subject: Subject<'_>,
        session: &[ChallengeResult],
        caller: &TriggerCaller,
    ) -> Result<DefineAnswer, CustomAuthError> {
        let kind = TriggerKind::DefineAuthChallenge;
        let event = define_event(pool, subject, session, caller);
        let answer = required_call(self, pool, kind, &event).await?;
        define_answer(&answer).map_err(|detail| invalid(kind, &detail))
    }

    /// Create auth challenge (`CreateAuthChallenge_Authentication`): the parameters of
    /// the challenge define named.
    pub async fn create_auth_challenge(
        &self,
        pool: &UserPool,
        subject: Subject<'_>,
        challenge_name: &str,
        session: &[ChallengeResult],
        caller: &TriggerCaller,
    ) -> Result<CreateAnswer, CustomAuthError> {
        let kind = TriggerKind::CreateAuthChallenge;
        let event = create_event(pool, subject, challenge_name, session, caller);
        create_answer(&required_call(self, pool, kind, &event).await?)
    }

    /// Verify auth challenge response (`VerifyAuthChallengeResponse_Authentication`):
    /// whether `answer` is right for the challenge's private parameters.
    pub async fn verify_auth_challenge(
        &self,
        pool: &UserPool,
        subject: Subject<'_>,
        private: &BTreeMap<String, String>,
        answer: &str,
        caller: &TriggerCaller,
    ) -> Result<bool, CustomAuthError> {
        let kind = TriggerKind::VerifyAuthChallenge;
        let event = verify_event(pool, subject, private, answer, caller);
        verify_answer(&required_call(self, pool, kind, &event).await?)
    }
}

/// Define auth challenge's event after the challenges of `session`.
pub(super) fn define_event(
    pool: &UserPool,
    subject: Subject<'_>,
    session: &[ChallengeResult],
    caller: &TriggerCaller,
) -> Value {
    let request = json!({
        "userAttributes": subject.attributes(),
        "session": session_json(session),
        "clientMetadata": caller.client_metadata,
        "userNotFound": subject.user.is_none(),
    });
    let response = json!({
        "challengeName": null,
        "issueTokens": null,
        "failAuthentication": null,
    });
    event(
        pool,
        "DefineAuthChallenge_Authentication",
        subject.user_name,
        caller,
        request,
        response,
    )
}

/// Create auth challenge's event for the challenge define named.
pub(super) fn create_event(
    pool: &UserPool,
    subject: Subject<'_>,
    challenge_name: &str,
    session: &[ChallengeResult],
    caller: &TriggerCaller,
) -> Value {
    let request = json!({
        "userAttributes": subject.attributes(),
        "challengeName": challenge_name,
        "session": session_json(session),
        "clientMetadata": caller.client_metadata,
        "userNotFound": subject.user.is_none(),
    });
    let response = json!({
        "publicChallengeParameters": null,
        "privateChallengeParameters": null,
        "challengeMetadata": null,
    });
    event(
        pool,
        "CreateAuthChallenge_Authentication",
        subject.user_name,
        caller,
        request,
        response,
    )
}

/// Verify auth challenge response's event for `answer`.
pub(super) fn verify_event(
    pool: &UserPool,
    subject: Subject<'_>,
    private: &BTreeMap<String, String>,
    answer: &str,
    caller: &TriggerCaller,
) -> Value {
    let request = json!({
        "userAttributes": subject.attributes(),
        "privateChallengeParameters": private,
        "challengeAnswer": answer,
        "clientMetadata": caller.client_metadata,
        "userNotFound": subject.user.is_none(),
    });
    event(
        pool,
        "VerifyAuthChallengeResponse_Authentication",
        subject.user_name,
        caller,
        request,
        json!({ "answerCorrect": null }),
    )
}

/// Reads create's answer: string maps of parameters, a string (or null) metadata.
pub(super) fn create_answer(answer: &Map<String, Value>) -> Result<CreateAnswer, CustomAuthError> {
    let kind = TriggerKind::CreateAuthChallenge;
    let metadata = match answer.get("challengeMetadata") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid(kind, "a challengeMetadata that is not a string")),
    };
    Ok(CreateAnswer {
        public: string_map(kind, answer, "publicChallengeParameters")?,
        private: string_map(kind, answer, "privateChallengeParameters")?,
        metadata,
    })
}

/// Reads verify's answer: `answerCorrect` a boolean (absent or null: false).
pub(super) fn verify_answer(response: &Map<String, Value>) -> Result<bool, CustomAuthError> {
    match response.get("answerCorrect") {
        Some(Value::Bool(correct)) => Ok(*correct),
        None | Some(Value::Null) => Ok(false),
        Some(_) => Err(invalid(
            TriggerKind::VerifyAuthChallenge,
            "an answerCorrect that is not a boolean",
        )),
    }
}

/// The flow's rules on a readable define answer after `session` (Cognito's
/// `InvalidLambdaResponseException`): no tokens before a challenge was answered
/// correctly, and only `CUSTOM_CHALLENGE` asked (Cognate serves no other).
pub fn check_define(answer: &DefineAnswer, session: &[ChallengeResult]) -> Result<(), String> {
    match answer {
        DefineAnswer::IssueTokens if session.is_empty() => Err(
            "Unrecognizable lambda output: DefineAuthChallenge answered issueTokens before any challenge was answered.".into(),
        ),
        DefineAnswer::IssueTokens if !session.iter().any(|r| r.challenge_result) => Err(
            "Unrecognizable lambda output: DefineAuthChallenge answered issueTokens though no challenge was answered correctly.".into(),
        ),
        DefineAnswer::Challenge(name) if name != CUSTOM_CHALLENGE => Err(format!(
            "Unrecognizable lambda output: DefineAuthChallenge answered challengeName {}; Cognate's CUSTOM_AUTH asks CUSTOM_CHALLENGE only.",
            name.chars().take(64).collect::<String>()
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn define_answers_are_read_strictly() {
        assert_eq!(
            define_answer(&map(json!({"issueTokens": true}))),
            Ok(DefineAnswer::IssueTokens)
        );
        assert_eq!(
            define_answer(&map(
                json!({"failAuthentication": true, "challengeName": "CUSTOM_CHALLENGE"})
            )),
            Ok(DefineAnswer::Fail)
        );
        assert_eq!(
            define_answer(&map(
                json!({"challengeName": "CUSTOM_CHALLENGE", "issueTokens": false})
            )),
            Ok(DefineAnswer::Challenge("CUSTOM_CHALLENGE".into()))
        );
        assert!(define_answer(&map(json!({}))).is_err());
        assert!(define_answer(&map(json!({"issueTokens": "yes"}))).is_err());
        assert!(define_answer(&map(
            json!({"issueTokens": true, "failAuthentication": true})
        ))
        .is_err());
    }

    #[test]
    fn the_session_has_cognitos_member_names() {
        let s = [ChallengeResult {
            challenge_name: CUSTOM_CHALLENGE.into(),
            challenge_result: false,
            challenge_metadata: None,
        }];
        assert_eq!(
            session_json(&s),
            json!([{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": false, "challengeMetadata": null}])
        );
    }
}
