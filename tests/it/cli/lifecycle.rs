//! Pools, app clients, keys, users and groups created, changed and deleted through the
//! command line (on SQLite and on PostgreSQL), and bad input exiting with code 2 and a
//! message naming the field.

use serde_json::json;

use super::Cli;

#[test]
fn pools_clients_and_keys_lifecycle() {
    pools_clients_and_keys_lifecycle_on(&Cli::new());
}

#[test]
fn pools_clients_and_keys_lifecycle_on_postgres() {
    if let Some(cli) = Cli::postgres("cli_pools") {
        pools_clients_and_keys_lifecycle_on(&cli);
    }
}

fn pools_clients_and_keys_lifecycle_on(cli: &Cli) {
    assert_eq!(cli.ok("pools list").lines().count(), 1, "only the header");
    let pool = cli.create_pool(
        "--alias email --custom-attribute tier:Number --code-limit sends_per_destination=3",
    );
    let p = pool.as_str();
    let listed = cli.ok("pools list");
    assert!(listed.contains(p) && listed.contains("shop"), "{listed}");
    let described = cli.json(&format!("pools describe {p}"));
    assert_eq!(described["name"], "shop");
    assert_eq!(described["code_limits"]["sends_per_destination"], 3);
    assert_eq!(described["code_limits"]["tries_per_destination"], 10);
    assert_eq!(described["alias_attributes"], json!(["email"]));
    assert_eq!(described["custom_attributes"][0]["data_type"], "Number");
    assert_eq!(described["origin"], "api");

    // Keys: created with the pool; a rotation adds two and retires two.
    let keys = cli.ok(&format!("keys list --pool {p}"));
    assert_eq!(keys.matches("active").count(), 2, "{keys}");
    let rotated = cli.ok(&format!("keys rotate --pool {p}"));
    let new_kids: Vec<&str> = rotated
        .lines()
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    assert_eq!(new_kids.len(), 2, "{rotated}");
    let keys = cli.ok(&format!("keys list --pool {p}"));
    assert_eq!(keys.lines().count(), 5, "{keys}");
    assert_eq!(keys.matches("active").count(), 2, "{keys}");
    for kid in new_kids {
        let line = keys.lines().find(|l| l.starts_with(kid));
        assert!(line.is_some_and(|l| l.ends_with("active")), "{keys}");
    }

    // A public client: PKCE on, no secret, the code flow with default scopes.
    let public = cli.ok(&format!(
        "clients create --pool {p} --name web --callback-url https://app.example.com/cb \
         --callback-url http://localhost:3000/cb --logout-url myapp://signed-out"
    ));
    let public = public.trim();
    let d = cli.json(&format!("clients describe {public}"));
    let c = &d["UserPoolClient"];
    assert_eq!(c["ClientId"], public);
    assert_eq!(c["UserPoolId"], p);
    assert_eq!(c["AllowedOAuthFlows"], json!(["code"]));
    assert_eq!(
        c["AllowedOAuthScopes"],
        json!(["openid", "email", "profile"])
    );
    assert_eq!(c["SupportedIdentityProviders"], json!(["COGNITO"]));
    assert_eq!(c["LogoutURLs"], json!(["myapp://signed-out"]));
    assert_eq!(c["RequirePkce"], true);
    assert!(c.get("ClientSecret").is_none(), "{d}");

    // A confidential client: the secret printed once at creation is the one described.
    let created = cli.ok(&format!(
        "clients create --pool {p} --name backend --generate-secret \
         --callback-url https://api.example.com/cb --flow code --scope openid --scope email"
    ));
    let mut lines = created.lines();
    let (id, secret) = (lines.next().unwrap(), lines.next().unwrap());
    assert_eq!(secret.len(), 51);
    let d = cli.json(&format!("clients describe {id}"));
    assert_eq!(d["UserPoolClient"]["ClientSecret"], secret);
    assert_eq!(d["UserPoolClient"]["RequirePkce"], false);
    let list = cli.ok(&format!("clients list --pool {p}"));
    assert!(list.contains(public) && list.contains(id), "{list}");
    assert!(list.contains("confidential"), "{list}");
    // The secret is not stored in the clear.
    let stored = cli.stored_clients();
    assert!(!stored.is_empty());
    assert!(!stored.windows(secret.len()).any(|w| w == secret.as_bytes()));

    cli.fails(&format!("clients delete {id}"), &["--yes"]);
    cli.ok(&format!("clients delete {id} --yes"));
    cli.fails(
        &format!("clients describe {id}"),
        &["app client", id, "does not exist"],
    );

    cli.fails(&format!("pools delete {p}"), &["--yes"]);
    cli.ok(&format!("pools delete {p} --yes"));
    assert!(!cli.ok("pools list").contains(p));
    cli.fails(&format!("clients describe {public}"), &["does not exist"]);
}

#[test]
fn users_and_groups_lifecycle() {
    users_and_groups_lifecycle_on(&Cli::new());
}

#[test]
fn users_and_groups_lifecycle_on_postgres() {
    if let Some(cli) = Cli::postgres("cli_users") {
        users_and_groups_lifecycle_on(&cli);
    }
}

fn users_and_groups_lifecycle_on(cli: &Cli) {
    let pool = cli.create_pool("--alias email");
    let p = pool.as_str();
    let ana = cli.ok(&format!(
        "users create --pool {p} ana -a email=ana@example.com -a email_verified=true \
         -a given_name=Ana --password Passw0rd!x"
    ));
    let ana_sub = ana.trim().to_string();
    assert!(uuid::Uuid::parse_str(&ana_sub).is_ok(), "{ana}");
    cli.ok_stdin(
        &format!("users create --pool {p} bob --password-stdin"),
        Some("B0b-Passw0rd\n"),
    );
    let carl = cli.ok(&format!("users create --pool {p} carl --invite"));
    let temp = carl
        .lines()
        .find_map(|l| l.strip_prefix("temporary password: "))
        .expect("a generated password is printed");
    assert!(temp.len() >= 12, "{carl}");
    cli.ok(&format!("users create --pool {p} dora --no-password"));

    // Describe by username, by verified email alias and by sub; never the hash.
    let by_name = cli.json(&format!("users describe --pool {p} ana"));
    assert_eq!(by_name["sub"], ana_sub.as_str());
    assert_eq!(by_name["status"], "CONFIRMED");
    assert_eq!(by_name["attributes"]["given_name"], "Ana");
    assert_eq!(by_name["password_set"], true);
    assert!(by_name.get("password_hash").is_none(), "{by_name}");
    assert!(!by_name.to_string().contains("$argon2id$"));
    let by_email = cli.json(&format!("users describe --pool {p} ANA@example.com"));
    assert_eq!(by_email["username"], "ana");
    let by_sub = cli.json(&format!("users describe --pool {p} {ana_sub}"));
    assert_eq!(by_sub["username"], "ana");
    let carl = cli.json(&format!("users describe --pool {p} carl"));
    assert_eq!(carl["status"], "FORCE_CHANGE_PASSWORD");
    assert!(carl["temporary_password_expires_at"].is_i64());
    let dora = cli.json(&format!("users describe --pool {p} dora"));
    assert_eq!(dora["password_set"], false);

    let list = cli.ok(&format!("users list --pool {p}"));
    for name in [
        "ana",
        "bob",
        "carl",
        "dora",
        "ana@example.com",
        "FORCE_CHANGE_PASSWORD",
    ] {
        assert!(list.contains(name), "{name} in {list}");
    }
    // Paging: two pages of two.
    let out = cli.run(&format!("users list --pool {p} --limit 2"), None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let token = stderr.split("--page ").nth(1).expect("a next-page token");
    let second = cli.ok(&format!(
        "users list --pool {p} --limit 2 --page {}",
        token.trim()
    ));
    assert_eq!(second.lines().count(), 3, "{second}");
    cli.fails(&format!("users list --pool {p} --page !!"), &["--page"]);

    // Passwords, enable/disable.
    let set = cli.ok(&format!(
        "users set-password --pool {p} ana --password N3w-Passw0rd --temporary"
    ));
    assert!(set.contains("FORCE_CHANGE_PASSWORD"), "{set}");
    cli.ok(&format!(
        "users set-password --pool {p} ana --password N3w-Passw0rd"
    ));
    cli.ok(&format!("users disable --pool {p} ana"));
    let described = cli.json(&format!("users describe --pool {p} ana"));
    assert_eq!(described["enabled"], false);
    assert_eq!(described["status"], "CONFIRMED");
    cli.ok(&format!("users enable --pool {p} ana"));
    assert_eq!(
        cli.json(&format!("users describe --pool {p} ana"))["enabled"],
        true
    );

    // Groups and memberships.
    cli.ok(&format!(
        "groups create --pool {p} admins --precedence 1 --description Admins \
         --role-arn arn:aws:iam::123456789012:role/Admins"
    ));
    cli.fails(
        &format!("groups create --pool {p} admins"),
        &["admins", "already exists"],
    );
    let groups = cli.ok(&format!("groups list --pool {p}"));
    assert!(
        groups.contains("arn:aws:iam::123456789012:role/Admins"),
        "{groups}"
    );
    cli.ok(&format!(
        "groups add-user --pool {p} admins ana@example.com"
    ));
    cli.ok(&format!("groups add-user --pool {p} admins bob"));
    let members = cli.ok(&format!("groups members --pool {p} admins"));
    assert!(
        members.contains(&ana_sub) && members.contains("bob"),
        "{members}"
    );
    let described = cli.json(&format!("users describe --pool {p} ana"));
    assert_eq!(described["groups"], json!(["admins"]));
    cli.ok(&format!("groups remove-user --pool {p} admins ana"));
    cli.fails(
        &format!("groups remove-user --pool {p} admins ana"),
        &["not a member"],
    );
    cli.fails(
        &format!("groups add-user --pool {p} nope ana"),
        &["group", "nope", "does not exist"],
    );
    cli.fails(
        &format!("groups add-user --pool {p} admins zed"),
        &["user", "zed", "does not exist"],
    );

    // Federated links: one identity belongs to one user; one link per provider.
    let link = |user: &str, kind: &str, subject: &str| {
        format!(
            "users link --pool {p} {user} --provider Google --provider-type {kind} \
             --subject {subject}"
        )
    };
    cli.ok(&link("ana", "google", "g-123"));
    let d = cli.json(&format!("users describe --pool {p} ana"));
    assert_eq!(d["identities"][0]["provider_type"], "Google");
    assert_eq!(d["identities"][0]["user_id"], "g-123");
    cli.fails(
        &link("bob", "Google", "g-123"),
        &["already linked to user ana"],
    );
    cli.fails(
        &link("ana", "Google", "g-456"),
        &["already linked to provider Google"],
    );
    cli.fails(
        &link("ana", "MySpace", "g-456"),
        &["--provider-type", "MySpace"],
    );
    cli.ok(&format!("users unlink --pool {p} ana --provider Google"));
    let d = cli.json(&format!("users describe --pool {p} ana"));
    assert_eq!(d["identities"], json!([]));
    cli.ok(&link("bob", "Google", "g-123"));

    // Deletion.
    cli.fails(&format!("users delete --pool {p} ana"), &["--yes"]);
    cli.ok(&format!("users delete --pool {p} ana --yes"));
    cli.fails(
        &format!("users describe --pool {p} ana"),
        &["user \"ana\" does not exist"],
    );
    cli.ok(&format!("groups delete --pool {p} admins --yes"));
    assert!(!cli
        .ok(&format!("groups list --pool {p}"))
        .contains("admins"));
}

#[test]
fn bad_input_exits_2_naming_the_field() {
    let cli = Cli::new();
    let pool = cli.create_pool("--custom-attribute tier:Number");
    let p = pool.as_str();
    let fails = |line: String, needles: &[&str]| cli.fails(&line, needles);

    // Unknown pool, unknown client.
    let nope = "us-east-1_Nope";
    fails(
        format!("users list --pool {nope}"),
        &["--pool", nope, "does not exist"],
    );
    fails(
        format!("clients create --pool {nope} --name x"),
        &["--pool", "does not exist"],
    );
    fails(
        "clients describe nosuchclient".into(),
        &["app client", "nosuchclient", "does not exist"],
    );
    fails(format!("keys rotate --pool {nope}"), &["--pool"]);

    // Users: duplicates, usernames, attributes, passwords.
    cli.ok(&format!(
        "users create --pool {p} ana --password Passw0rd!x"
    ));
    let create = |rest: &str| format!("users create --pool {p} {rest}");
    fails(
        create("ANA --password Passw0rd!x"),
        &["username", "ANA", "already exists"],
    );
    fails(create("'bo b' --no-password"), &["username", "spaces"]);
    fails(
        create("bob -a email=nope --no-password"),
        &["email", "must be an email address"],
    );
    fails(
        create("bob -a shoe_size=44 --no-password"),
        &["shoe_size", "not a standard attribute"],
    );
    fails(
        create("bob -a custom:tier=gold --no-password"),
        &["custom:tier", "must be an integer"],
    );
    fails(
        create("bob -a novalue --no-password"),
        &["--attribute", "name=value"],
    );
    fails(
        create("bob --password abc"),
        &[
            "password",
            "at least 8 characters",
            "an uppercase letter",
            "a number",
            "a symbol",
        ],
    );
    fails(create("bob"), &["--no-password", "--invite"]);
    fails(
        format!("users set-password --pool {p} ana --password short"),
        &["at least 8 characters"],
    );
    fails(
        format!("users set-password --pool {p} nobody --password Passw0rd!x"),
        &["user \"nobody\" does not exist"],
    );
    // clap's own usage errors also exit 2.
    fails(create("bob --no-password --invite"), &["--no-password"]);

    // Pools.
    let pools = |rest: &str| format!("pools create --name x {rest}");
    fails(
        pools("--min-password-length 3"),
        &["--min-password-length", "6 to 99"],
    );
    fails(
        pools("--code-limit tries_per_destination=0"),
        &["--code-limit", "1 to 100"],
    );
    fails(
        pools("--code-limit sends_per_signup=3"),
        &["--code-limit", "sends_per_destination"],
    );
    fails(
        pools("--custom-attribute a:Float"),
        &["--custom-attribute", "String, Number, Boolean"],
    );
    fails(
        pools("--required-attribute shoe"),
        &["--required-attribute", "shoe"],
    );
    fails(pools("--id 'bad id'"), &["--id"]);
    fails(pools(&format!("--id {p}")), &["--id", "already exists"]);
    fails("pools create --name ' '".into(), &["--name"]);
    fails(
        pools("--email-as-username --alias email"),
        &["--alias", "--email-as-username"],
    );

    // Clients.
    let client = |rest: &str| format!("clients create --pool {p} --name web {rest}");
    fails(
        client("--callback-url http://app.example.com/cb"),
        &["--callback-url", "https"],
    );
    fails(
        client("--callback-url https://app.example.com/cb#x"),
        &["--callback-url", "fragment"],
    );
    fails(
        client("--callback-url 'not a url'"),
        &["--callback-url", "not an absolute URL"],
    );
    fails(
        client("--logout-url javascript://alert(1)"),
        &["--logout-url", "javascript"],
    );
    fails(client("--flow code"), &["--callback-url"]);
    fails(client("--flow client_credentials"), &["--generate-secret"]);
    fails(
        client("--callback-url https://a.example.com/cb --scope email"),
        &["--scope", "openid"],
    );
    fails(
        client("--callback-url https://a.example.com/cb --scope api/read"),
        &["--scope", "api/read"],
    );
    fails(
        client("--identity-provider Okta"),
        &["--identity-provider", "Okta"],
    );
    // Valid: loopback http and a native app's custom scheme.
    cli.ok(&client(
        "--callback-url http://127.0.0.1:8080/cb --callback-url com.example.app://cb",
    ));

    // Groups.
    fails(format!("groups create --pool {p} 'a b'"), &["group name"]);
    fails(
        format!("groups create --pool {p} g --role-arn role"),
        &["--role-arn"],
    );
    fails(
        format!("groups create --pool {p} g --precedence -1"),
        &["--precedence"],
    );

    // Nothing half-written: the failed attempts left one user and one client.
    let users = cli.ok(&format!("users list --pool {p}"));
    assert_eq!(users.lines().count(), 2, "{users}");
    let clients = cli.ok(&format!("clients list --pool {p}"));
    assert_eq!(clients.lines().count(), 2, "{clients}");
}
