//! Domains: CreateUserPoolDomain / UpdateUserPoolDomain / DeleteUserPoolDomain, and the
//! names DescribeUserPool reports (`Domain`, `CustomDomain`).
//!
//! Cognate serves every pool's hosted UI on its own public URL; a prefix domain is a name
//! kept for compatibility with infrastructure code, and a custom domain is a host name
//! Cognate answers for behind the operator's proxy. A name belongs to one pool across the
//! deployment and a pool has at most one prefix and one custom domain: both are the
//! store's unique keys, so concurrent creates on any nodes leave exactly one winner.

use std::ops::Deref;

use super::roles::refuse_config_owned;
use super::{valid, AdminError, AdminResult, AdminService, Errors, FieldError, RecordKind, Rule};
use crate::core::model::{Domain, DomainKind, Origin};
use crate::core::storage::{Conflict, Store, StoreError};

/// Words Cognito refuses in a prefix domain.
pub const RESERVED_WORDS: [&str; 3] = ["aws", "amazon", "cognito"];

/// Cognito's `DomainType` label: 1 to 63 lowercase letters, digits and hyphens, neither
/// starting nor ending with a hyphen (`^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`).
pub fn is_domain_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// A custom domain: a lowercase DNS host name of at least two labels, at most 253
/// characters, not an IP address.
pub fn is_host_name(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    name.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| is_domain_label(l))
        && labels
            .last()
            .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// An ACM certificate ARN: `arn:<partition>:acm:<region>:<12-digit account>:certificate/<id>`.
fn is_certificate_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [arn_prefix, partition, service, region, account, resource] = parts[..] else {
        return false;
    };
    arn.len() <= 2048
        && arn_prefix == "arn"
        && partition.starts_with("aws")
        && service == "acm"
        && !region.is_empty()
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && resource
            .strip_prefix("certificate/")
            .is_some_and(|id| !id.is_empty() && !id.contains(char::is_whitespace))
}

/// CreateUserPoolDomain's rules on a domain record.
pub fn validate_domain(domain: &Domain) -> Vec<FieldError> {
    let mut e = Errors::default();
    let name = &domain.domain;
    match &domain.certificate_arn {
        None => {
            if !is_domain_label(name) {
                e.push(
                    "domain",
                    Rule::Invalid,
                    format!(
                        "{name:?} is not a domain prefix: use 1 to 63 lowercase letters, digits \
                         and hyphens, not starting or ending with a hyphen"
                    ),
                    "write e.g. domain = \"my-app\"",
                );
            } else if let Some(word) = RESERVED_WORDS.iter().find(|w| name.contains(*w)) {
                e.push(
                    "domain",
                    Rule::Reserved,
                    format!("a domain prefix cannot contain the reserved word {word:?}"),
                    "choose another prefix",
                );
            }
        }
        Some(arn) => {
            if !is_host_name(name) {
                e.push(
                    "domain",
                    Rule::Invalid,
                    format!(
                        "{name:?} is not a custom domain: use a lowercase host name such as \
                         auth.example.com"
                    ),
                    "write e.g. domain = \"auth.example.com\"",
                );
            }
            if !is_certificate_arn(arn) {
                e.push(
                    "certificate_arn",
                    Rule::Invalid,
                    format!("{arn:?} is not an ACM certificate ARN"),
                    "write e.g. arn:aws:acm:us-east-1:123456789012:certificate/<id>",
                );
            }
        }
    }
    if !(1..=2).contains(&domain.managed_login_version) {
        e.push(
            "managed_login_version",
            Rule::Invalid,
            format!(
                "managed login version {} is not 1 (classic hosted UI) or 2 (managed login)",
                domain.managed_login_version
            ),
            "use 1 or 2",
        );
    }
    e.into_vec()
}

/// The names DescribeUserPool reports for a pool (`Domain` and `CustomDomain`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PoolDomains {
    pub prefix: Option<String>,
    pub custom: Option<String>,
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    /// CreateUserPoolDomain. A name another pool (or this one) holds is
    /// [`AdminError::Exists`]; a second domain of one kind for a pool is refused on the
    /// `domain` field with [`Rule::Duplicate`]; an unknown pool is [`AdminError::NotFound`].
    pub async fn create_domain(&self, domain: &Domain) -> AdminResult<()> {
        valid(RecordKind::Domain, validate_domain(domain))?;
        match self.store().insert_domain(domain).await {
            Ok(()) => Ok(()),
            Err(StoreError::MissingParent(_)) => Err(AdminError::NotFound {
                kind: RecordKind::Pool,
                id: domain.pool_id.clone(),
            }),
            // Which unique key refused it: the name, or the pool's slot of this kind.
            Err(StoreError::Conflict(Conflict::Exists)) => {
                if self.store().get_domain(&domain.domain).await?.is_some() {
                    Err(AdminError::Exists {
                        kind: RecordKind::Domain,
                        id: domain.domain.clone(),
                    })
                } else {
                    Err(slot_taken(domain.kind(), &domain.pool_id))
                }
            }
            Err(e) => Err(e.into()),
        }
    }

    /// UpdateUserPoolDomain on behalf of `by`: replaces the certificate and managed login
    /// version of the pool's domain of this name (the name and its kind cannot change).
    /// An unknown domain, or one of another pool, is [`AdminError::NotFound`]; one declared
    /// in the configuration file is [`AdminError::ConfigOwned`] to the API.
    pub async fn update_domain(&self, domain: &Domain, by: Origin) -> AdminResult<Domain> {
        let stored = match self.store().get_domain(&domain.domain).await? {
            Some(stored) if stored.pool_id == domain.pool_id => stored,
            _ => {
                return Err(AdminError::NotFound {
                    kind: RecordKind::Domain,
                    id: domain.domain.clone(),
                })
            }
        };
        refuse_config_owned(RecordKind::Domain, &domain.domain, stored.origin, by)?;
        if stored.kind() != domain.kind() {
            let message = match stored.kind() {
                DomainKind::Prefix => "a prefix domain takes no custom domain configuration",
                DomainKind::Custom => "a custom domain needs its certificate ARN",
            };
            return Err(AdminError::Invalid {
                kind: RecordKind::Domain,
                errors: vec![FieldError::new(
                    "certificate_arn",
                    Rule::Invalid,
                    message,
                    "",
                )],
            });
        }
        valid(RecordKind::Domain, validate_domain(domain))?;
        let updated = Domain {
            origin: stored.origin,
            created_at: stored.created_at,
            ..domain.clone()
        };
        if !self.store().update_domain(&updated).await? {
            // Deleted between the read and the write.
            return Err(AdminError::NotFound {
                kind: RecordKind::Domain,
                id: domain.domain.clone(),
            });
        }
        Ok(updated)
    }

    /// DeleteUserPoolDomain on behalf of `by`: the pool's domain of this name. Returns
    /// whether it existed (in this pool).
    pub async fn delete_domain_by(
        &self,
        pool_id: &str,
        name: &str,
        by: Origin,
    ) -> AdminResult<bool> {
        match self.store().get_domain(name).await? {
            Some(stored) if stored.pool_id == pool_id => {
                refuse_config_owned(RecordKind::Domain, name, stored.origin, by)?
            }
            _ => return Ok(false),
        }
        Ok(self.store().delete_domain(pool_id, name).await?)
    }

    /// DescribeUserPoolDomain: the domain of this name, whichever pool holds it.
    pub async fn domain(&self, name: &str) -> AdminResult<Option<Domain>> {
        Ok(self.store().get_domain(name).await?)
    }

    /// DescribeUserPool's `Domain` (the prefix domain) and `CustomDomain`.
    pub async fn pool_domains(&self, pool_id: &str) -> AdminResult<PoolDomains> {
        let mut out = PoolDomains::default();
        for d in self.store().list_domains(pool_id).await? {
            match d.kind() {
                DomainKind::Prefix => out.prefix = Some(d.domain),
                DomainKind::Custom => out.custom = Some(d.domain),
            }
        }
        Ok(out)
    }
}

/// A pool that has a domain of this kind already.
fn slot_taken(kind: DomainKind, pool_id: &str) -> AdminError {
    let what = match kind {
        DomainKind::Prefix => "prefix",
        DomainKind::Custom => "custom",
    };
    AdminError::Invalid {
        kind: RecordKind::Domain,
        errors: vec![FieldError::new(
            "domain",
            Rule::Duplicate,
            format!("user pool {pool_id} already has a {what} domain"),
            "delete it first (a pool has at most one prefix and one custom domain)",
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn domain(name: &str, arn: Option<&str>) -> Domain {
        Domain {
            domain: name.into(),
            pool_id: "us-east-1_Pool1".into(),
            certificate_arn: arn.map(str::to_string),
            managed_login_version: 1,
            origin: Origin::Api,
            created_at: 0,
            updated_at: 0,
        }
    }

    const ARN: &str = "arn:aws:acm:us-east-1:123456789012:certificate/abc-123";

    #[test]
    fn prefixes_follow_cognitos_pattern() {
        for ok in ["a", "my-app", "app-2", "0", &"x".repeat(63)] {
            assert!(validate_domain(&domain(ok, None)).is_empty(), "{ok}");
        }
        for bad in [
            "",
            "-app",
            "app-",
            "My-App",
            "my_app",
            "my.app",
            &"x".repeat(64),
        ] {
            let errors = validate_domain(&domain(bad, None));
            assert_eq!(errors.len(), 1, "{bad}");
            assert_eq!(errors[0].path, "domain");
            assert_eq!(errors[0].rule, Rule::Invalid);
        }
        for reserved in ["aws", "my-amazon-app", "cognitoauth"] {
            let errors = validate_domain(&domain(reserved, None));
            assert_eq!(errors[0].rule, Rule::Reserved, "{reserved}");
        }
    }

    #[test]
    fn custom_domains_are_host_names_with_a_certificate() {
        assert!(validate_domain(&domain("auth.example.com", Some(ARN))).is_empty());
        for bad in [
            "example",
            "Auth.example.com",
            "a..b",
            "-a.example.com",
            "10.0.0.1",
        ] {
            let errors = validate_domain(&domain(bad, Some(ARN)));
            assert_eq!(errors.len(), 1, "{bad}");
            assert_eq!(errors[0].path, "domain");
        }
        for bad in [
            "",
            "arn:aws:iam::123456789012:role/x",
            "arn:aws:acm:us-east-1:1:certificate/x",
        ] {
            let errors = validate_domain(&domain("auth.example.com", Some(bad)));
            assert_eq!(errors.len(), 1, "{bad}");
            assert_eq!(errors[0].path, "certificate_arn");
        }
        let mut v3 = domain("auth.example.com", Some(ARN));
        v3.managed_login_version = 3;
        assert_eq!(validate_domain(&v3)[0].path, "managed_login_version");
    }
}
