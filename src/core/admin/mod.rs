//! The administration service: creating, updating and deleting user pools, app clients,
//! resource servers, groups and a pool's identity providers, with Cognito's validation
//! rules (CreateUserPool, CreateUserPoolClient, CreateResourceServer, CreateGroup,
//! CreateIdentityProvider) checked on the model records.
//!
//! Every edge that manages these records calls this service: `cognate apply` (the
//! configuration file), the admin CLI, and later the AWS JSON API. No edge writes them to
//! the store itself, so a rule lives here once and each edge only renders the refusal:
//! [`AdminError::Invalid`] carries every [`FieldError`] found, each with a path relative to
//! the record (`callback_urls[2]`, `token_validity.id_token_secs`), a message, an optional
//! fix, and the [`Rule`] it broke, so the configuration checker can place it on a TOML line,
//! the CLI can name its flag and the API can answer `InvalidParameterException`.
//!
//! The rules are pure functions over records (`validate_*`), usable without a store (the
//! checker runs them on the records it builds from the file); the service methods load what
//! a rule depends on (the pool, its resource servers) and write only valid records.
//!
//! - [`pools`]: pool names, ids, sign-in attributes, custom attributes, password policy.
//! - [`clients`]: app clients: names, redirect URLs, token lifetimes, flows and scopes,
//!   identity providers, attribute lists, CORS origins, branding.
//! - [`resource_servers`]: identifiers, names and scopes.
//! - [`domains`]: a pool's prefix and custom domains (names unique across pools).
//! - [`groups`]: names, precedence, description, role ARN.
//! - [`identity_pools`]: identity pools (CreateIdentityPool ... SetIdentityPoolRoles) and
//!   the identity operations the identity API calls; [`roles`]: the role records they
//!   hand out (ARN, trust, policy, session length). A record declared in the file is
//!   refused to Api-origin writes ([`AdminError::ConfigOwned`]).
//! - [`identity_providers`]: adding, replacing and removing a pool's identity providers:
//!   names, client ids, identifiers, attribute mapping, and each protocol's settings
//!   (issuer and endpoint URLs, scopes, credentials). A whole-pool write
//!   ([`AdminService::put_pool`]) checks every provider the pool carries too.
//!
//! A pool (its settings, custom attributes and identity providers) is one stored record.
//! Every change of a stored pool goes through [`AdminService::modify_pool`]: the change is
//! applied to the current record and written with a compare-and-swap on its version
//! ([`Store::replace_pool`]), re-read and re-applied when another writer on any node got
//! there first, so concurrent changes from several nodes are all kept.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::storage::{Store, StoreError};

pub mod clients;
pub mod domains;
pub mod groups;
pub mod identity_pools;
pub mod identity_providers;
pub mod pools;
pub mod resource_servers;
pub mod roles;

pub use clients::{check_redirect_url, is_loopback, validate_client, ClientContext};
pub use domains::{validate_domain, PoolDomains};
pub use groups::{is_group_name, validate_group};
pub use identity_pools::{
    is_developer_provider_name, is_identity_pool_name, validate_identity_pool,
};
pub use identity_providers::{
    validate_identity_provider, validate_identity_provider_among, validate_identity_provider_name,
    validate_identity_providers,
};
pub use pools::{
    check_passkey_origin, check_relying_party_id, check_webhook_url, validate_api_webhook_targets,
    validate_passkeys_at, validate_pool, MAX_POOLS,
};
pub use resource_servers::validate_resource_server;
pub use roles::validate_role;

/// The kind of record an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    Pool,
    Client,
    ResourceServer,
    Group,
    IdentityProvider,
    IdentityPool,
    Role,
    Identity,
    Domain,
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RecordKind::Pool => "user pool",
            RecordKind::Client => "app client",
            RecordKind::ResourceServer => "resource server",
            RecordKind::Group => "group",
            RecordKind::IdentityProvider => "identity provider",
            RecordKind::IdentityPool => "identity pool",
            RecordKind::Role => "role",
            RecordKind::Identity => "identity",
            RecordKind::Domain => "domain",
        })
    }
}

/// Which rule a field broke. Edges that phrase a fix in their own terms (a TOML key, a CLI
/// flag) match on it; the others show the [`FieldError`]'s own message and fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// A pool or client id that is not in Cognito's format.
    IdFormat,
    /// A length, character set, pattern or numeric range.
    Invalid,
    /// The same value listed twice in one list.
    Duplicate,
    /// An attribute, scope or identity provider the pool does not have.
    Unknown,
    /// Two settings that Cognito does not allow together (username and alias attributes,
    /// client_credentials with the user flows).
    Exclusive,
    /// The code or implicit flow without a callback URL.
    NeedsCallbackUrl,
    /// The client_credentials flow on a client without a secret.
    NeedsSecret,
    /// OAuth flows without scopes, or client_credentials without a resource-server scope.
    NeedsScope,
    /// A standard scope where only resource-server scopes are allowed, or a profile scope
    /// without `openid`.
    ScopeNotAllowed,
    /// A reserved name (COGNITO, a social provider's name used by another provider).
    Reserved,
    /// A setting the record's protocol cannot do without: an OpenID Connect issuer, a
    /// plain OAuth 2.0 provider's endpoints.
    Missing,
    /// A setting Cognate does not honour yet (phone numbers verified by SMS): refused
    /// rather than stored and ignored.
    NotSupported,
    /// A count over Cognito's quota (1,000 user pools, 1,000 app clients per pool, 50
    /// custom attributes): the API answers `LimitExceededException`.
    Limit,
}

/// One refused field of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's path inside the record, in the record's own names:
    /// `callback_urls[2]`, `refresh_rotation.grace_period_secs`, `scopes[0].name`.
    pub path: String,
    pub rule: Rule,
    /// What is wrong, naming the offending value.
    pub message: String,
    /// What to write instead, when there is a useful hint.
    pub fix: Option<String>,
}

impl FieldError {
    pub fn new(
        path: impl Into<String>,
        rule: Rule,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        let fix = fix.into();
        FieldError {
            path: path.into(),
            rule,
            message: message.into(),
            fix: (!fix.is_empty()).then_some(fix),
        }
    }

    /// The path's first field (`callback_urls` for `callback_urls[2]`).
    pub fn field(&self) -> &str {
        let end = self.path.find(['.', '[']).unwrap_or(self.path.len());
        &self.path[..end]
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if let Some(fix) = &self.fix {
            write!(f, " ({fix})")?;
        }
        Ok(())
    }
}

/// Collects field errors in rule order.
#[derive(Debug, Default)]
pub(crate) struct Errors(Vec<FieldError>);

impl Errors {
    pub(crate) fn push(
        &mut self,
        path: impl Into<String>,
        rule: Rule,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.0.push(FieldError::new(path, rule, message, fix));
    }

    pub(crate) fn into_vec(self) -> Vec<FieldError> {
        self.0
    }
}

/// Why the service refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The record breaks Cognito's rules (Cognito's `InvalidParameterException`).
    #[error("invalid {kind}: {}", join(.errors))]
    Invalid {
        kind: RecordKind,
        errors: Vec<FieldError>,
    },
    /// Creating a record whose id or name is taken.
    #[error("{kind} {id} already exists")]
    Exists { kind: RecordKind, id: String },
    /// The record, or the pool it belongs to, does not exist
    /// (Cognito's `ResourceNotFoundException`).
    #[error("{kind} {id} does not exist")]
    NotFound { kind: RecordKind, id: String },
    /// An API or CLI write (update, delete, role change) on a record declared in the
    /// configuration file. The web edge names the file (`node.config`).
    #[error("{kind} {id} is declared in the configuration file; change it there")]
    ConfigOwned { kind: RecordKind, id: String },
    /// A read-modify-write of the record kept losing to other writers (on any node) for
    /// every one of its bounded retries (Cognito's `ConcurrentModificationException`):
    /// nothing was written, and the caller may send the request again.
    #[error("{kind} {id} is being changed by other requests; try again")]
    Concurrent { kind: RecordKind, id: String },
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl AdminError {
    /// The field errors of an [`AdminError::Invalid`]; empty for the other variants.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            AdminError::Invalid { errors, .. } => errors,
            _ => &[],
        }
    }
}

fn join(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

pub type AdminResult<T> = Result<T, AdminError>;

/// Refuses `errors` unless empty.
fn valid(kind: RecordKind, errors: Vec<FieldError>) -> AdminResult<()> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AdminError::Invalid { kind, errors })
    }
}

/// The administration service over a store. `S` is whatever holds the store: an
/// `Arc<dyn Store>` for a node's long-lived service, or a borrowed `&dyn Store` for a
/// caller that only has a reference (applying the configuration file).
#[derive(Clone)]
pub struct AdminService<S = Arc<dyn Store>> {
    store: S,
    /// The most user pools the store may hold (CreateUserPool's quota).
    max_pools: u32,
}

impl<S> fmt::Debug for AdminService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminService").finish_non_exhaustive()
    }
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    pub fn new(store: S) -> Self {
        AdminService {
            store,
            max_pools: pools::MAX_POOLS,
        }
    }

    /// The service with another user pool quota than Cognito's 1,000 (`[server]
    /// max_user_pools`).
    pub fn with_pool_quota(mut self, max_pools: u32) -> Self {
        self.max_pools = max_pools;
        self
    }

    fn store(&self) -> &dyn Store {
        &*self.store
    }
}

#[cfg(test)]
mod tests;
