//! A signed-in user's own attributes (Cognito's UpdateUserAttributes,
//! DeleteUserAttributes, GetUserAttributeVerificationCode and VerifyUserAttribute), and
//! which attributes an app client may write ([`check_client_writes`]).
//!
//! Cognito's `AttributesRequireVerificationBeforeUpdate`, always on here: a change of a
//! VERIFIED email is kept in [`User::pending_attributes`] and a code is mailed to the new
//! address; the attribute keeps its old, verified value (so it stays the sign-in alias and
//! the recovery address) until the code comes back through
//! [`AccountService::verify_attribute`]. The old address is told: a notice naming the new
//! address (masked) is mailed to the old verified address when the change is requested
//! and again when it is applied, so the holder of a stolen access token who proves an
//! address of theirs cannot take the account's recovery unseen. When the change is
//! applied the EMAIL second factor is removed: its codes follow the `email` attribute, and
//! the factor was enrolled by proving the OLD mailbox, so it must not pass silently to the
//! new one (the user enrols it again; under a pool's MFA `ON`, the next sign-in asks for a
//! factor to be set up). An unverified or absent email changes at once, with
//! `email_verified=false`, and a code is mailed to it.
//!
//! A user cannot remove an attribute the pool requires (Cognito's
//! InvalidParameterException), by DeleteUserAttributes or by writing an empty value.
//!
//! Phone numbers are verified by a code sent by SMS, which Cognate sends only through the
//! pool's custom SMS sender webhook ([`crate::core::delivery`]); in a pool without one,
//! verifying `phone_number` is refused, saying why. An unverified phone number changes at
//! once (`phone_number_verified=false`, and with SMS a code goes to the new number,
//! unless the same change also sends an email code: one attribute code is live at a
//! time); a VERIFIED one cannot be changed nor deleted by its user (an administrator can).
//!
//! Attribute codes are the account service's 6-digit codes (kind [`ATTRIBUTE_CODE_KIND`],
//! id `<pool>:<sub>`, valid 24 hours as Cognito's, stored hashed, single use, mailed
//! through the pool's mailer). Every code mailed takes a send, and every code tried a try,
//! from the budgets of the client address and of the destination address
//! ([`super::budgets`]) before the work; a wrong code never destroys the right one.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::budgets::Spend;
use super::codes::code_id;
use super::{mask_email, AccountError, AccountResult, AccountService, CodeDelivery};
use crate::core::attributes::validate_attribute;
use crate::core::directory::{normalize_email, DirectoryError};
use crate::core::mfa::has_verified_email;
use crate::core::mfa::manage::user_lang;
use crate::core::model::{AppClient, MfaFactor, User, UserPool};
use crate::core::storage::UserRef;
use crate::core::UnixTime;

/// Ephemeral-store kind of attribute verification codes.
pub const ATTRIBUTE_CODE_KIND: &str = "attribute_code";

/// Cognito's words when a client writes an attribute outside its `WriteAttributes`.
pub const UNAUTHORIZED_ATTRIBUTE: &str = "A client attempted to write unauthorized attribute";

use crate::core::delivery::{
    normalize_phone, sms_available, Destination, MessageSource, NO_SMS_SENDER,
};
use crate::core::triggers::TriggerCaller;

/// Refuses removing (an empty value) an attribute the pool requires: Cognito answers
/// InvalidParameterException naming it.
fn check_not_required(pool: &UserPool, name: &str) -> AccountResult<()> {
    if pool.required_attributes.iter().any(|r| r == name) {
        return Err(AccountError::param(
            name,
            "is required by this user pool and cannot be removed",
        ));
    }
    Ok(())
}

/// Removes the EMAIL second factor, as [`crate::core::mfa::Mfa::remove_factor`] would
/// (the recovery codes go with the last factor; a preference for it is dropped), but
/// without the pool's `ON` rule: the address it proved is gone.
fn drop_email_factor(u: &mut User) {
    let mfa = &mut u.mfa;
    mfa.factors.retain(|f| f.kind != MfaFactor::Email);
    if mfa.factors.is_empty() {
        mfa.recovery_codes.clear();
    }
    if mfa.preferred.is_some_and(|p| !mfa.has(p)) {
        mfa.preferred = None;
    }
}

/// Refuses attributes the caller may not write: `sub` (assigned), the verification flags
/// (only a code sets them), and, for a client with `write_attributes`, any attribute not
/// among them (Cognito: NotAuthorizedException "A client attempted to write unauthorized
/// attribute"; an empty list means every mutable attribute).
pub fn check_client_writes<'a>(
    client: &AppClient,
    names: impl IntoIterator<Item = &'a String>,
) -> AccountResult<()> {
    for name in names {
        match name.as_str() {
            "sub" => return Err(AccountError::param(name, "is assigned and cannot be set")),
            "email_verified" | "phone_number_verified" => {
                return Err(AccountError::param(
                    name,
                    "is set by verifying a code, not by the user",
                ))
            }
            _ => {}
        }
        if !client.write_attributes.is_empty() && !client.write_attributes.contains(name) {
            return Err(AccountError::NotAuthorized(UNAUTHORIZED_ATTRIBUTE.into()));
        }
    }
    Ok(())
}

/// What UpdateUserAttributes did: the user as stored, and where codes went (Cognito's
/// `CodeDeliveryDetailsList`).
#[derive(Debug, Clone)]
pub struct AttributeUpdate {
    pub user: User,
    pub deliveries: Vec<CodeDelivery>,
}

fn is_verified(user: &User, flag: &str) -> bool {
    user.attribute(flag) == Some("true")
}

fn same_email(a: &str, b: &str) -> bool {
    normalize_email(a) == normalize_email(b)
}

/// The attribute a code can verify: `email`, and `phone_number` in a pool that can send
/// SMS (see the module doc).
fn verifiable(pool: &UserPool, name: &str) -> AccountResult<()> {
    match name {
        "email" => Ok(()),
        "phone_number" if sms_available(pool) => Ok(()),
        "phone_number" => Err(AccountError::param("AttributeName", NO_SMS_SENDER)),
        _ => Err(AccountError::param(
            "AttributeName",
            "only email and phone_number can be verified",
        )),
    }
}

impl AccountService {
    async fn user_by_sub(&self, pool: &UserPool, sub: &str) -> AccountResult<User> {
        self.store()
            .get_user(&pool.id, &UserRef::Sub(sub.to_string()))
            .await?
            .ok_or(AccountError::UserNotFound)
    }

    /// Mails `notice` (`email_change_requested`, `email_changed`) to `old`'s verified
    /// address, naming `new_address` masked. A failure is logged: the notice never blocks
    /// the change it reports (as the MFA notices).
    async fn notify_old_email(&self, pool: &UserPool, old: &User, notice: &str, new_address: &str) {
        if !has_verified_email(old) {
            return;
        }
        let Some(to) = old.attribute("email") else {
            return;
        };
        let mail =
            self.mail
                .address_notice_mail(notice, &mask_email(new_address), to, user_lang(old));
        if let Err(e) = self.mail.for_user_pool(pool).send(&mail).await {
            tracing::warn!(error = %e, notice, "a notice mail was not sent");
        }
    }

    /// UpdateUserAttributes for the signed-in user `sub` through `client`: the client's
    /// write rules ([`check_client_writes`]), then the directory's (schema, immutable and
    /// required attributes, aliases), with email and phone number handled as the module
    /// doc says. The send of a code is reserved before anything is written; a code that
    /// cannot be mailed is `CodeDeliveryFailure` after the change (request another with
    /// GetUserAttributeVerificationCode).
    #[allow(clippy::too_many_arguments)]
    pub async fn update_own_attributes(
        &self,
        pool: &UserPool,
        client: &AppClient,
        sub: &str,
        changes: &BTreeMap<String, String>,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> AccountResult<AttributeUpdate> {
        check_client_writes(client, changes.keys())?;
        let user = self.user_by_sub(pool, sub).await?;
        let mut immediate = BTreeMap::new();
        // Some(Some(v)): keep v pending; Some(None): drop the pending email.
        let mut pending: Option<Option<String>> = None;
        let mut code_to = None;
        let mut sms_to = None;
        for (name, value) in changes {
            if value.is_empty() {
                check_not_required(pool, name)?;
            }
            match name.as_str() {
                "email" if value.is_empty() => {
                    immediate.insert("email".to_string(), String::new());
                    immediate.insert("email_verified".to_string(), String::new());
                    pending = Some(None);
                }
                "email" => {
                    validate_attribute(pool, name, value)
                        .map_err(|e| AccountError::param(&e.name, e.reason))?;
                    if user.attribute("email") == Some(value.as_str()) {
                        // Back to the current address: a pending change is dropped.
                        pending = Some(None);
                    } else if is_verified(&user, "email_verified") {
                        pending = Some(Some(value.clone()));
                        code_to = Some(value.clone());
                    } else {
                        immediate.insert("email".to_string(), value.clone());
                        immediate.insert("email_verified".to_string(), "false".to_string());
                        pending = Some(None);
                        code_to = Some(value.clone());
                    }
                }
                "phone_number" => {
                    if user.attribute("phone_number") == Some(value.as_str()) {
                        continue;
                    }
                    if is_verified(&user, "phone_number_verified") {
                        return Err(AccountError::param(
                            "phone_number",
                            "a verified phone number cannot be changed by its user; an \
                             administrator can change it",
                        ));
                    }
                    immediate.insert(name.clone(), value.clone());
                    let flag = if value.is_empty() { "" } else { "false" };
                    immediate.insert("phone_number_verified".to_string(), flag.to_string());
                    if !value.is_empty() && sms_available(pool) {
                        validate_attribute(pool, name, value)
                            .map_err(|e| AccountError::param(&e.name, e.reason))?;
                        sms_to = Some(normalize_phone(value));
                    }
                }
                _ => {
                    immediate.insert(name.clone(), value.clone());
                }
            }
        }
        // One attribute code is live at a time: the email's when both changed.
        let code_to = match (code_to, sms_to) {
            (Some(email), _) => Some(Destination::Email(email)),
            (None, Some(phone)) => Some(Destination::Phone(phone)),
            (None, None) => None,
        };
        if let Some(to) = &code_to {
            self.reserve(pool, Spend::Send, to.address(), address, now)
                .await?;
        }
        let mut user = user;
        if !immediate.is_empty() {
            user = self
                .directory
                .update_attributes(pool, sub, &immediate, now)
                .await
                .map_err(alias_conflict)?;
        }
        if let Some(pending) = &pending {
            if user.pending_attributes.get("email") != pending.as_ref() {
                user = self
                    .directory
                    .modify_user(pool, sub, |u| {
                        match &pending {
                            Some(email) => u
                                .pending_attributes
                                .insert("email".to_string(), email.clone()),
                            None => u.pending_attributes.remove("email"),
                        };
                        u.updated_at = now;
                        Ok(())
                    })
                    .await?;
            }
        }
        if let Some(Some(new)) = &pending {
            self.notify_old_email(pool, &user, "email_change_requested", new)
                .await;
        }
        let mut deliveries = Vec::new();
        if let Some(to) = code_to {
            self.mail_code(
                pool,
                ATTRIBUTE_CODE_KIND,
                &code_id(pool, sub),
                &user,
                &to,
                MessageSource::UpdateUserAttribute,
                lang,
                &TriggerCaller::client(&client.id),
                now,
            )
            .await?;
            deliveries.push(super::delivered_to(&to));
        }
        Ok(AttributeUpdate { user, deliveries })
    }

    /// DeleteUserAttributes for the signed-in user `sub`: the client's write rules, then
    /// the directory's (an immutable attribute stays); an attribute the pool requires and a
    /// verified phone number are refused (see the module doc). Deleting `email` (or
    /// `phone_number`) deletes its verification flag, and a pending email change with it.
    pub async fn delete_own_attributes(
        &self,
        pool: &UserPool,
        client: &AppClient,
        sub: &str,
        names: &[String],
        now: UnixTime,
    ) -> AccountResult<User> {
        check_client_writes(client, names)?;
        for name in names {
            check_not_required(pool, name)?;
        }
        if names.iter().any(|n| n == "phone_number") {
            let user = self.user_by_sub(pool, sub).await?;
            if is_verified(&user, "phone_number_verified") {
                return Err(AccountError::param(
                    "phone_number",
                    "a verified phone number cannot be deleted by its user; an administrator can delete it",
                ));
            }
        }
        let mut changes: BTreeMap<String, String> = BTreeMap::new();
        for name in names {
            changes.insert(name.clone(), String::new());
            match name.as_str() {
                "email" => changes.insert("email_verified".into(), String::new()),
                "phone_number" => changes.insert("phone_number_verified".into(), String::new()),
                _ => None,
            };
        }
        let user = self
            .directory
            .update_attributes(pool, sub, &changes, now)
            .await?;
        if changes.contains_key("email") && user.pending_attributes.contains_key("email") {
            return Ok(self
                .directory
                .modify_user(pool, sub, |u| {
                    u.pending_attributes.remove("email");
                    Ok(())
                })
                .await?);
        }
        Ok(user)
    }

    /// GetUserAttributeVerificationCode: mails a code to the pending email, or else to the
    /// current one (verified or not, as Cognito does), after reserving a send from the
    /// client address's and the destination's budgets. The new code replaces any earlier.
    pub async fn send_attribute_code(
        &self,
        pool: &UserPool,
        sub: &str,
        name: &str,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> AccountResult<CodeDelivery> {
        verifiable(pool, name)?;
        let user = self.user_by_sub(pool, sub).await?;
        let to = if name == "phone_number" {
            let phone = user.attribute("phone_number").ok_or_else(|| {
                AccountError::param("AttributeName", "the user has no phone_number")
            })?;
            Destination::Phone(normalize_phone(phone))
        } else {
            let email = user
                .pending_attributes
                .get("email")
                .map(String::as_str)
                .or(user.attribute("email"))
                .ok_or_else(|| AccountError::param("AttributeName", "the user has no email"))?;
            Destination::Email(email.to_string())
        };
        self.reserve(pool, Spend::Send, to.address(), address, now)
            .await?;
        self.mail_code(
            pool,
            ATTRIBUTE_CODE_KIND,
            &code_id(pool, sub),
            &user,
            &to,
            MessageSource::VerifyUserAttribute,
            lang,
            &TriggerCaller::default(),
            now,
        )
        .await?;
        Ok(super::delivered_to(&to))
    }

    /// VerifyUserAttribute: the code mailed for `email` (the try reserved first). The
    /// address the code went to becomes the verified email: a pending change is applied
    /// (the sign-in alias follows, the EMAIL second factor is removed and the old verified
    /// address is told, see the module doc), or the current address is marked verified. A code
    /// sent to an address the user no longer has or awaits is `ExpiredCode`; an address
    /// that is now another user's verified alias is `AliasExists`, and the email stays
    /// as it was.
    ///
    /// The outcome is recorded in the auth event log (`Confirmation`, with the attribute).
    #[allow(clippy::too_many_arguments)]
    pub async fn verify_attribute(
        &self,
        pool: &UserPool,
        sub: &str,
        name: &str,
        code: &str,
        address: IpAddr,
        context: &crate::core::threat::EventContext,
        now: UnixTime,
    ) -> AccountResult<User> {
        let result = self
            .verify_attribute_unrecorded(pool, sub, name, code, address, now)
            .await;
        self.record(
            pool,
            crate::core::model::AuthEventKind::Confirmation,
            crate::core::threat::Subject::Sub(sub),
            context,
            &result,
            super::events::itself,
            &[("what", "attribute"), ("attribute", name)],
            now,
        )
        .await;
        result
    }

    async fn verify_attribute_unrecorded(
        &self,
        pool: &UserPool,
        sub: &str,
        name: &str,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> AccountResult<User> {
        verifiable(pool, name)?;
        let id = code_id(pool, sub);
        // Every stored attribute code names its destination; `unsent` is never used.
        let stored = self
            .check_code(pool, (ATTRIBUTE_CODE_KIND, &id), code, &id, address, now)
            .await?;
        let Some(destination) = stored.destination else {
            return Err(AccountError::ExpiredCode);
        };
        if name == "phone_number" {
            return self.verify_phone(pool, sub, &destination, now).await;
        }
        // Set by the last run of the change (modify_user may retry it).
        let stale = AtomicBool::new(false);
        // The user as it was before an applied change (to tell its old address).
        let replaced: Mutex<Option<User>> = Mutex::new(None);
        let verified = self
            .directory
            .modify_user(pool, sub, |u| {
                stale.store(false, Ordering::Relaxed);
                let mut old = None;
                let pending = u.pending_attributes.get("email").cloned();
                if pending
                    .as_deref()
                    .is_some_and(|p| same_email(p, &destination))
                {
                    old = Some(u.clone());
                    u.pending_attributes.remove("email");
                    u.attributes.insert("email".into(), destination.clone());
                    drop_email_factor(u);
                } else if !u
                    .attribute("email")
                    .is_some_and(|e| same_email(e, &destination))
                {
                    stale.store(true, Ordering::Relaxed);
                    return Ok(());
                }
                u.attributes.insert("email_verified".into(), "true".into());
                u.updated_at = now;
                if let Ok(mut r) = replaced.lock() {
                    *r = old;
                }
                Ok(())
            })
            .await
            .map_err(alias_conflict)?;
        if stale.load(Ordering::Relaxed) {
            return Err(AccountError::ExpiredCode);
        }
        let old = replaced.lock().ok().and_then(|mut r| r.take());
        if let Some(old) = old {
            self.notify_old_email(pool, &old, "email_changed", &destination)
                .await;
        }
        Ok(verified)
    }
}

impl AccountService {
    /// VerifyUserAttribute for `phone_number`, the code checked: the number the code went
    /// to becomes verified if it is still the user's (else `ExpiredCode`); a number that
    /// is another user's verified alias is `AliasExists`.
    async fn verify_phone(
        &self,
        pool: &UserPool,
        sub: &str,
        destination: &str,
        now: UnixTime,
    ) -> AccountResult<User> {
        let stale = AtomicBool::new(false);
        let verified = self
            .directory
            .modify_user(pool, sub, |u| {
                let current = u.attribute("phone_number").map(normalize_phone);
                let same = current.as_deref() == Some(normalize_phone(destination).as_str());
                stale.store(!same, Ordering::Relaxed);
                if same {
                    u.attributes
                        .insert("phone_number_verified".into(), "true".into());
                    u.updated_at = now;
                }
                Ok(())
            })
            .await
            .map_err(alias_conflict)?;
        if stale.load(Ordering::Relaxed) {
            return Err(AccountError::ExpiredCode);
        }
        Ok(verified)
    }
}

/// A verified address (or other alias) already held by another user: Cognito's
/// AliasExistsException.
fn alias_conflict(e: DirectoryError) -> AccountError {
    match e {
        DirectoryError::Conflict(_) => AccountError::AliasExists,
        e => e.into(),
    }
}

#[cfg(test)]
mod tests;
