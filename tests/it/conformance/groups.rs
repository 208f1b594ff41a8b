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
