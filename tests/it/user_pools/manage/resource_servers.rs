//! Resource servers through the user pools API (issue 15 item 1), driven by the official
//! AWS SDK for Rust signed with an operator key: CreateResourceServer,
//! DescribeResourceServer, UpdateResourceServer (Name and Scopes replaced; no Scopes is
//! none), DeleteResourceServer, ListResourceServers (MaxResults required, NextToken); a
//! client_credentials token for a scope made through the API, and what removing that scope
//! does to the client; Cognito's limits; a server declared in the configuration file and
//! an unsigned call refused, each beside the honest call.

use aws_sdk_cognitoidentityprovider::types::{ResourceServerScopeType, ResourceServerType};
use cognate::core::admin::AdminService;
use cognate::core::model::{OAuthFlow, Origin};

use super::super::admin::refusal;
use super::super::{operator_client, public_client, MFA_ON_POOL, POOL, SECRET_APP};
use crate::claims::{claims_of, token};
use crate::support::server::TestServer;

fn scope(name: &str, description: &str) -> ResourceServerScopeType {
    ResourceServerScopeType::builder()
        .scope_name(name)
        .scope_description(description)
        .build()
        .unwrap()
}

fn scope_names(server: &ResourceServerType) -> Vec<String> {
    server
        .scopes()
        .iter()
        .map(|s| s.scope_name().to_string())
        .collect()
}

#[tokio::test]
async fn resource_servers_are_created_described_updated_listed_and_deleted() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;

    let out = admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("https://orders.example.com")
        .name("Orders API")
        .scopes(scope("read", "Read orders"))
        .scopes(scope("write", "Write orders"))
        .send()
        .await
        .expect("CreateResourceServer");
    let rs = out.resource_server().expect("ResourceServer");
    assert_eq!(rs.user_pool_id(), Some(POOL));
    assert_eq!(rs.identifier(), Some("https://orders.example.com"));
    assert_eq!(rs.name(), Some("Orders API"));
    assert_eq!(scope_names(rs), ["read", "write"]);
    assert_eq!(rs.scopes()[0].scope_description(), "Read orders");
    // The store holds it as an API record.
    let stored = server.node.store.list_resource_servers(POOL).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].origin, Origin::Api);

    // An identifier the pool has already.
    let err = admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("https://orders.example.com")
        .name("Again")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("already exists"), "{message}");

    let described = admin
        .describe_resource_server()
        .user_pool_id(POOL)
        .identifier("https://orders.example.com")
        .send()
        .await
        .expect("DescribeResourceServer");
    assert_eq!(described.resource_server(), Some(rs));
    let err = admin
        .describe_resource_server()
        .user_pool_id(POOL)
        .identifier("https://nope.example.com")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");

    // Update replaces the name and the scopes.
    let updated = admin
        .update_resource_server()
        .user_pool_id(POOL)
        .identifier("https://orders.example.com")
        .name("Orders v2")
        .scopes(scope("orders.list", "List orders"))
        .send()
        .await
        .expect("UpdateResourceServer");
    let rs = updated.resource_server().unwrap();
    assert_eq!(rs.name(), Some("Orders v2"));
    assert_eq!(scope_names(rs), ["orders.list"]);
    // No Scopes at all: none (Cognito's whole-record update).
    admin
        .update_resource_server()
        .user_pool_id(POOL)
        .identifier("https://orders.example.com")
        .name("Orders v3")
        .send()
        .await
        .expect("UpdateResourceServer without scopes");
    let described = admin
        .describe_resource_server()
        .user_pool_id(POOL)
        .identifier("https://orders.example.com")
        .send()
        .await
        .unwrap();
    let rs = described.resource_server().unwrap();
    assert_eq!(rs.name(), Some("Orders v3"));
    assert!(rs.scopes().is_empty(), "{rs:?}");
    // An unknown server cannot be updated.
    let err = admin
        .update_resource_server()
        .user_pool_id(POOL)
        .identifier("https://nope.example.com")
        .name("Nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");

    // Listing pages with MaxResults and NextToken, by identifier.
    for id in ["b-api", "a-api"] {
        admin
            .create_resource_server()
            .user_pool_id(POOL)
            .identifier(id)
            .name(id)
            .send()
            .await
            .unwrap();
    }
    let first = admin
        .list_resource_servers()
        .user_pool_id(POOL)
        .max_results(2)
        .send()
        .await
        .expect("ListResourceServers");
    let ids: Vec<&str> = first
        .resource_servers()
        .iter()
        .filter_map(|s| s.identifier())
        .collect();
    assert_eq!(ids, ["a-api", "b-api"]);
    let next = first.next_token().expect("NextToken").to_string();
    let second = admin
        .list_resource_servers()
        .user_pool_id(POOL)
        .max_results(2)
        .next_token(&next)
        .send()
        .await
        .unwrap();
    let ids: Vec<&str> = second
        .resource_servers()
        .iter()
        .filter_map(|s| s.identifier())
        .collect();
    assert_eq!(ids, ["https://orders.example.com"]);
    assert_eq!(second.next_token(), None);
    // MaxResults is required, 1 to 50; a forged NextToken is refused.
    for bad in [None, Some(0), Some(51)] {
        let mut call = admin.list_resource_servers().user_pool_id(POOL);
        if let Some(n) = bad {
            call = call.max_results(n);
        }
        let err = call.send().await.unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException", "{bad:?}");
        assert!(message.contains("maxResults"), "{message}");
    }
    let err = admin
        .list_resource_servers()
        .user_pool_id(POOL)
        .max_results(2)
        .next_token("forged")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");

    // Delete, then it is gone.
    admin
        .delete_resource_server()
        .user_pool_id(POOL)
        .identifier("a-api")
        .send()
        .await
        .expect("DeleteResourceServer");
    let err = admin
        .delete_resource_server()
        .user_pool_id(POOL)
        .identifier("a-api")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    let err = admin
        .describe_resource_server()
        .user_pool_id(POOL)
        .identifier("a-api")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    server.stop().await;
}

/// An API-made client of [`POOL`] that may use client_credentials for `scopes`, with the
/// secret `secret`. (Made through the administration service: CreateUserPoolClient is
/// another module's.)
async fn m2m_client(server: &TestServer, id: &str, secret: &str, scopes: &[&str]) {
    let mut client = server
        .node
        .store
        .get_client(SECRET_APP)
        .await
        .unwrap()
        .expect("fixture client");
    client.id = id.to_string();
    client.name = "m2m".into();
    client.origin = Origin::Api;
    client.secret = Some(server.node.master.seal(
        &cognate::core::secrets::client_secret_context(id),
        secret.as_bytes(),
    ));
    client.callback_urls.clear();
    client.allowed_oauth_flows = vec![OAuthFlow::ClientCredentials];
    client.allowed_oauth_scopes = scopes.iter().map(|s| s.to_string()).collect();
    AdminService::new(server.node.store.clone())
        .put_client(&client)
        .await
        .expect("m2m client");
}

#[tokio::test]
async fn api_scopes_are_granted_to_client_credentials_and_removed_ones_no_longer() {
    const M2M: &str = "apim2m0000000000000000001";
    const M2M_SECRET: &str = "m2m-secret-0123456789abcdefghijklmnopqrstuvw";
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("inventory")
        .name("Inventory")
        .scopes(scope("read", "Read stock"))
        .scopes(scope("write", "Change stock"))
        .send()
        .await
        .unwrap();
    m2m_client(
        &server,
        M2M,
        M2M_SECRET,
        &["inventory/read", "inventory/write"],
    )
    .await;

    let base = server.base.clone();
    let all = token(
        &base,
        &[("grant_type", "client_credentials")],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(all.status, 200, "{}", all.json);
    let claims = claims_of(&all.str("access_token"));
    assert_eq!(claims["scope"], "inventory/read inventory/write");
    assert_eq!(claims["sub"], M2M);

    // UpdateResourceServer drops `write`: the client no longer gets it.
    admin
        .update_resource_server()
        .user_pool_id(POOL)
        .identifier("inventory")
        .name("Inventory")
        .scopes(scope("read", "Read stock"))
        .send()
        .await
        .unwrap();
    let stored = server.node.store.get_client(M2M).await.unwrap().unwrap();
    assert_eq!(stored.allowed_oauth_scopes, ["inventory/read"]);
    let write = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "inventory/write"),
        ],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(write.status, 400, "{}", write.json);
    assert_eq!(write.error(), "invalid_scope");
    let read = token(
        &base,
        &[("grant_type", "client_credentials")],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(read.status, 200, "{}", read.json);
    assert_eq!(
        claims_of(&read.str("access_token"))["scope"],
        "inventory/read"
    );

    // DeleteResourceServer: none of its scopes is granted any more.
    admin
        .delete_resource_server()
        .user_pool_id(POOL)
        .identifier("inventory")
        .send()
        .await
        .unwrap();
    let gone = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "inventory/read"),
        ],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(gone.status, 400, "{}", gone.json);
    assert_eq!(gone.error(), "invalid_scope");
    server.stop().await;
}

/// The clients' scope lists are pruned after the server is written; should that pruning
/// lose a race (an UpdateUserPoolClient writing the old list back) or stop half way, the
/// grant still checks the live definition: a client listing a removed scope never gets it.
#[tokio::test]
async fn a_client_still_listing_a_removed_scope_is_not_granted_it() {
    const M2M: &str = "apim2m0000000000000000002";
    const M2M_SECRET: &str = "m2m-secret-0123456789abcdefghijklmnopqrstuvx";
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("ledger")
        .name("Ledger")
        .scopes(scope("read", "Read"))
        .scopes(scope("write", "Write"))
        .send()
        .await
        .unwrap();
    admin
        .update_resource_server()
        .user_pool_id(POOL)
        .identifier("ledger")
        .name("Ledger")
        .scopes(scope("read", "Read"))
        .send()
        .await
        .unwrap();
    // The lost race's outcome: the client is written back with `ledger/write`, straight
    // through the store (the service itself would refuse the undefined scope).
    m2m_client(&server, M2M, M2M_SECRET, &["ledger/read"]).await;
    let mut stale = server.node.store.get_client(M2M).await.unwrap().unwrap();
    stale.allowed_oauth_scopes = vec!["ledger/read".into(), "ledger/write".into()];
    server.node.store.put_client(&stale).await.unwrap();

    let base = server.base.clone();
    for asked in [None, Some("ledger/write"), Some("ledger/read ledger/write")] {
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = asked {
            form.push(("scope", scope));
        }
        let refused = token(&base, &form, Some((M2M, M2M_SECRET))).await;
        assert_eq!(refused.status, 400, "{asked:?}: {}", refused.json);
        assert_eq!(refused.error(), "invalid_scope", "{asked:?}");
    }
    let honest = token(
        &base,
        &[
            ("grant_type", "client_credentials"),
            ("scope", "ledger/read"),
        ],
        Some((M2M, M2M_SECRET)),
    )
    .await;
    assert_eq!(honest.status, 200, "{}", honest.json);
    assert_eq!(
        claims_of(&honest.str("access_token"))["scope"],
        "ledger/read"
    );
    server.stop().await;
}

#[tokio::test]
async fn cognitos_limits_and_bad_input_are_refused() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;

    // 100 scopes is the most; 101 is refused naming Scopes.
    let hundred: Vec<_> = (0..100).map(|i| scope(&format!("s{i}"), "d")).collect();
    admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("wide")
        .name("Wide")
        .set_scopes(Some(hundred.clone()))
        .send()
        .await
        .expect("100 scopes");
    let mut more = hundred;
    more.push(scope("s100", "d"));
    let err = admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("wider")
        .name("Wider")
        .set_scopes(Some(more))
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("Scopes") && message.contains("100"),
        "{message}"
    );

    // Bad scope names, a repeated scope, a bad identifier, a missing name.
    for (bad, field) in [
        (vec![scope("has space", "d")], "Scopes[0].name"),
        (vec![scope("a/b", "d")], "Scopes[0].name"),
        (vec![scope("x", "d"), scope("x", "d")], "Scopes[1].name"),
    ] {
        let err = admin
            .create_resource_server()
            .user_pool_id(POOL)
            .identifier("bad-scopes")
            .name("Bad")
            .set_scopes(Some(bad))
            .send()
            .await
            .unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException");
        assert!(message.contains(field), "{field}: {message}");
    }
    let err = admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("has space")
        .name("Bad")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("Identifier"), "{message}");
    let err = admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("no-name")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("name"), "{message}");
    // An unknown pool.
    let err = admin
        .create_resource_server()
        .user_pool_id("us-east-1_Nope0000")
        .identifier("x")
        .name("X")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");

    // 25 servers per pool: the 26th is LimitExceededException.
    for i in 1..25 {
        admin
            .create_resource_server()
            .user_pool_id(POOL)
            .identifier(format!("api-{i:02}"))
            .name("Many")
            .send()
            .await
            .unwrap_or_else(|e| panic!("server {i}: {e:?}"));
    }
    let err = admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("api-26")
        .name("One too many")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "LimitExceededException");
    assert!(message.contains("25"), "{message}");
    assert_eq!(
        server
            .node
            .store
            .list_resource_servers(POOL)
            .await
            .unwrap()
            .len(),
        25
    );
    server.stop().await;
}

#[tokio::test]
async fn servers_of_the_configuration_file_and_unsigned_calls_are_refused() {
    let toml = format!(
        r#"{}
[[pools.resource_servers]]
identifier = "cfg-api"
name = "Config API"
scopes = [{{ name = "read", description = "Read" }}]
"#,
        super::super::pools_toml()
    );
    let env = super::super::secrets_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = TestServer::start_with(&toml, "", &env).await;
    let admin = operator_client(&server).await;

    // Readable through the API.
    let described = admin
        .describe_resource_server()
        .user_pool_id(MFA_ON_POOL)
        .identifier("cfg-api")
        .send()
        .await
        .expect("DescribeResourceServer of the file's server");
    assert_eq!(
        described.resource_server().unwrap().name(),
        Some("Config API")
    );
    // Not changeable nor deletable through it.
    let err = admin
        .update_resource_server()
        .user_pool_id(MFA_ON_POOL)
        .identifier("cfg-api")
        .name("Hijacked")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "NotAuthorizedException");
    assert!(message.contains("configuration file"), "{message}");
    let err = admin
        .delete_resource_server()
        .user_pool_id(MFA_ON_POOL)
        .identifier("cfg-api")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
    let stored = server
        .node
        .store
        .list_resource_servers(MFA_ON_POOL)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "Config API");
    assert_eq!(stored[0].origin, Origin::Config);

    // Unsigned (a non-operator key): refused, nothing written; signed: accepted.
    let err = public_client(&server)
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("sneaky")
        .name("Sneaky")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnrecognizedClientException");
    let err = public_client(&server)
        .list_resource_servers()
        .user_pool_id(POOL)
        .max_results(10)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnrecognizedClientException");
    assert!(server
        .node
        .store
        .list_resource_servers(POOL)
        .await
        .unwrap()
        .is_empty());
    admin
        .create_resource_server()
        .user_pool_id(POOL)
        .identifier("honest")
        .name("Honest")
        .send()
        .await
        .expect("the signed call");
    server.stop().await;
}
