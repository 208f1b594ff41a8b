//! What a client can hold: a connection that never finishes its request head is closed
//! after `header_read_timeout_secs` (slowloris), a request whose body trickles in is
//! answered 408 after `request_timeout_secs`, while honest requests, even a head sent in
//! pieces, go through beside them. And who can read `/metrics`: only the operator's own
//! listener (`metrics_listen`), never the public one.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::http;
use crate::support::process::CognateProcess;
use crate::support::server::TestServer;

/// Reads until the server closes the connection (or `limit` passes: then the test fails,
/// as the server held the connection). Returns what was read and when it closed.
async fn read_until_closed(tcp: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut out = Vec::new();
    let read = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 1024];
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server still held the connection after {limit:?}"
    );
    (
        String::from_utf8_lossy(&out).into_owned(),
        started.elapsed(),
    )
}

async fn honest_health(addr: &str) -> String {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(
        format!("GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    read_until_closed(&mut tcp, Duration::from_secs(10)).await.0
}

#[tokio::test]
async fn slow_clients_are_cut_off_while_honest_requests_go_through() {
    let server = TestServer::start_with(
        "",
        "header_read_timeout_secs = 1\nrequest_timeout_secs = 2\nidp_timeout_secs = 1",
        &[],
    )
    .await;
    let addr = server.base.trim_start_matches("http://").to_string();

    // Slowloris: half a request head, then silence; and a connection that sends nothing.
    let mut partial = TcpStream::connect(&addr).await.unwrap();
    partial
        .write_all(format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n").as_bytes())
        .await
        .unwrap();
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    // Meanwhile an honest request is answered at once.
    let answer = honest_health(&addr).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // Both stalled connections are closed after the head timeout (1 s), not held: the
    // bound is generous for a loaded machine, and far below "forever".
    for (what, tcp) in [("partial head", &mut partial), ("silent", &mut silent)] {
        let (read, after) = read_until_closed(tcp, Duration::from_secs(15)).await;
        assert!(
            read.is_empty() || read.starts_with("HTTP/1.1 408"),
            "{what}: {read}"
        );
        assert!(
            after < Duration::from_secs(15),
            "{what}: closed after {after:?}"
        );
    }

    // A kept-alive connection must send its next head in time too.
    let mut idle = TcpStream::connect(&addr).await.unwrap();
    idle.write_all(format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let (read, _) = read_until_closed(&mut idle, Duration::from_secs(15)).await;
    assert!(read.starts_with("HTTP/1.1 200"), "{read}");

    // A body that trickles in (one byte every 300 ms of 100 announced) is stopped with 408
    // after the request timeout (2 s), long before it would have finished (30 s).
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(
        format!(
            "POST /oauth2/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let started = Instant::now();
    let trickle = async {
        for _ in 0..100 {
            if slow.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            let mut buf = [0u8; 512];
            // Peek for an answer between bytes without blocking.
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_millis(1), slow.read(&mut buf)).await
            {
                return String::from_utf8_lossy(&buf[..n]).into_owned();
            }
        }
        String::new()
    };
    let answer = trickle.await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "408 after {:?}",
        started.elapsed()
    );

    // The honest request whose head arrives in two pieces within the timeout is served.
    let mut pieces = TcpStream::connect(&addr).await.unwrap();
    pieces.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    pieces
        .write_all(format!("Host: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let (read, _) = read_until_closed(&mut pieces, Duration::from_secs(10)).await;
    assert!(read.starts_with("HTTP/1.1 200"), "{read}");
    server.stop().await;
}

#[tokio::test]
async fn metrics_are_served_on_their_own_listener_only() {
    let dir = tempfile::tempdir().unwrap();
    let node = CognateProcess::start(
        dir.path(),
        &[],
        &[("COGNATE_METRICS_LISTEN", "127.0.0.1:0")],
    )
    .await;
    let metrics_url = node
        .metrics_url()
        .unwrap_or_else(|| panic!("no metrics line in {:?}", node.banner));
    assert!(
        metrics_url.starts_with("http://127.0.0.1:"),
        "{metrics_url}"
    );
    let pool = crate::server::demo_pool_id(&node);
    let client = http();
    let jwks = client
        .get(format!("{}/{pool}/.well-known/jwks.json", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(jwks.status(), 200);

    // The public listener has no /metrics: anyone on the internet reaches it.
    let public = client
        .get(format!("{}/metrics", node.base))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 404);
    let body: Value = public.json().await.unwrap();
    assert_eq!(body["error"], "not_found");

    // The operator's listener counts requests by route template and status.
    let metrics = client
        .get(&metrics_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "cognate_http_requests_total{route=\"/{pool_id}/.well-known/jwks.json\",method=\"GET\",status=\"200\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("cognate_http_request_duration_seconds_bucket"));
    // ...and serves nothing else: the pools' endpoints stay on the public listener.
    let metrics_base = metrics_url.trim_end_matches("/metrics");
    let other = client
        .get(format!("{metrics_base}/{pool}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 404);
    // One SIGTERM stops both listeners.
    assert!(node.terminate().await.success());
    assert!(client.get(&metrics_url).send().await.is_err());
}

/// A client that pipelines requests and never reads the answers fills its TCP window; the
/// server's writes then make no progress and, after the write timeout (here 2 s), it
/// closes the connection instead of holding it (and the answers queued for it) forever.
#[tokio::test]
async fn a_client_that_never_reads_its_answers_is_cut_off() {
    let server = TestServer::start_with(
        "",
        "header_read_timeout_secs = 1\nrequest_timeout_secs = 2\nidp_timeout_secs = 1",
        &[],
    )
    .await;
    let addr: std::net::SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    const REQUESTS: usize = 60_000;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(1024).unwrap();
    let tcp = socket.connect(addr).await.unwrap();
    let (mut reader, mut writer) = tcp.into_split();
    let request = format!("GET /health HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    let sender = tokio::spawn(async move {
        let batch = request.repeat(1000);
        for _ in 0..REQUESTS / 1000 {
            // Blocks once the server stops reading; fails once it has closed.
            if writer.write_all(batch.as_bytes()).await.is_err() {
                return;
            }
        }
        let _ = writer.shutdown().await;
    });
    // Never read for a while: the server's writes stall.
    tokio::time::sleep(Duration::from_secs(6)).await;
    // Now drain: a connection that was cut ends (EOF or reset) before every request was
    // answered; one that was held would go on answering all of them.
    let mut answered = 0usize;
    let mut tail = Vec::new();
    let drained = tokio::time::timeout(Duration::from_secs(30), async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    tail.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&tail).into_owned();
                    answered += text.matches("HTTP/1.1 200").count();
                    // Keep the last bytes in case a status line spans two reads: fewer
                    // than the 12 of "HTTP/1.1 200", so no status line is counted twice.
                    let keep = tail.len().saturating_sub(11);
                    tail.drain(..keep);
                }
            }
        }
    })
    .await;
    assert!(drained.is_ok(), "the connection was still open after 36 s");
    assert!(
        answered < REQUESTS,
        "all {answered} pipelined requests were answered: the stalled connection was held"
    );
    sender.abort();
    // The server still answers honest clients.
    let answer = honest_health(server.base.trim_start_matches("http://")).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    server.stop().await;
}
