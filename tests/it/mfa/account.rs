//! The account security page: removing the last factor of an `ON` pool is refused (409),
//! under `OPTIONAL` it is allowed; a session whose sign-in is not recent is sent to sign
//! in again before removing anything, and comes back to the page.

use std::sync::Arc;

use reqwest::StatusCode;

use cognate::core::session::SessionExtras;

use super::rules::enrol_totp_on_account_page;
use super::{
    clear_of_step_end, enrol_totp_at_sign_in, factors, start, totp_at, unix_now, wait_for_step,
    Browser, ON, ON_SPA, OPT, OPT_SPA,
};
use crate::support::server::hidden;

/// The account page of `client_id`'s pool: its factors and its `_csrf`.
async fn account_page(browser: &Browser, client_id: &str) -> (Vec<(String, String)>, String) {
    let page = browser
        .get(&format!("/account/security?client_id={client_id}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    let csrf = hidden(&page.body, "_csrf").expect("_csrf on the account page");
    (factors(&page.body), csrf)
}

async fn remove(browser: &Browser, client_id: &str, csrf: &str, factor: &str) -> super::Page {
    browser
        .post(
            "/account/security/remove",
            &[
                ("_csrf", csrf),
                ("client_id", client_id),
                ("factor", factor),
            ],
        )
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_factor_of_an_on_pool_cannot_be_removed_but_under_optional_it_can() {
    let server = start().await;
    server.user(ON, "ola", super::PASSWORD).await;
    server.user(OPT, "ola", super::PASSWORD).await;

    // Without a session: into a login flow.
    let stranger = Browser::new(&server);
    let page = stranger
        .get(&format!("/account/security?client_id={ON_SPA}"))
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert!(page.location().starts_with("/login?flow="), "{page:?}");

    // ON: enrolled at sign-in, the one factor listed; removing it is refused.
    let browser = Browser::new(&server);
    let enrolled = enrol_totp_at_sign_in(&browser, ON_SPA, "ola", 0).await;
    enrolled.completion.expect_code("enrolled");
    let (listed, csrf) = account_page(&browser, ON_SPA).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].1, "TOTP");
    let refused = remove(&browser, ON_SPA, &csrf, &listed[0].0).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{refused:?}");
    let (still, _) = account_page(&browser, ON_SPA).await;
    assert_eq!(still, listed);
    let user = server.find_user(ON, "ola").await.unwrap();
    assert_eq!(user.mfa.factors.len(), 1);

    // OPTIONAL: the same removal goes through.
    let browser = Browser::new(&server);
    let (_, page) = browser.password(OPT_SPA, "ola").await;
    page.expect_code("no factor yet");
    enrol_totp_on_account_page(&browser, OPT_SPA).await;
    let (listed, csrf) = account_page(&browser, OPT_SPA).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let before = super::mails_to(&server, "ola@example.com");
    let removed = remove(&browser, OPT_SPA, &csrf, &listed[0].0).await;
    assert!(
        removed.status == StatusCode::OK || removed.status == StatusCode::SEE_OTHER,
        "{removed:?}"
    );
    let (left, _) = account_page(&browser, OPT_SPA).await;
    assert!(left.is_empty(), "{left:?}");
    let user = server.find_user(OPT, "ola").await.unwrap();
    assert!(user.mfa.factors.is_empty(), "{:?}", user.mfa.kinds());
    super::next_mail(&server, "ola@example.com", before).await;
    server.stop().await;
}

/// A browser whose only cookie is a session of `pool_id` for `sub` that signed in
/// `age` seconds ago with a password and TOTP.
async fn browser_with_old_session(
    server: &crate::support::server::TestServer,
    pool_id: &str,
    sub: &str,
    age: i64,
) -> Browser {
    let now = cognate::core::now();
    let id = server
        .node
        .sessions
        .start_session(
            pool_id,
            sub,
            "COGNITO",
            SessionExtras {
                amr: vec!["pwd".into(), "otp".into(), "mfa".into()],
                ..SessionExtras::default()
            },
            now - age,
            now,
        )
        .await
        .unwrap();
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let url: url::Url = server.base.parse().unwrap();
    let name = format!("cognate_session_{pool_id}");
    let value = server.node.master.sign_cookie(&name, &id);
    jar.add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    cognate::federation::http::install_crypto_provider();
    Browser {
        client: reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .unwrap(),
        base: server.base.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_a_factor_with_an_old_sign_in_asks_to_sign_in_again() {
    let server = start().await;
    let uma = server.user(OPT, "uma", super::PASSWORD).await;
    let browser = Browser::new(&server);
    let (_, page) = browser.password(OPT_SPA, "uma").await;
    page.expect_code("no factor yet");
    let secret = enrol_totp_on_account_page(&browser, OPT_SPA).await;
    let enrolled_step = unix_now() / 30;

    // A session that signed in ten minutes ago: the page shows, the removal does not
    // happen; the answer is a sign-in again.
    let stale = browser_with_old_session(&server, OPT, &uma.sub, 600).await;
    let (listed, csrf) = account_page(&stale, OPT_SPA).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let page = remove(&stale, OPT_SPA, &csrf, &listed[0].0).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    page.assert_no_code("a stale removal");
    let user = server.find_user(OPT, "uma").await.unwrap();
    assert_eq!(user.mfa.factors.len(), 1, "not removed");

    // Following it: the sign-in form (prompt=login), the password and the code, then back
    // to the account page, where the removal now goes through.
    let mut location = page.location().to_string();
    for _ in 0..3 {
        if location.starts_with("/login?") {
            break;
        }
        let next = stale.get(&location).await;
        assert_eq!(next.status, StatusCode::SEE_OTHER, "{next:?}");
        location = next.location().to_string();
    }
    assert!(location.starts_with("/login?flow="), "{location}");
    let flow = stale
        .flow_at(&location, OPT_SPA, crate::claims::Pkce::new("again"))
        .await;
    let page = stale.password_on(&flow, "uma").await;
    assert!(page.location().starts_with("/login/mfa?"), "{page:?}");
    wait_for_step(enrolled_step + 1).await;
    clear_of_step_end(3).await;
    let code = totp_at(&secret, unix_now());
    let page = stale
        .form(&flow, "/login/mfa", &[("factor", "totp"), ("code", &code)])
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{page:?}");
    assert!(
        page.location().contains("/account/security"),
        "back to the account page: {page:?}"
    );
    let (listed, csrf) = account_page(&stale, OPT_SPA).await;
    let removed = remove(&stale, OPT_SPA, &csrf, &listed[0].0).await;
    assert!(
        removed.status == StatusCode::OK || removed.status == StatusCode::SEE_OTHER,
        "{removed:?}"
    );
    let user = server.find_user(OPT, "uma").await.unwrap();
    assert!(user.mfa.factors.is_empty(), "removed after a fresh sign-in");
    server.stop().await;
}
