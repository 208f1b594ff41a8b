//! Issue 8, hole 5: in a pool whose username is the email address, a federated user's
//! email is an attribute, not a sign-in identifier. Someone who signs up with the
//! victim's address and never confirms it, or the victim's own local account, no longer
//! makes the victim's first Google sign-in fail on the unique email index; the local
//! sign-up beside the federated user goes through too. On both storage engines: the rule
//! is the store's unique index and the keys the core gives it.

use serde_json::json;

use crate::support::fake_oidc::FakeOidc;
use crate::support::federated::{self, fake_google, google_idp, Client, GOOGLE_SECRET_ENV};
use crate::support::server::{absolute, browser_client, hidden, TestServer};

const POOL: &str = "us-east-1_FedFirst01";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "first-sign-in-verifier-0123456789-abcdefghijklmnop";
const PASSWORD: &str = "Squatters-pass-1";

fn rp() -> Client {
    Client::new("fedfirstweb00000000000001", CALLBACK, VERIFIER)
}

/// An email-as-username pool that mails codes, with Google beside its own users.
fn pools(google: &FakeOidc) -> String {
    format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Email as username\"\n\
         username_attributes = [\"email\"]\nauto_verified_attributes = [\"email\"]\n{}{}",
        google_idp(&google.issuer),
        rp().toml(&["Google"])
    )
}

/// Signs up over the hosted `/signup` page with `email` as the username; returns the
/// answer's status.
async fn sign_up(base: &str, email: &str) -> u16 {
    let browser = browser_client();
    let r = browser
        .get(rp().authorize_url(base, &[]))
        .send()
        .await
        .unwrap();
    let login = absolute(base, &federated::location(&r));
    let flow = federated::param(&login, "flow").expect("a login flow");
    let page = browser
        .get(format!("{base}/signup?flow={flow}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "_csrf").expect("_csrf");
    let r = browser
        .post(format!("{base}/signup"))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", email),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

/// The victim's Google sign-in: the ID token the client gets.
async fn google_sign_in(
    server: &TestServer,
    google: &FakeOidc,
    sub: &str,
    email: &str,
) -> serde_json::Value {
    google.set_user(
        sub,
        json!({"email": email, "email_verified": true, "name": "Victim"}),
    );
    let authorize = rp().authorize_url(&server.base, &[("identity_provider", "Google")]);
    let redirect = federated::sign_in(&authorize)
        .await
        .unwrap_or_else(|e| panic!("the first Google sign-in of {email} failed: {e:?}"));
    rp().id_token(&server.base, &redirect).await
}

async fn unconfirmed_sign_up_does_not_block_the_first_federated_sign_in(
    server: TestServer,
    google: FakeOidc,
) {
    let base = server.base.clone();
    // Someone signs up with the victim's address and never confirms it.
    assert_eq!(sign_up(&base, "victim@x.test").await, 303);
    server.inbox.code_for("victim@x.test").await;
    // The victim's first Google sign-in goes through, as a user of its own.
    for _ in 0..2 {
        let id = google_sign_in(&server, &google, "g-victim", "victim@x.test").await;
        assert_eq!(id["cognito:username"], "Google_g-victim");
        assert_eq!(id["email"], "victim@x.test");
        assert_eq!(id["email_verified"], true);
    }
    assert_eq!(server.user_count(POOL).await, 2);
    // The unconfirmed sign-up is untouched, and is still what the address signs in as.
    let squatter = server.find_user(POOL, "victim@x.test").await.unwrap();
    assert_eq!(squatter.status.as_str(), "UNCONFIRMED");

    // A confirmed local user's own first Google sign-in (no linking) goes through too.
    let mut attributes = std::collections::BTreeMap::new();
    attributes.insert("email_verified".to_string(), "true".to_string());
    let local = server
        .create_user(POOL, "owner@x.test", attributes, PASSWORD)
        .await;
    let id = google_sign_in(&server, &google, "g-owner", "owner@x.test").await;
    assert_eq!(id["cognito:username"], "Google_g-owner");
    assert_ne!(id["sub"], local.sub.as_str());
    // And a local sign-up with the address of a federated user goes through.
    google_sign_in(&server, &google, "g-first", "first@x.test").await;
    assert_eq!(sign_up(&base, "first@x.test").await, 303);
    assert_eq!(server.user_count(POOL).await, 6);
    server.stop().await;
}

#[tokio::test]
async fn an_unconfirmed_sign_up_does_not_block_a_first_federated_sign_in() {
    let google = fake_google().await;
    let server = TestServer::start_with(
        &pools(&google),
        "idp_timeout_secs = 5",
        &[GOOGLE_SECRET_ENV],
    )
    .await;
    unconfirmed_sign_up_does_not_block_the_first_federated_sign_in(server, google).await;
}

#[tokio::test]
async fn an_unconfirmed_sign_up_does_not_block_a_first_federated_sign_in_on_postgres() {
    let Some(db) = crate::support::pg::fresh_pg_url("fed_first").await else {
        return;
    };
    let (_, key) = cognate::core::secrets::MasterKey::generate();
    let google = fake_google().await;
    let server = TestServer::start_with(
        &pools(&google),
        "idp_timeout_secs = 5",
        &[
            GOOGLE_SECRET_ENV,
            ("COGNATE_DATABASE_URL", db.url.as_str()),
            ("COGNATE_MASTER_KEY", key.as_str()),
        ],
    )
    .await;
    assert_eq!(server.node.store.engine(), "postgres");
    unconfirmed_sign_up_does_not_block_the_first_federated_sign_in(server, google).await;
    db.cleanup().await;
}
