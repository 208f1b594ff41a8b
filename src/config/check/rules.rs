//! The semantic rules of the configuration file. Most mirror Cognito's own validation
//! (CreateUserPool / CreateUserPoolClient / CreateResourceServer / CreateGroup), so a file
//! that passes here describes pools Cognito would also accept.

use std::collections::HashMap;

mod idp;

use super::{is_loopback, parse_public_url, Checker};
use crate::config::decl::{ClientDecl, Lifetime, PoolDecl};
use crate::config::Config;
use crate::core::admin::{self, FieldError, RecordKind, Rule};
use crate::core::attributes::STANDARD_ATTRIBUTES;
use crate::core::ids;
use crate::core::mail::check_smtp_url;
use crate::core::model::{
    OAuthFlow, MAX_REFRESH_SECS, MAX_TOKEN_SECS, MIN_REFRESH_SECS, MIN_TOKEN_SECS,
};

/// OIDC and Cognito scopes a client may request besides resource-server scopes.
const STANDARD_SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// The id the rules see for a pool declared without one (applying generates it).
const CHECKED_POOL_ID: &str = "us-east-1_Checked";

/// Cognito's limits on URL lists and lengths.
const MAX_URLS: usize = 100;
const MAX_URL_LEN: usize = 1024;

pub(super) fn check_config(c: &mut Checker<'_>, config: &Config) {
    check_server(c, config);
    let mut pool_ids: HashMap<&str, usize> = HashMap::new();
    let mut pool_names: HashMap<&str, usize> = HashMap::new();
    let mut client_ids: HashMap<&str, String> = HashMap::new();
    for (i, pool) in config.pools.iter().enumerate() {
        let at = format!("pools[{i}]");
        let record = pool.to_record(pool.id.as_deref().unwrap_or(CHECKED_POOL_ID), 0, None);
        let (id_errors, errors): (Vec<FieldError>, Vec<FieldError>) = admin::validate_pool(&record)
            .into_iter()
            .partition(|e| e.field() == "id");
        let id_valid = id_errors.is_empty();
        report(c, &at, id_errors, RecordKind::Pool, &config.server.region);
        if let Some(id) = pool.id.as_deref().filter(|_| id_valid) {
            if let Some(first) = pool_ids.insert(id, i) {
                c.error(
                    format!("{at}.id"),
                    format!("pool id {id:?} is also declared at pools[{first}]"),
                    "give each pool its own id",
                );
            }
        }
        if let Some(first) = pool_names.insert(&pool.name, i) {
            c.error(
                format!("{at}.name"),
                format!("pool name {:?} is also used by pools[{first}]", pool.name),
                "give each pool its own name (a pool without an id is found by its name)",
            );
        }
        report(c, &at, errors, RecordKind::Pool, &config.server.region);
        check_pool(c, &at, pool);
        for (j, client) in pool.clients.iter().enumerate() {
            let cat = format!("{at}.clients[{j}]");
            if let Some(id) = &client.id {
                if !ids::is_valid_client_id(id) {
                    c.error(
                        format!("{cat}.id"),
                        format!(
                            "{id:?} is not a client id: use 1 to 128 letters, digits, _, + or -"
                        ),
                        "write e.g. id = \"4tbm2ghd2ohn16fbcjlh1kt6rb\", or remove the line to \
                         have one generated",
                    );
                } else if let Some(first) = client_ids.insert(id, cat.clone()) {
                    c.error(
                        format!("{cat}.id"),
                        format!(
                            "client id {id:?} is also declared at {first}; client ids are \
                             unique across all pools"
                        ),
                        "give each client its own id",
                    );
                }
            }
            check_client(c, &cat, pool, j);
        }
    }
}

fn check_server(c: &mut Checker<'_>, config: &Config) {
    let s = &config.server;
    if let Some(url) = &s.public_url {
        if let Err(message) = parse_public_url(url.as_str()) {
            c.error(
                "server.public_url",
                message,
                "write the URL clients reach, e.g. public_url = \"https://auth.example.com\"",
            );
        }
    }
    if !ids::is_valid_pool_id(&format!("{}_x", s.region)) {
        c.error(
            "server.region",
            format!(
                "{:?} is not a region name (letters, digits and -)",
                s.region
            ),
            "write e.g. region = \"us-east-1\"",
        );
    }
    if s.max_body_bytes < 1024 {
        c.error(
            "server.max_body_bytes",
            format!("{} bytes is too small for any request", s.max_body_bytes),
            "use at least 1024; the default is 1048576 (1 MiB)",
        );
    }
    if !(1..=120).contains(&s.idp_timeout_secs) {
        c.error(
            "server.idp_timeout_secs",
            format!("{} seconds is not a usable timeout", s.idp_timeout_secs),
            "use 1 to 120 seconds; the default is 10",
        );
    }
    if s.data_dir.as_os_str().is_empty() {
        c.error(
            "server.data_dir",
            "data_dir is empty",
            "write a directory, e.g. data_dir = \"/var/lib/cognate\"",
        );
    }
    if let Some(smtp) = &s.smtp {
        if let Err(message) = check_smtp_url(smtp.url.expose()) {
            c.error(
                "server.smtp.url",
                message,
                "write e.g. url = \"smtps://user:password@smtp.example.com:465\" (better: set \
                 COGNATE_SMTP_URL, as the URL holds a password)",
            );
        }
        if let Err(message) = check_mail_from(&smtp.from) {
            c.error(
                "server.smtp.from",
                message,
                "write e.g. from = \"Example <no-reply@example.com>\"",
            );
        }
    }
    if let Some(url) = &s.database_url {
        if url.expose().trim().is_empty() {
            c.error(
                "server.database_url",
                "database_url is empty",
                "remove the line to use the embedded SQLite database, or set \
                 COGNATE_DATABASE_URL=postgres://user:password@host/db",
            );
        }
    }
}

/// The file's own pool rules (the mail sender) and the pool's children; the pool record's
/// rules are the core's ([`admin::validate_pool`], run by [`check_config`]).
fn check_pool(c: &mut Checker<'_>, at: &str, pool: &PoolDecl) {
    if let Some(email) = &pool.email {
        if let Err(message) = check_mail_from(&email.from) {
            c.error(
                format!("{at}.email.from"),
                message,
                "write e.g. from = \"Example <no-reply@example.com>\"",
            );
        }
        if let Some(var) = &email.smtp_url_env {
            let valid = var
                .chars()
                .next()
                .is_some_and(|ch| ch.is_ascii_uppercase() || ch == '_')
                && var
                    .chars()
                    .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_');
            if !valid {
                c.error(
                    format!("{at}.email.smtp_url_env"),
                    format!(
                        "{var:?} is not an environment variable name (capital letters, digits \
                         and _, not starting with a digit); it names the variable holding the \
                         SMTP URL, not the URL itself"
                    ),
                    "write e.g. smtp_url_env = \"SHOP_SMTP_URL\" and set SHOP_SMTP_URL in the \
                     environment",
                );
            }
        }
    }
    check_resource_servers(c, at, pool);
    check_groups(c, at, pool);
    idp::check_identity_providers(c, at, pool);
}

/// Checks a sender: `name@example.com` or `Display Name <name@example.com>`.
pub fn check_mail_from(text: &str) -> Result<(), String> {
    let text = text.trim();
    let address = match text.strip_suffix('>').and_then(|t| t.rsplit_once('<')) {
        Some((name, address)) => {
            if name
                .chars()
                .any(|ch| matches!(ch, '<' | '>' | '"') || ch.is_control())
            {
                return Err(format!(
                    "{text:?}: the display name must not contain <, > or quotes"
                ));
            }
            address.trim()
        }
        None => text,
    };
    crate::core::attributes::validate_email(address)
        .map_err(|reason| format!("{text:?} is not a sender address: it {reason}"))
}

fn check_resource_servers(c: &mut Checker<'_>, at: &str, pool: &PoolDecl) {
    for (k, rs) in pool.resource_servers.iter().enumerate() {
        let rat = format!("{at}.resource_servers[{k}]");
        let errors = admin::validate_resource_server(&rs.to_record(""));
        // A duplicate is the file's concern (the service replaces by identifier); it is
        // reported only for an identifier that is valid itself.
        if !errors.iter().any(|e| e.field() == "identifier")
            && pool.resource_servers[..k]
                .iter()
                .any(|other| other.identifier == rs.identifier)
        {
            c.error(
                format!("{rat}.identifier"),
                format!("resource server {:?} is declared twice", rs.identifier),
                "remove the duplicate or give it another identifier",
            );
        }
        report(c, &rat, errors, RecordKind::ResourceServer, "");
    }
}

fn check_groups(c: &mut Checker<'_>, at: &str, pool: &PoolDecl) {
    for (k, group) in pool.groups.iter().enumerate() {
        let gat = format!("{at}.groups[{k}]");
        let errors = admin::validate_group(&group.to_record("", 0, None));
        if !errors.iter().any(|e| e.field() == "name")
            && pool.groups[..k].iter().any(|o| o.name == group.name)
        {
            c.error(
                format!("{gat}.name"),
                format!("group {:?} is declared twice", group.name),
                "remove the duplicate or rename it",
            );
        }
        report(c, &gat, errors, RecordKind::Group, "");
    }
}

/// Reports the core's field errors of a record declared at `at` (`pools[0].clients[1]`),
/// each at its TOML key: the model's paths are the file's keys except for token lifetimes
/// and rotation, and a few fixes name the file's own keys (`generate_secret`,
/// `[[pools.identity_providers]]`) or its generated ids. `region` is the server's, for the
/// example pool id.
fn report(c: &mut Checker<'_>, at: &str, errors: Vec<FieldError>, kind: RecordKind, region: &str) {
    for e in errors {
        let path = format!("{at}.{}", toml_path(&e.path));
        let core_fix = e.fix.clone().unwrap_or_default();
        let fix = match (e.rule, e.field(), kind) {
            (Rule::IdFormat, _, RecordKind::Pool) => format!(
                "write e.g. id = \"{region}_AbC123dEf\", or remove the line to have one generated"
            ),
            (Rule::IdFormat, _, _) => {
                "write e.g. id = \"4tbm2ghd2ohn16fbcjlh1kt6rb\", or remove the \
                                       line to have one generated"
                    .to_string()
            }
            (Rule::NeedsSecret, _, _) => "add generate_secret = true".to_string(),
            (Rule::Unknown, "supported_identity_providers", _) => {
                format!("{core_fix}; declare other providers under [[pools.identity_providers]]")
            }
            (Rule::Unknown, "allowed_oauth_scopes", _) => format!(
                "{core_fix} (resource-server scopes are <identifier>/<scope> from \
                 [[pools.resource_servers]])"
            ),
            _ => core_fix,
        };
        c.error(path, e.message, fix);
    }
}

/// The file's key for a model path: token lifetimes are `<token>_validity` and rotation is
/// `refresh_token_rotation.grace_period_seconds` in the file.
fn toml_path(model: &str) -> &str {
    match model {
        "token_validity.id_token_secs" => "id_token_validity",
        "token_validity.access_token_secs" => "access_token_validity",
        "token_validity.refresh_token_secs" => "refresh_token_validity",
        "refresh_rotation.grace_period_secs" => "refresh_token_rotation.grace_period_seconds",
        other => other,
    }
}

/// All scopes a client may request in this pool: the standard ones and
/// `<identifier>/<scope>` of every declared resource server.
fn resource_scopes(pool: &PoolDecl) -> Vec<String> {
    pool.resource_servers
        .iter()
        .flat_map(|rs| {
            rs.scopes
                .iter()
                .map(move |s| format!("{}/{}", rs.identifier, s.name))
        })
        .collect()
}

fn check_client(c: &mut Checker<'_>, at: &str, pool: &PoolDecl, index: usize) {
    let client = &pool.clients[index];
    if client.name.trim().is_empty() || client.name.chars().count() > 128 {
        c.error(
            format!("{at}.name"),
            "a client name must have 1 to 128 characters",
            "write e.g. name = \"web\"",
        );
    } else if pool.clients[..index].iter().any(|o| o.name == client.name) {
        c.error(
            format!("{at}.name"),
            format!("client name {:?} is used twice in this pool", client.name),
            "give each client of a pool its own name (a client without an id is found by \
             its name)",
        );
    }
    check_urls(c, &format!("{at}.callback_urls"), &client.callback_urls);
    check_urls(c, &format!("{at}.logout_urls"), &client.logout_urls);
    check_lifetime(c, at, "id_token_validity", client.id_token_validity, false);
    check_lifetime(
        c,
        at,
        "access_token_validity",
        client.access_token_validity,
        false,
    );
    check_lifetime(
        c,
        at,
        "refresh_token_validity",
        client.refresh_token_validity,
        true,
    );
    let grace = client.refresh_token_rotation.grace_period_seconds;
    if !(0..=60).contains(&grace) {
        c.error(
            format!("{at}.refresh_token_rotation.grace_period_seconds"),
            format!("grace_period_seconds {grace} is outside 0 to 60"),
            "use a number of seconds from 0 to 60",
        );
    }
    check_flows_and_scopes(c, at, pool, client);
    let providers = &client.supported_identity_providers;
    for (k, idp) in providers.iter().enumerate() {
        let declared = idp == "COGNITO" || pool.identity_providers.iter().any(|p| &p.name == idp);
        if !declared {
            let mut known = vec!["\"COGNITO\" (the pool's own directory)".to_string()];
            known.extend(
                pool.identity_providers
                    .iter()
                    .map(|p| format!("{:?}", p.name)),
            );
            c.error(
                format!("{at}.supported_identity_providers[{k}]"),
                format!("{idp:?} is not an identity provider of this pool"),
                format!(
                    "use {}; declare other providers under [[pools.identity_providers]]",
                    known.join(", ")
                ),
            );
        } else if providers[..k].contains(idp) {
            c.error(
                format!("{at}.supported_identity_providers[{k}]"),
                format!("{idp:?} is listed twice"),
                "remove the duplicate",
            );
        }
    }
    check_attribute_list(
        c,
        &format!("{at}.read_attributes"),
        pool,
        &client.read_attributes,
        true,
    );
    check_attribute_list(
        c,
        &format!("{at}.write_attributes"),
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
            c.error(
                format!("{at}.allowed_cors_origins[{k}]"),
                format!("{origin:?} is not an origin (scheme, host and optional port, no path)"),
                "write e.g. \"https://app.example.com\" or \"http://localhost:3000\"",
            );
        }
    }
    check_branding(c, at, client);
}

fn check_flows_and_scopes(c: &mut Checker<'_>, at: &str, pool: &PoolDecl, client: &ClientDecl) {
    let flows = &client.allowed_oauth_flows;
    let scopes = &client.allowed_oauth_scopes;
    let declared = resource_scopes(pool);
    for (k, flow) in flows.iter().enumerate() {
        let fat = format!("{at}.allowed_oauth_flows[{k}]");
        match flow {
            OAuthFlow::Code | OAuthFlow::Implicit if client.callback_urls.is_empty() => c.error(
                fat,
                "the code and implicit flows redirect to a callback URL, and none is declared",
                "add callback_urls = [\"https://app.example.com/callback\"]",
            ),
            OAuthFlow::ClientCredentials if !client.generate_secret => c.error(
                fat,
                "client_credentials needs a confidential client (one with a secret)",
                "add generate_secret = true",
            ),
            OAuthFlow::ClientCredentials
                if flows.iter().any(|f| *f != OAuthFlow::ClientCredentials) =>
            {
                c.error(
                    fat,
                    "client_credentials cannot be combined with code or implicit (Cognito rule)",
                    "declare a separate client for machine-to-machine access",
                )
            }
            OAuthFlow::ClientCredentials if scopes.is_empty() => c.error(
                fat,
                "client_credentials needs at least one resource-server scope",
                "add allowed_oauth_scopes = [\"<identifier>/<scope>\"] from this pool's \
                 resource_servers",
            ),
            _ => {}
        }
        if flows[..k].contains(flow) {
            c.error(
                format!("{at}.allowed_oauth_flows[{k}]"),
                "flow listed twice",
                "remove the duplicate",
            );
        }
    }
    if !flows.is_empty() && scopes.is_empty() {
        c.error(
            format!("{at}.allowed_oauth_scopes"),
            "a client with OAuth flows needs at least one allowed scope",
            "add e.g. allowed_oauth_scopes = [\"openid\", \"email\"]",
        );
    }
    let machine_only = flows.contains(&OAuthFlow::ClientCredentials);
    let has_openid = scopes.iter().any(|s| s == "openid");
    for (k, scope) in scopes.iter().enumerate() {
        let sat = format!("{at}.allowed_oauth_scopes[{k}]");
        let standard = STANDARD_SCOPES.contains(&scope.as_str());
        if !standard && !declared.contains(scope) {
            let mut fix = format!("use one of: {}", STANDARD_SCOPES.join(", "));
            if !declared.is_empty() {
                fix.push_str(&format!(", {}", declared.join(", ")));
            }
            fix.push_str(" (resource-server scopes are <identifier>/<scope> from [[pools.resource_servers]])");
            c.error(sat, format!("{scope:?} is not a scope of this pool"), fix);
        } else if standard && machine_only {
            c.error(
                sat,
                format!("client_credentials clients can only have resource-server scopes, not {scope:?}"),
                "remove it; a machine client has no user to describe",
            );
        } else if matches!(scope.as_str(), "email" | "phone" | "profile") && !has_openid {
            c.error(
                sat,
                format!("the {scope} scope requires the openid scope (Cognito rule)"),
                "add \"openid\" to allowed_oauth_scopes",
            );
        } else if scopes[..k].contains(scope) {
            c.error(
                sat,
                format!("{scope:?} is listed twice"),
                "remove the duplicate",
            );
        }
    }
}

/// Callback and logout URLs, by Cognito's rule: absolute, no fragment, https except
/// http on a loopback host; custom schemes (`myapp://cb`) are allowed for native apps.
fn check_urls(c: &mut Checker<'_>, at: &str, urls: &[String]) {
    if urls.len() > MAX_URLS {
        c.error(
            at,
            format!("at most {MAX_URLS} URLs are allowed"),
            "remove URLs",
        );
    }
    for (k, text) in urls.iter().enumerate() {
        let uat = format!("{at}[{k}]");
        if let Err((message, fix)) = check_redirect_url(text) {
            c.error(uat, message, fix);
        } else if urls[..k].contains(text) {
            c.error(
                uat,
                format!("{text:?} is listed twice"),
                "remove the duplicate",
            );
        }
    }
}

/// Checks one callback or logout URL; the error is (what is wrong, what to write instead).
/// Public so the CLI and API apply the same rule as the file.
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

fn check_lifetime(
    c: &mut Checker<'_>,
    at: &str,
    key: &str,
    value: Option<Lifetime>,
    refresh: bool,
) {
    let Some(Lifetime(secs)) = value else {
        return;
    };
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
        c.error(
            format!("{at}.{key}"),
            format!("{key} is {secs} seconds; Cognito allows between {range}"),
            format!("use a duration from {min} to {max} seconds"),
        );
    }
}

fn check_attribute_list(
    c: &mut Checker<'_>,
    at: &str,
    pool: &PoolDecl,
    names: &[String],
    read: bool,
) {
    for (k, name) in names.iter().enumerate() {
        let known = match name.strip_prefix("custom:") {
            Some(custom) => pool.custom_attributes.iter().any(|a| a.name == custom),
            None => STANDARD_ATTRIBUTES.contains(&name.as_str()) || (read && name == "sub"),
        };
        if !known {
            c.error(
                format!("{at}[{k}]"),
                format!("{name:?} is not an attribute of this pool"),
                "use a standard attribute (email, name, ...) or custom:<name> of a declared \
                 custom attribute",
            );
        }
    }
}

fn check_branding(c: &mut Checker<'_>, at: &str, client: &ClientDecl) {
    let b = &client.branding;
    for (key, color) in [
        ("primary_color", &b.primary_color),
        ("background_color", &b.background_color),
    ] {
        let Some(color) = color else { continue };
        let hex = color.strip_prefix('#').unwrap_or("");
        if !(matches!(hex.len(), 3 | 6) && hex.chars().all(|ch| ch.is_ascii_hexdigit())) {
            c.error(
                format!("{at}.branding.{key}"),
                format!("{color:?} is not a hex colour"),
                "write e.g. \"#1a73e8\"",
            );
        }
    }
    if let Some(logo) = &b.logo_url {
        let ok = url::Url::parse(logo)
            .is_ok_and(|u| u.scheme() == "https" || (u.scheme() == "http" && is_loopback(&u)));
        if !ok {
            c.error(
                format!("{at}.branding.logo_url"),
                format!("{logo:?} is not an https URL"),
                "write e.g. \"https://cdn.example.com/logo.png\"",
            );
        }
    }
    if b.extra_css.as_deref().is_some_and(|css| css.contains('<')) {
        c.error(
            format!("{at}.branding.extra_css"),
            "extra_css must not contain '<' (it is placed inside a <style> element)",
            "remove the markup; write plain CSS rules",
        );
    }
    if b.display_name
        .as_deref()
        .is_some_and(|n| n.chars().count() > 128)
    {
        c.error(
            format!("{at}.branding.display_name"),
            "display_name can have at most 128 characters",
            "shorten it",
        );
    }
}
