//! Records for the checks, built the way the core builds them.

use std::collections::BTreeMap;
use std::sync::Arc;

use cognate::core::directory::lookup_for;
use cognate::core::ids::new_sub;
use cognate::core::model::{
    AppClient, Group, KeyPurpose, PageRequest, ResourceServer, SigningKey, User, UserPool,
};
use cognate::core::secrets::{signing_key_context, MasterKey};
use cognate::store::{Conflict, Store, StoreError};
use serde_json::json;

/// A fixed "now" for records; expiry checks pass their own times.
pub const T0: i64 = 1_700_000_000;

/// A pool with every sign-in alias, so lookups carry email, phone and preferred_username.
/// Built from JSON so fields added later with `#[serde(default)]` need no change here.
pub fn pool(id: &str, case_sensitive: bool) -> UserPool {
    serde_json::from_value(json!({
        "id": id,
        "name": format!("pool {id}"),
        "username_case_sensitive": case_sensitive,
        "alias_attributes": ["email", "phone_number", "preferred_username"],
        "created_at": T0,
        "updated_at": T0,
    }))
    .expect("pool fixture")
}

pub fn client(id: &str, pool_id: &str, name: &str) -> AppClient {
    serde_json::from_value(json!({
        "id": id,
        "pool_id": pool_id,
        "name": name,
        "callback_urls": ["https://app.example/cb"],
        "created_at": T0,
        "updated_at": T0,
    }))
    .expect("client fixture")
}

pub fn group(pool_id: &str, name: &str, precedence: Option<i64>) -> Group {
    serde_json::from_value(json!({
        "pool_id": pool_id,
        "name": name,
        "precedence": precedence,
        "created_at": T0,
        "updated_at": T0,
    }))
    .expect("group fixture")
}

/// A user of `pool` with its lookup keys computed by the core, as the directory does.
pub fn user(pool: &UserPool, username: &str, attributes: &[(&str, &str)]) -> User {
    let attributes: BTreeMap<&str, &str> = attributes.iter().copied().collect();
    let mut user: User = serde_json::from_value(json!({
        "pool_id": pool.id,
        "sub": new_sub(),
        "username": username,
        "attributes": attributes,
        "status": "CONFIRMED",
        "enabled": true,
        "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "lookup": { "username": "" },
        "created_at": T0,
        "updated_at": T0,
    }))
    .expect("user fixture");
    user.lookup = lookup_for(pool, &user);
    user
}

pub fn linked(pool: &UserPool, username: &str, provider: &str, subject: &str) -> User {
    let mut u = user(pool, username, &[]);
    u.identities = vec![identity(provider, subject)];
    u
}

pub fn identity(provider: &str, subject: &str) -> cognate::core::model::FederatedIdentity {
    serde_json::from_value(json!({
        "provider_name": provider,
        "provider_type": "OIDC",
        "user_id": subject,
        "issuer": "https://idp.example",
        "linked_at": T0,
    }))
    .expect("identity fixture")
}

pub fn signing_key(pool_id: &str, kid: &str, purpose: KeyPurpose, created_at: i64) -> SigningKey {
    let (master, _) = MasterKey::generate();
    SigningKey {
        pool_id: pool_id.into(),
        kid: kid.into(),
        purpose,
        private_pkcs8: master.seal(&signing_key_context(pool_id, kid), b"not a real key"),
        n: "AQAB".into(),
        e: "AQAB".into(),
        created_at,
        retired_at: None,
    }
}

pub fn page(limit: u32, after: Option<String>) -> PageRequest {
    PageRequest { limit, after }
}

pub async fn with_pool(store: &Arc<dyn Store>, id: &str, case_sensitive: bool) -> UserPool {
    let p = pool(id, case_sensitive);
    store.put_pool(&p).await.expect("put pool");
    // As stored: with the version the write gave it.
    store
        .get_pool(id)
        .await
        .expect("get pool")
        .expect("the pool just put")
}

pub fn is_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>, want: Conflict) -> bool {
    matches!(result, Err(StoreError::Conflict(c)) if *c == want)
}

pub fn resource_server(pool_id: &str, identifier: &str) -> ResourceServer {
    serde_json::from_value(json!({
        "pool_id": pool_id,
        "identifier": identifier,
        "name": format!("api {identifier}"),
        "scopes": [{ "name": "read", "description": "Read things" }],
    }))
    .expect("resource server fixture")
}
