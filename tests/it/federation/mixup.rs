//! Mix-up across providers (RFC 9700 section 4.4), end to end with two fake OpenID
//! Connect IdPs in one pool: an honest `Corp`, where the victim is signed in, and a
//! malicious `Evil`, which an attacker runs. The victim follows a link with
//! `identity_provider=Evil`; Evil relays the browser to Corp's authorize endpoint with the
//! victim's Cognate `state` and the attacker's own nonce and PKCE challenge (taken from a
//! Corp flow the attacker started himself), hoping Cognate exchanges Corp's code at Evil's
//! token endpoint so he can finish his own Corp flow with it as `Corp_<victim>`.
//!
//! Corp's code can come back only to a redirect URI registered at Corp: Corp's own
//! callback (refused: it does not name the flow's provider), or the bare
//! `/oauth2/idpresponse` (refused beside a provider that does not send `iss`, or exposed by
//! Corp's `iss` where every provider sends it). Each refusal is paired with the honest
//! flows succeeding, and the bare callback keeps working on a one-provider instance.

use serde_json::json;

use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::federated::{
    assert_failed_page, assert_page, at_idp, callback, location, oidc_idp, param, Client, Outcome,
    BARE_REFUSED, WRONG_CALLBACK,
};
use crate::support::server::{browser_client, TestServer};

const POOL: &str = "us-east-1_MixUpTest1";
const CLIENT: &str = "mixweb00000000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "mixup-test-verifier-0123456789-abcdefghijklmnopqrstu";
const VICTIM: &str = "corp-victim-0001";

struct Env {
    server: TestServer,
    corp: FakeOidc,
    evil: FakeOidc,
}

impl Env {
    /// The bare callback.
    fn bare(&self) -> String {
        format!("{}/oauth2/idpresponse", self.server.base)
    }

    /// `provider`'s own callback.
    fn own(&self, provider: &str) -> String {
        format!("{}/oauth2/idpresponse/{POOL}/{provider}", self.server.base)
    }
}

fn rp() -> Client {
    Client::new(CLIENT, CALLBACK, VERIFIER).with_nonce("client-nonce")
}

fn authorize_url(env: &Env, idp: &str) -> String {
    rp().authorize_url(&env.server.base, &[("identity_provider", idp)])
}

/// A pool with `Corp` and `Evil` (the oidc preset, each its own fake), which the client
/// enables both. `iss`: whether both advertise and send RFC 9207's `iss`. Corp has the
/// bare callback (registered when the operator came from Cognito) and its own registered;
/// Evil takes any redirect URI.
async fn env(iss: bool) -> Env {
    let corp = FakeOidc::start("corp-client", "corp-secret", ClientAuth::Basic).await;
    let evil = FakeOidc::start("evil-client", "evil-secret", ClientAuth::Basic).await;
    for idp in [&corp, &evil] {
        idp.set_advertise_iss(iss);
        idp.set_send_iss(iss);
    }
    corp.set_user(
        VICTIM,
        json!({"email": "victim@corp.example", "email_verified": true}),
    );
    evil.set_user(
        "evil-user-1",
        json!({"email": "someone@evil.example", "email_verified": true}),
    );
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Mix-up tests\"\n{}{}{}",
        oidc_idp("Corp", "corp-client", "MIX_CORP", &corp.issuer, ""),
        oidc_idp("Evil", "evil-client", "MIX_EVIL", &evil.issuer, ""),
        rp().toml(&["Corp", "Evil"]),
    );
    let server = TestServer::start_with(
        &pools,
        "idp_timeout_secs = 2",
        &[("MIX_CORP", "corp-secret"), ("MIX_EVIL", "evil-secret")],
    )
    .await;
    let env = Env { server, corp, evil };
    env.corp.register_redirects(&[env.bare(), env.own("Corp")]);
    env
}

/// The attack up to the victim's browser arriving back at Cognate: the victim starts an
/// Evil flow; the attacker has started his own Corp flow (for its nonce and PKCE
/// challenge); Evil sends the victim's browser to Corp's authorize endpoint with the
/// victim's state, the attacker's nonce and challenge, and `redirect_uri`. The victim's
/// own request to Evil, and Corp's answer: the URL it sends the victim's browser to, or
/// `None` when Corp refuses the redirect URI.
async fn relay(
    env: &Env,
    victim: &reqwest::Client,
    redirect_uri: &str,
) -> (String, Option<String>) {
    let to_evil = location(&victim.get(authorize_url(env, "Evil")).send().await.unwrap());
    assert!(to_evil.starts_with(&env.evil.issuer), "{to_evil}");
    let victim_state = param(&to_evil, "state").unwrap();
    let attacker = browser_client();
    let to_corp = location(
        &attacker
            .get(authorize_url(env, "Corp"))
            .send()
            .await
            .unwrap(),
    );
    assert!(to_corp.starts_with(&env.corp.issuer), "{to_corp}");
    let mut relay = url::Url::parse(&env.corp.url("/authorize")).unwrap();
    relay
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "corp-client")
        .append_pair("scope", "openid email")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("state", &victim_state)
        .append_pair("nonce", &param(&to_corp, "nonce").unwrap())
        .append_pair(
            "code_challenge",
            &param(&to_corp, "code_challenge").unwrap(),
        )
        .append_pair("code_challenge_method", "S256");
    // The victim is signed in at Corp, which consents at once.
    let r = victim.get(relay.as_str()).send().await.unwrap();
    if r.status() == 400 {
        return (to_evil, None);
    }
    let back = location(&r);
    assert!(back.starts_with(&format!("{redirect_uri}?")), "{back}");
    assert_eq!(param(&back, "state"), Some(victim_state));
    (to_evil, Some(back))
}

/// [`relay`]'s answer from Corp.
async fn relayed(env: &Env, victim: &reqwest::Client, redirect_uri: &str) -> Option<String> {
    relay(env, victim, redirect_uri).await.1
}

/// A whole honest sign-in through `idp` in a fresh browser, answered at `at`.
async fn honest(env: &Env, idp: &str, at: &str) -> Outcome {
    let browser = browser_client();
    let upstream = location(&browser.get(authorize_url(env, idp)).send().await.unwrap());
    assert_eq!(param(&upstream, "redirect_uri").as_deref(), Some(at));
    let back = at_idp(&browser, &upstream).await;
    callback(&browser, &back).await
}

async fn username(env: &Env, redirect: &str) -> String {
    let claims = rp().id_token(&env.server.base, redirect).await;
    claims["cognito:username"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_corp_code_relayed_into_an_evil_flow_never_reaches_evil() {
    let env = env(false).await;
    let victim = browser_client();

    // Relayed to Corp's own callback: refused there (the path names Corp, the flow is
    // Evil's) before any exchange.
    let (to_evil, back) = relay(&env, &victim, &env.own("Corp")).await;
    let refused = callback(&victim, &back.unwrap()).await;
    assert_page(
        refused,
        400,
        WRONG_CALLBACK,
        "Corp's code at Corp's callback",
    );
    assert_eq!(env.evil.token_requests(), 0);
    // The relayed answer did not spend the victim's flow: Evil's own answer to it, at
    // Evil's callback, still completes it (Evil vouching for its own user only).
    let back = at_idp(&victim, &to_evil).await;
    assert!(back.starts_with(&format!("{}?", env.own("Evil"))), "{back}");
    let redirect = callback(&victim, &back)
        .await
        .expect("the victim's Evil flow");
    assert_eq!(username(&env, &redirect).await, "Evil_evil-user-1");
    let evil_exchanges = env.evil.token_requests();
    assert_eq!(evil_exchanges, 1);
    // The victim's next visits come from a browser without that Cognate session.
    let victim = browser_client();

    // Relayed to the bare callback Corp still has registered: refused beside two
    // providers that do not send iss, with the page naming the URL to register.
    let back = relayed(&env, &victim, &env.bare()).await.unwrap();
    match callback(&victim, &back).await {
        Err((400, page)) => {
            assert!(page.contains(BARE_REFUSED), "{page}");
            assert!(
                page.replace("&#x2f;", "/").contains(&env.own("Evil")),
                "{page}"
            );
        }
        other => panic!("the bare callback took a relayed code: {other:?}"),
    }

    // Relayed to Evil's callback: Corp does not know it and gives no code.
    assert_eq!(relayed(&env, &victim, &env.own("Evil")).await, None);

    // Evil's token endpoint never saw a Corp code (only the one exchange of its own
    // user's), so the attacker has none to finish his own Corp flow with; Corp_<victim>
    // does not exist.
    assert_eq!(env.evil.token_requests(), evil_exchanges);
    assert_eq!(env.corp.token_requests(), 0);
    assert_eq!(env.server.user_count(POOL).await, 1);
    assert!(env
        .server
        .find_user(POOL, &format!("Corp_{VICTIM}"))
        .await
        .is_none());

    // The honest flows, each at its own callback, sign in beside the attack.
    let redirect = honest(&env, "Corp", &env.own("Corp")).await.expect("Corp");
    assert_eq!(username(&env, &redirect).await, format!("Corp_{VICTIM}"));
    let redirect = honest(&env, "Evil", &env.own("Evil")).await.expect("Evil");
    assert_eq!(username(&env, &redirect).await, "Evil_evil-user-1");
    assert_eq!(env.server.user_count(POOL).await, 2);
}

#[tokio::test]
async fn an_answer_at_the_bare_callback_beside_two_providers_without_iss_is_refused() {
    let env = env(false).await;
    let browser = browser_client();
    let upstream = location(
        &browser
            .get(authorize_url(&env, "Corp"))
            .send()
            .await
            .unwrap(),
    );
    assert_eq!(
        param(&upstream, "redirect_uri"),
        Some(env.own("Corp")),
        "beside two providers without iss, flows send the provider's own callback"
    );
    let back = at_idp(&browser, &upstream).await;
    let query = back.split_once('?').unwrap().1;

    // The same answer at the bare callback (an IdP still sending Cognito's URL), or at
    // the other provider's, is refused, and the flow is not spent.
    match callback(&browser, &format!("{}?{query}", env.bare())).await {
        Err((400, page)) => {
            assert!(page.contains(BARE_REFUSED), "{page}");
            assert!(
                page.replace("&#x2f;", "/").contains(&env.own("Corp")),
                "{page}"
            );
        }
        other => panic!("the bare callback was accepted: {other:?}"),
    }
    let at_evil = format!("{}?{query}", env.own("Evil"));
    assert_page(
        callback(&browser, &at_evil).await,
        400,
        WRONG_CALLBACK,
        "Evil's",
    );
    // A path naming another pool, or nothing sensible, is refused too.
    let other_pool = format!(
        "{}/oauth2/idpresponse/us-east-1_Other0001/Corp?{query}",
        env.server.base
    );
    assert_page(
        callback(&browser, &other_pool).await,
        400,
        WRONG_CALLBACK,
        "pool",
    );
    assert_eq!(env.corp.token_requests(), 0);
    assert_eq!(env.evil.token_requests(), 0);

    // The answer at Corp's own callback completes the same flow.
    let redirect = callback(&browser, &back)
        .await
        .expect("Corp's own callback");
    assert_eq!(username(&env, &redirect).await, format!("Corp_{VICTIM}"));
}

#[tokio::test]
async fn where_every_provider_sends_iss_the_bare_callback_stays_and_iss_exposes_a_relay() {
    let env = env(true).await;
    // Both advertise RFC 9207: flows keep sending the bare URL (IdP registrations made
    // for Cognito keep working), and the honest flows sign in there.
    let redirect = honest(&env, "Corp", &env.bare()).await.expect("Corp");
    assert_eq!(username(&env, &redirect).await, format!("Corp_{VICTIM}"));
    let redirect = honest(&env, "Evil", &env.bare()).await.expect("Evil");
    assert_eq!(username(&env, &redirect).await, "Evil_evil-user-1");
    let (corp_before, evil_before) = (env.corp.token_requests(), env.evil.token_requests());

    // Corp's code relayed into an Evil flow at the bare callback: Corp's `iss` is not
    // Evil's, refused before any exchange.
    let victim = browser_client();
    let back = relayed(&env, &victim, &env.bare()).await.unwrap();
    assert_eq!(param(&back, "iss"), Some(env.corp.issuer.clone()));
    assert_failed_page(callback(&victim, &back).await, "Corp's iss in an Evil flow");
    // And at Corp's own callback, refused by the path.
    let back = relayed(&env, &victim, &env.own("Corp")).await.unwrap();
    assert_page(callback(&victim, &back).await, 400, WRONG_CALLBACK, "path");
    assert_eq!(env.evil.token_requests(), evil_before);
    assert_eq!(env.corp.token_requests(), corp_before);
    assert_eq!(env.server.user_count(POOL).await, 2);
}

#[tokio::test]
async fn iss_is_required_from_a_provider_that_advertises_it() {
    let env = env(true).await;
    // Corp advertises RFC 9207 but this answer lacks `iss` (stripped on the way, or from
    // another IdP): refused, nothing exchanged.
    let browser = browser_client();
    let upstream = location(
        &browser
            .get(authorize_url(&env, "Corp"))
            .send()
            .await
            .unwrap(),
    );
    let back = at_idp(&browser, &upstream).await;
    let mut stripped = url::Url::parse(&back).unwrap();
    let pairs: Vec<(String, String)> = stripped
        .query_pairs()
        .filter(|(k, _)| k != "iss")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    stripped.query_pairs_mut().clear().extend_pairs(&pairs);
    assert_failed_page(callback(&browser, stripped.as_str()).await, "no iss");
    assert_eq!(env.corp.token_requests(), 0);
    assert_eq!(env.server.user_count(POOL).await, 0);

    // With the right `iss`, the sign-in goes through.
    let redirect = honest(&env, "Corp", &env.bare()).await.expect("with iss");
    assert_eq!(username(&env, &redirect).await, format!("Corp_{VICTIM}"));
}

#[tokio::test]
async fn the_bare_callback_is_kept_with_a_single_provider_on_the_instance() {
    let corp = FakeOidc::start("corp-client", "corp-secret", ClientAuth::Basic).await;
    corp.set_user(VICTIM, json!({"email": "victim@corp.example"}));
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"One provider\"\n{}{}",
        oidc_idp("Corp", "corp-client", "MIX_CORP", &corp.issuer, ""),
        rp().toml(&["Corp"]),
    );
    let server = TestServer::start_with(
        &pools,
        "idp_timeout_secs = 2",
        &[("MIX_CORP", "corp-secret")],
    )
    .await;
    let bare = format!("{}/oauth2/idpresponse", server.base);
    // The operator registered only Cognito's bare URL at Corp: it keeps working.
    corp.register_redirects(std::slice::from_ref(&bare));
    let browser = browser_client();
    let authorize = rp().authorize_url(&server.base, &[("identity_provider", "Corp")]);
    let upstream = location(&browser.get(&authorize).send().await.unwrap());
    assert_eq!(param(&upstream, "redirect_uri"), Some(bare.clone()));
    let back = at_idp(&browser, &upstream).await;
    let redirect = callback(&browser, &back).await.expect("the bare callback");
    let claims = rp().id_token(&server.base, &redirect).await;
    assert_eq!(claims["cognito:username"], format!("Corp_{VICTIM}"));
    assert_eq!(corp.token_requests(), 1);
}

#[tokio::test]
async fn one_provider_in_each_of_two_pools_is_two_providers_on_the_instance() {
    // Mix-up is across the instance: two tenants' pools, one IdP each, share the bare URL.
    let corp = FakeOidc::start("corp-client", "corp-secret", ClientAuth::Basic).await;
    let other = FakeOidc::start("other-client", "other-secret", ClientAuth::Basic).await;
    corp.set_user(VICTIM, json!({"email": "victim@corp.example"}));
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Tenant A\"\n{}{}\
         [[pools]]\nid = \"us-east-1_MixUpTest2\"\nname = \"Tenant B\"\n{}",
        oidc_idp("Corp", "corp-client", "MIX_CORP", &corp.issuer, ""),
        rp().toml(&["Corp"]),
        oidc_idp("Other", "other-client", "MIX_OTHER", &other.issuer, ""),
    );
    let server = TestServer::start_with(
        &pools,
        "idp_timeout_secs = 2",
        &[("MIX_CORP", "corp-secret"), ("MIX_OTHER", "other-secret")],
    )
    .await;
    let own = format!("{}/oauth2/idpresponse/{POOL}/Corp", server.base);
    let browser = browser_client();
    let authorize = rp().authorize_url(&server.base, &[("identity_provider", "Corp")]);
    let upstream = location(&browser.get(&authorize).send().await.unwrap());
    assert_eq!(param(&upstream, "redirect_uri"), Some(own.clone()));
    let back = at_idp(&browser, &upstream).await;
    let query = back.split_once('?').unwrap().1;
    let bare = format!("{}/oauth2/idpresponse?{query}", server.base);
    assert_page(callback(&browser, &bare).await, 400, BARE_REFUSED, "bare");
    let redirect = callback(&browser, &back)
        .await
        .expect("Corp's own callback");
    let claims = rp().id_token(&server.base, &redirect).await;
    assert_eq!(claims["cognito:username"], format!("Corp_{VICTIM}"));
}
