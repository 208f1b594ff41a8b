//! Domains: CreateUserPoolDomain, DescribeUserPoolDomain, UpdateUserPoolDomain,
//! DeleteUserPoolDomain.

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// CreateUserPoolDomain.
pub async fn create_user_pool_domain(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("CreateUserPoolDomain"))
}

/// DescribeUserPoolDomain.
pub async fn describe_user_pool_domain(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DescribeUserPoolDomain"))
}

/// UpdateUserPoolDomain.
pub async fn update_user_pool_domain(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("UpdateUserPoolDomain"))
}

/// DeleteUserPoolDomain.
pub async fn delete_user_pool_domain(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DeleteUserPoolDomain"))
}
