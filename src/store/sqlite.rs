//! The embedded engine: one SQLite file in the data directory.
//!
//! All writes go through a pool of exactly one connection, so a node never competes with
//! itself for SQLite's single write lock (and never sees `SQLITE_BUSY` from itself); reads
//! use a separate small pool, which WAL mode lets run beside the writer. Another process
//! (the `cognate` CLI) may write the same file at the same time: write transactions start
//! with `BEGIN IMMEDIATE`, so they wait up to the busy timeout for the lock up front instead
//! of failing when a read transaction tries to upgrade.
//!
//! The schema is `migrations/sqlite`; records are JSON documents (see `store::doc`)
//! beside the columns SQLite must index or constrain.

use std::path::Path;
use std::time::Duration;

use sqlx::error::DatabaseError;
use sqlx::migrate::MigrateError;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::engine::{Engine, On, Run};
use super::shared::INSERT_MEMBER;
use super::sql::{self, links_of};
use super::user_rows::{user_values, write_filters, write_links, write_login_keys, DELETE_USER};
use super::{doc, Conflict, ImportOutcome, StoreError, StoreResult};
use crate::core::model::User;

/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections; WAL lets them all read while the single writer writes.
const READERS: u32 = 4;
/// Attempts at opening a file another process is opening at the same moment.
const OPEN_ATTEMPTS: u32 = 10;

/// The SQLite [`Store`](super::Store): the shared implementation over this engine's
/// `Engine` hooks.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: every write in this process is serialized here.
    writer: SqlitePool,
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database file at `path` and brings its schema up to
    /// date. WAL journal with `synchronous=NORMAL` (durable across process crashes, the
    /// last commits may be lost on power loss), foreign keys on, 10 s busy timeout.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let mut attempt = 0;
        loop {
            match Self::connect(&options).await {
                Ok(store) => return Ok(store),
                Err(e) if attempt < OPEN_ATTEMPTS && worth_retrying(&e) => {
                    attempt += 1;
                    tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
                }
                Err(e) => {
                    return Err(StoreError::Unavailable(format!(
                        "cannot open the SQLite database {}: {e}",
                        path.display()
                    )))
                }
            }
        }
    }

    /// One attempt at [`SqliteStore::open`]; connection errors arrive as
    /// `MigrateError::Execute`.
    async fn connect(options: &SqliteConnectOptions) -> Result<SqliteStore, MigrateError> {
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.clone())
            .await?;
        Ok(SqliteStore { writer, reader })
    }
}

/// Whether opening failed only because another process is opening the same file.
/// Switching a fresh file to WAL takes an exclusive lock, and SQLite answers `SQLITE_BUSY`
/// at once (no busy wait) when two connections would otherwise deadlock. And SQLite's
/// migrator takes no lock: when the server and the CLI migrate a fresh file together, the
/// loser's migration fails on tables that now exist, and a rerun finds it applied.
fn worth_retrying(e: &MigrateError) -> bool {
    match e {
        MigrateError::Execute(e) => is_busy(e),
        MigrateError::ExecuteMigration(..) => true,
        _ => false,
    }
}

/// `SQLITE_BUSY` and its extended codes ("database is locked").
fn is_busy(e: &sqlx::Error) -> bool {
    let sqlx::Error::Database(db) = e else {
        return false;
    };
    db.code()
        .and_then(|code| code.parse::<i32>().ok())
        .is_some_and(|code| code & 0xff == 5)
}

/// SQLite names the columns of the broken unique index, not the index:
/// "UNIQUE constraint failed: users.pool_id, users.email_key".
fn conflict_of(message: &str) -> Conflict {
    let columns = message.rsplit_once(": ").map_or("", |(_, c)| c);
    let has = |name: &str| columns.split(',').any(|c| c.trim() == name);
    if has("users.username_key") {
        Conflict::Username
    } else if has("users.email_key") {
        Conflict::Email
    } else if has("users.phone_key") {
        Conflict::PhoneNumber
    } else if has("users.preferred_username_key") {
        Conflict::PreferredUsername
    } else if columns.trim_start().starts_with("federated_links.") {
        Conflict::FederatedIdentity
    } else {
        Conflict::Exists
    }
}

/// For bulk import: a user that breaks any unique rule is skipped, not an error.
const IMPORT_USER: &str = "INSERT INTO users (pool_id, sub, username_key, email_key, phone_key, \
     preferred_username_key, verified_email_key, version, created_at, doc) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING";
/// For bulk import: a link held by another user is skipped, not an error.
const IMPORT_LINK: &str = "INSERT INTO federated_links (pool_id, provider, subject, sub) \
     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";

impl Engine for SqliteStore {
    type Db = Sqlite;

    const NAME: &'static str = "sqlite";
    // The write transaction holds SQLite's only write lock: nothing can delete the rows
    // before the membership commits.
    const GROUP_EXISTS: &'static str = "SELECT 1 FROM groups WHERE pool_id = $1 AND name = $2";
    const USER_EXISTS: &'static str = "SELECT 1 FROM users WHERE pool_id = $1 AND sub = $2";
    // BEGIN IMMEDIATE already serializes writers.
    const POOL_LOCK: &'static str = "SELECT 1 FROM pools WHERE id = $1";
    // `begin` takes SQLite's one write lock (BEGIN IMMEDIATE): transactions take turns.
    const POOLS_LOCK: &'static str = "SELECT 1";

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// A write transaction that holds SQLite's write lock from its first statement.
    async fn begin(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(Self::map_err)
    }

    /// SQLite names the columns of the broken unique index in its message.
    fn conflict(error: &dyn DatabaseError) -> Conflict {
        conflict_of(error.message())
    }

    async fn add_members(&self, pool_id: &str, members: &[(String, String)]) -> StoreResult<()> {
        // One transaction, one prepared statement for every pair: one fsync per batch.
        let mut tx = self.begin().await?;
        for (group, sub) in members {
            sqlx::query(INSERT_MEMBER)
                .bind(pool_id)
                .bind(group)
                .bind(sub)
                .execute(&mut *tx)
                .await
                .map_err(sql::membership_err)?;
        }
        tx.commit().await.map_err(Self::map_err)
    }

    async fn import_users(&self, users: &[User]) -> StoreResult<ImportOutcome> {
        // One transaction, and the same two statements for every row (sqlx keeps them
        // prepared on the connection), so a batch costs one fsync and no re-parsing.
        let mut outcome = ImportOutcome::default();
        let mut tx = self.begin().await?;
        for user in users {
            let mut stored = user.clone();
            stored.version = 1;
            let doc = doc::to_json(&stored)?;
            let values = user_values(&stored, &doc);
            if self.execute(On::Tx(&mut *tx), IMPORT_USER, &values).await? == 0 {
                outcome.skipped.push(user.sub.clone());
                continue;
            }
            let wanted = links_of(&stored).len() as u64;
            // A sign-in identifier held by another user, or a federated identity linked
            // to someone else: take the user back out (its keys and links cascade) and
            // report it like any other collision.
            if write_login_keys(self, &mut tx, &stored, &[])
                .await?
                .is_some()
                || (wanted > 0 && write_links(self, &mut tx, IMPORT_LINK, &stored).await? < wanted)
            {
                let key = [(&stored.pool_id).into(), (&stored.sub).into()];
                self.execute(On::Tx(&mut *tx), DELETE_USER, &key).await?;
                outcome.skipped.push(user.sub.clone());
                continue;
            }
            write_filters(self, &mut tx, &stored).await?;
            outcome.inserted += 1;
        }
        tx.commit().await.map_err(Self::map_err)?;
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_messages_name_the_rule() {
        let c = |m: &str| conflict_of(m);
        assert_eq!(
            c("UNIQUE constraint failed: users.pool_id, users.username_key"),
            Conflict::Username
        );
        assert_eq!(
            c("UNIQUE constraint failed: users.pool_id, users.preferred_username_key"),
            Conflict::PreferredUsername
        );
        assert_eq!(
            c("UNIQUE constraint failed: users.pool_id, users.email_key"),
            Conflict::Email
        );
        assert_eq!(
            c("UNIQUE constraint failed: users.pool_id, users.phone_key"),
            Conflict::PhoneNumber
        );
        assert_eq!(
            c("UNIQUE constraint failed: federated_links.pool_id, federated_links.provider, federated_links.subject"),
            Conflict::FederatedIdentity
        );
        assert_eq!(
            c("UNIQUE constraint failed: users.pool_id, users.sub"),
            Conflict::Exists
        );
    }
}
