//! `cognate triggers test`: a sample event of one trigger source, sent to the pool's
//! webhook (or another URL) through the delivery code itself ([`Webhooks::send`]: signed,
//! retried, capped, redirects refused alike), and what Cognate would do with the answer,
//! read by the same parsers the sign-up, sign-in and token paths use.
//!
//! Each trigger kind is one arm of [`sample_event`] (the sources it is sent with and its
//! event) and one of [`consequence`] (the answer read, and what a failure means). The
//! message triggers get the sample code [`SAMPLE_CODE`] (encrypted to the pool's sender
//! key for the custom senders, as deliveries encrypt it); the custom challenge triggers
//! get a sample session ([`sample_session`]: define is asked after one correct answer,
//! create for the first challenge, verify with a right answer).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::custom_auth::{
    check_define, create_answer, create_event, define_answer, define_event, invalid, verify_answer,
    verify_event, ChallengeResult, CustomAuthError, DefineAnswer, Subject, CUSTOM_CHALLENGE,
};
use super::events::{
    migration_answer, post_authentication_event, post_confirmation_event, pre_authentication_event,
    pre_sign_up_answer, pre_sign_up_event, user_attributes, user_migration_event, TriggerCaller,
};
use super::pre_token::{parse_answer, pre_token_event, PreTokenInput, TokenSource};
use super::senders::{custom_message_event, custom_text, sender_event, CodeMessage, MessageSource};
use super::{Attempt, TriggerError, Webhooks};
use crate::core::model::{
    Group, PreTokenVersion, TriggerKind, User, UserLookup, UserPool, UserStatus,
};
use crate::core::secrets::SecretString;

/// The sample user's name, and the password the sample sign-in migration event carries.
pub const SAMPLE_USER: &str = "sample-user";
const SAMPLE_PASSWORD: &str = "Sample-passw0rd (not a real one)";
/// The code the message triggers' samples carry (filled into `{####}`, or encrypted).
pub const SAMPLE_CODE: &str = "123456";
/// The sample custom challenge's private parameters and the answer verify is asked about.
const SAMPLE_ANSWER: &str = "sample-answer";
const SAMPLE_METADATA: &str = "sample-challenge";

/// The message sources Cognate sends codes for, in the order of the trigger sources.
const MESSAGE_SOURCES: [MessageSource; 7] = [
    MessageSource::SignUp,
    MessageSource::AdminCreateUser,
    MessageSource::ResendCode,
    MessageSource::ForgotPassword,
    MessageSource::UpdateUserAttribute,
    MessageSource::VerifyUserAttribute,
    MessageSource::Authentication,
];

/// The sample session define auth challenge is asked about: one `CUSTOM_CHALLENGE`
/// answered correctly.
pub fn sample_session() -> Vec<ChallengeResult> {
    vec![ChallengeResult {
        challenge_name: CUSTOM_CHALLENGE.into(),
        challenge_result: true,
        challenge_metadata: Some(SAMPLE_METADATA.into()),
    }]
}

/// Why no sample was sent.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error("no sample {kind} event is sent: {why} (nothing is sent with the code in clear)")]
    NoSenderKey { kind: &'static str, why: String },
    #[error("{given} is not a triggerSource of the {kind} trigger; use one of: {expected}")]
    UnknownSource {
        kind: &'static str,
        given: String,
        expected: String,
    },
    #[error(
        "pool {pool} declares no {kind} webhook; declare one, or give the URL to send to \
         with --url"
    )]
    NoWebhook { pool: String, kind: &'static str },
    #[error("{0}")]
    Other(String),
}

/// What the webhook's answer means to Cognate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consequence {
    /// The answer is honoured: what it changes, one line each.
    Honoured(Vec<String>),
    /// The answer (or the failure) stops what the event is about: what Cognate answers.
    Refused(String),
    /// The failure is logged and changes nothing (post confirmation).
    Logged(String),
}

/// One sample delivery.
#[derive(Debug)]
pub struct SampleRun {
    pub kind: TriggerKind,
    pub source: String,
    pub url: String,
    pub event: Value,
    /// Each attempt: status, latency, error.
    pub attempts: Vec<Attempt>,
    /// All attempts together.
    pub elapsed: Duration,
    /// The answer's `response`, or the delivery's failure.
    pub response: Result<Map<String, Value>, TriggerError>,
    pub consequence: Consequence,
}

impl SampleRun {
    /// Whether Cognate would go on as the event asks (an honoured answer).
    pub fn passed(&self) -> bool {
        matches!(self.consequence, Consequence::Honoured(_))
    }
}

/// The triggerSource values a kind is sent with (the first is the default).
pub fn sources(kind: TriggerKind, version: PreTokenVersion) -> Vec<&'static str> {
    match kind {
        TriggerKind::PreSignUp => vec!["PreSignUp_SignUp", "PreSignUp_AdminCreateUser"],
        TriggerKind::PostConfirmation => vec![
            "PostConfirmation_ConfirmSignUp",
            "PostConfirmation_ConfirmForgotPassword",
        ],
        TriggerKind::PreAuthentication => vec!["PreAuthentication_Authentication"],
        TriggerKind::PostAuthentication => vec!["PostAuthentication_Authentication"],
        TriggerKind::PreTokenGeneration => {
            let mut all = vec![
                TokenSource::HostedAuth,
                TokenSource::Authentication,
                TokenSource::NewPasswordChallenge,
                TokenSource::RefreshTokens,
            ];
            if version == PreTokenVersion::V3 {
                all.push(TokenSource::ClientCredentials);
            }
            all.into_iter().map(TokenSource::trigger_source).collect()
        }
        TriggerKind::UserMigration => vec![
            "UserMigration_Authentication",
            "UserMigration_ForgotPassword",
        ],
        TriggerKind::CustomMessage => vec![
            "CustomMessage_SignUp",
            "CustomMessage_AdminCreateUser",
            "CustomMessage_ResendCode",
            "CustomMessage_ForgotPassword",
            "CustomMessage_UpdateUserAttribute",
            "CustomMessage_VerifyUserAttribute",
            "CustomMessage_Authentication",
        ],
        TriggerKind::CustomEmailSender => vec![
            "CustomEmailSender_SignUp",
            "CustomEmailSender_AdminCreateUser",
            "CustomEmailSender_ResendCode",
            "CustomEmailSender_ForgotPassword",
            "CustomEmailSender_UpdateUserAttribute",
            "CustomEmailSender_VerifyUserAttribute",
            "CustomEmailSender_Authentication",
        ],
        TriggerKind::CustomSmsSender => vec![
            "CustomSMSSender_SignUp",
            "CustomSMSSender_AdminCreateUser",
            "CustomSMSSender_ResendCode",
            "CustomSMSSender_ForgotPassword",
            "CustomSMSSender_UpdateUserAttribute",
            "CustomSMSSender_VerifyUserAttribute",
            "CustomSMSSender_Authentication",
        ],
        TriggerKind::DefineAuthChallenge => vec!["DefineAuthChallenge_Authentication"],
        TriggerKind::CreateAuthChallenge => vec!["CreateAuthChallenge_Authentication"],
        TriggerKind::VerifyAuthChallenge => vec!["VerifyAuthChallengeResponse_Authentication"],
    }
}

/// The sample message of a message trigger's `source` (`CustomMessage_SignUp`, ...).
fn sample_message(user: &User, source: &str, caller: &TriggerCaller) -> CodeMessage {
    let suffix = source.split_once('_').map_or("", |(_, suffix)| suffix);
    let source = MESSAGE_SOURCES
        .into_iter()
        .find(|s| s.suffix() == suffix)
        .unwrap_or(MessageSource::SignUp);
    CodeMessage {
        source,
        user_name: user.username.clone(),
        user_attributes: user_attributes(user),
        code: SAMPLE_CODE.into(),
        caller: caller.clone(),
    }
}

fn sample_private() -> BTreeMap<String, String> {
    BTreeMap::from([("answer".to_string(), SAMPLE_ANSWER.to_string())])
}

/// The sample user: confirmed, with a verified email.
fn sample_user(pool: &UserPool) -> User {
    let attributes: BTreeMap<String, String> = [
        ("email", "sample-user@example.com"),
        ("email_verified", "true"),
        ("name", "Sample User"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    User {
        pool_id: pool.id.clone(),
        sub: "00000000-0000-4000-8000-000000000000".into(),
        username: SAMPLE_USER.into(),
        attributes,
        status: UserStatus::Confirmed,
        enabled: true,
        password_hash: None,
        temporary_password_expires_at: None,
        identities: Vec::new(),
        lookup: UserLookup {
            username: SAMPLE_USER.into(),
            ..Default::default()
        },
        mfa: Default::default(),
        srp: None,
        pending_attributes: BTreeMap::new(),
        created_at: 0,
        updated_at: 0,
        version: 0,
    }
}

fn subject(user: &User) -> Subject<'_> {
    Subject {
        user_name: &user.username,
        user: Some(user),
    }
}

/// The sample event of `kind` for `source`, as the real path would build it.
pub fn sample_event(
    pool: &UserPool,
    kind: TriggerKind,
    source: &str,
    caller: &TriggerCaller,
) -> Result<Value, SampleError> {
    let version = pool.triggers.pre_token_version();
    let known = sources(kind, version);
    if !known.contains(&source) {
        let mut expected = known.join(", ");
        if kind == TriggerKind::PreTokenGeneration && version != PreTokenVersion::V3 {
            expected.push_str(" (TokenGeneration_ClientCredentials needs a V3_0 webhook)");
        }
        return Err(SampleError::UnknownSource {
            kind: kind.key(),
            given: source.to_string(),
            expected,
        });
    }
    let user = sample_user(pool);
    Ok(match kind {
        TriggerKind::PreSignUp => {
            pre_sign_up_event(pool, source, &user.username, &user.attributes, caller)
        }
        TriggerKind::PostConfirmation => post_confirmation_event(pool, source, &user, caller),
        TriggerKind::PreAuthentication => pre_authentication_event(pool, &user, caller),
        TriggerKind::PostAuthentication => post_authentication_event(pool, &user, caller),
        TriggerKind::PreTokenGeneration => {
            let token_source = [
                TokenSource::HostedAuth,
                TokenSource::Authentication,
                TokenSource::NewPasswordChallenge,
                TokenSource::RefreshTokens,
                TokenSource::ClientCredentials,
            ]
            .into_iter()
            .find(|s| s.trigger_source() == source)
            .ok_or_else(|| SampleError::Other(format!("{source} is not a token source")))?;
            let groups = [Group {
                pool_id: pool.id.clone(),
                name: "sample-group".into(),
                description: None,
                precedence: Some(1),
                role_arn: None,
                origin: Default::default(),
                created_at: 0,
                updated_at: 0,
            }];
            let scopes = ["openid".to_string(), "email".to_string()];
            let client_credentials = token_source == TokenSource::ClientCredentials;
            let input = PreTokenInput {
                user: (!client_credentials).then_some(&user),
                groups: if client_credentials { &[] } else { &groups },
                scopes: &scopes,
                caller,
            };
            pre_token_event(pool, token_source, version, &input)
        }
        TriggerKind::UserMigration => {
            let password = SecretString::new(SAMPLE_PASSWORD);
            let password = (source == "UserMigration_Authentication").then_some(&password);
            user_migration_event(pool, source, &user.username, password, caller)
        }
        TriggerKind::CustomMessage => {
            custom_message_event(pool, &sample_message(&user, source, caller))
        }
        TriggerKind::CustomEmailSender | TriggerKind::CustomSmsSender => {
            sender_event(pool, kind, &sample_message(&user, source, caller)).map_err(|e| {
                SampleError::NoSenderKey {
                    kind: kind.key(),
                    why: match e {
                        TriggerError::Failed { message, .. } => message,
                        other => other.to_string(),
                    },
                }
            })?
        }
        TriggerKind::DefineAuthChallenge => {
            define_event(pool, subject(&user), &sample_session(), caller)
        }
        TriggerKind::CreateAuthChallenge => {
            create_event(pool, subject(&user), CUSTOM_CHALLENGE, &[], caller)
        }
        TriggerKind::VerifyAuthChallenge => verify_event(
            pool,
            subject(&user),
            &sample_private(),
            SAMPLE_ANSWER,
            caller,
        ),
    })
}

/// What Cognate would do with the delivery's outcome, read by the real paths' parsers.
pub fn consequence(
    version: PreTokenVersion,
    kind: TriggerKind,
    response: &Result<Map<String, Value>, TriggerError>,
) -> Consequence {
    let response = match response {
        Ok(response) => response,
        Err(e) => {
            return match kind {
                TriggerKind::PostConfirmation => {
                    Consequence::Logged(format!("{e} (logged; the confirmation stands)"))
                }
                TriggerKind::UserMigration => Consequence::Refused(format!(
                    "{e} (the user is not created: the login is answered as unknown)"
                )),
                _ => Consequence::Refused(format!("UserLambdaValidationException: {e}")),
            }
        }
    };
    match kind {
        TriggerKind::PreSignUp => {
            let answer = pre_sign_up_answer(response);
            let mut lines = vec![if answer.auto_confirm_user {
                "autoConfirmUser: the user is CONFIRMED at once, no code is sent, post \
                 confirmation fires"
                    .to_string()
            } else {
                "autoConfirmUser false: the user is UNCONFIRMED and gets a confirmation code"
                    .to_string()
            }];
            if answer.auto_verify_email {
                lines.push("autoVerifyEmail: email_verified is set to true".into());
            }
            if answer.auto_verify_phone {
                lines.push("autoVerifyPhone: phone_number_verified is set to true".into());
            }
            if !answer.auto_confirm_user
                && (response.get("autoVerifyEmail") == Some(&Value::Bool(true))
                    || response.get("autoVerifyPhone") == Some(&Value::Bool(true)))
            {
                lines.push(
                    "autoVerifyEmail / autoVerifyPhone are ignored without autoConfirmUser \
                     (as in Cognito)"
                        .into(),
                );
            }
            Consequence::Honoured(lines)
        }
        TriggerKind::PostConfirmation => {
            Consequence::Honoured(vec!["nothing is read from the answer".into()])
        }
        TriggerKind::PreAuthentication | TriggerKind::PostAuthentication => {
            Consequence::Honoured(vec!["the sign-in goes on".into()])
        }
        TriggerKind::PreTokenGeneration => match parse_answer(version, response) {
            Ok(o) => {
                let mut lines = vec![format!("event version {}", version.as_str())];
                let mut changes = |token: &str, c: &super::pre_token::ClaimChanges| {
                    if !c.add_or_override.is_empty() {
                        lines.push(format!(
                            "{token}: add or override {}",
                            Value::Object(c.add_or_override.clone())
                        ));
                    }
                    if !c.suppress.is_empty() {
                        lines.push(format!("{token}: suppress {}", c.suppress.join(", ")));
                    }
                };
                changes("ID token", &o.id_token);
                if version != PreTokenVersion::V1 {
                    changes("access token", &o.access_token);
                }
                if !o.scopes_to_add.is_empty() {
                    lines.push(format!("scopes added: {}", o.scopes_to_add.join(" ")));
                }
                if !o.scopes_to_suppress.is_empty() {
                    lines.push(format!(
                        "scopes suppressed: {}",
                        o.scopes_to_suppress.join(" ")
                    ));
                }
                if let Some(groups) = &o.groups.groups {
                    lines.push(format!("cognito:groups set to {}", json!(groups)));
                }
                if let Some(roles) = &o.groups.iam_roles {
                    lines.push(format!("cognito:roles set to {}", json!(roles)));
                }
                if let Some(role) = &o.groups.preferred_role {
                    lines.push(format!("cognito:preferred_role set to {role:?}"));
                }
                if lines.len() == 1 {
                    lines.push("the tokens are issued unchanged".into());
                }
                Consequence::Honoured(lines)
            }
            Err(message) => Consequence::Refused(format!(
                "UserLambdaValidationException: {}",
                TriggerError::Failed { kind, message }
            )),
        },
        TriggerKind::UserMigration => match migration_answer(response) {
            Ok(answer) => Consequence::Honoured(vec![
                format!(
                    "the user is created as {} with userAttributes {} (checked by the \
                     pool's attribute rules)",
                    answer.final_status.as_str(),
                    json!(answer.attributes)
                ),
                "then the sign-in (or the reset) goes on as for any user".into(),
            ]),
            Err(message) => Consequence::Refused(format!(
                "{} (the user is not created: the login is answered as unknown)",
                TriggerError::Failed { kind, message }
            )),
        },
        TriggerKind::CustomMessage => custom_message_consequence(response),
        TriggerKind::CustomEmailSender | TriggerKind::CustomSmsSender => {
            Consequence::Honoured(vec![
                "the answer is not read: the webhook delivers the message itself, with the \
                 code it decrypts (Cognate sends nothing else)"
                    .into(),
            ])
        }
        TriggerKind::DefineAuthChallenge
        | TriggerKind::CreateAuthChallenge
        | TriggerKind::VerifyAuthChallenge => match custom_auth_consequence(kind, response) {
            Ok(lines) => Consequence::Honoured(lines),
            Err(message) => {
                Consequence::Refused(format!("InvalidLambdaResponseException: {message}"))
            }
        },
    }
}

/// The messages Cognate would send (the sample code filled in), read by the delivery's
/// parser.
fn custom_message_consequence(response: &Map<String, Value>) -> Consequence {
    match custom_text(response, SAMPLE_CODE, SAMPLE_USER) {
        Ok(text) => {
            let part = |name: &str, text: &Option<String>| match text {
                Some(text) => format!("{name}: {text}"),
                None => format!("{name}: Cognate's own (the answer leaves it null)"),
            };
            Consequence::Honoured(vec![
                format!("the messages sent, {{####}} filled with the sample code {SAMPLE_CODE}:"),
                part("email subject", &text.email_subject),
                part("email message", &text.email_message),
                part("SMS message", &text.sms_message),
            ])
        }
        Err(message) => Consequence::Refused(format!(
            "UserLambdaValidationException: {} (no message is sent; the operation fails)",
            TriggerError::Failed {
                kind: TriggerKind::CustomMessage,
                message
            }
        )),
    }
}

/// What the custom challenge flow would do with a define, create or verify answer, read
/// by the flow's parsers and rules; an error is Cognito's `InvalidLambdaResponseException`.
fn custom_auth_consequence(
    kind: TriggerKind,
    response: &Map<String, Value>,
) -> Result<Vec<String>, String> {
    let message = |e: CustomAuthError| e.to_string();
    Ok(match kind {
        TriggerKind::DefineAuthChallenge => {
            let session = sample_session();
            let answer = define_answer(response).map_err(|d| message(invalid(kind, &d)))?;
            check_define(&answer, &session)?;
            vec![match answer {
                DefineAnswer::IssueTokens => "issueTokens: Cognate issues the tokens (after the \
                     user's status, pre and post authentication and the pool's MFA rule)"
                    .to_string(),
                DefineAnswer::Fail => {
                    "failAuthentication: the sign-in fails with NotAuthorizedException".into()
                }
                DefineAnswer::Challenge(name) => format!(
                    "challengeName {name}: create auth challenge is asked for the next challenge"
                ),
            }]
        }
        TriggerKind::CreateAuthChallenge => {
            let created = create_answer(response).map_err(message)?;
            let mut public = created.public;
            public.insert("USERNAME".into(), SAMPLE_USER.into());
            let private: Vec<&str> = created.private.keys().map(String::as_str).collect();
            vec![
                format!(
                    "public challenge parameters, sent to the client: {}",
                    json!(public)
                ),
                if private.is_empty() {
                    "private challenge parameters: none (verify gets an empty map)".to_string()
                } else {
                    format!(
                        "private challenge parameters, kept sealed on the server for verify: {}",
                        private.join(", ")
                    )
                },
                match created.metadata {
                    Some(m) => format!("challengeMetadata {m:?}, told in the next events' session"),
                    None => "challengeMetadata: none (null in the next events' session)".into(),
                },
            ]
        }
        _ => vec![if verify_answer(response).map_err(message)? {
            "answerCorrect true: the answer counts as right (challengeResult true in define's \
             session)"
                .to_string()
        } else {
            "answerCorrect false: the answer counts as wrong (challengeResult false; define \
             decides what comes next)"
                .to_string()
        }],
    })
}

impl Webhooks {
    /// Sends the sample event of `kind` / `source` to `url` (default: the pool's webhook
    /// of that kind), signed with the pool's secret, and reads the answer.
    pub async fn test_trigger(
        &self,
        pool: &UserPool,
        kind: TriggerKind,
        source: Option<&str>,
        url: Option<&str>,
        caller: &TriggerCaller,
    ) -> Result<SampleRun, SampleError> {
        let version = pool.triggers.pre_token_version();
        let known = sources(kind, version);
        let source = source.unwrap_or(known[0]).to_string();
        let event = sample_event(pool, kind, &source, caller)?;
        let url = match url.or_else(|| pool.triggers.url(kind)) {
            Some(url) => url.to_string(),
            None => {
                return Err(SampleError::NoWebhook {
                    pool: pool.id.clone(),
                    kind: kind.key(),
                })
            }
        };
        crate::core::admin::check_webhook_url(&url)
            .map_err(|e| SampleError::Other(format!("--url: {e}")))?;
        let started = Instant::now();
        let (response, attempts) = self.send(pool, kind, &url, &event).await;
        let elapsed = started.elapsed();
        let consequence = consequence(version, kind, &response);
        Ok(SampleRun {
            kind,
            source,
            url,
            event,
            attempts,
            elapsed,
            response,
            consequence,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_answers_are_read_by_the_real_parsers() {
        let bad: Map<String, Value> = json!({"claimsOverrideDetails": {
            "claimsToAddOrOverride": {"sub": "x"}}})
        .as_object()
        .cloned()
        .unwrap();
        let c = consequence(
            PreTokenVersion::V1,
            TriggerKind::PreTokenGeneration,
            &Ok(bad),
        );
        assert!(
            matches!(&c, Consequence::Refused(m) if m.contains("\"sub\"")),
            "{c:?}"
        );
        let confirm: Map<String, Value> = json!({"autoConfirmUser": true, "autoVerifyEmail": true})
            .as_object()
            .cloned()
            .unwrap();
        let c = consequence(PreTokenVersion::V1, TriggerKind::PreSignUp, &Ok(confirm));
        assert!(
            matches!(&c, Consequence::Honoured(l) if l.len() == 2 && l[1].contains("email_verified")),
            "{c:?}"
        );
        for kind in TriggerKind::ALL {
            assert!(!sources(kind, PreTokenVersion::V1).is_empty(), "{kind:?}");
        }
        let v2 = sources(TriggerKind::PreTokenGeneration, PreTokenVersion::V2);
        assert!(!v2.contains(&"TokenGeneration_ClientCredentials"));
        let v3 = sources(TriggerKind::PreTokenGeneration, PreTokenVersion::V3);
        assert!(v3.contains(&"TokenGeneration_ClientCredentials"));
        let failed = Err(TriggerError::Failed {
            kind: TriggerKind::PostConfirmation,
            message: "down".into(),
        });
        assert!(matches!(
            consequence(PreTokenVersion::V1, TriggerKind::PostConfirmation, &failed),
            Consequence::Logged(_)
        ));
    }

    #[test]
    fn message_and_challenge_answers_are_read_by_the_real_parsers() {
        let read = |kind, v: Value| {
            consequence(
                PreTokenVersion::V1,
                kind,
                &Ok(v.as_object().cloned().unwrap()),
            )
        };
        let c = read(
            TriggerKind::CustomMessage,
            json!({"emailMessage": "Your code: {####}"}),
        );
        assert!(
            matches!(&c, Consequence::Honoured(l) if l[2].ends_with("Your code: 123456")),
            "{c:?}"
        );
        let c = read(
            TriggerKind::CustomMessage,
            json!({"emailMessage": "No code here"}),
        );
        assert!(
            matches!(&c, Consequence::Refused(m) if m.contains("{####}")),
            "{c:?}"
        );
        let c = read(
            TriggerKind::DefineAuthChallenge,
            json!({"challengeName": "SRP_A"}),
        );
        assert!(
            matches!(&c, Consequence::Refused(m) if m.contains("InvalidLambdaResponseException")),
            "{c:?}"
        );
        let c = read(
            TriggerKind::DefineAuthChallenge,
            json!({"issueTokens": true}),
        );
        assert!(
            matches!(&c, Consequence::Honoured(l) if l[0].starts_with("issueTokens")),
            "{c:?}"
        );
        let c = read(
            TriggerKind::CreateAuthChallenge,
            json!({"publicChallengeParameters": {"q": 1}}),
        );
        assert!(
            matches!(&c, Consequence::Refused(m) if m.contains("publicChallengeParameters.q")),
            "{c:?}"
        );
        let c = read(
            TriggerKind::VerifyAuthChallenge,
            json!({"answerCorrect": "yes"}),
        );
        assert!(matches!(&c, Consequence::Refused(_)), "{c:?}");
        let c = read(
            TriggerKind::VerifyAuthChallenge,
            json!({"answerCorrect": true}),
        );
        assert!(
            matches!(&c, Consequence::Honoured(l) if l[0].starts_with("answerCorrect true")),
            "{c:?}"
        );
    }
}
