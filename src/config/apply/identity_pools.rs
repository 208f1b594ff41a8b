//! Applying `[[roles]]` and `[[identity_pools]]`: identity pool ids are resolved first
//! (given, adopted by name from a file-owned pool, or generated and printed), then roles
//! are written (their trust names those ids), then identity pools (which the core checks
//! against the stored roles, pools and clients). Undeclared file-owned records are
//! deleted with `--prune` and reported as kept otherwise; Api-origin records are never
//! touched, and one whose id the file declares is refused ([`ApplyError::ApiOwned`]).

use std::collections::HashMap;

use super::{put_if_changed, undeclared, ApplyError, ApplyReport, Kind};
use crate::config::Config;
use crate::core::admin::AdminService;
use crate::core::model::{new_identity_id, IdentityPool, Origin, PageRequest};
use crate::core::storage::Store;
use crate::core::UnixTime;

/// A declared user pool's resolved id, by name, with its clients' (name, id).
pub(super) struct DeclaredPool {
    pub name: String,
    pub id: String,
    pub clients: Vec<(String, String)>,
}

async fn all_identity_pools(store: &dyn Store) -> Result<Vec<IdentityPool>, ApplyError> {
    let mut all = Vec::new();
    let mut page = PageRequest {
        limit: 60,
        after: None,
    };
    loop {
        let got = store.list_identity_pools(&page).await?;
        all.extend(got.items);
        match got.next {
            Some(next) => page.after = Some(next),
            None => return Ok(all),
        }
    }
}

pub(super) async fn apply(
    config: &Config,
    store: &dyn Store,
    pools: &[DeclaredPool],
    prune: bool,
    now: UnixTime,
    report: &mut ApplyReport,
) -> Result<(), ApplyError> {
    let admin = AdminService::new(store);
    let stored = all_identity_pools(store).await?;

    // 1. Each declared identity pool's id.
    let mut ids = Vec::with_capacity(config.identity_pools.len());
    for (i, decl) in config.identity_pools.iter().enumerate() {
        let id = match &decl.id {
            Some(id) => id.clone(),
            None => match stored
                .iter()
                .find(|p| p.origin == Origin::Config && p.name == decl.name)
            {
                Some(p) => p.id.clone(),
                None => {
                    let id = new_identity_id(&config.server.region);
                    report.generated_ids.push((
                        format!("identity_pools[{i}] name {:?}", decl.name),
                        id.clone(),
                    ));
                    id
                }
            },
        };
        if stored.iter().any(|p| p.id == id && p.origin == Origin::Api) {
            return Err(ApplyError::ApiOwned {
                kind: Kind::IdentityPool,
                id,
            });
        }
        ids.push(id);
    }
    let by_name: HashMap<&str, &str> = config
        .identity_pools
        .iter()
        .zip(&ids)
        .map(|(d, id)| (d.name.as_str(), id.as_str()))
        .collect();

    // 2. Roles, whose trust names those ids.
    let stored_roles = store.list_roles().await?;
    for decl in &config.roles {
        let existing = stored_roles.iter().find(|r| r.arn == decl.arn);
        if existing.is_some_and(|r| r.origin == Origin::Api) {
            return Err(ApplyError::ApiOwned {
                kind: Kind::Role,
                id: decl.arn.clone(),
            });
        }
        let trusted = decl
            .trust
            .identity_pools
            .iter()
            .map(|r| {
                by_name
                    .get(r.as_str())
                    .map_or_else(|| r.clone(), |id| id.to_string())
            })
            .collect();
        let role = decl.to_record(trusted, now, existing);
        let action = put_if_changed(existing, &role, || admin.put_role(&role)).await?;
        report.push(Kind::Role, action, "", &role.arn, &role.arn);
    }

    // 3. Identity pools.
    let pool_of = |r: &str| -> String {
        pools
            .iter()
            .find(|p| p.name == r)
            .map_or_else(|| r.to_string(), |p| p.id.clone())
    };
    let client_of = |pool_id: &str, r: &str| -> String {
        pools
            .iter()
            .filter(|p| p.id == pool_id)
            .flat_map(|p| &p.clients)
            .find(|(name, _)| name == r)
            .map_or_else(|| r.to_string(), |(_, id)| id.clone())
    };
    for (decl, id) in config.identity_pools.iter().zip(&ids) {
        let existing = stored.iter().find(|p| &p.id == id);
        let pool = decl.to_record(id, &pool_of, &client_of, now, existing);
        let action = put_if_changed(existing, &pool, || admin.put_identity_pool(&pool)).await?;
        report.push(Kind::IdentityPool, action, id, id, &decl.name);
    }

    // 4. File-owned records the file no longer declares.
    for pool in &stored {
        if pool.origin == Origin::Config && !ids.contains(&pool.id) {
            if prune {
                admin.delete_identity_pool(&pool.id, Origin::Config).await?;
            }
            report.push(
                Kind::IdentityPool,
                undeclared(prune),
                &pool.id,
                &pool.id,
                &pool.name,
            );
        }
    }
    for role in &stored_roles {
        if role.origin == Origin::Config && !config.roles.iter().any(|d| d.arn == role.arn) {
            if prune {
                admin.delete_role(&role.arn, Origin::Config).await?;
            }
            report.push(Kind::Role, undeclared(prune), "", &role.arn, &role.arn);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
