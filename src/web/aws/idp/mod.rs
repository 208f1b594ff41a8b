//! The user pools API (`cognito-idp`, target prefix `AWSCognitoIdentityProviderService`),
//! issue 14: sign-up and the account flows ([`user`]), sign-in with its challenges
//! ([`auth`]), administration of users ([`admin`]) and groups ([`groups`]), and ListUsers
//! ([`list`]).
//!
//! Every handler is a thin edge: it reads Cognito's input shape, calls a core service (the
//! account service, the sign-in operation, the MFA core, the directory, the administration
//! service) and renders Cognito's output or exception. No rule lives here that the hosted
//! UI does not share: limits, codes and checks are the core's.
//!
//! This module holds what the handlers share: reading parameters ([`required`],
//! [`optional`], [`attributes_in`]), finding the pool and the client
//! ([`pool`], [`client_of`]), the SECRET_HASH check ([`check_secret_hash`]), the
//! access-token check of the end-user actions ([`access_token_user`]), and rendering users
//! ([`attributes_out`], [`user_type`]) and errors ([`account_error`], [`sign_in_error`],
//! [`directory_error`]).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{AwsCall, AwsError};
use crate::core::account::AccountError;
use crate::core::admin::{AdminError, RecordKind, Rule};
use crate::core::directory::DirectoryError;
use crate::core::model::{AppClient, User, UserPool};
use crate::core::signin::SignInError;
use crate::web::cognito_errors::{account_error_type, sign_in_error_type};
use crate::web::AppState;

pub mod admin;
pub mod auth;
pub mod clients;
pub mod domains;
pub mod events;
pub mod groups;
pub mod list;
pub mod mfa;
pub mod passkeys;
pub mod pools;
pub mod providers;
pub mod resource_servers;
pub mod user;

/// `InvalidParameterException` with `message`.
pub fn invalid(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("InvalidParameterException", message)
}

/// `ResourceNotFoundException` with `message`.
pub fn not_found(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("ResourceNotFoundException", message)
}

/// `NotAuthorizedException` with `message`.
pub fn not_authorized(message: impl Into<String>) -> AwsError {
    AwsError::bad_request("NotAuthorizedException", message)
}

/// A required, non-empty string member (`InvalidParameterException` naming the field
/// when it is missing or not a string).
pub fn required<'a>(input: &'a Value, name: &str) -> Result<&'a str, AwsError> {
    match input.get(name) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        None | Some(Value::Null) => Err(invalid(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(name)
        ))),
        Some(Value::String(_)) => Err(invalid(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have length greater than or equal to 1",
            lower_first(name)
        ))),
        _ => Err(invalid(format!("{name} must be a string."))),
    }
}

/// An optional string member (absent or null is `None`).
pub fn optional<'a>(input: &'a Value, name: &str) -> Result<Option<&'a str>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        _ => Err(invalid(format!("{name} must be a string."))),
    }
}

/// An optional boolean member.
pub fn optional_bool(input: &Value, name: &str) -> Result<Option<bool>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        _ => Err(invalid(format!("{name} must be a boolean."))),
    }
}

/// An optional integer member within `range`.
pub fn optional_int(
    input: &Value,
    name: &str,
    range: std::ops::RangeInclusive<i64>,
) -> Result<Option<i64>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(v) if range.contains(&v) => Ok(Some(v)),
            _ => Err(invalid(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must have value between {} and {}",
                lower_first(name),
                range.start(),
                range.end()
            ))),
        },
        _ => Err(invalid(format!("{name} must be a number."))),
    }
}

/// An optional map of strings (`ClientMetadata`, `AuthParameters`, `ChallengeResponses`):
/// absent is empty.
pub fn string_map(input: &Value, name: &str) -> Result<BTreeMap<String, String>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(invalid(format!("{name} values must be strings."))),
            })
            .collect(),
        Some(_) => Err(invalid(format!("{name} must be a map of strings."))),
    }
}

/// The most a request's `ClientMetadata` may hold, keys and values together, in bytes:
/// it travels in every trigger event of the call, and a webhook's answer (the event
/// echoed back) must fit the triggers' answer cap.
pub const MAX_CLIENT_METADATA_BYTES: usize = 64 * 1024;

/// A request's `ClientMetadata` (absent is empty), bounded by
/// [`MAX_CLIENT_METADATA_BYTES`].
pub fn client_metadata(input: &Value) -> Result<BTreeMap<String, String>, AwsError> {
    let map = string_map(input, "ClientMetadata")?;
    let size: usize = map.iter().map(|(k, v)| k.len() + v.len()).sum();
    if size > MAX_CLIENT_METADATA_BYTES {
        return Err(invalid(format!(
            "ClientMetadata holds {size} bytes of keys and values; at most {MAX_CLIENT_METADATA_BYTES} are accepted."
        )));
    }
    Ok(map)
}

/// An optional list of strings (absent is empty).
pub fn string_list(input: &Value, name: &str) -> Result<Vec<String>, AwsError> {
    match input.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(invalid(format!("{name} must be a list of strings."))),
            })
            .collect(),
        Some(_) => Err(invalid(format!("{name} must be a list of strings."))),
    }
}

/// Cognito's `AttributeType` list (`[{"Name": "email", "Value": "a@b.c"}]`) as a map;
/// `required` makes an absent list an error naming `name`. A repeated name is refused.
pub fn attributes_in(
    input: &Value,
    name: &str,
    required_list: bool,
) -> Result<BTreeMap<String, String>, AwsError> {
    let items = match input.get(name) {
        None | Some(Value::Null) if required_list => {
            return Err(invalid(format!(
                "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must not be null",
                lower_first(name)
            )))
        }
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid(format!("{name} must be a list of attributes."))),
    };
    let mut out = BTreeMap::new();
    for item in items {
        let attr_name = match item.get("Name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(invalid(format!("{name}: every attribute needs a Name."))),
        };
        let value = match item.get("Value") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(_) => {
                return Err(invalid(format!(
                    "{name}: {attr_name}'s Value must be a string."
                )))
            }
        };
        if out.insert(attr_name.clone(), value).is_some() {
            return Err(invalid(format!("{name}: {attr_name} is given twice.")));
        }
    }
    Ok(out)
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The pool named by a `UserPoolId` (`ResourceNotFoundException` if there is none).
pub async fn pool(state: &AppState, call: &AwsCall, id: &str) -> Result<UserPool, AwsError> {
    match state.node.store.get_pool(id).await {
        Ok(Some(pool)) => Ok(pool),
        Ok(None) => Err(not_found(format!("User pool {id} does not exist."))),
        Err(e) => Err(AwsError::internal(call.protocol, e)),
    }
}

/// The app client named by a `ClientId`, with its pool (`ResourceNotFoundException` if
/// there is none).
pub async fn client_of(
    state: &AppState,
    call: &AwsCall,
    client_id: &str,
) -> Result<(UserPool, AppClient), AwsError> {
    let client = match state.node.store.get_client(client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => {
            return Err(not_found(format!(
                "User pool client {client_id} does not exist."
            )))
        }
        Err(e) => return Err(AwsError::internal(call.protocol, e)),
    };
    let pool = pool(state, call, &client.pool_id).await?;
    Ok((pool, client))
}

/// The app client named by `ClientId` that must belong to the pool `UserPoolId` (the
/// admin actions name both).
pub async fn pool_client(
    state: &AppState,
    call: &AwsCall,
    pool_id: &str,
    client_id: &str,
) -> Result<(UserPool, AppClient), AwsError> {
    let (pool, client) = client_of(state, call, client_id).await?;
    if pool.id != pool_id {
        return Err(not_found(format!(
            "User pool client {client_id} does not exist."
        )));
    }
    Ok((pool, client))
}

/// Checks Cognito's `SECRET_HASH` (`base64(HMAC-SHA256(client secret, username ||
/// client id))`) for a client with a secret, in constant time. A client without a secret
/// ignores it, as Cognito does. A missing or wrong hash is `NotAuthorizedException`
/// ("Client <id> is configured with secret but SECRET_HASH was not received" / "Unable to
/// verify secret hash for client <id>").
pub fn check_secret_hash(
    state: &AppState,
    client: &AppClient,
    username: &str,
    secret_hash: Option<&str>,
) -> Result<(), AwsError> {
    check_secret_hash_any(state, client, &[username], secret_hash)
}

/// [`check_secret_hash`] over several names the hash may be computed with (a refresh
/// token's user: Cognito clients hash the username or the sub).
pub fn check_secret_hash_any(
    state: &AppState,
    client: &AppClient,
    usernames: &[&str],
    secret_hash: Option<&str>,
) -> Result<(), AwsError> {
    use crate::core::oauth::client_auth::{self, SecretHashError};
    match client_auth::check_secret_hash(&state.node.master, client, usernames, secret_hash) {
        Ok(()) => Ok(()),
        Err(SecretHashError::Internal(detail)) => {
            Err(AwsError::internal(super::Protocol::Json, detail))
        }
        Err(e) => Err(not_authorized(e.to_string())),
    }
}

/// The user an end-user action's `AccessToken` stands for.
#[derive(Debug, Clone)]
pub struct TokenUser {
    pub pool: UserPool,
    pub client: AppClient,
    pub user: User,
    /// The token's `origin_jti` (its family), `jti`, `iat`, scopes.
    pub claims: crate::core::oauth::verify::AccessClaims,
}

/// Checks an end-user action's `AccessToken`: a user access token of this deployment
/// (signature, issuer, expiry, `token_use = access`) carrying
/// `aws.cognito.signin.user.admin`, whose family is not revoked and whose user was not
/// signed out since it was issued, of a user that exists and is enabled. An ID token, a
/// client-credentials token or anything else is `NotAuthorizedException` ("Invalid Access
/// Token" / "Access Token has been revoked" / "Access Token does not have required
/// scopes" / "User is disabled.").
pub async fn access_token_user(
    state: &AppState,
    call: &AwsCall,
    token: &str,
) -> Result<TokenUser, AwsError> {
    use crate::core::oauth::verify::{verify_access_token, EXPIRED, REVOKED};
    use crate::core::oauth::ErrorCode;
    use crate::core::storage::UserRef;

    // verify_access_token checks the signature, issuer, expiry, `token_use`, the family
    // (TokenService::is_family_revoked) and the user's last sign-out
    // (is_signed_out_since); Cognito names the revoked and expired cases apart.
    let (pool_id, claims) = match verify_access_token(&state.node.tokens, token, call.now).await {
        Ok(found) => found,
        Err(e) => {
            return Err(match e.code {
                ErrorCode::InvalidToken if e.description == REVOKED => {
                    not_authorized("Access Token has been revoked")
                }
                ErrorCode::InvalidToken if e.description == EXPIRED => {
                    not_authorized("Access Token has expired")
                }
                ErrorCode::InvalidToken => not_authorized("Invalid Access Token"),
                // The store or the keys failed: the detail was logged where it was made.
                _ => AwsError::internal(call.protocol, e),
            });
        }
    };
    // A client-credentials token (no user) cannot carry this scope: Cognito grants it only
    // to user sign-ins, and the end-user actions require it.
    if !claims.has_scope(SIGNIN_USER_ADMIN_SCOPE) {
        return Err(not_authorized("Access Token does not have required scopes"));
    }
    // A deleted app client's tokens no longer act for the user (as at userInfo).
    let client = match state.node.store.get_client(&claims.client_id).await {
        Ok(Some(client)) if client.pool_id == pool_id => client,
        Ok(_) => return Err(not_authorized("Invalid Access Token")),
        Err(e) => return Err(AwsError::internal(call.protocol, e)),
    };
    let pool = match state.node.store.get_pool(&pool_id).await {
        Ok(Some(pool)) => pool,
        Ok(None) => return Err(not_authorized("Invalid Access Token")),
        Err(e) => return Err(AwsError::internal(call.protocol, e)),
    };
    let user = match state
        .node
        .store
        .get_user(&pool.id, &UserRef::Sub(claims.sub.clone()))
        .await
    {
        Ok(Some(user)) => user,
        Ok(None) => {
            return Err(AwsError::bad_request(
                "UserNotFoundException",
                "User does not exist.",
            ))
        }
        Err(e) => return Err(AwsError::internal(call.protocol, e)),
    };
    if !user.enabled {
        return Err(not_authorized("User is disabled."));
    }
    Ok(TokenUser {
        pool,
        client,
        user,
        claims,
    })
}

/// The scope an access token needs for the end-user actions (Cognito grants it to every
/// sign-in through the user pools API, and to hosted-UI sign-ins that ask for it).
pub const SIGNIN_USER_ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// Cognito's `UserAttributes` / `Attributes` list: `sub` first, then the user's attributes
/// (those `client` may read, when one is given).
pub fn attributes_out(user: &User, client: Option<&AppClient>) -> Value {
    let mut out = vec![json!({"Name": "sub", "Value": user.sub})];
    for (name, value) in &user.attributes {
        if let Some(client) = client {
            if !client.read_attributes.is_empty() && !client.read_attributes.contains(name) {
                continue;
            }
        }
        out.push(json!({"Name": name, "Value": value}));
    }
    if !user.identities.is_empty() && client.is_none_or(|c| c.read_attributes.is_empty()) {
        out.push(json!({
            "Name": "identities",
            "Value": crate::core::oauth::tokens::identities_claim(user).to_string(),
        }));
    }
    Value::Array(out)
}

/// Epoch seconds as Cognito's JSON timestamps carry them.
pub fn epoch(t: crate::core::UnixTime) -> Value {
    json!(t)
}

/// Cognito's `UserType` (ListUsers, AdminCreateUser, ListUsersInGroup).
pub fn user_type(user: &User) -> Value {
    json!({
        "Username": user.username,
        "Attributes": attributes_out(user, None),
        "UserCreateDate": epoch(user.created_at),
        "UserLastModifiedDate": epoch(user.updated_at),
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    })
}

/// An account flow's error in Cognito's terms; internal detail goes to the log.
pub fn account_error(call: &AwsCall, e: AccountError) -> AwsError {
    match e {
        AccountError::Internal(detail) => AwsError::internal(call.protocol, detail),
        e => AwsError::bad_request(account_error_type(&e), e.to_string()),
    }
}

/// A refused sign-in in Cognito's terms; internal detail goes to the log.
pub fn sign_in_error(call: &AwsCall, e: SignInError) -> AwsError {
    match e {
        SignInError::Internal { .. } => AwsError::internal(call.protocol, e),
        e => AwsError::bad_request(sign_in_error_type(&e), e.to_string()),
    }
}

/// A directory error in Cognito's terms (through the account service's names).
pub fn directory_error(call: &AwsCall, e: DirectoryError) -> AwsError {
    account_error(call, AccountError::from(e))
}

/// How one record kind's handlers name the administration service's refusals in the
/// API's terms: each record field's API member (`("callback_urls", "CallbackURLs")`), the
/// message of `ResourceNotFoundException` for the record itself, and the exception of a
/// name or id already taken.
pub struct AdminNames {
    pub fields: &'static [(&'static str, &'static str)],
    pub not_found: &'static str,
    pub exists: (&'static str, &'static str),
}

/// The administration service's refusal in Cognito's terms: `InvalidParameterException`
/// naming each field by its API member, `ResourceNotFoundException` (the pool's own
/// message when the pool is missing), the kind's exists exception, and
/// `NotAuthorizedException` naming the configuration file for a record the file owns.
pub fn admin_error(
    state: &AppState,
    call: &AwsCall,
    e: AdminError,
    names: &AdminNames,
) -> AwsError {
    match e {
        // A quota (Rule::Limit) is Cognito's LimitExceededException.
        AdminError::Invalid { errors, .. } if errors.iter().any(|f| f.rule == Rule::Limit) => {
            let message = errors
                .iter()
                .filter(|f| f.rule == Rule::Limit)
                .map(|f| f.message.clone())
                .collect::<Vec<_>>()
                .join("; ");
            AwsError::bad_request("LimitExceededException", message)
        }
        AdminError::Invalid { errors, .. } => invalid(
            errors
                .iter()
                .map(|f| {
                    let field = f.field();
                    let api = names
                        .fields
                        .iter()
                        .find(|(ours, _)| *ours == field)
                        .map(|(_, theirs)| *theirs)
                        .unwrap_or(field);
                    format!("{api}{}: {}", &f.path[field.len()..], f.message)
                })
                .collect::<Vec<_>>()
                .join("; "),
        ),
        AdminError::Exists { .. } => AwsError::bad_request(names.exists.0, names.exists.1),
        AdminError::NotFound {
            kind: RecordKind::Pool,
            id,
        } => not_found(format!("User pool {id} does not exist.")),
        AdminError::NotFound { .. } => not_found(names.not_found),
        AdminError::ConfigOwned { kind, id } => {
            let file = state
                .node
                .config
                .source
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "the configuration file".into());
            not_authorized(format!(
                "{kind} {id} is declared in the configuration file {file}; change it there and run `cognate apply`."
            ))
        }
        // Cognito's answer when concurrent changes of one resource collide; the caller
        // sends the request again.
        e @ AdminError::Concurrent { .. } => {
            AwsError::bad_request("ConcurrentModificationException", e.to_string())
        }
        AdminError::Store(e) => AwsError::internal(call.protocol, e),
    }
}
