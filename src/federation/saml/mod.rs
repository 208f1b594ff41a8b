//! SAML 2.0 service provider (SAML 2.0 Web Browser SSO profile, SP-initiated).
//!
//! - [`response`]: verifying the `SAMLResponse` an IdP posts to the assertion consumer
//!   service: size and parser limits, XML-DSig with bergshamra against the IdP's metadata
//!   certificates only, and Cognate's own node rules against signature wrapping, then the
//!   profile's checks (Issuer, Destination, InResponseTo, Audience, SubjectConfirmation,
//!   Conditions). Pure and synchronous; the caller owns replay and the stored flow.

pub mod response;
