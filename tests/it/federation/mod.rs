//! Federated sign-in through OpenID Connect IdPs, end to end and browserless: Cognate's
//! `/oauth2/authorize` sends the browser to a fake IdP (its own RSA key, discovery, JWKS,
//! a strict token endpoint), which answers at `/oauth2/idpresponse`; the client then
//! redeems Cognate's code. Every attack is paired with the corrected flow succeeding,
//! and none of them creates a user.
//!
//! The sign-ins that go through are in [`flows`]; the refused callbacks, tokens, flows and
//! upstream answers in [`refusals`]; which IdPs and sessions each app client takes in
//! [`clients`]; which domains an IdP may link users of by email in [`capture`]; what a
//! sign-in may not rewrite (immutable attributes, a linked user's phone) in [`immutable`];
//! mix-up across providers and the per-provider callbacks in [`mixup`]; discovered
//! endpoints off the issuer's host in [`discovery`]; a planted browser cookie in [`planted`];
//! a provider repointed at another IdP in [`repointed`].

mod capture;
mod clients;
mod discovery;
mod flows;
mod immutable;
mod mixup;
mod planted;
mod refusals;
mod repointed;
mod unconfirmed;

use serde_json::{json, Value};

use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::federated::{
    self, fake_google, google_idp, oidc_idp, through_idp, Client, Outcome, GOOGLE_SECRET_ENV,
};
use crate::support::server::TestServer;

const POOL: &str = "us-east-1_FederTst1";
const CLIENT: &str = "fedweb00000000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "federation-test-verifier-0123456789-abcdefghijklmnop";
/// The pool's second client: Google only (not Okta, not the pool's own users).
const GOOGLE_ONLY: &str = "fedweb00000000000000000002";

struct Env {
    server: TestServer,
    google: FakeOidc,
    okta: FakeOidc,
}

/// The pool's client, which also sends a nonce.
fn rp() -> Client {
    Client::new(CLIENT, CALLBACK, VERIFIER).with_nonce("client-nonce")
}

/// [`GOOGLE_ONLY`], which also sends a nonce.
fn google_only() -> Client {
    Client::new(GOOGLE_ONLY, CALLBACK, VERIFIER).with_nonce("client-nonce")
}

/// A pool with `Google` (the google preset, every endpoint pointed at a fake; the preset
/// authenticates with client_secret_post) and `Okta` (the oidc preset: discovery,
/// client_secret_basic, userinfo); its client [`CLIENT`] enables both and the pool's own
/// users, [`GOOGLE_ONLY`] only Google.
async fn env() -> Env {
    let google = fake_google().await;
    let okta = FakeOidc::start("okta-client", "okta s3cret:&", ClientAuth::Basic).await;
    let okta_idp = oidc_idp(
        "Okta",
        "okta-client",
        "FED_OKTA_SECRET",
        &okta.issuer,
        "display_name = \"Okta\"",
    );
    let google_only = format!(
        r#"
[[pools.clients]]
id = "{GOOGLE_ONLY}"
name = "google only"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
supported_identity_providers = ["Google"]
"#
    );
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Federation tests\"\n{}{okta_idp}{}{google_only}",
        google_idp(&google.issuer),
        rp().toml(&["Google", "Okta"]),
    );
    let server = TestServer::start_with(
        &pools,
        "idp_timeout_secs = 2",
        &[GOOGLE_SECRET_ENV, ("FED_OKTA_SECRET", "okta s3cret:&")],
    )
    .await;
    google.set_user(
        "g-alice",
        json!({"email": "alice@example.com", "email_verified": true, "name": "Alice"}),
    );
    okta.set_user(
        "o-bob",
        json!({"email": "bob@corp.example", "email_verified": true, "name": "Bob"}),
    );
    Env {
        server,
        google,
        okta,
    }
}

/// Cognate's authorization request for the pool's client, naming `idp` if any.
fn authorize_url(base: &str, idp: Option<&str>) -> String {
    rp().authorize_url(base, idp.map(|idp| ("identity_provider", idp)).as_slice())
}

/// Authorize at Cognate with `identity_provider`, then at the fake IdP: the URL the IdP
/// sends the browser back to (Cognate's `/oauth2/idpresponse?code=..&state=..`).
async fn via_idp(browser: &reqwest::Client, env: &Env, idp: &str) -> String {
    through_idp(browser, &authorize_url(&env.server.base, Some(idp))).await
}

/// A whole sign-in through `idp` in a fresh browser; the client's redirect.
async fn sign_in(env: &Env, idp: &str) -> Outcome {
    federated::sign_in(&authorize_url(&env.server.base, Some(idp))).await
}

async fn redeem(env: &Env, redirect: &str) -> Value {
    rp().tokens(&env.server.base, redirect).await
}

async fn id_token(env: &Env, redirect: &str) -> Value {
    rp().id_token(&env.server.base, redirect).await
}
