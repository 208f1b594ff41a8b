//! `cognate triggers`: a pool's webhook signing secret (`secret`, `rotate-secret`), and
//! `test`, which sends a sample event through the delivery code
//! ([`crate::core::triggers::sample`]) and shows the HTTP outcome, the latency, the
//! answer's `response` and what Cognate would do with it. `test` exits non-zero when the
//! webhook fails or its answer would be refused.

use crate::cli::{CliError, CliResult};
use crate::core::model::TriggerKind;
use crate::core::triggers::sample::{Consequence, SampleRun};
use crate::core::triggers::TriggerCaller;
use crate::server::Node;

use super::require_pool;

/// `cognate triggers ...`.
#[derive(Debug, clap::Subcommand)]
pub enum TriggersCmd {
    /// Print the pool's webhook signing secret (`whsec_<base64 key>`) for the receivers to
    /// verify signatures with; made on first use.
    Secret {
        /// The pool id.
        pool: String,
    },
    /// Replace the pool's webhook signing secret with a new one and print it; events are
    /// signed with it from now on, so give it to the receivers.
    RotateSecret {
        /// The pool id.
        pool: String,
    },
    /// Send a sample event of a trigger to the pool's webhook (or --url), signed and
    /// delivered exactly as real events are, and show the answer and what Cognate would
    /// do with it. Exits non-zero when the webhook fails or its answer would be refused.
    Test {
        /// The pool id.
        pool: String,
        /// The trigger: its configuration key (pre_sign_up, pre_token_generation, ...)
        /// or its LambdaConfig member (PreSignUp, PreTokenGeneration, ...).
        trigger: String,
        /// The event's triggerSource (default: the trigger's first, e.g. PreSignUp_SignUp).
        #[arg(long)]
        source: Option<String>,
        /// Send to this URL instead of the pool's declared webhook (same URL rules).
        #[arg(long)]
        url: Option<String>,
        /// The app client id the event names in callerContext (default: the pool's
        /// first app client).
        #[arg(long)]
        client_id: Option<String>,
        /// Also print the event sent.
        #[arg(long)]
        show_event: bool,
    },
}

pub async fn triggers(node: Node, cmd: TriggersCmd) -> CliResult {
    let (secret, pool) = match cmd {
        TriggersCmd::Secret { pool } => {
            let pool = require_pool(&node, &pool).await?;
            (node.webhooks.secret(&pool.id).await?, pool)
        }
        TriggersCmd::RotateSecret { pool } => {
            let pool = require_pool(&node, &pool).await?;
            let secret = node.webhooks.rotate_secret(&pool.id).await?;
            eprintln!(
                "pool {}'s webhooks are signed with this new secret from now on",
                pool.id
            );
            (secret, pool)
        }
        TriggersCmd::Test {
            pool,
            trigger,
            source,
            url,
            client_id,
            show_event,
        } => {
            return test(&node, &pool, &trigger, source, url, client_id, show_event).await;
        }
    };
    if pool.triggers.is_empty() {
        eprintln!("note: pool {} declares no trigger yet", pool.id);
    }
    println!("{}", secret.display());
    Ok(())
}

/// The trigger a name stands for: a configuration key or a LambdaConfig member.
fn trigger_kind(name: &str) -> Result<TriggerKind, CliError> {
    TriggerKind::ALL
        .into_iter()
        .find(|k| k.key() == name || k.lambda_config_member().eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let known: Vec<&str> = TriggerKind::ALL.iter().map(|k| k.key()).collect();
            CliError(format!(
                "{name:?} is not a trigger; use one of: {}",
                known.join(", ")
            ))
        })
}

async fn test(
    node: &Node,
    pool: &str,
    trigger: &str,
    source: Option<String>,
    url: Option<String>,
    client_id: Option<String>,
    show_event: bool,
) -> CliResult {
    let pool = require_pool(node, pool).await?;
    let kind = trigger_kind(trigger)?;
    let client_id = match client_id {
        Some(id) => Some(id),
        None => node
            .store
            .list_clients(&pool.id)
            .await?
            .first()
            .map(|c| c.id.clone()),
    };
    let caller = TriggerCaller {
        client_id,
        ..Default::default()
    };
    let run = node
        .webhooks
        .test_trigger(&pool, kind, source.as_deref(), url.as_deref(), &caller)
        .await
        .map_err(|e| CliError(e.to_string()))?;
    print_run(&run, show_event);
    match &run.consequence {
        Consequence::Honoured(_) => Ok(()),
        Consequence::Refused(why) | Consequence::Logged(why) => Err(CliError(format!(
            "the {} webhook test failed: {why}",
            kind.key()
        ))),
    }
}

fn print_run(run: &SampleRun, show_event: bool) {
    println!("trigger:   {} ({})", run.kind.key(), run.source);
    println!(
        "url:       {}",
        crate::federation::http::for_log_str(&run.url)
    );
    if show_event {
        println!("event:     {}", run.event);
    }
    for (n, attempt) in run.attempts.iter().enumerate() {
        let status = attempt
            .status
            .map_or_else(|| "no answer".to_string(), |s| format!("HTTP {s}"));
        let error = attempt
            .error
            .as_deref()
            .map_or_else(String::new, |e| format!(": {e}"));
        println!(
            "attempt {}: {status} in {} ms{error}",
            n + 1,
            attempt.elapsed.as_millis()
        );
    }
    println!("latency:   {} ms", run.elapsed.as_millis());
    match &run.response {
        Ok(response) => println!("response:  {}", serde_json::Value::Object(response.clone())),
        Err(e) => println!("failure:   {e}"),
    }
    match &run.consequence {
        Consequence::Honoured(lines) => {
            println!("Cognate would honour the answer:");
            for line in lines {
                println!("  - {line}");
            }
        }
        Consequence::Refused(why) => println!("Cognate would refuse: {why}"),
        Consequence::Logged(why) => println!("Cognate would log the failure: {why}"),
    }
}
