//! `POST /iam/authorize` itself: only resource servers' admin keys (HTTP Basic), precise
//! 400s for malformed input, a bare Deny.

use cognate::core::admin_keys::{AdminKeyPurpose, AdminKeys, NewAdminKey};
use serde_json::{json, Value};

use super::{client, file_url, secret, secret_of, world, Signer};

async fn post(base: &str, auth: Option<(&str, &str)>, body: &str) -> (u16, Value) {
    let mut request = client()
        .post(format!("{base}/iam/authorize"))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some((id, secret)) = auth {
        request = request.basic_auth(id, Some(secret));
    }
    let answer = request.send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_check_endpoint_is_for_resource_servers_only() {
    let w = world().await;
    let creds = w.alice_creds();
    let url = file_url(&w, &format!("{}/k", w.alice_id));
    let mut headers = Signer::new(&creds).headers("GET", &url, b"");
    let host = url.split('/').nth(2).unwrap().to_string();
    headers.insert(0, ("host".to_string(), host));
    let path = url.splitn(4, '/').nth(3).map(|p| format!("/{p}")).unwrap();
    let empty_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let input = json!({
        "request": {"method": "GET", "path": path, "query": "", "headers": headers,
                    "body_sha256": empty_hash},
        "service": "files", "region": "us-east-1",
        "action": "files:GetObject", "resource": format!("arn:cognate:files:::{}/k", w.alice_id),
    })
    .to_string();
    let base = &w.server.base;
    let key = (w.checker.access_key_id.as_str(), secret_of(&w.checker));
    // Honest: the resource server's key.
    let (status, body) = post(base, Some(key), &input).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["decision"], "Allow");
    assert_eq!(body["principal"]["identity_id"], w.alice_id.as_str());
    assert_eq!(body["principal"]["identity_pool_id"], super::IPOOL);
    assert_eq!(body["principal"]["role_arn"], super::ROLE);
    assert_eq!(body["principal"]["user_sub"], w.alice.sub.as_str());
    // An operator key may check too.
    let operator = AdminKeys::new(w.server.node.store.clone(), w.server.node.master.clone())
        .create(
            NewAdminKey {
                access_key_id: None,
                secret: Some(secret("operator-secret-0123456789")),
                description: "ops".into(),
                purpose: AdminKeyPurpose::Operator,
            },
            cognate::core::now(),
        )
        .await
        .unwrap();
    let (status, _) = post(
        base,
        Some((&operator.access_key_id, "operator-secret-0123456789")),
        &input,
    )
    .await;
    assert_eq!(status, 200);
    // No key, a wrong secret, an unknown key: 401 with a JSON error, no decision.
    for auth in [
        None,
        Some((key.0, "not-the-secret")),
        Some(("AKIANOSUCHKEY0000000", key.1)),
        Some((key.0, "")),
    ] {
        let (status, body) = post(base, auth, &input).await;
        assert_eq!(status, 401, "{auth:?}");
        assert_eq!(body["error"], "unauthorized");
        assert!(body.get("decision").is_none());
    }
    // Vended credentials are no resource server's key.
    let (status, _) = post(
        base,
        Some((&creds.access_key_id, creds.secret_access_key.expose())),
        &input,
    )
    .await;
    assert_eq!(status, 401);

    // Malformed input: 400, saying what.
    let cases = [
        ("not json".to_string(), "not a valid check request"),
        (
            input.replace("\"body_sha256\"", "\"body_sha1\""),
            "not a valid check request",
        ),
        (input.replace(empty_hash, "XYZ"), "body_sha256"),
        (input.replace("files:GetObject", "GetObject"), "action"),
        (
            input.replace(
                &format!("\"body_sha256\":\"{empty_hash}\""),
                "\"body_sha256\":null",
            ),
            "exactly one",
        ),
    ];
    for (body, says) in &cases {
        let (status, answer) = post(base, Some(key), body).await;
        assert_eq!(status, 400, "{body}");
        assert!(
            answer["message"].as_str().unwrap().contains(says),
            "{answer}"
        );
    }
    // A deny says nothing of why.
    let other = input
        .replace("files:GetObject", "files:PutObject")
        .replace(&w.alice_id, &w.bob_id);
    let (status, body) = post(base, Some(key), &other).await;
    assert_eq!((status, body), (200, json!({"decision": "Deny"})));
    // The body forwarded as base64 works as the hash does.
    let with_body = input.replace(
        &format!("\"body_sha256\":\"{empty_hash}\""),
        "\"body_base64\":\"\"",
    );
    let (status, body) = post(base, Some(key), &with_body).await;
    assert_eq!((status, body["decision"].clone()), (200, json!("Allow")));
}
