//! The challenges: NEW_PASSWORD_REQUIRED, MFA_SETUP (Associate/VerifySoftwareToken with
//! the session), SOFTWARE_TOKEN_MFA (the code computed here with totp-rs; a replayed code
//! refused), SELECT_MFA_TYPE and EMAIL_OTP (the code read from the SMTP sink), the
//! software token of a signed-in user (AccessToken), and the session's single use;
//! [`after`]: what happened since a session opened (a concurrent answer, a factor enrolled
//! elsewhere, an administrator's reset).

use std::collections::BTreeMap;

use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput;
use aws_sdk_cognitoidentityprovider::types::ChallengeNameType;
use cognate::core::directory::{InitialState, NewUser};
use cognate::core::model::{Factor, FactorData, MfaFactor};
use cognate::core::secrets::SecretString;

use super::*;

mod after;

/// The TOTP code of `secret` (base32) at `at`, computed here.
fn totp_code(secret: &str, at: i64) -> String {
    let key = totp_rs::Secret::Encoded(secret.to_string())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, key).unwrap();
    totp.generate(u64::try_from(at).unwrap())
}

fn now() -> i64 {
    cognate::core::now()
}

/// The latest 8-digit code mailed to `to` (EMAIL_OTP codes have 8 digits).
async fn emailed_code(server: &TestServer, to: &str, seen: usize) -> String {
    for _ in 0..200 {
        let mails: Vec<String> = server
            .inbox
            .all()
            .into_iter()
            .filter(|m| m.contains(to))
            .collect();
        if mails.len() > seen {
            let body = mails
                .last()
                .unwrap()
                .split("\r\n\r\n")
                .skip(1)
                .collect::<Vec<_>>()
                .join("\n");
            let bytes = body.as_bytes();
            let found = (0..bytes.len().saturating_sub(7)).find_map(|i| {
                let window = &bytes[i..i + 8];
                let before = i.checked_sub(1).map(|j| bytes[j]);
                let after = bytes.get(i + 8).copied();
                (window.iter().all(u8::is_ascii_digit)
                    && !before.is_some_and(|b| b.is_ascii_digit())
                    && !after.is_some_and(|b| b.is_ascii_digit()))
                .then(|| String::from_utf8_lossy(window).into_owned())
            });
            if let Some(code) = found {
                return code;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no 8-digit code mailed to {to}");
}

fn mails_to(server: &TestServer, to: &str) -> usize {
    server.inbox.all().iter().filter(|m| m.contains(to)).count()
}

async fn respond(
    sdk: &Client,
    client_id: &str,
    name: ChallengeNameType,
    session: &str,
    responses: &[(&str, &str)],
) -> Result<RespondToAuthChallengeOutput, SdkError<aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeError>>{
    let mut call = sdk
        .respond_to_auth_challenge()
        .client_id(client_id)
        .challenge_name(name)
        .session(session);
    for (k, v) in responses {
        call = call.challenge_responses(*k, *v);
    }
    call.send().await
}

fn challenge(out: &InitiateAuthOutput) -> (ChallengeNameType, BTreeMap<String, String>, String) {
    (
        out.challenge_name()
            .cloned()
            .unwrap_or_else(|| panic!("no challenge: {out:?}")),
        out.challenge_parameters()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        out.session().unwrap().to_string(),
    )
}

fn challenge_of(
    out: &RespondToAuthChallengeOutput,
) -> (ChallengeNameType, BTreeMap<String, String>, String) {
    (
        out.challenge_name()
            .cloned()
            .unwrap_or_else(|| panic!("no challenge: {out:?}")),
        out.challenge_parameters()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        out.session().unwrap().to_string(),
    )
}

#[tokio::test]
async fn new_password_required_for_a_user_with_a_temporary_password() {
    let server = start().await;
    let pool = server.pool(POOL).await;
    let attributes = [("email", "nina@example.com"), ("email_verified", "true")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    server
        .node
        .directory
        .create_user(
            &pool,
            NewUser {
                username: "nina".into(),
                attributes,
                password: Some(SecretString::new("Temp0rary-pass")),
                state: InitialState::ForceChangePassword,
            },
            now(),
        )
        .await
        .unwrap();
    let sdk = public_client(&server);
    let out = password_auth(&sdk, APP, "nina", "Temp0rary-pass", None)
        .await
        .unwrap();
    assert!(out.authentication_result().is_none());
    let (name, params, session) = challenge(&out);
    assert_eq!(name, ChallengeNameType::NewPasswordRequired);
    assert_eq!(params["USER_ID_FOR_SRP"], "nina");
    assert_eq!(params["requiredAttributes"], "[]");
    let attributes: Value = serde_json::from_str(&params["userAttributes"]).unwrap();
    assert_eq!(attributes["email"], "nina@example.com");

    // A password the policy refuses, a missing one, another user's name: refused, and the
    // session stays for the honest answer.
    let (code, _) = refusal(
        respond(
            &sdk,
            APP,
            ChallengeNameType::NewPasswordRequired,
            &session,
            &[("USERNAME", "nina"), ("NEW_PASSWORD", "short")],
        )
        .await,
    );
    assert_eq!(code, "InvalidPasswordException");
    let (code, message) = refusal(
        respond(
            &sdk,
            APP,
            ChallengeNameType::NewPasswordRequired,
            &session,
            &[("USERNAME", "nina")],
        )
        .await,
    );
    assert_eq!(
        (code.as_str(), message.as_str()),
        (
            "InvalidParameterException",
            "Missing required parameter NEW_PASSWORD"
        )
    );
    let (code, _) = refusal(
        respond(
            &sdk,
            APP,
            ChallengeNameType::NewPasswordRequired,
            &session,
            &[("USERNAME", "alice"), ("NEW_PASSWORD", "Perm4nent-pass")],
        )
        .await,
    );
    assert_eq!(code, "NotAuthorizedException");
    // Another client cannot answer it.
    let (code, _) = refusal(
        respond(
            &sdk,
            LEGACY,
            ChallengeNameType::NewPasswordRequired,
            &session,
            &[("USERNAME", "nina"), ("NEW_PASSWORD", "Perm4nent-pass")],
        )
        .await,
    );
    assert_eq!(code, "NotAuthorizedException");

    let out = respond(
        &sdk,
        APP,
        ChallengeNameType::NewPasswordRequired,
        &session,
        &[("USERNAME", "nina"), ("NEW_PASSWORD", "Perm4nent-pass")],
    )
    .await
    .unwrap();
    let tokens = out.authentication_result().expect("tokens");
    assert_api_tokens(&server, POOL, APP, "nina", tokens).await;
    // One session, one set of tokens.
    let (code, _) = refusal(
        respond(
            &sdk,
            APP,
            ChallengeNameType::NewPasswordRequired,
            &session,
            &[("USERNAME", "nina"), ("NEW_PASSWORD", "Other-perm4nent")],
        )
        .await,
    );
    assert_eq!(code, "NotAuthorizedException");
    // The temporary password is gone; the new one signs in.
    assert!(password_auth(&sdk, APP, "nina", "Temp0rary-pass", None)
        .await
        .is_err());
    let out = password_auth(&sdk, APP, "nina", "Perm4nent-pass", None)
        .await
        .unwrap();
    assert!(out.authentication_result().is_some());
    server.stop().await;
}

#[tokio::test]
async fn mfa_setup_enrols_an_app_then_software_token_mfa_asks_it() {
    let server = start().await;
    confirmed_user(&server, MFA_ON_POOL, "olga", "olga@example.com").await;
    let sdk = public_client(&server);
    let out = password_auth(&sdk, MFA_ON_APP, "olga", PASSWORD, None)
        .await
        .unwrap();
    assert!(out.authentication_result().is_none(), "no token before MFA");
    let (name, params, session) = challenge(&out);
    assert_eq!(name, ChallengeNameType::MfaSetup);
    assert_eq!(params["MFAS_CAN_SETUP"], r#"["SOFTWARE_TOKEN_MFA"]"#);
    // Nothing enrolled yet: answering MFA_SETUP gives nothing.
    let (code, _) = refusal(
        respond(
            &sdk,
            MFA_ON_APP,
            ChallengeNameType::MfaSetup,
            &session,
            &[("USERNAME", "olga")],
        )
        .await,
    );
    assert_eq!(code, "InvalidParameterException");

    let associated = sdk
        .associate_software_token()
        .session(&session)
        .send()
        .await
        .unwrap();
    let secret = associated.secret_code().unwrap().to_string();
    let session = associated.session().unwrap().to_string();
    let verify = |code: String, session: String| {
        sdk.verify_software_token()
            .session(session)
            .user_code(code)
            .friendly_device_name("phone")
            .send()
    };
    let (code, _) = refusal(verify("000000".into(), session.clone()).await);
    assert_eq!(code, "EnableSoftwareTokenMFAException");
    let enrolled_at = now();
    let verified = verify(totp_code(&secret, enrolled_at), session.clone())
        .await
        .unwrap();
    assert_eq!(verified.status().map(|s| s.as_str()), Some("SUCCESS"));
    let session = verified.session().unwrap().to_string();
    let out = respond(
        &sdk,
        MFA_ON_APP,
        ChallengeNameType::MfaSetup,
        &session,
        &[("USERNAME", "olga")],
    )
    .await
    .unwrap();
    assert_api_tokens(
        &server,
        MFA_ON_POOL,
        MFA_ON_APP,
        "olga",
        out.authentication_result().unwrap(),
    )
    .await;
    let (code, _) = refusal(
        respond(
            &sdk,
            MFA_ON_APP,
            ChallengeNameType::MfaSetup,
            &session,
            &[("USERNAME", "olga")],
        )
        .await,
    );
    assert_eq!(
        code, "NotAuthorizedException",
        "one session, one set of tokens"
    );

    // The next sign-in asks the app's code.
    let out = password_auth(&sdk, MFA_ON_APP, "olga", PASSWORD, None)
        .await
        .unwrap();
    let (name, _, session) = challenge(&out);
    assert_eq!(name, ChallengeNameType::SoftwareTokenMfa);
    let answer = |code: String| {
        let (sdk, session) = (sdk.clone(), session.clone());
        async move {
            respond(
                &sdk,
                MFA_ON_APP,
                ChallengeNameType::SoftwareTokenMfa,
                &session,
                &[
                    ("USERNAME", "olga"),
                    ("SOFTWARE_TOKEN_MFA_CODE", code.as_str()),
                ],
            )
            .await
        }
    };
    // The code the enrolment used is spent; a wrong one is refused; the session stays.
    let (code, _) = refusal(answer(totp_code(&secret, enrolled_at)).await);
    assert_eq!(code, "CodeMismatchException");
    let (code, _) = refusal(answer("123456".into()).await);
    assert_eq!(code, "CodeMismatchException");
    // The next step's code (one step of drift is accepted) signs in.
    let next = totp_code(&secret, enrolled_at + 30);
    let out = answer(next.clone()).await.unwrap();
    assert_api_tokens(
        &server,
        MFA_ON_POOL,
        MFA_ON_APP,
        "olga",
        out.authentication_result().unwrap(),
    )
    .await;
    // Replayed in a fresh sign-in: refused.
    let out = password_auth(&sdk, MFA_ON_APP, "olga", PASSWORD, None)
        .await
        .unwrap();
    let (_, _, session) = challenge(&out);
    let (code, _) = refusal(
        respond(
            &sdk,
            MFA_ON_APP,
            ChallengeNameType::SoftwareTokenMfa,
            &session,
            &[
                ("USERNAME", "olga"),
                ("SOFTWARE_TOKEN_MFA_CODE", next.as_str()),
            ],
        )
        .await,
    );
    assert_eq!(code, "CodeMismatchException");
    // A made-up session.
    let (code, _) = refusal(
        respond(
            &sdk,
            MFA_ON_APP,
            ChallengeNameType::SoftwareTokenMfa,
            "made-up-session-made-up-session",
            &[("USERNAME", "olga"), ("SOFTWARE_TOKEN_MFA_CODE", "123456")],
        )
        .await,
    );
    assert_eq!(code, "NotAuthorizedException");
    server.stop().await;
}

#[tokio::test]
async fn signed_in_users_add_an_app_then_choose_between_app_and_email() {
    let server = start().await;
    let user = confirmed_user(&server, MFA_POOL, "pia", "pia@example.com").await;
    let sdk = public_client(&server);
    // OPTIONAL and nothing enrolled: tokens at once.
    let tokens = tokens_of(
        &password_auth(&sdk, MFA_APP, "pia", PASSWORD, None)
            .await
            .unwrap(),
    );
    let access = tokens.access_token().unwrap();
    let secret = sdk
        .associate_software_token()
        .access_token(access)
        .send()
        .await
        .unwrap()
        .secret_code()
        .unwrap()
        .to_string();
    let (code, _) = refusal(
        sdk.verify_software_token()
            .access_token(access)
            .user_code("000000")
            .send()
            .await,
    );
    assert_eq!(code, "EnableSoftwareTokenMFAException");
    let at = now();
    sdk.verify_software_token()
        .access_token(access)
        .user_code(totp_code(&secret, at))
        .send()
        .await
        .unwrap();
    let out = password_auth(&sdk, MFA_APP, "pia", PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(challenge(&out).0, ChallengeNameType::SoftwareTokenMfa);

    // Email as a second factor too (written to the record, as the account page would).
    let mut stored = server.find_user(MFA_POOL, "pia").await.unwrap();
    stored.mfa.factors.push(Factor {
        id: "emailfactor1".into(),
        kind: MfaFactor::Email,
        name: "Email".into(),
        created_at: at,
        last_used_at: None,
        data: FactorData::Email,
    });
    server.node.store.update_user(&stored).await.unwrap();
    let out = password_auth(&sdk, MFA_APP, "pia", PASSWORD, None)
        .await
        .unwrap();
    let (name, params, session) = challenge(&out);
    assert_eq!(name, ChallengeNameType::SelectMfaType);
    assert_eq!(
        params["MFAS_CAN_CHOOSE"],
        r#"["SOFTWARE_TOKEN_MFA","EMAIL_OTP"]"#
    );
    let (code, _) = refusal(
        respond(
            &sdk,
            MFA_APP,
            ChallengeNameType::SelectMfaType,
            &session,
            &[("USERNAME", "pia"), ("ANSWER", "SMS_MFA")],
        )
        .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let seen = mails_to(&server, "pia@example.com");
    let out = respond(
        &sdk,
        MFA_APP,
        ChallengeNameType::SelectMfaType,
        &session,
        &[("USERNAME", "pia"), ("ANSWER", "EMAIL_OTP")],
    )
    .await
    .unwrap();
    let (name, params, session) = challenge_of(&out);
    assert_eq!(name, ChallengeNameType::EmailOtp);
    assert_eq!(params["CODE_DELIVERY_DELIVERY_MEDIUM"], "EMAIL");
    assert_eq!(params["CODE_DELIVERY_DESTINATION"], "p***@e***.com");
    let code = emailed_code(&server, "pia@example.com", seen).await;
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    let (refused, _) = refusal(
        respond(
            &sdk,
            MFA_APP,
            ChallengeNameType::EmailOtp,
            &session,
            &[("USERNAME", "pia"), ("EMAIL_OTP_CODE", wrong)],
        )
        .await,
    );
    assert_eq!(refused, "CodeMismatchException");
    let out = respond(
        &sdk,
        MFA_APP,
        ChallengeNameType::EmailOtp,
        &session,
        &[("USERNAME", "pia"), ("EMAIL_OTP_CODE", code.as_str())],
    )
    .await
    .unwrap();
    let (access, _) = assert_api_tokens(
        &server,
        MFA_POOL,
        MFA_APP,
        "pia",
        out.authentication_result().unwrap(),
    )
    .await;
    assert_eq!(access["sub"], user.sub.as_str());
    // The code and the session are spent.
    let (refused, _) = refusal(
        respond(
            &sdk,
            MFA_APP,
            ChallengeNameType::EmailOtp,
            &session,
            &[("USERNAME", "pia"), ("EMAIL_OTP_CODE", code.as_str())],
        )
        .await,
    );
    assert_eq!(refused, "NotAuthorizedException");
    server.stop().await;
}

const EMAIL_ON_POOL: &str = "us-east-1_ApiMfaEm01";
const EMAIL_ON_APP: &str = "apimfaemail0000000000001";

#[tokio::test]
async fn mfa_setup_with_email_enrols_the_verified_address() {
    let toml = format!(
        r#"
[[pools]]
id = "{EMAIL_ON_POOL}"
name = "API MFA on, email allowed"
alias_attributes = ["email"]
auto_verified_attributes = ["email"]
mfa = "ON"
mfa_factors = ["TOTP", "EMAIL"]
{}"#,
        client_toml(EMAIL_ON_APP, "email mfa app", ALL_FLOWS)
    );
    let server = TestServer::start(&toml).await;
    confirmed_user(&server, EMAIL_ON_POOL, "emil", "emil@example.com").await;
    let sdk = public_client(&server);
    let out = password_auth(&sdk, EMAIL_ON_APP, "emil", PASSWORD, None)
        .await
        .unwrap();
    let (name, params, session) = challenge(&out);
    assert_eq!(name, ChallengeNameType::MfaSetup);
    assert_eq!(
        params["MFAS_CAN_SETUP"],
        r#"["SOFTWARE_TOKEN_MFA","EMAIL_OTP"]"#
    );
    // Only the verified address can become the factor.
    let (code, _) = refusal(
        respond(
            &sdk,
            EMAIL_ON_APP,
            ChallengeNameType::MfaSetup,
            &session,
            &[("USERNAME", "emil"), ("EMAIL", "attacker@example.net")],
        )
        .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let seen = mails_to(&server, "emil@example.com");
    let out = respond(
        &sdk,
        EMAIL_ON_APP,
        ChallengeNameType::MfaSetup,
        &session,
        &[("USERNAME", "emil"), ("EMAIL", "emil@example.com")],
    )
    .await
    .unwrap();
    let (name, params, session) = challenge_of(&out);
    assert_eq!(name, ChallengeNameType::EmailOtp);
    assert_eq!(params["CODE_DELIVERY_DESTINATION"], "e***@e***.com");
    let code = emailed_code(&server, "emil@example.com", seen).await;
    let out = respond(
        &sdk,
        EMAIL_ON_APP,
        ChallengeNameType::EmailOtp,
        &session,
        &[("USERNAME", "emil"), ("EMAIL_OTP_CODE", code.as_str())],
    )
    .await
    .unwrap();
    assert_api_tokens(
        &server,
        EMAIL_ON_POOL,
        EMAIL_ON_APP,
        "emil",
        out.authentication_result().unwrap(),
    )
    .await;
    // Enrolled: the next sign-in asks an emailed code, through AdminInitiateAuth and
    // AdminRespondToAuthChallenge this time.
    let admin = operator_client(&server).await;
    let out = admin
        .admin_initiate_auth()
        .user_pool_id(EMAIL_ON_POOL)
        .client_id(EMAIL_ON_APP)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "emil")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    let session = out.session().unwrap().to_string();
    let code = emailed_code(&server, "emil@example.com", seen + 1).await;
    let answer = |code: String| {
        admin
            .admin_respond_to_auth_challenge()
            .user_pool_id(EMAIL_ON_POOL)
            .client_id(EMAIL_ON_APP)
            .challenge_name(ChallengeNameType::EmailOtp)
            .session(&session)
            .challenge_responses("USERNAME", "emil")
            .challenge_responses("EMAIL_OTP_CODE", code)
            .send()
    };
    let wrong = if code == "00000000" {
        "11111111"
    } else {
        "00000000"
    };
    assert_eq!(
        refusal(answer(wrong.into()).await).0,
        "CodeMismatchException"
    );
    let out = answer(code.clone()).await.unwrap();
    assert_api_tokens(
        &server,
        EMAIL_ON_POOL,
        EMAIL_ON_APP,
        "emil",
        out.authentication_result().unwrap(),
    )
    .await;
    // One session, one set of tokens.
    let (code, _) = refusal(answer(code).await);
    assert_eq!(code, "NotAuthorizedException");
    server.stop().await;
}

const PASSKEY_POOL: &str = "us-east-1_ApiMfaPk01";
const PASSKEY_APP: &str = "apimfapasskey00000000001";

#[tokio::test]
async fn a_passkey_only_user_is_refused_plainly_never_signed_in_on_one_factor() {
    let toml = format!(
        r#"
[[pools]]
id = "{PASSKEY_POOL}"
name = "API MFA passkeys"
mfa = "OPTIONAL"
mfa_factors = ["TOTP", "PASSKEY"]
{}"#,
        client_toml(PASSKEY_APP, "passkey app", ALL_FLOWS)
    );
    let server = TestServer::start_on_localhost(&toml).await;
    confirmed_user(&server, PASSKEY_POOL, "kai", "kai@example.com").await;
    let user = confirmed_user(&server, PASSKEY_POOL, "pat", "pat@example.com").await;
    let sdk = public_client(&server);
    // Beside it, a user without factors signs in.
    assert!(tokens_of(
        &password_auth(&sdk, PASSKEY_APP, "kai", PASSWORD, None)
            .await
            .unwrap()
    )
    .access_token()
    .is_some());
    let mut stored = user;
    stored.mfa.factors.push(Factor {
        id: "passkeyfactor1".into(),
        kind: MfaFactor::Passkey,
        name: "Laptop".into(),
        created_at: now(),
        last_used_at: None,
        data: FactorData::Passkey {
            credential_id: "Y3JlZGVudGlhbA".into(),
            credential: json!({}),
            counter: 0,
            backup_eligible: false,
            backup_state: false,
        },
    });
    server.node.store.update_user(&stored).await.unwrap();
    let (code, message) = refusal(password_auth(&sdk, PASSKEY_APP, "pat", PASSWORD, None).await);
    assert_eq!(code, "MFAMethodNotFoundException", "{message}");
    server.stop().await;
}
