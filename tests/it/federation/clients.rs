//! The IdPs and sessions each app client takes: `identity_provider` with an open session
//! (unless `prompt=login`), Cognito's `SupportedIdentityProviders`, `identity_provider=COGNITO`
//! as the pool's own sign-in, and sessions answering only clients that take their way in.

use crate::support::federated::{self, at_idp, callback, location, login_page, param};
use crate::support::server::browser_client;

use super::{
    authorize_url, env, google_only, id_token, rp, sign_in, via_idp, CALLBACK, CLIENT, GOOGLE_ONLY,
    POOL,
};

#[tokio::test]
async fn an_open_session_answers_identity_provider_unless_prompt_is_login() {
    let env = env().await;
    let browser = browser_client();
    let back = via_idp(&browser, &env, "Google").await;
    let first = callback(&browser, &back).await.expect("signed in");
    let google_user = id_token(&env, &first).await;

    // The session answers: no trip to Okta, the Google user again.
    let r = browser
        .get(authorize_url(&env.server.base, Some("Okta")))
        .send()
        .await
        .unwrap();
    let again = location(&r);
    assert!(again.starts_with(CALLBACK), "{again}");
    let id = id_token(&env, &again).await;
    assert_eq!(id["sub"], google_user["sub"]);
    assert_eq!(env.server.user_count(POOL).await, 1);

    // prompt=login goes to the provider anyway, and signs in its user.
    let with_prompt = format!(
        "{}&prompt=login",
        authorize_url(&env.server.base, Some("Okta"))
    );
    let r = browser.get(&with_prompt).send().await.unwrap();
    let upstream = location(&r);
    assert!(upstream.starts_with(&env.okta.issuer), "{upstream}");
    let back = at_idp(&browser, &upstream).await;
    let okta = callback(&browser, &back)
        .await
        .expect("signed in with Okta");
    let id = id_token(&env, &okta).await;
    assert_eq!(id["cognito:username"], "Okta_o-bob");
    assert_ne!(id["sub"], google_user["sub"]);
}

/// Cognito's `SupportedIdentityProviders`: a client signs in only through the IdPs it
/// enables. Another IdP of the pool is refused on `identity_provider` (to the client, on its
/// redirect URI) and on the sign-in page's `/oauth2/idp` (a page), the page offers only the
/// enabled IdP's button, and without `COGNITO` neither the password form nor
/// `identity_provider=COGNITO`.
#[tokio::test]
async fn a_client_signs_in_only_through_the_idps_it_enables() {
    let env = env().await;
    let base = env.server.base.clone();
    env.server.user(POOL, "carol", "Carol-pass-1").await;
    let only = google_only();
    let browser = browser_client();
    for idp in ["Okta", "COGNITO", "NoSuchIdp"] {
        let r = browser
            .get(only.authorize_url(&base, &[("identity_provider", idp)]))
            .send()
            .await
            .unwrap();
        only.assert_error(&location(&r), "invalid_request");
    }

    let (login, page) = login_page(&browser, &base, &only.authorize_url(&base, &[])).await;
    let page = page.replace("&#x2f;", "/");
    assert!(page.contains("provider=Google"), "{page}");
    assert!(!page.contains("provider=Okta"), "{page}");
    assert!(
        !page.contains("name=\"password\""),
        "a password form: {page}"
    );
    let flow = param(&login, "flow").expect("a flow");
    let button = |provider: &str| {
        let mut url = url::Url::parse(&format!("{base}/oauth2/idp")).unwrap();
        url.query_pairs_mut()
            .append_pair("flow", &flow)
            .append_pair("provider", provider);
        url.to_string()
    };
    for idp in ["Okta", "COGNITO", "NoSuchIdp"] {
        let r = browser.get(button(idp)).send().await.unwrap();
        let refused = federated::outcome(r).await;
        federated::assert_page(refused, 400, "not valid", idp);
    }
    // A password posted anyway (the form is not offered) signs nobody in.
    // The page has no form, so no CSRF token either: the attacker read it from the store.
    let stored = env.server.node.sessions.flow(&flow, cognate::core::now());
    let csrf = stored.await.unwrap().expect("the flow").csrf;
    let r = browser
        .post(format!("{base}/login"))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "carol"),
            ("password", "Carol-pass-1"),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.headers().get("set-cookie").is_none());
    federated::assert_page(federated::outcome(r).await, 400, "not valid", "password");
    assert_eq!(env.okta.token_requests(), 0);
    assert_eq!(env.server.user_count(POOL).await, 1);
    // Nor does it offer the pool's own account pages (sign-up, confirmation, reset), by
    // URL or by a posted form.
    const IDPS_ONLY: &str = "only through its identity providers";
    let pages = ["/signup", "/confirm", "/forgot-password", "/reset-password"];
    for path in pages {
        let r = browser
            .get(format!("{base}{path}?flow={flow}"))
            .send()
            .await
            .unwrap();
        federated::assert_page(federated::outcome(r).await, 403, IDPS_ONLY, path);
    }
    let r = browser
        .post(format!("{base}/forgot-password"))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "carol"),
        ])
        .send()
        .await
        .unwrap();
    federated::assert_page(federated::outcome(r).await, 403, IDPS_ONLY, "posted");
    // The pool's other client, which takes its own users, offers them.
    let (other, _) = login_page(&browser, &base, &rp().authorize_url(&base, &[])).await;
    let other_flow = param(&other, "flow").expect("a flow");
    for path in pages {
        let r = browser
            .get(format!("{base}{path}?flow={other_flow}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }

    // The enabled IdP: its button (the same flow) and `identity_provider` both sign in.
    let r = browser.get(button("Google")).send().await.unwrap();
    let upstream = location(&r);
    assert!(upstream.starts_with(&env.google.issuer), "{upstream}");
    let back = at_idp(&browser, &upstream).await;
    let redirect = callback(&browser, &back).await.expect("signed in");
    let id = only.id_token(&base, &redirect).await;
    assert_eq!(id["aud"], GOOGLE_ONLY);
    assert_eq!(id["cognito:username"], "Google_g-alice");
    let direct = only.authorize_url(&base, &[("identity_provider", "Google")]);
    let redirect = federated::sign_in(&direct)
        .await
        .expect("identity_provider");
    only.id_token(&base, &redirect).await;
    // The pool's client that enables Okta and the pool's own users still has both.
    let redirect = sign_in(&env, "Okta")
        .await
        .expect("Okta for the other client");
    assert_eq!(id_token(&env, &redirect).await["aud"], CLIENT);
    assert_eq!(env.server.user_count(POOL).await, 3);
}

/// `identity_provider=COGNITO` is the pool's own sign-in page (Cognito), buttons included,
/// and its password form signs the pool's user in.
#[tokio::test]
async fn identity_provider_cognito_shows_the_pools_own_sign_in() {
    let env = env().await;
    let base = env.server.base.clone();
    let carol = env.server.user(POOL, "carol", "Carol-pass-1").await;
    let browser = browser_client();
    let url = authorize_url(&base, Some("COGNITO"));
    let (_, page) = login_page(&browser, &base, &url).await;
    assert!(
        page.contains("name=\"password\""),
        "no password form: {page}"
    );
    let page = page.replace("&#x2f;", "/");
    assert!(page.contains("provider=Google") && page.contains("provider=Okta"));
    let redirect = crate::support::server::sign_in(&browser, &base, &url, "carol", "Carol-pass-1")
        .await
        .unwrap_or_else(|page| panic!("password sign-in: {page}"));
    let id = id_token(&env, &redirect).await;
    assert_eq!(id["sub"], carol.sub.as_str());
    assert_eq!(id["cognito:username"], "carol");
    assert!(id.get("identities").is_none(), "{id}");
    assert_eq!(env.google.token_requests() + env.okta.token_requests(), 0);
}

/// A session answers a client only when it was signed in a way the client takes: a
/// password session does not enter a client of Google alone (its form or IdP is shown,
/// and `prompt=none` is `login_required`), even for a user linked to a Google identity,
/// while a Google session does.
#[tokio::test]
async fn a_session_answers_only_clients_that_take_its_users_way_in() {
    let env = env().await;
    let base = env.server.base.clone();
    let carol = env.server.user(POOL, "carol", "Carol-pass-1").await;
    // Carol also has a Google identity linked (as `cognate users link` makes).
    let pool = env.server.pool(POOL).await;
    env.server
        .node
        .directory
        .modify_user(&pool, &carol.sub, |u| {
            u.identities.push(cognate::core::model::FederatedIdentity {
                provider_name: "Google".into(),
                provider_type: "Google".into(),
                user_id: "g-carol".into(),
                issuer: None,
                attributes: Default::default(),
                bound_to: None,
                linked_at: cognate::core::now(),
            });
            Ok(())
        })
        .await
        .expect("link");
    let only = google_only();
    let browser = browser_client();
    let redirect = crate::support::server::sign_in(
        &browser,
        &base,
        &rp().authorize_url(&base, &[]),
        "carol",
        "Carol-pass-1",
    )
    .await
    .expect("password sign-in");
    assert_eq!(id_token(&env, &redirect).await["cognito:username"], "carol");
    let authorize = |url: String| {
        let browser = browser.clone();
        async move { location(&browser.get(url).send().await.unwrap()) }
    };
    let with_code = |url: &str| url.starts_with(CALLBACK) && param(url, "code").is_some();

    // The password session answers the client that takes passwords...
    let again = authorize(rp().authorize_url(&base, &[("prompt", "none")])).await;
    assert!(with_code(&again), "{again}");
    // ...but not the client of Google alone.
    let silent = authorize(only.authorize_url(&base, &[("prompt", "none")])).await;
    only.assert_error(&silent, "login_required");
    let shown = authorize(only.authorize_url(&base, &[])).await;
    assert!(shown.starts_with("/login"), "{shown}");
    let to_google = authorize(only.authorize_url(&base, &[("identity_provider", "Google")])).await;
    assert!(to_google.starts_with(&env.google.issuer), "{to_google}");

    // Signed in through Google there, the Google session answers both clients.
    let back = at_idp(&browser, &to_google).await;
    let redirect = callback(&browser, &back).await.expect("Google sign-in");
    assert_eq!(
        only.id_token(&base, &redirect).await["cognito:username"],
        "Google_g-alice"
    );
    let silent = authorize(only.authorize_url(&base, &[("prompt", "none")])).await;
    assert!(with_code(&silent), "{silent}");
    let both = authorize(rp().authorize_url(&base, &[("prompt", "none")])).await;
    assert!(with_code(&both), "{both}");
    assert_eq!(
        id_token(&env, &both).await["cognito:username"],
        "Google_g-alice"
    );
}
