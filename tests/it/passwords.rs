//! Passwords through the directory: an unknown user costs exactly one password
//! verification, like a wrong password (asserted with a counting hasher that wraps the
//! real Argon2id hasher, not with a stopwatch), and answers the same.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use cognate::config::Config;
use cognate::core::directory::{DirectoryError, InitialState, NewUser};
use cognate::core::password::{
    PasswordError, PasswordHasher, Passwords, StandardHasher, Verification,
};
use cognate::core::secrets::SecretString;
use cognate::server::Node;

/// How many hashes and verifications a [`CountingHasher`] did (also used by the sign-in
/// burst tests, `attacks::bursts`).
#[derive(Default)]
pub struct Counting {
    pub hashes: AtomicUsize,
    pub verifications: AtomicUsize,
}

/// The real Argon2id hasher, counting what it does.
pub struct CountingHasher(pub Arc<Counting>);

impl PasswordHasher for CountingHasher {
    fn hash(&self, password: &str) -> Result<String, PasswordError> {
        self.0.hashes.fetch_add(1, Ordering::SeqCst);
        StandardHasher.hash(password)
    }
    fn verify(&self, password: &str, stored: &str) -> Result<Verification, PasswordError> {
        self.0.verifications.fetch_add(1, Ordering::SeqCst);
        StandardHasher.verify(password, stored)
    }
}

#[tokio::test]
async fn unknown_user_costs_one_verification_and_answers_like_a_wrong_password() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.data_dir = dir.path().join("data");
    let counts = Arc::new(Counting::default());
    let passwords = Passwords::new(Arc::new(CountingHasher(counts.clone())), 2).unwrap();
    let node = Node::open_with(config, passwords).await.unwrap();
    node.bootstrap(false).await.unwrap();
    let pool = node.store.list_pools().await.unwrap().remove(0);
    let now = cognate::core::now();
    let mut attributes = BTreeMap::new();
    attributes.insert("email_verified".to_string(), "true".to_string());
    node.directory
        .create_user(
            &pool,
            NewUser {
                username: "alice@example.com".into(),
                attributes,
                password: Some(SecretString::new("Correct-horse-1")),
                state: InitialState::Confirmed,
            },
            now,
        )
        .await
        .unwrap();

    let count = |f: &dyn Fn(&Counting) -> usize| f(&counts);
    let verifications = |c: &Counting| c.verifications.load(Ordering::SeqCst);
    let hashes = |c: &Counting| c.hashes.load(Ordering::SeqCst);

    let before = count(&verifications);
    let unknown = node
        .directory
        .authenticate(
            &pool,
            "nobody@example.com",
            &SecretString::new("Whatever-1"),
            now,
        )
        .await
        .unwrap_err();
    assert_eq!(
        count(&verifications) - before,
        1,
        "unknown user: one verification"
    );

    let before = count(&verifications);
    let wrong = node
        .directory
        .authenticate(
            &pool,
            "alice@example.com",
            &SecretString::new("Wrong-horse-1"),
            now,
        )
        .await
        .unwrap_err();
    assert_eq!(
        count(&verifications) - before,
        1,
        "wrong password: one verification"
    );
    assert!(matches!(unknown, DirectoryError::NotAuthorized));
    assert!(matches!(wrong, DirectoryError::NotAuthorized));
    assert_eq!(unknown.to_string(), wrong.to_string());

    // The corrected request succeeds, also with one verification and no re-hash
    // (the stored hash already has Cognate's Argon2id parameters).
    let (before_v, before_h) = (count(&verifications), count(&hashes));
    let user = node
        .directory
        .authenticate(
            &pool,
            "ALICE@example.com",
            &SecretString::new("Correct-horse-1"),
            now,
        )
        .await
        .unwrap();
    assert_eq!(user.attribute("email"), Some("alice@example.com"));
    assert_eq!(count(&verifications) - before_v, 1);
    assert_eq!(count(&hashes) - before_h, 0);
    let stored = user.password_hash.as_ref().unwrap().expose().to_string();
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
}

#[tokio::test]
async fn policy_violations_name_what_is_missing_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.data_dir = dir.path().join("data");
    let node = Node::open(config).await.unwrap();
    node.bootstrap(false).await.unwrap();
    let pool = node.store.list_pools().await.unwrap().remove(0);
    let now = cognate::core::now();
    let new = |pw: &str| NewUser {
        username: "bob@example.com".into(),
        attributes: BTreeMap::new(),
        password: Some(SecretString::new(pw)),
        state: InitialState::Confirmed,
    };
    let err = node
        .directory
        .create_user(&pool, new("short"), now)
        .await
        .unwrap_err();
    let text = err.to_string();
    for missing in [
        "at least 8 characters",
        "an uppercase letter",
        "a number",
        "a symbol",
    ] {
        assert!(text.contains(missing), "{text}");
    }
    assert_eq!(node.store.count_users(&pool.id).await.unwrap(), 0);
    node.directory
        .create_user(&pool, new("Long-enough-1"), now)
        .await
        .unwrap();
    assert_eq!(node.store.count_users(&pool.id).await.unwrap(), 1);
}
