//! SAML service-provider keys: one active key per pool whoever inserts it, rotation with a
//! published grace, and the token keys (so the JWKS) untouched by any of it.

use std::sync::Arc;

use cognate::core::model::{KeyPurpose, SpKeyRecord};
use cognate::core::secrets::{sp_key_context, MasterKey};
use cognate::store::{Conflict, Store, StoreError};

use super::fixtures::*;

/// An SP key record as the core makes one (a sealed stand-in key, a stand-in certificate).
fn sp_key(pool_id: &str, kid: &str, created_at: i64) -> SpKeyRecord {
    let (master, _) = MasterKey::generate();
    SpKeyRecord {
        pool_id: pool_id.into(),
        kid: kid.into(),
        private_pkcs8: master.seal(&sp_key_context(pool_id, kid), b"not a real key"),
        certificate: format!("MIIC{kid}"),
        created_at,
        retired_at: None,
        published_until: None,
    }
}

pub async fn sp_keys_converge(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let token = signing_key(&p.id, "kid-token", KeyPurpose::IdToken, T0);
    store.insert_key_if_none_active(&token).await.unwrap();
    // Eight nodes make the pool's first SP key at once, each with a key of its own.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let key = sp_key(&p.id, &format!("sp-{i}"), T0);
            tokio::spawn(async move { store.insert_sp_key_if_none_active(&key).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        winners.push(task.await.unwrap().expect("insert_sp_key_if_none_active"));
    }
    assert!(winners.iter().all(|k| k == &winners[0]), "{winners:?}");
    let keys = store.list_sp_keys(&p.id).await.unwrap();
    // The stored record is the inserted one, field for field (the sealed key included).
    assert_eq!(keys, vec![winners[0].clone()]);
    assert_eq!(keys[0].retired_at, None);
    assert_eq!(keys[0].published_until, None);

    // Another pool has its own active key.
    let q = with_pool(&store, "us-east-1_Pool2", false).await;
    let other = sp_key(&q.id, "sp-other", T0);
    assert_eq!(
        store.insert_sp_key_if_none_active(&other).await.unwrap(),
        other
    );
    assert_eq!(store.list_sp_keys(&p.id).await.unwrap().len(), 1);
    // A kid another key holds is a conflict, not a second key.
    let taken = sp_key(&q.id, &winners[0].kid, T0);
    let refused = store.rotate_sp_key(&taken, T0 + 1, T0 + 2).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(Conflict::Exists))),
        "{refused:?}"
    );
    assert_eq!(store.list_sp_keys(&q.id).await.unwrap(), vec![other]);
    // Keys need their pool.
    let orphan = sp_key("us-east-1_Nope", "sp-x", T0);
    let missing = store.insert_sp_key_if_none_active(&orphan).await;
    assert!(
        matches!(missing, Err(StoreError::MissingParent(_))),
        "{missing:?}"
    );
    // The token keys (the JWKS) are not SP keys and saw none of this.
    assert_eq!(store.list_keys(&p.id).await.unwrap(), vec![token]);
}

pub async fn sp_keys_rotate_with_grace(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let id_key = signing_key(&p.id, "kid-id", KeyPurpose::IdToken, T0);
    let access_key = signing_key(&p.id, "kid-access", KeyPurpose::AccessToken, T0);
    store.insert_key_if_none_active(&id_key).await.unwrap();
    store.insert_key_if_none_active(&access_key).await.unwrap();
    let token_keys = store.list_keys(&p.id).await.unwrap();

    let first = sp_key(&p.id, "sp-1", T0);
    store.insert_sp_key_if_none_active(&first).await.unwrap();
    let second = sp_key(&p.id, "sp-2", T0 + 100);
    store
        .rotate_sp_key(&second, T0 + 100, T0 + 100 + 3_600)
        .await
        .unwrap();
    let keys = store.list_sp_keys(&p.id).await.unwrap();
    let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    assert_eq!(kids, ["sp-2", "sp-1"], "newest first");
    assert_eq!(keys[0], second, "the new key is active, as inserted");
    assert_eq!(keys[1].retired_at, Some(T0 + 100));
    assert_eq!(keys[1].published_until, Some(T0 + 3_700));
    assert_eq!(keys[1].certificate, first.certificate);
    // The rotated-in key is the active one now.
    let late = sp_key(&p.id, "sp-late", T0 + 200);
    assert_eq!(
        store.insert_sp_key_if_none_active(&late).await.unwrap().kid,
        "sp-2"
    );

    // A second rotation retires only the active key; the first keeps its own grace.
    let third = sp_key(&p.id, "sp-3", T0 + 300);
    store
        .rotate_sp_key(&third, T0 + 300, T0 + 400)
        .await
        .unwrap();
    let keys = store.list_sp_keys(&p.id).await.unwrap();
    let state: Vec<(&str, Option<i64>, Option<i64>)> = keys
        .iter()
        .map(|k| (k.kid.as_str(), k.retired_at, k.published_until))
        .collect();
    assert_eq!(
        state,
        [
            ("sp-3", None, None),
            ("sp-2", Some(T0 + 300), Some(T0 + 400)),
            ("sp-1", Some(T0 + 100), Some(T0 + 3_700)),
        ]
    );
    // A rotation that fails (its kid is taken) changes nothing: it is one transaction.
    let clash = sp_key(&p.id, "sp-1", T0 + 500);
    assert!(store
        .rotate_sp_key(&clash, T0 + 500, T0 + 600)
        .await
        .is_err());
    assert_eq!(store.list_sp_keys(&p.id).await.unwrap(), keys);

    // The token keys, and so the JWKS, are exactly as before.
    assert_eq!(store.list_keys(&p.id).await.unwrap(), token_keys);
    // Deleting the pool deletes its SP keys.
    assert!(store.delete_pool(&p.id).await.unwrap());
    assert_eq!(store.list_sp_keys(&p.id).await.unwrap(), vec![]);
}
