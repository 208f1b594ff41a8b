//! Domains (migration 0011) and CreateResourceServer's insert (issue 15): a domain name
//! belongs to one pool across the deployment, a pool has one prefix and one custom domain,
//! concurrent inserts of one name leave exactly one winner, and deleting a pool deletes its
//! domains.

use std::sync::Arc;

use cognate::core::model::{Domain, Origin};
use cognate::store::{Conflict, Store, StoreError};

use super::fixtures::*;

fn domain(pool_id: &str, name: &str, custom: bool) -> Domain {
    Domain {
        domain: name.into(),
        pool_id: pool_id.into(),
        certificate_arn: custom
            .then(|| "arn:aws:acm:us-east-1:123456789012:certificate/abc".to_string()),
        managed_login_version: 1,
        origin: Origin::Api,
        created_at: T0,
        updated_at: T0,
    }
}

pub async fn domains_one_name_one_pool(store: Arc<dyn Store>) {
    let missing = store
        .insert_domain(&domain("us-east-1_Pool1", "my-app", false))
        .await;
    assert!(
        matches!(missing, Err(StoreError::MissingParent(_))),
        "{missing:?}"
    );
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let q = with_pool(&store, "us-east-1_Pool2", false).await;
    let prefix = domain(&p.id, "my-app", false);
    store.insert_domain(&prefix).await.unwrap();
    assert_eq!(
        store.get_domain("my-app").await.unwrap(),
        Some(prefix.clone())
    );
    assert_eq!(store.get_domain("other").await.unwrap(), None);

    // The name, for another pool or the same one: refused, the stored one unchanged.
    let mut taken = domain(&q.id, "my-app", false);
    taken.managed_login_version = 2;
    assert!(is_conflict(
        &store.insert_domain(&taken).await,
        Conflict::Exists
    ));
    assert!(is_conflict(
        &store.insert_domain(&domain(&p.id, "my-app", true)).await,
        Conflict::Exists
    ));
    assert_eq!(
        store.get_domain("my-app").await.unwrap(),
        Some(prefix.clone())
    );
    // A second prefix domain for the pool: refused; a custom one beside it: fine.
    assert!(is_conflict(
        &store.insert_domain(&domain(&p.id, "second", false)).await,
        Conflict::Exists
    ));
    assert_eq!(store.get_domain("second").await.unwrap(), None);
    let custom = domain(&p.id, "auth.example.com", true);
    store.insert_domain(&custom).await.unwrap();
    assert!(is_conflict(
        &store
            .insert_domain(&domain(&p.id, "login.example.com", true))
            .await,
        Conflict::Exists
    ));
    store
        .insert_domain(&domain(&q.id, "second", false))
        .await
        .unwrap();
    assert_eq!(
        store.list_domains(&p.id).await.unwrap(),
        vec![custom.clone(), prefix.clone()]
    );

    // Update: only within the pool that holds it, and only of its own kind.
    let mut newer = custom.clone();
    newer.certificate_arn = Some("arn:aws:acm:us-east-1:123456789012:certificate/new".into());
    newer.managed_login_version = 2;
    assert!(store.update_domain(&newer).await.unwrap());
    assert_eq!(
        store.get_domain("auth.example.com").await.unwrap(),
        Some(newer.clone())
    );
    let mut foreign = newer.clone();
    foreign.pool_id = q.id.clone();
    assert!(!store.update_domain(&foreign).await.unwrap());
    let mut other_kind = newer.clone();
    other_kind.certificate_arn = None;
    assert!(!store.update_domain(&other_kind).await.unwrap());
    assert_eq!(
        store.get_domain("auth.example.com").await.unwrap(),
        Some(newer)
    );

    // Delete: only by its pool.
    assert!(!store.delete_domain(&q.id, "my-app").await.unwrap());
    assert!(store.delete_domain(&p.id, "my-app").await.unwrap());
    assert!(!store.delete_domain(&p.id, "my-app").await.unwrap());
    assert_eq!(store.get_domain("my-app").await.unwrap(), None);
    // The name is free again, for any pool.
    store
        .insert_domain(&domain(&p.id, "my-app", false))
        .await
        .unwrap();

    // Deleting a pool deletes its domains; the other pool's stay.
    assert!(store.delete_pool(&p.id).await.unwrap());
    assert_eq!(store.get_domain("my-app").await.unwrap(), None);
    assert_eq!(store.get_domain("auth.example.com").await.unwrap(), None);
    assert!(store.list_domains(&p.id).await.unwrap().is_empty());
    assert!(store.get_domain("second").await.unwrap().is_some());
}

pub async fn domains_concurrent_inserts_one_winner(store: Arc<dyn Store>) {
    let mut pools = Vec::new();
    for i in 0..4 {
        pools.push(
            with_pool(&store, &format!("us-east-1_Burst{i}"), false)
                .await
                .id,
        );
    }
    let mut tasks = Vec::new();
    for i in 0..16 {
        let store = store.clone();
        let pool = pools[i % pools.len()].clone();
        tasks.push(tokio::spawn(async move {
            store
                .insert_domain(&domain(&pool, "contested", false))
                .await
                .map(|()| pool)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(pool) => winners.push(pool),
            Err(StoreError::Conflict(Conflict::Exists)) => {}
            Err(e) => panic!("a loser must see Conflict::Exists, not {e:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = store.get_domain("contested").await.unwrap().unwrap();
    assert_eq!(stored.pool_id, winners[0]);
}

pub async fn resource_server_insert_refuses_a_taken_identifier(store: Arc<dyn Store>) {
    let rs = resource_server("us-east-1_Pool1", "https://api.example");
    let missing = store.insert_resource_server(&rs, 25).await;
    assert!(
        matches!(missing, Err(StoreError::MissingParent(_))),
        "{missing:?}"
    );
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    assert!(store.insert_resource_server(&rs, 25).await.unwrap());
    let mut again = rs.clone();
    again.name = "again".into();
    assert!(is_conflict(
        &store.insert_resource_server(&again, 25).await,
        Conflict::Exists
    ));
    assert_eq!(store.list_resource_servers(&p.id).await.unwrap(), vec![rs]);
}

pub async fn resource_server_quota_holds_under_concurrent_inserts(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    // A full pool refuses without writing.
    assert!(store
        .insert_resource_server(&resource_server(&p.id, "first"), 1)
        .await
        .unwrap());
    assert!(!store
        .insert_resource_server(&resource_server(&p.id, "second"), 1)
        .await
        .unwrap());
    assert_eq!(store.list_resource_servers(&p.id).await.unwrap().len(), 1);
    // Twelve creates at once against a quota of 4: exactly three more get in.
    let mut tasks = Vec::new();
    for i in 0..12 {
        let store = store.clone();
        let rs = resource_server(&p.id, &format!("api-{i:02}"));
        tasks.push(tokio::spawn(async move {
            store.insert_resource_server(&rs, 4).await
        }));
    }
    let mut inserted = 0;
    for task in tasks {
        if task.await.unwrap().expect("no error, full or not") {
            inserted += 1;
        }
    }
    assert_eq!(inserted, 3);
    assert_eq!(store.list_resource_servers(&p.id).await.unwrap().len(), 4);
}
