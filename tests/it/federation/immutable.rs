//! Issue 9, hole 3: an immutable attribute is written once. A federated sign-in whose
//! mapped `custom:tenant_id` claim moved from `acme` to `globex` keeps `acme` and still
//! signs in, while a mutable attribute follows its claim; the directory refuses an
//! administrator's change of an immutable attribute once set and takes its first value;
//! a linked user keeps its verified phone number as it keeps its verified email. On both
//! engines: the refusal is the directory's, over whichever store.

use std::collections::BTreeMap;

use serde_json::json;

use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::federated::{self, oidc_idp, Client};
use crate::support::server::TestServer;
use cognate::core::directory::DirectoryError;

const POOL: &str = "us-east-1_FedImmut01";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "immutable-test-verifier-0123456789-abcdefghijklmnop";
const PASSWORD: &str = "Correct-Horse-9";
const SECRET: (&str, &str) = ("FED_CORP_SECRET", "corp-secret");

fn rp() -> Client {
    Client::new("fedimmutableweb0000000001", CALLBACK, VERIFIER)
}

/// A linking pool with an immutable `custom:tenant_id` and a mutable `custom:team`, both
/// mapped from Corp's claims.
fn pools(corp: &FakeOidc) -> String {
    format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"Immutable\"\nlink_federated_users_by_email = true\n\
         [[pools.custom_attributes]]\nname = \"tenant_id\"\nmutable = false\n\
         [[pools.custom_attributes]]\nname = \"team\"\n{}{}",
        oidc_idp(
            "Corp",
            "corp-client",
            SECRET.0,
            &corp.issuer,
            "identifiers = [\"corp.example\"]\n\
             attribute_mapping = { \"custom:tenant_id\" = \"tenant\", \"custom:team\" = \"team\" }"
        ),
        rp().toml(&["Corp"])
    )
}

async fn sign_in(server: &TestServer, corp: &FakeOidc, subject: &str, claims: serde_json::Value) {
    corp.set_user(subject, claims);
    let authorize = rp().authorize_url(&server.base, &[("identity_provider", "Corp")]);
    let redirect = federated::sign_in(&authorize)
        .await
        .unwrap_or_else(|e| panic!("the Corp sign-in of {subject} failed: {e:?}"));
    let id = rp().id_token(&server.base, &redirect).await;
    assert!(id["sub"].is_string(), "{id}");
}

fn changes(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn immutable_attributes_hold(server: TestServer, corp: FakeOidc) {
    // A federated sign-in whose tenant claim moved: the sign-in goes through, the tenant
    // stays acme, the mutable team follows the claim.
    let claims = |tenant: &str, team: &str| json!({"email": "kim@corp.example", "email_verified": true, "tenant": tenant, "team": team});
    sign_in(&server, &corp, "c-kim", claims("acme", "red")).await;
    let kim = server.find_user(POOL, "Corp_c-kim").await.unwrap();
    assert_eq!(kim.attribute("custom:tenant_id"), Some("acme"));
    assert_eq!(kim.attribute("custom:team"), Some("red"));
    sign_in(&server, &corp, "c-kim", claims("globex", "blue")).await;
    let kim = server.find_user(POOL, "Corp_c-kim").await.unwrap();
    assert_eq!(kim.attribute("custom:tenant_id"), Some("acme"), "immutable");
    assert_eq!(kim.attribute("custom:team"), Some("blue"), "mutable");
    assert_eq!(
        kim.identities[0].attributes["custom:tenant_id"], "globex",
        "as received"
    );

    // The directory (the administrator's edge): the first value is taken, a change or a
    // removal once set is refused with Cognito's words, the same value is no change.
    let pool = server.pool(POOL).await;
    let directory = &server.node.directory;
    let lee = server
        .create_user(POOL, "lee", BTreeMap::new(), PASSWORD)
        .await;
    let set = directory
        .update_attributes(
            &pool,
            &lee.sub,
            &changes(&[("custom:tenant_id", "acme")]),
            5,
        )
        .await
        .unwrap();
    assert_eq!(set.attribute("custom:tenant_id"), Some("acme"));
    for value in ["globex", ""] {
        let refused = directory
            .update_attributes(
                &pool,
                &lee.sub,
                &changes(&[("custom:tenant_id", value), ("custom:team", "x")]),
                6,
            )
            .await;
        match refused {
            Err(DirectoryError::InvalidAttribute(e)) => {
                assert_eq!(e.name, "custom:tenant_id");
                assert!(e.reason.contains("cannot be updated"), "{e}");
            }
            other => panic!("changing an immutable attribute to {value:?}: {other:?}"),
        }
    }
    let kept = server.find_user(POOL, "lee").await.unwrap();
    assert_eq!(kept.attribute("custom:tenant_id"), Some("acme"));
    assert_eq!(
        kept.attribute("custom:team"),
        None,
        "nothing of a refused update"
    );
    let same = directory
        .update_attributes(
            &pool,
            &lee.sub,
            &changes(&[("custom:tenant_id", "acme"), ("custom:team", "x")]),
            7,
        )
        .await
        .unwrap();
    assert_eq!(same.attribute("custom:team"), Some("x"));

    // A linked user keeps its verified phone number (and its flag), as its email.
    let attributes = changes(&[
        ("email", "ana@corp.example"),
        ("email_verified", "true"),
        ("phone_number", "+15550100001"),
        ("phone_number_verified", "true"),
    ]);
    let ana = server.create_user(POOL, "ana", attributes, PASSWORD).await;
    for _ in 0..2 {
        sign_in(
            &server,
            &corp,
            "c-ana",
            json!({"email": "ana@corp.example", "email_verified": true,
                   "phone_number": "+15550199999", "phone_number_verified": false,
                   "tenant": "acme", "team": "green"}),
        )
        .await;
    }
    let linked = server.find_user(POOL, "ana").await.unwrap();
    assert_eq!(linked.sub, ana.sub);
    assert_eq!(linked.identities.len(), 1, "linked");
    assert_eq!(linked.attribute("phone_number"), Some("+15550100001"));
    assert_eq!(linked.attribute("phone_number_verified"), Some("true"));
    assert_eq!(
        linked.attribute("custom:team"),
        Some("green"),
        "others refresh"
    );
    // The identity's own user follows its IdP's number.
    sign_in(
        &server,
        &corp,
        "c-kim",
        json!({"email": "kim@corp.example", "email_verified": true,
               "phone_number": "+15550100002", "phone_number_verified": true}),
    )
    .await;
    sign_in(
        &server,
        &corp,
        "c-kim",
        json!({"email": "kim@corp.example", "email_verified": true,
               "phone_number": "+15550100003", "phone_number_verified": false}),
    )
    .await;
    let kim = server.find_user(POOL, "Corp_c-kim").await.unwrap();
    assert_eq!(kim.attribute("phone_number"), Some("+15550100003"));
    server.stop().await;
}

#[tokio::test]
async fn an_immutable_attribute_keeps_its_first_value() {
    let corp = FakeOidc::start("corp-client", SECRET.1, ClientAuth::Basic).await;
    let server = TestServer::start_with(&pools(&corp), "idp_timeout_secs = 5", &[SECRET]).await;
    immutable_attributes_hold(server, corp).await;
}

#[tokio::test]
async fn an_immutable_attribute_keeps_its_first_value_on_postgres() {
    let Some(pg) = crate::support::pg::PgNodeEnv::new("fed_immutable").await else {
        return;
    };
    let corp = FakeOidc::start("corp-client", SECRET.1, ClientAuth::Basic).await;
    let env = pg.with(&[SECRET]);
    let server = TestServer::start_with(&pools(&corp), "idp_timeout_secs = 5", &env).await;
    assert_eq!(server.node.store.engine(), "postgres");
    immutable_attributes_hold(server, corp).await;
    pg.cleanup().await;
}
