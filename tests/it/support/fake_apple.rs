//! An in-process fake of Sign in with Apple on 127.0.0.1:0 (or any host the test names,
//! such as `localhost` for a second site) with its own RSA key (Apple signs RS256) and
//! JWKS. Its authorize endpoint answers like Apple with `response_mode=form_post`: an
//! auto-submitting HTML form POSTing `code`, `state`, `id_token` and, on a subject's
//! first authorization only, the unsigned `user` JSON to the redirect URI. Its token
//! endpoint verifies the ES256 client secret JWT against the public key of the `.p8` the
//! test generated (header `alg` ES256 and `kid`; `iss` = team id, `sub` = Services ID,
//! `aud` = `https://appleid.apple.com`, live `iat`/`exp`) and refuses anything else with
//! `invalid_client`, as Apple does.
//!
//! Knobs for the attacks, as on the fake OIDC IdP: claim overrides and a [`TokenMode`]
//! (`alg: none`, HS256 over the public key, an unknown `kid`...) for the ID tokens it
//! issues, a token endpoint that answers garbage or never, and an error
//! (`user_cancelled_authorize`) posted instead of a code.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Map, Value};

use super::fake_idp::{id_token_claims, Bends, SigningKeys};
pub use super::fake_idp::{Bendable, TokenMode};

/// A fresh P-256 key as Apple's `AuthKey_<KEY ID>.p8` file (PKCS#8 PEM), and its public
/// point (uncompressed `04 || x || y`).
pub fn generate_p8() -> (String, Vec<u8>) {
    let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
    let der = key.to_pkcs8v1().unwrap();
    let b64 = STANDARD.encode(der.as_ref());
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
        lines.join("\n")
    );
    (pem, key.public_key().as_ref().to_vec())
}

struct Grant {
    redirect_uri: String,
    nonce: Option<String>,
    subject: String,
}

struct Inner {
    issuer: String,
    client_id: String,
    team_id: String,
    key_id: String,
    /// The public point of the developer's `.p8` key, as registered at Apple.
    p8_public: Vec<u8>,
    keys: SigningKeys,
    subject: String,
    claims: Map<String, Value>,
    /// An authorize error is posted (with `state` only) instead of a code, as Apple does
    /// when the user cancels.
    bends: Bends,
    /// The `user` JSON sent on a subject's first authorization.
    user_json: Option<String>,
    authorized: HashSet<String>,
    codes: HashMap<String, Grant>,
    token_requests: usize,
    refused_secrets: usize,
}

type Shared = Arc<Mutex<Inner>>;

pub struct FakeApple {
    /// `http://<host>:<port>`, also the issuer of its ID tokens.
    pub base: String,
    inner: Shared,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl FakeApple {
    /// A fake Apple reached as `http://<host>:<port>` (bound on 127.0.0.1), for the
    /// Services ID `client_id` whose client secrets must be signed by the key of
    /// `p8_public` under (`team_id`, `key_id`).
    pub async fn start(
        host: &str,
        client_id: &str,
        team_id: &str,
        key_id: &str,
        p8_public: Vec<u8>,
    ) -> FakeApple {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let base = format!("http://{host}:{port}");
        let inner = Arc::new(Mutex::new(Inner {
            issuer: base.clone(),
            client_id: client_id.to_string(),
            team_id: team_id.to_string(),
            key_id: key_id.to_string(),
            p8_public,
            keys: SigningKeys::generate("fake-apple-kid"),
            subject: "001234.abcdef0123456789.0001".to_string(),
            claims: Map::new(),
            bends: Bends::default(),
            user_json: None,
            authorized: HashSet::new(),
            codes: HashMap::new(),
            token_requests: 0,
            refused_secrets: 0,
        }));
        let app = Router::new()
            .route("/auth/authorize", get(authorize))
            .route("/auth/token", post(token))
            .route("/auth/keys", get(keys))
            .with_state(inner.clone());
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeApple {
            base,
            inner,
            handle: Some(handle),
        }
    }

    /// The Apple ID the authorize endpoint signs in, the claims of their ID token
    /// (`email`, `email_verified`, `is_private_email`...), and the `user` JSON Apple
    /// sends on their first authorization.
    pub fn set_user(&self, subject: &str, claims: Value, user_json: Option<Value>) {
        let mut inner = self.inner.lock().unwrap();
        inner.subject = subject.to_string();
        inner.claims = claims.as_object().cloned().unwrap_or_default();
        inner.user_json = user_json.map(|u| u.to_string());
    }

    pub fn token_requests(&self) -> usize {
        self.inner.lock().unwrap().token_requests
    }

    /// How many token requests were refused for their client secret.
    pub fn refused_secrets(&self) -> usize {
        self.inner.lock().unwrap().refused_secrets
    }
}

/// Claim overrides change both ID tokens: the one posted to the redirect URI and the one
/// of the code exchange.
impl Bendable for FakeApple {
    fn bend(&self, change: impl FnOnce(&mut Bends)) {
        change(&mut self.inner.lock().unwrap().bends);
    }
}

impl Drop for FakeApple {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn unescape(s: &str) -> String {
    // minijinja's HTML escaping also writes `/` and `'` as character references.
    s.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The auto-submitting form of the fake's authorize page: its `action` and its fields, so
/// a browserless test POSTs what a browser would.
pub fn form_of(html: &str) -> (String, Vec<(String, String)>) {
    let attr = |tag: &str, name: &str| -> Option<String> {
        let marker = format!("{name}=\"");
        let start = tag.find(&marker)? + marker.len();
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    let form_tag = html.split("<form").nth(1).expect("a form");
    let action = attr(form_tag, "action").expect("an action");
    let fields = html
        .split("<input")
        .skip(1)
        .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value")?)))
        .collect();
    (action, fields)
}

async fn keys(State(s): State<Shared>) -> Json<Value> {
    Json(s.lock().unwrap().keys.jwks())
}

/// Apple's authorization page, consenting at once: with `response_mode=form_post` the
/// answer is a form the browser POSTs to the redirect URI.
async fn authorize(State(s): State<Shared>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut inner = s.lock().unwrap();
    let get = |k: &str| q.get(k).map(String::as_str);
    if get("client_id") != Some(inner.client_id.as_str())
        || get("response_type") != Some("code")
        || get("response_mode") != Some("form_post")
    {
        return (
            StatusCode::BAD_REQUEST,
            "invalid_request: client_id, response_type=code, response_mode=form_post",
        )
            .into_response();
    }
    let Some(redirect_uri) = q.get("redirect_uri").cloned() else {
        return (StatusCode::BAD_REQUEST, "invalid_request: redirect_uri").into_response();
    };
    if let Some(error) = inner.bends.authorize_error.clone() {
        let mut fields = vec![("error".to_string(), error)];
        if let Some(state) = q.get("state") {
            fields.push(("state".to_string(), state.clone()));
        }
        return form_post_page(&redirect_uri, &fields);
    }
    let code = format!("c{}", cognate::core::secrets::random_token::<16>());
    let subject = inner.subject.clone();
    let nonce = q.get("nonce").cloned();
    let id_token = id_token(&inner, &subject, nonce.as_deref());
    let mut fields = vec![
        ("code".to_string(), code.clone()),
        ("id_token".to_string(), id_token),
    ];
    if let Some(state) = q.get("state") {
        fields.push(("state".to_string(), state.clone()));
    }
    if inner.authorized.insert(subject.clone()) {
        if let Some(user) = &inner.user_json {
            fields.push(("user".to_string(), user.clone()));
        }
    }
    inner.codes.insert(
        code,
        Grant {
            redirect_uri: redirect_uri.clone(),
            nonce,
            subject,
        },
    );
    form_post_page(&redirect_uri, &fields)
}

/// The auto-submitting page that POSTs `fields` to `redirect_uri` (form_post).
fn form_post_page(redirect_uri: &str, fields: &[(String, String)]) -> Response {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                escape(k),
                escape(v)
            )
        })
        .collect();
    Html(format!(
        "<!doctype html><html><head><title>Sign in with Apple</title></head>\
         <body onload=\"document.forms[0].submit()\">\
         <form method=\"post\" action=\"{}\">{inputs}<noscript><button>Continue</button></noscript></form>\
         </body></html>",
        escape(redirect_uri)
    ))
    .into_response()
}

fn token_error(error: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(json!({ "error": error }))).into_response()
}

/// Whether `secret` is a client secret Apple accepts for this Services ID.
fn client_secret_ok(inner: &Inner, secret: &str) -> bool {
    let parts: Vec<&str> = secret.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return false;
    };
    let decode = |p: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).ok()?).ok()
    };
    let (Some(header), Some(claims), Ok(signature)) = (
        decode(header),
        decode(claims),
        URL_SAFE_NO_PAD.decode(signature),
    ) else {
        return false;
    };
    if header["alg"] != "ES256" || header["kid"] != inner.key_id.as_str() {
        return false;
    }
    let input = format!("{}.{}", parts[0], parts[1]);
    let public = UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &inner.p8_public);
    if public.verify(input.as_bytes(), &signature).is_err() {
        return false;
    }
    let now = cognate::core::now();
    let (Some(iat), Some(exp)) = (claims["iat"].as_i64(), claims["exp"].as_i64()) else {
        return false;
    };
    claims["iss"] == inner.team_id.as_str()
        && claims["sub"] == inner.client_id.as_str()
        && claims["aud"] == "https://appleid.apple.com"
        && iat <= now + 60
        && exp > now
        && exp - iat <= 15_777_000
}

/// Apple's token endpoint: `client_secret_post` with the minted ES256 secret.
async fn token(State(s): State<Shared>, Form(form): Form<HashMap<String, String>>) -> Response {
    let mode = {
        let mut inner = s.lock().unwrap();
        inner.token_requests += 1;
        inner.bends.mode
    };
    match mode {
        TokenMode::Hang => {
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
            return token_error("temporarily_unavailable");
        }
        TokenMode::Garbage => return (StatusCode::OK, "<html>not json</html>").into_response(),
        _ => {}
    }
    let mut inner = s.lock().unwrap();
    let secret_ok = form.get("client_id") == Some(&inner.client_id)
        && form
            .get("client_secret")
            .is_some_and(|secret| client_secret_ok(&inner, secret));
    if !secret_ok {
        inner.refused_secrets += 1;
        return token_error("invalid_client");
    }
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return token_error("unsupported_grant_type");
    }
    let Some(grant) = form.get("code").and_then(|c| inner.codes.remove(c)) else {
        return token_error("invalid_grant");
    };
    if form.get("redirect_uri") != Some(&grant.redirect_uri) {
        return token_error("invalid_grant");
    }
    let id_token = id_token(&inner, &grant.subject, grant.nonce.as_deref());
    Json(json!({
        "access_token": format!("a{}", cognate::core::secrets::random_token::<16>()),
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": format!("r{}", cognate::core::secrets::random_token::<16>()),
        "id_token": id_token,
    }))
    .into_response()
}

/// An ID token in Apple's shape: RS256 under the JWKS key, unless the mode says otherwise.
fn id_token(inner: &Inner, subject: &str, nonce: Option<&str>) -> String {
    let now = cognate::core::now();
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(inner.issuer));
    claims.insert("aud".into(), json!(inner.client_id));
    claims.insert("sub".into(), json!(subject));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + 600));
    claims.insert("auth_time".into(), json!(now));
    claims.insert("nonce_supported".into(), json!(true));
    claims.insert("real_user_status".into(), json!(2));
    if let Some(nonce) = nonce {
        claims.insert("nonce".into(), json!(nonce));
    }
    // Apple's ID token header has no `typ`.
    let claims = id_token_claims(claims, &inner.claims, &inner.bends.overrides);
    inner.keys.sign(inner.bends.mode, &json!({}), &claims)
}
