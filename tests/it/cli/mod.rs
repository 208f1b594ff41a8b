//! The admin command line, driven as the real `cognate` binary on a temporary data
//! directory: lifecycles of pools, clients, users, groups and keys (on SQLite and on
//! PostgreSQL); bad input exits with code 2 and a message naming the field; JSON Lines
//! export and import round-trip, and imported bcrypt / PBKDF2 / scrypt / Django hashes
//! sign in and are upgraded to Argon2id.
//!
//! Commands are written as one string (`"users create --pool {p} ana"`), split on spaces;
//! single quotes keep an argument with spaces together (`-a 'name=Cyd Ü'`).
//!
//! The lifecycles of records and the refusals of bad input are in [`lifecycle`]; export,
//! import and the hashes carried from other systems in [`transfer`].

mod identity_pools;
// H1: operator credentials.
mod admin_keys;
mod client_api_settings;
mod events;
mod identity_keys;
mod idps;
mod lifecycle;
mod mfa;
mod saml_keys;
mod transfer;
mod triggers;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use cognate::config::Config;
use cognate::core::secrets::SecretString;
use cognate::server::Node;

use crate::support::pg::{fresh_pg_url, PgTestDb};

/// Splits a command line on spaces; '...' quotes an argument (possibly empty).
fn split(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                current.get_or_insert_with(String::new);
            }
            ' ' if !quoted => {
                if let Some(arg) = current.take() {
                    args.push(arg);
                }
            }
            c => current.get_or_insert_with(String::new).push(c),
        }
    }
    args.extend(current);
    args
}

/// A data directory and a way to run `cognate --data-dir <it> ...` on it: on its embedded
/// SQLite database, or on a PostgreSQL schema of its own ([`Cli::postgres`]).
struct Cli {
    dir: tempfile::TempDir,
    /// `COGNATE_DATABASE_URL` and `COGNATE_MASTER_KEY` for PostgreSQL.
    postgres: Option<(PgTestDb, SecretString)>,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: None,
        }
    }

    /// The same on a fresh PostgreSQL schema (with a master key from the environment, as
    /// several nodes need), or `None` when no test database is configured (see
    /// [`fresh_pg_url`]: a banner locally, a failure under CI).
    fn postgres(label: &str) -> Option<Cli> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let db = runtime.block_on(fresh_pg_url(label))?;
        let (_, key) = cognate::core::secrets::MasterKey::generate();
        Some(Cli {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: Some((db, SecretString::new(key))),
        })
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, line: &str, stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .args(split(line))
            .current_dir(self.dir.path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars() {
            if k.starts_with("COGNATE_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        if let Some((db, key)) = &self.postgres {
            cmd.env("COGNATE_DATABASE_URL", &db.url)
                .env("COGNATE_MASTER_KEY", key.expose());
        }
        let mut child = cmd.spawn().expect("spawn cognate");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait for cognate");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "cognate panicked: {stderr}");
        out
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, line: &str) -> String {
        self.ok_stdin(line, None)
    }

    fn ok_stdin(&self, line: &str, stdin: Option<&str>) -> String {
        let out = self.run(line, stdin);
        assert!(
            out.status.success(),
            "cognate {line} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail with exit code 2 and mention every needle in its
    /// error output.
    fn fails(&self, line: &str, needles: &[&str]) {
        let out = self.run(line, None);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(2),
            "cognate {line} should exit 2:\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_mentions(&stderr, needles);
    }

    fn json(&self, line: &str) -> Value {
        let out = self.ok(line);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{line}: not JSON ({e}): {out}"))
    }

    fn create_pool(&self, flags: &str) -> String {
        let id = self.ok(&format!("pools create --name shop {flags}"));
        let id = id.trim().to_string();
        assert!(id.starts_with("us-east-1_"), "{id}");
        id
    }

    /// What the database holds of app clients, as bytes: the whole SQLite file, or the
    /// PostgreSQL `clients` rows.
    fn stored_clients(&self) -> Vec<u8> {
        let Some((db, _)) = &self.postgres else {
            return std::fs::read(self.data_dir().join("cognate.db")).expect("the database file");
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, doc FROM clients")
                .fetch_all(&mut conn)
                .await
                .expect("clients");
            rows.into_iter()
                .flat_map(|(id, doc)| [id, doc])
                .collect::<String>()
                .into_bytes()
        })
    }

    async fn node(&self) -> Node {
        let mut config = Config::default();
        config.server.data_dir = self.data_dir();
        if let Some((db, key)) = &self.postgres {
            config.server.database_url = Some(SecretString::new(db.url.clone()));
            config.master_key = Some(key.clone());
        }
        Node::open(config).await.expect("open node")
    }
}

fn assert_mentions(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "expected {n:?} in: {text}");
    }
}

#[test]
fn command_lines_split_like_a_shell() {
    assert_eq!(split("a  'b c' ''"), ["a", "b c", ""]);
    assert_eq!(split("-a 'name=Cyd Ü'"), ["-a", "name=Cyd Ü"]);
}
