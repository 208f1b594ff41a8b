//! The sign-in throttle: known and unknown accounts locked alike, and lockouts listed and
//! cleared with the admin CLI.

use std::net::IpAddr;
use std::time::Duration;

use cognate::core::directory::DirectoryError;
use cognate::core::throttle::{login_key, Throttle, Verdict, ACCOUNT_LOCK_FAILURES, MAX_DELAY};

use super::{env, PASSWORD};

#[tokio::test]
async fn the_throttle_locks_known_and_unknown_accounts_alike() {
    let e = env().await;
    e.confirmed("frank@example.com").await;
    let throttle = Throttle::new(e.node.store.clone());
    let pool = &e.pool;
    let now = e.now;
    let address = |i: i64| IpAddr::from([10, 0, 0, u8::try_from(i % 4).unwrap()]);

    for login in ["frank@example.com", "ghost@example.com"] {
        let key = login_key(pool, login);
        for i in 0..ACCOUNT_LOCK_FAILURES {
            // Reserved before verifying; a wrong password leaves the reservation counted.
            let verdict = throttle
                .reserve(&pool.id, &key, address(i), now)
                .await
                .unwrap();
            assert!(
                matches!(verdict, Verdict::Allow { .. }),
                "{login} attempt {i}"
            );
            let err = e.authenticate(login, "Wr0ng-password").await.unwrap_err();
            assert!(matches!(err, DirectoryError::NotAuthorized));
        }
    }
    // The same verdict for both, from any address.
    let fresh = IpAddr::from([192, 0, 2, 1]);
    let frank = throttle
        .reserve(
            &pool.id,
            &login_key(pool, "Frank@Example.com"),
            fresh,
            now + 1,
        )
        .await
        .unwrap();
    let ghost = throttle
        .reserve(
            &pool.id,
            &login_key(pool, "ghost@example.com"),
            fresh,
            now + 1,
        )
        .await
        .unwrap();
    assert!(matches!(frank, Verdict::Locked { .. }));
    assert_eq!(frank, ghost);
    let locks = throttle.list_locked(&pool.id, now + 1).await.unwrap();
    let accounts: Vec<_> = locks
        .iter()
        .filter(|l| l.address.is_none())
        .map(|l| l.login_key.as_str())
        .collect();
    assert_eq!(accounts, ["frank@example.com", "ghost@example.com"]);

    // After an administrator unlocks frank, the corrected request goes through.
    let key = login_key(pool, "frank@example.com");
    assert!(throttle.unlock(&pool.id, &key).await.unwrap() > 0);
    assert_eq!(
        throttle
            .reserve(&pool.id, &key, fresh, now + 2)
            .await
            .unwrap(),
        Verdict::Allow {
            delay: Duration::ZERO
        }
    );
    e.authenticate("frank@example.com", PASSWORD).await.unwrap();
    throttle
        .record_success(&pool.id, &key, fresh)
        .await
        .unwrap();

    // One attacking address is stopped at 10; frank, elsewhere, is only slowed down.
    let attacker = IpAddr::from([203, 0, 113, 5]);
    for _ in 0..10 {
        let verdict = throttle
            .reserve(&pool.id, &key, attacker, now + 3)
            .await
            .unwrap();
        assert!(matches!(verdict, Verdict::Allow { .. }));
    }
    assert!(matches!(
        throttle
            .reserve(&pool.id, &key, attacker, now + 4)
            .await
            .unwrap(),
        Verdict::Locked { .. }
    ));
    assert_eq!(
        throttle
            .reserve(&pool.id, &key, fresh, now + 4)
            .await
            .unwrap(),
        Verdict::Allow { delay: MAX_DELAY }
    );
    e.authenticate("frank@example.com", PASSWORD).await.unwrap();
}

#[tokio::test]
async fn lockouts_are_listed_and_cleared_with_the_cli() {
    let e = env().await;
    let throttle = Throttle::new(e.node.store.clone());
    let key = login_key(&e.pool, "Ghost:One@Example.com");
    let now = cognate::core::now();
    for i in 0..ACCOUNT_LOCK_FAILURES {
        let from = IpAddr::from([10, 1, 0, u8::try_from(i % 2).unwrap()]);
        let verdict = throttle.reserve(&e.pool.id, &key, from, now).await.unwrap();
        assert!(matches!(verdict, Verdict::Allow { .. }));
    }
    let data_dir = e.node.config.server.data_dir.clone();
    let cognate = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cognate"));
        cmd.arg("--data-dir").arg(&data_dir).args(args);
        for (k, _) in std::env::vars() {
            if k.starts_with("COGNATE_") || k == "RUST_LOG" {
                cmd.env_remove(k);
            }
        }
        let out = cmd.output().expect("run cognate");
        assert!(
            out.status.success(),
            "cognate {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let pool = e.pool.id.clone();
    let listed = cognate(&["users", "lockouts", "--pool", &pool]);
    assert!(listed.contains("ghost:one@example.com"), "{listed}");
    assert!(listed.contains("(all addresses)"), "{listed}");
    assert!(listed.contains("20"), "{listed}");

    // Unlocked by the login as a user would type it.
    let out = cognate(&["users", "unlock", "--pool", &pool, "GHOST:one@example.com"]);
    assert!(out.contains("unlocked"), "{out}");
    let listed = cognate(&["users", "lockouts", "--pool", &pool]);
    assert!(listed.contains("no lockouts"), "{listed}");
    assert_eq!(
        throttle
            .reserve(&e.pool.id, &key, IpAddr::from([10, 1, 0, 0]), now)
            .await
            .unwrap(),
        Verdict::Allow {
            delay: Duration::ZERO
        }
    );
}
