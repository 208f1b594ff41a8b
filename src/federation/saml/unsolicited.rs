//! IdP-initiated sign-in (SAML Profiles 2.0 section 4.1.5, unsolicited responses): the
//! user starts at the IdP's portal, whose page POSTs a Response that answers no request
//! of Cognate's to the ACS. Off by default; an operator enables it per IdP
//! ([`IdpInitiated`]) and names the app client and redirect URI the sign-in lands on.
//!
//! Nothing binds an unsolicited response to a browser (there was no request), so Cognito's
//! guards are what keep it from being a login-CSRF or replay hole:
//! - the IdP must have enabled it, and only its metadata certificates verify the response
//!   (the Issuer is read before verification only to pick those certificates);
//! - no `InResponseTo` anywhere, and the Response, Assertion and every AuthnStatement
//!   issued within the last six minutes ([`UNSOLICITED_MAX_AGE_SECS`], plus the skew);
//! - the assertion id is accepted once on any node (the replay cache of part 1);
//! - the app client lists no provider other than SAML IdPs (no `COGNITO`, no OIDC or
//!   social IdP), so a forged unsolicited login cannot ride a client whose users sign in
//!   another way; it lists this IdP and the redirect URI is one of its callback URLs.
//!
//! The sign-in then answers a fresh authorization request built from the configuration:
//! `response_type=code`, the configured scopes, no `state`, no `nonce` and no PKCE (no
//! client started it, so there is no challenge; the client redeems the code without a
//! `code_verifier`, which is why a client that requires PKCE is refused).
//!
//! [`UNSOLICITED_MAX_AGE_SECS`]: super::response::UNSOLICITED_MAX_AGE_SECS

use super::mapping::{map_assertion, mapped_groups};
use super::response::{self, VerifiedAssertion};
use crate::core::model::{
    AppClient, IdentityProvider, IdpInitiated, OAuthFlow, UserPool, OWN_USERS,
};
use crate::core::oauth::authorize::{self, AuthorizeError, AuthorizeParams, AuthorizeRequest};
use crate::core::UnixTime;
use crate::federation::error::{CallbackFailure, FederationError};
use crate::federation::flow::{usable_provider, Federation, SignedIn};

/// Why an IdP-initiated target cannot be used: the key of [`IdpInitiated`] at fault, what
/// is wrong, and what to do. Checked when the configuration is checked and again before
/// every unsolicited sign-in (the client may have changed since).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetProblem {
    pub key: &'static str,
    pub message: String,
    pub fix: String,
}

/// Cognito's rules on an IdP-initiated target: the client (`None`: no such client in the
/// pool) lists the IdP `idp_name`, the redirect URI is one of its callback URLs, it lists
/// no provider other than the pool's SAML IdPs, allows the code flow and the scopes, and
/// does not require PKCE.
pub fn target_problems(
    target: &IdpInitiated,
    idp_name: &str,
    client: Option<&AppClient>,
    providers: &[IdentityProvider],
) -> Vec<TargetProblem> {
    let problem = |key, message: String, fix: &str| TargetProblem {
        key,
        message,
        fix: fix.to_string(),
    };
    let Some(client) = client else {
        return vec![problem(
            "client_id",
            format!("{:?} is not an app client of this pool", target.client_id),
            "name a client declared in this pool",
        )];
    };
    let mut out = Vec::new();
    if !client.supports(idp_name) {
        out.push(problem(
            "client_id",
            format!(
                "app client {:?} does not list {idp_name:?} in supported_identity_providers",
                client.id
            ),
            "add the IdP to the client's supported_identity_providers",
        ));
    }
    let others: Vec<&str> = client
        .supported_identity_providers
        .iter()
        .filter(|name| {
            name.as_str() == OWN_USERS
                || !providers
                    .iter()
                    .any(|p| &p.name == *name && p.protocol.as_saml().is_some())
        })
        .map(String::as_str)
        .collect();
    if !others.is_empty() {
        out.push(problem(
            "client_id",
            format!(
                "app client {:?} also signs users in with {}: IdP-initiated sign-in is only \
                 for a client whose providers are all SAML IdPs (Cognito's rule, so a forged \
                 unsolicited login cannot ride a client whose users sign in another way)",
                client.id,
                others
                    .iter()
                    .map(|o| format!("{o:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "name a client of SAML IdPs only (declare one for IdP-initiated sign-in)",
        ));
    }
    if !client
        .callback_urls
        .iter()
        .any(|u| u == &target.redirect_uri)
    {
        out.push(problem(
            "redirect_uri",
            format!(
                "{:?} is not one of app client {:?}'s callback_urls",
                target.redirect_uri, client.id
            ),
            "use one of the client's callback_urls, exactly as written there",
        ));
    }
    if !client.allowed_oauth_flows.contains(&OAuthFlow::Code) {
        out.push(problem(
            "client_id",
            format!(
                "app client {:?} does not allow the code flow, which IdP-initiated sign-in \
                 answers",
                client.id
            ),
            "add \"code\" to the client's allowed_oauth_flows",
        ));
    }
    if client.require_pkce {
        out.push(problem(
            "client_id",
            format!(
                "app client {:?} requires PKCE, and an IdP-initiated code has no challenge \
                 (no client started the sign-in)",
                client.id
            ),
            "use a confidential client (with a secret) and require_pkce = false",
        ));
    }
    for scope in &target.scopes {
        if !client.allowed_oauth_scopes.contains(scope) {
            out.push(problem(
                "scopes",
                format!(
                    "scope {scope:?} is not among app client {:?}'s allowed_oauth_scopes",
                    client.id
                ),
                "list only scopes the client allows (or none: all of them)",
            ));
        }
    }
    out
}

/// An IdP of `pool` that has enabled IdP-initiated sign-in and whose entity id is `issuer`.
fn enabled_for<'a>(pool: &'a UserPool, issuer: &str) -> Vec<&'a IdentityProvider> {
    pool.identity_providers
        .iter()
        .filter(|p| {
            p.protocol
                .as_saml()
                .is_some_and(|s| s.idp_initiated.is_some() && s.entity_id == issuer)
        })
        .collect()
}

impl Federation {
    /// Signs the user in from an unsolicited Response posted to the ACS (no RelayState):
    /// the Issuer picks the candidate IdPs (of any pool) that enabled IdP-initiated
    /// sign-in, the response must verify with one's certificates, for its pool's SP, with
    /// no InResponseTo and fresh; then the assertion id is recorded against replay, the
    /// user signed in and the IdP's mapped groups applied, and the answer is the
    /// configured client's authorization request.
    pub async fn saml_unsolicited(
        &self,
        saml_response: &str,
        context: &crate::core::threat::EventContext,
        now: UnixTime,
    ) -> Result<SignedIn, CallbackFailure> {
        let pools = self
            .store
            .list_pools()
            .await
            .map_err(FederationError::from)?;
        // Off by default: where no IdP enabled it, nothing of the posted value is read (as
        // before IdP-initiated sign-in existed).
        let enabled_anywhere = pools.iter().any(|pool| {
            pool.identity_providers.iter().any(|p| {
                p.protocol
                    .as_saml()
                    .is_some_and(|s| s.idp_initiated.is_some())
            })
        });
        if !enabled_anywhere {
            return Err(FederationError::SamlUnsolicited.into());
        }
        let posted = saml_response.to_string();
        // Parsing is CPU work and the input is anyone's: off the async workers, with the
        // verifier's caps.
        let issuer = tokio::task::spawn_blocking(move || response::unverified_issuer(&posted))
            .await
            .map_err(|_| FederationError::SamlRequest("parsing task failed".into()))?
            .map_err(FederationError::Saml)?;
        let mut candidates: Vec<(&UserPool, &IdentityProvider)> = Vec::new();
        for pool in &pools {
            for provider in enabled_for(pool, &issuer) {
                if usable_provider(pool, &provider.name).is_ok() {
                    candidates.push((pool, provider));
                }
            }
        }
        if candidates.is_empty() {
            return Err(FederationError::SamlUnsolicited.into());
        }
        let mut first_error = None;
        for (pool, provider) in candidates {
            match self
                .verify_unsolicited(pool, provider, saml_response, now)
                .await
            {
                Ok(assertion) => {
                    return self
                        .finish_unsolicited(pool, provider, assertion, context, now)
                        .await
                        .map_err(CallbackFailure::from)
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error
            .unwrap_or(FederationError::SamlUnsolicited)
            .into())
    }

    async fn verify_unsolicited(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        saml_response: &str,
        now: UnixTime,
    ) -> Result<VerifiedAssertion, FederationError> {
        let saml = provider
            .protocol
            .as_saml()
            .ok_or_else(|| FederationError::UnsupportedProtocol(provider.name.clone()))?;
        // An unsolicited response with an encrypted assertion is refused before this
        // (`unverified_issuer`): no decryption keys.
        let verified = self
            .verify_posted(pool, saml, saml_response.to_string(), None, Vec::new(), now)
            .await?;
        // An IdP's error Status answers no client here: a refusal like any other.
        verified.map_err(FederationError::Saml)
    }

    async fn finish_unsolicited(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        assertion: VerifiedAssertion,
        context: &crate::core::threat::EventContext,
        now: UnixTime,
    ) -> Result<SignedIn, FederationError> {
        let saml = provider
            .protocol
            .as_saml()
            .ok_or_else(|| FederationError::UnsupportedProtocol(provider.name.clone()))?;
        let target = saml
            .idp_initiated
            .as_ref()
            .ok_or(FederationError::SamlUnsolicited)?;
        // The client as it is now (it may have changed since the configuration was
        // checked), before anything is recorded or written.
        let request = self.target_request(pool, provider, target).await?;
        self.record_assertion(&saml.entity_id, &assertion, now)
            .await?;
        let mapped = map_assertion(provider, saml, &assertion)?;
        let user = self
            .sign_in(pool, provider, mapped, &request.client_id, context, now)
            .await?;
        self.apply_groups(pool, saml, &user, mapped_groups(saml, &assertion), now)
            .await?;
        Ok(SignedIn {
            provider: provider.name.clone(),
            request,
            user,
            login_flow: None,
            unsolicited: true,
            saml: super::flow::logout_subject(&assertion),
        })
    }

    /// The authorization request an IdP-initiated sign-in answers, after the target's
    /// rules ([`target_problems`]) and the authorization endpoint's own.
    async fn target_request(
        &self,
        pool: &UserPool,
        provider: &IdentityProvider,
        target: &IdpInitiated,
    ) -> Result<AuthorizeRequest, FederationError> {
        let client = self
            .store
            .get_client(&target.client_id)
            .await?
            .filter(|c| c.pool_id == pool.id);
        let problems = target_problems(
            target,
            &provider.name,
            client.as_ref(),
            &pool.identity_providers,
        );
        if let Some(p) = problems.into_iter().next() {
            return Err(FederationError::IdpInitiatedTarget(p.message));
        }
        let params = AuthorizeParams {
            response_type: Some("code".into()),
            client_id: Some(target.client_id.clone()),
            redirect_uri: Some(target.redirect_uri.clone()),
            scope: (!target.scopes.is_empty()).then(|| target.scopes.join(" ")),
            identity_provider: Some(provider.name.clone()),
            ..AuthorizeParams::default()
        };
        match authorize::validate(self.store.as_ref(), &params).await {
            Ok((request, _)) => Ok(request),
            Err(AuthorizeError::Redirect { error, .. }) => {
                Err(FederationError::IdpInitiatedTarget(error.description))
            }
            Err(AuthorizeError::Page(e)) => Err(FederationError::IdpInitiatedTarget(format!(
                "the client or redirect URI is refused ({e:?})"
            ))),
        }
    }
}
