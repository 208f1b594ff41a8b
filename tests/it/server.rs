//! The real `cognate serve` process: zero-config start, discovery and JWKS, operations
//! endpoints (readiness follows the database), JSON logs, bad input, graceful shutdown
//! and restart.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use cognate::core::secrets::MasterKey;

use crate::support::http;
use crate::support::pg::fresh_pg_url;
use crate::support::process::CognateProcess;

/// Reads the demo pool id from the start-up banner.
pub(crate) fn demo_pool_id(p: &CognateProcess) -> String {
    p.banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("demo pool "))
        .and_then(|rest| rest.split_whitespace().next())
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no demo pool in banner {:?}", p.banner))
}

#[tokio::test]
async fn zero_config_start_serves_discovery_jwks_health_and_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let node = CognateProcess::start(dir.path(), &[], &[]).await;
    let pool = demo_pool_id(&node);
    let client = http();

    // First start created the data directory, database and a 0600 master key.
    let data = dir.path().join("cognate-data");
    assert!(data.join("cognate.db").exists());
    let key = data.join("master.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "master key file mode");
    }

    let health: Value = client
        .get(format!("{}/health", node.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = client
        .get(format!("{}/health/ready", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(ready["database"], "sqlite");

    // Discovery: the issuer is <public URL>/<poolId>, endpoints at the root.
    let disco: Value = client
        .get(format!(
            "{}/{pool}/.well-known/openid-configuration",
            node.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(disco["issuer"], format!("{}/{pool}", node.base));
    assert_eq!(
        disco["jwks_uri"],
        format!("{}/{pool}/.well-known/jwks.json", node.base)
    );
    assert_eq!(
        disco["token_endpoint"],
        format!("{}/oauth2/token", node.base)
    );
    assert_eq!(disco["code_challenge_methods_supported"][0], "S256");

    // JWKS: two RS256 keys (ID and access tokens use different kids), readable cross-origin.
    let resp = client
        .get(format!("{}/{pool}/.well-known/jwks.json", node.base))
        .header("Origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap()),
        Some("*")
    );
    let jwks: Value = resp.json().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{jwks}");
    assert_ne!(keys[0]["kid"], keys[1]["kid"]);
    for k in keys {
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["alg"], "RS256");
        assert_eq!(k["use"], "sig");
        assert!(k.get("d").is_none(), "private part must never be published");
        // 2048-bit modulus: 256 bytes, 342 base64url characters.
        assert_eq!(k["n"].as_str().unwrap().len(), 342);
    }

    // Metrics are never on the public listener: they have a listener of their own
    // (`metrics_serve_on_their_own_listener_only`), and zero-config sets none.
    let metrics = client
        .get(format!("{}/metrics", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 404);
    assert!(node.metrics_url().is_none(), "{:?}", node.banner);

    // Unknown pools and paths: JSON 404s, never a 500.
    for path in [
        "/us-east-1_doesnotexist/.well-known/jwks.json",
        "/not a pool/.well-known/openid-configuration",
        "/no/such/endpoint",
    ] {
        let r = client
            .get(format!("{}{}", node.base, path.replace(' ', "%20")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"], "not_found");
    }
    // The corrected request (a real pool) succeeds, as above.

    // Over-long URIs get 414, oversized bodies 413.
    let long = "a".repeat(10_000);
    let r = client
        .get(format!("{}/health?{long}", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 414);
    let r = client
        .get(format!("{}/health?short", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // The body is announced but not sent: the server must refuse on the length alone
    // (sending 2 MiB races the early 413 and the connection it closes).
    {
        let addr = node.base.trim_start_matches("http://");
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            2 * 1024 * 1024
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        let mut buf = vec![0u8; 64];
        let n = tcp.read(&mut buf).await.unwrap();
        let status_line = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(status_line.starts_with("HTTP/1.1 413"), "{status_line}");
    }

    // SIGTERM: clean exit.
    let first_kids: Vec<Value> = keys.iter().map(|k| k["kid"].clone()).collect();
    let status = node.terminate().await;
    assert!(status.success(), "exit status {status:?}");

    // A restart on the same data directory keeps the pool and its keys.
    let again = CognateProcess::start(dir.path(), &[], &[]).await;
    assert_eq!(demo_pool_id(&again), pool);
    let jwks: Value = client
        .get(format!("{}/{pool}/.well-known/jwks.json", again.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kids: Vec<Value> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    let mut a = first_kids.clone();
    let mut b = kids.clone();
    a.sort_by_key(|v| v.to_string());
    b.sort_by_key(|v| v.to_string());
    assert_eq!(a, b);
    assert!(again.banner.iter().all(|l| !l.contains("(created now)")));
    assert!(again.terminate().await.success());
}

#[tokio::test]
async fn check_config_reports_every_error_with_its_line_and_exit_code_2() {
    use crate::support::process::run;
    let dir = tempfile::tempdir().unwrap();
    let bad = r#"
[server]
listen = "127.0.0.1:8750"

[[pools]]
id = "not a pool id"
name = "p"

[[pools.clients]]
name = "c"
callback_urls = ["http://example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]
"#;
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let (code, out, err) = run(dir.path(), &["check-config", "bad.toml"], &[]).await;
    assert_eq!(code, 2, "{out}{err}");
    // Both problems, each with file:line:column, its path and a fix.
    assert!(err.contains("bad.toml:6:"), "{err}");
    assert!(err.contains("pools[0].id"), "{err}");
    assert!(err.contains("bad.toml:11:"), "{err}");
    assert!(
        err.contains("pools[0].clients[0].callback_urls[0]"),
        "{err}"
    );
    assert!(err.contains("fix:"), "{err}");
    // The corrected file passes.
    let good = bad
        .replace("not a pool id", "us-east-1_Good12345")
        .replace("http://example.com/cb", "https://example.com/cb");
    std::fs::write(dir.path().join("good.toml"), good).unwrap();
    let (code, out, err) = run(dir.path(), &["check-config", "good.toml"], &[]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("OK"), "{out}");
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error_not_a_panic() {
    use crate::support::process::run;
    let dir = tempfile::tempdir().unwrap();
    let (_, key) = MasterKey::generate();
    let env = [
        // Nothing listens on port 1.
        (
            "COGNATE_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/none",
        ),
        ("COGNATE_MASTER_KEY", key.as_str()),
    ];
    let (code, out, err) = run(dir.path(), &["pools", "list"], &env).await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("unavailable"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // The corrected command (the embedded database) works.
    let (code, out, err) = run(dir.path(), &["pools", "list"], &[]).await;
    assert_eq!(code, 0, "{out}{err}");
}

/// Sends `signal` (`TERM`, `INT`) to the process.
fn send_signal(p: &CognateProcess, signal: &str) {
    let pid = p.child.id().expect("the process is running");
    let status = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -{signal} {pid}");
}

/// Waits (30 s at most) for the process to exit.
async fn exit_status(p: &mut CognateProcess) -> std::process::ExitStatus {
    tokio::time::timeout(Duration::from_secs(30), p.child.wait())
        .await
        .expect("cognate did not exit within 30 s")
        .unwrap()
}

/// A TCP relay in front of PostgreSQL that the test can cut (every relayed connection
/// dropped, new ones closed as soon as they arrive) and restore: the database goes away
/// for one server only, without touching the PostgreSQL the other tests share.
struct Relay {
    addr: std::net::SocketAddr,
    /// Whether new connections are relayed; guarded with the relayed links, so a link
    /// cannot slip in while they are being cut.
    links: Arc<Mutex<(bool, Vec<AbortHandle>)>>,
    accept: AbortHandle,
}

impl Relay {
    async fn start(upstream: String) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let links: Arc<Mutex<(bool, Vec<AbortHandle>)>> = Arc::new(Mutex::new((true, vec![])));
        let keep = links.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let mut links = keep.lock().unwrap();
                if !links.0 {
                    drop(inbound);
                    continue;
                }
                let upstream = upstream.clone();
                let link = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                links.1.push(link.abort_handle());
            }
        })
        .abort_handle();
        Relay {
            addr,
            links,
            accept,
        }
    }

    /// The database is gone: open connections drop, new ones are closed at once.
    fn cut(&self) {
        let mut links = self.links.lock().unwrap();
        links.0 = false;
        for link in links.1.drain(..) {
            link.abort();
        }
    }

    /// The database is back.
    fn restore(&self) {
        self.links.lock().unwrap().0 = true;
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.accept.abort();
    }
}

/// Polls `/health/ready` until it answers `status` (20 s at most); returns its body.
async fn ready_becomes(base: &str, status: u16) -> Value {
    let client = http();
    let mut last = String::new();
    for _ in 0..40 {
        let r = client
            .get(format!("{base}/health/ready"))
            .send()
            .await
            .unwrap();
        if r.status() == status {
            return r.json().await.unwrap();
        }
        last = format!("{} {}", r.status(), r.text().await.unwrap_or_default());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("/health/ready never answered {status}; last: {last}");
}

#[tokio::test]
async fn readiness_is_503_while_the_database_is_unreachable_and_200_when_it_is_back() {
    let Some(db) = fresh_pg_url("ready").await else {
        return;
    };
    let mut url = url::Url::parse(&db.url).unwrap();
    let upstream = format!(
        "{}:{}",
        url.host_str().unwrap(),
        url.port_or_known_default().unwrap()
    );
    let relay = Relay::start(upstream).await;
    url.set_ip_host(relay.addr.ip()).unwrap();
    url.set_port(Some(relay.addr.port())).unwrap();
    let (_, key) = MasterKey::generate();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("COGNATE_DATABASE_URL", url.as_str()),
        ("COGNATE_MASTER_KEY", key.as_str()),
    ];
    let node = CognateProcess::start(dir.path(), &[], &env).await;
    let client = http();

    let ready = ready_becomes(&node.base, 200).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], "postgres");

    // The database goes away: not ready (a load balancer stops sending traffic), but
    // alive (nothing to restart).
    relay.cut();
    let down = ready_becomes(&node.base, 503).await;
    assert_eq!(down["status"], "unavailable");
    assert_eq!(down["database"], "postgres");
    let health = client
        .get(format!("{}/health", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert!(
        node.log().contains("readiness check failed"),
        "{}",
        node.log()
    );

    // Back: ready again, on new connections, without a restart.
    relay.restore();
    let up = ready_becomes(&node.base, 200).await;
    assert_eq!(up["status"], "ready");
    let pool = node
        .banner
        .iter()
        .find_map(|l| l.trim().strip_prefix("demo pool "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    let jwks = client
        .get(format!("{}/{pool}/.well-known/jwks.json", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);

    assert!(node.terminate().await.success());
    drop(relay);
    db.cleanup().await;
}

#[tokio::test]
async fn json_log_format_writes_every_line_as_a_json_object() {
    use crate::support::process::run;
    let dir = tempfile::tempdir().unwrap();
    // A file to apply: its report is a multi-line message, which must stay one line.
    std::fs::write(
        dir.path().join("cognate.toml"),
        r#"
[[pools]]
id = "us-east-1_JsonLogs01"
name = "json logs"

[[pools.clients]]
id = "jsonlogsclient00000000001"
name = "c"
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]
"#,
    )
    .unwrap();
    // An unknown format is refused, naming the variable and the choices.
    let (code, out, err) = run(
        dir.path(),
        &["-c", "cognate.toml", "pools", "list"],
        &[("COGNATE_LOG_FORMAT", "xml")],
    )
    .await;
    assert_eq!(code, 2, "{out}{err}");
    assert!(err.contains("COGNATE_LOG_FORMAT"), "{err}");
    assert!(err.contains("text or json"), "{err}");

    let env = [
        ("COGNATE_LOG_FORMAT", "json"),
        // Request lines are at debug level.
        ("RUST_LOG", "info,cognate=debug"),
    ];
    let node = CognateProcess::start(dir.path(), &["-c", "cognate.toml"], &env).await;
    let client = http();
    for path in ["/health", "/health/ready", "/no/such/endpoint"] {
        client
            .get(format!("{}{path}", node.base))
            .send()
            .await
            .unwrap();
    }
    let log_path = node.log_path.clone();
    assert!(node.terminate().await.success());

    let log = std::fs::read_to_string(&log_path).unwrap();
    let mut lines = Vec::new();
    for line in log.lines() {
        let value: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}\nwhole log:\n{log}"));
        assert!(value.is_object(), "{line}");
        for field in ["timestamp", "level", "target"] {
            assert!(value.get(field).is_some(), "no {field} in {line}");
        }
        lines.push(value);
    }
    let message = |m: &str| lines.iter().find(|l| l["message"] == m);
    let listening = message("listening").unwrap_or_else(|| panic!("{log}"));
    assert_eq!(listening["level"], "INFO");
    let local = listening["local"].as_str().unwrap_or_default();
    assert!(local.parse::<std::net::SocketAddr>().is_ok(), "{listening}");
    assert!(message("stopped").is_some(), "{log}");
    let applied = lines
        .iter()
        .filter_map(|l| l["message"].as_str())
        .find(|m| m.starts_with("configuration applied:"))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(applied.contains('\n'), "{applied}");
    let requests: Vec<&Value> = lines.iter().filter(|l| l["message"] == "request").collect();
    assert!(
        requests
            .iter()
            .any(|l| l["route"] == "/health/ready" && l["status"] == 200),
        "{log}"
    );
    assert!(
        requests
            .iter()
            .any(|l| l["route"] == "unmatched" && l["status"] == 404),
        "{log}"
    );
}

#[tokio::test]
async fn sigterm_lets_an_in_flight_request_finish_and_refuses_new_connections() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = CognateProcess::start(dir.path(), &[], &[]).await;
    let client_id = node
        .banner
        .iter()
        .find_map(|l| l.split(" with app client ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no demo client in {:?}", node.banner))
        .to_string();
    let addr = node.base.trim_start_matches("http://").to_string();

    // A token request whose body the client holds back: `Expect: 100-continue` makes the
    // server say when the handler starts reading it, so the request is in flight for sure.
    let body = format!(
        "grant_type=authorization_code&client_id={client_id}&code=no-such-code\
         &redirect_uri=http%3A%2F%2F127.0.0.1%2Fdemo%2Fcallback&code_verifier={}",
        "v".repeat(50)
    );
    let mut tcp = TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /oauth2/token HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Expect: 100-continue\r\n\r\n",
        body.len()
    );
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut interim = vec![0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut interim))
        .await
        .expect("no 100 Continue")
        .unwrap();
    let interim = String::from_utf8_lossy(&interim[..n]).to_string();
    assert!(interim.starts_with("HTTP/1.1 100 Continue"), "{interim}");

    send_signal(&node, "TERM");
    // The listener closes at once: new connections are refused while the old one is
    // still being served.
    let mut refused = false;
    for _ in 0..100 {
        if TcpStream::connect(&addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused, "new connections still accepted after SIGTERM");
    assert!(
        node.child.try_wait().unwrap().is_none(),
        "the process must wait for the in-flight request"
    );

    // The rest of the body: the handler finishes and the whole response arrives.
    tcp.write_all(body.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut response))
        .await
        .expect("the response did not arrive")
        .unwrap();
    let response = String::from_utf8_lossy(&response).to_string();
    let (head, json) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("{response:?}"));
    assert!(head.starts_with("HTTP/1.1 400"), "{response}");
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or_else(|| panic!("no content-length: {response}"));
    assert_eq!(json.len(), length, "{response}");
    let error: Value = serde_json::from_str(json).unwrap();
    assert_eq!(error["error"], "invalid_grant", "{response}");

    let status = exit_status(&mut node).await;
    assert!(status.success(), "exit status {status:?}");
    let log = node.log();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");
}

#[tokio::test]
async fn sigint_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = CognateProcess::start(dir.path(), &[], &[]).await;
    let r = http()
        .get(format!("{}/health", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    send_signal(&node, "INT");
    let status = exit_status(&mut node).await;
    assert!(status.success(), "exit status {status:?}");
    let log = node.log();
    assert!(log.contains("shutting down"), "{log}");
    assert!(log.contains("stopped"), "{log}");
    // A restart on the same data directory finds everything in order.
    let again = CognateProcess::start(dir.path(), &[], &[]).await;
    let status = again.terminate().await;
    assert!(status.success(), "exit status {status:?}");
}
