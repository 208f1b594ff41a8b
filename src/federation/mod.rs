//! Federation: signing users in through upstream identity providers (Google, Sign in
//! with Apple, Facebook, Login with Amazon, any OpenID Connect provider).
//!
//! Providers are data: a preset per provider kind under `providers/*.toml`
//! ([`presets`]), resolved with the operator's overrides into the
//! [`IdentityProvider`](crate::core::model::IdentityProvider) record stored on the pool.
//! Vendor behaviour that data cannot express is a named
//! [`Quirk`](crate::core::model::Quirk) with a small code path here ([`apple`],
//! [`facebook`], Google's `hd` check in [`mapping`]).
//!
//! - [`presets`]: the embedded provider presets.
//! - [`http`]: the one outbound HTTP client, with the discovery and JWKS caches.
//! - [`apple`]: Apple's ES256 client secret and its first-sign-in `user` JSON.
//! - [`facebook`]: Graph API `appsecret_proof`.
//! - [`mapping`]: upstream claims to the upstream user id and directory attributes.
//! - [`flow`]: the upstream sign-in: the stored flow, the code exchange, the directory
//!   user, and `idp_identifier` routing.
//! - [`error`]: why a federated sign-in fails ([`error::FederationError`]), shared by the
//!   flow and the modules below, which import it from there rather than from the flow.
//! - [`oauth2_profile`]: the profile API call of plain OAuth 2.0 providers (Facebook's
//!   Graph `/me`, Amazon's `/user/profile`).
//! - [`id_token`]: strict validation of an upstream ID token.
//! - [`linking`]: who a federated sign-in becomes: linking by verified email, the
//!   attributes a sign-in may change, what a new federated user must bring.

pub mod apple;
pub mod error;
pub mod facebook;
pub mod flow;
pub mod http;
pub mod id_token;
pub mod linking;
pub mod mapping;
pub mod oauth2_profile;
pub mod presets;
pub mod protocol;
