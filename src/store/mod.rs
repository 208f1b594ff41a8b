//! Storage engines for the [`Store`] trait (defined by the core in
//! [`crate::core::storage`]).
//!
//! Each engine keeps a record as a JSON document beside the few columns it must index or
//! constrain (pool, normalized username and aliases, federated links), so the uniqueness
//! rules are enforced by the database itself and hold across nodes.
//!
//! - [`sqlite::SqliteStore`]: the embedded default (one file in the data directory).
//! - [`postgres::PgStore`]: for several Cognate nodes behind a load balancer.
//!
//! Both engines run one [`Store`] implementation (`shared`): every statement is written
//! once, with `$N` placeholders that PostgreSQL and sqlx's SQLite driver both read, and
//! bound and decoded once. An engine file holds only what really differs, behind the
//! hooks of `engine::Engine`: connecting, opening a write transaction, naming a broken
//! unique rule, PostgreSQL's row locks and its `UNNEST` batches. Helpers that are not
//! SQL (error mapping, row decoding, paging, prefix ranges) live in `sql`;
//! (de)serializing documents in `doc`; the rows a user is written as (its `users` row,
//! federated links and sign-in identifiers) in `user_rows`.

pub use crate::core::storage::*;

mod auth_events;
mod engine;
mod identities;
pub mod postgres;
mod shared;
mod sql;
pub mod sqlite;
mod user_rows;
mod user_search;

/// Helpers shared by both engines for (de)serializing record documents.
pub(crate) mod doc {
    use super::{StoreError, StoreResult};
    use serde::de::DeserializeOwned;
    use serde::Serialize;

    pub fn to_json<T: Serialize>(value: &T) -> StoreResult<String> {
        serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    pub fn from_json<T: DeserializeOwned>(text: &str) -> StoreResult<T> {
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Page tokens are the last key of the previous page, base64url encoded so callers
    /// treat them as opaque (the core's [`PageRequest::token_after`], which the core also
    /// uses to start a listing at a key of its choosing).
    ///
    /// [`PageRequest::token_after`]: crate::core::model::PageRequest::token_after
    pub fn encode_page_token(last_key: &str) -> String {
        crate::core::model::PageRequest::token_after(last_key)
    }

    pub fn decode_page_token(token: &str) -> StoreResult<String> {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(StoreError::NotFound)
    }

    /// Page size bounds: 1..=1000, 60 by default (Cognito's ListUsers maximum is 60).
    pub fn page_limit(limit: u32) -> i64 {
        match limit {
            0 => 60,
            n => i64::from(n.min(1000)),
        }
    }
}
