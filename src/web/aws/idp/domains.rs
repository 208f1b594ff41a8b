//! Domains: CreateUserPoolDomain, DescribeUserPoolDomain, UpdateUserPoolDomain,
//! DeleteUserPoolDomain.
//!
//! The rules (Cognito's prefix pattern and reserved words, host names with a certificate,
//! one name across all pools, one prefix and one custom domain per pool) are the
//! administration service's ([`crate::core::admin::domains`]). Cognate serves every pool's
//! hosted UI on its own public URL, so `CloudFrontDomain` / `CloudFrontDistribution`
//! answer the host an operator points a custom domain at: the public URL's host.

use serde_json::{json, Map, Value};

use super::{invalid, optional_int, pool, required, AdminNames};
use crate::core::admin::{AdminError, AdminService};
use crate::core::model::{default_managed_login_version, Domain, Origin};
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

const NAMES: AdminNames = AdminNames {
    fields: &[
        ("domain", "Domain"),
        ("certificate_arn", "CustomDomainConfig.CertificateArn"),
        ("managed_login_version", "ManagedLoginVersion"),
    ],
    not_found: "No such domain or user pool exists.",
    exists: (
        "InvalidParameterException",
        "Domain already associated with another user pool.",
    ),
};

fn admin_error(state: &AppState, call: &AwsCall, e: AdminError) -> AwsError {
    super::admin_error(state, call, e, &NAMES)
}

/// The host of the node's public URL (what a custom domain's DNS or proxy points at).
fn public_host(state: &AppState) -> String {
    let public = state.node.config.public_url();
    url::Url::parse(&public)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or(public)
}

/// What a create or update request sets: the certificate ARN (a custom domain) and the
/// managed login version. Members Cognate cannot honour are refused by name.
struct Settings {
    certificate_arn: Option<String>,
    managed_login_version: i32,
}

fn settings(input: &Value) -> Result<Settings, AwsError> {
    if !matches!(input.get("Routing"), None | Some(Value::Null)) {
        return Err(invalid(
            "Routing is not supported: Cognate has no multi-region failover of domains \
             (run several nodes on one database behind your own load balancer instead).",
        ));
    }
    let certificate_arn = match input.get("CustomDomainConfig") {
        None | Some(Value::Null) => None,
        Some(config @ Value::Object(_)) => {
            if !matches!(config.get("SecurityPolicy"), None | Some(Value::Null)) {
                return Err(invalid(
                    "CustomDomainConfig.SecurityPolicy is not supported: TLS for a custom \
                     domain ends at the operator's proxy, which chooses its TLS versions.",
                ));
            }
            Some(required(config, "CertificateArn")?.to_string())
        }
        Some(_) => return Err(invalid("CustomDomainConfig must be a structure.")),
    };
    let managed_login_version = optional_int(input, "ManagedLoginVersion", 1..=2)?
        .map_or(default_managed_login_version(), |v| v as i32);
    Ok(Settings {
        certificate_arn,
        managed_login_version,
    })
}

/// The domain record a Create or UpdateUserPoolDomain request names (its pool checked),
/// as the API's own.
async fn requested(state: &AppState, call: &AwsCall, input: &Value) -> Result<Domain, AwsError> {
    let name = required(input, "Domain")?;
    let pool_id = required(input, "UserPoolId")?;
    let settings = settings(input)?;
    let pool = pool(state, call, pool_id).await?;
    Ok(Domain {
        domain: name.to_string(),
        pool_id: pool.id,
        certificate_arn: settings.certificate_arn,
        managed_login_version: settings.managed_login_version,
        origin: Origin::Api,
        created_at: call.now,
        updated_at: call.now,
    })
}

/// CreateUserPoolDomain.
pub async fn create_user_pool_domain(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let domain = requested(state, call, &input).await?;
    AdminService::new(state.node.store.clone())
        .create_domain(&domain)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    Ok(json!({
        "CloudFrontDomain": public_host(state),
        "ManagedLoginVersion": domain.managed_login_version,
    }))
}

/// DescribeUserPoolDomain. An unknown domain is an empty `DomainDescription`, as in
/// Cognito (not an error).
pub async fn describe_user_pool_domain(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "Domain")?;
    let found = AdminService::new(state.node.store.clone())
        .domain(name)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    let Some(domain) = found else {
        return Ok(json!({ "DomainDescription": {} }));
    };
    let mut out = Map::new();
    out.insert("UserPoolId".into(), json!(domain.pool_id));
    out.insert(
        "AWSAccountId".into(),
        json!(state.node.config.server.account_id),
    );
    out.insert("Domain".into(), json!(domain.domain));
    out.insert("CloudFrontDistribution".into(), json!(public_host(state)));
    out.insert("Version".into(), json!(domain.updated_at.to_string()));
    out.insert("Status".into(), json!("ACTIVE"));
    if let Some(arn) = &domain.certificate_arn {
        out.insert(
            "CustomDomainConfig".into(),
            json!({ "CertificateArn": arn }),
        );
    }
    out.insert(
        "ManagedLoginVersion".into(),
        json!(domain.managed_login_version),
    );
    Ok(json!({ "DomainDescription": out }))
}

/// UpdateUserPoolDomain: replaces the certificate of a custom domain and the managed
/// login version (omitted: 1, Cognito's default). The name and its kind cannot change.
pub async fn update_user_pool_domain(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let domain = requested(state, call, &input).await?;
    let updated = AdminService::new(state.node.store.clone())
        .update_domain(&domain, Origin::Api)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    Ok(json!({
        "CloudFrontDomain": public_host(state),
        "ManagedLoginVersion": updated.managed_login_version,
    }))
}

/// DeleteUserPoolDomain.
pub async fn delete_user_pool_domain(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "Domain")?;
    let pool_id = required(&input, "UserPoolId")?;
    let pool = pool(state, call, pool_id).await?;
    let existed = AdminService::new(state.node.store.clone())
        .delete_domain_by(&pool.id, name, Origin::Api)
        .await
        .map_err(|e| admin_error(state, call, e))?;
    if !existed {
        return Err(invalid("No such domain or user pool exists."));
    }
    Ok(json!({}))
}
