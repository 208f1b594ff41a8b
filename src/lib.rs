//! Cognate: a self-hosted identity broker with Cognito-shaped user pools, tokens and APIs.
//!
//! The crate is layered so that protocol edges depend on the core and the core depends
//! on storage, never the other way round:
//!
//! - [`core`]: the domain. Records ([`core::model`]), the user directory and its rules
//!   ([`core::directory`]), password hashing ([`core::password`]), secrets under the master
//!   key ([`core::secrets`]), signing keys and the JWT signer ([`core::keys`]). Knows nothing
//!   of HTTP; takes the current time as an argument where expiry matters.
//! - [`store`]: one [`store::Store`] trait over whole records, implemented for SQLite
//!   (embedded default) and PostgreSQL (several nodes), each with its own migrations.
//! - [`config`]: the TOML configuration: parsing, `check-config` validation with
//!   locations, environment overrides, and applying declared pools and clients.
//! - [`federation`]: upstream identity providers: provider presets (`providers/*.toml`),
//!   the outbound HTTP client with its discovery/JWKS caches, Apple's client secret, and
//!   the mapping of upstream claims onto directory attributes.
//! - [`web`]: the axum edge: routing, discovery and JWKS, health, metrics, error mapping.
//!   `web::serve(listener, state, shutdown)` runs the real server (tests bind `127.0.0.1:0`).
//! - [`server`]: wiring for a node: open the store, load the master key, bootstrap pools
//!   and keys, build the application state.
//! - [`cli`]: the `cognate` admin command line (serve, check-config, pools, clients,
//!   users, groups, keys, import/export).
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
