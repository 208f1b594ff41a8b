//! Federated sign-in across two `cognate` processes on one PostgreSQL database: the
//! browser starts at node A, the IdP sends it back to the shared public URL, and the load
//! balancer delivers that callback to node B. Node B must find the upstream flow (state,
//! nonce, PKCE) and accept node A's browser-binding cookie; the code it issues is redeemed
//! at node A; the flow and the code are single use across nodes. Sign in with Apple adds a
//! leg: Apple's cross-site `form_post` lands on one node, the browser's same-site GET
//! continuation on another, and the POST is single use across nodes too; a SAML
//! response posted to the ACS does the same.
//!
//! The "load balancer" is the test itself: both nodes share a public URL on a port the
//! test holds (nothing answers there), and each request is sent to the node of the test's
//! choosing by swapping the public origin for that node's address.

use serde_json::{json, Value};

use cognate::core::secrets::MasterKey;

use crate::support::fake_apple::{form_of, generate_p8, FakeApple};
use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::fake_saml::FakeSaml;
use crate::support::federated::{
    apple_form, apple_idp, assert_failed_page, assert_refused_post, fake_google, google_idp,
    location, oidc_idp, outcome, param, post_form, Client, Outcome, APPLE_KEY_ENV,
    GOOGLE_SECRET_ENV,
};
use crate::support::http;
use crate::support::pg::{fresh_pg_url, PgTestDb};
use crate::support::process::{run, CognateProcess};
use crate::support::saml_sign;

const POOL: &str = "us-east-1_MultiFed01";
const CLIENT: &str = "multifed000000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "multinode-federation-verifier-0123456789-abcdefghijkl";
const SERVICES_ID: &str = "com.example.multinode";
const TEAM: &str = "TEAMMULTI1";
const KEY_ID: &str = "KEYMULTI01";
const APPLE_SUB: &str = "000555.multinode.0001";

/// The pool's client, which also sends a nonce.
fn rp() -> Client {
    Client::new(CLIENT, CALLBACK, VERIFIER).with_nonce("client-nonce")
}

/// The nodes' configuration: one pool whose client signs in through the identity
/// provider `provider`, declared by `provider_toml`.
fn config(public: &str, provider: &str, provider_toml: &str) -> String {
    format!(
        "[server]\npublic_url = \"{public}\"\nidp_timeout_secs = 5\n\n\
         [[pools]]\nid = \"{POOL}\"\nname = \"Multi-node federation\"\n{provider_toml}{}",
        rp().toml(&[provider])
    )
}

/// Two `cognate` processes on one database behind the test's "load balancer": both
/// serve the public URL `public`, on a port the test holds for their lifetime (nothing
/// answers there).
struct TwoNodes {
    a: CognateProcess,
    b: CognateProcess,
    public: String,
    /// The environment of both nodes and of the admin CLI.
    env: Vec<(String, String)>,
    dir_a: tempfile::TempDir,
    _dir_b: tempfile::TempDir,
    _lb: std::net::TcpListener,
}

impl TwoNodes {
    /// Both nodes with the configuration `config(public URL)`, the database of `db`, one
    /// fresh master key and `env`. They start at once, applying the same configuration to
    /// the same database concurrently.
    async fn start(
        db: &PgTestDb,
        config: impl Fn(&str) -> String,
        env: &[(&str, &str)],
    ) -> TwoNodes {
        let lb = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let public = format!("http://{}", lb.local_addr().unwrap());
        let text = config(&public);
        let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for dir in [&dir_a, &dir_b] {
            std::fs::write(dir.path().join("cognate.toml"), &text).unwrap();
        }
        let (_, key) = MasterKey::generate();
        let mut all = vec![
            ("COGNATE_DATABASE_URL".to_string(), db.url.clone()),
            ("COGNATE_MASTER_KEY".to_string(), key.as_str().to_string()),
        ];
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let args = ["--config", "cognate.toml"];
        let (a, b) = {
            let env: Vec<(&str, &str)> =
                all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            tokio::join!(
                CognateProcess::start(dir_a.path(), &args, &env),
                CognateProcess::start(dir_b.path(), &args, &env)
            )
        };
        assert!(a.banner.iter().any(|l| l.contains("database: postgres")));
        TwoNodes {
            a,
            b,
            public,
            env: all,
            dir_a,
            _dir_b: dir_b,
            _lb: lb,
        }
    }

    /// What the load balancer does: the public URL's request, sent to `node`.
    fn to(&self, url: &str, node: &CognateProcess) -> String {
        to_node(url, &self.public, &node.base)
    }

    /// The pool's users, as the admin CLI lists them from the shared database.
    async fn usernames(&self) -> Vec<String> {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        usernames(self.dir_a.path(), &env).await
    }

    /// SIGTERM to both: each exits cleanly.
    async fn stop(self) {
        assert!(self.a.terminate().await.success());
        assert!(self.b.terminate().await.success());
    }
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

/// Authorizes in `browser` at `start` (a node's address) with `identity_provider=idp`:
/// the browser's cookie, and the upstream authorization URL, which must lead to the IdP
/// at `idp_base` and have it answer on the shared public URL.
async fn authorize_at(
    browser: &reqwest::Client,
    start: &str,
    idp: &str,
    idp_base: &str,
    public: &str,
) -> (String, String) {
    let url = rp().authorize_url(start, &[("identity_provider", idp)]);
    let r = browser.get(url).send().await.unwrap();
    let upstream = location(&r);
    assert!(upstream.starts_with(idp_base), "{upstream}");
    assert_eq!(
        param(&upstream, "redirect_uri"),
        Some(format!("{public}/oauth2/idpresponse"))
    );
    (browser_cookie(&r), upstream)
}

/// Starts a federated sign-in at `start` (a node's address) and follows it through the
/// fake IdP: the browser's cookie and the callback URL the IdP sent it to, which must be
/// on the shared public URL.
async fn through_idp(start: &str, public: &str, google: &FakeOidc) -> (String, String) {
    // The browser: no redirects followed, cookies carried by hand (the nodes have
    // different origins, the real browser only ever sees the public one).
    let browser = http();
    let (cookie, upstream) = authorize_at(&browser, start, "Google", &google.issuer, public).await;
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
async fn deliver(url: &str, cookie: &str) -> Outcome {
    let r = http().get(url).header("cookie", cookie).send().await;
    outcome(r.unwrap()).await
}

/// [`deliver`], which `node` must answer by sending the browser on to the client: where.
async fn delivered(url: &str, cookie: &str, node: &CognateProcess, what: &str) -> String {
    deliver(url, cookie)
        .await
        .unwrap_or_else(|e| panic!("{what}: {e:?}\nlog of {}:\n{}", node.base, node.log()))
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
    let google = fake_google().await;
    google.set_user(
        "g-multinode",
        json!({"email": "carol@example.com", "email_verified": true, "name": "Carol"}),
    );
    google.set_send_iss(true);
    let nodes = TwoNodes::start(
        &db,
        |public| config(public, "Google", &google_idp(&google.issuer)),
        &[GOOGLE_SECRET_ENV],
    )
    .await;
    let (a, b, public) = (&nodes.a, &nodes.b, nodes.public.as_str());

    // Started at A, answered at B.
    let (cookie, back) = through_idp(&a.base, public, &google).await;
    let on_b = nodes.to(&back, b);
    let redirect = delivered(&on_b, &cookie, b, "node B refused node A's flow").await;

    // Node B's code is redeemed at node A.
    let id = rp().id_token(&a.base, &redirect).await;
    assert_eq!(id["cognito:username"], "Google_g-multinode");
    assert_eq!(id["iss"], format!("{public}/{POOL}"));
    assert_eq!(id["aud"], CLIENT);
    assert_eq!(id["nonce"], "client-nonce");
    assert_eq!(id["email"], "carol@example.com");
    assert_eq!(id["identities"][0]["providerName"], "Google");
    assert_eq!(id["cognito:groups"], json!([format!("{POOL}_Google")]));
    // ...once: a second redemption, at either node, is refused.
    for node in [&a.base, &b.base] {
        let again = rp().token_response(node, &redirect).await;
        assert_eq!(again.status(), 400, "code redeemed twice at {node}");
        let body: Value = again.json().await.unwrap();
        assert_eq!(body["error"], "invalid_grant");
    }

    // The callback replayed to A (the other node) or to B again is refused, and makes
    // no second user.
    let on_a = nodes.to(&back, a);
    assert_failed_page(deliver(&on_a, &cookie).await, "replay at node A");
    assert_failed_page(deliver(&on_b, &cookie).await, "replay at node B");
    assert_eq!(nodes.usernames().await, ["Google_g-multinode"]);

    // A flow started at B cannot be finished at A by another browser (the binding holds
    // across nodes), nor spent by it: the right browser finishes it at A afterwards.
    // A fresh one by the right browser finishes there too: the same user, its
    // attributes updated.
    let (owner, back) = through_idp(&b.base, public, &google).await;
    let (stranger, _) = through_idp(&a.base, public, &google).await;
    let on_a = nodes.to(&back, a);
    assert_failed_page(deliver(&on_a, &stranger).await, "another browser");
    delivered(&on_a, &owner, a, "the owner after a stranger").await;
    google.set_user(
        "g-multinode",
        json!({"email": "carol@example.com", "email_verified": true, "name": "Carol Danvers"}),
    );
    let (cookie, back) = through_idp(&b.base, public, &google).await;
    let on_a = nodes.to(&back, a);
    let redirect = delivered(&on_a, &cookie, a, "node A refused node B's flow").await;
    let id = rp().id_token(&b.base, &redirect).await;
    assert_eq!(id["cognito:username"], "Google_g-multinode");
    assert_eq!(id["name"], "Carol Danvers");
    assert_eq!(nodes.usernames().await, ["Google_g-multinode"]);

    nodes.stop().await;
    google.stop().await;
    db.cleanup().await;
}

/// Authorizes at `start` with `identity_provider=SignInWithApple` and opens the fake
/// Apple's page: the browser's cookie, and the form Apple's page POSTs to the public
/// callback.
async fn at_apple(
    start: &str,
    public: &str,
    apple: &FakeApple,
) -> (String, String, Vec<(String, String)>) {
    let browser = http();
    let (cookie, upstream) =
        authorize_at(&browser, start, "SignInWithApple", &apple.base, public).await;
    let (action, fields) = apple_form(&browser, &upstream).await;
    assert_eq!(action, format!("{public}/oauth2/idpresponse"));
    (cookie, action, fields)
}

#[tokio::test]
async fn an_apple_form_post_and_its_continuation_land_on_different_nodes() {
    let Some(db) = fresh_pg_url("multinode_apple").await else {
        return;
    };
    let (pem, registered) = generate_p8();
    let apple = FakeApple::start("127.0.0.1", SERVICES_ID, TEAM, KEY_ID, registered).await;
    apple.set_user(
        APPLE_SUB,
        json!({"email": "dana@example.com", "email_verified": "true"}),
        Some(json!({"name": {"firstName": "Dana", "lastName": "Scully"}})),
    );
    let nodes = TwoNodes::start(
        &db,
        |public| {
            let apple_idp = apple_idp(&apple.base, SERVICES_ID, TEAM, KEY_ID);
            config(public, "SignInWithApple", &apple_idp)
        },
        &[(APPLE_KEY_ENV, pem.as_str())],
    )
    .await;
    let (a, b, public) = (&nodes.a, &nodes.b, nodes.public.as_str());
    let username = format!("SignInWithApple_{APPLE_SUB}");

    // Started at A; Apple's POST (with the first authorization's name) lands on B.
    let (cookie, action, fields) = at_apple(&a.base, public, &apple).await;
    assert!(fields.iter().any(|(k, _)| k == "user"));
    let posted = post_form(&nodes.to(&action, b), &fields).await;
    assert_eq!(
        posted.status(),
        303,
        "node B refused node A's form_post\nB log:\n{}",
        b.log()
    );
    let continuation = location(&posted);
    assert!(
        continuation.starts_with(&format!("{public}/oauth2/idpresponse?")),
        "{continuation}"
    );
    // The same POST replayed at A while B's continuation is pending: refused.
    assert_refused_post(
        post_form(&nodes.to(&action, a), &fields).await,
        "the POST replayed at node A",
    )
    .await;
    // The browser's GET continuation, with its cookie, lands on A and finishes there.
    let on_a = nodes.to(&continuation, a);
    let redirect = delivered(&on_a, &cookie, a, "node A refused B's continuation").await;
    let id = rp().id_token(&b.base, &redirect).await;
    assert_eq!(id["cognito:username"], username);
    assert_eq!(id["iss"], format!("{public}/{POOL}"));
    assert_eq!(id["email"], "dana@example.com");
    assert_eq!(id["given_name"], "Dana");
    assert_eq!(id["family_name"], "Scully");

    // Afterwards the POST is refused on both nodes, and so is the continuation at B.
    for node in [a, b] {
        assert_refused_post(
            post_form(&nodes.to(&action, node), &fields).await,
            &format!("the POST replayed at {}", node.base),
        )
        .await;
    }
    assert_failed_page(
        deliver(&nodes.to(&continuation, b), &cookie).await,
        "the continuation replayed at node B",
    );
    assert_eq!(nodes.usernames().await, [username.as_str()]);

    // The other way round: started at B, posted to A (replayed at B), continued at B.
    // The same user; the name Apple sent only the first time is kept.
    let (cookie, action, fields) = at_apple(&b.base, public, &apple).await;
    assert!(!fields.iter().any(|(k, _)| k == "user"));
    let posted = post_form(&nodes.to(&action, a), &fields).await;
    assert_eq!(posted.status(), 303, "A log:\n{}", a.log());
    let continuation = location(&posted);
    assert_refused_post(
        post_form(&nodes.to(&action, b), &fields).await,
        "the second POST replayed at node B",
    )
    .await;
    let on_b = nodes.to(&continuation, b);
    let redirect = delivered(&on_b, &cookie, b, "node B refused A's continuation").await;
    let id = rp().id_token(&a.base, &redirect).await;
    assert_eq!(id["cognito:username"], username);
    assert_eq!(id["given_name"], "Dana");
    assert_eq!(nodes.usernames().await, [username.as_str()]);
    // Each node minted its own client secret from the shared sealed key: Apple took both.
    assert_eq!(apple.refused_secrets(), 0);
    assert_eq!(apple.token_requests(), 2);

    nodes.stop().await;
    db.cleanup().await;
}

/// Mix-up across providers (RFC 9700 section 4.4) on two nodes over PostgreSQL: with an
/// honest `Corp` and a malicious `Evil` beside it, flows send each provider's own callback;
/// Corp's code relayed into a victim's Evil flow (started at node A) and delivered at
/// Corp's callback on node B is refused before any exchange and leaves the stored flow
/// alone, so Evil's own answer still completes it on node A; Corp's honest flow crosses
/// nodes at its own callback.
#[tokio::test]
async fn a_relayed_code_is_refused_at_the_other_node_and_the_flow_survives() {
    let Some(db) = fresh_pg_url("multinode_mixup").await else {
        return;
    };
    let corp = FakeOidc::start("corp-client", "corp-secret", ClientAuth::Basic).await;
    let evil = FakeOidc::start("evil-client", "evil-secret", ClientAuth::Basic).await;
    corp.set_user("corp-victim", json!({"email": "victim@corp.example"}));
    evil.set_user("evil-user", json!({"email": "someone@evil.example"}));
    let nodes = TwoNodes::start(
        &db,
        |public| {
            format!(
                "[server]\npublic_url = \"{public}\"\nidp_timeout_secs = 5\n\n\
                 [[pools]]\nid = \"{POOL}\"\nname = \"Multi-node mix-up\"\n{}{}{}",
                oidc_idp("Corp", "corp-client", "MIX_CORP", &corp.issuer, ""),
                oidc_idp("Evil", "evil-client", "MIX_EVIL", &evil.issuer, ""),
                rp().toml(&["Corp", "Evil"]),
            )
        },
        &[("MIX_CORP", "corp-secret"), ("MIX_EVIL", "evil-secret")],
    )
    .await;
    let (a, b, public) = (&nodes.a, &nodes.b, nodes.public.as_str());
    let own = |provider: &str| format!("{public}/oauth2/idpresponse/{POOL}/{provider}");

    // The victim starts an Evil flow at node A.
    let browser = http();
    let r = browser
        .get(rp().authorize_url(&a.base, &[("identity_provider", "Evil")]))
        .send()
        .await
        .unwrap();
    let cookie = browser_cookie(&r);
    let to_evil = location(&r);
    assert_eq!(param(&to_evil, "redirect_uri"), Some(own("Evil")));
    // Evil relays the victim's state to Corp, answering at Corp's own callback.
    let mut relay = url::Url::parse(&corp.url("/authorize")).unwrap();
    relay
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "corp-client")
        .append_pair("redirect_uri", &own("Corp"))
        .append_pair("state", &param(&to_evil, "state").unwrap())
        .append_pair("nonce", "attacker-nonce");
    let back = location(&browser.get(relay.as_str()).send().await.unwrap());
    assert!(back.starts_with(&format!("{}?", own("Corp"))), "{back}");
    assert_failed_page(
        deliver(&nodes.to(&back, b), &cookie).await,
        "Corp's code in an Evil flow",
    );
    assert_eq!(evil.token_requests(), 0);
    assert_eq!(corp.token_requests(), 0);

    // Evil's own answer to the victim's flow, at Evil's callback on node A, completes it.
    let evil_back = location(&browser.get(&to_evil).send().await.unwrap());
    assert!(
        evil_back.starts_with(&format!("{}?", own("Evil"))),
        "{evil_back}"
    );
    let redirect = delivered(&nodes.to(&evil_back, a), &cookie, a, "Evil's own").await;
    let id = rp().id_token(&b.base, &redirect).await;
    assert_eq!(id["cognito:username"], "Evil_evil-user");

    // Corp's honest flow, started at B, answered at its own callback on A.
    let browser = http();
    let r = browser
        .get(rp().authorize_url(&b.base, &[("identity_provider", "Corp")]))
        .send()
        .await
        .unwrap();
    let cookie = browser_cookie(&r);
    let corp_back = location(&browser.get(location(&r)).send().await.unwrap());
    assert!(
        corp_back.starts_with(&format!("{}?", own("Corp"))),
        "{corp_back}"
    );
    let redirect = delivered(&nodes.to(&corp_back, a), &cookie, a, "Corp's own").await;
    let id = rp().id_token(&a.base, &redirect).await;
    assert_eq!(id["cognito:username"], "Corp_corp-victim");
    assert_eq!(evil.token_requests(), 1);
    let mut users = nodes.usernames().await;
    users.sort();
    assert_eq!(users, ["Corp_corp-victim", "Evil_evil-user"]);

    nodes.stop().await;
    corp.stop().await;
    evil.stop().await;
    db.cleanup().await;
}

#[tokio::test]
async fn a_saml_response_posted_to_one_node_continues_on_the_other_once() {
    let Some(db) = fresh_pg_url("multinode_saml").await else {
        return;
    };
    if !saml_sign::available() {
        return;
    }
    let idp = FakeSaml::start().await;
    let provider = format!(
        "\n[[pools.identity_providers]]\nname = \"Corp\"\npreset = \"saml\"\nmetadata = '''{}'''\n",
        idp.metadata(false)
    );
    let nodes = TwoNodes::start(&db, |public| config(public, "Corp", &provider), &[]).await;
    let (a, b, public) = (&nodes.a, &nodes.b, nodes.public.as_str());

    // Started at A; the IdP's page posts to the shared public ACS.
    let browser = http();
    let r = browser
        .get(rp().authorize_url(&a.base, &[("identity_provider", "Corp")]))
        .send()
        .await
        .unwrap();
    let cookie = browser_cookie(&r);
    let upstream = location(&r);
    assert!(
        upstream.starts_with(&format!("{}/sso?", idp.base)),
        "{upstream}"
    );
    let page = browser.get(&upstream).send().await.unwrap();
    let (action, fields) = form_of(&page.text().await.unwrap());
    assert_eq!(action, format!("{public}/saml2/idpresponse"));

    // The POST lands on B; the same response posted again at A is refused.
    let r = http()
        .post(nodes.to(&action, b))
        .form(&fields)
        .send()
        .await
        .unwrap();
    let continuation = location(&r);
    assert!(continuation.starts_with(&format!("{public}/saml2/idpresponse?flow=_")));
    let again = http()
        .post(nodes.to(&action, a))
        .form(&fields)
        .send()
        .await
        .unwrap();
    assert_refused_post(again, "the response posted again at the other node").await;

    // The browser's continuation reaches A, which verifies B's stored response; the
    // code is redeemed at B.
    let redirect = delivered(&nodes.to(&continuation, a), &cookie, a, "continuation at A").await;
    let id = rp().id_token(&b.base, &redirect).await;
    assert_eq!(id["cognito:username"], "Corp_00u1ada");
    assert_eq!(id["identities"][0]["providerType"], "SAML");
    // Continued again, at either node: spent.
    for node in [a, b] {
        assert_failed_page(
            deliver(&nodes.to(&continuation, node), &cookie).await,
            "continuation replayed",
        );
    }
    assert_eq!(nodes.usernames().await, ["Corp_00u1ada"]);

    nodes.stop().await;
    db.cleanup().await;
}
