//! IAM-style identity policies: parsing a JSON policy document and deciding a request.
//!
//! The grammar is the subset of IAM's that identity-pool roles need
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html>):
//! `Version` ("2012-10-17", or "2008-10-17" under which policy variables are plain text, as
//! in IAM; absent means 2008-10-17), an optional `Id`, and `Statement` (one object or an
//! array of at most [`MAX_STATEMENTS`]), each with an optional `Sid`, `Effect`
//! (`Allow`|`Deny`), exactly one of `Action`/`NotAction` and of `Resource`/`NotResource`
//! (a string or a non-empty array), and an optional `Condition` with the string operators
//! `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`, `StringNotEqualsIgnoreCase`,
//! `StringLike`, `StringNotLike`, each optionally qualified by `ForAnyValue:` /
//! `ForAllValues:` and suffixed `IfExists`. Anything else (a `Principal`, an unknown key or
//! operator, an empty `Action`) is refused with an error naming the statement and field. A
//! document is capped at 10,240 characters without whitespace, IAM's cap for an inline role
//! policy.
//!
//! Evaluation ([`PolicyDocument::evaluate`], [`evaluate_all`]) follows IAM's logic
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html>):
//! default deny, an explicit `Deny` beats every `Allow`. Actions match case-insensitively,
//! resources and `StringEquals`/`StringLike` case-sensitively; `*` and `?` are wildcards only
//! where the policy writes them ([`pattern`]); `${key}` variables (in Resource and condition
//! values, never in Action) are substituted as literal text, and one whose key is absent
//! matches nothing. For a key absent from the request, IAM's condition-operator page says:
//! "If the key that you specify in a policy condition is not present in the request context,
//! the values do not match and the condition is false. If the policy condition requires that
//! the key is not matched, such as StringNotLike ..., and the right key is not present, the
//! condition is true." `ForAnyValue` over an absent key is false, `ForAllValues` true (IAM's
//! set operators page), `...IfExists` over an absent key true.
//!
//! One deliberate choice beyond IAM's text: when a negated element (`NotResource`, a
//! `StringNot*` operator) would become true only because a variable could not be resolved,
//! the statement fails closed: an `Allow` does not apply, a `Deny` does.
//!
//! Patterns are compiled once at parse time, so evaluating allocates nothing; the parsed
//! document serializes as its JSON source, and deserializing parses (and checks) it again.

mod pattern;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use pattern::{Pattern, Syntax};

/// IAM's cap on an inline role policy, in characters not counting whitespace.
pub const MAX_POLICY_CHARS: usize = 10_240;
/// At most this many statements in one document.
pub const MAX_STATEMENTS: usize = 100;
/// Raw input longer than this is refused before it is parsed at all.
const MAX_RAW_BYTES: usize = 64 * 1024;

/// Why a policy document was refused. `at` names the place, e.g. `Statement[1].Action`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("the policy is not valid JSON: {0}")]
    NotJson(String),
    #[error("the policy has {chars} characters without whitespace; at most {max} are allowed")]
    TooLarge { chars: usize, max: usize },
    #[error("{at}: {reason}")]
    Invalid { at: String, reason: String },
}

fn invalid(at: impl Into<String>, reason: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        at: at.into(),
        reason: reason.into(),
    }
}

/// The decision for one request, as IAM names its outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// A `Deny` statement applied: no `Allow` anywhere can override it.
    ExplicitDeny,
    /// No statement allowed the request (IAM's default deny).
    ImplicitDeny,
}

impl Decision {
    pub fn is_allowed(self) -> bool {
        self == Decision::Allow
    }
}

/// The request context: condition keys and the values of policy variables. Keys are
/// case-insensitive, as in IAM, and stored lowercased; a key may carry several values
/// (`cognito-identity.amazonaws.com:amr`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestContext {
    values: HashMap<String, Vec<String>>,
}

impl RequestContext {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key`'s values, replacing any earlier ones.
    pub fn insert(&mut self, key: &str, values: Vec<String>) {
        self.values.insert(key.to_ascii_lowercase(), values);
    }

    /// Builder form of [`insert`](Self::insert) for a single value.
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.insert(key, vec![value.into()]);
        self
    }

    /// `key`'s values, looked up case-insensitively.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.get_lowercase(&key.to_ascii_lowercase())
    }

    /// Lookup by an already lowercased key (compiled policies store them so), no allocation.
    pub(crate) fn get_lowercase(&self, key: &str) -> Option<&[String]> {
        self.values.get(key).map(Vec::as_slice)
    }
}

/// One request to decide: `action` as `service:Action`, `resource` as an ARN-style string.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a RequestContext,
}

/// A parsed, compiled policy document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "Value", try_from = "Value")]
pub struct PolicyDocument {
    source: Value,
    statements: Vec<Statement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

/// `Action`/`NotAction` or `Resource`/`NotResource`: the patterns and whether inverted.
#[derive(Debug, Clone, PartialEq)]
struct Element {
    negated: bool,
    patterns: Vec<Pattern>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    None,
    ForAnyValue,
    ForAllValues,
}

/// One (operator, key) pair of a `Condition` block; a block is the AND of these.
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    qualifier: SetQualifier,
    negated: bool,
    if_exists: bool,
    key: String,
    values: Vec<Pattern>,
}

#[derive(Debug, Clone, PartialEq)]
struct Statement {
    effect: Effect,
    actions: Element,
    resources: Element,
    conditions: Vec<Condition>,
}

/// Three-valued match: `Unresolved` when the answer hinges on a variable with no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tri {
    Yes,
    No,
    Unresolved,
}

impl PolicyDocument {
    /// Parses and checks a policy document's JSON text.
    pub fn parse(json: &str) -> Result<PolicyDocument, PolicyError> {
        if json.len() > MAX_RAW_BYTES {
            return Err(PolicyError::TooLarge {
                chars: json.chars().filter(|c| !c.is_whitespace()).count(),
                max: MAX_POLICY_CHARS,
            });
        }
        // A repeated key (`"Effect":"Deny","Effect":"Allow"`) would silently keep the last
        // one; a policy that reads two ways is refused instead.
        serde_json::from_str::<NoDuplicateKeys>(json)
            .map_err(|e| PolicyError::NotJson(e.to_string()))?;
        let value: Value =
            serde_json::from_str(json).map_err(|e| PolicyError::NotJson(e.to_string()))?;
        Self::from_value(value)
    }

    /// Parses and checks a policy document already read as JSON (a config file's table).
    pub fn from_value(value: Value) -> Result<PolicyDocument, PolicyError> {
        let compact = value.to_string();
        let chars = compact.chars().filter(|c| !c.is_whitespace()).count();
        if chars > MAX_POLICY_CHARS {
            return Err(PolicyError::TooLarge {
                chars,
                max: MAX_POLICY_CHARS,
            });
        }
        let top = value
            .as_object()
            .ok_or_else(|| invalid("policy", "must be a JSON object"))?;
        let mut variables = false;
        for (k, v) in top {
            match k.as_str() {
                "Version" => match v.as_str() {
                    Some("2012-10-17") => variables = true,
                    Some("2008-10-17") => {}
                    _ => {
                        return Err(invalid(
                            "Version",
                            "must be \"2012-10-17\" or \"2008-10-17\"",
                        ))
                    }
                },
                "Id" => {
                    if !v.is_string() {
                        return Err(invalid("Id", "must be a string"));
                    }
                }
                "Statement" => {}
                other => return Err(invalid(other, "unknown top-level element")),
            }
        }
        let raw: Vec<&Value> = match top.get("Statement") {
            Some(Value::Array(items)) => items.iter().collect(),
            Some(obj @ Value::Object(_)) => vec![obj],
            Some(_) => return Err(invalid("Statement", "must be an object or an array")),
            None => return Err(invalid("Statement", "is required")),
        };
        if raw.is_empty() {
            return Err(invalid("Statement", "must not be empty"));
        }
        if raw.len() > MAX_STATEMENTS {
            return Err(invalid(
                "Statement",
                format!(
                    "has {} statements; at most {MAX_STATEMENTS} are allowed",
                    raw.len()
                ),
            ));
        }
        let statements = raw
            .iter()
            .enumerate()
            .map(|(i, s)| parse_statement(i, s, variables))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(PolicyDocument {
            source: value,
            statements,
        })
    }

    /// The document as written (for storage and display).
    pub fn as_json(&self) -> &Value {
        &self.source
    }

    /// Decides `req` against this document alone.
    pub fn evaluate(&self, req: &Request<'_>) -> Decision {
        evaluate_all([self], req)
    }
}

impl From<PolicyDocument> for Value {
    fn from(doc: PolicyDocument) -> Value {
        doc.source
    }
}

impl TryFrom<Value> for PolicyDocument {
    type Error = PolicyError;
    fn try_from(value: Value) -> Result<Self, Self::Error> {
        PolicyDocument::from_value(value)
    }
}

/// Decides `req` against several documents together (a role's policies): any applicable
/// `Deny` anywhere wins, else any applicable `Allow`, else the implicit deny.
pub fn evaluate_all<'d>(
    docs: impl IntoIterator<Item = &'d PolicyDocument>,
    req: &Request<'_>,
) -> Decision {
    let mut allowed = false;
    for doc in docs {
        for st in &doc.statements {
            if st.applies(req) {
                match st.effect {
                    Effect::Deny => return Decision::ExplicitDeny,
                    Effect::Allow => allowed = true,
                }
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::ImplicitDeny
    }
}

impl Statement {
    fn applies(&self, req: &Request<'_>) -> bool {
        let ctx = req.context;
        let mut unresolved = false;
        for tri in [
            self.actions.matches(req.action, ctx),
            self.resources.matches(req.resource, ctx),
        ] {
            match tri {
                Tri::No => return false,
                Tri::Unresolved => unresolved = true,
                Tri::Yes => {}
            }
        }
        for c in &self.conditions {
            match c.holds(ctx) {
                Tri::No => return false,
                Tri::Unresolved => unresolved = true,
                Tri::Yes => {}
            }
        }
        // Fail closed: an answer that rests on a missing variable never grants, always denies.
        !unresolved || self.effect == Effect::Deny
    }
}

impl Element {
    fn matches(&self, text: &str, ctx: &RequestContext) -> Tri {
        let mut unresolved = false;
        let mut hit = false;
        for p in &self.patterns {
            match p.matches(text, ctx) {
                Some(true) => {
                    hit = true;
                    break;
                }
                Some(false) => {}
                None => unresolved = true,
            }
        }
        match (self.negated, hit) {
            (false, true) => Tri::Yes,
            // IAM: an unresolved variable matches nothing, so a positive element is a no.
            (false, false) => Tri::No,
            (true, true) => Tri::No,
            (true, false) if unresolved => Tri::Unresolved,
            (true, false) => Tri::Yes,
        }
    }
}

impl Condition {
    fn holds(&self, ctx: &RequestContext) -> Tri {
        let values = ctx.get_lowercase(&self.key).unwrap_or(&[]);
        if values.is_empty() {
            if self.if_exists {
                return Tri::Yes;
            }
            let absent = match self.qualifier {
                SetQualifier::ForAnyValue => false,
                SetQualifier::ForAllValues => true,
                // IAM: positive operators are false, negated ones true, on an absent key.
                SetQualifier::None => self.negated,
            };
            return if absent { Tri::Yes } else { Tri::No };
        }
        let mut unresolved = false;
        // Whether one context value matches any of the policy's values.
        let mut matches_any = |v: &str| -> bool {
            let mut hit = false;
            for p in &self.values {
                match p.matches(v, ctx) {
                    Some(true) => {
                        hit = true;
                        break;
                    }
                    Some(false) => {}
                    None => unresolved = true,
                }
            }
            hit
        };
        let result = match (self.qualifier, self.negated) {
            // Without a set qualifier a multi-valued key is read as "any value matches".
            (SetQualifier::None | SetQualifier::ForAnyValue, false) => {
                values.iter().any(|v| matches_any(v))
            }
            (SetQualifier::None, true) => !values.iter().any(|v| matches_any(v)),
            (SetQualifier::ForAnyValue, true) => values.iter().any(|v| !matches_any(v)),
            (SetQualifier::ForAllValues, false) => values.iter().all(|v| matches_any(v)),
            (SetQualifier::ForAllValues, true) => values.iter().all(|v| !matches_any(v)),
        };
        if result && self.negated && unresolved {
            Tri::Unresolved
        } else if result {
            Tri::Yes
        } else {
            Tri::No
        }
    }
}

fn parse_statement(i: usize, v: &Value, variables: bool) -> Result<Statement, PolicyError> {
    let at = |field: &str| format!("Statement[{i}].{field}");
    let obj = v
        .as_object()
        .ok_or_else(|| invalid(format!("Statement[{i}]"), "must be an object"))?;
    for k in obj.keys() {
        match k.as_str() {
            "Sid" | "Effect" | "Action" | "NotAction" | "Resource" | "NotResource"
            | "Condition" => {}
            "Principal" | "NotPrincipal" => {
                return Err(invalid(
                    at(k),
                    "an identity policy has no principal (it applies to the role's holder)",
                ))
            }
            _ => return Err(invalid(at(k), "unknown element")),
        }
    }
    if let Some(sid) = obj.get("Sid") {
        let ok = sid
            .as_str()
            .is_some_and(|s| s.chars().all(|c| c.is_ascii_alphanumeric()));
        if !ok {
            return Err(invalid(at("Sid"), "must be a string of letters and digits"));
        }
    }
    let effect = match obj.get("Effect").map(|e| e.as_str()) {
        Some(Some("Allow")) => Effect::Allow,
        Some(Some("Deny")) => Effect::Deny,
        Some(_) => return Err(invalid(at("Effect"), "must be \"Allow\" or \"Deny\"")),
        None => return Err(invalid(at("Effect"), "is required")),
    };
    let action_syntax = Syntax {
        wildcards: true,
        // IAM substitutes variables only in Resource and condition values.
        variables: false,
        case_insensitive: true,
    };
    let actions = parse_element(obj, &at, "Action", "NotAction", action_syntax, |a| {
        if a == "*"
            || a.split_once(':')
                .is_some_and(|(s, n)| !s.is_empty() && !n.is_empty())
        {
            Ok(())
        } else {
            Err("must be \"*\" or \"service:Action\"".into())
        }
    })?;
    let resource_syntax = Syntax {
        wildcards: true,
        variables,
        case_insensitive: false,
    };
    let resources = parse_element(obj, &at, "Resource", "NotResource", resource_syntax, |_| {
        Ok(())
    })?;
    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(&at("Condition"), c, variables)?,
    };
    Ok(Statement {
        effect,
        actions,
        resources,
        conditions,
    })
}

fn parse_element(
    obj: &Map<String, Value>,
    at: &dyn Fn(&str) -> String,
    positive: &str,
    negative: &str,
    syntax: Syntax,
    check: impl Fn(&str) -> Result<(), String>,
) -> Result<Element, PolicyError> {
    let (field, negated, value) = match (obj.get(positive), obj.get(negative)) {
        (Some(v), None) => (positive, false, v),
        (None, Some(v)) => (negative, true, v),
        (Some(_), Some(_)) => {
            return Err(invalid(
                at(positive),
                format!("{positive} and {negative} cannot both be present"),
            ))
        }
        (None, None) => {
            return Err(invalid(
                at(positive),
                format!("one of {positive} or {negative} is required"),
            ))
        }
    };
    let items = strings(value)
        .ok_or_else(|| invalid(at(field), "must be a string or an array of strings"))?;
    if items.is_empty() {
        return Err(invalid(at(field), "must not be empty"));
    }
    let mut patterns = Vec::with_capacity(items.len());
    for (j, item) in items.iter().enumerate() {
        let place = || format!("{}[{j}]", at(field));
        if item.is_empty() {
            return Err(invalid(place(), "must not be an empty string"));
        }
        check(item).map_err(|e| invalid(place(), e))?;
        patterns.push(Pattern::compile(item, syntax).map_err(|e| invalid(place(), e))?);
    }
    Ok(Element { negated, patterns })
}

/// A string, or an array of strings; condition values may also be numbers or booleans,
/// which IAM compares by their text.
fn strings(v: &Value) -> Option<Vec<String>> {
    fn one(v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        other => one(other).map(|s| vec![s]),
    }
}

fn parse_conditions(at: &str, v: &Value, variables: bool) -> Result<Vec<Condition>, PolicyError> {
    let block = v
        .as_object()
        .ok_or_else(|| invalid(at, "must be an object of operators"))?;
    let mut out = Vec::new();
    for (op_name, keys) in block {
        let op_at = format!("{at}.{op_name}");
        let (qualifier, rest) = if let Some(r) = op_name.strip_prefix("ForAnyValue:") {
            (SetQualifier::ForAnyValue, r)
        } else if let Some(r) = op_name.strip_prefix("ForAllValues:") {
            (SetQualifier::ForAllValues, r)
        } else {
            (SetQualifier::None, op_name.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(b) => (b, true),
            None => (rest, false),
        };
        let (negated, like, ignore_case) = match base {
            "StringEquals" => (false, false, false),
            "StringNotEquals" => (true, false, false),
            "StringEqualsIgnoreCase" => (false, false, true),
            "StringNotEqualsIgnoreCase" => (true, false, true),
            "StringLike" => (false, true, false),
            "StringNotLike" => (true, true, false),
            _ => {
                return Err(invalid(
                    op_at,
                    "unknown or unsupported condition operator (supported: StringEquals, \
                     StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, \
                     StringLike, StringNotLike, with ForAnyValue:/ForAllValues: and IfExists)",
                ))
            }
        };
        let keys = keys
            .as_object()
            .ok_or_else(|| invalid(&op_at, "must be an object of condition keys"))?;
        if keys.is_empty() {
            return Err(invalid(&op_at, "must name at least one condition key"));
        }
        let syntax = Syntax {
            wildcards: like,
            variables,
            case_insensitive: ignore_case,
        };
        for (key, values) in keys {
            let key_at = format!("{op_at}.{key}");
            if key.is_empty() {
                return Err(invalid(key_at, "the condition key must not be empty"));
            }
            let items = strings(values)
                .ok_or_else(|| invalid(&key_at, "must be a string or an array of strings"))?;
            if items.is_empty() {
                return Err(invalid(&key_at, "must have at least one value"));
            }
            let values = items
                .iter()
                .map(|s| Pattern::compile(s, syntax).map_err(|e| invalid(&key_at, e)))
                .collect::<Result<Vec<_>, _>>()?;
            out.push(Condition {
                qualifier,
                negated,
                if_exists,
                key: key.to_ascii_lowercase(),
                values,
            });
        }
    }
    Ok(out)
}

/// Walks a JSON document and fails on an object with a repeated key.
struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = NoDuplicateKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut seen = std::collections::HashSet::new();
                while let Some(key) = map.next_key::<String>()? {
                    if !seen.insert(key.clone()) {
                        return Err(serde::de::Error::custom(format_args!(
                            "duplicate key {key:?}"
                        )));
                    }
                    map.next_value::<NoDuplicateKeys>()?;
                }
                Ok(NoDuplicateKeys)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
                Ok(NoDuplicateKeys)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(NoDuplicateKeys)
            }
        }
        d.deserialize_any(Visit)
    }
}

#[cfg(test)]
mod tests;
