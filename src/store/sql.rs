//! Helpers both engines share that are not SQL: error mapping, row decoding, paging and
//! prefix ranges.

use std::collections::BTreeSet;

use serde::de::DeserializeOwned;
use sqlx::error::{DatabaseError, ErrorKind};
use sqlx::postgres::{PgQueryResult, PgRow};
use sqlx::sqlite::{SqliteQueryResult, SqliteRow};
use sqlx::Row;

use super::{doc, Conflict, StoreError, StoreResult};
use crate::core::model::{Page, PageRequest, SigningKey, SpKeyRecord, User, UserPool};
use crate::core::secrets::EncryptedSecret;

/// Maps a driver error: a unique rule to the [`Conflict`] that `conflict` reads off the
/// error (each engine names the broken rule its own way), a missing pool row to
/// `MissingParent`, undecodable rows to `Corrupt`, and everything else (busy, I/O,
/// connection loss, pool timeout, server shutdown) to `Unavailable`.
pub(crate) fn map_err(
    e: sqlx::Error,
    conflict: impl FnOnce(&dyn DatabaseError) -> Conflict,
) -> StoreError {
    match e {
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => StoreError::Conflict(conflict(db.as_ref())),
            // Every foreign key written outside a checked transaction points at a pool.
            ErrorKind::ForeignKeyViolation => StoreError::MissingParent("user pool"),
            _ => StoreError::Unavailable(db.message().to_string()),
        },
        sqlx::Error::RowNotFound => StoreError::NotFound,
        e @ (sqlx::Error::Decode(_)
        | sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::ColumnIndexOutOfBounds { .. }
        | sqlx::Error::TypeNotFound { .. }
        | sqlx::Error::Encode(_)) => StoreError::Corrupt(e.to_string()),
        e => StoreError::Unavailable(e.to_string()),
    }
}

/// A membership insert: its foreign keys point at a group and a user.
pub(crate) fn membership_err(e: sqlx::Error) -> StoreError {
    match map_err(e, |_| Conflict::Exists) {
        StoreError::MissingParent(_) => StoreError::MissingParent("group or user"),
        other => other,
    }
}

/// Reading a column breaks no unique rule.
fn column_err(e: sqlx::Error) -> StoreError {
    map_err(e, |_| Conflict::Exists)
}

/// The columns the record helpers read, from a row of either engine.
pub(crate) trait RecordRow: Row {
    fn text(&self, column: &str) -> StoreResult<&str>;
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn maybe_int(&self, column: &str) -> StoreResult<Option<i64>>;
    fn maybe_text(&self, column: &str) -> StoreResult<Option<&str>>;
}

macro_rules! record_row {
    ($($row:ty),*) => {$(
        impl RecordRow for $row {
            fn text(&self, column: &str) -> StoreResult<&str> {
                self.try_get(column).map_err(column_err)
            }
            fn int(&self, column: &str) -> StoreResult<i64> {
                self.try_get(column).map_err(column_err)
            }
            fn maybe_int(&self, column: &str) -> StoreResult<Option<i64>> {
                self.try_get(column).map_err(column_err)
            }
            fn maybe_text(&self, column: &str) -> StoreResult<Option<&str>> {
                self.try_get(column).map_err(column_err)
            }
        }
    )*};
}
record_row!(SqliteRow, PgRow);

/// How many rows a statement wrote, from a result of either engine (sqlx has no trait
/// for it).
pub(crate) trait Affected {
    fn rows_affected(&self) -> u64;
}

macro_rules! affected {
    ($($result:ty),*) => {$(
        impl Affected for $result {
            fn rows_affected(&self) -> u64 {
                <$result>::rows_affected(self)
            }
        }
    )*};
}
affected!(SqliteQueryResult, PgQueryResult);

/// A text column, owned.
pub(crate) fn string_of(row: &impl RecordRow, column: &str) -> StoreResult<String> {
    row.text(column).map(str::to_owned)
}

/// The record in a row's `doc` column.
pub(crate) fn doc_of<T: DeserializeOwned>(row: &impl RecordRow) -> StoreResult<T> {
    doc::from_json(row.text("doc")?)
}

pub(crate) fn docs_of<T: DeserializeOwned>(rows: &[impl RecordRow]) -> StoreResult<Vec<T>> {
    rows.iter().map(doc_of).collect()
}

/// A user row; the `version` column is authoritative over the copy inside the document.
pub(crate) fn user_of(row: &impl RecordRow) -> StoreResult<User> {
    let mut user: User = doc_of(row)?;
    user.version = row.int("version")?;
    Ok(user)
}

/// A pool row; the `version` column is authoritative over the copy inside the document.
pub(crate) fn pool_of(row: &impl RecordRow) -> StoreResult<UserPool> {
    let mut pool: UserPool = doc_of(row)?;
    pool.version = row.int("version")?;
    Ok(pool)
}

/// A key row; the `retired_at` column is authoritative over the copy inside the document.
pub(crate) fn key_of(row: &impl RecordRow) -> StoreResult<SigningKey> {
    let mut key: SigningKey = doc_of(row)?;
    key.retired_at = row.maybe_int("retired_at")?;
    Ok(key)
}

/// An `sp_keys` row (its columns are the record: nothing in it needs a document).
pub(crate) fn sp_key_of(row: &impl RecordRow) -> StoreResult<SpKeyRecord> {
    Ok(SpKeyRecord {
        pool_id: string_of(row, "pool_id")?,
        kid: string_of(row, "kid")?,
        private_pkcs8: EncryptedSecret::from_stored(string_of(row, "private_pkcs8")?),
        certificate: string_of(row, "certificate")?,
        created_at: row.int("created_at")?,
        retired_at: row.maybe_int("retired_at")?,
        published_until: row.maybe_int("published_until")?,
    })
}

/// The (provider, upstream subject) pairs a user is linked to, each once.
pub(crate) fn links_of(user: &User) -> BTreeSet<(&str, &str)> {
    user.identities
        .iter()
        .map(|i| (i.provider_name.as_str(), i.user_id.as_str()))
        .collect()
}

/// The keys a user signs in by (its `login_keys` rows), each once, with the rule a
/// collision on it breaks (a key that is both the username and an alias counts as the
/// username). Usernames and aliases share one space per pool, so a login finds one user
/// whichever kind it is looked up as. Ordered by key, so two PostgreSQL transactions
/// claiming the same keys take their index locks in one order and never deadlock.
pub(crate) fn login_keys_of(user: &User) -> Vec<(&str, Conflict)> {
    let l = &user.lookup;
    let mut keys: Vec<(&str, Conflict)> = Vec::with_capacity(4);
    for (key, kind) in [
        (Some(l.username.as_str()), Conflict::Username),
        (l.email.as_deref(), Conflict::Email),
        (l.phone_number.as_deref(), Conflict::PhoneNumber),
        (l.preferred_username.as_deref(), Conflict::PreferredUsername),
    ] {
        if let Some(key) = key.filter(|k| !keys.iter().any(|(held, _)| held == k)) {
            keys.push((key, kind));
        }
    }
    keys.sort_unstable_by_key(|(key, _)| *key);
    keys
}

/// Cuts one extra fetched row off a listing and turns its presence into a `next` token.
pub(crate) fn paginate<T>(mut items: Vec<T>, limit: i64, key: impl Fn(&T) -> &str) -> Page<T> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = items.len() > limit;
    items.truncate(limit);
    let next = more
        .then(|| items.last().map(|last| doc::encode_page_token(key(last))))
        .flatten();
    Page { items, next }
}

/// The key a page starts after: the decoded token, or "" for the first page.
pub(crate) fn page_after(page: &PageRequest) -> StoreResult<String> {
    Ok(match &page.after {
        Some(token) => doc::decode_page_token(token)?,
        None => String::new(),
    })
}

/// The smallest string greater than every string that starts with `prefix`, in code point
/// order (which is UTF-8 byte order: SQLite's BINARY collation and PostgreSQL's "C"), or
/// `None` when no such string exists (empty prefix, or only `char::MAX`): then every
/// string `>= prefix` starts with it. `key >= prefix AND key < end` selects the keys that
/// start with `prefix` with an index range scan, and no character of the prefix is a
/// wildcard, unlike `LIKE`.
pub(crate) fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let next = match last {
            // Skip the surrogate gap, which no `char` occupies.
            '\u{D7FF}' => Some('\u{E000}'),
            c => char::from_u32(u32::from(c) + 1),
        };
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// A listing limit as SQL wants it; 0 returns no rows.
pub(crate) fn list_limit(limit: u32) -> i64 {
    i64::from(limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_bounds_exactly_the_prefixed_strings() {
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("login:"), Some("login;".into()));
        assert_eq!(prefix_end("a%_"), Some("a%`".into()));
        assert_eq!(prefix_end("a\u{D7FF}"), Some("a\u{E000}".into()));
        assert_eq!(prefix_end("ab\u{10FFFF}"), Some("ac".into()));
        assert_eq!(prefix_end("\u{10FFFF}\u{10FFFF}"), None);
        let end = prefix_end("p:é").unwrap();
        for inside in ["p:é", "p:é\u{10FFFF}\u{10FFFF}", "p:éz"] {
            assert!(inside >= "p:é" && inside < end.as_str(), "{inside}");
        }
        for outside in ["p:f", "p:ê", "p;", "p:"] {
            assert!(!(outside >= "p:é" && outside < end.as_str()), "{outside}");
        }
    }
}
