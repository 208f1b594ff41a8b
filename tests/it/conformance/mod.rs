//! The storage conformance suite: one set of checks, run unchanged against every engine
//! (dex's `storage/conformance` pattern).
//!
//! Each check is `async fn(Arc<dyn Store>)` in one of the area modules (pools, users,
//! groups, keys, ephemeral, counters; gathered in `checks`); the `conformance!` macro
//! generates `conformance::sqlite::<check>` (a fresh database file per test) and
//! `conformance::postgres::<check>` (a fresh schema per test, see `support::pg`). Negative
//! cases are paired with the corrected call succeeding, so a check cannot pass by an engine
//! refusing everything.

use std::sync::Arc;

use cognate::store::{Store, StoreError, UserRef};

use fixtures::{page, pool, user};

mod counters;
mod ephemeral;
mod fixtures;
mod groups;
mod keys;
mod pools;
mod users;

macro_rules! conformance {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let store = cognate::store::sqlite::SqliteStore::open(
                        &dir.path().join("cognate.db"),
                    )
                    .await
                    .expect("open SQLite store");
                    super::checks::$check(std::sync::Arc::new(store)).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(db) = crate::support::pg::fresh_pg_url(stringify!($check)).await
                    else {
                        return;
                    };
                    let store = cognate::store::postgres::PgStore::connect(&db.url)
                        .await
                        .expect("connect PostgreSQL store");
                    super::checks::$check(std::sync::Arc::new(store)).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

conformance!(
    ping_and_meta_race,
    pools_crud_and_cascade,
    clients,
    resource_servers,
    user_lookups,
    username_case_folding,
    alias_conflicts,
    federated_link_conflicts,
    stale_version_is_refused,
    concurrent_updates_lose_nothing,
    concurrent_creates_one_winner,
    pagination_and_count,
    import_skips_collisions,
    users_by_verified_email,
    groups_and_memberships,
    bulk_memberships,
    keys_converge,
    keys_rotate_and_prune,
    ephemeral_single_use,
    ephemeral_expiry,
    ephemeral_compare_and_swap,
    ephemeral_list_and_delete,
    counters_count_within_a_window,
    counters_concurrent_increments,
    counters_by_prefix,
    purge_removes_expired_counters,
);

// --- engine-specific start-up ------------------------------------------------------------

/// The server and the CLI may open a fresh database file at the same moment, and then
/// write to it at the same time: every open ends with the migrated schema, and every write
/// succeeds (waiting on the other's lock, never failing with "database is locked").
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_processes_share_one_file() {
    use cognate::store::sqlite::SqliteStore;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cognate.db");
    let opened = futures::future::join_all((0..4).map(|_| SqliteStore::open(&path))).await;
    let stores: Vec<Arc<dyn Store>> = opened
        .into_iter()
        .map(|s| Arc::new(s.expect("open")) as Arc<dyn Store>)
        .collect();
    let p = pool("us-east-1_Pool1", false);
    stores[0].put_pool(&p).await.unwrap();
    assert_eq!(stores[3].get_pool(&p.id).await.unwrap(), Some(p.clone()));

    let writers: Vec<_> = stores
        .iter()
        .enumerate()
        .map(|(n, store)| {
            let (store, p) = (store.clone(), p.clone());
            tokio::spawn(async move {
                for i in 0..25 {
                    let u = store
                        .create_user(&user(&p, &format!("u{n}-{i}"), &[]))
                        .await
                        .expect("create");
                    store.update_user(&u).await.expect("update");
                    let batch = [user(&p, &format!("imported{n}-{i}"), &[])];
                    assert_eq!(
                        store.import_users(&batch).await.expect("import").inserted,
                        1
                    );
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    assert_eq!(stores[1].count_users(&p.id).await.unwrap(), 4 * 50);
    drop(stores);
    let again = SqliteStore::open(&path).await.expect("reopen");
    assert_eq!(again.list_pools().await.unwrap(), vec![p]);
}

/// Several nodes start at once against one (per-test) schema: sqlx's advisory lock lets
/// one migrate, and the tables, `_sqlx_migrations` included, land in the schema named by
/// the URL's search_path, not in `public`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_migrations_land_in_the_search_path_schema() {
    use cognate::store::postgres::PgStore;
    let Some(db) = crate::support::pg::fresh_pg_url("search_path").await else {
        return;
    };
    let (a, b, c) = tokio::join!(
        PgStore::connect(&db.url),
        PgStore::connect(&db.url),
        PgStore::connect(&db.url)
    );
    let (a, b) = (a.expect("node a"), b.expect("node b"));
    c.expect("node c");
    let p = pool("us-east-1_Pool1", false);
    a.put_pool(&p).await.unwrap();
    assert_eq!(b.get_pool(&p.id).await.unwrap(), Some(p));

    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables \
         WHERE table_name IN ('_sqlx_migrations', 'users', 'ephemeral', 'counters')",
    )
    .fetch_all(&mut conn)
    .await
    .expect("query catalog");
    let mut names: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["_sqlx_migrations", "counters", "ephemeral", "users"],
        "{rows:?}"
    );
    assert!(
        rows.iter().all(|(schema, _)| schema == &db.schema),
        "{rows:?}"
    );
    let _ = conn.close().await;
    drop((a, b));
    db.cleanup().await;
}

/// An unreachable server is `Unavailable`, promptly, with a message naming the target.
#[tokio::test]
async fn postgres_unreachable_is_unavailable() {
    let started = std::time::Instant::now();
    let err = cognate::store::postgres::PgStore::connect("postgres://nobody@127.0.0.1:1/none")
        .await
        .expect_err("nothing listens on port 1");
    assert!(
        matches!(&err, StoreError::Unavailable(m) if m.contains("127.0.0.1:1/none")),
        "{err:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
}

/// Rows that no longer decode are `Corrupt` errors, never panics or silently skipped rows.
async fn assert_corrupt_reported(store: &dyn Store, pool_id: &str, sub: &str) {
    let got = store.get_pool(pool_id).await;
    assert!(matches!(got, Err(StoreError::Corrupt(_))), "{got:?}");
    let got = store.list_pools().await;
    assert!(matches!(got, Err(StoreError::Corrupt(_))), "{got:?}");
    let got = store.get_user(pool_id, &UserRef::Sub(sub.into())).await;
    assert!(matches!(got, Err(StoreError::Corrupt(_))), "{got:?}");
    let got = store.list_users(pool_id, &page(10, None)).await;
    assert!(matches!(got, Err(StoreError::Corrupt(_))), "{got:?}");
    // A page token that was never issued is refused, not trusted.
    let got = store
        .list_users(pool_id, &page(10, Some("%%%".into())))
        .await;
    assert!(got.is_err(), "{got:?}");
}

const CORRUPT_POOLS: &str = "UPDATE pools SET doc = 'not json'";
const CORRUPT_USERS: &str = r#"UPDATE users SET doc = '{"sub": 1}'"#;

#[tokio::test]
async fn sqlite_corrupt_documents_are_reported() {
    use sqlx::ConnectOptions;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cognate.db");
    let store = cognate::store::sqlite::SqliteStore::open(&path)
        .await
        .unwrap();
    let p = pool("us-east-1_Pool1", false);
    store.put_pool(&p).await.unwrap();
    let u = store.create_user(&user(&p, "alice", &[])).await.unwrap();
    let mut raw = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .connect()
        .await
        .unwrap();
    for sql in [CORRUPT_POOLS, CORRUPT_USERS] {
        sqlx::query(sql).execute(&mut raw).await.unwrap();
    }
    assert_corrupt_reported(&store, &p.id, &u.sub).await;
}

#[tokio::test]
async fn postgres_corrupt_documents_are_reported() {
    use sqlx::Connection;
    let Some(db) = crate::support::pg::fresh_pg_url("corrupt").await else {
        return;
    };
    let store = cognate::store::postgres::PgStore::connect(&db.url)
        .await
        .unwrap();
    let p = pool("us-east-1_Pool1", false);
    store.put_pool(&p).await.unwrap();
    let u = store.create_user(&user(&p, "alice", &[])).await.unwrap();
    let mut raw = sqlx::PgConnection::connect(&db.url).await.unwrap();
    for sql in [CORRUPT_POOLS, CORRUPT_USERS] {
        sqlx::query(sql).execute(&mut raw).await.unwrap();
    }
    let _ = raw.close().await;
    assert_corrupt_reported(&store, &p.id, &u.sub).await;
    drop(store);
    db.cleanup().await;
}

mod checks {
    pub use super::counters::*;
    pub use super::ephemeral::*;
    pub use super::groups::*;
    pub use super::keys::*;
    pub use super::pools::*;
    pub use super::users::*;
}
