//! A fake SAML 2.0 identity provider (an Okta / Entra ID / Keycloak stand-in) on
//! 127.0.0.1: it serves its metadata, takes AuthnRequests by HTTP-Redirect (`GET /sso`,
//! checking the query signature with the SP's certificate by the `openssl` command when
//! the SP signs) and HTTP-POST (`POST /sso`), and answers, as IdPs do, with a page whose
//! auto-submitting form POSTs a `SAMLResponse` signed by `xmlsec1` (an independent
//! signer, [`super::saml_sign`]) and the `RelayState` to the request's ACS.
//!
//! Single logout (HTTP-Redirect): `GET /slo` records the LogoutRequests and
//! LogoutResponses the SP sends (the query signature checked by `openssl` with the SP's
//! certificate) and answers a LogoutRequest with a LogoutResponse signed by `openssl`;
//! [`FakeSaml::logout_request_url`] makes the IdP's own LogoutRequest, signed by any
//! party or unsigned. Only [`FakeSaml::metadata_with_slo`] advertises the endpoint.

use std::collections::HashMap;
use std::io::Read;
use std::process::Command;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::saml_sign::{b64, escape, idp, instant, Party, ResponseSpec, SAML, SAMLP};

/// The user the IdP signs in (it consents at once).
#[derive(Debug, Clone)]
pub struct SamlUser {
    pub name_id: String,
    pub format: String,
    pub attributes: Vec<(String, Vec<String>)>,
}

impl SamlUser {
    /// Ada, with a persistent NameID, her email and name in the WS-Federation claim URIs
    /// (ADFS / Entra ID spelling) and her groups.
    pub fn ada() -> SamlUser {
        SamlUser {
            name_id: "00u1ada".into(),
            format: "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into(),
            attributes: vec![
                (
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress".into(),
                    vec!["ada@corp.example".into()],
                ),
                (
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname".into(),
                    vec!["Ada".into()],
                ),
                (
                    "http://schemas.microsoft.com/ws/2008/06/identity/claims/groups".into(),
                    vec!["Engineering".into(), "admins".into()],
                ),
            ],
        }
    }
}

/// An AuthnRequest the fake received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `redirect` or `post`.
    pub binding: &'static str,
    pub id: String,
    pub acs: String,
    pub issuer: String,
    pub relay_state: Option<String>,
    /// For the Redirect binding: whether a signature came and verified with the SP's
    /// certificate (`None`: unsigned).
    pub signature_ok: Option<bool>,
    /// The request's XML.
    pub xml: String,
}

type Tamper = Box<dyn Fn(&mut ResponseSpec) + Send>;

/// A single logout message the fake's `/slo` received from the SP.
#[derive(Debug, Clone)]
pub struct SloReceived {
    /// `SAMLRequest` or `SAMLResponse`.
    pub param: String,
    pub xml: String,
    pub relay_state: Option<String>,
    /// Whether the query signature verified with the SP's certificate (`None`: unsigned).
    pub signature_ok: Option<bool>,
}

/// The IdP's own LogoutRequest (see [`FakeSaml::logout_request`]).
#[derive(Debug, Clone)]
pub struct LogoutSpec {
    pub id: String,
    pub issue_instant: i64,
    pub not_on_or_after: Option<i64>,
    pub destination: String,
    pub issuer: String,
    pub name_id: String,
    pub format: String,
}

impl LogoutSpec {
    pub fn xml(&self) -> String {
        let until = self
            .not_on_or_after
            .map(|t| format!(" NotOnOrAfter=\"{}\"", instant(t)))
            .unwrap_or_default();
        format!(
            r#"<samlp:LogoutRequest xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{id}" Version="2.0" IssueInstant="{at}"{until} Destination="{dest}"><saml:Issuer>{issuer}</saml:Issuer><saml:NameID Format="{format}">{name_id}</saml:NameID><samlp:SessionIndex>_session1</samlp:SessionIndex></samlp:LogoutRequest>"#,
            id = escape(&self.id),
            at = instant(self.issue_instant),
            dest = escape(&self.destination),
            issuer = escape(&self.issuer),
            format = escape(&self.format),
            name_id = escape(&self.name_id),
        )
    }
}

/// A Redirect-binding query (SAML Bindings 2.0 section 3.4.4.1) for `xml` as `param`,
/// signed RSA-SHA256 by `signer` with the `openssl` command when given.
pub fn redirect_query(
    param: &str,
    xml: &str,
    relay_state: Option<&str>,
    signer: Option<&Party>,
) -> String {
    use std::io::Write;
    let mut deflater =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    deflater.write_all(xml.as_bytes()).unwrap();
    let deflated = deflater.finish().unwrap();
    let enc = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let mut query = format!("{param}={}", enc(&STANDARD.encode(deflated)));
    if let Some(relay) = relay_state {
        query.push_str(&format!("&RelayState={}", enc(relay)));
    }
    if let Some(signer) = signer {
        query.push_str(&format!(
            "&SigAlg={}",
            enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
        ));
        let signature = openssl_sign(&signer.key_pem, query.as_bytes());
        query.push_str(&format!("&Signature={}", enc(&STANDARD.encode(signature))));
    }
    query
}

/// RSA-SHA256 (PKCS#1 v1.5) over `data` by the `openssl` command.
fn openssl_sign(key_pem: &str, data: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    let input = dir.path().join("data");
    let sig = dir.path().join("sig");
    std::fs::write(&key, key_pem).unwrap();
    std::fs::write(&input, data).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(&key)
        .arg("-out")
        .arg(&sig)
        .arg(&input)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&sig).unwrap()
}

struct Inner {
    user: SamlUser,
    want_signed_requests: bool,
    sp_cert_der: Option<Vec<u8>>,
    received: Vec<Received>,
    slo_received: Vec<SloReceived>,
    /// The SP's single logout service, where `/slo` sends its LogoutResponses.
    sp_slo_url: Option<String>,
    tamper: Option<Tamper>,
}

/// The fake IdP.
#[derive(Clone)]
pub struct FakeSaml {
    pub base: String,
    pub entity_id: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeSaml {
    pub async fn start() -> FakeSaml {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let fake = FakeSaml {
            entity_id: format!("{base}/metadata"),
            base,
            inner: Arc::new(Mutex::new(Inner {
                user: SamlUser::ada(),
                want_signed_requests: false,
                sp_cert_der: None,
                received: Vec::new(),
                slo_received: Vec::new(),
                sp_slo_url: None,
                tamper: None,
            })),
        };
        let app = Router::new()
            .route("/sso", get(sso_redirect).post(sso_post))
            .route("/slo", get(slo))
            .with_state(fake.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        fake
    }

    /// The IdP's metadata: its entity id, SSO endpoints for both bindings, its signing
    /// certificate, and whether it wants signed AuthnRequests.
    pub fn metadata(&self, want_signed_requests: bool) -> String {
        let cert = STANDARD.encode(&idp().cert_der);
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{entity}">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="{want}" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{base}/sso"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{base}/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#,
            entity = escape(&self.entity_id),
            want = want_signed_requests,
            base = self.base,
        )
    }

    /// [`FakeSaml::metadata`] with a SingleLogoutService (HTTP-Redirect) at `/slo`.
    pub fn metadata_with_slo(&self, want_signed_requests: bool) -> String {
        self.metadata(want_signed_requests).replacen(
            "    <md:NameIDFormat>",
            &format!(
                "    <md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{}/slo\"/>\n    <md:NameIDFormat>",
                self.base
            ),
            1,
        )
    }

    /// The SP's certificate (its metadata's) and single logout service: `/slo` checks
    /// signatures with the one and answers to the other.
    pub fn set_sp(&self, sp_cert_der: Vec<u8>, sp_slo_url: &str) {
        let mut inner = self.inner.lock().unwrap();
        inner.sp_cert_der = Some(sp_cert_der);
        inner.sp_slo_url = Some(sp_slo_url.to_string());
    }

    pub fn slo_received(&self) -> Vec<SloReceived> {
        self.inner.lock().unwrap().slo_received.clone()
    }

    /// An honest LogoutRequest of this IdP for its user, to the SP's `destination`.
    pub fn logout_request(&self, destination: &str) -> LogoutSpec {
        let now = cognate::core::now();
        let user = self.inner.lock().unwrap().user.clone();
        LogoutSpec {
            id: format!("_l{}", uuid::Uuid::new_v4().simple()),
            issue_instant: now,
            not_on_or_after: Some(now + 300),
            destination: destination.to_string(),
            issuer: self.entity_id.clone(),
            name_id: user.name_id,
            format: user.format,
        }
    }

    /// The URL of the SP's single logout service carrying `spec`, signed by `signer`.
    pub fn logout_request_url(&self, spec: &LogoutSpec, signer: Option<&Party>) -> String {
        let query = redirect_query("SAMLRequest", &spec.xml(), Some("idp-relay"), signer);
        format!("{}?{query}", spec.destination)
    }

    /// Signed Redirect-binding requests are required, checked with `sp_cert_der` (the
    /// certificate of Cognate's SP metadata).
    pub fn require_signed_requests(&self, sp_cert_der: Vec<u8>) {
        let mut inner = self.inner.lock().unwrap();
        inner.want_signed_requests = true;
        inner.sp_cert_der = Some(sp_cert_der);
    }

    pub fn set_user(&self, user: SamlUser) {
        self.inner.lock().unwrap().user = user;
    }

    /// Bends every response the fake makes from now on (an attacker's IdP, or a broken
    /// one).
    pub fn tamper(&self, change: impl Fn(&mut ResponseSpec) + Send + 'static) {
        self.inner.lock().unwrap().tamper = Some(Box::new(change));
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }
}

/// An attribute value of an XML start tag (test parsing of the fake's own input).
fn attr(xml: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=\"");
    let start = xml.find(&marker)? + marker.len();
    let end = xml[start..].find('"')? + start;
    Some(
        xml[start..end]
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

fn issuer_of(xml: &str) -> String {
    let start = xml.find("<saml:Issuer>").map(|i| i + "<saml:Issuer>".len());
    let end = xml.find("</saml:Issuer>");
    match (start, end) {
        (Some(s), Some(e)) if s <= e => xml[s..e].to_string(),
        _ => String::new(),
    }
}

/// Whether `signature` (base64) verifies over `signed` with the certificate's key,
/// RSA-SHA256, by the `openssl` command (an implementation independent of Cognate's).
fn openssl_verify(cert_der: &[u8], signed: &[u8], signature: &str) -> bool {
    let Ok(signature) = STANDARD.decode(signature) else {
        return false;
    };
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.der");
    let key = dir.path().join("key.pem");
    let data = dir.path().join("data");
    let sig = dir.path().join("sig");
    std::fs::write(&cert, cert_der).unwrap();
    std::fs::write(&data, signed).unwrap();
    std::fs::write(&sig, signature).unwrap();
    let pubkey = Command::new("openssl")
        .args(["x509", "-inform", "DER", "-pubkey", "-noout", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    std::fs::write(&key, pubkey.stdout).unwrap();
    Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(&key)
        .arg("-signature")
        .arg(&sig)
        .arg(&data)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// `GET /sso`: the HTTP-Redirect binding (SAML Bindings 2.0 section 3.4.4.1).
async fn sso_redirect(State(fake): State<FakeSaml>, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let q: HashMap<String, String> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let Some(deflated) = q.get("SAMLRequest").and_then(|r| STANDARD.decode(r).ok()) else {
        return (axum::http::StatusCode::BAD_REQUEST, "no SAMLRequest").into_response();
    };
    let mut xml = String::new();
    if flate2::read::DeflateDecoder::new(&deflated[..])
        .read_to_string(&mut xml)
        .is_err()
    {
        return (axum::http::StatusCode::BAD_REQUEST, "not deflated").into_response();
    }
    // The signature covers the query's parameters as sent, in this order.
    let signature_ok = q.get("Signature").map(|signature| {
        let covered: Vec<&str> = raw
            .split('&')
            .filter(|p| {
                ["SAMLRequest=", "RelayState=", "SigAlg="]
                    .iter()
                    .any(|k| p.starts_with(k))
            })
            .collect();
        let cert = fake.inner.lock().unwrap().sp_cert_der.clone();
        q.get("SigAlg").map(String::as_str)
            == Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
            && cert.is_some_and(|c| openssl_verify(&c, covered.join("&").as_bytes(), signature))
    });
    answer(
        fake,
        "redirect",
        xml,
        q.get("RelayState").cloned(),
        signature_ok,
    )
    .await
}

/// `POST /sso`: the HTTP-POST binding (section 3.5).
async fn sso_post(State(fake): State<FakeSaml>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let Some(xml) = form
        .get("SAMLRequest")
        .and_then(|r| STANDARD.decode(r).ok())
        .and_then(|x| String::from_utf8(x).ok())
    else {
        return (axum::http::StatusCode::BAD_REQUEST, "no SAMLRequest").into_response();
    };
    answer(fake, "post", xml, form.get("RelayState").cloned(), None).await
}

/// Signs the user in at once: the page with the form that POSTs the signed Response to
/// the request's ACS.
async fn answer(
    fake: FakeSaml,
    binding: &'static str,
    xml: String,
    relay_state: Option<String>,
    signature_ok: Option<bool>,
) -> Response {
    let received = Received {
        binding,
        id: attr(&xml, "ID").unwrap_or_default(),
        acs: attr(&xml, "AssertionConsumerServiceURL").unwrap_or_default(),
        issuer: issuer_of(&xml),
        relay_state: relay_state.clone(),
        signature_ok,
        xml,
    };
    let (spec, refuse) = {
        let mut inner = fake.inner.lock().unwrap();
        inner.received.push(received.clone());
        let refuse =
            inner.want_signed_requests && binding == "redirect" && signature_ok != Some(true);
        let now = cognate::core::now();
        let mut spec = ResponseSpec::new(now);
        spec.response_id = format!("_r{}", uuid::Uuid::new_v4().simple());
        spec.assertion_id = format!("_a{}", uuid::Uuid::new_v4().simple());
        spec.response_issuer = Some(fake.entity_id.clone());
        spec.assertion_issuer = fake.entity_id.clone();
        spec.destination = Some(received.acs.clone());
        spec.in_response_to = Some(received.id.clone());
        spec.scd_in_response_to = Some(received.id.clone());
        spec.audience = received.issuer.clone();
        spec.recipient = received.acs.clone();
        spec.name_id = Some((inner.user.name_id.clone(), inner.user.format.clone()));
        spec.attributes = inner.user.attributes.clone();
        if let Some(tamper) = &inner.tamper {
            tamper(&mut spec);
        }
        (spec, refuse)
    };
    if refuse {
        return (
            axum::http::StatusCode::FORBIDDEN,
            "this IdP requires signed AuthnRequests",
        )
            .into_response();
    }
    let signed = tokio::task::spawn_blocking(move || spec.signed())
        .await
        .unwrap();
    let response = b64(&signed);
    let relay = relay_state
        .map(|r| {
            format!(
                r#"<input type="hidden" name="RelayState" value="{}">"#,
                escape(&r)
            )
        })
        .unwrap_or_default();
    Html(format!(
        r#"<!doctype html><html><body onload="document.forms[0].submit()"><form method="post" action="{acs}"><input type="hidden" name="SAMLResponse" value="{response}">{relay}<button>Continue</button></form></body></html>"#,
        acs = escape(&received.acs),
    ))
    .into_response()
}

/// `GET /slo`: the SP's LogoutRequest (answered at once with a signed LogoutResponse
/// to the SP's single logout service) or its LogoutResponse (recorded, a page).
async fn slo(State(fake): State<FakeSaml>, RawQuery(raw): RawQuery) -> Response {
    let raw = raw.unwrap_or_default();
    let q: HashMap<String, String> = url::form_urlencoded::parse(raw.as_bytes())
        .into_owned()
        .collect();
    let Some((param, message)) = ["SAMLRequest", "SAMLResponse"]
        .into_iter()
        .find_map(|p| q.get(p).map(|m| (p, m)))
    else {
        return (axum::http::StatusCode::BAD_REQUEST, "no SAML message").into_response();
    };
    let mut xml = String::new();
    let inflated = STANDARD.decode(message).ok().and_then(|d| {
        flate2::read::DeflateDecoder::new(&d[..])
            .read_to_string(&mut xml)
            .ok()
    });
    if inflated.is_none() {
        return (axum::http::StatusCode::BAD_REQUEST, "not deflated").into_response();
    }
    let sp_cert = fake.inner.lock().unwrap().sp_cert_der.clone();
    let signature_ok = q.get("Signature").map(|signature| {
        let covered: Vec<&str> = raw
            .split('&')
            .filter(|p| {
                [&format!("{param}=")[..], "RelayState=", "SigAlg="]
                    .iter()
                    .any(|k| p.starts_with(k))
            })
            .collect();
        q.get("SigAlg").map(String::as_str)
            == Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
            && sp_cert.is_some_and(|c| openssl_verify(&c, covered.join("&").as_bytes(), signature))
    });
    let received = SloReceived {
        param: param.to_string(),
        xml: xml.clone(),
        relay_state: q.get("RelayState").cloned(),
        signature_ok,
    };
    let sp_slo = {
        let mut inner = fake.inner.lock().unwrap();
        inner.slo_received.push(received.clone());
        inner.sp_slo_url.clone()
    };
    if param == "SAMLResponse" {
        return Html("<p>Signed out at the IdP.</p>").into_response();
    }
    let Some(sp_slo) = sp_slo else {
        return (axum::http::StatusCode::BAD_REQUEST, "no SP SLO URL set").into_response();
    };
    let answer = format!(
        r#"<samlp:LogoutResponse xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_lr{id}" Version="2.0" IssueInstant="{at}" Destination="{dest}" InResponseTo="{irt}"><saml:Issuer>{issuer}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status></samlp:LogoutResponse>"#,
        id = uuid::Uuid::new_v4().simple(),
        at = instant(cognate::core::now()),
        dest = escape(&sp_slo),
        irt = escape(&attr(&xml, "ID").unwrap_or_default()),
        issuer = escape(&fake.entity_id),
    );
    let relay = received.relay_state.clone();
    let query = tokio::task::spawn_blocking(move || {
        redirect_query("SAMLResponse", &answer, relay.as_deref(), Some(idp()))
    })
    .await
    .unwrap();
    (
        axum::http::StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, format!("{sp_slo}?{query}"))],
    )
        .into_response()
}
