//! Roles: the IAM-style records an identity pool hands out credentials for. IAM is not
//! Cognito's API, so roles are declared in the configuration file (`[[roles]]`) and
//! written by `cognate apply` through [`AdminService::put_role`]; the CLI lists them.
//!
//! The rules: an ARN of IAM's role shape (`arn:aws:iam::<12 digits>:role/<path/name>`),
//! a trust naming at least one identity pool, a permissions policy that is a JSON object
//! of at most 10,240 characters (IAM's inline-policy limit; its statements are checked by
//! `core::policy` at merge), a session of 900 to 43,200 seconds (IAM's
//! `MaxSessionDuration`) and a description of at most 1,000 characters.

use std::ops::Deref;

use super::{valid, AdminError, AdminResult, AdminService, Errors, FieldError, RecordKind, Rule};
use crate::core::model::{
    is_identity_id, Origin, Role, MAX_ROLE_SESSION_SECS, MIN_ROLE_SESSION_SECS,
};
use crate::core::storage::Store;

use crate::core::policy::PolicyDocument;
pub use crate::core::policy::MAX_POLICY_CHARS;
const MAX_DESCRIPTION: usize = 1000;

pub use crate::core::identity_pools::mapping::is_role_arn;

/// The rules on a role record (see the module docs).
pub fn validate_role(role: &Role) -> Vec<FieldError> {
    let mut e = Errors::default();
    if !is_role_arn(&role.arn) {
        e.push(
            "arn",
            Rule::IdFormat,
            format!("{:?} is not an IAM role ARN", role.arn),
            "write e.g. arn = \"arn:aws:iam::123456789012:role/app-users\"",
        );
    }
    if role.trust.identity_pool_ids.is_empty() {
        e.push(
            "trust.identity_pools",
            Rule::Missing,
            "a role must trust at least one identity pool",
            "list the identity pools that may hand out this role",
        );
    }
    for (i, id) in role.trust.identity_pool_ids.iter().enumerate() {
        if !is_identity_id(id) {
            e.push(
                format!("trust.identity_pools[{i}]"),
                Rule::IdFormat,
                format!("{id:?} is not an identity pool id"),
                "use the pool's id, e.g. \"us-east-1:0b9b1c9e-1f2a-4c55-9a4e-2f5d7c1a0b3c\"",
            );
        } else if role.trust.identity_pool_ids[..i].contains(id) {
            e.push(
                format!("trust.identity_pools[{i}]"),
                Rule::Duplicate,
                format!("identity pool {id} is listed twice"),
                "list it once",
            );
        }
    }
    // The same parser the authorization check evaluates with: a document it would refuse
    // (unknown keys or operators, a Principal, over IAM's 10,240 characters) is refused here.
    if let Err(err) = PolicyDocument::parse(&role.policy) {
        e.push(
            "policy",
            Rule::Invalid,
            format!("the policy document is refused: {err}"),
            "write an IAM policy document: {\"Version\": \"2012-10-17\", \"Statement\": [...]}",
        );
    }
    if !(MIN_ROLE_SESSION_SECS..=MAX_ROLE_SESSION_SECS).contains(&role.max_session_secs) {
        e.push(
            "max_session_secs",
            Rule::Invalid,
            format!("{} seconds is out of range", role.max_session_secs),
            "use 900 to 43200 seconds (the default is 3600)",
        );
    }
    if role
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        e.push(
            "description",
            Rule::Invalid,
            "a role description can have at most 1000 characters",
            "shorten it",
        );
    }
    e.into_vec()
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    /// Creates or replaces a role. An Api-origin write over a Config-origin role is
    /// [`AdminError::ConfigOwned`].
    pub async fn put_role(&self, role: &Role) -> AdminResult<()> {
        valid(RecordKind::Role, validate_role(role))?;
        if let Some(stored) = self.store().get_role(&role.arn).await? {
            refuse_config_owned(RecordKind::Role, &role.arn, stored.origin, role.origin)?;
        }
        self.store().put_role(role).await?;
        Ok(())
    }

    /// The stored role, or [`AdminError::NotFound`].
    pub async fn get_role(&self, arn: &str) -> AdminResult<Role> {
        self.store()
            .get_role(arn)
            .await?
            .ok_or_else(|| AdminError::NotFound {
                kind: RecordKind::Role,
                id: arn.to_string(),
            })
    }

    /// Every role, by ARN.
    pub async fn list_roles(&self) -> AdminResult<Vec<Role>> {
        Ok(self.store().list_roles().await?)
    }

    /// Deletes a role on behalf of `by`; a Config-origin role is the file's to delete.
    /// Returns whether it existed. Pools naming it keep the ARN: their credentials fail
    /// until the role is back (as in IAM, where deleting a role breaks its pools).
    pub async fn delete_role(&self, arn: &str, by: Origin) -> AdminResult<bool> {
        match self.store().get_role(arn).await? {
            Some(stored) => refuse_config_owned(RecordKind::Role, arn, stored.origin, by)?,
            None => return Ok(false),
        }
        Ok(self.store().delete_role(arn).await?)
    }
}

/// A record declared in the configuration file changes only through the file.
pub(crate) fn refuse_config_owned(
    kind: RecordKind,
    id: &str,
    stored: Origin,
    by: Origin,
) -> AdminResult<()> {
    if stored == Origin::Config && by == Origin::Api {
        return Err(AdminError::ConfigOwned {
            kind,
            id: id.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{RoleTrust, TrustAmr};

    pub(crate) fn role() -> Role {
        Role {
            arn: "arn:aws:iam::123456789012:role/app/users".into(),
            trust: RoleTrust {
                identity_pool_ids: vec!["us-east-1:0b9b1c9e-1f2a-4c55-9a4e-2f5d7c1a0b3c".into()],
                amr: TrustAmr::Authenticated,
            },
            policy: r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"files:GetObject","Resource":"*"}]}"#.into(),
            max_session_secs: 3600,
            description: Some("signed-in users".into()),
            origin: Origin::Config,
            updated_at: 1,
        }
    }

    fn paths(role: &Role) -> Vec<String> {
        validate_role(role).into_iter().map(|e| e.path).collect()
    }

    #[test]
    fn role_arns() {
        for good in [
            "arn:aws:iam::123456789012:role/users",
            "arn:aws:iam::123456789012:role/app/team/users+a=b,c.d@e-f_g",
            "arn:aws-cn:iam::123456789012:role/x",
        ] {
            assert!(is_role_arn(good), "{good}");
        }
        for bad in [
            "",
            "arn:aws:iam::12345678901:role/users",
            "arn:aws:iam::123456789012:user/users",
            "arn:aws:iam::123456789012:role/",
            "arn:aws:iam::123456789012:role/a//b",
            "arn:aws:iam:us-east-1:123456789012:role/users",
            "arn:aws:s3::123456789012:role/users",
            "arn:aws:iam::123456789012:role/has space",
        ] {
            assert!(!is_role_arn(bad), "{bad}");
        }
    }

    #[test]
    fn role_rules_each_refusal_beside_the_honest_role() {
        assert_eq!(paths(&role()), Vec::<String>::new());
        let mut r = role();
        r.arn = "arn:aws:iam::1:role/x".into();
        assert_eq!(paths(&r), ["arn"]);
        let mut r = role();
        r.trust.identity_pool_ids.clear();
        assert_eq!(paths(&r), ["trust.identity_pools"]);
        let mut r = role();
        r.trust.identity_pool_ids.push("not-an-id".into());
        r.trust
            .identity_pool_ids
            .push(role().trust.identity_pool_ids[0].clone());
        assert_eq!(
            paths(&r),
            ["trust.identity_pools[1]", "trust.identity_pools[2]"]
        );
        for policy in ["[]", "not json", "\"s\""] {
            let mut r = role();
            r.policy = policy.into();
            assert_eq!(paths(&r), ["policy"], "{policy}");
        }
        let mut r = role();
        r.policy = format!("{{\"Sid\":\"{}\"}}", "a".repeat(MAX_POLICY_CHARS));
        assert_eq!(paths(&r), ["policy"]);
        for secs in [899, 43_201, 0] {
            let mut r = role();
            r.max_session_secs = secs;
            assert_eq!(paths(&r), ["max_session_secs"], "{secs}");
        }
        for secs in [900, 43_200] {
            let mut r = role();
            r.max_session_secs = secs;
            assert!(paths(&r).is_empty(), "{secs}");
        }
        let mut r = role();
        r.description = Some("d".repeat(1001));
        assert_eq!(paths(&r), ["description"]);
    }

    #[test]
    fn config_owned_records_refuse_api_writes_only() {
        let refused = refuse_config_owned(RecordKind::Role, "arn", Origin::Config, Origin::Api);
        let err = refused.expect_err("an API write over a file record");
        assert!(
            err.to_string()
                .contains("declared in the configuration file"),
            "{err}"
        );
        for (stored, by) in [
            (Origin::Config, Origin::Config),
            (Origin::Api, Origin::Api),
            (Origin::Api, Origin::Config),
        ] {
            assert!(refuse_config_owned(RecordKind::Role, "arn", stored, by).is_ok());
        }
    }
}
