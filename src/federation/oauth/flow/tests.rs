//! Unit tests of [`super`].

use serde_json::json;

use super::*;
use crate::core::oauth::authorize::sample_request;

#[test]
fn userinfo_must_describe_the_same_user() {
    let mut claims = json!({"sub": "1", "email": "a@example.com"});
    merge_userinfo(
        &mut claims,
        &json!({"sub": "1", "email": "b@example.com", "name": "A"}),
    )
    .unwrap();
    assert_eq!(claims["email"], "a@example.com");
    assert_eq!(claims["name"], "A");
    assert!(merge_userinfo(&mut claims, &json!({"sub": "2"})).is_err());
    assert!(merge_userinfo(&mut claims, &json!({"name": "x"})).is_err());
}

#[test]
fn debug_hides_codes_nonces_and_verifiers() {
    let flow = UpstreamFlow {
        request: sample_request("client-state", "client-nonce-value"),
        provider: "Google".into(),
        pool_id: "us-east-1_Debug".into(),
        leg: UpstreamLeg::OAuth(OAuthLeg {
            nonce: "upstream-nonce-value".into(),
            pkce_verifier: Some("pkce-verifier-value".into()),
            redirect_uri: None,
        }),
        browser: "browser-hash".into(),
        login_flow: None,
        expires_at: 1,
    };
    let callback = CallbackParams {
        state: Some("upstream-state".into()),
        code: Some("upstream-code-value".into()),
        ..Default::default()
    };
    let posted = PostedFields {
        state: Some("upstream-state".into()),
        code: Some("posted-code-value".into()),
        user: Some(r#"{"email":"a@example.com"}"#.into()),
        ..Default::default()
    };
    let started = Started {
        url: "https://idp.example.com/auth?nonce=started-nonce-value&state=s".into(),
        state: "s".into(),
        form: None,
    };
    let text = format!("{flow:?} {callback:?} {posted:?} {started:?}");
    for secret in [
        "upstream-nonce-value",
        "pkce-verifier-value",
        "client-nonce-value",
        "upstream-code-value",
        "posted-code-value",
        "started-nonce-value",
        "a@example.com",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // What is not secret still helps debugging.
    for shown in ["Google", "upstream-state", "https://idp.example.com/auth"] {
        assert!(text.contains(shown), "{shown} missing from {text}");
    }
}

#[test]
fn a_flow_is_stored_in_the_shape_flows_in_flight_have() {
    // The fields a flow had before its protocol part was split out, at the top level: a
    // flow stored by the earlier version (in flight during an upgrade) still reads.
    let flow = UpstreamFlow {
        request: sample_request("client-state", "client-nonce"),
        provider: "Google".into(),
        pool_id: "us-east-1_Flow".into(),
        leg: UpstreamLeg::OAuth(OAuthLeg {
            nonce: "n".into(),
            pkce_verifier: Some("v".into()),
            redirect_uri: None,
        }),
        browser: "b".into(),
        login_flow: None,
        expires_at: 600,
    };
    let stored = serde_json::to_value(&flow).unwrap();
    let mut keys: Vec<&str> = stored
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "browser",
            "expires_at",
            "login_flow",
            "nonce",
            "pkce_verifier",
            "pool_id",
            "provider",
            "request"
        ]
    );
    let read: UpstreamFlow = serde_json::from_value(stored.clone()).unwrap();
    assert_eq!(read, flow);

    // Written without the optional fields (no PKCE, no login flow), as a flow of a
    // provider without PKCE was.
    let mut older = stored;
    let object = older.as_object_mut().unwrap();
    object.remove("pkce_verifier");
    object.remove("login_flow");
    let read: UpstreamFlow = serde_json::from_value(older).unwrap();
    let UpstreamLeg::OAuth(leg) = &read.leg else {
        panic!("an older flow reads as the OAuth leg it was")
    };
    assert_eq!(
        (leg.nonce.as_str(), leg.pkce_verifier.as_deref()),
        ("n", None)
    );
}

#[test]
fn a_saml_flow_reads_back_as_saml_and_hides_its_relay_state() {
    use crate::federation::saml::leg::SamlLeg;
    let flow = UpstreamFlow {
        request: sample_request("client-state", "client-nonce"),
        provider: "Okta".into(),
        pool_id: "us-east-1_Flow".into(),
        leg: UpstreamLeg::Saml(SamlLeg {
            saml_relay_state: "relay-state-value".into(),
        }),
        browser: "b".into(),
        login_flow: None,
        expires_at: 600,
    };
    let stored = serde_json::to_value(&flow).unwrap();
    assert_eq!(stored["saml_relay_state"], "relay-state-value");
    assert!(stored.get("nonce").is_none());
    let read: UpstreamFlow = serde_json::from_value(stored).unwrap();
    assert_eq!(read, flow);
    assert!(matches!(read.leg, UpstreamLeg::Saml(_)));
    assert!(!format!("{read:?}").contains("relay-state-value"));
}
