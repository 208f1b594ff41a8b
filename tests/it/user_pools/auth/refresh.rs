//! REFRESH_TOKEN_AUTH, GetTokensFromRefreshToken on a rotating client, RevokeToken.

use super::*;
use aws_sdk_cognitoidentityprovider::types::AuthFlowType;

async fn refresh_auth(
    sdk: &Client,
    client_id: &str,
    token: &str,
) -> Result<
    InitiateAuthOutput,
    SdkError<aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError>,
> {
    sdk.initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", token)
        .send()
        .await
}

#[tokio::test]
async fn refresh_token_auth_keeps_the_family_and_revoke_ends_it() {
    let server = start().await;
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let sdk = public_client(&server);
    let first = tokens_of(
        &password_auth(&sdk, APP, "alice", PASSWORD, None)
            .await
            .unwrap(),
    );
    let refresh_token = first.refresh_token().unwrap().to_string();
    let first_access = claims_of(first.access_token().unwrap());

    let out = refresh_auth(&sdk, APP, &refresh_token).await.unwrap();
    let again = tokens_of(&out);
    // No new refresh token (the client does not rotate); the same family and auth_time.
    assert!(again.refresh_token().is_none());
    let (access, _) = assert_api_tokens(&server, POOL, APP, "alice", &again).await;
    assert_eq!(access["origin_jti"], first_access["origin_jti"]);
    assert_eq!(access["auth_time"], first_access["auth_time"]);
    // REFRESH_TOKEN is the same flow's other name.
    assert!(sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::RefreshToken)
        .auth_parameters("REFRESH_TOKEN", &refresh_token)
        .send()
        .await
        .is_ok());
    // Another client cannot use it; a made-up one is refused.
    let (code, _) = refusal(refresh_auth(&sdk, LEGACY, &refresh_token).await);
    assert_eq!(code, "NotAuthorizedException");
    let (code, message) = refusal(refresh_auth(&sdk, APP, "made-up-refresh-token").await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NotAuthorizedException", "Invalid Refresh Token")
    );

    // RevokeToken: another client's revocation leaves the token alone...
    sdk.revoke_token()
        .client_id(LEGACY)
        .token(&refresh_token)
        .send()
        .await
        .unwrap();
    assert!(refresh_auth(&sdk, APP, &refresh_token).await.is_ok());
    // ...an access token is not what it takes...
    let (code, _) = refusal(
        sdk.revoke_token()
            .client_id(APP)
            .token(first.access_token().unwrap())
            .send()
            .await,
    );
    assert_eq!(code, "UnsupportedTokenTypeException");
    // ...and its own client's revocation ends the family: refresh and access tokens.
    sdk.revoke_token()
        .client_id(APP)
        .token(&refresh_token)
        .send()
        .await
        .unwrap();
    let (code, _) = refusal(refresh_auth(&sdk, APP, &refresh_token).await);
    assert_eq!(code, "NotAuthorizedException");
    let (code, _) = refusal(
        sdk.get_user()
            .access_token(again.access_token().unwrap())
            .send()
            .await,
    );
    assert_eq!(code, "NotAuthorizedException");
    server.stop().await;
}

#[tokio::test]
async fn a_rotating_client_refreshes_with_get_tokens_from_refresh_token() {
    let server = start().await;
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let sdk = public_client(&server);
    let first = tokens_of(
        &password_auth(&sdk, ROTATING, "alice", PASSWORD, None)
            .await
            .unwrap(),
    );
    let old = first.refresh_token().unwrap().to_string();
    // REFRESH_TOKEN_AUTH is refused for a client that rotates, as in Cognito.
    let (code, message) = refusal(refresh_auth(&sdk, ROTATING, &old).await);
    assert_eq!(code, "InvalidParameterException", "{message}");

    let out = sdk
        .get_tokens_from_refresh_token()
        .client_id(ROTATING)
        .refresh_token(&old)
        .send()
        .await
        .unwrap();
    let result = out.authentication_result().unwrap();
    let new = result
        .refresh_token()
        .expect("a new refresh token")
        .to_string();
    assert_ne!(new, old);
    assert!(result.id_token().is_some());
    assert_eq!(
        claims_of(result.access_token().unwrap())["origin_jti"],
        claims_of(first.access_token().unwrap())["origin_jti"]
    );
    // The new one refreshes in turn, and rotates again.
    let next = sdk
        .get_tokens_from_refresh_token()
        .client_id(ROTATING)
        .refresh_token(&new)
        .send()
        .await
        .unwrap();
    let newest = next
        .authentication_result()
        .unwrap()
        .refresh_token()
        .unwrap();
    assert!(newest != new && newest != old);
    // (A rotated-out token reused after its grace period ends the family: the token
    // service's rule, tested in claims::tokens::rotated_out_refresh_token_reused_after_grace_revokes_the_family.)
    server.stop().await;
}

#[tokio::test]
async fn confidential_clients_present_their_secret_to_refresh_and_revoke() {
    let server = start().await;
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let sdk = public_client(&server);
    let hash = secret_hash(SECRET, "alice", SECRET_APP);
    let tokens = tokens_of(
        &password_auth(&sdk, SECRET_APP, "alice", PASSWORD, Some(hash))
            .await
            .unwrap(),
    );
    let token = tokens.refresh_token().unwrap();
    let get = |secret: Option<&str>| {
        sdk.get_tokens_from_refresh_token()
            .client_id(SECRET_APP)
            .refresh_token(token)
            .set_client_secret(secret.map(str::to_string))
            .send()
    };
    assert!(get(Some(SECRET)).await.is_ok());
    assert_eq!(refusal(get(None).await).0, "NotAuthorizedException");
    assert_eq!(
        refusal(get(Some("wrong-secret")).await).0,
        "NotAuthorizedException"
    );
    let revoke = |secret: Option<&str>| {
        sdk.revoke_token()
            .client_id(SECRET_APP)
            .token(token)
            .set_client_secret(secret.map(str::to_string))
            .send()
    };
    assert_eq!(
        refusal(revoke(Some("wrong-secret")).await).0,
        "UnauthorizedException"
    );
    assert!(get(Some(SECRET)).await.is_ok());
    revoke(Some(SECRET)).await.unwrap();
    assert_eq!(refusal(get(Some(SECRET)).await).0, "NotAuthorizedException");
    server.stop().await;
}
