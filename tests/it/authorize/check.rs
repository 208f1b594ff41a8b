//! The check through the example file server: owners, other users, explicit deny, literal
//! variables, and every forged or stale credential beside the honest request.

use cognate::core::identity_pools::credentials::VendedCredentials;

use super::{file_url, grant, identity, minutes_off, world, Signer, IPOOL, POLICY, ROLE};

#[tokio::test]
async fn owners_use_their_files_and_nobody_elses() {
    let w = world().await;
    let alice = w.alice_creds();
    let bob = w.bob_creds();
    let a = Signer::new(&alice);
    let b = Signer::new(&bob);
    let mine = file_url(&w, &format!("{}/notes.txt", w.alice_id));
    assert_eq!(a.send("PUT", &mine, b"hello").await.0, 200);
    assert_eq!(a.send("GET", &mine, b"").await, (200, "hello".to_string()));
    // Bob reads, overwrites or deletes none of alice's files; his own he may.
    assert_eq!(b.send("GET", &mine, b"").await.0, 403);
    assert_eq!(b.send("PUT", &mine, b"bob was here").await.0, 403);
    assert_eq!(b.send("DELETE", &mine, b"").await.0, 403);
    let his = file_url(&w, &format!("{}/b.txt", w.bob_id));
    assert_eq!(b.send("PUT", &his, b"bob").await.0, 200);
    assert_eq!(a.send("GET", &mine, b"").await, (200, "hello".to_string()));
    // Listing: own prefix only.
    let list = |id: &str| format!("{}/files?prefix={}/", w.files, id);
    let (status, keys) = a.send("GET", &list(&w.alice_id), b"").await;
    assert_eq!(status, 200);
    assert_eq!(keys, format!("{}/notes.txt\n", w.alice_id));
    assert_eq!(a.send("GET", &list(&w.bob_id), b"").await.0, 403);
    // An explicit Deny beats the owner's Allow.
    let private = file_url(&w, &format!("{}/private/k", w.alice_id));
    assert_eq!(a.send("PUT", &private, b"x").await.0, 403);
    assert_eq!(a.send("DELETE", &mine, b"").await.0, 204);
    assert_eq!(a.send("GET", &mine, b"").await.0, 404);
}

#[tokio::test]
async fn an_identity_id_holding_a_wildcard_widens_nothing() {
    let w = world().await;
    let alice = w.alice_creds();
    let theirs = file_url(&w, &format!("{}/t", w.alice_id));
    assert_eq!(Signer::new(&alice).send("PUT", &theirs, b"a").await.0, 200);
    // The store takes the crafted id as it is; the check reads it as literal text.
    let star = identity(&w.server, IPOOL, None, Some("us-east-1:*")).await;
    assert_eq!(star, "us-east-1:*");
    let creds = w.vend(&grant(&star, None, 3600));
    let s = Signer::new(&creds);
    assert_eq!(s.send("GET", &theirs, b"").await.0, 403);
    // Its own (literal) prefix works: the honest request.
    let own = file_url(&w, "us-east-1:*/f");
    assert_eq!(s.send("PUT", &own, b"s").await.0, 200);
    assert_eq!(s.send("GET", &own, b"").await, (200, "s".to_string()));
}

fn tampered(creds: &VendedCredentials) -> String {
    let mut bytes = creds.session_token.clone().into_bytes();
    let mid = bytes.len() / 2;
    bytes[mid] = if bytes[mid] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

#[tokio::test]
async fn forged_and_stale_credentials_are_denied() {
    let w = world().await;
    let alice = w.alice_creds();
    let bob = w.bob_creds();
    let url = file_url(&w, &format!("{}/k", w.alice_id));
    let honest = Signer::new(&alice);
    assert_eq!(honest.send("PUT", &url, b"v").await.0, 200);

    let bad_token = tampered(&alice);
    let attacks: Vec<(&str, Signer)> = vec![
        (
            "tampered session token",
            Signer {
                token: Some(&bad_token),
                ..honest.clone()
            },
        ),
        (
            "bob's token under alice's key id",
            Signer {
                token: Some(&bob.session_token),
                ..honest.clone()
            },
        ),
        (
            "no session token",
            Signer {
                token: None,
                ..honest.clone()
            },
        ),
        (
            "wrong secret",
            Signer {
                secret: bob.secret_access_key.expose(),
                ..honest.clone()
            },
        ),
        (
            "wrong region",
            Signer {
                region: "eu-west-1",
                ..honest.clone()
            },
        ),
        (
            "wrong service",
            Signer {
                service: "s3",
                ..honest.clone()
            },
        ),
        (
            "host not signed",
            Signer {
                exclude: &["host"],
                ..honest.clone()
            },
        ),
        (
            "16 minutes old",
            Signer {
                time: minutes_off(-16),
                ..honest.clone()
            },
        ),
        (
            "16 minutes ahead",
            Signer {
                time: minutes_off(16),
                ..honest.clone()
            },
        ),
    ];
    for (name, signer) in &attacks {
        assert_eq!(signer.send("GET", &url, b"").await.0, 403, "{name}");
    }
    // A body other than the signed one.
    assert_eq!(honest.send_with("PUT", &url, b"v", b"w").await.0, 403);
    // Expired credentials, though well signed.
    let expired = w.vend(&grant(&w.alice_id, Some(&w.alice), -1));
    assert_eq!(Signer::new(&expired).send("GET", &url, b"").await.0, 403);
    // Fourteen minutes of skew are within AWS's window; the honest request still works.
    let skewed = Signer {
        time: minutes_off(-14),
        ..honest.clone()
    };
    assert_eq!(skewed.send("GET", &url, b"").await, (200, "v".to_string()));
    assert_eq!(honest.send("GET", &url, b"").await, (200, "v".to_string()));
}

#[tokio::test]
async fn disabling_a_user_and_editing_the_policy_apply_at_once() {
    let w = world().await;
    let alice = w.alice_creds();
    let bob = w.bob_creds();
    let a = Signer::new(&alice);
    let b = Signer::new(&bob);
    let url = file_url(&w, &format!("{}/k", w.alice_id));
    assert_eq!(a.send("PUT", &url, b"v").await.0, 200);
    // Alice is disabled: her unexpired credentials stop at the next request.
    let pool = w.server.pool(super::POOL).await;
    let now = cognate::core::now();
    w.server
        .node
        .directory
        .set_enabled(&pool, &w.alice.sub, false, now)
        .await
        .unwrap();
    assert_eq!(a.send("GET", &url, b"").await.0, 403);
    let his = file_url(&w, &format!("{}/k", w.bob_id));
    assert_eq!(b.send("PUT", &his, b"b").await.0, 200);
    w.server
        .node
        .directory
        .set_enabled(&pool, &w.alice.sub, true, now)
        .await
        .unwrap();
    assert_eq!(a.send("GET", &url, b"").await, (200, "v".to_string()));

    // The role's policy is edited to read-only: credentials already out follow it.
    let mut role = w.server.node.store.get_role(ROLE).await.unwrap().unwrap();
    role.policy = POLICY.replace(
        r#"["files:PutObject","files:GetObject","files:DeleteObject","files:ListBucket"]"#,
        r#""files:GetObject""#,
    );
    assert_ne!(role.policy, POLICY);
    w.server.node.store.put_role(&role).await.unwrap();
    assert_eq!(a.send("PUT", &url, b"w").await.0, 403);
    assert_eq!(a.send("GET", &url, b"").await, (200, "v".to_string()));
    // The role is deleted: nothing works any more.
    w.server.node.store.delete_role(ROLE).await.unwrap();
    assert_eq!(a.send("GET", &url, b"").await.0, 403);
}

#[tokio::test]
async fn unlinking_a_login_or_closing_guest_access_ends_credentials_already_out() {
    use cognate::core::model::IdentityLogin;
    let w = world().await;
    let alice = w.alice_creds();
    let bob = w.bob_creds();
    let a = Signer::new(&alice);
    let b = Signer::new(&bob);
    let hers = file_url(&w, &format!("{}/k", w.alice_id));
    let his = file_url(&w, &format!("{}/k", w.bob_id));
    assert_eq!(a.send("PUT", &hers, b"v").await.0, 200);
    assert_eq!(b.send("PUT", &his, b"b").await.0, 200);
    // Alice's login is unlinked from her identity: her credentials stop; Bob's go on.
    let login = IdentityLogin {
        provider: super::POOL.into(),
        subject: w.alice.sub.clone(),
    };
    assert!(w
        .server
        .node
        .store
        .unlink_identity(&w.alice_id, &login, cognate::core::now())
        .await
        .unwrap());
    assert_eq!(a.send("GET", &hers, b"").await.0, 403);
    assert_eq!(b.send("GET", &his, b"").await, (200, "b".to_string()));

    // A guest's credentials (the guest role admits unauthenticated identities) work while
    // the pool admits guests, and stop when it no longer does.
    let guest_id = super::identity(&w.server, IPOOL, None, None).await;
    let mut grant = super::grant(&guest_id, None, 3600);
    grant.authenticated = false;
    grant.role_arn = super::GUEST_ROLE.into();
    let guest = w.vend(&grant);
    let g = Signer::new(&guest);
    let own = file_url(&w, &format!("{guest_id}/k"));
    assert_eq!(g.send("PUT", &own, b"g").await.0, 200);
    let mut pool = w
        .server
        .node
        .store
        .get_identity_pool(IPOOL)
        .await
        .unwrap()
        .unwrap();
    pool.allow_unauthenticated = false;
    w.server.node.store.put_identity_pool(&pool).await.unwrap();
    assert_eq!(g.send("GET", &own, b"").await.0, 403);
}
