//! The auth events of MFA changes (threat protection's log, `MfaChange`): enrolling or
//! removing a factor, and the preferences, recorded where each change is decided.

use super::{Mfa, MfaError, MfaResult};
use crate::core::model::{AuthEventKind, MfaFactor, UserPool};
use crate::core::threat::{outcome_of, EventContext, Subject};
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
