//! Raw requests to `POST /`: signed with `aws-sigv4` and then tampered with (body,
//! unsigned host, skewed date, wrong service), the JSON protocol's refusals (unknown
//! operation, a body that is not a JSON object), STS's query protocol errors, the body
//! limit in AWS's shape, and CORS for browser SDKs.

use serde_json::Value;

use super::{make_key, minutes_off, post, xml_text, Signing};
use crate::support::server::TestServer;

const STS_BODY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";
const FORM: (&str, &str) = (
    "content-type",
    "application/x-www-form-urlencoded; charset=utf-8",
);

fn host_of(base: &str) -> &str {
    base.trim_start_matches("http://")
}

/// Checks an STS error answer: status, `Code`, and the shape every answer has.
async fn sts_error(response: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(response.status().as_u16(), status);
    let headers = response.headers().clone();
    assert_eq!(headers["x-amzn-errortype"], code);
    assert!(headers.contains_key("x-amzn-requestid"));
    let body = response.text().await.unwrap();
    assert!(
        body.starts_with("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"),
        "{body}"
    );
    assert_eq!(xml_text(&body, "Code"), Some(code), "{body}");
    assert_eq!(xml_text(&body, "Type"), Some("Sender"), "{body}");
    assert_eq!(
        xml_text(&body, "RequestId"),
        headers["x-amzn-requestid"].to_str().ok()
    );
    body
}

/// Checks a JSON error answer: status and `__type`, with the request id.
async fn json_error(response: reqwest::Response, status: u16, kind: &str) -> Value {
    assert_eq!(response.status().as_u16(), status);
    assert_eq!(response.headers()["x-amzn-errortype"], kind);
    assert!(response.headers().contains_key("x-amzn-requestid"));
    assert_eq!(
        response.headers()["content-type"],
        "application/x-amz-json-1.1"
    );
    let body: Value = response.json().await.expect("JSON error body");
    assert_eq!(body["__type"], kind, "{body}");
    assert!(body.get("message").is_some(), "{body}");
    body
}

#[tokio::test]
async fn raw_signed_requests_and_their_tampered_copies() {
    let server = TestServer::start("").await;
    let key = make_key(&server, None, None).await;
    let base = server.base.as_str();
    let headers = [("host", host_of(base)), FORM];

    // Honest: 200, the caller named, the request id in header and body alike.
    let signed = Signing::new(&key, "sts").sign(base, &headers, STS_BODY);
    let ok = post(base, &signed, STS_BODY).await;
    assert_eq!(ok.status().as_u16(), 200);
    let id = ok.headers()["x-amzn-requestid"]
        .to_str()
        .unwrap()
        .to_string();
    let body = ok.text().await.unwrap();
    assert_eq!(
        xml_text(&body, "UserId"),
        Some(key.access_key_id.as_str()),
        "{body}"
    );
    assert_eq!(xml_text(&body, "Account"), Some("000000000000"), "{body}");
    assert_eq!(xml_text(&body, "RequestId"), Some(id.as_str()));

    // The same signature over another body.
    let tampered = b"Action=GetCallerIdentity&Version=2011-06-15&Extra=1";
    sts_error(
        post(base, &signed, tampered).await,
        403,
        "SignatureDoesNotMatch",
    )
    .await;

    // `host` left out of the signature (a signature that could be replayed to another
    // host): refused even though the signature is right for what it signs.
    let no_host = Signing {
        exclude: &["host"],
        ..Signing::new(&key, "sts")
    }
    .sign(base, &headers, STS_BODY);
    assert!(no_host
        .iter()
        .any(|(k, v)| k == "authorization" && !v.contains("host;")));
    let body = sts_error(
        post(base, &no_host, STS_BODY).await,
        400,
        "IncompleteSignature",
    )
    .await;
    assert!(body.contains("host"), "{body}");

    // Sixteen minutes off either way is refused; fourteen is accepted.
    for (minutes, accepted) in [(-16, false), (16, false), (-14, true), (14, true)] {
        let skewed = Signing {
            time: minutes_off(minutes),
            ..Signing::new(&key, "sts")
        }
        .sign(base, &headers, STS_BODY);
        let response = post(base, &skewed, STS_BODY).await;
        if accepted {
            assert_eq!(response.status().as_u16(), 200, "{minutes}");
        } else {
            let body = sts_error(response, 403, "SignatureDoesNotMatch").await;
            assert!(body.contains("Signature expired"), "{body}");
        }
    }

    // Signed for another service, or another region.
    let other_service = Signing::new(&key, "cognito-identity").sign(base, &headers, STS_BODY);
    sts_error(
        post(base, &other_service, STS_BODY).await,
        403,
        "SignatureDoesNotMatch",
    )
    .await;
    let other_region = Signing {
        region: "eu-west-1",
        ..Signing::new(&key, "sts")
    }
    .sign(base, &headers, STS_BODY);
    sts_error(
        post(base, &other_region, STS_BODY).await,
        403,
        "SignatureDoesNotMatch",
    )
    .await;

    // Unsigned: STS's MissingAuthenticationToken. A presigned query is refused as well.
    let unsigned: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    sts_error(
        post(base, &unsigned, STS_BODY).await,
        403,
        "MissingAuthenticationToken",
    )
    .await;
    let presigned = super::client()
        .post(format!(
            "{base}/?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00"
        ))
        .header("content-type", FORM.1)
        .body(STS_BODY.to_vec())
        .send()
        .await
        .unwrap();
    sts_error(presigned, 400, "IncompleteSignature").await;

    // After all that, the honest request still passes.
    let again = Signing::new(&key, "sts").sign(base, &headers, STS_BODY);
    assert_eq!(post(base, &again, STS_BODY).await.status().as_u16(), 200);
    server.stop().await;
}

#[tokio::test]
async fn protocol_errors_have_aws_shapes() {
    let server = TestServer::start("").await;
    let base = server.base.as_str();
    let json = |target: &str| {
        vec![
            (
                "content-type".to_string(),
                "application/x-amz-json-1.1".to_string(),
            ),
            ("x-amz-target".to_string(), target.to_string()),
        ]
    };
    // Unknown actions and prefixes.
    for target in [
        "AWSCognitoIdentityService.NoSuchAction",
        "AWSCognitoIdentityProviderService.NoSuchAction",
        "DynamoDB_20120810.GetItem",
        "",
    ] {
        json_error(
            post(base, &json(target), b"{}").await,
            400,
            "UnknownOperationException",
        )
        .await;
    }
    // Bodies that are not a JSON object: a 400, never a 500.
    for body in [
        &b"Action=GetId"[..],
        b"[1,2]",
        b"{\"unterminated\":",
        b"\xff\xfe",
    ] {
        json_error(
            post(base, &json("AWSCognitoIdentityService.GetId"), body).await,
            400,
            "SerializationException",
        )
        .await;
    }
    // STS: an unknown action, a wrong version, a body that is not a form.
    let form = vec![("content-type".to_string(), FORM.1.to_string())];
    let body = sts_error(
        post(base, &form, b"Action=NoSuchAction&Version=2011-06-15").await,
        400,
        "InvalidAction",
    )
    .await;
    assert!(body.contains("NoSuchAction"), "{body}");
    sts_error(
        post(base, &form, b"Action=GetCallerIdentity&Version=2009-01-01").await,
        400,
        "InvalidAction",
    )
    .await;
    sts_error(
        post(base, &form, b"Version=2011-06-15").await,
        400,
        "MissingAction",
    )
    .await;
    // No target and no form: the JSON shape.
    let plain = vec![("content-type".to_string(), "text/plain".to_string())];
    json_error(
        post(base, &plain, b"hello").await,
        400,
        "UnknownOperationException",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn over_limit_bodies_get_aws_shapes() {
    let server = TestServer::start_with("", "max_body_bytes = 4096", &[]).await;
    let base = server.base.as_str();
    let big = vec![b' '; 8192];
    let json = vec![
        (
            "content-type".to_string(),
            "application/x-amz-json-1.1".to_string(),
        ),
        (
            "x-amz-target".to_string(),
            "AWSCognitoIdentityService.GetId".to_string(),
        ),
    ];
    json_error(
        post(base, &json, &big).await,
        413,
        "RequestEntityTooLargeException",
    )
    .await;
    let form = vec![("content-type".to_string(), FORM.1.to_string())];
    sts_error(post(base, &form, &big).await, 413, "RequestEntityTooLarge").await;
    // A chunked body (no Content-Length) over the limit as well: refused while reading.
    let answer = chunked_post(host_of(base), 4, 4096).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"__type\":\"RequestEntityTooLargeException\""),
        "{answer}"
    );
    assert!(
        answer.to_ascii_lowercase().contains("x-amzn-requestid"),
        "{answer}"
    );
    // Within the limit, the same request is read and answered for what it is: a GetId
    // without its IdentityPoolId.
    json_error(
        post(base, &json, b"{}").await,
        400,
        "InvalidParameterException",
    )
    .await;
    server.stop().await;
}

#[tokio::test]
async fn cors_for_browser_sdks() {
    let server = TestServer::start("").await;
    let base = server.base.as_str();
    let preflight = super::client()
        .request(reqwest::Method::OPTIONS, format!("{base}/"))
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-amz-target,x-amz-user-agent,amz-sdk-invocation-id,amz-sdk-request,\
             cache-control",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status().as_u16(), 204);
    let h = preflight.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    let allowed = h["access-control-allow-headers"].to_str().unwrap();
    for needed in [
        "content-type",
        "x-amz-target",
        "x-amz-user-agent",
        "x-amz-date",
        "x-amz-security-token",
        "authorization",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "cache-control",
    ] {
        assert!(allowed.contains(needed), "{needed}: {allowed}");
    }
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    // The answers themselves, errors included, are readable by the page.
    let answer = super::client()
        .post(format!("{base}/"))
        .header("origin", "https://app.example.com")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "AWSCognitoIdentityService.NoSuchAction")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["access-control-allow-origin"], "*");
    let exposed = answer.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(exposed.contains("x-amzn-requestid") && exposed.contains("x-amzn-errortype"));
    server.stop().await;
}

/// A JSON-protocol `POST /` with a chunked body of `chunks` chunks of `size` bytes, over
/// a raw connection; the whole answer as text.
async fn chunked_post(host: &str, chunks: usize, size: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/x-amz-json-1.1\r\n\
         x-amz-target: AWSCognitoIdentityService.GetId\r\ntransfer-encoding: chunked\r\n\
         connection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..chunks {
        // The server may answer and close before the last chunk: a failed write is fine.
        let mut chunk = format!("{size:x}\r\n").into_bytes();
        chunk.extend(std::iter::repeat_n(b' ', size));
        chunk.extend_from_slice(b"\r\n");
        if stream.write_all(&chunk).await.is_err() {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}
