//! Cognate as an OpenID Provider, seen by an independent relying party: the `openidconnect`
//! crate, strict (none of its lenient features), over its own HTTP client that follows no
//! redirects. Discovery, the code flow with PKCE S256, a nonce and a state (the hosted page
//! driven without a browser), the code exchange, ID-token validation against the JWKS
//! (signature, issuer, audience, nonce, `at_hash`), userInfo, refresh and RFC 7009
//! revocation, for a public client and for confidential clients authenticating with
//! `client_secret_basic` and `client_secret_post`.

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthenticationFlow, CoreClaimName, CoreClaimType, CoreClient,
    CoreClientAuthMethod, CoreErrorResponseType, CoreGenderClaim, CoreGrantType, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm, CoreResponseMode,
    CoreResponseType, CoreRevocableToken, CoreSubjectIdentifierType, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AdditionalProviderMetadata, AsyncHttpClient, AuthType, AuthorizationCode,
    ClientId, ClientSecret, CsrfToken, EmptyAdditionalClaims, HttpRequest, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, ProviderMetadata, RedirectUrl, RequestTokenError,
    RevocationUrl, Scope, TokenResponse, UserInfoError,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::claims::{
    claims_of, query_param, rich_user, start, BASIC, BASIC_CALLBACK, BASIC_SECRET, PASSWORD, POOL,
    POST, POST_CALLBACK, POST_SECRET, SPA, SPA_CALLBACK, STRINGS_POOL, STR_SPA,
};
use crate::support::server::{browser_client, sign_in};

/// The discovery document's `revocation_endpoint` (RFC 8414), which the core metadata type
/// does not model: the crate's documented way to read an extension.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub(crate) struct RevocationMetadata {
    revocation_endpoint: String,
}

impl AdditionalProviderMetadata for RevocationMetadata {}

pub(crate) type RpMetadata = ProviderMetadata<
    RevocationMetadata,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// RFC 7009 section 2 has clients refuse a revocation endpoint that is not https, and the
/// crate does. The server under test speaks plain HTTP on loopback, so the relying party is
/// given the endpoint's https URL, and its transport, standing in for a TLS terminator in
/// front of the server, delivers the request (built and answered by the crate) to the
/// loopback server unchanged.
fn https_url(url: &str) -> String {
    url.replacen("http://", "https://", 1)
}

async fn revoke_through_tls_stand_in<RT, TRE>(
    request: openidconnect::RevocationRequest<'_, RT, TRE>,
    http: &reqwest::Client,
    base: &str,
) -> Result<(), String>
where
    RT: openidconnect::RevocableToken,
    TRE: openidconnect::ErrorResponse + 'static,
{
    let stand_in = |mut request: HttpRequest| {
        let uri = request
            .uri()
            .to_string()
            .replacen(&https_url(base), base, 1);
        *request.uri_mut() = uri.parse().expect("a URI");
        http.call(request)
    };
    request
        .request_async(&stand_in)
        .await
        .map_err(|e| format!("{e:?}"))
}

/// The relying party's HTTP client: reqwest 0.12 (the crate's own integration), never
/// following redirects (a redirect from a token endpoint is an SSRF vector).
pub(crate) fn rp_http() -> reqwest::Client {
    cognate::federation::http::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

pub(crate) async fn discover(base: &str, pool: &str, http: &reqwest::Client) -> RpMetadata {
    let issuer = IssuerUrl::new(format!("{base}/{pool}")).unwrap();
    RpMetadata::discover_async(issuer, http)
        .await
        .unwrap_or_else(|e| panic!("discovery failed: {e:?}"))
}

/// Follows the hosted login with the library's authorization URL; checks `state` and the
/// RFC 9207 `iss`, returns the code.
async fn authorize_and_sign_in(
    base: &str,
    browser: &reqwest::Client,
    url: &url::Url,
    state: &CsrfToken,
    issuer: &str,
    username: &str,
) -> AuthorizationCode {
    let location = sign_in(browser, base, url.as_str(), username, PASSWORD)
        .await
        .unwrap_or_else(|body| panic!("sign-in failed: {body}"));
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    assert_eq!(query_param(&location, "iss").as_deref(), Some(issuer));
    AuthorizationCode::new(query_param(&location, "code").expect("a code"))
}

#[tokio::test]
async fn relying_party_runs_discovery_code_pkce_userinfo_refresh_and_revoke() {
    let server = start().await;
    let base = server.base.clone();
    let alice = rich_user(&server, POOL, "alice").await;
    let http = rp_http();
    let issuer = format!("{base}/{POOL}");

    let metadata = discover(&base, POOL, &http).await;
    assert_eq!(metadata.issuer().as_str(), issuer);
    assert_eq!(
        metadata.authorization_endpoint().as_str(),
        format!("{base}/oauth2/authorize")
    );
    assert_eq!(
        metadata.token_endpoint().map(|u| u.as_str().to_string()),
        Some(format!("{base}/oauth2/token"))
    );
    assert_eq!(
        metadata.userinfo_endpoint().map(|u| u.as_str().to_string()),
        Some(format!("{base}/oauth2/userInfo"))
    );
    // The JWKS was fetched and parsed: at least the ID-token and access-token keys.
    assert!(metadata.jwks().keys().len() >= 2);
    let revocation = metadata.additional_metadata().revocation_endpoint.clone();
    assert_eq!(revocation, format!("{base}/oauth2/revoke"));

    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(SPA.into()), None)
        .set_redirect_uri(RedirectUrl::new(SPA_CALLBACK.into()).unwrap())
        .set_revocation_url(RevocationUrl::new(https_url(&revocation)).unwrap());
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = browser_client();
    let code = authorize_and_sign_in(&base, &browser, &url, &state, &issuer, "alice").await;

    let tokens = client
        .exchange_code(code)
        .unwrap()
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange: {e:?}"));
    let id_token = tokens.id_token().expect("an ID token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .unwrap_or_else(|e| panic!("ID token refused: {e:?}"));
    assert_eq!(claims.subject().as_str(), alice.sub);
    assert_eq!(claims.issuer().as_str(), issuer);
    assert_eq!(claims.audiences().len(), 1);
    assert_eq!(claims.audiences()[0].as_str(), SPA);
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("alice@example.com")
    );
    assert_eq!(claims.email_verified(), Some(true));
    let auth_time = claims.auth_time().expect("auth_time");
    let at_hash = claims.access_token_hash().expect("at_hash");
    let computed = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&computed, at_hash);
    // The same token with another nonce is refused (replay of an ID token).
    assert!(id_token
        .claims(&verifier, &Nonce::new("other".into()))
        .is_err());
    let origin_jti = claims_of(&id_token.to_string())["origin_jti"].clone();

    // userInfo, parsed strictly: OIDC Core types (email_verified a boolean).
    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("userInfo: {e:?}"));
    assert_eq!(info.subject().as_str(), alice.sub);
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert_eq!(info.email_verified(), Some(true));
    assert_eq!(
        info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("alice Liddell")
    );

    // Refresh: the new ID token still verifies, for the same sign-in.
    let refresh_token = tokens.refresh_token().expect("a refresh token").clone();
    let refreshed = client
        .exchange_refresh_token(&refresh_token)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("refresh: {e:?}"));
    let id2 = refreshed.id_token().expect("a refreshed ID token");
    // OIDC Core 12.2: no nonce is sent with a refresh, so none is expected.
    let claims2 = id2
        .claims(&verifier, |n: Option<&Nonce>| match n {
            None => Ok(()),
            Some(_) => Err("unexpected nonce".to_string()),
        })
        .unwrap_or_else(|e| panic!("refreshed ID token refused: {e:?}"));
    assert_eq!(claims2.subject(), claims.subject());
    assert_eq!(claims2.auth_time(), Some(auth_time));
    assert_eq!(claims_of(&id2.to_string())["origin_jti"], origin_jti);
    assert_ne!(id2.to_string(), id_token.to_string());

    // RFC 7009 revocation through the library; the refresh token is then refused, and the
    // family's access tokens with it.
    let revocation = client
        .revoke_token(CoreRevocableToken::from(refresh_token.clone()))
        .unwrap();
    revoke_through_tls_stand_in(revocation, &http, &base)
        .await
        .unwrap_or_else(|e| panic!("revoke: {e}"));
    match client
        .exchange_refresh_token(&refresh_token)
        .unwrap()
        .request_async(&http)
        .await
    {
        Err(RequestTokenError::ServerResponse(e)) => {
            assert_eq!(*e.error(), CoreErrorResponseType::InvalidGrant)
        }
        other => panic!("a revoked refresh token was accepted: {other:?}"),
    }
    for access in [tokens.access_token(), refreshed.access_token()] {
        match client
            .user_info(access.clone(), None)
            .unwrap()
            .request_async::<EmptyAdditionalClaims, _, CoreGenderClaim>(&http)
            .await
        {
            Err(UserInfoError::Response(status, _, _)) => assert_eq!(status, 401),
            other => panic!("a revoked family's access token was accepted: {other:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn confidential_clients_authenticate_with_basic_and_with_post() {
    let server = start().await;
    let base = server.base.clone();
    let alice = rich_user(&server, POOL, "alice").await;
    let http = rp_http();
    let issuer = format!("{base}/{POOL}");
    let metadata = discover(&base, POOL, &http).await;
    let browser = browser_client();
    for (id, secret, callback, auth_type, pkce) in [
        (
            BASIC,
            BASIC_SECRET,
            BASIC_CALLBACK,
            AuthType::BasicAuth,
            false,
        ),
        (
            POST,
            POST_SECRET,
            POST_CALLBACK,
            AuthType::RequestBody,
            true,
        ),
    ] {
        let revocation = metadata.additional_metadata().revocation_endpoint.clone();
        let make = |secret: &str| {
            CoreClient::from_provider_metadata(
                metadata.clone(),
                ClientId::new(id.into()),
                Some(ClientSecret::new(secret.into())),
            )
            .set_auth_type(auth_type.clone())
            .set_redirect_uri(RedirectUrl::new(callback.into()).unwrap())
            .set_revocation_url(RevocationUrl::new(https_url(&revocation)).unwrap())
        };
        let client = make(secret);
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()));
        let mut verifier_kept = None;
        if pkce {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            verifier_kept = Some(verifier);
        }
        let (url, state, nonce) = request.url();

        // The wrong secret, the same way of sending it: invalid_client.
        let code = authorize_and_sign_in(&base, &browser, &url, &state, &issuer, "alice").await;
        let wrong = make("not-the-secret");
        match wrong
            .exchange_code(code)
            .unwrap()
            .request_async(&http)
            .await
        {
            Err(RequestTokenError::ServerResponse(e)) => {
                assert_eq!(*e.error(), CoreErrorResponseType::InvalidClient, "{id}")
            }
            other => panic!("{id}: a wrong secret was accepted: {other:?}"),
        }

        // The right one: the whole flow works.
        let code = authorize_and_sign_in(&base, &browser, &url, &state, &issuer, "alice").await;
        let mut exchange = client.exchange_code(code).unwrap();
        if let Some(v) = verifier_kept {
            exchange = exchange.set_pkce_verifier(v);
        }
        let tokens = exchange
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{id}: code exchange: {e:?}"));
        let verifier = client.id_token_verifier();
        let claims = tokens
            .id_token()
            .expect("an ID token")
            .claims(&verifier, &nonce)
            .unwrap_or_else(|e| panic!("{id}: ID token refused: {e:?}"));
        assert_eq!(claims.subject().as_str(), alice.sub);
        assert_eq!(claims.audiences()[0].as_str(), id);
        let info: CoreUserInfoClaims = client
            .user_info(
                tokens.access_token().clone(),
                Some(claims.subject().clone()),
            )
            .unwrap()
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{id}: userInfo: {e:?}"));
        assert_eq!(info.email_verified(), Some(true));

        // Rotation is on for both clients: the refresh grant returns a new refresh token.
        let rt = tokens.refresh_token().expect("a refresh token").clone();
        let refreshed = client
            .exchange_refresh_token(&rt)
            .unwrap()
            .request_async(&http)
            .await
            .unwrap_or_else(|e| panic!("{id}: refresh: {e:?}"));
        let rt2 = refreshed
            .refresh_token()
            .expect("a rotated refresh token")
            .clone();
        assert_ne!(rt2.secret(), rt.secret());
        refreshed
            .id_token()
            .expect("a refreshed ID token")
            .claims(&verifier, |_: Option<&Nonce>| Ok(()))
            .unwrap_or_else(|e| panic!("{id}: refreshed ID token refused: {e:?}"));

        let revocation = client
            .revoke_token(CoreRevocableToken::from(rt2.clone()))
            .unwrap();
        revoke_through_tls_stand_in(revocation, &http, &base)
            .await
            .unwrap_or_else(|e| panic!("{id}: revoke: {e}"));
        match client
            .exchange_refresh_token(&rt2)
            .unwrap()
            .request_async(&http)
            .await
        {
            Err(RequestTokenError::ServerResponse(e)) => {
                assert_eq!(*e.error(), CoreErrorResponseType::InvalidGrant, "{id}")
            }
            other => panic!("{id}: a revoked refresh token was accepted: {other:?}"),
        }
    }
    server.stop().await;
}

#[tokio::test]
async fn userinfo_string_values_is_cognitos_all_strings_form() {
    let server = start().await;
    let base = server.base.clone();
    rich_user(&server, STRINGS_POOL, "sam").await;
    let http = rp_http();
    let issuer = format!("{base}/{STRINGS_POOL}");
    let metadata = discover(&base, STRINGS_POOL, &http).await;
    let client = CoreClient::from_provider_metadata(metadata, ClientId::new(STR_SPA.into()), None)
        .set_redirect_uri(RedirectUrl::new(SPA_CALLBACK.into()).unwrap());
    let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();
    let browser = browser_client();
    let code = authorize_and_sign_in(&base, &browser, &url, &state, &issuer, "sam").await;
    let tokens = client
        .exchange_code(code)
        .unwrap()
        .set_pkce_verifier(pkce_verifier)
        .request_async(&http)
        .await
        .unwrap_or_else(|e| panic!("code exchange: {e:?}"));
    // The ID token keeps OIDC types whatever the userInfo option says.
    let claims = tokens
        .id_token()
        .unwrap()
        .claims(&client.id_token_verifier(), &nonce)
        .unwrap_or_else(|e| panic!("ID token refused: {e:?}"));
    assert_eq!(claims.email_verified(), Some(true));

    let raw: Value = http
        .get(format!("{base}/oauth2/userInfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(raw["email_verified"], "true", "{raw}");
    assert_eq!(raw["email"], "sam@example.com");
    assert_eq!(raw["sub"], claims.subject().as_str());
    assert!(
        raw.as_object().unwrap().values().all(Value::is_string),
        "{raw}"
    );
    // Which is what a client typed by OIDC Core (here the strict `openidconnect` relying
    // party) refuses, and why it is not the default.
    let strict = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async::<EmptyAdditionalClaims, _, CoreGenderClaim>(&http)
        .await;
    assert!(
        format!("{strict:?}").contains("email_verified"),
        "{strict:?}"
    );
    server.stop().await;
}
