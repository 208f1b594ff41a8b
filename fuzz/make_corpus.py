#!/usr/bin/env python3
"""Regenerate the seed corpus of the fuzz targets (fuzz/corpus/): SAML responses signed by
`xmlsec1 --sign` (the reference XML-DSig implementation, never Cognate's code) with the
test-only IdP key of tests/fixtures/saml (test_only_idp_a.key.pem, whose certificate the
targets and the replay test trust), the attack fixtures built from them, and the IdP
metadata fixtures. Needs xmlsec1 (Debian package `xmlsec1`). Run from anywhere:
    python3 fuzz/make_corpus.py
Names: `honest_*` must verify (the replay test asserts Ok), `found_*` are inputs the fuzzer
found (any answer but a panic), every other seed is an attack or a malformed input that
must be refused. The responses match the fixed expectations of fuzz/src/lib.rs (IdP, SP, ACS, _req1,
clock 1_800_000_000)."""

import base64
import datetime
import os
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIX = os.path.join(ROOT, "tests", "fixtures", "saml")
OUT = os.path.join(ROOT, "fuzz", "corpus")
NOW = 1_800_000_000
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SHA256 = ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256")
SHA512 = ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", "http://www.w3.org/2001/04/xmlenc#sha512")
SHA1 = ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1")
IDP_A = (os.path.join(FIX, "test_only_idp_a.key.pem"), os.path.join(FIX, "idp_a.cert.pem"))
IDP_B = (os.path.join(FIX, "test_only_idp_b.key.pem"), os.path.join(FIX, "idp_b.cert.pem"))
# The SP's test-only key pair: the targets decrypt with its key (test_only_sp.key.pem).
SP_CERT = os.path.join(FIX, "sp.cert.pem")
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
RSA_1_5 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"


def instant(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sig_template(uri, alg=SHA256, key_info=True):
    ki = "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo>" if key_info else ""
    return (
        '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>'
        '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>'
        f'<ds:SignatureMethod Algorithm="{alg[0]}"/><ds:Reference URI="{uri}"><ds:Transforms>'
        '<ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>'
        '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>'
        f'<ds:DigestMethod Algorithm="{alg[1]}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo>'
        f"<ds:SignatureValue/>{ki}</ds:Signature>"
    )


def assertion(sig="", aid="_assert1", name_id="alice@example.com", audience="urn:amazon:cognito:sp:pool",
              noa=NOW + 300):
    t = instant(NOW)
    return (
        f'<saml:Assertion xmlns:saml="{SAML}" xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="{aid}" Version="2.0" IssueInstant="{t}">\n'
        f"<saml:Issuer>https://idp.example.test/</saml:Issuer>{sig}\n"
        '<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">'
        f"{name_id}</saml:NameID>"
        '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
        f'<saml:SubjectConfirmationData NotOnOrAfter="{instant(noa)}" '
        'Recipient="https://sp.example.test/saml2/idpresponse" InResponseTo="_req1"/>'
        "</saml:SubjectConfirmation></saml:Subject>\n"
        f'<saml:Conditions NotBefore="{instant(NOW - 60)}" NotOnOrAfter="{instant(noa)}">'
        f"<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>"
        "</saml:Conditions>\n"
        f'<saml:AuthnStatement AuthnInstant="{t}" SessionIndex="_session1"><saml:AuthnContext>'
        "<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
        "</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>\n"
        '<saml:AttributeStatement><saml:Attribute Name="groups">'
        '<saml:AttributeValue xsi:type="xs:string">staff</saml:AttributeValue>'
        '<saml:AttributeValue xsi:type="xs:string">dev</saml:AttributeValue></saml:Attribute>'
        "</saml:AttributeStatement>\n</saml:Assertion>"
    )


def response(body, sig="", status="urn:oasis:names:tc:SAML:2.0:status:Success", message=""):
    t = instant(NOW)
    msg = f"<samlp:StatusMessage>{message}</samlp:StatusMessage>" if message else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<samlp:Response xmlns:samlp="{SAMLP}" xmlns:saml="{SAML}" ID="_resp1" Version="2.0" '
        f'IssueInstant="{t}" Destination="https://sp.example.test/saml2/idpresponse" InResponseTo="_req1">\n'
        f"<saml:Issuer>https://idp.example.test/</saml:Issuer>{sig}\n"
        f'<samlp:Status><samlp:StatusCode Value="{status}"/>{msg}</samlp:Status>\n{body}\n</samlp:Response>\n'
    )


def sign(template, key=IDP_A):
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.xml")
        dst = os.path.join(d, "out.xml")
        with open(src, "w") as f:
            f.write(template)
        subprocess.run(
            ["xmlsec1", "--sign", "--privkey-pem", f"{key[0]},{key[1]}",
             "--id-attr:ID", f"{SAMLP}:Response", "--id-attr:ID", f"{SAML}:Assertion",
             "--output", dst, src],
            check=True, capture_output=True)
        with open(dst) as f:
            return f.read()


def encrypt_assertion(xml, content=AES256_GCM, transport=RSA_OAEP_MGF1P):
    """`xml` with its Assertion replaced by an EncryptedAssertion made by `xmlsec1 --encrypt`
    to the SP's test certificate."""
    start = xml.index("<saml:Assertion ")
    end = xml.index("</saml:Assertion>") + len("</saml:Assertion>")
    template = (
        '<xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" '
        'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" Type="http://www.w3.org/2001/04/xmlenc#Element">'
        f'<xenc:EncryptionMethod Algorithm="{content}"/><ds:KeyInfo><xenc:EncryptedKey>'
        f'<xenc:EncryptionMethod Algorithm="{transport}"/><xenc:CipherData><xenc:CipherValue/>'
        '</xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue/>'
        '</xenc:CipherData></xenc:EncryptedData>')
    with tempfile.TemporaryDirectory() as d:
        paths = [os.path.join(d, n) for n in ("t.xml", "data.xml", "out.xml")]
        for path, text in zip(paths, (template, xml[start:end])):
            with open(path, "w") as f:
                f.write(text)
        session = "aes-128" if "128" in content else "aes-256"
        subprocess.run(
            ["xmlsec1", "--encrypt", "--pubkey-cert-pem", SP_CERT, "--session-key", session,
             "--xml-data", paths[1], "--output", paths[2], paths[0]],
            check=True, capture_output=True)
        with open(paths[2]) as f:
            encrypted = f.read()
    data = encrypted[encrypted.index("<xenc:EncryptedData"):].strip()
    return f"{xml[:start]}<saml:EncryptedAssertion>{data}</saml:EncryptedAssertion>{xml[end:]}"


def write(kind, name, text):
    path = os.path.join(OUT, kind, name)
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)


def main():
    for kind in ("response", "metadata"):
        shutil.rmtree(os.path.join(OUT, kind), ignore_errors=True)
        os.makedirs(os.path.join(OUT, kind))
    mark = "<!--response-signature-->"

    honest = sign(response(assertion(sig_template("#_assert1"))))
    write("response", "honest_assertion_signed.xml", honest)
    write("response", "honest_assertion_signed.b64",
          "\r\n".join(base64.b64encode(honest.encode()).decode()[i:i + 76]
                      for i in range(0, len(base64.b64encode(honest.encode())), 76)))
    write("response", "honest_response_signed.xml",
          sign(response(assertion(), sig=sig_template("#_resp1"))))
    both = sign(response(assertion(sig_template("#_assert1", SHA512, False)), sig=mark))
    both = sign(both.replace(mark, sig_template("#_resp1", SHA512, False)))
    write("response", "honest_both_signed_sha512_no_key_info.xml", both)

    write("response", "unsigned.xml", response(assertion()))
    write("response", "signed_by_another_key.xml",
          sign(response(assertion(sig_template("#_assert1"))), IDP_B))
    write("response", "sha1_refused.xml", sign(response(assertion(sig_template("#_assert1", SHA1)))))
    write("response", "tampered_after_signing.xml", honest.replace(">alice@example.com<", ">admin@example.com<"))
    write("response", "wrong_audience_signed.xml",
          sign(response(assertion(sig_template("#_assert1"), audience="urn:other"))))
    write("response", "expired_signed.xml",
          sign(response(assertion(sig_template("#_assert1"), noa=NOW - 600))))
    write("response", "comment_injection_signed.xml",
          sign(response(assertion(sig_template("#_assert1"), name_id="admin@example.com<!---->.evil.com"))))

    # Signature wrapping (Somorovsky et al. 2012): an evil assertion where an SP reads, the
    # signed original kept where its signature still verifies.
    start = honest.index("<saml:Assertion ")
    end = honest.index("</saml:Assertion>") + len("</saml:Assertion>")
    signed_assertion = honest[start:end]
    evil = assertion(aid="_evil", name_id="admin@example.com")
    write("response", "xsw_evil_sibling_first.xml", honest[:start] + evil + signed_assertion + honest[end:])
    write("response", "xsw_original_in_extensions.xml",
          honest[:start] + evil + honest[end:].replace(
              "</samlp:Response>",
              f"<samlp:Extensions>{signed_assertion}</samlp:Extensions></samlp:Response>"))
    evil_holding = assertion(aid="_assert1", name_id="admin@example.com").replace(
        "</saml:Assertion>", f"<saml:Advice>{signed_assertion}</saml:Advice></saml:Assertion>")
    write("response", "xsw_original_in_advice_duplicate_id.xml", honest[:start] + evil_holding + honest[end:])
    write("response", "reference_uri_external.xml", response(assertion(sig_template("Cargo.toml"))))
    write("response", "reference_uri_empty.xml", sign(response(assertion(sig_template("")))))
    write("response", "encrypted_assertion.xml", response(
        '<saml:EncryptedAssertion><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" '
        'Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod '
        'Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/><xenc:CipherData><xenc:CipherValue>'
        "AAAA</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>"))
    # Encrypted to the SP's test key: the honest one decrypts and verifies; CBC is not
    # allowed by the targets' expectations, RSA-1_5 never; a flipped ciphertext byte fails.
    encrypted = encrypt_assertion(honest)
    write("response", "honest_encrypted_gcm.xml", encrypted)
    write("response", "encrypted_cbc_not_allowed.xml", encrypt_assertion(honest, AES256_CBC))
    write("response", "encrypted_rsa_1_5.xml", encrypt_assertion(honest, transport=RSA_1_5))
    values = encrypted.split("<xenc:CipherValue>")
    last = values[-1]
    flipped = ("B" if last[0] == "A" else "A") + last[1:]
    write("response", "encrypted_ciphertext_flipped.xml", "<xenc:CipherValue>".join(values[:-1] + [flipped]))
    write("response", "status_responder.xml", response(
        "", status="urn:oasis:names:tc:SAML:2.0:status:Responder", message="no such user"))
    write("response", "dtd_laughs.xml",
          '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aa"><!ENTITY b "&a;&a;">]>'
          f'<samlp:Response xmlns:samlp="{SAMLP}">&b;</samlp:Response>')
    write("response", "not_utf8.bin", b"<samlp:Response \xff\xfe/>")

    for name in ("okta.xml", "google.xml", "keycloak.xml", "shibboleth.xml", "entra.xml"):
        shutil.copy(os.path.join(FIX, name), os.path.join(OUT, "metadata", "honest_" + name))
    cert = "".join(open(os.path.join(FIX, "cert_idp_a.b64")).read().split())
    md = "urn:oasis:names:tc:SAML:2.0:metadata"
    entity = (
        f'<md:EntityDescriptor xmlns:md="{md}" entityID="{{eid}}"><md:IDPSSODescriptor '
        f'protocolSupportEnumeration="{SAMLP}" WantAuthnRequestsSigned="true">'
        '<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#">'
        f"<ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        '</md:KeyDescriptor><md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" '
        'Location="https://idp.example.test/slo"/><md:SingleSignOnService '
        'Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.test/sso"/>'
        "</md:IDPSSODescriptor></md:EntityDescriptor>")
    write("metadata", "honest_minimal.xml", entity.format(eid="https://idp.example.test/"))
    write("metadata", "entities_two_idps.xml",
          f'<md:EntitiesDescriptor xmlns:md="{md}">' + entity.format(eid="https://a/")
          + entity.format(eid="https://b/") + "</md:EntitiesDescriptor>")
    write("metadata", "doctype.xml", '<!DOCTYPE x [<!ENTITY e "e">]><md:EntityDescriptor xmlns:md="'
          + md + '" entityID="&e;"/>')
    write("metadata", "bad_certificate.xml",
          entity.format(eid="https://idp.example.test/").replace(cert, cert[:400]))


if __name__ == "__main__":
    main()
