//! `cognate events`: the auth event log of threat protection. `list` shows a pool's
//! events (one user's with `--user`), newest first, as a table or as JSON with every
//! field; `prune` deletes the events past `[server] auth_event_retention_days` at once
//! (each server also does it hourly).

use crate::cli::{CliError, CliResult};
use crate::core::model::{AuthEvent, PageRequest};
use crate::core::now;
use crate::server::Node;

use super::{iso, pretty, print_table, require_pool};

/// `cognate events ...`.
#[derive(Debug, clap::Subcommand)]
pub enum EventsCmd {
    /// A pool's auth events, newest first: sign-ins, sign-ups, confirmations, password
    /// resets and changes, MFA changes, federated sign-ins (recorded while the pool's
    /// threat protection mode is audit or enforced).
    List {
        /// The pool id.
        pool: String,
        /// Only this user's events (username, alias or sub).
        #[arg(long)]
        user: Option<String>,
        /// At most this many events.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        limit: u32,
        /// Print JSON (every field of each event) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Delete the events older than `[server] auth_event_retention_days` now and print
    /// how many went.
    Prune,
}

pub async fn events(node: Node, cmd: EventsCmd) -> CliResult {
    match cmd {
        EventsCmd::List {
            pool,
            user,
            limit,
            json,
        } => list(&node, &pool, user.as_deref(), limit, json).await,
        EventsCmd::Prune => {
            let pruned = node.events.prune(now()).await?;
            println!("{pruned}");
            eprintln!(
                "{pruned} auth event(s) older than {} day(s) deleted",
                node.events.retention_secs() / 86_400
            );
            Ok(())
        }
    }
}

async fn list(node: &Node, pool: &str, user: Option<&str>, limit: u32, json: bool) -> CliResult {
    let pool = require_pool(node, pool).await?;
    if !pool.threat_protection.records_events() {
        eprintln!(
            "note: pool {}'s threat protection mode is off: nothing new is recorded",
            pool.id
        );
    }
    let sub = match user {
        Some(login) => Some(
            node.directory
                .find_user(&pool, login)
                .await?
                .ok_or_else(|| {
                    CliError(format!(
                        "--user: user {login:?} does not exist in pool {}",
                        pool.id
                    ))
                })?
                .sub,
        ),
        None => None,
    };
    let now = now();
    let mut events: Vec<AuthEvent> = Vec::new();
    let mut after = None;
    while events.len() < limit as usize {
        let page = PageRequest {
            limit: (limit as usize - events.len()).min(500) as u32,
            after,
        };
        let found = node
            .events
            .list(&pool.id, sub.as_deref(), &page, now)
            .await?;
        events.extend(found.items);
        match found.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if json {
        println!("{}", pretty(&serde_json::to_value(&events)?)?);
        return Ok(());
    }
    let rows: Vec<Vec<String>> = events.iter().map(row).collect();
    print_table(
        &[
            "TIME",
            "USER",
            "KIND",
            "OUTCOME",
            "RISK",
            "DECISION",
            "ADDRESS",
            "CLIENT",
            "USER AGENT",
            "SIGNALS",
        ],
        &rows,
    );
    Ok(())
}

fn row(event: &AuthEvent) -> Vec<String> {
    let dash = || "-".to_string();
    let user_agent: String = event
        .user_agent
        .as_deref()
        .map(|ua| ua.chars().take(40).collect())
        .unwrap_or_else(dash);
    let mut signals = event.risk.signals.join(",");
    if signals.is_empty() {
        signals = dash();
    }
    vec![
        iso(event.created_at),
        if event.username.is_empty() {
            dash()
        } else {
            event.username.clone()
        },
        event.kind.as_str().to_string(),
        event.outcome.as_str().to_string(),
        event
            .risk
            .level
            .as_cognito()
            .map(str::to_string)
            .unwrap_or_else(dash),
        if event.risk.decision.is_empty() {
            dash()
        } else {
            event.risk.decision.clone()
        },
        event.address.map(|a| a.to_string()).unwrap_or_else(dash),
        event.client_id.clone().unwrap_or_else(dash),
        user_agent,
        signals,
    ]
}
