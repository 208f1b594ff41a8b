//! Configuration as code: one TOML file declares the server settings and the pools, app
//! clients, resource servers and groups Cognate should have.
//!
//! - [`Config::load`] parses the file (or takes the defaults when there is none), applies
//!   environment overrides, and validates everything ([`check`] reports every error with
//!   its line, column and a fix).
//! - [`apply::apply`] creates or updates the declared records. A record deleted from the
//!   file is deleted only with an explicit prune; records created by the CLI or API
//!   (`Origin::Api`) are never touched by the file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::core::secrets::SecretString;

pub mod apply;
pub mod check;
pub mod decl;
pub mod mail;

pub use check::{check_file, Diagnostic};
pub use decl::PoolDecl;

const SMTP_URL_FIX: &str = "write e.g. smtps://user:password@smtp.example.com:465 or \
                            smtp://user:password@smtp.example.com:587?tls=required";

/// The default listen address: loopback only, so a first start exposes nothing.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8750";

/// The environment variables that override the file (secrets and the listen address).
pub mod env {
    pub const LISTEN: &str = "COGNATE_LISTEN";
    /// `[server] metrics_listen`.
    pub const METRICS_LISTEN: &str = "COGNATE_METRICS_LISTEN";
    pub const PUBLIC_URL: &str = "COGNATE_PUBLIC_URL";
    pub const DATA_DIR: &str = "COGNATE_DATA_DIR";
    pub const DATABASE_URL: &str = "COGNATE_DATABASE_URL";
    pub const MASTER_KEY: &str = "COGNATE_MASTER_KEY";
    pub const MASTER_KEY_FILE: &str = "COGNATE_MASTER_KEY_FILE";
    pub const LOG_FORMAT: &str = "COGNATE_LOG_FORMAT";
    /// `COGNATE_CLIENT_SECRET_<CLIENT ID>` sets a declared client's secret.
    pub const CLIENT_SECRET_PREFIX: &str = "COGNATE_CLIENT_SECRET_";
    /// The SMTP URL of the server-wide mail sender (`[server.smtp] url`).
    pub const SMTP_URL: &str = "COGNATE_SMTP_URL";
    /// The sender address of the server-wide mail sender (`[server.smtp] from`).
    pub const SMTP_FROM: &str = "COGNATE_SMTP_FROM";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// `[server]`: how this node runs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerSettings {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// The public base URL (what goes into `iss`, redirects and metadata), when Cognate
    /// runs behind a TLS reverse proxy. Defaults to `http://<listen>`.
    pub public_url: Option<url::Url>,
    /// Where the embedded SQLite database and the master key file live.
    pub data_dir: PathBuf,
    /// A PostgreSQL URL: several nodes share it. Needs a master key from the environment
    /// or `master_key_file`.
    pub database_url: Option<SecretString>,
    /// A file holding the base64 master key (32 bytes).
    pub master_key_file: Option<PathBuf>,
    /// Proxies whose `X-Forwarded-For` is believed (the client address for sign-in
    /// throttling). `X-Forwarded-Proto` is not read: the scheme comes from `public_url`.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    pub log_format: LogFormat,
    /// Region prefix for generated pool ids (`<region>_<id>`).
    pub region: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// A directory of templates overriding the embedded hosted-UI templates.
    pub templates_dir: Option<PathBuf>,
    /// The mail server for confirmation and reset codes. Without it (and without a
    /// pool's own), codes are written to the log by the development sender.
    pub smtp: Option<SmtpSettings>,
    /// The most time a sign-in through an upstream identity provider may spend talking
    /// to it (code exchange, keys, userinfo together), in seconds.
    pub idp_timeout_secs: u64,
    /// Internal networks where identity providers may be reached (an in-house Keycloak on
    /// 10.1.2.0/24). Outside them Cognate connects to no private, link-local or other
    /// non-public address (`federation::http::guard`); empty by default, as Cognito
    /// reaches IdPs only over the internet.
    pub idp_private_networks: Vec<ipnet::IpNet>,
    /// The most time one attempt of a trigger webhook call may take, in milliseconds
    /// (Cognito's Lambda triggers time out after 5 s; each event is tried up to 3 times).
    pub trigger_timeout_ms: u64,
    /// Whether a trigger webhook URL set through the API (`LambdaConfig`) may be on
    /// loopback (`localhost`, 127.0.0.0/8, `[::1]`). Off by default: any holder of an
    /// operator API key could otherwise point webhooks at the node's own internal
    /// services. The configuration file's triggers may always be on loopback.
    pub api_webhooks_on_loopback: bool,
    /// CreateUserPool's quota: the most user pools the store holds (Cognito's is 1,000).
    pub max_user_pools: u32,
    /// How long auth events are kept, in days (threat protection's log; 90 by default).
    pub auth_event_retention_days: u32,
    /// A MaxMind DB file (GeoLite2-City or alike) for the impossible-travel risk signal;
    /// read whole at start, never fetched.
    pub geoip_database: Option<PathBuf>,
    /// The operator's breached-password corpus (threat protection's compromised-password
    /// check): a directory of Pwned Passwords range files (`<5 hex>.txt`) or one sorted
    /// `<hash>:<count>` file. Checked at start-up; read by prefix, never loaded whole.
    pub breached_password_corpus: Option<PathBuf>,
    /// The corpus's hash: `sha1` (default) or `ntlm`.
    pub breached_password_corpus_format: crate::core::threat::compromised::CorpusFormat,
    /// The most time one request may take, body included, in seconds (then 408).
    pub request_timeout_secs: u64,
    /// The most time a client may take to send a request head, in seconds (then the
    /// connection is closed): slow clients cannot hold connections open.
    pub header_read_timeout_secs: u64,
    /// Where `/metrics` is served: a listener of its own (loopback or an internal
    /// network). Without it no metrics are served: they are never on the public listener.
    pub metrics_listen: Option<SocketAddr>,
    /// H1: the 12-digit AWS-style account id in the ARNs the AWS edge answers with (STS
    /// GetCallerIdentity's `arn:aws:iam::<account_id>:user/<access key id>`). Default
    /// `"000000000000"`; check-config refuses anything but 12 digits.
    pub account_id: String,
}

/// The default `[server] account_id`.
pub const DEFAULT_ACCOUNT_ID: &str = "000000000000";

/// `[server.smtp]`: the server-wide mail sender (pools may name their own).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// `smtps://user:pass@host:465`, `smtp://user:pass@host:587?tls=required`, or plain
    /// `smtp://host:25` (unencrypted). Holds a password: prefer `COGNATE_SMTP_URL`.
    pub url: SecretString,
    /// The sender: `no-reply@example.com` or `Example <no-reply@example.com>`.
    pub from: String,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            listen: DEFAULT_LISTEN.parse().expect("constant address"),
            public_url: None,
            data_dir: PathBuf::from("cognate-data"),
            database_url: None,
            master_key_file: None,
            trusted_proxies: Vec::new(),
            log_format: LogFormat::Text,
            region: "us-east-1".to_string(),
            max_body_bytes: 1024 * 1024,
            templates_dir: None,
            smtp: None,
            idp_timeout_secs: 10,
            idp_private_networks: Vec::new(),
            trigger_timeout_ms: 5000,
            api_webhooks_on_loopback: false,
            max_user_pools: crate::core::admin::MAX_POOLS,
            auth_event_retention_days: crate::core::threat::events::DEFAULT_RETENTION_DAYS,
            geoip_database: None,
            breached_password_corpus: None,
            breached_password_corpus_format: Default::default(),
            request_timeout_secs: 30,
            header_read_timeout_secs: 10,
            metrics_listen: None,
            account_id: DEFAULT_ACCOUNT_ID.to_string(),
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub server: ServerSettings,
    pub pools: Vec<PoolDecl>,
    /// `[[identity_pools]]`.
    pub identity_pools: Vec<decl::IdentityPoolDecl>,
    /// `[[roles]]`.
    pub roles: Vec<decl::RoleDecl>,
    /// The file it came from, if any. With no file, the first start creates a demo pool.
    pub source: Option<PathBuf>,
    /// The master key given in the environment (never in the file).
    pub master_key: Option<SecretString>,
}

impl Config {
    /// Loads and validates `path` (or the defaults when `None`), then applies the process
    /// environment. Any problem is reported as the full list of diagnostics.
    pub fn load(path: Option<&Path>) -> Result<Config, Vec<Diagnostic>> {
        Self::load_with_env(path, &|name| std::env::var(name).ok())
    }

    /// As [`Config::load`], with the environment passed in (for tests).
    pub fn load_with_env(
        path: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, Vec<Diagnostic>> {
        let mut config = match path {
            Some(path) => check::check_file(path)?,
            None => Config::default(),
        };
        config.apply_env(env)?;
        Ok(config)
    }

    fn apply_env(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), Vec<Diagnostic>> {
        let mut errors = Vec::new();
        let mut bad = |var: &str, message: String, fix: &str| {
            errors.push(Diagnostic::env(var, message, fix));
        };
        if let Some(v) = env(env::LISTEN) {
            match v.parse() {
                Ok(addr) => self.server.listen = addr,
                Err(_) => bad(
                    env::LISTEN,
                    format!("{v:?} is not an address:port"),
                    "use e.g. 127.0.0.1:8750 or 0.0.0.0:8750",
                ),
            }
        }
        if let Some(v) = env(env::METRICS_LISTEN) {
            match v.parse() {
                Ok(addr) => self.server.metrics_listen = Some(addr),
                Err(_) => bad(
                    env::METRICS_LISTEN,
                    format!("{v:?} is not an address:port"),
                    "use e.g. 127.0.0.1:9750",
                ),
            }
        }
        if let Some(v) = env(env::PUBLIC_URL) {
            match check::parse_public_url(&v) {
                Ok(url) => self.server.public_url = Some(url),
                Err(message) => bad(
                    env::PUBLIC_URL,
                    message,
                    "use e.g. https://auth.example.com",
                ),
            }
        }
        if let Some(v) = env(env::DATA_DIR) {
            self.server.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env(env::DATABASE_URL) {
            self.server.database_url = Some(SecretString::new(v));
        }
        if let Some(v) = env(env::MASTER_KEY) {
            self.master_key = Some(SecretString::new(v));
        }
        if let Some(v) = env(env::MASTER_KEY_FILE) {
            self.server.master_key_file = Some(PathBuf::from(v));
        }
        if let Some(v) = env(env::LOG_FORMAT) {
            match v.as_str() {
                "text" => self.server.log_format = LogFormat::Text,
                "json" => self.server.log_format = LogFormat::Json,
                _ => bad(
                    env::LOG_FORMAT,
                    format!("{v:?} is not a log format"),
                    "use text or json",
                ),
            }
        }
        self.apply_smtp_env(env, &mut bad);
        for pool in &mut self.pools {
            if let Some(email) = &mut pool.email {
                if let Some(var) = email.smtp_url_env.as_deref() {
                    match env(var).filter(|v| !v.trim().is_empty()) {
                        Some(url) => match check::check_smtp_url(&url) {
                            Ok(()) => email.smtp_url = Some(SecretString::new(url)),
                            Err(message) => bad(var, message, SMTP_URL_FIX),
                        },
                        None => bad(
                            var,
                            format!(
                                "pool {:?} takes its SMTP URL from {var}, which is not set",
                                pool.name
                            ),
                            "set the variable (e.g. smtps://user:password@smtp.example.com:465), \
                             or remove smtp_url_env to use [server.smtp]",
                        ),
                    }
                }
            }
            // Identity providers' secrets and Apple's .p8 key come from the variables
            // they name.
            for idp in &mut pool.identity_providers {
                for d in idp.read_env(&pool.name, env) {
                    bad(&d.path, d.message, &d.fix);
                }
            }
            for client in &mut pool.clients {
                let Some(id) = client.id.as_deref() else {
                    continue;
                };
                let var = format!("{}{id}", env::CLIENT_SECRET_PREFIX);
                if let Some(secret) = env(&var) {
                    if !client.generate_secret {
                        bad(
                            &var,
                            format!(
                                "client {id} is public (generate_secret = false), so it has \
                                 no secret"
                            ),
                            "set generate_secret = true for this client, or unset the variable",
                        );
                    } else if secret.trim().is_empty() {
                        bad(
                            &var,
                            "the secret is empty".to_string(),
                            "set a non-empty secret or unset the variable",
                        );
                    } else {
                        client.secret = Some(SecretString::new(secret));
                    }
                }
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// `COGNATE_SMTP_URL` / `COGNATE_SMTP_FROM`: override (or, together, create)
    /// `[server.smtp]`.
    fn apply_smtp_env(
        &mut self,
        env: &dyn Fn(&str) -> Option<String>,
        bad: &mut dyn FnMut(&str, String, &str),
    ) {
        let url = env(env::SMTP_URL).filter(|v| !v.trim().is_empty());
        let from = env(env::SMTP_FROM).filter(|v| !v.trim().is_empty());
        if let Some(url) = &url {
            if let Err(message) = check::check_smtp_url(url) {
                bad(env::SMTP_URL, message, SMTP_URL_FIX);
                return;
            }
        }
        if let Some(from) = &from {
            if let Err(message) = check::check_mail_from(from) {
                bad(
                    env::SMTP_FROM,
                    message,
                    "write e.g. no-reply@example.com or \"Example <no-reply@example.com>\"",
                );
                return;
            }
        }
        match (&mut self.server.smtp, url, from) {
            (_, None, None) => {}
            (Some(smtp), url, from) => {
                if let Some(url) = url {
                    smtp.url = SecretString::new(url);
                }
                if let Some(from) = from {
                    smtp.from = from;
                }
            }
            (None, Some(url), Some(from)) => {
                self.server.smtp = Some(SmtpSettings {
                    url: SecretString::new(url),
                    from,
                });
            }
            (None, Some(_), None) => bad(
                env::SMTP_URL,
                "an SMTP URL is set but no sender address".to_string(),
                "set COGNATE_SMTP_FROM=no-reply@example.com, or from = \"...\" in [server.smtp]",
            ),
            (None, None, Some(_)) => bad(
                env::SMTP_FROM,
                "a sender address is set but no SMTP URL".to_string(),
                "set COGNATE_SMTP_URL=smtps://user:password@smtp.example.com:465",
            ),
        }
    }

    /// The public base URL without a trailing slash.
    pub fn public_url(&self) -> String {
        match &self.server.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_string(),
            None => format!("http://{}", self.server.listen),
        }
    }
}
