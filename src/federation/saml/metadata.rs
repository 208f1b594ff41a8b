//! An identity provider's SAML 2.0 metadata (SAML Metadata 2.0, OASIS saml-metadata-2.0-os):
//! what Cognate needs to send users to it and to check what it answers.
//!
//! [`parse`] reads one `md:EntityDescriptor` (or an `md:EntitiesDescriptor` holding
//! exactly one IdP, as Shibboleth and federations publish): its `entityID`, the
//! `IDPSSODescriptor`'s `SingleSignOnService` endpoints by binding (HTTP-Redirect and
//! HTTP-POST; others are ignored), `WantAuthnRequestsSigned`, the signing certificates
//! (`KeyDescriptor` with `use="signing"` or no `use`) and the HTTP-Redirect
//! `SingleLogoutService`.
//!
//! Elements are matched by namespace URI and local name, never by local name alone (a
//! `<foo:SingleSignOnService>` in another namespace is not an endpoint). The parser is
//! bergshamra's (uppsala) with DTDs forbidden (no entity expansion, no external
//! entities), a depth limit, and a size limit checked before parsing. Each certificate
//! is parsed as X.509 (`x509-cert`) and its key must be RSA of 2048 to 8192 bits
//! (aws-lc-rs decodes the key and enforces that range); metadata certificates are key
//! carriers, so their validity dates and issuers are not checked (SAML V2.0 Metadata
//! Interoperability Profile, section 2.5.1).
//!
//! The metadata document's own signature, if any, is not verified: the operator gives
//! the file, and trusts it as they trust the configuration file; metadata from a URL
//! ([`super::remote`]) is trusted by its https origin, which the operator names.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bergshamra::xml::uppsala::{self, Document, NodeId, NodeKind};
use x509_cert::der::{Decode, Encode};
use x509_cert::Certificate;

use crate::core::model::{SamlBinding, SamlSettings};

/// The metadata namespace (SAML Metadata 2.0 section 2.1).
pub const MD_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
/// The XML Signature namespace, where `KeyInfo` lives.
pub const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The SAML 2.0 protocol, as `protocolSupportEnumeration` names it.
pub const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// The largest metadata document accepted, in bytes. A single IdP's metadata is a few
/// kilobytes (Entra ID's, with its WS-Federation roles, about 25 KB).
pub const MAX_METADATA_BYTES: usize = 1024 * 1024;
/// The deepest element nesting accepted (an IdP's metadata nests about 8 deep; a
/// federation's `EntitiesDescriptor`s add a few).
pub const MAX_DEPTH: u32 = 32;

/// Most `=` signs between two `<` (so most attributes on one element) accepted, as for
/// responses ([`crate::federation::saml::response::MAX_ATTRIBUTES`]). The parser's
/// duplicate-attribute check scans the element's earlier attributes for each one, so one
/// element with 100,000 attributes (under the 1 MiB limit) would cost some 5·10⁹ name
/// comparisons. Metadata elements carry a handful.
pub const MAX_ATTRIBUTES: usize = 64;

/// rsaEncryption (RFC 8017 appendix C; RFC 3279 section 2.3.1).
const RSA_ENCRYPTION_OID: &str = "1.2.840.113549.1.1.1";

/// What Cognate keeps of an IdP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    /// `EntityDescriptor/@entityID`, exactly as written.
    pub entity_id: String,
    /// The first `SingleSignOnService` with the HTTP-Redirect binding.
    pub sso_redirect_url: Option<String>,
    /// The first `SingleSignOnService` with the HTTP-POST binding.
    pub sso_post_url: Option<String>,
    /// The first `SingleLogoutService` with the HTTP-Redirect binding.
    pub slo_redirect_url: Option<String>,
    /// `IDPSSODescriptor/@WantAuthnRequestsSigned` (default false).
    pub want_authn_requests_signed: bool,
    /// The signing certificates, standard base64 of their DER (whitespace removed),
    /// each once, in document order.
    pub signing_certificates: Vec<String>,
}

impl IdpMetadata {
    /// The bindings the IdP takes AuthnRequests by.
    pub fn bindings(&self) -> Vec<SamlBinding> {
        [SamlBinding::Redirect, SamlBinding::Post]
            .into_iter()
            .filter(|b| self.sso_url(*b).is_some())
            .collect()
    }

    /// The SSO endpoint of a binding, if the IdP offers it.
    pub fn sso_url(&self, binding: SamlBinding) -> Option<&str> {
        match binding {
            SamlBinding::Redirect => self.sso_redirect_url.as_deref(),
            SamlBinding::Post => self.sso_post_url.as_deref(),
        }
    }

    /// The binding requests go by when the operator names none: HTTP-Redirect when the IdP
    /// offers it (the common one, and signable without XML signatures), else HTTP-POST.
    pub fn default_binding(&self) -> SamlBinding {
        if self.sso_redirect_url.is_some() {
            SamlBinding::Redirect
        } else {
            SamlBinding::Post
        }
    }

    /// The provider settings this metadata gives, with the defaults for the operator's
    /// choices: the default binding, requests signed when the IdP wants them, the NameID
    /// as the user id, no SHA-1, no group mapping.
    pub fn to_settings(&self) -> SamlSettings {
        SamlSettings {
            entity_id: self.entity_id.clone(),
            sso_redirect_url: self.sso_redirect_url.clone(),
            sso_post_url: self.sso_post_url.clone(),
            slo_redirect_url: self.slo_redirect_url.clone(),
            signing_certificates: self.signing_certificates.clone(),
            request_binding: self.default_binding(),
            sign_requests: self.want_authn_requests_signed,
            ..SamlSettings::default()
        }
    }
}

impl IdpMetadata {
    /// What a stored provider's settings keep of its metadata (a copy fetched earlier from
    /// its `metadata_url`). `WantAuthnRequestsSigned` is not kept apart from the operator's
    /// choice, so the stored `sign_requests` stands for it.
    pub fn from_settings(saml: &SamlSettings) -> IdpMetadata {
        IdpMetadata {
            entity_id: saml.entity_id.clone(),
            sso_redirect_url: saml.sso_redirect_url.clone(),
            sso_post_url: saml.sso_post_url.clone(),
            slo_redirect_url: saml.slo_redirect_url.clone(),
            want_authn_requests_signed: saml.sign_requests,
            signing_certificates: saml.signing_certificates.clone(),
        }
    }

    /// Whether a stored provider's settings hold this metadata's values (entity id,
    /// endpoints, certificates).
    pub fn same_as(&self, saml: &SamlSettings) -> bool {
        self.entity_id == saml.entity_id
            && self.sso_redirect_url == saml.sso_redirect_url
            && self.sso_post_url == saml.sso_post_url
            && self.slo_redirect_url == saml.slo_redirect_url
            && self.signing_certificates == saml.signing_certificates
    }

    /// A stored provider's settings with this metadata's values in place of the old
    /// copy's; the operator's choices are kept (requests are signed from now on if the
    /// IdP now wants them).
    pub fn update(&self, saml: &SamlSettings) -> SamlSettings {
        SamlSettings {
            entity_id: self.entity_id.clone(),
            sso_redirect_url: self.sso_redirect_url.clone(),
            sso_post_url: self.sso_post_url.clone(),
            slo_redirect_url: self.slo_redirect_url.clone(),
            signing_certificates: self.signing_certificates.clone(),
            sign_requests: saml.sign_requests || self.want_authn_requests_signed,
            ..saml.clone()
        }
    }
}

/// A signing certificate, described for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// SHA-256 of the DER, upper-case hex pairs joined by `:` (as `openssl x509
    /// -fingerprint -sha256` prints it).
    pub sha256: String,
    pub subject: String,
    /// `notAfter`, seconds since the epoch.
    pub not_after: i64,
}

/// Describes a certificate kept as standard base64 of its DER; `None` if it does not
/// decode (the record's rule refuses such a one).
pub fn certificate_summary(b64: &str) -> Option<CertificateSummary> {
    let der = STANDARD.decode(b64.as_bytes()).ok()?;
    let cert = Certificate::from_der(&der).ok()?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &der);
    let sha256 = digest
        .as_ref()
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":");
    let not_after = cert
        .tbs_certificate
        .validity
        .not_after
        .to_unix_duration()
        .as_secs();
    Some(CertificateSummary {
        sha256,
        subject: cert.tbs_certificate.subject.to_string(),
        not_after: i64::try_from(not_after).unwrap_or(i64::MAX),
    })
}

/// Why metadata was refused. Each names what is missing or wrong, for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    #[error("the metadata is {size} bytes; at most {MAX_METADATA_BYTES} are accepted")]
    TooLarge { size: usize },
    #[error(
        "the metadata has a DOCTYPE declaration, which SAML metadata never needs and which \
         is refused (entity expansion)"
    )]
    Doctype,
    #[error("an element of the metadata has more than {MAX_ATTRIBUTES} attributes")]
    TooManyAttributes,
    #[error("the metadata is not well-formed XML: {0}")]
    Xml(String),
    #[error(
        "the document is not SAML 2.0 metadata: its root element is {0}, not \
         md:EntityDescriptor or md:EntitiesDescriptor (namespace {MD_NS})"
    )]
    NotMetadata(String),
    #[error(
        "the metadata describes no SAML 2.0 identity provider (no EntityDescriptor has an \
         IDPSSODescriptor supporting {SAML2_PROTOCOL})"
    )]
    NoIdentityProvider,
    #[error(
        "the metadata describes {} identity providers ({}); give the metadata of one",
        .0.len(),
        .0.join(", ")
    )]
    SeveralIdentityProviders(Vec<String>),
    #[error("the metadata has no entity id (EntityDescriptor's entityID attribute)")]
    NoEntityId,
    #[error(
        "the metadata has no SSO endpoint with a binding Cognate supports (a \
         SingleSignOnService with Binding HTTP-Redirect or HTTP-POST){}",
        found_bindings(.0)
    )]
    NoSsoEndpoint(Vec<String>),
    #[error("{0}")]
    BadEndpoint(String),
    #[error(
        "the metadata has no signing certificate (a KeyDescriptor use=\"signing\", or \
         without use, holding ds:KeyInfo/ds:X509Data/ds:X509Certificate){}",
        if *.0 { "; it has only encryption keys" } else { "" }
    )]
    NoSigningCertificate(bool),
    #[error("signing certificate {index} (line {line}) cannot be used: {reason}")]
    BadCertificate {
        /// 1-based, among the signing certificates.
        index: usize,
        line: usize,
        reason: String,
    },
    #[error("WantAuthnRequestsSigned is {0:?}; xs:boolean is true, false, 1 or 0")]
    BadBoolean(String),
}

fn found_bindings(bindings: &[String]) -> String {
    if bindings.is_empty() {
        String::new()
    } else {
        format!("; it offers only {}", bindings.join(", "))
    }
}

/// Reads an IdP's metadata. See the module documentation for what is checked.
pub fn parse(xml: &str) -> Result<IdpMetadata, MetadataError> {
    if xml.len() > MAX_METADATA_BYTES {
        return Err(MetadataError::TooLarge { size: xml.len() });
    }
    // Files saved on Windows (ADFS's FederationMetadata.xml) often start with a UTF-8 byte
    // order mark.
    let xml = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    if crate::federation::saml::response::too_many_attributes(xml) {
        return Err(MetadataError::TooManyAttributes);
    }
    let doc = uppsala::Parser::new()
        .with_forbid_dtd(true)
        .with_max_depth(MAX_DEPTH)
        .parse(xml)
        .map_err(|e| {
            let reason = e.to_string();
            if reason.contains("DOCTYPE") || reason.contains("DTD") {
                MetadataError::Doctype
            } else {
                MetadataError::Xml(reason)
            }
        })?;
    let root = doc
        .document_element()
        .ok_or_else(|| MetadataError::Xml("no root element".into()))?;
    let idp = match element_name(&doc, root) {
        Some((Some(MD_NS), "EntityDescriptor")) => {
            if idp_descriptor(&doc, root).is_none() {
                return Err(MetadataError::NoIdentityProvider);
            }
            root
        }
        Some((Some(MD_NS), "EntitiesDescriptor")) => {
            let mut idps = Vec::new();
            collect_idps(&doc, root, &mut idps);
            match idps.as_slice() {
                [] => return Err(MetadataError::NoIdentityProvider),
                [one] => *one,
                several => {
                    return Err(MetadataError::SeveralIdentityProviders(
                        several
                            .iter()
                            .map(|e| format!("{:?}", attr(&doc, *e, "entityID").unwrap_or("")))
                            .collect(),
                    ))
                }
            }
        }
        Some((ns, local)) => {
            return Err(MetadataError::NotMetadata(match ns {
                Some(ns) => format!("{{{ns}}}{local}"),
                None => local.to_string(),
            }))
        }
        None => return Err(MetadataError::Xml("no root element".into())),
    };
    read_entity(&doc, idp)
}

/// The entity's IdP role and what Cognate keeps of it.
fn read_entity(doc: &Document<'_>, entity: NodeId) -> Result<IdpMetadata, MetadataError> {
    let entity_id = attr(doc, entity, "entityID").unwrap_or("");
    if entity_id.trim().is_empty() {
        return Err(MetadataError::NoEntityId);
    }
    let role = idp_descriptor(doc, entity).ok_or(MetadataError::NoIdentityProvider)?;
    let want_authn_requests_signed = match attr(doc, role, "WantAuthnRequestsSigned") {
        None => false,
        Some(v) => match v.trim() {
            "true" | "1" => true,
            "false" | "0" => false,
            other => return Err(MetadataError::BadBoolean(other.to_string())),
        },
    };

    let mut sso_redirect_url = None;
    let mut sso_post_url = None;
    let mut other_bindings = Vec::new();
    for service in md_children(doc, role, "SingleSignOnService") {
        let binding = attr(doc, service, "Binding").unwrap_or("");
        let slot = match binding {
            b if b == SamlBinding::Redirect.urn() => &mut sso_redirect_url,
            b if b == SamlBinding::Post.urn() => &mut sso_post_url,
            other => {
                other_bindings.push(format!("{other:?}"));
                continue;
            }
        };
        if slot.is_none() {
            *slot = Some(location(doc, service, "SingleSignOnService", binding)?);
        }
    }
    if sso_redirect_url.is_none() && sso_post_url.is_none() {
        return Err(MetadataError::NoSsoEndpoint(other_bindings));
    }

    let mut slo_redirect_url = None;
    for service in md_children(doc, role, "SingleLogoutService") {
        let binding = attr(doc, service, "Binding").unwrap_or("");
        if binding == SamlBinding::Redirect.urn() {
            slo_redirect_url = Some(location(doc, service, "SingleLogoutService", binding)?);
            break;
        }
    }

    let mut signing_certificates: Vec<String> = Vec::new();
    let mut encryption_only = false;
    for key in md_children(doc, role, "KeyDescriptor") {
        match attr(doc, key, "use").map(str::trim) {
            None | Some("signing") => {}
            Some(_) => {
                encryption_only = true;
                continue;
            }
        }
        for cert in certificates(doc, key) {
            let index = signing_certificates.len() + 1;
            let line = doc.node_line(cert);
            let der = read_certificate(&doc.text_content_deep(cert)).map_err(|reason| {
                MetadataError::BadCertificate {
                    index,
                    line,
                    reason,
                }
            })?;
            let b64 = STANDARD.encode(der);
            if !signing_certificates.contains(&b64) {
                signing_certificates.push(b64);
            }
        }
    }
    if signing_certificates.is_empty() {
        return Err(MetadataError::NoSigningCertificate(encryption_only));
    }

    Ok(IdpMetadata {
        entity_id: entity_id.to_string(),
        sso_redirect_url,
        sso_post_url,
        slo_redirect_url,
        want_authn_requests_signed,
        signing_certificates,
    })
}

/// An endpoint's `Location`: present and not blank (whether it is a usable URL is the
/// provider record's rule, checked by the core).
fn location(
    doc: &Document<'_>,
    service: NodeId,
    what: &str,
    binding: &str,
) -> Result<String, MetadataError> {
    match attr(doc, service, "Location").map(str::trim) {
        Some(url) if !url.is_empty() => Ok(url.to_string()),
        _ => Err(MetadataError::BadEndpoint(format!(
            "the {what} with Binding {binding} (line {}) has no Location",
            doc.node_line(service)
        ))),
    }
}

/// The `ds:X509Certificate` elements of a `KeyDescriptor` (`ds:KeyInfo/ds:X509Data/`;
/// an `X509Data` may hold several).
fn certificates(doc: &Document<'_>, key: NodeId) -> Vec<NodeId> {
    let mut out = Vec::new();
    for info in children_named(doc, key, DS_NS, "KeyInfo") {
        for data in children_named(doc, info, DS_NS, "X509Data") {
            out.extend(children_named(doc, data, DS_NS, "X509Certificate"));
        }
    }
    out
}

/// Decodes a certificate's base64 (whitespace anywhere tolerated, as metadata wraps it),
/// parses it as X.509 and checks its key: RSA, 2048 to 8192 bits. Returns the DER.
fn read_certificate(text: &str) -> Result<Vec<u8>, String> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err("the X509Certificate element is empty".into());
    }
    let der = STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| format!("it is not base64 ({e})"))?;
    let cert = Certificate::from_der(&der)
        .map_err(|e| format!("it is not a DER X.509 certificate ({e})"))?;
    let spki = &cert.tbs_certificate.subject_public_key_info;
    let oid = spki.algorithm.oid.to_string();
    if oid != RSA_ENCRYPTION_OID {
        return Err(format!(
            "its key is not RSA (algorithm {oid}); Cognate verifies RSA signatures \
             (RSA-SHA256 and stronger)"
        ));
    }
    let spki_der = spki
        .to_der()
        .map_err(|e| format!("its public key cannot be encoded ({e})"))?;
    let key = aws_lc_rs::rsa::PublicEncryptingKey::from_der(&spki_der).map_err(|e| {
        format!("its RSA key is unusable ({e}); the key must have 2048 to 8192 bits")
    })?;
    let bits = key.key_size_bits();
    if !(2048..=8192).contains(&bits) {
        return Err(format!(
            "its RSA key has {bits} bits; the key must have 2048 to 8192 bits"
        ));
    }
    Ok(der)
}

/// The `EntityDescriptor`s with an IdP role under an `EntitiesDescriptor` (nested ones
/// included), in document order.
fn collect_idps(doc: &Document<'_>, entities: NodeId, out: &mut Vec<NodeId>) {
    for child in doc.children(entities) {
        match element_name(doc, child) {
            Some((Some(MD_NS), "EntityDescriptor")) if idp_descriptor(doc, child).is_some() => {
                out.push(child)
            }
            Some((Some(MD_NS), "EntitiesDescriptor")) => collect_idps(doc, child, out),
            _ => {}
        }
    }
}

/// The entity's first `IDPSSODescriptor` that supports SAML 2.0 (a Shibboleth IdP may
/// list SAML 1.1 too, in the same or another descriptor).
fn idp_descriptor(doc: &Document<'_>, entity: NodeId) -> Option<NodeId> {
    md_children(doc, entity, "IDPSSODescriptor")
        .into_iter()
        .find(|role| {
            attr(doc, *role, "protocolSupportEnumeration")
                .is_some_and(|p| p.split_ascii_whitespace().any(|p| p == SAML2_PROTOCOL))
        })
}

fn md_children(doc: &Document<'_>, parent: NodeId, local: &str) -> Vec<NodeId> {
    children_named(doc, parent, MD_NS, local)
}

/// The child elements of `parent` in namespace `ns` with local name `local`.
fn children_named(doc: &Document<'_>, parent: NodeId, ns: &str, local: &str) -> Vec<NodeId> {
    doc.children(parent)
        .into_iter()
        .filter(|c| element_name(doc, *c) == Some((Some(ns), local)))
        .collect()
}

/// An element's namespace URI and local name; `None` for other nodes.
fn element_name<'d>(doc: &'d Document<'_>, id: NodeId) -> Option<(Option<&'d str>, &'d str)> {
    match doc.node_kind(id) {
        Some(NodeKind::Element(e)) => {
            Some((e.name.namespace_uri.as_deref(), e.name.local_name.as_ref()))
        }
        _ => None,
    }
}

/// An unqualified attribute (metadata's attributes are in no namespace; a prefixed
/// `foo:entityID` is another attribute).
fn attr<'d>(doc: &'d Document<'_>, id: NodeId, name: &str) -> Option<&'d str> {
    doc.element(id)?
        .attributes
        .iter()
        .find(|a| a.name.namespace_uri.is_none() && a.name.local_name == name)
        .map(|a| a.value.as_ref())
}

impl fmt::Display for IdpMetadata {
    /// A one-line summary for the CLI: entity id, bindings, certificates.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bindings: Vec<&str> = self
            .bindings()
            .into_iter()
            .map(|b| match b {
                SamlBinding::Redirect => "HTTP-Redirect",
                SamlBinding::Post => "HTTP-POST",
            })
            .collect();
        write!(
            f,
            "entity id {}, SSO by {}, {} signing certificate(s)",
            self.entity_id,
            bindings.join(" and "),
            self.signing_certificates.len()
        )
    }
}

#[cfg(test)]
mod tests;
