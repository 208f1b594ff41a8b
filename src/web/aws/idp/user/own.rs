//! The actions of a signed-in user: every one names an `AccessToken`, checked by
//! [`access_token_user`] (a live user access token with `aws.cognito.signin.user.admin`,
//! of an enabled user), then calls the account service.

use serde_json::{json, Value};

use super::super::{
    access_token_user, account_error, attributes_out, invalid, required, string_list, TokenUser,
};
use super::signup::delivery_out;
use crate::core::account::own::PasswordChange;
use crate::core::secrets::SecretString;
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// The language of mailed codes (the API carries none; see [`super::signup`]).
const LANG: &str = "en";

async fn token_user(
    state: &AppState,
    call: &AwsCall,
    input: &Value,
) -> Result<TokenUser, AwsError> {
    let token = required(input, "AccessToken")?;
    access_token_user(state, call, token).await
}

/// `GetUser`: the user's name, the attributes the token's client may read, and the
/// second factors (`UserMFASettingList`, `PreferredMfaSetting`, and the legacy
/// `MFAOptions` when SMS MFA is on, as [`super::super::admin::mfa_settings`] says).
pub async fn get_user(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError> {
    let TokenUser { client, user, .. } = token_user(state, call, &input).await?;
    let mut out = json!({
        "Username": user.username,
        "UserAttributes": attributes_out(&user, Some(&client)),
    });
    super::super::admin::mfa_out(&user, &mut out);
    Ok(out)
}

/// `UpdateUserAttributes`: see [`crate::core::account::attributes`] (a verified email
/// changes only once the code mailed to the new address comes back).
pub async fn update_user_attributes(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let changes = super::super::attributes_in(&input, "UserAttributes", true)?;
    super::super::client_metadata(&input)?;
    let TokenUser {
        pool, client, user, ..
    } = token_user(state, call, &input).await?;
    let update = state
        .accounts
        .update_own_attributes(
            &pool,
            &client,
            &user.sub,
            &changes,
            LANG,
            call.client_ip,
            call.now,
        )
        .await
        .map_err(|e| account_error(call, e))?;
    let deliveries: Vec<Value> = update.deliveries.iter().map(delivery_out).collect();
    Ok(json!({ "CodeDeliveryDetailsList": deliveries }))
}

/// `DeleteUserAttributes`.
pub async fn delete_user_attributes(
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
    let TokenUser {
        pool, client, user, ..
    } = token_user(state, call, &input).await?;
    state
        .accounts
        .delete_own_attributes(&pool, &client, &user.sub, &names, call.now)
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({}))
}

/// `VerifyUserAttribute`: the code mailed for `email`.
pub async fn verify_user_attribute(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "AttributeName")?;
    let code = required(&input, "Code")?;
    let TokenUser {
        pool, client, user, ..
    } = token_user(state, call, &input).await?;
    state
        .accounts
        .verify_attribute(
            &pool,
            &user.sub,
            name,
            code,
            call.client_ip,
            &call.event_context(Some(&client.id)),
            call.now,
        )
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({}))
}

/// `GetUserAttributeVerificationCode`: a code for the pending (or current) email.
pub async fn get_user_attribute_verification_code(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let name = required(&input, "AttributeName")?;
    super::super::client_metadata(&input)?;
    let TokenUser { pool, user, .. } = token_user(state, call, &input).await?;
    let delivery = state
        .accounts
        .send_attribute_code(&pool, &user.sub, name, LANG, call.client_ip, call.now)
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({ "CodeDeliveryDetails": delivery_out(&delivery) }))
}

/// `ChangePassword`: the previous password is verified as a counted sign-in attempt.
pub async fn change_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let previous = SecretString::new(required(&input, "PreviousPassword")?);
    let proposed = SecretString::new(required(&input, "ProposedPassword")?);
    let TokenUser {
        pool, client, user, ..
    } = token_user(state, call, &input).await?;
    let change = PasswordChange {
        pool: &pool,
        client: &client,
        user: &user,
        previous: &previous,
        proposed: &proposed,
        address: call.client_ip,
        context: call.event_context(Some(&client.id)),
        now: call.now,
    };
    state
        .accounts
        .change_password(&state.signin, change)
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({}))
}

/// `DeleteUser`.
pub async fn delete_user(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let TokenUser { pool, user, .. } = token_user(state, call, &input).await?;
    state
        .accounts
        .delete_self(&pool, &user.sub, call.now)
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({}))
}

/// `GlobalSignOut`: every session, refresh token and earlier access token of the user
/// stops working, this one included.
pub async fn global_sign_out(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let TokenUser {
        pool, user, claims, ..
    } = token_user(state, call, &input).await?;
    state
        .accounts
        .sign_out_self(
            &state.node.tokens,
            &pool,
            &user.sub,
            &claims.origin_jti,
            claims.exp,
            call.now,
        )
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({}))
}
