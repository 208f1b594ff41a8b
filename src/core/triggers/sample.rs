//! `cognate triggers test`: a sample event of one trigger source, sent to the pool's
//! webhook (or another URL) through the delivery code itself ([`Webhooks::send`]: signed,
//! retried, capped, redirects refused alike), and what Cognate would do with the answer,
//! read by the same parsers the sign-up, sign-in and token paths use.
//!
//! Each trigger kind is one arm of [`sample_event`] (the sources it is sent with and its
//! event) and one of [`consequence`] (the answer read, and what a failure means). A kind
//! without arms yet is refused by name ([`SampleError::NotSupported`]).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};

use super::events::{
    migration_answer, post_authentication_event, post_confirmation_event, pre_authentication_event,
    pre_sign_up_answer, pre_sign_up_event, user_migration_event, TriggerCaller,
};
use super::pre_token::{parse_answer, pre_token_event, PreTokenInput, TokenSource};
use super::{Attempt, TriggerError, Webhooks};
use crate::core::model::{
    Group, PreTokenVersion, TriggerKind, User, UserLookup, UserPool, UserStatus,
};
use crate::core::secrets::SecretString;

/// The sample user's name, and the password the sample sign-in migration event carries.
pub const SAMPLE_USER: &str = "sample-user";
const SAMPLE_PASSWORD: &str = "Sample-passw0rd (not a real one)";

/// Why no sample was sent.
#[derive(Debug, thiserror::Error)]
pub enum SampleError {
    #[error(
        "the {0} trigger is not supported yet: `cognate triggers test` sends pre_sign_up, \
         post_confirmation, pre_authentication, post_authentication, pre_token_generation \
         and user_migration events"
    )]
    NotSupported(&'static str),
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

/// The triggerSource values a kind is sent with (the first is the default); `None` for
/// a kind Cognate does not call yet.
pub fn sources(kind: TriggerKind, version: PreTokenVersion) -> Option<Vec<&'static str>> {
    Some(match kind {
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
        // The kinds being built in other parts slot in here and in `consequence`.
        _ => return None,
    })
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

/// The sample event of `kind` for `source`, as the real path would build it.
pub fn sample_event(
    pool: &UserPool,
    kind: TriggerKind,
    source: &str,
    caller: &TriggerCaller,
) -> Result<Value, SampleError> {
    let version = pool.triggers.pre_token_version();
    let Some(known) = sources(kind, version) else {
        return Err(SampleError::NotSupported(kind.key()));
    };
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
        _ => return Err(SampleError::NotSupported(kind.key())),
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
        _ => Consequence::Refused(SampleError::NotSupported(kind.key()).to_string()),
    }
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
        let Some(known) = sources(kind, version) else {
            return Err(SampleError::NotSupported(kind.key()));
        };
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
        assert_eq!(
            sources(TriggerKind::CustomMessage, PreTokenVersion::V1),
            None
        );
        let v2 = sources(TriggerKind::PreTokenGeneration, PreTokenVersion::V2).unwrap();
        assert!(!v2.contains(&"TokenGeneration_ClientCredentials"));
        let v3 = sources(TriggerKind::PreTokenGeneration, PreTokenVersion::V3).unwrap();
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
}
