//! The connection loop under [`super::serve`] and [`super::serve_metrics`]: HTTP/1.1 with a
//! header read timeout, so a client that opens connections and never finishes its request
//! head (slowloris) cannot hold them: each connection must deliver a complete head within
//! the timeout, the first one and every later one on a kept-alive connection alike
//! (hyper's `header_read_timeout`, which needs a timer that `axum::serve` does not set).
//! The time a request may then take, body included, is bounded by the request timeout of
//! [`super::observe`]; and a client that stops reading its answers (a full TCP window,
//! e.g. thousands of pipelined requests never read) is cut off when a write makes no
//! progress for the write timeout.
//!
//! Only HTTP/1.1 is served: with HTTP/2 by prior knowledge (h2c) a client could stall the
//! protocol detection or the HTTP/2 handshake without any head timeout applying. Browsers
//! reach Cognate through a TLS proxy, which speaks HTTP/2 to them if it likes.
//!
//! Shutdown is graceful: the listener closes, idle connections are closed, and in-flight
//! requests get up to `drain` to finish.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;

/// How a listener treats its connections.
#[derive(Debug, Clone, Copy)]
pub(super) struct ConnectionLimits {
    /// The most time a client may take to send a request head.
    pub header_read: Duration,
    /// The most time one write to the client may wait without progress.
    pub write: Duration,
    /// How long in-flight requests may run on after the shutdown signal.
    pub drain: Duration,
}

/// Serves `router` on `listener` until `shutdown` resolves. Handlers see the peer address
/// as axum's [`ConnectInfo<SocketAddr>`], as with `into_make_service_with_connect_info`.
pub(super) async fn serve_router(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: transient, so wait a little
                    // instead of spinning, and keep serving.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                request
            });
        let mut stream = TimeoutStream::new(stream);
        stream.set_write_timeout(Some(limits.write));
        let connection = builder.serve_connection(
            TokioIo::new(Box::pin(stream)),
            TowerToHyperService::new(service),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away or times out ends its connection; nothing to report
            // beyond hyper's own debug log.
            let _ = connection.await;
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            drain_secs = limits.drain.as_secs(),
            "requests still running after the shutdown grace period were cut"
        );
    }
    Ok(())
}
