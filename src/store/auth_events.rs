//! The statements behind the auth event log part of [`Store`](super::Store): events are
//! documents keyed by id, with the pool, the user and the time as columns for the
//! listings (newest first) and the retention prune.

use super::engine::{On, Run, Value};
use super::sql::{docs_of, page_after, RecordRow};
use super::{doc, StoreResult};
use crate::core::model::{AuthEvent, Page, PageRequest};
use crate::core::UnixTime;

/// Rows per INSERT statement: 6 values each, well under SQLite's 32766 placeholders.
const INSERT_CHUNK: usize = 200;

/// Inserts `events` with one multi-row statement per [`INSERT_CHUNK`] events. An id
/// already there is left as it is (a batch retried after a lost answer writes nothing
/// twice).
pub(crate) async fn insert_auth_events<E: Run>(store: &E, events: &[AuthEvent]) -> StoreResult<()> {
    for chunk in events.chunks(INSERT_CHUNK) {
        let docs = chunk
            .iter()
            .map(doc::to_json)
            .collect::<StoreResult<Vec<String>>>()?;
        let mut sql = String::from(
            "INSERT INTO auth_events (id, pool_id, sub, created_at, history, doc) VALUES ",
        );
        let mut values: Vec<Value<'_>> = Vec::with_capacity(chunk.len() * 6);
        for (i, (event, doc)) in chunk.iter().zip(&docs).enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let n = i * 6;
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, ${}, ${})",
                n + 1,
                n + 2,
                n + 3,
                n + 4,
                n + 5,
                n + 6
            ));
            values.push((&event.id).into());
            values.push((&event.pool_id).into());
            values.push(event.sub.as_deref().into());
            values.push(event.created_at.into());
            values.push(i64::from(event.counts_as_history()).into());
            values.push(doc.as_str().into());
        }
        sql.push_str(" ON CONFLICT (id) DO NOTHING");
        store.execute(On::Write, &sql, &values).await?;
    }
    Ok(())
}

/// The page key of an event: newest first, ties by id.
fn page_key(event: &AuthEvent) -> String {
    format!("{}/{}", event.created_at, event.id)
}

/// Events of a pool (of one user when `sub` is given), newest first, created at or after
/// `since`.
pub(crate) async fn list_auth_events<E: Run>(
    store: &E,
    pool_id: &str,
    sub: Option<&str>,
    since: UnixTime,
    page: &PageRequest,
) -> StoreResult<Page<AuthEvent>> {
    let limit = doc::page_limit(page.limit);
    let after = page_after(page)?;
    // Before the previous page's last event: (created_at, id) below its key.
    let (before_time, before_id) = match after.split_once('/') {
        Some((t, id)) => (t.parse::<i64>().unwrap_or(i64::MAX), id.to_string()),
        None => (i64::MAX, String::new()),
    };
    let user_rule = if sub.is_some() { "sub = $6" } else { "$6 = ''" };
    let sql = format!(
        "SELECT doc FROM auth_events WHERE pool_id = $1 AND {user_rule} \
         AND created_at >= $2 \
         AND (created_at < $3 OR (created_at = $3 AND ($4 = '' OR id < $4))) \
         ORDER BY created_at DESC, id DESC LIMIT $5"
    );
    let rows = store
        .fetch_all(
            On::Read,
            &sql,
            &[
                pool_id.into(),
                since.into(),
                before_time.into(),
                before_id.as_str().into(),
                (limit + 1).into(),
                sub.unwrap_or("").into(),
            ],
        )
        .await?;
    let mut items: Vec<AuthEvent> = docs_of(&rows)?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items.last().map(|e| PageRequest::token_after(&page_key(e)))
    } else {
        None
    };
    Ok(Page { items, next })
}

/// A user's latest sign-in history ([`AuthEvent::counts_as_history`]) created at or
/// after `since`, newest first, at most `limit` events: what the risk signals compare a
/// sign-in with. Events of other kinds, however many, never push it out.
pub(crate) async fn list_sign_in_history<E: Run>(
    store: &E,
    pool_id: &str,
    sub: &str,
    since: UnixTime,
    limit: i64,
) -> StoreResult<Vec<AuthEvent>> {
    let sql = "SELECT doc FROM auth_events WHERE pool_id = $1 AND sub = $2 AND history = 1 \
               AND created_at >= $3 ORDER BY created_at DESC, id DESC LIMIT $4";
    let rows = store
        .fetch_all(
            On::Read,
            sql,
            &[pool_id.into(), sub.into(), since.into(), limit.into()],
        )
        .await?;
    docs_of(&rows)
}

/// One event of a pool.
pub(crate) async fn get_auth_event<E: Run>(
    store: &E,
    pool_id: &str,
    id: &str,
) -> StoreResult<Option<AuthEvent>> {
    let sql = "SELECT doc FROM auth_events WHERE id = $1 AND pool_id = $2";
    match store
        .fetch_optional(On::Read, sql, &[id.into(), pool_id.into()])
        .await?
    {
        Some(row) => Ok(Some(doc::from_json(row.text("doc")?)?)),
        None => Ok(None),
    }
}

/// Replaces an event's document (its feedback); returns whether it was there.
pub(crate) async fn update_auth_event<E: Run>(store: &E, event: &AuthEvent) -> StoreResult<bool> {
    let sql = "UPDATE auth_events SET doc = $3, history = $4 WHERE id = $1 AND pool_id = $2";
    let doc = doc::to_json(event)?;
    let values = [
        (&event.id).into(),
        (&event.pool_id).into(),
        doc.as_str().into(),
        i64::from(event.counts_as_history()).into(),
    ];
    Ok(store.execute(On::Write, sql, &values).await? > 0)
}

/// Deletes events created before `before`; returns how many.
pub(crate) async fn prune_auth_events<E: Run>(store: &E, before: UnixTime) -> StoreResult<u64> {
    let sql = "DELETE FROM auth_events WHERE created_at < $1";
    store.execute(On::Write, sql, &[before.into()]).await
}
