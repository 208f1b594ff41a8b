//! Applying `[[pools.identity_providers]]`: resolved records on the pool, credentials
//! sealed under the master key, idempotence, pruning and API-owned providers.

use std::sync::Arc;

use crate::config::apply::{apply, Action, ApplyError, ApplyReport, Kind};
use crate::config::check::check_str;
use crate::config::{Config, PoolDecl};
use crate::core::model::Origin;
use crate::core::model::{ProviderType, ResponseMode};
use crate::core::secrets::SecretString;
use crate::core::secrets::{idp_secret_context, EncryptedSecret, MasterKey};
use crate::federation::oauth::apple::AppleClientSecret;
use crate::store::sqlite::SqliteStore;
use crate::store::Store;

const POOL: &str = "us-east-1_Fed123456";

const FILE: &str = r#"
[[pools]]
id = "us-east-1_Fed123456"
name = "federated"

[[pools.identity_providers]]
name = "Google"
preset = "google"
client_id = "1234.apps.googleusercontent.com"
client_secret_env = "GOOGLE_SECRET"

[[pools.identity_providers]]
name = "SignInWithApple"
preset = "apple"
client_id = "com.example.web"
team_id = "ABCDE12345"
key_id = "ABC123DEFG"
private_key_env = "APPLE_KEY"

[[pools.identity_providers]]
name = "Corp"
preset = "oidc"
client_id = "corp-client"
client_secret_env = "CORP_SECRET"
issuer = "http://127.0.0.1:4000"
identifiers = ["corp.example"]

[[pools.clients]]
id = "fedclient1"
name = "web"
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]
supported_identity_providers = ["COGNITO", "Google", "SignInWithApple", "Corp"]
"#;

async fn store() -> (tempfile::TempDir, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("cognate.db"))
        .await
        .unwrap();
    (dir, Arc::new(store))
}

/// The file with its secrets as `Config::load` reads them from the environment.
fn config(text: &str, google_secret: &str, apple_pem: &str) -> Config {
    let mut config = check_str(text, "cognate.toml").unwrap_or_else(|d| panic!("{d:#?}"));
    for idp in &mut config.pools[0].identity_providers {
        match idp.name.as_str() {
            "Google" => idp.client_secret = Some(SecretString::new(google_secret)),
            "SignInWithApple" => idp.private_key = Some(SecretString::new(apple_pem)),
            _ => idp.client_secret = Some(SecretString::new("corp-secret")),
        }
    }
    config
}

/// Applies [`FILE`] with this Google secret and Apple key; the report.
async fn apply_file(
    store: &Arc<SqliteStore>,
    master: &MasterKey,
    google_secret: &str,
    apple_pem: &str,
    prune: bool,
    now: i64,
) -> ApplyReport {
    apply(
        &config(FILE, google_secret, apple_pem),
        store.as_ref(),
        master,
        prune,
        now,
    )
    .await
    .unwrap()
}

fn idp_items(report: &ApplyReport) -> Vec<(String, Action)> {
    report
        .items
        .iter()
        .filter(|i| i.kind == Kind::IdentityProvider)
        .map(|i| (i.id.clone(), i.action))
        .collect()
}

fn open(master: &MasterKey, name: &str, sealed: &EncryptedSecret) -> String {
    master
        .open_string(&idp_secret_context(POOL, name), sealed)
        .unwrap()
        .expose()
        .to_string()
}

#[tokio::test]
async fn providers_are_stored_resolved_with_sealed_credentials() {
    let (_dir, store) = store().await;
    let (master, _) = MasterKey::generate();
    let (pem, _) = crate::federation::oauth::apple::tests::p8();
    let file = config(FILE, "google-secret", &pem);

    let report = apply(&file, store.as_ref(), &master, false, 1000)
        .await
        .unwrap();
    assert_eq!(
        idp_items(&report),
        [
            ("Google".to_string(), Action::Created),
            ("SignInWithApple".to_string(), Action::Created),
            ("Corp".to_string(), Action::Created),
        ]
    );
    assert!(report
        .to_string()
        .contains("  identity provider Google: created"));
    let pool = store.get_pool(POOL).await.unwrap().unwrap();
    assert_eq!(pool.identity_providers.len(), 3);

    let google = pool.identity_provider("Google").unwrap();
    assert_eq!(google.provider_type, ProviderType::Google);
    assert_eq!(google.origin, Origin::Config);
    assert_eq!(
        google
            .protocol
            .as_oidc()
            .unwrap()
            .endpoints
            .token
            .as_deref(),
        Some("https://oauth2.googleapis.com/token")
    );
    assert_eq!(
        open(&master, "Google", google.protocol.client_secret().unwrap()),
        "google-secret"
    );
    // Sealed to this pool and provider: another provider's context cannot open it.
    assert!(master
        .open(
            &idp_secret_context(POOL, "Corp"),
            google.protocol.client_secret().unwrap()
        )
        .is_err());
    let stored_json = serde_json::to_string(&pool).unwrap();
    assert!(!stored_json.contains("google-secret"));
    assert!(!stored_json.contains("PRIVATE KEY"));

    let apple = pool.identity_provider("SignInWithApple").unwrap();
    assert!(apple.protocol.client_secret().is_none());
    assert_eq!(
        apple.protocol.as_oidc().unwrap().response_mode,
        ResponseMode::FormPost
    );
    let key = apple.protocol.apple_key().unwrap();
    assert_eq!(
        (key.team_id.as_str(), key.key_id.as_str()),
        ("ABCDE12345", "ABC123DEFG")
    );
    // The runtime can mint Apple's client secret from the stored record alone.
    let opened = open(&master, "SignInWithApple", &key.private_key);
    assert_eq!(opened, pem);
    AppleClientSecret::new(&opened, &key.team_id, &key.key_id, &apple.client_id)
        .unwrap()
        .get(1000)
        .unwrap();

    let corp = pool.identity_provider("Corp").unwrap();
    assert_eq!(corp.protocol.issuer(), Some("http://127.0.0.1:4000"));
    assert_eq!(corp.identifiers, ["corp.example"]);

    let client = store.get_client("fedclient1").await.unwrap().unwrap();
    assert_eq!(
        client.supported_identity_providers,
        ["COGNITO", "Google", "SignInWithApple", "Corp"]
    );
}

#[tokio::test]
async fn applying_twice_changes_nothing_and_secrets_change_in_place() {
    let (_dir, store) = store().await;
    let (master, _) = MasterKey::generate();
    let (pem, _) = crate::federation::oauth::apple::tests::p8();
    apply_file(&store, &master, "one", &pem, false, 1000).await;
    let first = store.get_pool(POOL).await.unwrap().unwrap();

    let again = apply_file(&store, &master, "one", &pem, false, 2000).await;
    assert!(!again.changed(), "{again}");
    assert_eq!(store.get_pool(POOL).await.unwrap().unwrap(), first);

    // Applied without the environment (the stored credentials are kept).
    let bare = check_str(FILE, "cognate.toml").unwrap();
    let report = apply(&bare, store.as_ref(), &master, false, 2500)
        .await
        .unwrap();
    assert!(!report.changed(), "{report}");

    // A new Google secret: only Google (and so the pool) is updated.
    let report = apply_file(&store, &master, "two", &pem, false, 3000).await;
    assert_eq!(
        idp_items(&report),
        [
            ("Google".to_string(), Action::Updated),
            ("SignInWithApple".to_string(), Action::Unchanged),
            ("Corp".to_string(), Action::Unchanged),
        ]
    );
    assert_eq!(report.count(Action::Updated), 2, "{report}");
    let pool = store.get_pool(POOL).await.unwrap().unwrap();
    let google = pool.identity_provider("Google").unwrap();
    assert_eq!(
        open(&master, "Google", google.protocol.client_secret().unwrap()),
        "two"
    );
    assert_eq!((google.created_at, google.updated_at), (1000, 3000));
    assert_eq!(pool.identity_provider("Corp").unwrap().updated_at, 1000);

    // An override changes the record too.
    let text = FILE.replace(
        "identifiers = [\"corp.example\"]",
        "identifiers = [\"corp.example\"]\npkce = false",
    );
    let report = apply(
        &config(&text, "two", &pem),
        store.as_ref(),
        &master,
        false,
        4000,
    )
    .await
    .unwrap();
    assert!(idp_items(&report).contains(&("Corp".to_string(), Action::Updated)));
    let pool = store.get_pool(POOL).await.unwrap().unwrap();
    assert!(
        !pool
            .identity_provider("Corp")
            .unwrap()
            .protocol
            .as_oidc()
            .unwrap()
            .pkce
    );
}

#[tokio::test]
async fn a_provider_without_its_credential_is_refused_before_anything_is_written() {
    let (_dir, store) = store().await;
    let (master, _) = MasterKey::generate();
    let bare = check_str(FILE, "cognate.toml").unwrap();
    let err = apply(&bare, store.as_ref(), &master, false, 1000)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ApplyError::MissingIdpCredential { name, var, .. }
            if name == "Google" && var == "GOOGLE_SECRET"),
        "{err}"
    );
    assert!(store.get_pool(POOL).await.unwrap().is_none());

    let (pem, _) = crate::federation::oauth::apple::tests::p8();
    let mut file = config(FILE, "s", &pem);
    file.pools[0].identity_providers[1].private_key = None;
    let err = apply(&file, store.as_ref(), &master, false, 1000)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("APPLE_KEY"), "{err}");
    assert!(store.get_pool(POOL).await.unwrap().is_none());
}

#[tokio::test]
async fn undeclared_providers_are_kept_until_pruned_and_api_ones_are_never_touched() {
    let (_dir, store) = store().await;
    let (master, _) = MasterKey::generate();
    let (pem, _) = crate::federation::oauth::apple::tests::p8();
    apply_file(&store, &master, "s", &pem, false, 1000).await;

    // A provider added through the API (later: CreateIdentityProvider).
    let mut pool = store.get_pool(POOL).await.unwrap().unwrap();
    let mut partner = pool.identity_provider("Corp").unwrap().clone();
    partner.name = "Partner".into();
    partner.origin = Origin::Api;
    pool.identity_providers.push(partner);
    store.put_pool(&pool).await.unwrap();

    // Corp leaves the file: kept and reported, then deleted with --prune.
    let start = FILE
        .find("[[pools.identity_providers]]\nname = \"Corp\"")
        .unwrap();
    let end = FILE.find("[[pools.clients]]").unwrap();
    let smaller = FILE[..start].to_string() + &FILE[end..].replace(", \"Corp\"]", "]");
    let report = apply(
        &config(&smaller, "s", &pem),
        store.as_ref(),
        &master,
        false,
        2000,
    )
    .await
    .unwrap();
    assert!(idp_items(&report).contains(&("Corp".to_string(), Action::Kept)));
    assert!(!idp_items(&report).iter().any(|(n, _)| n == "Partner"));
    let kept = store.get_pool(POOL).await.unwrap().unwrap();
    assert!(kept.identity_provider("Corp").is_some());
    assert!(kept.identity_provider("Partner").is_some());

    let report = apply(
        &config(&smaller, "s", &pem),
        store.as_ref(),
        &master,
        true,
        3000,
    )
    .await
    .unwrap();
    assert!(idp_items(&report).contains(&("Corp".to_string(), Action::Deleted)));
    let pruned = store.get_pool(POOL).await.unwrap().unwrap();
    let names: Vec<&str> = pruned
        .identity_providers
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["Google", "SignInWithApple", "Partner"]);

    // Declaring the API's provider in the file is refused, and nothing is written.
    let text = FILE
        .replace("name = \"Corp\"", "name = \"Partner\"")
        .replace(
            "\"SignInWithApple\", \"Corp\"]",
            "\"SignInWithApple\", \"Partner\"]",
        );
    let err = apply(
        &config(&text, "s", &pem),
        store.as_ref(),
        &master,
        true,
        4000,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ApplyError::ApiOwned { kind: Kind::IdentityProvider, id } if id.starts_with("Partner")),
        "{err}"
    );
    assert_eq!(store.get_pool(POOL).await.unwrap().unwrap(), pruned);

    // Pools written by other means (the demo pool, the CLI) keep their providers.
    let decl = PoolDecl {
        name: "federated".into(),
        ..PoolDecl::default()
    };
    let record = decl.to_record(POOL, 5000, Some(&pruned));
    assert_eq!(record.identity_providers, pruned.identity_providers);
}

/// A pool with one SAML provider declared from metadata beside the file.
const SAML_FILE: &str = r#"
[[pools]]
id = "us-east-1_Fed123456"
name = "federated"

[[pools.identity_providers]]
name = "Okta"
preset = "saml"
metadata_file = "idp.xml"
identifiers = ["corp.example"]
group_mapping = { "Engineering" = "staff" }
"#;

#[tokio::test]
async fn a_saml_provider_is_stored_from_its_metadata_and_reapplying_is_a_no_op() {
    let (dir, store) = store().await;
    let (master, _) = MasterKey::generate();
    let okta = include_str!("../../../../tests/fixtures/saml/okta.xml");
    let google = include_str!("../../../../tests/fixtures/saml/google.xml");
    let config_path = dir.path().join("cognate.toml");
    std::fs::write(&config_path, SAML_FILE).unwrap();
    std::fs::write(dir.path().join("idp.xml"), okta).unwrap();
    // Loaded as the server loads it, with no environment: a SAML provider has no secret.
    let load = || Config::load_with_env(Some(&config_path), &|_| None).unwrap();

    let report = apply(&load(), store.as_ref(), &master, false, 1000)
        .await
        .unwrap();
    assert_eq!(idp_items(&report), [("Okta".to_string(), Action::Created)]);
    let first = store.get_pool(POOL).await.unwrap().unwrap();
    let stored = first.identity_provider("Okta").unwrap();
    assert_eq!(stored.provider_type, ProviderType::Saml);
    assert_eq!(stored.origin, Origin::Config);
    assert_eq!(stored.client_id, "");
    let saml = stored.protocol.as_saml().unwrap();
    assert_eq!(saml.entity_id, "http://www.okta.com/exk1a2b3c4d5E6f7g8h9");
    assert_eq!(saml.signing_certificates.len(), 1);
    assert_eq!(saml.group_mapping["Engineering"], "staff");
    assert!(stored.protocol.client_secret().is_none());

    // Unchanged file and metadata: nothing is written.
    let again = apply(&load(), store.as_ref(), &master, false, 2000)
        .await
        .unwrap();
    assert!(!again.changed(), "{again}");
    assert_eq!(store.get_pool(POOL).await.unwrap().unwrap(), first);

    // New metadata (the IdP moved): the provider is updated in place.
    std::fs::write(dir.path().join("idp.xml"), google).unwrap();
    let report = apply(&load(), store.as_ref(), &master, false, 3000)
        .await
        .unwrap();
    assert_eq!(idp_items(&report), [("Okta".to_string(), Action::Updated)]);
    let pool = store.get_pool(POOL).await.unwrap().unwrap();
    let updated = pool.identity_provider("Okta").unwrap();
    assert_eq!((updated.created_at, updated.updated_at), (1000, 3000));
    let saml = updated.protocol.as_saml().unwrap();
    assert_eq!(
        saml.entity_id,
        "https://accounts.google.com/o/saml2?idpid=C01abcd2e"
    );
    assert_eq!(saml.sso_post_url, None);
}
