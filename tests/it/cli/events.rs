//! `cognate events list|prune`: the auth event log of threat protection. Events are seeded
//! through the store (one past the 90-day retention, two within it); `prune` deletes only
//! the old one and prints how many went; `list` shows the rest newest first, as a table
//! or as JSON with every field, for the pool or one user.

use cognate::core::model::{AuthEvent, AuthEventKind, AuthEventOutcome, EventRisk, RiskLevel};
use cognate::core::now;
use cognate::core::UnixTime;

use super::Cli;

const DAY: i64 = 86_400;

fn event(pool: &str, id: &str, sub: &str, username: &str, at: UnixTime) -> AuthEvent {
    AuthEvent {
        id: id.to_string(),
        pool_id: pool.to_string(),
        sub: Some(sub.to_string()),
        username: username.to_string(),
        kind: AuthEventKind::SignUp,
        outcome: AuthEventOutcome::Pass,
        challenges: Vec::new(),
        created_at: at,
        client_id: Some("cliclient0000000000000001".into()),
        address: Some("198.51.100.4".parse().unwrap()),
        user_agent: Some("CliTest/2.0".into()),
        device: None,
        location: None,
        risk: EventRisk {
            level: RiskLevel::Low,
            score: 20,
            signals: vec!["new_network".into()],
            decision: "audit".into(),
            compromised_credentials: false,
        },
        feedback: None,
        details: Default::default(),
    }
}

#[test]
fn events_prune_deletes_only_what_is_past_retention() {
    prune_and_list_on(&Cli::new());
}

#[test]
fn events_prune_deletes_only_what_is_past_retention_on_postgres() {
    if let Some(cli) = Cli::postgres("cli_events") {
        prune_and_list_on(&cli);
    }
}

fn prune_and_list_on(cli: &Cli) {
    let pool = cli.create_pool("");
    cli.ok(&format!("users create --pool {pool} ana --no-password"));
    cli.ok(&format!("users create --pool {pool} ben --no-password"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = now();
    runtime.block_on(async {
        let node = cli.node().await;
        let pool_record = node.directory.pool(&pool).await.unwrap();
        let ana = node
            .directory
            .require_user(&pool_record, "ana")
            .await
            .unwrap();
        let ben = node
            .directory
            .require_user(&pool_record, "ben")
            .await
            .unwrap();
        node.store
            .insert_auth_events(&[
                event(&pool, "old-ana", &ana.sub, "ana", t - 91 * DAY),
                event(&pool, "recent-ana", &ana.sub, "ana", t - DAY),
                event(&pool, "recent-ben", &ben.sub, "ben", t - 2 * DAY),
            ])
            .await
            .unwrap();
    });

    // Listings never show an event past the retention, pruned or not.
    let listed = cli.json(&format!("events list {pool} --json"));
    let ids: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["recent-ana", "recent-ben"], "newest first");

    assert_eq!(cli.ok("events prune").trim(), "1");
    assert_eq!(cli.ok("events prune").trim(), "0", "nothing left to prune");
    let remaining = runtime.block_on(async {
        let node = cli.node().await;
        let page = cognate::core::model::PageRequest {
            limit: 100,
            after: None,
        };
        // Since the epoch: what the store holds, retention aside.
        node.store
            .list_auth_events(&pool, None, 0, &page)
            .await
            .unwrap()
            .items
    });
    let remaining: Vec<&str> = remaining.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        remaining,
        ["recent-ana", "recent-ben"],
        "only the old one went"
    );

    // One user's events, with every field in the JSON.
    let ana = cli.json(&format!("events list {pool} --user ana --json"));
    let ana = ana.as_array().unwrap();
    assert_eq!(ana.len(), 1);
    let e = &ana[0];
    assert_eq!(e["id"], "recent-ana");
    assert_eq!(e["kind"], "SignUp");
    assert_eq!(e["outcome"], "Pass");
    assert_eq!(e["address"], "198.51.100.4");
    assert_eq!(e["user_agent"], "CliTest/2.0");
    assert_eq!(e["client_id"], "cliclient0000000000000001");
    assert_eq!(e["risk"]["level"], "low");
    assert_eq!(e["risk"]["signals"][0], "new_network");
    let limited = cli.json(&format!("events list {pool} --limit 1 --json"));
    assert_eq!(limited.as_array().unwrap().len(), 1);

    // The table: a header and one line an event, with its columns.
    let table = cli.ok(&format!("events list {pool}"));
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    for column in [
        "TIME", "KIND", "OUTCOME", "RISK", "DECISION", "ADDRESS", "CLIENT",
    ] {
        assert!(lines[0].contains(column), "{column} in {table}");
    }
    for cell in [
        "ana",
        "SignUp",
        "Pass",
        "Low",
        "audit",
        "198.51.100.4",
        "CliTest/2.0",
    ] {
        assert!(lines[1].contains(cell), "{cell} in {}", lines[1]);
    }
    assert!(lines[1].contains("new_network"));

    // Bad input: named.
    cli.fails(
        &format!("events list {pool} --user nobody"),
        &["--user", "nobody"],
    );
    cli.fails(
        "events list us-east-1_Nope00000",
        &["--pool", "us-east-1_Nope00000"],
    );
    cli.fails(&format!("events list {pool} --limit 0"), &["--limit"]);
}
