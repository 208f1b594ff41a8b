//! The upstream leg of a federated sign-in, for OpenID Connect providers (Google, Sign in
//! with Apple and any enterprise OIDC IdP) and plain OAuth 2.0 + profile API providers
//! (Facebook, Login with Amazon, [`oauth2_profile`]): `start` sends
//! the browser to the IdP, `callback` turns its answer into a directory user. Apple's
//! `form_post` answer is first kept by `accept_post` (see there).
//!
//! An upstream flow is a stored, expiring, single-use record keyed by the random `state`
//! sent to the IdP (Ory Kratos' pattern; kind [`IDP_FLOW_KIND`] in the store's ephemeral
//! values, so the callback may land on any node). It holds the client's original
//! authorization request, the IdP it was started for (mix-up defence, RFC 9700 section
//! 4.4), the OIDC `nonce`, the PKCE verifier (RFC 7636) and the hash of the browser-binding
//! cookie (so a code injected into another browser is refused, RFC 9700 section 4.5).
//!
//! The ID token is validated strictly ([`id_token`]), and its `nonce` here. A plain OAuth
//! 2.0 provider has no ID token (and no nonce): the user is whoever its profile API says
//! the access token belongs to. Nothing is written to the directory before all of it holds.
//! Its errors, [`FederationError`] and [`CallbackFailure`], live in [`error`](super::error)
//! and are re-exported here.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::apple;
pub use super::error::{CallbackFailure, FederationError};
use super::http::IdpHttp;
use super::id_token;
use super::linking;
use super::mapping::{map_claims, Mapped};
use super::oauth2_profile;
use super::protocol;
use crate::core::attributes::validate_attribute;
use crate::core::directory::{lookup_for, Directory, GroupSpec};
use crate::core::model::{
    IdentityProvider, Origin, Protocol, Quirk, ResponseMode, User, UserLookup, UserPool, UserStatus,
};
use crate::core::oauth::authorize::AuthorizeRequest;
use crate::core::oauth::token_hash;
use crate::core::secrets::{
    constant_time_eq, idp_secret_context, random_token, MasterKey, SecretString,
};
use crate::core::secrets::{redacted, REDACTED};
use crate::core::storage::{Conflict, Store, StoreError, UserRef};
use crate::core::UnixTime;

/// The store kind of upstream flows (keyed by `state`).
pub const IDP_FLOW_KIND: &str = "idp_flow";
/// How long the user may take at the IdP.
pub const IDP_FLOW_TTL_SECS: i64 = 600;
/// The store kind of the fields a `form_post` IdP (Apple) POSTed to the callback, kept
/// (keyed by `state`) until the browser's same-site GET continuation takes them.
pub const IDP_POST_KIND: &str = "idp_post";
/// The POST and its 303 continuation are one browser round trip: a short life suffices.
pub const IDP_POST_TTL_SECS: i64 = 120;
/// The callback path registered at every IdP.
pub const CALLBACK_PATH: [&str; 2] = ["oauth2", "idpresponse"];

/// One attempt to sign in through an upstream IdP, stored until its callback.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamFlow {
    /// The client's authorization request, answered once the IdP vouches for the user.
    pub request: AuthorizeRequest,
    /// The IdP this flow was started for; only its answer is accepted.
    pub provider: String,
    pub pool_id: String,
    pub nonce: String,
    /// The PKCE verifier (when the provider uses PKCE).
    #[serde(default)]
    pub pkce_verifier: Option<String>,
    /// Hash of the browser-binding cookie of the browser that started the flow.
    pub browser: String,
    /// The hosted login flow the user came from (the sign-in page's button), consumed
    /// when the federated sign-in succeeds.
    #[serde(default)]
    pub login_flow: Option<String>,
    pub expires_at: UnixTime,
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

// Hand-written `Debug`: the upstream code, nonce and PKCE verifier would let a log
// reader finish (or replay into) the upstream sign-in (RFC 6749 section 10.5, RFC 7636
// section 7.1, OIDC Core 15.5.2).

impl fmt::Debug for UpstreamFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamFlow")
            .field("request", &self.request)
            .field("provider", &self.provider)
            .field("pool_id", &self.pool_id)
            .field("nonce", &REDACTED)
            .field("pkce_verifier", &redacted(&self.pkce_verifier))
            .field("browser", &self.browser)
            .field("login_flow", &self.login_flow)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

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

/// A federated sign-in that succeeded.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub request: AuthorizeRequest,
    pub user: User,
    /// The pool's name of the IdP the user signed in with.
    pub provider: String,
    pub login_flow: Option<String>,
}

/// The federation service: starts upstream flows and completes them into the directory.
#[derive(Clone)]
pub struct Federation {
    store: Arc<dyn Store>,
    directory: Directory,
    master: Arc<MasterKey>,
    http: IdpHttp,
    public_url: String,
    /// Apple client secrets, minted once per signing key and refreshed before they expire.
    apple_secrets: Arc<apple::SecretCache>,
}

/// Where the browser goes next, and the flow that was stored.
#[derive(Clone)]
pub struct Started {
    pub url: String,
    pub state: String,
}

impl fmt::Debug for Started {
    /// The URL without its query, which carries the upstream nonce.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = self
            .url
            .split_once('?')
            .map_or(self.url.as_str(), |(e, _)| e);
        f.debug_struct("Started")
            .field("url", &endpoint)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Federation {
    pub fn new(
        directory: Directory,
        master: Arc<MasterKey>,
        http: IdpHttp,
        public_url: String,
    ) -> Self {
        Federation {
            store: directory.store().clone(),
            directory,
            master,
            http,
            public_url,
            apple_secrets: Arc::default(),
        }
    }

    pub fn http(&self) -> &IdpHttp {
        &self.http
    }

    /// `<public URL>/oauth2/idpresponse`: the redirect URI registered at every IdP.
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

    /// Stores an upstream flow and returns the IdP's authorization URL (OIDC Core
    /// 3.1.2.1), with `state`, `nonce`, PKCE S256 and Google's `hd` hint.
    pub async fn start(
        &self,
        pool: &UserPool,
        provider_name: &str,
        request: AuthorizeRequest,
        browser_cookie: &str,
        login_flow: Option<String>,
        now: UnixTime,
    ) -> Result<Started, FederationError> {
        let provider = usable_provider(pool, provider_name)?;
        let authorize = self.endpoint(provider, Endpoint::Authorize).await?;
        let state = random_token::<32>();
        let nonce = random_token::<32>();
        let pkce_verifier = provider.pkce.then(random_token::<48>);
        let callback = self.callback_url()?;
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
            nonce,
            pkce_verifier,
            browser: token_hash(browser_cookie),
            login_flow,
            expires_at: now + IDP_FLOW_TTL_SECS,
        };
        let value = serde_json::to_string(&flow).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store
            .put_ephemeral(IDP_FLOW_KIND, &state, &value, flow.expires_at, now)
            .await?;
        Ok(Started {
            url: url.into(),
            state,
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
        now: UnixTime,
    ) -> Result<String, FederationError> {
        let state = fields
            .state
            .as_deref()
            .filter(|s| !s.is_empty() && s.len() <= 128)
            .ok_or(FederationError::MissingState)?;
        let flow: UpstreamFlow = match self.store.get_ephemeral(IDP_FLOW_KIND, state, now).await? {
            Some(text) => serde_json::from_str(&text).map_err(|_| FederationError::UnknownState)?,
            None => return Err(FederationError::UnknownState),
        };
        // Only a provider that answers by `form_post` may answer by POST.
        let pool = self.directory.pool(&flow.pool_id).await?;
        if usable_provider(&pool, &flow.provider)?.response_mode != ResponseMode::FormPost {
            return Err(FederationError::UnknownState);
        }
        let value =
            serde_json::to_string(fields).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let expires_at = (now + IDP_POST_TTL_SECS).min(flow.expires_at);
        match self
            .store
            .put_ephemeral(IDP_POST_KIND, state, &value, expires_at, now)
            .await
        {
            Ok(()) => Ok(state.to_string()),
            Err(StoreError::Conflict(_)) => Err(FederationError::AlreadyPosted),
            Err(e) => Err(e.into()),
        }
    }

    /// Completes an upstream flow (OIDC Core 3.1.2.5 to 3.1.3.7): consumes it by `state`
    /// exactly once (only in the browser that started it), checks the answer comes from the IdP it was started for, exchanges
    /// the code, validates the ID token and signs the user into the directory. The calls
    /// to the IdP together take at most the configured HTTP timeout.
    /// For a `form_post` answer (`posted` set), the fields [`Federation::accept_post`]
    /// stored are taken first, also exactly once.
    pub async fn callback(
        &self,
        params: &CallbackParams,
        browser_cookie: Option<&str>,
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
        let flow: UpstreamFlow = match self
            .store
            .get_ephemeral(IDP_FLOW_KIND, state, now)
            .await
            .map_err(FederationError::from)?
        {
            Some(text) => serde_json::from_str(&text).map_err(|_| FederationError::UnknownState)?,
            None => return Err(FederationError::UnknownState.into()),
        };
        let same_browser = browser_cookie
            .is_some_and(|b| constant_time_eq(token_hash(b).as_bytes(), flow.browser.as_bytes()));
        if !same_browser {
            return Err(FederationError::WrongBrowser.into());
        }
        // The continuation of a `form_post` answer takes the stored fields (once); any
        // other callback carries them in its query.
        let posted = if params.posted.is_some() {
            match self
                .store
                .take_ephemeral(IDP_POST_KIND, state, now)
                .await
                .map_err(FederationError::from)?
            {
                Some(text) => Some(
                    serde_json::from_str::<PostedFields>(&text)
                        .map_err(|_| FederationError::UnknownState)?,
                ),
                None => return Err(FederationError::UnknownState.into()),
            }
        } else {
            None
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
        if self
            .store
            .take_ephemeral(IDP_FLOW_KIND, state, now)
            .await
            .map_err(FederationError::from)?
            .is_none()
        {
            return Err(FederationError::UnknownState.into());
        }
        let request = Box::new(flow.request.clone());
        let fail = |error: FederationError| CallbackFailure {
            request: Some(request.clone()),
            error,
        };
        let pool = self
            .directory
            .pool(&flow.pool_id)
            .await
            .map_err(|e| fail(e.into()))?;
        let provider = usable_provider(&pool, &flow.provider).map_err(fail)?;
        // A `form_post` provider answers only by POST: a code in a plain GET query did not
        // come from it.
        if provider.response_mode == ResponseMode::FormPost && posted.is_none() {
            return Err(fail(FederationError::MissingCode));
        }
        // RFC 9207 section 2.4: when the IdP names itself, it must be the one this flow
        // was started for (a response from another IdP is a mix-up attack).
        if let Some(iss) = params.iss.as_deref() {
            if !provider.accepts_issuer(iss) {
                return Err(fail(FederationError::IssuerMismatch(iss.to_string())));
            }
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
            self.identify(provider, &flow, code, user_json.as_deref(), now),
        )
        .await
        {
            Ok(Ok(claims)) => claims,
            Ok(Err(e)) => return Err(fail(e)),
            Err(_) => return Err(fail(FederationError::Timeout(timeout.as_secs()))),
        };
        let mapped = map_claims(provider, &claims).map_err(|e| fail(e.into()))?;
        let user = self
            .sign_in(&pool, provider, mapped, now)
            .await
            .map_err(fail)?;
        Ok(SignedIn {
            provider: flow.provider.clone(),
            request: flow.request,
            user,
            login_flow: flow.login_flow,
        })
    }

    /// The code exchange and the user's claims: for OIDC the validated ID token (plus
    /// userinfo when the provider asks for it), for plain OAuth 2.0 the profile API's
    /// answer.
    async fn identify(
        &self,
        provider: &IdentityProvider,
        flow: &UpstreamFlow,
        code: &str,
        user_json: Option<&str>,
        now: UnixTime,
    ) -> Result<Value, FederationError> {
        let secret = if provider.has_quirk(Quirk::AppleClientSecret) {
            Some(self.apple_secret(&flow.pool_id, provider, now)?)
        } else {
            match &provider.client_secret {
                Some(sealed) => Some(
                    self.master
                        .open_string(&idp_secret_context(&flow.pool_id, &provider.name), sealed)
                        .map_err(|_| FederationError::Secret)?,
                ),
                None => None,
            }
        };
        let token_url = self.endpoint(provider, Endpoint::Token).await?;
        let answer = protocol::exchange_code(
            &self.http,
            provider,
            &token_url,
            &self.callback_url()?,
            code,
            flow.pkce_verifier.as_deref(),
            secret.as_ref(),
        )
        .await?;
        let access = answer.access_token;
        if provider.protocol == Protocol::Oauth2 {
            if access.expose().is_empty() {
                return Err(FederationError::NoAccessToken);
            }
            return oauth2_profile::profile(&self.http, provider, access.expose(), secret.as_ref())
                .await;
        }
        let id_token = answer.id_token.ok_or(FederationError::NoIdToken)?;
        let jwks_url = self.endpoint(provider, Endpoint::Jwks).await?;
        let mut claims = id_token::verify(
            &self.http,
            provider,
            &jwks_url,
            id_token.expose(),
            &flow.nonce,
            now,
        )
        .await?;
        if let Some(user) = user_json.filter(|_| provider.has_quirk(Quirk::AppleUserJson)) {
            // Only the name; the email stays the signed ID token's.
            apple::merge_user_json(&mut claims, user);
        }
        if provider.fetch_userinfo {
            if let Ok(url) = self.endpoint(provider, Endpoint::Userinfo).await {
                let info = self.http.get_json(&url, Some(&access)).await?;
                merge_userinfo(&mut claims, &info)?;
            }
        }
        Ok(claims)
    }

    /// Apple's client secret for this provider: an ES256 JWT minted from the sealed `.p8`
    /// key, cached on this service and refreshed before it expires.
    fn apple_secret(
        &self,
        pool_id: &str,
        provider: &IdentityProvider,
        now: UnixTime,
    ) -> Result<SecretString, FederationError> {
        let key = provider.apple.as_ref().ok_or(FederationError::Secret)?;
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

    /// Creates or updates the directory user of an upstream identity (Cognito's
    /// federated-user rules): the linked user gets the mapped attributes; an identity
    /// without a link may be linked by its verified email ([`linking::by_email`]);
    /// otherwise a new `<ProviderName>_<subject>` user, EXTERNAL_PROVIDER, in group
    /// `<poolId>_<ProviderName>`, if it has the pool's required attributes.
    async fn sign_in(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        mapped: Mapped,
        now: UnixTime,
    ) -> Result<User, FederationError> {
        let attributes: std::collections::BTreeMap<String, String> = mapped
            .attributes
            .iter()
            .filter(
                |(name, value)| match validate_attribute(pool, name, value) {
                    Ok(()) => true,
                    Err(e) => {
                        tracing::warn!(provider = %provider.name, attribute = %name, error = %e,
                        "ignoring a mapped attribute the pool refuses");
                        false
                    }
                },
            )
            .map(|(name, value)| (name.clone(), value.clone()))
            .collect();
        let link = UserRef::Federated(provider.name.clone(), mapped.subject.clone());
        for _ in 0..2 {
            if let Some(existing) = self.store.get_user(&pool.id, &link).await? {
                if !existing.enabled {
                    return Err(FederationError::UserDisabled);
                }
                let user = self
                    .directory
                    .modify_user(pool, &existing.sub, |u| {
                        linking::refresh(u, provider, &mapped.subject, &attributes, now);
                        Ok(())
                    })
                    .await?;
                return Ok(user);
            }
            let outcome =
                match linking::by_email(&self.directory, pool, provider, &mapped, &attributes, now)
                    .await
                {
                    Ok(Some(user)) => Ok(user),
                    Ok(None) => match linking::require_attributes(pool, provider, &attributes) {
                        Ok(()) => {
                            self.create(pool, provider, &mapped.subject, &attributes, now)
                                .await
                        }
                        Err(e) => Err(e),
                    },
                    Err(e) => Err(e),
                };
            match outcome {
                // A concurrent first sign-in of the same identity won: use its user.
                Err(FederationError::Store(StoreError::Conflict(
                    Conflict::Username | Conflict::FederatedIdentity,
                ))) => continue,
                other => return other,
            }
        }
        Err(FederationError::Store(StoreError::Conflict(
            Conflict::FederatedIdentity,
        )))
    }

    async fn create(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        subject: &str,
        attributes: &std::collections::BTreeMap<String, String>,
        now: UnixTime,
    ) -> Result<User, FederationError> {
        let mut user = User {
            pool_id: pool.id.clone(),
            sub: crate::core::ids::new_sub(),
            username: format!("{}_{subject}", provider.name),
            attributes: attributes.clone(),
            status: UserStatus::ExternalProvider,
            enabled: true,
            password_hash: None,
            temporary_password_expires_at: None,
            identities: vec![linking::identity(provider, subject, attributes, now)],
            lookup: UserLookup::default(),
            created_at: now,
            updated_at: now,
            version: 0,
        };
        user.lookup = lookup_for(pool, &user);
        let group = format!("{}_{}", pool.id, provider.name);
        if self.store.get_group(&pool.id, &group).await?.is_none() {
            self.directory
                .put_group(
                    pool,
                    GroupSpec {
                        name: group.clone(),
                        description: Some(format!(
                            "Autogenerated group for users who sign in using {}",
                            provider.name
                        )),
                        ..GroupSpec::default()
                    },
                    Origin::Api,
                    now,
                )
                .await?;
        }
        let user = self
            .store
            .create_user(&user)
            .await
            .map_err(FederationError::Store)?;
        self.directory.add_to_group(pool, &group, &user.sub).await?;
        Ok(user)
    }

    /// An endpoint of the provider: declared, else from the issuer's discovery document.
    async fn endpoint(
        &self,
        provider: &IdentityProvider,
        which: Endpoint,
    ) -> Result<String, FederationError> {
        let e = &provider.endpoints;
        let declared = match which {
            Endpoint::Authorize => &e.authorize,
            Endpoint::Token => &e.token,
            Endpoint::Jwks => &e.jwks,
            Endpoint::Userinfo => &e.userinfo,
        };
        if let Some(url) = declared {
            return Ok(url.clone());
        }
        let missing = || FederationError::MissingEndpoint {
            provider: provider.name.clone(),
            what: which.discovery_field(),
        };
        let issuer = provider.issuer.as_deref().ok_or_else(missing)?;
        let doc = self.http.discovery(issuer).await?;
        doc.get(which.discovery_field())
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(missing)
    }
}

#[derive(Debug, Clone, Copy)]
enum Endpoint {
    Authorize,
    Token,
    Jwks,
    Userinfo,
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

/// Whether sign-in through this provider is possible: OpenID Connect or plain OAuth 2.0 +
/// profile, answering in the query or by `form_post`; Apple only with its signing key.
pub fn supported(provider: &IdentityProvider) -> bool {
    !provider.has_quirk(Quirk::AppleClientSecret) || provider.apple.is_some()
}

/// The IdP an `idp_identifier` routes to (Cognito's `IdpIdentifiers`): among the
/// providers the client enables, the one whose identifiers (email domains) claim it,
/// compared exactly but case-insensitively. An email address routes by its domain.
pub fn provider_for_identifier<'a>(
    pool: &'a UserPool,
    enabled: &[String],
    identifier: &str,
) -> Option<&'a IdentityProvider> {
    let identifier = identifier.trim();
    let wanted = identifier
        .rsplit_once('@')
        .map_or(identifier, |(_, domain)| domain);
    if wanted.is_empty() {
        return None;
    }
    pool.identity_providers
        .iter()
        .filter(|p| enabled.contains(&p.name) && supported(p))
        .find(|p| p.identifiers.iter().any(|i| i.eq_ignore_ascii_case(wanted)))
}

/// The pool's provider of this name, if sign-in through it is implemented.
fn usable_provider<'a>(
    pool: &'a UserPool,
    name: &str,
) -> Result<&'a IdentityProvider, FederationError> {
    let provider = pool
        .identity_provider(name)
        .ok_or_else(|| FederationError::UnknownProvider(name.to_string()))?;
    if !supported(provider) {
        return Err(FederationError::UnsupportedProtocol(name.to_string()));
    }
    Ok(provider)
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
