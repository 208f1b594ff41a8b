//! Sessions and tokens under MFA: a password session made while the pool was `OPTIONAL`
//! does not pass another client once the pool turns `ON`; `prompt=login` and `max_age`
//! sign in again with the second factor; a refresh is not a sign-in (it works, with the
//! same `auth_time`).

use std::time::Duration;

use cognate::core::model::MfaSetting;
use reqwest::StatusCode;

use super::{
    clear_of_step_end, enrol_totp_at_sign_in, set_mfa, start, tokens_for, totp_at, unix_now,
    wait_for_step, Browser, ON, ON_OTHER, ON_SPA, OPT, OPT_OTHER, OPT_SPA,
};
use crate::claims::{claims_of, token, Pkce};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_session_does_not_pass_another_client_after_the_pool_turns_on() {
    let server = start().await;
    server.user(OPT, "vic", super::PASSWORD).await;
    let browser = Browser::new(&server);
    let (flow, page) = browser.password(OPT_SPA, "vic").await;
    let code = page.expect_code("OPTIONAL, no factor");
    tokens_for(&server.base, &flow, &code, "vic").await;

    // While OPTIONAL: single sign-on into the other client.
    let sso = browser.authorize(OPT_OTHER, &Pkce::new("o1"), &[]).await;
    assert!(
        sso.code().is_some(),
        "single sign-on under OPTIONAL: {sso:?}"
    );

    // The pool turns ON: the same session gives the other client (and its own) nothing.
    set_mfa(&server, OPT, MfaSetting::On).await;
    for client in [OPT_OTHER, OPT_SPA] {
        let page = browser.authorize(client, &Pkce::new("o2"), &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
        page.assert_no_code("a password session under ON");
        let none = browser
            .authorize(client, &Pkce::new("o3"), &[("prompt", "none")])
            .await;
        none.assert_no_code("prompt=none with a password session under ON");
    }
    // Signing in again leads to the enrolment, then a code.
    let (_, page) = Browser::new(&server).password(OPT_OTHER, "vic").await;
    assert!(page.location().starts_with("/login/mfa-setup?"), "{page:?}");
    let fresh = Browser::new(&server);
    let enrolled = enrol_totp_at_sign_in(&fresh, OPT_OTHER, "vic", 0).await;
    let code = enrolled.completion.expect_code("enrolled under ON");
    tokens_for(&server.base, &enrolled.flow, &code, "vic").await;
    // That session (which passed the factor) does pass the pool's other client.
    let sso = fresh.authorize(OPT_SPA, &Pkce::new("o4"), &[]).await;
    assert!(sso.code().is_some(), "an MFA session passes: {sso:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_login_and_max_age_run_the_second_factor_again_and_refresh_is_not_a_sign_in() {
    let server = start().await;
    server.user(ON, "wes", super::PASSWORD).await;
    let browser = Browser::new(&server);
    let enrolled = enrol_totp_at_sign_in(&browser, ON_SPA, "wes", 0).await;
    let code = enrolled.completion.expect_code("enrolled");
    let (id, answer) = tokens_for(&server.base, &enrolled.flow, &code, "wes").await;
    let auth_time = id["auth_time"].clone();
    let refresh_token = answer.str("refresh_token");

    // Honest: the session (password + TOTP) passes the other client, and a generous
    // max_age.
    let sso = browser.authorize(ON_OTHER, &Pkce::new("p1"), &[]).await;
    assert!(
        sso.code().is_some(),
        "single sign-on with the factor: {sso:?}"
    );
    let sso = browser
        .authorize(ON_OTHER, &Pkce::new("p2"), &[("max_age", "3600")])
        .await;
    assert!(sso.code().is_some(), "max_age=3600: {sso:?}");

    // prompt=login, max_age=0, and (two seconds later) max_age=1: the form again, and the
    // password leads to the second factor, not to a code.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    for extra in [("prompt", "login"), ("max_age", "0"), ("max_age", "1")] {
        let pkce = Pkce::new("again");
        let page = browser.authorize(ON_SPA, &pkce, &[extra]).await;
        assert!(
            page.location().starts_with("/login?flow="),
            "{extra:?}: {page:?}"
        );
        let flow = browser.flow_at(page.location(), ON_SPA, pkce).await;
        let page = browser.password_on(&flow, "wes").await;
        assert!(
            page.location().starts_with("/login/mfa?"),
            "{extra:?} asks the factor again: {page:?}"
        );
        page.assert_no_code("the password alone");
    }
    let bad = browser
        .authorize(ON_SPA, &Pkce::new("bad"), &[("max_age", "soon")])
        .await;
    bad.assert_no_code("a malformed max_age");

    // Signing in again with the factor gives a new auth_time.
    wait_for_step(enrolled.step + 1).await;
    clear_of_step_end(3).await;
    let pkce = Pkce::new("again2");
    let page = browser.authorize(ON_SPA, &pkce, &[("max_age", "0")]).await;
    let flow = browser.flow_at(page.location(), ON_SPA, pkce).await;
    let page = browser.password_on(&flow, "wes").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    let totp = totp_at(&enrolled.secret, unix_now());
    let page = browser
        .form(&flow, "/login/mfa", &[("factor", "totp"), ("code", &totp)])
        .await;
    let code = page.expect_code("max_age=0 with the factor");
    let (id2, _) = tokens_for(&server.base, &flow, &code, "wes").await;
    assert!(
        id2["auth_time"].as_i64() > auth_time.as_i64(),
        "{id2} / {auth_time}"
    );

    // A refresh works and is not a sign-in: the first sign-in's auth_time.
    let refreshed = token(
        &server.base,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", ON_SPA),
            ("refresh_token", refresh_token.as_str()),
        ],
        None,
    )
    .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.json);
    let id3 = claims_of(&refreshed.str("id_token"));
    assert_eq!(id3["auth_time"], auth_time, "{id3}");
    server.stop().await;
}
