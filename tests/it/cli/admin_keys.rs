//! Operator credentials through the command line (on SQLite and on PostgreSQL): `admin-keys
//! create` with a generated or a chosen id and secret (read from stdin, never echoed
//! unless asked), `list` without secrets, `delete`; bad ids, short secrets and taken ids
//! are refused naming the flag, and change nothing.

use cognate::core::admin_keys::{AdminKeyPurpose, AdminKeys};

use super::Cli;

#[test]
fn admin_keys_from_the_cli() {
    admin_keys_on(&Cli::new());
}

#[test]
fn admin_keys_from_the_cli_on_postgres() {
    if let Some(cli) = Cli::postgres("cli_admin_keys") {
        admin_keys_on(&cli);
    }
}

fn admin_keys_on(cli: &Cli) {
    // Generated: the id and the secret, tab-separated, shown once.
    let out = cli.ok("admin-keys create --description 'deploy bot'");
    let (id, secret) = out.trim().split_once('\t').expect("id<TAB>secret");
    assert!(id.starts_with("AKIA") && id.len() == 20, "{id}");
    assert_eq!(secret.len(), 40);

    // Chosen: the secret from stdin, not echoed back.
    let out = cli.ok_stdin(
        "admin-keys create --access-key-id ci-key --secret-stdin --purpose authorize",
        Some("chosen-secret-0123456789\n"),
    );
    assert_eq!(out.trim(), "ci-key");
    // ... unless asked.
    let out = cli.ok_stdin(
        "admin-keys create --access-key-id ci-key-2 --secret-stdin --show-secret",
        Some("another-chosen-secret-00"),
    );
    assert_eq!(out.trim(), "ci-key-2\tanother-chosen-secret-00");

    // Refusals name the flag and change nothing.
    let refuse = |line: &str, stdin: &str, needles: &[&str]| {
        let out = cli.run(line, Some(stdin));
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{line}: {stderr}");
        for n in needles {
            assert!(stderr.contains(n), "{line}: {n:?} not in {stderr}");
        }
    };
    refuse(
        "admin-keys create --access-key-id ci-key --secret-stdin",
        "yet-another-secret-000",
        &["--access-key-id", "already taken"],
    );
    refuse(
        "admin-keys create --access-key-id bad/id",
        "",
        &["--access-key-id", "bad/id"],
    );
    refuse(
        "admin-keys create --access-key-id short --secret-stdin",
        "tooshort",
        &["--secret-stdin", "16 to 128"],
    );
    cli.fails("admin-keys create --purpose everything", &["--purpose"]);

    // The listing: ids, purposes and descriptions, no secret.
    let list = cli.ok("admin-keys list");
    assert!(
        list.lines().next().unwrap().contains("ACCESS_KEY_ID"),
        "{list}"
    );
    assert_eq!(list.lines().count(), 4, "{list}");
    assert!(list.contains(id) && list.contains("deploy bot"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.starts_with("ci-key ") && l.contains("authorize")),
        "{list}"
    );
    for secret in [
        secret,
        "chosen-secret-0123456789",
        "another-chosen-secret-00",
    ] {
        assert!(!list.contains(secret), "{list}");
    }

    // The store holds what the CLI said: the chosen secret opens, with its purpose.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let looked_up = runtime.block_on(async {
        let node = cli.node().await;
        let keys = AdminKeys::new(node.store.clone(), node.master.clone());
        (
            keys.lookup_secret("ci-key").await.unwrap(),
            keys.lookup_secret(id).await.unwrap(),
        )
    });
    let (ci_secret, ci_purpose) = looked_up.0.expect("ci-key");
    assert_eq!(ci_secret.expose(), "chosen-secret-0123456789");
    assert_eq!(ci_purpose, AdminKeyPurpose::Authorize);
    assert_eq!(looked_up.1.expect("generated key").0.expose(), secret);

    // Delete: gone from the listing; a second delete says it does not exist.
    cli.ok("admin-keys delete ci-key");
    assert!(!cli.ok("admin-keys list").contains("ci-key "));
    cli.fails("admin-keys delete ci-key", &["ci-key", "does not exist"]);
}
