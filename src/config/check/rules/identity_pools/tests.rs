//! check-config on `[[roles]]` and `[[identity_pools]]`: each mistake located at its key's
//! line with a fix, beside the honest file passing.

use crate::config::check::{check_str, check_str_in, Diagnostic};

pub(crate) const GOOD: &str = r#"
[[pools]]
id = "us-east-1_Shop12345"
name = "shop"

[[pools.clients]]
id = "webclient1"
name = "web"
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]

[[roles]]
arn = "arn:aws:iam::123456789012:role/users"
description = "signed-in users"
trust = { identity_pools = ["app users"], amr = "authenticated" }
policy = '''{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "files:GetObject", "Resource": "*"}]}'''

[[roles]]
arn = "arn:aws:iam::123456789012:role/guests"
trust = { identity_pools = ["app users"], amr = "unauthenticated" }
policy = '''{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "files:GetObject", "Resource": "*"}]}'''

[[identity_pools]]
name = "app users"
allow_unauthenticated = true
authenticated_role = "arn:aws:iam::123456789012:role/users"
unauthenticated_role = "arn:aws:iam::123456789012:role/guests"

[[identity_pools.user_pools]]
pool = "shop"
client = "web"

[identity_pools.role_mappings."shop"]
type = "rules"
ambiguous = "authenticated_role"
rules = [{ claim = "cognito:groups", match_type = "contains", value = "admins", role = "arn:aws:iam::123456789012:role/users" }]
"#;

fn diagnostics(text: &str) -> Vec<Diagnostic> {
    check_str(text, "cognate.toml").err().unwrap_or_default()
}

/// `GOOD` with `from` replaced by `bad` yields one diagnostic at `path` on `bad`'s line;
/// with `good` instead, none.
#[track_caller]
fn case(from: &str, bad: &str, path: &str, good: &str) -> Diagnostic {
    assert_eq!(GOOD.matches(from).count(), 1, "{from:?}");
    let text = GOOD.replace(from, bad);
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{bad:?}: {d:#?}");
    let d = d.into_iter().next().unwrap();
    assert_eq!(d.path, path, "{d}");
    let needle = bad.lines().next().unwrap();
    let line = text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert_eq!(d.line, Some(line), "{d}");
    assert!(!d.fix.is_empty(), "{d}");
    assert_eq!(
        diagnostics(&GOOD.replace(from, good)),
        Vec::new(),
        "{good:?}"
    );
    d
}

#[test]
fn the_good_file_parses_into_roles_and_identity_pools() {
    let config = check_str(GOOD, "cognate.toml").unwrap();
    assert_eq!(config.roles.len(), 2);
    assert_eq!(config.roles[0].max_session_secs, 3600);
    assert_eq!(config.identity_pools[0].user_pools[0].pool, "shop");
    assert_eq!(
        config.identity_pools[0].role_mappings["shop"].rules.len(),
        1
    );
}

#[test]
fn role_mistakes_are_located() {
    // A bad ARN is refused at its key (and the pool naming it finds no such role).
    let text = GOOD.replacen(
        "arn = \"arn:aws:iam::123456789012:role/guests\"",
        "arn = \"arn:aws:iam::1234:role/guests\"",
        1,
    );
    let paths: Vec<String> = diagnostics(&text).into_iter().map(|d| d.path).collect();
    assert_eq!(
        paths,
        ["roles[1].arn", "identity_pools[0].unauthenticated_role"]
    );
    case(
        "trust = { identity_pools = [\"app users\"], amr = \"unauthenticated\" }",
        "trust = { identity_pools = [\"nobody\"], amr = \"unauthenticated\" }",
        "roles[1].trust.identity_pools[0]",
        "trust = { identity_pools = [\"us-east-1:0b9b1c9e-1f2a-4c55-9a4e-2f5d7c1a0b3c\", \"app users\"], amr = \"unauthenticated\" }",
    );
    let d = case(
        "description = \"signed-in users\"",
        "max_session_secs = 60",
        "roles[0].max_session_secs",
        "max_session_secs = 43200",
    );
    assert!(d.fix.contains("900 to 43200"), "{d}");
    // A policy that is not a JSON object, and a role without one.
    let text = GOOD.replacen(
        r#"policy = '''{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "files:GetObject", "Resource": "*"}]}'''"#,
        "policy = '''[1]'''",
        1,
    );
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].path, "roles[0].policy");
    let text = GOOD.replacen(
        r#"policy = '''{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "files:GetObject", "Resource": "*"}]}'''"#,
        "",
        1,
    );
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].message.contains("no policy"), "{}", d[0]);
}

#[test]
fn policy_files_are_read_relative_to_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("policies")).unwrap();
    std::fs::write(
        dir.path().join("policies/users.json"),
        r#"{"Statement": [{"Effect": "Allow", "Action": "files:GetObject", "Resource": "*"}]}"#,
    )
    .unwrap();
    let text = GOOD.replacen(
        r#"policy = '''{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "files:GetObject", "Resource": "*"}]}'''"#,
        "policy_file = \"policies/users.json\"",
        1,
    );
    let config = check_str_in(&text, "cognate.toml", Some(dir.path())).unwrap();
    assert_eq!(
        config.roles[0].policy.as_deref(),
        Some(
            r#"{"Statement": [{"Effect": "Allow", "Action": "files:GetObject", "Resource": "*"}]}"#
        )
    );
    let missing = text.replace("policies/users.json", "policies/nope.json");
    let d = check_str_in(&missing, "cognate.toml", Some(dir.path())).unwrap_err();
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].path, "roles[0].policy_file");
    std::fs::write(dir.path().join("policies/users.json"), "not json").unwrap();
    let d = check_str_in(&text, "cognate.toml", Some(dir.path())).unwrap_err();
    assert_eq!(d[0].path, "roles[0].policy_file", "{d:#?}");
}

#[test]
fn identity_pool_mistakes_are_located() {
    // A bad name is refused at its key (and the roles trusting that name find no pool).
    let text = GOOD.replace("app users", "app/users");
    let paths: Vec<String> = diagnostics(&text).into_iter().map(|d| d.path).collect();
    assert!(
        paths.contains(&"identity_pools[0].name".to_string()),
        "{paths:?}"
    );
    // An unknown pool, once (the mapping keyed by the declared pool then maps a pool the
    // identity pool does not list).
    let text = GOOD.replace("pool = \"shop\"", "pool = \"shops\"");
    let paths: Vec<String> = diagnostics(&text).into_iter().map(|d| d.path).collect();
    assert_eq!(
        paths,
        [
            "identity_pools[0].user_pools[0].pool",
            "identity_pools[0].role_mappings.shop"
        ]
    );
    let by_id = GOOD.replace("pool = \"shop\"", "pool = \"us-east-1_Shop12345\"");
    assert_eq!(diagnostics(&by_id), Vec::new());
    case(
        "client = \"web\"",
        "client = \"web app\"",
        "identity_pools[0].user_pools[0].client",
        "client = \"webclient1\"",
    );
    case(
        "unauthenticated_role = \"arn:aws:iam::123456789012:role/guests\"",
        "unauthenticated_role = \"arn:aws:iam::123456789012:role/ghosts\"",
        "identity_pools[0].unauthenticated_role",
        "unauthenticated_role = \"arn:aws:iam::123456789012:role/guests\"\ndeveloper_provider_name = \"login.example.app\"",
    );
    let d = case(
        "allow_unauthenticated = true\n",
        "supported_login_providers = 1\nallow_unauthenticated = true\n",
        "identity_pools[0].supported_login_providers",
        "allow_unauthenticated = true\n",
    );
    assert!(d.message.contains("unknown key"), "{d}");
    // Guest access without a guest role.
    let text = GOOD.replace(
        "unauthenticated_role = \"arn:aws:iam::123456789012:role/guests\"\n",
        "",
    );
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].path, "identity_pools[0].allow_unauthenticated");
    // Too many rules: the core's limit, on the file's mapping key.
    let rule = r#"{ claim = "c", match_type = "equals", value = "v", role = "arn:aws:iam::123456789012:role/users" }"#;
    let rules = vec![rule; 26].join(", ");
    let text = GOOD.replace(
        r#"rules = [{ claim = "cognito:groups", match_type = "contains", value = "admins", role = "arn:aws:iam::123456789012:role/users" }]"#,
        &format!("rules = [{rules}]"),
    );
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].path, "identity_pools[0].role_mappings.shop.rules");
}
