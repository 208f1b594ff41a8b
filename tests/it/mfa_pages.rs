//! The hosted MFA pages without a factor proven (issue 13): an `ON` pool takes a user
//! without a factor to enrolment and gives no code or session; a pending step expires;
//! `max_age` and the pool's MFA rule decide whether a session signs in; the pages'
//! Content-Security-Policy allows a script only where a passkey is offered; the account
//! security page needs a session and its own CSRF token. (Full flows with codes and
//! passkeys are in the flow tests.)

use cognate::core::model::{Factor, FactorData, FirstFactor, MfaFactor, MfaSetting, UserPool};

use crate::support::server::{absolute, browser_client, hidden, sign_in, TestServer};

const ON_POOL: &str = "us-east-1_MfaPages01";
const ON_APP: &str = "mfapageson000000000000001";
const OPT_POOL: &str = "us-east-1_MfaPages02";
const OPT_APP: &str = "mfapagesopt00000000000001";
const OPT_OTHER: &str = "mfapagesopt00000000000002";
const CALLBACK: &str = "http://127.0.0.1:9/cb";
const PASSWORD: &str = "Correct-horse-1";

fn pools_toml() -> String {
    let client = |id: &str| {
        format!(
            r#"
[[pools.clients]]
id = "{id}"
name = "{id}"
callback_urls = ["{CALLBACK}"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid", "email"]
"#
        )
    };
    format!(
        r#"
[[pools]]
id = "{ON_POOL}"
name = "MFA on"
{}
[[pools]]
id = "{OPT_POOL}"
name = "MFA optional"
{}{}"#,
        client(ON_APP),
        client(OPT_APP),
        client(OPT_OTHER)
    )
}

/// The server, with the pools' `mfa` set in the store (`ON`, `OPTIONAL`): the
/// configuration check still refuses them until the core lands.
async fn start() -> TestServer {
    let server = TestServer::start(&pools_toml()).await;
    set_pool(&server, ON_POOL, |p| p.mfa = MfaSetting::On).await;
    set_pool(&server, OPT_POOL, |p| p.mfa = MfaSetting::Optional).await;
    server
}

/// Changes a pool's stored settings (the factor settings have no configuration keys in
/// this test's file).
async fn set_pool(server: &TestServer, id: &str, change: impl FnOnce(&mut UserPool)) {
    let mut pool = server.pool(id).await;
    change(&mut pool);
    server.node.store.put_pool(&pool).await.unwrap();
}

fn authorize(base: &str, client: &str, extra: &[(&str, &str)]) -> String {
    let mut url = url::Url::parse(&format!("{base}/oauth2/authorize")).unwrap();
    url.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", client),
        ("redirect_uri", CALLBACK),
        ("scope", "openid email"),
        ("state", "st"),
        // RFC 7636 appendix B's challenge (public clients must use PKCE).
        (
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        ),
        ("code_challenge_method", "S256"),
    ]);
    url.query_pairs_mut().extend_pairs(extra);
    url.into()
}

async fn location(browser: &reqwest::Client, url: &str) -> String {
    let r = browser.get(url).send().await.unwrap();
    r.headers()
        .get("location")
        .unwrap_or_else(|| panic!("no redirect from {url}: {}", r.status()))
        .to_str()
        .unwrap()
        .to_string()
}

fn csp(r: &reqwest::Response) -> String {
    r.headers()
        .get("content-security-policy")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn an_on_pool_takes_a_user_without_a_factor_to_enrolment_and_gives_no_code() {
    let server = start().await;
    let base = server.base.clone();
    set_pool(&server, ON_POOL, |p| {
        p.factors.mfa = vec![MfaFactor::Totp, MfaFactor::Email];
    })
    .await;
    server.user(ON_POOL, "olive", PASSWORD).await;
    let browser = browser_client();
    let to = sign_in(
        &browser,
        &base,
        &authorize(&base, ON_APP, &[]),
        "olive",
        PASSWORD,
    )
    .await
    .unwrap_or_else(|p| panic!("sign-in: {p}"));
    assert!(to.starts_with("/login/mfa-setup?flow="), "{to}");
    assert!(!to.contains("code="), "{to}");

    // The choice of factors, no script allowed; each choice links to its page.
    let r = browser.get(absolute(&base, &to)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(csp(&r).contains("script-src 'none'"), "{}", csp(&r));
    let page = r.text().await.unwrap();
    assert!(
        page.contains("factor=totp") && page.contains("factor=email"),
        "{page}"
    );
    assert!(!page.contains("<script"), "{page}");

    // The email step offers to send a code (a form with the flow's CSRF token).
    let r = browser
        .get(absolute(&base, &format!("{to}&factor=email")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // (minijinja escapes `/` in attribute values.)
    let page = r.text().await.unwrap().replace("&#x2f;", "/");
    assert!(page.contains("/login/mfa-setup/email-code"), "{page}");
    assert!(hidden(&page, "_csrf").is_some());

    // No session came of it: the next authorization shows the form again.
    let again = location(&browser, &authorize(&base, ON_APP, &[])).await;
    assert!(again.starts_with("/login?flow="), "{again}");

    // The recovery codes' "done" cannot be posted before an enrolment.
    let flow = to.split("flow=").nth(1).unwrap().to_string();
    let csrf = hidden(&page, "_csrf").unwrap();
    let r = browser
        .post(format!("{base}/login/mfa-setup/done"))
        .form(&[("flow", flow.as_str()), ("_csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    // Nor the challenge's code.
    let r = browser
        .post(format!("{base}/login/mfa"))
        .form(&[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("factor", "totp"),
            ("code", "123456"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    server.stop().await;
}

#[tokio::test]
async fn a_pending_second_step_expires() {
    let server = start().await;
    let base = server.base.clone();
    set_pool(&server, ON_POOL, |p| {
        p.factors.mfa = vec![MfaFactor::Totp, MfaFactor::Email];
    })
    .await;
    server.user(ON_POOL, "pat", PASSWORD).await;
    let browser = browser_client();
    let to = sign_in(
        &browser,
        &base,
        &authorize(&base, ON_APP, &[]),
        "pat",
        PASSWORD,
    )
    .await
    .unwrap();
    let flow_id = to.split("flow=").nth(1).unwrap().to_string();
    // Fresh: the page answers.
    let r = browser.get(absolute(&base, &to)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    // The first factor passed longer ago than PENDING_SECS.
    let now = cognate::core::now();
    let sessions = &server.node.sessions;
    let mut flow = sessions.flow(&flow_id, now).await.unwrap().unwrap();
    if let Some(p) = flow.pending_mfa.as_mut() {
        p.since = now - cognate::core::mfa::PENDING_SECS - 1;
    }
    assert!(sessions.save_flow(&flow, now).await.unwrap());
    let r = browser.get(absolute(&base, &to)).send().await.unwrap();
    assert_eq!(r.status(), 400);
    let page = r.text().await.unwrap();
    assert!(page.contains("expired"), "{page}");
    server.stop().await;
}

#[tokio::test]
async fn max_age_decides_whether_a_session_signs_in() {
    let server = start().await;
    let base = server.base.clone();
    server.user(OPT_POOL, "max", PASSWORD).await;
    let browser = browser_client();
    let first = sign_in(
        &browser,
        &base,
        &authorize(&base, OPT_APP, &[]),
        "max",
        PASSWORD,
    )
    .await
    .unwrap_or_else(|p| panic!("sign-in: {p}"));
    assert!(
        first.starts_with(CALLBACK) && first.contains("code="),
        "{first}"
    );

    // A recent session answers a generous max_age and a request without one.
    let ok = location(
        &browser,
        &authorize(&base, OPT_OTHER, &[("max_age", "3600")]),
    )
    .await;
    assert!(ok.starts_with(CALLBACK) && ok.contains("code="), "{ok}");
    let ok = location(&browser, &authorize(&base, OPT_OTHER, &[])).await;
    assert!(ok.contains("code="), "{ok}");
    // max_age=0: sign in again.
    let again = location(&browser, &authorize(&base, OPT_OTHER, &[("max_age", "0")])).await;
    assert!(again.starts_with("/login?flow="), "{again}");
    // Not a number of seconds: invalid_request on the client's redirect URI.
    for bad in ["-1", "ten", "1e3", " 5"] {
        let r = location(&browser, &authorize(&base, OPT_OTHER, &[("max_age", bad)])).await;
        assert!(
            r.starts_with(CALLBACK) && r.contains("error=invalid_request"),
            "{bad}: {r}"
        );
    }
    server.stop().await;
}

#[tokio::test]
async fn a_password_session_does_not_pass_once_the_user_holds_a_factor() {
    let server = start().await;
    let base = server.base.clone();
    set_pool(&server, OPT_POOL, |p| {
        p.factors.mfa = vec![MfaFactor::Totp, MfaFactor::Email];
    })
    .await;
    let user = server.user(OPT_POOL, "sso", PASSWORD).await;
    let browser = browser_client();
    let first = sign_in(
        &browser,
        &base,
        &authorize(&base, OPT_APP, &[]),
        "sso",
        PASSWORD,
    )
    .await
    .unwrap();
    assert!(first.contains("code="), "{first}");
    let sso = location(&browser, &authorize(&base, OPT_OTHER, &[])).await;
    assert!(sso.contains("code="), "single sign-on before: {sso}");

    // The user enrols email (written straight to the record): the password session
    // lacks the second factor the pool now asks of this user.
    let mut stored = server.find_user(OPT_POOL, "sso").await.unwrap();
    stored.mfa.factors.push(Factor {
        id: "f-email".into(),
        kind: MfaFactor::Email,
        name: String::new(),
        created_at: cognate::core::now(),
        last_used_at: None,
        data: FactorData::Email,
    });
    server.node.store.update_user(&stored).await.unwrap();
    assert_eq!(stored.sub, user.sub);
    let after = location(&browser, &authorize(&base, OPT_OTHER, &[])).await;
    assert!(
        after.starts_with("/login?flow="),
        "single sign-on after: {after}"
    );
    // A pool that turns MFA off lets the same session through again.
    set_pool(&server, OPT_POOL, |p| p.mfa = MfaSetting::Off).await;
    let off = location(&browser, &authorize(&base, OPT_OTHER, &[])).await;
    assert!(off.contains("code="), "{off}");
    server.stop().await;
}

#[tokio::test]
async fn only_pages_offering_a_passkey_may_run_the_passkey_script() {
    let server = start().await;
    let base = server.base.clone();
    let browser = browser_client();
    let login = location(&browser, &authorize(&base, OPT_APP, &[])).await;
    let r = browser.get(absolute(&base, &login)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let policy = csp(&r);
    assert!(
        policy.contains("script-src 'none'") && policy.contains("frame-ancestors 'none'"),
        "{policy}"
    );
    let page = r.text().await.unwrap();
    assert!(
        !page.contains("passkey.js") && !page.contains("email-signin"),
        "{page}"
    );

    set_pool(&server, OPT_POOL, |p| {
        p.factors.first = vec![
            FirstFactor::Password,
            FirstFactor::Passkey,
            FirstFactor::EmailOtp,
        ];
    })
    .await;
    let r = browser.get(absolute(&base, &login)).send().await.unwrap();
    let policy = csp(&r);
    assert!(
        policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"),
        "{policy}"
    );
    let page = r.text().await.unwrap();
    let page = page.replace("&#x2f;", "/");
    assert!(
        page.contains("<script src=\"/static/passkey.js\""),
        "{page}"
    );
    assert!(page.contains("data-passkey-purpose=\"signin\""), "{page}");
    // Without WebAuthn (or JavaScript) the button stays hidden behind a message.
    assert!(page.contains("data-passkey-message"), "{page}");
    assert!(page.contains("id=\"email-signin\""), "{page}");

    let js = browser
        .get(format!("{base}/static/passkey.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status(), 200);
    let kind = js.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("text/javascript"), "{kind}");
    assert!(js.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let text = js.text().await.unwrap();
    assert!(text.contains("navigator.credentials.get"), "{text}");

    // The passwordless email page is served only where the pool allows it.
    let flow = login.split("flow=").nth(1).unwrap().to_string();
    let r = browser
        .get(format!("{base}/login/email?flow={flow}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    set_pool(&server, OPT_POOL, |p| {
        p.factors.first = vec![FirstFactor::Password]
    })
    .await;
    let r = browser
        .get(format!("{base}/login/email?flow={flow}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    server.stop().await;
}

#[tokio::test]
async fn the_security_page_signs_in_first_and_checks_its_own_csrf_token() {
    let server = start().await;
    let base = server.base.clone();
    server.user(OPT_POOL, "sec", PASSWORD).await;
    let browser = browser_client();
    let page_url = format!("{base}/account/security?client_id={OPT_APP}");

    // No session: a login flow that comes back here.
    let to = location(&browser, &page_url).await;
    assert!(to.starts_with("/login?flow="), "{to}");
    let login = browser
        .get(absolute(&base, &to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let r = browser
        .post(format!("{base}/login"))
        .form(&[
            ("flow", hidden(&login, "flow").unwrap().as_str()),
            ("_csrf", hidden(&login, "_csrf").unwrap().as_str()),
            ("username", "sec"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let back = r.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(back, format!("/account/security?client_id={OPT_APP}"));

    let r = browser.get(&page_url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("/account/security/totp/start"), "{page}");
    assert!(!page.contains("class=\"factor\""), "{page}");
    let csrf = hidden(&page, "_csrf").unwrap();
    assert!(!csrf.is_empty());

    // A forged form (no or another token) is refused; the page's own token passes the
    // check (the preference of a factor the user lacks is then refused by the page).
    for token in ["", "forged"] {
        let r = browser
            .post(format!("{base}/account/security/prefer"))
            .form(&[("_csrf", token), ("client_id", OPT_APP), ("kind", "TOTP")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{token}");
    }
    let r = browser
        .post(format!("{base}/account/security/prefer"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("client_id", OPT_APP),
            ("kind", "BOGUS"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Another browser has no session: it is sent to sign in.
    let r = browser_client()
        .post(format!("{base}/account/security/remove"))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("client_id", OPT_APP),
            ("factor", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    server.stop().await;
}

/// The MFA pages with filled contexts, for the template tests of `ui.rs` (every page in
/// every language, escaping, labels, phone and desktop sizes): (template, HTML, has a
/// form). The passkey variants run a script and are checked above instead.
pub fn sample_pages(
    ui: &cognate::web::hosted::ui::Ui,
    lang: cognate::web::hosted::ui::Lang,
    chrome: cognate::web::hosted::ui::Chrome,
) -> Vec<(
    &'static str,
    Result<String, cognate::web::hosted::ui::UiError>,
    bool,
)> {
    use cognate::web::hosted::ui::*;
    let link = |factor: &str, key: &str| FactorLink {
        factor: factor.into(),
        label_key: key.into(),
        url: format!("/login/mfa?flow=flow-456&factor={factor}"),
    };
    let challenge = MfaChallengePage {
        chrome: chrome
            .clone()
            .with_error(ui.message(lang, "error.code_invalid")),
        form_action: "/login/mfa".into(),
        factor: "totp".into(),
        code_sent: false,
        destination: None,
        email_code_action: "/login/mfa/email-code".into(),
        passkey: None,
        others: vec![
            link("email", "mfa.use_email"),
            link("recovery", "mfa.use_recovery"),
        ],
    };
    let setup = MfaSetupPage {
        chrome: chrome.clone(),
        client_id: None,
        step: "totp".into(),
        required: true,
        choices: Vec::new(),
        form_action: "/login/mfa-setup".into(),
        totp: Some(TotpView {
            enrolment: "enrol-1".into(),
            secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".into(),
            uri: "otpauth://totp/Cognate:alice?secret=JBSWY3DPEHPK3PXP&issuer=Cognate".into(),
            qr_svg: "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 21 21\"><rect width=\"21\" height=\"21\"/></svg>".into(),
        }),
        code_sent: false,
        destination: None,
        email_code_action: "/login/mfa-setup/email-code".into(),
        passkey: None,
        back_url: Some("/login/mfa-setup?flow=flow-456".into()),
    };
    let codes = RecoveryCodesPage {
        chrome: chrome.clone(),
        codes: (0..10).map(|i| format!("abcde-{i:05}")).collect(),
        continue_action: Some("/login/mfa-setup/done".into()),
        back_url: None,
    };
    let email = EmailSignInPage {
        chrome: chrome.clone(),
        step: "username".into(),
        username_kind: UsernameKind::UsernameOrEmail,
        username: "\"><img src=x onerror=alert(5)>".into(),
        form_action: "/login/email".into(),
        login_url: "/login?flow=flow-456".into(),
    };
    let offer = PasskeyOfferPage {
        chrome: chrome.clone(),
        form_action: "/login/passkey-offer".into(),
        skip_action: "/login/passkey-offer/continue".into(),
        passkey: None,
    };
    let security = SecurityPage {
        chrome: chrome.with_notice(ui.message(lang, "notice.factor_added")),
        client_id: "client-1".into(),
        username: "\"><img src=x onerror=alert(6)>".into(),
        factors: vec![
            FactorView {
                id: "f-1".into(),
                kind: "TOTP".into(),
                kind_key: "factor.TOTP".into(),
                name: "Phone <b>app</b>".into(),
                created: "2026-12-06".into(),
                preferred: true,
            },
            FactorView {
                id: "f-2".into(),
                kind: "EMAIL".into(),
                kind_key: "factor.EMAIL".into(),
                name: String::new(),
                created: "2026-12-06".into(),
                preferred: false,
            },
        ],
        recovery_codes_left: 9,
        can_add_totp: true,
        can_add_email: false,
        can_add_sms: false,
        passkey: None,
        preferable: vec!["TOTP".into(), "EMAIL".into()],
        required: true,
    };
    vec![
        (MfaChallengePage::TEMPLATE, ui.page(lang, &challenge), true),
        (MfaSetupPage::TEMPLATE, ui.page(lang, &setup), true),
        (RecoveryCodesPage::TEMPLATE, ui.page(lang, &codes), true),
        (EmailSignInPage::TEMPLATE, ui.page(lang, &email), true),
        (SecurityPage::TEMPLATE, ui.page(lang, &security), true),
        (PasskeyOfferPage::TEMPLATE, ui.page(lang, &offer), true),
    ]
}

/// The TOTP code of `secret` (base32) at `at`, computed by the test.
fn totp_code(secret: &str, at: i64) -> String {
    let key = totp_rs::Secret::Encoded(secret.to_string())
        .to_bytes()
        .unwrap();
    let totp = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, key).unwrap();
    totp.generate(u64::try_from(at).unwrap())
}

/// The text of the element with `id` (`<code id="totp-secret" ...>KEY</code>`).
fn element_text(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = html[at..].find('>')? + at + 1;
    let end = html[start..].find('<')? + start;
    Some(html[start..end].trim().to_string())
}

async fn post_form(
    browser: &reqwest::Client,
    url: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    browser.post(url).form(fields).send().await.unwrap()
}

#[tokio::test]
async fn totp_enrolment_at_sign_in_then_a_challenge_and_a_recovery_code() {
    let server = start().await;
    let base = server.base.clone();
    server.user(ON_POOL, "tess", PASSWORD).await;
    let browser = browser_client();
    let to = sign_in(
        &browser,
        &base,
        &authorize(&base, ON_APP, &[]),
        "tess",
        PASSWORD,
    )
    .await
    .unwrap();
    assert!(to.starts_with("/login/mfa-setup?flow="), "{to}");
    let flow = to.split("flow=").nth(1).unwrap().to_string();
    // TOTP is the pool's only factor: its page at once.
    let page = browser
        .get(absolute(&base, &to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let secret = element_text(&page, "totp-secret").unwrap_or_else(|| panic!("{page}"));
    assert!(page.contains("id=\"totp-uri\" href=\"otpauth:"), "{page}");
    assert!(page.contains("<svg"), "{page}");
    let csrf = hidden(&page, "_csrf").unwrap();
    let enrolment = hidden(&page, "enrolment").unwrap();
    let now = cognate::core::now();
    let form = |code: String| {
        vec![
            ("flow".to_string(), flow.clone()),
            ("_csrf".to_string(), csrf.clone()),
            ("factor".to_string(), "totp".to_string()),
            ("enrolment".to_string(), enrolment.clone()),
            ("code".to_string(), code),
            ("name".to_string(), "Phone".to_string()),
        ]
    };
    // A wrong code: the code form again, no code for the client.
    let wrong = if totp_code(&secret, now) == "000000" {
        "111111"
    } else {
        "000000"
    };
    let r = browser
        .post(format!("{base}/login/mfa-setup"))
        .form(&form(wrong.into()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().contains("role=\"alert\""));
    let r = browser
        .post(format!("{base}/login/mfa-setup"))
        .form(&form(totp_code(&secret, now)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let codes: Vec<String> = page
        .split("<li class=\"recovery-code\">")
        .skip(1)
        .map(|c| c[..c.find('<').unwrap()].to_string())
        .collect();
    assert_eq!(codes.len(), 10, "{page}");
    let r = post_form(
        &browser,
        &format!("{base}/login/mfa-setup/done"),
        &[("flow", flow.as_str()), ("_csrf", csrf.as_str())],
    )
    .await;
    let done = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        done.starts_with(CALLBACK) && done.contains("code="),
        "{done}"
    );

    // Another browser: the password, then the challenge (the next step's code: the one
    // just used is never accepted again).
    let other = browser_client();
    let to = sign_in(
        &other,
        &base,
        &authorize(&base, ON_APP, &[]),
        "tess",
        PASSWORD,
    )
    .await
    .unwrap();
    assert!(to.starts_with("/login/mfa?flow="), "{to}");
    let page = other
        .get(absolute(&base, &to))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("factor=recovery"), "{page}");
    let flow2 = hidden(&page, "flow").unwrap();
    let csrf2 = hidden(&page, "_csrf").unwrap();
    let replay = post_form(
        &other,
        &format!("{base}/login/mfa"),
        &[
            ("flow", flow2.as_str()),
            ("_csrf", csrf2.as_str()),
            ("factor", "totp"),
            ("code", totp_code(&secret, now).as_str()),
        ],
    )
    .await;
    assert_eq!(replay.status(), 200, "a replayed code shows the page again");
    let r = post_form(
        &other,
        &format!("{base}/login/mfa"),
        &[
            ("flow", flow2.as_str()),
            ("_csrf", csrf2.as_str()),
            ("factor", "totp"),
            ("code", totp_code(&secret, now + 30).as_str()),
        ],
    )
    .await;
    let signed = r.headers()["location"].to_str().unwrap().to_string();
    assert!(signed.contains("code="), "{signed}");

    // A third browser: a recovery code instead, once.
    let third = browser_client();
    let to = sign_in(
        &third,
        &base,
        &authorize(&base, ON_APP, &[]),
        "tess",
        PASSWORD,
    )
    .await
    .unwrap();
    let page = third
        .get(absolute(&base, &format!("{to}&factor=recovery")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("name=\"factor\" value=\"recovery\""),
        "{page}"
    );
    let r = post_form(
        &third,
        &format!("{base}/login/mfa"),
        &[
            ("flow", hidden(&page, "flow").unwrap().as_str()),
            ("_csrf", hidden(&page, "_csrf").unwrap().as_str()),
            ("factor", "recovery"),
            ("code", codes[0].as_str()),
        ],
    )
    .await;
    let signed = r.headers()["location"].to_str().unwrap().to_string();
    assert!(signed.contains("code="), "{signed}");

    // The session of the first browser passed a second factor: single sign-on works,
    // and the security page lists the factor.
    let sso = location(&browser, &authorize(&base, ON_APP, &[])).await;
    assert!(sso.contains("code="), "{sso}");
    let page = browser
        .get(format!("{base}/account/security?client_id={ON_APP}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("class=\"factor\""), "{page}");
    assert!(page.contains("data-kind=\"TOTP\""), "{page}");
    let id = page.split("data-factor-id=\"").nth(1).unwrap();
    let id = &id[..id.find('"').unwrap()];
    // The last factor of an ON pool cannot go.
    let csrf = hidden(&page, "_csrf").unwrap();
    let r = post_form(
        &browser,
        &format!("{base}/account/security/remove"),
        &[
            ("_csrf", csrf.as_str()),
            ("client_id", ON_APP),
            ("factor", id),
        ],
    )
    .await;
    assert_eq!(r.status(), 409);
    server.stop().await;
}

/// The last emailed code (6 to 8 digits) to `to`.
async fn mailed_code(server: &TestServer, to: &str) -> String {
    for _ in 0..200 {
        let found = server
            .inbox
            .all()
            .into_iter()
            .rev()
            .find(|m| m.contains(to));
        if let Some(m) = found {
            let body = m.split("\r\n\r\n").skip(1).collect::<Vec<_>>().join("\n");
            let mut words = body.split(|c: char| !c.is_ascii_digit());
            if let Some(code) = words.find(|w| (6..=8).contains(&w.len())) {
                return code.to_string();
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no code mailed to {to}");
}

#[tokio::test]
async fn an_emailed_sign_in_code_signs_in_without_a_password() {
    let server = start().await;
    let base = server.base.clone();
    set_pool(&server, OPT_POOL, |p| {
        p.factors.first = vec![FirstFactor::Password, FirstFactor::EmailOtp];
    })
    .await;
    server.user(OPT_POOL, "emma", PASSWORD).await;
    let browser = browser_client();
    let login = location(&browser, &authorize(&base, OPT_APP, &[])).await;
    let flow = login.split("flow=").nth(1).unwrap().to_string();
    let page = browser
        .get(format!("{base}/login/email?flow={flow}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "_csrf").unwrap();
    let r = post_form(
        &browser,
        &format!("{base}/login/email"),
        &[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", "emma"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    let code = mailed_code(&server, "emma@example.com").await;
    // A wrong code: the page again.
    let r = post_form(
        &browser,
        &format!("{base}/login/email/verify"),
        &[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("code", "00000000"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("location").is_none());
    let r = post_form(
        &browser,
        &format!("{base}/login/email/verify"),
        &[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("code", code.as_str()),
        ],
    )
    .await;
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(CALLBACK) && to.contains("code="), "{to}");
    server.stop().await;
}

/// Signs `username` up through the hosted pages of `client`'s flow and confirms the
/// mailed code; answers the flow's id and CSRF token, back on the login page.
async fn sign_up_and_confirm(
    server: &TestServer,
    browser: &reqwest::Client,
    client: &str,
    username: &str,
) -> (String, String) {
    let base = server.base.clone();
    let login = location(browser, &authorize(&base, client, &[])).await;
    let flow = login.split("flow=").nth(1).unwrap().to_string();
    let page = browser
        .get(format!("{base}/signup?flow={flow}"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&page, "_csrf").unwrap();
    let email = format!("{username}@example.com");
    let r = post_form(
        browser,
        &format!("{base}/signup"),
        &[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("password_confirm", PASSWORD),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let code = server.inbox.code_for(&email).await;
    let r = post_form(
        browser,
        &format!("{base}/confirm"),
        &[
            ("flow", flow.as_str()),
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("code", code.as_str()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    (flow, csrf)
}

/// The password form of a flow.
async fn password(
    browser: &reqwest::Client,
    base: &str,
    (flow, csrf): (&str, &str),
    username: &str,
) -> reqwest::Response {
    post_form(
        browser,
        &format!("{base}/login"),
        &[
            ("flow", flow),
            ("_csrf", csrf),
            ("username", username),
            ("password", PASSWORD),
        ],
    )
    .await
}

/// `OPT_POOL` with passkeys (as a second factor) and sign-ups confirmed by email;
/// `register_at_sign_up` as given.
async fn passkey_pool(server: &TestServer, register_at_sign_up: bool) {
    set_pool(server, OPT_POOL, |p| {
        p.factors.mfa = vec![MfaFactor::Totp, MfaFactor::Passkey];
        p.factors.passkeys.register_at_sign_up = register_at_sign_up;
        p.auto_verified_attributes = vec![cognate::core::model::AliasAttribute::Email];
        p.required_attributes = vec!["email".into()];
    })
    .await;
}

#[tokio::test]
async fn a_passkey_is_offered_after_sign_up_and_not_now_completes_with_a_code() {
    // A host name: the registration ceremony needs one.
    let server = TestServer::start_on_localhost(&pools_toml()).await;
    set_pool(&server, OPT_POOL, |p| p.mfa = MfaSetting::Optional).await;
    let base = server.base.clone();
    passkey_pool(&server, true).await;
    let browser = browser_client();
    let (flow, csrf) = sign_up_and_confirm(&server, &browser, OPT_APP, "nina").await;
    let fields = (flow.as_str(), csrf.as_str());
    // The first sign-in is complete, but the offer comes before the code.
    let r = password(&browser, &base, fields, "nina").await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("location").is_none());
    let policy = csp(&r);
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let page = r.text().await.unwrap().replace("&#x2f;", "/");
    assert!(page.contains("action=\"/login/passkey-offer\""), "{page}");
    assert!(page.contains("data-passkey-purpose=\"register\""), "{page}");
    assert!(
        page.contains("data-passkey-options=\"/login/passkey/options\""),
        "{page}"
    );
    assert!(
        page.contains("action=\"/login/passkey-offer/continue\""),
        "{page}"
    );
    assert!(
        page.contains("<script src=\"/static/passkey.js\""),
        "{page}"
    );

    // The existing registration ceremony starts for the offer.
    let r = post_form(
        &browser,
        &format!("{base}/login/passkey/options"),
        &[
            ("flow", fields.0),
            ("_csrf", fields.1),
            ("purpose", "register"),
        ],
    )
    .await;
    let status = r.status();
    let json: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{json}");
    assert!(json["ceremony"].is_string(), "{json}");
    assert!(json["publicKey"]["challenge"].is_string(), "{json}");
    // The offer is not a second-factor step: the second-factor ceremony is refused.
    let r = post_form(
        &browser,
        &format!("{base}/login/passkey/options"),
        &[("flow", fields.0), ("_csrf", fields.1), ("purpose", "mfa")],
    )
    .await;
    assert_eq!(r.status(), 400);
    // A forged credential stores nothing and completes nothing: the offer again.
    let r = post_form(
        &browser,
        &format!("{base}/login/passkey-offer"),
        &[
            ("flow", fields.0),
            ("_csrf", fields.1),
            ("ceremony", json["ceremony"].as_str().unwrap()),
            ("credential", "{\"id\":\"forged\"}"),
            ("name", "Laptop"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert!(r.headers().get("location").is_none());
    let page = r.text().await.unwrap();
    assert!(page.contains("role=\"alert\""), "{page}");
    let nina = server.find_user(OPT_POOL, "nina").await.unwrap();
    assert!(!nina.mfa.has(MfaFactor::Passkey));

    // "Not now" with another form's token is refused; with the flow's own it completes.
    let r = post_form(
        &browser,
        &format!("{base}/login/passkey-offer/continue"),
        &[("flow", fields.0), ("_csrf", "not-the-token")],
    )
    .await;
    assert!(r.headers().get("location").is_none(), "{}", r.status());
    assert_ne!(r.status(), 200);
    let r = post_form(
        &browser,
        &format!("{base}/login/passkey-offer/continue"),
        &[("flow", fields.0), ("_csrf", fields.1)],
    )
    .await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(CALLBACK) && to.contains("code="), "{to}");
    // Once only.
    let r = post_form(
        &browser,
        &format!("{base}/login/passkey-offer/continue"),
        &[("flow", fields.0), ("_csrf", fields.1)],
    )
    .await;
    assert!(r.headers().get("location").is_none(), "{}", r.status());

    // Her next sign-in, in a new flow, is a plain one.
    let other = browser_client();
    let to = sign_in(
        &other,
        &base,
        &authorize(&base, OPT_APP, &[]),
        "nina",
        PASSWORD,
    )
    .await
    .unwrap();
    assert!(to.starts_with(CALLBACK) && to.contains("code="), "{to}");
    server.stop().await;
}

#[tokio::test]
async fn no_passkey_offer_without_the_setting_or_for_an_existing_user() {
    let server = start().await;
    let base = server.base.clone();
    // An existing user of a pool with the setting signs in as before.
    passkey_pool(&server, true).await;
    server.user(OPT_POOL, "owen", PASSWORD).await;
    let browser = browser_client();
    let to = sign_in(
        &browser,
        &base,
        &authorize(&base, OPT_APP, &[]),
        "owen",
        PASSWORD,
    )
    .await
    .unwrap();
    assert!(to.starts_with(CALLBACK) && to.contains("code="), "{to}");
    // Nor is a user offered one for signing in through the flow another user signed up in.
    let browser = browser_client();
    let (flow, csrf) = sign_up_and_confirm(&server, &browser, OPT_APP, "nell").await;
    let r = password(&browser, &base, (&flow, &csrf), "owen").await;
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(CALLBACK) && to.contains("code="), "{to}");

    // Without the setting, a new user's first sign-in completes at once.
    passkey_pool(&server, false).await;
    let browser = browser_client();
    let (flow, csrf) = sign_up_and_confirm(&server, &browser, OPT_APP, "noor").await;
    let r = password(&browser, &base, (&flow, &csrf), "noor").await;
    assert_eq!(r.status(), 303);
    let to = r.headers()["location"].to_str().unwrap().to_string();
    assert!(to.starts_with(CALLBACK) && to.contains("code="), "{to}");
    server.stop().await;
}
