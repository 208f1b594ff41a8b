//! Metadata as the vendors publish it (fixtures under tests/fixtures/saml/, shaped after
//! Okta, Entra ID / ADFS, Keycloak, Shibboleth and Google Workspace), and each refusal.

use super::*;

const OKTA: &str = include_str!("../../../../tests/fixtures/saml/okta.xml");
const ENTRA: &str = include_str!("../../../../tests/fixtures/saml/entra.xml");
const KEYCLOAK: &str = include_str!("../../../../tests/fixtures/saml/keycloak.xml");
const SHIBBOLETH: &str = include_str!("../../../../tests/fixtures/saml/shibboleth.xml");
const GOOGLE: &str = include_str!("../../../../tests/fixtures/saml/google.xml");
const CERT_A: &str = include_str!("../../../../tests/fixtures/saml/cert_idp_a.b64");
const CERT_B: &str = include_str!("../../../../tests/fixtures/saml/cert_idp_b.b64");
const CERT_WEAK: &str = include_str!("../../../../tests/fixtures/saml/cert_weak.b64");
const CERT_EC: &str = include_str!("../../../../tests/fixtures/saml/cert_ec.b64");

const REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

fn a() -> String {
    CERT_A.trim().to_string()
}

fn b() -> String {
    CERT_B.trim().to_string()
}

/// A minimal IdP metadata document around `inner` (the IDPSSODescriptor's content).
fn idp(entity: &str, inner: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="{MD_NS}" xmlns:ds="{DS_NS}" {entity}>
  <md:IDPSSODescriptor protocolSupportEnumeration="{SAML2_PROTOCOL}">{inner}</md:IDPSSODescriptor>
</md:EntityDescriptor>"#
    )
}

fn key(use_: &str, cert: &str) -> String {
    format!(
        r#"<md:KeyDescriptor {use_}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#
    )
}

fn sso(binding: &str) -> String {
    format!(
        r#"<md:SingleSignOnService Binding="{binding}" Location="https://idp.example.com/sso"/>"#
    )
}

fn good_inner() -> String {
    format!(
        "{}{}",
        key(r#"use="signing""#, CERT_A.trim()),
        sso(REDIRECT)
    )
}

const ENTITY: &str = r#"entityID="https://idp.example.com/metadata""#;

#[test]
fn okta_metadata_gives_both_bindings_and_its_certificate() {
    let m = parse(OKTA).unwrap();
    assert_eq!(m.entity_id, "http://www.okta.com/exk1a2b3c4d5E6f7g8h9");
    let sso = "https://dev-123456.okta.com/app/dev-123456_cognate_1/exk1a2b3c4d5E6f7g8h9/sso/saml";
    assert_eq!(m.sso_post_url.as_deref(), Some(sso));
    assert_eq!(m.sso_redirect_url.as_deref(), Some(sso));
    assert_eq!(m.slo_redirect_url, None);
    assert!(!m.want_authn_requests_signed);
    assert_eq!(m.signing_certificates, [a()]);
    assert_eq!(m.bindings(), [SamlBinding::Redirect, SamlBinding::Post]);
    assert_eq!(m.default_binding(), SamlBinding::Redirect);
}

#[test]
fn entra_metadata_keeps_only_the_idp_roles_signing_certificates_once_each() {
    // Default namespace, a metadata Signature, WS-Federation RoleDescriptors and an
    // SPSSODescriptor with an encryption key beside the IdP role, which lists certificate A
    // twice and B (a rollover).
    let m = parse(ENTRA).unwrap();
    assert_eq!(
        m.entity_id,
        "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
    );
    assert_eq!(m.signing_certificates, [a(), b()]);
    let url = "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/saml2";
    assert_eq!(m.sso_redirect_url.as_deref(), Some(url));
    assert_eq!(m.sso_post_url.as_deref(), Some(url));
    assert_eq!(m.slo_redirect_url.as_deref(), Some(url));
}

#[test]
fn keycloak_metadata_wants_signed_requests_and_other_bindings_are_ignored() {
    let m = parse(KEYCLOAK).unwrap();
    assert_eq!(m.entity_id, "https://keycloak.example.com/realms/corp");
    assert!(m.want_authn_requests_signed);
    let url = "https://keycloak.example.com/realms/corp/protocol/saml";
    assert_eq!(m.sso_redirect_url.as_deref(), Some(url));
    assert_eq!(m.sso_post_url.as_deref(), Some(url));
    assert_eq!(m.slo_redirect_url.as_deref(), Some(url));
    assert_eq!(m.signing_certificates, [a()]);
    let settings = m.to_settings();
    assert!(settings.sign_requests);
    assert_eq!(settings.request_binding, SamlBinding::Redirect);
}

#[test]
fn a_shibboleth_federation_file_with_one_idp_gives_that_idp() {
    // An EntitiesDescriptor with the IdP and an SP; wrapped base64 in the certificate; an
    // encryption key and non-SAML-2 bindings beside the ones Cognate uses.
    let m = parse(SHIBBOLETH).unwrap();
    assert_eq!(m.entity_id, "https://idp.university.example/idp/shibboleth");
    assert_eq!(m.signing_certificates, [a()]);
    assert_eq!(
        m.sso_post_url.as_deref(),
        Some("https://idp.university.example/idp/profile/SAML2/POST/SSO")
    );
    assert_eq!(
        m.sso_redirect_url.as_deref(),
        Some("https://idp.university.example/idp/profile/SAML2/Redirect/SSO")
    );
    // Its single logout is by HTTP-POST only.
    assert_eq!(m.slo_redirect_url, None);
}

#[test]
fn google_workspace_metadata_offers_redirect_only() {
    let m = parse(GOOGLE).unwrap();
    assert_eq!(
        m.entity_id,
        "https://accounts.google.com/o/saml2?idpid=C01abcd2e"
    );
    assert_eq!(m.sso_post_url, None);
    assert_eq!(m.bindings(), [SamlBinding::Redirect]);
    assert_eq!(m.signing_certificates, [a()]);
    let settings = m.to_settings();
    assert_eq!(settings.entity_id, m.entity_id);
    assert_eq!(settings.request_binding, SamlBinding::Redirect);
    assert!(!settings.sign_requests && !settings.allow_sha1);
    assert_eq!(settings.user_id_attribute, None);
    assert!(settings.group_mapping.is_empty());
    assert_eq!(
        m.to_string(),
        "entity id https://accounts.google.com/o/saml2?idpid=C01abcd2e, SSO by \
         HTTP-Redirect, 1 signing certificate(s)"
    );
}

#[test]
fn post_only_metadata_defaults_to_post() {
    let inner = format!("{}{}", key("", CERT_A.trim()), sso(POST));
    let m = parse(&idp(ENTITY, &inner)).unwrap();
    assert_eq!(m.default_binding(), SamlBinding::Post);
    assert_eq!(m.to_settings().request_binding, SamlBinding::Post);
    // A KeyDescriptor without `use` is for signing too.
    assert_eq!(m.signing_certificates, [a()]);
}

#[test]
fn the_honest_minimal_document_parses() {
    let m = parse(&idp(ENTITY, &good_inner())).unwrap();
    assert_eq!(m.entity_id, "https://idp.example.com/metadata");
    // Saved on Windows: a byte order mark and CRLF line ends.
    let windows = format!("\u{feff}{}", ENTRA.replace('\n', "\r\n"));
    assert_eq!(parse(&windows).unwrap(), parse(ENTRA).unwrap());
}

#[test]
fn metadata_without_an_entity_id_is_refused() {
    for entity in [
        "",
        r#"entityID="""#,
        r#"entityID="  ""#,
        r#"x:entityID="a" xmlns:x="urn:x""#,
    ] {
        let err = parse(&idp(entity, &good_inner())).unwrap_err();
        assert_eq!(err, MetadataError::NoEntityId, "{entity}");
        assert!(err.to_string().contains("entity id"), "{err}");
    }
}

#[test]
fn metadata_without_a_signing_certificate_is_refused() {
    let err = parse(&idp(ENTITY, &sso(REDIRECT))).unwrap_err();
    assert_eq!(err, MetadataError::NoSigningCertificate(false));
    assert!(err.to_string().contains("no signing certificate"), "{err}");

    let inner = format!(
        "{}{}",
        key(r#"use="encryption""#, CERT_A.trim()),
        sso(REDIRECT)
    );
    let err = parse(&idp(ENTITY, &inner)).unwrap_err();
    assert_eq!(err, MetadataError::NoSigningCertificate(true));
    assert!(err.to_string().contains("only encryption keys"), "{err}");

    // A certificate outside the XML Signature namespace is not a KeyInfo certificate.
    let inner = format!(
        r#"<md:KeyDescriptor use="signing"><KeyInfo><X509Data><X509Certificate>{}</X509Certificate></X509Data></KeyInfo></md:KeyDescriptor>{}"#,
        CERT_A.trim(),
        sso(REDIRECT)
    );
    assert_eq!(
        parse(&idp(ENTITY, &inner)).unwrap_err(),
        MetadataError::NoSigningCertificate(false)
    );
}

#[test]
fn metadata_without_a_supported_sso_binding_is_refused_naming_what_it_has() {
    let inner = format!(
        "{}{}{}",
        key("", CERT_A.trim()),
        sso("urn:oasis:names:tc:SAML:2.0:bindings:SOAP"),
        sso("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact")
    );
    let err = parse(&idp(ENTITY, &inner)).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(err, MetadataError::NoSsoEndpoint(ref b) if b.len() == 2),
        "{err:?}"
    );
    assert!(
        text.contains("HTTP-Redirect or HTTP-POST") && text.contains("bindings:SOAP"),
        "{text}"
    );
    // None at all.
    let err = parse(&idp(ENTITY, &key("", CERT_A.trim()))).unwrap_err();
    assert_eq!(err, MetadataError::NoSsoEndpoint(Vec::new()));
    // An endpoint without a Location.
    let inner = format!(
        r#"{}<md:SingleSignOnService Binding="{REDIRECT}"/>"#,
        key("", CERT_A.trim())
    );
    let err = parse(&idp(ENTITY, &inner)).unwrap_err();
    assert!(err.to_string().contains("has no Location"), "{err}");
}

#[test]
fn elements_are_matched_by_namespace_not_by_local_name() {
    // An SSO endpoint in a foreign namespace is not the IdP's endpoint.
    let inner = format!(
        r#"{}<evil:SingleSignOnService xmlns:evil="urn:evil" Binding="{REDIRECT}" Location="https://evil.example/sso"/>"#,
        key("", CERT_A.trim())
    );
    assert_eq!(
        parse(&idp(ENTITY, &inner)).unwrap_err(),
        MetadataError::NoSsoEndpoint(Vec::new())
    );
    // A root EntityDescriptor in no namespace is not metadata.
    let bare = idp(ENTITY, &good_inner())
        .replace(&format!(r#"xmlns:md="{MD_NS}""#), "")
        .replace("md:", "");
    let err = parse(&bare).unwrap_err();
    assert!(
        matches!(err, MetadataError::NotMetadata(ref r) if r == "EntityDescriptor"),
        "{err:?}"
    );
    // Nor is one in a look-alike namespace.
    let other =
        idp(ENTITY, &good_inner()).replacen(MD_NS, "urn:oasis:names:tc:SAML:2.0:metadataX", 1);
    let err = parse(&other).unwrap_err();
    assert!(err.to_string().contains("not SAML 2.0 metadata"), "{err}");
    // An IdP role supporting only SAML 1.1 is no SAML 2.0 IdP.
    let saml11 =
        idp(ENTITY, &good_inner()).replace(SAML2_PROTOCOL, "urn:oasis:names:tc:SAML:1.1:protocol");
    assert_eq!(
        parse(&saml11).unwrap_err(),
        MetadataError::NoIdentityProvider
    );
}

#[test]
fn a_file_of_several_idps_is_refused_naming_them() {
    let entity = |id: &str| {
        format!(
            r#"<md:EntityDescriptor entityID="{id}"><md:IDPSSODescriptor protocolSupportEnumeration="{SAML2_PROTOCOL}">{}</md:IDPSSODescriptor></md:EntityDescriptor>"#,
            good_inner()
        )
    };
    let xml = format!(
        r#"<md:EntitiesDescriptor xmlns:md="{MD_NS}" xmlns:ds="{DS_NS}">{}<md:EntitiesDescriptor>{}</md:EntitiesDescriptor></md:EntitiesDescriptor>"#,
        entity("https://one.example/idp"),
        entity("https://two.example/idp")
    );
    let err = parse(&xml).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("2 identity providers")
            && text.contains("https://one.example/idp")
            && text.contains("https://two.example/idp"),
        "{text}"
    );
    // One of them (nested) is the one.
    let one = format!(
        r#"<md:EntitiesDescriptor xmlns:md="{MD_NS}" xmlns:ds="{DS_NS}"><md:EntitiesDescriptor>{}</md:EntitiesDescriptor></md:EntitiesDescriptor>"#,
        entity("https://two.example/idp")
    );
    assert_eq!(parse(&one).unwrap().entity_id, "https://two.example/idp");
    // None.
    let none = format!(r#"<md:EntitiesDescriptor xmlns:md="{MD_NS}"/>"#);
    assert_eq!(parse(&none).unwrap_err(), MetadataError::NoIdentityProvider);
}

#[test]
fn unusable_certificates_are_refused_with_the_reason() {
    let cases = [
        ("not base64!", "not base64"),
        ("aGVsbG8gd29ybGQ=", "not a DER X.509 certificate"),
        (CERT_WEAK.trim(), "2048 to 8192 bits"),
        (CERT_EC.trim(), "not RSA"),
    ];
    for (cert, reason) in cases {
        let inner = format!(
            "{}{}{}",
            key("", CERT_A.trim()),
            key("", cert),
            sso(REDIRECT)
        );
        let err = parse(&idp(ENTITY, &inner)).unwrap_err();
        assert!(
            matches!(err, MetadataError::BadCertificate { index: 2, .. }),
            "{cert}: {err:?}"
        );
        let text = err.to_string();
        assert!(
            text.contains(reason) && text.contains("certificate 2"),
            "{text}"
        );
    }
    // Empty.
    let inner = format!("{}{}", key("", "  \n "), sso(REDIRECT));
    assert!(parse(&idp(ENTITY, &inner))
        .unwrap_err()
        .to_string()
        .contains("empty"));
    // Whitespace anywhere in the base64 is tolerated, and the stored form has none.
    let spaced: String = CERT_A
        .trim()
        .chars()
        .enumerate()
        .flat_map(|(i, c)| {
            if i % 50 == 49 {
                vec![c, '\n', '\t', ' ']
            } else {
                vec![c]
            }
        })
        .collect();
    let inner = format!("{}{}", key("", &spaced), sso(REDIRECT));
    assert_eq!(
        parse(&idp(ENTITY, &inner)).unwrap().signing_certificates,
        [a()]
    );
}

#[test]
fn want_authn_requests_signed_is_an_xs_boolean() {
    for (value, want) in [
        ("true", Some(true)),
        ("1", Some(true)),
        ("false", Some(false)),
        ("0", Some(false)),
        ("yes", None),
    ] {
        let xml = idp(ENTITY, &good_inner()).replace(
            "<md:IDPSSODescriptor ",
            &format!(r#"<md:IDPSSODescriptor WantAuthnRequestsSigned="{value}" "#),
        );
        match want {
            Some(want) => assert_eq!(parse(&xml).unwrap().want_authn_requests_signed, want),
            None => assert_eq!(
                parse(&xml).unwrap_err(),
                MetadataError::BadBoolean(value.into())
            ),
        }
    }
}

#[test]
fn a_doctype_is_refused_before_any_entity_is_expanded() {
    let laughs = format!(
        r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
{}"#,
        idp(r#"entityID="&lol3;""#, &good_inner())
    );
    assert_eq!(parse(&laughs).unwrap_err(), MetadataError::Doctype);
    let external = format!(
        "<!DOCTYPE md:EntityDescriptor SYSTEM \"file:///etc/passwd\">{}",
        idp(ENTITY, &good_inner())
    );
    assert_eq!(parse(&external).unwrap_err(), MetadataError::Doctype);
}

#[test]
fn huge_deep_or_broken_documents_are_refused_quickly() {
    let started = std::time::Instant::now();
    let huge = format!(
        "{}<!--{}-->",
        idp(ENTITY, &good_inner()),
        "x".repeat(MAX_METADATA_BYTES)
    );
    assert!(matches!(
        parse(&huge).unwrap_err(),
        MetadataError::TooLarge { .. }
    ));
    let deep = format!("{}{}", "<a>".repeat(100_000), "</a>".repeat(100_000));
    assert!(matches!(parse(&deep).unwrap_err(), MetadataError::Xml(_)));
    assert!(matches!(
        parse("<md:EntityDescriptor").unwrap_err(),
        MetadataError::Xml(_)
    ));
    assert!(matches!(parse("").unwrap_err(), MetadataError::Xml(_)));
    assert!(matches!(
        parse("not xml").unwrap_err(),
        MetadataError::Xml(_)
    ));
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// Found while writing the fuzz harness (issue 11), by reading the parser: it checks
/// duplicate attributes in time quadratic in their count (some 5·10⁹ comparisons for one
/// element with 100,000 attributes). The cap refuses it before parsing; real metadata,
/// vendors' included, is under it.
#[test]
fn an_element_with_thousands_of_attributes_is_refused_before_parsing() {
    let attrs: String = (0..100_000).map(|n| format!(" a{n}=\"\"")).collect();
    let doc = idp(&format!("{ENTITY}{attrs}"), &good_inner());
    assert!(doc.len() < MAX_METADATA_BYTES);
    assert_eq!(parse(&doc).unwrap_err(), MetadataError::TooManyAttributes);
    let some: String = (0..MAX_ATTRIBUTES - 8)
        .map(|n| format!(" a{n}=\"\""))
        .collect();
    let parsed = parse(&idp(&format!("{ENTITY}{some}"), &good_inner()))
        .expect("an element with a few dozen attributes is read");
    assert_eq!(parsed.signing_certificates.len(), 1);
    for vendor in [OKTA, ENTRA, KEYCLOAK, SHIBBOLETH, GOOGLE] {
        assert!(parse(vendor).is_ok());
    }
}
