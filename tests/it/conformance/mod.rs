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

use cognate::core::model::UserPool;
use cognate::store::{Store, StoreError, UserRef};

use fixtures::{page, pool, user};

// H1: operator credentials.
mod admin_keys;
// issue 17: the auth event log.
mod auth_events;
mod counters;
// issue 15: domains.
mod domains;
mod ephemeral;
mod fixtures;
mod groups;
mod hardened;
mod identity_keys;
mod identity_pools;
mod keys;
mod mfa;
mod pools;
mod sp_keys;
// issue 14: ListUsers' Filter.
mod user_filters;
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
    pool_replace_is_a_compare_and_swap,
    clients,
    resource_servers,
    user_lookups,
    username_case_folding,
    alias_conflicts,
    federated_link_conflicts,
    federated_link_bindings,
    stale_version_is_refused,
    concurrent_updates_lose_nothing,
    concurrent_creates_one_winner,
    pagination_and_count,
    import_skips_collisions,
    login_identifiers_share_one_space,
    users_by_verified_email,
    groups_and_memberships,
    bulk_memberships,
    keys_converge,
    keys_rotate_and_prune,
    sp_keys_converge,
    sp_keys_rotate_with_grace,
    ephemeral_single_use,
    ephemeral_expiry,
    ephemeral_compare_and_swap,
    ephemeral_list_and_delete,
    counters_count_within_a_window,
    counters_concurrent_increments,
    counters_by_prefix,
    purge_removes_expired_counters,
    identity_pools_and_roles_crud,
    identities_one_per_login,
    // H1: operator credentials.
    admin_keys_lifecycle,
    admin_keys_concurrent_creates_one_winner,
    // identity service token keys (issue 12)
    identity_keys_converge,
    identity_keys_rotate_with_grace,
    // second factors (issue 13)
    mfa_factors_round_trip,
    mfa_two_writers_of_one_version,
    // ListUsers' Filter (issue 14)
    search_exact_prefix_case_and_unicode,
    search_pages_in_value_then_sub_order,
    search_follows_writes_and_deletes,
    search_wildcards_and_edges_are_literal,
    // domains and resource servers (issue 15)
    domains_one_name_one_pool,
    domains_concurrent_inserts_one_winner,
    resource_server_insert_refuses_a_taken_identifier,
    resource_server_quota_holds_under_concurrent_inserts,
    // the auth event log (issue 17)
    auth_events_batches_pages_and_prune,
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
    // Created at version 1.
    let p = UserPool { version: 1, ..p };
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
    assert_eq!(
        b.get_pool(&p.id).await.unwrap(),
        Some(UserPool { version: 1, ..p })
    );

    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    // This schema and `public` only: other tests' schemas exist meanwhile.
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text FROM information_schema.tables \
         WHERE table_name IN ('_sqlx_migrations', 'users', 'ephemeral', 'counters') \
         AND table_schema IN ($1, 'public')",
    )
    .bind(&db.schema)
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

/// A schema at migration 0004 (before usernames and aliases shared one space) holding
/// `users`: the migrations up to it, run from a copy of the engine's folder.
fn migrations_before_login_keys(engine: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    for n in [
        "0001_init",
        "0002_counters",
        "0003_membership_index",
        "0004_verified_email",
    ] {
        let name = format!("{n}.sql");
        std::fs::copy(source.join(&name), dir.path().join(&name)).expect("copy migration");
    }
    dir
}

const LEGACY_POOL: &str = "INSERT INTO pools (id, doc) VALUES ($1, $2)";
const LEGACY_USER: &str = "INSERT INTO users (pool_id, sub, username_key, email_key, phone_key, \
     preferred_username_key, verified_email_key, version, created_at, doc) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $9)";

/// Two users written before migration 0005 that share a sign-in identifier (the older
/// one's username is the newer one's preferred_username), and a plain one.
fn legacy_users() -> (
    cognate::core::model::UserPool,
    Vec<cognate::core::model::User>,
) {
    let p = pool("us-east-1_Pool1", false);
    let mut older = user(&p, "vic", &[]);
    older.version = 1;
    let mut newer = user(&p, "mallory", &[("preferred_username", "Vic")]);
    newer.version = 1;
    newer.created_at += 1;
    let mut plain = user(&p, "carol", &[]);
    plain.version = 1;
    // A federated user indexed by its verified email, as before hole 5 was closed.
    let mut federated = user(
        &p,
        "Google_1",
        &[("email", "fed@example.com"), ("email_verified", "true")],
    );
    federated.status = cognate::core::model::UserStatus::ExternalProvider;
    federated.lookup.email = Some("fed@example.com".into());
    federated.version = 1;
    // Hole 3's attack, stored: a username that is another user's verified email.
    let mut owner = user(
        &p,
        "alice",
        &[("email", "alice@example.com"), ("email_verified", "true")],
    );
    owner.version = 1;
    let mut attacker = user(&p, "alice@example.com", &[]);
    attacker.version = 1;
    attacker.created_at += 2;
    // A federated user whose attributes hold quotes and backslashes, and a local user
    // holding an attribute named `status` valued EXTERNAL_PROVIDER and a name containing
    // that text: the migration must read each one's own status, not these strings.
    let mut quoted = user(
        &p,
        "Google_2",
        &[
            ("email", "fed2@example.com"),
            ("email_verified", "true"),
            ("name", "Q \"R\" \\"),
        ],
    );
    quoted.status = cognate::core::model::UserStatus::ExternalProvider;
    quoted.lookup.email = Some("fed2@example.com".into());
    quoted.version = 1;
    let mut local = user(
        &p,
        "lou",
        &[
            ("email", "lou@example.com"),
            ("email_verified", "true"),
            ("name", "x\",\"status\":\"EXTERNAL_PROVIDER\""),
            ("status", "EXTERNAL_PROVIDER"),
        ],
    );
    local.lookup.email = Some("lou@example.com".into());
    local.version = 1;
    (
        p,
        vec![
            older, newer, plain, federated, owner, attacker, quoted, local,
        ],
    )
}

/// After migration 0005 every legacy user loads and can still be written (keeping the key
/// it shares), nobody new may take a key already held, and the older holder keeps it.
async fn legacy_collisions_survive(
    store: Arc<dyn Store>,
    p: &cognate::core::model::UserPool,
    legacy: &[cognate::core::model::User],
) {
    use cognate::core::directory::lookup_for;
    use cognate::store::Conflict;
    for u in legacy {
        let got = store.get_user(&p.id, &UserRef::Sub(u.sub.clone())).await;
        assert_eq!(got.unwrap().as_ref(), Some(u));
    }
    // Both sharers can be updated, keeping the shared key.
    for u in &legacy[..2] {
        let mut changed = u.clone();
        changed.attributes.insert("name".into(), "renamed".into());
        store
            .update_user(&changed)
            .await
            .expect("update a legacy user");
    }
    // The shared key, and every other legacy key, is taken for anybody new.
    for key in ["vic", "carol", "mallory"] {
        let squat = store
            .create_user(&user(p, "zed", &[("preferred_username", key)]))
            .await;
        assert!(
            matches!(
                squat,
                Err(StoreError::Conflict(Conflict::PreferredUsername))
            ),
            "{key}: {squat:?}"
        );
    }
    // Once the newer user lets the key go it cannot take it back; the older keeps it.
    let mut newer = store
        .get_user(&p.id, &UserRef::Sub(legacy[1].sub.clone()))
        .await
        .unwrap()
        .unwrap();
    newer
        .attributes
        .insert("preferred_username".into(), "Mal".into());
    newer.lookup = lookup_for(p, &newer);
    let newer = store.update_user(&newer).await.unwrap();
    let mut back = newer.clone();
    back.attributes
        .insert("preferred_username".into(), "vic".into());
    back.lookup = lookup_for(p, &back);
    let refused = store.update_user(&back).await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Conflict(Conflict::PreferredUsername))
        ),
        "{refused:?}"
    );
    let older = store
        .get_user(&p.id, &UserRef::Username("vic".into()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(older.sub, legacy[0].sub);
    store
        .create_user(&user(p, "zed", &[("preferred_username", "zeddy")]))
        .await
        .expect("a fresh name");
    // The federated user's address is an attribute now: a local user may verify it.
    let fed = UserRef::Email("fed@example.com".into());
    assert_eq!(store.get_user(&p.id, &fed).await.unwrap(), None);
    store
        .create_user(&user(
            p,
            "fred",
            &[("email", "fed@example.com"), ("email_verified", "true")],
        ))
        .await
        .expect("the address is free for a local user");

    // Each user's own status decided, never a string that holds the word.
    let quoted = UserRef::Email("fed2@example.com".into());
    assert_eq!(store.get_user(&p.id, &quoted).await.unwrap(), None);
    let local = UserRef::Email("lou@example.com".into());
    let found = store.get_user(&p.id, &local).await.unwrap().unwrap();
    assert_eq!(found.sub, legacy[7].sub);

    // The stored attack no longer captures the owner's email sign-in: a login shaped like
    // an email finds the verified alias before a username (which may not be so shaped).
    let passwords = cognate::core::password::Passwords::new(
        Arc::new(cognate::core::password::StandardHasher),
        1,
    )
    .unwrap();
    let directory = cognate::core::directory::Directory::new(store.clone(), passwords);
    for login in ["alice@example.com", "Alice@Example.com", "alice"] {
        let found = directory.find_user(p, login).await.unwrap().unwrap();
        assert_eq!(found.sub, legacy[4].sub, "{login}");
    }
}

/// Binds [`LEGACY_USER`]'s values for `u`.
macro_rules! legacy_user_query {
    ($u:expr) => {{
        let u = $u;
        sqlx::query(LEGACY_USER)
            .bind(u.pool_id.clone())
            .bind(u.sub.clone())
            .bind(u.lookup.username.clone())
            .bind(u.lookup.email.clone())
            .bind(u.lookup.phone_number.clone())
            .bind(u.lookup.preferred_username.clone())
            .bind(u.lookup.verified_email.clone())
            .bind(u.created_at)
            .bind(serde_json::to_string(u).unwrap())
    }};
}

/// Issue 8, hole 3: the SQLite migration that puts usernames and aliases in one space
/// loads a database whose users already share an identifier.
#[tokio::test]
async fn sqlite_login_keys_migration_keeps_existing_users() {
    use sqlx::ConnectOptions;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cognate.db");
    let old = migrations_before_login_keys("sqlite");
    let mut raw = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap();
    let migrator = sqlx::migrate::Migrator::new(old.path()).await.unwrap();
    migrator.run(&mut raw).await.unwrap();
    let (p, legacy) = legacy_users();
    sqlx::query(LEGACY_POOL)
        .bind(p.id.clone())
        .bind(serde_json::to_string(&p).unwrap())
        .execute(&mut raw)
        .await
        .unwrap();
    for u in &legacy {
        legacy_user_query!(u).execute(&mut raw).await.unwrap();
    }
    drop(raw);
    let store = cognate::store::sqlite::SqliteStore::open(&path)
        .await
        .expect("the migration runs on existing data");
    legacy_collisions_survive(Arc::new(store), &p, &legacy).await;
}

/// The same on PostgreSQL.
#[tokio::test]
async fn postgres_login_keys_migration_keeps_existing_users() {
    use sqlx::Connection;
    // On a hardened database (no TEMPORARY privilege, no superuser): see `hardened`.
    let Some(db) = hardened::Hardened::create().await else {
        return;
    };
    let old = migrations_before_login_keys("postgres");
    let mut raw = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let migrator = sqlx::migrate::Migrator::new(old.path()).await.unwrap();
    migrator.run(&mut raw).await.unwrap();
    let (p, legacy) = legacy_users();
    sqlx::query(LEGACY_POOL)
        .bind(p.id.clone())
        .bind(serde_json::to_string(&p).unwrap())
        .execute(&mut raw)
        .await
        .unwrap();
    for u in &legacy {
        legacy_user_query!(u).execute(&mut raw).await.unwrap();
    }
    let _ = raw.close().await;
    let store = cognate::store::postgres::PgStore::connect(&db.url)
        .await
        .expect("the migration runs on existing data");
    legacy_collisions_survive(Arc::new(store), &p, &legacy).await;
    db.cleanup().await;
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
    // H1: operator credentials.
    pub use super::admin_keys::*;
    pub use super::auth_events::*;
    pub use super::counters::*;
    pub use super::domains::*;
    pub use super::ephemeral::*;
    pub use super::groups::*;
    pub use super::identity_keys::*;
    pub use super::identity_pools::*;
    pub use super::keys::*;
    pub use super::mfa::*;
    pub use super::pools::*;
    pub use super::sp_keys::*;
    pub use super::user_filters::*;
    pub use super::users::*;
}
