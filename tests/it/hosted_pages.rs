//! The hosted account pages over HTTP, browserless (a cookie-keeping reqwest client filling
//! each form with its flow and CSRF token): forgot and reset password with the code read
//! from the mail, the first sign-in of an administrator-created user who must choose a new
//! password (Cognito's NEW_PASSWORD_REQUIRED), and sign-up offered or refused by the pool.

use std::collections::BTreeMap;

use serde_json::Value;

use cognate::core::directory::{InitialState, NewUser};
use cognate::core::model::UserStatus;
use cognate::core::oauth::grants::pkce_challenge;
use cognate::core::secrets::SecretString;

use crate::hosted::{self, POOL, SPA};
use crate::support::server::{absolute, browser_client, hidden, page, TestServer};

/// A pool that allows only administrator-created users, with a stricter password policy
/// than Cognito's default (so the rules the page lists are this pool's own).
const ADMIN_POOL: &str = "us-east-1_HostedAdm01";
const ADMIN_SPA: &str = "hostedadmin000000000000001";
const CALLBACK: &str = "http://127.0.0.1:9/cb";
const VERIFIER: &str = "verifier-of-the-hosted-pages-tests-0123456789";

fn pools_toml() -> String {
    format!(
        r#"{}
[[pools]]
id = "{ADMIN_POOL}"
name = "Hosted admin-only"
admin_create_user_only = true
alias_attributes = ["email"]
password_policy = {{ minimum_length = 12, require_symbols = true }}

[[pools.clients]]
id = "{ADMIN_SPA}"
name = "admin spa"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
"#,
        hosted::pools_toml()
    )
}

/// The authorization request of a public client (PKCE with [`VERIFIER`]).
fn authorize_url(base: &str, client_id: &str) -> String {
    let challenge = pkce_challenge(VERIFIER);
    format!(
        "{base}/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid+email&state=st-1&code_challenge={challenge}&code_challenge_method=S256"
    )
}

/// A login flow started by `/oauth2/authorize`: its id, CSRF token and sign-in page.
struct Flow {
    id: String,
    csrf: String,
    login_page: String,
}

async fn start_flow(client: &reqwest::Client, base: &str, client_id: &str) -> Flow {
    let r = client
        .get(authorize_url(base, client_id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "authorize");
    let login = absolute(base, &location(&r).expect("a redirect to /login"));
    assert!(login.contains("/login?flow="), "{login}");
    let login_page = unescaped(&page(client, &login).await);
    Flow {
        id: hidden(&login_page, "flow").expect("flow on the login page"),
        csrf: hidden(&login_page, "_csrf").expect("csrf on the login page"),
        login_page,
    }
}

/// A page's HTML with the entities the templates' escaping writes for `/`, `'` and `&`
/// turned back, so tests can look for links and messages as written.
async fn page_text(r: reqwest::Response) -> String {
    unescaped(&r.text().await.unwrap())
}

fn unescaped(html: &str) -> String {
    html.replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

fn location(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
}

/// Posts a hosted form: the flow's id and CSRF token plus `fields`.
async fn post(
    client: &reqwest::Client,
    base: &str,
    path: &str,
    flow: &Flow,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("flow", flow.id.as_str()), ("_csrf", flow.csrf.as_str())];
    form.extend_from_slice(fields);
    client
        .post(format!("{base}{path}"))
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Signs in on the flow's login form; the response as it came.
async fn login(
    client: &reqwest::Client,
    base: &str,
    flow: &Flow,
    username: &str,
    password: &str,
) -> reqwest::Response {
    post(
        client,
        base,
        "/login",
        flow,
        &[("username", username), ("password", password)],
    )
    .await
}

/// The code a successful sign-in redirect carries to the client.
fn code_of(location: &str) -> String {
    assert!(location.starts_with(&format!("{CALLBACK}?")), "{location}");
    url::Url::parse(location)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "code")
        .map(|(_, v)| v.to_string())
        .unwrap_or_else(|| panic!("no code in {location}"))
}

/// Exchanges a code for tokens (public client, PKCE).
async fn redeem(client: &reqwest::Client, base: &str, client_id: &str, code: &str) -> Value {
    let r = client
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Another six-digit code than `code`.
fn wrong_code(code: &str) -> String {
    let n: u32 = code.parse().unwrap();
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn forgot_password_mails_a_code_that_resets_the_password_over_http() {
    let server = TestServer::start(&pools_toml()).await;
    server.user(POOL, "alice", "Old-password-1").await;
    let client = browser_client();
    let base = server.base.as_str();
    let flow = start_flow(&client, base, SPA).await;
    let forgot_link = format!("/forgot-password?flow={}", flow.id);
    assert!(
        flow.login_page.contains(&forgot_link),
        "{}",
        flow.login_page
    );

    let forgot = page(&client, &format!("{base}{forgot_link}")).await;
    assert_eq!(
        hidden(&forgot, "_csrf").as_deref(),
        Some(flow.csrf.as_str())
    );
    // A forged CSRF token is refused; the page's own is accepted below.
    let forged = Flow {
        csrf: "forged".into(),
        ..start_flow(&client, base, SPA).await
    };
    let r = post(
        &client,
        base,
        "/forgot-password",
        &forged,
        &[("username", "alice")],
    )
    .await;
    assert_eq!(r.status(), 403);
    assert!(server.inbox.all().is_empty(), "no mail for a refused form");

    let r = post(
        &client,
        base,
        "/forgot-password",
        &flow,
        &[("username", "alice")],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let reset_url = absolute(base, &location(&r).unwrap());
    assert!(
        reset_url.starts_with(&format!("{base}/reset-password?flow={}", flow.id)),
        "{reset_url}"
    );
    let code = server.inbox.code_for("alice@example.com").await;
    let reset = unescaped(&page(&client, &reset_url).await);
    // The page names the account (the flow remembers it) and where the code went, masked.
    assert_eq!(hidden(&reset, "username").as_deref(), Some("alice"));
    assert!(reset.contains("role=\"status\""), "{reset}");
    assert!(!reset.contains("alice@example.com"), "{reset}");

    // A wrong code is refused with a clear message, and the password stays as it was.
    let new_password = "New-password-2";
    let r = post(
        &client,
        base,
        "/reset-password",
        &flow,
        &[
            ("username", "alice"),
            ("code", &wrong_code(&code)),
            ("password", new_password),
            ("password_confirm", new_password),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let body = page_text(r).await;
    assert!(body.contains("role=\"alert\""), "{body}");
    assert!(body.contains("Invalid verification code"), "{body}");

    // The right code with the new password: back to the sign-in page, with a notice.
    let r = post(
        &client,
        base,
        "/reset-password",
        &flow,
        &[
            ("username", "alice"),
            ("code", &code),
            ("password", new_password),
            ("password_confirm", new_password),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let back = absolute(base, &location(&r).unwrap());
    assert!(back.contains("notice=password_changed"), "{back}");
    let login_page = unescaped(&page(&client, &back).await);
    assert!(
        login_page.contains("Your password has been changed"),
        "{login_page}"
    );

    // The old password no longer signs in; the new one does, and the client gets a code.
    let r = login(&client, base, &flow, "alice", "Old-password-1").await;
    assert_eq!(r.status(), 200);
    let body = page_text(r).await;
    assert!(body.contains("Incorrect username or password."), "{body}");
    let r = login(&client, base, &flow, "alice", new_password).await;
    assert_eq!(r.status(), 303);
    let code = code_of(&location(&r).unwrap());
    let tokens = redeem(&client, base, SPA, &code).await;
    assert!(tokens["id_token"].is_string(), "{tokens}");
    server.stop().await;
}

#[tokio::test]
async fn an_invited_user_chooses_a_new_password_at_first_sign_in_over_http() {
    let server = TestServer::start(&pools_toml()).await;
    let pool = server.pool(ADMIN_POOL).await;
    let temporary = "Temporary-pass-1";
    let attributes = BTreeMap::from([
        ("email".to_string(), "ivy@example.com".to_string()),
        ("email_verified".to_string(), "true".to_string()),
    ]);
    server
        .node
        .directory
        .create_user(
            &pool,
            NewUser {
                username: "ivy".into(),
                attributes,
                password: Some(SecretString::new(temporary)),
                state: InitialState::ForceChangePassword,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    let client = browser_client();
    let base = server.base.as_str();
    let flow = start_flow(&client, base, ADMIN_SPA).await;

    // No new password before the temporary one is proven.
    let good = "Brand-new-pass-42";
    let pair = [("password", good), ("password_confirm", good)];
    let r = post(&client, base, "/login/new-password", &flow, &pair).await;
    assert_eq!(r.status(), 400);

    // The temporary password leads to the new-password page, not to the client.
    let r = login(&client, base, &flow, "ivy", temporary).await;
    assert_eq!(r.status(), 200);
    assert!(location(&r).is_none());
    let body = page_text(r).await;
    assert!(
        body.contains("action=\"/login/new-password\""),
        "new-password page expected: {body}"
    );
    assert_eq!(hidden(&body, "_csrf").as_deref(), Some(flow.csrf.as_str()));
    // The page lists this pool's rules.
    assert!(body.contains("At least 12 characters"), "{body}");

    // A password that breaks the policy is refused with what is wrong, on the same page.
    let weak = "short-1A";
    let r = post(
        &client,
        base,
        "/login/new-password",
        &flow,
        &[("password", weak), ("password_confirm", weak)],
    )
    .await;
    assert_eq!(r.status(), 200);
    let body = page_text(r).await;
    assert!(body.contains("role=\"alert\""), "{body}");
    // What this password lacks ("short-1A" has a symbol, not the length), as sign-up
    // and reset say it.
    assert!(
        body.contains("Your password does not meet the requirements. (at least 12 characters)"),
        "{body}"
    );
    assert!(body.contains("At least 12 characters"), "{body}");
    assert!(body.contains("action=\"/login/new-password\""), "{body}");
    // Two different entries are refused too.
    let r = post(
        &client,
        base,
        "/login/new-password",
        &flow,
        &[
            ("password", good),
            ("password_confirm", "Brand-new-pass-43"),
        ],
    )
    .await;
    let body = page_text(r).await;
    assert!(body.contains("The passwords do not match."), "{body}");
    // Another browser cannot finish this flow, even with its CSRF token.
    let r = post(&browser_client(), base, "/login/new-password", &flow, &pair).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        server.find_user(ADMIN_POOL, "ivy").await.unwrap().status,
        UserStatus::ForceChangePassword
    );

    // A good one completes the sign-in: the client gets a code that redeems.
    let r = post(&client, base, "/login/new-password", &flow, &pair).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let code = code_of(&location(&r).unwrap());
    let tokens = redeem(&client, base, ADMIN_SPA, &code).await;
    assert!(tokens["access_token"].is_string(), "{tokens}");
    assert_eq!(
        server.find_user(ADMIN_POOL, "ivy").await.unwrap().status,
        UserStatus::Confirmed
    );

    // From now on the temporary password is refused and the new one signs straight in.
    let fresh = browser_client();
    let flow = start_flow(&fresh, base, ADMIN_SPA).await;
    let r = login(&fresh, base, &flow, "ivy", temporary).await;
    let body = page_text(r).await;
    assert!(body.contains("Incorrect username or password."), "{body}");
    let r = login(&fresh, base, &flow, "ivy@example.com", good).await;
    assert_eq!(r.status(), 303);
    code_of(&location(&r).unwrap());
    server.stop().await;
}

#[tokio::test]
async fn sign_up_is_refused_on_an_admin_only_pool_and_offered_on_a_self_sign_up_pool() {
    let server = TestServer::start(&pools_toml()).await;
    let client = browser_client();
    let base = server.base.as_str();

    // Admin-only: no sign-up link, and the sign-up page and form answer 403.
    let flow = start_flow(&client, base, ADMIN_SPA).await;
    assert!(!flow.login_page.contains("/signup"), "{}", flow.login_page);
    assert!(
        flow.login_page.contains("/forgot-password?flow="),
        "{}",
        flow.login_page
    );
    let r = client
        .get(format!("{base}/signup?flow={}", flow.id))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body = page_text(r).await;
    assert!(body.contains("Sign-up is not available."), "{body}");
    let password = "Strong-pass-12";
    let fields = [
        ("username", "mallory"),
        ("email", "mallory@example.com"),
        ("password", password),
        ("password_confirm", password),
    ];
    let r = post(&client, base, "/signup", &flow, &fields).await;
    assert_eq!(r.status(), 403);
    assert!(server.find_user(ADMIN_POOL, "mallory").await.is_none());
    assert_eq!(server.user_count(ADMIN_POOL).await, 0);

    // Self sign-up: the link is there, and the same form creates the user.
    let flow = start_flow(&client, base, SPA).await;
    let link = format!("/signup?flow={}", flow.id);
    assert!(flow.login_page.contains(&link), "{}", flow.login_page);
    let r = client.get(format!("{base}{link}")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let signup = page_text(r).await;
    assert!(signup.contains("action=\"/signup\""), "{signup}");
    let r = post(&client, base, "/signup", &flow, &fields).await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    assert!(location(&r).unwrap().starts_with("/confirm?"));
    assert_eq!(
        server.find_user(POOL, "mallory").await.unwrap().status,
        UserStatus::Unconfirmed
    );
    server.stop().await;
}
