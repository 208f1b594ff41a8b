//! The SAML SP key through the command line (on SQLite and on PostgreSQL): `keys
//! rotate-saml` makes a new key and keeps the old certificate published for the grace
//! period, `keys list` shows SP keys beside the token keys (whose JWKS does not change),
//! bad grace periods are refused; `pools update --saml-sp-entity-id` sets the entity id.

use super::Cli;

#[test]
fn saml_sp_keys_rotate_from_the_cli() {
    saml_sp_keys_rotate_on(&Cli::new());
}

#[test]
fn saml_sp_keys_rotate_from_the_cli_on_postgres() {
    if let Some(cli) = Cli::postgres("cli_saml_keys") {
        saml_sp_keys_rotate_on(&cli);
    }
}

fn sp_rows(list: &str) -> Vec<&str> {
    list.lines().filter(|l| l.contains(" saml_sp ")).collect()
}

fn saml_sp_keys_rotate_on(cli: &Cli) {
    let pool = cli.create_pool("");
    let p = pool.as_str();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let jwks = |cli: &Cli| {
        runtime.block_on(async {
            let node = cli.node().await;
            node.keys.jwks(p, cognate::core::now()).await.expect("jwks")
        })
    };
    let jwks_before = jwks(cli);

    // No SP key until one is asked for: the listing shows only the token keys.
    let list = cli.ok(&format!("keys list --pool {p}"));
    assert!(
        list.lines().next().unwrap().contains("PUBLISHED_UNTIL"),
        "{list}"
    );
    assert!(sp_rows(&list).is_empty(), "{list}");

    // Refused grace periods name the flag and change nothing.
    for days in ["0", "366"] {
        cli.fails(
            &format!("keys rotate-saml --pool {p} --grace-days {days}"),
            &["--grace-days", days, "1 to 365"],
        );
    }
    cli.fails(
        &format!("keys rotate-saml --pool {p} --grace-days=-1"),
        &["--grace-days"],
    );
    cli.fails(
        "keys rotate-saml --pool us-east-1_Nope",
        &["--pool", "does not exist"],
    );
    assert!(sp_rows(&cli.ok(&format!("keys list --pool {p}"))).is_empty());

    // The first rotation makes the pool's first key; the second retires it with the
    // default 30-day grace, the third with 7 days.
    let first = cli.ok(&format!("keys rotate-saml --pool {p}"));
    let first = first.trim().to_string();
    assert!(
        !first.is_empty() && !first.contains(char::is_whitespace),
        "{first}"
    );
    let second = cli.ok(&format!("keys rotate-saml --pool {p}"));
    let second = second.trim().to_string();
    let third = cli.ok(&format!("keys rotate-saml --pool {p} --grace-days 7"));
    let third = third.trim().to_string();
    assert!(first != second && second != third && first != third);

    let list = cli.ok(&format!("keys list --pool {p}"));
    let rows = sp_rows(&list);
    assert_eq!(rows.len(), 3, "{list}");
    assert!(
        rows[0].starts_with(&third) && rows[0].ends_with("active"),
        "{list}"
    );
    let now = cognate::core::now();
    let until = |row: &str| {
        let last = row.split_whitespace().last().unwrap();
        chrono::DateTime::parse_from_rfc3339(last)
            .unwrap_or_else(|e| panic!("{row}: {e}"))
            .timestamp()
    };
    // The retired ones (in the same second, maybe: found by kid).
    let row = |kid: &str| *rows.iter().find(|r| r.starts_with(kid)).expect(kid);
    assert!(
        (until(row(&second)) - (now + 7 * 86_400)).abs() < 120,
        "{list}"
    );
    assert!(
        (until(row(&first)) - (now + 30 * 86_400)).abs() < 120,
        "{list}"
    );
    // Token keys are listed as before.
    assert_eq!(list.matches("id_token").count(), 1, "{list}");
    assert_eq!(list.matches("access_token").count(), 1, "{list}");

    // The metadata publishes all three (every grace runs), the new key first, and the
    // node signs with the new key; the JWKS is what it was.
    runtime.block_on(async {
        let node = cli.node().await;
        let active = node.sp_keys.active(p, now).await.expect("active");
        assert_eq!(active.kid(), third);
        let certs = node
            .sp_keys
            .published_certificates(p, now)
            .await
            .expect("certificates");
        assert_eq!(certs.len(), 3);
        assert_eq!(certs[0], active.certificate_der());
    });
    assert_eq!(jwks(cli), jwks_before);

    // The entity id: refused with the flag named, set, and back to Cognito's default.
    cli.fails(
        &format!("pools update {p} --saml-sp-entity-id not-a-uri"),
        &["--saml-sp-entity-id", "not an absolute URI"],
    );
    let updated = cli.ok(&format!(
        "pools update {p} --saml-sp-entity-id https://sp.example.com/saml"
    ));
    assert!(updated.contains("https://sp.example.com/saml"), "{updated}");
    let described = cli.json(&format!("pools describe {p}"));
    assert_eq!(
        described["saml_sp_entity_id"],
        "https://sp.example.com/saml"
    );
    let reset = cli.ok(&format!("pools update {p} --default-saml-sp-entity-id"));
    assert!(
        reset.contains(&format!("urn:amazon:cognito:sp:{p}")),
        "{reset}"
    );
    let described = cli.json(&format!("pools describe {p}"));
    assert!(described.get("saml_sp_entity_id").is_none(), "{described}");
}
