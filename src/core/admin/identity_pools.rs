//! Identity pools: Cognito's CreateIdentityPool, UpdateIdentityPool (a full replacement:
//! every field given), DescribeIdentityPool, DeleteIdentityPool, ListIdentityPools,
//! SetIdentityPoolRoles and GetIdentityPoolRoles, and the identity operations the
//! identity API calls (GetId's get-or-create, DescribeIdentity, ListIdentities,
//! DeleteIdentities, UnlinkIdentity), each checking that the pool exists.
//!
//! The rules on the record alone are [`validate_identity_pool`] (usable without a store,
//! as the configuration checker does); the service adds the ones that read the store:
//! each listed user pool and app client exists and the client is the pool's, and each role
//! the pool names exists and trusts this pool for that kind of identity (the
//! authenticated role and every rule's role: amr `authenticated` or `any`; the
//! unauthenticated role: `unauthenticated` or `any`).
//!
//! Choices where Cognito leaves room:
//! - `allow_unauthenticated` without an unauthenticated role is accepted, as Cognito does
//!   (CreateIdentityPool carries no roles; SetIdentityPoolRoles comes after): guest
//!   credentials then fail. The configuration file, which declares both at once, requires
//!   the role (`config::decl::identity_pool`).
//! - `supported_login_providers` (social tokens directly) is refused for now.
//! - A record declared in the configuration file (`Origin::Config`) is changed only
//!   through the file: an Api-origin update, delete or role change is
//!   [`AdminError::ConfigOwned`].

use std::collections::BTreeMap;
use std::ops::Deref;

use super::roles::refuse_config_owned;
use super::{valid, AdminError, AdminResult, AdminService, Errors, FieldError, RecordKind, Rule};
use crate::core::identity_pools::mapping::{
    is_role_arn, IdentityPoolRoles, RoleMapping, RoleMappingKind, MAX_CLAIM_LEN, MAX_VALUE_LEN,
};
use crate::core::ids::{is_valid_client_id, is_valid_pool_id};
use crate::core::model::{
    is_identity_id, new_identity_id, Identity, IdentityLogin, IdentityPool, Origin, Page,
    PageRequest,
};
use crate::core::storage::{Store, StoreError};
use crate::core::UnixTime;

const MAX_NAME: usize = 128;
/// Cognito's limits: 25 rules per mapping, 50 tags, ListIdentityPools / ListIdentities
/// MaxResults 1 to 60.
pub use crate::core::identity_pools::mapping::MAX_RULES;
const MAX_TAGS: usize = 50;
pub const MAX_PAGE: u32 = 60;

/// Cognito's `IdentityPoolName`: 1 to 128 word characters or spaces.
pub fn is_identity_pool_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == ' ')
}

/// Cognito's `DeveloperProviderName`: 1 to 128 characters of `[\w._-]`.
pub fn is_developer_provider_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_.-".contains(c))
}

/// The rules on one role mapping, with paths under `role_mappings.<key>`.
fn role_mapping_errors(key: &str, mapping: &RoleMapping, e: &mut Errors) {
    let base = format!("role_mappings.{key}");
    match mapping.kind {
        RoleMappingKind::Token if !mapping.rules.is_empty() => e.push(
            format!("{base}.rules"),
            Rule::Exclusive,
            "a Token mapping takes its role from the token and has no rules",
            "remove the rules, or use type = \"rules\"",
        ),
        RoleMappingKind::Rules if mapping.rules.is_empty() || mapping.rules.len() > MAX_RULES => e
            .push(
                format!("{base}.rules"),
                Rule::Invalid,
                format!(
                    "a Rules mapping has 1 to {MAX_RULES} rules, not {}",
                    mapping.rules.len()
                ),
                "list the rules in the order they are tried",
            ),
        _ => {}
    }
    for (j, rule) in mapping.rules.iter().enumerate() {
        let path = format!("{base}.rules[{j}]");
        if rule.claim.is_empty() || rule.claim.chars().count() > MAX_CLAIM_LEN {
            e.push(
                format!("{path}.claim"),
                Rule::Invalid,
                format!("a rule's claim has 1 to {MAX_CLAIM_LEN} characters"),
                "name a token claim, e.g. claim = \"cognito:groups\"",
            );
        }
        if rule.value.is_empty() || rule.value.chars().count() > MAX_VALUE_LEN {
            e.push(
                format!("{path}.value"),
                Rule::Invalid,
                format!("a rule's value has 1 to {MAX_VALUE_LEN} characters"),
                "",
            );
        }
        if !is_role_arn(&rule.role_arn) {
            e.push(
                format!("{path}.role_arn"),
                Rule::IdFormat,
                format!("{:?} is not an IAM role ARN", rule.role_arn),
                "name a declared role's arn",
            );
        }
    }
}

/// The rules on an identity pool record that need no store.
pub fn validate_identity_pool(pool: &IdentityPool) -> Vec<FieldError> {
    let mut e = Errors::default();
    if !is_identity_id(&pool.id) {
        e.push(
            "id",
            Rule::IdFormat,
            format!("{:?} is not an identity pool id", pool.id),
            "use \"<region>:<uuid>\", or leave the id out to have one made",
        );
    }
    if !is_identity_pool_name(&pool.name) {
        e.push(
            "name",
            Rule::Invalid,
            format!(
                "{:?} is not an identity pool name: use 1 to 128 letters, digits, _ or spaces",
                pool.name
            ),
            "write e.g. name = \"app users\"",
        );
    }
    for (i, up) in pool.user_pools.iter().enumerate() {
        if !is_valid_pool_id(&up.pool_id) {
            e.push(
                format!("user_pools[{i}].pool_id"),
                Rule::IdFormat,
                format!("{:?} is not a user pool id", up.pool_id),
                "",
            );
        }
        if !is_valid_client_id(&up.client_id) {
            e.push(
                format!("user_pools[{i}].client_id"),
                Rule::IdFormat,
                format!("{:?} is not an app client id", up.client_id),
                "",
            );
        }
        if pool.user_pools[..i]
            .iter()
            .any(|o| o.pool_id == up.pool_id && o.client_id == up.client_id)
        {
            e.push(
                format!("user_pools[{i}]"),
                Rule::Duplicate,
                format!(
                    "user pool {} with client {} is listed twice",
                    up.pool_id, up.client_id
                ),
                "list it once",
            );
        }
    }
    if !pool.supported_login_providers.is_empty() {
        e.push(
            "supported_login_providers",
            Rule::NotSupported,
            "social sign-in tokens straight to the identity pool are not supported yet",
            "federate the social provider into a user pool and list that user pool",
        );
    }
    if let Some(name) = &pool.developer_provider_name {
        if !is_developer_provider_name(name) {
            e.push(
                "developer_provider_name",
                Rule::Invalid,
                format!(
                    "{name:?} is not a developer provider name: use 1 to 128 of [A-Za-z0-9_.-]"
                ),
                "write e.g. developer_provider_name = \"login.example.app\"",
            );
        } else if pool.user_pools.iter().any(|u| &u.pool_id == name) {
            // Developer logins and user-pool logins share one space per identity pool
            // (provider, subject): a developer provider named as a listed user pool could
            // claim that pool's users' identities by sending their subs as developer ids.
            e.push(
                "developer_provider_name",
                Rule::Invalid,
                format!("{name:?} is the id of a user pool this identity pool lists"),
                "write e.g. developer_provider_name = \"login.example.app\"",
            );
        }
    }
    // P1 (issue 12, item 6): the upstream STS endpoint is a promise GetCredentialsForIdentity
    // keeps, so it must be a URL it can call: https, or http to a loopback host (a local
    // STS such as a test double).
    if let Some(endpoint) = &pool.upstream_sts_endpoint {
        let ok = url::Url::parse(endpoint).is_ok_and(|u| {
            u.host_str().is_some()
                && (u.scheme() == "https"
                    || (u.scheme() == "http"
                        && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))))
        });
        if !ok {
            e.push(
                "upstream_sts_endpoint",
                Rule::Invalid,
                format!("{endpoint:?} is not an https URL"),
                "write e.g. upstream_sts_endpoint = \"https://sts.us-east-1.amazonaws.com/\"",
            );
        }
    }
    for (field, arn) in [
        ("roles.authenticated", &pool.roles.authenticated),
        ("roles.unauthenticated", &pool.roles.unauthenticated),
    ] {
        if let Some(arn) = arn.as_deref().filter(|a| !is_role_arn(a)) {
            e.push(
                field,
                Rule::IdFormat,
                format!("{arn:?} is not an IAM role ARN"),
                "name a declared role's arn",
            );
        }
    }
    for (key, mapping) in &pool.role_mappings {
        if !pool.user_pools.iter().any(|up| &up.pool_id == key) {
            e.push(
                format!("role_mappings.{key}"),
                Rule::Unknown,
                format!("user pool {key} is not one of this identity pool's user pools"),
                "map only the user pools listed in user_pools",
            );
        }
        role_mapping_errors(key, mapping, &mut e);
    }
    if pool.tags.len() > MAX_TAGS {
        e.push("tags", Rule::Invalid, "at most 50 tags", "");
    }
    for (key, value) in &pool.tags {
        if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
            e.push(
                format!("tags.{key}"),
                Rule::Invalid,
                "tag keys have 1 to 128 characters, values at most 256",
                "",
            );
        }
    }
    e.into_vec()
}

/// The role that `path` names must exist and trust `pool_id` for `amr`.
async fn role_errors(
    store: &dyn Store,
    pool_id: &str,
    path: String,
    arn: &str,
    authenticated: bool,
    e: &mut Errors,
) -> AdminResult<()> {
    let Some(role) = store.get_role(arn).await? else {
        e.push(
            path,
            Rule::Unknown,
            format!("no role {arn} is declared"),
            "declare it in [[roles]] in the configuration file",
        );
        return Ok(());
    };
    if !role.trust.trusts_pool(pool_id) {
        e.push(
            path,
            Rule::Invalid,
            format!("role {arn} does not trust identity pool {pool_id}"),
            format!("add {pool_id:?} to the role's trust.identity_pools"),
        );
    } else if authenticated && !role.trust.amr.admits_authenticated() {
        e.push(
            path,
            Rule::Invalid,
            format!("role {arn} trusts only unauthenticated identities"),
            "set the role's trust amr = \"authenticated\" (or \"any\")",
        );
    } else if !authenticated && !role.trust.amr.admits_unauthenticated() {
        e.push(
            path,
            Rule::Invalid,
            format!("role {arn} trusts only authenticated identities"),
            "set the role's trust amr = \"unauthenticated\" (or \"any\")",
        );
    }
    Ok(())
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    /// Every rule: [`validate_identity_pool`] and the ones that read the store.
    async fn identity_pool_errors(&self, pool: &IdentityPool) -> AdminResult<Vec<FieldError>> {
        let mut errors = validate_identity_pool(pool);
        let mut e = Errors::default();
        for (i, up) in pool.user_pools.iter().enumerate() {
            if self.store().get_pool(&up.pool_id).await?.is_none() {
                e.push(
                    format!("user_pools[{i}].pool_id"),
                    Rule::Unknown,
                    format!("user pool {} does not exist", up.pool_id),
                    "",
                );
                continue;
            }
            let client = self.store().get_client(&up.client_id).await?;
            if client.is_none_or(|c| c.pool_id != up.pool_id) {
                e.push(
                    format!("user_pools[{i}].client_id"),
                    Rule::Unknown,
                    format!(
                        "user pool {} has no app client {}",
                        up.pool_id, up.client_id
                    ),
                    "",
                );
            }
        }
        let store = self.store();
        // With an upstream STS (P1, item 6) the roles are AWS IAM roles, not role records.
        let local_roles = pool.upstream_sts_endpoint.is_none();
        if let Some(arn) = pool.roles.authenticated.as_ref().filter(|_| local_roles) {
            let path = "roles.authenticated".to_string();
            role_errors(store, &pool.id, path, arn, true, &mut e).await?;
        }
        if let Some(arn) = pool.roles.unauthenticated.as_ref().filter(|_| local_roles) {
            let path = "roles.unauthenticated".to_string();
            role_errors(store, &pool.id, path, arn, false, &mut e).await?;
        }
        for (key, mapping) in pool.role_mappings.iter().filter(|_| local_roles) {
            for (j, rule) in mapping.rules.iter().enumerate() {
                let path = format!("role_mappings.{key}.rules[{j}].role_arn");
                role_errors(store, &pool.id, path, &rule.role_arn, true, &mut e).await?;
            }
        }
        errors.extend(e.into_vec());
        Ok(errors)
    }

    /// CreateIdentityPool: refuses an invalid pool or a taken id.
    pub async fn create_identity_pool(&self, pool: &IdentityPool) -> AdminResult<()> {
        valid(
            RecordKind::IdentityPool,
            self.identity_pool_errors(pool).await?,
        )?;
        if self.store().get_identity_pool(&pool.id).await?.is_some() {
            return Err(AdminError::Exists {
                kind: RecordKind::IdentityPool,
                id: pool.id.clone(),
            });
        }
        self.store().put_identity_pool(pool).await?;
        Ok(())
    }

    /// Writes a whole identity pool, roles and mappings included, creating or replacing
    /// it (`cognate apply`, which declares everything at once). The rules are
    /// [`AdminService::create_identity_pool`]'s plus the immutable developer provider
    /// name; an Api-origin write over a Config-origin pool is refused.
    pub async fn put_identity_pool(&self, pool: &IdentityPool) -> AdminResult<()> {
        let stored = self.store().get_identity_pool(&pool.id).await?;
        if let Some(stored) = &stored {
            refuse_config_owned(
                RecordKind::IdentityPool,
                &pool.id,
                stored.origin,
                pool.origin,
            )?;
        }
        let mut errors = self.identity_pool_errors(pool).await?;
        if let Some(stored) = &stored {
            errors.extend(developer_name_change(stored, pool));
        }
        valid(RecordKind::IdentityPool, errors)?;
        self.store().put_identity_pool(pool).await?;
        Ok(())
    }

    /// UpdateIdentityPool: replaces an existing pool's settings with `pool`'s (every
    /// field given, as Cognito's full replacement) on behalf of `pool.origin`. The stored
    /// roles, role mappings (SetIdentityPoolRoles' business), origin and creation time
    /// are kept; `updated_at` becomes `now`. Returns the stored record.
    pub async fn update_identity_pool(
        &self,
        mut pool: IdentityPool,
        now: UnixTime,
    ) -> AdminResult<IdentityPool> {
        let stored = self.require_identity_pool(&pool.id).await?;
        refuse_config_owned(
            RecordKind::IdentityPool,
            &pool.id,
            stored.origin,
            pool.origin,
        )?;
        pool.roles = stored.roles;
        pool.role_mappings = stored.role_mappings;
        pool.origin = stored.origin;
        pool.created_at = stored.created_at;
        pool.updated_at = now;
        self.put_identity_pool(&pool).await?;
        Ok(pool)
    }

    /// DescribeIdentityPool.
    pub async fn describe_identity_pool(&self, id: &str) -> AdminResult<IdentityPool> {
        self.require_identity_pool(id).await
    }

    /// DeleteIdentityPool on behalf of `by`, with its identities. Returns whether it
    /// existed.
    pub async fn delete_identity_pool(&self, id: &str, by: Origin) -> AdminResult<bool> {
        match self.store().get_identity_pool(id).await? {
            Some(stored) => refuse_config_owned(RecordKind::IdentityPool, id, stored.origin, by)?,
            None => return Ok(false),
        }
        Ok(self.store().delete_identity_pool(id).await?)
    }

    /// ListIdentityPools: `max_results` 1 to 60, `next` the previous page's token.
    pub async fn list_identity_pools(
        &self,
        max_results: u32,
        next: Option<String>,
    ) -> AdminResult<Page<IdentityPool>> {
        let page = page_request(max_results, next)?;
        Ok(self.store().list_identity_pools(&page).await?)
    }

    /// SetIdentityPoolRoles on behalf of `by`: replaces the pool's default roles and role
    /// mappings, checked as a whole pool write. Returns the stored record.
    pub async fn set_identity_pool_roles(
        &self,
        id: &str,
        roles: IdentityPoolRoles,
        role_mappings: BTreeMap<String, RoleMapping>,
        by: Origin,
        now: UnixTime,
    ) -> AdminResult<IdentityPool> {
        let mut pool = self.require_identity_pool(id).await?;
        refuse_config_owned(RecordKind::IdentityPool, id, pool.origin, by)?;
        pool.roles = roles;
        pool.role_mappings = role_mappings;
        pool.updated_at = now;
        valid(
            RecordKind::IdentityPool,
            self.identity_pool_errors(&pool).await?,
        )?;
        self.store().put_identity_pool(&pool).await?;
        Ok(pool)
    }

    /// GetIdentityPoolRoles.
    pub async fn get_identity_pool_roles(
        &self,
        id: &str,
    ) -> AdminResult<(IdentityPoolRoles, BTreeMap<String, RoleMapping>)> {
        let pool = self.require_identity_pool(id).await?;
        Ok((pool.roles, pool.role_mappings))
    }

    /// The stored identity pool, or [`AdminError::NotFound`].
    pub async fn require_identity_pool(&self, id: &str) -> AdminResult<IdentityPool> {
        self.store()
            .get_identity_pool(id)
            .await?
            .ok_or_else(|| AdminError::NotFound {
                kind: RecordKind::IdentityPool,
                id: id.to_string(),
            })
    }

    // --- identities ------------------------------------------------------------------------

    /// GetId's core: the identity of `pool_id` holding `login`, or a new one (id
    /// `<region>:<uuid>`); a guest (`None`) always gets a new one. Concurrent callers for
    /// one login converge on one identity (see [`Store::get_or_create_identity`]).
    pub async fn get_or_create_identity(
        &self,
        pool_id: &str,
        login: Option<&IdentityLogin>,
        region: &str,
        now: UnixTime,
    ) -> AdminResult<Identity> {
        self.require_identity_pool(pool_id).await?;
        let candidate = Identity {
            id: new_identity_id(region),
            identity_pool_id: pool_id.to_string(),
            logins: login.into_iter().cloned().collect(),
            created_at: now,
            updated_at: now,
        };
        match self
            .store()
            .get_or_create_identity(pool_id, login, &candidate)
            .await
        {
            // Deleted between our check and the insert.
            Err(StoreError::MissingParent(_)) => Err(AdminError::NotFound {
                kind: RecordKind::IdentityPool,
                id: pool_id.to_string(),
            }),
            other => Ok(other?),
        }
    }

    /// DescribeIdentity.
    pub async fn describe_identity(&self, id: &str) -> AdminResult<Identity> {
        self.store()
            .get_identity(id)
            .await?
            .ok_or_else(|| AdminError::NotFound {
                kind: RecordKind::Identity,
                id: id.to_string(),
            })
    }

    /// ListIdentities: `max_results` 1 to 60.
    pub async fn list_identities(
        &self,
        pool_id: &str,
        max_results: u32,
        next: Option<String>,
    ) -> AdminResult<Page<Identity>> {
        let page = page_request(max_results, next)?;
        self.require_identity_pool(pool_id).await?;
        Ok(self.store().list_identities(pool_id, &page).await?)
    }

    /// DeleteIdentities (1 to 60 ids): returns the ids that were not deleted (Cognito's
    /// `UnprocessedIdentityIds`; here: the ones that did not exist).
    pub async fn delete_identities(&self, ids: &[String]) -> AdminResult<Vec<String>> {
        if ids.is_empty() || ids.len() > MAX_PAGE as usize {
            return Err(AdminError::Invalid {
                kind: RecordKind::Identity,
                errors: vec![FieldError::new(
                    "identity_ids",
                    Rule::Invalid,
                    format!("give 1 to 60 identity ids, not {}", ids.len()),
                    "",
                )],
            });
        }
        let deleted = self.store().delete_identities(ids).await?;
        Ok(ids
            .iter()
            .filter(|id| !deleted.contains(id))
            .cloned()
            .collect())
    }

    /// UnlinkIdentity / UnlinkDeveloperIdentity: removes `login` from the identity.
    /// Returns whether the identity held it; a missing identity is NotFound.
    pub async fn unlink_identity(
        &self,
        id: &str,
        login: &IdentityLogin,
        now: UnixTime,
    ) -> AdminResult<bool> {
        self.describe_identity(id).await?;
        let unlinked = self.store().unlink_identity(id, login, now).await?;
        // Cognito: "Removing the last linked login will make this identity inaccessible."
        // Kept without logins it would read as a guest identity that anyone holding its id
        // could take credentials for, scoped to the former user's `${sub}`: delete it.
        if unlinked
            && self
                .store()
                .get_identity(id)
                .await?
                .is_some_and(|i| i.logins.is_empty())
        {
            self.store().delete_identities(&[id.to_string()]).await?;
        }
        Ok(unlinked)
    }

    /// How many identities a pool has.
    pub async fn count_identities(&self, pool_id: &str) -> AdminResult<u64> {
        self.require_identity_pool(pool_id).await?;
        Ok(self.store().count_identities(pool_id).await?)
    }
}

/// Cognito: the developer provider name cannot change once set.
fn developer_name_change(stored: &IdentityPool, pool: &IdentityPool) -> Option<FieldError> {
    let was = stored.developer_provider_name.as_ref()?;
    (pool.developer_provider_name.as_ref() != Some(was)).then(|| {
        FieldError::new(
            "developer_provider_name",
            Rule::Invalid,
            format!("the developer provider name {was:?} cannot change once set"),
            format!("keep developer_provider_name = {was:?}, or make a new identity pool"),
        )
    })
}

/// A listing page: MaxResults 1 to 60.
fn page_request(max_results: u32, next: Option<String>) -> AdminResult<PageRequest> {
    if !(1..=MAX_PAGE).contains(&max_results) {
        return Err(AdminError::Invalid {
            kind: RecordKind::IdentityPool,
            errors: vec![FieldError::new(
                "max_results",
                Rule::Invalid,
                format!("MaxResults is 1 to 60, not {max_results}"),
                "",
            )],
        });
    }
    Ok(PageRequest {
        limit: max_results,
        after: next,
    })
}

#[cfg(test)]
mod tests;
