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
//!    it disabled). A login nobody has is then offered to the pool's user migration
//!    webhook, after the reservation ([`Directory::migrate`]: once per burst, the user
//!    created only when it accepts); a refusal leaves it unknown;
//! 4. the password is verified ([`Directory::authenticate_found`]: unknown users cost one
//!    verification too). The reservation stands as the failure of a wrong password or an
//!    unknown login; a password proven right clears the account's and the address's counts
//!    (whatever the user's status then says). Only then, for a user whose status lets the
//!    sign-in go on, are the pool's pre and post authentication webhooks called (either
//!    refuses the sign-in): a webhook never answers someone who did not prove the
//!    password, so its refusal cannot tell existing logins from unknown ones;
//! 5. the user's status chooses the next step: Cognito's `NEW_PASSWORD_REQUIRED` challenge
//!    for a `FORCE_CHANGE_PASSWORD` user; otherwise the pool's `mfa` rule
//!    ([`crate::core::mfa::requirement`]): a second factor to pass, enrolment first
//!    (`MFA_SETUP`), or tokens.
//!
//! `USER_SRP_AUTH` ([`SignIn::srp_start`], then [`SignIn::srp_verify`]) runs the same
//! steps with an SRP proof ([`crate::core::srp`]) in place of the password: step 1 at
//! both calls; the start only looks the login up and answers the `PASSWORD_VERIFIER`
//! challenge, counting nothing; the answer reserves the attempt under the account of the
//! login typed at the start (step 3) before its proof is checked, and a proof that holds
//! goes through the same step 5 ([`Directory::check_status`], then the outcome).
//!
//! Nothing here knows HTTP: the client address and the time come in the request.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::directory::{
    normalize_email, normalize_username, Directory, DirectoryError, MigrationSource,
};
use super::mfa::{requirement, Requirement};
use super::model::{AppClient, MfaFactor, User, UserPool, UserStatus};
use super::secrets::{constant_time_eq, random_bytes, EncryptedSecret, MasterKey, SecretString};
use super::srp::{self, SrpRefusal};
use super::storage::StoreError;
use super::threat::{EventContext, Risk};
use super::throttle::{account_login_key, Throttle, Verdict};
use super::triggers::{TriggerCaller, TriggerError};
use super::UnixTime;

#[cfg(test)]
mod tests;
mod threat;

use threat::Attempt;

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
    /// The request's `ClientMetadata`, the user migration webhook's `validationData`
    /// (empty where the edge has none).
    pub validation_data: BTreeMap<String, String>,
    /// Where the attempt comes from, for the auth event log and the risk signals; `None`
    /// for a password re-check that is no sign-in (ChangePassword's previous password):
    /// not recorded, not scored.
    pub context: Option<EventContext>,
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
    /// The pool's pre or post authentication webhook failed or refused (Cognito's
    /// `UserLambdaValidationException`, "PreAuthentication failed with error ...").
    #[error("{0}")]
    TriggerRefused(String),
    /// Threat protection's `block` response to a risky sign-in (Cognito's
    /// `NotAuthorizedException`, "Unable to login because of security reasons.").
    #[error("Unable to login because of security reasons.")]
    BlockedByRisk,
    /// The store or the hasher failed; the detail is for the log, not the user.
    #[error("{stage}: {source}")]
    Internal {
        stage: &'static str,
        source: DirectoryError,
    },
}

/// A trigger's refusal in sign-in terms (an unreadable secret is internal).
pub(crate) fn trigger_refusal(e: TriggerError) -> SignInError {
    match e {
        TriggerError::Failed { .. } => SignInError::TriggerRefused(e.to_string()),
        TriggerError::Internal(detail) => SignInError::Internal {
            stage: "trigger webhook",
            source: DirectoryError::InvalidParameter(detail),
        },
    }
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
    /// The request's `ClientMetadata`, for the pre and post authentication webhooks.
    pub client_metadata: BTreeMap<String, String>,
    /// Where the attempt comes from, for the auth event log and the risk signals.
    pub context: EventContext,
}

/// Password sign-in over the directory and the brute-force throttle. Cheap to clone.
#[derive(Clone)]
pub struct SignIn {
    directory: Directory,
    throttle: Throttle,
    /// Threat protection's event log and risk responses (pools with it off skip both).
    risk: Option<Risk>,
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
            risk: None,
        }
    }

    /// This sign-in, recording attempts and scoring risk for pools with threat protection.
    pub fn with_risk(mut self, risk: Risk) -> Self {
        self.risk = Some(risk);
        self
    }

    /// The risk service, if threat protection is wired.
    pub fn risk(&self) -> Option<&Risk> {
        self.risk.as_ref()
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
            validation_data,
            context,
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
        let (mut found, login_key) = match self.reserved_lookup(pool, login, address, now).await {
            Ok(v) => v,
            Err(e) => {
                let attempt = Attempt::new(login, context.as_ref(), "Password", now);
                // A locked account's attempt is its user's event (the SRP path knows the
                // user already); looked up only when the log records it.
                let sub = match (
                    &e,
                    context.is_some() && pool.threat_protection.records_events(),
                ) {
                    (SignInError::Locked { .. }, true) => self
                        .directory
                        .find_user(pool, login)
                        .await
                        .ok()
                        .flatten()
                        .map(|u| u.sub),
                    _ => None,
                };
                return Err(self.refused(pool, sub.as_deref(), &attempt, e).await);
            }
        };
        // InitiateAuth's ClientMetadata reaches user migration and pre authentication as
        // their `validationData`, as in Cognito (their `clientMetadata`, and post
        // authentication's, carry RespondToAuthChallenge's).
        let caller = TriggerCaller {
            validation_data,
            ..TriggerCaller::client(&client.id)
        };
        if found.is_none() {
            // Lazy migration, only now that the attempt is counted: the webhook sees the
            // password, so it gets no more guesses than the sign-in itself.
            found = self
                .directory
                .migrate(
                    pool,
                    MigrationSource::Authentication,
                    login,
                    Some(password),
                    &caller,
                    now,
                )
                .await;
        }
        let found_sub = found.as_ref().map(|u| u.sub.clone());
        let verified = self
            .directory
            .authenticate_found(pool, found, password, now)
            .await;
        // Threat protection: a proven but compromised password, with the pool's
        // `compromised_passwords = "reset"`, sets RESET_REQUIRED and refuses the sign-in.
        let proven = verified.is_ok();
        let verified = self
            .directory
            .reset_if_compromised(pool, verified, password, now)
            .await;
        let attempt = Attempt {
            sub: found_sub,
            // The event says why the proven password was refused (Cognito's
            // `CompromisedCredentialsDetected`).
            compromised: proven && matches!(verified, Err(DirectoryError::PasswordResetRequired)),
            ..Attempt::new(login, context.as_ref(), "Password", now)
        };
        self.conclude(pool, &caller, &login_key, address, verified, attempt)
            .await
    }

    /// What follows the first factor's check, for a password and an SRP proof alike:
    /// `verified` is the user whose password was proven and whose status allows going on
    /// ([`Directory::check_status`]), or why not. A proven password clears the throttle's
    /// counts; then the pre and post authentication webhooks are called (either may
    /// refuse); the user's status and the pool's `mfa` rule choose the outcome.
    async fn conclude(
        &self,
        pool: &UserPool,
        caller: &TriggerCaller,
        login_key: &str,
        address: IpAddr,
        verified: Result<User, DirectoryError>,
        attempt: Attempt<'_>,
    ) -> Result<SignInOutcome, SignInError> {
        let outcome = self
            .conclude_first_factor(pool, caller, login_key, address, verified)
            .await;
        match outcome {
            Ok(outcome) => self.respond_to_risk(pool, outcome, &attempt).await,
            Err(e) => {
                let sub = attempt.sub.clone();
                Err(self.refused(pool, sub.as_deref(), &attempt, e).await)
            }
        }
    }

    /// [`SignIn::conclude`] before threat protection: the throttle, the webhooks, the
    /// user's status and the pool's `mfa` rule.
    async fn conclude_first_factor(
        &self,
        pool: &UserPool,
        caller: &TriggerCaller,
        login_key: &str,
        address: IpAddr,
        verified: Result<User, DirectoryError>,
    ) -> Result<SignInOutcome, SignInError> {
        // These outcomes follow a password proven right (the user's state is looked at
        // only then).
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
                .record_success(&pool.id, login_key, address)
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
        if let Some(webhooks) = self.directory.webhooks() {
            // Pre authentication only once the first factor is proven: called before the
            // check (as Cognito does), a webhook refusing by the user's attributes would
            // answer an existing user differently from an unknown one to anyone typing a
            // login, and refuse without a password. Here its refusal reaches only someone
            // who proved the password, and every failed attempt answers alike.
            webhooks
                .pre_authentication(pool, &user, caller)
                .await
                .map_err(trigger_refusal)?;
            webhooks
                .post_authentication(pool, &user, caller)
                .await
                .map_err(trigger_refusal)?;
        }
        if user.status == UserStatus::ForceChangePassword {
            return Ok(SignInOutcome::NewPasswordRequired(user));
        }
        Ok(SignInOutcome::after_first_factor(pool, user))
    }

    /// `USER_SRP_AUTH`, step 1: checks `A`, looks the login up and answers the
    /// `PASSWORD_VERIFIER` challenge, keeping the server's secret `b` in the store (single
    /// use, bound to the user and the client, 3 minutes). Nothing is counted here: no
    /// password is tried until [`SignIn::srp_verify`].
    ///
    /// A login nobody has, and a user without a verifier, get a challenge of the same
    /// shape (see [`crate::core::srp`], "Unknown users"), and their state is stored alike;
    /// the cost is one modular exponentiation (`g^b`) either way.
    pub async fn srp_start(&self, request: SrpStart<'_>) -> Result<SrpChallenge, SignInError> {
        let SrpStart {
            pool,
            client,
            login,
            srp_a,
            address: _,
            now,
        } = request;
        if !client.takes_own_users() {
            return Err(SignInError::PasswordsNotTaken);
        }
        let a = srp::parse_a(srp_a).map_err(SignInError::from)?;
        if login.is_empty() || login.len() > MAX_LOGIN_BYTES {
            return Err(SignInError::NotAuthorized);
        }
        let master = self.srp_master()?;
        let found = self
            .directory
            .find_user(pool, login)
            .await
            .map_err(|source| SignInError::Internal {
                stage: "SRP user lookup",
                source,
            })?;
        let real = found
            .as_ref()
            .and_then(|user| Some((user, self.directory.open_srp_verifier(pool, user)?)));
        let (sub, username, salt, v) = match real {
            Some((user, (salt, v))) => (Some(user.sub.clone()), user.username.clone(), salt, v),
            None => {
                // A user without a verifier is keyed by sub, so every login of theirs gets
                // one salt, as a real user's does; an unknown login by its folded form.
                let key = master.derive_key(SRP_FAKE_KEY_PURPOSE);
                let seed = match &found {
                    Some(user) => format!("sub:{}", user.sub),
                    None => format!("login:{}", fold_login(pool, login)),
                };
                let (salt, v) = srp::fake_verifier(&key, &pool.id, &seed);
                let username = match &found {
                    Some(user) => user.username.clone(),
                    // Such a pool's usernames are subs: an unknown login gets a UUID.
                    None if !pool.username_attributes.is_empty() => {
                        srp::fake_user_id(&key, &pool.id, &seed)
                    }
                    None => login.to_string(),
                };
                (None, username, salt, v)
            }
        };
        let b = random_bytes::<{ srp::SERVER_SECRET_BYTES }>();
        let b_pub = srp::server_public(&v, &b);
        if srp::scrambler(&a, &b_pub) == num_bigint::BigUint::ZERO {
            // Probability 2^-256; refused rather than retried (RFC 5054, section 2.6).
            return Err(SrpRefusal {
                field: "SRP_A",
                reason: "SRP_A gives a scrambling parameter of zero.".into(),
            }
            .into());
        }
        let block = random_bytes::<SECRET_BLOCK_BYTES>();
        let id = srp_state_id(&block);
        let mut secret = b.to_vec();
        secret.extend_from_slice(&v.to_bytes_be());
        let state = SrpState {
            pool_id: pool.id.clone(),
            client_id: client.id.clone(),
            login: login.to_string(),
            sub,
            username: username.clone(),
            salt: salt.clone(),
            srp_a: srp::int_to_hex(&a),
            srp_b: srp::int_to_hex(&b_pub),
            secret: master.seal(&srp_state_context(&pool.id, &id), &secret),
        };
        let value = serde_json::to_string(&state).map_err(|e| corrupt_state(e.to_string()))?;
        self.directory
            .store()
            .put_ephemeral(SRP_STATE_KIND, &id, &value, now + SRP_STATE_TTL_SECS, now)
            .await
            .map_err(|e| SignInError::Internal {
                stage: "SRP state",
                source: e.into(),
            })?;
        Ok(SrpChallenge {
            salt,
            srp_b: state.srp_b,
            secret_block: STANDARD.encode(block),
            user_id_for_srp: username.clone(),
            username,
        })
    }

    /// `USER_SRP_AUTH`, step 2 (`PASSWORD_VERIFIER`): takes the stored state (single use),
    /// checks the timestamp, reserves the attempt with the throttle exactly as
    /// [`SignIn::password`] does, then checks the claim signature (constant time). The
    /// outcome is
    /// [`SignIn::password`]'s: the user's status and the pool's `mfa` rule choose it.
    ///
    /// In order: the state is taken (so a second answer finds nothing, on any node) and
    /// must belong to this pool, client and `USERNAME`; the timestamp and the signature
    /// must be well-formed and the timestamp within [`srp::TIMESTAMP_WINDOW_SECS`] of
    /// `now` (none of this tries a password, so none of it is counted); then the attempt is
    /// reserved under the account of the login typed at [`SignIn::srp_start`], and only
    /// then is the proof checked. A login that had no verifier, a user whose password
    /// changed since the challenge and a wrong password all fail alike, as a counted
    /// wrong password.
    pub async fn srp_verify(&self, request: SrpVerify<'_>) -> Result<SignInOutcome, SignInError> {
        let SrpVerify {
            pool,
            client,
            username,
            secret_block,
            signature,
            timestamp,
            address,
            now,
            client_metadata,
            context,
        } = request;
        // RespondToAuthChallenge's ClientMetadata: post authentication's
        // `clientMetadata` (pre authentication's `validationData` is InitiateAuth's, which
        // this step does not have).
        let caller = TriggerCaller {
            client_metadata,
            ..TriggerCaller::client(&client.id)
        };
        if !client.takes_own_users() {
            return Err(SignInError::PasswordsNotTaken);
        }
        let master = self.srp_master()?;
        // A block we made is base64 of SECRET_BLOCK_BYTES; anything else names no state.
        if secret_block.len() > 4 * SECRET_BLOCK_BYTES {
            return Err(SignInError::SessionExpired);
        }
        let Ok(block) = STANDARD.decode(secret_block) else {
            return Err(SignInError::SessionExpired);
        };
        let id = srp_state_id(&block);
        let taken = self
            .directory
            .store()
            .take_ephemeral(SRP_STATE_KIND, &id, now)
            .await
            .map_err(|e| SignInError::Internal {
                stage: "SRP state",
                source: e.into(),
            })?;
        let Some(value) = taken else {
            return Err(SignInError::SessionExpired);
        };
        let state: SrpState =
            serde_json::from_str(&value).map_err(|e| corrupt_state(e.to_string()))?;
        // Bound to the pool, the client and the user the challenge was for. USERNAME may
        // be the challenge's USERNAME / USER_ID_FOR_SRP (amazon-cognito-identity-js sends
        // the latter, Amplify v6 the former) or the login as typed.
        let named = username == state.username || username == state.login;
        if state.pool_id != pool.id || state.client_id != client.id || !named {
            return Err(SignInError::SessionExpired);
        }
        let claimed_at = srp::parse_timestamp(timestamp)?;
        let signature = srp::parse_signature(signature)?;
        if !srp::timestamp_is_fresh(claimed_at, now) {
            return Err(SignInError::NotAuthorized);
        }
        let opened = master
            .open(&srp_state_context(&pool.id, &id), &state.secret)
            .map_err(|e| corrupt_state(e.to_string()))?;
        if opened.len() <= srp::SERVER_SECRET_BYTES {
            return Err(corrupt_state("short secret".into()));
        }
        let (b, v) = opened.split_at(srp::SERVER_SECRET_BYTES);
        let v = num_bigint::BigUint::from_bytes_be(v);
        let (Some(a), Some(b_pub)) = (
            srp::int_from_hex(&state.srp_a),
            srp::int_from_hex(&state.srp_b),
        ) else {
            return Err(corrupt_state("not hex".into()));
        };

        let (found, login_key) = match self.reserved_lookup(pool, &state.login, address, now).await
        {
            Ok(v) => v,
            Err(e) => {
                let attempt = Attempt::new(&state.login, Some(&context), "PasswordVerifier", now);
                return Err(self.refused(pool, state.sub.as_deref(), &attempt, e).await);
            }
        };
        // The key is computed whoever asked, so a login without a verifier costs what a
        // real one does; its proof is refused below whatever it says.
        let key = srp::session_key(&a, &b_pub, b, &v)?;
        let expected = srp::claim(&key, &pool.id, &state.username, &block, timestamp);
        let proof_holds = constant_time_eq(&expected, &signature);
        // The proof counts only for the user the challenge was made for, still holding the
        // verifier it was made with: a password changed since came with a new salt.
        let user = found.filter(|user| {
            state.sub.as_deref() == Some(user.sub.as_str())
                && user.srp.as_ref().is_some_and(|srp| srp.salt == state.salt)
        });
        let verified = match user {
            Some(user) if proof_holds => Directory::check_status(&user, now).map(|()| user),
            _ => Err(DirectoryError::NotAuthorized),
        };
        let attempt = Attempt {
            sub: state.sub.clone(),
            ..Attempt::new(&state.login, Some(&context), "PasswordVerifier", now)
        };
        self.conclude(pool, &caller, &login_key, address, verified, attempt)
            .await
    }

    /// Reserves one attempt of `login` from `address` with the throttle, as a password
    /// attempt is reserved, for a first factor that is not a password (a `CUSTOM_AUTH`
    /// answer, before its verify webhook is called): the account's and the
    /// account-and-address's counts are raised before the check, a locked account is
    /// refused, a slowed one waits here. Returns the user `login` names now and the key
    /// the attempt is counted under ([`SignIn::attempt_proven`] clears it).
    pub async fn reserve_attempt(
        &self,
        pool: &UserPool,
        login: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> Result<(Option<User>, String), SignInError> {
        if login.is_empty() || login.len() > MAX_LOGIN_BYTES {
            return Err(SignInError::NotAuthorized);
        }
        self.reserved_lookup(pool, login, address, now).await
    }

    /// A first factor proven (a whole `CUSTOM_AUTH` flow that ended in tokens): the
    /// account's and that address's counts go, as for a password proven right.
    pub async fn attempt_proven(&self, pool: &UserPool, login_key: &str, address: IpAddr) {
        // One that cannot be cleared only delays the user's next attempts.
        let _ = self
            .throttle
            .record_success(&pool.id, login_key, address)
            .await;
    }

    /// The `USERNAME` answered for a login nobody has: the login itself, or in a pool
    /// whose usernames are generated (`username_attributes`) a UUID derived from it, the
    /// one USER_SRP_AUTH answers, so neither flow tells who exists.
    pub fn unknown_username(&self, pool: &UserPool, login: &str) -> String {
        match self.directory.srp_key() {
            Some(master) if !pool.username_attributes.is_empty() => {
                let key = master.derive_key(SRP_FAKE_KEY_PURPOSE);
                srp::fake_user_id(
                    &key,
                    &pool.id,
                    &format!("login:{}", fold_login(pool, login)),
                )
            }
            _ => login.to_string(),
        }
    }

    /// The key SRP state is sealed under.
    fn srp_master(&self) -> Result<&Arc<MasterKey>, SignInError> {
        self.directory
            .srp_key()
            .ok_or_else(|| SignInError::Internal {
                stage: "USER_SRP_AUTH",
                source: DirectoryError::InvalidParameter(
                    "the directory has no master key to seal SRP state with".into(),
                ),
            })
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

impl From<SrpRefusal> for SignInError {
    fn from(e: SrpRefusal) -> Self {
        SignInError::InvalidParameter {
            field: e.field,
            reason: e.reason,
        }
    }
}

/// The store kind of the SRP state between [`SignIn::srp_start`] and
/// [`SignIn::srp_verify`].
pub const SRP_STATE_KIND: &str = "srp_state";
/// How long the SRP state lives: Cognito's `PASSWORD_VERIFIER` challenge must be answered
/// within 3 minutes.
pub const SRP_STATE_TTL_SECS: i64 = 180;
/// Random bytes in a `SECRET_BLOCK` (opaque base64 to the client, as Cognito's is).
const SECRET_BLOCK_BYTES: usize = 64;
/// The purpose of the key (derived from the master key) that the answers for unknown
/// users are derived under.
const SRP_FAKE_KEY_PURPOSE: &str = "srp-unknown-users";

/// The server's half of an SRP sign-in, stored under the hash of its `SECRET_BLOCK`.
///
/// `b` (and `v`, beside it) is sealed under the master key: with `b`, a reader of the
/// database alone who also saw the client's answer could test password guesses offline
/// (compute `v` for a guess, then `S`, the key and the claim), which is what a sealed
/// verifier is there to prevent.
#[derive(Serialize, Deserialize)]
struct SrpState {
    pool_id: String,
    client_id: String,
    /// The login as typed at the start (the throttle's account key is derived from it).
    login: String,
    /// The user the challenge was for; `None` for an unknown login or a user without a
    /// verifier (whose proof always fails).
    sub: Option<String>,
    /// `USERNAME` and `USER_ID_FOR_SRP` as answered.
    username: String,
    /// The salt of the verifier used: a password changed since comes with another.
    salt: String,
    srp_a: String,
    srp_b: String,
    /// `b` (SERVER_SECRET_BYTES) then `v`, sealed with [`srp_state_context`].
    secret: EncryptedSecret,
}

/// The state's id: a hash of the `SECRET_BLOCK`, so the store never holds the block
/// itself (a database reader cannot answer the challenge with it).
fn srp_state_id(block: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(block))
}

/// The associated data the state's secret is sealed with: bound to the pool and the
/// state's id, so a sealed `b` cannot be moved to another state.
fn srp_state_context(pool_id: &str, id: &str) -> String {
    format!("srp-state:{pool_id}:{id}")
}

/// An unknown login as the pool would find it: email-shaped logins folded as email
/// aliases are, others as usernames, so `Bob` and `bob` get one fake salt where the pool
/// finds one user by both.
fn fold_login(pool: &UserPool, login: &str) -> String {
    if login.contains('@') {
        normalize_email(login)
    } else {
        normalize_username(pool, login)
    }
}

fn corrupt_state(detail: String) -> SignInError {
    SignInError::Internal {
        stage: "SRP state",
        source: DirectoryError::Store(StoreError::Corrupt(detail)),
    }
}
