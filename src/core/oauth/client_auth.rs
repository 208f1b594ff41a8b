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

/// Cognito's `SECRET_HASH`: `base64(HMAC-SHA256(client secret, username || client id))`
/// (the user pools API's proof, for a client with a secret, that the caller holds it
/// without sending it).
pub fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    };
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Why a `SECRET_HASH` was refused (Cognito's `NotAuthorizedException` messages).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretHashError {
    #[error("Client {0} is configured with secret but SECRET_HASH was not received")]
    Missing(String),
    #[error("Unable to verify secret hash for client {0}")]
    Mismatch(String),
    /// The sealed secret could not be opened (the master key): for the log.
    #[error("the client secret could not be opened: {0}")]
    Internal(String),
}

/// Checks a `SECRET_HASH` for `client`, computed over any of `usernames` (Cognito hashes
/// the `USERNAME` sent; for a refresh token, the user's username or sub), each compared
/// in constant time. A client without a secret ignores it, as Cognito does.
pub fn check_secret_hash(
    master: &MasterKey,
    client: &AppClient,
    usernames: &[&str],
    given: Option<&str>,
) -> Result<(), SecretHashError> {
    let Some(sealed) = &client.secret else {
        return Ok(());
    };
    let Some(given) = given.filter(|g| !g.is_empty()) else {
        return Err(SecretHashError::Missing(client.id.clone()));
    };
    let secret = master
        .open_string(&client_secret_context(&client.id), sealed)
        .map_err(|e| SecretHashError::Internal(e.to_string()))?;
    let mut matched = false;
    for username in usernames {
        let expected = secret_hash(secret.expose(), username, &client.id);
        matched |= constant_time_eq(expected.as_bytes(), given.as_bytes());
    }
    if matched {
        Ok(())
    } else {
        Err(SecretHashError::Mismatch(client.id.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_cognitos_definition() {
        // base64(HMAC-SHA256("secret", "alice" || "client")), computed independently
        // (python3: hmac.new(b"secret", b"aliceclient", sha256)).
        assert_eq!(
            secret_hash("secret", "alice", "client"),
            "RTsve+FQ659UKyESgvLg9GYmZEL+QjzQsW/OjL77/b0="
        );
    }
}
