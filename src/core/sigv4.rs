//! AWS Signature Version 4 verification (header-signed requests only).
//!
//! The AWS SDKs sign every request with SigV4: an `Authorization: AWS4-HMAC-SHA256
//! Credential=<akid>/<yyyymmdd>/<region>/<service>/aws4_request, SignedHeaders=...,
//! Signature=<hex>` header over a canonical form of the request. A verifier cannot undo a
//! signature: it rebuilds the canonical request from what it received, signs it again
//! with the secret it holds for the access key, and compares the two signatures in
//! constant time ([`crate::core::secrets::constant_time_eq`]).
//!
//! The canonical request is built exactly as AWS's documentation ("Create a canonical
//! request for Signature Version 4") and the `aws-sigv4` crate the Rust SDK signs with do
//! it under their default `SigningSettings` for services other than S3:
//! - canonical URI: the raw (already percent-encoded) path with dot segments and empty
//!   segments removed, then percent-encoded once more (every byte but `A-Za-z0-9-._~` and
//!   `/`), so the path is "double-encoded";
//! - canonical query: pairs decoded as `application/x-www-form-urlencoded`, each name and
//!   value encoded (every byte but `A-Za-z0-9-._~`), sorted, joined by `&`;
//! - canonical headers: each signed header (lowercase names), its values trimmed of spaces
//!   with runs of spaces collapsed to one, repeated headers joined by `,`;
//! - payload hash: the hex SHA-256 of the body.
//!
//! What this verifier requires beyond a matching signature (AWS requires the same):
//! `host` and `x-amz-date` among the signed headers, and `x-amz-security-token` when a
//! session token is sent; an `x-amz-content-sha256`, when sent, equal to the body's hash
//! (`UNSIGNED-PAYLOAD` and streaming payloads are refused); the credential scope's date
//! equal to `x-amz-date`'s date; the scope's region and service the expected ones; the
//! request time within 15 minutes of `now`.
//!
//! **Presigned requests are refused.** A query string carrying `X-Amz-Algorithm`,
//! `X-Amz-Credential` or `X-Amz-Signature` (S3-style presigned URLs) is answered with
//! [`SigV4Error::PresignedNotSupported`]: none of the APIs Cognate serves on `POST /` needs
//! them, and a signature in a URL ends up in logs and browser histories.
//!
//! The errors are named as AWS names them, for the JSON protocol
//! ([`SigV4Error::json_type`]) and for STS's query protocol ([`SigV4Error::sts_code`]);
//! their messages are AWS's and say no more than AWS says about which part failed.
//!
//! The module is pure: no HTTP types, the time comes in as `now`.

use std::fmt;

use aws_lc_rs::{digest, hmac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::secrets::constant_time_eq;
use super::UnixTime;

/// The one algorithm accepted.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// The largest clock difference accepted between the request's `x-amz-date` and `now`.
pub const MAX_SKEW_SECS: i64 = 15 * 60;
/// The header carrying a session token (temporary credentials).
pub const SESSION_TOKEN_HEADER: &str = "x-amz-security-token";

/// Bytes left as they are in a canonical query value: the unreserved characters of RFC
/// 3986 section 2.3.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// [`UNRESERVED`] plus `/`, for the canonical URI.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// A received request, as the edge hands it over (no HTTP types).
#[derive(Clone, Copy)]
pub struct Request<'a> {
    /// The method, as sent (`POST`).
    pub method: &'a str,
    /// The path as received, still percent-encoded (`/`).
    pub path: &'a str,
    /// The raw query string without the `?` (empty when there is none).
    pub query: &'a str,
    /// Every header as received, in order; names in any case (they are compared
    /// lowercase). The `host` header must be among them (an HTTP/2 edge adds the
    /// `:authority` as `host`).
    pub headers: &'a [(String, String)],
    /// The body, whole.
    pub body: &'a [u8],
}

impl Request<'_> {
    /// Every value of header `name` (lowercase), in order.
    fn values(&self, name: &str) -> impl Iterator<Item = &str> {
        let name = name.to_string();
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(&name))
            .map(|(_, v)| v.as_str())
    }

    /// The single value of header `name`; `Err` when it is sent more than once.
    fn single(&self, name: &str) -> Result<Option<&str>, SigV4Error> {
        let mut values = self.values(name);
        let first = values.next();
        if values.next().is_some() {
            return Err(SigV4Error::Incomplete(format!(
                "The request holds more than one '{name}' header."
            )));
        }
        Ok(first)
    }
}

/// What the `Authorization` header (and the request's `x-amz-date` and session token)
/// claim, before anything is verified.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedParts {
    pub access_key_id: String,
    /// The credential scope's date, `yyyymmdd`.
    pub scope_date: String,
    pub region: String,
    pub service: String,
    /// The signed header names, lowercase, in the order sent (sorted, as AWS requires).
    pub signed_headers: Vec<String>,
    /// The signature, 64 lowercase hex digits.
    pub signature: String,
    /// The `x-amz-date` header, `yyyymmddThhmmssZ`.
    pub amz_date: String,
    /// The `x-amz-security-token` header, for temporary credentials.
    pub session_token: Option<String>,
}

impl fmt::Debug for SignedParts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The session token is a bearer secret; the signature is not (it is bound to one
        // request and its time), but it is of no use in a log either.
        f.debug_struct("SignedParts")
            .field("access_key_id", &self.access_key_id)
            .field("scope_date", &self.scope_date)
            .field("region", &self.region)
            .field("service", &self.service)
            .field("signed_headers", &self.signed_headers)
            .field("amz_date", &self.amz_date)
            .field(
                "session_token",
                &crate::core::secrets::redacted(&self.session_token),
            )
            .finish_non_exhaustive()
    }
}

/// Where the request must be scoped: this server's region and one of the services the
/// endpoint serves (`cognito-identity`, `cognito-idp`, `sts`).
#[derive(Debug, Clone, Copy)]
pub struct Expectation<'a> {
    pub region: &'a str,
    pub services: &'a [&'a str],
}

/// Why a request's signature is refused, mirroring AWS's errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// No `Authorization` header (and no presigned query).
    #[error("Missing Authentication Token")]
    MissingAuthentication,
    /// The `Authorization` header or the headers it needs are malformed or incomplete.
    #[error("{0}")]
    Incomplete(String),
    /// A presigned query-string request (see the module docs).
    #[error("Presigned query-string requests are not supported; sign the request in the Authorization header.")]
    PresignedNotSupported,
    /// The signature does not match the one computed from the request and the secret.
    #[error("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")]
    SignatureMismatch,
    /// The scope names another region, another service, or another date than the request.
    #[error("{0}")]
    Scope(String),
    /// `x-amz-content-sha256` is not the body's hash, or is an unsigned or streaming payload.
    #[error("The provided 'x-amz-content-sha256' header does not match what was computed.")]
    PayloadHash,
    /// The request time is more than 15 minutes from `now`.
    #[error("Signature expired: {amz_date} is now earlier or later than the allowed 15 minutes from the server's time.")]
    Expired { amz_date: String },
    /// The access key id is not one Cognate knows (the caller's lookup failed).
    #[error("The security token included in the request is invalid.")]
    UnknownAccessKey,
    /// A session token that is not valid for its access key (tampered, foreign, unknown).
    #[error("The security token included in the request is invalid.")]
    InvalidSessionToken,
    /// A session token past its expiry.
    #[error("The security token included in the request is expired")]
    ExpiredSessionToken,
}

impl SigV4Error {
    /// The `__type` of AWS's JSON protocol services (Cognito, Cognito identity).
    pub fn json_type(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthentication => "MissingAuthenticationTokenException",
            SigV4Error::Incomplete(_) | SigV4Error::PresignedNotSupported => {
                "IncompleteSignatureException"
            }
            SigV4Error::SignatureMismatch
            | SigV4Error::Scope(_)
            | SigV4Error::PayloadHash
            | SigV4Error::Expired { .. } => "InvalidSignatureException",
            SigV4Error::UnknownAccessKey | SigV4Error::InvalidSessionToken => {
                "UnrecognizedClientException"
            }
            SigV4Error::ExpiredSessionToken => "ExpiredTokenException",
        }
    }

    /// The error `Code` of STS's query protocol, which names them without "Exception".
    pub fn sts_code(&self) -> &'static str {
        match self {
            SigV4Error::MissingAuthentication => "MissingAuthenticationToken",
            SigV4Error::Incomplete(_) | SigV4Error::PresignedNotSupported => "IncompleteSignature",
            SigV4Error::SignatureMismatch
            | SigV4Error::Scope(_)
            | SigV4Error::PayloadHash
            | SigV4Error::Expired { .. } => "SignatureDoesNotMatch",
            SigV4Error::UnknownAccessKey | SigV4Error::InvalidSessionToken => {
                "InvalidClientTokenId"
            }
            SigV4Error::ExpiredSessionToken => "ExpiredToken",
        }
    }

    /// The HTTP status AWS answers with (STS and the JSON services agree: 403 for a
    /// missing token, a bad signature or an unknown key, 400 for a malformed or expired
    /// one).
    pub fn status(&self) -> u16 {
        match self {
            SigV4Error::MissingAuthentication
            | SigV4Error::SignatureMismatch
            | SigV4Error::Scope(_)
            | SigV4Error::PayloadHash
            | SigV4Error::Expired { .. }
            | SigV4Error::UnknownAccessKey
            | SigV4Error::InvalidSessionToken => 403,
            SigV4Error::Incomplete(_)
            | SigV4Error::PresignedNotSupported
            | SigV4Error::ExpiredSessionToken => 400,
        }
    }
}

fn incomplete(message: &str) -> SigV4Error {
    SigV4Error::Incomplete(message.to_string())
}

/// Whether the query string is a presigned request's.
fn is_presigned(query: &str) -> bool {
    url::form_urlencoded::parse(query.as_bytes()).any(|(k, _)| {
        k.eq_ignore_ascii_case("X-Amz-Algorithm")
            || k.eq_ignore_ascii_case("X-Amz-Credential")
            || k.eq_ignore_ascii_case("X-Amz-Signature")
    })
}

/// Reads the `Authorization` header, `x-amz-date` and the session token. Checks their
/// form only; [`verify`] checks what they say.
pub fn parse_authorization(req: &Request<'_>) -> Result<SignedParts, SigV4Error> {
    if is_presigned(req.query) {
        return Err(SigV4Error::PresignedNotSupported);
    }
    let Some(header) = req.single("authorization")? else {
        return Err(SigV4Error::MissingAuthentication);
    };
    let Some(rest) = header
        .strip_prefix(ALGORITHM)
        .and_then(|r| r.strip_prefix(' '))
    else {
        return Err(incomplete(
            "Unsupported AWS 'algorithm': the Authorization header must start with AWS4-HMAC-SHA256.",
        ));
    };
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, value) = part.split_once('=').ok_or_else(|| {
            incomplete("Authorization header requires each component to be name=value.")
        })?;
        let slot = match name {
            "Credential" => &mut credential,
            "SignedHeaders" => &mut signed,
            "Signature" => &mut signature,
            _ => {
                return Err(incomplete(
                    "Authorization header holds an unknown component.",
                ))
            }
        };
        if slot.replace(value).is_some() {
            return Err(incomplete("Authorization header repeats a component."));
        }
    }
    let credential = credential
        .ok_or_else(|| incomplete("Authorization header requires 'Credential' parameter."))?;
    let signed = signed
        .ok_or_else(|| incomplete("Authorization header requires 'SignedHeaders' parameter."))?;
    let signature = signature
        .ok_or_else(|| incomplete("Authorization header requires 'Signature' parameter."))?;

    let scope: Vec<&str> = credential.split('/').collect();
    let [akid, date, region, service, terminator] = scope[..] else {
        return Err(incomplete(
            "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/aws4_request.",
        ));
    };
    if akid.is_empty()
        || akid.len() > 128
        || date.len() != 8
        || !date.bytes().all(|b| b.is_ascii_digit())
        || region.is_empty()
        || service.is_empty()
        || terminator != "aws4_request"
    {
        return Err(incomplete(
            "Credential must be keyid/yyyymmdd/region/service/aws4_request.",
        ));
    }
    let signed_headers: Vec<String> = signed.split(';').map(str::to_string).collect();
    let well_formed = signed_headers.iter().all(|h| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase())
    }) && signed_headers.windows(2).all(|w| w[0] < w[1]);
    if !well_formed {
        return Err(incomplete(
            "SignedHeaders must be lowercase header names, sorted, separated by ';'.",
        ));
    }
    if signature.len() != 64
        || !signature
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(incomplete("Signature must be 64 lowercase hex digits."));
    }
    let amz_date = req.single("x-amz-date")?.ok_or_else(|| {
        incomplete("Authorization header requires existence of a 'X-Amz-Date' header.")
    })?;
    if parse_amz_date(amz_date).is_none() {
        return Err(incomplete(
            "X-Amz-Date must be in the ISO 8601 basic format yyyyMMdd'T'HHmmss'Z'.",
        ));
    }
    let session_token = req.single(SESSION_TOKEN_HEADER)?.map(str::to_string);
    Ok(SignedParts {
        access_key_id: akid.to_string(),
        scope_date: date.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        signed_headers,
        signature: signature.to_string(),
        amz_date: amz_date.to_string(),
        session_token,
    })
}

/// `yyyymmddThhmmssZ` as Unix time.
fn parse_amz_date(text: &str) -> Option<UnixTime> {
    if text.len() != 16 || !text.is_ascii() {
        return None;
    }
    chrono::NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%SZ")
        .ok()
        .map(|t| t.and_utc().timestamp())
}

/// Checks the request against the claims of `parts` and the `secret` of its access key:
/// the required signed headers, the payload hash, the scope (date, region, service), the
/// time within [`MAX_SKEW_SECS`] of `now`, and then the signature itself, compared in
/// constant time. The session token's validity is the caller's to check (its record is
/// not this module's); here it must only be signed.
pub fn verify(
    req: &Request<'_>,
    parts: &SignedParts,
    secret: &[u8],
    expect: &Expectation<'_>,
    now: UnixTime,
) -> Result<(), SigV4Error> {
    let payload_hash = hex(digest::digest(&digest::SHA256, req.body).as_ref());
    verify_hashed(req, parts, &payload_hash, secret, expect, now)
}

/// The AWS JSON 1.1 protocol's action header.
const TARGET_HEADER: &str = "x-amz-target";

/// [`verify`] for a request whose body the verifier does not hold, only its hex SHA-256
/// (`payload_hash`, lowercase): the authorization check, to which a resource server may
/// forward the hash instead of the body. `req.body` is not read.
pub fn verify_hashed(
    req: &Request<'_>,
    parts: &SignedParts,
    payload_hash: &str,
    secret: &[u8],
    expect: &Expectation<'_>,
    now: UnixTime,
) -> Result<(), SigV4Error> {
    let signs = |name: &str| parts.signed_headers.iter().any(|h| h == name);
    for required in ["host", "x-amz-date"] {
        if !signs(required) {
            return Err(SigV4Error::Incomplete(format!(
                "Signed headers must include '{required}'."
            )));
        }
    }
    if parts.session_token.is_some() && !signs(SESSION_TOKEN_HEADER) {
        return Err(incomplete(
            "Signed headers must include 'x-amz-security-token' when a session token is sent.",
        ));
    }
    // The target names the action (AWS JSON 1.1): unsigned, a captured DescribeIdentityPool
    // could be replayed as DeleteIdentityPool with the same body and signature. The AWS
    // SDKs sign it; a client that does not is refused.
    if req.values(TARGET_HEADER).next().is_some() && !signs(TARGET_HEADER) {
        return Err(incomplete(
            "Signed headers must include 'x-amz-target' when it is sent.",
        ));
    }
    for name in &parts.signed_headers {
        if req.values(name).next().is_none() {
            return Err(SigV4Error::Incomplete(format!(
                "The signed header '{name}' is not in the request."
            )));
        }
    }
    if let Some(sent) = req.single("x-amz-content-sha256")? {
        // UNSIGNED-PAYLOAD and STREAMING-* are not hashes, so they never match.
        if sent != payload_hash {
            return Err(SigV4Error::PayloadHash);
        }
    }
    if !parts.amz_date.starts_with(&parts.scope_date) {
        return Err(SigV4Error::Scope(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP."
                .into(),
        ));
    }
    if parts.region != expect.region {
        return Err(SigV4Error::Scope(
            "Credential should be scoped to a valid region.".into(),
        ));
    }
    if !expect.services.contains(&parts.service.as_str()) {
        return Err(SigV4Error::Scope(
            "Credential should be scoped to correct service.".into(),
        ));
    }
    let at = parse_amz_date(&parts.amz_date)
        .ok_or_else(|| incomplete("X-Amz-Date is not a valid date."))?;
    if (now - at).abs() > MAX_SKEW_SECS {
        return Err(SigV4Error::Expired {
            amz_date: parts.amz_date.clone(),
        });
    }
    let canonical = canonical_request(req, &parts.signed_headers, payload_hash);
    let expected = signature(secret, parts, &canonical);
    if constant_time_eq(expected.as_bytes(), parts.signature.as_bytes()) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureMismatch)
    }
}

/// The canonical request (AWS: "Create a canonical request").
pub fn canonical_request(
    req: &Request<'_>,
    signed_headers: &[String],
    payload_hash: &str,
) -> String {
    let mut out = String::with_capacity(256);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_uri(req.path));
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    for name in signed_headers {
        let values: Vec<String> = req.values(name).map(trim_all).collect();
        out.push_str(name);
        out.push(':');
        out.push_str(&values.join(","));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed_headers.join(";"));
    out.push('\n');
    out.push_str(payload_hash);
    out
}

/// The raw path normalized (no `.`/`..`/empty segments) and encoded once more.
fn canonical_uri(path: &str) -> String {
    let normalized = if path.is_empty() {
        "/".to_string()
    } else if path.contains('.') || path.contains("//") || !path.starts_with('/') {
        let mut segments: Vec<&str> = Vec::new();
        for segment in path.split('/') {
            match segment {
                "" | "." => {}
                ".." => {
                    segments.pop();
                }
                s => segments.push(s),
            }
        }
        let mut out = format!("/{}", segments.join("/"));
        let ends_with_slash = ["/", "/.", "/./", "/..", "/../"]
            .iter()
            .any(|s| path.ends_with(s));
        if ends_with_slash && !out.ends_with('/') {
            out.push('/');
        }
        out
    } else {
        path.to_string()
    };
    utf8_percent_encode(&normalized, PATH).to_string()
}

/// The query's pairs decoded, encoded canonically, sorted, joined.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| {
            (
                utf8_percent_encode(&k, UNRESERVED).to_string(),
                utf8_percent_encode(&v, UNRESERVED).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Trims spaces and collapses runs of spaces to one (spaces only, as aws-sigv4 does).
fn trim_all(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut last_space = false;
    for c in value.trim_matches(' ').chars() {
        if c == ' ' {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out
}

/// The hex signature of the canonical request under the key derived from `secret`.
fn signature(secret: &[u8], parts: &SignedParts, canonical: &str) -> String {
    let scope = format!(
        "{}/{}/{}/aws4_request",
        parts.scope_date, parts.region, parts.service
    );
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{scope}\n{}",
        parts.amz_date,
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let mut k_secret = b"AWS4".to_vec();
    k_secret.extend_from_slice(secret);
    let mut key = mac(&k_secret, parts.scope_date.as_bytes());
    for step in [
        parts.region.as_bytes(),
        parts.service.as_bytes(),
        b"aws4_request",
    ] {
        key = mac(&key, step);
    }
    hex(&mac(&key, string_to_sign.as_bytes()))
}

fn mac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    hmac::sign(&key, data).as_ref().to_vec()
}

/// Lowercase hex of `bytes` (payload hashes, signatures).
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests;
