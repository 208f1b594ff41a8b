//! Codes cost the attacker, not the owner of the address they aim at: sign-ups carrying
//! someone else's address mail them at most the destination's sends, guesses spread over
//! those accounts get at most the destination's tries and verify nothing; an attacker's
//! reset requests and wrong codes from one address leave the owner, at another, free to
//! reset (issue 8, holes 2 and 8).

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;

use cognate::core::model::CodeLimits;

use super::{on_both_engines, wrong, Env, LIMIT, MISMATCH, NEW_PASSWORD, PASSWORD, POOL};

on_both_engines!(
    guesses_over_many_accounts_never_verify_someone_elses_address,
    an_attacker_cannot_deny_the_owner_recovery,
    the_pools_own_budgets_apply,
);

const VICTIM: &str = "ceo@victim.test";

/// Waits until `count` mails reached `address` (reset and resend codes go out in the
/// background), then a little longer to see that no more come.
async fn settle_mails(env: &Env, address: &str, count: usize) -> usize {
    for _ in 0..200 {
        if env.mails_to(address) >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    env.mails_to(address)
}

async fn guesses_over_many_accounts_never_verify_someone_elses_address(engine: super::Engine) {
    let Some(env) = Env::start(engine, "").await else {
        return;
    };
    let limits = CodeLimits::default();
    let flow = env.flow().await;
    // 20 sign-ups carrying the victim's address, at once, from 20 addresses.
    let signups = futures::stream::iter(0..20)
        .map(|i| {
            let flow = &flow;
            async move {
                let page = flow
                    .sign_up(&format!("mallory{i}"), VICTIM, &format!("198.51.100.{i}"))
                    .await;
                (i, page)
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<_>>()
        .await;
    let accepted: Vec<usize> = signups
        .iter()
        .filter(|(_, p)| p.status == 303)
        .map(|(i, _)| *i)
        .collect();
    let refused = signups.iter().filter(|(_, p)| p.says(LIMIT)).count();
    assert_eq!(accepted.len() + refused, 20, "{signups:?}");
    assert_eq!(accepted.len(), limits.sends_per_destination as usize);
    // At most that many mails reached the victim, and the refused sign-ups were undone.
    let mailed = settle_mails(&env, VICTIM, accepted.len()).await;
    assert_eq!(mailed, accepted.len());
    assert_eq!(env.server.user_count(POOL).await, accepted.len() as u64);

    // 100 guesses spread over those accounts, at once, from 100 addresses: codes that
    // are none of the mailed ones, so any that verified would be a guess.
    let mailed_codes: BTreeSet<String> = env
        .server
        .inbox
        .all()
        .iter()
        .filter(|m| m.contains(VICTIM))
        .filter_map(|m| crate::support::smtp::six_digits(m))
        .collect();
    let mut guesses = Vec::new();
    let mut n = 0u32;
    while guesses.len() < 100 {
        let code = format!("{n:06}");
        n += 1;
        if !mailed_codes.contains(&code) {
            guesses.push(code);
        }
    }
    let answers = futures::stream::iter(guesses.iter().enumerate())
        .map(|(k, code)| {
            let flow = &flow;
            let username = format!("mallory{}", accepted[k % accepted.len()]);
            async move {
                flow.confirm(&username, code, &format!("203.0.113.{k}"))
                    .await
            }
        })
        .buffer_unordered(25)
        .collect::<Vec<_>>()
        .await;
    let compared = answers.iter().filter(|p| p.says(MISMATCH)).count();
    let limited = answers.iter().filter(|p| p.says(LIMIT)).count();
    assert_eq!(compared + limited, 100, "{:?}", answers.first());
    assert_eq!(compared, limits.tries_per_destination as usize);
    for i in &accepted {
        let user = env
            .server
            .find_user(POOL, &format!("mallory{i}"))
            .await
            .unwrap();
        assert_eq!(user.attribute("email_verified"), None, "mallory{i}");
        assert_eq!(user.status.to_string(), "UNCONFIRMED");
    }

    // Beside it, an honest user with another address signs up and confirms.
    let honest = env.flow().await;
    let page = honest
        .sign_up("alice", "alice@example.com", "192.0.2.10")
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let code = env.server.inbox.code_for("alice@example.com").await;
    let page = honest.confirm("alice", &code, "192.0.2.10").await;
    assert_eq!(page.status, 303, "{}", page.body);
    let alice = env.server.find_user(POOL, "alice").await.unwrap();
    assert_eq!(alice.attribute("email_verified"), Some("true"));
    env.stop().await;
}

async fn an_attacker_cannot_deny_the_owner_recovery(engine: super::Engine) {
    let Some(env) = Env::start(engine, "").await else {
        return;
    };
    env.server.user(POOL, "vic", PASSWORD).await;
    let owner_address = "192.0.2.44";
    let attacker_address = "203.0.113.66";
    let attacker = env.flow().await;
    // Many reset requests for the victim from one address: its share of the victim's
    // sends, then the limit.
    let mut sent = 0;
    for _ in 0..20 {
        let page = attacker.forgot("vic", attacker_address).await;
        if page.status == 303 {
            sent += 1;
        } else {
            assert!(page.says(LIMIT), "{}", page.body);
        }
    }
    let share = CodeLimits::default().sends_per_destination.div_ceil(2) as usize;
    assert_eq!(sent, share);
    assert_eq!(settle_mails(&env, "vic@example.com", share).await, share);

    // The owner, from another address, still gets a code...
    let owner = env.flow().await;
    let page = owner.forgot("vic", owner_address).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(
        settle_mails(&env, "vic@example.com", share + 1).await,
        share + 1
    );
    let code = env.server.inbox.code_for("vic@example.com").await;

    // ...which the attacker's many wrong codes do not destroy: they are refused once the
    // attacker's address has had its share.
    let mut compared = 0;
    for _ in 0..50 {
        let page = attacker
            .reset("vic", &wrong(&code), NEW_PASSWORD, attacker_address)
            .await;
        if page.says(MISMATCH) {
            compared += 1;
        } else {
            assert!(page.says(LIMIT), "{}", page.body);
        }
    }
    let tries_share = CodeLimits::default().tries_per_destination.div_ceil(2);
    assert_eq!(compared, tries_share);

    let page = owner.reset("vic", &code, NEW_PASSWORD, owner_address).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(
        page.location
            .as_deref()
            .is_some_and(|l| l.contains("notice=password_changed")),
        "{page:?}"
    );
    let page = owner.sign_in("vic", NEW_PASSWORD, owner_address).await;
    let location = page.location.unwrap_or_default();
    assert!(location.starts_with(super::CALLBACK), "{location}");
    env.stop().await;
}

/// A pool's own `[pools.code_limits]` are the ones counted.
async fn the_pools_own_budgets_apply(engine: super::Engine) {
    let extra = "code_limits = { sends_per_destination = 2, tries_per_destination = 4, \
                 sends_per_client_address = 3, tries_per_client_address = 100 }";
    let Some(env) = Env::start(engine, extra).await else {
        return;
    };
    let flow = env.flow().await;
    let mut accepted = 0;
    for i in 0..6 {
        let page = flow
            .sign_up(&format!("m{i}"), VICTIM, &format!("198.51.100.{i}"))
            .await;
        if page.status == 303 {
            accepted += 1;
        } else {
            assert!(page.says(LIMIT), "{}", page.body);
        }
    }
    assert_eq!(accepted, 2);
    // One client address: three code requests an hour, whatever they are for.
    for i in 0..2 {
        let page = flow.forgot(&format!("nobody{i}"), "192.0.2.7").await;
        assert_eq!(page.status, 303, "{}", page.body);
    }
    let page = flow.resend("nobody2", "192.0.2.7").await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(flow.forgot("nobody9", "192.0.2.7").await.says(LIMIT));
    assert_eq!(flow.forgot("nobody9", "192.0.2.8").await.status, 303);
    env.stop().await;
}

/// The budgets are counted in the shared store: a burst of guesses split across two
/// nodes on one PostgreSQL database gets no more comparisons than on one node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_split_across_two_nodes_share_the_destinations_tries() {
    let Some(env) = Env::start(super::Engine::Postgres, "").await else {
        return;
    };
    let node_b = env.second_node("").await.expect("a second node");
    let on_a = env.flow().await;
    let on_b = super::Flow {
        browser: on_a.browser.clone(),
        base: node_b.base.clone(),
        flow: on_a.flow.clone(),
        csrf: on_a.csrf.clone(),
    };
    // Sign-ups carrying the victim's address, alternating between the nodes.
    let mut accepted = Vec::new();
    for i in 0..10 {
        let flow = if i % 2 == 0 { &on_a } else { &on_b };
        let page = flow
            .sign_up(&format!("mallory{i}"), VICTIM, &format!("198.51.100.{i}"))
            .await;
        if page.status == 303 {
            accepted.push(i);
        } else {
            assert!(page.says(LIMIT), "{}", page.body);
        }
    }
    let limits = CodeLimits::default();
    assert_eq!(accepted.len(), limits.sends_per_destination as usize);
    // Each node mails through its own sink here.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mails: Vec<String> = env
        .server
        .inbox
        .all()
        .into_iter()
        .chain(node_b.inbox.all())
        .filter(|m| m.contains(VICTIM))
        .collect();
    assert_eq!(mails.len(), accepted.len());
    let mailed_codes: BTreeSet<String> = mails
        .iter()
        .filter_map(|m| crate::support::smtp::six_digits(m))
        .collect();
    let guesses: Vec<String> = (0..200u32)
        .map(|n| format!("{n:06}"))
        .filter(|c| !mailed_codes.contains(c))
        .take(100)
        .collect();
    // 100 guesses at once, half on each node, from 100 addresses.
    let answers = futures::stream::iter(guesses.iter().enumerate())
        .map(|(k, code)| {
            let flow = if k % 2 == 0 { &on_a } else { &on_b };
            let username = format!("mallory{}", accepted[k % accepted.len()]);
            async move {
                flow.confirm(&username, code, &format!("203.0.113.{k}"))
                    .await
            }
        })
        .buffer_unordered(25)
        .collect::<Vec<_>>()
        .await;
    let compared = answers.iter().filter(|p| p.says(MISMATCH)).count();
    let limited = answers.iter().filter(|p| p.says(LIMIT)).count();
    assert_eq!(compared + limited, 100, "{:?}", answers.first());
    assert_eq!(compared, limits.tries_per_destination as usize);
    node_b.stop().await;
    env.stop().await;
}
