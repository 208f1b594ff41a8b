//! The user pools API's client settings in the file (issue 14): `explicit_auth_flows`
//! (Cognito's `ExplicitAuthFlows`) and `prevent_user_existence_errors` (Cognito's
//! `PreventUserExistenceErrors`), each refused where it is written with a fix.

use super::*;
use crate::core::model::{default_auth_flows, AuthFlow, UserExistenceErrors};

/// One pool with one public client; `extra` is more lines for the client.
fn file(extra: &str) -> String {
    format!(
        r#"
[[pools]]
id = "us-east-1_AbC123dEf"
name = "customers"

[[pools.clients]]
id = "webclient1"
name = "web"
callback_urls = ["https://app.example.com/cb"]
allowed_oauth_flows = ["code"]
allowed_oauth_scopes = ["openid"]
{extra}
"#
    )
}

/// The one diagnostic of `text`, which must be on the line containing `needle`.
#[track_caller]
fn only(text: &str, needle: &str) -> Diagnostic {
    let d = match check_str(text, "cognate.toml") {
        Ok(_) => panic!("{text} should be refused"),
        Err(d) => d,
    };
    assert_eq!(d.len(), 1, "expected one diagnostic, got {d:#?}");
    let d = d.into_iter().next().unwrap();
    let line = text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert_eq!(d.line, Some(line), "{d}");
    assert!(d.column.is_some(), "{d}");
    assert!(!d.message.is_empty() && !d.fix.is_empty(), "{d}");
    d
}

#[test]
fn omitted_settings_are_cognitos_defaults() {
    let config = check_str(&file(""), "cognate.toml").unwrap();
    let client = &config.pools[0].clients[0];
    // CreateUserPoolClient without ExplicitAuthFlows: SRP, custom and refresh.
    assert_eq!(
        client.explicit_auth_flows,
        [
            AuthFlow::AllowUserSrpAuth,
            AuthFlow::AllowCustomAuth,
            AuthFlow::AllowRefreshTokenAuth
        ]
    );
    assert_eq!(client.explicit_auth_flows, default_auth_flows());
    assert_eq!(
        client.prevent_user_existence_errors,
        UserExistenceErrors::Enabled
    );
}

#[test]
fn declared_settings_are_read() {
    let text = file(
        "explicit_auth_flows = [\"ALLOW_USER_PASSWORD_AUTH\", \"ALLOW_ADMIN_USER_PASSWORD_AUTH\", \
         \"ALLOW_CUSTOM_AUTH\"]\nprevent_user_existence_errors = \"LEGACY\"",
    );
    let config = check_str(&text, "cognate.toml").unwrap();
    let client = &config.pools[0].clients[0];
    assert_eq!(
        client.explicit_auth_flows,
        [
            AuthFlow::AllowUserPasswordAuth,
            AuthFlow::AllowAdminUserPasswordAuth,
            AuthFlow::AllowCustomAuth
        ]
    );
    assert_eq!(
        client.prevent_user_existence_errors,
        UserExistenceErrors::Legacy
    );
    // An empty list is allowed: the client has no API sign-in (hosted UI only).
    let config = check_str(&file("explicit_auth_flows = []"), "cognate.toml").unwrap();
    assert!(config.pools[0].clients[0].explicit_auth_flows.is_empty());
}

#[test]
fn an_unknown_flow_is_refused_where_written_with_the_names() {
    // The legacy names (USER_SRP_AUTH without ALLOW_) and typos are refused, with the
    // list of Cognito's ALLOW_ names as the fix.
    for bad in ["USER_SRP_AUTH", "ALLOW_USER_SRP", "allow_user_srp_auth"] {
        let text = file(&format!(
            "explicit_auth_flows = [\"ALLOW_REFRESH_TOKEN_AUTH\", \"{bad}\"]"
        ));
        let d = only(&text, bad);
        assert!(
            d.path
                .starts_with("pools[0].clients[0].explicit_auth_flows"),
            "{d}"
        );
        let said = format!("{} {}", d.message, d.fix);
        for name in AuthFlow::ALL {
            assert!(said.contains(name.as_str()), "{name:?} not named: {d}");
        }
    }
}

#[test]
fn a_flow_listed_twice_is_refused() {
    let text = file(
        "explicit_auth_flows = [\"ALLOW_USER_SRP_AUTH\", \"ALLOW_REFRESH_TOKEN_AUTH\", \
         \"ALLOW_USER_SRP_AUTH\"]",
    );
    let d = only(&text, "explicit_auth_flows");
    assert_eq!(d.path, "pools[0].clients[0].explicit_auth_flows[2]", "{d}");
    assert!(d.message.contains("ALLOW_USER_SRP_AUTH"), "{d}");
    assert!(d.fix.contains("duplicate"), "{d}");
}

#[test]
fn an_unknown_existence_setting_is_refused_with_the_values() {
    let text = file("prevent_user_existence_errors = \"DISABLED\"");
    let d = only(&text, "DISABLED");
    assert_eq!(
        d.path, "pools[0].clients[0].prevent_user_existence_errors",
        "{d}"
    );
    let said = format!("{} {}", d.message, d.fix);
    assert!(said.contains("ENABLED") && said.contains("LEGACY"), "{d}");
}
