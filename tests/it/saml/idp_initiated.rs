//! IdP-initiated sign-in end to end: an unsolicited Response (no RelayState, no
//! InResponseTo) signed by `xmlsec1` is POSTed cross-site to the ACS, as an IdP's portal
//! does; when the IdP enabled it, the user is signed in and the configured client gets a
//! code, redeemed without a `code_verifier`. Each refusal is paired with the honest
//! sign-in succeeding, and refused responses create no user.

use serde_json::Value;

use crate::support::fake_saml::{FakeSaml, SamlUser};
use crate::support::federated::{param, payload, Outcome, FAILED};
use crate::support::saml_sign::{self, b64, ResponseSpec};
use crate::support::server::{browser_client, TestServer};

const POOL: &str = "us-east-1_SamlIdpInit1";
const PORTAL: &str = "samlportal00000000000001";
const CALLBACK: &str = "https://portal.example.com/cb";
const WEB: &str = "samlweb00000000000000001";
const WEB_CALLBACK: &str = "https://web.example.com/cb";

struct Env {
    server: TestServer,
    /// Enabled IdP-initiated sign-in, landing on [`PORTAL`].
    okta: FakeSaml,
    /// Another SAML IdP of the pool (another entity id), IdP-initiated sign-in off.
    other: FakeSaml,
}

/// `[[pools.identity_providers]]` for a fake SAML IdP.
fn saml_idp(name: &str, fake: &FakeSaml, extra: &str) -> String {
    format!(
        "\n[[pools.identity_providers]]\nname = \"{name}\"\npreset = \"saml\"\nmetadata = '''{}'''\n{extra}\n",
        fake.metadata(false)
    )
}

/// The portal's client: public, no PKCE required, SAML IdPs only.
fn portal_client(providers: &str, extra: &str) -> String {
    format!(
        r#"
[[pools.clients]]
id = "{PORTAL}"
name = "portal"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email", "profile"]
supported_identity_providers = [{providers}]
require_pkce = false
{extra}
"#
    )
}

const ENABLED: &str = r#"idp_initiated = { client_id = "samlportal00000000000001", redirect_uri = "https://portal.example.com/cb", scopes = ["openid", "email"] }"#;

fn pools(okta: &FakeSaml, other: &FakeSaml, client: &str) -> String {
    format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"IdP-initiated\"\n{}{}{client}",
        saml_idp("Okta", okta, ENABLED),
        saml_idp("Other", other, ""),
    )
}

async fn env() -> Option<Env> {
    if !saml_sign::available() {
        return None;
    }
    let okta = FakeSaml::start().await;
    let other = FakeSaml::start().await;
    // Beside the portal, a client of passwords and Okta (not IdP-initiated's target).
    let client = format!(
        "{}\n[[pools.clients]]\nid = \"{WEB}\"\nname = \"web\"\ncallback_urls = [\"{WEB_CALLBACK}\"]\n\
         allowed_oauth_flows = [\"code\"]\nallowed_oauth_scopes = [\"openid\"]\n\
         supported_identity_providers = [\"COGNITO\", \"Okta\"]\nrequire_pkce = false\n",
        portal_client(r#""Okta", "Other""#, "")
    );
    let server = TestServer::start(&pools(&okta, &other, &client)).await;
    Some(Env {
        server,
        okta,
        other,
    })
}

/// An honest unsolicited response of the IdP whose entity id is `issuer`, for Ada, to the
/// pool's SP at the server's ACS, issued now.
fn unsolicited(server: &TestServer, issuer: &str) -> ResponseSpec {
    let now = cognate::core::now();
    let acs = format!("{}/saml2/idpresponse", server.base);
    let ada = SamlUser::ada();
    let mut spec = ResponseSpec::new(now);
    spec.response_id = format!("_r{}", uuid::Uuid::new_v4().simple());
    spec.assertion_id = format!("_a{}", uuid::Uuid::new_v4().simple());
    spec.response_issuer = Some(issuer.to_string());
    spec.assertion_issuer = issuer.to_string();
    spec.destination = Some(acs.clone());
    spec.in_response_to = None;
    spec.scd_in_response_to = None;
    spec.audience = format!("urn:amazon:cognito:sp:{POOL}");
    spec.recipient = acs;
    spec.name_id = Some((ada.name_id, ada.format));
    spec.attributes = ada.attributes;
    spec
}

async fn signed(spec: ResponseSpec) -> String {
    tokio::task::spawn_blocking(move || b64(&spec.signed()))
        .await
        .unwrap()
}

/// The IdP portal's cross-site POST to the ACS: `SAMLResponse` only, no cookies.
async fn post(base: &str, response: &str) -> (Outcome, bool) {
    post_in(&browser_client(), base, response).await
}

async fn post_in(browser: &reqwest::Client, base: &str, response: &str) -> (Outcome, bool) {
    let r = browser
        .post(format!("{base}/saml2/idpresponse"))
        .form(&[("SAMLResponse", response)])
        .send()
        .await
        .unwrap();
    let session = r.headers().get_all("set-cookie").iter().any(|c| {
        c.to_str()
            .unwrap_or_default()
            .contains(&format!("cognate_session_{POOL}="))
    });
    (crate::support::federated::outcome(r).await, session)
}

fn assert_refused(outcome: Outcome, what: &str) {
    match outcome {
        Ok(redirect) => panic!("{what}: redirected to {redirect}"),
        Err((status, page)) => {
            assert_eq!(status, 400, "{what}: {page}");
            assert!(page.contains(FAILED), "{what}: {page}");
        }
    }
}

/// The client's token request for `code`, without a `code_verifier` (nothing started the
/// sign-in, so there is no PKCE challenge).
async fn redeem(base: &str, code: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", PORTAL),
            ("code", code),
            ("redirect_uri", CALLBACK),
        ])
        .send()
        .await
        .unwrap()
}

/// The honest sign-in: the portal's client gets a code (no state) and a session cookie,
/// and the code redeems for Ada's tokens with the configured scopes.
async fn honest(env: &Env) -> Value {
    let base = &env.server.base;
    let response = signed(unsolicited(&env.server, &env.okta.entity_id)).await;
    let (outcome, session) = post(base, &response).await;
    let redirect = outcome.expect("an enabled IdP's unsolicited response signs in");
    assert!(redirect.starts_with(CALLBACK), "{redirect}");
    assert_eq!(param(&redirect, "state"), None);
    assert!(session, "a session cookie is set");
    let code = param(&redirect, "code").expect("a code");
    let r = redeem(base, &code).await;
    assert_eq!(r.status(), 200);
    let tokens: Value = r.json().await.unwrap();
    let id = payload(tokens["id_token"].as_str().unwrap());
    assert_eq!(id["cognito:username"], "Okta_00u1ada");
    assert_eq!(id["aud"], PORTAL);
    assert!(id.get("nonce").is_none());
    let access = payload(tokens["access_token"].as_str().unwrap());
    assert_eq!(access["scope"], "openid email");
    // The code is single use.
    assert_eq!(redeem(base, &code).await.status(), 400);
    id
}

#[tokio::test]
async fn honest_idp_initiated_sign_in_reaches_the_client_and_its_code_redeems() {
    let Some(env) = env().await else { return };
    let id = honest(&env).await;
    assert_eq!(id["email"], "ada@corp.example");
    // A second sign-in of the same user (a new assertion) works too.
    honest(&env).await;
    assert_eq!(env.server.user_count(POOL).await, 1);
}

/// The session an unsolicited sign-in starts answers only its client: another client of
/// the pool that lists the same IdP (and passwords) is not entered with it.
#[tokio::test]
async fn the_session_of_an_idp_initiated_sign_in_enters_only_its_client() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let browser = browser_client();
    let response = signed(unsolicited(&env.server, &env.okta.entity_id)).await;
    let (outcome, session) = post_in(&browser, base, &response).await;
    assert!(session && outcome.is_ok(), "{outcome:?}");
    let authorize = |client: &str, callback: &str| {
        let mut url = url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap();
        url.query_pairs_mut()
            .append_pair("client_id", client)
            .append_pair("redirect_uri", callback)
            .append_pair("response_type", "code")
            .append_pair("scope", "openid");
        url.to_string()
    };
    let again = browser
        .get(authorize(PORTAL, CALLBACK))
        .send()
        .await
        .unwrap();
    let to = crate::support::federated::outcome(again).await;
    let to = to.expect("the portal is entered with the session");
    assert!(
        to.starts_with(CALLBACK) && param(&to, "code").is_some(),
        "{to}"
    );
    let web = browser
        .get(authorize(WEB, WEB_CALLBACK))
        .send()
        .await
        .unwrap();
    let to = crate::support::federated::outcome(web).await;
    let to = to.expect("the web client sends the browser to its sign-in page");
    assert!(to.starts_with("/login?"), "not signed in: {to}");
}

#[tokio::test]
async fn unsolicited_responses_not_from_an_enabled_idp_are_refused() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    // IdP B (of the same pool, listed by the same client) did not enable it: its honest
    // response is refused, though A's config names this client.
    let other = signed(unsolicited(&env.server, &env.other.entity_id)).await;
    assert_refused(post(base, &other).await.0, "IdP B's unsolicited response");
    // An issuer no pool knows.
    let unknown = signed(unsolicited(&env.server, "https://nobody.example/")).await;
    assert_refused(post(base, &unknown).await.0, "unknown issuer");
    // A's name, another IdP's key: only A's metadata certificates verify.
    let mut forged = unsolicited(&env.server, &env.okta.entity_id);
    forged.signer = saml_sign::attacker();
    assert_refused(
        post(base, &signed(forged).await).await.0,
        "A's name, B's key",
    );
    // For another pool's SP (Audience), or to another ACS (Recipient).
    let mut elsewhere = unsolicited(&env.server, &env.okta.entity_id);
    elsewhere.audience = "urn:amazon:cognito:sp:us-east-1_Elsewhere".into();
    assert_refused(post(base, &signed(elsewhere).await).await.0, "another SP");
    // Garbage is a precise refusal, not a 500.
    assert_refused(post(base, "@@not base64@@").await.0, "garbage");
    assert_refused(post(base, &b64("<a/>")).await.0, "not a Response");
    assert_eq!(env.server.user_count(POOL).await, 0);
    honest(&env).await;
}

#[tokio::test]
async fn stale_solicited_or_replayed_unsolicited_responses_are_refused() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let issuer = env.okta.entity_id.clone();
    // Issued more than six minutes (plus the two minutes of skew) ago, though its
    // conditions are still open.
    let mut stale = unsolicited(&env.server, &issuer);
    stale.issue_instant -= 6 * 60 + 120 + 5;
    assert_refused(post(base, &signed(stale).await).await.0, "stale");
    // Issued in the future.
    let mut future = unsolicited(&env.server, &issuer);
    future.issue_instant += 600;
    assert_refused(post(base, &signed(future).await).await.0, "future");
    // An answer to some request, posted without its RelayState.
    let mut answer = unsolicited(&env.server, &issuer);
    answer.in_response_to = Some("_someRequest".into());
    answer.scd_in_response_to = Some("_someRequest".into());
    assert_refused(post(base, &signed(answer).await).await.0, "InResponseTo");
    let mut scd_only = unsolicited(&env.server, &issuer);
    scd_only.scd_in_response_to = Some("_someRequest".into());
    assert_refused(
        post(base, &signed(scd_only).await).await.0,
        "InResponseTo on the confirmation",
    );
    assert_eq!(env.server.user_count(POOL).await, 0);
    // Replayed: accepted once.
    let response = signed(unsolicited(&env.server, &issuer)).await;
    let (first, _) = post(base, &response).await;
    assert!(param(&first.expect("first use"), "code").is_some());
    assert_refused(post(base, &response).await.0, "replayed");
}

/// The client is checked again at every unsolicited sign-in: one changed since the
/// configuration was checked (here to take passwords too) is not signed in to, and the
/// assertion is not spent on it.
#[tokio::test]
async fn a_client_that_has_since_taken_passwords_is_refused_at_sign_in() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let store = env.server.node.store.clone();
    let original = store.get_client(PORTAL).await.unwrap().unwrap();
    let mut changed = original.clone();
    changed.supported_identity_providers.push("COGNITO".into());
    store.put_client(&changed).await.unwrap();
    let response = signed(unsolicited(&env.server, &env.okta.entity_id)).await;
    assert_refused(post(base, &response).await.0, "a password client");
    assert_eq!(env.server.user_count(POOL).await, 0);
    store.put_client(&original).await.unwrap();
    let (outcome, _) = post(base, &response).await;
    assert!(param(
        &outcome.expect("the same response, the client restored"),
        "code"
    )
    .is_some());
}

#[tokio::test]
async fn disabled_by_default() {
    if !saml_sign::available() {
        return;
    }
    let okta = FakeSaml::start().await;
    let other = FakeSaml::start().await;
    let text = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"IdP-initiated\"\n{}{}",
        saml_idp("Okta", &okta, ""),
        portal_client(r#""Okta""#, ""),
    );
    let server = TestServer::start(&text).await;
    let response = signed(unsolicited(&server, &okta.entity_id)).await;
    assert_refused(post(&server.base, &response).await.0, "not enabled");
    assert_eq!(server.user_count(POOL).await, 0);
    // The same IdP and client, with the IdP enabling it.
    let enabled = TestServer::start(&pools(&okta, &other, &portal_client(r#""Okta""#, ""))).await;
    let response = signed(unsolicited(&enabled, &okta.entity_id)).await;
    let (outcome, _) = post(&enabled.base, &response).await;
    assert!(param(&outcome.expect("enabled"), "code").is_some());
}

/// The configuration's rules on `idp_initiated`: each refusal on the key at fault, beside
/// the good declaration passing.
#[tokio::test]
async fn the_target_client_is_checked_when_the_configuration_is() {
    let fake = FakeSaml::start().await;
    let other = FakeSaml::start().await;
    let check = |client: &str, enabled: &str| {
        let text = format!(
            "[server]\npublic_url = \"https://auth.example.com\"\n\n[[pools]]\nid = \"{POOL}\"\nname = \"p\"\n{}{}{client}",
            saml_idp("Okta", &fake, enabled),
            saml_idp("Other", &other, ""),
        );
        match cognate::config::check::check_str(&text, "cognate.toml") {
            Ok(_) => Vec::new(),
            Err(diagnostics) => diagnostics
                .into_iter()
                .map(|d| format!("{}: {}", d.path, d.message))
                .collect::<Vec<_>>(),
        }
    };
    let at = "pools[0].identity_providers[0].idp_initiated";
    assert_eq!(
        check(&portal_client(r#""Okta", "Other""#, ""), ENABLED),
        Vec::<String>::new()
    );
    let refused = |errors: Vec<String>, key: &str, words: &str| {
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("{at}.{key}:")) && e.contains(words)),
            "{key} / {words}: {errors:?}"
        );
    };
    // A password client: Cognito's guard.
    refused(
        check(&portal_client(r#""COGNITO", "Okta""#, ""), ENABLED),
        "client_id",
        "\"COGNITO\"",
    );
    // The client does not list the IdP.
    refused(
        check(&portal_client(r#""Other""#, ""), ENABLED),
        "client_id",
        "does not list \"Okta\"",
    );
    // A redirect URI the client does not have.
    refused(
        check(
            &portal_client(r#""Okta""#, ""),
            &ENABLED.replace("portal.example.com/cb", "evil.example/cb"),
        ),
        "redirect_uri",
        "callback_urls",
    );
    // A client requiring PKCE (an IdP-initiated code has no challenge).
    refused(
        check(
            &portal_client(r#""Okta""#, "").replace("require_pkce = false", "require_pkce = true"),
            ENABLED,
        ),
        "client_id",
        "requires PKCE",
    );
    // A scope the client does not allow.
    refused(
        check(
            &portal_client(r#""Okta""#, ""),
            &ENABLED.replace(r#""email""#, r#""phone""#),
        ),
        "scopes",
        "\"phone\"",
    );
    // No such client.
    refused(
        check(
            &portal_client(r#""Okta""#, ""),
            &ENABLED.replace(PORTAL, "nosuchclient"),
        ),
        "client_id",
        "not an app client of this pool",
    );
    // A typo inside the table is refused, not ignored.
    let typo = ENABLED.replace("scopes", "scope");
    assert!(
        !check(&portal_client(r#""Okta""#, ""), &typo).is_empty(),
        "an unknown key of idp_initiated"
    );
}

/// The verifier's unsolicited rules, each refusal with its precise reason beside the
/// honest response passing.
#[test]
fn unsolicited_expectations_refuse_for_the_precise_reason() {
    use cognate::federation::saml::response::{unverified_issuer, verify, SamlError};

    use super::{expectations, metadata, IDP, NOW};
    if !saml_sign::available() {
        return;
    }
    let certs = metadata();
    let mut expect = expectations(&certs);
    expect.in_response_to = None;
    let run = |change: &dyn Fn(&mut ResponseSpec)| {
        let mut spec = ResponseSpec::new(NOW);
        spec.in_response_to = None;
        spec.scd_in_response_to = None;
        change(&mut spec);
        verify(&b64(&spec.signed()), &expect)
    };
    let honest = run(&|_| {}).expect("an honest unsolicited response");
    assert_eq!(honest.assertion_id, "_assert1");
    let unsolicited_irt = |found: &str| SamlError::UnsolicitedInResponseTo {
        found: found.into(),
    };
    assert_eq!(
        run(&|s| s.in_response_to = Some("_x".into())),
        Err(unsolicited_irt("_x"))
    );
    assert_eq!(
        run(&|s| s.scd_in_response_to = Some("_y".into())),
        Err(unsolicited_irt("_y"))
    );
    // Six minutes and the skew are allowed; a second more is stale.
    assert!(run(&|s| s.issue_instant = NOW - 360 - 120).is_ok());
    assert_eq!(
        run(&|s| s.issue_instant = NOW - 360 - 121),
        Err(SamlError::Stale("Response IssueInstant"))
    );
    assert_eq!(
        run(&|s| s.issue_instant = NOW + 121),
        Err(SamlError::NotYetValid("Response IssueInstant"))
    );
    // A solicited flow still needs its InResponseTo.
    let solicited = expectations(&certs);
    let mut spec = ResponseSpec::new(NOW);
    spec.in_response_to = None;
    spec.scd_in_response_to = None;
    assert_eq!(
        verify(&b64(&spec.signed()), &solicited),
        Err(SamlError::Missing("SubjectConfirmationData InResponseTo"))
    );
    // The issuer read before verification, under the same caps.
    assert_eq!(
        unverified_issuer(&b64(&ResponseSpec::new(NOW).unsigned())).as_deref(),
        Ok(IDP)
    );
    assert!(matches!(
        unverified_issuer(&"A".repeat(100_001)),
        Err(SamlError::TooLarge { .. })
    ));
    assert!(matches!(
        unverified_issuer(&b64("<!DOCTYPE x [<!ENTITY a 'b'>]><x/>")),
        Err(SamlError::Dtd)
    ));
}
