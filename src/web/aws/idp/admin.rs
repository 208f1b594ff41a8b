//! The signed administration of users: AdminCreateUser, AdminGetUser,
//! AdminUpdateUserAttributes, AdminDeleteUserAttributes, AdminDeleteUser, AdminDisableUser,
//! AdminEnableUser, AdminSetUserPassword, AdminResetUserPassword, AdminConfirmSignUp,
//! AdminUserGlobalSignOut, AdminLinkProviderForUser, AdminDisableProviderForUser.
//!
//! The dispatcher verified the operator's SigV4 signature before any of these runs. Each
//! handler reads Cognito's input, calls the directory or the account service's
//! administrator actions ([`crate::core::account::admin`], [`crate::core::account::links`])
//! and renders Cognito's output. Users are named by username, alias or `sub`, as Cognito's
//! admin actions accept; an unknown user is `UserNotFoundException` ("User does not
//! exist."), since signed calls do not hide existence from operators.

use serde_json::{json, Value};

use super::{
    account_error, attributes_in, directory_error, epoch, invalid, optional, optional_bool, pool,
    required, string_list, user_type,
};
use crate::core::account::admin::{AdminUserError, DeliveryMedium, Invitation, MessageAction};
use crate::core::account::links::ProviderUser;
use crate::core::model::{MfaFactor, User, UserPool};
use crate::core::secrets::SecretString;
use crate::core::signout;
use crate::core::triggers::TriggerCaller;
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// The language of the mails these actions send (Cognito's API carries none).
const MAIL_LANG: &str = "en";

/// An administrator action's refusal in Cognito's terms.
pub fn admin_user_error(call: &AwsCall, e: AdminUserError) -> AwsError {
    match e {
        AdminUserError::Account(e) => account_error(call, e),
        AdminUserError::UnsupportedUserState(m) => {
            AwsError::bad_request("UnsupportedUserStateException", m)
        }
        AdminUserError::LinkExists(m) => AwsError::bad_request("AliasExistsException", m),
        AdminUserError::LimitExceeded(m) => AwsError::bad_request("LimitExceededException", m),
    }
}

/// The pool `UserPoolId` names and the user `Username` names in it.
pub(super) async fn pool_and_user(
    state: &AppState,
    call: &AwsCall,
    input: &Value,
) -> Result<(UserPool, User), AwsError> {
    let pool_id = required(input, "UserPoolId")?;
    let username = required(input, "Username")?;
    let pool = pool(state, call, pool_id).await?;
    let user = state
        .accounts
        .admin_user(&pool, username)
        .await
        .map_err(|e| account_error(call, e))?;
    Ok((pool, user))
}

/// Cognito's `UserMFASettingList` and `PreferredMfaSetting` of a user: the second
/// factors enrolled (an authenticator app is `SOFTWARE_TOKEN_MFA`, email codes
/// `EMAIL_OTP`, texted codes `SMS_MFA`; a passkey is a first factor in Cognito, not an
/// MFA setting).
pub fn mfa_settings(user: &User) -> (Vec<&'static str>, Option<&'static str>) {
    let name = |f: MfaFactor| match f {
        MfaFactor::Totp => Some("SOFTWARE_TOKEN_MFA"),
        MfaFactor::Email => Some("EMAIL_OTP"),
        MfaFactor::Sms => Some("SMS_MFA"),
        MfaFactor::Passkey => None,
    };
    let list = user.mfa.kinds().into_iter().filter_map(name).collect();
    (list, user.mfa.preferred.and_then(name))
}

/// `AdminCreateUser`: a FORCE_CHANGE_PASSWORD user and its invitation mail
/// (`MessageAction` RESEND / SUPPRESS; `DesiredDeliveryMediums` EMAIL, and SMS through the
/// pool's custom SMS sender).
pub async fn admin_create_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let username = required(&input, "Username")?;
    let attributes = attributes_in(&input, "UserAttributes", false)?;
    // For the pool's pre sign-up webhook (`PreSignUp_AdminCreateUser`).
    let caller = TriggerCaller {
        client_id: None,
        client_metadata: super::client_metadata(&input)?,
        validation_data: attributes_in(&input, "ValidationData", false)?,
    };
    let temporary_password =
        optional(&input, "TemporaryPassword")?.map(|p| SecretString::new(p.to_string()));
    let action = match optional(&input, "MessageAction")? {
        None => MessageAction::Send,
        Some("RESEND") => MessageAction::Resend,
        Some("SUPPRESS") => MessageAction::Suppress,
        Some(other) => {
            return Err(invalid(format!(
                "1 validation error detected: Value '{other}' at 'messageAction' failed to satisfy constraint: Member must satisfy enum value set: [RESEND, SUPPRESS]"
            )))
        }
    };
    let mediums = string_list(&input, "DesiredDeliveryMediums")?
        .iter()
        .map(|m| match m.as_str() {
            "EMAIL" => Ok(DeliveryMedium::Email),
            "SMS" => Ok(DeliveryMedium::Sms),
            other => Err(invalid(format!(
                "1 validation error detected: Value '[{other}]' at 'desiredDeliveryMediums' failed to satisfy constraint: Member must satisfy enum value set: [SMS, EMAIL]"
            ))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let force_alias = optional_bool(&input, "ForceAliasCreation")?.unwrap_or(false);
    let pool = pool(state, call, pool_id).await?;
    let invitation = Invitation {
        username: username.to_string(),
        attributes,
        temporary_password,
        action,
        mediums,
        lang: MAIL_LANG.into(),
        force_alias,
        caller,
    };
    let invited = state
        .accounts
        .admin_create_user(&pool, invitation, call.now)
        .await
        .map_err(|e| admin_user_error(call, e))?;
    Ok(json!({ "User": user_type(&invited.user) }))
}

/// `AdminGetUser`.
pub async fn admin_get_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let (_, user) = pool_and_user(state, call, &input).await?;
    let mut out = json!({
        "Username": user.username,
        "UserAttributes": super::attributes_out(&user, None),
        "UserCreateDate": epoch(user.created_at),
        "UserLastModifiedDate": epoch(user.updated_at),
        "Enabled": user.enabled,
        "UserStatus": user.status.as_str(),
    });
    mfa_out(&user, &mut out);
    Ok(out)
}

/// Adds a user's `UserMFASettingList`, `PreferredMfaSetting` and, with SMS MFA on, the
/// legacy `MFAOptions` (`[{DeliveryMedium: SMS, AttributeName: phone_number}]`, as Cognito
/// answers them) to GetUser's or AdminGetUser's answer.
pub fn mfa_out(user: &User, out: &mut Value) {
    let (list, preferred) = mfa_settings(user);
    let Some(obj) = out.as_object_mut() else {
        return;
    };
    if user.mfa.has(MfaFactor::Sms) {
        obj.insert(
            "MFAOptions".into(),
            json!([{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]),
        );
    }
    if !list.is_empty() {
        obj.insert("UserMFASettingList".into(), json!(list));
    }
    if let Some(preferred) = preferred {
        obj.insert("PreferredMfaSetting".into(), json!(preferred));
    }
}

/// `AdminUpdateUserAttributes`: the rules are the core's
/// ([`crate::core::account::AccountService::admin_update_attributes`]).
pub async fn admin_update_user_attributes(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let changes = attributes_in(&input, "UserAttributes", true)?;
    super::client_metadata(&input)?;
    let (pool, user) = pool_and_user(state, call, &input).await?;
    state
        .accounts
        .admin_update_attributes(&pool, &user, changes, call.now)
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({}))
}

/// `AdminDeleteUserAttributes`
/// ([`crate::core::account::AccountService::admin_delete_attributes`]).
pub async fn admin_delete_user_attributes(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    if input.get("UserAttributeNames").is_none_or(Value::is_null) {
        return Err(invalid(
            "1 validation error detected: Value at 'userAttributeNames' failed to satisfy constraint: Member must not be null",
        ));
    }
    let names = string_list(&input, "UserAttributeNames")?;
    let (pool, user) = pool_and_user(state, call, &input).await?;
    state
        .accounts
        .admin_delete_attributes(&pool, &user, names, call.now)
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({}))
}

/// `AdminDeleteUser`: the user, its memberships and links, signed out everywhere first.
pub async fn admin_delete_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let (pool, user) = pool_and_user(state, call, &input).await?;
    state
        .accounts
        .admin_delete_user(&pool, &user, call.now)
        .await
        .map_err(|e| admin_user_error(call, e))?;
    Ok(json!({}))
}

/// `AdminDisableUser`: the user can no longer sign in, and (Cognito: "deactivates a user
/// and revokes all access tokens for the user") is signed out everywhere: sessions and
/// refresh tokens end, earlier access tokens are refused.
pub async fn admin_disable_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let (pool, user) = pool_and_user(state, call, &input).await?;
    state
        .node
        .directory
        .set_enabled(&pool, &user.sub, false, call.now)
        .await
        .map_err(|e| directory_error(call, e))?;
    sign_out(state, call, &pool, &user).await?;
    Ok(json!({}))
}

/// `AdminEnableUser`.
pub async fn admin_enable_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let (pool, user) = pool_and_user(state, call, &input).await?;
    state
        .node
        .directory
        .set_enabled(&pool, &user.sub, true, call.now)
        .await
        .map_err(|e| directory_error(call, e))?;
    Ok(json!({}))
}

/// `AdminSetUserPassword`: `Permanent` true makes the user CONFIRMED, false (the
/// default) FORCE_CHANGE_PASSWORD with the pool's temporary-password validity.
pub async fn admin_set_user_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let password = SecretString::new(required(&input, "Password")?.to_string());
    let permanent = optional_bool(&input, "Permanent")?.unwrap_or(false);
    let (pool, user) = pool_and_user(state, call, &input).await?;
    state
        .accounts
        .admin_set_user_password(
            &pool,
            &user,
            &password,
            permanent,
            &call.event_context(None),
            call.now,
        )
        .await
        .map_err(|e| directory_error(call, e))?;
    Ok(json!({}))
}

/// `AdminResetUserPassword`: RESET_REQUIRED and a reset code mailed to the verified
/// email; the user finishes with ConfirmForgotPassword.
pub async fn admin_reset_user_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    super::client_metadata(&input)?;
    let (pool, user) = pool_and_user(state, call, &input).await?;
    state
        .accounts
        .admin_reset_user_password(&pool, &user, MAIL_LANG, call.now)
        .await
        .map_err(|e| admin_user_error(call, e))?;
    Ok(json!({}))
}

/// `AdminConfirmSignUp`.
pub async fn admin_confirm_sign_up(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    // For the post confirmation webhook (`clientId` CLIENT_ID_NOT_APPLICABLE).
    let caller = TriggerCaller {
        client_metadata: super::client_metadata(&input)?,
        ..TriggerCaller::default()
    };
    let (pool, user) = pool_and_user(state, call, &input).await?;
    state
        .accounts
        .admin_confirm_sign_up(&pool, &user, &caller, call.now)
        .await
        .map_err(|e| admin_user_error(call, e))?;
    Ok(json!({}))
}

async fn sign_out(
    state: &AppState,
    call: &AwsCall,
    pool: &UserPool,
    user: &User,
) -> Result<(), AwsError> {
    signout::sign_out_everywhere(state.node.store.as_ref(), &pool.id, &user.sub, call.now)
        .await
        .map_err(|e| AwsError::internal(call.protocol, e))
}

/// `AdminUserGlobalSignOut`: the user's sessions and refresh tokens end, and access
/// tokens issued before are refused ([`signout::sign_out_everywhere`]).
pub async fn admin_user_global_sign_out(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let (pool, user) = pool_and_user(state, call, &input).await?;
    sign_out(state, call, &pool, &user).await?;
    Ok(json!({}))
}

/// A `ProviderUserIdentifierType` member.
fn provider_user(input: &Value, name: &str) -> Result<ProviderUser, AwsError> {
    let Some(value) = input.get(name).filter(|v| !v.is_null()) else {
        return Err(invalid(format!(
            "1 validation error detected: Value at '{}' failed to satisfy constraint: Member must not be null",
            lower_first(name)
        )));
    };
    if !value.is_object() {
        return Err(invalid(format!("{name} must be a structure.")));
    }
    let field = |member: &str| -> Result<Option<String>, AwsError> {
        optional(value, member)
            .map_err(|_| invalid(format!("{name}.{member} must be a string.")))
            .map(|v| v.filter(|s| !s.is_empty()).map(str::to_string))
    };
    let missing = |member: &str| invalid(format!("{name}.{member} is required."));
    Ok(ProviderUser {
        provider_name: field("ProviderName")?.ok_or_else(|| missing("ProviderName"))?,
        attribute_name: field("ProviderAttributeName")?,
        attribute_value: field("ProviderAttributeValue")?
            .ok_or_else(|| missing("ProviderAttributeValue"))?,
    })
}

fn lower_first(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `AdminLinkProviderForUser`: links `SourceUser` (an identity at one of the pool's IdPs,
/// `Cognito_Subject`) to `DestinationUser` (`Cognito`, a username), so the next sign-in
/// through that identity lands on that user.
pub async fn admin_link_provider_for_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let destination = provider_user(&input, "DestinationUser")?;
    let source = provider_user(&input, "SourceUser")?;
    let pool = pool(state, call, pool_id).await?;
    state
        .accounts
        .admin_link_provider(&pool, &destination, &source, call.now)
        .await
        .map_err(|e| admin_user_error(call, e))?;
    Ok(json!({}))
}

/// `AdminDisableProviderForUser`: removes a link (a user the identity created itself is
/// disabled instead); with `Cognito` and a username, removes the user's password.
pub async fn admin_disable_provider_for_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let pool_id = required(&input, "UserPoolId")?;
    let target = provider_user(&input, "User")?;
    let pool = pool(state, call, pool_id).await?;
    state
        .accounts
        .admin_disable_provider(&pool, &target, call.now)
        .await
        .map_err(|e| admin_user_error(call, e))?;
    Ok(json!({}))
}
