//! `cognate users export` and `cognate users import`: a pool's users as JSON Lines, one
//! user per line:
//!
//! ```json
//! {"username":"ana","sub":"<uuid>","status":"CONFIRMED","enabled":true,
//!  "attributes":{"email":"ana@example.com","email_verified":"true"},
//!  "password_hash":"$argon2id$v=19$...","groups":["admins"],"identities":[],
//!  "created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"}
//! ```
//!
//! Password hashes are kept as they are: Argon2id, and bcrypt, PBKDF2-SHA256 (PHC or
//! Django's `pbkdf2_sha256$...`) and scrypt from other systems, which
//! `Directory::authenticate` verifies as they are and upgrades to Argon2id at the next
//! successful sign-in — the exit Cognito never offers.
//!
//! Import streams the file: each line is validated on its own (a bad line is reported with
//! its number and skipped), and valid users are written in batches of one transaction each,
//! so a million users take minutes. A user that collides with an existing one is skipped
//! and reported; one whose sub and username are already there counts as imported before,
//! so running an interrupted import again completes it.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::path::Path;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::admin::{iso, require_pool};
use super::{CliError, CliResult};
use crate::core::attributes::validate_attributes;
use crate::core::directory::{
    check_login_attributes, check_username, lookup_for, validate_username, GroupSpec,
};
use crate::core::model::{
    AliasAttribute, FederatedIdentity, Origin, PageRequest, User, UserPool, UserStatus,
};
use crate::core::password::inspect;
use crate::core::secrets::SecretString;
use crate::core::storage::UserRef;
use crate::core::{now, UnixTime};
use crate::server::Node;

/// Users per page when exporting (the store's largest page).
const EXPORT_PAGE: u32 = 1000;
/// Line-by-line messages shown per kind before the rest are only counted.
const MAX_REPORTED: u64 = 100;
/// Cognito's cap on federated identities per user.
const MAX_IDENTITIES: usize = 5;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long)]
    pub pool: String,
    /// The file to write (created owner-only, as it holds password hashes), or `-` for
    /// standard output.
    #[arg(long, short = 'o', default_value = "-")]
    pub output: String,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Also write each user's second factors (`mfa`): TOTP keys as base32 text, passkeys,
    /// recovery code hashes. The file then holds every authenticator key: keep it as
    /// safe as the master key.
    #[arg(long)]
    pub include_mfa: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[arg(long)]
    pub pool: String,
    /// The JSON Lines file (one user per line), or `-` for standard input.
    pub file: String,
    /// Users written per transaction (1 to 10000).
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
    /// No progress bar.
    #[arg(long, short = 'q')]
    pub quiet: bool,
    /// Also import each user's second factors (`mfa`, written by `export --include-mfa`);
    /// without it the field is ignored (and the import says how many users had one).
    #[arg(long)]
    pub include_mfa: bool,
}

/// One line of the file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserRecord {
    pub username: String,
    pub sub: String,
    pub status: String,
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Values are strings; `true` and numbers are accepted and kept as their text.
    #[serde(default)]
    pub attributes: BTreeMap<String, AttributeValue>,
    /// A `SecretString`, so a `Debug` of the record does not print it (the file itself
    /// holds it: the export is created owner-only).
    #[serde(default)]
    pub password_hash: Option<SecretString>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub identities: Vec<FederatedIdentity>,
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    #[serde(default)]
    pub updated_at: Option<Timestamp>,
    /// When an admin-set temporary password stops working (FORCE_CHANGE_PASSWORD).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporary_password_expires_at: Option<Timestamp>,
    /// Second factors ([`mfa::MfaRecord`]), written and read only with `--include-mfa`
    /// (kept unparsed here, so an import without it ignores the field whatever it holds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<serde_json::Value>,
}

fn default_true() -> bool {
    true
}

/// An attribute value: a JSON string, or a boolean or number kept as its text (Cognito
/// stores every attribute as a string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeValue(pub String);

impl Serialize for AttributeValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AttributeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AttributeValue;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string, boolean or number")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AttributeValue, E> {
                Ok(AttributeValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A point in time: written as RFC 3339 (UTC), read as RFC 3339 or seconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub UnixTime);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&iso(self.0))
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an RFC 3339 date-time or seconds since the epoch")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Timestamp, E> {
                Ok(Timestamp(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Timestamp, E> {
                i64::try_from(v)
                    .map(Timestamp)
                    .map_err(|_| E::custom("the time is out of range"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Timestamp, E> {
                chrono::DateTime::parse_from_rfc3339(v)
                    .map(|t| Timestamp(t.timestamp()))
                    .map_err(|_| E::custom(format!("{v:?} is not an RFC 3339 date-time")))
            }
        }
        d.deserialize_any(V)
    }
}

impl UserRecord {
    pub fn from_user(user: &User, groups: Vec<String>) -> Self {
        UserRecord {
            username: user.username.clone(),
            sub: user.sub.clone(),
            status: user.status.as_str().to_string(),
            enabled: user.enabled,
            attributes: user
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), AttributeValue(v.clone())))
                .collect(),
            password_hash: user.password_hash.clone(),
            groups,
            identities: user.identities.clone(),
            created_at: Some(Timestamp(user.created_at)),
            updated_at: Some(Timestamp(user.updated_at)),
            temporary_password_expires_at: user.temporary_password_expires_at.map(Timestamp),
            mfa: None,
        }
    }
}

/// A progress bar on stderr, hidden when stderr is not a terminal or with `--quiet`.
fn progress_bar(len: Option<u64>, quiet: bool, template: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(len, ProgressDrawTarget::hidden());
    }
    let bar = match len {
        Some(len) => ProgressBar::new(len),
        None => ProgressBar::new_spinner(),
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

mod export;
mod import;
pub mod mfa;

pub use export::export;
pub use import::import;

#[cfg(test)]
mod tests;
