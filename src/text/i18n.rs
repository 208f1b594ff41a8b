//! Languages and message catalogs of the hosted UI and of the mails Cognate sends.
//!
//! A catalog is a TOML file per language (`templates/i18n/<code>.toml`); its tables are
//! flattened into dotted keys (`[login] title = "Sign in"` is `login.title`). Values may
//! carry `{name}` placeholders, filled by [`tr`] or by `t(key, name=value)` in templates.
//! A key missing from a language falls back to English, then to the key itself, so a
//! half-translated catalog still renders a usable page.

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::Serialize;

use super::TextError;

/// A language the hosted UI speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Fr,
}

impl Lang {
    /// Every supported language; the first is the default.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    /// The BCP 47 primary language subtag (`en`, `fr`), as used in `<html lang>` and in
    /// catalog file names.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language's own name, for a language picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    /// Matches a language tag on its primary subtag, case-insensitively (`fr`, `fr-CA`,
    /// `FR_be` are all French); `None` when the language is not supported.
    pub fn parse(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next()?;
        Lang::ALL
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// Chooses the page language: a supported `lang` query parameter wins, then the best
    /// supported entry of `Accept-Language` by q-value (RFC 9110 section 12.5.4), then
    /// English.
    pub fn negotiate(query_lang: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(lang) = query_lang.and_then(Lang::parse) {
            return lang;
        }
        accept_language.and_then(best_accepted).unwrap_or_default()
    }
}

/// At most this many `Accept-Language` entries are looked at (a real browser sends a
/// handful; the header is attacker-controlled).
const MAX_ACCEPT_ENTRIES: usize = 32;

/// The best supported language in an `Accept-Language` value, or `None`.
///
/// Entries with an unparsable weight are ignored; `q=0` means "not acceptable"
/// (RFC 9110 section 12.4.2). Equal weights keep header order. `*` stands for any
/// language not otherwise named with `q=0`.
fn best_accepted(header: &str) -> Option<Lang> {
    let mut entries: Vec<(&str, u16)> = header
        .split(',')
        .take(MAX_ACCEPT_ENTRIES)
        .filter_map(|item| {
            let mut parts = item.split(';');
            let range = parts.next()?.trim();
            if range.is_empty() {
                return None;
            }
            let mut q = 1000;
            for param in parts {
                let (name, value) = param.split_once('=')?;
                if name.trim().eq_ignore_ascii_case("q") {
                    q = parse_qvalue(value.trim())?;
                }
            }
            Some((range, q))
        })
        .collect();
    let refused: Vec<Lang> = entries
        .iter()
        .filter(|(range, q)| *q == 0 && *range != "*")
        .filter_map(|(range, _)| Lang::parse(range))
        .collect();
    // A stable sort keeps header order among equal weights.
    entries.sort_by_key(|e| std::cmp::Reverse(e.1));
    entries
        .into_iter()
        .take_while(|(_, q)| *q > 0)
        .find_map(|(range, _)| {
            if range == "*" {
                Lang::ALL.into_iter().find(|l| !refused.contains(l))
            } else {
                Lang::parse(range).filter(|l| !refused.contains(l))
            }
        })
}

/// A weight in thousandths: `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`
/// (RFC 9110 section 12.4.2).
fn parse_qvalue(text: &str) -> Option<u16> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// The catalog files compiled into the binary, by language.
const EMBEDDED_CATALOGS: [(Lang, &str); 2] = [
    (Lang::En, include_str!("../../templates/i18n/en.toml")),
    (Lang::Fr, include_str!("../../templates/i18n/fr.toml")),
];

/// The messages of every language.
#[derive(Debug, Clone, Default)]
pub struct Catalogs {
    by_lang: HashMap<Lang, HashMap<String, String>>,
}

impl Catalogs {
    /// The catalogs compiled into the binary.
    pub fn embedded() -> Result<Catalogs, TextError> {
        let mut catalogs = Catalogs::default();
        for (lang, text) in EMBEDDED_CATALOGS {
            let name = format!("(embedded) i18n/{}.toml", lang.code());
            catalogs.by_lang.insert(lang, parse_catalog(&name, text)?);
        }
        Ok(catalogs)
    }

    /// Replaces, key by key, the messages of `lang` with those in `text` (an operator's
    /// override file); keys the file does not name keep their built-in text.
    pub fn merge(&mut self, lang: Lang, name: &str, text: &str) -> Result<(), TextError> {
        let overrides = parse_catalog(name, text)?;
        self.by_lang.entry(lang).or_default().extend(overrides);
        Ok(())
    }

    /// The message for `key` in `lang`; falls back to English, then to the key itself.
    pub fn get<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        self.lookup(lang, key)
            .or_else(|| self.lookup(Lang::En, key))
            .unwrap_or(key)
    }

    /// The message for `key` with `{name}` placeholders filled from `args`.
    pub fn tr(&self, lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
        interpolate(self.get(lang, key), |name| {
            args.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
        })
    }

    /// Whether `lang`'s own catalog has `key` (no fallback).
    pub fn contains(&self, lang: Lang, key: &str) -> bool {
        self.lookup(lang, key).is_some()
    }

    /// Every key of `lang`'s own catalog.
    pub fn keys(&self, lang: Lang) -> impl Iterator<Item = &str> {
        self.by_lang
            .get(&lang)
            .into_iter()
            .flat_map(|m| m.keys().map(String::as_str))
    }

    fn lookup(&self, lang: Lang, key: &str) -> Option<&str> {
        self.by_lang.get(&lang)?.get(key).map(String::as_str)
    }
}

/// Parses a catalog file into flat dotted keys; every value must be a string.
fn parse_catalog(name: &str, text: &str) -> Result<HashMap<String, String>, TextError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| TextError::Catalog {
        name: name.to_string(),
        detail: e.to_string(),
    })?;
    let mut out = HashMap::new();
    flatten(name, "", &table, &mut out)?;
    Ok(out)
}

fn flatten(
    name: &str,
    prefix: &str,
    table: &toml::Table,
    out: &mut HashMap<String, String>,
) -> Result<(), TextError> {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(s) => {
                out.insert(full, s.clone());
            }
            toml::Value::Table(t) => flatten(name, &full, t, out)?,
            _ => {
                return Err(TextError::Catalog {
                    name: name.to_string(),
                    detail: format!("{full}: messages must be strings"),
                })
            }
        }
    }
    Ok(())
}

/// Replaces each `{name}` in `text` by `value(name)`, in one pass (a value that itself
/// contains braces is not expanded again); unknown placeholders are left as written.
pub(crate) fn interpolate<'v>(text: &str, value: impl Fn(&str) -> Option<&'v str>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if !after[..close].is_empty()
                    && after[..close]
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_') =>
            {
                let name = &after[..close];
                match value(name) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(name);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The built-in catalogs, for callers without a [`super::Texts`] at hand. An unparsable
/// built-in catalog (caught by the unit tests) degrades to showing keys.
static BUILT_IN: LazyLock<Catalogs> = LazyLock::new(|| Catalogs::embedded().unwrap_or_default());

/// The built-in message for `key` in `lang` (English, then the key, as fallbacks).
/// Callers holding a [`super::Texts`] should prefer [`super::Texts::message`], which honours
/// the operator's catalog overrides.
pub fn message(lang: Lang, key: &str) -> String {
    BUILT_IN.get(lang, key).to_string()
}

/// The built-in message for `key` with `{name}` placeholders filled from `args`, e.g.
/// `tr(lang, "password.min_length", &[("n", "8")])`. See [`super::Texts::tr`].
pub fn tr(lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
    BUILT_IN.tr(lang, key, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation() {
        let n = Lang::negotiate;
        assert_eq!(n(None, None), Lang::En);
        assert_eq!(n(Some("fr"), Some("en")), Lang::Fr);
        assert_eq!(n(Some("FR-ca"), None), Lang::Fr);
        // An unsupported query language falls through to the header.
        assert_eq!(n(Some("de"), Some("fr")), Lang::Fr);
        assert_eq!(n(Some(""), Some("fr-FR,fr;q=0.9")), Lang::Fr);
        assert_eq!(
            n(None, Some("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5")),
            Lang::Fr
        );
        assert_eq!(n(None, Some("de-DE, fr;q=0.4, en;q=0.5")), Lang::En);
        assert_eq!(n(None, Some("de-DE, en;q=0.4, fr;q=0.5")), Lang::Fr);
        assert_eq!(n(None, Some("de, ja")), Lang::En);
        // Equal weights keep header order.
        assert_eq!(n(None, Some("fr;q=0.8, en;q=0.8")), Lang::Fr);
        // q=0 refuses; `*` takes any language not refused.
        assert_eq!(n(None, Some("fr;q=0, en;q=0")), Lang::En);
        assert_eq!(n(None, Some("en;q=0, *")), Lang::Fr);
        assert_eq!(n(None, Some("fr;q=0")), Lang::En);
        // Malformed weights are ignored entry by entry.
        assert_eq!(n(None, Some("en;q=2, fr")), Lang::Fr);
        assert_eq!(n(None, Some("en;q=0.0001, fr;q=0.001")), Lang::Fr);
        assert_eq!(n(None, Some("en;q=abc, fr;q=1.000")), Lang::Fr);
        assert_eq!(n(None, Some(",,;;=, ;q=")), Lang::En);
        assert_eq!(n(None, Some("FR ; Q=0.5")), Lang::Fr);
    }

    #[test]
    fn qvalues() {
        assert_eq!(parse_qvalue("1"), Some(1000));
        assert_eq!(parse_qvalue("1.000"), Some(1000));
        assert_eq!(parse_qvalue("0.5"), Some(500));
        assert_eq!(parse_qvalue("0.05"), Some(50));
        assert_eq!(parse_qvalue("0"), Some(0));
        assert_eq!(parse_qvalue("0."), Some(0));
        assert_eq!(parse_qvalue("1.001"), None);
        assert_eq!(parse_qvalue("0.1234"), None);
        assert_eq!(parse_qvalue(".5"), None);
        assert_eq!(parse_qvalue("-0"), None);
    }

    #[test]
    fn interpolation() {
        let args = |n: &str| match n {
            "n" => Some("8"),
            "x" => Some("{n}"),
            _ => None,
        };
        assert_eq!(interpolate("at least {n} chars", args), "at least 8 chars");
        assert_eq!(interpolate("{x}", args), "{n}");
        assert_eq!(
            interpolate("{unknown} {} { n } {", args),
            "{unknown} {} { n } {"
        );
        assert_eq!(interpolate("a{n}{n}b", args), "a88b");
    }

    #[test]
    fn built_in_catalogs_parse_and_cover_english() {
        let catalogs = Catalogs::embedded().expect("embedded catalogs parse");
        let english: Vec<&str> = catalogs.keys(Lang::En).collect();
        assert!(english.len() > 50, "English catalog looks empty");
        for lang in Lang::ALL {
            let missing: Vec<&&str> = english
                .iter()
                .filter(|k| !catalogs.contains(lang, k))
                .collect();
            assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
            let extra: Vec<&str> = catalogs
                .keys(lang)
                .filter(|k| !catalogs.contains(Lang::En, k))
                .collect();
            assert!(
                extra.is_empty(),
                "{lang:?} has keys English lacks: {extra:?}"
            );
        }
    }

    #[test]
    fn fallbacks() {
        let mut catalogs = Catalogs::embedded().expect("embedded catalogs parse");
        catalogs
            .merge(Lang::Fr, "test", "only_english = 'x'\n")
            .expect("merge");
        assert_eq!(catalogs.get(Lang::Fr, "no.such.key"), "no.such.key");
        assert_eq!(
            message(Lang::Fr, "login.submit"),
            catalogs.get(Lang::Fr, "login.submit")
        );
        assert_eq!(
            tr(Lang::En, "password.min_length", &[("n", "12")]),
            "At least 12 characters"
        );
        assert!(catalogs
            .merge(Lang::Fr, "bad", "[a]\nb = 3\n")
            .is_err_and(|e| e.to_string().contains("a.b")));
    }
}
