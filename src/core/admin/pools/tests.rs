//! The pool service's API writes: config ownership, deletion protection, custom attributes
//! and the quotas, each refusal beside the honest write.

use super::super::tests::{pool, service};
use super::*;

/// The fixture pool's id.
const POOL_ID: &str = "us-east-1_AdminTest";

fn custom(name: &str) -> CustomAttribute {
    CustomAttribute {
        name: name.into(),
        data_type: Default::default(),
        mutable: true,
        min_length: None,
        max_length: None,
        min_value: None,
        max_value: None,
    }
}

#[tokio::test]
async fn config_owned_pools_refuse_api_writes_and_api_pools_take_them() {
    let (_dir, admin) = service().await;
    let mut owned = pool();
    owned.origin = Origin::Config;
    admin.create_pool(&owned).await.unwrap();
    let rename = |name: &'static str| {
        move |p: &mut UserPool| {
            p.name = name.into();
            Ok::<_, AdminError>(())
        }
    };
    assert!(matches!(
        admin
            .update_pool_by(&owned.id, Origin::Api, rename("renamed"))
            .await,
        Err(AdminError::ConfigOwned { .. })
    ));
    assert!(matches!(
        admin.delete_pool_by(&owned.id, Origin::Api).await,
        Err(AdminError::ConfigOwned { .. })
    ));
    assert!(matches!(
        admin
            .add_custom_attributes(&owned.id, vec![custom("plan")], Origin::Api, 2)
            .await,
        Err(AdminError::ConfigOwned { .. })
    ));
    let stored = admin.require_pool(&owned.id).await.unwrap();
    assert_eq!(
        stored,
        UserPool {
            version: 1,
            ..owned.clone()
        }
    );
    // The file itself may change its pool.
    let updated = admin
        .update_pool_by(&owned.id, Origin::Config, rename("renamed"))
        .await
        .unwrap();
    assert_eq!(updated.name, "renamed");
    assert_eq!(updated.origin, Origin::Config);

    // The same writes on a pool the API made.
    let mut api = pool();
    api.id = "us-east-1_ApiOwned1".into();
    admin.create_pool(&api).await.unwrap();
    let updated = admin
        .update_pool_by(&api.id, Origin::Api, rename("api renamed"))
        .await
        .unwrap();
    assert_eq!(updated.name, "api renamed");
    let added = admin
        .add_custom_attributes(&api.id, vec![custom("plan")], Origin::Api, 5)
        .await
        .unwrap();
    assert_eq!(added.custom_attributes.len(), 2);
    assert_eq!(added.updated_at, 5);
    assert!(admin.delete_pool_by(&api.id, Origin::Api).await.unwrap());
    assert!(!admin.delete_pool_by(&api.id, Origin::Api).await.unwrap());
}

#[tokio::test]
async fn deletion_protection_refuses_the_delete_until_it_is_turned_off() {
    let (_dir, admin) = service().await;
    let mut protected = pool();
    protected.deletion_protection = true;
    admin.create_pool(&protected).await.unwrap();
    let err = admin
        .delete_pool_by(&protected.id, Origin::Api)
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].path, "deletion_protection");
    assert!(
        err.to_string().contains("deletion protection is activated"),
        "{err}"
    );
    assert!(admin
        .store()
        .get_pool(&protected.id)
        .await
        .unwrap()
        .is_some());
    admin
        .update_pool_by(&protected.id, Origin::Api, |p| {
            p.deletion_protection = false;
            Ok::<_, AdminError>(())
        })
        .await
        .unwrap();
    assert!(admin.delete_pool_by(POOL_ID, Origin::Api).await.unwrap());
}

#[tokio::test]
async fn custom_attributes_are_added_once_and_at_most_fifty() {
    let (_dir, admin) = service().await;
    admin.create_pool(&pool()).await.unwrap();
    // The fixture has custom:tenant_id: adding it again is refused, by its index.
    let err = admin
        .add_custom_attributes(POOL_ID, vec![custom("tenant_id")], Origin::Api, 2)
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].path, "custom_attributes[1].name");
    assert!(err.to_string().contains("custom:tenant_id"), "{err}");
    // A bad name is the pool rule's refusal.
    let err = admin
        .add_custom_attributes(POOL_ID, vec![custom("has space")], Origin::Api, 2)
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].path, "custom_attributes[1].name");
    let err = admin
        .add_custom_attributes(POOL_ID, vec![custom(&"x".repeat(21))], Origin::Api, 2)
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].rule, Rule::Invalid);
    // 49 more make 50; one more is over Cognito's quota.
    let many: Vec<_> = (0..49).map(|i| custom(&format!("a{i}"))).collect();
    admin
        .add_custom_attributes(POOL_ID, many, Origin::Api, 3)
        .await
        .unwrap();
    let err = admin
        .add_custom_attributes(POOL_ID, vec![custom("one_more")], Origin::Api, 4)
        .await
        .unwrap_err();
    assert_eq!(err.field_errors()[0].rule, Rule::Limit);
    assert_eq!(
        admin
            .require_pool(POOL_ID)
            .await
            .unwrap()
            .custom_attributes
            .len(),
        MAX_CUSTOM_ATTRIBUTES
    );
}

#[test]
fn tags_have_cognito_limits() {
    let mut p = pool();
    p.tags.insert("team".into(), "identity".into());
    assert!(validate_pool(&p).is_empty());
    p.tags.insert(String::new(), "x".into());
    p.tags.insert("long".into(), "v".repeat(257));
    let paths: Vec<_> = validate_pool(&p).into_iter().map(|e| e.path).collect();
    assert_eq!(paths, ["tags.", "tags.long"]);
    let mut p = pool();
    p.tags = (0..51).map(|i| (format!("k{i}"), "v".into())).collect();
    assert_eq!(validate_pool(&p)[0].path, "tags");
}

#[tokio::test]
async fn the_pool_quota_is_a_thousand() {
    let (_dir, admin) = service().await;
    let mut p = pool();
    for i in 0..MAX_POOLS {
        p.id = format!("us-east-1_Quota{i:04}");
        admin.store().put_pool(&p).await.unwrap();
    }
    p.id = "us-east-1_OneTooMany".into();
    let err = admin.create_pool(&p).await.unwrap_err();
    assert_eq!(err.field_errors()[0].rule, Rule::Limit);
    admin.delete_pool("us-east-1_Quota0000").await.unwrap();
    admin.create_pool(&p).await.unwrap();
}

#[tokio::test]
async fn a_lower_pool_quota_is_counted_with_the_insert() {
    let (_dir, admin) = service().await;
    let admin = admin.with_pool_quota(2);
    let mut p = pool();
    for i in 0..2 {
        p.id = format!("us-east-1_Small{i}");
        admin.create_pool(&p).await.unwrap();
    }
    p.id = "us-east-1_Small2".into();
    let err = admin.create_pool(&p).await.unwrap_err();
    assert_eq!(err.field_errors()[0].rule, Rule::Limit);
    // The store's own check, past the service's quick one.
    assert!(!admin.store().insert_pool(&p, 2).await.unwrap());
    assert!(admin.store().insert_pool(&p, 3).await.unwrap());
    // A second insert of one id is a conflict, never a replacement.
    assert!(matches!(
        admin.store().insert_pool(&p, 10).await,
        Err(StoreError::Conflict(_))
    ));
}

#[test]
fn api_webhooks_stay_off_internal_addresses() {
    use crate::core::model::TriggerKind;
    let with = |url: &str| {
        let mut p = pool();
        p.triggers.0.insert(TriggerKind::PreSignUp, url.to_string());
        p
    };
    let private: Vec<ipnet::IpNet> = vec!["10.1.2.0/24".parse().unwrap()];
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "https://a.localhost/hook",
        "http://[::1]/hook",
    ] {
        let errors = validate_api_webhook_targets(&with(url), false, &[]);
        assert_eq!(errors[0].path, "triggers.pre_sign_up", "{url}");
        assert!(
            errors[0].message.contains("api_webhooks_on_loopback"),
            "{url}"
        );
        // The operator's opt-in lets loopback through.
        assert!(validate_api_webhook_targets(&with(url), true, &[]).is_empty());
    }
    for url in [
        "https://10.0.0.1/",
        "https://169.254.169.254/",
        "https://[fd00::1]/",
    ] {
        let errors = validate_api_webhook_targets(&with(url), true, &private);
        assert!(errors[0].message.contains("not a public address"), "{url}");
    }
    // Public addresses and names pass (names are checked at delivery); so does a listed
    // internal network.
    for url in [
        "https://hooks.example.com/pre",
        "https://93.184.216.34/hook",
        "https://10.1.2.7/hook",
    ] {
        assert!(
            validate_api_webhook_targets(&with(url), false, &private).is_empty(),
            "{url}"
        );
    }
}
