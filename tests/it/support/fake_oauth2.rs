//! In-process fakes of the two plain OAuth 2.0 + profile API providers, on 127.0.0.1:0,
//! with the real endpoints' paths and response shapes:
//!
//! - Facebook Login: `/v19.0/dialog/oauth` (consents at once), `/v19.0/oauth/access_token`
//!   (JSON `{access_token, token_type, expires_in}`), Graph `/v19.0/me?fields=..` which,
//!   like an app with "Require App Secret" on, refuses a call without the right
//!   `appsecret_proof` with Graph's `{"error":{"message","type","code","fbtrace_id"}}`.
//! - Login with Amazon: `/ap/oa`, `/auth/o2/token`, `/user/profile` (Bearer only) answering
//!   `{"user_id","name","email","postal_code"}`.
//!
//! Both token endpoints check client id and secret, the code's redirect_uri, and use each
//! code once. The proof is computed here independently of Cognate's own code.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use serde_json::{json, Map, Value};

use super::fake_idp::authorize_request;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vendor {
    Facebook,
    Amazon,
}

/// What the profile API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileMode {
    Normal,
    /// 200 with a body that is not JSON.
    Garbage,
    /// 200 with JSON that is not an object.
    NotAnObject,
}

struct Inner {
    vendor: Vendor,
    client_id: String,
    client_secret: String,
    /// The key `appsecret_proof` must be made with (normally the client secret).
    proof_key: String,
    profile: Map<String, Value>,
    mode: ProfileMode,
    authorize_error: Option<String>,
    /// code -> redirect_uri it was issued for.
    codes: HashMap<String, String>,
    access_tokens: HashSet<String>,
    profile_requests: usize,
}

type Shared = Arc<Mutex<Inner>>;

pub struct FakeOAuth2 {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    inner: Shared,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl FakeOAuth2 {
    pub async fn start(vendor: Vendor, client_id: &str, client_secret: &str) -> FakeOAuth2 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let profile = match vendor {
            Vendor::Facebook => json!({
                "id": "10158000000000001",
                "name": "Carol Danvers",
                "email": "carol@example.com",
                "first_name": "Carol",
                "last_name": "Danvers",
                "picture": {"data": {
                    "url": "https://platform-lookaside.fbsbx.com/platform/profilepic/?asid=10158000000000001",
                    "width": 50, "height": 50, "is_silhouette": false
                }},
            }),
            Vendor::Amazon => json!({
                "user_id": "amzn1.account.AH2EXAMPLE7QXZ",
                "name": "Dave Bowman",
                "email": "dave@example.com",
                "postal_code": "98109",
            }),
        };
        let inner = Arc::new(Mutex::new(Inner {
            vendor,
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            proof_key: client_secret.to_string(),
            profile: profile.as_object().cloned().unwrap_or_default(),
            mode: ProfileMode::Normal,
            authorize_error: None,
            codes: HashMap::new(),
            access_tokens: HashSet::new(),
            profile_requests: 0,
        }));
        let app = match vendor {
            Vendor::Facebook => Router::new()
                .route("/v19.0/dialog/oauth", get(authorize))
                .route(
                    "/v19.0/oauth/access_token",
                    get(facebook_token_get).post(facebook_token_post),
                )
                .route("/v19.0/me", get(graph_me)),
            Vendor::Amazon => Router::new()
                .route("/ap/oa", get(authorize))
                .route("/auth/o2/token", axum::routing::post(amazon_token))
                .route("/user/profile", get(amazon_profile)),
        }
        .with_state(inner.clone());
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeOAuth2 {
            base,
            inner,
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The profile the API answers with (Facebook filters it by `fields`).
    pub fn set_profile(&self, profile: Value) {
        self.inner.lock().unwrap().profile = profile.as_object().cloned().unwrap_or_default();
    }

    pub fn set_mode(&self, mode: ProfileMode) {
        self.inner.lock().unwrap().mode = mode;
    }

    /// The key Graph expects `appsecret_proof` to be made with (an app secret rotated at
    /// Facebook but not in Cognate's configuration).
    pub fn set_proof_key(&self, key: &str) {
        self.inner.lock().unwrap().proof_key = key.to_string();
    }

    pub fn set_authorize_error(&self, error: Option<&str>) {
        self.inner.lock().unwrap().authorize_error = error.map(str::to_string);
    }

    pub fn profile_requests(&self) -> usize {
        self.inner.lock().unwrap().profile_requests
    }

    /// Back to a well-behaved provider (the profile is kept).
    pub fn reset(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner.mode = ProfileMode::Normal;
        inner.proof_key = inner.client_secret.clone();
        inner.authorize_error = None;
    }
}

impl Drop for FakeOAuth2 {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

/// The proof Graph expects: hex HMAC-SHA256(key = app secret, message = access token).
pub fn expected_proof(key: &str, access_token: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key.as_bytes());
    hex_lower(aws_lc_rs::hmac::sign(&key, access_token.as_bytes()).as_ref())
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[usize::from(b >> 4)], DIGITS[usize::from(b & 15)]])
        .map(char::from)
        .collect()
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = s.lock().unwrap();
    let redirect_uri = match authorize_request(&q, &inner.client_id) {
        Ok(redirect_uri) => redirect_uri,
        Err(refused) => return refused.into_response(),
    };
    let Ok(mut url) = url::Url::parse(&redirect_uri) else {
        return (StatusCode::BAD_REQUEST, "bad redirect_uri").into_response();
    };
    {
        let mut pairs = url.query_pairs_mut();
        match &inner.authorize_error {
            Some(error) => {
                pairs.append_pair("error", error);
                pairs.append_pair("error_reason", "user_denied");
                pairs.append_pair("error_description", "Permissions error");
            }
            None => {
                let code = cognate::core::secrets::random_token::<16>();
                pairs.append_pair("code", &code);
                inner.codes.insert(code, redirect_uri.clone());
            }
        }
        if let Some(state) = q.get("state") {
            pairs.append_pair("state", state);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

fn graph_error(status: StatusCode, message: &str, kind: &str, code: u32) -> Response {
    (
        status,
        Json(json!({"error": {
            "message": message, "type": kind, "code": code, "fbtrace_id": "AfakeTraceId0"
        }})),
    )
        .into_response()
}

async fn facebook_token_get(
    State(s): State<Shared>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    facebook_token(&s, &q)
}

async fn facebook_token_post(
    State(s): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    facebook_token(&s, &form)
}

/// "Exchanging Code for an Access Token": client_id, client_secret, redirect_uri, code.
fn facebook_token(s: &Shared, form: &HashMap<String, String>) -> Response {
    let mut inner = s.lock().unwrap();
    if form.get("client_id") != Some(&inner.client_id)
        || form.get("client_secret") != Some(&inner.client_secret)
    {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Error validating client secret.",
            "OAuthException",
            1,
        );
    }
    let granted = form.get("code").and_then(|c| inner.codes.remove(c));
    if granted.is_none() || granted.as_ref() != form.get("redirect_uri") {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "Error validating verification code. Please make sure your redirect_uri is identical to the one you used in the OAuth dialog request",
            "OAuthException",
            100,
        );
    }
    let access_token = format!("EAAB{}", cognate::core::secrets::random_token::<24>());
    inner.access_tokens.insert(access_token.clone());
    Json(json!({"access_token": access_token, "token_type": "bearer", "expires_in": 5183944}))
        .into_response()
}

/// Graph `/me`: the access token and its `appsecret_proof` are both required.
async fn graph_me(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = s.lock().unwrap();
    inner.profile_requests += 1;
    let Some(token) = q
        .get("access_token")
        .filter(|t| inner.access_tokens.contains(*t))
    else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            "An active access token must be used to query information about the current user.",
            "OAuthException",
            2500,
        );
    };
    match q.get("appsecret_proof") {
        None => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "API calls from the server require an appsecret_proof argument",
                "GraphMethodException",
                100,
            )
        }
        Some(proof) if *proof != expected_proof(&inner.proof_key, token) => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                "Invalid appsecret_proof provided in the API argument",
                "GraphMethodException",
                100,
            )
        }
        Some(_) => {}
    }
    if let Some(response) = bent(inner.mode) {
        return response;
    }
    let fields: Vec<&str> = q
        .get("fields")
        .map_or("id,name", String::as_str)
        .split(',')
        .collect();
    let mut answer = Map::new();
    for field in fields {
        if let Some(v) = inner.profile.get(field) {
            answer.insert(field.to_string(), v.clone());
        }
    }
    Json(Value::Object(answer)).into_response()
}

fn bent(mode: ProfileMode) -> Option<Response> {
    match mode {
        ProfileMode::Normal => None,
        ProfileMode::Garbage => Some((StatusCode::OK, "<html>oops</html>").into_response()),
        ProfileMode::NotAnObject => Some(Json(json!(["user_id", 42])).into_response()),
    }
}

fn lwa_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// Login with Amazon's token endpoint (RFC 6749 section 4.1.3, credentials in the form).
async fn amazon_token(
    State(s): State<Shared>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mut inner = s.lock().unwrap();
    if inner.vendor != Vendor::Amazon {
        return StatusCode::NOT_FOUND.into_response();
    }
    if form.get("client_id") != Some(&inner.client_id)
        || form.get("client_secret") != Some(&inner.client_secret)
    {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        );
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return lwa_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "");
    }
    let granted = form.get("code").and_then(|c| inner.codes.remove(c));
    if granted.is_none() || granted.as_ref() != form.get("redirect_uri") {
        return lwa_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "The authorization code is invalid or has expired",
        );
    }
    let access_token = format!("Atza|{}", cognate::core::secrets::random_token::<24>());
    inner.access_tokens.insert(access_token.clone());
    Json(json!({
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": 3600,
        "refresh_token": format!("Atzr|{}", cognate::core::secrets::random_token::<24>()),
    }))
    .into_response()
}

/// `GET /user/profile` with `Authorization: Bearer <token>` only.
async fn amazon_profile(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let mut inner = s.lock().unwrap();
    inner.profile_requests += 1;
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !token.is_some_and(|t| inner.access_tokens.contains(t)) {
        return lwa_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "The request has an invalid parameter : access_token",
        );
    }
    if let Some(response) = bent(inner.mode) {
        return response;
    }
    Json(Value::Object(inner.profile.clone())).into_response()
}
