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

use async_trait::async_trait;
use sqlx::migrate::MigrateError;
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool,
    SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::sql::{self, doc_of, docs_of, key_of, links_of, page_after, paginate, user_of};
use super::{doc, Conflict, ImportOutcome, Store, StoreError, StoreResult, UserRef};
use crate::core::model::{
    AppClient, Group, Page, PageRequest, ResourceServer, SigningKey, User, UserPool,
};
use crate::core::UnixTime;

/// How long a statement waits for another process's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Read connections; WAL lets them all read while the single writer writes.
const READERS: u32 = 4;
/// Attempts at opening a file another process is opening at the same moment.
const OPEN_ATTEMPTS: u32 = 10;

/// The SQLite [`Store`].
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

    /// A write transaction that holds SQLite's write lock from its first statement.
    async fn begin(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        self.writer
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)
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

/// [`sql::map_err`], reading the broken unique rule off SQLite's message.
fn map_err(e: sqlx::Error) -> StoreError {
    sql::map_err(e, |db| conflict_of(db.message()))
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

const INSERT_USER: &str = "INSERT INTO users (pool_id, sub, username_key, email_key, phone_key, \
     preferred_username_key, verified_email_key, version, created_at, doc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";
/// For bulk import: a user that breaks any unique rule is skipped, not an error.
const IMPORT_USER: &str = "INSERT INTO users (pool_id, sub, username_key, email_key, phone_key, \
     preferred_username_key, verified_email_key, version, created_at, doc) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING";
const INSERT_LINK: &str =
    "INSERT INTO federated_links (pool_id, provider, subject, sub) VALUES (?1, ?2, ?3, ?4)";
const IMPORT_LINK: &str = "INSERT INTO federated_links (pool_id, provider, subject, sub) \
     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING";
const USER_COLUMNS: &str = "SELECT version, doc FROM users";

/// Binds a user's row for [`INSERT_USER`] / [`IMPORT_USER`]; `user.version` must already
/// be the stored version and `doc` its serialization.
fn bind_user<'q>(
    sql: &'q str,
    user: &'q User,
    doc: String,
) -> Query<'q, Sqlite, SqliteArguments<'q>> {
    sqlx::query(sql)
        .bind(&user.pool_id)
        .bind(&user.sub)
        .bind(&user.lookup.username)
        .bind(user.lookup.email.as_deref())
        .bind(user.lookup.phone_number.as_deref())
        .bind(user.lookup.preferred_username.as_deref())
        .bind(user.lookup.verified_email.as_deref())
        .bind(user.version)
        .bind(user.created_at)
        .bind(doc)
}

/// Writes the user's federated links with `sql`; returns how many rows were inserted.
async fn write_links(conn: &mut SqliteConnection, sql: &str, user: &User) -> StoreResult<u64> {
    let mut inserted = 0;
    for (provider, subject) in links_of(user) {
        inserted += sqlx::query(sql)
            .bind(&user.pool_id)
            .bind(provider)
            .bind(subject)
            .bind(&user.sub)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?
            .rows_affected();
    }
    Ok(inserted)
}

#[async_trait]
impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE name = ?1")
            .bind(key)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)
    }

    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE name = ?1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(stored)
    }

    async fn put_pool(&self, pool: &UserPool) -> StoreResult<()> {
        // An upsert, never INSERT OR REPLACE: REPLACE deletes the row first, and the
        // delete would cascade to every user of the pool.
        sqlx::query(
            "INSERT INTO pools (id, doc) VALUES (?1, ?2) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
        )
        .bind(&pool.id)
        .bind(doc::to_json(pool)?)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_pool(&self, id: &str) -> StoreResult<Option<UserPool>> {
        let row = sqlx::query("SELECT doc FROM pools WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_pools(&self) -> StoreResult<Vec<UserPool>> {
        let rows = sqlx::query("SELECT doc FROM pools ORDER BY id")
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        docs_of(&rows)
    }

    async fn delete_pool(&self, id: &str) -> StoreResult<bool> {
        // Foreign keys cascade to clients, resource servers, users (and their links and
        // memberships), groups and signing keys.
        let done = sqlx::query("DELETE FROM pools WHERE id = ?1")
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_client(&self, client: &AppClient) -> StoreResult<()> {
        // The update applies only within the same pool: a client id held by another pool
        // leaves the row untouched, which reads as a conflict.
        let done = sqlx::query(
            "INSERT INTO clients (id, pool_id, doc) VALUES (?1, ?2, ?3) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc \
             WHERE clients.pool_id = excluded.pool_id",
        )
        .bind(&client.id)
        .bind(&client.pool_id)
        .bind(doc::to_json(client)?)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(Conflict::Exists));
        }
        Ok(())
    }

    async fn get_client(&self, id: &str) -> StoreResult<Option<AppClient>> {
        let row = sqlx::query("SELECT doc FROM clients WHERE id = ?1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_clients(&self, pool_id: &str) -> StoreResult<Vec<AppClient>> {
        let rows = sqlx::query("SELECT doc FROM clients WHERE pool_id = ?1 ORDER BY id")
            .bind(pool_id)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        docs_of(&rows)
    }

    async fn delete_client(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM clients WHERE id = ?1")
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_resource_server(&self, server: &ResourceServer) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO resource_servers (pool_id, identifier, doc) VALUES (?1, ?2, ?3) \
             ON CONFLICT (pool_id, identifier) DO UPDATE SET doc = excluded.doc",
        )
        .bind(&server.pool_id)
        .bind(&server.identifier)
        .bind(doc::to_json(server)?)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_resource_servers(&self, pool_id: &str) -> StoreResult<Vec<ResourceServer>> {
        let rows =
            sqlx::query("SELECT doc FROM resource_servers WHERE pool_id = ?1 ORDER BY identifier")
                .bind(pool_id)
                .fetch_all(&self.reader)
                .await
                .map_err(map_err)?;
        docs_of(&rows)
    }

    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("DELETE FROM resource_servers WHERE pool_id = ?1 AND identifier = ?2")
                .bind(pool_id)
                .bind(identifier)
                .execute(&self.writer)
                .await
                .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_user(&self, user: &User) -> StoreResult<User> {
        let mut stored = user.clone();
        stored.version = 1;
        let doc = doc::to_json(&stored)?;
        let mut tx = self.begin().await?;
        bind_user(INSERT_USER, &stored, doc)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        write_links(&mut tx, INSERT_LINK, &stored).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(stored)
    }

    async fn update_user(&self, user: &User) -> StoreResult<User> {
        let mut stored = user.clone();
        stored.version = user.version + 1;
        let doc = doc::to_json(&stored)?;
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET username_key = ?3, email_key = ?4, phone_key = ?5, \
             preferred_username_key = ?6, verified_email_key = ?7, version = ?8, doc = ?9 \
             WHERE pool_id = ?1 AND sub = ?2 AND version = ?10",
        )
        .bind(&stored.pool_id)
        .bind(&stored.sub)
        .bind(&stored.lookup.username)
        .bind(stored.lookup.email.as_deref())
        .bind(stored.lookup.phone_number.as_deref())
        .bind(stored.lookup.preferred_username.as_deref())
        .bind(stored.lookup.verified_email.as_deref())
        .bind(stored.version)
        .bind(doc)
        .bind(user.version)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            let exists = sqlx::query("SELECT 1 FROM users WHERE pool_id = ?1 AND sub = ?2")
                .bind(&user.pool_id)
                .bind(&user.sub)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
                .is_some();
            return Err(if exists {
                StoreError::VersionMismatch
            } else {
                StoreError::NotFound
            });
        }
        sqlx::query("DELETE FROM federated_links WHERE pool_id = ?1 AND sub = ?2")
            .bind(&stored.pool_id)
            .bind(&stored.sub)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        write_links(&mut tx, INSERT_LINK, &stored).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(stored)
    }

    async fn get_user(&self, pool_id: &str, by: &UserRef) -> StoreResult<Option<User>> {
        let (filter, key) = match by {
            UserRef::Sub(key) => ("sub", key),
            UserRef::Username(key) => ("username_key", key),
            UserRef::Email(key) => ("email_key", key),
            UserRef::PhoneNumber(key) => ("phone_key", key),
            UserRef::PreferredUsername(key) => ("preferred_username_key", key),
            UserRef::Federated(provider, subject) => {
                let row = sqlx::query(
                    "SELECT u.version, u.doc FROM federated_links f \
                     JOIN users u ON u.pool_id = f.pool_id AND u.sub = f.sub \
                     WHERE f.pool_id = ?1 AND f.provider = ?2 AND f.subject = ?3",
                )
                .bind(pool_id)
                .bind(provider)
                .bind(subject)
                .fetch_optional(&self.reader)
                .await
                .map_err(map_err)?;
                return row.as_ref().map(user_of).transpose();
            }
        };
        // `filter` is one of the fixed column names above, never caller input.
        let sql = format!("{USER_COLUMNS} WHERE pool_id = ?1 AND {filter} = ?2");
        let row = sqlx::query(&sql)
            .bind(pool_id)
            .bind(key)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(user_of).transpose()
    }

    async fn users_by_verified_email(
        &self,
        pool_id: &str,
        email_key: &str,
        limit: u32,
    ) -> StoreResult<Vec<User>> {
        let rows = sqlx::query(
            "SELECT version, doc FROM users WHERE pool_id = ?1 AND verified_email_key = ?2 \
             ORDER BY sub LIMIT ?3",
        )
        .bind(pool_id)
        .bind(email_key)
        .bind(sql::list_limit(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(user_of).collect()
    }

    async fn delete_user(&self, pool_id: &str, sub: &str) -> StoreResult<bool> {
        // Memberships and federated links cascade.
        let done = sqlx::query("DELETE FROM users WHERE pool_id = ?1 AND sub = ?2")
            .bind(pool_id)
            .bind(sub)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_users(&self, pool_id: &str, page: &PageRequest) -> StoreResult<Page<User>> {
        let limit = doc::page_limit(page.limit);
        let rows = sqlx::query(
            "SELECT version, doc FROM users WHERE pool_id = ?1 AND sub > ?2 \
             ORDER BY sub LIMIT ?3",
        )
        .bind(pool_id)
        .bind(page_after(page)?)
        .bind(limit + 1)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        let users = rows.iter().map(user_of).collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(users, limit, |u| u.sub.as_str()))
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE pool_id = ?1")
            .bind(pool_id)
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
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
            let inserted = bind_user(IMPORT_USER, &stored, doc)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
            if inserted == 0 {
                outcome.skipped.push(user.sub.clone());
                continue;
            }
            let wanted = links_of(&stored).len() as u64;
            if wanted > 0 && write_links(&mut tx, IMPORT_LINK, &stored).await? < wanted {
                // A federated identity is linked to someone else: take the user back out
                // (its links cascade) and report it like any other collision.
                sqlx::query("DELETE FROM users WHERE pool_id = ?1 AND sub = ?2")
                    .bind(&stored.pool_id)
                    .bind(&stored.sub)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                outcome.skipped.push(user.sub.clone());
                continue;
            }
            outcome.inserted += 1;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(outcome)
    }

    async fn put_group(&self, group: &Group) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO groups (pool_id, name, precedence, doc) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (pool_id, name) DO UPDATE \
             SET precedence = excluded.precedence, doc = excluded.doc",
        )
        .bind(&group.pool_id)
        .bind(&group.name)
        .bind(group.precedence)
        .bind(doc::to_json(group)?)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        let row = sqlx::query("SELECT doc FROM groups WHERE pool_id = ?1 AND name = ?2")
            .bind(pool_id)
            .bind(name)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_groups(&self, pool_id: &str) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query("SELECT doc FROM groups WHERE pool_id = ?1 ORDER BY name")
            .bind(pool_id)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        docs_of(&rows)
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM groups WHERE pool_id = ?1 AND name = ?2")
            .bind(pool_id)
            .bind(name)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<()> {
        // Checked in the write transaction so the error names the missing parent (a
        // foreign key failure would not say which).
        let mut tx = self.begin().await?;
        let group_exists = sqlx::query("SELECT 1 FROM groups WHERE pool_id = ?1 AND name = ?2")
            .bind(pool_id)
            .bind(group)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
            .is_some();
        if !group_exists {
            return Err(StoreError::MissingParent("group"));
        }
        let user_exists = sqlx::query("SELECT 1 FROM users WHERE pool_id = ?1 AND sub = ?2")
            .bind(pool_id)
            .bind(sub)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
            .is_some();
        if !user_exists {
            return Err(StoreError::MissingParent("user"));
        }
        sqlx::query(
            "INSERT INTO memberships (pool_id, group_name, sub) VALUES (?1, ?2, ?3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(pool_id)
        .bind(group)
        .bind(sub)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn add_members(&self, pool_id: &str, members: &[(String, String)]) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        for (group, sub) in members {
            sqlx::query(
                "INSERT INTO memberships (pool_id, group_name, sub) VALUES (?1, ?2, ?3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(pool_id)
            .bind(group)
            .bind(sub)
            .execute(&mut *tx)
            .await
            .map_err(sql::membership_err)?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn remove_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM memberships WHERE pool_id = ?1 AND group_name = ?2 AND sub = ?3",
        )
        .bind(pool_id)
        .bind(group)
        .bind(sub)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn groups_of_user(&self, pool_id: &str, sub: &str) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(
            "SELECT g.doc FROM memberships m \
             JOIN groups g ON g.pool_id = m.pool_id AND g.name = m.group_name \
             WHERE m.pool_id = ?1 AND m.sub = ?2 \
             ORDER BY g.precedence ASC NULLS LAST, g.name",
        )
        .bind(pool_id)
        .bind(sub)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        docs_of(&rows)
    }

    async fn members_of_group(
        &self,
        pool_id: &str,
        group: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<String>> {
        let limit = doc::page_limit(page.limit);
        let subs: Vec<String> = sqlx::query_scalar(
            "SELECT sub FROM memberships WHERE pool_id = ?1 AND group_name = ?2 AND sub > ?3 \
             ORDER BY sub LIMIT ?4",
        )
        .bind(pool_id)
        .bind(group)
        .bind(page_after(page)?)
        .bind(limit + 1)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(paginate(subs, limit, String::as_str))
    }

    async fn insert_key_if_none_active(&self, key: &SigningKey) -> StoreResult<SigningKey> {
        // The partial unique index signing_keys_active_uq admits one active key per
        // (pool, purpose); the loser of a race inserts nothing and reads the winner's key.
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, pool_id, purpose, retired_at, created_at, doc) \
             VALUES (?1, ?2, ?3, NULL, ?4, ?5) ON CONFLICT DO NOTHING",
        )
        .bind(&key.kid)
        .bind(&key.pool_id)
        .bind(key.purpose.as_str())
        .bind(key.created_at)
        .bind(doc::to_json(key)?)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let row = sqlx::query(
            "SELECT retired_at, doc FROM signing_keys \
             WHERE pool_id = ?1 AND purpose = ?2 AND retired_at IS NULL",
        )
        .bind(&key.pool_id)
        .bind(key.purpose.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        // No active key after the insert means the kid itself was taken by a retired key.
        row.as_ref()
            .map(key_of)
            .transpose()?
            .ok_or(StoreError::Conflict(Conflict::Exists))
    }

    async fn rotate_key(&self, key: &SigningKey, now: UnixTime) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE signing_keys SET retired_at = ?3 \
             WHERE pool_id = ?1 AND purpose = ?2 AND retired_at IS NULL",
        )
        .bind(&key.pool_id)
        .bind(key.purpose.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, pool_id, purpose, retired_at, created_at, doc) \
             VALUES (?1, ?2, ?3, NULL, ?4, ?5)",
        )
        .bind(&key.kid)
        .bind(&key.pool_id)
        .bind(key.purpose.as_str())
        .bind(key.created_at)
        .bind(doc::to_json(key)?)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn list_keys(&self, pool_id: &str) -> StoreResult<Vec<SigningKey>> {
        let rows = sqlx::query(
            "SELECT retired_at, doc FROM signing_keys WHERE pool_id = ?1 \
             ORDER BY created_at DESC, kid",
        )
        .bind(pool_id)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(key_of).collect()
    }

    async fn prune_keys(&self, pool_id: &str, retired_before: UnixTime) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM signing_keys WHERE pool_id = ?1 \
             AND retired_at IS NOT NULL AND retired_at < ?2",
        )
        .bind(pool_id)
        .bind(retired_before)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn put_ephemeral(
        &self,
        kind: &str,
        id: &str,
        value: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<()> {
        // An expired row not yet purged does not hold its id.
        let done = sqlx::query(
            "INSERT INTO ephemeral (kind, id, value, expires_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (kind, id) DO UPDATE \
             SET value = excluded.value, expires_at = excluded.expires_at \
             WHERE ephemeral.expires_at <= ?5",
        )
        .bind(kind)
        .bind(id)
        .bind(value)
        .bind(expires_at)
        .bind(now)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(Conflict::Exists));
        }
        Ok(())
    }

    async fn get_ephemeral(
        &self,
        kind: &str,
        id: &str,
        now: UnixTime,
    ) -> StoreResult<Option<String>> {
        sqlx::query_scalar(
            "SELECT value FROM ephemeral WHERE kind = ?1 AND id = ?2 AND expires_at > ?3",
        )
        .bind(kind)
        .bind(id)
        .bind(now)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)
    }

    async fn take_ephemeral(
        &self,
        kind: &str,
        id: &str,
        now: UnixTime,
    ) -> StoreResult<Option<String>> {
        // One statement: whoever deletes the row gets the value; everyone else sees none.
        sqlx::query_scalar(
            "DELETE FROM ephemeral WHERE kind = ?1 AND id = ?2 AND expires_at > ?3 \
             RETURNING value",
        )
        .bind(kind)
        .bind(id)
        .bind(now)
        .fetch_optional(&self.writer)
        .await
        .map_err(map_err)
    }

    async fn replace_ephemeral(
        &self,
        kind: &str,
        id: &str,
        expected: &str,
        new_value: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<bool> {
        // One conditional UPDATE: SQLite runs it under the single write lock, so the
        // second of two racing callers sees the first one's value and matches nothing.
        let done = sqlx::query(
            "UPDATE ephemeral SET value = ?4, expires_at = ?5 \
             WHERE kind = ?1 AND id = ?2 AND value = ?3 AND expires_at > ?6",
        )
        .bind(kind)
        .bind(id)
        .bind(expected)
        .bind(new_value)
        .bind(expires_at)
        .bind(now)
        .execute(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_ephemeral(
        &self,
        kind: &str,
        id_prefix: &str,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<(String, String, UnixTime)>> {
        let end = sql::prefix_end(id_prefix);
        let statement = if end.is_some() {
            "SELECT id, value, expires_at FROM ephemeral \
             WHERE kind = ?1 AND id >= ?2 AND expires_at > ?3 AND id < ?5 \
             ORDER BY id LIMIT ?4"
        } else {
            "SELECT id, value, expires_at FROM ephemeral \
             WHERE kind = ?1 AND id >= ?2 AND expires_at > ?3 \
             ORDER BY id LIMIT ?4"
        };
        let mut query = sqlx::query_as(statement)
            .bind(kind)
            .bind(id_prefix)
            .bind(now)
            .bind(sql::list_limit(limit));
        if let Some(end) = end {
            query = query.bind(end);
        }
        query.fetch_all(&self.reader).await.map_err(map_err)
    }

    async fn delete_ephemeral(&self, kind: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM ephemeral WHERE kind = ?1 AND id = ?2")
            .bind(kind)
            .bind(id)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_ephemeral(&self, now: UnixTime) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut purged = 0;
        for sql in [
            "DELETE FROM ephemeral WHERE expires_at <= ?1",
            "DELETE FROM counters WHERE expires_at <= ?1",
        ] {
            purged += sqlx::query(sql)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        Ok(purged)
    }

    async fn increment_counter(
        &self,
        key: &str,
        window_expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<i64> {
        // One upsert under the write lock; in SET, `counters.*` is the row before it.
        // An expired counter restarts (a new window); a live one keeps its expiry.
        sqlx::query_scalar(
            "INSERT INTO counters (key, value, expires_at) VALUES (?1, 1, ?2) \
             ON CONFLICT (key) DO UPDATE SET \
             value = CASE WHEN counters.expires_at <= ?3 THEN 1 ELSE counters.value + 1 END, \
             expires_at = CASE WHEN counters.expires_at <= ?3 \
             THEN excluded.expires_at ELSE counters.expires_at END \
             RETURNING value",
        )
        .bind(key)
        .bind(window_expires_at)
        .bind(now)
        .fetch_one(&self.writer)
        .await
        .map_err(map_err)
    }

    async fn get_counter(&self, key: &str, now: UnixTime) -> StoreResult<Option<(i64, UnixTime)>> {
        sqlx::query_as("SELECT value, expires_at FROM counters WHERE key = ?1 AND expires_at > ?2")
            .bind(key)
            .bind(now)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)
    }

    async fn delete_counters(&self, prefix: &str) -> StoreResult<u64> {
        let end = sql::prefix_end(prefix);
        let statement = if end.is_some() {
            "DELETE FROM counters WHERE key >= ?1 AND key < ?2"
        } else {
            "DELETE FROM counters WHERE key >= ?1"
        };
        let mut query = sqlx::query(statement).bind(prefix);
        if let Some(end) = end {
            query = query.bind(end);
        }
        let done = query.execute(&self.writer).await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn list_counters(
        &self,
        prefix: &str,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<(String, i64, UnixTime)>> {
        let end = sql::prefix_end(prefix);
        let statement = if end.is_some() {
            "SELECT key, value, expires_at FROM counters \
             WHERE key >= ?1 AND expires_at > ?2 AND key < ?4 \
             ORDER BY key LIMIT ?3"
        } else {
            "SELECT key, value, expires_at FROM counters \
             WHERE key >= ?1 AND expires_at > ?2 \
             ORDER BY key LIMIT ?3"
        };
        let mut query = sqlx::query_as(statement)
            .bind(prefix)
            .bind(now)
            .bind(sql::list_limit(limit));
        if let Some(end) = end {
            query = query.bind(end);
        }
        query.fetch_all(&self.reader).await.map_err(map_err)
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
