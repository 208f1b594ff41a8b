//! SAML sign-in end to end and browserless: Cognate's `/oauth2/authorize` sends the
//! browser to a fake IdP ([`FakeSaml`]) by HTTP-Redirect or HTTP-POST; the IdP's page
//! POSTs a response signed by `xmlsec1` to the ACS, cross-site and without cookies, as a
//! browser does; the same-site continuation signs the user in, and the relying party, an
//! independent OpenID Connect client library, redeems the code. Each refusal is paired
//! with the honest sign-in succeeding, and none of them creates a user.

use serde_json::{json, Value};

use crate::support::fake_apple::form_of;
use crate::support::fake_saml::{FakeSaml, SamlUser};
use crate::support::federated::{
    button_href, location, login_page, param, Client, Outcome, EXPIRED, FAILED,
};
use crate::support::saml_sign;
use crate::support::server::{absolute, browser_client, TestServer};

pub(super) const POOL: &str = "us-east-1_SamlTest1";
pub(super) const CLIENT: &str = "samlweb0000000000000000001";
pub(super) const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "saml-test-verifier-0123456789-abcdefghijklmnopqrstu";

pub(super) fn rp() -> Client {
    Client::new(CLIENT, CALLBACK, VERIFIER).with_nonce("client-nonce")
}

struct Env {
    server: TestServer,
    okta: FakeSaml,
    /// A second IdP of the pool (another entity id).
    other: FakeSaml,
}

/// `[[pools.identity_providers]]` for a fake SAML IdP named `name`.
fn saml_idp(name: &str, fake: &FakeSaml, want_signed: bool, extra: &str) -> String {
    format!(
        r#"
[[pools.identity_providers]]
name = "{name}"
preset = "saml"
metadata = '''{}'''
{extra}
"#,
        fake.metadata(want_signed)
    )
}

/// A pool with two SAML IdPs, `Okta` (requests by `binding`, groups `Engineering` mapped
/// to `engineers`) and `Other`, and a client enabling both.
async fn env_with(binding: &str, want_signed: bool) -> Env {
    let okta = FakeSaml::start().await;
    let other = FakeSaml::start().await;
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"SAML tests\"\n{}{}{}",
        saml_idp(
            "Okta",
            &okta,
            want_signed,
            &format!(
                "request_binding = \"{binding}\"\nidentifiers = [\"corp.example\"]\n\
                 group_mapping = {{ \"Engineering\" = \"engineers\" }}"
            ),
        ),
        saml_idp("Other", &other, false, ""),
        rp().toml(&["Okta", "Other"]),
    );
    let server = TestServer::start(&pools).await;
    Env {
        server,
        okta,
        other,
    }
}

async fn env() -> Option<Env> {
    if !saml_sign::available() {
        return None;
    }
    Some(env_with("redirect", false).await)
}

fn authorize_url(base: &str, idp: &str) -> String {
    rp().authorize_url(base, &[("identity_provider", idp)])
}

/// From Cognate's authorization request to the IdP's page: the form the IdP's page POSTs
/// to the ACS (action and fields), following the HTTP-Redirect binding or POSTing
/// Cognate's own auto-submitting form (HTTP-POST binding).
async fn to_idp_form(
    browser: &reqwest::Client,
    base: &str,
    idp: &str,
) -> (String, Vec<(String, String)>) {
    let r = browser.get(authorize_url(base, idp)).send().await.unwrap();
    let idp_page = if let Some(to) = r.headers().get("location") {
        let to = to.to_str().unwrap().to_string();
        browser.get(&to).send().await.unwrap()
    } else {
        assert_eq!(r.status(), 200, "neither a redirect nor Cognate's form");
        let csp = r.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        let html = r.text().await.unwrap();
        let (action, fields) = form_of(&html);
        let origin = url::Url::parse(&action)
            .unwrap()
            .origin()
            .ascii_serialization();
        assert!(csp.contains(&format!("form-action {origin}")), "{csp}");
        assert!(csp.contains("script-src 'sha256-"), "{csp}");
        browser.post(&action).form(&fields).send().await.unwrap()
    };
    assert_eq!(idp_page.status(), 200);
    form_of(&idp_page.text().await.unwrap())
}

/// The IdP's cross-site POST to the ACS, without the browser's cookies (SameSite=Lax
/// leaves them out).
async fn post_acs(action: &str, fields: &[(String, String)]) -> reqwest::Response {
    browser_client()
        .post(action)
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn outcome(r: reqwest::Response) -> Outcome {
    crate::support::federated::outcome(r).await
}

/// A whole sign-in through `idp` in a fresh browser: the client's redirect, or the page.
pub(super) async fn sign_in(base: &str, idp: &str) -> Outcome {
    let browser = browser_client();
    let (action, fields) = to_idp_form(&browser, base, idp).await;
    let continued = outcome(post_acs(&action, &fields).await).await?;
    outcome(
        browser
            .get(absolute(base, &continued))
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub(super) async fn id_token(base: &str, redirect: &str) -> Value {
    rp().id_token(base, redirect).await
}

/// Refused: a page with an error status, or the client's redirect without a code.
pub(super) fn assert_refused(outcome: Outcome, what: &str) {
    match outcome {
        Ok(redirect) => assert!(
            redirect.starts_with(CALLBACK) && param(&redirect, "code").is_none(),
            "{what}: signed in: {redirect}"
        ),
        Err((status, page)) => {
            assert!(status >= 400, "{what}: {status}");
            assert!(
                page.contains(FAILED) || page.contains(EXPIRED),
                "{what}: {page}"
            );
        }
    }
}

#[tokio::test]
async fn sp_initiated_sign_in_by_redirect_reaches_an_oidc_client() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let redirect = sign_in(base, "Okta").await.expect("signed in");
    let id = id_token(base, &redirect).await;
    assert_eq!(id["cognito:username"], "Okta_00u1ada");
    assert_eq!(id["email"], "ada@corp.example");
    assert_eq!(id["given_name"], "Ada");
    let identity = &id["identities"][0];
    assert_eq!(identity["providerType"], "SAML");
    assert_eq!(identity["providerName"], "Okta");
    assert_eq!(identity["userId"], "00u1ada");
    assert_eq!(identity["issuer"], json!(env.okta.entity_id));
    // `Engineering` maps to `engineers`; `admins` is not in the table and grants nothing.
    let groups = id["cognito:groups"].as_array().unwrap().clone();
    assert!(groups.contains(&json!("engineers")), "{groups:?}");
    assert!(!groups.contains(&json!("admins")), "{groups:?}");

    // The request the IdP received: an NCName id of 128 bits, Cognate's ACS and entity id.
    let request = env.okta.received().pop().unwrap();
    assert_eq!(request.binding, "redirect");
    assert!(
        request.id.starts_with('_') && request.id.len() == 33,
        "{}",
        request.id
    );
    assert_eq!(request.acs, format!("{base}/saml2/idpresponse"));
    assert_eq!(request.issuer, format!("urn:amazon:cognito:sp:{POOL}"));
    assert_eq!(request.signature_ok, None);
    assert!(request.relay_state.is_some());

    // A group the IdP stops sending is left at the next sign-in.
    let mut ada = SamlUser::ada();
    ada.attributes
        .retain(|(name, _)| !name.ends_with("/groups"));
    env.okta.set_user(ada);
    let redirect = sign_in(base, "Okta").await.expect("signed in again");
    let id = id_token(base, &redirect).await;
    let groups = id["cognito:groups"].as_array().cloned().unwrap_or_default();
    assert!(!groups.contains(&json!("engineers")), "{groups:?}");
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn sp_initiated_sign_in_by_post_binding() {
    if !saml_sign::available() {
        return;
    }
    let env = env_with("post", false).await;
    let base = &env.server.base;
    let redirect = sign_in(base, "Okta").await.expect("signed in");
    let id = id_token(base, &redirect).await;
    assert_eq!(id["cognito:username"], "Okta_00u1ada");
    let request = env.okta.received().pop().unwrap();
    assert_eq!(request.binding, "post");
    assert!(request.xml.contains("AuthnRequest"));
}

#[tokio::test]
async fn the_posted_response_is_single_use_and_bound_to_its_browser_and_relay_state() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;

    // Another browser cannot continue the flow, nor spend it for its owner.
    let browser = browser_client();
    let (action, fields) = to_idp_form(&browser, base, "Okta").await;
    let continued = location(&post_acs(&action, &fields).await);
    let thief = browser_client()
        .get(absolute(base, &continued))
        .send()
        .await
        .unwrap();
    assert_refused(outcome(thief).await, "another browser");
    // A second POST of the same response is refused while the first waits...
    assert_refused(
        outcome(post_acs(&action, &fields).await).await,
        "posted twice",
    );
    // ...and the owner still signs in.
    let owner = browser
        .get(absolute(base, &continued))
        .send()
        .await
        .unwrap();
    let redirect = outcome(owner).await.expect("the owner signs in");
    assert!(param(&redirect, "code").is_some());
    // Replayed after use: the flow and the assertion are spent.
    assert_refused(outcome(post_acs(&action, &fields).await).await, "replayed");

    // A RelayState that is not the flow's.
    let browser = browser_client();
    let (action, mut fields) = to_idp_form(&browser, base, "Okta").await;
    for (name, value) in &mut fields {
        if name == "RelayState" {
            value.push('x');
        }
    }
    assert_refused(
        outcome(post_acs(&action, &fields).await).await,
        "wrong RelayState",
    );
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn a_response_the_flow_did_not_ask_for_is_refused() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;

    // IdP B's response (its own issuer, validly signed) in a flow started with IdP A.
    let other_entity = env.other.entity_id.clone();
    env.okta.tamper(move |spec| {
        spec.response_issuer = Some(other_entity.clone());
        spec.assertion_issuer = other_entity.clone();
    });
    assert_refused(sign_in(base, "Okta").await, "another IdP's response");

    // Each refused with a page, no user made.
    type Change = Box<dyn Fn(&mut saml_sign::ResponseSpec) + Send>;
    let cases: Vec<(&str, Change)> = vec![
        (
            "wrong audience",
            Box::new(|s| s.audience = "urn:amazon:cognito:sp:other".into()),
        ),
        (
            "expired",
            Box::new(|s| {
                s.not_on_or_after -= 3600;
                s.scd_not_on_or_after -= 3600;
            }),
        ),
        (
            "wrong recipient",
            Box::new(|s| s.recipient = "https://evil.example/acs".into()),
        ),
        (
            "unsigned",
            Box::new(|s| {
                s.sign_assertion = false;
                s.sign_response = false;
            }),
        ),
        (
            "attacker-signed",
            Box::new(|s| s.signer = saml_sign::attacker()),
        ),
        (
            "encrypted",
            Box::new(|s| {
                s.encrypted_assertion = true;
                s.sign_assertion = false;
                s.sign_response = true;
            }),
        ),
        (
            "transient NameID",
            Box::new(|s| {
                s.name_id = Some((
                    "_t1".into(),
                    "urn:oasis:names:tc:SAML:2.0:nameid-format:transient".into(),
                ))
            }),
        ),
    ];
    for (what, change) in cases {
        env.okta.tamper(change);
        assert_refused(sign_in(base, "Okta").await, what);
    }
    assert_eq!(env.server.user_count(POOL).await, 0);

    // The IdP says the user failed: no sign-in.
    env.okta.tamper(|s| {
        s.status = "urn:oasis:names:tc:SAML:2.0:status:Responder".into();
        s.include_assertion = false;
        s.sign_assertion = false;
    });
    assert_refused(sign_in(base, "Okta").await, "a Responder status");

    // Honest again: signs in.
    env.okta.tamper(|_| {});
    let redirect = sign_in(base, "Okta").await.expect("honest sign-in");
    assert!(param(&redirect, "code").is_some());
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn an_unsolicited_malformed_or_oversized_post_is_refused_with_a_page() {
    let Some(env) = env().await else { return };
    let acs = format!("{}/saml2/idpresponse", env.server.base);
    let unsolicited = {
        let mut spec = saml_sign::ResponseSpec::new(cognate::core::now());
        spec.in_response_to = None;
        spec.scd_in_response_to = None;
        saml_sign::b64(&spec.signed())
    };
    for (what, fields) in [
        ("no SAMLResponse", vec![]),
        (
            "not base64",
            vec![("SAMLResponse".to_string(), "%%%".to_string())],
        ),
        (
            "oversized",
            vec![("SAMLResponse".to_string(), "A".repeat(100_004))],
        ),
        (
            "unsolicited",
            vec![("SAMLResponse".to_string(), unsolicited)],
        ),
    ] {
        let r = post_acs(&acs, &fields).await;
        let status = r.status().as_u16();
        assert!((400..500).contains(&status), "{what}: {status}");
        assert!(r.text().await.unwrap().contains("<html"), "{what}");
    }
    // The continuation without a live flow.
    let r = browser_client()
        .get(format!("{acs}?flow=_00"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // The honest sign-in still works.
    assert!(sign_in(&env.server.base, "Okta").await.is_ok());
}

/// The certificates of Cognate's SP metadata for the pool (what an IdP is given), each
/// once (the metadata lists each as a signing and as an encryption key).
async fn sp_certificates(base: &str) -> Vec<Vec<u8>> {
    use base64::Engine;
    let xml = browser_client()
        .get(format!("{base}/saml2/metadata/{POOL}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    xml.split("<ds:X509Certificate>")
        .skip(1)
        .filter_map(|rest| rest.split("</ds:X509Certificate>").next())
        .map(|b64| {
            let clean: String = b64.split_whitespace().collect();
            base64::engine::general_purpose::STANDARD
                .decode(clean)
                .unwrap()
        })
        .fold(Vec::new(), |mut all: Vec<Vec<u8>>, cert| {
            if !all.contains(&cert) {
                all.push(cert);
            }
            all
        })
}

/// The fake IdP encrypts its assertions to the certificate of Cognate's SP metadata: the
/// sign-in goes through the ACS; encrypted to another key, or with AES-CBC the IdP is not
/// allowed, it is refused and no user is made.
#[tokio::test]
async fn encrypted_assertions_sign_in_through_the_acs() {
    use crate::support::saml_sign::{cert_pem, Encryption, AES256_CBC, RSA_OAEP_MGF1P};
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let certs = sp_certificates(base).await;
    assert_eq!(certs.len(), 1);
    let sp_cert = cert_pem(&certs[0]);

    // Encrypted to another key: refused, nothing made.
    env.okta.tamper(|s| {
        s.encrypt = Some(Encryption::gcm(&saml_sign::attacker().cert_pem));
    });
    assert_refused(sign_in(base, "Okta").await, "encrypted to another key");
    // AES-CBC, which this IdP is not allowed.
    let cert = sp_cert.clone();
    env.okta.tamper(move |s| {
        s.encrypt = Some(Encryption::with(AES256_CBC, RSA_OAEP_MGF1P, &cert));
    });
    assert_refused(sign_in(base, "Okta").await, "AES-CBC not allowed");
    assert_eq!(env.server.user_count(POOL).await, 0);

    // AES-256-GCM + RSA-OAEP to Cognate's certificate: signed in.
    let cert = sp_cert.clone();
    env.okta
        .tamper(move |s| s.encrypt = Some(Encryption::gcm(&cert)));
    let redirect = sign_in(base, "Okta").await.expect("signed in");
    let id = id_token(base, &redirect).await;
    assert_eq!(id["cognito:username"], "Okta_00u1ada");
    assert_eq!(id["email"], "ada@corp.example");
    // A Response signed over the ciphertext, the assertion unsigned, works too.
    let cert = sp_cert.clone();
    env.okta.tamper(move |s| {
        s.encrypt = Some(Encryption::gcm(&cert));
        s.sign_assertion = false;
        s.sign_response = true;
    });
    sign_in(base, "Okta").await.expect("signed in again");
    assert_eq!(env.server.user_count(POOL).await, 1);
}

#[tokio::test]
async fn requests_are_signed_when_the_idp_wants_it_and_verify_with_the_sp_metadata() {
    if !saml_sign::available() {
        return;
    }
    let env = env_with("redirect", true).await;
    let base = &env.server.base;
    let certs = sp_certificates(base).await;
    assert_eq!(certs.len(), 1, "one SP certificate before any rotation");
    env.okta.require_signed_requests(certs[0].clone());
    let redirect = sign_in(base, "Okta").await.expect("signed in");
    assert!(param(&redirect, "code").is_some());
    let request = env.okta.received().pop().unwrap();
    assert_eq!(
        request.signature_ok,
        Some(true),
        "openssl verifies the query signature with the metadata's certificate"
    );

    // An IdP holding another certificate (a stale or forged metadata) refuses the request.
    env.okta
        .require_signed_requests(saml_sign::attacker().cert_der.clone());
    let browser = browser_client();
    let r = browser
        .get(authorize_url(base, "Okta"))
        .send()
        .await
        .unwrap();
    let at_idp = browser.get(location(&r)).send().await.unwrap();
    assert_eq!(at_idp.status(), 403);
    assert_eq!(env.okta.received().pop().unwrap().signature_ok, Some(false));
}

#[tokio::test]
async fn the_sign_in_page_button_and_the_email_domain_start_saml_too() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let sso = format!("{}/sso?", env.okta.base);

    // The sign-in page offers both SAML IdPs; Okta's button leads to its SSO endpoint.
    let browser = browser_client();
    let (_, page) = login_page(&browser, base, &rp().authorize_url(base, &[])).await;
    assert!(page.contains("Other"), "{page}");
    let r = browser
        .get(button_href(base, &page, "Okta"))
        .send()
        .await
        .unwrap();
    assert!(location(&r).starts_with(&sso), "{}", location(&r));

    // `idp_identifier` with an address of the IdP's domain routes there.
    let r = browser_client()
        .get(rp().authorize_url(base, &[("idp_identifier", "ada@corp.example")]))
        .send()
        .await
        .unwrap();
    let to = location(&r);
    assert!(to.starts_with(&sso), "{to}");
    assert!(param(&to, "SAMLRequest").is_some() && param(&to, "RelayState").is_some());
}

#[tokio::test]
async fn an_assertion_is_accepted_once_even_if_its_flow_came_back() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let store = &env.server.node.store;
    let browser = browser_client();
    let (action, fields) = to_idp_form(&browser, base, "Okta").await;
    let continued = location(&post_acs(&action, &fields).await);
    let flow_id = param(&continued, "flow").unwrap();
    let now = cognate::core::now();
    let kind = cognate::federation::flow::IDP_FLOW_KIND;
    let flow = store
        .get_ephemeral(kind, &flow_id, now)
        .await
        .unwrap()
        .expect("the stored flow");
    let signed_in = browser
        .get(absolute(base, &continued))
        .send()
        .await
        .unwrap();
    assert!(param(&outcome(signed_in).await.unwrap(), "code").is_some());

    // The flow restored (a store rolled back, a flow id reused): the same assertion is
    // still refused, by the replay cache of assertion ids.
    store
        .put_ephemeral(kind, &flow_id, &flow, now + 600, now)
        .await
        .unwrap();
    let continued = outcome(post_acs(&action, &fields).await)
        .await
        .expect("the flow is live again, so the POST is kept");
    let replayed = browser
        .get(absolute(base, &continued))
        .send()
        .await
        .unwrap();
    // Refused after the flow checks passed (a spent flow would say "expired").
    let (status, page) = outcome(replayed).await.expect_err("a replayed assertion");
    assert_eq!(status, 400);
    assert!(page.contains(FAILED) && !page.contains(EXPIRED), "{page}");
}

#[tokio::test]
async fn a_saml_provider_beside_one_oidc_provider_keeps_the_bare_oauth_callback() {
    if !saml_sign::available() {
        return;
    }
    // One OpenID Connect provider and one SAML IdP: the SAML IdP never answers at the
    // OAuth callback, so the bare Cognito URL stays safe for Google.
    let google = crate::support::federated::fake_google().await;
    let okta = FakeSaml::start().await;
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"SAML beside OIDC\"\n{}{}{}",
        crate::support::federated::google_idp(&google.issuer),
        saml_idp("Okta", &okta, false, ""),
        rp().toml(&["Google", "Okta"]),
    );
    let server =
        TestServer::start_with(&pools, "", &[crate::support::federated::GOOGLE_SECRET_ENV]).await;
    let base = &server.base;
    let r = browser_client()
        .get(authorize_url(base, "Google"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        param(&location(&r), "redirect_uri"),
        Some(format!("{base}/oauth2/idpresponse"))
    );
    // And the SAML IdP still signs in.
    assert!(sign_in(base, "Okta").await.is_ok());
}

#[tokio::test]
async fn an_attackers_attempt_answered_in_a_victims_browser_cannot_be_finished() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;

    // Login CSRF: the attacker starts an attempt, keeps its cookie, and leads a victim
    // (signed in at the IdP) to the IdP with it; the victim's browser posts the victim's
    // signed identity to the ACS and gets the continuation, which fails there (not the
    // flow's browser).
    let attacker = browser_client();
    let r = attacker
        .get(authorize_url(base, "Okta"))
        .send()
        .await
        .unwrap();
    let at_idp = location(&r);
    let victim = browser_client();
    let page = victim.get(&at_idp).send().await.unwrap();
    let (action, fields) = form_of(&page.text().await.unwrap());
    let victims = location(&post_acs(&action, &fields).await);
    assert_refused(
        outcome(victim.get(absolute(base, &victims)).send().await.unwrap()).await,
        "the victim's continuation",
    );
    // The attacker has the flow's cookie and its id, not the token only the victim's
    // browser received: nothing to finish.
    let flow = param(&victims, "flow").unwrap();
    for forged in [
        format!("{base}/saml2/idpresponse?flow={flow}"),
        format!("{base}/saml2/idpresponse?flow={flow}&posted=1"),
        format!("{base}/saml2/idpresponse?flow={flow}&posted=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let r = attacker.get(&forged).send().await.unwrap();
        assert_refused(outcome(r).await, "the attacker's continuation");
    }
    assert_eq!(env.server.user_count(POOL).await, 0);

    // The honest sign-in, in one browser, goes through.
    assert!(sign_in(base, "Okta").await.is_ok());
    assert_eq!(env.server.user_count(POOL).await, 1);
}
