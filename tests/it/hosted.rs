//! The hosted sign-in path end to end over HTTP, browserless: authorize, the login page,
//! the code, the token endpoint, userInfo, refresh, revoke, and the demo app.

use serde_json::Value;

use crate::support::server::{absolute, browser_client, hidden, sign_in, TestServer};

pub const POOL: &str = "us-east-1_HostedT01";
pub const SPA: &str = "hostedspa00000000000000001";
pub const WEB: &str = "hostedweb00000000000000001";

pub fn pools_toml() -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "Hosted tests"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
required_attributes = ["email"]

[[pools.clients]]
id = "{SPA}"
name = "spa"
callback_urls = ["http://127.0.0.1:9/cb", "https://app.example.com/cb"]
logout_urls = ["https://app.example.com/bye"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile", "aws.cognito.signin.user.admin"]

[[pools.clients]]
id = "{WEB}"
name = "web"
generate_secret = true
callback_urls = ["https://web.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
refresh_token_rotation = {{ enabled = true, grace_period_seconds = 0 }}
"#
    )
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.to_string())
}

#[tokio::test]
async fn browserless_code_flow_with_pkce_userinfo_refresh_and_revoke() {
    let server = TestServer::start(&pools_toml()).await;
    server.user(POOL, "alice", "Correct-horse-1").await;
    let client = browser_client();
    let verifier = "v".repeat(50);
    let challenge = cognate::core::oauth::grants::pkce_challenge(&verifier);
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={SPA}&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&scope=openid+email+profile&state=xyz&nonce=n-1&code_challenge={challenge}&code_challenge_method=S256",
        server.base
    );
    let location = sign_in(
        &client,
        &server.base,
        &authorize,
        "alice",
        "Correct-horse-1",
    )
    .await
    .expect("signed in");
    assert!(location.starts_with("http://127.0.0.1:9/cb?"), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    let issuer = format!("{}/{POOL}", server.base);
    assert_eq!(
        query_param(&location, "iss").as_deref(),
        Some(issuer.as_str())
    );
    let code = query_param(&location, "code").unwrap();

    let token = client
        .post(format!("{}/oauth2/token", server.base))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", SPA),
            ("code", code.as_str()),
            ("redirect_uri", "http://127.0.0.1:9/cb"),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), 200);
    let tokens: Value = token.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap();
    assert!(tokens["id_token"].is_string());
    assert!(tokens["refresh_token"].is_string());
    assert_eq!(tokens["token_type"], "Bearer");

    let info: Value = client
        .get(format!("{}/oauth2/userInfo", server.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["email_verified"], true);
    assert_eq!(info["username"], "alice");

    // The session signs the user in again without a password.
    let again = client.get(&authorize).send().await.unwrap();
    let loc = again.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("http://127.0.0.1:9/cb?code="), "{loc}");

    // Refresh, then revoke the family: refresh and access tokens stop working.
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let refreshed = client
        .post(format!("{}/oauth2/token", server.base))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", SPA),
            ("refresh_token", refresh),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(refreshed.status(), 200);
    let r = client
        .post(format!("{}/oauth2/revoke", server.base))
        .form(&[("client_id", SPA), ("token", refresh)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let after = client
        .get(format!("{}/oauth2/userInfo", server.base))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    server.stop().await;
}

#[tokio::test]
async fn sign_up_confirm_by_mailed_code_then_sign_in() {
    let server = TestServer::start(&pools_toml()).await;
    let client = browser_client();
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={WEB}&redirect_uri=https%3A%2F%2Fweb.example.com%2Fcb&scope=openid+email&state=s1",
        server.base
    );
    let r = client.get(&authorize).send().await.unwrap();
    let login = absolute(&server.base, r.headers()["location"].to_str().unwrap());
    let flow = query_param(&login, "flow").unwrap();
    let page = client
        .get(format!("{}/signup?flow={flow}", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "_csrf").unwrap();
    // A weak password is refused with what is missing; the corrected one is accepted.
    let weak = client
        .post(format!("{}/signup", server.base))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "bob"),
            ("email", "bob@example.com"),
            ("password", "short"),
            ("password_confirm", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(weak.status(), 200);
    let body = weak.text().await.unwrap();
    assert!(body.contains("role=\"alert\""), "{body}");
    let ok = client
        .post(format!("{}/signup", server.base))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "bob"),
            ("email", "bob@example.com"),
            ("password", "Strong-pass-1"),
            ("password_confirm", "Strong-pass-1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 303, "{}", ok.text().await.unwrap());
    let confirm_url = absolute(&server.base, ok.headers()["location"].to_str().unwrap());
    assert!(confirm_url.contains("/confirm?"), "{confirm_url}");
    let code = server.inbox.code_for("bob@example.com").await;
    let r = client
        .post(format!("{}/confirm", server.base))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "bob"),
            ("code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let r = client
        .post(format!("{}/login", server.base))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "bob@example.com"),
            ("password", "Strong-pass-1"),
        ])
        .send()
        .await
        .unwrap();
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("https://web.example.com/cb?code="), "{loc}");
    server.stop().await;
}
