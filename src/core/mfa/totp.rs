//! TOTP (RFC 6238: 30-second steps, 6 digits, SHA-1, as every authenticator app
//! expects). Owned by helper A.
//!
//! The key is 20 random bytes (160 bits, RFC 4226 section 4's recommendation), sealed
//! under the master key bound to the pool, the user and the factor
//! ([`totp_secret_context`]). An enrolment waits sealed in the shared store until one
//! correct code confirms it (any node can finish it; it is taken once). A code is accepted
//! for the steps now-1, now and now+1 (RFC 6238 section 5.2's one step of drift), and only
//! for a step after the factor's last accepted one, written with the user's version: a
//! code is never accepted twice, even by two nodes at once.

use std::net::IpAddr;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use totp_rs::{Algorithm, TOTP};

use super::{Enrolled, Mfa, MfaError, MfaResult, Verified, PENDING_SECS};
use crate::core::model::{Factor, FactorData, MfaFactor, User, UserPool, UserStatus};
use crate::core::secrets::{
    random_bytes, random_token, totp_secret_context, EncryptedSecret, MasterKey, SecretString,
};
use crate::core::throttle::MfaScope;
use crate::core::UnixTime;

/// The length of a step (RFC 6238's default).
pub const TOTP_STEP_SECS: u64 = 30;
/// Digits in a code.
pub const TOTP_DIGITS: usize = 6;
/// Bytes of a key (160 bits).
pub const TOTP_KEY_BYTES: usize = 20;
/// The ephemeral-store kind of a pending enrolment.
const PENDING_KIND: &str = "mfa_totp_enrolment";

/// A TOTP enrolment in progress: what the page shows. The secret waits, sealed, in the
/// shared store (single use, [`super::PENDING_SECS`]) until a correct code confirms it.
#[derive(Clone)]
pub struct TotpEnrolment {
    /// Names the pending enrolment (carried by the form).
    pub id: String,
    /// The key as base32 text, for manual entry.
    pub secret_base32: SecretString,
    /// `otpauth://totp/<issuer>:<account>?secret=...&issuer=...` (a phone opens its
    /// authenticator app from it).
    pub uri: SecretString,
    /// The URI drawn as an inline `<svg>` QR code (rendered on the server).
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("id", &self.id)
            .finish()
    }
}

/// A pending enrolment as stored: the key sealed under the context of the factor it will
/// become.
#[derive(Serialize, Deserialize)]
struct Pending {
    pool_id: String,
    sub: String,
    factor_id: String,
    secret: EncryptedSecret,
}

/// The RFC 6238 generator of a key. Never `Debug`-printed (totp-rs's `Debug` shows the
/// key).
fn generator(key: Vec<u8>) -> MfaResult<TOTP> {
    TOTP::new(Algorithm::SHA1, TOTP_DIGITS, 1, TOTP_STEP_SECS, key)
        .map_err(|_| MfaError::Internal("a stored TOTP key has the wrong length".into()))
}

/// The step of `now` (0 before the epoch).
fn step_of(now: UnixTime) -> u64 {
    u64::try_from(now).unwrap_or(0) / TOTP_STEP_SECS
}

/// A typed code, if it is six digits (spaces, as apps show `123 456`, are dropped).
fn typed_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == TOTP_DIGITS && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// The step among now-1, now, now+1, after `last_step`, whose code is `code`.
fn matching_step(totp: &TOTP, code: &str, now: UnixTime, last_step: Option<u64>) -> Option<u64> {
    let current = step_of(now);
    let mut found = None;
    // Every candidate is computed and compared (in constant time), so the time taken does
    // not tell which step matched.
    for step in current.saturating_sub(1)..=current + 1 {
        let fresh = last_step.is_none_or(|last| step > last);
        let generated = totp.generate(step * TOTP_STEP_SECS);
        if crate::core::secrets::constant_time_eq(generated.as_bytes(), code.as_bytes())
            && fresh
            && found.is_none()
        {
            found = Some(step);
        }
    }
    found
}

/// Everything but RFC 3986's unreserved characters is percent-encoded in the URI's parts.
const URI_PART: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The `otpauth://` URI of Google Authenticator's key URI format: label
/// `<issuer>:<account>`, each part percent-encoded, and the issuer again as a parameter.
pub fn otpauth_uri(issuer: &str, account: &str, secret_base32: &str) -> String {
    let enc = |s: &str| utf8_percent_encode(s, URI_PART).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={TOTP_DIGITS}&period={TOTP_STEP_SECS}",
        enc(issuer),
        enc(account),
        enc(secret_base32),
        enc(issuer),
    )
}

/// The URI drawn as a QR code, an `<svg>` element to put inline in a page.
pub fn qr_svg(uri: &str) -> MfaResult<String> {
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| MfaError::Internal(format!("drawing the QR code failed: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    // The renderer writes a standalone document; inline SVG needs no XML declaration.
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

impl Mfa {
    /// What an authenticator app shows as the issuer: the pool's name, else the public
    /// URL's host.
    fn totp_issuer(&self, pool: &UserPool) -> String {
        if !pool.name.trim().is_empty() {
            return pool.name.trim().to_string();
        }
        self.public_url.host_str().unwrap_or("Cognate").to_string()
    }

    /// Starts a TOTP enrolment for `user` (the pool must allow TOTP).
    pub async fn start_totp(
        &self,
        pool: &UserPool,
        user: &User,
        now: UnixTime,
    ) -> MfaResult<TotpEnrolment> {
        if !pool.factors.allows_mfa(MfaFactor::Totp) {
            return Err(MfaError::FactorNotAllowed);
        }
        if user.status == UserStatus::ExternalProvider {
            return Err(MfaError::NotPossible(
                "Federated users sign in with their identity provider's factors",
            ));
        }
        let key = random_bytes::<TOTP_KEY_BYTES>().to_vec();
        let secret_base32 = generator(key.clone())?.get_secret_base32();
        let factor_id = random_token::<12>();
        let context = totp_secret_context(&pool.id, &user.sub, &factor_id);
        let pending = Pending {
            pool_id: pool.id.clone(),
            sub: user.sub.clone(),
            factor_id,
            secret: self.master.seal(&context, &key),
        };
        let id = random_token::<24>();
        let value = serde_json::to_string(&pending)
            .map_err(|e| MfaError::Internal(format!("storing an enrolment failed: {e}")))?;
        self.store()
            .put_ephemeral(PENDING_KIND, &id, &value, now + PENDING_SECS, now)
            .await?;
        let account = user
            .attribute("email")
            .filter(|e| !e.is_empty())
            .unwrap_or(&user.username);
        let uri = otpauth_uri(&self.totp_issuer(pool), account, &secret_base32);
        Ok(TotpEnrolment {
            id,
            qr_svg: qr_svg(&uri)?,
            secret_base32: SecretString::new(secret_base32),
            uri: SecretString::new(uri),
        })
    }

    /// Confirms a pending enrolment with one correct code: the factor counts from now (its
    /// step is used). Wrong codes count toward the account's lock (the enrolment stays, so
    /// a typo can be retyped). The user's first factor comes with ten recovery codes.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_totp(
        &self,
        pool: &UserPool,
        sub: &str,
        enrolment_id: &str,
        code: &str,
        name: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let result = self
            .confirm_totp_unrecorded(pool, sub, enrolment_id, code, name, now)
            .await;
        let context = crate::core::threat::EventContext::new(None, Some(address), None);
        let details = [("factor", "totp"), ("change", "enrol")];
        self.record_change(pool, sub, &context, &result, &details, now)
            .await;
        result
    }

    async fn confirm_totp_unrecorded(
        &self,
        pool: &UserPool,
        sub: &str,
        enrolment_id: &str,
        code: &str,
        name: &str,
        now: UnixTime,
    ) -> MfaResult<Enrolled> {
        let raw = self
            .store()
            .get_ephemeral(PENDING_KIND, enrolment_id, now)
            .await?
            .ok_or(MfaError::Expired)?;
        let pending: Pending = serde_json::from_str(&raw)
            .map_err(|e| MfaError::Internal(format!("a stored enrolment is unreadable: {e}")))?;
        // Another user's enrolment id is as good as none.
        if pending.pool_id != pool.id || pending.sub != sub {
            return Err(MfaError::Expired);
        }
        let code = typed_code(code).ok_or(MfaError::CodeMismatch)?;
        self.reserve_code(MfaScope::SecondFactor, pool, sub, now)
            .await?;
        let context = totp_secret_context(&pool.id, sub, &pending.factor_id);
        let key = open_key(&self.master, &context, &pending.secret)?;
        let step =
            matching_step(&generator(key)?, &code, now, None).ok_or(MfaError::CodeMismatch)?;
        // Single use: of two confirmations at once, one takes the enrolment.
        if self
            .store()
            .take_ephemeral(PENDING_KIND, enrolment_id, now)
            .await?
            .is_none()
        {
            return Err(MfaError::Expired);
        }
        self.code_success(MfaScope::SecondFactor, pool, sub).await;
        let name = match name.trim() {
            "" => "Authenticator app",
            n => n,
        };
        let factor = Factor {
            id: pending.factor_id,
            kind: MfaFactor::Totp,
            name: name.chars().take(64).collect(),
            created_at: now,
            last_used_at: Some(now),
            data: FactorData::Totp {
                secret: pending.secret,
                last_step: Some(step),
            },
        };
        self.enrol(pool, sub, factor, now).await
    }

    /// Verifies a TOTP code of any of the user's TOTP factors: the attempt is reserved
    /// with the throttle first; steps now-1, now, now+1 are accepted, each at most once.
    pub async fn verify_totp(
        &self,
        pool: &UserPool,
        sub: &str,
        code: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Verified> {
        let _ = address;
        if !pool.factors.allows_mfa(MfaFactor::Totp) {
            return Err(MfaError::FactorNotAllowed);
        }
        let code = typed_code(code).ok_or(MfaError::CodeMismatch)?;
        self.reserve_code(MfaScope::SecondFactor, pool, sub, now)
            .await?;
        let user = self.user_by_sub(pool, sub).await?;
        // The factor and step the code matches, as the user was read.
        let mut hit = None;
        for factor in &user.mfa.factors {
            let FactorData::Totp { secret, last_step } = &factor.data else {
                continue;
            };
            let context = totp_secret_context(&pool.id, sub, &factor.id);
            let key = open_key(&self.master, &context, secret)?;
            if let Some(step) = matching_step(&generator(key)?, &code, now, *last_step) {
                hit = Some((factor.id.clone(), step));
                break;
            }
        }
        let (factor_id, step) = hit.ok_or(MfaError::CodeMismatch)?;
        // The step is used with the user's version: a writer that lost the race reads
        // the step as used and is refused (a replay).
        let (user, ()) = self
            .update_user(pool, sub, now, |user| {
                let factor = user
                    .mfa
                    .factors
                    .iter_mut()
                    .find(|f| f.id == factor_id)
                    .ok_or(MfaError::CodeMismatch)?;
                let FactorData::Totp { last_step, .. } = &mut factor.data else {
                    return Err(MfaError::CodeMismatch);
                };
                if last_step.is_some_and(|last| step <= last) {
                    return Err(MfaError::CodeMismatch);
                }
                *last_step = Some(step);
                factor.last_used_at = Some(now);
                Ok(())
            })
            .await?;
        self.code_success(MfaScope::SecondFactor, pool, sub).await;
        Ok(Verified {
            user,
            amr: MfaFactor::Totp.amr(),
            recovery_codes_left: None,
        })
    }
}

fn open_key(master: &MasterKey, context: &str, sealed: &EncryptedSecret) -> MfaResult<Vec<u8>> {
    master
        .open(context, sealed)
        .map_err(|e| MfaError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests;
