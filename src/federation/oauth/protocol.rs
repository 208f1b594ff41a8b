//! The OAuth 2.0 and OpenID Connect wire protocol toward upstream IdPs, on the `oauth2`
//! crate: the authorization URL (plus `nonce` for OpenID Connect) and the authorization
//! code exchange, for OpenID Connect providers (Google, Sign in with Apple, enterprise
//! OIDC: the token response also carries the ID token) and plain OAuth 2.0 + profile API
//! providers (Facebook, Login with Amazon).
//!
//! The ID token is taken from the token response as the compact string the IdP sent and
//! validated by [`super::id_token`]. It is deliberately not parsed into a typed OpenID
//! Connect token here: providers' quirks (Google's scheme-less `iss`, Apple's string
//! booleans) would make a typed parse refuse tokens the validation accepts.
//!
//! The crate builds and parses; every request it makes goes through [`IdpHttp`] (one
//! `reqwest` client, timeouts, no redirects, a size cap).

use oauth2::basic::{
    BasicClient, BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CodeTokenRequest, CsrfToken,
    ErrorResponse, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use serde::{Deserialize, Serialize};

use super::CodeGrant;
use crate::core::model::{
    IdentityProvider, ProtocolSettings, ResponseMode, TokenEndpointAuthMethod,
};
use crate::core::secrets::SecretString;
use crate::core::secrets::{redacted, REDACTED};
use crate::federation::error::FederationError;
use crate::federation::http::{HttpError, IdpHttp};

/// What one sign-in attempt sends to the IdP's authorization endpoint.
#[derive(Clone, Copy)]
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

impl std::fmt::Debug for AuthorizationParams<'_> {
    /// Leaves out the nonce and the PKCE verifier (RFC 7636 section 7.1).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizationParams")
            .field("authorize_url", &self.authorize_url)
            .field("callback", &self.callback.as_str())
            .field("state", &self.state)
            .field("nonce", &REDACTED)
            .field("pkce_verifier", &redacted(&self.pkce_verifier))
            .field("login_hint", &self.login_hint)
            .finish()
    }
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
    let grant = CodeGrant::for_provider(provider)?;
    let oidc = provider.protocol.as_oidc();
    let mut extra: Vec<(&str, &str)> = Vec::new();
    if grant.response_mode == ResponseMode::FormPost {
        extra.push(("response_mode", "form_post"));
    }
    if let Some(hd) = oidc.and_then(|o| o.hosted_domain.as_deref()) {
        // Only a hint for Google's account chooser; the signed `hd` claim is what
        // `map_claims` enforces.
        extra.push(("hd", hd));
    }
    if let Some(hint) = params.login_hint {
        extra.push(("login_hint", hint));
    }
    if oidc.is_some() {
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
        .add_scopes(grant.scopes.iter().cloned().map(Scope::new));
    if let Some(challenge) = challenge {
        request = request.set_pkce_challenge(challenge);
    }
    for (name, value) in extra {
        request = request.add_extra_param(name, value);
    }
    let (url, _) = request.url();
    Ok(url)
}

/// What the token endpoint answered to a code exchange (`Debug` shows neither token).
#[derive(Debug)]
pub struct TokenAnswer {
    pub access_token: SecretString,
    /// The ID token (OpenID Connect providers) as the IdP sent it, not yet validated.
    pub id_token: Option<SecretString>,
}

/// The OpenID Connect addition to an RFC 6749 token response (OIDC Core 3.1.3.3).
#[derive(Clone, Deserialize, Serialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
}

impl ExtraTokenFields for IdTokenField {}

impl std::fmt::Debug for IdTokenField {
    /// The crate's error and debug output must not carry the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdTokenField")
            .field("id_token", &redacted(&self.id_token))
            .finish()
    }
}

/// An OpenID Connect provider's token response.
type OidcTokenResponse = StandardTokenResponse<IdTokenField, BasicTokenType>;

/// An `oauth2` client whose token responses may carry an ID token.
type OidcClient = oauth2::Client<
    BasicErrorResponse,
    OidcTokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
>;

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
    let auth_type = match CodeGrant::for_provider(provider)?.token_endpoint_auth_method {
        TokenEndpointAuthMethod::ClientSecretBasic => AuthType::BasicAuth,
        TokenEndpointAuthMethod::ClientSecretPost => AuthType::RequestBody,
    };
    let code = AuthorizationCode::new(code.to_string());
    let verifier = pkce_verifier.map(|v| PkceCodeVerifier::new(v.to_string()));
    match provider.protocol {
        ProtocolSettings::Oidc(_) => {
            let mut client =
                OidcClient::new(ClientId::new(provider.client_id.clone())).set_token_uri(token_uri);
            if let Some(secret) = secret {
                client = client.set_client_secret(secret);
            }
            let request = client.set_redirect_uri(redirect).set_auth_type(auth_type);
            let answer =
                request_tokens(http, token_url, request.exchange_code(code), verifier).await?;
            Ok(TokenAnswer {
                access_token: SecretString::new(answer.access_token().secret().clone()),
                id_token: answer
                    .extra_fields()
                    .id_token
                    .clone()
                    .map(SecretString::new),
            })
        }
        ProtocolSettings::OAuth2(_) => {
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
        ProtocolSettings::Saml(_) => {
            Err(FederationError::UnsupportedProtocol(provider.name.clone()))
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

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use serde_json::json;

    use super::*;

    #[test]
    fn debug_hides_the_nonce_the_verifier_and_the_tokens() {
        let callback = url::Url::parse("https://cognate.example.com/oauth2/idpresponse").unwrap();
        let params = AuthorizationParams {
            authorize_url: "https://idp.example.com/authorize",
            callback: &callback,
            state: "upstream-state",
            nonce: "upstream-nonce-value",
            pkce_verifier: Some("pkce-verifier-value"),
            login_hint: None,
        };
        let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        let signature = URL_SAFE_NO_PAD.encode("id-token-signature");
        let id_token = format!(
            "{}.{}.{signature}",
            part(json!({"alg": "RS256", "kid": "k1"})),
            part(
                json!({"iss": "https://idp.example.com", "aud": "c", "sub": "upstream-sub",
                        "exp": 2_000_000_000, "iat": 1_000_000_000})
            ),
        );
        let answer = TokenAnswer {
            access_token: SecretString::new("upstream-access-token"),
            id_token: Some(SecretString::new(id_token)),
        };
        let text = format!("{params:?} {answer:?}");
        for secret in [
            "upstream-nonce-value",
            "pkce-verifier-value",
            "upstream-access-token",
            "upstream-sub",
            signature.as_str(),
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert!(text.contains("upstream-state"), "{text}");
    }
}
