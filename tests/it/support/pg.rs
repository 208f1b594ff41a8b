//! PostgreSQL for tests: one fresh schema per test, in the database named by
//! `COGNATE_TEST_DATABASE_URL`.
//!
//! Each test gets a URL whose `search_path` is a new schema (`t_<label>_<random>`), so
//! tests run in parallel against one database without seeing each other's rows, and the
//! schema (with `_sqlx_migrations`) is dropped when the [`PgTestDb`] goes away. Without
//! the variable the tests are skipped loudly, except under CI (`CI=true`), where a skipped
//! PostgreSQL suite would be a silent hole, so they fail instead.

use std::io::Write;
use std::sync::Once;

use sqlx::Connection;

/// The variable naming the test database (`postgres://postgres@127.0.0.1:5432/test`).
pub const DATABASE_URL_VAR: &str = "COGNATE_TEST_DATABASE_URL";

/// A schema of its own in the test database. Pass [`PgTestDb::url`] to `PgStore::connect`
/// or to a `cognate` process; call [`PgTestDb::cleanup`] at the end of the test (dropping
/// it without that still removes the schema, from a helper thread).
#[derive(Debug)]
pub struct PgTestDb {
    /// The database URL with `options=-c search_path=<schema>`.
    pub url: String,
    pub schema: String,
    base_url: String,
    dropped: bool,
}

impl PgTestDb {
    /// Drops the schema and everything in it.
    pub async fn cleanup(mut self) {
        self.dropped = true;
        if let Err(e) = drop_schema(&self.base_url, &self.schema).await {
            eprintln!("warning: could not drop test schema {}: {e}", self.schema);
        }
    }
}

/// What a test server on PostgreSQL needs: a fresh schema and a master key (several
/// nodes, and the CLI, must share it). `None` when no test database is configured (see
/// [`fresh_pg_url`]: a banner locally, a failure under CI).
pub struct PgNodeEnv {
    pub db: PgTestDb,
    pub key: String,
}

impl PgNodeEnv {
    pub async fn new(label: &str) -> Option<PgNodeEnv> {
        let db = fresh_pg_url(label).await?;
        let (_, key) = cognate::core::secrets::MasterKey::generate();
        Some(PgNodeEnv {
            db,
            key: key.as_str().to_string(),
        })
    }

    /// `COGNATE_DATABASE_URL` and `COGNATE_MASTER_KEY`, for `TestServer::start_with` or a
    /// `cognate` process.
    pub fn vars(&self) -> [(&str, &str); 2] {
        [
            ("COGNATE_DATABASE_URL", self.db.url.as_str()),
            ("COGNATE_MASTER_KEY", self.key.as_str()),
        ]
    }

    /// `extra` variables followed by [`PgNodeEnv::vars`].
    pub fn with<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        extra.iter().copied().chain(self.vars()).collect()
    }

    pub async fn cleanup(self) {
        self.db.cleanup().await;
    }
}

impl Drop for PgTestDb {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        // Drop runs inside the test's runtime (or while unwinding a failed test), where we
        // cannot block on async work: do it on a thread with its own small runtime.
        let (base_url, schema) = (self.base_url.clone(), self.schema.clone());
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                let _ = runtime.block_on(drop_schema(&base_url, &schema));
            }
        });
        let _ = handle.join();
    }
}

async fn drop_schema(base_url: &str, schema: &str) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::PgConnection::connect(base_url).await?;
    // A failed test may leave a transaction holding locks in the schema: give up rather
    // than hang the test run (the schema is then left behind, which is acceptable).
    sqlx::query("SET lock_timeout = '10s'")
        .execute(&mut conn)
        .await?;
    sqlx::query(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .execute(&mut conn)
        .await?;
    conn.close().await
}

/// A fresh schema for one test, or `None` (after a loud notice) when no test database is
/// configured. Panics under CI without one, and whenever the database cannot be reached.
/// `label` names the schema, to tell leftovers of a failed test apart.
pub async fn fresh_pg_url(label: &str) -> Option<PgTestDb> {
    let Some(base_url) = std::env::var(DATABASE_URL_VAR)
        .ok()
        .filter(|v| !v.is_empty())
    else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("{DATABASE_URL_VAR} must be set under CI: the PostgreSQL tests must run");
        }
        not_run_banner();
        return None;
    };
    let clean: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .take(30)
        .collect();
    let schema = format!("t_{clean}_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&base_url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {DATABASE_URL_VAR}: {e}"));
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("cannot create test schema {schema}: {e}"));
    let _ = conn.close().await;

    let mut url = url::Url::parse(&base_url)
        .unwrap_or_else(|e| panic!("{DATABASE_URL_VAR} is not a URL: {e}"));
    // Spelled with %20 rather than the `+` of form encoding, which libpq (psql) would
    // keep literally; the schema name is [a-z0-9_] and needs no escaping.
    let option = format!("options=-c%20search_path%3D{schema}");
    let query = match url.query() {
        Some(q) if !q.is_empty() => format!("{q}&{option}"),
        _ => option,
    };
    url.set_query(Some(&query));
    Some(PgTestDb {
        url: url.to_string(),
        schema,
        base_url,
        dropped: false,
    })
}

/// Printed once per test binary, straight to the terminal: the harness captures
/// `eprintln!` of passing tests, and a skipped suite must not pass unnoticed.
fn not_run_banner() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = writeln!(
            std::io::stderr(),
            "\n==== NOT RUN: PostgreSQL tests (set {DATABASE_URL_VAR}, e.g. \
             postgres://postgres@127.0.0.1:5432/test) ====\n"
        );
    });
}
