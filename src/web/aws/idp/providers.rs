//! A pool's identity providers: CreateIdentityProvider, DescribeIdentityProvider,
//! UpdateIdentityProvider, DeleteIdentityProvider, ListIdentityProviders,
//! GetIdentityProviderByIdentifier.

use serde_json::Value;

use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// CreateIdentityProvider.
pub async fn create_identity_provider(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("CreateIdentityProvider"))
}

/// DescribeIdentityProvider.
pub async fn describe_identity_provider(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DescribeIdentityProvider"))
}

/// UpdateIdentityProvider.
pub async fn update_identity_provider(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("UpdateIdentityProvider"))
}

/// DeleteIdentityProvider.
pub async fn delete_identity_provider(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("DeleteIdentityProvider"))
}

/// ListIdentityProviders.
pub async fn list_identity_providers(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("ListIdentityProviders"))
}

/// GetIdentityProviderByIdentifier.
pub async fn get_identity_provider_by_identifier(
    _state: &AppState,
    _call: &AwsCall,
    _input: Value,
) -> Result<Value, AwsError> {
    Err(super::not_yet("GetIdentityProviderByIdentifier"))
}
