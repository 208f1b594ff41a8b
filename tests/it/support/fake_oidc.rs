//! An in-process fake OpenID Connect provider on 127.0.0.1:0 with its own RSA key:
//! discovery, JWKS, an authorize endpoint that consents at once for the configured user,
//! a token endpoint as strict as a real one (client authentication, the code's
//! redirect_uri, the PKCE verifier, single-use codes), and userinfo. Tests bend the ID
//! token (claims, alg, kid) or the token endpoint (garbage, a hang) to play attackers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Map, Value};
use tokio::sync::oneshot;

/// How the client authenticates at the token endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Basic,
    Post,
}

/// What the token endpoint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenMode {
    /// A correct RS256 ID token (with the configured overrides).
    Normal,
    /// `alg: none`, no signature.
    AlgNone,
    /// HS256 with the IdP's public key (DER) as the HMAC secret.
    Hs256PublicKey,
    /// Signed by another key, under a `kid` the JWKS does not have.
    UnknownKid,
    /// 200 with a body that is not JSON.
    Garbage,
    /// Never answers.
    Hang,
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
    key: RsaKeyPair,
    other_key: RsaKeyPair,
    kid: String,
    subject: String,
    claims: Map<String, Value>,
    overrides: Map<String, Value>,
    mode: TokenMode,
    authorize_error: Option<String>,
    send_iss: bool,
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
        let generate =
            || RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).expect("RSA key generation");
        let inner = Arc::new(Mutex::new(Inner {
            issuer: issuer.clone(),
            client_id: client_id.to_string(),
            client_secret: client_secret.to_string(),
            auth,
            key: generate(),
            other_key: generate(),
            kid: format!("fake-{}", &issuer[issuer.len() - 5..]),
            subject: "10769150350006150715113082367".to_string(),
            claims: Map::new(),
            overrides: Map::new(),
            mode: TokenMode::Normal,
            authorize_error: None,
            send_iss: false,
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

    /// Claims overriding the ID token's computed ones (`aud`, `iss`, `exp`, `iat`,
    /// `nonce`...); `null` removes a claim.
    pub fn set_overrides(&self, overrides: Value) {
        self.inner.lock().unwrap().overrides = overrides.as_object().cloned().unwrap_or_default();
    }

    pub fn set_mode(&self, mode: TokenMode) {
        self.inner.lock().unwrap().mode = mode;
    }

    /// The authorize endpoint answers with this OAuth error instead of a code.
    pub fn set_authorize_error(&self, error: Option<&str>) {
        self.inner.lock().unwrap().authorize_error = error.map(str::to_string);
    }

    /// Whether the authorization response carries `iss` (RFC 9207).
    pub fn set_send_iss(&self, send: bool) {
        self.inner.lock().unwrap().send_iss = send;
    }

    pub fn token_requests(&self) -> usize {
        self.inner.lock().unwrap().token_requests
    }

    /// Back to a well-behaved IdP.
    pub fn reset(&self) {
        let mut inner = self.inner.lock().unwrap();
        inner.overrides.clear();
        inner.mode = TokenMode::Normal;
        inner.authorize_error = None;
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

impl Drop for FakeOidc {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

async fn discovery(State(s): State<Shared>) -> Json<Value> {
    let issuer = s.lock().unwrap().issuer.clone();
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "userinfo_endpoint": format!("{issuer}/userinfo"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

fn jwk(key: &RsaKeyPair, kid: &str) -> Value {
    let public = key.public_key();
    json!({
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    })
}

async fn jwks(State(s): State<Shared>) -> Json<Value> {
    let inner = s.lock().unwrap();
    Json(json!({ "keys": [jwk(&inner.key, &inner.kid)] }))
}

async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = s.lock().unwrap();
    let (Some(redirect_uri), Some(client_id)) = (q.get("redirect_uri"), q.get("client_id")) else {
        return (
            StatusCode::BAD_REQUEST,
            "redirect_uri and client_id are required",
        )
            .into_response();
    };
    if client_id != &inner.client_id || q.get("response_type").map(String::as_str) != Some("code") {
        return (StatusCode::BAD_REQUEST, "unknown client or response_type").into_response();
    }
    let mut url = url::Url::parse(redirect_uri).unwrap();
    {
        let mut pairs = url.query_pairs_mut();
        match &inner.authorize_error {
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
                inner.codes.insert(
                    code,
                    Grant {
                        client_id: client_id.clone(),
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
        inner.mode
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
    for (k, v) in inner.claims.clone() {
        claims.insert(k, v);
    }
    for (k, v) in inner.overrides.clone() {
        if v.is_null() {
            claims.remove(&k);
        } else {
            claims.insert(k, v);
        }
    }
    let id_token = sign(&inner, mode, &Value::Object(claims));
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

fn sign(inner: &Inner, mode: TokenMode, claims: &Value) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
    let payload = b64(claims);
    let rsa = |key: &RsaKeyPair, kid: &str| {
        let input = format!(
            "{}.{payload}",
            b64(&json!({"alg": "RS256", "typ": "JWT", "kid": kid}))
        );
        let mut sig = vec![0u8; key.public_modulus_len()];
        key.sign(
            &RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
    };
    match mode {
        TokenMode::AlgNone => {
            format!(
                "{}.{payload}.",
                b64(&json!({"alg": "none", "typ": "JWT", "kid": inner.kid}))
            )
        }
        TokenMode::Hs256PublicKey => {
            let input = format!(
                "{}.{payload}",
                b64(&json!({"alg": "HS256", "typ": "JWT", "kid": inner.kid}))
            );
            let secret = inner.key.public_key().as_ref().to_vec();
            let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &secret);
            let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
            format!("{input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()))
        }
        TokenMode::UnknownKid => rsa(&inner.other_key, "rotated-away"),
        _ => rsa(&inner.key, &inner.kid),
    }
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
