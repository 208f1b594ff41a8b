use super::*;
use crate::core::model::{UserLookup, UserStatus};

fn parsed(s: &str) -> ParsedFilter {
    match parse_filter(s) {
        Ok(Some(p)) => p,
        other => panic!("{s}: {other:?}"),
    }
}

fn user() -> User {
    User {
        pool_id: "p".into(),
        sub: "0f8fad5b-d9cb-469f-a165-70867728950e".into(),
        username: "Ann".into(),
        attributes: [
            ("email".to_string(), "Ann@Example.COM".to_string()),
            ("name".to_string(), "Ｚoë".to_string()),
            ("custom:x".to_string(), "1".to_string()),
            ("given_name".to_string(), String::new()),
        ]
        .into(),
        status: UserStatus::ForceChangePassword,
        enabled: false,
        password_hash: None,
        temporary_password_expires_at: None,
        identities: vec![],
        lookup: UserLookup::default(),
        mfa: Default::default(),
        srp: None,
        pending_attributes: Default::default(),
        created_at: 0,
        updated_at: 0,
        version: 0,
    }
}

#[test]
fn parses_cognito_filters() {
    let p = parsed(r#"email = "Ann@Example.com""#);
    assert_eq!(p.filter.attribute, FilterAttribute::Email);
    assert_eq!(p.filter.value, "ann@example.com");
    assert!(!p.filter.prefix);
    let p = parsed(r#"  given_name^="Jo"  "#);
    assert_eq!(p.filter.attribute, FilterAttribute::GivenName);
    assert!(p.filter.prefix);
    assert_eq!(p.filter.value, "jo");
    // Escaped quotes and backslashes, as botocore's documentation shows them.
    let p = parsed(r#"family_name = "O\"Reilly \\ x""#);
    assert_eq!(p.filter.value, r#"o"reilly \ x"#);
    let p = parsed(r#"cognito:user_status = "force_change_password""#);
    assert_eq!(p.filter.attribute, FilterAttribute::UserStatus);
    assert_eq!(parsed(r#"status = "Enabled""#).filter.value, "enabled");
    // `%` and `_` are plain characters.
    assert_eq!(parsed(r#"name ^= "a%_""#).filter.value, "a%_");
    // Empty or blank: no filter (Cognito lists every user).
    assert_eq!(parse_filter(""), Ok(None));
    assert_eq!(parse_filter("   "), Ok(None));
}

#[test]
fn refuses_what_cognito_does_not_search() {
    for (filter, error) in [
        ("email = unquoted", FilterError::Unquoted),
        (r#"email = "open"#, FilterError::Unquoted),
        (r#"email ~ "a""#, FilterError::Syntax),
        (r#"email == "a""#, FilterError::Unquoted),
        (r#"email = "a" or name = "b""#, FilterError::Syntax),
        (r#"email = "a\n""#, FilterError::Syntax),
        (r#"email = """#, FilterError::EmptyValue),
        (r#"= "a""#, FilterError::Syntax),
        ("email", FilterError::Syntax),
        (
            r#"custom:x = "1""#,
            FilterError::NotSearchable("custom:x".into()),
        ),
        (r#"Email = "a""#, FilterError::NotSearchable("Email".into())),
    ] {
        assert_eq!(parse_filter(filter), Err(error), "{filter}");
    }
    let long = format!(r#"email = "{}""#, "a".repeat(250));
    assert_eq!(parse_filter(&long), Err(FilterError::TooLong));
    // The honest filter next to them.
    assert!(parse_filter(r#"email = "a""#).is_ok());
}

#[test]
fn keys_cover_the_searchable_attributes_only() {
    let keys = filter_keys(&user());
    let get = |a| keys.iter().find(|(k, _)| *k == a).map(|(_, v)| v.as_str());
    assert_eq!(get(FilterAttribute::Username), Some("ann"));
    assert_eq!(get(FilterAttribute::Email), Some("ann@example.com"));
    // NFKC folds the full-width letter, lowercase the rest.
    assert_eq!(get(FilterAttribute::Name), Some("zoë"));
    assert_eq!(
        get(FilterAttribute::UserStatus),
        Some("force_change_password")
    );
    assert_eq!(get(FilterAttribute::Status), Some("disabled"));
    assert_eq!(
        get(FilterAttribute::Sub),
        Some("0f8fad5b-d9cb-469f-a165-70867728950e")
    );
    // An empty attribute has no key; custom attributes are not searchable.
    assert_eq!(get(FilterAttribute::GivenName), None);
    assert_eq!(keys.len(), 6);
}

#[test]
fn stored_and_searched_values_agree() {
    let u = user();
    for filter in [
        r#"name = "ZOË""#,
        r#"name ^= "ｚo""#,
        r#"email ^= "ANN@""#,
        r#"username = "aNN""#,
        r#"status = "Disabled""#,
    ] {
        let p = parsed(filter);
        let key = filter_keys(&u)
            .into_iter()
            .find(|(a, _)| *a == p.filter.attribute)
            .map(|(_, v)| v);
        let key = key.unwrap_or_default();
        if p.filter.prefix {
            assert!(key.starts_with(&p.filter.value), "{filter}");
        } else {
            assert_eq!(key, p.filter.value, "{filter}");
        }
        assert!(matches(&u, &p.filter, &p.full_value), "{filter}");
    }
    let p = parsed(r#"name = "Zo""#);
    assert!(!matches(&u, &p.filter, &p.full_value));
}

#[test]
fn long_values_are_cut_at_a_character_boundary_and_checked_whole() {
    let long = "é".repeat(FILTER_KEY_MAX_BYTES); // 2 bytes each
    let key = filter_key(&long);
    assert!(key.len() <= FILTER_KEY_MAX_BYTES && key.len() >= FILTER_KEY_MAX_BYTES - 1);
    assert!(long.starts_with(&key));
    let mut u = user();
    u.attributes.insert("name".into(), format!("{long}a"));
    let f = UserFilter {
        attribute: FilterAttribute::Name,
        value: key.clone(),
        prefix: false,
    };
    // The index key of "…a" and "…b" is the same cut; the whole value decides.
    assert!(matches(&u, &f, &format!("{long}a")));
    assert!(!matches(&u, &f, &format!("{long}b")));
}

#[test]
fn keys_drop_nul_so_an_old_stored_value_never_breaks_a_write() {
    // PostgreSQL refuses NUL in TEXT: a value stored before attribute values refused
    // control characters still gives a key it accepts.
    assert_eq!(filter_key("Ada\0Lovelace"), "adalovelace");
    assert_eq!(filter_key("Ada Lovelace"), "ada lovelace");
}
