//! The signed administration of users (issue 14 item 6), through the official AWS SDK
//! signed with an operator key: AdminCreateUser's invitation mail (read from the SMTP
//! sink, its temporary password then used), SUPPRESS, RESEND and ForceAliasCreation,
//! AdminGetUser,
//! AdminUpdateUserAttributes / AdminDeleteUserAttributes, AdminDisableUser /
//! AdminEnableUser, AdminSetUserPassword, AdminResetUserPassword (then the mailed code),
//! AdminConfirmSignUp, AdminDeleteUser, AdminUserGlobalSignOut (refresh tokens end; a
//! disabled user's access token is refused; AdminResetUserPassword, AdminDeleteUser and
//! AdminDisableProviderForUser(Cognito) end refresh tokens too), and
//! AdminLinkProviderForUser / AdminDisableProviderForUser with a federated sign-in through
//! a fake Google. Every refusal (unsigned, a non-operator key, an unknown pool or user, a
//! bad parameter naming its field, a taken name or alias) sits beside the honest call.
//!
//! - [`invitations`]: AdminCreateUser (the mail, SUPPRESS, RESEND, ForceAliasCreation);
//! - [`links`]: AdminLinkProviderForUser / AdminDisableProviderForUser;
//! - here: the signature, unknown pools and users, and the other actions.
//!
//! The users then sign in through the public API as an app does: InitiateAuth
//! USER_PASSWORD_AUTH, the NEW_PASSWORD_REQUIRED challenge, ConfirmForgotPassword.

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, ChallengeNameType, UserStatusType,
};
use aws_sdk_cognitoidentityprovider::Client;
use serde_json::json;

use cognate::core::directory::DirectoryError;
use cognate::core::secrets::SecretString;

use super::{confirmed_user, operator_client, public_client, start, APP, CALLBACK, PASSWORD, POOL};
use crate::support::federated;
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

mod invitations;
mod links;

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

    // AdminDisableUser signs out too (Cognito revokes a disabled user's tokens), and the
    // access token of an API sign-in stops answering the end-user actions at once.
    let sdk = public_client(&server);
    let signed_in = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "vera")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    let access = signed_in
        .authentication_result()
        .and_then(|r| r.access_token())
        .expect("an access token")
        .to_string();
    sdk.get_user()
        .access_token(&access)
        .send()
        .await
        .expect("GetUser before");
    admin
        .admin_disable_user()
        .user_pool_id(POOL)
        .username("vera")
        .send()
        .await
        .expect("AdminDisableUser");
    let err = sdk
        .get_user()
        .access_token(&access)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
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

/// REFRESH_TOKEN_AUTH with `token` through the SDK: `Ok` or the refusal's code.
async fn refreshed(server: &TestServer, token: &str) -> Result<(), String> {
    public_client(server)
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", token)
        .send()
        .await
        .map(|out| assert!(out.authentication_result().is_some(), "{out:?}"))
        .map_err(|e| refusal(&e).0)
}

#[tokio::test]
async fn admin_reset_delete_and_cognito_unlink_end_the_users_refresh_tokens() {
    let server = start().await;
    let admin = operator_client(&server).await;
    let who = ["reset", "unlinked", "deleted", "bystander"];
    let mut tokens = Vec::new();
    for name in who {
        confirmed_user(&server, POOL, name, &format!("{name}@example.com")).await;
        let out = public_client(&server)
            .initiate_auth()
            .client_id(APP)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", name)
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .expect("InitiateAuth");
        let token = out
            .authentication_result()
            .and_then(|r| r.refresh_token())
            .expect("a refresh token")
            .to_string();
        // The honest refresh works before the administrator acts.
        assert_eq!(refreshed(&server, &token).await, Ok(()), "{name}");
        tokens.push(token);
    }

    admin
        .admin_reset_user_password()
        .user_pool_id(POOL)
        .username("reset")
        .send()
        .await
        .expect("AdminResetUserPassword");
    admin
        .admin_disable_provider_for_user()
        .user_pool_id(POOL)
        .user(
            aws_sdk_cognitoidentityprovider::types::ProviderUserIdentifierType::builder()
                .provider_name("Cognito")
                .provider_attribute_value("unlinked")
                .build(),
        )
        .send()
        .await
        .expect("AdminDisableProviderForUser(Cognito)");
    admin
        .admin_delete_user()
        .user_pool_id(POOL)
        .username("deleted")
        .send()
        .await
        .expect("AdminDeleteUser");

    // Each action ended what the password had opened; the bystander's token still works.
    for (name, token) in who.iter().zip(&tokens).take(3) {
        assert_eq!(
            refreshed(&server, token).await,
            Err("NotAuthorizedException".to_string()),
            "{name}'s refresh token must end"
        );
    }
    assert_eq!(refreshed(&server, &tokens[3]).await, Ok(()), "bystander");
}
