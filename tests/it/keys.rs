//! Signing keys: a token signed with the pool's stored key verifies against the JWKS the
//! server serves (so a hard-coded JWKS cannot pass), rotation keeps old keys published
//! until their tokens expire, and a tampered token fails.

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use cognate::config::Config;
use cognate::core::model::KeyPurpose;
use cognate::server::Node;

use crate::support::http;
use crate::support::process::{run, CognateProcess};

async fn fetch_jwks(base: &str, pool: &str) -> Value {
    http()
        .get(format!("{base}/{pool}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn verify_with(jwks: &Value, token: &str) -> Result<Value, String> {
    let header = decode_header(token).map_err(|e| e.to_string())?;
    let kid = header.kid.ok_or("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or_else(|| format!("kid {kid} not in JWKS"))?;
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&["test-audience"]);
    decode::<Value>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

async fn open_node(data_dir: &std::path::Path) -> Node {
    let mut config = Config::default();
    config.server.data_dir = data_dir.to_path_buf();
    Node::open(config).await.expect("open node")
}

#[tokio::test]
async fn stored_key_signs_tokens_that_verify_against_served_jwks_across_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let server = CognateProcess::start(dir.path(), &[], &[]).await;
    let data = dir.path().join("cognate-data");
    let node = open_node(&data).await;
    let pool = node.store.list_pools().await.unwrap().remove(0).id;
    let now = cognate::core::now();
    let claims = json!({"sub": "user-1", "aud": "test-audience", "exp": now + 600, "iat": now});

    let id_signer = node
        .keys
        .signer(&pool, KeyPurpose::IdToken, now)
        .await
        .unwrap();
    let access_signer = node
        .keys
        .signer(&pool, KeyPurpose::AccessToken, now)
        .await
        .unwrap();
    assert_ne!(id_signer.kid(), access_signer.kid());
    let old_token = id_signer.sign(&claims).unwrap();
    let jwks = fetch_jwks(&server.base, &pool).await;
    let verified = verify_with(&jwks, &old_token).expect("verifies against served JWKS");
    assert_eq!(verified["sub"], "user-1");
    assert!(verify_with(&jwks, &access_signer.sign(&claims).unwrap()).is_ok());

    // Attack: change the payload, keep the signature.
    let parts: Vec<&str> = old_token.split('.').collect();
    use base64::Engine;
    let forged_payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(json!({"sub": "admin", "aud": "test-audience", "exp": now + 600}).to_string());
    let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
    assert!(verify_with(&jwks, &forged).is_err());
    // Attack: alg none.
    let none_header =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
    assert!(verify_with(&jwks, &format!("{none_header}.{}.", parts[1])).is_err());

    // Rotate with the CLI while the server runs.
    let (code, out, err) = run(
        dir.path(),
        &[
            "--data-dir",
            data.to_str().unwrap(),
            "keys",
            "rotate",
            "--pool",
            &pool,
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");
    let jwks = fetch_jwks(&server.base, &pool).await;
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        4,
        "new keys published, old kept: {jwks}"
    );
    // A token signed before the rotation still verifies.
    assert!(verify_with(&jwks, &old_token).is_ok());
    // A fresh node signs with the new key, which the server already publishes.
    let fresh = open_node(&data).await;
    let new_signer = fresh
        .keys
        .signer(&pool, KeyPurpose::IdToken, now)
        .await
        .unwrap();
    assert_ne!(new_signer.kid(), id_signer.kid());
    assert!(verify_with(&jwks, &new_signer.sign(&claims).unwrap()).is_ok());

    // Once every token the old keys signed has expired, they leave the JWKS.
    let later = fresh.keys.jwks(&pool, now + 2 * 86_400).await.unwrap();
    let kids: Vec<&str> = later["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(kids.contains(&new_signer.kid()));
    assert!(!kids.contains(&id_signer.kid()));

    assert!(server.terminate().await.success());
}
