//! Signing a user out everywhere (Cognito's GlobalSignOut and AdminUserGlobalSignOut):
//! the user's hosted-UI sessions end, their refresh tokens stop working, and the access
//! tokens issued before stop answering at userInfo. A password reset by code does it (the
//! account may have been taken: [`crate::core::account::AccountService::confirm_forgot_password`]).
//!
//! Sessions and refresh tokens are stored under the hash of their secret, with no index
//! by user, so they cannot be found and deleted one by one. Instead each user who was ever
//! signed out has a marker (kind [`SIGN_OUT_KIND`], id `<pool>:<sub>`) holding a random
//! generation, replaced at every sign-out, and the time of it. A session or a refresh
//! token records the generation current when it was made ([`generation`]) and is
//! honoured only while that is still the current one ([`is_current`]): one read per use,
//! and a sign-out holds on every node at once. A refresh token keeps the generation of
//! its family's first sign-in through rotations. Access tokens and authorization codes
//! carry no generation: an access token issued (`iat`), or a code whose sign-in happened
//! (`auth_time`), before the last sign-out's second is refused; one from within that same
//! second still answers until it expires (an access token's lifetime, one hour by
//! default; a code's five minutes). Resource servers that verify access tokens themselves
//! do not see a sign-out, as with Cognito's.
//!
//! The marker lives as long as the longest refresh token ([`MAX_REFRESH_SECS`]), so it
//! outlives everything issued before it.

use serde::{Deserialize, Serialize};

use super::model::MAX_REFRESH_SECS;
use super::secrets::random_token;
use super::storage::{Conflict, Store, StoreError, StoreResult};
use super::UnixTime;

/// Ephemeral-store kind of sign-out markers.
pub const SIGN_OUT_KIND: &str = "sign_out";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Marker {
    generation: String,
    at: UnixTime,
}

fn marker_id(pool_id: &str, sub: &str) -> String {
    format!("{pool_id}:{sub}")
}

async fn marker(
    store: &dyn Store,
    pool_id: &str,
    sub: &str,
    now: UnixTime,
) -> StoreResult<Option<(String, Marker)>> {
    let Some(raw) = store
        .get_ephemeral(SIGN_OUT_KIND, &marker_id(pool_id, sub), now)
        .await?
    else {
        return Ok(None);
    };
    let marker = serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(Some((raw, marker)))
}

/// The user's sign-out state, read once: the current generation and the time of the last
/// sign-out (both `None` for a user never signed out).
#[derive(Debug, Clone, Default)]
pub struct SignOutState {
    pub generation: Option<String>,
    pub at: Option<UnixTime>,
}

impl SignOutState {
    /// Whether something issued (or signed in) at `issued_at` predates the last sign-out.
    pub fn predates(&self, issued_at: UnixTime) -> bool {
        self.at.is_some_and(|at| issued_at < at)
    }
}

/// The user's [`SignOutState`], for a caller that needs both the generation and the time.
pub async fn state(
    store: &dyn Store,
    pool_id: &str,
    sub: &str,
    now: UnixTime,
) -> StoreResult<SignOutState> {
    Ok(marker(store, pool_id, sub, now)
        .await?
        .map(|(_, m)| SignOutState {
            generation: Some(m.generation),
            at: Some(m.at),
        })
        .unwrap_or_default())
}

/// The user's current generation, to record in a new session or refresh token (`None`
/// for a user never signed out).
pub async fn generation(
    store: &dyn Store,
    pool_id: &str,
    sub: &str,
    now: UnixTime,
) -> StoreResult<Option<String>> {
    Ok(marker(store, pool_id, sub, now)
        .await?
        .map(|(_, m)| m.generation))
}

/// Whether a session or refresh token that recorded `recorded` is still honoured.
pub async fn is_current(
    store: &dyn Store,
    pool_id: &str,
    sub: &str,
    recorded: Option<&str>,
    now: UnixTime,
) -> StoreResult<bool> {
    Ok(generation(store, pool_id, sub, now).await?.as_deref() == recorded)
}

/// Whether an access token issued at `issued_at` predates the user's last sign-out.
pub async fn is_signed_out_since(
    store: &dyn Store,
    pool_id: &str,
    sub: &str,
    issued_at: UnixTime,
    now: UnixTime,
) -> StoreResult<bool> {
    Ok(marker(store, pool_id, sub, now)
        .await?
        .is_some_and(|(_, m)| issued_at < m.at))
}

/// Signs the user out everywhere: a new generation replaces the current one (by
/// compare-and-swap, so concurrent sign-outs each leave a generation no earlier session
/// holds).
pub async fn sign_out_everywhere(
    store: &dyn Store,
    pool_id: &str,
    sub: &str,
    now: UnixTime,
) -> StoreResult<()> {
    let id = marker_id(pool_id, sub);
    let next = Marker {
        generation: random_token::<16>(),
        at: now,
    };
    let value = serde_json::to_string(&next).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let expires_at = now + MAX_REFRESH_SECS;
    for _ in 0..16 {
        let done = match marker(store, pool_id, sub, now).await? {
            Some((raw, _)) => {
                store
                    .replace_ephemeral(SIGN_OUT_KIND, &id, &raw, &value, expires_at, now)
                    .await?
            }
            None => match store
                .put_ephemeral(SIGN_OUT_KIND, &id, &value, expires_at, now)
                .await
            {
                Ok(()) => true,
                Err(StoreError::Conflict(Conflict::Exists)) => false,
                Err(e) => return Err(e),
            },
        };
        if done {
            return Ok(());
        }
    }
    // Sixteen other sign-outs of this user won in between: each left a new generation.
    Ok(())
}
