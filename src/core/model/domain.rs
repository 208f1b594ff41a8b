//! A user pool's domain (Cognito's CreateUserPoolDomain): a prefix domain
//! (`<prefix>.auth.<region>.amazoncognito.com` in Cognito) or a custom domain (a host name
//! of the operator's, with an ACM certificate in Cognito). A pool has at most one of each;
//! a domain name belongs to one pool across the whole deployment (the store's primary key).

use serde::{Deserialize, Serialize};

use super::Origin;
use crate::core::UnixTime;

/// Which of a pool's two domain slots a domain fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainKind {
    /// Cognito's prefix domain: a name kept for compatibility.
    Prefix,
    /// A host name Cognate answers for behind the operator's proxy.
    Custom,
}

impl DomainKind {
    /// The store's spelling (the `kind` column of `domains`).
    pub fn as_str(self) -> &'static str {
        match self {
            DomainKind::Prefix => "prefix",
            DomainKind::Custom => "custom",
        }
    }
}

/// A domain record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// The prefix (`my-app`) or the host name (`auth.example.com`), lowercase.
    pub domain: String,
    pub pool_id: String,
    /// Cognito's `CustomDomainConfig.CertificateArn`: present exactly on a custom domain.
    /// Stored and echoed only: TLS ends at the operator's proxy.
    #[serde(default)]
    pub certificate_arn: Option<String>,
    /// Cognito's `ManagedLoginVersion` (1 classic hosted UI, 2 managed login). Echoed:
    /// Cognate serves its one hosted UI whichever version is named.
    #[serde(default = "default_managed_login_version")]
    pub managed_login_version: i32,
    #[serde(default)]
    pub origin: Origin,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// Cognito's default `ManagedLoginVersion` (the classic hosted UI).
pub fn default_managed_login_version() -> i32 {
    1
}

impl Domain {
    pub fn kind(&self) -> DomainKind {
        if self.certificate_arn.is_some() {
            DomainKind::Custom
        } else {
            DomainKind::Prefix
        }
    }
}
