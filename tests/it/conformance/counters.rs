//! Brute-force and rate-limit counters: fixed windows, no lost increments, prefixes.

use std::sync::Arc;

use cognate::store::Store;

/// A counter counts within its window and restarts once the window has passed.
pub async fn counters_count_within_a_window(store: Arc<dyn Store>) {
    let now = cognate::core::now();
    let key = "login:us-east-1_Pool1:alice";
    assert_eq!(store.get_counter(key, now).await.unwrap(), None);
    assert_eq!(
        store.increment_counter(key, now + 60, now).await.unwrap(),
        1
    );
    // A live counter keeps its window, whatever the caller proposes.
    assert_eq!(
        store
            .increment_counter(key, now + 999, now + 1)
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store.get_counter(key, now + 59).await.unwrap(),
        Some((2, now + 60))
    );
    // Expired from expires_at on: invisible, and the next increment restarts it.
    assert_eq!(store.get_counter(key, now + 60).await.unwrap(), None);
    assert_eq!(
        store
            .increment_counter(key, now + 120, now + 60)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store.get_counter(key, now + 60).await.unwrap(),
        Some((1, now + 120))
    );
    // Keys are independent.
    let other = "login:us-east-1_Pool1:bob";
    assert_eq!(
        store.increment_counter(other, now + 60, now).await.unwrap(),
        1
    );
    assert_eq!(
        store.get_counter(key, now + 60).await.unwrap(),
        Some((1, now + 120))
    );
}

/// Twenty nodes count one failure each at once: none is lost, and each sees its own
/// number. Also when the counter is new, and when it restarts an expired window.
pub async fn counters_concurrent_increments(store: Arc<dyn Store>) {
    let now = cognate::core::now();
    let race = |key: &'static str, at: i64| {
        let store = store.clone();
        async move {
            let tasks: Vec<_> = (0..20)
                .map(|_| {
                    let store = store.clone();
                    tokio::spawn(async move { store.increment_counter(key, at + 60, at).await })
                })
                .collect();
            let mut seen = Vec::new();
            for task in tasks {
                seen.push(task.await.unwrap().expect("increment_counter"));
            }
            seen.sort_unstable();
            seen
        }
    };
    let expected: Vec<i64> = (1..=20).collect();

    assert_eq!(race("new", now).await, expected);
    assert_eq!(
        store.get_counter("new", now).await.unwrap(),
        Some((20, now + 60))
    );

    for _ in 0..5 {
        store
            .increment_counter("restart", now + 10, now)
            .await
            .unwrap();
    }
    assert_eq!(race("restart", now + 10).await, expected);
    assert_eq!(
        store.get_counter("restart", now + 10).await.unwrap(),
        Some((20, now + 70))
    );
}

/// Listing and deleting by key prefix; keys carry user-provided text, so `%` and `_` in a
/// prefix are literal characters.
pub async fn counters_by_prefix(store: Arc<dyn Store>) {
    let now = cognate::core::now();
    for key in [
        "user:p1:alice",
        "user:p1:alice",
        "user:p1:al_ce",
        "user:p1:al%ce",
        "user:p1:alicé",
        "user:p2:alice",
        "ip:192.0.2.1",
    ] {
        store.increment_counter(key, now + 60, now).await.unwrap();
    }
    // Born expired: counted by deletes, never listed.
    store
        .increment_counter("user:p1:old", now, now)
        .await
        .unwrap();
    let list = |prefix: &'static str, limit: u32| {
        let store = store.clone();
        async move { store.list_counters(prefix, now, limit).await.unwrap() }
    };
    let keys = |prefix: &'static str| {
        let list = list(prefix, 100);
        async move {
            list.await
                .into_iter()
                .map(|(key, _, _)| key)
                .collect::<Vec<_>>()
        }
    };

    assert_eq!(
        list("user:p1:", 100).await,
        [
            ("user:p1:al%ce".to_string(), 1, now + 60),
            ("user:p1:al_ce".to_string(), 1, now + 60),
            ("user:p1:alice".to_string(), 2, now + 60),
            ("user:p1:alicé".to_string(), 1, now + 60),
        ],
        "live counters under the prefix, in byte order"
    );
    assert_eq!(keys("user:p1:al_").await, ["user:p1:al_ce"]);
    assert_eq!(keys("user:p1:al%").await, ["user:p1:al%ce"]);
    assert_eq!(keys("user:p1:alice").await, ["user:p1:alice"]);
    assert_eq!(keys("").await.len(), 6);
    assert_eq!(list("user:", 2).await.len(), 2);
    assert!(list("user:", 0).await.is_empty());

    // Deleting by a prefix with a wildcard character deletes only literal matches.
    assert_eq!(store.delete_counters("user:p1:al_").await.unwrap(), 1);
    assert_eq!(store.delete_counters("user:p1:al%").await.unwrap(), 1);
    assert_eq!(keys("user:p1:").await, ["user:p1:alice", "user:p1:alicé"]);
    // Live and expired alike.
    assert_eq!(store.delete_counters("user:p1:").await.unwrap(), 3);
    assert_eq!(store.delete_counters("user:p1:").await.unwrap(), 0);
    assert_eq!(store.delete_counters("nothing").await.unwrap(), 0);
    assert_eq!(keys("").await, ["ip:192.0.2.1", "user:p2:alice"]);
    assert_eq!(store.delete_counters("").await.unwrap(), 2);
    assert!(keys("").await.is_empty());
}

/// Purging removes expired counters along with expired ephemeral values.
pub async fn purge_removes_expired_counters(store: Arc<dyn Store>) {
    let now = cognate::core::now();
    store
        .increment_counter("short", now + 10, now)
        .await
        .unwrap();
    store
        .increment_counter("long", now + 100, now)
        .await
        .unwrap();
    store
        .put_ephemeral("code", "c", "v", now + 10, now)
        .await
        .unwrap();
    assert_eq!(store.purge_ephemeral(now).await.unwrap(), 0);
    assert_eq!(store.purge_ephemeral(now + 10).await.unwrap(), 2);
    assert_eq!(store.purge_ephemeral(now + 10).await.unwrap(), 0);
    // Purged means gone, not merely invisible: an earlier `now` cannot see it again.
    assert_eq!(store.get_counter("short", now).await.unwrap(), None);
    assert_eq!(
        store.get_counter("long", now).await.unwrap(),
        Some((1, now + 100))
    );
    assert_eq!(
        store.list_counters("", now + 10, 10).await.unwrap(),
        [("long".to_string(), 1, now + 100)]
    );
    assert_eq!(store.purge_ephemeral(now + 100).await.unwrap(), 1);
    assert!(store.list_counters("", now, 10).await.unwrap().is_empty());
}
