//! `cognate identity-pools list|show` and `cognate roles list|show` after `cognate apply`
//! wrote them from the configuration file; an unknown one fails with exit code 2 naming it.

use super::Cli;

const ID: &str = "us-east-1:0b9b1c9e-1f2a-4c55-9a4e-2f5d7c1a0b3c";
const ARN: &str = "arn:aws:iam::123456789012:role/app-users";

const FILE: &str = r#"
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
arn = "arn:aws:iam::123456789012:role/app-users"
description = "signed-in users"
max_session_secs = 7200
trust = { identity_pools = ["app users"], amr = "authenticated" }
policy_file = "policies/app-users.json"

[[identity_pools]]
id = "us-east-1:0b9b1c9e-1f2a-4c55-9a4e-2f5d7c1a0b3c"
name = "app users"
authenticated_role = "arn:aws:iam::123456789012:role/app-users"

[[identity_pools.user_pools]]
pool = "shop"
client = "web"
"#;

#[test]
fn applied_identity_pools_and_roles_are_listed_and_shown() {
    let cli = Cli::new();
    std::fs::create_dir(cli.dir.path().join("policies")).unwrap();
    std::fs::write(
        cli.dir.path().join("policies/app-users.json"),
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#,
    )
    .unwrap();
    std::fs::write(cli.dir.path().join("cognate.toml"), FILE).unwrap();
    let config = cli.path("cognate.toml");
    let applied = cli.ok(&format!("--config {config} apply"));
    assert!(
        applied.contains(&format!("identity pool {ID} (app users): created")),
        "{applied}"
    );
    assert!(
        applied.contains(&format!("role {ARN}: created")),
        "{applied}"
    );

    let listed = cli.ok(&format!("--config {config} identity-pools list"));
    let row = listed.lines().find(|l| l.starts_with(ID)).unwrap_or("");
    for needle in ["app users", "1", "no", "config file"] {
        assert!(row.contains(needle), "{needle}: {listed}");
    }
    let shown = cli.json(&format!("--config {config} identity-pools show {ID}"));
    assert_eq!(shown["IdentityPoolName"], "app users");
    assert_eq!(
        shown["CognitoIdentityProviders"][0]["UserPoolId"],
        "us-east-1_Shop12345"
    );
    assert_eq!(
        shown["CognitoIdentityProviders"][0]["ClientId"],
        "webclient1"
    );
    assert_eq!(shown["Roles"]["authenticated"], ARN);
    assert_eq!(shown["Identities"], 0);

    let roles = cli.ok(&format!("--config {config} roles list"));
    let row = roles.lines().find(|l| l.starts_with(ARN)).unwrap_or("");
    for needle in ["authenticated", ID, "7200", "config file"] {
        assert!(row.contains(needle), "{needle}: {roles}");
    }
    let role = cli.json(&format!("--config {config} roles show {ARN}"));
    assert_eq!(role["Trust"]["IdentityPools"][0], ID);
    assert_eq!(role["Policy"]["Statement"][0]["Action"], "s3:GetObject");
    assert_eq!(role["MaxSessionDuration"], 7200);

    cli.fails(
        &format!(
            "--config {config} identity-pools show us-east-1:11111111-2222-4333-8444-555555555555"
        ),
        &["identity pool", "does not exist"],
    );
    cli.fails(
        &format!("--config {config} roles show arn:aws:iam::123456789012:role/nobody"),
        &["role", "does not exist"],
    );
}
