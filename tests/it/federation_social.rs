//! Federated sign-in through the plain OAuth 2.0 + profile API providers (Facebook Login,
//! Login with Amazon) and `idp_identifier` routing to enterprise OIDC IdPs, end to end and
//! browserless: `/oauth2/authorize` at Cognate, the fake provider, `/oauth2/idpresponse`,
//! and the client redeeming Cognate's code. Each attack is paired with the corrected flow
//! succeeding, and none of them creates a user.

use serde_json::{json, Value};

use crate::support::fake_oauth2::{expected_proof, FakeOAuth2, ProfileMode, Vendor};
use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::federated::{
    self, assert_failed_page, at_idp, button_href, callback, facebook_idp, fake_code,
    fake_facebook, location, login_page, oidc_idp, param, Client, Outcome, FACEBOOK_SECRET_ENV,
    STATE,
};
use crate::support::server::{browser_client, TestServer};

const POOL: &str = "us-east-1_SocialTst1";
const CLIENT: &str = "socialweb0000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "social-test-verifier-0123456789-abcdefghijklmnopqrstu";
const FB_ID: &str = "10158000000000001";
const AMZN_ID: &str = "amzn1.account.AH2EXAMPLE7QXZ";

struct Env {
    server: TestServer,
    facebook: FakeOAuth2,
    amazon: FakeOAuth2,
    corp: FakeOidc,
    partner: FakeOidc,
}

fn rp() -> Client {
    Client::new(CLIENT, CALLBACK, VERIFIER)
}

/// A pool with `Facebook` and `LoginWithAmazon` (their presets, endpoints pointed at the
/// fakes) and two enterprise OIDC IdPs claiming email domains: `Corp` (corp.example) and
/// `Partner` (Partner.Example, to prove the match ignores case).
async fn env() -> Env {
    let facebook = fake_facebook().await;
    let amazon = FakeOAuth2::start(
        Vendor::Amazon,
        "amzn1.application-oa2-client.x",
        "lwa-secret",
    )
    .await;
    let corp = FakeOidc::start("corp-client", "corp-secret", ClientAuth::Basic).await;
    let partner = FakeOidc::start("partner-client", "partner-secret", ClientAuth::Basic).await;
    let a = &amazon.base;
    let pools = format!(
        r#"
[[pools]]
id = "{POOL}"
name = "Social federation tests"
{}
[[pools.identity_providers]]
name = "LoginWithAmazon"
preset = "amazon"
client_id = "amzn1.application-oa2-client.x"
client_secret_env = "FED_LWA_SECRET"
endpoints = {{ authorize = "{a}/ap/oa", token = "{a}/auth/o2/token", profile = "{a}/user/profile" }}
{}{}{}"#,
        facebook_idp(&facebook.base, ""),
        oidc_idp(
            "Corp",
            "corp-client",
            "FED_CORP_SECRET",
            &corp.issuer,
            r#"identifiers = ["corp.example"]"#
        ),
        oidc_idp(
            "Partner",
            "partner-client",
            "FED_PARTNER_SECRET",
            &partner.issuer,
            r#"identifiers = ["Partner.Example"]"#
        ),
        rp().toml(&["Facebook", "LoginWithAmazon", "Corp", "Partner"]),
    );
    let server = TestServer::start_with(
        &pools,
        "idp_timeout_secs = 2",
        &[
            FACEBOOK_SECRET_ENV,
            ("FED_LWA_SECRET", "lwa-secret"),
            ("FED_CORP_SECRET", "corp-secret"),
            ("FED_PARTNER_SECRET", "partner-secret"),
        ],
    )
    .await;
    corp.set_user(
        "c-erin",
        json!({"email": "erin@corp.example", "email_verified": true}),
    );
    partner.set_user(
        "p-finn",
        json!({"email": "finn@partner.example", "email_verified": true}),
    );
    Env {
        server,
        facebook,
        amazon,
        corp,
        partner,
    }
}

/// Authorize at Cognate with these extra parameters; the upstream authorization URL.
async fn upstream(browser: &reqwest::Client, env: &Env, extra: &[(&str, &str)]) -> String {
    let r = browser
        .get(rp().authorize_url(&env.server.base, extra))
        .send()
        .await
        .unwrap();
    location(&r)
}

/// A whole sign-in through `identity_provider=idp` in a fresh browser: the client's
/// redirect or the page shown.
async fn sign_in(env: &Env, idp: &str) -> Outcome {
    federated::sign_in(&rp().authorize_url(&env.server.base, &[("identity_provider", idp)])).await
}

async fn id_token_of(env: &Env, redirect: &str) -> Value {
    rp().id_token(&env.server.base, redirect).await
}

/// The login page's button for `provider`, followed: the upstream authorization URL.
async fn via_button(browser: &reqwest::Client, env: &Env, provider: &str) -> String {
    let (_, page) = login_page(
        browser,
        &env.server.base,
        &rp().authorize_url(&env.server.base, &[]),
    )
    .await;
    let button = button_href(&env.server.base, &page, provider);
    let r = browser.get(button).send().await.unwrap();
    location(&r)
}

fn assert_identity(id: &Value, provider: &str, user_id: &str) {
    assert_eq!(id["cognito:username"], format!("{provider}_{user_id}"));
    assert_eq!(id["cognito:groups"], json!([format!("{POOL}_{provider}")]));
    let identity = &id["identities"][0];
    assert_eq!(identity["providerName"], provider);
    assert_eq!(identity["providerType"], provider);
    assert_eq!(identity["userId"], user_id);
    assert_eq!(identity["issuer"], Value::Null);
}

#[tokio::test]
async fn facebook_signs_in_through_the_shortcut_and_the_button() {
    let env = env().await;
    let browser = browser_client();
    let up = upstream(&browser, &env, &[("identity_provider", "Facebook")]).await;
    assert!(
        up.starts_with(&env.facebook.url("/v19.0/dialog/oauth?")),
        "{up}"
    );
    assert_eq!(param(&up, "scope").as_deref(), Some("public_profile email"));
    assert_eq!(param(&up, "nonce"), None, "no ID token, so no nonce");
    assert!(param(&up, "state").is_some());
    let back = at_idp(&browser, &up).await;
    let redirect = callback(&browser, &back).await.expect("signed in");
    let id = id_token_of(&env, &redirect).await;
    assert_identity(&id, "Facebook", FB_ID);
    assert_eq!(id["email"], "carol@example.com");
    assert_eq!(id["email_verified"], false);
    assert_eq!(id["name"], "Carol Danvers");
    assert_eq!(id["given_name"], "Carol");
    assert_eq!(id["family_name"], "Danvers");
    assert!(id["picture"]
        .as_str()
        .unwrap()
        .starts_with("https://platform-lookaside.fbsbx.com/"));
    let stored = env
        .server
        .find_user(POOL, &format!("Facebook_{FB_ID}"))
        .await
        .expect("the user");
    assert_eq!(stored.status.as_str(), "EXTERNAL_PROVIDER");

    // The sign-in page's button leads the same way, to the same user.
    let browser = browser_client();
    let up = via_button(&browser, &env, "Facebook").await;
    assert!(up.starts_with(&env.facebook.base), "{up}");
    let back = at_idp(&browser, &up).await;
    let redirect = callback(&browser, &back)
        .await
        .expect("signed in by button");
    assert_identity(&id_token_of(&env, &redirect).await, "Facebook", FB_ID);
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn login_with_amazon_signs_in_through_the_shortcut_and_the_button() {
    let env = env().await;
    let redirect = sign_in(&env, "LoginWithAmazon").await.expect("signed in");
    let id = id_token_of(&env, &redirect).await;
    assert_identity(&id, "LoginWithAmazon", AMZN_ID);
    assert_eq!(id["email"], "dave@example.com");
    assert_eq!(id["name"], "Dave Bowman");

    let browser = browser_client();
    let up = via_button(&browser, &env, "LoginWithAmazon").await;
    assert!(up.starts_with(&env.amazon.url("/ap/oa?")), "{up}");
    assert_eq!(param(&up, "scope").as_deref(), Some("profile"));
    let back = at_idp(&browser, &up).await;
    let redirect = callback(&browser, &back)
        .await
        .expect("signed in by button");
    assert_identity(
        &id_token_of(&env, &redirect).await,
        "LoginWithAmazon",
        AMZN_ID,
    );
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn facebook_without_an_email_still_signs_in() {
    let env = env().await;
    env.facebook.set_profile(json!({
        "id": "10158000000000002", "name": "No Mail", "first_name": "No", "last_name": "Mail",
        "picture": {"data": {"url": "https://platform-lookaside.fbsbx.com/x", "width": 50,
            "height": 50, "is_silhouette": true}},
    }));
    let redirect = sign_in(&env, "Facebook").await.expect("signed in");
    let id = id_token_of(&env, &redirect).await;
    assert_identity(&id, "Facebook", "10158000000000002");
    assert_eq!(id["name"], "No Mail");
    assert!(id.get("email").is_none(), "{id}");
    assert!(id.get("email_verified").is_none(), "{id}");
}

/// Graph refuses the call when the proof does not match (an app secret rotated at
/// Facebook): a clear page, no user; with the right key the same sign-in works.
#[tokio::test]
async fn a_refused_appsecret_proof_fails_cleanly() {
    let env = env().await;
    env.facebook.set_proof_key("rotated-app-secret");
    assert_failed_page(sign_in(&env, "Facebook").await, "wrong appsecret_proof");
    assert_eq!(env.facebook.profile_requests(), 1);
    assert_eq!(env.server.user_count(POOL).await, 0);

    env.facebook.reset();
    sign_in(&env, "Facebook").await.expect("the corrected flow");
    assert_eq!(env.server.user_count(POOL).await, 1);
}

/// Where the fakes' own tests have their codes sent.
const RP_CALLBACK: &str = "https://rp.example/cb";

/// A code from the fake's authorize endpoint at `path` for the app `app`, asked with the
/// `extra` parameters too.
async fn code_at(
    http: &reqwest::Client,
    fake: &FakeOAuth2,
    path: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut params = vec![
        ("client_id", "app"),
        ("response_type", "code"),
        ("redirect_uri", RP_CALLBACK),
    ];
    params.extend_from_slice(extra);
    fake_code(http, &fake.url(path), &params).await
}

/// `code` exchanged at the fake's token endpoint at `path`, the app `app` authenticating
/// with `secret` in the form (RFC 6749 section 2.3.1) after the `extra` fields.
async fn exchange_at(
    http: &reqwest::Client,
    fake: &FakeOAuth2,
    path: &str,
    extra: &[(&str, &str)],
    code: String,
    secret: &str,
) -> reqwest::Response {
    let mut form = extra.to_vec();
    form.extend([
        ("client_id", "app"),
        ("client_secret", secret),
        ("redirect_uri", RP_CALLBACK),
        ("code", code.as_str()),
    ]);
    http.post(fake.url(path)).form(&form).send().await.unwrap()
}

#[tokio::test]
async fn the_fake_facebook_refuses_what_facebook_refuses() {
    let fake = FakeOAuth2::start(Vendor::Facebook, "app", "secret").await;
    let http = crate::support::http();
    let code = || code_at(&http, &fake, "/v19.0/dialog/oauth", &[("state", "s")]);
    let exchange = |code: String, secret: &'static str| {
        exchange_at(&http, &fake, "/v19.0/oauth/access_token", &[], code, secret)
    };
    // A wrong app secret at the token endpoint.
    let r = exchange(code().await, "wrong").await;
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["type"], "OAuthException");
    assert!(body["error"]["fbtrace_id"].is_string());
    // The right one, once.
    let c = code().await;
    let r = exchange(c.clone(), "secret").await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    assert_eq!(tokens["token_type"], "bearer");
    assert!(tokens["expires_in"].is_number());
    let access = tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(exchange(c, "secret").await.status(), 400);

    let me = |proof: Option<String>| {
        let mut url = url::Url::parse(&fake.url("/v19.0/me")).unwrap();
        url.query_pairs_mut()
            .append_pair("fields", "id,email,picture")
            .append_pair("access_token", &access);
        if let Some(p) = proof {
            url.query_pairs_mut().append_pair("appsecret_proof", &p);
        }
        let http = http.clone();
        async move { http.get(url.as_str()).send().await.unwrap() }
    };
    for proof in [None, Some(expected_proof("wrong", &access))] {
        let r = me(proof).await;
        assert_eq!(r.status(), 400);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], 100, "{body}");
    }
    let r = me(Some(expected_proof("secret", &access))).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["id"], FB_ID);
    assert_eq!(body["picture"]["data"]["is_silhouette"], false);
    assert!(body.get("name").is_none(), "only the asked fields");
    // The fake's proof agrees with Cognate's.
    assert_eq!(
        expected_proof("secret", &access),
        cognate::federation::oauth::facebook::appsecret_proof(
            &cognate::core::secrets::SecretString::new("secret"),
            &access
        )
    );
}

#[tokio::test]
async fn the_fake_amazon_refuses_what_amazon_refuses() {
    let fake = FakeOAuth2::start(Vendor::Amazon, "app", "secret").await;
    let http = crate::support::http();
    let code = || code_at(&http, &fake, "/ap/oa", &[]);
    let exchange = |code: String, secret: &'static str| {
        let grant = &[("grant_type", "authorization_code")];
        exchange_at(&http, &fake, "/auth/o2/token", grant, code, secret)
    };
    assert_eq!(exchange(code().await, "wrong").await.status(), 401);
    let c = code().await;
    let r = exchange(c.clone(), "secret").await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        exchange(c, "secret").await.status(),
        400,
        "codes are single use"
    );

    let profile = fake.url("/user/profile");
    let r = http.get(&profile).send().await.unwrap();
    assert_eq!(r.status(), 401, "no Bearer token");
    let r = http
        .get(format!("{profile}?access_token={access}"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "the token in the query is not the Bearer header"
    );
    let r = http
        .get(&profile)
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["user_id"], AMZN_ID);
    assert_eq!(body["postal_code"], "98109");
}

#[tokio::test]
async fn forged_replayed_and_refused_social_callbacks() {
    let env = env().await;
    let browser = browser_client();
    let up = upstream(&browser, &env, &[("identity_provider", "Facebook")]).await;
    let back = at_idp(&browser, &up).await;
    let state = param(&back, "state").unwrap();
    let code = param(&back, "code").unwrap();
    let base = format!("{}/oauth2/idpresponse", env.server.base);
    let wrong = format!("{base}?code={code}&state=x{state}");
    assert_failed_page(callback(&browser, &wrong).await, "wrong state");
    assert_failed_page(callback(&browser_client(), &back).await, "other browser");
    assert_eq!(env.server.user_count(POOL).await, 0);
    // The attempt another browser presented is still its owner's: the real callback
    // works, once; its replay is refused.
    callback(&browser, &back).await.expect("the real callback");
    assert_failed_page(callback(&browser, &back).await, "replayed callback");
    assert_eq!(env.server.user_count(POOL).await, 1);

    // The user declines at Amazon: the client hears access_denied on its redirect URI.
    env.amazon.set_authorize_error(Some("access_denied"));
    let redirect = sign_in(&env, "LoginWithAmazon")
        .await
        .expect("an OAuth error redirect");
    rp().assert_error(&redirect, "access_denied");
    assert_eq!(env.server.user_count(POOL).await, 1);
    env.amazon.reset();

    // A profile API answering garbage: a clear page and no user, for either provider.
    for mode in [ProfileMode::Garbage, ProfileMode::NotAnObject] {
        env.amazon.set_mode(mode);
        assert_failed_page(sign_in(&env, "LoginWithAmazon").await, "garbage profile");
        env.facebook.set_mode(mode);
        assert_failed_page(sign_in(&env, "Facebook").await, "garbage Graph answer");
        assert_eq!(env.server.user_count(POOL).await, 1, "{mode:?}");
        env.amazon.reset();
        env.facebook.reset();
    }
    sign_in(&env, "LoginWithAmazon")
        .await
        .expect("the corrected flow");
    assert_eq!(env.server.user_count(POOL).await, 2);
}

#[tokio::test]
async fn idp_identifier_routes_to_the_enterprise_idp_that_claims_it() {
    let env = env().await;
    let browser = browser_client();
    let up = upstream(&browser, &env, &[("idp_identifier", "corp.example")]).await;
    assert!(up.starts_with(&env.corp.issuer), "{up}");
    // An email address routes by its domain, whatever its case.
    let up = upstream(
        &browser,
        &env,
        &[("idp_identifier", "Finn@PARTNER.example")],
    )
    .await;
    assert!(up.starts_with(&env.partner.issuer), "{up}");

    // A domain no IdP claims (nor a mere suffix of one): invalid_request to the client.
    for unknown in ["unknown.example", "example", "sub.corp.example", "@"] {
        let r = browser
            .get(rp().authorize_url(&env.server.base, &[("idp_identifier", unknown)]))
            .send()
            .await
            .unwrap();
        let redirect = location(&r);
        assert!(redirect.starts_with(CALLBACK), "{unknown}: {redirect}");
        assert_eq!(
            param(&redirect, "error").as_deref(),
            Some("invalid_request")
        );
        assert_eq!(param(&redirect, "state").as_deref(), Some(STATE));
    }
    assert_eq!(env.server.user_count(POOL).await, 0);

    // The corrected request signs in end to end through the routed IdP.
    let up = upstream(&browser, &env, &[("idp_identifier", "erin@corp.example")]).await;
    let back = at_idp(&browser, &up).await;
    let redirect = callback(&browser, &back).await.expect("signed in");
    let id = id_token_of(&env, &redirect).await;
    assert_eq!(id["cognito:username"], "Corp_c-erin");
    assert_eq!(id["identities"][0]["issuer"], json!(env.corp.issuer));

    // The enterprise IdP's button on the sign-in page leads the same way.
    let browser = browser_client();
    let up = via_button(&browser, &env, "Corp").await;
    assert!(up.starts_with(&env.corp.issuer), "{up}");
    let back = at_idp(&browser, &up).await;
    let redirect = callback(&browser, &back)
        .await
        .expect("signed in by button");
    let id = id_token_of(&env, &redirect).await;
    assert_eq!(id["cognito:username"], "Corp_c-erin");
}

#[tokio::test]
async fn the_work_email_field_routes_like_idp_identifier() {
    let env = env().await;
    let browser = browser_client();
    let (login, page) = login_page(
        &browser,
        &env.server.base,
        &rp().authorize_url(&env.server.base, &[]),
    )
    .await;
    let flow = param(&login, "flow").unwrap();
    assert!(page.contains("name=\"identifier\""), "{page}");
    assert!(page.contains("Continue with your work email"), "{page}");
    let marker = "name=\"_csrf\" value=\"";
    let at = page.find(marker).expect("a CSRF token") + marker.len();
    let csrf = page[at..at + page[at..].find('"').unwrap()].to_string();
    let work_email = |email: &str, csrf: &str| {
        browser
            .post(format!("{}/oauth2/idp", env.server.base))
            .form(&[
                ("_csrf", csrf),
                ("flow", flow.as_str()),
                ("identifier", email),
            ])
            .send()
    };

    // Without the page's CSRF token the form is refused.
    let r = work_email("erin@corp.example", "forged").await.unwrap();
    assert_eq!(r.status(), 403);

    // A domain no IdP claims: the sign-in page again, with the error and what was typed.
    let r = work_email("eve@elsewhere.example", &csrf).await.unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("No sign-in is set up for that email domain"),
        "{page}"
    );
    assert!(page.contains("eve@elsewhere.example"), "{page}");
    assert_eq!(env.server.user_count(POOL).await, 0);

    // The corrected address goes to the IdP claiming its domain, and signs in.
    let r = work_email("Erin@Corp.Example", &csrf).await.unwrap();
    let up = location(&r);
    assert!(up.starts_with(&env.corp.issuer), "{up}");
    let back = at_idp(&browser, &up).await;
    let redirect = callback(&browser, &back).await.expect("signed in");
    let id = id_token_of(&env, &redirect).await;
    assert_eq!(id["cognito:username"], "Corp_c-erin");
}
