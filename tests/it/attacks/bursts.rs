//! Parallel password guesses (issue 8, hole 1): 200 wrong passwords sent at once, over
//! HTTP, verify at most the limits (10 from one address, 20 from twenty addresses), on
//! SQLite, on PostgreSQL, and split across two nodes on one PostgreSQL; beside each, the
//! honest user signing in.
//!
//! Verifications are counted with the counting hasher of `crate::passwords` (the real
//! Argon2id hasher, counting each verification), not guessed from timings or answers. For
//! two nodes, both are in-process servers (`TestServer`) over the same PostgreSQL schema,
//! each with its own listener, `Node` and password pool but one shared counter: a separate
//! `cognate` process could not carry the counting hasher, and the limit under test lives
//! in the store both nodes share, not in anything a process holds alone. The answers are
//! checked too: exactly as many "Incorrect username or password." pages as verifications,
//! every other request refused as locked (429).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use cognate::core::password::Passwords;
use cognate::core::secrets::MasterKey;

use super::*;
use crate::claims::{pools_toml, secrets_env};
use crate::passwords::{Counting, CountingHasher};
use crate::support::pg::{fresh_pg_url, PgTestDb};

/// Requests in one burst.
const BURST: usize = 200;
const ATTACKER: &str = "203.0.113.9";
const HONEST: &str = "198.51.100.7";

/// One or more nodes over one store, all verifying passwords with one counting hasher.
struct Cluster {
    nodes: Vec<TestServer>,
    counts: Arc<Counting>,
    db: Option<PgTestDb>,
}

impl Cluster {
    /// `nodes` servers on `db` (PostgreSQL), or one on its own SQLite file without it.
    /// Each trusts X-Forwarded-For from 127.0.0.1, so a test names the client's address.
    async fn start(db: Option<PgTestDb>, nodes: usize) -> Cluster {
        let counts = Arc::new(Counting::default());
        let (_, master_key) = MasterKey::generate();
        let mut env = secrets_env();
        if let Some(db) = &db {
            env.push(("COGNATE_DATABASE_URL".into(), db.url.clone()));
            env.push(("COGNATE_MASTER_KEY".into(), master_key.clone()));
        }
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let mut servers = Vec::new();
        // One after the other: the first applies the config and makes the keys.
        for _ in 0..nodes {
            let hasher = Arc::new(CountingHasher(counts.clone()));
            let passwords = Passwords::new(hasher, 2).unwrap();
            let server = TestServer::start_with_passwords(
                &pools_toml(),
                "trusted_proxies = [\"127.0.0.1/32\"]",
                &env,
                passwords,
            )
            .await;
            servers.push(server);
        }
        Cluster {
            nodes: servers,
            counts,
            db,
        }
    }

    fn verifications(&self) -> usize {
        self.counts.verifications.load(Ordering::SeqCst)
    }

    async fn stop(self) {
        for node in self.nodes {
            node.stop().await;
        }
        if let Some(db) = self.db {
            db.cleanup().await;
        }
    }
}

/// A fresh browser with a login flow started on `node`.
async fn fresh_flow(node: &TestServer) -> (reqwest::Client, (String, String)) {
    let browser = browser_client();
    let pkce = Pkce::new("burst");
    let flow = login_form(&browser, &node.base, &spa_authorize(&node.base, &pkce, "n")).await;
    (browser, flow)
}

/// How a burst was answered.
#[derive(Debug, Default)]
struct Tally {
    /// "Incorrect username or password." (the password was verified).
    wrong: usize,
    /// 429, locked (refused without verifying).
    locked: usize,
}

/// Sends [`BURST`] wrong passwords for `username` at once, request `i` to node
/// `i % nodes` from the address `from(i)`.
async fn burst(cluster: &Cluster, username: &str, from: impl Fn(usize) -> String) -> Tally {
    let mut flows = Vec::new();
    for node in &cluster.nodes {
        let (browser, flow) = fresh_flow(node).await;
        flows.push((browser, node.base.clone(), flow));
    }
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..BURST {
        let (browser, base, flow) = flows[i % flows.len()].clone();
        let (username, from) = (username.to_string(), from(i));
        tasks.spawn(async move {
            attempt(
                &browser,
                &base,
                &flow,
                &username,
                "Wrong-horse-1",
                Some(&from),
            )
            .await
        });
    }
    let mut tally = Tally::default();
    while let Some(page) = tasks.join_next().await {
        let page = page.unwrap();
        match page.status.as_u16() {
            200 if page.body.contains("Incorrect username or password.") => tally.wrong += 1,
            429 => tally.locked += 1,
            other => panic!("{other}: {}", page.body),
        }
    }
    tally
}

/// The scenario, on whatever nodes and store the cluster has.
async fn parallel_guesses_verify_at_most_the_limits(cluster: Cluster) {
    let first = &cluster.nodes[0];
    let last = cluster.nodes.last().unwrap();
    for name in ["alice", "bob", "carol", "dave"] {
        rich_user(first, POOL, name).await;
    }
    let pair_limit = usize::try_from(PAIR_LOCK_FAILURES).unwrap();
    let account_limit = usize::try_from(ACCOUNT_LOCK_FAILURES).unwrap();

    // 1. From one address: the account-and-address limit, ten verifications.
    let before = cluster.verifications();
    let tally = burst(&cluster, "alice", |_| ATTACKER.to_string()).await;
    assert_eq!(cluster.verifications() - before, pair_limit, "{tally:?}");
    assert_eq!(tally.wrong, pair_limit, "{tally:?}");
    assert_eq!(tally.locked, BURST - pair_limit, "{tally:?}");
    // The attacking address stays locked out, even with the right password, and is
    // refused without a verification...
    let before = cluster.verifications();
    let (browser, flow) = fresh_flow(last).await;
    let locked = attempt(
        &browser,
        &last.base,
        &flow,
        "alice",
        PASSWORD,
        Some(ATTACKER),
    )
    .await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert_eq!(cluster.verifications(), before);
    // ...while alice, from her own address, signs in (after the slow-down), on any node.
    let page = attempt(&browser, &last.base, &flow, "alice", PASSWORD, Some(HONEST)).await;
    assert_signed_in(&page, "alice from her own address");
    assert_eq!(cluster.verifications() - before, 1);

    // 2. From twenty addresses: the account's limit, twenty verifications.
    let before = cluster.verifications();
    let tally = burst(&cluster, "bob", |i| format!("203.0.113.{}", 10 + i % 20)).await;
    assert_eq!(cluster.verifications() - before, account_limit, "{tally:?}");
    assert_eq!(tally.wrong, account_limit, "{tally:?}");
    assert_eq!(tally.locked, BURST - account_limit, "{tally:?}");
    // The account is locked for everyone until an administrator unlocks it (what
    // `cognate users unlock` calls); then bob signs in.
    let (browser, flow) = fresh_flow(first).await;
    let locked = attempt(&browser, &first.base, &flow, "bob", PASSWORD, Some(HONEST)).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    let throttle = Throttle::new(first.node.store.clone());
    assert!(throttle.unlock(POOL, "bob").await.unwrap() > 0);
    let page = attempt(&browser, &first.base, &flow, "bob", PASSWORD, Some(HONEST)).await;
    assert_signed_in(&page, "bob after the unlock");
    // The attacking addresses are not locked out of other accounts (no per-address lock:
    // users behind one NAT would lock each other out).
    let (browser, flow) = fresh_flow(last).await;
    let from = "203.0.113.10";
    let page = attempt(&browser, &last.base, &flow, "carol", PASSWORD, Some(from)).await;
    assert_signed_in(&page, "carol from an attacking address");

    // 3. A success clears the count: dave fails five times (no delay yet), then signs in;
    // his next attempt is the first of a new count (it would otherwise be the seventh,
    // delayed by two seconds).
    let (browser, flow) = fresh_flow(first).await;
    for _ in 0..5 {
        let page = attempt(
            &browser,
            &first.base,
            &flow,
            "dave",
            "Wrong-1",
            Some(HONEST),
        )
        .await;
        assert_eq!(page.status, 200, "{}", page.body);
    }
    let page = attempt(&browser, &first.base, &flow, "dave", PASSWORD, Some(HONEST)).await;
    assert_signed_in(&page, "dave after five failures");
    let pool = first.pool(POOL).await;
    let next = throttle
        .reserve(
            POOL,
            &login_key(&pool, "dave"),
            HONEST.parse().unwrap(),
            cognate::core::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        next,
        Verdict::Allow {
            delay: Duration::ZERO
        }
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_verify_at_most_the_limits_on_sqlite() {
    parallel_guesses_verify_at_most_the_limits(Cluster::start(None, 1).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_verify_at_most_the_limits_on_postgres() {
    let Some(db) = fresh_pg_url("burst_one_node").await else {
        return;
    };
    parallel_guesses_verify_at_most_the_limits(Cluster::start(Some(db), 1).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_split_across_two_nodes_verify_at_most_the_limits() {
    let Some(db) = fresh_pg_url("burst_two_nodes").await else {
        return;
    };
    parallel_guesses_verify_at_most_the_limits(Cluster::start(Some(db), 2).await).await;
}
