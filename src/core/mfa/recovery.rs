//! Recovery codes: ten, shown once, stored hashed, each usable once in place of a factor
//! (a notice mail when one is used). Owned by helper A.

use std::net::IpAddr;

use super::{Mfa, MfaResult, Verified};
use crate::core::model::UserPool;
use crate::core::UnixTime;

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

impl Mfa {
    /// Uses a recovery code in place of a factor (throttled like codes).
    pub async fn use_recovery_code(
        &self,
        pool: &UserPool,
        sub: &str,
        code: &str,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Verified> {
        let _ = (pool, sub, code, lang, address, now);
        todo!("helper A")
    }

    /// Replaces the user's recovery codes with ten new ones, returned once (the user must
    /// hold a factor).
    pub async fn regenerate_recovery_codes(
        &self,
        pool: &UserPool,
        sub: &str,
        now: UnixTime,
    ) -> MfaResult<Vec<String>> {
        let _ = (pool, sub, now);
        todo!("helper A")
    }
}
