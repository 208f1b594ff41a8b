//! Applying the configuration file to the store: create or update what it declares,
//! delete what it no longer declares only when asked (`--prune`), and never touch records
//! the CLI or the API created (`Origin::Api`).
//!
//! Applying runs in two phases. The plan phase only reads: it resolves every declared id
//! (pinned in the file, adopted by name, or generated) and refuses the whole file if any
//! declaration would take over an API-owned record. Only then does the write phase put
//! records, so a refused file leaves the store untouched. Applying the same file twice
//! changes nothing the second time (records compare equal, `updated_at` stays).

use std::collections::HashSet;
use std::fmt;

use crate::core::admin::{AdminError, AdminService, RecordKind};
use crate::core::ids;
use crate::core::model::{
    AliasAttribute, AppClient, Group, OAuthFlow, Origin, ResourceServer, UserPool,
};
use crate::core::secrets::{
    client_secret_context, constant_time_eq, EncryptedSecret, MasterKey, SecretError,
};
use crate::core::storage::{Store, StoreError};
use crate::core::UnixTime;

use super::decl::{ClientDecl, PoolDecl};
use super::Config;

mod identity_pools;
mod idp;

/// What kind of record a report line or an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pool,
    Client,
    ResourceServer,
    Group,
    IdentityProvider,
    IdentityPool,
    Role,
    Domain,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Pool => "pool",
            Kind::Client => "client",
            Kind::ResourceServer => "resource server",
            Kind::Group => "group",
            Kind::IdentityProvider => "identity provider",
            Kind::IdentityPool => "identity pool",
            Kind::Role => "role",
            Kind::Domain => "domain",
        })
    }
}

/// What applying did to one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Unchanged,
    Deleted,
    /// Owned by the file but no longer declared, and not pruned.
    Kept,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Created => "created",
            Action::Updated => "updated",
            Action::Unchanged => "unchanged",
            Action::Deleted => "deleted",
            Action::Kept => "kept (not in the file; run with --prune to delete)",
        })
    }
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportItem {
    pub kind: Kind,
    pub action: Action,
    pub pool_id: String,
    /// Pool id, client id, resource-server identifier, group or identity provider name.
    pub id: String,
    pub name: String,
}

/// What [`apply`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyReport {
    /// Every record considered, in the order of the file (then undeclared ones).
    pub items: Vec<ReportItem>,
    /// Ids generated for declarations without one: (where, e.g. `pools[0] name "shop"`,
    /// the id). Pin them in the file so they stay stable.
    pub generated_ids: Vec<(String, String)>,
    /// The ids of every declared pool (so the caller can ensure their signing keys).
    pub pool_ids: Vec<String>,
}

impl ApplyReport {
    /// The items with this action.
    pub fn with(&self, action: Action) -> impl Iterator<Item = &ReportItem> {
        self.items.iter().filter(move |i| i.action == action)
    }

    pub fn count(&self, action: Action) -> usize {
        self.with(action).count()
    }

    /// Whether applying wrote or deleted anything.
    pub fn changed(&self) -> bool {
        self.items.iter().any(|i| {
            matches!(
                i.action,
                Action::Created | Action::Updated | Action::Deleted
            )
        })
    }

    fn push(&mut self, kind: Kind, action: Action, pool_id: &str, id: &str, name: &str) {
        self.items.push(ReportItem {
            kind,
            action,
            pool_id: pool_id.to_string(),
            id: id.to_string(),
            name: name.to_string(),
        });
    }
}

impl fmt::Display for ApplyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for item in &self.items {
            let top = matches!(item.kind, Kind::Pool | Kind::IdentityPool | Kind::Role);
            let indent = if top { "" } else { "  " };
            write!(f, "{indent}{} {}", item.kind, item.id)?;
            if item.name != item.id {
                write!(f, " ({})", item.name)?;
            }
            writeln!(f, ": {}", item.action)?;
        }
        if !self.generated_ids.is_empty() {
            writeln!(
                f,
                "generated ids (write them into the file as `id = \"...\"` so they stay stable):"
            )?;
            for (place, id) in &self.generated_ids {
                writeln!(f, "  {place}: id = \"{id}\"")?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(
        "{kind} {id} was created by the CLI/API; the config file cannot take it over \
         (declare another id, or delete it with the CLI first)"
    )]
    ApiOwned { kind: Kind, id: String },
    #[error(
        "domain {domain} is declared in pool {declared_pool} but belongs to pool \
         {stored_pool}; a domain belongs to one pool (remove it there and apply first)"
    )]
    DomainInOtherPool {
        domain: String,
        declared_pool: String,
        stored_pool: String,
    },
    #[error(
        "client {client_id} is declared in pool {declared_pool} but already belongs to pool \
         {stored_pool}; client ids are unique across pools (declare another id)"
    )]
    ClientInOtherPool {
        client_id: String,
        declared_pool: String,
        stored_pool: String,
    },
    #[error(
        "client {0} is public (generate_secret = false) but COGNATE_CLIENT_SECRET_{0} is set; \
         set generate_secret = true or unset the variable"
    )]
    SecretForPublicClient(String),
    #[error("the stored secret of client {0} cannot be opened: {1}")]
    Secret(String, SecretError),
    #[error(
        "identity provider {name} of pool {pool_id} has no credential: set the environment \
         variable {var}"
    )]
    MissingIdpCredential {
        pool_id: String,
        name: String,
        var: String,
    },
    #[error("the stored credential of identity provider {name} of pool {pool_id} cannot be opened: {source}")]
    IdpSecret {
        pool_id: String,
        name: String,
        source: SecretError,
    },
    #[error("identity provider {name} names an unknown preset {preset:?}")]
    UnknownPreset { name: String, preset: String },
    #[error(
        "identity provider {name} of pool {pool_id}: its metadata_url cannot be used and no \
         copy from that URL is stored yet: {reason}. Check that the URL serves the IdP's SAML \
         metadata (https, a public address or one in [server] idp_private_networks)"
    )]
    IdpMetadataUnavailable {
        pool_id: String,
        name: String,
        reason: String,
    },
    /// The core refused a record (the file passed `check-config`'s rules, so this is a
    /// record the file does not fully describe, such as a client naming a stored server's
    /// scope that was removed).
    #[error("{0}")]
    Admin(AdminError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
}

impl From<AdminError> for ApplyError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::Store(e) => ApplyError::Store(e),
            other => ApplyError::Admin(other),
        }
    }
}

/// A declared client with its resolved id.
struct ClientPlan<'a> {
    decl: &'a ClientDecl,
    id: String,
    existing: Option<AppClient>,
}

/// A declared pool with its resolved id and what the store holds for it.
struct PoolPlan<'a> {
    decl: &'a PoolDecl,
    id: String,
    existing: Option<UserPool>,
    clients: Vec<ClientPlan<'a>>,
    stored_clients: Vec<AppClient>,
    stored_servers: Vec<ResourceServer>,
    stored_groups: Vec<Group>,
}

/// Creates or updates every declared pool, client, resource server and group; deletes
/// undeclared file-owned records when `prune`, and reports them as kept otherwise.
pub async fn apply(
    config: &Config,
    store: &dyn Store,
    master: &MasterKey,
    prune: bool,
    now: UnixTime,
) -> Result<ApplyReport, ApplyError> {
    let mut report = ApplyReport::default();
    let stored_pools = store.list_pools().await?;
    let mut plans = plan(config, store, &stored_pools, &mut report).await?;
    // Every write goes through the core's administration service, which checks Cognito's
    // rules on the record (the same rules `check-config` ran on the file).
    let admin = AdminService::new(store);

    for plan in &mut plans {
        let decl = plan.decl;
        // The pool keeps what the API added to it (its own identity providers): when
        // another writer changed it since it was read, read it again and rebuild.
        let mut attempt = 0;
        let (action, provider_actions) = loop {
            let (providers, provider_actions) = idp::resolve(master, plan, prune, now)?;
            let pool =
                decl.to_record_with_providers(&plan.id, providers, now, plan.existing.as_ref());
            if let Some(action) = write_pool(&admin, plan.existing.as_ref(), &pool).await? {
                break (action, provider_actions);
            }
            attempt += 1;
            if attempt >= POOL_WRITE_ATTEMPTS {
                return Err(ApplyError::Admin(AdminError::Concurrent {
                    kind: RecordKind::Pool,
                    id: plan.id.clone(),
                }));
            }
            plan.existing = store.get_pool(&plan.id).await?;
        };
        report.push(Kind::Pool, action, &plan.id, &plan.id, &decl.name);
        report.pool_ids.push(plan.id.clone());
        for (action, name) in provider_actions {
            report.push(Kind::IdentityProvider, action, &plan.id, &name, &name);
        }

        // Resource servers before clients, whose scopes the core checks against the stored
        // servers; the report keeps the file's order (clients first).
        let mut server_items = Vec::new();
        for rs_decl in &decl.resource_servers {
            let existing = plan
                .stored_servers
                .iter()
                .find(|s| s.identifier == rs_decl.identifier);
            let server = rs_decl.to_record(&plan.id);
            let action =
                put_if_changed(existing, &server, || admin.put_resource_server(&server)).await?;
            server_items.push((action, server.identifier, server.name));
        }
        for client_plan in &plan.clients {
            let secret = client_secret(master, client_plan)?;
            let existing = client_plan.existing.as_ref();
            let client =
                client_plan
                    .decl
                    .to_record(&client_plan.id, &plan.id, secret, now, existing);
            let action = put_if_changed(existing, &client, || admin.put_client(&client)).await?;
            report.push(Kind::Client, action, &plan.id, &client.id, &client.name);
        }
        for (action, identifier, name) in server_items {
            report.push(Kind::ResourceServer, action, &plan.id, &identifier, &name);
        }
        for group_decl in &decl.groups {
            let existing = plan
                .stored_groups
                .iter()
                .find(|g| g.name == group_decl.name);
            let group = group_decl.to_record(&plan.id, now, existing);
            let action = put_if_changed(existing, &group, || admin.put_group(&group)).await?;
            report.push(Kind::Group, action, &plan.id, &group.name, &group.name);
        }

        apply_domains(store, &admin, plan, prune, now, &mut report).await?;

        // File-owned children the file no longer declares.
        let declared_clients: HashSet<&str> = plan.clients.iter().map(|c| c.id.as_str()).collect();
        for client in &plan.stored_clients {
            if client.origin == Origin::Config && !declared_clients.contains(client.id.as_str()) {
                if prune {
                    admin.delete_client(&client.id).await?;
                }
                report.push(
                    Kind::Client,
                    undeclared(prune),
                    &plan.id,
                    &client.id,
                    &client.name,
                );
            }
        }
        for server in &plan.stored_servers {
            let declared = decl
                .resource_servers
                .iter()
                .any(|d| d.identifier == server.identifier);
            if server.origin == Origin::Config && !declared {
                if prune {
                    admin
                        .delete_resource_server(&plan.id, &server.identifier)
                        .await?;
                }
                report.push(
                    Kind::ResourceServer,
                    undeclared(prune),
                    &plan.id,
                    &server.identifier,
                    &server.name,
                );
            }
        }
        for group in &plan.stored_groups {
            let declared = decl.groups.iter().any(|d| d.name == group.name);
            if group.origin == Origin::Config && !declared {
                if prune {
                    admin.delete_group(&plan.id, &group.name).await?;
                }
                report.push(
                    Kind::Group,
                    undeclared(prune),
                    &plan.id,
                    &group.name,
                    &group.name,
                );
            }
        }
    }

    // Roles and identity pools, after the user pools and clients they name.
    let declared: Vec<identity_pools::DeclaredPool> = plans
        .iter()
        .map(|p| identity_pools::DeclaredPool {
            name: p.decl.name.clone(),
            id: p.id.clone(),
            clients: p
                .clients
                .iter()
                .map(|c| (c.decl.name.clone(), c.id.clone()))
                .collect(),
        })
        .collect();
    identity_pools::apply(config, store, &declared, prune, now, &mut report).await?;

    let declared_pools: HashSet<&str> = plans.iter().map(|p| p.id.as_str()).collect();
    for pool in &stored_pools {
        if pool.origin == Origin::Config && !declared_pools.contains(pool.id.as_str()) {
            if prune {
                // Deletion protection holds against the file too: a protected pool is
                // turned unprotected in the file (and applied) before it can be dropped.
                admin.delete_pool_by(&pool.id, Origin::Config).await?;
            }
            report.push(
                Kind::Pool,
                undeclared(prune),
                &pool.id,
                &pool.id,
                &pool.name,
            );
        }
    }
    Ok(report)
}

/// The pool's `domain` and `custom_domain` (issue 15): created, updated or, when the file
/// names another domain of the same kind or with `prune`, deleted. Domains the API made are
/// never touched (a declared name the API holds was refused by `plan`).
async fn apply_domains(
    store: &dyn Store,
    admin: &AdminService<&dyn Store>,
    plan: &PoolPlan<'_>,
    prune: bool,
    now: UnixTime,
    report: &mut ApplyReport,
) -> Result<(), ApplyError> {
    let declared = plan.decl.domain_records(&plan.id, now);
    let stored = store.list_domains(&plan.id).await?;
    for old in stored.iter().filter(|d| d.origin == Origin::Config) {
        if declared.iter().any(|d| d.domain == old.domain) {
            continue;
        }
        // A renamed domain frees its kind's slot for the new name.
        let replaced = declared.iter().any(|d| d.kind() == old.kind());
        if prune || replaced {
            admin
                .delete_domain_by(&plan.id, &old.domain, Origin::Config)
                .await?;
        }
        let action = if replaced {
            Action::Deleted
        } else {
            undeclared(prune)
        };
        report.push(Kind::Domain, action, &plan.id, &old.domain, &old.domain);
    }
    for domain in &declared {
        let action = match stored.iter().find(|s| s.domain == domain.domain) {
            None => {
                admin.create_domain(domain).await?;
                Action::Created
            }
            Some(s)
                if s.certificate_arn != domain.certificate_arn
                    || s.managed_login_version != domain.managed_login_version =>
            {
                admin.update_domain(domain, Origin::Config).await?;
                Action::Updated
            }
            Some(_) => Action::Unchanged,
        };
        report.push(
            Kind::Domain,
            action,
            &plan.id,
            &domain.domain,
            &domain.domain,
        );
    }
    Ok(())
}

fn undeclared(prune: bool) -> Action {
    if prune {
        Action::Deleted
    } else {
        Action::Kept
    }
}

/// The read-only phase: resolves every id and refuses API-owned records before anything
/// is written.
async fn plan<'a>(
    config: &'a Config,
    store: &dyn Store,
    stored_pools: &[UserPool],
    report: &mut ApplyReport,
) -> Result<Vec<PoolPlan<'a>>, ApplyError> {
    let pinned_pools: HashSet<&str> = config
        .pools
        .iter()
        .filter_map(|p| p.id.as_deref())
        .collect();
    let mut plans: Vec<PoolPlan<'a>> = Vec::new();
    for (i, decl) in config.pools.iter().enumerate() {
        let adopted = |p: &&UserPool| {
            p.origin == Origin::Config
                && p.name == decl.name
                && !pinned_pools.contains(p.id.as_str())
                && !plans.iter().any(|plan| plan.id == p.id)
        };
        let (id, existing) = match &decl.id {
            Some(id) => (
                id.clone(),
                stored_pools.iter().find(|p| &p.id == id).cloned(),
            ),
            None => match stored_pools.iter().find(adopted) {
                Some(p) => (p.id.clone(), Some(p.clone())),
                None => {
                    // Claim the id through the store, so nodes applying the same file at
                    // once converge on one pool instead of creating one each.
                    let candidate = ids::new_pool_id(&config.server.region);
                    let key = format!("config:pool:{}", decl.name);
                    let claimed = store.put_meta_if_absent(&key, &candidate).await?;
                    let found = store.get_pool(&claimed).await?;
                    let usable = claimed == candidate
                        || (!pinned_pools.contains(claimed.as_str())
                            && !plans.iter().any(|plan| plan.id == claimed)
                            && found
                                .as_ref()
                                .is_none_or(|p| p.origin == Origin::Config && p.name == decl.name));
                    let (id, existing) = if usable {
                        (claimed, found)
                    } else {
                        (candidate, None)
                    };
                    report
                        .generated_ids
                        .push((format!("pools[{i}] name {:?}", decl.name), id.clone()));
                    (id, existing)
                }
            },
        };
        if existing.as_ref().is_some_and(|p| p.origin == Origin::Api) {
            return Err(ApplyError::ApiOwned {
                kind: Kind::Pool,
                id,
            });
        }
        let (stored_clients, stored_servers, stored_groups) = if existing.is_some() {
            (
                store.list_clients(&id).await?,
                store.list_resource_servers(&id).await?,
                store.list_groups(&id).await?,
            )
        } else {
            Default::default()
        };
        let clients = plan_clients(store, i, decl, &id, &stored_clients, report).await?;
        for rs in &decl.resource_servers {
            if let Some(s) = stored_servers
                .iter()
                .find(|s| s.identifier == rs.identifier)
            {
                if s.origin == Origin::Api {
                    return Err(ApplyError::ApiOwned {
                        kind: Kind::ResourceServer,
                        id: format!("{} in pool {id}", s.identifier),
                    });
                }
            }
        }
        for group in &decl.groups {
            if let Some(g) = stored_groups.iter().find(|g| g.name == group.name) {
                if g.origin == Origin::Api {
                    return Err(ApplyError::ApiOwned {
                        kind: Kind::Group,
                        id: format!("{} in pool {id}", g.name),
                    });
                }
            }
        }
        let pool_domains = store.list_domains(&id).await?;
        for declared in decl.domain_records(&id, 0) {
            if let Some(d) = store.get_domain(&declared.domain).await? {
                if d.origin == Origin::Api {
                    return Err(ApplyError::ApiOwned {
                        kind: Kind::Domain,
                        id: format!("{} of pool {}", d.domain, d.pool_id),
                    });
                }
                if d.pool_id != id {
                    return Err(ApplyError::DomainInOtherPool {
                        domain: d.domain,
                        declared_pool: id.clone(),
                        stored_pool: d.pool_id,
                    });
                }
            }
            // A pool has one prefix and one custom domain: an API-made one of the same kind
            // holds the place (found now, before anything is written).
            let custom = declared.certificate_arn.is_some();
            if let Some(d) = pool_domains.iter().find(|d| {
                d.origin == Origin::Api
                    && d.certificate_arn.is_some() == custom
                    && d.domain != declared.domain
            }) {
                return Err(ApplyError::ApiOwned {
                    kind: Kind::Domain,
                    id: format!(
                        "{} of pool {id} (the pool's {} domain)",
                        d.domain,
                        if custom { "custom" } else { "prefix" }
                    ),
                });
            }
        }
        idp::check_declared(decl, &id, existing.as_ref())?;
        plans.push(PoolPlan {
            decl,
            id,
            existing,
            clients,
            stored_clients,
            stored_servers,
            stored_groups,
        });
    }
    Ok(plans)
}

async fn plan_clients<'a>(
    store: &dyn Store,
    pool_index: usize,
    pool: &'a PoolDecl,
    pool_id: &str,
    stored_clients: &[AppClient],
    report: &mut ApplyReport,
) -> Result<Vec<ClientPlan<'a>>, ApplyError> {
    let pinned: HashSet<&str> = pool
        .clients
        .iter()
        .filter_map(|c| c.id.as_deref())
        .collect();
    let mut plans: Vec<ClientPlan<'a>> = Vec::new();
    for (j, decl) in pool.clients.iter().enumerate() {
        let (id, existing) = match &decl.id {
            Some(id) => (id.clone(), store.get_client(id).await?),
            None => {
                let adopted = stored_clients.iter().find(|c| {
                    c.origin == Origin::Config
                        && c.name == decl.name
                        && !pinned.contains(c.id.as_str())
                        && !plans.iter().any(|p| p.id == c.id)
                });
                match adopted {
                    Some(c) => (c.id.clone(), Some(c.clone())),
                    None => {
                        // Claimed through the store, as pool ids are (see `plan`).
                        let candidate = ids::new_client_id();
                        let key = format!("config:client:{pool_id}:{}", decl.name);
                        let claimed = store.put_meta_if_absent(&key, &candidate).await?;
                        let found = store.get_client(&claimed).await?;
                        let usable = claimed == candidate
                            || (!pinned.contains(claimed.as_str())
                                && !plans.iter().any(|p| p.id == claimed)
                                && found.as_ref().is_none_or(|c| {
                                    c.origin == Origin::Config
                                        && c.name == decl.name
                                        && c.pool_id == pool_id
                                }));
                        let (id, existing) = if usable {
                            (claimed, found)
                        } else {
                            (candidate, None)
                        };
                        report.generated_ids.push((
                            format!("pools[{pool_index}].clients[{j}] name {:?}", decl.name),
                            id.clone(),
                        ));
                        (id, existing)
                    }
                }
            }
        };
        if let Some(stored) = &existing {
            if stored.pool_id != pool_id {
                return Err(ApplyError::ClientInOtherPool {
                    client_id: id,
                    declared_pool: pool_id.to_string(),
                    stored_pool: stored.pool_id.clone(),
                });
            }
            if stored.origin == Origin::Api {
                return Err(ApplyError::ApiOwned {
                    kind: Kind::Client,
                    id,
                });
            }
        }
        if decl.secret.is_some() && !decl.generate_secret {
            return Err(ApplyError::SecretForPublicClient(id));
        }
        plans.push(ClientPlan { decl, id, existing });
    }
    Ok(plans)
}

/// The sealed secret to store for a client: none for a public client; the environment's
/// secret when given (re-sealed only if it differs from the stored one); else the stored
/// secret, kept across applies; else a freshly generated one.
fn client_secret(
    master: &MasterKey,
    plan: &ClientPlan<'_>,
) -> Result<Option<EncryptedSecret>, ApplyError> {
    if !plan.decl.generate_secret {
        return Ok(None);
    }
    let context = client_secret_context(&plan.id);
    let stored = plan.existing.as_ref().and_then(|c| c.secret.clone());
    Ok(Some(match (&plan.decl.secret, stored) {
        (Some(wanted), Some(sealed)) => {
            let current = master
                .open_string(&context, &sealed)
                .map_err(|e| ApplyError::Secret(plan.id.clone(), e))?;
            if constant_time_eq(current.expose().as_bytes(), wanted.expose().as_bytes()) {
                sealed
            } else {
                master.seal(&context, wanted.expose().as_bytes())
            }
        }
        (Some(wanted), None) => master.seal(&context, wanted.expose().as_bytes()),
        (None, Some(sealed)) => sealed,
        (None, None) => master.seal(&context, ids::new_client_secret().as_bytes()),
    }))
}

/// Writes `record` (through the administration service) unless it equals what is stored.
async fn put_if_changed<T, F, Fut>(
    existing: Option<&T>,
    record: &T,
    put: F,
) -> Result<Action, ApplyError>
where
    T: PartialEq,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<(), AdminError>>,
{
    match existing {
        Some(e) if e == record => Ok(Action::Unchanged),
        Some(_) => {
            put().await?;
            Ok(Action::Updated)
        }
        None => {
            put().await?;
            Ok(Action::Created)
        }
    }
}

/// How many times a pool write re-reads the pool after losing to another writer.
const POOL_WRITE_ATTEMPTS: u32 = 16;

/// Writes a pool built from `existing` (the stored record it was read as): created when
/// there was none, else replaced by a compare-and-swap against `existing`'s version
/// ([`AdminService::replace_pool`]). `None` when the stored pool changed (or went) since
/// it was read: the caller reads it again and rebuilds, so the file never overwrites what
/// another writer (the API on any node) did meanwhile.
async fn write_pool(
    admin: &AdminService<&dyn Store>,
    existing: Option<&UserPool>,
    pool: &UserPool,
) -> Result<Option<Action>, ApplyError> {
    match existing {
        Some(e) if e == pool => Ok(Some(Action::Unchanged)),
        Some(_) => match admin.replace_pool(pool).await {
            Ok(_) => Ok(Some(Action::Updated)),
            Err(AdminError::Store(StoreError::VersionMismatch | StoreError::NotFound)) => Ok(None),
            Err(e) => Err(e.into()),
        },
        None => {
            admin.put_pool(pool).await?;
            Ok(Some(Action::Created))
        }
    }
}

/// The demo pool created when Cognate starts without a configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPool {
    pub pool_id: String,
    pub client_id: String,
    /// Whether this call chose the ids (the first start); `false` when another start (or
    /// another node) did.
    pub created: bool,
}

pub const DEMO_POOL_NAME: &str = "Cognate demo pool";
pub const DEMO_CLIENT_NAME: &str = "Cognate demo app";
pub const DEMO_POOL_META: &str = "demo_pool_id";
pub const DEMO_CLIENT_META: &str = "demo_client_id";

/// Makes sure the demo pool and its public app client exist. The ids are chosen once,
/// through `put_meta_if_absent`, so nodes starting at once converge on one pool; the client
/// follows `public_url` if it changes between starts.
pub async fn ensure_demo_pool(
    store: &dyn Store,
    public_url: &str,
    region: &str,
    now: UnixTime,
) -> Result<DemoPool, ApplyError> {
    let candidate = ids::new_pool_id(region);
    let pool_id = store.put_meta_if_absent(DEMO_POOL_META, &candidate).await?;
    let created = pool_id == candidate;
    let client_id = store
        .put_meta_if_absent(DEMO_CLIENT_META, &ids::new_client_id())
        .await?;

    let pool_decl = PoolDecl {
        id: Some(pool_id.clone()),
        name: DEMO_POOL_NAME.to_string(),
        username_attributes: vec![AliasAttribute::Email],
        auto_verified_attributes: vec![AliasAttribute::Email],
        required_attributes: vec!["email".to_string()],
        ..PoolDecl::default()
    };
    let admin = AdminService::new(store);
    let mut written = None;
    for _ in 0..POOL_WRITE_ATTEMPTS {
        let existing = store.get_pool(&pool_id).await?;
        let pool = pool_decl.to_record(&pool_id, now, existing.as_ref());
        written = write_pool(&admin, existing.as_ref(), &pool).await?;
        if written.is_some() {
            break;
        }
    }
    if written.is_none() {
        return Err(ApplyError::Admin(AdminError::Concurrent {
            kind: RecordKind::Pool,
            id: pool_id,
        }));
    }

    let base = public_url.trim_end_matches('/');
    let client_decl = ClientDecl {
        id: Some(client_id.clone()),
        name: DEMO_CLIENT_NAME.to_string(),
        callback_urls: vec![format!("{base}/demo/callback")],
        logout_urls: vec![format!("{base}/demo")],
        allowed_oauth_flows: vec![OAuthFlow::Code],
        allowed_oauth_scopes: [
            "openid",
            "email",
            "profile",
            "phone",
            "aws.cognito.signin.user.admin",
        ]
        .map(String::from)
        .to_vec(),
        require_pkce: Some(true),
        ..ClientDecl::default()
    };
    let existing = store.get_client(&client_id).await?;
    let client = client_decl.to_record(&client_id, &pool_id, None, now, existing.as_ref());
    // The demo app's pages are the node's own (`<public URL>/demo`), reached as the issuer
    // is, so they stay allowed when the node listens on plain http beyond loopback.
    put_if_changed(existing.as_ref(), &client, || {
        admin.put_builtin_client(&client, base)
    })
    .await?;

    Ok(DemoPool {
        pool_id,
        client_id,
        created,
    })
}

#[cfg(test)]
mod tests;
