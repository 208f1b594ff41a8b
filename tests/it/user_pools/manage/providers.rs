//! Issue 15: identity providers through the user pools API, with the official AWS SDK
//! signed by an operator key: one provider of each type created, described, updated,
//! listed and deleted; an OIDC provider created through the API then used by a hosted-UI
//! sign-in against the in-process fake; a SAML provider from a MetadataFile and from a
//! MetadataURL; and the refusals (keys Cognito does not define, missing keys, values
//! Cognate cannot honour, duplicate names and identifiers, a provider of the
//! configuration file, an unsigned caller), each beside the honest call.

use aws_sdk_cognitoidentityprovider::types::IdentityProviderTypeType as T;
use aws_sdk_cognitoidentityprovider::Client;
use serde_json::json;

use crate::support::fake_apple::generate_p8;
use crate::support::fake_oidc::{ClientAuth, FakeOidc};
use crate::support::fake_saml::FakeSaml;
use crate::support::federated::{self, oidc_idp, Client as Rp};
use crate::support::server::TestServer;
use crate::user_pools::users::refusal;
use crate::user_pools::{operator_client, public_client};

const POOL: &str = "us-east-1_ApiIdps001";
const WEB: &str = "apiidpweb0000000000000001";
const CALLBACK: &str = "https://app.example.com/cb";
const VERIFIER: &str = "providers-test-verifier-0123456789-abcdefghijklmnop";

/// A pool declaring one OIDC provider (`Declared`, config-owned) and a client of the code
/// flow; `fake` is the issuer of `Declared`.
async fn start(fake: &FakeOidc) -> TestServer {
    let declared = oidc_idp(
        "Declared",
        "declared-client",
        "IDPS_DECLARED_SECRET",
        &fake.issuer,
        "identifiers = [\"declared.example\"]",
    );
    let pools = format!(
        "[[pools]]\nid = \"{POOL}\"\nname = \"providers API\"\n{declared}{}",
        Rp::new(WEB, CALLBACK, VERIFIER).toml(&["Declared"]),
    );
    TestServer::start_with(
        &pools,
        "idp_timeout_secs = 2",
        &[("IDPS_DECLARED_SECRET", "declared-secret")],
    )
    .await
}

async fn create(
    admin: &Client,
    name: &str,
    t: T,
    details: &[(&str, &str)],
) -> Result<
    aws_sdk_cognitoidentityprovider::operation::create_identity_provider::CreateIdentityProviderOutput,
    aws_sdk_cognitoidentityprovider::error::SdkError<
        aws_sdk_cognitoidentityprovider::operation::create_identity_provider::CreateIdentityProviderError,
    >,
>{
    let mut call = admin
        .create_identity_provider()
        .user_pool_id(POOL)
        .provider_name(name)
        .provider_type(t);
    for (k, v) in details {
        call = call.provider_details(*k, *v);
    }
    call.send().await
}

fn refused<E, R>(
    result: Result<impl std::fmt::Debug, aws_sdk_cognitoidentityprovider::error::SdkError<E, R>>,
) -> (String, String)
where
    E: aws_sdk_cognitoidentityprovider::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let err = result.expect_err("the call must be refused");
    refusal(
        err.as_service_error()
            .unwrap_or_else(|| panic!("not a service error: {err:?}")),
    )
}

#[tokio::test]
async fn one_provider_of_each_type_is_created_described_updated_listed_and_deleted() {
    let fake = FakeOidc::start("declared-client", "declared-secret", ClientAuth::Basic).await;
    let server = start(&fake).await;
    let admin = operator_client(&server).await;
    let saml = FakeSaml::start().await;
    let (p8, _) = generate_p8();

    // Google: the keys Cognito adds itself come back in Describe; no secret does.
    let out = create(
        &admin,
        "Google",
        T::Google,
        &[
            ("client_id", "g-client"),
            ("client_secret", "g-secret"),
            ("authorize_scopes", "openid email"),
        ],
    )
    .await
    .expect("Google");
    let idp = out.identity_provider().unwrap();
    assert_eq!(idp.provider_type(), Some(&T::Google));
    let d = idp.provider_details().unwrap();
    assert_eq!(d["client_id"], "g-client");
    assert_eq!(d["authorize_scopes"], "openid email");
    assert_eq!(d["oidc_issuer"], "https://accounts.google.com");
    assert!(d["authorize_url"].starts_with("https://accounts.google.com/"));
    assert!(d.contains_key("token_url") && d.contains_key("token_request_method"));
    assert!(!d.contains_key("client_secret"), "{d:?}");
    assert_eq!(idp.attribute_mapping().unwrap()["username"], "sub");
    assert!(idp.creation_date().is_some() && idp.last_modified_date().is_some());

    // Facebook with its Graph API version, Amazon, Apple with its .p8 key.
    let out = create(
        &admin,
        "Facebook",
        T::Facebook,
        &[
            ("client_id", "fb-app"),
            ("client_secret", "fb-secret"),
            ("authorize_scopes", "public_profile,email"),
            ("api_version", "v17.0"),
        ],
    )
    .await
    .expect("Facebook");
    let d = out.identity_provider().unwrap().provider_details().unwrap();
    assert_eq!(d["api_version"], "v17.0");
    assert!(d["token_url"].contains("/v17.0/"), "{d:?}");
    assert_eq!(d["authorize_scopes"], "public_profile,email");
    create(
        &admin,
        "LoginWithAmazon",
        T::LoginWithAmazon,
        &[
            ("client_id", "amzn-client"),
            ("client_secret", "amzn-secret"),
            ("authorize_scopes", "profile"),
        ],
    )
    .await
    .expect("LoginWithAmazon");
    let out = create(
        &admin,
        "SignInWithApple",
        T::SignInWithApple,
        &[
            ("client_id", "com.example.web"),
            ("team_id", "TEAM123456"),
            ("key_id", "KEY1234567"),
            ("private_key", &p8),
            ("authorize_scopes", "email name"),
        ],
    )
    .await
    .expect("SignInWithApple");
    let d = out.identity_provider().unwrap().provider_details().unwrap();
    assert_eq!(d["team_id"], "TEAM123456");
    assert!(!d.contains_key("private_key"), "the key is never shown");

    // OIDC with an identifier and a mapping; SAML from a MetadataFile.
    let out = admin
        .create_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Corp")
        .provider_type(T::Oidc)
        .provider_details("client_id", "corp-client")
        .provider_details("client_secret", "corp-secret")
        .provider_details("oidc_issuer", "https://login.corp.example")
        .provider_details("authorize_scopes", "openid email")
        .provider_details("attributes_request_method", "GET")
        .attribute_mapping("email", "email")
        .attribute_mapping("username", "sub")
        .idp_identifiers("corp.example")
        .send()
        .await
        .expect("OIDC");
    let idp = out.identity_provider().unwrap();
    assert_eq!(idp.idp_identifiers(), ["corp.example".to_string()]);
    assert_eq!(idp.attribute_mapping().unwrap()["email"], "email");
    let out = admin
        .create_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Okta-SAML")
        .provider_type(T::Saml)
        .provider_details("MetadataFile", saml.metadata(false))
        .provider_details("IDPSignout", "false")
        .send()
        .await
        .expect("SAML");
    let d = out.identity_provider().unwrap().provider_details().unwrap();
    assert_eq!(d["SSORedirectBindingURI"], format!("{}/sso", saml.base));
    assert_eq!(d["IDPInit"], "false");
    // Describe shows the metadata Cognate holds as a document, which Update takes back
    // for the same provider.
    assert!(d["MetadataFile"].contains(&saml.entity_id), "{d:?}");
    let before = server.pool(POOL).await;
    let mut call = admin
        .update_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Okta-SAML");
    for (k, v) in d {
        call = call.provider_details(k, v);
    }
    call.send().await.expect("the SAML details sent back");
    let after = server.pool(POOL).await;
    assert_eq!(
        before.identity_provider("Okta-SAML").unwrap().protocol,
        after.identity_provider("Okta-SAML").unwrap().protocol
    );

    // Describe and GetIdentityProviderByIdentifier (without case).
    let described = admin
        .describe_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Corp")
        .send()
        .await
        .unwrap();
    let corp = described.identity_provider().unwrap();
    assert_eq!(
        corp.provider_details().unwrap()["oidc_issuer"],
        "https://login.corp.example"
    );
    let by_id = admin
        .get_identity_provider_by_identifier()
        .user_pool_id(POOL)
        .idp_identifier("CORP.example")
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_id.identity_provider().unwrap().provider_name(),
        Some("Corp")
    );
    let (code, _) = refused(
        admin
            .get_identity_provider_by_identifier()
            .user_pool_id(POOL)
            .idp_identifier("nobody.example")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");

    // Update: the details given replace the set (the secret is kept when omitted), and
    // the members omitted are kept.
    let updated = admin
        .update_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Corp")
        .provider_details("client_id", "corp-client-2")
        .provider_details("oidc_issuer", "https://login2.corp.example")
        .provider_details("authorize_scopes", "openid")
        .send()
        .await
        .expect("UpdateIdentityProvider");
    let u = updated.identity_provider().unwrap();
    let d = u.provider_details().unwrap();
    assert_eq!(d["client_id"], "corp-client-2");
    assert_eq!(d["authorize_scopes"], "openid");
    assert_eq!(u.idp_identifiers(), ["corp.example".to_string()]);
    assert_eq!(u.attribute_mapping().unwrap()["email"], "email");
    let stored = server.pool(POOL).await;
    let corp = stored.identity_provider("Corp").unwrap();
    assert!(corp.protocol.client_secret().is_some(), "secret kept");
    assert_eq!(corp.origin, cognate::core::model::Origin::Api);
    // The mapping and identifiers given replace the provider's.
    let updated = admin
        .update_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Corp")
        .attribute_mapping("name", "name")
        .idp_identifiers("corp2.example")
        .send()
        .await
        .unwrap();
    let u = updated.identity_provider().unwrap();
    assert_eq!(u.idp_identifiers(), ["corp2.example".to_string()]);
    let mapping = u.attribute_mapping().unwrap();
    assert!(!mapping.contains_key("email") && mapping["name"] == "name");
    assert_eq!(mapping["username"], "sub");
    // `username` names the claim holding the user id; a mapping without it goes back to
    // the type's default.
    let updated = admin
        .update_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Corp")
        .attribute_mapping("username", "oid")
        .send()
        .await
        .unwrap();
    let u = updated.identity_provider().unwrap();
    assert_eq!(u.attribute_mapping().unwrap()["username"], "oid");
    let stored = server.pool(POOL).await;
    assert_eq!(
        stored.identity_provider("Corp").unwrap().subject_claim,
        "oid"
    );
    let updated = admin
        .update_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Corp")
        .attribute_mapping("name", "name")
        .send()
        .await
        .unwrap();
    let mapping = updated
        .identity_provider()
        .unwrap()
        .attribute_mapping()
        .unwrap();
    assert_eq!(mapping["username"], "sub");
    assert_eq!(u.provider_details().unwrap()["client_id"], "corp-client-2");
    // Describe's answer goes back unchanged (the keys Cognito adds included).
    let google = admin
        .describe_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Google")
        .send()
        .await
        .unwrap();
    let mut call = admin
        .update_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Google");
    for (k, v) in google
        .identity_provider()
        .unwrap()
        .provider_details()
        .unwrap()
    {
        call = call.provider_details(k, v);
    }
    call.send().await.expect("Describe's details sent back");
    // ... but a key Cognito adds cannot be changed.
    let (code, message) = refused(
        admin
            .update_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Google")
            .provider_details("client_id", "g-client")
            .provider_details("token_url", "https://evil.example/token")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("ProviderDetails.token_url"), "{message}");

    // List, paged.
    let page = admin
        .list_identity_providers()
        .user_pool_id(POOL)
        .max_results(4)
        .send()
        .await
        .unwrap();
    assert_eq!(page.providers().len(), 4);
    let rest = admin
        .list_identity_providers()
        .user_pool_id(POOL)
        .next_token(page.next_token().expect("a next page"))
        .send()
        .await
        .unwrap();
    assert!(rest.next_token().is_none());
    let mut names: Vec<String> = page
        .providers()
        .iter()
        .chain(rest.providers())
        .map(|p| p.provider_name().unwrap().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Corp",
            "Declared",
            "Facebook",
            "Google",
            "LoginWithAmazon",
            "Okta-SAML",
            "SignInWithApple"
        ]
    );
    let (code, _) = refused(
        admin
            .list_identity_providers()
            .user_pool_id(POOL)
            .max_results(61)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");

    // Delete each one made here.
    for name in [
        "Corp",
        "Facebook",
        "Google",
        "LoginWithAmazon",
        "Okta-SAML",
        "SignInWithApple",
    ] {
        admin
            .delete_identity_provider()
            .user_pool_id(POOL)
            .provider_name(name)
            .send()
            .await
            .unwrap_or_else(|e| panic!("delete {name}: {e:?}"));
    }
    let (code, _) = refused(
        admin
            .delete_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Corp")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    let left = server.pool(POOL).await;
    assert_eq!(left.identity_providers.len(), 1);
    server.stop().await;
}

/// `metadata` without its KeyDescriptor elements.
fn without_keys(metadata: &str) -> String {
    let start = metadata.find("<md:KeyDescriptor").unwrap();
    let end = metadata.rfind("</md:KeyDescriptor>").unwrap() + "</md:KeyDescriptor>".len();
    format!("{}{}", &metadata[..start], &metadata[end..])
}

/// A refused creation: the name, the type, the details, and the key the refusal names.
type Case<'a> = (&'a str, T, Vec<(&'a str, String)>, &'a str);

#[tokio::test]
async fn bad_keys_missing_keys_and_values_cognate_cannot_honour_are_refused_naming_the_key() {
    let fake = FakeOidc::start("declared-client", "declared-secret", ClientAuth::Basic).await;
    let server = start(&fake).await;
    let admin = operator_client(&server).await;
    let saml = FakeSaml::start().await;
    let oidc = [
        ("client_id", "c"),
        ("client_secret", "s"),
        ("oidc_issuer", "https://login.corp.example"),
        ("authorize_scopes", "openid"),
    ];
    let cases: Vec<Case> = vec![
        (
            "Google",
            T::Google,
            vec![
                ("client_id", "c".into()),
                ("client_secret", "s".into()),
                ("team_id", "TEAM123456".into()),
            ],
            "ProviderDetails.team_id",
        ),
        (
            "Google",
            T::Google,
            vec![("client_secret", "s".into())],
            "ProviderDetails.client_id",
        ),
        (
            "Facebook",
            T::Facebook,
            vec![("client_id", "c".into())],
            "ProviderDetails.client_secret",
        ),
        (
            "Facebook",
            T::Facebook,
            vec![
                ("client_id", "c".into()),
                ("client_secret", "s".into()),
                ("api_version", "latest".into()),
            ],
            "ProviderDetails.api_version",
        ),
        (
            "SignInWithApple",
            T::SignInWithApple,
            vec![
                ("client_id", "c".into()),
                ("team_id", "TEAM123456".into()),
                ("key_id", "KEY1234567".into()),
                ("private_key", "not a key".into()),
            ],
            "ProviderDetails.private_key",
        ),
        (
            "Corp",
            T::Oidc,
            vec![
                ("client_id", "c".into()),
                ("client_secret", "s".into()),
                ("authorize_scopes", "openid".into()),
            ],
            "ProviderDetails.oidc_issuer",
        ),
        (
            "Corp",
            T::Oidc,
            oidc.iter()
                .map(|(k, v)| (*k, v.to_string()))
                .chain([("attributes_request_method", "POST".to_string())])
                .collect(),
            "ProviderDetails.attributes_request_method",
        ),
        (
            "Corp",
            T::Oidc,
            oidc.iter()
                .map(|(k, v)| (*k, v.to_string()))
                .chain([("token_url", "http://corp.example/token".to_string())])
                .collect(),
            "ProviderDetails.token_url",
        ),
        (
            "Corp",
            T::Oidc,
            oidc.iter()
                .map(|(k, v)| (*k, v.to_string()))
                .chain([("MetadataURL", "https://x.example".to_string())])
                .collect(),
            "ProviderDetails.MetadataURL",
        ),
        // A social type under another name; COGNITO; a SAML name Cognito refuses.
        (
            "Gmail",
            T::Google,
            vec![("client_id", "c".into()), ("client_secret", "s".into())],
            "ProviderName",
        ),
        (
            "COGNITO",
            T::Oidc,
            oidc.iter().map(|(k, v)| (*k, v.to_string())).collect(),
            "ProviderName",
        ),
        (
            "Corp",
            T::Saml,
            vec![
                ("MetadataFile", saml.metadata(false)),
                ("IDPSignout", "true".into()),
            ],
            "ProviderDetails.IDPSignout",
        ),
        (
            "Corp",
            T::Saml,
            vec![
                ("MetadataFile", saml.metadata(false)),
                ("EncryptedResponses", "true".into()),
            ],
            "ProviderDetails.EncryptedResponses",
        ),
        (
            "Corp",
            T::Saml,
            vec![
                ("MetadataFile", saml.metadata(false)),
                ("IDPInit", "true".into()),
            ],
            "ProviderDetails.IDPInit",
        ),
        (
            "Corp",
            T::Saml,
            vec![("MetadataFile", "<not-metadata/>".into())],
            "ProviderDetails.MetadataFile",
        ),
        // Metadata without a signing certificate: responses could not be checked.
        (
            "Corp",
            T::Saml,
            vec![("MetadataFile", without_keys(&saml.metadata(false)))],
            "ProviderDetails.MetadataFile",
        ),
        (
            "Corp",
            T::Saml,
            vec![("IDPSignout", "false".into())],
            "ProviderDetails.MetadataFile",
        ),
    ];
    for (name, t, details, key) in cases {
        let details: Vec<(&str, &str)> = details.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (code, message) = refused(create(&admin, name, t.clone(), &details).await);
        assert_eq!(
            code, "InvalidParameterException",
            "{name} {t:?} {key}: {message}"
        );
        assert!(message.contains(key), "{key}: {message}");
    }
    // An unknown type and no ProviderDetails: Cognito's validation wording.
    let (code, message) = refused(
        admin
            .create_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Corp")
            .provider_type(T::Oidc)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("providerDetails"), "{message}");
    // A mapping onto an attribute the pool does not have.
    let (code, message) = refused(
        admin
            .create_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Corp")
            .provider_type(T::Oidc)
            .set_provider_details(Some(
                oidc.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))
            .attribute_mapping("custom:tenant", "tid")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(
        message.contains("AttributeMapping.custom:tenant"),
        "{message}"
    );
    // Nothing refused was stored; the honest request succeeds.
    assert_eq!(server.pool(POOL).await.identity_providers.len(), 1);
    create(&admin, "Corp", T::Oidc, &oidc)
        .await
        .expect("honest");

    // Cognito's quota: 300 providers in a pool (filled through the store here).
    let mut full = server.pool(POOL).await;
    let corp = full.identity_provider("Corp").unwrap().clone();
    for n in full.identity_providers.len()..299 {
        let mut more = corp.clone();
        more.name = format!("Corp{n}");
        full.identity_providers.push(more);
    }
    server.node.store.put_pool(&full).await.unwrap();
    create(&admin, "Corp299", T::Oidc, &oidc)
        .await
        .expect("the 300th");
    let (code, message) = refused(create(&admin, "Corp300", T::Oidc, &oidc).await);
    assert_eq!(code, "LimitExceededException");
    assert!(message.contains("300"), "{message}");
    assert_eq!(server.pool(POOL).await.identity_providers.len(), 300);
    server.stop().await;
}

#[tokio::test]
async fn duplicates_identifier_collisions_config_owned_and_unsigned_callers_are_refused() {
    let fake = FakeOidc::start("declared-client", "declared-secret", ClientAuth::Basic).await;
    let server = start(&fake).await;
    let admin = operator_client(&server).await;
    let oidc = [
        ("client_id", "c"),
        ("client_secret", "s"),
        ("oidc_issuer", "https://login.corp.example"),
        ("authorize_scopes", "openid"),
    ];
    create(&admin, "Corp", T::Oidc, &oidc).await.expect("Corp");
    // The same name, and the same name in another case.
    for name in ["Corp", "corp", "Declared"] {
        let (code, _) = refused(create(&admin, name, T::Oidc, &oidc).await);
        assert_eq!(code, "DuplicateProviderException", "{name}");
    }
    // An identifier another provider (here the file's) claims.
    let (code, message) = refused(
        admin
            .create_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Other")
            .provider_type(T::Oidc)
            .set_provider_details(Some(
                oidc.iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ))
            .idp_identifiers("Declared.Example")
            .send()
            .await,
    );
    assert_eq!(code, "DuplicateProviderException");
    assert!(message.contains("IdpIdentifiers[0]"), "{message}");
    let (code, message) = refused(
        admin
            .update_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Corp")
            .idp_identifiers("a.example")
            .idp_identifiers("A.example")
            .send()
            .await,
    );
    assert_eq!(code, "DuplicateProviderException");
    assert!(message.contains("IdpIdentifiers[1]"), "{message}");
    let too_many: Vec<String> = (0..51).map(|n| format!("d{n}.example")).collect();
    let (code, message) = refused(
        admin
            .update_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Corp")
            .set_idp_identifiers(Some(too_many))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("at most 50"), "{message}");
    admin
        .update_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Corp")
        .idp_identifiers("corp.example")
        .send()
        .await
        .expect("an identifier of its own");

    // `cognate apply`, even pruning, leaves the API's provider alone.
    let node = &server.node;
    cognate::config::apply::apply(
        &node.config,
        node.store.as_ref(),
        &node.master,
        true,
        cognate::core::now(),
    )
    .await
    .expect("apply");
    let applied = server.pool(POOL).await;
    let kept = applied.identity_provider("Corp").expect("kept by apply");
    assert_eq!(kept.identifiers, ["corp.example".to_string()]);
    assert!(applied.identity_provider("Declared").is_some());

    // The file's provider: readable, not changeable through the API.
    let declared = admin
        .describe_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Declared")
        .send()
        .await
        .unwrap();
    assert_eq!(
        declared.identity_provider().unwrap().provider_type(),
        Some(&T::Oidc)
    );
    let (code, message) = refused(
        admin
            .update_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Declared")
            .idp_identifiers("x.example")
            .send()
            .await,
    );
    assert_eq!(code, "NotAuthorizedException");
    assert!(message.contains("configuration file"), "{message}");
    let (code, _) = refused(
        admin
            .delete_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Declared")
            .send()
            .await,
    );
    assert_eq!(code, "NotAuthorizedException");
    assert!(server
        .pool(POOL)
        .await
        .identity_provider("Declared")
        .is_some());

    // An unsigned (non-operator) caller.
    let (code, _) = refused(create(&public_client(&server), "Other", T::Oidc, &oidc).await);
    assert_eq!(code, "UnrecognizedClientException");
    let (code, _) = refused(
        public_client(&server)
            .delete_identity_provider()
            .user_pool_id(POOL)
            .provider_name("Corp")
            .send()
            .await,
    );
    assert_eq!(code, "UnrecognizedClientException");
    assert!(server.pool(POOL).await.identity_provider("Corp").is_some());
    // No signature at all.
    let r = crate::support::http()
        .post(format!("{}/", server.base))
        .header("content-type", "application/x-amz-json-1.1")
        .header(
            "x-amz-target",
            "AWSCognitoIdentityProviderService.CreateIdentityProvider",
        )
        .body(
            json!({
                "UserPoolId": POOL,
                "ProviderName": "Sneaky",
                "ProviderType": "OIDC",
                "ProviderDetails": {"client_id": "c", "client_secret": "s",
                    "oidc_issuer": "https://login.corp.example", "authorize_scopes": "openid"},
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body["__type"], "MissingAuthenticationTokenException",
        "{body}"
    );
    assert!(server
        .pool(POOL)
        .await
        .identity_provider("Sneaky")
        .is_none());
    // An unknown pool.
    let (code, _) = refused(
        admin
            .describe_identity_provider()
            .user_pool_id("us-east-1_Nowhere01")
            .provider_name("Corp")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    server.stop().await;
}

#[tokio::test]
async fn an_oidc_provider_created_through_the_api_signs_a_user_in_through_the_hosted_ui() {
    let fake = FakeOidc::start("declared-client", "declared-secret", ClientAuth::Basic).await;
    let corp = FakeOidc::start("corp-client", "corp s3cret", ClientAuth::Basic).await;
    corp.set_user(
        "c-carol",
        json!({"email": "carol@corp.example", "email_verified": true, "name": "Carol"}),
    );
    let server = start(&fake).await;
    let admin = operator_client(&server).await;
    admin
        .create_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Corp")
        .provider_type(T::Oidc)
        .provider_details("client_id", "corp-client")
        .provider_details("client_secret", "corp s3cret")
        .provider_details("oidc_issuer", &corp.issuer)
        .provider_details("authorize_scopes", "openid email profile")
        .attribute_mapping("email", "email")
        .attribute_mapping("name", "name")
        .send()
        .await
        .expect("CreateIdentityProvider");
    // The app client takes it (an app client's own API is another helper's; the client is
    // changed in the store here).
    let mut client = server.node.store.get_client(WEB).await.unwrap().unwrap();
    client.supported_identity_providers.push("Corp".into());
    server.node.store.put_client(&client).await.unwrap();

    let rp = Rp::new(WEB, CALLBACK, VERIFIER).with_nonce("n-1");
    let redirect =
        federated::sign_in(&rp.authorize_url(&server.base, &[("identity_provider", "Corp")]))
            .await
            .expect("signed in through the API-created provider");
    let id = rp.id_token(&server.base, &redirect).await;
    assert_eq!(id["cognito:username"], "Corp_c-carol");
    assert_eq!(id["email"], "carol@corp.example");
    assert_eq!(id["name"], "Carol");
    assert_eq!(id["identities"][0]["providerType"], "OIDC");

    // Deleted through the API, it signs nobody in.
    admin
        .delete_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Corp")
        .send()
        .await
        .unwrap();
    let browser = crate::support::server::browser_client();
    let r = browser
        .get(rp.authorize_url(&server.base, &[("identity_provider", "Corp")]))
        .send()
        .await
        .unwrap();
    let sent_to = r
        .headers()
        .get("location")
        .map(|l| l.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(!sent_to.starts_with(&corp.issuer), "{sent_to}");
    server.stop().await;
}

#[tokio::test]
async fn a_saml_provider_is_created_from_a_metadata_url() {
    let fake = FakeOidc::start("declared-client", "declared-secret", ClientAuth::Basic).await;
    let saml = FakeSaml::start().await;
    let metadata = saml.metadata(true);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/metadata", listener.local_addr().unwrap());
    let app = axum::Router::new().route(
        "/metadata",
        axum::routing::get(move || {
            let metadata = metadata.clone();
            async move { metadata }
        }),
    );
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    let server = start(&fake).await;
    let admin = operator_client(&server).await;
    let out = admin
        .create_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Shibboleth")
        .provider_type(T::Saml)
        .provider_details("MetadataURL", &url)
        .provider_details("RequestSigningAlgorithm", "rsa-sha256")
        .attribute_mapping("username", "urn:oid:0.9.2342.19200300.100.1.1")
        .attribute_mapping("email", "urn:oid:0.9.2342.19200300.100.1.3")
        .send()
        .await
        .expect("SAML from a MetadataURL");
    let created = out.identity_provider().unwrap();
    assert_eq!(
        created.attribute_mapping().unwrap()["username"],
        "urn:oid:0.9.2342.19200300.100.1.1"
    );
    let d = created.provider_details().unwrap();
    assert_eq!(d["MetadataURL"], url);
    assert_eq!(d["RequestSigningAlgorithm"], "rsa-sha256");
    let stored = server.pool(POOL).await;
    let settings = stored
        .identity_provider("Shibboleth")
        .unwrap()
        .protocol
        .as_saml()
        .unwrap()
        .clone();
    assert_eq!(settings.entity_id, saml.entity_id);
    assert!(settings.sign_requests);
    assert_eq!(
        settings.user_id_attribute.as_deref(),
        Some("urn:oid:0.9.2342.19200300.100.1.1"),
        "AttributeMapping's username is the attribute holding the user id"
    );
    // Without `username`, the NameID is the user id, as Describe says.
    admin
        .update_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Shibboleth")
        .attribute_mapping("email", "urn:oid:0.9.2342.19200300.100.1.3")
        .send()
        .await
        .unwrap();
    let described = admin
        .describe_identity_provider()
        .user_pool_id(POOL)
        .provider_name("Shibboleth")
        .send()
        .await
        .unwrap();
    assert_eq!(
        described
            .identity_provider()
            .unwrap()
            .attribute_mapping()
            .unwrap()["username"],
        "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier"
    );
    // A URL that answers no metadata names the key.
    let (code, message) = refused(
        create(
            &admin,
            "Other",
            T::Saml,
            &[("MetadataURL", &url.replace("/metadata", "/nothing"))],
        )
        .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("ProviderDetails.MetadataURL"), "{message}");
    server.stop().await;
}

/// `AWSCognitoIdentityProviderService.<action>` with `body`, operator-signed: the status,
/// the error type (empty on success) and the message.
pub(crate) async fn raw(server: &TestServer, action: &str, body: &str) -> (u16, String, String) {
    use crate::aws_edge::{make_key, post, Signing};
    let key = make_key(server, None, None).await;
    let target = format!("AWSCognitoIdentityProviderService.{action}");
    let headers = Signing::new(&key, "cognito-idp").sign(
        &server.base,
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", target.as_str()),
        ],
        body.as_bytes(),
    );
    let r = post(&server.base, &headers, body.as_bytes()).await;
    let status = r.status().as_u16();
    let answer: serde_json::Value = r.json().await.unwrap_or_default();
    (
        status,
        answer["__type"].as_str().unwrap_or_default().to_string(),
        answer["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn members_of_the_wrong_type_get_cognito_validation_errors_never_a_500() {
    let fake = FakeOidc::start("declared-client", "declared-secret", ClientAuth::Basic).await;
    let server = start(&fake).await;
    let details = json!({"client_id": "c", "client_secret": "s",
        "oidc_issuer": "https://login.corp.example", "authorize_scopes": "openid"});
    let honest = json!({
        "UserPoolId": POOL, "ProviderName": "Corp", "ProviderType": "OIDC",
        "ProviderDetails": details,
    });
    let cases = [
        ("ProviderDetails", json!("client_id=c"), "ProviderDetails"),
        (
            "ProviderDetails",
            json!({"client_id": 7, "client_secret": "s"}),
            "ProviderDetails",
        ),
        (
            "AttributeMapping",
            json!({"email": ["email"]}),
            "AttributeMapping",
        ),
        ("IdpIdentifiers", json!("corp.example"), "IdpIdentifiers"),
        ("ProviderType", json!("oidc"), "providerType"),
        ("ProviderName", json!(42), "ProviderName"),
        ("ProviderName", json!(null), "providerName"),
        ("UserPoolId", json!(""), "userPoolId"),
    ];
    for (member, value, named) in cases {
        let mut body = honest.clone();
        body[member] = value;
        let (status, code, message) =
            raw(&server, "CreateIdentityProvider", &body.to_string()).await;
        assert_eq!(
            (status, code.as_str()),
            (400, "InvalidParameterException"),
            "{member}: {message}"
        );
        assert!(message.contains(named), "{member}: {message}");
    }
    let (status, code, message) = raw(
        &server,
        "ListIdentityProviders",
        &json!({"UserPoolId": POOL, "NextToken": "forged"}).to_string(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "InvalidParameterException"));
    assert!(message.contains("NextToken"), "{message}");
    assert!(server.pool(POOL).await.identity_provider("Corp").is_none());
    let (status, code, message) = raw(&server, "CreateIdentityProvider", &honest.to_string()).await;
    assert_eq!((status, code.as_str()), (200, ""), "{message}");
    assert!(server.pool(POOL).await.identity_provider("Corp").is_some());
    server.stop().await;
}

#[tokio::test]
async fn providers_created_at_once_are_all_kept() {
    let fake = FakeOidc::start("declared-client", "declared-secret", ClientAuth::Basic).await;
    let server = start(&fake).await;
    let admin = operator_client(&server).await;
    let calls = (0..10).map(|n| {
        let admin = admin.clone();
        async move {
            admin
                .create_identity_provider()
                .user_pool_id(POOL)
                .provider_name(format!("Corp{n}"))
                .provider_type(T::Oidc)
                .provider_details("client_id", "c")
                .provider_details("client_secret", "s")
                .provider_details("oidc_issuer", "https://login.corp.example")
                .provider_details("authorize_scopes", "openid")
                .send()
                .await
        }
    });
    for result in futures::future::join_all(calls).await {
        result.expect("created");
    }
    let pool = server.pool(POOL).await;
    for n in 0..10 {
        assert!(
            pool.identity_provider(&format!("Corp{n}")).is_some(),
            "Corp{n} was lost"
        );
    }
    server.stop().await;
}
