//! Password sign-in as a core operation ([`cognate::core::signin`]), called as the AWS
//! API's InitiateAuth will call it: no HTTP, the client address and the time passed in.

use std::collections::BTreeMap;
use std::net::IpAddr;

use cognate::config::Config;
use cognate::core::directory::{InitialState, NewUser};
use cognate::core::model::{AppClient, UserPool};
use cognate::core::secrets::SecretString;
use cognate::core::signin::{PasswordSignIn, SignIn, SignInError, SignInOutcome};
use cognate::core::throttle::{account_login_key, Throttle, Verdict, ACCOUNT_LOCK_FAILURES};
use cognate::server::Node;

const PASSWORD: &str = "Corr3ct-horse";
const NOW: i64 = 1_800_000_000;

struct Env {
    _dir: tempfile::TempDir,
    node: Node,
    pool: UserPool,
    client: AppClient,
    signin: SignIn,
}

async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.server.data_dir = dir.path().join("data");
    let node = Node::open(config).await.unwrap();
    let demo = node
        .bootstrap(false)
        .await
        .unwrap()
        .demo
        .expect("demo pool");
    let pool = node.store.get_pool(&demo.pool_id).await.unwrap().unwrap();
    let client = node
        .store
        .get_client(&demo.client_id)
        .await
        .unwrap()
        .unwrap();
    let signin = SignIn::new(node.directory.clone(), Throttle::new(node.store.clone()));
    Env {
        _dir: dir,
        node,
        pool,
        client,
        signin,
    }
}

impl Env {
    async fn user(&self, email: &str, state: InitialState) {
        self.node
            .directory
            .create_user(
                &self.pool,
                NewUser {
                    username: email.into(),
                    attributes: BTreeMap::new(),
                    password: Some(SecretString::new(PASSWORD)),
                    state,
                },
                NOW,
            )
            .await
            .unwrap();
    }

    async fn sign_in(
        &self,
        client: &AppClient,
        login: &str,
        password: &str,
    ) -> Result<SignInOutcome, SignInError> {
        self.signin
            .password(PasswordSignIn {
                pool: &self.pool,
                client,
                login,
                password: &SecretString::new(password),
                address: IpAddr::from([198, 51, 100, 7]),
                now: NOW,
                validation_data: Default::default(),
                context: None,
            })
            .await
    }
}

#[tokio::test]
async fn the_outcome_follows_the_password_and_the_users_status() {
    let e = env().await;
    e.user("ann@example.com", InitialState::Confirmed).await;
    e.user("ivy@example.com", InitialState::ForceChangePassword)
        .await;
    e.user("una@example.com", InitialState::Unconfirmed).await;

    let signed = e.sign_in(&e.client, "Ann@Example.com", PASSWORD).await;
    assert!(
        matches!(&signed, Ok(SignInOutcome::SignedIn(u)) if u.attribute("email") == Some("ann@example.com")),
        "{signed:?}"
    );
    let forced = e.sign_in(&e.client, "ivy@example.com", PASSWORD).await;
    assert!(
        matches!(forced, Ok(SignInOutcome::NewPasswordRequired(_))),
        "{forced:?}"
    );
    for (login, password) in [
        ("ann@example.com", "Wr0ng-password"),
        ("nobody@example.com", PASSWORD),
        ("", PASSWORD),
    ] {
        let refused = e.sign_in(&e.client, login, password).await;
        assert!(
            matches!(refused, Err(SignInError::NotAuthorized)),
            "{login}: {refused:?}"
        );
    }
    let unconfirmed = e.sign_in(&e.client, "una@example.com", PASSWORD).await;
    assert!(
        matches!(unconfirmed, Err(SignInError::UserNotConfirmed)),
        "{unconfirmed:?}"
    );

    // A client that signs in only through identity providers takes no password.
    let mut idp_only = e.client.clone();
    idp_only.supported_identity_providers = vec!["Corporate".into()];
    let refused = e.sign_in(&idp_only, "ann@example.com", PASSWORD).await;
    assert!(
        matches!(refused, Err(SignInError::PasswordsNotTaken)),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_locked_account_is_refused_even_with_the_right_password() {
    let e = env().await;
    e.user("lou@example.com", InitialState::Confirmed).await;
    let throttle = Throttle::new(e.node.store.clone());
    // Counted per account, whichever identifier is typed.
    let lou = e
        .node
        .directory
        .find_user(&e.pool, "lou@example.com")
        .await
        .unwrap();
    let key = account_login_key(&e.pool, "lou@example.com", lou.as_ref());
    for i in 0..ACCOUNT_LOCK_FAILURES {
        let from = IpAddr::from([10, 0, 0, u8::try_from(i).unwrap()]);
        let reserved = throttle.reserve(&e.pool.id, &key, from, NOW).await.unwrap();
        assert!(matches!(reserved, Verdict::Allow { .. }), "{i}");
    }
    let locked = e.sign_in(&e.client, "lou@example.com", PASSWORD).await;
    assert!(
        matches!(locked, Err(SignInError::Locked { until }) if until > NOW),
        "{locked:?}"
    );
    throttle.unlock(&e.pool.id, &key).await.unwrap();
    let signed = e.sign_in(&e.client, "lou@example.com", PASSWORD).await;
    assert!(
        matches!(signed, Ok(SignInOutcome::SignedIn(_))),
        "{signed:?}"
    );
}
