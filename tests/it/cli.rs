//! The admin command line, driven as the real `cognate` binary on a temporary data
//! directory: lifecycles of pools, clients, users, groups and keys; bad input exits with
//! code 2 and a message naming the field; JSON Lines export and import round-trip, and
//! imported bcrypt / PBKDF2 / scrypt / Django hashes sign in and are upgraded to Argon2id.

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

/// A data directory and a way to run `cognate --data-dir <it> ...` on it.
struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run_with(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cognate"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .args(args)
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
    fn ok(&self, args: &[&str]) -> String {
        self.ok_stdin(args, None)
    }

    fn ok_stdin(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run_with(args, stdin);
        assert!(
            out.status.success(),
            "cognate {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail with exit code 2; returns its stderr.
    fn fails(&self, args: &[&str]) -> String {
        let out = self.run_with(args, None);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(
            out.status.code(),
            Some(2),
            "cognate {args:?} should exit 2:\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        stderr
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.ok(args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: not JSON ({e}): {out}"))
    }

    fn create_pool(&self, extra: &[&str]) -> String {
        let mut args = vec!["pools", "create", "--name", "shop"];
        args.extend_from_slice(extra);
        let id = self.ok(&args).trim().to_string();
        assert!(id.starts_with("us-east-1_"), "{id}");
        id
    }

    async fn node(&self) -> Node {
        let mut config = Config::default();
        config.server.data_dir = self.data_dir();
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
    let cli = Cli::new();
    assert_eq!(
        cli.ok(&["pools", "list"]).lines().count(),
        1,
        "only the header"
    );
    let pool = cli.create_pool(&["--alias", "email", "--custom-attribute", "tier:Number"]);
    let listed = cli.ok(&["pools", "list"]);
    assert!(
        listed.contains(&pool) && listed.contains("shop"),
        "{listed}"
    );
    let described = cli.json(&["pools", "describe", &pool]);
    assert_eq!(described["name"], "shop");
    assert_eq!(described["alias_attributes"], json!(["email"]));
    assert_eq!(described["custom_attributes"][0]["data_type"], "Number");
    assert_eq!(described["origin"], "api");

    // Keys: created with the pool; a rotation adds two and retires two.
    let keys = cli.ok(&["keys", "list", "--pool", &pool]);
    assert_eq!(keys.matches("active").count(), 2, "{keys}");
    let rotated = cli.ok(&["keys", "rotate", "--pool", &pool]);
    let new_kids: Vec<&str> = rotated
        .lines()
        .filter_map(|l| l.split('\t').nth(1))
        .collect();
    assert_eq!(new_kids.len(), 2, "{rotated}");
    let keys = cli.ok(&["keys", "list", "--pool", &pool]);
    assert_eq!(keys.lines().count(), 5, "{keys}");
    assert_eq!(keys.matches("active").count(), 2, "{keys}");
    for kid in new_kids {
        assert!(
            keys.lines()
                .any(|l| l.starts_with(kid) && l.ends_with("active")),
            "{keys}"
        );
    }

    // A public client: PKCE on, no secret.
    let public = cli.ok(&[
        "clients",
        "create",
        "--pool",
        &pool,
        "--name",
        "web",
        "--callback-url",
        "https://app.example.com/cb",
        "--callback-url",
        "http://localhost:3000/cb",
        "--logout-url",
        "myapp://signed-out",
    ]);
    let public = public.trim();
    let d = cli.json(&["clients", "describe", public]);
    let c = &d["UserPoolClient"];
    assert_eq!(c["ClientId"], public);
    assert_eq!(c["UserPoolId"], pool.as_str());
    assert_eq!(c["AllowedOAuthFlows"], json!(["code"]));
    assert_eq!(
        c["AllowedOAuthScopes"],
        json!(["openid", "email", "profile"])
    );
    assert_eq!(c["SupportedIdentityProviders"], json!(["COGNITO"]));
    assert_eq!(c["RequirePkce"], true);
    assert!(c.get("ClientSecret").is_none(), "{d}");

    // A confidential client: the secret printed once at creation is the one described.
    let created = cli.ok(&[
        "clients",
        "create",
        "--pool",
        &pool,
        "--name",
        "backend",
        "--generate-secret",
        "--callback-url",
        "https://api.example.com/cb",
        "--flow",
        "code",
        "--scope",
        "openid",
        "--scope",
        "email",
    ]);
    let mut lines = created.lines();
    let (id, secret) = (lines.next().unwrap(), lines.next().unwrap());
    assert_eq!(secret.len(), 51);
    let d = cli.json(&["clients", "describe", id]);
    assert_eq!(d["UserPoolClient"]["ClientSecret"], secret);
    assert_eq!(d["UserPoolClient"]["RequirePkce"], false);
    let list = cli.ok(&["clients", "list", "--pool", &pool]);
    assert!(
        list.contains(public) && list.contains(id) && list.contains("confidential"),
        "{list}"
    );
    // The secret is not stored in the clear.
    let db = std::fs::read(cli.data_dir().join("cognate.db")).unwrap();
    assert!(!db.windows(secret.len()).any(|w| w == secret.as_bytes()));

    cli.fails(&["clients", "delete", id]);
    cli.ok(&["clients", "delete", id, "--yes"]);
    assert_mentions(
        &cli.fails(&["clients", "describe", id]),
        &["app client", id, "does not exist"],
    );

    assert_mentions(&cli.fails(&["pools", "delete", &pool]), &["--yes"]);
    cli.ok(&["pools", "delete", &pool, "--yes"]);
    assert!(!cli.ok(&["pools", "list"]).contains(&pool));
    assert_mentions(
        &cli.fails(&["clients", "describe", public]),
        &["does not exist"],
    );
}

#[test]
fn users_and_groups_lifecycle() {
    let cli = Cli::new();
    let pool = cli.create_pool(&["--alias", "email"]);
    let p = pool.as_str();
    let ana = cli.ok(&[
        "users",
        "create",
        "--pool",
        p,
        "ana",
        "-a",
        "email=ana@example.com",
        "-a",
        "email_verified=true",
        "-a",
        "given_name=Ana",
        "--password",
        "Passw0rd!x",
    ]);
    let ana_sub = ana.trim().to_string();
    assert!(uuid::Uuid::parse_str(&ana_sub).is_ok(), "{ana}");
    cli.ok_stdin(
        &["users", "create", "--pool", p, "bob", "--password-stdin"],
        Some("B0b-Passw0rd\n"),
    );
    let carl = cli.ok(&["users", "create", "--pool", p, "carl", "--invite"]);
    let temp = carl
        .lines()
        .find_map(|l| l.strip_prefix("temporary password: "))
        .expect("a generated password is printed");
    assert!(temp.len() >= 12, "{carl}");
    cli.ok(&["users", "create", "--pool", p, "dora", "--no-password"]);

    // Describe by username, by verified email alias and by sub; never the hash.
    let by_name = cli.json(&["users", "describe", "--pool", p, "ana"]);
    assert_eq!(by_name["sub"], ana_sub.as_str());
    assert_eq!(by_name["status"], "CONFIRMED");
    assert_eq!(by_name["attributes"]["given_name"], "Ana");
    assert_eq!(by_name["password_set"], true);
    assert!(by_name.get("password_hash").is_none(), "{by_name}");
    assert!(!by_name.to_string().contains("$argon2id$"));
    assert_eq!(
        cli.json(&["users", "describe", "--pool", p, "ANA@example.com"])["username"],
        "ana"
    );
    assert_eq!(
        cli.json(&["users", "describe", "--pool", p, &ana_sub])["username"],
        "ana"
    );
    let carl = cli.json(&["users", "describe", "--pool", p, "carl"]);
    assert_eq!(carl["status"], "FORCE_CHANGE_PASSWORD");
    assert!(carl["temporary_password_expires_at"].is_i64());
    assert_eq!(
        cli.json(&["users", "describe", "--pool", p, "dora"])["password_set"],
        false
    );

    let list = cli.ok(&["users", "list", "--pool", p]);
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
    let out = cli.run_with(&["users", "list", "--pool", p, "--limit", "2"], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let token = stderr
        .split("--page ")
        .nth(1)
        .expect("a next-page token")
        .trim();
    let second = cli.ok(&[
        "users", "list", "--pool", p, "--limit", "2", "--page", token,
    ]);
    assert_eq!(second.lines().count(), 3, "{second}");
    assert_mentions(
        &cli.fails(&["users", "list", "--pool", p, "--page", "!!"]),
        &["--page"],
    );

    // Passwords, enable/disable.
    let set = cli.ok(&[
        "users",
        "set-password",
        "--pool",
        p,
        "ana",
        "--password",
        "N3w-Passw0rd",
        "--temporary",
    ]);
    assert!(set.contains("FORCE_CHANGE_PASSWORD"), "{set}");
    cli.ok(&[
        "users",
        "set-password",
        "--pool",
        p,
        "ana",
        "--password",
        "N3w-Passw0rd",
    ]);
    cli.ok(&["users", "disable", "--pool", p, "ana"]);
    assert_eq!(
        cli.json(&["users", "describe", "--pool", p, "ana"])["enabled"],
        false
    );
    cli.ok(&["users", "enable", "--pool", p, "ana"]);
    assert_eq!(
        cli.json(&["users", "describe", "--pool", p, "ana"])["enabled"],
        true
    );

    // Groups and memberships.
    cli.ok(&[
        "groups",
        "create",
        "--pool",
        p,
        "admins",
        "--precedence",
        "1",
        "--description",
        "Admins",
        "--role-arn",
        "arn:aws:iam::123456789012:role/Admins",
    ]);
    assert_mentions(
        &cli.fails(&["groups", "create", "--pool", p, "admins"]),
        &["admins", "already exists"],
    );
    assert!(cli
        .ok(&["groups", "list", "--pool", p])
        .contains("arn:aws:iam::123456789012:role/Admins"));
    cli.ok(&[
        "groups",
        "add-user",
        "--pool",
        p,
        "admins",
        "ana@example.com",
    ]);
    cli.ok(&["groups", "add-user", "--pool", p, "admins", "bob"]);
    let members = cli.ok(&["groups", "members", "--pool", p, "admins"]);
    assert!(
        members.contains(&ana_sub) && members.contains("bob"),
        "{members}"
    );
    assert_eq!(
        cli.json(&["users", "describe", "--pool", p, "ana"])["groups"],
        json!(["admins"])
    );
    cli.ok(&["groups", "remove-user", "--pool", p, "admins", "ana"]);
    assert_mentions(
        &cli.fails(&["groups", "remove-user", "--pool", p, "admins", "ana"]),
        &["not a member"],
    );
    assert_mentions(
        &cli.fails(&["groups", "add-user", "--pool", p, "nope", "ana"]),
        &["group", "nope", "does not exist"],
    );
    assert_mentions(
        &cli.fails(&["groups", "add-user", "--pool", p, "admins", "zed"]),
        &["user", "zed", "does not exist"],
    );

    // Federated links: one identity belongs to one user; at most one link per provider.
    cli.ok(&[
        "users",
        "link",
        "--pool",
        p,
        "ana",
        "--provider",
        "Google",
        "--provider-type",
        "google",
        "--subject",
        "g-123",
    ]);
    let d = cli.json(&["users", "describe", "--pool", p, "ana"]);
    assert_eq!(d["identities"][0]["provider_type"], "Google");
    assert_eq!(d["identities"][0]["user_id"], "g-123");
    assert_mentions(
        &cli.fails(&[
            "users",
            "link",
            "--pool",
            p,
            "bob",
            "--provider",
            "Google",
            "--provider-type",
            "Google",
            "--subject",
            "g-123",
        ]),
        &["already linked to user ana"],
    );
    assert_mentions(
        &cli.fails(&[
            "users",
            "link",
            "--pool",
            p,
            "ana",
            "--provider",
            "Google",
            "--provider-type",
            "Google",
            "--subject",
            "g-456",
        ]),
        &["already linked to provider Google"],
    );
    assert_mentions(
        &cli.fails(&[
            "users",
            "link",
            "--pool",
            p,
            "ana",
            "--provider",
            "X",
            "--provider-type",
            "MySpace",
            "--subject",
            "1",
        ]),
        &["--provider-type", "MySpace"],
    );
    cli.ok(&[
        "users",
        "unlink",
        "--pool",
        p,
        "ana",
        "--provider",
        "Google",
    ]);
    assert_eq!(
        cli.json(&["users", "describe", "--pool", p, "ana"])["identities"],
        json!([])
    );
    cli.ok(&[
        "users",
        "link",
        "--pool",
        p,
        "bob",
        "--provider",
        "Google",
        "--provider-type",
        "Google",
        "--subject",
        "g-123",
    ]);

    // Deletion.
    assert_mentions(
        &cli.fails(&["users", "delete", "--pool", p, "ana"]),
        &["--yes"],
    );
    cli.ok(&["users", "delete", "--pool", p, "ana", "--yes"]);
    assert_mentions(
        &cli.fails(&["users", "describe", "--pool", p, "ana"]),
        &["user \"ana\" does not exist"],
    );
    cli.ok(&["groups", "delete", "--pool", p, "admins", "--yes"]);
    assert!(!cli.ok(&["groups", "list", "--pool", p]).contains("admins"));
}

#[test]
fn bad_input_exits_2_naming_the_field() {
    let cli = Cli::new();
    let pool = cli.create_pool(&["--custom-attribute", "tier:Number"]);
    let p = pool.as_str();

    assert_mentions(
        &cli.fails(&["users", "list", "--pool", "us-east-1_Nope"]),
        &["--pool", "us-east-1_Nope", "does not exist"],
    );
    assert_mentions(
        &cli.fails(&[
            "clients",
            "create",
            "--pool",
            "us-east-1_Nope",
            "--name",
            "x",
        ]),
        &["--pool", "does not exist"],
    );
    assert_mentions(
        &cli.fails(&["clients", "describe", "nosuchclient"]),
        &["app client", "nosuchclient", "does not exist"],
    );
    assert_mentions(
        &cli.fails(&["keys", "rotate", "--pool", "us-east-1_Nope"]),
        &["--pool"],
    );

    cli.ok(&[
        "users",
        "create",
        "--pool",
        p,
        "ana",
        "--password",
        "Passw0rd!x",
    ]);
    assert_mentions(
        &cli.fails(&[
            "users",
            "create",
            "--pool",
            p,
            "ANA",
            "--password",
            "Passw0rd!x",
        ]),
        &["username", "ANA", "already exists"],
    );
    assert_mentions(
        &cli.fails(&["users", "create", "--pool", p, "bo b", "--no-password"]),
        &["username", "spaces"],
    );
    assert_mentions(
        &cli.fails(&[
            "users",
            "create",
            "--pool",
            p,
            "bob",
            "-a",
            "email=nope",
            "--no-password",
        ]),
        &["email", "must be an email address"],
    );
    assert_mentions(
        &cli.fails(&[
            "users",
            "create",
            "--pool",
            p,
            "bob",
            "-a",
            "shoe_size=44",
            "--no-password",
        ]),
        &["shoe_size", "not a standard attribute"],
    );
    assert_mentions(
        &cli.fails(&[
            "users",
            "create",
            "--pool",
            p,
            "bob",
            "-a",
            "custom:tier=gold",
            "--no-password",
        ]),
        &["custom:tier", "must be a number"],
    );
    assert_mentions(
        &cli.fails(&[
            "users",
            "create",
            "--pool",
            p,
            "bob",
            "-a",
            "novalue",
            "--no-password",
        ]),
        &["--attribute", "name=value"],
    );
    let weak = cli.fails(&["users", "create", "--pool", p, "bob", "--password", "abc"]);
    assert_mentions(
        &weak,
        &[
            "password",
            "at least 8 characters",
            "an uppercase letter",
            "a number",
            "a symbol",
        ],
    );
    assert_mentions(
        &cli.fails(&["users", "create", "--pool", p, "bob"]),
        &["--no-password", "--invite"],
    );
    assert_mentions(
        &cli.fails(&[
            "users",
            "set-password",
            "--pool",
            p,
            "ana",
            "--password",
            "short",
        ]),
        &["at least 8 characters"],
    );
    assert_mentions(
        &cli.fails(&[
            "users",
            "set-password",
            "--pool",
            p,
            "nobody",
            "--password",
            "Passw0rd!x",
        ]),
        &["user \"nobody\" does not exist"],
    );
    // clap's own usage errors also exit 2.
    assert_mentions(
        &cli.fails(&[
            "users",
            "create",
            "--pool",
            p,
            "bob",
            "--no-password",
            "--invite",
        ]),
        &["--no-password"],
    );

    assert_mentions(
        &cli.fails(&[
            "pools",
            "create",
            "--name",
            "x",
            "--min-password-length",
            "3",
        ]),
        &["--min-password-length", "6 to 99"],
    );
    assert_mentions(
        &cli.fails(&[
            "pools",
            "create",
            "--name",
            "x",
            "--custom-attribute",
            "a:Float",
        ]),
        &["--custom-attribute", "String, Number, Boolean"],
    );
    assert_mentions(
        &cli.fails(&[
            "pools",
            "create",
            "--name",
            "x",
            "--required-attribute",
            "shoe",
        ]),
        &["--required-attribute", "shoe"],
    );
    assert_mentions(
        &cli.fails(&["pools", "create", "--name", "x", "--id", "bad id"]),
        &["--id"],
    );
    assert_mentions(
        &cli.fails(&["pools", "create", "--name", "x", "--id", p]),
        &["--id", "already exists"],
    );
    assert_mentions(&cli.fails(&["pools", "create", "--name", " "]), &["--name"]);
    assert_mentions(
        &cli.fails(&[
            "pools",
            "create",
            "--name",
            "x",
            "--email-as-username",
            "--alias",
            "email",
        ]),
        &["--alias", "--email-as-username"],
    );

    let client = |extra: &[&str]| {
        let mut args = vec!["clients", "create", "--pool", p, "--name", "web"];
        args.extend_from_slice(extra);
        cli.fails(&args)
    };
    assert_mentions(
        &client(&["--callback-url", "http://app.example.com/cb"]),
        &["--callback-url", "https"],
    );
    assert_mentions(
        &client(&["--callback-url", "https://app.example.com/cb#x"]),
        &["--callback-url", "fragment"],
    );
    assert_mentions(
        &client(&["--callback-url", "not a url"]),
        &["--callback-url", "not an absolute URL"],
    );
    assert_mentions(
        &client(&["--logout-url", "javascript://alert(1)"]),
        &["--logout-url", "javascript"],
    );
    assert_mentions(&client(&["--flow", "code"]), &["--callback-url"]);
    assert_mentions(
        &client(&["--flow", "client_credentials"]),
        &["--generate-secret"],
    );
    assert_mentions(
        &client(&[
            "--callback-url",
            "https://a.example.com/cb",
            "--scope",
            "email",
        ]),
        &["--scope", "openid"],
    );
    assert_mentions(
        &client(&[
            "--callback-url",
            "https://a.example.com/cb",
            "--scope",
            "api/read",
        ]),
        &["--scope", "api/read"],
    );
    assert_mentions(
        &client(&["--identity-provider", "Okta"]),
        &["--identity-provider", "Okta"],
    );
    // Valid: loopback http and a native app's custom scheme.
    cli.ok(&[
        "clients",
        "create",
        "--pool",
        p,
        "--name",
        "native",
        "--callback-url",
        "http://127.0.0.1:8080/cb",
        "--callback-url",
        "com.example.app://cb",
    ]);

    assert_mentions(
        &cli.fails(&["groups", "create", "--pool", p, "a b"]),
        &["group name"],
    );
    assert_mentions(
        &cli.fails(&["groups", "create", "--pool", p, "g", "--role-arn", "role"]),
        &["--role-arn"],
    );
    assert_mentions(
        &cli.fails(&["groups", "create", "--pool", p, "g", "--precedence", "-1"]),
        &["precedence"],
    );
    // Nothing half-written: the failed attempts left exactly one user and one client.
    let users = cli.ok(&["users", "list", "--pool", p]);
    assert_eq!(users.lines().count(), 2, "{users}");
    assert_eq!(cli.ok(&["clients", "list", "--pool", p]).lines().count(), 2);
}

/// Exports a pool, imports the file into a fresh data directory, exports again: the two
/// files are the same (sub, attributes, status, groups, identities, hashes, times).
#[tokio::test(flavor = "multi_thread")]
async fn export_import_round_trip() {
    let src = Cli::new();
    let schema = ["--alias", "email", "--custom-attribute", "tier:Number"];
    let pool = src.create_pool(&schema);
    let p = pool.as_str();
    src.ok(&[
        "users",
        "create",
        "--pool",
        p,
        "ana",
        "-a",
        "email=ana@example.com",
        "-a",
        "email_verified=true",
        "-a",
        "custom:tier=3",
        "--password",
        "Passw0rd!x",
    ]);
    src.ok(&["users", "create", "--pool", p, "bob", "--invite"]);
    src.ok(&[
        "users",
        "create",
        "--pool",
        p,
        "cyd",
        "--no-password",
        "-a",
        "name=Cyd Ü",
    ]);
    src.ok(&["users", "disable", "--pool", p, "cyd"]);
    src.ok(&[
        "users",
        "link",
        "--pool",
        p,
        "cyd",
        "--provider",
        "MyOkta",
        "--provider-type",
        "OIDC",
        "--subject",
        "00u1",
        "--issuer",
        "https://example.okta.com",
    ]);
    src.ok(&[
        "groups",
        "create",
        "--pool",
        p,
        "admins",
        "--precedence",
        "1",
    ]);
    src.ok(&["groups", "create", "--pool", p, "staff"]);
    src.ok(&["groups", "add-user", "--pool", p, "admins", "ana"]);
    src.ok(&["groups", "add-user", "--pool", p, "staff", "ana"]);
    src.ok(&["groups", "add-user", "--pool", p, "staff", "cyd"]);

    let first = src.dir.path().join("first.jsonl");
    src.ok(&[
        "users",
        "export",
        "--pool",
        p,
        "--output",
        first.to_str().unwrap(),
    ]);
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
    assert!(ana["password_hash"]
        .as_str()
        .unwrap()
        .starts_with("$argon2id$"));
    assert_eq!(ana["groups"], json!(["admins", "staff"]));
    // Standard output is the default.
    assert_eq!(src.ok(&["users", "export", "--pool", p]), first_text);

    let dst = Cli::new();
    let pool2 = dst.create_pool(&schema);
    let imported = dst.ok(&["users", "import", "--pool", &pool2, first.to_str().unwrap()]);
    assert_mentions(
        &imported,
        &[
            "imported 3 user(s)",
            "0 rejected",
            "2 group(s) created",
            "3 membership(s)",
        ],
    );
    let second = dst.dir.path().join("second.jsonl");
    dst.ok(&[
        "users",
        "export",
        "--pool",
        &pool2,
        "-o",
        second.to_str().unwrap(),
    ]);
    assert_eq!(std::fs::read_to_string(&second).unwrap(), first_text);

    // Importing again changes nothing: every user is recognized as already present.
    let again = dst.ok(&["users", "import", "--pool", &pool2, first.to_str().unwrap()]);
    assert_mentions(
        &again,
        &["imported 0 user(s)", "3 already present", "0 skipped"],
    );
    dst.ok(&[
        "users",
        "export",
        "--pool",
        &pool2,
        "-o",
        second.to_str().unwrap(),
    ]);
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
    pbkdf2::Pbkdf2
        .hash_password_customized(
            pw.as_bytes(),
            Some(pbkdf2::Algorithm::Pbkdf2Sha256.ident()),
            None,
            pbkdf2::Params {
                rounds: 1000,
                output_length: 32,
            },
            &salt,
        )
        .unwrap()
        .to_string()
}

fn scrypt_hash(pw: &str) -> String {
    let salt = SaltString::encode_b64(b"scrypt-salt-1234").unwrap();
    scrypt::Scrypt
        .hash_password_customized(
            pw.as_bytes(),
            None,
            None,
            scrypt::Params::new(10, 8, 1, 32).unwrap(),
            &salt,
        )
        .unwrap()
        .to_string()
}

fn django_hash(pw: &str) -> String {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(pw.as_bytes(), b"djangosalt", 1000, &mut out);
    format!(
        "pbkdf2_sha256$1000$djangosalt${}",
        base64::engine::general_purpose::STANDARD.encode(out)
    )
}

fn record(username: &str, hash: &str) -> String {
    json!({
        "username": username,
        "sub": uuid::Uuid::new_v4().to_string(),
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
    let pool_id = cli.create_pool(&[]);
    let users = [
        ("bea", "bcrypt-Pw1!", bcrypt_hash("bcrypt-Pw1!")),
        ("pia", "pbkdf2-Pw1!", pbkdf2_hash("pbkdf2-Pw1!")),
        ("sam", "scrypt-Pw1!", scrypt_hash("scrypt-Pw1!")),
        ("dan", "django-Pw1!", django_hash("django-Pw1!")),
    ];
    let mut lines: Vec<String> = users.iter().map(|(u, _, h)| record(u, h)).collect();
    lines.insert(2, "{\"username\": \"broken\", ".to_string()); // line 3
    lines.push(record("md5user", "$md5$abc")); // line 6
    lines.push(String::new()); // blank lines are ignored
    lines.push(
        json!({"username": "eve", "sub": "not-a-uuid", "status": "CONFIRMED"}).to_string(), // line 8
    );
    lines.push(
        json!({"username": "fay", "sub": uuid::Uuid::new_v4().to_string(), "status": "NOPE"})
            .to_string(),
    );
    lines.push(
        json!({"username": "gus", "sub": uuid::Uuid::new_v4().to_string(), "status": "CONFIRMED",
        "attributes": {"shoe_size": "44"}})
        .to_string(),
    );
    lines.push(
        json!({"username": "hal", "sub": uuid::Uuid::new_v4().to_string(), "status": "CONFIRMED",
        "pasword_hash": "typo"})
        .to_string(),
    );
    let file = cli.dir.path().join("legacy.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();

    let out = cli.run_with(
        &[
            "users",
            "import",
            "--pool",
            &pool_id,
            file.to_str().unwrap(),
            "--batch-size",
            "2",
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(2),
        "rejected lines make the exit code 2: {stderr}"
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
    for (username, password, hash) in &users {
        let wrong = node
            .directory
            .authenticate(&pool, username, &SecretString::new("Wrong-Pw1!"), now())
            .await;
        assert!(wrong.is_err(), "{username}: a wrong password must fail");
        let stored = node
            .directory
            .find_user(&pool, username)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.password_hash.as_ref().unwrap().expose(),
            hash,
            "kept as it is"
        );
        assert_eq!(stored.created_at, 1_577_934_245);
        assert_eq!(stored.updated_at, 1_600_000_000);
        node.directory
            .authenticate(&pool, username, &SecretString::new(*password), now())
            .await
            .unwrap_or_else(|e| panic!("{username}: the right password must verify: {e}"));
        let upgraded = node
            .directory
            .find_user(&pool, username)
            .await
            .unwrap()
            .unwrap();
        let upgraded_hash = upgraded.password_hash.unwrap();
        assert!(
            upgraded_hash.expose().starts_with("$argon2id$"),
            "{username}: upgraded"
        );
        // And the upgraded hash still takes the same password.
        node.directory
            .authenticate(&pool, username, &SecretString::new(*password), now())
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
    let pool = cli.create_pool(&["--email-as-username"]);
    cli.ok(&[
        "users",
        "create",
        "--pool",
        &pool,
        "ana@example.com",
        "--password",
        "Passw0rd!x",
    ]);
    let file = cli.dir.path().join("users.jsonl");
    let sub = uuid::Uuid::new_v4().to_string();
    let lines = [
        // The address as the username: stored under the sub, the address as attribute.
        json!({"username": "bea@example.com", "sub": sub, "status": "CONFIRMED"}),
        // Takes ana's address.
        json!({"username": "ANA@example.com", "sub": uuid::Uuid::new_v4().to_string(), "status": "CONFIRMED"}),
        // Neither an address nor the sub.
        json!({"username": "carl", "sub": uuid::Uuid::new_v4().to_string(), "status": "CONFIRMED"}),
    ];
    let text: Vec<String> = lines.iter().map(Value::to_string).collect();
    std::fs::write(&file, text.join("\n") + "\n").unwrap();
    let out = cli.run_with(
        &["users", "import", "--pool", &pool, file.to_str().unwrap()],
        None,
    );
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
    let bea = cli.json(&["users", "describe", "--pool", &pool, "bea@example.com"]);
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
            "sub": uuid::Uuid::new_v4().to_string(),
            "status": "CONFIRMED",
            "enabled": true,
            "attributes": {"email": format!("user{i}@example.com"), "email_verified": "true", "name": format!("User {i}")},
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

/// A bulk import in the debug build, timed for the test output. The 1M-user figure comes
/// from a release build (see the README); this keeps the path exercised and fast.
#[test]
fn bulk_import_is_fast() {
    const COUNT: usize = 20_000;
    let cli = Cli::new();
    let pool = cli.create_pool(&["--alias", "email"]);
    let file = cli.dir.path().join("bulk.jsonl");
    generate_users(&file, COUNT);
    let started = Instant::now();
    let out = cli.ok(&[
        "users",
        "import",
        "--pool",
        &pool,
        file.to_str().unwrap(),
        "--quiet",
    ]);
    let took = started.elapsed();
    eprintln!(
        "imported {COUNT} users in {:.2} s (debug build): {:.0} users/s",
        took.as_secs_f64(),
        COUNT as f64 / took.as_secs_f64()
    );
    assert_mentions(
        &out,
        &[
            &format!("imported {COUNT} user(s)"),
            "0 rejected",
            &format!("{} membership(s)", COUNT / 10),
        ],
    );
    let page = cli.ok(&["users", "list", "--pool", &pool, "--limit", "5"]);
    assert_eq!(page.lines().count(), 6);

    // The export walks the memberships beside the users, page by page.
    let started = Instant::now();
    let exported = cli.ok(&["users", "export", "--pool", &pool]);
    eprintln!(
        "exported {COUNT} users in {:.2} s (debug build)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(exported.lines().count(), COUNT);
    let in_group = exported
        .lines()
        .filter(|l| l.contains(r#""groups":["tenth"]"#))
        .count();
    assert_eq!(in_group, COUNT / 10);
    assert!(exported.lines().all(|l| l.contains(r#""groups":["#)));
}
