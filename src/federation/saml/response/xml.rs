//! Reading an inbound SAML document: the size cap, base64, the one parse with its limits,
//! and namespace-exact navigation (a SAML element is its namespace URI plus its local
//! name, never the local name alone: wrapping attacks hide `evil:Assertion` elements from
//! parsers that look at local names).

use base64::Engine;
use bergshamra::xml::uppsala::{self, Document, Element, NodeId, NodeKind};

use super::SamlError;

/// `urn:oasis:names:tc:SAML:2.0:protocol` (SAML core §1.2).
pub(in crate::federation::saml) const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
/// `urn:oasis:names:tc:SAML:2.0:assertion` (SAML core §1.2).
pub(in crate::federation::saml) const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
/// XML-DSig (xmldsig-core §4).
pub(in crate::federation::saml) const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Exclusive canonicalization (xml-exc-c14n §3): its `InclusiveNamespaces` element.
pub(in crate::federation::saml) const EC: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";

/// Deepest element nesting accepted. A real response nests about 8 levels
/// (Response/Assertion/AttributeStatement/Attribute/AttributeValue, Signature/SignedInfo/
/// Reference/Transforms/Transform); 64 leaves room for extensions and bounds the parser.
pub const MAX_DEPTH: u32 = 64;
/// Most nodes (elements, text, comments) accepted in one document. A real response has a
/// few hundred; the 100,000-character cap already bounds the input to 75,000 bytes.
pub const MAX_NODES: usize = 10_000;
/// Most `=` signs between two `<` (so most attributes on one element) accepted. A real
/// element has a handful; the parser's duplicate-attribute check costs the square of the
/// count, so a document of one element with thousands is refused before it is parsed.
pub const MAX_ATTRIBUTES: usize = 64;

/// Base64-decode the posted form value. IdPs wrap the base64 at 64 or 76 columns, so
/// ASCII whitespace is dropped first; the length cap applies to the form as posted.
pub(in crate::federation::saml) fn decode(
    saml_response_b64: &str,
    max_chars: usize,
) -> Result<String, SamlError> {
    if saml_response_b64.len() > max_chars {
        return Err(SamlError::TooLarge { max: max_chars });
    }
    let compact: Vec<u8> = saml_response_b64
        .bytes()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return Err(SamlError::Base64);
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|_| SamlError::Base64)?;
    // A UTF-8 byte order mark is legal before the XML declaration.
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => rest.to_vec(),
        None => bytes,
    };
    String::from_utf8(bytes).map_err(|_| SamlError::NotUtf8)
}

/// Whether some run of `xml` between two `<` holds more than [`MAX_ATTRIBUTES`] `=`
/// signs: checked before the parser sees a document (the IdP metadata parser too).
pub fn too_many_attributes(xml: &str) -> bool {
    xml.split('<')
        .any(|run| run.bytes().filter(|b| *b == b'=').count() > MAX_ATTRIBUTES)
}

/// Parse once, with the DTD forbidden, nesting bounded and the node count bounded.
///
/// A `<!DOCTYPE` is refused before the parser sees it (SAML never carries a DTD, and a
/// DTD is where entity expansion, billion laughs, and external entities live); the parser
/// is told to forbid it as well.
pub(in crate::federation::saml) fn parse(xml: &str) -> Result<Document<'_>, SamlError> {
    if xml.contains("<!DOCTYPE") || xml.contains("<!ENTITY") {
        return Err(SamlError::Dtd);
    }
    if too_many_attributes(xml) {
        return Err(SamlError::TooManyAttributes {
            max: MAX_ATTRIBUTES,
        });
    }
    let doc = uppsala::Parser::new()
        .with_max_depth(MAX_DEPTH)
        .with_forbid_dtd(true)
        .with_forbid_entities(true)
        .parse(xml)
        .map_err(|e| {
            let message = e.to_string();
            if message.contains("maximum depth") {
                SamlError::TooDeep { max: MAX_DEPTH }
            } else if message.contains("DOCTYPE") {
                SamlError::Dtd
            } else {
                SamlError::Malformed(clip(&message))
            }
        })?;
    if doc.descendants(doc.root()).len() > MAX_NODES {
        return Err(SamlError::TooManyNodes { max: MAX_NODES });
    }
    Ok(doc)
}

/// The element at `id`, if it is `{ns}local`.
pub(in crate::federation::saml) fn is(
    doc: &Document<'_>,
    id: NodeId,
    ns: &str,
    local: &str,
) -> bool {
    doc.element(id)
        .is_some_and(|e| e.matches_name_ns(ns, local))
}

/// Child elements of `parent` (in document order).
pub(in crate::federation::saml) fn child_elements(
    doc: &Document<'_>,
    parent: NodeId,
) -> Vec<NodeId> {
    doc.children(parent)
        .into_iter()
        .filter(|&c| doc.element(c).is_some())
        .collect()
}

/// Child elements of `parent` named `{ns}local`.
pub(in crate::federation::saml) fn children_named(
    doc: &Document<'_>,
    parent: NodeId,
    ns: &str,
    local: &str,
) -> Vec<NodeId> {
    doc.children(parent)
        .into_iter()
        .filter(|&c| is(doc, c, ns, local))
        .collect()
}

/// The one child `{ns}local` of `parent`: `None` when absent, an error when repeated
/// (a second copy is a place for an attacker to put a value a lax reader would take).
pub(in crate::federation::saml) fn at_most_one(
    doc: &Document<'_>,
    parent: NodeId,
    ns: &str,
    local: &'static str,
) -> Result<Option<NodeId>, SamlError> {
    let found = children_named(doc, parent, ns, local);
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(SamlError::Repeated(local)),
    }
}

/// The one required child `{ns}local` of `parent`.
pub(in crate::federation::saml) fn exactly_one(
    doc: &Document<'_>,
    parent: NodeId,
    ns: &str,
    local: &'static str,
) -> Result<NodeId, SamlError> {
    at_most_one(doc, parent, ns, local)?.ok_or(SamlError::Missing(local))
}

/// An unqualified attribute (SAML's attributes carry no namespace).
pub(in crate::federation::saml) fn attr<'d>(
    doc: &'d Document<'_>,
    id: NodeId,
    local: &str,
) -> Option<&'d str> {
    doc.element(id).and_then(|e| unqualified_attr(e, local))
}

pub(in crate::federation::saml) fn unqualified_attr<'d>(
    e: &'d Element<'_>,
    local: &str,
) -> Option<&'d str> {
    e.attributes
        .iter()
        .find(|a| {
            *a.name.local_name == *local && a.name.namespace_uri.as_deref().unwrap_or("").is_empty()
        })
        .map(|a| &*a.value)
}

/// The text of an element made of text only: every text and CDATA child, concatenated.
///
/// A comment, a processing instruction or a child element inside it is refused: the
/// comment-injection attack (`admin@example.com<!---->.evil.com`, signed validly by the
/// IdP for the attacker's own account) splits the text so that a reader taking the first
/// text node sees the victim's address. Refusing is stricter than concatenating and costs
/// nothing: IdPs do not put comments in values.
pub(in crate::federation::saml) fn text_only(
    doc: &Document<'_>,
    id: NodeId,
    element: &'static str,
) -> Result<String, SamlError> {
    let mut out = String::new();
    for child in doc.children(id) {
        match doc.node_kind(child) {
            Some(NodeKind::Text(t)) | Some(NodeKind::CData(t)) => out.push_str(t),
            _ => return Err(SamlError::MixedContent(element)),
        }
    }
    Ok(out)
}

/// A value from the message inside an error: printable and at most 200 characters, so an
/// error line cannot be flooded or carry control characters.
pub(in crate::federation::saml) fn clip(value: &str) -> String {
    const MAX: usize = 200;
    let mut out: String = value
        .chars()
        .take(MAX)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if value.chars().count() > MAX {
        out.push('…');
    }
    out
}

/// An `xs:dateTime` (SAML core §1.3.3: UTC, `Z`; an offset is accepted and converted, a
/// missing zone is read as UTC), to Unix seconds. Fractions of a second are dropped.
pub(crate) fn parse_instant(value: &str) -> Option<crate::core::UnixTime> {
    let value = value.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        return Some(t.timestamp());
    }
    chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn decode_tolerates_wrapped_lines_and_caps_length() {
        let encoded = b64("<a>hello</a>");
        let wrapped = format!("{}\r\n {}\n", &encoded[..6], &encoded[6..]);
        assert_eq!(decode(&wrapped, 100).unwrap(), "<a>hello</a>");
        assert_eq!(
            decode(&encoded, 3).unwrap_err(),
            SamlError::TooLarge { max: 3 }
        );
        assert_eq!(decode("@@@@", 100).unwrap_err(), SamlError::Base64);
        assert_eq!(decode("  ", 100).unwrap_err(), SamlError::Base64);
        let not_utf8 = base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe, 0x00]);
        assert_eq!(decode(&not_utf8, 100).unwrap_err(), SamlError::NotUtf8);
    }

    #[test]
    fn parse_refuses_dtd_and_entities() {
        let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><a>&lol2;</a>"#;
        assert_eq!(parse(laughs).unwrap_err(), SamlError::Dtd);
        assert_eq!(parse("<a><!ENTITY x></a>").unwrap_err(), SamlError::Dtd);
    }

    #[test]
    fn parse_bounds_depth_and_nodes() {
        let deep = format!("{}{}", "<a>".repeat(65), "</a>".repeat(65));
        assert_eq!(
            parse(&deep).unwrap_err(),
            SamlError::TooDeep { max: MAX_DEPTH }
        );
        let ok = format!("{}{}", "<a>".repeat(60), "</a>".repeat(60));
        assert!(parse(&ok).is_ok());
        let wide = format!("<r>{}</r>", "<a/>".repeat(MAX_NODES + 1));
        assert_eq!(
            parse(&wide).unwrap_err(),
            SamlError::TooManyNodes { max: MAX_NODES }
        );
        assert!(matches!(parse("<a><b></a>"), Err(SamlError::Malformed(_))));
    }

    #[test]
    fn an_element_with_thousands_of_attributes_is_refused_before_parsing() {
        let attrs: String = (0..8_000).map(|n| format!(" a{n}=\"\"")).collect();
        // The cap's own error: the parser never saw the document.
        assert_eq!(
            parse(&format!("<r{attrs}/>")).unwrap_err(),
            SamlError::TooManyAttributes {
                max: MAX_ATTRIBUTES
            }
        );
        let some: String = (0..MAX_ATTRIBUTES).map(|n| format!(" a{n}=\"\"")).collect();
        assert!(parse(&format!("<r{some}/>")).is_ok());
    }

    #[test]
    fn text_only_concatenates_text_and_refuses_comments() {
        let doc = parse("<n>admin@example.com<![CDATA[.x]]>.y</n>").unwrap();
        let n = doc.document_element().unwrap();
        assert_eq!(
            text_only(&doc, n, "NameID").unwrap(),
            "admin@example.com.x.y"
        );
        let doc = parse("<n>admin@example.com<!---->.evil.com</n>").unwrap();
        let n = doc.document_element().unwrap();
        assert_eq!(
            text_only(&doc, n, "NameID").unwrap_err(),
            SamlError::MixedContent("NameID")
        );
        let doc = parse("<n>a<b/>c</n>").unwrap();
        let n = doc.document_element().unwrap();
        assert!(text_only(&doc, n, "NameID").is_err());
    }

    #[test]
    fn instants() {
        assert_eq!(parse_instant("1970-01-01T00:01:40Z"), Some(100));
        assert_eq!(parse_instant("1970-01-01T00:01:40.999Z"), Some(100));
        assert_eq!(parse_instant("1970-01-01T01:01:40+01:00"), Some(100));
        assert_eq!(parse_instant("1970-01-01T00:01:40"), Some(100));
        assert_eq!(parse_instant(" 2024-02-29T12:00:00Z "), Some(1_709_208_000));
        assert_eq!(parse_instant("yesterday"), None);
        assert_eq!(parse_instant("2024-02-30T12:00:00Z"), None);
    }

    #[test]
    fn clip_bounds_values() {
        assert_eq!(clip("a\nb"), "a?b");
        assert_eq!(clip(&"x".repeat(300)).chars().count(), 201);
    }

    #[test]
    fn namespaces_are_matched_exactly() {
        let text =
            format!(r#"<r xmlns:s="{SAML}" xmlns:e="urn:evil"><e:Assertion/><s:Assertion/></r>"#);
        let doc = parse(&text).unwrap();
        let r = doc.document_element().unwrap();
        assert_eq!(children_named(&doc, r, SAML, "Assertion").len(), 1);
        assert!(exactly_one(&doc, r, SAML, "Assertion").is_ok());
        assert_eq!(
            exactly_one(&doc, r, SAML, "Issuer").unwrap_err(),
            SamlError::Missing("Issuer")
        );
    }
}
