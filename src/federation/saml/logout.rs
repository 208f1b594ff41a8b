//! Single logout messages (SAML Core 2.0 section 3.7, Profiles section 4.4) on the
//! HTTP-Redirect binding (Bindings section 3.4): the `LogoutRequest` and
//! `LogoutResponse` Cognate writes, and reading and authenticating the ones an IdP sends
//! to `/saml2/logout`.
//!
//! An inbound message is read from the raw query string: every parameter at most once,
//! the message inflated under a cap, and its signature (`SigAlg` + `Signature`, section
//! 3.4.4.1) verified over the parameters exactly as received, `SAMLRequest` (or
//! `SAMLResponse`), `RelayState` when present and `SigAlg`, in that order, with the IdP's
//! metadata certificates only (RSA with SHA-256, SHA-384 or SHA-512; SHA-1 only with the
//! IdP's `allow_sha1`). An unsigned message is refused. Pure: no I/O, no store.

use std::io::Read;

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use x509_cert::der::Decode;
use x509_cert::Certificate;

use super::response::xml::{self, at_most_one, attr, exactly_one, is, text_only, SAML, SAMLP};
use super::response::SamlError;
use super::sp::xml_escape;
use crate::core::UnixTime;

/// The single logout service's path (Cognito's), under the public URL.
pub const SLO_PATH: &str = "/saml2/logout";
/// The longest query string `/saml2/logout` reads (a Redirect-binding message is a few
/// kilobytes; browsers cap URLs near this).
pub const MAX_LOGOUT_QUERY_CHARS: usize = 16_384;
/// The most bytes an inbound message inflates to.
pub const MAX_LOGOUT_XML_BYTES: u64 = 65_536;
/// How long an inbound LogoutRequest is accepted after its `IssueInstant`, whatever its
/// `NotOnOrAfter` says (its id is kept against replay that long).
pub const LOGOUT_REQUEST_MAX_AGE_SECS: i64 = 600;
/// How long a LogoutRequest Cognate sends is valid (its `NotOnOrAfter`).
pub const LOGOUT_REQUEST_TTL_SECS: i64 = 300;

const RSA_SHA1: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const RSA_SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384";
const RSA_SHA512: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512";
const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";
/// `urn:oasis:names:tc:SAML:2.0:status:Success`.
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// `urn:oasis:names:tc:SAML:2.0:status:Requester`.
pub const STATUS_REQUESTER: &str = "urn:oasis:names:tc:SAML:2.0:status:Requester";
/// `urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal`.
pub const STATUS_UNKNOWN_PRINCIPAL: &str = "urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal";

/// Why an inbound logout message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogoutError {
    #[error("the logout query is longer than {max} characters")]
    TooLarge { max: usize },
    #[error("the logout query repeats the parameter {0}")]
    RepeatedParameter(&'static str),
    #[error("the logout query carries neither SAMLRequest nor SAMLResponse (or both)")]
    NoMessage,
    #[error("the logout message is not valid base64 or DEFLATE")]
    Encoding,
    #[error("the logout message inflates past {max} bytes")]
    Inflated { max: u64 },
    #[error("the logout message is not signed (SigAlg and Signature are required)")]
    Unsigned,
    #[error("the signature algorithm {0:?} is not accepted")]
    SignatureAlgorithm(String),
    #[error("the logout message's signature does not verify with the IdP's certificates")]
    BadSignature,
    #[error("the logout message is not a {0}")]
    WrongMessage(&'static str),
    #[error("the logout message's {0} is missing or malformed")]
    Field(&'static str),
    #[error("the logout request expired")]
    Expired,
    #[error("the logout request was issued in the future")]
    NotYetValid,
    #[error("the logout message's Destination {0:?} is not this service")]
    Destination(String),
    #[error(transparent)]
    Xml(#[from] SamlError),
}

/// Which message a query carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Request,
    Response,
}

/// A Redirect-binding message as received, not yet authenticated.
#[derive(Debug, Clone)]
pub struct RedirectMessage {
    pub kind: MessageKind,
    /// The inflated XML.
    pub xml: String,
    pub relay_state: Option<String>,
    sig_alg: Option<String>,
    signature: Option<Vec<u8>>,
    /// The octets the signature covers (section 3.4.4.1), from the raw query.
    signed_octets: String,
}

/// Reads a Redirect-binding query: each known parameter at most once, the message
/// base64-decoded and inflated under [`MAX_LOGOUT_XML_BYTES`].
pub fn read_redirect(raw_query: &str) -> Result<RedirectMessage, LogoutError> {
    if raw_query.len() > MAX_LOGOUT_QUERY_CHARS {
        return Err(LogoutError::TooLarge {
            max: MAX_LOGOUT_QUERY_CHARS,
        });
    }
    const NAMES: [&str; 5] = [
        "SAMLRequest",
        "SAMLResponse",
        "RelayState",
        "SigAlg",
        "Signature",
    ];
    let mut raw: [Option<&str>; 5] = [None; 5];
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if let Some(i) = NAMES.iter().position(|n| *n == name) {
            if raw[i].is_some() {
                return Err(LogoutError::RepeatedParameter(NAMES[i]));
            }
            raw[i] = Some(value);
        }
    }
    let decoded = |v: &str| -> String {
        url::form_urlencoded::parse(format!("v={v}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    let (kind, param, message) = match (raw[0], raw[1]) {
        (Some(m), None) => (MessageKind::Request, "SAMLRequest", m),
        (None, Some(m)) => (MessageKind::Response, "SAMLResponse", m),
        _ => return Err(LogoutError::NoMessage),
    };
    let mut signed_octets = format!("{param}={message}");
    if let Some(relay) = raw[2] {
        signed_octets.push_str("&RelayState=");
        signed_octets.push_str(relay);
    }
    if let Some(alg) = raw[3] {
        signed_octets.push_str("&SigAlg=");
        signed_octets.push_str(alg);
    }
    let deflated = STANDARD
        .decode(decoded(message).as_bytes())
        .map_err(|_| LogoutError::Encoding)?;
    let mut inflated = Vec::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .take(MAX_LOGOUT_XML_BYTES + 1)
        .read_to_end(&mut inflated)
        .map_err(|_| LogoutError::Encoding)?;
    if inflated.len() as u64 > MAX_LOGOUT_XML_BYTES {
        return Err(LogoutError::Inflated {
            max: MAX_LOGOUT_XML_BYTES,
        });
    }
    let xml = String::from_utf8(inflated).map_err(|_| SamlError::NotUtf8)?;
    let signature = match raw[4] {
        Some(s) => Some(
            STANDARD
                .decode(decoded(s).as_bytes())
                .map_err(|_| LogoutError::BadSignature)?,
        ),
        None => None,
    };
    Ok(RedirectMessage {
        kind,
        xml,
        relay_state: raw[2].map(decoded),
        sig_alg: raw[3].map(decoded),
        signature,
        signed_octets,
    })
}

impl RedirectMessage {
    /// Whether the query carries `SigAlg` and `Signature`.
    pub fn is_signed(&self) -> bool {
        self.sig_alg.is_some() && self.signature.is_some()
    }

    /// Verifies the query signature with one of `certificates` (DER, from the IdP's
    /// metadata). Unsigned, an algorithm not accepted, or no certificate verifying: refused.
    pub fn verify_signature(
        &self,
        certificates: &[Vec<u8>],
        allow_sha1: bool,
    ) -> Result<(), LogoutError> {
        let (Some(alg), Some(signature)) = (&self.sig_alg, &self.signature) else {
            return Err(LogoutError::Unsigned);
        };
        let algorithm: &'static dyn VerificationAlgorithm = match alg.as_str() {
            RSA_SHA256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            RSA_SHA384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            RSA_SHA512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            RSA_SHA1 if allow_sha1 => &signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            other => return Err(LogoutError::SignatureAlgorithm(xml::clip(other))),
        };
        let verified = certificates.iter().any(|der| {
            let Ok(cert) = Certificate::from_der(der) else {
                return false;
            };
            let spki = &cert.tbs_certificate.subject_public_key_info;
            if spki.algorithm.oid.to_string() != RSA_ENCRYPTION_OID {
                return false;
            }
            UnparsedPublicKey::new(algorithm, spki.subject_public_key.raw_bytes())
                .verify(self.signed_octets.as_bytes(), signature)
                .is_ok()
        });
        if verified {
            Ok(())
        } else {
            Err(LogoutError::BadSignature)
        }
    }
}

/// The NameID of a logout message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutNameId {
    pub value: String,
    pub format: Option<String>,
}

/// An inbound `LogoutRequest`'s fields (read before its signature is checked: the
/// Issuer picks the certificates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundLogoutRequest {
    pub id: String,
    pub issuer: String,
    pub issue_instant: UnixTime,
    pub not_on_or_after: Option<UnixTime>,
    pub destination: Option<String>,
    pub name_id: LogoutNameId,
    pub session_indexes: Vec<String>,
}

/// An inbound `LogoutResponse`'s fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundLogoutResponse {
    pub issuer: String,
    pub in_response_to: String,
    pub destination: Option<String>,
    pub status: String,
}

fn issuer_of(
    doc: &bergshamra::xml::uppsala::Document<'_>,
    root: bergshamra::xml::uppsala::NodeId,
) -> Result<String, LogoutError> {
    let issuer = exactly_one(doc, root, SAML, "Issuer")?;
    let text = text_only(doc, issuer, "Issuer")?;
    let text = text.trim();
    if text.is_empty() {
        return Err(LogoutError::Field("Issuer"));
    }
    Ok(text.to_string())
}

fn version_2(
    doc: &bergshamra::xml::uppsala::Document<'_>,
    root: bergshamra::xml::uppsala::NodeId,
) -> Result<(), LogoutError> {
    match attr(doc, root, "Version") {
        Some("2.0") => Ok(()),
        _ => Err(LogoutError::Field("Version")),
    }
}

/// Reads a `samlp:LogoutRequest` (one parse with the response parser's limits, names
/// matched with their namespaces).
pub fn parse_logout_request(xml_text: &str) -> Result<InboundLogoutRequest, LogoutError> {
    let doc = xml::parse(xml_text)?;
    let root = doc
        .children(doc.root())
        .into_iter()
        .find(|&c| doc.element(c).is_some())
        .ok_or(LogoutError::WrongMessage("LogoutRequest"))?;
    if !is(&doc, root, SAMLP, "LogoutRequest") {
        return Err(LogoutError::WrongMessage("LogoutRequest"));
    }
    version_2(&doc, root)?;
    let id = attr(&doc, root, "ID")
        .filter(|v| !v.is_empty() && v.len() <= 256)
        .ok_or(LogoutError::Field("ID"))?
        .to_string();
    let issue_instant = attr(&doc, root, "IssueInstant")
        .and_then(xml::parse_instant)
        .ok_or(LogoutError::Field("IssueInstant"))?;
    let not_on_or_after = match attr(&doc, root, "NotOnOrAfter") {
        Some(v) => Some(xml::parse_instant(v).ok_or(LogoutError::Field("NotOnOrAfter"))?),
        None => None,
    };
    let issuer = issuer_of(&doc, root)?;
    if at_most_one(&doc, root, SAML, "EncryptedID")?.is_some() {
        return Err(SamlError::EncryptedElement("EncryptedID").into());
    }
    let name_id = exactly_one(&doc, root, SAML, "NameID")?;
    let value = text_only(&doc, name_id, "NameID")?.trim().to_string();
    if value.is_empty() {
        return Err(LogoutError::Field("NameID"));
    }
    let format = attr(&doc, name_id, "Format").map(str::to_string);
    let mut session_indexes = Vec::new();
    for index in xml::children_named(&doc, root, SAMLP, "SessionIndex") {
        session_indexes.push(text_only(&doc, index, "SessionIndex")?.trim().to_string());
    }
    Ok(InboundLogoutRequest {
        id,
        issuer,
        issue_instant,
        not_on_or_after,
        destination: attr(&doc, root, "Destination").map(str::to_string),
        name_id: LogoutNameId { value, format },
        session_indexes,
    })
}

/// Reads a `samlp:LogoutResponse`.
pub fn parse_logout_response(xml_text: &str) -> Result<InboundLogoutResponse, LogoutError> {
    let doc = xml::parse(xml_text)?;
    let root = doc
        .children(doc.root())
        .into_iter()
        .find(|&c| doc.element(c).is_some())
        .ok_or(LogoutError::WrongMessage("LogoutResponse"))?;
    if !is(&doc, root, SAMLP, "LogoutResponse") {
        return Err(LogoutError::WrongMessage("LogoutResponse"));
    }
    version_2(&doc, root)?;
    let in_response_to = attr(&doc, root, "InResponseTo")
        .ok_or(LogoutError::Field("InResponseTo"))?
        .to_string();
    let issuer = issuer_of(&doc, root)?;
    let status = exactly_one(&doc, root, SAMLP, "Status")?;
    let code = exactly_one(&doc, status, SAMLP, "StatusCode")?;
    let status = attr(&doc, code, "Value")
        .ok_or(LogoutError::Field("StatusCode"))?
        .to_string();
    Ok(InboundLogoutResponse {
        issuer,
        in_response_to,
        destination: attr(&doc, root, "Destination").map(str::to_string),
        status,
    })
}

/// Checks an inbound request's times: `IssueInstant` not ahead of `now` by more than
/// the skew nor older than [`LOGOUT_REQUEST_MAX_AGE_SECS`], `NotOnOrAfter` (when
/// present) not passed. Returns until when its id must be kept against replay.
pub fn check_times(
    request: &InboundLogoutRequest,
    now: UnixTime,
    skew_secs: i64,
) -> Result<UnixTime, LogoutError> {
    if request.issue_instant > now + skew_secs {
        return Err(LogoutError::NotYetValid);
    }
    if request.issue_instant + LOGOUT_REQUEST_MAX_AGE_SECS + skew_secs <= now {
        return Err(LogoutError::Expired);
    }
    if request
        .not_on_or_after
        .is_some_and(|t| t + skew_secs <= now)
    {
        return Err(LogoutError::Expired);
    }
    Ok(request.issue_instant + LOGOUT_REQUEST_MAX_AGE_SECS + skew_secs)
}

fn instant(t: UnixTime) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// What Cognate's `LogoutRequest` says (SAML Core section 3.7.1).
pub struct LogoutRequestOut<'a> {
    pub id: &'a str,
    pub issue_instant: UnixTime,
    /// The IdP's SingleLogoutService (Redirect).
    pub destination: &'a str,
    pub sp_entity_id: &'a str,
    pub name_id: &'a str,
    pub name_id_format: Option<&'a str>,
    pub session_index: Option<&'a str>,
}

impl LogoutRequestOut<'_> {
    pub fn to_xml(&self) -> String {
        let format = self
            .name_id_format
            .map(|f| format!(" Format=\"{}\"", xml_escape(f)))
            .unwrap_or_default();
        let session_index = self
            .session_index
            .map(|s| format!("<samlp:SessionIndex>{}</samlp:SessionIndex>", xml_escape(s)))
            .unwrap_or_default();
        format!(
            "<samlp:LogoutRequest xmlns:samlp=\"{SAMLP}\" xmlns:saml=\"{SAML}\" ID=\"{id}\" \
             Version=\"2.0\" IssueInstant=\"{instant}\" NotOnOrAfter=\"{until}\" \
             Destination=\"{destination}\"><saml:Issuer>{issuer}</saml:Issuer>\
             <saml:NameID{format}>{name_id}</saml:NameID>{session_index}</samlp:LogoutRequest>",
            id = xml_escape(self.id),
            instant = instant(self.issue_instant),
            until = instant(self.issue_instant + LOGOUT_REQUEST_TTL_SECS),
            destination = xml_escape(self.destination),
            issuer = xml_escape(self.sp_entity_id),
            name_id = xml_escape(self.name_id),
        )
    }
}

/// What Cognate's `LogoutResponse` says (SAML Core section 3.7.2): a status code, with
/// an optional second-level code.
pub struct LogoutResponseOut<'a> {
    pub id: &'a str,
    pub issue_instant: UnixTime,
    pub destination: &'a str,
    pub in_response_to: &'a str,
    pub sp_entity_id: &'a str,
    pub status: &'a str,
    pub sub_status: Option<&'a str>,
}

impl LogoutResponseOut<'_> {
    pub fn to_xml(&self) -> String {
        let code = match self.sub_status {
            Some(sub) => format!(
                "<samlp:StatusCode Value=\"{}\"><samlp:StatusCode Value=\"{}\"/></samlp:StatusCode>",
                xml_escape(self.status),
                xml_escape(sub)
            ),
            None => format!("<samlp:StatusCode Value=\"{}\"/>", xml_escape(self.status)),
        };
        format!(
            "<samlp:LogoutResponse xmlns:samlp=\"{SAMLP}\" xmlns:saml=\"{SAML}\" ID=\"{id}\" \
             Version=\"2.0\" IssueInstant=\"{instant}\" Destination=\"{destination}\" \
             InResponseTo=\"{irt}\"><saml:Issuer>{issuer}</saml:Issuer>\
             <samlp:Status>{code}</samlp:Status></samlp:LogoutResponse>",
            id = xml_escape(self.id),
            instant = instant(self.issue_instant),
            destination = xml_escape(self.destination),
            irt = xml_escape(self.in_response_to),
            issuer = xml_escape(self.sp_entity_id),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::federation::saml::request::redirect_message_url;

    fn request_xml(id: &str, issue: UnixTime) -> String {
        LogoutRequestOut {
            id,
            issue_instant: issue,
            destination: "https://sp/saml2/logout",
            sp_entity_id: "https://idp/<x>",
            name_id: "ada&co",
            name_id_format: Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"),
            session_index: Some("_s1"),
        }
        .to_xml()
    }

    #[test]
    fn a_logout_request_round_trips_through_the_redirect_binding() {
        let xml = request_xml("_r1", 1_800_000_000);
        let url = redirect_message_url::<()>(
            "https://sp/saml2/logout",
            "SAMLRequest",
            &xml,
            Some("r s"),
            None,
        )
        .unwrap();
        let message = read_redirect(url.split_once('?').unwrap().1).unwrap();
        assert_eq!(message.kind, MessageKind::Request);
        assert_eq!(message.relay_state.as_deref(), Some("r s"));
        assert_eq!(
            message.verify_signature(&[], false),
            Err(LogoutError::Unsigned)
        );
        let parsed = parse_logout_request(&message.xml).unwrap();
        assert_eq!(parsed.id, "_r1");
        assert_eq!(parsed.issuer, "https://idp/<x>");
        assert_eq!(parsed.name_id.value, "ada&co");
        assert_eq!(parsed.session_indexes, vec!["_s1".to_string()]);
        assert_eq!(
            parsed.not_on_or_after,
            Some(1_800_000_000 + LOGOUT_REQUEST_TTL_SECS)
        );
        assert_eq!(
            check_times(&parsed, 1_800_000_010, 120).unwrap(),
            1_800_000_000 + 720
        );
        assert_eq!(
            check_times(&parsed, 1_800_000_000 + LOGOUT_REQUEST_TTL_SECS + 120, 120),
            Err(LogoutError::Expired)
        );
        assert_eq!(
            check_times(&parsed, 1_799_999_000, 120),
            Err(LogoutError::NotYetValid)
        );
    }

    #[test]
    fn a_logout_response_is_read_with_its_status() {
        let xml = LogoutResponseOut {
            id: "_x",
            issue_instant: 1,
            destination: "https://idp/slo",
            in_response_to: "_r1",
            sp_entity_id: "urn:sp",
            status: STATUS_REQUESTER,
            sub_status: Some(STATUS_UNKNOWN_PRINCIPAL),
        }
        .to_xml();
        let parsed = parse_logout_response(&xml).unwrap();
        assert_eq!(parsed.in_response_to, "_r1");
        assert_eq!(parsed.issuer, "urn:sp");
        assert_eq!(parsed.status, STATUS_REQUESTER);
    }

    #[test]
    fn malformed_queries_are_refused_precisely() {
        assert_eq!(
            read_redirect("RelayState=x").unwrap_err(),
            LogoutError::NoMessage
        );
        assert_eq!(
            read_redirect("SAMLRequest=a&SAMLRequest=b").unwrap_err(),
            LogoutError::RepeatedParameter("SAMLRequest")
        );
        assert_eq!(
            read_redirect("SAMLRequest=@@@").unwrap_err(),
            LogoutError::Encoding
        );
        let long = "a".repeat(MAX_LOGOUT_QUERY_CHARS + 1);
        assert!(matches!(
            read_redirect(&long).unwrap_err(),
            LogoutError::TooLarge { .. }
        ));
        // A deflate bomb stops at the cap.
        let bomb = "<a>".to_string() + &" ".repeat(200_000) + "</a>";
        let url =
            redirect_message_url::<()>("https://x/", "SAMLRequest", &bomb, None, None).unwrap();
        assert!(matches!(
            read_redirect(url.split_once('?').unwrap().1).unwrap_err(),
            LogoutError::Inflated { .. }
        ));
        assert!(matches!(
            parse_logout_request(
                "<samlp:LogoutResponse xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\"/>"
            ),
            Err(LogoutError::WrongMessage(_))
        ));
    }

    fn sp_key() -> crate::core::sp_keys::SpKey {
        use crate::core::sp_keys::{generate_sp_key, SpKey};
        let (master, _) = crate::core::secrets::MasterKey::generate();
        let record = generate_sp_key(&master, "us-east-1_Slo", 1_800_000_000).unwrap();
        SpKey::from_record(&master, &record).unwrap()
    }

    #[test]
    fn signatures_are_checked_over_the_query_as_received() {
        let key = sp_key();
        let sign = |m: &[u8]| key.sign_rsa_sha256(m);
        let xml = request_xml("_r2", 1_800_000_000);
        let url = redirect_message_url("https://sp/", "SAMLRequest", &xml, Some("rs"), Some(&sign))
            .unwrap();
        let query = url.split_once('?').unwrap().1.to_string();
        let certs = vec![key.certificate_der().to_vec()];
        read_redirect(&query)
            .unwrap()
            .verify_signature(&certs, false)
            .unwrap();
        // Another RelayState under the same signature.
        let moved = query.replace("RelayState=rs", "RelayState=rt");
        assert_eq!(
            read_redirect(&moved)
                .unwrap()
                .verify_signature(&certs, false),
            Err(LogoutError::BadSignature)
        );
        // A certificate not in the metadata.
        let other = sp_key();
        assert_eq!(
            read_redirect(&query)
                .unwrap()
                .verify_signature(&[other.certificate_der().to_vec()], false),
            Err(LogoutError::BadSignature)
        );
        // SHA-1 is refused unless allowed.
        let sha1 = query.replace(
            "SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256",
            "SigAlg=http%3A%2F%2Fwww.w3.org%2F2000%2F09%2Fxmldsig%23rsa-sha1",
        );
        assert!(matches!(
            read_redirect(&sha1)
                .unwrap()
                .verify_signature(&certs, false),
            Err(LogoutError::SignatureAlgorithm(_))
        ));
    }
}
