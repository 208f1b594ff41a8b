//! The account flows under attack over HTTP, on the hosted pages (sign-up, confirm,
//! resend, forgot and reset password), each beside the honest request succeeding, on
//! SQLite and (with `COGNATE_TEST_DATABASE_URL`) PostgreSQL: the code budgets per
//! destination and per client address ([`budgets`]), answers that never tell who exists
//! ([`enumeration`]), a reset by code signing the user out everywhere ([`signout`]), and
//! addresses that look like another kept from getting budgets of their own
//! ([`addresses`]).
//!
//! The server trusts 127.0.0.1 as a proxy, so each request names its client address in
//! `X-Forwarded-For`, as a load balancer would.

mod addresses;
mod budgets;
mod enumeration;
mod signout;

use reqwest::StatusCode;

use crate::support::pg::PgNodeEnv;
use crate::support::server::{absolute, browser_client, hidden, TestServer};

pub const POOL: &str = "us-east-1_AcctAtk001";
pub const SPA: &str = "acctatkspa000000000000001";
pub const CALLBACK: &str = "http://127.0.0.1:9/cb";
pub const PASSWORD: &str = "Corr3ct-horse-1";
pub const NEW_PASSWORD: &str = "Battery-stapl3-2";
/// The hosted pages' English messages for the refusals these tests meet.
pub const LIMIT: &str = "Too many attempts. Wait a moment and try again.";
pub const MISMATCH: &str = "Invalid verification code. Check the code and try again.";

/// Which store the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// Runs each listed `async fn name(Engine)` of the calling module once per engine.
macro_rules! on_both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::account_attacks::Engine::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::account_attacks::Engine::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_engines;

/// A pool with usernames and an email alias (unverified emails are not unique there),
/// verifying email by code; `extra` adds lines to the pool's table.
pub fn pools_toml(extra: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "Account attacks"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
required_attributes = ["email"]
{extra}

[[pools.clients]]
id = "{SPA}"
name = "spa"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
"#
    )
}

/// A server on the engine, trusting 127.0.0.1 as a proxy.
pub struct Env {
    pub server: TestServer,
    /// The PostgreSQL schema and the master key its nodes share.
    db: Option<PgNodeEnv>,
}

impl Env {
    /// `None` when the engine is PostgreSQL and no test database is configured (the
    /// support module says so loudly, and fails under CI).
    pub async fn start(engine: Engine, pool_extra: &str) -> Option<Env> {
        let proxies = "trusted_proxies = [\"127.0.0.1/32\"]";
        let pools = pools_toml(pool_extra);
        match engine {
            Engine::Sqlite => Some(Env {
                server: TestServer::start_with(&pools, proxies, &[]).await,
                db: None,
            }),
            Engine::Postgres => {
                let pg = PgNodeEnv::new("account_attacks").await?;
                let server = TestServer::start_with(&pools, proxies, &pg.vars()).await;
                Some(Env {
                    server,
                    db: Some(pg),
                })
            }
        }
    }

    /// Another node on the same PostgreSQL database (with the same pool and master key);
    /// `None` on SQLite, whose database one node owns.
    pub async fn second_node(&self, pool_extra: &str) -> Option<TestServer> {
        let pg = self.db.as_ref()?;
        let proxies = "trusted_proxies = [\"127.0.0.1/32\"]";
        Some(TestServer::start_with(&pools_toml(pool_extra), proxies, &pg.vars()).await)
    }

    pub async fn stop(self) {
        self.server.stop().await;
        if let Some(pg) = self.db {
            pg.cleanup().await;
        }
    }

    /// The client's authorization request, with [`pkce`]'s challenge.
    pub fn authorize_url(&self) -> String {
        format!(
            "{}/oauth2/authorize?response_type=code&client_id={SPA}&redirect_uri={}\
             &scope=openid+email&state=s&code_challenge={}&code_challenge_method=S256",
            self.server.base,
            urlencoding(CALLBACK),
            pkce().challenge
        )
    }

    /// A new browser with a login flow started.
    pub async fn flow(&self) -> Flow {
        let browser = browser_client();
        let base = self.server.base.clone();
        let r = browser.get(self.authorize_url()).send().await.unwrap();
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with("/login?flow="), "{location}");
        let page = browser
            .get(absolute(&base, &location))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        Flow {
            browser,
            base,
            flow: hidden(&page, "flow").expect("flow"),
            csrf: hidden(&page, "_csrf").expect("_csrf"),
        }
    }

    /// How many messages the mail sink received for `address`.
    pub fn mails_to(&self, address: &str) -> usize {
        let to = format!("To: {address}");
        self.server
            .inbox
            .all()
            .iter()
            .filter(|m| m.lines().any(|l| l.eq_ignore_ascii_case(&to)))
            .count()
    }
}

/// The PKCE pair of every authorization request here.
pub fn pkce() -> crate::claims::Pkce {
    crate::claims::Pkce::new("account-attacks")
}

fn urlencoding(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// An answer, read whole.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// A page that says `message` (the hosted pages answer a refusal with 200 and the
    /// form again).
    pub fn says(&self, message: &str) -> bool {
        self.status == StatusCode::OK && self.body.contains(message)
    }
}

/// One browser's login flow, posting the account forms from a client address.
pub struct Flow {
    pub browser: reqwest::Client,
    pub base: String,
    pub flow: String,
    pub csrf: String,
}

impl Flow {
    pub async fn post(&self, path: &str, fields: &[(&str, &str)], from: &str) -> Page {
        let mut form = vec![("flow", self.flow.as_str()), ("_csrf", self.csrf.as_str())];
        form.extend_from_slice(fields);
        let r = self
            .browser
            .post(format!("{}{path}", self.base))
            .header("x-forwarded-for", from)
            .form(&form)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let location = r
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string());
        Page {
            status,
            location,
            body: r.text().await.unwrap_or_default(),
        }
    }

    pub async fn sign_up(&self, username: &str, email: &str, from: &str) -> Page {
        let fields = [
            ("username", username),
            ("email", email),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ];
        self.post("/signup", &fields, from).await
    }

    pub async fn confirm(&self, username: &str, code: &str, from: &str) -> Page {
        let fields = [("username", username), ("code", code)];
        self.post("/confirm", &fields, from).await
    }

    pub async fn resend(&self, username: &str, from: &str) -> Page {
        self.post("/confirm/resend", &[("username", username)], from)
            .await
    }

    pub async fn forgot(&self, username: &str, from: &str) -> Page {
        self.post("/forgot-password", &[("username", username)], from)
            .await
    }

    pub async fn reset(&self, username: &str, code: &str, password: &str, from: &str) -> Page {
        let fields = [
            ("username", username),
            ("code", code),
            ("password", password),
            ("password_confirm", password),
        ];
        self.post("/reset-password", &fields, from).await
    }

    /// Signs in on the flow's login form; the redirect on success.
    pub async fn sign_in(&self, username: &str, password: &str, from: &str) -> Page {
        let fields = [("username", username), ("password", password)];
        self.post("/login", &fields, from).await
    }
}

/// A code that is not `code`.
pub fn wrong(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}
