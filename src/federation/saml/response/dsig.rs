//! The XML signatures of a response: the shape Cognate accepts (checked before any
//! signature is processed), the crypto (bergshamra, metadata keys only), and the node rule
//! that decides what a valid signature covers.
//!
//! bergshamra is only the engine. It resolves any `Reference` URI it is given (an unsigned
//! `URI="Cargo.toml"` made it read a local file), runs any transform it knows, accepts
//! RSA-SHA1 and HMAC, and reports a signature "Valid" whatever element its reference
//! lands on. So before it runs, every signature in the document must have Cognate's
//! shape: exactly one `Reference` whose URI is `#<ID>`, the enveloped-signature and
//! exclusive-c14n (without comments) transforms only, allowlisted algorithms; and after it
//! runs, a valid signature counts only if its reference resolved to the signature's own
//! parent, which carries that `ID` and is the `Response` root or an `Assertion` child of it
//! (xmldsig-core §4.3.3, SAML core §5.4).

use std::collections::HashSet;

use bergshamra::xml::uppsala::{Document, NodeId, NodeKind};
use bergshamra::{DsigContext, KeysManager, VerifyResult};

use super::xml::{self, child_elements, is, DS, EC, SAML, SAMLP};
use super::SamlError;

/// Most `ds:Signature` elements in one response: one on the Response, one on the Assertion.
pub(super) const MAX_SIGNATURES: usize = 2;

const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Signature methods (xmldsig-core §6.4, RFC 6931 §2.3): RSA with SHA-256 or stronger;
/// RSA-SHA1 only when the IdP is allowed SHA-1.
fn signature_method_allowed(uri: &str, allow_sha1: bool) -> bool {
    match uri {
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
        | "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384"
        | "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => true,
        "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => allow_sha1,
        _ => false,
    }
}

/// Digest methods (xmlenc-core §5.7, RFC 6931 §2.1): SHA-256 or stronger; SHA-1 only
/// when allowed.
fn digest_method_allowed(uri: &str, allow_sha1: bool) -> bool {
    match uri {
        "http://www.w3.org/2001/04/xmlenc#sha256"
        | "http://www.w3.org/2001/04/xmldsig-more#sha384"
        | "http://www.w3.org/2001/04/xmlenc#sha512" => true,
        "http://www.w3.org/2000/09/xmldsig#sha1" => allow_sha1,
        _ => false,
    }
}

/// One `ds:Signature` that passed the shape check.
#[derive(Debug)]
pub(super) struct SignatureShape {
    pub node: NodeId,
    /// The ID its single reference names (the URI without `#`).
    pub reference_id: String,
}

/// Every `ds:Signature` in the document, in document order, each checked for shape.
pub(super) fn check_all_shapes(
    doc: &Document<'_>,
    allow_sha1: bool,
) -> Result<Vec<SignatureShape>, SamlError> {
    let signatures: Vec<NodeId> = doc
        .descendants(doc.root())
        .into_iter()
        .filter(|&n| is(doc, n, DS, "Signature"))
        .collect();
    if signatures.len() > MAX_SIGNATURES {
        return Err(SamlError::TooManySignatures {
            max: MAX_SIGNATURES,
        });
    }
    signatures
        .into_iter()
        .map(|s| check_shape(doc, s, allow_sha1))
        .collect()
}

fn shape_err(what: &str) -> SamlError {
    SamlError::UnsupportedSignature(what.to_owned())
}

/// The attribute `local` as bergshamra reads it (first attribute with that local name,
/// whatever its namespace), refusing an element that carries two of them so Cognate and
/// the engine cannot read different values.
fn engine_attr<'d>(
    doc: &'d Document<'_>,
    id: NodeId,
    local: &str,
) -> Result<Option<&'d str>, SamlError> {
    let Some(e) = doc.element(id) else {
        return Ok(None);
    };
    let mut found = e.attributes.iter().filter(|a| *a.name.local_name == *local);
    let first = found.next().map(|a| &*a.value);
    if found.next().is_some() {
        return Err(shape_err(&format!(
            "an element carries two {local} attributes"
        )));
    }
    Ok(first)
}

/// The required `Algorithm` of a method element.
fn algorithm<'d>(doc: &'d Document<'_>, id: NodeId, what: &str) -> Result<&'d str, SamlError> {
    engine_attr(doc, id, "Algorithm")?.ok_or_else(|| shape_err(&format!("{what} has no Algorithm")))
}

/// Only whitespace text and comments besides elements (comments are outside every
/// node-set Cognate lets the engine digest).
fn only_element_content(doc: &Document<'_>, id: NodeId, what: &str) -> Result<(), SamlError> {
    for c in doc.children(id) {
        match doc.node_kind(c) {
            Some(NodeKind::Element(_)) | Some(NodeKind::Comment(_)) => {}
            Some(NodeKind::Text(t)) if t.trim().is_empty() => {}
            _ => return Err(shape_err(&format!("unexpected content in {what}"))),
        }
    }
    Ok(())
}

/// The children of `id` must be, in order, the ds elements named in `expected`
/// (`?` suffix: optional).
fn ds_sequence(
    doc: &Document<'_>,
    id: NodeId,
    what: &str,
    expected: &[&str],
) -> Result<Vec<NodeId>, SamlError> {
    only_element_content(doc, id, what)?;
    let children = child_elements(doc, id);
    let mut out = Vec::new();
    let mut i = 0;
    for want in expected {
        let (name, optional) = match want.strip_suffix('?') {
            Some(n) => (n, true),
            None => (*want, false),
        };
        match children.get(i) {
            Some(&c) if is(doc, c, DS, name) => {
                out.push(c);
                i += 1;
            }
            _ if optional => {}
            _ => return Err(shape_err(&format!("{what} must contain ds:{name} here"))),
        }
    }
    if i != children.len() {
        return Err(shape_err(&format!("unexpected element in {what}")));
    }
    Ok(out)
}

/// Exclusive c14n without comments, with at most an `ec:InclusiveNamespaces` child.
fn check_exc_c14n(doc: &Document<'_>, id: NodeId, what: &str) -> Result<(), SamlError> {
    let alg = algorithm(doc, id, what)?;
    if alg != EXC_C14N {
        return Err(SamlError::AlgorithmNotAllowed(xml::clip(alg)));
    }
    only_element_content(doc, id, what)?;
    let children = child_elements(doc, id);
    match children.as_slice() {
        [] => Ok(()),
        [one] if is(doc, *one, EC, "InclusiveNamespaces") => Ok(()),
        _ => Err(shape_err(&format!("unexpected element in {what}"))),
    }
}

/// A Reference URI Cognate lets the engine resolve: `#` and an XML Schema ID (an NCName
/// made of ASCII letters, digits, `_`, `-`, `.`, starting with a letter or `_`). Empty
/// (whole document), XPointer, external and file URIs are refused.
fn reference_id(uri: &str) -> Result<String, SamlError> {
    let refuse = || SamlError::ReferenceUri(xml::clip(uri));
    let id = uri.strip_prefix('#').ok_or_else(refuse)?;
    let mut chars = id.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(refuse());
    }
    Ok(id.to_owned())
}

fn check_shape(
    doc: &Document<'_>,
    sig: NodeId,
    allow_sha1: bool,
) -> Result<SignatureShape, SamlError> {
    // SAML signatures carry no ds:Object (XSW8 hides the original there).
    let parts = ds_sequence(
        doc,
        sig,
        "ds:Signature",
        &["SignedInfo", "SignatureValue", "KeyInfo?"],
    )?;
    let [signed_info, _value, rest @ ..] = parts.as_slice() else {
        return Err(shape_err("ds:Signature is incomplete"));
    };
    if let Some(&key_info) = rest.first() {
        check_key_info(doc, key_info)?;
    }
    let si = ds_sequence(
        doc,
        *signed_info,
        "ds:SignedInfo",
        &["CanonicalizationMethod", "SignatureMethod", "Reference"],
    )?;
    let [c14n, method, reference] = si.as_slice() else {
        return Err(shape_err(
            "ds:SignedInfo must hold exactly one ds:Reference",
        ));
    };
    check_exc_c14n(doc, *c14n, "ds:CanonicalizationMethod")?;
    let sig_alg = algorithm(doc, *method, "ds:SignatureMethod")?;
    if !signature_method_allowed(sig_alg, allow_sha1) {
        return Err(SamlError::AlgorithmNotAllowed(xml::clip(sig_alg)));
    }
    // No HMACOutputLength or other parameters.
    only_element_content(doc, *method, "ds:SignatureMethod")?;
    if !child_elements(doc, *method).is_empty() {
        return Err(shape_err("ds:SignatureMethod carries parameters"));
    }

    let uri = engine_attr(doc, *reference, "URI")?
        .ok_or_else(|| SamlError::ReferenceUri("(no URI: the whole document)".into()))?;
    let reference_id = reference_id(uri)?;
    let parts = ds_sequence(
        doc,
        *reference,
        "ds:Reference",
        &["Transforms?", "DigestMethod", "DigestValue"],
    )?;
    let (transforms, digest) = match parts.as_slice() {
        [t, d, _] => (Some(*t), *d),
        [d, _] => (None, *d),
        _ => return Err(shape_err("ds:Reference is incomplete")),
    };
    let digest_alg = algorithm(doc, digest, "ds:DigestMethod")?;
    if !digest_method_allowed(digest_alg, allow_sha1) {
        return Err(SamlError::AlgorithmNotAllowed(xml::clip(digest_alg)));
    }
    if let Some(transforms) = transforms {
        check_transforms(doc, transforms)?;
    }
    Ok(SignatureShape {
        node: sig,
        reference_id,
    })
}

/// At most the enveloped-signature transform, then exclusive c14n, in that order.
fn check_transforms(doc: &Document<'_>, transforms: NodeId) -> Result<(), SamlError> {
    only_element_content(doc, transforms, "ds:Transforms")?;
    let mut saw_enveloped = false;
    let mut saw_c14n = false;
    for t in child_elements(doc, transforms) {
        if !is(doc, t, DS, "Transform") {
            return Err(shape_err("unexpected element in ds:Transforms"));
        }
        match algorithm(doc, t, "ds:Transform")? {
            ENVELOPED if !saw_enveloped && !saw_c14n => {
                saw_enveloped = true;
                only_element_content(doc, t, "ds:Transform")?;
                if !child_elements(doc, t).is_empty() {
                    return Err(shape_err(
                        "the enveloped-signature transform has parameters",
                    ));
                }
            }
            EXC_C14N if !saw_c14n => {
                saw_c14n = true;
                check_exc_c14n(doc, t, "ds:Transform")?;
            }
            EXC_C14N | ENVELOPED => return Err(shape_err("repeated or misordered transform")),
            other => return Err(SamlError::AlgorithmNotAllowed(xml::clip(other))),
        }
    }
    Ok(())
}

/// KeyInfo may only hint at a key (names and certificates): the engine never takes a
/// key from the message, and nothing in it may point elsewhere (RetrievalMethod,
/// KeyInfoReference, EncryptedKey).
fn check_key_info(doc: &Document<'_>, key_info: NodeId) -> Result<(), SamlError> {
    only_element_content(doc, key_info, "ds:KeyInfo")?;
    for c in child_elements(doc, key_info) {
        let allowed = ["X509Data", "KeyName", "KeyValue"]
            .iter()
            .any(|name| is(doc, c, DS, name));
        if !allowed {
            return Err(shape_err(
                "ds:KeyInfo may hold only X509Data, KeyName, KeyValue",
            ));
        }
    }
    Ok(())
}

/// The signing keys from the IdP's metadata certificates (DER X.509).
fn keys_manager(certificates: &[Vec<u8>]) -> Result<KeysManager, SamlError> {
    if certificates.is_empty() {
        return Err(SamlError::NoCertificates);
    }
    let mut manager = KeysManager::new();
    for der in certificates {
        let key = bergshamra::keys::loader::load_x509_cert_der(der)
            .map_err(|_| SamlError::BadCertificate)?;
        manager.add_key(key);
    }
    Ok(manager)
}

/// What each signature covers, once the engine has verified all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Covers {
    Response,
    /// This `Assertion` child of the root.
    Assertion(NodeId),
}

/// Run the engine over the parsed document with the metadata keys only
/// (`DsigContext::new`: trusted keys only, never a key from `KeyInfo`), then apply the
/// node rule to every signature. Every signature in the document must be valid and
/// placed by the rule; the result says what each covers.
pub(super) fn verify_signatures(
    doc: &Document<'_>,
    source: &str,
    shapes: &[SignatureShape],
    certificates: &[Vec<u8>],
) -> Result<Vec<Covers>, SamlError> {
    let results = run_engine(doc, source, certificates, true)?;
    if results.len() != shapes.len() {
        // The engine and the shape check disagree on what a signature is.
        return Err(shape_err("signature count mismatch"));
    }
    let root = doc
        .document_element()
        .ok_or(SamlError::Missing("Response"))?;
    let mut covers = Vec::with_capacity(shapes.len());
    for (shape, result) in shapes.iter().zip(results) {
        let VerifyResult::Valid {
            signature_node,
            references,
            ..
        } = result
        else {
            let reason = match result {
                VerifyResult::Invalid { reason } => reason,
                VerifyResult::Valid { .. } => String::new(),
            };
            return Err(SamlError::SignatureInvalid(xml::clip(&reason)));
        };
        if signature_node != shape.node {
            return Err(shape_err("signature order mismatch"));
        }
        covers.push(node_rule(doc, root, shape, &references)?);
    }
    Ok(covers)
}

/// The node rule: the single reference resolved to the signature's parent, the parent's
/// own `ID` attribute is that reference, and the parent is the root `samlp:Response` or a
/// `saml:Assertion` child of it.
fn node_rule(
    doc: &Document<'_>,
    root: NodeId,
    shape: &SignatureShape,
    references: &[bergshamra::VerifiedReference],
) -> Result<Covers, SamlError> {
    let wrapping = |why: &str| SamlError::SignatureWrapping(why.to_owned());
    let [reference] = references else {
        return Err(wrapping("a signature must have exactly one reference"));
    };
    if !reference.digest_verified {
        return Err(wrapping("the reference digest was not checked"));
    }
    let parent = doc
        .parent(shape.node)
        .ok_or_else(|| wrapping("the signature has no parent"))?;
    if reference.resolved_node != Some(parent) {
        return Err(wrapping(
            "the signature does not cover the element that contains it",
        ));
    }
    if xml::attr(doc, parent, "ID") != Some(shape.reference_id.as_str()) {
        return Err(wrapping(
            "the signed element's ID attribute is not the reference",
        ));
    }
    if parent == root && is(doc, parent, SAMLP, "Response") {
        return Ok(Covers::Response);
    }
    if is(doc, parent, SAML, "Assertion") && doc.parent(parent) == Some(root) {
        return Ok(Covers::Assertion(parent));
    }
    Err(wrapping(
        "the signed element is neither the Response nor an Assertion child of it",
    ))
}

/// bergshamra over the whole parsed document, metadata keys only. `strict` adds the
/// engine's own position check (a reference target must be the document element, an
/// ancestor or a sibling of its signature): on for [`verify_signatures`] as a second
/// line behind the node rule, off for the raw [`crypto_valid`] answer.
fn run_engine(
    doc: &Document<'_>,
    source: &str,
    certificates: &[Vec<u8>],
    strict: bool,
) -> Result<Vec<VerifyResult>, SamlError> {
    let ctx = DsigContext::new(keys_manager(certificates)?).with_strict_verification(strict);
    bergshamra::dsig::verify::verify_all_document_with_source(&ctx, doc, Some(source))
        .map_err(|e| SamlError::SignatureInvalid(xml::clip(&e.to_string())))
}

/// The raw cryptographic check: the document has at least one `ds:Signature` (at most
/// [`MAX_SIGNATURES`]) and every one verifies with one of `certificates`. Only what keeps
/// the engine inside the document is checked first (every `ds:Reference` URI is `#ID`,
/// every `ds:Transform` is enveloped-signature or exclusive c14n): no shape, algorithm or
/// node rule. This is what an XML-DSig verifier such as `xmlsec1 --verify` answers, for
/// differential tests.
pub(super) fn crypto_valid(doc: &Document<'_>, source: &str, certificates: &[Vec<u8>]) -> bool {
    let mut signatures = 0;
    for n in doc.descendants(doc.root()) {
        if is(doc, n, DS, "Signature") {
            signatures += 1;
        }
        if is(doc, n, DS, "Reference") {
            let uri = engine_attr(doc, n, "URI").ok().flatten().unwrap_or("");
            if reference_id(uri).is_err() {
                return false;
            }
        }
        // The engine runs every child of ds:Transforms named Transform, any namespace.
        if doc
            .element(n)
            .is_some_and(|e| &*e.name.local_name == "Transform")
        {
            let alg = engine_attr(doc, n, "Algorithm").ok().flatten();
            if !matches!(alg, Some(ENVELOPED | EXC_C14N)) {
                return false;
            }
        }
    }
    if signatures == 0 || signatures > MAX_SIGNATURES {
        return false;
    }
    match run_engine(doc, source, certificates, false) {
        Ok(results) => results.len() == signatures && results.iter().all(|r| r.is_valid()),
        Err(_) => false,
    }
}

/// IDs by value, for the duplicate check: every attribute the engine treats as an ID
/// (`ID`, `Id`, `id`, `AssertionID` in any namespace, `xml:id`) on any element.
pub(super) fn check_unique_ids(doc: &Document<'_>) -> Result<(), SamlError> {
    let mut seen: HashSet<&str> = HashSet::new();
    for n in doc.descendants(doc.root()) {
        let Some(e) = doc.element(n) else { continue };
        let mut on_element = 0;
        for a in &e.attributes {
            let local = &*a.name.local_name;
            if matches!(local, "ID" | "Id" | "id" | "AssertionID") {
                on_element += 1;
                if !seen.insert(&*a.value) {
                    return Err(SamlError::DuplicateId(xml::clip(&a.value)));
                }
            }
        }
        if on_element > 1 {
            return Err(SamlError::AmbiguousId);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
    const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

    /// A Response whose signature is `signature` (an unsigned skeleton is enough: the
    /// shape check runs before any crypto).
    fn with_signature(signature: &str) -> String {
        format!(
            r#"<samlp:Response xmlns:samlp="{SAMLP}" xmlns:ds="{DS}" ID="_r">{signature}</samlp:Response>"#
        )
    }

    fn skeleton(c14n: &str, method: &str, references: &str, extra: &str) -> String {
        format!(
            r#"<ds:Signature><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{c14n}"/><ds:SignatureMethod Algorithm="{method}"/>{references}</ds:SignedInfo><ds:SignatureValue>AA==</ds:SignatureValue>{extra}</ds:Signature>"#
        )
    }

    fn reference(uri: &str, transforms: &[&str], digest: &str) -> String {
        let transforms: String = transforms
            .iter()
            .map(|t| format!(r#"<ds:Transform Algorithm="{t}"/>"#))
            .collect();
        format!(
            r#"<ds:Reference URI="{uri}"><ds:Transforms>{transforms}</ds:Transforms><ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference>"#
        )
    }

    fn shapes(xml: &str, allow_sha1: bool) -> Result<Vec<SignatureShape>, SamlError> {
        let doc = xml::parse(xml).unwrap();
        check_all_shapes(&doc, allow_sha1)
    }

    fn good_reference() -> String {
        reference("#_r", &[ENVELOPED, EXC_C14N], SHA256)
    }

    #[test]
    fn the_saml_shape_passes() {
        let xml = with_signature(&skeleton(
            EXC_C14N,
            RSA_SHA256,
            &good_reference(),
            "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>",
        ));
        let found = shapes(&xml, false).unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].reference_id, "_r");
    }

    #[test]
    fn reference_uris_other_than_an_id_are_refused() {
        assert_eq!(reference_id("#_a-1.b").unwrap(), "_a-1.b");
        for uri in [
            "",
            "#",
            "Cargo.toml",
            "/etc/passwd",
            "file:///etc/passwd",
            "#xpointer(/)",
            "#xpointer(id('_r'))",
            "#1abc",
            "#a b",
            "http://x/#a",
        ] {
            assert!(reference_id(uri).is_err(), "{uri}");
        }
    }

    #[test]
    fn algorithms_outside_the_allowlist_are_refused() {
        let hmac = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";
        let dsa = "http://www.w3.org/2000/09/xmldsig#dsa-sha1";
        let rsa_sha1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
        let sha1 = "http://www.w3.org/2000/09/xmldsig#sha1";
        let inclusive = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
        let with_comments = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
        let xslt = "http://www.w3.org/TR/1999/REC-xslt-19991116";
        let cases = [
            skeleton(EXC_C14N, hmac, &good_reference(), ""),
            skeleton(EXC_C14N, dsa, &good_reference(), ""),
            skeleton(EXC_C14N, rsa_sha1, &good_reference(), ""),
            skeleton(
                EXC_C14N,
                RSA_SHA256,
                &reference("#_r", &[ENVELOPED], sha1),
                "",
            ),
            skeleton(inclusive, RSA_SHA256, &good_reference(), ""),
            skeleton(with_comments, RSA_SHA256, &good_reference(), ""),
            skeleton(
                EXC_C14N,
                RSA_SHA256,
                &reference("#_r", &[ENVELOPED, with_comments], SHA256),
                "",
            ),
            skeleton(EXC_C14N, RSA_SHA256, &reference("#_r", &[xslt], SHA256), ""),
        ];
        for sig in cases {
            assert!(
                matches!(
                    shapes(&with_signature(&sig), false),
                    Err(SamlError::AlgorithmNotAllowed(_))
                ),
                "{sig}"
            );
        }
        // SHA-1 when the IdP opted in.
        let sha1_sig = skeleton(
            EXC_C14N,
            rsa_sha1,
            &reference("#_r", &[ENVELOPED], sha1),
            "",
        );
        assert!(shapes(&with_signature(&sha1_sig), true).is_ok());
    }

    #[test]
    fn shapes_beyond_one_reference_are_refused() {
        let two = format!("{}{}", good_reference(), good_reference());
        let cases = [
            skeleton(EXC_C14N, RSA_SHA256, &two, ""),
            skeleton(EXC_C14N, RSA_SHA256, "", ""),
            skeleton(EXC_C14N, RSA_SHA256, &good_reference(), "<ds:Object/>"),
            skeleton(
                EXC_C14N,
                RSA_SHA256,
                &good_reference(),
                r##"<ds:KeyInfo><ds:RetrievalMethod URI="Cargo.toml"/></ds:KeyInfo>"##,
            ),
            skeleton(
                EXC_C14N,
                RSA_SHA256,
                &reference("#_r", &[ENVELOPED, ENVELOPED], SHA256),
                "",
            ),
            skeleton(
                EXC_C14N,
                RSA_SHA256,
                &reference("#_r", &[EXC_C14N, ENVELOPED], SHA256),
                "",
            ),
            skeleton(
                EXC_C14N,
                RSA_SHA256,
                &good_reference().replace(
                    "<ds:Transforms>",
                    r#"<ds:Transforms><x:Transform xmlns:x="urn:x" Algorithm="urn:x"/>"#,
                ),
                "",
            ),
            // A parameter under SignatureMethod (HMACOutputLength truncation).
            skeleton(EXC_C14N, RSA_SHA256, &good_reference(), "").replace(
                &format!(r#"<ds:SignatureMethod Algorithm="{RSA_SHA256}"/>"#),
                &format!(
                    r#"<ds:SignatureMethod Algorithm="{RSA_SHA256}"><ds:HMACOutputLength>8</ds:HMACOutputLength></ds:SignatureMethod>"#
                ),
            ),
            // Text where only elements belong.
            skeleton(EXC_C14N, RSA_SHA256, &good_reference(), "text"),
        ];
        for sig in cases {
            let xml = with_signature(&sig);
            assert!(
                matches!(shapes(&xml, false), Err(SamlError::UnsupportedSignature(_))),
                "{xml}: {:?}",
                shapes(&xml, false)
            );
        }
        // Two Algorithm attributes (one namespaced) would let Cognate and the engine read
        // different values.
        let doubled = skeleton(
            EXC_C14N,
            &format!(
                r#"{RSA_SHA256}" xmlns:x="urn:x" x:Algorithm="http://www.w3.org/2001/04/xmldsig-more#hmac-sha256"#
            ),
            &good_reference(),
            "",
        );
        assert!(matches!(
            shapes(&with_signature(&doubled), false),
            Err(SamlError::UnsupportedSignature(_))
        ));
    }

    #[test]
    fn more_than_two_signatures_are_refused() {
        let sig = skeleton(EXC_C14N, RSA_SHA256, &good_reference(), "");
        let xml = with_signature(&sig.repeat(3));
        assert_eq!(
            shapes(&xml, false).unwrap_err(),
            SamlError::TooManySignatures { max: 2 }
        );
    }

    #[test]
    fn ids_must_be_unique_and_single() {
        let doc = xml::parse(r#"<a ID="x"><b Id="y"/><c xml:id="z"/></a>"#).unwrap();
        assert!(check_unique_ids(&doc).is_ok());
        let doc = xml::parse(r#"<a ID="x"><b xmlns:q="urn:q" q:ID="x"/></a>"#).unwrap();
        assert_eq!(
            check_unique_ids(&doc).unwrap_err(),
            SamlError::DuplicateId("x".into())
        );
        let doc = xml::parse(r#"<a ID="x" Id="y"/>"#).unwrap();
        assert_eq!(check_unique_ids(&doc).unwrap_err(), SamlError::AmbiguousId);
    }

    #[test]
    fn no_certificates_or_a_bad_one_is_a_precise_error() {
        assert!(matches!(keys_manager(&[]), Err(SamlError::NoCertificates)));
        assert!(matches!(
            keys_manager(&[b"not a certificate".to_vec()]),
            Err(SamlError::BadCertificate)
        ));
    }
}
