//! Issue 9, hole 2: linking by email lets no IdP capture a user of a domain it is not
//! authorized for. A tenant's IdP (declared for `tenant.example`, whose administrator
//! sets any `email` with `email_verified: true`) asserting `victim@corp.example` or
//! `ADMIN@corp.example` signs in as a new user of its own, never as the Corp user nor the
//! local `admin`, and its copies of the address do not stop Corp's link; the Corp IdP
//! (identifiers `corp.example`) links as before; an IdP opted in with `link_by_email`
//! links any domain; a user another IdP brought is not captured. On both engines: the
//! candidates are the store's verified-email index.

use serde_json::json;

use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::federated::{self, oidc_idp, Client};
use crate::support::pg::PgNodeEnv;
use crate::support::server::TestServer;

const POOL: &str = "us-east-1_FedCaptur1";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "capture-test-verifier-0123456789-abcdefghijklmnopqr";
const PASSWORD: &str = "Correct-Horse-9";
const SECRETS: [(&str, &str); 3] = [
    ("FED_CORP_SECRET", "corp-secret"),
    ("FED_TENANT_SECRET", "tenant-secret"),
    ("FED_PARTNER_SECRET", "partner-secret"),
];

fn rp() -> Client {
    Client::new("fedcaptureweb000000000001", CALLBACK, VERIFIER)
}

struct Idps {
    corp: FakeOidc,
    tenant: FakeOidc,
    partner: FakeOidc,
}

async fn idps() -> Idps {
    Idps {
        corp: FakeOidc::start("corp-client", SECRETS[0].1, ClientAuth::Basic).await,
        tenant: FakeOidc::start("tenant-client", SECRETS[1].1, ClientAuth::Basic).await,
        partner: FakeOidc::start("partner-client", SECRETS[2].1, ClientAuth::Basic).await,
    }
}

/// A linking pool with Corp (for corp.example), Tenant (for tenant.example) and Partner
/// (generic OIDC, opted in for every domain).
fn pools(idps: &Idps) -> String {
    format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Tenants\"\nlink_federated_users_by_email = true\n{}{}{}{}",
        oidc_idp(
            "Corp",
            "corp-client",
            SECRETS[0].0,
            &idps.corp.issuer,
            "identifiers = [\"corp.example\"]"
        ),
        oidc_idp(
            "Tenant",
            "tenant-client",
            SECRETS[1].0,
            &idps.tenant.issuer,
            "identifiers = [\"tenant.example\"]"
        ),
        oidc_idp(
            "Partner",
            "partner-client",
            SECRETS[2].0,
            &idps.partner.issuer,
            "link_by_email = true"
        ),
        rp().toml(&["Corp", "Tenant", "Partner"])
    )
}

/// A sign-in through `idp` as `subject` asserting `email` verified: the ID token.
async fn sign_in(
    server: &TestServer,
    fake: &FakeOidc,
    idp: &str,
    subject: &str,
    email: &str,
) -> serde_json::Value {
    fake.set_user(
        subject,
        json!({"email": email, "email_verified": true, "name": subject}),
    );
    let authorize = rp().authorize_url(&server.base, &[("identity_provider", idp)]);
    let redirect = federated::sign_in(&authorize)
        .await
        .unwrap_or_else(|e| panic!("the {idp} sign-in of {email} failed: {e:?}"));
    rp().id_token(&server.base, &redirect).await
}

async fn local(server: &TestServer, username: &str, email: &str) -> cognate::core::model::User {
    let attributes = [
        ("email".to_string(), email.to_string()),
        ("email_verified".to_string(), "true".to_string()),
    ]
    .into();
    server
        .create_user(POOL, username, attributes, PASSWORD)
        .await
}

async fn no_idp_captures_a_domain_it_is_not_authorized_for(server: TestServer, idps: Idps) {
    let victim = local(&server, "victim", "victim@corp.example").await;
    let admin = local(&server, "admin", "admin@corp.example").await;

    // The attack: the tenant's IdP vouches for Corp's addresses (one spelt in capitals).
    // Its users are new users of its own; Corp's accounts are exactly as they were.
    for (subject, email) in [
        ("t-1", "victim@corp.example"),
        ("t-2", "ADMIN@corp.example"),
    ] {
        for _ in 0..2 {
            let id = sign_in(&server, &idps.tenant, "Tenant", subject, email).await;
            assert_eq!(id["cognito:username"], format!("Tenant_{subject}"));
            assert_ne!(id["sub"], victim.sub.as_str());
            assert_ne!(id["sub"], admin.sub.as_str());
        }
    }
    assert_eq!(server.find_user(POOL, "victim").await.unwrap(), victim);
    assert_eq!(server.find_user(POOL, "admin").await.unwrap(), admin);

    // The honest path beside it: Corp, authorized for corp.example, links its users to
    // the local accounts, the tenant's copies of the addresses notwithstanding.
    let id = sign_in(
        &server,
        &idps.corp,
        "Corp",
        "c-victim",
        "victim@corp.example",
    )
    .await;
    assert_eq!(id["sub"], victim.sub.as_str());
    assert_eq!(id["cognito:username"], "victim");
    assert_eq!(id["identities"][0]["providerName"], "Corp");
    let id = sign_in(&server, &idps.corp, "Corp", "c-admin", "Admin@Corp.example").await;
    assert_eq!(id["sub"], admin.sub.as_str());

    // A user Corp brought is Corp's: the tenant cannot join it either.
    let id = sign_in(&server, &idps.corp, "Corp", "c-bob", "bob@corp.example").await;
    assert_eq!(id["cognito:username"], "Corp_c-bob");
    let bob = id["sub"].clone();
    let id = sign_in(&server, &idps.tenant, "Tenant", "t-3", "bob@corp.example").await;
    assert_eq!(id["cognito:username"], "Tenant_t-3");
    assert_ne!(id["sub"], bob);
    let stored = server.find_user(POOL, "Corp_c-bob").await.unwrap();
    assert_eq!(stored.identities.len(), 1, "not linked to the tenant");

    // Its own domain, the tenant links: a local user of tenant.example.
    let tina = local(&server, "tina", "tina@tenant.example").await;
    let id = sign_in(
        &server,
        &idps.tenant,
        "Tenant",
        "t-tina",
        "tina@tenant.example",
    )
    .await;
    assert_eq!(id["sub"], tina.sub.as_str());

    // Partner opted in with link_by_email: it links a local user of any domain, and
    // joins a user Corp brought (both vouch for corp.example), as no tenant may.
    let lee = local(&server, "lee", "lee@elsewhere.example").await;
    let id = sign_in(
        &server,
        &idps.partner,
        "Partner",
        "p-lee",
        "lee@elsewhere.example",
    )
    .await;
    assert_eq!(id["sub"], lee.sub.as_str());
    let id = sign_in(
        &server,
        &idps.partner,
        "Partner",
        "p-bob",
        "bob@corp.example",
    )
    .await;
    assert_eq!(id["sub"], bob);
    assert_eq!(id["cognito:username"], "Corp_c-bob");
    server.stop().await;
}

#[tokio::test]
async fn a_tenant_idp_does_not_capture_another_domains_users() {
    let idps = idps().await;
    let server = TestServer::start_with(&pools(&idps), "idp_timeout_secs = 5", &SECRETS).await;
    no_idp_captures_a_domain_it_is_not_authorized_for(server, idps).await;
}

#[tokio::test]
async fn a_tenant_idp_does_not_capture_another_domains_users_on_postgres() {
    let Some(pg) = PgNodeEnv::new("fed_capture").await else {
        return;
    };
    let idps = idps().await;
    let env = pg.with(&SECRETS);
    let server = TestServer::start_with(&pools(&idps), "idp_timeout_secs = 5", &env).await;
    assert_eq!(server.node.store.engine(), "postgres");
    no_idp_captures_a_domain_it_is_not_authorized_for(server, idps).await;
    pg.cleanup().await;
}
