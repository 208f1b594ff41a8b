//! The hosted UI's presentation layer: minijinja templates and message catalogs.
//!
//! Handlers build a typed page context ([`contexts`]) and call [`Ui::page`]; they never
//! write HTML. The templates, catalogs and the operator's overrides (`[server]
//! templates_dir`: `login.html`, `layout.html`, `i18n/fr.toml`, ...) are the shared
//! [`crate::text::Texts`], which the mailer renders its messages with too; this module
//! adds the pages' list of templates and their typed contexts.
//!
//! Output is HTML-escaped (auto-escaping on for `.html`), so a hostile display name or
//! username is shown, never run. Templates see the page context's fields, `lang` (the
//! render's language code) and `t(key, name=value, ...)`, which translates a catalog key
//! with `{name}` placeholders filled in.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::core::mail::MAIL_TEMPLATES;
use crate::core::model::PasswordPolicy;
use crate::text::Texts;

pub mod contexts;
pub mod mfa_pages;

pub use crate::text::{message, tr, Catalogs, Lang};
pub use contexts::*;
pub use mfa_pages::*;

/// The templates compiled into the binary, by name. A unit test checks this list names
/// every `.html` file under `templates/`.
pub const EMBEDDED_TEMPLATES: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../../../templates/layout.html"),
    ),
    (
        "_form_state.html",
        include_str!("../../../../templates/_form_state.html"),
    ),
    (
        "login.html",
        include_str!("../../../../templates/login.html"),
    ),
    (
        "signup.html",
        include_str!("../../../../templates/signup.html"),
    ),
    (
        "confirm.html",
        include_str!("../../../../templates/confirm.html"),
    ),
    (
        "forgot_password.html",
        include_str!("../../../../templates/forgot_password.html"),
    ),
    (
        "reset_password.html",
        include_str!("../../../../templates/reset_password.html"),
    ),
    (
        "new_password.html",
        include_str!("../../../../templates/new_password.html"),
    ),
    (
        "error.html",
        include_str!("../../../../templates/error.html"),
    ),
    ("demo.html", include_str!("../../../../templates/demo.html")),
    (
        "logged_out.html",
        include_str!("../../../../templates/logged_out.html"),
    ),
    (
        "not_me.html",
        include_str!("../../../../templates/not_me.html"),
    ),
    (
        "upstream_post.html",
        include_str!("../../../../templates/upstream_post.html"),
    ),
    (
        "_passkey.html",
        include_str!("../../../../templates/_passkey.html"),
    ),
    (
        "mfa_challenge.html",
        include_str!("../../../../templates/mfa_challenge.html"),
    ),
    (
        "mfa_setup.html",
        include_str!("../../../../templates/mfa_setup.html"),
    ),
    (
        "passkey_offer.html",
        include_str!("../../../../templates/passkey_offer.html"),
    ),
    (
        "recovery_codes.html",
        include_str!("../../../../templates/recovery_codes.html"),
    ),
    (
        "email_login.html",
        include_str!("../../../../templates/email_login.html"),
    ),
    (
        "account_security.html",
        include_str!("../../../../templates/account_security.html"),
    ),
];

/// Why the UI could not be built or a page not rendered (the shared texts' error).
pub use crate::text::TextError as UiError;

/// A page context that knows its template, so a handler cannot pair a context with the
/// wrong page.
pub trait Page: Serialize {
    /// The template's name, e.g. `login.html`.
    const TEMPLATE: &'static str;
}

/// The hosted UI's view of the shared [`Texts`] (which also hold the mail templates),
/// built once at start and shared by handlers.
pub struct Ui {
    texts: Arc<Texts>,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui").finish_non_exhaustive()
    }
}

impl Ui {
    /// Builds the UI from the embedded templates and catalogs, with `override_dir` (the
    /// operator's `templates_dir`) searched first. Every built-in template, the mail
    /// templates included, is loaded and compiled here, so a broken override fails the
    /// start, not a user's sign-in.
    pub fn new(override_dir: Option<&Path>) -> Result<Ui, UiError> {
        let texts = Texts::new(override_dir, &[EMBEDDED_TEMPLATES, MAIL_TEMPLATES])?;
        Ok(Ui {
            texts: Arc::new(texts),
        })
    }

    /// The shared texts, for the mailer to render its messages with the same overrides.
    pub fn texts(&self) -> &Arc<Texts> {
        &self.texts
    }

    /// Renders a typed page in `lang`.
    pub fn page<P: Page>(&self, lang: Lang, page: &P) -> Result<String, UiError> {
        self.render(P::TEMPLATE, lang, page)
    }

    /// Renders `template` with `ctx` in `lang`. Prefer [`Ui::page`]; this is for
    /// templates an operator adds.
    pub fn render<T: Serialize>(
        &self,
        template: &str,
        lang: Lang,
        ctx: &T,
    ) -> Result<String, UiError> {
        self.texts.render(template, lang, ctx)
    }

    /// The message for `key` in `lang`, honouring the operator's catalog overrides.
    pub fn message(&self, lang: Lang, key: &str) -> String {
        self.texts.message(lang, key)
    }

    /// The message for `key` with `{name}` placeholders filled from `args`.
    pub fn tr(&self, lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
        self.texts.tr(lang, key, args)
    }

    /// The pool's password policy as translated lines for the sign-up and reset pages
    /// ("At least 8 characters", "An uppercase letter", ...).
    pub fn password_rules(&self, lang: Lang, policy: &PasswordPolicy) -> Vec<String> {
        let mut rules = vec![self.tr(
            lang,
            "password.min_length",
            &[("n", &policy.minimum_length.to_string())],
        )];
        for (on, key) in [
            (policy.require_uppercase, "password.require_uppercase"),
            (policy.require_lowercase, "password.require_lowercase"),
            (policy.require_numbers, "password.require_number"),
            (policy.require_symbols, "password.require_symbol"),
        ] {
            if on {
                rules.push(self.message(lang, key));
            }
        }
        rules
    }

    /// The catalogs in use (built-in plus overrides).
    pub fn catalogs(&self) -> &Catalogs {
        self.texts.catalogs()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Catalog keys a template names literally: `t("key"` or `t('key'`.
    fn keys_used(source: &str) -> Vec<String> {
        let mut keys = Vec::new();
        let mut rest = source;
        while let Some(at) = rest.find("t(") {
            let preceded_by_ident = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            let after = &rest[at + 2..];
            rest = after;
            if preceded_by_ident {
                continue;
            }
            let Some(quote) = after.chars().next().filter(|c| *c == '"' || *c == '\'') else {
                continue;
            };
            if let Some(end) = after[1..].find(quote) {
                keys.push(after[1..1 + end].to_string());
            }
        }
        keys
    }

    #[test]
    fn every_template_file_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("templates dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".html"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = EMBEDDED_TEMPLATES
            .iter()
            .map(|(n, _)| n.to_string())
            .collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn every_key_used_exists_in_every_catalog() {
        let catalogs = Catalogs::embedded().expect("catalogs");
        let mut used: Vec<String> = EMBEDDED_TEMPLATES
            .iter()
            .flat_map(|(_, src)| keys_used(src))
            .collect();
        // Keys chosen in Rust rather than written in a template.
        used.extend(
            contexts::UsernameKind::ALL
                .iter()
                .map(|k| k.label_key().to_string()),
        );
        used.extend(
            crate::core::attributes::STANDARD_ATTRIBUTES
                .iter()
                .filter(|a| !a.ends_with("_verified"))
                .map(|a| contexts::AttributeField::standard(a, false, "").label_key),
        );
        used.extend(
            [
                "password.min_length",
                "password.require_uppercase",
                "password.require_lowercase",
                "password.require_number",
                "password.require_symbol",
            ]
            .map(String::from),
        );
        // The MFA pages' keys chosen in Rust (issue 13).
        for kind in ["totp", "email", "passkey"] {
            used.push(format!("mfa.use_{kind}"));
            used.push(format!("setup.choice_{kind}"));
        }
        for kind in crate::core::model::MfaFactor::ALL {
            used.push(format!("factor.{}", kind.as_str()));
        }
        used.extend(
            [
                "mfa.use_recovery",
                "passkey.verify",
                "passkey.register",
                "login.passkey",
                "notice.factor_added",
                "notice.factor_removed",
                "notice.preferred_set",
                "error.mfa_expired",
                "error.mfa_locked",
                "error.enrolment_expired",
                "error.factor_not_allowed",
                "error.email_not_verified",
                "error.last_factor",
                "error.passkey_failed",
                "error.code_delivery",
                "error.security_federated",
                "error.no_factor",
            ]
            .map(String::from),
        );
        assert!(used.len() > 40, "found only {used:?}");
        for lang in Lang::ALL {
            let missing: Vec<&String> = used
                .iter()
                .filter(|k| !catalogs.contains(lang, k))
                .collect();
            assert!(missing.is_empty(), "{lang:?} catalog lacks {missing:?}");
        }
    }

    #[test]
    fn key_scanner() {
        assert_eq!(
            keys_used(r#"{{ t("a.b") }} {{ t('c', n=1) }} {{ x.t("no") }} {{ alt("no") }}"#),
            vec!["a.b", "c"]
        );
    }

    /// The server builds its UI, and with it the mailer's texts, at start: a broken mail
    /// override stops the start as a broken page does, and a good one reaches the mails.
    #[test]
    fn mail_overrides_are_checked_at_start_and_shared_with_the_mailer() {
        use crate::core::mail::{code_mail, CodePurpose};
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("mail")).expect("mkdir");
        std::fs::write(dir.path().join("mail/code.txt"), "{{ code }} {% endif %}").expect("write");
        let err = Ui::new(Some(dir.path())).expect_err("broken mail template");
        assert!(err.to_string().contains("mail/code.txt"), "{err}");

        std::fs::write(dir.path().join("mail/code.txt"), "Code: {{ code }}").expect("write");
        let ui = Ui::new(Some(dir.path())).expect("ui");
        let mail =
            code_mail(ui.texts(), CodePurpose::Verification, "a@b.c", "9", "en").expect("mail");
        assert_eq!(mail.text, "Code: 9");
        assert_eq!(mail.subject, "Your verification code");
    }

    #[test]
    fn password_rules_follow_policy() {
        let ui = Ui::new(None).expect("ui");
        let policy = PasswordPolicy {
            minimum_length: 12,
            require_uppercase: true,
            require_lowercase: false,
            require_numbers: true,
            require_symbols: false,
            temporary_password_validity_days: 7,
        };
        assert_eq!(
            ui.password_rules(Lang::En, &policy),
            vec!["At least 12 characters", "An uppercase letter", "A number"]
        );
        assert_eq!(
            ui.password_rules(Lang::Fr, &policy)[0],
            "Au moins 12 caractères"
        );
    }
}
