//! An administrator linking and unlinking federated identities: Cognito's
//! AdminLinkProviderForUser and AdminDisableProviderForUser. The link is the same record a
//! federated sign-in makes and follows ([`crate::federation::linking::identity`], bound
//! to the provider's current issuer), so the next sign-in through that identity lands on
//! the linked user; the store's unique index on links keeps an identity on one user
//! across nodes.
//!
//! Cognito's parameters name users as `ProviderUserIdentifierType`s: a local user as
//! `{ProviderName: "Cognito", ProviderAttributeValue: <username>}`, an upstream identity
//! as `{ProviderName: <the pool's IdP>, ProviderAttributeName: "Cognito_Subject",
//! ProviderAttributeValue: <its subject>}`. Cognito also accepts a SAML attribute name in
//! place of `Cognito_Subject` (a link matched on that attribute at the next sign-in); the
//! sign-in here matches links by subject only, so another attribute name is refused
//! rather than stored and never matched.

use std::collections::BTreeMap;

use super::admin::{AdminUserError, AdminUserResult};
use super::{AccountError, AccountService};
use crate::core::directory::{normalize_username, DirectoryError};
use crate::core::model::{User, UserPool, UserStatus, MAX_LINKED_IDENTITIES};
use crate::core::signout;
use crate::core::storage::{Conflict, UserRef};
use crate::core::UnixTime;

/// The `ProviderName` of a pool's own users.
pub const COGNITO_PROVIDER: &str = "Cognito";
/// The only `ProviderAttributeName` the links honour: the upstream subject.
pub const SUBJECT_ATTRIBUTE: &str = "Cognito_Subject";

/// Cognito's `ProviderUserIdentifierType`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderUser {
    pub provider_name: String,
    pub attribute_name: Option<String>,
    pub attribute_value: String,
}

impl ProviderUser {
    fn is_cognito(&self) -> bool {
        self.provider_name.eq_ignore_ascii_case(COGNITO_PROVIDER)
    }
}

/// Refuses an attribute name other than `Cognito_Subject` (absent means it).
fn check_subject_attribute(field: &str, user: &ProviderUser) -> AdminUserResult<()> {
    match user.attribute_name.as_deref() {
        None | Some(SUBJECT_ATTRIBUTE) => Ok(()),
        Some(other) => Err(AccountError::param(
            &format!("{field}.ProviderAttributeName"),
            format!(
                "{other:?} is not supported: links match the upstream subject, name it \
                 {SUBJECT_ATTRIBUTE}"
            ),
        )
        .into()),
    }
}

fn link_error(e: DirectoryError) -> AdminUserError {
    match e {
        DirectoryError::Conflict(Conflict::FederatedIdentity) => AdminUserError::LinkExists(
            "Merging is not currently supported, provide a SourceUser that has not been \
             signed up in order to link"
                .into(),
        ),
        other => other.into(),
    }
}

impl AccountService {
    /// AdminLinkProviderForUser: links `source`, an identity at one of the pool's
    /// identity providers, to the existing user `destination` (a local user named by
    /// username or alias), so the next sign-in through that identity signs in as that user.
    /// Refused: a source naming `Cognito` (Cognito's "Cognito users with a
    /// username/password may not be passed in as a SourceUser"), a provider the pool does
    /// not declare, an identity that is already a user or linked to another one
    /// (`LinkExists`: Cognito does not merge users), a second link to the same provider,
    /// and a sixth link (Cognito's limit of five). Linking again what is already linked to
    /// the same user changes nothing.
    pub async fn admin_link_provider(
        &self,
        pool: &UserPool,
        destination: &ProviderUser,
        source: &ProviderUser,
        now: UnixTime,
    ) -> AdminUserResult<User> {
        if !destination.is_cognito() {
            return Err(AccountError::param(
                "DestinationUser.ProviderName",
                "the destination is a user of the pool: name it Cognito",
            )
            .into());
        }
        if source.is_cognito() {
            return Err(AccountError::param(
                "SourceUser",
                "Cognito users with a username/password may not be passed in as a SourceUser, \
                 only as a DestinationUser",
            )
            .into());
        }
        check_subject_attribute("SourceUser", source)?;
        let Some(provider) = pool.identity_provider(&source.provider_name) else {
            return Err(AccountError::param(
                "SourceUser.ProviderName",
                format!(
                    "the pool has no identity provider {:?}",
                    source.provider_name
                ),
            )
            .into());
        };
        let subject = source.attribute_value.as_str();
        let user = self
            .directory
            .require_user(pool, &destination.attribute_value)
            .await?;
        let by_link = UserRef::Federated(provider.name.clone(), subject.to_string());
        if let Some(holder) = self
            .store()
            .get_user(&pool.id, &by_link)
            .await
            .map_err(AccountError::from)?
        {
            if holder.sub == user.sub {
                return Ok(holder);
            }
            return Err(link_error(DirectoryError::Conflict(
                Conflict::FederatedIdentity,
            )));
        }
        let identity =
            crate::federation::linking::identity(provider, subject, &BTreeMap::new(), now);
        let provider_name = provider.name.clone();
        let linked = self
            .directory
            .modify_user(pool, &user.sub, |u| {
                if let Some(existing) = u
                    .identities
                    .iter()
                    .find(|i| i.provider_name == provider_name)
                {
                    return Err(DirectoryError::InvalidParameter(format!(
                        "the user is already linked to {} (another subject); unlink it first \
                         with AdminDisableProviderForUser",
                        existing.provider_name
                    )));
                }
                if u.identities.len() >= MAX_LINKED_IDENTITIES {
                    return Err(DirectoryError::InvalidParameter(LINK_LIMIT.into()));
                }
                u.identities.push(identity.clone());
                u.updated_at = now;
                Ok(())
            })
            .await;
        match linked {
            Ok(user) => Ok(user),
            Err(DirectoryError::InvalidParameter(reason)) if reason == LINK_LIMIT => {
                Err(AdminUserError::LimitExceeded(reason))
            }
            Err(e) => Err(link_error(e)),
        }
    }

    /// AdminDisableProviderForUser. For an upstream identity: a link to an existing user
    /// is removed (the identity's next sign-in makes a new user, as in Cognito); the user
    /// the identity itself created (`<Provider>_<subject>`) is disabled instead, since
    /// removing its only identity would leave its name for the next sign-in to collide
    /// with. For `Cognito` and a username: the user's password is removed, so it can no
    /// longer sign in with one (Cognito's "they can't use their password to sign in")
    /// until an administrator sets a new one, and is signed out everywhere. An identity nobody holds is `UserNotFound`.
    pub async fn admin_disable_provider(
        &self,
        pool: &UserPool,
        target: &ProviderUser,
        now: UnixTime,
    ) -> AdminUserResult<()> {
        check_subject_attribute("User", target)?;
        if target.is_cognito() {
            let user = self
                .directory
                .require_user(pool, &target.attribute_value)
                .await?;
            self.directory
                .modify_user(pool, &user.sub, |u| {
                    u.password_hash = None;
                    u.srp = None;
                    u.updated_at = now;
                    Ok(())
                })
                .await?;
            // Without its password the user must not keep what the password opened.
            signout::sign_out_everywhere(self.store().as_ref(), &pool.id, &user.sub, now)
                .await
                .map_err(AccountError::from)?;
            return Ok(());
        }
        let subject = target.attribute_value.clone();
        let by_link = UserRef::Federated(target.provider_name.clone(), subject.clone());
        let Some(holder) = self
            .store()
            .get_user(&pool.id, &by_link)
            .await
            .map_err(AccountError::from)?
        else {
            return Err(AccountError::UserNotFound.into());
        };
        let own_name = normalize_username(pool, &format!("{}_{}", target.provider_name, subject));
        if holder.status == UserStatus::ExternalProvider
            && normalize_username(pool, &holder.username) == own_name
        {
            self.directory
                .set_enabled(pool, &holder.sub, false, now)
                .await?;
            return Ok(());
        }
        let provider = target.provider_name.clone();
        self.directory
            .modify_user(pool, &holder.sub, |u| {
                u.identities
                    .retain(|i| !(i.provider_name == provider && i.user_id == subject));
                u.updated_at = now;
                Ok(())
            })
            .await?;
        Ok(())
    }
}

const LINK_LIMIT: &str = "a user can be linked to at most 5 identities (Cognito's limit)";
