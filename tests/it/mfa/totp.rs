//! TOTP over HTTP: enrolment at sign-in under `ON` (the key read from the page, the code
//! computed here), sign-in with a fresh code, one step of drift each way, replays and wrong
//! codes refused, and parallel wrong guesses held to the lock's limit.

use futures::StreamExt;
use reqwest::StatusCode;

use super::{
    clear_of_step_end, enrol_totp_at_sign_in, start, tokens_for, totp_at, unix_now, wait_for_step,
    wrong, Browser, MFA_LOCK_FAILURES, ON, ON_SPA,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totp_enrolment_at_sign_in_then_sign_in_with_drift_and_no_replay() {
    let server = start().await;
    server.user(ON, "tia", super::PASSWORD).await;
    let browser = Browser::new(&server);

    // Enrolled with the previous step's code (one step of drift is accepted).
    let enrolled = enrol_totp_at_sign_in(&browser, ON_SPA, "tia", -30).await;
    let code = enrolled.completion.expect_code("enrolment's completion");
    let (id, _) = tokens_for(&server.base, &enrolled.flow, &code, "tia").await;
    assert!(id["auth_time"].is_number(), "{id}");
    let distinct: std::collections::BTreeSet<_> = enrolled.recovery_codes.iter().collect();
    assert_eq!(distinct.len(), 10, "{:?}", enrolled.recovery_codes);
    let secret = enrolled.secret.clone();
    let used = enrolled.step;

    // A fresh browser, one step later: the previous step's code (newer than the one used)
    // is accepted.
    wait_for_step(used + 2).await;
    clear_of_step_end(3).await;
    let other = Browser::new(&server);
    let (flow, page) = other
        .sign_in_with_totp(ON_SPA, "tia", &secret, unix_now() - 30)
        .await;
    let code = page.expect_code("the previous step's code");
    tokens_for(&server.base, &flow, &code, "tia").await;

    // The next step's code is accepted...
    clear_of_step_end(3).await;
    let next_time = unix_now() + 30;
    let (flow, page) = Browser::new(&server)
        .sign_in_with_totp(ON_SPA, "tia", &secret, next_time)
        .await;
    let code = page.expect_code("the next step's code");
    tokens_for(&server.base, &flow, &code, "tia").await;

    // ...once: the same code again is refused, and so is the current step's code (older
    // than the step used).
    let replay = Browser::new(&server);
    let (flow, page) = replay
        .sign_in_with_totp(ON_SPA, "tia", &secret, next_time)
        .await;
    page.assert_refused("a replayed code");
    let current = totp_at(&secret, unix_now());
    if current != totp_at(&secret, next_time) {
        let page = replay
            .form(
                &flow,
                "/login/mfa",
                &[("factor", "totp"), ("code", &current)],
            )
            .await;
        page.assert_refused("a code older than the one used");
    }
    // A wrong code is refused.
    let page = replay
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "totp"), ("code", &wrong(&current))],
        )
        .await;
    page.assert_refused("a wrong code");
    let page = replay
        .form(&flow, "/login/mfa", &[("factor", "totp"), ("code", "12ab")])
        .await;
    page.assert_refused("a malformed code");

    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_wrong_totp_codes_lock_the_account_within_the_limit() {
    let server = start().await;
    server.user(ON, "gus", super::PASSWORD).await;
    server.user(ON, "hal", super::PASSWORD).await;
    let gus = enrol_totp_at_sign_in(&Browser::new(&server), ON_SPA, "gus", 0).await;
    gus.completion.expect_code("gus enrolled");
    let hal = enrol_totp_at_sign_in(&Browser::new(&server), ON_SPA, "hal", 0).await;
    hal.completion.expect_code("hal enrolled");

    // An attacker who has gus's password sends 30 wrong codes at once.
    let attacker = Browser::new(&server);
    let (flow, page) = attacker.password(ON_SPA, "gus").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    clear_of_step_end(5).await;
    let right = totp_at(&gus.secret, unix_now());
    let guesses: Vec<String> = (1..=30u32)
        .map(|i| {
            let n: u32 = right.parse().unwrap();
            format!("{:06}", (n + i * 7919) % 1_000_000)
        })
        .collect();
    let answers = futures::stream::iter(guesses.iter())
        .map(|code| {
            let attacker = &attacker;
            let flow = &flow;
            async move {
                attacker
                    .form(flow, "/login/mfa", &[("factor", "totp"), ("code", code)])
                    .await
            }
        })
        .buffer_unordered(30)
        .collect::<Vec<_>>()
        .await;
    for a in &answers {
        a.assert_no_code("a wrong guess");
    }
    let compared = answers
        .iter()
        .filter(|a| a.status == StatusCode::OK)
        .count();
    let locked = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(
        compared + locked,
        30,
        "{:?}",
        answers.iter().map(|a| a.status).collect::<Vec<_>>()
    );
    assert!(
        compared <= MFA_LOCK_FAILURES,
        "{compared} guesses were compared"
    );
    assert!(locked >= 30 - MFA_LOCK_FAILURES, "{locked} locked");

    // Locked: the right code is refused too.
    let page = attacker
        .form(&flow, "/login/mfa", &[("factor", "totp"), ("code", &right)])
        .await;
    assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "{page:?}");
    page.assert_no_code("the right code while locked");

    // Another account is not locked: hal signs in with a fresh code.
    wait_for_step(hal.step + 1).await;
    clear_of_step_end(3).await;
    let (flow, page) = Browser::new(&server)
        .sign_in_with_totp(ON_SPA, "hal", &hal.secret, unix_now())
        .await;
    let code = page.expect_code("another account while gus is locked");
    tokens_for(&server.base, &flow, &code, "hal").await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_right_totp_code_sent_at_once_on_many_sign_ins_is_accepted_once() {
    let server = start().await;
    server.user(ON, "ida", super::PASSWORD).await;
    let ida = enrol_totp_at_sign_in(&Browser::new(&server), ON_SPA, "ida", 0).await;
    ida.completion.expect_code("enrolled");

    // Eight browsers past the password (an attacker who saw the code over a shoulder,
    // racing the owner), then the same fresh code on all of them at once.
    let mut pending = Vec::new();
    for _ in 0..8 {
        let browser = Browser::new(&server);
        let (flow, page) = browser.password(ON_SPA, "ida").await;
        assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
        pending.push((browser, flow));
    }
    wait_for_step(ida.step + 1).await;
    clear_of_step_end(5).await;
    let code = totp_at(&ida.secret, unix_now());
    let fields = [("factor", "totp"), ("code", code.as_str())];
    let answers = futures::future::join_all(
        pending
            .iter()
            .map(|(browser, flow)| browser.form(flow, "/login/mfa", &fields)),
    )
    .await;
    let granted: Vec<usize> = answers
        .iter()
        .enumerate()
        .filter(|(_, a)| a.code().is_some())
        .map(|(i, _)| i)
        .collect();
    assert_eq!(granted.len(), 1, "{answers:?}");
    for (i, a) in answers.iter().enumerate() {
        if i != granted[0] {
            a.assert_no_code("the same code on another sign-in");
            assert!(
                a.status == StatusCode::OK || a.status == StatusCode::TOO_MANY_REQUESTS,
                "{a:?}"
            );
        }
    }
    let (_, flow) = &pending[granted[0]];
    let authorization = answers[granted[0]].code().unwrap();
    tokens_for(&server.base, flow, &authorization, "ida").await;
    server.stop().await;
}
