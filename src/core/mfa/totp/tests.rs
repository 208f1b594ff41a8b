//! Unit tests of helper A's MFA pieces (TOTP, the code throttle, recovery codes, emailed
//! codes, factor management) over a real SQLite store, with a recording mailer.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::*;
use crate::core::directory::{lookup_for, Directory};
use crate::core::mail::{Mail, MailError, MailRouter, Mailer};
use crate::core::mfa::email::EmailCodePurpose;
use crate::core::mfa::{Mfa, MfaError, AMR_RECOVERY};
use crate::core::model::{
    AliasAttribute, FirstFactor, MfaSetting, Origin, PasswordPolicy, User, UserLookup, UserMfa,
    UserPool, UserStatus,
};
use crate::core::password::Passwords;
use crate::core::secrets::MasterKey;
use crate::core::storage::Store;
use crate::store::sqlite::SqliteStore;

const POOL: &str = "us-east-1_MfaTest";
const NOW: UnixTime = 1_800_000_000;

#[derive(Default)]
struct Recording(Mutex<Vec<Mail>>);

#[async_trait]
impl Mailer for Recording {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.0.lock().unwrap().push(mail.clone());
        Ok(())
    }
}

impl Recording {
    fn last_code(&self) -> String {
        let mails = self.0.lock().unwrap();
        let text = &mails.last().expect("a mail").text;
        text.split(|c: char| !c.is_ascii_digit())
            .find(|w| w.len() == 8)
            .expect("an 8-digit code")
            .to_string()
    }

    fn subjects(&self) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.subject.clone())
            .collect()
    }
}

fn pool(mfa: MfaSetting) -> UserPool {
    let mut pool = UserPool {
        id: POOL.into(),
        name: "Example Shop".into(),
        origin: Origin::Api,
        username_case_sensitive: false,
        username_attributes: Vec::new(),
        alias_attributes: vec![AliasAttribute::Email],
        auto_verified_attributes: vec![AliasAttribute::Email],
        required_attributes: Vec::new(),
        custom_attributes: Vec::new(),
        password_policy: PasswordPolicy::default(),
        admin_create_user_only: false,
        mfa,
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
    };
    pool.factors.mfa = vec![MfaFactor::Totp, MfaFactor::Email];
    pool.factors.first = vec![FirstFactor::Password, FirstFactor::EmailOtp];
    pool
}

struct Harness {
    _dir: tempfile::TempDir,
    mfa: Mfa,
    mail: Arc<Recording>,
    pool: UserPool,
    sub: String,
}

fn ip() -> IpAddr {
    "198.51.100.7".parse().unwrap()
}

async fn harness(setting: MfaSetting) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(SqliteStore::open(&dir.path().join("m.db")).await.unwrap());
    let pool = pool(setting);
    store.put_pool(&pool).await.unwrap();
    let mut attributes = BTreeMap::new();
    attributes.insert("email".to_string(), "alice@example.com".to_string());
    attributes.insert("email_verified".to_string(), "true".to_string());
    let mut user = User {
        pool_id: POOL.into(),
        sub: "0b6f1c6e-0000-4000-8000-000000000001".into(),
        username: "alice".into(),
        attributes,
        status: UserStatus::Confirmed,
        enabled: true,
        password_hash: None,
        temporary_password_expires_at: None,
        identities: Vec::new(),
        lookup: UserLookup::default(),
        mfa: UserMfa::default(),
        srp: None,
        pending_attributes: Default::default(),
        created_at: 1,
        updated_at: 1,
        version: 0,
    };
    user.lookup = lookup_for(&pool, &user);
    let user = store.create_user(&user).await.unwrap();
    let mail = Arc::new(Recording::default());
    let directory = Directory::new(store, Passwords::standard().unwrap());
    let (master, _) = MasterKey::generate();
    let mfa = Mfa::new(
        directory,
        MailRouter::new(mail.clone()),
        Arc::new(master),
        "https://login.example.com".parse().unwrap(),
    );
    Harness {
        _dir: dir,
        mfa,
        mail,
        pool,
        sub: user.sub,
    }
}

fn code_at(secret_base32: &str, at: UnixTime) -> String {
    let key = totp_rs::Secret::Encoded(secret_base32.to_string())
        .to_bytes()
        .unwrap();
    TOTP::new(Algorithm::SHA1, 6, 1, 30, key)
        .unwrap()
        .generate(u64::try_from(at).unwrap())
}

impl Harness {
    async fn user(&self) -> User {
        self.mfa.user_by_sub(&self.pool, &self.sub).await.unwrap()
    }

    /// Enrols TOTP at `NOW`; returns the key and the enrolment.
    async fn enrol_totp(&self) -> (String, Enrolled) {
        let user = self.user().await;
        let start = self.mfa.start_totp(&self.pool, &user, NOW).await.unwrap();
        let secret = start.secret_base32.expose().to_string();
        let enrolled = self
            .mfa
            .confirm_totp(
                &self.pool,
                &self.sub,
                &start.id,
                &code_at(&secret, NOW),
                "Phone",
                ip(),
                NOW,
            )
            .await
            .unwrap();
        (secret, enrolled)
    }
}

#[tokio::test]
async fn enrolment_shows_a_uri_a_qr_code_and_keeps_the_key_out_of_debug() {
    let h = harness(MfaSetting::Optional).await;
    let user = h.user().await;
    let start = h.mfa.start_totp(&h.pool, &user, NOW).await.unwrap();
    let secret = start.secret_base32.expose();
    assert_eq!(secret.len(), 32, "20 bytes in base32");
    assert_eq!(
        start.uri.expose(),
        format!(
            "otpauth://totp/Example%20Shop:alice%40example.com?secret={secret}\
             &issuer=Example%20Shop&algorithm=SHA1&digits=6&period=30"
        )
    );
    assert!(url::Url::parse(start.uri.expose()).is_ok());
    assert!(start.qr_svg.starts_with("<svg"), "{}", &start.qr_svg[..40]);
    assert!(!format!("{start:?}").contains(secret));
    // Once confirmed, the stored factor holds the key sealed only.
    let code = code_at(secret, NOW);
    let enrolled = h
        .mfa
        .confirm_totp(&h.pool, &h.sub, &start.id, &code, "Phone", ip(), NOW)
        .await
        .unwrap();
    let stored = serde_json::to_string(&enrolled.user).unwrap();
    assert!(!stored.contains(secret));
    assert!(!format!("{:?}", enrolled.user).contains(secret));
    // The enrolment is single use.
    assert!(matches!(
        h.mfa
            .confirm_totp(&h.pool, &h.sub, &start.id, &code, "Phone", ip(), NOW)
            .await,
        Err(MfaError::Expired)
    ));
}

#[tokio::test]
async fn a_wrong_confirmation_keeps_the_enrolment_and_the_pool_must_allow_totp() {
    let h = harness(MfaSetting::Optional).await;
    let user = h.user().await;
    let start = h.mfa.start_totp(&h.pool, &user, NOW).await.unwrap();
    let secret = start.secret_base32.expose().to_string();
    let wrong = format!(
        "{:06}",
        (code_at(&secret, NOW).parse::<u32>().unwrap() + 1) % 1_000_000
    );
    assert!(matches!(
        h.mfa
            .confirm_totp(&h.pool, &h.sub, &start.id, &wrong, "", ip(), NOW)
            .await,
        Err(MfaError::CodeMismatch)
    ));
    let enrolled = h
        .mfa
        .confirm_totp(
            &h.pool,
            &h.sub,
            &start.id,
            &code_at(&secret, NOW),
            "",
            ip(),
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(enrolled.recovery_codes.as_ref().map(Vec::len), Some(10));
    assert_eq!(
        h.mail.subjects(),
        ["A second factor was added to your account"]
    );
    let mut no_totp = h.pool.clone();
    no_totp.factors.mfa = vec![MfaFactor::Email];
    assert!(matches!(
        h.mfa.start_totp(&no_totp, &user, NOW).await,
        Err(MfaError::FactorNotAllowed)
    ));
}

#[tokio::test]
async fn one_step_of_drift_each_way_and_never_a_step_twice() {
    let h = harness(MfaSetting::Optional).await;
    let (secret, _) = h.enrol_totp().await;
    let later = NOW + 600;
    // Two steps behind: refused.
    assert!(matches!(
        h.mfa
            .verify_totp(&h.pool, &h.sub, &code_at(&secret, later - 60), ip(), later)
            .await,
        Err(MfaError::CodeMismatch)
    ));
    // One step behind: accepted.
    let v = h
        .mfa
        .verify_totp(&h.pool, &h.sub, &code_at(&secret, later - 30), ip(), later)
        .await
        .unwrap();
    assert_eq!(v.amr, "otp");
    // The same code again: a replay.
    assert!(matches!(
        h.mfa
            .verify_totp(&h.pool, &h.sub, &code_at(&secret, later - 30), ip(), later)
            .await,
        Err(MfaError::CodeMismatch)
    ));
    // One step ahead: accepted; then the current step, now behind the last used: refused.
    h.mfa
        .verify_totp(&h.pool, &h.sub, &code_at(&secret, later + 30), ip(), later)
        .await
        .unwrap();
    assert!(matches!(
        h.mfa
            .verify_totp(&h.pool, &h.sub, &code_at(&secret, later), ip(), later)
            .await,
        Err(MfaError::CodeMismatch)
    ));
    // Malformed input is a mismatch, never a panic.
    for bad in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
        assert!(matches!(
            h.mfa.verify_totp(&h.pool, &h.sub, bad, ip(), later).await,
            Err(MfaError::CodeMismatch)
        ));
    }
}

#[tokio::test]
async fn two_parallel_acceptances_of_one_code_one_wins() {
    let h = harness(MfaSetting::Optional).await;
    let (secret, _) = h.enrol_totp().await;
    let later = NOW + 900;
    let code = code_at(&secret, later);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (mfa, pool, sub, code) = (h.mfa.clone(), h.pool.clone(), h.sub.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            mfa.verify_totp(&pool, &sub, &code, ip(), later).await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => wins += 1,
            Err(MfaError::CodeMismatch) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn a_parallel_burst_of_wrong_codes_locks_after_five() {
    let h = harness(MfaSetting::Optional).await;
    let (secret, _) = h.enrol_totp().await;
    let later = NOW + 1200;
    let right = code_at(&secret, later);
    let wrong = format!(
        "{:06}",
        (right.parse::<u32>().unwrap() + 500_000) % 1_000_000
    );
    let mut tasks = Vec::new();
    for _ in 0..30 {
        let (mfa, pool, sub, wrong) = (h.mfa.clone(), h.pool.clone(), h.sub.clone(), wrong.clone());
        tasks.push(tokio::spawn(async move {
            mfa.verify_totp(&pool, &sub, &wrong, ip(), later).await
        }));
    }
    let (mut compared, mut locked) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Err(MfaError::CodeMismatch) => compared += 1,
            Err(MfaError::Locked { .. }) => locked += 1,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!((compared, locked), (5, 25));
    // The right code is refused too until the window ends...
    assert!(matches!(
        h.mfa
            .verify_totp(&h.pool, &h.sub, &right, ip(), later)
            .await,
        Err(MfaError::Locked { .. })
    ));
    // ...and accepted after it.
    let after = later + crate::core::throttle::WINDOW_SECS;
    h.mfa
        .verify_totp(&h.pool, &h.sub, &code_at(&secret, after), ip(), after)
        .await
        .unwrap();
}

#[tokio::test]
async fn recovery_codes_are_single_use_and_mailed_about() {
    let h = harness(MfaSetting::Optional).await;
    let (_, enrolled) = h.enrol_totp().await;
    let codes = enrolled.recovery_codes.unwrap();
    assert_eq!(codes.len(), 10);
    for c in &codes {
        assert_eq!(c.len(), 11);
        assert_eq!(c.as_bytes()[5], b'-');
    }
    let stored = serde_json::to_string(&h.user().await).unwrap();
    assert!(codes.iter().all(|c| !stored.contains(c.as_str())));
    // Typed in capitals without the dash: accepted.
    let typed = codes[0].replace('-', "").to_uppercase();
    let v = h
        .mfa
        .use_recovery_code(&h.pool, &h.sub, &typed, "en", ip(), NOW + 5)
        .await
        .unwrap();
    assert_eq!((v.amr, v.recovery_codes_left), (AMR_RECOVERY, Some(9)));
    assert!(h
        .mail
        .subjects()
        .contains(&"A recovery code was used to sign in".to_string()));
    assert!(matches!(
        h.mfa
            .use_recovery_code(&h.pool, &h.sub, &codes[0], "en", ip(), NOW + 6)
            .await,
        Err(MfaError::CodeMismatch)
    ));
    // Two requests with one code at once: one wins.
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let (mfa, pool, sub, code) = (
            h.mfa.clone(),
            h.pool.clone(),
            h.sub.clone(),
            codes[1].clone(),
        );
        tasks.push(tokio::spawn(async move {
            mfa.use_recovery_code(&pool, &sub, &code, "en", ip(), NOW + 7)
                .await
        }));
    }
    let mut wins = 0;
    for task in tasks {
        if task.await.unwrap().is_ok() {
            wins += 1;
        }
    }
    assert_eq!(wins, 1);
    // Regenerated codes replace the old ones.
    let fresh = h
        .mfa
        .regenerate_recovery_codes(&h.pool, &h.sub, NOW + 8)
        .await
        .unwrap();
    assert!(matches!(
        h.mfa
            .use_recovery_code(&h.pool, &h.sub, &codes[2], "en", ip(), NOW + 9)
            .await,
        Err(MfaError::CodeMismatch)
    ));
    let v = h
        .mfa
        .use_recovery_code(&h.pool, &h.sub, &fresh[0], "en", ip(), NOW + 9)
        .await
        .unwrap();
    assert_eq!(v.recovery_codes_left, Some(9));
}

#[tokio::test]
async fn the_last_factor_of_an_on_pool_stays_and_recovery_codes_go_with_the_last() {
    let h = harness(MfaSetting::On).await;
    let (_, enrolled) = h.enrol_totp().await;
    assert!(matches!(
        h.mfa
            .remove_factor(
                &h.pool,
                &h.sub,
                &enrolled.factor_id,
                "en",
                &Default::default(),
                NOW
            )
            .await,
        Err(MfaError::LastFactor)
    ));
    assert!(matches!(
        h.mfa
            .remove_factor(&h.pool, &h.sub, "nope", "en", &Default::default(), NOW)
            .await,
        Err(MfaError::NotFound)
    ));
    let mut optional = h.pool.clone();
    optional.mfa = MfaSetting::Optional;
    let user = h
        .mfa
        .set_preferred(&optional, &h.sub, MfaFactor::Totp, &Default::default(), NOW)
        .await
        .unwrap();
    assert_eq!(user.mfa.preferred, Some(MfaFactor::Totp));
    assert!(matches!(
        h.mfa
            .set_preferred(
                &optional,
                &h.sub,
                MfaFactor::Email,
                &Default::default(),
                NOW
            )
            .await,
        Err(MfaError::NotFound)
    ));
    let user = h
        .mfa
        .remove_factor(
            &optional,
            &h.sub,
            &enrolled.factor_id,
            "fr",
            &Default::default(),
            NOW,
        )
        .await
        .unwrap();
    assert!(user.mfa.is_empty(), "{:?}", user.mfa);
    assert!(h
        .mail
        .subjects()
        .contains(&"Un second facteur a été supprimé de votre compte".to_string()));
    assert!(matches!(
        h.mfa
            .regenerate_recovery_codes(&optional, &h.sub, NOW)
            .await,
        Err(MfaError::NotPossible(_))
    ));
}

#[tokio::test]
async fn reset_removes_everything() {
    let h = harness(MfaSetting::On).await;
    h.enrol_totp().await;
    let user = h.mfa.reset(&h.pool, &h.sub, NOW).await.unwrap();
    assert!(user.mfa.is_empty());
}

#[tokio::test]
async fn emailed_codes_enrol_and_pass_once() {
    let h = harness(MfaSetting::Optional).await;
    let user = h.user().await;
    // No email factor yet: a second-factor code is not sent.
    assert!(matches!(
        h.mfa
            .send_email_code(
                &h.pool,
                &user,
                EmailCodePurpose::SecondFactor,
                "en",
                ip(),
                NOW
            )
            .await,
        Err(MfaError::NotFound)
    ));
    let delivery = h
        .mfa
        .send_email_code(&h.pool, &user, EmailCodePurpose::Enrol, "en", ip(), NOW)
        .await
        .unwrap();
    assert_eq!(delivery.destination, "a***@e***.com");
    let code = h.mail.last_code();
    let enrolled = h
        .mfa
        .confirm_email_factor(&h.pool, &h.sub, &code, ip(), NOW + 1)
        .await
        .unwrap();
    assert_eq!(enrolled.recovery_codes.map(|c| c.len()), Some(10));
    let user = h.user().await;
    h.mfa
        .send_email_code(
            &h.pool,
            &user,
            EmailCodePurpose::SecondFactor,
            "en",
            ip(),
            NOW + 2,
        )
        .await
        .unwrap();
    let code = h.mail.last_code();
    assert!(matches!(
        h.mfa
            .verify_email_code(
                &h.pool,
                &h.sub,
                EmailCodePurpose::SignIn,
                &code,
                ip(),
                NOW + 3
            )
            .await,
        Err(MfaError::Expired)
    ));
    let v = h
        .mfa
        .verify_email_code(
            &h.pool,
            &h.sub,
            EmailCodePurpose::SecondFactor,
            &code,
            ip(),
            NOW + 3,
        )
        .await
        .unwrap();
    assert_eq!(v.amr, "email");
    // Single use.
    assert!(matches!(
        h.mfa
            .verify_email_code(
                &h.pool,
                &h.sub,
                EmailCodePurpose::SecondFactor,
                &code,
                ip(),
                NOW + 4
            )
            .await,
        Err(MfaError::Expired)
    ));
    // Expired after five minutes.
    h.mfa
        .send_email_code(
            &h.pool,
            &user,
            EmailCodePurpose::SecondFactor,
            "en",
            ip(),
            NOW + 10,
        )
        .await
        .unwrap();
    let code = h.mail.last_code();
    assert!(matches!(
        h.mfa
            .verify_email_code(
                &h.pool,
                &h.sub,
                EmailCodePurpose::SecondFactor,
                &code,
                ip(),
                NOW + 10 + 301
            )
            .await,
        Err(MfaError::Expired)
    ));
}

#[tokio::test]
async fn passwordless_sign_in_codes_reveal_no_account() {
    let h = harness(MfaSetting::Off).await;
    h.mfa
        .send_sign_in_code(&h.pool, "nobody@example.com", "en", ip(), NOW)
        .await
        .unwrap();
    let wrong = "12345678";
    assert!(matches!(
        h.mfa
            .verify_sign_in_code(&h.pool, "nobody@example.com", wrong, ip(), NOW + 1)
            .await,
        Err(MfaError::CodeMismatch)
    ));
    h.mfa
        .send_sign_in_code(&h.pool, "Alice@Example.com", "en", ip(), NOW)
        .await
        .unwrap();
    // The mail goes out in the background.
    for _ in 0..100 {
        if !h.mail.0.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let code = h.mail.last_code();
    assert_ne!(code, wrong);
    assert!(matches!(
        h.mfa
            .verify_sign_in_code(&h.pool, "alice@example.com", wrong, ip(), NOW + 1)
            .await,
        Err(MfaError::CodeMismatch)
    ));
    let user = h
        .mfa
        .verify_sign_in_code(&h.pool, "alice@example.com", &code, ip(), NOW + 2)
        .await
        .unwrap();
    assert_eq!(user.sub, h.sub);
    let mut no_email_otp = h.pool.clone();
    no_email_otp.factors.first = vec![FirstFactor::Password];
    assert!(matches!(
        h.mfa
            .send_sign_in_code(&no_email_otp, "alice", "en", ip(), NOW)
            .await,
        Err(MfaError::FactorNotAllowed)
    ));
}

#[tokio::test]
async fn wrong_sign_in_codes_lock_sign_in_codes_only_and_unknown_logins_alike() {
    let h = harness(MfaSetting::Optional).await;
    let (secret, _) = h.enrol_totp().await;
    for login in ["alice@example.com", "nobody@example.com"] {
        h.mfa
            .send_sign_in_code(&h.pool, login, "en", ip(), NOW)
            .await
            .unwrap();
        let mut answers = Vec::new();
        for _ in 0..6 {
            answers.push(
                match h
                    .mfa
                    .verify_sign_in_code(&h.pool, login, "00000000", ip(), NOW + 1)
                    .await
                {
                    Err(MfaError::CodeMismatch) => "mismatch",
                    Err(MfaError::Locked { .. }) => "locked",
                    Err(MfaError::LimitExceeded) => "limit",
                    other => panic!("{other:?}"),
                },
            );
        }
        // The destination's try budget or the account's lock stops the guesses, for a
        // known login and an unknown one alike.
        assert_eq!(answers[..5], ["mismatch"; 5], "{login}: {answers:?}");
        assert_ne!(answers[5], "mismatch", "{login}: {answers:?}");
    }
    // The second factor is not locked by them.
    let later = NOW + 300;
    h.mfa
        .verify_totp(&h.pool, &h.sub, &code_at(&secret, later), ip(), later)
        .await
        .unwrap();
}
