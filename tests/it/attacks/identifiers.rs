//! Sign-in identifiers that are not what they seem: a username shaped like another user's
//! email (or equal to another user's alias) that would capture their sign-in and recovery,
//! an address with a display name that sends the code elsewhere, and a local user named
//! like a federated one. Each attack goes over the hosted pages, beside the honest
//! request succeeding.

use super::*;
use crate::account_attacks::{on_both_engines, Engine};
use crate::support::pg::PgNodeEnv;
use crate::support::server::sign_in;

const POOL_ID: &str = "us-east-1_IdentT01";
const APP: &str = "identapp000000000000000001";
const APP_CALLBACK: &str = "https://app.example.com/cb";
const VIC_PASSWORD: &str = "Victims-pass-1";
const MAL_PASSWORD: &str = "Mallorys-pass-1";

/// A pool that signs in by username, verified email and preferred_username, and sends
/// codes by email.
fn pool_toml(extra: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL_ID}"
name = "Identifiers"
alias_attributes = ["email", "preferred_username"]
auto_verified_attributes = ["email"]
required_attributes = ["email", "preferred_username"]
{extra}
[[pools.clients]]
id = "{APP}"
name = "app"
generate_secret = true
callback_urls = ["{APP_CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
"#
    )
}

/// The pool's server on `engine`, with the PostgreSQL schema it runs on (dropped by
/// [`stop_on`]); `None` when no test database is configured (see [`PgNodeEnv::new`]).
async fn start_on(engine: Engine, toml: &str) -> Option<(TestServer, Option<PgNodeEnv>)> {
    match engine {
        Engine::Sqlite => Some((TestServer::start(toml).await, None)),
        Engine::Postgres => {
            let pg = PgNodeEnv::new("identifiers").await?;
            let server = TestServer::start_with(toml, "", &pg.vars()).await;
            Some((server, Some(pg)))
        }
    }
}

async fn stop_on(server: TestServer, pg: Option<PgNodeEnv>) {
    server.stop().await;
    if let Some(pg) = pg {
        pg.cleanup().await;
    }
}

// The store's one space of sign-in identifiers is what holes 3's attacks meet, so they run
// on both engines.
on_both_engines!(
    a_username_shaped_like_an_email_cannot_take_over_an_email_sign_in,
    a_username_cannot_equal_another_users_alias_nor_the_reverse,
);

fn authorize_url(base: &str) -> String {
    format!(
        "{base}/oauth2/authorize?response_type=code&client_id={APP}\
         &redirect_uri=https%3A%2F%2Fapp.example.com%2Fcb&scope=openid+email&state=s"
    )
}

/// A browser inside a fresh login flow: the browser, the flow id and its CSRF token.
async fn in_flow(base: &str) -> (reqwest::Client, String, String) {
    let browser = browser_client();
    let started = get(&browser, &authorize_url(base)).await;
    let location = started
        .location
        .expect("authorize redirects to the login page");
    let flow = query_param(&absolute(base, &location), "flow")
        .unwrap_or_else(|| panic!("no flow in {location}"));
    let page = get(&browser, &format!("{base}/signup?flow={flow}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = hidden(&page.body, "_csrf").expect("_csrf");
    (browser, flow, csrf)
}

/// Posts a hosted account form (`/signup`, `/forgot-password`) in a fresh flow.
async fn submit(base: &str, path: &str, fields: &[(&str, &str)]) -> Page {
    let (browser, flow, csrf) = in_flow(base).await;
    let mut form = vec![("flow", flow.as_str()), ("_csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    read(
        browser
            .post(format!("{base}{path}"))
            .form(&form)
            .send()
            .await
            .unwrap(),
    )
    .await
}

/// Signs up over `/signup`.
async fn sign_up(base: &str, username: &str, email: &str, preferred: &str) -> Page {
    submit(
        base,
        "/signup",
        &[
            ("username", username),
            ("email", email),
            ("preferred_username", preferred),
            ("password", MAL_PASSWORD),
            ("password_confirm", MAL_PASSWORD),
        ],
    )
    .await
}

/// A refused sign-up: the form again, with `message` in its alert.
fn assert_refused_with(page: &Page, message: &str, what: &str) {
    assert_eq!(page.status, 200, "{what}: {}", page.body);
    assert!(page.location.is_none(), "{what}: {:?}", page.location);
    assert!(
        page.body.contains("role=\"alert\"") && page.body.contains(message),
        "{what}: no {message:?} in {}",
        page.body
    );
}

/// An accepted sign-up: on to the confirmation page.
fn assert_signed_up(page: &Page, what: &str) {
    assert_eq!(page.status, 303, "{what}: {}", page.body);
    let location = page.location.as_deref().unwrap_or_default();
    assert!(location.starts_with("/confirm?"), "{what}: {location}");
}

/// Whether any mail went to `address`.
fn mailed_to(server: &TestServer, address: &str) -> bool {
    server.inbox.all().iter().any(|m| m.contains(address))
}

/// The victim: `vic`, verified email vic@example.com, preferred_username victor.
async fn victim(server: &TestServer) {
    let attributes = [
        ("email", "vic@example.com"),
        ("email_verified", "true"),
        ("preferred_username", "victor"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    server
        .create_user(POOL_ID, "vic", attributes, VIC_PASSWORD)
        .await;
}

/// Issue 8, hole 3: the attacker signs up with the victim's verified email as username.
/// Sign-in looks usernames up before aliases, so the victim's email sign-in would find the
/// attacker, and a reset for the address would mail the attacker. Refused as Cognito does
/// (an email-shaped username where email is an alias), fullwidth `＠` included; the
/// victim's email sign-in and recovery still reach the victim; an honest username signs
/// up.
async fn a_username_shaped_like_an_email_cannot_take_over_an_email_sign_in(engine: Engine) {
    let Some((server, db)) = start_on(engine, &pool_toml("")).await else {
        return;
    };
    let base = server.base.clone();
    victim(&server).await;

    for username in [
        "vic@example.com",
        "VIC@EXAMPLE.COM",
        "vic\u{ff20}example.com",
    ] {
        let page = sign_up(&base, username, "mallory@evil.test", "mal").await;
        assert_refused_with(
            &page,
            "username: this pool signs users in by email address, so it must not contain @",
            username,
        );
    }
    // A preferred_username alias shaped like an address is refused the same way.
    let page = sign_up(&base, "mallory", "mallory@evil.test", "vic@example.com").await;
    assert_refused_with(
        &page,
        "preferred_username: this pool signs users in by email address",
        "email-shaped preferred_username",
    );
    assert_eq!(server.user_count(POOL_ID).await, 1);
    assert!(!mailed_to(&server, "mallory@evil.test"));

    // The victim's email sign-in reaches the victim, with the victim's password only.
    let signed_in = sign_in(
        &browser_client(),
        &base,
        &authorize_url(&base),
        "vic@example.com",
        VIC_PASSWORD,
    )
    .await
    .expect("the victim signs in by email");
    assert!(signed_in.starts_with(APP_CALLBACK), "{signed_in}");
    let attacker = sign_in(
        &browser_client(),
        &base,
        &authorize_url(&base),
        "vic@example.com",
        MAL_PASSWORD,
    )
    .await;
    assert!(attacker.is_err(), "{attacker:?}");
    // A reset for the address mails the victim.
    let page = submit(
        &base,
        "/forgot-password",
        &[("username", "vic@example.com")],
    )
    .await;
    assert_eq!(page.status, 303, "{}", page.body);
    let code = server.inbox.code_for("vic@example.com").await;
    assert_eq!(code.len(), 6);
    assert!(!mailed_to(&server, "mallory@evil.test"));

    // The honest sign-up with a plain username goes through and is mailed its code.
    let page = sign_up(&base, "mallory", "mallory@evil.test", "mal").await;
    assert_signed_up(&page, "honest sign-up");
    server.inbox.code_for("mallory@evil.test").await;
    assert_eq!(server.user_count(POOL_ID).await, 2);
    stop_on(server, db).await;
}

/// Usernames and aliases are one space: a username equal to another user's
/// preferred_username, and a preferred_username equal to another user's username, are
/// refused, so neither user's sign-in is shadowed; distinct names sign up.
async fn a_username_cannot_equal_another_users_alias_nor_the_reverse(engine: Engine) {
    let Some((server, db)) = start_on(engine, &pool_toml("")).await else {
        return;
    };
    let base = server.base.clone();
    victim(&server).await;

    let page = sign_up(&base, "Victor", "m1@evil.test", "m1").await;
    assert_refused_with(
        &page,
        "An account with this username already exists.",
        "username = another user's preferred_username",
    );
    let page = sign_up(&base, "mallory", "m2@evil.test", "VIC").await;
    assert_refused_with(
        &page,
        "An account with this username already exists.",
        "preferred_username = another user's username",
    );
    assert_eq!(server.user_count(POOL_ID).await, 1);
    assert!(!mailed_to(&server, "evil.test"));
    for login in ["vic", "victor", "vic@example.com"] {
        let signed_in = sign_in(
            &browser_client(),
            &base,
            &authorize_url(&base),
            login,
            VIC_PASSWORD,
        )
        .await
        .unwrap_or_else(|page| panic!("{login}: {page}"));
        assert!(signed_in.starts_with(APP_CALLBACK), "{login}: {signed_in}");
    }

    let page = sign_up(&base, "mallory", "m2@evil.test", "mal").await;
    assert_signed_up(&page, "distinct names");
    assert_eq!(server.user_count(POOL_ID).await, 2);
    stop_on(server, db).await;
}

/// Issue 8, hole 4: an email with a display name passed validation, the code went to the
/// bracketed address, and once confirmed the token carried the whole string with
/// `email_verified: true`. Only a plain address is accepted now; nothing is mailed for a
/// refused one; an honest address signs up and gets its code, mailed to exactly it.
#[tokio::test]
async fn an_email_with_a_display_name_is_refused_and_mails_nothing() {
    let server = TestServer::start(&pool_toml("")).await;
    let base = server.base.clone();
    for (i, email) in [
        "\"ceo@corp.test\"<mallory@evil.test>",
        "\"ceo@corp.test\" <mallory@evil.test>",
        "CEO <mallory@evil.test>",
        "\"ceo@corp.test\"@evil.test",
        "ceo@corp.test(mallory@evil.test)",
        "ceo@corp.test,mallory@evil.test",
    ]
    .into_iter()
    .enumerate()
    {
        let username = format!("ceo{i}");
        let page = sign_up(&base, &username, email, &username).await;
        assert_refused_with(
            &page,
            "email: must be a plain address (name@example.com), without a display name, \
             quotes, comments or angle brackets",
            email,
        );
    }
    let page = sign_up(&base, "ceo9", "ceo@corp.test@evil.test", "ceo9").await;
    assert_refused_with(&page, "email: must contain exactly one @", "two @");
    assert_eq!(server.user_count(POOL_ID).await, 0);
    // Give a wrongly accepted sign-up's mail time to arrive before saying none came.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(server.inbox.all().is_empty(), "{:?}", server.inbox.all());

    let page = sign_up(&base, "mallory", "mallory@evil.test", "mal").await;
    assert_signed_up(&page, "a plain address");
    server.inbox.code_for("mallory@evil.test").await;
    let mails = server.inbox.all();
    assert_eq!(mails.len(), 1, "{mails:?}");
    let to = mails[0]
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("to:"))
        .expect("a To header");
    assert_eq!(to.trim(), "To: mallory@evil.test");
    server.stop().await;
}

/// Issue 8, hole 9: a local user named `Google_<sub>` squatted the name a Google user's
/// first sign-in needs (and passed for that federated user). In a pool that declares
/// Google, sign-up and administrator creation refuse names starting `Google_` (in any case,
/// as this case-insensitive pool folds them), and a preferred_username alias likewise;
/// `Googlefan` signs up.
#[tokio::test]
async fn a_local_user_cannot_take_a_federated_users_name() {
    let idp = crate::support::federated::google_idp("https://accounts.google.example");
    let server = TestServer::start_with(
        &pool_toml(&idp),
        "",
        &[crate::support::federated::GOOGLE_SECRET_ENV],
    )
    .await;
    let base = server.base.clone();
    for (i, name) in ["Google_123", "google_123", "GOOGLE_110248495921238986420"]
        .into_iter()
        .enumerate()
    {
        let page = sign_up(
            &base,
            name,
            &format!("squat{i}@evil.test"),
            &format!("s{i}"),
        )
        .await;
        assert_refused_with(
            &page,
            "username: names starting with Google_ are kept for users who sign in through \
             that identity provider",
            name,
        );
    }
    let page = sign_up(&base, "mallory", "mallory@evil.test", "Google_123").await;
    assert_refused_with(
        &page,
        "preferred_username: names starting with Google_ are kept",
        "preferred_username",
    );
    // An administrator's creation is refused the same way (the directory's rule).
    let pool = server.pool(POOL_ID).await;
    let created = server
        .node
        .directory
        .create_user(
            &pool,
            cognate::core::directory::NewUser {
                username: "Google_123".into(),
                attributes: [
                    ("email".to_string(), "admin-made@example.com".to_string()),
                    ("preferred_username".to_string(), "adminmade".to_string()),
                ]
                .into(),
                password: None,
                state: cognate::core::directory::InitialState::Confirmed,
            },
            cognate::core::now(),
        )
        .await;
    assert!(
        matches!(
            created,
            Err(cognate::core::directory::DirectoryError::InvalidUsername(_))
        ),
        "{created:?}"
    );
    assert_eq!(server.user_count(POOL_ID).await, 0);

    // Names that merely start like the provider's are free.
    let page = sign_up(&base, "Googlefan", "fan@example.com", "fan").await;
    assert_signed_up(&page, "Googlefan");
    server.inbox.code_for("fan@example.com").await;
    assert_eq!(server.user_count(POOL_ID).await, 1);
    server.stop().await;
}
