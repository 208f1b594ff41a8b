//! The AuthnRequest Cognate sends an IdP (SAML Core 2.0 section 3.4.1) and its two
//! bindings (SAML Bindings 2.0): HTTP-Redirect, the request deflated, base64 and
//! URL-encoded in the query with the signature over the query string (section 3.4.4.1),
//! and HTTP-POST, the request base64 in an auto-submitting form (section 3.5).
//!
//! The XML is rendered from `templates/saml/authn_request.xml`, every value XML-escaped
//! by the renderer, so no SAML library is needed to write it.

use std::io::Write;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use minijinja::{Environment, Value};

use super::sp::xml_escape;
use crate::core::secrets::random_bytes;
use crate::core::UnixTime;

/// The signature algorithm of signed Redirect-binding requests.
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

const TEMPLATE: &str = include_str!("../../../templates/saml/authn_request.xml");

/// A new AuthnRequest id: 128 random bits as hex behind `_`, because an `xs:ID` is an
/// NCName and may not start with a digit (SAML Core 2.0 section 1.3.4).
pub fn new_request_id() -> String {
    let bytes = random_bytes::<16>();
    let mut id = String::with_capacity(33);
    id.push('_');
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// Whether `id` has the shape [`new_request_id`] gives (so a value from the network can
/// be used as a store key).
pub fn is_request_id(id: &str) -> bool {
    id.len() == 33 && id.starts_with('_') && id[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// What an AuthnRequest says.
pub struct AuthnRequest<'a> {
    pub id: &'a str,
    pub issue_instant: UnixTime,
    /// The IdP's SSO endpoint for the binding used.
    pub destination: &'a str,
    pub acs_url: &'a str,
    pub sp_entity_id: &'a str,
}

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Every value is escaped for XML text and attribute values alike.
        env.set_formatter(|out, _state, value| {
            let text = value.to_string();
            out.write_str(&xml_escape(&text)).map_err(|e| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string())
            })
        });
        env.add_template("authn_request.xml", TEMPLATE)
            .expect("the embedded AuthnRequest template parses");
        env
    })
}

impl AuthnRequest<'_> {
    /// The request's XML.
    pub fn to_xml(&self) -> Result<String, minijinja::Error> {
        let instant = chrono::DateTime::from_timestamp(self.issue_instant, 0)
            .unwrap_or_default()
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string();
        environment()
            .get_template("authn_request.xml")?
            .render(minijinja::context! {
                id => Value::from(self.id),
                issue_instant => instant,
                destination => self.destination,
                acs_url => self.acs_url,
                sp_entity_id => self.sp_entity_id,
            })
    }
}

/// Signs the bytes of a Redirect-binding query (RSA-SHA256, PKCS#1 v1.5).
pub type QuerySigner<'a, E> = &'a dyn Fn(&[u8]) -> Result<Vec<u8>, E>;

/// The HTTP-Redirect binding's URL for `xml` (section 3.4.4.1): `SAMLRequest` (raw
/// DEFLATE, base64), `RelayState`, and when `sign` is given `SigAlg` and `Signature`, the
/// RSA-SHA256 signature over exactly `SAMLRequest=..&RelayState=..&SigAlg=..` as sent.
pub fn redirect_url<E>(
    sso_url: &str,
    xml: &str,
    relay_state: &str,
    sign: Option<QuerySigner<'_, E>>,
) -> Result<String, RedirectError<E>> {
    redirect_message_url(sso_url, "SAMLRequest", xml, Some(relay_state), sign)
}

/// The HTTP-Redirect binding's URL for any message: `param` is `SAMLRequest` or
/// `SAMLResponse`; `RelayState` only when given (section 3.4.4.1 signs the parameters
/// present, in this order).
pub fn redirect_message_url<E>(
    endpoint: &str,
    param: &str,
    xml: &str,
    relay_state: Option<&str>,
    sign: Option<QuerySigner<'_, E>>,
) -> Result<String, RedirectError<E>> {
    let mut deflater = DeflateEncoder::new(Vec::new(), Compression::default());
    deflater
        .write_all(xml.as_bytes())
        .map_err(|_| RedirectError::Encode)?;
    let deflated = deflater.finish().map_err(|_| RedirectError::Encode)?;
    let encode = |v: &str| url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>();
    let mut query = format!("{param}={}", encode(&STANDARD.encode(deflated)));
    if let Some(relay_state) = relay_state {
        query.push_str("&RelayState=");
        query.push_str(&encode(relay_state));
    }
    if let Some(sign) = sign {
        query.push_str("&SigAlg=");
        query.push_str(&encode(RSA_SHA256));
        let signature = sign(query.as_bytes()).map_err(RedirectError::Sign)?;
        query.push_str("&Signature=");
        query.push_str(&encode(&STANDARD.encode(signature)));
    }
    let separator = if endpoint.contains('?') { '&' } else { '?' };
    Ok(format!("{endpoint}{separator}{query}"))
}

/// Why a Redirect-binding URL could not be made.
#[derive(Debug)]
pub enum RedirectError<E> {
    Encode,
    Sign(E),
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn request_ids_are_ncnames_of_128_random_bits() {
        let a = new_request_id();
        let b = new_request_id();
        assert_ne!(a, b);
        assert!(is_request_id(&a), "{a}");
        assert!(!a[..1].chars().all(|c| c.is_ascii_digit()));
        assert!(!is_request_id("0123"));
        assert!(!is_request_id(&format!("x{}", &a[1..])));
    }

    #[test]
    fn values_are_escaped_and_the_redirect_round_trips() {
        let xml = AuthnRequest {
            id: "_abc",
            issue_instant: 1_700_000_000,
            destination: "https://idp.example.com/sso?a=1&b=\"2\"",
            acs_url: "https://sp.example.com/saml2/idpresponse",
            sp_entity_id: "urn:x:<evil>'",
        }
        .to_xml()
        .unwrap();
        assert!(xml.contains("Destination=\"https://idp.example.com/sso?a=1&amp;b=&quot;2&quot;\""));
        assert!(xml.contains("<saml:Issuer>urn:x:&lt;evil&gt;&apos;</saml:Issuer>"));
        assert!(xml.contains("IssueInstant=\"2023-11-14T22:13:20Z\""));
        let url =
            redirect_url::<()>("https://idp.example.com/sso?tenant=1", &xml, "rs", None).unwrap();
        let parsed = url::Url::parse(&url).unwrap();
        let pairs: std::collections::HashMap<_, _> = parsed.query_pairs().collect();
        assert_eq!(pairs["tenant"], "1");
        assert_eq!(pairs["RelayState"], "rs");
        let raw = STANDARD.decode(pairs["SAMLRequest"].as_bytes()).unwrap();
        let mut inflated = String::new();
        flate2::read::DeflateDecoder::new(&raw[..])
            .read_to_string(&mut inflated)
            .unwrap();
        assert_eq!(inflated, xml);
        assert!(!pairs.contains_key("Signature"));
    }

    #[test]
    fn a_signed_redirect_signs_the_query_as_sent() {
        let signed = std::cell::RefCell::new(Vec::new());
        let sign = |m: &[u8]| -> Result<Vec<u8>, ()> {
            signed.borrow_mut().extend_from_slice(m);
            Ok(vec![1, 2, 3])
        };
        let url = redirect_url("https://idp/sso", "<x/>", "r s", Some(&sign)).unwrap();
        let query = url.split_once('?').unwrap().1;
        let (covered, signature) = query.rsplit_once("&Signature=").unwrap();
        assert_eq!(String::from_utf8(signed.into_inner()).unwrap(), covered);
        assert!(covered
            .ends_with("&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"));
        assert!(covered.contains("&RelayState=r+s&"));
        assert_eq!(signature, "AQID");
    }
}
