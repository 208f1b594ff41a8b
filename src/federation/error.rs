//! Why a federated sign-in fails: [`FederationError`], shared by the upstream flow
//! ([`flow`](super::flow)) and the modules it calls (the code exchange in
//! [`protocol`](super::oauth::protocol), [`id_token`](super::oauth::id_token) validation, the
//! [`oauth2_profile`](super::oauth::oauth2_profile) API, [`linking`](super::linking)), and
//! [`CallbackFailure`], a failed callback as the edge sees it. The flow re-exports both,
//! so callers outside this module may name them from either place.

use super::http::HttpError;
use super::mapping::MappingError;
use super::oauth::apple;
use super::saml::response::SamlError;
use crate::core::directory::DirectoryError;
use crate::core::oauth::authorize::AuthorizeRequest;
use crate::core::storage::StoreError;

/// Why a federated sign-in failed. Nothing is written to the directory on any of them.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    #[error("identity provider {0:?} is not declared in this pool")]
    UnknownProvider(String),
    /// A provider whose answer mode Cognate does not implement.
    #[error("identity provider {0:?} is not a provider Cognate can sign in with yet")]
    UnsupportedProtocol(String),
    #[error("the public URL cannot carry the callback path")]
    BadPublicUrl,
    #[error("identity provider {provider:?} has no {what} (declare it or an issuer)")]
    MissingEndpoint {
        provider: String,
        what: &'static str,
    },
    /// A discovered endpoint Cognate will not use (`http::guard::check_discovered`).
    #[error("identity provider {provider:?}'s discovery document names a {what} Cognate refuses: {detail}")]
    UnsafeEndpoint {
        provider: String,
        what: &'static str,
        detail: String,
    },
    #[error("the identity provider's client secret cannot be opened")]
    Secret,
    #[error("the Apple signing key cannot be used: {0}")]
    AppleKey(#[from] apple::AppleKeyError),
    #[error("this sign-in attempt's answer was already posted")]
    AlreadyPosted,
    #[error("the callback carries no state")]
    MissingState,
    #[error("no live sign-in attempt has this state (wrong, expired or already used)")]
    UnknownState,
    #[error("the sign-in attempt was started in another browser")]
    WrongBrowser,
    #[error(
        "the callback names issuer {0:?}, not the identity provider this attempt was started for"
    )]
    IssuerMismatch(String),
    /// The answer arrived at another provider's callback than the flow's (RFC 9700
    /// section 4.4: a code relayed from one IdP into another's flow).
    #[error("the answer arrived at another identity provider's callback than this attempt's")]
    WrongCallback,
    /// The answer arrived at the bare `/oauth2/idpresponse`, which is refused while the
    /// instance has several providers not all of which send `iss` (RFC 9207).
    #[error("the bare callback is refused here; register {0} at the identity provider")]
    BareCallbackRefused(String),
    /// The provider advertises `authorization_response_iss_parameter_supported` (RFC 9207
    /// section 3) but its answer does not name itself.
    #[error("the identity provider advertises RFC 9207 but its answer carries no iss")]
    MissingIssuer,
    #[error("the identity provider answered {error}")]
    Upstream {
        error: String,
        description: Option<String>,
    },
    #[error("the callback carries no code")]
    MissingCode,
    #[error("the identity provider refused the code exchange: {error}")]
    TokenRefused {
        error: String,
        description: Option<String>,
    },
    #[error("talking to the identity provider: {0}")]
    Http(#[from] HttpError),
    #[error("the identity provider did not answer within {0} seconds")]
    Timeout(u64),
    #[error("the token response has no id_token")]
    NoIdToken,
    #[error("the token response has no access_token")]
    NoAccessToken,
    #[error("the profile API refused or answered nonsense: {0}")]
    Profile(String),
    #[error("the ID token is malformed: {0}")]
    MalformedIdToken(String),
    #[error("the ID token is signed with {0}, which is not accepted")]
    UnsupportedAlgorithm(String),
    #[error("the ID token names a key the identity provider does not publish")]
    UnknownKey,
    #[error("the identity provider's key does not fit the ID token's algorithm")]
    KeyMismatch,
    #[error("the ID token's signature is invalid")]
    BadSignature,
    #[error("the ID token's issuer {0:?} is not this identity provider")]
    WrongIssuer(String),
    #[error("the ID token is not meant for this client")]
    WrongAudience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token was issued in the future")]
    IssuedInFuture,
    #[error("the ID token's nonce does not match this sign-in attempt")]
    BadNonce,
    #[error("userinfo describes another user than the ID token")]
    UserinfoSubjectMismatch,
    #[error("{0}")]
    Mapping(#[from] MappingError),
    #[error("the user is disabled")]
    UserDisabled,
    /// The identity's link was made with another issuer than the provider's current one
    /// ([`linking::check_binding`](super::linking::check_binding)).
    #[error("identity provider {0:?} names another issuer than this identity's link was made with; an administrator must relink it")]
    IssuerChanged(String),
    /// A new federated user lacks attributes the pool requires (Cognito's wording).
    #[error("Invalid user attributes: {}", missing_description(.attributes))]
    MissingAttributes {
        /// The provider's display name.
        provider: String,
        attributes: Vec<String>,
    },
    #[error("the directory refused the user: {0}")]
    Directory(#[from] DirectoryError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    /// The SAML Response failed a check ([`SamlError`] says which).
    #[error("the SAML response is refused: {0}")]
    Saml(#[from] SamlError),
    /// A response that answers no request of Cognate's (IdP-initiated sign-in).
    #[error(
        "the SAML response answers no sign-in request, and no identity provider that enabled \
         IdP-initiated sign-in issued it"
    )]
    SamlUnsolicited,
    /// The app client an IdP's IdP-initiated sign-in names is no longer one it may land on.
    #[error("IdP-initiated sign-in cannot land on its configured client: {0}")]
    IdpInitiatedTarget(String),
    /// An assertion already used (SAML Profiles 2.0 section 4.1.4.5).
    #[error("the SAML assertion was already used")]
    SamlReplay,
    /// The AuthnRequest could not be rendered.
    #[error("the SAML request could not be made: {0}")]
    SamlRequest(String),
    /// A single logout message failed a check ([`LogoutError`] says which).
    #[error("the SAML logout message is refused: {0}")]
    SamlLogout(#[from] crate::federation::saml::logout::LogoutError),
    /// A LogoutRequest whose Issuer is no SAML IdP of any pool.
    #[error("the SAML logout message's Issuer {0:?} is no SAML identity provider of a pool")]
    SamlLogoutIssuer(String),
    /// A LogoutRequest already received.
    #[error("the SAML LogoutRequest was already received")]
    SamlLogoutReplay,
    /// A LogoutResponse that answers no LogoutRequest of Cognate's (unknown, expired or
    /// already answered).
    #[error("the SAML LogoutResponse answers no pending logout")]
    SamlLogoutUnknown,
    /// The pool's SP key could not be loaded or used.
    #[error("the service provider key cannot be used: {0}")]
    SpKey(String),
}

/// A failed callback, with the client's request when the flow was found and bound to this
/// browser (so the edge may answer the client with an OAuth error).
#[derive(Debug)]
pub struct CallbackFailure {
    pub request: Option<Box<AuthorizeRequest>>,
    pub error: FederationError,
}

impl From<FederationError> for CallbackFailure {
    fn from(error: FederationError) -> Self {
        CallbackFailure {
            request: None,
            error,
        }
    }
}

/// Cognito's description of missing required attributes, as its error redirect carries
/// it: `email: Attribute is required.` for each.
pub fn missing_description(attributes: &[String]) -> String {
    attributes
        .iter()
        .map(|name| format!("{name}: Attribute is required."))
        .collect::<Vec<_>>()
        .join(" ")
}
