//! Cookies of the hosted UI. All are HttpOnly and SameSite=Lax, and Secure when the public
//! URL is https. Values that must not be forged are signed with a key derived from the
//! master key, so every node accepts every other node's cookies.

use axum::http::{header, HeaderMap, HeaderValue};

/// Binds a login flow to the browser that started it.
pub const BROWSER: &str = "cognate_browser";
/// The hosted-UI session of one pool (signed): `cognate_session_<poolId>`, so sessions
/// in several pools live side by side in one browser and signing out of one leaves the
/// others.
pub fn session(pool_id: &str) -> String {
    format!("cognate_session_{pool_id}")
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
