//! The HTTP edge. Handlers parse and validate input, call the core, and render; they hold
//! no protocol state of their own (everything lives in the store), so any node can serve
//! any request.
//!
//! Routing follows Cognito: the OAuth 2.0 / OIDC endpoints ([`oauth`]) and the hosted UI
//! ([`hosted`]) at the root, the SAML service provider's assertion consumer service at
//! `/saml2/idpresponse` (in [`hosted::upstream`], beside the OAuth/OIDC callbacks) and
//! its metadata at `/saml2/metadata/<poolId>`, discovery and JWKS ([`discovery`]) under
//! `/<poolId>/.well-known/`, health ([`ops`]), and the built-in [`demo`] app; metrics are
//! served on a listener of their own ([`serve_metrics`], `[server] metrics_listen`).
//! The state every handler shares is [`state`]'s [`AppState`]; errors become responses
//! in [`error`], and Cognito's exception names for the core's errors are in
//! [`cognito_errors`].
//!
//! **The AWS APIs** are all on `POST /` as AWS serves them, behind ONE dispatcher,
//! [`aws`]: the AWS JSON 1.1 `X-Amz-Target` header routes by its prefix
//! (`AWSCognitoIdentityService.<Action>` to the identity pools API,
//! `AWSCognitoIdentityProviderService.<Action>` to the Cognito user pools API), and a form
//! body without that header is STS's query API, routed by its `Action` field. Signed
//! calls are verified with SigV4 ([`crate::core::sigv4`]) against the operator
//! credentials ([`crate::core::admin_keys`]). Each action parses its JSON, calls the same
//! core services as the hosted UI (password sign-in is [`crate::core::signin`], the claims
//! GetUser releases [`crate::core::oauth::claims`]) and answers errors with
//! [`cognito_errors`]' `__type` names.

use crate::federation::saml::remote::MetadataRefresher;
use std::future::Future;
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

// H1: the AWS edge (POST /).
pub mod aws;
// P3: the resource servers' authorization check.
pub mod authorize;
pub mod cognito_errors;
pub mod cookies;
pub mod cors;
pub mod demo;
pub mod discovery;
pub mod error;
pub mod hosted;
mod listen;
pub mod net;
pub mod oauth;
pub mod ops;
pub mod saml;
pub mod state;

pub use error::ApiError;
pub use state::{AppState, StartError};

/// The longest request target accepted; longer ones get 414 (RFC 9110 section 15.5.15).
pub const MAX_URI_BYTES: usize = 8 * 1024;

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
        // The identity service's issuer (issue 12). A static segment: axum prefers it over
        // `{pool_id}`, and no pool id (`<region>_<id>`) is `identity` anyway.
        .route(
            "/identity/.well-known/openid-configuration",
            get(discovery::identity_openid_configuration),
        )
        .route(
            "/identity/.well-known/jwks.json",
            get(discovery::identity_jwks),
        )
        .layer(public_cors);
    Router::new()
        // H1: the AWS APIs on one endpoint (see `aws`).
        // Other methods on `/` answer as any unknown path does (a JSON 404).
        .route(
            "/",
            post(aws::dispatch)
                .options(aws::preflight)
                .fallback(ops::not_found),
        )
        // P3: the resource servers' authorization check (admin key, HTTP Basic).
        .route(authorize::PATH, post(authorize::check))
        .route("/health", get(ops::health))
        .route("/health/ready", get(ops::ready))
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
            get(hosted::upstream::start_from_login).post(hosted::work_email_submit),
        )
        .route(
            "/oauth2/idpresponse",
            get(hosted::upstream::callback).post(hosted::upstream::callback_post),
        )
        .route(
            "/oauth2/idpresponse/{pool_id}/{provider}",
            get(hosted::upstream::provider_callback).post(hosted::upstream::provider_callback_post),
        )
        .route("/login", get(hosted::login_page).post(hosted::login_submit))
        .route("/login/new-password", post(hosted::new_password_submit))
        // Issue 13: the second factor, enrolment at sign-in, passwordless first factors.
        .route(
            "/login/mfa",
            get(hosted::mfa::challenge_page).post(hosted::mfa::challenge_submit),
        )
        .route(
            "/login/mfa/email-code",
            post(hosted::mfa::challenge_email_code),
        )
        .route("/login/mfa/sms-code", post(hosted::mfa::challenge_sms_code))
        .route(
            "/login/mfa-setup",
            get(hosted::mfa::setup_page).post(hosted::mfa::setup_submit),
        )
        .route(
            "/login/mfa-setup/email-code",
            post(hosted::mfa::setup_email_code),
        )
        .route("/login/mfa-setup/done", post(hosted::mfa::setup_done))
        .route("/login/passkey/options", post(hosted::mfa::passkey_options))
        .route(
            hosted::passkey_offer::REGISTER_PATH,
            post(hosted::passkey_offer::register),
        )
        .route(
            hosted::passkey_offer::CONTINUE_PATH,
            post(hosted::passkey_offer::continue_sign_in),
        )
        .route("/login/passkey", post(hosted::passwordless::passkey_submit))
        .route(
            "/login/email",
            get(hosted::passwordless::email_page_get).post(hosted::passwordless::email_submit),
        )
        .route(
            "/login/email/verify",
            post(hosted::passwordless::email_verify),
        )
        .route("/static/passkey.js", get(hosted::passwordless::passkey_js))
        .route(
            "/security/not-me",
            get(hosted::not_me::page).post(hosted::not_me::submit),
        )
        .route("/account/security", get(hosted::security::page))
        .route(
            "/account/security/totp/start",
            post(hosted::security::totp_start),
        )
        .route(
            "/account/security/totp/confirm",
            post(hosted::security::totp_confirm),
        )
        .route(
            "/account/security/email/send",
            post(hosted::security::email_send),
        )
        .route(
            "/account/security/email/confirm",
            post(hosted::security::email_confirm),
        )
        .route(
            "/account/security/passkey/options",
            post(hosted::security::passkey_options),
        )
        .route(
            "/account/security/passkey/register",
            post(hosted::security::passkey_register),
        )
        .route(
            "/account/security/sms/enable",
            post(hosted::security::sms_enable),
        )
        .route("/account/security/remove", post(hosted::security::remove))
        .route("/account/security/prefer", post(hosted::security::prefer))
        .route(
            "/account/security/recovery-codes",
            post(hosted::security::recovery_codes),
        )
        .route("/logout", get(hosted::logout))
        .route(
            "/signup",
            get(hosted::account::signup_page_get).post(hosted::account::signup_submit),
        )
        .route(
            "/confirm",
            get(hosted::account::confirm_page_get).post(hosted::account::confirm_submit),
        )
        .route("/confirm/resend", post(hosted::account::confirm_resend))
        .route(
            "/forgot-password",
            get(hosted::account::forgot_page_get).post(hosted::account::forgot_submit),
        )
        .route(
            "/reset-password",
            get(hosted::account::reset_page_get).post(hosted::account::reset_submit),
        )
        .route(
            "/saml2/idpresponse",
            get(hosted::upstream::saml_continue).post(hosted::upstream::saml_acs),
        )
        .route("/saml2/metadata/{pool_id}", get(saml::metadata))
        .route("/saml2/logout", get(hosted::saml_logout))
        .route("/demo", get(demo::start))
        .route("/demo/callback", get(demo::callback))
        .merge(well_known)
        .fallback(ops::not_found)
        .layer(RequestBodyLimitLayer::new(max_body))
        // H1: outside the limit, so its 413 on `POST /` gets the AWS error shape.
        .layer(middleware::from_fn(aws::shape_body_limit))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .with_state(state)
}

/// The metrics listener's router: `GET /metrics` (Prometheus text exposition) only. It is
/// not on the public listener: request counts, routes and latencies are for the operator,
/// so they are served only on `[server] metrics_listen` (loopback or an internal network).
pub fn metrics_app(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(ops::metrics))
        .fallback(ops::not_found)
        .with_state(state)
}

/// Records metrics and a log line per request (route template and status only: no query
/// strings or headers, which may carry codes and tokens), refuses over-long targets, and
/// ends a request that runs past `[server] request_timeout_secs` with 408 (a slow body
/// counts: extractors read it inside the handler).
async fn observe(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let limit = Duration::from_secs(state.node.config.server.request_timeout_secs);
    let response = if request.uri().to_string().len() > MAX_URI_BYTES {
        error::plain_status(StatusCode::URI_TOO_LONG, "The request URI is too long.")
    } else {
        match tokio::time::timeout(limit, next.run(request)).await {
            Ok(response) => response,
            Err(_) => error::plain_status(
                StatusCode::REQUEST_TIMEOUT,
                "The request took too long and was stopped.",
            ),
        }
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
/// finish (graceful shutdown). Connections must send each request head within `[server]
/// header_read_timeout_secs` (the private `listen` module says how).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = connection_limits(&state);
    // Every node refreshes the SAML metadata declared by URL while it serves.
    let refresher = tokio::spawn(
        MetadataRefresher::new(
            state.node.store.clone(),
            state.node.idp_http.clone(),
            state.metrics.clone(),
        )
        .run(),
    );
    let served = listen::serve_router(listener, app(state), limits, shutdown).await;
    refresher.abort();
    served
}

/// Serves [`metrics_app`] on its own listener (`[server] metrics_listen`) until `shutdown`.
pub async fn serve_metrics(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = connection_limits(&state);
    listen::serve_router(listener, metrics_app(state), limits, shutdown).await
}

fn connection_limits(state: &AppState) -> listen::ConnectionLimits {
    let server = &state.node.config.server;
    listen::ConnectionLimits {
        header_read: Duration::from_secs(server.header_read_timeout_secs),
        // A client may be slow to read a large answer, but not stall for a whole request's
        // time.
        write: Duration::from_secs(server.request_timeout_secs),
        // In-flight requests can take at most the request timeout; a second more lets
        // their answers go out.
        drain: Duration::from_secs(server.request_timeout_secs + 1),
    }
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
