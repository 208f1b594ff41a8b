//! The honest paths: a hosted-UI sign-in, then GetId -> GetCredentialsForIdentity (the
//! enhanced flow) and GetOpenIdToken (the basic flow's token, verified against the
//! identity issuer's JWKS); role rules on `cognito:groups`; GetId converging under a
//! parallel burst; the guest rate limit; the developer flow; the upstream STS.

use std::collections::BTreeMap;

use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;

use cognate::core::admin::AdminService;
use cognate::core::identity_pools::credentials;
use cognate::core::identity_pools::mapping::IdentityPoolRoles;
use cognate::core::identity_pools::service::GUEST_IDS_PER_WINDOW;
use cognate::core::model::{IdentityPool, IdentityPoolUserPool, Origin};

use super::*;
use crate::support::fake_sts::{FakeSts, Trust};
use crate::support::http;

/// The grant sealed in vended credentials (opened as any node would).
fn grant_of(
    server: &TestServer,
    c: &aws_sdk_cognitoidentity::types::Credentials,
) -> credentials::SessionGrant {
    let (grant, secret) = credentials::open(
        &server.node.master,
        c.access_key_id().unwrap(),
        c.session_token().unwrap(),
        cognate::core::now(),
    )
    .expect("vended credentials open");
    assert_eq!(secret.expose(), c.secret_key().unwrap());
    grant
}

/// Verifies an identity OpenID token with `jsonwebtoken` against the issuer's JWKS.
async fn verify_openid(server: &TestServer, token: &str, audience: &str) -> Value {
    let issuer = format!("{}/identity", server.base);
    let jwks: Value = http()
        .get(format!("{issuer}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = decode_header(token).unwrap().kid.unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid in the JWKS");
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut v = Validation::new(Algorithm::RS256);
    v.set_issuer(&[issuer]);
    v.set_audience(&[audience]);
    decode::<Value>(token, &key, &v)
        .expect("the token verifies")
        .claims
}

#[tokio::test]
async fn enhanced_and_basic_flows_after_a_hosted_sign_in() {
    let server = start().await;
    let alice = user(&server, POOL, "alice").await;
    let id_token = id_token(&server, WEB, "alice").await;
    let sdk = client(&server.base, None);
    let login = key(&server, POOL);

    let got = sdk
        .get_id()
        .identity_pool_id(IDP)
        .account_id("123456789012")
        .logins(&login, &id_token)
        .send()
        .await
        .expect("GetId");
    let identity = got.identity_id().unwrap().to_string();
    assert!(identity.starts_with("us-east-1:"), "{identity}");
    // Stable per user, in Cognito's key spelling too.
    let again = sdk
        .get_id()
        .identity_pool_id(IDP)
        .logins(
            format!("cognito-idp.us-east-1.amazonaws.com/{POOL}"),
            &id_token,
        )
        .send()
        .await
        .expect("GetId, Cognito's key");
    assert_eq!(again.identity_id(), Some(identity.as_str()));

    // The enhanced flow.
    let creds = sdk
        .get_credentials_for_identity()
        .identity_id(&identity)
        .logins(&login, &id_token)
        .send()
        .await
        .expect("GetCredentialsForIdentity");
    assert_eq!(creds.identity_id(), Some(identity.as_str()));
    let c = creds.credentials().unwrap();
    assert!(credentials::is_temporary_access_key_id(
        c.access_key_id().unwrap()
    ));
    assert_eq!(c.secret_key().unwrap().len(), 40);
    let expires = c.expiration().unwrap().secs();
    let now = cognate::core::now();
    assert!((now + 3_590..=now + 3_600).contains(&expires), "{expires}");
    let grant = grant_of(&server, c);
    assert_eq!(grant.identity_id, identity);
    assert_eq!(grant.identity_pool_id, IDP);
    assert_eq!(grant.role_arn, AUTH_ROLE);
    assert!(grant.authenticated);
    let u = grant.user.expect("bound to the user");
    assert_eq!(
        (u.pool_id.as_str(), u.sub.as_str()),
        (POOL, alice.sub.as_str())
    );

    // The basic flow's token, as a relying party (or AWS's STS) verifies it.
    let open_id = sdk
        .get_open_id_token()
        .identity_id(&identity)
        .logins(&login, &id_token)
        .send()
        .await
        .expect("GetOpenIdToken");
    assert_eq!(open_id.identity_id(), Some(identity.as_str()));
    let claims = verify_openid(&server, open_id.token().unwrap(), IDP).await;
    assert_eq!(claims["sub"], identity.as_str());
    assert_eq!(claims["aud"], IDP);
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    assert_eq!(
        claims["amr"],
        serde_json::json!([
            "authenticated",
            login,
            format!("{login}:CognitoSignIn:{}", alice.sub)
        ])
    );
}

#[tokio::test]
async fn rules_on_groups_pick_the_groups_role() {
    let server = start().await;
    let admin = user(&server, POOL, "root").await;
    join(&server, &admin, "admins", ADMINS_ROLE).await;
    user(&server, POOL, "plain").await;
    let sdk = client(&server.base, None);
    let login = key(&server, POOL);
    for (name, role) in [("root", ADMINS_ROLE), ("plain", AUTH_ROLE)] {
        let token = id_token(&server, WEB, name).await;
        let id = sdk
            .get_id()
            .identity_pool_id(IDP)
            .logins(&login, &token)
            .send()
            .await
            .unwrap();
        let creds = sdk
            .get_credentials_for_identity()
            .identity_id(id.identity_id().unwrap())
            .logins(&login, &token)
            .send()
            .await
            .expect("credentials");
        assert_eq!(
            grant_of(&server, creds.credentials().unwrap()).role_arn,
            role,
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_parallel_get_id_burst_for_one_user_converges_on_one_identity() {
    let server = start().await;
    user(&server, POOL, "burst").await;
    let token = id_token(&server, WEB, "burst").await;
    let login = key(&server, POOL);
    let calls = (0..8).map(|_| {
        let sdk = client(&server.base, None);
        let (token, login) = (token.clone(), login.clone());
        tokio::spawn(async move {
            sdk.get_id()
                .identity_pool_id(IDP)
                .logins(login, token)
                .send()
                .await
                .expect("GetId")
                .identity_id()
                .unwrap()
                .to_string()
        })
    });
    let ids: Vec<String> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(ids.iter().all(|id| id == &ids[0]), "{ids:?}");
    assert_eq!(server.node.store.count_identities(IDP).await.unwrap(), 1);
}

#[tokio::test]
async fn a_guest_get_id_burst_from_one_address_stops_at_the_limit() {
    let server = start().await;
    // The honest guest: an identity and the unauthenticated role's credentials.
    let sdk = client(&server.base, None);
    let guest = sdk
        .get_id()
        .identity_pool_id(IDP)
        .send()
        .await
        .expect("guest GetId");
    let guest = guest.identity_id().unwrap().to_string();
    let creds = sdk
        .get_credentials_for_identity()
        .identity_id(&guest)
        .send()
        .await
        .expect("guest credentials");
    let grant = grant_of(&server, creds.credentials().unwrap());
    assert_eq!(grant.role_arn, GUEST_ROLE);
    assert!(!grant.authenticated && grant.user.is_none());

    let calls = (0..GUEST_IDS_PER_WINDOW + 10).map(|_| {
        let sdk = client(&server.base, None);
        tokio::spawn(async move { sdk.get_id().identity_pool_id(IDP).send().await })
    });
    let mut made = 0;
    let mut throttled = 0;
    for r in futures::future::join_all(calls).await {
        match r.unwrap() {
            Ok(_) => made += 1,
            Err(e) => {
                assert_eq!(code_of(&e), "TooManyRequestsException");
                throttled += 1;
            }
        }
    }
    // One was used by the honest guest above.
    assert_eq!(made, GUEST_IDS_PER_WINDOW - 1);
    assert_eq!(throttled, 11);
    assert_eq!(
        server.node.store.count_identities(IDP).await.unwrap(),
        GUEST_IDS_PER_WINDOW as u64
    );
}

#[tokio::test]
async fn developer_identities_need_an_operator_and_the_pools_provider_name() {
    let server = start().await;
    let op = crate::aws_edge::make_key(&server, None, None).await;
    let body = serde_json::json!({
        "IdentityPoolId": IDP,
        "Logins": { DEV_PROVIDER: "user-42" },
    });
    // Unsigned: refused, nothing made.
    let r = http()
        .post(format!("{}/", server.base))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity",
        )
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-amzn-errortype"],
        "MissingAuthenticationTokenException"
    );
    assert_eq!(server.node.store.count_identities(IDP).await.unwrap(), 0);

    let signed = client(&server.base, Some((&op.access_key_id, op.secret.expose())));
    let wrong = signed
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(IDP)
        .logins("login.other.app", "user-42")
        .send()
        .await
        .expect_err("another provider name");
    assert_eq!(code_of(&wrong), "NotAuthorizedException");
    let too_long = signed
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(IDP)
        .logins(DEV_PROVIDER, "user-42")
        .token_duration(86_401)
        .send()
        .await
        .expect_err("over a day");
    assert_eq!(code_of(&too_long), "InvalidParameterException");
    assert_eq!(server.node.store.count_identities(IDP).await.unwrap(), 0);

    let honest = signed
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(IDP)
        .logins(DEV_PROVIDER, "user-42")
        .token_duration(3_600)
        .send()
        .await
        .expect("the pool's developer provider");
    let identity = honest.identity_id().unwrap().to_string();
    let claims = verify_openid(&server, honest.token().unwrap(), IDP).await;
    assert_eq!(claims["sub"], identity.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        3_600
    );
    assert_eq!(claims["amr"][0], "authenticated");
    assert_eq!(claims["amr"][1], DEV_PROVIDER);
    // The same developer user keeps its identity, named or not.
    for named in [None, Some(identity.as_str())] {
        let again = signed
            .get_open_id_token_for_developer_identity()
            .identity_pool_id(IDP)
            .set_identity_id(named.map(str::to_string))
            .logins(DEV_PROVIDER, "user-42")
            .send()
            .await
            .expect("again");
        assert_eq!(again.identity_id(), Some(identity.as_str()));
    }
}

#[tokio::test]
async fn an_upstream_sts_gets_the_openid_token_and_answers_the_credentials() {
    let server =
        TestServer::start_with(&toml(), "idp_private_networks = [\"127.0.0.0/8\"]", &[]).await;
    let aws_pool = "us-east-1:1d000000-0000-4000-8000-0000000000aa";
    let real_role = "arn:aws:iam::210987654321:role/RealAwsRole";
    let fake = FakeSts::start(Trust {
        issuer: format!("{}/identity", server.base),
        audience: aws_pool.to_string(),
        role_arn: real_role.to_string(),
    })
    .await;
    let now = cognate::core::now();
    AdminService::new(server.node.store.clone())
        .create_identity_pool(&IdentityPool {
            id: aws_pool.to_string(),
            name: "real aws".into(),
            allow_unauthenticated: false,
            allow_classic_flow: false,
            user_pools: vec![IdentityPoolUserPool {
                pool_id: POOL.into(),
                client_id: WEB.into(),
                server_side_token_check: false,
            }],
            supported_login_providers: BTreeMap::new(),
            developer_provider_name: None,
            roles: IdentityPoolRoles {
                authenticated: Some(real_role.into()),
                unauthenticated: None,
            },
            role_mappings: BTreeMap::new(),
            tags: BTreeMap::new(),
            upstream_sts_endpoint: Some(fake.endpoint.to_string()),
            origin: Origin::Api,
            created_at: now,
            updated_at: now,
        })
        .await
        .expect("an identity pool with an upstream STS");
    user(&server, POOL, "cloud").await;
    let token = id_token(&server, WEB, "cloud").await;
    let login = key(&server, POOL);
    let sdk = client(&server.base, None);
    let id = sdk
        .get_id()
        .identity_pool_id(aws_pool)
        .logins(&login, &token)
        .send()
        .await
        .unwrap();
    let identity = id.identity_id().unwrap();
    let creds = sdk
        .get_credentials_for_identity()
        .identity_id(identity)
        .logins(&login, &token)
        .send()
        .await
        .expect("credentials from the upstream STS");
    let c = creds.credentials().unwrap();
    assert_eq!(c.access_key_id(), Some("ASIAFAKESTSFAKESTS00"));
    let calls = fake.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].refused, None);
    assert_eq!(calls[0].fields["RoleArn"], real_role);
    let claims = calls[0]
        .claims
        .as_ref()
        .expect("the token verified at the fake");
    assert_eq!(claims["sub"], identity);
    assert_eq!(claims["aud"], aws_pool);
}
