//! The AWS error shapes: AWS JSON 1.1 (`{"__type", "message"}` with `x-amzn-ErrorType`)
//! and STS's query protocol (`<ErrorResponse><Error><Type>Sender</Type><Code>`...), each
//! with the request id.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::{sts, Protocol};
use crate::core::sigv4::SigV4Error;
use crate::federation::saml::sp::xml_escape;

/// An error answered in the AWS shape of the request's protocol. `code` is the JSON
/// `__type` (`UnknownOperationException`) or STS's `Code` (`InvalidAction`); internal
/// detail never goes in `message` (it is logged where the error is made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// STS's `Type`: the caller's fault (`Sender`) or the server's (`Receiver`).
    pub sender: bool,
}

impl AwsError {
    /// A caller's error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AwsError {
            status,
            code,
            message: message.into(),
            sender: true,
        }
    }

    /// `400 <code>`, the status of most of AWS's client errors.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// A server fault: the detail goes to the log, the caller reads a generic message.
    pub fn internal(protocol: Protocol, detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "AWS API: internal error");
        AwsError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: match protocol {
                Protocol::Json => "InternalErrorException",
                Protocol::Query => "InternalFailure",
            },
            message: "An internal error occurred.".into(),
            sender: false,
        }
    }

    /// A refused signature, named as the protocol's services name it.
    pub fn sigv4(protocol: Protocol, e: &SigV4Error) -> Self {
        let code = match protocol {
            Protocol::Json => e.json_type(),
            Protocol::Query => e.sts_code(),
        };
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::FORBIDDEN);
        Self::new(status, code, e.to_string())
    }

    /// An action the endpoint does not serve.
    pub fn unknown_operation(protocol: Protocol, action: &str) -> Self {
        match protocol {
            Protocol::Json => Self::bad_request("UnknownOperationException", ""),
            Protocol::Query => Self::bad_request(
                "InvalidAction",
                format!(
                    "Could not find operation {action} for version {}",
                    sts::VERSION
                ),
            ),
        }
    }

    /// A body the protocol cannot read.
    pub fn serialization(protocol: Protocol, message: impl Into<String>) -> Self {
        match protocol {
            Protocol::Json => Self::bad_request("SerializationException", message),
            Protocol::Query => Self::bad_request("MalformedQueryString", message),
        }
    }

    /// A body over `[server] max_body_bytes`.
    pub fn too_large(protocol: Protocol) -> Self {
        let code = match protocol {
            Protocol::Json => "RequestEntityTooLargeException",
            Protocol::Query => "RequestEntityTooLarge",
        };
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            code,
            "The request body is larger than this server accepts.",
        )
    }

    /// A signed caller whose key may not make this call.
    pub fn access_denied(protocol: Protocol, message: impl Into<String>) -> Self {
        let code = match protocol {
            Protocol::Json => "AccessDeniedException",
            Protocol::Query => "AccessDenied",
        };
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    /// The response in `protocol`'s shape, with the request id.
    pub fn render(&self, protocol: Protocol, request_id: &str) -> Response {
        let mut response = match protocol {
            Protocol::Json => {
                let body = serde_json::json!({"__type": self.code, "message": self.message});
                let mut r = (self.status, body.to_string()).into_response();
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(super::json::CONTENT_TYPE),
                );
                r
            }
            Protocol::Query => {
                let body = format!(
                    "<ErrorResponse xmlns=\"{ns}\"><Error><Type>{kind}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>",
                    ns = sts::NAMESPACE,
                    kind = if self.sender { "Sender" } else { "Receiver" },
                    code = xml_escape(self.code),
                    message = xml_escape(&self.message),
                    id = xml_escape(request_id),
                );
                let mut r = (self.status, body).into_response();
                r.headers_mut()
                    .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
                r
            }
        };
        if let Ok(v) = HeaderValue::from_str(self.code) {
            response.headers_mut().insert("x-amzn-ErrorType", v);
        }
        super::finish(response, request_id)
    }
}
