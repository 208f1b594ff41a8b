//! Google's specifics end to end, against the fake Google: its second issuer spelling
//! (`accounts.google.com` without a scheme, which Google's ID tokens may carry) and the
//! `hosted_domain` restriction to one Workspace domain, checked on the signed `hd`
//! claim (the `hd` authorization parameter is only a hint to Google's account chooser).
//! Each refusal is paired with the honest sign-in succeeding and creates no user.

use serde_json::json;

use crate::support::fake_oidc::{Bendable, FakeOidc};
use crate::support::federated::{
    assert_failed_page, fake_google, google_idp, location, param, sign_in, Client,
    GOOGLE_SECRET_ENV,
};
use crate::support::server::{browser_client, TestServer};

const POOL: &str = "us-east-1_GoogleTst1";
const CLIENT: &str = "googleweb0000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "google-test-verifier-0123456789-abcdefghijklmnopqrst";

fn rp() -> Client {
    Client::new(CLIENT, CALLBACK, VERIFIER).with_nonce("client-nonce")
}

/// A pool whose `Google` (the google preset on the fake) admits only the Workspace
/// domain `example.com` and, like the real preset, accepts the scheme-less spelling
/// of its issuer.
async fn env() -> (TestServer, FakeOidc) {
    let google = fake_google().await;
    // The preset pointed at the fake (an overridden issuer drops the preset's aliases, so
    // the scheme-less spelling is declared again), admitting one Workspace domain.
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Google tests\"\n{}\
         issuer_aliases = [\"accounts.google.com\"]\nhosted_domain = \"example.com\"\n{}",
        google_idp(&google.issuer),
        rp().toml(&["Google"]),
    );
    let server = TestServer::start_with(&pools, "idp_timeout_secs = 2", &[GOOGLE_SECRET_ENV]).await;
    (server, google)
}

fn authorize_url(server: &TestServer) -> String {
    rp().authorize_url(&server.base, &[("identity_provider", "Google")])
}

#[tokio::test]
async fn both_issuer_spellings_sign_in_and_no_other() {
    let (server, google) = env().await;
    google.set_user(
        "g-ada",
        json!({"email": "ada@example.com", "email_verified": true, "hd": "example.com"}),
    );

    // An issuer that is neither spelling: refused, no user.
    google.set_overrides(json!({"iss": "https://accounts.google.com.evil.example"}));
    assert_failed_page(sign_in(&authorize_url(&server)).await, "a foreign issuer");
    google.set_overrides(json!({"iss": "https://accounts.google.com"}));
    assert_failed_page(
        sign_in(&authorize_url(&server)).await,
        "the real Google's issuer for a provider pointed elsewhere",
    );
    assert_eq!(server.user_count(POOL).await, 0);

    // The scheme-less spelling Google also uses: signed in.
    google.set_overrides(json!({"iss": "accounts.google.com"}));
    let redirect = sign_in(&authorize_url(&server))
        .await
        .expect("the scheme-less issuer");
    let id = rp().id_token(&server.base, &redirect).await;
    assert_eq!(id["cognito:username"], "Google_g-ada");

    // And the issuer itself.
    google.set_overrides(json!({}));
    let redirect = sign_in(&authorize_url(&server))
        .await
        .expect("the issuer itself");
    let id = rp().id_token(&server.base, &redirect).await;
    assert_eq!(id["cognito:username"], "Google_g-ada");
    assert_eq!(server.user_count(POOL).await, 1);
    server.stop().await;
    google.stop().await;
}

#[tokio::test]
async fn hosted_domain_admits_only_that_workspaces_accounts() {
    let (server, google) = env().await;

    // The authorization request asks Google for the domain (a hint only).
    let browser = browser_client();
    let r = browser.get(authorize_url(&server)).send().await.unwrap();
    let upstream = location(&r);
    assert_eq!(param(&upstream, "hd").as_deref(), Some("example.com"));

    // A consumer account (no `hd`) and another Workspace's account are refused, whatever
    // their email says.
    google.set_user(
        "g-consumer",
        json!({"email": "eve@example.com", "email_verified": true}),
    );
    assert_failed_page(sign_in(&authorize_url(&server)).await, "no hd claim");
    google.set_user(
        "g-other",
        json!({"email": "eve@other.example", "email_verified": true, "hd": "other.example"}),
    );
    assert_failed_page(sign_in(&authorize_url(&server)).await, "another Workspace");
    assert_eq!(server.user_count(POOL).await, 0);

    // An account of example.com (hd compared without regard to case) signs in.
    google.set_user(
        "g-member",
        json!({"email": "bo@example.com", "email_verified": true, "hd": "Example.com"}),
    );
    let redirect = sign_in(&authorize_url(&server))
        .await
        .expect("a member of the Workspace");
    let id = rp().id_token(&server.base, &redirect).await;
    assert_eq!(id["cognito:username"], "Google_g-member");
    assert_eq!(id["email"], "bo@example.com");
    assert_eq!(server.user_count(POOL).await, 1);
    server.stop().await;
    google.stop().await;
}
