//! Resource servers: CreateResourceServer, DescribeResourceServer, UpdateResourceServer,
//! DeleteResourceServer, ListResourceServers.

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// CreateResourceServer.
pub async fn create_resource_server(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("CreateResourceServer"))
}

/// DescribeResourceServer.
pub async fn describe_resource_server(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DescribeResourceServer"))
}

/// UpdateResourceServer.
pub async fn update_resource_server(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("UpdateResourceServer"))
}

/// DeleteResourceServer.
pub async fn delete_resource_server(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DeleteResourceServer"))
}

/// ListResourceServers.
pub async fn list_resource_servers(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("ListResourceServers"))
}
