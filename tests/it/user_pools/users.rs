//! Sign-up, confirmation, recovery and the access-token actions through the official AWS
//! SDK, each attack beside the honest request succeeding: codes read from real mail
//! (`server.inbox`), tokens from InitiateAuth `USER_PASSWORD_AUTH` on [`APP`].

use aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, AuthenticationResultType,
};
use aws_sdk_cognitoidentityprovider::Client;

use super::{
    confirmed_user, public_client, secret_hash, start, APP, LEGACY, MFA_APP, MFA_POOL,
    NO_PASSWORDS, PASSWORD, POOL, SECRET, SECRET_APP,
};
use crate::support::server::TestServer;

const NEW_PASSWORD: &str = "N3w-battery-staple";

pub fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}

/// The `__type` and message of a refused call.
pub fn refusal<E: ProvideErrorMetadata + std::fmt::Debug>(err: &E) -> (String, String) {
    (
        err.code()
            .unwrap_or_else(|| panic!("no error code: {err:?}"))
            .to_string(),
        err.message().unwrap_or_default().to_string(),
    )
}

/// Signs in with `USER_PASSWORD_AUTH` on `client_id`.
pub async fn sign_in_on(
    sdk: &Client,
    client_id: &str,
    login: &str,
    password: &str,
) -> Result<AuthenticationResultType, (String, String)> {
    let out = sdk
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", login)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .map_err(|e| refusal(&e))?;
    Ok(out
        .authentication_result
        .unwrap_or_else(|| panic!("tokens expected, got a challenge: {:?}", out.challenge_name)))
}

/// Signs in on [`APP`].
pub async fn sign_in(
    sdk: &Client,
    login: &str,
    password: &str,
) -> Result<AuthenticationResultType, (String, String)> {
    sign_in_on(sdk, APP, login, password).await
}

fn access(tokens: &AuthenticationResultType) -> String {
    tokens.access_token.clone().expect("an access token")
}

async fn get_user(sdk: &Client, token: &str) -> Result<Vec<(String, String)>, (String, String)> {
    let out = sdk
        .get_user()
        .access_token(token)
        .send()
        .await
        .map_err(|e| refusal(&e))?;
    Ok(out
        .user_attributes
        .iter()
        .map(|a| (a.name.clone(), a.value.clone().unwrap_or_default()))
        .collect())
}

fn value<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

fn not_authorized(message: &str) -> (String, String) {
    ("NotAuthorizedException".to_string(), message.to_string())
}

/// A six-digit code that is not `code`.
fn wrong(code: &str) -> String {
    if code == "000000" {
        "000001".into()
    } else {
        "000000".into()
    }
}

#[tokio::test]
async fn sign_up_confirm_sign_in_and_get_user() {
    let server = start().await;
    let sdk = public_client(&server);
    let out = sdk
        .sign_up()
        .client_id(APP)
        .username("alice")
        .password(PASSWORD)
        .user_attributes(attr("email", "alice@example.com"))
        .user_attributes(attr("name", "Alice"))
        .validation_data(attr("ignored", "yes"))
        .client_metadata("ignored", "yes")
        .send()
        .await
        .expect("sign-up");
    assert!(!out.user_confirmed);
    assert_eq!(out.user_sub.len(), 36);
    let delivery = out.code_delivery_details.expect("a code was mailed");
    assert_eq!(delivery.destination.as_deref(), Some("a***@e***.com"));
    assert_eq!(delivery.attribute_name.as_deref(), Some("email"));
    assert_eq!(
        delivery
            .delivery_medium
            .map(|m| m.as_str().to_string())
            .as_deref(),
        Some("EMAIL")
    );
    let code = server.inbox.code_for("alice@example.com").await;

    // Unconfirmed: no sign-in yet.
    let refused = sign_in(&sdk, "alice", PASSWORD).await.unwrap_err();
    assert_eq!(refused.0, "UserNotConfirmedException");

    // A wrong code, then the right one.
    let err = sdk
        .confirm_sign_up()
        .client_id(APP)
        .username("alice")
        .confirmation_code(wrong(&code))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "CodeMismatchException");
    sdk.confirm_sign_up()
        .client_id(APP)
        .username("alice")
        .confirmation_code(&code)
        .send()
        .await
        .expect("confirmed");
    // A code is single use: the same code again is refused.
    let err = sdk
        .confirm_sign_up()
        .client_id(APP)
        .username("alice")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "CodeMismatchException");

    // The username and the now verified email both sign in.
    sign_in(&sdk, "alice", PASSWORD).await.expect("username");
    let tokens = sign_in(&sdk, "alice@example.com", PASSWORD)
        .await
        .expect("verified email alias");
    let got = sdk
        .get_user()
        .access_token(access(&tokens))
        .send()
        .await
        .expect("GetUser");
    assert_eq!(got.username, "alice");
    assert!(got.mfa_options.is_none());
    assert!(got.preferred_mfa_setting.is_none());
    let attrs: Vec<(String, String)> = got
        .user_attributes
        .iter()
        .map(|a| (a.name.clone(), a.value.clone().unwrap_or_default()))
        .collect();
    assert_eq!(value(&attrs, "sub"), Some(out.user_sub.as_str()));
    assert_eq!(value(&attrs, "email"), Some("alice@example.com"));
    assert_eq!(value(&attrs, "email_verified"), Some("true"));
    assert_eq!(value(&attrs, "name"), Some("Alice"));
}

#[tokio::test]
async fn sign_up_refusals_name_the_fault() {
    let server = start().await;
    let sdk = public_client(&server);
    let base = || {
        sdk.sign_up()
            .client_id(APP)
            .password(PASSWORD)
            .user_attributes(attr("email", "bob@example.com"))
    };
    base().username("bob").send().await.expect("honest sign-up");
    let err = base().username("bob").send().await.unwrap_err();
    assert_eq!(refusal(&err).0, "UsernameExistsException");
    let err = base()
        .username("bob2")
        .password("short")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidPasswordException");
    let err = base()
        .username("bob3")
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("email_verified"), "{message}");
    // A client without COGNITO among its providers takes no sign-up.
    let err = sdk
        .sign_up()
        .client_id(NO_PASSWORDS)
        .username("bob4")
        .password(PASSWORD)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
    // An unknown client.
    let err = sdk
        .sign_up()
        .client_id("nosuchclient0000000000001")
        .username("bob5")
        .password(PASSWORD)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ResourceNotFoundException");
    // ForceAliasCreation is refused rather than ignored.
    let err = sdk
        .confirm_sign_up()
        .client_id(APP)
        .username("bob")
        .confirmation_code("123456")
        .force_alias_creation(true)
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("ForceAliasCreation"), "{message}");
}

#[tokio::test]
async fn a_client_with_a_secret_needs_the_secret_hash() {
    let server = start().await;
    let sdk = public_client(&server);
    let err = sdk
        .sign_up()
        .client_id(SECRET_APP)
        .username("carol")
        .password(PASSWORD)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
    let err = sdk
        .sign_up()
        .client_id(SECRET_APP)
        .username("carol")
        .password(PASSWORD)
        .secret_hash(secret_hash(SECRET, "mallory", SECRET_APP))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "NotAuthorizedException");
    assert!(server.find_user(POOL, "carol").await.is_none());
    sdk.sign_up()
        .client_id(SECRET_APP)
        .username("carol")
        .password(PASSWORD)
        .user_attributes(attr("email", "carol@example.com"))
        .secret_hash(secret_hash(SECRET, "carol", SECRET_APP))
        .send()
        .await
        .expect("the right hash");
}

#[tokio::test]
async fn an_email_change_waits_for_its_code() {
    let server = start().await;
    let sdk = public_client(&server);
    confirmed_user(&server, POOL, "dave", "dave@old.example").await;
    let token = access(&sign_in(&sdk, "dave", PASSWORD).await.unwrap());

    // The verification flags are not the user's to set.
    let err = sdk
        .update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidParameterException");

    let out = sdk
        .update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "dave@new.example"))
        .user_attributes(attr("name", "Dave"))
        .send()
        .await
        .expect("update");
    let list = out.code_delivery_details_list();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].destination.as_deref(), Some("d***@n***.example"));
    let code = server.inbox.code_for("dave@new.example").await;

    // Until verified, the old address holds: GetUser, sign-in, recovery.
    let attrs = get_user(&sdk, &token).await.unwrap();
    assert_eq!(value(&attrs, "email"), Some("dave@old.example"));
    assert_eq!(value(&attrs, "email_verified"), Some("true"));
    assert_eq!(value(&attrs, "name"), Some("Dave"));
    sign_in(&sdk, "dave@old.example", PASSWORD)
        .await
        .expect("the old email still signs in");
    assert_eq!(
        sign_in(&sdk, "dave@new.example", PASSWORD)
            .await
            .unwrap_err()
            .0,
        "NotAuthorizedException"
    );

    // A wrong code changes nothing; the right one applies the change.
    let err = sdk
        .verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(wrong(&code))
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "CodeMismatchException");
    sdk.verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .expect("verified");
    let attrs = get_user(&sdk, &token).await.unwrap();
    assert_eq!(value(&attrs, "email"), Some("dave@new.example"));
    assert_eq!(value(&attrs, "email_verified"), Some("true"));
    sign_in(&sdk, "dave@new.example", PASSWORD)
        .await
        .expect("the new email signs in");
    assert_eq!(
        sign_in(&sdk, "dave@old.example", PASSWORD)
            .await
            .unwrap_err()
            .0,
        "NotAuthorizedException"
    );
    // The code was used.
    let err = sdk
        .verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ExpiredCodeException");

    // A new code on request; phone numbers cannot be verified yet, and say so.
    let out = sdk
        .get_user_attribute_verification_code()
        .access_token(&token)
        .attribute_name("email")
        .send()
        .await
        .expect("a new code");
    assert_eq!(
        out.code_delivery_details.unwrap().destination.as_deref(),
        Some("d***@n***.example")
    );
    let err = sdk
        .verify_user_attribute()
        .access_token(&token)
        .attribute_name("phone_number")
        .code("123456")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("SMS"), "{message}");

    // DeleteUserAttributes removes what it names.
    sdk.delete_user_attributes()
        .access_token(&token)
        .user_attribute_names("name")
        .send()
        .await
        .expect("deleted");
    let attrs = get_user(&sdk, &token).await.unwrap();
    assert_eq!(value(&attrs, "name"), None);
}

#[tokio::test]
async fn an_unverified_email_changes_at_once_and_unverified() {
    let server = start().await;
    let sdk = public_client(&server);
    let attributes = [("email", "erin@old.example")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    server.create_user(POOL, "erin", attributes, PASSWORD).await;
    let token = access(&sign_in(&sdk, "erin", PASSWORD).await.unwrap());
    sdk.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "erin@new.example"))
        .send()
        .await
        .expect("update");
    let attrs = get_user(&sdk, &token).await.unwrap();
    assert_eq!(value(&attrs, "email"), Some("erin@new.example"));
    assert_eq!(value(&attrs, "email_verified"), Some("false"));
    let code = server.inbox.code_for("erin@new.example").await;
    sdk.verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .expect("verified");
    let attrs = get_user(&sdk, &token).await.unwrap();
    assert_eq!(value(&attrs, "email_verified"), Some("true"));
}

#[tokio::test]
async fn change_password_counts_wrong_previous_passwords() {
    let server = start().await;
    let sdk = public_client(&server);
    confirmed_user(&server, POOL, "frank", "frank@example.com").await;
    let token = access(&sign_in(&sdk, "frank", PASSWORD).await.unwrap());
    let change = |previous: &str, proposed: &str| {
        sdk.change_password()
            .access_token(&token)
            .previous_password(previous)
            .proposed_password(proposed)
            .send()
    };
    // A weak proposal is refused before any attempt is spent.
    let err = change(PASSWORD, "weak").await.unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidPasswordException");
    let err = change("Wrong-passw0rd", NEW_PASSWORD).await.unwrap_err();
    assert_eq!(
        refusal(&err),
        not_authorized("Incorrect username or password.")
    );
    change(PASSWORD, NEW_PASSWORD).await.expect("changed");
    assert_eq!(
        sign_in(&sdk, "frank", PASSWORD).await.unwrap_err(),
        not_authorized("Incorrect username or password.")
    );
    sign_in(&sdk, "frank", NEW_PASSWORD)
        .await
        .expect("the new password");

    // An access-token holder guessing the password meets the sign-in throttle: after the
    // address's limit of failures even the right password is refused, here and at
    // InitiateAuth.
    for _ in 0..10 {
        let err = change("Wrong-passw0rd", PASSWORD).await.unwrap_err();
        assert_eq!(refusal(&err).0, "NotAuthorizedException");
    }
    let err = change(NEW_PASSWORD, PASSWORD).await.unwrap_err();
    assert_eq!(refusal(&err), not_authorized("Password attempts exceeded"));
    assert_eq!(
        sign_in(&sdk, "frank", NEW_PASSWORD).await.unwrap_err(),
        not_authorized("Password attempts exceeded")
    );
}

#[tokio::test]
async fn forgot_password_then_confirm_with_the_code() {
    let server = start().await;
    let sdk = public_client(&server);
    confirmed_user(&server, POOL, "grace", "grace@example.com").await;
    let before = sign_in(&sdk, "grace", PASSWORD).await.unwrap();
    let out = sdk
        .forgot_password()
        .client_id(APP)
        .username("grace")
        .send()
        .await
        .expect("forgot");
    assert_eq!(
        out.code_delivery_details.unwrap().destination.as_deref(),
        Some("g***@e***.com")
    );
    let code = server.inbox.code_for("grace@example.com").await;
    let confirm = |code: String, password: &'static str| {
        sdk.confirm_forgot_password()
            .client_id(APP)
            .username("grace")
            .confirmation_code(code)
            .password(password)
            .send()
    };
    let err = confirm(code.clone(), "weak").await.unwrap_err();
    assert_eq!(refusal(&err).0, "InvalidPasswordException");
    let err = confirm(wrong(&code), NEW_PASSWORD).await.unwrap_err();
    assert_eq!(refusal(&err).0, "CodeMismatchException");
    confirm(code.clone(), NEW_PASSWORD).await.expect("reset");
    let err = confirm(code, NEW_PASSWORD).await.unwrap_err();
    assert_eq!(refusal(&err).0, "ExpiredCodeException", "single use");
    sign_in(&sdk, "grace", NEW_PASSWORD)
        .await
        .expect("the new password");
    // The reset signed the user out everywhere: the earlier refresh token is refused.
    let refresh = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", before.refresh_token.unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&refresh).0, "NotAuthorizedException");
}

#[tokio::test]
async fn global_sign_out_ends_the_tokens_of_before() {
    let server = start().await;
    let sdk = public_client(&server);
    confirmed_user(&server, POOL, "heidi", "heidi@example.com").await;
    let tokens = sign_in(&sdk, "heidi", PASSWORD).await.unwrap();
    let token = access(&tokens);
    get_user(&sdk, &token).await.expect("honest GetUser");
    sdk.global_sign_out()
        .access_token(&token)
        .send()
        .await
        .expect("signed out");
    assert_eq!(
        get_user(&sdk, &token).await.unwrap_err(),
        not_authorized("Access Token has been revoked")
    );
    let refresh = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", tokens.refresh_token.unwrap())
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&refresh).0, "NotAuthorizedException");
    // A new sign-in works again.
    let fresh = access(&sign_in(&sdk, "heidi", PASSWORD).await.unwrap());
    get_user(&sdk, &fresh).await.expect("a fresh token");
}

#[tokio::test]
async fn delete_user_removes_the_account() {
    let server = start().await;
    let sdk = public_client(&server);
    confirmed_user(&server, POOL, "ivan", "ivan@example.com").await;
    let tokens = sign_in(&sdk, "ivan", PASSWORD).await.unwrap();
    sdk.delete_user()
        .access_token(access(&tokens))
        .send()
        .await
        .expect("deleted");
    assert!(server.find_user(POOL, "ivan").await.is_none());
    let (code, _) = get_user(&sdk, &access(&tokens)).await.unwrap_err();
    assert!(
        code == "UserNotFoundException" || code == "NotAuthorizedException",
        "{code}"
    );
    assert_eq!(
        sign_in(&sdk, "ivan", PASSWORD).await.unwrap_err().0,
        "NotAuthorizedException"
    );
}

#[tokio::test]
async fn only_a_live_user_access_token_acts_for_the_user() {
    let server = start().await;
    let sdk = public_client(&server);
    confirmed_user(&server, POOL, "judy", "judy@example.com").await;
    let tokens = sign_in(&sdk, "judy", PASSWORD).await.unwrap();
    let attrs = get_user(&sdk, &access(&tokens)).await.expect("honest");
    assert_eq!(value(&attrs, "email"), Some("judy@example.com"));

    // An ID token is not an access token; nor is anything else.
    let id_token = tokens.id_token.clone().unwrap();
    assert_eq!(
        get_user(&sdk, &id_token).await.unwrap_err(),
        not_authorized("Invalid Access Token")
    );
    assert_eq!(
        get_user(&sdk, "not.a.token").await.unwrap_err(),
        not_authorized("Invalid Access Token")
    );
    // A token with its signature altered.
    // One character in the middle of the signature changes, so the change is never
    // confined to the last character's unused bits.
    let original = access(&tokens);
    let at = original.rfind('.').unwrap() + 40;
    let flipped = if &original[at..=at] == "A" { "B" } else { "A" };
    let forged = format!("{}{}{}", &original[..at], flipped, &original[at + 1..]);
    assert_ne!(forged, original);
    assert_eq!(
        get_user(&sdk, &forged).await.unwrap_err(),
        not_authorized("Invalid Access Token")
    );

    // A client-credentials token (no user), even of this pool and well signed.
    let mut m2m = server
        .node
        .store
        .get_client(SECRET_APP)
        .await
        .unwrap()
        .unwrap();
    m2m.allowed_oauth_flows = vec![cognate::core::model::OAuthFlow::ClientCredentials];
    m2m.allowed_oauth_scopes = vec!["orders/read".into()];
    // The scope is granted only while a resource server of the pool defines it.
    server
        .node
        .store
        .put_resource_server(&cognate::core::model::ResourceServer {
            pool_id: POOL.into(),
            identifier: "orders".into(),
            name: "Orders".into(),
            origin: cognate::core::model::Origin::Api,
            scopes: vec![cognate::core::model::ResourceScope {
                name: "read".into(),
                description: "Read orders".into(),
            }],
        })
        .await
        .unwrap();
    let machine = server
        .node
        .tokens
        .client_credentials(&m2m, None, cognate::core::now())
        .await
        .unwrap();
    assert_eq!(
        get_user(&sdk, &machine.access_token).await.unwrap_err(),
        not_authorized("Access Token does not have required scopes")
    );

    // Another pool's user with the same name: their token acts for them only.
    let other = cognate_user_in(&server, MFA_POOL, "judy", "judy@other.example").await;
    let theirs = sign_in_on(&sdk, MFA_APP, "judy", PASSWORD).await.unwrap();
    let attrs = get_user(&sdk, &access(&theirs)).await.unwrap();
    assert_eq!(value(&attrs, "sub"), Some(other.as_str()));
    assert_eq!(value(&attrs, "email"), Some("judy@other.example"));

    // A revoked refresh token's family (RevokeToken) takes its access tokens along.
    let second = sign_in(&sdk, "judy", PASSWORD).await.unwrap();
    sdk.revoke_token()
        .client_id(APP)
        .token(second.refresh_token.clone().unwrap())
        .send()
        .await
        .expect("revoked");
    assert_eq!(
        get_user(&sdk, &access(&second)).await.unwrap_err(),
        not_authorized("Access Token has been revoked")
    );
    get_user(&sdk, &access(&tokens))
        .await
        .expect("the other sign-in's token still works");

    // A disabled user's token is refused.
    let pool = server.pool(POOL).await;
    let judy = server.find_user(POOL, "judy").await.unwrap();
    server
        .node
        .directory
        .set_enabled(&pool, &judy.sub, false, cognate::core::now())
        .await
        .unwrap();
    assert_eq!(
        get_user(&sdk, &access(&tokens)).await.unwrap_err(),
        not_authorized("User is disabled.")
    );
    // A missing AccessToken names the field.
    let err = sdk.get_user().send().await.unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("accessToken"), "{message}");
}

async fn cognate_user_in(server: &TestServer, pool: &str, username: &str, email: &str) -> String {
    confirmed_user(server, pool, username, email).await.sub
}

#[tokio::test]
async fn legacy_clients_tell_unknown_users_enabled_ones_do_not() {
    let server = start().await;
    let sdk = public_client(&server);
    confirmed_user(&server, POOL, "kim", "kim@example.com").await;
    let not_found = |err: &(String, String)| err.0 == "UserNotFoundException";

    // LEGACY: an unknown user is named as such in the four account flows...
    let err = sdk
        .forgot_password()
        .client_id(LEGACY)
        .username("nobody")
        .send()
        .await
        .unwrap_err();
    assert!(not_found(&refusal(&err)));
    let err = sdk
        .resend_confirmation_code()
        .client_id(LEGACY)
        .username("nobody")
        .send()
        .await
        .unwrap_err();
    assert!(not_found(&refusal(&err)));
    let err = sdk
        .confirm_sign_up()
        .client_id(LEGACY)
        .username("nobody")
        .confirmation_code("123456")
        .send()
        .await
        .unwrap_err();
    assert!(not_found(&refusal(&err)));
    let err = sdk
        .confirm_forgot_password()
        .client_id(LEGACY)
        .username("nobody")
        .confirmation_code("123456")
        .password(NEW_PASSWORD)
        .send()
        .await
        .unwrap_err();
    assert!(not_found(&refusal(&err)));
    // ... while a known user is served.
    sdk.forgot_password()
        .client_id(LEGACY)
        .username("kim")
        .send()
        .await
        .expect("a known user on LEGACY");

    // ENABLED (the default): the unknown user is answered like a known one.
    let out = sdk
        .forgot_password()
        .client_id(APP)
        .username("nobody")
        .send()
        .await
        .expect("a uniform answer");
    assert!(out.code_delivery_details.is_some());
    let out = sdk
        .resend_confirmation_code()
        .client_id(APP)
        .username("nobody")
        .send()
        .await
        .expect("a uniform answer");
    assert!(out.code_delivery_details.is_some());
    let err = sdk
        .confirm_sign_up()
        .client_id(APP)
        .username("nobody")
        .confirmation_code("123456")
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "CodeMismatchException");
    let err = sdk
        .confirm_forgot_password()
        .client_id(APP)
        .username("nobody")
        .confirmation_code("123456")
        .password(NEW_PASSWORD)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "CodeMismatchException");
}

#[tokio::test]
async fn get_user_shows_the_second_factors() {
    use cognate::core::model::{Factor, FactorData, MfaFactor};
    let server = start().await;
    let sdk = public_client(&server);
    let user = confirmed_user(&server, MFA_POOL, "mia", "mia@example.com").await;
    let token = access(&sign_in_on(&sdk, MFA_APP, "mia", PASSWORD).await.unwrap());
    let got = sdk.get_user().access_token(&token).send().await.unwrap();
    assert!(got.user_mfa_setting_list.is_none());
    assert!(got.preferred_mfa_setting.is_none());
    // An email factor enrolled (as the hosted account page or the MFA actions do).
    let pool = server.pool(MFA_POOL).await;
    server
        .node
        .directory
        .modify_user(&pool, &user.sub, |u| {
            u.mfa.factors.push(Factor {
                id: "f1".into(),
                kind: MfaFactor::Email,
                name: "mail".into(),
                created_at: 1,
                last_used_at: None,
                data: FactorData::Email,
            });
            u.mfa.preferred = Some(MfaFactor::Email);
            Ok(())
        })
        .await
        .unwrap();
    let got = sdk.get_user().access_token(&token).send().await.unwrap();
    assert_eq!(got.user_mfa_setting_list(), ["EMAIL_OTP".to_string()]);
    assert_eq!(got.preferred_mfa_setting.as_deref(), Some("EMAIL_OTP"));
    assert!(got.mfa_options.is_none());
}

#[tokio::test]
async fn an_address_verified_by_another_user_stays_theirs() {
    let server = start().await;
    let sdk = public_client(&server);
    confirmed_user(&server, POOL, "olga", "olga@example.com").await;
    confirmed_user(&server, POOL, "pete", "pete@example.com").await;
    let token = access(&sign_in(&sdk, "pete", PASSWORD).await.unwrap());
    sdk.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "olga@example.com"))
        .send()
        .await
        .expect("the change waits for its code");
    let code = server.inbox.code_for("olga@example.com").await;
    let err = sdk
        .verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "AliasExistsException");
    // Both keep their addresses and their sign-ins.
    sign_in(&sdk, "olga@example.com", PASSWORD)
        .await
        .expect("olga's alias");
    let attrs = get_user(&sdk, &token).await.unwrap();
    assert_eq!(value(&attrs, "email"), Some("pete@example.com"));
}
