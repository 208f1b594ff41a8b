//! Forgotten passwords (answered alike for known and unknown users), the reset with the
//! mailed code, and the forced change of a new-password-required user.

use std::collections::BTreeMap;

use cognate::core::account::AccountError;
use cognate::core::directory::{DirectoryError, InitialState, NewUser};
use cognate::core::model::{AliasAttribute, UserStatus};
use cognate::core::secrets::SecretString;

use super::{code_of, env, pair_tries, wrong, ADDRESS, NEW_PASSWORD, OTHER, PASSWORD};

#[tokio::test]
async fn forgot_password_answers_alike_for_known_and_unknown_users() {
    let e = env().await;
    e.confirmed("carol@example.com").await;

    let unknown = e
        .accounts
        .forgot_password(&e.pool, "dave@example.com", "en", ADDRESS, e.now)
        .await
        .unwrap();
    let known = e
        .accounts
        .forgot_password(&e.pool, "carol@example.com", "en", ADDRESS, e.now)
        .await
        .unwrap();
    assert_eq!(known.destination, "c***@e***.com");
    assert_eq!(unknown.destination, "d***@e***.com");
    assert_eq!(
        (known.medium, known.attribute_name),
        (unknown.medium, unknown.attribute_name)
    );
    // Only carol got mail (the unknown request came first and sent nothing).
    let mail = e.next_mail().await;
    assert_eq!(mail.to, "carol@example.com");
    assert_eq!(mail.subject, "Your password reset code");

    // Guessing for the unknown user goes exactly like guessing for a real one.
    for _ in 0..pair_tries() {
        let err = e
            .accounts
            .confirm_forgot_password(
                &e.pool,
                "dave@example.com",
                "123456",
                &SecretString::new(NEW_PASSWORD),
                ADDRESS,
                e.now,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, AccountError::CodeMismatch), "{err}");
    }
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "dave@example.com",
            "123456",
            &SecretString::new(NEW_PASSWORD),
            ADDRESS,
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::LimitExceeded), "{err}");

    // In a pool with usernames, an unknown username gets a stable made-up destination.
    let mut named = e.pool.clone();
    named.id = "us-east-1_Named1234".to_string();
    named.username_attributes = vec![];
    named.alias_attributes = vec![AliasAttribute::Email];
    e.node.store.put_pool(&named).await.unwrap();
    let first = e
        .accounts
        .forgot_password(&named, "nobody", "en", ADDRESS, e.now)
        .await
        .unwrap();
    let second = e
        .accounts
        .forgot_password(&named, "NoBody", "en", ADDRESS, e.now)
        .await
        .unwrap();
    assert_eq!(first, second);
    let d = &first.destination;
    assert!(
        d.len() > 10 && &d[1..5] == "***@" && &d[6..10] == "***.",
        "{d}"
    );
}

#[tokio::test]
async fn reset_with_the_code_replaces_the_password() {
    let e = env().await;
    e.confirmed("erin@example.com").await;
    e.accounts
        .forgot_password(&e.pool, "erin@example.com", "fr", ADDRESS, e.now)
        .await
        .unwrap();
    let mail = e.next_mail().await;
    assert_eq!(
        mail.subject,
        "Votre code de réinitialisation du mot de passe"
    );
    let code = code_of(&mail);

    // A weak password is refused first and does not use up the code.
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new("password"),
            ADDRESS,
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::InvalidPassword(_)), "{err}");
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &wrong(&code),
            &SecretString::new(NEW_PASSWORD),
            ADDRESS,
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::CodeMismatch), "{err}");

    let user = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new(NEW_PASSWORD),
            ADDRESS,
            e.now,
        )
        .await
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
    assert!(matches!(
        e.authenticate("erin@example.com", PASSWORD).await,
        Err(DirectoryError::NotAuthorized)
    ));
    assert_eq!(
        e.authenticate("erin@example.com", NEW_PASSWORD)
            .await
            .unwrap(),
        UserStatus::Confirmed
    );
    // Single use.
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new("An0ther-pass"),
            ADDRESS,
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::ExpiredCode), "{err}");

    // A RESET_REQUIRED user (imported, or reset by an administrator) gets out of it.
    let sub = user.sub.clone();
    e.node
        .directory
        .modify_user(&e.pool, &sub, |u| {
            u.status = UserStatus::ResetRequired;
            Ok(())
        })
        .await
        .unwrap();
    assert!(matches!(
        e.authenticate("erin@example.com", NEW_PASSWORD).await,
        Err(DirectoryError::PasswordResetRequired)
    ));
    e.accounts
        .forgot_password(&e.pool, "erin@example.com", "en", ADDRESS, e.now + 10)
        .await
        .unwrap();
    let code = code_of(&e.next_mail().await);
    e.accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new(PASSWORD),
            ADDRESS,
            e.now + 20,
        )
        .await
        .unwrap();
    assert_eq!(
        e.authenticate("erin@example.com", PASSWORD).await.unwrap(),
        UserStatus::Confirmed
    );
    // The code expires after an hour. (This address has had its share of erin's codes
    // this hour: the sign-up's and two resets'.)
    e.accounts
        .forgot_password(&e.pool, "erin@example.com", "en", OTHER, e.now)
        .await
        .unwrap();
    let code = code_of(&e.next_mail().await);
    let err = e
        .accounts
        .confirm_forgot_password(
            &e.pool,
            "erin@example.com",
            &code,
            &SecretString::new(NEW_PASSWORD),
            ADDRESS,
            e.now + 3600,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::ExpiredCode), "{err}");
}

#[tokio::test]
async fn a_forced_password_change_ends_in_confirmed() {
    let e = env().await;
    let user = e
        .node
        .directory
        .create_user(
            &e.pool,
            NewUser {
                username: "invited@example.com".into(),
                attributes: BTreeMap::new(),
                password: Some(SecretString::new("Temp0rary!")),
                state: InitialState::ForceChangePassword,
            },
            e.now,
        )
        .await
        .unwrap();
    let err = e
        .accounts
        .complete_new_password(&e.pool, &user.sub, &SecretString::new("weak"), e.now)
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::InvalidPassword(_)), "{err}");
    let done = e
        .accounts
        .complete_new_password(&e.pool, &user.sub, &SecretString::new(NEW_PASSWORD), e.now)
        .await
        .unwrap();
    assert_eq!(done.status, UserStatus::Confirmed);
    assert_eq!(
        e.authenticate("invited@example.com", NEW_PASSWORD)
            .await
            .unwrap(),
        UserStatus::Confirmed
    );
    let again = e
        .accounts
        .complete_new_password(&e.pool, &user.sub, &SecretString::new(PASSWORD), e.now)
        .await
        .unwrap_err();
    assert!(matches!(again, AccountError::NotAuthorized(_)), "{again}");
}
