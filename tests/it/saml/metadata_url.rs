//! `metadata_url`: an IdP's metadata fetched from a local axum server when the file is
//! applied, refreshed (a key rollover then signs in end to end), the last good copy kept
//! when the URL fails or serves something else, private addresses refused unless
//! declared, `check-config` checking only the URL's form, and `cognate idps check`.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use cognate::config::Config;
use cognate::federation::http::{HttpError, HttpSettings, IdpHttp};
use cognate::federation::saml::remote::{self, FetchError, MetadataRefresher, Refreshed};
use cognate::server::Node;
use cognate::telemetry::Metrics;

use super::flows::{assert_refused, id_token, rp, sign_in, POOL};
use crate::support::fake_saml::FakeSaml;
use crate::support::saml_sign::{self, idp, next_idp};
use crate::support::server::TestServer;

/// What the metadata server answers: a status and a body.
#[derive(Clone)]
struct MetadataServer {
    url: String,
    answer: Arc<Mutex<(StatusCode, String)>>,
}

impl MetadataServer {
    async fn start(body: String) -> MetadataServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = MetadataServer {
            url: format!("http://{}/saml/metadata", listener.local_addr().unwrap()),
            answer: Arc::new(Mutex::new((StatusCode::OK, body))),
        };
        let app = Router::new()
            .route(
                "/saml/metadata",
                get(|State(s): State<MetadataServer>| async move {
                    let (status, body) = s.answer.lock().unwrap().clone();
                    (
                        status,
                        [("content-type", "application/samlmetadata+xml")],
                        body,
                    )
                        .into_response()
                }),
            )
            .with_state(server.clone());
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        server
    }

    fn serve(&self, status: StatusCode, body: impl Into<String>) {
        *self.answer.lock().unwrap() = (status, body.into());
    }
}

/// The fake's metadata with `certs` (DER) as its signing certificates.
fn metadata_with(fake: &FakeSaml, certs: &[&[u8]]) -> String {
    let original = fake.metadata(false);
    let ours = STANDARD.encode(&idp().cert_der);
    let descriptor = |der: &[u8]| {
        format!(
            r#"<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>"#,
            STANDARD.encode(der)
        )
    };
    let start = original.find("<md:KeyDescriptor").unwrap();
    let end = original.find("</md:KeyDescriptor>").unwrap() + "</md:KeyDescriptor>".len();
    assert!(original[start..end].contains(&ours));
    let all: String = certs.iter().map(|c| descriptor(c)).collect();
    format!("{}{all}{}", &original[..start], &original[end..])
}

fn pools_toml(url: &str, extra: &str) -> String {
    format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"SAML tests\"\n\n[[pools.identity_providers]]\n\
         name = \"Okta\"\npreset = \"saml\"\nmetadata_url = \"{url}\"\n{extra}\n{}",
        rp().toml(&["Okta"])
    )
}

async fn stored_certificates(server: &TestServer) -> Vec<String> {
    let pool = server.pool(POOL).await;
    let saml = pool.identity_provider("Okta").unwrap().protocol.as_saml();
    saml.unwrap().signing_certificates.clone()
}

fn refresher(server: &TestServer) -> (MetadataRefresher, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let refresher = MetadataRefresher::new(
        server.node.store.clone(),
        server.node.idp_http.clone(),
        metrics.clone(),
    );
    (refresher, metrics)
}

/// The value of a counter of the provider `Okta` in the rendered metrics (0 if absent).
fn counter(metrics: &Metrics, name: &str) -> u64 {
    let text = metrics.render();
    text.lines()
        .find(|l| l.starts_with(&format!("cognate_{name}_total{{")) && l.contains("Okta"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn metadata_from_a_url_signs_in_and_a_refreshed_key_rollover_signs_in_too() {
    if !saml_sign::available() {
        return;
    }
    let fake = FakeSaml::start().await;
    let served = MetadataServer::start(fake.metadata(false)).await;
    let server = TestServer::start(&pools_toml(&served.url, "metadata_refresh_secs = 600")).await;
    let base = &server.base;

    // Initial load, when the file was applied.
    let pool = server.pool(POOL).await;
    let saml = pool.identity_provider("Okta").unwrap().protocol.as_saml();
    let saml = saml.unwrap().clone();
    assert_eq!(saml.entity_id, fake.entity_id);
    assert_eq!(saml.metadata_url.as_deref(), Some(served.url.as_str()));
    assert_eq!(saml.metadata_refresh_secs, Some(600));
    assert_eq!(
        saml.signing_certificates,
        vec![STANDARD.encode(&idp().cert_der)]
    );
    let redirect = sign_in(base, "Okta").await.expect("signed in");
    assert_eq!(
        id_token(base, &redirect).await["cognito:username"],
        "Okta_00u1ada"
    );

    // The IdP rolls its key over: responses signed by the new key are refused until the
    // metadata announcing it is picked up.
    fake.tamper(|spec| spec.signer = next_idp());
    assert_refused(
        sign_in(base, "Okta").await,
        "signed by a key not yet announced",
    );
    served.serve(
        StatusCode::OK,
        metadata_with(&fake, &[&idp().cert_der, &next_idp().cert_der]),
    );
    let (refresher, metrics) = refresher(&server);
    // Nothing is due before the period passes (first sight schedules it).
    let now = cognate::core::now();
    assert!(refresher.refresh_due(now).await.is_empty());
    let done = refresher.refresh_due(now + 600).await;
    assert_eq!(
        done,
        vec![(
            (POOL.to_string(), "Okta".to_string()),
            Refreshed::Updated {
                certificates_changed: true
            }
        )]
    );
    assert_eq!(counter(&metrics, "saml_metadata_certificate_changes"), 1);
    assert_eq!(stored_certificates(&server).await.len(), 2);
    let redirect = sign_in(base, "Okta")
        .await
        .expect("signed in with the new key");
    assert_eq!(
        id_token(base, &redirect).await["cognito:username"],
        "Okta_00u1ada"
    );
    // The same document again changes nothing.
    assert_eq!(refresher.refresh(POOL, "Okta").await, Refreshed::Unchanged);
    assert_eq!(counter(&metrics, "saml_metadata_certificate_changes"), 1);
}

#[tokio::test]
async fn a_failing_or_wrong_url_keeps_the_last_good_copy_and_is_counted() {
    if !saml_sign::available() {
        return;
    }
    let fake = FakeSaml::start().await;
    let served = MetadataServer::start(fake.metadata(false)).await;
    let server = TestServer::start(&pools_toml(&served.url, "")).await;
    let good = stored_certificates(&server).await;
    let (refresher, metrics) = refresher(&server);

    let other_entity = fake.metadata(false).replace(
        &format!("entityID=\"{}\"", fake.entity_id),
        "entityID=\"https://evil.example/\"",
    );
    let huge = format!(
        "{}<!--{}-->",
        metadata_with(&fake, &[&next_idp().cert_der]),
        "x".repeat(1024 * 1024)
    );
    let cases: Vec<(StatusCode, String, &str)> = vec![
        (StatusCode::INTERNAL_SERVER_ERROR, "oops".into(), "HTTP 500"),
        (StatusCode::OK, huge, "larger than"),
        (
            StatusCode::OK,
            "<html><body>Sign in</body></html>".into(),
            "not SAML 2.0 metadata",
        ),
        (
            StatusCode::OK,
            "{\"keys\": []}".into(),
            "not well-formed XML",
        ),
        (StatusCode::OK, other_entity, "entity id"),
    ];
    for (n, (status, body, reason)) in cases.into_iter().enumerate() {
        served.serve(status, body);
        match refresher.refresh(POOL, "Okta").await {
            Refreshed::Kept(why) => assert!(why.contains(reason), "{reason}: {why}"),
            other => panic!("{reason}: {other:?}"),
        }
        assert_eq!(stored_certificates(&server).await, good, "{reason}");
        assert_eq!(
            counter(&metrics, "saml_metadata_refresh_failures"),
            n as u64 + 1
        );
    }
    // The readiness probe is unaffected.
    let ready = reqwest::get(format!("{}/health/ready", server.base))
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);

    // The honest document, with a new certificate, is taken again.
    served.serve(
        StatusCode::OK,
        metadata_with(&fake, &[&next_idp().cert_der]),
    );
    assert_eq!(
        refresher.refresh(POOL, "Okta").await,
        Refreshed::Updated {
            certificates_changed: true
        }
    );
    assert_eq!(
        stored_certificates(&server).await,
        vec![STANDARD.encode(&next_idp().cert_der)]
    );

    // On its schedule (hourly by default), a failure is retried after 300 s.
    served.serve(StatusCode::BAD_GATEWAY, "");
    let t0 = 1_900_000_000;
    assert!(refresher.refresh_due(t0).await.is_empty());
    assert!(refresher.refresh_due(t0 + 3599).await.is_empty());
    let failed = refresher.refresh_due(t0 + 3600).await;
    assert!(
        matches!(failed[..], [(_, Refreshed::Kept(_))]),
        "{failed:?}"
    );
    assert!(refresher.refresh_due(t0 + 3899).await.is_empty());
    served.serve(
        StatusCode::OK,
        metadata_with(&fake, &[&next_idp().cert_der]),
    );
    let retried = refresher.refresh_due(t0 + 3900).await;
    assert!(
        matches!(retried[..], [(_, Refreshed::Unchanged)]),
        "{retried:?}"
    );
    assert!(refresher.refresh_due(t0 + 3900 + 3599).await.is_empty());
}

/// A config file in `dir` with the pools' TOML.
fn config_in(dir: &std::path::Path, pools: &str, server: &str) -> Config {
    let path = dir.join("cognate.toml");
    let text = format!(
        "[server]\ndata_dir = \"{}\"\npublic_url = \"http://127.0.0.1:9\"\n{server}\n\n{pools}",
        dir.join("data").display()
    );
    std::fs::write(&path, text).unwrap();
    Config::load_with_env(Some(&path), &|_| None).unwrap_or_else(|d| panic!("{d:?}"))
}

#[tokio::test]
async fn applying_refuses_an_unreachable_url_without_a_stored_copy_and_keeps_one_it_has() {
    if !saml_sign::available() {
        return;
    }
    let fake = FakeSaml::start().await;
    let served = MetadataServer::start(fake.metadata(false)).await;
    let dir = tempfile::tempdir().unwrap();

    // No stored copy: the apply is refused and writes nothing.
    served.serve(StatusCode::NOT_FOUND, "");
    let node = Node::open(config_in(dir.path(), &pools_toml(&served.url, ""), ""))
        .await
        .unwrap();
    let err = node.bootstrap(false).await.unwrap_err().to_string();
    assert!(
        err.contains("metadata_url") && err.contains("HTTP 404"),
        "{err}"
    );
    assert!(node.store.get_pool(POOL).await.unwrap().is_none());

    // Served: applied. Then the URL fails: the next apply (a restart) keeps that copy.
    served.serve(StatusCode::OK, fake.metadata(false));
    node.bootstrap(false)
        .await
        .expect("applied with the fetched metadata");
    served.serve(StatusCode::SERVICE_UNAVAILABLE, "");
    let again = Node::open(config_in(dir.path(), &pools_toml(&served.url, ""), ""))
        .await
        .unwrap();
    again
        .bootstrap(false)
        .await
        .expect("applied with the stored copy");
    let pool = again.store.get_pool(POOL).await.unwrap().unwrap();
    let saml = pool.identity_provider("Okta").unwrap().protocol.as_saml();
    assert_eq!(saml.unwrap().entity_id, fake.entity_id);
}

#[tokio::test]
async fn a_private_address_is_refused_unless_its_network_is_declared() {
    let url = "https://10.1.2.3/saml/metadata";
    let refused = remote::fetch(&IdpHttp::new(HttpSettings::default()), url).await;
    match refused {
        Err(FetchError::Http(HttpError::Refused { detail, .. })) => {
            assert!(detail.contains("not a public address"), "{detail}")
        }
        other => panic!("{other:?}"),
    }
    // Declared: Cognate tries to connect (nothing answers there in the test, so the
    // error is the connection's, not a refusal).
    let declared = IdpHttp::new(HttpSettings {
        connect_timeout: std::time::Duration::from_millis(200),
        private_networks: vec!["10.1.2.0/24".parse().unwrap()],
        ..HttpSettings::default()
    });
    match remote::fetch(&declared, url).await {
        Err(FetchError::Http(HttpError::Refused { detail, .. })) => {
            panic!("refused although declared: {detail}")
        }
        Err(_) => {}
        Ok(m) => panic!("{m:?}"),
    }

    // Applying a file naming a private address refuses it the same way.
    let dir = tempfile::tempdir().unwrap();
    let node = Node::open(config_in(dir.path(), &pools_toml(url, ""), ""))
        .await
        .unwrap();
    let err = node.bootstrap(false).await.unwrap_err().to_string();
    assert!(err.contains("not a public address"), "{err}");
}

#[test]
fn check_config_checks_the_url_form_without_fetching() {
    let check = |idp: &str| {
        let text = format!(
            "[[pools]]\nname = \"p\"\n\n[[pools.identity_providers]]\nname = \"Okta\"\n\
             preset = \"saml\"\n{idp}\n"
        );
        cognate::config::check::check_str(&text, "cognate.toml")
    };
    // Nothing listens on port 9 of loopback: the file is still valid (not fetched).
    check("metadata_url = \"http://127.0.0.1:9/metadata\"").expect("not fetched");
    check("metadata_url = \"https://idp.example.com/metadata\"\nmetadata_refresh_secs = 3600")
        .expect("https");
    for (idp, key, needle) in [
        (
            "metadata_url = \"http://idp.example.com/metadata\"",
            "metadata_url",
            "http",
        ),
        ("metadata_url = \"idp.example.com\"", "metadata_url", "URL"),
        (
            "metadata_url = \"https://idp.example.com/m\"\nmetadata_refresh_secs = 10",
            "metadata_refresh_secs",
            "300",
        ),
        (
            "metadata_file = \"idp.xml\"\nmetadata_refresh_secs = 600",
            "metadata_refresh_secs",
            "metadata_url",
        ),
        (
            "metadata_url = \"https://idp.example.com/m\"\nmetadata = \"<x/>\"",
            "metadata_url",
            "given twice",
        ),
    ] {
        let diags = check(idp).expect_err(idp);
        assert!(
            diags
                .iter()
                .any(|d| d.to_string().contains(key) && d.to_string().contains(needle)),
            "{idp}: {diags:#?}"
        );
    }
}

#[tokio::test]
async fn idps_check_fetches_and_reports_the_difference() {
    if !saml_sign::available() {
        return;
    }
    let fake = FakeSaml::start().await;
    let served = MetadataServer::start(fake.metadata(false)).await;
    let dir = tempfile::tempdir().unwrap();
    config_in(dir.path(), &pools_toml(&served.url, ""), "");
    let config = dir.path().join("cognate.toml");
    let config = config.to_str().unwrap();
    let (code, _, err) =
        crate::support::process::run(dir.path(), &["--config", config, "apply"], &[]).await;
    assert_eq!(code, 0, "{err}");
    let check = [
        "--config", config, "idps", "check", "--pool", POOL, "--name", "Okta",
    ];
    let (code, out, err) = crate::support::process::run(dir.path(), &check, &[]).await;
    assert_eq!(code, 0, "{err}");
    let fingerprint = {
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &idp().cert_der);
        digest
            .as_ref()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    };
    for needle in [
        format!("entity id: {}", fake.entity_id),
        format!("SSO HTTP-Redirect: {}/sso", fake.base),
        format!("SHA-256 {fingerprint}"),
        "CN=idp.example.test".to_string(),
        "expires 20".to_string(),
        "same as the stored copy".to_string(),
    ] {
        assert!(out.contains(&needle), "{needle}: {out}");
    }

    // A rollover announced: reported, not stored.
    served.serve(
        StatusCode::OK,
        metadata_with(&fake, &[&next_idp().cert_der]),
    );
    let (code, out, err) = crate::support::process::run(dir.path(), &check, &[]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("differs from the stored copy: signing certificates"),
        "{out}"
    );
    assert!(
        out.contains("NEW") && out.contains("1 stored signing certificate(s) are no longer"),
        "{out}"
    );

    // A failing URL is an error naming it.
    served.serve(StatusCode::BAD_GATEWAY, "");
    let (code, _, err) = crate::support::process::run(dir.path(), &check, &[]).await;
    assert_ne!(code, 0);
    assert!(err.contains("HTTP 502"), "{err}");
}
