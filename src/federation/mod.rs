//! Federation: signing users in through upstream identity providers (Google, Sign in
//! with Apple, Facebook, Login with Amazon, any OpenID Connect provider).
//!
//! Providers are data: a preset per provider kind under `providers/*.toml`
//! ([`presets`]), resolved with the operator's overrides into the
//! [`IdentityProvider`](crate::core::model::IdentityProvider) record stored on the pool.
//! Vendor behaviour that data cannot express is a named
//! [`Quirk`](crate::core::model::Quirk) with a small code path here ([`oauth::apple`],
//! [`oauth::facebook`], Google's `hd` check in [`mapping`]).
//!
//! The code is split by protocol: [`oauth`] holds everything OpenID Connect and plain
//! OAuth 2.0, and [`saml`] (a SAML 2.0 service provider) sits beside it. What
//! every protocol shares stays at this level:
//!
//! - [`flow`]: the stored upstream flow (keyed by a protocol-chosen flow id: OAuth's
//!   `state`, SAML's request id), the federation service, the directory user an upstream
//!   identity becomes, and `idp_identifier` routing.
//! - [`presets`]: the embedded provider presets.
//! - [`http`]: the one outbound HTTP client, with the discovery and JWKS caches, and
//!   [`http::guard`], which keeps it off internal addresses and discovered endpoints on
//!   the issuer's own host.
//! - [`mapping`]: upstream claims to the upstream user id and directory attributes.
//! - [`error`]: why a federated sign-in fails ([`error::FederationError`]), shared by the
//!   flow and every protocol's modules, which import it from there.
//! - [`linking`]: who a federated sign-in becomes: linking by verified email, the
//!   attributes a sign-in may change, what a new federated user must bring.
//! - [`oauth`]: the OpenID Connect and OAuth 2.0 legs (authorization URL, code exchange,
//!   ID token validation, profile APIs, Apple and Facebook specifics).
//! - [`saml`]: SAML 2.0 (the IdP's metadata, read when a provider is declared).
//! - [`aws_sts`]: the client of AWS STS's AssumeRoleWithWebIdentity, for identity pools
//!   that hand out real AWS credentials (issue 12, item 6).

pub mod aws_sts;
pub mod error;
pub mod flow;
pub mod http;
pub mod linking;
pub mod mapping;
pub mod oauth;
pub mod presets;
pub mod saml;
