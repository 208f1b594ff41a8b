//! SAML 2.0 response verification (`cognate::federation::saml::response`) against
//! responses signed by an independent implementation (`xmlsec1`, see
//! `support::saml_sign`): the honest cases here, the attack corpus in [`attacks`], and
//! the differential test against `xmlsec1 --verify` in [`differential`].

mod attacks;
mod differential;
mod encrypted;
mod flows;
mod fuzz_corpus;
mod idp_initiated;
mod logout;
mod metadata_url;

use std::time::Duration;

use cognate::federation::saml::response::{verify, Expectations, SamlError, VerifiedAssertion};

use crate::support::saml_sign::{self, b64, idp, Alg, ResponseSpec};

/// The tests' clock: responses are built around it and verified at it.
pub const NOW: i64 = 1_800_000_000;
pub const IDP: &str = "https://idp.example.test/";
pub const SP: &str = "urn:amazon:cognito:sp:pool";
pub const ACS: &str = "https://sp.example.test/saml2/idpresponse";
pub const REQUEST: &str = "_req1";

/// The flow's expectations with the IdP's metadata certificate.
pub fn expectations(certificates: &[Vec<u8>]) -> Expectations<'_> {
    Expectations {
        idp_entity_id: IDP,
        certificates,
        allow_sha1: false,
        sp_entity_id: SP,
        acs_url: ACS,
        in_response_to: Some(REQUEST),
        now: NOW,
        skew_secs: 120,
        decryption_keys: &[],
        allow_aes_cbc: false,
    }
}

/// The IdP's metadata: its certificate only.
pub fn metadata() -> Vec<Vec<u8>> {
    vec![idp().cert_der.clone()]
}

/// Verify `xml` as posted (base64) with the default expectations.
pub fn check(xml: &str) -> Result<VerifiedAssertion, SamlError> {
    let certs = metadata();
    verify(&b64(xml), &expectations(&certs))
}

/// Run `f` on another thread and fail the test if it does not answer within a generous
/// bound: the verifier must never hang, whatever the input.
pub fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the verifier answered within 60 s")
}

#[test]
fn honest_assertion_signed_response_is_accepted_with_its_fields() {
    if !saml_sign::available() {
        return;
    }
    let xml = ResponseSpec::new(NOW).signed();
    let v = check(&xml).expect("an honest response is accepted");
    assert_eq!(v.response_id, "_resp1");
    assert_eq!(v.assertion_id, "_assert1");
    assert_eq!(v.issuer, IDP);
    let name_id = v.name_id.expect("a NameID");
    assert_eq!(name_id.value, "alice@example.com");
    assert_eq!(
        name_id.format.as_deref(),
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    );
    assert_eq!(
        v.attributes.get("groups"),
        Some(&vec!["staff".to_owned(), "dev".to_owned()])
    );
    assert_eq!(
        v.attributes
            .get("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"),
        Some(&vec!["alice@example.com".to_owned()])
    );
    assert_eq!(v.session_index.as_deref(), Some("_session1"));
    assert_eq!(v.expires_at, NOW + 300);
}

#[test]
fn honest_response_signed_only_on_the_response_is_accepted() {
    if !saml_sign::available() {
        return;
    }
    let mut spec = ResponseSpec::new(NOW);
    spec.sign_response = true;
    spec.sign_assertion = false;
    let v = check(&spec.signed()).expect("a signed Response around the Assertion");
    assert_eq!(
        v.name_id.map(|n| n.value).as_deref(),
        Some("alice@example.com")
    );
}

#[test]
fn honest_response_signed_twice_sha512_without_key_info_is_accepted() {
    if !saml_sign::available() {
        return;
    }
    let mut spec = ResponseSpec::new(NOW);
    spec.sign_response = true;
    spec.alg = Alg::RsaSha512;
    spec.key_info = false;
    spec.not_on_or_after = NOW + 100;
    let xml = spec.signed();
    assert_eq!(xml.matches("<ds:Signature ").count(), 2, "{xml}");
    let v = check(&xml).expect("both signatures verify");
    assert_eq!(v.expires_at, NOW + 100, "the earlier NotOnOrAfter");
}

#[test]
fn honest_response_with_rotated_certificates_is_accepted() {
    if !saml_sign::available() {
        return;
    }
    // Metadata during a rotation: another certificate first, the signing one second.
    let certs = vec![
        saml_sign::attacker().cert_der.clone(),
        idp().cert_der.clone(),
    ];
    let xml = ResponseSpec::new(NOW).signed();
    verify(&b64(&xml), &expectations(&certs)).expect("any metadata certificate may sign");
}

/// Shapes real IdPs send: an unprefixed `Signature` in the default namespace (ADFS) and
/// an `InclusiveNamespaces PrefixList` on the exclusive c14n transform (Okta, Shibboleth).
#[test]
fn honest_signatures_in_the_shapes_idps_send_are_accepted() {
    if !saml_sign::available() {
        return;
    }
    let exc = r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>"#;
    let with_prefix_list = r#"<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#" PrefixList="xs"/></ds:Transform>"#;
    let skeleton = saml_sign::signature_template("#_assert1", Alg::RsaSha256, true)
        .replace(exc, with_prefix_list);
    let unprefixed = skeleton
        .replace(r#"xmlns:ds="#, "xmlns=")
        .replace("<ds:", "<")
        .replace("</ds:", "</");
    for signature in [skeleton, unprefixed] {
        let template = ResponseSpec::new(NOW).template_with("", &signature);
        let xml = saml_sign::sign(&template, idp());
        assert!(saml_sign::xmlsec1_verify(&xml, &idp().cert_pem), "{xml}");
        let v = check(&xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
        assert_eq!(
            v.name_id.map(|n| n.value).as_deref(),
            Some("alice@example.com")
        );
    }
}
