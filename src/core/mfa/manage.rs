//! Listing, removing and preferring factors, the administrator's reset, and the notice
//! mails; and the pieces every factor shares: the version-checked write of the user, the
//! code throttle, enrolment with the first factor's recovery codes. Owned by helper A.

use super::recovery::new_recovery_codes;
use super::{Enrolled, Mfa, MfaError, MfaResult};
use crate::core::model::{Factor, MfaFactor, MfaSetting, User, UserPool};
use crate::core::storage::{StoreError, UserRef};
use crate::core::throttle::{MfaScope, Verdict};
use crate::core::UnixTime;

/// What a notice mail tells the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    FactorAdded(MfaFactor),
    FactorRemoved(MfaFactor),
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
}

impl Notice {
    /// The name the catalogs know the notice by (`mail.notice.<name>.subject|body`).
    pub fn name(self) -> &'static str {
        match self {
            Notice::FactorAdded(_) => "factor_added",
            Notice::FactorRemoved(_) => "factor_removed",
            Notice::RecoveryCodeUsed => "recovery_code_used",
            Notice::RecoveryCodesRegenerated => "recovery_codes_regenerated",
        }
    }

    fn factor(self) -> Option<MfaFactor> {
        match self {
            Notice::FactorAdded(f) | Notice::FactorRemoved(f) => Some(f),
            _ => None,
        }
    }
}

/// How many times a version-checked write is tried again after losing a race.
const WRITE_ATTEMPTS: usize = 20;

/// The language of a user's mails: their `locale` attribute, else English.
pub fn user_lang(user: &User) -> &str {
    user.attribute("locale")
        .filter(|l| !l.is_empty())
        .unwrap_or("en")
}

impl Mfa {
    /// The stored user `sub` of `pool`.
    pub(crate) async fn user_by_sub(&self, pool: &UserPool, sub: &str) -> MfaResult<User> {
        self.store()
            .get_user(&pool.id, &UserRef::Sub(sub.to_string()))
            .await?
            .ok_or(MfaError::NotFound)
    }

    /// Applies `change` to the stored user and writes it under the version it read. A
    /// writer that lost the race reads the user again and applies `change` again, so a
    /// change always sees every earlier write: of two nodes consuming one TOTP step or one
    /// recovery code at once, the second sees it used and `change` refuses.
    pub(crate) async fn update_user<T>(
        &self,
        pool: &UserPool,
        sub: &str,
        now: UnixTime,
        change: impl Fn(&mut User) -> MfaResult<T>,
    ) -> MfaResult<(User, T)> {
        for _ in 0..WRITE_ATTEMPTS {
            let mut user = self.user_by_sub(pool, sub).await?;
            let out = change(&mut user)?;
            user.updated_at = now;
            match self.store().update_user(&user).await {
                Ok(stored) => return Ok((stored, out)),
                Err(StoreError::VersionMismatch) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(MfaError::Internal(
            "the user changed too often concurrently".into(),
        ))
    }

    /// Reserves one code comparison for the account `key` before comparing (see
    /// [`crate::core::throttle::Throttle::reserve_mfa`]).
    pub(crate) async fn reserve_code(
        &self,
        scope: MfaScope,
        pool: &UserPool,
        key: &str,
        now: UnixTime,
    ) -> MfaResult<()> {
        match self.throttle.reserve_mfa(scope, &pool.id, key, now).await? {
            Verdict::Allow { .. } => Ok(()),
            Verdict::Locked { until } => Err(MfaError::Locked { until }),
        }
    }

    /// A right code clears the account's count.
    pub(crate) async fn code_success(&self, scope: MfaScope, pool: &UserPool, key: &str) {
        if let Err(e) = self.throttle.mfa_success(scope, &pool.id, key).await {
            tracing::warn!(error = %e, "clearing a second-factor count failed");
        }
    }

    /// Adds a proven factor to the user (a version-checked write). At the user's first
    /// factor, ten recovery codes come with it and are returned once in
    /// [`Enrolled::recovery_codes`]. A notice is mailed.
    pub(crate) async fn enrol(
        &self,
        pool: &UserPool,
        sub: &str,
        factor: Factor,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let (codes, hashed) = new_recovery_codes(sub);
        let kind = factor.kind;
        let factor_id = factor.id.clone();
        let (user, first) = self
            .update_user(pool, sub, now, |user| {
                let first = user.mfa.factors.is_empty();
                user.mfa.factors.push(factor.clone());
                if first {
                    user.mfa.recovery_codes = hashed.clone();
                }
                Ok(first)
            })
            .await?;
        self.notify(pool, &user, Notice::FactorAdded(kind), user_lang(&user))
            .await;
        Ok(Enrolled {
            user,
            factor_id,
            recovery_codes: first.then_some(codes),
        })
    }

    /// The user's factors (for the account page and `cognate users mfa list`).
    pub async fn list_factors(&self, pool: &UserPool, sub: &str) -> MfaResult<Vec<Factor>> {
        Ok(self.user_by_sub(pool, sub).await?.mfa.factors)
    }

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
        let (user, kind) = self
            .update_user(pool, sub, now, |user| {
                let mfa = &mut user.mfa;
                let i = mfa
                    .factors
                    .iter()
                    .position(|f| f.id == factor_id)
                    .ok_or(MfaError::NotFound)?;
                let kind = mfa.factors[i].kind;
                // Under `ON` a user keeps at least one factor the pool allows.
                let others_allowed = mfa
                    .factors
                    .iter()
                    .enumerate()
                    .any(|(j, f)| j != i && pool.factors.allows_mfa(f.kind));
                if pool.mfa == MfaSetting::On && pool.factors.allows_mfa(kind) && !others_allowed {
                    return Err(MfaError::LastFactor);
                }
                mfa.factors.remove(i);
                if mfa.factors.is_empty() {
                    mfa.recovery_codes.clear();
                }
                if mfa.preferred.is_some_and(|p| !mfa.has(p)) {
                    mfa.preferred = None;
                }
                Ok(kind)
            })
            .await?;
        self.notify(pool, &user, Notice::FactorRemoved(kind), lang)
            .await;
        Ok(user)
    }

    /// Sets the factor the sign-in asks first (one the user holds).
    pub async fn set_preferred(
        &self,
        pool: &UserPool,
        sub: &str,
        kind: MfaFactor,
        now: UnixTime,
    ) -> MfaResult<User> {
        if !pool.factors.allows_mfa(kind) {
            return Err(MfaError::FactorNotAllowed);
        }
        let (user, ()) = self
            .update_user(pool, sub, now, |user| {
                if !user.mfa.has(kind) {
                    return Err(MfaError::NotFound);
                }
                user.mfa.preferred = Some(kind);
                Ok(())
            })
            .await?;
        Ok(user)
    }

    /// The administrator's reset (`cognate users mfa reset`): every factor and recovery
    /// code goes, and the second-factor counts are cleared.
    pub async fn reset(&self, pool: &UserPool, sub: &str, now: UnixTime) -> MfaResult<User> {
        let (user, ()) = self
            .update_user(pool, sub, now, |user| {
                user.mfa = Default::default();
                Ok(())
            })
            .await?;
        self.throttle.mfa_unlock(&pool.id, sub).await?;
        Ok(user)
    }

    /// Mails `notice` to the user's verified email address, if any (failures are logged:
    /// a notice never blocks the change it reports).
    pub async fn notify(&self, pool: &UserPool, user: &User, notice: Notice, lang: &str) {
        if !super::has_verified_email(user) {
            return;
        }
        let Some(to) = user.attribute("email") else {
            return;
        };
        let mail =
            self.mail
                .notice_mail(notice.name(), notice.factor().map(|f| f.as_str()), to, lang);
        if let Err(e) = self.mail.for_user_pool(pool).send(&mail).await {
            tracing::warn!(error = %e, notice = notice.name(), "a notice mail was not sent");
        }
    }
}
