//! Short-lived protocol state: single use, expiry, compare-and-swap, listing.

use std::sync::Arc;

use cognate::store::{Conflict, Store};

use super::fixtures::*;

pub async fn ephemeral_single_use(store: Arc<dyn Store>) {
    let now = cognate::core::now();
    store
        .put_ephemeral("code", "c1", "payload", now + 300, now)
        .await
        .unwrap();
    let dup = store
        .put_ephemeral("code", "c1", "other", now + 300, now)
        .await;
    assert!(is_conflict(&dup, Conflict::Exists), "{dup:?}");
    // The same id under another kind is another value.
    store
        .put_ephemeral("flow", "c1", "flow payload", now + 300, now)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_ephemeral("code", "c1", now)
            .await
            .unwrap()
            .as_deref(),
        Some("payload")
    );
    // Reading does not consume.
    assert_eq!(
        store
            .get_ephemeral("code", "c1", now)
            .await
            .unwrap()
            .as_deref(),
        Some("payload")
    );

    // Ten nodes redeem the code at once; exactly one gets it.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.take_ephemeral("code", "c1", now).await })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        if let Some(v) = task.await.unwrap().expect("take") {
            winners.push(v);
        }
    }
    assert_eq!(winners, ["payload"]);
    assert_eq!(store.get_ephemeral("code", "c1", now).await.unwrap(), None);
    assert_eq!(store.take_ephemeral("code", "c1", now).await.unwrap(), None);
    assert_eq!(
        store
            .take_ephemeral("flow", "c1", now)
            .await
            .unwrap()
            .as_deref(),
        Some("flow payload")
    );
    // Once taken, the id may be used again.
    store
        .put_ephemeral("code", "c1", "second", now + 300, now)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_ephemeral("code", "c1", now)
            .await
            .unwrap()
            .as_deref(),
        Some("second")
    );
}

pub async fn ephemeral_expiry(store: Arc<dyn Store>) {
    let now = cognate::core::now();
    store
        .put_ephemeral("code", "live", "v", now + 60, now)
        .await
        .unwrap();
    // Live until expires_at, gone from then on, for get and take alike.
    assert!(store
        .get_ephemeral("code", "live", now + 59)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store.get_ephemeral("code", "live", now + 60).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .take_ephemeral("code", "live", now + 61)
            .await
            .unwrap(),
        None
    );
    assert!(
        store
            .get_ephemeral("code", "live", now)
            .await
            .unwrap()
            .is_some(),
        "a late take consumed nothing"
    );

    // An expired, unpurged row does not hold its id.
    store
        .put_ephemeral("code", "stale", "old", now - 10, now)
        .await
        .unwrap();
    store
        .put_ephemeral("code", "stale", "new", now + 60, now)
        .await
        .unwrap();
    assert_eq!(
        store
            .get_ephemeral("code", "stale", now)
            .await
            .unwrap()
            .as_deref(),
        Some("new")
    );

    store
        .put_ephemeral("code", "old1", "v", now - 5, now)
        .await
        .unwrap();
    store
        .put_ephemeral("flow", "old2", "v", now - 1, now)
        .await
        .unwrap();
    assert_eq!(store.purge_ephemeral(now).await.unwrap(), 2);
    assert_eq!(store.purge_ephemeral(now).await.unwrap(), 0);
    // Purging at a later time removes what has expired by then.
    assert_eq!(store.purge_ephemeral(now + 60).await.unwrap(), 2);
    assert_eq!(
        store.get_ephemeral("code", "live", now).await.unwrap(),
        None
    );
}

/// Rotation of single-use state: a value is replaced only while it is the one the caller
/// read, and of ten nodes rotating the same value at once exactly one succeeds.
pub async fn ephemeral_compare_and_swap(store: Arc<dyn Store>) {
    let now = cognate::core::now();
    store
        .put_ephemeral("refresh", "r1", "v1", now + 300, now)
        .await
        .unwrap();
    let get = |id: &'static str, at: i64| {
        let store = store.clone();
        async move { store.get_ephemeral("refresh", id, at).await.unwrap() }
    };

    // A stale expectation, another kind and a missing id change nothing.
    assert!(!store
        .replace_ephemeral("refresh", "r1", "v0", "x", now + 600, now)
        .await
        .unwrap());
    assert!(!store
        .replace_ephemeral("code", "r1", "v1", "x", now + 600, now)
        .await
        .unwrap());
    assert!(!store
        .replace_ephemeral("refresh", "missing", "v1", "x", now + 600, now)
        .await
        .unwrap());
    assert_eq!(get("r1", now).await.as_deref(), Some("v1"));

    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                let value = format!("v2-{i}");
                let won = store
                    .replace_ephemeral("refresh", "r1", "v1", &value, now + 600, now)
                    .await
                    .expect("replace_ephemeral");
                won.then_some(value)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for task in tasks {
        winners.extend(task.await.unwrap());
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    // The winner's value and expiry are stored: alive past the old expiry, gone at the new.
    assert_eq!(get("r1", now + 599).await, Some(winners[0].clone()));
    assert_eq!(get("r1", now + 600).await, None);

    // The chain goes on from the new value only.
    assert!(store
        .replace_ephemeral("refresh", "r1", &winners[0], "v3", now + 300, now)
        .await
        .unwrap());
    assert!(!store
        .replace_ephemeral("refresh", "r1", &winners[0], "v4", now + 300, now)
        .await
        .unwrap());
    assert_eq!(get("r1", now).await.as_deref(), Some("v3"));

    // An expired row is not live: it is not replaced, even with the right expectation.
    store
        .put_ephemeral("refresh", "old", "x", now + 5, now)
        .await
        .unwrap();
    assert!(!store
        .replace_ephemeral("refresh", "old", "x", "y", now + 600, now + 5)
        .await
        .unwrap());
    assert_eq!(get("old", now).await.as_deref(), Some("x"));
}

/// Listing by id prefix (prefix characters are literal, never wildcards), and deleting.
pub async fn ephemeral_list_and_delete(store: Arc<dyn Store>) {
    let now = cognate::core::now();
    for (id, expires) in [
        ("user:alice:2", now + 200),
        ("user:alice:1", now + 100),
        ("user:alice:0", now - 1),
        ("user:al_ce:1", now + 100),
        ("user:al%ce:1", now + 100),
        ("user:alicé:1", now + 100),
        ("user:bob:1", now + 100),
    ] {
        store
            .put_ephemeral("session", id, &format!("value of {id}"), expires, now)
            .await
            .unwrap();
    }
    store
        .put_ephemeral("other", "user:alice:3", "v", now + 100, now)
        .await
        .unwrap();
    let ids = |prefix: &'static str, limit: u32| {
        let store = store.clone();
        async move {
            store
                .list_ephemeral("session", prefix, now, limit)
                .await
                .unwrap()
                .into_iter()
                .map(|(id, _, _)| id)
                .collect::<Vec<_>>()
        }
    };

    let alice = store
        .list_ephemeral("session", "user:alice:", now, 10)
        .await
        .unwrap();
    assert_eq!(
        alice,
        [
            (
                "user:alice:1".to_string(),
                "value of user:alice:1".to_string(),
                now + 100
            ),
            (
                "user:alice:2".to_string(),
                "value of user:alice:2".to_string(),
                now + 200
            ),
        ],
        "live rows of this kind only, ordered by id"
    );
    assert_eq!(ids("user:al_ce:", 10).await, ["user:al_ce:1"]);
    assert_eq!(ids("user:al%", 10).await, ["user:al%ce:1"]);
    assert_eq!(ids("user:alic", 10).await.len(), 3);
    assert_eq!(ids("user:alicé", 10).await, ["user:alicé:1"]);
    // Byte order: '%' < '_' < 'i' < 'é', then "bob".
    assert_eq!(
        ids("", 10).await,
        [
            "user:al%ce:1",
            "user:al_ce:1",
            "user:alice:1",
            "user:alice:2",
            "user:alicé:1",
            "user:bob:1"
        ]
    );
    assert_eq!(ids("user:", 2).await, ["user:al%ce:1", "user:al_ce:1"]);
    assert!(ids("user:", 0).await.is_empty());
    assert!(ids("nobody", 10).await.is_empty());

    assert!(store
        .delete_ephemeral("session", "user:alice:1")
        .await
        .unwrap());
    assert!(!store
        .delete_ephemeral("session", "user:alice:1")
        .await
        .unwrap());
    assert_eq!(ids("user:alice:", 10).await, ["user:alice:2"]);
    // An expired row not yet purged is deleted too; other kinds are untouched.
    assert!(store
        .delete_ephemeral("session", "user:alice:0")
        .await
        .unwrap());
    assert!(store
        .get_ephemeral("other", "user:alice:3", now)
        .await
        .unwrap()
        .is_some());
}
