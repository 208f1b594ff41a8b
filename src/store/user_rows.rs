//! The rows a user is written as, beside its document: the `users` row, its federated
//! links, its sign-in identifiers (`login_keys`) and its ListUsers filter keys
//! (`user_filters`), with the statements and writers the shared [`Store`](super::Store)
//! implementation and SQLite's batch import both use.

use super::engine::{On, Run, Value};
use super::sql::{self, links_of};
use super::{Conflict, StoreResult};
use crate::core::model::User;
use crate::core::users::filter_keys;

/// Inserts a user row with the values of [`user_values`].
pub(crate) const INSERT_USER: &str =
    "INSERT INTO users (pool_id, sub, username_key, email_key, phone_key, \
     preferred_username_key, verified_email_key, version, created_at, doc) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
/// Links `($1 pool, $2 provider, $3 subject)` to the user `$4`.
pub(crate) const INSERT_LINK: &str =
    "INSERT INTO federated_links (pool_id, provider, subject, sub) VALUES ($1, $2, $3, $4)";
/// Gives the user `$3` the sign-in identifier `($1 pool, $2 key)`, unless another user
/// holds it (then it inserts nothing).
pub(crate) const INSERT_LOGIN_KEY: &str =
    "INSERT INTO login_keys (pool_id, login_key, sub) VALUES ($1, $2, $3) \
     ON CONFLICT DO NOTHING";
/// Deletes the user `($1 pool, $2 sub)`; its links and memberships cascade.
pub(crate) const DELETE_USER: &str = "DELETE FROM users WHERE pool_id = $1 AND sub = $2";

/// Deletes the filter keys of the user `($1 pool, $2 sub)` (before an update rewrites
/// them).
pub(crate) const DELETE_FILTERS: &str = "DELETE FROM user_filters WHERE pool_id = $1 AND sub = $2";

/// `INSERT INTO user_filters` of `n` rows `(pool, attr, value, sub)`, for `n` in
/// `1..=FilterAttribute::ALL.len()`: one statement per user write, its text one of a few
/// (so each engine keeps them prepared).
fn insert_filters_sql(n: usize) -> &'static str {
    use std::sync::OnceLock;
    static TEXTS: OnceLock<Vec<String>> = OnceLock::new();
    let texts = TEXTS.get_or_init(|| {
        let max = crate::core::storage::FilterAttribute::ALL.len();
        (0..=max)
            .map(|n| {
                let rows: Vec<String> = (0..n)
                    .map(|i| {
                        let b = i * 4;
                        format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4)
                    })
                    .collect();
                format!(
                    "INSERT INTO user_filters (pool_id, attr, value, sub) VALUES {}",
                    rows.join(", ")
                )
            })
            .collect()
    });
    texts.get(n).map(String::as_str).unwrap_or("")
}

/// Writes the user's ListUsers filter keys ([`filter_keys`]: one row per searchable
/// attribute it has) in one statement, in the transaction that writes the user, so the
/// index never disagrees with the document.
pub(crate) async fn write_filters<E: Run>(
    store: &E,
    conn: &mut <E::Db as sqlx::Database>::Connection,
    user: &User,
) -> StoreResult<()> {
    let keys = filter_keys(user);
    if keys.is_empty() {
        return Ok(());
    }
    let mut values: Vec<Value<'_>> = Vec::with_capacity(keys.len() * 4);
    for (attr, value) in &keys {
        values.push((&user.pool_id).into());
        values.push(attr.as_str().into());
        values.push(value.into());
        values.push((&user.sub).into());
    }
    store
        .execute(On::Tx(&mut *conn), insert_filters_sql(keys.len()), &values)
        .await?;
    Ok(())
}

/// A user's row for [`INSERT_USER`]; `user.version` must already be the stored version
/// and `doc` its serialization.
pub(crate) fn user_values<'a>(user: &'a User, doc: &'a str) -> [Value<'a>; 10] {
    [
        (&user.pool_id).into(),
        (&user.sub).into(),
        (&user.lookup.username).into(),
        user.lookup.email.as_deref().into(),
        user.lookup.phone_number.as_deref().into(),
        user.lookup.preferred_username.as_deref().into(),
        user.lookup.verified_email.as_deref().into(),
        user.version.into(),
        user.created_at.into(),
        doc.into(),
    ]
}

/// Writes the user's federated links with `sql` (a form of [`INSERT_LINK`]); returns how
/// many rows were inserted.
pub(crate) async fn write_links<E: Run>(
    store: &E,
    conn: &mut <E::Db as sqlx::Database>::Connection,
    sql: &str,
    user: &User,
) -> StoreResult<u64> {
    let mut inserted = 0;
    for (provider, subject) in links_of(user) {
        let values = [
            (&user.pool_id).into(),
            provider.into(),
            subject.into(),
            (&user.sub).into(),
        ];
        inserted += store.execute(On::Tx(&mut *conn), sql, &values).await?;
    }
    Ok(inserted)
}

/// Writes the user's sign-in identifiers ([`sql::login_keys_of`]) with
/// [`INSERT_LOGIN_KEY`]; returns the rule broken by the first one another user holds,
/// unless the user held that key already before (`held`: its keys from before the shared
/// space existed, where two users may share one, are kept, never newly taken).
pub(crate) async fn write_login_keys<E: Run>(
    store: &E,
    conn: &mut <E::Db as sqlx::Database>::Connection,
    user: &User,
    held: &[String],
) -> StoreResult<Option<Conflict>> {
    for (key, kind) in sql::login_keys_of(user) {
        let values = [(&user.pool_id).into(), key.into(), (&user.sub).into()];
        let inserted = store
            .execute(On::Tx(&mut *conn), INSERT_LOGIN_KEY, &values)
            .await?;
        if inserted == 0 && !held.iter().any(|h| h == key) {
            return Ok(Some(kind));
        }
    }
    Ok(None)
}
