//! SAML 2.0 toward upstream identity providers: Cognate as a service provider (SP) in
//! the Web Browser SSO profile, SP-initiated. What any protocol shares (the stored
//! upstream flow, linking, presets, errors) is one level up in [`crate::federation`].
//!
//! - [`request`]: the AuthnRequest and its HTTP-Redirect and HTTP-POST bindings.
//! - [`leg`]: what a SAML flow keeps in the stored upstream flow (its RelayState).
//! - [`flow`]: `start_saml`, `accept_saml_post` (the ACS) and `saml_callback` on
//!   [`Federation`](crate::federation::flow::Federation).
//! - [`response`]: the verification of the IdP's Response, with the node rules that stop
//!   signature wrapping.
//! - [`mapping`]: a verified assertion to the user id, attributes and groups.

pub mod flow;
pub mod leg;
pub mod mapping;
pub mod request;
pub mod response;
