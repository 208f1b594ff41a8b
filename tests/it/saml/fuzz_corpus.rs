//! The fuzz corpus replayed under `cargo test` (no AFL): every file of `fuzz/corpus/` and
//! every saved finding under `fuzz/crashes/` goes through `response::verify` and
//! `metadata::parse` the way the AFL targets feed them (`fuzz/src/lib.rs`): the bytes
//! base64-encoded as an IdP posts them, and the bytes as the form value itself, with the
//! SP's test-only key for the encrypted seeds (so the decryptor is replayed too). Each must
//! answer, Ok or Err, without a panic or a hang.
//!
//! Names in the corpus say what must happen (see `fuzz/make_corpus.py`): `honest_*` is
//! accepted (so the corpus still matches the fixed expectations and certificate, and the
//! refusals below are not a broken setup), `found_*` and crash inputs may answer either
//! way, every other seed is an attack or malformed input and is refused.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cognate::federation::saml::metadata;
use cognate::federation::saml::response::{verify, Expectations, SamlError, VerifiedAssertion};

use super::{expectations, within};

fn fuzz_dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(sub)
}

/// The files of `dir` (none when it does not exist), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// The certificate the corpus was signed for (the test-only key of tests/fixtures/saml).
fn corpus_certificates() -> Vec<Vec<u8>> {
    let b64 = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/saml/cert_idp_a.b64"),
    )
    .expect("fixture certificate");
    let compact: String = b64.split_whitespace().collect();
    vec![STANDARD.decode(compact).expect("certificate base64")]
}

/// The SP's test-only private key the encrypted seeds are encrypted to.
fn corpus_decryption_keys() -> Vec<aws_lc_rs::rsa::PrivateDecryptingKey> {
    let pem = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/saml/test_only_sp.key.pem"),
    )
    .expect("fixture SP key");
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let der = STANDARD.decode(body).expect("SP key base64");
    vec![aws_lc_rs::rsa::PrivateDecryptingKey::from_pkcs8(&der).expect("SP key PKCS#8")]
}

type Answer = Result<VerifiedAssertion, SamlError>;

/// What the response target does with `data`: (base64 of the bytes, the bytes as the form
/// value when UTF-8).
fn replay_response(data: Vec<u8>) -> (Answer, Option<Answer>) {
    within(move || {
        let certs = corpus_certificates();
        let keys = corpus_decryption_keys();
        let expect = Expectations {
            decryption_keys: &keys,
            ..expectations(&certs)
        };
        let encoded = verify(&STANDARD.encode(&data), &expect);
        let raw = std::str::from_utf8(&data)
            .ok()
            .map(|text| verify(text, &expect));
        (encoded, raw)
    })
}

fn replay_metadata(
    data: Vec<u8>,
) -> Option<Result<metadata::IdpMetadata, metadata::MetadataError>> {
    within(move || std::str::from_utf8(&data).ok().map(metadata::parse))
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn fuzz_corpus_responses_answer_and_honest_seeds_verify() {
    let corpus = files(&fuzz_dir("corpus/response"));
    assert!(corpus.len() >= 10, "the seed corpus is there: {corpus:?}");
    let mut honest = 0;
    for path in &corpus {
        let file = name(path);
        let (encoded, raw) = replay_response(std::fs::read(path).expect("read seed"));
        if file.starts_with("honest_") {
            honest += 1;
            // A .b64 seed is the form value itself; an .xml seed is what gets encoded.
            let accepted = if file.ends_with(".b64") {
                raw.clone().expect("a .b64 seed is text")
            } else {
                encoded.clone()
            };
            let v = accepted.unwrap_or_else(|e| panic!("{file} is accepted: {e}"));
            assert_eq!(v.assertion_id, "_assert1", "{file}");
            assert_eq!(
                v.name_id.map(|n| n.value).as_deref(),
                Some("alice@example.com"),
                "{file}"
            );
        } else if !file.starts_with("found_") {
            assert!(encoded.is_err(), "{file} is refused, got {encoded:?}");
            assert!(
                raw.as_ref().is_none_or(|r| r.is_err()),
                "{file} is refused as a form value, got {raw:?}"
            );
        }
    }
    assert!(honest >= 3, "honest seeds in the corpus");
    // Inputs the fuzzer saved (`fuzz/run.sh` copies AFL's crashes and hangs there) answer
    // through both entry points, whichever target found them.
    for kind in ["response", "metadata"] {
        for path in files(&fuzz_dir(&format!("crashes/{kind}"))) {
            let data = std::fs::read(&path).expect("read finding");
            let _ = replay_response(data.clone());
            let _ = replay_metadata(data);
        }
    }
}

#[test]
fn fuzz_corpus_metadata_answers_and_honest_seeds_parse() {
    let corpus = files(&fuzz_dir("corpus/metadata"));
    assert!(corpus.len() >= 5, "the seed corpus is there: {corpus:?}");
    for path in &corpus {
        let file = name(path);
        let answer = replay_metadata(std::fs::read(path).expect("read seed"));
        if file.starts_with("honest_") {
            let md = answer
                .expect("an honest seed is UTF-8")
                .unwrap_or_else(|e| panic!("{file} parses: {e}"));
            assert!(!md.signing_certificates.is_empty(), "{file}");
        } else if !file.starts_with("found_") {
            assert!(
                answer.as_ref().is_none_or(|a| a.is_err()),
                "{file} is refused, got {answer:?}"
            );
        }
    }
}
