//! The account core (sign-up, confirmation, password reset, new password) and the sign-in
//! throttle, on a real SQLite store, with a recording mailer standing in for mail
//! delivery; and the SMTP sender against a tiny in-process SMTP server.
//!
//! Sign-up, confirmation codes and their limits are in [`sign_up`]; forgotten passwords,
//! resets and forced changes in [`passwords`]; the throttle and its CLI in [`throttle`];
//! the SMTP sender and the mail settings in [`mail`].

mod mail;
mod passwords;
mod sign_up;
mod throttle;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use cognate::config::Config;
use cognate::core::account::AccountService;
use cognate::core::directory::DirectoryError;
use cognate::core::mail::{Mail, MailError, MailRouter, Mailer};
use cognate::core::model::{CodeLimits, UserPool, UserStatus};
use cognate::core::secrets::SecretString;
use cognate::server::Node;
use tokio::sync::{mpsc, Mutex};

const PASSWORD: &str = "Corr3ct-horse";
/// The client address of the tests' requests, and another one.
const ADDRESS: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(203, 0, 113, 9));
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
                ADDRESS,
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
            .confirm_sign_up(&self.pool, email, &code, ADDRESS, self.now)
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

/// The tries one client address may spend on one destination's codes: half the
/// destination's (rounded up).
fn pair_tries() -> u32 {
    CodeLimits::default().tries_per_destination.div_ceil(2)
}

/// A code that is not `code`.
fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}
