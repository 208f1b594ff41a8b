//! The protocol-independent part of a federated sign-in: the stored upstream flow, the
//! federation service, and the directory user an upstream identity becomes. Each
//! protocol's leg (the redirect to the IdP and the answer it sends back) is in its own
//! module beside this one: [`oauth`](super::oauth) for OpenID Connect and plain OAuth 2.0
//! (its `start`, `accept_post` and `callback` are methods of [`Federation`]); a SAML 2.0
//! service provider will sit beside it and use the same record, store and sign-in.
//!
//! An upstream flow is a stored, expiring, single-use record (Ory Kratos' pattern; kind
//! [`IDP_FLOW_KIND`] in the store's ephemeral values, so the answer may land on any node),
//! keyed by a random *flow id* that the protocol sends to the IdP and gets back with the
//! answer: OAuth's `state` (RFC 6749 section 4.1.1); SAML's will be the AuthnRequest id
//! with its RelayState. The record holds the client's original authorization request,
//! the IdP it was started for (mix-up defence, RFC 9700 section 4.4), the hash of the
//! browser-binding cookie (so an answer injected into another browser is refused, RFC 9700
//! section 4.5), and the protocol's own part ([`UpstreamLeg`]: OAuth's `nonce` and PKCE
//! verifier). The flow's JSON is flat (the leg's fields beside the common ones), as before
//! the leg was split out, so flows in flight across an upgrade still complete.
//!
//! Nothing is written to the directory before the protocol's checks all hold; then
//! `Federation::sign_in` applies Cognito's federated-user rules. Errors,
//! [`FederationError`] and [`CallbackFailure`], live in [`error`](super::error) and are
//! re-exported here.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

pub use super::error::{CallbackFailure, FederationError};
use super::http::IdpHttp;
use super::linking;
use super::mapping::Mapped;
use super::oauth::apple;
use super::oauth::leg::OAuthLeg;
use super::saml::leg::SamlLeg;
use crate::core::attributes::validate_attribute;
use crate::core::directory::{lookup_for, Directory, GroupSpec};
use crate::core::model::AuthEventKind;
use crate::core::model::{IdentityProvider, Origin, Quirk, User, UserLookup, UserPool, UserStatus};
use crate::core::oauth::authorize::AuthorizeRequest;
use crate::core::oauth::token_hash;
use crate::core::secrets::{constant_time_eq, random_token, MasterKey};
use crate::core::sp_keys::SpKeyService;
use crate::core::storage::{Conflict, Store, StoreError, UserRef};
use crate::core::threat::{EventContext, Subject};
use crate::core::UnixTime;

/// A failed federated sign-in's name in the auth event log (never the message).
fn failure_name(e: &FederationError) -> &'static str {
    match e {
        FederationError::UserDisabled => "user_disabled",
        FederationError::IssuerChanged(_) => "issuer_changed",
        FederationError::MissingAttributes { .. } => "missing_attributes",
        FederationError::Directory(_) | FederationError::Store(_) => "internal",
        _ => "refused",
    }
}

/// The store kind of upstream flows (keyed by the flow id).
pub const IDP_FLOW_KIND: &str = "idp_flow";
/// How long the user may take at the IdP.
pub const IDP_FLOW_TTL_SECS: i64 = 600;

/// One attempt to sign in through an upstream IdP, stored under its flow id until the
/// IdP's answer.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct UpstreamFlow {
    /// The client's authorization request, answered once the IdP vouches for the user.
    pub request: AuthorizeRequest,
    /// The IdP this flow was started for; only its answer is accepted.
    pub provider: String,
    pub pool_id: String,
    /// What the protocol keeps for checking the answer.
    #[serde(flatten)]
    pub leg: UpstreamLeg,
    /// Hash of the browser-binding cookie of the browser that started the flow.
    pub browser: String,
    /// The hosted login flow the user came from (the sign-in page's button), consumed
    /// when the federated sign-in succeeds.
    #[serde(default)]
    pub login_flow: Option<String>,
    pub expires_at: UnixTime,
}

/// The protocol's part of an [`UpstreamFlow`]. Untagged and flattened: each protocol's
/// part has fields of its own (OAuth's `nonce`), which tell them apart, and a flow stored
/// before the split reads as the OAuth part it was. SAML's part has its RelayState.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum UpstreamLeg {
    /// OpenID Connect or plain OAuth 2.0 ([`super::oauth`]).
    OAuth(OAuthLeg),
    /// SAML 2.0 ([`super::saml`]): the flow id is the AuthnRequest id.
    Saml(SamlLeg),
}

impl fmt::Debug for UpstreamFlow {
    /// The leg's own `Debug` hides its secrets (the OAuth nonce and PKCE verifier).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UpstreamFlow")
            .field("request", &self.request)
            .field("provider", &self.provider)
            .field("pool_id", &self.pool_id)
            .field("leg", &self.leg)
            .field("browser", &self.browser)
            .field("login_flow", &self.login_flow)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// Where the browser goes next, and the flow that was stored.
#[derive(Clone)]
pub struct Started {
    /// The IdP's URL: navigated to (a redirect), or the action of [`Started::form`].
    pub url: String,
    /// The flow id (OAuth's `state`, SAML's AuthnRequest id).
    pub state: String,
    /// Fields the browser must POST to `url` (SAML's HTTP-POST binding), by an
    /// auto-submitting form; `None` for a redirect.
    pub form: Option<Vec<(String, String)>>,
}

impl fmt::Debug for Started {
    /// The URL without its query, which carries the upstream nonce, and no form values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let endpoint = self
            .url
            .split_once('?')
            .map_or(self.url.as_str(), |(e, _)| e);
        f.debug_struct("Started")
            .field("url", &endpoint)
            .field("state", &self.state)
            .field("form", &self.form.as_ref().map(|_| "<form>"))
            .finish_non_exhaustive()
    }
}

impl UpstreamFlow {
    /// A failure of this flow's answer once the flow is taken: it carries the client's
    /// request, so the edge may tell the client.
    pub fn failure(&self, error: FederationError) -> CallbackFailure {
        CallbackFailure {
            request: Some(Box::new(self.request.clone())),
            error,
        }
    }
}

/// Where the browser that POSTed an IdP's answer continues: the flow, and the token only
/// that browser receives ([`Federation::keep_posted`]).
#[derive(Clone)]
pub struct Continuation {
    pub flow_id: String,
    pub token: String,
}

impl fmt::Debug for Continuation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Continuation")
            .field("flow_id", &self.flow_id)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// An answer POSTed to a callback, kept for its flow with the hash of the continuation
/// token the posting browser received.
#[derive(Serialize, Deserialize)]
struct KeptPost {
    value: String,
    token: String,
}

/// A federated sign-in that succeeded.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub request: AuthorizeRequest,
    pub user: User,
    /// The pool's name of the IdP the user signed in with.
    pub provider: String,
    pub login_flow: Option<String>,
    /// An IdP-initiated sign-in: its session answers only the request's client.
    pub unsolicited: bool,
    /// A SAML sign-in's subject, kept with the session for single logout.
    pub saml: Option<crate::core::session::SamlSubject>,
}

/// The federation service: starts upstream flows and completes them into the directory.
/// Each protocol's module adds its legs as methods.
#[derive(Clone)]
pub struct Federation {
    pub(super) store: Arc<dyn Store>,
    pub(super) directory: Directory,
    pub(super) master: Arc<MasterKey>,
    pub(super) http: IdpHttp,
    pub(super) public_url: String,
    /// Apple client secrets, minted once per signing key and refreshed before they expire.
    pub(super) apple_secrets: Arc<apple::SecretCache>,
    /// The pools' SAML service provider keys (signing AuthnRequests).
    pub(super) sp_keys: SpKeyService,
}

impl Federation {
    pub fn new(
        directory: Directory,
        master: Arc<MasterKey>,
        http: IdpHttp,
        public_url: String,
        sp_keys: SpKeyService,
    ) -> Self {
        Federation {
            store: directory.store().clone(),
            directory,
            master,
            http,
            public_url,
            apple_secrets: Arc::default(),
            sp_keys,
        }
    }

    /// Stores an upstream flow for `provider_name` and says where the browser goes, by
    /// the provider's protocol ([`super::oauth`], [`super::saml`]).
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
        if provider.protocol.as_saml().is_some() {
            self.start_saml(pool, provider, request, browser_cookie, login_flow, now)
                .await
        } else {
            self.start_oauth(pool, provider, request, browser_cookie, login_flow, now)
                .await
        }
    }

    pub fn http(&self) -> &IdpHttp {
        &self.http
    }

    /// Stores a new upstream flow under its flow id (refused if the id is taken).
    pub(super) async fn put_flow(
        &self,
        flow_id: &str,
        flow: &UpstreamFlow,
        now: UnixTime,
    ) -> Result<(), FederationError> {
        let value = serde_json::to_string(flow).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.store
            .put_ephemeral(IDP_FLOW_KIND, flow_id, &value, flow.expires_at, now)
            .await?;
        Ok(())
    }

    /// Keeps an answer an IdP's page POSTed cross-site (Apple's `form_post`, SAML's ACS)
    /// for the flow `flow_id` until the browser's same-site continuation, once per flow (a
    /// second POST is [`FederationError::AlreadyPosted`]). Returns the continuation token,
    /// which only the browser that posted receives (in the redirect to its continuation);
    /// the hash is kept. The continuation needs the token and the flow's browser cookie
    /// both, so an answer posted by one browser cannot be finished by another: a victim
    /// sent to the IdP with an attacker's sign-in attempt posts the victim's identity, and
    /// the attacker, who holds the flow's cookie but never sees the token, cannot take it
    /// (login CSRF).
    pub(super) async fn keep_posted(
        &self,
        kind: &str,
        flow_id: &str,
        value: &str,
        expires_at: UnixTime,
        now: UnixTime,
    ) -> Result<String, FederationError> {
        let token = random_token::<32>();
        let kept = serde_json::to_string(&KeptPost {
            value: value.to_string(),
            token: token_hash(&token),
        })
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        match self
            .store
            .put_ephemeral(kind, flow_id, &kept, expires_at, now)
            .await
        {
            Ok(()) => Ok(token),
            Err(StoreError::Conflict(_)) => Err(FederationError::AlreadyPosted),
            Err(e) => Err(e.into()),
        }
    }

    /// Takes (once) the answer kept for `flow_id` by [`Federation::keep_posted`], for a
    /// continuation presenting `token` in a browser that is (`same_browser`) the flow's.
    /// A wrong or missing token, or another browser, takes nothing.
    pub(super) async fn take_posted(
        &self,
        kind: &str,
        flow_id: &str,
        token: &str,
        same_browser: bool,
        now: UnixTime,
    ) -> Result<String, FederationError> {
        let kept = self
            .store
            .get_ephemeral(kind, flow_id, now)
            .await?
            .ok_or(FederationError::UnknownState)?;
        let kept: KeptPost =
            serde_json::from_str(&kept).map_err(|_| FederationError::UnknownState)?;
        if !constant_time_eq(token_hash(token).as_bytes(), kept.token.as_bytes()) {
            return Err(FederationError::UnknownState);
        }
        if !same_browser {
            return Err(FederationError::WrongBrowser);
        }
        match self.store.take_ephemeral(kind, flow_id, now).await? {
            Some(taken) => serde_json::from_str::<KeptPost>(&taken)
                .map(|k| k.value)
                .map_err(|_| FederationError::UnknownState),
            None => Err(FederationError::UnknownState),
        }
    }

    /// The live flow of this id, read without consuming it. An unknown, expired or
    /// unreadable flow is [`FederationError::UnknownState`].
    pub(super) async fn read_flow(
        &self,
        flow_id: &str,
        now: UnixTime,
    ) -> Result<UpstreamFlow, FederationError> {
        match self
            .store
            .get_ephemeral(IDP_FLOW_KIND, flow_id, now)
            .await?
        {
            Some(text) => serde_json::from_str(&text).map_err(|_| FederationError::UnknownState),
            None => Err(FederationError::UnknownState),
        }
    }

    /// Consumes the flow of this id: of concurrent answers, exactly one takes it.
    pub(super) async fn take_flow(
        &self,
        flow_id: &str,
        now: UnixTime,
    ) -> Result<(), FederationError> {
        match self
            .store
            .take_ephemeral(IDP_FLOW_KIND, flow_id, now)
            .await?
        {
            Some(_) => Ok(()),
            None => Err(FederationError::UnknownState),
        }
    }

    /// Creates or updates the directory user of an upstream identity (Cognito's
    /// federated-user rules): the linked user gets the mapped attributes; an identity
    /// without a link may be linked by its verified email ([`linking::by_email`]);
    /// otherwise a new `<ProviderName>_<subject>` user, EXTERNAL_PROVIDER, in group
    /// `<poolId>_<ProviderName>`, if it has the pool's required attributes.
    ///
    /// The outcome is recorded in the auth event log (`FederatedSignIn`, with the
    /// provider) with `context`, made through `client_id`.
    pub(super) async fn sign_in(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        mapped: Mapped,
        client_id: &str,
        context: &EventContext,
        now: UnixTime,
    ) -> Result<User, FederationError> {
        let subject = mapped.subject.clone();
        let result = self.sign_in_unrecorded(pool, provider, mapped, now).await;
        let mut context = context.clone();
        context.client_id = Some(client_id.to_string());
        let upstream_name = format!("{}_{}", provider.name, subject);
        let (who, mut details) = match &result {
            Ok(user) => (
                Subject::User(user),
                vec![("provider", provider.name.as_str())],
            ),
            // The user the identity is linked to, if any (a disabled one, say).
            Err(_) => (
                Subject::Unattributed(&upstream_name),
                vec![("provider", provider.name.as_str())],
            ),
        };
        if let Err(e) = &result {
            details.push(("reason", failure_name(e)));
        }
        let outcome = crate::core::threat::outcome_of(&result);
        let linked = match (&result, pool.threat_protection.records_events()) {
            (Err(_), true) => self
                .store
                .get_user(
                    &pool.id,
                    &UserRef::Federated(provider.name.clone(), subject.clone()),
                )
                .await
                .ok()
                .flatten(),
            _ => None,
        };
        let who = linked.as_ref().map(Subject::User).unwrap_or(who);
        self.directory
            .record_event(
                pool,
                who,
                AuthEventKind::FederatedSignIn,
                outcome,
                &context,
                &details,
                now,
            )
            .await;
        result
    }

    async fn sign_in_unrecorded(
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
                // Before anything else: a repointed provider's subject is someone else.
                linking::check_binding(&existing, pool, provider, &mapped.subject)?;
                if !existing.enabled {
                    return Err(FederationError::UserDisabled);
                }
                let user = self
                    .directory
                    .modify_user(pool, &existing.sub, |u| {
                        linking::refresh(u, pool, provider, &mapped.subject, &attributes, now);
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

    /// Creates group `name` of the pool unless it exists (creating is an upsert, so a
    /// concurrent sign-in creating it too is harmless).
    pub(super) async fn ensure_group(
        &self,
        pool: &UserPool,
        name: &str,
        description: String,
        now: UnixTime,
    ) -> Result<(), FederationError> {
        if self.store.get_group(&pool.id, name).await?.is_none() {
            self.directory
                .put_group(
                    pool,
                    GroupSpec {
                        name: name.to_string(),
                        description: Some(description),
                        ..GroupSpec::default()
                    },
                    Origin::Api,
                    now,
                )
                .await?;
        }
        Ok(())
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
            mfa: Default::default(),
            srp: None,
            pending_attributes: Default::default(),
        };
        user.lookup = lookup_for(pool, &user);
        let group = format!("{}_{}", pool.id, provider.name);
        let description = format!(
            "Autogenerated group for users who sign in using {}",
            provider.name
        );
        self.ensure_group(pool, &group, description, now).await?;
        let user = self
            .store
            .create_user(&user)
            .await
            .map_err(FederationError::Store)?;
        self.directory.add_to_group(pool, &group, &user.sub).await?;
        Ok(user)
    }
}

/// Whether sign-in through this provider is possible: OpenID Connect or plain OAuth 2.0 +
/// profile, answering in the query or by `form_post`; Apple only with its signing key.
pub fn supported(provider: &IdentityProvider) -> bool {
    !provider.has_quirk(Quirk::AppleClientSecret) || provider.protocol.apple_key().is_some()
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
pub(super) fn usable_provider<'a>(
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
