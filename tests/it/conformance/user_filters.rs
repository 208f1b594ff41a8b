//! ListUsers' Filter over the `user_filters` index (issue 14): `Store::search_users` with
//! filters parsed and normalized by the core (`core::users::parse_filter`), as the API
//! handler builds them.

use std::sync::Arc;

use cognate::core::model::User;
use cognate::core::storage::UserFilter;
use cognate::core::users::parse_filter;
use cognate::store::{Store, StoreError};

use super::fixtures::{page, user, with_pool};

fn filter(text: &str) -> UserFilter {
    match parse_filter(text) {
        Ok(Some(parsed)) => parsed.filter,
        other => panic!("{text}: {other:?}"),
    }
}

/// Every user a filter finds, page after page of `limit`, with the page sizes.
async fn search_all(
    store: &Arc<dyn Store>,
    pool_id: &str,
    text: &str,
    limit: u32,
) -> (Vec<User>, Vec<usize>) {
    let f = filter(text);
    let (mut found, mut sizes, mut after) = (Vec::new(), Vec::new(), None);
    loop {
        let got = store
            .search_users(pool_id, &f, &page(limit, after))
            .await
            .expect("search");
        sizes.push(got.items.len());
        found.extend(got.items);
        match got.next {
            Some(token) => after = Some(token),
            None => break,
        }
        assert!(sizes.len() < 100, "paging does not end");
    }
    (found, sizes)
}

async fn usernames(store: &Arc<dyn Store>, pool_id: &str, text: &str) -> Vec<String> {
    let (found, _) = search_all(store, pool_id, text, 60).await;
    found.into_iter().map(|u| u.username).collect()
}

pub async fn search_exact_prefix_case_and_unicode(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let q = with_pool(&store, "us-east-1_Pool2", false).await;
    for (name, email, given) in [
        ("ann", "Ann@Example.com", "Ann"),
        ("bob", "bob@example.com", "Robert"),
        ("zoe", "zoe@other.example", "Zoë"),
        ("ann2", "anna@example.com", "ＡＮＮＡ"),
    ] {
        store
            .create_user(&user(&p, name, &[("email", email), ("given_name", given)]))
            .await
            .unwrap();
    }
    // Same values in another pool: never found from the first.
    store
        .create_user(&user(&q, "ann", &[("email", "ann@example.com")]))
        .await
        .unwrap();

    // Exact, case-insensitive.
    assert_eq!(
        usernames(&store, &p.id, r#"email = "ANN@example.COM""#).await,
        ["ann"]
    );
    assert!(usernames(&store, &p.id, r#"email = "ann@example.co""#)
        .await
        .is_empty());
    // Prefix, in the order of the value: "ann@…" < "anna@…".
    assert_eq!(
        usernames(&store, &p.id, r#"email ^= "an""#).await,
        ["ann", "ann2"]
    );
    assert_eq!(
        usernames(&store, &p.id, r#"email ^= "b""#).await,
        ["bob"],
        "a prefix bounds the range on both sides"
    );
    // Unicode: NFKC folds the full-width letters, lowercase the case.
    assert_eq!(
        usernames(&store, &p.id, r#"given_name = "anna""#).await,
        ["ann2"]
    );
    assert_eq!(
        usernames(&store, &p.id, r#"given_name ^= "ZO""#).await,
        ["zoe"]
    );
    assert_eq!(
        usernames(&store, &p.id, r#"given_name = "ZOË""#).await,
        ["zoe"]
    );
    assert!(usernames(&store, &p.id, r#"given_name = "zoe""#)
        .await
        .is_empty());
    // Username, status, user status and sub are searchable too.
    assert_eq!(
        usernames(&store, &p.id, r#"username = "BOB""#).await,
        ["bob"]
    );
    assert_eq!(
        usernames(&store, &p.id, r#"status = "Enabled""#)
            .await
            .len(),
        4
    );
    assert!(usernames(&store, &p.id, r#"status = "Disabled""#)
        .await
        .is_empty());
    assert_eq!(
        usernames(&store, &p.id, r#"cognito:user_status = "CONFIRMED""#)
            .await
            .len(),
        4
    );
    let bob = store
        .get_user(&p.id, &cognate::store::UserRef::Username("bob".into()))
        .await
        .unwrap()
        .unwrap();
    let by_sub = format!(r#"sub = "{}""#, bob.sub);
    assert_eq!(usernames(&store, &p.id, &by_sub).await, ["bob"]);
    assert!(usernames(&store, &q.id, &by_sub).await.is_empty());
    // The other pool sees its own user only.
    assert_eq!(usernames(&store, &q.id, r#"email ^= "an""#).await, ["ann"]);
    // An unknown pool finds nothing.
    assert!(usernames(&store, "us-east-1_None", r#"email ^= "a""#)
        .await
        .is_empty());
}

pub async fn search_pages_in_value_then_sub_order(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    // 25 users share one family name (ordered by sub among themselves), 20 have their
    // own, and 5 a name outside the prefix.
    for i in 0..25 {
        let u = user(&p, &format!("same{i:02}"), &[("family_name", "Smith")]);
        store.create_user(&u).await.unwrap();
    }
    for i in 0..20 {
        let name = format!("Smith-{:02}", 19 - i);
        let u = user(&p, &format!("own{i:02}"), &[("family_name", &name)]);
        store.create_user(&u).await.unwrap();
    }
    for i in 0..5 {
        let u = user(&p, &format!("other{i}"), &[("family_name", "Smithy")]);
        store.create_user(&u).await.unwrap();
    }
    let (found, sizes) = search_all(&store, &p.id, r#"family_name ^= "smith""#, 7).await;
    assert_eq!(found.len(), 50, "every user once");
    assert_eq!(sizes, [7, 7, 7, 7, 7, 7, 7, 1]);
    let keys: Vec<(String, String)> = found
        .iter()
        .map(|u| (u.attributes["family_name"].to_lowercase(), u.sub.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "ordered by value, then sub");
    let unique: std::collections::BTreeSet<_> = found.iter().map(|u| &u.sub).collect();
    assert_eq!(unique.len(), 50);

    // Exact matches page too, across users with the same value.
    let (same, sizes) = search_all(&store, &p.id, r#"family_name = "SMITH""#, 10).await;
    assert_eq!(sizes, [10, 10, 5]);
    let subs: Vec<&String> = same.iter().map(|u| &u.sub).collect();
    let mut sorted = subs.clone();
    sorted.sort();
    assert_eq!(subs, sorted);
    // Exactly one full page: no dangling token.
    let (_, sizes) = search_all(&store, &p.id, r#"family_name ^= "smithy""#, 5).await;
    assert_eq!(sizes, [5]);

    // A token that is not one the store wrote is refused, not read as a position; the
    // honest token of the same search works.
    let f = filter(r#"family_name ^= "smith""#);
    for bad in ["not base64 !", "bm90IGpzb24", "WzEsMl0"] {
        let got = store
            .search_users(&p.id, &f, &page(5, Some(bad.into())))
            .await;
        assert!(matches!(got, Err(StoreError::NotFound)), "{bad}: {got:?}");
    }
    let first = store.search_users(&p.id, &f, &page(5, None)).await.unwrap();
    let second = store
        .search_users(&p.id, &f, &page(5, first.next.clone()))
        .await
        .unwrap();
    assert_eq!(second.items.len(), 5);
    assert!(first
        .items
        .iter()
        .all(|a| second.items.iter().all(|b| a.sub != b.sub)));
    // A token of another search cannot widen this one: the token of `^= "a"`-ordered
    // values before "smith" starts this search at its own range.
    let before = cognate::core::model::PageRequest::token_after("[\"a\",\"\"]");
    let got = store
        .search_users(&p.id, &f, &page(60, Some(before)))
        .await
        .unwrap();
    assert_eq!(got.items.len(), 50);
}

pub async fn search_follows_writes_and_deletes(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let u = store
        .create_user(&user(&p, "mover", &[("email", "old@example.com")]))
        .await
        .unwrap();
    let stay = store
        .create_user(&user(&p, "stayer", &[("email", "old2@example.com")]))
        .await
        .unwrap();
    // "old2@…" sorts before "old@…" ('2' < '@').
    assert_eq!(
        usernames(&store, &p.id, r#"email ^= "old""#).await,
        ["stayer", "mover"]
    );

    // The email changes: the user moves in the index in the same write.
    let mut moved = u.clone();
    moved
        .attributes
        .insert("email".into(), "new@example.com".into());
    moved.enabled = false;
    let moved = store.update_user(&moved).await.unwrap();
    assert_eq!(
        usernames(&store, &p.id, r#"email ^= "old""#).await,
        ["stayer"]
    );
    assert_eq!(
        usernames(&store, &p.id, r#"email = "new@example.com""#).await,
        ["mover"]
    );
    assert_eq!(
        usernames(&store, &p.id, r#"status = "disabled""#).await,
        ["mover"]
    );
    // An update refused (stale version) changes nothing in the index.
    let mut stale = u.clone();
    stale
        .attributes
        .insert("email".into(), "stale@example.com".into());
    assert!(store.update_user(&stale).await.is_err());
    assert!(usernames(&store, &p.id, r#"email ^= "stale""#)
        .await
        .is_empty());
    assert_eq!(
        usernames(&store, &p.id, r#"email ^= "new""#).await,
        ["mover"]
    );

    // An attribute removed: the user is no longer found by it.
    let mut cleared = moved.clone();
    cleared.attributes.remove("email");
    store.update_user(&cleared).await.unwrap();
    assert!(usernames(&store, &p.id, r#"email ^= "new""#)
        .await
        .is_empty());
    assert_eq!(
        usernames(&store, &p.id, r#"username = "mover""#).await,
        ["mover"]
    );

    // Deleted users vanish.
    assert!(store.delete_user(&p.id, &stay.sub).await.unwrap());
    assert!(usernames(&store, &p.id, r#"email ^= "old""#)
        .await
        .is_empty());

    // Imported users are searchable; a skipped one leaves no key behind.
    let batch = [
        user(&p, "imported", &[("email", "imp@example.com")]),
        user(&p, "MOVER", &[("email", "dup@example.com")]),
    ];
    let outcome = store.import_users(&batch).await.unwrap();
    assert_eq!(outcome.inserted, 1);
    assert_eq!(
        usernames(&store, &p.id, r#"email ^= "imp""#).await,
        ["imported"]
    );
    assert!(usernames(&store, &p.id, r#"email = "dup@example.com""#)
        .await
        .is_empty());
    // Deleting the pool takes its users' keys with them.
    store.delete_pool(&p.id).await.unwrap();
    assert!(usernames(&store, &p.id, r#"username ^= "m""#)
        .await
        .is_empty());
}

pub async fn search_wildcards_and_edges_are_literal(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    for (name, given) in [
        ("pct", "50%off"),
        ("pctx", "50xoff"),
        ("under", "a_b"),
        ("underx", "axb"),
        ("max", "z\u{10FFFF}"),
        ("maxmax", "z\u{10FFFF}\u{10FFFF}y"),
        ("zed", "z"),
        ("after", "{"),
        ("top", "\u{10FFFF}a"),
    ] {
        let u = user(&p, name, &[("given_name", given)]);
        store.create_user(&u).await.unwrap();
    }
    // `%` and `_` are plain characters, never LIKE wildcards.
    assert_eq!(
        usernames(&store, &p.id, r#"given_name ^= "50%""#).await,
        ["pct"]
    );
    assert_eq!(
        usernames(&store, &p.id, r#"given_name = "a_b""#).await,
        ["under"]
    );
    assert_eq!(
        usernames(&store, &p.id, r#"given_name ^= "a_""#).await,
        ["under"]
    );
    // A prefix ending in the largest character: the range has no upper bound of the
    // usual form, yet stays within the prefix.
    assert_eq!(
        usernames(&store, &p.id, "given_name ^= \"z\u{10FFFF}\"").await,
        ["max", "maxmax"]
    );
    assert_eq!(
        usernames(&store, &p.id, "given_name ^= \"z\u{10FFFF}\u{10FFFF}\"").await,
        ["maxmax"]
    );
    assert_eq!(
        usernames(&store, &p.id, r#"given_name ^= "z""#).await,
        ["zed", "max", "maxmax"]
    );
    // A prefix of only the largest character has no upper bound at all.
    assert_eq!(
        usernames(&store, &p.id, "given_name ^= \"\u{10FFFF}\"").await,
        ["top"]
    );
}

// --- migration 0010 on existing users ----------------------------------------------------

/// Migrations 0001 to 0009: a database as it was before the filter index.
fn migrations_before_filters(engine: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(engine);
    for entry in std::fs::read_dir(&source).expect("migrations") {
        let name = entry.expect("entry").file_name();
        let name = name.to_string_lossy();
        if name.as_ref() < "0010" {
            std::fs::copy(source.join(name.as_ref()), dir.path().join(name.as_ref()))
                .expect("copy migration");
        }
    }
    dir
}

const OLD_POOL: &str = "INSERT INTO pools (id, doc) VALUES ($1, $2)";
const OLD_USER: &str = "INSERT INTO users (pool_id, sub, username_key, email_key, phone_key, \
     preferred_username_key, verified_email_key, version, created_at, doc) \
     VALUES ($1, $2, $3, NULL, NULL, NULL, NULL, 1, $4, $5)";

/// Users written before migration 0010: ASCII ones (backfilled), a disabled one, one with
/// a non-ASCII name (keyed at its next write), and one whose document is not JSON (the
/// migration must not fail on it).
fn old_users() -> (cognate::core::model::UserPool, Vec<(User, String)>) {
    let p = super::fixtures::pool("us-east-1_Pool1", false);
    let mut ann = user(
        &p,
        "Ann",
        &[
            ("email", "Ann@Example.com"),
            ("given_name", "Ann"),
            ("phone_number", "+15550100"),
        ],
    );
    ann.version = 1;
    let mut bob = user(&p, "bob", &[("family_name", "Smith")]);
    bob.enabled = false;
    bob.version = 1;
    let mut zoe = user(&p, "zoe", &[("given_name", "Zoë")]);
    zoe.status = cognate::core::model::UserStatus::Unconfirmed;
    zoe.version = 1;
    let broken = user(&p, "broken", &[]);
    let docs = vec![
        (ann.clone(), serde_json::to_string(&ann).unwrap()),
        (bob.clone(), serde_json::to_string(&bob).unwrap()),
        (zoe.clone(), serde_json::to_string(&zoe).unwrap()),
        (broken, "not json".to_string()),
    ];
    (p, docs)
}

macro_rules! insert_old {
    ($conn:expr, $p:expr, $users:expr) => {{
        sqlx::query(OLD_POOL)
            .bind($p.id.clone())
            .bind(serde_json::to_string(&$p).unwrap())
            .execute(&mut $conn)
            .await
            .unwrap();
        for (u, doc) in $users {
            sqlx::query(OLD_USER)
                .bind(u.pool_id.clone())
                .bind(u.sub.clone())
                .bind(u.lookup.username.clone())
                .bind(u.created_at)
                .bind(doc.clone())
                .execute(&mut $conn)
                .await
                .unwrap();
        }
    }};
}

/// What a migrated store finds: the ASCII values at once, the non-ASCII one after the
/// user's next write.
async fn backfilled_users_are_found(store: Arc<dyn Store>, p: &str, users: &[(User, String)]) {
    assert_eq!(
        usernames(&store, p, r#"email = "ann@example.com""#).await,
        ["Ann"]
    );
    assert_eq!(usernames(&store, p, r#"username ^= "AN""#).await, ["Ann"]);
    assert_eq!(usernames(&store, p, r#"given_name = "ANN""#).await, ["Ann"]);
    assert_eq!(
        usernames(&store, p, r#"phone_number ^= "+1555""#).await,
        ["Ann"]
    );
    assert_eq!(
        usernames(&store, p, r#"family_name = "smith""#).await,
        ["bob"]
    );
    assert_eq!(
        usernames(&store, p, r#"status = "Disabled""#).await,
        ["bob"]
    );
    // Same value: in sub order, which is random here.
    let mut enabled = usernames(&store, p, r#"status = "Enabled""#).await;
    enabled.sort();
    assert_eq!(enabled, ["Ann", "zoe"]);
    assert_eq!(
        usernames(&store, p, r#"cognito:user_status = "unconfirmed""#).await,
        ["zoe"]
    );
    let by_sub = format!(r#"sub = "{}""#, users[0].0.sub);
    assert_eq!(usernames(&store, p, &by_sub).await, ["Ann"]);
    // The non-ASCII name waits for the user's next write; the rest of it is found.
    assert!(usernames(&store, p, r#"given_name = "zoë""#)
        .await
        .is_empty());
    assert_eq!(usernames(&store, p, r#"username = "zoe""#).await, ["zoe"]);
    let zoe = users[2].0.clone();
    store.update_user(&zoe).await.unwrap();
    assert_eq!(usernames(&store, p, r#"given_name = "ZOË""#).await, ["zoe"]);
}

#[tokio::test]
async fn sqlite_filter_migration_backfills_existing_users() {
    use sqlx::ConnectOptions;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cognate.db");
    let old = migrations_before_filters("sqlite");
    let mut raw = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .foreign_keys(true)
        .connect()
        .await
        .unwrap();
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&mut raw)
        .await
        .unwrap();
    let (p, users) = old_users();
    insert_old!(raw, p, &users);
    drop(raw);
    let store = cognate::store::sqlite::SqliteStore::open(&path)
        .await
        .expect("the migration runs on existing data");
    backfilled_users_are_found(Arc::new(store), &p.id, &users).await;
}

/// The same on PostgreSQL, on a hardened database (no TEMPORARY privilege, no superuser).
#[tokio::test]
async fn postgres_filter_migration_backfills_existing_users() {
    use sqlx::Connection;
    let Some(db) = super::hardened::Hardened::create().await else {
        return;
    };
    let old = migrations_before_filters("postgres");
    let mut raw = sqlx::PgConnection::connect(&db.url).await.unwrap();
    sqlx::migrate::Migrator::new(old.path())
        .await
        .unwrap()
        .run(&mut raw)
        .await
        .unwrap();
    let (p, users) = old_users();
    insert_old!(raw, p, &users);
    let _ = raw.close().await;
    let store = cognate::store::postgres::PgStore::connect(&db.url)
        .await
        .expect("the migration runs on existing data");
    backfilled_users_are_found(Arc::new(store), &p.id, &users).await;
    db.cleanup().await;
}
