//! Cognito-shaped tokens. ID and access tokens are RS256 JWTs signed with the pool's two
//! keys (different `kid`s, as Cognito's); refresh tokens are opaque random strings stored
//! only as hashes.
//!
//! Claims follow Cognito's captured tokens (see `shared/reference/cognito.md`): the access
//! token carries `client_id` and no `aud`, `username`, `scope`, `token_use`, `version`; the
//! ID token carries `aud`, `cognito:username`, groups and roles, readable attributes,
//! `identities` for federated users; both carry `auth_time` (kept across refresh) and
//! `origin_jti` (the token family, unchanged across refresh).

use serde_json::{json, Map, Value};

use super::OAuthError;
use crate::core::keys::KeyService;
use crate::core::model::{AppClient, Group, KeyPurpose, User};
use crate::core::secrets::{redacted, REDACTED};
use crate::core::triggers::pre_token::TokenOverrides;
use crate::core::UnixTime;

/// What tokens are about.
pub struct TokenSubject<'a> {
    pub user: &'a User,
    /// The user's groups, by precedence (lowest first).
    pub groups: &'a [Group],
}

/// Everything needed to issue one set of tokens.
pub struct TokenRequest<'a> {
    pub issuer: &'a str,
    pub pool_id: &'a str,
    pub client: &'a AppClient,
    /// `None` for client credentials (the client is the subject).
    pub subject: Option<TokenSubject<'a>>,
    pub scopes: &'a [String],
    pub auth_time: UnixTime,
    pub origin_jti: &'a str,
    pub nonce: Option<&'a str>,
    /// Add `at_hash` (OIDC Core 3.1.3.6) to the ID token.
    pub with_at_hash: bool,
    /// Issue the ID token whatever the scopes: the user pools API's sign-in always
    /// answers with one, though its access token's scope is only
    /// `aws.cognito.signin.user.admin` (issue 14).
    pub id_token_always: bool,
    /// The pre token generation trigger's changes ([`crate::core::triggers::pre_token`]).
    pub overrides: Option<&'a TokenOverrides>,
}

/// Signed ID and access tokens.
#[derive(Clone)]
pub struct SignedTokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub expires_in: i64,
}

impl std::fmt::Debug for SignedTokens {
    /// Leaves out the tokens: they are bearer credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedTokens")
            .field("access_token", &REDACTED)
            .field("id_token", &redacted(&self.id_token))
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Issues the access token and, for a user with the `openid` scope, the ID token.
pub async fn sign_tokens(
    keys: &KeyService,
    req: &TokenRequest<'_>,
    now: UnixTime,
) -> Result<SignedTokens, OAuthError> {
    let validity = req.client.token_validity;
    let mut access_claims = access_claims(req, now, now + validity.access_token_secs);
    if let (Some(o), Value::Object(claims)) = (req.overrides, &mut access_claims) {
        o.apply_access(claims);
    }
    let access_signer = keys
        .signer(req.pool_id, KeyPurpose::AccessToken, now)
        .await?;
    let access_token = access_signer.sign(&access_claims)?;
    let id_token = match &req.subject {
        Some(subject) if req.id_token_always || req.scopes.iter().any(|s| s == "openid") => {
            let mut claims = id_claims(req, subject, now, now + validity.id_token_secs);
            if let Some(o) = req.overrides {
                o.apply_id(&mut claims);
            }
            if req.with_at_hash {
                claims.insert("at_hash".into(), Value::String(at_hash(&access_token)));
            }
            let signer = keys.signer(req.pool_id, KeyPurpose::IdToken, now).await?;
            Some(signer.sign(&Value::Object(claims))?)
        }
        _ => None,
    };
    Ok(SignedTokens {
        access_token,
        id_token,
        expires_in: validity.access_token_secs,
    })
}

fn group_names(groups: &[Group]) -> Vec<&str> {
    groups.iter().map(|g| g.name.as_str()).collect()
}

fn access_claims(req: &TokenRequest<'_>, now: UnixTime, exp: UnixTime) -> Value {
    let mut c = Map::new();
    match &req.subject {
        Some(subject) => {
            c.insert("sub".into(), json!(subject.user.sub));
            if !subject.groups.is_empty() {
                c.insert("cognito:groups".into(), json!(group_names(subject.groups)));
            }
            c.insert("username".into(), json!(subject.user.username));
        }
        // Client credentials: the client is the subject, and there is no username.
        None => {
            c.insert("sub".into(), json!(req.client.id));
        }
    }
    c.insert("iss".into(), json!(req.issuer));
    c.insert("version".into(), json!(2));
    c.insert("client_id".into(), json!(req.client.id));
    c.insert("origin_jti".into(), json!(req.origin_jti));
    c.insert("token_use".into(), json!("access"));
    c.insert("scope".into(), json!(req.scopes.join(" ")));
    c.insert("auth_time".into(), json!(req.auth_time));
    c.insert("exp".into(), json!(exp));
    c.insert("iat".into(), json!(now));
    c.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    Value::Object(c)
}

fn id_claims(
    req: &TokenRequest<'_>,
    subject: &TokenSubject<'_>,
    now: UnixTime,
    exp: UnixTime,
) -> Map<String, Value> {
    let user = subject.user;
    let mut c = Map::new();
    c.insert("sub".into(), json!(user.sub));
    if !subject.groups.is_empty() {
        c.insert("cognito:groups".into(), json!(group_names(subject.groups)));
        let roles: Vec<&str> = subject
            .groups
            .iter()
            .filter_map(|g| g.role_arn.as_deref())
            .collect();
        if !roles.is_empty() {
            c.insert("cognito:roles".into(), json!(roles));
        }
        // The role of the group with the lowest precedence (groups arrive sorted).
        if let Some(role) = subject.groups.iter().find_map(|g| g.role_arn.as_deref()) {
            c.insert("cognito:preferred_role".into(), json!(role));
        }
    }
    for (name, value) in readable_attributes(req.client, user) {
        c.insert(name, value);
    }
    if !user.identities.is_empty() {
        c.insert("identities".into(), identities_claim(user));
    }
    c.insert("iss".into(), json!(req.issuer));
    c.insert("cognito:username".into(), json!(user.username));
    c.insert("origin_jti".into(), json!(req.origin_jti));
    c.insert("aud".into(), json!(req.client.id));
    c.insert("token_use".into(), json!("id"));
    c.insert("auth_time".into(), json!(req.auth_time));
    c.insert("exp".into(), json!(exp));
    c.insert("iat".into(), json!(now));
    c.insert("jti".into(), json!(uuid::Uuid::new_v4().to_string()));
    if let Some(nonce) = req.nonce {
        c.insert("nonce".into(), json!(nonce));
    }
    c
}

/// The user's attributes the client may read, typed as Cognito's ID tokens type them:
/// `*_verified` as booleans, `updated_at` as a number, everything else (custom attributes
/// included) as strings.
pub fn readable_attributes(client: &AppClient, user: &User) -> Vec<(String, Value)> {
    user.attributes
        .iter()
        .filter(|(name, _)| {
            client.read_attributes.is_empty() || client.read_attributes.contains(name)
        })
        .map(|(name, value)| (name.clone(), typed_value(name, value)))
        .collect()
}

/// OIDC Core section 5.1 types for the standard claims that are not strings.
pub fn typed_value(name: &str, value: &str) -> Value {
    match name {
        "email_verified" | "phone_number_verified" => Value::Bool(value == "true"),
        "updated_at" => value
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::String(value.to_string())),
        _ => Value::String(value.to_string()),
    }
}

/// Cognito's `identities` claim: one object per linked IdP, `dateCreated` in epoch
/// milliseconds as a string, `issuer` null for social providers.
pub fn identities_claim(user: &User) -> Value {
    Value::Array(
        user.identities
            .iter()
            .enumerate()
            .map(|(i, id)| {
                json!({
                    "userId": id.user_id,
                    "providerName": id.provider_name,
                    "providerType": id.provider_type,
                    "issuer": id.issuer,
                    "primary": if i == 0 { "true" } else { "false" },
                    "dateCreated": (id.linked_at * 1000).to_string(),
                })
            })
            .collect(),
    )
}

/// OIDC Core 3.1.3.6: base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest.as_ref()[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_tokens() {
        let tokens = SignedTokens {
            access_token: "access-token-value".into(),
            id_token: Some("id-token-value".into()),
            expires_in: 3600,
        };
        let text = format!("{tokens:?}");
        assert!(!text.contains("access-token-value"), "{text}");
        assert!(!text.contains("id-token-value"), "{text}");
        assert!(text.contains("3600"), "{text}");
    }
}
