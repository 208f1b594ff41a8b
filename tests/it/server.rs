//! The real `cognate serve` process: zero-config start, discovery and JWKS, operations
//! endpoints, bad input, shutdown and restart.

use serde_json::Value;

use crate::support::http;
use crate::support::process::CognateProcess;

/// Reads the demo pool id from the start-up banner.
fn demo_pool_id(p: &CognateProcess) -> String {
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

    // Metrics count requests by route template and status.
    let metrics = client
        .get(format!("{}/metrics", node.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("cognate_http_requests_total{route=\"/{pool_id}/.well-known/jwks.json\",method=\"GET\",status=\"200\"} 1"),
        "{metrics}"
    );
    assert!(metrics.contains("cognate_http_request_duration_seconds_bucket"));

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
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
    let (_, key) = cognate::core::secrets::MasterKey::generate();
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
