//! The hosted UI's templates: every page renders in every language with its labels, form
//! state and escaping; an operator's directory overrides single templates and messages;
//! language negotiation; and a real Chromium loads the pages at phone and desktop sizes.

use axum::extract::{Path, Query};
use axum::response::Html;
use axum::routing::{get, post};
use axum::{Form, Router};
use cognate::core::model::{Branding, PasswordPolicy};
use cognate::web::hosted::ui::*;

use crate::support::browser::Browser;

const HOSTILE_NAME: &str = "<script>alert(1)</script> & Co";
const HOSTILE_CSS: &str = "body{color:#111} a > b {x:y} </style><script>alert(2)</script>";

fn branding() -> Branding {
    Branding {
        display_name: Some(HOSTILE_NAME.into()),
        logo_url: None,
        primary_color: Some("#0b7a75".into()),
        background_color: Some("#eef2f7".into()),
        extra_css: Some(HOSTILE_CSS.into()),
    }
}

fn chrome() -> Chrome {
    Chrome::new(&branding(), "csrf-123", "flow-456")
}

/// Every page with a filled context: (template name, rendered HTML, has a form).
fn render_all(ui: &Ui, lang: Lang) -> Vec<(&'static str, String, bool)> {
    let policy = PasswordPolicy::default();
    let rules = ui.password_rules(lang, &policy);
    let demo = {
        let enc = |v: &str| {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v)
        };
        let jwt = |claims: &str| {
            format!(
                "{}.{}.c2ln",
                enc(r#"{"alg":"RS256","kid":"k1"}"#),
                enc(claims)
            )
        };
        let mut page = DemoPage::new(
            chrome(),
            &jwt(r#"{"sub":"u-1","token_use":"id","email":"<b>a@example.com</b>"}"#),
            &jwt(r#"{"sub":"u-1","token_use":"access","scope":"openid email"}"#),
            Some("refresh-opaque-789"),
        );
        page.expires_in = Some(3600);
        page.sign_out_url = Some("/logout?client_id=c1".into());
        page.sign_in_url = Some("/login?client_id=c1".into());
        page
    };
    let mut out = vec![
        (
            LoginPage::TEMPLATE,
            ui.page(
                lang,
                &LoginPage {
                    chrome: chrome().with_error(ui.message(lang, "error.bad_credentials")),
                    form_action: "/login?flow=flow-456".into(),
                    username_kind: UsernameKind::UsernameOrEmail,
                    username: "\"><img src=x onerror=alert(3)>".into(),
                    password_login: true,
                    signup_allowed: true,
                    signup_url: "/signup?flow=flow-456".into(),
                    forgot_url: "/forgotPassword?flow=flow-456".into(),
                    providers: vec![ProviderButton {
                        name: "Google".into(),
                        display_name: "Google".into(),
                        url: "/oauth2/authorize?identity_provider=Google&flow=flow-456".into(),
                    }],
                    work_email: true,
                    work_email_value: "\"><img src=x onerror=alert(4)>@corp.example".into(),
                    passkey: None,
                    email_url: None,
                },
            ),
            true,
        ),
        (
            SignupPage::TEMPLATE,
            ui.page(
                lang,
                &SignupPage {
                    chrome: chrome(),
                    form_action: "/signup".into(),
                    username_kind: UsernameKind::Username,
                    username: "alice".into(),
                    attributes: vec![
                        AttributeField::standard("email", true, "alice@example.com"),
                        AttributeField::standard("phone_number", false, ""),
                        AttributeField::standard("birthdate", false, ""),
                        AttributeField::custom("custom:team", InputType::Text, false, ""),
                    ],
                    password_rules: rules.clone(),
                    login_url: "/login?flow=flow-456".into(),
                },
            ),
            true,
        ),
        (
            ConfirmPage::TEMPLATE,
            ui.page(
                lang,
                &ConfirmPage {
                    chrome: chrome().with_notice(ui.tr(
                        lang,
                        "notice.code_sent",
                        &[("destination", "a***@e***.com")],
                    )),
                    form_action: "/confirm".into(),
                    resend_action: "/confirm/resend".into(),
                    username: "alice".into(),
                    destination: Some("a***@e***.com".into()),
                    login_url: "/login?flow=flow-456".into(),
                },
            ),
            true,
        ),
        (
            ForgotPasswordPage::TEMPLATE,
            ui.page(
                lang,
                &ForgotPasswordPage {
                    chrome: chrome(),
                    form_action: "/forgotPassword".into(),
                    username_kind: UsernameKind::Email,
                    username: String::new(),
                    login_url: "/login?flow=flow-456".into(),
                },
            ),
            true,
        ),
        (
            ResetPasswordPage::TEMPLATE,
            ui.page(
                lang,
                &ResetPasswordPage {
                    chrome: chrome()
                        .with_error(ui.message(lang, "error.passwords_mismatch"))
                        .with_error(ui.tr(lang, "password.min_length", &[("n", "8")])),
                    form_action: "/confirmForgotPassword".into(),
                    resend_action: Some("/forgotPassword".into()),
                    username: "alice".into(),
                    destination: None,
                    password_rules: rules,
                    login_url: "/login?flow=flow-456".into(),
                },
            ),
            true,
        ),
        (
            NewPasswordPage::TEMPLATE,
            ui.page(
                lang,
                &NewPasswordPage {
                    chrome: chrome(),
                    form_action: "/login/new-password".into(),
                    password_rules: ui.password_rules(lang, &policy),
                },
            ),
            true,
        ),
        (
            ErrorPage::TEMPLATE,
            ui.page(
                lang,
                &ErrorPage {
                    chrome: Chrome::plain(),
                    title: ui.message(lang, "error.title"),
                    message: ui.message(lang, "error.invalid_redirect_uri"),
                    back_url: None,
                },
            ),
            false,
        ),
        (
            LoggedOutPage::TEMPLATE,
            ui.page(
                lang,
                &LoggedOutPage {
                    chrome: chrome(),
                    login_url: Some("/login?client_id=c1".into()),
                },
            ),
            false,
        ),
        (DemoPage::TEMPLATE, ui.page(lang, &demo), false),
        (
            NotMePage::TEMPLATE,
            ui.page(
                lang,
                &NotMePage {
                    chrome: chrome(),
                    token: "mail-token-789".into(),
                    live: true,
                    done: None,
                },
            ),
            true,
        ),
    ];
    out.extend(crate::mfa_pages::sample_pages(ui, lang, chrome()));
    out.into_iter()
        .map(|(name, html, form)| {
            (
                name,
                html.unwrap_or_else(|e| panic!("{name} in {lang:?}: {e}")),
                form,
            )
        })
        .collect()
}

/// The value of `attr` in each start tag named `tag`.
fn attr_values(html: &str, tag: &str, attr: &str) -> Vec<String> {
    let mut out = Vec::new();
    for chunk in html.split(&format!("<{tag} ")).skip(1) {
        let Some(end) = chunk.find('>') else { continue };
        let tag_text = &chunk[..end];
        if let Some(start) = tag_text.find(&format!("{attr}=\"")) {
            let rest = &tag_text[start + attr.len() + 2..];
            out.push(rest[..rest.find('"').unwrap_or(0)].to_string());
        }
    }
    out
}

/// The auto-submitting form to an IdP (SAML's HTTP-POST binding): its values escaped,
/// its one script the one whose hash its policy allows, a button for browsers without it.
#[test]
fn the_form_to_an_idp_escapes_its_values_and_runs_only_its_own_script() {
    let ui = Ui::new(None).expect("ui");
    for lang in Lang::ALL {
        let html = ui
            .page(
                lang,
                &UpstreamPostPage {
                    chrome: Chrome::plain(),
                    action: "https://idp.example.com/sso?a=1&b=\"<x>".into(),
                    fields: vec![HiddenField {
                        name: "SAMLRequest".into(),
                        value: "PHNhbWxw\"><script>alert(1)</script>".into(),
                    }],
                },
            )
            .unwrap();
        assert!(
            html.contains(
                "action=\"https:&#x2f;&#x2f;idp.example.com&#x2f;sso?a=1&amp;b=&quot;&lt;x&gt;\""
            ),
            "{html}"
        );
        assert!(html.contains("&quot;&gt;&lt;script&gt;alert(1)"), "{html}");
        assert_eq!(html.matches("<script>").count(), 1, "{html}");
        assert!(html.contains(&format!("<script>{UPSTREAM_POST_SCRIPT}</script>")));
        assert!(
            html.contains("<button"),
            "a button for browsers without scripts"
        );
    }
}

#[test]
fn every_page_renders_in_every_language() {
    let ui = Ui::new(None).expect("ui");
    for lang in Lang::ALL {
        for (name, html, has_form) in render_all(&ui, lang) {
            let ctx = format!("{name} in {lang:?}");
            assert!(html.starts_with("<!doctype html>"), "{ctx}");
            assert!(
                html.contains(&format!("<html lang=\"{}\">", lang.code())),
                "{ctx}: lang attribute"
            );
            assert!(html.contains("name=\"viewport\""), "{ctx}: viewport");

            // Escaping: the hostile display name is text, the CSS cannot close its element.
            assert!(
                !html.contains("<script"),
                "{ctx}: a script tag got through:\n{html}"
            );
            assert!(
                !html.contains("<img src=x"),
                "{ctx}: the username broke out"
            );
            assert_eq!(
                html.matches("<style>").count(),
                html.matches("</style>").count(),
                "{ctx}: style elements unbalanced"
            );
            if name != ErrorPage::TEMPLATE {
                assert!(html.contains("a > b {x:y}"), "{ctx}: extra_css kept intact");
                assert!(
                    html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; &amp; Co"),
                    "{ctx}: display name shown escaped"
                );
            }

            // Every form carries the CSRF token and the flow; none needs JavaScript. The
            // "was this you?" page is reached from a mail, with no flow: the mail's
            // single-use token is its guard.
            let forms = html.matches("<form ").count();
            assert_eq!(forms > 0, has_form, "{ctx}: forms");
            if name == NotMePage::TEMPLATE {
                assert_eq!(
                    html.matches(r#"<input type="hidden" name="token" value="mail-token-789">"#)
                        .count(),
                    forms,
                    "{ctx}: the answer lacks the mail's token"
                );
            } else {
                assert_eq!(
                    html.matches(r#"<input type="hidden" name="_csrf" value="csrf-123">"#)
                        .count(),
                    forms,
                    "{ctx}: a form lacks _csrf"
                );
                assert_eq!(
                    html.matches(r#"<input type="hidden" name="flow" value="flow-456">"#)
                        .count(),
                    forms,
                    "{ctx}: a form lacks flow"
                );
            }
            for method in attr_values(&html, "form", "method") {
                assert_eq!(method, "post", "{ctx}");
            }

            // Every visible input has a label, and typed inputs say what to autofill.
            let labels = attr_values(&html, "label", "for");
            for chunk in html.split("<input ").skip(1) {
                let tag = &chunk[..chunk.find('>').unwrap_or(0)];
                if tag.contains("type=\"hidden\"") {
                    continue;
                }
                let id = attr_values(&format!("<input {tag}>"), "input", "id");
                let id = id
                    .first()
                    .unwrap_or_else(|| panic!("{ctx}: input without id: {tag}"));
                assert!(labels.contains(id), "{ctx}: no <label for={id}>");
                if tag.contains("type=\"password\"") {
                    assert!(
                        tag.contains("autocomplete=\"current-password\"")
                            || tag.contains("autocomplete=\"new-password\""),
                        "{ctx}: {tag}"
                    );
                }
                if tag.contains("name=\"username\"") {
                    assert!(tag.contains("autocomplete=\"username\""), "{ctx}: {tag}");
                }
                if tag.contains("name=\"code\"") {
                    assert!(
                        tag.contains("autocomplete=\"one-time-code\""),
                        "{ctx}: {tag}"
                    );
                }
            }
            if html.contains("class=\"alert alert-error\"") {
                assert!(html.contains("role=\"alert\""), "{ctx}: alert role");
            }
        }
    }
}

#[test]
fn pages_say_the_right_things() {
    let ui = Ui::new(None).expect("ui");
    let en = render_all(&ui, Lang::En);
    let fr = render_all(&ui, Lang::Fr);
    let page = |pages: &[(&str, String, bool)], name: &str| {
        pages
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, h, _)| h.clone())
            .unwrap_or_else(|| panic!("{name} not rendered"))
    };

    let login = page(&en, "login.html");
    assert!(login.contains("<title>Sign in · &lt;script&gt;"), "{login}");
    assert!(login.contains(">Username or email</label>"));
    assert!(login.contains(">Password</label>"));
    assert!(login.contains("Incorrect username or password."));
    assert!(login.contains("role=\"alert\""));
    assert!(login.contains("Continue with Google"));
    // minijinja's HTML escaping also escapes `/` (browsers decode it in attributes).
    assert!(login.contains("href=\"&#x2f;signup?flow=flow-456\""));
    assert!(login.contains("action=\"&#x2f;login?flow=flow-456\""));
    assert!(login.contains("value=\"&quot;&gt;&lt;img src=x onerror=alert(3)&gt;\""));
    let login_fr = page(&fr, "login.html");
    assert!(login_fr.contains("<title>Connexion · "));
    assert!(login_fr.contains(">Mot de passe</label>"));
    assert!(login_fr.contains("Nom d&#x27;utilisateur ou mot de passe incorrect."));

    let signup = page(&en, "signup.html");
    assert!(signup.contains("<title>Create an account"));
    assert!(signup.contains("for=\"attr-email\">Email</label>"));
    assert!(signup
        .contains("type=\"email\" value=\"alice@example.com\" autocomplete=\"email\" required"));
    assert!(signup.contains(
        "for=\"attr-custom-team\">custom:team <span class=\"optional\">(optional)</span>"
    ));
    assert!(signup.contains("name=\"custom:team\""));
    assert!(signup.contains("<li>At least 8 characters</li>"));
    assert!(signup.contains("<li>A symbol, such as ! @ # $ %</li>"));
    assert!(page(&fr, "signup.html").contains("<li>Au moins 8 caractères</li>"));

    let confirm = page(&en, "confirm.html");
    assert!(confirm.contains("We sent a code to a***@e***.com. Enter it below."));
    assert!(confirm.contains("role=\"status\""));
    assert!(confirm.contains("action=\"&#x2f;confirm&#x2f;resend\""));
    assert!(page(&fr, "confirm.html").contains("<title>Confirmez votre compte"));

    assert!(page(&en, "forgot_password.html").contains("type=\"email\""));
    let reset = page(&en, "reset_password.html");
    assert!(reset.contains("There is a problem"));
    assert!(reset.contains("<li>The passwords do not match.</li>"));
    assert!(reset.contains(">New password</label>"));

    let new_password = page(&en, "new_password.html");
    assert!(new_password.contains("<title>Choose a new password"));
    assert!(new_password.contains("autocomplete=\"new-password\" required autofocus"));
    assert!(page(&fr, "new_password.html").contains(">Nouveau mot de passe</label>"));

    let error = page(&en, "error.html");
    assert!(error.contains("<title>Something went wrong</title>"));
    assert!(error.contains("not registered for it."));
    assert!(page(&fr, "error.html").contains("<title>Une erreur est survenue</title>"));

    let demo = page(&en, "demo.html");
    assert!(demo.contains("&quot;token_use&quot;: &quot;id&quot;"));
    assert!(demo.contains("&lt;b&gt;a@example.com&lt;&#x2f;b&gt;"));
    assert!(demo.contains("refresh-opaque-789"));
    assert!(demo.contains("The access token expires in 3600 seconds."));
    assert!(demo.contains("<pre>"));

    assert!(page(&fr, "logged_out.html").contains("Vous êtes déconnecté"));
}

#[test]
fn messages_and_parameters() {
    let ui = Ui::new(None).expect("ui");
    assert_eq!(
        ui.message(Lang::En, "error.account_locked"),
        message(Lang::En, "error.account_locked")
    );
    assert_eq!(
        tr(Lang::Fr, "error.attribute_required", &[("name", "Prénom")]),
        "Le champ Prénom est obligatoire."
    );
    assert_eq!(message(Lang::Fr, "no.such.key"), "no.such.key");
    for key in [
        "error.bad_credentials",
        "error.user_not_confirmed",
        "error.account_locked",
        "error.username_exists",
        "error.code_invalid",
        "error.code_expired",
        "notice.code_sent",
        "error.passwords_mismatch",
        "error.session_expired",
        "error.unknown_client",
        "error.invalid_redirect_uri",
        "error.signup_disabled",
        "error.attribute_required",
        "error.invalid_email",
        "error.invalid_phone",
        "error.password_policy",
    ] {
        for lang in Lang::ALL {
            assert!(ui.catalogs().contains(lang, key), "{lang:?} lacks {key}");
        }
        assert_ne!(
            message(Lang::En, key),
            message(Lang::Fr, key),
            "{key} untranslated"
        );
    }
}

#[test]
fn an_operator_directory_overrides_single_templates_and_messages() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("login.html"),
        "{% extends \"layout.html\" %}{% block title %}ACME login{% endblock %}\
         {% block content %}<p>{{ t(\"login.submit\") }} / {{ username }}</p>{% endblock %}",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("i18n")).unwrap();
    std::fs::write(
        dir.path().join("i18n/fr.toml"),
        "[login]\nsubmit = \"Entrer\"\n",
    )
    .unwrap();
    let ui = Ui::new(Some(dir.path())).expect("ui with overrides");

    let login = LoginPage {
        chrome: Chrome::new(&Branding::default(), "c", "f"),
        form_action: "/login".into(),
        username_kind: UsernameKind::Username,
        username: "<bob>".into(),
        password_login: true,
        signup_allowed: false,
        signup_url: String::new(),
        forgot_url: String::new(),
        providers: vec![],
        work_email: false,
        work_email_value: String::new(),
        passkey: None,
        email_url: None,
    };
    let html = ui.page(Lang::Fr, &login).unwrap();
    assert!(html.contains("<title>ACME login</title>"), "{html}");
    // The embedded layout still wraps it; overridden key replaced, output escaped.
    assert!(html.contains("<html lang=\"fr\">"));
    assert!(html.contains("<p>Entrer / &lt;bob&gt;</p>"));
    // Other templates and keys stay built in.
    let forgot = ui
        .page(
            Lang::Fr,
            &ForgotPasswordPage {
                chrome: Chrome::new(&Branding::default(), "c", "f"),
                form_action: "/forgot".into(),
                username_kind: UsernameKind::Username,
                username: String::new(),
                login_url: "/login".into(),
            },
        )
        .unwrap();
    assert!(forgot.contains("<title>Réinitialiser le mot de passe</title>"));
    assert_eq!(ui.message(Lang::Fr, "login.submit"), "Entrer");
    assert_eq!(ui.message(Lang::Fr, "login.title"), "Connexion");
    assert_eq!(ui.message(Lang::En, "login.submit"), "Sign in");

    // Mistakes fail at start, naming the file.
    std::fs::write(dir.path().join("signup.html"), "{% block %}").unwrap();
    let err = Ui::new(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("signup.html"), "{err}");
    std::fs::remove_file(dir.path().join("signup.html")).unwrap();
    std::fs::write(dir.path().join("i18n/en.toml"), "x = [1]").unwrap();
    let err = Ui::new(Some(dir.path())).unwrap_err().to_string();
    assert!(err.contains("en.toml"), "{err}");
    let err = Ui::new(Some(&dir.path().join("absent")))
        .unwrap_err()
        .to_string();
    assert!(err.contains("absent"), "{err}");
}

#[test]
fn language_negotiation() {
    let n = Lang::negotiate;
    assert_eq!(n(None, None), Lang::En);
    assert_eq!(n(Some("fr"), Some("en-US,en;q=0.9")), Lang::Fr);
    assert_eq!(n(Some("en"), Some("fr")), Lang::En);
    assert_eq!(n(Some("xx"), Some("fr-FR,fr;q=0.9,en;q=0.8")), Lang::Fr);
    assert_eq!(n(None, Some("de-DE,de;q=0.9,fr;q=0.5,en;q=0.6")), Lang::En);
    assert_eq!(n(None, Some("de-DE,de;q=0.9,fr;q=0.7,en;q=0.6")), Lang::Fr);
    assert_eq!(n(None, Some("fr;q=0,*;q=0.1")), Lang::En);
    assert_eq!(n(None, Some("en;q=0,*;q=0.1")), Lang::Fr);
    assert_eq!(n(None, Some("garbage;;q=x,,")), Lang::En);
}

/// A tiny site serving the rendered pages (`/page/<template>?lang=fr`) and echoing what
/// a form posts to `/login`.
async fn serve_pages(ui: Ui) -> String {
    let ui = std::sync::Arc::new(ui);
    let page = move |Path(name): Path<String>, Query(q): Query<Vec<(String, String)>>| {
        let ui = ui.clone();
        async move {
            let lang = Lang::negotiate(
                q.iter().find(|(k, _)| k == "lang").map(|(_, v)| v.as_str()),
                None,
            );
            render_all(&ui, lang)
                .into_iter()
                .find(|(n, _, _)| *n == name)
                .map(|(_, html, _)| Html(html))
                .ok_or(axum::http::StatusCode::NOT_FOUND)
        }
    };
    let echo = |Form(mut fields): Form<Vec<(String, String)>>| async move {
        fields.sort();
        let text: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Html(format!(
            "<!doctype html><title>posted</title><pre id=posted>{}</pre>",
            text.join("&")
        ))
    };
    let app = Router::new()
        .route("/page/{name}", get(page))
        .route("/login", post(echo));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

async fn no_horizontal_scroll(browser: &Browser, what: &str) {
    let widths = browser
        .client
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .expect("widths");
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "{what}: the page scrolls sideways ({widths})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_renders_the_login_page_on_phone_and_desktop() {
    let Some(browser) = Browser::start("ui-smoke").await else {
        return;
    };
    let base = serve_pages(Ui::new(None).expect("ui")).await;
    let shots = browser.run_dir().to_path_buf();

    browser.set_size(390, 844).await;
    browser
        .goto(&format!("{base}/page/login.html?lang=fr"))
        .await;
    assert!(browser.title().await.starts_with("Connexion · <script>"));
    assert_eq!(browser.viewport().await, (390, 844));
    no_horizontal_scroll(&browser, "login on a phone").await;
    // The alert is visible and the button is a comfortable touch target.
    assert!(browser
        .text("[role=alert]")
        .await
        .contains("Nom d'utilisateur ou mot de passe incorrect."));
    let height = browser
        .client
        .execute(
            "return document.querySelector('button[type=submit]').getBoundingClientRect().height;",
            vec![],
        )
        .await
        .expect("button height");
    assert!(
        height.as_f64().unwrap_or(0.0) >= 44.0,
        "submit is {height} px high"
    );
    browser.screenshot(&shots.join("login-phone.png")).await;

    browser.set_size(1280, 800).await;
    browser.goto(&format!("{base}/page/login.html")).await;
    assert!(browser.title().await.starts_with("Sign in · <script>"));
    no_horizontal_scroll(&browser, "login on a desktop").await;
    browser.screenshot(&shots.join("login-desktop.png")).await;

    // The form works without any script: a plain POST with the hidden fields.
    browser.fill("#username", "alice").await;
    browser.fill("#password", "Secret-123").await;
    browser
        .click("form:has(#password) button[type=submit]")
        .await;
    let posted = browser.text("#posted").await;
    assert_eq!(
        posted,
        "_csrf=csrf-123&flow=flow-456&password=Secret-123&username=alice"
    );

    // Every page, in both sizes: no sideways scrolling, a screenshot to look at.
    let templates: Vec<&str> = EMBEDDED_TEMPLATES
        .iter()
        .map(|(n, _)| *n)
        // The form that takes the browser to an IdP submits itself: tested on its own.
        .filter(|n| !n.starts_with('_') && *n != "layout.html" && *n != "upstream_post.html")
        .collect();
    assert_eq!(templates.len(), 16);
    for (size, w, h) in [("phone", 390, 844), ("desktop", 1280, 800)] {
        browser.set_size(w, h).await;
        for name in &templates {
            browser.goto(&format!("{base}/page/{name}")).await;
            assert!(!browser.title().await.is_empty(), "{name}: no title");
            no_horizontal_scroll(&browser, &format!("{name} on a {size}")).await;
            let stem = name.trim_end_matches(".html");
            browser
                .screenshot(&shots.join(format!("{stem}-{size}.png")))
                .await;
        }
    }
    let png = std::fs::read(shots.join("signup-phone.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
}
