//! The differential test: for every fixture, `xmlsec1 --verify` (the reference XML-DSig
//! implementation, with the IdP's certificate as its only key) and Cognate's signature
//! engine (`response::crypto_valid`: bergshamra, metadata keys only) agree on whether the
//! signature is cryptographically valid; and each fixture records what Cognate's
//! `verify` answers. The wrapping variants whose signature survives the move are valid to
//! both verifiers and refused by Cognate's rules: that gap is the whole point of them.

use cognate::federation::saml::response::{crypto_valid, SamlError};

use super::attacks::{self, assertion_signed, response_signed, signed_with, EVIL};
use super::{check, metadata, NOW};
use crate::support::saml_sign::{self, attacker, idp, xmlsec1_verify, Alg, ResponseSpec};

/// What Cognate's `verify` must answer for a fixture.
enum Outcome {
    Accepted,
    Refused(fn(&SamlError) -> bool),
}

struct Fixture {
    name: &'static str,
    xml: String,
    /// Both verifiers' verdict on the signature alone.
    crypto_valid: bool,
    outcome: Outcome,
}

fn fixtures() -> Vec<Fixture> {
    use Outcome::{Accepted, Refused};
    let f = |name, xml, crypto_valid, outcome| Fixture {
        name,
        xml,
        crypto_valid,
        outcome,
    };
    let tampered = assertion_signed().replacen("alice@example.com", EVIL, 1);
    vec![
        f(
            "honest, assertion signed",
            assertion_signed(),
            true,
            Accepted,
        ),
        f("honest, response signed", response_signed(), true, Accepted),
        f(
            "honest, both signed, RSA-SHA512, no KeyInfo",
            signed_with(|s| {
                s.sign_response = true;
                s.alg = Alg::RsaSha512;
                s.key_info = false;
            }),
            true,
            Accepted,
        ),
        f(
            "RSA-SHA1 (not allowed)",
            signed_with(|s| s.alg = Alg::RsaSha1),
            true,
            Refused(|e| matches!(e, SamlError::AlgorithmNotAllowed(_))),
        ),
        f(
            "unsigned",
            ResponseSpec::new(NOW).unsigned(),
            false,
            Refused(|e| *e == SamlError::Unsigned),
        ),
        f(
            "NameID changed after signing",
            tampered,
            false,
            Refused(|e| matches!(e, SamlError::SignatureInvalid(_))),
        ),
        f(
            "signed by the attacker's key, its certificate in KeyInfo",
            signed_with(|s| s.signer = attacker()),
            false,
            Refused(|e| matches!(e, SamlError::SignatureInvalid(_))),
        ),
        f(
            "comment injection in NameID",
            signed_with(|s| s.name_id_raw = Some("admin@example.com<!---->.evil.com".into())),
            true,
            Refused(|e| *e == SamlError::MixedContent("NameID")),
        ),
        f(
            "wrong Audience",
            signed_with(|s| s.audience = "urn:amazon:cognito:sp:other".into()),
            true,
            Refused(|e| *e == SamlError::Audience),
        ),
        f(
            "XSW1",
            attacks::xsw1(),
            false,
            Refused(|e| matches!(e, SamlError::UnsupportedSignature(_))),
        ),
        f(
            "XSW2",
            attacks::xsw2(),
            true,
            Refused(|e| matches!(e, SamlError::SignatureWrapping(_))),
        ),
        f(
            "XSW3",
            attacks::xsw3(),
            true,
            Refused(|e| matches!(e, SamlError::AssertionCount(_))),
        ),
        f(
            "XSW4",
            attacks::xsw4(),
            true,
            Refused(|e| matches!(e, SamlError::SignatureWrapping(_))),
        ),
        f(
            "XSW5",
            attacks::xsw5(),
            true,
            Refused(|e| matches!(e, SamlError::SignatureInvalid(r) if r.contains("XSW"))),
        ),
        f(
            "XSW6",
            attacks::xsw6(),
            false,
            Refused(|e| matches!(e, SamlError::UnsupportedSignature(_))),
        ),
        f(
            "XSW7",
            attacks::xsw7(),
            true,
            Refused(|e| matches!(e, SamlError::SignatureWrapping(_))),
        ),
        f(
            "XSW8",
            attacks::xsw8(),
            false,
            Refused(|e| matches!(e, SamlError::UnsupportedSignature(_))),
        ),
        f(
            "unsigned assertion beside the signed one",
            attacks::sibling_of_signed_assertion(),
            true,
            Refused(|e| matches!(e, SamlError::AssertionCount(_))),
        ),
        f(
            "unsigned assertion beside a signed Response",
            attacks::sibling_of_signed_response(),
            true,
            Refused(|e| matches!(e, SamlError::SignatureWrapping(_))),
        ),
    ]
}

#[test]
fn xmlsec1_and_cognate_agree_on_every_fixture() {
    if !saml_sign::available() {
        return;
    }
    let certs = metadata();
    let mut failures = Vec::new();
    for fixture in fixtures() {
        let by_xmlsec1 = xmlsec1_verify(&fixture.xml, &idp().cert_pem);
        let by_cognate = crypto_valid(&fixture.xml, &certs);
        if by_xmlsec1 != by_cognate {
            failures.push(format!(
                "{}: xmlsec1 says {by_xmlsec1}, Cognate's engine says {by_cognate}",
                fixture.name
            ));
        }
        if by_xmlsec1 != fixture.crypto_valid {
            failures.push(format!(
                "{}: recorded crypto validity {}, xmlsec1 says {by_xmlsec1}",
                fixture.name, fixture.crypto_valid
            ));
        }
        let verdict = check(&fixture.xml);
        let as_recorded = match (&fixture.outcome, &verdict) {
            (Outcome::Accepted, Ok(_)) => true,
            (Outcome::Refused(expected), Err(e)) => expected(e),
            _ => false,
        };
        if !as_recorded {
            failures.push(format!("{}: Cognate answered {verdict:?}", fixture.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What a naive SP reads after a signature check passes: the NameID of the first
/// `saml:Assertion` child of the Response (namespace-aware, at least).
fn naive_name_id(xml: &str) -> Option<String> {
    use bergshamra::xml::uppsala;
    const SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
    let doc = uppsala::parse(xml).ok()?;
    let root = doc.document_element()?;
    let assertion = doc.first_child_element_by_name_ns(root, SAML, "Assertion")?;
    let subject = doc.first_child_element_by_name_ns(assertion, SAML, "Subject")?;
    let name_id = doc.first_child_element_by_name_ns(subject, SAML, "NameID")?;
    Some(doc.text_content_deep(name_id))
}

/// Five wrapping variants carry a signature that is valid to both verifiers, and a naive
/// SP that checks the signature and then reads the Response's first Assertion gets the
/// victim; Cognate refuses every one of them.
#[test]
fn wrapping_variants_valid_to_both_verifiers_are_refused() {
    if !saml_sign::available() {
        return;
    }
    let certs = metadata();
    let wrapped = [
        attacks::xsw2(),
        attacks::xsw3(),
        attacks::xsw4(),
        attacks::xsw5(),
        attacks::xsw7(),
    ];
    for xml in wrapped {
        assert!(xmlsec1_verify(&xml, &idp().cert_pem));
        assert!(crypto_valid(&xml, &certs));
        assert_eq!(naive_name_id(&xml).as_deref(), Some(EVIL), "{xml}");
        assert!(check(&xml).is_err());
    }
}
