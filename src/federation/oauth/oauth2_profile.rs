//! The plain OAuth 2.0 + profile API protocol (Facebook Login, Login with Amazon): no ID
//! token, so the user is whoever the provider's profile API says the access token
//! belongs to. The code exchange is the shared one of [`super::protocol`]; this module makes
//! the profile call and reads its answer.
//!
//! Facebook (quirk `facebook_appsecret_proof`): Graph `/me?fields=..` with the access
//! token and `appsecret_proof` as query parameters ("Securing Graph API Requests");
//! errors come as `{"error":{"message","type","code","fbtrace_id"}}`. Amazon:
//! `GET /user/profile` with `Authorization: Bearer` (Login with Amazon, "Obtain Customer
//! Profile Information").

use serde_json::Value;

use super::facebook::appsecret_proof;
use crate::core::model::{IdentityProvider, OAuth2Settings, Quirk};
use crate::core::secrets::SecretString;
use crate::federation::error::FederationError;
use crate::federation::http::{HttpError, IdpHttp};

/// The user's profile, as the provider's profile API returns it (a JSON object).
pub async fn profile(
    http: &IdpHttp,
    provider: &IdentityProvider,
    settings: &OAuth2Settings,
    access_token: &str,
    client_secret: Option<&SecretString>,
) -> Result<Value, FederationError> {
    let declared =
        settings
            .endpoints
            .profile
            .as_deref()
            .ok_or_else(|| FederationError::MissingEndpoint {
                provider: provider.name.clone(),
                what: "profile endpoint",
            })?;
    let mut url = url::Url::parse(declared).map_err(|_| FederationError::MissingEndpoint {
        provider: provider.name.clone(),
        what: "valid profile endpoint",
    })?;
    let token = SecretString::new(access_token.to_string());
    let answer = if provider.has_quirk(Quirk::FacebookAppsecretProof) {
        let secret = client_secret.ok_or(FederationError::Secret)?;
        url.query_pairs_mut()
            .append_pair("access_token", access_token)
            .append_pair("appsecret_proof", &appsecret_proof(secret, access_token));
        http.get_json(url.as_str(), None).await
    } else {
        http.get_json(url.as_str(), Some(&token)).await
    };
    let profile = answer.map_err(|e| match graph_error(&e) {
        Some(message) => FederationError::Profile(message),
        None => FederationError::Http(e),
    })?;
    if !profile.is_object() {
        return Err(FederationError::Profile(
            "the profile is not a JSON object".to_string(),
        ));
    }
    if let Some(message) = graph_error_of(&profile) {
        // Graph has been seen to wrap errors in a 200.
        return Err(FederationError::Profile(message));
    }
    Ok(profile)
}

/// The message of a Graph API error answer (any status).
fn graph_error(error: &HttpError) -> Option<String> {
    match error {
        HttpError::Status {
            body: Some(body), ..
        } => graph_error_of(body),
        _ => None,
    }
}

/// `{"error":{"message","type","code","fbtrace_id"}}` as one line for the log (the
/// browser only sees a generic page).
fn graph_error_of(body: &Value) -> Option<String> {
    let error = body.get("error")?;
    let field = |name: &str| {
        error
            .get(name)
            .map(|v| match v {
                Value::String(s) => s.chars().take(200).collect(),
                other => other.to_string(),
            })
            .unwrap_or_default()
    };
    if !error.is_object() {
        return Some(format!(
            "error {}",
            error.to_string().chars().take(200).collect::<String>()
        ));
    }
    Some(format!(
        "{} (type {}, code {}, fbtrace_id {})",
        field("message"),
        field("type"),
        field("code"),
        field("fbtrace_id")
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn graph_errors_are_read_in_their_documented_shape() {
        let body = json!({"error": {"message": "Invalid appsecret_proof provided in the API argument",
            "type": "GraphMethodException", "code": 100, "fbtrace_id": "AbC"}});
        let message = graph_error_of(&body).unwrap();
        assert!(message.contains("Invalid appsecret_proof"), "{message}");
        assert!(message.contains("GraphMethodException") && message.contains("100"));
        assert!(graph_error_of(&json!({"id": "1"})).is_none());
        let status = HttpError::Status {
            url: "u".into(),
            status: 400,
            body: Some(body),
        };
        assert!(graph_error(&status).is_some());
    }
}
