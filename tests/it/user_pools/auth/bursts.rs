//! The account hardening issue's attack 1 through InitiateAuth: 200 wrong passwords sent
//! at once from one address verify at most the account-and-address limit (counted with
//! the counting hasher, not guessed from answers); the others are refused unverified; the
//! honest user, from their own address, signs in.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use cognate::core::password::Passwords;
use cognate::core::throttle::PAIR_LOCK_FAILURES;

use super::*;
use crate::passwords::{Counting, CountingHasher};

const BURST: usize = 200;

fn sign_in_body(username: &str, password: &str) -> Value {
    json!({
        "ClientId": APP,
        "AuthFlow": "USER_PASSWORD_AUTH",
        "AuthParameters": {"USERNAME": username, "PASSWORD": password},
    })
}

#[tokio::test]
async fn parallel_wrong_passwords_through_initiate_auth_verify_at_most_the_limit() {
    let counts = Arc::new(Counting::default());
    let passwords = Passwords::new(Arc::new(CountingHasher(counts.clone())), 2).unwrap();
    let env = secrets_env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let server = Arc::new(
        TestServer::start_with_passwords(
            &pools_toml(),
            "trusted_proxies = [\"127.0.0.1/32\"]",
            &env,
            passwords,
        )
        .await,
    );
    confirmed_user(&server, POOL, "alice", "alice@example.com").await;
    let verifications = || counts.verifications.load(Ordering::SeqCst);

    let before = verifications();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..BURST {
        let server = server.clone();
        tasks.spawn(async move {
            raw(
                &server,
                "InitiateAuth",
                sign_in_body("alice", "Wrong-horse-1"),
                Some("203.0.113.9"),
            )
            .await
        });
    }
    let (mut wrong, mut locked) = (0, 0);
    while let Some(answer) = tasks.join_next().await {
        let (status, body) = answer.unwrap();
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["__type"], "NotAuthorizedException", "{body}");
        match body["message"].as_str().unwrap() {
            "Incorrect username or password." => wrong += 1,
            "Password attempts exceeded" => locked += 1,
            other => panic!("{other}"),
        }
    }
    let limit = usize::try_from(PAIR_LOCK_FAILURES).unwrap();
    assert_eq!(verifications() - before, limit);
    assert_eq!((wrong, locked), (limit, BURST - limit));
    // The attacking address stays refused, unverified, even with the right password...
    let before = verifications();
    let (_, body) = raw(
        &server,
        "InitiateAuth",
        sign_in_body("alice", PASSWORD),
        Some("203.0.113.9"),
    )
    .await;
    assert_eq!(body["message"], "Password attempts exceeded", "{body}");
    assert_eq!(verifications(), before);
    // ...while alice, from her own address, signs in.
    let (status, body) = raw(
        &server,
        "InitiateAuth",
        sign_in_body("alice", PASSWORD),
        Some("198.51.100.7"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["AuthenticationResult"]["AccessToken"].is_string(),
        "{body}"
    );
    Arc::try_unwrap(server).ok().unwrap().stop().await;
}
