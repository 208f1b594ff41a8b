//! Cognate's integration tests: one binary (each extra file under tests/ is another slow
//! link), modules by area. Tests drive the real server over real HTTP on 127.0.0.1 and the
//! real `cognate` binary; PostgreSQL tests run when `COGNATE_TEST_DATABASE_URL` is set.

mod account;
mod account_attacks;
mod attacks;
// P3: the authorization check, STS for vended sessions, the example resource server.
mod authorize;
// H1: the AWS edge.
mod aws_edge;
mod browser_flows;
mod claims;
mod cli;
mod conformance;
mod connections;
mod crash;
mod federation;
mod federation_apple;
mod federation_google;
mod federation_linking;
mod federation_social;
mod hosted;
mod hosted_pages;
mod identity_admin;
mod identity_pools;
mod identity_tokens;
mod keys;
// Issue 13: MFA and passkeys over HTTP, and in a real browser.
mod mfa;
mod mfa_browser;
mod mfa_pages;
mod multinode;
mod multinode_federation;
mod oidc;
mod passwords;
mod saml;
mod saml_sp;
mod secrets;
mod server;
mod sessions;
mod signin;
mod support;
// Issue 17: threat protection.
mod threat;
// Issue 16: trigger webhooks.
mod triggers;
mod ui;
// Issue 14: the Cognito user pools API (AWS SDK for Rust, aws-cognito-srp, Amplify).
mod user_pools;
