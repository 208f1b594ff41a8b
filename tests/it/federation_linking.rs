//! Which user a federated sign-in becomes. An identity an administrator linked with
//! `cognate users link` signs in as that local user; with the pool's
//! `link_federated_users_by_email`, a first sign-in whose email the IdP vouches for
//! becomes the one local user holding that verified address, while an unverified upstream
//! email, two holders, a disabled holder or the option left off never hand an account
//! over. A new federated user must bring the pool's required attributes. Each refusal is
//! paired with the corrected sign-in succeeding.

use serde_json::{json, Value};

use crate::support::fake_oauth2::FakeOAuth2;
use crate::support::fake_oidc::FakeOidc;
use crate::support::federated::{
    self, callback, facebook_idp, fake_facebook, fake_google, google_idp, location, param,
    through_idp, Client, Outcome, FACEBOOK_SECRET_ENV, GOOGLE_SECRET_ENV, STATE,
};
use crate::support::server::{browser_client, TestServer};
use cognate::core::model::User;

/// `link_federated_users_by_email = true`; Facebook declared `emails_verified = true`.
const LINKING: &str = "us-east-1_LinkTst01";
/// The default: no automatic linking.
const PLAIN: &str = "us-east-1_LinkTst02";
/// `required_attributes = ["email"]`.
const REQUIRED: &str = "us-east-1_LinkTst03";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "linking-test-verifier-0123456789-abcdefghijklmnopqrst";
const PASSWORD: &str = "Correct-Horse-9";
const FB_ID: &str = "10158000000000077";

struct Env {
    server: TestServer,
    google: FakeOidc,
    facebook: FakeOAuth2,
}

/// The client of `pool`.
fn rp(pool: &str) -> Client {
    let id = format!("linkweb{}", pool.to_lowercase().replace(['-', '_'], ""));
    Client::new(&id, CALLBACK, VERIFIER)
}

/// Three pools sharing one fake Google and one fake Facebook (each pool declares them).
async fn env() -> Env {
    let google = fake_google().await;
    let facebook = fake_facebook().await;
    let idps = |pool: &str, facebook_extra: &str| {
        format!(
            "{}{}{}",
            google_idp(&google.issuer),
            facebook_idp(&facebook.base, facebook_extra),
            rp(pool).toml(&["Google", "Facebook"])
        )
    };
    let pools = format!(
        "[[pools]]\nid = \"{LINKING}\"\nname = \"Linking by email\"\n\
         link_federated_users_by_email = true\n{}\n\
         [[pools]]\nid = \"{PLAIN}\"\nname = \"No automatic linking\"\n{}\n\
         [[pools]]\nid = \"{REQUIRED}\"\nname = \"Email required\"\n\
         required_attributes = [\"email\"]\n{}",
        idps(LINKING, "emails_verified = true"),
        idps(PLAIN, ""),
        idps(REQUIRED, ""),
    );
    let server = TestServer::start_with(
        &pools,
        "idp_timeout_secs = 5",
        &[GOOGLE_SECRET_ENV, FACEBOOK_SECRET_ENV],
    )
    .await;
    Env {
        server,
        google,
        facebook,
    }
}

fn authorize_url(env: &Env, pool: &str, idp: &str) -> String {
    rp(pool).authorize_url(&env.server.base, &[("identity_provider", idp)])
}

/// Up to the IdP's answer: the `/oauth2/idpresponse` URL the browser is sent back to.
async fn via_idp(browser: &reqwest::Client, env: &Env, pool: &str, idp: &str) -> String {
    through_idp(browser, &authorize_url(env, pool, idp)).await
}

/// A whole sign-in in a fresh browser: the client's redirect, or the page shown.
async fn sign_in(env: &Env, pool: &str, idp: &str) -> Outcome {
    federated::sign_in(&authorize_url(env, pool, idp)).await
}

/// The ID token the client gets for a successful sign-in.
async fn id_token(env: &Env, pool: &str, outcome: Outcome) -> Value {
    let redirect = outcome.unwrap_or_else(|e| panic!("the sign-in failed: {e:?}"));
    rp(pool).id_token(&env.server.base, &redirect).await
}

/// A local (password) user with this email, verified or not.
async fn local(env: &Env, pool: &str, username: &str, email: &str, verified: bool) -> User {
    let attributes = [
        ("email".to_string(), email.to_string()),
        ("email_verified".to_string(), verified.to_string()),
    ]
    .into();
    env.server
        .create_user(pool, username, attributes, PASSWORD)
        .await
}

fn assert_identities(id: &Value, provider: &str, user_id: &str) {
    let identities = id["identities"].as_array().expect("identities claim");
    assert_eq!(identities.len(), 1, "{id}");
    assert_eq!(identities[0]["providerName"], provider);
    assert_eq!(identities[0]["userId"], user_id);
}

/// `cognate users link` (AdminLinkProviderForUser), run as the real binary on the
/// server's own data directory while it runs.
async fn cli_link(env: &Env, pool: &str, user: &str, provider: &str, subject: &str) {
    let data_dir = env.server.node.config.server.data_dir.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = crate::support::process::run(
        dir.path(),
        &[
            "--data-dir",
            &data_dir,
            "users",
            "link",
            "--pool",
            pool,
            user,
            "--provider",
            provider,
            "--provider-type",
            provider,
            "--subject",
            subject,
        ],
        &[],
    )
    .await;
    assert_eq!(code, 0, "cognate users link: {out}{err}");
    assert!(
        out.contains(&format!("linked {user} to {provider}:{subject}")),
        "{out}"
    );
}

#[tokio::test]
async fn a_link_made_with_the_cli_makes_the_idp_sign_in_the_local_user() {
    let env = env().await;
    let ana = local(&env, PLAIN, "ana", "ana@example.com", true).await;
    let bob = local(&env, PLAIN, "bob", "bob@example.com", true).await;

    // Without a link (and without automatic linking, this pool's default), Bob's Google
    // identity becomes a new user, though its verified address is local Bob's.
    env.google.set_user(
        "g-bob",
        json!({"email": "bob@example.com", "email_verified": true, "name": "Bob G"}),
    );
    let id = id_token(&env, PLAIN, sign_in(&env, PLAIN, "Google").await).await;
    assert_eq!(id["cognito:username"], "Google_g-bob");
    assert_ne!(id["sub"], bob.sub.as_str());
    assert_identities(&id, "Google", "g-bob");
    assert_eq!(
        env.server.find_user(PLAIN, "bob").await.unwrap(),
        bob,
        "untouched"
    );

    // With the link an administrator made, Ana's Google identity signs in as Ana.
    cli_link(&env, PLAIN, "ana", "Google", "g-ana").await;
    env.google.set_user(
        "g-ana",
        json!({"email": "ana.b@gmail.example", "email_verified": true, "name": "Ana from Google"}),
    );
    for _ in 0..2 {
        let id = id_token(&env, PLAIN, sign_in(&env, PLAIN, "Google").await).await;
        assert_eq!(id["sub"], ana.sub.as_str());
        assert_eq!(id["cognito:username"], "ana");
        assert_identities(&id, "Google", "g-ana");
        // The account keeps its verified address; other mapped attributes refresh.
        assert_eq!(id["email"], "ana@example.com");
        assert_eq!(id["email_verified"], true);
        assert_eq!(id["name"], "Ana from Google");
    }
    assert!(env.server.find_user(PLAIN, "Google_g-ana").await.is_none());
    assert_eq!(
        env.server.user_count(PLAIN).await,
        3,
        "ana, bob and Google_g-bob"
    );
    // Ana still signs in by email and password (her email alias is untouched).
    let stored = env.server.find_user(PLAIN, "ana").await.unwrap();
    assert_eq!(stored.attribute("email"), Some("ana@example.com"));
    assert_eq!(stored.status.as_str(), "CONFIRMED");
    assert!(stored.password_hash.is_some());
}

#[tokio::test]
async fn a_verified_email_links_the_first_sign_in_to_the_local_user() {
    let env = env().await;
    let ana = local(&env, LINKING, "ana", "ana@example.com", true).await;

    // The attack: an IdP asserting Ana's address without having verified it. A new user,
    // and Ana's account is exactly as it was.
    env.google.set_user(
        "g-mallory",
        json!({"email": "ana@example.com", "email_verified": false, "name": "Mallory"}),
    );
    let id = id_token(&env, LINKING, sign_in(&env, LINKING, "Google").await).await;
    assert_eq!(id["cognito:username"], "Google_g-mallory");
    assert_ne!(id["sub"], ana.sub.as_str());
    assert_eq!(id["email_verified"], false);
    assert_eq!(
        env.server.find_user(LINKING, "ana").await.unwrap(),
        ana,
        "untouched"
    );

    // Ana's own Google account, its address verified (spelt in another case): the first
    // sign-in is Ana, linked, and no Google_<id> user is made.
    env.google.set_user(
        "g-ana",
        json!({"email": "Ana@Example.com", "email_verified": true, "name": "Ana G"}),
    );
    for _ in 0..2 {
        let id = id_token(&env, LINKING, sign_in(&env, LINKING, "Google").await).await;
        assert_eq!(id["sub"], ana.sub.as_str());
        assert_eq!(id["cognito:username"], "ana");
        assert_identities(&id, "Google", "g-ana");
        assert_eq!(id["identities"][0]["providerType"], "Google");
        assert_eq!(
            id["email"], "ana@example.com",
            "the local verified address stays"
        );
        assert_eq!(id["name"], "Ana G");
    }
    assert!(env
        .server
        .find_user(LINKING, "Google_g-ana")
        .await
        .is_none());
    assert_eq!(
        env.server.user_count(LINKING).await,
        2,
        "ana and Google_g-mallory"
    );
    let linked = env.server.find_user(LINKING, "ana").await.unwrap();
    assert_eq!(linked.identities.len(), 1);
    assert_eq!(linked.identities[0].user_id, "g-ana");
    assert!(linked.password_hash.is_some(), "still a password user");
}

#[tokio::test]
async fn linking_needs_exactly_one_verified_holder_and_the_option() {
    let env = env().await;
    // Two local users hold one verified address (email is no alias in this pool): which
    // one the IdP means is unknown, so a new user.
    local(&env, LINKING, "twin1", "twin@example.com", true).await;
    local(&env, LINKING, "twin2", "Twin@example.com", true).await;
    env.google.set_user(
        "g-twin",
        json!({"email": "twin@example.com", "email_verified": true}),
    );
    let id = id_token(&env, LINKING, sign_in(&env, LINKING, "Google").await).await;
    assert_eq!(id["cognito:username"], "Google_g-twin");

    // A local user whose own copy is unverified is not the address's proven owner: a
    // new user, the local one untouched (and not counted against a verified holder).
    let unproven = local(&env, LINKING, "unproven", "cy@example.com", false).await;
    let cy = local(&env, LINKING, "cy", "cy@example.com", true).await;
    env.google.set_user(
        "g-cy",
        json!({"email": "cy@example.com", "email_verified": true}),
    );
    let id = id_token(&env, LINKING, sign_in(&env, LINKING, "Google").await).await;
    assert_eq!(id["sub"], cy.sub.as_str(), "the one verified holder");
    assert_eq!(
        env.server.find_user(LINKING, "unproven").await.unwrap(),
        unproven
    );
    let lone = local(&env, LINKING, "lone", "lone@example.com", false).await;
    env.google.set_user(
        "g-lone",
        json!({"email": "lone@example.com", "email_verified": true}),
    );
    let id = id_token(&env, LINKING, sign_in(&env, LINKING, "Google").await).await;
    assert_eq!(id["cognito:username"], "Google_g-lone");
    assert_eq!(env.server.find_user(LINKING, "lone").await.unwrap(), lone);

    // The option off (the default): the same verified match is a new user.
    let dee = local(&env, PLAIN, "dee", "dee@example.com", true).await;
    env.google.set_user(
        "g-dee",
        json!({"email": "dee@example.com", "email_verified": true}),
    );
    let id = id_token(&env, PLAIN, sign_in(&env, PLAIN, "Google").await).await;
    assert_eq!(id["cognito:username"], "Google_g-dee");
    assert_eq!(env.server.find_user(PLAIN, "dee").await.unwrap(), dee);
    // ... and on, it links.
    let dee = local(&env, LINKING, "dee", "dee@example.com", true).await;
    let id = id_token(&env, LINKING, sign_in(&env, LINKING, "Google").await).await;
    assert_eq!(id["sub"], dee.sub.as_str());
}

/// Facebook sends no `email_verified`; this pool declares its emails verified, so its
/// address links. The same profile in a pool that does not declare it creates a user.
#[tokio::test]
async fn a_provider_declared_to_verify_emails_links_without_a_claim() {
    let env = env().await;
    let profile = json!({"id": FB_ID, "name": "Erin F", "email": "erin@example.com"});
    env.facebook.set_profile(profile);
    let erin_plain = local(&env, PLAIN, "erin", "erin@example.com", true).await;
    let id = id_token(&env, PLAIN, sign_in(&env, PLAIN, "Facebook").await).await;
    assert_eq!(id["cognito:username"], format!("Facebook_{FB_ID}"));
    assert_eq!(id["email_verified"], false);
    assert_eq!(
        env.server.find_user(PLAIN, "erin").await.unwrap(),
        erin_plain
    );

    let erin = local(&env, LINKING, "erin", "erin@example.com", true).await;
    let id = id_token(&env, LINKING, sign_in(&env, LINKING, "Facebook").await).await;
    assert_eq!(id["sub"], erin.sub.as_str());
    assert_identities(&id, "Facebook", FB_ID);
    assert_eq!(id["identities"][0]["issuer"], Value::Null);
    assert_eq!(env.server.user_count(LINKING).await, 1);
}

/// A disabled holder of the address refuses the sign-in: the "disabled" page, and no
/// fresh account beside the disabled one. Enabled again, the same sign-in links.
#[tokio::test]
async fn a_disabled_holder_refuses_the_sign_in() {
    let env = env().await;
    let fay = local(&env, LINKING, "fay", "fay@example.com", true).await;
    let pool = env.server.pool(LINKING).await;
    let directory = &env.server.node.directory;
    let now = cognate::core::now();
    directory
        .set_enabled(&pool, &fay.sub, false, now)
        .await
        .unwrap();
    env.google.set_user(
        "g-fay",
        json!({"email": "fay@example.com", "email_verified": true}),
    );
    match sign_in(&env, LINKING, "Google").await {
        Err((403, page)) => assert!(page.contains("disabled"), "{page}"),
        other => panic!("a disabled user's address signed in: {other:?}"),
    }
    assert_eq!(env.server.user_count(LINKING).await, 1);
    assert!(env
        .server
        .find_user(LINKING, "fay")
        .await
        .unwrap()
        .identities
        .is_empty());

    directory
        .set_enabled(&pool, &fay.sub, true, now)
        .await
        .unwrap();
    let id = id_token(&env, LINKING, sign_in(&env, LINKING, "Google").await).await;
    assert_eq!(id["sub"], fay.sub.as_str());
}

/// Two first sign-ins of one identity at once (two browsers, both past the IdP): one link,
/// no new user, both signed in as the local user.
#[tokio::test]
async fn concurrent_first_sign_ins_link_once() {
    let env = env().await;
    let gus = local(&env, LINKING, "gus", "gus@example.com", true).await;
    env.google.set_user(
        "g-gus",
        json!({"email": "gus@example.com", "email_verified": true}),
    );
    for round in 0..3 {
        let browsers: Vec<reqwest::Client> = (0..4).map(|_| browser_client()).collect();
        let mut backs = Vec::new();
        for b in &browsers {
            backs.push(via_idp(b, &env, LINKING, "Google").await);
        }
        let outcomes = futures::future::join_all(
            browsers
                .iter()
                .zip(&backs)
                .map(|(b, back)| callback(b, back)),
        )
        .await;
        for outcome in outcomes {
            let id = id_token(&env, LINKING, outcome).await;
            assert_eq!(id["sub"], gus.sub.as_str(), "round {round}");
        }
        assert_eq!(env.server.user_count(LINKING).await, 1, "round {round}");
        let stored = env.server.find_user(LINKING, "gus").await.unwrap();
        assert_eq!(stored.identities.len(), 1, "round {round}");
    }
}

/// Cognito refuses to create a federated user without the pool's required attributes:
/// no user, a page naming what the provider did not share, and its button carries the
/// client's OAuth error to its redirect URI. The corrected sign-in (the email shared)
/// succeeds, and an existing user is never refused for it later.
#[tokio::test]
async fn a_new_federated_user_needs_the_required_attributes() {
    let env = env().await;
    let no_email = json!({"id": FB_ID, "name": "No Mail", "first_name": "No", "last_name": "Mail"});
    env.facebook.set_profile(no_email.clone());
    let (status, page) = sign_in(&env, REQUIRED, "Facebook")
        .await
        .expect_err("refused");
    assert_eq!(status, 400);
    assert!(page.contains("Facebook"), "{page}");
    assert!(page.contains("Email"), "{page}");
    assert_eq!(env.server.user_count(REQUIRED).await, 0);
    let back = back_link(&page);
    assert!(back.starts_with(CALLBACK), "{back}");
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(
        param(&back, "error_description").as_deref(),
        Some("Invalid user attributes: email: Attribute is required.")
    );
    assert_eq!(param(&back, "state").as_deref(), Some(STATE));
    assert!(param(&back, "iss").is_some());
    assert_eq!(param(&back, "code"), None);

    // The same through Google without an email, in French.
    env.google
        .set_user("g-nomail", json!({"name": "Sans Courriel"}));
    let browser = browser_client();
    let r = browser
        .get(authorize_url(&env, REQUIRED, "Google") + "&lang=fr")
        .send()
        .await
        .unwrap();
    let r = browser.get(location(&r)).send().await.unwrap();
    let (status, page) = callback(&browser, &location(&r))
        .await
        .expect_err("refused");
    assert_eq!(status, 400);
    assert!(page.contains("Adresse e-mail"), "{page}");
    assert_eq!(env.server.user_count(REQUIRED).await, 0);

    // The user shares the email: signed in.
    env.facebook
        .set_profile(json!({"id": FB_ID, "name": "No Mail", "email": "nomail@example.com"}));
    let id = id_token(&env, REQUIRED, sign_in(&env, REQUIRED, "Facebook").await).await;
    assert_eq!(id["cognito:username"], format!("Facebook_{FB_ID}"));
    assert_eq!(id["email"], "nomail@example.com");
    // Later the email is withdrawn at Facebook: the existing user still signs in.
    env.facebook.set_profile(no_email);
    let id = id_token(&env, REQUIRED, sign_in(&env, REQUIRED, "Facebook").await).await;
    assert_eq!(id["cognito:username"], format!("Facebook_{FB_ID}"));
    assert_eq!(env.server.user_count(REQUIRED).await, 1);
}

/// The error page's "Go back" link, unescaped.
fn back_link(page: &str) -> String {
    let page = page
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
        .replace("&#x3d;", "=");
    let start = page
        .find("class=\"button\" href=\"")
        .unwrap_or_else(|| panic!("no back link: {page}"))
        + "class=\"button\" href=\"".len();
    page[start..start + page[start..].find('"').unwrap()].to_string()
}
