//! The authorization check for resource servers (issue 12, item 5): "may the holder of
//! these vended credentials do `action` on `resource`, as this signed request shows?"
//!
//! A resource server receives a request SigV4-signed with credentials vended by Cognate
//! (GetCredentialsForIdentity or AssumeRoleWithWebIdentity: access key id `ASIA...`, the
//! session token in `x-amz-security-token`). It cannot verify the signature itself (it
//! holds no secret), so it forwards the request's canonical parts (method, raw path, raw
//! query, headers, the body or its SHA-256) with the service name and region it expects,
//! and the IAM action and resource ARN the request means. [`Authorizer::check`] then, in
//! order:
//!
//! 1. opens the session token bound to the access key id ([`credentials::open`]): a
//!    tampered token, one of another key id or another deployment, and expired
//!    credentials are denied;
//! 2. verifies the SigV4 signature with the session's secret ([`sigv4::verify_hashed`]):
//!    scope (region, service, date), `host` and `x-amz-date` signed, the token signed, the
//!    payload hash, the 15-minute clock window;
//! 3. checks the session is still live ([`live_role`]): the identity still exists in its
//!    pool, the user-pool user behind it still exists and is enabled (a disabled user's
//!    unexpired credentials stop at once), the role still exists and still trusts the pool;
//! 4. evaluates the role's policy AS STORED NOW (read at each check, so an edited policy
//!    applies to credentials already out) with the variables Cognito sets for identity
//!    pools: `cognito-identity.amazonaws.com:sub` (the identity id),
//!    `cognito-identity.amazonaws.com:aud` (the identity pool id) and
//!    `cognito-identity.amazonaws.com:amr` (`authenticated` or `unauthenticated`). No
//!    `aws:username` or `aws:userid`: a vended session has no IAM user behind it.
//!
//! The outcome is [`Check::Allow`] with the [`Principal`], or [`Check::Deny`] with the
//! [`DenyReason`], which is for the log only: the edge answers a bare `Deny`.
//! Variables are substituted as literal text by [`crate::core::policy`], so an identity id
//! holding `*` or `?` widens nothing.

use std::sync::Arc;

use serde::Serialize;

use super::credentials::{self, CredentialError, SessionGrant};
use crate::core::model::Role;
use crate::core::policy::{self, Decision, PolicyDocument, RequestContext};
use crate::core::secrets::MasterKey;
use crate::core::sigv4::{self, Expectation, SigV4Error};
use crate::core::storage::{Store, StoreError, UserRef};
use crate::core::UnixTime;

/// The policy variable holding the identity id.
pub const KEY_SUB: &str = "cognito-identity.amazonaws.com:sub";
/// The policy variable holding the identity pool id.
pub const KEY_AUD: &str = "cognito-identity.amazonaws.com:aud";
/// The policy variable holding `authenticated` or `unauthenticated`.
pub const KEY_AMR: &str = "cognito-identity.amazonaws.com:amr";

/// Why a session is no longer live (for the log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotLive {
    IdentityGone,
    UserGone,
    UserDisabled,
    RoleGone,
    RoleNoLongerTrustsPool,
    /// The user's login was unlinked from the identity.
    LoginUnlinked,
    /// A guest session, but the identity now has a login or the pool no longer admits
    /// guests.
    GuestAccessEnded,
}

/// The role of a live session, or why the session is not live: the identity exists in the
/// grant's pool and still holds the user's login (a guest's: no login, in a pool still
/// open to guests), the user (if any) exists and is enabled, the role exists and trusts
/// the pool for this kind of identity. Three or four primary-key reads.
pub async fn live_role(
    store: &dyn Store,
    grant: &SessionGrant,
) -> Result<Result<Role, NotLive>, StoreError> {
    let identity = match store.get_identity(&grant.identity_id).await? {
        Some(identity) if identity.identity_pool_id == grant.identity_pool_id => identity,
        _ => return Ok(Err(NotLive::IdentityGone)),
    };
    // A user's credentials need their login still linked to the identity (UnlinkIdentity
    // ends them); a guest's need the identity still a guest and the pool still open to
    // guests.
    match &grant.user {
        Some(user) => {
            let linked = identity
                .logins
                .iter()
                .any(|l| l.provider == user.pool_id && l.subject == user.sub);
            if !linked {
                return Ok(Err(NotLive::LoginUnlinked));
            }
        }
        None if !grant.authenticated => {
            let open = store
                .get_identity_pool(&grant.identity_pool_id)
                .await?
                .is_some_and(|p| p.allow_unauthenticated);
            if !identity.logins.is_empty() || !open {
                return Ok(Err(NotLive::GuestAccessEnded));
            }
        }
        // A developer identity: its login is the developer provider's.
        None => {}
    }
    if let Some(user) = &grant.user {
        match store
            .get_user(&user.pool_id, &UserRef::Sub(user.sub.clone()))
            .await?
        {
            None => return Ok(Err(NotLive::UserGone)),
            Some(u) if !u.enabled => return Ok(Err(NotLive::UserDisabled)),
            Some(_) => {}
        }
    }
    let Some(role) = store.get_role(&grant.role_arn).await? else {
        return Ok(Err(NotLive::RoleGone));
    };
    let kind_admitted = if grant.authenticated {
        role.trust.amr.admits_authenticated()
    } else {
        role.trust.amr.admits_unauthenticated()
    };
    if !role.trust.trusts_pool(&grant.identity_pool_id) || !kind_admitted {
        return Ok(Err(NotLive::RoleNoLongerTrustsPool));
    }
    Ok(Ok(role))
}

/// Whether the credentials of `grant` may still be used at all (see [`live_role`]).
pub async fn is_session_live(store: &dyn Store, grant: &SessionGrant) -> Result<bool, StoreError> {
    Ok(live_role(store, grant).await?.is_ok())
}

/// The policy variables of a session.
pub fn request_context(grant: &SessionGrant) -> RequestContext {
    let amr = if grant.authenticated {
        "authenticated"
    } else {
        "unauthenticated"
    };
    RequestContext::new()
        .with(KEY_SUB, grant.identity_id.clone())
        .with(KEY_AUD, grant.identity_pool_id.clone())
        .with(KEY_AMR, amr)
}

/// The request's body as the resource server forwards it.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// The body itself.
    Body(&'a [u8]),
    /// Its SHA-256, lowercase hex (checked to be 64 hex digits by the edge).
    Sha256Hex(&'a str),
}

/// One check.
#[derive(Debug, Clone, Copy)]
pub struct CheckRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a [(String, String)],
    pub payload: Payload<'a>,
    /// The SigV4 service name the resource server expects (`files`).
    pub service: &'a str,
    /// The region it expects.
    pub region: &'a str,
    /// `service:Action`.
    pub action: &'a str,
    pub resource: &'a str,
}

/// Who an allowed request was made by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    pub identity_id: String,
    pub identity_pool_id: String,
    pub role_arn: String,
    pub authenticated: bool,
    pub access_key_id: String,
    /// The user-pool user, for identities signed in through a Cognate user pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_sub: Option<String>,
}

/// Why a check denied (for the log only; callers see a bare deny).
#[derive(Debug, PartialEq, Eq)]
pub enum DenyReason {
    /// Not signed with vended credentials (no signature, an operator key, no token).
    NotSessionCredentials,
    /// The path is not in its one canonical spelling (dot segments, `//`, an encoded `.`
    /// or `/`): SigV4 signs the normalised path, so the resource server, which routes on
    /// the raw one, could serve another resource than the one checked.
    NonCanonicalPath,
    Credentials(CredentialError),
    Signature(SigV4Error),
    NotLive(NotLive),
    /// The stored policy no longer parses (cannot happen through `apply`; fail closed).
    UnreadablePolicy,
    Policy(Decision),
}

/// Whether a raw request path has one spelling only: absolute, no empty, `.` or `..`
/// segment, and no percent-encoded `.`, `/` or `\` (which a resource server might decode
/// into a segment separator or a dot segment after the check).
pub fn is_canonical_path(path: &str) -> bool {
    if !path.starts_with('/') {
        return false;
    }
    let lower = path.to_ascii_lowercase();
    if ["%2f", "%5c"].iter().any(|e| lower.contains(e)) {
        return false;
    }
    // Every segment is non-empty and not a dot segment, also when its dots are encoded
    // (`%2E` is a legal spelling of `.`); one trailing `/` is allowed (the root, a
    // "folder"), as SigV4's normalisation keeps it.
    let inner = &lower[1..];
    let inner = inner.strip_suffix('/').unwrap_or(inner);
    inner.is_empty()
        || inner.split('/').all(|seg| {
            let dots = seg.replace("%2e", ".");
            !seg.is_empty() && dots != "." && dots != ".."
        })
}

/// The outcome of a check.
#[derive(Debug, PartialEq, Eq)]
pub enum Check {
    Allow(Principal),
    Deny(DenyReason),
}

/// How many distinct policy texts the check keeps parsed.
const POLICY_CACHE_ENTRIES: u64 = 1024;

/// The authorization check over the store and the master key (built once per node: it
/// keeps the parsed policies).
#[derive(Clone)]
pub struct Authorizer {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    /// Parsed policies by their text: the role is still read at every check (an edited
    /// policy is new text, so it applies at once), but the same text is parsed once.
    policies: moka::future::Cache<String, Arc<PolicyDocument>>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer").finish_non_exhaustive()
    }
}

impl Authorizer {
    pub fn new(store: Arc<dyn Store>, master: Arc<MasterKey>) -> Self {
        Authorizer {
            store,
            master,
            policies: moka::future::Cache::new(POLICY_CACHE_ENTRIES),
        }
    }

    /// Decides `req` at `now` (see the module doc for the steps). `Err` only for a store
    /// failure.
    pub async fn check(&self, req: &CheckRequest<'_>, now: UnixTime) -> Result<Check, StoreError> {
        let body: &[u8] = match req.payload {
            Payload::Body(b) => b,
            Payload::Sha256Hex(_) => &[],
        };
        let signed = sigv4::Request {
            method: req.method,
            path: req.path,
            query: req.query,
            headers: req.headers,
            body,
        };
        if !is_canonical_path(req.path) {
            return Ok(Check::Deny(DenyReason::NonCanonicalPath));
        }
        let parts = match sigv4::parse_authorization(&signed) {
            Ok(p) => p,
            Err(e) => return Ok(Check::Deny(DenyReason::Signature(e))),
        };
        let Some(token) = parts.session_token.as_deref() else {
            return Ok(Check::Deny(DenyReason::NotSessionCredentials));
        };
        if !credentials::is_temporary_access_key_id(&parts.access_key_id) {
            return Ok(Check::Deny(DenyReason::NotSessionCredentials));
        }
        let (grant, secret) =
            match credentials::open(&self.master, &parts.access_key_id, token, now) {
                Ok(opened) => opened,
                Err(e) => return Ok(Check::Deny(DenyReason::Credentials(e))),
            };
        let services = [req.service];
        let expect = Expectation {
            region: req.region,
            services: &services,
        };
        let hash;
        let payload_hash = match req.payload {
            Payload::Body(b) => {
                hash =
                    sigv4::hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, b).as_ref());
                hash.as_str()
            }
            Payload::Sha256Hex(h) => h,
        };
        if let Err(e) = sigv4::verify_hashed(
            &signed,
            &parts,
            payload_hash,
            secret.expose().as_bytes(),
            &expect,
            now,
        ) {
            return Ok(Check::Deny(DenyReason::Signature(e)));
        }
        let role = match live_role(self.store.as_ref(), &grant).await? {
            Ok(role) => role,
            Err(why) => return Ok(Check::Deny(DenyReason::NotLive(why))),
        };
        let document = match self.policies.get(&role.policy).await {
            Some(document) => document,
            None => {
                let Ok(parsed) = PolicyDocument::parse(&role.policy) else {
                    return Ok(Check::Deny(DenyReason::UnreadablePolicy));
                };
                let parsed = Arc::new(parsed);
                self.policies
                    .insert(role.policy.clone(), parsed.clone())
                    .await;
                parsed
            }
        };
        let context = request_context(&grant);
        let decision = document.evaluate(&policy::Request {
            action: req.action,
            resource: req.resource,
            context: &context,
        });
        if !decision.is_allowed() {
            return Ok(Check::Deny(DenyReason::Policy(decision)));
        }
        Ok(Check::Allow(Principal {
            identity_id: grant.identity_id,
            identity_pool_id: grant.identity_pool_id,
            role_arn: grant.role_arn,
            authenticated: grant.authenticated,
            access_key_id: parts.access_key_id,
            user_pool_id: grant.user.as_ref().map(|u| u.pool_id.clone()),
            user_sub: grant.user.map(|u| u.sub),
        }))
    }
}

#[cfg(test)]
mod path_tests {
    use super::is_canonical_path;

    #[test]
    fn only_canonical_paths_are_checked() {
        for ok in [
            "/",
            "/files/us-east-1:abc/cat.jpg",
            "/files/a%20b",
            "/files/a%3Ab",
            "/files/a%2Etxt",
            "/files/folder/",
        ] {
            assert!(is_canonical_path(ok), "{ok}");
        }
        for bad in [
            "",
            "files/x",
            "/files/alice/../bob/x",
            "/files/./x",
            "/files//x",
            "/files/alice%2F..%2Fbob/x",
            "/files/alice%2f..%2fbob/x",
            "/files/%2E%2E/x",
            "/files/a%5Cb",
            "/files/x//",
        ] {
            assert!(!is_canonical_path(bad), "{bad}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(identity_id: &str) -> SessionGrant {
        SessionGrant {
            identity_id: identity_id.into(),
            identity_pool_id: "us-east-1:pool".into(),
            role_arn: "arn:aws:iam::000000000000:role/r".into(),
            user: None,
            authenticated: true,
            issued_at: 0,
            expires_at: 10,
        }
    }

    #[test]
    fn variables_are_literal_text() {
        let doc = PolicyDocument::parse(
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"files:GetObject",
            "Resource":"arn:cognate:files:::${cognito-identity.amazonaws.com:sub}/*"}]}"#,
        )
        .unwrap();
        let decide = |id: &str, resource: &str| {
            let ctx = request_context(&grant(id));
            doc.evaluate(&policy::Request {
                action: "files:GetObject",
                resource,
                context: &ctx,
            })
        };
        assert_eq!(
            decide("us-east-1:a", "arn:cognate:files:::us-east-1:a/x"),
            Decision::Allow
        );
        // An identity id holding a wildcard matches only itself, literally.
        assert_eq!(
            decide("us-east-1:*", "arn:cognate:files:::us-east-1:b/x"),
            Decision::ImplicitDeny
        );
        assert_eq!(
            decide("us-east-1:*", "arn:cognate:files:::us-east-1:*/x"),
            Decision::Allow
        );
    }

    #[test]
    fn amr_follows_the_grant() {
        let mut g = grant("us-east-1:a");
        assert_eq!(
            request_context(&g).get(KEY_AMR),
            Some(&["authenticated".to_string()][..])
        );
        g.authenticated = false;
        assert_eq!(
            request_context(&g).get(KEY_AMR),
            Some(&["unauthenticated".to_string()][..])
        );
        assert_eq!(
            request_context(&g).get(KEY_AUD),
            Some(&["us-east-1:pool".to_string()][..])
        );
    }
}
