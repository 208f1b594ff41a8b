//! `check-config`'s rules on `[[roles]]` and `[[identity_pools]]`: the core's record rules
//! ([`admin::validate_role`], [`admin::validate_identity_pool`]) run on records built from
//! the file and mapped back to its keys, plus what only the file can get wrong: a policy
//! given twice or not at all, references to pools, clients, identity pools and roles that
//! the file does not declare (an id is taken as is: it may name a record made by the CLI),
//! duplicate names, and guest access without a guest role.

use std::collections::HashMap;
use std::path::Path;

use super::super::Checker;
use crate::config::decl::IdentityPoolDecl;
use crate::config::Config;
use crate::core::admin::{self, FieldError};
use crate::core::ids;
use crate::core::model::is_identity_id;

/// The identity pool id a declaration without one is checked under.
const CHECKED_ID: &str = "us-east-1:00000000-0000-4000-8000-000000000000";

/// Reads each role's `policy_file` (relative to `base`) into `policy`.
pub(in crate::config::check) fn load_policy_files(
    c: &mut Checker<'_>,
    config: &mut Config,
    base: Option<&Path>,
) {
    for (i, role) in config.roles.iter_mut().enumerate() {
        let at = format!("roles[{i}]");
        match (&role.policy, &role.policy_file) {
            (Some(_), Some(_)) => c.error(
                format!("{at}.policy_file"),
                "a role takes its policy from policy or policy_file, not both",
                "remove one of them",
            ),
            (None, None) => c.error(
                format!("{at}.arn"),
                "the role has no policy",
                "add policy = '''{\"Version\": \"2012-10-17\", \"Statement\": [...]}''' or \
                 policy_file = \"policies/<name>.json\"",
            ),
            (None, Some(file)) => {
                let path = base.map_or_else(|| Path::new(file).to_path_buf(), |b| b.join(file));
                match std::fs::read_to_string(&path) {
                    Ok(text) => role.policy = Some(text),
                    Err(e) => c.error(
                        format!("{at}.policy_file"),
                        format!("cannot read {}: {e}", path.display()),
                        "the path is relative to the configuration file's directory",
                    ),
                }
            }
            (Some(_), None) => {}
        }
    }
}

/// The rules of the module docs.
pub(in crate::config::check) fn check(c: &mut Checker<'_>, config: &Config) {
    let pool_names: Vec<&str> = config.pools.iter().map(|p| p.name.as_str()).collect();
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (i, role) in config.roles.iter().enumerate() {
        let at = format!("roles[{i}]");
        let trusted: Vec<String> = role
            .trust
            .identity_pools
            .iter()
            .map(|r| identity_pool_ref(config, r).unwrap_or_else(|| r.clone()))
            .collect();
        let record = role.to_record(trusted, 0, None);
        for e in admin::validate_role(&record) {
            // The file names identity pools by id or name: a name it declares is no error.
            if e.path.starts_with("trust.identity_pools[") {
                let reference = e
                    .path
                    .trim_start_matches("trust.identity_pools[")
                    .trim_end_matches(']')
                    .parse::<usize>()
                    .ok()
                    .and_then(|j| role.trust.identity_pools.get(j));
                if let Some(r) = reference.filter(|_| e.rule == admin::Rule::IdFormat) {
                    c.error(
                        format!("{at}.{}", e.path),
                        format!("{r:?} is neither an identity pool id nor the name of an [[identity_pools]] in this file"),
                        "write the identity pool's id or its name",
                    );
                    continue;
                }
            }
            if e.path == "policy" && role.policy.is_none() {
                continue; // reported by load_policy_files
            }
            let path = if e.path == "policy" && role.policy_file.is_some() {
                "policy_file".to_string()
            } else {
                e.path.clone()
            };
            report_one(c, &at, &path, &e);
        }
        if config.roles[..i].iter().any(|r| r.arn == role.arn) {
            c.error(
                format!("{at}.arn"),
                format!("role {} is declared twice", role.arn),
                "declare each role once",
            );
        }
    }
    for (i, pool) in config.identity_pools.iter().enumerate() {
        let at = format!("identity_pools[{i}]");
        if let Some(first) = names.insert(&pool.name, i) {
            c.error(
                format!("{at}.name"),
                format!(
                    "identity pool name {:?} is also used by identity_pools[{first}]",
                    pool.name
                ),
                "give each identity pool its own name (one without an id is found by its name)",
            );
        }
        if pool.allow_unauthenticated && pool.unauthenticated_role.is_none() {
            c.error(
                format!("{at}.allow_unauthenticated"),
                "guest access needs an unauthenticated role",
                "add unauthenticated_role = \"<a role's arn>\", or set allow_unauthenticated = false",
            );
        }
        for (field, arn) in [
            ("authenticated_role", &pool.authenticated_role),
            ("unauthenticated_role", &pool.unauthenticated_role),
        ] {
            if let Some(arn) = arn {
                check_role_ref(c, config, &format!("{at}.{field}"), arn);
            }
        }
        for (key, mapping) in &pool.role_mappings {
            for (j, rule) in mapping.rules.iter().enumerate() {
                check_role_ref(
                    c,
                    config,
                    &format!("{at}.role_mappings.{key}.rules[{j}].role"),
                    &rule.role,
                );
            }
        }
        for (j, up) in pool.user_pools.iter().enumerate() {
            let declared = config
                .pools
                .iter()
                .find(|p| p.name == up.pool || p.id.as_deref() == Some(up.pool.as_str()));
            match declared {
                Some(p) => {
                    let has = p.clients.iter().any(|cl| {
                        cl.name == up.client || cl.id.as_deref() == Some(up.client.as_str())
                    });
                    if !has && !ids::is_valid_client_id(&up.client) {
                        c.error(
                            format!("{at}.user_pools[{j}].client"),
                            format!("pool {:?} declares no client {:?}", p.name, up.client),
                            "name one of the pool's [[pools.clients]] by name or id",
                        );
                    }
                }
                None if !ids::is_valid_pool_id(&up.pool) => c.error(
                    format!("{at}.user_pools[{j}].pool"),
                    format!(
                        "{:?} is neither a pool id nor the name of a [[pools]] in this file",
                        up.pool
                    ),
                    match closest_name(&up.pool, &pool_names) {
                        Some(name) => format!("did you mean {name:?}?"),
                        None => "write the pool's id or its name".to_string(),
                    },
                ),
                None => {}
            }
        }
        let record = checked_record(config, pool);
        for e in admin::validate_identity_pool(&record) {
            // A reference that is neither a declared name nor an id is reported above.
            let reference = e.path.ends_with(".pool_id") || e.path.ends_with(".client_id");
            if reference && e.rule == admin::Rule::IdFormat {
                continue;
            }
            let path = toml_path(pool, &e.path);
            report_one(c, &at, &path, &e);
        }
    }
}

/// A role reference must be a declared role (roles are file records).
fn check_role_ref(c: &mut Checker<'_>, config: &Config, path: &str, arn: &str) {
    if !config.roles.iter().any(|r| r.arn == arn) {
        c.error(
            path,
            format!("no [[roles]] with arn {arn:?} is declared"),
            "declare the role under [[roles]] (roles live in the configuration file)",
        );
    }
}

/// The id of the identity pool a reference names: a declared name, else the reference
/// itself when it is an id.
pub(crate) fn identity_pool_ref(config: &Config, reference: &str) -> Option<String> {
    if let Some(p) = config.identity_pools.iter().find(|p| p.name == reference) {
        return Some(p.id.clone().unwrap_or_else(|| CHECKED_ID.to_string()));
    }
    is_identity_id(reference).then(|| reference.to_string())
}

/// The record a declaration stands for, with references resolved as far as the file
/// allows (names of declared pools and clients to their ids or placeholders).
fn checked_record(config: &Config, pool: &IdentityPoolDecl) -> crate::core::model::IdentityPool {
    let pool_of = |r: &str| -> String {
        match config.pools.iter().find(|p| p.name == r) {
            Some(p) => {
                p.id.clone()
                    .unwrap_or_else(|| "us-east-1_Checked".to_string())
            }
            None => r.to_string(),
        }
    };
    let client_of = |_: &str, r: &str| -> String {
        let declared = config
            .pools
            .iter()
            .flat_map(|p| &p.clients)
            .find(|c| c.name == r);
        match declared {
            Some(c) => c.id.clone().unwrap_or_else(|| "checkedclient".to_string()),
            None => r.to_string(),
        }
    };
    let id = pool.id.as_deref().unwrap_or(CHECKED_ID);
    pool.to_record(id, &pool_of, &client_of, 0, None)
}

/// The file's key for a model path of an identity pool.
fn toml_path(pool: &IdentityPoolDecl, model: &str) -> String {
    let mapped = model
        .replace("roles.authenticated", "authenticated_role")
        .replace("roles.unauthenticated", "unauthenticated_role")
        .replace(".pool_id", ".pool")
        .replace(".client_id", ".client")
        .replace(".role_arn", ".role");
    // Mapping keys are pool ids in the record, the file's own key in the file.
    if let Some(rest) = mapped.strip_prefix("role_mappings.") {
        for key in pool.role_mappings.keys() {
            if rest.starts_with(key.as_str()) {
                return mapped;
            }
        }
        if let Some(key) = pool.role_mappings.keys().next() {
            if pool.role_mappings.len() == 1 {
                let tail = rest.find('.').map_or("", |n| &rest[n..]);
                return format!("role_mappings.{key}{tail}");
            }
        }
    }
    mapped
}

fn report_one(c: &mut Checker<'_>, at: &str, path: &str, e: &FieldError) {
    c.error(
        format!("{at}.{path}"),
        e.message.clone(),
        e.fix.clone().unwrap_or_default(),
    );
}

fn closest_name<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    names.iter().find(|n| n.eq_ignore_ascii_case(word)).copied()
}

#[cfg(test)]
pub(crate) mod tests;
