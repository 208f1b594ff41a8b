//! ListUsers (issue 14): Cognito's `Filter` language, the one normalization of the values
//! it searches, and the listing itself.
//!
//! A filter is `attribute = "value"` (equals) or `attribute ^= "value"` (starts with) over
//! the attributes Cognito documents as searchable (`username`, `email`, `phone_number`,
//! `name`, `given_name`, `family_name`, `preferred_username`, `cognito:user_status`,
//! `status`, `sub`); custom attributes are not searchable, as in Cognito. The store keeps
//! one key per searchable attribute of each user ([`filter_keys`], written in the user's
//! own transaction) and finds the matching users with a range scan over an index, so a
//! page costs the same in a pool of ten users or of a million.
//!
//! Matching is case-insensitive for every attribute: stored and searched values go
//! through [`filter_key`] (NFKC, then lowercase, as the sign-in lookup keys of
//! [`crate::core::directory::lookup_for`]). Cognito's ListUsers documentation calls
//! `username` and `status` case-sensitive and `cognito:user_status` case-insensitive,
//! and says nothing of the others; folding them all means a Cognate search finds at
//! least what Cognito's finds (`status = "Enabled"` and `email = "Ann@Example.com"` match
//! as written in Cognito's examples), and it is the rule users already see at sign-in,
//! where usernames and email addresses are not case-sensitive by default.

use unicode_normalization::UnicodeNormalization;

use super::model::{Page, PageRequest, User};
use super::storage::{FilterAttribute, Store, StoreResult, UserFilter};

/// The longest key the store indexes, in bytes. PostgreSQL refuses a B-tree entry over
/// about 2.7 kB, and Cognito attribute values reach 2,048 characters (up to 8 kB of
/// UTF-8); a longer value is indexed by its first bytes, and the store checks every row it
/// returns against the whole value (see [`matches`]), so the cap changes no answer.
pub const FILTER_KEY_MAX_BYTES: usize = 1024;

/// Cognito's longest `Filter` (botocore's `UserFilterType`: at most 256 characters).
pub const FILTER_MAX_CHARS: usize = 256;

impl FilterAttribute {
    /// Every searchable attribute.
    pub const ALL: [FilterAttribute; 10] = [
        FilterAttribute::Username,
        FilterAttribute::Email,
        FilterAttribute::PhoneNumber,
        FilterAttribute::Name,
        FilterAttribute::GivenName,
        FilterAttribute::FamilyName,
        FilterAttribute::PreferredUsername,
        FilterAttribute::UserStatus,
        FilterAttribute::Status,
        FilterAttribute::Sub,
    ];

    /// The attribute's name in a Cognito `Filter`, which is also the `attr` column of the
    /// store's `user_filters` rows.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterAttribute::Username => "username",
            FilterAttribute::Email => "email",
            FilterAttribute::PhoneNumber => "phone_number",
            FilterAttribute::Name => "name",
            FilterAttribute::GivenName => "given_name",
            FilterAttribute::FamilyName => "family_name",
            FilterAttribute::PreferredUsername => "preferred_username",
            FilterAttribute::UserStatus => "cognito:user_status",
            FilterAttribute::Status => "status",
            FilterAttribute::Sub => "sub",
        }
    }

    /// The searchable attribute named `name` (exactly as Cognito spells it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == name)
    }

    /// The user's raw value of this attribute, if it has one.
    fn value_of(self, user: &User) -> Option<&str> {
        match self {
            FilterAttribute::Username => Some(&user.username),
            FilterAttribute::UserStatus => Some(user.status.as_str()),
            // The console's "Enabled" column: Cognito's filter values are `Enabled` and
            // `Disabled`.
            FilterAttribute::Status => Some(if user.enabled { "Enabled" } else { "Disabled" }),
            FilterAttribute::Sub => Some(&user.sub),
            other => user.attribute(other.as_str()),
        }
    }
}

/// The form in which a searchable value is stored and searched: NFKC, then lowercase (see
/// the module doc), cut to [`FILTER_KEY_MAX_BYTES`] at a character boundary. The one
/// function used both when the store writes a user's keys and when a filter is parsed,
/// so both sides always agree.
pub fn filter_key(value: &str) -> String {
    // NUL is dropped: PostgreSQL refuses it in TEXT, and a value stored before attribute
    // values refused control characters must not break the user's every later write.
    let mut key: String = value
        .nfkc()
        .filter(|c| *c != '\0')
        .collect::<String>()
        .to_lowercase();
    if key.len() > FILTER_KEY_MAX_BYTES {
        let mut end = FILTER_KEY_MAX_BYTES;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        key.truncate(end);
    }
    key
}

/// The whole normalized value, uncut: what [`matches`] compares.
fn full_key(value: &str) -> String {
    value.nfkc().collect::<String>().to_lowercase()
}

/// The keys a user is found by: one per searchable attribute it has, in the store's form
/// ([`filter_key`]). An empty attribute value has no key (nothing can search for it: a
/// filter's value is never empty).
pub fn filter_keys(user: &User) -> Vec<(FilterAttribute, String)> {
    FilterAttribute::ALL
        .into_iter()
        .filter_map(|a| {
            a.value_of(user)
                .filter(|v| !v.is_empty())
                .map(|v| (a, filter_key(v)))
        })
        .collect()
}

/// Whether `user` satisfies a filter whose value was [`parse_filter`]'s, comparing the
/// whole value: the store's index may hold only the first [`FILTER_KEY_MAX_BYTES`] of a
/// long value (and the backfill of a migrated database approximates non-ASCII ones until
/// the user's next write), so the store checks each row it returns with this.
pub fn matches(user: &User, filter: &UserFilter, full_value: &str) -> bool {
    match filter.attribute.value_of(user) {
        Some(v) if !v.is_empty() => {
            let key = full_key(v);
            if filter.prefix {
                key.starts_with(full_value)
            } else {
                key == full_value
            }
        }
        _ => false,
    }
}

/// A parsed `Filter`: what the store searches ([`UserFilter`], its value cut to the
/// indexed length) and the whole normalized value rows are checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedFilter {
    pub filter: UserFilter,
    /// The whole value, normalized (NFKC, lowercase), uncut.
    pub full_value: String,
}

/// Why a `Filter` was refused (Cognito answers InvalidParameterException naming
/// `filter`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("Filter must be of the form attribute = \"value\" or attribute ^= \"value\".")]
    Syntax,
    #[error("Filter is longer than {FILTER_MAX_CHARS} characters.")]
    TooLong,
    #[error("Filter: {0} is not a searchable attribute (username, email, phone_number, name, given_name, family_name, preferred_username, cognito:user_status, status, sub).")]
    NotSearchable(String),
    #[error("Filter: the value must be quoted, as in email = \"value\".")]
    Unquoted,
    #[error("Filter: the value must not be empty.")]
    EmptyValue,
}

/// Parses Cognito's `Filter`: `Ok(None)` for an empty or blank filter (Cognito then lists
/// every user), otherwise `attribute op "value"` where `op` is `=` or `^=`, spaces allowed
/// around the operator and the whole filter, the value in double quotes with `\"` for a
/// quote and `\\` for a backslash inside. Anything else is refused: an unquoted value, an
/// unknown operator, text after the closing quote, an attribute Cognito does not search.
pub fn parse_filter(filter: &str) -> Result<Option<ParsedFilter>, FilterError> {
    if filter.chars().count() > FILTER_MAX_CHARS {
        return Err(FilterError::TooLong);
    }
    let s = filter.trim();
    if s.is_empty() {
        return Ok(None);
    }
    // The attribute name: up to the first space or operator character.
    let name_end = s
        .find(|c: char| c.is_whitespace() || c == '=' || c == '^')
        .ok_or(FilterError::Syntax)?;
    let (name, rest) = s.split_at(name_end);
    if name.is_empty() {
        return Err(FilterError::Syntax);
    }
    let rest = rest.trim_start();
    let (prefix, rest) = if let Some(r) = rest.strip_prefix("^=") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (false, r)
    } else {
        return Err(FilterError::Syntax);
    };
    let attribute =
        FilterAttribute::parse(name).ok_or_else(|| FilterError::NotSearchable(name.into()))?;
    let rest = rest.trim_start();
    let Some(quoted) = rest.strip_prefix('"') else {
        return Err(FilterError::Unquoted);
    };
    let mut value = String::new();
    let mut chars = quoted.chars();
    let mut closed = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('"' | '\\')) => value.push(e),
                _ => return Err(FilterError::Syntax),
            },
            '"' => {
                closed = true;
                break;
            }
            c => value.push(c),
        }
    }
    if !closed {
        return Err(FilterError::Unquoted);
    }
    if !chars.as_str().trim().is_empty() {
        return Err(FilterError::Syntax);
    }
    if value.is_empty() {
        return Err(FilterError::EmptyValue);
    }
    Ok(Some(ParsedFilter {
        filter: UserFilter {
            attribute,
            value: filter_key(&value),
            prefix,
        },
        full_value: full_key(&value),
    }))
}

/// Checks ListUsers' `AttributesToGet`: every name must be an attribute a user of `pool`
/// can have (`sub`, a standard attribute, `identities`, or one of the pool's declared
/// `custom:` attributes), as Cognito refuses an unknown one with
/// InvalidParameterException rather than answering without it. Returns the first unknown
/// name.
pub fn check_attributes_to_get<'a>(
    pool: &super::model::UserPool,
    names: &'a [String],
) -> Result<(), &'a str> {
    use super::attributes::STANDARD_ATTRIBUTES;
    for name in names {
        let known = match name.strip_prefix("custom:") {
            Some(custom) => pool.custom_attributes.iter().any(|c| c.name == custom),
            None => {
                name == "sub"
                    || name == "identities"
                    || STANDARD_ATTRIBUTES.contains(&name.as_str())
            }
        };
        if !known {
            return Err(name);
        }
    }
    Ok(())
}

/// One page of ListUsers: every user of the pool in sub order without a filter (the
/// store's `list_users`), the matching users in the order of the filtered value then sub
/// with one (the store's `search_users`, an index range scan).
pub async fn list_users(
    store: &dyn Store,
    pool_id: &str,
    filter: Option<&ParsedFilter>,
    page: &PageRequest,
) -> StoreResult<Page<User>> {
    match filter {
        None => store.list_users(pool_id, page).await,
        Some(parsed) => {
            let mut found = store.search_users(pool_id, &parsed.filter, page).await?;
            // The index is exact for every value within FILTER_KEY_MAX_BYTES; this drops
            // what only a cut or approximated key matched. The page token stays the
            // store's (the last row it scanned), so no user is skipped.
            found
                .items
                .retain(|u| matches(u, &parsed.filter, &parsed.full_value));
            Ok(found)
        }
    }
}

#[cfg(test)]
mod tests;
