//! A client of AWS STS's `AssumeRoleWithWebIdentity`, for the "optional real AWS" mode
//! (issue 12, item 6): with an operator's STS endpoint and role ARNs configured, the
//! enhanced flow exchanges one of Cognate's identity OpenID tokens
//! ([`crate::core::identity_pools::openid`]) for real AWS credentials. AWS accepts such a
//! token only through an IAM OIDC identity provider registered for Cognate's public https
//! identity issuer, with trust conditions on `<issuer host>/identity:aud`.
//!
//! The call is STS's query protocol (AWS STS API Reference, AssumeRoleWithWebIdentity):
//! an unsigned `POST` of an `application/x-www-form-urlencoded` body
//! `Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=..&RoleSessionName=..&
//! WebIdentityToken=..&DurationSeconds=..`, answered with XML:
//! `AssumeRoleWithWebIdentityResponse/AssumeRoleWithWebIdentityResult/Credentials/
//! {AccessKeyId, SecretAccessKey, SessionToken, Expiration}`, or on failure
//! `ErrorResponse/Error/{Type, Code, Message}` (AWS STS "Common Errors").
//!
//! It goes through the federation's one outbound client ([`IdpHttp`]): timeouts, no
//! redirects, a size cap, and no internal address unless the operator allowed its network.
//! The answer is parsed with the same XML parser as SAML (bergshamra's uppsala): the DTD
//! and entities forbidden, nesting and size bounded, every element in STS's namespace,
//! each field exactly once.

use bergshamra::xml::uppsala::{self, Document, NodeId, NodeKind};
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use url::Url;

use super::http::{for_log, HttpError, IdpHttp};
use crate::core::secrets::SecretString;
use crate::core::UnixTime;

/// STS's XML namespace (API version 2011-06-15).
pub const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

/// The largest STS answer read (a credentials answer is about 2 KiB).
pub const MAX_STS_ANSWER_BYTES: usize = 64 * 1024;

/// The deepest element nesting accepted in an answer (STS's is 4 deep).
const MAX_DEPTH: u32 = 16;

/// `DurationSeconds` bounds (AWS: 900 s to the role's maximum session, at most 12 h).
pub const MIN_DURATION_SECS: u32 = 900;
pub const MAX_DURATION_SECS: u32 = 43_200;

/// Credentials AWS's STS issued.
#[derive(Debug, Clone)]
pub struct UpstreamCredentials {
    pub access_key_id: String,
    pub secret_access_key: SecretString,
    pub session_token: SecretString,
    pub expiration: UnixTime,
}

/// Why the call failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsStsError {
    /// Transport: unreachable, timeout, too large, refused address.
    #[error("STS: {0}")]
    Http(#[from] HttpError),
    /// STS refused, with its error code (`InvalidIdentityToken`, `AccessDenied`,
    /// `ExpiredTokenException`, `IDPRejectedClaim`, ...) and message.
    #[error("STS refused ({status} {code}): {message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer is not what STS sends.
    #[error("STS answered something unexpected: {0}")]
    Malformed(String),
    /// The request cannot be made as asked.
    #[error("bad STS request: {0}")]
    BadRequest(&'static str),
}

/// Calls `AssumeRoleWithWebIdentity` at `endpoint` with `web_identity_token` (an identity
/// OpenID token), for `duration_secs` (900 to 43,200).
pub async fn assume_role_with_web_identity(
    http: &IdpHttp,
    endpoint: &Url,
    role_arn: &str,
    role_session_name: &str,
    web_identity_token: &str,
    duration_secs: u32,
) -> Result<UpstreamCredentials, AwsStsError> {
    if !(MIN_DURATION_SECS..=MAX_DURATION_SECS).contains(&duration_secs) {
        return Err(AwsStsError::BadRequest(
            "DurationSeconds outside 900 to 43200",
        ));
    }
    // AWS: RoleSessionName is 2 to 64 of [\w+=,.@-].
    let session_name_ok = (2..=64).contains(&role_session_name.len())
        && role_session_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !session_name_ok {
        return Err(AwsStsError::BadRequest("RoleSessionName"));
    }
    if role_arn.is_empty() || web_identity_token.is_empty() {
        return Err(AwsStsError::BadRequest("empty RoleArn or WebIdentityToken"));
    }
    let duration = duration_secs.to_string();
    let form = [
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", "2011-06-15"),
        ("RoleArn", role_arn),
        ("RoleSessionName", role_session_name),
        ("WebIdentityToken", web_identity_token),
        ("DurationSeconds", &duration),
    ];
    let body =
        serde_urlencoded::to_string(form).map_err(|_| AwsStsError::BadRequest("form encoding"))?;
    let request = http
        .client()?
        .post(endpoint.clone())
        .header(
            CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header(ACCEPT, "text/xml")
        .body(body);
    let answer = http.execute_capped(request, MAX_STS_ANSWER_BYTES).await?;
    let text = std::str::from_utf8(&answer.body)
        .map_err(|_| AwsStsError::Malformed(format!("{}: not UTF-8", for_log(endpoint))))?;
    if answer.status == 200 {
        parse_credentials(text)
    } else {
        Err(parse_error(answer.status, text))
    }
}

/// Parses with the DTD and entities forbidden and nesting bounded.
fn parse_xml(xml: &str) -> Result<Document<'_>, AwsStsError> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(AwsStsError::Malformed("a DTD".into()));
    }
    uppsala::Parser::new()
        .with_max_depth(MAX_DEPTH)
        .with_forbid_dtd(true)
        .with_forbid_entities(true)
        .parse(xml)
        .map_err(|e| AwsStsError::Malformed(clip(&e.to_string())))
}

/// Whether `id` is the element `{STS_NS}local`.
fn is(doc: &Document<'_>, id: NodeId, local: &str) -> bool {
    doc.element(id)
        .is_some_and(|e| e.matches_name_ns(STS_NS, local))
}

/// The one child `{STS_NS}local` of `parent`; absent or repeated is an error (a second
/// copy is a place for a value a lax reader would take).
fn one_child(doc: &Document<'_>, parent: NodeId, local: &str) -> Result<NodeId, AwsStsError> {
    let found: Vec<NodeId> = doc
        .children(parent)
        .into_iter()
        .filter(|&c| is(doc, c, local))
        .collect();
    match found.as_slice() {
        [one] => Ok(*one),
        [] => Err(AwsStsError::Malformed(format!("no {local}"))),
        _ => Err(AwsStsError::Malformed(format!("several {local}"))),
    }
}

/// The text of a text-only element.
fn text_of(doc: &Document<'_>, id: NodeId, local: &str) -> Result<String, AwsStsError> {
    let mut out = String::new();
    for child in doc.children(id) {
        match doc.node_kind(child) {
            Some(NodeKind::Text(t)) | Some(NodeKind::CData(t)) => out.push_str(t),
            _ => return Err(AwsStsError::Malformed(format!("{local} is not text"))),
        }
    }
    Ok(out.trim().to_string())
}

/// The text of the one child `local` of `parent`.
fn child_text(doc: &Document<'_>, parent: NodeId, local: &str) -> Result<String, AwsStsError> {
    text_of(doc, one_child(doc, parent, local)?, local)
}

/// Reads a success answer's credentials.
pub fn parse_credentials(xml: &str) -> Result<UpstreamCredentials, AwsStsError> {
    let doc = parse_xml(xml)?;
    let root = doc
        .document_element()
        .filter(|&r| is(&doc, r, "AssumeRoleWithWebIdentityResponse"))
        .ok_or_else(|| AwsStsError::Malformed("not an AssumeRoleWithWebIdentityResponse".into()))?;
    let result = one_child(&doc, root, "AssumeRoleWithWebIdentityResult")?;
    let creds = one_child(&doc, result, "Credentials")?;
    let access_key_id = child_text(&doc, creds, "AccessKeyId")?;
    let secret = child_text(&doc, creds, "SecretAccessKey")?;
    let token = child_text(&doc, creds, "SessionToken")?;
    let expiration = child_text(&doc, creds, "Expiration")?;
    if access_key_id.is_empty() || secret.is_empty() || token.is_empty() {
        return Err(AwsStsError::Malformed("empty credentials".into()));
    }
    let expiration = chrono::DateTime::parse_from_rfc3339(&expiration)
        .map_err(|_| AwsStsError::Malformed("Expiration is not an ISO 8601 time".into()))?
        .timestamp();
    Ok(UpstreamCredentials {
        access_key_id,
        secret_access_key: SecretString::new(secret),
        session_token: SecretString::new(token),
        expiration,
    })
}

/// Reads an error answer (`ErrorResponse/Error/{Code, Message}`); anything else is
/// `Malformed`, naming the status.
pub fn parse_error(status: u16, xml: &str) -> AwsStsError {
    let read = || -> Result<AwsStsError, AwsStsError> {
        let doc = parse_xml(xml)?;
        let root = doc
            .document_element()
            .filter(|&r| is(&doc, r, "ErrorResponse"))
            .ok_or_else(|| AwsStsError::Malformed("not an ErrorResponse".into()))?;
        let error = one_child(&doc, root, "Error")?;
        let code = child_text(&doc, error, "Code")?;
        if code.is_empty() {
            return Err(AwsStsError::Malformed("empty error code".into()));
        }
        // The message is optional in AWS's shape.
        let message = match one_child(&doc, error, "Message") {
            Ok(id) => text_of(&doc, id, "Message")?,
            Err(_) => String::new(),
        };
        Ok(AwsStsError::Refused {
            status,
            code: clip(&code),
            message: clip(&message),
        })
    };
    match read() {
        Ok(refused) => refused,
        Err(AwsStsError::Malformed(why)) => {
            AwsStsError::Malformed(format!("HTTP {status} without STS's error XML: {why}"))
        }
        Err(other) => other,
    }
}

/// At most 200 printable characters of an upstream string, for errors and logs.
fn clip(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleWithWebIdentityResult>
    <SubjectFromWebIdentityToken>us-east-1:abc</SubjectFromWebIdentityToken>
    <Credentials>
      <AccessKeyId>ASIAEXAMPLEEXAMPLE00</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY</SecretAccessKey>
      <SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken>
      <Expiration>2026-12-05T23:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleWithWebIdentityResult>
  <ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>
</AssumeRoleWithWebIdentityResponse>"#;

    #[test]
    fn credentials_answers_parse() {
        let creds = parse_credentials(OK).unwrap();
        assert_eq!(creds.access_key_id, "ASIAEXAMPLEEXAMPLE00");
        assert_eq!(
            creds.secret_access_key.expose(),
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
        );
        assert_eq!(creds.session_token.expose(), "FwoGZXIvYXdzEXAMPLE");
        assert_eq!(creds.expiration, 1_796_511_600);
        let shown = format!("{creds:?}");
        assert!(
            !shown.contains("wJalr") && !shown.contains("FwoG"),
            "{shown}"
        );
    }

    #[test]
    fn odd_answers_are_refused() {
        // Wrong namespace, a repeated field, a DTD, mixed content, a bad time.
        let cases = [
            OK.replace("https://sts.amazonaws.com/doc/2011-06-15/", "urn:other"),
            OK.replace(
                "<AccessKeyId>",
                "<AccessKeyId>ASIAEVIL</AccessKeyId><AccessKeyId>",
            ),
            format!("<!DOCTYPE x [<!ENTITY e \"x\">]>{OK}"),
            OK.replace("FwoGZXIvYXdzEXAMPLE", "Fwo<!-- -->G"),
            OK.replace("2026-12-05T23:00:00Z", "tomorrow"),
            OK.replace("<SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken>", ""),
        ];
        for case in &cases {
            assert!(
                matches!(parse_credentials(case), Err(AwsStsError::Malformed(_))),
                "{case}"
            );
        }
        assert!(parse_credentials(OK).is_ok());
    }

    #[test]
    fn error_answers_map_to_their_code() {
        let xml = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>
  <Message>No OpenIDConnect provider found in your account for https://id.example.com/identity</Message></Error>
  <RequestId>r</RequestId></ErrorResponse>"#;
        match parse_error(400, xml) {
            AwsStsError::Refused {
                status,
                code,
                message,
            } => {
                assert_eq!((status, code.as_str()), (400, "InvalidIdentityToken"));
                assert!(message.starts_with("No OpenIDConnect provider"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            parse_error(503, "<html>busy</html>"),
            AwsStsError::Malformed(m) if m.contains("503")
        ));
    }
}
