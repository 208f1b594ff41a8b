//! The identity service's token keys (issue 12, migration 0009): one active key for the
//! deployment whoever inserts it, rotation with a published grace, pruning, and the pool
//! token keys untouched by any of it.

use std::sync::Arc;

use cognate::core::identity_pools::openid::{identity_key_context, IdentityKeyRecord};
use cognate::core::model::KeyPurpose;
use cognate::core::secrets::MasterKey;
use cognate::store::{Conflict, Store, StoreError};

use super::fixtures::*;

/// An identity key record as the core makes one (a sealed stand-in key).
fn identity_key(kid: &str, created_at: i64) -> IdentityKeyRecord {
    let (master, _) = MasterKey::generate();
    IdentityKeyRecord {
        kid: kid.into(),
        private_pkcs8: master.seal(&identity_key_context(kid), b"not a real key"),
        n: format!("n-{kid}"),
        e: "AQAB".into(),
        created_at,
        retired_at: None,
        published_until: None,
    }
}

pub async fn identity_keys_converge(store: Arc<dyn Store>) {
    assert_eq!(store.list_identity_keys().await.unwrap(), vec![]);
    // Eight nodes make the first key at once, each with a key of its own.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let key = identity_key(&format!("id-{i}"), T0);
            tokio::spawn(async move { store.insert_identity_key_if_none_active(&key).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        winners.push(
            task.await
                .unwrap()
                .expect("insert_identity_key_if_none_active"),
        );
    }
    assert!(winners.iter().all(|k| k == &winners[0]), "{winners:?}");
    // The stored record is the inserted one, field for field (the sealed key included).
    let keys = store.list_identity_keys().await.unwrap();
    assert_eq!(keys, vec![winners[0].clone()]);
    assert_eq!((keys[0].retired_at, keys[0].published_until), (None, None));
    // A later insert returns the active key and adds nothing.
    let late = identity_key("id-late", T0 + 1);
    assert_eq!(
        store
            .insert_identity_key_if_none_active(&late)
            .await
            .unwrap(),
        winners[0]
    );
    // A kid another key holds is a conflict, not a second key, and changes nothing.
    let taken = identity_key(&winners[0].kid, T0 + 2);
    let refused = store.rotate_identity_key(&taken, T0 + 2, T0 + 3).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::Exists))),
        "{refused:?}"
    );
    assert_eq!(store.list_identity_keys().await.unwrap(), keys);
}

pub async fn identity_keys_rotate_with_grace(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let token = signing_key(&p.id, "kid-token", KeyPurpose::IdToken, T0);
    store.insert_key_if_none_active(&token).await.unwrap();
    let first = identity_key("id-1", T0);
    store
        .insert_identity_key_if_none_active(&first)
        .await
        .unwrap();

    let second = identity_key("id-2", T0 + 100);
    store
        .rotate_identity_key(&second, T0 + 100, T0 + 1_000)
        .await
        .unwrap();
    let third = identity_key("id-3", T0 + 200);
    store
        .rotate_identity_key(&third, T0 + 200, T0 + 2_000)
        .await
        .unwrap();
    let keys = store.list_identity_keys().await.unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(
        kids,
        ["id-3", "id-2", "id-1"],
        "active, then last retired first"
    );
    assert_eq!((keys[0].retired_at, keys[0].published_until), (None, None));
    assert_eq!(
        (keys[1].retired_at, keys[1].published_until),
        (Some(T0 + 200), Some(T0 + 2_000))
    );
    assert_eq!(
        (keys[2].retired_at, keys[2].published_until),
        (Some(T0 + 100), Some(T0 + 1_000))
    );
    // One active key: inserting another returns the rotated-in one.
    let candidate = identity_key("id-x", T0 + 300);
    assert_eq!(
        store
            .insert_identity_key_if_none_active(&candidate)
            .await
            .unwrap()
            .kid,
        "id-3"
    );

    // Pruning removes retired keys whose publication ended, never the active one.
    assert_eq!(store.prune_identity_keys(T0 + 999).await.unwrap(), 0);
    assert_eq!(store.prune_identity_keys(T0 + 1_000).await.unwrap(), 1);
    let kids: Vec<String> = store
        .list_identity_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["id-3", "id-2"]);
    assert_eq!(store.prune_identity_keys(T0 + 1_000_000).await.unwrap(), 1);
    assert_eq!(store.list_identity_keys().await.unwrap()[0].kid, "id-3");
    // The pool token keys (the pools' JWKS) saw none of this; deleting the pool leaves
    // the deployment's identity keys alone.
    assert_eq!(store.list_keys(&p.id).await.unwrap(), vec![token]);
    store.delete_pool(&p.id).await.unwrap();
    assert_eq!(store.list_identity_keys().await.unwrap().len(), 1);
}
