//! Identity pools, roles and identities: whole-record round trips, paging, cascades, and
//! one identity per (pool, provider, subject) whoever inserts it, under a parallel burst.

use std::collections::BTreeMap;
use std::sync::Arc;

use cognate::core::identity_pools::mapping::IdentityPoolRoles;
use cognate::core::model::{
    new_identity_id, Identity, IdentityLogin, IdentityPool, IdentityPoolUserPool, Origin, Role,
    RoleTrust, TrustAmr,
};
use cognate::store::{Conflict, Store, StoreError};

use super::fixtures::*;

fn identity_pool(id: &str, name: &str) -> IdentityPool {
    IdentityPool {
        id: id.into(),
        name: name.into(),
        allow_unauthenticated: true,
        allow_classic_flow: false,
        user_pools: vec![IdentityPoolUserPool {
            pool_id: "us-east-1_Pool1".into(),
            client_id: "client1".into(),
            server_side_token_check: true,
        }],
        supported_login_providers: BTreeMap::new(),
        developer_provider_name: Some("login.example.app".into()),
        roles: IdentityPoolRoles {
            authenticated: Some("arn:aws:iam::123456789012:role/users".into()),
            unauthenticated: None,
        },
        role_mappings: BTreeMap::new(),
        tags: BTreeMap::from([("team".into(), "web".into())]),
        upstream_sts_endpoint: None,
        origin: Origin::Config,
        created_at: T0,
        updated_at: T0,
    }
}

fn candidate(pool_id: &str, at: i64) -> Identity {
    Identity {
        id: new_identity_id("us-east-1"),
        identity_pool_id: pool_id.into(),
        logins: Vec::new(),
        created_at: at,
        updated_at: at,
    }
}

fn login(provider: &str, subject: &str) -> IdentityLogin {
    IdentityLogin {
        provider: provider.into(),
        subject: subject.into(),
    }
}

pub async fn identity_pools_and_roles_crud(store: Arc<dyn Store>) {
    let ids: Vec<String> = (0..5).map(|_| new_identity_id("us-east-1")).collect();
    for (i, id) in ids.iter().enumerate() {
        store
            .put_identity_pool(&identity_pool(id, &format!("pool {i}")))
            .await
            .unwrap();
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(
        store.get_identity_pool(&ids[0]).await.unwrap(),
        Some(identity_pool(&ids[0], "pool 0"))
    );
    // Pages of two, in id order, the last without a token.
    let mut listed = Vec::new();
    let mut next = None;
    loop {
        let got = store.list_identity_pools(&page(2, next)).await.unwrap();
        assert!(got.items.len() <= 2);
        listed.extend(got.items.into_iter().map(|p| p.id));
        next = got.next;
        if next.is_none() {
            break;
        }
    }
    assert_eq!(listed, sorted);
    // Replacing keeps the identities; deleting cascades to them.
    let kept = store
        .get_or_create_identity(
            &ids[0],
            Some(&login("us-east-1_Pool1", "s")),
            &candidate(&ids[0], T0),
        )
        .await
        .unwrap();
    let mut renamed = identity_pool(&ids[0], "renamed");
    renamed.origin = Origin::Api;
    store.put_identity_pool(&renamed).await.unwrap();
    assert_eq!(
        store.get_identity_pool(&ids[0]).await.unwrap(),
        Some(renamed)
    );
    assert_eq!(
        store.get_identity(&kept.id).await.unwrap(),
        Some(kept.clone())
    );
    assert!(store.delete_identity_pool(&ids[0]).await.unwrap());
    assert!(!store.delete_identity_pool(&ids[0]).await.unwrap());
    assert_eq!(store.get_identity(&kept.id).await.unwrap(), None);
    assert_eq!(store.count_identities(&ids[0]).await.unwrap(), 0);
    // The login is free again: a pool made again with that id gives a new identity.
    store
        .put_identity_pool(&identity_pool(&ids[0], "again"))
        .await
        .unwrap();
    let fresh = store
        .get_or_create_identity(
            &ids[0],
            Some(&login("us-east-1_Pool1", "s")),
            &candidate(&ids[0], T0),
        )
        .await
        .unwrap();
    assert_ne!(fresh.id, kept.id);

    // Roles by ARN.
    let role = |arn: &str, policy: &str| Role {
        arn: arn.into(),
        trust: RoleTrust {
            identity_pool_ids: vec![ids[1].clone()],
            amr: TrustAmr::Any,
        },
        policy: policy.into(),
        max_session_secs: 3600,
        description: Some("d".into()),
        origin: Origin::Config,
        updated_at: T0,
    };
    let b = role("arn:aws:iam::123456789012:role/b", "{}");
    let a = role(
        "arn:aws:iam::123456789012:role/a",
        "{\"Version\":\"2012-10-17\"}",
    );
    store.put_role(&b).await.unwrap();
    store.put_role(&a).await.unwrap();
    assert_eq!(
        store.list_roles().await.unwrap(),
        vec![a.clone(), b.clone()]
    );
    let edited = role(&b.arn, "{\"Statement\":[]}");
    store.put_role(&edited).await.unwrap();
    assert_eq!(store.get_role(&b.arn).await.unwrap(), Some(edited));
    assert!(store.delete_role(&a.arn).await.unwrap());
    assert!(!store.delete_role(&a.arn).await.unwrap());
    assert_eq!(store.get_role(&a.arn).await.unwrap(), None);
}

pub async fn identities_one_per_login(store: Arc<dyn Store>) {
    let pool_id = new_identity_id("us-east-1");
    let other_pool = new_identity_id("us-east-1");
    store
        .put_identity_pool(&identity_pool(&pool_id, "one"))
        .await
        .unwrap();
    store
        .put_identity_pool(&identity_pool(&other_pool, "two"))
        .await
        .unwrap();
    let alice = login("us-east-1_Pool1", "alice-sub");

    // A parallel burst of first sign-ins for one user: every caller gets ONE identity.
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let (store, pool_id, alice) = (store.clone(), pool_id.clone(), alice.clone());
            tokio::spawn(async move {
                store
                    .get_or_create_identity(&pool_id, Some(&alice), &candidate(&pool_id, T0 + i))
                    .await
            })
        })
        .collect();
    let mut got = Vec::new();
    for task in tasks {
        got.push(task.await.unwrap().expect("get_or_create_identity"));
    }
    assert!(got.iter().all(|i| i == &got[0]), "{got:?}");
    assert_eq!(got[0].logins, vec![alice.clone()]);
    assert_eq!(got[0].identity_pool_id, pool_id);
    assert_eq!(store.count_identities(&pool_id).await.unwrap(), 1);

    // The same login in another pool, or another subject, is another identity.
    let elsewhere = store
        .get_or_create_identity(&other_pool, Some(&alice), &candidate(&other_pool, T0))
        .await
        .unwrap();
    assert_ne!(elsewhere.id, got[0].id);
    let bob = store
        .get_or_create_identity(
            &pool_id,
            Some(&login("us-east-1_Pool1", "bob")),
            &candidate(&pool_id, T0),
        )
        .await
        .unwrap();
    assert_ne!(bob.id, got[0].id);
    // Guests always get a new identity, without logins.
    let g1 = store
        .get_or_create_identity(&pool_id, None, &candidate(&pool_id, T0))
        .await
        .unwrap();
    let g2 = store
        .get_or_create_identity(&pool_id, None, &candidate(&pool_id, T0))
        .await
        .unwrap();
    assert_ne!(g1.id, g2.id);
    assert!(g1.logins.is_empty());
    assert_eq!(store.count_identities(&pool_id).await.unwrap(), 4);

    // A taken candidate id is a conflict; a missing pool is a missing parent.
    let mut taken = candidate(&pool_id, T0);
    taken.id = g1.id.clone();
    let refused = store.get_or_create_identity(&pool_id, None, &taken).await;
    assert!(is_conflict(&refused, Conflict::Exists), "{refused:?}");
    let missing_pool = new_identity_id("us-east-1");
    let refused = store
        .get_or_create_identity(&missing_pool, None, &candidate(&missing_pool, T0))
        .await;
    assert!(
        matches!(refused, Err(StoreError::MissingParent("identity pool"))),
        "{refused:?}"
    );

    // Listing pages in id order, logins included.
    let mut all = [got[0].clone(), bob.clone(), g1.clone(), g2.clone()];
    all.sort_by(|a, b| a.id.cmp(&b.id));
    let first = store
        .list_identities(&pool_id, &page(3, None))
        .await
        .unwrap();
    let rest = store
        .list_identities(&pool_id, &page(3, first.next.clone()))
        .await
        .unwrap();
    assert_eq!(first.items, all[..3]);
    assert_eq!(rest.items, all[3..]);
    assert_eq!(rest.next, None);

    // Unlink: the record stays without the login, and the login is free for a new one.
    assert!(store
        .unlink_identity(&got[0].id, &alice, T0 + 100)
        .await
        .unwrap());
    assert!(!store
        .unlink_identity(&got[0].id, &alice, T0 + 101)
        .await
        .unwrap());
    let unlinked = store.get_identity(&got[0].id).await.unwrap().unwrap();
    assert!(unlinked.logins.is_empty());
    assert_eq!(unlinked.updated_at, T0 + 100);
    let again = store
        .get_or_create_identity(&pool_id, Some(&alice), &candidate(&pool_id, T0))
        .await
        .unwrap();
    assert_ne!(again.id, got[0].id);

    // Delete reports exactly the ids that existed; their logins go with them.
    let deleted = store
        .delete_identities(&[again.id.clone(), "us-east-1:nope".into(), bob.id.clone()])
        .await
        .unwrap();
    assert_eq!(deleted, vec![again.id.clone(), bob.id.clone()]);
    assert_eq!(store.get_identity(&bob.id).await.unwrap(), None);
    let alice_again = store
        .get_or_create_identity(&pool_id, Some(&alice), &candidate(&pool_id, T0))
        .await
        .unwrap();
    assert_ne!(alice_again.id, again.id);
}
