//! User attributes: Cognito's standard set, `custom:` attributes, and value checks.

use std::collections::BTreeMap;

use super::model::{AttributeDataType, UserPool};

/// OpenID Connect standard claims that Cognito keeps as standard attributes
/// (OIDC Core section 5.1), plus the two `*_verified` flags.
pub const STANDARD_ATTRIBUTES: &[&str] = &[
    "address",
    "birthdate",
    "email",
    "email_verified",
    "family_name",
    "gender",
    "given_name",
    "locale",
    "middle_name",
    "name",
    "nickname",
    "phone_number",
    "phone_number_verified",
    "picture",
    "preferred_username",
    "profile",
    "updated_at",
    "website",
    "zoneinfo",
];

/// Cognito caps attribute values at 2048 characters.
pub const MAX_ATTRIBUTE_LEN: usize = 2048;

/// Why an attribute was refused: names the attribute and the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {reason}")]
pub struct AttributeError {
    pub name: String,
    pub reason: String,
}

fn err(name: &str, reason: impl Into<String>) -> AttributeError {
    AttributeError {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// Whether `c` is a control character refused in attribute values: C0 (U+0000 to U+001F)
/// and DEL (U+007F). A tab is text; a line break is text only in `address`, whose OIDC
/// `formatted` form is several lines (OIDC Core section 5.1.1). NUL matters most:
/// PostgreSQL refuses it in TEXT and JSONB, so an accepted one would fail every later write
/// of the user.
fn refused_control(name: &str, c: char) -> bool {
    match c {
        '\t' => false,
        '\n' | '\r' => name != "address",
        c => c <= '\u{1f}' || c == '\u{7f}',
    }
}

/// Checks one attribute's name and value against the pool's schema.
pub fn validate_attribute(pool: &UserPool, name: &str, value: &str) -> Result<(), AttributeError> {
    if value.chars().count() > MAX_ATTRIBUTE_LEN {
        return Err(err(
            name,
            format!("value is longer than {MAX_ATTRIBUTE_LEN} characters"),
        ));
    }
    if value.chars().any(|c| refused_control(name, c)) {
        return Err(err(name, "must not contain control characters"));
    }
    if let Some(custom) = name.strip_prefix("custom:") {
        let Some(def) = pool.custom_attributes.iter().find(|c| c.name == custom) else {
            return Err(err(
                name,
                "is not a custom attribute of this pool (declare it under custom_attributes)",
            ));
        };
        let len = value.chars().count() as u32;
        if let Some(min) = def.min_length {
            if len < min {
                return Err(err(name, format!("must be at least {min} characters")));
            }
        }
        if let Some(max) = def.max_length {
            if len > max {
                return Err(err(name, format!("must be at most {max} characters")));
            }
        }
        return match def.data_type {
            AttributeDataType::String => Ok(()),
            AttributeDataType::Number => check_number(value, def.min_value, def.max_value)
                .map_err(|reason| err(name, reason)),
            AttributeDataType::Boolean => match value {
                "true" | "false" => Ok(()),
                _ => Err(err(name, "must be \"true\" or \"false\"")),
            },
            AttributeDataType::DateTime => chrono::DateTime::parse_from_rfc3339(value)
                .map(|_| ())
                .map_err(|_| err(name, "must be an RFC 3339 date-time")),
        };
    }
    if !STANDARD_ATTRIBUTES.contains(&name) {
        return Err(err(
            name,
            "is not a standard attribute; custom attributes are named custom:<name>",
        ));
    }
    match name {
        "email" => validate_email(value).map_err(|r| err(name, r)),
        "phone_number" => validate_phone(value).map_err(|r| err(name, r)),
        "email_verified" | "phone_number_verified" => match value {
            "true" | "false" => Ok(()),
            _ => Err(err(name, "must be \"true\" or \"false\"")),
        },
        "updated_at" => value
            .parse::<i64>()
            .map(|_| ())
            .map_err(|_| err(name, "must be seconds since the epoch")),
        "birthdate" => validate_birthdate(value).map_err(|r| err(name, r)),
        _ => Ok(()),
    }
}

/// A `Number` custom attribute's value: an integer (Cognito's number attributes hold
/// integers), within the attribute's `NumberAttributeConstraints` when it has them.
/// Integers are read as `i64`, the range the bounds are given in.
fn check_number(value: &str, min: Option<i64>, max: Option<i64>) -> Result<(), String> {
    let digits = value.strip_prefix(['-', '+']).unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("must be an integer".into());
    }
    let Ok(n) = value.parse::<i64>() else {
        return Err(format!(
            "must be an integer from {} to {}",
            i64::MIN,
            i64::MAX
        ));
    };
    if let Some(min) = min.filter(|min| n < *min) {
        return Err(format!("must be at least {min}"));
    }
    if let Some(max) = max.filter(|max| n > *max) {
        return Err(format!("must be at most {max}"));
    }
    Ok(())
}

/// Checks a whole attribute map, then the pool's required attributes.
pub fn validate_attributes(
    pool: &UserPool,
    attributes: &BTreeMap<String, String>,
    check_required: bool,
) -> Result<(), AttributeError> {
    for (name, value) in attributes {
        if name == "sub" {
            return Err(err(name, "is assigned by Cognate and cannot be set"));
        }
        validate_attribute(pool, name, value)?;
    }
    if check_required {
        for required in &pool.required_attributes {
            if attributes.get(required).is_none_or(|v| v.is_empty()) {
                return Err(err(required, "is required by this user pool"));
            }
        }
    }
    Ok(())
}

/// Cognito's words for a change to an immutable attribute.
const IMMUTABLE: &str = "Attribute cannot be updated. (changing an immutable attribute)";

/// The custom attributes declared `mutable = false` that are set in `before` and that
/// `after` changes or removes. An immutable attribute is written once (at creation, or
/// the first time it is given) and then holds: Cognito refuses to update it.
pub fn immutable_changes<'a>(
    pool: &UserPool,
    before: &'a BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Vec<&'a str> {
    before
        .iter()
        .filter(|(name, value)| !value.is_empty() && !is_mutable(pool, name))
        .filter(|(name, value)| after.get(*name) != Some(*value))
        .map(|(name, _)| name.as_str())
        .collect()
}

/// Whether the pool lets `name` change once set: every attribute but a custom one
/// declared `mutable = false`.
pub fn is_mutable(pool: &UserPool, name: &str) -> bool {
    name.strip_prefix("custom:").is_none_or(|custom| {
        pool.custom_attributes
            .iter()
            .find(|c| c.name == custom)
            .is_none_or(|c| c.mutable)
    })
}

/// Refuses an update that changes an immutable attribute once set (Cognito's
/// AdminUpdateUserAttributes answers "Attribute cannot be updated").
pub fn check_immutable(
    pool: &UserPool,
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> Result<(), AttributeError> {
    match immutable_changes(pool, before, after).first() {
        Some(name) => Err(err(name, IMMUTABLE)),
        None => Ok(()),
    }
}

/// Accepts only a plain address, `local@domain`, exactly as it will be stored, shown and
/// mailed to. The local part is an RFC 5322 dot-atom (section 3.4.1), checked by the mail
/// crate's address parser (lettre's `Address`, the type the sender delivers to); the
/// domain is a dotted name, never an IP literal. Everything a mail parser would read
/// around or inside the address is refused before parsing, so what is validated is what
/// the code goes to: a display name (`"ceo@corp.test" <mallory@evil.test>` would send
/// the code to mallory and, once confirmed, put that string in a token with
/// `email_verified: true`), angle brackets, quoted local parts, comments, spaces, and more
/// than one `@`.
///
/// Characters that are not shown are refused too: control characters, and Unicode's
/// default-ignorable code points ([`is_default_ignorable`]: the soft hyphen, zero-width
/// spaces and joiners, bidirectional marks, variation selectors, ...). IDNA (UTS #46,
/// which the mail crate applies to a non-ASCII domain before delivery) maps most of them
/// to nothing, so `ceo@vic\u{ad}tim.test` is mailed to `ceo@victim.test` while looking
/// exactly like it and being stored under a key of its own: each such spelling would get
/// a fresh budget of codes for the same mailbox.
pub fn validate_email(value: &str) -> Result<(), &'static str> {
    const PLAIN: &str = "must be a plain address (name@example.com), without a display name, \
                         quotes, comments or angle brackets";
    if value.chars().any(|c| {
        matches!(
            c,
            '<' | '>' | '"' | '(' | ')' | ',' | ';' | ':' | '\\' | '[' | ']'
        )
    }) {
        return Err(PLAIN);
    }
    if value.chars().any(char::is_whitespace) {
        return Err("must be an email address (name@example.com) without spaces");
    }
    if value.chars().any(char::is_control) {
        return Err("must be an email address (name@example.com) without control characters");
    }
    if value.chars().any(is_default_ignorable) {
        return Err(
            "must be an email address (name@example.com) without invisible characters \
                    (soft hyphens, zero-width spaces or joiners, direction marks, variation \
                    selectors)",
        );
    }
    let Some((local, domain)) = value.split_once('@') else {
        return Err("must be an email address (name@example.com)");
    };
    if domain.contains('@') {
        return Err("must contain exactly one @ (name@example.com)");
    }
    if local.is_empty()
        || domain.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || local.len() > 64
        || value.len() > 254
    {
        return Err("must be an email address (name@example.com)");
    }
    if domain.parse::<std::net::IpAddr>().is_ok() {
        return Err("must name a mail domain, not an IP address");
    }
    // The mail crate's own reading must be the input itself, whole.
    match value.parse::<lettre::Address>() {
        Ok(parsed) if AsRef::<str>::as_ref(&parsed) == value => Ok(()),
        _ => Err("must be an email address (name@example.com)"),
    }
}

/// Unicode's `Default_Ignorable_Code_Point` property (DerivedCoreProperties.txt, Unicode
/// 15): code points a renderer shows as nothing unless it supports them, which IDNA maps
/// away or refuses.
pub fn is_default_ignorable(c: char) -> bool {
    matches!(
        u32::from(c),
        0x00AD
            | 0x034F
            | 0x061C
            | 0x115F..=0x1160
            | 0x17B4..=0x17B5
            | 0x180B..=0x180F
            | 0x200B..=0x200F
            | 0x202A..=0x202E
            | 0x2060..=0x206F
            | 0x3164
            | 0xFE00..=0xFE0F
            | 0xFEFF
            | 0xFFA0
            | 0xFFF0..=0xFFF8
            | 0x1BCA0..=0x1BCA3
            | 0x1D173..=0x1D17A
            | 0xE0000..=0xE0FFF
    )
}

/// Cognito requires E.164: `+` then 4 to 15 digits.
pub fn validate_phone(value: &str) -> Result<(), &'static str> {
    let digits = value.strip_prefix('+').unwrap_or("");
    if digits.len() < 4 || digits.len() > 15 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err("must be in E.164 format: + and country code, e.g. +14325551212");
    }
    Ok(())
}

/// OIDC Core: `YYYY-MM-DD`, or `0000-MM-DD` when the year is withheld.
fn validate_birthdate(value: &str) -> Result<(), &'static str> {
    let probe = value.strip_prefix("0000-").map(|md| format!("2000-{md}"));
    let text = probe.as_deref().unwrap_or(value);
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(|_| ())
        .map_err(|_| "must be YYYY-MM-DD")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{CustomAttribute, PasswordPolicy};

    fn pool() -> UserPool {
        UserPool {
            id: "us-east-1_test".into(),
            name: "t".into(),
            origin: Default::default(),
            username_case_sensitive: false,
            username_attributes: vec![],
            alias_attributes: vec![],
            auto_verified_attributes: vec![],
            required_attributes: vec!["email".into()],
            custom_attributes: vec![CustomAttribute {
                name: "tier".into(),
                data_type: AttributeDataType::Number,
                mutable: true,
                min_length: None,
                max_length: Some(3),
                min_value: None,
                max_value: None,
            }],
            password_policy: PasswordPolicy::default(),
            admin_create_user_only: false,
            mfa: Default::default(),
            userinfo_string_values: false,
            link_federated_users_by_email: false,
            deletion_protection: false,
            tags: Default::default(),
            code_limits: Default::default(),
            threat_protection: Default::default(),
            triggers: Default::default(),
            identity_providers: vec![],
            saml_sp_entity_id: None,
            created_at: 0,
            updated_at: 0,
            version: 0,
            factors: Default::default(),
        }
    }

    #[test]
    fn email_addresses_are_plain() {
        for ok in [
            "a@example.com",
            "first.last+tag@sub.example.co.uk",
            "o'brien@example.ie",
            "x_y-z@example-mail.com",
            "user@b\u{fc}cher.example",
            "jos\u{e9}@ex\u{e4}mple.test",
        ] {
            assert_eq!(validate_email(ok), Ok(()), "{ok}");
        }
        for bad in [
            // Display names and angle brackets: the code would go to the bracketed one.
            "\"ceo@corp.test\"<mallory@evil.test>",
            "\"ceo@corp.test\" <mallory@evil.test>",
            "CEO <ceo@corp.test>",
            "<ceo@corp.test>",
            "ceo@corp.test <mallory@evil.test>",
            // Quoted local parts, with or without a second @ inside.
            "\"ceo@corp.test\"@evil.test",
            "\"john doe\"@example.com",
            "\"john\"@example.com",
            // Comments.
            "ceo(comment)@corp.test",
            "ceo@corp.test(mallory@evil.test)",
            "(c)ceo@corp.test",
            // Whitespace anywhere, control characters.
            " a@example.com",
            "a@example.com ",
            "a @example.com",
            "a@exa mple.com",
            "a@example.com\n",
            "a\t@example.com",
            "a@example.com\u{a0}",
            // More than one @, or none.
            "a@b@example.com",
            "a@@example.com",
            "a.example.com",
            // Lists, routes, IP literals, bare or dotless domains, empty parts.
            "a@example.com,b@evil.test",
            "a@example.com;b@evil.test",
            "@evil.test:a@example.com",
            "a@[127.0.0.1]",
            "a@127.0.0.1",
            "a@localhost",
            "a@.example.com",
            "a@example.com.",
            "@example.com",
            "a@",
            // Not a dot-atom.
            ".a@example.com",
            "a..b@example.com",
        ] {
            assert!(validate_email(bad).is_err(), "{bad:?} was accepted");
        }
        // The display-name attack gets the precise reason.
        assert_eq!(
            validate_email("\"ceo@corp.test\"<mallory@evil.test>").unwrap_err(),
            "must be a plain address (name@example.com), without a display name, quotes, \
             comments or angle brackets"
        );
        assert!(validate_email("a@b@example.com")
            .unwrap_err()
            .contains("exactly one @"));
    }

    #[test]
    fn invisible_characters_are_refused_anywhere_in_an_address() {
        for c in [
            '\u{ad}',
            '\u{34f}',
            '\u{61c}',
            '\u{115f}',
            '\u{17b4}',
            '\u{180b}',
            '\u{200b}',
            '\u{200c}',
            '\u{200d}',
            '\u{200e}',
            '\u{202e}',
            '\u{2060}',
            '\u{2064}',
            '\u{3164}',
            '\u{fe0f}',
            '\u{feff}',
            '\u{ffa0}',
            '\u{fff0}',
            '\u{1bca0}',
            '\u{1d173}',
            '\u{e0001}',
            '\u{e0fff}',
        ] {
            for address in [
                format!("ceo@vic{c}tim.test"),
                format!("ceo@{c}victim.test"),
                format!("ceo@victim.test{c}"),
                format!("c{c}eo@victim.test"),
            ] {
                let refused = validate_email(&address).unwrap_err();
                assert!(
                    refused.contains("invisible characters"),
                    "{address:?}: {refused}"
                );
            }
        }
        assert!(validate_email("a@exa\u{7}mple.com")
            .unwrap_err()
            .contains("control characters"));
        assert!(validate_email("a@exa\u{85}mple.com").is_err());
        // Neighbours of the ranges are ordinary characters.
        for c in [
            '\u{ac}', '\u{ae}', '\u{200a}', '\u{2010}', '\u{fdff}', '\u{fe10}',
        ] {
            assert!(!is_default_ignorable(c), "{c:?}");
        }
    }

    #[test]
    fn attribute_rules() {
        let p = pool();
        assert!(validate_attribute(&p, "email", "a@example.com").is_ok());
        assert_eq!(
            validate_attribute(&p, "email", "nope").unwrap_err().name,
            "email"
        );
        assert!(validate_attribute(&p, "phone_number", "+14325551212").is_ok());
        assert!(validate_attribute(&p, "phone_number", "555-1212").is_err());
        assert!(validate_attribute(&p, "custom:tier", "12").is_ok());
        assert!(validate_attribute(&p, "custom:tier", "x").is_err());
        assert!(validate_attribute(&p, "custom:tier", "1234").is_err());
        assert!(validate_attribute(&p, "custom:unknown", "1").is_err());
        assert!(validate_attribute(&p, "shoe_size", "1").is_err());
        assert!(validate_attribute(&p, "birthdate", "0000-02-29").is_ok());
        let mut attrs = BTreeMap::new();
        attrs.insert("name".to_string(), "A".to_string());
        let e = validate_attributes(&p, &attrs, true).unwrap_err();
        assert_eq!(e.name, "email");
        attrs.insert("email".to_string(), "a@example.com".to_string());
        assert!(validate_attributes(&p, &attrs, true).is_ok());
    }

    #[test]
    fn number_values_are_integers_within_the_bounds() {
        let mut p = pool();
        p.custom_attributes.push(CustomAttribute {
            name: "seats".into(),
            data_type: AttributeDataType::Number,
            mutable: true,
            min_length: None,
            max_length: None,
            min_value: Some(1),
            max_value: Some(10),
        });
        for ok in ["1", "5", "10", "+7", "007"] {
            assert_eq!(validate_attribute(&p, "custom:seats", ok), Ok(()), "{ok}");
        }
        for (bad, reason) in [
            ("0", "must be at least 1"),
            ("-3", "must be at least 1"),
            ("11", "must be at most 10"),
            ("9223372036854775807", "must be at most 10"),
            ("abc", "must be an integer"),
            ("5.5", "must be an integer"),
            ("5.0", "must be an integer"),
            ("1e1", "must be an integer"),
            (" 5", "must be an integer"),
            ("", "must be an integer"),
            ("-", "must be an integer"),
            ("NaN", "must be an integer"),
            ("inf", "must be an integer"),
            (
                "99999999999999999999",
                "must be an integer from -9223372036854775808 to 9223372036854775807",
            ),
        ] {
            let e = validate_attribute(&p, "custom:seats", bad).unwrap_err();
            assert_eq!(e.name, "custom:seats", "{bad:?}");
            assert_eq!(e.reason, reason, "{bad:?}");
        }
        // Without bounds any integer in range is a value; a decimal still is not.
        assert_eq!(validate_attribute(&p, "custom:tier", "-12"), Ok(()));
        assert!(validate_attribute(&p, "custom:tier", "1.5").is_err());
        // One bound alone holds on its side only.
        p.custom_attributes[1].max_value = None;
        assert_eq!(validate_attribute(&p, "custom:seats", "1000000"), Ok(()));
        assert!(validate_attribute(&p, "custom:seats", "0").is_err());
    }

    #[test]
    fn stored_attributes_without_bounds_still_load() {
        let stored = serde_json::json!({"name": "seats", "data_type": "Number"});
        let attr: CustomAttribute = serde_json::from_value(stored).unwrap();
        assert_eq!((attr.min_value, attr.max_value), (None, None));
        assert!(attr.mutable);
    }

    #[test]
    fn control_characters_are_refused_in_every_value() {
        let p = pool();
        // The honest values pass, a tab anywhere and line breaks in an address included.
        for (name, value) in [
            ("name", "Ada Lovelace"),
            ("given_name", "Ada\tB."),
            ("custom:tier", "12"),
            ("address", "1 Main St\r\nSpringfield"),
        ] {
            assert!(validate_attribute(&p, name, value).is_ok(), "{name}");
        }
        // NUL (which PostgreSQL refuses in TEXT), other C0 characters and DEL, in
        // standard and custom attributes alike, are refused naming the attribute.
        for (name, value) in [
            ("name", "Ada\0"),
            ("given_name", "\u{1}Ada"),
            ("family_name", "Love\u{1f}lace"),
            ("preferred_username", "ada\u{7f}"),
            ("nickname", "ada\nlovelace"),
            ("custom:tier", "1\0"),
            ("address", "1 Main St\0"),
        ] {
            let e = validate_attribute(&p, name, value).unwrap_err();
            assert_eq!(e.name, name);
            assert!(e.reason.contains("control characters"), "{name}");
        }
    }
}
