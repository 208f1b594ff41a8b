//! SAML 2.0: Cognate as a service provider (SP) to SAML identity providers.
//!
//! - [`metadata`]: reading an IdP's metadata XML (entity id, SSO endpoints, signing
//!   certificates) when a provider is declared, so the runtime never reads metadata.

pub mod metadata;
