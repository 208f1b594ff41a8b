//! Recovery codes: the ten shown at enrolment each work once in place of the factor, and
//! using one mails a notice.

use super::{enrol_totp_at_sign_in, mails_to, next_mail, start, tokens_for, Browser, ON, ON_SPA};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_code_works_once_in_place_of_the_factor_and_mails_a_notice() {
    let server = start().await;
    server.user(ON, "rey", super::PASSWORD).await;
    let address = "rey@example.com";
    let enrolled = enrol_totp_at_sign_in(&Browser::new(&server), ON_SPA, "rey", 0).await;
    enrolled.completion.expect_code("enrolled");
    let codes = enrolled.recovery_codes.clone();

    // Phone lost: the first recovery code signs in, and a notice is mailed.
    let browser = Browser::new(&server);
    let (flow, page) = browser.password(ON_SPA, "rey").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    let recovery_page = browser
        .get(&format!("/login/mfa?flow={}&factor=recovery", flow.flow))
        .await;
    assert_eq!(recovery_page.status, 200, "{recovery_page:?}");
    let before = mails_to(&server, address);
    let page = browser
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "recovery"), ("code", &codes[0])],
        )
        .await;
    let code = page.expect_code("a recovery code");
    tokens_for(&server.base, &flow, &code, "rey").await;
    let notice = next_mail(&server, address, before).await;
    assert!(
        !notice.contains(&codes[0]),
        "the notice does not repeat the code: {notice}"
    );

    // Not twice.
    let again = Browser::new(&server);
    let (flow, page) = again.password(ON_SPA, "rey").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    let page = again
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "recovery"), ("code", &codes[0])],
        )
        .await;
    page.assert_refused("a used recovery code");
    let page = again
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "recovery"), ("code", "zzzz-zzzz-zzzz")],
        )
        .await;
    page.assert_refused("a made-up recovery code");
    // Another of the ten still works, on the same flow.
    let page = again
        .form(
            &flow,
            "/login/mfa",
            &[("factor", "recovery"), ("code", &codes[1])],
        )
        .await;
    let code = page.expect_code("another recovery code");
    tokens_for(&server.base, &flow, &code, "rey").await;
    server.stop().await;
}
