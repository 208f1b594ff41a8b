//! The token endpoint's grants (RFC 6749 sections 4.1.3, 4.4 and 6), revocation (RFC 7009)
//! and token families.
//!
//! Every token issued from one sign-in shares an `origin_jti` (the family). Refresh tokens
//! are stored under their SHA-256 hash. A family is revoked by `/oauth2/revoke`, by an
//! authorization code replayed by its own client (a code presented by anyone else is
//! refused before it is consumed, and changes nothing), by a rotated-out refresh token
//! presented after its grace period, or by a refresh token presented after the user was
//! signed out everywhere ([`crate::core::signout`]); its access tokens are then refused too
//! (checked by `origin_jti`).
//!
//! Every kind of token asks the pool's pre token generation webhook first
//! ([`crate::core::triggers::pre_token`]): its changes are applied where the claims are
//! assembled ([`super::tokens::sign_tokens`]), and its failure refuses the tokens.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::authorize::{AuthCode, CODE_KIND, SPENT_CODE_KIND, SPENT_CODE_MEMORY_SECS};
use super::tokens::{sign_tokens, TokenRequest, TokenSubject};
use super::{parse_scopes, token_hash, ErrorCode, OAuthError};
use crate::core::keys::KeyService;
use crate::core::model::{AppClient, OAuthFlow, User};
use crate::core::secrets::{constant_time_eq, random_token};
use crate::core::secrets::{redacted, REDACTED};
use crate::core::signout;
use crate::core::storage::{Conflict, Store, StoreError, UserRef};
use crate::core::triggers::pre_token::{PreTokenInput, TokenOverrides, TokenSource};
use crate::core::triggers::{TriggerCaller, Webhooks};
use crate::core::UnixTime;

/// Store kind of refresh tokens (keyed by hash).
pub const REFRESH_KIND: &str = "refresh_token";
/// The access-token scope of the user pools API's sign-in (Cognito's
/// `aws.cognito.signin.user.admin`: the end-user actions of the API).
pub const API_SCOPE: &str = "aws.cognito.signin.user.admin";
/// Store kind of revoked families (keyed by `origin_jti`).
pub const REVOKED_FAMILY_KIND: &str = "revoked_family";

/// The token endpoint's JSON answer (RFC 6749 section 5.1).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub token_type: String,
    pub expires_in: i64,
}

impl std::fmt::Debug for TokenResponse {
    /// Bearer tokens: whoever reads them can use them, so they never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &REDACTED)
            .field("id_token", &redacted(&self.id_token))
            .field("refresh_token", &redacted(&self.refresh_token))
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// What a refresh token stands for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RefreshRecord {
    pool_id: String,
    client_id: String,
    sub: String,
    scopes: Vec<String>,
    auth_time: UnixTime,
    origin_jti: String,
    expires_at: UnixTime,
    /// When a newer token of the family replaced this one (rotation).
    rotated_at: Option<UnixTime>,
    /// The user's sign-out generation at the family's sign-in: the family ends when the
    /// user is signed out everywhere ([`crate::core::signout`]).
    #[serde(default)]
    sign_out_generation: Option<String>,
    /// A family started by the user pools API's sign-in (issue 14): its refreshes answer
    /// with an ID token too, as Cognito's `REFRESH_TOKEN_AUTH` does.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    api: bool,
}

/// The token service of one node.
#[derive(Clone)]
pub struct TokenService {
    store: std::sync::Arc<dyn Store>,
    keys: KeyService,
    public_url: String,
    /// The pre token generation trigger's caller, when this node calls webhooks.
    webhooks: Option<Webhooks>,
}

impl TokenService {
    pub fn new(store: std::sync::Arc<dyn Store>, keys: KeyService, public_url: String) -> Self {
        TokenService {
            store,
            keys,
            public_url,
            webhooks: None,
        }
    }

    /// Calls the pools' pre token generation webhooks before signing tokens.
    pub fn with_webhooks(mut self, webhooks: Webhooks) -> Self {
        self.webhooks = Some(webhooks);
        self
    }

    /// The pre token generation trigger's changes, when the pool has one: the single
    /// place every kind of token (hosted UI, API, refresh, client credentials) asks it.
    /// A failed webhook refuses the tokens.
    async fn pre_token(
        &self,
        pool_id: &str,
        source: TokenSource,
        input: PreTokenInput<'_>,
    ) -> Result<Option<TokenOverrides>, OAuthError> {
        let Some(webhooks) = &self.webhooks else {
            return Ok(None);
        };
        let Some(pool) = self.store.get_pool(pool_id).await? else {
            return Ok(None);
        };
        webhooks
            .pre_token_generation(&pool, source, input)
            .await
            .map_err(OAuthError::trigger)
    }

    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{}", self.public_url, pool_id)
    }

    pub fn keys(&self) -> &KeyService {
        &self.keys
    }

    /// `grant_type=authorization_code`.
    pub async fn exchange_code(
        &self,
        client: &AppClient,
        code: &str,
        redirect_uri: Option<&str>,
        code_verifier: Option<&str>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        if !client.allowed_oauth_flows.contains(&OAuthFlow::Code) {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "this app client may not use the authorization_code grant",
            ));
        }
        let hash = token_hash(code);
        let used = || {
            OAuthError::invalid_grant("The authorization code is invalid, expired or already used.")
        };
        let Some(text) = self.store.get_ephemeral(CODE_KIND, &hash, now).await? else {
            // A replayed code revokes what its first use issued (RFC 6749 section 4.1.2),
            // but only when its owner replays it (the binding holds: client, redirect URI,
            // PKCE verifier): another client holding a leaked code must not be able to end
            // the owner's sessions.
            if let Some(spent) = self
                .store
                .get_ephemeral(SPENT_CODE_KIND, &hash, now)
                .await?
            {
                let owner_replay = match serde_json::from_str::<AuthCode>(&spent) {
                    Ok(first) => check_binding(&first, client, redirect_uri, code_verifier)
                        .is_ok()
                        .then_some(first.origin_jti),
                    // A mark left before marks kept the binding holds the family alone.
                    Err(_) => Some(spent),
                };
                if let Some(origin) = owner_replay {
                    self.revoke_family(&origin, now + crate::core::model::MAX_REFRESH_SECS, now)
                        .await?;
                    tracing::warn!(client_id = %client.id, "authorization code replay: token family revoked");
                }
            }
            return Err(used());
        };
        let record: AuthCode = serde_json::from_str(&text).map_err(OAuthError::server_error)?;
        // The binding is checked before anything is consumed, on what was only read: a
        // code presented by another client, to another redirect URI or without its PKCE
        // verifier is refused and stays its owner's to redeem.
        check_binding(&record, client, redirect_uri, code_verifier)?;
        // Remember the code as spent (with its binding, for the replay check above) before
        // consuming it: of two concurrent redemptions one wins the take, and the other
        // finds the mark and revokes the family.
        match self
            .store
            .put_ephemeral(
                SPENT_CODE_KIND,
                &hash,
                &text,
                now + SPENT_CODE_MEMORY_SECS,
                now,
            )
            .await
        {
            Ok(()) => {}
            Err(StoreError::Conflict(Conflict::Exists)) => {
                self.revoke_family(
                    &record.origin_jti,
                    now + crate::core::model::MAX_REFRESH_SECS,
                    now,
                )
                .await?;
                return Err(used());
            }
            Err(e) => return Err(e.into()),
        }
        // Single use across nodes: the take is atomic, and what it removed must be the
        // record whose binding was checked.
        let taken = self.store.take_ephemeral(CODE_KIND, &hash, now).await?;
        if taken.as_deref() != Some(text.as_str()) {
            self.revoke_family(
                &record.origin_jti,
                now + crate::core::model::MAX_REFRESH_SECS,
                now,
            )
            .await?;
            return Err(used());
        }
        let user = self.active_user(&record.pool_id, &record.sub).await?;
        // One read gives both what the check needs and the generation the new family records.
        let signed_out =
            signout::state(self.store.as_ref(), &record.pool_id, &user.sub, now).await?;
        // A sign-in that the user's sign-out everywhere (a password reset) came after.
        if signed_out.predates(record.auth_time) {
            return Err(OAuthError::invalid_grant(
                "The user was signed out after this sign-in.",
            ));
        }
        let refresh = RefreshRecord {
            pool_id: record.pool_id.clone(),
            client_id: client.id.clone(),
            sub: user.sub.clone(),
            scopes: record.scopes.clone(),
            auth_time: record.auth_time,
            origin_jti: record.origin_jti.clone(),
            expires_at: now + client.token_validity.refresh_token_secs,
            rotated_at: None,
            sign_out_generation: signed_out.generation,
            api: false,
        };
        let mut response = self
            .user_tokens(
                client,
                &user,
                &refresh,
                record.nonce.as_deref(),
                TokenSource::HostedAuth,
                &BTreeMap::new(),
                now,
            )
            .await?;
        response.refresh_token = Some(self.store_refresh(&refresh, now).await?);
        Ok(response)
    }

    /// Tokens for a user who just signed in (the implicit flow's answer, and the code
    /// exchange's).
    pub async fn user_tokens_for_sign_in(
        &self,
        client: &AppClient,
        user: &User,
        scopes: &[String],
        auth_time: UnixTime,
        nonce: Option<&str>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        let family = RefreshRecord {
            pool_id: client.pool_id.clone(),
            client_id: client.id.clone(),
            sub: user.sub.clone(),
            scopes: scopes.to_vec(),
            auth_time,
            origin_jti: uuid::Uuid::new_v4().to_string(),
            expires_at: now + client.token_validity.refresh_token_secs,
            rotated_at: None,
            // No refresh token is issued here (implicit flow), so none to end.
            sign_out_generation: None,
            api: false,
        };
        self.user_tokens(
            client,
            user,
            &family,
            nonce,
            TokenSource::HostedAuth,
            &BTreeMap::new(),
            now,
        )
        .await
    }

    /// `client_metadata` is the request's `ClientMetadata` (the API's sign-in), for the
    /// pre token generation trigger.
    #[allow(clippy::too_many_arguments)]
    async fn user_tokens(
        &self,
        client: &AppClient,
        user: &User,
        family: &RefreshRecord,
        nonce: Option<&str>,
        source: TokenSource,
        client_metadata: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        // `at_hash` (OIDC Core 3.1.3.6) on the hosted UI's sign-in tokens; refreshed and
        // API tokens go without, as Cognito's.
        let with_at_hash = source == TokenSource::HostedAuth;
        let groups = self
            .store
            .groups_of_user(&family.pool_id, &user.sub)
            .await?;
        let overrides = self
            .pre_token(
                &family.pool_id,
                source,
                PreTokenInput {
                    user: Some(user),
                    groups: &groups,
                    scopes: &family.scopes,
                    caller: &TriggerCaller {
                        client_metadata: client_metadata.clone(),
                        ..TriggerCaller::client(&client.id)
                    },
                },
            )
            .await?;
        let issuer = self.issuer(&family.pool_id);
        let signed = sign_tokens(
            &self.keys,
            &TokenRequest {
                issuer: &issuer,
                pool_id: &family.pool_id,
                client,
                subject: Some(TokenSubject {
                    user,
                    groups: &groups,
                }),
                scopes: &family.scopes,
                auth_time: family.auth_time,
                origin_jti: &family.origin_jti,
                nonce,
                with_at_hash,
                id_token_always: family.api,
                overrides: overrides.as_ref(),
            },
            now,
        )
        .await?;
        Ok(TokenResponse {
            access_token: signed.access_token,
            id_token: signed.id_token,
            refresh_token: None,
            token_type: "Bearer".into(),
            expires_in: signed.expires_in,
        })
    }

    async fn store_refresh(
        &self,
        record: &RefreshRecord,
        now: UnixTime,
    ) -> Result<String, OAuthError> {
        let token = random_token::<32>();
        let value = serde_json::to_string(record).map_err(OAuthError::server_error)?;
        self.store
            .put_ephemeral(
                REFRESH_KIND,
                &token_hash(&token),
                &value,
                record.expires_at,
                now,
            )
            .await?;
        Ok(token)
    }

    async fn active_user(&self, pool_id: &str, sub: &str) -> Result<User, OAuthError> {
        match self
            .store
            .get_user(pool_id, &UserRef::Sub(sub.to_string()))
            .await?
        {
            Some(user) if user.enabled => Ok(user),
            Some(_) => Err(OAuthError::invalid_grant("The user is disabled.")),
            None => Err(OAuthError::invalid_grant("The user no longer exists.")),
        }
    }

    /// `grant_type=refresh_token`. With rotation on, the answer carries a new refresh
    /// token; the old one keeps working for the grace period, and presenting it later
    /// revokes the whole family (it was stolen or replayed).
    pub async fn refresh(
        &self,
        client: &AppClient,
        refresh_token: &str,
        client_metadata: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        let invalid = || OAuthError::invalid_grant("The refresh token is invalid or expired.");
        let hash = token_hash(refresh_token);
        let Some(text) = self.store.get_ephemeral(REFRESH_KIND, &hash, now).await? else {
            return Err(invalid());
        };
        let record: RefreshRecord =
            serde_json::from_str(&text).map_err(OAuthError::server_error)?;
        if record.client_id != client.id {
            return Err(invalid());
        }
        if self.is_family_revoked(&record.origin_jti, now).await? {
            return Err(invalid());
        }
        let signed_in = signout::is_current(
            self.store.as_ref(),
            &record.pool_id,
            &record.sub,
            record.sign_out_generation.as_deref(),
            now,
        )
        .await?;
        if !signed_in {
            // Signed out everywhere since: the family's access tokens end too.
            self.revoke_family(&record.origin_jti, record.expires_at, now)
                .await?;
            return Err(invalid());
        }
        let rotation = client.refresh_rotation;
        if let Some(rotated_at) = record.rotated_at {
            if !(rotation.enabled && now <= rotated_at + rotation.grace_period_secs) {
                self.revoke_family(&record.origin_jti, record.expires_at, now)
                    .await?;
                tracing::warn!(client_id = %client.id, "rotated-out refresh token reused: token family revoked");
                return Err(invalid());
            }
        }
        let user = self.active_user(&record.pool_id, &record.sub).await?;
        let mut response = self
            .user_tokens(
                client,
                &user,
                &record,
                None,
                TokenSource::RefreshTokens,
                client_metadata,
                now,
            )
            .await?;
        if rotation.enabled {
            if record.rotated_at.is_none() {
                let mut rotated = record.clone();
                rotated.rotated_at = Some(now);
                let new_value =
                    serde_json::to_string(&rotated).map_err(OAuthError::server_error)?;
                let swapped = self
                    .store
                    .replace_ephemeral(
                        REFRESH_KIND,
                        &hash,
                        &text,
                        &new_value,
                        record.expires_at,
                        now,
                    )
                    .await?;
                // Lost a race with a concurrent refresh: that one rotated first; we are
                // within its grace period by construction.
                let _ = swapped;
            }
            let successor = RefreshRecord {
                rotated_at: None,
                ..record
            };
            response.refresh_token = Some(self.store_refresh(&successor, now).await?);
        }
        Ok(response)
    }

    /// Tokens for a sign-in through the user pools API (`InitiateAuth` and its
    /// challenges, issue 14): the hosted UI's kind of tokens (same claims, keys, family,
    /// refresh record, sign-out generation and revocation), with Cognito's API scope
    /// `aws.cognito.signin.user.admin` on the access token, an ID token always, and a
    /// refresh token. `auth_time` is when the first factor was proven.
    pub async fn api_sign_in_tokens(
        &self,
        client: &AppClient,
        user: &User,
        auth_time: UnixTime,
        source: TokenSource,
        client_metadata: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        let signed_out =
            signout::state(self.store.as_ref(), &client.pool_id, &user.sub, now).await?;
        // A sign-in that a sign-out everywhere (a password reset) overtook mid-challenge.
        if signed_out.predates(auth_time) {
            return Err(OAuthError::invalid_grant(
                "The user was signed out after this sign-in.",
            ));
        }
        let family = RefreshRecord {
            pool_id: client.pool_id.clone(),
            client_id: client.id.clone(),
            sub: user.sub.clone(),
            scopes: vec![API_SCOPE.to_string()],
            auth_time,
            origin_jti: uuid::Uuid::new_v4().to_string(),
            expires_at: now + client.token_validity.refresh_token_secs,
            rotated_at: None,
            sign_out_generation: signed_out.generation,
            api: true,
        };
        let mut response = self
            .user_tokens(client, user, &family, None, source, client_metadata, now)
            .await?;
        response.refresh_token = Some(self.store_refresh(&family, now).await?);
        Ok(response)
    }

    /// Who a live refresh token belongs to, without using it: `(client id, sub)`. The
    /// user pools API reads it to check a `SECRET_HASH` computed over the token's user.
    pub async fn refresh_owner(
        &self,
        refresh_token: &str,
        now: UnixTime,
    ) -> Result<Option<(String, String)>, OAuthError> {
        let hash = token_hash(refresh_token);
        let Some(text) = self.store.get_ephemeral(REFRESH_KIND, &hash, now).await? else {
            return Ok(None);
        };
        let record: RefreshRecord =
            serde_json::from_str(&text).map_err(OAuthError::server_error)?;
        Ok(Some((record.client_id, record.sub)))
    }

    /// `grant_type=client_credentials`: an access token for the client itself, with
    /// resource-server scopes only.
    pub async fn client_credentials(
        &self,
        client: &AppClient,
        scope: Option<&str>,
        now: UnixTime,
    ) -> Result<TokenResponse, OAuthError> {
        if !client.is_confidential()
            || !client
                .allowed_oauth_flows
                .contains(&OAuthFlow::ClientCredentials)
        {
            return Err(OAuthError::new(
                ErrorCode::UnauthorizedClient,
                "this app client may not use the client_credentials grant",
            ));
        }
        let allowed: Vec<&String> = client
            .allowed_oauth_scopes
            .iter()
            .filter(|s| s.contains('/'))
            .collect();
        let scopes: Vec<String> = match scope {
            Some(s) if !s.trim().is_empty() => parse_scopes(s),
            _ => allowed.iter().map(|s| s.to_string()).collect(),
        };
        if scopes.is_empty() {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                "client_credentials needs at least one resource-server scope",
            ));
        }
        if let Some(bad) = scopes.iter().find(|s| !allowed.contains(s)) {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!("scope {bad} is not a resource-server scope of this app client"),
            ));
        }
        if let Some(bad) =
            super::retired_scope(self.store.as_ref(), &client.pool_id, &scopes).await?
        {
            return Err(OAuthError::new(
                ErrorCode::InvalidScope,
                format!("scope {bad} is no longer defined by the pool's resource servers"),
            ));
        }
        let overrides = self
            .pre_token(
                &client.pool_id,
                TokenSource::ClientCredentials,
                PreTokenInput {
                    user: None,
                    groups: &[],
                    scopes: &scopes,
                    caller: &TriggerCaller::client(&client.id),
                },
            )
            .await?;
        let issuer = self.issuer(&client.pool_id);
        let origin_jti = uuid::Uuid::new_v4().to_string();
        let signed = sign_tokens(
            &self.keys,
            &TokenRequest {
                issuer: &issuer,
                pool_id: &client.pool_id,
                client,
                subject: None,
                scopes: &scopes,
                auth_time: now,
                origin_jti: &origin_jti,
                nonce: None,
                with_at_hash: false,
                id_token_always: false,
                overrides: overrides.as_ref(),
            },
            now,
        )
        .await?;
        Ok(TokenResponse {
            access_token: signed.access_token,
            id_token: None,
            refresh_token: None,
            token_type: "Bearer".into(),
            expires_in: signed.expires_in,
        })
    }

    /// RFC 7009: revokes a refresh token and its whole family. Unknown tokens, and tokens
    /// of other clients, are answered the same (200) and left alone.
    pub async fn revoke(
        &self,
        client: &AppClient,
        token: &str,
        now: UnixTime,
    ) -> Result<(), OAuthError> {
        let hash = token_hash(token);
        let Some(text) = self.store.get_ephemeral(REFRESH_KIND, &hash, now).await? else {
            return Ok(());
        };
        let record: RefreshRecord =
            serde_json::from_str(&text).map_err(OAuthError::server_error)?;
        if record.client_id != client.id {
            return Ok(());
        }
        self.revoke_family(&record.origin_jti, record.expires_at, now)
            .await?;
        self.store.take_ephemeral(REFRESH_KIND, &hash, now).await?;
        Ok(())
    }

    /// Marks a family revoked until `until` (when its longest-lived token expires).
    pub async fn revoke_family(
        &self,
        origin_jti: &str,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), OAuthError> {
        match self
            .store
            .put_ephemeral(
                REVOKED_FAMILY_KIND,
                origin_jti,
                &now.to_string(),
                until.max(now + 1),
                now,
            )
            .await
        {
            Ok(()) | Err(StoreError::Conflict(Conflict::Exists)) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether the user was signed out everywhere after `issued_at`
    /// ([`crate::core::signout`]).
    pub async fn is_signed_out_since(
        &self,
        pool_id: &str,
        sub: &str,
        issued_at: UnixTime,
        now: UnixTime,
    ) -> Result<bool, OAuthError> {
        Ok(signout::is_signed_out_since(self.store.as_ref(), pool_id, sub, issued_at, now).await?)
    }

    pub async fn is_family_revoked(
        &self,
        origin_jti: &str,
        now: UnixTime,
    ) -> Result<bool, OAuthError> {
        Ok(self
            .store
            .get_ephemeral(REVOKED_FAMILY_KIND, origin_jti, now)
            .await?
            .is_some())
    }
}

/// Whether a code may be redeemed by this request: issued to this client, for this
/// redirect URI (RFC 6749 section 4.1.3), with the verifier of its PKCE challenge.
fn check_binding(
    record: &AuthCode,
    client: &AppClient,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<(), OAuthError> {
    if record.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "The authorization code was issued to another client.",
        ));
    }
    if redirect_uri != Some(record.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request.",
        ));
    }
    check_pkce(record.code_challenge.as_deref(), code_verifier)
}

/// RFC 7636 section 4.6 with RFC 9700 section 4.8.2: a verifier is required when the
/// request had a challenge, and refused when it had none.
fn check_pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent, but the authorization request had no code_challenge.",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is required.")),
        (Some(challenge), Some(verifier)) => {
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            let computed = pkce_challenge(verifier);
            if well_formed && constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge.",
                ))
            }
        }
    }
}

/// `BASE64URL(SHA256(verifier))` (RFC 7636 section 4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    token_hash(verifier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_tokens() {
        let response = TokenResponse {
            access_token: "access-token-value".into(),
            id_token: Some("id-token-value".into()),
            refresh_token: Some("refresh-token-value".into()),
            token_type: "Bearer".into(),
            expires_in: 3600,
        };
        let text = format!("{response:?}");
        for secret in [
            "access-token-value",
            "id-token-value",
            "refresh-token-value",
        ] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("Bearer") && text.contains("3600"), "{text}");
    }
}
