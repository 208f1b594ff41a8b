//! Decrypting an `EncryptedAssertion` (SAML core §2.3.4, XML Encryption 1.1) with the
//! SP's own RSA keys.
//!
//! What is accepted, and nothing else:
//! - key transport RSA-OAEP (`xmlenc#rsa-oaep-mgf1p` or `xmlenc11#rsa-oaep`) with the
//!   same SHA-1/256/384/512 for the digest and MGF1, no OAEP label; RSA-1_5 (the
//!   Bleichenbacher padding oracle) is refused by name;
//! - content AES-128-GCM or AES-256-GCM, and AES-128/256-CBC only where the IdP is
//!   configured with `allow_aes_cbc` (CBC is unauthenticated: a padding oracle);
//! - the ciphertext inline (`CipherValue`): a `CipherReference` is refused and a
//!   `RetrievalMethod` is never followed (the `EncryptedKey` is read from the
//!   `EncryptedData`'s `KeyInfo` or from the `EncryptedAssertion` itself, where SAML
//!   puts it);
//! - `Type` absent or `#Element`.
//!
//! The shape and algorithm rules can refuse with a precise error (nothing secret is
//! decided there). Everything after is one [`SamlError::Decryption`]: unreadable base64,
//! a wrong key, a bad OAEP padding, a session key of the wrong length, a bad GCM tag, a
//! truncated ciphertext, a plaintext that is not UTF-8. The work does not stop early
//! either: every `EncryptedKey` is tried with every key, and a failed key transport goes on
//! with a random session key (as TLS does against Bleichenbacher), so the failures take
//! the same path. The cryptography is aws-lc-rs (RSA-OAEP) and bergshamra's XML-Enc
//! ciphers over aws-lc-rs (AES); nothing is hand-rolled.

use aws_lc_rs::rsa::{
    OaepAlgorithm, OaepPrivateDecryptingKey, PrivateDecryptingKey, OAEP_SHA1_MGF1SHA1,
    OAEP_SHA256_MGF1SHA256, OAEP_SHA384_MGF1SHA384, OAEP_SHA512_MGF1SHA512,
};
use base64::Engine;
use bergshamra::xml::uppsala::{Document, NodeId};

use super::xml::{self, attr, child_elements, is, text_only, DS};
use super::SamlError;

/// XML Encryption 1.0 (xmlenc-core §1.3).
pub(super) const XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
/// XML Encryption 1.1 (xmlenc-core1 §1.3).
const XENC11: &str = "http://www.w3.org/2009/xmlenc11#";

const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";

pub const AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
pub const AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
pub const AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
pub const AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
pub const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
pub const RSA_OAEP: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";

const SHA1: &str = "http://www.w3.org/2000/09/xmldsig#sha1";
const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA384: &str = "http://www.w3.org/2001/04/xmldsig-more#sha384";
const SHA512: &str = "http://www.w3.org/2001/04/xmlenc#sha512";

/// Most `EncryptedKey` elements read (an IdP may encrypt the session key to several
/// recipients); bounds the RSA work a message can ask for.
pub const MAX_ENCRYPTED_KEYS: usize = 4;

fn refused(why: impl Into<String>) -> SamlError {
    SamlError::EncryptionRefused(xml::clip(&why.into()))
}

/// One `EncryptedKey` made usable: its OAEP parameters and its ciphertext (`None` when
/// its base64 does not decode: it then fails like a wrong key, later).
struct WrappedKey {
    algorithm: &'static OaepAlgorithm,
    ciphertext: Option<Vec<u8>>,
}

/// The checked `EncryptedData`.
struct Encrypted {
    content_algorithm: &'static str,
    key_len: usize,
    ciphertext: Option<Vec<u8>>,
    keys: Vec<WrappedKey>,
}

/// A decrypted assertion.
pub(super) struct Decrypted {
    /// The assertion's XML, to be put in the place of the `EncryptedAssertion` and
    /// verified like any assertion.
    pub plaintext: String,
    /// Whether the content encryption is authenticated (AES-GCM). An AES-CBC plaintext
    /// may be an attacker's bit-flipped variant of a real one: whatever the verifier says
    /// about it must not tell more than "refused" (the Jager-Somorovsky attack on XML
    /// Encryption reads the plaintext from such answers).
    pub authenticated: bool,
}

/// Decrypts the `EncryptedAssertion` at `node`.
pub(super) fn decrypt(
    doc: &Document<'_>,
    node: NodeId,
    keys: &[PrivateDecryptingKey],
    allow_aes_cbc: bool,
) -> Result<Decrypted, SamlError> {
    let encrypted = read(doc, node, allow_aes_cbc)?;
    // Every EncryptedKey with every SP key, none skipped once one works.
    let mut session: Option<Vec<u8>> = None;
    for wrapped in &encrypted.keys {
        for key in keys {
            let unwrapped = unwrap_key(key, wrapped);
            if let Some(k) = unwrapped.filter(|k| k.len() == encrypted.key_len) {
                session.get_or_insert(k);
            }
        }
    }
    let mut failed = session.is_none() || encrypted.ciphertext.is_none();
    let session = session.unwrap_or_else(|| random_key(encrypted.key_len));
    let ciphertext = encrypted.ciphertext.unwrap_or_else(|| vec![0u8; 64]);
    let plaintext = bergshamra::crypto::cipher::from_uri(encrypted.content_algorithm)
        .and_then(|cipher| cipher.decrypt(&session, &ciphertext));
    let plaintext = match plaintext {
        Ok(p) if !failed => p,
        _ => {
            failed = true;
            Vec::new()
        }
    };
    if failed {
        return Err(SamlError::Decryption);
    }
    let text = String::from_utf8(plaintext).map_err(|_| SamlError::Decryption)?;
    Ok(Decrypted {
        plaintext: strip_declaration(&text).to_owned(),
        authenticated: encrypted.content_algorithm.ends_with("-gcm"),
    })
}

/// The plaintext without a leading XML declaration (it is spliced into a document).
fn strip_declaration(text: &str) -> &str {
    let trimmed = text.trim_start_matches('\u{FEFF}').trim_start();
    match trimmed.strip_prefix("<?xml") {
        Some(rest) => match rest.find("?>") {
            Some(end) => &rest[end + 2..],
            None => text,
        },
        None => text,
    }
}

fn random_key(len: usize) -> Vec<u8> {
    let mut key = vec![0u8; len];
    // A failure of the system RNG leaves zeros: the decryption still fails (the session
    // was already unusable), on the same path.
    let _ = aws_lc_rs::rand::fill(&mut key);
    key
}

fn unwrap_key(key: &PrivateDecryptingKey, wrapped: &WrappedKey) -> Option<Vec<u8>> {
    let oaep = OaepPrivateDecryptingKey::new(key.clone()).ok()?;
    let dummy;
    let ciphertext = match &wrapped.ciphertext {
        Some(c) => c.as_slice(),
        None => {
            dummy = vec![0u8; oaep.key_size_bytes()];
            dummy.as_slice()
        }
    };
    let mut out = vec![0u8; oaep.min_output_size()];
    let result = oaep
        .decrypt(wrapped.algorithm, ciphertext, &mut out, None)
        .ok()
        .map(|p| p.to_vec());
    result.filter(|_| wrapped.ciphertext.is_some())
}

/// Base64 of a `CipherValue` (line wraps tolerated); `None` when it does not decode.
fn cipher_value(doc: &Document<'_>, cipher_data: NodeId) -> Result<Option<Vec<u8>>, SamlError> {
    let mut value = None;
    for c in child_elements(doc, cipher_data) {
        if is(doc, c, XENC, "CipherReference") {
            return Err(refused("a CipherReference is not followed"));
        } else if is(doc, c, XENC, "CipherValue") && value.is_none() {
            value = Some(c);
        } else {
            return Err(refused("CipherData holds one CipherValue"));
        }
    }
    let value = value.ok_or_else(|| refused("no CipherValue"))?;
    let text = text_only(doc, value, "CipherValue")?;
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    Ok(base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok())
}

fn one_child(doc: &Document<'_>, parent: NodeId, ns: &str, local: &str) -> Option<NodeId> {
    let found: Vec<NodeId> = child_elements(doc, parent)
        .into_iter()
        .filter(|&c| is(doc, c, ns, local))
        .collect();
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

fn algorithm_of(doc: &Document<'_>, parent: NodeId, what: &str) -> Result<String, SamlError> {
    let method = one_child(doc, parent, XENC, "EncryptionMethod")
        .ok_or_else(|| refused(format!("{what} needs one EncryptionMethod")))?;
    attr(doc, method, "Algorithm")
        .map(str::to_owned)
        .ok_or_else(|| refused(format!("{what} EncryptionMethod has no Algorithm")))
}

fn read(doc: &Document<'_>, node: NodeId, allow_aes_cbc: bool) -> Result<Encrypted, SamlError> {
    let mut data = None;
    let mut wrapped_nodes = Vec::new();
    for c in child_elements(doc, node) {
        if is(doc, c, XENC, "EncryptedData") && data.is_none() {
            data = Some(c);
        } else if is(doc, c, XENC, "EncryptedKey") {
            wrapped_nodes.push(c);
        } else {
            return Err(refused(
                "an EncryptedAssertion holds one EncryptedData and EncryptedKey elements",
            ));
        }
    }
    let data = data.ok_or_else(|| refused("no EncryptedData"))?;
    match attr(doc, data, "Type") {
        None | Some(TYPE_ELEMENT) => {}
        Some(other) => return Err(refused(format!("EncryptedData Type {other}"))),
    }
    let content_algorithm = algorithm_of(doc, data, "EncryptedData")?;
    let (content_algorithm, key_len) = match content_algorithm.as_str() {
        AES128_GCM => (AES128_GCM, 16),
        AES256_GCM => (AES256_GCM, 32),
        AES128_CBC | AES256_CBC if !allow_aes_cbc => {
            return Err(refused(
                "AES-CBC content encryption needs allow_aes_cbc for this identity provider",
            ))
        }
        AES128_CBC => (AES128_CBC, 16),
        AES256_CBC => (AES256_CBC, 32),
        other => return Err(refused(format!("content encryption algorithm {other}"))),
    };
    let mut ciphertext = None;
    let mut cipher_data_seen = false;
    for c in child_elements(doc, data) {
        if is(doc, c, XENC, "EncryptionMethod") || is(doc, c, XENC, "EncryptionProperties") {
        } else if is(doc, c, DS, "KeyInfo") {
            for k in child_elements(doc, c) {
                if is(doc, k, XENC, "EncryptedKey") {
                    wrapped_nodes.push(k);
                }
                // KeyName, RetrievalMethod, ...: never followed.
            }
        } else if is(doc, c, XENC, "CipherData") && !cipher_data_seen {
            cipher_data_seen = true;
            ciphertext = cipher_value(doc, c)?;
        } else {
            return Err(refused("unexpected element in EncryptedData"));
        }
    }
    if !cipher_data_seen {
        return Err(refused("EncryptedData has no CipherData"));
    }
    if wrapped_nodes.is_empty() {
        return Err(refused("no EncryptedKey (the session key must be sent)"));
    }
    if wrapped_nodes.len() > MAX_ENCRYPTED_KEYS {
        return Err(refused(format!(
            "more than {MAX_ENCRYPTED_KEYS} EncryptedKey elements"
        )));
    }
    let keys = wrapped_nodes
        .into_iter()
        .map(|k| read_wrapped_key(doc, k))
        .collect::<Result<_, _>>()?;
    Ok(Encrypted {
        content_algorithm,
        key_len,
        ciphertext,
        keys,
    })
}

fn read_wrapped_key(doc: &Document<'_>, node: NodeId) -> Result<WrappedKey, SamlError> {
    let uri = algorithm_of(doc, node, "EncryptedKey")?;
    match uri.as_str() {
        RSA_OAEP_MGF1P | RSA_OAEP => {}
        RSA_1_5 => {
            return Err(refused(
                "RSA-1_5 key transport (PKCS#1 v1.5, a padding oracle); use RSA-OAEP",
            ))
        }
        other => return Err(refused(format!("key transport algorithm {other}"))),
    }
    let method = one_child(doc, node, XENC, "EncryptionMethod")
        .ok_or_else(|| refused("EncryptedKey needs one EncryptionMethod"))?;
    let mut digest = SHA1;
    let mut mgf = if uri == RSA_OAEP_MGF1P {
        Some("sha1")
    } else {
        None
    };
    for p in child_elements(doc, method) {
        if is(doc, p, DS, "DigestMethod") {
            digest = match attr(doc, p, "Algorithm") {
                Some(SHA1) => SHA1,
                Some(SHA256) => SHA256,
                Some(SHA384) => SHA384,
                Some(SHA512) => SHA512,
                other => {
                    return Err(refused(format!(
                        "OAEP digest {}",
                        other.unwrap_or("(none)")
                    )))
                }
            };
        } else if is(doc, p, XENC11, "MGF") && uri == RSA_OAEP {
            let name = attr(doc, p, "Algorithm")
                .and_then(|a| a.strip_prefix("http://www.w3.org/2009/xmlenc11#mgf1"));
            mgf = match name {
                Some(n @ ("sha1" | "sha256" | "sha384" | "sha512")) => Some(n),
                _ => return Err(refused("OAEP mask generation function")),
            };
        } else if is(doc, p, XENC, "OAEPparams") {
            if !text_only(doc, p, "OAEPparams")?.trim().is_empty() {
                return Err(refused("an OAEP label (OAEPparams)"));
            }
        } else {
            return Err(refused("unexpected element in the key EncryptionMethod"));
        }
    }
    // xmlenc-core1 §5.5.2: without MGF, MGF1 with SHA-1.
    let mgf = mgf.unwrap_or("sha1");
    let algorithm = match (digest, mgf) {
        (SHA1, "sha1") => &OAEP_SHA1_MGF1SHA1,
        (SHA256, "sha256") => &OAEP_SHA256_MGF1SHA256,
        (SHA384, "sha384") => &OAEP_SHA384_MGF1SHA384,
        (SHA512, "sha512") => &OAEP_SHA512_MGF1SHA512,
        _ => {
            return Err(refused(
                "RSA-OAEP needs the same SHA for its digest and MGF1",
            ))
        }
    };
    let mut ciphertext = None;
    let mut seen = false;
    for c in child_elements(doc, node) {
        if is(doc, c, XENC, "CipherData") && !seen {
            seen = true;
            ciphertext = cipher_value(doc, c)?;
        } else if is(doc, c, XENC, "CipherData") {
            return Err(refused("EncryptedKey has more than one CipherData"));
        }
        // EncryptionMethod (read above), KeyInfo (names the SP's certificate),
        // ReferenceList, CarriedKeyName: not needed.
    }
    if !seen {
        return Err(refused("EncryptedKey has no CipherData"));
    }
    Ok(WrappedKey {
        algorithm,
        ciphertext,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = r#"<xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/><xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>"#;

    /// `read` over an EncryptedAssertion holding an EncryptedData with `method` (the
    /// content algorithm), `key_info` and `cipher_data`, and `extra` after it.
    fn shape(
        method: &str,
        key_info: &str,
        cipher_data: &str,
        extra: &str,
    ) -> Result<(), SamlError> {
        let text = format!(
            r#"<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xenc="{XENC}" xmlns:ds="{DS}"><xenc:EncryptedData Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="{method}"/><ds:KeyInfo>{key_info}</ds:KeyInfo><xenc:CipherData>{cipher_data}</xenc:CipherData></xenc:EncryptedData>{extra}</saml:EncryptedAssertion>"#
        );
        let doc = xml::parse(&text).unwrap();
        let root = doc.document_element().unwrap();
        read(&doc, root, false).map(|_| ())
    }

    fn refused_with(result: Result<(), SamlError>, part: &str) {
        match result {
            Err(SamlError::EncryptionRefused(why)) => assert!(why.contains(part), "{why}"),
            other => panic!("expected a refusal naming {part:?}: {other:?}"),
        }
    }

    const VALUE: &str = "<xenc:CipherValue>AAAA</xenc:CipherValue>";

    #[test]
    fn the_accepted_shapes() {
        assert_eq!(shape(AES256_GCM, KEY, VALUE, ""), Ok(()));
        // The EncryptedKey beside the EncryptedData (SAML core 2.3.4); a RetrievalMethod
        // pointing at it is not followed, and not needed.
        let retrieval = r##"<ds:RetrievalMethod URI="#k" Type="http://www.w3.org/2001/04/xmlenc#EncryptedKey"/>"##;
        assert_eq!(shape(AES128_GCM, retrieval, VALUE, KEY), Ok(()));
        // A CipherValue that is not base64 is not a shape error: it fails later, alike.
        assert_eq!(
            shape(
                AES256_GCM,
                KEY,
                "<xenc:CipherValue>%%</xenc:CipherValue>",
                ""
            ),
            Ok(())
        );
    }

    #[test]
    fn refused_shapes_and_algorithms_are_named() {
        refused_with(shape(AES256_CBC, KEY, VALUE, ""), "allow_aes_cbc");
        refused_with(
            shape(
                "http://www.w3.org/2001/04/xmlenc#tripledes-cbc",
                KEY,
                VALUE,
                "",
            ),
            "tripledes",
        );
        refused_with(shape(AES256_GCM, "", VALUE, ""), "no EncryptedKey");
        refused_with(
            shape(AES256_GCM, &KEY.repeat(MAX_ENCRYPTED_KEYS + 1), VALUE, ""),
            "more than",
        );
        refused_with(
            shape(
                AES256_GCM,
                KEY,
                r#"<xenc:CipherReference URI="http://evil/"/>"#,
                "",
            ),
            "CipherReference",
        );
        refused_with(shape(AES256_GCM, KEY, "", ""), "no CipherValue");
        refused_with(
            shape(AES256_GCM, KEY, VALUE, "<x/>"),
            "EncryptedAssertion holds",
        );
        let rsa15 = KEY.replace("rsa-oaep-mgf1p", "rsa-1_5");
        refused_with(shape(AES256_GCM, &rsa15, VALUE, ""), "RSA-1_5");
        let labelled = KEY.replace(
            r#"mgf1p"/>"#,
            r#"mgf1p"><xenc:OAEPparams>bGFiZWw=</xenc:OAEPparams></xenc:EncryptionMethod>"#,
        );
        refused_with(shape(AES256_GCM, &labelled, VALUE, ""), "OAEP label");
        let content_type = r#"Type="http://www.w3.org/2001/04/xmlenc#Content""#;
        let text = format!(r#"<a xmlns:xenc="{XENC}"><xenc:EncryptedData {content_type}/></a>"#);
        let doc = xml::parse(&text).unwrap();
        refused_with(
            read(&doc, doc.document_element().unwrap(), true).map(|_| ()),
            "Type",
        );
    }

    #[test]
    fn a_leading_declaration_is_dropped_from_the_plaintext() {
        assert_eq!(strip_declaration(r#"<?xml version="1.0"?><a/>"#), "<a/>");
        assert_eq!(strip_declaration("<a/>"), "<a/>");
        assert_eq!(strip_declaration("<?xml no end"), "<?xml no end");
    }
}
