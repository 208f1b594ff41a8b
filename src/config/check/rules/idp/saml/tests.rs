//! SAML providers in the configuration file: declared from metadata (a file beside the
//! configuration, or inline), each refusal at the key that caused it, and the keys of the
//! other protocol refused on each.

use crate::config::check::{check_file, check_str, Diagnostic};
use crate::config::Config;
use crate::core::model::{Protocol, ProviderType, SamlBinding};

const OKTA: &str = include_str!("../../../../../../tests/fixtures/saml/okta.xml");
const KEYCLOAK: &str = include_str!("../../../../../../tests/fixtures/saml/keycloak.xml");
const GOOGLE: &str = include_str!("../../../../../../tests/fixtures/saml/google.xml");

const IDP: &str = "pools[0].identity_providers";

/// A pool with an OIDC provider and a SAML one declared from `okta.xml`; the cases
/// below change one thing at a time.
const GOOD: &str = r#"[[pools]]
id = "us-east-1_Saml12345"
name = "enterprise"

[[pools.identity_providers]]
name = "Corp"
preset = "oidc"
client_id = "c"
client_secret_env = "CORP_SECRET"
issuer = "https://idp.corp.example"

[[pools.identity_providers]]
name = "Okta"
preset = "saml"
metadata_file = "okta.xml"
identifiers = ["okta.example"]
user_id_attribute = "uid"
allow_sha1 = true
allow_aes_cbc = true
groups_attribute = "memberOf"
group_mapping = { "Engineering" = "staff", "Admins" = "admins" }
attribute_mapping = { phone_number = "mobile" }
display_name = "Okta SSO"

[[pools.clients]]
id = "samlclient1"
name = "web"
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]
supported_identity_providers = ["COGNITO", "Corp", "Okta"]
"#;

/// A directory with the fixtures' metadata beside the configuration file `text`.
fn dir_with(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, xml) in [
        ("okta.xml", OKTA),
        ("keycloak.xml", KEYCLOAK),
        ("google.xml", GOOGLE),
    ] {
        std::fs::write(dir.path().join(name), xml).unwrap();
    }
    std::fs::write(dir.path().join("cognate.toml"), text).unwrap();
    dir
}

fn check(text: &str) -> (tempfile::TempDir, Result<Config, Vec<Diagnostic>>) {
    let dir = dir_with(text);
    let result = check_file(&dir.path().join("cognate.toml"));
    (dir, result)
}

fn edit(from: &str, to: &str) -> String {
    assert_eq!(GOOD.matches(from).count(), 1, "{from:?} must occur once");
    GOOD.replace(from, to)
}

/// Replacing `from` by `to` gives exactly one diagnostic, at `path`, on the line holding
/// `line`, or for `None` on the header of the table holding the SAML provider (`Okta`);
/// the message and fix are never empty.
#[track_caller]
fn one(from: &str, to: &str, path: &str, line: Option<&str>) -> Diagnostic {
    one_in_table(from, to, path, line, "name = \"Okta\"")
}

/// As [`one`], for `None` on the header of the table whose name line holds `table`.
#[track_caller]
fn one_in_table(from: &str, to: &str, path: &str, line: Option<&str>, table: &str) -> Diagnostic {
    let text = edit(from, to);
    let (_dir, result) = check(&text);
    let d = result.err().unwrap_or_default();
    assert_eq!(d.len(), 1, "{to:?}: expected one diagnostic, got {d:#?}");
    let d = d.into_iter().next().unwrap();
    assert_eq!(d.path, path, "{to:?}: {d}");
    let expected = match line {
        Some(needle) => text.lines().position(|l| l.contains(needle)).unwrap() + 1,
        // The header is the line before the name (0-based index = 1-based line above).
        None => text.lines().position(|l| l.contains(table)).unwrap(),
    };
    assert_eq!(d.line, Some(expected), "{to:?}: {d}");
    assert!(d.column.is_some(), "{d}");
    assert!(!d.message.is_empty() && !d.fix.is_empty(), "{d}");
    d
}

#[test]
fn a_saml_provider_declared_from_a_metadata_file_resolves() {
    let (_dir, result) = check(GOOD);
    let config = result.unwrap_or_else(|d| panic!("{d:#?}"));
    let decl = &config.pools[0].identity_providers[1];
    assert!(decl.is_saml() && !config.pools[0].identity_providers[0].is_saml());
    let record = decl.to_record(None, None, 9, None).unwrap();
    assert_eq!(record.provider_type, ProviderType::Saml);
    assert_eq!(record.preset, "saml");
    assert_eq!(record.protocol.kind(), Protocol::Saml);
    assert_eq!(record.client_id, "", "no OAuth client id");
    assert_eq!(record.subject_claim, "");
    assert_eq!(record.display_name, "Okta SSO");
    assert_eq!(record.identifiers, ["okta.example"]);
    assert!(!record.link_by_email && !record.emails_verified);
    assert_eq!(record.attribute_mapping["phone_number"], "mobile");
    assert_eq!(
        record.attribute_mapping["email"],
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        "the preset's"
    );
    let saml = record.protocol.as_saml().unwrap();
    assert_eq!(saml.entity_id, "http://www.okta.com/exk1a2b3c4d5E6f7g8h9");
    assert_eq!(saml.signing_certificates.len(), 1);
    assert!(saml.sso_post_url.is_some() && saml.sso_redirect_url.is_some());
    assert_eq!(saml.request_binding, SamlBinding::Redirect);
    assert!(!saml.sign_requests, "Okta's metadata does not want them");
    assert!(saml.allow_sha1);
    assert!(saml.allow_aes_cbc);
    assert_eq!(saml.user_id_attribute.as_deref(), Some("uid"));
    assert_eq!(saml.groups_attribute.as_deref(), Some("memberOf"));
    assert_eq!(saml.group_mapping["Engineering"], "staff");
    assert_eq!(saml.group_mapping.len(), 2);
    // Resolving again gives the same record (what makes a re-apply a no-op).
    assert_eq!(decl.to_record(None, None, 9, Some(&record)), Some(record));
}

#[test]
fn inline_metadata_and_the_operators_choices() {
    // Signed requests by the POST binding are not made yet: refused, not ignored.
    let inline = format!(
        "metadata = '''\n{}'''\nrequest_binding = \"post\"\nsign_requests = true",
        KEYCLOAK.trim()
    );
    let text = edit("metadata_file = \"okta.xml\"", &inline);
    let refused = check_str(&text, "cognate.toml").expect_err("signed POST-binding requests");
    assert!(
        refused
            .iter()
            .any(|d| format!("{d:?}").contains("HTTP-POST binding")),
        "{refused:#?}"
    );
    let inline = format!(
        "metadata = '''\n{}'''\nrequest_binding = \"redirect\"\nsign_requests = true",
        KEYCLOAK.trim()
    );
    let text = edit("metadata_file = \"okta.xml\"", &inline);
    // Inline metadata needs no directory.
    let config = check_str(&text, "cognate.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    let record = config.pools[0].identity_providers[1]
        .to_record(None, None, 0, None)
        .unwrap();
    let saml = record.protocol.as_saml().unwrap();
    assert_eq!(saml.entity_id, "https://keycloak.example.com/realms/corp");
    assert_eq!(saml.request_binding, SamlBinding::Redirect);
    assert!(saml.sign_requests);
    // The defaults: Keycloak wants signed requests; redirect when offered.
    let text = edit(
        "metadata_file = \"okta.xml\"",
        "metadata_file = \"keycloak.xml\"",
    )
    .replace("allow_sha1 = true\n", "")
    .replace("allow_aes_cbc = true\n", "");
    let (_dir, result) = check(&text);
    let config = result.unwrap_or_else(|d| panic!("{d:#?}"));
    let record = config.pools[0].identity_providers[1]
        .to_record(None, None, 0, None)
        .unwrap();
    let saml = record.protocol.as_saml().unwrap();
    assert!(saml.sign_requests && !saml.allow_sha1 && !saml.allow_aes_cbc);
    assert_eq!(saml.request_binding, SamlBinding::Redirect);
}

#[test]
fn a_missing_or_refused_metadata_file_is_reported_at_its_key_with_the_reason() {
    let d = one(
        "metadata_file = \"okta.xml\"",
        "metadata_file = \"nowhere.xml\"",
        &format!("{IDP}[1].metadata_file"),
        Some("nowhere.xml"),
    );
    assert!(
        d.message
            .contains("cannot read metadata file \"nowhere.xml\"")
            && d.message.contains("No such file"),
        "{d}"
    );
    // The location is the value's: file:line:col.
    let shown = d.to_string();
    assert!(
        shown.contains(&format!("cognate.toml:{}:17: ", d.line.unwrap())),
        "{shown}"
    );

    // A file that is not metadata, one without a signing certificate, one with a bad
    // certificate: the parser's reason.
    let dir = dir_with(GOOD);
    let no_cert = OKTA.replace(
        "<md:KeyDescriptor use=\"signing\">",
        "<md:KeyDescriptor use=\"encryption\">",
    );
    let bad_cert = OKTA.replace("<ds:X509Certificate>MII", "<ds:X509Certificate>MIX");
    for (content, reason) in [
        ("<html><body>Sign in</body></html>", "not SAML 2.0 metadata"),
        (no_cert.as_str(), "no signing certificate"),
        (bad_cert.as_str(), "not a DER X.509 certificate"),
        ("<md:EntityDescriptor", "not well-formed XML"),
    ] {
        std::fs::write(dir.path().join("okta.xml"), content).unwrap();
        let d = check_file(&dir.path().join("cognate.toml")).unwrap_err();
        assert_eq!(d.len(), 1, "{reason}: {d:#?}");
        assert_eq!(d[0].path, format!("{IDP}[1].metadata_file"));
        assert!(
            d[0].message
                .contains("metadata file \"okta.xml\" is refused")
                && d[0].message.contains(reason),
            "{}",
            d[0]
        );
        assert_eq!(d[0].line, Some(15), "{}", d[0]);
    }
    // Inline, likewise at its key.
    let d = one(
        "metadata_file = \"okta.xml\"",
        "metadata = \"<md:EntityDescriptor xmlns:md='urn:oasis:names:tc:SAML:2.0:metadata'/>\"",
        &format!("{IDP}[1].metadata"),
        Some("metadata = "),
    );
    assert!(d.message.contains("the inline metadata is refused"), "{d}");
}

#[test]
fn the_cores_refusal_of_a_metadata_value_is_placed_on_the_metadata_key() {
    // Metadata the parser reads, with SSO endpoints over plain http on a public host.
    let inline = format!(
        "metadata = '''{}'''",
        OKTA.trim()
            .replace("https://dev-123456", "http://dev-123456")
    );
    let text = edit("metadata_file = \"okta.xml\"", &inline);
    let d = check_str(&text, "cognate.toml").unwrap_err();
    assert_eq!(d.len(), 2, "{d:#?}");
    let line = text
        .lines()
        .position(|l| l.starts_with("metadata = "))
        .unwrap()
        + 1;
    for d in &d {
        assert_eq!(d.path, format!("{IDP}[1].metadata"));
        assert!(
            d.message.starts_with("the IdP's metadata: ") && d.message.contains("uses http"),
            "{d}"
        );
        assert_eq!(d.line, Some(line), "{d}");
    }
}

#[test]
fn metadata_is_given_exactly_once() {
    let d = one(
        "metadata_file = \"okta.xml\"\n",
        "",
        &format!("{IDP}[1]"),
        None,
    );
    assert!(d.message.contains("metadata_file"), "{d}");
    let d = one(
        "metadata_file = \"okta.xml\"",
        "metadata_file = \"okta.xml\"\nmetadata = \"<x/>\"",
        &format!("{IDP}[1].metadata_file"),
        Some("metadata_file"),
    );
    assert!(d.message.contains("twice"), "{d}");
}

#[test]
fn oauth_keys_on_a_saml_provider_are_refused() {
    for key in [
        "client_id = \"abc\"",
        "client_secret_env = \"OKTA_SECRET\"",
        "scopes = [\"openid\"]",
        "issuer = \"https://okta.example\"",
        "pkce = true",
        "subject_claim = \"sub\"",
        "endpoints = { token = \"https://okta.example/token\" }",
        "response_mode = \"form_post\"",
        "hosted_domain = \"example.com\"",
        "quirks = []",
    ] {
        let field = key.split(' ').next().unwrap();
        let d = one(
            "metadata_file = \"okta.xml\"",
            &format!("metadata_file = \"okta.xml\"\n{key}"),
            &format!("{IDP}[1].{field}"),
            Some(key),
        );
        assert!(
            d.message
                .contains("is an OAuth 2.0 / OpenID Connect setting; a SAML provider"),
            "{d}"
        );
    }
    // The OIDC provider beside it is unaffected, and needs its client id.
    let d = one_in_table(
        "client_id = \"c\"\n",
        "",
        &format!("{IDP}[0]"),
        None,
        "name = \"Corp\"",
    );
    assert!(d.message.contains("missing key `client_id`"), "{d}");
}

#[test]
fn saml_keys_on_an_oidc_provider_are_refused() {
    for key in [
        "metadata_file = \"okta.xml\"",
        "metadata = \"<x/>\"",
        "allow_sha1 = true",
        "allow_aes_cbc = true",
        "user_id_attribute = \"uid\"",
        "request_binding = \"post\"",
        "sign_requests = true",
        "groups_attribute = \"groups\"",
        "group_mapping = { a = \"b\" }",
        "idp_initiated = { client_id = \"c\", redirect_uri = \"https://a/cb\" }",
    ] {
        let field = key.split(' ').next().unwrap();
        let d = one(
            "client_secret_env = \"CORP_SECRET\"",
            &format!("client_secret_env = \"CORP_SECRET\"\n{key}"),
            &format!("{IDP}[0].{field}"),
            Some(key),
        );
        assert!(d.message.contains("is a SAML setting"), "{d}");
    }
    let d = one(
        "preset = \"oidc\"",
        "preset = \"oidc\"\nprotocol = \"saml\"",
        &format!("{IDP}[0].protocol"),
        Some("protocol = \"saml\""),
    );
    assert!(d.fix.contains("preset = \"saml\""), "{d}");
    one(
        "preset = \"saml\"",
        "preset = \"saml\"\nprotocol = \"oidc\"",
        &format!("{IDP}[1].protocol"),
        Some("protocol = \"oidc\""),
    );
}

#[test]
fn group_mapping_targets_bindings_and_names_follow_the_rules() {
    let d = one(
        "\"Admins\" = \"admins\"",
        "\"Admins\" = \"two words\"",
        &format!("{IDP}[1].group_mapping.Admins"),
        Some("group_mapping"),
    );
    assert!(d.message.contains("not a group name"), "{d}");
    // Google Workspace offers HTTP-Redirect only.
    let d = one(
        "metadata_file = \"okta.xml\"",
        "metadata_file = \"google.xml\"\nrequest_binding = \"post\"",
        &format!("{IDP}[1].request_binding"),
        Some("request_binding"),
    );
    assert!(d.message.contains("HTTP-POST"), "{d}");
    // With metadata that was refused, only the metadata's refusal is reported.
    let d = one(
        "metadata_file = \"okta.xml\"",
        "metadata_file = \"nowhere.xml\"\nrequest_binding = \"post\"",
        &format!("{IDP}[1].metadata_file"),
        Some("nowhere.xml"),
    );
    assert!(d.message.contains("cannot read"), "{d}");
    // Keycloak wants signed requests: they cannot be turned off.
    let d = one(
        "metadata_file = \"okta.xml\"",
        "metadata_file = \"keycloak.xml\"\nsign_requests = false",
        &format!("{IDP}[1].sign_requests"),
        Some("sign_requests"),
    );
    assert!(d.message.contains("WantAuthnRequestsSigned"), "{d}");
    one(
        "user_id_attribute = \"uid\"",
        "user_id_attribute = \"\"",
        &format!("{IDP}[1].user_id_attribute"),
        Some("user_id_attribute"),
    );
    let text = edit("name = \"Okta\"", "name = \"Ok_ta\"")
        .replace("\"Corp\", \"Okta\"]", "\"Corp\", \"Ok_ta\"]");
    let (_dir, result) = check(&text);
    let d = result.unwrap_err();
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].path, format!("{IDP}[1].name"));
    assert!(d[0].message.contains("ProviderName"), "{}", d[0]);
    // `_` only as the second character, as Cognito's pattern has it.
    let text = text.replace("Ok_ta", "O_kta");
    let (_dir, result) = check(&text);
    assert!(result.is_ok(), "{result:#?}");
}
