//! The account hardening issue's attacks (issue 8) through the user pools API, each beside
//! the honest request succeeding, mirroring the hosted-UI versions of
//! `tests/it/account_attacks/` (attack 1, parallel wrong passwords through InitiateAuth,
//! is in `auth::bursts`):
//! 2. sign-ups carrying someone else's address, and guesses spread over them, spend only
//!    that address's budgets (SignUp, ConfirmSignUp, ResendConfirmationCode);
//! 6. ConfirmSignUp, ResendConfirmationCode and ForgotPassword answer unknown, unconfirmed
//!    and confirmed users alike on an `ENABLED` client;
//! 8. an attacker's reset requests and wrong codes cost the attacker, not the owner
//!    (ForgotPassword, ConfirmForgotPassword).
//!
//! And review 14's attribute writes (SDK): a stolen token redirecting the email is told to
//! the old address and does not carry the EMAIL factor along; required attributes and a
//! verified phone stay; control characters are refused; an administrator's email write
//! drops a pending change.
//!
//! Raw JSON requests name their client address in `X-Forwarded-For` (127.0.0.1 is a
//! trusted proxy in the fixture), as a load balancer would; the SDK cannot.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};

use cognate::core::model::CodeLimits;

use aws_sdk_cognitoidentityprovider::Client;

use super::users::{attr, refusal, sign_in_on};
use super::{
    confirmed_user, operator_client, public_client, start, APP, MFA_APP, MFA_POOL, PASSWORD, POOL,
};
use crate::support::server::{browser_client, TestServer};

const VICTIM: &str = "ceo@victim.test";
const NEW_PASSWORD: &str = "N3w-battery-staple";

/// One user pools API call from client address `from`: the status and the JSON answer.
async fn call(server: &TestServer, action: &str, body: Value, from: &str) -> (u16, Value) {
    let r = browser_client()
        .post(&server.base)
        .header(
            "x-amz-target",
            format!("AWSCognitoIdentityProviderService.{action}"),
        )
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-forwarded-for", from)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// The `__type` of an error answer (empty for a success).
fn kind(answer: &(u16, Value)) -> &str {
    answer.1.get("__type").and_then(Value::as_str).unwrap_or("")
}

fn sign_up_body(username: &str, email: &str) -> Value {
    json!({
        "ClientId": APP,
        "Username": username,
        "Password": PASSWORD,
        "UserAttributes": [{"Name": "email", "Value": email}],
    })
}

fn mails_to(server: &TestServer, address: &str) -> usize {
    let to = format!("To: {address}");
    server
        .inbox
        .all()
        .iter()
        .filter(|m| m.lines().any(|l| l.eq_ignore_ascii_case(&to)))
        .count()
}

/// Waits until `count` mails reached `address` (some codes go out in the background),
/// then a little longer to see that no more come.
async fn settle_mails(server: &TestServer, address: &str, count: usize) -> usize {
    for _ in 0..200 {
        if mails_to(server, address) >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    mails_to(server, address)
}

/// The code of the latest mail to `address`, once there are `count` of them.
async fn latest_code(server: &TestServer, address: &str, count: usize) -> String {
    assert_eq!(settle_mails(server, address, count).await, count);
    let to = format!("To: {address}");
    server
        .inbox
        .all()
        .iter()
        .rev()
        .find(|m| m.lines().any(|l| l.eq_ignore_ascii_case(&to)))
        .and_then(|m| crate::support::smtp::six_digits(m))
        .expect("a code")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_over_many_sign_ups_never_verify_someone_elses_address() {
    let server = super::start().await;
    let limits = CodeLimits::default();
    // 20 sign-ups carrying the victim's address, at once, from 20 addresses.
    let signups = futures::stream::iter(0..20)
        .map(|i| {
            let server = &server;
            async move {
                let body = sign_up_body(&format!("mallory{i}"), VICTIM);
                (
                    i,
                    call(server, "SignUp", body, &format!("198.51.100.{i}")).await,
                )
            }
        })
        .buffer_unordered(20)
        .collect::<Vec<_>>()
        .await;
    let accepted: Vec<usize> = signups
        .iter()
        .filter(|(_, a)| a.0 == 200)
        .map(|(i, _)| *i)
        .collect();
    let refused = signups
        .iter()
        .filter(|(_, a)| kind(a) == "LimitExceededException")
        .count();
    assert_eq!(accepted.len() + refused, 20, "{signups:?}");
    assert_eq!(accepted.len(), limits.sends_per_destination as usize);
    assert_eq!(
        settle_mails(&server, VICTIM, accepted.len()).await,
        accepted.len()
    );
    // The refused sign-ups were undone.
    assert_eq!(server.user_count(POOL).await, accepted.len() as u64);
    // Asking again for those accounts mails the victim nothing more.
    let again = call(
        &server,
        "ResendConfirmationCode",
        json!({"ClientId": APP, "Username": format!("mallory{}", accepted[0])}),
        "198.51.100.200",
    )
    .await;
    assert_eq!(kind(&again), "LimitExceededException");

    // 100 guesses spread over those accounts, at once, from 100 addresses: codes that are
    // none of the mailed ones, so any that verified would be a guess.
    let mailed: BTreeSet<String> = server
        .inbox
        .all()
        .iter()
        .filter(|m| m.contains(VICTIM))
        .filter_map(|m| crate::support::smtp::six_digits(m))
        .collect();
    let guesses: Vec<String> = (0u32..)
        .map(|n| format!("{n:06}"))
        .filter(|c| !mailed.contains(c))
        .take(100)
        .collect();
    let answers = futures::stream::iter(guesses.iter().enumerate())
        .map(|(k, code)| {
            let server = &server;
            let body = json!({
                "ClientId": APP,
                "Username": format!("mallory{}", accepted[k % accepted.len()]),
                "ConfirmationCode": code,
            });
            async move { call(server, "ConfirmSignUp", body, &format!("203.0.113.{k}")).await }
        })
        .buffer_unordered(25)
        .collect::<Vec<_>>()
        .await;
    let compared = answers
        .iter()
        .filter(|a| kind(a) == "CodeMismatchException")
        .count();
    let limited = answers
        .iter()
        .filter(|a| kind(a) == "LimitExceededException")
        .count();
    assert_eq!(compared + limited, 100, "{:?}", answers.first());
    assert_eq!(compared, limits.tries_per_destination as usize);
    for i in &accepted {
        let user = server
            .find_user(POOL, &format!("mallory{i}"))
            .await
            .unwrap();
        assert_eq!(user.attribute("email_verified"), None, "mallory{i}");
        assert_eq!(user.status.as_str(), "UNCONFIRMED");
    }

    // Beside it, an honest user with another address signs up and confirms.
    let (status, _) = call(
        &server,
        "SignUp",
        sign_up_body("alice", "alice@example.com"),
        "192.0.2.10",
    )
    .await;
    assert_eq!(status, 200);
    let code = latest_code(&server, "alice@example.com", 1).await;
    let confirmed = call(
        &server,
        "ConfirmSignUp",
        json!({"ClientId": APP, "Username": "alice", "ConfirmationCode": code}),
        "192.0.2.10",
    )
    .await;
    assert_eq!(confirmed.0, 200, "{:?}", confirmed.1);
}

/// The shape of an answer with every masked letter and digit of the destination blurred:
/// what an enumerating attacker could compare.
fn shape(answer: &(u16, Value)) -> Value {
    let mut value = answer.1.clone();
    if let Some(details) = value.get_mut("CodeDeliveryDetails") {
        let destination = details["Destination"].as_str().unwrap_or_default();
        assert!(destination.contains("***@"), "{destination}");
        details["Destination"] = json!("masked");
    }
    json!({"status": answer.0, "body": value})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_unconfirmed_and_confirmed_users_are_answered_alike() {
    let server = super::start().await;
    confirmed_user(&server, POOL, "confirmed", "confirmed@example.com").await;
    let (status, _) = call(
        &server,
        "SignUp",
        sign_up_body("unconfirmed", "unconfirmed@example.com"),
        "192.0.2.1",
    )
    .await;
    assert_eq!(status, 200);
    let code = latest_code(&server, "unconfirmed@example.com", 1).await;
    let users = ["nobody", "unconfirmed", "confirmed"];

    for (i, action) in ["ConfirmSignUp", "ResendConfirmationCode", "ForgotPassword"]
        .into_iter()
        .enumerate()
    {
        let mut shapes = Vec::new();
        for (j, user) in users.into_iter().enumerate() {
            let mut body = json!({"ClientId": APP, "Username": user});
            if action == "ConfirmSignUp" {
                body["ConfirmationCode"] =
                    json!(if code == "000000" { "000001" } else { "000000" });
            }
            let answer = call(&server, action, body, &format!("203.0.113.{}", i * 3 + j)).await;
            shapes.push(shape(&answer));
        }
        assert_eq!(shapes[0], shapes[1], "{action}: unknown vs unconfirmed");
        assert_eq!(shapes[1], shapes[2], "{action}: unconfirmed vs confirmed");
        if action == "ConfirmSignUp" {
            assert_eq!(shapes[0]["body"]["__type"], "CodeMismatchException");
        } else {
            assert_eq!(shapes[0]["status"], 200, "{action}: {:?}", shapes[0]);
        }
    }

    // Beside it, the honest unconfirmed user's latest code confirms them.
    let code = latest_code(&server, "unconfirmed@example.com", 2).await;
    let confirmed = call(
        &server,
        "ConfirmSignUp",
        json!({"ClientId": APP, "Username": "unconfirmed", "ConfirmationCode": code}),
        "192.0.2.1",
    )
    .await;
    assert_eq!(confirmed.0, 200, "{:?}", confirmed.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attacker_cannot_deny_the_owner_recovery() {
    let server = super::start().await;
    let limits = CodeLimits::default();
    let owner = "owner@example.com";
    confirmed_user(&server, POOL, "owner", owner).await;
    let attacker = "203.0.113.66";
    let forgot = json!({"ClientId": APP, "Username": "owner"});

    // The attacker asks for resets and guesses codes from one address until refused.
    let mut sent = 0;
    for _ in 0..10 {
        match kind(&call(&server, "ForgotPassword", forgot.clone(), attacker).await) {
            "" => sent += 1,
            "LimitExceededException" => {}
            other => panic!("{other}"),
        }
    }
    // One address gets at most half the destination's sends.
    assert_eq!(sent, (limits.sends_per_destination as usize).div_ceil(2));
    let mut tried = 0;
    for k in 0..20 {
        let guess = json!({
            "ClientId": APP,
            "Username": "owner",
            "ConfirmationCode": format!("{k:06}"),
            "Password": NEW_PASSWORD,
        });
        match kind(&call(&server, "ConfirmForgotPassword", guess, attacker).await) {
            "CodeMismatchException" => tried += 1,
            "LimitExceededException" => {}
            // A guess that hit would have been the attacker's luck, one in a million.
            other => panic!("{other}"),
        }
    }
    assert_eq!(tried, (limits.tries_per_destination as usize).div_ceil(2));

    // The owner, from their own address, still gets a code and resets with it.
    let mails = settle_mails(&server, owner, sent).await;
    let home = "198.51.100.8";
    let asked = call(&server, "ForgotPassword", forgot.clone(), home).await;
    assert_eq!(asked.0, 200, "{:?}", asked.1);
    let code = latest_code(&server, owner, mails + 1).await;
    let reset = call(
        &server,
        "ConfirmForgotPassword",
        json!({
            "ClientId": APP,
            "Username": "owner",
            "ConfirmationCode": code,
            "Password": NEW_PASSWORD,
        }),
        home,
    )
    .await;
    assert_eq!(reset.0, 200, "{:?}", reset.1);
    let signed_in = call(
        &server,
        "InitiateAuth",
        json!({
            "ClientId": APP,
            "AuthFlow": "USER_PASSWORD_AUTH",
            "AuthParameters": {"USERNAME": "owner", "PASSWORD": NEW_PASSWORD},
        }),
        home,
    )
    .await;
    assert_eq!(signed_in.0, 200, "{:?}", signed_in.1);
}

// Review 14: a stolen access token, and the attribute writes of a signed-in user.

/// The access token of `login` signed in on `client`.
async fn access_on(sdk: &Client, client: &str, login: &str) -> String {
    sign_in_on(sdk, client, login, PASSWORD)
        .await
        .unwrap()
        .access_token
        .expect("an access token")
}

/// The messages mailed to `to`, quoted-printable soft breaks undone.
fn mail_to(server: &TestServer, to: &str) -> Vec<String> {
    server
        .inbox
        .all()
        .into_iter()
        .filter(|m| m.contains(&format!("<{to}>")) || m.contains(&format!("To: {to}")))
        .map(|m| m.replace("=\r\n", ""))
        .collect()
}

/// Waits for a message to `to` containing `text`.
async fn wait_mail(server: &TestServer, to: &str, text: &str) -> String {
    for _ in 0..200 {
        if let Some(m) = mail_to(server, to).into_iter().find(|m| m.contains(text)) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!(
        "no mail to {to} with {text:?}; inbox: {:?}",
        server.inbox.all()
    );
}

#[tokio::test]
async fn a_stolen_token_redirecting_the_email_is_told_to_the_old_address() {
    use cognate::core::model::{Factor, FactorData, MfaFactor};
    let server = start().await;
    let sdk = public_client(&server);
    let user = confirmed_user(&server, MFA_POOL, "vic", "vic@old.example").await;
    // The token the attacker stole, taken before the victim enrolled email codes.
    let token = access_on(&sdk, MFA_APP, "vic").await;
    let pool = server.pool(MFA_POOL).await;
    server
        .node
        .directory
        .modify_user(&pool, &user.sub, |u| {
            u.mfa.factors.push(Factor {
                id: "f1".into(),
                kind: MfaFactor::Email,
                name: "mail".into(),
                created_at: 1,
                last_used_at: None,
                data: FactorData::Email,
            });
            u.mfa.preferred = Some(MfaFactor::Email);
            Ok(())
        })
        .await
        .unwrap();

    // The change is requested: the code goes to the new address, a notice to the old one.
    sdk.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "thief@evil.example"))
        .send()
        .await
        .expect("the change waits for its code");
    let code = server.inbox.code_for("thief@evil.example").await;
    let notice = wait_mail(
        &server,
        "vic@old.example",
        "A change of your email address was requested",
    )
    .await;
    assert!(notice.contains("t***@e***.example"), "{notice}");
    assert!(!notice.contains(&code), "the notice never carries the code");

    // The code applies it: the old address is told again, and the EMAIL factor, which
    // proved the old mailbox, does not pass to the new one.
    sdk.verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .expect("verified");
    let notice = wait_mail(&server, "vic@old.example", "Your email address was changed").await;
    assert!(notice.contains("t***@e***.example"), "{notice}");
    let got = sdk.get_user().access_token(&token).send().await.unwrap();
    assert!(got.user_mfa_setting_list().is_empty(), "{got:?}");
    assert!(got.preferred_mfa_setting.is_none());
    let stored = server
        .node
        .store
        .get_user(
            &pool.id,
            &cognate::core::storage::UserRef::Sub(user.sub.clone()),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.attribute("email"), Some("thief@evil.example"));
    assert!(!stored.mfa.has(MfaFactor::Email));

    // An unverified address changes at once with no one to tell: no notice.
    let quiet = server
        .create_user(
            POOL,
            "quinn",
            [("email".to_string(), "quinn@old.example".to_string())].into(),
            PASSWORD,
        )
        .await;
    assert_eq!(quiet.attribute("email_verified"), None);
    let token = access_on(&sdk, APP, "quinn").await;
    sdk.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "quinn@new.example"))
        .send()
        .await
        .expect("changed at once");
    server.inbox.code_for("quinn@new.example").await;
    assert!(mail_to(&server, "quinn@old.example").is_empty());
}

#[tokio::test]
async fn required_attributes_and_a_verified_phone_stay_with_their_user() {
    let server = start().await;
    let sdk = public_client(&server);
    let mut pool = server.pool(POOL).await;
    pool.required_attributes = vec!["email".into(), "name".into()];
    server.node.store.put_pool(&pool).await.unwrap();
    let user = server
        .create_user(
            POOL,
            "rita",
            [
                ("email", "rita@example.com"),
                ("email_verified", "true"),
                ("name", "Rita"),
                ("nickname", "ri"),
                ("phone_number", "+14325551212"),
                ("phone_number_verified", "true"),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
            PASSWORD,
        )
        .await;
    let token = access_on(&sdk, APP, "rita").await;

    // Honest: an attribute the pool does not require goes, and a required one changes.
    sdk.delete_user_attributes()
        .access_token(&token)
        .user_attribute_names("nickname")
        .send()
        .await
        .expect("an optional attribute is deleted");
    sdk.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("name", "Rita R."))
        .send()
        .await
        .expect("a required attribute changes");

    // Removing a required attribute either way is refused, naming it.
    for name in ["email", "name"] {
        let err = sdk
            .delete_user_attributes()
            .access_token(&token)
            .user_attribute_names(name)
            .send()
            .await
            .unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException", "{name}");
        assert!(
            message.contains(name) && message.contains("required"),
            "{message}"
        );
        let err = sdk
            .update_user_attributes()
            .access_token(&token)
            .user_attributes(attr(name, ""))
            .send()
            .await
            .unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException", "{name}");
        assert!(
            message.contains(name) && message.contains("required"),
            "{message}"
        );
    }

    // A verified phone number is not its user's to delete; an unverified one is.
    let err = sdk
        .delete_user_attributes()
        .access_token(&token)
        .user_attribute_names("phone_number")
        .send()
        .await
        .unwrap_err();
    let (code, message) = refusal(&err);
    assert_eq!(code, "InvalidParameterException");
    assert!(message.contains("verified phone number"), "{message}");
    server
        .node
        .directory
        .modify_user(&pool, &user.sub, |u| {
            u.attributes
                .insert("phone_number_verified".into(), "false".into());
            Ok(())
        })
        .await
        .unwrap();
    sdk.delete_user_attributes()
        .access_token(&token)
        .user_attribute_names("phone_number")
        .send()
        .await
        .expect("an unverified phone number is deleted");

    let got = sdk.get_user().access_token(&token).send().await.unwrap();
    let has = |n: &str| got.user_attributes().iter().any(|a| a.name == n);
    assert!(has("email") && has("name"));
    assert!(!has("nickname") && !has("phone_number"));
}

#[tokio::test]
async fn control_characters_in_attribute_values_are_refused() {
    let server = start().await;
    let sdk = public_client(&server);
    // Honest: a sign-up with plain values.
    sdk.sign_up()
        .client_id(APP)
        .username("sam")
        .password(PASSWORD)
        .user_attributes(attr("email", "sam@example.com"))
        .user_attributes(attr("name", "Sam Smith"))
        .send()
        .await
        .expect("signed up");
    // A NUL (which PostgreSQL refuses) or another control character is refused by name.
    for (name, value) in [("name", "Sam\0"), ("given_name", "S\u{1}am")] {
        let err = sdk
            .sign_up()
            .client_id(APP)
            .username("sam2")
            .password(PASSWORD)
            .user_attributes(attr("email", "sam2@example.com"))
            .user_attributes(attr(name, value))
            .send()
            .await
            .unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException", "{name}");
        assert!(message.contains(name), "{message}");
    }

    confirmed_user(&server, POOL, "tess", "tess@example.com").await;
    let token = access_on(&sdk, APP, "tess").await;
    sdk.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("family_name", "Tessier"))
        .send()
        .await
        .expect("a plain value");
    for (name, value) in [
        ("family_name", "Tess\0ier"),
        ("preferred_username", "tess\u{7f}"),
    ] {
        let err = sdk
            .update_user_attributes()
            .access_token(&token)
            .user_attributes(attr(name, value))
            .send()
            .await
            .unwrap_err();
        let (code, message) = refusal(&err);
        assert_eq!(code, "InvalidParameterException", "{name}");
        assert!(message.contains(name), "{message}");
    }
    let got = sdk.get_user().access_token(&token).send().await.unwrap();
    let family = got
        .user_attributes()
        .iter()
        .find(|a| a.name == "family_name")
        .and_then(|a| a.value.clone());
    assert_eq!(family.as_deref(), Some("Tessier"));
}

#[tokio::test]
async fn an_administrators_email_write_drops_a_pending_change() {
    let server = start().await;
    let sdk = public_client(&server);
    let admin = operator_client(&server).await;
    confirmed_user(&server, POOL, "ursa", "ursa@old.example").await;
    let token = access_on(&sdk, APP, "ursa").await;
    // A stolen token asks for the attacker's address; the administrator, told, sets the
    // address the owner gives.
    sdk.update_user_attributes()
        .access_token(&token)
        .user_attributes(attr("email", "thief@evil.example"))
        .send()
        .await
        .expect("pending");
    let code = server.inbox.code_for("thief@evil.example").await;
    admin
        .admin_update_user_attributes()
        .user_pool_id(POOL)
        .username("ursa")
        .user_attributes(attr("email", "ursa@safe.example"))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .expect("the administrator's write");
    // The attacker's code no longer applies anything.
    let err = sdk
        .verify_user_attribute()
        .access_token(&token)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .unwrap_err();
    assert_eq!(refusal(&err).0, "ExpiredCodeException");
    let got = sdk.get_user().access_token(&token).send().await.unwrap();
    let email = got
        .user_attributes()
        .iter()
        .find(|a| a.name == "email")
        .and_then(|a| a.value.clone());
    assert_eq!(email.as_deref(), Some("ursa@safe.example"));
    sign_in_on(&sdk, APP, "ursa@safe.example", PASSWORD)
        .await
        .expect("the administrator's address signs in");
}
