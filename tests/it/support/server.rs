//! The real Cognate server in the test process, on 127.0.0.1:0, configured from a TOML
//! string, with mail going to an in-test SMTP sink. (Multi-node tests use the binary
//! instead: see `process`.)

use std::collections::BTreeMap;

use cognate::config::Config;
use cognate::core::directory::{InitialState, NewUser};
use cognate::core::model::{User, UserPool};
use cognate::core::password::Passwords;
use cognate::core::secrets::SecretString;
use cognate::server::Node;
use cognate::web::AppState;
use tokio::sync::oneshot;

use super::smtp::{self, Inbox};

pub struct TestServer {
    /// `http://127.0.0.1:<port>`
    pub base: String,
    pub node: Node,
    pub inbox: Inbox,
    /// Holds the data directory for the server's lifetime.
    _dir: tempfile::TempDir,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server whose config file holds `pools_toml` (pools, clients...); the
    /// `[server]` table is written here.
    pub async fn start(pools_toml: &str) -> TestServer {
        Self::start_with(pools_toml, "", &[]).await
    }

    /// [`TestServer::start`] with extra lines for the `[server]` table (e.g.
    /// `trusted_proxies = ["127.0.0.1/32"]`) and the environment the configuration is
    /// loaded with (e.g. `COGNATE_CLIENT_SECRET_<id>`; nothing of the process's own).
    pub async fn start_with(
        pools_toml: &str,
        server_toml: &str,
        env: &[(&str, &str)],
    ) -> TestServer {
        let passwords = Passwords::standard().unwrap();
        Self::start_with_passwords(pools_toml, server_toml, env, passwords).await
    }

    /// [`TestServer::start_with`] with a given password hasher (tests count verifications;
    /// `COGNATE_DATABASE_URL` and `COGNATE_MASTER_KEY` in `env` put several of these
    /// servers on one PostgreSQL database).
    pub async fn start_with_passwords(
        pools_toml: &str,
        server_toml: &str,
        env: &[(&str, &str)],
        passwords: Passwords,
    ) -> TestServer {
        Self::start_on(pools_toml, server_toml, env, passwords, "127.0.0.1").await
    }

    /// [`TestServer::start`] with `public_url = "http://localhost:PORT"`: passkey
    /// ceremonies need a host name (browsers and webauthn-rs refuse an IP address).
    pub async fn start_on_localhost(pools_toml: &str) -> TestServer {
        let passwords = Passwords::standard().unwrap();
        Self::start_on(pools_toml, "", &[], passwords, "localhost").await
    }

    async fn start_on(
        pools_toml: &str,
        server_toml: &str,
        env: &[(&str, &str)],
        passwords: Passwords,
        host: &str,
    ) -> TestServer {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let base = format!("http://{host}:{}", addr.port());
        let (smtp_url, inbox) = smtp::start().await;
        let text = format!(
            "[server]\ndata_dir = \"{}\"\npublic_url = \"{base}\"\n{server_toml}\n\n[server.smtp]\nurl = \"{smtp_url}\"\nfrom = \"no-reply@example.com\"\n\n{pools_toml}",
            dir.path().join("data").display()
        );
        let path = dir.path().join("cognate.toml");
        std::fs::write(&path, text).unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = move |name: &str| env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let config = Config::load_with_env(Some(&path), &lookup)
            .unwrap_or_else(|d| panic!("test config: {d:?}"));
        let node = Node::open_with(config, passwords).await.unwrap();
        node.bootstrap(false).await.unwrap();
        let state = AppState::new(node.clone()).unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let _ = cognate::web::serve(listener, state, async {
                let _ = rx.await;
            })
            .await;
        });
        TestServer {
            base,
            node,
            inbox,
            _dir: dir,
            shutdown: Some(tx),
            handle: Some(handle),
        }
    }

    /// The server's data directory (its SQLite database and master key), for running
    /// the `cognate` CLI on the same data.
    pub fn data_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("data")
    }

    pub async fn pool(&self, id: &str) -> UserPool {
        self.node.store.get_pool(id).await.unwrap().unwrap()
    }

    /// Creates a CONFIRMED user with a verified email.
    pub async fn user(&self, pool_id: &str, username: &str, password: &str) -> User {
        let mut attributes = BTreeMap::new();
        if !username.contains('@') {
            attributes.insert("email".to_string(), format!("{username}@example.com"));
        }
        attributes.insert("email_verified".to_string(), "true".to_string());
        self.create_user(pool_id, username, attributes, password)
            .await
    }

    /// Creates a CONFIRMED user with these attributes and password.
    pub async fn create_user(
        &self,
        pool_id: &str,
        username: &str,
        attributes: BTreeMap<String, String>,
        password: &str,
    ) -> User {
        let pool = self.pool(pool_id).await;
        self.node
            .directory
            .create_user(
                &pool,
                NewUser {
                    username: username.to_string(),
                    attributes,
                    password: Some(SecretString::new(password)),
                    state: InitialState::Confirmed,
                },
                cognate::core::now(),
            )
            .await
            .unwrap()
    }

    /// The pool's user of this username (or alias), as the directory finds it.
    pub async fn find_user(&self, pool_id: &str, username: &str) -> Option<User> {
        let pool = self.pool(pool_id).await;
        self.node
            .directory
            .find_user(&pool, username)
            .await
            .unwrap()
    }

    /// How many users the pool holds.
    pub async fn user_count(&self, pool_id: &str) -> u64 {
        self.node.store.count_users(pool_id).await.unwrap()
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.abort();
        }
    }
}

/// A browser-like HTTP client: keeps cookies, follows no redirects (tests look at each).
pub fn browser_client() -> reqwest::Client {
    cognate::federation::http::install_crypto_provider();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .unwrap()
}

/// The value of a hidden input in a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].replace("&amp;", "&"))
}

/// The body of `url`, fetched with `client`.
pub async fn page(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// Resolves a Location header against the server.
pub fn absolute(base: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        location.to_string()
    } else {
        format!("{base}{location}")
    }
}

/// Drives the hosted sign-in page without a browser: follows `authorize_url` to the
/// login page, posts the credentials, and returns the final redirect's Location (the
/// client's redirect URI with `code` and `state`), or the page body when no redirect came
/// (or the transport error, when the server is gone).
pub async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    authorize_url: &str,
    username: &str,
    password: &str,
) -> Result<String, String> {
    let r = client
        .get(authorize_url)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .ok_or_else(|| format!("authorize answered {}", r.status()))?;
    if !location.starts_with("/login") {
        return Ok(location);
    }
    let page = client
        .get(absolute(base, &location))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let flow = hidden(&page, "flow").ok_or("no flow on the login page")?;
    let csrf = hidden(&page, "_csrf").ok_or("no csrf on the login page")?;
    let r = client
        .post(format!("{base}/login"))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("password", password),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    match r.headers().get("location") {
        Some(l) => Ok(l.to_str().unwrap().to_string()),
        None => Err(r.text().await.unwrap_or_default()),
    }
}
