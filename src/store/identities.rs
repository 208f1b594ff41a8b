//! The statements behind the identity-pool part of [`Store`](super::Store): identity
//! pools and roles (documents keyed by id / ARN) and identities, whose logins are rows of
//! their own under the unique rule `identity_logins_uq (identity_pool_id, provider,
//! subject)`: that rule, not a check in code, makes nodes resolving one user's first
//! sign-in at once converge on one identity id.

use super::engine::{On, Run};
use super::sql::{self, page_after, paginate, string_of, RecordRow};
use super::{doc, StoreError, StoreResult};
use crate::core::model::{Identity, IdentityLogin, IdentityPool, Origin, Page, PageRequest, Role};
use crate::core::UnixTime;

/// An identity with its logins: one row per login (or one with NULL login columns).
const IDENTITY_SELECT: &str = "SELECT i.id, i.identity_pool_id, i.created_at, i.updated_at, \
     l.provider AS provider, l.subject AS subject \
     FROM identities i LEFT JOIN identity_logins l ON l.identity_id = i.id";

/// Folds [`IDENTITY_SELECT`] rows ordered by identity id, then login, into identities.
fn identities_of(rows: &[impl RecordRow]) -> StoreResult<Vec<Identity>> {
    let mut out: Vec<Identity> = Vec::new();
    for row in rows {
        let id = row.text("id")?;
        if out.last().is_none_or(|last| last.id != id) {
            out.push(Identity {
                id: id.to_string(),
                identity_pool_id: string_of(row, "identity_pool_id")?,
                logins: Vec::new(),
                created_at: row.int("created_at")?,
                updated_at: row.int("updated_at")?,
            });
        }
        if let (Some(provider), Some(subject)) =
            (row.maybe_text("provider")?, row.maybe_text("subject")?)
        {
            if let Some(last) = out.last_mut() {
                last.logins.push(IdentityLogin {
                    provider: provider.to_string(),
                    subject: subject.to_string(),
                });
            }
        }
    }
    Ok(out)
}

/// A foreign key broken by an identity write points at its identity pool.
fn identity_err(e: StoreError) -> StoreError {
    match e {
        StoreError::MissingParent(_) => StoreError::MissingParent("identity pool"),
        other => other,
    }
}

fn origin_text(origin: Origin) -> &'static str {
    match origin {
        Origin::Config => "config",
        Origin::Api => "api",
    }
}

pub(crate) async fn put_identity_pool<E: Run>(store: &E, pool: &IdentityPool) -> StoreResult<()> {
    // An upsert, never a delete and insert: the delete would cascade to the identities.
    store
        .execute(
            On::Write,
            "INSERT INTO identity_pools (id, name, origin, doc) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, origin = excluded.origin, \
             doc = excluded.doc",
            &[
                (&pool.id).into(),
                (&pool.name).into(),
                origin_text(pool.origin).into(),
                doc::to_json(pool)?.as_str().into(),
            ],
        )
        .await?;
    Ok(())
}

pub(crate) async fn list_identity_pools<E: Run>(
    store: &E,
    page: &PageRequest,
) -> StoreResult<Page<IdentityPool>> {
    let limit = doc::page_limit(page.limit);
    let after = page_after(page)?;
    let rows = store
        .fetch_all(
            On::Read,
            "SELECT doc FROM identity_pools WHERE id > $1 ORDER BY id LIMIT $2",
            &[after.as_str().into(), (limit + 1).into()],
        )
        .await?;
    let pools: Vec<IdentityPool> = sql::docs_of(&rows)?;
    Ok(paginate(pools, limit, |p| p.id.as_str()))
}

pub(crate) async fn put_role<E: Run>(store: &E, role: &Role) -> StoreResult<()> {
    store
        .execute(
            On::Write,
            "INSERT INTO roles (arn, doc) VALUES ($1, $2) \
             ON CONFLICT (arn) DO UPDATE SET doc = excluded.doc",
            &[(&role.arn).into(), doc::to_json(role)?.as_str().into()],
        )
        .await?;
    Ok(())
}

/// The identity holding `login` in `pool_id`, read on `on`.
async fn identity_by_login<E: Run>(
    store: &E,
    pool_id: &str,
    login: &IdentityLogin,
) -> StoreResult<Option<Identity>> {
    let row = store
        .fetch_optional(
            On::Read,
            "SELECT identity_id FROM identity_logins \
             WHERE identity_pool_id = $1 AND provider = $2 AND subject = $3",
            &[
                pool_id.into(),
                (&login.provider).into(),
                (&login.subject).into(),
            ],
        )
        .await?;
    match row {
        Some(row) => get_identity(store, row.text("identity_id")?).await,
        None => Ok(None),
    }
}

pub(crate) async fn get_or_create_identity<E: Run>(
    store: &E,
    pool_id: &str,
    login: Option<&IdentityLogin>,
    candidate: &Identity,
) -> StoreResult<Identity> {
    if let Some(login) = login {
        if let Some(found) = identity_by_login(store, pool_id, login).await? {
            return Ok(found);
        }
    }
    let stored = Identity {
        id: candidate.id.clone(),
        identity_pool_id: pool_id.to_string(),
        logins: login.into_iter().cloned().collect(),
        created_at: candidate.created_at,
        updated_at: candidate.updated_at,
    };
    let mut tx = store.begin().await?;
    store
        .execute(
            On::Tx(&mut *tx),
            "INSERT INTO identities (id, identity_pool_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4)",
            &[
                (&stored.id).into(),
                pool_id.into(),
                stored.created_at.into(),
                stored.updated_at.into(),
            ],
        )
        .await
        .map_err(identity_err)?;
    if let Some(login) = login {
        // In PostgreSQL a racing insert of the same login waits for the first
        // transaction, then inserts nothing; SQLite runs writers one at a time. The loser
        // rolls its identity back (dropping the transaction) and reads the winner's.
        let inserted = store
            .execute(
                On::Tx(&mut *tx),
                "INSERT INTO identity_logins (identity_pool_id, provider, subject, identity_id) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                &[
                    pool_id.into(),
                    (&login.provider).into(),
                    (&login.subject).into(),
                    (&stored.id).into(),
                ],
            )
            .await?;
        if inserted == 0 {
            drop(tx);
            // The winner committed before our insert gave way, so it is visible now;
            // only a delete in between leaves nothing (the caller may retry).
            return identity_by_login(store, pool_id, login)
                .await?
                .ok_or(StoreError::NotFound);
        }
    }
    tx.commit().await.map_err(E::map_err)?;
    Ok(stored)
}

pub(crate) async fn get_identity<E: Run>(store: &E, id: &str) -> StoreResult<Option<Identity>> {
    let sql = format!("{IDENTITY_SELECT} WHERE i.id = $1 ORDER BY l.provider, l.subject");
    let rows = store.fetch_all(On::Read, &sql, &[id.into()]).await?;
    Ok(identities_of(&rows)?.pop())
}

pub(crate) async fn list_identities<E: Run>(
    store: &E,
    pool_id: &str,
    page: &PageRequest,
) -> StoreResult<Page<Identity>> {
    let limit = doc::page_limit(page.limit);
    let after = page_after(page)?;
    // The page of identities first, then their logins joined on.
    let rows = store
        .fetch_all(
            On::Read,
            "SELECT i.id, i.identity_pool_id, i.created_at, i.updated_at, \
             l.provider AS provider, l.subject AS subject \
             FROM (SELECT id, identity_pool_id, created_at, updated_at FROM identities \
                   WHERE identity_pool_id = $1 AND id > $2 ORDER BY id LIMIT $3) i \
             LEFT JOIN identity_logins l ON l.identity_id = i.id \
             ORDER BY i.id, l.provider, l.subject",
            &[pool_id.into(), after.as_str().into(), (limit + 1).into()],
        )
        .await?;
    Ok(paginate(identities_of(&rows)?, limit, |i| i.id.as_str()))
}

pub(crate) async fn delete_identities<E: Run>(
    store: &E,
    ids: &[String],
) -> StoreResult<Vec<String>> {
    let mut tx = store.begin().await?;
    let mut deleted = Vec::new();
    for id in ids {
        let sql = "DELETE FROM identities WHERE id = $1";
        if store.execute(On::Tx(&mut *tx), sql, &[id.into()]).await? > 0 {
            deleted.push(id.clone());
        }
    }
    tx.commit().await.map_err(E::map_err)?;
    Ok(deleted)
}

pub(crate) async fn unlink_identity<E: Run>(
    store: &E,
    id: &str,
    login: &IdentityLogin,
    now: UnixTime,
) -> StoreResult<bool> {
    let mut tx = store.begin().await?;
    let removed = store
        .execute(
            On::Tx(&mut *tx),
            "DELETE FROM identity_logins WHERE identity_id = $1 AND provider = $2 \
             AND subject = $3",
            &[id.into(), (&login.provider).into(), (&login.subject).into()],
        )
        .await?;
    if removed > 0 {
        let sql = "UPDATE identities SET updated_at = $2 WHERE id = $1";
        store
            .execute(On::Tx(&mut *tx), sql, &[id.into(), now.into()])
            .await?;
    }
    tx.commit().await.map_err(E::map_err)?;
    Ok(removed > 0)
}
