//! An in-process fake OpenID Connect provider on 127.0.0.1:0 with its own RSA key:
//! discovery, JWKS, an authorize endpoint that consents at once for the configured user,
//! a token endpoint as strict as a real one (client authentication, the code's
//! redirect_uri, the PKCE verifier, single-use codes), and userinfo. Tests bend the ID
//! token (claims, alg, kid) or the token endpoint (garbage, a hang) to play attackers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;

use super::fake_idp::{authorize_request, id_token_claims, Bends, SigningKeys};
pub use super::fake_idp::{Bendable, TokenMode};

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    Post,
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    challenge: Option<String>,
    nonce: Option<String>,
}

struct Inner {
    issuer: String,
    client_id: String,
    client_secret: String,
    auth: ClientAuth,
    keys: SigningKeys,
    subject: String,
    claims: Map<String, Value>,
    bends: Bends,
    send_iss: bool,
    /// Whether discovery advertises `iss` in authorization responses (RFC 9207).
    advertise_iss: bool,
    /// The redirect URIs registered for the client; when set, any other is refused with
    /// a 400 as a real provider does (exact match, RFC 9700 section 4.1.3).
    registered: Option<Vec<String>>,
    /// Fields of the discovery document replaced (a hostile IdP's endpoints).
    discovery: Map<String, Value>,
    codes: HashMap<String, Grant>,
    access_tokens: HashMap<String, String>,
    token_requests: usize,
}

type Shared = Arc<Mutex<Inner>>;

pub struct FakeOidc {
    /// `http://127.0.0.1:<port>`, also the issuer.
    pub issuer: String,
    inner: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl FakeOidc {
    pub async fn start(client_id: &str, client_secret: &str, auth: ClientAuth) -> FakeOidc {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Mutex::new(Inner {
            issuer: issuer.clone(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            auth,
            keys: SigningKeys::generate(&format!("fake-{}", &issuer[issuer.len() - 5..])),
            subject: "10769150350006150715113082367".to_string(),
            claims: Map::new(),
            bends: Bends::default(),
            send_iss: false,
            advertise_iss: false,
            registered: None,
            discovery: Map::new(),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            token_requests: 0,
        }));
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .route("/userinfo", get(userinfo))
            .with_state(inner.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeOidc {
            issuer,
            inner,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.issuer)
    }

    /// The user the authorize endpoint signs in, and the claims of their ID token.
    pub fn set_user(&self, subject: &str, claims: Value) {
        let mut inner = self.inner.lock().unwrap();
        inner.subject = subject.to_string();
        inner.claims = claims.as_object().cloned().unwrap_or_default();
    }

    /// Whether the authorization response carries `iss` (RFC 9207).
    pub fn set_send_iss(&self, send: bool) {
        self.inner.lock().unwrap().send_iss = send;
    }

    /// Whether discovery advertises `authorization_response_iss_parameter_supported`
    /// (RFC 9207 section 3); the answers carry `iss` only per [`FakeOidc::set_send_iss`].
    pub fn set_advertise_iss(&self, advertise: bool) {
        self.inner.lock().unwrap().advertise_iss = advertise;
    }

    /// Registers exactly these redirect URIs for the client: the authorize endpoint
    /// refuses any other (by default it takes any, to let tests deliver anywhere).
    pub fn register_redirects(&self, uris: &[String]) {
        self.inner.lock().unwrap().registered = Some(uris.to_vec());
    }

    /// Replaces `field` of the discovery document with `value` (an endpoint elsewhere);
    /// `Value::Null` restores it. While any field is replaced the document is served
    /// `no-store`, so Cognate's cache does not keep it.
    pub fn set_discovery(&self, field: &str, value: Value) {
        let mut inner = self.inner.lock().unwrap();
        if value.is_null() {
            inner.discovery.remove(field);
        } else {
            inner.discovery.insert(field.to_string(), value);
        }
    }

    pub fn token_requests(&self) -> usize {
        self.inner.lock().unwrap().token_requests
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            h.abort();
            let _ = h.await;
        }
    }
}

impl Bendable for FakeOidc {
    fn bend(&self, change: impl FnOnce(&mut Bends)) {
        change(&mut self.inner.lock().unwrap().bends);
    }
}

impl Drop for FakeOidc {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

async fn discovery(State(s): State<Shared>) -> Response {
    let (issuer, advertise_iss, replaced) = {
        let inner = s.lock().unwrap();
        (
            inner.issuer.clone(),
            inner.advertise_iss,
            inner.discovery.clone(),
        )
    };
    let mut doc = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    });
    if advertise_iss {
        doc["authorization_response_iss_parameter_supported"] = json!(true);
    }
    if replaced.is_empty() {
        return Json(doc).into_response();
    }
    doc.as_object_mut().unwrap().extend(replaced);
    ([("cache-control", "no-store")], Json(doc)).into_response()
}

async fn jwks(State(s): State<Shared>) -> Json<Value> {
    Json(s.lock().unwrap().keys.jwks())
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = s.lock().unwrap();
    let redirect_uri = match authorize_request(&q, &inner.client_id) {
        Ok(redirect_uri) => redirect_uri,
        Err(refused) => return refused.into_response(),
    };
    if inner
        .registered
        .as_ref()
        .is_some_and(|uris| !uris.contains(&redirect_uri))
    {
        return (StatusCode::BAD_REQUEST, "redirect_uri is not registered").into_response();
    }
    let mut url = url::Url::parse(&redirect_uri).unwrap();
    {
        let mut pairs = url.query_pairs_mut();
        match &inner.bends.authorize_error {
            Some(error) => {
                pairs.append_pair("error", error);
                pairs.append_pair("error_description", "The user declined.");
            }
            None => {
                let code = cognate::core::secrets::random_token::<16>();
                let challenge = match q.get("code_challenge_method").map(String::as_str) {
                    Some("S256") => q.get("code_challenge").cloned(),
                    _ => None,
                };
                pairs.append_pair("code", &code);
                let client_id = inner.client_id.clone();
                inner.codes.insert(
                    code,
                    Grant {
                        client_id,
                        redirect_uri: redirect_uri.clone(),
                        challenge,
                        nonce: q.get("nonce").cloned(),
                    },
                );
            }
        }
        if let Some(state) = q.get("state") {
            pairs.append_pair("state", state);
        }
        if inner.send_iss {
            pairs.append_pair("iss", &inner.issuer);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

fn token_error(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({ "error": error }))).into_response()
}

/// RFC 6749 section 4.1.3 and RFC 7636 section 4.6, as strictly as a real IdP.
async fn token(
    State(s): State<Shared>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let mode = {
        let mut inner = s.lock().unwrap();
        inner.token_requests += 1;
        inner.bends.mode
    };
    if mode == TokenMode::Hang {
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
    }
    if mode == TokenMode::Garbage {
        return (StatusCode::OK, "<html>Service Unavailable</html>").into_response();
    }
    let mut inner = s.lock().unwrap();
    // Client authentication by the registered method only.
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let authenticated = match inner.auth {
        ClientAuth::Basic => {
            let decode = |s: &str| {
                url::form_urlencoded::parse(format!("x={s}").as_bytes())
                    .next()
                    .map(|(_, v)| v.to_string())
                    .unwrap_or_default()
            };
            basic
                .as_deref()
                .and_then(|b| b.split_once(':'))
                .is_some_and(|(id, secret)| {
                    decode(id) == inner.client_id && decode(secret) == inner.client_secret
                })
                && !form.contains_key("client_secret")
        }
        ClientAuth::Post => {
            basic.is_none()
                && form.get("client_id") == Some(&inner.client_id)
                && form.get("client_secret") == Some(&inner.client_secret)
        }
    };
    if !authenticated {
        return token_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return token_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let Some(grant) = form.get("code").and_then(|c| inner.codes.remove(c)) else {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    if grant.client_id != inner.client_id || form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    if let Some(challenge) = &grant.challenge {
        let ok = form
            .get("code_verifier")
            .is_some_and(|v| &cognate::core::oauth::grants::pkce_challenge(v) == challenge);
        if !ok {
            return token_error(StatusCode::BAD_REQUEST, "invalid_grant");
        }
    }
    let now = cognate::core::now();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(inner.issuer));
    claims.insert("sub".into(), json!(inner.subject));
    claims.insert("aud".into(), json!(inner.client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + 3600));
    if let Some(nonce) = grant.nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    let claims = id_token_claims(claims, &inner.claims, &inner.bends.overrides);
    let id_token = inner.keys.sign(mode, &json!({"typ": "JWT"}), &claims);
    let access_token = cognate::core::secrets::random_token::<16>();
    let subject = inner.subject.clone();
    inner.access_tokens.insert(access_token.clone(), subject);
    Json(json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": id_token,
    }))
    .into_response()
}

async fn userinfo(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let inner = s.lock().unwrap();
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match token.and_then(|t| inner.access_tokens.get(t)) {
        Some(sub) => {
            let mut claims = inner.claims.clone();
            claims.insert("sub".into(), json!(sub));
            Json(Value::Object(claims)).into_response()
        }
        None => (StatusCode::UNAUTHORIZED, "invalid_token").into_response(),
    }
}
