//! The clustered engine: PostgreSQL, for several Cognate nodes behind a load balancer.
//!
//! Every rule that must hold across nodes is enforced by the database, not by a node's
//! memory: unique indexes for usernames, aliases, federated links and the one active
//! signing key per (pool, purpose); `version` compare-and-set for user updates;
//! `DELETE ... RETURNING` for single-use protocol state. Transactions run at READ
//! COMMITTED, under which a conditional UPDATE or DELETE re-checks its condition after
//! waiting for a concurrent writer, so exactly one of two racing writers succeeds.
//!
//! The schema is `migrations/postgres`, applied at connect time under sqlx's advisory
//! lock (several nodes starting at once apply it once). Tables are unqualified, so they
//! land in the first schema of the connection's `search_path`, which a URL may set with
//! `options=-c search_path=<schema>`.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};

use super::sql::{self, doc_of, docs_of, key_of, links_of, page_after, paginate, user_of};
use super::{doc, Conflict, ImportOutcome, Store, StoreError, StoreResult, UserRef};
use crate::core::model::{
    AppClient, Group, Page, PageRequest, ResourceServer, SigningKey, User, UserPool,
};
use crate::core::UnixTime;

/// Connections per node; PostgreSQL's default limit of 100 leaves room for several nodes.
const MAX_CONNECTIONS: u32 = 10;
/// How long to wait for a connection before reporting the database unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL [`Store`].
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://user:pass@host:port/db?...`) and brings the schema up
    /// to date. Failing to reach the server within 5 s is [`StoreError::Unavailable`]; the
    /// message names host, port and database but never the password.
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        let options = PgConnectOptions::from_str(url).map_err(|e| {
            StoreError::Unavailable(format!("the PostgreSQL URL is not valid: {e}"))
        })?;
        let target = format!(
            "{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("cannot connect to PostgreSQL at {target}: {e}"))
            })?;
        sqlx::migrate!("migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("migrating the PostgreSQL schema: {e}"))
            })?;
        Ok(PgStore { pool })
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(map_err)
    }
}

/// [`sql::map_err`], reading the broken unique rule off the constraint name.
fn map_err(e: sqlx::Error) -> StoreError {
    sql::map_err(e, |db| conflict_of(db.constraint()))
}

/// PostgreSQL names the broken index (see `migrations/postgres/0001_init.sql`).
fn conflict_of(constraint: Option<&str>) -> Conflict {
    match constraint {
        Some("users_username_uq") => Conflict::Username,
        Some("users_email_uq") => Conflict::Email,
        Some("users_phone_uq") => Conflict::PhoneNumber,
        Some("users_preferred_username_uq") => Conflict::PreferredUsername,
        Some("federated_links_identity_uq") => Conflict::FederatedIdentity,
        _ => Conflict::Exists,
    }
}

const INSERT_USER: &str = "INSERT INTO users (pool_id, sub, username_key, email_key, phone_key, \
     preferred_username_key, verified_email_key, version, created_at, doc) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
const USER_COLUMNS: &str = "SELECT version, doc FROM users";

/// Inserts a user row; `user.version` must already be the stored version and `doc` its
/// serialization.
async fn insert_user(conn: &mut PgConnection, user: &User, doc: String) -> StoreResult<()> {
    sqlx::query(INSERT_USER)
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
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Writes the user's federated links; a link held by another user is
/// `Conflict::FederatedIdentity`.
async fn write_links(conn: &mut PgConnection, user: &User) -> StoreResult<()> {
    for (provider, subject) in links_of(user) {
        sqlx::query(
            "INSERT INTO federated_links (pool_id, provider, subject, sub) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(&user.pool_id)
        .bind(provider)
        .bind(subject)
        .bind(&user.sub)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}

/// Column arrays for one multi-row `INSERT ... SELECT FROM UNNEST(...)`: a batch of a
/// thousand users is one round trip instead of a thousand.
#[derive(Default)]
struct UserColumns {
    pool_id: Vec<String>,
    sub: Vec<String>,
    username: Vec<String>,
    email: Vec<Option<String>>,
    phone: Vec<Option<String>>,
    preferred_username: Vec<Option<String>>,
    verified_email: Vec<Option<String>>,
    version: Vec<i64>,
    created_at: Vec<i64>,
    doc: Vec<String>,
}

impl UserColumns {
    fn push(&mut self, user: &User, doc: String) {
        self.pool_id.push(user.pool_id.clone());
        self.sub.push(user.sub.clone());
        self.username.push(user.lookup.username.clone());
        self.email.push(user.lookup.email.clone());
        self.phone.push(user.lookup.phone_number.clone());
        self.preferred_username
            .push(user.lookup.preferred_username.clone());
        self.verified_email.push(user.lookup.verified_email.clone());
        self.version.push(user.version);
        self.created_at.push(user.created_at);
        self.doc.push(doc);
    }
}

#[async_trait]
impl Store for PgStore {
    fn engine(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        sqlx::query("INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let stored: String = sqlx::query_scalar("SELECT value FROM meta WHERE name = $1")
            .bind(key)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(stored)
    }

    async fn put_pool(&self, pool: &UserPool) -> StoreResult<()> {
        // An upsert: deleting and reinserting would cascade to every user of the pool.
        sqlx::query(
            "INSERT INTO pools (id, doc) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc",
        )
        .bind(&pool.id)
        .bind(doc::to_json(pool)?)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_pool(&self, id: &str) -> StoreResult<Option<UserPool>> {
        let row = sqlx::query("SELECT doc FROM pools WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_pools(&self) -> StoreResult<Vec<UserPool>> {
        let rows = sqlx::query("SELECT doc FROM pools ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        docs_of(&rows)
    }

    async fn delete_pool(&self, id: &str) -> StoreResult<bool> {
        // Foreign keys cascade to clients, resource servers, users (and their links and
        // memberships), groups and signing keys.
        let done = sqlx::query("DELETE FROM pools WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_client(&self, client: &AppClient) -> StoreResult<()> {
        // The update applies only within the same pool: a client id held by another pool
        // leaves the row untouched, which reads as a conflict.
        let done = sqlx::query(
            "INSERT INTO clients (id, pool_id, doc) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc \
             WHERE clients.pool_id = excluded.pool_id",
        )
        .bind(&client.id)
        .bind(&client.pool_id)
        .bind(doc::to_json(client)?)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(Conflict::Exists));
        }
        Ok(())
    }

    async fn get_client(&self, id: &str) -> StoreResult<Option<AppClient>> {
        let row = sqlx::query("SELECT doc FROM clients WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_clients(&self, pool_id: &str) -> StoreResult<Vec<AppClient>> {
        let rows = sqlx::query("SELECT doc FROM clients WHERE pool_id = $1 ORDER BY id")
            .bind(pool_id)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        docs_of(&rows)
    }

    async fn delete_client(&self, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM clients WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_resource_server(&self, server: &ResourceServer) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO resource_servers (pool_id, identifier, doc) VALUES ($1, $2, $3) \
             ON CONFLICT (pool_id, identifier) DO UPDATE SET doc = excluded.doc",
        )
        .bind(&server.pool_id)
        .bind(&server.identifier)
        .bind(doc::to_json(server)?)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_resource_servers(&self, pool_id: &str) -> StoreResult<Vec<ResourceServer>> {
        let rows =
            sqlx::query("SELECT doc FROM resource_servers WHERE pool_id = $1 ORDER BY identifier")
                .bind(pool_id)
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
        docs_of(&rows)
    }

    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool> {
        let done =
            sqlx::query("DELETE FROM resource_servers WHERE pool_id = $1 AND identifier = $2")
                .bind(pool_id)
                .bind(identifier)
                .execute(&self.pool)
                .await
                .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_user(&self, user: &User) -> StoreResult<User> {
        let mut stored = user.clone();
        stored.version = 1;
        let doc = doc::to_json(&stored)?;
        let mut tx = self.begin().await?;
        insert_user(&mut tx, &stored, doc).await?;
        write_links(&mut tx, &stored).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(stored)
    }

    async fn update_user(&self, user: &User) -> StoreResult<User> {
        let mut stored = user.clone();
        stored.version = user.version + 1;
        let doc = doc::to_json(&stored)?;
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET username_key = $3, email_key = $4, phone_key = $5, \
             preferred_username_key = $6, verified_email_key = $7, version = $8, doc = $9 \
             WHERE pool_id = $1 AND sub = $2 AND version = $10",
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
            let exists = sqlx::query("SELECT 1 FROM users WHERE pool_id = $1 AND sub = $2")
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
        sqlx::query("DELETE FROM federated_links WHERE pool_id = $1 AND sub = $2")
            .bind(&stored.pool_id)
            .bind(&stored.sub)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        write_links(&mut tx, &stored).await?;
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
                     WHERE f.pool_id = $1 AND f.provider = $2 AND f.subject = $3",
                )
                .bind(pool_id)
                .bind(provider)
                .bind(subject)
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
                return row.as_ref().map(user_of).transpose();
            }
        };
        // `filter` is one of the fixed column names above, never caller input.
        let sql = format!("{USER_COLUMNS} WHERE pool_id = $1 AND {filter} = $2");
        let row = sqlx::query(&sql)
            .bind(pool_id)
            .bind(key)
            .fetch_optional(&self.pool)
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
            "SELECT version, doc FROM users WHERE pool_id = $1 AND verified_email_key = $2 \
             ORDER BY sub LIMIT $3",
        )
        .bind(pool_id)
        .bind(email_key)
        .bind(sql::list_limit(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(user_of).collect()
    }

    async fn delete_user(&self, pool_id: &str, sub: &str) -> StoreResult<bool> {
        // Memberships and federated links cascade.
        let done = sqlx::query("DELETE FROM users WHERE pool_id = $1 AND sub = $2")
            .bind(pool_id)
            .bind(sub)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_users(&self, pool_id: &str, page: &PageRequest) -> StoreResult<Page<User>> {
        let limit = doc::page_limit(page.limit);
        let rows = sqlx::query(
            "SELECT version, doc FROM users WHERE pool_id = $1 AND sub > $2 \
             ORDER BY sub LIMIT $3",
        )
        .bind(pool_id)
        .bind(page_after(page)?)
        .bind(limit + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let users = rows.iter().map(user_of).collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(users, limit, |u| u.sub.as_str()))
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE pool_id = $1")
            .bind(pool_id)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn import_users(&self, users: &[User]) -> StoreResult<ImportOutcome> {
        // Three statements per batch, in one transaction: insert every user that breaks
        // no unique rule (ON CONFLICT DO NOTHING without a target covers every unique
        // index), insert the links of those inserted, then take back out the users one of
        // whose federated identities is linked to someone else.
        let mut columns = UserColumns::default();
        for user in users {
            let mut stored = user.clone();
            stored.version = 1;
            columns.push(&stored, doc::to_json(&stored)?);
        }
        let mut tx = self.begin().await?;
        let rows = sqlx::query(
            "INSERT INTO users (pool_id, sub, username_key, email_key, phone_key, \
             preferred_username_key, verified_email_key, version, created_at, doc) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
             $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::text[]) \
             ON CONFLICT DO NOTHING RETURNING pool_id, sub",
        )
        .bind(&columns.pool_id)
        .bind(&columns.sub)
        .bind(&columns.username)
        .bind(&columns.email)
        .bind(&columns.phone)
        .bind(&columns.preferred_username)
        .bind(&columns.verified_email)
        .bind(&columns.version)
        .bind(&columns.created_at)
        .bind(&columns.doc)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let mut inserted = BTreeSet::new();
        for row in &rows {
            let pool_id: String = row.try_get("pool_id").map_err(map_err)?;
            let sub: String = row.try_get("sub").map_err(map_err)?;
            inserted.insert((pool_id, sub));
        }

        // Links of the inserted users, and how many each one needs.
        let mut wanted: HashMap<(String, String), usize> = HashMap::new();
        let (mut l_pool, mut l_provider, mut l_subject, mut l_sub) =
            (vec![], vec![], vec![], vec![]);
        for user in users {
            let key = (user.pool_id.clone(), user.sub.clone());
            let links = links_of(user);
            if links.is_empty() || !inserted.contains(&key) || wanted.contains_key(&key) {
                continue;
            }
            for (provider, subject) in &links {
                l_pool.push(user.pool_id.clone());
                l_provider.push(provider.to_string());
                l_subject.push(subject.to_string());
                l_sub.push(user.sub.clone());
            }
            wanted.insert(key, links.len());
        }
        let mut refused = BTreeSet::new();
        if !wanted.is_empty() {
            let rows = sqlx::query(
                "INSERT INTO federated_links (pool_id, provider, subject, sub) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[]) \
                 ON CONFLICT DO NOTHING RETURNING pool_id, sub",
            )
            .bind(&l_pool)
            .bind(&l_provider)
            .bind(&l_subject)
            .bind(&l_sub)
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
            for row in &rows {
                let pool_id: String = row.try_get("pool_id").map_err(map_err)?;
                let sub: String = row.try_get("sub").map_err(map_err)?;
                if let Some(n) = wanted.get_mut(&(pool_id, sub)) {
                    *n -= 1;
                }
            }
            refused.extend(wanted.into_iter().filter(|(_, n)| *n > 0).map(|(k, _)| k));
        }
        if !refused.is_empty() {
            let (pools, subs): (Vec<String>, Vec<String>) = refused.iter().cloned().unzip();
            // The users' links cascade.
            sqlx::query(
                "DELETE FROM users WHERE (pool_id, sub) IN \
                 (SELECT * FROM UNNEST($1::text[], $2::text[]))",
            )
            .bind(&pools)
            .bind(&subs)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;

        // Report in input order; a sub repeated within the batch counts once.
        let mut outcome = ImportOutcome::default();
        for user in users {
            let key = (user.pool_id.clone(), user.sub.clone());
            if !refused.contains(&key) && inserted.remove(&key) {
                outcome.inserted += 1;
            } else {
                outcome.skipped.push(user.sub.clone());
            }
        }
        Ok(outcome)
    }

    async fn put_group(&self, group: &Group) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO groups (pool_id, name, precedence, doc) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (pool_id, name) DO UPDATE \
             SET precedence = excluded.precedence, doc = excluded.doc",
        )
        .bind(&group.pool_id)
        .bind(&group.name)
        .bind(group.precedence)
        .bind(doc::to_json(group)?)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        let row = sqlx::query("SELECT doc FROM groups WHERE pool_id = $1 AND name = $2")
            .bind(pool_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_groups(&self, pool_id: &str) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query("SELECT doc FROM groups WHERE pool_id = $1 ORDER BY name")
            .bind(pool_id)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        docs_of(&rows)
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM groups WHERE pool_id = $1 AND name = $2")
            .bind(pool_id)
            .bind(name)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn add_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<()> {
        // Checked in the transaction so the error names the missing parent (a foreign key
        // failure would not say which); FOR KEY SHARE keeps both rows from being deleted
        // before the membership commits.
        let mut tx = self.begin().await?;
        let group_exists =
            sqlx::query("SELECT 1 FROM groups WHERE pool_id = $1 AND name = $2 FOR KEY SHARE")
                .bind(pool_id)
                .bind(group)
                .fetch_optional(&mut *tx)
                .await
                .map_err(map_err)?
                .is_some();
        if !group_exists {
            return Err(StoreError::MissingParent("group"));
        }
        let user_exists =
            sqlx::query("SELECT 1 FROM users WHERE pool_id = $1 AND sub = $2 FOR KEY SHARE")
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
            "INSERT INTO memberships (pool_id, group_name, sub) VALUES ($1, $2, $3) \
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
        // One statement for the whole batch: the pairs as two arrays.
        let (groups, subs): (Vec<&str>, Vec<&str>) = members
            .iter()
            .map(|(g, s)| (g.as_str(), s.as_str()))
            .unzip();
        sqlx::query(
            "INSERT INTO memberships (pool_id, group_name, sub) \
             SELECT $1, g, s FROM UNNEST($2::text[], $3::text[]) AS m (g, s) \
             ON CONFLICT DO NOTHING",
        )
        .bind(pool_id)
        .bind(&groups)
        .bind(&subs)
        .execute(&self.pool)
        .await
        .map_err(sql::membership_err)?;
        Ok(())
    }

    async fn remove_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<bool> {
        let done = sqlx::query(
            "DELETE FROM memberships WHERE pool_id = $1 AND group_name = $2 AND sub = $3",
        )
        .bind(pool_id)
        .bind(group)
        .bind(sub)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn groups_of_user(&self, pool_id: &str, sub: &str) -> StoreResult<Vec<Group>> {
        let rows = sqlx::query(
            "SELECT g.doc FROM memberships m \
             JOIN groups g ON g.pool_id = m.pool_id AND g.name = m.group_name \
             WHERE m.pool_id = $1 AND m.sub = $2 \
             ORDER BY g.precedence ASC NULLS LAST, g.name",
        )
        .bind(pool_id)
        .bind(sub)
        .fetch_all(&self.pool)
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
            "SELECT sub FROM memberships WHERE pool_id = $1 AND group_name = $2 AND sub > $3 \
             ORDER BY sub LIMIT $4",
        )
        .bind(pool_id)
        .bind(group)
        .bind(page_after(page)?)
        .bind(limit + 1)
        .fetch_all(&self.pool)
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
             VALUES ($1, $2, $3, NULL, $4, $5) ON CONFLICT DO NOTHING",
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
             WHERE pool_id = $1 AND purpose = $2 AND retired_at IS NULL",
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
            "UPDATE signing_keys SET retired_at = $3 \
             WHERE pool_id = $1 AND purpose = $2 AND retired_at IS NULL",
        )
        .bind(&key.pool_id)
        .bind(key.purpose.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO signing_keys (kid, pool_id, purpose, retired_at, created_at, doc) \
             VALUES ($1, $2, $3, NULL, $4, $5)",
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
            "SELECT retired_at, doc FROM signing_keys WHERE pool_id = $1 \
             ORDER BY created_at DESC, kid",
        )
        .bind(pool_id)
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        rows.iter().map(key_of).collect()
    }

    async fn prune_keys(&self, pool_id: &str, retired_before: UnixTime) -> StoreResult<u64> {
        let done = sqlx::query(
            "DELETE FROM signing_keys WHERE pool_id = $1 \
             AND retired_at IS NOT NULL AND retired_at < $2",
        )
        .bind(pool_id)
        .bind(retired_before)
        .execute(&self.pool)
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
            "INSERT INTO ephemeral (kind, id, value, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (kind, id) DO UPDATE \
             SET value = excluded.value, expires_at = excluded.expires_at \
             WHERE ephemeral.expires_at <= $5",
        )
        .bind(kind)
        .bind(id)
        .bind(value)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
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
            "SELECT value FROM ephemeral WHERE kind = $1 AND id = $2 AND expires_at > $3",
        )
        .bind(kind)
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)
    }

    async fn take_ephemeral(
        &self,
        kind: &str,
        id: &str,
        now: UnixTime,
    ) -> StoreResult<Option<String>> {
        // One statement: a concurrent DELETE waits for the first, then finds the row gone,
        // so exactly one caller gets the value.
        sqlx::query_scalar(
            "DELETE FROM ephemeral WHERE kind = $1 AND id = $2 AND expires_at > $3 \
             RETURNING value",
        )
        .bind(kind)
        .bind(id)
        .bind(now)
        .fetch_optional(&self.pool)
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
        // One conditional UPDATE: a concurrent UPDATE of the same row waits for the first
        // to commit, then re-checks its WHERE against the new value and matches nothing.
        let done = sqlx::query(
            "UPDATE ephemeral SET value = $4, expires_at = $5 \
             WHERE kind = $1 AND id = $2 AND value = $3 AND expires_at > $6",
        )
        .bind(kind)
        .bind(id)
        .bind(expected)
        .bind(new_value)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
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
             WHERE kind = $1 AND id >= $2 AND expires_at > $3 AND id < $5 \
             ORDER BY id LIMIT $4"
        } else {
            "SELECT id, value, expires_at FROM ephemeral \
             WHERE kind = $1 AND id >= $2 AND expires_at > $3 \
             ORDER BY id LIMIT $4"
        };
        let mut query = sqlx::query_as(statement)
            .bind(kind)
            .bind(id_prefix)
            .bind(now)
            .bind(sql::list_limit(limit));
        if let Some(end) = end {
            query = query.bind(end);
        }
        query.fetch_all(&self.pool).await.map_err(map_err)
    }

    async fn delete_ephemeral(&self, kind: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM ephemeral WHERE kind = $1 AND id = $2")
            .bind(kind)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn purge_ephemeral(&self, now: UnixTime) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut purged = 0;
        for sql in [
            "DELETE FROM ephemeral WHERE expires_at <= $1",
            "DELETE FROM counters WHERE expires_at <= $1",
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
        // One upsert: concurrent inserts of a new key wait on the unique index and then
        // take the update branch against the committed row, so no increment is lost. In
        // SET, `counters.*` is the row before it. An expired counter restarts (a new
        // window); a live one keeps its expiry.
        sqlx::query_scalar(
            "INSERT INTO counters (key, value, expires_at) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
             value = CASE WHEN counters.expires_at <= $3 THEN 1 ELSE counters.value + 1 END, \
             expires_at = CASE WHEN counters.expires_at <= $3 \
             THEN excluded.expires_at ELSE counters.expires_at END \
             RETURNING value",
        )
        .bind(key)
        .bind(window_expires_at)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(map_err)
    }

    async fn get_counter(&self, key: &str, now: UnixTime) -> StoreResult<Option<(i64, UnixTime)>> {
        sqlx::query_as("SELECT value, expires_at FROM counters WHERE key = $1 AND expires_at > $2")
            .bind(key)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn delete_counters(&self, prefix: &str) -> StoreResult<u64> {
        let end = sql::prefix_end(prefix);
        let statement = if end.is_some() {
            "DELETE FROM counters WHERE key >= $1 AND key < $2"
        } else {
            "DELETE FROM counters WHERE key >= $1"
        };
        let mut query = sqlx::query(statement).bind(prefix);
        if let Some(end) = end {
            query = query.bind(end);
        }
        let done = query.execute(&self.pool).await.map_err(map_err)?;
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
             WHERE key >= $1 AND expires_at > $2 AND key < $4 \
             ORDER BY key LIMIT $3"
        } else {
            "SELECT key, value, expires_at FROM counters \
             WHERE key >= $1 AND expires_at > $2 \
             ORDER BY key LIMIT $3"
        };
        let mut query = sqlx::query_as(statement)
            .bind(prefix)
            .bind(now)
            .bind(sql::list_limit(limit));
        if let Some(end) = end {
            query = query.bind(end);
        }
        query.fetch_all(&self.pool).await.map_err(map_err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraint_names_name_the_rule() {
        assert_eq!(conflict_of(Some("users_username_uq")), Conflict::Username);
        assert_eq!(conflict_of(Some("users_email_uq")), Conflict::Email);
        assert_eq!(conflict_of(Some("users_phone_uq")), Conflict::PhoneNumber);
        assert_eq!(
            conflict_of(Some("users_preferred_username_uq")),
            Conflict::PreferredUsername
        );
        assert_eq!(
            conflict_of(Some("federated_links_identity_uq")),
            Conflict::FederatedIdentity
        );
        assert_eq!(conflict_of(Some("users_pk")), Conflict::Exists);
        assert_eq!(conflict_of(None), Conflict::Exists);
    }
}
