//! Node metadata, pools, clients and resource servers.

use std::sync::Arc;

use cognate::core::model::KeyPurpose;
use cognate::store::{Conflict, Store, StoreError, UserRef};

use super::fixtures::*;

pub async fn ping_and_meta_race(store: Arc<dyn Store>) {
    store.ping().await.expect("ping");
    assert!(matches!(store.engine(), "sqlite" | "postgres"));
    assert_eq!(store.get_meta("node-key-check").await.unwrap(), None);

    // Ten nodes race to record a value; every one of them sees the same winner.
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .put_meta_if_absent("node-key-check", &format!("value-{i}"))
                    .await
            })
        })
        .collect();
    let mut seen = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap().expect("put_meta_if_absent"));
    }
    assert!(seen.iter().all(|v| v == &seen[0]), "{seen:?}");
    assert_eq!(
        store.get_meta("node-key-check").await.unwrap(),
        Some(seen[0].clone())
    );
    // Absent keys are written.
    let other = store.put_meta_if_absent("other", "x").await.unwrap();
    assert_eq!(other, "x");
    // put_meta replaces a stored value, and writes an absent one.
    store.put_meta("other", "y").await.unwrap();
    assert_eq!(store.get_meta("other").await.unwrap().as_deref(), Some("y"));
    store.put_meta("fresh", "z").await.unwrap();
    assert_eq!(store.get_meta("fresh").await.unwrap().as_deref(), Some("z"));
}

pub async fn pools_crud_and_cascade(store: Arc<dyn Store>) {
    assert_eq!(store.get_pool("us-east-1_Pool1").await.unwrap(), None);
    let mut p = with_pool(&store, "us-east-1_Pool1", false).await;
    let other = with_pool(&store, "us-east-1_Pool2", false).await;
    assert_eq!(store.get_pool(&p.id).await.unwrap(), Some(p.clone()));
    p.name = "renamed".into();
    // A pre token generation trigger with its event version is kept whole.
    p.triggers.0.insert(
        cognate::core::model::TriggerKind::PreTokenGeneration,
        "https://hooks.example.com/tokens".into(),
    );
    p.triggers.1 = cognate::core::model::PreTokenVersion::V3;
    store.put_pool(&p).await.unwrap();
    let stored = store.get_pool(&p.id).await.unwrap().unwrap();
    assert_eq!(stored.name, "renamed");
    assert_eq!(stored.triggers, p.triggers);
    let ids: Vec<String> = store
        .list_pools()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ids, ["us-east-1_Pool1", "us-east-1_Pool2"]);

    // Fill the pool with one of everything, then delete it.
    let c = client("client1", &p.id, "app");
    store.put_client(&c).await.unwrap();
    store
        .put_resource_server(&resource_server(&p.id, "https://api.example"))
        .await
        .unwrap();
    let u = store
        .create_user(&linked(&p, "alice", "Google", "g-1"))
        .await
        .unwrap();
    store
        .put_group(&group(&p.id, "admins", Some(1)))
        .await
        .unwrap();
    store.add_member(&p.id, "admins", &u.sub).await.unwrap();
    let k = signing_key(&p.id, "kid-1", KeyPurpose::IdToken, T0);
    store.insert_key_if_none_active(&k).await.unwrap();
    // Re-putting the pool (an upsert) must not disturb its contents.
    store.put_pool(&p).await.unwrap();
    assert_eq!(store.count_users(&p.id).await.unwrap(), 1);
    // The other pool's records survive the delete.
    let survivor = store.create_user(&user(&other, "bob", &[])).await.unwrap();

    assert!(store.delete_pool(&p.id).await.unwrap());
    assert!(!store.delete_pool(&p.id).await.unwrap());
    assert_eq!(store.get_pool(&p.id).await.unwrap(), None);
    assert_eq!(store.get_client("client1").await.unwrap(), None);
    assert!(store.list_resource_servers(&p.id).await.unwrap().is_empty());
    assert_eq!(store.count_users(&p.id).await.unwrap(), 0);
    assert!(store.list_groups(&p.id).await.unwrap().is_empty());
    assert!(store.list_keys(&p.id).await.unwrap().is_empty());

    // Recreated under the same id, the pool is empty: no orphaned rows came back.
    store.put_pool(&p).await.unwrap();
    let by_sub = UserRef::Sub(u.sub.clone());
    assert_eq!(store.get_user(&p.id, &by_sub).await.unwrap(), None);
    let fed = UserRef::Federated("Google".into(), "g-1".into());
    assert_eq!(store.get_user(&p.id, &fed).await.unwrap(), None);
    assert!(store
        .groups_of_user(&p.id, &u.sub)
        .await
        .unwrap()
        .is_empty());
    // The identity and username are free again.
    store
        .create_user(&linked(&p, "alice", "Google", "g-1"))
        .await
        .unwrap();
    let still = store
        .get_user(&other.id, &UserRef::Sub(survivor.sub.clone()))
        .await
        .unwrap();
    assert_eq!(still, Some(survivor));
}

/// A pool replace names the version it read: a stale one is refused and writes nothing, the
/// fresh one succeeds and moves the version on; any put_pool moves it too; a missing pool
/// is `NotFound`; of writers racing on one version exactly one wins.
pub async fn pool_replace_is_a_compare_and_swap(store: Arc<dyn Store>) {
    let mut missing = pool("us-east-1_Absent1", false);
    missing.version = 1;
    let gone = store.replace_pool(&missing).await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "{gone:?}");
    assert_eq!(store.get_pool(&missing.id).await.unwrap(), None);

    let read = with_pool(&store, "us-east-1_Pool1", false).await;
    assert_eq!(read.version, 1, "a created pool is at version 1");

    // The honest replace: the version read is current.
    let mut renamed = read.clone();
    renamed.name = "renamed".into();
    let stored = store.replace_pool(&renamed).await.expect("fresh replace");
    assert_eq!(stored.version, 2);
    assert_eq!(stored.name, "renamed");
    assert_eq!(
        store.get_pool(&read.id).await.unwrap(),
        Some(stored.clone())
    );

    // A writer still holding version 1 is refused, and the stored pool is untouched.
    let mut stale = read.clone();
    stale.name = "stale".into();
    let refused = store.replace_pool(&stale).await;
    assert!(
        matches!(refused, Err(StoreError::VersionMismatch)),
        "{refused:?}"
    );
    assert_eq!(
        store.get_pool(&read.id).await.unwrap(),
        Some(stored.clone())
    );

    // put_pool (create or config apply) moves the version on too: a replace based on the
    // record before it is stale.
    store.put_pool(&stored).await.unwrap();
    let after_put = store.get_pool(&read.id).await.unwrap().unwrap();
    assert_eq!(after_put.version, 3);
    let mut behind = stored.clone();
    behind.name = "behind".into();
    let refused = store.replace_pool(&behind).await;
    assert!(
        matches!(refused, Err(StoreError::VersionMismatch)),
        "{refused:?}"
    );
    behind.version = after_put.version;
    assert_eq!(store.replace_pool(&behind).await.unwrap().version, 4);

    // Eight writers replace the same version at once: one wins, the others are refused.
    let base = store.get_pool(&read.id).await.unwrap().unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let (store, mut p) = (store.clone(), base.clone());
            p.name = format!("writer {n}");
            tokio::spawn(async move { store.replace_pool(&p).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(p) => winners.push(p),
            Err(StoreError::VersionMismatch) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let last = store.get_pool(&read.id).await.unwrap().unwrap();
    assert_eq!(last, winners[0]);
    assert_eq!(last.version, base.version + 1);
}

pub async fn clients(store: Arc<dyn Store>) {
    let c = client("client1", "us-east-1_Pool1", "app");
    // The pool must exist first.
    let missing = store.put_client(&c).await;
    assert!(
        matches!(missing, Err(StoreError::MissingParent("user pool"))),
        "{missing:?}"
    );
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let q = with_pool(&store, "us-east-1_Pool2", false).await;
    store.put_client(&c).await.unwrap();
    assert_eq!(store.get_client("client1").await.unwrap(), Some(c.clone()));

    let mut renamed = c.clone();
    renamed.name = "renamed".into();
    store.put_client(&renamed).await.unwrap();
    assert_eq!(
        store.get_client("client1").await.unwrap(),
        Some(renamed.clone())
    );

    // Client ids are unique across pools.
    let stolen = client("client1", &q.id, "thief");
    let taken = store.put_client(&stolen).await;
    assert!(is_conflict(&taken, Conflict::Exists), "{taken:?}");
    assert_eq!(
        store.get_client("client1").await.unwrap(),
        Some(renamed.clone())
    );
    store
        .put_client(&client("client2", &q.id, "other"))
        .await
        .unwrap();

    store
        .put_client(&client("client0", &p.id, "zero"))
        .await
        .unwrap();
    let ids: Vec<String> = store
        .list_clients(&p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["client0", "client1"]);
    // update_client replaces only a client still stored in that pool.
    let mut updated = renamed.clone();
    updated.name = "updated".into();
    assert!(store.update_client(&updated).await.unwrap());
    assert_eq!(store.get_client("client1").await.unwrap(), Some(updated));
    let mut foreign = client("client1", &q.id, "thief");
    foreign.name = "thief".into();
    assert!(!store.update_client(&foreign).await.unwrap());
    assert_eq!(
        store
            .get_client("client1")
            .await
            .unwrap()
            .map(|c| c.pool_id),
        Some(p.id.clone())
    );
    assert!(store.delete_client("client1").await.unwrap());
    assert!(!store.delete_client("client1").await.unwrap());
    assert_eq!(store.get_client("client1").await.unwrap(), None);
    // An update racing the delete does not bring the client back.
    assert!(!store.update_client(&renamed).await.unwrap());
    assert_eq!(store.get_client("client1").await.unwrap(), None);
    assert_eq!(store.list_clients(&p.id).await.unwrap().len(), 1);
    assert_eq!(store.list_clients(&q.id).await.unwrap().len(), 1);
}

pub async fn resource_servers(store: Arc<dyn Store>) {
    let rs = resource_server("us-east-1_Pool1", "https://api.example");
    let missing = store.put_resource_server(&rs).await;
    assert!(
        matches!(missing, Err(StoreError::MissingParent(_))),
        "{missing:?}"
    );
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    store.put_resource_server(&rs).await.unwrap();
    store
        .put_resource_server(&resource_server(&p.id, "https://a.example"))
        .await
        .unwrap();
    let mut renamed = rs.clone();
    renamed.name = "renamed".into();
    store.put_resource_server(&renamed).await.unwrap();
    let listed = store.list_resource_servers(&p.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].identifier, "https://a.example");
    assert_eq!(listed[1], renamed);
    assert!(store
        .delete_resource_server(&p.id, "https://a.example")
        .await
        .unwrap());
    assert!(!store
        .delete_resource_server(&p.id, "https://a.example")
        .await
        .unwrap());
    assert_eq!(
        store.list_resource_servers(&p.id).await.unwrap(),
        vec![renamed]
    );
}
