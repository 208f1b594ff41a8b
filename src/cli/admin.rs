//! Admin commands that work directly on a node's database: pools, groups and signing keys
//! here, app clients in [`clients`], identity providers in [`idps`], users in [`users`]. They mirror Cognito's admin API
//! (CreateUserPool, CreateUserPoolClient, DescribeUserPoolClient, CreateGroup, ...). Pools,
//! clients and groups are written by the core's administration service
//! ([`crate::core::admin`]), whose rules are Cognito's, so what the CLI accepts the file
//! and the API also accept.
//!
//! Output is for people and scripts alike: `create` commands print the new id alone on
//! stdout (`POOL=$(cognate pools create --name shop)`), listings are aligned tables,
//! `describe` prints pretty JSON. Every error names the flag or field and the reason.

use clap::{Args, Subcommand, ValueEnum};

use super::{CliError, CliResult};
use crate::core::admin::{AdminError, AdminService, FieldError, RecordKind, Rule};
use crate::core::directory::DirectoryError;
use crate::core::ids;
use crate::core::model::{
    AliasAttribute, AttributeDataType, CodeLimits, CustomAttribute, Group, MfaSetting, Origin,
    PasswordPolicy, UserPool,
};
use crate::core::sp_keys::{DEFAULT_SP_GRACE_DAYS, MAX_SP_GRACE_DAYS};
use crate::core::storage::Conflict;
use crate::core::{now, UnixTime};
use crate::server::Node;

// H1: operator credentials.
mod admin_keys;
mod clients;
mod events;
mod identity_pools;
mod idps;
mod mfa;
mod triggers;
mod users;

// H1: operator credentials.
pub use admin_keys::{admin_keys, AdminKeysCmd};
pub use clients::{clients, ClientsCmd};
pub use events::{events, EventsCmd};
pub use identity_pools::{identity_pools, roles, IdentityPoolsCmd, RolesCmd};
pub use idps::{idps, IdpsCmd};
pub use mfa::MfaCmd;
pub use triggers::{triggers, TriggersCmd};
pub use users::{users, UsersCmd};

// ------------------------------------------------------------------------------------------
// Shared helpers
// ------------------------------------------------------------------------------------------

/// Loads a pool named by `--pool`, or fails naming the flag.
pub(crate) async fn require_pool(node: &Node, id: &str) -> Result<UserPool, CliError> {
    node.store.get_pool(id).await?.ok_or_else(|| {
        CliError(format!(
            "--pool: user pool {id:?} does not exist (see `cognate pools list`)"
        ))
    })
}

/// The administration service over the node's store: every pool, client and group the
/// CLI writes goes through it, so the CLI applies the core's rules (Cognito's).
pub(crate) fn admin(node: &Node) -> AdminService {
    AdminService::new(node.store.clone()).with_pool_quota(node.config.server.max_user_pools)
}

/// A refusal of the administration service as a CLI message: one line per field error,
/// naming the flag the field came from (`flag`; `None` for a positional argument) and,
/// where the CLI has its own wording, what to give instead.
pub(crate) fn admin_error(e: AdminError, flag: fn(&str) -> Option<&'static str>) -> CliError {
    let AdminError::Invalid { errors, .. } = e else {
        return match e {
            AdminError::NotFound {
                kind: RecordKind::Pool,
                id,
            } => CliError(format!(
                "--pool: user pool {id:?} does not exist (see `cognate pools list`)"
            )),
            other => CliError(other.to_string()),
        };
    };
    let lines: Vec<String> = errors
        .iter()
        .map(|e| {
            let mut line = match flag(e.field()) {
                Some(flag) => format!("{flag}: {}", e.message),
                None => e.message.clone(),
            };
            if let Some(fix) = cli_fix(e) {
                line.push_str("; ");
                line.push_str(&fix);
            }
            line
        })
        .collect();
    // `main` prints the first line after `error: `; every further refusal gets its own.
    CliError(lines.join("\nerror: "))
}

/// The fix in the CLI's terms, for the rules whose remedy is another flag (the core's fixes
/// name record fields); URL refusals and unknown names keep the core's fix, which names the
/// URL to write or the names the pool has.
fn cli_fix(e: &FieldError) -> Option<String> {
    match (e.rule, e.field()) {
        (Rule::Exclusive, "alias_attributes") => {
            Some("give either --alias or --email-as-username".into())
        }
        (Rule::NeedsCallbackUrl, _) => Some("give at least one --callback-url".into()),
        (Rule::NeedsSecret, _) => Some("add --generate-secret".into()),
        (Rule::NeedsScope, _) => Some("give --scope <identifier>/<scope>".into()),
        (Rule::Missing | Rule::Exclusive, "factors") => Some(format!(
            "{} (the pool's factors are set in the configuration file: mfa_factors, \
             sign_in_factors); or give --mfa off",
            e.fix.as_deref().unwrap_or_default()
        )),
        (Rule::Unknown, _) | (_, "callback_urls" | "logout_urls") => e.fix.clone(),
        _ => None,
    }
}

/// The `pools create` flag of a pool field.
fn pool_flag(field: &str) -> Option<&'static str> {
    Some(match field {
        "id" => "--id",
        "name" => "--name",
        "username_attributes" => "--email-as-username",
        "alias_attributes" => "--alias",
        "required_attributes" => "--required-attribute",
        "custom_attributes" => "--custom-attribute",
        "password_policy" => "--min-password-length",
        "mfa" | "factors" => "--mfa",
        "code_limits" => "--code-limit",
        "saml_sp_entity_id" => "--saml-sp-entity-id",
        _ => return None,
    })
}

/// The `groups create` flag of a group field (the name is positional).
fn group_flag(field: &str) -> Option<&'static str> {
    Some(match field {
        "description" => "--description",
        "precedence" => "--precedence",
        "role_arn" => "--role-arn",
        _ => return None,
    })
}

/// Refuses a destructive command without `--yes`.
fn confirm(yes: bool, what: &str) -> CliResult {
    if yes {
        Ok(())
    } else {
        Err(CliError(format!(
            "{what} cannot be undone; add --yes to confirm"
        )))
    }
}

/// Seconds since the epoch as RFC 3339 (UTC), for tables.
pub(crate) fn iso(t: UnixTime) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| t.to_string())
}

/// Prints rows as a table with aligned columns; the last column is not padded.
pub(crate) fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut out = String::new();
        for (i, cell) in cells.enumerate() {
            if i + 1 < widths.len() {
                out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            } else {
                out.push_str(cell);
            }
        }
        println!("{}", out.trim_end());
    };
    line(&mut headers.iter().copied());
    for row in rows {
        line(&mut row.iter().map(String::as_str));
    }
}

pub(crate) fn pretty(value: &serde_json::Value) -> Result<String, CliError> {
    Ok(serde_json::to_string_pretty(value)?)
}

/// A directory error as a CLI message naming what it is about.
pub(crate) fn directory_error(e: DirectoryError, pool: &UserPool, user: &str) -> CliError {
    CliError(match e {
        DirectoryError::UserNotFound => {
            format!("user {user:?} does not exist in pool {}", pool.id)
        }
        DirectoryError::GroupNotFound(g) => {
            format!("group {g:?} does not exist in pool {}", pool.id)
        }
        DirectoryError::Conflict(c) => conflict_message(c, user),
        DirectoryError::InvalidPassword(v) => format!(
            "password: does not conform to the pool's password policy; it needs {}",
            v.missing.join(", ")
        ),
        DirectoryError::InvalidUsername(reason) => format!("username {user:?}: {reason}"),
        DirectoryError::InvalidAttribute(a) => {
            format!("--attribute {}: {}", a.name, a.reason)
        }
        other => other.to_string(),
    })
}

fn conflict_message(c: Conflict, user: &str) -> String {
    match c {
        Conflict::Exists | Conflict::Username => {
            format!(
                "username {user:?}: a user with this username already exists in the pool, \
                 or another user signs in with it"
            )
        }
        Conflict::Email => "attribute email: the address belongs to another user".into(),
        Conflict::PhoneNumber => {
            "attribute phone_number: the number belongs to another user".into()
        }
        Conflict::PreferredUsername => "attribute preferred_username: taken by another user".into(),
        Conflict::FederatedIdentity => "this federated identity is linked to another user".into(),
    }
}

// ------------------------------------------------------------------------------------------
// Pools
// ------------------------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum PoolsCmd {
    /// Create a user pool and its signing keys; prints the new pool id.
    Create(PoolCreateArgs),
    /// List pools with their user counts.
    List,
    /// Print a pool's settings as JSON.
    Describe {
        /// The pool id.
        id: String,
    },
    /// Change a stored pool's settings: `--mfa` sets whether a second factor is asked
    /// (`optional`: of users who enrolled one; `on`: of every local user, who enrols one
    /// at sign-in); `--saml-sp-entity-id` sets the entity id its SAML service provider
    /// presents.
    Update {
        /// The pool id.
        id: String,
        /// Multi-factor authentication: off, optional or on (the pool's allowed factors
        /// stay as they are; TOTP by default).
        #[arg(long, value_enum)]
        mfa: Option<MfaArg>,
        /// The SAML SP entity id (an absolute URI or a URN, at most 1024 characters);
        /// IdPs must be told the new one (it is the Audience they send).
        #[arg(long, value_name = "URI", conflicts_with = "default_saml_sp_entity_id")]
        saml_sp_entity_id: Option<String>,
        /// Go back to Cognito's SAML SP entity id, urn:amazon:cognito:sp:<poolId>.
        #[arg(long)]
        default_saml_sp_entity_id: bool,
    },
    /// Delete a pool with all its clients, users, groups and keys.
    Delete {
        /// The pool id.
        id: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
}

/// A sign-in alias (Cognito's `AliasAttributes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AliasArg {
    #[value(name = "email")]
    Email,
    #[value(name = "phone_number")]
    PhoneNumber,
    #[value(name = "preferred_username")]
    PreferredUsername,
}

impl From<AliasArg> for AliasAttribute {
    fn from(a: AliasArg) -> Self {
        match a {
            AliasArg::Email => AliasAttribute::Email,
            AliasArg::PhoneNumber => AliasAttribute::PhoneNumber,
            AliasArg::PreferredUsername => AliasAttribute::PreferredUsername,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MfaArg {
    Off,
    Optional,
    On,
}

impl From<MfaArg> for MfaSetting {
    fn from(a: MfaArg) -> Self {
        match a {
            MfaArg::Off => MfaSetting::Off,
            MfaArg::Optional => MfaSetting::Optional,
            MfaArg::On => MfaSetting::On,
        }
    }
}

#[derive(Debug, Args)]
pub struct PoolCreateArgs {
    /// The pool's name (1 to 128 characters).
    #[arg(long)]
    pub name: String,
    /// A fixed id (`<region>_<alphanumerics>`); generated from the server section's region when omitted.
    #[arg(long)]
    pub id: Option<String>,
    /// Users sign in with their email address; the username becomes the user's sub.
    #[arg(long)]
    pub email_as_username: bool,
    /// An identifier users may sign in with besides the username (repeatable). Email and
    /// phone aliases count once verified; an email sign-in identifier is auto-verified.
    #[arg(long = "alias", value_enum, value_name = "ATTRIBUTE")]
    pub aliases: Vec<AliasArg>,
    /// Usernames are case-sensitive (the default is insensitive, as Cognito recommends).
    #[arg(long)]
    pub case_sensitive: bool,
    /// A standard attribute every user must have (repeatable).
    #[arg(long = "required-attribute", value_name = "NAME")]
    pub required_attributes: Vec<String>,
    /// A custom attribute, `name` or `name:String|Number|Boolean|DateTime` (repeatable).
    #[arg(long = "custom-attribute", value_name = "NAME[:TYPE]")]
    pub custom_attributes: Vec<String>,
    /// Only administrators create users (no self sign-up).
    #[arg(long)]
    pub admin_create_only: bool,
    /// Multi-factor authentication: off, optional (users who enrolled a factor pass it)
    /// or on (every local user does); the allowed second factor is TOTP.
    #[arg(long, value_enum, default_value = "off")]
    pub mfa: MfaArg,
    /// The password policy's minimum length (6 to 99; Cognito's default is 8).
    #[arg(long, value_name = "N")]
    pub min_password_length: Option<u32>,
    /// A budget of mailed codes per hour, as `[pools.code_limits]` names it:
    /// `sends_per_destination=5`, `tries_per_destination=10`,
    /// `sends_per_client_address=30` or `tries_per_client_address=60` (repeatable).
    #[arg(long = "code-limit", value_name = "NAME=N")]
    pub code_limits: Vec<String>,
}

pub async fn pools(node: Node, cmd: PoolsCmd) -> CliResult {
    match cmd {
        PoolsCmd::Create(args) => create_pool(&node, args).await,
        PoolsCmd::List => {
            let mut rows = Vec::new();
            for pool in node.store.list_pools().await? {
                let users = node.store.count_users(&pool.id).await?;
                rows.push(vec![pool.id, pool.name, users.to_string()]);
            }
            print_table(&["ID", "NAME", "USERS"], &rows);
            Ok(())
        }
        PoolsCmd::Describe { id } => {
            let pool = require_pool(&node, &id).await?;
            println!("{}", pretty(&serde_json::to_value(&pool)?)?);
            Ok(())
        }
        PoolsCmd::Update {
            id,
            mfa,
            saml_sp_entity_id,
            default_saml_sp_entity_id,
        } => {
            if mfa.is_none() && saml_sp_entity_id.is_none() && !default_saml_sp_entity_id {
                return Err(CliError(
                    "nothing to update: give the setting to change, e.g. --mfa off".into(),
                ));
            }
            require_pool(&node, &id).await?;
            let now = crate::core::now();
            let pool = admin(&node)
                .update_pool(&id, |pool| {
                    if let Some(mfa) = mfa {
                        pool.mfa = mfa.into();
                    }
                    if saml_sp_entity_id.is_some() || default_saml_sp_entity_id {
                        pool.saml_sp_entity_id = saml_sp_entity_id.clone();
                    }
                    pool.updated_at = now;
                    Ok::<_, AdminError>(())
                })
                .await
                .map_err(|e| admin_error(e, pool_flag))?;
            if pool.origin == Origin::Config {
                eprintln!(
                    "warning: pool {} is declared in the configuration file; the next apply \
                     or start sets it from the file again",
                    pool.id
                );
            }
            println!(
                "updated pool {} (mfa {}, SAML SP entity id {})",
                pool.id,
                pool.mfa,
                pool.sp_entity_id()
            );
            Ok(())
        }
        PoolsCmd::Delete { id, yes } => {
            let pool = require_pool(&node, &id).await?;
            let users = node.store.count_users(&pool.id).await?;
            confirm(
                yes,
                &format!("deleting pool {} with its {users} user(s)", pool.id),
            )?;
            if pool.origin == Origin::Config {
                eprintln!(
                    "warning: pool {} is declared in the configuration file; the next apply \
                     or start recreates it (empty) unless you remove it there",
                    pool.id
                );
            }
            // The operator may delete any pool (the warning above covers the file's),
            // but deletion protection holds here as it does on the API.
            admin(&node)
                .delete_pool_by(&pool.id, Origin::Config)
                .await
                .map_err(|e| admin_error(e, pool_flag))?;
            println!("deleted pool {}", pool.id);
            Ok(())
        }
    }
}

async fn create_pool(node: &Node, args: PoolCreateArgs) -> CliResult {
    let pool = pool_from_args(&args, &node.config.server.region, now())?;
    let admin = admin(node);
    admin.create_pool(&pool).await.map_err(|e| match e {
        AdminError::Exists { id, .. } => {
            CliError(format!("--id: a pool with id {id} already exists"))
        }
        other => admin_error(other, pool_flag),
    })?;
    // A pool without signing keys cannot issue tokens: take it back out if they fail.
    if let Err(e) = node.keys.ensure_pool_keys(&pool.id, now()).await {
        let _ = admin.delete_pool(&pool.id).await;
        return Err(CliError(format!("creating the signing keys failed: {e}")));
    }
    println!("{}", pool.id);
    Ok(())
}

/// Builds the pool record from the flags. Cognito's rules on it (CreateUserPool's, the
/// same ones `check-config` applies to `[[pools]]`) are the core's, checked when it is
/// created.
fn pool_from_args(
    args: &PoolCreateArgs,
    region: &str,
    now: UnixTime,
) -> Result<UserPool, CliError> {
    let id = args.id.clone().unwrap_or_else(|| ids::new_pool_id(region));
    let username_attributes = if args.email_as_username {
        vec![AliasAttribute::Email]
    } else {
        Vec::new()
    };
    let mut alias_attributes: Vec<AliasAttribute> = Vec::new();
    for alias in &args.aliases {
        let a = AliasAttribute::from(*alias);
        if !alias_attributes.contains(&a) {
            alias_attributes.push(a);
        }
    }
    let custom_attributes = args
        .custom_attributes
        .iter()
        .map(|spec| parse_custom_attribute(spec))
        .collect::<Result<Vec<_>, _>>()?;
    let mut password_policy = PasswordPolicy::default();
    if let Some(n) = args.min_password_length {
        password_policy.minimum_length = n;
    }
    let mut code_limits = CodeLimits::default();
    for spec in &args.code_limits {
        set_code_limit(&mut code_limits, spec)?;
    }
    // An email sign-in identifier is verified by a code, as the Cognito console sets up.
    let auto_verified_attributes = if username_attributes
        .iter()
        .chain(&alias_attributes)
        .any(|a| *a == AliasAttribute::Email)
    {
        vec![AliasAttribute::Email]
    } else {
        Vec::new()
    };
    Ok(UserPool {
        id,
        name: args.name.trim().to_string(),
        origin: Origin::Api,
        username_case_sensitive: args.case_sensitive,
        username_attributes,
        alias_attributes,
        auto_verified_attributes,
        required_attributes: args.required_attributes.clone(),
        custom_attributes,
        password_policy,
        admin_create_user_only: args.admin_create_only,
        mfa: args.mfa.into(),
        userinfo_string_values: false,
        link_federated_users_by_email: false,
        deletion_protection: false,
        tags: Default::default(),
        code_limits,
        threat_protection: Default::default(),
        triggers: Default::default(),
        identity_providers: Vec::new(),
        saml_sp_entity_id: None,
        created_at: now,
        updated_at: now,
        version: 0,
        factors: Default::default(),
    })
}

/// `name=N`, a key of `[pools.code_limits]`; the value's range is the core's.
fn set_code_limit(limits: &mut CodeLimits, spec: &str) -> Result<(), CliError> {
    let refused = || {
        CliError(format!(
            "--code-limit: {spec:?} is not NAME=N with NAME one of sends_per_destination, \
             tries_per_destination, sends_per_client_address, tries_per_client_address"
        ))
    };
    let (name, value) = spec.split_once('=').ok_or_else(refused)?;
    let value: u32 = value.trim().parse().map_err(|_| refused())?;
    let slot = match name.trim() {
        "sends_per_destination" => &mut limits.sends_per_destination,
        "tries_per_destination" => &mut limits.tries_per_destination,
        "sends_per_client_address" => &mut limits.sends_per_client_address,
        "tries_per_client_address" => &mut limits.tries_per_client_address,
        _ => return Err(refused()),
    };
    *slot = value;
    Ok(())
}

/// `name` or `name:Type`; the `custom:` prefix is optional. The name's rule is the core's.
fn parse_custom_attribute(spec: &str) -> Result<CustomAttribute, CliError> {
    let spec = spec.strip_prefix("custom:").unwrap_or(spec);
    let (name, kind) = match spec.split_once(':') {
        Some((name, kind)) => (name, Some(kind)),
        None => (spec, None),
    };
    let data_type = match kind.map(str::to_ascii_lowercase).as_deref() {
        None | Some("string") => AttributeDataType::String,
        Some("number") => AttributeDataType::Number,
        Some("boolean") => AttributeDataType::Boolean,
        Some("datetime") => AttributeDataType::DateTime,
        Some(_) => {
            return Err(CliError(format!(
                "--custom-attribute {spec:?}: the type must be String, Number, Boolean or \
                 DateTime"
            )))
        }
    };
    Ok(CustomAttribute {
        name: name.to_string(),
        data_type,
        mutable: true,
        min_length: None,
        max_length: None,
        min_value: None,
        max_value: None,
    })
}

// ------------------------------------------------------------------------------------------
// Groups
// ------------------------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum GroupsCmd {
    /// Create a group.
    Create {
        #[arg(long)]
        pool: String,
        /// The group's name (1 to 128 characters, no spaces).
        name: String,
        #[arg(long)]
        description: Option<String>,
        /// Lower wins when a user's groups name different roles (cognito:preferred_role).
        #[arg(long, allow_negative_numbers = true)]
        precedence: Option<i64>,
        /// An IAM role ARN for identity pools (arn:aws:iam::123456789012:role/Name).
        #[arg(long)]
        role_arn: Option<String>,
    },
    /// List a pool's groups.
    List {
        #[arg(long)]
        pool: String,
    },
    /// Delete a group (its members stay in the pool).
    Delete {
        #[arg(long)]
        pool: String,
        name: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Add a user (username, alias or sub) to a group.
    AddUser {
        #[arg(long)]
        pool: String,
        group: String,
        user: String,
    },
    /// Remove a user from a group.
    RemoveUser {
        #[arg(long)]
        pool: String,
        group: String,
        user: String,
    },
    /// List a group's members.
    Members {
        #[arg(long)]
        pool: String,
        group: String,
    },
}

async fn require_group(node: &Node, pool: &UserPool, name: &str) -> CliResult {
    if node.store.get_group(&pool.id, name).await?.is_none() {
        return Err(CliError(format!(
            "group {name:?} does not exist in pool {} (see `cognate groups list --pool {}`)",
            pool.id, pool.id
        )));
    }
    Ok(())
}

pub async fn groups(node: Node, cmd: GroupsCmd) -> CliResult {
    match cmd {
        GroupsCmd::Create {
            pool,
            name,
            description,
            precedence,
            role_arn,
        } => {
            let pool = require_pool(&node, &pool).await?;
            let now = now();
            let group = Group {
                pool_id: pool.id.clone(),
                name: name.clone(),
                description,
                precedence,
                role_arn,
                origin: Origin::Api,
                created_at: now,
                updated_at: now,
            };
            admin(&node)
                .create_group(&group)
                .await
                .map_err(|e| match e {
                    AdminError::Exists { .. } => {
                        CliError(format!("group {name:?} already exists in pool {}", pool.id))
                    }
                    other => admin_error(other, group_flag),
                })?;
            println!("{name}");
            Ok(())
        }
        GroupsCmd::List { pool } => {
            let pool = require_pool(&node, &pool).await?;
            let rows: Vec<Vec<String>> = node
                .store
                .list_groups(&pool.id)
                .await?
                .into_iter()
                .map(|g| {
                    vec![
                        g.name,
                        g.precedence.map(|p| p.to_string()).unwrap_or_default(),
                        g.role_arn.unwrap_or_default(),
                        g.description.unwrap_or_default(),
                    ]
                })
                .collect();
            print_table(&["NAME", "PRECEDENCE", "ROLE", "DESCRIPTION"], &rows);
            Ok(())
        }
        GroupsCmd::Delete { pool, name, yes } => {
            let pool = require_pool(&node, &pool).await?;
            require_group(&node, &pool, &name).await?;
            confirm(yes, &format!("deleting group {name:?}"))?;
            admin(&node).delete_group(&pool.id, &name).await?;
            println!("deleted group {name}");
            Ok(())
        }
        GroupsCmd::AddUser { pool, group, user } => {
            let pool = require_pool(&node, &pool).await?;
            require_group(&node, &pool, &group).await?;
            let found = node
                .directory
                .require_user(&pool, &user)
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            node.directory
                .add_to_group(&pool, &group, &found.sub)
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            println!("added {} to {group}", found.username);
            Ok(())
        }
        GroupsCmd::RemoveUser { pool, group, user } => {
            let pool = require_pool(&node, &pool).await?;
            require_group(&node, &pool, &group).await?;
            let found = node
                .directory
                .require_user(&pool, &user)
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            if !node
                .store
                .remove_member(&pool.id, &group, &found.sub)
                .await?
            {
                return Err(CliError(format!(
                    "user {user:?} is not a member of group {group:?}"
                )));
            }
            println!("removed {} from {group}", found.username);
            Ok(())
        }
        GroupsCmd::Members { pool, group } => {
            let pool = require_pool(&node, &pool).await?;
            require_group(&node, &pool, &group).await?;
            let mut rows = Vec::new();
            let mut page = crate::core::model::PageRequest {
                limit: 1000,
                after: None,
            };
            loop {
                let subs = node.store.members_of_group(&pool.id, &group, &page).await?;
                for sub in subs.items {
                    let user = node
                        .store
                        .get_user(&pool.id, &crate::core::storage::UserRef::Sub(sub.clone()))
                        .await?;
                    let username = user.map(|u| u.username).unwrap_or_default();
                    rows.push(vec![username, sub]);
                }
                match subs.next {
                    Some(next) => page.after = Some(next),
                    None => break,
                }
            }
            print_table(&["USERNAME", "SUB"], &rows);
            Ok(())
        }
    }
}

// ------------------------------------------------------------------------------------------
// Signing keys
// ------------------------------------------------------------------------------------------

#[derive(Debug, Subcommand)]
pub enum KeysCmd {
    /// Add new ID- and access-token keys; the old ones stay in the JWKS until every token
    /// they signed has expired.
    Rotate {
        #[arg(long)]
        pool: String,
    },
    /// List a pool's signing keys, active and retired: the token keys, then the SAML SP
    /// keys (purpose saml_sp).
    List {
        #[arg(long)]
        pool: String,
    },
    /// Add a new SAML SP key pair and certificate (made on demand otherwise); prints its
    /// kid. The old certificate stays in the SP metadata for the grace period, so IdPs
    /// that refresh the metadata within it keep trusting what the SP signed before.
    RotateSaml {
        #[arg(long)]
        pool: String,
        /// How long the old certificate stays in the metadata, in days (1 to 365).
        #[arg(long, value_name = "N", default_value_t = DEFAULT_SP_GRACE_DAYS)]
        grace_days: u32,
    },
    /// Add a new key for the identity service's OpenID tokens (GetOpenIdToken, issuer
    /// `<public URL>/identity`); prints its kid. The old key stays in that issuer's JWKS
    /// until every token it signed has expired (a day at most).
    RotateIdentity,
}

pub async fn keys(node: Node, cmd: KeysCmd) -> CliResult {
    match cmd {
        KeysCmd::Rotate { pool } => {
            let pool = require_pool(&node, &pool).await?;
            let kids = node.keys.rotate(&pool.id, now()).await?;
            for (purpose, kid) in crate::core::model::KeyPurpose::ALL.iter().zip(&kids) {
                println!("{}\t{kid}", purpose.as_str());
            }
            eprintln!(
                "new tokens of pool {} are signed with these keys; the retired keys stay in the \
                 JWKS until the tokens they signed have expired",
                pool.id
            );
            Ok(())
        }
        KeysCmd::List { pool } => {
            let pool = require_pool(&node, &pool).await?;
            let mut rows: Vec<Vec<String>> = node
                .store
                .list_keys(&pool.id)
                .await?
                .into_iter()
                .map(|k| {
                    vec![
                        k.kid,
                        k.purpose.as_str().to_string(),
                        iso(k.created_at),
                        k.retired_at.map(iso).unwrap_or_else(|| "active".into()),
                        String::new(),
                    ]
                })
                .collect();
            rows.extend(
                node.store
                    .list_sp_keys(&pool.id)
                    .await?
                    .into_iter()
                    .map(|k| {
                        vec![
                            k.kid,
                            "saml_sp".to_string(),
                            iso(k.created_at),
                            k.retired_at.map(iso).unwrap_or_else(|| "active".into()),
                            k.published_until.map(iso).unwrap_or_default(),
                        ]
                    }),
            );
            print_table(
                &["KID", "PURPOSE", "CREATED", "RETIRED", "PUBLISHED_UNTIL"],
                &rows,
            );
            Ok(())
        }
        KeysCmd::RotateIdentity => {
            let now = now();
            let kid = node
                .identity_tokens
                .rotate(now)
                .await
                .map_err(|e| CliError(format!("rotating the identity key failed: {e}")))?;
            println!("{kid}");
            eprintln!(
                "the identity service ({}) signs with this key within {} seconds; the old key \
                 stays in its JWKS until {}",
                node.identity_tokens.issuer(),
                crate::core::keys::KEY_CACHE_TTL.as_secs(),
                iso(now
                    + crate::core::identity_pools::openid::MAX_OPENID_TOKEN_SECS
                    + crate::core::identity_pools::openid::VERIFY_LEEWAY_SECS)
            );
            Ok(())
        }
        KeysCmd::RotateSaml { pool, grace_days } => {
            if !(1..=MAX_SP_GRACE_DAYS).contains(&grace_days) {
                return Err(CliError(format!(
                    "--grace-days: {grace_days} is outside 1 to {MAX_SP_GRACE_DAYS}; IdPs need \
                     time to fetch the new metadata (the default is {DEFAULT_SP_GRACE_DAYS})"
                )));
            }
            let pool = require_pool(&node, &pool).await?;
            let grace_secs = i64::from(grace_days) * 86_400;
            let now = now();
            let kid = node.sp_keys.rotate(&pool.id, grace_secs, now).await?;
            println!("{kid}");
            eprintln!(
                "the SAML SP of pool {} signs with this key within {} seconds; the old \
                 certificate stays in its metadata until {}",
                pool.id,
                crate::core::sp_keys::SP_KEY_CACHE_TTL.as_secs(),
                iso(now + grace_secs)
            );
            Ok(())
        }
    }
}
