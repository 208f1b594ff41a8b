//! Which of a user's attributes are released, and how: the claims of the userInfo
//! endpoint (OIDC Core section 5.3) by the access token's scopes (section 5.4) and the app
//! client's `ReadAttributes`, valued as the pool asks (typed, or Cognito's all-strings).
//! The AWS API's `GetUser` filters by the same [`client_reads`].

use serde_json::{json, Map, Value};

use super::tokens::typed_value;
use crate::core::model::{AppClient, User, UserPool};

/// The scope that releases every attribute the client may read (Cognito's userInfo
/// answers it like `GetUser`).
pub const ALL_ATTRIBUTES_SCOPE: &str = "aws.cognito.signin.user.admin";

/// The standard claims each OIDC scope releases (OIDC Core section 5.4).
pub fn scope_claims(scope: &str) -> &'static [&'static str] {
    match scope {
        "email" => &["email", "email_verified"],
        "phone" => &["phone_number", "phone_number_verified"],
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
            "address",
        ],
        _ => &[],
    }
}

/// Whether `client` may read the attribute `name`: an app client's `ReadAttributes`
/// lists what it reads, and an empty list means every attribute (Cognito's default).
pub fn client_reads(client: &AppClient, name: &str) -> bool {
    client.read_attributes.is_empty() || client.read_attributes.iter().any(|a| a == name)
}

/// The userInfo answer for `user`, whose access token for `client` carries `scope` (the
/// space-separated scopes): `sub`, the attributes its scopes release and the client may
/// read, and `username`. With the pool's `userinfo_string_values` every value is a string
/// (as Cognito's userInfo answers); otherwise the standard claims that are not strings
/// are typed (OIDC Core section 5.1).
pub fn userinfo_claims(
    pool: Option<&UserPool>,
    client: &AppClient,
    user: &User,
    scope: &str,
) -> Map<String, Value> {
    let strings = pool.is_some_and(|p| p.userinfo_string_values);
    let all = scope.split(' ').any(|s| s == ALL_ATTRIBUTES_SCOPE);
    let released: Vec<&str> = scope.split(' ').flat_map(scope_claims).copied().collect();
    let mut body = Map::new();
    body.insert("sub".into(), json!(user.sub));
    for (name, value) in &user.attributes {
        if (all || released.contains(&name.as_str())) && client_reads(client, name) {
            let v = if strings {
                Value::String(value.clone())
            } else {
                typed_value(name, value)
            };
            body.insert(name.clone(), v);
        }
    }
    body.insert("username".into(), json!(user.username));
    body
}
