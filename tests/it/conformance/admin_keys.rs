//! Operator credentials (admin keys): insert-if-absent with the first writer winning,
//! exact lookups, an ordered listing and deletion, the sealed secret stored as given.

use std::sync::Arc;

use cognate::core::admin_keys::{admin_key_context, AdminKey, AdminKeyPurpose};
use cognate::core::secrets::MasterKey;
use cognate::store::{Conflict, Store, StoreError};

use super::fixtures::T0;

fn admin_key(master: &MasterKey, id: &str, purpose: AdminKeyPurpose) -> AdminKey {
    AdminKey {
        access_key_id: id.into(),
        secret: master.seal(&admin_key_context(id), b"secret-of-the-key"),
        description: format!("key {id}"),
        purpose,
        created_at: T0,
    }
}

pub async fn admin_keys_lifecycle(store: Arc<dyn Store>) {
    let (master, _) = MasterKey::generate();
    let a = admin_key(&master, "AKIAAAAAAAAAAAAAAAAA", AdminKeyPurpose::Operator);
    let b = admin_key(&master, "ci-deploy@example", AdminKeyPurpose::Authorize);
    assert_eq!(store.get_admin_key(&a.access_key_id).await.unwrap(), None);
    store.insert_admin_key(&b).await.unwrap();
    store.insert_admin_key(&a).await.unwrap();
    // Stored field for field, the sealed secret included (it opens under its context).
    let got = store
        .get_admin_key(&a.access_key_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, a);
    assert_eq!(
        master
            .open(&admin_key_context(&a.access_key_id), &got.secret)
            .unwrap(),
        b"secret-of-the-key"
    );
    assert_eq!(
        store.get_admin_key(&b.access_key_id).await.unwrap(),
        Some(b.clone())
    );
    // Exact match only: neither case nor a prefix finds a key.
    assert_eq!(
        store.get_admin_key("akiaaaaaaaaaaaaaaaaa").await.unwrap(),
        None
    );
    assert_eq!(store.get_admin_key("AKIA").await.unwrap(), None);
    // Ordered by access key id (byte order: upper case first).
    assert_eq!(
        store.list_admin_keys().await.unwrap(),
        vec![a.clone(), b.clone()]
    );

    // A taken id is a conflict and leaves the stored key as it was.
    let mut other = admin_key(&master, &a.access_key_id, AdminKeyPurpose::Authorize);
    other.description = "impostor".into();
    let refused = store.insert_admin_key(&other).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::Exists))),
        "{refused:?}"
    );
    assert_eq!(
        store.get_admin_key(&a.access_key_id).await.unwrap(),
        Some(a.clone())
    );

    // Deletion: once true, then false; the other key stays.
    assert!(store.delete_admin_key(&a.access_key_id).await.unwrap());
    assert!(!store.delete_admin_key(&a.access_key_id).await.unwrap());
    assert_eq!(store.get_admin_key(&a.access_key_id).await.unwrap(), None);
    assert_eq!(store.list_admin_keys().await.unwrap(), vec![b]);
    // The id is free again.
    store.insert_admin_key(&a).await.unwrap();
}

pub async fn admin_keys_concurrent_creates_one_winner(store: Arc<dyn Store>) {
    let (master, _) = MasterKey::generate();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let mut key = admin_key(&master, "shared-id", AdminKeyPurpose::Operator);
            key.description = format!("writer {i}");
            tokio::spawn(async move { (store.insert_admin_key(&key).await, key) })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        let (result, key) = task.await.unwrap();
        match result {
            Ok(()) => winners.push(key),
            Err(StoreError::Conflict(Conflict::Exists)) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(winners.len(), 1);
    assert_eq!(
        store.list_admin_keys().await.unwrap(),
        vec![winners[0].clone()]
    );
}
