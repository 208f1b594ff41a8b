//! The auth events of MFA (threat protection's log): changes (`MfaChange`: enrolling or
//! removing a factor, the preferences), recorded where each change is decided, and the
//! second factor of a sign-in (`SignIn`, challenge `Mfa`), recorded by the edge that
//! asked it (the API's challenge step, the hosted UI's second-factor page).

use super::{Mfa, MfaError, MfaResult, Verified};
use crate::core::model::{AuthEventKind, MfaFactor, UserPool};
use crate::core::threat::{outcome_of, EventContext, Step, Subject};
use crate::core::UnixTime;

impl Mfa {
    /// Records an MFA change of `sub` ended with `result`, with `details` (the factor,
    /// the change) and on failure the refusal's `reason`.
    pub(super) async fn record_change<T>(
        &self,
        pool: &UserPool,
        sub: &str,
        context: &EventContext,
        result: &MfaResult<T>,
        details: &[(&str, &str)],
        now: UnixTime,
    ) {
        let mut all = details.to_vec();
        if let Err(e) = result {
            all.push(("reason", reason(e)));
        }
        self.directory
            .record_event(
                pool,
                Subject::Sub(sub),
                AuthEventKind::MfaChange,
                outcome_of(result),
                context,
                &all,
                now,
            )
            .await;
    }

    /// Records the answer to a sign-in's second factor of `sub` (`factor`; `None`: a
    /// recovery code) through [`Mfa::record_answer`]: a proven one under the user it
    /// verified (no look-up), a refused one under `sub`.
    pub async fn record_second_factor(
        &self,
        pool: &UserPool,
        sub: &str,
        context: &EventContext,
        factor: Option<MfaFactor>,
        result: &MfaResult<Verified>,
        now: UnixTime,
    ) {
        let subject = match result {
            Ok(verified) => Subject::User(&verified.user),
            Err(_) => Subject::Sub(sub),
        };
        let answered = Answered::SecondFactor(factor);
        self.record_answer(pool, subject, context, answered, result, now)
            .await;
    }

    /// Records an answer in a sign-in (`answered`: a second factor, or a passwordless
    /// first factor): a `SignIn` event, `Pass` with challenge `<name>:Success` or `Fail`
    /// with `<name>:Failure` and the refusal's `reason`, and the `factor` answered. A
    /// second factor's first step (`InProgress`) was recorded when it was asked. An
    /// internal failure is no attempt and is not recorded.
    pub async fn record_answer<T>(
        &self,
        pool: &UserPool,
        subject: Subject<'_>,
        context: &EventContext,
        answered: Answered,
        result: &MfaResult<T>,
        now: UnixTime,
    ) {
        if matches!(result, Err(MfaError::Internal(_))) {
            return;
        }
        let (challenge, factor) = match answered {
            Answered::SecondFactor(factor) => ("Mfa", factor.map_or("recovery_code", factor_name)),
            Answered::SignInCode => ("EmailOtp", factor_name(MfaFactor::Email)),
            Answered::Passkey => ("WebAuthn", factor_name(MfaFactor::Passkey)),
        };
        let mut details = vec![("factor", factor)];
        if let Err(e) = result {
            details.push(("reason", reason(e)));
        }
        let verdict = if result.is_ok() { "Success" } else { "Failure" };
        let step = Step {
            kind: AuthEventKind::SignIn,
            outcome: outcome_of(result),
            challenge: Some(format!("{challenge}:{verdict}")),
        };
        self.directory
            .record_step(pool, subject, step, context, &details, now)
            .await;
    }
}

/// What a sign-in answered, for [`Mfa::record_answer`].
#[derive(Debug, Clone, Copy)]
pub enum Answered {
    /// A second factor (`None`: a recovery code).
    SecondFactor(Option<MfaFactor>),
    /// An emailed sign-in code (a passwordless first factor).
    SignInCode,
    /// A passkey as the first factor.
    Passkey,
}

/// The name of a factor in the log.
pub(super) fn factor_name(kind: MfaFactor) -> &'static str {
    match kind {
        MfaFactor::Totp => "totp",
        MfaFactor::Email => "email",
        MfaFactor::Sms => "sms",
        MfaFactor::Passkey => "passkey",
    }
}

/// A refusal's name for the log (never its message).
fn reason(e: &MfaError) -> &'static str {
    match e {
        MfaError::CodeMismatch => "code_mismatch",
        MfaError::Expired => "expired",
        MfaError::Locked { .. } => "locked",
        MfaError::LimitExceeded => "limit_exceeded",
        MfaError::FactorNotAllowed => "factor_not_allowed",
        MfaError::NotPossible(_) => "not_possible",
        MfaError::LastFactor => "last_factor",
        MfaError::NotFound => "not_found",
        MfaError::Passkey(_) => "passkey_refused",
        MfaError::Delivery => "delivery",
        MfaError::Internal(_) => "internal",
    }
}
