//! `cognate users mfa list|reset|recovery-codes`, and export/import of second factors only
//! with `--include-mfa` (TOTP keys opened on export and sealed again under the importing
//! node's master key, so a factor keeps working on another deployment).

use std::net::IpAddr;
use std::sync::Arc;

use serde_json::Value;

use cognate::core::mail::{DevMailer, MailRouter};
use cognate::core::mfa::Mfa;
use cognate::core::now;

use super::Cli;

fn mfa_of(node: &cognate::server::Node) -> Mfa {
    Mfa::new(
        node.directory.clone(),
        MailRouter::new(Arc::new(DevMailer::default())),
        node.master.clone(),
        "https://login.example.com".parse().unwrap(),
    )
}

fn code(secret: &str, at: i64) -> String {
    let key = totp_rs::Secret::Encoded(secret.to_string())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, key)
        .unwrap()
        .generate(u64::try_from(at).unwrap())
}

fn ip() -> IpAddr {
    "203.0.113.5".parse().unwrap()
}

/// Enrols `user` with TOTP through the core; returns the key (base32) and the recovery
/// codes.
async fn enrol(cli: &Cli, pool_id: &str, user: &str) -> (String, Vec<String>) {
    let node = cli.node().await;
    let mfa = mfa_of(&node);
    let pool = node.directory.pool(pool_id).await.unwrap();
    let found = node.directory.require_user(&pool, user).await.unwrap();
    // A step in the past, so that the tests' later codes are fresh steps.
    let at = now() - 300;
    let start = mfa.start_totp(&pool, &found, at).await.unwrap();
    let secret = start.secret_base32.expose().to_string();
    let enrolled = mfa
        .confirm_totp(
            &pool,
            &found.sub,
            &start.id,
            &code(&secret, at),
            "Phone",
            ip(),
            at,
        )
        .await
        .unwrap();
    (secret, enrolled.recovery_codes.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn list_reset_and_new_recovery_codes() {
    let cli = Cli::new();
    let p = cli.create_pool("--alias email");
    cli.ok(&format!(
        "users create --pool {p} ana -a email=ana@example.com -a email_verified=true \
         --password Passw0rd!x"
    ));
    cli.ok(&format!(
        "users create --pool {p} bob --password Passw0rd!x"
    ));
    let (secret, old_codes) = enrol(&cli, &p, "ana").await;

    let listed = cli.ok(&format!("users mfa list {p} ana"));
    assert!(
        listed.contains("TOTP") && listed.contains("Phone"),
        "{listed}"
    );
    assert!(listed.contains("recovery codes left: 10"), "{listed}");
    assert!(!listed.contains(&secret), "never a key: {listed}");
    // The --pool form, as other `users` commands take it, says the same.
    assert_eq!(
        cli.ok(&format!("users mfa list --pool {p} ana@example.com")),
        listed
    );
    assert!(cli
        .ok(&format!("users mfa list {p} bob"))
        .contains("has no second factor"));
    // describe names the kinds, never the sealed key or the code hashes.
    let described = cli.json(&format!("users describe --pool {p} ana"));
    assert_eq!(described["mfa_factors"], serde_json::json!(["TOTP"]));
    assert!(described.get("mfa").is_none(), "{described}");

    // New recovery codes: ten, printed once; the old ones stop working.
    let printed = cli.ok(&format!("users mfa recovery-codes {p} ana"));
    let codes: Vec<&str> = printed.lines().collect();
    assert_eq!(codes.len(), 10, "{printed}");
    let node = cli.node().await;
    let mfa = mfa_of(&node);
    let pool = node.directory.pool(&p).await.unwrap();
    let ana = node.directory.require_user(&pool, "ana").await.unwrap();
    assert!(mfa
        .use_recovery_code(&pool, &ana.sub, &old_codes[0], "en", ip(), now())
        .await
        .is_err());
    let used = mfa
        .use_recovery_code(&pool, &ana.sub, codes[0], "en", ip(), now())
        .await
        .unwrap();
    assert_eq!(used.recovery_codes_left, Some(9));
    // A user without a factor gets no recovery codes.
    cli.fails(
        &format!("users mfa recovery-codes {p} bob"),
        &["bob", "second factor first"],
    );

    // Five wrong codes lock the second factor; `lockouts` shows it, `unlock` clears it.
    let at = now();
    let right = code(&secret, at);
    let wrong = format!("{:06}", (right.parse::<u32>().unwrap() + 1) % 1_000_000);
    for _ in 0..5 {
        assert!(mfa
            .verify_totp(&pool, &ana.sub, &wrong, ip(), at)
            .await
            .is_err());
    }
    assert!(matches!(
        mfa.verify_totp(&pool, &ana.sub, &right, ip(), at).await,
        Err(cognate::core::mfa::MfaError::Locked { .. })
    ));
    let locks = cli.ok(&format!("users lockouts --pool {p}"));
    assert!(
        locks.contains("ana") && locks.contains("(second-factor codes)"),
        "{locks}"
    );
    assert!(cli
        .ok(&format!("users unlock --pool {p} ana"))
        .contains("unlocked ana"));
    mfa.verify_totp(&pool, &ana.sub, &right, ip(), at)
        .await
        .unwrap();

    // Reset removes every factor and code.
    let reset = cli.ok(&format!("users mfa reset --pool {p} ana"));
    assert!(reset.contains("removed 1 factor(s)"), "{reset}");
    assert!(cli
        .ok(&format!("users mfa list {p} ana"))
        .contains("has no second factor"));

    // Bad input names what is wrong.
    cli.fails(
        "users mfa list us-east-1_Nope ana",
        &["us-east-1_Nope", "does not exist"],
    );
    cli.fails(
        &format!("users mfa list {p} zed"),
        &["zed", "does not exist"],
    );
    cli.fails(&format!("users mfa list {p}"), &["<pool-id> <user>"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_and_import_carry_factors_only_with_include_mfa() {
    let src = Cli::new();
    let p = src.create_pool("--alias email");
    src.ok(&format!(
        "users create --pool {p} ana -a email=ana@example.com -a email_verified=true \
         --password Passw0rd!x"
    ));
    let (secret, codes) = enrol(&src, &p, "ana").await;

    let plain = src.path("plain.jsonl");
    src.ok(&format!("users export --pool {p} --output {plain}"));
    let plain_text = std::fs::read_to_string(&plain).unwrap();
    let record: Value = serde_json::from_str(plain_text.trim()).unwrap();
    assert!(record.get("mfa").is_none(), "{record}");

    let full = src.path("full.jsonl");
    src.ok(&format!(
        "users export --pool {p} --include-mfa --output {full}"
    ));
    let full_text = std::fs::read_to_string(&full).unwrap();
    let record: Value = serde_json::from_str(full_text.trim()).unwrap();
    let factor = &record["mfa"]["factors"][0];
    assert_eq!(factor["type"], "TOTP");
    assert_eq!(factor["secret"], secret.as_str());
    assert_eq!(
        record["mfa"]["recovery_codes"].as_array().unwrap().len(),
        10
    );

    // Without --include-mfa, import ignores the field and says so.
    let dst = Cli::new();
    let q = dst.create_pool("--alias email");
    let said = dst.ok(&format!("users import --pool {q} {full}"));
    assert!(
        said.contains("ignored the second factors (mfa) of 1 user(s)"),
        "{said}"
    );
    assert!(dst
        .ok(&format!("users mfa list {q} ana"))
        .contains("has no second factor"));

    // With it, on another deployment (another master key, another pool), the factor and
    // the recovery codes work.
    let dst = Cli::new();
    let q = dst.create_pool("--alias email");
    let said = dst.ok(&format!("users import --pool {q} --include-mfa {full}"));
    assert!(!said.contains("ignored"), "{said}");
    let node = dst.node().await;
    let mfa = mfa_of(&node);
    let pool = node.directory.pool(&q).await.unwrap();
    let ana = node.directory.require_user(&pool, "ana").await.unwrap();
    let at = now();
    mfa.verify_totp(&pool, &ana.sub, &code(&secret, at), ip(), at)
        .await
        .unwrap();
    mfa.use_recovery_code(&pool, &ana.sub, &codes[3], "en", ip(), at)
        .await
        .unwrap();
    // The importing node exports the same key again.
    let again = dst.path("again.jsonl");
    dst.ok(&format!(
        "users export --pool {q} --include-mfa --output {again}"
    ));
    let again: Value =
        serde_json::from_str(std::fs::read_to_string(&again).unwrap().trim()).unwrap();
    assert_eq!(again["mfa"]["factors"][0]["secret"], secret.as_str());

    // A bad key is a rejected line naming the field.
    let bad = dst.path("bad.jsonl");
    let mut broken = record.clone();
    broken["mfa"]["factors"][0]["secret"] = "not base32!".into();
    broken["sub"] = cognate::core::ids::new_sub().into();
    broken["username"] = "eve".into();
    broken["attributes"] = serde_json::json!({});
    std::fs::write(&bad, format!("{broken}\n")).unwrap();
    let out = dst.run(
        &format!("users import --pool {q} --include-mfa {bad}"),
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mfa.factors[0]: secret is not base32"),
        "{stderr}"
    );
}
