//! SAML single logout end to end on the HTTP-Redirect binding, against the fake IdP
//! ([`FakeSaml`], its `/slo` endpoint and its own LogoutRequests signed by `openssl`):
//! SP-initiated (`/logout` -> the IdP -> `/saml2/logout` -> the client's logout URI) and
//! IdP-initiated (a signed LogoutRequest at `/saml2/logout` signs the user out everywhere
//! and is answered with a signed LogoutResponse). Each refused request (unsigned, signed
//! by another key, expired, replayed) is paired with the honest one succeeding, and a
//! refused one leaves the user's refresh token working.

use serde_json::Value;

use crate::support::fake_saml::{redirect_query, FakeSaml, SamlUser};
use crate::support::federated::{location, param, Client};
use crate::support::saml_sign::{self, attacker, idp};
use crate::support::server::{absolute, browser_client, TestServer};

const POOL: &str = "us-east-1_SamlSlo01";
const CLIENT: &str = "samlslo000000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const BYE: &str = "https://app.example.com/bye";
const VERIFIER: &str = "saml-slo-verifier-0123456789-abcdefghijklmnopqrstuv";

fn rp() -> Client {
    Client::new(CLIENT, CALLBACK, VERIFIER)
}

struct Env {
    server: TestServer,
    okta: FakeSaml,
    /// A second IdP of the pool, without a SingleLogoutService.
    plain: FakeSaml,
    /// A third, whose user id is the attribute `uid` (its NameIDs may be transient).
    entra: FakeSaml,
}

async fn env() -> Option<Env> {
    if !saml_sign::available() {
        return None;
    }
    let okta = FakeSaml::start().await;
    let plain = FakeSaml::start().await;
    let entra = FakeSaml::start().await;
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"SAML logout\"\n\
         [[pools.identity_providers]]\nname = \"Okta\"\npreset = \"saml\"\nmetadata = '''{}'''\n\
         [[pools.identity_providers]]\nname = \"Plain\"\npreset = \"saml\"\nmetadata = '''{}'''\n\
         [[pools.identity_providers]]\nname = \"Entra\"\npreset = \"saml\"\nmetadata = '''{}'''\n\
         user_id_attribute = \"uid\"\n{}\
         logout_urls = [\"{BYE}\"]\n",
        okta.metadata_with_slo(false),
        plain.metadata(false),
        entra.metadata_with_slo(false),
        rp().toml(&["Okta", "Plain", "Entra"]),
    );
    let server = TestServer::start(&pools).await;
    let metadata = browser_client()
        .get(format!("{}/saml2/metadata/{POOL}", server.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metadata.contains(&format!(
            "<md:SingleLogoutService Binding=\"urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect\" Location=\"{}/saml2/logout\"/>",
            server.base
        )),
        "{metadata}"
    );
    let sp_cert = {
        use base64::Engine;
        let b64 = metadata
            .split("<ds:X509Certificate>")
            .nth(1)
            .and_then(|rest| rest.split("</ds:X509Certificate>").next())
            .unwrap();
        base64::engine::general_purpose::STANDARD
            .decode(b64.split_whitespace().collect::<String>())
            .unwrap()
    };
    okta.set_sp(sp_cert.clone(), &format!("{}/saml2/logout", server.base));
    entra.set_sp(sp_cert, &format!("{}/saml2/logout", server.base));
    Some(Env {
        server,
        okta,
        plain,
        entra,
    })
}

/// Signs Ada in through Okta in `browser` and redeems the code: the token response.
async fn sign_in(env: &Env, browser: &reqwest::Client) -> Value {
    sign_in_with(env, browser, "Okta").await
}

async fn sign_in_with(env: &Env, browser: &reqwest::Client, idp: &str) -> Value {
    let base = &env.server.base;
    let r = browser
        .get(rp().authorize_url(base, &[("identity_provider", idp)]))
        .send()
        .await
        .unwrap();
    let idp_page = browser.get(location(&r)).send().await.unwrap();
    let (action, fields) = crate::support::fake_apple::form_of(&idp_page.text().await.unwrap());
    // The IdP's cross-site POST (no cookies), then the browser's same-site continuation.
    let posted = browser_client()
        .post(&action)
        .form(&fields)
        .send()
        .await
        .unwrap();
    let r = browser
        .get(absolute(base, &location(&posted)))
        .send()
        .await
        .unwrap();
    let redirect = location(&r);
    assert!(param(&redirect, "code").is_some(), "{redirect}");
    let r = rp().token_response(base, &redirect).await;
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// Whether the refresh token still gives tokens.
async fn refresh_works(base: &str, refresh_token: &str) -> bool {
    let r = browser_client()
        .post(format!("{base}/oauth2/token"))
        .form(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLIENT),
            ("refresh_token", refresh_token),
        ])
        .send()
        .await
        .unwrap();
    r.status() == 200
}

/// Whether the browser's session signs it in again without the IdP.
async fn session_works(base: &str, browser: &reqwest::Client) -> bool {
    let r = browser
        .get(rp().authorize_url(base, &[]))
        .send()
        .await
        .unwrap();
    r.headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .is_some_and(|l| l.starts_with(CALLBACK) && param(l, "code").is_some())
}

fn slo_url(base: &str) -> String {
    format!("{base}/saml2/logout")
}

#[tokio::test]
async fn sp_initiated_logout_goes_through_the_idp_and_back_to_the_logout_uri() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let browser = browser_client();
    sign_in(&env, &browser).await;
    assert!(session_works(base, &browser).await, "the session signs in");

    let r = browser
        .get(format!("{base}/logout?client_id={CLIENT}&logout_uri={BYE}"))
        .send()
        .await
        .unwrap();
    let to_idp = location(&r);
    assert!(
        to_idp.starts_with(&format!("{}/slo?SAMLRequest=", env.okta.base)),
        "{to_idp}"
    );
    // Cognate's session ended before the browser left.
    assert!(!session_works(base, &browser).await);
    let r = browser.get(&to_idp).send().await.unwrap();
    let back = location(&r);
    let request = env.okta.slo_received().pop().unwrap();
    assert_eq!(request.param, "SAMLRequest");
    assert_eq!(
        request.signature_ok,
        Some(true),
        "openssl verifies the LogoutRequest with the SP metadata's certificate"
    );
    assert!(
        request.xml.contains(
            "<saml:NameID Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\">00u1ada</saml:NameID>"
        ),
        "{}",
        request.xml
    );
    assert!(
        request.xml.contains("<samlp:SessionIndex>"),
        "{}",
        request.xml
    );
    assert!(
        request.xml.contains(&format!(
            "<saml:Issuer>urn:amazon:cognito:sp:{POOL}</saml:Issuer>"
        )),
        "{}",
        request.xml
    );
    assert!(back.starts_with(&slo_url(base)), "{back}");
    let r = browser.get(&back).send().await.unwrap();
    assert_eq!(
        location(&r),
        BYE,
        "the browser ends at the client's logout URI"
    );
    // The IdP's answer is taken once.
    let r = browser.get(&back).send().await.unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn a_forged_logout_response_is_refused_and_the_honest_one_accepted() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let browser = browser_client();
    sign_in(&env, &browser).await;
    let r = browser
        .get(format!("{base}/logout?client_id={CLIENT}&logout_uri={BYE}"))
        .send()
        .await
        .unwrap();
    let to_idp = location(&r);
    let back = location(&browser.get(&to_idp).send().await.unwrap());
    let query = back.split_once('?').unwrap().1;
    let saml_response = param(&back, "SAMLResponse").unwrap();
    // The same response unsigned, or signed by another key: refused.
    use base64::Engine;
    use std::io::Read;
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(
        &base64::engine::general_purpose::STANDARD
            .decode(&saml_response)
            .unwrap()[..],
    )
    .read_to_string(&mut xml)
    .unwrap();
    let relay = param(&back, "RelayState");
    for signer in [None, Some(attacker())] {
        let forged = redirect_query("SAMLResponse", &xml, relay.as_deref(), signer);
        let r = browser
            .get(format!("{}?{forged}", slo_url(base)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "signed by {signer:?}");
    }
    let r = browser
        .get(format!("{}?{query}", slo_url(base)))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), BYE);
}

#[tokio::test]
async fn idp_initiated_logout_signs_the_user_out_everywhere_and_answers_signed() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let browser = browser_client();
    let tokens = sign_in(&env, &browser).await;
    let refresh = tokens["refresh_token"].as_str().expect("a refresh token");
    assert!(refresh_works(base, refresh).await);
    assert!(session_works(base, &browser).await);

    let spec = env.okta.logout_request(&slo_url(base));
    let url = env.okta.logout_request_url(&spec, Some(idp()));
    // The IdP's page sends the browser (any browser: no Cognate cookie needed).
    let r = browser_client().get(&url).send().await.unwrap();
    let answer = location(&r);
    assert!(
        answer.starts_with(&format!("{}/slo?SAMLResponse=", env.okta.base)),
        "{answer}"
    );
    assert_eq!(param(&answer, "RelayState").as_deref(), Some("idp-relay"));
    browser_client().get(&answer).send().await.unwrap();
    let response = env.okta.slo_received().pop().unwrap();
    assert_eq!(response.param, "SAMLResponse");
    assert_eq!(response.signature_ok, Some(true), "signed with the SP key");
    assert!(
        response
            .xml
            .contains(&format!("InResponseTo=\"{}\"", spec.id)),
        "{}",
        response.xml
    );
    assert!(
        response
            .xml
            .contains("<samlp:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/>"),
        "{}",
        response.xml
    );
    assert!(
        !refresh_works(base, refresh).await,
        "the refresh token no longer works"
    );
    assert!(
        !session_works(base, &browser).await,
        "the browser session no longer works"
    );

    // The same request again: a replay.
    let r = browser_client().get(&url).send().await.unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
}

#[tokio::test]
async fn unsigned_forged_and_expired_logout_requests_are_refused_and_sign_nobody_out() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let browser = browser_client();
    let tokens = sign_in(&env, &browser).await;
    let refresh = tokens["refresh_token"].as_str().unwrap();

    let honest = env.okta.logout_request(&slo_url(base));
    let mut expired = env.okta.logout_request(&slo_url(base));
    expired.issue_instant -= 900;
    expired.not_on_or_after = Some(expired.issue_instant + 300);
    let mut elsewhere = env.okta.logout_request(&slo_url(base));
    elsewhere.destination = "https://elsewhere.example/saml2/logout".into();
    let mut stranger = env.okta.logout_request(&slo_url(base));
    stranger.issuer = "https://stranger.example/".into();
    let refused = [
        ("unsigned", env.okta.logout_request_url(&honest, None)),
        (
            "signed by another key",
            env.okta.logout_request_url(&honest, Some(attacker())),
        ),
        (
            "expired",
            env.okta.logout_request_url(&expired, Some(idp())),
        ),
        (
            "for another destination",
            format!(
                "{}?{}",
                slo_url(base),
                redirect_query("SAMLRequest", &elsewhere.xml(), None, Some(idp()))
            ),
        ),
        (
            "from an unknown issuer",
            env.okta.logout_request_url(&stranger, Some(idp())),
        ),
        (
            "tampered after signing",
            env.okta
                .logout_request_url(&honest, Some(idp()))
                .replace("RelayState=idp-relay", "RelayState=other"),
        ),
    ];
    for (what, url) in refused {
        let r = browser_client().get(&url).send().await.unwrap();
        assert_eq!(r.status(), 400, "{what}");
        assert!(r.headers().get("location").is_none(), "{what}");
        assert!(
            refresh_works(base, refresh).await,
            "{what}: nobody signed out"
        );
    }
    assert!(session_works(base, &browser).await);
    // The honest request is accepted.
    let r = browser_client()
        .get(env.okta.logout_request_url(&honest, Some(idp())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert!(!refresh_works(base, refresh).await);
}

#[tokio::test]
async fn logout_of_an_idp_without_a_single_logout_service_goes_straight_to_the_client() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let browser = browser_client();
    sign_in_with(&env, &browser, "Plain").await;
    assert!(session_works(base, &browser).await);
    let r = browser
        .get(format!("{base}/logout?client_id={CLIENT}&logout_uri={BYE}"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&r), BYE);
    assert!(!session_works(base, &browser).await);
    assert!(env.plain.slo_received().is_empty());
    assert!(env.okta.slo_received().is_empty());
}

/// An IdP whose NameIDs are transient (the user id is an attribute): the NameID of the
/// sign-in still finds the user at its LogoutRequest.
#[tokio::test]
async fn idp_initiated_logout_finds_a_user_signed_in_with_a_transient_name_id() {
    let Some(env) = env().await else { return };
    let base = &env.server.base;
    let mut user = SamlUser::ada();
    user.name_id = "_transient-7f3a".into();
    user.format = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient".into();
    user.attributes.push(("uid".into(), vec!["ada-42".into()]));
    env.entra.set_user(user);
    let browser = browser_client();
    let tokens = sign_in_with(&env, &browser, "Entra").await;
    let refresh = tokens["refresh_token"].as_str().unwrap();
    assert!(refresh_works(base, refresh).await);
    let spec = env.entra.logout_request(&slo_url(base));
    let r = browser_client()
        .get(env.entra.logout_request_url(&spec, Some(idp())))
        .send()
        .await
        .unwrap();
    assert!(location(&r).starts_with(&format!("{}/slo?SAMLResponse=", env.entra.base)));
    assert!(!refresh_works(base, refresh).await);
    assert!(!session_works(base, &browser).await);
}
