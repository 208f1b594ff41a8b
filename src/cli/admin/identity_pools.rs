//! `cognate identity-pools list|show` and `cognate roles list|show`: read-only views of the
//! identity pools and the roles they hand out. Both are written by `cognate apply` (roles
//! live only in the configuration file) and, for identity pools, by the identity API;
//! the CLI shows them, with each record's origin so an operator knows where to change it.

use clap::Subcommand;
use serde_json::json;

use super::{admin, pretty, print_table};
use crate::cli::{CliError, CliResult};
use crate::core::admin::AdminError;
use crate::core::model::{IdentityPool, Origin, Role};
use crate::server::Node;

#[derive(Debug, Subcommand)]
pub enum IdentityPoolsCmd {
    /// List the identity pools.
    List,
    /// Print an identity pool: settings, user pools, roles, role mappings, identity count.
    Show {
        /// The identity pool id (`<region>:<uuid>`).
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RolesCmd {
    /// List the roles.
    List,
    /// Print a role: trust, session length and policy document.
    Show {
        /// The role's ARN.
        arn: String,
    },
}

fn origin_name(origin: Origin) -> &'static str {
    match origin {
        Origin::Config => "config file",
        Origin::Api => "api",
    }
}

fn not_found(e: AdminError) -> CliError {
    CliError(e.to_string())
}

/// An identity pool as `show` prints it.
pub fn describe_identity_pool(pool: &IdentityPool, identities: u64) -> serde_json::Value {
    json!({
        "IdentityPoolId": pool.id,
        "IdentityPoolName": pool.name,
        "AllowUnauthenticatedIdentities": pool.allow_unauthenticated,
        "AllowClassicFlow": pool.allow_classic_flow,
        "CognitoIdentityProviders": pool.user_pools.iter().map(|up| json!({
            "UserPoolId": up.pool_id,
            "ClientId": up.client_id,
            "ServerSideTokenCheck": up.server_side_token_check,
        })).collect::<Vec<_>>(),
        "DeveloperProviderName": pool.developer_provider_name,
        "Roles": pool.roles,
        "RoleMappings": pool.role_mappings,
        "IdentityPoolTags": pool.tags,
        "Origin": origin_name(pool.origin),
        "Identities": identities,
    })
}

/// A role as `show` prints it (the policy as JSON when it parses, else as text).
pub fn describe_role(role: &Role) -> serde_json::Value {
    let policy = serde_json::from_str::<serde_json::Value>(&role.policy)
        .unwrap_or_else(|_| serde_json::Value::String(role.policy.clone()));
    json!({
        "Arn": role.arn,
        "Description": role.description,
        "Trust": {
            "IdentityPools": role.trust.identity_pool_ids,
            "Amr": role.trust.amr.as_str(),
        },
        "MaxSessionDuration": role.max_session_secs,
        "Policy": policy,
        "Origin": origin_name(role.origin),
    })
}

pub async fn identity_pools(node: Node, cmd: IdentityPoolsCmd) -> CliResult {
    let admin = admin(&node);
    match cmd {
        IdentityPoolsCmd::List => {
            let mut rows = Vec::new();
            let mut next = None;
            loop {
                let page = admin
                    .list_identity_pools(60, next)
                    .await
                    .map_err(not_found)?;
                for p in page.items {
                    let guests = if p.allow_unauthenticated { "yes" } else { "no" };
                    rows.push(vec![
                        p.id,
                        p.name,
                        p.user_pools.len().to_string(),
                        guests.to_string(),
                        origin_name(p.origin).to_string(),
                    ]);
                }
                next = page.next;
                if next.is_none() {
                    break;
                }
            }
            print_table(&["ID", "NAME", "USER POOLS", "GUESTS", "ORIGIN"], &rows);
            Ok(())
        }
        IdentityPoolsCmd::Show { id } => {
            let pool = admin.describe_identity_pool(&id).await.map_err(not_found)?;
            let count = admin.count_identities(&id).await.map_err(not_found)?;
            println!("{}", pretty(&describe_identity_pool(&pool, count))?);
            Ok(())
        }
    }
}

pub async fn roles(node: Node, cmd: RolesCmd) -> CliResult {
    let admin = admin(&node);
    match cmd {
        RolesCmd::List => {
            let rows: Vec<Vec<String>> = admin
                .list_roles()
                .await
                .map_err(not_found)?
                .into_iter()
                .map(|r| {
                    vec![
                        r.arn,
                        r.trust.amr.as_str().to_string(),
                        r.trust.identity_pool_ids.join(","),
                        r.max_session_secs.to_string(),
                        origin_name(r.origin).to_string(),
                    ]
                })
                .collect();
            print_table(
                &["ARN", "AMR", "IDENTITY POOLS", "MAX SESSION", "ORIGIN"],
                &rows,
            );
            Ok(())
        }
        RolesCmd::Show { arn } => {
            let role = admin.get_role(&arn).await.map_err(not_found)?;
            println!("{}", pretty(&describe_role(&role))?);
            Ok(())
        }
    }
}
