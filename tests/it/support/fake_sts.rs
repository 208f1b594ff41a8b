//! An in-process fake of AWS STS's `AssumeRoleWithWebIdentity` on 127.0.0.1:0, as strict
//! as an IAM OIDC identity provider set up for Cognate's identity issuer: it checks the
//! call's shape (POST, form content type, exactly the six fields, Action and Version),
//! fetches Cognate's identity discovery document and JWKS over HTTP and verifies the
//! token with `jsonwebtoken` (RS256, `iss` = the issuer it trusts, `aud` = the identity
//! pool id it trusts, not expired), checks the role is one it knows, and answers AWS's XML
//! (credentials, or `ErrorResponse` with `InvalidIdentityToken`, `ExpiredTokenException`,
//! `AccessDenied`, `InvalidParameterValue`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;
use tokio::sync::oneshot;

/// What the fake trusts, as an IAM OIDC provider and role trust policy would.
#[derive(Clone)]
pub struct Trust {
    /// Cognate's identity issuer (`<base>/identity`), whose discovery and JWKS are read.
    pub issuer: String,
    /// The `aud` the role trusts (the identity pool id).
    pub audience: String,
    /// The only role ARN that may be assumed.
    pub role_arn: String,
}

/// One call the fake received and what it made of it.
#[derive(Debug, Clone)]
pub struct Call {
    pub fields: BTreeMap<String, String>,
    /// The claims of a token that verified.
    pub claims: Option<Value>,
    /// The error code answered, if any.
    pub refused: Option<String>,
}

struct Inner {
    trust: Trust,
    calls: Vec<Call>,
}

pub struct FakeSts {
    /// The endpoint URL (`http://127.0.0.1:<port>/`).
    pub endpoint: url::Url,
    inner: Arc<Mutex<Inner>>,
    shutdown: Option<oneshot::Sender<()>>,
}

impl FakeSts {
    pub async fn start(trust: Trust) -> FakeSts {
        let inner = Arc::new(Mutex::new(Inner {
            trust,
            calls: Vec::new(),
        }));
        let app = Router::new().fallback(handle).with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let endpoint = format!("http://{}/", listener.local_addr().unwrap());
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        FakeSts {
            endpoint: endpoint.parse().unwrap(),
            inner,
            shutdown: Some(tx),
        }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.lock().unwrap().calls.clone()
    }
}

impl Drop for FakeSts {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

const NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const FIELDS: [&str; 6] = [
    "Action",
    "DurationSeconds",
    "RoleArn",
    "RoleSessionName",
    "Version",
    "WebIdentityToken",
];

fn error_xml(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<ErrorResponse xmlns=\"{NS}\"><Error><Type>Sender</Type><Code>{code}</Code>\
         <Message>{message}</Message></Error><RequestId>fake</RequestId></ErrorResponse>"
    );
    (status, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
}

async fn handle(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields: BTreeMap<String, String> =
        serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body)
            .unwrap_or_default()
            .into_iter()
            .collect();
    let trust = inner.lock().unwrap().trust.clone();
    let (claims, answer) = judge(&trust, &method, &headers, &body, &fields).await;
    let refused = match &answer {
        Err((_, code, _)) => Some(code.to_string()),
        Ok(_) => None,
    };
    inner.lock().unwrap().calls.push(Call {
        fields: fields.clone(),
        claims: claims.clone(),
        refused,
    });
    match answer {
        Err((status, code, message)) => error_xml(status, code, &message),
        Ok(()) => {
            let claims = claims.unwrap_or_default();
            let duration: i64 = fields["DurationSeconds"].parse().unwrap_or(3600);
            let expiration = chrono::DateTime::from_timestamp(cognate::core::now() + duration, 0)
                .unwrap()
                .format("%Y-%m-%dT%H:%M:%SZ");
            let body = format!(
                "<AssumeRoleWithWebIdentityResponse xmlns=\"{NS}\">\
                 <AssumeRoleWithWebIdentityResult>\
                 <SubjectFromWebIdentityToken>{sub}</SubjectFromWebIdentityToken>\
                 <Audience>{aud}</Audience>\
                 <AssumedRoleUser><Arn>{role}/{session}</Arn><AssumedRoleId>AROAFAKE:{session}</AssumedRoleId></AssumedRoleUser>\
                 <Credentials>\
                 <AccessKeyId>ASIAFAKESTSFAKESTS00</AccessKeyId>\
                 <SecretAccessKey>fakeSecretAccessKeyFromTheFakeSts/0000000</SecretAccessKey>\
                 <SessionToken>FakeSessionTokenFor{session}</SessionToken>\
                 <Expiration>{expiration}</Expiration>\
                 </Credentials>\
                 <Provider>{issuer}</Provider>\
                 </AssumeRoleWithWebIdentityResult>\
                 <ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata>\
                 </AssumeRoleWithWebIdentityResponse>",
                sub = claims["sub"].as_str().unwrap_or_default(),
                aud = claims["aud"].as_str().unwrap_or_default(),
                role = fields["RoleArn"],
                session = fields["RoleSessionName"],
                issuer = trust.issuer,
            );
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml")], body).into_response()
        }
    }
}

type Refusal = (StatusCode, &'static str, String);

/// The call's verdict, and the token's claims when it verified.
async fn judge(
    trust: &Trust,
    method: &Method,
    headers: &HeaderMap,
    body: &[u8],
    fields: &BTreeMap<String, String>,
) -> (Option<Value>, Result<(), Refusal>) {
    let bad = |m: &str| {
        Err((
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            m.to_string(),
        ))
    };
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if method != Method::POST || !form {
        return (None, bad("POST a form"));
    }
    // Every pair once, and exactly the six fields.
    let pairs = serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default();
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    if pairs.len() != FIELDS.len() || names != FIELDS {
        return (None, bad("unexpected fields"));
    }
    if fields["Action"] != "AssumeRoleWithWebIdentity" || fields["Version"] != "2011-06-15" {
        return (None, bad("Action or Version"));
    }
    if fields["DurationSeconds"].parse::<u32>().is_err() || fields["RoleSessionName"].len() < 2 {
        return (None, bad("DurationSeconds or RoleSessionName"));
    }
    let claims = match verify(trust, &fields["WebIdentityToken"]).await {
        Ok(claims) => claims,
        Err(refusal) => return (None, Err(refusal)),
    };
    if fields["RoleArn"] != trust.role_arn {
        return (
            Some(claims),
            Err((
                StatusCode::FORBIDDEN,
                "AccessDenied",
                "Not authorized to perform sts:AssumeRoleWithWebIdentity".into(),
            )),
        );
    }
    (Some(claims), Ok(()))
}

/// Verifies the token as IAM does for an OIDC provider: discovery, then the JWKS, then
/// the signature, `iss`, `aud` and `exp`.
async fn verify(trust: &Trust, token: &str) -> Result<Value, Refusal> {
    let invalid = |m: String| (StatusCode::BAD_REQUEST, "InvalidIdentityToken", m);
    let client = crate::support::http();
    let discovery: Value = client
        .get(format!("{}/.well-known/openid-configuration", trust.issuer))
        .send()
        .await
        .map_err(|e| invalid(e.to_string()))?
        .json()
        .await
        .map_err(|e| invalid(e.to_string()))?;
    if discovery["issuer"] != trust.issuer.as_str() {
        return Err(invalid("discovery issuer mismatch".into()));
    }
    let jwks_uri = discovery["jwks_uri"]
        .as_str()
        .ok_or_else(|| invalid("no jwks_uri".into()))?;
    let jwks: Value = client
        .get(jwks_uri)
        .send()
        .await
        .map_err(|e| invalid(e.to_string()))?
        .json()
        .await
        .map_err(|e| invalid(e.to_string()))?;
    let header = decode_header(token).map_err(|e| invalid(e.to_string()))?;
    let kid = header.kid.ok_or_else(|| invalid("no kid".into()))?;
    let jwk = jwks["keys"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or_else(|| invalid("unknown kid".into()))?;
    let key = DecodingKey::from_rsa_components(
        jwk["n"].as_str().unwrap_or_default(),
        jwk["e"].as_str().unwrap_or_default(),
    )
    .map_err(|e| invalid(e.to_string()))?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&trust.issuer]);
    validation.set_audience(&[&trust.audience]);
    validation.leeway = 0;
    match decode::<Value>(token, &key, &validation) {
        Ok(data) => Ok(data.claims),
        Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature) => Err((
            StatusCode::BAD_REQUEST,
            "ExpiredTokenException",
            "Token expired".into(),
        )),
        Err(e) => Err(invalid(format!("{e}"))),
    }
}
