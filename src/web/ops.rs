//! Operations endpoints: liveness, readiness, metrics, and the JSON 404.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use super::{ApiError, AppState};

/// `GET /health`: the process is up (liveness). Touches nothing else.
pub async fn health() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /health/ready`: the database answers (readiness). 503 otherwise, so a load
/// balancer stops sending traffic to a node that cannot reach it.
pub async fn ready(State(state): State<AppState>) -> Response {
    let engine = state.node.store.engine();
    match state.node.store.ping().await {
        Ok(()) => Json(json!({"status": "ready", "database": engine})).into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "database": engine})),
            )
                .into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text exposition.
pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("No such endpoint.")
}
