//! The AWS edge: ONE route, `POST /` (and `OPTIONS /` for browsers' preflights), serving
//! every AWS SDK client from one endpoint URL, as AWS's regional endpoints do.
//!
//! Routing:
//! - an `X-Amz-Target: <Prefix>.<Action>` header is the AWS JSON 1.1 protocol ([`json`]):
//!   `AWSCognitoIdentityService.` to the identity pools API, `AWSCognitoIdentityProviderService.`
//!   to the user pools API; other prefixes and unknown actions answer
//!   `UnknownOperationException`; a body that is not a JSON object answers
//!   `SerializationException`;
//! - otherwise a form body (`application/x-www-form-urlencoded`) is STS's query protocol
//!   ([`sts`]), routed by its `Action` field with `Version=2011-06-15`;
//! - anything else is answered in the JSON shape as an unknown operation.
//!
//! Every answer carries `x-amzn-RequestId` (a fresh UUID) and CORS headers for any origin
//! (browser SDKs call the public actions; signed calls are authenticated by their
//! signature, never by a cookie, so an open origin grants nothing). Errors are AWS's
//! shapes ([`AwsError`]): JSON `{"__type", "message"}` with `x-amzn-ErrorType`, or STS's
//! `<ErrorResponse>`. A body over `[server] max_body_bytes` is answered 413 in the same
//! shapes ([`shape_body_limit`]), never as plain text.
//!
//! Signed calls are verified by [`authenticate`]: SigV4 ([`crate::core::sigv4`]) against
//! the operator credentials ([`crate::core::admin_keys`]), scoped to `[server] region` and
//! the API's service (`cognito-identity`, `cognito-idp`, `sts`). Handlers receive an
//! [`AwsCall`] with the [`Caller`], the client address, the request id and `now`.
//! [`Auth::AnySigned`](json::Auth::AnySigned) actions also accept vended session
//! credentials ([`authenticate_session`]: `ASIA` key id, `x-amz-security-token`, a live
//! session), as [`Caller::Session`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::core::admin_keys::{AdminKeyPurpose, AdminKeys};
use crate::core::identity_pools::authorize::live_role;
use crate::core::identity_pools::credentials::{self, CredentialError, SessionGrant};
use crate::core::secrets::MasterKey;
use crate::core::sigv4::{self, Expectation, SigV4Error};
use crate::core::storage::Store;
use crate::core::UnixTime;
use crate::web::AppState;

mod error;
pub mod identity;
pub mod identity_admin;
pub mod idp;
pub mod json;
pub mod sts;

pub use error::AwsError;
use json::Auth;

/// Which wire protocol a request speaks, so errors are answered in its shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// AWS JSON 1.1 (`X-Amz-Target`).
    Json,
    /// STS's query protocol (form body, XML answers).
    Query,
}

/// Who made a call, as the signature proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No signature was checked (a public action).
    Unsigned,
    /// Signed with an operator credential.
    Operator {
        access_key_id: String,
        purpose: AdminKeyPurpose,
    },
    /// P3: signed with vended credentials whose session is live (identity, user and role
    /// still there, the user enabled); only [`Auth::AnySigned`] actions accept it.
    Session {
        access_key_id: String,
        grant: Box<SessionGrant>,
    },
}

/// What every action handler receives besides its input.
#[derive(Debug, Clone)]
pub struct AwsCall {
    pub caller: Caller,
    /// The client's address (`X-Forwarded-For` from `[server] trusted_proxies` only), for
    /// rate limits of unauthenticated writes.
    pub client_ip: IpAddr,
    /// The `User-Agent` header (truncated), for the auth event log.
    pub user_agent: Option<String>,
    /// The `x-amzn-RequestId` of the answer.
    pub request_id: String,
    pub now: UnixTime,
    pub protocol: Protocol,
}

impl AwsCall {
    /// The call as the auth event log records it, made through `client_id` (if any).
    pub fn event_context(&self, client_id: Option<&str>) -> crate::core::threat::EventContext {
        crate::core::threat::EventContext::new(
            client_id,
            Some(self.client_ip),
            self.user_agent.as_deref(),
        )
    }
}

/// A received request in the verifier's terms (owned: the handler keeps it while it
/// awaits the key lookup).
pub struct Received {
    pub method: String,
    pub path: String,
    pub query: String,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Received {
    fn as_sigv4(&self) -> sigv4::Request<'_> {
        sigv4::Request {
            method: &self.method,
            path: &self.path,
            query: &self.query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

/// Verifies the request's SigV4 signature against the operator credentials, scoped to
/// the server's region and `service`. Errors are named for `protocol`; an unknown access
/// key is `UnrecognizedClientException` / `InvalidClientTokenId`, as AWS says it. A
/// session token is refused for now: operator keys have none (vended credentials come
/// with identity pools).
pub async fn authenticate(
    keys: &AdminKeys,
    region: &str,
    request: &Received,
    service: &str,
    protocol: Protocol,
    now: UnixTime,
) -> Result<Caller, AwsError> {
    let req = request.as_sigv4();
    let fail = |e: SigV4Error| AwsError::sigv4(protocol, &e);
    let parts = sigv4::parse_authorization(&req).map_err(fail)?;
    if parts.session_token.is_some() {
        return Err(fail(SigV4Error::InvalidSessionToken));
    }
    let found = keys
        .lookup_secret(&parts.access_key_id)
        .await
        .map_err(|e| AwsError::internal(protocol, e))?;
    let Some((secret, purpose)) = found else {
        return Err(fail(SigV4Error::UnknownAccessKey));
    };
    let services = [service];
    let expect = Expectation {
        region,
        services: &services,
    };
    sigv4::verify(&req, &parts, secret.expose().as_bytes(), &expect, now).map_err(fail)?;
    Ok(Caller::Operator {
        access_key_id: parts.access_key_id,
        purpose,
    })
}

/// `POST /`: routes by `X-Amz-Target` or the form's `Action`.
pub async fn dispatch(State(state): State<AppState>, request: Request) -> Response {
    let request_id = uuid::Uuid::new_v4().to_string();
    let now = crate::core::now();
    let (parts, body) = request.into_parts();
    let protocol = protocol_of(&parts.headers);
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        // The body limit layer ends an over-long body with an error; other read errors
        // (a client that went away) get the same refusal.
        Err(_) => return AwsError::too_large(protocol).render(protocol, &request_id),
    };
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .unwrap_or_else(|| SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
    let client_ip = crate::web::net::client_ip(
        peer,
        &parts.headers,
        &state.node.config.server.trusted_proxies,
    );
    // Header values are compared as signed: a value that is not UTF-8 would decode to
    // U+FFFD, so that several different requests share one signature. Such a value marks
    // the request as unreadable (the signature check then fails), never lossily decoded.
    let mut headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_string(),
                std::str::from_utf8(v.as_bytes())
                    .map(str::to_string)
                    .unwrap_or_else(|_| "\u{0}invalid".to_string()),
            )
        })
        .collect();
    if !parts.headers.contains_key(header::HOST) {
        // HTTP/2 carries the host as the :authority.
        if let Some(authority) = parts.uri.authority() {
            headers.push(("host".into(), authority.as_str().to_string()));
        }
    }
    let received = Received {
        method: parts.method.as_str().to_string(),
        path: parts.uri.path().to_string(),
        query: parts.uri.query().unwrap_or_default().to_string(),
        headers,
        body,
    };
    let call = AwsCall {
        caller: Caller::Unsigned,
        client_ip,
        user_agent: crate::web::net::user_agent(&parts.headers),
        request_id,
        now,
        protocol,
    };
    let result = match protocol {
        Protocol::Json => run_json(&state, &parts.headers, &received, call.clone()).await,
        Protocol::Query => run_sts(&state, &received, call.clone()).await,
    };
    match result {
        Ok(response) => finish(response, &call.request_id),
        Err(e) => e.render(protocol, &call.request_id),
    }
}

/// JSON when an `X-Amz-Target` is sent or the body is not a form; the query protocol for
/// a form body without a target.
fn protocol_of(headers: &HeaderMap) -> Protocol {
    if headers.contains_key("x-amz-target") {
        return Protocol::Json;
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if form {
        Protocol::Query
    } else {
        Protocol::Json
    }
}

async fn run_json(
    state: &AppState,
    headers: &HeaderMap,
    received: &Received,
    mut call: AwsCall,
) -> Result<Response, AwsError> {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some((api, action_name)) = json::api_of(target) else {
        return Err(AwsError::unknown_operation(Protocol::Json, target));
    };
    let input =
        json::parse_body(&received.body).map_err(|m| AwsError::serialization(Protocol::Json, m))?;
    let Some(action) = json::find(api.actions, action_name) else {
        return Err(AwsError::unknown_operation(Protocol::Json, action_name));
    };
    if action.auth == Auth::AnySigned {
        call.caller = any_signed(state, received, api.service, Protocol::Json, call.now).await?;
    }
    if action.auth == Auth::Operator {
        call.caller = operator(state, received, api.service, Protocol::Json, call.now).await?;
    }
    let output = (action.run)(state, &call, input).await?;
    let mut response = (StatusCode::OK, output.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(json::CONTENT_TYPE),
    );
    Ok(response)
}

async fn run_sts(
    state: &AppState,
    received: &Received,
    mut call: AwsCall,
) -> Result<Response, AwsError> {
    let params: Vec<(String, String)> = serde_urlencoded::from_bytes(&received.body)
        .map_err(|_| AwsError::serialization(Protocol::Query, "The form body is malformed."))?;
    let params = sts::StsParams(params);
    let action_name = sts::action_of(&params)?;
    let Some(action) = sts::ACTIONS.iter().find(|a| a.name == action_name) else {
        return Err(AwsError::unknown_operation(Protocol::Query, action_name));
    };
    match action.auth {
        Auth::Public => {}
        Auth::Operator => {
            call.caller =
                operator(state, received, sts::SERVICE, Protocol::Query, call.now).await?;
        }
        Auth::AnySigned => {
            call.caller =
                any_signed(state, received, sts::SERVICE, Protocol::Query, call.now).await?;
        }
    }
    let result = (action.run)(state, &call, &params).await?;
    let body = sts::render_result(action.name, &result, &call.request_id);
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    Ok(response)
}

/// [`authenticate`] with the node's keys and region.
async fn operator(
    state: &AppState,
    received: &Received,
    service: &str,
    protocol: Protocol,
    now: UnixTime,
) -> Result<Caller, AwsError> {
    let caller = authenticate(
        &state.admin_keys,
        &state.node.config.server.region,
        received,
        service,
        protocol,
        now,
    )
    .await?;
    // A resource server's key (`authorize`) manages nothing, in every protocol.
    if let Caller::Operator {
        purpose: AdminKeyPurpose::Authorize,
        access_key_id,
    } = &caller
    {
        return Err(AwsError::access_denied(
            protocol,
            format!(
                "{access_key_id} is an authorization-check key and is not authorized to perform this action"
            ),
        ));
    }
    Ok(caller)
}

/// P3: an operator key or vended session credentials, by the shape of the access key id.
async fn any_signed(
    state: &AppState,
    received: &Received,
    service: &str,
    protocol: Protocol,
    now: UnixTime,
) -> Result<Caller, AwsError> {
    let parts = sigv4::parse_authorization(&received.as_sigv4())
        .map_err(|e| AwsError::sigv4(protocol, &e))?;
    if credentials::is_temporary_access_key_id(&parts.access_key_id) {
        authenticate_session(
            state.node.store.as_ref(),
            &state.node.master,
            &state.node.config.server.region,
            received,
            service,
            protocol,
            now,
        )
        .await
    } else {
        // Any admin key, an `authorize` one included: "who am I" manages nothing.
        authenticate(
            &state.admin_keys,
            &state.node.config.server.region,
            received,
            service,
            protocol,
            now,
        )
        .await
    }
}

/// P3: verifies a request signed with vended credentials: the session token opens for the
/// access key id (else `InvalidClientTokenId` / `UnrecognizedClientException`), is not
/// expired (`ExpiredToken` / `ExpiredTokenException`), the signature verifies with the
/// session's secret, and the session is live ([`live_role`]: a disabled user's or a
/// deleted role's credentials are refused as invalid at once).
pub async fn authenticate_session(
    store: &dyn Store,
    master: &MasterKey,
    region: &str,
    request: &Received,
    service: &str,
    protocol: Protocol,
    now: UnixTime,
) -> Result<Caller, AwsError> {
    let req = request.as_sigv4();
    let fail = |e: SigV4Error| AwsError::sigv4(protocol, &e);
    let parts = sigv4::parse_authorization(&req).map_err(fail)?;
    let Some(token) = parts.session_token.as_deref() else {
        return Err(fail(SigV4Error::UnknownAccessKey));
    };
    let (grant, secret) =
        credentials::open(master, &parts.access_key_id, token, now).map_err(|e| match e {
            CredentialError::Expired => fail(SigV4Error::ExpiredSessionToken),
            CredentialError::Malformed | CredentialError::Invalid => {
                fail(SigV4Error::InvalidSessionToken)
            }
        })?;
    let services = [service];
    let expect = Expectation {
        region,
        services: &services,
    };
    sigv4::verify(&req, &parts, secret.expose().as_bytes(), &expect, now).map_err(fail)?;
    match live_role(store, &grant).await {
        Ok(Ok(_)) => {}
        Ok(Err(why)) => {
            tracing::info!(?why, identity_id = %grant.identity_id, "AWS API: session no longer live");
            return Err(fail(SigV4Error::InvalidSessionToken));
        }
        Err(e) => return Err(AwsError::internal(protocol, e)),
    }
    Ok(Caller::Session {
        access_key_id: parts.access_key_id,
        grant: Box::new(grant),
    })
}

/// The headers browsers may send on `POST /`. Amplify v6 adds `cache-control: no-store` to
/// every user pools API call (its `cognitoUserPoolTransferHandler`): without it in the
/// preflight's answer the browser never sends the call.
const ALLOW_HEADERS: &str = "content-type, x-amz-target, x-amz-user-agent, x-amz-date, \
     x-amz-security-token, authorization, amz-sdk-invocation-id, amz-sdk-request, \
     cache-control";
/// The answer headers browser code may read.
const EXPOSE_HEADERS: &str = "x-amzn-RequestId, x-amzn-ErrorType";

/// Adds the request id and the CORS headers to an answer of `POST /`.
pub(crate) fn finish(mut response: Response, request_id: &str) -> Response {
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-RequestId", v);
    }
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSE_HEADERS),
    );
    response
}

/// `OPTIONS /`: the preflight of browser SDKs, for any origin.
pub async fn preflight() -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static(ALLOW_HEADERS),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("600"),
    );
    finish(response, &uuid::Uuid::new_v4().to_string())
}

/// Middleware outside the body limit: a `POST /` refused for its size (413, which the
/// limit layer answers as plain text from `Content-Length` alone) is answered in the AWS
/// shape of the request's protocol instead.
pub async fn shape_body_limit(request: Request, next: Next) -> Response {
    let aws = request.method() == Method::POST && request.uri().path() == "/";
    let protocol = protocol_of(request.headers());
    let response = next.run(request).await;
    let shaped = response.headers().contains_key("x-amzn-RequestId");
    if aws && !shaped && response.status() == StatusCode::PAYLOAD_TOO_LARGE {
        let request_id = uuid::Uuid::new_v4().to_string();
        return AwsError::too_large(protocol).render(protocol, &request_id);
    }
    response
}
