//! Unit tests of role resolution and role-mapping validation: every branch.

use super::*;
use serde_json::{json, Map, Value};

const AUTH: &str = "arn:aws:iam::123456789012:role/Auth";
const UNAUTH: &str = "arn:aws:iam::123456789012:role/Guest";
const ADMIN: &str = "arn:aws:iam::123456789012:role/Admin";
const EDITOR: &str = "arn:aws:iam::123456789012:role/Editor";

fn roles() -> IdentityPoolRoles {
    IdentityPoolRoles {
        authenticated: Some(AUTH.into()),
        unauthenticated: Some(UNAUTH.into()),
    }
}

fn claims(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn token(ambiguous: AmbiguousRoleResolution) -> RoleMapping {
    RoleMapping {
        kind: RoleMappingKind::Token,
        ambiguous,
        rules: Vec::new(),
    }
}

fn rule(claim: &str, match_type: MatchType, value: &str, role_arn: &str) -> MappingRule {
    MappingRule {
        claim: claim.into(),
        match_type,
        value: value.into(),
        role_arn: role_arn.into(),
    }
}

fn rules(ambiguous: AmbiguousRoleResolution, rules: Vec<MappingRule>) -> RoleMapping {
    RoleMapping {
        kind: RoleMappingKind::Rules,
        ambiguous,
        rules,
    }
}

fn denied(r: Result<String, MappingError>) -> bool {
    matches!(r, Err(MappingError::NotAuthorized(_)))
}

#[test]
fn guests_get_the_unauthenticated_role_and_no_custom_role() {
    let none = Map::new();
    let m = token(AmbiguousRoleResolution::AuthenticatedRole);
    assert_eq!(
        resolve_role(&roles(), Some(&m), &none, false, None).unwrap(),
        UNAUTH
    );
    assert_eq!(
        resolve_role(&roles(), None, &none, false, None).unwrap(),
        UNAUTH
    );
    // Claims that would map to Admin do not reach a guest.
    let c = claims(json!({"cognito:preferred_role": ADMIN}));
    assert_eq!(
        resolve_role(&roles(), Some(&m), &c, false, None).unwrap(),
        UNAUTH
    );
    let e = resolve_role(&roles(), None, &none, false, Some(AUTH)).unwrap_err();
    assert_eq!(e.aws_type(), "InvalidParameterException");
    let no_guest = IdentityPoolRoles {
        unauthenticated: None,
        ..roles()
    };
    let e = resolve_role(&no_guest, None, &none, false, None).unwrap_err();
    assert_eq!(e.aws_type(), "InvalidIdentityPoolConfigurationException");
}

#[test]
fn without_a_mapping_the_authenticated_role() {
    let none = Map::new();
    assert_eq!(
        resolve_role(&roles(), None, &none, true, None).unwrap(),
        AUTH
    );
    assert_eq!(
        resolve_role(&roles(), None, &none, true, Some(AUTH)).unwrap(),
        AUTH
    );
    assert!(denied(resolve_role(
        &roles(),
        None,
        &none,
        true,
        Some(ADMIN)
    )));
    let no_auth = IdentityPoolRoles {
        authenticated: None,
        ..roles()
    };
    let e = resolve_role(&no_auth, None, &none, true, None).unwrap_err();
    assert!(matches!(
        e,
        MappingError::InvalidIdentityPoolConfiguration(_)
    ));
    let e = resolve_role(&roles(), None, &none, true, Some("arn:aws:iam::1:role/x")).unwrap_err();
    assert!(matches!(e, MappingError::InvalidParameter(_)));
}

#[test]
fn token_uses_the_preferred_role() {
    let m = token(AmbiguousRoleResolution::Deny);
    let c = claims(json!({"cognito:roles": [ADMIN, EDITOR], "cognito:preferred_role": EDITOR}));
    assert_eq!(
        resolve_role(&roles(), Some(&m), &c, true, None).unwrap(),
        EDITOR
    );
}

#[test]
fn token_custom_role_must_be_one_of_the_tokens_roles() {
    let m = token(AmbiguousRoleResolution::AuthenticatedRole);
    let c = claims(json!({"cognito:roles": [ADMIN, EDITOR], "cognito:preferred_role": EDITOR}));
    assert_eq!(
        resolve_role(&roles(), Some(&m), &c, true, Some(ADMIN)).unwrap(),
        ADMIN
    );
    let other = "arn:aws:iam::123456789012:role/Other";
    assert!(denied(resolve_role(
        &roles(),
        Some(&m),
        &c,
        true,
        Some(other)
    )));
    // Not even the authenticated role, when the token's roles do not carry it.
    assert!(denied(resolve_role(
        &roles(),
        Some(&m),
        &c,
        true,
        Some(AUTH)
    )));
    let no_roles = claims(json!({"cognito:preferred_role": ADMIN}));
    assert!(denied(resolve_role(
        &roles(),
        Some(&m),
        &no_roles,
        true,
        Some(ADMIN)
    )));
}

#[test]
fn token_ambiguity_resolves_as_configured() {
    let many = claims(json!({"cognito:roles": [ADMIN, EDITOR]}));
    let one = claims(json!({"cognito:roles": [EDITOR]}));
    let none = claims(json!({"sub": "u"}));
    let to_auth = token(AmbiguousRoleResolution::AuthenticatedRole);
    let deny = token(AmbiguousRoleResolution::Deny);
    assert_eq!(
        resolve_role(&roles(), Some(&to_auth), &many, true, None).unwrap(),
        AUTH
    );
    assert_eq!(
        resolve_role(&roles(), Some(&to_auth), &none, true, None).unwrap(),
        AUTH
    );
    assert!(denied(resolve_role(
        &roles(),
        Some(&deny),
        &many,
        true,
        None
    )));
    assert!(denied(resolve_role(
        &roles(),
        Some(&deny),
        &none,
        true,
        None
    )));
    assert_eq!(
        resolve_role(&roles(), Some(&deny), &one, true, None).unwrap(),
        EDITOR
    );
    // A preferred role that is not a role ARN is no preference.
    let junk = claims(json!({"cognito:preferred_role": "admin"}));
    assert!(denied(resolve_role(
        &roles(),
        Some(&deny),
        &junk,
        true,
        None
    )));
    let no_auth = IdentityPoolRoles {
        authenticated: None,
        ..roles()
    };
    let e = resolve_role(&no_auth, Some(&to_auth), &none, true, None).unwrap_err();
    assert!(matches!(
        e,
        MappingError::InvalidIdentityPoolConfiguration(_)
    ));
}

#[test]
fn rules_first_match_wins() {
    let m = rules(
        AmbiguousRoleResolution::Deny,
        vec![
            rule("cognito:groups", MatchType::Contains, "admins", ADMIN),
            rule("cognito:groups", MatchType::Contains, "editors", EDITOR),
        ],
    );
    let both = claims(json!({"cognito:groups": ["editors", "admins"]}));
    assert_eq!(
        resolve_role(&roles(), Some(&m), &both, true, None).unwrap(),
        ADMIN
    );
    let ed = claims(json!({"cognito:groups": ["editors"]}));
    assert_eq!(
        resolve_role(&roles(), Some(&m), &ed, true, None).unwrap(),
        EDITOR
    );
    // Group membership, not a substring of a group's name.
    let sneaky = claims(json!({"cognito:groups": ["notadmins", "admins-x"]}));
    assert!(denied(resolve_role(
        &roles(),
        Some(&m),
        &sneaky,
        true,
        None
    )));
}

#[test]
fn rules_custom_role_overrides_order_only_among_matching_rules() {
    let m = rules(
        AmbiguousRoleResolution::AuthenticatedRole,
        vec![
            rule("cognito:groups", MatchType::Contains, "admins", ADMIN),
            rule("cognito:groups", MatchType::Contains, "editors", EDITOR),
        ],
    );
    let both = claims(json!({"cognito:groups": ["editors", "admins"]}));
    assert_eq!(
        resolve_role(&roles(), Some(&m), &both, true, Some(EDITOR)).unwrap(),
        EDITOR
    );
    let ed = claims(json!({"cognito:groups": ["editors"]}));
    assert!(denied(resolve_role(
        &roles(),
        Some(&m),
        &ed,
        true,
        Some(ADMIN)
    )));
    // No rule matches: the ambiguous resolution decides, and only its role may be asked.
    let none = claims(json!({"cognito:groups": ["viewers"]}));
    assert_eq!(
        resolve_role(&roles(), Some(&m), &none, true, Some(AUTH)).unwrap(),
        AUTH
    );
    assert!(denied(resolve_role(
        &roles(),
        Some(&m),
        &none,
        true,
        Some(ADMIN)
    )));
}

#[test]
fn each_match_type_on_string_claims() {
    let c = claims(json!({"email": "ann@example.com", "custom:tier": "gold", "n": 3, "v": true}));
    let check = |claim: &str, mt: MatchType, value: &str| {
        let m = rules(
            AmbiguousRoleResolution::Deny,
            vec![rule(claim, mt, value, ADMIN)],
        );
        resolve_role(&roles(), Some(&m), &c, true, None).is_ok()
    };
    assert!(check("custom:tier", MatchType::Equals, "gold"));
    assert!(!check("custom:tier", MatchType::Equals, "Gold"));
    assert!(check("email", MatchType::Contains, "@example."));
    assert!(!check("email", MatchType::Contains, "@evil."));
    assert!(check("email", MatchType::StartsWith, "ann@"));
    assert!(!check("email", MatchType::StartsWith, "example"));
    assert!(check("custom:tier", MatchType::NotEqual, "silver"));
    assert!(!check("custom:tier", MatchType::NotEqual, "gold"));
    assert!(check("n", MatchType::Equals, "3"));
    assert!(check("v", MatchType::Equals, "true"));
    // A missing claim matches nothing, not even NotEqual.
    assert!(!check("custom:missing", MatchType::NotEqual, "gold"));
    assert!(!check("custom:missing", MatchType::Equals, "gold"));
}

#[test]
fn match_types_on_array_claims() {
    let c = claims(json!({"cognito:groups": ["team-a", "staff"]}));
    let check = |mt: MatchType, value: &str| {
        let m = rules(
            AmbiguousRoleResolution::Deny,
            vec![rule("cognito:groups", mt, value, ADMIN)],
        );
        resolve_role(&roles(), Some(&m), &c, true, None).is_ok()
    };
    assert!(check(MatchType::Equals, "staff"));
    assert!(check(MatchType::Contains, "team-a"));
    assert!(!check(MatchType::Contains, "team"));
    assert!(check(MatchType::StartsWith, "team-"));
    assert!(!check(MatchType::StartsWith, "eam"));
    assert!(check(MatchType::NotEqual, "admins"));
    assert!(!check(MatchType::NotEqual, "staff"));
}

#[test]
fn rules_ambiguity_resolves_as_configured() {
    let r = vec![rule("custom:tier", MatchType::Equals, "gold", ADMIN)];
    let c = claims(json!({"custom:tier": "silver"}));
    let to_auth = rules(AmbiguousRoleResolution::AuthenticatedRole, r.clone());
    assert_eq!(
        resolve_role(&roles(), Some(&to_auth), &c, true, None).unwrap(),
        AUTH
    );
    let deny = rules(AmbiguousRoleResolution::Deny, r);
    let e = resolve_role(&roles(), Some(&deny), &c, true, None).unwrap_err();
    assert_eq!(e.aws_type(), "NotAuthorizedException");
    assert!(!e.message().contains("tier"), "the message names no claim");
}

#[test]
fn role_arn_shape() {
    for ok in [
        AUTH,
        "arn:aws:iam::123456789012:role/path/to/Name+=,.@_-",
        "arn:aws-cn:iam::123456789012:role/x",
        "arn:aws-us-gov:iam::123456789012:role/x",
    ] {
        assert!(is_role_arn(ok), "{ok}");
    }
    for bad in [
        "",
        "arn:aws:iam::12345678901:role/x",
        "arn:aws:iam::1234567890123:role/x",
        "arn:aws:iam::12345678901a:role/x",
        "arn:aws:iam::123456789012:user/x",
        "arn:aws:iam::123456789012:role/",
        "arn:aws:iam::123456789012:role/a//b",
        "arn:aws:iam::123456789012:role/a b",
        "arn:aws:s3::123456789012:role/x",
        "arn:evil:iam::123456789012:role/x",
        "arn:aws:iam:us-east-1:123456789012:role/x",
        "role/x",
    ] {
        assert!(!is_role_arn(bad), "{bad}");
    }
    assert!(!is_role_arn(&format!(
        "arn:aws:iam::123456789012:role/{}",
        "a".repeat(513)
    )));
}

#[test]
fn records_serialize_in_snake_case() {
    let m = rules(
        AmbiguousRoleResolution::AuthenticatedRole,
        vec![rule("cognito:groups", MatchType::StartsWith, "a", ADMIN)],
    );
    let v = serde_json::to_value(&m).unwrap();
    assert_eq!(v["kind"], "rules");
    assert_eq!(v["ambiguous"], "authenticated_role");
    assert_eq!(v["rules"][0]["match_type"], "starts_with");
    let back: RoleMapping = serde_json::from_value(v).unwrap();
    assert_eq!(back, m);
}
