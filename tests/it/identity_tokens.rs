//! The identity service's OpenID tokens (issue 12, items 4 and 6): its issuer's discovery
//! document and JWKS, served over HTTP, verify its tokens with an independent library;
//! a rotation keeps old tokens verifiable; nodes sharing a database converge on one key;
//! and the upstream STS client, driven against a fake STS that verifies the token the way
//! an AWS IAM OIDC provider does, maps AWS's answers and errors.

use std::sync::Arc;

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;

use cognate::core::identity_pools::openid::{
    IdentityTokenRequest, OpenIdTokens, DEFAULT_OPENID_TOKEN_SECS,
};
use cognate::core::secrets::MasterKey;
use cognate::federation::aws_sts::{assume_role_with_web_identity, AwsStsError};
use cognate::federation::http::{HttpError, HttpSettings, IdpHttp};
use cognate::store::Store;

use crate::support::fake_sts::{FakeSts, Trust};
use crate::support::http;
use crate::support::server::TestServer;

const IDENTITY_POOL: &str = "us-east-1:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee";
const IDENTITY: &str = "us-east-1:11111111-2222-4333-8444-555555555555";
const ROLE: &str = "arn:aws:iam::123456789012:role/CognateAuthenticated";

fn request(pool: &str) -> IdentityTokenRequest {
    IdentityTokenRequest {
        identity_id: IDENTITY.into(),
        identity_pool_id: pool.into(),
        amr: vec![
            "authenticated".into(),
            "login.example/us-east-1_Pool1".into(),
            "login.example/us-east-1_Pool1:CognitoSignIn:sub-1".into(),
        ],
        ttl_secs: DEFAULT_OPENID_TOKEN_SECS,
    }
}

async fn get_json(url: &str) -> (u16, Value) {
    let answer = http().get(url).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

/// Verifies `token` with `jsonwebtoken` against a JWKS document, as a relying party does.
fn verify_with(jwks: &Value, token: &str, issuer: &str, audience: &str) -> Result<Value, String> {
    let kid = decode_header(token)
        .map_err(|e| e.to_string())?
        .kid
        .ok_or("no kid")?;
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .ok_or_else(|| format!("kid {kid} not in the JWKS"))?;
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .map_err(|e| e.to_string())?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    decode::<Value>(token, &key, &validation)
        .map(|d| d.claims)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn identity_issuer_documents_verify_its_tokens_across_rotation() {
    let server = TestServer::start("").await;
    let tokens = &server.node.identity_tokens;
    let issuer = format!("{}/identity", server.base);
    assert_eq!(tokens.issuer(), issuer);

    let (status, doc) = get_json(&format!("{issuer}/.well-known/openid-configuration")).await;
    assert_eq!(status, 200, "{doc}");
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(
        doc["jwks_uri"],
        format!("{issuer}/.well-known/jwks.json").as_str()
    );
    assert_eq!(
        doc["response_types_supported"],
        serde_json::json!(["id_token"])
    );
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256"])
    );
    for claim in ["iss", "sub", "aud", "amr", "exp", "iat"] {
        assert!(
            doc["claims_supported"]
                .as_array()
                .unwrap()
                .contains(&Value::from(claim)),
            "{claim}"
        );
    }
    // The pools' own documents still answer at `/{pool_id}/...` (an unknown pool: 404).
    let (status, _) = get_json(&format!(
        "{}/us-east-1_Nope/.well-known/jwks.json",
        server.base
    ))
    .await;
    assert_eq!(status, 404);

    let now = cognate::core::now();
    let old = tokens.issue(&request(IDENTITY_POOL), now).await.unwrap();
    let jwks_uri = doc["jwks_uri"].as_str().unwrap();
    let (_, jwks) = get_json(jwks_uri).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "{jwks}");
    let claims = verify_with(&jwks, &old, &issuer, IDENTITY_POOL).unwrap();
    assert_eq!(claims["sub"], IDENTITY);
    assert_eq!(claims["amr"][0], "authenticated");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    // The relying party's checks bite: another audience, another issuer.
    assert!(verify_with(&jwks, &old, &issuer, "us-east-1:other").is_err());
    assert!(verify_with(
        &jwks,
        &old,
        "https://cognito-identity.amazonaws.com",
        IDENTITY_POOL
    )
    .is_err());

    // Rotation: new tokens use the new key; the old token still verifies against the
    // served JWKS, which carries both keys.
    let new_kid = tokens.rotate(now).await.unwrap();
    let new = tokens.issue(&request(IDENTITY_POOL), now).await.unwrap();
    assert_eq!(decode_header(&new).unwrap().kid.unwrap(), new_kid);
    let (_, jwks) = get_json(jwks_uri).await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "{jwks}");
    assert_eq!(jwks["keys"][0]["kid"], new_kid.as_str());
    verify_with(&jwks, &old, &issuer, IDENTITY_POOL).unwrap();
    verify_with(&jwks, &new, &issuer, IDENTITY_POOL).unwrap();
    assert!(tokens.verify(&old, now).await.is_ok());
    assert!(tokens.verify(&new, now).await.is_ok());
    server.stop().await;
}

/// Nodes on one database making their first identity token at once.
async fn converge(stores: Vec<Arc<dyn Store>>) {
    let (_, key) = MasterKey::generate();
    let nodes: Vec<OpenIdTokens> = stores
        .into_iter()
        .map(|store| {
            let master = Arc::new(MasterKey::from_base64(&key).unwrap());
            OpenIdTokens::new(store, master, "https://id.example.com")
        })
        .collect();
    let now = cognate::core::now();
    let issued = futures::future::join_all(
        nodes
            .iter()
            .map(|n| async move { n.issue(&request(IDENTITY_POOL), now).await.unwrap() }),
    )
    .await;
    let kids: Vec<String> = issued
        .iter()
        .map(|t| decode_header(t).unwrap().kid.unwrap())
        .collect();
    assert!(kids.iter().all(|k| k == &kids[0]), "{kids:?}");
    // Each node verifies every node's token, and publishes the one key.
    for node in &nodes {
        for token in &issued {
            assert_eq!(node.verify(token, now).await.unwrap().sub, IDENTITY);
        }
        let jwks = node.jwks(now).await.unwrap();
        assert_eq!(jwks["keys"].as_array().unwrap().len(), 1, "{jwks}");
        assert_eq!(jwks["keys"][0]["kid"], kids[0].as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_sharing_a_sqlite_file_converge_on_one_identity_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cognate.db");
    let mut stores: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..3 {
        stores.push(Arc::new(
            cognate::store::sqlite::SqliteStore::open(&path)
                .await
                .unwrap(),
        ));
    }
    converge(stores).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_sharing_postgres_converge_on_one_identity_key() {
    let Some(db) = crate::support::pg::fresh_pg_url("identity_keys_nodes").await else {
        return;
    };
    let mut stores: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..3 {
        stores.push(Arc::new(
            cognate::store::postgres::PgStore::connect(&db.url)
                .await
                .unwrap(),
        ));
    }
    converge(stores).await;
    db.cleanup().await;
}

/// The federation client as a node builds it (loopback, where the fake STS listens, is
/// reachable: an STS on the same machine is allowed like a local IdP).
fn loopback_http() -> IdpHttp {
    IdpHttp::new(HttpSettings::default())
}

#[tokio::test]
async fn sts_client_exchanges_an_identity_token_at_a_strict_fake_sts() {
    let server = TestServer::start("").await;
    let tokens = &server.node.identity_tokens;
    let sts = FakeSts::start(Trust {
        issuer: tokens.issuer().to_string(),
        audience: IDENTITY_POOL.into(),
        role_arn: ROLE.into(),
    })
    .await;
    let client = loopback_http();
    let now = cognate::core::now();

    // The honest exchange.
    let token = tokens.issue(&request(IDENTITY_POOL), now).await.unwrap();
    let creds =
        assume_role_with_web_identity(&client, &sts.endpoint, ROLE, "cognate-1", &token, 900)
            .await
            .unwrap();
    assert_eq!(creds.access_key_id, "ASIAFAKESTSFAKESTS00");
    assert_eq!(
        creds.secret_access_key.expose(),
        "fakeSecretAccessKeyFromTheFakeSts/0000000"
    );
    assert_eq!(creds.session_token.expose(), "FakeSessionTokenForcognate-1");
    assert!((creds.expiration - (now + 900)).abs() <= 5, "{creds:?}");
    let calls = sts.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].refused, None);
    assert_eq!(calls[0].fields["DurationSeconds"], "900");
    assert_eq!(calls[0].claims.as_ref().unwrap()["sub"], IDENTITY);

    // An expired token: STS's ExpiredTokenException, mapped with its code.
    let stale = tokens
        .issue(&request(IDENTITY_POOL), now - 2 * DEFAULT_OPENID_TOKEN_SECS)
        .await
        .unwrap();
    let refused =
        assume_role_with_web_identity(&client, &sts.endpoint, ROLE, "cognate-1", &stale, 900).await;
    assert!(
        matches!(&refused, Err(AwsStsError::Refused { status: 400, code, .. }) if code == "ExpiredTokenException"),
        "{refused:?}"
    );
    // A token for another identity pool: the audience the role does not trust.
    let other = tokens
        .issue(
            &request("us-east-1:ffffffff-0000-4000-8000-000000000000"),
            now,
        )
        .await
        .unwrap();
    let refused =
        assume_role_with_web_identity(&client, &sts.endpoint, ROLE, "cognate-1", &other, 900).await;
    assert!(
        matches!(&refused, Err(AwsStsError::Refused { code, .. }) if code == "InvalidIdentityToken"),
        "{refused:?}"
    );
    // A role the token's provider is not trusted for: AccessDenied, 403.
    let refused = assume_role_with_web_identity(
        &client,
        &sts.endpoint,
        "arn:aws:iam::123456789012:role/Admin",
        "cognate-1",
        &token,
        900,
    )
    .await;
    assert!(
        matches!(&refused, Err(AwsStsError::Refused { status: 403, code, .. }) if code == "AccessDenied"),
        "{refused:?}"
    );
    // Bad arguments never leave the node.
    let before = sts.calls().len();
    for (name, duration) in [("x", 900), ("cognate 1", 900), ("cognate-1", 60)] {
        let refused =
            assume_role_with_web_identity(&client, &sts.endpoint, ROLE, name, &token, duration)
                .await;
        assert!(
            matches!(refused, Err(AwsStsError::BadRequest(_))),
            "{name} {duration}"
        );
    }
    assert_eq!(sts.calls().len(), before);
    // Every call the fake saw had the right shape (it answers InvalidParameterValue
    // otherwise), and the honest one still succeeds.
    assert!(sts
        .calls()
        .iter()
        .all(|c| c.refused.as_deref() != Some("InvalidParameterValue")));
    assume_role_with_web_identity(&client, &sts.endpoint, ROLE, "cognate-2", &token, 3600)
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn sts_client_refuses_internal_addresses_and_reports_sts_refusals() {
    // The federation client's guard: an STS endpoint on an internal address (here the
    // cloud metadata service's) is refused before anything is sent.
    let client = loopback_http();
    let internal: url::Url = "http://169.254.169.254/".parse().unwrap();
    let refused =
        assume_role_with_web_identity(&client, &internal, ROLE, "cognate-1", "t.t.t", 900).await;
    assert!(
        matches!(&refused, Err(AwsStsError::Http(HttpError::Refused { .. }))),
        "{refused:?}"
    );
    // A reachable STS gets the same call, and its refusal of the junk token comes back
    // with AWS's code.
    let sts = FakeSts::start(Trust {
        issuer: "http://127.0.0.1:1/identity".into(),
        audience: IDENTITY_POOL.into(),
        role_arn: ROLE.into(),
    })
    .await;
    let refused =
        assume_role_with_web_identity(&client, &sts.endpoint, ROLE, "cognate-1", "t.t.t", 900)
            .await;
    assert!(
        matches!(&refused, Err(AwsStsError::Refused { status: 400, code, .. }) if code == "InvalidIdentityToken"),
        "{refused:?}"
    );
    assert_eq!(sts.calls().len(), 1);
}
