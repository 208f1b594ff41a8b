//! What the fuzz targets feed to Cognate, shared by `fuzz_targets/*.rs`. The same adapter
//! is repeated in the replay test (`tests/it/saml/fuzz_corpus.rs`), which runs every saved
//! input under `cargo test` without AFL.
//!
//! The expectations are fixed and match the seed corpus (`make_corpus.sh`): the IdP
//! certificate of `tests/fixtures/saml/cert_idp_a.b64` (its test-only key signed the
//! seeds), the tests' IdP, SP, ACS URL, request id and clock.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cognate::federation::saml::{metadata, response};

pub const NOW: i64 = 1_800_000_000;
pub const IDP: &str = "https://idp.example.test/";
pub const SP: &str = "urn:amazon:cognito:sp:pool";
pub const ACS: &str = "https://sp.example.test/saml2/idpresponse";
pub const REQUEST: &str = "_req1";

const CERT_B64: &str = include_str!("../../tests/fixtures/saml/cert_idp_a.b64");
const SP_KEY_PEM: &str = include_str!("../../tests/fixtures/saml/test_only_sp.key.pem");

/// The SP's test-only private key, which the encrypted seeds are encrypted to: with it the
/// target runs the decryptor too.
pub fn decryption_keys() -> Vec<aws_lc_rs::rsa::PrivateDecryptingKey> {
    let body: String = SP_KEY_PEM
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = STANDARD.decode(body).expect("the fixture SP key is base64");
    vec![aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(&der).expect("the fixture SP key")]
}

/// The IdP's metadata certificate (DER).
pub fn certificates() -> Vec<Vec<u8>> {
    let compact: String = CERT_B64.split_whitespace().collect();
    vec![STANDARD
        .decode(compact)
        .expect("the fixture certificate is base64")]
}

/// One input for `response::verify`: the bytes base64-encoded (the raw XML an IdP would
/// encode), and the bytes as the posted form value when they are UTF-8 (exercising the
/// base64 decoding itself). Each call must answer Ok or Err: a panic is a finding, and
/// AFL's timeout finds hangs.
pub fn response(
    data: &[u8],
    certificates: &[Vec<u8>],
    decryption_keys: &[aws_lc_rs::rsa::PrivateDecryptingKey],
) {
    let expect = response::Expectations {
        idp_entity_id: IDP,
        certificates,
        allow_sha1: false,
        sp_entity_id: SP,
        acs_url: ACS,
        in_response_to: Some(REQUEST),
        now: NOW,
        skew_secs: 120,
        decryption_keys,
        allow_aes_cbc: false,
    };
    let _ = response::verify(&STANDARD.encode(data), &expect);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = response::verify(text, &expect);
    }
}

/// One input for `metadata::parse` (UTF-8 only: the caller reads a `String`).
pub fn metadata(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = metadata::parse(text);
    }
}
