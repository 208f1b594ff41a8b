//! What a signed-in user does to their own account with an access token: change the
//! password (Cognito's ChangePassword), delete the account (DeleteUser), and sign out
//! everywhere (GlobalSignOut).

use std::net::IpAddr;

use super::{AccountError, AccountResult, AccountService};
use crate::core::model::AuthEventKind;
use crate::core::model::{AppClient, User, UserPool, UserStatus};
use crate::core::oauth::grants::TokenService;
use crate::core::secrets::SecretString;
use crate::core::signin::{PasswordSignIn, SignIn, SignInError, SignInOutcome};
use crate::core::signout;
use crate::core::threat::{EventContext, Subject};
use crate::core::UnixTime;

/// Cognito's answer to a wrong PreviousPassword.
pub const INCORRECT_PASSWORD: &str = "Incorrect username or password.";

/// One ChangePassword request.
pub struct PasswordChange<'a> {
    pub pool: &'a UserPool,
    pub client: &'a AppClient,
    /// The user the access token stands for.
    pub user: &'a User,
    pub previous: &'a SecretString,
    pub proposed: &'a SecretString,
    /// The client address the edge trusts (the sign-in throttle counts per account and
    /// per account-and-address).
    pub address: IpAddr,
    /// The request as the auth event log records it (`PasswordChange`).
    pub context: EventContext,
    pub now: UnixTime,
}

impl AccountService {
    /// ChangePassword: the proposed password must meet the pool's policy (checked first,
    /// so a weak one costs no attempt); the previous one is then verified as a password
    /// sign-in ([`SignIn::password`]), so it is counted, delayed and locked by the sign-in
    /// throttle like any other guess: a stolen access token does not buy free guesses at
    /// the password. Then the new password is written through the directory's password
    /// writer, which replaces the hash and the SRP verifier. Other sessions are left
    /// alone, as in Cognito. The outcome is recorded in the auth event log
    /// (`PasswordChange`).
    pub async fn change_password(
        &self,
        signin: &SignIn,
        change: PasswordChange<'_>,
    ) -> AccountResult<User> {
        let (pool, user, now) = (change.pool, change.user, change.now);
        let context = change.context.clone();
        let result = self.change_password_unrecorded(signin, change).await;
        self.record(
            pool,
            AuthEventKind::PasswordChange,
            Subject::User(user),
            &context,
            &result,
            super::events::itself,
            &[("by", "user")],
            now,
        )
        .await;
        result
    }

    async fn change_password_unrecorded(
        &self,
        signin: &SignIn,
        change: PasswordChange<'_>,
    ) -> AccountResult<User> {
        let PasswordChange {
            pool,
            client,
            user,
            previous,
            proposed,
            address,
            now,
            ..
        } = change;
        self.directory
            .check_new_password(pool, proposed)
            .await
            .map_err(AccountError::InvalidPassword)?;
        let attempt = PasswordSignIn {
            pool,
            client,
            login: &user.username,
            password: previous,
            address,
            now,
            validation_data: Default::default(),
            // A re-check of the current password, not a sign-in: not recorded or scored.
            context: None,
        };
        match signin.password(attempt).await {
            // Any next step (a second factor, a new password) follows a proven password;
            // the login must have been this user's own (a legacy username shaped like an
            // address could name someone else's alias).
            Ok(outcome) if proven_user(&outcome).sub == user.sub => {}
            // The previous password was right but compromised (the pool's
            // `compromised_passwords = "reset"` just set RESET_REQUIRED): this change is
            // the remedy, so it goes on (a permanent password makes the user CONFIRMED),
            // once the password is proven to be this user's own (the login could have
            // named someone else's alias). A reset pending before this request still
            // refuses.
            Err(SignInError::PasswordResetRequired)
                if user.status != UserStatus::ResetRequired
                    && self
                        .directory
                        .passwords()
                        .verify(previous, user.password_hash.as_ref())
                        .await
                        .is_ok_and(|v| v.ok) =>
            {
                tracing::info!(pool = %pool.id, sub = %user.sub, "compromised previous password replaced");
            }
            Ok(_) | Err(SignInError::NotAuthorized) => {
                return Err(AccountError::NotAuthorized(INCORRECT_PASSWORD.into()))
            }
            Err(SignInError::Internal { source, .. }) => return Err(source.into()),
            // Locked ("Password attempts exceeded"), disabled, ...: Cognito's words.
            Err(e) => return Err(AccountError::NotAuthorized(e.to_string())),
        }
        Ok(self
            .directory
            .set_password(pool, &user.sub, proposed, true, now)
            .await?)
    }

    /// DeleteUser: the user is removed, and signed out everywhere first, so a refresh
    /// token or session cannot outlive the account (and a re-created user with the same
    /// sub, which never happens, could not inherit them).
    pub async fn delete_self(
        &self,
        pool: &UserPool,
        sub: &str,
        now: UnixTime,
    ) -> AccountResult<()> {
        signout::sign_out_everywhere(self.store().as_ref(), &pool.id, sub, now).await?;
        Ok(self.directory.delete_user(pool, sub).await?)
    }

    /// GlobalSignOut: every session, refresh token and earlier access token of the user
    /// stops working ([`signout::sign_out_everywhere`]); the calling token's own family is
    /// revoked too, so the token that asked is refused at once even within the sign-out's
    /// second (the marker refuses tokens issued in earlier seconds only).
    pub async fn sign_out_self(
        &self,
        tokens: &TokenService,
        pool: &UserPool,
        sub: &str,
        origin_jti: &str,
        token_expires_at: UnixTime,
        now: UnixTime,
    ) -> AccountResult<()> {
        signout::sign_out_everywhere(self.store().as_ref(), &pool.id, sub, now).await?;
        tokens
            .revoke_family(origin_jti, token_expires_at, now)
            .await
            .map_err(|e| AccountError::Internal(e.to_string()))
    }
}

/// The user whose password a sign-in proved, whatever step comes next.
fn proven_user(outcome: &SignInOutcome) -> &User {
    match outcome {
        SignInOutcome::SignedIn(user)
        | SignInOutcome::NewPasswordRequired(user)
        | SignInOutcome::MfaRequired { user, .. }
        | SignInOutcome::MfaSetup { user, .. } => user,
    }
}
