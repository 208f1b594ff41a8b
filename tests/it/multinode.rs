//! Several `cognate` processes on one PostgreSQL database: they start at the same moment
//! and converge on one demo pool and one key set; a node without the master key, or with
//! the wrong one, refuses to start.

use serde_json::Value;

use cognate::core::secrets::MasterKey;

use crate::support::http;
use crate::support::pg::fresh_pg_url;
use crate::support::process::CognateProcess;

async fn get_json(url: String) -> Value {
    http().get(url).send().await.unwrap().json().await.unwrap()
}

fn pool_from_banner(p: &CognateProcess) -> String {
    p.banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("demo pool "))
        .and_then(|r| r.split_whitespace().next())
        .expect("demo pool in banner")
        .to_string()
}

#[tokio::test]
async fn two_nodes_on_postgres_converge_on_one_pool_and_key_set() {
    let Some(db) = fresh_pg_url("multinode").await else {
        return;
    };
    let (_, key) = MasterKey::generate();
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let env = [
        ("COGNATE_DATABASE_URL", db.url.as_str()),
        ("COGNATE_MASTER_KEY", key.as_str()),
    ];
    // Both start at once: first-start work (schema, demo pool, keys) races.
    let (a, b) = tokio::join!(
        CognateProcess::start(dir_a.path(), &[], &env),
        CognateProcess::start(dir_b.path(), &[], &env)
    );
    let pool = pool_from_banner(&a);
    assert_eq!(pool_from_banner(&b), pool, "one demo pool for both nodes");

    let ready = get_json(format!("{}/health/ready", a.base)).await;
    assert_eq!(ready["database"], "postgres");
    let jwks_a = get_json(format!("{}/{pool}/.well-known/jwks.json", a.base)).await;
    let jwks_b = get_json(format!("{}/{pool}/.well-known/jwks.json", b.base)).await;
    assert_eq!(jwks_a["keys"].as_array().unwrap().len(), 2, "{jwks_a}");
    assert_eq!(jwks_a, jwks_b, "both nodes publish the same keys");
    // No SQLite file was made: the nodes keep nothing of their own.
    assert!(!dir_a
        .path()
        .join("cognate-data")
        .join("cognate.db")
        .exists());

    // A node without the master key refuses to start, and says what to do.
    let dir_c = tempfile::tempdir().unwrap();
    let err = CognateProcess::try_start(
        dir_c.path(),
        &[],
        &[("COGNATE_DATABASE_URL", db.url.as_str())],
    )
    .await
    .err()
    .expect("must refuse to start without a master key");
    assert!(err.contains("COGNATE_MASTER_KEY"), "{err}");

    // A node with another master key refuses too: it could not open the stored secrets.
    let (_, other) = MasterKey::generate();
    let err = CognateProcess::try_start(
        dir_c.path(),
        &[],
        &[
            ("COGNATE_DATABASE_URL", db.url.as_str()),
            ("COGNATE_MASTER_KEY", other.as_str()),
        ],
    )
    .await
    .err()
    .expect("must refuse a wrong master key");
    assert!(err.contains("master key does not match"), "{err}");

    assert!(a.terminate().await.success());
    assert!(b.terminate().await.success());
    db.cleanup().await;
}
