//! The identity API's end-user and developer actions, without HTTP: Cognito's GetId,
//! GetOpenIdToken, GetCredentialsForIdentity (the enhanced flow) and
//! GetOpenIdTokenForDeveloperIdentity
//! (<https://docs.aws.amazon.com/cognitoidentity/latest/APIReference/API_Operations.html>).
//! The edge (`web::aws::identity`) parses the JSON and renders [`IdentityError`] as AWS's
//! `__type` / `message`.
//!
//! `Logins` ([`IdentityService::verify_logins`]): a key is a Cognate user pool's issuer
//! without the scheme (`<public URL host[:port][/path]>/<poolId>`), or Cognito's spelling
//! `cognito-idp.<region>.amazonaws.com/<poolId>` for a local pool (its region must be the
//! pool id's), so app code written for Cognito works unchanged. The value is the pool's ID
//! token ([`verify_id_token`]: signature, issuer, expiry, revocation); its pool must be
//! the key's, the identity pool must list that user pool, and its `aud` must be a client
//! the identity pool lists for it (Cognito's `CognitoIdentityProviders[].ClientId`).
//!
//! Where Cognate differs from Cognito, on purpose:
//! - one Cognate user pool login per call: Cognito links several logins to one identity,
//!   Cognate keeps one login per identity (the store's `get_or_create_identity`), so a
//!   second pool token is refused (`InvalidParameterException`) rather than ignored;
//! - a guest identity presented with `Logins` is refused (`NotAuthorizedException`):
//!   Cognito would link the login to the guest identity; Cognate does not link, and the
//!   app calls GetId with its `Logins` to get the user's own identity;
//! - GetOpenIdTokenForDeveloperIdentity takes the developer login alone (a pool token
//!   beside it would ask for linking, refused as above) and, with an `IdentityId`, only the
//!   identity that already holds that developer login (no merging).
//!
//! Guest GetId writes without authentication, so it is rate-limited per client address
//! ([`GUEST_IDS_PER_WINDOW`] per [`GUEST_WINDOW_SECS`], IPv6 by /64) through the store's
//! shared counters: the attempt is counted before the identity is made, so a parallel
//! burst on any number of nodes cannot exceed the limit.
//!
//! With an upstream STS endpoint on the identity pool (issue 12, item 6),
//! GetCredentialsForIdentity does not vend: [`CredentialsOutcome::Upstream`] hands the
//! caller (the edge, which may call `federation::aws_sts`) a fresh OpenID token and the
//! resolved role ARN to exchange at AWS.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::credentials::{
    self, SessionGrant, SessionUser, VendedCredentials, DEFAULT_CREDENTIALS_SECS,
};
use super::mapping::resolve_role;
use super::openid::{
    IdentityTokenRequest, OpenIdTokens, DEFAULT_OPENID_TOKEN_SECS, MAX_OPENID_TOKEN_SECS,
};
use crate::core::admin::{AdminError, AdminService};
use crate::core::ids::is_valid_pool_id;
use crate::core::model::{is_identity_id, Identity, IdentityLogin, IdentityPool};
use crate::core::oauth::grants::TokenService;
use crate::core::oauth::verify::{verify_id_token, IdClaims};
use crate::core::oauth::ErrorCode;
use crate::core::secrets::MasterKey;
use crate::core::storage::{Store, UserRef};
use crate::core::UnixTime;

/// Guest identities one client address may create per window.
pub const GUEST_IDS_PER_WINDOW: i64 = 20;
/// The guest-identity rate limit's fixed window.
pub const GUEST_WINDOW_SECS: i64 = 300;
/// Cognito's limit on `Logins` entries.
pub const MAX_LOGINS: usize = 10;
/// GetOpenIdTokenForDeveloperIdentity's default `TokenDuration` (Cognito: 15 minutes).
pub const DEFAULT_DEVELOPER_TOKEN_SECS: i64 = 900;
/// Cognito's `DeveloperUserIdentifier` length limit.
pub const MAX_DEVELOPER_USER_ID_LEN: usize = 1024;

/// Cognito's key spelling for a user pool: `cognito-idp.<region>.amazonaws.com/<poolId>`.
const COGNITO_IDP_HOST_PREFIX: &str = "cognito-idp.";
const COGNITO_IDP_HOST_SUFFIX: &str = ".amazonaws.com";

/// AWS's messages (the edge sends them as they are).
pub mod messages {
    pub const LOGINS_DONT_MATCH: &str =
        "Logins don't match. Please include at least one valid login for this identity or identity pool.";
    pub const INVALID_LOGIN: &str =
        "Invalid login token. Not a valid OpenId Connect identity token.";
    pub const EXPIRED_LOGIN: &str = "Invalid login token. Token expired.";
    pub const ISSUER_MISMATCH: &str = "Invalid login token. Issuer doesn't match providerName";
    pub const UNSUPPORTED_PROVIDER: &str =
        "Token is not from a supported provider of this identity pool.";
    pub const UNAUTHENTICATED_DISABLED: &str =
        "Unauthenticated access is not supported for this identity pool.";
    pub const BAD_ROLE_CONFIG: &str =
        "Invalid identity pool configuration. Check assigned IAM roles for this pool.";
    pub const THROTTLED: &str = "Rate exceeded";
    pub const CLASSIC_FLOW_DISABLED: &str =
        "Basic (classic) flow is not enabled, please use enhanced flow.";
    pub const ONE_LOGIN: &str =
        "Cognate links one login per identity: send one user pool token in Logins.";
    pub const GUEST_WITH_LOGINS: &str =
        "Cognate does not link a login to an unauthenticated identity: call GetId with these Logins.";
    pub const BAD_DEVELOPER_PROVIDER: &str =
        "The developer provider name is not this identity pool's.";
}

/// Why an action is refused, as Cognito names its errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("NotAuthorizedException: {0}")]
    NotAuthorized(String),
    #[error("ResourceNotFoundException: {0}")]
    ResourceNotFound(String),
    #[error("InvalidParameterException: {0}")]
    InvalidParameter(String),
    #[error("InvalidIdentityPoolConfigurationException: {0}")]
    InvalidConfiguration(String),
    #[error("TooManyRequestsException: {0}")]
    TooManyRequests(String),
    /// A store or key failure: the detail is for the log, never the caller.
    #[error("internal: {0}")]
    Internal(String),
}

impl IdentityError {
    fn not_authorized(m: &str) -> Self {
        IdentityError::NotAuthorized(m.to_string())
    }

    fn internal(e: impl std::fmt::Display) -> Self {
        IdentityError::Internal(e.to_string())
    }

    /// AWS's `__type` (`None` for an internal error).
    pub fn aws_type(&self) -> Option<&'static str> {
        Some(match self {
            IdentityError::NotAuthorized(_) => "NotAuthorizedException",
            IdentityError::ResourceNotFound(_) => "ResourceNotFoundException",
            IdentityError::InvalidParameter(_) => "InvalidParameterException",
            IdentityError::InvalidConfiguration(_) => "InvalidIdentityPoolConfigurationException",
            IdentityError::TooManyRequests(_) => "TooManyRequestsException",
            IdentityError::Internal(_) => return None,
        })
    }

    /// The caller's message (empty for an internal error).
    pub fn message(&self) -> &str {
        match self {
            IdentityError::NotAuthorized(m)
            | IdentityError::ResourceNotFound(m)
            | IdentityError::InvalidParameter(m)
            | IdentityError::InvalidConfiguration(m)
            | IdentityError::TooManyRequests(m) => m,
            IdentityError::Internal(_) => "",
        }
    }
}

impl From<AdminError> for IdentityError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound { kind, id } => {
                IdentityError::ResourceNotFound(format!("{kind} '{id}' not found."))
            }
            other => IdentityError::internal(other),
        }
    }
}

type IdResult<T> = Result<T, IdentityError>;

/// A `Logins` entry that verified.
#[derive(Debug, Clone)]
pub struct VerifiedLogin {
    /// The user pool.
    pub pool_id: String,
    /// The canonical provider name `<public URL host[:port][/path]>/<poolId>` (the `amr`'s).
    pub provider_name: String,
    /// What the identity holds: (user pool id, sub).
    pub login: IdentityLogin,
    pub claims: IdClaims,
}

/// What GetCredentialsForIdentity decided.
#[derive(Debug)]
pub enum CredentialsOutcome {
    /// Cognate's own credentials, bound to the identity, the role and the user.
    Vended {
        identity_id: String,
        credentials: VendedCredentials,
    },
    /// The identity pool names an upstream STS: exchange `web_identity_token` there for
    /// `role_arn` (AssumeRoleWithWebIdentity), for `duration_secs`.
    Upstream {
        identity_id: String,
        endpoint: String,
        role_arn: String,
        web_identity_token: String,
        duration_secs: u32,
    },
}

/// The identity API's end-user and developer actions.
#[derive(Clone)]
pub struct IdentityService {
    store: Arc<dyn Store>,
    admin: AdminService,
    tokens: TokenService,
    openid: OpenIdTokens,
    master: Arc<MasterKey>,
    /// The public URL without its scheme: Cognate's Logins keys are `<this>/<poolId>`.
    issuer_host: String,
    region: String,
}

impl std::fmt::Debug for IdentityService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityService")
            .field("issuer_host", &self.issuer_host)
            .finish()
    }
}

impl IdentityService {
    /// `public_url` is the node's (`https://login.example.com[/path]`); `region` is
    /// `[server] region`, the prefix of new identity ids.
    pub fn new(
        store: Arc<dyn Store>,
        tokens: TokenService,
        openid: OpenIdTokens,
        master: Arc<MasterKey>,
        public_url: &str,
        region: &str,
    ) -> Self {
        let host = public_url
            .split_once("://")
            .map_or(public_url, |(_, rest)| rest)
            .trim_end_matches('/');
        IdentityService {
            admin: AdminService::new(store.clone()),
            store,
            tokens,
            openid,
            master,
            issuer_host: host.to_string(),
            region: region.to_string(),
        }
    }

    /// The canonical Logins key (and `amr` provider name) of a user pool.
    pub fn provider_name(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.issuer_host)
    }

    /// The public URL without its scheme: the prefix of every user pool's Logins key.
    pub fn issuer_host(&self) -> &str {
        &self.issuer_host
    }

    /// Verifies an identity pool's `Logins` (see the module doc). `Ok(None)` for no logins;
    /// more than one Cognate pool login is refused.
    pub async fn verify_logins(
        &self,
        pool: &IdentityPool,
        logins: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> IdResult<Option<VerifiedLogin>> {
        if logins.len() > MAX_LOGINS {
            return Err(IdentityError::InvalidParameter(format!(
                "Logins holds at most {MAX_LOGINS} entries."
            )));
        }
        let mut found: Option<VerifiedLogin> = None;
        for (key, token) in logins {
            let Some(key_pool) = pool_of_key(&self.issuer_host, key) else {
                return Err(IdentityError::not_authorized(
                    messages::UNSUPPORTED_PROVIDER,
                ));
            };
            let Some(listed) = pool.user_pools.iter().find(|u| u.pool_id == key_pool) else {
                return Err(IdentityError::not_authorized(
                    messages::UNSUPPORTED_PROVIDER,
                ));
            };
            if found.is_some() {
                return Err(IdentityError::InvalidParameter(messages::ONE_LOGIN.into()));
            }
            let (token_pool, claims) = match verify_id_token(&self.tokens, token, now).await {
                Ok(v) => v,
                Err(e) if e.code == ErrorCode::InvalidToken => {
                    tracing::info!(reason = %e.description, "identity pool login refused");
                    let message = if e.description.contains("expired") {
                        messages::EXPIRED_LOGIN
                    } else {
                        messages::INVALID_LOGIN
                    };
                    return Err(IdentityError::not_authorized(message));
                }
                Err(e) => return Err(IdentityError::internal(e.description)),
            };
            if token_pool != key_pool {
                return Err(IdentityError::not_authorized(messages::ISSUER_MISMATCH));
            }
            // The token's audience must be a client the identity pool lists for this pool.
            let audience_ok = pool
                .user_pools
                .iter()
                .any(|u| u.pool_id == token_pool && u.client_id == claims.aud);
            if !audience_ok {
                tracing::info!(pool = %listed.pool_id, "identity pool login refused: audience");
                return Err(IdentityError::not_authorized(messages::INVALID_LOGIN));
            }
            // The user must still exist and be enabled: a token issued before the user was
            // disabled or deleted gets no identity and no credentials (Cognito checks the
            // user pool too when ServerSideTokenCheck is on; Cognate always does).
            let user = self
                .store
                .get_user(&token_pool, &UserRef::Sub(claims.sub.clone()))
                .await
                .map_err(IdentityError::internal)?;
            if !user.is_some_and(|u| u.enabled) {
                tracing::info!(pool = %token_pool, "identity pool login refused: user disabled or gone");
                return Err(IdentityError::not_authorized(messages::INVALID_LOGIN));
            }
            found = Some(VerifiedLogin {
                provider_name: self.provider_name(&token_pool),
                login: IdentityLogin {
                    provider: token_pool.clone(),
                    subject: claims.sub.clone(),
                },
                pool_id: token_pool,
                claims,
            });
        }
        Ok(found)
    }

    /// The identity pool, or `ResourceNotFoundException` (also for a malformed id).
    async fn identity_pool(&self, id: &str) -> IdResult<IdentityPool> {
        if !is_identity_id(id) {
            return Err(IdentityError::ResourceNotFound(format!(
                "IdentityPool '{id}' not found."
            )));
        }
        self.store
            .get_identity_pool(id)
            .await
            .map_err(IdentityError::internal)?
            .ok_or_else(|| {
                IdentityError::ResourceNotFound(format!("IdentityPool '{id}' not found."))
            })
    }

    /// GetId: the identity of the verified login (stable per identity pool, user pool and
    /// `sub`), or a new guest identity when the pool allows guests and `client_ip` is
    /// within its rate limit.
    pub async fn get_id(
        &self,
        identity_pool_id: &str,
        logins: &BTreeMap<String, String>,
        client_ip: IpAddr,
        now: UnixTime,
    ) -> IdResult<String> {
        let pool = self.identity_pool(identity_pool_id).await?;
        let verified = self.verify_logins(&pool, logins, now).await?;
        if verified.is_none() {
            if !pool.allow_unauthenticated {
                return Err(IdentityError::not_authorized(
                    messages::UNAUTHENTICATED_DISABLED,
                ));
            }
            self.reserve_guest(client_ip, now).await?;
        }
        let login = verified.as_ref().map(|v| &v.login);
        let identity = self
            .admin
            .get_or_create_identity(&pool.id, login, &self.region, now)
            .await?;
        Ok(identity.id)
    }

    /// Counts a guest GetId for `ip` before the identity is made; refuses over the limit.
    async fn reserve_guest(&self, ip: IpAddr, now: UnixTime) -> IdResult<()> {
        let key = format!("identity-guest:{}", address_bucket(ip));
        let window_end = now - now.rem_euclid(GUEST_WINDOW_SECS) + GUEST_WINDOW_SECS;
        let count = self
            .store
            .increment_counter(&key, window_end, now)
            .await
            .map_err(IdentityError::internal)?;
        if count > GUEST_IDS_PER_WINDOW {
            return Err(IdentityError::TooManyRequests(messages::THROTTLED.into()));
        }
        Ok(())
    }

    /// The identity, its pool and its verified login, checked as GetOpenIdToken and
    /// GetCredentialsForIdentity check them: an authenticated identity requires `Logins`
    /// that verify and that it holds; a guest identity takes no `Logins` and needs the
    /// pool to still allow guests.
    async fn authorize_identity(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> IdResult<(Identity, IdentityPool, Option<VerifiedLogin>)> {
        let not_found =
            || IdentityError::ResourceNotFound(format!("Identity '{identity_id}' not found."));
        if !is_identity_id(identity_id) {
            return Err(not_found());
        }
        let identity = self
            .store
            .get_identity(identity_id)
            .await
            .map_err(IdentityError::internal)?
            .ok_or_else(not_found)?;
        let pool = self.identity_pool(&identity.identity_pool_id).await?;
        if identity.logins.is_empty() {
            if !logins.is_empty() {
                return Err(IdentityError::not_authorized(messages::GUEST_WITH_LOGINS));
            }
            if !pool.allow_unauthenticated {
                return Err(IdentityError::not_authorized(
                    messages::UNAUTHENTICATED_DISABLED,
                ));
            }
            return Ok((identity, pool, None));
        }
        if logins.is_empty() {
            return Err(IdentityError::not_authorized(messages::LOGINS_DONT_MATCH));
        }
        let verified = self.verify_logins(&pool, logins, now).await?;
        match verified {
            Some(v) if identity.logins.contains(&v.login) => Ok((identity, pool, Some(v))),
            _ => Err(IdentityError::not_authorized(messages::LOGINS_DONT_MATCH)),
        }
    }

    /// The `amr` of a token for this identity, as Cognito writes it.
    fn amr(&self, verified: Option<&VerifiedLogin>) -> Vec<String> {
        match verified {
            None => vec!["unauthenticated".into()],
            Some(v) => vec![
                "authenticated".into(),
                v.provider_name.clone(),
                format!("{}:CognitoSignIn:{}", v.provider_name, v.login.subject),
            ],
        }
    }

    /// GetOpenIdToken (the basic flow's first step): a 10-minute OpenID token for the
    /// identity. Returns (identity id, token).
    pub async fn get_open_id_token(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> IdResult<(String, String)> {
        let (identity, pool, verified) = self.authorize_identity(identity_id, logins, now).await?;
        // The basic flow is off unless the pool allows it (Cognito's AllowClassicFlow,
        // default false): its token is what STS's AssumeRoleWithWebIdentity takes.
        if !pool.allow_classic_flow {
            return Err(IdentityError::InvalidParameter(
                messages::CLASSIC_FLOW_DISABLED.into(),
            ));
        }
        let request = IdentityTokenRequest {
            identity_id: identity.id.clone(),
            identity_pool_id: pool.id,
            amr: self.amr(verified.as_ref()),
            ttl_secs: DEFAULT_OPENID_TOKEN_SECS,
        };
        let token = self
            .openid
            .issue(&request, now)
            .await
            .map_err(IdentityError::internal)?;
        Ok((identity.id, token))
    }

    /// GetCredentialsForIdentity (the enhanced flow): the role by the pool's mapping and
    /// the verified token's claims, which must exist and trust this identity pool and the
    /// identity's kind; credentials for at most an hour (the role's maximum if shorter).
    pub async fn get_credentials_for_identity(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        custom_role_arn: Option<&str>,
        now: UnixTime,
    ) -> IdResult<CredentialsOutcome> {
        let (identity, pool, verified) = self.authorize_identity(identity_id, logins, now).await?;
        let authenticated = verified.is_some();
        let empty = Map::<String, Value>::new();
        let (mapping, claims) = match &verified {
            Some(v) => (pool.role_mappings.get(&v.pool_id), &v.claims.all),
            None => (None, &empty),
        };
        let role_arn = resolve_role(&pool.roles, mapping, claims, authenticated, custom_role_arn)
            .map_err(|e| match e {
            super::mapping::MappingError::InvalidIdentityPoolConfiguration(m) => {
                IdentityError::InvalidConfiguration(m.into())
            }
            super::mapping::MappingError::NotAuthorized(m) => {
                IdentityError::NotAuthorized(m.into())
            }
            super::mapping::MappingError::InvalidParameter(m) => {
                IdentityError::InvalidParameter(m.into())
            }
        })?;
        if let Some(endpoint) = &pool.upstream_sts_endpoint {
            let request = IdentityTokenRequest {
                identity_id: identity.id.clone(),
                identity_pool_id: pool.id.clone(),
                amr: self.amr(verified.as_ref()),
                ttl_secs: DEFAULT_OPENID_TOKEN_SECS,
            };
            let web_identity_token = self
                .openid
                .issue(&request, now)
                .await
                .map_err(IdentityError::internal)?;
            return Ok(CredentialsOutcome::Upstream {
                identity_id: identity.id,
                endpoint: endpoint.clone(),
                role_arn,
                web_identity_token,
                duration_secs: DEFAULT_CREDENTIALS_SECS as u32,
            });
        }
        let role = self
            .store
            .get_role(&role_arn)
            .await
            .map_err(IdentityError::internal)?;
        let trusted = role.as_ref().filter(|r| {
            r.trust.trusts_pool(&pool.id)
                && if authenticated {
                    r.trust.amr.admits_authenticated()
                } else {
                    r.trust.amr.admits_unauthenticated()
                }
        });
        let Some(role) = trusted else {
            tracing::warn!(identity_pool = %pool.id, role = %role_arn,
                "identity pool role is missing or does not trust the pool");
            return Err(IdentityError::InvalidConfiguration(
                messages::BAD_ROLE_CONFIG.into(),
            ));
        };
        let secs = i64::from(role.max_session_secs).min(DEFAULT_CREDENTIALS_SECS);
        let grant = SessionGrant {
            identity_id: identity.id.clone(),
            identity_pool_id: pool.id.clone(),
            role_arn: role.arn.clone(),
            user: verified.as_ref().map(|v| SessionUser {
                pool_id: v.pool_id.clone(),
                sub: v.login.subject.clone(),
            }),
            authenticated,
            issued_at: now,
            expires_at: now + secs,
        };
        Ok(CredentialsOutcome::Vended {
            identity_id: identity.id,
            credentials: credentials::vend(&self.master, &grant),
        })
    }

    /// GetOpenIdTokenForDeveloperIdentity (the caller is an operator; the edge checked the
    /// signature): `logins` holds exactly the pool's developer provider name with the
    /// developer's user id. Returns (identity id, token).
    pub async fn get_open_id_token_for_developer_identity(
        &self,
        identity_pool_id: &str,
        identity_id: Option<&str>,
        logins: &BTreeMap<String, String>,
        token_duration: Option<i64>,
        now: UnixTime,
    ) -> IdResult<(String, String)> {
        let pool = self.identity_pool(identity_pool_id).await?;
        let ttl = token_duration.unwrap_or(DEFAULT_DEVELOPER_TOKEN_SECS);
        if !(1..=MAX_OPENID_TOKEN_SECS).contains(&ttl) {
            return Err(IdentityError::InvalidParameter(format!(
                "TokenDuration must be between 1 and {MAX_OPENID_TOKEN_SECS} seconds."
            )));
        }
        let Some(name) = pool.developer_provider_name.as_deref() else {
            return Err(IdentityError::not_authorized(
                messages::BAD_DEVELOPER_PROVIDER,
            ));
        };
        let (key, user_id) = match logins.iter().collect::<Vec<_>>().as_slice() {
            [(k, v)] => (k.as_str(), v.as_str()),
            [] => {
                return Err(IdentityError::InvalidParameter(
                    "Logins must name the developer provider.".into(),
                ))
            }
            _ => return Err(IdentityError::InvalidParameter(messages::ONE_LOGIN.into())),
        };
        if key != name {
            return Err(IdentityError::not_authorized(
                messages::BAD_DEVELOPER_PROVIDER,
            ));
        }
        if user_id.is_empty() || user_id.len() > MAX_DEVELOPER_USER_ID_LEN {
            return Err(IdentityError::InvalidParameter(format!(
                "The developer user identifier must be 1 to {MAX_DEVELOPER_USER_ID_LEN} characters."
            )));
        }
        let login = IdentityLogin {
            provider: name.to_string(),
            subject: user_id.to_string(),
        };
        let identity = match identity_id {
            Some(id) => {
                let held = self
                    .store
                    .get_identity(id)
                    .await
                    .map_err(IdentityError::internal)?
                    .filter(|i| i.identity_pool_id == pool.id && i.logins.contains(&login));
                held.ok_or_else(|| IdentityError::not_authorized(messages::LOGINS_DONT_MATCH))?
            }
            None => {
                self.admin
                    .get_or_create_identity(&pool.id, Some(&login), &self.region, now)
                    .await?
            }
        };
        let request = IdentityTokenRequest {
            identity_id: identity.id.clone(),
            identity_pool_id: pool.id.clone(),
            amr: vec![
                "authenticated".into(),
                name.to_string(),
                format!("{name}:{}:{user_id}", pool.id),
            ],
            ttl_secs: ttl,
        };
        let token = self
            .openid
            .issue(&request, now)
            .await
            .map_err(IdentityError::internal)?;
        Ok((identity.id, token))
    }
}

/// The user pool a Logins key names (`<issuer_host>/<poolId>`, or Cognito's
/// `cognito-idp.<region>.amazonaws.com/<poolId>` with the pool id's region), or `None`
/// for a key that names no pool of ours.
pub fn pool_of_key(issuer_host: &str, key: &str) -> Option<String> {
    let (host, pool_id) = key.rsplit_once('/')?;
    if !is_valid_pool_id(pool_id) {
        return None;
    }
    if host == issuer_host {
        return Some(pool_id.to_string());
    }
    let region = host
        .strip_prefix(COGNITO_IDP_HOST_PREFIX)?
        .strip_suffix(COGNITO_IDP_HOST_SUFFIX)?;
    let (pool_region, _) = pool_id.split_once('_')?;
    (region == pool_region).then(|| pool_id.to_string())
}

/// The rate limit's unit: an IPv4 address, or an IPv6 /64 (one host's usual share).
fn address_bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_keys_name_our_pools_in_both_spellings() {
        let host = "login.example.com:8443/auth";
        let ours = "login.example.com:8443/auth/eu-west-1_Abc123";
        assert_eq!(pool_of_key(host, ours).as_deref(), Some("eu-west-1_Abc123"));
        let cognito = "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123";
        assert_eq!(
            pool_of_key(host, cognito).as_deref(),
            Some("eu-west-1_Abc123")
        );
        for bad in [
            // Another region than the pool id's.
            "cognito-idp.us-east-1.amazonaws.com/eu-west-1_Abc123",
            // Another host, or ours without the path.
            "evil.example.com/eu-west-1_Abc123",
            "login.example.com:8443/eu-west-1_Abc123",
            "accounts.google.com",
            "login.example.com:8443/auth/not a pool",
            "",
        ] {
            assert_eq!(pool_of_key(host, bad), None, "{bad}");
        }
    }

    #[test]
    fn ipv6_addresses_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_bucket(a), address_bucket(b));
        assert_ne!(address_bucket(a), address_bucket(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_bucket(mapped), "192.0.2.7");
        assert_eq!(address_bucket("192.0.2.7".parse().unwrap()), "192.0.2.7");
    }
}
