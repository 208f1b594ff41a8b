//! What an OAuth flow keeps in the stored upstream flow
//! ([`UpstreamLeg::OAuth`](crate::federation::flow::UpstreamLeg::OAuth)), in a file of its
//! own so the generic flow can name it without importing the OAuth sign-in code that uses
//! the flow.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::core::secrets::{redacted, REDACTED};

/// What an OAuth flow keeps for checking the IdP's answer. Its `Debug` hides both: they
/// would let a log reader finish (or replay into) the upstream sign-in (RFC 7636 section
/// 7.1, OIDC Core 15.5.2).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct OAuthLeg {
    /// The OIDC `nonce` sent with the authorization request (unused by plain OAuth 2.0).
    pub nonce: String,
    /// The PKCE verifier (when the provider uses PKCE).
    #[serde(default)]
    pub pkce_verifier: Option<String>,
    /// The `redirect_uri` sent upstream (the per-provider callback, or the bare
    /// `/oauth2/idpresponse` where that is safe), sent again with the code exchange (RFC
    /// 6749 section 4.1.3). Absent in flows started before per-provider callbacks: the
    /// bare URL (and none is written for a flow without one, so the stored shape stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
}

// Hand-written `Debug`: the nonce and PKCE verifier would let a log reader finish (or
// replay into) the upstream sign-in (RFC 7636 section 7.1, OIDC Core 15.5.2).
impl fmt::Debug for OAuthLeg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthLeg")
            .field("nonce", &REDACTED)
            .field("pkce_verifier", &redacted(&self.pkce_verifier))
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}
