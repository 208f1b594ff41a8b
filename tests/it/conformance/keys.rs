//! Signing keys.

use std::sync::Arc;

use cognate::core::model::KeyPurpose;
use cognate::store::{Store, StoreError};

use super::fixtures::*;

pub async fn keys_converge(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    // Eight nodes start at once, each with a key of its own.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let key = signing_key(&p.id, &format!("kid-{i}"), KeyPurpose::IdToken, T0);
            tokio::spawn(async move { store.insert_key_if_none_active(&key).await })
        })
        .collect();
    let mut kids = Vec::new();
    for task in tasks {
        kids.push(task.await.unwrap().expect("insert_key_if_none_active").kid);
    }
    assert!(kids.iter().all(|k| k == &kids[0]), "{kids:?}");
    let keys = store.list_keys(&p.id).await.unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].kid, kids[0]);
    assert_eq!(keys[0].retired_at, None);

    // The other purpose has its own active key.
    let access = signing_key(&p.id, "kid-access", KeyPurpose::AccessToken, T0);
    let got = store.insert_key_if_none_active(&access).await.unwrap();
    assert_eq!(got, access);
    assert_eq!(store.list_keys(&p.id).await.unwrap().len(), 2);
    // Keys need their pool.
    let orphan = signing_key("us-east-1_Nope", "kid-x", KeyPurpose::IdToken, T0);
    let missing = store.insert_key_if_none_active(&orphan).await;
    assert!(
        matches!(missing, Err(StoreError::MissingParent(_))),
        "{missing:?}"
    );
}

pub async fn keys_rotate_and_prune(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let old = signing_key(&p.id, "kid-old", KeyPurpose::IdToken, T0);
    store.insert_key_if_none_active(&old).await.unwrap();
    let access = signing_key(&p.id, "kid-access", KeyPurpose::AccessToken, T0 + 5);
    store.insert_key_if_none_active(&access).await.unwrap();

    let new = signing_key(&p.id, "kid-new", KeyPurpose::IdToken, T0 + 100);
    store.rotate_key(&new, T0 + 100).await.unwrap();
    let keys = store.list_keys(&p.id).await.unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, ["kid-new", "kid-access", "kid-old"], "newest first");
    assert_eq!(keys[0].retired_at, None);
    assert_eq!(keys[1].retired_at, None, "the other purpose is untouched");
    assert_eq!(keys[2].retired_at, Some(T0 + 100));
    // The rotated-in key is the active one now.
    let candidate = signing_key(&p.id, "kid-late", KeyPurpose::IdToken, T0 + 200);
    assert_eq!(
        store
            .insert_key_if_none_active(&candidate)
            .await
            .unwrap()
            .kid,
        "kid-new"
    );

    // Pruning removes only keys retired before the cutoff.
    assert_eq!(store.prune_keys(&p.id, T0 + 100).await.unwrap(), 0);
    assert_eq!(store.list_keys(&p.id).await.unwrap().len(), 3);
    assert_eq!(store.prune_keys(&p.id, T0 + 101).await.unwrap(), 1);
    let kids: Vec<String> = store
        .list_keys(&p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, ["kid-new", "kid-access"]);
    assert_eq!(
        store.prune_keys(&p.id, i64::MAX).await.unwrap(),
        0,
        "active keys stay"
    );
}
