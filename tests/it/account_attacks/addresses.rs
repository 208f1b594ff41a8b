//! Addresses that look like another (issue 8, hole 2 follow-up): a domain spelled with
//! characters IDNA maps away (a soft hyphen, a zero-width space) is mailed to the same
//! mailbox as the plain one while being stored under a key of its own, so each spelling
//! would get a fresh budget of codes. Sign-up refuses them with a precise message and
//! mails nothing; an honest internationalised address signs up and confirms; the
//! Unicode and `xn--` spellings of one domain share one destination budget.

use cognate::core::model::CodeLimits;

use super::{on_both_engines, Env, LIMIT, POOL};

on_both_engines!(
    invisible_characters_in_an_address_are_refused_and_mail_nothing,
    the_unicode_and_ascii_spellings_of_a_domain_share_one_budget,
);

const INVISIBLE: &str = "without invisible characters";

async fn invisible_characters_in_an_address_are_refused_and_mail_nothing(engine: super::Engine) {
    let Some(env) = Env::start(engine, "").await else {
        return;
    };
    let flow = env.flow().await;
    let spellings = [
        "ceo@vic\u{ad}tim.test",
        "ceo@v\u{ad}ictim.test",
        "ceo@victim\u{200b}.test",
        "ceo@vic\u{200d}tim.test",
        "ceo@victim.test\u{fe0f}",
        "c\u{2060}eo@victim.test",
    ];
    for (i, address) in spellings.into_iter().enumerate() {
        let page = flow
            .sign_up(&format!("mallory{i}"), address, &format!("198.51.100.{i}"))
            .await;
        assert!(page.says(INVISIBLE), "{address:?}: {page:?}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        env.server.inbox.all().is_empty(),
        "a refused sign-up mailed"
    );
    assert_eq!(env.server.user_count(POOL).await, 0);

    // The honest owner of the plain address, and an honest internationalised one, sign
    // up and confirm.
    for (i, (username, address)) in [
        ("ceo", "ceo@victim.test"),
        ("jose", "jos\u{e9}@ex\u{e4}mple.test"),
    ]
    .into_iter()
    .enumerate()
    {
        let before = env.server.inbox.all().len();
        let page = flow
            .sign_up(username, address, &format!("192.0.2.{i}"))
            .await;
        assert_eq!(page.status, 303, "{address}: {}", page.body);
        for _ in 0..200 {
            if env.server.inbox.all().len() > before {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let mails = env.server.inbox.all();
        assert_eq!(mails.len(), before + 1);
        let code = crate::support::smtp::six_digits(&mails[before]).expect("a code");
        let page = flow.confirm(username, &code, &format!("192.0.2.{i}")).await;
        assert_eq!(page.status, 303, "{address}: {}", page.body);
    }
    let pool = env.server.pool(POOL).await;
    let jose = env
        .server
        .node
        .directory
        .find_user(&pool, "jose")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(jose.attribute("email"), Some("jos\u{e9}@ex\u{e4}mple.test"));
    assert_eq!(jose.attribute("email_verified"), Some("true"));
    env.stop().await;
}

async fn the_unicode_and_ascii_spellings_of_a_domain_share_one_budget(engine: super::Engine) {
    let Some(env) = Env::start(engine, "").await else {
        return;
    };
    let sends = CodeLimits::default().sends_per_destination as usize;
    let flow = env.flow().await;
    let spellings = ["ceo@ex\u{e4}mple.test", "ceo@xn--exmple-cua.test"];
    // Alternating spellings, each from an address of its own (so no client's share of
    // the destination is what refuses): the destination's sends, then a refusal.
    for i in 0..=sends {
        let address = spellings[i % 2];
        let page = flow
            .sign_up(&format!("mallory{i}"), address, &format!("198.51.100.{i}"))
            .await;
        if i < sends {
            assert_eq!(page.status, 303, "sign-up {i} ({address}): {}", page.body);
        } else {
            assert!(page.says(LIMIT), "sign-up {i} ({address}): {page:?}");
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(env.server.inbox.all().len(), sends);
    assert_eq!(env.server.user_count(POOL).await, sends as u64);
    env.stop().await;
}
