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

/// SQLite's own check of the database file in `data_dir`.
async fn assert_sqlite_intact(data_dir: &str) {
    let db = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&format!("sqlite://{data_dir}/cognate.db"))
        .await
        .unwrap();
    let check: (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(check.0, "ok");
    db.close().await;
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
    assert_sqlite_intact(data_s).await;

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

// --- the server killed while it writes ---------------------------------------------------

const SERVER_POOL: &str = "us-east-1_CrashSrv01";
const SERVER_CLIENT: &str = "crashspa0000000000000000001";
const SERVER_CALLBACK: &str = "http://127.0.0.1:9/cb";
const SERVER_PASSWORD: &str = "Crash-passw0rd!";
/// Refresh-token chains rotated concurrently while the server is killed.
const CHAINS: usize = 4;

fn server_config() -> String {
    format!(
        r#"[[pools]]
id = "{SERVER_POOL}"
name = "crash"

[[pools.clients]]
id = "{SERVER_CLIENT}"
name = "spa"
callback_urls = ["{SERVER_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]
refresh_token_rotation = {{ enabled = true, grace_period_seconds = 60 }}
"#
    )
}

/// A whole sign-in of `user` (hosted page, code, PKCE exchange): the refresh token.
async fn signed_in_refresh_token(base: &str, user: &str) -> Result<String, String> {
    let browser = crate::support::server::browser_client();
    let verifier = format!("crash-verifier-{}", "v".repeat(40));
    let challenge = crate::claims::s256(&verifier);
    let authorize = crate::claims::authorize_url(
        base,
        &[
            ("response_type", "code"),
            ("client_id", SERVER_CLIENT),
            ("redirect_uri", SERVER_CALLBACK),
            ("scope", "openid"),
            ("state", "s"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ],
    );
    let redirect =
        crate::support::server::sign_in(&browser, base, &authorize, user, SERVER_PASSWORD).await?;
    let code = crate::claims::query_param(&redirect, "code").ok_or(redirect)?;
    let answer = browser
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", SERVER_CLIENT),
            ("redirect_uri", SERVER_CALLBACK),
            ("code", code.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let body: serde_json::Value = answer.json().await.map_err(|e| e.to_string())?;
    body["refresh_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| body.to_string())
}

/// One refresh: the new refresh token (rotation), or why not.
async fn refreshed(http: &reqwest::Client, base: &str, token: &str) -> Result<String, String> {
    let answer = http
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", SERVER_CLIENT),
            ("refresh_token", token),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = answer.status();
    let body: serde_json::Value = answer.json().await.map_err(|e| e.to_string())?;
    match body["refresh_token"].as_str() {
        Some(next) if status == 200 => Ok(next.to_string()),
        _ => Err(format!("{status}: {body}")),
    }
}

/// Signs users in and rotates refresh tokens as fast as it can, kills the server with
/// SIGKILL in the middle of it, and starts it again on the same database: every refresh
/// token whose answer a client received still works (a rotation is durable before it is
/// answered; the last one may have been committed without its answer arriving, which the
/// grace period covers), every user signs in again, and SQLite's integrity check passes.
async fn kill_9_while_serving(dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) {
    std::fs::write(dir.join("cognate.toml"), server_config()).unwrap();
    let mut apply_args = args.to_vec();
    apply_args.push("apply");
    let (code, out, err) = run(dir, &apply_args, env).await;
    assert_eq!(code, 0, "{out}{err}");
    for i in 0..CHAINS {
        let name = format!("crash-user-{i}");
        let mut create = args.to_vec();
        create.extend([
            "users",
            "create",
            "--pool",
            SERVER_POOL,
            &name,
            "--password",
            SERVER_PASSWORD,
        ]);
        let (code, out, err) = run(dir, &create, env).await;
        assert_eq!(code, 0, "{out}{err}");
    }

    let server = crate::support::process::CognateProcess::start(dir, args, env).await;
    let base = server.base.clone();
    let mut chains = Vec::new();
    for i in 0..CHAINS {
        let token = signed_in_refresh_token(&base, &format!("crash-user-{i}"))
            .await
            .unwrap_or_else(|e| panic!("sign-in {i}: {e}\n{}", server.log()));
        chains.push(token);
    }

    // Each chain is rotated in a loop; `acknowledged` holds the newest token whose answer
    // arrived. Sign-ins run beside them (flows, codes, sessions, refresh tokens written).
    let acknowledged: Vec<std::sync::Arc<std::sync::Mutex<String>>> = chains
        .into_iter()
        .map(|t| std::sync::Arc::new(std::sync::Mutex::new(t)))
        .collect();
    let rotations = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for slot in &acknowledged {
        let (slot, base, rotations) = (slot.clone(), base.clone(), rotations.clone());
        workers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let current = slot.lock().unwrap().clone();
                match refreshed(&http, &base, &current).await {
                    Ok(next) => {
                        *slot.lock().unwrap() = next;
                        rotations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    Err(_) => return,
                }
            }
        }));
    }
    let signer = {
        let base = base.clone();
        tokio::spawn(async move {
            let mut done = 0usize;
            while signed_in_refresh_token(&base, "crash-user-0").await.is_ok() {
                done += 1;
            }
            done
        })
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while rotations.load(std::sync::atomic::Ordering::Relaxed) < 40 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no rotations: {}",
            server.log()
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut server = server;
    server.child.start_kill().unwrap(); // SIGKILL, mid-write
    server.child.wait().await.unwrap();
    for worker in workers {
        worker.await.unwrap();
    }
    let sign_ins = signer.await.unwrap();
    eprintln!(
        "killed after {} rotations and {sign_ins} sign-ins",
        rotations.load(std::sync::atomic::Ordering::Relaxed)
    );

    // Started again on the same database: every acknowledged token refreshes, once more
    // and again, and every user signs in.
    let server = crate::support::process::CognateProcess::start(dir, args, env).await;
    let http = reqwest::Client::new();
    for (i, slot) in acknowledged.iter().enumerate() {
        let token = slot.lock().unwrap().clone();
        let next = refreshed(&http, &server.base, &token)
            .await
            .unwrap_or_else(|e| panic!("chain {i} after the crash: {e}\n{}", server.log()));
        refreshed(&http, &server.base, &next)
            .await
            .unwrap_or_else(|e| panic!("chain {i}, rotated after the crash: {e}"));
        signed_in_refresh_token(&server.base, &format!("crash-user-{i}"))
            .await
            .unwrap_or_else(|e| panic!("sign-in {i} after the crash: {e}"));
    }
    let status = server.terminate().await;
    assert!(status.success(), "{status:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_serving_loses_no_acknowledged_write_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    kill_9_while_serving(
        dir.path(),
        &["--config", "cognate.toml", "--data-dir", data_s],
        &[],
    )
    .await;
    assert_sqlite_intact(data_s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_while_serving_loses_no_acknowledged_write_on_postgres() {
    let Some(db) = crate::support::pg::fresh_pg_url("crash_serving").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (_, key) = cognate::core::secrets::MasterKey::generate();
    let env = [
        ("COGNATE_DATABASE_URL", db.url.as_str()),
        ("COGNATE_MASTER_KEY", key.as_str()),
    ];
    kill_9_while_serving(dir.path(), &["--config", "cognate.toml"], &env).await;
    db.cleanup().await;
}
