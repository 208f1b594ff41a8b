use super::*;

#[test]
fn signatures_follow_the_standard_webhooks_scheme() {
    // The Standard Webhooks reference libraries' test vector.
    let key = STANDARD.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let mut bytes = [0u8; 32];
    // The vector's key is 24 bytes; ours are 32: sign with the vector's key directly.
    let tag = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key),
        b"msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{\"test\": 2432232314}",
    );
    assert_eq!(
        format!("v1,{}", STANDARD.encode(tag.as_ref())),
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    );
    // WebhookSecret::sign computes the same construction over its own key.
    bytes[..24].copy_from_slice(&key);
    let ours = WebhookSecret(bytes);
    let expected = aws_lc_rs::hmac::sign(
        &aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &bytes),
        b"msg_1.1614265330.{}",
    );
    assert_eq!(
        ours.sign("msg_1", 1614265330, "{}"),
        format!("v1,{}", STANDARD.encode(expected.as_ref()))
    );
    assert!(ours.display().starts_with("whsec_"));
    assert_eq!(
        STANDARD.decode(&ours.display()[6..]).unwrap(),
        bytes.to_vec()
    );
    assert!(!format!("{ours:?}").contains(&ours.display()[6..]));
}

#[test]
fn only_the_answers_response_object_is_read() {
    let ok = response_of(br#"{"version":"1","response":{"autoConfirmUser":true}}"#).unwrap();
    assert_eq!(ok.get("autoConfirmUser"), Some(&Value::Bool(true)));
    assert!(response_of(br#"{"response":null}"#).unwrap().is_empty());
    assert!(response_of(b"not json").is_err());
    assert!(response_of(br#"{"autoConfirmUser":true}"#).is_err());
    assert!(response_of(br#"[1]"#).is_err());
}

#[test]
fn error_answers_carry_the_receivers_error_message() {
    assert_eq!(
        error_message(400, br#"{"errorMessage":"domain not allowed"}"#),
        "domain not allowed"
    );
    assert_eq!(error_message(500, b"oops"), "the webhook answered HTTP 500");
    let e = TriggerError::Failed {
        kind: TriggerKind::PreSignUp,
        message: "domain not allowed".into(),
    };
    assert_eq!(
        e.to_string(),
        "PreSignUp failed with error domain not allowed."
    );
}

#[test]
fn migration_answers_are_read_strictly() {
    use crate::core::model::UserStatus;
    let read = |v: Value| events::migration_answer(v.as_object().unwrap());
    // Cognito's example answer, and the defaults.
    let answer = read(serde_json::json!({
        "userAttributes": {"email": "a@example.com", "email_verified": "true"},
        "finalUserStatus": "RESET_REQUIRED",
        "messageAction": "SUPPRESS",
        "desiredDeliveryMediums": ["EMAIL"],
        "forceAliasCreation": false,
    }))
    .unwrap();
    assert_eq!(answer.attributes["email"], "a@example.com");
    assert_eq!(answer.final_status, UserStatus::ResetRequired);
    let answer = read(serde_json::json!({"userAttributes": {}})).unwrap();
    assert_eq!(answer.final_status, UserStatus::Confirmed);
    // What cannot be honoured is refused by name.
    for (bad, named) in [
        (serde_json::json!({}), "userAttributes"),
        (
            serde_json::json!({"userAttributes": {"n": 1}}),
            "userAttributes.n",
        ),
        (
            serde_json::json!({"userAttributes": {}, "finalUserStatus": "UNCONFIRMED"}),
            "finalUserStatus",
        ),
        (
            serde_json::json!({"userAttributes": {}, "messageAction": "RESEND"}),
            "messageAction",
        ),
        (
            serde_json::json!({"userAttributes": {}, "desiredDeliveryMediums": ["SMS"]}),
            "desiredDeliveryMediums",
        ),
        (
            serde_json::json!({"userAttributes": {}, "forceAliasCreation": true}),
            "forceAliasCreation",
        ),
        (
            serde_json::json!({"userAttributes": {}, "enableSMSMFA": true}),
            "enableSMSMFA",
        ),
    ] {
        let e = read(bad.clone()).unwrap_err();
        assert!(e.contains(named), "{bad}: {e}");
    }
}
