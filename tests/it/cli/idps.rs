//! `cognate idps`: a SAML provider added from its IdP's metadata file, listed, refused
//! with the flag at fault, and deleted (a config-owned one with a warning naming the
//! file, as for clients and pools).

use serde_json::json;

use super::Cli;

/// A fixture's path (the metadata shaped after the vendors' own).
fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/saml/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn a_saml_provider_is_added_from_metadata_listed_and_deleted() {
    let cli = Cli::new();
    let pool = cli.create_pool("");
    let p = pool.as_str();
    let okta = fixture("okta.xml");

    let out = cli.run(
        &format!(
            "idps add --pool {p} --name Okta --preset saml --metadata-file {okta} \
             --identifier corp.example --user-id-attribute uid --allow-sha1 \
             --allow-aes-cbc --request-binding post --group-mapping Engineering=staff"
        ),
        None,
    );
    assert!(out.status.success(), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Okta");
    // The operator is told what to register at the IdP.
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "entity id http://www.okta.com/exk1a2b3c4d5E6f7g8h9",
        &format!("/saml2/metadata/{p}"),
        "/saml2/idpresponse",
        &format!("urn:amazon:cognito:sp:{p}"),
    ] {
        assert!(stderr.contains(needle), "{needle}: {stderr}");
    }

    let listed = cli.ok(&format!("idps list --pool {p}"));
    let row = listed.lines().find(|l| l.starts_with("Okta")).unwrap_or("");
    for needle in [
        "SAML",
        "api",
        "corp.example",
        "http://www.okta.com/exk1a2b3c4d5E6f7g8h9",
    ] {
        assert!(row.contains(needle), "{needle}: {listed}");
    }
    let described = cli.json(&format!("pools describe {p}"));
    let idp = &described["identity_providers"][0];
    assert_eq!(idp["provider_type"], "SAML");
    assert_eq!(idp["preset"], "saml");
    assert_eq!(idp["origin"], "api");
    assert_eq!(idp["client_id"], "");
    let saml = &idp["protocol"]["saml"];
    assert_eq!(
        saml["entity_id"],
        "http://www.okta.com/exk1a2b3c4d5E6f7g8h9"
    );
    assert_eq!(saml["request_binding"], "post");
    assert_eq!(saml["allow_sha1"], true);
    assert_eq!(saml["allow_aes_cbc"], true);
    assert_eq!(saml["sign_requests"], false);
    assert_eq!(saml["user_id_attribute"], "uid");
    assert_eq!(saml["group_mapping"], json!({ "Engineering": "staff" }));
    assert_eq!(
        saml["signing_certificates"].as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        idp["attribute_mapping"]["email"],
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"
    );

    // Keycloak's metadata wants signed requests; redirect is the default binding.
    cli.ok(&format!(
        "idps add --pool {p} --name Keycloak --preset saml --metadata-file {}",
        fixture("keycloak.xml")
    ));
    let described = cli.json(&format!("pools describe {p}"));
    let saml = &described["identity_providers"][1]["protocol"]["saml"];
    assert_eq!(saml["sign_requests"], true);
    assert_eq!(saml["request_binding"], "redirect");
    assert_eq!(saml["allow_sha1"], false);
    assert_eq!(saml["allow_aes_cbc"], false);

    // Deleting asks for --yes, then removes only that provider.
    cli.fails(&format!("idps delete --pool {p} --name Okta"), &["--yes"]);
    let out = cli.ok(&format!("idps delete --pool {p} --name Okta --yes"));
    assert!(out.contains("deleted identity provider Okta"), "{out}");
    let listed = cli.ok(&format!("idps list --pool {p}"));
    assert!(
        !listed.contains("Okta") && listed.contains("Keycloak"),
        "{listed}"
    );
    cli.fails(
        &format!("idps delete --pool {p} --name Okta --yes"),
        &["--name", "does not exist"],
    );
}

#[test]
fn bad_input_names_the_flag_and_the_reason() {
    let cli = Cli::new();
    let pool = cli.create_pool("");
    let p = pool.as_str();
    let okta = fixture("okta.xml");
    let add = |rest: &str| format!("idps add --pool {p} --preset saml {rest}");

    // The honest command, for the refusals below to differ from by one thing.
    cli.ok(&add(&format!("--name Okta --metadata-file {okta}")));

    cli.fails(
        &add(&format!("--name Okta --metadata-file {okta}")),
        &["--name", "already exists"],
    );
    cli.fails(
        &add(&format!("--name Ok --metadata-file {okta}")),
        &["--name", "ProviderName"],
    );
    cli.fails(
        &add(&format!("--name Corp_IdP --metadata-file {okta}")),
        &["--name", "ProviderName"],
    );
    cli.fails(&add("--name Okta2"), &["--metadata-file", "metadata XML"]);
    cli.fails(
        &add("--name Okta2 --metadata-file nowhere.xml"),
        &["--metadata-file", "cannot read nowhere.xml"],
    );
    // Metadata without a signing certificate, and with a weak one.
    let no_cert = cli.path("no-cert.xml");
    let text = std::fs::read_to_string(&okta).unwrap();
    std::fs::write(
        &no_cert,
        text.replace("use=\"signing\"", "use=\"encryption\""),
    )
    .unwrap();
    cli.fails(
        &add(&format!("--name Okta2 --metadata-file {no_cert}")),
        &["--metadata-file", "no signing certificate"],
    );
    let weak = cli.path("weak.xml");
    let weak_cert = std::fs::read_to_string(fixture("cert_weak.b64")).unwrap();
    let a_cert = std::fs::read_to_string(fixture("cert_idp_a.b64")).unwrap();
    std::fs::write(&weak, text.replace(a_cert.trim(), weak_cert.trim())).unwrap();
    cli.fails(
        &add(&format!("--name Okta2 --metadata-file {weak}")),
        &["--metadata-file", "2048 to 8192 bits"],
    );
    // Google Workspace offers HTTP-Redirect only.
    cli.fails(
        &add(&format!(
            "--name Google2 --metadata-file {} --request-binding post",
            fixture("google.xml")
        )),
        &["--request-binding", "HTTP-POST"],
    );
    cli.fails(
        &add(&format!(
            "--name Okta2 --metadata-file {okta} --group-mapping Admins"
        )),
        &["--group-mapping", "IDP_VALUE=GROUP"],
    );
    cli.fails(
        &add(&format!(
            "--name Okta2 --metadata-file {okta} --group-mapping 'Admins=two words'"
        )),
        &["--group-mapping", "not a group name"],
    );
    cli.fails(
        &format!("idps add --pool {p} --preset oidc --name Corp"),
        &["--preset", "configuration file"],
    );
    cli.fails(
        &format!("idps add --pool {p} --preset github --name Corp"),
        &["--preset", "not a provider preset"],
    );
    cli.fails(
        &format!(
            "idps add --pool us-east-1_Nope --preset saml --name Okta2 --metadata-file {okta}"
        ),
        &["--pool", "does not exist"],
    );
    // Nothing refused was stored.
    let listed = cli.ok(&format!("idps list --pool {p}"));
    assert_eq!(listed.lines().count(), 2, "{listed}");
}

#[test]
fn a_provider_declared_in_the_file_is_applied_and_its_deletion_warns() {
    let cli = Cli::new();
    std::fs::copy(fixture("okta.xml"), cli.path("okta.xml")).unwrap();
    let config = cli.path("cognate.toml");
    std::fs::write(
        &config,
        r#"[[pools]]
id = "us-east-1_Saml12345"
name = "enterprise"

[[pools.identity_providers]]
name = "Okta"
preset = "saml"
metadata_file = "okta.xml"
"#,
    )
    .unwrap();
    let checked = cli.ok(&format!("check-config {config}"));
    assert!(checked.contains("OK"), "{checked}");
    cli.ok(&format!("--config {config} apply"));
    let listed = cli.ok(&format!(
        "--config {config} idps list --pool us-east-1_Saml12345"
    ));
    assert!(
        listed.contains("Okta") && listed.contains("config"),
        "{listed}"
    );

    let out = cli.run(
        &format!("--config {config} idps delete --pool us-east-1_Saml12345 --name Okta --yes"),
        None,
    );
    assert!(out.status.success(), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("declared in the configuration file") && stderr.contains(&config),
        "{stderr}"
    );

    // check-config refuses a broken metadata file with the key's place and the reason.
    std::fs::write(cli.path("okta.xml"), "<html/>").unwrap();
    cli.fails(
        &format!("check-config {config}"),
        &[
            &format!("{config}:8:17: pools[0].identity_providers[0].metadata_file"),
            "not SAML 2.0 metadata",
        ],
    );
}
