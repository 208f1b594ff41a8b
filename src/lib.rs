//! Cognate: a self-hosted identity broker with Cognito-shaped user pools, tokens and APIs.
//!
//! The crate is layered: protocol edges on top, the domain core below them, storage at the
//! bottom behind a trait the core defines. The core imports no edge, no engine, no
//! federation code and no configuration; the engines import only the core's records and
//! storage trait.
//!
//! ```text
//! edges       cli, web (OAuth/OIDC endpoints, hosted UI, the AWS dispatcher on POST /)
//! wiring      server (a node), config (TOML, check-config, apply), telemetry
//! upstream    federation (OAuth/OIDC legs, SAML 2.0 service provider)
//! domain      core (admin, signin, account, directory, oauth, ...), text (templates)
//! storage     store (SQLite, PostgreSQL): implements core::storage::Store
//! ```
//!
//! Each layer imports only the layers below it, but for storage, which the core defines
//! and the engines fill in: `store` imports the core's records and `Store` trait, and
//! nothing in the core names an engine (its doc comments may link upward, and its unit
//! tests open a SQLite store).
//!
//! - [`core`]: the domain, knowing nothing of HTTP and taking `now` as an argument:
//!   - records ([`core::model`], identity providers shaped by protocol in
//!     `core::model::idp`) and the storage interface ([`core::storage`]);
//!   - the user directory and its rules ([`core::directory`], [`core::attributes`]);
//!   - the administration service for pools, app clients, resource servers, groups and
//!     identity providers with Cognito's validation rules ([`core::admin`]): `cognate
//!     apply`, the admin CLI and the coming Cognito API all write through it;
//!   - password sign-in, from lookup and brute-force count to the next step
//!     ([`core::signin`]), and the account flows: sign-up, confirmation, forgot/reset
//!     password, first-sign-in password change ([`core::account`]);
//!   - the brute-force counters ([`core::throttle`]), hosted-UI sessions and login flows
//!     ([`core::session`]), signing a user out everywhere ([`core::signout`]), mail
//!     composition and sending ([`core::mail`]);
//!   - the OAuth 2.0 / OIDC provider ([`core::oauth`]): authorization requests, grants,
//!     token issuing and verification, client authentication, the claims userInfo releases
//!     ([`core::oauth::claims`]);
//!   - passwords ([`core::password`]), secrets under the master key ([`core::secrets`]),
//!     signing keys and the JWT signer ([`core::keys`]), each pool's SAML service-provider
//!     key pair and certificate ([`core::sp_keys`]), ids ([`core::ids`]);
//!   - the AWS side: the SigV4 verifier ([`core::sigv4`]), operator credentials
//!     ([`core::admin_keys`]), IAM-style policy documents and their evaluation
//!     ([`core::policy`]), and identity pools ([`core::identity_pools`]: role mapping, the
//!     identity issuer's OpenID tokens, stateless vended credentials, the identity service
//!     behind GetId / GetCredentialsForIdentity, STS's AssumeRoleWithWebIdentity and the
//!     authorization check), verifying pool tokens with [`core::oauth::verify`].
//! - [`text`]: minijinja templates and message catalogs (embedded, overridable by the
//!   operator), shared by the hosted UI's pages and the core's mails.
//! - [`store`]: the [`core::storage::Store`] trait for SQLite (embedded default) and
//!   PostgreSQL (several nodes): one implementation over both, engine hooks only where the
//!   SQL really differs, each engine with its own migrations.
//! - [`federation`]: upstream identity providers: presets (`providers/*.toml`), the stored
//!   upstream flow every protocol shares ([`federation::flow`]), claim mapping and account
//!   linking, the outbound HTTP client with its caches; the OpenID Connect and OAuth 2.0
//!   legs in [`federation::oauth`]; the SAML 2.0 service provider in [`federation::saml`]
//!   (AuthnRequests, the ACS, the response verifier with its node rules against
//!   signature wrapping, the SP metadata), keying the same stored flow by its request id.
//! - [`config`]: the TOML configuration: parsing, `check-config` (every error with
//!   file:line:col and a fix; the record rules are the core's, mapped back to the file),
//!   environment overrides, and `apply` (plans and prunes, writes through [`core::admin`]).
//! - [`web`]: the axum edge: the OAuth/OIDC endpoints ([`web::oauth`]), the hosted UI
//!   ([`web::hosted`]), discovery and JWKS, the SAML SP metadata ([`web::saml`]), health,
//!   the demo app, the shared
//!   [`web::AppState`], error mapping and Cognito's exception names
//!   ([`web::cognito_errors`]). `web::serve(listener, state, shutdown)` runs the real
//!   server (tests bind `127.0.0.1:0`) on an HTTP/1.1 connection loop with head, request
//!   and write timeouts; `web::serve_metrics` serves `/metrics` on a listener of its
//!   own. The AWS edge is one dispatcher on `POST /` ([`web::aws`]: AWS JSON 1.1 actions
//!   by `X-Amz-Target`, STS's query actions by `Action`; SigV4 by [`core::sigv4`] against
//!   the operator credentials of [`core::admin_keys`] or vended session credentials), and
//!   [`web::authorize`] is the resource servers' authorization check.
//! - [`server`]: wiring for a node: open the store, load the master key, bootstrap pools
//!   and keys, build the application state.
//! - [`cli`]: the `cognate` admin command line (serve, check-config, apply, pools,
//!   clients, users, groups, keys, admin-keys, identity-pools, roles, import/export).
//! - [`telemetry`]: structured logs and Prometheus metrics.

pub mod cli;
pub mod config;
pub mod core;
pub mod federation;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod text;
pub mod web;
