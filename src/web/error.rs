//! One error type for the JSON edge. Internal detail goes to the log, never to the client.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::core::directory::DirectoryError;
use crate::core::keys::KeyError;
use crate::core::storage::StoreError;

/// An error answered as `{"error": code, "message": text}`.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A failure that is ours, not the caller's: logged in full, answered vaguely.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "An internal error occurred.",
        )
    }

    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %detail, "dependency unavailable");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "The service is temporarily unavailable.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": self.code, "message": self.message})),
        )
            .into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => ApiError::unavailable(e),
            StoreError::NotFound => ApiError::not_found("Not found."),
            other => ApiError::internal(other),
        }
    }
}

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> Self {
        match e {
            KeyError::Store(s) => s.into(),
            other => ApiError::internal(other),
        }
    }
}

impl From<DirectoryError> for ApiError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::PoolNotFound(id) => {
                ApiError::not_found(format!("User pool {id} does not exist."))
            }
            DirectoryError::Store(s) => s.into(),
            DirectoryError::Password(p) => ApiError::internal(p),
            other => ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                other.to_string(),
            ),
        }
    }
}

/// A bare status with a short JSON body (used by middleware).
pub fn plain_status(status: StatusCode, message: &str) -> Response {
    (
        status,
        Json(json!({"error": status.canonical_reason().unwrap_or("error"), "message": message})),
    )
        .into_response()
}
