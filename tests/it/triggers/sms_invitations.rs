//! AdminCreateUser invitations by SMS (issue 16 item 4): the temporary password reaches the
//! pool's custom SMS sender encrypted (`CustomSMSSender_AdminCreateUser`), the receiver
//! decrypts it with OpenSSL and signs in with it; a pool that cannot send SMS refuses.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType, DeliveryMediumType};

use super::attr;
use super::sms_mfa::{nth_sms, start, APP, PHONE, POOL};
use crate::support::pg::PgNodeEnv;
use crate::support::server::TestServer;
use crate::user_pools::{operator_client, public_client};

async fn sms_invitation_delivers_an_encrypted_temporary_password(env: &[(&str, &str)]) {
    let (server, hooks, keys) = start(env, 50).await;
    let admin = operator_client(&server).await;
    admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("ned")
        .user_attributes(attr("phone_number", PHONE))
        .user_attributes(attr("phone_number_verified", "true"))
        .desired_delivery_mediums(DeliveryMediumType::Sms)
        .send()
        .await
        .unwrap();
    let event = nth_sms(&hooks, 1).await;
    assert_eq!(
        event["triggerSource"], "CustomSMSSender_AdminCreateUser",
        "{event}"
    );
    assert_eq!(event["request"]["userAttributes"]["phone_number"], PHONE);
    let encrypted = event["request"]["code"].as_str().unwrap();
    let temporary = keys.decrypt(encrypted);
    assert!(!encrypted.contains(&temporary));
    assert!(
        server.inbox.all().is_empty(),
        "no mail: {:?}",
        server.inbox.all()
    );
    // The temporary password signs in, to NEW_PASSWORD_REQUIRED.
    let sdk = public_client(&server);
    let out = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ned")
        .auth_parameters("PASSWORD", &temporary)
        .send()
        .await
        .unwrap();
    assert_eq!(
        out.challenge_name,
        Some(ChallengeNameType::NewPasswordRequired)
    );
    server.stop().await;
}

#[tokio::test]
async fn an_sms_invitation_delivers_an_encrypted_temporary_password_on_sqlite() {
    sms_invitation_delivers_an_encrypted_temporary_password(&[]).await;
}

#[tokio::test]
async fn an_sms_invitation_delivers_an_encrypted_temporary_password_on_postgres() {
    let Some(pg) = PgNodeEnv::new("sms_invite").await else {
        return;
    };
    sms_invitation_delivers_an_encrypted_temporary_password(&pg.vars()).await;
    pg.cleanup().await;
}

#[tokio::test]
async fn an_sms_invitation_is_refused_by_a_pool_that_cannot_send_sms() {
    let server =
        TestServer::start(&format!("[[pools]]\nid = \"{POOL}\"\nname = \"plain\"\n")).await;
    let admin = operator_client(&server).await;
    let err = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("ola")
        .user_attributes(attr("phone_number", PHONE))
        .desired_delivery_mediums(DeliveryMediumType::Sms)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InvalidParameterException"));
    assert!(
        err.message()
            .unwrap_or_default()
            .contains("custom SMS sender"),
        "{err:?}"
    );
    assert!(server.find_user(POOL, "ola").await.is_none());
    // The honest invitation by email.
    admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("ola")
        .user_attributes(attr("email", "ola@example.com"))
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await
        .unwrap();
    assert!(server.find_user(POOL, "ola").await.is_some());
    server.stop().await;
}
