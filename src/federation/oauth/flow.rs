//! The OAuth leg of a federated sign-in, for OpenID Connect providers (Google, Sign in
//! with Apple and any enterprise OIDC IdP) and plain OAuth 2.0 + profile API providers
//! (Facebook, Login with Amazon, [`oauth2_profile`]): `start` sends the browser to the
//! IdP, `callback` turns its answer into a directory user. Apple's `form_post` answer is
//! first kept by `accept_post` (see there).
//!
//! The stored [`UpstreamFlow`] is the generic one of [`crate::federation::flow`], its flow
//! id the random `state` sent to the IdP, its leg an [`OAuthLeg`]: the OIDC `nonce` and
//! the PKCE verifier (RFC 7636).
//!
//! The ID token is validated strictly ([`id_token`]), and its `nonce` here. A plain OAuth
//! 2.0 provider has no ID token (and no nonce): the user is whoever its profile API says
//! the access token belongs to. Nothing is written to the directory before all of it holds.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::leg::OAuthLeg;
use super::{apple, id_token, oauth2_profile, protocol, CodeGrant};
use crate::core::model::{
    AppleSigningKey, IdentityProvider, OidcClientSecret, OidcEndpoints, ProtocolSettings, Quirk,
    ResponseMode, UserPool,
};
use crate::core::oauth::authorize::AuthorizeRequest;
use crate::core::oauth::token_hash;
use crate::core::secrets::redacted;
use crate::core::secrets::{constant_time_eq, idp_secret_context, random_token, SecretString};
use crate::core::storage::StoreError;
use crate::core::UnixTime;
use crate::federation::error::{CallbackFailure, FederationError};
use crate::federation::flow::{
    usable_provider, Continuation, Federation, SignedIn, Started, UpstreamFlow, UpstreamLeg,
    IDP_FLOW_TTL_SECS,
};
use crate::federation::mapping::map_claims;

/// The store kind of the fields a `form_post` IdP (Apple) POSTed to the callback, kept
/// (keyed by `state`) until the browser's same-site GET continuation takes them.
pub const IDP_POST_KIND: &str = "idp_post";
/// The POST and its 303 continuation are one browser round trip: a short life suffices.
pub const IDP_POST_TTL_SECS: i64 = 120;
/// The bare callback path (Cognito's, shared by every provider); each provider's own
/// callback is this path followed by `/<pool id>/<provider name>`.
pub const CALLBACK_PATH: [&str; 2] = ["oauth2", "idpresponse"];

/// The discovery field by which an IdP promises `iss` in every authorization response
/// (RFC 9207 section 3).
const ISS_SUPPORTED: &str = "authorization_response_iss_parameter_supported";

/// The callback path an IdP's answer arrived at. A per-provider path is what defeats
/// mix-up (RFC 9700 section 4.4.2, "distinct redirect URIs"): an answer is accepted only at
/// the path of the pool and provider its flow was started for, so a code an honest IdP
/// sends to its own callback cannot be exchanged at another IdP's token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackRoute {
    /// `/oauth2/idpresponse`: accepted only where mix-up cannot happen
    /// ([`Federation::bare_callback_safe`]).
    Bare,
    /// `/oauth2/idpresponse/<pool id>/<provider name>`.
    Provider { pool_id: String, provider: String },
}

/// What the IdP sent back to `/oauth2/idpresponse` (RFC 6749 section 4.1.2, RFC 9207).
#[derive(Clone, Default, Deserialize)]
pub struct CallbackParams {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
    /// Set on the GET continuation of a `form_post` answer: the fields are in the store.
    pub posted: Option<String>,
}

/// What a `form_post` IdP POSTed to `/oauth2/idpresponse` (OAuth 2.0 Form Post Response
/// Mode; Apple adds `user`, its unsigned first-authorization JSON, and `id_token`, which
/// Cognate ignores here: the ID token of the code exchange is the one validated).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostedFields {
    pub state: Option<String>,
    pub code: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
    pub iss: Option<String>,
    pub user: Option<String>,
}

// Hand-written `Debug`: the upstream code would let a log reader finish the upstream
// sign-in (RFC 6749 section 10.5).

impl fmt::Debug for CallbackParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallbackParams")
            .field("state", &self.state)
            .field("code", &redacted(&self.code))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("iss", &self.iss)
            .field("posted", &self.posted)
            .finish()
    }
}

impl fmt::Debug for PostedFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostedFields")
            .field("state", &self.state)
            .field("code", &redacted(&self.code))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("iss", &self.iss)
            // Apple's user JSON: not a secret, but a name and an email address.
            .field("user", &self.user.as_ref().map(|_| "<present>"))
            .finish()
    }
}

impl Federation {
    /// `<public URL>/oauth2/idpresponse`: the bare callback, Cognito's, shared by every
    /// provider; sent upstream only while [`Federation::bare_callback_safe`].
    pub fn callback_url(&self) -> Result<url::Url, FederationError> {
        let mut url =
            url::Url::parse(&self.public_url).map_err(|_| FederationError::MissingEndpoint {
                provider: String::new(),
                what: "public URL",
            })?;
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(CALLBACK_PATH);
        }
        Ok(url)
    }

    /// `<public URL>/oauth2/idpresponse/<pool id>/<provider name>`: this provider's own
    /// callback (each segment percent-encoded).
    pub fn provider_callback_url(
        &self,
        pool_id: &str,
        provider: &str,
    ) -> Result<url::Url, FederationError> {
        let mut url = self.callback_url()?;
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend([pool_id, provider]);
        }
        Ok(url)
    }

    /// The URL of a callback route (where a `form_post` answer's GET continuation goes).
    pub fn route_url(&self, route: &CallbackRoute) -> Result<url::Url, FederationError> {
        match route {
            CallbackRoute::Bare => self.callback_url(),
            CallbackRoute::Provider { pool_id, provider } => {
                self.provider_callback_url(pool_id, provider)
            }
        }
    }

    /// Whether the bare `/oauth2/idpresponse` is safe on this instance, so flows send it
    /// and answers are accepted there: a single OAuth identity provider on the whole
    /// instance (no other IdP to mix up with), or every one of them advertises RFC
    /// 9207 (then every honest answer names its issuer, and a code relayed into another
    /// provider's flow is exposed by it, RFC 9207 section 2.4). Otherwise one shared URL
    /// lets a malicious IdP have an honest IdP's code sent to its own token endpoint (RFC
    /// 9700 section 4.4.1).
    pub async fn bare_callback_safe(&self) -> Result<bool, FederationError> {
        let pools = self.store.list_pools().await?;
        // SAML providers never answer at this callback (their answer goes to the ACS, and
        // an OAuth answer carrying a SAML flow's id is refused as unknown), so they cannot
        // take part in a mix-up here.
        let providers: Vec<&IdentityProvider> = pools
            .iter()
            .flat_map(|p| p.identity_providers.iter())
            .filter(|p| p.protocol.as_saml().is_none())
            .collect();
        if providers.len() <= 1 {
            return Ok(true);
        }
        for provider in providers {
            if !self.advertises_iss(provider).await {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Whether the provider's discovery document (cached) advertises `iss` in
    /// authorization responses (RFC 9207 section 3). A plain OAuth 2.0 provider has no
    /// discovery; an unreachable one does not count as advertising.
    pub async fn advertises_iss(&self, provider: &IdentityProvider) -> bool {
        let ProtocolSettings::Oidc(oidc) = &provider.protocol else {
            return false;
        };
        let Some(issuer) = oidc.issuer.as_deref() else {
            return false;
        };
        match self.http.discovery(issuer).await {
            Ok(doc) => doc.get(ISS_SUPPORTED).and_then(Value::as_bool) == Some(true),
            Err(e) => {
                tracing::warn!(provider = %provider.name, error = %e,
                    "discovery unavailable: the provider counts as not sending iss");
                false
            }
        }
    }

    /// Refuses an answer at a callback that is not its flow's (checked before the flow
    /// is consumed, so a forged request cannot spend it): a per-provider path must name
    /// the flow's own pool and provider; the bare path is accepted only for a flow that
    /// was sent the bare URL, and only while it is safe.
    async fn check_route(
        &self,
        flow: &UpstreamFlow,
        leg: &OAuthLeg,
        route: &CallbackRoute,
    ) -> Result<(), FederationError> {
        match route {
            CallbackRoute::Provider { pool_id, provider } => {
                if *pool_id == flow.pool_id && *provider == flow.provider {
                    Ok(())
                } else {
                    Err(FederationError::WrongCallback)
                }
            }
            CallbackRoute::Bare => {
                let bare = self.callback_url()?;
                let sent_bare = leg
                    .redirect_uri
                    .as_deref()
                    .is_none_or(|sent| sent == bare.as_str());
                if sent_bare && self.bare_callback_safe().await? {
                    Ok(())
                } else {
                    let own = self.provider_callback_url(&flow.pool_id, &flow.provider)?;
                    Err(FederationError::BareCallbackRefused(own.to_string()))
                }
            }
        }
    }

    /// Stores an upstream flow and returns the IdP's authorization URL (OIDC Core
    /// 3.1.2.1), with `state`, `nonce`, PKCE S256 and Google's `hd` hint.
    pub(crate) async fn start_oauth(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        request: AuthorizeRequest,
        browser_cookie: &str,
        login_flow: Option<String>,
        now: UnixTime,
    ) -> Result<Started, FederationError> {
        let authorize = self.endpoint(provider, Endpoint::Authorize).await?;
        let state = random_token::<32>();
        let nonce = random_token::<32>();
        let pkce_verifier = CodeGrant::for_provider(provider)?
            .pkce
            .then(random_token::<48>);
        // The bare URL where it is safe, so an IdP that has only Cognito's
        // `/oauth2/idpresponse` registered keeps working; the provider's own otherwise.
        let callback = if self.bare_callback_safe().await? {
            self.callback_url()?
        } else {
            self.provider_callback_url(&pool.id, &provider.name)?
        };
        let url = protocol::authorization_url(
            provider,
            protocol::AuthorizationParams {
                authorize_url: &authorize,
                callback: &callback,
                state: &state,
                nonce: &nonce,
                pkce_verifier: pkce_verifier.as_deref(),
                login_hint: request.login_hint.as_deref(),
            },
        )?;
        let flow = UpstreamFlow {
            request,
            provider: provider.name.clone(),
            pool_id: pool.id.clone(),
            leg: UpstreamLeg::OAuth(OAuthLeg {
                nonce,
                pkce_verifier,
                redirect_uri: Some(callback.to_string()),
            }),
            browser: token_hash(browser_cookie),
            login_flow,
            expires_at: now + IDP_FLOW_TTL_SECS,
        };
        // The flow id is the `state`: the IdP sends it back with its answer.
        self.put_flow(&state, &flow, now).await?;
        Ok(Started {
            url: url.into(),
            state,
            form: None,
        })
    }

    /// Keeps what a `form_post` IdP (Apple) POSTed to the callback until the browser's
    /// GET continuation (OAuth 2.0 Form Post Response Mode). The POST is cross-site, so
    /// the SameSite=Lax browser-binding cookie is not sent with it: the flow cannot be
    /// checked or consumed here. The fields are stored once per live flow (a second POST
    /// for the same `state` is refused) and taken once by [`Federation::callback`];
    /// returns the `state` to continue with.
    pub async fn accept_post(
        &self,
        fields: &PostedFields,
        route: &CallbackRoute,
        now: UnixTime,
    ) -> Result<Continuation, FederationError> {
        let state = fields
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or(FederationError::MissingState)?;
        let flow = self.read_flow(state, now).await?;
        let UpstreamLeg::OAuth(leg) = &flow.leg else {
            return Err(FederationError::UnknownState);
        };
        self.check_route(&flow, leg, route).await?;
        // Only a provider that answers by `form_post` may answer by POST.
        let pool = self.directory.pool(&flow.pool_id).await?;
        let provider = usable_provider(&pool, &flow.provider)?;
        if CodeGrant::for_provider(provider)?.response_mode != ResponseMode::FormPost {
            return Err(FederationError::UnknownState);
        }
        let value =
            serde_json::to_string(fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let expires_at = (now + IDP_POST_TTL_SECS).min(flow.expires_at);
        let token = self
            .keep_posted(IDP_POST_KIND, state, &value, expires_at, now)
            .await?;
        Ok(Continuation {
            flow_id: state.to_string(),
            token,
        })
    }

    /// Completes an upstream flow (OIDC Core 3.1.2.5 to 3.1.3.7): consumes it by `state`
    /// exactly once (only in the browser that started it, and only at its own callback
    /// `route`), checks the answer comes from the IdP it was started for, exchanges
    /// the code, validates the ID token and signs the user into the directory. The calls
    /// to the IdP together take at most the configured HTTP timeout.
    /// For a `form_post` answer (`posted` set), the fields [`Federation::accept_post`]
    /// stored are taken first, also exactly once.
    pub async fn callback(
        &self,
        params: &CallbackParams,
        route: &CallbackRoute,
        browser_cookie: Option<&str>,
        context: &crate::core::threat::EventContext,
        now: UnixTime,
    ) -> Result<SignedIn, CallbackFailure> {
        let state = params
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or(FederationError::MissingState)?;
        // The flow is read first and taken (once) only by the browser that started it:
        // whoever sees a callback URL in another browser can neither finish the attempt
        // nor cancel it for its owner.
        let flow = self.read_flow(state, now).await?;
        let UpstreamLeg::OAuth(leg) = &flow.leg else {
            return Err(FederationError::UnknownState.into());
        };
        let same_browser = browser_cookie
            .is_some_and(|b| constant_time_eq(token_hash(b).as_bytes(), flow.browser.as_bytes()));
        if !same_browser {
            return Err(FederationError::WrongBrowser.into());
        }
        // Mix-up (RFC 9700 section 4.4): only the flow's own callback, before the flow is
        // taken, so a relayed answer neither reaches a token endpoint nor spends it.
        self.check_route(&flow, leg, route).await?;
        // The continuation of a `form_post` answer takes the stored fields (once, with the
        // token only the posting browser was given); any other callback carries them in
        // its query.
        let posted = match params.posted.as_deref() {
            Some(token) => {
                let text = self
                    .take_posted(IDP_POST_KIND, state, token, same_browser, now)
                    .await?;
                Some(
                    serde_json::from_str::<PostedFields>(&text)
                        .map_err(|_| FederationError::UnknownState)?,
                )
            }
            None => None,
        };
        let params = match &posted {
            Some(p) => CallbackParams {
                state: p.state.clone(),
                code: p.code.clone(),
                error: p.error.clone(),
                error_description: p.error_description.clone(),
                iss: p.iss.clone(),
                posted: params.posted.clone(),
            },
            None => params.clone(),
        };
        let params = &params;
        let user_json = posted.as_ref().and_then(|p| p.user.clone());
        // Single use: of concurrent callbacks for this state, one takes the flow.
        self.take_flow(state, now).await?;
        let fail = |error: FederationError| flow.failure(error);
        let pool = self
            .directory
            .pool(&flow.pool_id)
            .await
            .map_err(|e| fail(e.into()))?;
        let provider = usable_provider(&pool, &flow.provider).map_err(fail)?;
        // A `form_post` provider answers only by POST: a code in a plain GET query did not
        // come from it.
        let grant = CodeGrant::for_provider(provider).map_err(fail)?;
        if grant.response_mode == ResponseMode::FormPost && posted.is_none() {
            return Err(fail(FederationError::MissingCode));
        }
        // RFC 9207 section 2.4: when the IdP names itself, it must be the one this flow
        // was started for (a response from another IdP is a mix-up attack).
        if let Some(iss) = params.iss.as_deref() {
            if !accepts_issuer(provider, iss) {
                return Err(fail(FederationError::IssuerMismatch(iss.to_string())));
            }
        } else if self.advertises_iss(provider).await {
            // RFC 9207 section 2.4: a client that knows the IdP sends `iss` must refuse an
            // answer without it (it may come from another IdP, relayed).
            return Err(fail(FederationError::MissingIssuer));
        }
        if let Some(error) = &params.error {
            return Err(fail(FederationError::Upstream {
                error: error.chars().take(64).collect(),
                description: params.error_description.clone(),
            }));
        }
        let code = params
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| fail(FederationError::MissingCode))?;
        let timeout = self.http.settings().timeout;
        let claims = match tokio::time::timeout(
            timeout,
            self.identify(provider, &flow, leg, code, user_json.as_deref(), now),
        )
        .await
        {
            Ok(Ok(claims)) => claims,
            Ok(Err(e)) => return Err(fail(e)),
            Err(_) => return Err(fail(FederationError::Timeout(timeout.as_secs()))),
        };
        let mapped = map_claims(provider, &claims).map_err(|e| fail(e.into()))?;
        let user = self
            .sign_in(
                &pool,
                provider,
                mapped,
                &flow.request.client_id,
                context,
                now,
            )
            .await
            .map_err(fail)?;
        Ok(SignedIn {
            provider: flow.provider.clone(),
            request: flow.request,
            user,
            login_flow: flow.login_flow,
            unsolicited: false,
            saml: None,
        })
    }

    /// The code exchange and the user's claims: for OIDC the validated ID token (plus
    /// userinfo when the provider asks for it), for plain OAuth 2.0 the profile API's
    /// answer.
    async fn identify(
        &self,
        provider: &IdentityProvider,
        flow: &UpstreamFlow,
        leg: &OAuthLeg,
        code: &str,
        user_json: Option<&str>,
        now: UnixTime,
    ) -> Result<Value, FederationError> {
        let secret = self.client_secret(&flow.pool_id, provider, now)?;
        let token_url = self.endpoint(provider, Endpoint::Token).await?;
        // The redirect_uri of the authorization request (RFC 6749 section 4.1.3).
        let redirect_uri = match leg.redirect_uri.as_deref() {
            Some(sent) => url::Url::parse(sent).map_err(|_| FederationError::UnknownState)?,
            None => self.callback_url()?,
        };
        let answer = protocol::exchange_code(
            &self.http,
            provider,
            &token_url,
            &redirect_uri,
            code,
            leg.pkce_verifier.as_deref(),
            secret.as_ref(),
        )
        .await?;
        let access = answer.access_token;
        let oidc = match &provider.protocol {
            ProtocolSettings::Oidc(oidc) => oidc,
            ProtocolSettings::Saml(_) => {
                return Err(FederationError::UnsupportedProtocol(provider.name.clone()))
            }
            ProtocolSettings::OAuth2(settings) => {
                if access.expose().is_empty() {
                    return Err(FederationError::NoAccessToken);
                }
                return oauth2_profile::profile(
                    &self.http,
                    provider,
                    settings,
                    access.expose(),
                    secret.as_ref(),
                )
                .await;
            }
        };
        let id_token = answer.id_token.ok_or(FederationError::NoIdToken)?;
        let jwks_url = self.endpoint(provider, Endpoint::Jwks).await?;
        let mut claims = id_token::verify(
            &self.http,
            provider,
            oidc,
            &jwks_url,
            id_token.expose(),
            &leg.nonce,
            now,
        )
        .await?;
        if let Some(user) = user_json.filter(|_| provider.has_quirk(Quirk::AppleUserJson)) {
            // Only the name; the email stays the signed ID token's.
            apple::merge_user_json(&mut claims, user);
        }
        if oidc.fetch_userinfo {
            // A provider without userinfo signs in on the ID token alone; one whose
            // discovery names an unsafe userinfo endpoint is refused (the access token
            // would go there).
            match self.endpoint(provider, Endpoint::Userinfo).await {
                Ok(url) => {
                    let info = self.http.get_json(&url, Some(&access)).await?;
                    merge_userinfo(&mut claims, &info)?;
                }
                Err(e @ FederationError::UnsafeEndpoint { .. }) => return Err(e),
                Err(_) => {}
            }
        }
        Ok(claims)
    }

    /// The client secret sent to the token endpoint (RFC 6749 section 2.3.1): Apple's
    /// minted from its key, else the provider's sealed static secret, opened.
    fn client_secret(
        &self,
        pool_id: &str,
        provider: &IdentityProvider,
        now: UnixTime,
    ) -> Result<Option<SecretString>, FederationError> {
        let sealed = match &provider.protocol {
            ProtocolSettings::Oidc(oidc) => match &oidc.client_secret {
                Some(OidcClientSecret::AppleKey(key)) => {
                    return self.apple_secret(pool_id, provider, key, now).map(Some)
                }
                Some(OidcClientSecret::Sealed(sealed)) => Some(sealed),
                None => None,
            },
            ProtocolSettings::OAuth2(oauth2) => oauth2.client_secret.as_ref(),
            ProtocolSettings::Saml(_) => None,
        };
        sealed
            .map(|sealed| {
                self.master
                    .open_string(&idp_secret_context(pool_id, &provider.name), sealed)
                    .map_err(|_| FederationError::Secret)
            })
            .transpose()
    }

    /// Apple's client secret for this provider: an ES256 JWT minted from the sealed `.p8`
    /// key, cached on this service and refreshed before it expires.
    fn apple_secret(
        &self,
        pool_id: &str,
        provider: &IdentityProvider,
        key: &AppleSigningKey,
        now: UnixTime,
    ) -> Result<SecretString, FederationError> {
        let minter = self.apple_secrets.minter(pool_id, provider, key, || {
            self.master
                .open_string(
                    &idp_secret_context(pool_id, &provider.name),
                    &key.private_key,
                )
                .map_err(|_| FederationError::Secret)
        })?;
        Ok(minter.get(now)?)
    }

    /// An endpoint of the provider: declared, else from the issuer's discovery document.
    async fn endpoint(
        &self,
        provider: &IdentityProvider,
        which: Endpoint,
    ) -> Result<String, FederationError> {
        let (declared, issuer) = match &provider.protocol {
            ProtocolSettings::Oidc(oidc) => {
                (declared(&oidc.endpoints, which), oidc.issuer.as_deref())
            }
            // No discovery for plain OAuth 2.0: its endpoints are declared (the checker
            // requires them).
            ProtocolSettings::OAuth2(settings) => {
                let e = &settings.endpoints;
                let declared = match which {
                    Endpoint::Authorize => e.authorize.as_ref(),
                    Endpoint::Token => e.token.as_ref(),
                    Endpoint::Jwks | Endpoint::Userinfo => None,
                };
                (declared, None)
            }
            ProtocolSettings::Saml(_) => {
                return Err(FederationError::UnsupportedProtocol(provider.name.clone()))
            }
        };
        if let Some(url) = declared {
            return Ok(url.clone());
        }
        let missing = || FederationError::MissingEndpoint {
            provider: provider.name.clone(),
            what: which.discovery_field(),
        };
        let issuer = issuer.ok_or_else(missing)?;
        let doc = self.http.discovery(issuer).await?;
        let url = doc
            .get(which.discovery_field())
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(missing)?;
        // The discovery document is the IdP's word: its endpoints get the client secret,
        // the codes and the keys that verify ID tokens, so they must be the issuer's own.
        crate::federation::http::guard::check_discovered(issuer, &url).map_err(|detail| {
            FederationError::UnsafeEndpoint {
                provider: provider.name.clone(),
                what: which.discovery_field(),
                detail,
            }
        })?;
        Ok(url)
    }
}

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Authorize,
    Token,
    Jwks,
    Userinfo,
}

/// An OpenID Connect provider's declared endpoint, if it declares this one.
fn declared(endpoints: &OidcEndpoints, which: Endpoint) -> Option<&String> {
    match which {
        Endpoint::Authorize => endpoints.authorize.as_ref(),
        Endpoint::Token => endpoints.token.as_ref(),
        Endpoint::Jwks => endpoints.jwks.as_ref(),
        Endpoint::Userinfo => endpoints.userinfo.as_ref(),
    }
}

impl Endpoint {
    /// The field of the discovery document (OpenID Connect Discovery 1.0 section 3).
    fn discovery_field(self) -> &'static str {
        match self {
            Endpoint::Authorize => "authorization_endpoint",
            Endpoint::Token => "token_endpoint",
            Endpoint::Jwks => "jwks_uri",
            Endpoint::Userinfo => "userinfo_endpoint",
        }
    }
}

/// RFC 9207 section 2.4: whether the authorization response's `iss` names this provider.
/// Only OpenID Connect providers have an issuer here; a plain OAuth 2.0 provider that
/// names one is not the provider the flow was started for.
fn accepts_issuer(provider: &IdentityProvider, iss: &str) -> bool {
    match &provider.protocol {
        ProtocolSettings::Oidc(oidc) => oidc.accepts_issuer(iss),
        ProtocolSettings::OAuth2(_) | ProtocolSettings::Saml(_) => false,
    }
}

/// OIDC Core 5.3.2: userinfo's `sub` must be the ID token's; its other claims fill in what
/// the (signed) ID token left out.
fn merge_userinfo(claims: &mut Value, info: &Value) -> Result<(), FederationError> {
    let sub = |v: &Value| v.get("sub").and_then(Value::as_str).map(str::to_string);
    if sub(info).is_none() || sub(info) != sub(claims) {
        return Err(FederationError::UserinfoSubjectMismatch);
    }
    if let (Some(target), Some(extra)) = (claims.as_object_mut(), info.as_object()) {
        for (k, v) in extra {
            target.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
