//! Sign-up and its rules, and the confirmation code: mailed, expiring, replaced when sent
//! again, never destroyed by wrong guesses, which the code budgets bound however concurrent.

use std::collections::BTreeMap;

use cognate::core::account::{AccountError, SIGNUP_CODE_VALIDITY_SECS};
use cognate::core::directory::DirectoryError;
use cognate::core::model::{CodeLimits, UserPool, UserStatus};
use cognate::core::secrets::SecretString;
use cognate::web::cognito_errors::account_error_type;

use super::{code_of, env, pair_tries, wrong, ADDRESS, OTHER, PASSWORD};

#[tokio::test]
async fn sign_up_mails_a_code_that_confirms_the_user() {
    let e = env().await;
    let outcome = e
        .accounts
        .sign_up(
            &e.pool,
            "alice@example.com",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            ADDRESS,
            e.now,
        )
        .await
        .unwrap();
    assert_eq!(outcome.user.status, UserStatus::Unconfirmed);
    let delivery = outcome.delivery.unwrap();
    assert_eq!(
        (delivery.medium, delivery.destination.as_str()),
        ("EMAIL", "a***@e***.com")
    );
    let mail = e.next_mail().await;
    assert_eq!(mail.to, "alice@example.com");
    assert_eq!(mail.subject, "Your verification code");
    let code = code_of(&mail);
    assert!(matches!(
        e.authenticate("alice@example.com", PASSWORD).await,
        Err(DirectoryError::UserNotConfirmed)
    ));

    let err = e
        .accounts
        .confirm_sign_up(&e.pool, "alice@example.com", &wrong(&code), ADDRESS, e.now)
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::CodeMismatch), "{err}");
    assert_eq!(account_error_type(&err), "CodeMismatchException");

    let user = e
        .accounts
        .confirm_sign_up(&e.pool, "alice@example.com", &code, ADDRESS, e.now)
        .await
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
    assert_eq!(user.attribute("email_verified"), Some("true"));
    assert_eq!(
        e.authenticate("ALICE@example.com", PASSWORD).await.unwrap(),
        UserStatus::Confirmed
    );
    // Confirming again is answered like a wrong code (Cognito's NotAuthorized would tell
    // that the user exists and is confirmed).
    let again = e
        .accounts
        .confirm_sign_up(&e.pool, "alice@example.com", &code, ADDRESS, e.now)
        .await
        .unwrap_err();
    assert!(matches!(again, AccountError::CodeMismatch), "{again}");

    // The same address cannot sign up twice; French mail for a French speaker.
    let taken = e
        .accounts
        .sign_up(
            &e.pool,
            "Alice@Example.com",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            ADDRESS,
            e.now,
        )
        .await
        .unwrap_err();
    assert_eq!(account_error_type(&taken), "UsernameExistsException");
    e.accounts
        .sign_up(
            &e.pool,
            "benoit@example.fr",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "fr-FR",
            ADDRESS,
            e.now,
        )
        .await
        .unwrap();
    assert_eq!(e.next_mail().await.subject, "Votre code de vérification");
}

#[tokio::test]
async fn sign_up_rules() {
    let e = env().await;
    // A password that breaks the policy: every missing class is named.
    let err = e
        .accounts
        .sign_up(
            &e.pool,
            "weak@example.com",
            &SecretString::new("abc"),
            BTreeMap::new(),
            "en",
            ADDRESS,
            e.now,
        )
        .await
        .unwrap_err();
    let AccountError::InvalidPassword(violation) = &err else {
        panic!("{err:?}");
    };
    for missing in [
        "at least 8 characters",
        "an uppercase letter",
        "a number",
        "a symbol",
    ] {
        assert!(
            violation.missing.iter().any(|m| m == missing),
            "{violation:?}"
        );
    }
    assert!(!violation.missing.iter().any(|m| m == "a lowercase letter"));
    assert_eq!(account_error_type(&err), "InvalidPasswordException");
    assert!(err.to_string().contains("an uppercase letter"), "{err}");

    // A sign-up cannot claim a verified address.
    let claims = BTreeMap::from([("email_verified".to_string(), "true".to_string())]);
    let err = e
        .accounts
        .sign_up(
            &e.pool,
            "sly@example.com",
            &SecretString::new(PASSWORD),
            claims,
            "en",
            ADDRESS,
            e.now,
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&err, AccountError::InvalidParameter { field, .. } if field == "email_verified"),
        "{err:?}"
    );

    // Not an email address in an email-as-username pool.
    let err = e
        .accounts
        .sign_up(
            &e.pool,
            "not-an-email",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            ADDRESS,
            e.now,
        )
        .await
        .unwrap_err();
    assert_eq!(
        account_error_type(&err),
        "InvalidParameterException",
        "{err}"
    );

    // Admin-only pools refuse; the corrected request (self sign-up allowed) succeeds.
    let closed = UserPool {
        admin_create_user_only: true,
        ..e.pool.clone()
    };
    let err = e
        .accounts
        .sign_up(
            &closed,
            "late@example.com",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            ADDRESS,
            e.now,
        )
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::SignUpDisabled));
    e.sign_up("late@example.com").await;

    // A pool that does not verify email: UNCONFIRMED, nothing sent, for an administrator.
    let manual = UserPool {
        auto_verified_attributes: vec![],
        ..e.pool.clone()
    };
    let outcome = e
        .accounts
        .sign_up(
            &manual,
            "manual@example.com",
            &SecretString::new(PASSWORD),
            BTreeMap::new(),
            "en",
            ADDRESS,
            e.now,
        )
        .await
        .unwrap();
    assert!(outcome.delivery.is_none());
    assert_eq!(outcome.user.status, UserStatus::Unconfirmed);
}

#[tokio::test]
async fn codes_expire_and_resending_replaces_them() {
    let e = env().await;
    let code = e.sign_up("slow@example.com").await;
    let later = e.now + SIGNUP_CODE_VALIDITY_SECS;
    let err = e
        .accounts
        .confirm_sign_up(&e.pool, "slow@example.com", &code, ADDRESS, later)
        .await
        .unwrap_err();
    // An unconfirmed user without a live code is answered as an unknown login is (a
    // wrong code, a try spent): `ExpiredCode` would tell such users apart for free.
    assert!(matches!(err, AccountError::CodeMismatch), "{err}");
    assert_eq!(account_error_type(&err), "CodeMismatchException");

    let delivery = e
        .accounts
        .resend_confirmation_code(
            &e.pool,
            "slow@example.com",
            "en",
            &cognate::core::threat::EventContext::new(None, Some(ADDRESS), None),
            later,
        )
        .await
        .unwrap();
    assert_eq!(delivery.destination, "s***@e***.com");
    let fresh = code_of(&e.next_mail().await);
    let user = e
        .accounts
        .confirm_sign_up(&e.pool, "slow@example.com", &fresh, ADDRESS, later + 60)
        .await
        .unwrap();
    assert_eq!(user.status, UserStatus::Confirmed);
}

#[tokio::test]
async fn wrong_codes_cost_the_guessers_address_not_the_code() {
    let e = env().await;
    let code = e.sign_up("guess@example.com").await;
    let share = pair_tries();
    for _ in 0..share {
        let err = e
            .accounts
            .confirm_sign_up(&e.pool, "guess@example.com", &wrong(&code), OTHER, e.now)
            .await
            .unwrap_err();
        assert!(matches!(err, AccountError::CodeMismatch), "{err}");
    }
    // The guessing address has spent its share: even the right code is not compared.
    let err = e
        .accounts
        .confirm_sign_up(&e.pool, "guess@example.com", &code, OTHER, e.now)
        .await
        .unwrap_err();
    assert!(matches!(err, AccountError::LimitExceeded), "{err}");
    assert_eq!(account_error_type(&err), "LimitExceededException");

    // The code is intact: its owner, from another address, confirms with it.
    e.accounts
        .confirm_sign_up(&e.pool, "guess@example.com", &code, ADDRESS, e.now)
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_guesses_get_at_most_the_budgets_answers() {
    let e = env().await;
    let code = e.sign_up("race@example.com").await;
    let bad = wrong(&code);
    let count = |results: &[Result<_, AccountError>]| {
        let mismatches = results
            .iter()
            .filter(|r| matches!(r, Err(AccountError::CodeMismatch)))
            .count();
        let limited = results
            .iter()
            .filter(|r| matches!(r, Err(AccountError::LimitExceeded)))
            .count();
        assert_eq!(mismatches + limited, results.len());
        mismatches
    };
    // From one address: its share of the destination's tries.
    let guesses = (0..20).map(|_| {
        e.accounts
            .confirm_sign_up(&e.pool, "race@example.com", &bad, OTHER, e.now)
    });
    let results = futures::future::join_all(guesses).await;
    assert_eq!(count(&results), pair_tries() as usize);
    // From 20 addresses: the destination's tries, all told.
    let guesses = (0..20u8).map(|i| {
        let from = std::net::IpAddr::from([198, 51, 100, i]);
        e.accounts
            .confirm_sign_up(&e.pool, "race@example.com", &bad, from, e.now)
    });
    let results = futures::future::join_all(guesses).await;
    let all_told = CodeLimits::default().tries_per_destination as usize;
    assert_eq!(count(&results), all_told - pair_tries() as usize);
}
