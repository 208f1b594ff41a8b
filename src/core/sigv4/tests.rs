//! The verifier against AWS's own signing test suite (the vectors `aws-sigv4` ships) and
//! against requests signed by `aws-sigv4` itself, each attack beside the honest request.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4;

use super::*;

const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// 2015-08-30T12:36:00Z, the test suite's time.
const SUITE_NOW: UnixTime = 1_440_938_160;
const SUITE: Expectation<'static> = Expectation {
    region: "us-east-1",
    services: &["service"],
};

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Parses and verifies in one go (a request's parts as separate arguments keep the many
/// call sites short).
#[allow(clippy::too_many_arguments)]
fn check(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(String, String)],
    body: &[u8],
    secret: &str,
    expect: &Expectation<'_>,
    now: UnixTime,
) -> Result<SignedParts, SigV4Error> {
    let req = Request {
        method,
        path,
        query,
        headers,
        body,
    };
    let parts = parse_authorization(&req)?;
    verify(&req, &parts, secret.as_bytes(), expect, now)?;
    Ok(parts)
}

/// One vector of AWS's SigV4 test suite (`aws-signing-test-suite/v4/<name>`):
/// the request and the Authorization header the suite signs it with.
struct Vector {
    name: &'static str,
    method: &'static str,
    path: &'static str,
    query: &'static str,
    headers: &'static [(&'static str, &'static str)],
    body: &'static str,
}

const AUTH_PREFIX: &str = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=";

const VECTORS: &[(Vector, &str, &str)] = &[
    (
        Vector {
            name: "get-vanilla",
            method: "GET",
            path: "/",
            query: "",
            headers: &[("Host", "example.amazonaws.com")],
            body: "",
        },
        "host;x-amz-date",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ),
    (
        Vector {
            name: "post-vanilla",
            method: "POST",
            path: "/",
            query: "",
            headers: &[("Host", "example.amazonaws.com")],
            body: "",
        },
        "host;x-amz-date",
        "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
    ),
    (
        Vector {
            name: "get-vanilla-query-order-key-case",
            method: "GET",
            path: "/",
            query: "Param2=value2&Param1=value1",
            headers: &[("Host", "example.amazonaws.com")],
            body: "",
        },
        "host;x-amz-date",
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
    ),
    (
        Vector {
            name: "get-vanilla-query-unreserved",
            method: "GET",
            path: "/",
            query: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            headers: &[("Host", "example.amazonaws.com")],
            body: "",
        },
        "host;x-amz-date",
        "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
    ),
    (
        Vector {
            name: "get-utf8",
            method: "GET",
            path: "/\u{1234}",
            query: "",
            headers: &[("Host", "example.amazonaws.com")],
            body: "",
        },
        "host;x-amz-date",
        "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
    ),
    (
        Vector {
            name: "get-slashes-normalized",
            method: "GET",
            path: "//example//",
            query: "",
            headers: &[("Host", "example.amazonaws.com")],
            body: "",
        },
        "host;x-amz-date",
        "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
    ),
    (
        Vector {
            name: "get-relative-relative-normalized",
            method: "GET",
            path: "/example1/example2/../..",
            query: "",
            headers: &[("Host", "example.amazonaws.com")],
            body: "",
        },
        "host;x-amz-date",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    ),
    (
        Vector {
            name: "get-header-key-duplicate",
            method: "GET",
            path: "/",
            query: "",
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("My-Header1", "value2"),
                ("My-Header1", "value2"),
                ("My-Header1", "value1"),
            ],
            body: "",
        },
        "host;my-header1;x-amz-date",
        "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
    ),
    (
        Vector {
            name: "get-header-value-trim",
            method: "GET",
            path: "/",
            query: "",
            headers: &[
                ("Host", "example.amazonaws.com"),
                ("My-Header1", " value1"),
                ("My-Header2", " \"a   b   c\""),
            ],
            body: "",
        },
        "host;my-header1;my-header2;x-amz-date",
        "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
    ),
    (
        Vector {
            name: "post-x-www-form-urlencoded",
            method: "POST",
            path: "/",
            query: "",
            headers: &[
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Host", "example.amazonaws.com"),
                ("Content-Length", "13"),
                (
                    "x-amz-content-sha256",
                    "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
                ),
            ],
            body: "Param1=value1",
        },
        "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
        "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b",
    ),
];

fn vector_headers(v: &Vector, signed: &str, signature: &str) -> Vec<(String, String)> {
    let mut h = headers(v.headers);
    h.push(("X-Amz-Date".into(), "20150830T123600Z".into()));
    h.push((
        "Authorization".into(),
        format!("{AUTH_PREFIX}{signed}, Signature={signature}"),
    ));
    h
}

#[test]
fn aws_test_suite_vectors_verify() {
    for (v, signed, signature) in VECTORS {
        let h = vector_headers(v, signed, signature);
        let got = check(
            v.method,
            v.path,
            v.query,
            &h,
            v.body.as_bytes(),
            SECRET,
            &SUITE,
            SUITE_NOW,
        );
        let parts = got.unwrap_or_else(|e| panic!("{}: {e:?}", v.name));
        assert_eq!(parts.access_key_id, AKID);
        // The same vector with another secret is refused.
        let wrong = check(
            v.method,
            v.path,
            v.query,
            &h,
            v.body.as_bytes(),
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ",
            &SUITE,
            SUITE_NOW,
        );
        assert_eq!(wrong, Err(SigV4Error::SignatureMismatch), "{}", v.name);
    }
}

// --- requests signed by aws-sigv4, as the SDK signs them ----------------------------------

const HOST: &str = "127.0.0.1:9000";
const NOW: UnixTime = 1_780_000_000;
const HERE: Expectation<'static> = Expectation {
    region: "us-east-1",
    services: &["cognito-identity", "sts"],
};
const BODY: &[u8] = br#"{"IdentityPoolId":"us-east-1:0000"}"#;

struct Signed {
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

struct Signer<'a> {
    secret: &'a str,
    region: &'a str,
    service: &'a str,
    at: UnixTime,
    session_token: Option<&'a str>,
    settings: fn() -> SigningSettings,
}

impl Default for Signer<'_> {
    fn default() -> Self {
        Signer {
            secret: SECRET,
            region: "us-east-1",
            service: "cognito-identity",
            at: NOW,
            session_token: None,
            settings: SigningSettings::default,
        }
    }
}

impl Signer<'_> {
    fn sign(&self, path_and_query: &str, body: &[u8]) -> Signed {
        let identity = aws_credential_types::Credentials::new(
            AKID,
            self.secret,
            self.session_token.map(str::to_string),
            None,
            "test",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(UNIX_EPOCH + Duration::from_secs(self.at as u64))
            .settings((self.settings)())
            .build()
            .unwrap()
            .into();
        let base = [
            ("host", HOST),
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", "AWSCognitoIdentityService.GetId"),
        ];
        let uri = format!("http://{HOST}{path_and_query}");
        let request = SignableRequest::new(
            "POST",
            &uri,
            base.iter().copied(),
            SignableBody::Bytes(body),
        )
        .unwrap();
        let (instructions, _) = sign(request, &params).unwrap().into_parts();
        let mut headers = headers(&base);
        headers.extend(
            instructions
                .headers()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let mut query: Vec<String> = Vec::new();
        let (path, q) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        if !q.is_empty() {
            query.push(q.to_string());
        }
        for (k, v) in instructions.params() {
            query.push(format!(
                "{}={}",
                utf8_percent_encode(k, UNRESERVED),
                utf8_percent_encode(v, UNRESERVED)
            ));
        }
        Signed {
            path: path.to_string(),
            query: query.join("&"),
            headers,
        }
    }
}

fn verify_signed(s: &Signed, body: &[u8], now: UnixTime) -> Result<SignedParts, SigV4Error> {
    check(
        "POST", &s.path, &s.query, &s.headers, body, SECRET, &HERE, now,
    )
}

fn set(headers: &mut [(String, String)], name: &str, value: &str) {
    let h = headers
        .iter_mut()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .expect("header present");
    h.1 = value.to_string();
}

#[test]
fn sdk_signed_request_verifies() {
    let s = Signer::default().sign("/", BODY);
    let parts = verify_signed(&s, BODY, NOW).unwrap();
    assert_eq!(parts.access_key_id, AKID);
    assert_eq!(parts.service, "cognito-identity");
    assert_eq!(parts.session_token, None);
    // A path with characters that need encoding, and a query, as the SDK signs them.
    let s = Signer::default().sign("/a%20b/c?z=1&a=x%2By&a=%20", BODY);
    verify_signed(&s, BODY, NOW).unwrap();
}

#[test]
fn wrong_secret_is_refused() {
    let s = Signer {
        secret: "another secret entirely",
        ..Signer::default()
    }
    .sign("/", BODY);
    assert_eq!(
        verify_signed(&s, BODY, NOW),
        Err(SigV4Error::SignatureMismatch)
    );
    let honest = Signer::default().sign("/", BODY);
    assert!(verify_signed(&honest, BODY, NOW).is_ok());
}

#[test]
fn tampered_body_is_refused() {
    let s = Signer::default().sign("/", BODY);
    let tampered = br#"{"IdentityPoolId":"us-east-1:0001"}"#;
    assert_eq!(
        verify_signed(&s, tampered, NOW),
        Err(SigV4Error::SignatureMismatch)
    );
    // With the payload hash in a header, the mismatch is found before the signature.
    let s = Signer {
        settings: || {
            let mut settings = SigningSettings::default();
            settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
            settings
        },
        ..Signer::default()
    }
    .sign("/", BODY);
    assert_eq!(
        verify_signed(&s, tampered, NOW),
        Err(SigV4Error::PayloadHash)
    );
    assert!(verify_signed(&s, BODY, NOW).is_ok());
    // An unsigned payload is never accepted, even when the signature covers the claim.
    let mut unsigned = s.headers.clone();
    set(&mut unsigned, "x-amz-content-sha256", "UNSIGNED-PAYLOAD");
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &unsigned,
        body: BODY,
    };
    let parts = parse_authorization(&req).unwrap();
    assert_eq!(
        verify(&req, &parts, SECRET.as_bytes(), &HERE, NOW),
        Err(SigV4Error::PayloadHash)
    );
}

#[test]
fn wrong_region_or_service_is_refused() {
    let s = Signer {
        region: "eu-west-1",
        ..Signer::default()
    }
    .sign("/", BODY);
    assert!(matches!(
        verify_signed(&s, BODY, NOW),
        Err(SigV4Error::Scope(m)) if m.contains("region")
    ));
    let s = Signer {
        service: "cognito-idp",
        ..Signer::default()
    }
    .sign("/", BODY);
    assert!(matches!(
        verify_signed(&s, BODY, NOW),
        Err(SigV4Error::Scope(m)) if m.contains("service")
    ));
    // Both expected services are accepted.
    for service in ["cognito-identity", "sts"] {
        let s = Signer {
            service,
            ..Signer::default()
        }
        .sign("/", BODY);
        assert!(verify_signed(&s, BODY, NOW).is_ok(), "{service}");
    }
}

#[test]
fn clock_skew_over_fifteen_minutes_is_refused() {
    for (offset, ok) in [
        (-16 * 60, false),
        (16 * 60, false),
        (-14 * 60, true),
        (14 * 60, true),
    ] {
        let s = Signer {
            at: NOW + offset,
            ..Signer::default()
        }
        .sign("/", BODY);
        let got = verify_signed(&s, BODY, NOW);
        assert_eq!(got.is_ok(), ok, "{offset}: {got:?}");
        if !ok {
            assert!(matches!(got, Err(SigV4Error::Expired { .. })), "{got:?}");
        }
    }
}

/// A request signed by this module's own signing code with chosen claims: how the
/// attacks the SDK will not produce (unsigned `host`, a scope date from another day) get
/// a signature that is right for what they sign.
fn hand_signed(signed_headers: &[&str], scope_date: &str, amz_date: &str) -> Vec<(String, String)> {
    let mut h = headers(&[
        ("host", HOST),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-date", amz_date),
        (
            "x-amz-target",
            "AWSCognitoIdentityService.DescribeIdentityPool",
        ),
    ]);
    let parts = SignedParts {
        access_key_id: AKID.into(),
        scope_date: scope_date.into(),
        region: "us-east-1".into(),
        service: "cognito-identity".into(),
        signed_headers: signed_headers.iter().map(|s| s.to_string()).collect(),
        signature: String::new(),
        amz_date: amz_date.into(),
        session_token: None,
    };
    let req = Request {
        method: "POST",
        path: "/",
        query: "",
        headers: &h,
        body: BODY,
    };
    let hash = hex(digest::digest(&digest::SHA256, BODY).as_ref());
    let canonical = canonical_request(&req, &parts.signed_headers, &hash);
    let sig = signature(SECRET.as_bytes(), &parts, &canonical);
    h.push((
        "authorization".into(),
        format!(
            "AWS4-HMAC-SHA256 Credential={AKID}/{scope_date}/us-east-1/cognito-identity/aws4_request, SignedHeaders={}, Signature={sig}",
            signed_headers.join(";")
        ),
    ));
    h
}

fn amz(at: UnixTime) -> String {
    chrono::DateTime::from_timestamp(at, 0)
        .unwrap()
        .format("%Y%m%dT%H%M%SZ")
        .to_string()
}

#[test]
fn host_and_date_must_be_signed() {
    let date = amz(NOW);
    let day = &date[..8];
    let check_hand = |h: &[(String, String)]| check("POST", "/", "", h, BODY, SECRET, &HERE, NOW);
    // The honest hand-signed request passes, so the refusals below are for what is signed.
    assert!(check_hand(&hand_signed(
        &["content-type", "host", "x-amz-date", "x-amz-target"],
        day,
        &date
    ))
    .is_ok());
    // The action header, when sent, must be signed: else a captured Describe* could be
    // replayed as a Delete* with the same signature.
    let no_target = check_hand(&hand_signed(
        &["content-type", "host", "x-amz-date"],
        day,
        &date,
    ));
    assert!(
        matches!(&no_target, Err(SigV4Error::Incomplete(m)) if m.contains("'x-amz-target'")),
        "{no_target:?}"
    );
    let no_host = check_hand(&hand_signed(
        &["content-type", "x-amz-date", "x-amz-target"],
        day,
        &date,
    ));
    assert!(
        matches!(&no_host, Err(SigV4Error::Incomplete(m)) if m.contains("'host'")),
        "{no_host:?}"
    );
    let no_date = check_hand(&hand_signed(
        &["content-type", "host", "x-amz-target"],
        day,
        &date,
    ));
    assert!(
        matches!(&no_date, Err(SigV4Error::Incomplete(m)) if m.contains("'x-amz-date'")),
        "{no_date:?}"
    );
}

#[test]
fn scope_date_must_be_the_request_date() {
    // 00:05 on a day, scoped to the day before: inside the skew, but not the same date.
    let midnight = NOW - NOW.rem_euclid(86_400);
    let now = midnight + 300;
    let date = amz(now);
    let yesterday = amz(now - 86_400)[..8].to_string();
    let h = hand_signed(&["host", "x-amz-date", "x-amz-target"], &yesterday, &date);
    let got = check("POST", "/", "", &h, BODY, SECRET, &HERE, now);
    assert!(
        matches!(&got, Err(SigV4Error::Scope(m)) if m.contains("Date")),
        "{got:?}"
    );
    let h = hand_signed(&["host", "x-amz-date", "x-amz-target"], &date[..8], &date);
    assert!(check("POST", "/", "", &h, BODY, SECRET, &HERE, now).is_ok());
}

#[test]
fn presigned_requests_are_refused() {
    let s = Signer {
        settings: || {
            let mut settings = SigningSettings::default();
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(Duration::from_secs(300));
            settings
        },
        ..Signer::default()
    }
    .sign("/", BODY);
    assert!(s.query.contains("X-Amz-Signature="), "{}", s.query);
    assert_eq!(
        verify_signed(&s, BODY, NOW),
        Err(SigV4Error::PresignedNotSupported)
    );
    assert!(verify_signed(&Signer::default().sign("/", BODY), BODY, NOW).is_ok());
}

#[test]
fn tampered_signed_header_is_refused_and_unsigned_header_ignored() {
    let s = Signer::default().sign("/", BODY);
    let mut tampered = s.headers.clone();
    set(
        &mut tampered,
        "x-amz-target",
        "AWSCognitoIdentityService.DeleteIdentityPool",
    );
    let t = Signed {
        headers: tampered,
        path: s.path.clone(),
        query: s.query.clone(),
    };
    assert_eq!(
        verify_signed(&t, BODY, NOW),
        Err(SigV4Error::SignatureMismatch)
    );
    // Headers added on the way (a proxy's user-agent, a trace id) are not signed and
    // change nothing.
    let mut extra = s.headers.clone();
    extra.push(("User-Agent".into(), "proxy/1.0".into()));
    extra.push(("X-Amzn-Trace-Id".into(), "Root=1-abc".into()));
    let e = Signed {
        headers: extra,
        path: s.path,
        query: s.query,
    };
    assert!(verify_signed(&e, BODY, NOW).is_ok());
}

#[test]
fn session_token_must_be_signed() {
    let s = Signer {
        session_token: Some("session-token-value"),
        ..Signer::default()
    }
    .sign("/", BODY);
    let parts = verify_signed(&s, BODY, NOW).unwrap();
    assert_eq!(parts.session_token.as_deref(), Some("session-token-value"));
    assert!(!format!("{parts:?}").contains("session-token-value"));
    // A token added to a request signed without one is not covered by the signature.
    let mut added = Signer::default().sign("/", BODY).headers;
    added.push((SESSION_TOKEN_HEADER.into(), "someone-elses-token".into()));
    let got = check("POST", "/", "", &added, BODY, SECRET, &HERE, NOW);
    assert!(
        matches!(&got, Err(SigV4Error::Incomplete(m)) if m.contains("x-amz-security-token")),
        "{got:?}"
    );
}

#[test]
fn malformed_or_missing_authorization() {
    let s = Signer::default().sign("/", BODY);
    let without: Vec<(String, String)> = s
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
        .cloned()
        .collect();
    assert_eq!(
        check("POST", "/", "", &without, BODY, SECRET, &HERE, NOW),
        Err(SigV4Error::MissingAuthentication)
    );
    let auth = s
        .headers
        .iter()
        .find(|(n, _)| n == "authorization")
        .unwrap()
        .1
        .clone();
    for bad in [
        auth.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1"),
        auth.replace("/aws4_request", "/aws5_request"),
        auth.replace("SignedHeaders=", "Signedheaders="),
        auth.replace("Signature=", "Signature=ZZ"),
        format!("{auth}, Signature=00"),
    ] {
        let mut h = without.clone();
        h.push(("authorization".into(), bad.clone()));
        let got = check("POST", "/", "", &h, BODY, SECRET, &HERE, NOW);
        assert!(
            matches!(got, Err(SigV4Error::Incomplete(_))),
            "{bad}: {got:?}"
        );
    }
    assert!(verify_signed(&s, BODY, NOW).is_ok());
}

#[test]
fn error_names_follow_aws() {
    assert_eq!(
        SigV4Error::SignatureMismatch.sts_code(),
        "SignatureDoesNotMatch"
    );
    assert_eq!(
        SigV4Error::SignatureMismatch.json_type(),
        "InvalidSignatureException"
    );
    assert_eq!(
        SigV4Error::UnknownAccessKey.sts_code(),
        "InvalidClientTokenId"
    );
    assert_eq!(
        SigV4Error::UnknownAccessKey.json_type(),
        "UnrecognizedClientException"
    );
    assert_eq!(SigV4Error::ExpiredSessionToken.sts_code(), "ExpiredToken");
    assert_eq!(
        SigV4Error::MissingAuthentication.sts_code(),
        "MissingAuthenticationToken"
    );
    assert_eq!(
        SigV4Error::Incomplete(String::new()).sts_code(),
        "IncompleteSignature"
    );
    let expired = SigV4Error::Expired {
        amz_date: "20150830T123600Z".into(),
    };
    assert!(expired.to_string().starts_with("Signature expired"));
    assert_eq!(expired.status(), 403);
}

#[test]
fn system_time_is_unix_time() {
    // The signer takes a SystemTime, the verifier Unix seconds: the two agree.
    let at = UNIX_EPOCH + Duration::from_secs(NOW as u64);
    assert_eq!(
        at.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs() as i64,
        NOW
    );
}
