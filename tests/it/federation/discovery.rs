//! A hostile discovery document: endpoints on another host, or on an internal address,
//! are refused before Cognate sends anything there (no code, no client secret), beside
//! the honest document signing in. The address filter and the https rule are unit-tested
//! in `federation::http::guard`.

use serde_json::{json, Value};

use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::federated::{assert_failed_page, FAILED};
use crate::support::server::browser_client;

use super::{authorize_url, env, sign_in, POOL};

#[tokio::test]
async fn discovered_endpoints_off_the_issuers_host_are_refused() {
    let env = env().await;
    // The attacker's endpoint: another origin, with Okta's client and user, counting
    // token requests (each would carry Okta's client secret and the victim's code).
    let other = FakeOidc::start("okta-client", "okta s3cret:&", ClientAuth::Basic).await;
    other.set_user(
        "o-bob",
        json!({"email": "bob@corp.example", "email_verified": true}),
    );
    for (field, url) in [
        ("token_endpoint", other.url("/token")),
        ("token_endpoint", "http://10.0.0.1/token".to_string()),
        (
            "token_endpoint",
            "http://169.254.169.254/latest/meta-data/".to_string(),
        ),
        ("token_endpoint", "http://[fe80::1]/token".to_string()),
        ("jwks_uri", other.url("/jwks")),
        ("userinfo_endpoint", other.url("/userinfo")),
    ] {
        env.okta.set_discovery(field, Value::String(url.clone()));
        assert_failed_page(sign_in(&env, "Okta").await, &format!("{field} {url}"));
        env.okta.set_discovery(field, Value::Null);
    }
    assert_eq!(
        other.token_requests(),
        0,
        "the attacker's endpoint was called"
    );
    assert_eq!(env.server.user_count(POOL).await, 0);

    // An authorization endpoint elsewhere: the browser is not sent there.
    env.okta.set_discovery(
        "authorization_endpoint",
        Value::String(other.url("/authorize")),
    );
    let r = browser_client()
        .get(authorize_url(&env.server.base, Some("Okta")))
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("location").is_none(), "{:?}", r.headers());
    assert_eq!(r.status().as_u16(), 502);
    assert!(r.text().await.unwrap().contains(FAILED));
    env.okta
        .set_discovery("authorization_endpoint", Value::Null);

    // The honest document signs in.
    let before = env.okta.token_requests();
    sign_in(&env, "Okta")
        .await
        .expect("the honest discovery document");
    assert_eq!(env.okta.token_requests(), before + 1);
    assert!(env.server.find_user(POOL, "Okta_o-bob").await.is_some());
    assert_eq!(other.token_requests(), 0);
}
