//! Identity pools: exchanging user-pool tokens for short-lived, scoped credentials
//! (Cognito's "federated identities", target prefix `AWSCognitoIdentityService`).
//!
//! - [`mapping`]: which role a signed-in (or guest) identity gets: the pool's
//!   authenticated and unauthenticated roles and the per-provider role mappings (Token or
//!   Rules), resolved as Cognito's GetCredentialsForIdentity does.

pub mod mapping;
