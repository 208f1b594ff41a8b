//! ListUsers benchmark (issue 14): a prefix `Filter` over a large pool, on SQLite and on
//! PostgreSQL. Goal: p99 under 20 ms at 1 million users, and a cost that grows with the
//! page, not with the pool.
//!
//! ```sh
//! cargo run --release --example bench_list_users                  # 10k and 1M users
//! cargo run --release --example bench_list_users -- 200000 1000   # 10k and 200k, 1000 queries
//! COGNATE_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release --example bench_list_users               # PostgreSQL too
//! ```
//!
//! For each engine and each pool size (10,000, then N; default N = 1,000,000) it bulk-loads
//! a fresh store (a new SQLite file; a new PostgreSQL schema, dropped afterwards) through
//! `Store::import_users` in batches, then times, one query at a time, the core's ListUsers
//! (`core::users::list_users`, the function the API handler calls: the filter parsed, the
//! index range scanned, the users read and checked):
//! - `email ^= "<p>"` first pages of 10 and of 60 users, `<p>` a random hex prefix of the
//!   length that leaves every prefix at least 120 users (so every page is full and the
//!   queries spread over the whole index rather than a few hot pages);
//! - the second page of the same query (through the first page's PaginationToken);
//! - `email = "<address>"` of a random existing user;
//! - then the same prefix queries over HTTP: the real server (in this process, on
//!   127.0.0.1, over the same store) answering the official AWS SDK's ListUsers, signed
//!   with an operator key (SigV4), one call at a time.
//!
//! Measured (issue 14, 2 shared cores with other builds running; release, one query at a
//! time, 2,000 queries per line, 500 over HTTP), p99 of a prefix first page:
//!
//! | engine     | N         | Limit 10 | Limit 60 | HTTP Limit 60 |
//! |------------|-----------|----------|----------|---------------|
//! | SQLite     | 10,000    | 0.37 ms  | 5.0 ms   | 4.9 ms        |
//! | SQLite     | 1,000,000 | 0.94 ms  | 3.8 ms   | 3.7 ms        |
//! | PostgreSQL | 10,000    | 3.5 ms   | 5.4 ms   | 8.9 ms        |
//! | PostgreSQL | 1,000,000 | 6.2 ms   | 11.6 ms  | 12.8 ms       |
//!
//! It prints p50/p99/max per line. The load is in the figures' headers; it is not part of
//! the test suite.

use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use cognate::core::admin_keys::{AdminKeyPurpose, AdminKeys, NewAdminKey};
use cognate::core::directory::lookup_for;
use cognate::core::model::{PageRequest, User, UserPool};
use cognate::core::password::Passwords;
use cognate::core::users::{list_users, parse_filter};
use cognate::server::Node;
use cognate::store::Store;
use serde_json::json;

const POOL: &str = "us-east-1_BenchList1";
const SMALL: u64 = 10_000;
const BATCH: u64 = 10_000;

/// A deterministic 64-bit mix (splitmix64), so runs load the same users.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn email(i: u64) -> String {
    format!("{:016x}.{i}@example.com", mix(i))
}

fn template(pool: &UserPool) -> User {
    serde_json::from_value(json!({
        "pool_id": pool.id,
        "sub": "",
        "username": "",
        "attributes": {},
        "status": "CONFIRMED",
        "enabled": true,
        "password_hash": "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA",
        "lookup": { "username": "" },
        "created_at": 1_700_000_000,
        "updated_at": 1_700_000_000,
    }))
    .expect("user")
}

fn user(pool: &UserPool, template: &User, i: u64) -> User {
    let mut u = template.clone();
    u.sub = format!("{:08x}-0000-4000-8000-{:012x}", mix(i ^ 0xABCD) as u32, i);
    u.username = format!("user{i:08}");
    u.attributes.insert("email".into(), email(i));
    u.attributes.insert("email_verified".into(), "true".into());
    u.attributes
        .insert("given_name".into(), format!("Given{}", i % 1000));
    u.lookup = lookup_for(pool, &u);
    u
}

/// Loads users `from..to` in batches.
async fn load(store: &dyn Store, pool: &UserPool, from: u64, to: u64) {
    let template = template(pool);
    let started = Instant::now();
    let mut i = from;
    while i < to {
        let end = (i + BATCH).min(to);
        let batch: Vec<User> = (i..end).map(|i| user(pool, &template, i)).collect();
        let outcome = store.import_users(&batch).await.expect("import");
        assert!(
            outcome.skipped.is_empty(),
            "skipped {:?}",
            outcome.skipped.len()
        );
        i = end;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  loaded {} users in {secs:.1} s ({:.0} users/s)",
        to - from,
        (to - from) as f64 / secs
    );
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)].as_secs_f64() * 1000.0
}

fn report(label: &str, mut times: Vec<Duration>, rows: usize) {
    times.sort();
    println!(
        "  {label:<38} p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms  ({} queries, {:.1} users/page)",
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        percentile(&times, 1.0),
        times.len(),
        rows as f64 / times.len().max(1) as f64,
    );
}

/// The hex prefix length that leaves every prefix at least 120 users of `n`.
fn prefix_len(n: u64) -> usize {
    let mut len = 1;
    while n / 16u64.pow(len as u32 + 1) >= 120 {
        len += 1;
    }
    len
}

async fn measure(store: &dyn Store, n: u64, queries: usize) {
    let plen = prefix_len(n);
    println!(
        "  prefix length {plen} (~{} users per prefix)",
        n / 16u64.pow(plen as u32)
    );
    let mut rng = 0x1234_5678u64;
    let mut next = || {
        rng = mix(rng);
        rng
    };
    // Warm-up: the first queries open connections and prepare statements.
    for _ in 0..20 {
        let f = parse_filter(r#"email ^= "a""#).expect("filter");
        list_users(
            store,
            POOL,
            f.as_ref(),
            &PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .expect("list");
    }
    for limit in [10u32, 60] {
        let (mut first, mut second) = (Vec::new(), Vec::new());
        let (mut rows1, mut rows2) = (0, 0);
        for _ in 0..queries {
            let prefix: String = format!("{:016x}", next()).chars().take(plen).collect();
            let filter = parse_filter(&format!(r#"email ^= "{prefix}""#)).expect("filter");
            let t = Instant::now();
            let page = list_users(
                store,
                POOL,
                filter.as_ref(),
                &PageRequest { limit, after: None },
            )
            .await
            .expect("list");
            first.push(t.elapsed());
            rows1 += page.items.len();
            let Some(token) = page.next else { continue };
            let t = Instant::now();
            let page = list_users(
                store,
                POOL,
                filter.as_ref(),
                &PageRequest {
                    limit,
                    after: Some(token),
                },
            )
            .await
            .expect("list");
            second.push(t.elapsed());
            rows2 += page.items.len();
        }
        report(
            &format!("email ^= prefix, Limit {limit}, page 1"),
            first,
            rows1,
        );
        report(
            &format!("email ^= prefix, Limit {limit}, page 2"),
            second,
            rows2,
        );
    }
    let mut exact = Vec::new();
    let mut rows = 0;
    for _ in 0..queries {
        let i = next() % n;
        let filter = parse_filter(&format!(r#"email = "{}""#, email(i))).expect("filter");
        let t = Instant::now();
        let page = list_users(
            store,
            POOL,
            filter.as_ref(),
            &PageRequest {
                limit: 60,
                after: None,
            },
        )
        .await
        .expect("list");
        exact.push(t.elapsed());
        rows += page.items.len();
    }
    report("email = address (one user)", exact, rows);
}

/// The real server over `node`'s store on 127.0.0.1, and the official SDK signed with a
/// fresh operator key.
async fn serve(
    node: &Node,
) -> (
    aws_sdk_cognitoidentityprovider::Client,
    tokio::sync::oneshot::Sender<()>,
) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let state = cognate::web::AppState::new(node.clone()).expect("state");
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = cognate::web::serve(listener, state, async {
            let _ = rx.await;
        })
        .await;
    });
    let key = AdminKeys::new(node.store.clone(), node.master.clone())
        .create(
            NewAdminKey {
                access_key_id: None,
                secret: None,
                description: "bench".into(),
                purpose: AdminKeyPurpose::Operator,
            },
            cognate::core::now(),
        )
        .await
        .expect("operator key");
    let config = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(base)
        .retry_config(RetryConfig::disabled())
        .credentials_provider(Credentials::new(
            key.access_key_id.clone(),
            key.secret.expose().to_string(),
            None,
            None,
            "bench",
        ))
        .build();
    (
        aws_sdk_cognitoidentityprovider::Client::from_conf(config),
        tx,
    )
}

/// The prefix queries through the API.
async fn measure_http(client: &aws_sdk_cognitoidentityprovider::Client, n: u64, queries: usize) {
    let plen = prefix_len(n);
    let mut rng = 0x8765_4321u64;
    for _ in 0..20 {
        client
            .list_users()
            .user_pool_id(POOL)
            .filter(r#"email ^= "a""#)
            .limit(10)
            .send()
            .await
            .expect("ListUsers");
    }
    for limit in [10, 60] {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..queries {
            rng = mix(rng);
            let prefix: String = format!("{rng:016x}").chars().take(plen).collect();
            let t = Instant::now();
            let out = client
                .list_users()
                .user_pool_id(POOL)
                .filter(format!(r#"email ^= "{prefix}""#))
                .limit(limit)
                .send()
                .await
                .expect("ListUsers");
            times.push(t.elapsed());
            rows += out.users().len();
        }
        report(
            &format!("HTTP SDK email ^= prefix, Limit {limit}"),
            times,
            rows,
        );
    }
}

/// A node over SQLite in `dir`, or over PostgreSQL at `database_url`, with the bench pool
/// configured.
async fn node(dir: &std::path::Path, database_url: Option<&str>) -> Node {
    let text = format!(
        "[server]\ndata_dir = \"{}\"\npublic_url = \"http://127.0.0.1\"\n\n[[pools]]\nid = \"{POOL}\"\nname = \"bench list users\"\n",
        dir.join("data").display()
    );
    let path = dir.join("cognate.toml");
    std::fs::write(&path, text).expect("config");
    let (_, master) = cognate::core::secrets::MasterKey::generate();
    let env: Vec<(String, String)> = match database_url {
        Some(url) => vec![
            ("COGNATE_DATABASE_URL".into(), url.to_string()),
            ("COGNATE_MASTER_KEY".into(), master),
        ],
        None => vec![],
    };
    let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let config = cognate::config::Config::load_with_env(Some(&path), &lookup)
        .unwrap_or_else(|d| panic!("config: {d:?}"));
    let node = Node::open_with(config, Passwords::standard().expect("hasher"))
        .await
        .expect("node");
    node.bootstrap(false).await.expect("bootstrap");
    node
}

/// Runs both sizes on one node: loads 10k, measures, loads up to `n`, measures. On
/// PostgreSQL, `analyze` (a connection and the schema) refreshes the planner statistics
/// after each load, as autovacuum would within a minute of it.
async fn run(
    node: &Node,
    n: u64,
    queries: usize,
    mut analyze: Option<(&mut sqlx::PgConnection, &str)>,
) {
    let store = node.store.as_ref();
    let pool = store
        .get_pool(POOL)
        .await
        .expect("pool")
        .expect("configured pool");
    let (client, stop) = serve(node).await;
    let mut loaded = 0;
    for size in [SMALL.min(n), n] {
        if size <= loaded {
            continue;
        }
        println!("[{}] N = {size}", store.engine());
        load(store, &pool, loaded, size).await;
        loaded = size;
        if let Some((conn, schema)) = analyze.as_mut() {
            sqlx::query(&format!(
                "ANALYZE \"{schema}\".users, \"{schema}\".user_filters"
            ))
            .execute(&mut **conn)
            .await
            .expect("analyze");
        }
        measure(store, size, queries).await;
        measure_http(&client, size, queries / 4).await;
    }
    let _ = stop.send(());
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let queries: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(2000);
    println!("ListUsers prefix filter: N = {n}, {queries} queries per line, one at a time");

    {
        let dir = tempfile::tempdir().expect("temp dir");
        let node = node(dir.path(), None).await;
        run(&node, n, queries, None).await;
    }

    let Some(base) = std::env::var("COGNATE_TEST_DATABASE_URL")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        println!("[postgres] NOT RUN: set COGNATE_TEST_DATABASE_URL");
        return;
    };
    use sqlx::Connection;
    let schema = format!("bench_list_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&base).await.expect("connect");
    sqlx::query(&format!("CREATE SCHEMA \"{schema}\""))
        .execute(&mut admin)
        .await
        .expect("schema");
    let mut url = url::Url::parse(&base).expect("URL");
    let option = format!("options=-c%20search_path%3D{schema}");
    let query = match url.query() {
        Some(q) if !q.is_empty() => format!("{q}&{option}"),
        _ => option,
    };
    url.set_query(Some(&query));
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let node = node(dir.path(), Some(url.as_str())).await;
        run(&node, n, queries, Some((&mut admin, &schema))).await;
    }
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE"))
        .execute(&mut admin)
        .await
        .expect("drop schema");
}
