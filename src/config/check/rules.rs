//! The semantic rules of the configuration file. The records' own rules are Cognito's
//! (CreateUserPool / CreateUserPoolClient / CreateResourceServer / CreateGroup) and live in
//! the core ([`crate::core::admin`]): the checker builds each declared record, runs them,
//! and places every field error on its TOML key. What is left here is the file's own:
//! ids and names declared twice, the `[server]` table, mail senders, and identity
//! providers as declared (presets, secrets from the environment).

use std::collections::HashMap;

pub(crate) mod identity_pools;
mod idp;

pub(in crate::config::check) use idp::load_saml_metadata;

use super::{parse_public_url, Checker};
use crate::config::decl::PoolDecl;
use crate::config::Config;
use crate::core::admin::{self, ClientContext, FieldError, RecordKind, Rule};
use crate::core::ids;
use crate::core::mail::check_smtp_url;
use crate::core::model::ResourceServer;
use crate::core::secrets::{client_secret_context, EncryptedSecret, MasterKey};

/// The id the rules see for a pool declared without one (applying generates it).
const CHECKED_POOL_ID: &str = "us-east-1_Checked";
/// Likewise for a client declared without an id.
const CHECKED_CLIENT_ID: &str = "checkedclient";

pub(super) fn check_config(c: &mut Checker<'_>, config: &Config) {
    check_server(c, config);
    let mut pool_ids: HashMap<&str, usize> = HashMap::new();
    let mut pool_names: HashMap<&str, usize> = HashMap::new();
    let mut client_ids: HashMap<String, String> = HashMap::new();
    // A domain name belongs to one pool of the deployment (the store's unique key).
    let mut domains: HashMap<String, String> = HashMap::new();
    for (i, pool) in config.pools.iter().enumerate() {
        let at = format!("pools[{i}]");
        for record in pool.domain_records("", 0) {
            let field = if record.certificate_arn.is_some() {
                format!("{at}.custom_domain.domain")
            } else {
                format!("{at}.domain")
            };
            if let Some(first) = domains.insert(record.domain.clone(), field.clone()) {
                c.error(
                    field,
                    format!("domain {:?} is also declared at {first}", record.domain),
                    "a domain belongs to one pool: give each pool its own",
                );
            }
        }
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
        // The passkey rules that need the public URL (an invalid one is reported above).
        if let Ok(public_url) = parse_public_url(&config.public_url()) {
            let errors = admin::validate_passkeys_at(&record, &public_url);
            report(c, &at, errors, RecordKind::Pool, &config.server.region);
        }
        check_pool(c, &at, pool);
        let context = client_context(pool);
        for j in 0..pool.clients.len() {
            let cat = format!("{at}.clients[{j}]");
            check_client(c, &cat, pool, j, &context, &mut client_ids);
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
    // H1: the account id of the AWS edge's ARNs.
    if s.account_id.len() != 12 || !s.account_id.bytes().all(|b| b.is_ascii_digit()) {
        c.error(
            "server.account_id",
            format!("{:?} is not an account id (12 digits)", s.account_id),
            "write e.g. account_id = \"123456789012\", or remove the line for 000000000000",
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
    if !(100..=30_000).contains(&s.trigger_timeout_ms) {
        c.error(
            "server.trigger_timeout_ms",
            format!("{} ms is not a usable timeout", s.trigger_timeout_ms),
            "use 100 to 30000 milliseconds; the default is 5000 (Cognito's 5 s)",
        );
    }
    if !(1..=100_000).contains(&s.max_user_pools) {
        c.error(
            "server.max_user_pools",
            format!("{} is not a usable user pool quota", s.max_user_pools),
            "use 1 to 100000; the default is 1000 (Cognito's quota)",
        );
    }
    if let Some(path) = &s.geoip_database {
        if !path.is_file() {
            c.error(
                "server.geoip_database",
                format!("{} is not a readable file", path.display()),
                "name a MaxMind DB file (GeoLite2-City.mmdb or alike), or remove the setting",
            );
        }
    }
    if !(1..=3650).contains(&s.auth_event_retention_days) {
        c.error(
            "server.auth_event_retention_days",
            format!(
                "{} days is not a usable retention",
                s.auth_event_retention_days
            ),
            "use 1 to 3650 days; the default is 90",
        );
    }
    if let Some(path) = &s.breached_password_corpus {
        if let Err(e) =
            crate::core::threat::compromised::Corpus::open(path, s.breached_password_corpus_format)
        {
            c.error(
                "server.breached_password_corpus",
                e.to_string(),
                "point it at a Pwned Passwords download: a directory of <prefix>.txt range files or one sorted <hash>:<count> file",
            );
        }
    }
    for net in &s.idp_private_networks {
        if net.prefix_len() == 0 {
            c.error(
                "server.idp_private_networks",
                format!("{net} is every address, the cloud metadata service's included"),
                "list only the internal networks your identity providers are on, e.g. \"10.1.2.0/24\"",
            );
        }
    }
    if !(1..=600).contains(&s.request_timeout_secs) {
        c.error(
            "server.request_timeout_secs",
            format!("{} seconds is not a usable timeout", s.request_timeout_secs),
            "use 1 to 600 seconds; the default is 30",
        );
    } else if s.request_timeout_secs <= s.idp_timeout_secs {
        c.error(
            "server.request_timeout_secs",
            format!(
                "{} seconds leaves no time around an upstream sign-in, which may take \
                 idp_timeout_secs = {}",
                s.request_timeout_secs, s.idp_timeout_secs
            ),
            "make request_timeout_secs longer than idp_timeout_secs (the defaults are 30 and 10)",
        );
    }
    if !(1..=120).contains(&s.header_read_timeout_secs) {
        c.error(
            "server.header_read_timeout_secs",
            format!(
                "{} seconds is not a usable timeout",
                s.header_read_timeout_secs
            ),
            "use 1 to 120 seconds; the default is 10",
        );
    }
    if s.metrics_listen.is_some() && s.metrics_listen == Some(s.listen) {
        c.error(
            "server.metrics_listen",
            "metrics_listen is the same address as listen",
            "give metrics a port of their own, e.g. metrics_listen = \"127.0.0.1:9750\"",
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
    check_risk_tuning(c, at, &pool.threat_protection.tuning);
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
    for (kind, decl) in pool.triggers.iter() {
        if decl.version.is_some() && *kind != crate::core::model::TriggerKind::PreTokenGeneration {
            c.error(
                format!("{at}.triggers.{}.version", kind.key()),
                "only the pre_token_generation trigger has an event version",
                format!("write {} = \"https://...\" (its URL alone)", kind.key()),
            );
        }
    }
    check_resource_servers(c, at, pool);
    check_domains(c, at, pool);
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
    // CreateResourceServer's quota, the service's constant (issue 15).
    let max = admin::resource_servers::MAX_SERVERS_PER_POOL;
    if pool.resource_servers.len() > max {
        c.error(
            format!("{at}.resource_servers"),
            format!("a user pool can have at most {max} resource servers"),
            "remove resource servers",
        );
    }
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

/// `domain` and `custom_domain`: CreateUserPoolDomain's rules (issue 15).
fn check_domains(c: &mut Checker<'_>, at: &str, pool: &PoolDecl) {
    for record in pool.domain_records("", 0) {
        let rat = if record.certificate_arn.is_some() {
            format!("{at}.custom_domain")
        } else {
            at.to_string()
        };
        report(
            c,
            &rat,
            admin::validate_domain(&record),
            RecordKind::Domain,
            "",
        );
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
        let path = format!("{at}.{}", toml_path(&e.path, kind));
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
/// `refresh_token_rotation.grace_period_seconds` in the file; a pool's `factors.mfa`,
/// `factors.first` and `factors.passkeys` are `mfa_factors`, `sign_in_factors` and
/// `passkeys`.
fn toml_path(model: &str, kind: RecordKind) -> String {
    let renamed = match model {
        "token_validity.id_token_secs" => "id_token_validity",
        "token_validity.access_token_secs" => "access_token_validity",
        "token_validity.refresh_token_secs" => "refresh_token_validity",
        "refresh_rotation.grace_period_secs" => "refresh_token_rotation.grace_period_seconds",
        other => other,
    };
    if kind == RecordKind::Pool {
        for (from, to) in [
            ("factors.mfa", "mfa_factors"),
            ("factors.first", "sign_in_factors"),
            ("factors.passkeys", "passkeys"),
        ] {
            if let Some(rest) = renamed.strip_prefix(from) {
                return format!("{to}{rest}");
            }
        }
    }
    renamed.to_string()
}

/// What the core's client rules know of a declared pool: its custom attributes, identity
/// providers and resource-server scopes, as declared.
fn client_context(pool: &PoolDecl) -> ClientContext {
    let servers: Vec<ResourceServer> = pool
        .resource_servers
        .iter()
        .map(|rs| rs.to_record(""))
        .collect();
    ClientContext::new(
        pool.custom_attributes.iter().map(|a| a.name.as_str()),
        pool.identity_providers.iter().map(|p| p.name.as_str()),
        &servers,
    )
}

/// The core's client rules on the declared client, plus the file's own: ids and names
/// declared twice.
fn check_client(
    c: &mut Checker<'_>,
    at: &str,
    pool: &PoolDecl,
    index: usize,
    context: &ClientContext,
    client_ids: &mut HashMap<String, String>,
) {
    let client = &pool.clients[index];
    let id = client.id.as_deref().unwrap_or(CHECKED_CLIENT_ID);
    let secret = if client.generate_secret {
        placeholder_secret(id)
    } else {
        None
    };
    let record = client.to_record(id, CHECKED_POOL_ID, secret, 0, None);
    let errors = admin::validate_client(&record, context);
    let (id_errors, errors): (Vec<FieldError>, Vec<FieldError>) =
        errors.into_iter().partition(|e| e.field() == "id");
    let id_valid = id_errors.is_empty();
    report(c, at, id_errors, RecordKind::Client, "");
    if let Some(id) = client.id.as_deref().filter(|_| id_valid) {
        if let Some(first) = client_ids.insert(id.to_string(), at.to_string()) {
            c.error(
                format!("{at}.id"),
                format!(
                    "client id {id:?} is also declared at {first}; client ids are unique \
                     across all pools"
                ),
                "give each client its own id",
            );
        }
    }
    if !errors.iter().any(|e| e.field() == "name")
        && pool.clients[..index].iter().any(|o| o.name == client.name)
    {
        c.error(
            format!("{at}.name"),
            format!("client name {:?} is used twice in this pool", client.name),
            "give each client of a pool its own name (a client without an id is found by \
             its name)",
        );
    }
    report(c, at, errors, RecordKind::Client, "");
}

/// A sealed stand-in for a confidential client's secret: the checker has no master key,
/// and the rules only ask whether a client has a secret, never what it is.
fn placeholder_secret(client_id: &str) -> Option<EncryptedSecret> {
    MasterKey::from_bytes(&[0; 32])
        .ok()
        .map(|key| key.seal(&client_secret_context(client_id), b"checked"))
}

/// `[pools.threat_protection.tuning]`: thresholds above 0 and ordered (a level no score
/// can reach, or two levels at one score, is a mistake), and a burst and a speed that can
/// be met.
fn check_risk_tuning(c: &mut Checker<'_>, at: &str, t: &crate::core::model::RiskTuning) {
    let key = |k: &str| format!("{at}.threat_protection.tuning.{k}");
    if t.medium_at == 0 {
        c.error(
            key("medium_at"),
            "a threshold of 0 makes every sign-in medium risk",
            "use a score above 0; the default is 40",
        );
    }
    if t.high_at <= t.medium_at {
        c.error(
            key("high_at"),
            format!(
                "high_at ({}) must be above medium_at ({})",
                t.high_at, t.medium_at
            ),
            "the defaults are medium_at = 40, high_at = 70",
        );
    }
    if t.burst_failures == 0 {
        c.error(
            key("burst_failures"),
            "0 failures would make every sign-in a failure burst",
            "use 1 or more; the default is 10 (in 10 minutes, from one address)",
        );
    }
    if t.max_travel_kmh == 0 {
        c.error(
            key("max_travel_kmh"),
            "a speed of 0 km/h makes any travel impossible",
            "use a speed above 0; the default is 1000 (a passenger jet)",
        );
    }
}
