//! A pool's identity providers: CreateIdentityProvider / UpdateIdentityProvider /
//! DeleteIdentityProvider as adding, replacing and removing one entry of the pool's list.
//!
//! Only the rules that do not look inside the protocol settings are checked here: the
//! provider name's pattern, its uniqueness in the pool, the reserved `COGNITO`, and
//! Cognito's rule that a social provider is named after its type. Endpoints, issuers,
//! scopes and credentials are resolved and checked by the edge that builds the provider
//! (the configuration file's presets today).

use std::ops::Deref;

use super::{valid, AdminError, AdminResult, AdminService, Errors, FieldError, RecordKind, Rule};
use crate::core::model::{IdentityProvider, ProviderType, UserPool, OWN_USERS};
use crate::core::storage::Store;
use crate::core::UnixTime;

/// Cognito's limit on provider names.
const MAX_NAME_LEN: usize = 32;

/// The social provider types, whose names are reserved for them.
const SOCIAL: [ProviderType; 4] = [
    ProviderType::Google,
    ProviderType::SignInWithApple,
    ProviderType::Facebook,
    ProviderType::LoginWithAmazon,
];

/// CreateIdentityProvider's name rules for `idp` among the pool's `others` (the providers
/// it would sit beside; a replaced provider is not among them). Names compare without
/// case: federated usernames are `<name>_<id>`, so `Okta` and `okta` would collide.
pub fn validate_identity_provider_name(
    idp: &IdentityProvider,
    others: &[IdentityProvider],
) -> Vec<FieldError> {
    let mut e = Errors::default();
    let name = &idp.name;
    let valid = (1..=MAX_NAME_LEN).contains(&name.chars().count())
        && name
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-'));
    if !valid {
        e.push(
            "name",
            Rule::Invalid,
            format!("{name:?} is not a provider name: use 1 to {MAX_NAME_LEN} letters, digits, _ . or -"),
            "write e.g. name = \"Okta\"",
        );
    } else if name.eq_ignore_ascii_case(OWN_USERS) {
        e.push(
            "name",
            Rule::Reserved,
            "COGNITO is the pool's own directory, not an identity provider name",
            "choose another name, e.g. name = \"Corporate\"",
        );
    } else if let Some(required) = idp.provider_type.required_name() {
        if name != required {
            e.push(
                "name",
                Rule::Reserved,
                format!(
                    "a {} provider must be named {required:?} (Cognito's name for it)",
                    idp.provider_type
                ),
                format!("write name = \"{required}\""),
            );
        }
    } else if SOCIAL.iter().any(|t| t.as_str().eq_ignore_ascii_case(name)) {
        e.push(
            "name",
            Rule::Reserved,
            format!("{name:?} is reserved for the social provider of that name (Cognito rule)"),
            "give this OIDC provider another name",
        );
    }
    if others.iter().any(|o| o.name.eq_ignore_ascii_case(name)) {
        e.push(
            "name",
            Rule::Duplicate,
            format!("identity provider {name:?} already exists in this pool"),
            "give each identity provider of a pool its own name (names differing only in \
             case collide: federated usernames are <name>_<id>)",
        );
    }
    e.into_vec()
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    /// CreateIdentityProvider: adds `idp` to the pool's list.
    pub async fn add_identity_provider(
        &self,
        pool_id: &str,
        idp: IdentityProvider,
        now: UnixTime,
    ) -> AdminResult<UserPool> {
        let mut pool = self.require_pool(pool_id).await?;
        if let Some(taken) = pool.identity_provider(&idp.name) {
            return Err(AdminError::Exists {
                kind: RecordKind::IdentityProvider,
                id: taken.name.clone(),
            });
        }
        valid(
            RecordKind::IdentityProvider,
            validate_identity_provider_name(&idp, &pool.identity_providers),
        )?;
        pool.identity_providers.push(idp);
        pool.updated_at = now;
        self.put_pool(&pool).await?;
        Ok(pool)
    }

    /// UpdateIdentityProvider: replaces the pool's provider of `idp`'s name, in place.
    pub async fn replace_identity_provider(
        &self,
        pool_id: &str,
        idp: IdentityProvider,
        now: UnixTime,
    ) -> AdminResult<UserPool> {
        let mut pool = self.require_pool(pool_id).await?;
        let Some(index) = pool
            .identity_providers
            .iter()
            .position(|p| p.name == idp.name)
        else {
            return Err(AdminError::NotFound {
                kind: RecordKind::IdentityProvider,
                id: idp.name,
            });
        };
        let others: Vec<IdentityProvider> = pool
            .identity_providers
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, p)| p.clone())
            .collect();
        valid(
            RecordKind::IdentityProvider,
            validate_identity_provider_name(&idp, &others),
        )?;
        pool.identity_providers[index] = idp;
        pool.updated_at = now;
        self.put_pool(&pool).await?;
        Ok(pool)
    }

    /// DeleteIdentityProvider: removes the pool's provider of this name. Returns whether
    /// it existed. Clients listing it in `supported_identity_providers` keep the name;
    /// their next update is refused until it is removed there.
    pub async fn remove_identity_provider(
        &self,
        pool_id: &str,
        name: &str,
        now: UnixTime,
    ) -> AdminResult<bool> {
        let mut pool = self.require_pool(pool_id).await?;
        let before = pool.identity_providers.len();
        pool.identity_providers.retain(|p| p.name != name);
        if pool.identity_providers.len() == before {
            return Ok(false);
        }
        pool.updated_at = now;
        self.put_pool(&pool).await?;
        Ok(true)
    }
}
