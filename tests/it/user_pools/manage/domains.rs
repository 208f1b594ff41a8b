//! Domains through the user pools API (issue 15 items 1 and 4), driven by the official AWS
//! SDK for Rust signed with an operator key: CreateUserPoolDomain, DescribeUserPoolDomain
//! (an unknown domain is an empty `DomainDescription`, as in Cognito),
//! UpdateUserPoolDomain, DeleteUserPoolDomain; a name unique across pools, also under a
//! parallel burst of creates (exactly one wins); one prefix and one custom domain per pool;
//! Cognito's prefix pattern and reserved words; custom domains need a certificate; settings
//! Cognate cannot honour refused; an unsigned call refused; deleting a pool deletes its
//! domains.

use aws_sdk_cognitoidentityprovider::types::{CustomDomainConfigType, DomainStatusType};
use cognate::core::admin::{AdminService, PoolDomains};

use super::super::admin::refusal;
use super::super::{operator_client, public_client, MFA_ON_POOL, MFA_POOL, POOL};

const ARN: &str =
    "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab";
const ARN2: &str = "arn:aws:acm:us-east-1:123456789012:certificate/second";

fn cert(arn: &str) -> CustomDomainConfigType {
    CustomDomainConfigType::builder()
        .certificate_arn(arn)
        .build()
        .unwrap()
}

#[tokio::test]
async fn domains_are_created_described_updated_and_deleted() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let public_host = url::Url::parse(&server.base)
        .unwrap()
        .host_str()
        .unwrap()
        .to_string();

    // A prefix domain.
    let out = admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("my-app")
        .send()
        .await
        .expect("CreateUserPoolDomain");
    assert_eq!(out.managed_login_version(), Some(1));
    assert_eq!(out.cloud_front_domain(), Some(public_host.as_str()));
    let described = admin
        .describe_user_pool_domain()
        .domain("my-app")
        .send()
        .await
        .expect("DescribeUserPoolDomain");
    let d = described.domain_description().expect("DomainDescription");
    assert_eq!(d.user_pool_id(), Some(POOL));
    assert_eq!(d.domain(), Some("my-app"));
    assert_eq!(d.status(), Some(&DomainStatusType::Active));
    assert!(d.aws_account_id().is_some_and(|a| a.len() == 12), "{d:?}");
    assert_eq!(d.cloud_front_distribution(), Some(public_host.as_str()));
    assert!(d.custom_domain_config().is_none());
    assert_eq!(d.managed_login_version(), Some(1));

    // A custom domain beside it, managed login version 2.
    let out = admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("auth.example.com")
        .custom_domain_config(cert(ARN))
        .managed_login_version(2)
        .send()
        .await
        .expect("CreateUserPoolDomain custom");
    assert_eq!(out.managed_login_version(), Some(2));
    assert_eq!(out.cloud_front_domain(), Some(public_host.as_str()));
    let described = admin
        .describe_user_pool_domain()
        .domain("auth.example.com")
        .send()
        .await
        .unwrap();
    let d = described.domain_description().unwrap();
    assert_eq!(
        d.custom_domain_config().map(|c| c.certificate_arn()),
        Some(ARN)
    );
    assert_eq!(d.managed_login_version(), Some(2));

    // What DescribeUserPool names (the service method the pool actions call).
    let names = AdminService::new(server.node.store.clone())
        .pool_domains(POOL)
        .await
        .unwrap();
    assert_eq!(
        names,
        PoolDomains {
            prefix: Some("my-app".into()),
            custom: Some("auth.example.com".into()),
        }
    );

    // Update replaces the certificate; an omitted ManagedLoginVersion goes back to 1.
    let out = admin
        .update_user_pool_domain()
        .user_pool_id(POOL)
        .domain("auth.example.com")
        .custom_domain_config(cert(ARN2))
        .send()
        .await
        .expect("UpdateUserPoolDomain");
    assert_eq!(out.managed_login_version(), Some(1));
    let described = admin
        .describe_user_pool_domain()
        .domain("auth.example.com")
        .send()
        .await
        .unwrap();
    let d = described.domain_description().unwrap();
    assert_eq!(
        d.custom_domain_config().map(|c| c.certificate_arn()),
        Some(ARN2)
    );
    assert_eq!(d.managed_login_version(), Some(1));
    // A custom domain keeps needing its certificate; a prefix cannot take one.
    let err = admin
        .update_user_pool_domain()
        .user_pool_id(POOL)
        .domain("auth.example.com")
        .managed_login_version(2)
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("CertificateArn"), "{message}");
    let err = admin
        .update_user_pool_domain()
        .user_pool_id(POOL)
        .domain("my-app")
        .custom_domain_config(cert(ARN))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
    admin
        .update_user_pool_domain()
        .user_pool_id(POOL)
        .domain("my-app")
        .managed_login_version(2)
        .send()
        .await
        .expect("UpdateUserPoolDomain prefix");
    // Another pool's domain, or an unknown one, cannot be updated.
    let err = admin
        .update_user_pool_domain()
        .user_pool_id(MFA_POOL)
        .domain("my-app")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");

    // Delete: only by its own pool.
    let err = admin
        .delete_user_pool_domain()
        .user_pool_id(MFA_POOL)
        .domain("my-app")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
    admin
        .delete_user_pool_domain()
        .user_pool_id(POOL)
        .domain("my-app")
        .send()
        .await
        .expect("DeleteUserPoolDomain");
    let described = admin
        .describe_user_pool_domain()
        .domain("my-app")
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.domain_description().map(|d| d.domain()),
        Some(None),
        "{described:?}"
    );
    let err = admin
        .delete_user_pool_domain()
        .user_pool_id(POOL)
        .domain("my-app")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
    server.stop().await;
}

#[tokio::test]
async fn an_unknown_domain_is_an_empty_description() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let out = admin
        .describe_user_pool_domain()
        .domain("never-made")
        .send()
        .await
        .expect("DescribeUserPoolDomain of an unknown domain");
    let d = out
        .domain_description()
        .expect("an empty DomainDescription");
    assert_eq!(d.domain(), None);
    assert_eq!(d.user_pool_id(), None);
    assert_eq!(d.status(), None);
    server.stop().await;
}

#[tokio::test]
async fn a_name_belongs_to_one_pool_and_a_pool_has_one_domain_of_each_kind() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("shared-name")
        .send()
        .await
        .unwrap();
    // The same name for another pool, and for the same pool again.
    for pool in [MFA_POOL, POOL] {
        let err = admin
            .create_user_pool_domain()
            .user_pool_id(pool)
            .domain("shared-name")
            .send()
            .await
            .unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException", "{pool}");
        assert!(message.contains("already associated"), "{message}");
    }
    // A second prefix domain for the pool.
    let err = admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("second-prefix")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("already has a prefix domain"), "{message}");
    // Another pool may have that name.
    admin
        .create_user_pool_domain()
        .user_pool_id(MFA_POOL)
        .domain("second-prefix")
        .send()
        .await
        .expect("another pool's prefix");
    // One custom domain per pool.
    admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("login.example.com")
        .custom_domain_config(cert(ARN))
        .send()
        .await
        .unwrap();
    let err = admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("login2.example.com")
        .custom_domain_config(cert(ARN))
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("already has a custom domain"), "{message}");

    // A parallel burst of creates of one name from three pools: exactly one wins.
    let pools = [POOL, MFA_POOL, MFA_ON_POOL];
    let mut tasks = Vec::new();
    for i in 0..12 {
        let admin = admin.clone();
        let pool = pools[i % 3];
        tasks.push(tokio::spawn(async move {
            admin
                .create_user_pool_domain()
                .user_pool_id(pool)
                .domain("burst.example.org")
                .custom_domain_config(cert(ARN))
                .send()
                .await
                .map(|_| pool)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(pool) => winners.push(pool),
            Err(e) => assert_eq!(refusal(&e).0, "InvalidParameterException"),
        }
    }
    // POOL already has a custom domain, so a winner is one of the other two.
    assert_eq!(winners.len(), 1, "{winners:?}");
    let stored = server
        .node
        .store
        .get_domain("burst.example.org")
        .await
        .unwrap()
        .expect("the winner's domain");
    assert_eq!(stored.pool_id, winners[0]);

    // Deleting a pool deletes its domains (in the store), freeing the names.
    assert!(server.node.store.delete_pool(MFA_POOL).await.unwrap());
    assert!(server
        .node
        .store
        .get_domain("second-prefix")
        .await
        .unwrap()
        .is_none());
    admin
        .create_user_pool_domain()
        .user_pool_id(MFA_ON_POOL)
        .domain("second-prefix")
        .send()
        .await
        .expect("a freed name");
    server.stop().await;
}

#[tokio::test]
async fn bad_names_and_unhonoured_settings_are_refused() {
    let server = super::super::start().await;
    let admin = operator_client(&server).await;
    let long = "x".repeat(64);
    for bad in ["-app", "app-", "My-App", "my_app", "my.app", long.as_str()] {
        let err = admin
            .create_user_pool_domain()
            .user_pool_id(POOL)
            .domain(bad)
            .send()
            .await
            .unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException", "{bad}");
        assert!(message.starts_with("Domain"), "{bad}: {message}");
    }
    for reserved in ["aws", "my-amazon", "cognito-login"] {
        let err = admin
            .create_user_pool_domain()
            .user_pool_id(POOL)
            .domain(reserved)
            .send()
            .await
            .unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException", "{reserved}");
        assert!(message.contains("reserved"), "{message}");
    }
    // A custom domain: a host name with an ACM certificate.
    for bad in [
        "localhost",
        "Auth.Example.com",
        "10.0.0.1",
        "a..example.com",
    ] {
        let err = admin
            .create_user_pool_domain()
            .user_pool_id(POOL)
            .domain(bad)
            .custom_domain_config(cert(ARN))
            .send()
            .await
            .unwrap_err();
        assert_eq!(refusal(&err).0, "InvalidParameterException", "{bad}");
    }
    let err = admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("auth.example.com")
        .custom_domain_config(cert("arn:aws:iam::123456789012:role/NotACertificate"))
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("CustomDomainConfig.CertificateArn"),
        "{message}"
    );
    // ManagedLoginVersion is 1 or 2.
    let err = admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("versioned")
        .managed_login_version(3)
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("managedLoginVersion"), "{message}");
    // A security policy is the proxy's to choose: refused, not ignored.
    let err = admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("auth.example.com")
        .custom_domain_config(
            CustomDomainConfigType::builder()
                .certificate_arn(ARN)
                .security_policy(
                    aws_sdk_cognitoidentityprovider::types::SecurityPolicyType::from(
                        "TLSv1.2_2021",
                    ),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("SecurityPolicy"), "{message}");
    // Multi-region failover routing is not something Cognate does: refused, not ignored.
    let err = admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("routed")
        .routing(aws_sdk_cognitoidentityprovider::types::RoutingType::builder().build())
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("Routing"), "{message}");
    // An unknown pool.
    let err = admin
        .create_user_pool_domain()
        .user_pool_id("us-east-1_Nope0000")
        .domain("orphan")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    // Nothing of it was stored; the honest prefix is.
    assert!(server
        .node
        .store
        .list_domains(POOL)
        .await
        .unwrap()
        .is_empty());
    admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("versioned")
        .managed_login_version(2)
        .send()
        .await
        .expect("the honest create");
    server.stop().await;
}

#[tokio::test]
async fn unsigned_domain_calls_are_refused() {
    let server = super::super::start().await;
    let sdk = public_client(&server);
    let err = sdk
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("sneaky")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnrecognizedClientException");
    let err = sdk
        .describe_user_pool_domain()
        .domain("sneaky")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnrecognizedClientException");
    // A real operator key id signed with the wrong secret.
    let key = crate::aws_edge::make_key(&server, None, None).await;
    let forged = super::super::client_with(&server.base, &key.access_key_id, "not-its-secret");
    let err = forged
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("sneaky")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidSignatureException");
    assert!(server
        .node
        .store
        .get_domain("sneaky")
        .await
        .unwrap()
        .is_none());
    operator_client(&server)
        .await
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("sneaky")
        .send()
        .await
        .expect("the signed call");
    server.stop().await;
}

#[tokio::test]
async fn domains_of_the_configuration_file_are_the_files() {
    const CFG_ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/cfg";
    let toml = super::super::pools_toml().replace(
        "mfa = \"ON\"\n",
        &format!(
            "mfa = \"ON\"\ndomain = \"cfg-prefix\"\ncustom_domain = {{ domain = \"cfg.example.com\", certificate_arn = \"{CFG_ARN}\" }}\n"
        ),
    );
    let env = super::super::secrets_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = crate::support::server::TestServer::start_with(&toml, "", &env).await;
    let admin = operator_client(&server).await;

    // Applied at start, as file-owned records, and readable through the API.
    let names = AdminService::new(server.node.store.clone())
        .pool_domains(MFA_ON_POOL)
        .await
        .unwrap();
    assert_eq!(names.prefix.as_deref(), Some("cfg-prefix"));
    assert_eq!(names.custom.as_deref(), Some("cfg.example.com"));
    let stored = server
        .node
        .store
        .get_domain("cfg-prefix")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.origin, cognate::core::model::Origin::Config);
    let described = admin
        .describe_user_pool_domain()
        .domain("cfg.example.com")
        .send()
        .await
        .unwrap();
    let d = described.domain_description().unwrap();
    assert_eq!(d.user_pool_id(), Some(MFA_ON_POOL));
    assert_eq!(
        d.custom_domain_config().map(|c| c.certificate_arn()),
        Some(CFG_ARN)
    );

    // Not changeable nor deletable through the API; its name is taken for other pools.
    let err = admin
        .update_user_pool_domain()
        .user_pool_id(MFA_ON_POOL)
        .domain("cfg.example.com")
        .custom_domain_config(cert(ARN))
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "NotAuthorizedException");
    assert!(message.contains("configuration file"), "{message}");
    let err = admin
        .delete_user_pool_domain()
        .user_pool_id(MFA_ON_POOL)
        .domain("cfg-prefix")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
    let err = admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("cfg-prefix")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
    let stored = server
        .node
        .store
        .get_domain("cfg.example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.certificate_arn.as_deref(), Some(CFG_ARN));
    assert!(server
        .node
        .store
        .get_domain("cfg-prefix")
        .await
        .unwrap()
        .is_some());
    // The honest call: an API domain for another pool.
    admin
        .create_user_pool_domain()
        .user_pool_id(POOL)
        .domain("api-prefix")
        .send()
        .await
        .expect("an API domain beside the file's");
    server.stop().await;
}
