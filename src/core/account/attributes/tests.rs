//! The attribute-verification flow over a real (SQLite) store, with an explicit `now`:
//! expiry, single use, wrong codes, the pending email, and the client's write rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;
use crate::core::directory::{Directory, InitialState, NewUser};
use crate::core::mail::{DevMailer, MailRouter};
use crate::core::model::{
    AliasAttribute, Branding, OAuthFlow, Origin, PasswordPolicy, RefreshRotation, TokenValidity,
};
use crate::core::password::Passwords;
use crate::core::secrets::SecretString;
use crate::core::storage::Store;
use crate::store::sqlite::SqliteStore;

const POOL: &str = "us-east-1_AttrTest1";
const NOW: UnixTime = 1_800_000_000;
const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));

fn pool() -> UserPool {
    UserPool {
        id: POOL.into(),
        name: "attributes".into(),
        origin: Origin::Api,
        username_case_sensitive: false,
        username_attributes: Vec::new(),
        alias_attributes: vec![AliasAttribute::Email],
        auto_verified_attributes: vec![AliasAttribute::Email],
        required_attributes: Vec::new(),
        custom_attributes: Vec::new(),
        password_policy: PasswordPolicy::default(),
        admin_create_user_only: false,
        mfa: Default::default(),
        userinfo_string_values: false,
        link_federated_users_by_email: false,
        deletion_protection: false,
        tags: Default::default(),
        code_limits: Default::default(),
        threat_protection: Default::default(),
        triggers: Default::default(),
        identity_providers: Vec::new(),
        saml_sp_entity_id: None,
        created_at: 1,
        updated_at: 1,
        version: 0,
        factors: Default::default(),
    }
}

fn client(write_attributes: &[&str]) -> AppClient {
    AppClient {
        id: "attrclient1".into(),
        pool_id: POOL.into(),
        name: "web".into(),
        origin: Origin::Api,
        secret: None,
        callback_urls: vec!["https://app.example.com/cb".into()],
        logout_urls: Vec::new(),
        allowed_oauth_flows: vec![OAuthFlow::Code],
        allowed_oauth_scopes: vec!["openid".into()],
        supported_identity_providers: vec!["COGNITO".into()],
        token_validity: TokenValidity::default(),
        refresh_rotation: RefreshRotation::default(),
        require_pkce: true,
        read_attributes: Vec::new(),
        write_attributes: write_attributes.iter().map(|s| s.to_string()).collect(),
        allowed_cors_origins: Vec::new(),
        branding: Branding::default(),
        explicit_auth_flows: crate::core::model::default_auth_flows(),
        prevent_user_existence_errors: Default::default(),
        created_at: 1,
        updated_at: 1,
    }
}

/// The service over a fresh store, with one user `alice` whose email is verified.
async fn service() -> (tempfile::TempDir, AccountService, User) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("attributes.db"))
        .await
        .unwrap();
    let store: Arc<dyn Store> = Arc::new(store);
    store.put_pool(&pool()).await.unwrap();
    let directory = Directory::new(store, Passwords::standard().unwrap());
    let accounts = AccountService::new(
        directory.clone(),
        MailRouter::new(Arc::new(DevMailer::default())),
    );
    let attributes = [("email", "alice@old.test"), ("email_verified", "true")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let user = directory
        .create_user(
            &pool(),
            NewUser {
                username: "alice".into(),
                attributes,
                password: Some(SecretString::new("Corr3ct-horse-1")),
                state: InitialState::Confirmed,
            },
            NOW,
        )
        .await
        .unwrap();
    (dir, accounts, user)
}

fn change(name: &str, value: &str) -> BTreeMap<String, String> {
    [(name.to_string(), value.to_string())]
        .into_iter()
        .collect()
}

/// Requests the email change, then replaces the mailed code (which the development
/// mailer only logs) with a known one for the same address, as a resend would.
async fn pending_change(accounts: &AccountService, user: &User, to: &str, now: UnixTime) {
    let update = accounts
        .update_own_attributes(
            &pool(),
            &client(&[]),
            &user.sub,
            &change("email", to),
            "en",
            HERE,
            now,
        )
        .await
        .unwrap();
    assert_eq!(update.deliveries.len(), 1);
    assert_eq!(update.user.attribute("email"), Some("alice@old.test"));
    assert_eq!(
        update
            .user
            .pending_attributes
            .get("email")
            .map(String::as_str),
        Some(to)
    );
    let id = code_id(&pool(), &user.sub);
    accounts
        .issue_code(ATTRIBUTE_CODE_KIND, &id, "123456", Some(to), 24 * 3600, now)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_verified_email_changes_only_with_its_code_before_it_expires() {
    let (_dir, accounts, user) = service().await;
    pending_change(&accounts, &user, "alice@new.test", NOW).await;
    let pool = pool();
    let context = crate::core::threat::EventContext::default();
    let verify = |code: &'static str, now: UnixTime| {
        accounts.verify_attribute(&pool, &user.sub, "email", code, HERE, &context, now)
    };
    // A wrong code changes nothing and leaves the right one usable.
    assert!(matches!(
        verify("654321", NOW + 10).await,
        Err(AccountError::CodeMismatch)
    ));
    // Expired after Cognito's 24 hours.
    assert!(matches!(
        verify("123456", NOW + 24 * 3600 + 1).await,
        Err(AccountError::ExpiredCode)
    ));
    // Before then, the code applies the pending address, verified.
    let user = verify("123456", NOW + 20).await.unwrap();
    assert_eq!(user.attribute("email"), Some("alice@new.test"));
    assert_eq!(user.attribute("email_verified"), Some("true"));
    assert!(user.pending_attributes.is_empty());
    assert_eq!(user.lookup.email.as_deref(), Some("alice@new.test"));
    // Single use.
    assert!(matches!(
        verify("123456", NOW + 30).await,
        Err(AccountError::ExpiredCode)
    ));
}

#[tokio::test]
async fn a_code_for_an_address_given_up_verifies_nothing() {
    let (_dir, accounts, user) = service().await;
    pending_change(&accounts, &user, "alice@new.test", NOW).await;
    // Back to the current address: the pending change goes, and its code with it.
    let update = accounts
        .update_own_attributes(
            &pool(),
            &client(&[]),
            &user.sub,
            &change("email", "alice@old.test"),
            "en",
            HERE,
            NOW + 5,
        )
        .await
        .unwrap();
    assert!(update.deliveries.is_empty());
    assert!(update.user.pending_attributes.is_empty());
    let err = accounts
        .verify_attribute(
            &pool(),
            &user.sub,
            "email",
            "123456",
            HERE,
            &Default::default(),
            NOW + 10,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::ExpiredCode), "{err:?}");
    let stored = accounts
        .store()
        .get_user(POOL, &UserRef::Sub(user.sub.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.attribute("email"), Some("alice@old.test"));
}

#[tokio::test]
async fn the_client_and_the_flags_bound_what_a_user_writes() {
    let (_dir, accounts, user) = service().await;
    let update = |client: AppClient, name: &'static str, value: &'static str| {
        let accounts = accounts.clone();
        let sub = user.sub.clone();
        async move {
            accounts
                .update_own_attributes(
                    &pool(),
                    &client,
                    &sub,
                    &change(name, value),
                    "en",
                    HERE,
                    NOW,
                )
                .await
        }
    };
    assert!(matches!(
        update(client(&["email"]), "name", "Alice").await,
        Err(AccountError::NotAuthorized(m)) if m == UNAUTHORIZED_ATTRIBUTE
    ));
    update(client(&["name"]), "name", "Alice").await.unwrap();
    for flag in ["email_verified", "phone_number_verified", "sub"] {
        let err = update(client(&[]), flag, "true").await.unwrap_err();
        assert!(
            matches!(&err, AccountError::InvalidParameter { field, .. } if field == flag),
            "{err:?}"
        );
    }
    // Phone numbers: an unverified one changes at once, unverified.
    let user = update(client(&[]), "phone_number", "+15555550100")
        .await
        .unwrap()
        .user;
    assert_eq!(user.attribute("phone_number_verified"), Some("false"));
    let err = accounts
        .send_attribute_code(&pool(), &user.sub, "phone_number", "en", HERE, NOW)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("SMS"), "{err}");
}
