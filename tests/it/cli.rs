//! The admin command line, driven as the real `cognate` binary on a temporary data
//! directory: lifecycles of pools, clients, users, groups and keys (on SQLite and on
//! PostgreSQL); bad input exits with code 2 and a message naming the field; JSON Lines
//! export and import round-trip, and imported bcrypt / PBKDF2 / scrypt / Django hashes
//! sign in and are upgraded to Argon2id.
//!
//! Commands are written as one string (`"users create --pool {p} ana"`), split on spaces;
//! single quotes keep an argument with spaces together (`-a 'name=Cyd Ü'`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Instant;

use base64::Engine;
use password_hash::{PasswordHasher, SaltString};
use serde_json::{json, Value};

use cognate::config::Config;
use cognate::core::now;
use cognate::core::secrets::SecretString;
use cognate::server::Node;

use crate::support::pg::{fresh_pg_url, PgTestDb};

/// Splits a command line on spaces; '...' quotes an argument (possibly empty).
fn split(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current: Option<String> = None;
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                current.get_or_insert_with(String::new);
            }
            ' ' if !quoted => {
                if let Some(arg) = current.take() {
                    args.push(arg);
                }
            }
            c => current.get_or_insert_with(String::new).push(c),
        }
    }
    args.extend(current);
    args
}

/// A data directory and a way to run `cognate --data-dir <it> ...` on it: on its embedded
/// SQLite database, or on a PostgreSQL schema of its own ([`Cli::postgres`]).
struct Cli {
    dir: tempfile::TempDir,
    /// `COGNATE_DATABASE_URL` and `COGNATE_MASTER_KEY` for PostgreSQL.
    postgres: Option<(PgTestDb, SecretString)>,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: None,
        }
    }

    /// The same on a fresh PostgreSQL schema (with a master key from the environment, as
    /// several nodes need), or `None` when no test database is configured (see
    /// [`fresh_pg_url`]: a banner locally, a failure under CI).
    fn postgres(label: &str) -> Option<Cli> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let db = runtime.block_on(fresh_pg_url(label))?;
        let (_, key) = cognate::core::secrets::MasterKey::generate();
        Some(Cli {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres: Some((db, SecretString::new(key))),
        })
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn run(&self, line: &str, stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .args(split(line))
            .current_dir(self.dir.path())
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, _) in std::env::vars() {
            if k.starts_with("COGNATE_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        if let Some((db, key)) = &self.postgres {
            cmd.env("COGNATE_DATABASE_URL", &db.url)
                .env("COGNATE_MASTER_KEY", key.expose());
        }
        let mut child = cmd.spawn().expect("spawn cognate");
        if let Some(input) = stdin {
            let mut pipe = child.stdin.take().expect("stdin");
            pipe.write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait for cognate");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "cognate panicked: {stderr}");
        out
    }

    /// Runs a command that must succeed; returns its stdout.
    fn ok(&self, line: &str) -> String {
        self.ok_stdin(line, None)
    }

    fn ok_stdin(&self, line: &str, stdin: Option<&str>) -> String {
        let out = self.run(line, stdin);
        assert!(
            out.status.success(),
            "cognate {line} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail with exit code 2 and mention every needle in its
    /// error output.
    fn fails(&self, line: &str, needles: &[&str]) {
        let out = self.run(line, None);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(2),
            "cognate {line} should exit 2:\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert_mentions(&stderr, needles);
    }

    fn json(&self, line: &str) -> Value {
        let out = self.ok(line);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{line}: not JSON ({e}): {out}"))
    }

    fn create_pool(&self, flags: &str) -> String {
        let id = self.ok(&format!("pools create --name shop {flags}"));
        let id = id.trim().to_string();
        assert!(id.starts_with("us-east-1_"), "{id}");
        id
    }

    /// What the database holds of app clients, as bytes: the whole SQLite file, or the
    /// PostgreSQL `clients` rows.
    fn stored_clients(&self) -> Vec<u8> {
        let Some((db, _)) = &self.postgres else {
            return std::fs::read(self.data_dir().join("cognate.db")).expect("the database file");
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&db.url).await.expect("connect");
            let rows: Vec<(String, String)> = sqlx::query_as("SELECT id, doc FROM clients")
                .fetch_all(&mut conn)
                .await
                .expect("clients");
            rows.into_iter()
                .flat_map(|(id, doc)| [id, doc])
                .collect::<String>()
                .into_bytes()
        })
    }

    async fn node(&self) -> Node {
        let mut config = Config::default();
        config.server.data_dir = self.data_dir();
        if let Some((db, key)) = &self.postgres {
            config.server.database_url = Some(SecretString::new(db.url.clone()));
            config.master_key = Some(key.clone());
        }
        Node::open(config).await.expect("open node")
    }
}

fn assert_mentions(text: &str, needles: &[&str]) {
    for n in needles {
        assert!(text.contains(n), "expected {n:?} in: {text}");
    }
}

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
    let pool = cli.create_pool("--alias email --custom-attribute tier:Number");
    let p = pool.as_str();
    let listed = cli.ok("pools list");
    assert!(listed.contains(p) && listed.contains("shop"), "{listed}");
    let described = cli.json(&format!("pools describe {p}"));
    assert_eq!(described["name"], "shop");
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
        &["custom:tier", "must be a number"],
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

/// Exports a pool, imports the file into a fresh data directory, exports again: the two
/// files are the same (sub, attributes, status, groups, identities, hashes, times).
#[tokio::test(flavor = "multi_thread")]
async fn export_import_round_trip() {
    round_trip(Cli::new(), Cli::new()).await;
}

/// From SQLite to PostgreSQL and back out, the same file: the way from one node to
/// several.
#[tokio::test(flavor = "multi_thread")]
async fn export_import_round_trip_from_sqlite_to_postgres() {
    let Some(dst) = tokio::task::spawn_blocking(|| Cli::postgres("cli_round_trip"))
        .await
        .unwrap()
    else {
        return;
    };
    round_trip(Cli::new(), dst).await;
}

/// Exports `src`'s users (every kind: password, invitation, none, disabled, linked,
/// grouped), imports them into `dst`, and checks `dst` exports the same file, takes the
/// same file again as a no-op, and signs the user in with the carried hash.
async fn round_trip(src: Cli, dst: Cli) {
    let schema = "--alias email --custom-attribute tier:Number";
    let pool = src.create_pool(schema);
    let p = pool.as_str();
    src.ok(&format!(
        "users create --pool {p} ana -a email=ana@example.com -a email_verified=true \
         -a custom:tier=3 --password Passw0rd!x"
    ));
    src.ok(&format!("users create --pool {p} bob --invite"));
    src.ok(&format!(
        "users create --pool {p} cyd --no-password -a 'name=Cyd Ü'"
    ));
    src.ok(&format!("users disable --pool {p} cyd"));
    src.ok(&format!(
        "users link --pool {p} cyd --provider MyOkta --provider-type OIDC --subject 00u1 \
         --issuer https://example.okta.com"
    ));
    src.ok(&format!("groups create --pool {p} admins --precedence 1"));
    src.ok(&format!("groups create --pool {p} staff"));
    src.ok(&format!("groups add-user --pool {p} admins ana"));
    src.ok(&format!("groups add-user --pool {p} staff ana"));
    src.ok(&format!("groups add-user --pool {p} staff cyd"));

    let first = src.path("first.jsonl");
    src.ok(&format!("users export --pool {p} --output {first}"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the export holds hashes: owner-only");
    }
    let first_text = std::fs::read_to_string(&first).unwrap();
    assert_eq!(first_text.lines().count(), 3, "{first_text}");
    let ana: Value = first_text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["username"] == "ana")
        .unwrap();
    let hash = ana["password_hash"].as_str().unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    assert_eq!(ana["groups"], json!(["admins", "staff"]));
    // Standard output is the default.
    assert_eq!(src.ok(&format!("users export --pool {p}")), first_text);

    let pool2 = dst.create_pool(schema);
    let imported = dst.ok(&format!("users import --pool {pool2} {first}"));
    assert_mentions(
        &imported,
        &[
            "imported 3 user(s)",
            "0 rejected",
            "2 group(s) created",
            "3 membership(s)",
        ],
    );
    let second = dst.path("second.jsonl");
    dst.ok(&format!("users export --pool {pool2} -o {second}"));
    assert_eq!(std::fs::read_to_string(&second).unwrap(), first_text);

    // Importing again changes nothing: every user is recognized as already present.
    let again = dst.ok(&format!("users import --pool {pool2} {first}"));
    assert_mentions(
        &again,
        &["imported 0 user(s)", "3 already present", "0 skipped"],
    );
    dst.ok(&format!("users export --pool {pool2} -o {second}"));
    assert_eq!(std::fs::read_to_string(&second).unwrap(), first_text);

    // The imported Argon2id hash signs in as it is.
    let node = dst.node().await;
    let pool = node.directory.pool(&pool2).await.unwrap();
    let user = node
        .directory
        .authenticate(
            &pool,
            "ana@example.com",
            &SecretString::new("Passw0rd!x"),
            now(),
        )
        .await
        .expect("imported argon2id hash verifies");
    assert_eq!(Some(user.sub.as_str()), ana["sub"].as_str());
}

fn bcrypt_hash(pw: &str) -> String {
    bcrypt::hash(pw, 4).unwrap()
}

fn pbkdf2_hash(pw: &str) -> String {
    let salt = SaltString::encode_b64(b"pbkdf2-salt-1234").unwrap();
    let params = pbkdf2::Params {
        rounds: 1000,
        output_length: 32,
    };
    let alg = Some(pbkdf2::Algorithm::Pbkdf2Sha256.ident());
    pbkdf2::Pbkdf2
        .hash_password_customized(pw.as_bytes(), alg, None, params, &salt)
        .unwrap()
        .to_string()
}

fn scrypt_hash(pw: &str) -> String {
    let salt = SaltString::encode_b64(b"scrypt-salt-1234").unwrap();
    let params = scrypt::Params::new(10, 8, 1, 32).unwrap();
    scrypt::Scrypt
        .hash_password_customized(pw.as_bytes(), None, None, params, &salt)
        .unwrap()
        .to_string()
}

fn django_hash(pw: &str) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw.as_bytes(), b"djangosalt", 1000, &mut out);
    let b64 = base64::engine::general_purpose::STANDARD.encode(out);
    format!("pbkdf2_sha256$1000$djangosalt${b64}")
}

fn new_sub() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn record(username: &str, hash: &str) -> String {
    json!({
        "username": username,
        "sub": new_sub(),
        "status": "CONFIRMED",
        "enabled": true,
        "attributes": {"email": format!("{username}@example.com"), "email_verified": true},
        "password_hash": hash,
        "groups": ["imported"],
        "identities": [],
        "created_at": "2020-01-02T03:04:05Z",
        "updated_at": 1_600_000_000,
    })
    .to_string()
}

/// Hashes from other systems: each verifies as it is, a wrong password fails, and the first
/// successful sign-in replaces it with Argon2id. A bad line is reported by number while the
/// other lines import.
#[tokio::test(flavor = "multi_thread")]
async fn imported_legacy_hashes_sign_in_and_upgrade() {
    let cli = Cli::new();
    let pool_id = cli.create_pool("");
    let users = [
        ("bea", "bcrypt-Pw1!", bcrypt_hash("bcrypt-Pw1!")),
        ("pia", "pbkdf2-Pw1!", pbkdf2_hash("pbkdf2-Pw1!")),
        ("sam", "scrypt-Pw1!", scrypt_hash("scrypt-Pw1!")),
        ("dan", "django-Pw1!", django_hash("django-Pw1!")),
    ];
    let mut lines: Vec<String> = users.iter().map(|(u, _, h)| record(u, h)).collect();
    let bad = [
        (3, "{\"username\": \"broken\", ".to_string()),
        (6, record("md5user", "$md5$abc")),
        (7, String::new()), // blank lines are ignored
        (
            8,
            json!({"username": "eve", "sub": "not-a-uuid", "status": "CONFIRMED"}).to_string(),
        ),
        (
            9,
            json!({"username": "fay", "sub": new_sub(), "status": "NOPE"}).to_string(),
        ),
        (
            10,
            json!({"username": "gus", "sub": new_sub(), "status": "CONFIRMED",
                   "attributes": {"shoe_size": "44"}})
            .to_string(),
        ),
        (
            11,
            json!({"username": "hal", "sub": new_sub(), "status": "CONFIRMED",
                   "pasword_hash": "typo"})
            .to_string(),
        ),
    ];
    for (line, text) in bad {
        lines.insert(line - 1, text);
    }
    let file = cli.path("legacy.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();

    let out = cli.run(
        &format!("users import --pool {pool_id} {file} --batch-size 2"),
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "rejected lines exit 2: {stderr}"
    );
    assert_mentions(
        &stdout,
        &[
            "imported 4 user(s)",
            "6 rejected",
            "1 group(s) created",
            "4 membership(s)",
        ],
    );
    assert_mentions(
        &stderr,
        &[
            "line 3: not a user record",
            "line 6: password_hash",
            "line 8: sub",
            "line 9: status",
            "line 10: attribute shoe_size",
            "line 11: not a user record: unknown field `pasword_hash`",
            "6 line(s)",
        ],
    );
    assert!(!stderr.contains("line 7"), "{stderr}");

    let node = cli.node().await;
    let pool = node.directory.pool(&pool_id).await.unwrap();
    let dir = &node.directory;
    for (username, password, hash) in &users {
        let right = SecretString::new(*password);
        let wrong = dir
            .authenticate(&pool, username, &SecretString::new("Wrong-Pw1!"), now())
            .await;
        assert!(wrong.is_err(), "{username}: a wrong password must fail");
        let stored = dir.find_user(&pool, username).await.unwrap().unwrap();
        assert_eq!(stored.password_hash.as_ref().unwrap().expose(), hash);
        assert_eq!(stored.created_at, 1_577_934_245);
        assert_eq!(stored.updated_at, 1_600_000_000);
        dir.authenticate(&pool, username, &right, now())
            .await
            .unwrap_or_else(|e| panic!("{username}: the right password must verify: {e}"));
        let upgraded = dir.find_user(&pool, username).await.unwrap().unwrap();
        let upgraded_hash = upgraded.password_hash.unwrap();
        assert!(
            upgraded_hash.expose().starts_with("$argon2id$"),
            "{username}: upgraded"
        );
        // And the upgraded hash still takes the same password.
        dir.authenticate(&pool, username, &right, now())
            .await
            .expect("upgraded hash verifies");
    }
    let members = node
        .store
        .members_of_group(&pool_id, "imported", &Default::default())
        .await
        .unwrap();
    assert_eq!(members.items.len(), 4);
}

/// Collisions with existing users are skipped and named; a pool whose email is the
/// username takes records keyed by the address.
#[test]
fn import_collisions_and_email_usernames() {
    let cli = Cli::new();
    let pool = cli.create_pool("--email-as-username");
    let p = pool.as_str();
    cli.ok(&format!(
        "users create --pool {p} ana@example.com --password Passw0rd!x"
    ));
    let sub = new_sub();
    let lines = [
        // The address as the username: stored under the sub, the address as attribute.
        json!({"username": "bea@example.com", "sub": sub, "status": "CONFIRMED"}),
        // Takes ana's address.
        json!({"username": "ANA@example.com", "sub": new_sub(), "status": "CONFIRMED"}),
        // Neither an address nor the sub.
        json!({"username": "carl", "sub": new_sub(), "status": "CONFIRMED"}),
    ];
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    let file = cli.path("users.jsonl");
    std::fs::write(&file, text.join("\n") + "\n").unwrap();
    let out = cli.run(&format!("users import --pool {p} {file}"), None);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_mentions(&stdout, &["imported 1 user(s)", "1 skipped", "1 rejected"]);
    assert_mentions(
        &stderr,
        &[
            "line 2: skipped: attribute email belongs to another user",
            "line 3: username",
        ],
    );
    let bea = cli.json(&format!("users describe --pool {p} bea@example.com"));
    assert_eq!(bea["username"], sub.as_str());
    assert_eq!(bea["attributes"]["email"], "bea@example.com");
}

/// Writes `count` users as JSON Lines, as a migration from another system would look:
/// a bcrypt hash each, an email, every tenth user in a group.
fn generate_users(path: &Path, count: usize) {
    let hash = bcrypt::hash("Passw0rd!x", 4).unwrap();
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..count {
        let mut rec = json!({
            "username": format!("user{i}"),
            "sub": new_sub(),
            "status": "CONFIRMED",
            "enabled": true,
            "attributes": {
                "email": format!("user{i}@example.com"),
                "email_verified": "true",
                "name": format!("User {i}"),
            },
            "password_hash": hash,
            "created_at": "2020-01-02T03:04:05Z",
        });
        if i % 10 == 0 {
            rec["groups"] = json!(["tenth"]);
        }
        writeln!(out, "{rec}").unwrap();
    }
    out.flush().unwrap();
}

/// A bulk import and export in the debug build, timed for the test output (the 1M-user
/// figure comes from a release build by hand); keeps the batched paths exercised.
#[test]
fn bulk_import_and_export() {
    bulk_import_and_export_on(&Cli::new(), 20_000);
}

#[test]
fn bulk_import_and_export_on_postgres() {
    if let Some(cli) = Cli::postgres("cli_bulk") {
        bulk_import_and_export_on(&cli, 5_000);
    }
}

fn bulk_import_and_export_on(cli: &Cli, count: usize) {
    let pool = cli.create_pool("--alias email");
    let p = pool.as_str();
    let file = cli.path("bulk.jsonl");
    generate_users(Path::new(&file), count);
    let started = Instant::now();
    let out = cli.ok(&format!("users import --pool {p} {file} --quiet"));
    let took = started.elapsed().as_secs_f64();
    eprintln!(
        "imported {count} users in {took:.2} s (debug build): {:.0} users/s",
        count as f64 / took
    );
    let memberships = format!("{} membership(s)", count / 10);
    assert_mentions(
        &out,
        &[
            &format!("imported {count} user(s)"),
            "0 rejected",
            &memberships,
        ],
    );
    let page = cli.ok(&format!("users list --pool {p} --limit 5"));
    assert_eq!(page.lines().count(), 6);

    // The export walks the memberships beside the users, page by page.
    let started = Instant::now();
    let exported = cli.ok(&format!("users export --pool {p}"));
    let took = started.elapsed().as_secs_f64();
    eprintln!("exported {count} users in {took:.2} s (debug build)");
    assert_eq!(exported.lines().count(), count);
    let in_group = exported
        .lines()
        .filter(|l| l.contains(r#""groups":["tenth"]"#))
        .count();
    assert_eq!(in_group, count / 10);
    assert!(exported.lines().all(|l| l.contains(r#""groups":["#)));
}

#[test]
fn command_lines_split_like_a_shell() {
    assert_eq!(split("a  'b c' ''"), ["a", "b c", ""]);
    assert_eq!(split("-a 'name=Cyd Ü'"), ["-a", "name=Cyd Ü"]);
}
