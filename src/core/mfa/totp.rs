//! TOTP (RFC 6238: 30-second steps, 6 digits, SHA-1, as every authenticator app
//! expects). Owned by helper A.

use super::{Enrolled, Mfa, MfaResult, Verified};
use crate::core::model::{User, UserPool};
use crate::core::secrets::SecretString;
use crate::core::UnixTime;
use std::net::IpAddr;

/// A TOTP enrolment in progress: what the page shows. The secret waits, sealed, in the
/// shared store (single use, [`super::PENDING_SECS`]) until a correct code confirms it.
#[derive(Clone)]
pub struct TotpEnrolment {
    /// Names the pending enrolment (carried by the form).
    pub id: String,
    /// The key as base32 text, for manual entry.
    pub secret_base32: SecretString,
    /// `otpauth://totp/<issuer>:<account>?secret=...&issuer=...` (a phone opens its
    /// authenticator app from it).
    pub uri: SecretString,
    /// The URI drawn as an inline `<svg>` QR code (rendered on the server).
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("id", &self.id)
            .finish()
    }
}

impl Mfa {
    /// Starts a TOTP enrolment for `user` (the pool must allow TOTP).
    pub async fn start_totp(
        &self,
        pool: &UserPool,
        user: &User,
        now: UnixTime,
    ) -> MfaResult<TotpEnrolment> {
        let _ = (pool, user, now);
        todo!("helper A")
    }

    /// Confirms a pending enrolment with one correct code: the factor counts from now (its
    /// step is used). Wrong codes count toward the account's lock. The user's first factor
    /// comes with ten recovery codes.
    pub async fn confirm_totp(
        &self,
        pool: &UserPool,
        sub: &str,
        enrolment_id: &str,
        code: &str,
        name: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let _ = (pool, sub, enrolment_id, code, name, address, now);
        todo!("helper A")
    }

    /// Verifies a TOTP code of any of the user's TOTP factors: the attempt is reserved
    /// with the throttle first; steps now-1, now, now+1 are accepted, each at most once.
    pub async fn verify_totp(
        &self,
        pool: &UserPool,
        sub: &str,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Verified> {
        let _ = (pool, sub, code, address, now);
        todo!("helper A")
    }
}
