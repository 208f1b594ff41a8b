//! Runs the real `cognate` binary as a separate process (multi-node tests start it twice;
//! never two servers inside one test process).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_cognate")
}

/// A running `cognate serve`. Killed when dropped.
pub struct CognateProcess {
    pub child: Child,
    /// `http://127.0.0.1:<port>`
    pub base: String,
    /// Everything the process printed on stdout before it was ready.
    pub banner: Vec<String>,
    /// Where its stderr (the log) goes.
    pub log_path: PathBuf,
}

impl CognateProcess {
    /// Starts `cognate [args] serve --listen 127.0.0.1:0` with `env` added (and no
    /// inherited COGNATE_* variables), and waits until it prints its address.
    pub async fn start(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> CognateProcess {
        Self::try_start(dir, args, env)
            .await
            .unwrap_or_else(|e| panic!("cognate did not start: {e}"))
    }

    pub async fn try_start(
        dir: &Path,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Result<CognateProcess, String> {
        let log_path = dir.join(format!("cognate-{}.log", unique()));
        let log = std::fs::File::create(&log_path).map_err(|e| e.to_string())?;
        let mut cmd = Command::new(binary());
        cmd.args(args)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .kill_on_drop(true);
        for (k, _) in std::env::vars() {
            if k.starts_with("COGNATE_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().map_err(|e| e.to_string())?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut banner = Vec::new();
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            while let Ok(Some(line)) = lines.next_line().await {
                banner.push(line.clone());
                if let Some(rest) = line.strip_prefix("Cognate listening on ") {
                    let base = rest.split_whitespace().next().unwrap_or("").to_string();
                    // Keep reading the rest of the banner briefly.
                    return Some(base);
                }
            }
            None
        })
        .await;
        let base = match found {
            Ok(Some(base)) => base,
            _ => {
                let status = child.try_wait().ok().flatten();
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(format!(
                    "exit status {status:?}; stdout {banner:?}; log:\n{log}"
                ));
            }
        };
        // Drain the rest of stdout in the background so the pipe never fills.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(CognateProcess {
            child,
            base,
            banner,
            log_path,
        })
    }

    /// Sends SIGTERM and waits for the exit status.
    pub async fn terminate(mut self) -> std::process::ExitStatus {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("cognate did not stop within 30 s of SIGTERM")
            .expect("wait")
    }

    /// The metrics URL the banner printed (`  metrics: http://.../metrics`), when the
    /// process was given `COGNATE_METRICS_LISTEN` or `[server] metrics_listen`.
    pub fn metrics_url(&self) -> Option<String> {
        self.banner
            .iter()
            .find_map(|l| l.trim().strip_prefix("metrics: "))
            .map(str::to_string)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

/// Runs the binary to completion (admin commands): (exit code, stdout, stderr).
pub async fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = Command::new(binary());
    cmd.args(args).current_dir(dir).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("COGNATE_") || k == "RUST_LOG" {
            cmd.env_remove(k);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("cognate command timed out")
        .expect("spawn cognate");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub fn unique() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}
