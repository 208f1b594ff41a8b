//! A crash (kill -9) in the middle of writing leaves the database consistent: every batch
//! of an import is all there or not at all, every stored record reads back, SQLite's
//! integrity check passes, and running the import again completes it.

use std::io::Write;
use std::time::Duration;

use cognate::config::Config;
use cognate::core::model::PageRequest;
use cognate::server::Node;

use crate::support::process::{binary, run};

const USERS: usize = 20_000;
const BATCH: usize = 250;

fn import_file(path: &std::path::Path) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    // One real Argon2id hash shared by all lines: import stores hashes as they are.
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$1g2HXz0aW2wQk3W8v0oPwW5m8x4oGZ3sXvPRQn8m2dE";
    for i in 0..USERS {
        writeln!(
            f,
            r#"{{"username":"crash-{i:06}","sub":"{}","status":"CONFIRMED","enabled":true,"attributes":{{"email":"crash-{i:06}@example.com","email_verified":"true","custom:n":"{i}"}},"password_hash":"{hash}","groups":[],"identities":[]}}"#,
            uuid::Uuid::new_v4()
        )
        .unwrap();
    }
}

#[tokio::test]
async fn kill_9_during_an_import_leaves_whole_batches_and_a_sound_database() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let (code, out, err) = run(
        dir.path(),
        &[
            "--data-dir",
            data_s,
            "pools",
            "create",
            "--name",
            "crash",
            "--custom-attribute",
            "n:Number",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let pool_id = out
        .split_whitespace()
        .find(|w| w.contains('_') && cognate::core::ids::is_valid_pool_id(w))
        .unwrap_or_else(|| panic!("pool id in {out:?}"))
        .to_string();
    let file = dir.path().join("users.jsonl");
    import_file(&file);
    let file_s = file.to_str().unwrap();
    let batch = BATCH.to_string();

    // Start the import and kill it hard once some batches are in.
    let mut child = tokio::process::Command::new(binary())
        .args([
            "--data-dir",
            data_s,
            "users",
            "import",
            "--pool",
            &pool_id,
            file_s,
            "--batch-size",
            &batch,
            "--quiet",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut config = Config::default();
    config.server.data_dir = data.clone();
    let node = Node::open(config.clone()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let n = node.store.count_users(&pool_id).await.unwrap();
        if n >= (BATCH * 4) as u64 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "import made no progress"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.start_kill().unwrap(); // SIGKILL
    let status = child.wait().await.unwrap();
    drop(node);

    // Reopen as a fresh process would.
    let node = Node::open(config.clone()).await.unwrap();
    let count = node.store.count_users(&pool_id).await.unwrap() as usize;
    if !status.success() {
        // Killed mid-way: whole batches only.
        assert_eq!(count % BATCH, 0, "a partial batch survived: {count}");
        assert!(count < USERS);
    }
    // Every stored record reads back whole.
    let mut seen = 0;
    let mut page = PageRequest {
        limit: 1000,
        after: None,
    };
    loop {
        let p = node.store.list_users(&pool_id, &page).await.unwrap();
        for u in &p.items {
            assert!(u.username.starts_with("crash-"));
            assert!(u.password_hash.is_some());
            assert_eq!(
                u.attribute("email"),
                Some(format!("{}@example.com", u.username).as_str())
            );
        }
        seen += p.items.len();
        match p.next {
            Some(next) => page.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen, count);
    let db = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{}/cognate.db", data_s))
        .await
        .unwrap();
    let check: (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(check.0, "ok");
    db.close().await;

    // Running the import again completes it.
    let (code, out, err) = run(
        dir.path(),
        &[
            "--data-dir",
            data_s,
            "users",
            "import",
            "--pool",
            &pool_id,
            file_s,
            "--quiet",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        node.store.count_users(&pool_id).await.unwrap() as usize,
        USERS
    );
}
