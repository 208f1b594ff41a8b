//! Applying roles and identity pools: created, unchanged on a second run, updated when the
//! file changes (a role's policy included), adopted by name, pruned only with --prune,
//! and Api-origin records neither taken over nor touched.

use super::super::tests::{config, master, store};
use super::super::{apply as apply_all, Action, ApplyError, Kind};
use crate::config::check::rules::identity_pools::tests::GOOD;
use crate::core::admin::AdminService;
use crate::core::model::{new_identity_id, Origin};
use crate::core::storage::Store;

#[tokio::test]
async fn roles_then_identity_pools_are_applied_and_pruned() {
    let (_dir, store) = store().await;
    let master = master();
    let report = apply_all(&config(GOOD), &*store, &master, false, 100)
        .await
        .unwrap();
    let created: Vec<Kind> = report.with(Action::Created).map(|i| i.kind).collect();
    assert!(
        created.contains(&Kind::Role) && created.contains(&Kind::IdentityPool),
        "{report}"
    );
    let (place, id) = report
        .generated_ids
        .iter()
        .find(|(place, _)| place.starts_with("identity_pools[0]"))
        .cloned()
        .expect("a generated identity pool id");
    assert!(place.contains("app users"), "{place}");
    let pool = store.get_identity_pool(&id).await.unwrap().unwrap();
    assert_eq!(pool.origin, Origin::Config);
    assert_eq!(pool.user_pools[0].pool_id, "us-east-1_Shop12345");
    assert_eq!(pool.user_pools[0].client_id, "webclient1");
    assert!(pool.role_mappings.contains_key("us-east-1_Shop12345"));
    let role = store
        .get_role("arn:aws:iam::123456789012:role/users")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(role.trust.identity_pool_ids, vec![id.clone()]);

    // A second run adopts the pool by name and changes nothing.
    let again = apply_all(&config(GOOD), &*store, &master, false, 200)
        .await
        .unwrap();
    assert!(!again.changed(), "{again}");
    assert!(again
        .generated_ids
        .iter()
        .all(|(p, _)| !p.starts_with("identity_pools")));

    // Editing a role's policy updates it in place (credentials read it at each check).
    let edited = GOOD.replacen(
        r#"policy = '''{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "files:GetObject", "Resource": "*"}]}'''"#,
        r#"policy = '''{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}'''"#,
        1,
    );
    let report = apply_all(&config(&edited), &*store, &master, false, 300)
        .await
        .unwrap();
    assert_eq!(report.count(Action::Updated), 1, "{report}");
    let role = store
        .get_role("arn:aws:iam::123456789012:role/users")
        .await
        .unwrap()
        .unwrap();
    assert!(role.policy.contains("s3:GetObject"));
    assert_eq!(role.updated_at, 300);

    // An Api-origin identity pool is never touched, nor reported.
    let admin = AdminService::new(&*store as &dyn Store);
    let mut api = store.get_identity_pool(&id).await.unwrap().unwrap();
    api.id = new_identity_id("us-east-1");
    api.name = "made by the api".into();
    api.origin = Origin::Api;
    api.roles = Default::default();
    api.role_mappings.clear();
    admin.create_identity_pool(&api).await.unwrap();

    // Dropped from the file: kept without --prune, deleted with it.
    let shop_only = &GOOD[..GOOD.find("[[roles]]").unwrap()];
    let kept = apply_all(&config(shop_only), &*store, &master, false, 400)
        .await
        .unwrap();
    assert_eq!(kept.count(Action::Kept), 3, "{kept}");
    assert!(store.get_identity_pool(&id).await.unwrap().is_some());
    let pruned = apply_all(&config(shop_only), &*store, &master, true, 500)
        .await
        .unwrap();
    assert_eq!(pruned.count(Action::Deleted), 3, "{pruned}");
    assert!(store.get_identity_pool(&id).await.unwrap().is_none());
    assert!(store.list_roles().await.unwrap().is_empty());
    assert_eq!(
        store.get_identity_pool(&api.id).await.unwrap(),
        Some(api.clone())
    );

    // The file cannot take over the Api-origin pool by declaring its id.
    let takeover = GOOD.replace(
        "name = \"app users\"",
        &format!("name = \"app users\"\nid = \"{}\"", api.id),
    );
    let refused = apply_all(&config(&takeover), &*store, &master, false, 600).await;
    assert!(
        matches!(
            refused,
            Err(ApplyError::ApiOwned {
                kind: Kind::IdentityPool,
                ..
            })
        ),
        "{refused:?}"
    );
}
