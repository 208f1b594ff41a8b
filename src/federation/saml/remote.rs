//! An IdP's metadata from a URL (`metadata_url`): fetched when the configuration is
//! applied, then refetched by every node every `metadata_refresh_secs`.
//!
//! The fetch goes through the one [`IdpHttp`] client, so it is under the same address
//! rules as discovered OpenID Connect endpoints (no private, link-local or internal
//! target unless the network is in `[server] idp_private_networks`; no redirects), and
//! the answer is read as it streams in and refused past [`MAX_METADATA_BYTES`]. The URL
//! is https (plain http only on a loopback host, as for every IdP URL). The document is
//! read by [`metadata::parse`], the same reader as a metadata file.
//!
//! A refresh that fails (the URL unreachable, an error status, a document that is not
//! usable metadata, or one naming another entity id) keeps the last good copy: the node
//! logs a warning and counts `cognate_saml_metadata_refresh_failures`; readiness is not
//! affected (one IdP must not take a node out of its load balancer). A new set of signing
//! certificates is logged and counted (`cognate_saml_metadata_certificate_changes`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::header::ACCEPT;

use super::metadata::{self, IdpMetadata, MetadataError, MAX_METADATA_BYTES};
use crate::config::Config;
use crate::core::admin::{is_loopback, AdminError, AdminService};
use crate::core::model::{ProtocolSettings, SamlSettings, UserPool, MIN_METADATA_REFRESH_SECS};
use crate::core::UnixTime;
use crate::federation::http::{for_log_str, HttpError, IdpHttp};
use crate::store::Store;
use crate::telemetry::Metrics;

/// How often the refresher looks for providers whose metadata is due.
const TICK: Duration = Duration::from_secs(30);

/// Why metadata could not be had from a URL.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("{0}")]
    Http(#[from] HttpError),
    #[error("{url}: answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url}: the answer is not UTF-8 text")]
    NotText { url: String },
    #[error("{url}: the answer is not usable SAML metadata: {source}")]
    Metadata { url: String, source: MetadataError },
}

/// Whether a metadata URL may be fetched: an absolute https URL (http only on a loopback
/// host). Where it points is the client's to check when it connects.
pub fn check_url(url: &str) -> Result<(), FetchError> {
    let bad = |reason: &str| FetchError::BadUrl {
        url: for_log_str(url),
        reason: reason.to_string(),
    };
    let parsed = url::Url::parse(url).map_err(|_| bad("not an absolute URL"))?;
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(&parsed) => Ok(()),
        _ => Err(bad("a metadata URL must be https")),
    }
}

/// Fetches and reads an IdP's metadata.
pub async fn fetch(http: &IdpHttp, url: &str) -> Result<IdpMetadata, FetchError> {
    check_url(url)?;
    let request = http.client()?.get(url).header(
        ACCEPT,
        "application/samlmetadata+xml, application/xml;q=0.9, text/xml;q=0.8",
    );
    let answer = http.execute_capped(request, MAX_METADATA_BYTES).await?;
    let shown = for_log_str(url);
    if !(200..=299).contains(&answer.status) {
        return Err(FetchError::Status {
            url: shown,
            status: answer.status,
        });
    }
    let text =
        String::from_utf8(answer.body).map_err(|_| FetchError::NotText { url: shown.clone() })?;
    metadata::parse(&text).map_err(|source| FetchError::Metadata { url: shown, source })
}

/// The configuration with the metadata of every provider declared by `metadata_url`
/// fetched (or, when that failed, the reason kept on the declaration: applying then uses
/// the copy stored from that URL, or refuses).
pub async fn fetch_declared(config: &Config, http: &IdpHttp) -> Config {
    let mut config = config.clone();
    for pool in &mut config.pools {
        for idp in &mut pool.identity_providers {
            let Some(url) = idp.metadata_url.clone() else {
                continue;
            };
            if !idp.is_saml() {
                continue;
            }
            match fetch(http, &url).await {
                Ok(metadata) => idp.saml_metadata = Some(metadata),
                Err(e) => idp.metadata_fetch_error = Some(e.to_string()),
            }
        }
    }
    config
}

/// What one refresh did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refreshed {
    /// The document says what the stored copy says.
    Unchanged,
    /// The stored copy was replaced; whether the signing certificates changed.
    Updated { certificates_changed: bool },
    /// The last good copy was kept, for this reason (logged and counted).
    Kept(String),
}

/// Refetches the metadata of every stored SAML provider that has a `metadata_url`, each
/// on its own period. Every node runs one ([`MetadataRefresher::run`]); they write the
/// same document, so which one writes first does not matter.
#[derive(Clone)]
pub struct MetadataRefresher {
    store: Arc<dyn Store>,
    http: IdpHttp,
    metrics: Arc<Metrics>,
    /// (pool id, provider name) -> when its metadata is due next.
    due: Arc<Mutex<HashMap<(String, String), UnixTime>>>,
}

impl std::fmt::Debug for MetadataRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetadataRefresher").finish_non_exhaustive()
    }
}

impl MetadataRefresher {
    pub fn new(store: Arc<dyn Store>, http: IdpHttp, metrics: Arc<Metrics>) -> Self {
        MetadataRefresher {
            store,
            http,
            metrics,
            due: Arc::default(),
        }
    }

    /// Refreshes what is due every [`TICK`], for ever (the caller aborts the task).
    pub async fn run(self) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.refresh_due(crate::core::now()).await;
        }
    }

    /// Refreshes every provider whose period has passed at `now`. A provider seen for the
    /// first time is due one period later (the node applied the file, fetching it, when
    /// it started); one whose refresh failed is retried after at most 300 s. Returns what each refresh did, by (pool id, provider name).
    pub async fn refresh_due(&self, now: UnixTime) -> Vec<((String, String), Refreshed)> {
        let pools = match self.store.list_pools().await {
            Ok(pools) => pools,
            Err(e) => {
                tracing::warn!(error = %e, "metadata refresh: cannot list the pools");
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for pool in pools {
            for idp in &pool.identity_providers {
                let Some(saml) = idp.protocol.as_saml() else {
                    continue;
                };
                if saml.metadata_url.is_none() {
                    continue;
                }
                let period = i64::try_from(saml.refresh_secs()).unwrap_or(i64::MAX);
                let key = (pool.id.clone(), idp.name.clone());
                let due = {
                    let mut map = self.due.lock().unwrap_or_else(|e| e.into_inner());
                    let next = *map.entry(key.clone()).or_insert(now.saturating_add(period));
                    if now >= next {
                        map.insert(key.clone(), now.saturating_add(period));
                        true
                    } else {
                        false
                    }
                };
                if due {
                    let result = self.refresh(&pool.id, &idp.name).await;
                    if matches!(result, Refreshed::Kept(_)) {
                        // A failing IdP is retried sooner than its period, so a rollover
                        // it announces once it is back is not an hour late.
                        let retry = period.min(MIN_METADATA_REFRESH_SECS as i64);
                        self.due
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .insert(key.clone(), now.saturating_add(retry));
                    }
                    out.push((key, result));
                }
            }
        }
        out
    }

    /// Refetches one provider's metadata now and stores it when it changed. Failures keep
    /// the stored copy; they are logged and counted, and returned as [`Refreshed::Kept`].
    pub async fn refresh(&self, pool_id: &str, name: &str) -> Refreshed {
        match self.try_refresh(pool_id, name).await {
            Ok(Refreshed::Kept(reason)) | Err(reason) => {
                tracing::warn!(
                    pool = %pool_id,
                    provider = %name,
                    error = %reason,
                    "the IdP's metadata could not be refreshed; keeping the last good copy"
                );
                self.metrics.metadata_refresh_failed(pool_id, name);
                Refreshed::Kept(reason)
            }
            Ok(Refreshed::Updated {
                certificates_changed,
            }) => {
                if certificates_changed {
                    tracing::warn!(
                        pool = %pool_id,
                        provider = %name,
                        "the IdP's signing certificates changed (metadata_url); responses \
                         are now checked against the new set"
                    );
                    self.metrics.metadata_certificates_changed(pool_id, name);
                } else {
                    tracing::info!(
                        pool = %pool_id,
                        provider = %name,
                        "the IdP's metadata changed (metadata_url); stored the new copy"
                    );
                }
                Refreshed::Updated {
                    certificates_changed,
                }
            }
            Ok(Refreshed::Unchanged) => Refreshed::Unchanged,
        }
    }

    async fn try_refresh(&self, pool_id: &str, name: &str) -> Result<Refreshed, String> {
        let stored = self.stored(pool_id, name).await?;
        let Some(saml) = find_saml(&stored, name) else {
            return Err("the provider is no longer stored with a metadata_url".into());
        };
        let Some(url) = saml.metadata_url.clone() else {
            return Err("the provider is no longer stored with a metadata_url".into());
        };
        let fresh = fetch(&self.http, &url).await.map_err(|e| e.to_string())?;
        if fresh.entity_id != saml.entity_id {
            return Ok(Refreshed::Kept(format!(
                "the document names entity id {:?}, not the stored {:?}; a change of entity \
                 id is refused (apply the configuration to accept it)",
                fresh.entity_id, saml.entity_id
            )));
        }
        if fresh.same_as(saml) {
            return Ok(Refreshed::Unchanged);
        }
        let certificates_changed = fresh.signing_certificates != saml.signing_certificates;
        let updated = fresh.update(saml);
        // Written as a compare-and-swap of the pool, re-read at each attempt: the file or
        // the API (on any node) may change the pool meanwhile; its other providers are
        // kept, and only a provider still holding the copy compared above is updated.
        let updated = ProtocolSettings::Saml(updated);
        AdminService::new(self.store.clone())
            .modify_pool(pool_id, |pool| {
                let Some(idp) = pool.identity_providers.iter_mut().find(|p| p.name == name) else {
                    return Err(WriteError::Stale("the provider was deleted meanwhile"));
                };
                if idp.protocol.as_saml() != Some(saml) {
                    return Err(WriteError::Stale(
                        "the provider was changed meanwhile; the next refresh retries",
                    ));
                }
                idp.protocol = updated.clone();
                Ok(())
            })
            .await
            .map_err(|e| match e {
                WriteError::Stale(why) => why.to_string(),
                WriteError::Refused(e) => format!("the new copy is refused: {e}"),
            })?;
        Ok(Refreshed::Updated {
            certificates_changed,
        })
    }

    async fn stored(&self, pool_id: &str, name: &str) -> Result<UserPool, String> {
        self.store
            .get_pool(pool_id)
            .await
            .map_err(|e| format!("cannot read pool {pool_id}: {e}"))?
            .filter(|p| p.identity_providers.iter().any(|i| i.name == name))
            .ok_or_else(|| "the provider is no longer stored".to_string())
    }
}

/// Why a refresh wrote nothing: the stored provider moved on, or the service refused.
enum WriteError {
    Stale(&'static str),
    Refused(AdminError),
}

impl From<AdminError> for WriteError {
    fn from(e: AdminError) -> Self {
        WriteError::Refused(e)
    }
}

fn find_saml<'p>(pool: &'p UserPool, name: &str) -> Option<&'p SamlSettings> {
    pool.identity_provider(name)?.protocol.as_saml()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_urls_are_https_or_loopback_http() {
        assert!(check_url("https://idp.example.com/metadata").is_ok());
        assert!(check_url("http://127.0.0.1:8080/metadata").is_ok());
        assert!(check_url("http://localhost/metadata").is_ok());
        for bad in [
            "http://idp.example.com/metadata",
            "ftp://idp/x",
            "/metadata",
            "",
        ] {
            let e = check_url(bad).unwrap_err();
            assert!(matches!(e, FetchError::BadUrl { .. }), "{bad}: {e}");
        }
    }
}
