//! Wiring for one Cognate node: open the store, load the master key, bootstrap the
//! declared (or demo) pools and their signing keys. The HTTP edge ([`crate::web`]) and the
//! admin CLI ([`crate::cli`]) both start from a [`Node`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{apply, Config};
use crate::core::directory::Directory;
use crate::core::identity_pools::openid::OpenIdTokens;
use crate::core::keys::{KeyError, KeyService};
use crate::core::oauth::grants::TokenService;
use crate::core::password::{PasswordError, Passwords};
use crate::core::secrets::{MasterKey, SecretError, MASTER_KEY_CHECK_CONTEXT};
use crate::core::session::Sessions;
use crate::core::sp_keys::SpKeyService;
use crate::core::threat::compromised::CompromisedCheck;
use crate::core::threat::AuthEvents;
use crate::core::triggers::{WebhookSettings, Webhooks};
use crate::core::{now, UnixTime};
use crate::federation::http::{HttpSettings, IdpHttp};
use crate::federation::saml::remote;
use crate::store::postgres::PgStore;
use crate::store::sqlite::SqliteStore;
use crate::store::{Store, StoreError};

/// The file name of the embedded database inside the data directory.
pub const SQLITE_FILE: &str = "cognate.db";
/// The file name of the generated master key inside the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    /// `[server] geoip_database` names a file that is not a readable MaxMind DB.
    #[error("{0}")]
    GeoIp(String),
    #[error("{0}")]
    Secret(#[from] SecretError),
    #[error(
        "a database URL is set, so several nodes may share this database: the master key must \
         be the same on every node and cannot be generated here. Set COGNATE_MASTER_KEY \
         (make one with `cognate generate-master-key`) or [server] master_key_file"
    )]
    MasterKeyRequired,
    #[error(
        "the master key does not match this database (it cannot open the secrets stored \
         there). Use the key this database was created with"
    )]
    WrongMasterKey,
    #[error("{0}")]
    Keys(#[from] KeyError),
    #[error("{0}")]
    Passwords(#[from] PasswordError),
    #[error("applying the configuration: {0}")]
    Apply(String),
    #[error("{0}")]
    Corpus(#[from] crate::core::threat::compromised::CorpusError),
}

/// Everything a node needs, shared by the HTTP edge and the CLI.
#[derive(Clone)]
pub struct Node {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub master: Arc<MasterKey>,
    pub directory: Directory,
    pub keys: KeyService,
    /// Each pool's SAML service-provider key pair, made on first use.
    pub sp_keys: SpKeyService,
    pub tokens: TokenService,
    pub sessions: Sessions,
    /// The one client for every call to an upstream identity provider (sign-ins,
    /// discovery, JWKS, SAML metadata URLs).
    pub idp_http: IdpHttp,
    /// The identity service's OpenID tokens and their keys (issue 12), one issuer per
    /// deployment: `<public URL>/identity`.
    pub identity_tokens: OpenIdTokens,
    /// The pools' trigger webhooks (the directory calls them; the CLI shows their secret).
    pub webhooks: Webhooks,
    /// The auth event log's writer on this node (threat protection, issue 17).
    pub events: AuthEvents,
    /// The operator's GeoIP file (`[server] geoip_database`), for the impossible-travel
    /// signal.
    pub geo: Option<Arc<crate::core::threat::GeoIp>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("engine", &self.store.engine())
            .finish()
    }
}

/// What bootstrapping did, for the start-up log.
#[derive(Debug, Default)]
pub struct Bootstrap {
    pub report: Option<apply::ApplyReport>,
    pub demo: Option<apply::DemoPool>,
}

impl Node {
    /// Opens the store (creating the SQLite file and schema on first start), loads or
    /// creates the master key and checks it against the database.
    pub async fn open(config: Config) -> Result<Node, NodeError> {
        Self::open_with(config, Passwords::standard()?).await
    }

    /// As [`Node::open`] with a given password hasher (tests count verifications).
    pub async fn open_with(config: Config, passwords: Passwords) -> Result<Node, NodeError> {
        let (store, master): (Arc<dyn Store>, MasterKey) = match &config.server.database_url {
            Some(url) => {
                let master = explicit_master_key(&config)?.ok_or(NodeError::MasterKeyRequired)?;
                (Arc::new(PgStore::connect(url.expose()).await?), master)
            }
            None => {
                let dir = &config.server.data_dir;
                create_data_dir(dir)?;
                let master = match explicit_master_key(&config)? {
                    Some(key) => key,
                    None => MasterKey::load_or_create_file(&dir.join(MASTER_KEY_FILE))?,
                };
                (
                    Arc::new(SqliteStore::open(&dir.join(SQLITE_FILE)).await?),
                    master,
                )
            }
        };
        check_master_key(store.as_ref(), &master).await?;
        let master = Arc::new(master);
        let keys = KeyService::new(store.clone(), master.clone());
        let timeout = config.server.idp_timeout_secs;
        let idp_http = IdpHttp::new(HttpSettings {
            timeout: Duration::from_secs(timeout),
            connect_timeout: Duration::from_secs(timeout.min(5)),
            private_networks: config.server.idp_private_networks.clone(),
            ..HttpSettings::default()
        });
        let webhooks = Webhooks::new(
            store.clone(),
            master.clone(),
            WebhookSettings {
                timeout: Duration::from_millis(config.server.trigger_timeout_ms),
                private_networks: config.server.idp_private_networks.clone(),
                api_loopback: config.server.api_webhooks_on_loopback,
            },
        );
        let events = AuthEvents::start(store.clone(), config.server.auth_event_retention_days);
        let geo = match &config.server.geoip_database {
            Some(path) => Some(Arc::new(
                crate::core::threat::GeoIp::open(path).map_err(NodeError::GeoIp)?,
            )),
            None => None,
        };
        let compromised = CompromisedCheck::open(
            config.server.breached_password_corpus.as_deref(),
            config.server.breached_password_corpus_format,
        )?;
        Ok(Node {
            geo,
            identity_tokens: OpenIdTokens::new(store.clone(), master.clone(), &config.public_url()),
            idp_http,
            directory: Directory::new(store.clone(), passwords)
                .with_srp_key(master.clone())
                .with_webhooks(webhooks.clone())
                .with_events(events.clone())
                .with_compromised_check(compromised),
            events,
            tokens: TokenService::new(store.clone(), keys.clone(), config.public_url())
                .with_webhooks(webhooks.clone()),
            webhooks,
            sessions: Sessions::new(store.clone()),
            sp_keys: SpKeyService::new(store.clone(), master.clone()),
            keys,
            config: Arc::new(config),
            store,
            master,
        })
    }

    /// Applies the config file (or creates the demo pool when there is none) and makes sure
    /// every pool has its signing keys.
    pub async fn bootstrap(&self, prune: bool) -> Result<Bootstrap, NodeError> {
        let now = now();
        let mut out = Bootstrap::default();
        if self.config.source.is_some() {
            // Metadata declared by URL is fetched now (check-config only checked the URL).
            let config = remote::fetch_declared(&self.config, &self.idp_http).await;
            let report = apply::apply(&config, self.store.as_ref(), &self.master, prune, now)
                .await
                .map_err(|e| NodeError::Apply(e.to_string()))?;
            out.report = Some(report);
        } else {
            let demo = apply::ensure_demo_pool(
                self.store.as_ref(),
                &self.config.public_url(),
                &self.config.server.region,
                now,
            )
            .await
            .map_err(|e| NodeError::Apply(e.to_string()))?;
            out.demo = Some(demo);
        }
        self.ensure_all_keys(now).await?;
        Ok(out)
    }

    /// Generates the missing signing keys of every pool (first start, new pools).
    pub async fn ensure_all_keys(&self, now: UnixTime) -> Result<(), NodeError> {
        for pool in self.store.list_pools().await? {
            self.keys.ensure_pool_keys(&pool.id, now).await?;
        }
        Ok(())
    }

    /// The issuer of a pool's tokens: `<public URL>/<poolId>`.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{}", self.config.public_url(), pool_id)
    }
}

fn create_data_dir(dir: &PathBuf) -> Result<(), NodeError> {
    std::fs::create_dir_all(dir).map_err(|source| NodeError::DataDir {
        path: dir.display().to_string(),
        source,
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // The directory holds the master key and the database: owner only.
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}

/// The master key from `COGNATE_MASTER_KEY` or a named file, if either is given.
fn explicit_master_key(config: &Config) -> Result<Option<MasterKey>, NodeError> {
    if let Some(text) = &config.master_key {
        return Ok(Some(MasterKey::from_base64(text.expose())?));
    }
    if let Some(path) = &config.server.master_key_file {
        return Ok(Some(MasterKey::read_file(path)?));
    }
    Ok(None)
}

/// The first node to start seals a check value under its master key; every later start
/// (and every other node) must be able to open it, so a node with the wrong key refuses
/// to start instead of failing on every secret later.
async fn check_master_key(store: &dyn Store, master: &MasterKey) -> Result<(), NodeError> {
    const META_KEY: &str = "master_key_check";
    let ours = master.seal(MASTER_KEY_CHECK_CONTEXT, b"cognate");
    let stored = store
        .put_meta_if_absent(META_KEY, &serde_json::to_string(&ours).unwrap_or_default())
        .await?;
    let sealed = serde_json::from_str(&stored).map_err(|_| NodeError::WrongMasterKey)?;
    match master.open(MASTER_KEY_CHECK_CONTEXT, &sealed) {
        Ok(plain) if plain == b"cognate" => Ok(()),
        _ => Err(NodeError::WrongMasterKey),
    }
}
