//! The SAML 2.0 service provider.

pub mod sp;
