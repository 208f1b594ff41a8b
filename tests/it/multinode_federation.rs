//! Federated sign-in across two `cognate` processes on one PostgreSQL database: the
//! browser starts at node A, the IdP sends it back to the shared public URL, and the load
//! balancer delivers that callback to node B. Node B must find the upstream flow (state,
//! nonce, PKCE) and accept node A's browser-binding cookie; the code it issues is redeemed
//! at node A; the flow and the code are single use across nodes.
//!
//! The "load balancer" is the test itself: both nodes share a public URL on a port the
//! test holds (nothing answers there), and each request is sent to the node of the test's
//! choosing by swapping the public origin for that node's address.

use serde_json::{json, Value};

use cognate::core::secrets::MasterKey;

use crate::federation::{assert_failed_page, location, param, payload};
use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::http;
use crate::support::pg::fresh_pg_url;
use crate::support::process::{run, CognateProcess};

const POOL: &str = "us-east-1_MultiFed01";
const CLIENT: &str = "multifed000000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "multinode-federation-verifier-0123456789-abcdefghijkl";

fn config(public: &str, google: &str) -> String {
    format!(
        r#"[server]
public_url = "{public}"
idp_timeout_secs = 5

[[pools]]
id = "{POOL}"
name = "Multi-node federation"

[[pools.identity_providers]]
name = "Google"
preset = "google"
client_id = "google-client"
client_secret_env = "MULTIFED_GOOGLE_SECRET"
issuer = "{google}"
endpoints = {{ authorize = "{google}/authorize", token = "{google}/token", jwks = "{google}/jwks", userinfo = "{google}/userinfo" }}

[[pools.clients]]
id = "{CLIENT}"
name = "web"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
supported_identity_providers = ["COGNITO", "Google"]
"#
    )
}

fn authorize_url(base: &str) -> String {
    let challenge = cognate::core::oauth::grants::pkce_challenge(VERIFIER);
    let mut url = url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT)
        .append_pair("redirect_uri", CALLBACK)
        .append_pair("scope", "openid email profile")
        .append_pair("state", "client-state")
        .append_pair("nonce", "client-nonce")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("identity_provider", "Google");
    url.into()
}

/// The `cognate_browser` cookie a response sets, as a `Cookie` header value.
fn browser_cookie(r: &reqwest::Response) -> String {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find(|pair| pair.starts_with("cognate_browser="))
        .unwrap_or_else(|| panic!("no cognate_browser cookie: {:?}", r.headers()))
        .to_string()
}

/// Starts a federated sign-in at `start` (a node's address) and follows it through the
/// fake IdP: the browser's cookie and the callback URL the IdP sent it to, which must be
/// on the shared public URL.
async fn through_idp(start: &str, public: &str, google: &FakeOidc) -> (String, String) {
    // The browser: no redirects followed, cookies carried by hand (the nodes have
    // different origins, the real browser only ever sees the public one).
    let browser = http();
    let r = browser.get(authorize_url(start)).send().await.unwrap();
    let upstream = location(&r);
    assert!(upstream.starts_with(&google.issuer), "{upstream}");
    assert_eq!(
        param(&upstream, "redirect_uri"),
        Some(format!("{public}/oauth2/idpresponse"))
    );
    let cookie = browser_cookie(&r);
    let r = browser.get(&upstream).send().await.unwrap();
    let back = location(&r);
    assert!(
        back.starts_with(&format!("{public}/oauth2/idpresponse?")),
        "{back}"
    );
    (cookie, back)
}

/// What the load balancer does: the public URL's request, sent to `node`.
fn to_node(url: &str, public: &str, node: &str) -> String {
    format!("{node}{}", url.strip_prefix(public).unwrap())
}

/// The callback, delivered to `node` with the browser's cookie.
async fn deliver(url: &str, cookie: &str) -> Result<String, (u16, String)> {
    let r = http()
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    match r.headers().get("location") {
        Some(l) => Ok(l.to_str().unwrap().to_string()),
        None => Err((r.status().as_u16(), r.text().await.unwrap())),
    }
}

async fn redeem(node: &str, redirect: &str) -> reqwest::Response {
    assert!(redirect.starts_with(CALLBACK), "{redirect}");
    assert_eq!(param(redirect, "state").as_deref(), Some("client-state"));
    let code = param(redirect, "code").expect("a code");
    http()
        .post(format!("{node}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLIENT),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
}

/// The pool's users, as the admin CLI lists them from the shared database.
async fn usernames(dir: &std::path::Path, env: &[(&str, &str)]) -> Vec<String> {
    let (code, out, err) = run(dir, &["users", "list", "--pool", POOL], env).await;
    assert_eq!(code, 0, "{out}\n{err}");
    out.lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_federated_callback_completes_on_the_other_node() {
    let Some(db) = fresh_pg_url("multinode_fed").await else {
        return;
    };
    let google = FakeOidc::start("google-client", "google-secret", ClientAuth::Post).await;
    google.set_user(
        "g-multinode",
        json!({"email": "carol@example.com", "email_verified": true, "name": "Carol"}),
    );
    google.set_send_iss(true);

    // The load balancer's address: held for the whole test so nothing else takes it.
    let lb = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let public = format!("http://{}", lb.local_addr().unwrap());
    let text = config(&public, &google.issuer);
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&dir_a, &dir_b] {
        std::fs::write(dir.path().join("cognate.toml"), &text).unwrap();
    }
    let (_, key) = MasterKey::generate();
    let env = [
        ("COGNATE_DATABASE_URL", db.url.as_str()),
        ("COGNATE_MASTER_KEY", key.as_str()),
        ("MULTIFED_GOOGLE_SECRET", "google-secret"),
    ];
    let args = ["--config", "cognate.toml"];
    // Both apply the same configuration to the same database at once.
    let (a, b) = tokio::join!(
        CognateProcess::start(dir_a.path(), &args, &env),
        CognateProcess::start(dir_b.path(), &args, &env)
    );
    assert!(a.banner.iter().any(|l| l.contains("database: postgres")));

    // Started at A, answered at B.
    let (cookie, back) = through_idp(&a.base, &public, &google).await;
    let on_b = to_node(&back, &public, &b.base);
    let redirect = deliver(&on_b, &cookie)
        .await
        .unwrap_or_else(|e| panic!("node B refused node A's flow: {e:?}\nB log:\n{}", b.log()));

    // Node B's code is redeemed at node A.
    let r = redeem(&a.base, &redirect).await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let id = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "Google_g-multinode");
    assert_eq!(id["iss"], format!("{public}/{POOL}"));
    assert_eq!(id["aud"], CLIENT);
    assert_eq!(id["nonce"], "client-nonce");
    assert_eq!(id["email"], "carol@example.com");
    assert_eq!(id["identities"][0]["providerName"], "Google");
    assert_eq!(id["cognito:groups"], json!([format!("{POOL}_Google")]));
    // ...once: a second redemption, at either node, is refused.
    for node in [&a.base, &b.base] {
        let again = redeem(node, &redirect).await;
        assert_eq!(again.status(), 400, "code redeemed twice at {node}");
        let body: Value = again.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant");
    }

    // The callback replayed to A (the other node) or to B again is refused, and makes
    // no second user.
    let on_a = to_node(&back, &public, &a.base);
    assert_failed_page(deliver(&on_a, &cookie).await, "replay at node A");
    assert_failed_page(deliver(&on_b, &cookie).await, "replay at node B");
    assert_eq!(
        usernames(dir_a.path(), &env).await,
        vec!["Google_g-multinode".to_string()]
    );

    // A flow started at B cannot be finished at A by another browser (the binding holds
    // across nodes; the attempt is burnt, as on one node), and a fresh one by the right
    // browser finishes there: the same user, its attributes updated.
    let (_, back) = through_idp(&b.base, &public, &google).await;
    let (stranger, _) = through_idp(&a.base, &public, &google).await;
    let on_a = to_node(&back, &public, &a.base);
    assert_failed_page(deliver(&on_a, &stranger).await, "another browser");
    google.set_user(
        "g-multinode",
        json!({"email": "carol@example.com", "email_verified": true, "name": "Carol Danvers"}),
    );
    let (cookie, back) = through_idp(&b.base, &public, &google).await;
    let on_a = to_node(&back, &public, &a.base);
    let redirect = deliver(&on_a, &cookie)
        .await
        .unwrap_or_else(|e| panic!("node A refused node B's flow: {e:?}\nA log:\n{}", a.log()));
    let r = redeem(&b.base, &redirect).await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let id = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "Google_g-multinode");
    assert_eq!(id["name"], "Carol Danvers");
    assert_eq!(
        usernames(dir_b.path(), &env).await,
        vec!["Google_g-multinode".to_string()]
    );

    assert!(a.terminate().await.success());
    assert!(b.terminate().await.success());
    google.stop().await;
    drop(lb);
    db.cleanup().await;
}
