//! `cognate users mfa ...`: a user's second factors (issue 13). `list` shows each factor's
//! kind, id, name and dates, never a key; `reset` removes every factor and recovery code
//! (Cognito's AdminSetUserMFAPreference with everything off, and more: the keys go); and
//! `recovery-codes` prints ten new recovery codes once.
//!
//! The pool and the user are given as `<pool-id> <user>`, or `--pool <pool-id> <user>` as
//! the other `users` commands take them.

use clap::{Args, Subcommand};

use super::{directory_error, iso, print_table, require_pool};
use crate::cli::{CliError, CliResult};
use crate::core::mfa::{Mfa, MfaError};
use crate::core::model::{User, UserPool};
use crate::core::now;
use crate::server::Node;

#[derive(Debug, Subcommand)]
pub enum MfaCmd {
    /// List a user's factors: kind, id, name, created, last used (never a key).
    List(MfaTarget),
    /// Remove every factor and recovery code of a user (they enrol again at their next
    /// sign-in when the pool requires MFA).
    Reset(MfaTarget),
    /// Replace a user's recovery codes with ten new ones, printed once.
    RecoveryCodes(MfaTarget),
}

/// `<pool-id> <user>`, or `--pool <pool-id> <user>`.
#[derive(Debug, Args)]
pub struct MfaTarget {
    /// The pool (instead of the first positional argument).
    #[arg(long)]
    pub pool: Option<String>,
    /// `<pool-id> <user>` (username, sign-in alias or sub), or `<user>` with --pool.
    #[arg(num_args = 1..=2, required = true, value_name = "POOL-ID USER")]
    pub names: Vec<String>,
}

impl MfaTarget {
    fn split(&self) -> Result<(&str, &str), CliError> {
        match (&self.pool, self.names.as_slice()) {
            (Some(pool), [user]) => Ok((pool, user)),
            (None, [pool, user]) => Ok((pool, user)),
            (Some(_), _) => Err(CliError(
                "give the user alone after --pool (or `<pool-id> <user>` without --pool)".into(),
            )),
            (None, _) => Err(CliError(
                "give the pool and the user: `<pool-id> <user>`".into(),
            )),
        }
    }
}

fn service(node: &Node) -> Result<Mfa, CliError> {
    let mail = crate::config::mail::mail_router(&node.config)
        .map_err(|e| CliError(format!("mail: {e}")))?;
    let public_url = url::Url::parse(&node.config.public_url())
        .map_err(|e| CliError(format!("the public URL is not a URL: {e}")))?;
    Ok(Mfa::new(
        node.directory.clone(),
        mail,
        node.master.clone(),
        public_url,
    ))
}

async fn target(node: &Node, t: &MfaTarget) -> Result<(UserPool, User), CliError> {
    let (pool, user) = t.split()?;
    let pool = require_pool(node, pool).await?;
    let found = node
        .directory
        .require_user(&pool, user)
        .await
        .map_err(|e| directory_error(e, &pool, user))?;
    Ok((pool, found))
}

fn mfa_error(e: MfaError, user: &User) -> CliError {
    CliError(match e {
        MfaError::NotPossible(why) => format!("user {}: {why}", user.username),
        MfaError::NotFound => format!("user {} does not exist any more", user.username),
        e => format!("user {}: {e}", user.username),
    })
}

pub async fn mfa(node: &Node, cmd: MfaCmd) -> CliResult {
    match cmd {
        MfaCmd::List(t) => {
            let (_, user) = target(node, &t).await?;
            if user.mfa.factors.is_empty() {
                println!("user {} has no second factor", user.username);
                return Ok(());
            }
            let rows: Vec<Vec<String>> = user
                .mfa
                .factors
                .iter()
                .map(|f| {
                    let preferred = user.mfa.preferred == Some(f.kind);
                    vec![
                        format!("{}{}", f.kind, if preferred { " *" } else { "" }),
                        f.id.clone(),
                        f.name.clone(),
                        iso(f.created_at),
                        f.last_used_at.map(iso).unwrap_or_else(|| "-".into()),
                    ]
                })
                .collect();
            print_table(&["KIND", "ID", "NAME", "CREATED", "LAST USED"], &rows);
            println!("recovery codes left: {}", user.mfa.unused_recovery_codes());
            Ok(())
        }
        MfaCmd::Reset(t) => {
            let (pool, user) = target(node, &t).await?;
            let removed = user.mfa.factors.len();
            service(node)?
                .reset(&pool, &user.sub, now())
                .await
                .map_err(|e| mfa_error(e, &user))?;
            println!(
                "removed {removed} factor(s) and the recovery codes of {} ({})",
                user.username, user.sub
            );
            Ok(())
        }
        MfaCmd::RecoveryCodes(t) => {
            let (pool, user) = target(node, &t).await?;
            let codes = service(node)?
                .regenerate_recovery_codes(&pool, &user.sub, now())
                .await
                .map_err(|e| mfa_error(e, &user))?;
            eprintln!(
                "new recovery codes of {} (shown once; the earlier ones no longer work):",
                user.username
            );
            for code in codes {
                println!("{code}");
            }
            Ok(())
        }
    }
}
