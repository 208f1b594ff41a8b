//! Self-service account flows, as Cognito's public API has them: SignUp, ConfirmSignUp,
//! ResendConfirmationCode, ForgotPassword, ConfirmForgotPassword, and the new password a
//! FORCE_CHANGE_PASSWORD user chooses after signing in (the NEW_PASSWORD_REQUIRED
//! challenge).
//!
//! Codes are 6 random digits, drawn uniformly, mailed through the pool's
//! [`Mailer`](super::mail::Mailer), and stored only as a salted hash in the shared
//! ephemeral store (any node can check them):
//! - kind [`SIGNUP_CODE_KIND`], id `<pool>:<sub>`, valid 24 hours (Cognito's validity);
//! - kind [`RESET_CODE_KIND`], id `<pool>:<sub>`, valid 1 hour (Cognito's validity).
//!
//! A code is single use. Every try, right or wrong, first takes one of
//! [`MAX_CODE_ATTEMPTS`] turns by compare-and-swap on the stored record and only then is
//! compared (in constant time), so concurrent guesses can never get more than that many
//! answers; the try that uses the last turn destroys the hash, and later tries (even with
//! the right code) get `LimitExceeded` until a new code is sent.
//!
//! Password recovery never reveals whether an account exists (Cognito's
//! PreventUserExistenceErrors): see [`AccountService::forgot_password`].

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::directory::{normalize_email, Directory, DirectoryError, InitialState, NewUser};
use super::mail::{CodePurpose, Mail, MailRouter};
use super::model::{AliasAttribute, User, UserPool, UserStatus};
use super::oauth::token_hash;
use super::password::{check_policy, PolicyViolation};
use super::secrets::{constant_time_eq, random_bytes, random_token, SecretString};
use super::storage::{Conflict, Store, StoreError, UserRef};
use super::throttle::login_key;
use super::UnixTime;
use crate::core::secrets::redacted;

/// Ephemeral-store kind of sign-up confirmation codes.
pub const SIGNUP_CODE_KIND: &str = "signup_code";
/// Ephemeral-store kind of password reset codes.
pub const RESET_CODE_KIND: &str = "reset_code";
/// Cognito's sign-up confirmation codes are valid 24 hours.
pub const SIGNUP_CODE_VALIDITY_SECS: i64 = 24 * 3600;
/// Cognito's password reset codes are valid 1 hour.
pub const RESET_CODE_VALIDITY_SECS: i64 = 3600;
/// Tries per code; the last one destroys it.
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// Codes mailed per hour for one account (or one typed login): a bound on mail bombing.
pub const MAX_CODE_SENDS_PER_HOUR: i64 = 5;
const SEND_WINDOW_SECS: i64 = 3600;
/// Node metadata key of the secret that shapes the simulated destinations of recovery
/// requests for unknown users.
const DECOY_KEY_META: &str = "account_decoy_key";

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
    /// Too many wrong codes (the code is destroyed) or too many codes requested.
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

pub type AccountResult<T> = Result<T, AccountError>;

/// Where a code went (Cognito's `CodeDeliveryDetails`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeDelivery {
    /// `"EMAIL"` (Cognate has no SMS delivery).
    pub medium: &'static str,
    /// `"email"`.
    pub attribute_name: &'static str,
    /// The address, masked as Cognito does: `a***@e***.com`.
    pub destination: String,
}

impl CodeDelivery {
    fn email(address: &str) -> Self {
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

/// A uniformly random 6-digit code. Four random bytes are drawn again when they fall in
/// the incomplete last block of a million, so every code is equally likely.
pub fn generate_code() -> String {
    const RANGE: u32 = 1_000_000;
    const ZONE: u32 = u32::MAX - (u32::MAX % RANGE);
    loop {
        let value = u32::from_le_bytes(random_bytes::<4>());
        if value < ZONE {
            return format!("{:06}", value % RANGE);
        }
    }
}

/// A code as stored: never the code itself.
#[derive(Clone, Serialize, Deserialize)]
struct StoredCode {
    salt: String,
    /// `token_hash(salt:code)`; `None` once the last try used it up.
    hash: Option<String>,
    attempts: u32,
    expires_at: UnixTime,
    /// Where the code was mailed; a sign-up confirmation verifies this address only.
    destination: Option<String>,
}

impl std::fmt::Debug for StoredCode {
    /// Leaves out the salt and the hash: a six-digit code is found from them in a
    /// million hashes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCode")
            .field("hash", &redacted(&self.hash))
            .field("attempts", &self.attempts)
            .field("expires_at", &self.expires_at)
            .field("destination", &self.destination)
            .finish_non_exhaustive()
    }
}

fn hash_code(salt: &str, code: &str) -> String {
    token_hash(&format!("{salt}:{code}"))
}

fn code_id(pool: &UserPool, sub: &str) -> String {
    format!("{}:{sub}", pool.id)
}

/// The id of a simulated reset code, keyed by what was typed (no user behind it).
fn decoy_id(pool: &UserPool, login: &str) -> String {
    format!("{}:login:{}", pool.id, token_hash(&login_key(pool, login)))
}

fn corrupt(e: serde_json::Error) -> AccountError {
    AccountError::Internal(format!("a stored code could not be read: {e}"))
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
    /// automatically, mails a confirmation code. If the code cannot be mailed the user is
    /// removed again, so the person can simply retry. Refused when the pool allows only
    /// administrators to create users.
    pub async fn sign_up(
        &self,
        pool: &UserPool,
        username: &str,
        password: &SecretString,
        attributes: BTreeMap<String, String>,
        lang: &str,
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
        let new = NewUser {
            username: username.trim().to_string(),
            attributes,
            password: Some(password.clone()),
            state: InitialState::Unconfirmed,
        };
        let user = match self.directory.create_user(pool, new, now).await {
            Ok(user) => user,
            // Cognito answers UsernameExistsException for a taken email-as-username too.
            Err(DirectoryError::Conflict(_)) => return Err(AccountError::UsernameExists),
            Err(e) => return Err(e.into()),
        };
        let Some(email) = verifiable_email(pool, &user) else {
            return Ok(SignUpOutcome {
                user,
                delivery: None,
            });
        };
        let id = code_id(pool, &user.sub);
        let code = generate_code();
        let sent = async {
            self.issue_code(
                SIGNUP_CODE_KIND,
                &id,
                &code,
                Some(&email),
                SIGNUP_CODE_VALIDITY_SECS,
                now,
            )
            .await?;
            let mail = self
                .mail
                .code_mail(CodePurpose::Verification, &email, &code, lang);
            self.mail
                .for_user_pool(pool)
                .send(&mail)
                .await
                .map_err(|e| AccountError::CodeDeliveryFailure(e.to_string()))
        }
        .await;
        if let Err(e) = sent {
            tracing::error!(pool = %pool.id, error = %e, "sign-up code not sent; sign-up undone");
            let _ = self.store().delete_ephemeral(SIGNUP_CODE_KIND, &id).await;
            let _ = self.directory.delete_user(pool, &user.sub).await;
            return Err(e);
        }
        Ok(SignUpOutcome {
            user,
            delivery: Some(CodeDelivery::email(&email)),
        })
    }

    /// ConfirmSignUp: the right code makes the user CONFIRMED and marks the address the
    /// code went to as verified (`email_verified=true`, which also indexes it as a sign-in
    /// alias). An unknown user gets `CodeMismatch`, like a wrong code; a user who is not
    /// UNCONFIRMED gets `NotAuthorized`, as in Cognito. If the now verified address is
    /// another user's verified alias, `AliasExists` (Cognito's default without
    /// ForceAliasCreation) and the user stays UNCONFIRMED: request a new code once that
    /// is resolved.
    pub async fn confirm_sign_up(
        &self,
        pool: &UserPool,
        username: &str,
        code: &str,
        now: UnixTime,
    ) -> AccountResult<User> {
        let Some(user) = self.directory.find_user(pool, username.trim()).await? else {
            return Err(AccountError::CodeMismatch);
        };
        if user.status != UserStatus::Unconfirmed {
            return Err(AccountError::NotAuthorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status
            )));
        }
        let stored = self
            .check_code(SIGNUP_CODE_KIND, &code_id(pool, &user.sub), code, now)
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
                u.updated_at = now;
                Ok(())
            })
            .await;
        match confirmed {
            Ok(user) => Ok(user),
            Err(DirectoryError::Conflict(_)) => Err(AccountError::AliasExists),
            Err(e) => Err(e.into()),
        }
    }

    /// ResendConfirmationCode: a new code replaces the old one. An unknown user gets the
    /// same answer as a known one (a simulated destination, see
    /// [`AccountService::forgot_password`]) and nothing is sent; a confirmed user gets
    /// `InvalidParameter`, as in Cognito.
    pub async fn resend_confirmation_code(
        &self,
        pool: &UserPool,
        username: &str,
        lang: &str,
        now: UnixTime,
    ) -> AccountResult<CodeDelivery> {
        let login = username.trim();
        self.count_send("signup", pool, &login_key(pool, login), now)
            .await?;
        let Some(user) = self.directory.find_user(pool, login).await? else {
            return self.simulated_delivery(pool, login).await;
        };
        if user.status != UserStatus::Unconfirmed {
            return Err(AccountError::param(
                "username",
                "User is already confirmed.",
            ));
        }
        let Some(email) = verifiable_email(pool, &user) else {
            return Err(AccountError::param(
                "username",
                "this pool does not confirm users by email; an administrator confirms them",
            ));
        };
        self.count_send("signup-sub", pool, &user.sub, now).await?;
        let code = generate_code();
        let id = code_id(pool, &user.sub);
        self.issue_code(
            SIGNUP_CODE_KIND,
            &id,
            &code,
            Some(&email),
            SIGNUP_CODE_VALIDITY_SECS,
            now,
        )
        .await?;
        let mail = self
            .mail
            .code_mail(CodePurpose::Verification, &email, &code, lang);
        if let Err(e) = self.mail.for_user_pool(pool).send(&mail).await {
            tracing::error!(pool = %pool.id, error = %e, "confirmation code not sent");
            let _ = self.store().delete_ephemeral(SIGNUP_CODE_KIND, &id).await;
            return Err(AccountError::CodeDeliveryFailure(e.to_string()));
        }
        Ok(CodeDelivery::email(&email))
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
    ///   and the answer is `EMAIL` to a simulated destination: the typed login masked
    ///   when it is an email address (what a real user signing in by email would see),
    ///   else a stable made-up mask (`k***@g***.com`) derived with a secret key from the
    ///   pool and the login, so repeating the request gives the same answer, on every
    ///   node.
    ///
    /// The mail is sent in the background, so a real request takes as long as a simulated
    /// one; a sending failure is logged. A page should say "if an account exists, a code
    /// was sent to `<destination>`". Every typed login may ask for
    /// [`MAX_CODE_SENDS_PER_HOUR`] codes an hour (`LimitExceeded` after that, for known
    /// and unknown logins alike).
    pub async fn forgot_password(
        &self,
        pool: &UserPool,
        username: &str,
        lang: &str,
        now: UnixTime,
    ) -> AccountResult<CodeDelivery> {
        let login = username.trim();
        self.count_send("reset", pool, &login_key(pool, login), now)
            .await?;
        let user = self.directory.find_user(pool, login).await?;
        let target = user.and_then(|u| {
            let can_reset = u.enabled && u.status != UserStatus::ExternalProvider;
            let email = u
                .attribute("email")
                .filter(|_| u.attribute("email_verified") == Some("true"))
                .map(str::to_string);
            email.filter(|_| can_reset).map(|email| (u, email))
        });
        let Some((user, email)) = target else {
            let decoy = random_token::<32>();
            self.issue_code(
                RESET_CODE_KIND,
                &decoy_id(pool, login),
                &decoy,
                None,
                RESET_CODE_VALIDITY_SECS,
                now,
            )
            .await?;
            return self.simulated_delivery(pool, login).await;
        };
        let code = generate_code();
        self.issue_code(
            RESET_CODE_KIND,
            &code_id(pool, &user.sub),
            &code,
            Some(&email),
            RESET_CODE_VALIDITY_SECS,
            now,
        )
        .await?;
        let mail: Mail = self
            .mail
            .code_mail(CodePurpose::PasswordReset, &email, &code, lang);
        let mailer = self.mail.for_user_pool(pool);
        let pool_id = pool.id.clone();
        tokio::spawn(async move {
            if let Err(e) = mailer.send(&mail).await {
                tracing::error!(pool = %pool_id, error = %e, "password reset code not sent");
            }
        });
        Ok(CodeDelivery::email(&email))
    }

    /// ConfirmForgotPassword: checks the password against the pool's policy (before the
    /// code, so a weak password does not use up a try), then the code, then sets the new
    /// password permanently: the user is CONFIRMED (a RESET_REQUIRED or
    /// FORCE_CHANGE_PASSWORD state ends). Unknown users get the answers a wrong code gets.
    pub async fn confirm_forgot_password(
        &self,
        pool: &UserPool,
        username: &str,
        code: &str,
        new_password: &SecretString,
        now: UnixTime,
    ) -> AccountResult<User> {
        check_policy(&pool.password_policy, new_password.expose())
            .map_err(AccountError::InvalidPassword)?;
        let login = username.trim();
        if let Some(user) = self.directory.find_user(pool, login).await? {
            let id = code_id(pool, &user.sub);
            if self
                .store()
                .get_ephemeral(RESET_CODE_KIND, &id, now)
                .await?
                .is_some()
            {
                self.check_code(RESET_CODE_KIND, &id, code, now).await?;
                if !user.enabled {
                    return Err(AccountError::NotAuthorized("User is disabled.".into()));
                }
                return Ok(self
                    .directory
                    .set_password(pool, &user.sub, new_password, true, now)
                    .await?);
            }
        }
        // A simulated code (or none): the same answers, and never a match.
        self.check_code(RESET_CODE_KIND, &decoy_id(pool, login), code, now)
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

    // --- codes -------------------------------------------------------------------------

    /// Stores a code (hashed), replacing any earlier one for the same id.
    async fn issue_code(
        &self,
        kind: &str,
        id: &str,
        code: &str,
        destination: Option<&str>,
        validity: i64,
        now: UnixTime,
    ) -> AccountResult<()> {
        let salt = random_token::<16>();
        let record = StoredCode {
            hash: Some(hash_code(&salt, code)),
            salt,
            attempts: 0,
            expires_at: now + validity,
            destination: destination.map(str::to_string),
        };
        let value = serde_json::to_string(&record).map_err(corrupt)?;
        for _ in 0..5 {
            self.store().delete_ephemeral(kind, id).await?;
            match self
                .store()
                .put_ephemeral(kind, id, &value, record.expires_at, now)
                .await
            {
                Ok(()) => return Ok(()),
                // Another request stored a code between our delete and put: replace it
                // (the latest code wins, as in Cognito).
                Err(StoreError::Conflict(Conflict::Exists)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AccountError::LimitExceeded)
    }

    /// Checks a code and consumes it. Each call first takes a try by compare-and-swap,
    /// then compares, so no interleaving of concurrent calls gets more than
    /// [`MAX_CODE_ATTEMPTS`] comparisons.
    async fn check_code(
        &self,
        kind: &str,
        id: &str,
        code: &str,
        now: UnixTime,
    ) -> AccountResult<StoredCode> {
        let submitted = code.trim();
        for _ in 0..64 {
            let Some(raw) = self.store().get_ephemeral(kind, id, now).await? else {
                return Err(AccountError::ExpiredCode);
            };
            let record: StoredCode = serde_json::from_str(&raw).map_err(corrupt)?;
            let Some(hash) = record.hash.clone() else {
                return Err(AccountError::LimitExceeded);
            };
            let mut next = record.clone();
            next.attempts += 1;
            if next.attempts >= MAX_CODE_ATTEMPTS {
                next.hash = None;
            }
            let next_raw = serde_json::to_string(&next).map_err(corrupt)?;
            let took_turn = self
                .store()
                .replace_ephemeral(kind, id, &raw, &next_raw, record.expires_at, now)
                .await?;
            if !took_turn {
                continue;
            }
            let candidate = hash_code(&record.salt, submitted);
            if !constant_time_eq(candidate.as_bytes(), hash.as_bytes()) {
                return Err(AccountError::CodeMismatch);
            }
            // Single use: of concurrent right answers, one takes the row.
            return match self.store().take_ephemeral(kind, id, now).await? {
                Some(taken) => {
                    let taken_record: StoredCode = serde_json::from_str(&taken).map_err(corrupt)?;
                    if taken_record.salt == record.salt {
                        Ok(record)
                    } else {
                        // A newer code replaced ours meanwhile: put it back untouched.
                        let _ = self
                            .store()
                            .put_ephemeral(kind, id, &taken, taken_record.expires_at, now)
                            .await;
                        Err(AccountError::ExpiredCode)
                    }
                }
                None => Err(AccountError::ExpiredCode),
            };
        }
        // Could not get a turn under heavy contention on this one code.
        Err(AccountError::LimitExceeded)
    }

    /// Counts a code request against [`MAX_CODE_SENDS_PER_HOUR`].
    async fn count_send(
        &self,
        what: &str,
        pool: &UserPool,
        key: &str,
        now: UnixTime,
    ) -> AccountResult<()> {
        let counter = format!("acct:send:{what}:{}:{}", pool.id, token_hash(key));
        let sent = self
            .store()
            .increment_counter(&counter, now + SEND_WINDOW_SECS, now)
            .await?;
        if sent > MAX_CODE_SENDS_PER_HOUR {
            return Err(AccountError::LimitExceeded);
        }
        Ok(())
    }

    // --- simulated answers ---------------------------------------------------------------

    /// The destination shown when there is no one to mail: the typed login masked when it
    /// is an email address, else a stable made-up mask.
    async fn simulated_delivery(
        &self,
        pool: &UserPool,
        login: &str,
    ) -> AccountResult<CodeDelivery> {
        if super::attributes::validate_email(login).is_ok() {
            return Ok(CodeDelivery::email(login));
        }
        let key = self.decoy_key().await?;
        let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
        let tag = aws_lc_rs::hmac::sign(
            &hmac_key,
            format!("{}\n{}", pool.id, login_key(pool, login)).as_bytes(),
        );
        let t = tag.as_ref();
        const TLDS: [&str; 6] = ["com", "com", "com", "net", "org", "fr"];
        let letter = |b: u8| char::from(b'a' + b % 26);
        Ok(CodeDelivery {
            medium: "EMAIL",
            attribute_name: "email",
            destination: format!(
                "{}***@{}***.{}",
                letter(t[0]),
                letter(t[1]),
                TLDS[usize::from(t[2]) % TLDS.len()]
            ),
        })
    }

    /// A secret shared by every node (node metadata), created on first use.
    async fn decoy_key(&self) -> AccountResult<[u8; 32]> {
        let key = self
            .decoy_key
            .get_or_try_init(|| async {
                use base64::Engine;
                let engine = base64::engine::general_purpose::STANDARD;
                let ours = engine.encode(random_bytes::<32>());
                let stored = self
                    .store()
                    .put_meta_if_absent(DECOY_KEY_META, &ours)
                    .await?;
                let bytes = engine
                    .decode(stored.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        AccountError::Internal(format!("node metadata {DECOY_KEY_META} is corrupt"))
                    })?;
                Ok::<_, AccountError>(bytes)
            })
            .await?;
        Ok(*key)
    }
}

/// The email address a sign-up confirmation code goes to: the user's email, when the pool
/// verifies email automatically.
fn verifiable_email(pool: &UserPool, user: &User) -> Option<String> {
    if !pool
        .auto_verified_attributes
        .contains(&AliasAttribute::Email)
    {
        return None;
    }
    user.attribute("email").map(str::to_string)
}

#[cfg(test)]
mod tests;
