//! Cookies of the hosted UI. All are HttpOnly and SameSite=Lax, and Secure when the public
//! URL is https. Values that must not be forged are signed with a key derived from the
//! master key, so every node accepts every other node's cookies.
//!
//! On an https public URL the browser and session cookies are named with the `__Host-`
//! prefix ([`name`]): a browser keeps such a cookie only if it was set Secure, with
//! `Path=/` and no `Domain` (RFC 6265bis section 4.1.3.2), so neither a sibling subdomain
//! nor a plain-http page can plant or overwrite it. On a plain-http public URL (loopback
//! development) the plain names are kept, as browsers refuse `__Host-` without Secure.

use axum::http::{header, HeaderMap, HeaderValue};

use crate::core::secrets::{random_token, MasterKey};

/// Binds a login flow to the browser that started it (signed: only a value this server
/// issued is adopted, so an attacker cannot plant his own and bind the victim's browser to
/// his flow, a login CSRF). The base name; [`name`] gives the one sent.
pub const BROWSER: &str = "cognate_browser";

/// The name a cookie is sent under: `__Host-<base>` when cookies are Secure (the public
/// URL is https), else `base`. Signatures are made over the base name, so one value is
/// valid under either.
pub fn name(base: &str, secure: bool) -> String {
    if secure {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// This browser's binding value, if its cookie carries one this server (any node) issued.
/// A planted or forged value reads as no cookie.
pub fn browser(headers: &HeaderMap, master: &MasterKey, secure: bool) -> Option<String> {
    let signed = get(headers, &name(BROWSER, secure))?;
    master.verify_cookie(BROWSER, &signed)
}

/// A fresh binding value and the `Set-Cookie` that gives it to the browser, signed.
pub fn issue_browser(master: &MasterKey, secure: bool) -> (String, HeaderValue) {
    let value = random_token::<32>();
    let cookie = set(
        &name(BROWSER, secure),
        &master.sign_cookie(BROWSER, &value),
        "/",
        None,
        secure,
    );
    (value, cookie)
}

/// The hosted-UI session of one pool (signed; the base name, see [`name`]):
/// `cognate_session_<poolId>`, so sessions
/// in several pools live side by side in one browser and signing out of one leaves the
/// others.
pub fn session(pool_id: &str) -> String {
    format!("cognate_session_{pool_id}")
}
/// The long-lived device cookie (threat protection's `new_device` signal): a random id
/// that only names this browser; the auth event log keeps a hash of it with the pool id.
/// Not signed: a forged value is only an unknown device.
pub const DEVICE: &str = "cognate_device";
/// How long the device cookie lives: 400 days, the most RFC 6265bis (section 5.5) lets a
/// browser keep a cookie.
pub const DEVICE_MAX_AGE_SECS: i64 = 400 * 86_400;

/// This browser's device id, if it has one that looks like ours.
pub fn device(headers: &HeaderMap, secure: bool) -> Option<String> {
    get(headers, &name(DEVICE, secure)).filter(|v| {
        (16..=64).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// A fresh device cookie.
pub fn issue_device(secure: bool) -> HeaderValue {
    set(
        &name(DEVICE, secure),
        &random_token::<32>(),
        "/",
        Some(DEVICE_MAX_AGE_SECS),
        secure,
    )
}

/// The demo page's state and PKCE verifier (signed).
pub const DEMO: &str = "cognate_demo";

/// Reads a cookie from the request.
pub fn get(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// A `Set-Cookie` value. `max_age` None makes a browser-session cookie; Some(0) deletes.
pub fn set(name: &str, value: &str, path: &str, max_age: Option<i64>, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Deletes a cookie.
pub fn clear(name: &str, path: &str, secure: bool) -> HeaderValue {
    set(name, "", path, Some(0), secure)
}
