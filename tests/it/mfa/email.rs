//! Emailed one-time codes (Cognito's EMAIL_OTP), read from the test SMTP sink: as the
//! second factor of an `ON` pool that allows only email (enrolled at sign-in, then
//! challenged), single use; and as a passwordless first factor, single use, with the same
//! answers for an unknown user.

use reqwest::StatusCode;

use super::{
    mails_to, next_code, recovery_codes, start, tokens_for, wrong, Browser, EMAIL, EMAIL_SPA,
    PWLESS, PWLESS_SPA,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_codes_as_the_second_factor_enrol_and_sign_in_once_each() {
    let server = start().await;
    server.user(EMAIL, "eve", super::PASSWORD).await;
    let address = "eve@example.com";

    // Enrolment at sign-in: a code mailed to the verified address, typed back.
    let browser = Browser::new(&server);
    let (flow, page) = browser.password(EMAIL_SPA, "eve").await;
    assert!(page.location().starts_with("/login/mfa-setup?"), "{page:?}");
    page.assert_no_code("the password alone");
    let setup = browser
        .get(&format!("/login/mfa-setup?flow={}&factor=email", flow.flow))
        .await;
    assert_eq!(setup.status, StatusCode::OK, "{setup:?}");
    let before = mails_to(&server, address);
    let sent = browser
        .form(&flow, "/login/mfa-setup/email-code", &[])
        .await;
    assert_eq!(sent.status, StatusCode::OK, "{sent:?}");
    let code = next_code(&server, address, before).await;
    assert!((6..=8).contains(&code.len()), "{code}");
    let refused = browser
        .form(
            &flow,
            "/login/mfa-setup",
            &[("factor", "email"), ("code", &wrong(&code))],
        )
        .await;
    refused.assert_refused("a wrong enrolment code");
    let enrolled = browser
        .form(
            &flow,
            "/login/mfa-setup",
            &[("factor", "email"), ("code", &code)],
        )
        .await;
    assert_eq!(enrolled.status, StatusCode::OK, "{enrolled:?}");
    assert_eq!(
        recovery_codes(&enrolled.body).len(),
        10,
        "{}",
        enrolled.body
    );
    let done = browser.form(&flow, "/login/mfa-setup/done", &[]).await;
    let authorization = done.expect_code("enrolled by email");
    tokens_for(&server.base, &flow, &authorization, "eve").await;

    // Signing in again: the challenge mails a code; a wrong one is refused, the right one
    // signs in.
    let second = Browser::new(&server);
    let (flow, page) = second.password(EMAIL_SPA, "eve").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    let challenge = second.get(page.location()).await;
    assert_eq!(challenge.status, StatusCode::OK, "{challenge:?}");
    let before = mails_to(&server, address);
    let sent = second.form(&flow, "/login/mfa/email-code", &[]).await;
    assert_eq!(sent.status, StatusCode::OK, "{sent:?}");
    let code = next_code(&server, address, before).await;
    let refused = second
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "email"), ("code", &wrong(&code))],
        )
        .await;
    refused.assert_refused("a wrong emailed code");
    let page = second
        .form(&flow, "/login/mfa", &[("factor", "email"), ("code", &code)])
        .await;
    let authorization = page.expect_code("the emailed code");
    tokens_for(&server.base, &flow, &authorization, "eve").await;

    // The same code again, on a new sign-in, is refused (single use); a new code works.
    let third = Browser::new(&server);
    let (flow, page) = third.password(EMAIL_SPA, "eve").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    let replay = third
        .form(&flow, "/login/mfa", &[("factor", "email"), ("code", &code)])
        .await;
    replay.assert_refused("a used emailed code");
    let before = mails_to(&server, address);
    let sent = third.form(&flow, "/login/mfa/email-code", &[]).await;
    assert_eq!(sent.status, StatusCode::OK, "{sent:?}");
    let fresh = next_code(&server, address, before).await;
    let page = third
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "email"), ("code", &fresh)],
        )
        .await;
    let authorization = page.expect_code("a new emailed code");
    tokens_for(&server.base, &flow, &authorization, "eve").await;
    server.stop().await;
}

/// A page's body with the values that differ between two requests blanked out.
fn normalized(body: &str, blank: &[&str]) -> String {
    let mut text = body.to_string();
    for b in blank {
        if !b.is_empty() {
            text = text.replace(b, "…");
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwordless_email_sign_in_is_single_use_and_reveals_no_account() {
    let server = start().await;
    server.user(PWLESS, "pat", super::PASSWORD).await;
    let address = "pat@example.com";

    // The username form, then the code page; the code from the mail signs in.
    let browser = Browser::new(&server);
    let flow = browser.start(PWLESS_SPA, &[]).await;
    let form = browser
        .get(&format!("/login/email?flow={}", flow.flow))
        .await;
    assert_eq!(form.status, StatusCode::OK, "{form:?}");
    let before = mails_to(&server, address);
    let asked = browser
        .form(&flow, "/login/email", &[("username", "pat")])
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{asked:?}");
    let code = next_code(&server, address, before).await;
    let refused = browser
        .form(&flow, "/login/email/verify", &[("code", &wrong(&code))])
        .await;
    refused.assert_refused("a wrong sign-in code");
    let page = browser
        .form(&flow, "/login/email/verify", &[("code", &code)])
        .await;
    let authorization = page.expect_code("the emailed sign-in code");
    let (id, _) = tokens_for(&server.base, &flow, &authorization, "pat").await;
    assert_eq!(id["email"], address);

    // Single use: the same code on a new flow (after asking again) is refused; the new
    // code signs in.
    let again = Browser::new(&server);
    let flow = again.start(PWLESS_SPA, &[]).await;
    let before = mails_to(&server, address);
    let asked_pat = again
        .form(&flow, "/login/email", &[("username", "pat")])
        .await;
    assert_eq!(asked_pat.status, StatusCode::OK, "{asked_pat:?}");
    let fresh = next_code(&server, address, before).await;
    if fresh != code {
        let replay = again
            .form(&flow, "/login/email/verify", &[("code", &code)])
            .await;
        replay.assert_refused("a used sign-in code");
    }
    let wrong_for_pat = again
        .form(&flow, "/login/email/verify", &[("code", &wrong(&fresh))])
        .await;
    wrong_for_pat.assert_refused("a wrong code for pat");
    let page = again
        .form(&flow, "/login/email/verify", &[("code", &fresh)])
        .await;
    let authorization = page.expect_code("a new sign-in code");
    tokens_for(&server.base, &flow, &authorization, "pat").await;

    // An unknown user: the same answers (the code page, then the same refusal), no mail.
    let stranger = Browser::new(&server);
    let flow_x = stranger.start(PWLESS_SPA, &[]).await;
    let mails = server.inbox.all().len();
    let asked_nobody = stranger
        .form(&flow_x, "/login/email", &[("username", "zed")])
        .await;
    assert_eq!(asked_nobody.status, asked_pat.status, "{asked_nobody:?}");
    assert_eq!(
        normalized(&asked_nobody.body, &[&flow_x.flow, &flow_x.csrf, "zed"]),
        normalized(&asked_pat.body, &[&flow.flow, &flow.csrf, "pat"]).replace("…@example.com", "…"),
        "the code page differs for an unknown user"
    );
    let guessed = stranger
        .form(&flow_x, "/login/email/verify", &[("code", &wrong(&fresh))])
        .await;
    guessed.assert_refused("a code for an unknown user");
    assert_eq!(
        normalized(&guessed.body, &[&flow_x.flow, &flow_x.csrf, "zed"]),
        normalized(&wrong_for_pat.body, &[&flow.flow, &flow.csrf, "pat"])
            .replace("…@example.com", "…"),
        "the refusal differs for an unknown user"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(server.inbox.all().len(), mails, "nothing mailed for zed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passwordless_sign_in_still_asks_the_users_totp() {
    let server = start().await;
    server.user(PWLESS, "pia", super::PASSWORD).await;
    let address = "pia@example.com";
    // pia signs in with her password and enrols TOTP on the account page.
    let browser = Browser::new(&server);
    let (_, page) = browser.password(PWLESS_SPA, "pia").await;
    page.expect_code("no factor yet");
    let secret = super::rules::enrol_totp_on_account_page(&browser, PWLESS_SPA).await;
    let enrolled_step = super::unix_now() / 30;

    // An emailed sign-in code is one factor: the TOTP challenge follows, no code yet.
    let other = Browser::new(&server);
    let flow = other.start(PWLESS_SPA, &[]).await;
    let before = mails_to(&server, address);
    let asked = other
        .form(&flow, "/login/email", &[("username", "pia")])
        .await;
    assert_eq!(asked.status, StatusCode::OK, "{asked:?}");
    let code = next_code(&server, address, before).await;
    let page = other
        .form(&flow, "/login/email/verify", &[("code", &code)])
        .await;
    page.assert_no_code("an emailed code for a user with TOTP");
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    let challenge = other.get(page.location()).await;
    assert_eq!(challenge.status, StatusCode::OK, "{challenge:?}");

    // Honest: her TOTP code completes it.
    super::wait_for_step(enrolled_step + 1).await;
    super::clear_of_step_end(3).await;
    let totp = super::totp_at(&secret, super::unix_now());
    let page = other
        .form(&flow, "/login/mfa", &[("factor", "totp"), ("code", &totp)])
        .await;
    let authorization = page.expect_code("emailed code then TOTP");
    tokens_for(&server.base, &flow, &authorization, "pia").await;
    server.stop().await;
}
