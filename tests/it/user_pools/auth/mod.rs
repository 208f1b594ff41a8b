//! InitiateAuth / AdminInitiateAuth and the challenges through the official AWS SDK for
//! Rust (only the endpoint changed), beside the attacks on each:
//!
//! - here: USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH (tokens checked against the
//!   JWKS), ExplicitAuthFlows, the NO_PASSWORDS client, unknown clients, missing
//!   parameters, SECRET_HASH, PreventUserExistenceErrors, admin signatures;
//! - [`refresh`]: REFRESH_TOKEN_AUTH, GetTokensFromRefreshToken with rotation,
//!   RevokeToken;
//! - [`challenges`]: NEW_PASSWORD_REQUIRED, MFA_SETUP with Associate/VerifySoftwareToken,
//!   SOFTWARE_TOKEN_MFA (a replayed code refused), SELECT_MFA_TYPE and EMAIL_OTP (the code
//!   read from the SMTP sink), the challenge session's single use;
//! - [`bursts`]: the hardening issue's attack 1 through InitiateAuth (200 parallel wrong
//!   passwords from one address verify at most the limit).

mod bursts;
mod challenges;
mod refresh;

use aws_sdk_cognitoidentityprovider::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, AuthenticationResultType};
use aws_sdk_cognitoidentityprovider::Client;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{json, Value};

use super::*;
use crate::claims::claims_of;
use crate::support::http;
use crate::support::server::TestServer;

/// `(code, message)` of a refused SDK call (panics if it succeeded).
pub(super) fn refusal<
    T: std::fmt::Debug,
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
>(
    result: Result<T, SdkError<E, R>>,
) -> (String, String) {
    let e = result.expect_err("the call must be refused");
    let service = e
        .as_service_error()
        .unwrap_or_else(|| panic!("not a service error: {e:?}"));
    (
        service.code().unwrap_or_default().to_string(),
        service.message().unwrap_or_default().to_string(),
    )
}

/// USER_PASSWORD_AUTH through the SDK.
pub(super) async fn password_auth(
    sdk: &Client,
    client_id: &str,
    username: &str,
    password: &str,
    secret_hash: Option<String>,
) -> Result<
    InitiateAuthOutput,
    SdkError<aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError>,
> {
    let mut call = sdk
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password);
    if let Some(hash) = secret_hash {
        call = call.auth_parameters("SECRET_HASH", hash);
    }
    call.send().await
}

/// The tokens of a sign-in that must have succeeded.
pub(super) fn tokens_of(out: &InitiateAuthOutput) -> AuthenticationResultType {
    out.authentication_result()
        .unwrap_or_else(|| panic!("no tokens: {out:?}"))
        .clone()
}

/// A user pools API call without the SDK (no signature; `from` as X-Forwarded-For).
pub(super) async fn raw(
    server: &TestServer,
    action: &str,
    body: Value,
    from: Option<&str>,
) -> (u16, Value) {
    let mut request = http()
        .post(&server.base)
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .body(body.to_string());
    if let Some(ip) = from {
        request = request.header("x-forwarded-for", ip);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Verifies a token with the pool's published JWKS (RS256, the issuer) and returns its
/// claims.
pub(super) async fn verified(server: &TestServer, pool: &str, token: &str) -> Value {
    let jwks: Value = http()
        .get(format!("{}/{pool}/.well-known/jwks.json", server.base))
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
        .unwrap_or_else(|| panic!("kid {kid} not in the JWKS"));
    let key =
        DecodingKey::from_rsa_components(jwk["n"].as_str().unwrap(), jwk["e"].as_str().unwrap())
            .unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_aud = false;
    validation.set_issuer(&[format!("{}/{pool}", server.base)]);
    decode::<Value>(token, &key, &validation).unwrap().claims
}

/// Checks the API's tokens: the hosted UI's kind, with the API's scope and an ID token.
pub(super) async fn assert_api_tokens(
    server: &TestServer,
    pool: &str,
    client_id: &str,
    username: &str,
    tokens: &AuthenticationResultType,
) -> (Value, Value) {
    assert_eq!(tokens.token_type(), Some("Bearer"));
    assert_eq!(tokens.expires_in(), 3600);
    let access = verified(server, pool, tokens.access_token().unwrap()).await;
    let id = verified(server, pool, tokens.id_token().expect("an ID token")).await;
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["client_id"], client_id);
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(access["username"], username);
    assert!(access.get("aud").is_none(), "{access}");
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["aud"], client_id);
    assert_eq!(id["cognito:username"], username);
    assert_eq!(id["origin_jti"], access["origin_jti"]);
    assert_eq!(id["sub"], access["sub"]);
    assert_eq!(id["auth_time"], access["auth_time"]);
    (access, id)
}

#[tokio::test]
async fn user_password_auth_answers_the_hosted_ui_kind_of_tokens() {
    let server = start().await;
    let alice = confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let sdk = public_client(&server);

    let out = password_auth(&sdk, APP, "alice", PASSWORD, None)
        .await
        .unwrap();
    assert!(out.challenge_name().is_none());
    let tokens = tokens_of(&out);
    assert!(tokens.refresh_token().is_some_and(|t| !t.is_empty()));
    let (access, id) = assert_api_tokens(&server, POOL, APP, "alice", &tokens).await;
    assert_eq!(access["sub"], alice.sub.as_str());
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    // The access token serves the end-user actions.
    let me = sdk
        .get_user()
        .access_token(tokens.access_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.username(), "alice");

    // The email alias signs in too; a wrong password does not.
    let out = password_auth(&sdk, APP, "alice@example.com", PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(
        claims_of(tokens_of(&out).access_token().unwrap())["username"],
        "alice"
    );
    let (code, message) = refusal(password_auth(&sdk, APP, "alice", "Wrong-horse-1", None).await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NotAuthorizedException", "Incorrect username or password.")
    );
    server.stop().await;
}

#[tokio::test]
async fn admin_user_password_auth_is_signed_with_an_operator_key() {
    let server = start().await;
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let admin = operator_client(&server).await;
    let call = |sdk: &Client| {
        sdk.admin_initiate_auth()
            .user_pool_id(POOL)
            .client_id(APP)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "alice")
            .auth_parameters("PASSWORD", PASSWORD)
    };
    let out = call(&admin).send().await.unwrap();
    let tokens = out.authentication_result().unwrap();
    assert_eq!(
        claims_of(tokens.access_token().unwrap())["scope"],
        "aws.cognito.signin.user.admin"
    );
    // The client must be the pool's.
    let (code, _) = refusal(
        admin
            .admin_initiate_auth()
            .user_pool_id(MFA_POOL)
            .client_id(APP)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "alice")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    // An unknown access key, a wrong secret, and no signature at all are refused.
    assert!(call(&public_client(&server)).send().await.is_err());
    let key = crate::aws_edge::make_key(&server, None, None).await;
    let wrong = client_with(&server.base, &key.access_key_id, "not-the-secret");
    assert!(call(&wrong).send().await.is_err());
    let (status, body) = raw(
        &server,
        "AdminInitiateAuth",
        json!({"UserPoolId": POOL, "ClientId": APP, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD}}),
        None,
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["__type"], "MissingAuthenticationTokenException");
    // USER_PASSWORD_AUTH is InitiateAuth's flow, ADMIN_USER_PASSWORD_AUTH AdminInitiateAuth's.
    let (code, _) = refusal(
        public_client(&server)
            .initiate_auth()
            .client_id(APP)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "alice")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    server.stop().await;
}

#[tokio::test]
async fn flows_clients_and_parameters_are_checked() {
    let server = start().await;
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let sdk = public_client(&server);
    // The honest call, then what differs from it.
    assert!(password_auth(&sdk, APP, "alice", PASSWORD, None)
        .await
        .is_ok());
    let (code, message) = refusal(password_auth(&sdk, SRP_ONLY, "alice", PASSWORD, None).await);
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "USER_PASSWORD_AUTH flow not enabled for this client"
    );
    let (code, message) = refusal(password_auth(&sdk, NO_PASSWORDS, "alice", PASSWORD, None).await);
    assert_eq!(code, "InvalidParameterException", "{message}");
    let (code, _) =
        refusal(password_auth(&sdk, "nosuchclient00000000000001", "alice", PASSWORD, None).await);
    assert_eq!(code, "ResourceNotFoundException");
    let (code, message) = refusal(
        sdk.initiate_auth()
            .client_id(SRP_ONLY)
            .auth_flow(AuthFlowType::CustomAuth)
            .auth_parameters("USERNAME", "alice")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        message,
        "Custom auth lambda trigger is not configured for the user pool."
    );
    let (code, message) = refusal(
        sdk.initiate_auth()
            .client_id(APP)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "alice")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(message, "Missing required parameter PASSWORD");
    // Members the SDK would not let go missing, sent raw: the field is named.
    let (status, body) = raw(&server, "InitiateAuth", json!({"ClientId": APP}), None).await;
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "InvalidParameterException");
    assert!(
        body["message"].as_str().unwrap().contains("authFlow"),
        "{body}"
    );
    let (_, body) = raw(
        &server,
        "InitiateAuth",
        json!({"AuthFlow": "USER_PASSWORD_AUTH"}),
        None,
    )
    .await;
    assert!(
        body["message"].as_str().unwrap().contains("clientId"),
        "{body}"
    );
    let (_, body) = raw(
        &server,
        "InitiateAuth",
        json!({"ClientId": APP, "AuthFlow": "NO_SUCH_FLOW", "AuthParameters": {}}),
        None,
    )
    .await;
    assert_eq!(body["__type"], "InvalidParameterException", "{body}");
    let (_, body) = raw(
        &server,
        "InitiateAuth",
        json!({"ClientId": APP, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": 7}}),
        None,
    )
    .await;
    assert_eq!(body["__type"], "InvalidParameterException", "{body}");
    server.stop().await;
}

#[tokio::test]
async fn secret_hash_is_required_and_checked_in_every_flow() {
    let server = start().await;
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let sdk = public_client(&server);
    let hash = secret_hash(SECRET, "alice", SECRET_APP);
    let out = password_auth(&sdk, SECRET_APP, "alice", PASSWORD, Some(hash.clone()))
        .await
        .unwrap();
    let refresh_token = tokens_of(&out).refresh_token().unwrap().to_string();
    let (code, message) = refusal(password_auth(&sdk, SECRET_APP, "alice", PASSWORD, None).await);
    assert_eq!(code, "NotAuthorizedException");
    assert!(
        message.contains("SECRET_HASH was not received"),
        "{message}"
    );
    for wrong in [
        secret_hash(SECRET, "bob", SECRET_APP),
        secret_hash("another-secret", "alice", SECRET_APP),
        secret_hash(SECRET, "alice", APP),
        "not base64 at all".to_string(),
    ] {
        let (code, message) =
            refusal(password_auth(&sdk, SECRET_APP, "alice", PASSWORD, Some(wrong)).await);
        assert_eq!(code, "NotAuthorizedException");
        assert_eq!(
            message,
            format!("Unable to verify secret hash for client {SECRET_APP}")
        );
    }
    // REFRESH_TOKEN_AUTH: the hash of the token's user.
    let refresh = |hash: Option<String>| {
        let mut call = sdk
            .initiate_auth()
            .client_id(SECRET_APP)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token.clone());
        if let Some(hash) = hash {
            call = call.auth_parameters("SECRET_HASH", hash);
        }
        call.send()
    };
    assert!(refresh(Some(hash))
        .await
        .unwrap()
        .authentication_result()
        .is_some());
    let (code, _) = refusal(refresh(None).await);
    assert_eq!(code, "NotAuthorizedException");
    let (code, _) = refusal(refresh(Some(secret_hash(SECRET, "bob", SECRET_APP))).await);
    assert_eq!(code, "NotAuthorizedException");
    server.stop().await;
}

#[tokio::test]
async fn unknown_users_are_told_apart_only_by_legacy_clients() {
    let server = start().await;
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let sdk = public_client(&server);
    // ENABLED (the default): an unknown user is answered exactly like a wrong password.
    let wrong = refusal(password_auth(&sdk, APP, "alice", "Wrong-horse-1", None).await);
    let unknown = refusal(password_auth(&sdk, APP, "nobody", "Wrong-horse-1", None).await);
    assert_eq!(wrong, unknown);
    assert_eq!(unknown.0, "NotAuthorizedException");
    // LEGACY: UserNotFoundException, and a wrong password is still NotAuthorized.
    assert!(password_auth(&sdk, LEGACY, "alice", PASSWORD, None)
        .await
        .is_ok());
    let (code, message) =
        refusal(password_auth(&sdk, LEGACY, "nobody", "Wrong-horse-1", None).await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("UserNotFoundException", "User does not exist.")
    );
    let (code, _) = refusal(password_auth(&sdk, LEGACY, "alice", "Wrong-horse-1", None).await);
    assert_eq!(code, "NotAuthorizedException");
    server.stop().await;
}
