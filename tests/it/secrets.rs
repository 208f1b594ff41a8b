//! Secrets never reach a log: a full run at TRACE level (server and CLI) is searched for
//! the actual secret values: a user's password and its hash, a client secret, the master
//! key and the private signing keys.

use base64::Engine;

use cognate::config::Config;
use cognate::core::secrets::{signing_key_context, MasterKey};
use cognate::server::Node;

use crate::support::http;
use crate::support::process::{run, CognateProcess};

const POOL: &str = "us-east-1_SecretsT1";
const CLIENT: &str = "secretsclient0000000000001";
const CLIENT_SECRET: &str = "client-secret-value-3f9a7c1e5b2d4f6a8c0e2b4d6f8a0c2e4b6d8f0a";
const PASSWORD: &str = "Pa55word-that-must-not-leak!";

#[tokio::test]
async fn trace_logs_of_a_full_run_contain_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"
[server]
data_dir = "data"

[[pools]]
id = "{POOL}"
name = "Secrets test"

[[pools.clients]]
id = "{CLIENT}"
name = "confidential"
generate_secret = true
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
"#
    );
    std::fs::write(dir.path().join("cognate.toml"), config).unwrap();
    let (_, master_key) = MasterKey::generate();
    let secret_var = format!("COGNATE_CLIENT_SECRET_{CLIENT}");
    let env = [
        ("RUST_LOG", "trace"),
        ("COGNATE_MASTER_KEY", master_key.as_str()),
        (secret_var.as_str(), CLIENT_SECRET),
    ];
    let args = ["--config", "cognate.toml"];
    let server = CognateProcess::start(dir.path(), &args, &env).await;
    let client = http();
    for path in [
        "/health".to_string(),
        "/health/ready".to_string(),
        format!("/{POOL}/.well-known/openid-configuration"),
        format!("/{POOL}/.well-known/jwks.json"),
        "/metrics".to_string(),
    ] {
        let r = client
            .get(format!("{}{path}", server.base))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}");
    }

    let mut cli_logs = String::new();
    let cli = |argv: Vec<&str>| {
        let argv: Vec<String> = args
            .iter()
            .map(|s| s.to_string())
            .chain(argv.into_iter().map(str::to_string))
            .collect();
        let dir = dir.path().to_path_buf();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        async move {
            let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            run(&dir, &argv, &env).await
        }
    };
    let (code, out, err) = cli(vec![
        "users",
        "create",
        "--pool",
        POOL,
        "carol",
        "--password",
        PASSWORD,
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    cli_logs.push_str(&err);
    let (code, out, err) = cli(vec![
        "users",
        "set-password",
        "--pool",
        POOL,
        "carol",
        "--password",
        PASSWORD,
    ])
    .await;
    assert_eq!(code, 0, "{out}{err}");
    cli_logs.push_str(&err);
    let (code, out, err) = cli(vec!["users", "describe", "--pool", POOL, "carol"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        !out.contains("argon2"),
        "describe must not print the hash: {out}"
    );
    cli_logs.push_str(&err);
    let (code, out, err) = cli(vec!["keys", "rotate", "--pool", POOL]).await;
    assert_eq!(code, 0, "{out}{err}");
    cli_logs.push_str(&err);
    // `clients describe` shows the secret on stdout by design (like Cognito's
    // DescribeUserPoolClient); its log output on stderr must not.
    let (code, out, err) = cli(vec!["clients", "describe", CLIENT]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(CLIENT_SECRET),
        "the env secret was applied: {out}"
    );
    cli_logs.push_str(&err);

    let server_log = server.log();
    assert!(server.terminate().await.success());
    assert!(
        server_log.contains("TRACE") || server_log.contains("DEBUG"),
        "the run really logged at trace level"
    );

    // The values to look for, including ones only the database holds.
    let mut config = Config::default();
    config.server.data_dir = dir.path().join("data");
    config.master_key = Some(cognate::core::secrets::SecretString::new(
        master_key.clone(),
    ));
    let node = Node::open(config).await.unwrap();
    let pool = node.store.get_pool(POOL).await.unwrap().unwrap();
    let user = node.directory.require_user(&pool, "carol").await.unwrap();
    let hash = user.password_hash.unwrap().expose().to_string();
    let mut secrets = vec![
        ("password", PASSWORD.to_string()),
        ("password hash", hash.clone()),
        (
            "password hash digest",
            hash.rsplit('$').next().unwrap().to_string(),
        ),
        ("client secret", CLIENT_SECRET.to_string()),
        ("master key", master_key.clone()),
    ];
    for key in node.store.list_keys(POOL).await.unwrap() {
        let der = node
            .master
            .open(&signing_key_context(POOL, &key.kid), &key.private_pkcs8)
            .unwrap();
        let b64 = base64::engine::general_purpose::STANDARD.encode(&der);
        // Any 40-character window of the PEM body would do; take one from the middle.
        secrets.push(("private key", b64[200..240].to_string()));
    }
    for (what, value) in &secrets {
        assert!(
            !server_log.contains(value.as_str()),
            "{what} found in the server log"
        );
        assert!(
            !cli_logs.contains(value.as_str()),
            "{what} found in CLI logs"
        );
    }
}
