//! User pools: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool, ListUserPools,
//! AddCustomAttributes, GetSigningCertificate, SetUserPoolMfaConfig, GetUserPoolMfaConfig.

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// CreateUserPool.
pub async fn create_user_pool(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("CreateUserPool"))
}

/// DescribeUserPool.
pub async fn describe_user_pool(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DescribeUserPool"))
}

/// UpdateUserPool.
pub async fn update_user_pool(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("UpdateUserPool"))
}

/// DeleteUserPool.
pub async fn delete_user_pool(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DeleteUserPool"))
}

/// ListUserPools.
pub async fn list_user_pools(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("ListUserPools"))
}

/// AddCustomAttributes.
pub async fn add_custom_attributes(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("AddCustomAttributes"))
}

/// GetSigningCertificate.
pub async fn get_signing_certificate(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("GetSigningCertificate"))
}

/// SetUserPoolMfaConfig.
pub async fn set_user_pool_mfa_config(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("SetUserPoolMfaConfig"))
}

/// GetUserPoolMfaConfig.
pub async fn get_user_pool_mfa_config(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("GetUserPoolMfaConfig"))
}
