//! STS's AssumeRoleWithWebIdentity for the identity service's own OpenID tokens (Cognito's
//! "basic (classic) authflow": GetOpenIdToken, then STS with that token).
//!
//! [`assume_role_with_web_identity`] verifies the token ([`OpenIdTokens::verify`]: our
//! issuer, our keys, unexpired), then checks the role's trust as IAM would check a trust
//! policy conditioned on `cognito-identity.amazonaws.com:aud` and `:amr`:
//! - the token's `aud` (its identity pool) is among the pools the role trusts: another
//!   pool's token never gets this pool's role;
//! - the token's `amr` holds `authenticated` or `unauthenticated` and the role's trust
//!   admits that kind: a guest token never gets a role that trusts only authenticated
//!   identities.
//!
//! The identity must still exist in that pool; when one of its logins is a user pool that
//! the identity pool accepts, that user goes into the grant, so the authorization check
//! stops the credentials as soon as the user is disabled. The answer carries vended
//! [`credentials`] for `DurationSeconds` (900 to the role's maximum, one hour by default)
//! and the assumed-role user: `arn:aws:sts::<role's account>:assumed-role/<role
//! name>/<session name>` and an id `AROA<16 of [A-Z2-7]>:<session name>`, the `AROA` part
//! derived from the role ARN (SHA-256) so it is stable across nodes and calls.
//!
//! Errors are STS's: `InvalidIdentityToken` (not our token, or its identity is gone),
//! `ExpiredTokenException`, `AccessDenied` (the role does not exist or does not trust the
//! token), `ValidationError` (parameters).

use std::sync::Arc;

use super::credentials::{self, SessionGrant, SessionUser, VendedCredentials};
use super::openid::{OpenIdClaims, OpenIdError, OpenIdTokens};
use crate::core::model::DEFAULT_ROLE_SESSION_SECS;
use crate::core::model::MIN_ROLE_SESSION_SECS;
use crate::core::secrets::MasterKey;
use crate::core::storage::{Store, StoreError};
use crate::core::UnixTime;

/// What the caller asks for.
#[derive(Debug, Clone)]
pub struct WebIdentityRequest<'a> {
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub web_identity_token: &'a str,
    pub duration_secs: Option<i64>,
}

/// The answer.
#[derive(Debug, Clone)]
pub struct AssumedRole {
    pub credentials: VendedCredentials,
    pub grant: SessionGrant,
    /// `arn:aws:sts::<account>:assumed-role/<role name>/<session name>`.
    pub assumed_role_arn: String,
    /// `AROA...:<session name>`.
    pub assumed_role_id: String,
    /// The token's `sub` (the identity id).
    pub subject: String,
    /// The token's `aud` (the identity pool id).
    pub audience: String,
}

#[derive(Debug, thiserror::Error)]
pub enum StsError {
    #[error("{0}")]
    Validation(String),
    /// Not our token or its identity is gone (detail for the log).
    #[error("invalid web identity token: {0}")]
    InvalidToken(String),
    #[error("the web identity token has expired")]
    ExpiredToken,
    /// The role is unknown or its trust refuses the token (detail for the log).
    #[error("access denied: {0}")]
    AccessDenied(&'static str),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("identity keys: {0}")]
    Keys(OpenIdError),
}

/// The role name of `arn:aws:iam::<acct>:role/<path/>name` and its account.
pub fn role_name_and_account(role_arn: &str) -> Option<(&str, &str)> {
    let rest = role_arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path = resource.strip_prefix("role/")?;
    let name = path.rsplit('/').next()?;
    (!name.is_empty()).then_some((name, account))
}

/// IAM's `roleSessionNameType`: 2 to 64 of `[\w+=,.@-]`.
pub fn valid_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// A stable `AROA` id for a role ARN.
pub fn role_id(role_arn: &str) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, role_arn.as_bytes());
    let id: String = digest.as_ref()[..16]
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect();
    format!("AROA{id}")
}

/// AssumeRoleWithWebIdentity (see the module doc).
pub async fn assume_role_with_web_identity(
    store: &Arc<dyn Store>,
    master: &MasterKey,
    tokens: &OpenIdTokens,
    req: &WebIdentityRequest<'_>,
    now: UnixTime,
) -> Result<AssumedRole, StsError> {
    if !valid_session_name(req.role_session_name) {
        return Err(StsError::Validation(
            "RoleSessionName must be 2 to 64 characters of [\\w+=,.@-].".into(),
        ));
    }
    let Some((role_name, account)) = role_name_and_account(req.role_arn) else {
        return Err(StsError::Validation(format!(
            "{} is not a valid role ARN.",
            req.role_arn
        )));
    };
    let claims: OpenIdClaims = match tokens.verify(req.web_identity_token, now).await {
        Ok(c) => c,
        Err(OpenIdError::Expired) => return Err(StsError::ExpiredToken),
        Err(OpenIdError::Invalid(why)) => return Err(StsError::InvalidToken(why.into())),
        Err(e) => return Err(StsError::Keys(e)),
    };
    let authenticated = match (
        claims.amr.iter().any(|a| a == "authenticated"),
        claims.amr.iter().any(|a| a == "unauthenticated"),
    ) {
        (true, false) => true,
        (false, true) => false,
        _ => return Err(StsError::InvalidToken("amr is neither kind".into())),
    };
    let Some(role) = store.get_role(req.role_arn).await? else {
        return Err(StsError::AccessDenied("no such role"));
    };
    if !role.trust.trusts_pool(&claims.aud) {
        return Err(StsError::AccessDenied("the role does not trust this pool"));
    }
    let admitted = if authenticated {
        role.trust.amr.admits_authenticated()
    } else {
        role.trust.amr.admits_unauthenticated()
    };
    if !admitted {
        return Err(StsError::AccessDenied(
            "the role does not trust this kind of identity",
        ));
    }
    let max = i64::from(role.max_session_secs);
    let duration = req
        .duration_secs
        .unwrap_or(i64::from(DEFAULT_ROLE_SESSION_SECS).min(max));
    if duration < i64::from(MIN_ROLE_SESSION_SECS) || duration > max {
        return Err(StsError::Validation(format!(
            "The requested DurationSeconds exceeds the MaxSessionDuration set for this role (or is under {MIN_ROLE_SESSION_SECS})."
        )));
    }
    let identity = match store.get_identity(&claims.sub).await? {
        Some(i) if i.identity_pool_id == claims.aud => i,
        _ => return Err(StsError::InvalidToken("the identity is gone".into())),
    };
    let user = if authenticated {
        let accepted = store
            .get_identity_pool(&claims.aud)
            .await?
            .map(|p| p.user_pools)
            .unwrap_or_default();
        identity
            .logins
            .iter()
            .find(|l| accepted.iter().any(|u| u.pool_id == l.provider))
            .map(|l| SessionUser {
                pool_id: l.provider.clone(),
                sub: l.subject.clone(),
            })
    } else {
        None
    };
    let grant = SessionGrant {
        identity_id: claims.sub.clone(),
        identity_pool_id: claims.aud.clone(),
        role_arn: role.arn.clone(),
        user,
        authenticated,
        issued_at: now,
        expires_at: now + duration,
    };
    let credentials = credentials::vend(master, &grant);
    Ok(AssumedRole {
        credentials,
        assumed_role_arn: format!(
            "arn:aws:sts::{account}:assumed-role/{role_name}/{}",
            req.role_session_name
        ),
        assumed_role_id: format!("{}:{}", role_id(&role.arn), req.role_session_name),
        grant,
        subject: claims.sub,
        audience: claims.aud,
    })
}

/// The assumed-role ARN of a session grant (GetCallerIdentity for vended credentials),
/// named `session_name`.
pub fn assumed_role_arn(grant: &SessionGrant, session_name: &str) -> Option<String> {
    let (name, account) = role_name_and_account(&grant.role_arn)?;
    Some(format!(
        "arn:aws:sts::{account}:assumed-role/{name}/{session_name}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_and_session_names() {
        assert_eq!(
            role_name_and_account("arn:aws:iam::123456789012:role/app/Users"),
            Some(("Users", "123456789012"))
        );
        assert_eq!(role_name_and_account("arn:aws:iam::1:user/x"), None);
        assert_eq!(role_name_and_account("arn:aws:iam::1:role/"), None);
        assert!(valid_session_name("app-session.1@x"));
        assert!(!valid_session_name("a"));
        assert!(!valid_session_name("has space"));
        assert!(!valid_session_name(&"a".repeat(65)));
        let id = role_id("arn:aws:iam::1:role/r");
        assert_eq!(id.len(), 20);
        assert_eq!(id, role_id("arn:aws:iam::1:role/r"));
        assert_ne!(id, role_id("arn:aws:iam::1:role/s"));
    }
}
