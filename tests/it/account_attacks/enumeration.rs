//! Answers that never tell who exists (issue 8, hole 6): `/confirm` with a wrong code,
//! `/confirm/resend` and `/forgot-password` answer an unknown, an unconfirmed and a
//! confirmed user alike (status, page and limits), and the destinations shown for users
//! who get no mail are drawn from the pool's own users' masked addresses. An unconfirmed
//! user that was never sent a code (created by an administrator or an import) answers
//! `/confirm` and `/reset-password` like an unknown login, and spends tries alike.

use std::collections::{BTreeMap, BTreeSet};

use cognate::core::account::MIN_USERS_TO_SAMPLE;
use cognate::core::directory::{InitialState, NewUser};

use super::{on_both_engines, Env, Flow, Page, LIMIT, POOL};

on_both_engines!(
    confirm_resend_and_forgot_answer_alike_for_unknown_unconfirmed_and_confirmed_users,
    an_unconfirmed_user_without_a_code_answers_like_an_unknown_login,
    simulated_destinations_are_drawn_from_the_pools_own_masks,
);

const KNOWN: &str = "zqx-known-user";
const PENDING: &str = "zqx-pending-user";
const GHOST: &str = "zqx-ghost-user";

/// A mask as Cognito shows it: `a***@e***.com`.
fn is_mask(text: &str) -> bool {
    let Some((local, domain)) = text.split_once("***@") else {
        return false;
    };
    let Some((first, tld)) = domain.split_once("***.") else {
        return false;
    };
    local.chars().count() == 1 && first.chars().count() == 1 && !tld.is_empty()
}

/// An answer with what differs by construction taken out: the typed username, the flow's
/// id and CSRF token, and the shown destination (checked to be a mask).
fn normalized(page: &Page, flow: &Flow, username: &str) -> String {
    let scrub = |text: &str| {
        text.replace(username, "<username>")
            .replace(&flow.flow, "<flow>")
            .replace(&flow.csrf, "<csrf>")
    };
    let location = page.location.as_deref().map(|l| {
        let url = url::Url::parse(&format!("http://x{l}")).unwrap();
        let query: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                if k == "sent" {
                    assert!(is_mask(&v), "{v}");
                    (k.to_string(), "<mask>".to_string())
                } else {
                    (k.to_string(), scrub(&v))
                }
            })
            .collect();
        format!("{} {query:?}", url.path())
    });
    format!("{} {location:?}\n{}", page.status, scrub(&page.body))
}

async fn confirm_resend_and_forgot_answer_alike_for_unknown_unconfirmed_and_confirmed_users(
    engine: super::Engine,
) {
    let Some(env) = Env::start(engine, "").await else {
        return;
    };
    let mut attributes = BTreeMap::new();
    attributes.insert("email".to_string(), "known@example.com".to_string());
    attributes.insert("email_verified".to_string(), "true".to_string());
    env.server
        .create_user(POOL, KNOWN, attributes, super::PASSWORD)
        .await;
    let signup = env.flow().await;
    let page = signup
        .sign_up(PENDING, "pending@example.com", "192.0.2.200")
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let pending_code = env.server.inbox.code_for("pending@example.com").await;

    // Each user's answers, from an address of its own, in a flow of its own: wrong codes
    // until the limit, resends until this address's share of the destination's sends is
    // spent, and a reset request from another address. (Sends to a destination are
    // counted whatever they are for, so the pending user's sign-up spent one: staying
    // under the destination's budget keeps the comparison to what the user's state
    // would change.)
    let mut answers = Vec::new();
    for (k, user) in [GHOST, PENDING, KNOWN].into_iter().enumerate() {
        let flow = env.flow().await;
        let from = format!("198.51.100.{k}");
        let mut seen = Vec::new();
        for _ in 0..6 {
            let page = flow
                .confirm(user, &super::wrong(&pending_code), &from)
                .await;
            seen.push(normalized(&page, &flow, user));
        }
        for _ in 0..4 {
            let page = flow.resend(user, &from).await;
            seen.push(normalized(&page, &flow, user));
        }
        let page = flow.forgot(user, &format!("198.51.101.{k}")).await;
        seen.push(normalized(&page, &flow, user));
        answers.push(seen);
    }
    // The budgets were met, alike: the last try and the last resend were refused.
    let ghost = &answers[0];
    assert!(ghost[4].contains(super::MISMATCH), "{}", ghost[4]);
    assert!(ghost[5].contains(LIMIT), "{}", ghost[5]);
    assert!(ghost[8].starts_with("303"), "{}", ghost[8]);
    assert!(ghost[9].contains(LIMIT), "{}", ghost[9]);
    assert!(ghost[10].starts_with("303"), "{}", ghost[10]);
    for (k, user) in [PENDING, KNOWN].into_iter().enumerate() {
        for (i, (a, b)) in ghost.iter().zip(&answers[k + 1]).enumerate() {
            assert_eq!(a, b, "answer {i} for {user} differs from an unknown user's");
        }
    }
    // Only the confirmed user got a reset code; the pending one is still pending, and
    // confirms with the last code it was mailed (the sign-up's and three resends'), from
    // an address that has not guessed.
    env.server.inbox.code_for("known@example.com").await;
    for _ in 0..200 {
        if env.mails_to("pending@example.com") == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(env.mails_to("pending@example.com"), 4);
    // Mails sent in the background may arrive out of order: the latest code is one of
    // them, and only it confirms.
    let codes: Vec<String> = env
        .server
        .inbox
        .all()
        .iter()
        .filter(|m| m.contains("pending@example.com"))
        .filter_map(|m| crate::support::smtp::six_digits(m))
        .collect();
    let mut confirmed = 0;
    for (i, code) in codes.iter().enumerate() {
        let page = signup.confirm(PENDING, code, &format!("192.0.2.{i}")).await;
        if page.status == 303 {
            confirmed += 1;
        }
    }
    assert_eq!(confirmed, 1);
    env.stop().await;
}

async fn simulated_destinations_are_drawn_from_the_pools_own_masks(engine: super::Engine) {
    let Some(env) = Env::start(engine, "").await else {
        return;
    };
    let pool = env.server.pool(POOL).await;
    // Users whose masks are unlike any made-up one: unusual letters and top-level
    // domains; a few without a verified address, whose masks must never be shown.
    let tlds = ["zw", "museum", "coop", "aero"];
    let mut real = BTreeSet::new();
    let count = MIN_USERS_TO_SAMPLE + 10;
    for i in 0..count {
        let letter = char::from(b'q' + u8::try_from(i % 3).unwrap());
        let tld = tlds[usize::try_from(i).unwrap() % tlds.len()];
        let verified = i % 10 != 0;
        let mut attributes = BTreeMap::new();
        if verified {
            let email = format!("{letter}{i}@x{i}.{tld}");
            real.insert(cognate::core::account::mask_email(&email));
            attributes.insert("email".to_string(), email);
            attributes.insert("email_verified".to_string(), "true".to_string());
        } else {
            attributes.insert("email".to_string(), format!("u{i}@y{i}.invalid"));
        }
        env.server
            .node
            .directory
            .create_user(
                &pool,
                NewUser {
                    username: format!("member{i}"),
                    attributes,
                    password: None,
                    state: InitialState::Confirmed,
                },
                cognate::core::now(),
            )
            .await
            .unwrap();
    }
    let flow = env.flow().await;
    let mut shown = Vec::new();
    for i in 0..40 {
        let login = format!("nobody-{i}");
        let from = format!("203.0.113.{i}");
        let page = flow.forgot(&login, &from).await;
        let sent = sent_of(&page);
        assert!(
            real.contains(&sent),
            "{sent} is not a mask of the pool's users: {real:?}"
        );
        assert_ne!(sent, "u***@y***.invalid", "an unverified address was shown");
        // The same login gets the same destination again (here from another address).
        let again = flow.forgot(&login, &format!("203.0.114.{i}")).await;
        assert_eq!(sent_of(&again), sent, "{login}");
        shown.push(sent);
    }
    // Drawn, not constant: the 40 answers spread over the pool's masks.
    let distinct: BTreeSet<_> = shown.iter().collect();
    assert!(distinct.len() >= 4, "{distinct:?}");
    env.stop().await;
}

/// The destination a redirect to the code page names.
fn sent_of(page: &Page) -> String {
    assert_eq!(page.status, 303, "{}", page.body);
    let location = page.location.as_deref().unwrap();
    let url = url::Url::parse(&format!("http://x{location}")).unwrap();
    url.query_pairs()
        .find(|(k, _)| k == "sent")
        .map(|(_, v)| v.to_string())
        .expect("a destination")
}

const IMPORTED: &str = "zqx-imported-user";

async fn an_unconfirmed_user_without_a_code_answers_like_an_unknown_login(engine: super::Engine) {
    let Some(env) = Env::start(engine, "").await else {
        return;
    };
    // Created UNCONFIRMED by an administrator (or an import): no code was ever sent.
    let pool = env.server.pool(POOL).await;
    let mut attributes = BTreeMap::new();
    attributes.insert("email".to_string(), "imported@example.com".to_string());
    env.server
        .node
        .directory
        .create_user(
            &pool,
            NewUser {
                username: IMPORTED.to_string(),
                attributes,
                password: Some(super::PASSWORD.to_string().into()),
                state: InitialState::Unconfirmed,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    assert!(env.server.inbox.all().is_empty());

    // Each login, from an address of its own, in a flow of its own: wrong codes on
    // /confirm until the try budget refuses, then wrong codes on /reset-password (no
    // reset code was ever requested for either).
    let mut answers = Vec::new();
    for (k, user) in [GHOST, IMPORTED].into_iter().enumerate() {
        let flow = env.flow().await;
        let from = format!("198.51.100.{k}");
        let mut seen = Vec::new();
        for _ in 0..6 {
            let page = flow.confirm(user, "123456", &from).await;
            seen.push(normalized(&page, &flow, user));
        }
        for _ in 0..2 {
            let page = flow
                .reset(
                    user,
                    "123456",
                    super::NEW_PASSWORD,
                    &format!("198.51.101.{k}"),
                )
                .await;
            seen.push(normalized(&page, &flow, user));
        }
        answers.push(seen);
    }
    // A try was reserved for each: five wrong codes, then this address's share of the
    // destination's tries is spent, for the unknown login and the user alike.
    let ghost = &answers[0];
    for answer in &ghost[..5] {
        assert!(answer.contains(super::MISMATCH), "{answer}");
    }
    assert!(ghost[5].contains(LIMIT), "{}", ghost[5]);
    for (i, (a, b)) in ghost.iter().zip(&answers[1]).enumerate() {
        assert_eq!(
            a, b,
            "answer {i} for {IMPORTED} differs from an unknown login's"
        );
    }

    // The honest path: the user asks for a code, gets one, and confirms.
    let flow = env.flow().await;
    let page = flow.resend(IMPORTED, "192.0.2.7").await;
    assert_eq!(page.status, 303, "{}", page.body);
    let code = env.server.inbox.code_for("imported@example.com").await;
    let page = flow.confirm(IMPORTED, &code, "192.0.2.7").await;
    assert_eq!(page.status, 303, "{}", page.body);
    let user = env
        .server
        .node
        .directory
        .find_user(&pool, IMPORTED)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.status, cognate::core::model::UserStatus::Confirmed);
    assert_eq!(user.attribute("email_verified"), Some("true"));
    env.stop().await;
}
