//! `keys rotate-identity` (issue 12): the identity service's OpenID-token key rotates from
//! the command line (on SQLite and on PostgreSQL); a token signed before still verifies,
//! new ones are signed with the printed kid, and the pools' token keys do not change.

use super::Cli;

#[test]
fn identity_key_rotates_from_the_cli() {
    identity_key_rotates_on(&Cli::new());
}

#[test]
fn identity_key_rotates_from_the_cli_on_postgres() {
    if let Some(cli) = Cli::postgres("cli_identity_keys") {
        identity_key_rotates_on(&cli);
    }
}

fn identity_key_rotates_on(cli: &Cli) {
    use cognate::core::identity_pools::openid::{IdentityTokenRequest, DEFAULT_OPENID_TOKEN_SECS};
    let pool = cli.create_pool("");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let request = IdentityTokenRequest {
        identity_id: "us-east-1:11111111-2222-4333-8444-555555555555".into(),
        identity_pool_id: "us-east-1:aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee".into(),
        amr: vec!["unauthenticated".into()],
        ttl_secs: DEFAULT_OPENID_TOKEN_SECS,
    };
    let now = cognate::core::now();
    // A token signed before the rotation (this makes the first key), and the pool's JWKS.
    let (before, pool_jwks) = runtime.block_on(async {
        let node = cli.node().await;
        let token = node.identity_tokens.issue(&request, now).await.unwrap();
        (token, node.keys.jwks(&pool, now).await.unwrap())
    });
    let old_kid = jsonwebtoken::decode_header(&before).unwrap().kid.unwrap();

    let kid = cli.ok("keys rotate-identity");
    let kid = kid.trim().to_string();
    assert!(
        !kid.is_empty() && !kid.contains(char::is_whitespace) && kid != old_kid,
        "{kid}"
    );
    runtime.block_on(async {
        // A fresh node (as another process would be) signs with the new key and still
        // verifies the old token; both keys are published.
        let node = cli.node().await;
        let after = node.identity_tokens.issue(&request, now).await.unwrap();
        assert_eq!(
            jsonwebtoken::decode_header(&after).unwrap().kid.unwrap(),
            kid
        );
        node.identity_tokens.verify(&before, now).await.unwrap();
        node.identity_tokens.verify(&after, now).await.unwrap();
        let jwks = node.identity_tokens.jwks(now).await.unwrap();
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, [kid.as_str(), old_kid.as_str()]);
        assert_eq!(node.keys.jwks(&pool, now).await.unwrap(), pool_jwks);
    });
}
