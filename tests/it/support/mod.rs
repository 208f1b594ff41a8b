//! Shared test helpers: databases, servers, processes, fake identity providers and the
//! steps of a federated sign-in.

pub mod browser;
pub mod fake_apple;
pub mod fake_idp;
pub mod fake_oauth2;
pub mod fake_oidc;
pub mod fake_saml;
pub mod fake_sts;
pub mod federated;
pub mod mmdb;
pub mod pg;
pub mod process;
pub mod saml_sign;
pub mod sender_key;
pub mod server;
pub mod smtp;
pub mod webhook;

/// An HTTP client for tests: no redirects followed, short timeouts.
pub fn http() -> reqwest::Client {
    // reqwest is built without a rustls provider of its own (no ring): install aws-lc-rs.
    cognate::federation::http::install_crypto_provider();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .expect("http client")
}
