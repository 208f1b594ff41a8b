//! Unit tests of [`super`]: the session's expiry and single use, with an explicit `now`,
//! and the flow checks.

use std::sync::Arc;

use super::session::{AuthSession, Sessions, SESSION_SECS};
use super::*;
use crate::core::model::AuthFlow;
use crate::store::sqlite::SqliteStore;

async fn sessions() -> (tempfile::TempDir, Sessions) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("cognate.db"))
        .await
        .unwrap();
    (dir, Sessions::new(Arc::new(store)))
}

fn session() -> AuthSession {
    AuthSession {
        pool_id: "us-east-1_Pool".into(),
        client_id: "client".into(),
        sub: "sub-1".into(),
        username: "alice".into(),
        login: "alice@example.com".into(),
        challenge: ChallengeName::SoftwareTokenMfa,
        amr: vec!["pwd".into()],
        auth_time: 1_000,
        expires_at: 0,
        totp_enrolment: None,
        enrolled: false,
        enrolling_email: false,
        sign_in_code: false,
        passkey_ceremony: None,
        custom: None,
        risk_factors: Vec::new(),
    }
}

#[tokio::test]
async fn a_session_lives_three_minutes() {
    let (_dir, sessions) = sessions().await;
    let now = 1_000;
    let id = sessions.open(session(), now).await.unwrap();
    let opened = sessions.read(&id, now + SESSION_SECS - 1).await.unwrap();
    assert_eq!(opened.session.expires_at, now + SESSION_SECS);
    assert!(opened.session.names("alice") && opened.session.names("alice@example.com"));
    assert!(!opened.session.names("bob"));
    assert!(matches!(
        sessions.read(&id, now + SESSION_SECS).await,
        Err(ChallengeError::SessionExpired)
    ));
}

#[tokio::test]
async fn a_session_is_taken_once_and_bound_to_its_client() {
    let (_dir, sessions) = sessions().await;
    let now = 1_000;
    let id = sessions.open(session(), now).await.unwrap();
    assert!(matches!(
        sessions.read_for(&id, "us-east-1_Pool", "other", now).await,
        Err(ChallengeError::SessionExpired)
    ));
    let first = sessions
        .read_for(&id, "us-east-1_Pool", "client", now)
        .await
        .unwrap();
    let second = sessions.read(&id, now).await.unwrap();
    sessions.take(&first, now).await.unwrap();
    // Two answers read it at once: the second take finds nothing.
    assert!(matches!(
        sessions.take(&second, now).await,
        Err(ChallengeError::SessionExpired)
    ));
    assert!(matches!(
        sessions.read(&id, now).await,
        Err(ChallengeError::SessionExpired)
    ));
    assert!(matches!(
        sessions.read("not-a-session", now).await,
        Err(ChallengeError::SessionExpired)
    ));
}

fn client(flows: Vec<AuthFlow>) -> AppClient {
    let mut client: AppClient = serde_json::from_value(serde_json::json!({
        "id": "client", "pool_id": "us-east-1_Pool", "name": "c",
        "supported_identity_providers": ["COGNITO"],
        "created_at": 0, "updated_at": 0
    }))
    .unwrap_or_else(|e| panic!("a minimal client: {e}"));
    client.explicit_auth_flows = flows;
    client
}

#[test]
fn flows_are_checked_against_the_client() {
    let c = client(vec![AuthFlow::AllowUserSrpAuth, AuthFlow::AllowCustomAuth]);
    assert!(check_flow(&c, RequestedFlow::UserSrp).is_ok());
    let e = check_flow(&c, RequestedFlow::UserPassword).unwrap_err();
    assert_eq!(
        e.to_string(),
        "USER_PASSWORD_AUTH flow not enabled for this client"
    );
    // The client allows CUSTOM_AUTH; the pool's triggers are checked at the start.
    assert!(check_flow(&c, RequestedFlow::Custom).is_ok());
    let c = client(vec![AuthFlow::AllowUserSrpAuth]);
    let e = check_flow(&c, RequestedFlow::Custom).unwrap_err();
    assert_eq!(
        e.to_string(),
        "CUSTOM_AUTH flow not enabled for this client"
    );
    assert!(check_flow(&c, RequestedFlow::RefreshToken).is_err());
    assert_eq!(
        RequestedFlow::parse("ADMIN_NO_SRP_AUTH", true),
        Some(RequestedFlow::AdminUserPassword)
    );
    assert_eq!(
        RequestedFlow::parse("ADMIN_USER_PASSWORD_AUTH", false),
        None
    );
    assert_eq!(RequestedFlow::parse("USER_PASSWORD_AUTH", true), None);
}

#[test]
fn legacy_clients_name_unknown_users() {
    let mut c = client(vec![]);
    assert!(matches!(
        existence_error(&c, SignInError::NotAuthorized, false),
        ChallengeError::SignIn(SignInError::NotAuthorized)
    ));
    c.prevent_user_existence_errors = UserExistenceErrors::Legacy;
    assert!(matches!(
        existence_error(&c, SignInError::NotAuthorized, false),
        ChallengeError::UserNotFound
    ));
    assert!(matches!(
        existence_error(&c, SignInError::NotAuthorized, true),
        ChallengeError::SignIn(SignInError::NotAuthorized)
    ));
}
