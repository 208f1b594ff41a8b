//! The hosted UI's presentation layer: minijinja templates and message catalogs.
//!
//! Handlers build a typed page context ([`contexts`]) and call [`Ui::page`]; they never
//! write HTML. The default templates and catalogs under `templates/` are compiled into
//! the binary. An operator's directory (`[server] templates_dir`) overrides any of them
//! by the same relative name (`login.html`, `layout.html`, `i18n/fr.toml`, ...); a
//! template the directory lacks comes from the binary, and an override catalog replaces
//! only the keys it names.
//!
//! Output is HTML-escaped (auto-escaping on for `.html`), so a hostile display name or
//! username is shown, never run. Templates see the page context's fields, `lang` (the
//! render's language code) and `t(key, name=value, ...)`, which translates a catalog key
//! with `{name}` placeholders filled in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::{Kwargs, Serde};
use minijinja::{context, path_loader, AutoEscape, Environment, TemplateSource, Value};
use serde::Serialize;

use crate::core::model::PasswordPolicy;

pub mod contexts;
pub mod i18n;

pub use contexts::*;
pub use i18n::{message, tr, Catalogs, Lang};

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
];

/// Why the UI could not be built or a page not rendered.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error("templates_dir {path}: {detail}")]
    OverrideDir { path: PathBuf, detail: String },
    #[error("template {name}: {source}")]
    Template {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("message catalog {name}: {detail}")]
    Catalog { name: String, detail: String },
}

/// A page context that knows its template, so a handler cannot pair a context with the
/// wrong page.
pub trait Page: Serialize {
    /// The template's name, e.g. `login.html`.
    const TEMPLATE: &'static str;
}

/// The template environment and catalogs, built once at start and shared by handlers.
pub struct Ui {
    env: Environment<'static>,
    catalogs: Arc<Catalogs>,
}

impl std::fmt::Debug for Ui {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ui").finish_non_exhaustive()
    }
}

impl Ui {
    /// Builds the UI from the embedded templates and catalogs, with `override_dir` (the
    /// operator's `templates_dir`) searched first. Every built-in template is loaded and
    /// compiled here, so a broken override fails the start, not a user's sign-in.
    pub fn new(override_dir: Option<&Path>) -> Result<Ui, UiError> {
        let mut catalogs = Catalogs::embedded()?;
        if let Some(dir) = override_dir {
            if !dir.is_dir() {
                return Err(UiError::OverrideDir {
                    path: dir.to_path_buf(),
                    detail: "not a readable directory".into(),
                });
            }
            for lang in Lang::ALL {
                let path = dir.join("i18n").join(format!("{}.toml", lang.code()));
                match std::fs::read_to_string(&path) {
                    Ok(text) => catalogs.merge(lang, &path.display().to_string(), &text)?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(UiError::Catalog {
                            name: path.display().to_string(),
                            detail: e.to_string(),
                        })
                    }
                }
            }
        }

        let mut env = Environment::new();
        let from_dir = override_dir.map(|dir| path_loader(dir.to_path_buf()));
        // Templates come only through the loader (templates added with `add_template`
        // would shadow it): the operator's file first, the embedded default otherwise.
        env.set_loader(move |name| {
            if let Some(load) = &from_dir {
                if let Some(source) = load(name)? {
                    return Ok(Some(source));
                }
            }
            Ok(EMBEDDED_TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| TemplateSource::new(*text)))
        });
        // Templates are read once; a restart picks up an operator's edits.
        env.set_auto_reload(false);
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") || name.ends_with(".htm") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        // Printing or iterating an undefined value is an error, so a misspelled field
        // fails the template tests instead of rendering an empty label.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::SemiStrict);

        for (name, _) in EMBEDDED_TEMPLATES {
            env.get_template(name).map_err(|source| UiError::Template {
                name: (*name).to_string(),
                source,
            })?;
        }
        Ok(Ui {
            env,
            catalogs: Arc::new(catalogs),
        })
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
        let err = |source| UiError::Template {
            name: template.to_string(),
            source,
        };
        let tmpl = self.env.get_template(template).map_err(err)?;
        let catalogs = self.catalogs.clone();
        let t = Value::from_function(
            move |key: &str, kwargs: Kwargs| -> Result<String, minijinja::Error> {
                let mut args = Vec::new();
                for name in kwargs.args() {
                    let value: Value = kwargs.get(name)?;
                    args.push((name.to_string(), value.to_string()));
                }
                Ok(i18n::interpolate(catalogs.get(lang, key), |name| {
                    args.iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.as_str())
                }))
            },
        );
        // Explicit keys come first and win over same-named fields of `ctx`.
        tmpl.render(context! { lang => lang.code(), t => t, ..Value::from(Serde(ctx)) })
            .map_err(err)
    }

    /// The message for `key` in `lang`, honouring the operator's catalog overrides.
    pub fn message(&self, lang: Lang, key: &str) -> String {
        self.catalogs.get(lang, key).to_string()
    }

    /// The message for `key` with `{name}` placeholders filled from `args`.
    pub fn tr(&self, lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
        self.catalogs.tr(lang, key, args)
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
        &self.catalogs
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
