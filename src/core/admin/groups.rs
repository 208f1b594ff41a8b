//! Groups: CreateGroup / UpdateGroup / DeleteGroup (a group declared in the configuration
//! file is refused to API writes). A group's role and precedence feed
//! `cognito:roles` and `cognito:preferred_role` (lower precedence wins).

use std::ops::Deref;

use super::roles::refuse_config_owned;
use super::{valid, AdminError, AdminResult, AdminService, Errors, FieldError, RecordKind, Rule};
use crate::core::model::{Group, Origin};
use crate::core::storage::{Store, StoreError};

/// Cognito's limits: names 1 to 128 characters without white space, descriptions up to
/// 2048, precedence a non-negative 32-bit number, role ARNs 20 to 2048 characters.
const MAX_NAME: usize = 128;
const MAX_DESCRIPTION: usize = 2048;

/// Cognito's `GroupName`: 1 to 128 characters without white space (or control
/// characters). Also the rule on the directory groups an IdP's group values map to.
pub fn is_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME
        && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// CreateGroup's rules on a group record.
pub fn validate_group(group: &Group) -> Vec<FieldError> {
    let mut e = Errors::default();
    let name = &group.name;
    if !is_group_name(name) {
        e.push(
            "name",
            Rule::Invalid,
            format!("{name:?} is not a group name: use 1 to 128 characters without spaces"),
            "write e.g. name = \"admins\"",
        );
    }
    if group
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        e.push(
            "description",
            Rule::Invalid,
            "a group description can have at most 2048 characters",
            "shorten it",
        );
    }
    if let Some(p) = group.precedence {
        if !(0..=i64::from(i32::MAX)).contains(&p) {
            e.push(
                "precedence",
                Rule::Invalid,
                format!("precedence {p} is out of range"),
                "use a number from 0 to 2147483647 (lower wins)",
            );
        }
    }
    if let Some(arn) = &group.role_arn {
        if !arn.starts_with("arn:") || arn.len() < 20 || arn.len() > 2048 {
            e.push(
                "role_arn",
                Rule::Invalid,
                format!("{arn:?} is not an IAM role ARN"),
                "write e.g. role_arn = \"arn:aws:iam::123456789012:role/Admins\"",
            );
        }
    }
    e.into_vec()
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    /// CreateGroup: refuses an invalid group or a taken name.
    pub async fn create_group(&self, group: &Group) -> AdminResult<()> {
        valid(RecordKind::Group, validate_group(group))?;
        if self
            .store()
            .get_group(&group.pool_id, &group.name)
            .await?
            .is_some()
        {
            return Err(AdminError::Exists {
                kind: RecordKind::Group,
                id: group.name.clone(),
            });
        }
        self.put_group(group).await
    }

    /// CreateGroup / UpdateGroup: creates or replaces the pool's group of this name.
    pub async fn put_group(&self, group: &Group) -> AdminResult<()> {
        valid(RecordKind::Group, validate_group(group))?;
        match self.store().put_group(group).await {
            Err(StoreError::MissingParent(_)) => Err(AdminError::NotFound {
                kind: RecordKind::Pool,
                id: group.pool_id.clone(),
            }),
            other => Ok(other?),
        }
    }

    /// DeleteGroup: its members stay in the pool. Returns whether it existed.
    pub async fn delete_group(&self, pool_id: &str, name: &str) -> AdminResult<bool> {
        Ok(self.store().delete_group(pool_id, name).await?)
    }

    /// UpdateGroup on behalf of `by`: replaces the description, precedence and role of an
    /// existing group, keeping its origin and creation time. A group declared in the
    /// configuration file changes only there ([`AdminError::ConfigOwned`] for an API
    /// write); an unknown group is [`AdminError::NotFound`].
    pub async fn update_group(&self, group: &Group, by: Origin) -> AdminResult<Group> {
        let Some(stored) = self.store().get_group(&group.pool_id, &group.name).await? else {
            return Err(AdminError::NotFound {
                kind: RecordKind::Group,
                id: group.name.clone(),
            });
        };
        refuse_config_owned(RecordKind::Group, &group.name, stored.origin, by)?;
        let updated = Group {
            origin: stored.origin,
            created_at: stored.created_at,
            ..group.clone()
        };
        self.put_group(&updated).await?;
        Ok(updated)
    }

    /// DeleteGroup on behalf of `by`: a group declared in the configuration file is the
    /// file's to delete ([`AdminError::ConfigOwned`]). Returns whether it existed.
    pub async fn delete_group_by(
        &self,
        pool_id: &str,
        name: &str,
        by: Origin,
    ) -> AdminResult<bool> {
        match self.store().get_group(pool_id, name).await? {
            Some(stored) => refuse_config_owned(RecordKind::Group, name, stored.origin, by)?,
            None => return Ok(false),
        }
        self.delete_group(pool_id, name).await
    }
}
