//! The signed administration of users (issue 14 item 6), through the official AWS SDK
//! signed with an operator key: AdminCreateUser's invitation mail (read from the SMTP
//! sink, its temporary password then used), SUPPRESS, RESEND and ForceAliasCreation,
//! AdminGetUser,
//! AdminUpdateUserAttributes / AdminDeleteUserAttributes, AdminDisableUser /
//! AdminEnableUser, AdminSetUserPassword, AdminResetUserPassword (then the mailed code),
//! AdminConfirmSignUp, AdminDeleteUser, AdminUserGlobalSignOut (refresh tokens end), and
//! AdminLinkProviderForUser / AdminDisableProviderForUser with a federated sign-in through
//! a fake Google. Every refusal (unsigned, a non-operator key, an unknown pool or user, a
//! bad parameter naming its field, a taken name or alias) sits beside the honest call.
//!
//! The users then sign in through the public API as an app does: InitiateAuth
//! USER_PASSWORD_AUTH, the NEW_PASSWORD_REQUIRED challenge, ConfirmForgotPassword.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ChallengeNameType, DeliveryMediumType, MessageActionType,
    ProviderUserIdentifierType, UserStatusType,
};
use aws_sdk_cognitoidentityprovider::Client;
use serde_json::json;

use cognate::core::directory::DirectoryError;
use cognate::core::model::UserStatus;
use cognate::core::secrets::SecretString;

use super::{confirmed_user, operator_client, public_client, start, APP, CALLBACK, PASSWORD, POOL};
use crate::support::federated::{self, fake_google, google_idp, GOOGLE_SECRET_ENV};
use crate::support::server::{browser_client, TestServer};

/// The code and message of a refused call.
pub(super) fn refusal<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E) -> (String, String) {
    let code = err
        .code()
        .unwrap_or_else(|| panic!("no error code: {err:?}"))
        .to_string();
    (code, err.message().unwrap_or_default().to_string())
}

fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}

/// A message's body as a mail client shows it: quoted-printable decoded (the sender
/// picks it for long lines), soft line breaks joined.
fn body_text(message: &str) -> String {
    let (head, body) = message.split_once("\r\n\r\n").unwrap_or(("", message));
    if !head.contains("quoted-printable") {
        return body.to_string();
    }
    let joined = body.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The temporary passwords mailed to `to` so far, oldest first.
fn invitations(server: &TestServer, to: &str) -> Vec<String> {
    const LEAD: &str = "temporary password is ";
    server
        .inbox
        .all()
        .iter()
        .filter(|m| m.contains(&format!("To: {to}\r\n")))
        .map(|m| body_text(m))
        .filter_map(|body| {
            let start = body.find(LEAD)? + LEAD.len();
            Some(
                body[start..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect()
}

/// InitiateAuth USER_PASSWORD_AUTH through the SDK as an app sends it (client [`APP`]):
/// the challenge's name and session (both `None` for tokens), or the refusal's code.
async fn api_sign_in(
    server: &TestServer,
    username: &str,
    password: &str,
) -> Result<(Option<ChallengeNameType>, Option<String>), String> {
    public_client(server)
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map(|out| {
            assert!(
                out.challenge_name().is_some() || out.authentication_result().is_some(),
                "{out:?}"
            );
            (
                out.challenge_name().cloned(),
                out.session().map(str::to_string),
            )
        })
        .map_err(|e| refusal(&e).0)
}

async fn sign_in_core(
    server: &TestServer,
    login: &str,
    password: &str,
) -> Result<cognate::core::model::User, DirectoryError> {
    let pool = server.pool(POOL).await;
    server
        .node
        .directory
        .authenticate(
            &pool,
            login,
            &SecretString::new(password),
            cognate::core::now(),
        )
        .await
}

async fn status_of(client: &Client, username: &str) -> UserStatusType {
    client
        .admin_get_user()
        .user_pool_id(POOL)
        .username(username)
        .send()
        .await
        .expect("AdminGetUser")
        .user_status()
        .cloned()
        .expect("UserStatus")
}

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

#[tokio::test]
async fn admin_calls_need_an_operator_signature() {
    let server = start().await;
    confirmed_user(&server, POOL, "mo", "mo@example.com").await;
    let admin = operator_client(&server).await;
    admin
        .admin_get_user()
        .user_pool_id(POOL)
        .username("mo")
        .send()
        .await
        .expect("the operator's call");

    // Signed with a key that is no operator's.
    let err = public_client(&server)
        .admin_get_user()
        .user_pool_id(POOL)
        .username("mo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnrecognizedClientException");
    let err = public_client(&server)
        .admin_delete_user()
        .user_pool_id(POOL)
        .username("mo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "UnrecognizedClientException");

    // Not signed at all.
    let response = crate::aws_edge::client()
        .post(format!("{}/", server.base))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.AdminDeleteUser",
        )
        .body(json!({"UserPoolId": POOL, "Username": "mo"}).to_string())
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error());
    assert_eq!(
        response
            .headers()
            .get("x-amzn-ErrorType")
            .and_then(|v| v.to_str().ok()),
        Some("MissingAuthenticationTokenException")
    );
    assert!(server.find_user(POOL, "mo").await.is_some(), "still there");
}

#[tokio::test]
async fn unknown_pools_and_users_are_named() {
    let server = start().await;
    confirmed_user(&server, POOL, "nat", "nat@example.com").await;
    let admin = operator_client(&server).await;
    admin
        .admin_get_user()
        .user_pool_id(POOL)
        .username("nat")
        .send()
        .await
        .expect("a known user");
    let err = admin
        .admin_get_user()
        .user_pool_id(POOL)
        .username("nobody")
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        refusal(&err),
        (
            "UserNotFoundException".to_string(),
            "User does not exist.".to_string()
        )
    );
    let err = admin
        .admin_get_user()
        .user_pool_id("us-east-1_Nowhere00")
        .username("nat")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    for err in [
        admin
            .admin_disable_user()
            .user_pool_id(POOL)
            .username("nobody")
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .into_service_error()
            .code()
            .map(str::to_string),
        admin
            .admin_delete_user()
            .user_pool_id(POOL)
            .username("nobody")
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .into_service_error()
            .code()
            .map(str::to_string),
        admin
            .admin_user_global_sign_out()
            .user_pool_id(POOL)
            .username("nobody")
            .send()
            .await
            .map(|_| ())
            .unwrap_err()
            .into_service_error()
            .code()
            .map(str::to_string),
    ] {
        assert_eq!(err.as_deref(), Some("UserNotFoundException"));
    }
}

#[tokio::test]
async fn attributes_are_updated_and_deleted_under_the_directory_rules() {
    let server = start().await;
    confirmed_user(&server, POOL, "olga", "olga@example.com").await;
    confirmed_user(&server, POOL, "pia", "pia@example.com").await;
    let admin = operator_client(&server).await;

    admin
        .admin_update_user_attributes()
        .user_pool_id(POOL)
        .username("olga")
        .user_attributes(attr("name", "Olga"))
        .user_attributes(attr("email", "olga@new.example"))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .expect("AdminUpdateUserAttributes");
    let olga = server
        .find_user(POOL, "olga@new.example")
        .await
        .expect("new alias");
    assert_eq!(olga.attribute("name"), Some("Olga"));
    assert_eq!(olga.attribute("email_verified"), Some("true"));

    // A new address without the admin vouching for it is unverified.
    admin
        .admin_update_user_attributes()
        .user_pool_id(POOL)
        .username("pia")
        .user_attributes(attr("email", "pia@new.example"))
        .send()
        .await
        .expect("AdminUpdateUserAttributes");
    let pia = server.find_user(POOL, "pia").await.unwrap();
    assert_eq!(pia.attribute("email"), Some("pia@new.example"));
    assert_eq!(pia.attribute("email_verified"), Some("false"));

    // Olga's verified address for Pia, verified: the alias is taken.
    let err = admin
        .admin_update_user_attributes()
        .user_pool_id(POOL)
        .username("pia")
        .user_attributes(attr("email", "olga@new.example"))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "AliasExistsException");
    // An attribute the pool does not have.
    let err = admin
        .admin_update_user_attributes()
        .user_pool_id(POOL)
        .username("pia")
        .user_attributes(attr("custom:nope", "x"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");

    admin
        .admin_delete_user_attributes()
        .user_pool_id(POOL)
        .username("olga")
        .user_attribute_names("name")
        .send()
        .await
        .expect("AdminDeleteUserAttributes");
    let olga = server.find_user(POOL, "olga").await.unwrap();
    assert_eq!(olga.attribute("name"), None);
    let err = admin
        .admin_delete_user_attributes()
        .user_pool_id(POOL)
        .username("olga")
        .user_attribute_names("sub")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");
}

#[tokio::test]
async fn disable_enable_set_password_confirm_and_delete() {
    let server = start().await;
    let quinn = confirmed_user(&server, POOL, "quinn", "quinn@example.com").await;
    let admin = operator_client(&server).await;

    admin
        .admin_disable_user()
        .user_pool_id(POOL)
        .username("quinn")
        .send()
        .await
        .expect("AdminDisableUser");
    assert!(matches!(
        sign_in_core(&server, "quinn", PASSWORD).await,
        Err(DirectoryError::UserDisabled)
    ));
    let got = admin
        .admin_get_user()
        .user_pool_id(POOL)
        .username("quinn")
        .send()
        .await
        .unwrap();
    assert!(!got.enabled());
    admin
        .admin_enable_user()
        .user_pool_id(POOL)
        .username("quinn")
        .send()
        .await
        .expect("AdminEnableUser");
    sign_in_core(&server, "quinn", PASSWORD)
        .await
        .expect("enabled again");

    // A temporary password, then a permanent one.
    admin
        .admin_set_user_password()
        .user_pool_id(POOL)
        .username("quinn")
        .password("Temporary-passw0rd")
        .send()
        .await
        .expect("AdminSetUserPassword");
    assert_eq!(
        status_of(&admin, "quinn").await,
        UserStatusType::ForceChangePassword
    );
    admin
        .admin_set_user_password()
        .user_pool_id(POOL)
        .username("quinn")
        .password("Permanent-passw0rd")
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword permanent");
    assert_eq!(status_of(&admin, "quinn").await, UserStatusType::Confirmed);
    sign_in_core(&server, "quinn", "Permanent-passw0rd")
        .await
        .expect("the new password");
    assert!(sign_in_core(&server, "quinn", PASSWORD).await.is_err());
    let err = admin
        .admin_set_user_password()
        .user_pool_id(POOL)
        .username("quinn")
        .password("weak")
        .permanent(true)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidPasswordException");

    // AdminConfirmSignUp: an UNCONFIRMED user is confirmed; a confirmed one is refused.
    let err = admin
        .admin_confirm_sign_up()
        .user_pool_id(POOL)
        .username("quinn")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "NotAuthorizedException");
    assert!(message.contains("Current status is CONFIRMED"), "{message}");
    let pool = server.pool(POOL).await;
    server
        .node
        .directory
        .create_user(
            &pool,
            cognate::core::directory::NewUser {
                username: "rae".into(),
                attributes: [("email".to_string(), "rae@example.com".to_string())].into(),
                password: Some(SecretString::new(PASSWORD)),
                state: cognate::core::directory::InitialState::Unconfirmed,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    assert!(matches!(
        sign_in_core(&server, "rae", PASSWORD).await,
        Err(DirectoryError::UserNotConfirmed)
    ));
    admin
        .admin_confirm_sign_up()
        .user_pool_id(POOL)
        .username("rae")
        .send()
        .await
        .expect("AdminConfirmSignUp");
    assert_eq!(status_of(&admin, "rae").await, UserStatusType::Confirmed);
    sign_in_core(&server, "rae", PASSWORD)
        .await
        .expect("confirmed");

    // AdminDeleteUser, by sub.
    admin
        .admin_delete_user()
        .user_pool_id(POOL)
        .username(&quinn.sub)
        .send()
        .await
        .expect("AdminDeleteUser");
    assert!(server.find_user(POOL, "quinn").await.is_none());
}

#[tokio::test]
async fn admin_reset_user_password_requires_the_mailed_code() {
    let server = start().await;
    confirmed_user(&server, POOL, "sam", "sam@example.com").await;
    let admin = operator_client(&server).await;

    admin
        .admin_reset_user_password()
        .user_pool_id(POOL)
        .username("sam")
        .send()
        .await
        .expect("AdminResetUserPassword");
    assert_eq!(
        status_of(&admin, "sam").await,
        UserStatusType::ResetRequired
    );
    // The old password no longer signs in.
    assert_eq!(
        api_sign_in(&server, "sam", PASSWORD).await,
        Err("PasswordResetRequiredException".to_string())
    );
    let code = server.inbox.code_for("sam@example.com").await;

    // ConfirmForgotPassword: a wrong code does nothing, the mailed one sets the password.
    let confirm = |code: String| {
        let sdk = public_client(&server);
        async move {
            sdk.confirm_forgot_password()
                .client_id(APP)
                .username("sam")
                .confirmation_code(code)
                .password("Reset-passw0rd-1")
                .send()
                .await
                .map(|_| ())
                .map_err(|e| refusal(&e).0)
        }
    };
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(
        confirm(wrong.to_string()).await,
        Err("CodeMismatchException".to_string())
    );
    assert_eq!(
        status_of(&admin, "sam").await,
        UserStatusType::ResetRequired
    );
    confirm(code).await.expect("ConfirmForgotPassword");
    assert_eq!(status_of(&admin, "sam").await, UserStatusType::Confirmed);
    assert_eq!(
        api_sign_in(&server, "sam", "Reset-passw0rd-1").await,
        Ok((None, None)),
        "the new password signs in"
    );

    // A user without a verified address to send the code to.
    let pool = server.pool(POOL).await;
    server
        .node
        .directory
        .create_user(
            &pool,
            cognate::core::directory::NewUser {
                username: "tao".into(),
                attributes: [("email".to_string(), "tao@example.com".to_string())].into(),
                password: Some(SecretString::new(PASSWORD)),
                state: cognate::core::directory::InitialState::Confirmed,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    let err = admin
        .admin_reset_user_password()
        .user_pool_id(POOL)
        .username("tao")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("no registered/verified email"),
        "{message}"
    );
    assert_eq!(status_of(&admin, "tao").await, UserStatusType::Confirmed);
}

#[tokio::test]
async fn admin_user_global_sign_out_ends_refresh_tokens() {
    let server = start().await;
    confirmed_user(&server, POOL, "uma", "uma@example.com").await;
    confirmed_user(&server, POOL, "vera", "vera@example.com").await;
    let admin = operator_client(&server).await;
    let rp = federated::Client::new(
        super::APP,
        CALLBACK,
        "admin-sign-out-verifier-0123456789-abcdefghijklmnop",
    );
    let mut refresh_tokens = Vec::new();
    for who in ["uma", "vera"] {
        let redirect = crate::support::server::sign_in(
            &browser_client(),
            &server.base,
            &rp.authorize_url(&server.base, &[]),
            who,
            PASSWORD,
        )
        .await
        .expect("hosted sign-in");
        let tokens = rp.tokens(&server.base, &redirect).await;
        refresh_tokens.push(tokens["refresh_token"].as_str().unwrap().to_string());
    }
    let refresh = |token: String| {
        let base = server.base.clone();
        async move {
            crate::support::http()
                .post(format!("{base}/oauth2/token"))
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", super::APP),
                    ("refresh_token", token.as_str()),
                ])
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(refresh(refresh_tokens[0].clone()).await, 200);

    admin
        .admin_user_global_sign_out()
        .user_pool_id(POOL)
        .username("uma")
        .send()
        .await
        .expect("AdminUserGlobalSignOut");
    assert_eq!(refresh(refresh_tokens[0].clone()).await, 400, "Uma's ended");
    assert_eq!(
        refresh(refresh_tokens[1].clone()).await,
        200,
        "Vera's did not"
    );

    // AdminDisableUser signs out too (Cognito revokes a disabled user's tokens).
    admin
        .admin_disable_user()
        .user_pool_id(POOL)
        .username("vera")
        .send()
        .await
        .expect("AdminDisableUser");
    admin
        .admin_enable_user()
        .user_pool_id(POOL)
        .username("vera")
        .send()
        .await
        .expect("AdminEnableUser");
    assert_eq!(
        refresh(refresh_tokens[1].clone()).await,
        400,
        "Vera's ended"
    );
}

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
