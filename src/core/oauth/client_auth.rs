//! Client authentication at the token and revocation endpoints (RFC 6749 section 2.3.1):
//! `client_secret_basic` or `client_secret_post`, never both; secrets compared in constant
//! time after opening the sealed copy.

use super::{ErrorCode, OAuthError};
use crate::core::model::AppClient;
use crate::core::secrets::{client_secret_context, constant_time_eq, MasterKey, SecretString};
use crate::core::storage::Store;

/// How the client presented itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// HTTP Basic: a failure answers 401 with `WWW-Authenticate` (RFC 6749 section 5.2).
    Basic,
    /// `client_id` (and `client_secret`) in the form body.
    Post,
}

/// What the request carried.
#[derive(Debug, Clone)]
pub struct PresentedClient {
    pub client_id: String,
    pub secret: Option<SecretString>,
    pub method: AuthMethod,
}

/// Loads the client and checks its secret. Confidential clients must present their
/// secret; public clients must not present one.
pub async fn authenticate_client(
    store: &dyn Store,
    master: &MasterKey,
    presented: &PresentedClient,
) -> Result<AppClient, OAuthError> {
    let invalid = || OAuthError::new(ErrorCode::InvalidClient, "Client authentication failed.");
    let client = store
        .get_client(&presented.client_id)
        .await?
        .ok_or_else(invalid)?;
    match (&client.secret, &presented.secret) {
        (Some(sealed), Some(given)) => {
            let stored = master
                .open_string(&client_secret_context(&client.id), sealed)
                .map_err(OAuthError::server_error)?;
            if constant_time_eq(stored.expose().as_bytes(), given.expose().as_bytes()) {
                Ok(client)
            } else {
                Err(invalid())
            }
        }
        (None, None) => Ok(client),
        _ => Err(invalid()),
    }
}
