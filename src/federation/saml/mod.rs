//! SAML 2.0 toward upstream identity providers: Cognate as a service provider (SP) in
//! the Web Browser SSO profile, SP-initiated. What any protocol shares (the stored
//! upstream flow, linking, presets, errors) is one level up in [`crate::federation`].
//!
//! - [`request`]: the AuthnRequest and its HTTP-Redirect and HTTP-POST bindings.
//! - [`leg`]: what a SAML flow keeps in the stored upstream flow (its RelayState).
//! - [`flow`]: `start_saml`, `accept_saml_post` (the ACS) and `saml_callback` on
//!   [`Federation`](crate::federation::flow::Federation).
//! - [`response`]: verifying the `SAMLResponse` an IdP posts to the assertion consumer
//!   service: size and parser limits, XML-DSig with bergshamra against the IdP's metadata
//!   certificates only, and Cognate's own node rules against signature wrapping, then the
//!   profile's checks (Issuer, Destination, InResponseTo, Audience, SubjectConfirmation,
//!   Conditions). Pure and synchronous; the caller owns replay and the stored flow.
//! - [`mapping`]: a verified assertion to the user id, attributes and groups.
//! - [`metadata`]: reading an IdP's metadata XML (entity id, SSO endpoints, signing
//!   certificates) when a provider is declared, so the runtime never reads metadata.
//! - [`remote`]: metadata from a URL (`metadata_url`), fetched when the file is applied
//!   and refreshed periodically by every node, keeping the last good copy.
//! - [`logout`]: single logout messages on the Redirect binding (written, read, verified).
//! - [`slo`]: single logout both ways on [`Federation`](crate::federation::flow::Federation).
//! - [`sp`]: Cognate's SP metadata (entity id, ACS, signing certificates).
//! - [`unsolicited`]: IdP-initiated sign-in (an unsolicited response at the ACS), off by
//!   default, with Cognito's guards.

pub mod flow;
pub mod leg;
pub mod logout;
pub mod mapping;
pub mod metadata;
pub mod remote;
pub mod request;
pub mod response;
pub mod slo;
pub mod sp;
pub mod unsolicited;
