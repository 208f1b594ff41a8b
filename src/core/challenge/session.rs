//! The `Session` string of Cognito's challenges: the state of a sign-in between its
//! steps, kept in the shared store (any node answers the next step), named by a random id
//! that is stored only as its hash, bound to the pool, the client and the user, for
//! Cognito's default `AuthSessionValidity` of 3 minutes, and taken when a step completes
//! (one session yields one next step: one set of tokens, or one new session).

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{ChallengeError, ChallengeName};
use crate::core::oauth::token_hash;
use crate::core::secrets::random_token;
use crate::core::storage::Store;
use crate::core::UnixTime;

/// The ephemeral-store kind of the API's challenge sessions (keyed by the id's hash).
pub const SESSION_KIND: &str = "api_auth_session";
/// How long a challenge session lives (Cognito's default `AuthSessionValidity`).
pub const SESSION_SECS: i64 = 180;

/// What a challenge session remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthSession {
    pub pool_id: String,
    pub client_id: String,
    pub sub: String,
    /// The user's username (what `USERNAME` of the answer must name).
    pub username: String,
    /// What the sign-in was started with (a username or an alias), also accepted as
    /// `USERNAME`.
    pub login: String,
    /// The challenge this session answers.
    pub challenge: ChallengeName,
    /// What the user proved so far (RFC 8176 `amr` values).
    pub amr: Vec<String>,
    /// When the first factor was proven (the tokens' `auth_time`).
    pub auth_time: UnixTime,
    pub expires_at: UnixTime,
    /// `MFA_SETUP`: the TOTP enrolment AssociateSoftwareToken started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_enrolment: Option<String>,
    /// `MFA_SETUP`: VerifySoftwareToken enrolled the factor (the answer gets tokens).
    #[serde(default)]
    pub enrolled: bool,
    /// `EMAIL_OTP` after `MFA_SETUP` with `EMAIL`: the code enrols email as a factor.
    #[serde(default)]
    pub enrolling_email: bool,
    /// `EMAIL_OTP` as `USER_AUTH`'s first factor: the code is a passwordless sign-in code
    /// for `login` (`sub` is empty: whether it names a user is not told).
    #[serde(default)]
    pub sign_in_code: bool,
    /// `WEB_AUTHN` as `USER_AUTH`'s first factor: the MFA core's passkey ceremony (a
    /// discoverable one, so the options name no credential of anyone's; the assertion must
    /// come from the passkey of the user `login` names).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey_ceremony: Option<String>,
    /// `CUSTOM_CHALLENGE`: the flow's rounds so far and the current challenge's sealed
    /// private parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<super::steps::custom::CustomState>,
    /// The factors asked at sign-in (threat protection's `mfa` response may ask one the
    /// pool's rule alone would not); any of them passes the challenge.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_factors: Vec<crate::core::model::MfaFactor>,
}

impl AuthSession {
    /// Whether `username` (an answer's `USERNAME`) names this session's user.
    pub fn names(&self, username: &str) -> bool {
        username == self.username || username == self.login || username == self.sub
    }
}

/// A session as read: its record and the stored text (the take compares it, so what is
/// taken is what was checked).
#[derive(Debug, Clone)]
pub struct Opened {
    pub session: AuthSession,
    id: String,
    text: String,
}

/// The challenge sessions of the shared store. Cheap to clone.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn Store>,
}

impl Sessions {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Sessions { store }
    }

    /// Stores `session` (its `expires_at` set to 3 minutes from `now`) and returns its id.
    pub async fn open(
        &self,
        mut session: AuthSession,
        now: UnixTime,
    ) -> Result<String, ChallengeError> {
        session.expires_at = now + SESSION_SECS;
        let id = random_token::<48>();
        let text = serde_json::to_string(&session)
            .map_err(|e| ChallengeError::Internal(format!("a session is unstorable: {e}")))?;
        self.store
            .put_ephemeral(
                SESSION_KIND,
                &token_hash(&id),
                &text,
                session.expires_at,
                now,
            )
            .await
            .map_err(|e| ChallengeError::Internal(e.to_string()))?;
        Ok(id)
    }

    /// Reads a live session (not taken): unknown, used or expired is
    /// [`ChallengeError::SessionExpired`].
    pub async fn read(&self, id: &str, now: UnixTime) -> Result<Opened, ChallengeError> {
        // Cognito's sessions are 20 to 2048 characters; anything else names nothing.
        if id.is_empty() || id.len() > 2048 {
            return Err(ChallengeError::SessionExpired);
        }
        let text = self
            .store
            .get_ephemeral(SESSION_KIND, &token_hash(id), now)
            .await
            .map_err(|e| ChallengeError::Internal(e.to_string()))?
            .ok_or(ChallengeError::SessionExpired)?;
        let session: AuthSession = serde_json::from_str(&text)
            .map_err(|e| ChallengeError::Internal(format!("a session is unreadable: {e}")))?;
        // The store's own expiry is the rule; this covers a clock that reads it late.
        if session.expires_at <= now {
            return Err(ChallengeError::SessionExpired);
        }
        Ok(Opened {
            session,
            id: id.to_string(),
            text,
        })
    }

    /// [`Sessions::read`], for the session of `pool_id` and `client_id` only (another
    /// client's session is as good as none).
    pub async fn read_for(
        &self,
        id: &str,
        pool_id: &str,
        client_id: &str,
        now: UnixTime,
    ) -> Result<Opened, ChallengeError> {
        let opened = self.read(id, now).await?;
        if opened.session.pool_id != pool_id || opened.session.client_id != client_id {
            return Err(ChallengeError::SessionExpired);
        }
        Ok(opened)
    }

    /// Takes the session (single use across nodes): of two answers at once, one takes
    /// it and the other is refused.
    pub async fn take(&self, opened: &Opened, now: UnixTime) -> Result<(), ChallengeError> {
        let taken = self
            .store
            .take_ephemeral(SESSION_KIND, &token_hash(&opened.id), now)
            .await
            .map_err(|e| ChallengeError::Internal(e.to_string()))?;
        if taken.as_deref() == Some(opened.text.as_str()) {
            Ok(())
        } else {
            Err(ChallengeError::SessionExpired)
        }
    }
}
