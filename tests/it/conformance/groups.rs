//! Groups and memberships.

use std::sync::Arc;

use cognate::core::ids::new_sub;
use cognate::store::{Store, StoreError};

use super::fixtures::*;

pub async fn groups_and_memberships(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    let missing = store.put_group(&group("us-east-1_Nope", "g", None)).await;
    assert!(
        matches!(missing, Err(StoreError::MissingParent(_))),
        "{missing:?}"
    );
    for (name, precedence) in [
        ("zeta", Some(5)),
        ("alpha", Some(10)),
        ("beta", None),
        ("admins", None),
        ("ops", Some(1)),
    ] {
        store
            .put_group(&group(&p.id, name, precedence))
            .await
            .unwrap();
    }
    let mut updated = group(&p.id, "alpha", Some(0));
    updated.description = Some("first now".into());
    store.put_group(&updated).await.unwrap();
    assert_eq!(
        store.get_group(&p.id, "alpha").await.unwrap(),
        Some(updated.clone())
    );
    assert_eq!(store.get_group(&p.id, "nope").await.unwrap(), None);
    let names: Vec<String> = store
        .list_groups(&p.id)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(names, ["admins", "alpha", "beta", "ops", "zeta"]);

    let u = store.create_user(&user(&p, "alice", &[])).await.unwrap();
    let v = store.create_user(&user(&p, "bob", &[])).await.unwrap();
    let no_group = store.add_member(&p.id, "nope", &u.sub).await;
    assert!(
        matches!(no_group, Err(StoreError::MissingParent("group"))),
        "{no_group:?}"
    );
    let no_user = store.add_member(&p.id, "ops", &new_sub()).await;
    assert!(
        matches!(no_user, Err(StoreError::MissingParent("user"))),
        "{no_user:?}"
    );
    for g in ["zeta", "alpha", "beta", "admins", "ops"] {
        store.add_member(&p.id, g, &u.sub).await.unwrap();
    }
    store.add_member(&p.id, "ops", &u.sub).await.unwrap(); // idempotent
    store.add_member(&p.id, "ops", &v.sub).await.unwrap();

    // By precedence, lowest first, groups without one last, ties by name.
    let order: Vec<String> = store
        .groups_of_user(&p.id, &u.sub)
        .await
        .unwrap()
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(order, ["alpha", "ops", "zeta", "admins", "beta"]);

    let members = store
        .members_of_group(&p.id, "ops", &page(1, None))
        .await
        .unwrap();
    assert_eq!(members.items.len(), 1);
    let rest = store
        .members_of_group(&p.id, "ops", &page(1, members.next))
        .await
        .unwrap();
    assert_eq!(rest.next, None);
    let mut both = vec![members.items[0].clone(), rest.items[0].clone()];
    both.sort();
    let mut want = vec![u.sub.clone(), v.sub.clone()];
    want.sort();
    assert_eq!(both, want);

    assert!(store.remove_member(&p.id, "zeta", &u.sub).await.unwrap());
    assert!(!store.remove_member(&p.id, "zeta", &u.sub).await.unwrap());
    assert_eq!(store.groups_of_user(&p.id, &u.sub).await.unwrap().len(), 4);

    // Deleting the user removes its memberships; deleting a group removes its members.
    assert!(store.delete_user(&p.id, &u.sub).await.unwrap());
    assert!(store
        .groups_of_user(&p.id, &u.sub)
        .await
        .unwrap()
        .is_empty());
    let ops = store
        .members_of_group(&p.id, "ops", &page(10, None))
        .await
        .unwrap();
    assert_eq!(ops.items, vec![v.sub.clone()]);
    assert!(store.delete_group(&p.id, "ops").await.unwrap());
    assert!(!store.delete_group(&p.id, "ops").await.unwrap());
    assert!(store
        .groups_of_user(&p.id, &v.sub)
        .await
        .unwrap()
        .is_empty());
    // A recreated group starts empty.
    store
        .put_group(&group(&p.id, "ops", Some(1)))
        .await
        .unwrap();
    let ops = store
        .members_of_group(&p.id, "ops", &page(10, None))
        .await
        .unwrap();
    assert!(ops.items.is_empty());
}

/// Bulk memberships (import): idempotent, duplicates in one batch included, and all or
/// nothing when a group or user is missing.
pub async fn bulk_memberships(store: Arc<dyn Store>) {
    let p = with_pool(&store, "us-east-1_Pool1", false).await;
    for g in ["ops", "dev"] {
        store.put_group(&group(&p.id, g, None)).await.unwrap();
    }
    let u = store.create_user(&user(&p, "alice", &[])).await.unwrap();
    let v = store.create_user(&user(&p, "bob", &[])).await.unwrap();
    let pair = |g: &str, s: &str| (g.to_string(), s.to_string());
    store.add_members(&p.id, &[]).await.unwrap();

    // A missing group or user fails the whole batch: nothing of it is added.
    for bad in [pair("nope", &u.sub), pair("ops", &new_sub())] {
        let batch = [pair("ops", &u.sub), bad, pair("dev", &v.sub)];
        let refused = store.add_members(&p.id, &batch).await;
        assert!(
            matches!(refused, Err(StoreError::MissingParent("group or user"))),
            "{refused:?}"
        );
        assert!(store
            .groups_of_user(&p.id, &u.sub)
            .await
            .unwrap()
            .is_empty());
        assert!(store
            .groups_of_user(&p.id, &v.sub)
            .await
            .unwrap()
            .is_empty());
    }

    // The corrected batch, with a pair twice and one already stored, adds each once.
    store.add_member(&p.id, "dev", &v.sub).await.unwrap();
    let batch = [
        pair("ops", &u.sub),
        pair("dev", &u.sub),
        pair("ops", &u.sub),
        pair("dev", &v.sub),
    ];
    store.add_members(&p.id, &batch).await.unwrap();
    store.add_members(&p.id, &batch).await.unwrap();
    let names = |groups: Vec<cognate::core::model::Group>| -> Vec<String> {
        groups.into_iter().map(|g| g.name).collect()
    };
    assert_eq!(
        names(store.groups_of_user(&p.id, &u.sub).await.unwrap()),
        ["dev", "ops"]
    );
    assert_eq!(
        names(store.groups_of_user(&p.id, &v.sub).await.unwrap()),
        ["dev"]
    );
    let ops = store
        .members_of_group(&p.id, "ops", &page(10, None))
        .await
        .unwrap();
    assert_eq!(ops.items, vec![u.sub.clone()]);
}
