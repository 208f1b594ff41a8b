//! AdminLinkProviderForUser and AdminDisableProviderForUser, with federated sign-ins
//! through a fake Google: the linked identity signs in as the local user, until the link
//! is disabled; the refusals beside the honest calls.

use aws_sdk_cognitoidentityprovider::types::ProviderUserIdentifierType;
use serde_json::json;

use super::super::{operator_client, PASSWORD};
use super::refusal;
use crate::support::federated::{self, fake_google, google_idp, GOOGLE_SECRET_ENV};
use crate::support::server::TestServer;

const LINK_POOL: &str = "us-east-1_AdmLink001";
const LINK_CALLBACK: &str = "https://app.example.com/cb";
const LINK_VERIFIER: &str = "admin-link-test-verifier-0123456789-abcdefghijklmnop";

fn link_rp() -> federated::Client {
    federated::Client::new("admlinkweb", LINK_CALLBACK, LINK_VERIFIER)
}

fn source(provider: &str, subject: &str) -> ProviderUserIdentifierType {
    ProviderUserIdentifierType::builder()
        .provider_name(provider)
        .provider_attribute_name("Cognito_Subject")
        .provider_attribute_value(subject)
        .build()
}

fn destination(username: &str) -> ProviderUserIdentifierType {
    ProviderUserIdentifierType::builder()
        .provider_name("Cognito")
        .provider_attribute_value(username)
        .build()
}

#[tokio::test]
async fn a_linked_identity_signs_in_as_the_local_user_until_the_link_is_disabled() {
    let google = fake_google().await;
    let pools = format!(
        "[[pools]]\nid = \"{LINK_POOL}\"\nname = \"Admin links\"\n{}{}",
        google_idp(&google.issuer),
        link_rp().toml(&["Google"])
    );
    let server = TestServer::start_with(&pools, "idp_timeout_secs = 5", &[GOOGLE_SECRET_ENV]).await;
    let ana = server
        .create_user(
            LINK_POOL,
            "ana",
            [("email".to_string(), "ana@example.com".to_string())].into(),
            PASSWORD,
        )
        .await;
    let admin = operator_client(&server).await;
    let sign_in = || async {
        let url = link_rp().authorize_url(&server.base, &[("identity_provider", "Google")]);
        let redirect = federated::sign_in(&url)
            .await
            .unwrap_or_else(|e| panic!("the sign-in failed: {e:?}"));
        link_rp().id_token(&server.base, &redirect).await
    };
    google.set_user(
        "g-ana",
        json!({"email": "ana.b@gmail.example", "email_verified": true, "name": "Ana G"}),
    );

    // Refused: an unknown provider, Cognito as the source, an unknown destination.
    for (src, dst, expected) in [
        (
            source("Okta", "g-ana"),
            destination("ana"),
            "InvalidParameterException",
        ),
        (
            source("Cognito", "ana"),
            destination("ana"),
            "InvalidParameterException",
        ),
        (
            source("Google", "g-ana"),
            destination("nobody"),
            "UserNotFoundException",
        ),
    ] {
        let err = admin
            .admin_link_provider_for_user()
            .user_pool_id(LINK_POOL)
            .source_user(src)
            .destination_user(dst)
            .send()
            .await
            .unwrap_err();
        assert_eq!(refusal(&err).0, expected);
    }
    assert!(server
        .find_user(LINK_POOL, "ana")
        .await
        .unwrap()
        .identities
        .is_empty());

    // The honest link: Ana's Google identity signs in as Ana.
    admin
        .admin_link_provider_for_user()
        .user_pool_id(LINK_POOL)
        .source_user(source("Google", "g-ana"))
        .destination_user(destination("ana"))
        .send()
        .await
        .expect("AdminLinkProviderForUser");
    let id = sign_in().await;
    assert_eq!(id["sub"], ana.sub.as_str());
    assert_eq!(id["cognito:username"], "ana");
    let got = admin
        .admin_get_user()
        .user_pool_id(LINK_POOL)
        .username("ana")
        .send()
        .await
        .unwrap();
    assert!(got
        .user_attributes()
        .iter()
        .any(|a| a.name() == "identities"));

    // The identity is Ana's: it cannot be linked to Bob too.
    server
        .create_user(
            LINK_POOL,
            "bob",
            [("email".to_string(), "bob@example.com".to_string())].into(),
            PASSWORD,
        )
        .await;
    let err = admin
        .admin_link_provider_for_user()
        .user_pool_id(LINK_POOL)
        .source_user(source("Google", "g-ana"))
        .destination_user(destination("bob"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "AliasExistsException");

    // Disabled: the link is removed, and the identity's next sign-in is a new user.
    admin
        .admin_disable_provider_for_user()
        .user_pool_id(LINK_POOL)
        .user(source("Google", "g-ana"))
        .send()
        .await
        .expect("AdminDisableProviderForUser");
    assert!(server
        .find_user(LINK_POOL, "ana")
        .await
        .unwrap()
        .identities
        .is_empty());
    let id = sign_in().await;
    assert_eq!(id["cognito:username"], "Google_g-ana");
    assert_ne!(id["sub"], ana.sub.as_str());

    // That federated-only user is disabled by the same call (its identity is its only
    // way in), and its sign-in is refused.
    admin
        .admin_disable_provider_for_user()
        .user_pool_id(LINK_POOL)
        .user(source("Google", "g-ana"))
        .send()
        .await
        .expect("AdminDisableProviderForUser");
    let fed = server.find_user(LINK_POOL, "Google_g-ana").await.unwrap();
    assert!(!fed.enabled);
    let url = link_rp().authorize_url(&server.base, &[("identity_provider", "Google")]);
    assert!(federated::sign_in(&url).await.is_err(), "a disabled user");
    // An identity nobody holds.
    let err = admin
        .admin_disable_provider_for_user()
        .user_pool_id(LINK_POOL)
        .user(source("Google", "g-nobody"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UserNotFoundException");
}
