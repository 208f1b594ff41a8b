use crate::config::check::{check_str, Diagnostic};
use crate::config::Config;
use crate::core::model::{Protocol, Quirk, ResponseMode, TokenEndpointAuthMethod};

/// Every preset declared once, with overrides; the cases below break one thing at a time.
const GOOD: &str = r#"
[[pools]]
id = "us-east-1_AbC123dEf"
name = "customers"

[[pools.custom_attributes]]
name = "tenant"

[[pools.identity_providers]]
name = "Google"
preset = "google"
client_id = "1234.apps.googleusercontent.com"
client_secret_env = "GOOGLE_SECRET"
hosted_domain = "example.com"

[[pools.identity_providers]]
name = "SignInWithApple"
preset = "apple"
client_id = "com.example.web"
team_id = "ABCDE12345"
key_id = "ABC123DEFG"
private_key_env = "APPLE_KEY"

[[pools.identity_providers]]
name = "Facebook"
preset = "facebook"
client_id = "1234567890"
client_secret_env = "FB_SECRET"
emails_verified = true

[[pools.identity_providers]]
name = "LoginWithAmazon"
preset = "amazon"
client_id = "amzn1.application-oa2-client.abc"
client_secret_env = "AMAZON_SECRET"

[[pools.identity_providers]]
name = "Okta"
preset = "oidc"
client_id = "0oa1"
client_secret_env = "OKTA_SECRET"
issuer = "https://corp.okta.com"
identifiers = ["corp.example", "corp.example.org"]
token_endpoint_auth_method = "client_secret_post"
attribute_mapping = { "custom:tenant" = "tid", picture = "" }
display_name = "Corporate login"

[[pools.identity_providers]]
name = "Local"
preset = "oidc"
client_id = "c"
client_secret_env = "LOCAL_SECRET"
issuer = "http://127.0.0.1:9999"
endpoints = { jwks = "http://localhost:9999/jwks" }

[[pools.clients]]
id = "webclient1"
name = "web"
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
supported_identity_providers = ["COGNITO", "Google", "SignInWithApple", "Facebook", "LoginWithAmazon", "Okta"]
"#;

fn diagnostics(text: &str) -> Vec<Diagnostic> {
    check_str(text, "cognate.toml").err().unwrap_or_default()
}

fn edit(from: &str, to: &str) -> String {
    assert_eq!(GOOD.matches(from).count(), 1, "{from:?} must occur once");
    GOOD.replace(from, to)
}

/// Where a diagnostic is expected: on the line containing a text, or on the
/// `[[pools.identity_providers]]` header of the table whose line contains a text.
enum At<'a> {
    Line(&'a str),
    TableOf(&'a str),
}

/// Replacing `from` by `bad` yields exactly one diagnostic, at `path`, on the line given
/// by `at` (default: `bad`'s first line); the message and fix are never empty.
#[track_caller]
fn case(from: &str, bad: &str, path: &str, at: Option<At<'_>>) -> Diagnostic {
    let text = edit(from, bad);
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{bad:?}: expected one diagnostic, got {d:#?}");
    let d = d.into_iter().next().unwrap();
    assert_eq!(d.path, path, "{bad:?}: {d}");
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let expected = match at {
        None => line_of(bad.lines().next().unwrap_or(bad)),
        Some(At::Line(needle)) => line_of(needle),
        Some(At::TableOf(needle)) => {
            let lines: Vec<&str> = text.lines().collect();
            let mut i = line_of(needle) - 1;
            while !lines[i].starts_with("[[pools.identity_providers]]") {
                i -= 1;
            }
            i + 1
        }
    };
    assert_eq!(d.line, Some(expected), "{bad:?}: {d}");
    assert!(!d.message.is_empty() && !d.fix.is_empty(), "{d}");
    d
}

const IDP: &str = "pools[0].identity_providers";

#[test]
fn every_preset_declares_and_resolves() {
    let config = check_str(GOOD, "cognate.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    let idps = &config.pools[0].identity_providers;
    assert_eq!(idps.len(), 6);
    let resolved: Vec<_> = idps
        .iter()
        .map(|d| d.to_record(None, None, 7, None).unwrap())
        .collect();

    let google = &resolved[0];
    let google_oidc = google.protocol.as_oidc().unwrap();
    assert_eq!(
        google_oidc.issuer.as_deref(),
        Some("https://accounts.google.com")
    );
    assert!(google_oidc.accepts_issuer("accounts.google.com"));
    assert_eq!(google_oidc.hosted_domain.as_deref(), Some("example.com"));
    assert_eq!(google.display_name, "Google");
    assert_eq!((google.created_at, google.updated_at), (7, 7));

    let apple = &resolved[1];
    assert_eq!(
        apple.protocol.as_oidc().unwrap().response_mode,
        ResponseMode::FormPost
    );
    assert!(apple.has_quirk(Quirk::AppleClientSecret));
    assert!(idps[1].uses_apple_key() && !idps[0].uses_apple_key());

    assert!(resolved[2].emails_verified, "overridden");
    assert!(!resolved[3].emails_verified, "the preset's");
    assert_eq!(resolved[3].protocol.kind(), Protocol::Oauth2);

    let okta = &resolved[4];
    let okta_oidc = okta.protocol.as_oidc().unwrap();
    assert_eq!(okta.display_name, "Corporate login");
    assert_eq!(
        okta_oidc.token_endpoint_auth_method,
        TokenEndpointAuthMethod::ClientSecretPost
    );
    assert_eq!(okta.attribute_mapping["custom:tenant"], "tid");
    assert!(!okta.attribute_mapping.contains_key("picture"), "unmapped");
    assert_eq!(okta.attribute_mapping["email"], "email", "the preset's");
    assert_eq!(okta.identifiers, ["corp.example", "corp.example.org"]);
    assert!(okta_oidc.issuer_aliases.is_empty());

    let local = &resolved[5];
    let local_oidc = local.protocol.as_oidc().unwrap();
    assert_eq!(local.display_name, "Local", "the name when nothing else");
    assert_eq!(
        local_oidc.endpoints.jwks.as_deref(),
        Some("http://localhost:9999/jwks")
    );
    assert_eq!(
        local_oidc.endpoints.authorize, None,
        "from discovery at run time"
    );
}

#[test]
fn overriding_the_issuer_drops_the_presets_other_spellings() {
    let text = edit(
        "hosted_domain = \"example.com\"",
        "issuer = \"http://127.0.0.1:4000\"\nendpoints = { token = \"http://127.0.0.1:4000/token\" }",
    );
    let config = check_str(&text, "cognate.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    let record = config.pools[0].identity_providers[0]
        .to_record(None, None, 0, None)
        .unwrap();
    let google = record.protocol.as_oidc().unwrap();
    assert!(google.accepts_issuer("http://127.0.0.1:4000"));
    assert!(!google.accepts_issuer("accounts.google.com"));
    assert!(!google.accepts_issuer("https://accounts.google.com"));
    assert_eq!(
        google.endpoints.token.as_deref(),
        Some("http://127.0.0.1:4000/token")
    );
    assert_eq!(
        google.endpoints.jwks.as_deref(),
        Some("https://www.googleapis.com/oauth2/v3/certs"),
        "endpoints not overridden keep the preset's"
    );
}

#[test]
fn names_follow_cognito() {
    // (The client's supported_identity_providers then names an undeclared "Google".)
    let d = diagnostics(&edit("name = \"Google\"", "name = \"Gmail\""));
    let d = d
        .iter()
        .find(|d| d.path == format!("{IDP}[0].name"))
        .unwrap_or_else(|| panic!("{d:#?}"));
    assert!(d.fix.contains("name = \"Google\""), "{d}");
    // (Also a duplicate of "Facebook", and the client names a now undeclared "Okta".)
    let d = diagnostics(&edit("name = \"Okta\"", "name = \"facebook\""));
    let reserved = d
        .iter()
        .find(|d| d.path == format!("{IDP}[4].name") && d.message.contains("reserved"))
        .unwrap_or_else(|| panic!("{d:#?}"));
    assert!(reserved.fix.contains("preset = \"facebook\""), "{reserved}");
    let d = case(
        "name = \"Local\"",
        "name = \"Cognito\"",
        &format!("{IDP}[5].name"),
        None,
    );
    assert!(d.message.contains("COGNITO"), "{d}");
    for bad in [
        "name = \"My Okta\"",
        "name = \"\"",
        "name = \"abcdefghijklmnopqrstuvwxyz0123456\"",
    ] {
        case("name = \"Local\"", bad, &format!("{IDP}[5].name"), None);
    }
    let d = case(
        "name = \"Local\"",
        "name = \"okta\"",
        &format!("{IDP}[5].name"),
        None,
    );
    assert!(d.message.contains("also declared"), "{d}");
    // Once renamed, a client naming the old name is refused with the declared names.
    let text = edit("name = \"Okta\"", "name = \"Corp.IdP-1\"");
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(
        d[0].path,
        "pools[0].clients[0].supported_identity_providers[5]"
    );
    assert!(d[0].fix.contains("\"Corp.IdP-1\""), "{}", d[0]);
}

#[test]
fn presets_and_protocol_needs() {
    let d = case(
        "preset = \"amazon\"",
        "preset = \"github\"",
        &format!("{IDP}[3].preset"),
        None,
    );
    assert!(
        d.fix.contains("google, apple, facebook, amazon, oidc"),
        "{d}"
    );
    let d = case(
        "issuer = \"https://corp.okta.com\"\n",
        "",
        &format!("{IDP}[4]"),
        Some(At::TableOf("name = \"Okta\"")),
    );
    assert!(d.message.contains("issuer"), "{d}");
    // A generic OAuth 2.0 provider through the oidc preset needs its endpoints.
    let d = case(
        "endpoints = { jwks = \"http://localhost:9999/jwks\" }",
        "protocol = \"oauth2\"\nendpoints = { authorize = \"https://github.com/login/oauth/authorize\", token = \"https://github.com/login/oauth/access_token\" }",
        &format!("{IDP}[5].endpoints"),
        Some(At::Line("endpoints = {")),
    );
    assert!(d.message.contains("profile"), "{d}");
    case(
        "preset = \"amazon\"",
        "preset = \"amazon\"\nscopes = []",
        &format!("{IDP}[3].scopes"),
        Some(At::Line("scopes = []")),
    );
    case(
        "preset = \"amazon\"",
        "preset = \"amazon\"\nscopes = [\"profile postal_code\"]",
        &format!("{IDP}[3].scopes[0]"),
        Some(At::Line("scopes = [")),
    );
    case(
        "preset = \"amazon\"",
        "preset = \"amazon\"\nsubject_claim = \"\"",
        &format!("{IDP}[3].subject_claim"),
        Some(At::Line("subject_claim")),
    );
    // A misspelt override is an unknown key, with the allowed ones listed.
    let text = edit("emails_verified = true", "email_verified = true");
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert!(d[0].fix.contains("emails_verified"), "{}", d[0]);
    let text = edit(
        "token_endpoint_auth_method = \"client_secret_post\"",
        "token_endpoint_auth_method = \"private_key_jwt\"",
    );
    assert!(diagnostics(&text)[0].fix.contains("client_secret_basic"));
}

#[test]
fn urls_are_https_except_on_loopback() {
    let d = case(
        "issuer = \"https://corp.okta.com\"",
        "issuer = \"http://corp.okta.com\"",
        &format!("{IDP}[4].issuer"),
        None,
    );
    assert!(d.message.contains("loopback"), "{d}");
    case(
        "endpoints = { jwks = \"http://localhost:9999/jwks\" }",
        "endpoints = { jwks = \"ftp://localhost/jwks\" }",
        &format!("{IDP}[5].endpoints.jwks"),
        None,
    );
    case(
        "endpoints = { jwks = \"http://localhost:9999/jwks\" }",
        "endpoints = { userinfo = \"/userinfo\" }",
        &format!("{IDP}[5].endpoints.userinfo"),
        None,
    );
    case(
        "preset = \"amazon\"",
        "preset = \"amazon\"\nissuer_aliases = [\"two words\"]",
        &format!("{IDP}[3].issuer_aliases[0]"),
        Some(At::Line("issuer_aliases")),
    );
}

#[test]
fn secrets_come_from_the_environment_only() {
    let d = case(
        "client_secret_env = \"FB_SECRET\"",
        "client_secret_env = \"FB_SECRET\"\nclient_secret = \"hunter2\"",
        &format!("{IDP}[2].client_secret"),
        Some(At::Line("client_secret = \"hunter2\"")),
    );
    assert!(!d.to_string().contains("hunter2"), "{d}");
    case(
        "private_key_env = \"APPLE_KEY\"",
        "private_key_env = \"APPLE_KEY\"\nprivate_key = \"-----BEGIN PRIVATE KEY-----\"",
        &format!("{IDP}[1].private_key"),
        Some(At::Line("private_key = ")),
    );
    let d = case(
        "client_secret_env = \"AMAZON_SECRET\"\n",
        "",
        &format!("{IDP}[3]"),
        Some(At::TableOf("name = \"LoginWithAmazon\"")),
    );
    assert!(d.message.contains("client_secret_env"), "{d}");
    case(
        "client_secret_env = \"AMAZON_SECRET\"",
        "client_secret_env = \"amazon-secret\"",
        &format!("{IDP}[3].client_secret_env"),
        None,
    );
    case(
        "client_id = \"0oa1\"",
        "client_id = \" \"",
        &format!("{IDP}[4].client_id"),
        None,
    );
}

#[test]
fn apple_takes_a_key_not_a_secret() {
    let d = case(
        "team_id = \"ABCDE12345\"\n",
        "",
        &format!("{IDP}[1]"),
        Some(At::TableOf("name = \"SignInWithApple\"")),
    );
    assert!(d.message.contains("team_id"), "{d}");
    case(
        "key_id = \"ABC123DEFG\"",
        "key_id = \"ABC\"",
        &format!("{IDP}[1].key_id"),
        None,
    );
    case(
        "private_key_env = \"APPLE_KEY\"",
        "private_key_env = \"APPLE_KEY\"\nclient_secret_env = \"APPLE_SECRET\"",
        &format!("{IDP}[1].client_secret_env"),
        Some(At::Line("client_secret_env = \"APPLE_SECRET\"")),
    );
    let d = case(
        "client_secret_env = \"GOOGLE_SECRET\"",
        "client_secret_env = \"GOOGLE_SECRET\"\nteam_id = \"ABCDE12345\"",
        &format!("{IDP}[0].team_id"),
        Some(At::Line("team_id = \"ABCDE12345\"")),
    );
    assert!(d.message.contains("only for Sign in with Apple"), "{d}");
}

#[test]
fn mapping_identifiers_and_google_domain() {
    let d = case(
        "attribute_mapping = { \"custom:tenant\" = \"tid\", picture = \"\" }",
        "attribute_mapping = { \"custom:nope\" = \"tid\" }",
        &format!("{IDP}[4].attribute_mapping.custom:nope"),
        None,
    );
    assert!(d.message.contains("custom:nope"), "{d}");
    case(
        "attribute_mapping = { \"custom:tenant\" = \"tid\", picture = \"\" }",
        "attribute_mapping = { sub = \"oid\" }",
        &format!("{IDP}[4].attribute_mapping.sub"),
        None,
    );
    case(
        "emails_verified = true",
        "hosted_domain = \"example.org\"",
        &format!("{IDP}[2].hosted_domain"),
        None,
    );
    case(
        "hosted_domain = \"example.com\"",
        "hosted_domain = \"not a domain\"",
        &format!("{IDP}[0].hosted_domain"),
        None,
    );
    case(
        "identifiers = [\"corp.example\", \"corp.example.org\"]",
        "identifiers = [\"corp.example\", \"two words\"]",
        &format!("{IDP}[4].identifiers[1]"),
        None,
    );
    let d = case(
        "issuer = \"http://127.0.0.1:9999\"",
        "issuer = \"http://127.0.0.1:9999\"\nidentifiers = [\"CORP.example\"]",
        &format!("{IDP}[5].identifiers[0]"),
        Some(At::Line("identifiers = [\"CORP")),
    );
    assert!(d.message.contains("also claimed"), "{d}");
    case(
        "display_name = \"Corporate login\"",
        "display_name = \"\"",
        &format!("{IDP}[4].display_name"),
        None,
    );
}

#[test]
fn the_environment_supplies_secrets_and_apple_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cognate.toml");
    std::fs::write(&path, GOOD).unwrap();
    let (pem, _) = crate::federation::oauth::apple::tests::p8();
    let full = |name: &str| match name {
        "GOOGLE_SECRET" | "FB_SECRET" | "AMAZON_SECRET" | "OKTA_SECRET" | "LOCAL_SECRET" => {
            Some(format!("secret-of-{name}"))
        }
        "APPLE_KEY" => Some(pem.clone()),
        _ => None,
    };
    let config = Config::load_with_env(Some(&path), &full).unwrap();
    let idps = &config.pools[0].identity_providers;
    assert_eq!(
        idps[0].client_secret.as_ref().map(|s| s.expose()),
        Some("secret-of-GOOGLE_SECRET")
    );
    assert_eq!(
        idps[1].private_key.as_ref().map(|s| s.expose()),
        Some(pem.as_str())
    );
    assert!(idps[1].client_secret.is_none());
    assert!(!format!("{config:?}").contains("secret-of-"));

    let missing = |name: &str| match name {
        "APPLE_KEY" => Some("-----BEGIN RSA PRIVATE KEY-----\nAAAA".to_string()),
        "OKTA_SECRET" => None,
        other => full(other),
    };
    let d = Config::load_with_env(Some(&path), &missing).unwrap_err();
    let vars: Vec<&str> = d.iter().map(|d| d.path.as_str()).collect();
    assert_eq!(vars, ["APPLE_KEY", "OKTA_SECRET"], "{d:#?}");
    assert!(d[0].message.contains("AuthKey_<KEY ID>.p8"), "{}", d[0]);
    assert!(!d[0].to_string().contains("AAAA"), "{}", d[0]);
    assert!(d[1].message.contains("\"Okta\""), "{}", d[1]);
}

#[test]
fn linking_by_email_needs_a_provider_that_vouches_for_addresses() {
    let pool = |providers: &str| {
        format!(
            "[[pools]]\nname = \"p\"\nlink_federated_users_by_email = true\n{providers}\n\
             [[pools.clients]]\nname = \"web\"\ncallback_urls = [\"https://app.example.com/cb\"]\n\
             allowed_oauth_flows = [\"code\"]\nallowed_oauth_scopes = [\"openid\"]\n"
        )
    };
    let facebook = |extra: &str| {
        format!(
            "[[pools.identity_providers]]\nname = \"Facebook\"\npreset = \"facebook\"\n\
             client_id = \"1\"\nclient_secret_env = \"FB\"\n{extra}\n"
        )
    };
    let google = |extra: &str| {
        format!(
            "[[pools.identity_providers]]\nname = \"Google\"\npreset = \"google\"\n\
             client_id = \"g\"\nclient_secret_env = \"G\"\n{extra}\n"
        )
    };
    // Facebook sends no email_verified and is not declared to verify addresses; Google's
    // `email_verified` unmapped; no provider at all: nothing could ever be linked.
    for providers in [
        facebook(""),
        google("attribute_mapping = { email_verified = \"\" }"),
        String::new(),
    ] {
        let text = pool(&providers);
        let d = diagnostics(&text);
        assert_eq!(d.len(), 1, "{providers}: {d:#?}");
        assert_eq!(d[0].path, "pools[0].link_federated_users_by_email");
        let line = text
            .lines()
            .position(|l| l.starts_with("link_federated_users_by_email"))
            .unwrap()
            + 1;
        assert_eq!(d[0].line, Some(line), "{}", d[0]);
        assert!(d[0].fix.contains("emails_verified = true"), "{}", d[0]);
    }
    // The corrected files pass: a provider declared to verify addresses, or one that
    // sends `email_verified`.
    for providers in [
        facebook("emails_verified = true"),
        facebook("") + &google(""),
    ] {
        let d = diagnostics(&pool(&providers));
        assert!(d.is_empty(), "{providers}: {d:#?}");
    }
    // Off (the default), nothing is asked of the providers.
    let d = diagnostics(&pool(&facebook("")).replace("link_federated_users_by_email = true\n", ""));
    assert!(d.is_empty(), "{d:#?}");

    // A provider vouches only for domains it is authorized for: an enterprise OIDC
    // provider without identifiers, or a social one that opted out, authorizes none.
    let corp = |extra: &str| {
        format!(
            "[[pools.identity_providers]]\nname = \"Corp\"\npreset = \"oidc\"\n\
             issuer = \"https://idp.corp.example\"\nclient_id = \"c\"\n\
             client_secret_env = \"CORP\"\n{extra}\n"
        )
    };
    for providers in [corp(""), google("link_by_email = false")] {
        let d = diagnostics(&pool(&providers));
        assert_eq!(d.len(), 1, "{providers}: {d:#?}");
        assert_eq!(d[0].path, "pools[0].link_federated_users_by_email");
        assert!(d[0].message.contains("identifiers"), "{}", d[0]);
    }
    for providers in [
        corp("identifiers = [\"corp.example\"]"),
        corp("link_by_email = true"),
        google("link_by_email = false\nidentifiers = [\"gmail.com\"]"),
    ] {
        let d = diagnostics(&pool(&providers));
        assert!(d.is_empty(), "{providers}: {d:#?}");
    }
    // `link_by_email = true` on a pool that does not link is a promise nothing keeps.
    let text =
        pool(&corp("link_by_email = true")).replace("link_federated_users_by_email = true\n", "");
    let d = diagnostics(&text);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].path, "pools[0].identity_providers[0].link_by_email");
    assert!(
        d[0].fix.contains("link_federated_users_by_email"),
        "{}",
        d[0]
    );
}
