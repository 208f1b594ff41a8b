//! An independent SAML signer for tests: SAML 2.0 Responses built from a template and
//! signed by the `xmlsec1` command-line tool (the reference XML-DSig implementation,
//! Debian package `xmlsec1`), never by Cognate's own code.
//!
//! Keys: an IdP RSA-2048 key + self-signed certificate and an attacker's, generated once
//! per process with the `openssl` command-line tool (held in memory; each signing writes
//! them into its own temporary directory, removed afterwards).
//!
//! - [`available`]: whether `xmlsec1` and `openssl` are installed (a loud `NOT RUN` banner
//!   when not; a panic when `CI=true`). Every test using this module starts with it.
//! - [`ResponseSpec`]: the fields of a Response (issuer, destination, InResponseTo,
//!   audience, recipient, NameID, attributes, times, ids, which elements to sign, the
//!   algorithm, the signer); [`ResponseSpec::signed`] answers the signed XML, [`b64`] the
//!   form value. Used by the attack corpus and by fake IdPs of end-to-end tests (it runs
//!   a process: call it from `spawn_blocking` in async code).
//! - [`sign`]: sign any template holding `ds:Signature` skeletons ([`signature_template`]).
//! - [`xmlsec1_verify`]: `xmlsec1 --verify` with a certificate, for differential tests.
//! - [`Encryption`] / [`encrypt_assertion`]: an assertion encrypted by `xmlsec1 --encrypt`
//!   (session key AES-GCM or AES-CBC, key transport RSA-OAEP or RSA-1_5) to an SP's
//!   certificate ([`sp`], [`sp_previous`] for the tests, or Cognate's from its metadata);
//!   [`ResponseSpec::encrypt`] makes [`ResponseSpec::signed`] encrypt the (signed)
//!   assertion before a Response signature is made.

use std::process::Command;
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// The `--id-attr` arguments: `ID` is an XML Schema ID on these two elements.
const ID_ATTRS: [&str; 2] = [
    "urn:oasis:names:tc:SAML:2.0:protocol:Response",
    "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
];

/// Whether the signer can run. Prints a loud banner and answers `false` when `xmlsec1`
/// or `openssl` is missing, unless `CI=true`, where it panics.
pub fn available() -> bool {
    let missing: Vec<&str> = ["xmlsec1", "openssl"]
        .into_iter()
        .filter(|tool| {
            Command::new(tool)
                .arg("version")
                .output()
                .map(|_| false)
                .unwrap_or(true)
        })
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("SAML tests need {missing:?}: apt-get install -y xmlsec1 openssl");
    }
    eprintln!(
        "\n==== NOT RUN: xmlsec1 missing ({missing:?} not found; apt-get install -y xmlsec1 openssl) ====\n"
    );
    false
}

/// A signing party: an RSA key and its self-signed certificate.
pub struct Party {
    pub key_pem: String,
    pub cert_pem: String,
    /// The certificate, DER: what an IdP's metadata carries.
    pub cert_der: Vec<u8>,
}

impl std::fmt::Debug for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Party").finish_non_exhaustive()
    }
}

fn generate(cn: &str) -> Party {
    let dir = tempfile::tempdir().expect("temp dir");
    let key = dir.path().join("key.pem");
    let cert = dir.path().join("cert.pem");
    let out = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650",
        ])
        .arg("-subj")
        .arg(format!("/CN={cn}"))
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl req failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert_pem = std::fs::read_to_string(&cert).expect("cert.pem");
    let body: String = cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    Party {
        key_pem: std::fs::read_to_string(&key).expect("key.pem"),
        cert_der: STANDARD.decode(body).expect("certificate base64"),
        cert_pem,
    }
}

/// The IdP's key pair (its certificate is the one in the IdP's metadata).
pub fn idp() -> &'static Party {
    static IDP: OnceLock<Party> = OnceLock::new();
    IDP.get_or_init(|| generate("idp.example.test"))
}

/// The IdP's next key pair, after a key rollover (in its metadata only once it
/// announces the rollover).
pub fn next_idp() -> &'static Party {
    static NEXT: OnceLock<Party> = OnceLock::new();
    NEXT.get_or_init(|| generate("idp-next.example.test"))
}

/// An attacker's key pair (never in metadata).
pub fn attacker() -> &'static Party {
    static ATTACKER: OnceLock<Party> = OnceLock::new();
    ATTACKER.get_or_init(|| generate("attacker.example.test"))
}

/// The SP's key pair of the verifier tests (the private key is given to the verifier as
/// PKCS#8 DER, [`pkcs8_der`]).
pub fn sp() -> &'static Party {
    static SP: OnceLock<Party> = OnceLock::new();
    SP.get_or_init(|| generate("sp.example.test"))
}

/// The SP's previous key pair (rotated out, still published during its grace period).
pub fn sp_previous() -> &'static Party {
    static SP: OnceLock<Party> = OnceLock::new();
    SP.get_or_init(|| generate("sp-previous.example.test"))
}

/// A party's private key as PKCS#8 DER (`openssl req -nodes` writes PKCS#8 PEM).
pub fn pkcs8_der(party: &Party) -> Vec<u8> {
    assert!(party.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let body: String = party
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    STANDARD.decode(body).expect("key base64")
}

/// A DER certificate as PEM.
pub fn cert_pem(der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    )
}

pub const AES128_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes128-gcm";
pub const AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
pub const AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
pub const AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
pub const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
pub const RSA_OAEP: &str = "http://www.w3.org/2009/xmlenc11#rsa-oaep";
pub const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";

/// How `xmlsec1 --encrypt` encrypts an assertion.
#[derive(Debug, Clone)]
pub struct Encryption {
    /// The content encryption algorithm (`AES*_GCM`, `AES*_CBC`).
    pub content: &'static str,
    /// The key transport algorithm (`RSA_OAEP_MGF1P`, `RSA_OAEP`, `RSA_1_5`).
    pub transport: &'static str,
    /// Extra children of the key transport's EncryptionMethod (OAEP DigestMethod, MGF).
    pub transport_params: String,
    /// The recipient's certificate (PEM).
    pub cert_pem: String,
}

impl Encryption {
    /// AES-256-GCM, RSA-OAEP (MGF1-SHA1), to `cert_pem`: what IdPs send by default.
    pub fn gcm(cert_pem: &str) -> Encryption {
        Encryption::with(AES256_GCM, RSA_OAEP_MGF1P, cert_pem)
    }

    pub fn with(content: &'static str, transport: &'static str, cert_pem: &str) -> Encryption {
        Encryption {
            content,
            transport,
            transport_params: String::new(),
            cert_pem: cert_pem.to_owned(),
        }
    }

    /// The `xenc:EncryptedData` of `element` (one XML element, standalone: it declares the
    /// namespaces it uses), made by `xmlsec1 --encrypt` with the `EncryptedKey` in its
    /// `KeyInfo`.
    pub fn encrypt(&self, element: &str) -> String {
        let session = if self.content.contains("128") {
            "aes-128"
        } else {
            "aes-256"
        };
        let template = format!(
            r#"<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="{}"/><ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="{}">{}</xenc:EncryptionMethod><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>"#,
            self.content, self.transport, self.transport_params
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let (t, d, c, o) = (
            dir.path().join("template.xml"),
            dir.path().join("data.xml"),
            dir.path().join("cert.pem"),
            dir.path().join("out.xml"),
        );
        std::fs::write(&t, &template).expect("write template");
        std::fs::write(&d, element).expect("write data");
        std::fs::write(&c, &self.cert_pem).expect("write cert");
        let out = Command::new("xmlsec1")
            .arg("--encrypt")
            .arg("--pubkey-cert-pem")
            .arg(&c)
            .arg("--session-key")
            .arg(session)
            .arg("--xml-data")
            .arg(&d)
            .arg("--output")
            .arg(&o)
            .arg(&t)
            .output()
            .expect("run xmlsec1");
        assert!(
            out.status.success(),
            "xmlsec1 --encrypt failed: {}\n{template}",
            String::from_utf8_lossy(&out.stderr)
        );
        let encrypted = std::fs::read_to_string(o).expect("out.xml");
        let start = encrypted
            .find("<xenc:EncryptedData")
            .expect("EncryptedData");
        encrypted[start..].trim_end().to_owned()
    }
}

/// `xml` with the text from its first `<saml:Assertion` to its last `</saml:Assertion>`
/// (one element, possibly holding others) replaced by an `EncryptedAssertion` of it.
pub fn encrypt_assertion(xml: &str, encryption: &Encryption) -> String {
    const CLOSE: &str = "</saml:Assertion>";
    let start = xml.find("<saml:Assertion").expect("an assertion");
    let end = xml.rfind(CLOSE).expect("an assertion end") + CLOSE.len();
    format!(
        "{}<saml:EncryptedAssertion>{}</saml:EncryptedAssertion>{}",
        &xml[..start],
        encryption.encrypt(&xml[start..end]),
        &xml[end..]
    )
}

/// Signature and digest algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alg {
    RsaSha256,
    RsaSha512,
    /// RSA-SHA1 with SHA-1 digests.
    RsaSha1,
}

impl Alg {
    pub fn signature_uri(self) -> &'static str {
        match self {
            Alg::RsaSha256 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
            Alg::RsaSha512 => "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
            Alg::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
        }
    }
    pub fn digest_uri(self) -> &'static str {
        match self {
            Alg::RsaSha256 => "http://www.w3.org/2001/04/xmlenc#sha256",
            Alg::RsaSha512 => "http://www.w3.org/2001/04/xmlenc#sha512",
            Alg::RsaSha1 => "http://www.w3.org/2000/09/xmldsig#sha1",
        }
    }
}

/// A `ds:Signature` skeleton for xmlsec1 to fill: one `#id` reference, enveloped +
/// exclusive c14n, and (with `key_info`) an `X509Data` xmlsec1 fills with the signer's
/// certificate, as IdPs send.
pub fn signature_template(reference_uri: &str, alg: Alg, key_info: bool) -> String {
    let key_info = if key_info {
        "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>"
    } else {
        ""
    };
    format!(
        r#"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="{sig}"/><ds:Reference URI="{uri}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>{key_info}</ds:Signature>"#,
        sig = alg.signature_uri(),
        digest = alg.digest_uri(),
        uri = escape(reference_uri),
    )
}

/// Sign the first `ds:Signature` skeleton (document order) of `template` with
/// `xmlsec1 --sign`, `ID` registered as the ID attribute of Response and Assertion.
pub fn sign(template: &str, signer: &Party) -> String {
    xmlsec1_sign(template, |dir, cmd| {
        let key = dir.join("key.pem");
        let cert = dir.join("cert.pem");
        std::fs::write(&key, &signer.key_pem).expect("write key");
        std::fs::write(&cert, &signer.cert_pem).expect("write cert");
        cmd.arg("--privkey-pem")
            .arg(format!("{},{}", key.display(), cert.display()));
    })
}

/// Sign the first skeleton of `template` with HMAC (its `SignatureMethod` must name an
/// HMAC algorithm), keyed with `key`: the key-confusion attack signs with the IdP's public
/// certificate as the HMAC secret.
pub fn sign_hmac(template: &str, key: &[u8]) -> String {
    xmlsec1_sign(template, |dir, cmd| {
        let path = dir.join("hmac.key");
        std::fs::write(&path, key).expect("write key");
        cmd.arg("--hmackey").arg(path);
    })
}

/// `xmlsec1 --sign` of `template` in a temporary directory, with the key arguments
/// `with_key` writes there and adds.
fn xmlsec1_sign(template: &str, with_key: impl FnOnce(&std::path::Path, &mut Command)) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("template.xml");
    std::fs::write(&input, template).expect("write template");
    let output = dir.path().join("signed.xml");
    let mut cmd = Command::new("xmlsec1");
    cmd.arg("--sign");
    with_key(dir.path(), &mut cmd);
    for id in ID_ATTRS {
        cmd.arg("--id-attr:ID").arg(id);
    }
    let out = cmd
        .arg("--output")
        .arg(&output)
        .arg(&input)
        .output()
        .expect("run xmlsec1");
    assert!(
        out.status.success(),
        "xmlsec1 --sign failed: {}\n{template}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(output).expect("signed.xml")
}

/// `xmlsec1 --verify` of the first signature of `xml` with `cert_pem` as the only key.
/// KeyInfo certificates are ignored (`--enabled-key-data rsa`: only the loaded key can
/// verify, as for Cognate), `ID` is an ID on Response and Assertion.
pub fn xmlsec1_verify(xml: &str, cert_pem: &str) -> bool {
    xmlsec1_verify_with(xml, cert_pem, &ID_ATTRS)
}

/// [`xmlsec1_verify`] with the given `--id-attr:ID` element names (`ns:Local`).
pub fn xmlsec1_verify_with(xml: &str, cert_pem: &str, id_attrs: &[&str]) -> bool {
    let dir = tempfile::tempdir().expect("temp dir");
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, cert_pem).expect("write cert");
    let input = dir.path().join("in.xml");
    std::fs::write(&input, xml).expect("write xml");
    let mut cmd = Command::new("xmlsec1");
    cmd.current_dir(dir.path())
        .arg("--verify")
        .arg("--enabled-key-data")
        .arg("rsa")
        .arg("--pubkey-cert-pem")
        .arg(&cert);
    for id in id_attrs {
        cmd.arg("--id-attr:ID").arg(id);
    }
    cmd.arg(&input)
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// The form value for `xml`: base64, wrapped at 76 columns as many IdPs do.
pub fn b64(xml: &str) -> String {
    let flat = STANDARD.encode(xml);
    let mut out = String::with_capacity(flat.len() + flat.len() / 76 + 1);
    for (i, c) in flat.chars().enumerate() {
        if i > 0 && i % 76 == 0 {
            out.push_str("\r\n");
        }
        out.push(c);
    }
    out
}

/// XML escaping for text and attribute values.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An `xs:dateTime` in UTC for Unix seconds.
pub fn instant(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .expect("time in range")
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Everything a test may vary in a Response. [`ResponseSpec::new`] gives an honest one.
#[derive(Debug, Clone)]
pub struct ResponseSpec {
    pub response_id: String,
    pub assertion_id: String,
    /// The Response's Issuer (`None`: omitted, as SAML allows).
    pub response_issuer: Option<String>,
    pub assertion_issuer: String,
    pub destination: Option<String>,
    /// Response/@InResponseTo (`None`: omitted).
    pub in_response_to: Option<String>,
    /// SubjectConfirmationData/@InResponseTo (`None`: omitted).
    pub scd_in_response_to: Option<String>,
    pub audience: String,
    pub recipient: String,
    /// NameID text (escaped) and Format.
    pub name_id: Option<(String, String)>,
    /// When set, the NameID's content verbatim (not escaped): comment injection.
    pub name_id_raw: Option<String>,
    pub attributes: Vec<(String, Vec<String>)>,
    pub session_index: Option<String>,
    pub issue_instant: i64,
    pub not_before: i64,
    pub not_on_or_after: i64,
    pub scd_not_on_or_after: i64,
    pub status: String,
    pub status_message: Option<String>,
    /// `false`: a Response without an Assertion (an IdP's error answer).
    pub include_assertion: bool,
    /// A bogus `EncryptedAssertion` (no key, no real ciphertext) instead of the Assertion.
    pub encrypted_assertion: bool,
    /// Encrypt the (signed) assertion with `xmlsec1` before the Response is signed.
    pub encrypt: Option<Encryption>,
    pub sign_response: bool,
    pub sign_assertion: bool,
    pub alg: Alg,
    /// Put the signer's certificate in `ds:KeyInfo`.
    pub key_info: bool,
    /// Who signs: the IdP unless a test says otherwise.
    pub signer: &'static Party,
}

impl ResponseSpec {
    /// An honest response from `https://idp.example.test/` for `alice@example.com`, to the
    /// SP `urn:amazon:cognito:sp:pool` at `https://sp.example.test/saml2/idpresponse`, in
    /// response to `_req1`, valid from `now - 60` to `now + 300`, assertion signed.
    pub fn new(now: i64) -> Self {
        ResponseSpec {
            response_id: "_resp1".into(),
            assertion_id: "_assert1".into(),
            response_issuer: Some("https://idp.example.test/".into()),
            assertion_issuer: "https://idp.example.test/".into(),
            destination: Some("https://sp.example.test/saml2/idpresponse".into()),
            in_response_to: Some("_req1".into()),
            scd_in_response_to: Some("_req1".into()),
            audience: "urn:amazon:cognito:sp:pool".into(),
            recipient: "https://sp.example.test/saml2/idpresponse".into(),
            name_id: Some((
                "alice@example.com".into(),
                "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
            )),
            name_id_raw: None,
            attributes: vec![
                (
                    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress".into(),
                    vec!["alice@example.com".into()],
                ),
                ("groups".into(), vec!["staff".into(), "dev".into()]),
            ],
            session_index: Some("_session1".into()),
            issue_instant: now,
            not_before: now - 60,
            not_on_or_after: now + 300,
            scd_not_on_or_after: now + 300,
            status: STATUS_SUCCESS.into(),
            status_message: None,
            include_assertion: true,
            encrypted_assertion: false,
            encrypt: None,
            sign_response: false,
            sign_assertion: true,
            alg: Alg::RsaSha256,
            key_info: true,
            signer: idp(),
        }
    }

    fn assertion(&self, signature: &str) -> String {
        let t = instant(self.issue_instant);
        let name_id = match (&self.name_id_raw, &self.name_id) {
            (Some(raw), _) => format!(
                r#"<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">{raw}</saml:NameID>"#
            ),
            (None, Some((value, format))) => format!(
                r#"<saml:NameID Format="{}">{}</saml:NameID>"#,
                escape(format),
                escape(value)
            ),
            (None, None) => String::new(),
        };
        let scd_irt = self
            .scd_in_response_to
            .as_ref()
            .map(|v| format!(r#" InResponseTo="{}""#, escape(v)))
            .unwrap_or_default();
        let session = self
            .session_index
            .as_ref()
            .map(|v| format!(r#" SessionIndex="{}""#, escape(v)))
            .unwrap_or_default();
        let mut attributes = String::new();
        if !self.attributes.is_empty() {
            attributes.push_str("<saml:AttributeStatement>");
            for (name, values) in &self.attributes {
                attributes.push_str(&format!(r#"<saml:Attribute Name="{}">"#, escape(name)));
                for v in values {
                    attributes.push_str(&format!(
                        r#"<saml:AttributeValue xsi:type="xs:string">{}</saml:AttributeValue>"#,
                        escape(v)
                    ));
                }
                attributes.push_str("</saml:Attribute>");
            }
            attributes.push_str("</saml:AttributeStatement>\n");
        }
        format!(
            r#"<saml:Assertion xmlns:saml="{SAML}" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{id}" Version="2.0" IssueInstant="{t}">
<saml:Issuer>{issuer}</saml:Issuer>{signature}
<saml:Subject>{name_id}<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{scd_noa}" Recipient="{recipient}"{scd_irt}/></saml:SubjectConfirmation></saml:Subject>
<saml:Conditions NotBefore="{nb}" NotOnOrAfter="{noa}"><saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>
<saml:AuthnStatement AuthnInstant="{t}"{session}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>
{attributes}</saml:Assertion>"#,
            id = escape(&self.assertion_id),
            issuer = escape(&self.assertion_issuer),
            scd_noa = instant(self.scd_not_on_or_after),
            recipient = escape(&self.recipient),
            nb = instant(self.not_before),
            noa = instant(self.not_on_or_after),
            audience = escape(&self.audience),
        )
    }

    /// The Response with `response_signature` after its Issuer and `assertion_signature`
    /// after the Assertion's Issuer (empty strings: none).
    pub fn template_with(&self, response_signature: &str, assertion_signature: &str) -> String {
        let opt = |name: &str, v: &Option<String>| {
            v.as_ref()
                .map(|v| format!(r#" {name}="{}""#, escape(v)))
                .unwrap_or_default()
        };
        let issuer = self
            .response_issuer
            .as_ref()
            .map(|i| format!("\n<saml:Issuer>{}</saml:Issuer>", escape(i)))
            .unwrap_or_default();
        let message = self
            .status_message
            .as_ref()
            .map(|m| format!("<samlp:StatusMessage>{}</samlp:StatusMessage>", escape(m)))
            .unwrap_or_default();
        let body = if self.encrypted_assertion {
            r#"<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/><xenc:CipherData><xenc:CipherValue>AAAA</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>"#.to_owned()
        } else if self.include_assertion {
            self.assertion(assertion_signature)
        } else {
            String::new()
        };
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="{id}" Version="2.0" IssueInstant="{t}"{dest}{irt}>{issuer}{response_signature}
<samlp:Status><samlp:StatusCode Value="{status}"/>{message}</samlp:Status>
{body}
</samlp:Response>
"#,
            id = escape(&self.response_id),
            t = instant(self.issue_instant),
            dest = opt("Destination", &self.destination),
            irt = opt("InResponseTo", &self.in_response_to),
            status = escape(&self.status),
        )
    }

    /// The unsigned Response (no signature skeletons).
    pub fn unsigned(&self) -> String {
        self.template_with("", "")
    }

    /// The Response signed by `self.signer` as `sign_assertion` / `sign_response` say
    /// (the assertion first, since the response signature covers it).
    pub fn signed(&self) -> String {
        const MARK: &str = "<!--response-signature-->";
        let assertion_sig = if self.sign_assertion {
            signature_template(&format!("#{}", self.assertion_id), self.alg, self.key_info)
        } else {
            String::new()
        };
        let response_mark = if self.sign_response { MARK } else { "" };
        let mut xml = self.template_with(response_mark, &assertion_sig);
        if self.sign_assertion {
            xml = sign(&xml, self.signer);
        }
        if let Some(encryption) = &self.encrypt {
            xml = encrypt_assertion(&xml, encryption);
        }
        if self.sign_response {
            let sig =
                signature_template(&format!("#{}", self.response_id), self.alg, self.key_info);
            assert!(xml.contains(MARK), "the response signature mark survives");
            xml = sign(&xml.replacen(MARK, &sig, 1), self.signer);
        }
        xml
    }
}
