//! Listing, removing and preferring factors, the administrator's reset, and the notice
//! mails. Owned by helper A.

use super::{Mfa, MfaResult};
use crate::core::model::{MfaFactor, User, UserPool};
use crate::core::UnixTime;

/// What a notice mail tells the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    FactorAdded(MfaFactor),
    FactorRemoved(MfaFactor),
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
}

impl Mfa {
    /// Removes one factor; refused for the last one when the pool's `mfa` is `ON`. The
    /// recovery codes go with the last factor. A notice is mailed.
    pub async fn remove_factor(
        &self,
        pool: &UserPool,
        sub: &str,
        factor_id: &str,
        lang: &str,
        now: UnixTime,
    ) -> MfaResult<User> {
        let _ = (pool, sub, factor_id, lang, now);
        todo!("helper A")
    }

    /// Sets the factor the sign-in asks first (one the user holds).
    pub async fn set_preferred(
        &self,
        pool: &UserPool,
        sub: &str,
        kind: MfaFactor,
        now: UnixTime,
    ) -> MfaResult<User> {
        let _ = (pool, sub, kind, now);
        todo!("helper A")
    }

    /// The administrator's reset (`cognate users mfa reset`): every factor and recovery
    /// code goes.
    pub async fn reset(&self, pool: &UserPool, sub: &str, now: UnixTime) -> MfaResult<User> {
        let _ = (pool, sub, now);
        todo!("helper A")
    }

    /// Mails `notice` to the user's email address, if any (failures are logged: a notice
    /// never blocks the change it reports).
    pub async fn notify(&self, pool: &UserPool, user: &User, notice: Notice, lang: &str) {
        let _ = (pool, user, notice, lang);
        todo!("helper A")
    }
}
