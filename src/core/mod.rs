//! The domain core: records, directory rules, the administration service ([`admin`]),
//! passwords, secrets, signing keys and the SAML service provider's keys ([`sp_keys`]).
//! Nothing in here touches HTTP types; callers pass the current time explicitly.

pub mod account;
pub mod admin;
pub mod admin_keys;
pub mod attributes;
pub mod challenge;
pub mod delivery;
pub mod directory;
pub mod identity_pools;
pub mod ids;
pub mod keys;
pub mod mail;
pub mod mfa;
pub mod model;
pub mod oauth;
pub mod password;
pub mod policy;
pub mod secrets;
pub mod session;
pub mod signin;
pub mod signout;
pub mod sigv4;
pub mod sp_keys;
pub mod srp;
pub mod storage;
pub mod threat;
pub mod throttle;
pub mod triggers;
pub mod users;

/// Seconds since the Unix epoch. Every core function that judges expiry takes `now`
/// as an argument (kanidm's pattern), so tests never sleep.
pub type UnixTime = i64;

/// The wall clock, for edges that need a `now` to pass into the core.
pub fn now() -> UnixTime {
    chrono::Utc::now().timestamp()
}
