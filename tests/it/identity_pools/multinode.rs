//! Identity pools on two nodes sharing one PostgreSQL database and one public URL (behind
//! a load balancer): GetId on both converges on one identity, credentials vended by one
//! node are accepted by the other (the session token is sealed, not stored), and disabling
//! the user on one node stops the credentials on the other at once.

use serde_json::json;

use super::scenario::{enhanced_on, send, sts, toml, POOL, WEB};
use super::user;
use crate::support::pg::PgNodeEnv;
use crate::support::server::TestServer;

/// An ID token of `sub` for [`WEB`], signed with the pool's key as the hosted UI would
/// (the public URL, hence the issuer, is the nodes' shared one).
async fn id_token(node: &TestServer, sub: &str, username: &str) -> String {
    let now = cognate::core::now();
    let claims = json!({
        "sub": sub, "aud": WEB, "token_use": "id", "cognito:username": username,
        "iss": format!("{}/{POOL}", node.node.config.public_url()),
        "origin_jti": uuid::Uuid::new_v4().to_string(), "jti": uuid::Uuid::new_v4().to_string(),
        "auth_time": now, "iat": now, "exp": now + 3600,
    });
    node.node
        .keys
        .signer(POOL, cognate::core::model::KeyPurpose::IdToken, now)
        .await
        .unwrap()
        .sign(&claims)
        .unwrap()
}

#[tokio::test]
async fn credentials_vended_by_one_node_work_and_stop_on_the_other() {
    let Some(pg) = PgNodeEnv::new("identity_multinode").await else {
        return;
    };
    // One public URL for both nodes (nothing answers there: the test sends each request to
    // the node of its choice, as a load balancer would).
    let shared = [("COGNATE_PUBLIC_URL", "http://127.0.0.1:9")];
    let env = pg.with(&shared);
    let a = TestServer::start_with(&toml(), "account_id = \"123456789012\"", &env).await;
    let b = TestServer::start_with(&toml(), "account_id = \"123456789012\"", &env).await;
    assert_eq!(a.node.store.engine(), "postgres");
    let alice = user(&a, POOL, "alice").await;
    let token = id_token(&a, &alice.sub, "alice").await;

    // GetId on both nodes at once: one identity.
    let login = format!("127.0.0.1:9/{POOL}");
    let (on_a, on_b) = tokio::join!(
        enhanced_on(&a.base, &login, &token),
        enhanced_on(&b.base, &login, &token)
    );
    assert_eq!(on_a.0, on_b.0);
    let (identity, creds) = on_a;

    // The resource server checks with node B; the credentials came from node A.
    let (files, _) = crate::authorize::file_store_for(&a, &b.base).await;
    let files = format!("{files}/files");
    let own = format!("{files}/users/{identity}/a.txt");
    assert_eq!(send(&creds, "PUT", &own, b"hello").await, 200);
    // Node B answers GetCallerIdentity for node A's credentials.
    let me = sts(&b.base, Some(&creds))
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity on the other node");
    assert!(
        me.arn().unwrap().contains(":assumed-role/FilesUsers/"),
        "{me:?}"
    );

    // Disabled on node A: node B refuses the same, unexpired credentials at once.
    let pool = a.pool(POOL).await;
    a.node
        .directory
        .set_enabled(&pool, &alice.sub, false, cognate::core::now())
        .await
        .unwrap();
    assert_eq!(send(&creds, "GET", &own, b"").await, 403);
    assert!(sts(&b.base, Some(&creds))
        .get_caller_identity()
        .send()
        .await
        .is_err());
    pg.cleanup().await;
}
