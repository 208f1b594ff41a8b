//! Multi-factor authentication and passkeys (issue 13): the core every edge shares (the
//! hosted UI, the Cognito API's MFA preferences, passkey actions and `USER_AUTH`).
//!
//! - [`requirement`]: what the pool's `mfa` setting asks of a user after a first factor
//!   (`OFF`: nothing; `OPTIONAL`: the factors the user enabled; `ON`: a factor, or
//!   enrolment first, Cognito's `MFA_SETUP`). Federated users are never asked.
//! - [`totp`]: RFC 6238 enrolment (QR code as inline SVG, `otpauth://` URI, the key as
//!   text) and verification (one step of drift each way, each step accepted once).
//! - [`otp`] (also reachable as `email`): one-time codes over a channel: mailed to the
//!   verified address, as a second factor, for enrolment, and as a passwordless first
//!   factor (Cognito's `EMAIL_OTP`); texted to the verified phone number through the
//!   pool's custom SMS sender as a second factor (Cognito's `SMS_MFA`).
//! - [`recovery`]: ten single-use recovery codes, stored hashed.
//! - [`passkeys`]: WebAuthn registration and authentication (webauthn-rs), ceremony state
//!   kept in the shared store, single use.
//! - [`manage`]: listing, removing, preferring factors; the administrator's reset.
//!
//! Factors live in the user record ([`crate::core::model::UserMfa`]), so a proof is
//! consumed with the user's optimistic version: of two nodes accepting the same TOTP
//! code, recovery code or passkey assertion at once, one write wins and the other is
//! refused. Wrong codes are counted by the brute-force throttle, reserved before the
//! comparison, so parallel guesses cannot exceed the limit.

mod events;
pub use events::Answered;
pub mod manage;
pub mod otp;
pub mod passkeys;
pub mod recovery;
pub mod totp;

/// The one-time codes' module under its first name (email codes came first).
pub use otp as email;

use std::sync::Arc;

use super::directory::{Directory, DirectoryError};
use super::mail::MailRouter;
use super::model::{MfaFactor, MfaSetting, User, UserPool, UserStatus};
use super::secrets::MasterKey;
use super::storage::{Store, StoreError};
use super::throttle::Throttle;
use super::UnixTime;

/// The `amr` value a session records for a password (RFC 8176).
pub const AMR_PASSWORD: &str = "pwd";
/// The `amr` value for a recovery code used in place of a factor.
pub const AMR_RECOVERY: &str = "kba";
/// The `amr` value a session records once any second factor passed ("mfa", RFC 8176).
pub const AMR_MFA: &str = "mfa";

/// How long a sign-in waits between its first factor and its second (Cognito's
/// authentication session lasts 3 minutes; the hosted UI gives a person more).
pub const PENDING_SECS: i64 = 600;
/// How recent a sign-in must be to add or remove a factor without signing in again.
pub const FRESH_SIGN_IN_SECS: i64 = 300;

/// What the pool asks of a user who passed a first factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Signed in: no second factor is asked (pool `OFF`, `OPTIONAL` without factors,
    /// federated users, or a first factor that counts as two: a passkey).
    None,
    /// One of these enrolled factors must pass (the preferred one first).
    Challenge { factors: Vec<MfaFactor> },
    /// `ON` and nothing enrolled: enrol one of these (allowed and possible for the user)
    /// before any token, session or code (Cognito's `MFA_SETUP`).
    Setup { factors: Vec<MfaFactor> },
}

/// What the pool asks of `user` after a first factor that proved one factor (a password
/// or an emailed sign-in code). A passkey sign-in never asks (it is two factors).
///
/// Under `ON`, `Setup` offers the pool's allowed factors the user can enrol (`EMAIL`
/// needs a verified email address; `SMS` is not enrolled in a setup step: it is switched
/// on for a verified phone number, by the user's MFA preference or an administrator's). The preferred factor comes first in `Challenge`.
pub fn requirement(pool: &UserPool, user: &User) -> Requirement {
    if user.status == UserStatus::ExternalProvider || pool.mfa == MfaSetting::Off {
        return Requirement::None;
    }
    let mut enrolled: Vec<MfaFactor> = user
        .mfa
        .kinds()
        .into_iter()
        .filter(|k| pool.factors.allows_mfa(*k))
        .collect();
    if let Some(p) = user.mfa.preferred {
        if let Some(i) = enrolled.iter().position(|k| *k == p) {
            let k = enrolled.remove(i);
            enrolled.insert(0, k);
        }
    }
    if !enrolled.is_empty() {
        return Requirement::Challenge { factors: enrolled };
    }
    match pool.mfa {
        MfaSetting::On => Requirement::Setup {
            factors: pool
                .factors
                .mfa
                .iter()
                .copied()
                .filter(|k| match k {
                    MfaFactor::Email => has_verified_email(user),
                    // SMS is enabled, not enrolled: a verified phone number and
                    // SetUserMFAPreference (or the account page) switch it on.
                    MfaFactor::Sms => false,
                    MfaFactor::Totp | MfaFactor::Passkey => true,
                })
                .collect(),
        },
        _ => Requirement::None,
    }
}

/// What the pool's rule still asks of `user` after a first step that proved `first_amr`:
/// [`requirement`], less the email factor when the first step was an emailed sign-in code
/// (one mailbox is not two factors, and it is not asked twice). Where nothing would remain
/// under `ON` the rule stands unreduced (a pool `ON` never lets one factor through; the
/// pool's settings also refuse an emailed first factor under `ON`).
pub fn requirement_after(pool: &UserPool, user: &User, first_amr: &[String]) -> Requirement {
    let email_first = first_amr.iter().any(|a| a == MfaFactor::Email.amr());
    let reduce = |factors: &[MfaFactor]| -> Vec<MfaFactor> {
        factors
            .iter()
            .copied()
            .filter(|f| !(email_first && *f == MfaFactor::Email))
            .collect()
    };
    match requirement(pool, user) {
        Requirement::None => Requirement::None,
        Requirement::Challenge { factors } => match reduce(&factors) {
            left if !left.is_empty() => Requirement::Challenge { factors: left },
            _ if pool.mfa == MfaSetting::On => Requirement::Challenge { factors },
            _ => Requirement::None,
        },
        Requirement::Setup { factors } => match reduce(&factors) {
            left if !left.is_empty() => Requirement::Setup { factors: left },
            _ => Requirement::Setup { factors },
        },
    }
}

/// Whether a browser session signed in with `amr` (the factors it recorded) may sign
/// `user` in to another client of `pool` now (single sign-on): a session that passed a
/// second factor (`mfa` in its `amr`) does; otherwise the pool's rule must ask nothing more
/// of what the session proved ([`requirement_after`]), so a password session made before
/// the user enrolled, or before the pool turned `ON`, does not pass. Only sessions of the
/// pool's own users (`COGNITO`) are judged: a federated sign-in's IdP asks its own factors.
pub fn session_satisfies(pool: &UserPool, user: &User, amr: &[String]) -> bool {
    amr.iter().any(|a| a == AMR_MFA) || requirement_after(pool, user, amr) == Requirement::None
}

/// Whether the user's `phone_number` attribute is present and verified (SMS codes go
/// only to a verified number).
pub fn has_verified_phone(user: &User) -> bool {
    user.attribute("phone_number")
        .is_some_and(|p| !p.is_empty())
        && user.attribute("phone_number_verified") == Some("true")
}

/// Whether the user's `email` attribute is present and verified.
pub fn has_verified_email(user: &User) -> bool {
    user.attribute("email").is_some_and(|e| !e.is_empty())
        && user.attribute("email_verified") == Some("true")
}

/// Why an MFA step was refused. Messages are Cognito's where it has one.
#[derive(Debug, thiserror::Error)]
pub enum MfaError {
    /// A wrong, expired, replayed or unknown code or assertion (Cognito's
    /// `CodeMismatchException`).
    #[error("Invalid code received for user")]
    CodeMismatch,
    /// An enrolment or ceremony that expired or was already used (Cognito's
    /// `ExpiredCodeException`).
    #[error("The enrolment or sign-in step expired; start again")]
    Expired,
    /// Too many wrong codes for this account (Cognito's `TooManyFailedAttemptsException`
    /// / `NotAuthorizedException`).
    #[error("Too many failed attempts")]
    Locked { until: UnixTime },
    /// Too many codes sent (per destination or client address).
    #[error("Attempt limit exceeded, please try after some time.")]
    LimitExceeded,
    /// The pool does not allow this factor.
    #[error("This factor is not enabled for the user pool")]
    FactorNotAllowed,
    /// The user cannot use this factor (no verified email for `EMAIL`).
    #[error("{0}")]
    NotPossible(&'static str),
    /// Removing the last factor of a user in a pool whose `mfa` is `ON`.
    #[error("The last factor cannot be removed while the user pool requires MFA")]
    LastFactor,
    /// No such factor (or user).
    #[error("not found")]
    NotFound,
    /// A malformed WebAuthn response, an origin or relying party that does not match, or a
    /// passkey already registered.
    #[error("passkey refused: {0}")]
    Passkey(String),
    /// The code could not be mailed.
    #[error("the code could not be delivered")]
    Delivery,
    /// The store, the mailer or the master key failed; for the log.
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for MfaError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => MfaError::NotFound,
            e => MfaError::Internal(e.to_string()),
        }
    }
}

impl From<DirectoryError> for MfaError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::UserNotFound | DirectoryError::PoolNotFound(_) => MfaError::NotFound,
            e => MfaError::Internal(e.to_string()),
        }
    }
}

pub type MfaResult<T> = Result<T, MfaError>;

/// A factor proven: which one, and the user as it is stored now (the step, counter or
/// recovery code consumed).
#[derive(Debug, Clone)]
pub struct Verified {
    pub user: User,
    /// The `amr` value of what was proven ([`MfaFactor::amr`] or [`AMR_RECOVERY`]).
    pub amr: &'static str,
    /// Recovery codes left after a recovery code was used (a notice was mailed).
    pub recovery_codes_left: Option<usize>,
}

/// A factor enrolled: the user as stored now, and, at the user's first factor, the ten
/// recovery codes to show once.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub user: User,
    pub factor_id: String,
    pub recovery_codes: Option<Vec<String>>,
}

/// The MFA service. Cheap to clone.
#[derive(Clone)]
pub struct Mfa {
    pub(crate) directory: Directory,
    pub(crate) throttle: Throttle,
    pub(crate) mail: MailRouter,
    pub(crate) master: Arc<MasterKey>,
    /// The server's public URL (`https://login.example.com`), for the `otpauth://` issuer
    /// and the passkeys' default relying party and origin.
    pub(crate) public_url: url::Url,
    pub(crate) passkeys: passkeys::Passkeys,
}

impl std::fmt::Debug for Mfa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mfa")
            .field("public_url", &self.public_url.as_str())
            .finish()
    }
}

impl Mfa {
    pub fn new(
        directory: Directory,
        mail: MailRouter,
        master: Arc<MasterKey>,
        public_url: url::Url,
    ) -> Self {
        let throttle = Throttle::new(directory.store().clone());
        Mfa {
            passkeys: passkeys::Passkeys::new(public_url.clone()),
            directory,
            throttle,
            mail,
            master,
            public_url,
        }
    }

    pub(crate) fn store(&self) -> &Arc<dyn Store> {
        self.directory.store()
    }
}
