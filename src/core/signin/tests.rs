//! Unit tests of `USER_SRP_AUTH` ([`SignIn::srp_start`], [`SignIn::srp_verify`]) over a
//! real SQLite store, with `aws-cognito-srp` as the independent client.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use aws_cognito_srp::{SrpClient, User as SrpUser, VerificationParameters};

use super::*;
use crate::core::directory::{InitialState, NewUser};
use crate::core::model::{AliasAttribute, Origin, PasswordPolicy};
use crate::core::password::Passwords;
use crate::core::storage::Store;
use crate::store::sqlite::SqliteStore;

const POOL: &str = "us-east-1_SrpTest1";
const PASSWORD: &str = "Correct-horse-1";

fn ip() -> IpAddr {
    "198.51.100.7".parse().unwrap()
}

/// The real clock: `aws-cognito-srp` signs the current time, so the server must agree.
fn now() -> UnixTime {
    chrono::Utc::now().timestamp()
}

fn pool(username_attributes: Vec<AliasAttribute>) -> UserPool {
    let alias_attributes = if username_attributes.is_empty() {
        vec![AliasAttribute::Email]
    } else {
        Vec::new()
    };
    UserPool {
        id: POOL.into(),
        name: "srp".into(),
        origin: Origin::Api,
        username_case_sensitive: false,
        username_attributes,
        alias_attributes,
        auto_verified_attributes: vec![AliasAttribute::Email],
        required_attributes: Vec::new(),
        custom_attributes: Vec::new(),
        password_policy: PasswordPolicy::default(),
        admin_create_user_only: false,
        mfa: Default::default(),
        userinfo_string_values: false,
        link_federated_users_by_email: false,
        deletion_protection: false,
        tags: Default::default(),
        code_limits: Default::default(),
        threat_protection: Default::default(),
        triggers: Default::default(),
        identity_providers: Vec::new(),
        saml_sp_entity_id: None,
        created_at: 1,
        updated_at: 1,
        version: 0,
        factors: Default::default(),
    }
}

fn client(id: &str) -> AppClient {
    serde_json::from_value(serde_json::json!({
        "id": id,
        "pool_id": POOL,
        "name": id,
        "supported_identity_providers": ["COGNITO"],
        "created_at": 1,
        "updated_at": 1,
    }))
    .unwrap()
}

struct Harness {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    /// The directory with the master key (what the server runs).
    directory: Directory,
    /// The same store without the key: users it creates have no verifier, as users made
    /// before SRP or imported with a bcrypt hash.
    legacy: Directory,
    signin: SignIn,
    pool: UserPool,
    web: AppClient,
}

async fn harness(username_attributes: Vec<AliasAttribute>) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("s.db")).await.unwrap());
    let pool = pool(username_attributes);
    store.put_pool(&pool).await.unwrap();
    let web = client("web");
    store.put_client(&web).await.unwrap();
    store.put_client(&client("other")).await.unwrap();
    let passwords = Passwords::standard().unwrap();
    let (master, _) = MasterKey::generate();
    let legacy = Directory::new(store.clone(), passwords.clone());
    let directory = legacy.clone().with_srp_key(Arc::new(master));
    let signin = SignIn::new(directory.clone(), Throttle::new(store.clone()));
    Harness {
        _dir: dir,
        store,
        directory,
        legacy,
        signin,
        pool,
        web,
    }
}

impl Harness {
    async fn create(&self, directory: &Directory, username: &str, email: &str) -> User {
        let attributes = BTreeMap::from([
            ("email".to_string(), email.to_string()),
            ("email_verified".to_string(), "true".to_string()),
        ]);
        let new = NewUser {
            username: username.into(),
            attributes,
            password: Some(SecretString::new(PASSWORD)),
            state: InitialState::Confirmed,
        };
        directory.create_user(&self.pool, new, now()).await.unwrap()
    }

    async fn start(
        &self,
        client: &AppClient,
        login: &str,
        srp_a: &str,
        now: UnixTime,
    ) -> Result<SrpChallenge, SignInError> {
        self.signin
            .srp_start(SrpStart {
                pool: &self.pool,
                client,
                login,
                srp_a,
                address: ip(),
                now,
            })
            .await
    }

    async fn verify(
        &self,
        client: &AppClient,
        username: &str,
        answer: &VerificationParameters,
        now: UnixTime,
    ) -> Result<SignInOutcome, SignInError> {
        self.signin
            .srp_verify(SrpVerify {
                pool: &self.pool,
                client,
                username,
                secret_block: &answer.password_claim_secret_block,
                signature: &answer.password_claim_signature,
                timestamp: &answer.timestamp,
                address: ip(),
                now,
                client_metadata: Default::default(),
                context: Default::default(),
            })
            .await
    }

    /// Both steps as an honest client with `password` would take them, signing in with
    /// `login`; returns the challenge, the answer and the outcome.
    async fn sign_in(
        &self,
        login: &str,
        password: &str,
    ) -> (
        SrpChallenge,
        VerificationParameters,
        Result<SignInOutcome, SignInError>,
    ) {
        let srp = SrpClient::new(SrpUser::new(POOL, login, password), &self.web.id, None);
        let challenge = self
            .start(&self.web, login, &srp.get_auth_parameters().a, now())
            .await
            .unwrap();
        let answer = answer(&srp, &challenge);
        let outcome = self
            .verify(&self.web, &challenge.username, &answer, now())
            .await;
        (challenge, answer, outcome)
    }
}

fn answer(srp: &SrpClient<SrpUser>, challenge: &SrpChallenge) -> VerificationParameters {
    srp.verify(
        &challenge.secret_block,
        &challenge.user_id_for_srp,
        &challenge.salt,
        &challenge.srp_b,
    )
    .unwrap()
}

fn signed_in_as(outcome: Result<SignInOutcome, SignInError>, username: &str) {
    match outcome {
        Ok(SignInOutcome::SignedIn(user)) => assert_eq!(user.username, username),
        other => panic!("expected a sign-in of {username}, got {other:?}"),
    }
}

#[tokio::test]
async fn an_srp_sign_in_by_username_or_alias_succeeds_and_a_wrong_password_fails() {
    let h = harness(Vec::new()).await;
    let alice = h.create(&h.directory, "alice", "alice@example.com").await;
    assert!(alice.srp.is_some());

    let (challenge, _, outcome) = h.sign_in("alice", PASSWORD).await;
    assert_eq!(challenge.username, "alice");
    assert_eq!(challenge.user_id_for_srp, "alice");
    assert_eq!(Some(&challenge.salt), alice.srp.as_ref().map(|s| &s.salt));
    signed_in_as(outcome, "alice");

    // By the email alias: USERNAME and USER_ID_FOR_SRP are the real username (Cognito's),
    // and the client hashes its password with the latter.
    let srp = SrpClient::new(SrpUser::new(POOL, "alice", PASSWORD), &h.web.id, None);
    let challenge = h
        .start(
            &h.web,
            "Alice@Example.com",
            &srp.get_auth_parameters().a,
            now(),
        )
        .await
        .unwrap();
    assert_eq!(challenge.user_id_for_srp, "alice");
    let answer = answer(&srp, &challenge);
    // USERNAME may be the login as typed, too.
    signed_in_as(
        h.verify(&h.web, "Alice@Example.com", &answer, now()).await,
        "alice",
    );

    let (_, _, outcome) = h.sign_in("alice", "Wrong-horse-1").await;
    assert!(
        matches!(outcome, Err(SignInError::NotAuthorized)),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn wrong_proofs_are_counted_by_the_throttle_until_the_account_locks() {
    let h = harness(Vec::new()).await;
    h.create(&h.directory, "alice", "alice@example.com").await;
    for _ in 0..3 {
        let (_, _, outcome) = h.sign_in("alice", "Wrong-horse-1").await;
        assert!(
            matches!(outcome, Err(SignInError::NotAuthorized)),
            "{outcome:?}"
        );
    }
    // Further failures from this address up to the pair's limit (reserved as failures
    // are, without waiting out their delays here).
    let key = account_login_key(&h.pool, "alice", None);
    let throttle = Throttle::new(h.store.clone());
    for _ in 3..crate::core::throttle::PAIR_LOCK_FAILURES {
        throttle
            .reserve(&h.pool.id, &key, ip(), now())
            .await
            .unwrap();
    }
    // Three SRP failures plus seven: the next attempt is refused unverified, even with the
    // right password. Had the SRP failures not counted, it would be verified.
    let (_, _, outcome) = h.sign_in("alice", PASSWORD).await;
    assert!(
        matches!(outcome, Err(SignInError::Locked { .. })),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn a_secret_block_is_single_use_short_lived_and_bound_to_client_and_user() {
    let h = harness(Vec::new()).await;
    h.create(&h.directory, "alice", "alice@example.com").await;
    h.create(&h.directory, "bob", "bob@example.com").await;
    let srp = SrpClient::new(SrpUser::new(POOL, "alice", PASSWORD), &h.web.id, None);
    let srp_a = srp.get_auth_parameters().a;
    let expired = |r: Result<SignInOutcome, SignInError>| {
        assert!(matches!(r, Err(SignInError::SessionExpired)), "{r:?}");
    };

    // Reused: the first answer signs in, the same answer again finds nothing.
    let challenge = h.start(&h.web, "alice", &srp_a, now()).await.unwrap();
    let a1 = answer(&srp, &challenge);
    signed_in_as(h.verify(&h.web, "alice", &a1, now()).await, "alice");
    expired(h.verify(&h.web, "alice", &a1, now()).await);

    // Two answers at once (two nodes, say): exactly one is taken.
    let challenge = h.start(&h.web, "alice", &srp_a, now()).await.unwrap();
    let twice = answer(&srp, &challenge);
    let (first, second) = tokio::join!(
        h.verify(&h.web, "alice", &twice, now()),
        h.verify(&h.web, "alice", &twice, now())
    );
    let expired_count = [&first, &second]
        .iter()
        .filter(|r| matches!(r, Err(SignInError::SessionExpired)))
        .count();
    assert_eq!(expired_count, 1, "{first:?} {second:?}");
    assert!(first.is_ok() || second.is_ok(), "{first:?} {second:?}");

    // Expired: 181 seconds after the start (the state lives 180).
    let t = now();
    let challenge = h.start(&h.web, "alice", &srp_a, t).await.unwrap();
    let a2 = answer(&srp, &challenge);
    expired(
        h.verify(&h.web, "alice", &a2, t + SRP_STATE_TTL_SECS + 1)
            .await,
    );

    // Another client of the pool: refused (and the state is spent).
    let other = client("other");
    let challenge = h.start(&h.web, "alice", &srp_a, now()).await.unwrap();
    let a3 = answer(&srp, &challenge);
    expired(h.verify(&other, "alice", &a3, now()).await);
    expired(h.verify(&h.web, "alice", &a3, now()).await);

    // Another USERNAME than the challenge's: refused.
    let challenge = h.start(&h.web, "alice", &srp_a, now()).await.unwrap();
    let a4 = answer(&srp, &challenge);
    expired(h.verify(&h.web, "bob", &a4, now()).await);

    // A block nobody issued, and one that is not base64.
    let forged = VerificationParameters {
        password_claim_secret_block: STANDARD.encode([7u8; 64]),
        ..answer(
            &srp,
            &h.start(&h.web, "alice", &srp_a, now()).await.unwrap(),
        )
    };
    expired(h.verify(&h.web, "alice", &forged, now()).await);
    let garbage = VerificationParameters {
        password_claim_secret_block: "%%%".into(),
        ..forged
    };
    expired(h.verify(&h.web, "alice", &garbage, now()).await);
}

#[tokio::test]
async fn timestamps_and_signatures_must_be_well_formed_and_timely() {
    let h = harness(Vec::new()).await;
    h.create(&h.directory, "alice", "alice@example.com").await;
    let srp = SrpClient::new(SrpUser::new(POOL, "alice", PASSWORD), &h.web.id, None);
    let srp_a = srp.get_auth_parameters().a;

    // The client signs the real time; a server clock 400 s ahead finds it stale.
    let later = now() + srp::TIMESTAMP_WINDOW_SECS + 100;
    let challenge = h.start(&h.web, "alice", &srp_a, later).await.unwrap();
    let stale = answer(&srp, &challenge);
    let r = h.verify(&h.web, "alice", &stale, later).await;
    assert!(matches!(r, Err(SignInError::NotAuthorized)), "{r:?}");

    // A zero-padded day, as Java's default format would write it: refused by name.
    let challenge = h.start(&h.web, "alice", &srp_a, now()).await.unwrap();
    let good = answer(&srp, &challenge);
    let padded = VerificationParameters {
        timestamp: chrono::Utc::now()
            .format("%a %b 0%-d %H:%M:%S UTC %Y")
            .to_string(),
        ..good
    };
    let r = h.verify(&h.web, "alice", &padded, now()).await;
    assert!(
        matches!(
            r,
            Err(SignInError::InvalidParameter {
                field: "TIMESTAMP",
                ..
            })
        ),
        "{r:?}"
    );

    let challenge = h.start(&h.web, "alice", &srp_a, now()).await.unwrap();
    let not_base64 = VerificationParameters {
        password_claim_signature: "not base64!".into(),
        ..answer(&srp, &challenge)
    };
    let r = h.verify(&h.web, "alice", &not_base64, now()).await;
    assert!(
        matches!(
            r,
            Err(SignInError::InvalidParameter {
                field: "PASSWORD_CLAIM_SIGNATURE",
                ..
            })
        ),
        "{r:?}"
    );

    // The honest answer beside them succeeds.
    let (_, _, outcome) = h.sign_in("alice", PASSWORD).await;
    signed_in_as(outcome, "alice");
}

#[tokio::test]
async fn an_a_of_zero_or_n_is_refused_at_the_start() {
    let h = harness(Vec::new()).await;
    h.create(&h.directory, "alice", "alice@example.com").await;
    let n = srp::int_to_hex(&srp::N);
    let two_n = srp::int_to_hex(&(&*srp::N * 2u32));
    for bad in ["0", "00", n.as_str(), two_n.as_str()] {
        let r = h.start(&h.web, "alice", bad, now()).await;
        assert!(
            matches!(r, Err(SignInError::InvalidParameter { field: "SRP_A", .. })),
            "{r:?}"
        );
    }
    let (_, _, outcome) = h.sign_in("alice", PASSWORD).await;
    signed_in_as(outcome, "alice");
}

/// The parts of a challenge an observer can compare without the key: each field's form.
fn shape(c: &SrpChallenge) -> (usize, bool, usize, usize) {
    (
        c.salt.len(),
        c.srp_b.len() >= 2 * 380 && c.srp_b.bytes().all(|b| b.is_ascii_hexdigit()),
        c.secret_block.len(),
        STANDARD.decode(&c.secret_block).unwrap().len(),
    )
}

#[tokio::test]
async fn unknown_users_and_users_without_a_verifier_get_the_same_answer() {
    let h = harness(Vec::new()).await;
    let alice = h.create(&h.directory, "alice", "alice@example.com").await;
    let carol = h.create(&h.legacy, "carol", "carol@example.com").await;
    assert!(carol.srp.is_none());
    let a = |login: &str| {
        SrpClient::new(SrpUser::new(POOL, login, PASSWORD), &h.web.id, None)
            .get_auth_parameters()
            .a
    };

    let real = h.start(&h.web, "alice", &a("alice"), now()).await.unwrap();
    let nobody = h
        .start(&h.web, "nobody", &a("nobody"), now())
        .await
        .unwrap();
    let again = h
        .start(&h.web, "NoBody", &a("nobody"), now())
        .await
        .unwrap();
    let legacy = h.start(&h.web, "carol", &a("carol"), now()).await.unwrap();
    let legacy_alias = h
        .start(&h.web, "carol@example.com", &a("carol"), now())
        .await
        .unwrap();
    for c in [&nobody, &again, &legacy, &legacy_alias] {
        assert_eq!(shape(c), shape(&real), "{c:?}");
    }
    // Stable salts, as a real user's; a fresh B each time, as a real user's.
    assert_eq!(nobody.salt, again.salt);
    assert_ne!(nobody.srp_b, again.srp_b);
    assert_eq!(legacy.salt, legacy_alias.salt);
    let real_again = h.start(&h.web, "alice", &a("alice"), now()).await.unwrap();
    assert_eq!(real.salt, real_again.salt);
    // The login as typed comes back for an unknown login; a known one's username.
    assert_eq!(nobody.user_id_for_srp, "nobody");
    assert_eq!(again.username, "NoBody");
    assert_eq!(legacy_alias.user_id_for_srp, "carol");

    // Whatever they answer, it fails as a wrong password (and is counted as one).
    let (_, _, outcome) = h.sign_in("nobody", PASSWORD).await;
    assert!(
        matches!(outcome, Err(SignInError::NotAuthorized)),
        "{outcome:?}"
    );
    let (_, _, outcome) = h.sign_in("carol", PASSWORD).await;
    assert!(
        matches!(outcome, Err(SignInError::NotAuthorized)),
        "{outcome:?}"
    );
    let _ = alice;

    // A password sign-in makes carol's verifier; SRP works from then on.
    let password = SecretString::new(PASSWORD);
    let outcome = h
        .signin
        .password(PasswordSignIn {
            pool: &h.pool,
            client: &h.web,
            login: "carol",
            password: &password,
            address: ip(),
            now: now(),
            validation_data: Default::default(),
            context: None,
        })
        .await;
    assert!(
        matches!(outcome, Ok(SignInOutcome::SignedIn(_))),
        "{outcome:?}"
    );
    let (challenge, _, outcome) = h.sign_in("carol", PASSWORD).await;
    assert_ne!(challenge.salt, legacy.salt);
    signed_in_as(outcome, "carol");
}

#[tokio::test]
async fn unknown_logins_in_a_pool_of_sub_usernames_get_a_uuid() {
    let h = harness(vec![AliasAttribute::Email]).await;
    let dana = h
        .create(&h.directory, "dana@example.com", "dana@example.com")
        .await;
    let a = SrpClient::new(SrpUser::new(POOL, "x", PASSWORD), &h.web.id, None)
        .get_auth_parameters()
        .a;
    let real = h
        .start(&h.web, "dana@example.com", &a, now())
        .await
        .unwrap();
    assert_eq!(real.user_id_for_srp, dana.sub);
    let nobody = h.start(&h.web, "eve@example.com", &a, now()).await.unwrap();
    let again = h.start(&h.web, "Eve@Example.com", &a, now()).await.unwrap();
    assert_eq!(shape(&nobody), shape(&real));
    assert!(uuid::Uuid::parse_str(&nobody.user_id_for_srp).is_ok());
    assert_eq!(nobody.username, nobody.user_id_for_srp);
    assert_eq!(nobody.user_id_for_srp, again.user_id_for_srp);
    assert_eq!(nobody.salt, again.salt);

    // Dana signs in with her email; the client hashes with her sub.
    let srp = SrpClient::new(
        SrpUser::new(POOL, "dana@example.com", PASSWORD),
        "web",
        None,
    );
    let challenge = h
        .start(
            &h.web,
            "dana@example.com",
            &srp.get_auth_parameters().a,
            now(),
        )
        .await
        .unwrap();
    let answer = answer(&srp, &challenge);
    signed_in_as(
        h.verify(&h.web, &challenge.username, &answer, now()).await,
        &dana.sub,
    );
}

#[tokio::test]
async fn a_new_password_replaces_the_verifier() {
    let h = harness(Vec::new()).await;
    let alice = h.create(&h.directory, "alice", "alice@example.com").await;
    let before = alice.srp.clone().unwrap();

    // A challenge made before the change cannot be answered with the old password after.
    let srp = SrpClient::new(SrpUser::new(POOL, "alice", PASSWORD), &h.web.id, None);
    let pending = h
        .start(&h.web, "alice", &srp.get_auth_parameters().a, now())
        .await
        .unwrap();
    let new_password = SecretString::new("Battery-staple-2");
    let changed = h
        .directory
        .set_password(&h.pool, &alice.sub, &new_password, true, now())
        .await
        .unwrap();
    let after = changed.srp.clone().unwrap();
    assert_ne!(after.salt, before.salt);
    assert_ne!(after.verifier, before.verifier);
    let r = h
        .verify(&h.web, "alice", &answer(&srp, &pending), now())
        .await;
    assert!(matches!(r, Err(SignInError::NotAuthorized)), "{r:?}");

    let (_, _, outcome) = h.sign_in("alice", PASSWORD).await;
    assert!(
        matches!(outcome, Err(SignInError::NotAuthorized)),
        "{outcome:?}"
    );
    let (_, _, outcome) = h.sign_in("alice", "Battery-staple-2").await;
    signed_in_as(outcome, "alice");

    // Without the master key, set_password makes no verifier, and drops the old one.
    let legacy = h
        .legacy
        .set_password(&h.pool, &alice.sub, &new_password, true, now())
        .await
        .unwrap();
    assert!(legacy.srp.is_none());
}

#[tokio::test]
async fn the_users_status_decides_after_a_proven_password() {
    let h = harness(Vec::new()).await;
    let alice = h.create(&h.directory, "alice", "alice@example.com").await;
    h.directory
        .set_enabled(&h.pool, &alice.sub, false, now())
        .await
        .unwrap();
    let (_, _, outcome) = h.sign_in("alice", PASSWORD).await;
    assert!(
        matches!(outcome, Err(SignInError::UserDisabled)),
        "{outcome:?}"
    );
    // A wrong password of a disabled user says only that it is wrong.
    let (_, _, outcome) = h.sign_in("alice", "Wrong-horse-1").await;
    assert!(
        matches!(outcome, Err(SignInError::NotAuthorized)),
        "{outcome:?}"
    );

    let temp = SecretString::new("Temporary-pw-1");
    let bob = h.create(&h.directory, "bob", "bob@example.com").await;
    h.directory
        .set_password(&h.pool, &bob.sub, &temp, false, now())
        .await
        .unwrap();
    let (_, _, outcome) = h.sign_in("bob", "Temporary-pw-1").await;
    assert!(
        matches!(outcome, Ok(SignInOutcome::NewPasswordRequired(_))),
        "{outcome:?}"
    );

    // A client without the pool's own users has no SRP either.
    let mut federated_only = h.web.clone();
    federated_only.supported_identity_providers = vec!["Google".into()];
    let r = h.start(&federated_only, "bob", "02", now()).await;
    assert!(matches!(r, Err(SignInError::PasswordsNotTaken)), "{r:?}");
}
