//! Issue 15: passkeys through the user pools API, with the official AWS SDK for Rust:
//! StartWebAuthnRegistration, CompleteWebAuthnRegistration, ListWebAuthnCredentials,
//! DeleteWebAuthnCredential, and USER_AUTH with WEB_AUTHN as the first factor.
//!
//! - Without a browser: a pool without passkeys refuses; paging and deleting (never another
//!   user's passkey); a registration completed by a user who did not start it (another
//!   user's token), by another app client, or twice is refused; listing and deleting check
//!   their input; USER_AUTH offers WEB_AUTHN alike for every username and its options name
//!   nobody's credentials.
//! - In Chromium with WebDriver's virtual authenticator (skipped with a NOT RUN banner when
//!   Chromium is missing, failing when `CI=true`): the page runs
//!   `navigator.credentials.create` with the options the SDK got, the SDK completes the
//!   registration (another user's token answering it first is refused), the passkey is
//!   listed, signs in on the hosted UI alone, and answers USER_AUTH's WEB_AUTHN challenge
//!   (not for another username, not twice); then it is deleted.
//!
//! Browsers refuse WebAuthn on an IP address, so the server's public URL is
//! `http://localhost:PORT` ([`TestServer::start_on_localhost`]); the SDK talks to
//! 127.0.0.1 directly.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::config::retry::RetryConfig;
use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use aws_sdk_cognitoidentityprovider::Client;
use aws_smithy_types::{Document, Number};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::mfa_api::refusal;
use crate::support::browser::Browser;
use crate::support::server::TestServer;

const PASSWORD: &str = "Corr3ct-horse-passkey";
/// Passwords and passkeys as first factors.
const POOL: &str = "us-east-1_PasskeyApi1";
const APP: &str = "passkeyapiapp000000000001";
const OTHER_APP: &str = "passkeyapiother0000000001";
/// No passkeys.
const PLAIN: &str = "us-east-1_PasskeyNo01";
const PLAIN_APP: &str = "passkeyapiplain0000000001";
const VERIFIER: &str = "passkey-api-verifier-0123456789-0123456789-0123456789";

fn client_toml(id: &str, app: &str) -> String {
    format!(
        r#"
[[pools.clients]]
id = "{id}"
name = "{id}"
callback_urls = ["{app}/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "aws.cognito.signin.user.admin"]
explicit_auth_flows = ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_AUTH"]
"#
    )
}

fn pools_toml(app: &str) -> String {
    format!(
        r#"
[[pools]]
id = "{POOL}"
name = "Passkeys API"
mfa = "OPTIONAL"
sign_in_factors = ["PASSWORD", "PASSKEY"]
{app1}{app2}
[[pools]]
id = "{PLAIN}"
name = "No passkeys"
{plain}"#,
        app1 = client_toml(APP, app),
        app2 = client_toml(OTHER_APP, app),
        plain = client_toml(PLAIN_APP, app),
    )
}

/// The app's origin: a page at `/cb` the hosted UI sends the browser back to.
async fn app_origin() -> String {
    let app = Router::new().route(
        "/cb",
        get(|| async { Html("<!doctype html><title>callback</title><p>back at the app</p>") }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}")
}

async fn start(app: &str) -> (TestServer, Client) {
    let server = TestServer::start_on_localhost(&pools_toml(app)).await;
    let direct = server.base.replace("//localhost:", "//127.0.0.1:");
    let config = aws_sdk_cognitoidentityprovider::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(direct)
        .retry_config(RetryConfig::disabled())
        .credentials_provider(Credentials::new(
            "AKIDNOTANOPERATOR000",
            "not-a-secret",
            None,
            None,
            "test",
        ))
        .build();
    (server, Client::from_conf(config))
}

async fn user(server: &TestServer, pool: &str, name: &str) {
    let attributes = BTreeMap::from([
        ("email".to_string(), format!("{name}@example.com")),
        ("email_verified".to_string(), "true".to_string()),
    ]);
    server.create_user(pool, name, attributes, PASSWORD).await;
}

async fn access_token(sdk: &Client, app: &str, name: &str) -> String {
    let out = sdk
        .initiate_auth()
        .client_id(app)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", name)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    out.authentication_result()
        .unwrap_or_else(|| panic!("tokens expected: {out:?}"))
        .access_token()
        .unwrap()
        .to_string()
}

fn to_json(d: &Document) -> Value {
    match d {
        Document::Object(m) => {
            Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
        Document::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Document::Number(Number::PosInt(n)) => json!(n),
        Document::Number(Number::NegInt(n)) => json!(n),
        Document::Number(Number::Float(n)) => json!(n),
        Document::String(s) => json!(s),
        Document::Bool(b) => json!(b),
        Document::Null => Value::Null,
    }
}

fn to_doc(v: &Value) -> Document {
    match v {
        Value::Object(m) => Document::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), to_doc(v)))
                .collect::<HashMap<_, _>>(),
        ),
        Value::Array(a) => Document::Array(a.iter().map(to_doc).collect()),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Document::Number(Number::PosInt(u)),
            (None, Some(i)) => Document::Number(Number::NegInt(i)),
            _ => Document::Number(Number::Float(n.as_f64().unwrap_or_default())),
        },
        Value::String(s) => Document::String(s.clone()),
        Value::Bool(b) => Document::Bool(*b),
        Value::Null => Document::Null,
    }
}

/// StartWebAuthnRegistration's options, as JSON.
async fn start_registration(sdk: &Client, token: &str) -> Value {
    let out = sdk
        .start_web_authn_registration()
        .access_token(token)
        .send()
        .await
        .expect("StartWebAuthnRegistration");
    to_json(out.credential_creation_options())
}

/// A credential that is well formed JSON but no authenticator's answer.
fn made_up_credential() -> Value {
    json!({
        "id": "AAAA",
        "rawId": "AAAA",
        "type": "public-key",
        "response": {"clientDataJSON": "e30", "attestationObject": "oA"},
        "clientExtensionResults": {}
    })
}

async fn complete(
    sdk: &Client,
    token: &str,
    credential: &Value,
) -> Result<
    aws_sdk_cognitoidentityprovider::operation::complete_web_authn_registration::CompleteWebAuthnRegistrationOutput,
    aws_sdk_cognitoidentityprovider::error::SdkError<
        aws_sdk_cognitoidentityprovider::operation::complete_web_authn_registration::CompleteWebAuthnRegistrationError,
        aws_sdk_cognitoidentityprovider::config::http::HttpResponse,
    >,
>{
    sdk.complete_web_authn_registration()
        .access_token(token)
        .credential(to_doc(credential))
        .send()
        .await
}

async fn user_auth(sdk: &Client, username: &str, preferred: Option<&str>) -> InitiateAuthOutput {
    let mut call = sdk
        .initiate_auth()
        .client_id(APP)
        .auth_flow(AuthFlowType::UserAuth)
        .auth_parameters("USERNAME", username);
    if let Some(p) = preferred {
        call = call.auth_parameters("PREFERRED_CHALLENGE", p);
    }
    call.send().await.expect("InitiateAuth USER_AUTH")
}

#[tokio::test]
async fn a_pool_without_passkeys_refuses_and_user_auth_does_not_offer_them() {
    let app = app_origin().await;
    let (server, sdk) = start(&app).await;
    user(&server, PLAIN, "nina").await;
    let token = access_token(&sdk, PLAIN_APP, "nina").await;
    let (code, message) = refusal(
        sdk.start_web_authn_registration()
            .access_token(&token)
            .send()
            .await,
    );
    assert_eq!(code, "WebAuthnNotEnabledException", "{message}");
    let listed = sdk
        .list_web_authn_credentials()
        .access_token(&token)
        .send()
        .await
        .expect("an empty list");
    assert!(listed.credentials().is_empty());

    let out = sdk
        .initiate_auth()
        .client_id(PLAIN_APP)
        .auth_flow(AuthFlowType::UserAuth)
        .auth_parameters("USERNAME", "nina")
        .auth_parameters("PREFERRED_CHALLENGE", "WEB_AUTHN")
        .send()
        .await
        .expect("USER_AUTH");
    assert_eq!(
        out.challenge_name(),
        Some(&ChallengeNameType::SelectChallenge)
    );
    assert!(!out
        .available_challenges()
        .contains(&ChallengeNameType::WebAuthn));
    server.stop().await;
}

#[tokio::test]
async fn a_registration_is_completed_only_by_its_user_through_its_client_once() {
    let app = app_origin().await;
    let (server, sdk) = start(&app).await;
    user(&server, POOL, "ann").await;
    user(&server, POOL, "bob").await;
    let ann = access_token(&sdk, APP, "ann").await;
    let bob = access_token(&sdk, APP, "bob").await;
    let ann_other_app = access_token(&sdk, OTHER_APP, "ann").await;

    // Attack: bob answers a registration he never started (ann's is pending).
    let options = start_registration(&sdk, &ann).await;
    assert_eq!(options["rp"]["id"], "localhost", "{options}");
    assert!(options["challenge"].as_str().is_some_and(|c| c.len() >= 16));
    assert_eq!(
        options["authenticatorSelection"]["userVerification"],
        "required"
    );
    let (code, _) = refusal(complete(&sdk, &bob, &made_up_credential()).await);
    assert_eq!(code, "WebAuthnChallengeNotFoundException");
    // ann's registration is still pending: a bad credential reaches its verification.
    let (code, message) = refusal(complete(&sdk, &ann, &made_up_credential()).await);
    assert_eq!(code, "InvalidParameterException", "{message}");
    // ...and was consumed by that answer (single use).
    let (code, _) = refusal(complete(&sdk, &ann, &made_up_credential()).await);
    assert_eq!(code, "WebAuthnChallengeNotFoundException");

    // Attack: another app client's token answers the registration ann started here.
    start_registration(&sdk, &ann).await;
    let (code, _) = refusal(complete(&sdk, &ann_other_app, &made_up_credential()).await);
    assert_eq!(code, "WebAuthnClientMismatchException");

    // Malformed input is Cognito's validation error.
    let (code, _) = refusal(
        sdk.complete_web_authn_registration()
            .access_token(&ann)
            .credential(Document::String("not an object".into()))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    for bad in [0, 21] {
        let (code, message) = refusal(
            sdk.list_web_authn_credentials()
                .access_token(&ann)
                .max_results(bad)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidParameterException", "{bad}");
        assert!(message.contains("between 1 and 20"), "{message}");
    }
    let (code, _) = refusal(
        sdk.list_web_authn_credentials()
            .access_token(&ann)
            .next_token("made-up")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    // A forged position past the end (or at usize::MAX) is refused, not a dropped connection.
    for forged in ["pk.18446744073709551615", "pk.21"] {
        let (code, _) = refusal(
            sdk.list_web_authn_credentials()
                .access_token(&ann)
                .next_token(forged)
                .send()
                .await,
        );
        assert_eq!(code, "InvalidParameterException", "{forged}");
    }
    let (code, _) = refusal(
        sdk.delete_web_authn_credential()
            .access_token(&ann)
            .credential_id("AAAA")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = refusal(
        sdk.start_web_authn_registration()
            .access_token("not-a-token")
            .send()
            .await,
    );
    assert_eq!(code, "NotAuthorizedException");
    server.stop().await;
}

#[tokio::test]
async fn credentials_are_listed_a_page_at_a_time_and_deleted_one_by_one() {
    use cognate::core::model::{Factor, FactorData, MfaFactor};
    let app = app_origin().await;
    let (server, sdk) = start(&app).await;
    user(&server, POOL, "cyd").await;
    let token = access_token(&sdk, APP, "cyd").await;
    // Three passkeys stored as a registration stores them (their keys are not used here).
    let mut stored = server.find_user(POOL, "cyd").await.unwrap();
    for (i, id) in ["cred-one", "cred-two", "cred-three"].iter().enumerate() {
        stored.mfa.factors.push(Factor {
            id: format!("factor-{i}"),
            kind: MfaFactor::Passkey,
            name: format!("Key {i}"),
            created_at: 1_800_000_000 + i as i64,
            last_used_at: None,
            data: FactorData::Passkey {
                credential_id: id.to_string(),
                credential: json!({}),
                counter: 0,
                backup_eligible: false,
                backup_state: false,
            },
        });
    }
    server.node.store.update_user(&stored).await.unwrap();

    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = sdk
            .list_web_authn_credentials()
            .access_token(&token)
            .max_results(2)
            .set_next_token(next.clone())
            .send()
            .await
            .expect("a page");
        assert!(page.credentials().len() <= 2);
        for c in page.credentials() {
            assert_eq!(c.relying_party_id(), "localhost");
            seen.push((
                c.credential_id().to_string(),
                c.friendly_credential_name().to_string(),
                c.created_at().secs(),
            ));
        }
        next = page.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    assert_eq!(
        seen,
        vec![
            ("cred-one".to_string(), "Key 0".to_string(), 1_800_000_000),
            ("cred-two".to_string(), "Key 1".to_string(), 1_800_000_001),
            ("cred-three".to_string(), "Key 2".to_string(), 1_800_000_002),
        ]
    );
    sdk.delete_web_authn_credential()
        .access_token(&token)
        .credential_id("cred-two")
        .send()
        .await
        .expect("DeleteWebAuthnCredential");
    let left: Vec<String> = sdk
        .list_web_authn_credentials()
        .access_token(&token)
        .send()
        .await
        .unwrap()
        .credentials()
        .iter()
        .map(|c| c.credential_id().to_string())
        .collect();
    assert_eq!(left, ["cred-one", "cred-three"]);
    // Attack: another user cannot delete cyd's passkey by its id.
    user(&server, POOL, "dee").await;
    let dee = access_token(&sdk, APP, "dee").await;
    let (code, _) = refusal(
        sdk.delete_web_authn_credential()
            .access_token(&dee)
            .credential_id("cred-one")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(
        server
            .find_user(POOL, "cyd")
            .await
            .unwrap()
            .mfa
            .factors
            .len(),
        2
    );
    server.stop().await;
}

#[tokio::test]
async fn user_auth_offers_web_authn_alike_for_every_username() {
    let app = app_origin().await;
    let (server, sdk) = start(&app).await;
    user(&server, POOL, "ann").await;

    let known = user_auth(&sdk, "ann", None).await;
    let unknown = user_auth(&sdk, "nobody-here", None).await;
    assert_eq!(
        known.challenge_name(),
        Some(&ChallengeNameType::SelectChallenge)
    );
    assert_eq!(known.available_challenges(), unknown.available_challenges());
    assert!(known
        .available_challenges()
        .contains(&ChallengeNameType::WebAuthn));

    // SELECT_CHALLENGE answered with WEB_AUTHN leads to the WEB_AUTHN challenge.
    let chosen = sdk
        .respond_to_auth_challenge()
        .client_id(APP)
        .challenge_name(ChallengeNameType::SelectChallenge)
        .session(known.session().unwrap())
        .challenge_responses("USERNAME", "ann")
        .challenge_responses("ANSWER", "WEB_AUTHN")
        .send()
        .await
        .expect("SELECT_CHALLENGE answered");
    assert_eq!(chosen.challenge_name(), Some(&ChallengeNameType::WebAuthn));
    assert!(chosen.challenge_parameters().unwrap()["CREDENTIAL_REQUEST_OPTIONS"].starts_with('{'));
    // Attack: the WEB_AUTHN session answered through another app client.
    let (code, _) = refusal(
        sdk.respond_to_auth_challenge()
            .client_id(OTHER_APP)
            .challenge_name(ChallengeNameType::WebAuthn)
            .session(chosen.session().unwrap())
            .challenge_responses("USERNAME", "ann")
            .challenge_responses("CREDENTIAL", "{}")
            .send()
            .await,
    );
    assert_eq!(code, "NotAuthorizedException");

    let mut shapes = Vec::new();
    for name in ["ann", "nobody-here"] {
        let out = user_auth(&sdk, name, Some("WEB_AUTHN")).await;
        assert_eq!(out.challenge_name(), Some(&ChallengeNameType::WebAuthn));
        let params = out.challenge_parameters().unwrap();
        let options: Value =
            serde_json::from_str(&params["CREDENTIAL_REQUEST_OPTIONS"]).expect("JSON options");
        assert!(options["challenge"].is_string(), "{options}");
        assert_eq!(options["rpId"], "localhost", "{options}");
        // No credential ids: the options say nothing of who has a passkey.
        assert!(
            options["allowCredentials"]
                .as_array()
                .is_none_or(|a| a.is_empty()),
            "{options}"
        );
        let mut keys: Vec<String> = options.as_object().unwrap().keys().cloned().collect();
        keys.sort();
        shapes.push(keys);

        // Attack: a made-up assertion is refused, and the session is then spent.
        let session = out.session().unwrap();
        let answer = |credential: String| {
            sdk.respond_to_auth_challenge()
                .client_id(APP)
                .challenge_name(ChallengeNameType::WebAuthn)
                .session(session)
                .challenge_responses("USERNAME", name)
                .challenge_responses("CREDENTIAL", credential)
                .send()
        };
        let (code, _) = refusal(answer("not json".into()).await);
        assert_eq!(code, "InvalidParameterException");
        let made_up = json!({
            "id": "AAAA", "rawId": "AAAA", "type": "public-key",
            "response": {"clientDataJSON": "e30", "authenticatorData": "AA", "signature": "AA", "userHandle": null},
            "clientExtensionResults": {}
        });
        let (code, _) = refusal(answer(made_up.to_string()).await);
        assert_eq!(code, "CodeMismatchException", "{name}");
        let (code, _) = refusal(answer(made_up.to_string()).await);
        assert_eq!(code, "NotAuthorizedException", "the session is single use");
    }
    assert_eq!(shapes[0], shapes[1]);
    server.stop().await;
}

// --- in Chromium ---------------------------------------------------------------------

/// Runs `navigator.credentials.create` (or `.get`) with WebAuthn's JSON options in the
/// page, and returns the credential's `toJSON()`.
async fn ceremony(browser: &Browser, kind: &str, options: &Value) -> Value {
    let script = r#"
        const [kind, options, done] = arguments;
        const run = kind === "create"
            ? navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
            : navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
        run.then(c => done(JSON.stringify(c.toJSON())), e => done("ERROR " + e));
    "#;
    let out = browser
        .client
        .execute_async(script, vec![json!(kind), options.clone()])
        .await
        .unwrap_or_else(|e| panic!("{kind}: {e}"));
    let text = out.as_str().unwrap_or_default().to_string();
    assert!(!text.starts_with("ERROR"), "{kind}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{kind}: {e}: {text}"))
}

/// Waits for the browser to reach the app's callback; returns its code.
async fn wait_for_code(browser: &Browser, app: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let url = browser.client.current_url().await.expect("url");
        if url.path() == "/cb" {
            assert_eq!(url.origin().ascii_serialization(), app, "{url}");
            let query: BTreeMap<String, String> = url.query_pairs().into_owned().collect();
            assert!(!query.contains_key("error"), "{url}");
            return query
                .get("code")
                .cloned()
                .unwrap_or_else(|| panic!("{url}"));
        }
        assert!(Instant::now() < deadline, "still at {url}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_registered_through_the_api_signs_in_on_the_hosted_ui_and_with_user_auth() {
    let Some(browser) = Browser::start("passkeys-api").await else {
        return;
    };
    let app = app_origin().await;
    let (server, sdk) = start(&app).await;
    user(&server, POOL, "ann").await;
    user(&server, POOL, "bob").await;
    let ann = access_token(&sdk, APP, "ann").await;
    let bob = access_token(&sdk, APP, "bob").await;
    let authenticator = browser.add_virtual_authenticator().await;
    browser.goto(&format!("{}/health", server.base)).await;

    let options = start_registration(&sdk, &ann).await;
    let credential = ceremony(&browser, "create", &options).await;
    assert_eq!(browser.virtual_credentials(&authenticator).await.len(), 1);

    // Attack: bob answers ann's registration with his token: without a registration of
    // his own, and with one of his own (the credential was made for ann's challenge).
    let (code, _) = refusal(complete(&sdk, &bob, &credential).await);
    assert_eq!(code, "WebAuthnChallengeNotFoundException");
    start_registration(&sdk, &bob).await;
    let (code, _) = refusal(complete(&sdk, &bob, &credential).await);
    assert_eq!(code, "InvalidParameterException");
    assert!(server
        .find_user(POOL, "bob")
        .await
        .unwrap()
        .mfa
        .factors
        .is_empty());

    complete(&sdk, &ann, &credential)
        .await
        .expect("CompleteWebAuthnRegistration");
    let listed = sdk
        .list_web_authn_credentials()
        .access_token(&ann)
        .max_results(20)
        .send()
        .await
        .expect("ListWebAuthnCredentials");
    assert_eq!(listed.credentials().len(), 1);
    let described = &listed.credentials()[0];
    assert_eq!(
        described.credential_id(),
        credential["id"].as_str().unwrap()
    );
    assert_eq!(described.relying_party_id(), "localhost");
    assert_eq!(described.friendly_credential_name(), "Passkey");
    assert!(listed.next_token().is_none());

    // The hosted UI: the passkey alone signs ann in.
    let challenge = cognate::core::oauth::grants::pkce_challenge(VERIFIER);
    let redirect: String =
        url::form_urlencoded::byte_serialize(format!("{app}/cb").as_bytes()).collect();
    browser
        .goto(&format!(
            "{}/oauth2/authorize?response_type=code&client_id={APP}&redirect_uri={redirect}&scope=openid&state=st&code_challenge={challenge}&code_challenge_method=S256",
            server.base
        ))
        .await;
    let button = browser.find("button[data-passkey-purpose='signin']").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !button.is_displayed().await.unwrap_or(false) {
        assert!(Instant::now() < deadline, "the passkey button stays hidden");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    button.click().await.expect("click");
    wait_for_code(&browser, &app).await;
    // Back on the relying party's origin for the page's own ceremonies.
    browser.goto(&format!("{}/health", server.base)).await;

    // USER_AUTH with WEB_AUTHN: tokens, no further factor.
    let out = user_auth(&sdk, "ann", Some("WEB_AUTHN")).await;
    let options: Value =
        serde_json::from_str(&out.challenge_parameters().unwrap()["CREDENTIAL_REQUEST_OPTIONS"])
            .unwrap();
    let assertion = ceremony(&browser, "get", &options).await;
    let respond = |session: String, username: &'static str, assertion: &Value| {
        sdk.respond_to_auth_challenge()
            .client_id(APP)
            .challenge_name(ChallengeNameType::WebAuthn)
            .session(session)
            .challenge_responses("USERNAME", username)
            .challenge_responses("CREDENTIAL", assertion.to_string())
            .send()
    };
    let signed_in = respond(out.session().unwrap().to_string(), "ann", &assertion)
        .await
        .expect("WEB_AUTHN answered");
    let token = signed_in
        .authentication_result()
        .expect("tokens, no further MFA")
        .access_token()
        .unwrap()
        .to_string();
    let me = sdk.get_user().access_token(&token).send().await.unwrap();
    assert_eq!(me.username(), "ann");

    // Attack: the same assertion again, on a new session (its challenge is spent).
    let again = user_auth(&sdk, "ann", Some("WEB_AUTHN")).await;
    let (code, _) = refusal(respond(again.session().unwrap().to_string(), "ann", &assertion).await);
    assert_eq!(code, "CodeMismatchException");
    // Attack: ann's passkey answering a sign-in started for bob.
    let for_bob = user_auth(&sdk, "bob", Some("WEB_AUTHN")).await;
    let options: Value = serde_json::from_str(
        &for_bob.challenge_parameters().unwrap()["CREDENTIAL_REQUEST_OPTIONS"],
    )
    .unwrap();
    let anns = ceremony(&browser, "get", &options).await;
    let (code, _) = refusal(respond(for_bob.session().unwrap().to_string(), "bob", &anns).await);
    assert_eq!(code, "CodeMismatchException");

    // A disabled user's passkey gets no tokens (Cognito's "User is disabled.").
    let pool = server.pool(POOL).await;
    let sub = server.find_user(POOL, "ann").await.unwrap().sub;
    let now = cognate::core::now();
    server
        .node
        .directory
        .set_enabled(&pool, &sub, false, now)
        .await
        .unwrap();
    let out = user_auth(&sdk, "ann", Some("WEB_AUTHN")).await;
    let options: Value =
        serde_json::from_str(&out.challenge_parameters().unwrap()["CREDENTIAL_REQUEST_OPTIONS"])
            .unwrap();
    let assertion = ceremony(&browser, "get", &options).await;
    let (code, message) =
        refusal(respond(out.session().unwrap().to_string(), "ann", &assertion).await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("NotAuthorizedException", "User is disabled.")
    );
    server
        .node
        .directory
        .set_enabled(&pool, &sub, true, now)
        .await
        .unwrap();

    // Deleted: gone from the list, and no longer signs in.
    sdk.delete_web_authn_credential()
        .access_token(&ann)
        .credential_id(described.credential_id())
        .send()
        .await
        .expect("DeleteWebAuthnCredential");
    let listed = sdk
        .list_web_authn_credentials()
        .access_token(&ann)
        .send()
        .await
        .unwrap();
    assert!(listed.credentials().is_empty());
    let out = user_auth(&sdk, "ann", Some("WEB_AUTHN")).await;
    let options: Value =
        serde_json::from_str(&out.challenge_parameters().unwrap()["CREDENTIAL_REQUEST_OPTIONS"])
            .unwrap();
    let assertion = ceremony(&browser, "get", &options).await;
    let (code, _) = refusal(respond(out.session().unwrap().to_string(), "ann", &assertion).await);
    assert_eq!(code, "CodeMismatchException");
    server.stop().await;
}
