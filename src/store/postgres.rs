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

use sqlx::error::DatabaseError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};

use super::engine::Engine;
use super::sql::{self, links_of};
use super::{doc, Conflict, ImportOutcome, StoreError, StoreResult};
use crate::core::model::User;
use crate::core::users::filter_keys;

/// Connections per node; PostgreSQL's default limit of 100 leaves room for several nodes.
const MAX_CONNECTIONS: u32 = 10;
/// How long to wait for a connection before reporting the database unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The PostgreSQL [`Store`](super::Store): the shared implementation over this engine's
/// `Engine` hooks.
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
        let migrator = sqlx::migrate!("migrations/postgres");
        adopt_rewritten_migrations(&pool, &migrator)
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("migrating the PostgreSQL schema: {e}"))
            })?;
        migrator.run(&pool).await.map_err(|e| {
            StoreError::Unavailable(format!("migrating the PostgreSQL schema: {e}"))
        })?;
        Ok(PgStore { pool })
    }
}

/// Migrations whose text was rewritten after databases applied it, with the SHA-384 (as
/// sqlx records it) of the text they applied. Migration 4 created a function in
/// `pg_temp`, which needs the TEMPORARY privilege that hardened and managed databases
/// revoke from PUBLIC, so a new database there could not be set up; its rewrite leaves
/// the same schema. sqlx refuses a database whose recorded checksum differs from the
/// migration's, so such a database records the new text's instead.
const REWRITTEN_MIGRATIONS: &[(i64, &str)] = &[(
    4,
    "9360698541972208818d59f05de8d62bd37a7898123a07665831141be48c5057cc3e2fcb01f1c71dddfb4e3dd003af37",
)];

/// Records the current checksum of each [`REWRITTEN_MIGRATIONS`] entry a database applied
/// in its earlier text (and only that text: any other mismatch is still refused by sqlx).
async fn adopt_rewritten_migrations(
    pool: &PgPool,
    migrator: &sqlx::migrate::Migrator,
) -> Result<(), sqlx::Error> {
    let recorded: bool = sqlx::query_scalar("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
        .fetch_one(pool)
        .await?;
    if !recorded {
        return Ok(());
    }
    for (version, before) in REWRITTEN_MIGRATIONS {
        let Some(now) = migrator.iter().find(|m| m.version == *version) else {
            continue;
        };
        sqlx::query(
            "UPDATE _sqlx_migrations SET checksum = $1 \
             WHERE version = $2 AND checksum = decode($3, 'hex')",
        )
        .bind(now.checksum.as_ref())
        .bind(version)
        .bind(before)
        .execute(pool)
        .await?;
    }
    Ok(())
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

impl Engine for PgStore {
    type Db = Postgres;

    const NAME: &'static str = "postgres";
    // FOR KEY SHARE keeps the rows from being deleted before the membership commits
    // (READ COMMITTED takes no lock for a plain read).
    const GROUP_EXISTS: &'static str =
        "SELECT 1 FROM groups WHERE pool_id = $1 AND name = $2 FOR KEY SHARE";
    const USER_EXISTS: &'static str =
        "SELECT 1 FROM users WHERE pool_id = $1 AND sub = $2 FOR KEY SHARE";
    // FOR NO KEY UPDATE: two transactions counting one pool's resource servers take turns
    // (READ COMMITTED would let both count 24 and both insert).
    const POOL_LOCK: &'static str = "SELECT 1 FROM pools WHERE id = $1 FOR NO KEY UPDATE";
    // A transaction-scoped advisory lock (released at commit or rollback): two nodes
    // counting the pools take turns (READ COMMITTED would let both count 999 and insert).
    const POOLS_LOCK: &'static str =
        "SELECT 1 FROM (SELECT pg_advisory_xact_lock(hashtext('cognate:pool-quota'))) AS l";

    /// One pool serves reads and writes: every node may write.
    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn begin(&self) -> StoreResult<Transaction<'static, Postgres>> {
        self.pool.begin().await.map_err(Self::map_err)
    }

    /// PostgreSQL names the broken index.
    fn conflict(error: &dyn DatabaseError) -> Conflict {
        conflict_of(error.constraint())
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

    async fn import_users(&self, users: &[User]) -> StoreResult<ImportOutcome> {
        // Four statements per batch, in one transaction: insert every user that breaks
        // no unique rule (ON CONFLICT DO NOTHING without a target covers every unique
        // index), insert the sign-in identifiers and then the links of those inserted,
        // then take back out the users one of whose identifiers another user holds or one
        // of whose federated identities is linked to someone else.
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
        .map_err(Self::map_err)?;
        let mut inserted = BTreeSet::new();
        for row in &rows {
            let pool_id: String = row.try_get("pool_id").map_err(Self::map_err)?;
            let sub: String = row.try_get("sub").map_err(Self::map_err)?;
            inserted.insert((pool_id, sub));
        }

        // The sign-in identifiers of the inserted users: one another user holds (or an
        // earlier user of the batch took) refuses the user.
        let mut refused = BTreeSet::new();
        let mut keys_wanted: HashMap<(String, String), usize> = HashMap::new();
        let (mut k_pool, mut k_key, mut k_sub) = (vec![], vec![], vec![]);
        for user in users {
            let key = (user.pool_id.clone(), user.sub.clone());
            if !inserted.contains(&key) || keys_wanted.contains_key(&key) {
                continue;
            }
            let keys = sql::login_keys_of(user);
            for (login_key, _) in &keys {
                k_pool.push(user.pool_id.clone());
                k_key.push(login_key.to_string());
                k_sub.push(user.sub.clone());
            }
            keys_wanted.insert(key, keys.len());
        }
        if !keys_wanted.is_empty() {
            let rows = sqlx::query(
                "INSERT INTO login_keys (pool_id, login_key, sub) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[]) \
                 ON CONFLICT DO NOTHING RETURNING pool_id, sub",
            )
            .bind(&k_pool)
            .bind(&k_key)
            .bind(&k_sub)
            .fetch_all(&mut *tx)
            .await
            .map_err(Self::map_err)?;
            for row in &rows {
                let pool_id: String = row.try_get("pool_id").map_err(Self::map_err)?;
                let sub: String = row.try_get("sub").map_err(Self::map_err)?;
                if let Some(n) = keys_wanted.get_mut(&(pool_id, sub)) {
                    *n -= 1;
                }
            }
            refused.extend(
                keys_wanted
                    .into_iter()
                    .filter(|(_, n)| *n > 0)
                    .map(|(k, _)| k),
            );
        }

        // Links of the inserted users, and how many each one needs.
        let mut wanted: HashMap<(String, String), usize> = HashMap::new();
        let (mut l_pool, mut l_provider, mut l_subject, mut l_sub) =
            (vec![], vec![], vec![], vec![]);
        for user in users {
            let key = (user.pool_id.clone(), user.sub.clone());
            let links = links_of(user);
            if links.is_empty()
                || !inserted.contains(&key)
                || refused.contains(&key)
                || wanted.contains_key(&key)
            {
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
            .map_err(Self::map_err)?;
            for row in &rows {
                let pool_id: String = row.try_get("pool_id").map_err(Self::map_err)?;
                let sub: String = row.try_get("sub").map_err(Self::map_err)?;
                if let Some(n) = wanted.get_mut(&(pool_id, sub)) {
                    *n -= 1;
                }
            }
            refused.extend(wanted.into_iter().filter(|(_, n)| *n > 0).map(|(k, _)| k));
        }
        // The ListUsers filter keys of the inserted users (those refused just above
        // lose theirs with them, by the cascade below).
        let (mut f_pool, mut f_attr, mut f_value, mut f_sub) = (vec![], vec![], vec![], vec![]);
        let mut filtered = BTreeSet::new();
        for user in users {
            let key = (user.pool_id.clone(), user.sub.clone());
            if !inserted.contains(&key) || refused.contains(&key) || !filtered.insert(key) {
                continue;
            }
            for (attr, value) in filter_keys(user) {
                f_pool.push(user.pool_id.clone());
                f_attr.push(attr.as_str().to_string());
                f_value.push(value);
                f_sub.push(user.sub.clone());
            }
        }
        if !f_pool.is_empty() {
            sqlx::query(
                "INSERT INTO user_filters (pool_id, attr, value, sub) \
                 SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[])",
            )
            .bind(&f_pool)
            .bind(&f_attr)
            .bind(&f_value)
            .bind(&f_sub)
            .execute(&mut *tx)
            .await
            .map_err(Self::map_err)?;
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
            .map_err(Self::map_err)?;
        }
        tx.commit().await.map_err(Self::map_err)?;

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
