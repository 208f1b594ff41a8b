//! Issue 9, hole 6: a federated link is bound to the issuer it was made with, not only to
//! the provider's name. The operator repoints `Corp` from IdP A to IdP B, whose `sub`
//! `"1"` is someone else: B's `"1"` is refused with a clear page, is not signed in as A's
//! user, and creates no user; an unchanged provider keeps signing its users in; a link
//! recorded before links were bound adopts the provider's issuer at its next sign-in, and
//! one not signed in since the repoint is held to the issuer it recorded;
//! after `cognate users relink --yes`, B's `"1"` signs in as the operator decided. On both
//! engines: the binding is stored with the user.

use serde_json::json;

use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::federated::{self, oidc_idp, Client};
use crate::support::pg::PgNodeEnv;
use crate::support::server::TestServer;
use cognate::core::model::ProtocolSettings;

const POOL: &str = "us-east-1_FedRepoint1";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "repoint-test-verifier-0123456789-abcdefghijklmnopqr";
const SECRETS: [(&str, &str); 2] = [
    ("FED_CORP_SECRET", "corp-secret"),
    ("FED_OTHER_SECRET", "other-secret"),
];

fn rp() -> Client {
    Client::new("fedrepointweb00000000001", CALLBACK, VERIFIER)
}

struct Idps {
    /// Corp's IdP when users were linked.
    a: FakeOidc,
    /// The IdP Corp is repointed at: same client, other people.
    b: FakeOidc,
    /// An unchanged provider.
    other: FakeOidc,
}

async fn idps() -> Idps {
    Idps {
        a: FakeOidc::start("corp-client", SECRETS[0].1, ClientAuth::Basic).await,
        b: FakeOidc::start("corp-client", SECRETS[0].1, ClientAuth::Basic).await,
        other: FakeOidc::start("other-client", SECRETS[1].1, ClientAuth::Basic).await,
    }
}

fn pools(idps: &Idps) -> String {
    format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Repointed\"\n{}{}{}",
        oidc_idp("Corp", "corp-client", SECRETS[0].0, &idps.a.issuer, ""),
        oidc_idp(
            "Other",
            "other-client",
            SECRETS[1].0,
            &idps.other.issuer,
            ""
        ),
        rp().toml(&["Corp", "Other"])
    )
}

/// A sign-in through `idp` as `subject` with `email`: the outcome.
async fn attempt(
    server: &TestServer,
    fake: &FakeOidc,
    idp: &str,
    subject: &str,
    email: &str,
) -> federated::Outcome {
    fake.set_user(
        subject,
        json!({"email": email, "email_verified": true, "name": email}),
    );
    let authorize = rp().authorize_url(&server.base, &[("identity_provider", idp)]);
    federated::sign_in(&authorize).await
}

/// A sign-in that must go through: the ID token.
async fn sign_in(
    server: &TestServer,
    fake: &FakeOidc,
    idp: &str,
    subject: &str,
    email: &str,
) -> serde_json::Value {
    let redirect = attempt(server, fake, idp, subject, email)
        .await
        .unwrap_or_else(|e| panic!("the {idp} sign-in of {email} failed: {e:?}"));
    rp().id_token(&server.base, &redirect).await
}

/// `cognate users relink` run as the real binary against the server's store.
async fn relink(server: &TestServer, env: &[(&str, &str)], yes: bool) -> (i32, String) {
    let data_dir = server.node.config.server.data_dir.display().to_string();
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec![
        "--data-dir",
        &data_dir,
        "users",
        "relink",
        "--pool",
        POOL,
        "Corp",
    ];
    if yes {
        args.push("--yes");
    }
    let (code, out, err) = crate::support::process::run(dir.path(), &args, env).await;
    (code, format!("{out}{err}"))
}

async fn a_repointed_provider_does_not_sign_others_in(
    server: TestServer,
    idps: Idps,
    cli_env: &[(&str, &str)],
) {
    let ana = sign_in(&server, &idps.a, "Corp", "1", "ana@a.example").await;
    assert_eq!(ana["cognito:username"], "Corp_1");
    let cleo = sign_in(&server, &idps.a, "Corp", "2", "cleo@a.example").await;
    let olga = sign_in(&server, &idps.other, "Other", "1", "olga@o.example").await;
    assert_eq!(olga["cognito:username"], "Other_1");

    // Links recorded before links were bound: Ana's adopts the provider's issuer at her
    // next sign-in; Cleo's, not signed in again, keeps only the issuer it recorded.
    let pool = server.pool(POOL).await;
    for user in [&ana, &cleo] {
        let sub = user["sub"].as_str().unwrap().to_string();
        server
            .node
            .directory
            .modify_user(&pool, &sub, |u| {
                u.identities.iter_mut().for_each(|i| i.bound_to = None);
                Ok(())
            })
            .await
            .unwrap();
    }
    let again = sign_in(&server, &idps.a, "Corp", "1", "ana@a.example").await;
    assert_eq!(again["sub"], ana["sub"]);
    let stored = server.find_user(POOL, "Corp_1").await.unwrap();
    assert_eq!(
        stored.identities[0].bound_to.as_deref(),
        Some(idps.a.issuer.as_str())
    );

    // The operator repoints Corp at B, whose "1" is Bob.
    let mut pool = server.pool(POOL).await;
    let corp = pool
        .identity_providers
        .iter_mut()
        .find(|p| p.name == "Corp")
        .unwrap();
    let ProtocolSettings::Oidc(oidc) = &mut corp.protocol else {
        panic!("Corp speaks OpenID Connect");
    };
    oidc.issuer = Some(idps.b.issuer.clone());
    server.node.store.put_pool(&pool).await.unwrap();

    // The attack: B's "1" is refused, not signed in as Ana, and no user is created.
    let users = server.user_count(POOL).await;
    let refused = attempt(&server, &idps.b, "Corp", "1", "bob@b.example").await;
    federated::assert_page(
        refused,
        403,
        "Ask an administrator to relink your account",
        "B's 1 through the repointed Corp",
    );
    let refused = attempt(&server, &idps.b, "Corp", "2", "dan@b.example").await;
    federated::assert_page(
        refused,
        403,
        "Ask an administrator to relink your account",
        "B's 2 through the repointed Corp, onto a link from before binding",
    );
    assert_eq!(server.user_count(POOL).await, users, "no user created");
    let kept = server.find_user(POOL, "Corp_1").await.unwrap();
    assert_eq!(
        kept.attribute("email"),
        Some("ana@a.example"),
        "Ana's user untouched"
    );

    // The unchanged provider keeps signing its users in.
    let olga_again = sign_in(&server, &idps.other, "Other", "1", "olga@o.example").await;
    assert_eq!(olga_again["sub"], olga["sub"]);

    // The relink needs the operator's confirmation, then binds Corp's links to B.
    let (code, out) = relink(&server, cli_env, false).await;
    assert_ne!(code, 0, "relink without --yes: {out}");
    assert!(out.contains("--yes"), "{out}");
    let refused = attempt(&server, &idps.b, "Corp", "1", "bob@b.example").await;
    assert!(refused.is_err(), "still refused before the relink");
    let (code, out) = relink(&server, cli_env, true).await;
    assert_eq!(code, 0, "relink --yes: {out}");
    assert!(out.contains("rebound 2 user"), "{out}");
    let bob = sign_in(&server, &idps.b, "Corp", "1", "bob@b.example").await;
    assert_eq!(bob["cognito:username"], "Corp_1");
    assert_eq!(bob["sub"], ana["sub"], "as the operator decided");
    let dan = sign_in(&server, &idps.b, "Corp", "2", "dan@b.example").await;
    assert_eq!(dan["sub"], cleo["sub"]);
    assert_eq!(server.user_count(POOL).await, users);
    server.stop().await;
}

#[tokio::test]
async fn a_repointed_provider_does_not_sign_another_idps_user_in() {
    let idps = idps().await;
    let server = TestServer::start_with(&pools(&idps), "idp_timeout_secs = 5", &SECRETS).await;
    a_repointed_provider_does_not_sign_others_in(server, idps, &[]).await;
}

#[tokio::test]
async fn a_repointed_provider_does_not_sign_another_idps_user_in_on_postgres() {
    let Some(pg) = PgNodeEnv::new("fed_repoint").await else {
        return;
    };
    let idps = idps().await;
    let env = pg.with(&SECRETS);
    let server = TestServer::start_with(&pools(&idps), "idp_timeout_secs = 5", &env).await;
    assert_eq!(server.node.store.engine(), "postgres");
    a_repointed_provider_does_not_sign_others_in(server, idps, &pg.vars()).await;
    pg.cleanup().await;
}
