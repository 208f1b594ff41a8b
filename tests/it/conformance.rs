//! The storage conformance suite: one set of checks, run unchanged against every engine
//! (dex's `storage/conformance` pattern).
//!
//! Each check is `async fn(Arc<dyn Store>)` in [`checks`]; the `conformance!` macro
//! generates `conformance::sqlite::<check>` (a fresh database file per test) and
//! `conformance::postgres::<check>` (a fresh schema per test, see `support::pg`). Negative
//! cases are paired with the corrected call succeeding, so a check cannot pass by an engine
//! refusing everything.

use std::collections::BTreeMap;
use std::sync::Arc;

use cognate::core::directory::lookup_for;
use cognate::core::ids::new_sub;
use cognate::core::model::{
    AppClient, Group, KeyPurpose, PageRequest, ResourceServer, SigningKey, User, UserPool,
};
use cognate::core::secrets::{signing_key_context, MasterKey};
use cognate::store::{Conflict, Store, StoreError, UserRef};
use serde_json::json;

/// A fixed "now" for records; expiry checks pass their own times.
const T0: i64 = 1_700_000_000;

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
    groups_and_memberships,
    keys_converge,
    keys_rotate_and_prune,
    ephemeral_single_use,
    ephemeral_expiry,
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
         WHERE table_name IN ('_sqlx_migrations', 'users', 'ephemeral')",
    )
    .fetch_all(&mut conn)
    .await
    .expect("query catalog");
    let mut names: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        ["_sqlx_migrations", "ephemeral", "users"],
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

// --- fixtures -----------------------------------------------------------------------------

/// A pool with every sign-in alias, so lookups carry email, phone and preferred_username.
/// Built from JSON so fields added later with `#[serde(default)]` need no change here.
fn pool(id: &str, case_sensitive: bool) -> UserPool {
    serde_json::from_value(json!({
        "id": id,
        "name": format!("pool {id}"),
        "username_case_sensitive": case_sensitive,
        "alias_attributes": ["email", "phone_number", "preferred_username"],
        "created_at": T0,
        "updated_at": T0,
    }))
    .expect("pool fixture")
}

fn client(id: &str, pool_id: &str, name: &str) -> AppClient {
    serde_json::from_value(json!({
        "id": id,
        "pool_id": pool_id,
        "name": name,
        "callback_urls": ["https://app.example/cb"],
        "created_at": T0,
        "updated_at": T0,
    }))
    .expect("client fixture")
}

fn group(pool_id: &str, name: &str, precedence: Option<i64>) -> Group {
    serde_json::from_value(json!({
        "pool_id": pool_id,
        "name": name,
        "precedence": precedence,
        "created_at": T0,
        "updated_at": T0,
    }))
    .expect("group fixture")
}

/// A user of `pool` with its lookup keys computed by the core, as the directory does.
fn user(pool: &UserPool, username: &str, attributes: &[(&str, &str)]) -> User {
    let attributes: BTreeMap<&str, &str> = attributes.iter().copied().collect();
    let mut user: User = serde_json::from_value(json!({
        "pool_id": pool.id,
        "sub": new_sub(),
        "username": username,
        "attributes": attributes,
        "status": "CONFIRMED",
        "enabled": true,
        "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "lookup": { "username": "" },
        "created_at": T0,
        "updated_at": T0,
    }))
    .expect("user fixture");
    user.lookup = lookup_for(pool, &user);
    user
}

fn linked(pool: &UserPool, username: &str, provider: &str, subject: &str) -> User {
    let mut u = user(pool, username, &[]);
    u.identities = vec![identity(provider, subject)];
    u
}

fn identity(provider: &str, subject: &str) -> cognate::core::model::FederatedIdentity {
    serde_json::from_value(json!({
        "provider_name": provider,
        "provider_type": "OIDC",
        "user_id": subject,
        "issuer": "https://idp.example",
        "linked_at": T0,
    }))
    .expect("identity fixture")
}

fn signing_key(pool_id: &str, kid: &str, purpose: KeyPurpose, created_at: i64) -> SigningKey {
    let (master, _) = MasterKey::generate();
    SigningKey {
        pool_id: pool_id.into(),
        kid: kid.into(),
        purpose,
        private_pkcs8: master.seal(&signing_key_context(pool_id, kid), b"not a real key"),
        n: "AQAB".into(),
        e: "AQAB".into(),
        created_at,
        retired_at: None,
    }
}

fn page(limit: u32, after: Option<String>) -> PageRequest {
    PageRequest { limit, after }
}

async fn with_pool(store: &Arc<dyn Store>, id: &str, case_sensitive: bool) -> UserPool {
    let p = pool(id, case_sensitive);
    store.put_pool(&p).await.expect("put pool");
    p
}

fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>, want: Conflict) -> bool {
    matches!(result, Err(StoreError::Conflict(c)) if *c == want)
}

mod checks {
    use super::*;

    pub async fn ping_and_meta_race(store: Arc<dyn Store>) {
        store.ping().await.expect("ping");
        assert!(matches!(store.engine(), "sqlite" | "postgres"));
        assert_eq!(store.get_meta("node-key-check").await.unwrap(), None);

        // Ten nodes race to record a value; every one of them sees the same winner.
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .put_meta_if_absent("node-key-check", &format!("value-{i}"))
                        .await
                })
            })
            .collect();
        let mut seen = Vec::new();
        for task in tasks {
            seen.push(task.await.unwrap().expect("put_meta_if_absent"));
        }
        assert!(seen.iter().all(|v| v == &seen[0]), "{seen:?}");
        assert_eq!(
            store.get_meta("node-key-check").await.unwrap(),
            Some(seen[0].clone())
        );
        // Absent keys are written.
        let other = store.put_meta_if_absent("other", "x").await.unwrap();
        assert_eq!(other, "x");
    }

    pub async fn pools_crud_and_cascade(store: Arc<dyn Store>) {
        assert_eq!(store.get_pool("us-east-1_Pool1").await.unwrap(), None);
        let mut p = with_pool(&store, "us-east-1_Pool1", false).await;
        let other = with_pool(&store, "us-east-1_Pool2", false).await;
        assert_eq!(store.get_pool(&p.id).await.unwrap(), Some(p.clone()));
        p.name = "renamed".into();
        store.put_pool(&p).await.unwrap();
        assert_eq!(
            store.get_pool(&p.id).await.unwrap().unwrap().name,
            "renamed"
        );
        let ids: Vec<String> = store
            .list_pools()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert_eq!(ids, ["us-east-1_Pool1", "us-east-1_Pool2"]);

        // Fill the pool with one of everything, then delete it.
        let c = client("client1", &p.id, "app");
        store.put_client(&c).await.unwrap();
        store
            .put_resource_server(&resource_server(&p.id, "https://api.example"))
            .await
            .unwrap();
        let u = store
            .create_user(&linked(&p, "alice", "Google", "g-1"))
            .await
            .unwrap();
        store
            .put_group(&group(&p.id, "admins", Some(1)))
            .await
            .unwrap();
        store.add_member(&p.id, "admins", &u.sub).await.unwrap();
        let k = signing_key(&p.id, "kid-1", KeyPurpose::IdToken, T0);
        store.insert_key_if_none_active(&k).await.unwrap();
        // Re-putting the pool (an upsert) must not disturb its contents.
        store.put_pool(&p).await.unwrap();
        assert_eq!(store.count_users(&p.id).await.unwrap(), 1);
        // The other pool's records survive the delete.
        let survivor = store.create_user(&user(&other, "bob", &[])).await.unwrap();

        assert!(store.delete_pool(&p.id).await.unwrap());
        assert!(!store.delete_pool(&p.id).await.unwrap());
        assert_eq!(store.get_pool(&p.id).await.unwrap(), None);
        assert_eq!(store.get_client("client1").await.unwrap(), None);
        assert!(store.list_resource_servers(&p.id).await.unwrap().is_empty());
        assert_eq!(store.count_users(&p.id).await.unwrap(), 0);
        assert!(store.list_groups(&p.id).await.unwrap().is_empty());
        assert!(store.list_keys(&p.id).await.unwrap().is_empty());

        // Recreated under the same id, the pool is empty: no orphaned rows came back.
        store.put_pool(&p).await.unwrap();
        let by_sub = UserRef::Sub(u.sub.clone());
        assert_eq!(store.get_user(&p.id, &by_sub).await.unwrap(), None);
        let fed = UserRef::Federated("Google".into(), "g-1".into());
        assert_eq!(store.get_user(&p.id, &fed).await.unwrap(), None);
        assert!(store
            .groups_of_user(&p.id, &u.sub)
            .await
            .unwrap()
            .is_empty());
        // The identity and username are free again.
        store
            .create_user(&linked(&p, "alice", "Google", "g-1"))
            .await
            .unwrap();
        let still = store
            .get_user(&other.id, &UserRef::Sub(survivor.sub.clone()))
            .await
            .unwrap();
        assert_eq!(still, Some(survivor));
    }

    pub async fn clients(store: Arc<dyn Store>) {
        let c = client("client1", "us-east-1_Pool1", "app");
        // The pool must exist first.
        let missing = store.put_client(&c).await;
        assert!(
            matches!(missing, Err(StoreError::MissingParent("user pool"))),
            "{missing:?}"
        );
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let q = with_pool(&store, "us-east-1_Pool2", false).await;
        store.put_client(&c).await.unwrap();
        assert_eq!(store.get_client("client1").await.unwrap(), Some(c.clone()));

        let mut renamed = c.clone();
        renamed.name = "renamed".into();
        store.put_client(&renamed).await.unwrap();
        assert_eq!(
            store.get_client("client1").await.unwrap(),
            Some(renamed.clone())
        );

        // Client ids are unique across pools.
        let stolen = client("client1", &q.id, "thief");
        let taken = store.put_client(&stolen).await;
        assert!(is_conflict(&taken, Conflict::Exists), "{taken:?}");
        assert_eq!(
            store.get_client("client1").await.unwrap(),
            Some(renamed.clone())
        );
        store
            .put_client(&client("client2", &q.id, "other"))
            .await
            .unwrap();

        store
            .put_client(&client("client0", &p.id, "zero"))
            .await
            .unwrap();
        let ids: Vec<String> = store
            .list_clients(&p.id)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.id)
            .collect();
        assert_eq!(ids, ["client0", "client1"]);
        assert!(store.delete_client("client1").await.unwrap());
        assert!(!store.delete_client("client1").await.unwrap());
        assert_eq!(store.get_client("client1").await.unwrap(), None);
        assert_eq!(store.list_clients(&p.id).await.unwrap().len(), 1);
        assert_eq!(store.list_clients(&q.id).await.unwrap().len(), 1);
    }

    pub async fn resource_servers(store: Arc<dyn Store>) {
        let rs = resource_server("us-east-1_Pool1", "https://api.example");
        let missing = store.put_resource_server(&rs).await;
        assert!(
            matches!(missing, Err(StoreError::MissingParent(_))),
            "{missing:?}"
        );
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        store.put_resource_server(&rs).await.unwrap();
        store
            .put_resource_server(&resource_server(&p.id, "https://a.example"))
            .await
            .unwrap();
        let mut renamed = rs.clone();
        renamed.name = "renamed".into();
        store.put_resource_server(&renamed).await.unwrap();
        let listed = store.list_resource_servers(&p.id).await.unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0].identifier, "https://a.example");
        assert_eq!(listed[1], renamed);
        assert!(store
            .delete_resource_server(&p.id, "https://a.example")
            .await
            .unwrap());
        assert!(!store
            .delete_resource_server(&p.id, "https://a.example")
            .await
            .unwrap());
        assert_eq!(
            store.list_resource_servers(&p.id).await.unwrap(),
            vec![renamed]
        );
    }

    pub async fn user_lookups(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let q = with_pool(&store, "us-east-1_Pool2", false).await;
        let mut u = user(
            &p,
            "Alice",
            &[
                ("email", "Alice@Example.COM"),
                ("email_verified", "true"),
                ("phone_number", "+15550100"),
                ("phone_number_verified", "true"),
                ("preferred_username", "Ally"),
                ("custom:team", "blue"),
            ],
        );
        u.identities = vec![identity("Google", "g-1"), identity("MyOkta", "00u1")];
        u.version = 7; // ignored: a new user is version 1
        let created = store.create_user(&u).await.unwrap();
        assert_eq!(created.version, 1);
        let mut expected = u.clone();
        expected.version = 1;
        assert_eq!(created, expected);

        let refs = [
            UserRef::Sub(u.sub.clone()),
            UserRef::Username("alice".into()),
            UserRef::Email("alice@example.com".into()),
            UserRef::PhoneNumber("+15550100".into()),
            UserRef::PreferredUsername("ally".into()),
            UserRef::Federated("Google".into(), "g-1".into()),
            UserRef::Federated("MyOkta".into(), "00u1".into()),
        ];
        for by in &refs {
            let found = store.get_user(&p.id, by).await.unwrap();
            assert_eq!(found.as_ref(), Some(&expected), "lookup by {by:?}");
            // Users are found only in their own pool.
            assert_eq!(store.get_user(&q.id, by).await.unwrap(), None, "{by:?}");
        }
        // Keys are matched exactly: the core normalizes, the store does not.
        for by in [
            UserRef::Username("Alice".into()),
            UserRef::Email("Alice@Example.COM".into()),
            UserRef::Federated("Google".into(), "g-2".into()),
            UserRef::Federated("google".into(), "g-1".into()),
            UserRef::Sub(new_sub()),
        ] {
            assert_eq!(store.get_user(&p.id, &by).await.unwrap(), None, "{by:?}");
        }
        // A user for a pool that does not exist.
        let orphan = user(&pool("us-east-1_Nope", false), "x", &[]);
        let missing = store.create_user(&orphan).await;
        assert!(
            matches!(missing, Err(StoreError::MissingParent(_))),
            "{missing:?}"
        );

        assert!(store.delete_user(&p.id, &u.sub).await.unwrap());
        assert!(!store.delete_user(&p.id, &u.sub).await.unwrap());
        for by in &refs {
            assert_eq!(store.get_user(&p.id, by).await.unwrap(), None, "{by:?}");
        }
        // Everything the deleted user held is free again.
        store.create_user(&u).await.unwrap();
    }

    pub async fn username_case_folding(store: Arc<dyn Store>) {
        let folded = with_pool(&store, "us-east-1_Fold", false).await;
        let exact = with_pool(&store, "us-east-1_Exact", true).await;

        store
            .create_user(&user(&folded, "Ärger", &[]))
            .await
            .unwrap();
        let clash = store.create_user(&user(&folded, "äRGER", &[])).await;
        assert!(is_conflict(&clash, Conflict::Username), "{clash:?}");
        store
            .create_user(&user(&folded, "Ärger2", &[]))
            .await
            .unwrap();
        let found = store
            .get_user(&folded.id, &UserRef::Username("ärger".into()))
            .await
            .unwrap()
            .expect("found by folded key");
        assert_eq!(found.username, "Ärger");
        assert_eq!(store.count_users(&folded.id).await.unwrap(), 2);

        // In a case-sensitive pool the two are different users.
        store
            .create_user(&user(&exact, "Ärger", &[]))
            .await
            .unwrap();
        store
            .create_user(&user(&exact, "äRGER", &[]))
            .await
            .unwrap();
        let again = store.create_user(&user(&exact, "Ärger", &[])).await;
        assert!(is_conflict(&again, Conflict::Username), "{again:?}");
        assert_eq!(store.count_users(&exact.id).await.unwrap(), 2);
    }

    pub async fn alias_conflicts(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let q = with_pool(&store, "us-east-1_Pool2", false).await;
        let verified = |name: &str, email: &str| {
            user(&p, name, &[("email", email), ("email_verified", "true")])
        };
        let first = store
            .create_user(&verified("one", "a@example.com"))
            .await
            .unwrap();

        let dup = store.create_user(&verified("two", "A@EXAMPLE.com")).await;
        assert!(is_conflict(&dup, Conflict::Email), "{dup:?}");
        // An unverified address is not an alias and does not collide (Cognito).
        let unverified = user(&p, "two", &[("email", "a@example.com")]);
        assert_eq!(unverified.lookup.email, None);
        store.create_user(&unverified).await.unwrap();
        // Nor does the same address in another pool.
        let elsewhere = user(
            &q,
            "one",
            &[("email", "a@example.com"), ("email_verified", "true")],
        );
        store.create_user(&elsewhere).await.unwrap();

        let phone = |name: &str| {
            user(
                &p,
                name,
                &[
                    ("phone_number", "+15550100"),
                    ("phone_number_verified", "true"),
                ],
            )
        };
        store.create_user(&phone("three")).await.unwrap();
        let dup = store.create_user(&phone("four")).await;
        assert!(is_conflict(&dup, Conflict::PhoneNumber), "{dup:?}");

        store
            .create_user(&user(&p, "five", &[("preferred_username", "Boss")]))
            .await
            .unwrap();
        let dup = store
            .create_user(&user(&p, "six", &[("preferred_username", "BOSS")]))
            .await;
        assert!(is_conflict(&dup, Conflict::PreferredUsername), "{dup:?}");
        store
            .create_user(&user(&p, "six", &[("preferred_username", "Boss2")]))
            .await
            .unwrap();

        // The same sub twice.
        let mut same_sub = user(&p, "seven", &[]);
        same_sub.sub = first.sub.clone();
        let dup = store.create_user(&same_sub).await;
        assert!(is_conflict(&dup, Conflict::Exists), "{dup:?}");

        // An update that takes another user's verified email is refused too.
        let mut two = store
            .get_user(&p.id, &UserRef::Username("two".into()))
            .await
            .unwrap()
            .unwrap();
        two.attributes
            .insert("email_verified".into(), "true".into());
        two.lookup = lookup_for(&p, &two);
        let taken = store.update_user(&two).await;
        assert!(is_conflict(&taken, Conflict::Email), "{taken:?}");
        two.attributes
            .insert("email".into(), "b@example.com".into());
        two.lookup = lookup_for(&p, &two);
        let updated = store.update_user(&two).await.unwrap();
        assert_eq!(updated.version, 2);
        let by_email = UserRef::Email("b@example.com".into());
        assert_eq!(
            store.get_user(&p.id, &by_email).await.unwrap(),
            Some(updated)
        );
        assert_eq!(store.count_users(&p.id).await.unwrap(), 5);
    }

    pub async fn federated_link_conflicts(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let a = store
            .create_user(&linked(&p, "a", "Google", "g-1"))
            .await
            .unwrap();
        let dup = store.create_user(&linked(&p, "b", "Google", "g-1")).await;
        assert!(is_conflict(&dup, Conflict::FederatedIdentity), "{dup:?}");
        // The refused create left nothing behind, not even the username.
        assert_eq!(store.count_users(&p.id).await.unwrap(), 1);
        let mut b = store
            .create_user(&linked(&p, "b", "Google", "g-2"))
            .await
            .unwrap();

        // Linking b to a's identity by update is refused, and b is unchanged.
        b.identities.push(identity("Google", "g-1"));
        let taken = store.update_user(&b).await;
        assert!(
            is_conflict(&taken, Conflict::FederatedIdentity),
            "{taken:?}"
        );
        let stored_b = store
            .get_user(&p.id, &UserRef::Sub(b.sub.clone()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored_b.version, 1);
        assert_eq!(stored_b.identities.len(), 1);
        let by_g2 = UserRef::Federated("Google".into(), "g-2".into());
        assert_eq!(
            store.get_user(&p.id, &by_g2).await.unwrap().unwrap().sub,
            b.sub
        );

        // Once a unlinks, b may link; the links follow the record.
        let mut a2 = a.clone();
        a2.identities.clear();
        store.update_user(&a2).await.unwrap();
        let b2 = store.update_user(&b).await.unwrap();
        assert_eq!(b2.version, 2);
        let by_g1 = UserRef::Federated("Google".into(), "g-1".into());
        assert_eq!(
            store.get_user(&p.id, &by_g1).await.unwrap().unwrap().sub,
            b.sub
        );
        assert_eq!(
            store.get_user(&p.id, &by_g2).await.unwrap().unwrap().sub,
            b.sub
        );
        // Dropping a link from b frees it.
        let mut b3 = b2.clone();
        b3.identities.retain(|i| i.user_id == "g-1");
        store.update_user(&b3).await.unwrap();
        assert_eq!(store.get_user(&p.id, &by_g2).await.unwrap(), None);
        // The same upstream subject at another provider is another identity.
        store
            .create_user(&linked(&p, "c", "Facebook", "g-1"))
            .await
            .unwrap();
    }

    pub async fn stale_version_is_refused(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let v1 = store
            .create_user(&user(&p, "alice", &[("custom:n", "1")]))
            .await
            .unwrap();
        let mut first = v1.clone();
        first.attributes.insert("custom:n".into(), "2".into());
        let v2 = store.update_user(&first).await.unwrap();
        assert_eq!(v2.version, 2);

        // A writer still holding version 1 loses, and changes nothing.
        let mut stale = v1.clone();
        stale.attributes.insert("custom:n".into(), "stale".into());
        let lost = store.update_user(&stale).await;
        assert!(matches!(lost, Err(StoreError::VersionMismatch)), "{lost:?}");
        let by_sub = UserRef::Sub(v1.sub.clone());
        assert_eq!(
            store.get_user(&p.id, &by_sub).await.unwrap(),
            Some(v2.clone())
        );

        // Re-read, re-apply, succeed.
        let mut fresh = store.get_user(&p.id, &by_sub).await.unwrap().unwrap();
        fresh.attributes.insert("custom:n".into(), "3".into());
        let v3 = store.update_user(&fresh).await.unwrap();
        assert_eq!(v3.version, 3);
        assert_eq!(store.get_user(&p.id, &by_sub).await.unwrap(), Some(v3));

        let ghost = user(&p, "ghost", &[]);
        let missing = store.update_user(&ghost).await;
        assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    }

    pub async fn concurrent_updates_lose_nothing(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let u = store
            .create_user(&user(&p, "counter", &[("custom:n", "0")]))
            .await
            .unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (store, pool_id, sub) = (store.clone(), p.id.clone(), u.sub.clone());
                tokio::spawn(async move {
                    for _ in 0..1000 {
                        let mut u = store
                            .get_user(&pool_id, &UserRef::Sub(sub.clone()))
                            .await
                            .unwrap()
                            .unwrap();
                        let n: u32 = u.attribute("custom:n").unwrap().parse().unwrap();
                        u.attributes.insert("custom:n".into(), (n + 1).to_string());
                        match store.update_user(&u).await {
                            Ok(_) => return,
                            Err(StoreError::VersionMismatch) => tokio::task::yield_now().await,
                            Err(e) => panic!("update failed: {e}"),
                        }
                    }
                    panic!("no progress after 1000 attempts");
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        let done = store
            .get_user(&p.id, &UserRef::Sub(u.sub))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(done.attribute("custom:n"), Some("20"));
        assert_eq!(done.version, 21);
    }

    pub async fn concurrent_creates_one_winner(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = store.clone();
                // Different spellings of one folded username, each with its own sub.
                let u = user(&p, if i % 2 == 0 { "Racer" } else { "rAcEr" }, &[]);
                tokio::spawn(async move { store.create_user(&u).await })
            })
            .collect();
        let (mut won, mut lost) = (0, 0);
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => won += 1,
                Err(StoreError::Conflict(Conflict::Username)) => lost += 1,
                Err(e) => panic!("unexpected error: {e}"),
            }
        }
        assert_eq!((won, lost), (1, 19));
        assert_eq!(store.count_users(&p.id).await.unwrap(), 1);
    }

    pub async fn pagination_and_count(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let q = with_pool(&store, "us-east-1_Pool2", false).await;
        let mut subs = std::collections::BTreeSet::new();
        for i in 0..130 {
            let u = store
                .create_user(&user(&p, &format!("user{i:03}"), &[]))
                .await
                .unwrap();
            subs.insert(u.sub);
        }
        store
            .create_user(&user(&q, "elsewhere", &[]))
            .await
            .unwrap();
        assert_eq!(store.count_users(&p.id).await.unwrap(), 130);
        assert_eq!(store.count_users(&q.id).await.unwrap(), 1);
        assert_eq!(store.count_users("us-east-1_None").await.unwrap(), 0);

        let mut seen = Vec::new();
        let mut sizes = Vec::new();
        let mut after = None;
        loop {
            let got = store.list_users(&p.id, &page(50, after)).await.unwrap();
            sizes.push(got.items.len());
            seen.extend(got.items.into_iter().map(|u| u.sub));
            match got.next {
                Some(token) => after = Some(token),
                None => break,
            }
            assert!(sizes.len() < 10, "paging does not end");
        }
        assert_eq!(sizes, [50, 50, 30]);
        let sorted: Vec<String> = subs.iter().cloned().collect();
        assert_eq!(seen, sorted, "every user once, in a stable order");

        // Exactly one full page: no dangling token.
        let all = store.list_users(&q.id, &page(1, None)).await.unwrap();
        assert_eq!((all.items.len(), all.next), (1, None));
        // Limit 0 means the default page size (60).
        let first = store.list_users(&p.id, &page(0, None)).await.unwrap();
        assert_eq!(first.items.len(), 60);
        assert!(first.next.is_some());
    }

    pub async fn import_skips_collisions(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let verified = |name: &str, email: &str| {
            user(&p, name, &[("email", email), ("email_verified", "true")])
        };
        let existing = store
            .create_user(&verified("taken", "taken@example.com"))
            .await
            .unwrap();
        store
            .create_user(&linked(&p, "linked", "Google", "g-1"))
            .await
            .unwrap();

        let fresh: Vec<User> = (0..5)
            .map(|i| verified(&format!("new{i}"), &format!("new{i}@example.com")))
            .collect();
        let same_username = user(&p, "TAKEN", &[]);
        let same_email = verified("other", "taken@example.com");
        let mut same_sub = user(&p, "dupsub", &[]);
        same_sub.sub = existing.sub.clone();
        let same_identity = linked(&p, "thief", "Google", "g-1");
        let new_link = linked(&p, "newlink", "Google", "g-2");
        let in_batch_dup = verified("new0-again", "new0@example.com");

        let mut batch = fresh.clone();
        batch.extend([
            same_username.clone(),
            same_email.clone(),
            same_sub.clone(),
            same_identity.clone(),
            new_link.clone(),
            in_batch_dup.clone(),
        ]);
        let outcome = store.import_users(&batch).await.unwrap();
        assert_eq!(outcome.inserted, 6);
        let mut skipped = outcome.skipped.clone();
        skipped.sort();
        let mut want = vec![
            same_username.sub,
            same_email.sub,
            same_sub.sub,
            same_identity.sub.clone(),
            in_batch_dup.sub,
        ];
        want.sort();
        assert_eq!(skipped, want);
        assert_eq!(store.count_users(&p.id).await.unwrap(), 2 + 6);

        // Imported users are whole: version 1, found by every key.
        let by_email = UserRef::Email("new3@example.com".into());
        let got = store.get_user(&p.id, &by_email).await.unwrap().unwrap();
        assert_eq!(got.sub, fresh[3].sub);
        assert_eq!(got.version, 1);
        let by_link = UserRef::Federated("Google".into(), "g-2".into());
        assert_eq!(
            store.get_user(&p.id, &by_link).await.unwrap().unwrap().sub,
            new_link.sub
        );
        // The refused identity still belongs to its owner, and the thief left no row.
        let by_g1 = UserRef::Federated("Google".into(), "g-1".into());
        assert_eq!(
            store
                .get_user(&p.id, &by_g1)
                .await
                .unwrap()
                .unwrap()
                .username,
            "linked"
        );
        let thief = UserRef::Sub(same_identity.sub);
        assert_eq!(store.get_user(&p.id, &thief).await.unwrap(), None);

        // Importing the same batch again skips everything; an empty batch is fine.
        let again = store.import_users(&batch).await.unwrap();
        assert_eq!((again.inserted, again.skipped.len()), (0, batch.len()));
        let empty = store.import_users(&[]).await.unwrap();
        assert_eq!((empty.inserted, empty.skipped.len()), (0, 0));
    }

    pub async fn groups_and_memberships(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let missing = store.put_group(&group("us-east-1_Nope", "g", None)).await;
        assert!(
            matches!(missing, Err(StoreError::MissingParent(_))),
            "{missing:?}"
        );
        for (name, precedence) in [
            ("zeta", Some(5)),
            ("alpha", Some(10)),
            ("beta", None),
            ("admins", None),
            ("ops", Some(1)),
        ] {
            store
                .put_group(&group(&p.id, name, precedence))
                .await
                .unwrap();
        }
        let mut updated = group(&p.id, "alpha", Some(0));
        updated.description = Some("first now".into());
        store.put_group(&updated).await.unwrap();
        assert_eq!(
            store.get_group(&p.id, "alpha").await.unwrap(),
            Some(updated.clone())
        );
        assert_eq!(store.get_group(&p.id, "nope").await.unwrap(), None);
        let names: Vec<String> = store
            .list_groups(&p.id)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect();
        assert_eq!(names, ["admins", "alpha", "beta", "ops", "zeta"]);

        let u = store.create_user(&user(&p, "alice", &[])).await.unwrap();
        let v = store.create_user(&user(&p, "bob", &[])).await.unwrap();
        let no_group = store.add_member(&p.id, "nope", &u.sub).await;
        assert!(
            matches!(no_group, Err(StoreError::MissingParent("group"))),
            "{no_group:?}"
        );
        let no_user = store.add_member(&p.id, "ops", &new_sub()).await;
        assert!(
            matches!(no_user, Err(StoreError::MissingParent("user"))),
            "{no_user:?}"
        );
        for g in ["zeta", "alpha", "beta", "admins", "ops"] {
            store.add_member(&p.id, g, &u.sub).await.unwrap();
        }
        store.add_member(&p.id, "ops", &u.sub).await.unwrap(); // idempotent
        store.add_member(&p.id, "ops", &v.sub).await.unwrap();

        // By precedence, lowest first, groups without one last, ties by name.
        let order: Vec<String> = store
            .groups_of_user(&p.id, &u.sub)
            .await
            .unwrap()
            .into_iter()
            .map(|g| g.name)
            .collect();
        assert_eq!(order, ["alpha", "ops", "zeta", "admins", "beta"]);

        let members = store
            .members_of_group(&p.id, "ops", &page(1, None))
            .await
            .unwrap();
        assert_eq!(members.items.len(), 1);
        let rest = store
            .members_of_group(&p.id, "ops", &page(1, members.next))
            .await
            .unwrap();
        assert_eq!(rest.next, None);
        let mut both = vec![members.items[0].clone(), rest.items[0].clone()];
        both.sort();
        let mut want = vec![u.sub.clone(), v.sub.clone()];
        want.sort();
        assert_eq!(both, want);

        assert!(store.remove_member(&p.id, "zeta", &u.sub).await.unwrap());
        assert!(!store.remove_member(&p.id, "zeta", &u.sub).await.unwrap());
        assert_eq!(store.groups_of_user(&p.id, &u.sub).await.unwrap().len(), 4);

        // Deleting the user removes its memberships; deleting a group removes its members.
        assert!(store.delete_user(&p.id, &u.sub).await.unwrap());
        assert!(store
            .groups_of_user(&p.id, &u.sub)
            .await
            .unwrap()
            .is_empty());
        let ops = store
            .members_of_group(&p.id, "ops", &page(10, None))
            .await
            .unwrap();
        assert_eq!(ops.items, vec![v.sub.clone()]);
        assert!(store.delete_group(&p.id, "ops").await.unwrap());
        assert!(!store.delete_group(&p.id, "ops").await.unwrap());
        assert!(store
            .groups_of_user(&p.id, &v.sub)
            .await
            .unwrap()
            .is_empty());
        // A recreated group starts empty.
        store
            .put_group(&group(&p.id, "ops", Some(1)))
            .await
            .unwrap();
        let ops = store
            .members_of_group(&p.id, "ops", &page(10, None))
            .await
            .unwrap();
        assert!(ops.items.is_empty());
    }

    pub async fn keys_converge(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        // Eight nodes start at once, each with a key of its own.
        let tasks: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                let key = signing_key(&p.id, &format!("kid-{i}"), KeyPurpose::IdToken, T0);
                tokio::spawn(async move { store.insert_key_if_none_active(&key).await })
            })
            .collect();
        let mut kids = Vec::new();
        for task in tasks {
            kids.push(task.await.unwrap().expect("insert_key_if_none_active").kid);
        }
        assert!(kids.iter().all(|k| k == &kids[0]), "{kids:?}");
        let keys = store.list_keys(&p.id).await.unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].kid, kids[0]);
        assert_eq!(keys[0].retired_at, None);

        // The other purpose has its own active key.
        let access = signing_key(&p.id, "kid-access", KeyPurpose::AccessToken, T0);
        let got = store.insert_key_if_none_active(&access).await.unwrap();
        assert_eq!(got, access);
        assert_eq!(store.list_keys(&p.id).await.unwrap().len(), 2);
        // Keys need their pool.
        let orphan = signing_key("us-east-1_Nope", "kid-x", KeyPurpose::IdToken, T0);
        let missing = store.insert_key_if_none_active(&orphan).await;
        assert!(
            matches!(missing, Err(StoreError::MissingParent(_))),
            "{missing:?}"
        );
    }

    pub async fn keys_rotate_and_prune(store: Arc<dyn Store>) {
        let p = with_pool(&store, "us-east-1_Pool1", false).await;
        let old = signing_key(&p.id, "kid-old", KeyPurpose::IdToken, T0);
        store.insert_key_if_none_active(&old).await.unwrap();
        let access = signing_key(&p.id, "kid-access", KeyPurpose::AccessToken, T0 + 5);
        store.insert_key_if_none_active(&access).await.unwrap();

        let new = signing_key(&p.id, "kid-new", KeyPurpose::IdToken, T0 + 100);
        store.rotate_key(&new, T0 + 100).await.unwrap();
        let keys = store.list_keys(&p.id).await.unwrap();
        let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
        assert_eq!(kids, ["kid-new", "kid-access", "kid-old"], "newest first");
        assert_eq!(keys[0].retired_at, None);
        assert_eq!(keys[1].retired_at, None, "the other purpose is untouched");
        assert_eq!(keys[2].retired_at, Some(T0 + 100));
        // The rotated-in key is the active one now.
        let candidate = signing_key(&p.id, "kid-late", KeyPurpose::IdToken, T0 + 200);
        assert_eq!(
            store
                .insert_key_if_none_active(&candidate)
                .await
                .unwrap()
                .kid,
            "kid-new"
        );

        // Pruning removes only keys retired before the cutoff.
        assert_eq!(store.prune_keys(&p.id, T0 + 100).await.unwrap(), 0);
        assert_eq!(store.list_keys(&p.id).await.unwrap().len(), 3);
        assert_eq!(store.prune_keys(&p.id, T0 + 101).await.unwrap(), 1);
        let kids: Vec<String> = store
            .list_keys(&p.id)
            .await
            .unwrap()
            .into_iter()
            .map(|k| k.kid)
            .collect();
        assert_eq!(kids, ["kid-new", "kid-access"]);
        assert_eq!(
            store.prune_keys(&p.id, i64::MAX).await.unwrap(),
            0,
            "active keys stay"
        );
    }

    pub async fn ephemeral_single_use(store: Arc<dyn Store>) {
        let now = cognate::core::now();
        store
            .put_ephemeral("code", "c1", "payload", now + 300)
            .await
            .unwrap();
        let dup = store.put_ephemeral("code", "c1", "other", now + 300).await;
        assert!(is_conflict(&dup, Conflict::Exists), "{dup:?}");
        // The same id under another kind is another value.
        store
            .put_ephemeral("flow", "c1", "flow payload", now + 300)
            .await
            .unwrap();
        assert_eq!(
            store
                .get_ephemeral("code", "c1", now)
                .await
                .unwrap()
                .as_deref(),
            Some("payload")
        );
        // Reading does not consume.
        assert_eq!(
            store
                .get_ephemeral("code", "c1", now)
                .await
                .unwrap()
                .as_deref(),
            Some("payload")
        );

        // Ten nodes redeem the code at once; exactly one gets it.
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.take_ephemeral("code", "c1", now).await })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            if let Some(v) = task.await.unwrap().expect("take") {
                winners.push(v);
            }
        }
        assert_eq!(winners, ["payload"]);
        assert_eq!(store.get_ephemeral("code", "c1", now).await.unwrap(), None);
        assert_eq!(store.take_ephemeral("code", "c1", now).await.unwrap(), None);
        assert_eq!(
            store
                .take_ephemeral("flow", "c1", now)
                .await
                .unwrap()
                .as_deref(),
            Some("flow payload")
        );
        // Once taken, the id may be used again.
        store
            .put_ephemeral("code", "c1", "second", now + 300)
            .await
            .unwrap();
        assert_eq!(
            store
                .get_ephemeral("code", "c1", now)
                .await
                .unwrap()
                .as_deref(),
            Some("second")
        );
    }

    pub async fn ephemeral_expiry(store: Arc<dyn Store>) {
        let now = cognate::core::now();
        store
            .put_ephemeral("code", "live", "v", now + 60)
            .await
            .unwrap();
        // Live until expires_at, gone from then on, for get and take alike.
        assert!(store
            .get_ephemeral("code", "live", now + 59)
            .await
            .unwrap()
            .is_some());
        assert_eq!(
            store.get_ephemeral("code", "live", now + 60).await.unwrap(),
            None
        );
        assert_eq!(
            store
                .take_ephemeral("code", "live", now + 61)
                .await
                .unwrap(),
            None
        );
        assert!(
            store
                .get_ephemeral("code", "live", now)
                .await
                .unwrap()
                .is_some(),
            "a late take consumed nothing"
        );

        // An expired, unpurged row does not hold its id.
        store
            .put_ephemeral("code", "stale", "old", now - 10)
            .await
            .unwrap();
        store
            .put_ephemeral("code", "stale", "new", now + 60)
            .await
            .unwrap();
        assert_eq!(
            store
                .get_ephemeral("code", "stale", now)
                .await
                .unwrap()
                .as_deref(),
            Some("new")
        );

        store
            .put_ephemeral("code", "old1", "v", now - 5)
            .await
            .unwrap();
        store
            .put_ephemeral("flow", "old2", "v", now - 1)
            .await
            .unwrap();
        assert_eq!(store.purge_ephemeral(now).await.unwrap(), 2);
        assert_eq!(store.purge_ephemeral(now).await.unwrap(), 0);
        // Purging at a later time removes what has expired by then.
        assert_eq!(store.purge_ephemeral(now + 60).await.unwrap(), 2);
        assert_eq!(
            store.get_ephemeral("code", "live", now).await.unwrap(),
            None
        );
    }
}

fn resource_server(pool_id: &str, identifier: &str) -> ResourceServer {
    serde_json::from_value(json!({
        "pool_id": pool_id,
        "identifier": identifier,
        "name": format!("api {identifier}"),
        "scopes": [{ "name": "read", "description": "Read things" }],
    }))
    .expect("resource server fixture")
}
