//! The compiled matcher behind every Action, Resource and condition value of a policy.
//!
//! A pattern is compiled once, at parse time, into groups of tokens separated by `*`:
//! literal text, `?` (exactly one character), and policy variables (`${key}`), which are
//! resolved at evaluation time and always compared as LITERAL text, so a `*` or `?` inside
//! a variable's value never acts as a wildcard (IAM: "Policy variables ... the value is
//! treated as a literal string"). Matching is the classic glob split: the first group is
//! anchored at the start, the last at the end, the middle ones are found leftmost, which
//! is exact for `*`/`?` globs. No allocation happens while matching.

use super::RequestContext;

/// One token of a compiled pattern, between two `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Lit(String),
    /// `?`: exactly one character.
    One,
    /// `${key}` or `${key, 'default'}`; `key` is lowercased (IAM keys are case-insensitive).
    Var {
        key: String,
        default: Option<String>,
    },
}

/// A compiled glob with literal segments and variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pattern {
    /// The text between the `*`s; a pattern without `*` has exactly one group.
    groups: Vec<Vec<Tok>>,
    /// ASCII case-insensitive comparison (Actions, the `IgnoreCase` operators).
    case_insensitive: bool,
}

/// How to read a pattern's text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Syntax {
    /// `*` and `?` are wildcards (Action, Resource, StringLike); otherwise literal.
    pub wildcards: bool,
    /// `${...}` is a policy variable (Version 2012-10-17, not in Action); otherwise literal.
    pub variables: bool,
    pub case_insensitive: bool,
}

impl Pattern {
    /// Compiles `text`; the error says what is wrong with it (the caller names the field).
    pub(crate) fn compile(text: &str, syntax: Syntax) -> Result<Pattern, String> {
        let mut groups: Vec<Vec<Tok>> = vec![Vec::new()];
        let mut lit = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if syntax.variables && rest.starts_with("${") {
                let end = rest
                    .find('}')
                    .ok_or_else(|| format!("unterminated policy variable in {text:?}"))?;
                let inner = rest[2..end].trim();
                rest = &rest[end + 1..];
                match inner {
                    // IAM's escapes for the characters that are otherwise special.
                    "*" | "?" | "$" => lit.push_str(inner),
                    _ => {
                        let tok = parse_variable(inner)
                            .map_err(|e| format!("{e} in policy variable ${{{inner}}}"))?;
                        flush(&mut groups, &mut lit);
                        push(&mut groups, tok);
                    }
                }
                continue;
            }
            rest = &rest[c.len_utf8()..];
            match c {
                '*' if syntax.wildcards => {
                    flush(&mut groups, &mut lit);
                    groups.push(Vec::new());
                }
                '?' if syntax.wildcards => {
                    flush(&mut groups, &mut lit);
                    push(&mut groups, Tok::One);
                }
                _ => lit.push(c),
            }
        }
        flush(&mut groups, &mut lit);
        Ok(Pattern {
            groups,
            case_insensitive: syntax.case_insensitive,
        })
    }

    /// Whether `text` matches. `None` when a variable the pattern needs is absent from the
    /// context (or has several values) and has no default: IAM's "matches nothing"; the
    /// caller decides what that means for a negated element.
    pub(crate) fn matches(&self, text: &str, ctx: &RequestContext) -> Option<bool> {
        // Resolve every variable first so an unresolved one is reported whatever path the
        // matching takes.
        for g in &self.groups {
            for t in g {
                if let Tok::Var { .. } = t {
                    resolve(t, ctx)?;
                }
            }
        }
        Some(self.matches_resolved(text, ctx))
    }

    fn matches_resolved(&self, text: &str, ctx: &RequestContext) -> bool {
        let ci = self.case_insensitive;
        let n = self.groups.len();
        let first = &self.groups[0];
        if n == 1 {
            return match_group_at(first, text, 0, ci, ctx) == Some(text.len());
        }
        let Some(mut pos) = match_group_at(first, text, 0, ci, ctx) else {
            return false;
        };
        for g in &self.groups[1..n - 1] {
            match find_leftmost(g, text, pos, ci, ctx) {
                Some(end) => pos = end,
                None => return false,
            }
        }
        let last = &self.groups[n - 1];
        let mut start = pos;
        loop {
            if match_group_at(last, text, start, ci, ctx) == Some(text.len()) {
                return true;
            }
            match next_boundary(text, start) {
                Some(s) => start = s,
                None => return false,
            }
        }
    }
}

fn flush(groups: &mut [Vec<Tok>], lit: &mut String) {
    if !lit.is_empty() {
        push(groups, Tok::Lit(std::mem::take(lit)));
    }
}

fn push(groups: &mut [Vec<Tok>], tok: Tok) {
    if let Some(g) = groups.last_mut() {
        g.push(tok);
    }
}

/// `key` or `key, 'default'` (IAM: "${aws:username, 'anonymous'}").
fn parse_variable(inner: &str) -> Result<Tok, String> {
    let (key, default) = match inner.split_once(',') {
        None => (inner, None),
        Some((k, d)) => {
            let d = d.trim();
            let quoted = d.len() >= 2 && d.starts_with('\'') && d.ends_with('\'');
            if !quoted {
                return Err("a default value must be in single quotes".into());
            }
            (k.trim(), Some(d[1..d.len() - 1].to_string()))
        }
    };
    let valid = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-' | '.'));
    if !valid {
        return Err("an invalid key".into());
    }
    Ok(Tok::Var {
        key: key.to_ascii_lowercase(),
        default,
    })
}

/// A variable's value: its single context value, else its default. A multi-valued key is
/// not substituted (IAM substitutes single-valued keys only).
fn resolve<'a>(tok: &'a Tok, ctx: &'a RequestContext) -> Option<&'a str> {
    match tok {
        Tok::Var { key, default } => match ctx.get_lowercase(key) {
            Some([one]) => Some(one.as_str()),
            _ => default.as_deref(),
        },
        Tok::Lit(s) => Some(s.as_str()),
        Tok::One => None,
    }
}

/// Matches the group's tokens starting exactly at `pos`; the end offset on success.
fn match_group_at(
    group: &[Tok],
    text: &str,
    mut pos: usize,
    ci: bool,
    ctx: &RequestContext,
) -> Option<usize> {
    for tok in group {
        match tok {
            Tok::One => pos = next_boundary(text, pos)?,
            Tok::Lit(_) | Tok::Var { .. } => {
                let lit = resolve(tok, ctx)?;
                let end = pos.checked_add(lit.len())?;
                let here = text.as_bytes().get(pos..end)?;
                let same = if ci {
                    here.eq_ignore_ascii_case(lit.as_bytes())
                } else {
                    here == lit.as_bytes()
                };
                if !same {
                    return None;
                }
                pos = end;
            }
        }
    }
    // A literal compare on bytes may end inside a character only if the texts differ,
    // which the compare above already refused; still, never hand back a non-boundary.
    text.is_char_boundary(pos).then_some(pos)
}

fn find_leftmost(
    group: &[Tok],
    text: &str,
    from: usize,
    ci: bool,
    ctx: &RequestContext,
) -> Option<usize> {
    let mut start = from;
    loop {
        if let Some(end) = match_group_at(group, text, start, ci, ctx) {
            return Some(end);
        }
        start = next_boundary(text, start)?;
    }
}

/// The offset after the character at `pos`, if there is one.
fn next_boundary(text: &str, pos: usize) -> Option<usize> {
    let c = text.get(pos..)?.chars().next()?;
    Some(pos + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GLOB: Syntax = Syntax {
        wildcards: true,
        variables: true,
        case_insensitive: false,
    };

    fn m(p: &str, t: &str) -> bool {
        let ctx = RequestContext::new();
        Pattern::compile(p, GLOB).unwrap().matches(t, &ctx).unwrap()
    }

    #[test]
    fn globs_match_as_iam_does() {
        assert!(m("*", ""));
        assert!(m("*", "anything"));
        assert!(m("abc", "abc"));
        assert!(!m("abc", "abcd"));
        assert!(!m("abc", "ab"));
        assert!(m("a*c", "abbbc"));
        assert!(m("a*c", "ac"));
        assert!(!m("a*c", "acb"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("a?c", "aéc"), "? is one character, not one byte");
        assert!(m("*b*b*", "abxbz"));
        assert!(!m("*b*b*", "abxz"));
        assert!(m("a*b*c", "aXbYbZc"));
        assert!(m("**", "x"));
        assert!(m("*.txt", "a.b.txt"));
        assert!(!m("*.txt", "a.txt.gz"));
        assert!(m("a*", "a"));
        assert!(m("*a", "ba"));
        assert!(!m("*a", "ab"));
    }

    #[test]
    fn escapes_are_literal() {
        assert!(m("a${*}b", "a*b"));
        assert!(!m("a${*}b", "axb"));
        assert!(m("a${?}", "a?"));
        assert!(!m("a${?}", "ab"));
        assert!(m("${$}x", "$x"));
    }

    #[test]
    fn case_insensitive_only_when_asked() {
        let ci = Syntax {
            case_insensitive: true,
            ..GLOB
        };
        let ctx = RequestContext::new();
        let p = Pattern::compile("s3:Get*", ci).unwrap();
        assert_eq!(p.matches("S3:GETOBJECT", &ctx), Some(true));
        assert!(!m("s3:Get*", "S3:GETOBJECT"));
    }

    #[test]
    fn variable_values_never_act_as_wildcards() {
        let mut ctx = RequestContext::new();
        ctx.insert(
            "Cognito-Identity.amazonaws.com:sub",
            vec!["us-east-1:*".into()],
        );
        let p = Pattern::compile("bucket/${cognito-identity.amazonaws.com:sub}/*", GLOB).unwrap();
        assert_eq!(p.matches("bucket/us-east-1:*/x", &ctx), Some(true));
        assert_eq!(p.matches("bucket/us-east-1:abc/x", &ctx), Some(false));
        let q = Pattern::compile("${k}", GLOB).unwrap();
        let mut one = RequestContext::new();
        one.insert("k", vec!["a?".into()]);
        assert_eq!(q.matches("ab", &one), Some(false));
        assert_eq!(q.matches("a?", &one), Some(true));
    }

    #[test]
    fn unresolved_variables_and_defaults() {
        let ctx = RequestContext::new();
        let p = Pattern::compile("x/${missing}", GLOB).unwrap();
        assert_eq!(p.matches("x/", &ctx), None);
        let d = Pattern::compile("x/${missing, 'anon'}", GLOB).unwrap();
        assert_eq!(d.matches("x/anon", &ctx), Some(true));
        let mut many = RequestContext::new();
        many.insert("missing", vec!["a".into(), "b".into()]);
        assert_eq!(
            p.matches("x/a", &many),
            None,
            "a multi-valued key is not substituted"
        );
    }

    #[test]
    fn literal_syntax_and_errors() {
        let lit = Syntax {
            wildcards: false,
            variables: false,
            case_insensitive: false,
        };
        let ctx = RequestContext::new();
        let p = Pattern::compile("a*${x}", lit).unwrap();
        assert_eq!(p.matches("a*${x}", &ctx), Some(true));
        assert_eq!(p.matches("abc", &ctx), Some(false));
        assert!(Pattern::compile("a${x", GLOB)
            .unwrap_err()
            .contains("unterminated"));
        assert!(Pattern::compile("${}", GLOB)
            .unwrap_err()
            .contains("invalid key"));
        assert!(Pattern::compile("${a, b}", GLOB)
            .unwrap_err()
            .contains("single quotes"));
        assert!(Pattern::compile("${a b}", GLOB).is_err());
    }
}
