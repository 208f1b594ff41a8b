//! The identity pools management actions over `POST /`, driven by the official
//! `aws-sdk-cognitoidentity` client signed with an operator key made through
//! `core::admin_keys`: the pool lifecycle (create, describe, full-replacement update,
//! paginated list, Rules role mappings, delete), the identity actions over identities
//! made by the admin service, the refusals (a config-owned pool, unsigned, wrong secret,
//! a resource server's key, invalid input naming the API's field), each beside the
//! honest call succeeding.

use std::collections::HashSet;

use aws_sdk_cognitoidentity::config::retry::RetryConfig;
use aws_sdk_cognitoidentity::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentity::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentity::types::{
    AmbiguousRoleResolutionType, CognitoIdentityProvider, MappingRule, MappingRuleMatchType,
    RoleMapping, RoleMappingType, RulesConfigurationType,
};
use aws_sdk_cognitoidentity::Client;

use cognate::core::admin::AdminService;
use cognate::core::admin_keys::{AdminKeyPurpose, NewAdminKey};
use cognate::core::model::{IdentityLogin, Origin, Role, RoleTrust, TrustAmr};

use cognate::core::admin_keys::CreatedAdminKey;

use crate::aws_edge::{keys, make_key, post, Signing};
use crate::support::server::TestServer;

const POOL: &str = "us-east-1_Shop12345";
const CLIENT: &str = "webclient1";
const CONFIG_ID: &str = "us-east-1:0b9b1c9e-1f2a-4c55-9a4e-2f5d7c1a0b3c";
const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;

/// A user pool with a client, and an identity pool declared in the file.
fn file() -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "shop"

[[pools.clients]]
id = "{CLIENT}"
name = "web"
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]

[[roles]]
arn = "arn:aws:iam::123456789012:role/file-users"
trust = {{ identity_pools = ["file users"], amr = "authenticated" }}
policy = '{POLICY}'

[[identity_pools]]
id = "{CONFIG_ID}"
name = "file users"
developer_provider_name = "login_example"
authenticated_role = "arn:aws:iam::123456789012:role/file-users"

[[identity_pools.user_pools]]
pool = "shop"
client = "web"
"#
    )
}

fn cognito(base: &str, akid: &str, secret: &str) -> Client {
    let config = aws_sdk_cognitoidentity::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(base)
        .retry_config(RetryConfig::disabled())
        .credentials_provider(Credentials::new(akid, secret, None, None, "test"))
        .build();
    Client::from_conf(config)
}

async fn start() -> (TestServer, Client) {
    let server = TestServer::start(&file()).await;
    let key = make_key(&server, None, None).await;
    let client = cognito(&server.base, &key.access_key_id, key.secret.expose());
    (server, client)
}

/// `<public URL without scheme>/<poolId>`.
fn provider_name(server: &TestServer, pool_id: &str) -> String {
    let host = server.base.trim_start_matches("http://");
    format!("{host}/{pool_id}")
}

fn provider(name: &str) -> CognitoIdentityProvider {
    CognitoIdentityProvider::builder()
        .provider_name(name)
        .client_id(CLIENT)
        .build()
}

/// The code and message of a refused call.
fn refusal<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E) -> (String, String) {
    let code = err
        .code()
        .unwrap_or_else(|| panic!("no error code: {err:?}"))
        .to_string();
    (code, err.message().unwrap_or_default().to_string())
}

/// `AWSCognitoIdentityService.<action>` with `body`, signed with `key` by the SDK's
/// signer: the error type (empty on success) and the answer's body.
async fn signed(
    server: &TestServer,
    key: &CreatedAdminKey,
    action: &str,
    body: &str,
) -> (String, String) {
    let target = format!("AWSCognitoIdentityService.{action}");
    let headers = Signing::new(key, "cognito-identity").sign(
        &server.base,
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ],
        body.as_bytes(),
    );
    let response = post(&server.base, &headers, body.as_bytes()).await;
    let code = response
        .headers()
        .get("x-amzn-ErrorType")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (code, response.text().await.unwrap_or_default())
}

/// A refusal naming `field`, as InvalidParameterException.
fn field_refused((code, message): (String, String), field: &str) {
    assert_eq!(code, "InvalidParameterException", "{message}");
    assert!(message.contains(field), "{field}: {message}");
}

/// A role (as `cognate apply` writes one) trusting `pool_id`.
async fn put_role(server: &TestServer, name: &str, pool_id: &str, amr: TrustAmr) -> String {
    let arn = format!("arn:aws:iam::123456789012:role/{name}");
    AdminService::new(server.node.store.clone())
        .put_role(&Role {
            arn: arn.clone(),
            trust: RoleTrust {
                identity_pool_ids: vec![pool_id.to_string()],
                amr,
            },
            policy: POLICY.to_string(),
            max_session_secs: 3600,
            description: None,
            origin: Origin::Api,
            updated_at: cognate::core::now(),
        })
        .await
        .expect("put role");
    arn
}

#[tokio::test]
async fn sdk_manages_an_identity_pool_from_create_to_delete() {
    let (server, client) = start().await;
    // Cognito's spelling of a local pool is accepted; the answer uses this server's.
    let created = client
        .create_identity_pool()
        .identity_pool_name("app users")
        .allow_unauthenticated_identities(false)
        .allow_classic_flow(true)
        .developer_provider_name("login.example.app")
        .cognito_identity_providers(provider(&format!(
            "cognito-idp.us-east-1.amazonaws.com/{POOL}"
        )))
        .identity_pool_tags("team", "identity")
        .send()
        .await
        .expect("create");
    let id = created.identity_pool_id().to_string();
    assert!(id.starts_with("us-east-1:"), "{id}");
    assert_eq!(created.identity_pool_name(), "app users");
    assert_eq!(created.allow_classic_flow(), Some(true));
    let providers = created.cognito_identity_providers();
    assert_eq!(
        providers[0].provider_name(),
        Some(provider_name(&server, POOL).as_str())
    );
    assert_eq!(providers[0].client_id(), Some(CLIENT));

    let described = client
        .describe_identity_pool()
        .identity_pool_id(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(described.identity_pool_name(), "app users");
    assert_eq!(
        described.developer_provider_name(),
        Some("login.example.app")
    );
    assert_eq!(
        described
            .identity_pool_tags()
            .and_then(|t| t.get("team"))
            .map(String::as_str),
        Some("identity")
    );

    // A full replacement: the omitted classic flow and tags are reset.
    let updated = client
        .update_identity_pool()
        .identity_pool_id(&id)
        .identity_pool_name("renamed users")
        .allow_unauthenticated_identities(true)
        .developer_provider_name("login.example.app")
        .cognito_identity_providers(provider(&provider_name(&server, POOL)))
        .send()
        .await
        .expect("update");
    assert_eq!(updated.identity_pool_name(), "renamed users");
    let described = client
        .describe_identity_pool()
        .identity_pool_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.identity_pool_name(), "renamed users");
    assert!(described.allow_unauthenticated_identities());
    assert_eq!(described.allow_classic_flow(), Some(false));
    assert!(described.identity_pool_tags().is_none_or(|t| t.is_empty()));

    // Roles: a Rules mapping for the user pool, read back as written.
    let users = put_role(&server, "users", &id, TrustAmr::Authenticated).await;
    let guests = put_role(&server, "guests", &id, TrustAmr::Unauthenticated).await;
    let admins = put_role(&server, "admins", &id, TrustAmr::Authenticated).await;
    let mapping = RoleMapping::builder()
        .r#type(RoleMappingType::Rules)
        .ambiguous_role_resolution(AmbiguousRoleResolutionType::AuthenticatedRole)
        .rules_configuration(
            RulesConfigurationType::builder()
                .rules(
                    MappingRule::builder()
                        .claim("cognito:groups")
                        .match_type(MappingRuleMatchType::Contains)
                        .value("admins")
                        .role_arn(&admins)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    client
        .set_identity_pool_roles()
        .identity_pool_id(&id)
        .roles("authenticated", &users)
        .roles("unauthenticated", &guests)
        .role_mappings(
            format!("cognito-idp.us-east-1.amazonaws.com/{POOL}"),
            mapping,
        )
        .send()
        .await
        .expect("set roles");
    let roles = client
        .get_identity_pool_roles()
        .identity_pool_id(&id)
        .send()
        .await
        .expect("get roles");
    assert_eq!(roles.identity_pool_id(), Some(id.as_str()));
    let r = roles.roles().unwrap();
    assert_eq!(r.get("authenticated"), Some(&users));
    assert_eq!(r.get("unauthenticated"), Some(&guests));
    let m = &roles.role_mappings().unwrap()[&provider_name(&server, POOL)];
    assert_eq!(m.r#type(), &RoleMappingType::Rules);
    let rule = &m.rules_configuration().unwrap().rules()[0];
    assert_eq!(rule.claim(), "cognito:groups");
    assert_eq!(rule.match_type(), &MappingRuleMatchType::Contains);
    assert_eq!(rule.role_arn(), admins);

    // Pagination: two more pools, listed two at a time.
    for name in ["second", "third"] {
        client
            .create_identity_pool()
            .identity_pool_name(name)
            .allow_unauthenticated_identities(false)
            .send()
            .await
            .expect("create another");
    }
    let mut seen = HashSet::new();
    let mut next: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = client
            .list_identity_pools()
            .max_results(2)
            .set_next_token(next.clone())
            .send()
            .await
            .expect("list");
        pages += 1;
        assert!(page.identity_pools().len() <= 2);
        for p in page.identity_pools() {
            assert!(seen.insert(p.identity_pool_id().unwrap().to_string()));
        }
        next = page.next_token().map(str::to_string);
        if next.is_none() || pages > 5 {
            break;
        }
    }
    // Three made here and the file's one.
    assert_eq!(seen.len(), 4, "{seen:?}");
    assert!(seen.contains(&id) && seen.contains(CONFIG_ID));
    assert!(pages >= 2);
    let (code, message) = refusal(
        &client
            .list_identity_pools()
            .max_results(61)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("MaxResults"), "{message}");

    client
        .delete_identity_pool()
        .identity_pool_id(&id)
        .send()
        .await
        .expect("delete");
    let (code, _) = refusal(
        &client
            .describe_identity_pool()
            .identity_pool_id(&id)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = refusal(
        &client
            .delete_identity_pool()
            .identity_pool_id(&id)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "ResourceNotFoundException");
    server.stop().await;
}

#[tokio::test]
async fn a_config_owned_identity_pool_is_refused_naming_the_file() {
    let (server, client) = start().await;
    let file = server
        .node
        .config
        .source
        .as_ref()
        .unwrap()
        .display()
        .to_string();
    // Reading it is fine.
    let described = client
        .describe_identity_pool()
        .identity_pool_id(CONFIG_ID)
        .send()
        .await
        .expect("describe");
    assert_eq!(described.identity_pool_name(), "file users");

    let err = client
        .update_identity_pool()
        .identity_pool_id(CONFIG_ID)
        .identity_pool_name("taken over")
        .allow_unauthenticated_identities(false)
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "NotAuthorizedException");
    assert!(message.contains(&file), "{message}");
    let err = client
        .delete_identity_pool()
        .identity_pool_id(CONFIG_ID)
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "NotAuthorizedException");
    assert!(message.contains(&file), "{message}");
    let err = client
        .set_identity_pool_roles()
        .identity_pool_id(CONFIG_ID)
        .roles("authenticated", "arn:aws:iam::123456789012:role/file-users")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");

    // Unchanged.
    let described = client
        .describe_identity_pool()
        .identity_pool_id(CONFIG_ID)
        .send()
        .await
        .unwrap();
    assert_eq!(described.identity_pool_name(), "file users");
    server.stop().await;
}

#[tokio::test]
async fn unsigned_forged_and_resource_server_calls_are_refused() {
    let (server, honest) = start().await;
    let key = make_key(&server, None, None).await;
    honest
        .list_identity_pools()
        .max_results(10)
        .send()
        .await
        .expect("honest call");

    // Unsigned: no Authorization header at all.
    let response = crate::aws_edge::client()
        .post(format!("{}/", server.base))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "AWSCognitoIdentityService.CreateIdentityPool",
        )
        .body(r#"{"IdentityPoolName": "sneaky", "AllowUnauthenticatedIdentities": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response
            .headers()
            .get("x-amzn-ErrorType")
            .and_then(|v| v.to_str().ok()),
        Some("MissingAuthenticationTokenException")
    );
    assert!(response.status().is_client_error());

    let forged = cognito(
        &server.base,
        &key.access_key_id,
        "not-the-secret-at-all-0000",
    );
    let err = forged
        .create_identity_pool()
        .identity_pool_name("sneaky")
        .allow_unauthenticated_identities(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidSignatureException");

    let checker = keys(&server)
        .create(
            NewAdminKey {
                access_key_id: None,
                secret: None,
                description: "resource server".into(),
                purpose: AdminKeyPurpose::Authorize,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    let resource_server = cognito(
        &server.base,
        &checker.access_key_id,
        checker.secret.expose(),
    );
    let err = resource_server
        .delete_identity_pool()
        .identity_pool_id(CONFIG_ID)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "AccessDeniedException");

    // Nothing was made.
    let listed = honest
        .list_identity_pools()
        .max_results(60)
        .send()
        .await
        .unwrap();
    assert!(listed
        .identity_pools()
        .iter()
        .all(|p| p.identity_pool_name() != Some("sneaky")));
    assert_eq!(listed.identity_pools().len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn invalid_input_is_refused_naming_the_api_field() {
    let (server, client) = start().await;
    let ours = provider_name(&server, POOL);
    let create = |name: &str| {
        client
            .create_identity_pool()
            .identity_pool_name(name)
            .allow_unauthenticated_identities(false)
    };

    let err = create("bad/name!").send().await.unwrap_err();
    field_refused(refusal(&err), "IdentityPoolName");
    let err = create("unknown pool")
        .cognito_identity_providers(provider(&provider_name(&server, "us-east-1_NoSuch999")))
        .send()
        .await
        .unwrap_err();
    field_refused(refusal(&err), "CognitoIdentityProviders[0].ProviderName");
    let err = create("foreign host")
        .cognito_identity_providers(provider(&format!("evil.example.com/{POOL}")))
        .send()
        .await
        .unwrap_err();
    field_refused(refusal(&err), "CognitoIdentityProviders[0].ProviderName");
    let err = create("oidc")
        .open_id_connect_provider_arns("arn:aws:iam::123456789012:oidc-provider/x.example.com")
        .send()
        .await
        .unwrap_err();
    field_refused(refusal(&err), "OpenIdConnectProviderARNs");

    // The honest pool, then its roles refused.
    let id = create("good pool")
        .cognito_identity_providers(provider(&ours))
        .send()
        .await
        .expect("honest create")
        .identity_pool_id()
        .to_string();
    let users = put_role(&server, "users", &id, TrustAmr::Authenticated).await;
    let err = client
        .set_identity_pool_roles()
        .identity_pool_id(&id)
        .roles("authenticated", "arn:aws:iam::12345:role/short-account")
        .send()
        .await
        .unwrap_err();
    field_refused(refusal(&err), "Roles.authenticated");

    let rule = MappingRule::builder()
        .claim("cognito:groups")
        .match_type(MappingRuleMatchType::Equals)
        .value("staff")
        .role_arn(&users)
        .build()
        .unwrap();
    let mapping = |n: usize| {
        RoleMapping::builder()
            .r#type(RoleMappingType::Rules)
            .ambiguous_role_resolution(AmbiguousRoleResolutionType::Deny)
            .rules_configuration(
                RulesConfigurationType::builder()
                    .set_rules(Some(vec![rule.clone(); n]))
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    };
    let err = client
        .set_identity_pool_roles()
        .identity_pool_id(&id)
        .roles("authenticated", &users)
        .role_mappings(&ours, mapping(26))
        .send()
        .await
        .unwrap_err();
    field_refused(
        refusal(&err),
        &format!("RoleMappings.{ours}.RulesConfiguration.Rules"),
    );
    // 25 rules is the limit, and accepted.
    client
        .set_identity_pool_roles()
        .identity_pool_id(&id)
        .roles("authenticated", &users)
        .role_mappings(&ours, mapping(25))
        .send()
        .await
        .expect("25 rules");
    let roles = client
        .get_identity_pool_roles()
        .identity_pool_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        roles.role_mappings().unwrap()[&ours]
            .rules_configuration()
            .unwrap()
            .rules()
            .len(),
        25
    );
    server.stop().await;
}

#[tokio::test]
async fn identities_are_described_listed_unlinked_and_deleted() {
    let server = TestServer::start(&file()).await;
    let key = make_key(&server, None, None).await;
    let client = cognito(&server.base, &key.access_key_id, key.secret.expose());
    let admin = AdminService::new(server.node.store.clone());
    let now = cognate::core::now();
    let login = |sub: &str| IdentityLogin {
        provider: POOL.to_string(),
        subject: sub.to_string(),
    };
    let alice = admin
        .get_or_create_identity(CONFIG_ID, Some(&login("alice-sub")), "us-east-1", now)
        .await
        .unwrap();
    let bob = admin
        .get_or_create_identity(CONFIG_ID, Some(&login("bob-sub")), "us-east-1", now)
        .await
        .unwrap();
    let guest = admin
        .get_or_create_identity(CONFIG_ID, None, "us-east-1", now)
        .await
        .unwrap();
    // A developer identity whose provider name looks like a user pool id.
    let developer_login = IdentityLogin {
        provider: "login_example".into(),
        subject: "dev-user-1".into(),
    };
    let dev = admin
        .get_or_create_identity(CONFIG_ID, Some(&developer_login), "us-east-1", now)
        .await
        .unwrap();
    let described = client
        .describe_identity()
        .identity_id(&dev.id)
        .send()
        .await
        .expect("describe developer identity");
    assert_eq!(described.logins(), ["login_example"]);

    let described = client
        .describe_identity()
        .identity_id(&alice.id)
        .send()
        .await
        .expect("describe identity");
    assert_eq!(described.identity_id(), Some(alice.id.as_str()));
    assert_eq!(described.logins(), [provider_name(&server, POOL)]);
    assert!(described.creation_date().is_some());

    let mut seen = HashSet::new();
    let mut next = None;
    for _ in 0..5 {
        let page = client
            .list_identities()
            .identity_pool_id(CONFIG_ID)
            .max_results(2)
            .hide_disabled(true)
            .set_next_token(next)
            .send()
            .await
            .expect("list identities");
        assert_eq!(page.identity_pool_id(), Some(CONFIG_ID));
        for i in page.identities() {
            seen.insert(i.identity_id().unwrap().to_string());
        }
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    let expected: HashSet<String> = [&alice.id, &bob.id, &guest.id, &dev.id]
        .into_iter()
        .cloned()
        .collect();
    assert_eq!(seen, expected);

    // Unlink. The official SDK sends UnlinkIdentity unsigned (its model lets an end user
    // call it with Logins); here it is operator-signed only, so the SDK's call is refused
    // as any unsigned management call is, and nothing is unlinked.
    let cognito_name = format!("cognito-idp.us-east-1.amazonaws.com/{POOL}");
    let err = client
        .unlink_identity()
        .identity_id(&alice.id)
        .logins(&cognito_name, "token")
        .logins_to_remove(&cognito_name)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "MissingAuthenticationTokenException");
    let unlink = |identity: &str, name: &str| {
        serde_json::json!({
            "IdentityId": identity,
            "Logins": {name: "token"},
            "LoginsToRemove": [name],
        })
        .to_string()
    };
    // Signed: a provider the identity does not hold is refused; its own is removed.
    let body = unlink(&guest.id, &cognito_name);
    let (code, _) = signed(&server, &key, "UnlinkIdentity", &body).await;
    assert_eq!(code, "InvalidParameterException");
    let body = unlink(&alice.id, &cognito_name);
    let (code, _) = signed(&server, &key, "UnlinkIdentity", &body).await;
    assert_eq!(code, "");
    // Its last login removed, the identity is inaccessible (Cognito's words): gone, so no
    // guest call can take credentials under the former user's identity id.
    for id in [&alice.id, &dev.id] {
        if id == &dev.id {
            let body = unlink(&dev.id, "login_example");
            let (code, _) = signed(&server, &key, "UnlinkIdentity", &body).await;
            assert_eq!(code, "");
        }
        let (code, _) = refusal(
            &client
                .describe_identity()
                .identity_id(id)
                .send()
                .await
                .unwrap_err(),
        );
        assert_eq!(code, "ResourceNotFoundException");
    }

    // Delete: an id naming no identity comes back unprocessed.
    let nobody = "us-east-1:00000000-0000-4000-8000-000000000000";
    let deleted = client
        .delete_identities()
        .identity_ids_to_delete(&bob.id)
        .identity_ids_to_delete(nobody)
        .send()
        .await
        .expect("delete identities");
    let unprocessed: Vec<&str> = deleted
        .unprocessed_identity_ids()
        .iter()
        .filter_map(|u| u.identity_id())
        .collect();
    assert_eq!(unprocessed, [nobody]);
    let (code, _) = refusal(
        &client
            .describe_identity()
            .identity_id(&bob.id)
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "ResourceNotFoundException");
    let (code, message) = refusal(
        &client
            .delete_identities()
            .identity_ids_to_delete("not-an-identity")
            .send()
            .await
            .unwrap_err(),
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("IdentityIdsToDelete[0]"), "{message}");
    // Bob's login now gets a new identity.
    let again = admin
        .get_or_create_identity(CONFIG_ID, Some(&login("bob-sub")), "us-east-1", now)
        .await
        .unwrap();
    assert_ne!(again.id, bob.id);
    server.stop().await;
}
