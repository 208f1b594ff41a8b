//! The AWS edge on `POST /`, driven over real HTTP: the official STS client (aws-sdk-sts)
//! signing GetCallerIdentity with operator credentials made through the core service, and
//! raw requests signed with `aws-sigv4` (the SDK's signer) and then tampered with, for the
//! attacks an SDK never produces. Each attack sits beside the honest request succeeding.

mod raw;
mod sdk;

use std::borrow::Cow;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;

use cognate::core::admin_keys::{AdminKeyPurpose, AdminKeys, CreatedAdminKey, NewAdminKey};
use cognate::core::secrets::SecretString;

use crate::support::server::TestServer;

/// The core's key service over the test server's store and master key.
pub(crate) fn keys(server: &TestServer) -> AdminKeys {
    AdminKeys::new(server.node.store.clone(), server.node.master.clone())
}

/// An operator key, generated or with a chosen id and secret.
pub(crate) async fn make_key(
    server: &TestServer,
    id: Option<&str>,
    secret: Option<&str>,
) -> CreatedAdminKey {
    keys(server)
        .create(
            NewAdminKey {
                access_key_id: id.map(str::to_string),
                secret: secret.map(SecretString::new),
                description: "test".into(),
                purpose: AdminKeyPurpose::Operator,
            },
            cognate::core::now(),
        )
        .await
        .expect("create admin key")
}

/// How a raw request is signed.
pub(crate) struct Signing<'a> {
    access_key_id: &'a str,
    secret: &'a str,
    region: &'a str,
    service: &'a str,
    time: SystemTime,
    /// Headers the signature leaves out (`host`, to build an attack the SDK never sends).
    exclude: &'static [&'static str],
}

impl<'a> Signing<'a> {
    pub(crate) fn new(key: &'a CreatedAdminKey, service: &'a str) -> Self {
        Signing {
            access_key_id: &key.access_key_id,
            secret: key.secret.expose(),
            region: "us-east-1",
            service,
            time: SystemTime::now(),
            exclude: &[],
        }
    }

    /// The headers to send with `POST <base>/` and `body`: `headers` plus the signature's.
    pub(crate) fn sign(
        &self,
        base: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Vec<(String, String)> {
        let identity = aws_credential_types::Credentials::new(
            self.access_key_id,
            self.secret,
            None,
            None,
            "test",
        )
        .into();
        let mut settings = SigningSettings::default();
        let mut excluded = settings.excluded_headers.take().unwrap_or_default();
        excluded.extend(self.exclude.iter().map(|h| Cow::Borrowed(*h)));
        settings.excluded_headers = Some(excluded);
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .unwrap()
            .into();
        let uri = format!("{base}/");
        let request = SignableRequest::new(
            "POST",
            &uri,
            headers.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut out: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        out.extend(
            instructions
                .headers()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        out
    }
}

/// `minutes` from now.
fn minutes_off(minutes: i64) -> SystemTime {
    let d = Duration::from_secs(minutes.unsigned_abs() * 60);
    if minutes < 0 {
        SystemTime::now() - d
    } else {
        SystemTime::now() + d
    }
}

/// A plain HTTP client (with the process's TLS provider installed, as reqwest needs).
pub(crate) fn client() -> reqwest::Client {
    cognate::federation::http::install_crypto_provider();
    reqwest::Client::new()
}

/// Sends `POST <base>/` with exactly these headers and body.
pub(crate) async fn post(
    base: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> reqwest::Response {
    let mut request = client().post(format!("{base}/"));
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    request.body(body.to_vec()).send().await.expect("POST /")
}

/// The text of the first `<name>` element of an XML answer.
fn xml_text<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{name}>"))? + start;
    Some(&xml[start..end])
}
