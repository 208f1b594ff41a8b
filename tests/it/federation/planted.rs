//! Login CSRF by a planted browser cookie: the attacker starts his own upstream flow with a
//! `cognate_browser` value of his choosing, plants that value in the victim's browser (from
//! a sibling subdomain, or over plain http) and sends the victim his callback URL. Only
//! values the server issued (signed) are adopted, so his flow is bound to the value the
//! server gave him, and the victim's browser, carrying the planted one, cannot finish it.
//! The `__Host-` names that keep a genuine value from being planted are in `sessions`.

use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;

use crate::support::federated::{assert_failed_page, at_idp, callback, location, outcome, param};

use super::{authorize_url, env, POOL};

/// The `cognate_browser` value a response sets.
fn issued(r: &reqwest::Response) -> String {
    r.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .find_map(|pair| pair.strip_prefix("cognate_browser="))
        .unwrap_or_else(|| panic!("no cognate_browser cookie set: {:?}", r.headers()))
        .to_string()
}

#[tokio::test]
async fn a_planted_browser_cookie_is_not_adopted() {
    let env = env().await;
    env.google.set_user(
        "g-mallory",
        json!({"email": "mallory@example.com", "email_verified": true}),
    );
    // Shaped like an issued value (43 characters), an unsigned one, and one with a forged
    // signature.
    let plain = "A".repeat(43);
    let forged = format!("{}.{}", "B".repeat(43), "C".repeat(43));
    for planted in [plain, forged] {
        let cookie = format!("cognate_browser={planted}");
        // The attacker starts his flow carrying the value he will plant.
        let attacker = crate::support::http();
        let r = attacker
            .get(authorize_url(&env.server.base, Some("Google")))
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        // Not adopted: the server binds the flow to a value of its own.
        let own = issued(&r);
        assert_ne!(own, planted);
        assert!(!own.starts_with(&planted), "{own}");
        let back = at_idp(&attacker, &location(&r)).await;
        assert!(param(&back, "code").is_some());

        // The victim's browser, carrying the planted value, opens the attacker's callback.
        let users = env.server.user_count(POOL).await;
        let victim = crate::support::http();
        let r = victim
            .get(&back)
            .header(COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert_failed_page(
            outcome(r).await,
            "the attacker's flow in the victim's browser",
        );
        assert_eq!(env.server.user_count(POOL).await, users);

        // The attacker's own browser, with the value the server issued, finishes it: the
        // binding holds, only the planted value does not.
        let r = attacker
            .get(&back)
            .header(COOKIE, format!("cognate_browser={own}"))
            .send()
            .await
            .unwrap();
        let redirect = outcome(r).await.expect("the flow's own browser");
        assert!(param(&redirect, "code").is_some(), "{redirect}");
        assert!(env
            .server
            .find_user(POOL, "Google_g-mallory")
            .await
            .is_some());
    }
    // An honest browser that keeps its cookies signs in as well.
    let browser = crate::support::server::browser_client();
    let r = browser
        .get(authorize_url(&env.server.base, Some("Google")))
        .send()
        .await
        .unwrap();
    let back = at_idp(&browser, &location(&r)).await;
    callback(&browser, &back).await.expect("the honest flow");
}
