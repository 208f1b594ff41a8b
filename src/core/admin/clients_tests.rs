//! The service's client writes of the user pools API: creation within the pool's quota,
//! update and delete of API clients beside the refusals of file-owned ones and of another
//! pool's.

use super::super::tests::{client, pool, service};
use super::*;
use crate::core::model::Origin;

#[tokio::test]
async fn creation_refuses_a_taken_id_and_the_pools_thousand_and_first_client() {
    let (_dir, admin) = service().await;
    admin.create_pool(&pool()).await.unwrap();
    admin.create_client(&client()).await.unwrap();
    assert!(matches!(
        admin.create_client(&client()).await,
        Err(AdminError::Exists {
            kind: RecordKind::Client,
            ..
        })
    ));
    // Fill the pool to Cognito's quota straight in the store.
    for k in 1..MAX_CLIENTS_PER_POOL {
        let mut c = client();
        c.id = format!("filler{k}");
        admin.store().put_client(&c).await.unwrap();
    }
    let mut one_more = client();
    one_more.id = "onetoomany".into();
    let err = admin.create_client(&one_more).await.unwrap_err();
    let errors = err.field_errors();
    assert_eq!(errors.len(), 1, "{err}");
    assert_eq!(errors[0].rule, Rule::Limit);
    assert!(errors[0].message.contains("1000"), "{err}");
    assert!(admin
        .store()
        .get_client("onetoomany")
        .await
        .unwrap()
        .is_none());
    // An existing client is still updated at the quota.
    let mut renamed = client();
    renamed.name = "renamed".into();
    admin.update_client(&renamed, Origin::Api).await.unwrap();
    // One deleted, one created.
    admin
        .delete_client_by(POOL_ID, "filler1", Origin::Api)
        .await
        .unwrap();
    admin.create_client(&one_more).await.unwrap();
}

const POOL_ID: &str = "us-east-1_AdminTest";

#[tokio::test]
async fn update_keeps_id_secret_origin_and_creation_and_refuses_file_clients() {
    let (_dir, admin) = service().await;
    admin.create_pool(&pool()).await.unwrap();
    let mut stored = client();
    stored.created_at = 5;
    admin.create_client(&stored).await.unwrap();

    let mut update = client();
    update.name = "new name".into();
    update.created_at = 99;
    update.origin = Origin::Config;
    update.logout_urls.clear();
    let updated = admin.update_client(&update, Origin::Api).await.unwrap();
    assert_eq!(updated.name, "new name");
    assert_eq!(updated.created_at, 5, "creation time kept");
    assert_eq!(updated.origin, Origin::Api, "origin kept");
    assert!(updated.logout_urls.is_empty());
    assert_eq!(
        admin.store().get_client("webclient1").await.unwrap(),
        Some(updated)
    );

    // A file-owned client: refused to the API, through update and delete alike.
    let mut file = client();
    file.id = "fileclient".into();
    file.origin = Origin::Config;
    admin.put_client(&file).await.unwrap();
    let mut change = file.clone();
    change.name = "changed".into();
    assert!(matches!(
        admin.update_client(&change, Origin::Api).await,
        Err(AdminError::ConfigOwned { .. })
    ));
    assert!(matches!(
        admin
            .delete_client_by(POOL_ID, "fileclient", Origin::Api)
            .await,
        Err(AdminError::ConfigOwned { .. })
    ));
    assert_eq!(
        admin.store().get_client("fileclient").await.unwrap(),
        Some(file),
        "untouched"
    );

    // Another pool's client is unknown here; an unknown pool is named as such.
    let mut other_pool = pool();
    other_pool.id = "us-east-1_Other".into();
    admin.create_pool(&other_pool).await.unwrap();
    let mut elsewhere = client();
    elsewhere.pool_id = other_pool.id.clone();
    assert!(matches!(
        admin.update_client(&elsewhere, Origin::Api).await,
        Err(AdminError::NotFound {
            kind: RecordKind::Client,
            ..
        })
    ));
    assert!(matches!(
        admin
            .delete_client_by("us-east-1_Other", "webclient1", Origin::Api)
            .await,
        Err(AdminError::NotFound {
            kind: RecordKind::Client,
            ..
        })
    ));
    assert!(matches!(
        admin.stored_client("us-east-1_Nope", "webclient1").await,
        Err(AdminError::NotFound {
            kind: RecordKind::Pool,
            ..
        })
    ));
    admin
        .delete_client_by(POOL_ID, "webclient1", Origin::Api)
        .await
        .unwrap();
    assert!(admin
        .store()
        .get_client("webclient1")
        .await
        .unwrap()
        .is_none());
}
