//! `cognate users ...`: Cognito's AdminCreateUser, ListUsers, AdminGetUser,
//! AdminSetUserPassword, AdminDisableUser / AdminEnableUser, AdminDeleteUser,
//! AdminLinkProviderForUser and AdminDisableProviderForUser, plus JSON Lines export and
//! import (in [`crate::cli::transfer`]).

use std::collections::BTreeMap;
use std::io::BufRead;

use clap::{Args, Subcommand};

use super::{directory_error, iso, pretty, print_table, require_pool};
use crate::cli::transfer::{self, ExportArgs, ImportArgs};
use crate::cli::{CliError, CliResult};
use crate::core::directory::{InitialState, NewUser};
use crate::core::model::{FederatedIdentity, PageRequest, PasswordPolicy, UserPool};
use crate::core::now;
use crate::core::secrets::SecretString;
use crate::core::storage::{StoreError, UserRef};
use crate::core::throttle::{account_login_key, MfaScope, Throttle};
use crate::server::Node;

/// Cognito allows at most five federated identities per user.
pub const MAX_LINKS: usize = crate::core::model::MAX_LINKED_IDENTITIES;

/// Upstream provider types, as Cognito names them in `identities`.
pub const PROVIDER_TYPES: &[&str] = &[
    "Google",
    "Facebook",
    "LoginWithAmazon",
    "SignInWithApple",
    "OIDC",
    "SAML",
];

#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// Create a user with a password, an invitation (temporary password) or no password.
    Create(UserCreateArgs),
    /// List a pool's users, one page at a time.
    List {
        #[arg(long)]
        pool: String,
        /// Users per page (1 to 1000).
        #[arg(long, default_value_t = 60)]
        limit: u32,
        /// The page token printed by the previous page.
        #[arg(long)]
        page: Option<String>,
    },
    /// Print a user as JSON (without the password hash).
    Describe {
        #[arg(long)]
        pool: String,
        /// Username, sign-in alias or sub.
        user: String,
    },
    /// Set a user's password (permanent, or temporary with --temporary).
    SetPassword {
        #[arg(long)]
        pool: String,
        /// Username, sign-in alias or sub.
        user: String,
        #[command(flatten)]
        password: PasswordArgs,
        /// The user must choose a new password at the next sign-in.
        #[arg(long)]
        temporary: bool,
    },
    /// Disable a user: they can no longer sign in.
    Disable {
        #[arg(long)]
        pool: String,
        user: String,
    },
    /// Enable a disabled user.
    Enable {
        #[arg(long)]
        pool: String,
        user: String,
    },
    /// Delete a user with their memberships and federated links.
    Delete {
        #[arg(long)]
        pool: String,
        user: String,
        /// Confirm the deletion.
        #[arg(long)]
        yes: bool,
    },
    /// Link an identity at an upstream IdP to a user (AdminLinkProviderForUser).
    Link(LinkArgs),
    /// Remove a user's link to an upstream identity.
    Unlink {
        #[arg(long)]
        pool: String,
        user: String,
        /// The IdP's name in the pool.
        #[arg(long)]
        provider: String,
        /// Only the link with this upstream subject (all links to the provider otherwise).
        #[arg(long)]
        subject: Option<String>,
    },
    /// Bind every link of a provider to its current issuer, after repointing the provider
    /// at an IdP that issues the same subjects (sign-ins through links made with the old
    /// issuer are refused until then). When the new IdP's subjects are other people,
    /// unlink or delete the old users instead.
    Relink {
        #[arg(long)]
        pool: String,
        /// The IdP's name in the pool.
        provider: String,
        /// Confirm that the provider's current issuer issues the same subjects.
        #[arg(long)]
        yes: bool,
    },
    /// Logins locked by failed sign-ins (brute-force protection): whole accounts, and
    /// accounts locked for one address.
    Lockouts {
        #[arg(long)]
        pool: String,
    },
    /// Clear a login's failed sign-in counts (the account's and every address's).
    Unlock {
        #[arg(long)]
        pool: String,
        /// The login as users type it (username or email), or a key from `lockouts`.
        user: String,
    },
    /// A user's second factors: list them, reset them, new recovery codes.
    #[command(subcommand)]
    Mfa(super::MfaCmd),
    /// Write every user of a pool as JSON Lines (with password hashes, groups and links).
    Export(ExportArgs),
    /// Import users from JSON Lines, keeping sub, attributes, groups, links and hashes.
    Import(ImportArgs),
}

/// Where a password comes from. `--password` is visible to other local users in the
/// process list; `--password-stdin` is not.
#[derive(Debug, Args)]
pub struct PasswordArgs {
    /// The password (visible in the process list; prefer --password-stdin).
    #[arg(long, conflicts_with = "password_stdin")]
    pub password: Option<SecretString>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

impl PasswordArgs {
    fn read(&self) -> Result<Option<SecretString>, CliError> {
        if let Some(p) = &self.password {
            return Ok(Some(p.clone()));
        }
        if !self.password_stdin {
            return Ok(None);
        }
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| CliError(format!("--password-stdin: cannot read standard input: {e}")))?;
        let pw = line.strip_suffix('\n').unwrap_or(&line);
        let pw = pw.strip_suffix('\r').unwrap_or(pw);
        if pw.is_empty() {
            return Err(CliError(
                "--password-stdin: standard input held no password".into(),
            ));
        }
        Ok(Some(SecretString::new(pw)))
    }
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    #[arg(long)]
    pub pool: String,
    /// The username (with --email-as-username pools, the email address).
    pub username: String,
    /// An attribute, `name=value` (repeatable): standard ones or `custom:<name>`.
    #[arg(long = "attribute", short = 'a', value_name = "NAME=VALUE")]
    pub attributes: Vec<String>,
    #[command(flatten)]
    pub password: PasswordArgs,
    /// The password is temporary: the user must change it at first sign-in
    /// (FORCE_CHANGE_PASSWORD).
    #[arg(long)]
    pub temporary: bool,
    /// Invite the user: FORCE_CHANGE_PASSWORD with the given password, or with a generated
    /// temporary password that is printed once.
    #[arg(long)]
    pub invite: bool,
    /// Create a CONFIRMED user without any password (e.g. one who signs in through an IdP).
    #[arg(long, conflicts_with_all = ["password", "password_stdin", "temporary", "invite"])]
    pub no_password: bool,
}

#[derive(Debug, Args)]
pub struct LinkArgs {
    #[arg(long)]
    pub pool: String,
    /// Username, sign-in alias or sub.
    pub user: String,
    /// The IdP's name in the pool (e.g. Google, MyOkta).
    #[arg(long)]
    pub provider: String,
    /// Google, Facebook, LoginWithAmazon, SignInWithApple, OIDC or SAML.
    #[arg(long)]
    pub provider_type: String,
    /// The user's id at the IdP (its `sub`, Facebook `id`, SAML NameID, ...).
    #[arg(long)]
    pub subject: String,
    /// The IdP's issuer (OIDC and SAML).
    #[arg(long)]
    pub issuer: Option<String>,
}

pub async fn users(node: Node, cmd: UsersCmd) -> CliResult {
    match cmd {
        UsersCmd::Create(args) => create_user(&node, args).await,
        UsersCmd::List { pool, limit, page } => list_users(&node, &pool, limit, page).await,
        UsersCmd::Describe { pool, user } => {
            let pool = require_pool(&node, &pool).await?;
            let found = node
                .directory
                .require_user(&pool, &user)
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            let groups = node.store.groups_of_user(&pool.id, &found.sub).await?;
            let mut value = serde_json::to_value(&found)?;
            if let Some(obj) = value.as_object_mut() {
                // The hash is a secret too; the lookup keys and version are internal.
                obj.remove("password_hash");
                obj.remove("lookup");
                obj.remove("version");
                // Factors hold sealed keys and hashed codes: only their kinds are shown
                // (`cognate users mfa list` shows more).
                obj.remove("mfa");
                obj.insert(
                    "mfa_factors".into(),
                    found
                        .mfa
                        .kinds()
                        .into_iter()
                        .map(|k| k.as_str())
                        .collect::<Vec<_>>()
                        .into(),
                );
                obj.insert("password_set".into(), found.password_hash.is_some().into());
                // The SRP verifier is a fast hash of the password (sealed, but not shown):
                // only whether USER_SRP_AUTH can sign the user in yet.
                obj.remove("srp");
                obj.insert("srp_ready".into(), found.srp.is_some().into());
                obj.insert(
                    "groups".into(),
                    groups
                        .into_iter()
                        .map(|g| g.name)
                        .collect::<Vec<_>>()
                        .into(),
                );
            }
            println!("{}", pretty(&value)?);
            Ok(())
        }
        UsersCmd::SetPassword {
            pool,
            user,
            password,
            temporary,
        } => {
            let pool = require_pool(&node, &pool).await?;
            let Some(pw) = password.read()? else {
                return Err(CliError(
                    "give the new password with --password-stdin or --password".into(),
                ));
            };
            let found = node
                .directory
                .require_user(&pool, &user)
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            let updated = node
                .directory
                .set_password(&pool, &found.sub, &pw, !temporary, now())
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            println!(
                "password set for {}; status {}",
                updated.username, updated.status
            );
            Ok(())
        }
        UsersCmd::Disable { pool, user } => set_enabled(&node, &pool, &user, false).await,
        UsersCmd::Enable { pool, user } => set_enabled(&node, &pool, &user, true).await,
        UsersCmd::Delete { pool, user, yes } => {
            let pool = require_pool(&node, &pool).await?;
            let found = node
                .directory
                .require_user(&pool, &user)
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            if !yes {
                return Err(CliError(format!(
                    "deleting user {} cannot be undone (its sub is never reused); add --yes to \
                     confirm",
                    found.username
                )));
            }
            node.directory
                .delete_user(&pool, &found.sub)
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            println!("deleted user {} ({})", found.username, found.sub);
            Ok(())
        }
        UsersCmd::Link(args) => link(&node, args).await,
        UsersCmd::Unlink {
            pool,
            user,
            provider,
            subject,
        } => {
            let pool = require_pool(&node, &pool).await?;
            let found = node
                .directory
                .require_user(&pool, &user)
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            let matches = |i: &FederatedIdentity| {
                i.provider_name == provider && subject.as_ref().is_none_or(|s| *s == i.user_id)
            };
            if !found.identities.iter().any(matches) {
                return Err(CliError(format!(
                    "user {user:?} has no link to provider {provider:?}{}",
                    subject
                        .as_ref()
                        .map(|s| format!(" with subject {s:?}"))
                        .unwrap_or_default()
                )));
            }
            let now = now();
            node.directory
                .modify_user(&pool, &found.sub, |u| {
                    u.identities.retain(|i| !matches(i));
                    u.updated_at = now;
                    Ok(())
                })
                .await
                .map_err(|e| directory_error(e, &pool, &user))?;
            println!("unlinked {} from {provider}", found.username);
            Ok(())
        }
        UsersCmd::Relink {
            pool,
            provider,
            yes,
        } => {
            let pool = require_pool(&node, &pool).await?;
            let Some(idp) = pool.identity_provider(&provider) else {
                return Err(CliError(format!(
                    "pool {} has no identity provider {provider:?}",
                    pool.id
                )));
            };
            if !yes {
                return Err(CliError(format!(
                    "relinking hands every user linked to {provider} to whoever {} says has \
                     the same subject; add --yes to confirm",
                    idp.link_binding()
                )));
            }
            let rebound = crate::federation::linking::relink(&node.directory, &pool, idp, now())
                .await
                .map_err(|e| CliError(e.to_string()))?;
            println!(
                "rebound {rebound} user(s) linked to {provider} to {}",
                idp.link_binding()
            );
            Ok(())
        }
        UsersCmd::Lockouts { pool } => lockouts(&node, &pool).await,
        UsersCmd::Unlock { pool, user } => unlock(&node, &pool, &user).await,
        UsersCmd::Mfa(cmd) => super::mfa::mfa(&node, cmd).await,
        UsersCmd::Export(args) => transfer::export(&node, args).await,
        UsersCmd::Import(args) => transfer::import(&node, args).await,
    }
}

/// Locks in force, from the sign-in throttle's counters (see [`crate::core::throttle`]).
async fn lockouts(node: &Node, pool: &str) -> CliResult {
    let pool = require_pool(node, pool).await?;
    let throttle = Throttle::new(node.store.clone());
    let locks = throttle.list_locked(&pool.id, now()).await?;
    let mfa_locks = throttle.list_mfa_locked(&pool.id, now()).await?;
    if locks.is_empty() && mfa_locks.is_empty() {
        println!("no lockouts in pool {}", pool.id);
        return Ok(());
    }
    let mut rows: Vec<Vec<String>> = locks
        .into_iter()
        .map(|l| {
            vec![
                l.login_key,
                l.address.unwrap_or_else(|| "(all addresses)".to_string()),
                l.failures.to_string(),
                iso(l.until),
            ]
        })
        .collect();
    // Second-factor codes (issue 13) are counted per account, by sub.
    for (scope, key, failures, until) in mfa_locks {
        let login = match node
            .store
            .get_user(&pool.id, &UserRef::Sub(key.clone()))
            .await?
        {
            Some(u) => u.lookup.username,
            None => key,
        };
        let what = match scope {
            MfaScope::SecondFactor => "(second-factor codes)",
            MfaScope::SignIn => "(emailed sign-in codes)",
        };
        rows.push(vec![
            login,
            what.to_string(),
            failures.to_string(),
            iso(until),
        ]);
    }
    print_table(&["LOGIN", "ADDRESS", "FAILURES", "LOCKED UNTIL"], &rows);
    Ok(())
}

async fn unlock(node: &Node, pool: &str, user: &str) -> CliResult {
    let pool = require_pool(node, pool).await?;
    let throttle = Throttle::new(node.store.clone());
    // The key as the throttle counts it (the account's, whichever identifier is given);
    // a key copied from `lockouts` is already one.
    let found = node
        .directory
        .find_user(&pool, user)
        .await
        .map_err(|e| CliError(e.to_string()))?;
    let key = account_login_key(&pool, user, found.as_ref());
    let mut cleared = throttle.unlock(&pool.id, &key).await?;
    // The account's second-factor counts (by sub) go too.
    if let Some(u) = &found {
        cleared += throttle.mfa_unlock(&pool.id, &u.sub).await?;
    }
    if cleared == 0 && user != key {
        cleared = throttle.unlock(&pool.id, user).await?;
    }
    if cleared == 0 {
        println!("{user} had no failed sign-ins counted in pool {}", pool.id);
    } else {
        println!(
            "unlocked {user} in pool {} ({cleared} counters cleared)",
            pool.id
        );
    }
    Ok(())
}

async fn create_user(node: &Node, args: UserCreateArgs) -> CliResult {
    let pool = require_pool(node, &args.pool).await?;
    let attributes = parse_attributes(&args.attributes)?;
    let given = args.password.read()?;
    let invite = args.invite || args.temporary;
    let (password, state, generated) = match (given, invite, args.no_password) {
        (_, _, true) => (None, InitialState::Confirmed, false),
        (Some(pw), false, false) => (Some(pw), InitialState::Confirmed, false),
        (Some(pw), true, false) => (Some(pw), InitialState::ForceChangePassword, false),
        (None, true, false) => (
            Some(generate_password(&pool.password_policy)),
            InitialState::ForceChangePassword,
            true,
        ),
        (None, false, false) => {
            return Err(CliError(
                "give a password (--password-stdin or --password), --invite for a temporary \
                 password, or --no-password for a user without one"
                    .into(),
            ))
        }
    };
    let new = NewUser {
        username: args.username.clone(),
        attributes,
        password: password.clone(),
        state,
    };
    let user = node
        .directory
        .create_user(&pool, new, now())
        .await
        .map_err(|e| directory_error(e, &pool, &args.username))?;
    println!("{}", user.sub);
    eprintln!(
        "created user {} in pool {} (status {})",
        user.username, pool.id, user.status
    );
    if let (true, Some(pw)) = (generated, &password) {
        // Shown once: Cognate keeps only its hash.
        println!("temporary password: {}", pw.expose());
    }
    Ok(())
}

/// `name=value` pairs; each name once.
fn parse_attributes(pairs: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    let mut out = BTreeMap::new();
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            return Err(CliError(format!(
                "--attribute {pair:?}: write name=value, e.g. email=ana@example.com"
            )));
        };
        if name.is_empty() {
            return Err(CliError(format!("--attribute {pair:?}: the name is empty")));
        }
        if out.insert(name.to_string(), value.to_string()).is_some() {
            return Err(CliError(format!("--attribute {name}: given twice")));
        }
    }
    Ok(out)
}

/// A random temporary password that satisfies the pool's policy (the core's, which
/// AdminCreateUser draws too).
pub(crate) fn generate_password(policy: &PasswordPolicy) -> SecretString {
    crate::core::account::admin::generate_temporary_password(policy)
}

async fn list_users(node: &Node, pool: &str, limit: u32, page: Option<String>) -> CliResult {
    let pool = require_pool(node, pool).await?;
    if !(1..=1000).contains(&limit) {
        return Err(CliError(format!("--limit: {limit} is outside 1 to 1000")));
    }
    let request = PageRequest { limit, after: page };
    let listed = node
        .store
        .list_users(&pool.id, &request)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => {
                CliError("--page: not a page token printed by `cognate users list`".into())
            }
            other => other.into(),
        })?;
    let rows: Vec<Vec<String>> = listed
        .items
        .iter()
        .map(|u| {
            vec![
                u.username.clone(),
                u.sub.clone(),
                u.status.to_string(),
                u.enabled.to_string(),
                u.attribute("email").unwrap_or("").to_string(),
            ]
        })
        .collect();
    print_table(&["USERNAME", "SUB", "STATUS", "ENABLED", "EMAIL"], &rows);
    if let Some(next) = listed.next {
        eprintln!("more users: add --page {next}");
    }
    Ok(())
}

async fn set_enabled(node: &Node, pool: &str, user: &str, enabled: bool) -> CliResult {
    let pool = require_pool(node, pool).await?;
    let found = node
        .directory
        .require_user(&pool, user)
        .await
        .map_err(|e| directory_error(e, &pool, user))?;
    node.directory
        .set_enabled(&pool, &found.sub, enabled, now())
        .await
        .map_err(|e| directory_error(e, &pool, user))?;
    println!(
        "{} {}",
        if enabled { "enabled" } else { "disabled" },
        found.username
    );
    Ok(())
}

/// The canonical spelling of a provider type, matched case-insensitively.
pub(crate) fn provider_type(text: &str) -> Option<&'static str> {
    PROVIDER_TYPES
        .iter()
        .copied()
        .find(|t| t.eq_ignore_ascii_case(text))
}

/// An IdP name by Cognito's rule for `ProviderName`: 1 to 32 characters, no spaces, and
/// not `COGNITO` (the pool's own directory).
pub(crate) fn check_provider_name(name: &str) -> Result<(), String> {
    if name.is_empty()
        || name.chars().count() > 32
        || name.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "{name:?} is not a provider name: use 1 to 32 characters without spaces"
        ));
    }
    if name.eq_ignore_ascii_case("COGNITO") {
        return Err("COGNITO is the pool's own directory, not an upstream provider".into());
    }
    Ok(())
}

async fn link(node: &Node, args: LinkArgs) -> CliResult {
    let pool: UserPool = require_pool(node, &args.pool).await?;
    check_provider_name(&args.provider).map_err(|r| CliError(format!("--provider: {r}")))?;
    let Some(kind) = provider_type(&args.provider_type) else {
        return Err(CliError(format!(
            "--provider-type: {:?} is not a provider type; use one of: {}",
            args.provider_type,
            PROVIDER_TYPES.join(", ")
        )));
    };
    if args.subject.is_empty() || args.subject.len() > 2048 {
        return Err(CliError(
            "--subject: give the user's id at the IdP (1 to 2048 characters)".into(),
        ));
    }
    let found = node
        .directory
        .require_user(&pool, &args.user)
        .await
        .map_err(|e| directory_error(e, &pool, &args.user))?;
    let by_link = UserRef::Federated(args.provider.clone(), args.subject.clone());
    if let Some(other) = node.store.get_user(&pool.id, &by_link).await? {
        return Err(CliError(if other.sub == found.sub {
            format!("user {} is already linked to this identity", found.username)
        } else {
            format!(
                "identity {}:{} is already linked to user {} ({})",
                args.provider, args.subject, other.username, other.sub
            )
        }));
    }
    let now = now();
    let identity = FederatedIdentity {
        provider_name: args.provider.clone(),
        provider_type: kind.to_string(),
        user_id: args.subject.clone(),
        issuer: args.issuer.clone(),
        attributes: BTreeMap::new(),
        // A provider not declared yet binds the link at its first sign-in.
        bound_to: pool
            .identity_provider(&args.provider)
            .map(|p| p.link_binding()),
        linked_at: now,
    };
    let updated = node
        .directory
        .modify_user(&pool, &found.sub, |u| {
            if let Some(existing) = u
                .identities
                .iter()
                .find(|i| i.provider_name == identity.provider_name)
            {
                return Err(crate::core::directory::DirectoryError::InvalidParameter(
                    format!(
                        "user is already linked to provider {} (subject {}); unlink it first",
                        existing.provider_name, existing.user_id
                    ),
                ));
            }
            if u.identities.len() >= MAX_LINKS {
                return Err(crate::core::directory::DirectoryError::InvalidParameter(
                    format!(
                        "a user can be linked to at most {MAX_LINKS} identities (Cognito's limit)"
                    ),
                ));
            }
            u.identities.push(identity.clone());
            u.updated_at = now;
            Ok(())
        })
        .await
        .map_err(|e| directory_error(e, &pool, &args.user))?;
    println!(
        "linked {} to {}:{} (linked at {})",
        updated.username,
        args.provider,
        args.subject,
        iso(now)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::password::check_policy;

    #[test]
    fn generated_passwords_meet_the_policy() {
        let mut policy = PasswordPolicy::default();
        for _ in 0..200 {
            let pw = generate_password(&policy);
            assert!(
                check_policy(&policy, pw.expose()).is_ok(),
                "{}",
                pw.expose()
            );
        }
        policy.minimum_length = 40;
        assert_eq!(generate_password(&policy).expose().len(), 40);
    }

    #[test]
    fn debug_of_the_arguments_hides_the_password() {
        use clap::Parser;

        let cli = crate::cli::Cli::try_parse_from([
            "cognate",
            "users",
            "set-password",
            "--pool",
            "us-east-1_Debug",
            "carol",
            "--password",
            "Pa55word-in-argv!",
        ])
        .unwrap();
        let text = format!("{cli:?}");
        assert!(!text.contains("Pa55word-in-argv!"), "{text}");
        assert!(text.contains("carol"), "{text}");
    }

    #[test]
    fn attribute_pairs() {
        let a = parse_attributes(&["email=a@b.c".into(), "name=A=B".into()]).unwrap();
        assert_eq!(a["name"], "A=B");
        assert!(parse_attributes(&["noequals".into()]).is_err());
        assert!(parse_attributes(&["x=1".into(), "x=2".into()]).is_err());
    }
}
