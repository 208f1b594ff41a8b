//! PLACEHOLDER (not committed): helper C's SP key service replaces this file.
use std::sync::Arc;

use super::keys::KeyError;
use super::UnixTime;

#[derive(Clone, Default)]
pub struct SpKeyService;
pub struct SpKey;
impl SpKey {
    pub fn sign_rsa_sha256(&self, _m: &[u8]) -> Result<Vec<u8>, KeyError> {
        Err(KeyError::Generation)
    }
}
impl SpKeyService {
    pub async fn active(&self, _pool: &str, _now: UnixTime) -> Result<Arc<SpKey>, KeyError> {
        Err(KeyError::Generation)
    }
}
impl super::model::UserPool {
    pub fn sp_entity_id(&self) -> String {
        format!("urn:amazon:cognito:sp:{}", self.id)
    }
}
