//! Lazy user migration (Cognito's user migration trigger): a login nobody in the pool has
//! is offered to the pool's `user_migration` webhook, which may answer with the user to
//! create. Called by the password sign-in (with the password typed) and the forgotten
//! password flow (without one), each AFTER its own attempt count, since the webhook sees
//! clear passwords and must not become a guessing oracle.
//!
//! One call per burst: the first caller takes a short-lived claim in the shared store
//! (keyed by pool and folded login, so it holds across nodes) before calling the webhook;
//! the others wait for the claim to go and read the user again, or give up as for an
//! unknown user. The user is created through [`Directory::create_user`], so the pool's
//! identifier rules hold (a username or alias another user holds refuses the migration)
//! and the password is hashed (Argon2id) with its SRP verifier, as any password write.

use std::time::Duration;

use super::{normalize_email, normalize_username, Directory, InitialState, NewUser};
use crate::core::model::{User, UserPool, UserStatus};
use crate::core::secrets::SecretString;
use crate::core::storage::Conflict;
use crate::core::triggers::TriggerCaller;
use crate::core::UnixTime;

/// The store kind of the single-flight claims.
pub const MIGRATION_CLAIM_KIND: &str = "migration_claim";
/// What the claim allows, beyond the webhook's slowest delivery, for creating the user
/// (hashing the password).
const CREATION_MARGIN: Duration = Duration::from_secs(5);
/// How often a caller that lost the claim looks again.
const POLL: Duration = Duration::from_millis(50);

/// Which of Cognito's two migration moments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationSource {
    /// `UserMigration_Authentication`: a password sign-in.
    Authentication,
    /// `UserMigration_ForgotPassword`: a password reset asked for.
    ForgotPassword,
}

impl MigrationSource {
    fn trigger_source(self) -> &'static str {
        match self {
            MigrationSource::Authentication => "UserMigration_Authentication",
            MigrationSource::ForgotPassword => "UserMigration_ForgotPassword",
        }
    }
}

impl Directory {
    /// Offers `login`, which nobody in `pool` has, to the pool's user migration webhook and
    /// creates the user it answers with (`password` as their password; `None` for a
    /// reset). `None` when the pool has no such webhook, when the webhook refuses or fails,
    /// when the answer cannot be honoured or the user cannot be created (all logged,
    /// never told to the caller), and when another caller's migration of the same login
    /// did not produce the user in time. The caller answers `None` as for an unknown user.
    pub async fn migrate(
        &self,
        pool: &UserPool,
        source: MigrationSource,
        login: &str,
        password: Option<&SecretString>,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> Option<User> {
        let webhooks = self.webhooks.as_ref()?;
        pool.triggers
            .url(crate::core::model::TriggerKind::UserMigration)?;
        let login = login.trim();
        // No account can have such a login; the webhook is not asked about it.
        if login.is_empty() || login.len() > crate::core::signin::MAX_LOGIN_BYTES {
            return None;
        }
        let folded = if login.contains('@') {
            normalize_email(login)
        } else {
            normalize_username(pool, login)
        };
        let claim_id = format!("{}:{folded}", pool.id);
        // The claim outlives the slowest delivery and the user's creation (a password
        // hash), so a crashed node's claim frees itself; counted from the clock now, not
        // from the request's start (the sign-in's throttle may have delayed it). Its value
        // is this caller's own token, so only this caller releases it.
        let wait = webhooks.max_delivery_time() + CREATION_MARGIN;
        let claimed_at = chrono::Utc::now().timestamp();
        let expires_at = claimed_at + i64::try_from(wait.as_secs()).unwrap_or(i64::MAX / 2) + 1;
        let owner = crate::core::secrets::random_token::<16>();
        match self
            .store
            .put_ephemeral(
                MIGRATION_CLAIM_KIND,
                &claim_id,
                &owner,
                expires_at,
                claimed_at,
            )
            .await
        {
            Ok(()) => {}
            Err(crate::core::storage::StoreError::Conflict(Conflict::Exists)) => {
                return self.await_migration(pool, login, &claim_id, wait).await;
            }
            Err(e) => {
                tracing::warn!(pool = %pool.id, error = %e, "user migration claim failed");
                return None;
            }
        }
        let migrated = self
            .migrate_claimed(pool, source, login, password, caller, now)
            .await;
        // Done either way: the next attempt may try again (after its own count). The claim
        // is expired (never deleted outright) only while it is still this caller's.
        let released_at = chrono::Utc::now().timestamp();
        let _ = self
            .store
            .replace_ephemeral(
                MIGRATION_CLAIM_KIND,
                &claim_id,
                &owner,
                &owner,
                released_at,
                released_at,
            )
            .await;
        migrated
    }

    async fn migrate_claimed(
        &self,
        pool: &UserPool,
        source: MigrationSource,
        login: &str,
        password: Option<&SecretString>,
        caller: &TriggerCaller,
        now: UnixTime,
    ) -> Option<User> {
        let webhooks = self.webhooks.as_ref()?;
        // The claim is taken: a user created meanwhile (a sign-up, another node's
        // migration that just finished) is not created twice.
        if let Ok(Some(user)) = self.find_user(pool, login).await {
            return Some(user);
        }
        let answer = match webhooks
            .user_migration(pool, source.trigger_source(), login, password, caller)
            .await?
        {
            Ok(answer) => answer,
            // Logged by the webhook caller.
            Err(_) => return None,
        };
        // A user migrated without a password (a reset asked for) must set one: CONFIRMED
        // would leave a password-less account that anyone asking for a reset of someone
        // else's login could create, and whose sign-ins never reach the webhook again.
        let mut state = match (answer.final_status, password) {
            (UserStatus::ResetRequired, _) | (_, None) => InitialState::ResetRequired,
            _ => InitialState::Confirmed,
        };
        // A compromised password (pool's `compromised_passwords` `block` or `reset`)
        // migrates the user all the same, RESET_REQUIRED: refusing the migration would
        // leave the user unable to sign in or reset at all, while the reset makes them
        // choose a password the check accepts (as Cognito's sign-in block does).
        if let Some(pw) = password {
            if state == InitialState::Confirmed && self.is_compromised(pool, pw).await {
                tracing::info!(pool = %pool.id, "migrated password compromised: reset required");
                state = InitialState::ResetRequired;
            }
        }
        let new = NewUser {
            username: login.to_string(),
            attributes: answer.attributes,
            password: password.cloned(),
            state,
        };
        match self.create_user(pool, new, now).await {
            Ok(user) => {
                tracing::info!(pool = %pool.id, sub = %user.sub, "user migrated in");
                Some(user)
            }
            Err(e) => {
                tracing::warn!(pool = %pool.id, error = %e, "migrated user not created");
                None
            }
        }
    }

    /// Another caller holds the claim: waits (at most `wait`) for it to go, then reads
    /// the user again.
    async fn await_migration(
        &self,
        pool: &UserPool,
        login: &str,
        claim_id: &str,
        wait: Duration,
    ) -> Option<User> {
        let deadline = tokio::time::Instant::now() + wait;
        while tokio::time::Instant::now() < deadline {
            tokio::time::sleep(POLL).await;
            let now = chrono::Utc::now().timestamp();
            match self
                .store
                .get_ephemeral(MIGRATION_CLAIM_KIND, claim_id, now)
                .await
            {
                Ok(Some(_)) => continue,
                Ok(None) => return self.find_user(pool, login).await.ok().flatten(),
                Err(_) => return None,
            }
        }
        None
    }
}
