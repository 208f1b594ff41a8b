//! One-time codes over a channel ([`Channel`]): email (a second factor, an enrolment
//! proof, and a passwordless first factor, Cognito's `EMAIL_OTP`) and SMS (a second
//! factor, Cognito's `SMS_MFA`, to the verified phone number through the pool's custom SMS
//! sender, [`crate::core::delivery`]). Digits, single use, short expiry, stored hashed,
//! sent through [`crate::core::delivery::CodeSender::send_code`], under the pool's code
//! budgets (the destination's: the address, or the E.164 phone number). Owned by helper A.
//!
//! The codes are the account flows' ([`crate::core::account::codes`]): stored salted and
//! hashed in the shared store, one slot per user and purpose (the latest code sent
//! replaces the earlier one), taken once; each send and each try is reserved against the
//! pool's code budgets ([`crate::core::account::budgets`]: per client address, per
//! destination, per pair) before the work. Tries are also counted per account by the
//! second-factor throttle (five wrong codes lock), passwordless sign-in codes under their
//! own count.

use std::net::IpAddr;

use super::{Enrolled, Mfa, MfaError, MfaResult, Verified};
use crate::core::account::budgets::Spend;
use crate::core::account::{mask_email, AccountError, AccountService, CodeDelivery};
use crate::core::delivery::{normalize_phone, Destination, MessageSource};
use crate::core::mail::CodePurpose;
use crate::core::model::{Factor, FactorData, FirstFactor, MfaFactor, User, UserPool, UserStatus};
use crate::core::secrets::{random_bytes, random_token};
use crate::core::throttle::{login_key, MfaScope};
use crate::core::triggers::events::user_attributes;
use crate::core::triggers::{CodeMessage, TriggerCaller};
use crate::core::UnixTime;

/// How long an emailed sign-in or MFA code is valid (Cognito: 3 minutes for EMAIL_OTP;
/// the hosted UI gives a person more).
pub const EMAIL_CODE_SECS: i64 = 300;
/// Digits in an emailed code (Cognito's EMAIL_OTP codes have 8; 6 to 8 allowed).
pub const EMAIL_CODE_DIGITS: usize = 8;
/// Digits in a texted code (Cognito's SMS_MFA codes have 6).
pub const SMS_CODE_DIGITS: usize = 6;
/// How long a texted MFA code is valid (Cognito: 3 minutes; a person needs the phone).
pub const SMS_CODE_SECS: i64 = 300;
/// The ephemeral-store kind of emailed MFA and sign-in codes.
const CODE_KIND: &str = "mfa_email_code";
/// The ephemeral-store kind of texted MFA codes.
const SMS_CODE_KIND: &str = "mfa_sms_code";

/// The channel a second factor's one-time code goes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// The verified `email` address (`EMAIL`, Cognito's `EMAIL_OTP`).
    Email,
    /// The verified `phone_number`, through the custom SMS sender (`SMS`, `SMS_MFA`).
    Sms,
}

impl Channel {
    /// The channel of a code factor (`None` for TOTP and passkeys).
    pub fn of(factor: MfaFactor) -> Option<Channel> {
        match factor {
            MfaFactor::Email => Some(Channel::Email),
            MfaFactor::Sms => Some(Channel::Sms),
            MfaFactor::Totp | MfaFactor::Passkey => None,
        }
    }

    pub fn factor(self) -> MfaFactor {
        match self {
            Channel::Email => MfaFactor::Email,
            Channel::Sms => MfaFactor::Sms,
        }
    }

    fn kind(self) -> &'static str {
        match self {
            Channel::Email => CODE_KIND,
            Channel::Sms => SMS_CODE_KIND,
        }
    }

    fn digits(self) -> usize {
        match self {
            Channel::Email => EMAIL_CODE_DIGITS,
            Channel::Sms => SMS_CODE_DIGITS,
        }
    }

    fn lifetime(self) -> i64 {
        match self {
            Channel::Email => EMAIL_CODE_SECS,
            Channel::Sms => SMS_CODE_SECS,
        }
    }

    /// The user's verified destination on this channel: the address, or the phone
    /// number normalized (E.164, the key of its send and try budgets).
    fn destination(self, user: &User) -> Option<Destination> {
        match self {
            Channel::Email => verified_email(user).map(|e| Destination::Email(e.to_string())),
            Channel::Sms => user
                .attribute("phone_number")
                .filter(|_| super::has_verified_phone(user))
                .map(|p| Destination::Phone(normalize_phone(p))),
        }
    }

    /// The refusal for a user without [`Channel::destination`].
    pub fn missing(self) -> &'static str {
        match self {
            Channel::Email => "The user has no verified email address",
            Channel::Sms => super::manage::NO_VERIFIED_PHONE,
        }
    }

    fn delivery(self, to: &Destination) -> CodeDelivery {
        match self {
            Channel::Email => delivery(to.address()),
            Channel::Sms => CodeDelivery::phone(to.address()),
        }
    }
}

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

impl EmailCodePurpose {
    fn slot(self) -> &'static str {
        match self {
            EmailCodePurpose::SecondFactor => "mfa",
            EmailCodePurpose::Enrol => "enrol",
            EmailCodePurpose::SignIn => "signin",
        }
    }

    fn mail(self) -> CodePurpose {
        match self {
            EmailCodePurpose::SecondFactor => CodePurpose::MfaCode,
            EmailCodePurpose::Enrol => CodePurpose::MfaEnrol,
            EmailCodePurpose::SignIn => CodePurpose::SignIn,
        }
    }

    fn scope(self) -> MfaScope {
        match self {
            EmailCodePurpose::SignIn => MfaScope::SignIn,
            _ => MfaScope::SecondFactor,
        }
    }
}

/// A uniformly random code of [`EMAIL_CODE_DIGITS`] digits.
pub fn generate_email_code() -> String {
    generate_code(EMAIL_CODE_DIGITS)
}

/// A uniformly random code of `digits` digits (at most 9; four random bytes drawn again
/// when they fall in the incomplete last block, so every code is equally likely).
pub fn generate_code(digits: usize) -> String {
    let digits = digits.clamp(1, 9);
    let range: u32 = 10u32.pow(digits as u32);
    let zone: u32 = u32::MAX - (u32::MAX % range);
    loop {
        let value = u32::from_le_bytes(random_bytes::<4>());
        if value < zone {
            return format!("{:0digits$}", value % range);
        }
    }
}

/// The slot of a user's code for `purpose`.
fn slot_id(pool: &UserPool, sub: &str, purpose: EmailCodePurpose) -> String {
    format!("{}:{sub}:{}", pool.id, purpose.slot())
}

/// The slot of a simulated sign-in code for a login that names no eligible account.
fn unknown_slot_id(pool: &UserPool, key: &str) -> String {
    format!("{}:login:{key}", pool.id)
}

/// A typed code without spaces, if it could be a code of `len` digits at all.
fn typed_code(code: &str, len: usize) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == len && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The user's verified email address.
fn verified_email(user: &User) -> Option<&str> {
    user.attribute("email")
        .filter(|_| super::has_verified_email(user))
}

/// Who may sign in with an emailed code alone: confirmed, enabled, local, with a verified
/// email address.
fn can_sign_in_by_email(user: &User) -> bool {
    user.enabled && user.status == UserStatus::Confirmed && verified_email(user).is_some()
}

impl From<AccountError> for MfaError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::CodeMismatch => MfaError::CodeMismatch,
            AccountError::ExpiredCode => MfaError::Expired,
            AccountError::LimitExceeded => MfaError::LimitExceeded,
            AccountError::UserNotFound => MfaError::NotFound,
            AccountError::CodeDeliveryFailure(_) => MfaError::Delivery,
            e => MfaError::Internal(e.to_string()),
        }
    }
}

impl Mfa {
    fn accounts(&self) -> AccountService {
        AccountService::new(self.directory.clone(), self.mail.clone())
    }

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
        self.send_factor_code(Channel::Email, pool, user, purpose, lang, address, now)
            .await
    }

    /// Checks an emailed code (see [`Mfa::verify_factor_code`]).
    pub async fn verify_email_code(
        &self,
        pool: &UserPool,
        sub: &str,
        purpose: EmailCodePurpose,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Verified> {
        self.verify_factor_code(Channel::Email, pool, sub, purpose, code, address, now)
            .await
    }

    /// Sends a code for `purpose` over `channel` to the user's verified destination:
    /// the destination's send budget is reserved first (a phone number normalized), the
    /// code drawn and stored hashed (replacing the slot's earlier one), then sent through
    /// the pool's [`crate::core::delivery::CodeSender`] (`_Authentication`; an email
    /// enrolment proves the address as attribute verification does). SMS is a second
    /// factor only (enabled with a verified number, as in Cognito: no enrolment code).
    #[allow(clippy::too_many_arguments)]
    pub async fn send_factor_code(
        &self,
        channel: Channel,
        pool: &UserPool,
        user: &User,
        purpose: EmailCodePurpose,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<CodeDelivery> {
        let allowed = match purpose {
            EmailCodePurpose::SecondFactor => pool.factors.allows_mfa(channel.factor()),
            EmailCodePurpose::Enrol => {
                channel == Channel::Email && pool.factors.allows_mfa(MfaFactor::Email)
            }
            EmailCodePurpose::SignIn => {
                channel == Channel::Email && pool.factors.allows_first(FirstFactor::EmailOtp)
            }
        };
        if !allowed {
            return Err(MfaError::FactorNotAllowed);
        }
        if purpose == EmailCodePurpose::SecondFactor && !user.mfa.has(channel.factor()) {
            return Err(MfaError::NotFound);
        }
        self.deliver_factor_code(channel, pool, user, purpose, lang, address, now)
            .await
    }

    /// A second-factor code the sign-in itself asked for (threat protection's `mfa`
    /// response, recorded in the sign-in's session as its `risk_factors`): by email to
    /// the user's verified address even without the email factor enrolled. Only callers
    /// holding such a session call this.
    #[allow(clippy::too_many_arguments)]
    pub async fn send_asked_code(
        &self,
        channel: Channel,
        pool: &UserPool,
        user: &User,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<CodeDelivery> {
        let purpose = EmailCodePurpose::SecondFactor;
        if !pool.factors.allows_mfa(channel.factor()) {
            return Err(MfaError::FactorNotAllowed);
        }
        let asked = user.mfa.has(channel.factor())
            || (channel == Channel::Email && super::has_verified_email(user));
        if !asked {
            return Err(MfaError::NotFound);
        }
        self.deliver_factor_code(channel, pool, user, purpose, lang, address, now)
            .await
    }

    /// Draws, stores and sends a code (the checks are the callers').
    #[allow(clippy::too_many_arguments)]
    async fn deliver_factor_code(
        &self,
        channel: Channel,
        pool: &UserPool,
        user: &User,
        purpose: EmailCodePurpose,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<CodeDelivery> {
        let to = channel
            .destination(user)
            .ok_or(MfaError::NotPossible(channel.missing()))?;
        let accounts = self.accounts();
        accounts
            .reserve(pool, Spend::Send, to.address(), address, now)
            .await?;
        let code = generate_code(channel.digits());
        let id = slot_id(pool, &user.sub, purpose);
        accounts
            .issue_code(
                channel.kind(),
                &id,
                &code,
                Some(to.address()),
                channel.lifetime(),
                now,
            )
            .await?;
        let source = match purpose {
            EmailCodePurpose::Enrol => MessageSource::VerifyUserAttribute,
            EmailCodePurpose::SecondFactor | EmailCodePurpose::SignIn => {
                MessageSource::Authentication
            }
        };
        let message = CodeMessage {
            source,
            user_name: user.username.clone(),
            user_attributes: user_attributes(user),
            code,
            caller: TriggerCaller::default(),
        };
        if let Err(e) = accounts
            .sender()
            .send_code(pool, &to, &message, purpose.mail(), lang)
            .await
        {
            tracing::warn!(error = %e, channel = ?channel, "a one-time code was not sent");
            let _ = self.store().delete_ephemeral(channel.kind(), &id).await;
            return Err(MfaError::Delivery);
        }
        Ok(channel.delivery(&to))
    }

    /// Checks a code sent over `channel` (single use; wrong codes counted by the
    /// throttle: the try is reserved per account, then against the code budgets of the
    /// destination, before the comparison). A second factor's success marks it used.
    #[allow(clippy::too_many_arguments)]
    pub async fn verify_factor_code(
        &self,
        channel: Channel,
        pool: &UserPool,
        sub: &str,
        purpose: EmailCodePurpose,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Verified> {
        let code = typed_code(code, channel.digits()).ok_or(MfaError::CodeMismatch)?;
        let scope = purpose.scope();
        self.reserve_code(scope, pool, sub, now).await?;
        let user = self.user_by_sub(pool, sub).await?;
        let unsent = channel
            .destination(&user)
            .map_or_else(|| sub.to_string(), |d| d.address().to_string());
        self.accounts()
            .check_code(
                pool,
                (channel.kind(), &slot_id(pool, sub, purpose)),
                &code,
                &unsent,
                address,
                now,
            )
            .await?;
        self.code_success(scope, pool, sub).await;
        let factor = channel.factor();
        let user = if purpose == EmailCodePurpose::SecondFactor {
            self.update_user(pool, sub, now, |user| {
                for f in &mut user.mfa.factors {
                    if f.kind == factor {
                        f.last_used_at = Some(now);
                    }
                }
                Ok(())
            })
            .await?
            .0
        } else {
            user
        };
        Ok(Verified {
            user,
            amr: factor.amr(),
            recovery_codes_left: None,
        })
    }

    /// Enrols email as a factor with a code sent for [`EmailCodePurpose::Enrol`]
    /// (recorded in the auth event log, `MfaChange`).
    pub async fn confirm_email_factor(
        &self,
        pool: &UserPool,
        sub: &str,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let result = self
            .confirm_email_factor_unrecorded(pool, sub, code, address, now)
            .await;
        let context = crate::core::threat::EventContext::new(None, Some(address), None);
        let details = [("factor", "email"), ("change", "enrol")];
        self.record_change(pool, sub, &context, &result, &details, now)
            .await;
        result
    }

    async fn confirm_email_factor_unrecorded(
        &self,
        pool: &UserPool,
        sub: &str,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        if !pool.factors.allows_mfa(MfaFactor::Email) {
            return Err(MfaError::FactorNotAllowed);
        }
        let verified = self
            .verify_email_code(pool, sub, EmailCodePurpose::Enrol, code, address, now)
            .await?;
        if let Some(existing) = verified
            .user
            .mfa
            .factors
            .iter()
            .find(|f| f.kind == MfaFactor::Email)
        {
            return Ok(Enrolled {
                factor_id: existing.id.clone(),
                user: verified.user.clone(),
                recovery_codes: None,
            });
        }
        let factor = Factor {
            id: random_token::<12>(),
            kind: MfaFactor::Email,
            name: "Email".into(),
            created_at: now,
            last_used_at: Some(now),
            data: FactorData::Email,
        };
        self.enrol(pool, sub, factor, now).await
    }

    /// Passwordless sign-in, step 1: mails a sign-in code to the account `login` names if
    /// it exists, is confirmed and enabled and has a verified email; answers the same
    /// (a masked destination or none) whoever exists, so it reveals no account.
    ///
    /// Every request takes a send from the client address's and the destination's
    /// budgets (the typed login's, for an unknown one); an unknown login gets a simulated
    /// code no input matches, so step 2 answers alike; the mail goes out in the
    /// background, so a real request takes as long as a simulated one.
    pub async fn send_sign_in_code(
        &self,
        pool: &UserPool,
        login: &str,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<()> {
        if !pool.factors.allows_first(FirstFactor::EmailOtp) {
            return Err(MfaError::FactorNotAllowed);
        }
        let login = login.trim();
        let target = self
            .directory
            .find_user(pool, login)
            .await?
            .filter(can_sign_in_by_email);
        let typed_key = login_key(pool, login);
        let destination = target
            .as_ref()
            .and_then(verified_email)
            .unwrap_or(&typed_key)
            .to_string();
        let accounts = self.accounts();
        accounts
            .reserve(pool, Spend::Send, &destination, address, now)
            .await?;
        let Some(user) = target else {
            accounts
                .ensure_simulated_code(
                    CODE_KIND,
                    &unknown_slot_id(pool, &typed_key),
                    EMAIL_CODE_SECS,
                    now,
                )
                .await?;
            return Ok(());
        };
        let code = generate_email_code();
        let id = slot_id(pool, &user.sub, EmailCodePurpose::SignIn);
        accounts
            .issue_code(
                CODE_KIND,
                &id,
                &code,
                Some(&destination),
                EMAIL_CODE_SECS,
                now,
            )
            .await?;
        let message = CodeMessage {
            source: MessageSource::Authentication,
            user_name: user.username.clone(),
            user_attributes: user_attributes(&user),
            code,
            caller: TriggerCaller::default(),
        };
        let sender = accounts.sender();
        let pool = pool.clone();
        let lang = lang.to_string();
        tokio::spawn(async move {
            let to = Destination::Email(destination);
            if let Err(e) = sender
                .send_code(&pool, &to, &message, CodePurpose::SignIn, &lang)
                .await
            {
                tracing::warn!(error = %e, "a sign-in code was not sent");
            }
        });
        Ok(())
    }

    /// Passwordless sign-in, step 2: the code for `login`; the user on success (the
    /// caller then applies [`super::requirement`] minus email). Tries are counted per
    /// account (five wrong codes lock passwordless sign-in, not the second factor) and
    /// against the code budgets per client address and destination; an unknown login is
    /// answered exactly as a known one with a wrong code.
    pub async fn verify_sign_in_code(
        &self,
        pool: &UserPool,
        login: &str,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<User> {
        if !pool.factors.allows_first(FirstFactor::EmailOtp) {
            return Err(MfaError::FactorNotAllowed);
        }
        let code = typed_code(code, EMAIL_CODE_DIGITS).ok_or(MfaError::CodeMismatch)?;
        let login = login.trim();
        let target = self
            .directory
            .find_user(pool, login)
            .await?
            .filter(can_sign_in_by_email);
        let typed_key = login_key(pool, login);
        let (key, id) = match &target {
            Some(user) => (
                user.sub.clone(),
                slot_id(pool, &user.sub, EmailCodePurpose::SignIn),
            ),
            None => (typed_key.clone(), unknown_slot_id(pool, &typed_key)),
        };
        self.reserve_code(MfaScope::SignIn, pool, &key, now).await?;
        self.accounts()
            .check_code(pool, (CODE_KIND, &id), &code, &typed_key, address, now)
            .await?;
        let user = target.ok_or(MfaError::CodeMismatch)?;
        self.code_success(MfaScope::SignIn, pool, &key).await;
        // The user as stored now (the code may have waited a while): still one who may
        // sign in this way (not disabled, address still verified).
        let user = self.user_by_sub(pool, &user.sub).await?;
        if !can_sign_in_by_email(&user) {
            return Err(MfaError::CodeMismatch);
        }
        Ok(user)
    }
}

fn delivery(email: &str) -> CodeDelivery {
    CodeDelivery {
        medium: "EMAIL",
        attribute_name: "email",
        destination: mask_email(email),
    }
}
