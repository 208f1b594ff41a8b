//! The SAML leg of a federated sign-in (SAML Profiles 2.0 section 4.1, Web Browser SSO,
//! SP-initiated): `start_saml` sends the browser to the IdP with an AuthnRequest,
//! `accept_saml_post` keeps the Response the IdP's page POSTs to the ACS, and
//! `saml_callback` checks it and signs the user in.
//!
//! The POST to the ACS is cross-site (the IdP's page submits it), so the browser does not
//! send Cognate's SameSite=Lax cookies with it, as with Apple's `form_post`: the posted
//! response is stored once for its flow and the browser continues with a same-site GET
//! that carries the browser-binding cookie, where the flow is checked and consumed. Only
//! then is the response verified ([`response::verify`]) against the flow's IdP, its
//! assertion id recorded against replay (in the shared store, until the assertion expires),
//! and the identity signed into the directory.

use std::collections::BTreeSet;

use aws_lc_rs::rsa::PrivateDecryptingKey;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::leg::SamlLeg;
use super::mapping::{managed_groups, map_assertion, mapped_groups};
use super::request::{self, AuthnRequest};
use super::response::{self, Expectations, SamlError, VerifiedAssertion, MAX_SAML_RESPONSE_CHARS};
use crate::core::keys::KeyError;
use crate::core::model::{IdentityProvider, SamlBinding, SamlSettings, User, UserPool};
use crate::core::oauth::authorize::AuthorizeRequest;
use crate::core::oauth::token_hash;
use crate::core::secrets::{constant_time_eq, random_token};
use crate::core::session::SamlSubject;
use crate::core::storage::StoreError;
use crate::core::UnixTime;
use crate::federation::error::{CallbackFailure, FederationError};
use crate::federation::flow::{
    usable_provider, Continuation, Federation, SignedIn, Started, UpstreamFlow, UpstreamLeg,
    IDP_FLOW_TTL_SECS,
};

/// The store kind of a Response POSTed to the ACS, kept (keyed by the flow id) until the
/// browser's same-site GET continuation takes it.
pub const SAML_POST_KIND: &str = "saml_post";
/// How long a posted Response waits for the continuation.
pub const SAML_POST_TTL_SECS: i64 = 120;
/// The store kind of the assertion ids seen (replay cache), keyed by IdP and assertion id.
pub const SAML_ASSERTION_KIND: &str = "saml_assertion";
/// The clock skew allowed on the assertion's time conditions.
pub const SAML_SKEW_SECS: i64 = 120;
/// How long a SAML subject record lives when the client is gone (Cognito's default
/// refresh token validity, 30 days).
const SAML_SUBJECT_DEFAULT_SECS: i64 = 30 * 86400;
/// The ACS path (Cognito's).
pub const ACS_PATH: &str = "/saml2/idpresponse";

impl Federation {
    /// The ACS URL: where IdPs POST their responses, and every response's `Destination`
    /// and `Recipient`.
    pub fn acs_url(&self) -> String {
        format!("{}{ACS_PATH}", self.public_url.trim_end_matches('/'))
    }

    /// Stores an upstream flow keyed by a new AuthnRequest id and returns where the
    /// browser goes: the IdP's SSO URL with the request in the query (HTTP-Redirect,
    /// signed when the IdP wants it), or the SSO URL and the fields of a form the browser
    /// POSTs (HTTP-POST).
    pub(crate) async fn start_saml(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        request: AuthorizeRequest,
        browser_cookie: &str,
        login_flow: Option<String>,
        now: UnixTime,
    ) -> Result<Started, FederationError> {
        let saml = saml_settings(provider)?;
        let binding = saml.request_binding;
        let sso_url = saml
            .sso_url(binding)
            .ok_or_else(|| FederationError::MissingEndpoint {
                provider: provider.name.clone(),
                what: "SingleSignOnService for the request binding",
            })?;
        let id = request::new_request_id();
        // The RelayState names the flow, so the ACS finds it without reading the
        // response (nothing parses XML before the flow is authenticated), and carries 256
        // random bits the answer must bring back.
        let relay_state = format!("{id}.{}", random_token::<32>());
        let acs_url = self.acs_url();
        let sp_entity_id = pool.sp_entity_id();
        let xml = AuthnRequest {
            id: &id,
            issue_instant: now,
            destination: sso_url,
            acs_url: &acs_url,
            sp_entity_id: &sp_entity_id,
        }
        .to_xml()
        .map_err(|e| FederationError::SamlRequest(e.to_string()))?;
        let started =
            match binding {
                SamlBinding::Redirect => {
                    let key = if saml.sign_requests {
                        Some(
                            self.sp_keys
                                .active(&pool.id, now)
                                .await
                                .map_err(|e| FederationError::SpKey(e.to_string()))?,
                        )
                    } else {
                        None
                    };
                    let sign = key
                        .as_ref()
                        .map(|key| move |m: &[u8]| key.sign_rsa_sha256(m));
                    let sign_ref = sign
                        .as_ref()
                        .map(|f| f as &dyn Fn(&[u8]) -> Result<Vec<u8>, KeyError>);
                    let url = request::redirect_url(sso_url, &xml, &relay_state, sign_ref)
                        .map_err(|e| match e {
                            request::RedirectError::Encode => {
                                FederationError::SamlRequest("deflating the request".into())
                            }
                            request::RedirectError::Sign(e) => {
                                FederationError::SpKey(e.to_string())
                            }
                        })?;
                    Started {
                        url,
                        state: id.clone(),
                        form: None,
                    }
                }
                SamlBinding::Post => {
                    if saml.sign_requests {
                        // Signing a POST-binding request means an enveloped XML signature,
                        // which Cognate does not make yet; the checker refuses the setting.
                        return Err(FederationError::UnsupportedProtocol(provider.name.clone()));
                    }
                    Started {
                        url: sso_url.to_string(),
                        state: id.clone(),
                        form: Some(vec![
                            ("SAMLRequest".to_string(), STANDARD.encode(xml.as_bytes())),
                            ("RelayState".to_string(), relay_state.clone()),
                        ]),
                    }
                }
            };
        let flow = UpstreamFlow {
            request,
            provider: provider.name.clone(),
            pool_id: pool.id.clone(),
            leg: UpstreamLeg::Saml(SamlLeg {
                saml_relay_state: relay_state,
            }),
            browser: token_hash(browser_cookie),
            login_flow,
            expires_at: now + IDP_FLOW_TTL_SECS,
        };
        self.put_flow(&id, &flow, now).await?;
        Ok(started)
    }

    /// Keeps a Response POSTed to the ACS until the browser's GET continuation. The POST
    /// is cross-site, so the browser-binding cookie is not sent with it and the flow
    /// cannot be checked or consumed here: the RelayState must be a live flow's (it names
    /// the flow and carries its random part), the response is stored once per flow (a
    /// second POST is refused) without being read (no XML is parsed for an unauthenticated
    /// request), and the posting browser gets the continuation's token.
    pub async fn accept_saml_post(
        &self,
        saml_response: &str,
        relay_state: Option<&str>,
        now: UnixTime,
    ) -> Result<Continuation, FederationError> {
        if saml_response.len() > MAX_SAML_RESPONSE_CHARS {
            return Err(SamlError::TooLarge {
                max: MAX_SAML_RESPONSE_CHARS,
            }
            .into());
        }
        let relay_state = relay_state
            .filter(|r| r.len() <= 128)
            .ok_or(FederationError::SamlUnsolicited)?;
        let flow_id = relay_state
            .split_once('.')
            .map(|(id, _)| id)
            .filter(|id| request::is_request_id(id))
            .ok_or(FederationError::UnknownState)?;
        let flow = self.read_flow(flow_id, now).await?;
        let UpstreamLeg::Saml(leg) = &flow.leg else {
            return Err(FederationError::UnknownState);
        };
        if !constant_time_eq(relay_state.as_bytes(), leg.saml_relay_state.as_bytes()) {
            return Err(FederationError::UnknownState);
        }
        let expires_at = (now + SAML_POST_TTL_SECS).min(flow.expires_at);
        let token = self
            .keep_posted(SAML_POST_KIND, flow_id, saml_response, expires_at, now)
            .await?;
        Ok(Continuation {
            flow_id: flow_id.to_string(),
            token,
        })
    }

    /// Completes a SAML flow from the ACS's same-site continuation: the flow is this
    /// browser's and is consumed once with the response posted for it, which must be
    /// signed by the flow's IdP (its metadata's certificates only) and pass every check of
    /// [`response::verify`]; its assertion id must not have been seen. Then the identity
    /// is signed into the directory and the IdP's mapped groups applied.
    pub async fn saml_callback(
        &self,
        flow_id: &str,
        token: &str,
        browser_cookie: Option<&str>,
        context: &crate::core::threat::EventContext,
        now: UnixTime,
    ) -> Result<SignedIn, CallbackFailure> {
        if !request::is_request_id(flow_id) {
            return Err(FederationError::UnknownState.into());
        }
        let flow = self.read_flow(flow_id, now).await?;
        if !matches!(flow.leg, UpstreamLeg::Saml(_)) {
            return Err(FederationError::UnknownState.into());
        }
        let same_browser = browser_cookie
            .is_some_and(|b| constant_time_eq(token_hash(b).as_bytes(), flow.browser.as_bytes()));
        // The response, once, only with the token the posting browser got and only in the
        // browser that started the flow.
        let posted = self
            .take_posted(SAML_POST_KIND, flow_id, token, same_browser, now)
            .await?;
        // Single use: of concurrent continuations, one takes the flow.
        self.take_flow(flow_id, now).await?;
        let fail = |error: FederationError| flow.failure(error);
        let pool = self
            .directory
            .pool(&flow.pool_id)
            .await
            .map_err(|e| fail(e.into()))?;
        let provider = usable_provider(&pool, &flow.provider).map_err(fail)?;
        let saml = saml_settings(provider).map_err(fail)?;
        // An EncryptedAssertion is decrypted with the key of any certificate the pool's SP
        // metadata publishes now; the keys are opened only for a response that has one.
        let decryption_keys = if response::may_be_encrypted(&posted) {
            self.sp_keys
                .decryption_keys(&pool.id, now)
                .await
                .map_err(|e| fail(FederationError::SpKey(e.to_string())))?
        } else {
            Vec::new()
        };
        let verified = self
            .verify_posted(
                &pool,
                saml,
                posted,
                Some(flow_id.to_string()),
                decryption_keys,
                now,
            )
            .await
            .map_err(fail)?;
        let assertion = verified.map_err(|e| fail(status_error(e)))?;
        self.record_assertion(&saml.entity_id, &assertion, now)
            .await
            .map_err(fail)?;
        let mapped = map_assertion(provider, saml, &assertion).map_err(|e| fail(e.into()))?;
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
        self.apply_groups(&pool, saml, &user, mapped_groups(saml, &assertion), now)
            .await
            .map_err(fail)?;
        if let Some(name_id) = &assertion.name_id {
            // For an IdP-initiated logout: which user this NameID names, as long as
            // anything this sign-in issues may live.
            let refresh_secs = match self.store.get_client(&flow.request.client_id).await {
                Ok(Some(client)) => client.token_validity.refresh_token_secs,
                _ => SAML_SUBJECT_DEFAULT_SECS,
            };
            let until = now + refresh_secs.max(crate::core::session::SESSION_TTL_SECS);
            if let Err(e) = self
                .remember_saml_subject(
                    &pool.id,
                    &provider.name,
                    &name_id.value,
                    &user.sub,
                    until,
                    now,
                )
                .await
            {
                tracing::warn!(error = %e, "could not record the SAML subject for single logout");
            }
        }
        Ok(SignedIn {
            provider: flow.provider.clone(),
            request: flow.request,
            user,
            login_flow: flow.login_flow,
            unsolicited: false,
            saml: logout_subject(&assertion),
        })
    }

    /// Replay (SAML Profiles 2.0 section 4.1.4.5): an assertion of this IdP is accepted
    /// once, on any node (the shared store), until it expires.
    pub(super) async fn record_assertion(
        &self,
        idp_entity_id: &str,
        assertion: &VerifiedAssertion,
        now: UnixTime,
    ) -> Result<(), FederationError> {
        let seen = format!("{idp_entity_id}\n{}", assertion.assertion_id);
        match self
            .store
            .put_ephemeral(
                SAML_ASSERTION_KIND,
                &token_hash(&seen),
                "1",
                assertion.expires_at.max(now + 1),
                now,
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(StoreError::Conflict(_)) => Err(FederationError::SamlReplay),
            Err(e) => Err(e.into()),
        }
    }

    /// Makes the user's memberships of the groups this IdP's table can grant exactly
    /// `wanted`: a mapped group the IdP no longer sends is left. A target group that does
    /// not exist yet is created (as the federated sign-in's own group is).
    pub(super) async fn apply_groups(
        &self,
        pool: &UserPool,
        saml: &SamlSettings,
        user: &User,
        wanted: BTreeSet<String>,
        now: UnixTime,
    ) -> Result<(), FederationError> {
        let managed = managed_groups(saml);
        if managed.is_empty() {
            return Ok(());
        }
        let current: BTreeSet<String> = self
            .store
            .groups_of_user(&pool.id, &user.sub)
            .await?
            .into_iter()
            .map(|g| g.name)
            .filter(|g| managed.contains(g))
            .collect();
        for group in wanted.difference(&current) {
            let description = format!("Granted by identity provider mappings ({})", saml.entity_id);
            self.ensure_group(pool, group, description, now).await?;
            self.directory.add_to_group(pool, group, &user.sub).await?;
        }
        for group in current.difference(&wanted) {
            self.store.remove_member(&pool.id, group, &user.sub).await?;
        }
        Ok(())
    }
}

impl Federation {
    /// Verifies a posted response against the IdP of `saml` and the pool's SP (the ACS
    /// URL, the SP entity id), answering `in_response_to` (`None`: unsolicited), off the
    /// async workers: parsing, decryption and RSA are CPU work.
    pub(super) async fn verify_posted(
        &self,
        pool: &UserPool,
        saml: &SamlSettings,
        posted: String,
        in_response_to: Option<String>,
        decryption_keys: Vec<PrivateDecryptingKey>,
        now: UnixTime,
    ) -> Result<Result<VerifiedAssertion, SamlError>, FederationError> {
        let certificates: Vec<Vec<u8>> = saml
            .signing_certificates
            .iter()
            .filter_map(|c| STANDARD.decode(c.as_bytes()).ok())
            .collect();
        let (idp_entity_id, allow_sha1) = (saml.entity_id.clone(), saml.allow_sha1);
        let allow_aes_cbc = saml.allow_aes_cbc;
        let (acs_url, sp_entity_id) = (self.acs_url(), pool.sp_entity_id());
        tokio::task::spawn_blocking(move || {
            response::verify(
                &posted,
                &Expectations {
                    idp_entity_id: &idp_entity_id,
                    certificates: &certificates,
                    allow_sha1,
                    sp_entity_id: &sp_entity_id,
                    acs_url: &acs_url,
                    in_response_to: in_response_to.as_deref(),
                    now,
                    skew_secs: SAML_SKEW_SECS,
                    decryption_keys: &decryption_keys,
                    allow_aes_cbc,
                },
            )
        })
        .await
        .map_err(|_| FederationError::SamlRequest("verification task failed".into()))
    }
}

/// The IdP's name for the signed-in user, kept with the session for single logout.
pub(super) fn logout_subject(assertion: &response::VerifiedAssertion) -> Option<SamlSubject> {
    assertion.name_id.as_ref().map(|n| SamlSubject {
        name_id: n.value.clone(),
        name_id_format: n.format.clone(),
        session_index: assertion.session_index.clone(),
    })
}

/// The provider's SAML settings; any other protocol is not for this leg.
fn saml_settings(provider: &IdentityProvider) -> Result<&SamlSettings, FederationError> {
    provider
        .protocol
        .as_saml()
        .ok_or_else(|| FederationError::UnsupportedProtocol(provider.name.clone()))
}

/// A non-success status from the IdP is its refusal (the user cancelled, failed to
/// authenticate, or is not allowed): the client hears `access_denied`; anything else about
/// the response is Cognate's refusal.
fn status_error(e: SamlError) -> FederationError {
    match e {
        SamlError::Status {
            code,
            sub_code,
            message,
        } => {
            let refused = sub_code.as_deref().is_some_and(|s| {
                [
                    ":AuthnFailed",
                    ":RequestDenied",
                    ":NoPassive",
                    ":NoAuthnContext",
                ]
                .iter()
                .any(|end| s.ends_with(end))
            });
            let mut description = code;
            if let Some(sub) = sub_code {
                description.push_str(" / ");
                description.push_str(&sub);
            }
            if let Some(m) = message {
                description.push_str(": ");
                description.push_str(&m.chars().take(200).collect::<String>());
            }
            FederationError::Upstream {
                error: if refused {
                    "access_denied"
                } else {
                    "saml_status"
                }
                .to_string(),
                description: Some(description),
            }
        }
        other => FederationError::Saml(other),
    }
}
