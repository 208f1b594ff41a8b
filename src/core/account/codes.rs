//! Mailed codes: drawn, stored (only as a salted hash, in the shared ephemeral store so
//! any node can check them), checked and consumed.
//!
//! A code is single use. Every try is first reserved against the code budgets
//! ([`super::budgets`]: the client address, the pair, the destination the code was mailed
//! to) and only then compared, in constant time; a wrong try does not touch the code, so
//! a guesser cannot destroy the owner's code (the destination's try budget bounds the
//! guesses instead). The latest code sent replaces the earlier one.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::budgets::Spend;
use super::{AccountError, AccountResult, AccountService};
use crate::core::model::UserPool;
use crate::core::oauth::token_hash;
use crate::core::secrets::{constant_time_eq, random_bytes, random_token, redacted};
use crate::core::storage::{Conflict, StoreError};
use crate::core::UnixTime;

/// A uniformly random 6-digit code. Four random bytes are drawn again when they fall in
/// the incomplete last block of a million, so every code is equally likely.
pub fn generate_code() -> String {
    const RANGE: u32 = 1_000_000;
    const ZONE: u32 = u32::MAX - (u32::MAX % RANGE);
    loop {
        let value = u32::from_le_bytes(random_bytes::<4>());
        if value < ZONE {
            return format!("{:06}", value % RANGE);
        }
    }
}

/// A code as stored: never the code itself.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct StoredCode {
    pub(super) salt: String,
    /// `token_hash(salt:code)`; `None` only in codes stored by an earlier release that
    /// destroyed a code after five wrong tries.
    pub(super) hash: Option<String>,
    pub(super) expires_at: UnixTime,
    /// Where the code was mailed; a sign-up confirmation verifies this address only.
    /// `None` for a simulated code (no one was mailed).
    pub(super) destination: Option<String>,
}

impl std::fmt::Debug for StoredCode {
    /// Leaves out the salt and the hash: a six-digit code is found from them in a
    /// million hashes.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCode")
            .field("hash", &redacted(&self.hash))
            .field("expires_at", &self.expires_at)
            .field("destination", &self.destination)
            .finish_non_exhaustive()
    }
}

pub(super) fn hash_code(salt: &str, code: &str) -> String {
    token_hash(&format!("{salt}:{code}"))
}

/// The id of a user's code.
pub(super) fn code_id(pool: &UserPool, sub: &str) -> String {
    format!("{}:{sub}", pool.id)
}

fn corrupt(e: serde_json::Error) -> AccountError {
    AccountError::Internal(format!("a stored code could not be read: {e}"))
}

impl AccountService {
    /// Stores a code (hashed), replacing any earlier one for the same id.
    pub(crate) async fn issue_code(
        &self,
        kind: &str,
        id: &str,
        code: &str,
        destination: Option<&str>,
        validity: i64,
        now: UnixTime,
    ) -> AccountResult<()> {
        let record = new_record(code, destination, validity, now);
        let value = serde_json::to_string(&record).map_err(corrupt)?;
        for _ in 0..5 {
            self.store().delete_ephemeral(kind, id).await?;
            match self
                .store()
                .put_ephemeral(kind, id, &value, record.expires_at, now)
                .await
            {
                Ok(()) => return Ok(()),
                // Another request stored a code between our delete and put: replace it
                // (the latest code wins, as in Cognito).
                Err(StoreError::Conflict(Conflict::Exists)) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(AccountError::LimitExceeded)
    }

    /// Stores a simulated code that no input matches under `id`, unless a live one is
    /// there already (it then keeps its expiry, as a real code does between sends).
    pub(crate) async fn ensure_simulated_code(
        &self,
        kind: &str,
        id: &str,
        validity: i64,
        now: UnixTime,
    ) -> AccountResult<()> {
        let record = new_record(&random_token::<32>(), None, validity, now);
        let value = serde_json::to_string(&record).map_err(corrupt)?;
        match self
            .store()
            .put_ephemeral(kind, id, &value, record.expires_at, now)
            .await
        {
            Ok(()) | Err(StoreError::Conflict(Conflict::Exists)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks a code and consumes it. The try is reserved against the budgets of the
    /// client address and of the destination the code went to (`unsent`, the typed
    /// login's key, for a simulated code) before the comparison, so no burst, on any
    /// number of nodes, gets more comparisons than the budgets allow.
    pub(crate) async fn check_code(
        &self,
        pool: &UserPool,
        (kind, id): (&str, &str),
        code: &str,
        unsent: &str,
        client: IpAddr,
        now: UnixTime,
    ) -> AccountResult<StoredCode> {
        let Some(raw) = self.store().get_ephemeral(kind, id, now).await? else {
            return Err(AccountError::ExpiredCode);
        };
        let record: StoredCode = serde_json::from_str(&raw).map_err(corrupt)?;
        let destination = record.destination.as_deref().unwrap_or(unsent);
        self.reserve(pool, Spend::Try, destination, client, now)
            .await?;
        let Some(hash) = &record.hash else {
            return Err(AccountError::ExpiredCode);
        };
        let candidate = hash_code(&record.salt, code.trim());
        if !constant_time_eq(candidate.as_bytes(), hash.as_bytes()) {
            return Err(AccountError::CodeMismatch);
        }
        // Single use: of concurrent right answers, one takes the row.
        match self.store().take_ephemeral(kind, id, now).await? {
            Some(taken) => {
                let taken_record: StoredCode = serde_json::from_str(&taken).map_err(corrupt)?;
                if taken_record.salt == record.salt {
                    Ok(record)
                } else {
                    // A newer code replaced ours meanwhile: put it back untouched.
                    let _ = self
                        .store()
                        .put_ephemeral(kind, id, &taken, taken_record.expires_at, now)
                        .await;
                    Err(AccountError::ExpiredCode)
                }
            }
            None => Err(AccountError::ExpiredCode),
        }
    }
}

fn new_record(code: &str, destination: Option<&str>, validity: i64, now: UnixTime) -> StoredCode {
    let salt = random_token::<16>();
    StoredCode {
        hash: Some(hash_code(&salt, code)),
        salt,
        expires_at: now + validity,
        destination: destination.map(str::to_string),
    }
}
