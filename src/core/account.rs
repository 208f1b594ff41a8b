//! Self-service account flows, as Cognito's public API has them: SignUp, ConfirmSignUp,
//! ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword, and the new password a
//! FORCE_CHANGE_PASSWORD user chooses after signing in (the NEW_PASSWORD_REQUIRED
//! challenge).
//!
//! Codes are 6 random digits, drawn uniformly, mailed through the pool's
//! [`Mailer`](super::mail::Mailer), and stored only as a salted hash in the shared
//! ephemeral store (any node can check them; see [`codes`]):
//! - kind [`SIGNUP_CODE_KIND`], id `<pool>:<sub>`, valid 24 hours (Cognito's validity);
//! - kind [`RESET_CODE_KIND`], id `<pool>:<sub>`, valid 1 hour (Cognito's validity).
//!
//! Every code mailed and every code tried is first reserved against the pool's code
//! budgets ([`budgets`]: per client address, per destination address across accounts,
//! and per pair of both), so guesses spread over many accounts carrying one address, or
//! over many nodes, stay bounded, and an attacker's requests and guesses cost the
//! attacker rather than the owner: a wrong code never destroys the owner's code. The
//! caller passes the client address it trusts (the hosted pages: the peer, or the
//! forwarded address from a trusted proxy).
//!
//! A signed-in user's own account (the user pools API's access-token actions) is served
//! here too: their attributes and the verification of a changed email ([`attributes`]),
//! the password change, deleting the account and signing out everywhere ([`own`]).
//!
//! Confirmation, resend and password recovery never reveal whether an account exists or
//! is confirmed (Cognito's PreventUserExistenceErrors, always on): unknown, unconfirmed
//! and confirmed users get the same answers, tries and limits ([`decoys`]).
//!
//! Codes go out through [`sending`]: by SMS to the phone (only through the pool's custom
//! SMS sender webhook) or by email, through the message triggers when declared.
//!
//! The administrator's actions on accounts (AdminCreateUser's invitation,
//! AdminResetUserPassword, AdminConfirmSignUp) are in [`admin`]; linking and unlinking
//! federated identities (AdminLinkProviderForUser, AdminDisableProviderForUser) in [`links`].

pub mod admin;
pub mod attributes;
pub mod budgets;
pub mod codes;
pub mod decoys;
mod events;
pub mod links;
pub mod own;
mod sending;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

pub use budgets::BUDGET_WINDOW_SECS;
pub use codes::generate_code;
pub use decoys::MIN_USERS_TO_SAMPLE;

use super::delivery::{normalize_phone, MessageSource};
use super::directory::{
    normalize_email, Directory, DirectoryError, InitialState, MigrationSource, NewUser,
};
use super::mail::{CodePurpose, MailRouter};
use super::model::AuthEventKind;
use super::model::{AliasAttribute, User, UserPool, UserStatus};
use super::password::PolicyViolation;
use super::secrets::SecretString;
use super::signout;
use super::storage::{Conflict, Store, StoreError, UserRef};
use super::threat::{EventContext, Subject};
use super::throttle::login_key;
use super::triggers::{TriggerCaller, TriggerError};
use super::UnixTime;
use budgets::Spend;
use codes::code_id;
use decoys::decoy_id;
pub(crate) use sending::{delivered_to, delivery_error, recovery_destination};
use sending::{verifiable_destination, verifies_phone};

/// Ephemeral-store kind of sign-up confirmation codes.
pub const SIGNUP_CODE_KIND: &str = "signup_code";
/// Ephemeral-store kind of password reset codes.
pub const RESET_CODE_KIND: &str = "reset_code";
/// Cognito's sign-up confirmation codes are valid 24 hours.
pub const SIGNUP_CODE_VALIDITY_SECS: i64 = 24 * 3600;
/// Cognito's password reset codes are valid 1 hour.
pub const RESET_CODE_VALIDITY_SECS: i64 = 3600;

/// Errors of the account flows, named after Cognito's exceptions (the AWS API's names for
/// them are the edge's: `crate::web::cognito_errors`). Messages are Cognito's, safe to
/// show, except `Internal`, whose detail belongs in the log.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("User already exists")]
    UsernameExists,
    /// A verified email or phone number (or a preferred_username) belongs to another user.
    #[error("An account with the given email already exists.")]
    AliasExists,
    #[error("{0}")]
    InvalidPassword(PolicyViolation),
    /// `field` is the parameter or attribute at fault (empty when none applies).
    #[error("{}", invalid_parameter(field, reason))]
    InvalidParameter { field: String, reason: String },
    #[error("Invalid verification code provided, please try again.")]
    CodeMismatch,
    /// The code expired, was used, or was never sent.
    #[error("Invalid code provided, please request a code again.")]
    ExpiredCode,
    /// A code budget is spent: too many codes requested or tried for a destination or from
    /// a client address ([`budgets`]).
    #[error("Attempt limit exceeded, please try after some time.")]
    LimitExceeded,
    #[error("{0}")]
    NotAuthorized(String),
    /// Internal only: the public flows answer unknown users like known ones.
    #[error("User does not exist.")]
    UserNotFound,
    #[error("User is not confirmed.")]
    UserNotConfirmed,
    #[error("Password reset required for the user")]
    PasswordResetRequired,
    #[error("SignUp is not permitted for this user pool")]
    SignUpDisabled,
    #[error("Unable to deliver the code: {0}")]
    CodeDeliveryFailure(String),
    #[error("{0}")]
    ResourceNotFound(String),
    /// A trigger webhook failed or refused (Cognito's `UserLambdaValidationException`:
    /// "PreSignUp failed with error ...").
    #[error("{0}")]
    TriggerRefused(String),
    /// Storage or hashing failed; the detail is for the log, not the client.
    #[error("internal error: {0}")]
    Internal(String),
}

fn invalid_parameter(field: &str, reason: &str) -> String {
    if field.is_empty() {
        format!("Invalid parameter: {reason}")
    } else {
        format!("Invalid value for {field}: {reason}")
    }
}

impl AccountError {
    fn param(field: &str, reason: impl Into<String>) -> Self {
        AccountError::InvalidParameter {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        AccountError::Internal(e.to_string())
    }
}

impl From<DirectoryError> for AccountError {
    fn from(e: DirectoryError) -> Self {
        use DirectoryError as D;
        match e {
            D::PoolNotFound(id) => {
                AccountError::ResourceNotFound(format!("User pool {id} does not exist."))
            }
            D::GroupNotFound(name) => {
                AccountError::ResourceNotFound(format!("Group {name} does not exist."))
            }
            D::UserNotFound => AccountError::UserNotFound,
            D::Conflict(Conflict::Username | Conflict::Exists) => AccountError::UsernameExists,
            D::Conflict(_) => AccountError::AliasExists,
            D::InvalidAttribute(a) => AccountError::param(&a.name, a.reason),
            D::InvalidUsername(reason) => AccountError::param("username", reason),
            D::InvalidPassword(v) => AccountError::InvalidPassword(v),
            D::InvalidParameter(reason) => AccountError::param("", reason),
            D::NotAuthorized => AccountError::NotAuthorized(D::NotAuthorized.to_string()),
            e @ (D::UserDisabled | D::TemporaryPasswordExpired) => {
                AccountError::NotAuthorized(e.to_string())
            }
            D::UserNotConfirmed => AccountError::UserNotConfirmed,
            D::PasswordResetRequired => AccountError::PasswordResetRequired,
            D::Store(e) => AccountError::Internal(e.to_string()),
            D::Password(e) => AccountError::Internal(e.to_string()),
        }
    }
}

impl From<TriggerError> for AccountError {
    fn from(e: TriggerError) -> Self {
        match e {
            TriggerError::Failed { .. } => AccountError::TriggerRefused(e.to_string()),
            TriggerError::Internal(_) => AccountError::Internal(e.to_string()),
        }
    }
}

pub type AccountResult<T> = Result<T, AccountError>;

pub use super::delivery::CodeDelivery;

impl CodeDelivery {
    pub(crate) fn email(address: &str) -> Self {
        CodeDelivery {
            medium: "EMAIL",
            attribute_name: "email",
            destination: mask_email(address),
        }
    }
}

/// What a sign-up did.
#[derive(Debug, Clone)]
pub struct SignUpOutcome {
    /// The new user, UNCONFIRMED.
    pub user: User,
    /// Where the confirmation code went; `None` when the pool does not verify email
    /// automatically (an administrator confirms the user, as in Cognito; phone numbers are
    /// not verified by SMS in Cognate, so a phone-only pool lands here too).
    pub delivery: Option<CodeDelivery>,
}

/// Masks an address as Cognito's CodeDeliveryDetails do: the first character of the local
/// part and of the domain, and the top-level domain (`alice@example.com` ->
/// `a***@e***.com`).
pub fn mask_email(address: &str) -> String {
    let address = normalize_email(address);
    let Some((local, domain)) = address.rsplit_once('@') else {
        return "***".to_string();
    };
    let first = |s: &str| s.chars().next().map(String::from).unwrap_or_default();
    match domain.rsplit_once('.') {
        Some((_, tld)) => format!("{}***@{}***.{tld}", first(local), first(domain)),
        None => format!("{}***@{}***", first(local), first(domain)),
    }
}

/// The account flows. Cheap to clone.
#[derive(Clone)]
pub struct AccountService {
    directory: Directory,
    mail: MailRouter,
    decoy_key: Arc<tokio::sync::OnceCell<[u8; 32]>>,
}

impl std::fmt::Debug for AccountService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountService")
            .field("mail", &self.mail)
            .finish()
    }
}

impl AccountService {
    pub fn new(directory: Directory, mail: MailRouter) -> Self {
        AccountService {
            directory,
            mail,
            decoy_key: Arc::new(tokio::sync::OnceCell::new()),
        }
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.directory.store()
    }

    /// SignUp: creates an UNCONFIRMED user (the directory applies the username, alias,
    /// attribute and password-policy rules) and, when the pool verifies email
    /// automatically, mails a confirmation code. The code takes one of the destination
    /// address's sends ([`budgets`]; sign-ups are not counted per client address, so
    /// people behind one NAT can all sign up); when that budget is spent, or the code
    /// cannot be mailed, the user is removed again (`LimitExceeded`, or
    /// `CodeDeliveryFailure`), so the person can simply retry later. Refused when the pool
    /// allows only administrators to create users.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_up(
        &self,
        pool: &UserPool,
        username: &str,
        password: &SecretString,
        attributes: BTreeMap<String, String>,
        lang: &str,
        client: IpAddr,
        now: UnixTime,
    ) -> AccountResult<SignUpOutcome> {
        let caller = TriggerCaller::default();
        let context = EventContext::new(None, Some(client), None);
        self.sign_up_with(
            pool, username, password, attributes, lang, client, &caller, &context, now,
        )
        .await
    }

    /// [`AccountService::sign_up`] for a caller the triggers are told about (the app
    /// client, `ClientMetadata`, `ValidationData`). The pool's pre sign-up webhook
    /// (`PreSignUp_SignUp`) is called before anything is stored: its failure refuses the
    /// sign-up (`TriggerRefused`) and stores nothing; its `autoConfirmUser` makes the user
    /// CONFIRMED with no code mailed (then `autoVerifyEmail` / `autoVerifyPhone` mark the
    /// addresses verified) and calls the post confirmation webhook, as in Cognito.
    /// The outcome is recorded in the auth event log (`SignUp`) with `context`.
    #[allow(clippy::too_many_arguments)]
    pub async fn sign_up_with(
        &self,
        pool: &UserPool,
        username: &str,
        password: &SecretString,
        attributes: BTreeMap<String, String>,
        lang: &str,
        client: IpAddr,
        caller: &TriggerCaller,
        context: &EventContext,
        now: UnixTime,
    ) -> AccountResult<SignUpOutcome> {
        let result = self
            .sign_up_unrecorded(
                pool, username, password, attributes, lang, client, caller, now,
            )
            .await;
        // A refused sign-up names no user (a taken username is someone else's).
        self.record(
            pool,
            AuthEventKind::SignUp,
            Subject::Unattributed(username),
            context,
            &result,
            |o| Some(&o.user),
            &[],
            now,
        )
        .await;
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn sign_up_unrecorded(
        &self,
        pool: &UserPool,
        username: &str,
        password: &SecretString,
        mut attributes: BTreeMap<String, String>,
        lang: &str,
        client: IpAddr,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> AccountResult<SignUpOutcome> {
        if pool.admin_create_user_only {
            return Err(AccountError::SignUpDisabled);
        }
        // Verification is what a code proves; a sign-up cannot claim it.
        for flag in ["email_verified", "phone_number_verified"] {
            if attributes.contains_key(flag) {
                return Err(AccountError::param(
                    flag,
                    "is set by confirming a code, not at sign-up",
                ));
            }
        }
        let username = username.trim();
        let answer = match self.directory.webhooks() {
            Some(webhooks) => {
                webhooks
                    .pre_sign_up(pool, "PreSignUp_SignUp", username, &attributes, caller)
                    .await?
            }
            None => Default::default(),
        };
        let mut state = InitialState::Unconfirmed;
        if answer.auto_confirm_user {
            state = InitialState::Confirmed;
            for (on, attribute, flag) in [
                (answer.auto_verify_email, "email", "email_verified"),
                (
                    answer.auto_verify_phone,
                    "phone_number",
                    "phone_number_verified",
                ),
            ] {
                // With email- or phone-as-username the typed username is the address.
                let given = attributes.contains_key(attribute)
                    || (pool
                        .username_attributes
                        .iter()
                        .any(|a| a.attribute_name() == attribute)
                        && username.contains('@') == (attribute == "email"));
                if on && given {
                    attributes.insert(flag.to_string(), "true".to_string());
                }
            }
        }
        let new = NewUser {
            username: username.to_string(),
            attributes,
            password: Some(password.clone()),
            state,
        };
        let user = match self.directory.create_user(pool, new, now).await {
            Ok(user) => user,
            // Cognito answers UsernameExistsException for a taken email-as-username too.
            Err(DirectoryError::Conflict(_)) => return Err(AccountError::UsernameExists),
            Err(e) => return Err(e.into()),
        };
        if answer.auto_confirm_user {
            if let Some(webhooks) = self.directory.webhooks() {
                webhooks
                    .post_confirmation(pool, "PostConfirmation_ConfirmSignUp", &user, caller)
                    .await;
            }
            return Ok(SignUpOutcome {
                user,
                delivery: None,
            });
        }
        let Some(to) = verifiable_destination(pool, &user) else {
            return Ok(SignUpOutcome {
                user,
                delivery: None,
            });
        };
        let id = code_id(pool, &user.sub);
        let sent = async {
            self.reserve(pool, Spend::SignUpSend, to.address(), client, now)
                .await?;
            self.mail_code(
                pool,
                SIGNUP_CODE_KIND,
                &id,
                &user,
                &to,
                MessageSource::SignUp,
                lang,
                caller,
                now,
            )
            .await
        }
        .await;
        if let Err(e) = sent {
            tracing::warn!(pool = %pool.id, error = %e, "sign-up code not sent; sign-up undone");
            let _ = self.store().delete_ephemeral(SIGNUP_CODE_KIND, &id).await;
            let _ = self.directory.delete_user(pool, &user.sub).await;
            return Err(e);
        }
        Ok(SignUpOutcome {
            user,
            delivery: Some(delivered_to(&to)),
        })
    }

    /// ConfirmSignUp: the right code makes the user CONFIRMED and marks the address the
    /// code went to as verified (`email_verified=true`, which also indexes it as a sign-in
    /// alias). Every try takes the budgets of the client address and of that destination
    /// first ([`budgets`]).
    ///
    /// Unknown and already confirmed users are answered exactly like an unconfirmed user
    /// with a wrong code: their tries go to a simulated code stored under the login as
    /// typed (created on the first try, valid as long as a real one), with the same
    /// budgets, so `CodeMismatch`, `LimitExceeded` and `ExpiredCode` come alike. (Cognito
    /// answers a confirmed user `NotAuthorized`, which tells that the user exists.) So is
    /// an unconfirmed user without a live code (its code expired, or an administrator or
    /// an import created it and none was ever sent): answering it `ExpiredCode` before any
    /// try is reserved would tell, for free and in bulk, which logins are such users.
    ///
    /// If the now verified address is another user's verified alias, `AliasExists`
    /// (Cognito's default without ForceAliasCreation) and the user stays UNCONFIRMED:
    /// request a new code once that is resolved. A pool that does not verify email
    /// automatically refuses every request alike.
    pub async fn confirm_sign_up(
        &self,
        pool: &UserPool,
        username: &str,
        code: &str,
        client: IpAddr,
        now: UnixTime,
    ) -> AccountResult<User> {
        let caller = TriggerCaller::default();
        let context = EventContext::new(None, Some(client), None);
        self.confirm_sign_up_with(pool, username, code, client, &caller, &context, now)
            .await
    }

    /// [`AccountService::confirm_sign_up`] for a caller the triggers are told about: a
    /// confirmation calls the pool's post confirmation webhook
    /// (`PostConfirmation_ConfirmSignUp`), whose failure is logged and undoes nothing.
    /// The outcome is recorded in the auth event log (`Confirmation`).
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_sign_up_with(
        &self,
        pool: &UserPool,
        username: &str,
        code: &str,
        client: IpAddr,
        caller: &TriggerCaller,
        context: &EventContext,
        now: UnixTime,
    ) -> AccountResult<User> {
        let result = self
            .confirm_sign_up_unrecorded(pool, username, code, client, caller, now)
            .await;
        self.record(
            pool,
            AuthEventKind::Confirmation,
            Subject::Login(username),
            context,
            &result,
            events::itself,
            &[("what", "sign_up")],
            now,
        )
        .await;
        result
    }

    async fn confirm_sign_up_unrecorded(
        &self,
        pool: &UserPool,
        username: &str,
        code: &str,
        client: IpAddr,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> AccountResult<User> {
        refuse_without_email_codes(pool)?;
        let login = username.trim();
        let typed = login_key(pool, login);
        let user = self.directory.find_user(pool, login).await?;
        let mut pending = None;
        if let Some(user) = user.filter(|u| u.status == UserStatus::Unconfirmed) {
            let live = self
                .store()
                .get_ephemeral(SIGNUP_CODE_KIND, &code_id(pool, &user.sub), now)
                .await?;
            pending = live.map(|_| user);
        }
        let Some(user) = pending else {
            let id = decoy_id(pool, login);
            let stored = self
                .store()
                .get_ephemeral(SIGNUP_CODE_KIND, &id, now)
                .await?;
            if stored.is_none() {
                // The try is reserved before anything is stored, so a guesser past the
                // budgets stores nothing; a fresh simulated code matches nothing.
                self.reserve(pool, Spend::Try, &typed, client, now).await?;
                self.ensure_simulated_code(SIGNUP_CODE_KIND, &id, SIGNUP_CODE_VALIDITY_SECS, now)
                    .await?;
                return Err(AccountError::CodeMismatch);
            }
            self.check_code(pool, (SIGNUP_CODE_KIND, &id), code, &typed, client, now)
                .await?;
            return Err(AccountError::CodeMismatch);
        };
        let id = code_id(pool, &user.sub);
        let stored = self
            .check_code(pool, (SIGNUP_CODE_KIND, &id), code, &typed, client, now)
            .await?;
        let confirmed = self
            .directory
            .modify_user(pool, &user.sub, |u| {
                if u.status == UserStatus::Unconfirmed {
                    u.status = UserStatus::Confirmed;
                }
                let current = u.attribute("email").map(normalize_email);
                if current.is_some()
                    && current == stored.destination.as_deref().map(normalize_email)
                {
                    u.attributes
                        .insert("email_verified".to_string(), "true".to_string());
                }
                // A code sent by SMS verifies the number it went to.
                let phone = u.attribute("phone_number").map(normalize_phone);
                if phone.is_some() && phone == stored.destination.as_deref().map(normalize_phone) {
                    u.attributes
                        .insert("phone_number_verified".to_string(), "true".to_string());
                }
                u.updated_at = now;
                Ok(())
            })
            .await;
        match confirmed {
            Ok(confirmed) => {
                if user.status == UserStatus::Unconfirmed {
                    self.post_confirmation(
                        pool,
                        "PostConfirmation_ConfirmSignUp",
                        &confirmed,
                        caller,
                    )
                    .await;
                }
                Ok(confirmed)
            }
            Err(DirectoryError::Conflict(_)) => Err(AccountError::AliasExists),
            Err(e) => Err(e.into()),
        }
    }

    /// Calls the pool's post confirmation webhook, if any (a failure is logged only).
    pub(crate) async fn post_confirmation(
        &self,
        pool: &UserPool,
        source: &str,
        user: &User,
        caller: &TriggerCaller,
    ) {
        if let Some(webhooks) = self.directory.webhooks() {
            webhooks.post_confirmation(pool, source, user, caller).await;
        }
    }

    /// ResendConfirmationCode: a new code replaces the old one, mailed in the background
    /// (so the answer takes as long whoever asks; a sending failure is logged). The
    /// request takes a send from the client address's and the destination's budgets
    /// ([`budgets`]) first. Unknown and already confirmed users get the same answer and
    /// limits, and nothing is mailed: a simulated code is stored and the destination shown
    /// is simulated ([`decoys`]). A pool that does not verify email automatically refuses
    /// every request alike (an administrator confirms its users).
    ///
    /// The request is recorded in the auth event log (`ResendCode`) with `context`.
    pub async fn resend_confirmation_code(
        &self,
        pool: &UserPool,
        username: &str,
        lang: &str,
        context: &EventContext,
        now: UnixTime,
    ) -> AccountResult<CodeDelivery> {
        // The address the edge trusts is the one budgets count (the context always has it
        // from an edge; unspecified only in a caller that has none).
        let client = context
            .address
            .unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
        let result = self
            .resend_confirmation_code_unrecorded(pool, username, lang, client, now)
            .await;
        self.record(
            pool,
            AuthEventKind::ResendCode,
            Subject::Login(username),
            context,
            &result,
            |_| None,
            &[],
            now,
        )
        .await;
        result
    }

    async fn resend_confirmation_code_unrecorded(
        &self,
        pool: &UserPool,
        username: &str,
        lang: &str,
        client: IpAddr,
        now: UnixTime,
    ) -> AccountResult<CodeDelivery> {
        refuse_without_email_codes(pool)?;
        let login = username.trim();
        let user = self.directory.find_user(pool, login).await?;
        let target = user
            .as_ref()
            .filter(|u| u.status == UserStatus::Unconfirmed)
            .and_then(|u| verifiable_destination(pool, u).map(|to| (u, to)));
        let destination = match &target {
            Some((_, to)) => to.address().to_string(),
            None => login_key(pool, login),
        };
        self.reserve(pool, Spend::Send, &destination, client, now)
            .await?;
        let Some((user, to)) = target else {
            self.issue_simulated_code(SIGNUP_CODE_KIND, pool, login, now)
                .await?;
            return self.simulated_delivery(pool, login, user.as_ref()).await;
        };
        let id = code_id(pool, &user.sub);
        self.mail_code_in_background(
            pool,
            SIGNUP_CODE_KIND,
            &id,
            user,
            &to,
            MessageSource::ResendCode,
            lang,
            &TriggerCaller::default(),
            now,
        )
        .await?;
        Ok(delivered_to(&to))
    }

    /// ForgotPassword: mails a reset code (valid 1 hour) to the user's verified email.
    ///
    /// The answer never tells whether the account exists (PreventUserExistenceErrors):
    /// - a user with a verified email who can have a password (enabled, not federated):
    ///   a code is mailed, and the answer is `EMAIL` to their masked address;
    /// - anyone else (unknown login, no verified email, disabled, federated): nothing is
    ///   mailed, a simulated code that no input can match is stored under the login as
    ///   typed (so [`AccountService::confirm_forgot_password`] then answers
    ///   `CodeMismatch`, `LimitExceeded` and `ExpiredCode` exactly as for a real code),
    ///   and the answer is `EMAIL` to a simulated destination ([`decoys`]).
    ///
    /// The mail is sent in the background, so a real request takes as long as a simulated
    /// one; a sending failure is logged. A page should say "if an account exists, a code
    /// was sent to `<destination>`". Every request, for known and unknown logins alike,
    /// takes a send from the client address's and the destination's budgets first
    /// ([`budgets`]), so requests from an attacker's address cannot spend the owner's.
    pub async fn forgot_password(
        &self,
        pool: &UserPool,
        username: &str,
        lang: &str,
        client: IpAddr,
        now: UnixTime,
    ) -> AccountResult<CodeDelivery> {
        let caller = TriggerCaller::default();
        let context = EventContext::new(None, Some(client), None);
        self.forgot_password_with(pool, username, lang, client, &caller, &context, now)
            .await
    }

    /// [`AccountService::forgot_password`] for a caller the triggers are told about: a
    /// login nobody has is offered to the pool's user migration webhook
    /// (`UserMigration_ForgotPassword`) after the request took its send from the budgets;
    /// a user it moves in is mailed the code as any other (it needs a verified email).
    /// The request is recorded in the auth event log (`ForgotPassword`).
    #[allow(clippy::too_many_arguments)]
    pub async fn forgot_password_with(
        &self,
        pool: &UserPool,
        username: &str,
        lang: &str,
        client: IpAddr,
        caller: &TriggerCaller,
        context: &EventContext,
        now: UnixTime,
    ) -> AccountResult<CodeDelivery> {
        let result = self
            .forgot_password_unrecorded(pool, username, lang, client, caller, now)
            .await;
        self.record(
            pool,
            AuthEventKind::ForgotPassword,
            Subject::Login(username),
            context,
            &result,
            |_| None,
            &[("step", "request")],
            now,
        )
        .await;
        result
    }

    async fn forgot_password_unrecorded(
        &self,
        pool: &UserPool,
        username: &str,
        lang: &str,
        client: IpAddr,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> AccountResult<CodeDelivery> {
        let login = username.trim();
        let found = self.directory.find_user(pool, login).await?;
        let migrating = found.is_none()
            && pool
                .triggers
                .url(crate::core::model::TriggerKind::UserMigration)
                .is_some();
        let user = if migrating {
            // Counted first, under the login typed, as any unknown login's request.
            self.reserve(pool, Spend::Send, &login_key(pool, login), client, now)
                .await?;
            self.directory
                .migrate(
                    pool,
                    MigrationSource::ForgotPassword,
                    login,
                    None,
                    caller,
                    now,
                )
                .await
        } else {
            found
        };
        let target = user.as_ref().and_then(|u| {
            let can_reset = u.enabled && u.status != UserStatus::ExternalProvider;
            recovery_destination(pool, u)
                .filter(|_| can_reset)
                .map(|to| (u, to))
        });
        let destination = match &target {
            Some((_, to)) => to.address().to_string(),
            None => login_key(pool, login),
        };
        // A migration attempt took its send already (under the login typed); a migrated
        // user's address is not charged a second time for it.
        if !migrating {
            self.reserve(pool, Spend::Send, &destination, client, now)
                .await?;
        }
        let Some((user, to)) = target else {
            self.issue_simulated_code(RESET_CODE_KIND, pool, login, now)
                .await?;
            return self.simulated_delivery(pool, login, user.as_ref()).await;
        };
        let id = code_id(pool, &user.sub);
        self.mail_code_in_background(
            pool,
            RESET_CODE_KIND,
            &id,
            user,
            &to,
            MessageSource::ForgotPassword,
            lang,
            caller,
            now,
        )
        .await?;
        Ok(delivered_to(&to))
    }

    /// ConfirmForgotPassword: checks the password against the pool's policy (before the
    /// code, so a weak password does not use up a try), then the code (each try takes the
    /// budgets first, [`budgets`]), then sets the new password permanently: the user is
    /// CONFIRMED (a RESET_REQUIRED or FORCE_CHANGE_PASSWORD state ends), and signed out
    /// everywhere ([`super::signout`]: sessions and refresh tokens end, earlier access
    /// tokens are refused), since the account may have been taken. Unknown users get the
    /// answers a wrong code gets.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_forgot_password(
        &self,
        pool: &UserPool,
        username: &str,
        code: &str,
        new_password: &SecretString,
        client: IpAddr,
        now: UnixTime,
    ) -> AccountResult<User> {
        let caller = TriggerCaller::default();
        let context = EventContext::new(None, Some(client), None);
        self.confirm_forgot_password_with(
            pool,
            username,
            code,
            new_password,
            client,
            &caller,
            &context,
            now,
        )
        .await
    }

    /// [`AccountService::confirm_forgot_password`] for a caller the triggers are told
    /// about: the new password calls the pool's post confirmation webhook
    /// (`PostConfirmation_ConfirmForgotPassword`), whose failure is logged only. The
    /// outcome is recorded in the auth event log (`ForgotPassword`, step `confirm`).
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_forgot_password_with(
        &self,
        pool: &UserPool,
        username: &str,
        code: &str,
        new_password: &SecretString,
        client: IpAddr,
        caller: &TriggerCaller,
        context: &EventContext,
        now: UnixTime,
    ) -> AccountResult<User> {
        let result = self
            .confirm_forgot_password_unrecorded(
                pool,
                username,
                code,
                new_password,
                client,
                caller,
                now,
            )
            .await;
        self.record(
            pool,
            AuthEventKind::ForgotPassword,
            Subject::Login(username),
            context,
            &result,
            events::itself,
            &[("step", "confirm")],
            now,
        )
        .await;
        result
    }

    #[allow(clippy::too_many_arguments)]
    async fn confirm_forgot_password_unrecorded(
        &self,
        pool: &UserPool,
        username: &str,
        code: &str,
        new_password: &SecretString,
        client: IpAddr,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> AccountResult<User> {
        self.directory
            .check_new_password(pool, new_password)
            .await
            .map_err(AccountError::InvalidPassword)?;
        let login = username.trim();
        let typed = login_key(pool, login);
        if let Some(user) = self.directory.find_user(pool, login).await? {
            let id = code_id(pool, &user.sub);
            if self
                .store()
                .get_ephemeral(RESET_CODE_KIND, &id, now)
                .await?
                .is_some()
            {
                self.check_code(pool, (RESET_CODE_KIND, &id), code, &typed, client, now)
                    .await?;
                if !user.enabled {
                    return Err(AccountError::NotAuthorized("User is disabled.".into()));
                }
                let user = self
                    .directory
                    .set_password(pool, &user.sub, new_password, true, now)
                    .await?;
                // Whoever knew the old password may have taken the account: end its
                // sessions and refresh tokens (Cognito's GlobalSignOut).
                signout::sign_out_everywhere(self.store().as_ref(), &pool.id, &user.sub, now)
                    .await?;
                self.post_confirmation(
                    pool,
                    "PostConfirmation_ConfirmForgotPassword",
                    &user,
                    caller,
                )
                .await;
                return Ok(user);
            }
        }
        // A simulated code (or none): the same answers, and never a match.
        let id = decoy_id(pool, login);
        self.check_code(pool, (RESET_CODE_KIND, &id), code, &typed, client, now)
            .await?;
        Err(AccountError::CodeMismatch)
    }

    /// The NEW_PASSWORD_REQUIRED challenge: a FORCE_CHANGE_PASSWORD user (created by an
    /// administrator with a temporary password), having signed in, sets a permanent
    /// password and becomes CONFIRMED. The caller has authenticated `sub`.
    pub async fn complete_new_password(
        &self,
        pool: &UserPool,
        sub: &str,
        new_password: &SecretString,
        now: UnixTime,
    ) -> AccountResult<User> {
        let user = self
            .store()
            .get_user(&pool.id, &UserRef::Sub(sub.to_string()))
            .await?
            .ok_or(AccountError::UserNotFound)?;
        if !user.enabled {
            return Err(AccountError::NotAuthorized("User is disabled.".into()));
        }
        if user.status != UserStatus::ForceChangePassword {
            return Err(AccountError::NotAuthorized(format!(
                "A new password is not required in the user's current status ({})",
                user.status
            )));
        }
        if user.temporary_password_expires_at.is_some_and(|t| t <= now) {
            return Err(DirectoryError::TemporaryPasswordExpired.into());
        }
        Ok(self
            .directory
            .set_password(pool, sub, new_password, true, now)
            .await?)
    }

    /// Replaces the simulated code under the typed login, as a real request replaces the
    /// real code.
    async fn issue_simulated_code(
        &self,
        kind: &str,
        pool: &UserPool,
        login: &str,
        now: UnixTime,
    ) -> AccountResult<()> {
        let id = decoy_id(pool, login);
        self.store().delete_ephemeral(kind, &id).await?;
        self.ensure_simulated_code(kind, &id, validity_of(kind), now)
            .await
    }
}

fn validity_of(kind: &str) -> i64 {
    if kind == RESET_CODE_KIND {
        RESET_CODE_VALIDITY_SECS
    } else {
        SIGNUP_CODE_VALIDITY_SECS
    }
}

fn purpose_of(kind: &str) -> CodePurpose {
    if kind == RESET_CODE_KIND {
        CodePurpose::PasswordReset
    } else {
        CodePurpose::Verification
    }
}

/// Confirmation codes exist only in pools that verify email or phone numbers
/// automatically; elsewhere an administrator confirms users, and every request is refused
/// alike.
fn refuse_without_email_codes(pool: &UserPool) -> AccountResult<()> {
    if pool
        .auto_verified_attributes
        .contains(&AliasAttribute::Email)
        || verifies_phone(pool)
    {
        Ok(())
    } else {
        Err(AccountError::param(
            "username",
            "this pool does not confirm users by a code; an administrator confirms them",
        ))
    }
}

#[cfg(test)]
mod tests;
