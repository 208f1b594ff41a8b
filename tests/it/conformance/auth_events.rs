//! The auth event log (migration 0013, issue 17): batches written in one call, listings
//! per user and per pool newest first with stable paging, feedback replacing the
//! document, and the retention prune.

use std::sync::Arc;

use cognate::core::model::{
    AuthEvent, AuthEventKind, AuthEventOutcome, EventFeedback, PageRequest,
};
use cognate::store::Store;

use super::fixtures::*;

fn event(id: &str, pool_id: &str, sub: Option<&str>, at: i64) -> AuthEvent {
    AuthEvent {
        id: id.into(),
        pool_id: pool_id.into(),
        sub: sub.map(str::to_string),
        username: sub.unwrap_or("nobody").into(),
        kind: AuthEventKind::SignIn,
        outcome: AuthEventOutcome::Fail,
        challenges: vec!["Password:Failure".into()],
        created_at: at,
        client_id: Some("client".into()),
        address: Some("203.0.113.7".parse().unwrap()),
        user_agent: Some("agent".into()),
        device: None,
        location: None,
        risk: Default::default(),
        feedback: None,
        details: Default::default(),
    }
}

pub async fn auth_events_batches_pages_and_prune(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    // 450 events of alice (three at each second, so paging must break ties by id), 10 of
    // bob, 5 of an unknown login.
    let mut batch: Vec<AuthEvent> = (0..450)
        .map(|i| event(&format!("a{i:04}"), &p.id, Some("alice"), T0 + i / 3))
        .collect();
    batch.extend((0..10).map(|i| event(&format!("b{i:04}"), &p.id, Some("bob"), T0 + i)));
    batch.extend((0..5).map(|i| event(&format!("n{i:04}"), &p.id, None, T0 + i)));
    store.insert_auth_events(&batch).await.unwrap();
    // A retried batch writes nothing twice.
    store.insert_auth_events(&batch[..3]).await.unwrap();

    // Alice's, newest first, in pages of 60: every event once, in order.
    let mut seen = Vec::new();
    let mut req = PageRequest {
        limit: 60,
        after: None,
    };
    loop {
        let page = store
            .list_auth_events(&p.id, Some("alice"), 0, &req)
            .await
            .unwrap();
        seen.extend(page.items);
        match page.next {
            Some(next) => req.after = Some(next),
            None => break,
        }
    }
    assert_eq!(seen.len(), 450);
    assert!(seen
        .windows(2)
        .all(|w| (w[0].created_at, &w[0].id) > (w[1].created_at, &w[1].id)));
    assert_eq!(seen[0], batch[449]);

    // The whole pool's, and only from `since`.
    let all = store
        .list_auth_events(
            &p.id,
            None,
            0,
            &PageRequest {
                limit: 1000,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(all.items.len(), 465);
    let recent = store
        .list_auth_events(&p.id, Some("bob"), T0 + 5, &PageRequest::default())
        .await
        .unwrap();
    assert_eq!(recent.items.len(), 5);
    // Another pool sees none of them.
    let q = with_pool(&store, "us-east-1_Pool2", false).await;
    let none = store
        .list_auth_events(&q.id, None, 0, &PageRequest::default())
        .await
        .unwrap();
    assert!(none.items.is_empty());
    assert_eq!(store.get_auth_event(&q.id, "b0001").await.unwrap(), None);

    // Feedback replaces the document.
    let mut b = store.get_auth_event(&p.id, "b0001").await.unwrap().unwrap();
    b.feedback = Some(EventFeedback {
        value: "Invalid".into(),
        provider: "Admin".into(),
        at: T0 + 100,
    });
    assert!(store.update_auth_event(&b).await.unwrap());
    assert_eq!(store.get_auth_event(&p.id, "b0001").await.unwrap(), Some(b));
    let mut ghost = event("ghost", &p.id, Some("bob"), T0);
    ghost.username = "ghost".into();
    assert!(!store.update_auth_event(&ghost).await.unwrap());

    // The prune removes what is older than its time, nothing else.
    assert_eq!(store.prune_auth_events(T0 + 5).await.unwrap(), 15 + 5 + 5);
    let left = store
        .list_auth_events(
            &p.id,
            None,
            0,
            &PageRequest {
                limit: 1000,
                after: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(left.items.len(), 465 - 25);
    assert!(left.items.iter().all(|e| e.created_at >= T0 + 5));
}
