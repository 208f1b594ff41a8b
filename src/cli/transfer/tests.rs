//! Unit tests of [`super`].

use super::*;

#[test]
fn a_record_keeps_its_hash_in_the_file_but_not_in_debug() {
    let line = r#"{"username":"carol","sub":"s-1","status":"CONFIRMED","password_hash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaC1kaWdlc3QtdmFsdWU"}"#;
    let record: UserRecord = serde_json::from_str(line).unwrap();
    let text = format!("{record:?}");
    assert!(!text.contains("aGFzaC1kaWdlc3QtdmFsdWU"), "{text}");
    assert!(text.contains("carol"), "{text}");
    let written = serde_json::to_string(&record).unwrap();
    assert!(
        written.contains(r#""password_hash":"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaC1kaWdlc3QtdmFsdWU""#),
        "{written}"
    );
}
