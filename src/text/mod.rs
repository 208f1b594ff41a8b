//! Text Cognate shows or sends: minijinja templates and message catalogs, shared by the
//! hosted UI (`web::hosted::ui`, HTML pages) and the mailer (`core::mail`, plain-text mails).
//!
//! This module sits below both edges and the core and imports neither, so the core can
//! render a mail without knowing the web edge. Each owner declares its embedded templates
//! (`web::hosted::ui::EMBEDDED_TEMPLATES`, `core::mail::MAIL_TEMPLATES`) and one [`Texts`] is built
//! from all of them at start.
//!
//! The default templates and catalogs under `templates/` are compiled into the binary. An
//! operator's directory (`[server] templates_dir`) overrides any of them by the same
//! relative name (`login.html`, `mail/code.txt`, `i18n/fr.toml`, ...); a template the
//! directory lacks comes from the binary, and an override catalog replaces only the keys it
//! names. Every embedded template is compiled when [`Texts::new`] runs, so a broken
//! override fails the start, not a user's sign-in or sign-up.
//!
//! `.html` templates are HTML-escaped (a hostile display name is shown, never run); other
//! templates (mails) are plain text and not escaped. Templates see their context's fields,
//! `lang` (the render's language code) and `t(key, name=value, ...)`, which translates a
//! catalog key with `{name}` placeholders filled in.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::value::{Kwargs, Serde};
use minijinja::{context, path_loader, AutoEscape, Environment, TemplateSource, Value};
use serde::Serialize;

pub mod i18n;

pub use i18n::{message, tr, Catalogs, Lang};

/// Embedded templates, as (relative name, source) pairs.
pub type EmbeddedTemplates = &'static [(&'static str, &'static str)];

/// Why the texts could not be built or a template not rendered.
#[derive(Debug, thiserror::Error)]
pub enum TextError {
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

/// The template environment and catalogs, built once at start and shared by the hosted UI
/// and the mailer.
pub struct Texts {
    env: Environment<'static>,
    catalogs: Arc<Catalogs>,
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Texts").finish_non_exhaustive()
    }
}

impl Texts {
    /// Builds the texts from the `embedded` template sets and the embedded catalogs, with
    /// `override_dir` (the operator's `templates_dir`) searched first. Every embedded
    /// template is loaded and compiled here, so a broken override fails the start.
    pub fn new(
        override_dir: Option<&Path>,
        embedded: &[EmbeddedTemplates],
    ) -> Result<Texts, TextError> {
        let mut catalogs = Catalogs::embedded()?;
        if let Some(dir) = override_dir {
            if !dir.is_dir() {
                return Err(TextError::OverrideDir {
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
                        return Err(TextError::Catalog {
                            name: path.display().to_string(),
                            detail: e.to_string(),
                        })
                    }
                }
            }
        }

        let mut env = Environment::new();
        let from_dir = override_dir.map(|dir| path_loader(dir.to_path_buf()));
        let sets: Vec<EmbeddedTemplates> = embedded.to_vec();
        // Templates come only through the loader (templates added with `add_template`
        // would shadow it): the operator's file first, the embedded default otherwise.
        env.set_loader(move |name| {
            if let Some(load) = &from_dir {
                if let Some(source) = load(name)? {
                    return Ok(Some(source));
                }
            }
            Ok(sets
                .iter()
                .flat_map(|set| set.iter())
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

        for (name, _) in embedded.iter().flat_map(|set| set.iter()) {
            env.get_template(name)
                .map_err(|source| TextError::Template {
                    name: (*name).to_string(),
                    source,
                })?;
        }
        Ok(Texts {
            env,
            catalogs: Arc::new(catalogs),
        })
    }

    /// The texts built into the binary (no operator overrides). Should an embedded template
    /// or catalog not compile (the unit tests catch it), this degrades to texts without
    /// templates, whose renders fail, rather than stopping the process.
    pub fn built_in(embedded: &[EmbeddedTemplates]) -> Texts {
        Texts::new(None, embedded).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the built-in templates do not compile");
            Texts {
                env: Environment::new(),
                catalogs: Arc::new(Catalogs::default()),
            }
        })
    }

    /// Renders `template` with `ctx` in `lang`.
    pub fn render<T: Serialize>(
        &self,
        template: &str,
        lang: Lang,
        ctx: &T,
    ) -> Result<String, TextError> {
        let err = |source| TextError::Template {
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

    /// The catalogs in use (built-in plus overrides).
    pub fn catalogs(&self) -> &Catalogs {
        &self.catalogs
    }
}
