//! The SP metadata a pool gives its SAML IdPs (SAML 2.0 Metadata, section 2.4.4
//! `SPSSODescriptor`): its entity id, the assertion consumer service (HTTP-POST binding,
//! SAML 2.0 Bindings section 3.5) and the certificates of its signing keys
//! ([`crate::core::sp_keys`]), one `KeyDescriptor use="signing"` each, so that during a
//! rotation an IdP trusts both the new key and the one it replaces, and the same
//! certificates again as `KeyDescriptor use="encryption"` with the algorithms an IdP may
//! encrypt assertions with ([`ENCRYPTION_METHODS`]): the active key's first, so an IdP
//! that takes the first encrypts to it, while one still holding the previous certificate
//! is decrypted during the grace period.
//!
//! The document is rendered from `templates/saml/sp_metadata.xml` (embedded in the binary)
//! with every printed value XML-escaped by the environment's formatter, whatever the
//! template does: an operator's entity id or public URL cannot add markup.

use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use minijinja::{context, Environment, Error, Output, State, Value};

use super::response;

/// The embedded template's name.
const TEMPLATE: &str = "saml/sp_metadata.xml";

/// `Content-Type` of a SAML metadata document (SAML 2.0 Metadata, section 4.1.1).
pub const METADATA_CONTENT_TYPE: &str = "application/samlmetadata+xml";

/// The NameID formats the SP accepts (SAML 2.0 Core, section 8.3): `persistent`,
/// `emailAddress` and `unspecified` (a `transient` NameID would make a new user at every
/// sign-in; it is accepted only with a configured user-id attribute, so not advertised).
pub const NAME_ID_FORMATS: [&str; 3] = [
    "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
    "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
];

/// The `EncryptionMethod`s advertised on each encryption key (SAML 2.0 Metadata, section
/// 2.4.1.1), preferred first: AES-GCM content encryption and RSA-OAEP key transport.
/// AES-CBC is not advertised: it is accepted only from an IdP configured with
/// `allow_aes_cbc`.
pub const ENCRYPTION_METHODS: [&str; 4] = [
    response::AES256_GCM,
    response::AES128_GCM,
    response::RSA_OAEP_MGF1P,
    response::RSA_OAEP,
];

/// Why the metadata could not be rendered (only a broken embedded template, which the
/// unit tests would catch).
#[derive(Debug, thiserror::Error)]
#[error("rendering the SAML SP metadata: {0}")]
pub struct MetadataError(#[from] Error);

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_formatter(xml_formatter);
    // A broken embedded template surfaces as an error at render time (and in the tests).
    let _ = env.add_template(
        TEMPLATE,
        include_str!("../../../templates/saml/sp_metadata.xml"),
    );
    env
});

/// Prints every `{{ value }}` XML-escaped.
fn xml_formatter(out: &mut Output, _state: &mut State, value: &Value) -> Result<(), Error> {
    let text = match value.as_str() {
        Some(s) => xml_escape(s),
        None => xml_escape(&value.to_string()),
    };
    out.write_str(&text).map_err(Error::from)
}

/// Escapes text for an XML 1.0 attribute value or element content: the five markup
/// characters as entities, tab, line feed and carriage return as character references (so
/// attribute-value normalization, XML 1.0 section 3.3.3, keeps them), and characters XML
/// 1.0 does not allow at all (section 2.2: other C0 controls, U+FFFE, U+FFFF) replaced by
/// U+FFFD.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The SP's `md:EntityDescriptor`: `entity_id`, an `SPSSODescriptor` that signs its
/// AuthnRequests and wants signed assertions, one signing `KeyDescriptor` per certificate
/// (DER, in the order given: the active key's first) then one encryption `KeyDescriptor`
/// per certificate in the same order, the HTTP-Redirect `SingleLogoutService` at
/// `slo_url`, the accepted NameID formats and one HTTP-POST `AssertionConsumerService` at
/// `acs_url` (index 0, the default).
pub fn sp_metadata(
    entity_id: &str,
    acs_url: &str,
    slo_url: &str,
    certificates: &[Vec<u8>],
) -> Result<String, MetadataError> {
    let certificates: Vec<String> = certificates.iter().map(|c| STANDARD.encode(c)).collect();
    let template = ENV.get_template(TEMPLATE)?;
    let encryption_methods = ENCRYPTION_METHODS;
    Ok(template
        .render(context! { entity_id, acs_url, slo_url, certificates, encryption_methods })?)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
    const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

    fn child<'a, 'i>(
        node: roxmltree::Node<'a, 'i>,
        ns: &str,
        name: &str,
    ) -> Vec<roxmltree::Node<'a, 'i>> {
        node.children()
            .filter(|n| n.is_element() && n.tag_name().namespace() == Some(ns))
            .filter(|n| n.tag_name().name() == name)
            .collect()
    }

    #[test]
    fn metadata_has_the_sp_descriptor_and_every_certificate() {
        let certs = vec![vec![0x30, 0x01, 0xff], vec![0x30, 0x02, 0xaa]];
        let xml = sp_metadata(
            "urn:amazon:cognito:sp:us-east-1_Abc",
            "https://auth.example.com/saml2/idpresponse",
            "https://auth.example.com/saml2/logout",
            &certs,
        )
        .unwrap();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        assert_eq!(root.tag_name().namespace(), Some(MD));
        assert_eq!(root.tag_name().name(), "EntityDescriptor");
        assert_eq!(
            root.attribute("entityID"),
            Some("urn:amazon:cognito:sp:us-east-1_Abc")
        );
        let sp = child(root, MD, "SPSSODescriptor");
        assert_eq!(sp.len(), 1);
        let sp = sp[0];
        assert_eq!(sp.attribute("AuthnRequestsSigned"), Some("true"));
        assert_eq!(sp.attribute("WantAssertionsSigned"), Some("true"));
        assert_eq!(
            sp.attribute("protocolSupportEnumeration"),
            Some("urn:oasis:names:tc:SAML:2.0:protocol")
        );
        let keys = child(sp, MD, "KeyDescriptor");
        assert_eq!(keys.len(), 4);
        let uses: Vec<_> = keys.iter().map(|k| k.attribute("use")).collect();
        let (signing, encryption) = (Some("signing"), Some("encryption"));
        assert_eq!(uses, [signing, signing, encryption, encryption]);
        for k in &keys[2..] {
            let methods: Vec<&str> = child(*k, MD, "EncryptionMethod")
                .iter()
                .map(|m| m.attribute("Algorithm").unwrap())
                .collect();
            assert_eq!(methods, ENCRYPTION_METHODS);
        }
        let found: Vec<String> = keys
            .iter()
            .map(|k| {
                let cert = k
                    .descendants()
                    .find(|n| n.has_tag_name((DS, "X509Certificate")))
                    .unwrap();
                cert.text().unwrap().to_string()
            })
            .collect();
        let (first, second) = (STANDARD.encode(&certs[0]), STANDARD.encode(&certs[1]));
        assert_eq!(found, [first.clone(), second.clone(), first, second]);
        let formats: Vec<&str> = child(sp, MD, "NameIDFormat")
            .iter()
            .map(|n| n.text().unwrap())
            .collect();
        assert_eq!(formats, NAME_ID_FORMATS);
        let acs = child(sp, MD, "AssertionConsumerService");
        assert_eq!(acs.len(), 1);
        assert_eq!(
            acs[0].attribute("Binding"),
            Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
        );
        assert_eq!(
            acs[0].attribute("Location"),
            Some("https://auth.example.com/saml2/idpresponse")
        );
        assert_eq!(acs[0].attribute("index"), Some("0"));
        assert_eq!(acs[0].attribute("isDefault"), Some("true"));
        let slo = child(sp, MD, "SingleLogoutService");
        assert_eq!(slo.len(), 1);
        assert_eq!(
            slo[0].attribute("Binding"),
            Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect")
        );
        assert_eq!(
            slo[0].attribute("Location"),
            Some("https://auth.example.com/saml2/logout")
        );
        // Schema order (SSODescriptorType, then SPSSODescriptorType): keys, single
        // logout, formats, ACS.
        let order: Vec<&str> = sp
            .children()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        assert_eq!(
            order,
            [
                "KeyDescriptor",
                "KeyDescriptor",
                "KeyDescriptor",
                "KeyDescriptor",
                "SingleLogoutService",
                "NameIDFormat",
                "NameIDFormat",
                "NameIDFormat",
                "AssertionConsumerService"
            ]
        );
    }

    #[test]
    fn hostile_values_are_escaped_and_the_document_still_parses() {
        let entity_id = "https://x.example/\"<&'>\"/><md:Injected a=\"";
        let acs = "https://x.example/acs?a=1&b=\"2\"<x>\t\r\n\u{1}";
        let xml = sp_metadata(entity_id, acs, acs, &[]).unwrap();
        assert!(xml.contains("&quot;&lt;&amp;&apos;&gt;&quot;"), "{xml}");
        assert!(!xml.contains("<md:Injected"), "{xml}");
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let root = doc.root_element();
        // The values come back exactly as given (but the one character XML cannot hold).
        assert_eq!(root.attribute("entityID"), Some(entity_id));
        let location = root
            .descendants()
            .find(|n| n.has_tag_name((MD, "AssertionConsumerService")))
            .and_then(|n| n.attribute("Location"));
        assert_eq!(
            location,
            Some("https://x.example/acs?a=1&b=\"2\"<x>\t\r\n\u{FFFD}")
        );
        assert_eq!(
            root.descendants()
                .filter(|n| n.has_tag_name((MD, "KeyDescriptor")))
                .count(),
            0
        );
        // Nothing but the template's own elements.
        let names: Vec<&str> = root
            .descendants()
            .filter(|n| n.is_element())
            .map(|n| n.tag_name().name())
            .collect();
        assert!(!names.contains(&"Injected"), "{names:?}");
    }

    #[test]
    fn escape_covers_markup_and_forbidden_characters() {
        assert_eq!(xml_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&apos;");
        assert_eq!(xml_escape("\u{0}\u{FFFE}é"), "\u{FFFD}\u{FFFD}é");
        assert_eq!(xml_escape("plain"), "plain");
    }
}
