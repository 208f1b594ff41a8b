//! The PostgreSQL migrations on a hardened database (issue 8): managed and hardened
//! services revoke the TEMPORARY privilege from PUBLIC and give the application a role
//! that is no superuser, so no migration may create a function, even in `pg_temp`. And a
//! database that applied migration 4 in its earlier text (which did create one) is still
//! accepted, with the same keys as the rewrite computes.

use cognate::store::Store;
use sqlx::Connection;

use crate::support::pg::{fresh_pg_url, DATABASE_URL_VAR};

/// A database of its own, set up as a hardened service sets one up: TEMPORARY revoked from
/// PUBLIC, and Cognate connecting as a login role that is no superuser and owns only the
/// schema it works in. Dropped, with the role, by [`Hardened::cleanup`].
pub struct Hardened {
    /// The role's URL into its schema.
    pub url: String,
    admin_url: String,
    name: String,
    dropped: bool,
}

impl Hardened {
    /// `None` when no test database is configured (as [`fresh_pg_url`] decides).
    pub async fn create() -> Option<Hardened> {
        // The loud notice, or the failure under CI, when no database is configured.
        fresh_pg_url("hardened").await?.cleanup().await;
        let admin_url = std::env::var(DATABASE_URL_VAR).ok()?;
        let name = format!("cognate_hardened_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
        for statement in [
            format!("CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"),
            format!("CREATE DATABASE {name}"),
            format!("REVOKE TEMPORARY ON DATABASE {name} FROM PUBLIC"),
        ] {
            sqlx::query(&statement).execute(&mut admin).await.unwrap();
        }
        let _ = admin.close().await;
        let mut db_url = url::Url::parse(&admin_url).unwrap();
        db_url.set_path(&format!("/{name}"));
        let mut inside = sqlx::PgConnection::connect(db_url.as_str()).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA cognate AUTHORIZATION {name}"))
            .execute(&mut inside)
            .await
            .unwrap();
        let _ = inside.close().await;
        let mut url = db_url;
        url.set_username(&name).unwrap();
        url.set_password(None).unwrap();
        url.set_query(Some("options=-c%20search_path%3Dcognate"));
        Some(Hardened {
            url: url.to_string(),
            admin_url,
            name,
            dropped: false,
        })
    }

    pub async fn cleanup(mut self) {
        self.dropped = true;
        drop_database_and_role(&self.admin_url, &self.name).await;
    }
}

impl Drop for Hardened {
    /// A failed test drops the database too, from a thread with a runtime of its own (as
    /// `support::pg` does for schemas).
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(drop_database_and_role(&admin_url, &name));
            }
        });
        let _ = handle.join();
    }
}

async fn drop_database_and_role(admin_url: &str, name: &str) {
    let Ok(mut admin) = sqlx::PgConnection::connect(admin_url).await else {
        eprintln!("warning: could not drop the test database {name}");
        return;
    };
    for statement in [
        format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        format!("DROP ROLE IF EXISTS {name}"),
    ] {
        if let Err(e) = sqlx::query(&statement).execute(&mut admin).await {
            eprintln!("warning: {statement}: {e}");
        }
    }
    let _ = admin.close().await;
}

/// The database really is hardened: the role cannot create a function in `pg_temp`, as
/// migrations 4 and 5 once did; every migration runs there all the same.
#[tokio::test]
async fn every_migration_runs_without_the_temporary_privilege() {
    let Some(db) = Hardened::create().await else {
        return;
    };
    let mut raw = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let refused =
        sqlx::query("CREATE FUNCTION pg_temp.probe() RETURNS INT LANGUAGE sql AS 'SELECT 1'")
            .execute(&mut raw)
            .await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.to_string().contains("permission denied")),
        "{refused:?}"
    );
    let _ = raw.close().await;
    let store = cognate::store::postgres::PgStore::connect(&db.url).await;
    let store = store.expect("the migrations run without TEMPORARY");
    let p = super::pool("us-east-1_Pool1", false);
    store.put_pool(&p).await.unwrap();
    store
        .create_user(&super::user(&p, "alice", &[]))
        .await
        .expect("a user is written");
    db.cleanup().await;
}

/// Migration 4 as earlier releases applied it (it created a function in `pg_temp`).
const RELEASED_0004: &str = include_str!("released/pg_0004_verified_email.sql");

/// Inserts `u` as a row before migration 4 (no `verified_email_key` column yet).
async fn insert_before_0004(raw: &mut sqlx::PgConnection, u: &cognate::core::model::User) {
    sqlx::query(
        "INSERT INTO users (pool_id, sub, username_key, email_key, phone_key, \
         preferred_username_key, version, created_at, doc) \
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)",
    )
    .bind(&u.pool_id)
    .bind(&u.sub)
    .bind(&u.lookup.username)
    .bind(&u.lookup.email)
    .bind(&u.lookup.phone_number)
    .bind(&u.lookup.preferred_username)
    .bind(u.created_at)
    .bind(serde_json::to_string(u).unwrap())
    .execute(raw)
    .await
    .unwrap();
}

/// Migration 4, in its earlier text or its rewrite, over the same users, then the store;
/// the keys migration 4 computed, by sub.
async fn keys_after_0004(released: bool) -> Option<Vec<(String, Option<String>)>> {
    let db = fresh_pg_url("rewritten_0004").await?;
    let dir = super::migrations_before_login_keys("postgres");
    let mut raw = sqlx::PgConnection::connect(&db.url).await.unwrap();
    let path = dir.path().join("0004_verified_email.sql");
    let held = dir.path().join("held");
    std::fs::rename(&path, &held).unwrap();
    let first = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    first.run(&mut raw).await.unwrap();
    let (p, mut legacy) = super::legacy_users();
    // An address with upper case, verified, and one not verified.
    legacy.push(super::user(
        &p,
        "una",
        &[("email", "Una@Example.COM"), ("email_verified", "true")],
    ));
    legacy.push(super::user(&p, "ned", &[("email", "ned@example.com")]));
    sqlx::query(super::LEGACY_POOL)
        .bind(p.id.clone())
        .bind(serde_json::to_string(&p).unwrap())
        .execute(&mut raw)
        .await
        .unwrap();
    for u in &legacy {
        insert_before_0004(&mut raw, u).await;
    }
    if released {
        std::fs::write(&path, RELEASED_0004).unwrap();
        std::fs::remove_file(&held).unwrap();
    } else {
        std::fs::rename(&held, &path).unwrap();
    }
    let up_to_4 = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    up_to_4.run(&mut raw).await.unwrap();
    let keys: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT sub, verified_email_key FROM users ORDER BY created_at, sub")
            .fetch_all(&mut raw)
            .await
            .unwrap();
    let _ = raw.close().await;
    // The store takes the database over, whichever text migration 4 was, and runs on.
    let store = cognate::store::postgres::PgStore::connect(&db.url).await;
    let store = store.expect("a database migrated by either text is accepted");
    let again = cognate::store::postgres::PgStore::connect(&db.url).await;
    again.expect("and again");
    let una = store
        .users_by_verified_email(&p.id, "una@example.com", 2)
        .await
        .unwrap();
    assert_eq!(una.len(), 1, "{una:?}");
    drop(store);
    // Keyed by sub, ordered by creation: the same order on both runs.
    let subs: Vec<String> = legacy.iter().map(|u| u.sub.clone()).collect();
    db.cleanup().await;
    Some(
        keys.into_iter()
            .map(|(sub, key)| {
                let at = subs.iter().position(|s| *s == sub).unwrap();
                (format!("user {at}"), key)
            })
            .collect(),
    )
}

/// The rewrite computes exactly the keys the function did, and a database migrated by the
/// earlier text is still accepted (its recorded checksum is the earlier text's).
#[tokio::test]
async fn rewritten_migration_4_reads_what_the_function_read() {
    let Some(mut released) = keys_after_0004(true).await else {
        return;
    };
    let mut rewritten = keys_after_0004(false).await.unwrap();
    released.sort();
    rewritten.sort();
    assert_eq!(released, rewritten);
    let keyed: Vec<_> = rewritten.iter().filter_map(|(_, k)| k.as_deref()).collect();
    assert!(keyed.contains(&"una@example.com"), "{keyed:?}");
    assert!(keyed.contains(&"alice@example.com"), "{keyed:?}");
    assert!(keyed.contains(&"fed2@example.com"), "{keyed:?}");
    assert!(keyed.contains(&"lou@example.com"), "{keyed:?}");
    assert!(!keyed.contains(&"ned@example.com"), "{keyed:?}");
}
