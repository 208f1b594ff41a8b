//! The pool's `mfa` setting: under `ON` a user without a factor gets no code, no session and
//! no token before enrolling (Cognito's MFA_SETUP), whichever way they try; under
//! `OPTIONAL` a user without a factor signs in with the password alone and a user with one
//! is challenged.

use reqwest::StatusCode;

use super::{
    clear_of_step_end, enrol_totp_at_sign_in, start, tokens_for, unix_now, wait_for_step, Browser,
    ON, ON_OTHER, ON_SPA, OPT, OPT_OTHER, OPT_SPA,
};
use crate::claims::Pkce;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_on_a_user_without_a_factor_gets_nothing_before_enrolling() {
    let server = start().await;
    server.user(ON, "nia", super::PASSWORD).await;
    let browser = Browser::new(&server);
    let (flow, page) = browser.password(ON_SPA, "nia").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert!(
        page.location()
            .starts_with(&format!("/login/mfa-setup?flow={}", flow.flow)),
        "{page:?}"
    );
    page.assert_no_code("password alone under ON");

    // The setup page, not a session: the pool's other clients still show the form, and
    // prompt=none is refused.
    let setup = browser.get(page.location()).await;
    assert_eq!(setup.status, StatusCode::OK, "{setup:?}");
    let other = browser.authorize(ON_OTHER, &Pkce::new("other"), &[]).await;
    assert!(other.location().starts_with("/login?flow="), "{other:?}");
    other.assert_no_code("another client before enrolment");
    let none = browser
        .authorize(ON_SPA, &Pkce::new("none"), &[("prompt", "none")])
        .await;
    assert!(
        none.location().contains("error=login_required"),
        "prompt=none before enrolment: {none:?}"
    );
    none.assert_no_code("prompt=none before enrolment");

    // Skipping the enrolment: the setup's "done" and the challenge's forms give nothing.
    let done = browser.form(&flow, "/login/mfa-setup/done", &[]).await;
    done.assert_no_code("done without enrolling");
    let challenge = browser
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "totp"), ("code", "123456")],
        )
        .await;
    challenge.assert_no_code("a code without a factor");
    let recovery = browser
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "recovery"), ("code", "abcd-efgh-ijkl")],
        )
        .await;
    recovery.assert_no_code("a recovery code without a factor");
    // The password again on the same flow leads back to the setup.
    let again = browser.password_on(&flow, "nia").await;
    assert!(
        again.location().starts_with("/login/mfa-setup?"),
        "{again:?}"
    );
    again.assert_no_code("the password again");
    // A flow of the other client, posted the password: the setup too.
    let (_, other) = browser.password(ON_OTHER, "nia").await;
    assert!(
        other.location().starts_with("/login/mfa-setup?"),
        "{other:?}"
    );

    // Honest: enrolling gives the code, and tokens.
    let enrolled = enrol_totp_at_sign_in(&Browser::new(&server), ON_SPA, "nia", 0).await;
    let code = enrolled.completion.expect_code("after enrolment");
    tokens_for(&server.base, &enrolled.flow, &code, "nia").await;
    server.stop().await;
}

/// Under OPTIONAL: `ann` has no factor, `ben` enrols one from the account page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_optional_only_users_with_a_factor_are_challenged() {
    let server = start().await;
    server.user(OPT, "ann", super::PASSWORD).await;
    server.user(OPT, "ben", super::PASSWORD).await;

    // ann: the password alone.
    let browser = Browser::new(&server);
    let (flow, page) = browser.password(OPT_SPA, "ann").await;
    let code = page.expect_code("a user without a factor under OPTIONAL");
    tokens_for(&server.base, &flow, &code, "ann").await;

    // ben enrols TOTP on the account page, right after signing in.
    let ben = Browser::new(&server);
    let (flow, page) = ben.password(OPT_SPA, "ben").await;
    let code = page.expect_code("ben before enrolling");
    tokens_for(&server.base, &flow, &code, "ben").await;
    let secret = enrol_totp_on_account_page(&ben, OPT_SPA).await;

    // ben is now challenged, and signs in with a fresh code.
    let fresh = Browser::new(&server);
    let (flow, page) = fresh.password(OPT_SPA, "ben").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    page.assert_no_code("a user with a factor under OPTIONAL");
    let enrolled_step = unix_now() / 30;
    wait_for_step(enrolled_step + 1).await;
    clear_of_step_end(3).await;
    let totp = super::totp_at(&secret, unix_now());
    let page = fresh
        .form(&flow, "/login/mfa", &[("factor", "totp"), ("code", &totp)])
        .await;
    let code = page.expect_code("ben with his code");
    tokens_for(&server.base, &flow, &code, "ben").await;

    // ann's password session passes the pool's other client (she holds no factor).
    let sso = browser.authorize(OPT_OTHER, &Pkce::new("sso"), &[]).await;
    assert!(sso.code().is_some(), "ann's session passes: {sso:?}");
    server.stop().await;
}

/// Enrols TOTP from the account security page of a browser signed in to `client_id`'s
/// pool (recently); returns the key. Asserts the contract's pages on the way.
pub async fn enrol_totp_on_account_page(browser: &Browser, client_id: &str) -> String {
    let account = browser
        .get(&format!("/account/security?client_id={client_id}"))
        .await;
    assert_eq!(account.status, StatusCode::OK, "{account:?}");
    let csrf = crate::support::server::hidden(&account.body, "_csrf").expect("_csrf");
    let started = browser
        .post(
            "/account/security/totp/start",
            &[("_csrf", &csrf), ("client_id", client_id)],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK, "{started:?}");
    let secret = super::element_text(&started.body, "totp-secret").expect("#totp-secret");
    let enrolment = crate::support::server::hidden(&started.body, "enrolment").expect("enrolment");
    let csrf = crate::support::server::hidden(&started.body, "_csrf").unwrap_or(csrf);
    clear_of_step_end(3).await;
    let code = super::totp_at(&secret, unix_now());
    let confirmed = browser
        .post(
            "/account/security/totp/confirm",
            &[
                ("_csrf", &csrf),
                ("client_id", client_id),
                ("enrolment", &enrolment),
                ("code", &code),
                ("name", "Phone"),
            ],
        )
        .await;
    assert!(
        confirmed.status == StatusCode::OK || confirmed.status == StatusCode::SEE_OTHER,
        "{confirmed:?}"
    );
    if confirmed.status == StatusCode::OK {
        assert_eq!(
            super::recovery_codes(&confirmed.body).len(),
            10,
            "the first factor's recovery codes: {}",
            confirmed.body
        );
    }
    secret
}
