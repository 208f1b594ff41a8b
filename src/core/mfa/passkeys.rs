//! Passkeys (WebAuthn level 2) with webauthn-rs: registration and authentication
//! ceremonies whose state is kept in the shared store, single use and short-lived, so any
//! node finishes what another started. User verification is required, so a passkey
//! sign-in is two factors. Owned by helper B.

use std::net::IpAddr;

use super::{Enrolled, Mfa, MfaResult, Verified};
use crate::core::model::{User, UserPool};
use crate::core::UnixTime;

/// How long a ceremony may take (the browser's own timeout is about as long).
pub const CEREMONY_SECS: i64 = 300;

/// Per-pool relying parties (built from the pool's settings and the public URL).
#[derive(Clone)]
pub struct Passkeys {
    public_url: url::Url,
}

impl Passkeys {
    pub fn new(public_url: url::Url) -> Self {
        Passkeys { public_url }
    }
}

/// A ceremony started: its id (carried back by the page) and the options for
/// `navigator.credentials.create()` / `.get()` (the `publicKey` member's JSON).
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub id: String,
    pub options: serde_json::Value,
}

impl Mfa {
    /// Starts registering a passkey for `user` (its existing passkeys excluded).
    pub async fn start_passkey_registration(
        &self,
        pool: &UserPool,
        user: &User,
        now: UnixTime,
    ) -> MfaResult<Ceremony> {
        let _ = (pool, user, now, &self.passkeys.public_url);
        todo!("helper B")
    }

    /// Finishes a registration with the browser's `PublicKeyCredential` (JSON): the
    /// passkey is stored under `name`. The user's first factor comes with recovery codes.
    pub async fn finish_passkey_registration(
        &self,
        pool: &UserPool,
        sub: &str,
        ceremony_id: &str,
        credential: &serde_json::Value,
        name: &str,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let _ = (pool, sub, ceremony_id, credential, name, now);
        todo!("helper B")
    }

    /// Starts an authentication: for `user`'s passkeys (second factor, or username-first
    /// sign-in), or for any discoverable passkey of the pool (`None`: sign-in without a
    /// username).
    pub async fn start_passkey_authentication(
        &self,
        pool: &UserPool,
        user: Option<&User>,
        now: UnixTime,
    ) -> MfaResult<Ceremony> {
        let _ = (pool, user, now);
        todo!("helper B")
    }

    /// Finishes an authentication: the assertion verified (user verification required),
    /// the counter and backup flags stored, the ceremony consumed. Failures are counted by
    /// the throttle.
    pub async fn finish_passkey_authentication(
        &self,
        pool: &UserPool,
        ceremony_id: &str,
        credential: &serde_json::Value,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Verified> {
        let _ = (pool, ceremony_id, credential, address, now);
        todo!("helper B")
    }
}
