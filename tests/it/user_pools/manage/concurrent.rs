//! Writes of one pool from two nodes at once: two in-process servers over one PostgreSQL
//! schema (behind a load balancer), a Terraform-like burst of CreateIdentityProvider,
//! AddCustomAttributes and UpdateUserPool calls split across both. The pool is one stored
//! document; every change is a compare-and-swap re-applied on conflict, so all of them
//! survive, and of two creates of one name exactly one wins (the other is refused, not
//! lost silently). The honest single create on the other node comes first.

use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, IdentityProviderTypeType as T, SchemaAttributeType,
};
use aws_sdk_cognitoidentityprovider::Client;

use crate::support::pg::PgNodeEnv;
use crate::support::server::TestServer;
use crate::user_pools::client_with;
use crate::user_pools::users::refusal;

/// How many providers and custom attributes the burst creates.
const PROVIDERS: usize = 16;
const ATTRIBUTES: usize = 6;

async fn create_provider(admin: &Client, pool: &str, name: String) -> Result<(), (String, String)> {
    admin
        .create_identity_provider()
        .user_pool_id(pool)
        .provider_name(name)
        .provider_type(T::Oidc)
        .provider_details("client_id", "c")
        .provider_details("client_secret", "s")
        .provider_details("oidc_issuer", "https://login.corp.example")
        .provider_details("authorize_scopes", "openid")
        .send()
        .await
        .map(|_| ())
        .map_err(|e| refusal(e.as_service_error().expect("a service error")))
}

async fn add_attribute(admin: &Client, pool: &str, name: String) -> Result<(), (String, String)> {
    admin
        .add_custom_attributes()
        .user_pool_id(pool)
        .custom_attributes(
            SchemaAttributeType::builder()
                .name(name)
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .build(),
        )
        .send()
        .await
        .map(|_| ())
        .map_err(|e| refusal(e.as_service_error().expect("a service error")))
}

#[tokio::test]
async fn pool_changes_sent_to_two_nodes_at_once_all_survive() {
    let Some(pg) = PgNodeEnv::new("pool_cas").await else {
        return;
    };
    let env = pg.with(&[]);
    let a = TestServer::start_with("", "", &env).await;
    let b = TestServer::start_with("", "", &env).await;
    assert_eq!(a.node.store.engine(), "postgres");
    // One operator key, stored in the shared database: both nodes accept it.
    let key = crate::aws_edge::make_key(&a, None, None).await;
    let on_a = client_with(&a.base, &key.access_key_id, key.secret.expose());
    let on_b = client_with(&b.base, &key.access_key_id, key.secret.expose());
    let pool = on_a
        .create_user_pool()
        .pool_name("terraformed")
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .expect("Id");

    // The honest single create, on the node that did not make the pool.
    create_provider(&on_b, &pool, "First".into())
        .await
        .expect("a single CreateIdentityProvider");
    assert!(a.pool(&pool).await.identity_provider("First").is_some());

    // The burst: providers and custom attributes split across both nodes, with two
    // UpdateUserPool calls among them (which must not wipe what the others add).
    let providers = (0..PROVIDERS).map(|n| {
        let admin = if n % 2 == 0 { &on_a } else { &on_b };
        create_provider(admin, &pool, format!("Corp{n}"))
    });
    let attributes = (0..ATTRIBUTES).map(|n| {
        let admin = if n % 2 == 0 { &on_b } else { &on_a };
        add_attribute(admin, &pool, format!("attr{n}"))
    });
    let updates = [&on_a, &on_b].map(|admin| {
        let pool = pool.clone();
        async move {
            admin
                .update_user_pool()
                .user_pool_id(pool)
                .pool_name("terraformed")
                .deletion_protection(
                    aws_sdk_cognitoidentityprovider::types::DeletionProtectionType::Active,
                )
                .send()
                .await
                .map(|_| ())
                .map_err(|e| refusal(e.as_service_error().expect("a service error")))
        }
    });
    let (providers, attributes, updates) = tokio::join!(
        futures::future::join_all(providers),
        futures::future::join_all(attributes),
        futures::future::join_all(updates),
    );
    for result in providers.iter().chain(&attributes).chain(&updates) {
        assert_eq!(result, &Ok(()));
    }

    // Every change is in the stored pool, whichever node reads it.
    for node in [&a, &b] {
        let stored = node.pool(&pool).await;
        for n in 0..PROVIDERS {
            let name = format!("Corp{n}");
            assert!(stored.identity_provider(&name).is_some(), "{name} was lost");
        }
        assert!(stored.identity_provider("First").is_some());
        assert_eq!(stored.identity_providers.len(), PROVIDERS + 1);
        for n in 0..ATTRIBUTES {
            let name = format!("attr{n}");
            assert!(
                stored.custom_attributes.iter().any(|c| c.name == name),
                "custom:{name} was lost"
            );
        }
        assert!(stored.deletion_protection);
    }
    let listed = on_b
        .list_identity_providers()
        .user_pool_id(&pool)
        .max_results(60)
        .send()
        .await
        .expect("ListIdentityProviders");
    assert_eq!(listed.providers().len(), PROVIDERS + 1);

    // A conflicting change: one name created on both nodes at once. Exactly one wins; the
    // other is refused as a duplicate, never silently overwritten.
    let (one, other) = tokio::join!(
        create_provider(&on_a, &pool, "Twice".into()),
        create_provider(&on_b, &pool, "Twice".into()),
    );
    let mut outcomes = [one, other];
    outcomes.sort();
    assert_eq!(outcomes[0], Ok(()), "{outcomes:?}");
    let (code, _) = outcomes[1]
        .clone()
        .expect_err("the second create is refused");
    assert_eq!(code, "DuplicateProviderException", "{outcomes:?}");
    let stored = b.pool(&pool).await;
    assert_eq!(
        stored
            .identity_providers
            .iter()
            .filter(|p| p.name == "Twice")
            .count(),
        1
    );

    a.stop().await;
    b.stop().await;
    pg.cleanup().await;
}

/// CreateUserPool sent to two nodes at once at the quota (`max_user_pools = 4` here, a
/// real setting; Cognito's is 1,000): the store counts and inserts under one lock, so the
/// pools never outnumber the quota whichever node each create reaches, and the creates
/// past it are Cognito's LimitExceededException.
#[tokio::test]
async fn the_pool_quota_holds_against_a_burst_on_two_nodes() {
    const QUOTA: usize = 4;
    const BURST: usize = 12;
    let Some(pg) = PgNodeEnv::new("pool_quota").await else {
        return;
    };
    let env = pg.with(&[]);
    let settings = format!("max_user_pools = {QUOTA}");
    let a = TestServer::start_with("", &settings, &env).await;
    let b = TestServer::start_with("", &settings, &env).await;
    let key = crate::aws_edge::make_key(&a, None, None).await;
    let on_a = client_with(&a.base, &key.access_key_id, key.secret.expose());
    let on_b = client_with(&b.base, &key.access_key_id, key.secret.expose());
    let count = || async { a.node.store.list_pools().await.unwrap().len() };
    let create = |admin: Client, n: usize| async move {
        admin
            .create_user_pool()
            .pool_name(format!("burst {n}"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| refusal(e.as_service_error().expect("a service error")))
    };

    // The honest single create passes while there is room.
    let before = count().await;
    assert!(before < QUOTA - 1, "{before} pools at start");
    create(on_b.clone(), 0)
        .await
        .expect("a single CreateUserPool");
    let room = QUOTA - before - 1;

    let burst = (1..=BURST).map(|n| {
        let admin = if n % 2 == 0 {
            on_a.clone()
        } else {
            on_b.clone()
        };
        create(admin, n)
    });
    let outcomes = futures::future::join_all(burst).await;
    let created = outcomes.iter().filter(|o| o.is_ok()).count();
    assert_eq!(created, room, "{outcomes:?}");
    for refused in outcomes.iter().filter_map(|o| o.as_ref().err()) {
        assert_eq!(refused.0, "LimitExceededException", "{refused:?}");
    }
    assert_eq!(count().await, QUOTA, "never past the quota");
    let listed = on_a
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("ListUserPools");
    assert_eq!(listed.user_pools().len(), QUOTA);

    a.stop().await;
    b.stop().await;
    pg.cleanup().await;
}
