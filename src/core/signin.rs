//! Password sign-in, whichever edge asks: the hosted UI's `POST /login` today, and the
//! AWS API's `InitiateAuth` / `AdminInitiateAuth` (`USER_PASSWORD_AUTH`,
//! `ADMIN_USER_PASSWORD_AUTH`) next. Both call [`SignIn::password`] with a
//! [`PasswordSignIn`] and render its [`SignInOutcome`] or [`SignInError`] in their own
//! terms (a page and a redirect; a JSON challenge or a `__type` error).
//!
//! One attempt runs, in this order:
//! 1. the app client must take the pool's own users (`COGNITO` among its
//!    `SupportedIdentityProviders`); a client of only upstream IdPs has no password sign-in;
//! 2. a login or password no real account can have (empty, over-long) is refused as a wrong
//!    password, without counting or hashing;
//! 3. the login is looked up once, and the attempt is reserved under that account's key
//!    ([`account_login_key`], [`Throttle::reserve`]) BEFORE any verification: an attempt
//!    over the account's or the account-and-address's limit is refused without verifying
//!    the password, however many arrive at once, and a slowed one waits out the delay of
//!    its reserved number here (then the user is read again, since the wait may have seen
//!    it disabled);
//! 4. the password is verified ([`Directory::authenticate_found`]: unknown users cost one
//!    verification too). The reservation stands as the failure of a wrong password or an
//!    unknown login; a password proven right clears the account's and the address's counts
//!    (whatever the user's status then says);
//! 5. the user's status chooses the next step: Cognito's `NEW_PASSWORD_REQUIRED` challenge
//!    for a `FORCE_CHANGE_PASSWORD` user; otherwise the pool's `mfa` rule
//!    ([`crate::core::mfa::requirement`]): a second factor to pass, enrolment first
//!    (`MFA_SETUP`), or tokens.
//!
//! Nothing here knows HTTP: the client address and the time come in the request.

use std::net::IpAddr;

use super::directory::{Directory, DirectoryError};
use super::mfa::{requirement, Requirement};
use super::model::{AppClient, MfaFactor, User, UserPool, UserStatus};
use super::secrets::SecretString;
use super::throttle::{account_login_key, Throttle, Verdict};
use super::UnixTime;

/// The longest login (in bytes) worth looking up: a username is at most 128 characters,
/// an email address 254 bytes; anything longer is a wrong login without a lookup.
pub const MAX_LOGIN_BYTES: usize = 256;
/// The longest password (in bytes) worth hashing: Cognito's limit is 256 characters;
/// anything longer is a wrong password without the cost of a verification.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// One password sign-in attempt.
pub struct PasswordSignIn<'a> {
    pub pool: &'a UserPool,
    pub client: &'a AppClient,
    /// What the user typed: a username or a sign-in alias (email, phone number, preferred
    /// username), as the pool allows.
    pub login: &'a str,
    pub password: &'a SecretString,
    /// Where the attempt comes from (the client address the edge trusts), for the
    /// per-account-and-address count.
    pub address: IpAddr,
    pub now: UnixTime,
}

/// What a password that was accepted leads to, chosen by the user's status (Cognito's
/// `InitiateAuth` answers with tokens or a challenge).
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    /// Signed in: the edge issues a code or tokens for this user.
    SignedIn(User),
    /// `NEW_PASSWORD_REQUIRED`: a `FORCE_CHANGE_PASSWORD` user proved the temporary
    /// password and must choose a permanent one ([`complete_new_password`]) before any
    /// token is issued.
    ///
    /// [`complete_new_password`]: super::account::AccountService::complete_new_password
    NewPasswordRequired(User),
    /// The password is right and the user must pass one of `factors` (enrolled, the
    /// preferred first) before any token (Cognito's `SOFTWARE_TOKEN_MFA`, `EMAIL_OTP`,
    /// `SELECT_MFA_TYPE`).
    MfaRequired { user: User, factors: Vec<MfaFactor> },
    /// The pool's `mfa` is `ON` and the user has no factor: enrol one of `factors` first
    /// (Cognito's `MFA_SETUP`); no token, session or code until then.
    MfaSetup { user: User, factors: Vec<MfaFactor> },
}

impl SignInOutcome {
    /// The outcome for `user`, who proved one factor (a password, a new password, an
    /// emailed sign-in code), by the pool's `mfa` rule.
    pub fn after_first_factor(pool: &UserPool, user: User) -> SignInOutcome {
        match requirement(pool, &user) {
            Requirement::None => SignInOutcome::SignedIn(user),
            Requirement::Challenge { factors } => SignInOutcome::MfaRequired { user, factors },
            Requirement::Setup { factors } => SignInOutcome::MfaSetup { user, factors },
        }
    }
}

/// Why a sign-in was refused. Messages are Cognito's where Cognito has one; the edge
/// chooses what to show (the hosted UI maps each to a catalog message, the AWS API to an
/// exception name).
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The app client does not take the pool's own users (no `COGNITO` among its
    /// identity providers), so it has no password sign-in.
    #[error("This app client does not sign users in with a password.")]
    PasswordsNotTaken,
    /// Wrong password, unknown login and malformed input alike (Cognito's
    /// `NotAuthorizedException`), so the answer never tells who exists.
    #[error("Incorrect username or password.")]
    NotAuthorized,
    /// Too many failures: refused without verifying the password until `until`
    /// (Cognito: `NotAuthorizedException`, "Password attempts exceeded").
    #[error("Password attempts exceeded")]
    Locked { until: UnixTime },
    #[error("User is not confirmed.")]
    UserNotConfirmed,
    #[error("Password reset required for the user")]
    PasswordResetRequired,
    #[error("User is disabled.")]
    UserDisabled,
    #[error("Temporary password has expired and must be reset by an administrator.")]
    TemporaryPasswordExpired,
    /// A parameter no honest client sends (an SRP `A` with `A mod N = 0`, a `u` of 0, a
    /// signature that is not base64): Cognito's `InvalidParameterException`.
    #[error("{reason}")]
    InvalidParameter { field: &'static str, reason: String },
    /// The SRP state (`SECRET_BLOCK`) is unknown, used, expired, or bound to another user
    /// or client (Cognito: `NotAuthorizedException`, "Invalid session for the user.").
    #[error("Invalid session for the user, session is expired.")]
    SessionExpired,
    /// The store or the hasher failed; the detail is for the log, not the user.
    #[error("{stage}: {source}")]
    Internal {
        stage: &'static str,
        source: DirectoryError,
    },
}

/// The first step of `USER_SRP_AUTH` (Cognito's `InitiateAuth` with `SRP_A`).
pub struct SrpStart<'a> {
    pub pool: &'a UserPool,
    pub client: &'a AppClient,
    /// `USERNAME` as sent: a username or a sign-in alias.
    pub login: &'a str,
    /// `SRP_A`, hex.
    pub srp_a: &'a str,
    pub address: IpAddr,
    pub now: UnixTime,
}

/// Cognito's `PASSWORD_VERIFIER` challenge parameters. An unknown user and a user without
/// a verifier get the same shape (a deterministic fake salt and `B`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrpChallenge {
    /// `SALT`, hex.
    pub salt: String,
    /// `SRP_B`, hex.
    pub srp_b: String,
    /// `SECRET_BLOCK`: names the stored server state (single use, 3 minutes).
    pub secret_block: String,
    /// `USER_ID_FOR_SRP`: the name the client hashes the password with.
    pub user_id_for_srp: String,
    /// `USERNAME`.
    pub username: String,
}

/// The `PASSWORD_VERIFIER` answer (Cognito's `RespondToAuthChallenge`).
pub struct SrpVerify<'a> {
    pub pool: &'a UserPool,
    pub client: &'a AppClient,
    /// `USERNAME` of the challenge responses.
    pub username: &'a str,
    /// `PASSWORD_CLAIM_SECRET_BLOCK`.
    pub secret_block: &'a str,
    /// `PASSWORD_CLAIM_SIGNATURE`, base64.
    pub signature: &'a str,
    /// `TIMESTAMP`, `EEE MMM d HH:mm:ss UTC yyyy`.
    pub timestamp: &'a str,
    pub address: IpAddr,
    pub now: UnixTime,
}

/// Password sign-in over the directory and the brute-force throttle. Cheap to clone.
#[derive(Clone)]
pub struct SignIn {
    directory: Directory,
    throttle: Throttle,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn").finish()
    }
}

impl SignIn {
    pub fn new(directory: Directory, throttle: Throttle) -> Self {
        SignIn {
            directory,
            throttle,
        }
    }

    /// Signs a user in with a password (the steps are in the [module doc](self)). The
    /// throttle's delay is waited out here, in real time, before the password is verified.
    pub async fn password(
        &self,
        request: PasswordSignIn<'_>,
    ) -> Result<SignInOutcome, SignInError> {
        let PasswordSignIn {
            pool,
            client,
            login,
            password,
            address,
            now,
        } = request;
        if !client.takes_own_users() {
            return Err(SignInError::PasswordsNotTaken);
        }
        if login.is_empty()
            || login.len() > MAX_LOGIN_BYTES
            || password.expose().len() > MAX_PASSWORD_BYTES
        {
            return Err(SignInError::NotAuthorized);
        }
        let (found, login_key) = self.reserved_lookup(pool, login, address, now).await?;
        let verified = self
            .directory
            .authenticate_found(pool, found, password, now)
            .await;
        // These outcomes follow a password proven right (authenticate_found looks at the
        // user's state only then).
        let proven = matches!(
            verified,
            Ok(_)
                | Err(DirectoryError::UserDisabled
                    | DirectoryError::UserNotConfirmed
                    | DirectoryError::PasswordResetRequired
                    | DirectoryError::TemporaryPasswordExpired)
        );
        if proven {
            // The password was right (the user's status may still refuse): the guessing is
            // over, so the counts go. One that cannot be cleared only delays the user's
            // next attempts.
            let _ = self
                .throttle
                .record_success(&pool.id, &login_key, address)
                .await;
        }
        let user = match verified {
            Ok(user) => user,
            // The reservation already counted the failure.
            Err(DirectoryError::NotAuthorized) => return Err(SignInError::NotAuthorized),
            Err(DirectoryError::UserNotConfirmed) => return Err(SignInError::UserNotConfirmed),
            Err(DirectoryError::PasswordResetRequired) => {
                return Err(SignInError::PasswordResetRequired)
            }
            Err(DirectoryError::UserDisabled) => return Err(SignInError::UserDisabled),
            Err(DirectoryError::TemporaryPasswordExpired) => {
                return Err(SignInError::TemporaryPasswordExpired)
            }
            Err(source) => {
                return Err(SignInError::Internal {
                    stage: "sign-in failed",
                    source,
                })
            }
        };
        if user.status == UserStatus::ForceChangePassword {
            return Ok(SignInOutcome::NewPasswordRequired(user));
        }
        Ok(SignInOutcome::after_first_factor(pool, user))
    }

    /// `USER_SRP_AUTH`, step 1: checks `A`, looks the login up and answers the
    /// `PASSWORD_VERIFIER` challenge, keeping the server's secret `b` in the store (single
    /// use, bound to the user and the client, 3 minutes). Nothing is counted here: no
    /// password is tried until [`SignIn::srp_verify`].
    pub async fn srp_start(&self, request: SrpStart<'_>) -> Result<SrpChallenge, SignInError> {
        let _ = request;
        todo!("issue 14 H1: USER_SRP_AUTH step 1")
    }

    /// `USER_SRP_AUTH`, step 2 (`PASSWORD_VERIFIER`): takes the stored state (single use),
    /// reserves the attempt with the throttle exactly as [`SignIn::password`] does, then
    /// checks the timestamp and the claim signature (constant time). The outcome is
    /// [`SignIn::password`]'s: the user's status and the pool's `mfa` rule choose it.
    pub async fn srp_verify(&self, request: SrpVerify<'_>) -> Result<SignInOutcome, SignInError> {
        let _ = request;
        todo!("issue 14 H1: USER_SRP_AUTH step 2")
    }

    /// Looks the login up and reserves the attempt with the throttle: counted per account,
    /// so every identifier of one user shares one count. Returns the user found (if any)
    /// and the key the attempt is counted under.
    async fn reserved_lookup(
        &self,
        pool: &UserPool,
        login: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> Result<(Option<User>, String), SignInError> {
        let internal = |source: DirectoryError| SignInError::Internal {
            stage: "brute-force check",
            source,
        };
        let found = self
            .directory
            .find_user(pool, login)
            .await
            .map_err(internal)?;
        let key = account_login_key(pool, login, found.as_ref());
        let verdict = self
            .throttle
            .reserve(&pool.id, &key, address, now)
            .await
            .map_err(|e| internal(e.into()))?;
        match verdict {
            Verdict::Locked { until } => Err(SignInError::Locked { until }),
            Verdict::Allow { delay } if delay.is_zero() => Ok((found, key)),
            Verdict::Allow { delay } => {
                // Waited after the reservation, so attempts that arrive meanwhile are
                // counted against the limit already. After the wait the user is read again
                // (it may have been disabled), but only as the account the attempt was
                // counted under: a login that now names another account (a username or
                // alias moved meanwhile) is answered as a wrong password, never verified
                // against an account whose count it did not raise.
                tokio::time::sleep(delay).await;
                let again = self
                    .directory
                    .find_user(pool, login)
                    .await
                    .map_err(internal)?;
                let found = match (found, again) {
                    (Some(first), Some(again)) if again.sub == first.sub => Some(again),
                    _ => None,
                };
                Ok((found, key))
            }
        }
    }
}
