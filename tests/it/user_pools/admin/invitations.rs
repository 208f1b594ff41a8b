//! AdminCreateUser: the invitation mail and its temporary password through the sign-in
//! API, SUPPRESS, RESEND, ForceAliasCreation, and the refusals beside the honest call.

use aws_sdk_cognitoidentityprovider::types::{
    ChallengeNameType, DeliveryMediumType, MessageActionType, UserStatusType,
};

use super::super::{confirmed_user, operator_client, public_client, start, APP, POOL};
use super::{api_sign_in, attr, body_text, invitations, refusal, sign_in_core, status_of};
use cognate::core::model::UserStatus;

#[tokio::test]
async fn admin_create_user_mails_an_invitation_whose_temporary_password_signs_in() {
    let server = start().await;
    let admin = operator_client(&server).await;

    let out = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("ivy")
        .user_attributes(attr("email", "ivy@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .user_attributes(attr("name", "Ivy"))
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await
        .expect("AdminCreateUser");
    let user = out.user().expect("User");
    assert_eq!(user.username(), Some("ivy"));
    assert_eq!(
        user.user_status(),
        Some(&UserStatusType::ForceChangePassword)
    );
    assert!(user.enabled());
    assert!(user.user_create_date().is_some());
    let names: Vec<&str> = user.attributes().iter().map(|a| a.name()).collect();
    assert!(
        names.contains(&"sub") && names.contains(&"email"),
        "{names:?}"
    );

    // The invitation: username and a generated temporary password meeting the policy.
    let passwords = invitations(&server, "ivy@example.com");
    assert_eq!(passwords.len(), 1, "{:?}", server.inbox.all());
    let temporary = &passwords[0];
    assert!(temporary.len() >= 12, "{temporary}");
    let mail: String = server.inbox.all().iter().map(|m| body_text(m)).collect();
    assert!(mail.contains("Your username is ivy"), "{mail}");

    // AdminGetUser: Cognito's shape.
    let got = admin
        .admin_get_user()
        .user_pool_id(POOL)
        .username("ivy")
        .send()
        .await
        .expect("AdminGetUser");
    assert_eq!(got.username(), "ivy");
    assert_eq!(
        got.user_status(),
        Some(&UserStatusType::ForceChangePassword)
    );
    assert!(got.enabled());
    assert!(got.user_last_modified_date().is_some());
    assert!(got.mfa_options().is_empty());
    let name = got.user_attributes().iter().find(|a| a.name() == "name");
    assert_eq!(name.and_then(|a| a.value()), Some("Ivy"));
    // Found by its verified email alias too.
    let by_alias = admin
        .admin_get_user()
        .user_pool_id(POOL)
        .username("ivy@example.com")
        .send()
        .await
        .expect("AdminGetUser by alias");
    assert_eq!(by_alias.username(), "ivy");

    // The temporary password signs in through the API, to the NEW_PASSWORD_REQUIRED
    // challenge; a wrong one does not.
    assert_eq!(
        api_sign_in(&server, "ivy", "Wrong-passw0rd!").await,
        Err("NotAuthorizedException".to_string())
    );
    let (challenge, session) = api_sign_in(&server, "ivy", temporary)
        .await
        .expect("the temporary password signs in");
    assert_eq!(challenge, Some(ChallengeNameType::NewPasswordRequired));
    let answered = public_client(&server)
        .respond_to_auth_challenge()
        .client_id(APP)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(session.expect("Session"))
        .challenge_responses("USERNAME", "ivy")
        .challenge_responses("NEW_PASSWORD", "Brand-new-passw0rd")
        .send()
        .await
        .expect("NEW_PASSWORD_REQUIRED");
    assert!(answered.authentication_result().is_some(), "{answered:?}");
    assert_eq!(status_of(&admin, "ivy").await, UserStatusType::Confirmed);
    assert_eq!(
        api_sign_in(&server, "ivy", "Brand-new-passw0rd").await,
        Ok((None, None)),
        "the new password signs in"
    );

    // A taken username.
    let err = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("ivy")
        .user_attributes(attr("email", "other@example.com"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UsernameExistsException");
    // Another user claiming Ivy's verified address as verified.
    let err = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("ivy2")
        .user_attributes(attr("email", "ivy@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "AliasExistsException");
    assert!(server.find_user(POOL, "ivy2").await.is_none());
    // ForceAliasCreation moves the alias: Ivy's copy becomes unverified.
    admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("ivy2")
        .user_attributes(attr("email", "ivy@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .force_alias_creation(true)
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser ForceAliasCreation");
    let holder = server.find_user(POOL, "ivy@example.com").await.unwrap();
    assert_eq!(holder.username, "ivy2");
    let ivy = server.find_user(POOL, "ivy").await.unwrap();
    assert_eq!(ivy.attribute("email_verified"), Some("false"));
}

#[tokio::test]
async fn suppress_sends_nothing_and_resend_sends_a_new_temporary_password() {
    let server = start().await;
    let admin = operator_client(&server).await;
    let given = "Given-temp-passw0rd";

    let out = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("jude")
        .temporary_password(given)
        .user_attributes(attr("email", "jude@example.com"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser SUPPRESS");
    assert_eq!(
        out.user().and_then(|u| u.user_status()),
        Some(&UserStatusType::ForceChangePassword)
    );
    assert!(invitations(&server, "jude@example.com").is_empty());
    sign_in_core(&server, "jude", given)
        .await
        .expect("the given temporary password");

    // RESEND: a new temporary password, mailed; the old one stops working.
    admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("jude")
        .message_action(MessageActionType::Resend)
        .send()
        .await
        .expect("AdminCreateUser RESEND");
    let passwords = invitations(&server, "jude@example.com");
    assert_eq!(passwords.len(), 1, "{:?}", server.inbox.all());
    assert_ne!(passwords[0], given);
    assert!(sign_in_core(&server, "jude", given).await.is_err());
    let user = sign_in_core(&server, "jude", &passwords[0])
        .await
        .expect("the resent password");
    assert_eq!(user.status, UserStatus::ForceChangePassword);

    // RESEND to nobody, and to a user past FORCE_CHANGE_PASSWORD.
    let err = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("nobody")
        .message_action(MessageActionType::Resend)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UserNotFoundException");
    confirmed_user(&server, POOL, "kim", "kim@example.com").await;
    let err = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("kim")
        .message_action(MessageActionType::Resend)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnsupportedUserStateException");
    assert!(invitations(&server, "kim@example.com").is_empty());
}

#[tokio::test]
async fn admin_create_user_refuses_bad_input_and_what_it_cannot_deliver() {
    let server = start().await;
    let admin = operator_client(&server).await;

    // SMS is refused clearly, naming the field; nothing is created.
    let err = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("lou")
        .user_attributes(attr("email", "lou@example.com"))
        .desired_delivery_mediums(DeliveryMediumType::Sms)
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("DesiredDeliveryMediums"), "{message}");
    // No address to mail the invitation to.
    let err = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("lou")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
    assert!(server.find_user(POOL, "lou").await.is_none());
    // An unknown MessageAction names the field.
    let err = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("lou")
        .message_action(MessageActionType::from("SHOUT"))
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("messageAction"), "{message}");
    // A temporary password below the pool's policy.
    let err = admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("lou")
        .temporary_password("short")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidPasswordException");
    // An unknown pool.
    let err = admin
        .admin_create_user()
        .user_pool_id("us-east-1_Nowhere00")
        .username("lou")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    assert!(server.find_user(POOL, "lou").await.is_none());

    // The honest call.
    admin
        .admin_create_user()
        .user_pool_id(POOL)
        .username("lou")
        .user_attributes(attr("email", "lou@example.com"))
        .send()
        .await
        .expect("AdminCreateUser");
    assert_eq!(invitations(&server, "lou@example.com").len(), 1);
}
