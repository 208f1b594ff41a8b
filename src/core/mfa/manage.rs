//! Listing, removing and preferring factors, the administrator's reset, and the notice
//! mails; and the pieces every factor shares: the version-checked write of the user, the
//! code throttle, enrolment with the first factor's recovery codes. Owned by helper A.

use super::events::factor_name;
use super::recovery::new_recovery_codes;
use super::{Enrolled, Mfa, MfaError, MfaResult};
use crate::core::model::{Factor, FactorData, MfaFactor, MfaSetting, User, UserPool};
use crate::core::secrets::random_token;
use crate::core::storage::{StoreError, UserRef};
use crate::core::threat::EventContext;
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
                // Counted in the version-checked write, so concurrent registrations
                // cannot pass the quota together.
                let passkeys = |u: &User| {
                    u.mfa
                        .factors
                        .iter()
                        .filter(|f| f.kind == MfaFactor::Passkey)
                        .count()
                };
                if kind == MfaFactor::Passkey && passkeys(user) >= super::passkeys::MAX_PASSKEYS {
                    return Err(MfaError::NotPossible(super::passkeys::TOO_MANY_PASSKEYS));
                }
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
    /// recovery codes go with the last factor. A notice is mailed. Recorded in the auth
    /// event log (`MfaChange`) with `context`.
    pub async fn remove_factor(
        &self,
        pool: &UserPool,
        sub: &str,
        factor_id: &str,
        lang: &str,
        context: &EventContext,
        now: UnixTime,
    ) -> MfaResult<User> {
        let result = self
            .remove_factor_unrecorded(pool, sub, factor_id, lang, now)
            .await;
        let factor = match &result {
            Ok((_, kind)) => factor_name(*kind),
            Err(_) => "unknown",
        };
        let details = [("factor", factor), ("change", "remove")];
        self.record_change(pool, sub, context, &result, &details, now)
            .await;
        result.map(|(user, _)| user)
    }

    async fn remove_factor_unrecorded(
        &self,
        pool: &UserPool,
        sub: &str,
        factor_id: &str,
        lang: &str,
        now: UnixTime,
    ) -> MfaResult<(User, MfaFactor)> {
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
        Ok((user, kind))
    }

    /// Sets the factor the sign-in asks first (one the user holds). Recorded in the auth
    /// event log (`MfaChange`) with `context`.
    pub async fn set_preferred(
        &self,
        pool: &UserPool,
        sub: &str,
        kind: MfaFactor,
        context: &EventContext,
        now: UnixTime,
    ) -> MfaResult<User> {
        let result = self.set_preferred_unrecorded(pool, sub, kind, now).await;
        let details = [("factor", factor_name(kind)), ("change", "prefer")];
        self.record_change(pool, sub, context, &result, &details, now)
            .await;
        result
    }

    async fn set_preferred_unrecorded(
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

/// One factor's part of Cognito's `SetUserMFAPreference` / `AdminSetUserMFAPreference`
/// (`SoftwareTokenMfaSettings`, `EmailMfaSettings`, `SMSMfaSettings`,
/// `WebAuthnMfaSettings`): each member
/// the request names (`None`: not named, left as it is).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MfaPreference {
    pub factor: MfaFactor,
    pub enabled: Option<bool>,
    pub preferred: Option<bool>,
}

/// Cognito's refusal when TOTP is enabled before an authenticator app was verified.
pub const NO_SOFTWARE_TOKEN: &str = "User has not set up software token mfa";
/// Email as a second factor needs a verified address.
pub const NO_VERIFIED_EMAIL: &str = "User does not have a verified email address";
/// SMS as a second factor needs a verified phone number (Cognito's wording).
pub const NO_VERIFIED_PHONE: &str = "User does not have a verified phone number";
/// A passkey preference needs a registered passkey.
pub const NO_PASSKEY: &str = "User has not registered a passkey";
/// Passkeys are credentials, removed one by one, not switched off as a setting.
pub const PASSKEY_NOT_DISABLED: &str =
    "Passkeys cannot be disabled as a setting; remove them with DeleteWebAuthnCredential";
/// A factor preferred must be enabled too.
pub const PREFERRED_NOT_ENABLED: &str = "A disabled MFA method cannot be preferred";

impl Mfa {
    /// Cognito's user MFA preference, over the enrolled factors (in Cognate a factor is
    /// enabled while it is enrolled): `Enabled: true` enables a factor the user can use
    /// (TOTP: an authenticator app verified with `VerifySoftwareToken`; EMAIL: a verified
    /// email address, SMS: a verified phone number, no code needed, as in Cognito) and the
    /// pool allows; `Enabled: false`
    /// removes it (so the sign-in no longer asks for it; an authenticator app removed must
    /// be associated again), refused for the last factor of a pool whose `mfa` is `ON`;
    /// `PreferredMfa` names the factor the sign-in asks first (`false` clears it when it was
    /// that factor). Every change is checked before any is written, and all are written in
    /// one version-checked write. Recorded in the auth event log (`MfaChange`, with the
    /// factors added and removed) with `context`.
    pub async fn set_mfa_preferences(
        &self,
        pool: &UserPool,
        sub: &str,
        changes: &[MfaPreference],
        context: &EventContext,
        now: UnixTime,
    ) -> MfaResult<User> {
        let result = self
            .set_mfa_preferences_unrecorded(pool, sub, changes, now)
            .await;
        let named = |pick: fn(&MfaPreference) -> bool| {
            changes
                .iter()
                .filter(|c| pick(c))
                .map(|c| factor_name(c.factor))
                .collect::<Vec<_>>()
                .join(",")
        };
        let enabled = named(|c| c.enabled == Some(true));
        let disabled = named(|c| c.enabled == Some(false));
        let preferred = named(|c| c.preferred == Some(true));
        let mut details = vec![("change", "preferences")];
        for (key, value) in [
            ("enabled", &enabled),
            ("disabled", &disabled),
            ("preferred", &preferred),
        ] {
            if !value.is_empty() {
                details.push((key, value.as_str()));
            }
        }
        self.record_change(pool, sub, context, &result, &details, now)
            .await;
        result
    }

    async fn set_mfa_preferences_unrecorded(
        &self,
        pool: &UserPool,
        sub: &str,
        changes: &[MfaPreference],
        now: UnixTime,
    ) -> MfaResult<User> {
        for change in changes {
            let enabling = change.enabled == Some(true) || change.preferred == Some(true);
            if enabling && !pool.factors.allows_mfa(change.factor) {
                return Err(MfaError::FactorNotAllowed);
            }
            if change.preferred == Some(true) && change.enabled == Some(false) {
                return Err(MfaError::NotPossible(PREFERRED_NOT_ENABLED));
            }
        }
        let before = self.user_by_sub(pool, sub).await?.mfa.kinds();
        let email_id = random_token::<12>();
        let (user, ()) = self
            .update_user(pool, sub, now, |user| {
                apply_preferences(pool, user, changes, &email_id, now)
            })
            .await?;
        let after = user.mfa.kinds();
        let lang = user_lang(&user).to_string();
        for kind in MfaFactor::ALL {
            match (before.contains(&kind), after.contains(&kind)) {
                (false, true) => {
                    self.notify(pool, &user, Notice::FactorAdded(kind), &lang)
                        .await
                }
                (true, false) => {
                    self.notify(pool, &user, Notice::FactorRemoved(kind), &lang)
                        .await
                }
                _ => {}
            }
        }
        Ok(user)
    }
}

/// [`Mfa::set_mfa_preferences`]'s change of the stored user.
fn apply_preferences(
    pool: &UserPool,
    user: &mut User,
    changes: &[MfaPreference],
    email_id: &str,
    now: UnixTime,
) -> MfaResult<()> {
    let had_allowed = user.mfa.kinds().iter().any(|k| pool.factors.allows_mfa(*k));
    for change in changes {
        let kind = change.factor;
        match change.enabled {
            Some(true) if !user.mfa.has(kind) => match kind {
                MfaFactor::Totp => return Err(MfaError::NotPossible(NO_SOFTWARE_TOKEN)),
                MfaFactor::Passkey => return Err(MfaError::NotPossible(NO_PASSKEY)),
                MfaFactor::Email => {
                    if !super::has_verified_email(user) {
                        return Err(MfaError::NotPossible(NO_VERIFIED_EMAIL));
                    }
                    user.mfa.factors.push(Factor {
                        id: email_id.to_string(),
                        kind: MfaFactor::Email,
                        name: "Email".into(),
                        created_at: now,
                        last_used_at: None,
                        data: FactorData::Email,
                    });
                }
                // As in Cognito, a verified phone number is all SMS MFA needs (the number
                // was proven by a code, or by an administrator).
                MfaFactor::Sms => {
                    if !super::has_verified_phone(user) {
                        return Err(MfaError::NotPossible(NO_VERIFIED_PHONE));
                    }
                    user.mfa.factors.push(Factor {
                        id: format!("{email_id}s"),
                        kind: MfaFactor::Sms,
                        name: "Text message".into(),
                        created_at: now,
                        last_used_at: None,
                        data: FactorData::Sms,
                    });
                }
            },
            Some(false) if user.mfa.has(kind) => {
                if kind == MfaFactor::Passkey {
                    return Err(MfaError::NotPossible(PASSKEY_NOT_DISABLED));
                }
                user.mfa.factors.retain(|f| f.kind != kind);
            }
            _ => {}
        }
        match change.preferred {
            Some(true) if !user.mfa.has(kind) => {
                return Err(MfaError::NotPossible(match kind {
                    MfaFactor::Totp => NO_SOFTWARE_TOKEN,
                    MfaFactor::Passkey => NO_PASSKEY,
                    MfaFactor::Email | MfaFactor::Sms => PREFERRED_NOT_ENABLED,
                }))
            }
            Some(true) => user.mfa.preferred = Some(kind),
            Some(false) if user.mfa.preferred == Some(kind) => user.mfa.preferred = None,
            _ => {}
        }
    }
    // Under `ON` a user who held a factor the pool allows keeps one.
    let has_allowed = user.mfa.kinds().iter().any(|k| pool.factors.allows_mfa(*k));
    if pool.mfa == MfaSetting::On && had_allowed && !has_allowed {
        return Err(MfaError::LastFactor);
    }
    if user.mfa.factors.is_empty() {
        user.mfa.recovery_codes.clear();
    }
    if user.mfa.preferred.is_some_and(|p| !user.mfa.has(p)) {
        user.mfa.preferred = None;
    }
    Ok(())
}

#[cfg(test)]
mod preference_tests {
    //! [`apply_preferences`], the rule of Cognito's SetUserMFAPreference over the stored
    //! user (the store's version-checked write is the MFA core's, tested with it).

    use super::*;
    use crate::core::model::{
        AliasAttribute, FactorSettings, FirstFactor, Origin, PasswordPolicy, UserLookup, UserStatus,
    };

    fn pool(mfa: MfaSetting, factors: Vec<MfaFactor>) -> UserPool {
        UserPool {
            id: "us-east-1_Prefs0001".into(),
            name: "customers".into(),
            origin: Origin::Api,
            username_case_sensitive: false,
            username_attributes: vec![AliasAttribute::Email],
            alias_attributes: Vec::new(),
            auto_verified_attributes: vec![AliasAttribute::Email],
            required_attributes: Vec::new(),
            custom_attributes: Vec::new(),
            password_policy: PasswordPolicy::default(),
            admin_create_user_only: false,
            mfa,
            userinfo_string_values: false,
            link_federated_users_by_email: false,
            code_limits: Default::default(),
            threat_protection: Default::default(),
            triggers: Default::default(),
            identity_providers: Vec::new(),
            saml_sp_entity_id: None,
            created_at: 1,
            updated_at: 1,
            version: 0,
            factors: FactorSettings {
                mfa: factors,
                first: vec![FirstFactor::Password],
                passkeys: Default::default(),
            },
            deletion_protection: false,
            tags: Default::default(),
        }
    }

    fn user(email_verified: bool) -> User {
        User {
            pool_id: "p".into(),
            sub: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
            username: "ann".into(),
            attributes: [
                ("email".to_string(), "ann@example.com".to_string()),
                ("email_verified".to_string(), email_verified.to_string()),
            ]
            .into(),
            status: UserStatus::Confirmed,
            enabled: true,
            password_hash: None,
            temporary_password_expires_at: None,
            identities: vec![],
            lookup: UserLookup::default(),
            mfa: Default::default(),
            srp: None,
            pending_attributes: Default::default(),
            created_at: 0,
            updated_at: 0,
            version: 0,
        }
    }

    fn change(factor: MfaFactor, enabled: Option<bool>, preferred: Option<bool>) -> MfaPreference {
        MfaPreference {
            factor,
            enabled,
            preferred,
        }
    }

    fn apply(pool: &UserPool, user: &mut User, changes: &[MfaPreference]) -> MfaResult<()> {
        apply_preferences(pool, user, changes, "email-factor", 7)
    }

    #[test]
    fn email_is_enabled_for_a_verified_address_only() {
        let pool = pool(
            MfaSetting::Optional,
            vec![MfaFactor::Totp, MfaFactor::Email],
        );
        let mut unverified = user(false);
        let e = apply(
            &pool,
            &mut unverified,
            &[change(MfaFactor::Email, Some(true), None)],
        );
        assert!(
            matches!(e, Err(MfaError::NotPossible(NO_VERIFIED_EMAIL))),
            "{e:?}"
        );
        assert!(unverified.mfa.factors.is_empty());

        let mut ann = user(true);
        apply(
            &pool,
            &mut ann,
            &[change(MfaFactor::Email, Some(true), Some(true))],
        )
        .unwrap();
        assert_eq!(ann.mfa.kinds(), vec![MfaFactor::Email]);
        assert_eq!(ann.mfa.preferred, Some(MfaFactor::Email));
        // Enabling again adds nothing; disabling removes it and the preference.
        apply(
            &pool,
            &mut ann,
            &[change(MfaFactor::Email, Some(true), None)],
        )
        .unwrap();
        assert_eq!(ann.mfa.factors.len(), 1);
        apply(
            &pool,
            &mut ann,
            &[change(MfaFactor::Email, Some(false), None)],
        )
        .unwrap();
        assert!(ann.mfa.factors.is_empty());
        assert_eq!(ann.mfa.preferred, None);
    }

    #[test]
    fn totp_needs_a_verified_app_and_the_last_factor_of_an_on_pool_stays() {
        let on = pool(MfaSetting::On, vec![MfaFactor::Totp, MfaFactor::Email]);
        let mut ann = user(true);
        let e = apply(&on, &mut ann, &[change(MfaFactor::Totp, Some(true), None)]);
        assert!(
            matches!(e, Err(MfaError::NotPossible(NO_SOFTWARE_TOKEN))),
            "{e:?}"
        );
        apply(&on, &mut ann, &[change(MfaFactor::Email, Some(true), None)]).unwrap();
        let e = apply(
            &on,
            &mut ann,
            &[change(MfaFactor::Email, Some(false), None)],
        );
        assert!(matches!(e, Err(MfaError::LastFactor)), "{e:?}");
    }

    #[test]
    fn preferring_needs_the_factor_and_passkeys_are_not_switched_off() {
        let pool = pool(
            MfaSetting::Optional,
            vec![MfaFactor::Totp, MfaFactor::Email],
        );
        let mut ann = user(true);
        let e = apply(
            &pool,
            &mut ann,
            &[change(MfaFactor::Email, None, Some(true))],
        );
        assert!(matches!(e, Err(MfaError::NotPossible(_))), "{e:?}");
        let e = apply(
            &pool,
            &mut ann,
            &[change(MfaFactor::Passkey, Some(true), None)],
        );
        assert!(matches!(e, Err(MfaError::NotPossible(NO_PASSKEY))), "{e:?}");
        // Switching off a passkey the user does not hold changes nothing.
        apply(
            &pool,
            &mut ann,
            &[change(MfaFactor::Passkey, Some(false), None)],
        )
        .unwrap();
        assert!(ann.mfa.factors.is_empty());
    }
}
