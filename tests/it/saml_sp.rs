//! The SAML service provider's metadata and keys, driven over real HTTP: each pool serves
//! its entity id, ACS and signing certificate; a rotation keeps the old certificate listed
//! until its grace ends (time travel through the core API); a second node on the same
//! PostgreSQL serves the same certificate; what the SP signs verifies with the public key
//! an independent X.509 parser reads from the certificate; the token JWKS never changes.

use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use x509_cert::der::{Decode, Encode};

use cognate::core::sp_keys::SpKeyService;

use crate::support::http;
use crate::support::server::TestServer;

const POOL_A: &str = "us-east-1_SamlA";
const POOL_B: &str = "us-east-1_SamlB";
/// B's entity id needs escaping in XML (`&`).
const ENTITY_B: &str = "https://sp.example.com/saml?tenant=b&v=1";

fn pools() -> String {
    format!(
        "[[pools]]\nid = \"{POOL_A}\"\nname = \"a\"\n\n\
         [[pools]]\nid = \"{POOL_B}\"\nname = \"b\"\nsaml_sp_entity_id = \"{ENTITY_B}\"\n"
    )
}

/// What a metadata response says.
#[derive(Debug, PartialEq)]
struct Metadata {
    entity_id: String,
    acs: String,
    /// Base64 DER, as the document carries them.
    certificates: Vec<String>,
}

fn b64(der: &[u8]) -> String {
    STANDARD.encode(der)
}

const MD: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const DS: &str = "http://www.w3.org/2000/09/xmldsig#";

/// Parses the document with a strict XML parser and reads it by namespace.
fn parse(xml: &str) -> Metadata {
    let doc = roxmltree::Document::parse(xml).unwrap_or_else(|e| panic!("{e}: {xml}"));
    let root = doc.root_element();
    assert!(root.has_tag_name((MD, "EntityDescriptor")), "{xml}");
    let sp: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name((MD, "SPSSODescriptor")))
        .collect();
    assert_eq!(sp.len(), 1, "{xml}");
    let acs: Vec<_> = sp[0]
        .children()
        .filter(|n| n.has_tag_name((MD, "AssertionConsumerService")))
        .collect();
    assert_eq!(acs.len(), 1, "{xml}");
    let certificates_for = |usage: &str| -> Vec<String> {
        sp[0]
            .children()
            .filter(|n| n.has_tag_name((MD, "KeyDescriptor")))
            .filter(|k| k.attribute("use") == Some(usage))
            .map(|k| {
                let text = k
                    .descendants()
                    .find(|n| n.has_tag_name((DS, "X509Certificate")))
                    .and_then(|n| n.text())
                    .expect("a certificate");
                let text = text.trim().to_string();
                STANDARD.decode(&text).expect("base64");
                text
            })
            .collect()
    };
    let certificates = certificates_for("signing");
    let keys = sp[0]
        .children()
        .filter(|n| n.has_tag_name((MD, "KeyDescriptor")))
        .count();
    assert_eq!(
        keys,
        2 * certificates.len(),
        "signing and encryption only: {xml}"
    );
    // Every published certificate is an encryption key too (an IdP encrypting to the
    // previous one during the grace period is still decrypted), with the algorithms
    // Cognate accepts.
    assert_eq!(certificates_for("encryption"), certificates, "{xml}");
    for k in sp[0].children().filter(|k| {
        k.has_tag_name((MD, "KeyDescriptor")) && k.attribute("use") == Some("encryption")
    }) {
        let methods: Vec<&str> = k
            .children()
            .filter(|n| n.has_tag_name((MD, "EncryptionMethod")))
            .filter_map(|n| n.attribute("Algorithm"))
            .collect();
        assert_eq!(
            methods,
            cognate::federation::saml::sp::ENCRYPTION_METHODS,
            "{xml}"
        );
    }
    Metadata {
        entity_id: root.attribute("entityID").expect("entityID").to_string(),
        acs: acs[0].attribute("Location").expect("Location").to_string(),
        certificates,
    }
}

/// `GET /saml2/metadata/<pool>`: status, content type, body.
async fn fetch(base: &str, pool: &str) -> (u16, String, String) {
    let response = http()
        .get(format!("{base}/saml2/metadata/{pool}"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (status, content_type, response.text().await.unwrap())
}

async fn metadata(base: &str, pool: &str) -> Metadata {
    let (status, content_type, body) = fetch(base, pool).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "application/samlmetadata+xml");
    parse(&body)
}

async fn jwks(base: &str, pool: &str) -> Value {
    let url = format!("{base}/{pool}/.well-known/jwks.json");
    http().get(url).send().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn metadata_names_each_pool_entity_id_acs_and_certificate() {
    let server = TestServer::start(&pools()).await;
    let base = server.base.as_str();
    let jwks_before = jwks(base, POOL_A).await;
    assert_eq!(jwks_before["keys"].as_array().unwrap().len(), 2);

    let a = metadata(base, POOL_A).await;
    assert_eq!(a.entity_id, format!("urn:amazon:cognito:sp:{POOL_A}"));
    assert_eq!(a.acs, format!("{base}/saml2/idpresponse"));
    assert_eq!(a.certificates.len(), 1);
    let now = cognate::core::now();
    let active = server.node.sp_keys.active(POOL_A, now).await.unwrap();
    assert_eq!(a.certificates[0], b64(active.certificate_der()));
    // The key was made once: the next request serves the same certificate.
    assert_eq!(metadata(base, POOL_A).await, a);

    // B: its configured entity id, escaped in the document, and a key of its own.
    let (_, _, raw) = fetch(base, POOL_B).await;
    assert!(raw.contains("tenant=b&amp;v=1"), "{raw}");
    let b = parse(&raw);
    assert_eq!(b.entity_id, ENTITY_B);
    assert_eq!(b.acs, a.acs);
    assert_eq!(b.certificates.len(), 1);
    assert_ne!(b.certificates, a.certificates);

    // Unknown or malformed pools are 404s, not errors, and make no key.
    for pool in ["us-east-1_Nope", "not-a-pool", "%3Cscript%3E"] {
        let (status, _, body) = fetch(base, pool).await;
        assert_eq!(status, 404, "{pool}: {body}");
        assert!(!body.contains("internal"), "{body}");
    }
    assert!(server
        .node
        .store
        .list_sp_keys("us-east-1_Nope")
        .await
        .unwrap()
        .is_empty());
    // The token JWKS is what it was.
    assert_eq!(jwks(base, POOL_A).await, jwks_before);
    server.stop().await;
}

#[tokio::test]
async fn rotation_keeps_the_old_certificate_listed_until_the_grace_ends() {
    let server = TestServer::start(&pools()).await;
    let base = server.base.as_str();
    let keys = &server.node.sp_keys;
    let jwks_before = jwks(base, POOL_A).await;
    let t0 = cognate::core::now();
    let old = keys.active(POOL_A, t0).await.unwrap();
    let grace = 3_600;
    let new_kid = keys.rotate(POOL_A, grace, t0).await.unwrap();
    assert_ne!(new_kid, old.kid());
    // This node signs with the new key at once (its cache was dropped).
    let new = keys.active(POOL_A, t0).await.unwrap();
    assert_eq!(new.kid(), new_kid);
    let both = vec![b64(new.certificate_der()), b64(old.certificate_der())];
    let published = |t: i64| async move {
        let certs = keys.published_certificates(POOL_A, t).await.unwrap();
        certs.iter().map(|c| b64(c)).collect::<Vec<_>>()
    };
    for t in [t0, t0 + 1, t0 + grace - 1] {
        assert_eq!(published(t).await, both, "at t0 + {}", t - t0);
    }
    for t in [t0 + grace, t0 + grace + 86_400] {
        assert_eq!(published(t).await, both[..1], "at t0 + {}", t - t0);
    }
    // An encrypted assertion is decrypted with the key of every published certificate:
    // the new key and, until the grace ends, the old one.
    let public = |k: &aws_lc_rs::rsa::PrivateDecryptingKey| {
        use aws_lc_rs::encoding::AsDer;
        k.public_key().as_der().unwrap().as_ref().to_vec()
    };
    let decrypting = |t: i64| async move {
        let found = keys.decryption_keys(POOL_A, t).await.unwrap();
        found.iter().map(public).collect::<Vec<_>>()
    };
    let both_keys = vec![public(new.decryption_key()), public(old.decryption_key())];
    assert_eq!(decrypting(t0 + grace - 1).await, both_keys);
    assert_eq!(decrypting(t0 + grace).await, both_keys[..1]);
    // Over HTTP (now is within the grace): both, the new one first.
    assert_eq!(metadata(base, POOL_A).await.certificates, both);
    // Another node (a service with its own cache over the same store) signs with the new
    // key too.
    let other = SpKeyService::new(server.node.store.clone(), server.node.master.clone());
    assert_eq!(other.active(POOL_A, t0).await.unwrap().kid(), new_kid);
    // The other pool and the token JWKS are untouched.
    assert_eq!(metadata(base, POOL_B).await.certificates.len(), 1);
    assert_eq!(jwks(base, POOL_A).await, jwks_before);
    server.stop().await;
}

#[tokio::test]
async fn sp_signatures_verify_with_the_public_key_in_the_certificate() {
    let server = TestServer::start(&pools()).await;
    let now = cognate::core::now();
    let key = server.node.sp_keys.active(POOL_A, now).await.unwrap();
    let cert = x509_cert::Certificate::from_der(key.certificate_der()).expect("an X.509 cert");
    let tbs = &cert.tbs_certificate;
    let subject = tbs.subject.to_string();
    assert!(
        subject.contains(&format!("CN=Cognate SAML SP {POOL_A}")),
        "{subject}"
    );
    assert_eq!(tbs.issuer, tbs.subject, "self-signed");
    // sha256WithRSAEncryption (RFC 4055 section 5).
    assert_eq!(
        cert.signature_algorithm.oid.to_string(),
        "1.2.840.113549.1.1.11"
    );
    let not_before = tbs.validity.not_before.to_unix_duration().as_secs() as i64;
    let not_after = tbs.validity.not_after.to_unix_duration().as_secs() as i64;
    assert!(not_before <= now && now - not_before <= 2 * 86_400);
    assert!(not_after - now >= 3_650 * 86_400, "ten years");

    let spki = tbs.subject_public_key_info.to_der().unwrap();
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, &spki);
    // The certificate's own signature holds under its key.
    let signature = cert.signature.as_bytes().expect("whole bytes");
    public
        .verify(&tbs.to_der().unwrap(), signature)
        .expect("the certificate is self-signed by its key");
    // What the SP signs (an HTTP-Redirect binding's query) verifies; a changed message or
    // another pool's key does not.
    let query = b"SAMLRequest=fZJNT8MwDIb%2FSpV7m6Rdt6Cqk8ZAQgKBGHDg5qbOFqlNSpwN%2BPeUFiSEhK7J&RelayState=abc&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256";
    let signed = key.sign_rsa_sha256(query).unwrap();
    public.verify(query, &signed).expect("verifies");
    let mut changed = query.to_vec();
    changed[12] ^= 1;
    assert!(public.verify(&changed, &signed).is_err());
    let other = server.node.sp_keys.active(POOL_B, now).await.unwrap();
    let by_other = other.sign_rsa_sha256(query).unwrap();
    assert!(public.verify(query, &by_other).is_err());
    server.stop().await;
}

#[tokio::test]
async fn a_second_node_on_postgres_serves_the_same_certificate() {
    let Some(pg) = crate::support::pg::PgNodeEnv::new("saml_sp_nodes").await else {
        return;
    };
    let env = pg.vars();
    let a = TestServer::start_with(&pools(), "", &env).await;
    let b = TestServer::start_with(&pools(), "", &env).await;
    assert_eq!(a.node.store.engine(), "postgres");
    // Both make the pool's first key at once: one wins, and both serve it.
    let (from_a, from_b) = tokio::join!(metadata(&a.base, POOL_A), metadata(&b.base, POOL_A));
    assert_eq!(from_a.certificates.len(), 1);
    assert_eq!(from_a.certificates, from_b.certificates);
    assert_eq!(a.node.store.list_sp_keys(POOL_A).await.unwrap().len(), 1);
    let now = cognate::core::now();
    let on_b = b.node.sp_keys.active(POOL_A, now).await.unwrap();
    assert_eq!(b64(on_b.certificate_der()), from_a.certificates[0]);

    // A rotates; B publishes the new certificate at once, beside the old one.
    a.node.sp_keys.rotate(POOL_A, 86_400, now).await.unwrap();
    let after_a = metadata(&a.base, POOL_A).await;
    let after_b = metadata(&b.base, POOL_A).await;
    assert_eq!(after_a.certificates, after_b.certificates);
    assert_eq!(after_b.certificates.len(), 2);
    assert_eq!(after_b.certificates[1], from_a.certificates[0]);
    assert_eq!(jwks(&a.base, POOL_A).await, jwks(&b.base, POOL_A).await);
    a.stop().await;
    b.stop().await;
    pg.cleanup().await;
}
