//! PLACEHOLDER (not committed): helper A's verifier replaces this file.
use std::collections::BTreeMap;

use crate::core::UnixTime;

pub const MAX_SAML_RESPONSE_CHARS: usize = 100_000;
pub struct Expectations<'a> {
    pub idp_entity_id: &'a str,
    pub certificates: &'a [Vec<u8>],
    pub allow_sha1: bool,
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub in_response_to: &'a str,
    pub now: UnixTime,
    pub skew_secs: i64,
}
#[derive(Debug, Clone)]
pub struct NameId {
    pub value: String,
    pub format: Option<String>,
}
#[derive(Debug, Clone)]
pub struct VerifiedAssertion {
    pub response_id: String,
    pub assertion_id: String,
    pub issuer: String,
    pub name_id: Option<NameId>,
    pub attributes: BTreeMap<String, Vec<String>>,
    pub session_index: Option<String>,
    pub expires_at: UnixTime,
}
#[derive(Debug, thiserror::Error)]
pub enum SamlError {
    #[error("x")]
    X,
    #[error("status {code}")]
    Status {
        code: String,
        message: Option<String>,
    },
}
pub fn verify(_b64: &str, _expect: &Expectations) -> Result<VerifiedAssertion, SamlError> {
    Err(SamlError::X)
}
pub fn in_response_to_hint(_b64: &str) -> Result<Option<String>, SamlError> {
    Err(SamlError::X)
}
