//! Unit tests of [`super`].

use super::codes::{hash_code, StoredCode};
use super::*;

#[test]
fn codes_are_six_digits_and_spread() {
    let mut seen = std::collections::HashSet::new();
    for _ in 0..200 {
        let code = generate_code();
        assert_eq!(code.len(), 6);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        seen.insert(code);
    }
    assert!(seen.len() > 190);
}

#[test]
fn debug_of_a_stored_code_hides_its_salt_and_hash() {
    let stored = StoredCode {
        salt: "salt-value".into(),
        hash: Some(hash_code("salt-value", "123456")),
        expires_at: 1,
        destination: Some("alice@example.com".into()),
    };
    let text = format!("{stored:?}");
    assert!(!text.contains("salt-value"), "{text}");
    assert!(!text.contains(&hash_code("salt-value", "123456")), "{text}");
    assert!(text.contains("alice@example.com"), "{text}");
}

#[test]
fn masks() {
    assert_eq!(mask_email("alice@example.com"), "a***@e***.com");
    assert_eq!(mask_email("Bob@Mail.Example.CO.UK"), "b***@m***.uk");
    assert_eq!(mask_email("nobody"), "***");
}

#[test]
fn messages() {
    let e: AccountError = DirectoryError::UserDisabled.into();
    assert_eq!(e.to_string(), "User is disabled.");
    let e = AccountError::param("email", "must be an email address");
    assert_eq!(
        e.to_string(),
        "Invalid value for email: must be an email address"
    );
}
