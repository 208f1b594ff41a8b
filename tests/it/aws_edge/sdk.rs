//! The official STS client against Cognate: GetCallerIdentity signed with operator
//! credentials, and the refusals STS names for a wrong secret, an unknown key, a deleted
//! key and a wrong region.

use aws_sdk_sts::config::retry::RetryConfig;
use aws_sdk_sts::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sts::error::ProvideErrorMetadata;

use super::{keys, make_key};
use crate::support::server::TestServer;

fn sts(base: &str, region: &str, akid: &str, secret: &str) -> aws_sdk_sts::Client {
    let config = aws_sdk_sts::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .endpoint_url(base)
        .retry_config(RetryConfig::disabled())
        .credentials_provider(Credentials::new(akid, secret, None, None, "test"))
        .build();
    aws_sdk_sts::Client::from_conf(config)
}

/// The STS error code of a refused GetCallerIdentity.
async fn refused_code(client: &aws_sdk_sts::Client) -> String {
    let err = client
        .get_caller_identity()
        .send()
        .await
        .expect_err("refused");
    err.code()
        .unwrap_or_else(|| panic!("no error code: {err:?}"))
        .to_string()
}

#[tokio::test]
async fn sdk_get_caller_identity_with_operator_key() {
    let server = TestServer::start_with("", "account_id = \"123456789012\"", &[]).await;
    let key = make_key(&server, None, None).await;
    let client = sts(
        &server.base,
        "us-east-1",
        &key.access_key_id,
        key.secret.expose(),
    );
    let me = client
        .get_caller_identity()
        .send()
        .await
        .expect("signed call");
    assert_eq!(
        me.arn(),
        Some(format!("arn:aws:iam::123456789012:user/{}", key.access_key_id).as_str())
    );
    assert_eq!(me.user_id(), Some(key.access_key_id.as_str()));
    assert_eq!(me.account(), Some("123456789012"));

    // A chosen id and secret, as CI already holds them.
    let chosen = make_key(
        &server,
        Some("ci-deploy@example"),
        Some("a-chosen-secret-0123"),
    )
    .await;
    let client = sts(
        &server.base,
        "us-east-1",
        "ci-deploy@example",
        "a-chosen-secret-0123",
    );
    let me = client
        .get_caller_identity()
        .send()
        .await
        .expect("chosen key");
    assert_eq!(me.user_id(), Some(chosen.access_key_id.as_str()));

    // A resource server's key (purpose authorize) may name itself too: that manages
    // nothing.
    let checker = super::keys(&server)
        .create(
            cognate::core::admin_keys::NewAdminKey {
                access_key_id: None,
                secret: None,
                description: "resource server".into(),
                purpose: cognate::core::admin_keys::AdminKeyPurpose::Authorize,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    let client = sts(
        &server.base,
        "us-east-1",
        &checker.access_key_id,
        checker.secret.expose(),
    );
    let me = client
        .get_caller_identity()
        .send()
        .await
        .expect("authorize key");
    assert_eq!(me.user_id(), Some(checker.access_key_id.as_str()));
    server.stop().await;
}

#[tokio::test]
async fn sdk_refusals_are_named_as_sts_names_them() {
    let server = TestServer::start("").await;
    let key = make_key(&server, None, None).await;
    let id = key.access_key_id.as_str();
    let honest = sts(&server.base, "us-east-1", id, key.secret.expose());
    honest
        .get_caller_identity()
        .send()
        .await
        .expect("honest call");

    let wrong_secret = sts(&server.base, "us-east-1", id, "not-the-secret-at-all-0000");
    assert_eq!(refused_code(&wrong_secret).await, "SignatureDoesNotMatch");
    let unknown = sts(
        &server.base,
        "us-east-1",
        "AKIANOSUCHKEY0000000",
        key.secret.expose(),
    );
    assert_eq!(refused_code(&unknown).await, "InvalidClientTokenId");
    let wrong_region = sts(&server.base, "eu-west-1", id, key.secret.expose());
    assert_eq!(refused_code(&wrong_region).await, "SignatureDoesNotMatch");
    // Unsigned (no credentials at all is not possible with the SDK's client: a session
    // token on an operator key stands for credentials that are not an operator's).
    let with_token = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&server.base)
            .retry_config(RetryConfig::disabled())
            .credentials_provider(Credentials::new(
                id,
                key.secret.expose(),
                Some("a-session-token".into()),
                None,
                "test",
            ))
            .build(),
    );
    assert_eq!(refused_code(&with_token).await, "InvalidClientTokenId");

    // The honest call still works; after deletion the same client is refused at once.
    honest
        .get_caller_identity()
        .send()
        .await
        .expect("still fine");
    assert!(keys(&server).delete(id).await.unwrap());
    assert_eq!(refused_code(&honest).await, "InvalidClientTokenId");
    server.stop().await;
}
