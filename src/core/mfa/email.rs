//! Email one-time codes: a second factor, an enrolment proof, and a passwordless first
//! factor (Cognito's `EMAIL_OTP`). 6 to 8 digits, single use, short expiry, stored hashed,
//! mailed through the pool's mailer, under the pool's code budgets. Owned by helper A.

use std::net::IpAddr;

use super::{Enrolled, Mfa, MfaResult, Verified};
use crate::core::account::CodeDelivery;
use crate::core::model::{User, UserPool};
use crate::core::UnixTime;

/// How long an emailed sign-in or MFA code is valid (Cognito: 3 minutes for EMAIL_OTP;
/// the hosted UI gives a person more).
pub const EMAIL_CODE_SECS: i64 = 300;
/// Digits in an emailed code (Cognito's EMAIL_OTP codes have 8; 6 to 8 allowed).
pub const EMAIL_CODE_DIGITS: usize = 8;

/// What an emailed code is for (each has its own stored slot per user).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailCodePurpose {
    /// The second factor after a password.
    SecondFactor,
    /// Enrolling email as a factor (proves the address receives mail).
    Enrol,
    /// Passwordless sign-in (the first factor).
    SignIn,
}

impl Mfa {
    /// Mails a code for `purpose` to the user's verified email address.
    pub async fn send_email_code(
        &self,
        pool: &UserPool,
        user: &User,
        purpose: EmailCodePurpose,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<CodeDelivery> {
        let _ = (pool, user, purpose, lang, address, now);
        todo!("helper A")
    }

    /// Checks an emailed code (single use; wrong codes counted by the throttle).
    pub async fn verify_email_code(
        &self,
        pool: &UserPool,
        sub: &str,
        purpose: EmailCodePurpose,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Verified> {
        let _ = (pool, sub, purpose, code, address, now);
        todo!("helper A")
    }

    /// Enrols email as a factor with a code sent for [`EmailCodePurpose::Enrol`].
    pub async fn confirm_email_factor(
        &self,
        pool: &UserPool,
        sub: &str,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let _ = (pool, sub, code, address, now);
        todo!("helper A")
    }

    /// Passwordless sign-in, step 1: mails a sign-in code to the account `login` names if
    /// it exists, is confirmed and enabled and has a verified email; answers the same
    /// (a masked destination or none) whoever exists, so it reveals no account.
    pub async fn send_sign_in_code(
        &self,
        pool: &UserPool,
        login: &str,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<()> {
        let _ = (pool, login, lang, address, now);
        todo!("helper A")
    }

    /// Passwordless sign-in, step 2: the code for `login`; the user on success (the
    /// caller then applies [`super::requirement`] minus email).
    pub async fn verify_sign_in_code(
        &self,
        pool: &UserPool,
        login: &str,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<User> {
        let _ = (pool, login, code, address, now);
        todo!("helper A")
    }
}
