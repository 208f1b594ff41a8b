//! Outbound HTTP to upstream identity providers: one client, and caches for discovery
//! documents and JWKS.
//!
//! Everything Cognate asks of an IdP goes through [`IdpHttp`]: one `reqwest` client
//! (rustls on aws-lc-rs, no automatic redirects, connect and total timeouts, a cap on
//! the size of any answer), so a slow, hostile or broken IdP costs a sign-in at most the
//! configured timeout and never more memory than the cap.
//!
//! Discovery documents and JWKS are cached by URL (moka), fresh for the answer's
//! `Cache-Control: max-age` (an hour without one, a day at most). A token signed with a
//! `kid` the cached JWKS lacks triggers a refetch (keys rotate), at most once per 30 s per
//! URL so forged `kid`s cannot turn Cognate into a load generator. While the IdP is
//! unreachable the last good copy is served (for up to a day past its freshness) with a
//! warning. Fetches of one URL are serialized, so a burst of sign-ins makes one request.
//!
//! No request reaches a private, link-local or otherwise internal address: the client
//! resolves names through [`guard::PublicResolver`] and checks IP-literal hosts before
//! sending ([`guard`] says why, and what a discovered endpoint must be).

pub mod guard;

use std::sync::{Arc, Once, OnceLock};
use std::time::Duration;

use moka::future::Cache;
use moka::ops::compute::Op;
use reqwest::header::{HeaderMap, ACCEPT, CACHE_CONTROL};
use serde_json::Value;

use crate::core::secrets::SecretString;
use crate::core::UnixTime;

/// Limits and cache lifetimes of outbound IdP calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpSettings {
    /// Time to establish a connection (TCP and TLS).
    pub connect_timeout: Duration,
    /// Time for a whole request, body included.
    pub timeout: Duration,
    /// Largest answer read, in bytes.
    pub max_body_bytes: usize,
    /// Freshness of a cached document whose answer has no `max-age`, in seconds.
    pub default_max_age: i64,
    /// The longest freshness honoured, whatever `max-age` says.
    pub max_max_age: i64,
    /// The least time between two refetches of one JWKS for unknown `kid`s, and between
    /// two attempts to refresh a document while its IdP is failing.
    pub refetch_interval: i64,
    /// How long past its freshness a document is still served while its IdP fails.
    pub max_stale: i64,
    /// Documents kept per cache.
    pub cache_capacity: u64,
    /// Non-public networks IdPs may nonetheless be reached on (the operator's
    /// `idp_private_networks`).
    pub private_networks: Vec<ipnet::IpNet>,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            max_body_bytes: 1024 * 1024,
            default_max_age: 3600,
            max_max_age: 86400,
            refetch_interval: 30,
            max_stale: 86400,
            cache_capacity: 1024,
            private_networks: Vec::new(),
        }
    }
}

/// The current time in seconds since the epoch, injectable so cache expiry is testable
/// without sleeping.
pub type Clock = Arc<dyn Fn() -> UnixTime + Send + Sync>;

/// Why a call to an IdP failed. Messages name the URL without its query string (which
/// may carry an access token or `appsecret_proof`).
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    #[error("{url}: no answer within the timeout")]
    Timeout { url: String },
    #[error("{url}: cannot connect ({detail})")]
    Connect { url: String, detail: String },
    #[error("{url}: answered with a redirect (HTTP {status}); redirects are not followed")]
    Redirect { url: String, status: u16 },
    #[error("{url}: answered HTTP {status}")]
    Status {
        url: String,
        status: u16,
        /// The answer's JSON, when it was JSON (an RFC 6749 `error`, Graph's `error`).
        body: Option<Value>,
    },
    #[error("{url}: the answer is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
    #[error("{url}: the answer is not what was expected ({detail})")]
    Invalid { url: String, detail: String },
    /// The URL's address is one Cognate never connects to ([`guard`]).
    #[error("{url}: refused ({detail})")]
    Refused { url: String, detail: String },
    #[error("{url}: the request failed ({detail})")]
    Request { url: String, detail: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

/// An IdP's answer, read within the size cap.
#[derive(Clone)]
pub struct RawResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for RawResponse {
    /// Leaves out the body: a token endpoint's holds the upstream tokens, a profile API's
    /// the user's data.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// One cached document and what the cache knows about it.
#[derive(Debug, Clone)]
struct CachedDocument {
    body: Arc<Value>,
    fresh_until: UnixTime,
    /// When an unknown `kid` last forced a refetch.
    last_kid_refetch: Option<UnixTime>,
    /// After a failed refresh, no new attempt before this time (the stale copy is
    /// served meanwhile instead of every caller waiting for the timeout).
    retry_at: UnixTime,
}

/// The IdP-facing HTTP client with its caches. Cheap to clone (shared state).
#[derive(Clone)]
pub struct IdpHttp {
    inner: Arc<Inner>,
}

struct Inner {
    client: OnceLock<reqwest::Client>,
    settings: HttpSettings,
    clock: Clock,
    discovery: Cache<String, Arc<CachedDocument>>,
    jwks: Cache<String, Arc<CachedDocument>>,
}

impl std::fmt::Debug for IdpHttp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdpHttp")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

/// The `oauth2` crate sends its requests through [`IdpHttp::send`].
impl<'c> oauth2::AsyncHttpClient<'c> for IdpHttp {
    type Error = HttpError;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, HttpError>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// Makes aws-lc-rs the process's rustls crypto provider (reqwest is built without a
/// provider of its own, which keeps `ring` out of the build). Idempotent; a provider
/// installed earlier by someone else is kept.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    });
}

impl IdpHttp {
    /// A client with the wall clock.
    pub fn new(settings: HttpSettings) -> Self {
        Self::with_clock(settings, Arc::new(crate::core::now))
    }

    /// A client whose caches judge freshness by `clock`.
    pub fn with_clock(settings: HttpSettings, clock: Clock) -> Self {
        let cache = || {
            Cache::builder()
                .max_capacity(settings.cache_capacity)
                .build()
        };
        IdpHttp {
            inner: Arc::new(Inner {
                client: OnceLock::new(),
                discovery: cache(),
                jwks: cache(),
                settings,
                clock,
            }),
        }
    }

    /// The underlying client, built at first use: a node whose pools federate with no one
    /// never loads TLS roots or the HTTP client. Prefer [`IdpHttp::execute`], which
    /// enforces the size cap.
    pub fn client(&self) -> Result<&reqwest::Client, HttpError> {
        if let Some(client) = self.inner.client.get() {
            return Ok(client);
        }
        install_crypto_provider();
        let settings = &self.inner.settings;
        let client = reqwest::Client::builder()
            // An IdP endpoint that redirects is misconfigured or hostile; following it
            // could send codes or secrets elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            // The address connected to is checked, not the name (DNS rebinding).
            .dns_resolver(Arc::new(guard::PublicResolver::new(
                &settings.private_networks,
            )))
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("Cognate/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Client(describe(e)))?;
        // Two first uses at once build two clients; one is kept.
        Ok(self.inner.client.get_or_init(|| client))
    }

    pub fn settings(&self) -> &HttpSettings {
        &self.inner.settings
    }

    /// Sends a request and reads the answer within the size cap. Any status is returned
    /// as it is (a redirect included: it is never followed).
    pub async fn execute(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<RawResponse, HttpError> {
        self.execute_capped(request, self.inner.settings.max_body_bytes)
            .await
    }

    /// [`IdpHttp::execute`] with a cap of its own (at most the client's): the answer is
    /// read as it streams in and refused once it passes `limit` bytes.
    pub async fn execute_capped(
        &self,
        request: reqwest::RequestBuilder,
        limit: usize,
    ) -> Result<RawResponse, HttpError> {
        let limit = limit.min(self.inner.settings.max_body_bytes);
        let request = request
            .build()
            .map_err(|e| HttpError::Client(describe(e)))?;
        let url = for_log(request.url());
        guard::check_literal(request.url(), &self.inner.settings.private_networks).map_err(
            |detail| HttpError::Refused {
                url: url.clone(),
                detail,
            },
        )?;
        let mut response = self
            .client()?
            .execute(request)
            .await
            .map_err(|e| classify(&url, e))?;
        let too_large = || HttpError::TooLarge {
            url: url.clone(),
            limit,
        };
        if response
            .content_length()
            .is_some_and(|len| len > limit as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| classify(&url, e))? {
            if body.len() + chunk.len() > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(RawResponse {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body,
        })
    }

    /// Sends a request built by the `oauth2` crate (its
    /// `AsyncHttpClient`), through this client: same timeouts, no redirects, size cap.
    pub async fn send(
        &self,
        request: oauth2::HttpRequest,
    ) -> Result<oauth2::HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let url = parts.uri.to_string();
        let request = self
            .client()?
            .request(parts.method, &url)
            .headers(parts.headers)
            .body(body);
        let answer = self.execute(request).await?;
        let mut response = oauth2::HttpResponse::new(answer.body);
        *response.status_mut() =
            oauth2::http::StatusCode::from_u16(answer.status).map_err(|e| HttpError::Invalid {
                url: for_log_str(&url),
                detail: e.to_string(),
            })?;
        *response.headers_mut() = answer.headers;
        Ok(response)
    }

    /// GETs a JSON document, with a bearer token when given (profile and userinfo APIs).
    pub async fn get_json(
        &self,
        url: &str,
        bearer: Option<&SecretString>,
    ) -> Result<Value, HttpError> {
        let mut request = self.client()?.get(url).header(ACCEPT, "application/json");
        if let Some(token) = bearer {
            request = request.bearer_auth(token.expose());
        }
        json_of(url, self.execute(request).await?)
    }

    /// The issuer's discovery document (OpenID Connect Discovery 1.0 section 4), cached.
    /// Its `issuer` must be exactly the one asked for (section 4.3).
    pub async fn discovery(&self, issuer: &str) -> Result<Arc<Value>, HttpError> {
        let url = discovery_url(issuer)?;
        let expected = issuer.to_string();
        let check = move |url: &str, doc: &Value| match doc.get("issuer").and_then(Value::as_str) {
            Some(found) if found == expected => Ok(()),
            found => Err(HttpError::Invalid {
                url: for_log_str(url),
                detail: format!("the discovery document names issuer {found:?}, not {expected:?}"),
            }),
        };
        let doc = self
            .cached(&self.inner.discovery, &url, None, &check)
            .await?;
        // Issuers differing only in a trailing slash share the URL (and the cache entry),
        // so the cached copy is checked against this caller's issuer as well.
        check(&url, &doc)?;
        Ok(doc)
    }

    /// A JWKS (RFC 7517), cached. With `kid`, a cached set that lacks it is refetched
    /// (rate limited); the caller still has to find the key in what is returned.
    pub async fn jwks(&self, url: &str, kid: Option<&str>) -> Result<Arc<Value>, HttpError> {
        let check = |url: &str, doc: &Value| {
            if doc.get("keys").is_some_and(Value::is_array) {
                Ok(())
            } else {
                Err(HttpError::Invalid {
                    url: for_log_str(url),
                    detail: "a JWKS must be an object with a \"keys\" array".into(),
                })
            }
        };
        self.cached(&self.inner.jwks, url, kid, &check).await
    }

    async fn cached(
        &self,
        cache: &Cache<String, Arc<CachedDocument>>,
        url: &str,
        kid: Option<&str>,
        check: &(dyn Fn(&str, &Value) -> Result<(), HttpError> + Send + Sync),
    ) -> Result<Arc<Value>, HttpError> {
        let s = &self.inner.settings;
        let now = (self.inner.clock)();
        if let Some(doc) = cache.get(url).await {
            if now < doc.fresh_until && kid.is_none_or(|k| has_kid(&doc.body, k)) {
                return Ok(doc.body.clone());
            }
        }
        // Serialized per URL: whoever waited finds the fresh copy its predecessor put.
        let result = cache
            .entry(url.to_string())
            .and_try_compute_with(|current| async move {
                let now = (self.inner.clock)();
                let current = current.map(|e| e.into_value());
                let mut last_kid_refetch = current.as_ref().and_then(|d| d.last_kid_refetch);
                if let Some(doc) = &current {
                    let fresh = now < doc.fresh_until;
                    let servable = now < doc.fresh_until.saturating_add(s.max_stale);
                    if fresh {
                        if kid.is_none_or(|k| has_kid(&doc.body, k)) {
                            return Ok(Op::Nop);
                        }
                        if last_kid_refetch.is_some_and(|t| now - t < s.refetch_interval) {
                            return Ok(Op::Nop);
                        }
                        last_kid_refetch = Some(now);
                    } else if servable && now < doc.retry_at {
                        return Ok(Op::Nop);
                    }
                }
                let fetched = self.fetch_document(url).await.and_then(|(body, max_age)| {
                    check(url, &body)?;
                    Ok((body, max_age))
                });
                match (fetched, current) {
                    (Ok((body, max_age)), _) => Ok(Op::Put(Arc::new(CachedDocument {
                        body: Arc::new(body),
                        fresh_until: now + max_age,
                        last_kid_refetch,
                        retry_at: now,
                    }))),
                    (Err(e), Some(doc)) if now < doc.fresh_until.saturating_add(s.max_stale) => {
                        tracing::warn!(
                            url = %for_log_str(url),
                            error = %e,
                            "identity provider unreachable or failing; serving the cached copy"
                        );
                        Ok(Op::Put(Arc::new(CachedDocument {
                            last_kid_refetch,
                            retry_at: now + s.refetch_interval,
                            ..(*doc).clone()
                        })))
                    }
                    (Err(e), _) => Err(e),
                }
            })
            .await?;
        result
            .into_entry()
            .map(|e| e.into_value().body.clone())
            .ok_or_else(|| HttpError::Invalid {
                url: for_log_str(url),
                detail: "the cache lost the document".into(),
            })
    }

    /// GETs a document and how long it stays fresh.
    async fn fetch_document(&self, url: &str) -> Result<(Value, i64), HttpError> {
        let request = self.client()?.get(url).header(ACCEPT, "application/json");
        let response = self.execute(request).await?;
        let s = &self.inner.settings;
        let max_age = max_age(&response.headers)
            .unwrap_or(s.default_max_age)
            .clamp(0, s.max_max_age);
        Ok((json_of(url, response)?, max_age))
    }
}

/// A 2xx answer's JSON; anything else is an error (with the JSON body, if any).
fn json_of(url: &str, response: RawResponse) -> Result<Value, HttpError> {
    let parsed = serde_json::from_slice::<Value>(&response.body);
    match response.status {
        200..=299 => parsed.map_err(|e| HttpError::Invalid {
            url: for_log_str(url),
            detail: format!("not JSON: {e}"),
        }),
        300..=399 => Err(HttpError::Redirect {
            url: for_log_str(url),
            status: response.status,
        }),
        status => Err(HttpError::Status {
            url: for_log_str(url),
            status,
            body: parsed.ok(),
        }),
    }
}

/// `<issuer>/.well-known/openid-configuration`, path segments appended (so an issuer
/// with a path, `https://idp.example/tenant`, keeps it).
pub fn discovery_url(issuer: &str) -> Result<String, HttpError> {
    let mut url = url::Url::parse(issuer).map_err(|e| HttpError::Request {
        url: issuer.to_string(),
        detail: format!("not a URL: {e}"),
    })?;
    url.path_segments_mut()
        .map_err(|()| HttpError::Request {
            url: issuer.to_string(),
            detail: "not a hierarchical URL".into(),
        })?
        .pop_if_empty()
        .extend([".well-known", "openid-configuration"]);
    Ok(url.into())
}

/// Whether a JWKS holds a key with this `kid`.
fn has_kid(jwks: &Value, kid: &str) -> bool {
    jwks.get("keys")
        .and_then(Value::as_array)
        .is_some_and(|keys| {
            keys.iter()
                .any(|k| k.get("kid").and_then(Value::as_str) == Some(kid))
        })
}

/// The freshness `Cache-Control` grants, in seconds: `max-age`, or 0 for `no-cache` /
/// `no-store` (RFC 9111 section 5.2.2). `None` when it says neither.
fn max_age(headers: &HeaderMap) -> Option<i64> {
    let mut found = None;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(text) = value.to_str() else { continue };
        for directive in text.split(',') {
            let directive = directive.trim();
            let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
            match name.trim().to_ascii_lowercase().as_str() {
                "no-store" | "no-cache" => return Some(0),
                "max-age" => {
                    if let Ok(secs) = arg.trim().trim_matches('"').parse::<u64>() {
                        found = Some(i64::try_from(secs).unwrap_or(i64::MAX));
                    }
                }
                _ => {}
            }
        }
    }
    found
}

fn classify(url: &str, e: reqwest::Error) -> HttpError {
    if e.is_timeout() {
        HttpError::Timeout {
            url: url.to_string(),
        }
    } else if e.is_connect() {
        HttpError::Connect {
            url: url.to_string(),
            detail: describe(e),
        }
    } else {
        HttpError::Request {
            url: url.to_string(),
            detail: describe(e),
        }
    }
}

/// A reqwest error's message and causes, without the URL (whose query may be secret).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}

/// A URL fit for logs and messages: no user info, query or fragment.
pub fn for_log(url: &url::Url) -> String {
    let mut clean = url.clone();
    clean.set_query(None);
    clean.set_fragment(None);
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.into()
}

/// [`for_log`] of a URL given as text.
pub fn for_log_str(url: &str) -> String {
    url::Url::parse(url).map_or_else(|_| "<invalid URL>".to_string(), |u| for_log(&u))
}

#[cfg(test)]
mod tests;
