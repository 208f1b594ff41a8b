//! The OAuth 2.0 and OpenID Connect wire protocol toward upstream IdPs: the authorization
//! URL (the `oauth2` crate, plus `nonce` for OpenID Connect) and the authorization code
//! exchange, with the `openidconnect` crate for OpenID Connect providers (Google, Sign in
//! with Apple, enterprise OIDC: the token response carries the ID token) and the `oauth2`
//! crate for plain OAuth 2.0 + profile API providers (Facebook, Login with Amazon).
//!
//! The crates build and parse; every request they make goes through [`IdpHttp`] (one
//! `reqwest` client, timeouts, no redirects, a size cap). ID token validation is
//! [`super::id_token`]'s.

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CodeTokenRequest, CsrfToken,
    ErrorResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope,
    TokenResponse, TokenUrl,
};
use openidconnect::core::{CoreClient, CoreIdToken, CoreJsonWebKeySet, CoreTokenResponse};
use openidconnect::IssuerUrl;

use super::error::FederationError;
use super::http::{HttpError, IdpHttp};
use crate::core::model::{IdentityProvider, Protocol, ResponseMode, TokenEndpointAuthMethod};
use crate::core::secrets::SecretString;

/// What one sign-in attempt sends to the IdP's authorization endpoint.
#[derive(Debug, Clone, Copy)]
pub struct AuthorizationParams<'a> {
    pub authorize_url: &'a str,
    pub callback: &'a url::Url,
    pub state: &'a str,
    /// Sent to OpenID Connect providers only (a plain OAuth 2.0 provider issues no ID
    /// token to carry it back).
    pub nonce: &'a str,
    /// PKCE S256 (RFC 7636) when the provider uses it.
    pub pkce_verifier: Option<&'a str>,
    pub login_hint: Option<&'a str>,
}

/// The IdP's authorization URL (RFC 6749 section 4.1.1, OIDC Core 3.1.2.1): `state`,
/// `nonce`, PKCE, `response_mode=form_post` for Apple, Google's `hd` hint.
pub fn authorization_url(
    provider: &IdentityProvider,
    params: AuthorizationParams<'_>,
) -> Result<url::Url, FederationError> {
    let auth_url = AuthUrl::new(params.authorize_url.to_string()).map_err(|_| {
        FederationError::MissingEndpoint {
            provider: provider.name.clone(),
            what: "valid authorization endpoint",
        }
    })?;
    let redirect = RedirectUrl::from_url(params.callback.clone());
    let state = CsrfToken::new(params.state.to_string());
    let challenge = params
        .pkce_verifier
        .map(|v| PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(v.into())));
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if provider.response_mode == ResponseMode::FormPost {
        extra.push(("response_mode", "form_post"));
    }
    if let Some(hd) = &provider.hosted_domain {
        // Only a hint for Google's account chooser; the signed `hd` claim is what
        // `map_claims` enforces.
        extra.push(("hd", hd));
    }
    if let Some(hint) = params.login_hint {
        extra.push(("login_hint", hint));
    }
    if provider.protocol == Protocol::Oidc {
        // OIDC Core 3.1.2.1; a plain OAuth 2.0 provider issues no ID token to carry it
        // back.
        extra.push(("nonce", params.nonce));
    }
    // The scopes exactly as the provider's preset declares them: Apple documents only
    // `name email` (no `openid`), so the OIDC client's built-in `openid` is not forced in.
    let client = BasicClient::new(ClientId::new(provider.client_id.clone()))
        .set_auth_uri(auth_url)
        .set_redirect_uri(redirect);
    let mut request = client
        .authorize_url(move || state)
        .add_scopes(provider.scopes.iter().cloned().map(Scope::new));
    if let Some(challenge) = challenge {
        request = request.set_pkce_challenge(challenge);
    }
    for (name, value) in extra {
        request = request.add_extra_param(name, value);
    }
    let (url, _) = request.url();
    Ok(url)
}

/// What the token endpoint answered to a code exchange.
#[derive(Debug)]
pub struct TokenAnswer {
    pub access_token: SecretString,
    /// The ID token (OpenID Connect providers), not yet validated.
    pub id_token: Option<CoreIdToken>,
}

/// The authorization code exchange (RFC 6749 section 4.1.3, RFC 7636 section 4.5),
/// authenticating as the provider's `token_endpoint_auth_method` says.
pub async fn exchange_code(
    http: &IdpHttp,
    provider: &IdentityProvider,
    token_url: &str,
    callback: &url::Url,
    code: &str,
    pkce_verifier: Option<&str>,
    secret: Option<&SecretString>,
) -> Result<TokenAnswer, FederationError> {
    let token_uri =
        TokenUrl::new(token_url.to_string()).map_err(|_| FederationError::MissingEndpoint {
            provider: provider.name.clone(),
            what: "valid token endpoint",
        })?;
    let redirect = RedirectUrl::from_url(callback.clone());
    let secret = secret.map(|s| ClientSecret::new(s.expose().to_string()));
    let auth_type = match provider.token_endpoint_auth_method {
        TokenEndpointAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
        TokenEndpointAuthMethod::ClientSecretPost => AuthType::RequestBody,
    };
    let code = AuthorizationCode::new(code.to_string());
    let verifier = pkce_verifier.map(|v| PkceCodeVerifier::new(v.to_string()));
    match provider.protocol {
        Protocol::Oidc => {
            let mut client = oidc_client(provider)?.set_token_uri(token_uri);
            if let Some(secret) = secret {
                client = client.set_client_secret(secret);
            }
            let request = client.set_redirect_uri(redirect).set_auth_type(auth_type);
            let answer: CoreTokenResponse =
                request_tokens(http, token_url, request.exchange_code(code), verifier).await?;
            Ok(TokenAnswer {
                access_token: SecretString::new(answer.access_token().secret().clone()),
                id_token: answer.extra_fields().id_token().cloned(),
            })
        }
        Protocol::Oauth2 => {
            let mut client = BasicClient::new(ClientId::new(provider.client_id.clone()))
                .set_token_uri(token_uri);
            if let Some(secret) = secret {
                client = client.set_client_secret(secret);
            }
            let request = client.set_redirect_uri(redirect).set_auth_type(auth_type);
            let answer =
                request_tokens(http, token_url, request.exchange_code(code), verifier).await?;
            Ok(TokenAnswer {
                access_token: SecretString::new(answer.access_token().secret().clone()),
                id_token: None,
            })
        }
    }
}

/// Sends a code exchange built by either crate, with the PKCE verifier when there is one.
async fn request_tokens<TE, TR>(
    http: &IdpHttp,
    token_url: &str,
    request: CodeTokenRequest<'_, TE, TR>,
    verifier: Option<PkceCodeVerifier>,
) -> Result<TR, FederationError>
where
    TE: ErrorResponse + 'static,
    TR: TokenResponse,
{
    let request = match verifier {
        Some(verifier) => request.set_pkce_verifier(verifier),
        None => request,
    };
    request
        .request_async(http)
        .await
        .map_err(|e| token_error(token_url, e))
}

/// An OpenID Connect client for `provider`, without keys: the code exchange needs none,
/// and ID tokens are checked by [`super::id_token`] against the
/// cached JWKS.
fn oidc_client(provider: &IdentityProvider) -> Result<CoreClient, FederationError> {
    // An IdP declared by its endpoints alone has no issuer; the crate needs one to build a
    // client, and `id_token` refuses its tokens' `iss` anyway (nothing to match).
    let issuer = provider
        .issuer
        .clone()
        .or_else(|| provider.endpoints.authorize.clone())
        .unwrap_or_default();
    let issuer = IssuerUrl::new(issuer).map_err(|_| FederationError::MissingEndpoint {
        provider: provider.name.clone(),
        what: "valid issuer",
    })?;
    Ok(CoreClient::new(
        ClientId::new(provider.client_id.clone()),
        issuer,
        CoreJsonWebKeySet::new(Vec::new()),
    ))
}

/// A failed token request in Cognate's terms: the IdP's RFC 6749 section 5.2 refusal, or
/// what went wrong on the way.
fn token_error<RE: ErrorResponse + 'static>(
    url: &str,
    error: RequestTokenError<HttpError, RE>,
) -> FederationError {
    match error {
        RequestTokenError::ServerResponse(answer) => {
            let text = serde_json::to_value(&answer).unwrap_or_default();
            let field = |name: &str| {
                text.get(name)
                    .and_then(serde_json::Value::as_str)
                    .map(|s| s.chars().take(200).collect::<String>())
            };
            FederationError::TokenRefused {
                error: field("error").unwrap_or_else(|| "unknown".into()),
                description: field("error_description"),
            }
        }
        RequestTokenError::Request(e) => FederationError::Http(e),
        RequestTokenError::Parse(e, _) => FederationError::Http(HttpError::Invalid {
            url: strip_query(url),
            detail: e.to_string(),
        }),
        RequestTokenError::Other(detail) => FederationError::Http(HttpError::Invalid {
            url: strip_query(url),
            detail,
        }),
    }
}

fn strip_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_string()
}
