//! `cognate clients create/update` with the user pools API's client settings (issue 14):
//! `--explicit-auth-flows` (Cognito's ExplicitAuthFlows) and
//! `--prevent-user-existence-errors` (Cognito's PreventUserExistenceErrors), shown by
//! `clients describe` in Cognito's member names and by `clients list`.

use serde_json::json;

use super::Cli;

#[test]
fn api_settings_default_set_show_and_change() {
    let cli = Cli::new();
    let pool = cli.create_pool("--alias email");
    let p = pool.as_str();

    // Without the flags: Cognito's defaults (SRP, custom, refresh; ENABLED).
    let plain = cli.ok(&format!("clients create --pool {p} --name plain"));
    let plain = plain.trim();
    let c = &cli.json(&format!("clients describe {plain}"))["UserPoolClient"];
    assert_eq!(
        c["ExplicitAuthFlows"],
        json!([
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_CUSTOM_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH"
        ])
    );
    assert_eq!(c["PreventUserExistenceErrors"], "ENABLED");

    // With them: as given, in the order given.
    let app = cli.ok(&format!(
        "clients create --pool {p} --name app \
         --explicit-auth-flows ALLOW_USER_PASSWORD_AUTH,ALLOW_REFRESH_TOKEN_AUTH \
         --prevent-user-existence-errors legacy"
    ));
    let app = app.trim();
    let c = &cli.json(&format!("clients describe {app}"))["UserPoolClient"];
    assert_eq!(
        c["ExplicitAuthFlows"],
        json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    );
    assert_eq!(c["PreventUserExistenceErrors"], "LEGACY");
    let list = cli.ok(&format!("clients list --pool {p}"));
    let header = list.lines().next().unwrap_or_default();
    assert!(
        header.contains("AUTH FLOWS") && header.contains("EXISTENCE ERRORS"),
        "{list}"
    );
    let row = list
        .lines()
        .find(|l| l.starts_with(app))
        .unwrap_or_default();
    assert!(
        row.contains("ALLOW_USER_PASSWORD_AUTH,ALLOW_REFRESH_TOKEN_AUTH") && row.contains("LEGACY"),
        "{list}"
    );
    let row = list
        .lines()
        .find(|l| l.starts_with(plain))
        .unwrap_or_default();
    assert!(
        row.contains("ALLOW_USER_SRP_AUTH,ALLOW_CUSTOM_AUTH,ALLOW_REFRESH_TOKEN_AUTH")
            && row.contains("ENABLED"),
        "{list}"
    );

    // Update: only the flags given change; '' leaves the client without API sign-in.
    let said = cli.ok(&format!(
        "clients update {app} --prevent-user-existence-errors enabled"
    ));
    assert!(said.contains(app), "{said}");
    let c = &cli.json(&format!("clients describe {app}"))["UserPoolClient"];
    assert_eq!(c["PreventUserExistenceErrors"], "ENABLED");
    assert_eq!(
        c["ExplicitAuthFlows"],
        json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    );
    cli.ok(&format!("clients update {app} --explicit-auth-flows ''"));
    let c = &cli.json(&format!("clients describe {app}"))["UserPoolClient"];
    assert_eq!(c["ExplicitAuthFlows"], json!([]));
    assert_eq!(c["PreventUserExistenceErrors"], "ENABLED");
    cli.ok(&format!(
        "clients update {app} --explicit-auth-flows ALLOW_USER_SRP_AUTH,ALLOW_CUSTOM_AUTH"
    ));
    let c = &cli.json(&format!("clients describe {app}"))["UserPoolClient"];
    assert_eq!(
        c["ExplicitAuthFlows"],
        json!(["ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"])
    );
}

#[test]
fn bad_api_settings_are_refused_naming_the_flag() {
    let cli = Cli::new();
    let pool = cli.create_pool("");
    let p = pool.as_str();
    let create = |rest: &str| format!("clients create --pool {p} --name web {rest}");
    // An unknown name (the legacy USER_SRP_AUTH included), with the names to use.
    for bad in ["USER_SRP_AUTH", "ALLOW_SRP", "ALLOW_USER_SRP_AUTH,PASSWORD"] {
        cli.fails(
            &create(&format!("--explicit-auth-flows {bad}")),
            &[
                "--explicit-auth-flows",
                "is not an auth flow",
                "ALLOW_USER_PASSWORD_AUTH",
            ],
        );
    }
    // A flow named twice: the core's rule, named by its flag.
    cli.fails(
        &create("--explicit-auth-flows ALLOW_USER_SRP_AUTH,ALLOW_USER_SRP_AUTH"),
        &[
            "--explicit-auth-flows",
            "ALLOW_USER_SRP_AUTH is listed twice",
        ],
    );
    cli.fails(
        &create("--prevent-user-existence-errors off"),
        &["--prevent-user-existence-errors", "enabled", "legacy"],
    );
    // Nothing half-written.
    let list = cli.ok(&format!("clients list --pool {p}"));
    assert_eq!(list.lines().count(), 1, "{list}");

    let id = cli.ok(&create(""));
    let id = id.trim();
    cli.fails(
        &format!("clients update {id}"),
        &["nothing to change", "--explicit-auth-flows"],
    );
    cli.fails(
        &format!(
            "clients update {id} --explicit-auth-flows ALLOW_REFRESH_TOKEN_AUTH,ALLOW_REFRESH_TOKEN_AUTH"
        ),
        &["--explicit-auth-flows", "listed twice"],
    );
    cli.fails(
        "clients update nosuchclient --prevent-user-existence-errors legacy",
        &["app client", "nosuchclient", "does not exist"],
    );
    // The refused update changed nothing.
    let c = &cli.json(&format!("clients describe {id}"))["UserPoolClient"];
    assert_eq!(
        c["ExplicitAuthFlows"],
        json!([
            "ALLOW_USER_SRP_AUTH",
            "ALLOW_CUSTOM_AUTH",
            "ALLOW_REFRESH_TOKEN_AUTH"
        ])
    );
}
