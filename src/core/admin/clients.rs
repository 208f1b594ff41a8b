//! App clients: CreateUserPoolClient / UpdateUserPoolClient / DeleteUserPoolClient and
//! their rules (redirect URLs, token lifetimes, OAuth flows and scopes, identity providers,
//! attribute lists, CORS origins, hosted-UI branding).

use std::net::IpAddr;
use std::ops::Deref;

use super::roles::refuse_config_owned;
use super::{valid, AdminError, AdminResult, AdminService, Errors, FieldError, RecordKind, Rule};
use crate::core::attributes::STANDARD_ATTRIBUTES;
use crate::core::ids;
use crate::core::model::{
    AppClient, OAuthFlow, Origin, ResourceServer, UserPool, MAX_REFRESH_SECS, MAX_TOKEN_SECS,
    MIN_REFRESH_SECS, MIN_TOKEN_SECS, OWN_USERS,
};
use crate::core::oauth::STANDARD_SCOPES;
use crate::core::storage::{Store, StoreError};

/// Cognito's limits on URL lists and lengths, and on client names.
const MAX_URLS: usize = 100;
const MAX_URL_LEN: usize = 1024;
const MAX_CLIENT_NAME: usize = 128;

/// Cognito's quota of app clients in one pool (not adjustable there either).
pub const MAX_CLIENTS_PER_POOL: usize = 1000;

/// What a client's rules need to know about its pool: the names its lists may refer to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientContext {
    /// The pool's custom attribute names, without the `custom:` prefix.
    pub custom_attributes: Vec<String>,
    /// The pool's identity provider names (besides [`OWN_USERS`]).
    pub identity_providers: Vec<String>,
    /// `<identifier>/<scope>` of every resource server of the pool.
    pub resource_scopes: Vec<String>,
    /// The node's own public base URL, for a client whose pages the node itself serves
    /// (the demo app): its redirect URLs under that base are the broker's own pages,
    /// reached however the issuer is (plain http on a LAN address included), so Cognito's
    /// https rule, which protects tokens sent to other hosts, does not apply to them.
    pub own_base_url: Option<String>,
}

impl ClientContext {
    /// The context of a stored pool and its resource servers.
    pub fn of(pool: &UserPool, servers: &[ResourceServer]) -> Self {
        ClientContext::new(
            pool.custom_attributes.iter().map(|a| a.name.as_str()),
            pool.identity_providers.iter().map(|p| p.name.as_str()),
            servers,
        )
    }

    /// The context of a pool's custom attribute names, identity provider names and
    /// resource servers, wherever they come from (a stored pool, or a configuration file's
    /// declarations).
    pub fn new<'a>(
        custom_attributes: impl IntoIterator<Item = &'a str>,
        identity_providers: impl IntoIterator<Item = &'a str>,
        servers: &[ResourceServer],
    ) -> Self {
        ClientContext {
            custom_attributes: custom_attributes.into_iter().map(str::to_owned).collect(),
            identity_providers: identity_providers.into_iter().map(str::to_owned).collect(),
            resource_scopes: resource_scopes(servers),
            own_base_url: None,
        }
    }

    /// Whether `url` is one of the node's own pages (see [`ClientContext::own_base_url`]).
    fn is_own(&self, url: &str) -> bool {
        self.own_base_url.as_deref().is_some_and(|base| {
            let base = base.trim_end_matches('/');
            url.strip_prefix(base)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
    }
}

/// `<identifier>/<scope>` of every scope of these resource servers: the custom scopes a
/// client may request.
pub fn resource_scopes(servers: &[ResourceServer]) -> Vec<String> {
    servers
        .iter()
        .flat_map(|rs| {
            rs.scopes
                .iter()
                .map(move |s| format!("{}/{}", rs.identifier, s.name))
        })
        .collect()
}

/// CreateUserPoolClient's rules on a client record of a pool described by `pool`.
pub fn validate_client(client: &AppClient, pool: &ClientContext) -> Vec<FieldError> {
    let mut e = Errors::default();
    if !ids::is_valid_client_id(&client.id) {
        e.push(
            "id",
            Rule::IdFormat,
            format!(
                "{:?} is not a client id: use 1 to 128 letters, digits, _, + or -",
                client.id
            ),
            "write e.g. \"4tbm2ghd2ohn16fbcjlh1kt6rb\"",
        );
    }
    if client.name.trim().is_empty() || client.name.chars().count() > MAX_CLIENT_NAME {
        e.push(
            "name",
            Rule::Invalid,
            "a client name must have 1 to 128 characters",
            "write e.g. name = \"web\"",
        );
    }
    check_urls(&mut e, "callback_urls", &client.callback_urls, pool);
    check_urls(&mut e, "logout_urls", &client.logout_urls, pool);
    let v = &client.token_validity;
    check_lifetime(&mut e, "id_token", v.id_token_secs, false);
    check_lifetime(&mut e, "access_token", v.access_token_secs, false);
    check_lifetime(&mut e, "refresh_token", v.refresh_token_secs, true);
    let grace = client.refresh_rotation.grace_period_secs;
    if !(0..=60).contains(&grace) {
        e.push(
            "refresh_rotation.grace_period_secs",
            Rule::Invalid,
            format!("grace_period_seconds {grace} is outside 0 to 60"),
            "use a number of seconds from 0 to 60",
        );
    }
    check_flows(&mut e, client);
    check_auth_flows(&mut e, client);
    check_scopes(
        &mut e,
        &client.allowed_oauth_flows,
        &client.allowed_oauth_scopes,
        &pool.resource_scopes,
    );
    let providers = &client.supported_identity_providers;
    for (k, idp) in providers.iter().enumerate() {
        let known = idp == OWN_USERS || pool.identity_providers.contains(idp);
        if !known {
            let mut names = vec!["\"COGNITO\" (the pool's own directory)".to_string()];
            names.extend(pool.identity_providers.iter().map(|p| format!("{p:?}")));
            e.push(
                format!("supported_identity_providers[{k}]"),
                Rule::Unknown,
                format!("{idp:?} is not an identity provider of this pool"),
                format!("use {}", names.join(", ")),
            );
        } else if providers[..k].contains(idp) {
            e.push(
                format!("supported_identity_providers[{k}]"),
                Rule::Duplicate,
                format!("{idp:?} is listed twice"),
                "remove the duplicate",
            );
        }
    }
    check_attribute_list(
        &mut e,
        "read_attributes",
        pool,
        &client.read_attributes,
        true,
    );
    check_attribute_list(
        &mut e,
        "write_attributes",
        pool,
        &client.write_attributes,
        false,
    );
    for (k, origin) in client.allowed_cors_origins.iter().enumerate() {
        let ok = url::Url::parse(origin).is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.origin().ascii_serialization() == origin.trim_end_matches('/')
        });
        if !ok {
            e.push(
                format!("allowed_cors_origins[{k}]"),
                Rule::Invalid,
                format!("{origin:?} is not an origin (scheme, host and optional port, no path)"),
                "write e.g. \"https://app.example.com\" or \"http://localhost:3000\"",
            );
        }
    }
    check_branding(&mut e, client);
    e.into_vec()
}

/// Cognito's flow combinations: code and implicit redirect to a callback URL;
/// client_credentials needs a secret, stands alone and needs a resource-server scope.
fn check_flows(e: &mut Errors, client: &AppClient) {
    let flows = &client.allowed_oauth_flows;
    let scopes = &client.allowed_oauth_scopes;
    for (k, flow) in flows.iter().enumerate() {
        let at = format!("allowed_oauth_flows[{k}]");
        match flow {
            OAuthFlow::Code | OAuthFlow::Implicit if client.callback_urls.is_empty() => e.push(
                at.clone(),
                Rule::NeedsCallbackUrl,
                "the code and implicit flows redirect to a callback URL, and none is declared",
                "add callback_urls = [\"https://app.example.com/callback\"]",
            ),
            OAuthFlow::ClientCredentials if !client.is_confidential() => e.push(
                at.clone(),
                Rule::NeedsSecret,
                "client_credentials needs a confidential client (one with a secret)",
                "give the client a secret",
            ),
            OAuthFlow::ClientCredentials
                if flows.iter().any(|f| *f != OAuthFlow::ClientCredentials) =>
            {
                e.push(
                    at.clone(),
                    Rule::Exclusive,
                    "client_credentials cannot be combined with code or implicit (Cognito rule)",
                    "declare a separate client for machine-to-machine access",
                )
            }
            OAuthFlow::ClientCredentials if scopes.is_empty() => e.push(
                at.clone(),
                Rule::NeedsScope,
                "client_credentials needs at least one resource-server scope",
                "add allowed_oauth_scopes = [\"<identifier>/<scope>\"] from this pool's \
                 resource_servers",
            ),
            _ => {}
        }
        if flows[..k].contains(flow) {
            e.push(
                at,
                Rule::Duplicate,
                "flow listed twice",
                "remove the duplicate",
            );
        }
    }
}

/// Cognito's `ExplicitAuthFlows`: the names themselves are an enum (an unknown one never
/// parses); a flow named twice is refused as in the other lists. An empty list is allowed:
/// the client then signs in only through the hosted UI, as a Cognito client created with
/// none of the `ALLOW_` flows. `ALLOW_CUSTOM_AUTH` is accepted, as in
/// Cognito, whose `CUSTOM_AUTH` without the custom-challenge triggers is refused at sign-in.
fn check_auth_flows(e: &mut Errors, client: &AppClient) {
    let flows = &client.explicit_auth_flows;
    for (k, flow) in flows.iter().enumerate() {
        if flows[..k].contains(flow) {
            e.push(
                format!("explicit_auth_flows[{k}]"),
                Rule::Duplicate,
                format!("{} is listed twice", flow.as_str()),
                "remove the duplicate",
            );
        }
    }
}

/// The scope check (Cognito's `AllowedOAuthScopes`): each scope is a standard OIDC /
/// Cognito scope ([`STANDARD_SCOPES`]) or `<identifier>/<scope>` of one of the pool's
/// resource servers (`declared`); machine clients take only the latter; `email`, `phone`
/// and `profile` need `openid`.
fn check_scopes(e: &mut Errors, flows: &[OAuthFlow], scopes: &[String], declared: &[String]) {
    if !flows.is_empty() && scopes.is_empty() {
        e.push(
            "allowed_oauth_scopes",
            Rule::NeedsScope,
            "a client with OAuth flows needs at least one allowed scope",
            "add e.g. allowed_oauth_scopes = [\"openid\", \"email\"]",
        );
    }
    let machine_only = flows.contains(&OAuthFlow::ClientCredentials);
    let has_openid = scopes.iter().any(|s| s == "openid");
    for (k, scope) in scopes.iter().enumerate() {
        let at = format!("allowed_oauth_scopes[{k}]");
        let standard = STANDARD_SCOPES.contains(&scope.as_str());
        if !standard && !declared.contains(scope) {
            let mut fix = format!("use one of: {}", STANDARD_SCOPES.join(", "));
            if !declared.is_empty() {
                fix.push_str(&format!(", {}", declared.join(", ")));
            }
            e.push(
                at,
                Rule::Unknown,
                format!("{scope:?} is not a scope of this pool"),
                fix,
            );
        } else if standard && machine_only {
            e.push(
                at,
                Rule::ScopeNotAllowed,
                format!(
                    "client_credentials clients can only have resource-server scopes, not \
                     {scope:?}"
                ),
                "remove it; a machine client has no user to describe",
            );
        } else if matches!(scope.as_str(), "email" | "phone" | "profile") && !has_openid {
            e.push(
                at,
                Rule::ScopeNotAllowed,
                format!("the {scope} scope requires the openid scope (Cognito rule)"),
                "add \"openid\" to allowed_oauth_scopes",
            );
        } else if scopes[..k].contains(scope) {
            e.push(
                at,
                Rule::Duplicate,
                format!("{scope:?} is listed twice"),
                "remove the duplicate",
            );
        }
    }
}

/// Callback and logout URLs, by Cognito's rule: at most 100, each valid
/// ([`check_redirect_url`]; the node's own pages excepted) and listed once.
fn check_urls(e: &mut Errors, at: &str, urls: &[String], pool: &ClientContext) {
    if urls.len() > MAX_URLS {
        e.push(
            at,
            Rule::Invalid,
            format!("at most {MAX_URLS} URLs are allowed"),
            "remove URLs",
        );
    }
    for (k, text) in urls.iter().enumerate() {
        let uat = format!("{at}[{k}]");
        let checked = if pool.is_own(text) {
            Ok(())
        } else {
            check_redirect_url(text)
        };
        if let Err((message, fix)) = checked {
            e.push(uat, Rule::Invalid, message, fix);
        } else if urls[..k].contains(text) {
            e.push(
                uat,
                Rule::Duplicate,
                format!("{text:?} is listed twice"),
                "remove the duplicate",
            );
        }
    }
}

/// Checks one callback or logout URL by Cognito's rule: absolute, no fragment, https
/// except http on a loopback host; custom schemes (`myapp://cb`) are allowed for native
/// apps. The error is (what is wrong, what to write instead).
pub fn check_redirect_url(text: &str) -> Result<(), (String, String)> {
    let example =
        "write e.g. \"https://app.example.com/callback\" or \"http://localhost:3000/callback\"";
    if text.len() > MAX_URL_LEN {
        return Err((
            format!("URLs can have at most {MAX_URL_LEN} characters"),
            "shorten it".into(),
        ));
    }
    let url = url::Url::parse(text).map_err(|e| {
        (
            format!("{text:?} is not an absolute URL ({e})"),
            example.to_string(),
        )
    })?;
    if url.fragment().is_some() {
        return Err((
            format!("{text:?} has a fragment (#...); redirect URLs must not"),
            "remove the # and what follows".into(),
        ));
    }
    match url.scheme() {
        "https" if url.host().is_none() => {
            Err((format!("{text:?} has no host"), example.to_string()))
        }
        "https" => Ok(()),
        "http" if is_loopback(&url) => Ok(()),
        "http" => Err((
            format!(
                "{text:?} uses http; Cognito allows http only for localhost, 127.0.0.1 or [::1]"
            ),
            format!("use https://{}", &text["http://".len()..]),
        )),
        "javascript" | "data" | "file" | "vbscript" | "blob" => Err((
            format!(
                "{text:?} uses the {} scheme, which cannot be a redirect target",
                url.scheme()
            ),
            example.to_string(),
        )),
        // A native app's custom scheme, e.g. myapp://callback.
        _ => Ok(()),
    }
}

/// Whether the URL's host is loopback: `localhost`, `127.0.0.0/8` or `[::1]` (where
/// Cognito allows plain http).
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Cognito's `TokenValidityUnits` ranges: ID and access tokens 5 minutes to 1 day, refresh
/// tokens 1 hour to 10 years. `token` is `id_token`, `access_token` or `refresh_token`.
fn check_lifetime(e: &mut Errors, token: &str, secs: i64, refresh: bool) {
    let (min, max, range) = if refresh {
        (
            MIN_REFRESH_SECS,
            MAX_REFRESH_SECS,
            "1 hour (\"1h\") and 10 years (\"3650d\")",
        )
    } else {
        (
            MIN_TOKEN_SECS,
            MAX_TOKEN_SECS,
            "5 minutes (\"5m\") and 1 day (\"1d\")",
        )
    };
    if !(min..=max).contains(&secs) {
        e.push(
            format!("token_validity.{token}_secs"),
            Rule::Invalid,
            format!("{token}_validity is {secs} seconds; Cognito allows between {range}"),
            format!("use a duration from {min} to {max} seconds"),
        );
    }
}

/// `ReadAttributes` / `WriteAttributes`: standard attributes or the pool's `custom:` ones;
/// `sub` may be read but not written.
fn check_attribute_list(
    e: &mut Errors,
    at: &str,
    pool: &ClientContext,
    names: &[String],
    read: bool,
) {
    for (k, name) in names.iter().enumerate() {
        let known = match name.strip_prefix("custom:") {
            Some(custom) => pool.custom_attributes.iter().any(|a| a == custom),
            None => STANDARD_ATTRIBUTES.contains(&name.as_str()) || (read && name == "sub"),
        };
        if !known {
            e.push(
                format!("{at}[{k}]"),
                Rule::Unknown,
                format!("{name:?} is not an attribute of this pool"),
                "use a standard attribute (email, name, ...) or custom:<name> of a declared \
                 custom attribute",
            );
        }
    }
}

/// The hosted UI's look: colours are hex, the logo is https, the CSS cannot close its
/// `<style>` element.
fn check_branding(e: &mut Errors, client: &AppClient) {
    let b = &client.branding;
    for (key, color) in [
        ("primary_color", &b.primary_color),
        ("background_color", &b.background_color),
    ] {
        let Some(color) = color else { continue };
        let hex = color.strip_prefix('#').unwrap_or("");
        if !(matches!(hex.len(), 3 | 6) && hex.chars().all(|ch| ch.is_ascii_hexdigit())) {
            e.push(
                format!("branding.{key}"),
                Rule::Invalid,
                format!("{color:?} is not a hex colour"),
                "write e.g. \"#1a73e8\"",
            );
        }
    }
    if let Some(logo) = &b.logo_url {
        let ok = url::Url::parse(logo)
            .is_ok_and(|u| u.scheme() == "https" || (u.scheme() == "http" && is_loopback(&u)));
        if !ok {
            e.push(
                "branding.logo_url",
                Rule::Invalid,
                format!("{logo:?} is not an https URL"),
                "write e.g. \"https://cdn.example.com/logo.png\"",
            );
        }
    }
    if b.extra_css.as_deref().is_some_and(|css| css.contains('<')) {
        e.push(
            "branding.extra_css",
            Rule::Invalid,
            "extra_css must not contain '<' (it is placed inside a <style> element)",
            "remove the markup; write plain CSS rules",
        );
    }
    if b.display_name
        .as_deref()
        .is_some_and(|n| n.chars().count() > 128)
    {
        e.push(
            "branding.display_name",
            Rule::Invalid,
            "display_name can have at most 128 characters",
            "shorten it",
        );
    }
}

impl<S> AdminService<S>
where
    S: Deref<Target = dyn Store> + Send + Sync,
{
    /// CreateUserPoolClient / UpdateUserPoolClient: checks the client against its pool
    /// (custom attributes, identity providers, resource-server scopes as stored) and writes
    /// it. A client id names one client across all pools, so a client cannot move pools.
    pub async fn put_client(&self, client: &AppClient) -> AdminResult<()> {
        self.put_client_with(client, None, Write::Upsert).await
    }

    /// As [`AdminService::put_client`], for a client whose pages the node serves itself
    /// under `own_base_url` (the demo app): its redirect URLs there are exempt from the
    /// https rule (see [`ClientContext::own_base_url`]); every other rule holds.
    pub async fn put_builtin_client(
        &self,
        client: &AppClient,
        own_base_url: &str,
    ) -> AdminResult<()> {
        self.put_client_with(client, Some(own_base_url), Write::Upsert)
            .await
    }

    async fn put_client_with(
        &self,
        client: &AppClient,
        own_base_url: Option<&str>,
        write: Write,
    ) -> AdminResult<()> {
        let pool = self.require_pool(&client.pool_id).await?;
        let servers = self.store().list_resource_servers(&pool.id).await?;
        let mut context = ClientContext::of(&pool, &servers);
        context.own_base_url = own_base_url.map(String::from);
        valid(RecordKind::Client, validate_client(client, &context))?;
        if self.store().get_client(&client.id).await?.is_none() {
            let count = self.store().list_clients(&pool.id).await?.len();
            if count >= MAX_CLIENTS_PER_POOL {
                return Err(AdminError::Invalid {
                    kind: RecordKind::Client,
                    errors: vec![FieldError::new(
                        "pool_id",
                        Rule::Limit,
                        format!(
                            "pool {} already has {count} app clients, Cognito's limit per pool \
                             is {MAX_CLIENTS_PER_POOL}",
                            pool.id
                        ),
                        "delete a client first",
                    )],
                });
            }
        }
        if write == Write::Existing {
            // Deleted since it was read: the update must not bring it back.
            return match self.store().update_client(client).await? {
                true => Ok(()),
                false => Err(AdminError::NotFound {
                    kind: RecordKind::Client,
                    id: client.id.clone(),
                }),
            };
        }
        match self.store().put_client(client).await {
            Err(StoreError::MissingParent(_)) => Err(AdminError::NotFound {
                kind: RecordKind::Pool,
                id: client.pool_id.clone(),
            }),
            other => Ok(other?),
        }
    }

    /// Replaces an existing client (checked by [`AdminService::put_client`]'s rules),
    /// never re-creating one deleted meanwhile ([`AdminError::NotFound`]).
    pub(crate) async fn replace_client(&self, client: &AppClient) -> AdminResult<()> {
        self.put_client_with(client, None, Write::Existing).await
    }

    /// DeleteUserPoolClient. Returns whether the client existed.
    pub async fn delete_client(&self, id: &str) -> AdminResult<bool> {
        Ok(self.store().delete_client(id).await?)
    }

    /// CreateUserPoolClient: a new client (its id not taken in any pool), checked by
    /// [`AdminService::put_client`]'s rules and within [`MAX_CLIENTS_PER_POOL`].
    pub async fn create_client(&self, client: &AppClient) -> AdminResult<()> {
        if self.store().get_client(&client.id).await?.is_some() {
            return Err(AdminError::Exists {
                kind: RecordKind::Client,
                id: client.id.clone(),
            });
        }
        self.put_client(client).await
    }

    /// UpdateUserPoolClient on behalf of `by`: replaces the settings of the client
    /// `client.id` of pool `client.pool_id`, keeping what Cognito never changes on update
    /// (the id, the secret, the creation time) and the record's origin. A client of another
    /// pool is [`AdminError::NotFound`], as an unknown one; a client declared in the
    /// configuration file changes only there ([`AdminError::ConfigOwned`]).
    pub async fn update_client(&self, client: &AppClient, by: Origin) -> AdminResult<AppClient> {
        let stored = self.stored_client(&client.pool_id, &client.id).await?;
        refuse_config_owned(RecordKind::Client, &client.id, stored.origin, by)?;
        let updated = AppClient {
            origin: stored.origin,
            secret: stored.secret,
            created_at: stored.created_at,
            ..client.clone()
        };
        self.replace_client(&updated).await?;
        Ok(updated)
    }

    /// DeleteUserPoolClient on behalf of `by`: a client declared in the configuration file
    /// is the file's to delete ([`AdminError::ConfigOwned`]); one of another pool, or none,
    /// is [`AdminError::NotFound`]. Its tokens stop working with it: refresh and the
    /// end-user actions look the client up.
    pub async fn delete_client_by(&self, pool_id: &str, id: &str, by: Origin) -> AdminResult<()> {
        let stored = self.stored_client(pool_id, id).await?;
        refuse_config_owned(RecordKind::Client, id, stored.origin, by)?;
        self.delete_client(id).await?;
        Ok(())
    }

    /// The stored client `id` of pool `pool_id` (the pool first: an unknown pool is named
    /// as such).
    pub async fn stored_client(&self, pool_id: &str, id: &str) -> AdminResult<AppClient> {
        self.require_pool(pool_id).await?;
        match self.store().get_client(id).await? {
            Some(client) if client.pool_id == pool_id => Ok(client),
            _ => Err(AdminError::NotFound {
                kind: RecordKind::Client,
                id: id.to_string(),
            }),
        }
    }
}

/// How [`AdminService::put_client_with`] writes: create or replace (the file, the CLI,
/// CreateUserPoolClient), or only replace a client still stored (updates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    Upsert,
    Existing,
}

#[cfg(test)]
#[path = "clients_tests.rs"]
mod tests;
