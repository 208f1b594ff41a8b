//! Verifying a SAML 2.0 `Response` posted to the assertion consumer service (SAML profiles
//! §4.1.4, Web Browser SSO, HTTP-POST binding), the defence against XML signature wrapping.
//!
//! [`verify`] takes the base64 `SAMLResponse` form value and the stored flow's
//! [`Expectations`] and answers the [`VerifiedAssertion`] or a precise [`SamlError`]. It is
//! pure: no I/O, no store, `now` is an argument. The caller keeps the returned
//! `assertion_id` until `expires_at` and refuses a replay.
//!
//! The order of the checks, and why each is there:
//! 1. Size cap on the form value (Cognito's 100,000 characters), base64 (line wraps
//!    tolerated), UTF-8; one parse with no DTD, nesting at most [`MAX_DEPTH`], at most
//!    [`MAX_NODES`] nodes. Everything after reads that one document.
//! 2. The root is `samlp:Response`; an `EncryptedID` or `EncryptedAttribute` is refused
//!    by name; an ID value that appears twice anywhere is refused (the engine resolves
//!    references by ID). An `EncryptedAssertion` (a child of the root, the only one) is
//!    decrypted after the Response-level checks (shape and validity of its signatures,
//!    Status, Issuer, Destination, InResponseTo) with the SP's keys (see the `enc`
//!    submodule), put in its place (a Response signature, which covered the ciphertext,
//!    is taken out with it), and the resulting document goes through every step below
//!    again, from the parse. With AES-CBC (unauthenticated) and no Response signature
//!    over the ciphertext, any refusal after the decryption is the one decryption error
//!    (no oracle on a bit-flipped plaintext).
//! 3. Every `ds:Signature` must have Cognate's shape (see the `dsig` submodule): one `#ID`
//!    reference, enveloped + exclusive c14n only, allowlisted algorithms. Checked before the
//!    engine runs, so it never follows a URI out of the document.
//! 4. `Status` must be Success (an IdP's error answer is usually unsigned, so this comes
//!    before the signature requirement; it can only refuse).
//! 5. bergshamra verifies every signature with the metadata certificates only; each must
//!    be valid and pass the node rule: its reference is its parent, which carries that
//!    `ID` and is the `Response` root or an `Assertion` child of it.
//! 6. Exactly one `saml:Assertion` in the whole document, a child of the root; the
//!    Response or that Assertion must be signed. Every identity field is read from that
//!    Assertion (covered by either signature); `Destination`, `InResponseTo` and the
//!    Response `Issuer` are checked too, so unsigned Response fields can only refuse.
//! 7. The profile's checks: Issuer, Destination, InResponseTo (Response and
//!    SubjectConfirmationData), a bearer SubjectConfirmation for the ACS URL, Conditions
//!    times with skew, AudienceRestriction naming the SP.

mod dsig;
mod enc;
pub(super) mod xml;

use std::collections::BTreeMap;

use aws_lc_rs::rsa::PrivateDecryptingKey;
use bergshamra::xml::uppsala::{Document, NodeId, NodeKind};

use crate::core::UnixTime;
use xml::{at_most_one, attr, children_named, exactly_one, is, text_only, SAML, SAMLP};

pub use enc::{
    AES128_CBC, AES128_GCM, AES256_CBC, AES256_GCM, MAX_ENCRYPTED_KEYS, RSA_OAEP, RSA_OAEP_MGF1P,
};
pub use xml::{too_many_attributes, MAX_ATTRIBUTES, MAX_DEPTH, MAX_NODES};

/// Cognito's cap on the `SAMLResponse` form value (base64), in characters.
pub const MAX_SAML_RESPONSE_CHARS: usize = 100_000;
/// An unsolicited response's Response and Assertion `IssueInstant` and every
/// `AuthnInstant` must be within this many seconds before now (plus the skew): Cognito's
/// six minutes for IdP-initiated sign-in. No request bounds its lifetime, so this does.
pub const UNSOLICITED_MAX_AGE_SECS: i64 = 360;

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const NAMEID_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// What the stored flow expects of the response.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    /// The IdP's entity id: the Assertion's Issuer must equal it, and the Response's
    /// Issuer when present.
    pub idp_entity_id: &'a str,
    /// DER X.509 signing certificates from the IdP's metadata, never from a message.
    pub certificates: &'a [Vec<u8>],
    /// Accept RSA-SHA1 signatures and SHA-1 digests (an operator's per-IdP opt-in).
    pub allow_sha1: bool,
    /// The SP entity id: required among the Audiences of every AudienceRestriction.
    pub sp_entity_id: &'a str,
    /// The ACS URL: the Response's Destination (when present) and the bearer
    /// SubjectConfirmationData's Recipient (required) must equal it.
    pub acs_url: &'a str,
    /// The flow's AuthnRequest ID: Response/@InResponseTo (when present) and
    /// SubjectConfirmationData/@InResponseTo (required) must equal it. `None` for an
    /// unsolicited (IdP-initiated) response, which must then carry no InResponseTo
    /// anywhere and be fresh (see [`UNSOLICITED_MAX_AGE_SECS`]).
    pub in_response_to: Option<&'a str>,
    /// The current time, Unix seconds.
    pub now: UnixTime,
    /// Clock skew tolerated on NotBefore / NotOnOrAfter, in seconds (e.g. 120).
    pub skew_secs: i64,
    /// The SP's private keys an `EncryptedAssertion` may be encrypted to: the pool's
    /// active key and the retired ones still published (an IdP that has not refreshed
    /// the metadata yet encrypts to the previous certificate).
    pub decryption_keys: &'a [PrivateDecryptingKey],
    /// Accept AES-CBC content encryption (an operator's per-IdP opt-in; AES-GCM always).
    pub allow_aes_cbc: bool,
}

/// The subject's NameID (SAML core §2.2.3), as sent: a transient format is returned as
/// is, the caller decides whether it may identify a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameId {
    pub value: String,
    pub format: Option<String>,
}

/// A verified assertion: every field comes from the element a verified signature covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The Response's ID (covered by a signature only when the Response is signed; the
    /// replay cache keys on `assertion_id`).
    pub response_id: String,
    /// The Assertion's ID, for the replay cache.
    pub assertion_id: String,
    /// The Assertion's Issuer (equal to the expected IdP entity id).
    pub issuer: String,
    pub name_id: Option<NameId>,
    /// Attribute values by `Attribute/@Name` only (`FriendlyName` is informational and
    /// not indexed, so one attribute cannot pose as another). Values are the text of each
    /// `AttributeValue`; values with child elements (complex types) and `xsi:nil` values
    /// are skipped. Repeated attributes and statements are merged in document order.
    pub attributes: BTreeMap<String, Vec<String>>,
    /// `AuthnStatement/@SessionIndex` of the first AuthnStatement that has one.
    pub session_index: Option<String>,
    /// Keep the assertion id until then: the earlier of Conditions/@NotOnOrAfter and the
    /// bearer SubjectConfirmationData/@NotOnOrAfter.
    pub expires_at: UnixTime,
}

/// Why a response is refused. Values quoted from the message are clipped to 200
/// printable characters; nothing here is secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamlError {
    #[error("the SAMLResponse is longer than {max} characters")]
    TooLarge { max: usize },
    #[error("the SAMLResponse is not valid base64")]
    Base64,
    #[error("the SAML response is not UTF-8")]
    NotUtf8,
    #[error("the SAML response carries a DTD (DOCTYPE or ENTITY), which is not allowed")]
    Dtd,
    #[error("the SAML response nests elements deeper than {max} levels")]
    TooDeep { max: u32 },
    #[error("an element of the SAML response has more than {max} attributes")]
    TooManyAttributes { max: usize },
    #[error("an IdP-initiated response with an encrypted assertion is not supported yet")]
    UnsolicitedEncrypted,
    #[error("the SAML response has more than {max} nodes")]
    TooManyNodes { max: usize },
    #[error("the SAML response is not well-formed XML: {0}")]
    Malformed(String),
    #[error("the document is not a SAML 2.0 Response: {0}")]
    NotAResponse(String),
    /// Every cryptographic failure of a decryption, alike (no padding or format oracle).
    #[error("the encrypted assertion cannot be decrypted with this service provider's keys")]
    Decryption,
    #[error("encrypted assertion refused: {0}")]
    EncryptionRefused(String),
    #[error("encrypted {0} elements are not supported")]
    EncryptedElement(&'static str),
    #[error("the ID {0:?} appears more than once in the SAML response")]
    DuplicateId(String),
    #[error("an element of the SAML response carries more than one ID attribute")]
    AmbiguousId,
    #[error("the SAML response has more than {max} signatures")]
    TooManySignatures { max: usize },
    #[error("unsupported signature structure: {0}")]
    UnsupportedSignature(String),
    #[error("signature or digest algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    #[error("signature reference URI not allowed (only #ID): {0}")]
    ReferenceUri(String),
    #[error("the identity provider has no signing certificate")]
    NoCertificates,
    #[error("a signing certificate of the identity provider cannot be read")]
    BadCertificate,
    #[error("the SAML response is not signed")]
    Unsigned,
    #[error("the signature does not verify with the identity provider's certificates: {0}")]
    SignatureInvalid(String),
    #[error("signature wrapping refused: {0}")]
    SignatureWrapping(String),
    #[error("the Response must hold exactly one Assertion, as its child: {0}")]
    AssertionCount(String),
    #[error("neither the Response nor its Assertion is signed")]
    AssertionNotSigned,
    #[error("the identity provider answered {code}{}{}",
        sub_code.as_deref().map(|s| format!(" / {s}")).unwrap_or_default(),
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        code: String,
        sub_code: Option<String>,
        /// The IdP's StatusMessage: unverified text, escape it before display.
        message: Option<String>,
    },
    #[error("missing {0}")]
    Missing(&'static str),
    #[error("{0} appears more than once")]
    Repeated(&'static str),
    #[error("the {0} element contains a comment or child element (comment injection?)")]
    MixedContent(&'static str),
    #[error("unsupported SAML version {0:?}")]
    Version(String),
    #[error("{0} is not a valid xs:dateTime")]
    BadInstant(&'static str),
    #[error("Issuer {found:?} is not the identity provider of this flow")]
    Issuer { found: String },
    #[error("Issuer Format {0:?} is not the entity format")]
    IssuerFormat(String),
    #[error("Destination {found:?} is not this service provider's ACS URL")]
    Destination { found: String },
    #[error("InResponseTo {found:?} does not match this sign-in's request")]
    InResponseTo { found: String },
    #[error("an unsolicited (IdP-initiated) response carries InResponseTo {found:?}")]
    UnsolicitedInResponseTo { found: String },
    #[error("the {0} of an unsolicited response is older than six minutes")]
    Stale(&'static str),
    #[error("no AudienceRestriction names this service provider")]
    Audience,
    #[error("Recipient {found:?} is not this service provider's ACS URL")]
    Recipient { found: String },
    #[error("no bearer SubjectConfirmation")]
    NoBearerConfirmation,
    #[error("the {0} has expired")]
    Expired(&'static str),
    #[error("the {0} is not valid yet")]
    NotYetValid(&'static str),
    #[error("unsupported condition {0}")]
    UnsupportedCondition(String),
    #[error("the Subject uses an identifier Cognate does not read (BaseID)")]
    UnsupportedIdentifier,
}

/// Verify a posted `SAMLResponse` against the flow's expectations. See the module
/// documentation for the order of the checks.
pub fn verify(
    saml_response_b64: &str,
    expect: &Expectations<'_>,
) -> Result<VerifiedAssertion, SamlError> {
    let source = xml::decode(saml_response_b64, MAX_SAML_RESPONSE_CHARS)?;
    let doc = xml::parse(&source)?;
    let root = response_root(&doc)?;
    refuse_encrypted_parts(&doc)?;
    let Some(encrypted) = encrypted_assertion(&doc, root)? else {
        return verify_document(&doc, &source, root, expect, false);
    };
    if doc
        .descendants(root)
        .into_iter()
        .any(|n| is(&doc, n, SAML, "Assertion"))
    {
        return Err(SamlError::AssertionCount(
            "an Assertion beside an EncryptedAssertion".into(),
        ));
    }
    // The Response-level checks, on the message as posted.
    dsig::check_unique_ids(&doc)?;
    let shapes = dsig::check_all_shapes(&doc, expect.allow_sha1)?;
    check_status(&doc, root)?;
    let mut splices = Vec::new();
    let response_signed = !shapes.is_empty();
    if response_signed {
        // There is no Assertion yet: the node rule lets only the Response be signed.
        let covers = dsig::verify_signatures(&doc, &source, &shapes, expect.certificates)?;
        if !covers.iter().all(|c| matches!(c, dsig::Covers::Response)) {
            return Err(SamlError::SignatureWrapping(
                "a signature beside an encrypted assertion covers something else than the Response"
                    .into(),
            ));
        }
        for shape in &shapes {
            splices.push((range(&doc, shape.node)?, String::new()));
        }
    }
    check_response(&doc, root, expect, response_signed)?;
    let decrypted = enc::decrypt(
        &doc,
        encrypted,
        expect.decryption_keys,
        expect.allow_aes_cbc,
    )?;
    // Unauthenticated (AES-CBC) ciphertext the IdP did not sign in the Response may have
    // been bit-flipped: every refusal of what it decrypts to is the one decryption error.
    let oracle_safe = decrypted.authenticated || response_signed;
    splices.push((range(&doc, encrypted)?, decrypted.plaintext));
    splices.sort_by_key(|(r, _)| std::cmp::Reverse(r.start));
    let mut decrypted = source.clone();
    let mut limit = decrypted.len();
    for (r, text) in splices {
        // The parser's byte ranges, checked anyway: no overlap, on character boundaries.
        if r.start > r.end
            || r.end > limit
            || !decrypted.is_char_boundary(r.start)
            || !decrypted.is_char_boundary(r.end)
        {
            return Err(SamlError::Malformed("overlapping elements".into()));
        }
        limit = r.start;
        decrypted.replace_range(r, &text);
    }
    let result = verify_decrypted(&decrypted, expect, response_signed);
    if oracle_safe {
        result
    } else {
        result.map_err(|_| SamlError::Decryption)
    }
}

/// The document with its assertion decrypted, through every check again. A plaintext
/// that does not make a document fails like any decryption.
fn verify_decrypted(
    decrypted: &str,
    expect: &Expectations<'_>,
    response_signed: bool,
) -> Result<VerifiedAssertion, SamlError> {
    let doc = xml::parse(decrypted).map_err(|_| SamlError::Decryption)?;
    let root = response_root(&doc).map_err(|_| SamlError::Decryption)?;
    refuse_encrypted_parts(&doc)?;
    if encrypted_assertion(&doc, root)?.is_some() {
        return Err(SamlError::EncryptionRefused(
            "an encrypted assertion inside an encrypted assertion".into(),
        ));
    }
    verify_document(&doc, decrypted, root, expect, response_signed)
}

/// Where an element is in the source text.
fn range(doc: &Document<'_>, node: NodeId) -> Result<std::ops::Range<usize>, SamlError> {
    doc.node_range(node)
        .ok_or_else(|| SamlError::Malformed("an element without a position".into()))
}

/// Every check from step 2 on, over a document with its assertion in clear.
/// `response_signed`: the Response's signature was verified over the encrypted form (and
/// taken out of this document).
fn verify_document(
    doc: &Document<'_>,
    source: &str,
    root: NodeId,
    expect: &Expectations<'_>,
    response_signed: bool,
) -> Result<VerifiedAssertion, SamlError> {
    dsig::check_unique_ids(doc)?;
    let shapes = dsig::check_all_shapes(doc, expect.allow_sha1)?;
    check_status(doc, root)?;
    if shapes.is_empty() && !response_signed {
        return Err(SamlError::Unsigned);
    }
    let covers = if shapes.is_empty() {
        Vec::new()
    } else {
        dsig::verify_signatures(doc, source, &shapes, expect.certificates)?
    };
    let assertion = the_assertion(doc, root)?;
    let signed = response_signed
        || covers.iter().any(|c| match c {
            dsig::Covers::Response => true,
            dsig::Covers::Assertion(a) => *a == assertion,
        });
    if !signed {
        return Err(SamlError::AssertionNotSigned);
    }
    let response_signed =
        response_signed || covers.iter().any(|c| matches!(c, dsig::Covers::Response));
    let response_id = check_response(doc, root, expect, response_signed)?;
    let mut verified = read_assertion(doc, assertion, expect)?;
    verified.response_id = response_id;
    Ok(verified)
}

/// The Issuer of an unsolicited response's one Assertion, read only to choose which IdP's
/// certificates [`verify`] checks it with (nothing is trusted before that): the same size
/// cap and parser limits as [`verify`], the root a `samlp:Response` holding exactly one
/// Assertion, as its child, whose Issuer is text.
pub fn unverified_issuer(saml_response_b64: &str) -> Result<String, SamlError> {
    let source = xml::decode(saml_response_b64, MAX_SAML_RESPONSE_CHARS)?;
    let doc = xml::parse(&source)?;
    let root = response_root(&doc)?;
    refuse_encrypted_parts(&doc)?;
    if encrypted_assertion(&doc, root)?.is_some() {
        return Err(SamlError::UnsolicitedEncrypted);
    }
    let assertion = the_assertion(&doc, root)?;
    let issuer = exactly_one(&doc, assertion, SAML, "Issuer")?;
    Ok(text_only(&doc, issuer, "Issuer")?.trim().to_owned())
}

/// Whether a posted value may hold an `EncryptedAssertion` (its decoded text names one):
/// the caller opens its decryption keys (an unseal and an RSA key parse each) only then. A
/// value that does not decode holds none, and [`verify`] refuses it anyway.
pub fn may_be_encrypted(saml_response_b64: &str) -> bool {
    xml::decode(saml_response_b64, MAX_SAML_RESPONSE_CHARS)
        .is_ok_and(|text| text.contains("EncryptedAssertion"))
}

/// The raw cryptographic check, for differential tests against other XML-DSig verifiers
/// (`xmlsec1 --verify`): `xml` (not base64) has at least one `ds:Signature` and every one
/// verifies with one of `certificates` (DER). Parser limits and the reference URI check
/// apply (the engine never resolves anything outside the document); no node rule, no
/// algorithm allowlist, no SAML check. Never use it to accept a response: a wrapped
/// response is crypto-valid.
pub fn crypto_valid(xml: &str, certificates: &[Vec<u8>]) -> bool {
    let Ok(doc) = xml::parse(xml) else {
        return false;
    };
    dsig::crypto_valid(&doc, xml, certificates)
}

fn response_root(doc: &Document<'_>) -> Result<NodeId, SamlError> {
    let root = doc
        .document_element()
        .ok_or_else(|| SamlError::NotAResponse("no document element".into()))?;
    if !is(doc, root, SAMLP, "Response") {
        let name = doc
            .element(root)
            .map(|e| {
                format!(
                    "{{{}}}{}",
                    e.name.namespace_uri.as_deref().unwrap_or(""),
                    e.name.local_name
                )
            })
            .unwrap_or_default();
        return Err(SamlError::NotAResponse(xml::clip(&name)));
    }
    Ok(root)
}

fn refuse_encrypted_parts(doc: &Document<'_>) -> Result<(), SamlError> {
    for n in doc.descendants(doc.root()) {
        for what in ["EncryptedID", "EncryptedAttribute"] {
            if is(doc, n, SAML, what) {
                return Err(SamlError::EncryptedElement(what));
            }
        }
    }
    Ok(())
}

/// The one `saml:EncryptedAssertion`, a child of the root, if there is one.
fn encrypted_assertion(doc: &Document<'_>, root: NodeId) -> Result<Option<NodeId>, SamlError> {
    let all: Vec<NodeId> = doc
        .descendants(root)
        .into_iter()
        .filter(|&n| is(doc, n, SAML, "EncryptedAssertion"))
        .collect();
    match all.as_slice() {
        [] => Ok(None),
        [one] if doc.parent(*one) == Some(root) => Ok(Some(*one)),
        [_] => Err(SamlError::AssertionCount(
            "the EncryptedAssertion is not a child of the Response".into(),
        )),
        more => Err(SamlError::AssertionCount(format!(
            "there are {} encrypted assertions",
            more.len()
        ))),
    }
}

fn check_version(doc: &Document<'_>, id: NodeId) -> Result<(), SamlError> {
    match attr(doc, id, "Version") {
        Some("2.0") => Ok(()),
        Some(other) => Err(SamlError::Version(xml::clip(other))),
        None => Err(SamlError::Missing("Version")),
    }
}

/// Status (SAML core §3.2.2.1-2): Success, or the IdP's code, second-level code and
/// message as a [`SamlError::Status`].
fn check_status(doc: &Document<'_>, root: NodeId) -> Result<(), SamlError> {
    let status = exactly_one(doc, root, SAMLP, "Status")?;
    let code = exactly_one(doc, status, SAMLP, "StatusCode")?;
    let value = attr(doc, code, "Value").ok_or(SamlError::Missing("StatusCode Value"))?;
    if value == STATUS_SUCCESS {
        return Ok(());
    }
    let sub_code = at_most_one(doc, code, SAMLP, "StatusCode")?
        .and_then(|s| attr(doc, s, "Value"))
        .map(xml::clip);
    let message = match at_most_one(doc, status, SAMLP, "StatusMessage")? {
        Some(m) => Some(xml::clip(text_only(doc, m, "StatusMessage")?.trim())),
        None => None,
    };
    Err(SamlError::Status {
        code: xml::clip(value),
        sub_code,
        message,
    })
}

/// The one `saml:Assertion` of the document: a child of the root, and no other anywhere
/// (not in Extensions, Advice, a signature, or a nested Response).
fn the_assertion(doc: &Document<'_>, root: NodeId) -> Result<NodeId, SamlError> {
    let all: Vec<NodeId> = doc
        .descendants(root)
        .into_iter()
        .filter(|&n| is(doc, n, SAML, "Assertion"))
        .collect();
    match all.as_slice() {
        [] => Err(SamlError::AssertionCount("there is none".into())),
        [one] if doc.parent(*one) == Some(root) => Ok(*one),
        [_] => Err(SamlError::AssertionCount(
            "the Assertion is not a child of the Response".into(),
        )),
        more => Err(SamlError::AssertionCount(format!(
            "there are {}",
            more.len()
        ))),
    }
}

/// The issuer text of an `Issuer` element, checked against the expected entity id.
fn check_issuer(doc: &Document<'_>, issuer: NodeId, expect: &str) -> Result<String, SamlError> {
    if let Some(format) = attr(doc, issuer, "Format") {
        if format != NAMEID_ENTITY {
            return Err(SamlError::IssuerFormat(xml::clip(format)));
        }
    }
    let text = text_only(doc, issuer, "Issuer")?;
    let text = text.trim();
    if text != expect {
        return Err(SamlError::Issuer {
            found: xml::clip(text),
        });
    }
    Ok(text.to_owned())
}

/// Response-level checks (SAML profiles §4.1.4.3): Version, ID, Issuer when present,
/// Destination when present, InResponseTo when present. Answers the Response ID.
fn check_response(
    doc: &Document<'_>,
    root: NodeId,
    expect: &Expectations<'_>,
    signed: bool,
) -> Result<String, SamlError> {
    check_version(doc, root)?;
    let id = attr(doc, root, "ID").ok_or(SamlError::Missing("Response ID"))?;
    if let Some(issuer) = at_most_one(doc, root, SAML, "Issuer")? {
        check_issuer(doc, issuer, expect.idp_entity_id)?;
    }
    match attr(doc, root, "Destination") {
        Some(destination) if destination != expect.acs_url => {
            return Err(SamlError::Destination {
                found: xml::clip(destination),
            })
        }
        Some(_) => {}
        // SAML Bindings 2.0 section 3.5.5.2: a signed message sent by the POST binding
        // carries its Destination.
        None if signed => return Err(SamlError::Missing("Destination of a signed Response")),
        None => {}
    }
    if let Some(irt) = attr(doc, root, "InResponseTo") {
        match expect.in_response_to {
            Some(expected) if irt == expected => {}
            Some(_) => {
                return Err(SamlError::InResponseTo {
                    found: xml::clip(irt),
                })
            }
            None => {
                return Err(SamlError::UnsolicitedInResponseTo {
                    found: xml::clip(irt),
                })
            }
        }
    }
    if expect.in_response_to.is_none() {
        let issued = instant(doc, root, "IssueInstant", "Response IssueInstant")?
            .ok_or(SamlError::Missing("Response IssueInstant"))?;
        check_fresh(expect, issued, "Response IssueInstant")?;
    }
    Ok(id.to_owned())
}

fn instant(
    doc: &Document<'_>,
    id: NodeId,
    name: &'static str,
    what: &'static str,
) -> Result<Option<UnixTime>, SamlError> {
    match attr(doc, id, name) {
        None => Ok(None),
        Some(v) => xml::parse_instant(v)
            .map(Some)
            .ok_or(SamlError::BadInstant(what)),
    }
}

/// An unsolicited response's instant: not in the future (beyond the skew) and at most
/// [`UNSOLICITED_MAX_AGE_SECS`] (plus the skew) old.
fn check_fresh(
    expect: &Expectations<'_>,
    at: UnixTime,
    what: &'static str,
) -> Result<(), SamlError> {
    let skew = expect.skew_secs;
    if at > expect.now.saturating_add(skew) {
        return Err(SamlError::NotYetValid(what));
    }
    if at
        < expect
            .now
            .saturating_sub(UNSOLICITED_MAX_AGE_SECS.saturating_add(skew))
    {
        return Err(SamlError::Stale(what));
    }
    Ok(())
}

/// The validity window [not_before, not_on_or_after) with the skew on both ends.
fn check_window(
    now: UnixTime,
    skew: i64,
    not_before: Option<UnixTime>,
    not_on_or_after: Option<UnixTime>,
    what: &'static str,
) -> Result<(), SamlError> {
    if let Some(nb) = not_before {
        if now.saturating_add(skew) < nb {
            return Err(SamlError::NotYetValid(what));
        }
    }
    if let Some(noa) = not_on_or_after {
        if now.saturating_sub(skew) >= noa {
            return Err(SamlError::Expired(what));
        }
    }
    Ok(())
}

/// Everything read from the one Assertion, which a verified signature covers.
fn read_assertion(
    doc: &Document<'_>,
    assertion: NodeId,
    expect: &Expectations<'_>,
) -> Result<VerifiedAssertion, SamlError> {
    check_version(doc, assertion)?;
    let assertion_id = attr(doc, assertion, "ID")
        .ok_or(SamlError::Missing("Assertion ID"))?
        .to_owned();
    let issuer = check_issuer(
        doc,
        exactly_one(doc, assertion, SAML, "Issuer")?,
        expect.idp_entity_id,
    )?;

    let subject = exactly_one(doc, assertion, SAML, "Subject")?;
    if at_most_one(doc, subject, SAML, "BaseID")?.is_some() {
        return Err(SamlError::UnsupportedIdentifier);
    }
    let name_id = match at_most_one(doc, subject, SAML, "NameID")? {
        None => None,
        Some(n) => {
            let value = text_only(doc, n, "NameID")?;
            if value.trim().is_empty() {
                return Err(SamlError::Missing("NameID value"));
            }
            Some(NameId {
                value,
                format: attr(doc, n, "Format").map(str::to_owned),
            })
        }
    };
    let confirmed_until = bearer_confirmation(doc, subject, expect)?;

    let conditions = exactly_one(doc, assertion, SAML, "Conditions")?;
    let conditions_until = check_conditions(doc, conditions, expect)?;

    let authn = children_named(doc, assertion, SAML, "AuthnStatement");
    if authn.is_empty() {
        return Err(SamlError::Missing("AuthnStatement"));
    }
    let session_index = authn
        .iter()
        .find_map(|&s| attr(doc, s, "SessionIndex"))
        .map(str::to_owned);

    if expect.in_response_to.is_none() {
        let issued = instant(doc, assertion, "IssueInstant", "Assertion IssueInstant")?
            .ok_or(SamlError::Missing("Assertion IssueInstant"))?;
        check_fresh(expect, issued, "Assertion IssueInstant")?;
        for &statement in &authn {
            let at = instant(doc, statement, "AuthnInstant", "AuthnInstant")?
                .ok_or(SamlError::Missing("AuthnInstant"))?;
            check_fresh(expect, at, "AuthnInstant")?;
        }
        // SAML profiles §4.1.5: an unsolicited response answers no request; an
        // InResponseTo on any confirmation (bearer or not) says it is some request's
        // answer replayed here.
        for sc in children_named(doc, subject, SAML, "SubjectConfirmation") {
            for data in children_named(doc, sc, SAML, "SubjectConfirmationData") {
                if let Some(irt) = attr(doc, data, "InResponseTo") {
                    return Err(SamlError::UnsolicitedInResponseTo {
                        found: xml::clip(irt),
                    });
                }
            }
        }
    }
    let attributes = read_attributes(doc, assertion)?;
    let expires_at = match conditions_until {
        Some(c) => c.min(confirmed_until),
        None => confirmed_until,
    };
    Ok(VerifiedAssertion {
        response_id: String::new(),
        assertion_id,
        issuer,
        name_id,
        attributes,
        session_index,
        expires_at,
    })
}

/// A bearer SubjectConfirmation (SAML profiles §4.1.4.2) whose SubjectConfirmationData
/// names the ACS URL as Recipient, answers the flow's request, and is within its window.
/// Answers its NotOnOrAfter (required). With several bearer confirmations, one passing is
/// enough; when none passes, the first one's reason is the error.
fn bearer_confirmation(
    doc: &Document<'_>,
    subject: NodeId,
    expect: &Expectations<'_>,
) -> Result<UnixTime, SamlError> {
    let mut first_error = None;
    for sc in children_named(doc, subject, SAML, "SubjectConfirmation") {
        if attr(doc, sc, "Method") != Some(CM_BEARER) {
            continue;
        }
        match check_bearer(doc, sc, expect) {
            Ok(until) => return Ok(until),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(SamlError::NoBearerConfirmation))
}

fn check_bearer(
    doc: &Document<'_>,
    sc: NodeId,
    expect: &Expectations<'_>,
) -> Result<UnixTime, SamlError> {
    const WHAT: &str = "SubjectConfirmationData";
    let data = exactly_one(doc, sc, SAML, WHAT)?;
    let recipient = attr(doc, data, "Recipient").ok_or(SamlError::Missing("Recipient"))?;
    if recipient != expect.acs_url {
        return Err(SamlError::Recipient {
            found: xml::clip(recipient),
        });
    }
    match (attr(doc, data, "InResponseTo"), expect.in_response_to) {
        (Some(irt), Some(expected)) if irt == expected => {}
        (Some(irt), Some(_)) => {
            return Err(SamlError::InResponseTo {
                found: xml::clip(irt),
            })
        }
        (None, Some(_)) => return Err(SamlError::Missing("SubjectConfirmationData InResponseTo")),
        (Some(irt), None) => {
            return Err(SamlError::UnsolicitedInResponseTo {
                found: xml::clip(irt),
            })
        }
        (None, None) => {}
    }
    let not_on_or_after = instant(doc, data, "NotOnOrAfter", WHAT)?
        .ok_or(SamlError::Missing("SubjectConfirmationData NotOnOrAfter"))?;
    let not_before = instant(doc, data, "NotBefore", WHAT)?;
    check_window(
        expect.now,
        expect.skew_secs,
        not_before,
        Some(not_on_or_after),
        WHAT,
    )?;
    Ok(not_on_or_after)
}

/// Conditions (SAML core §2.5): the time window, and every AudienceRestriction (at least
/// one required) must list the SP. OneTimeUse (the caller's replay cache honours it) and
/// ProxyRestriction are understood; any other condition makes the assertion
/// Indeterminate (§2.5.1.1), so it is refused. Answers NotOnOrAfter.
fn check_conditions(
    doc: &Document<'_>,
    conditions: NodeId,
    expect: &Expectations<'_>,
) -> Result<Option<UnixTime>, SamlError> {
    const WHAT: &str = "Conditions";
    let not_before = instant(doc, conditions, "NotBefore", WHAT)?;
    let not_on_or_after = instant(doc, conditions, "NotOnOrAfter", WHAT)?;
    check_window(
        expect.now,
        expect.skew_secs,
        not_before,
        not_on_or_after,
        WHAT,
    )?;
    let mut restrictions = 0;
    for c in xml::child_elements(doc, conditions) {
        if is(doc, c, SAML, "AudienceRestriction") {
            restrictions += 1;
            let mut listed = false;
            for a in children_named(doc, c, SAML, "Audience") {
                if text_only(doc, a, "Audience")?.trim() == expect.sp_entity_id {
                    listed = true;
                }
            }
            if !listed {
                return Err(SamlError::Audience);
            }
        } else if is(doc, c, SAML, "OneTimeUse") || is(doc, c, SAML, "ProxyRestriction") {
        } else {
            let name = doc
                .element(c)
                .map(|e| e.name.local_name.to_string())
                .unwrap_or_default();
            return Err(SamlError::UnsupportedCondition(xml::clip(&name)));
        }
    }
    if restrictions == 0 {
        return Err(SamlError::Missing("AudienceRestriction"));
    }
    Ok(not_on_or_after)
}

fn read_attributes(
    doc: &Document<'_>,
    assertion: NodeId,
) -> Result<BTreeMap<String, Vec<String>>, SamlError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for statement in children_named(doc, assertion, SAML, "AttributeStatement") {
        for attribute in children_named(doc, statement, SAML, "Attribute") {
            let name = attr(doc, attribute, "Name").ok_or(SamlError::Missing("Attribute Name"))?;
            let values = out.entry(name.to_owned()).or_default();
            for value in children_named(doc, attribute, SAML, "AttributeValue") {
                let nil = doc
                    .element(value)
                    .and_then(|e| e.get_attribute_ns(XSI, "nil"))
                    .is_some_and(|v| v == "true" || v == "1");
                let complex = doc
                    .children(value)
                    .iter()
                    .any(|&c| matches!(doc.node_kind(c), Some(NodeKind::Element(_))));
                if nil || complex {
                    continue;
                }
                values.push(text_only(doc, value, "AttributeValue")?);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expect() -> Expectations<'static> {
        Expectations {
            idp_entity_id: "https://idp.example.test/",
            certificates: &[],
            allow_sha1: false,
            sp_entity_id: "urn:sp",
            acs_url: "https://sp.example.test/acs",
            in_response_to: Some("_req"),
            now: 1_000_000,
            skew_secs: 120,
            decryption_keys: &[],
            allow_aes_cbc: false,
        }
    }

    /// Parse `inner` inside an element in the assertion namespace and run `f` on it.
    fn with_element<T>(inner: &str, f: impl FnOnce(&Document<'_>, NodeId) -> T) -> T {
        let text = format!(
            r#"<saml:X xmlns:saml="{SAML}" xmlns:samlp="{SAMLP}" xmlns:xsi="{XSI}">{inner}</saml:X>"#
        );
        let doc = xml::parse(&text).unwrap();
        let root = doc.document_element().unwrap();
        f(&doc, root)
    }

    #[test]
    fn windows_apply_the_skew_on_both_ends() {
        let w = |nb, noa| check_window(1000, 120, nb, noa, "Conditions");
        assert!(w(Some(1120), Some(881)).is_ok());
        assert_eq!(
            w(Some(1121), None),
            Err(SamlError::NotYetValid("Conditions"))
        );
        assert_eq!(w(None, Some(880)), Err(SamlError::Expired("Conditions")));
        assert!(w(None, None).is_ok());
        // No overflow at the edges of time.
        assert!(check_window(i64::MAX, i64::MAX, Some(0), Some(i64::MAX), "x").is_ok());
        assert!(check_window(i64::MIN, 120, Some(0), None, "x").is_err());
    }

    #[test]
    fn conditions_need_an_audience_restriction_naming_the_sp() {
        let run = |inner: &str| with_element(inner, |d, n| check_conditions(d, n, &expect()));
        let ok = "<saml:AudienceRestriction><saml:Audience>urn:other</saml:Audience><saml:Audience> urn:sp </saml:Audience></saml:AudienceRestriction><saml:OneTimeUse/>";
        assert_eq!(run(ok), Ok(None));
        assert_eq!(run(""), Err(SamlError::Missing("AudienceRestriction")));
        // Every restriction must be satisfied (SAML core §2.5.1.4).
        let two = "<saml:AudienceRestriction><saml:Audience>urn:sp</saml:Audience></saml:AudienceRestriction><saml:AudienceRestriction><saml:Audience>urn:other</saml:Audience></saml:AudienceRestriction>";
        assert_eq!(run(two), Err(SamlError::Audience));
        let unknown = "<saml:AudienceRestriction><saml:Audience>urn:sp</saml:Audience></saml:AudienceRestriction><saml:Condition/>";
        assert_eq!(
            run(unknown),
            Err(SamlError::UnsupportedCondition("Condition".into()))
        );
        // An Audience in another namespace does not count.
        let lookalike = r#"<saml:AudienceRestriction><e:Audience xmlns:e="urn:e">urn:sp</e:Audience></saml:AudienceRestriction>"#;
        assert_eq!(run(lookalike), Err(SamlError::Audience));
    }

    #[test]
    fn attributes_are_indexed_by_name_only() {
        let inner = r#"<saml:AttributeStatement>
            <saml:Attribute Name="urn:oid:0.9.2342.19200300.100.1.3" FriendlyName="mail"><saml:AttributeValue>a@example.com</saml:AttributeValue></saml:Attribute>
            <saml:Attribute Name="groups"><saml:AttributeValue>x</saml:AttributeValue><saml:AttributeValue xsi:nil="true"/><saml:AttributeValue><saml:NameID>complex</saml:NameID></saml:AttributeValue></saml:Attribute>
        </saml:AttributeStatement><saml:AttributeStatement><saml:Attribute Name="groups"><saml:AttributeValue>y</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"#;
        let attributes = with_element(inner, read_attributes).unwrap();
        assert_eq!(
            attributes.get("urn:oid:0.9.2342.19200300.100.1.3"),
            Some(&vec!["a@example.com".to_owned()])
        );
        assert_eq!(attributes.get("mail"), None);
        assert_eq!(
            attributes.get("groups"),
            Some(&vec!["x".to_owned(), "y".to_owned()])
        );
        let commented = r#"<saml:AttributeStatement><saml:Attribute Name="email"><saml:AttributeValue>admin@example.com<!---->.evil.com</saml:AttributeValue></saml:Attribute></saml:AttributeStatement>"#;
        assert_eq!(
            with_element(commented, read_attributes),
            Err(SamlError::MixedContent("AttributeValue"))
        );
    }

    #[test]
    fn status_errors_carry_code_sub_code_and_message() {
        let inner = r#"<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Responder"><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"/></samlp:StatusCode><samlp:StatusMessage> no </samlp:StatusMessage></samlp:Status>"#;
        let e = with_element(inner, check_status).unwrap_err();
        assert_eq!(
            e,
            SamlError::Status {
                code: "urn:oasis:names:tc:SAML:2.0:status:Responder".into(),
                sub_code: Some("urn:oasis:names:tc:SAML:2.0:status:AuthnFailed".into()),
                message: Some("no".into()),
            }
        );
        assert_eq!(
            e.to_string(),
            "the identity provider answered urn:oasis:names:tc:SAML:2.0:status:Responder / urn:oasis:names:tc:SAML:2.0:status:AuthnFailed: no"
        );
        assert_eq!(
            with_element("", check_status),
            Err(SamlError::Missing("Status"))
        );
    }

    #[test]
    fn bearer_confirmation_needs_recipient_request_and_expiry() {
        let sc = |data: &str| {
            format!(
                r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData {data}/></saml:SubjectConfirmation>"#
            )
        };
        let run = |inner: &str| with_element(inner, |d, n| bearer_confirmation(d, n, &expect()));
        let good = r#"Recipient="https://sp.example.test/acs" InResponseTo="_req" NotOnOrAfter="1970-01-12T13:48:20Z""#;
        assert_eq!(run(&sc(good)), Ok(1_000_100));
        assert_eq!(
            run(&sc(
                r#"Recipient="https://sp.example.test/acs" InResponseTo="_req""#
            )),
            Err(SamlError::Missing("SubjectConfirmationData NotOnOrAfter"))
        );
        assert_eq!(run(""), Err(SamlError::NoBearerConfirmation));
        // A holder-of-key confirmation is not a bearer one; a good bearer one after a bad
        // one is enough.
        let hok =
            r#"<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:holder-of-key"/>"#;
        assert_eq!(run(hok), Err(SamlError::NoBearerConfirmation));
        let bad = sc(
            r#"Recipient="https://evil/" InResponseTo="_req" NotOnOrAfter="1970-01-12T13:48:20Z""#,
        );
        assert_eq!(run(&format!("{bad}{}", sc(good))), Ok(1_000_100));
        assert_eq!(
            run(&bad),
            Err(SamlError::Recipient {
                found: "https://evil/".into()
            })
        );
        assert_eq!(
            run(&sc(
                r#"Recipient="https://sp.example.test/acs" InResponseTo="_req" NotOnOrAfter="soon""#
            )),
            Err(SamlError::BadInstant("SubjectConfirmationData"))
        );
    }

    #[test]
    fn non_responses_and_garbage_are_precise_errors_not_panics() {
        let b64 = |s: &str| {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(s)
        };
        let run = |xml: &str| verify(&b64(xml), &expect());
        assert!(matches!(run("<a/>"), Err(SamlError::NotAResponse(_))));
        assert!(matches!(
            run(r#"<Response xmlns="urn:oasis:names:tc:SAML:1.0:protocol"/>"#),
            Err(SamlError::NotAResponse(_))
        ));
        assert!(matches!(run("<a"), Err(SamlError::Malformed(_))));
        assert!(matches!(run(""), Err(SamlError::Base64)));
        assert!(matches!(run("\u{0}\u{1}"), Err(SamlError::Malformed(_))));
    }
}
