//! Identity pools: exchanging user-pool tokens for short-lived, scoped credentials
//! (Cognito's "federated identities", target prefix `AWSCognitoIdentityService`).
//!
//! - [`mapping`]: which role a signed-in (or guest) identity gets: the pool's
//!   authenticated and unauthenticated roles and the per-provider role mappings (Token or
//!   Rules), resolved as Cognito's GetCredentialsForIdentity does.
//! - [`openid`]: the identity service's own issuer (`<public URL>/identity`), its RS256
//!   keys (table `identity_keys`), and the OpenID tokens of GetOpenIdToken: issue, verify,
//!   JWKS, rotation.
//! - [`credentials`]: vended temporary AWS credentials, stateless: the session token is
//!   the grant and the secret sealed under the master key, bound to its access key id.
//! - [`service`]: the end-user and developer actions (GetId, GetOpenIdToken,
//!   GetCredentialsForIdentity, GetOpenIdTokenForDeveloperIdentity) over the above.
//! - [`sts`]: STS's AssumeRoleWithWebIdentity for the identity service's OpenID tokens,
//!   checking the role's trust (pool and `amr`).
//! - [`authorize`]: the resource servers' authorization check: a SigV4 request signed
//!   with vended credentials, the session's liveness, the role's current policy.

pub mod authorize;
pub mod credentials;
pub mod mapping;
pub mod openid;
pub mod service;
pub mod sts;
