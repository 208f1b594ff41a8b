//! The authorization endpoint's rules: validating a request (RFC 6749 section 4.1.1, OIDC
//! Core 3.1.2.1, RFC 7636), issuing single-use codes bound to the client, the redirect URI,
//! the PKCE challenge and the nonce, and building the redirect back to the client.

use std::fmt;

use serde::{Deserialize, Serialize};
use url::Url;

use super::{parse_scopes, token_hash, ErrorCode, OAuthError};
use crate::core::model::{AppClient, OAuthFlow};
use crate::core::secrets::random_token;
use crate::core::secrets::redacted;
use crate::core::storage::{Store, StoreError};
use crate::core::UnixTime;

/// The store kind of authorization codes (keyed by the code's hash).
pub const CODE_KIND: &str = "auth_code";
/// The store kind of redeemed codes, kept to detect a replay (RFC 6749 section 4.1.2:
/// a second use must revoke what the first issued). The value is the redeemed code's
/// record, so that only a replay by its own client (its binding holding) revokes.
pub const SPENT_CODE_KIND: &str = "auth_code_spent";
/// How long a redeemed code is remembered.
pub const SPENT_CODE_MEMORY_SECS: i64 = 86_400;

/// The query of `/oauth2/authorize`, as received.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub identity_provider: Option<String>,
    pub idp_identifier: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    pub response_mode: Option<String>,
    pub lang: Option<String>,
    /// OIDC Core 3.1.2.1: the longest time, in seconds, since the user last signed in
    /// for the session to count (kept as text so a bad value is `invalid_request`).
    pub max_age: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseType {
    Code,
    Token,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    #[default]
    Default,
    /// Fail with `login_required` rather than show a page.
    None,
    /// Ask for credentials even with a session.
    Login,
}

/// A validated authorization request, stored with the login flow until sign-in ends.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub pool_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub response_type: ResponseType,
    pub scopes: Vec<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub login_hint: Option<String>,
    pub identity_provider: Option<String>,
    pub idp_identifier: Option<String>,
    /// The hosted UI language asked for (`lang`), kept for every page of the flow.
    #[serde(default)]
    pub lang: Option<String>,
    /// `max_age` (OIDC Core 3.1.2.1): a session signed in longer ago than this many
    /// seconds does not answer; the user signs in again, second factor included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<i64>,
}

// Hand-written `Debug`: the client's nonce binds its ID token to the browser session
// (OIDC Core 15.5.2), so it stays out of logs like every other secret. The PKCE
// challenge is public by design (RFC 7636 section 4.2).

impl fmt::Debug for AuthorizeParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeParams")
            .field("response_type", &self.response_type)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("state", &self.state)
            .field("scope", &self.scope)
            .field("nonce", &redacted(&self.nonce))
            .field("code_challenge", &self.code_challenge)
            .field("code_challenge_method", &self.code_challenge_method)
            .field("identity_provider", &self.identity_provider)
            .field("idp_identifier", &self.idp_identifier)
            .field("prompt", &self.prompt)
            .field("login_hint", &self.login_hint)
            .field("response_mode", &self.response_mode)
            .field("lang", &self.lang)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl fmt::Debug for AuthorizeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeRequest")
            .field("pool_id", &self.pool_id)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("response_type", &self.response_type)
            .field("scopes", &self.scopes)
            .field("state", &self.state)
            .field("nonce", &redacted(&self.nonce))
            .field("code_challenge", &self.code_challenge)
            .field("prompt", &self.prompt)
            .field("login_hint", &self.login_hint)
            .field("identity_provider", &self.identity_provider)
            .field("idp_identifier", &self.idp_identifier)
            .field("lang", &self.lang)
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl AuthorizeRequest {
    /// Whether a session signed in at `auth_time` is recent enough for this request's
    /// `max_age` (none asked: any live session is).
    pub fn session_fresh_enough(&self, auth_time: UnixTime, now: UnixTime) -> bool {
        self.max_age
            .is_none_or(|max| now.saturating_sub(auth_time) <= max && max > 0)
    }
}

/// Why a request cannot be answered on the client's redirect URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageError {
    MissingClient,
    UnknownClient,
    MissingRedirectUri,
    UnregisteredRedirectUri,
    Unavailable,
    Internal,
}

/// Why a request was refused, and whether the answer may go back to the client.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthorizeError {
    /// The client or the redirect URI cannot be trusted: show an error page, never
    /// redirect (RFC 6749 section 4.1.2.1).
    Page(PageError),
    /// Tell the client on its (verified) redirect URI.
    Redirect {
        redirect_uri: String,
        /// The client's pool, whose issuer the error response names (RFC 9207).
        pool_id: String,
        state: Option<String>,
        error: OAuthError,
        fragment: bool,
    },
}

/// The longest `state` or `nonce` accepted (long values are a cheap amplification vector).
const MAX_PARAM: usize = 2048;

/// Validates an authorization request against the client's registration.
pub async fn validate(
    store: &dyn Store,
    params: &AuthorizeParams,
) -> Result<(AuthorizeRequest, AppClient), AuthorizeError> {
    let client_id = params
        .client_id
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or(AuthorizeError::Page(PageError::MissingClient))?;
    let client = match store.get_client(client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return Err(AuthorizeError::Page(PageError::UnknownClient)),
        Err(StoreError::Unavailable(_)) => {
            return Err(AuthorizeError::Page(PageError::Unavailable))
        }
        Err(e) => {
            tracing::error!(error = %e, "loading client");
            return Err(AuthorizeError::Page(PageError::Internal));
        }
    };
    // Exact string match against the registered list (RFC 9700 section 4.1.3): no prefix,
    // no normalization, no wildcard.
    let redirect_uri = params
        .redirect_uri
        .as_deref()
        .ok_or(AuthorizeError::Page(PageError::MissingRedirectUri))?;
    if !client.callback_urls.iter().any(|u| u == redirect_uri) {
        return Err(AuthorizeError::Page(PageError::UnregisteredRedirectUri));
    }
    let fragment = params.response_type.as_deref() == Some("token");
    let fail = |code: ErrorCode, description: &str| AuthorizeError::Redirect {
        redirect_uri: redirect_uri.to_string(),
        pool_id: client.pool_id.clone(),
        state: params.state.clone(),
        error: OAuthError::new(code, description),
        fragment,
    };
    if params.state.as_ref().is_some_and(|s| s.len() > MAX_PARAM)
        || params.nonce.as_ref().is_some_and(|s| s.len() > MAX_PARAM)
    {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "state or nonce is too long",
        ));
    }
    let response_type = match params.response_type.as_deref() {
        Some("code") => ResponseType::Code,
        Some("token") => ResponseType::Token,
        None => return Err(fail(ErrorCode::InvalidRequest, "response_type is required")),
        Some(_) => {
            return Err(fail(
                ErrorCode::UnsupportedResponseType,
                "response_type must be code or token",
            ))
        }
    };
    let flow = match response_type {
        ResponseType::Code => OAuthFlow::Code,
        ResponseType::Token => OAuthFlow::Implicit,
    };
    if !client.allowed_oauth_flows.contains(&flow) {
        return Err(fail(
            ErrorCode::UnauthorizedClient,
            "this app client may not use this response_type",
        ));
    }
    // Scopes: a subset of the client's; none asked means all of them (Cognito).
    let scopes = match params.scope.as_deref() {
        Some(s) if !s.trim().is_empty() => parse_scopes(s),
        _ => client.allowed_oauth_scopes.clone(),
    };
    if let Some(bad) = scopes
        .iter()
        .find(|s| !client.allowed_oauth_scopes.contains(s))
    {
        return Err(fail(
            ErrorCode::InvalidScope,
            &format!("scope {bad} is not allowed for this app client"),
        ));
    }
    match super::retired_scope(store, &client.pool_id, &scopes).await {
        Ok(None) => {}
        Ok(Some(bad)) => {
            return Err(fail(
                ErrorCode::InvalidScope,
                &format!("scope {bad} is no longer defined by the pool's resource servers"),
            ))
        }
        Err(StoreError::Unavailable(_)) => {
            return Err(AuthorizeError::Page(PageError::Unavailable))
        }
        Err(e) => {
            tracing::error!(error = %e, "loading resource servers");
            return Err(AuthorizeError::Page(PageError::Internal));
        }
    }
    let needs_openid = ["email", "phone", "profile"];
    if scopes.iter().any(|s| needs_openid.contains(&s.as_str()))
        && !scopes.iter().any(|s| s == "openid")
    {
        return Err(fail(
            ErrorCode::InvalidScope,
            "the email, phone and profile scopes require openid",
        ));
    }
    // PKCE (RFC 7636): S256 only; "plain" reveals the verifier to anyone who sees the
    // authorization request (RFC 9700 section 2.1.1).
    let code_challenge = match (
        params.code_challenge.as_deref(),
        params.code_challenge_method.as_deref(),
    ) {
        (Some(c), Some("S256")) => {
            // base64url of a SHA-256 digest: 43 characters.
            if c.len() != 43
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    "code_challenge must be the base64url SHA-256 of the verifier",
                ));
            }
            Some(c.to_string())
        }
        (Some(_), None) | (Some(_), Some(_)) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method must be S256",
            ))
        }
        (None, Some(_)) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "code_challenge_method without code_challenge",
            ))
        }
        (None, None) => None,
    };
    if response_type == ResponseType::Code && client.require_pkce && code_challenge.is_none() {
        return Err(fail(
            ErrorCode::InvalidRequest,
            "this app client requires PKCE: send code_challenge with code_challenge_method=S256",
        ));
    }
    if response_type == ResponseType::Token
        && scopes.iter().any(|s| s == "openid")
        && params.nonce.is_none()
    {
        // OIDC Core 3.2.2.1: nonce is required for implicit ID tokens.
        return Err(fail(
            ErrorCode::InvalidRequest,
            "nonce is required with response_type=token and the openid scope",
        ));
    }
    let prompt = match params.prompt.as_deref() {
        None | Some("") => Prompt::Default,
        Some("none") => Prompt::None,
        Some("login") => Prompt::Login,
        Some(_) => {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "prompt must be none or login",
            ))
        }
    };
    // OIDC Core 3.1.2.1: a non-negative number of seconds; 0 asks for a new sign-in.
    let max_age = match params.max_age.as_deref() {
        None | Some("") => None,
        Some(text) => match text.parse::<i64>() {
            Ok(n) if n >= 0 && text.bytes().all(|b| b.is_ascii_digit()) => Some(n),
            _ => {
                return Err(fail(
                    ErrorCode::InvalidRequest,
                    "max_age must be a non-negative number of seconds",
                ))
            }
        },
    };
    if let Some(idp) = params.identity_provider.as_deref() {
        if !client.supports(idp) {
            return Err(fail(
                ErrorCode::InvalidRequest,
                "identity_provider is not enabled for this app client",
            ));
        }
    }
    Ok((
        AuthorizeRequest {
            pool_id: client.pool_id.clone(),
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.to_string(),
            response_type,
            scopes,
            state: params.state.clone(),
            nonce: params.nonce.clone(),
            code_challenge,
            prompt,
            login_hint: params.login_hint.clone().filter(|h| h.len() <= 256),
            identity_provider: params.identity_provider.clone(),
            idp_identifier: params.idp_identifier.clone(),
            lang: params.lang.clone().filter(|l| {
                l.len() <= 16 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            }),
            max_age,
        },
        client,
    ))
}

/// What an authorization code stands for (stored under the code's hash).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthCode {
    pub pool_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub sub: String,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: UnixTime,
    /// The token family this code starts (`origin_jti` of every token issued from it).
    pub origin_jti: String,
}

impl fmt::Debug for AuthCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthCode")
            .field("pool_id", &self.pool_id)
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .field("sub", &self.sub)
            .field("scopes", &self.scopes)
            .field("nonce", &redacted(&self.nonce))
            .field("code_challenge", &self.code_challenge)
            .field("auth_time", &self.auth_time)
            .field("origin_jti", &self.origin_jti)
            .finish()
    }
}

/// Issues a single-use code for a signed-in user.
pub async fn issue_code(
    store: &dyn Store,
    request: &AuthorizeRequest,
    sub: &str,
    auth_time: UnixTime,
    lifetime_secs: i64,
    now: UnixTime,
) -> Result<String, OAuthError> {
    let code = random_token::<32>();
    let record = AuthCode {
        pool_id: request.pool_id.clone(),
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        sub: sub.to_string(),
        scopes: request.scopes.clone(),
        nonce: request.nonce.clone(),
        code_challenge: request.code_challenge.clone(),
        auth_time,
        origin_jti: uuid::Uuid::new_v4().to_string(),
    };
    let value = serde_json::to_string(&record).map_err(OAuthError::server_error)?;
    store
        .put_ephemeral(
            CODE_KIND,
            &token_hash(&code),
            &value,
            now + lifetime_secs,
            now,
        )
        .await?;
    Ok(code)
}

/// The redirect to the client: `code` and `state` in the query (or the tokens in the
/// fragment for the implicit flow), plus `iss` (RFC 9207) so a client talking to several
/// providers can tell which one answered.
pub fn success_redirect(
    request: &AuthorizeRequest,
    issuer: &str,
    params: &[(&str, &str)],
) -> Result<String, OAuthError> {
    let mut url = Url::parse(&request.redirect_uri)
        .map_err(|_| OAuthError::invalid_request("redirect_uri is not a URL"))?;
    let mut pairs: Vec<(&str, &str)> = params.to_vec();
    if let Some(state) = request.state.as_deref() {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    append(
        &mut url,
        &pairs,
        request.response_type == ResponseType::Token,
    );
    Ok(url.into())
}

/// The redirect carrying an error (RFC 6749 section 4.1.2.1), with `iss` as on success:
/// RFC 9207 section 2 requires it in error responses too, and a client that knows the
/// server supports it must reject a response without it.
pub fn error_redirect(
    redirect_uri: &str,
    issuer: &str,
    state: Option<&str>,
    error: &OAuthError,
    fragment: bool,
) -> Option<String> {
    let mut url = Url::parse(redirect_uri).ok()?;
    let mut pairs = vec![
        ("error", error.code.as_str()),
        ("error_description", error.description.as_str()),
    ];
    if let Some(state) = state {
        pairs.push(("state", state));
    }
    pairs.push(("iss", issuer));
    append(&mut url, &pairs, fragment);
    Some(url.into())
}

impl AuthorizeRequest {
    /// [`error_redirect`] answering this validated request: its redirect URI and state, in
    /// the fragment for the implicit flow.
    pub fn error_redirect(&self, issuer: &str, error: &OAuthError) -> Option<String> {
        error_redirect(
            &self.redirect_uri,
            issuer,
            self.state.as_deref(),
            error,
            self.response_type == ResponseType::Token,
        )
    }
}

fn append(url: &mut Url, pairs: &[(&str, &str)], fragment: bool) {
    if fragment {
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        url.set_fragment(Some(&encoded));
    } else {
        url.query_pairs_mut().extend_pairs(pairs);
    }
}

/// A code-flow request with `state` and `nonce` set, for other modules' unit tests.
#[cfg(test)]
pub(crate) fn sample_request(state: &str, nonce: &str) -> AuthorizeRequest {
    AuthorizeRequest {
        pool_id: "us-east-1_Sample".into(),
        client_id: "client".into(),
        redirect_uri: "https://app.example.com/cb".into(),
        response_type: ResponseType::Code,
        scopes: vec!["openid".into()],
        state: Some(state.into()),
        nonce: Some(nonce.into()),
        code_challenge: Some("challenge".into()),
        prompt: Prompt::Default,
        login_hint: None,
        identity_provider: None,
        idp_identifier: None,
        lang: None,
        max_age: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_nonce() {
        let params = AuthorizeParams {
            client_id: Some("client".into()),
            nonce: Some("nonce-of-the-params".into()),
            ..Default::default()
        };
        let request = sample_request("client-state", "nonce-of-the-request");
        let code = AuthCode {
            pool_id: "us-east-1_Debug".into(),
            client_id: "client".into(),
            redirect_uri: "https://app.example.com/cb".into(),
            sub: "sub-1".into(),
            scopes: vec!["openid".into()],
            nonce: Some("nonce-of-the-code".into()),
            code_challenge: None,
            auth_time: 1,
            origin_jti: "jti-1".into(),
        };
        let text = format!("{params:?} {request:?} {code:?}");
        for nonce in [
            "nonce-of-the-params",
            "nonce-of-the-request",
            "nonce-of-the-code",
        ] {
            assert!(!text.contains(nonce), "{nonce} in {text}");
        }
        assert!(
            text.contains("client-state") && text.contains("sub-1"),
            "{text}"
        );
    }
}
