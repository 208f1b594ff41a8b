//! JSON Lines export and import: the round trip (SQLite to SQLite, SQLite to PostgreSQL),
//! bcrypt / PBKDF2 / scrypt / Django hashes that sign in and are upgraded to Argon2id,
//! collisions, and a timed bulk import and export.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use base64::Engine;
use password_hash::{PasswordHasher, SaltString};
use serde_json::{json, Value};

use cognate::core::now;
use cognate::core::secrets::SecretString;

use super::{assert_mentions, Cli};

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

/// Issue 8, hole 3, on import: a local record whose username is shaped like an email in a
/// pool that signs in by email is rejected, and one whose alias is another user's username
/// is skipped with the reason; an honest record imports.
#[test]
fn import_keeps_usernames_and_aliases_apart() {
    let cli = Cli::new();
    let pool = cli.create_pool("--alias email --alias preferred_username");
    let p = pool.as_str();
    cli.ok(&format!(
        "users create --pool {p} vic -a email=vic@example.com -a email_verified=true \
         --password Passw0rd!x"
    ));
    let lines = [
        json!({"username": "vic@example.com", "sub": new_sub(), "status": "CONFIRMED"}),
        json!({"username": "mallory", "sub": new_sub(), "status": "CONFIRMED",
               "attributes": {"preferred_username": "VIC"}}),
        json!({"username": "honest", "sub": new_sub(), "status": "CONFIRMED",
               "attributes": {"preferred_username": "hon"}}),
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
            "line 1: invalid username: this pool signs users in by email address",
            "line 2: skipped: attribute preferred_username is another user's username",
        ],
    );
    let vic = cli.json(&format!("users describe --pool {p} vic@example.com"));
    assert_eq!(vic["username"], "vic");
    cli.json(&format!("users describe --pool {p} hon"));
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
