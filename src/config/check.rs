//! `cognate check-config`: parse and validate a configuration file, reporting every
//! problem at once with its line, column, dotted path and a fix.
//!
//! Checking runs in three passes over the text:
//! 1. `toml_edit` parses it into a document that remembers where every key and value is;
//!    a syntax error stops here with one diagnostic.
//! 2. serde turns it into [`Config`]; a type error (a string where a number belongs, an
//!    unknown key) stops here with one diagnostic located by the error's span.
//! 3. The semantic rules (Cognito's limits, checked by the core's administration service on
//!    the records the file declares, and the file's own) run over the whole configuration
//!    and report every violation, each located by its dotted path.

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml_edit::{ImDocument, Item, TableLike, Value};

use super::{Config, PoolDecl, ServerSettings};

pub(crate) mod rules;

pub use crate::core::admin::check_redirect_url;
pub(crate) use crate::core::admin::is_loopback;
pub use crate::core::mail::check_smtp_url;
pub use rules::check_mail_from;

/// One problem in the configuration: where it is, what is wrong, and what to write instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file (as given on the command line), or `environment` for a variable.
    pub file: String,
    /// 1-based line and column; `None` when the problem has no place in the file.
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// The dotted path of the offending key (`pools[0].clients[1].callback_urls[2]`), or
    /// the environment variable's name.
    pub path: String,
    pub message: String,
    pub fix: String,
}

impl Diagnostic {
    /// A problem with an environment variable.
    pub fn env(var: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Diagnostic {
            file: "environment".to_string(),
            line: None,
            column: None,
            path: var.to_string(),
            message: message.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let (Some(line), Some(column)) = (self.line, self.column) {
            write!(f, ":{line}:{column}")?;
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)?;
        if !self.fix.is_empty() {
            write!(f, "\n  fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// Reads, parses and validates a configuration file.
pub fn check_file(path: &Path) -> Result<Config, Vec<Diagnostic>> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![Diagnostic {
            file: label.clone(),
            line: None,
            column: None,
            path: String::new(),
            message: format!("cannot read the configuration file: {e}"),
            fix: "check the path and the file's permissions".to_string(),
        }]
    })?;
    let base = path.parent().filter(|p| !p.as_os_str().is_empty());
    let mut config = check_str_in(&text, &label, base)?;
    config.source = Some(path.to_path_buf());
    Ok(config)
}

/// The file's top level: `[server]` and `[[pools]]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDecl {
    #[serde(default)]
    server: ServerSettings,
    #[serde(default)]
    pools: Vec<PoolDecl>,
    #[serde(default)]
    identity_pools: Vec<super::decl::IdentityPoolDecl>,
    #[serde(default)]
    roles: Vec<super::decl::RoleDecl>,
}

/// Parses and validates configuration text; `file_label` names it in diagnostics. Files
/// it names (an IdP's `metadata_file`) are read relative to the current directory.
pub fn check_str(text: &str, file_label: &str) -> Result<Config, Vec<Diagnostic>> {
    check_str_in(text, file_label, None)
}

/// As [`check_str`], with the files the configuration names read relative to `base` (the
/// configuration file's directory).
pub fn check_str_in(
    text: &str,
    file_label: &str,
    base: Option<&Path>,
) -> Result<Config, Vec<Diagnostic>> {
    let doc = match ImDocument::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            let map = SourceMap::empty(text, file_label);
            return Err(vec![map.at_span(
                e.span(),
                first_line(e.message()),
                "correct the TOML syntax here (see https://toml.io/en/v1.0.0)".to_string(),
            )]);
        }
    };
    let map = SourceMap::new(text, file_label, &doc);
    let mut diagnostics = Vec::new();

    // Literal client secrets are refused, but reported beside every other problem: blank
    // them out (same byte offsets, so every location stays right) and parse the rest.
    let blanked = blank_literal_secrets(text, &doc, &map, &mut diagnostics);

    let file: FileDecl = match toml::from_str(&blanked) {
        Ok(file) => file,
        Err(e) => {
            diagnostics.push(map.diagnose_toml_error(&e));
            sort(&mut diagnostics);
            return Err(diagnostics);
        }
    };
    let mut config = Config {
        server: file.server,
        pools: file.pools,
        identity_pools: file.identity_pools,
        roles: file.roles,
        source: None,
        master_key: None,
    };
    let mut checker = Checker {
        map: &map,
        diagnostics,
    };
    // What the file only names (SAML metadata) is read first, so the rules see it.
    rules::load_saml_metadata(&mut checker, &mut config, base);
    rules::identity_pools::load_policy_files(&mut checker, &mut config, base);
    rules::check_config(&mut checker, &config);
    rules::identity_pools::check(&mut checker, &config);
    let mut diagnostics = checker.diagnostics;
    if diagnostics.is_empty() {
        return Ok(config);
    }
    sort(&mut diagnostics);
    Err(diagnostics)
}

/// File order, as an editor walks them (stable, so one line's problems keep rule order).
fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.line.unwrap_or(usize::MAX), d.column.unwrap_or(0)));
}

/// Parses the public base URL: absolute http(s), no query or fragment, and https unless
/// the host is loopback (tokens carry it as `iss`, so it must be what clients reach).
pub fn parse_public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| format!("{text:?} is not an absolute URL ({e})"))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(format!(
                "{text:?} uses http, which is allowed only for a loopback host (localhost, \
                 127.x.x.x or [::1]); other hosts need https"
            ))
        }
        other => return Err(format!("{text:?} has scheme {other:?}; use https or http")),
    }
    if url.host().is_none() {
        return Err(format!("{text:?} has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "{text:?} must not have a query (?...) or fragment (#...)"
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{text:?} must not contain a user name or password"));
    }
    Ok(url)
}

/// Collects diagnostics for the semantic rules.
pub(super) struct Checker<'a> {
    map: &'a SourceMap<'a>,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    /// Reports a problem at `path` (or its nearest located parent).
    pub(super) fn error(
        &mut self,
        path: impl AsRef<str>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) {
        let d = self.map.at_path(path.as_ref(), message.into(), fix.into());
        self.diagnostics.push(d);
    }
}

/// Where every key and value of the document is, by dotted path.
struct SourceMap<'a> {
    text: &'a str,
    file: String,
    /// Path -> span of the value (or a table's header).
    values: HashMap<String, Range<usize>>,
    /// Path -> span of the key.
    keys: HashMap<String, Range<usize>>,
}

impl<'a> SourceMap<'a> {
    fn empty(text: &'a str, file: &str) -> Self {
        SourceMap {
            text,
            file: file.to_string(),
            values: HashMap::new(),
            keys: HashMap::new(),
        }
    }

    fn new<S>(text: &'a str, file: &str, doc: &ImDocument<S>) -> Self {
        let mut map = Self::empty(text, file);
        map.walk_table("", doc.as_table());
        map
    }

    fn walk_table(&mut self, prefix: &str, table: &dyn TableLike) {
        for (name, _) in table.iter() {
            let Some((key, item)) = table.get_key_value(name) else {
                continue;
            };
            let path = join(prefix, name);
            if let Some(span) = key.span() {
                self.keys.insert(path.clone(), span);
            }
            self.walk_item(&path, item);
        }
    }

    fn walk_item(&mut self, path: &str, item: &Item) {
        match item {
            Item::None => {}
            Item::Value(value) => self.walk_value(path, value),
            Item::Table(table) => {
                if let Some(span) = table.span() {
                    self.values.insert(path.to_string(), span);
                }
                self.walk_table(path, table);
            }
            Item::ArrayOfTables(array) => {
                for (i, table) in array.iter().enumerate() {
                    let path = format!("{path}[{i}]");
                    if let Some(span) = table.span() {
                        self.values.insert(path.clone(), span);
                    }
                    self.walk_table(&path, table);
                }
            }
        }
    }

    fn walk_value(&mut self, path: &str, value: &Value) {
        if let Some(span) = value.span() {
            self.values.insert(path.to_string(), span);
        }
        match value {
            Value::Array(array) => {
                for (i, v) in array.iter().enumerate() {
                    self.walk_value(&format!("{path}[{i}]"), v);
                }
            }
            Value::InlineTable(table) => self.walk_table(path, table),
            _ => {}
        }
    }

    /// The span of `path`, or of its nearest parent that has one.
    fn locate(&self, path: &str) -> Option<Range<usize>> {
        let mut p = path;
        loop {
            if let Some(span) = self.values.get(p).or_else(|| self.keys.get(p)) {
                return Some(span.clone());
            }
            p = parent(p)?;
        }
    }

    /// The innermost path whose key or value contains byte `offset`.
    fn path_at(&self, offset: usize) -> String {
        self.values
            .iter()
            .chain(self.keys.iter())
            .filter(|(_, span)| span.start <= offset && offset < span.end.max(span.start + 1))
            .min_by_key(|(path, span)| (span.end - span.start, std::cmp::Reverse(path.len())))
            .map(|(path, _)| path.clone())
            .unwrap_or_default()
    }

    /// 1-based line and column (in characters) of a byte offset.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let before = &self.text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    fn at_path(&self, path: &str, message: String, fix: String) -> Diagnostic {
        let (line, column) = match self.locate(path) {
            Some(span) => {
                let (l, c) = self.line_col(span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        Diagnostic {
            file: self.file.clone(),
            line,
            column,
            path: path.to_string(),
            message,
            fix,
        }
    }

    fn at_span(&self, span: Option<Range<usize>>, message: String, fix: String) -> Diagnostic {
        let (line, column, path) = match span {
            Some(span) => {
                let (l, c) = self.line_col(span.start);
                (Some(l), Some(c), self.path_at(span.start))
            }
            None => (None, None, String::new()),
        };
        Diagnostic {
            file: self.file.clone(),
            line,
            column,
            path,
            message,
            fix,
        }
    }

    /// One diagnostic for a serde/TOML error, with a fix derived from its message.
    fn diagnose_toml_error(&self, e: &toml::de::Error) -> Diagnostic {
        let mut d = self.at_span(e.span(), first_line(e.message()), String::new());
        (d.message, d.fix) = explain_type_error(&d.message, &d.path);
        d
    }
}

/// Replaces each `secret = ...` inside a client with spaces (keeping newlines and byte
/// offsets) and reports it: secrets come from the environment, never the file.
fn blank_literal_secrets<S>(
    text: &str,
    doc: &ImDocument<S>,
    map: &SourceMap<'_>,
    out: &mut Vec<Diagnostic>,
) -> String {
    let mut bytes = text.as_bytes().to_vec();
    let pools = doc.as_table().get("pools");
    for (i, pool) in tables_of(pools).into_iter().enumerate() {
        for (j, client) in tables_of(pool.get("clients")).into_iter().enumerate() {
            let Some((key, value)) = client.get_key_value("secret") else {
                continue;
            };
            let path = format!("pools[{i}].clients[{j}].secret");
            let id = client
                .get("id")
                .and_then(Item::as_str)
                .unwrap_or("<CLIENT ID>");
            out.push(
                map.at_path(
                    &path,
                    "client secrets are not accepted in the configuration file (it is usually \
                 committed to version control)"
                        .to_string(),
                    format!(
                        "remove this line; set generate_secret = true and, to choose the secret, \
                     the environment variable COGNATE_CLIENT_SECRET_{id}"
                    ),
                ),
            );
            if let (Some(k), Some(v)) = (key.span(), value.span()) {
                blank(&mut bytes, k.start, v.end);
            }
        }
    }
    // Only ASCII bytes outside newlines were replaced by spaces, so this stays UTF-8
    // unless a span cut through a character; fall back to the original text then.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// Blanks `start..end` and one adjacent comma (inline tables), keeping newlines.
fn blank(bytes: &mut [u8], start: usize, end: usize) {
    let (mut start, mut end) = (start, end.min(bytes.len()));
    let mut after = end;
    while after < bytes.len() && (bytes[after] == b' ' || bytes[after] == b'\t') {
        after += 1;
    }
    if after < bytes.len() && bytes[after] == b',' {
        end = after + 1;
    } else {
        let mut before = start;
        while before > 0 && (bytes[before - 1] == b' ' || bytes[before - 1] == b'\t') {
            before -= 1;
        }
        if before > 0 && bytes[before - 1] == b',' {
            start = before - 1;
        }
    }
    for b in &mut bytes[start..end] {
        if *b != b'\n' && *b != b'\r' {
            *b = b' ';
        }
    }
}

/// The tables of an array of tables or an array of inline tables.
fn tables_of(item: Option<&Item>) -> Vec<&dyn TableLike> {
    match item {
        Some(Item::ArrayOfTables(a)) => a.iter().map(|t| t as &dyn TableLike).collect(),
        Some(Item::Value(Value::Array(a))) => a
            .iter()
            .filter_map(|v| v.as_inline_table().map(|t| t as &dyn TableLike))
            .collect(),
        _ => Vec::new(),
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// `a.b[2]` -> `a.b` -> `a`; `None` at the top.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    match path.rfind(['.', '[']) {
        Some(i) => Some(&path[..i]),
        None => Some(""),
    }
}

fn first_line(message: &str) -> String {
    message
        .trim()
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_string()
}

/// Serde's message made plainer, and what to write instead (unknown keys, missing keys,
/// wrong types).
fn explain_type_error(message: &str, path: &str) -> (String, String) {
    let leaf = path
        .rsplit('.')
        .next()
        .unwrap_or(path)
        .split('[')
        .next()
        .unwrap_or("");
    // serde lists the expected names as `a`, `b` or `c` after "expected".
    let expected = |rest: &str| -> Vec<String> {
        rest.split_once("expected")
            .map(|(_, list)| {
                list.split('`')
                    .skip(1)
                    .step_by(2)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let field = rest.split('`').next().unwrap_or("");
        let allowed = expected(rest);
        let fix = if field == "master_key" {
            "remove it: the master key comes from COGNATE_MASTER_KEY or master_key_file".to_string()
        } else if allowed.is_empty() {
            format!("remove `{field}`; this table takes no keys")
        } else {
            let hint = closest(field, &allowed)
                .map(|near| format!("did you mean `{near}`? "))
                .unwrap_or_default();
            format!("{hint}allowed keys here: {}", allowed.join(", "))
        };
        return (format!("unknown key `{field}`"), fix);
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("");
        return (
            format!("missing key `{field}`"),
            format!("add `{field} = ...` to this table"),
        );
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        return (
            message.to_string(),
            format!("use one of: {}", expected(rest).join(", ")),
        );
    }
    let fix = match leaf {
        "listen" => "write an address and port, e.g. listen = \"127.0.0.1:8750\"",
        "metrics_listen" => "write an address and port, e.g. metrics_listen = \"127.0.0.1:9750\"",
        "public_url" => "write an absolute URL, e.g. public_url = \"https://auth.example.com\"",
        "trusted_proxies" => {
            "write CIDR blocks, e.g. trusted_proxies = [\"10.0.0.0/8\", \"192.0.2.10/32\"]"
        }
        "id_token_validity" | "access_token_validity" | "refresh_token_validity" => {
            "write a duration like \"1h\", \"60m\", \"30d\", or whole seconds like 3600"
        }
        _ => "write a value of the type the message names",
    };
    (message.to_string(), fix.to_string())
}

/// The allowed name nearest to a misspelt one (edit distance at most 3).
fn closest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.as_str())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod auth_flow_tests;
#[cfg(test)]
mod tests;
