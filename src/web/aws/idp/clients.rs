//! App clients: CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient,
//! DeleteUserPoolClient, ListUserPoolClients.

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// CreateUserPoolClient.
pub async fn create_user_pool_client(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("CreateUserPoolClient"))
}

/// DescribeUserPoolClient.
pub async fn describe_user_pool_client(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DescribeUserPoolClient"))
}

/// UpdateUserPoolClient.
pub async fn update_user_pool_client(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("UpdateUserPoolClient"))
}

/// DeleteUserPoolClient.
pub async fn delete_user_pool_client(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DeleteUserPoolClient"))
}

/// ListUserPoolClients.
pub async fn list_user_pool_clients(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("ListUserPoolClients"))
}
