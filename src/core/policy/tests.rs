//! Unit tests of policy parsing and evaluation: each rule with an honest and a hostile case.

use super::*;

const SUB: &str = "cognito-identity.amazonaws.com:sub";

fn doc(json: &str) -> PolicyDocument {
    PolicyDocument::parse(json).unwrap()
}

fn decide(d: &PolicyDocument, action: &str, resource: &str, ctx: &RequestContext) -> Decision {
    d.evaluate(&Request {
        action,
        resource,
        context: ctx,
    })
}

fn err(json: &str) -> String {
    PolicyDocument::parse(json).unwrap_err().to_string()
}

const FILES: &str = r#"{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "OwnFiles",
    "Effect": "Allow",
    "Action": ["files:Get*", "files:PutObject"],
    "Resource": "arn:cognate:files:::bucket/${cognito-identity.amazonaws.com:sub}/*"
  }]
}"#;

#[test]
fn default_deny_and_wildcard_actions() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:Get*","Resource":"*"}}"#,
    );
    let ctx = RequestContext::new();
    assert_eq!(decide(&d, "s3:GetObject", "arn:x", &ctx), Decision::Allow);
    assert_eq!(
        decide(&d, "S3:getobject", "arn:x", &ctx),
        Decision::Allow,
        "actions ignore case"
    );
    assert_eq!(
        decide(&d, "s3:PutObject", "arn:x", &ctx),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(&d, "s4:GetObject", "arn:x", &ctx),
        Decision::ImplicitDeny
    );
}

#[test]
fn explicit_deny_beats_allow_across_statements_and_documents() {
    let d = doc(r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"files:*","Resource":"arn:f:::b/*"},
            {"Effect":"Deny","Action":"files:DeleteObject","Resource":"arn:f:::b/locked/*"}]}"#);
    let ctx = RequestContext::new();
    assert_eq!(
        decide(&d, "files:DeleteObject", "arn:f:::b/x", &ctx),
        Decision::Allow
    );
    assert_eq!(
        decide(&d, "files:DeleteObject", "arn:f:::b/locked/x", &ctx),
        Decision::ExplicitDeny
    );
    let allow_all = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}"#,
    );
    let deny = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"files:Put*","Resource":"*"}}"#,
    );
    let req = Request {
        action: "files:PutObject",
        resource: "arn:f:::b/y",
        context: &ctx,
    };
    assert_eq!(
        evaluate_all([&allow_all, &deny], &req),
        Decision::ExplicitDeny
    );
    assert_eq!(
        evaluate_all([&deny, &allow_all], &req),
        Decision::ExplicitDeny
    );
    let get = Request {
        action: "files:GetObject",
        ..req
    };
    assert_eq!(evaluate_all([&allow_all, &deny], &get), Decision::Allow);
    assert_eq!(
        evaluate_all(std::iter::empty(), &get),
        Decision::ImplicitDeny
    );
}

#[test]
fn resources_are_case_sensitive() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:f:::Bucket/*"}}"#,
    );
    let ctx = RequestContext::new();
    assert_eq!(
        decide(&d, "f:Get", "arn:f:::Bucket/a", &ctx),
        Decision::Allow
    );
    assert_eq!(
        decide(&d, "f:Get", "arn:f:::bucket/a", &ctx),
        Decision::ImplicitDeny
    );
}

#[test]
fn sub_variable_scopes_each_user_to_their_own_prefix() {
    let d = doc(FILES);
    let ctx = RequestContext::new().with(SUB, "us-east-1:abc");
    let own = "arn:cognate:files:::bucket/us-east-1:abc/x";
    let other = "arn:cognate:files:::bucket/us-east-1:abd/x";
    assert_eq!(decide(&d, "files:GetObject", own, &ctx), Decision::Allow);
    assert_eq!(
        decide(&d, "files:GetObject", other, &ctx),
        Decision::ImplicitDeny
    );
    // The key is case-insensitive in the context too.
    let upper = RequestContext::new().with("Cognito-Identity.Amazonaws.com:SUB", "us-east-1:abc");
    assert_eq!(decide(&d, "files:GetObject", own, &upper), Decision::Allow);
}

#[test]
fn a_wildcard_inside_a_variable_value_is_literal() {
    let d = doc(FILES);
    let ctx = RequestContext::new().with(SUB, "us-east-1:*");
    let victim = "arn:cognate:files:::bucket/us-east-1:abc/x";
    assert_eq!(
        decide(&d, "files:GetObject", victim, &ctx),
        Decision::ImplicitDeny
    );
    let q = RequestContext::new().with(SUB, "us-east-1:ab?");
    assert_eq!(
        decide(&d, "files:GetObject", victim, &q),
        Decision::ImplicitDeny
    );
    // Only the literal path of that odd identity matches.
    let literal = "arn:cognate:files:::bucket/us-east-1:*/x";
    assert_eq!(
        decide(&d, "files:GetObject", literal, &ctx),
        Decision::Allow
    );
}

#[test]
fn an_unresolved_variable_matches_nothing() {
    let d = doc(FILES);
    let empty = RequestContext::new();
    for r in [
        "arn:cognate:files:::bucket//x",
        "arn:cognate:files:::bucket/${cognito-identity.amazonaws.com:sub}/x",
    ] {
        assert_eq!(
            decide(&d, "files:GetObject", r, &empty),
            Decision::ImplicitDeny
        );
    }
    // A deny with an unresolvable variable in a NotResource fails closed.
    let nr = doc(r#"{"Version":"2012-10-17","Statement":[
            {"Effect":"Allow","Action":"*","Resource":"*"},
            {"Effect":"Deny","Action":"*","NotResource":"arn:f:::b/${aws:username}/*"}]}"#);
    assert_eq!(
        decide(&nr, "f:Get", "arn:f:::b/ann/x", &empty),
        Decision::ExplicitDeny
    );
    let ann = RequestContext::new().with("aws:username", "ann");
    assert_eq!(
        decide(&nr, "f:Get", "arn:f:::b/ann/x", &ann),
        Decision::Allow
    );
    assert_eq!(
        decide(&nr, "f:Get", "arn:f:::b/bob/x", &ann),
        Decision::ExplicitDeny
    );
    // ... and an Allow whose NotResource cannot be resolved grants nothing.
    let allow_nr = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotResource":"arn:f:::b/${aws:username}/*"}}"#,
    );
    assert_eq!(
        decide(&allow_nr, "f:Get", "arn:f:::other", &empty),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(&allow_nr, "f:Get", "arn:f:::other", &ann),
        Decision::Allow
    );
}

#[test]
fn variables_are_text_under_the_2008_version_and_defaults_apply() {
    let old = doc(
        r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:f:::${aws:username}"}}"#,
    );
    let ann = RequestContext::new().with("aws:username", "ann");
    assert_eq!(
        decide(&old, "f:Get", "arn:f:::ann", &ann),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(&old, "f:Get", "arn:f:::${aws:username}", &ann),
        Decision::Allow
    );
    let dflt = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:f:::${aws:username, 'guest'}"}}"#,
    );
    let empty = RequestContext::new();
    assert_eq!(
        decide(&dflt, "f:Get", "arn:f:::guest", &empty),
        Decision::Allow
    );
    assert_eq!(
        decide(&dflt, "f:Get", "arn:f:::ann", &empty),
        Decision::ImplicitDeny
    );
    assert_eq!(decide(&dflt, "f:Get", "arn:f:::ann", &ann), Decision::Allow);
}

#[test]
fn not_action_and_not_resource_invert() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}"#,
    );
    let ctx = RequestContext::new();
    assert_eq!(
        decide(&d, "files:GetObject", "arn:x", &ctx),
        Decision::Allow
    );
    assert_eq!(
        decide(&d, "IAM:CreateUser", "arn:x", &ctx),
        Decision::ImplicitDeny
    );
    let r = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotResource":["arn:f:::secret/*","arn:f:::admin"]}}"#,
    );
    assert_eq!(
        decide(&r, "f:Get", "arn:f:::public/a", &ctx),
        Decision::Allow
    );
    assert_eq!(
        decide(&r, "f:Get", "arn:f:::secret/a", &ctx),
        Decision::ImplicitDeny
    );
    assert_eq!(
        decide(&r, "f:Get", "arn:f:::admin", &ctx),
        Decision::ImplicitDeny
    );
}

fn with_condition(cond: &str) -> PolicyDocument {
    doc(&format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"*","Resource":"*","Condition":{cond}}}}}"#
    ))
}

fn allowed(d: &PolicyDocument, ctx: &RequestContext) -> bool {
    decide(d, "f:Get", "arn:x", ctx).is_allowed()
}

#[test]
fn string_equals_and_not_equals() {
    let eq = with_condition(r#"{"StringEquals":{"aws:team":["red","blue"]}}"#);
    assert!(allowed(
        &eq,
        &RequestContext::new().with("aws:team", "blue")
    ));
    assert!(!allowed(
        &eq,
        &RequestContext::new().with("aws:team", "Blue")
    ));
    assert!(!allowed(
        &eq,
        &RequestContext::new().with("aws:team", "gr*")
    ));
    assert!(
        !allowed(&eq, &RequestContext::new()),
        "absent key: StringEquals is false"
    );
    let star = with_condition(r#"{"StringEquals":{"aws:team":"r*"}}"#);
    assert!(
        !allowed(&star, &RequestContext::new().with("aws:team", "red")),
        "no wildcards in Equals"
    );
    assert!(allowed(
        &star,
        &RequestContext::new().with("aws:team", "r*")
    ));
    let ne = with_condition(r#"{"StringNotEquals":{"aws:team":"red"}}"#);
    assert!(allowed(
        &ne,
        &RequestContext::new().with("aws:team", "blue")
    ));
    assert!(!allowed(
        &ne,
        &RequestContext::new().with("aws:team", "red")
    ));
    assert!(
        allowed(&ne, &RequestContext::new()),
        "absent key: StringNotEquals is true"
    );
    let ic = with_condition(r#"{"StringEqualsIgnoreCase":{"aws:team":"RED"}}"#);
    assert!(allowed(&ic, &RequestContext::new().with("aws:team", "red")));
    assert!(!allowed(
        &ic,
        &RequestContext::new().with("aws:team", "redd")
    ));
    let nic = with_condition(r#"{"StringNotEqualsIgnoreCase":{"aws:team":"RED"}}"#);
    assert!(!allowed(
        &nic,
        &RequestContext::new().with("aws:team", "Red")
    ));
    assert!(allowed(
        &nic,
        &RequestContext::new().with("aws:team", "blue")
    ));
}

#[test]
fn string_like_and_not_like() {
    let like = with_condition(r#"{"StringLike":{"aws:path":"home/${aws:username}/*"}}"#);
    let ann = |p: &str| {
        RequestContext::new()
            .with("aws:username", "ann")
            .with("aws:path", p)
    };
    assert!(allowed(&like, &ann("home/ann/docs")));
    assert!(!allowed(&like, &ann("home/bob/docs")));
    assert!(
        !allowed(
            &like,
            &RequestContext::new().with("aws:path", "home/ann/docs")
        ),
        "unresolved"
    );
    assert!(
        !allowed(&like, &RequestContext::new()),
        "absent key: StringLike is false"
    );
    let nl = with_condition(r#"{"StringNotLike":{"aws:path":"admin/*"}}"#);
    assert!(allowed(
        &nl,
        &RequestContext::new().with("aws:path", "home/x")
    ));
    assert!(!allowed(
        &nl,
        &RequestContext::new().with("aws:path", "admin/x")
    ));
    assert!(
        allowed(&nl, &RequestContext::new()),
        "absent key: StringNotLike is true"
    );
    // A negated operator true only because its variable is missing does not grant.
    let nlv = with_condition(r#"{"StringNotLike":{"aws:path":"${aws:username}/*"}}"#);
    assert!(!allowed(
        &nlv,
        &RequestContext::new().with("aws:path", "x/y")
    ));
    assert!(allowed(&nlv, &ann("x/y")));
}

#[test]
fn conditions_are_and_of_operators_and_keys_or_of_values() {
    let d = with_condition(
        r#"{"StringEquals":{"aws:a":["1","2"],"aws:b":"x"},"StringLike":{"aws:c":"p*"}}"#,
    );
    let full = RequestContext::new()
        .with("aws:a", "2")
        .with("aws:b", "x")
        .with("aws:c", "pq");
    assert!(allowed(&d, &full));
    assert!(!allowed(&d, &full.clone().with("aws:b", "y")));
    assert!(!allowed(&d, &full.clone().with("aws:c", "q")));
    assert!(!allowed(&d, &full.clone().with("aws:a", "3")));
    // Condition keys are case-insensitive.
    let k = with_condition(r#"{"StringEquals":{"AWS:Team":"red"}}"#);
    assert!(allowed(&k, &RequestContext::new().with("aws:team", "red")));
}

#[test]
fn for_any_value_on_amr_as_cognito_trust_policies_use_it() {
    let trust = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*",
            "Condition":{"StringEquals":{"cognito-identity.amazonaws.com:aud":"us-east-1:pool"},
                         "ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}}}"#,
    );
    let mut user =
        RequestContext::new().with("cognito-identity.amazonaws.com:aud", "us-east-1:pool");
    user.insert(
        "cognito-identity.amazonaws.com:amr",
        vec![
            "authenticated".into(),
            "cognito-idp.local/pool:client".into(),
        ],
    );
    let act = "sts:AssumeRoleWithWebIdentity";
    assert_eq!(decide(&trust, act, "arn:r", &user), Decision::Allow);
    let mut guest =
        RequestContext::new().with("cognito-identity.amazonaws.com:aud", "us-east-1:pool");
    guest.insert(
        "cognito-identity.amazonaws.com:amr",
        vec!["unauthenticated".into()],
    );
    assert_eq!(decide(&trust, act, "arn:r", &guest), Decision::ImplicitDeny);
    let mut other_pool = user.clone();
    other_pool.insert(
        "cognito-identity.amazonaws.com:aud",
        vec!["us-east-1:other".into()],
    );
    assert_eq!(
        decide(&trust, act, "arn:r", &other_pool),
        Decision::ImplicitDeny
    );
    let no_amr = RequestContext::new().with("cognito-identity.amazonaws.com:aud", "us-east-1:pool");
    assert_eq!(
        decide(&trust, act, "arn:r", &no_amr),
        Decision::ImplicitDeny,
        "ForAnyValue on absent key is false"
    );
}

#[test]
fn for_all_values_and_if_exists() {
    let all = with_condition(r#"{"ForAllValues:StringEquals":{"aws:tags":["a","b"]}}"#);
    let mut ab = RequestContext::new();
    ab.insert("aws:tags", vec!["a".into(), "b".into()]);
    assert!(allowed(&all, &ab));
    let mut abc = RequestContext::new();
    abc.insert("aws:tags", vec!["a".into(), "c".into()]);
    assert!(!allowed(&all, &abc));
    assert!(
        allowed(&all, &RequestContext::new()),
        "ForAllValues on an absent key is true (IAM)"
    );
    let any_not = with_condition(r#"{"ForAnyValue:StringNotEquals":{"aws:tags":"a"}}"#);
    assert!(allowed(&any_not, &abc));
    let mut aa = RequestContext::new();
    aa.insert("aws:tags", vec!["a".into(), "a".into()]);
    assert!(!allowed(&any_not, &aa));
    let all_not = with_condition(r#"{"ForAllValues:StringNotLike":{"aws:tags":"x*"}}"#);
    assert!(allowed(&all_not, &ab));
    let mut ax = RequestContext::new();
    ax.insert("aws:tags", vec!["a".into(), "xy".into()]);
    assert!(!allowed(&all_not, &ax));
    let ie = with_condition(r#"{"StringEqualsIfExists":{"aws:team":"red"}}"#);
    assert!(allowed(&ie, &RequestContext::new()));
    assert!(allowed(&ie, &RequestContext::new().with("aws:team", "red")));
    assert!(!allowed(
        &ie,
        &RequestContext::new().with("aws:team", "blue")
    ));
}

#[test]
fn malformed_documents_are_refused_precisely() {
    assert!(err("not json").starts_with("the policy is not valid JSON"));
    assert_eq!(err("[]"), "policy: must be a JSON object");
    let dup = err(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Effect":"Allow","Action":"*","Resource":"*"}}"#,
    );
    assert!(dup.contains(r#"duplicate key "Effect""#), "{dup}");
    let dup_cond = err(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":"a","k":"b"}}}}"#,
    );
    assert!(dup_cond.contains(r#"duplicate key "k""#), "{dup_cond}");
    assert_eq!(
        err(r#"{"Version":"2012-10-17","Statement":[],"Extra":1}"#),
        "Extra: unknown top-level element"
    );
    assert_eq!(
        err(r#"{"Version":"2020-01-01","Statement":[]}"#),
        r#"Version: must be "2012-10-17" or "2008-10-17""#
    );
    assert_eq!(err(r#"{"Version":"2012-10-17"}"#), "Statement: is required");
    assert_eq!(
        err(r#"{"Version":"2012-10-17","Statement":[]}"#),
        "Statement: must not be empty"
    );
    let ok = r#"{"Effect":"Allow","Action":"a:b","Resource":"*"}"#;
    let two = |second: &str| {
        err(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{ok},{second}]}}"#
        ))
    };
    assert_eq!(
        two(r#"{"Effect":"Allow","Principal":"*","Action":"a:b","Resource":"*"}"#),
        "Statement[1].Principal: an identity policy has no principal (it applies to the role's holder)"
    );
    assert_eq!(
        two(r#"{"Effect":"Permit","Action":"a:b","Resource":"*"}"#),
        r#"Statement[1].Effect: must be "Allow" or "Deny""#
    );
    assert_eq!(
        two(r#"{"Action":"a:b","Resource":"*"}"#),
        "Statement[1].Effect: is required"
    );
    assert_eq!(
        two(r#"{"Effect":"Allow","Action":[],"Resource":"*"}"#),
        "Statement[1].Action: must not be empty"
    );
    assert_eq!(
        two(r#"{"Effect":"Allow","Action":"","Resource":"*"}"#),
        "Statement[1].Action[0]: must not be an empty string"
    );
    assert_eq!(
        two(r#"{"Effect":"Allow","Action":["a:b","get"],"Resource":"*"}"#),
        r#"Statement[1].Action[1]: must be "*" or "service:Action""#
    );
    assert_eq!(
        two(r#"{"Effect":"Allow","Action":"a:b"}"#),
        "Statement[1].Resource: one of Resource or NotResource is required"
    );
    assert_eq!(
        two(r#"{"Effect":"Allow","Action":"a:b","NotAction":"c:d","Resource":"*"}"#),
        "Statement[1].Action: Action and NotAction cannot both be present"
    );
    assert_eq!(
        two(r#"{"Effect":"Allow","Action":"a:b","Resource":[1,{}]}"#),
        "Statement[1].Resource: must be a string or an array of strings"
    );
    assert_eq!(
        two(r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Foo":1}"#),
        "Statement[1].Foo: unknown element"
    );
    assert_eq!(
        two(r#"{"Sid":"a b","Effect":"Allow","Action":"a:b","Resource":"*"}"#),
        "Statement[1].Sid: must be a string of letters and digits"
    );
    assert!(two(r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"NumericEquals":{"k":"1"}}}"#)
        .starts_with("Statement[1].Condition.NumericEquals: unknown or unsupported condition operator"));
    assert_eq!(
        two(
            r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{"k":[]}}}"#
        ),
        "Statement[1].Condition.StringEquals.k: must have at least one value"
    );
    assert_eq!(
        two(r#"{"Effect":"Allow","Action":"a:b","Resource":"*","Condition":{"StringEquals":{}}}"#),
        "Statement[1].Condition.StringEquals: must name at least one condition key"
    );
    assert!(
        two(r#"{"Effect":"Allow","Action":"a:b","Resource":"arn:${oops"}"#)
            .starts_with("Statement[1].Resource[0]: unterminated policy variable")
    );
}

#[test]
fn variables_in_action_are_not_substituted() {
    let d = doc(
        r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"f:${aws:username}","Resource":"*"}}"#,
    );
    let ann = RequestContext::new().with("aws:username", "ann");
    assert_eq!(decide(&d, "f:ann", "arn:x", &ann), Decision::ImplicitDeny);
}

#[test]
fn size_and_statement_caps() {
    let stmt = r#"{"Effect":"Allow","Action":"a:b","Resource":"*"}"#;
    let many = vec![stmt; MAX_STATEMENTS + 1].join(",");
    assert_eq!(
        err(&format!(
            r#"{{"Version":"2012-10-17","Statement":[{many}]}}"#
        )),
        "Statement: has 101 statements; at most 100 are allowed"
    );
    let hundred = vec![stmt; MAX_STATEMENTS].join(",");
    assert!(PolicyDocument::parse(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{hundred}]}}"#
    ))
    .is_ok());
    let long = "x".repeat(MAX_POLICY_CHARS);
    let big = format!(
        r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"a:b","Resource":"arn:{long}"}}}}"#
    );
    assert!(err(&big).contains("at most 10240 are allowed"));
    // Whitespace does not count, as in IAM.
    let spaced = format!("{}{}", " ".repeat(20_000), FILES);
    assert!(PolicyDocument::parse(&spaced).is_ok());
    let huge = " ".repeat(MAX_RAW_BYTES + 1);
    assert!(matches!(
        PolicyDocument::parse(&huge),
        Err(PolicyError::TooLarge { .. })
    ));
}

#[test]
fn serializes_as_its_source_and_reparses() {
    let d = doc(FILES);
    let json = serde_json::to_string(&d).unwrap();
    let back: PolicyDocument = serde_json::from_str(&json).unwrap();
    assert_eq!(back, d);
    let ctx = RequestContext::new().with(SUB, "us-east-1:abc");
    assert_eq!(
        decide(
            &back,
            "files:GetObject",
            "arn:cognate:files:::bucket/us-east-1:abc/k",
            &ctx
        ),
        Decision::Allow
    );
    let bad: Result<PolicyDocument, _> =
        serde_json::from_str(r#"{"Statement":{"Effect":"Maybe"}}"#);
    assert!(bad.is_err(), "deserializing checks the document again");
    assert_eq!(d.as_json()["Version"], "2012-10-17");
}

#[test]
fn evaluation_is_fast_enough_for_the_check_endpoint() {
    // Not a benchmark: a generous guard that a realistic role policy decides in
    // microseconds (the check endpoint's budget is well under 1 ms).
    let d = doc(FILES);
    let mut ctx = RequestContext::new().with(SUB, "us-east-1:0f1e2d3c-aaaa-bbbb-cccc-111122223333");
    ctx.insert(
        "cognito-identity.amazonaws.com:amr",
        vec!["authenticated".into()],
    );
    let resource = "arn:cognate:files:::bucket/us-east-1:0f1e2d3c-aaaa-bbbb-cccc-111122223333/photos/2026/a.jpg";
    let n = 10_000u32;
    let start = std::time::Instant::now();
    for _ in 0..n {
        assert_eq!(
            decide(&d, "files:GetObject", resource, &ctx),
            Decision::Allow
        );
    }
    let per = start.elapsed() / n;
    assert!(
        per < std::time::Duration::from_micros(100),
        "{per:?} per evaluation"
    );
}
