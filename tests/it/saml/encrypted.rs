//! Encrypted assertions (`EncryptedAssertion`): fixtures encrypted by `xmlsec1 --encrypt`
//! (an independent XML-Enc implementation) to the SP's test certificate, decrypted by
//! `response::verify` with the SP's PKCS#8 key. The honest cases (AES-GCM, AES-CBC only
//! when allowed, a Response signed over the ciphertext, the previous key during its grace
//! period), part 1's attacks repeated inside the encryption, the refused algorithms and
//! shapes, and malformed ciphertexts that all fail with the one decryption error.

use aws_lc_rs::rsa::PrivateDecryptingKey;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cognate::federation::saml::response::{verify, Expectations, SamlError, VerifiedAssertion};

use super::attacks::{xsw4, EVIL};
use super::{expectations, metadata, NOW};
use crate::support::saml_sign::{
    self, attacker, b64, encrypt_assertion, pkcs8_der, sp, sp_previous, Encryption, ResponseSpec,
    AES128_CBC, AES128_GCM, AES256_CBC, AES256_GCM, RSA_1_5, RSA_OAEP, RSA_OAEP_MGF1P,
};

fn key(party: &saml_sign::Party) -> PrivateDecryptingKey {
    PrivateDecryptingKey::from_pkcs8(&pkcs8_der(party)).expect("the SP key is PKCS#8 RSA")
}

/// Verify with the SP's active key (and `previous` when given), AES-CBC as `cbc` says.
fn check_with(
    xml: &str,
    keys: &[PrivateDecryptingKey],
    cbc: bool,
) -> Result<VerifiedAssertion, SamlError> {
    let certs = metadata();
    let expect = Expectations {
        decryption_keys: keys,
        allow_aes_cbc: cbc,
        ..expectations(&certs)
    };
    verify(&b64(xml), &expect)
}

fn check(xml: &str) -> Result<VerifiedAssertion, SamlError> {
    check_with(xml, &[key(sp())], false)
}

fn to_sp() -> Encryption {
    Encryption::gcm(&sp().cert_pem)
}

/// An honest response, its assertion signed then encrypted as `encryption` says.
fn encrypted(encryption: Encryption, change: impl FnOnce(&mut ResponseSpec)) -> String {
    let mut spec = ResponseSpec::new(NOW);
    spec.encrypt = Some(encryption);
    change(&mut spec);
    spec.signed()
}

fn honest() -> String {
    encrypted(to_sp(), |_| {})
}

fn accepted(v: Result<VerifiedAssertion, SamlError>) -> VerifiedAssertion {
    let v = v.expect("the honest encrypted response is accepted");
    assert_eq!(
        v.name_id.as_ref().map(|n| n.value.as_str()),
        Some("alice@example.com")
    );
    assert_eq!(v.assertion_id, "_assert1");
    v
}

#[test]
fn encrypted_assertions_are_decrypted_and_read_like_clear_ones() {
    if !saml_sign::available() {
        return;
    }
    let xml = honest();
    assert!(xml.contains("<saml:EncryptedAssertion>") && !xml.contains("<saml:Assertion"));
    let v = accepted(check(&xml));
    let clear = super::check(&ResponseSpec::new(NOW).signed()).unwrap();
    assert_eq!(v, clear, "the same fields as the same assertion in clear");

    // CRLF line ends (the parser's positions are those of the text as posted).
    accepted(check(&honest().replace('\n', "\r\n")));
    // AES-128-GCM.
    accepted(check(&encrypted(
        Encryption::with(AES128_GCM, RSA_OAEP_MGF1P, &sp().cert_pem),
        |_| {},
    )));
    // The XML-Enc 1.1 name of the same RSA-OAEP (SHA-1, MGF1-SHA1 by default; xmlsec1
    // 1.2 does not write it, so the fixture is renamed).
    let xml = honest().replacen(
        &format!(r#"Algorithm="{RSA_OAEP_MGF1P}"/>"#),
        &format!(r#"Algorithm="{RSA_OAEP_MGF1P}"></xenc:EncryptionMethod>"#),
        1,
    );
    let mgf1p = format!(r#"Algorithm="{RSA_OAEP_MGF1P}">"#);
    assert!(xml.contains(&mgf1p));
    let renamed = xml.replacen(&mgf1p, &format!(r#"Algorithm="{RSA_OAEP}">"#), 1);
    accepted(check(&renamed));
    // An OAEP digest other than MGF1's hash (SHA-256 with MGF1-SHA1) is refused by name:
    // aws-lc-rs offers OAEP with the same hash for both.
    let digest = r#"<ds:DigestMethod xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/>"#;
    let mixed = xml.replacen(&mgf1p, &format!("{mgf1p}{digest}"), 1);
    match check(&mixed) {
        Err(SamlError::EncryptionRefused(why)) => assert!(why.contains("same SHA"), "{why}"),
        other => panic!("OAEP SHA-256 with MGF1-SHA1: {other:?}"),
    }

    // A Response signed over the encrypted assertion (the assertion itself unsigned), as
    // Keycloak does by default.
    let response_signed = encrypted(to_sp(), |s| {
        s.sign_assertion = false;
        s.sign_response = true;
    });
    accepted(check(&response_signed));
    // ... and both signed.
    accepted(check(&encrypted(to_sp(), |s| s.sign_response = true)));
}

#[test]
fn aes_cbc_only_where_the_idp_is_allowed_it() {
    if !saml_sign::available() {
        return;
    }
    for content in [AES128_CBC, AES256_CBC] {
        let xml = encrypted(
            Encryption::with(content, RSA_OAEP_MGF1P, &sp().cert_pem),
            |_| {},
        );
        match check_with(&xml, &[key(sp())], false) {
            Err(SamlError::EncryptionRefused(why)) => {
                assert!(why.contains("allow_aes_cbc"), "{why}")
            }
            other => panic!("AES-CBC without the opt-in: {other:?}"),
        }
        accepted(check_with(&xml, &[key(sp())], true));
    }
    // GCM needs no opt-in and is still accepted with it.
    accepted(check_with(&honest(), &[key(sp())], true));

    // Under CBC (unauthenticated), what the plaintext is refused for is not told: a
    // bit-flipped ciphertext would otherwise be an oracle on its plaintext. The same
    // refusal under GCM names its reason; so does CBC under a Response signature, which
    // protects the ciphertext.
    let cbc = Encryption::with(AES256_CBC, RSA_OAEP_MGF1P, &sp().cert_pem);
    let wrong_audience = |s: &mut ResponseSpec| s.audience = "urn:amazon:cognito:sp:other".into();
    let xml = encrypted(cbc.clone(), wrong_audience);
    assert_eq!(
        check_with(&xml, &[key(sp())], true),
        Err(SamlError::Decryption)
    );
    let xml = encrypted(to_sp(), wrong_audience);
    assert_eq!(
        check_with(&xml, &[key(sp())], true),
        Err(SamlError::Audience)
    );
    let xml = encrypted(cbc.clone(), |s| {
        wrong_audience(s);
        s.sign_response = true;
    });
    assert_eq!(
        check_with(&xml, &[key(sp())], true),
        Err(SamlError::Audience)
    );
    accepted(check_with(
        &encrypted(cbc, |s| s.sign_response = true),
        &[key(sp())],
        true,
    ));
}

#[test]
fn the_previous_sp_key_still_decrypts_during_its_grace_period() {
    if !saml_sign::available() {
        return;
    }
    let to_previous = encrypted(Encryption::gcm(&sp_previous().cert_pem), |_| {});
    // Published (active + previous): decrypted, whatever the order of the keys.
    accepted(check_with(
        &to_previous,
        &[key(sp()), key(sp_previous())],
        false,
    ));
    accepted(check_with(
        &to_previous,
        &[key(sp_previous()), key(sp())],
        false,
    ));
    accepted(check_with(
        &honest(),
        &[key(sp()), key(sp_previous())],
        false,
    ));
    // Its grace period over (only the active key left): the one decryption error.
    assert_eq!(check(&to_previous), Err(SamlError::Decryption));
    // No key at all.
    assert_eq!(
        check_with(&honest(), &[], false),
        Err(SamlError::Decryption)
    );
}

/// Part 1's attacks, each inside an encrypted assertion (anyone can encrypt to the SP's
/// public certificate: the encryption proves nothing, the signature inside must).
#[test]
fn part_one_attacks_inside_an_encrypted_assertion_are_refused() {
    if !saml_sign::available() {
        return;
    }
    accepted(check(&honest()));

    let unsigned = encrypted(to_sp(), |s| {
        s.sign_assertion = false;
        s.sign_response = false;
    });
    assert_eq!(check(&unsigned), Err(SamlError::Unsigned));

    let attacker_signed = encrypted(to_sp(), |s| {
        s.signer = attacker();
        s.name_id = Some((
            EVIL.into(),
            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
        ));
    });
    assert!(
        matches!(check(&attacker_signed), Err(SamlError::SignatureInvalid(_))),
        "{:?}",
        check(&attacker_signed)
    );

    // An attacker's Response signature over an encrypted, unsigned assertion.
    let attacker_response = encrypted(to_sp(), |s| {
        s.signer = attacker();
        s.sign_assertion = false;
        s.sign_response = true;
    });
    assert!(matches!(
        check(&attacker_response),
        Err(SamlError::SignatureInvalid(_))
    ));

    // XSW4 (the IdP's signed assertion inside an evil one), then encrypted.
    let wrapped = encrypt_assertion(&xsw4(), &to_sp());
    assert!(
        !wrapped.contains(EVIL),
        "the evil identity is inside the ciphertext"
    );
    let e = check(&wrapped).unwrap_err();
    assert!(
        matches!(
            e,
            SamlError::SignatureWrapping(_) | SamlError::AssertionCount(_)
        ),
        "{e:?}"
    );

    // An evil unsigned assertion encrypted beside the IdP's signed clear one.
    let signed = ResponseSpec::new(NOW).signed();
    let mut evil_spec = ResponseSpec::new(NOW);
    evil_spec.assertion_id = "_evil".into();
    evil_spec.sign_assertion = false;
    evil_spec.name_id = Some((
        EVIL.into(),
        "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
    ));
    let evil_assertion = {
        let unsigned = evil_spec.unsigned();
        let start = unsigned.find("<saml:Assertion").unwrap();
        let end = unsigned.rfind("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
        unsigned[start..end].to_owned()
    };
    let beside = signed.replacen(
        "</samlp:Response>",
        &format!(
            "<saml:EncryptedAssertion>{}</saml:EncryptedAssertion></samlp:Response>",
            to_sp().encrypt(&evil_assertion)
        ),
        1,
    );
    assert!(matches!(check(&beside), Err(SamlError::AssertionCount(_))));

    // Comment injection in a NameID the IdP really signed.
    let commented = encrypted(to_sp(), |s| {
        s.name_id_raw = Some("admin@example.com<!---->.evil.com".into());
    });
    assert_eq!(check(&commented), Err(SamlError::MixedContent("NameID")));

    // Signed by the IdP for another SP.
    let other_audience = encrypted(to_sp(), |s| {
        s.audience = "urn:amazon:cognito:sp:other".into()
    });
    assert_eq!(check(&other_audience), Err(SamlError::Audience));

    // Response-level checks come before any decryption: a wrong Destination is refused
    // even with no key to decrypt with.
    let wrong_destination = encrypted(to_sp(), |s| {
        s.destination = Some("https://evil.example/acs".into())
    });
    assert!(matches!(
        check_with(&wrong_destination, &[], false),
        Err(SamlError::Destination { .. })
    ));
}

#[test]
fn rsa_1_5_key_transport_is_refused() {
    if !saml_sign::available() {
        return;
    }
    accepted(check(&honest()));
    for content in [AES256_GCM, AES128_CBC] {
        let xml = encrypted(Encryption::with(content, RSA_1_5, &sp().cert_pem), |_| {});
        match check_with(&xml, &[key(sp())], true) {
            Err(SamlError::EncryptionRefused(why)) => assert!(why.contains("RSA-1_5"), "{why}"),
            other => panic!("RSA-1_5: {other:?}"),
        }
    }
}

/// The base64 of the `n`th `CipherValue` (0: the EncryptedKey's, 1: the content's).
fn cipher_value(xml: &str, n: usize) -> (std::ops::Range<usize>, Vec<u8>) {
    const OPEN: &str = "<xenc:CipherValue>";
    let mut at = 0;
    for _ in 0..=n {
        at += xml[at..].find(OPEN).expect("a CipherValue") + OPEN.len();
    }
    let end = at + xml[at..].find("</xenc:CipherValue>").unwrap();
    let clean: String = xml[at..end].split_whitespace().collect();
    (at..end, STANDARD.decode(clean).unwrap())
}

fn with_cipher_value(xml: &str, n: usize, change: impl FnOnce(Vec<u8>) -> String) -> String {
    let (range, bytes) = cipher_value(xml, n);
    format!(
        "{}{}{}",
        &xml[..range.start],
        change(bytes),
        &xml[range.end..]
    )
}

#[test]
fn malformed_ciphertexts_all_fail_with_the_one_decryption_error() {
    if !saml_sign::available() {
        return;
    }
    let xml = honest();
    accepted(check(&xml));
    let cbc = encrypted(
        Encryption::with(AES256_CBC, RSA_OAEP_MGF1P, &sp().cert_pem),
        |_| {},
    );
    accepted(check_with(&cbc, &[key(sp())], true));
    let flip_last = |mut b: Vec<u8>| {
        let last = b.len() - 1;
        b[last] ^= 1;
        STANDARD.encode(b)
    };
    let flip_first = |mut b: Vec<u8>| {
        b[20] ^= 0x80;
        STANDARD.encode(b)
    };
    let cases: Vec<(&str, String, bool)> = vec![
        ("bad GCM tag", with_cipher_value(&xml, 1, flip_last), false),
        (
            "flipped GCM ciphertext",
            with_cipher_value(&xml, 1, flip_first),
            false,
        ),
        (
            "truncated content",
            with_cipher_value(&xml, 1, |b| STANDARD.encode(&b[..b.len() / 2])),
            false,
        ),
        (
            "content shorter than a nonce",
            with_cipher_value(&xml, 1, |_| "AAAA".into()),
            false,
        ),
        (
            "empty content",
            with_cipher_value(&xml, 1, |_| String::new()),
            false,
        ),
        (
            "garbage base64 content",
            with_cipher_value(&xml, 1, |_| "%%%not*base64".into()),
            false,
        ),
        (
            "garbage base64 key",
            with_cipher_value(&xml, 0, |_| "@@@@".into()),
            false,
        ),
        (
            "bad OAEP padding",
            with_cipher_value(&xml, 0, flip_last),
            false,
        ),
        (
            "truncated key",
            with_cipher_value(&xml, 0, |b| STANDARD.encode(&b[..b.len() - 1])),
            false,
        ),
        (
            "encrypted to another key",
            encrypted(Encryption::gcm(&attacker().cert_pem), |_| {}),
            false,
        ),
        (
            "bad CBC padding",
            with_cipher_value(&cbc, 1, flip_last),
            true,
        ),
        (
            "truncated CBC",
            with_cipher_value(&cbc, 1, |b| STANDARD.encode(&b[..b.len() - 5])),
            true,
        ),
    ];
    let mut messages = std::collections::BTreeSet::new();
    for (what, attack, cbc) in cases {
        let e = check_with(&attack, &[key(sp())], cbc).unwrap_err();
        assert_eq!(e, SamlError::Decryption, "{what}");
        messages.insert(e.to_string());
    }
    assert_eq!(messages.len(), 1, "{messages:?}");
}

#[test]
fn cipher_references_and_foreign_shapes_are_refused() {
    if !saml_sign::available() {
        return;
    }
    let xml = honest();
    accepted(check(&xml));
    let (range, _) = cipher_value(&xml, 1);
    let start = xml[..range.start].rfind("<xenc:CipherData>").unwrap();
    let end = range.end
        + xml[range.end..].find("</xenc:CipherData>").unwrap()
        + "</xenc:CipherData>".len();
    let reference = format!(
        r##"{}<xenc:CipherData><xenc:CipherReference URI="file:///etc/passwd"/></xenc:CipherData>{}"##,
        &xml[..start],
        &xml[end..]
    );
    match check(&reference) {
        Err(SamlError::EncryptionRefused(why)) => assert!(why.contains("CipherReference"), "{why}"),
        other => panic!("CipherReference: {other:?}"),
    }
    // Two encrypted assertions.
    let encrypted_part = {
        let s = xml.find("<saml:EncryptedAssertion>").unwrap();
        let e =
            xml.find("</saml:EncryptedAssertion>").unwrap() + "</saml:EncryptedAssertion>".len();
        xml[s..e].to_owned()
    };
    let twice = xml.replacen(
        &encrypted_part,
        &format!("{encrypted_part}{encrypted_part}"),
        1,
    );
    assert!(matches!(check(&twice), Err(SamlError::AssertionCount(_))));
    // An EncryptedID is still refused by name.
    let encrypted_id = xml.replacen(
        "<saml:EncryptedAssertion>",
        "<saml:EncryptedAssertion><saml:EncryptedID/>",
        1,
    );
    assert_eq!(
        check(&encrypted_id),
        Err(SamlError::EncryptedElement("EncryptedID"))
    );
}

/// The wrapping attacks of part 1, built around the IdP's signed response as in `attacks`,
/// with the whole attack (from its first Assertion to its last, when that is one element)
/// put inside one EncryptedAssertion to the SP: decrypting never turns a refused document
/// into an accepted one.
#[test]
fn every_wrapping_attack_of_part_one_is_refused_inside_an_encrypted_assertion() {
    use super::attacks::{
        sibling_of_signed_assertion, sibling_of_signed_response, xsw1, xsw2, xsw3, xsw5, xsw6,
        xsw7, xsw8,
    };
    if !saml_sign::available() {
        return;
    }
    accepted(check(&honest()));
    type Build = fn() -> String;
    let attacks: [(&str, Build); 11] = [
        ("XSW1", xsw1),
        ("XSW2", xsw2),
        ("XSW3", xsw3),
        ("XSW4", xsw4),
        ("XSW5", xsw5),
        ("XSW6", xsw6),
        ("XSW7", xsw7),
        ("XSW8", xsw8),
        (
            "an unsigned assertion beside a signed one",
            sibling_of_signed_assertion,
        ),
        (
            "an unsigned assertion beside a signed response",
            sibling_of_signed_response,
        ),
        (
            "the signed assertion itself",
            super::attacks::assertion_signed,
        ),
    ];
    let mut exercised = Vec::new();
    for (what, build) in attacks {
        let clear = build();
        // xmlsec1 encrypts one element: the attacks whose Assertions form one element
        // (one nested in another, or a single one) go in whole; those with two sibling
        // Assertions are the one-Assertion rule's, checked in clear in `attacks`.
        let (Some(start), Some(end)) = (
            clear.find("<saml:Assertion"),
            clear.rfind("</saml:Assertion>"),
        ) else {
            continue;
        };
        let span = &clear[start..end + "</saml:Assertion>".len()];
        let one_element = roxmltree::Document::parse(&format!(
            r#"<r xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">{span}</r>"#
        ))
        .is_ok_and(|d| d.root_element().children().filter(|n| n.is_element()).count() == 1);
        if !one_element {
            continue;
        }
        exercised.push(what);
        let wrapped = encrypt_assertion(&clear, &to_sp());
        let answer = check(&wrapped);
        if what == "the signed assertion itself" {
            // The control: the honest signed assertion, encrypted the same way, signs in.
            accepted(answer);
            continue;
        }
        match answer {
            Err(_) => {}
            Ok(v) => panic!(
                "{what} inside an encrypted assertion was accepted as {:?}",
                v.name_id
            ),
        }
    }
    // An EncryptedAssertion decrypts to one element: the variants that need two sibling
    // Assertions or a moved Response cannot be expressed inside one (and the decrypted
    // document meets the same one-Assertion and node rules as a clear one).
    assert_eq!(
        exercised,
        ["XSW4", "XSW6", "XSW8", "the signed assertion itself"],
        "the attacks encrypted"
    );
}
