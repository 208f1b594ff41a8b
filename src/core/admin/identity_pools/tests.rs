//! Identity pool rules, each refusal beside the honest record, and the service over a
//! real (SQLite) store: references to user pools, clients and roles, config ownership,
//! the developer provider name, paging and the identity operations.

use std::collections::BTreeMap;

use super::*;
use crate::core::admin::tests::{client, pool, service};
use crate::core::identity_pools::mapping::{
    AmbiguousRoleResolution, MappingRule, MatchType, RoleMapping, RoleMappingKind,
};
use crate::core::model::{IdentityPoolUserPool, Role, RoleTrust, TrustAmr};

const ID: &str = "us-east-1:0b9b1c9e-1f2a-4c55-9a4e-2f5d7c1a0b3c";
const AUTH: &str = "arn:aws:iam::123456789012:role/users";
const GUEST: &str = "arn:aws:iam::123456789012:role/guests";

fn identity_pool() -> IdentityPool {
    IdentityPool {
        id: ID.into(),
        name: "app users".into(),
        allow_unauthenticated: true,
        allow_classic_flow: false,
        user_pools: vec![IdentityPoolUserPool {
            pool_id: pool().id,
            client_id: client().id,
            server_side_token_check: false,
        }],
        supported_login_providers: BTreeMap::new(),
        developer_provider_name: Some("login.example.app".into()),
        roles: IdentityPoolRoles {
            authenticated: Some(AUTH.into()),
            unauthenticated: Some(GUEST.into()),
        },
        role_mappings: BTreeMap::from([(
            pool().id,
            RoleMapping {
                kind: RoleMappingKind::Rules,
                ambiguous: AmbiguousRoleResolution::AuthenticatedRole,
                rules: vec![MappingRule {
                    claim: "cognito:groups".into(),
                    match_type: MatchType::Contains,
                    value: "admins".into(),
                    role_arn: AUTH.into(),
                }],
            },
        )]),
        tags: BTreeMap::new(),
        upstream_sts_endpoint: None,
        origin: Origin::Api,
        created_at: 1,
        updated_at: 1,
    }
}

fn role(arn: &str, amr: TrustAmr) -> Role {
    Role {
        arn: arn.into(),
        trust: RoleTrust {
            identity_pool_ids: vec![ID.into()],
            amr,
        },
        policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"files:GetObject","Resource":"*"}]}"#.into(),
        max_session_secs: 3600,
        description: None,
        origin: Origin::Config,
        updated_at: 1,
    }
}

fn paths(errors: &[FieldError]) -> Vec<&str> {
    errors.iter().map(|e| e.path.as_str()).collect()
}

#[test]
fn record_rules_each_refusal_beside_the_honest_pool() {
    assert_eq!(validate_identity_pool(&identity_pool()), []);
    let check = |f: &dyn Fn(&mut IdentityPool)| {
        let mut p = identity_pool();
        f(&mut p);
        validate_identity_pool(&p)
    };
    assert_eq!(paths(&check(&|p| p.id = "us-east-1_Abc".into())), ["id"]);
    assert_eq!(paths(&check(&|p| p.name = "bad/name".into())), ["name"]);
    assert_eq!(paths(&check(&|p| p.name = "n".repeat(129))), ["name"]);
    assert_eq!(
        paths(&check(&|p| p.name = "ok_name 2".into())),
        Vec::<&str>::new()
    );
    let dup = check(&|p| p.user_pools.push(p.user_pools[0].clone()));
    assert_eq!(paths(&dup), ["user_pools[1]"]);
    let social = check(&|p| {
        p.supported_login_providers
            .insert("accounts.google.com".into(), "client".into());
    });
    assert_eq!(social[0].rule, Rule::NotSupported);
    assert!(social[0].message.contains("not supported yet"));
    let dev = check(&|p| p.developer_provider_name = Some("has space".into()));
    assert_eq!(paths(&dev), ["developer_provider_name"]);
    let arn = check(&|p| p.roles.authenticated = Some("arn:aws:iam::1:role/x".into()));
    assert_eq!(paths(&arn), ["roles.authenticated"]);
    let unknown_key = check(&|p| {
        let m = p.role_mappings.values().next().cloned().unwrap();
        p.role_mappings.insert("us-east-1_Other".into(), m);
    });
    assert_eq!(paths(&unknown_key), ["role_mappings.us-east-1_Other"]);
    let too_many = check(&|p| {
        let m = p.role_mappings.values_mut().next().unwrap();
        m.rules = vec![m.rules[0].clone(); MAX_RULES + 1];
    });
    assert_eq!(
        paths(&too_many),
        ["role_mappings.us-east-1_AdminTest.rules"]
    );
    let exactly = check(&|p| {
        let m = p.role_mappings.values_mut().next().unwrap();
        m.rules = vec![m.rules[0].clone(); MAX_RULES];
    });
    assert_eq!(exactly, []);
    let token_with_rules = check(&|p| {
        p.role_mappings.values_mut().next().unwrap().kind = RoleMappingKind::Token;
    });
    assert_eq!(token_with_rules[0].rule, Rule::Exclusive);
}

#[tokio::test]
async fn references_must_exist_and_roles_must_trust_the_pool() {
    let (_dir, admin) = service().await;
    // Nothing exists yet: every reference is refused, and nothing is written.
    let err = admin
        .create_identity_pool(&identity_pool())
        .await
        .unwrap_err();
    assert_eq!(
        paths(err.field_errors()),
        [
            "user_pools[0].pool_id",
            "roles.authenticated",
            "roles.unauthenticated",
            "role_mappings.us-east-1_AdminTest.rules[0].role_arn"
        ]
    );
    assert!(admin.store().get_identity_pool(ID).await.unwrap().is_none());

    admin.create_pool(&pool()).await.unwrap();
    // A client of another pool is not this pool's client.
    let mut foreign = identity_pool();
    foreign.user_pools[0].client_id = "nosuchclient".into();
    foreign.role_mappings.clear();
    foreign.roles = IdentityPoolRoles::default();
    let err = admin.create_identity_pool(&foreign).await.unwrap_err();
    assert_eq!(paths(err.field_errors()), ["user_pools[0].client_id"]);
    admin.put_client(&client()).await.unwrap();

    // Roles of the wrong kind, or trusting another pool, are refused by name.
    admin
        .put_role(&role(AUTH, TrustAmr::Unauthenticated))
        .await
        .unwrap();
    let mut other = role(GUEST, TrustAmr::Any);
    other.trust.identity_pool_ids = vec!["us-east-1:11111111-2222-4333-8444-555555555555".into()];
    admin.put_role(&other).await.unwrap();
    let err = admin
        .create_identity_pool(&identity_pool())
        .await
        .unwrap_err();
    let messages: Vec<String> = err
        .field_errors()
        .iter()
        .map(|e| e.message.clone())
        .collect();
    assert_eq!(err.field_errors().len(), 3, "{messages:?}");
    assert!(
        messages[0].contains("trusts only unauthenticated"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("does not trust identity pool"),
        "{messages:?}"
    );

    // The honest roles: the pool is accepted and stored as given.
    admin
        .put_role(&role(AUTH, TrustAmr::Authenticated))
        .await
        .unwrap();
    admin
        .put_role(&role(GUEST, TrustAmr::Unauthenticated))
        .await
        .unwrap();
    admin.create_identity_pool(&identity_pool()).await.unwrap();
    assert_eq!(
        admin.describe_identity_pool(ID).await.unwrap(),
        identity_pool()
    );
    assert!(matches!(
        admin.create_identity_pool(&identity_pool()).await,
        Err(AdminError::Exists {
            kind: RecordKind::IdentityPool,
            ..
        })
    ));
}

async fn ready() -> (tempfile::TempDir, AdminService) {
    let (dir, admin) = service().await;
    admin.create_pool(&pool()).await.unwrap();
    admin.put_client(&client()).await.unwrap();
    admin.put_role(&role(AUTH, TrustAmr::Any)).await.unwrap();
    admin.put_role(&role(GUEST, TrustAmr::Any)).await.unwrap();
    (dir, admin)
}

#[tokio::test]
async fn config_owned_pools_refuse_api_writes_and_accept_the_file() {
    let (_dir, admin) = ready().await;
    let mut declared = identity_pool();
    declared.origin = Origin::Config;
    admin.put_identity_pool(&declared).await.unwrap();

    let mut api = identity_pool();
    api.name = "renamed".into();
    let refused = admin
        .update_identity_pool(api.clone(), 5)
        .await
        .unwrap_err();
    assert!(matches!(
        refused,
        AdminError::ConfigOwned {
            kind: RecordKind::IdentityPool,
            ..
        }
    ));
    assert!(refused
        .to_string()
        .contains("declared in the configuration file; change it there"));
    assert!(matches!(
        admin.delete_identity_pool(ID, Origin::Api).await,
        Err(AdminError::ConfigOwned { .. })
    ));
    let roles = IdentityPoolRoles::default();
    assert!(matches!(
        admin
            .set_identity_pool_roles(ID, roles.clone(), BTreeMap::new(), Origin::Api, 5)
            .await,
        Err(AdminError::ConfigOwned { .. })
    ));
    assert!(matches!(
        admin.put_identity_pool(&api).await,
        Err(AdminError::ConfigOwned { .. })
    ));
    assert_eq!(admin.describe_identity_pool(ID).await.unwrap(), declared);

    // The file itself may change and delete it.
    let mut edited = declared.clone();
    edited.name = "renamed".into();
    admin.put_identity_pool(&edited).await.unwrap();
    assert_eq!(
        admin.describe_identity_pool(ID).await.unwrap().name,
        "renamed"
    );
    assert!(admin
        .delete_identity_pool(ID, Origin::Config)
        .await
        .unwrap());
    assert!(!admin
        .delete_identity_pool(ID, Origin::Config)
        .await
        .unwrap());
}

#[tokio::test]
async fn update_keeps_roles_and_the_developer_name_is_immutable() {
    let (_dir, admin) = ready().await;
    admin.create_identity_pool(&identity_pool()).await.unwrap();
    let mut update = identity_pool();
    update.roles = IdentityPoolRoles::default();
    update.role_mappings.clear();
    update.allow_classic_flow = true;
    update.created_at = 99;
    let stored = admin.update_identity_pool(update.clone(), 7).await.unwrap();
    assert!(stored.allow_classic_flow);
    assert_eq!(stored.roles, identity_pool().roles);
    assert_eq!(stored.role_mappings, identity_pool().role_mappings);
    assert_eq!((stored.created_at, stored.updated_at), (1, 7));

    update.developer_provider_name = Some("other.example.app".into());
    let err = admin
        .update_identity_pool(update.clone(), 8)
        .await
        .unwrap_err();
    assert_eq!(paths(err.field_errors()), ["developer_provider_name"]);
    update.developer_provider_name = None;
    assert!(admin.update_identity_pool(update, 8).await.is_err());

    // SetIdentityPoolRoles replaces both, checked; GetIdentityPoolRoles reads them back.
    let roles = IdentityPoolRoles {
        authenticated: Some(AUTH.into()),
        unauthenticated: None,
    };
    let bad = IdentityPoolRoles {
        authenticated: Some("arn:aws:iam::123456789012:role/nobody".into()),
        unauthenticated: None,
    };
    let err = admin
        .set_identity_pool_roles(ID, bad, BTreeMap::new(), Origin::Api, 9)
        .await
        .unwrap_err();
    assert_eq!(paths(err.field_errors()), ["roles.authenticated"]);
    admin
        .set_identity_pool_roles(ID, roles.clone(), BTreeMap::new(), Origin::Api, 9)
        .await
        .unwrap();
    assert_eq!(
        admin.get_identity_pool_roles(ID).await.unwrap(),
        (roles, BTreeMap::new())
    );
}

#[tokio::test]
async fn listing_pages_and_identities() {
    let (_dir, admin) = ready().await;
    for bad in [0, 61] {
        assert!(admin.list_identity_pools(bad, None).await.is_err(), "{bad}");
    }
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut p = identity_pool();
        p.id = new_identity_id("us-east-1");
        p.name = format!("pool {i}");
        p.roles = IdentityPoolRoles::default();
        p.role_mappings.clear();
        admin.create_identity_pool(&p).await.unwrap();
        ids.push(p.id);
    }
    ids.sort();
    let first = admin.list_identity_pools(2, None).await.unwrap();
    let second = admin
        .list_identity_pools(2, first.next.clone())
        .await
        .unwrap();
    let listed: Vec<String> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|p| p.id.clone())
        .collect();
    assert_eq!(listed, ids);
    assert!(first.next.is_some() && second.next.is_none());

    // Identities: one per login, a new one per guest; unlink keeps the record.
    let pool_id = &ids[0];
    let login = IdentityLogin {
        provider: pool().id,
        subject: "sub-1".into(),
    };
    let a = admin
        .get_or_create_identity(pool_id, Some(&login), "us-east-1", 10)
        .await
        .unwrap();
    let b = admin
        .get_or_create_identity(pool_id, Some(&login), "us-east-1", 11)
        .await
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.logins, vec![login.clone()]);
    let guest = admin
        .get_or_create_identity(pool_id, None, "us-east-1", 12)
        .await
        .unwrap();
    assert_ne!(guest.id, a.id);
    assert!(guest.logins.is_empty());
    assert_eq!(admin.count_identities(pool_id).await.unwrap(), 2);
    assert_eq!(
        admin
            .list_identities(pool_id, 60, None)
            .await
            .unwrap()
            .items
            .len(),
        2
    );
    assert!(matches!(
        admin
            .get_or_create_identity(ID, None, "us-east-1", 12)
            .await,
        Err(AdminError::NotFound {
            kind: RecordKind::IdentityPool,
            ..
        })
    ));

    assert!(admin.unlink_identity(&a.id, &login, 20).await.unwrap());
    // Its last login gone, the identity is gone (Cognito: "inaccessible"), so nobody can
    // take guest credentials scoped to the former user's identity id.
    assert!(matches!(
        admin.describe_identity(&a.id).await,
        Err(AdminError::NotFound { .. })
    ));
    assert!(admin.unlink_identity(&a.id, &login, 21).await.is_err());
    // The unlinked login is a new identity next time it is seen.
    let again = admin
        .get_or_create_identity(pool_id, Some(&login), "us-east-1", 30)
        .await
        .unwrap();
    assert_ne!(again.id, a.id);

    let unprocessed = admin
        .delete_identities(&[
            again.id.clone(),
            "us-east-1:11111111-2222-4333-8444-555555555555".into(),
        ])
        .await
        .unwrap();
    assert_eq!(
        unprocessed,
        ["us-east-1:11111111-2222-4333-8444-555555555555"]
    );
    assert!(admin.delete_identities(&[]).await.is_err());
    assert!(matches!(
        admin.describe_identity(&a.id).await,
        Err(AdminError::NotFound {
            kind: RecordKind::Identity,
            ..
        })
    ));
}

// P1 (issue 12, item 6): the upstream STS endpoint must be a URL GetCredentialsForIdentity
// can call.
#[test]
fn upstream_sts_endpoints_are_https_or_loopback_http() {
    let check = |endpoint: &str| {
        let mut p = identity_pool();
        p.upstream_sts_endpoint = Some(endpoint.into());
        paths(&validate_identity_pool(&p))
            .into_iter()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    for ok in [
        "https://sts.us-east-1.amazonaws.com/",
        "http://127.0.0.1:4566/",
        "http://localhost:4566/",
    ] {
        assert!(check(ok).is_empty(), "{ok}");
    }
    for bad in [
        "http://sts.us-east-1.amazonaws.com/",
        "ftp://127.0.0.1/",
        "sts.us-east-1.amazonaws.com",
        "",
    ] {
        assert_eq!(check(bad), ["upstream_sts_endpoint"], "{bad}");
    }
}
