//! The attack corpus against `response::verify`: each attack is built from a response the
//! IdP really signed (with `xmlsec1`), and each is refused with its expected error, while
//! the honest response it was built from is accepted.
//!
//! The wrapping variants follow Somorovsky et al., "On Breaking SAML: Be Whoever You Want
//! to Be" (USENIX Security 2012), as SAML Raider implements them: XSW1-2 wrap a signed
//! Response, XSW3-8 a signed Assertion. Each puts an evil assertion (`admin@example.com`)
//! where an SP reads, and keeps the signed original where the signature still verifies.
//! The text surgery is plain string work on the signed XML, not the parser under test.

use cognate::federation::saml::response::{
    crypto_valid, verify, SamlError, MAX_SAML_RESPONSE_CHARS,
};

use super::{check, expectations, metadata, within, ACS, IDP, NOW, SP};
use crate::support::saml_sign::{
    self, attacker, b64, idp, sign, sign_hmac, signature_template, xmlsec1_verify, Alg,
    ResponseSpec,
};

pub(super) const EVIL: &str = "admin@example.com";

/// The byte range of the first element opened by `open` (e.g. `<saml:Assertion `) and
/// closed by the first `close` after it (the elements cut here do not nest themselves).
fn span(xml: &str, open: &str, close: &str) -> std::ops::Range<usize> {
    let start = xml.find(open).unwrap_or_else(|| panic!("{open} in {xml}"));
    let end = start + xml[start..].find(close).expect("closing tag") + close.len();
    start..end
}

fn cut<'a>(xml: &'a str, open: &str, close: &str) -> &'a str {
    &xml[span(xml, open, close)]
}

fn without(xml: &str, open: &str, close: &str) -> String {
    let r = span(xml, open, close);
    format!("{}{}", &xml[..r.start], &xml[r.end..])
}

/// Insert `what` before the last occurrence of `marker`.
fn before_last(xml: &str, marker: &str, what: &str) -> String {
    let at = xml.rfind(marker).expect("marker");
    format!("{}{}{}", &xml[..at], what, &xml[at..])
}

/// Insert `what` after the first occurrence of `marker`.
fn after_first(xml: &str, marker: &str, what: &str) -> String {
    let at = xml.find(marker).expect("marker") + marker.len();
    format!("{}{}{}", &xml[..at], what, &xml[at..])
}

const SIG: (&str, &str) = ("<ds:Signature ", "</ds:Signature>");
const ASSERTION: (&str, &str) = ("<saml:Assertion ", "</saml:Assertion>");
const RESPONSE: (&str, &str) = ("<samlp:Response ", "</samlp:Response>");

/// The evil twin of an element's text: another ID, the victim's identity.
fn evil(text: &str, id: &str, evil_id: &str) -> String {
    text.replace(&format!("ID=\"{id}\""), &format!("ID=\"{evil_id}\""))
        .replace("alice@example.com", EVIL)
}

pub(super) fn response_signed() -> String {
    let mut spec = ResponseSpec::new(NOW);
    spec.sign_response = true;
    spec.sign_assertion = false;
    spec.signed()
}

pub(super) fn assertion_signed() -> String {
    ResponseSpec::new(NOW).signed()
}

/// The honest base is accepted, the attack is refused with `expected`, and `xmlsec1
/// --verify` (the signature alone) says `crypto_valid` of the attack.
fn refused(attack: &str, crypto_valid_to_xmlsec1: bool, expected: impl Fn(&SamlError) -> bool) {
    assert!(
        attack.contains(EVIL),
        "the attack carries the evil identity"
    );
    assert_eq!(
        xmlsec1_verify(attack, &idp().cert_pem),
        crypto_valid_to_xmlsec1,
        "xmlsec1's verdict on the signature of\n{attack}"
    );
    match check(attack) {
        Err(e) if expected(&e) => {}
        other => panic!("expected refusal, got {other:?}\n{attack}"),
    }
}

/// The attack `build` makes is refused as `expected` says (and `xmlsec1` finds its
/// signature valid or not as `crypto_valid_to_xmlsec1` says), the honest bases accepted.
fn refused_beside_the_honest(
    build: fn() -> String,
    crypto_valid_to_xmlsec1: bool,
    expected: impl Fn(&SamlError) -> bool,
) {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    refused(&build(), crypto_valid_to_xmlsec1, expected);
}

fn honest_bases_are_accepted() {
    for xml in [response_signed(), assertion_signed()] {
        let v = check(&xml).expect("the honest base is accepted");
        assert_eq!(
            v.name_id.map(|n| n.value).as_deref(),
            Some("alice@example.com")
        );
    }
}

/// XSW1: the signed Response is copied (without its signature) into its own
/// `ds:Signature`; the root becomes an evil Response with an evil assertion.
pub(super) fn xsw1() -> String {
    let signed = response_signed();
    let response = cut(&signed, RESPONSE.0, RESPONSE.1);
    let signature = cut(response, SIG.0, SIG.1);
    let original = without(response, SIG.0, SIG.1);
    let evil_root = evil(
        &evil(&original, "_resp1", "_evil_resp"),
        "_assert1",
        "_evil",
    );
    let wrapped_sig = before_last(signature, "</ds:Signature>", &original);
    after_first(&evil_root, "</saml:Issuer>", &wrapped_sig)
}

#[test]
fn xsw1_response_copy_inside_the_signature() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let attack = xsw1();
    // The enveloped-signature transform removes the whole ds:Signature subtree, copy
    // included, so the digest no longer matches for either verifier.
    refused(&attack, false, |e| {
        matches!(e, SamlError::UnsupportedSignature(_))
    });
}

/// XSW2: the signed Response copy sits before the signature, as its sibling (a detached
/// signature); the root is the evil Response.
pub(super) fn xsw2() -> String {
    let signed = response_signed();
    let response = cut(&signed, RESPONSE.0, RESPONSE.1);
    let signature = cut(response, SIG.0, SIG.1);
    let original = without(response, SIG.0, SIG.1);
    let evil_root = evil(
        &evil(&original, "_resp1", "_evil_resp"),
        "_assert1",
        "_evil",
    );
    after_first(
        &evil_root,
        "</saml:Issuer>",
        &format!("{original}{signature}"),
    )
}

#[test]
fn xsw2_response_copy_beside_the_signature() {
    refused_beside_the_honest(xsw2, true, |e| matches!(e, SamlError::SignatureWrapping(_)));
}

/// XSW3: an evil unsigned assertion is inserted before the signed one.
pub(super) fn xsw3() -> String {
    let signed = assertion_signed();
    let original = cut(&signed, ASSERTION.0, ASSERTION.1);
    let evil_assertion = evil(&without(original, SIG.0, SIG.1), "_assert1", "_evil");
    signed.replacen(original, &format!("{evil_assertion}{original}"), 1)
}

#[test]
fn xsw3_evil_assertion_before_the_signed_one() {
    refused_beside_the_honest(xsw3, true, |e| matches!(e, SamlError::AssertionCount(_)));
}

/// XSW4: the signed assertion is moved inside the evil one.
pub(super) fn xsw4() -> String {
    let signed = assertion_signed();
    let original = cut(&signed, ASSERTION.0, ASSERTION.1);
    let evil_assertion = evil(&without(original, SIG.0, SIG.1), "_assert1", "_evil");
    let wrapper = before_last(&evil_assertion, "</saml:Assertion>", original);
    signed.replacen(original, &wrapper, 1)
}

#[test]
fn xsw4_signed_assertion_inside_the_evil_one() {
    refused_beside_the_honest(xsw4, true, |e| matches!(e, SamlError::SignatureWrapping(_)));
}

/// XSW5: the evil assertion keeps the signature; an unsigned copy of the original is
/// appended to the Response for the reference to find.
pub(super) fn xsw5() -> String {
    let signed = assertion_signed();
    let original = cut(&signed, ASSERTION.0, ASSERTION.1);
    let copy = without(original, SIG.0, SIG.1);
    let evil_signed = evil(original, "_assert1", "_evil");
    before_last(
        &signed.replacen(original, &evil_signed, 1),
        "</samlp:Response>",
        &copy,
    )
}

#[test]
fn xsw5_signature_in_the_evil_assertion_copy_at_the_end() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let attack = xsw5();
    // bergshamra's own position check (strict mode) stops this one before the node rule
    // would: the reference target is neither an ancestor nor a sibling of the signature.
    refused(
        &attack,
        true,
        |e| matches!(e, SamlError::SignatureInvalid(reason) if reason.contains("XSW")),
    );
}

/// XSW6: the evil assertion keeps the signature, and the original's copy sits inside it.
pub(super) fn xsw6() -> String {
    let signed = assertion_signed();
    let original = cut(&signed, ASSERTION.0, ASSERTION.1);
    let copy = without(original, SIG.0, SIG.1);
    let evil_signed = evil(original, "_assert1", "_evil");
    let evil_wrapping = before_last(&evil_signed, "</ds:Signature>", &copy);
    signed.replacen(original, &evil_wrapping, 1)
}

#[test]
fn xsw6_original_copy_inside_the_evil_assertions_signature() {
    refused_beside_the_honest(xsw6, false, |e| {
        matches!(e, SamlError::UnsupportedSignature(_))
    });
}

/// XSW7: the signed assertion hides in `samlp:Extensions` (schema-lax content); the evil
/// assertion takes its place.
pub(super) fn xsw7() -> String {
    let signed = assertion_signed();
    let original = cut(&signed, ASSERTION.0, ASSERTION.1);
    let evil_assertion = evil(&without(original, SIG.0, SIG.1), "_assert1", "_evil");
    let swapped = signed.replacen(original, &evil_assertion, 1);
    after_first(
        &swapped,
        "</saml:Issuer>",
        &format!("<samlp:Extensions>{original}</samlp:Extensions>"),
    )
}

#[test]
fn xsw7_signed_assertion_in_extensions() {
    refused_beside_the_honest(xsw7, true, |e| matches!(e, SamlError::SignatureWrapping(_)));
}

/// XSW8: the evil assertion keeps the signature, with the original's copy in a
/// `ds:Object` inside it.
pub(super) fn xsw8() -> String {
    let signed = assertion_signed();
    let original = cut(&signed, ASSERTION.0, ASSERTION.1);
    let copy = without(original, SIG.0, SIG.1);
    let evil_signed = evil(original, "_assert1", "_evil");
    let evil_wrapping = before_last(
        &evil_signed,
        "</ds:Signature>",
        &format!("<ds:Object>{copy}</ds:Object>"),
    );
    signed.replacen(original, &evil_wrapping, 1)
}

#[test]
fn xsw8_original_copy_in_a_signature_object() {
    refused_beside_the_honest(xsw8, false, |e| {
        matches!(e, SamlError::UnsupportedSignature(_))
    });
}

pub(super) fn sibling_of_signed_assertion() -> String {
    let signed = assertion_signed();
    let original = cut(&signed, ASSERTION.0, ASSERTION.1);
    let evil_assertion = evil(&without(original, SIG.0, SIG.1), "_assert1", "_evil");
    signed.replacen(original, &format!("{original}{evil_assertion}"), 1)
}

#[test]
fn unsigned_assertion_beside_a_signed_one() {
    refused_beside_the_honest(sibling_of_signed_assertion, true, |e| {
        matches!(e, SamlError::AssertionCount(_))
    });
}

/// An evil unsigned Response whose unsigned assertion sits beside the IdP's signed
/// Response (nested as a sibling).
pub(super) fn sibling_of_signed_response() -> String {
    let signed = response_signed();
    let response = cut(&signed, RESPONSE.0, RESPONSE.1);
    let evil_root = evil(
        &evil(&without(response, SIG.0, SIG.1), "_resp1", "_evil_resp"),
        "_assert1",
        "_evil",
    );
    before_last(&evil_root, "</samlp:Response>", response)
}

#[test]
fn unsigned_assertion_beside_a_signed_response() {
    refused_beside_the_honest(sibling_of_signed_response, true, |e| {
        matches!(e, SamlError::SignatureWrapping(_))
    });
}

/// An assertion in another namespace named `Assertion` is not a SAML assertion: it is
/// neither read nor counted, and the signed one is what comes back.
#[test]
fn lookalike_assertion_in_another_namespace_is_not_read() {
    if !saml_sign::available() {
        return;
    }
    let signed = assertion_signed();
    let original = cut(&signed, ASSERTION.0, ASSERTION.1);
    let lookalike = evil(&without(original, SIG.0, SIG.1), "_assert1", "_evil").replace(
        "urn:oasis:names:tc:SAML:2.0:assertion",
        "urn:oasis:names:tc:SAML:2.0:assertion:evil",
    );
    let attack = signed.replacen(original, &format!("{lookalike}{original}"), 1);
    assert!(attack.contains(EVIL));
    let v = check(&attack).expect("the signed assertion is read");
    assert_eq!(
        v.name_id.map(|n| n.value).as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(v.attributes.get("groups").map(Vec::len), Some(2));
}

#[test]
fn signature_by_a_key_not_in_metadata_is_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    for key_info in [false, true] {
        let mut spec = ResponseSpec::new(NOW);
        spec.signer = attacker();
        spec.key_info = key_info;
        spec.name_id = Some((
            EVIL.into(),
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        ));
        let xml = spec.signed();
        // A genuine signature, by the attacker's key.
        assert!(crypto_valid(&xml, &[attacker().cert_der.clone()]));
        assert!(!crypto_valid(&xml, &metadata()));
        match check(&xml) {
            Err(SamlError::SignatureInvalid(_)) => {}
            other => panic!("key_info={key_info}: {other:?}"),
        }
    }
}

/// The attacker signs with their own key and embeds their certificate in `KeyInfo`, and
/// also tries naming the IdP's certificate there: KeyInfo never supplies a key.
#[test]
fn embedded_key_info_certificate_is_never_trusted() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let mut spec = ResponseSpec::new(NOW);
    spec.signer = attacker();
    spec.name_id = Some((
        EVIL.into(),
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
    ));
    let xml = spec.signed();
    let attacker_cert = attacker()
        .cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    assert!(
        xml.replace(['\n', '\r'], "").contains(&attacker_cert),
        "the attacker's cert is embedded"
    );
    assert!(matches!(check(&xml), Err(SamlError::SignatureInvalid(_))));
    // The same with the IdP's certificate put in KeyInfo as a lie.
    let idp_cert = idp()
        .cert_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect::<String>();
    let cert_span = span(&xml, "<ds:X509Certificate>", "</ds:X509Certificate>");
    let lying = format!(
        "{}<ds:X509Certificate>{idp_cert}</ds:X509Certificate>{}",
        &xml[..cert_span.start],
        &xml[cert_span.end..]
    );
    assert!(matches!(check(&lying), Err(SamlError::SignatureInvalid(_))));
}

/// The attacker owns `admin@example.com.evil.com` at the IdP and gets a validly signed
/// NameID split by a comment: a reader of the first text node would see the victim.
#[test]
fn comment_injection_in_name_id_is_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let mut spec = ResponseSpec::new(NOW);
    spec.name_id_raw = Some("admin@example.com<!---->.evil.com".into());
    let xml = spec.signed();
    assert!(
        crypto_valid(&xml, &metadata()),
        "the IdP's signature is valid"
    );
    assert!(xmlsec1_verify(&xml, &idp().cert_pem));
    assert_eq!(check(&xml), Err(SamlError::MixedContent("NameID")));
}

#[test]
fn doctype_and_billion_laughs_are_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let signed = assertion_signed();
    let laughs = r#"<!DOCTYPE samlp:Response [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;"><!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;"><!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;"><!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;"><!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>"#;
    let with_dtd = after_first(&signed, "?>", laughs).replacen("_session1", "&lol9;", 1);
    assert!(with_dtd.contains("&lol9;"));
    assert_eq!(within(move || check(&with_dtd)), Err(SamlError::Dtd));
    // An external entity (XXE) the same way.
    let xxe = after_first(
        &signed,
        "?>",
        r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>"#,
    )
    .replacen("_session1", "&x;", 1);
    assert_eq!(check(&xxe), Err(SamlError::Dtd));
}

pub(super) fn signed_with(change: impl FnOnce(&mut ResponseSpec)) -> String {
    let mut spec = ResponseSpec::new(NOW);
    change(&mut spec);
    spec.signed()
}

#[test]
fn wrong_audience_destination_recipient_issuer_are_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let other = "https://other-sp.example.test/acs";
    assert_eq!(
        check(&signed_with(
            |s| s.audience = "urn:amazon:cognito:sp:other".into()
        )),
        Err(SamlError::Audience)
    );
    assert_eq!(
        check(&signed_with(|s| s.destination = Some(other.into()))),
        Err(SamlError::Destination {
            found: other.into()
        })
    );
    assert_eq!(
        check(&signed_with(|s| s.recipient = other.into())),
        Err(SamlError::Recipient {
            found: other.into()
        })
    );
    let evil_idp = "https://evil-idp.example.test/";
    assert_eq!(
        check(&signed_with(|s| s.assertion_issuer = evil_idp.into())),
        Err(SamlError::Issuer {
            found: evil_idp.into()
        })
    );
    assert_eq!(
        check(&signed_with(|s| s.response_issuer = Some(evil_idp.into()))),
        Err(SamlError::Issuer {
            found: evil_idp.into()
        })
    );
    // Without a Destination or a Response Issuer (both optional when only the Assertion
    // is signed) it is fine.
    check(&signed_with(|s| {
        s.destination = None;
        s.response_issuer = None;
    }))
    .expect("optional Response fields");
    // A signed Response must carry its Destination (SAML Bindings 2.0 section 3.5.5.2).
    assert_eq!(
        check(&signed_with(|s| {
            s.destination = None;
            s.sign_response = true;
        })),
        Err(SamlError::Missing("Destination of a signed Response"))
    );
    // The checked values are the flow's: the same response for another SP is refused.
    let certs = metadata();
    let mut other_sp = expectations(&certs);
    other_sp.sp_entity_id = "urn:amazon:cognito:sp:other";
    assert_eq!(
        verify(&b64(&assertion_signed()), &other_sp),
        Err(SamlError::Audience)
    );
    let _ = (ACS, IDP, SP);
}

/// A response from IdP B (its own key and issuer) posted to a flow started with IdP A.
#[test]
fn response_from_another_idp_is_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let xml = signed_with(|s| {
        s.signer = attacker();
        s.response_issuer = Some("https://idp-b.example.test/".into());
        s.assertion_issuer = "https://idp-b.example.test/".into();
    });
    // Valid for IdP B's flow...
    let b_certs = vec![attacker().cert_der.clone()];
    let mut b = expectations(&b_certs);
    b.idp_entity_id = "https://idp-b.example.test/";
    verify(&b64(&xml), &b).expect("IdP B's own flow accepts it");
    // ...refused for IdP A's.
    assert!(matches!(check(&xml), Err(SamlError::SignatureInvalid(_))));
}

#[test]
fn expired_and_not_yet_valid_conditions_are_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    assert_eq!(
        check(&signed_with(|s| s.not_on_or_after = NOW - 121)),
        Err(SamlError::Expired("Conditions"))
    );
    assert_eq!(
        check(&signed_with(|s| s.scd_not_on_or_after = NOW - 121)),
        Err(SamlError::Expired("SubjectConfirmationData"))
    );
    assert_eq!(
        check(&signed_with(|s| s.not_before = NOW + 121)),
        Err(SamlError::NotYetValid("Conditions"))
    );
    // Within the 120 s skew both ways: accepted.
    let v = check(&signed_with(|s| {
        s.not_on_or_after = NOW - 119;
        s.not_before = NOW + 119;
    }))
    .expect("within the skew");
    assert_eq!(v.expires_at, NOW - 119);
}

#[test]
fn in_response_to_of_another_flow_is_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let other = "_another_flows_request";
    assert_eq!(
        check(&signed_with(|s| s.in_response_to = Some(other.into()))),
        Err(SamlError::InResponseTo {
            found: other.into()
        })
    );
    assert_eq!(
        check(&signed_with(|s| s.scd_in_response_to = Some(other.into()))),
        Err(SamlError::InResponseTo {
            found: other.into()
        })
    );
    // Unsolicited (IdP-initiated) responses carry none: refused until part 2.
    assert_eq!(
        check(&signed_with(|s| {
            s.in_response_to = None;
            s.scd_in_response_to = None;
        })),
        Err(SamlError::Missing("SubjectConfirmationData InResponseTo"))
    );
}

#[test]
fn sha1_is_refused_unless_allowed() {
    if !saml_sign::available() {
        return;
    }
    let xml = signed_with(|s| s.alg = Alg::RsaSha1);
    assert!(matches!(
        check(&xml),
        Err(SamlError::AlgorithmNotAllowed(_))
    ));
    let certs = metadata();
    let mut allowed = expectations(&certs);
    allowed.allow_sha1 = true;
    verify(&b64(&xml), &allowed).expect("SHA-1 accepted when the IdP opts in");
}

/// HMAC keyed with the IdP's public certificate (key confusion): refused by algorithm.
#[test]
fn hmac_signature_keyed_with_the_public_certificate_is_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let spec = ResponseSpec::new(NOW);
    let template = spec.template_with(
        "",
        &signature_template("#_assert1", Alg::RsaSha256, false).replace(
            Alg::RsaSha256.signature_uri(),
            "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256",
        ),
    );
    let xml = sign_hmac(
        &template.replace("alice@example.com", EVIL),
        &idp().cert_der,
    );
    assert!(matches!(
        check(&xml),
        Err(SamlError::AlgorithmNotAllowed(_))
    ));
}

#[test]
fn a_bogus_encrypted_assertion_is_refused_clearly() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let xml = signed_with(|s| {
        s.encrypted_assertion = true;
        s.sign_response = true;
        s.sign_assertion = false;
    });
    // No EncryptedKey: nothing to decrypt with (real ones: the `encrypted` module).
    let e = check(&xml).unwrap_err();
    assert!(
        matches!(&e, SamlError::EncryptionRefused(why) if why.contains("no EncryptedKey")),
        "{e:?}"
    );
}

#[test]
fn status_other_than_success_is_refused_with_its_code() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let mut spec = ResponseSpec::new(NOW);
    spec.status = "urn:oasis:names:tc:SAML:2.0:status:Responder".into();
    spec.status_message = Some("User cancelled".into());
    spec.include_assertion = false;
    assert_eq!(
        check(&spec.unsigned()),
        Err(SamlError::Status {
            code: "urn:oasis:names:tc:SAML:2.0:status:Responder".into(),
            sub_code: None,
            message: Some("User cancelled".into()),
        })
    );
}

#[test]
fn unsigned_response_is_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    assert_eq!(
        check(&ResponseSpec::new(NOW).unsigned()),
        Err(SamlError::Unsigned)
    );
}

#[test]
fn huge_and_deeply_nested_documents_are_refused_quickly() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let certs = metadata();
    let expect_static = move |b64: String| {
        let certs = certs.clone();
        within(move || verify(&b64, &expectations(&certs)))
    };
    // Over the cap: refused before decoding.
    let huge = "A".repeat(MAX_SAML_RESPONSE_CHARS + 1);
    assert_eq!(
        expect_static(huge),
        Err(SamlError::TooLarge {
            max: MAX_SAML_RESPONSE_CHARS
        })
    );
    // 20 MB would be refused the same way, without being read.
    assert_eq!(
        expect_static("A".repeat(20_000_000)),
        Err(SamlError::TooLarge {
            max: MAX_SAML_RESPONSE_CHARS
        })
    );
    // Deep nesting under the cap.
    let deep = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">{}{}</samlp:Response>"#,
        "<a>".repeat(8_000),
        "</a>".repeat(8_000)
    );
    assert!(b64(&deep).len() <= MAX_SAML_RESPONSE_CHARS);
    assert!(matches!(
        expect_static(b64(&deep)),
        Err(SamlError::TooDeep { .. })
    ));
    // Many nodes under the cap.
    let wide = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">{}</samlp:Response>"#,
        "<a/>".repeat(15_000)
    );
    assert!(b64(&wide).len() <= MAX_SAML_RESPONSE_CHARS);
    assert!(matches!(
        expect_static(b64(&wide)),
        Err(SamlError::TooManyNodes { .. })
    ));
}

/// A reference to a file (relative: `Cargo.toml` is in the test's working directory;
/// absolute; the whole document; XPointer) is refused before the engine could read it,
/// even when the IdP's key really signed it.
#[test]
fn reference_uri_to_a_file_is_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    assert!(std::path::Path::new("Cargo.toml").exists());
    let spec = ResponseSpec::new(NOW);
    // No transforms: the file's bytes are digested as they are (xmlsec1 reads it too).
    let signature = signature_template("Cargo.toml", Alg::RsaSha256, true);
    let transforms = span(&signature, "<ds:Transforms>", "</ds:Transforms>");
    let signature = format!(
        "{}{}",
        &signature[..transforms.start],
        &signature[transforms.end..]
    );
    let template = spec.template_with("", &signature);
    let xml = sign(&template, idp());
    assert_eq!(
        check(&xml),
        Err(SamlError::ReferenceUri("Cargo.toml".into()))
    );
    assert!(
        !crypto_valid(&xml, &metadata()),
        "the raw check never reads it either"
    );
    let signed = assertion_signed();
    for uri in [
        "/etc/passwd",
        "",
        "#xpointer(/)",
        "https://evil.example.test/x",
        "#1abc",
    ] {
        let xml = signed.replacen(r##"URI="#_assert1""##, &format!(r#"URI="{uri}""#), 1);
        assert!(
            matches!(check(&xml), Err(SamlError::ReferenceUri(_))),
            "{uri}: {:?}",
            check(&xml)
        );
    }
    // No URI at all means the whole document.
    let xml = signed.replacen(r##" URI="#_assert1""##, "", 1);
    assert!(matches!(check(&xml), Err(SamlError::ReferenceUri(_))));
}

/// The IdP signs a Response holding two assertions: refused (a reader might take either).
#[test]
fn two_assertions_are_refused_even_when_signed() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let spec = ResponseSpec::new(NOW);
    let unsigned = spec.unsigned();
    let assertion = cut(&unsigned, ASSERTION.0, ASSERTION.1);
    let second = evil(assertion, "_assert1", "_assert2");
    let two = unsigned.replacen(assertion, &format!("{assertion}{second}"), 1);
    let template = after_first(
        &two,
        "</saml:Issuer>",
        &signature_template("#_resp1", Alg::RsaSha256, true),
    );
    let xml = sign(&template, idp());
    assert!(crypto_valid(&xml, &metadata()));
    assert_eq!(
        check(&xml),
        Err(SamlError::AssertionCount("there are 2".into()))
    );
}

/// An element elsewhere carrying the signed assertion's ID: ambiguous, refused.
#[test]
fn duplicate_ids_are_refused() {
    if !saml_sign::available() {
        return;
    }
    honest_bases_are_accepted();
    let signed = assertion_signed();
    for attr in ["ID", "Id", "id", "xml:id", "AssertionID"] {
        let attack = after_first(
            &signed,
            "</saml:Issuer>",
            &format!(
                r#"<samlp:Extensions><x:Evil xmlns:x="urn:x" {attr}="_assert1"/></samlp:Extensions>"#
            ),
        );
        assert_eq!(
            check(&attack),
            Err(SamlError::DuplicateId("_assert1".into())),
            "{attr}"
        );
    }
}
