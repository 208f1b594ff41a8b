//! Challenge sessions against what happened since they opened: two answers to one
//! NEW_PASSWORD_REQUIRED session write one password; an MFA_SETUP session is refused once
//! the user enrolled a factor elsewhere; an administrator's password reset during an open
//! SOFTWARE_TOKEN_MFA challenge leaves the right code without tokens.

use super::*;

#[tokio::test]
async fn two_answers_to_one_new_password_session_write_one_password() {
    let server = start().await;
    let pool = server.pool(POOL).await;
    let attributes = [("email", "rita@example.com"), ("email_verified", "true")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    server
        .node
        .directory
        .create_user(
            &pool,
            NewUser {
                username: "rita".into(),
                attributes,
                password: Some(SecretString::new("Temp0rary-pass")),
                state: InitialState::ForceChangePassword,
            },
            now(),
        )
        .await
        .unwrap();
    let sdk = public_client(&server);
    let out = password_auth(&sdk, APP, "rita", "Temp0rary-pass", None)
        .await
        .unwrap();
    let (name, _, session) = challenge(&out);
    assert_eq!(name, ChallengeNameType::NewPasswordRequired);
    // The holder of the session and someone who copied it answer at once.
    let answer = |password: &'static str| {
        let (sdk, session) = (sdk.clone(), session.clone());
        async move {
            respond(
                &sdk,
                APP,
                ChallengeNameType::NewPasswordRequired,
                &session,
                &[("USERNAME", "rita"), ("NEW_PASSWORD", password)],
            )
            .await
        }
    };
    let (first, second) = tokio::join!(answer("First-perm4nent"), answer("Second-perm4nent"));
    let (winner, loser, won, refused) = match (first, second) {
        (Ok(out), Err(e)) => ("First-perm4nent", "Second-perm4nent", out, Err::<(), _>(e)),
        (Err(e), Ok(out)) => ("Second-perm4nent", "First-perm4nent", out, Err(e)),
        (a, b) => panic!("exactly one answer must win: {a:?} {b:?}"),
    };
    assert!(won.authentication_result().is_some(), "{won:?}");
    let (code, _) = refusal(refused);
    assert_eq!(code, "NotAuthorizedException");
    // The refused answer wrote nothing: only the winner's password signs in.
    assert!(password_auth(&sdk, APP, "rita", winner, None)
        .await
        .unwrap()
        .authentication_result()
        .is_some());
    let (code, _) = refusal(password_auth(&sdk, APP, "rita", loser, None).await);
    assert_eq!(code, "NotAuthorizedException");
    server.stop().await;
}

#[tokio::test]
async fn an_older_setup_session_cannot_enrol_and_a_reset_user_gets_no_tokens() {
    let server = start().await;
    confirmed_user(&server, MFA_ON_POOL, "quinn", "quinn@example.com").await;
    let sdk = public_client(&server);
    // Two MFA_SETUP sessions: the user's, and one opened by someone who has the password.
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let out = password_auth(&sdk, MFA_ON_APP, "quinn", PASSWORD, None)
            .await
            .unwrap();
        let (name, _, session) = challenge(&out);
        assert_eq!(name, ChallengeNameType::MfaSetup);
        sessions.push(session);
    }
    // The user enrols an app with theirs and signs in.
    let associated = sdk
        .associate_software_token()
        .session(&sessions[0])
        .send()
        .await
        .unwrap();
    let secret = associated.secret_code().unwrap().to_string();
    let enrolled_at = now();
    let verified = sdk
        .verify_software_token()
        .session(associated.session().unwrap())
        .user_code(totp_code(&secret, enrolled_at))
        .send()
        .await
        .unwrap();
    let out = respond(
        &sdk,
        MFA_ON_APP,
        ChallengeNameType::MfaSetup,
        verified.session().unwrap(),
        &[("USERNAME", "quinn")],
    )
    .await
    .unwrap();
    assert!(out.authentication_result().is_some());

    // The other session can no longer add an app (nor the email factor): the user has a
    // factor, which a new sign-in must now pass.
    let (code, message) = refusal(
        sdk.associate_software_token()
            .session(&sessions[1])
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException", "{message}");
    let (code, _) = refusal(
        respond(
            &sdk,
            MFA_ON_APP,
            ChallengeNameType::MfaSetup,
            &sessions[1],
            &[("USERNAME", "quinn"), ("EMAIL", "quinn@example.com")],
        )
        .await,
    );
    assert_eq!(code, "InvalidParameterException");

    // A SOFTWARE_TOKEN_MFA challenge is open when an administrator resets the password:
    // the right code no longer yields tokens.
    let out = password_auth(&sdk, MFA_ON_APP, "quinn", PASSWORD, None)
        .await
        .unwrap();
    let (name, _, session) = challenge(&out);
    assert_eq!(name, ChallengeNameType::SoftwareTokenMfa);
    operator_client(&server)
        .await
        .admin_reset_user_password()
        .user_pool_id(MFA_ON_POOL)
        .username("quinn")
        .send()
        .await
        .expect("AdminResetUserPassword");
    let (code, _) = refusal(
        respond(
            &sdk,
            MFA_ON_APP,
            ChallengeNameType::SoftwareTokenMfa,
            &session,
            &[
                ("USERNAME", "quinn"),
                (
                    "SOFTWARE_TOKEN_MFA_CODE",
                    totp_code(&secret, enrolled_at + 30).as_str(),
                ),
            ],
        )
        .await,
    );
    assert_eq!(code, "PasswordResetRequiredException");
    server.stop().await;
}
