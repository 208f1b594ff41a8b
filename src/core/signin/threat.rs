//! Threat protection in the sign-in (issue 17), for pools whose `threat_protection.mode`
//! is `audit` or `enforced`: every attempt is recorded in the auth event log (one queued
//! event: the batch writer pays the write), a failed one raises its address's
//! failure-burst count, and a proven one is scored ([`Risk::assess`]) and, in `enforced`
//! mode, answered by its level's action: allow, require a second factor, or block, with
//! or without the "was this you?" mail.

use super::{SignIn, SignInError, SignInOutcome};
use crate::core::mfa::has_verified_email;
use crate::core::model::{
    AuthEventKind, AuthEventOutcome, LevelAction, MfaFactor, RiskAction, ThreatMode, User, UserPool,
};
use crate::core::threat::{events, EventContext};
use crate::core::UnixTime;

/// One attempt as the event log names it.
pub(crate) struct Attempt<'a> {
    /// The login as typed.
    pub login: &'a str,
    /// The account the login names, if any (an unknown login is recorded without one).
    pub sub: Option<String>,
    /// `None` for a password re-check that is no sign-in (nothing recorded or scored).
    pub context: Option<&'a EventContext>,
    /// The first factor's challenge name (`Password`, `PasswordVerifier`).
    pub challenge: &'static str,
    /// The proven password was found compromised (and the sign-in refused for a reset).
    pub compromised: bool,
    /// A passwordless first factor (`None`: a password or SRP proof): an emailed code is
    /// not asked again as the risk's second factor, and a passkey (user verification
    /// required) already is two factors.
    pub passwordless: Option<MfaFactor>,
    pub now: UnixTime,
}

impl<'a> Attempt<'a> {
    pub fn new(
        login: &'a str,
        context: Option<&'a EventContext>,
        challenge: &'static str,
        now: UnixTime,
    ) -> Self {
        Attempt {
            login,
            sub: None,
            context,
            challenge,
            compromised: false,
            passwordless: None,
            now,
        }
    }
}

/// The event log's challenge name of a passwordless first factor.
fn passwordless_challenge(factor: MfaFactor) -> &'static str {
    match factor {
        MfaFactor::Passkey => "WebAuthn",
        _ => "EmailOtp",
    }
}

impl SignInOutcome {
    /// The user the outcome is about.
    pub fn user(&self) -> &User {
        match self {
            SignInOutcome::SignedIn(user)
            | SignInOutcome::NewPasswordRequired(user)
            | SignInOutcome::MfaRequired { user, .. }
            | SignInOutcome::MfaSetup { user, .. } => user,
        }
    }
}

/// The factors a risk-driven `mfa` response asks of `user`: the user's enrolled factors
/// the pool allows (the preferred first), else an emailed code where the pool allows the
/// email factor and the address is verified; `None` when neither (the sign-in is then
/// blocked).
pub fn risk_factors(pool: &UserPool, user: &User) -> Option<Vec<MfaFactor>> {
    let mut enrolled: Vec<MfaFactor> = user
        .mfa
        .kinds()
        .into_iter()
        // A passkey is a sign-in of its own; the API's challenges cannot ask it.
        .filter(|k| pool.factors.allows_mfa(*k) && *k != MfaFactor::Passkey)
        .collect();
    if let Some(p) = user.mfa.preferred {
        if let Some(i) = enrolled.iter().position(|k| *k == p) {
            let k = enrolled.remove(i);
            enrolled.insert(0, k);
        }
    }
    if !enrolled.is_empty() {
        return Some(enrolled);
    }
    (pool.factors.allows_mfa(MfaFactor::Email) && has_verified_email(user))
        .then(|| vec![MfaFactor::Email])
}

/// How a refusal is recorded: whether the first factor was proven (`Success`) and the
/// reason shown in the event's details. `None` for refusals that are no attempt at all
/// (malformed input, an expired SRP session, an internal failure).
fn refusal_of(e: &SignInError) -> Option<(bool, &'static str)> {
    Some(match e {
        SignInError::NotAuthorized => (false, "NotAuthorized"),
        SignInError::Locked { .. } => (false, "Locked"),
        SignInError::UserNotConfirmed => (true, "UserNotConfirmed"),
        SignInError::PasswordResetRequired => (true, "PasswordResetRequired"),
        SignInError::UserDisabled => (true, "UserDisabled"),
        SignInError::TemporaryPasswordExpired => (true, "TemporaryPasswordExpired"),
        SignInError::TriggerRefused(_) => (true, "TriggerRefused"),
        SignInError::BlockedByRisk => (true, "BlockedByRisk"),
        SignInError::PasswordsNotTaken
        | SignInError::InvalidParameter { .. }
        | SignInError::SessionExpired
        | SignInError::Internal { .. } => return None,
    })
}

impl SignIn {
    /// Records a refused attempt (returning the refusal as it came): a `Fail` event, and a
    /// wrong password, unknown login or locked account also raises the address's
    /// failure-burst count.
    pub(super) async fn refused(
        &self,
        pool: &UserPool,
        sub: Option<&str>,
        attempt: &Attempt<'_>,
        e: SignInError,
    ) -> SignInError {
        let (Some(risk), Some(context)) = (
            self.risk
                .as_ref()
                .filter(|_| pool.threat_protection.records_events()),
            attempt.context,
        ) else {
            return e;
        };
        let Some((proven, reason)) = refusal_of(&e) else {
            return e;
        };
        if !proven {
            risk.record_failure(pool, context.address, attempt.now)
                .await;
        }
        let mut event = events::event(
            pool,
            AuthEventKind::SignIn,
            AuthEventOutcome::Fail,
            sub,
            attempt.login,
            context,
            attempt.now,
        );
        let result = if proven { "Success" } else { "Failure" };
        event.challenges = vec![format!("{}:{result}", attempt.challenge)];
        event.details.insert("reason".into(), reason.into());
        event.risk.compromised_credentials = attempt.compromised;
        risk.events().record(pool, event).await;
        e
    }

    /// A passwordless first factor proven (`factor`: an emailed sign-in code or a
    /// passkey) with `outcome` by the pool's rule: scored and answered as a password
    /// sign-in is ([`SignIn::respond_to_risk`]), and recorded as the step
    /// (`EmailOtp:Success`, `WebAuthn:Success`). Pools with threat protection off get
    /// `outcome` back untouched.
    pub async fn respond_to_passwordless_risk(
        &self,
        pool: &UserPool,
        outcome: SignInOutcome,
        factor: MfaFactor,
        context: &EventContext,
        now: UnixTime,
    ) -> Result<SignInOutcome, SignInError> {
        let login = outcome.user().username.clone();
        let attempt = Attempt {
            passwordless: Some(factor),
            ..Attempt::new(&login, Some(context), passwordless_challenge(factor), now)
        };
        self.respond_to_risk(pool, outcome, &attempt).await
    }

    /// A proven first factor: scores the sign-in, takes the level's action (in `enforced`
    /// mode), records the event and logs the decision.
    pub(super) async fn respond_to_risk(
        &self,
        pool: &UserPool,
        outcome: SignInOutcome,
        attempt: &Attempt<'_>,
    ) -> Result<SignInOutcome, SignInError> {
        let (Some(risk), Some(context)) = (
            self.risk
                .as_ref()
                .filter(|_| pool.threat_protection.records_events()),
            attempt.context,
        ) else {
            return Ok(outcome);
        };
        let protection = &pool.threat_protection;
        let user = outcome.user().clone();
        let assessment = risk.assess(pool, &user, context, attempt.now).await;
        let enforced = protection.mode == ThreatMode::Enforced;
        let action = if enforced {
            protection.action_for(assessment.risk.level)
        } else {
            LevelAction::default()
        };
        let (outcome, taken) = match (action.action, outcome) {
            // A passkey with user verification is already two factors.
            (RiskAction::Mfa, SignInOutcome::SignedIn(user))
                if attempt.passwordless == Some(MfaFactor::Passkey) =>
            {
                (SignInOutcome::SignedIn(user), RiskAction::Mfa)
            }
            (RiskAction::Mfa, SignInOutcome::SignedIn(user)) => {
                // The factor that signed in is not asked again as the second.
                let factors = risk_factors(pool, &user).map(|mut f| {
                    f.retain(|k| Some(*k) != attempt.passwordless);
                    f
                });
                match factors.filter(|f| !f.is_empty()) {
                    Some(factors) => (
                        SignInOutcome::MfaRequired { user, factors },
                        RiskAction::Mfa,
                    ),
                    // No factor to ask: the sign-in cannot be let through.
                    None => (SignInOutcome::SignedIn(user), RiskAction::Block),
                }
            }
            // The pool's own second factor is asked anyway: it is the factor.
            (RiskAction::Mfa, other @ SignInOutcome::MfaRequired { .. }) => {
                (other, RiskAction::Mfa)
            }
            // A new password or a first enrolment proves no second factor (the risky
            // caller would set the password or enrol their own authenticator): refused.
            (RiskAction::Mfa, other) => (other, RiskAction::Block),
            (action, other) => (other, action),
        };
        let blocked = taken == RiskAction::Block;
        let mut decision = if enforced {
            match taken {
                RiskAction::Allow => "allow",
                RiskAction::Mfa => "mfa",
                RiskAction::Block => "block",
            }
            .to_string()
        } else {
            "audit".to_string()
        };
        if enforced && action.notify {
            decision.push_str("+notify");
        }
        let result = match (&outcome, blocked) {
            (_, true) => AuthEventOutcome::Fail,
            (SignInOutcome::SignedIn(_), false) => AuthEventOutcome::Pass,
            _ => AuthEventOutcome::InProgress,
        };
        let mut event = events::event(
            pool,
            AuthEventKind::SignIn,
            result,
            Some(&user.sub),
            attempt.login,
            context,
            attempt.now,
        );
        event.challenges = vec![format!("{}:Success", attempt.challenge)];
        if let Some(factor) = attempt.passwordless {
            let name = if factor == MfaFactor::Passkey {
                "passkey"
            } else {
                "email"
            };
            event.details.insert("factor".into(), name.into());
        }
        if blocked {
            event
                .details
                .insert("reason".into(), "BlockedByRisk".into());
        }
        event.risk = assessment.risk;
        event.risk.decision = decision;
        event.location = assessment.location;
        tracing::info!(
            pool = %pool.id,
            sub = %user.sub,
            signals = %event.risk.signals.join(","),
            score = event.risk.score,
            level = ?event.risk.level,
            decision = %event.risk.decision,
            "sign-in risk"
        );
        if enforced && action.notify {
            risk.notify(pool, &user, &event, attempt.now);
        }
        risk.events().record(pool, event).await;
        if blocked {
            return Err(SignInError::BlockedByRisk);
        }
        Ok(outcome)
    }
}
