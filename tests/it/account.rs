//! The account core (sign-up, confirmation, password reset, new password) and the sign-in
//! throttle, on a real SQLite store, with a recording mailer standing in for mail
//! delivery; and the SMTP sender against a tiny in-process SMTP server.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cognate::config::Config;
use cognate::core::account::{
    AccountError, AccountService, MAX_CODE_ATTEMPTS, SIGNUP_CODE_VALIDITY_SECS,
};
use cognate::core::directory::{DirectoryError, InitialState, NewUser};
use cognate::core::mail::{Mail, MailError, MailRouter, Mailer, SmtpMailer};
use cognate::core::model::{AliasAttribute, UserPool, UserStatus};
use cognate::core::secrets::SecretString;
use cognate::core::throttle::{login_key, Throttle, Verdict, ACCOUNT_LOCK_FAILURES, MAX_DELAY};
use cognate::server::Node;
use cognate::web::cognito_errors::account_error_type;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, Mutex};

const PASSWORD: &str = "Corr3ct-horse";
const NEW_PASSWORD: &str = "Battery-stapl3";

/// Records mail instead of delivering it (the outside world, faked).
struct Recorder(mpsc::UnboundedSender<Mail>);

#[async_trait]
impl Mailer for Recorder {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let _ = self.0.send(mail.clone());
        Ok(())
    }
}

struct Env {
    _dir: tempfile::TempDir,
    node: Node,
    pool: UserPool,
    accounts: AccountService,
    outbox: Mutex<mpsc::UnboundedReceiver<Mail>>,
    now: i64,
}

impl Env {
    /// The next mail sent (password reset mail goes out in the background).
    async fn next_mail(&self) -> Mail {
        tokio::time::timeout(Duration::from_secs(10), self.outbox.lock().await.recv())
            .await
            .expect("a mail within 10 s")
            .expect("mailer alive")
    }

    async fn sign_up(&self, email: &str) -> String {
        let outcome = self
            .accounts
            .sign_up(
                &self.pool,
                email,
                &SecretString::new(PASSWORD),
                BTreeMap::new(),
                "en",
                self.now,
            )
            .await
            .unwrap();
        assert!(outcome.delivery.is_some());
        code_of(&self.next_mail().await)
    }

    /// A confirmed user with a verified email.
    async fn confirmed(&self, email: &str) {
        let code = self.sign_up(email).await;
        self.accounts
            .confirm_sign_up(&self.pool, email, &code, self.now)
            .await
            .unwrap();
    }

    async fn authenticate(
        &self,
        login: &str,
        password: &str,
    ) -> Result<UserStatus, DirectoryError> {
        self.node
            .directory
            .authenticate(&self.pool, login, &SecretString::new(password), self.now)
            .await
            .map(|u| u.status)
    }
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.data_dir = dir.path().join("data");
    let node = Node::open(config).await.unwrap();
    let boot = node.bootstrap(false).await.unwrap();
    let pool_id = boot.demo.expect("demo pool").pool_id;
    let pool = node.store.get_pool(&pool_id).await.unwrap().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let accounts = AccountService::new(
        node.directory.clone(),
        MailRouter::new(Arc::new(Recorder(tx))),
    );
    Env {
        _dir: dir,
        node,
        pool,
        accounts,
        outbox: Mutex::new(rx),
        now: 1_800_000_000,
    }
}

/// The 6-digit code in a mail.
fn code_of(mail: &Mail) -> String {
    let digits: Vec<char> = mail.text.chars().collect();
    for window in digits.windows(6) {
        if window.iter().all(char::is_ascii_digit) {
            return window.iter().collect();
        }
    }
    panic!("no code in {:?}", mail.text);
}

/// A code that is not `code`.
fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn sign_up_mails_a_code_that_confirms_the_user() {
    let e = env().await;
    let outcome = e
        .accounts
        .sign_up(
            &e.pool,
            "alice@example.com",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            e.now,
        )
        .await
        .unwrap();
    assert_eq!(outcome.user.status, UserStatus::Unconfirmed);
    let delivery = outcome.delivery.unwrap();
    assert_eq!(
        (delivery.medium, delivery.destination.as_str()),
        ("EMAIL", "a***@e***.com")
    );
    let mail = e.next_mail().await;
    assert_eq!(mail.to, "alice@example.com");
    assert_eq!(mail.subject, "Your verification code");
    let code = code_of(&mail);
    assert!(matches!(
        e.authenticate("alice@example.com", PASSWORD).await,
        Err(DirectoryError::UserNotConfirmed)
    ));

    let err = e
        .accounts
        .confirm_sign_up(&e.pool, "alice@example.com", &wrong(&code), e.now)
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::CodeMismatch), "{err}");
    assert_eq!(account_error_type(&err), "CodeMismatchException");

    let user = e
        .accounts
        .confirm_sign_up(&e.pool, "alice@example.com", &code, e.now)
        .await
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
    assert_eq!(user.attribute("email_verified"), Some("true"));
    assert_eq!(
        e.authenticate("ALICE@example.com", PASSWORD).await.unwrap(),
        UserStatus::Confirmed
    );
    // Confirming again is refused as in Cognito.
    let again = e
        .accounts
        .confirm_sign_up(&e.pool, "alice@example.com", &code, e.now)
        .await
        .unwrap_err();
    assert!(matches!(again, AccountError::NotAuthorized(_)), "{again}");

    // The same address cannot sign up twice; French mail for a French speaker.
    let taken = e
        .accounts
        .sign_up(
            &e.pool,
            "Alice@Example.com",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            e.now,
        )
        .await
        .unwrap_err();
    assert_eq!(account_error_type(&taken), "UsernameExistsException");
    e.accounts
        .sign_up(
            &e.pool,
            "benoit@example.fr",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "fr-FR",
            e.now,
        )
        .await
        .unwrap();
    assert_eq!(e.next_mail().await.subject, "Votre code de vérification");
}

#[tokio::test]
async fn sign_up_rules() {
    let e = env().await;
    // A password that breaks the policy: every missing class is named.
    let err = e
        .accounts
        .sign_up(
            &e.pool,
            "weak@example.com",
            &SecretString::new("abc"),
            BTreeMap::new(),
            "en",
            e.now,
        )
        .await
        .unwrap_err();
    let AccountError::InvalidPassword(violation) = &err else {
        panic!("{err:?}");
    };
    for missing in [
        "at least 8 characters",
        "an uppercase letter",
        "a number",
        "a symbol",
    ] {
        assert!(
            violation.missing.iter().any(|m| m == missing),
            "{violation:?}"
        );
    }
    assert!(!violation.missing.iter().any(|m| m == "a lowercase letter"));
    assert_eq!(account_error_type(&err), "InvalidPasswordException");
    assert!(err.to_string().contains("an uppercase letter"), "{err}");

    // A sign-up cannot claim a verified address.
    let claims = BTreeMap::from([("email_verified".to_string(), "true".to_string())]);
    let err = e
        .accounts
        .sign_up(
            &e.pool,
            "sly@example.com",
            &SecretString::new(PASSWORD),
            claims,
            "en",
            e.now,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AccountError::InvalidParameter { field, .. } if field == "email_verified"),
        "{err:?}"
    );

    // Not an email address in an email-as-username pool.
    let err = e
        .accounts
        .sign_up(
            &e.pool,
            "not-an-email",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            e.now,
        )
        .await
        .unwrap_err();
    assert_eq!(
        account_error_type(&err),
        "InvalidParameterException",
        "{err}"
    );

    // Admin-only pools refuse; the corrected request (self sign-up allowed) succeeds.
    let closed = UserPool {
        admin_create_user_only: true,
        ..e.pool.clone()
    };
    let err = e
        .accounts
        .sign_up(
            &closed,
            "late@example.com",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::SignUpDisabled));
    e.sign_up("late@example.com").await;

    // A pool that does not verify email: UNCONFIRMED, nothing sent, for an administrator.
    let manual = UserPool {
        auto_verified_attributes: vec![],
        ..e.pool.clone()
    };
    let outcome = e
        .accounts
        .sign_up(
            &manual,
            "manual@example.com",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            e.now,
        )
        .await
        .unwrap();
    assert!(outcome.delivery.is_none());
    assert_eq!(outcome.user.status, UserStatus::Unconfirmed);
}

#[tokio::test]
async fn codes_expire_and_resending_replaces_them() {
    let e = env().await;
    let code = e.sign_up("slow@example.com").await;
    let later = e.now + SIGNUP_CODE_VALIDITY_SECS;
    let err = e
        .accounts
        .confirm_sign_up(&e.pool, "slow@example.com", &code, later)
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::ExpiredCode), "{err}");
    assert_eq!(account_error_type(&err), "ExpiredCodeException");

    let delivery = e
        .accounts
        .resend_confirmation_code(&e.pool, "slow@example.com", "en", later)
        .await
        .unwrap();
    assert_eq!(delivery.destination, "s***@e***.com");
    let fresh = code_of(&e.next_mail().await);
    let user = e
        .accounts
        .confirm_sign_up(&e.pool, "slow@example.com", &fresh, later + 60)
        .await
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
}

#[tokio::test]
async fn five_wrong_codes_destroy_the_code() {
    let e = env().await;
    let code = e.sign_up("guess@example.com").await;
    for _ in 0..MAX_CODE_ATTEMPTS {
        let err = e
            .accounts
            .confirm_sign_up(&e.pool, "guess@example.com", &wrong(&code), e.now)
            .await
            .unwrap_err();
        assert!(matches!(err, AccountError::CodeMismatch), "{err}");
    }
    // Even the right code is refused now: a new one must be requested.
    let err = e
        .accounts
        .confirm_sign_up(&e.pool, "guess@example.com", &code, e.now)
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::LimitExceeded), "{err}");
    assert_eq!(account_error_type(&err), "LimitExceededException");

    e.accounts
        .resend_confirmation_code(&e.pool, "guess@example.com", "en", e.now)
        .await
        .unwrap();
    let fresh = code_of(&e.next_mail().await);
    e.accounts
        .confirm_sign_up(&e.pool, "guess@example.com", &fresh, e.now)
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_guesses_get_at_most_five_answers() {
    let e = env().await;
    let code = e.sign_up("race@example.com").await;
    let bad = wrong(&code);
    let guesses = (0..20).map(|_| {
        e.accounts
            .confirm_sign_up(&e.pool, "race@example.com", &bad, e.now)
    });
    let results = futures::future::join_all(guesses).await;
    let mismatches = results
        .iter()
        .filter(|r| matches!(r, Err(AccountError::CodeMismatch)))
        .count();
    let limited = results
        .iter()
        .filter(|r| matches!(r, Err(AccountError::LimitExceeded)))
        .count();
    assert_eq!(mismatches, MAX_CODE_ATTEMPTS as usize);
    assert_eq!(mismatches + limited, 20);
}

#[tokio::test]
async fn forgot_password_answers_alike_for_known_and_unknown_users() {
    let e = env().await;
    e.confirmed("carol@example.com").await;

    let unknown = e
        .accounts
        .forgot_password(&e.pool, "dave@example.com", "en", e.now)
        .await
        .unwrap();
    let known = e
        .accounts
        .forgot_password(&e.pool, "carol@example.com", "en", e.now)
        .await
        .unwrap();
    assert_eq!(known.destination, "c***@e***.com");
    assert_eq!(unknown.destination, "d***@e***.com");
    assert_eq!(
        (known.medium, known.attribute_name),
        (unknown.medium, unknown.attribute_name)
    );
    // Only carol got mail (the unknown request came first and sent nothing).
    let mail = e.next_mail().await;
    assert_eq!(mail.to, "carol@example.com");
    assert_eq!(mail.subject, "Your password reset code");

    // Guessing for the unknown user goes exactly like guessing for a real one.
    for _ in 0..MAX_CODE_ATTEMPTS {
        let err = e
            .accounts
            .confirm_forgot_password(
                &e.pool,
                "dave@example.com",
                "123456",
                &SecretString::new(NEW_PASSWORD),
                e.now,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AccountError::CodeMismatch), "{err}");
    }
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "dave@example.com",
            "123456",
            &SecretString::new(NEW_PASSWORD),
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::LimitExceeded), "{err}");

    // In a pool with usernames, an unknown username gets a stable made-up destination.
    let mut named = e.pool.clone();
    named.id = "us-east-1_Named1234".to_string();
    named.username_attributes = vec![];
    named.alias_attributes = vec![AliasAttribute::Email];
    e.node.store.put_pool(&named).await.unwrap();
    let first = e
        .accounts
        .forgot_password(&named, "nobody", "en", e.now)
        .await
        .unwrap();
    let second = e
        .accounts
        .forgot_password(&named, "NoBody", "en", e.now)
        .await
        .unwrap();
    assert_eq!(first, second);
    let d = &first.destination;
    assert!(
        d.len() > 10 && &d[1..5] == "***@" && &d[6..10] == "***.",
        "{d}"
    );
}

#[tokio::test]
async fn reset_with_the_code_replaces_the_password() {
    let e = env().await;
    e.confirmed("erin@example.com").await;
    e.accounts
        .forgot_password(&e.pool, "erin@example.com", "fr", e.now)
        .await
        .unwrap();
    let mail = e.next_mail().await;
    assert_eq!(
        mail.subject,
        "Votre code de réinitialisation du mot de passe"
    );
    let code = code_of(&mail);

    // A weak password is refused first and does not use up the code.
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new("password"),
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::InvalidPassword(_)), "{err}");
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &wrong(&code),
            &SecretString::new(NEW_PASSWORD),
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::CodeMismatch), "{err}");

    let user = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new(NEW_PASSWORD),
            e.now,
        )
        .await
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
    assert!(matches!(
        e.authenticate("erin@example.com", PASSWORD).await,
        Err(DirectoryError::NotAuthorized)
    ));
    assert_eq!(
        e.authenticate("erin@example.com", NEW_PASSWORD)
            .await
            .unwrap(),
        UserStatus::Confirmed
    );
    // Single use.
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new("An0ther-pass"),
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::ExpiredCode), "{err}");

    // A RESET_REQUIRED user (imported, or reset by an administrator) gets out of it.
    let sub = user.sub.clone();
    e.node
        .directory
        .modify_user(&e.pool, &sub, |u| {
            u.status = UserStatus::ResetRequired;
            Ok(())
        })
        .await
        .unwrap();
    assert!(matches!(
        e.authenticate("erin@example.com", NEW_PASSWORD).await,
        Err(DirectoryError::PasswordResetRequired)
    ));
    e.accounts
        .forgot_password(&e.pool, "erin@example.com", "en", e.now + 10)
        .await
        .unwrap();
    let code = code_of(&e.next_mail().await);
    e.accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new(PASSWORD),
            e.now + 20,
        )
        .await
        .unwrap();
    assert_eq!(
        e.authenticate("erin@example.com", PASSWORD).await.unwrap(),
        UserStatus::Confirmed
    );
    // The code expires after an hour.
    e.accounts
        .forgot_password(&e.pool, "erin@example.com", "en", e.now)
        .await
        .unwrap();
    let code = code_of(&e.next_mail().await);
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new(NEW_PASSWORD),
            e.now + 3600,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::ExpiredCode), "{err}");
}

#[tokio::test]
async fn a_forced_password_change_ends_in_confirmed() {
    let e = env().await;
    let user = e
        .node
        .directory
        .create_user(
            &e.pool,
            NewUser {
                username: "invited@example.com".into(),
                attributes: BTreeMap::new(),
                password: Some(SecretString::new("Temp0rary!")),
                state: InitialState::ForceChangePassword,
            },
            e.now,
        )
        .await
        .unwrap();
    let err = e
        .accounts
        .complete_new_password(&e.pool, &user.sub, &SecretString::new("weak"), e.now)
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::InvalidPassword(_)), "{err}");
    let done = e
        .accounts
        .complete_new_password(&e.pool, &user.sub, &SecretString::new(NEW_PASSWORD), e.now)
        .await
        .unwrap();
    assert_eq!(done.status, UserStatus::Confirmed);
    assert_eq!(
        e.authenticate("invited@example.com", NEW_PASSWORD)
            .await
            .unwrap(),
        UserStatus::Confirmed
    );
    let again = e
        .accounts
        .complete_new_password(&e.pool, &user.sub, &SecretString::new(PASSWORD), e.now)
        .await
        .unwrap_err();
    assert!(matches!(again, AccountError::NotAuthorized(_)), "{again}");
}

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
            let verdict = throttle
                .check(&pool.id, &key, address(i), now)
                .await
                .unwrap();
            assert!(
                matches!(verdict, Verdict::Allow { .. }),
                "{login} attempt {i}"
            );
            let err = e.authenticate(login, "Wr0ng-password").await.unwrap_err();
            assert!(matches!(err, DirectoryError::NotAuthorized));
            throttle
                .record_failure(&pool.id, &key, address(i), now)
                .await
                .unwrap();
        }
    }
    // The same verdict for both, from any address.
    let fresh = IpAddr::from([192, 0, 2, 1]);
    let frank = throttle
        .check(
            &pool.id,
            &login_key(pool, "Frank@Example.com"),
            fresh,
            now + 1,
        )
        .await
        .unwrap();
    let ghost = throttle
        .check(
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
            .check(&pool.id, &key, fresh, now + 2)
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
        throttle
            .record_failure(&pool.id, &key, attacker, now + 3)
            .await
            .unwrap();
    }
    assert!(matches!(
        throttle
            .check(&pool.id, &key, attacker, now + 4)
            .await
            .unwrap(),
        Verdict::Locked { .. }
    ));
    assert_eq!(
        throttle
            .check(&pool.id, &key, fresh, now + 4)
            .await
            .unwrap(),
        Verdict::Allow { delay: MAX_DELAY }
    );
    e.authenticate("frank@example.com", PASSWORD).await.unwrap();
}

// --- SMTP ------------------------------------------------------------------------------

/// A one-connection SMTP server that speaks just enough of RFC 5321 and hands over the
/// message data.
async fn smtp_sink() -> (SocketAddr, tokio::sync::oneshot::Receiver<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let (socket, _) = listener.accept().await.unwrap();
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read);
        write.write_all(b"220 sink ESMTP ready\r\n").await.unwrap();
        let mut tx = Some(tx);
        let mut data: Option<String> = None;
        let mut line = String::new();
        loop {
            line.clear();
            if lines.read_line(&mut line).await.unwrap() == 0 {
                break;
            }
            if let Some(body) = data.as_mut() {
                if line == ".\r\n" {
                    let body = data.take().unwrap_or_default();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(body);
                    }
                    write.write_all(b"250 2.0.0 queued\r\n").await.unwrap();
                } else {
                    body.push_str(&line);
                }
                continue;
            }
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 sink\r\n",
                "MAIL" | "RCPT" | "RSET" | "NOOP" => b"250 2.1.0 ok\r\n",
                "DATA" => {
                    data = Some(String::new());
                    b"354 end data with <CR><LF>.<CR><LF>\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 2.0.0 bye\r\n").await.unwrap();
                    break;
                }
                _ => b"502 5.5.2 not implemented\r\n",
            };
            write.write_all(reply).await.unwrap();
        }
    });
    (addr, rx)
}

#[tokio::test]
async fn smtp_mailer_delivers_through_a_real_conversation() {
    let (addr, received) = smtp_sink().await;
    let mailer = SmtpMailer::from_url(
        &SecretString::new(format!("smtp://{addr}")),
        "Cognate <no-reply@example.com>",
    )
    .unwrap();
    let mail = Mail {
        to: "alice@example.com".into(),
        subject: "Your verification code".into(),
        text: "Your verification code is 424242.\n".into(),
    };
    mailer.send(&mail).await.unwrap();
    let data = tokio::time::timeout(Duration::from_secs(10), received)
        .await
        .unwrap()
        .unwrap();
    assert!(data.contains("Subject: Your verification code"), "{data}");
    assert!(data.contains("To: alice@example.com"), "{data}");
    assert!(
        data.contains("From: Cognate <no-reply@example.com>"),
        "{data}"
    );
    assert!(data.contains("424242"), "{data}");

    // A failure names the server, never the password.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let mailer = SmtpMailer::from_url(
        &SecretString::new(format!("smtp://user:s3cr%21t@127.0.0.1:{port}")),
        "no-reply@example.com",
    )
    .unwrap();
    let err = mailer.send(&mail).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(!text.contains("s3cr"), "{text}");
}

// --- configuration -------------------------------------------------------------------------

#[test]
fn mail_settings_in_the_file_and_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cognate.toml");
    let write = |text: &str| std::fs::write(&path, text).unwrap();
    let env = |vars: &'static [(&'static str, &'static str)]| {
        move |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    };

    // No SMTP anywhere: the development sender, for every pool.
    write("[[pools]]\nname = \"shop\"\n");
    let config = Config::load_with_env(Some(&path), &env(&[])).unwrap();
    let router = cognate::config::mail::mail_router(&config).unwrap();
    assert!(router.default.is_development());

    // Bad values are located and explained, and the URL's password is never repeated.
    write(
        "[server.smtp]\nurl = \"http://user:hunter2@mail.example.com\"\nfrom = \"nobody\"\n\n\
         [[pools]]\nname = \"shop\"\nemail = { from = \"Shop <shop@>\", smtp_url_env = \"shop-url\" }\n",
    );
    let errors = Config::load_with_env(Some(&path), &env(&[])).unwrap_err();
    let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
    let text = text.join("\n");
    for path in [
        "server.smtp.url",
        "server.smtp.from",
        "pools[0].email.from",
        "pools[0].email.smtp_url_env",
    ] {
        assert!(text.contains(path), "{path} missing in:\n{text}");
    }
    assert!(!text.contains("hunter2"), "{text}");

    // The corrected file: the server sender, and the pool's own from its variable.
    write(
        "[server.smtp]\nurl = \"smtps://user:pw@mail.example.com\"\nfrom = \"no-reply@example.com\"\n\n\
         [[pools]]\nid = \"us-east-1_Shop12345\"\nname = \"shop\"\n\
         email = { from = \"Shop <shop@example.com>\", smtp_url_env = \"SHOP_SMTP_URL\" }\n\n\
         [[pools]]\nname = \"blog\"\nemail = { from = \"blog@example.com\" }\n",
    );
    let missing = Config::load_with_env(Some(&path), &env(&[])).unwrap_err();
    assert_eq!(missing[0].path, "SHOP_SMTP_URL", "{missing:?}");
    let config = Config::load_with_env(
        Some(&path),
        &env(&[(
            "SHOP_SMTP_URL",
            "smtp://shop:pw@127.0.0.1:2525?tls=required",
        )]),
    )
    .unwrap();
    let router = cognate::config::mail::mail_router(&config).unwrap();
    assert!(!router.default.is_development());
    assert!(router.per_pool.contains_key("us-east-1_Shop12345"));
    assert!(router.per_pool_name.contains_key("blog"));

    // COGNATE_SMTP_URL with COGNATE_SMTP_FROM stands in for the table; one alone is an error.
    write("");
    let config = Config::load_with_env(
        Some(&path),
        &env(&[
            ("COGNATE_SMTP_URL", "smtps://u:p@mail.example.com"),
            ("COGNATE_SMTP_FROM", "no-reply@example.com"),
        ]),
    )
    .unwrap();
    assert_eq!(config.server.smtp.unwrap().from, "no-reply@example.com");
    let errors = Config::load_with_env(
        Some(&path),
        &env(&[("COGNATE_SMTP_URL", "smtps://u:p@mail.example.com")]),
    )
    .unwrap_err();
    assert_eq!(errors[0].path, "COGNATE_SMTP_URL");
}

// --- the admin CLI ---------------------------------------------------------------------------

#[tokio::test]
async fn lockouts_are_listed_and_cleared_with_the_cli() {
    let e = env().await;
    let throttle = Throttle::new(e.node.store.clone());
    let key = login_key(&e.pool, "Ghost:One@Example.com");
    let now = cognate::core::now();
    for i in 0..ACCOUNT_LOCK_FAILURES {
        let from = IpAddr::from([10, 1, 0, u8::try_from(i % 2).unwrap()]);
        throttle
            .record_failure(&e.pool.id, &key, from, now)
            .await
            .unwrap();
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
            .check(&e.pool.id, &key, IpAddr::from([10, 1, 0, 0]), now)
            .await
            .unwrap(),
        Verdict::Allow {
            delay: Duration::ZERO
        }
    );
}
