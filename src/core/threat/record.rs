//! Recording an auth event from a core service: [`Directory::record_event`] names the
//! user the event belongs to (so AdminListUserAuthEvents finds it under that user), builds
//! the event ([`super::events::event`]) and hands it to this node's batch writer. Pools
//! with threat protection off record nothing and pay nothing (not even the user look-up).

use crate::core::directory::Directory;
use crate::core::model::{AuthEventKind, AuthEventOutcome, User, UserPool};
use crate::core::storage::UserRef;
use crate::core::UnixTime;

use super::events::{event, EventContext};

/// Whom an event is about.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A user the service already holds.
    User(&'a User),
    /// A user by `sub` (looked up for the username; a user since deleted keeps the sub).
    Sub(&'a str),
    /// A login as typed: the user it names, if any (an event against a login nobody has
    /// is kept under the login alone, for the operator's review).
    Login(&'a str),
    /// A name nobody's event (a refused sign-up: the username may be someone else's).
    Unattributed(&'a str),
}

/// What an event records: its kind, its outcome and the challenge met, if any.
#[derive(Debug, Clone)]
pub struct Step {
    pub kind: AuthEventKind,
    pub outcome: AuthEventOutcome,
    /// `<challenge>:<Success|Failure>`, as Cognito's `ChallengeResponses` lists them.
    pub challenge: Option<String>,
}

impl Directory {
    /// Records `kind` ended with `outcome` for `subject` in the pool's auth event log,
    /// with `details` (the factor changed, the IdP, the reason of a failure). Never fails:
    /// the log must not hold up or change the answer of the flow it records.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_event(
        &self,
        pool: &UserPool,
        subject: Subject<'_>,
        kind: AuthEventKind,
        outcome: AuthEventOutcome,
        context: &EventContext,
        details: &[(&str, &str)],
        now: UnixTime,
    ) {
        let step = Step {
            kind,
            outcome,
            challenge: None,
        };
        self.record_step(pool, subject, step, context, details, now)
            .await;
    }

    /// [`Directory::record_event`] with the challenge met (`Mfa:Success`...), as a
    /// sign-in step records it.
    pub async fn record_step(
        &self,
        pool: &UserPool,
        subject: Subject<'_>,
        step: Step,
        context: &EventContext,
        details: &[(&str, &str)],
        now: UnixTime,
    ) {
        let Step {
            kind,
            outcome,
            challenge,
        } = step;
        let Some(events) = self.events() else {
            return;
        };
        if !pool.threat_protection.records_events() {
            return;
        }
        let (sub, username) = match subject {
            Subject::User(user) => (Some(user.sub.clone()), user.username.clone()),
            Subject::Sub(sub) => {
                let found = self
                    .store()
                    .get_user(&pool.id, &UserRef::Sub(sub.to_string()))
                    .await
                    .ok()
                    .flatten();
                let username = found.map(|u| u.username).unwrap_or_default();
                (Some(sub.to_string()), username)
            }
            Subject::Unattributed(name) => (None, name.trim().to_string()),
            Subject::Login(login) => match self.find_user(pool, login).await {
                Ok(Some(user)) => (Some(user.sub), user.username),
                _ => (None, login.trim().to_string()),
            },
        };
        let mut recorded = event(pool, kind, outcome, sub.as_deref(), &username, context, now);
        recorded.details = details
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        recorded.challenges = challenge.into_iter().collect();
        events.record(pool, recorded).await;
    }
}

/// `Pass` or `Fail`, by a result.
pub fn outcome_of<T, E>(result: &Result<T, E>) -> AuthEventOutcome {
    if result.is_ok() {
        AuthEventOutcome::Pass
    } else {
        AuthEventOutcome::Fail
    }
}
