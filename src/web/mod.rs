//! The HTTP edge. Handlers parse and validate input, call the core, and render; they hold
//! no protocol state of their own (everything lives in the store), so any node can serve
//! any request.
//!
//! Routing follows Cognito: OAuth and hosted-UI endpoints at the root, discovery and JWKS
//! under `/<poolId>/.well-known/`, the AWS JSON API at `POST /`.
//!
//! The hosted UI: [`hosted`] (authorize, the sign-in page and its forms, logout),
//! [`account_pages`] (sign up, confirm, forgot and reset password), [`federation`]
//! (upstream IdPs) and the [`demo`] app. They share [`page`] (rendering, forms, the login
//! flow a request belongs to) and [`signin`] (completing a sign-in). Dependencies run one
//! way: `hosted` uses `federation`, and both use `signin` and `page`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::core::account::AccountService;
use crate::core::throttle::Throttle;
use crate::federation::flow::Federation;
use crate::federation::http::{HttpSettings, IdpHttp};
use crate::server::Node;
use crate::telemetry::Metrics;

pub mod account_pages;
pub mod cookies;
pub mod cors;
pub mod demo;
pub mod discovery;
pub mod error;
pub mod federation;
pub mod hosted;
pub mod net;
pub mod oauth;
pub mod ops;
pub mod page;
pub mod signin;
pub mod ui;

pub use error::ApiError;

/// The longest request target accepted; longer ones get 414 (RFC 9110 section 15.5.15).
pub const MAX_URI_BYTES: usize = 8 * 1024;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub node: Node,
    pub metrics: Arc<Metrics>,
    pub origins: cors::OriginCache,
    pub ui: Arc<ui::Ui>,
    pub accounts: AccountService,
    pub throttle: Throttle,
    /// Sign-in through upstream identity providers.
    pub federation: Federation,
}

/// Why the edge could not be built (a broken template override, a bad SMTP URL).
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("hosted UI templates: {0}")]
    Ui(#[from] ui::UiError),
    #[error("mail: {0}")]
    Mail(#[from] crate::core::mail::MailError),
}

impl AppState {
    pub fn new(node: Node) -> Result<Self, StartError> {
        let ui = ui::Ui::new(node.config.server.templates_dir.as_deref())?;
        let mail = crate::config::mail::mail_router(&node.config)?.with_texts(ui.texts().clone());
        let timeout = node.config.server.idp_timeout_secs;
        let idp_http = IdpHttp::new(HttpSettings {
            timeout: Duration::from_secs(timeout),
            connect_timeout: Duration::from_secs(timeout.min(5)),
            ..HttpSettings::default()
        });
        let federation = Federation::new(
            node.directory.clone(),
            node.master.clone(),
            idp_http,
            node.config.public_url(),
        );
        Ok(AppState {
            federation,
            accounts: AccountService::new(node.directory.clone(), mail),
            throttle: Throttle::new(node.store.clone()),
            metrics: Arc::new(Metrics::new()),
            origins: cors::OriginCache::default(),
            ui: Arc::new(ui),
            node,
        })
    }
}

/// The whole application router.
pub fn app(state: AppState) -> Router {
    let max_body = state.node.config.server.max_body_bytes;
    // Discovery and JWKS are public documents: any origin may read them (browser apps
    // validate tokens client-side).
    let public_cors = CorsLayer::new().allow_origin(Any).allow_methods([
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
    ]);
    let well_known = Router::new()
        .route(
            "/{pool_id}/.well-known/openid-configuration",
            get(discovery::openid_configuration),
        )
        .route("/{pool_id}/.well-known/jwks.json", get(discovery::jwks))
        .layer(public_cors);
    Router::new()
        .route("/health", get(ops::health))
        .route("/health/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
        .route(
            "/oauth2/token",
            post(oauth::token).options(oauth::preflight),
        )
        .route(
            "/oauth2/userInfo",
            get(oauth::userinfo)
                .post(oauth::userinfo)
                .options(oauth::preflight),
        )
        .route(
            "/oauth2/revoke",
            post(oauth::revoke).options(oauth::preflight),
        )
        .route("/oauth2/authorize", get(hosted::authorize))
        .route(
            "/oauth2/idp",
            get(federation::start_from_login).post(hosted::work_email_submit),
        )
        .route(
            "/oauth2/idpresponse",
            get(federation::callback).post(federation::callback_post),
        )
        .route("/login", get(hosted::login_page).post(hosted::login_submit))
        .route("/login/new-password", post(hosted::new_password_submit))
        .route("/logout", get(hosted::logout))
        .route(
            "/signup",
            get(account_pages::signup_page_get).post(account_pages::signup_submit),
        )
        .route(
            "/confirm",
            get(account_pages::confirm_page_get).post(account_pages::confirm_submit),
        )
        .route("/confirm/resend", post(account_pages::confirm_resend))
        .route(
            "/forgot-password",
            get(account_pages::forgot_page_get).post(account_pages::forgot_submit),
        )
        .route(
            "/reset-password",
            get(account_pages::reset_page_get).post(account_pages::reset_submit),
        )
        .route("/demo", get(demo::start))
        .route("/demo/callback", get(demo::callback))
        .merge(well_known)
        .fallback(ops::not_found)
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// Records metrics and a log line per request (route template and status only: no query
/// strings or headers, which may carry codes and tokens), and refuses over-long targets.
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let response = if request.uri().to_string().len() > MAX_URI_BYTES {
        error::plain_status(StatusCode::URI_TOO_LONG, "The request URI is too long.")
    } else {
        next.run(request).await
    };
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    state
        .metrics
        .observe(&route, method.as_str(), status, elapsed);
    tracing::debug!(%method, route, status, elapsed_ms = elapsed.as_secs_f64() * 1000.0, "request");
    response
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests
/// finish (graceful shutdown).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed by this call, not
/// when the future is first polled: call it before announcing the server, so a signal
/// that arrives between the announcement and the first poll stops the server gracefully
/// instead of killing it with the signal's default action.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let signalled = {
        use tokio::signal::unix::{signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt());
        let terminate = signal(SignalKind::terminate());
        async move {
            let interrupt = async {
                match interrupt {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            let terminate = async {
                match terminate {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = interrupt => {},
                _ = terminate => {},
            }
        }
    };
    #[cfg(not(unix))]
    let signalled = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    async move {
        signalled.await;
        tracing::info!("shutting down: finishing in-flight requests");
    }
}
