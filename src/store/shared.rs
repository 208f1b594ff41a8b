//! The one [`Store`] implementation both engines share: every statement both run as
//! written, with its binding and its decoding into records. What an engine supplies is
//! behind [`Engine`]; see `engine` for why one statement text serves both.

use async_trait::async_trait;

use super::auth_events;
use super::engine::{Engine, On, RowOf, Run, Value};
use super::identities;
use super::sql::{
    self, doc_of, docs_of, key_of, page_after, paginate, pool_of, sp_key_of, string_of, user_of,
    RecordRow,
};
use super::user_rows::{
    user_values, write_filters, write_links, write_login_keys, DELETE_FILTERS, DELETE_USER,
    INSERT_LINK, INSERT_USER,
};
use super::user_search;
use super::{doc, Conflict, ImportOutcome, Store, StoreError, StoreResult, UserFilter, UserRef};
use crate::core::admin_keys::{AdminKey, AdminKeyPurpose};
use crate::core::identity_pools::openid::IdentityKeyRecord;
use crate::core::model::{
    AppClient, AuthEvent, Domain, Group, Identity, IdentityLogin, IdentityPool, Page, PageRequest,
    ResourceServer, Role, SigningKey, SpKeyRecord, User, UserPool,
};
use crate::core::UnixTime;

const INSERT_KEY: &str =
    "INSERT INTO signing_keys (kid, pool_id, purpose, retired_at, created_at, doc) \
     VALUES ($1, $2, $3, NULL, $4, $5)";
/// [`INSERT_KEY`] that inserts nothing where a unique rule would break.
const INSERT_KEY_IF_FREE: &str =
    "INSERT INTO signing_keys (kid, pool_id, purpose, retired_at, created_at, doc) \
     VALUES ($1, $2, $3, NULL, $4, $5) ON CONFLICT DO NOTHING";
/// Inserts an active SAML SP key.
const INSERT_SP_KEY: &str =
    "INSERT INTO sp_keys (kid, pool_id, private_pkcs8, certificate, created_at, retired_at, \
     published_until) VALUES ($1, $2, $3, $4, $5, NULL, NULL)";
/// [`INSERT_SP_KEY`] that inserts nothing where a unique rule would break.
const INSERT_SP_KEY_IF_FREE: &str =
    "INSERT INTO sp_keys (kid, pool_id, private_pkcs8, certificate, created_at, retired_at, \
     published_until) VALUES ($1, $2, $3, $4, $5, NULL, NULL) ON CONFLICT DO NOTHING";
/// The columns [`sp_key_of`] reads.
const SP_KEY_COLUMNS: &str =
    "kid, pool_id, private_pkcs8, certificate, created_at, retired_at, published_until";
/// Inserts an active identity-service key (issue 12).
const INSERT_IDENTITY_KEY: &str =
    "INSERT INTO identity_keys (kid, private_pkcs8, n, e, created_at, retired_at, \
     published_until) VALUES ($1, $2, $3, $4, $5, NULL, NULL)";
/// The columns [`identity_key_of`] reads.
const IDENTITY_KEY_COLUMNS: &str =
    "kid, private_pkcs8, n, e, created_at, retired_at, published_until";

/// An identity key's row for [`INSERT_IDENTITY_KEY`].
fn identity_key_values(key: &IdentityKeyRecord) -> [Value<'_>; 5] {
    [
        (&key.kid).into(),
        key.private_pkcs8.as_stored().into(),
        (&key.n).into(),
        (&key.e).into(),
        key.created_at.into(),
    ]
}

/// An identity key from the [`IDENTITY_KEY_COLUMNS`] of a row.
fn identity_key_of(row: &impl RecordRow) -> StoreResult<IdentityKeyRecord> {
    Ok(IdentityKeyRecord {
        kid: string_of(row, "kid")?,
        private_pkcs8: crate::core::secrets::EncryptedSecret::from_stored(string_of(
            row,
            "private_pkcs8",
        )?),
        n: string_of(row, "n")?,
        e: string_of(row, "e")?,
        created_at: row.int("created_at")?,
        retired_at: row.maybe_int("retired_at")?,
        published_until: row.maybe_int("published_until")?,
    })
}

/// Makes `$3` a member of the group `($1 pool, $2 name)`; already one is no error.
pub(crate) const INSERT_MEMBER: &str = "INSERT INTO memberships (pool_id, group_name, sub) \
     VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";

/// The columns [`admin_key_of`] reads.
const ADMIN_KEY_COLUMNS: &str = "access_key_id, secret, description, purpose, created_at";

/// An `admin_keys` row (its columns are the record).
fn admin_key_of(row: &impl RecordRow) -> StoreResult<AdminKey> {
    let purpose = string_of(row, "purpose")?;
    Ok(AdminKey {
        access_key_id: string_of(row, "access_key_id")?,
        secret: crate::core::secrets::EncryptedSecret::from_stored(string_of(row, "secret")?),
        description: string_of(row, "description")?,
        purpose: AdminKeyPurpose::parse(&purpose)
            .ok_or_else(|| StoreError::Corrupt(format!("admin key purpose {purpose:?}")))?,
        created_at: row.int("created_at")?,
    })
}

/// A key's row for [`INSERT_KEY`] and [`INSERT_KEY_IF_FREE`].
fn key_values<'a>(key: &'a SigningKey, doc: &'a str) -> [Value<'a>; 5] {
    [
        (&key.kid).into(),
        (&key.pool_id).into(),
        key.purpose.as_str().into(),
        key.created_at.into(),
        doc.into(),
    ]
}

/// An SP key's row for [`INSERT_SP_KEY`] and [`INSERT_SP_KEY_IF_FREE`].
fn sp_key_values(key: &SpKeyRecord) -> [Value<'_>; 5] {
    [
        (&key.kid).into(),
        (&key.pool_id).into(),
        key.private_pkcs8.as_stored().into(),
        (&key.certificate).into(),
        key.created_at.into(),
    ]
}

/// The rows of a ranged listing: `ranged` when the prefix has an end (it binds the end
/// as one more value), `open` otherwise.
async fn list_prefixed<E: Run>(
    store: &E,
    (ranged, open): (&str, &str),
    values: &[Value<'_>],
    prefix: &str,
) -> StoreResult<Vec<RowOf<E>>> {
    match sql::prefix_end(prefix) {
        Some(end) => {
            let mut values = values.to_vec();
            values.push(end.as_str().into());
            store.fetch_all(On::Read, ranged, &values).await
        }
        None => store.fetch_all(On::Read, open, values).await,
    }
}

// Every engine is a `Store` through this one impl; what is its own is behind `Engine`.
#[async_trait]
impl<E: Run> Store for E {
    fn engine(&self) -> &'static str {
        E::NAME
    }

    async fn ping(&self) -> StoreResult<()> {
        self.execute(On::Read, "SELECT 1", &[]).await?;
        Ok(())
    }

    // --- meta, pools, clients, resource servers ------------------------------------------

    async fn get_meta(&self, key: &str) -> StoreResult<Option<String>> {
        let row = self
            .fetch_optional(
                On::Read,
                "SELECT value FROM meta WHERE name = $1",
                &[key.into()],
            )
            .await?;
        row.as_ref().map(|r| string_of(r, "value")).transpose()
    }

    async fn put_meta_if_absent(&self, key: &str, value: &str) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        self.execute(
            On::Tx(&mut *tx),
            "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
            &[key.into(), value.into()],
        )
        .await?;
        let row = self
            .fetch_one(
                On::Tx(&mut *tx),
                "SELECT value FROM meta WHERE name = $1",
                &[key.into()],
            )
            .await?;
        let stored = string_of(&row, "value")?;
        tx.commit().await.map_err(E::map_err)?;
        Ok(stored)
    }

    async fn put_meta(&self, key: &str, value: &str) -> StoreResult<()> {
        self.execute(
            On::Write,
            "INSERT INTO meta (name, value) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            &[key.into(), value.into()],
        )
        .await?;
        Ok(())
    }

    async fn put_pool(&self, pool: &UserPool) -> StoreResult<()> {
        // An upsert, never SQLite's INSERT OR REPLACE nor a delete and insert: the delete
        // would cascade to every user of the pool. The version moves on either way, so a
        // replace_pool based on the record before this write fails.
        self.execute(
            On::Write,
            "INSERT INTO pools (id, doc, version) VALUES ($1, $2, 1) \
             ON CONFLICT (id) DO UPDATE SET doc = excluded.doc, version = pools.version + 1",
            &[(&pool.id).into(), doc::to_json(pool)?.as_str().into()],
        )
        .await?;
        Ok(())
    }

    async fn insert_pool(&self, pool: &UserPool, max_pools: u32) -> StoreResult<bool> {
        let doc = doc::to_json(pool)?;
        let mut tx = self.begin().await?;
        self.fetch_optional(On::Tx(&mut *tx), E::POOLS_LOCK, &[])
            .await?;
        let count = self
            .fetch_one(On::Tx(&mut *tx), "SELECT count(*) AS n FROM pools", &[])
            .await?;
        if count.int("n")? >= i64::from(max_pools) {
            return Ok(false);
        }
        // No ON CONFLICT: the primary key refuses a second pool of this id.
        self.execute(
            On::Tx(&mut *tx),
            "INSERT INTO pools (id, doc, version) VALUES ($1, $2, 1)",
            &[(&pool.id).into(), doc.as_str().into()],
        )
        .await?;
        tx.commit().await.map_err(E::map_err)?;
        Ok(true)
    }

    async fn replace_pool(&self, pool: &UserPool) -> StoreResult<UserPool> {
        let mut stored = pool.clone();
        stored.version = pool.version + 1;
        // One statement compares and writes (a row lock in PostgreSQL, the one writer in
        // SQLite): of two writers naming one version, the second matches no row.
        let done = self
            .execute(
                On::Write,
                "UPDATE pools SET doc = $2, version = $3 WHERE id = $1 AND version = $4",
                &[
                    (&pool.id).into(),
                    doc::to_json(&stored)?.as_str().into(),
                    stored.version.into(),
                    pool.version.into(),
                ],
            )
            .await?;
        if done == 0 {
            let sql = "SELECT 1 FROM pools WHERE id = $1";
            let exists = self
                .fetch_optional(On::Read, sql, &[(&pool.id).into()])
                .await?;
            return Err(if exists.is_some() {
                StoreError::VersionMismatch
            } else {
                StoreError::NotFound
            });
        }
        Ok(stored)
    }

    async fn get_pool(&self, id: &str) -> StoreResult<Option<UserPool>> {
        let sql = "SELECT version, doc FROM pools WHERE id = $1";
        let row = self.fetch_optional(On::Read, sql, &[id.into()]).await?;
        row.as_ref().map(pool_of).transpose()
    }

    async fn list_pools(&self) -> StoreResult<Vec<UserPool>> {
        let sql = "SELECT version, doc FROM pools ORDER BY id";
        let rows = self.fetch_all(On::Read, sql, &[]).await?;
        rows.iter().map(pool_of).collect()
    }

    async fn delete_pool(&self, id: &str) -> StoreResult<bool> {
        // Foreign keys cascade to clients, resource servers, users (and their links and
        // memberships), groups and signing keys.
        let sql = "DELETE FROM pools WHERE id = $1";
        Ok(self.execute(On::Write, sql, &[id.into()]).await? > 0)
    }

    async fn put_client(&self, client: &AppClient) -> StoreResult<()> {
        // The update applies only within the same pool: a client id held by another pool
        // leaves the row untouched, which reads as a conflict.
        let done = self
            .execute(
                On::Write,
                "INSERT INTO clients (id, pool_id, doc) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET doc = excluded.doc \
                 WHERE clients.pool_id = excluded.pool_id",
                &[
                    (&client.id).into(),
                    (&client.pool_id).into(),
                    doc::to_json(client)?.as_str().into(),
                ],
            )
            .await?;
        if done == 0 {
            return Err(StoreError::Conflict(Conflict::Exists));
        }
        Ok(())
    }

    async fn update_client(&self, client: &AppClient) -> StoreResult<bool> {
        let done = self
            .execute(
                On::Write,
                "UPDATE clients SET doc = $3 WHERE id = $1 AND pool_id = $2",
                &[
                    (&client.id).into(),
                    (&client.pool_id).into(),
                    doc::to_json(client)?.as_str().into(),
                ],
            )
            .await?;
        Ok(done > 0)
    }

    async fn get_client(&self, id: &str) -> StoreResult<Option<AppClient>> {
        let sql = "SELECT doc FROM clients WHERE id = $1";
        let row = self.fetch_optional(On::Read, sql, &[id.into()]).await?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_clients(&self, pool_id: &str) -> StoreResult<Vec<AppClient>> {
        let sql = "SELECT doc FROM clients WHERE pool_id = $1 ORDER BY id";
        docs_of(&self.fetch_all(On::Read, sql, &[pool_id.into()]).await?)
    }

    async fn delete_client(&self, id: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM clients WHERE id = $1";
        Ok(self.execute(On::Write, sql, &[id.into()]).await? > 0)
    }

    async fn put_resource_server(&self, server: &ResourceServer) -> StoreResult<()> {
        self.execute(
            On::Write,
            "INSERT INTO resource_servers (pool_id, identifier, doc) VALUES ($1, $2, $3) \
             ON CONFLICT (pool_id, identifier) DO UPDATE SET doc = excluded.doc",
            &[
                (&server.pool_id).into(),
                (&server.identifier).into(),
                doc::to_json(server)?.as_str().into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn list_resource_servers(&self, pool_id: &str) -> StoreResult<Vec<ResourceServer>> {
        let sql = "SELECT doc FROM resource_servers WHERE pool_id = $1 ORDER BY identifier";
        docs_of(&self.fetch_all(On::Read, sql, &[pool_id.into()]).await?)
    }

    async fn delete_resource_server(&self, pool_id: &str, identifier: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM resource_servers WHERE pool_id = $1 AND identifier = $2";
        let values = [pool_id.into(), identifier.into()];
        Ok(self.execute(On::Write, sql, &values).await? > 0)
    }

    async fn insert_resource_server(
        &self,
        server: &ResourceServer,
        max_per_pool: u32,
    ) -> StoreResult<bool> {
        let doc = doc::to_json(server)?;
        let mut tx = self.begin().await?;
        let pool = [(&server.pool_id).into()];
        if self
            .fetch_optional(On::Tx(&mut *tx), E::POOL_LOCK, &pool)
            .await?
            .is_none()
        {
            return Err(StoreError::MissingParent("user pool"));
        }
        let sql = "SELECT count(*) AS n FROM resource_servers WHERE pool_id = $1";
        let count = self.fetch_one(On::Tx(&mut *tx), sql, &pool).await?;
        if count.int("n")? >= i64::from(max_per_pool) {
            return Ok(false);
        }
        self.execute(
            On::Tx(&mut *tx),
            "INSERT INTO resource_servers (pool_id, identifier, doc) VALUES ($1, $2, $3)",
            &[
                (&server.pool_id).into(),
                (&server.identifier).into(),
                doc.as_str().into(),
            ],
        )
        .await?;
        tx.commit().await.map_err(E::map_err)?;
        Ok(true)
    }

    // --- domains -------------------------------------------------------------------------

    async fn insert_domain(&self, domain: &Domain) -> StoreResult<()> {
        // No ON CONFLICT: the primary key (the name) and the (pool_id, kind) key refuse
        // the loser of a race, whichever node it runs on.
        self.execute(
            On::Write,
            "INSERT INTO domains (domain, pool_id, kind, doc) VALUES ($1, $2, $3, $4)",
            &[
                (&domain.domain).into(),
                (&domain.pool_id).into(),
                domain.kind().as_str().into(),
                doc::to_json(domain)?.as_str().into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn update_domain(&self, domain: &Domain) -> StoreResult<bool> {
        let done = self
            .execute(
                On::Write,
                "UPDATE domains SET doc = $3 WHERE domain = $1 AND pool_id = $2 AND kind = $4",
                &[
                    (&domain.domain).into(),
                    (&domain.pool_id).into(),
                    doc::to_json(domain)?.as_str().into(),
                    domain.kind().as_str().into(),
                ],
            )
            .await?;
        Ok(done > 0)
    }

    async fn get_domain(&self, domain: &str) -> StoreResult<Option<Domain>> {
        let sql = "SELECT doc FROM domains WHERE domain = $1";
        let row = self.fetch_optional(On::Read, sql, &[domain.into()]).await?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_domains(&self, pool_id: &str) -> StoreResult<Vec<Domain>> {
        let sql = "SELECT doc FROM domains WHERE pool_id = $1 ORDER BY domain";
        docs_of(&self.fetch_all(On::Read, sql, &[pool_id.into()]).await?)
    }

    async fn delete_domain(&self, pool_id: &str, domain: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM domains WHERE domain = $1 AND pool_id = $2";
        let values = [domain.into(), pool_id.into()];
        Ok(self.execute(On::Write, sql, &values).await? > 0)
    }

    // --- users ---------------------------------------------------------------------------

    async fn create_user(&self, user: &User) -> StoreResult<User> {
        let mut stored = user.clone();
        stored.version = 1;
        let doc = doc::to_json(&stored)?;
        let mut tx = self.begin().await?;
        self.execute(On::Tx(&mut *tx), INSERT_USER, &user_values(&stored, &doc))
            .await?;
        if let Some(conflict) = write_login_keys(self, &mut tx, &stored, &[]).await? {
            return Err(StoreError::Conflict(conflict));
        }
        write_links(self, &mut tx, INSERT_LINK, &stored).await?;
        write_filters(self, &mut tx, &stored).await?;
        tx.commit().await.map_err(E::map_err)?;
        Ok(stored)
    }

    async fn update_user(&self, user: &User) -> StoreResult<User> {
        let mut stored = user.clone();
        stored.version = user.version + 1;
        let doc = doc::to_json(&stored)?;
        let mut tx = self.begin().await?;
        let key = [(&user.pool_id).into(), (&user.sub).into()];
        // The keys the user is found by now: the ones it may keep though another user
        // holds them too (see write_login_keys).
        let held: Vec<String> = match self
            .fetch_optional(
                On::Tx(&mut *tx),
                "SELECT username_key, email_key, phone_key, preferred_username_key \
                 FROM users WHERE pool_id = $1 AND sub = $2",
                &key,
            )
            .await?
        {
            Some(row) => {
                let mut held = vec![row.text("username_key")?.to_string()];
                for column in ["email_key", "phone_key", "preferred_username_key"] {
                    held.extend(row.maybe_text(column)?.map(str::to_string));
                }
                held
            }
            None => Vec::new(),
        };
        let done = self
            .execute(
                On::Tx(&mut *tx),
                "UPDATE users SET username_key = $3, email_key = $4, phone_key = $5, \
                 preferred_username_key = $6, verified_email_key = $7, version = $8, doc = $9 \
                 WHERE pool_id = $1 AND sub = $2 AND version = $10",
                &[
                    (&stored.pool_id).into(),
                    (&stored.sub).into(),
                    (&stored.lookup.username).into(),
                    stored.lookup.email.as_deref().into(),
                    stored.lookup.phone_number.as_deref().into(),
                    stored.lookup.preferred_username.as_deref().into(),
                    stored.lookup.verified_email.as_deref().into(),
                    stored.version.into(),
                    doc.as_str().into(),
                    user.version.into(),
                ],
            )
            .await?;
        if done == 0 {
            let sql = "SELECT 1 FROM users WHERE pool_id = $1 AND sub = $2";
            let exists = self.fetch_optional(On::Tx(&mut *tx), sql, &key).await?;
            return Err(if exists.is_some() {
                StoreError::VersionMismatch
            } else {
                StoreError::NotFound
            });
        }
        let sql = "DELETE FROM login_keys WHERE pool_id = $1 AND sub = $2";
        self.execute(On::Tx(&mut *tx), sql, &key).await?;
        if let Some(conflict) = write_login_keys(self, &mut tx, &stored, &held).await? {
            return Err(StoreError::Conflict(conflict));
        }
        let sql = "DELETE FROM federated_links WHERE pool_id = $1 AND sub = $2";
        self.execute(On::Tx(&mut *tx), sql, &key).await?;
        write_links(self, &mut tx, INSERT_LINK, &stored).await?;
        // The filter keys follow the document: a changed email (or status, or name)
        // moves the user in the ListUsers index in this same transaction.
        self.execute(On::Tx(&mut *tx), DELETE_FILTERS, &key).await?;
        write_filters(self, &mut tx, &stored).await?;
        tx.commit().await.map_err(E::map_err)?;
        Ok(stored)
    }

    async fn get_user(&self, pool_id: &str, by: &UserRef) -> StoreResult<Option<User>> {
        let (sql, values): (&str, Vec<Value<'_>>) = match by {
            UserRef::Sub(key) => (
                "SELECT version, doc FROM users WHERE pool_id = $1 AND sub = $2",
                vec![pool_id.into(), key.into()],
            ),
            UserRef::Username(key) => (
                "SELECT version, doc FROM users WHERE pool_id = $1 AND username_key = $2",
                vec![pool_id.into(), key.into()],
            ),
            UserRef::Email(key) => (
                "SELECT version, doc FROM users WHERE pool_id = $1 AND email_key = $2",
                vec![pool_id.into(), key.into()],
            ),
            UserRef::PhoneNumber(key) => (
                "SELECT version, doc FROM users WHERE pool_id = $1 AND phone_key = $2",
                vec![pool_id.into(), key.into()],
            ),
            UserRef::PreferredUsername(key) => (
                "SELECT version, doc FROM users \
                 WHERE pool_id = $1 AND preferred_username_key = $2",
                vec![pool_id.into(), key.into()],
            ),
            UserRef::Federated(provider, subject) => (
                "SELECT u.version, u.doc FROM federated_links f \
                 JOIN users u ON u.pool_id = f.pool_id AND u.sub = f.sub \
                 WHERE f.pool_id = $1 AND f.provider = $2 AND f.subject = $3",
                vec![pool_id.into(), provider.into(), subject.into()],
            ),
        };
        let row = self.fetch_optional(On::Read, sql, &values).await?;
        row.as_ref().map(user_of).transpose()
    }

    async fn users_by_verified_email(
        &self,
        pool_id: &str,
        email_key: &str,
        limit: u32,
    ) -> StoreResult<Vec<User>> {
        let rows = self
            .fetch_all(
                On::Read,
                "SELECT version, doc FROM users WHERE pool_id = $1 AND verified_email_key = $2 \
                 ORDER BY sub LIMIT $3",
                &[
                    pool_id.into(),
                    email_key.into(),
                    sql::list_limit(limit).into(),
                ],
            )
            .await?;
        rows.iter().map(user_of).collect()
    }

    async fn delete_user(&self, pool_id: &str, sub: &str) -> StoreResult<bool> {
        // Memberships and federated links cascade.
        let values = [pool_id.into(), sub.into()];
        Ok(self.execute(On::Write, DELETE_USER, &values).await? > 0)
    }

    async fn list_users(&self, pool_id: &str, page: &PageRequest) -> StoreResult<Page<User>> {
        let limit = doc::page_limit(page.limit);
        let after = page_after(page)?;
        let rows = self
            .fetch_all(
                On::Read,
                "SELECT version, doc FROM users WHERE pool_id = $1 AND sub > $2 \
                 ORDER BY sub LIMIT $3",
                &[pool_id.into(), after.as_str().into(), (limit + 1).into()],
            )
            .await?;
        let users = rows.iter().map(user_of).collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(users, limit, |u| u.sub.as_str()))
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        let sql = "SELECT COUNT(*) AS n FROM users WHERE pool_id = $1";
        let row = self.fetch_one(On::Read, sql, &[pool_id.into()]).await?;
        Ok(u64::try_from(row.int("n")?).unwrap_or(0))
    }

    async fn search_users(
        &self,
        pool_id: &str,
        filter: &UserFilter,
        page: &PageRequest,
    ) -> StoreResult<Page<User>> {
        user_search::search_users(self, pool_id, filter, page).await
    }

    async fn import_users(&self, users: &[User]) -> StoreResult<ImportOutcome> {
        Engine::import_users(self, users).await
    }

    // --- groups and memberships ----------------------------------------------------------

    async fn put_group(&self, group: &Group) -> StoreResult<()> {
        self.execute(
            On::Write,
            "INSERT INTO groups (pool_id, name, precedence, doc) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (pool_id, name) DO UPDATE \
             SET precedence = excluded.precedence, doc = excluded.doc",
            &[
                (&group.pool_id).into(),
                (&group.name).into(),
                group.precedence.into(),
                doc::to_json(group)?.as_str().into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        let sql = "SELECT doc FROM groups WHERE pool_id = $1 AND name = $2";
        let row = self
            .fetch_optional(On::Read, sql, &[pool_id.into(), name.into()])
            .await?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_groups(&self, pool_id: &str) -> StoreResult<Vec<Group>> {
        let sql = "SELECT doc FROM groups WHERE pool_id = $1 ORDER BY name";
        docs_of(&self.fetch_all(On::Read, sql, &[pool_id.into()]).await?)
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM groups WHERE pool_id = $1 AND name = $2";
        let values = [pool_id.into(), name.into()];
        Ok(self.execute(On::Write, sql, &values).await? > 0)
    }

    async fn add_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<()> {
        // Checked in the write transaction so the error names the missing parent (a
        // foreign key failure would not say which); where the engine needs it, the checks
        // lock both rows against deletion until the membership commits.
        let mut tx = self.begin().await?;
        let group_key = [pool_id.into(), group.into()];
        if self
            .fetch_optional(On::Tx(&mut *tx), E::GROUP_EXISTS, &group_key)
            .await?
            .is_none()
        {
            return Err(StoreError::MissingParent("group"));
        }
        let user_key = [pool_id.into(), sub.into()];
        if self
            .fetch_optional(On::Tx(&mut *tx), E::USER_EXISTS, &user_key)
            .await?
            .is_none()
        {
            return Err(StoreError::MissingParent("user"));
        }
        let values = [pool_id.into(), group.into(), sub.into()];
        self.execute(On::Tx(&mut *tx), INSERT_MEMBER, &values)
            .await?;
        tx.commit().await.map_err(E::map_err)
    }

    async fn add_members(&self, pool_id: &str, members: &[(String, String)]) -> StoreResult<()> {
        Engine::add_members(self, pool_id, members).await
    }

    async fn remove_member(&self, pool_id: &str, group: &str, sub: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM memberships WHERE pool_id = $1 AND group_name = $2 AND sub = $3";
        let values = [pool_id.into(), group.into(), sub.into()];
        Ok(self.execute(On::Write, sql, &values).await? > 0)
    }

    async fn groups_of_user(&self, pool_id: &str, sub: &str) -> StoreResult<Vec<Group>> {
        let rows = self
            .fetch_all(
                On::Read,
                "SELECT g.doc FROM memberships m \
                 JOIN groups g ON g.pool_id = m.pool_id AND g.name = m.group_name \
                 WHERE m.pool_id = $1 AND m.sub = $2 \
                 ORDER BY g.precedence ASC NULLS LAST, g.name",
                &[pool_id.into(), sub.into()],
            )
            .await?;
        docs_of(&rows)
    }

    async fn members_of_group(
        &self,
        pool_id: &str,
        group: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<String>> {
        let limit = doc::page_limit(page.limit);
        let after = page_after(page)?;
        let rows = self
            .fetch_all(
                On::Read,
                "SELECT sub FROM memberships \
                 WHERE pool_id = $1 AND group_name = $2 AND sub > $3 \
                 ORDER BY sub LIMIT $4",
                &[
                    pool_id.into(),
                    group.into(),
                    after.as_str().into(),
                    (limit + 1).into(),
                ],
            )
            .await?;
        let subs = rows
            .iter()
            .map(|r| string_of(r, "sub"))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(paginate(subs, limit, String::as_str))
    }

    // --- signing keys --------------------------------------------------------------------

    async fn insert_key_if_none_active(&self, key: &SigningKey) -> StoreResult<SigningKey> {
        // The partial unique index signing_keys_active_uq admits one active key per
        // (pool, purpose); the loser of a race inserts nothing and reads the winner's key.
        let doc = doc::to_json(key)?;
        let mut tx = self.begin().await?;
        self.execute(On::Tx(&mut *tx), INSERT_KEY_IF_FREE, &key_values(key, &doc))
            .await?;
        let row = self
            .fetch_optional(
                On::Tx(&mut *tx),
                "SELECT retired_at, doc FROM signing_keys \
                 WHERE pool_id = $1 AND purpose = $2 AND retired_at IS NULL",
                &[(&key.pool_id).into(), key.purpose.as_str().into()],
            )
            .await?;
        tx.commit().await.map_err(E::map_err)?;
        // No active key after the insert means the kid itself was taken by a retired key.
        row.as_ref()
            .map(key_of)
            .transpose()?
            .ok_or(StoreError::Conflict(Conflict::Exists))
    }

    async fn rotate_key(&self, key: &SigningKey, now: UnixTime) -> StoreResult<()> {
        let doc = doc::to_json(key)?;
        let mut tx = self.begin().await?;
        self.execute(
            On::Tx(&mut *tx),
            "UPDATE signing_keys SET retired_at = $3 \
             WHERE pool_id = $1 AND purpose = $2 AND retired_at IS NULL",
            &[
                (&key.pool_id).into(),
                key.purpose.as_str().into(),
                now.into(),
            ],
        )
        .await?;
        self.execute(On::Tx(&mut *tx), INSERT_KEY, &key_values(key, &doc))
            .await?;
        tx.commit().await.map_err(E::map_err)
    }

    async fn list_keys(&self, pool_id: &str) -> StoreResult<Vec<SigningKey>> {
        let sql = "SELECT retired_at, doc FROM signing_keys WHERE pool_id = $1 \
                   ORDER BY created_at DESC, kid";
        let rows = self.fetch_all(On::Read, sql, &[pool_id.into()]).await?;
        rows.iter().map(key_of).collect()
    }

    async fn prune_keys(&self, pool_id: &str, retired_before: UnixTime) -> StoreResult<u64> {
        let sql = "DELETE FROM signing_keys WHERE pool_id = $1 \
                   AND retired_at IS NOT NULL AND retired_at < $2";
        let values = [pool_id.into(), retired_before.into()];
        self.execute(On::Write, sql, &values).await
    }

    // --- SAML service-provider keys ------------------------------------------------------

    async fn insert_sp_key_if_none_active(&self, key: &SpKeyRecord) -> StoreResult<SpKeyRecord> {
        // The partial unique index sp_keys_active_uq admits one active key per pool; the
        // loser of a race inserts nothing and reads the winner's key.
        let mut tx = self.begin().await?;
        self.execute(On::Tx(&mut *tx), INSERT_SP_KEY_IF_FREE, &sp_key_values(key))
            .await?;
        let sql = format!(
            "SELECT {SP_KEY_COLUMNS} FROM sp_keys WHERE pool_id = $1 AND retired_at IS NULL"
        );
        let row = self
            .fetch_optional(On::Tx(&mut *tx), &sql, &[(&key.pool_id).into()])
            .await?;
        tx.commit().await.map_err(E::map_err)?;
        // No active key after the insert means the kid itself was taken by a retired key.
        row.as_ref()
            .map(sp_key_of)
            .transpose()?
            .ok_or(StoreError::Conflict(Conflict::Exists))
    }

    async fn rotate_sp_key(
        &self,
        key: &SpKeyRecord,
        now: UnixTime,
        published_until: UnixTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        self.execute(
            On::Tx(&mut *tx),
            "UPDATE sp_keys SET retired_at = $2, published_until = $3 \
             WHERE pool_id = $1 AND retired_at IS NULL",
            &[(&key.pool_id).into(), now.into(), published_until.into()],
        )
        .await?;
        self.execute(On::Tx(&mut *tx), INSERT_SP_KEY, &sp_key_values(key))
            .await?;
        tx.commit().await.map_err(E::map_err)
    }

    async fn list_sp_keys(&self, pool_id: &str) -> StoreResult<Vec<SpKeyRecord>> {
        let sql = format!(
            "SELECT {SP_KEY_COLUMNS} FROM sp_keys WHERE pool_id = $1 \
             ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, retired_at DESC, \
             created_at DESC, kid"
        );
        let rows = self.fetch_all(On::Read, &sql, &[pool_id.into()]).await?;
        rows.iter().map(sp_key_of).collect()
    }

    // --- identity pools, roles, identities (statements in `identities`) -------------------

    async fn put_identity_pool(&self, pool: &IdentityPool) -> StoreResult<()> {
        identities::put_identity_pool(self, pool).await
    }

    async fn get_identity_pool(&self, id: &str) -> StoreResult<Option<IdentityPool>> {
        let sql = "SELECT doc FROM identity_pools WHERE id = $1";
        let row = self.fetch_optional(On::Read, sql, &[id.into()]).await?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_identity_pools(&self, page: &PageRequest) -> StoreResult<Page<IdentityPool>> {
        identities::list_identity_pools(self, page).await
    }

    async fn delete_identity_pool(&self, id: &str) -> StoreResult<bool> {
        // Identities and their logins cascade.
        let sql = "DELETE FROM identity_pools WHERE id = $1";
        Ok(self.execute(On::Write, sql, &[id.into()]).await? > 0)
    }

    async fn put_role(&self, role: &Role) -> StoreResult<()> {
        identities::put_role(self, role).await
    }

    async fn get_role(&self, arn: &str) -> StoreResult<Option<Role>> {
        let sql = "SELECT doc FROM roles WHERE arn = $1";
        let row = self.fetch_optional(On::Read, sql, &[arn.into()]).await?;
        row.as_ref().map(doc_of).transpose()
    }

    async fn list_roles(&self) -> StoreResult<Vec<Role>> {
        let sql = "SELECT doc FROM roles ORDER BY arn";
        docs_of(&self.fetch_all(On::Read, sql, &[]).await?)
    }

    async fn delete_role(&self, arn: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM roles WHERE arn = $1";
        Ok(self.execute(On::Write, sql, &[arn.into()]).await? > 0)
    }

    async fn get_or_create_identity(
        &self,
        pool_id: &str,
        login: Option<&IdentityLogin>,
        candidate: &Identity,
    ) -> StoreResult<Identity> {
        identities::get_or_create_identity(self, pool_id, login, candidate).await
    }

    async fn get_identity(&self, id: &str) -> StoreResult<Option<Identity>> {
        identities::get_identity(self, id).await
    }

    async fn list_identities(
        &self,
        pool_id: &str,
        page: &PageRequest,
    ) -> StoreResult<Page<Identity>> {
        identities::list_identities(self, pool_id, page).await
    }

    async fn delete_identities(&self, ids: &[String]) -> StoreResult<Vec<String>> {
        identities::delete_identities(self, ids).await
    }

    async fn unlink_identity(
        &self,
        id: &str,
        login: &IdentityLogin,
        now: UnixTime,
    ) -> StoreResult<bool> {
        identities::unlink_identity(self, id, login, now).await
    }

    async fn count_identities(&self, pool_id: &str) -> StoreResult<u64> {
        let sql = "SELECT COUNT(*) AS n FROM identities WHERE identity_pool_id = $1";
        let row = self.fetch_one(On::Read, sql, &[pool_id.into()]).await?;
        Ok(u64::try_from(row.int("n")?).unwrap_or(0))
    }

    // --- the auth event log ----------------------------------------------------------------

    async fn insert_auth_events(&self, events: &[AuthEvent]) -> StoreResult<()> {
        auth_events::insert_auth_events(self, events).await
    }

    async fn list_auth_events(
        &self,
        pool_id: &str,
        sub: Option<&str>,
        since: UnixTime,
        page: &PageRequest,
    ) -> StoreResult<Page<AuthEvent>> {
        auth_events::list_auth_events(self, pool_id, sub, since, page).await
    }

    async fn list_sign_in_history(
        &self,
        pool_id: &str,
        sub: &str,
        since: UnixTime,
        limit: i64,
    ) -> StoreResult<Vec<AuthEvent>> {
        auth_events::list_sign_in_history(self, pool_id, sub, since, limit).await
    }

    async fn get_auth_event(&self, pool_id: &str, id: &str) -> StoreResult<Option<AuthEvent>> {
        auth_events::get_auth_event(self, pool_id, id).await
    }

    async fn update_auth_event(&self, event: &AuthEvent) -> StoreResult<bool> {
        auth_events::update_auth_event(self, event).await
    }

    async fn prune_auth_events(&self, before: UnixTime) -> StoreResult<u64> {
        auth_events::prune_auth_events(self, before).await
    }

    // --- operator credentials (admin keys) -----------------------------------------------

    async fn insert_admin_key(&self, key: &AdminKey) -> StoreResult<()> {
        let values = [
            (&key.access_key_id).into(),
            key.secret.as_stored().into(),
            (&key.description).into(),
            key.purpose.as_str().into(),
            key.created_at.into(),
        ];
        self.execute(
            On::Write,
            "INSERT INTO admin_keys (access_key_id, secret, description, purpose, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &values,
        )
        .await?;
        Ok(())
    }

    async fn get_admin_key(&self, access_key_id: &str) -> StoreResult<Option<AdminKey>> {
        let sql = format!("SELECT {ADMIN_KEY_COLUMNS} FROM admin_keys WHERE access_key_id = $1");
        let row = self
            .fetch_optional(On::Read, &sql, &[access_key_id.into()])
            .await?;
        row.as_ref().map(admin_key_of).transpose()
    }

    async fn list_admin_keys(&self) -> StoreResult<Vec<AdminKey>> {
        let sql = format!("SELECT {ADMIN_KEY_COLUMNS} FROM admin_keys ORDER BY access_key_id");
        let rows = self.fetch_all(On::Read, &sql, &[]).await?;
        rows.iter().map(admin_key_of).collect()
    }

    async fn delete_admin_key(&self, access_key_id: &str) -> StoreResult<bool> {
        let n = self
            .execute(
                On::Write,
                "DELETE FROM admin_keys WHERE access_key_id = $1",
                &[access_key_id.into()],
            )
            .await?;
        Ok(n > 0)
    }

    // --- identity service token keys (issue 12) -------------------------------------------

    async fn insert_identity_key_if_none_active(
        &self,
        key: &IdentityKeyRecord,
    ) -> StoreResult<IdentityKeyRecord> {
        // The partial unique index identity_keys_active_uq admits one active key; the
        // loser of a race inserts nothing and reads the winner's key.
        let mut tx = self.begin().await?;
        let insert = format!("{INSERT_IDENTITY_KEY} ON CONFLICT DO NOTHING");
        self.execute(On::Tx(&mut *tx), &insert, &identity_key_values(key))
            .await?;
        let sql =
            format!("SELECT {IDENTITY_KEY_COLUMNS} FROM identity_keys WHERE retired_at IS NULL");
        let row = self.fetch_optional(On::Tx(&mut *tx), &sql, &[]).await?;
        tx.commit().await.map_err(E::map_err)?;
        // No active key after the insert means the kid itself was taken by a retired key.
        row.as_ref()
            .map(identity_key_of)
            .transpose()?
            .ok_or(StoreError::Conflict(Conflict::Exists))
    }

    async fn rotate_identity_key(
        &self,
        key: &IdentityKeyRecord,
        now: UnixTime,
        published_until: UnixTime,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        self.execute(
            On::Tx(&mut *tx),
            "UPDATE identity_keys SET retired_at = $1, published_until = $2 \
             WHERE retired_at IS NULL",
            &[now.into(), published_until.into()],
        )
        .await?;
        self.execute(
            On::Tx(&mut *tx),
            INSERT_IDENTITY_KEY,
            &identity_key_values(key),
        )
        .await?;
        tx.commit().await.map_err(E::map_err)
    }

    async fn list_identity_keys(&self) -> StoreResult<Vec<IdentityKeyRecord>> {
        let sql = format!(
            "SELECT {IDENTITY_KEY_COLUMNS} FROM identity_keys \
             ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, retired_at DESC, \
             created_at DESC, kid"
        );
        let rows = self.fetch_all(On::Read, &sql, &[]).await?;
        rows.iter().map(identity_key_of).collect()
    }

    async fn prune_identity_keys(&self, now: UnixTime) -> StoreResult<u64> {
        let sql = "DELETE FROM identity_keys \
                   WHERE retired_at IS NOT NULL AND published_until <= $1";
        self.execute(On::Write, sql, &[now.into()]).await
    }

    // --- short-lived protocol state and counters -----------------------------------------

    async fn put_ephemeral(
        &self,
        kind: &str,
        id: &str,
        value: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<()> {
        // An expired row not yet purged does not hold its id.
        let done = self
            .execute(
                On::Write,
                "INSERT INTO ephemeral (kind, id, value, expires_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (kind, id) DO UPDATE \
                 SET value = excluded.value, expires_at = excluded.expires_at \
                 WHERE ephemeral.expires_at <= $5",
                &[
                    kind.into(),
                    id.into(),
                    value.into(),
                    expires_at.into(),
                    now.into(),
                ],
            )
            .await?;
        if done == 0 {
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
        let sql = "SELECT value FROM ephemeral WHERE kind = $1 AND id = $2 AND expires_at > $3";
        let values = [kind.into(), id.into(), now.into()];
        let row = self.fetch_optional(On::Read, sql, &values).await?;
        row.as_ref().map(|r| string_of(r, "value")).transpose()
    }

    async fn take_ephemeral(
        &self,
        kind: &str,
        id: &str,
        now: UnixTime,
    ) -> StoreResult<Option<String>> {
        // One statement: whoever deletes the row gets the value. SQLite runs it under its
        // single write lock; in PostgreSQL a concurrent DELETE waits for the first, then
        // finds the row gone. Either way exactly one caller gets the value.
        let sql = "DELETE FROM ephemeral WHERE kind = $1 AND id = $2 AND expires_at > $3 \
                   RETURNING value";
        let values = [kind.into(), id.into(), now.into()];
        let row = self.fetch_optional(On::Write, sql, &values).await?;
        row.as_ref().map(|r| string_of(r, "value")).transpose()
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
        // One conditional UPDATE. SQLite runs it under its single write lock, so the
        // second of two racing callers sees the first one's value; in PostgreSQL the
        // second waits for the first to commit, then re-checks its WHERE against the new
        // value. Either way the second matches nothing.
        let done = self
            .execute(
                On::Write,
                "UPDATE ephemeral SET value = $4, expires_at = $5 \
                 WHERE kind = $1 AND id = $2 AND value = $3 AND expires_at > $6",
                &[
                    kind.into(),
                    id.into(),
                    expected.into(),
                    new_value.into(),
                    expires_at.into(),
                    now.into(),
                ],
            )
            .await?;
        Ok(done > 0)
    }

    async fn list_ephemeral(
        &self,
        kind: &str,
        id_prefix: &str,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<(String, String, UnixTime)>> {
        let rows = list_prefixed(
            self,
            (
                "SELECT id, value, expires_at FROM ephemeral \
                 WHERE kind = $1 AND id >= $2 AND expires_at > $3 AND id < $5 \
                 ORDER BY id LIMIT $4",
                "SELECT id, value, expires_at FROM ephemeral \
                 WHERE kind = $1 AND id >= $2 AND expires_at > $3 \
                 ORDER BY id LIMIT $4",
            ),
            &[
                kind.into(),
                id_prefix.into(),
                now.into(),
                sql::list_limit(limit).into(),
            ],
            id_prefix,
        )
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    string_of(r, "id")?,
                    string_of(r, "value")?,
                    r.int("expires_at")?,
                ))
            })
            .collect()
    }

    async fn delete_ephemeral(&self, kind: &str, id: &str) -> StoreResult<bool> {
        let sql = "DELETE FROM ephemeral WHERE kind = $1 AND id = $2";
        Ok(self
            .execute(On::Write, sql, &[kind.into(), id.into()])
            .await?
            > 0)
    }

    async fn purge_ephemeral(&self, now: UnixTime) -> StoreResult<u64> {
        let mut tx = self.begin().await?;
        let mut purged = 0;
        for sql in [
            "DELETE FROM ephemeral WHERE expires_at <= $1",
            "DELETE FROM counters WHERE expires_at <= $1",
        ] {
            purged += self.execute(On::Tx(&mut *tx), sql, &[now.into()]).await?;
        }
        tx.commit().await.map_err(E::map_err)?;
        Ok(purged)
    }

    async fn increment_counter(
        &self,
        key: &str,
        window_expires_at: UnixTime,
        now: UnixTime,
    ) -> StoreResult<i64> {
        // One upsert. SQLite runs it under its single write lock; in PostgreSQL concurrent
        // inserts of a new key wait on the unique index and then take the update branch
        // against the committed row, so no increment is lost. In SET, `counters.*` is the
        // row before it. An expired counter restarts (a new window); a live one keeps its
        // expiry.
        let row = self
            .fetch_one(
                On::Write,
                "INSERT INTO counters (key, value, expires_at) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO UPDATE SET \
                 value = CASE WHEN counters.expires_at <= $3 THEN 1 ELSE counters.value + 1 END, \
                 expires_at = CASE WHEN counters.expires_at <= $3 \
                 THEN excluded.expires_at ELSE counters.expires_at END \
                 RETURNING value",
                &[key.into(), window_expires_at.into(), now.into()],
            )
            .await?;
        row.int("value")
    }

    async fn get_counter(&self, key: &str, now: UnixTime) -> StoreResult<Option<(i64, UnixTime)>> {
        let sql = "SELECT value, expires_at FROM counters WHERE key = $1 AND expires_at > $2";
        let row = self
            .fetch_optional(On::Read, sql, &[key.into(), now.into()])
            .await?;
        row.map(|r| Ok((r.int("value")?, r.int("expires_at")?)))
            .transpose()
    }

    async fn delete_counters(&self, prefix: &str) -> StoreResult<u64> {
        match sql::prefix_end(prefix) {
            Some(end) => {
                let sql = "DELETE FROM counters WHERE key >= $1 AND key < $2";
                let values = [prefix.into(), end.as_str().into()];
                self.execute(On::Write, sql, &values).await
            }
            None => {
                let sql = "DELETE FROM counters WHERE key >= $1";
                self.execute(On::Write, sql, &[prefix.into()]).await
            }
        }
    }

    async fn list_counters(
        &self,
        prefix: &str,
        now: UnixTime,
        limit: u32,
    ) -> StoreResult<Vec<(String, i64, UnixTime)>> {
        let rows = list_prefixed(
            self,
            (
                "SELECT key, value, expires_at FROM counters \
                 WHERE key >= $1 AND expires_at > $2 AND key < $4 \
                 ORDER BY key LIMIT $3",
                "SELECT key, value, expires_at FROM counters \
                 WHERE key >= $1 AND expires_at > $2 \
                 ORDER BY key LIMIT $3",
            ),
            &[prefix.into(), now.into(), sql::list_limit(limit).into()],
            prefix,
        )
        .await?;
        rows.iter()
            .map(|r| Ok((string_of(r, "key")?, r.int("value")?, r.int("expires_at")?)))
            .collect()
    }
}
