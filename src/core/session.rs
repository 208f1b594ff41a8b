//! Login flows and browser sessions, both kept in the store so any node serves any step.
//!
//! A login flow is one attempt to sign in for one authorization request (Ory Kratos'
//! pattern): it has an id carried by the hosted pages, an expiry, a CSRF token, and the id
//! of the browser that started it (a cookie), and it is consumed exactly once when the
//! sign-in completes. A session is what lets a second app client of the same pool sign the
//! user in without a password; `/logout` ends it.

use serde::{Deserialize, Serialize};

use super::oauth::authorize::AuthorizeRequest;
use super::oauth::token_hash;
use super::secrets::{constant_time_eq, random_token};
use super::signout;
use super::storage::{Store, StoreError, StoreResult};
use super::UnixTime;
use crate::core::secrets::REDACTED;

pub const FLOW_KIND: &str = "login_flow";
pub const SESSION_KIND: &str = "session";
/// How long a login page stays usable.
pub const FLOW_TTL_SECS: i64 = 3600;
/// Cognito's hosted-UI session lasts one hour.
pub const SESSION_TTL_SECS: i64 = 3600;

/// One sign-in attempt.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct LoginFlow {
    pub id: String,
    pub request: AuthorizeRequest,
    /// Hash of the browser-binding cookie of the browser that started the flow.
    pub browser: String,
    /// Compared with the `_csrf` field of every form.
    pub csrf: String,
    pub expires_at: UnixTime,
    /// A user who signed in with a temporary password and must choose a new one
    /// (Cognito's NEW_PASSWORD_REQUIRED).
    #[serde(default)]
    pub pending_new_password: Option<String>,
    /// The username typed so far, carried between the sign-in, confirm and reset pages.
    #[serde(default)]
    pub username: Option<String>,
    /// A user who passed a first factor and must pass a second one, or enrol one, before
    /// the flow completes (issue 13).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_mfa: Option<PendingMfa>,
    /// Where the browser goes once signed in, instead of the client's redirect URI (the
    /// account security page signs its user in again through a flow of its own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// The user (`sub`) who signed up, or confirmed their sign-up, in this flow: their
    /// first sign-in may be offered a passkey (`passkeys.register_at_sign_up`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_up: Option<String>,
    /// A sign-in that is complete but waits on the "Add a passkey" page offered after
    /// sign-up: who signed in and what they proved. It is never a second-factor step.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey_offer: Option<PendingMfa>,
}

/// A sign-in between its first factor and its second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingMfa {
    pub sub: String,
    /// What was proven so far (`pwd`, `email`), for the session's `amr`.
    pub amr: Vec<String>,
    /// When the first factor passed; the step expires [`crate::core::mfa::PENDING_SECS`]
    /// later.
    pub since: UnixTime,
    /// `MFA_SETUP`: the user must enrol a factor (and gets recovery codes) first.
    pub setup: bool,
    /// The factors asked at sign-in by threat protection's `mfa` response, which the
    /// pool's rule alone may not ask: they stay asked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risk_factors: Vec<crate::core::model::MfaFactor>,
}

impl std::fmt::Debug for LoginFlow {
    /// Leaves out the CSRF token: it guards every form of the flow (the browser cookie is
    /// only a hash here).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoginFlow")
            .field("id", &self.id)
            .field("request", &self.request)
            .field("browser", &self.browser)
            .field("csrf", &REDACTED)
            .field("expires_at", &self.expires_at)
            .field("pending_new_password", &self.pending_new_password)
            .field("username", &self.username)
            .field("pending_mfa", &self.pending_mfa)
            .field("after", &self.after)
            .field("signed_up", &self.signed_up)
            .field("passkey_offer", &self.passkey_offer)
            .finish()
    }
}

impl LoginFlow {
    /// Whether a form submission belongs to this flow: same browser, right CSRF token.
    pub fn accepts(&self, browser_cookie: Option<&str>, csrf: &str) -> bool {
        let same_browser = browser_cookie
            .map(|b| constant_time_eq(token_hash(b).as_bytes(), self.browser.as_bytes()))
            .unwrap_or(false);
        same_browser && constant_time_eq(self.csrf.as_bytes(), csrf.as_bytes())
    }

    pub fn belongs_to(&self, browser_cookie: Option<&str>) -> bool {
        browser_cookie
            .map(|b| constant_time_eq(token_hash(b).as_bytes(), self.browser.as_bytes()))
            .unwrap_or(false)
    }
}

/// A signed-in browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub pool_id: String,
    pub sub: String,
    /// How the user signed in: `COGNITO` (a password) or the identity provider's name. A
    /// session answers only clients that take this way in.
    #[serde(default)]
    pub method: Option<String>,
    pub auth_time: UnixTime,
    pub expires_at: UnixTime,
    /// The user's sign-out generation when the session started; the session ends when
    /// the user is signed out everywhere ([`super::signout`]).
    #[serde(default)]
    pub sign_out_generation: Option<String>,
    /// The only client this session answers, when it was started by an IdP-initiated
    /// (unsolicited) SAML sign-in: nothing bound that sign-in to the browser, so its
    /// session must not enter any other client of the pool, not even one listing the IdP
    /// (Cognito's guard is on the client that receives it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub only_client: Option<String>,
    /// For a sign-in through a SAML IdP: the subject as the IdP named it, for the
    /// LogoutRequest `/logout` sends it (single logout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<SamlSubject>,
    /// What the sign-in proved (RFC 8176 `amr` values: `pwd`, `otp`, `email`, `hwk`,
    /// `kba`, and `mfa` once a second factor passed); empty for sessions made before
    /// issue 13, which never pass a pool's MFA rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
}

/// The IdP's name for a SAML session's user (SAML Core 2.0 section 3.7.1: a
/// LogoutRequest carries the NameID of the sign-in and its SessionIndex).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamlSubject {
    pub name_id: String,
    #[serde(default)]
    pub name_id_format: Option<String>,
    #[serde(default)]
    pub session_index: Option<String>,
}

/// What a new session records beyond its user.
#[derive(Debug, Clone, Default)]
pub struct SessionExtras {
    /// The only client it answers (an IdP-initiated SAML sign-in: [`Session::only_client`]).
    pub only_client: Option<String>,
    /// The SAML subject of the sign-in, for single logout ([`Session::saml`]).
    pub saml: Option<SamlSubject>,
    /// What the sign-in proved ([`Session::amr`]).
    pub amr: Vec<String>,
}

/// Flows and sessions on top of the store's expiring values.
#[derive(Clone)]
pub struct Sessions {
    store: std::sync::Arc<dyn Store>,
}

impl Sessions {
    pub fn new(store: std::sync::Arc<dyn Store>) -> Self {
        Sessions { store }
    }

    pub async fn start_flow(
        &self,
        request: AuthorizeRequest,
        browser_cookie: &str,
        now: UnixTime,
    ) -> StoreResult<LoginFlow> {
        let flow = LoginFlow {
            id: random_token::<24>(),
            username: request.login_hint.clone(),
            request,
            browser: token_hash(browser_cookie),
            csrf: random_token::<24>(),
            expires_at: now + FLOW_TTL_SECS,
            pending_new_password: None,
            pending_mfa: None,
            after: None,
            signed_up: None,
            passkey_offer: None,
        };
        let value = to_json(&flow)?;
        self.store
            .put_ephemeral(FLOW_KIND, &flow.id, &value, flow.expires_at, now)
            .await?;
        Ok(flow)
    }

    pub async fn flow(&self, id: &str, now: UnixTime) -> StoreResult<Option<LoginFlow>> {
        match self.store.get_ephemeral(FLOW_KIND, id, now).await? {
            Some(text) => Ok(from_json(&text).ok()),
            None => Ok(None),
        }
    }

    /// Saves changes to a live flow (username typed, pending new password). Last write
    /// wins; a flow is driven by one browser.
    pub async fn save_flow(&self, flow: &LoginFlow, now: UnixTime) -> StoreResult<bool> {
        let Some(current) = self.store.get_ephemeral(FLOW_KIND, &flow.id, now).await? else {
            return Ok(false);
        };
        let value = to_json(flow)?;
        self.store
            .replace_ephemeral(FLOW_KIND, &flow.id, &current, &value, flow.expires_at, now)
            .await
    }

    /// Consumes a flow: exactly one caller gets it (a double-submitted form signs in once).
    pub async fn finish_flow(&self, id: &str, now: UnixTime) -> StoreResult<Option<LoginFlow>> {
        match self.store.take_ephemeral(FLOW_KIND, id, now).await? {
            Some(text) => Ok(from_json(&text).ok()),
            None => Ok(None),
        }
    }

    /// Starts a hosted-UI session for the user, recording `extras`.
    pub async fn start_session(
        &self,
        pool_id: &str,
        sub: &str,
        method: &str,
        extras: SessionExtras,
        auth_time: UnixTime,
        now: UnixTime,
    ) -> StoreResult<String> {
        let id = random_token::<32>();
        let session = Session {
            pool_id: pool_id.to_string(),
            sub: sub.to_string(),
            method: Some(method.to_string()),
            auth_time,
            expires_at: now + SESSION_TTL_SECS,
            sign_out_generation: signout::generation(self.store.as_ref(), pool_id, sub, now)
                .await?,
            only_client: extras.only_client,
            saml: extras.saml,
            amr: extras.amr,
        };
        let value = to_json(&session)?;
        self.store
            .put_ephemeral(
                SESSION_KIND,
                &token_hash(&id),
                &value,
                session.expires_at,
                now,
            )
            .await?;
        Ok(id)
    }

    /// A live session, unless its user was signed out everywhere since it started (it is
    /// then ended).
    pub async fn session(&self, id: &str, now: UnixTime) -> StoreResult<Option<Session>> {
        let Some(text) = self
            .store
            .get_ephemeral(SESSION_KIND, &token_hash(id), now)
            .await?
        else {
            return Ok(None);
        };
        let Ok(session) = from_json::<Session>(&text) else {
            return Ok(None);
        };
        let current = signout::is_current(
            self.store.as_ref(),
            &session.pool_id,
            &session.sub,
            session.sign_out_generation.as_deref(),
            now,
        )
        .await?;
        if !current {
            self.end_session(id).await?;
            return Ok(None);
        }
        Ok(Some(session))
    }

    /// Changes a live session with `change` (compare-and-swap on its stored value, retried
    /// a few times against concurrent writers): a factor enrolled while signed in adds its
    /// `amr` so single sign-on keeps working under the pool's MFA rule. Returns the
    /// session as stored, or `None` when it ended.
    pub async fn update_session(
        &self,
        id: &str,
        now: UnixTime,
        change: impl Fn(&mut Session),
    ) -> StoreResult<Option<Session>> {
        let key = token_hash(id);
        for _ in 0..4 {
            let Some(text) = self.store.get_ephemeral(SESSION_KIND, &key, now).await? else {
                return Ok(None);
            };
            let Ok(mut session) = from_json::<Session>(&text) else {
                return Ok(None);
            };
            change(&mut session);
            let value = to_json(&session)?;
            if self
                .store
                .replace_ephemeral(SESSION_KIND, &key, &text, &value, session.expires_at, now)
                .await?
            {
                return Ok(Some(session));
            }
        }
        Err(StoreError::VersionMismatch)
    }

    pub async fn end_session(&self, id: &str) -> StoreResult<()> {
        self.store
            .delete_ephemeral(SESSION_KIND, &token_hash(id))
            .await
            .map(|_| ())
    }
}

fn to_json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_json::Error> {
    serde_json::from_str(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::oauth::authorize::sample_request;

    #[test]
    fn debug_hides_the_csrf_token_and_the_nonce() {
        let flow = LoginFlow {
            id: "flow-id".into(),
            request: sample_request("client-state", "client-nonce-value"),
            browser: token_hash("browser-cookie-value"),
            csrf: "csrf-token-value".into(),
            expires_at: 1,
            pending_new_password: None,
            username: Some("carol".into()),
            pending_mfa: None,
            after: None,
            signed_up: None,
            passkey_offer: None,
        };
        let text = format!("{flow:?}");
        for secret in [
            "csrf-token-value",
            "client-nonce-value",
            "browser-cookie-value",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("flow-id") && text.contains("carol"), "{text}");
    }
}
