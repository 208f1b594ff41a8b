//! Passkeys over Cognito's API (StartWebAuthnRegistration, CompleteWebAuthnRegistration,
//! ListWebAuthnCredentials, DeleteWebAuthnCredential). Cognito's registration carries no
//! ceremony id: `CompleteWebAuthnRegistration` names only the access token and the
//! credential. So the ceremony the API starts is found through the user: a pointer row
//! ([`API_REGISTRATION_KIND`], id `<pool id>:<sub>`) in the shared store names it and the
//! app client that started it. A new start replaces the user's pending one; completing
//! takes it (single use); another user's token finds its own pointer (or none), never
//! this one, and the credential made for this user's challenge fails there.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{Credential, Passkey};

use super::{passkey_factors, relying_party_id, CEREMONY_SECS};
use crate::core::mfa::{Enrolled, Mfa, MfaError, MfaResult};
use crate::core::model::{User, UserPool};
use crate::core::storage::{Conflict, StoreError};
use crate::core::UnixTime;

/// The store kind of the pointer from a user to the registration the API started.
pub const API_REGISTRATION_KIND: &str = "passkey_registration_api";

/// The refusal of a completion by another app client than the one that started it
/// (Cognito's `WebAuthnClientMismatchException`).
pub const CLIENT_MISMATCH: &str =
    "The access token is for a different app client than the one that started the registration";

#[derive(Serialize, Deserialize)]
struct Pending {
    ceremony: String,
    client_id: String,
}

/// One passkey as `ListWebAuthnCredentials` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyInfo {
    /// Base64url, no padding (as the browser's `PublicKeyCredential.id`).
    pub credential_id: String,
    pub name: String,
    pub relying_party_id: String,
    /// WebAuthn's transport hints (`internal`, `usb`, `hybrid`...), as the authenticator
    /// reported them at registration.
    pub transports: Vec<String>,
    pub created_at: UnixTime,
}

fn pointer_key(pool: &UserPool, sub: &str) -> String {
    format!("{}:{sub}", pool.id)
}

impl Mfa {
    /// Starts a registration for `user` through `client_id`; returns the options for
    /// `navigator.credentials.create({ publicKey })`. Replaces the user's pending one.
    pub async fn start_user_registration(
        &self,
        pool: &UserPool,
        client_id: &str,
        user: &User,
        now: UnixTime,
    ) -> MfaResult<serde_json::Value> {
        let ceremony = self.start_passkey_registration(pool, user, now).await?;
        let value = serde_json::to_string(&Pending {
            ceremony: ceremony.id,
            client_id: client_id.to_string(),
        })
        .map_err(|e| MfaError::Internal(e.to_string()))?;
        let key = pointer_key(pool, &user.sub);
        let store = self.store();
        for _ in 0..5 {
            store.delete_ephemeral(API_REGISTRATION_KIND, &key).await?;
            match store
                .put_ephemeral(
                    API_REGISTRATION_KIND,
                    &key,
                    &value,
                    now + CEREMONY_SECS,
                    now,
                )
                .await
            {
                Ok(()) => return Ok(ceremony.options),
                Err(StoreError::Conflict(Conflict::Exists)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(MfaError::Internal(
            "the pending registration kept changing; try again".into(),
        ))
    }

    /// Completes the registration the API started for `sub`: the pointer is taken (single
    /// use) and the ceremony finished with the browser's credential. No pending
    /// registration is [`MfaError::Expired`]; another client's is refused with
    /// [`CLIENT_MISMATCH`] (and consumed).
    pub async fn finish_user_registration(
        &self,
        pool: &UserPool,
        client_id: &str,
        sub: &str,
        credential: &serde_json::Value,
        context: &crate::core::threat::EventContext,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let key = pointer_key(pool, sub);
        let Some(text) = self
            .store()
            .take_ephemeral(API_REGISTRATION_KIND, &key, now)
            .await?
        else {
            return Err(MfaError::Expired);
        };
        let pending: Pending = serde_json::from_str(&text).map_err(|_| MfaError::Expired)?;
        if pending.client_id != client_id {
            return Err(MfaError::NotPossible(CLIENT_MISMATCH));
        }
        self.finish_passkey_registration(pool, sub, &pending.ceremony, credential, "", context, now)
            .await
    }

    /// The user's passkeys, oldest first.
    pub fn passkeys_of(&self, pool: &UserPool, user: &User) -> Vec<PasskeyInfo> {
        let rp = relying_party_id(&self.public_url, pool);
        passkey_factors(user)
            .map(|(factor, id, json)| {
                let transports = serde_json::from_value::<Passkey>(json.clone())
                    .ok()
                    .and_then(|p| Credential::from(p).transports)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|t| match serde_json::to_value(t) {
                        Ok(serde_json::Value::String(s)) => Some(s),
                        _ => None,
                    })
                    .collect();
                PasskeyInfo {
                    credential_id: id.to_string(),
                    name: factor.name.clone(),
                    relying_party_id: rp.clone(),
                    transports,
                    created_at: factor.created_at,
                }
            })
            .collect()
    }

    /// Removes the passkey whose credential id is `credential_id` ([`Mfa::remove_factor`]:
    /// the last factor of an `ON` pool stays). Unknown is [`MfaError::NotFound`].
    pub async fn remove_passkey(
        &self,
        pool: &UserPool,
        user: &User,
        credential_id: &str,
        context: &crate::core::threat::EventContext,
        now: UnixTime,
    ) -> MfaResult<User> {
        let factor_id = passkey_factors(user)
            .find(|(_, id, _)| *id == credential_id)
            .map(|(f, _, _)| f.id.clone())
            .ok_or(MfaError::NotFound)?;
        let lang = super::super::manage::user_lang(user).to_string();
        self.remove_factor(pool, &user.sub, &factor_id, &lang, context, now)
            .await
    }
}
