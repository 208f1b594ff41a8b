//! The auth event log: every sign-in attempt, sign-up, confirmation, reset, MFA change
//! and federated sign-in of a pool whose threat protection is on (`audit` or `enforced`).
//!
//! Events are written in bulk: [`AuthEvents::record`] hands the event to this node's
//! writer task and returns at once, and the writer inserts whatever has gathered (up to
//! [`BATCH`] events, at most [`LINGER`] after the first) in one statement. So a sign-in
//! pays no write of its own, and a busy node writes one statement for many sign-ins. An
//! event waits at most [`LINGER`] in memory; a node that crashes loses at most that much
//! of the log, never anything a request needs (the log is for review and the risk
//! signals, never the state of a flow).
//!
//! Events are kept `[server] auth_event_retention_days` (90 by default): the writer
//! prunes older ones every [`PRUNE_EVERY`], and listings never show them.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::core::model::{
    AuthEvent, AuthEventKind, AuthEventOutcome, EventFeedback, EventRisk, Page, PageRequest,
    UserPool,
};
use crate::core::secrets::random_bytes;
use crate::core::storage::{Store, StoreError};
use crate::core::UnixTime;

/// The most events one insert carries.
pub const BATCH: usize = 500;
/// How long the writer waits for more events after the first of a batch.
pub const LINGER: Duration = Duration::from_millis(50);
/// How often the writer deletes events older than the retention.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// Events waiting for the writer; beyond this, `record` waits (backpressure) rather than
/// letting memory grow.
const QUEUE: usize = 10_000;
/// The default retention, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// Where an event comes from, as the edge knows it.
#[derive(Debug, Clone, Default)]
pub struct EventContext {
    pub client_id: Option<String>,
    pub address: Option<IpAddr>,
    pub user_agent: Option<String>,
    /// The device cookie's id (already hashed by the edge), if any.
    pub device: Option<String>,
    /// The edge gives every browser a device cookie (the hosted UI): a request without
    /// one is from a new device, not from one that cannot say.
    pub expects_device: bool,
}

impl EventContext {
    /// The longest user agent kept (a header can be 8 KiB; the log needs the start).
    pub const MAX_USER_AGENT: usize = 512;
    /// The longest login kept (usernames and email addresses are far shorter).
    pub const MAX_LOGIN: usize = 256;

    pub fn new(client_id: Option<&str>, address: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        EventContext {
            client_id: client_id.map(str::to_string),
            // `::ffff:a.b.c.d` (a dual-stack listener) is the IPv4 client it is.
            address: address.map(|a| a.to_canonical()),
            user_agent: user_agent.map(|ua| truncate(ua, Self::MAX_USER_AGENT)),
            device: None,
            expects_device: false,
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// A new event id, 32 hex digits (Cognito's `EventId` is a UUID-like opaque string): the
/// wall clock in microseconds, then 8 random bytes. Listings order events of one second by
/// id, so the clock part keeps them in the order they happened (a random id alone would
/// shuffle a user's sign-up, confirmation and first sign-in when they share a second).
pub fn new_event_id() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default();
    let random: String = random_bytes::<8>()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("{micros:016x}{random}")
}

/// Builds the event `kind` with `outcome` for `pool`, from `context`, with no risk yet.
pub fn event(
    pool: &UserPool,
    kind: AuthEventKind,
    outcome: AuthEventOutcome,
    sub: Option<&str>,
    username: &str,
    context: &EventContext,
    now: UnixTime,
) -> AuthEvent {
    AuthEvent {
        id: new_event_id(),
        pool_id: pool.id.clone(),
        sub: sub.map(str::to_string),
        // A login as typed can be anything a request carries: the log keeps its start.
        username: truncate(username, EventContext::MAX_LOGIN),
        kind,
        outcome,
        challenges: Vec::new(),
        created_at: now,
        client_id: context.client_id.clone(),
        address: context.address,
        user_agent: context.user_agent.clone(),
        device: context.device.clone(),
        location: None,
        risk: EventRisk::default(),
        feedback: None,
        details: Default::default(),
    }
}

enum Command {
    Record(Box<AuthEvent>),
    Flush(oneshot::Sender<()>),
}

/// The auth event log of this node: a handle on the writer task. Cheap to clone.
#[derive(Clone)]
pub struct AuthEvents {
    store: Arc<dyn Store>,
    tx: mpsc::Sender<Command>,
    retention_secs: i64,
}

impl std::fmt::Debug for AuthEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthEvents").finish()
    }
}

impl AuthEvents {
    /// Starts this node's writer task (on the current Tokio runtime); events older than
    /// `retention_days` are pruned every [`PRUNE_EVERY`].
    pub fn start(store: Arc<dyn Store>, retention_days: u32) -> Self {
        let (tx, rx) = mpsc::channel(QUEUE);
        let retention_secs = i64::from(retention_days.max(1)) * 86_400;
        tokio::spawn(writer(store.clone(), rx, retention_secs));
        AuthEvents {
            store,
            tx,
            retention_secs,
        }
    }

    /// Queues `event` for the next batch. Only pools with threat protection on record:
    /// an event of a pool with `mode = "off"` is dropped here.
    pub async fn record(&self, pool: &UserPool, event: AuthEvent) {
        if !pool.threat_protection.records_events() {
            return;
        }
        // Never waits: a full queue (a database that stalls) drops the event rather than
        // hold up the request it records.
        match self.tx.try_send(Command::Record(Box::new(event))) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::warn!("auth event queue full; event dropped");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                tracing::warn!("auth event writer stopped; event dropped");
            }
        }
    }

    /// Waits until every event queued on this node before the call is written (listings
    /// and tests read their own node's events at once).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Command::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    /// A pool's events (one user's when `sub` is given), newest first, within the
    /// retention. This node's queued events are written first.
    pub async fn list(
        &self,
        pool_id: &str,
        sub: Option<&str>,
        page: &PageRequest,
        now: UnixTime,
    ) -> Result<Page<AuthEvent>, StoreError> {
        self.flush().await;
        self.store
            .list_auth_events(pool_id, sub, now - self.retention_secs, page)
            .await
    }

    /// One event of a pool, within the retention.
    pub async fn get(
        &self,
        pool_id: &str,
        id: &str,
        now: UnixTime,
    ) -> Result<Option<AuthEvent>, StoreError> {
        self.flush().await;
        let event = self.store.get_auth_event(pool_id, id).await?;
        Ok(event.filter(|e| e.created_at >= now - self.retention_secs))
    }

    /// Records a user's or an administrator's answer about event `id` of user `sub`
    /// (AdminUpdateAuthEventFeedback; the "not me" page). Returns whether the event was
    /// found (an event of another user is not).
    pub async fn set_feedback(
        &self,
        pool_id: &str,
        sub: &str,
        id: &str,
        feedback: EventFeedback,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let Some(mut event) = self.get(pool_id, id, now).await? else {
            return Ok(false);
        };
        if event.sub.as_deref() != Some(sub) {
            return Ok(false);
        }
        event.feedback = Some(feedback);
        self.store.update_auth_event(&event).await
    }

    /// Deletes events older than the retention; returns how many (the writer does this
    /// every [`PRUNE_EVERY`]; the CLI on demand).
    pub async fn prune(&self, now: UnixTime) -> Result<u64, StoreError> {
        self.store
            .prune_auth_events(now - self.retention_secs)
            .await
    }

    /// The retention, in seconds.
    pub fn retention_secs(&self) -> i64 {
        self.retention_secs
    }
}

/// The writer task: gathers events into batches and writes each with one insert, prunes
/// on schedule, and answers flushes once everything before them is written.
async fn writer(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Command>, retention_secs: i64) {
    // The first prune waits a whole period: a node that only lives for one CLI command
    // deletes nothing as a side effect (`cognate events prune` is the way to do it now).
    let mut prune =
        tokio::time::interval_at(tokio::time::Instant::now() + PRUNE_EVERY, PRUNE_EVERY);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            command = rx.recv() => match command {
                Some(command) => command,
                None => return,
            },
            _ = prune.tick() => {
                match store.prune_auth_events(crate::core::now() - retention_secs).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(pruned = n, "auth events past their retention deleted"),
                    Err(e) => tracing::warn!(error = %e, "pruning auth events failed"),
                }
                continue;
            }
        };
        let mut batch: Vec<AuthEvent> = Vec::new();
        let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
        take(first, &mut batch, &mut flushes);
        let deadline = tokio::time::Instant::now() + LINGER;
        while batch.len() < BATCH && flushes.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(command)) => take(command, &mut batch, &mut flushes),
                Ok(None) | Err(_) => break,
            }
        }
        // Whatever else is already queued joins this batch.
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(command) => take(command, &mut batch, &mut flushes),
                Err(_) => break,
            }
        }
        write(&store, &batch).await;
        for done in flushes {
            let _ = done.send(());
        }
    }
}

fn take(command: Command, batch: &mut Vec<AuthEvent>, flushes: &mut Vec<oneshot::Sender<()>>) {
    match command {
        Command::Record(event) => batch.push(*event),
        Command::Flush(done) => flushes.push(done),
    }
}

/// Writes one batch, trying again once after a short pause (a busy SQLite file, a
/// PostgreSQL failover); a batch that still fails is logged and dropped, since the log
/// must never hold up sign-ins.
async fn write(store: &Arc<dyn Store>, batch: &[AuthEvent]) {
    if batch.is_empty() {
        return;
    }
    if let Err(first) = store.insert_auth_events(batch).await {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Err(e) = store.insert_auth_events(batch).await {
            tracing::error!(error = %e, first_error = %first, events = batch.len(), "auth events lost");
        }
    }
}
