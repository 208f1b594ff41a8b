//! Single logout (SAML Profiles 2.0 section 4.4) on the HTTP-Redirect binding, both ways.
//!
//! - SP-initiated: `/logout` of a session signed in through a SAML IdP that has a
//!   SingleLogoutService ends Cognate's session, then [`Federation::start_logout`] sends the
//!   browser to the IdP with a LogoutRequest signed with the pool's SP key (the sign-in's
//!   NameID and SessionIndex). The pending logout (pool, IdP, where the browser goes next)
//!   is kept in the shared store under the request's ID, which is also the RelayState;
//!   the IdP's LogoutResponse at `/saml2/logout` ([`Federation::finish_logout`]) must
//!   bring that RelayState back, be signed by that IdP (checked before its XML is read),
//!   answer that ID (`InResponseTo`), and is taken once.
//! - IdP-initiated: a LogoutRequest at `/saml2/logout` ([`Federation::idp_logout`]) must
//!   be signed by the metadata certificates of a pool's SAML IdP (checked over the query
//!   before its XML is read) and name that IdP as its Issuer; its Destination must be this service, its times current, its ID new
//!   (kept in the shared store). The user it names is then signed out everywhere in that
//!   pool ([`crate::core::signout`]: sessions and refresh tokens end on every node) and
//!   the IdP gets a signed LogoutResponse.
//!
//! The user is found by the NameID: every SAML sign-in records NameID -> user in the
//! shared store ([`SAML_SUBJECT_KIND`]) as long as its refresh tokens may live; without a
//! record, a NameID that is the user's link to the IdP (no `user_id_attribute`) is used.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::logout::{
    check_times, parse_logout_request, parse_logout_response, LogoutError, LogoutRequestOut,
    LogoutResponseOut, MessageKind, RedirectMessage, SLO_PATH, STATUS_REQUESTER, STATUS_SUCCESS,
    STATUS_UNKNOWN_PRINCIPAL,
};
use super::request::{self, redirect_message_url, RedirectError};
use super::response::xml::clip;
use crate::core::keys::KeyError;
use crate::core::model::{IdentityProvider, SamlSettings, UserPool};
use crate::core::oauth::token_hash;
use crate::core::session::SamlSubject;
use crate::core::signout;
use crate::core::storage::{Conflict, StoreError, UserRef};
use crate::core::UnixTime;
use crate::federation::error::FederationError;
use crate::federation::flow::Federation;
use crate::federation::saml::flow::SAML_SKEW_SECS;

/// The store kind of a LogoutRequest Cognate sent, keyed by its ID, until answered.
pub const SAML_LOGOUT_KIND: &str = "saml_logout";
/// How long Cognate waits for the IdP's LogoutResponse.
pub const SAML_LOGOUT_TTL_SECS: i64 = 600;
/// The store kind of the LogoutRequest ids received (replay cache).
pub const SAML_LOGOUT_SEEN_KIND: &str = "saml_logout_seen";
/// The store kind of NameID -> user records kept by SAML sign-ins.
pub const SAML_SUBJECT_KIND: &str = "saml_subject";

/// A LogoutRequest Cognate sent and waits an answer to.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct PendingLogout {
    pool_id: String,
    provider: String,
    /// Where the browser goes once the IdP answered (the client's `logout_uri`, or a new
    /// sign-in); `None`: the signed-out page.
    target: Option<String>,
}

/// What the edge does after an IdP-initiated logout.
#[derive(Debug)]
pub struct IdpLogoutDone {
    /// The signed LogoutResponse's URL at the IdP's SingleLogoutService; `None` when the
    /// IdP declares none (the browser gets a page).
    pub redirect: Option<String>,
    /// How many users were signed out.
    pub signed_out: usize,
}

fn saml_of(provider: &IdentityProvider) -> Option<&SamlSettings> {
    provider.protocol.as_saml()
}

fn certificates(saml: &SamlSettings) -> Vec<Vec<u8>> {
    saml.signing_certificates
        .iter()
        .filter_map(|c| STANDARD.decode(c.as_bytes()).ok())
        .collect()
}

fn subject_key(pool_id: &str, provider: &str, name_id: &str) -> String {
    token_hash(&format!("{pool_id}\n{provider}\n{name_id}"))
}

impl Federation {
    /// The single logout service's URL (every inbound message's Destination).
    pub fn slo_url(&self) -> String {
        format!("{}{SLO_PATH}", self.public_url.trim_end_matches('/'))
    }

    /// Signs a Redirect-binding message with the pool's active SP key.
    async fn signed_redirect(
        &self,
        pool: &UserPool,
        endpoint: &str,
        param: &str,
        xml: &str,
        relay_state: Option<&str>,
        now: UnixTime,
    ) -> Result<String, FederationError> {
        let key = self
            .sp_keys
            .active(&pool.id, now)
            .await
            .map_err(|e| FederationError::SpKey(e.to_string()))?;
        let sign = move |m: &[u8]| key.sign_rsa_sha256(m);
        let sign_ref: request::QuerySigner<'_, KeyError> = &sign;
        redirect_message_url(endpoint, param, xml, relay_state, Some(sign_ref)).map_err(|e| match e
        {
            RedirectError::Encode => FederationError::SamlRequest("deflating the message".into()),
            RedirectError::Sign(e) => FederationError::SpKey(e.to_string()),
        })
    }

    /// Records, after a SAML sign-in, which user the IdP's NameID names, until `until`
    /// (the sign-in's refresh tokens' end), for an IdP-initiated logout.
    pub(crate) async fn remember_saml_subject(
        &self,
        pool_id: &str,
        provider: &str,
        name_id: &str,
        sub: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), StoreError> {
        let id = subject_key(pool_id, provider, name_id);
        for _ in 0..4 {
            match self
                .store
                .get_ephemeral(SAML_SUBJECT_KIND, &id, now)
                .await?
            {
                Some(current) => {
                    if self
                        .store
                        .replace_ephemeral(SAML_SUBJECT_KIND, &id, &current, sub, until, now)
                        .await?
                    {
                        return Ok(());
                    }
                }
                None => match self
                    .store
                    .put_ephemeral(SAML_SUBJECT_KIND, &id, sub, until, now)
                    .await
                {
                    Ok(()) => return Ok(()),
                    Err(StoreError::Conflict(Conflict::Exists)) => {}
                    Err(e) => return Err(e),
                },
            }
        }
        Ok(())
    }

    /// SP-initiated logout: the URL of the IdP's SingleLogoutService with a signed
    /// LogoutRequest for `subject`, or `None` when the IdP (still a SAML IdP of the pool)
    /// has no SingleLogoutService. The caller has ended Cognate's session already.
    pub async fn start_logout(
        &self,
        pool: &UserPool,
        provider_name: &str,
        subject: &SamlSubject,
        target: Option<String>,
        now: UnixTime,
    ) -> Result<Option<String>, FederationError> {
        let Some(provider) = pool.identity_provider(provider_name) else {
            return Ok(None);
        };
        let Some(saml) = saml_of(provider) else {
            return Ok(None);
        };
        let Some(slo) = saml.slo_redirect_url.as_deref() else {
            return Ok(None);
        };
        let id = request::new_request_id();
        let xml = LogoutRequestOut {
            id: &id,
            issue_instant: now,
            destination: slo,
            sp_entity_id: &pool.sp_entity_id(),
            name_id: &subject.name_id,
            name_id_format: subject.name_id_format.as_deref(),
            session_index: subject.session_index.as_deref(),
        }
        .to_xml();
        let pending = PendingLogout {
            pool_id: pool.id.clone(),
            provider: provider.name.clone(),
            target,
        };
        let value = serde_json::to_string(&pending)
            .map_err(|e| FederationError::SamlRequest(e.to_string()))?;
        self.store
            .put_ephemeral(
                SAML_LOGOUT_KIND,
                &id,
                &value,
                now + SAML_LOGOUT_TTL_SECS,
                now,
            )
            .await?;
        let url = self
            .signed_redirect(pool, slo, "SAMLRequest", &xml, Some(&id), now)
            .await?;
        Ok(Some(url))
    }

    /// The IdP's LogoutResponse to Cognate's LogoutRequest: it must answer a pending
    /// request, come from that request's IdP, be signed by it and name this service as
    /// Destination. Answers where the browser goes next. A non-success status is logged
    /// (Cognate's session ended before the browser left).
    pub async fn finish_logout(
        &self,
        message: &RedirectMessage,
        now: UnixTime,
    ) -> Result<Option<String>, FederationError> {
        if message.kind != MessageKind::Response {
            return Err(LogoutError::WrongMessage("LogoutResponse").into());
        }
        // The RelayState Cognate sent is its LogoutRequest's ID: the pending logout, and
        // so the IdP whose signature to check, are found before any XML is parsed.
        let id = message
            .relay_state
            .as_deref()
            .filter(|r| request::is_request_id(r))
            .ok_or(FederationError::SamlLogoutUnknown)?;
        let pending: PendingLogout =
            match self.store.get_ephemeral(SAML_LOGOUT_KIND, id, now).await? {
                Some(text) => {
                    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?
                }
                None => return Err(FederationError::SamlLogoutUnknown),
            };
        let pool = self.directory.pool(&pending.pool_id).await?;
        let saml = pool
            .identity_provider(&pending.provider)
            .and_then(saml_of)
            .ok_or_else(|| FederationError::UnknownProvider(pending.provider.clone()))?;
        message.verify_signature(&certificates(saml), saml.allow_sha1)?;
        let response = parse_logout_response(&message.xml)?;
        if response.in_response_to != id {
            return Err(FederationError::SamlLogoutUnknown);
        }
        if response.issuer != saml.entity_id {
            return Err(FederationError::SamlLogoutIssuer(clip(&response.issuer)));
        }
        if let Some(destination) = &response.destination {
            if *destination != self.slo_url() {
                return Err(LogoutError::Destination(clip(destination)).into());
            }
        }
        // Answered once.
        if self
            .store
            .take_ephemeral(SAML_LOGOUT_KIND, id, now)
            .await?
            .is_none()
        {
            return Err(FederationError::SamlLogoutUnknown);
        }
        if response.status != STATUS_SUCCESS {
            tracing::warn!(provider = %pending.provider, status = %clip(&response.status),
                "the identity provider did not complete the single logout");
        }
        Ok(pending.target)
    }

    /// An IdP-initiated LogoutRequest: signed (checked over the query before the XML is
    /// read) by the metadata certificates of the IdP its Issuer names, current, never seen; its user is signed out everywhere in every pool
    /// where that IdP's signature verified, and the IdP gets a signed LogoutResponse.
    pub async fn idp_logout(
        &self,
        message: &RedirectMessage,
        now: UnixTime,
    ) -> Result<IdpLogoutDone, FederationError> {
        if message.kind != MessageKind::Request {
            return Err(LogoutError::WrongMessage("LogoutRequest").into());
        }
        if !message.is_signed() {
            return Err(LogoutError::Unsigned.into());
        }
        // Authenticated before any XML is parsed: the signature over the query must
        // verify with the metadata certificates of some pool's SAML IdP.
        let pools = self.store.list_pools().await?;
        let mut verified: Vec<(&UserPool, &IdentityProvider, &SamlSettings)> = Vec::new();
        let mut refusal = LogoutError::BadSignature;
        for pool in &pools {
            for provider in &pool.identity_providers {
                let Some(saml) = saml_of(provider) else {
                    continue;
                };
                match message.verify_signature(&certificates(saml), saml.allow_sha1) {
                    Ok(()) => verified.push((pool, provider, saml)),
                    Err(LogoutError::Unsigned) => return Err(LogoutError::Unsigned.into()),
                    Err(e @ LogoutError::SignatureAlgorithm(_)) => refusal = e,
                    Err(_) => {}
                }
            }
        }
        if verified.is_empty() {
            return Err(refusal.into());
        }
        // Then read, and kept only for the IdPs that are its Issuer.
        let request = parse_logout_request(&message.xml)?;
        verified.retain(|(_, _, saml)| saml.entity_id == request.issuer);
        if verified.is_empty() {
            return Err(FederationError::SamlLogoutIssuer(clip(&request.issuer)));
        }
        match &request.destination {
            Some(d) if *d == self.slo_url() => {}
            Some(d) => return Err(LogoutError::Destination(clip(d)).into()),
            None => return Err(LogoutError::Field("Destination").into()),
        }
        let keep_until = check_times(&request, now, SAML_SKEW_SECS)?;
        match self
            .store
            .put_ephemeral(
                SAML_LOGOUT_SEEN_KIND,
                &token_hash(&format!("{}\n{}", request.issuer, request.id)),
                "1",
                keep_until,
                now,
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(FederationError::SamlLogoutReplay),
            Err(e) => return Err(e.into()),
        }
        let mut signed_out = 0;
        for (pool, provider, saml) in &verified {
            let key = subject_key(&pool.id, &provider.name, &request.name_id.value);
            let mut sub = self
                .store
                .get_ephemeral(SAML_SUBJECT_KIND, &key, now)
                .await?;
            if sub.is_none() && saml.user_id_attribute.is_none() {
                let link = UserRef::Federated(provider.name.clone(), request.name_id.value.clone());
                sub = self.store.get_user(&pool.id, &link).await?.map(|u| u.sub);
            }
            if let Some(sub) = sub {
                signout::sign_out_everywhere(self.store.as_ref(), &pool.id, &sub, now).await?;
                tracing::info!(pool = %pool.id, provider = %provider.name,
                    "signed a user out everywhere at the identity provider's LogoutRequest");
                signed_out += 1;
            }
        }
        let (pool, _, saml) = verified[0];
        let Some(slo) = saml.slo_redirect_url.as_deref() else {
            return Ok(IdpLogoutDone {
                redirect: None,
                signed_out,
            });
        };
        let (status, sub_status) = if signed_out > 0 {
            (STATUS_SUCCESS, None)
        } else {
            (STATUS_REQUESTER, Some(STATUS_UNKNOWN_PRINCIPAL))
        };
        let xml = LogoutResponseOut {
            id: &request::new_request_id(),
            issue_instant: now,
            destination: slo,
            in_response_to: &request.id,
            sp_entity_id: &pool.sp_entity_id(),
            status,
            sub_status,
        }
        .to_xml();
        let url = self
            .signed_redirect(
                pool,
                slo,
                "SAMLResponse",
                &xml,
                message.relay_state.as_deref(),
                now,
            )
            .await?;
        Ok(IdpLogoutDone {
            redirect: Some(url),
            signed_out,
        })
    }
}
