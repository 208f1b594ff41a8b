//! Recovery codes: ten, shown once, stored hashed, each usable once in place of a factor
//! (a notice mail when one is used). Owned by helper A.
//!
//! A code is ten characters of a 32-letter alphabet without look-alikes (`0`/`o`, `1`/`l`),
//! shown as `abcde-fghij`: 50 random bits, so the five tries a lock allows per window
//! never find one. Only SHA-256 of the user and the normalized code is kept
//! (bound to the user, so one table of hashes does not serve every user).

use std::net::IpAddr;

use super::manage::Notice;
use super::{Mfa, MfaError, MfaResult, Verified, AMR_RECOVERY};
use crate::core::model::{RecoveryCode, UserPool};
use crate::core::secrets::{constant_time_eq, random_bytes};
use crate::core::throttle::MfaScope;
use crate::core::UnixTime;

/// How many recovery codes a user gets.
pub const RECOVERY_CODES: usize = 10;

/// The letters of a code: 32 of them, none easily mistaken for another.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";
/// Letters per code (two groups of five).
const CODE_LETTERS: usize = 10;

/// One fresh code, `abcde-fghij`. Each random byte picks a letter by its low five bits:
/// 256 is a multiple of 32, so every letter is equally likely.
pub fn generate_recovery_code() -> String {
    let bytes = random_bytes::<CODE_LETTERS>();
    let mut code = String::with_capacity(CODE_LETTERS + 1);
    for (i, b) in bytes.iter().enumerate() {
        if i == CODE_LETTERS / 2 {
            code.push('-');
        }
        code.push(char::from(ALPHABET[usize::from(b & 31)]));
    }
    code
}

/// A typed code as compared: lowercase, without spaces or dashes.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The stored hash of a code of user `sub` (SHA-256, hex). Bound to the sub (a UUID
/// never reused, kept by export and import) and not to the pool, so an import into
/// another pool keeps the codes working.
pub fn recovery_hash(sub: &str, code: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("recovery-code\n{sub}\n{}", normalize(code)).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Ten new codes for a user, and what is stored of them.
pub fn new_recovery_codes(sub: &str) -> (Vec<String>, Vec<RecoveryCode>) {
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| generate_recovery_code())
        .collect();
    let hashed = codes
        .iter()
        .map(|c| RecoveryCode {
            hash: recovery_hash(sub, c),
            used_at: None,
        })
        .collect();
    (codes, hashed)
}

impl Mfa {
    /// Uses a recovery code in place of a factor (throttled like codes: the try is
    /// reserved before the comparison). The code is consumed with the user's version, so
    /// of two requests using one code at once exactly one succeeds. A notice is mailed;
    /// the codes left are returned.
    #[allow(clippy::too_many_arguments)]
    pub async fn use_recovery_code(
        &self,
        pool: &UserPool,
        sub: &str,
        code: &str,
        lang: &str,
        address: IpAddr,
        now: UnixTime,
    ) -> MfaResult<Verified> {
        let _ = address;
        let typed = normalize(code);
        if typed.len() != CODE_LETTERS || !typed.bytes().all(|b| ALPHABET.contains(&b)) {
            return Err(MfaError::CodeMismatch);
        }
        self.reserve_code(MfaScope::SecondFactor, pool, sub, now)
            .await?;
        let hash = recovery_hash(sub, &typed);
        let (user, left) = self
            .update_user(pool, sub, now, |user| {
                let found = user
                    .mfa
                    .recovery_codes
                    .iter_mut()
                    .find(|c| constant_time_eq(c.hash.as_bytes(), hash.as_bytes()))
                    .filter(|c| c.used_at.is_none())
                    .ok_or(MfaError::CodeMismatch)?;
                found.used_at = Some(now);
                Ok(user.mfa.unused_recovery_codes())
            })
            .await?;
        self.code_success(MfaScope::SecondFactor, pool, sub).await;
        self.notify(pool, &user, Notice::RecoveryCodeUsed, lang)
            .await;
        Ok(Verified {
            user,
            amr: AMR_RECOVERY,
            recovery_codes_left: Some(left),
        })
    }

    /// Replaces the user's recovery codes with ten new ones, returned once (the user must
    /// hold a factor). A notice is mailed.
    pub async fn regenerate_recovery_codes(
        &self,
        pool: &UserPool,
        sub: &str,
        now: UnixTime,
    ) -> MfaResult<Vec<String>> {
        let (codes, hashed) = new_recovery_codes(sub);
        let (user, ()) = self
            .update_user(pool, sub, now, |user| {
                if user.mfa.factors.is_empty() {
                    return Err(MfaError::NotPossible(
                        "Recovery codes need a second factor first",
                    ));
                }
                user.mfa.recovery_codes = hashed.clone();
                Ok(())
            })
            .await?;
        let lang = super::manage::user_lang(&user).to_string();
        self.notify(pool, &user, Notice::RecoveryCodesRegenerated, &lang)
            .await;
        Ok(codes)
    }
}
