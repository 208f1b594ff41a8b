//! What a SAML sign-in keeps in the stored upstream flow, whose id is the AuthnRequest's
//! `ID` (the `InResponseTo` of the IdP's answer).

use std::fmt;

use serde::{Deserialize, Serialize};

/// The SAML part of an [`UpstreamFlow`](crate::federation::flow::UpstreamFlow).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SamlLeg {
    /// The RelayState sent with the AuthnRequest: the IdP's answer must carry it back
    /// unchanged (SAML Bindings 2.0 section 3.5.3), so an answer is bound to the request
    /// twice, by `InResponseTo` and by this value.
    pub saml_relay_state: String,
}

impl fmt::Debug for SamlLeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SamlLeg")
            .field("saml_relay_state", &"<redacted>")
            .finish()
    }
}
