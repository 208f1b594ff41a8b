//! Passkeys (WebAuthn level 2) with webauthn-rs: registration and authentication
//! ceremonies whose state is kept in the shared store, single use and short-lived, so any
//! node finishes what another started. User verification is required, so a passkey
//! sign-in is two factors. Owned by helper B.
//!
//! - The relying party is built per pool ([`Passkeys::relying_party`]): its id is the
//!   pool's `relying_party_id` or the public URL's host, its name the pool's name, its
//!   origins the public URL's origin plus the pool's extra `origins`.
//! - Registration asks for a discoverable (resident) credential, so the user can later
//!   sign in without typing a username; the user handle is the user's `sub` (a UUID, its
//!   16 bytes). The user's passkeys are excluded (an authenticator holds one per account).
//! - A credential id belongs to one user of a pool: the store keeps an index row per
//!   credential ([`CREDENTIAL_KIND`]), claimed before the factor is written, so two users
//!   cannot register one credential (webauthn-rs: "You MUST assert that the registered
//!   CredentialID has not previously been registered to any other account").

use std::net::IpAddr;
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    Credential, CredentialID, DiscoverableAuthentication, DiscoverableKey, Passkey,
    PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::{Enrolled, Mfa, MfaError, MfaResult, Verified};
use crate::core::directory::DirectoryError;
use crate::core::model::{Factor, FactorData, FirstFactor, MfaFactor, User, UserPool, UserStatus};
use crate::core::secrets::random_token;
use crate::core::storage::{Conflict, StoreError, UserRef};
use crate::core::UnixTime;

/// A user's passkeys at most, Cognito's quota (each one grows the user record and every
/// registration's list of excluded credentials).
pub const MAX_PASSKEYS: usize = 20;

/// The refusal of a passkey past [`MAX_PASSKEYS`].
pub const TOO_MANY_PASSKEYS: &str = "A user can have at most 20 passkeys; delete one first";

/// How long a ceremony may take (the browser's own timeout is about as long).
pub const CEREMONY_SECS: i64 = 300;
/// The store kind of a registration ceremony's state.
pub const REGISTRATION_KIND: &str = "passkey_registration";
/// The store kind of an authentication ceremony's state.
pub const AUTHENTICATION_KIND: &str = "passkey_authentication";
/// The store kind of the credential index: id `<pool id>:<credential id>`, value the
/// holder's sub. A row outlives its passkey when the passkey or its user is removed; such
/// a stale row is taken over by the next registration of that credential id.
pub const CREDENTIAL_KIND: &str = "passkey_credential";
/// The credential index rows never expire (31 December 9999).
const FOREVER: UnixTime = 253_402_300_799;
/// The longest name a user may give a passkey.
pub const MAX_NAME_CHARS: usize = 64;
/// Ceremony ids are `random_token::<24>()` (32 characters); anything much longer is not
/// one of ours and is not looked up.
const MAX_CEREMONY_ID: usize = 128;

/// Per-pool relying parties (built from the pool's settings and the public URL).
#[derive(Clone)]
pub struct Passkeys {
    public_url: url::Url,
}

impl Passkeys {
    pub fn new(public_url: url::Url) -> Self {
        Passkeys { public_url }
    }

    /// The pool's relying-party id: its `relying_party_id`, else the public URL's host.
    pub fn relying_party_id(&self, pool: &UserPool) -> String {
        relying_party_id(&self.public_url, pool)
    }

    /// The pool's WebAuthn relying party. User verification is required by every
    /// ceremony webauthn-rs's passkey API starts.
    pub fn relying_party(&self, pool: &UserPool) -> MfaResult<Webauthn> {
        if is_ip_host(&self.public_url) {
            return Err(MfaError::NotPossible(
                "Passkeys need the server's public URL to be a host name: browsers refuse \
                 WebAuthn on an IP address",
            ));
        }
        let rp_id = self.relying_party_id(pool);
        let origin = origin_of(&self.public_url)
            .ok_or_else(|| MfaError::Internal("the public URL has no origin".into()))?;
        let mut builder = WebauthnBuilder::new(&rp_id, &origin)
            .map_err(|e| {
                MfaError::Internal(format!(
                    "relying party id {rp_id:?} does not fit the public URL ({e})"
                ))
            })?
            .rp_name(&pool.name)
            .timeout(Duration::from_secs(CEREMONY_SECS.unsigned_abs()));
        for extra in &pool.factors.passkeys.origins {
            let parsed = Url::parse(extra)
                .ok()
                .and_then(|u| origin_of(&u))
                .ok_or_else(|| {
                    MfaError::Internal(format!("passkey origin {extra:?} is invalid"))
                })?;
            if parsed != origin {
                builder = builder.append_allowed_origin(&parsed);
            }
        }
        builder
            .build()
            .map_err(|e| MfaError::Internal(format!("the relying party is invalid ({e})")))
    }
}

/// The relying-party id of `pool` behind `public_url`: the pool's `relying_party_id`, else
/// the public URL's host.
pub fn relying_party_id(public_url: &url::Url, pool: &UserPool) -> String {
    match &pool.factors.passkeys.relying_party_id {
        Some(id) if !id.trim().is_empty() => id.trim().to_ascii_lowercase(),
        _ => public_url
            .host_str()
            .unwrap_or_default()
            .to_ascii_lowercase(),
    }
}

/// Whether the URL's host is an IP address (browsers refuse WebAuthn there).
pub fn is_ip_host(url: &url::Url) -> bool {
    matches!(url.host(), Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)))
}

/// The URL's origin (scheme, host, port) as a URL, as webauthn-rs compares origins.
fn origin_of(url: &url::Url) -> Option<Url> {
    let origin = url.origin();
    if !origin.is_tuple() {
        return None;
    }
    Url::parse(&origin.ascii_serialization()).ok()
}

/// A ceremony started: its id (carried back by the page) and the options for
/// `navigator.credentials.create()` / `.get()` (the `publicKey` member's JSON).
#[derive(Debug, Clone)]
pub struct Ceremony {
    pub id: String,
    pub options: serde_json::Value,
}

/// A ceremony's state as stored: bound to the pool, and to the user for a registration
/// and a user-bound authentication.
#[derive(Serialize, Deserialize)]
struct StoredCeremony {
    pool_id: String,
    #[serde(default)]
    sub: Option<String>,
    state: CeremonyState,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum CeremonyState {
    Registration(PasskeyRegistration),
    /// For the passkeys of the user named by `sub`.
    User(PasskeyAuthentication),
    /// For any discoverable passkey of the pool (the user handle names the user).
    Discoverable(DiscoverableAuthentication),
}

impl Mfa {
    /// Starts registering a passkey for `user` (its existing passkeys excluded).
    pub async fn start_passkey_registration(
        &self,
        pool: &UserPool,
        user: &User,
        now: UnixTime,
    ) -> MfaResult<Ceremony> {
        if !pool.factors.passkeys_enabled() {
            return Err(MfaError::FactorNotAllowed);
        }
        if user.status == UserStatus::ExternalProvider {
            return Err(MfaError::NotPossible(
                "Federated users sign in with their identity provider",
            ));
        }
        if passkey_factors(user).count() >= MAX_PASSKEYS {
            return Err(MfaError::NotPossible(TOO_MANY_PASSKEYS));
        }
        let handle = user_handle(user)?;
        let exclude: Vec<CredentialID> = passkey_factors(user)
            .filter_map(|(_, id, _)| URL_SAFE_NO_PAD.decode(id).ok())
            .map(CredentialID::from)
            .collect();
        let name = user
            .attribute("email")
            .filter(|e| !e.is_empty())
            .unwrap_or(&user.username);
        let display = user
            .attribute("name")
            .filter(|n| !n.is_empty())
            .unwrap_or(name);
        let webauthn = self.passkeys.relying_party(pool)?;
        let (challenge, state) = webauthn
            .start_passkey_registration(
                handle,
                name,
                display,
                (!exclude.is_empty()).then_some(exclude),
            )
            .map_err(|e| MfaError::Internal(format!("passkey registration: {e}")))?;
        let mut options = serde_json::to_value(&challenge.public_key)
            .map_err(|e| MfaError::Internal(e.to_string()))?;
        require_resident_key(&mut options);
        let stored = StoredCeremony {
            pool_id: pool.id.clone(),
            sub: Some(user.sub.clone()),
            state: CeremonyState::Registration(state),
        };
        let id = self.put_ceremony(REGISTRATION_KIND, &stored, now).await?;
        Ok(Ceremony { id, options })
    }

    /// Finishes a registration with the browser's `PublicKeyCredential` (JSON): the
    /// passkey is stored under `name`. The user's first factor comes with recovery codes.
    /// Recorded in the auth event log (`MfaChange`) with `context`.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_passkey_registration(
        &self,
        pool: &UserPool,
        sub: &str,
        ceremony_id: &str,
        credential: &serde_json::Value,
        name: &str,
        context: &crate::core::threat::EventContext,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let result = self
            .register_passkey(pool, sub, ceremony_id, credential, name, now)
            .await;
        let details = [("factor", "passkey"), ("change", "enrol")];
        self.record_change(pool, sub, context, &result, &details, now)
            .await;
        result
    }

    async fn register_passkey(
        &self,
        pool: &UserPool,
        sub: &str,
        ceremony_id: &str,
        credential: &serde_json::Value,
        name: &str,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let stored = self
            .take_ceremony(REGISTRATION_KIND, ceremony_id, pool, now)
            .await?;
        let state = match stored {
            StoredCeremony {
                sub: Some(bound),
                state: CeremonyState::Registration(state),
                ..
            } if bound == sub => state,
            _ => return Err(MfaError::Expired),
        };
        let name = passkey_name(name)?;
        let response: RegisterPublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| MfaError::Passkey(format!("the browser's response is malformed ({e})")))?;
        let webauthn = self.passkeys.relying_party(pool)?;
        let passkey = webauthn
            .finish_passkey_registration(&response, &state)
            .map_err(|e| {
                tracing::info!(pool = %pool.id, error = %e, "passkey registration refused");
                MfaError::Passkey("the passkey could not be verified".into())
            })?;
        let credential_id = URL_SAFE_NO_PAD.encode(passkey.cred_id().as_slice());
        self.claim_credential(pool, &credential_id, sub, now)
            .await?;
        let internals = Credential::from(passkey.clone());
        let factor = Factor {
            id: random_token::<12>(),
            kind: MfaFactor::Passkey,
            name,
            created_at: now,
            last_used_at: None,
            data: FactorData::Passkey {
                credential_id,
                credential: serde_json::to_value(&passkey)
                    .map_err(|e| MfaError::Internal(e.to_string()))?,
                counter: internals.counter,
                backup_eligible: internals.backup_eligible,
                backup_state: internals.backup_state,
            },
        };
        // With the user's first factor come ten recovery codes; a notice is mailed.
        self.enrol(pool, sub, factor, now).await
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
        let webauthn;
        let (challenge, stored) = match user {
            Some(user) => {
                if !pool.factors.passkeys_enabled() {
                    return Err(MfaError::FactorNotAllowed);
                }
                let passkeys: Vec<Passkey> = passkey_factors(user)
                    .filter_map(|(_, _, json)| serde_json::from_value(json.clone()).ok())
                    .collect();
                if passkeys.is_empty() {
                    return Err(MfaError::NotPossible("The user has no passkey"));
                }
                webauthn = self.passkeys.relying_party(pool)?;
                let (challenge, state) = webauthn
                    .start_passkey_authentication(&passkeys)
                    .map_err(|e| MfaError::Internal(format!("passkey authentication: {e}")))?;
                (
                    challenge,
                    StoredCeremony {
                        pool_id: pool.id.clone(),
                        sub: Some(user.sub.clone()),
                        state: CeremonyState::User(state),
                    },
                )
            }
            None => {
                if !pool.factors.allows_first(FirstFactor::Passkey) {
                    return Err(MfaError::FactorNotAllowed);
                }
                webauthn = self.passkeys.relying_party(pool)?;
                let (challenge, state) = webauthn
                    .start_discoverable_authentication()
                    .map_err(|e| MfaError::Internal(format!("passkey authentication: {e}")))?;
                (
                    challenge,
                    StoredCeremony {
                        pool_id: pool.id.clone(),
                        sub: None,
                        state: CeremonyState::Discoverable(state),
                    },
                )
            }
        };
        let options = serde_json::to_value(&challenge.public_key)
            .map_err(|e| MfaError::Internal(e.to_string()))?;
        let id = self.put_ceremony(AUTHENTICATION_KIND, &stored, now).await?;
        Ok(Ceremony { id, options })
    }

    /// Finishes an authentication: the assertion verified (user verification required),
    /// the counter and backup flags stored, the ceremony consumed. A success clears the
    /// account's password count (the user is proven); failures are not counted (see the
    /// body).
    pub async fn finish_passkey_authentication(
        &self,
        pool: &UserPool,
        ceremony_id: &str,
        credential: &serde_json::Value,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Verified> {
        let stored = self
            .take_ceremony(AUTHENTICATION_KIND, ceremony_id, pool, now)
            .await?;
        let response: PublicKeyCredential = serde_json::from_value(credential.clone())
            .map_err(|e| MfaError::Passkey(format!("the browser's response is malformed ({e})")))?;
        let handle = response
            .get_user_unique_id()
            .map(|b| Uuid::from_slice(b).map(|u| u.to_string()));
        // Who is signing in: the ceremony's user (the handle, when the authenticator
        // sends one, must be theirs), or the user the discoverable passkey names.
        let sub = match (&stored.sub, &stored.state) {
            (Some(sub), CeremonyState::User(_)) => {
                match handle {
                    Some(Ok(h)) if h.eq_ignore_ascii_case(sub) => {}
                    None => {}
                    _ => return Err(MfaError::CodeMismatch),
                }
                sub.clone()
            }
            (None, CeremonyState::Discoverable(_)) => match handle {
                Some(Ok(h)) => h,
                _ => return Err(MfaError::CodeMismatch),
            },
            _ => return Err(MfaError::Expired),
        };
        let Some(user) = self
            .store()
            .get_user(&pool.id, &UserRef::Sub(sub.clone()))
            .await?
        else {
            // Nobody to count against: an assertion cannot be guessed, only forged.
            return Err(MfaError::CodeMismatch);
        };
        // No guess is counted here: an assertion cannot be guessed, only forged, and a count
        // shared with the password's would let anyone who types wrong passwords (or posts
        // made-up assertions naming the user) lock the user's passkey out.
        let account = user.lookup.username.clone();
        let credential_id = URL_SAFE_NO_PAD.encode(response.get_credential_id());
        let Some(passkey) = passkey_factors(&user)
            .find(|(_, id, _)| *id == credential_id)
            .and_then(|(_, _, json)| serde_json::from_value::<Passkey>(json.clone()).ok())
        else {
            return Err(MfaError::CodeMismatch);
        };
        let webauthn = self.passkeys.relying_party(pool)?;
        let verified = match stored.state {
            CeremonyState::User(state) => webauthn.finish_passkey_authentication(&response, &state),
            CeremonyState::Discoverable(state) => webauthn.finish_discoverable_authentication(
                &response,
                state,
                &[DiscoverableKey::from(&passkey)],
            ),
            CeremonyState::Registration(_) => return Err(MfaError::Expired),
        };
        let result = verified.map_err(|e| {
            tracing::info!(pool = %pool.id, error = %e, "passkey assertion refused");
            MfaError::CodeMismatch
        })?;
        if !result.user_verified() {
            return Err(MfaError::CodeMismatch);
        }
        // The counter and backup flags, written with the user's version: of two nodes
        // accepting assertions with one counter value, the second finds the counter
        // already there and refuses (a cloned authenticator looks the same).
        let user = self
            .directory
            .modify_user(pool, &sub, |u| {
                let factor = u
                    .mfa
                    .factors
                    .iter_mut()
                    .find(|f| {
                        matches!(&f.data, FactorData::Passkey { credential_id: id, .. } if *id == credential_id)
                    })
                    .ok_or(DirectoryError::NotAuthorized)?;
                if let FactorData::Passkey {
                    credential,
                    counter,
                    backup_eligible,
                    backup_state,
                    ..
                } = &mut factor.data
                {
                    if result.counter() > 0 && result.counter() <= *counter {
                        return Err(DirectoryError::NotAuthorized);
                    }
                    let mut current: Passkey = serde_json::from_value(credential.clone())
                        .map_err(|_| DirectoryError::NotAuthorized)?;
                    if current.update_credential(&result) == Some(true) {
                        *credential = serde_json::to_value(&current)
                            .map_err(|_| DirectoryError::NotAuthorized)?;
                    }
                    *counter = (*counter).max(result.counter());
                    *backup_eligible |= result.backup_eligible();
                    *backup_state = result.backup_state();
                }
                factor.last_used_at = Some(now);
                Ok(())
            })
            .await
            .map_err(|e| match e {
                DirectoryError::NotAuthorized | DirectoryError::UserNotFound => {
                    MfaError::CodeMismatch
                }
                e => e.into(),
            })?;
        self.throttle
            .record_success(&pool.id, &account, address)
            .await?;
        // Told only to the holder of the passkey, as a wrong password never reveals it.
        if !user.enabled {
            return Err(MfaError::NotPossible("User is disabled."));
        }
        if user.status == UserStatus::Unconfirmed {
            return Err(MfaError::NotPossible("User is not confirmed."));
        }
        Ok(Verified {
            user,
            amr: MfaFactor::Passkey.amr(),
            recovery_codes_left: None,
        })
    }

    /// Stores a ceremony's state under a new random id for [`CEREMONY_SECS`].
    async fn put_ceremony(
        &self,
        kind: &str,
        stored: &StoredCeremony,
        now: UnixTime,
    ) -> MfaResult<String> {
        let value = serde_json::to_string(stored).map_err(|e| MfaError::Internal(e.to_string()))?;
        let id = random_token::<24>();
        self.store()
            .put_ephemeral(kind, &id, &value, now + CEREMONY_SECS, now)
            .await?;
        Ok(id)
    }

    /// Takes (single use) a live ceremony of `pool`; an unknown, expired, used or other
    /// pool's ceremony is [`MfaError::Expired`] (another pool's is consumed all the same).
    async fn take_ceremony(
        &self,
        kind: &str,
        id: &str,
        pool: &UserPool,
        now: UnixTime,
    ) -> MfaResult<StoredCeremony> {
        if id.is_empty() || id.len() > MAX_CEREMONY_ID {
            return Err(MfaError::Expired);
        }
        let Some(text) = self.store().take_ephemeral(kind, id, now).await? else {
            return Err(MfaError::Expired);
        };
        let stored: StoredCeremony = serde_json::from_str(&text).map_err(|_| MfaError::Expired)?;
        if stored.pool_id != pool.id {
            return Err(MfaError::Expired);
        }
        Ok(stored)
    }

    /// Claims `credential_id` for `sub` in the pool's credential index; refused when a
    /// user of the pool (this one included) holds it. A row whose holder no longer has the
    /// passkey (removed, or the user deleted) is taken over.
    async fn claim_credential(
        &self,
        pool: &UserPool,
        credential_id: &str,
        sub: &str,
        now: UnixTime,
    ) -> MfaResult<()> {
        let key = format!("{}:{credential_id}", pool.id);
        let store = self.store();
        for _ in 0..5 {
            match store
                .put_ephemeral(CREDENTIAL_KIND, &key, sub, FOREVER, now)
                .await
            {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict(Conflict::Exists)) => {}
                Err(e) => return Err(e.into()),
            }
            let Some(holder) = store.get_ephemeral(CREDENTIAL_KIND, &key, now).await? else {
                continue;
            };
            let held = store
                .get_user(&pool.id, &UserRef::Sub(holder.clone()))
                .await?
                .is_some_and(|u| passkey_factors(&u).any(|(_, id, _)| id == credential_id));
            if held {
                return Err(MfaError::Passkey(
                    "this passkey is already registered".into(),
                ));
            }
            if store
                .replace_ephemeral(CREDENTIAL_KIND, &key, &holder, sub, FOREVER, now)
                .await?
            {
                return Ok(());
            }
        }
        Err(MfaError::Internal(
            "the passkey index kept changing; try again".into(),
        ))
    }
}

/// The user's passkeys as (factor, credential id, webauthn-rs `Passkey` JSON).
fn passkey_factors(user: &User) -> impl Iterator<Item = (&Factor, &str, &serde_json::Value)> {
    user.mfa.factors.iter().filter_map(|f| match &f.data {
        FactorData::Passkey {
            credential_id,
            credential,
            ..
        } => Some((f, credential_id.as_str(), credential)),
        _ => None,
    })
}

/// The WebAuthn user handle: the sub's 16 bytes (subs are UUIDs).
fn user_handle(user: &User) -> MfaResult<Uuid> {
    Uuid::parse_str(&user.sub)
        .map_err(|_| MfaError::NotPossible("This user's id cannot name a passkey"))
}

/// Asks for a discoverable credential (WebAuthn level 2, `residentKey: "required"`, with
/// level 1's `requireResidentKey`), which webauthn-rs's passkey registration leaves
/// optional; without one, signing in without a username finds no passkey.
fn require_resident_key(options: &mut serde_json::Value) {
    if let Some(obj) = options.as_object_mut() {
        let selection = obj
            .entry("authenticatorSelection")
            .or_insert_with(|| serde_json::json!({}));
        if let Some(selection) = selection.as_object_mut() {
            selection.insert("residentKey".into(), "required".into());
            selection.insert("requireResidentKey".into(), true.into());
            selection.insert("userVerification".into(), "required".into());
        }
    }
}

/// A passkey's name: trimmed, "Passkey" when empty, at most [`MAX_NAME_CHARS`]
/// characters, no control characters.
fn passkey_name(name: &str) -> MfaResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Ok("Passkey".into());
    }
    if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(MfaError::Passkey(format!(
            "a passkey's name has at most {MAX_NAME_CHARS} characters and no control characters"
        )));
    }
    Ok(name.to_string())
}

pub mod api;

#[cfg(test)]
mod tests;
