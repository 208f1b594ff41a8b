//! SignUp, ConfirmSignUp, ResendConfirmationCode, ForgotPassword and ConfirmForgotPassword:
//! thin edges over the account service ([`crate::core::account::AccountService`]), whose
//! codes, budgets and uniform answers hold here exactly as on the hosted pages. Nothing
//! here adds or removes a limit.
//!
//! PreventUserExistenceErrors: an `ENABLED` client (the default) gets the core's uniform
//! answers. A `LEGACY` client gets Cognito's legacy answers, which tell that a user does
//! not exist (`UserNotFoundException`) or is already confirmed: the edge looks the user up
//! before calling the core, and only for such clients.

use serde_json::{json, Value};

use super::super::{
    account_error, check_secret_hash, client_of, invalid, not_authorized, optional, optional_bool,
    required,
};
use crate::core::account::attributes::check_client_writes;
use crate::core::account::CodeDelivery;
use crate::core::model::{AppClient, User, UserExistenceErrors, UserPool, UserStatus};
use crate::core::secrets::SecretString;
use crate::core::triggers::TriggerCaller;
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// The language of the mailed codes: the API carries none (Cognito's templates are per
/// pool), so the default language of Cognate's mail templates.
const LANG: &str = "en";

/// Cognito's message when a LEGACY client names an unknown user.
const LEGACY_NOT_FOUND: &str = "Username/client id combination not found.";

/// The pool and client of an account flow: the client must take the pool's own users
/// (`COGNITO` among its providers), and a client with a secret needs a right
/// SECRET_HASH for `username`.
async fn own_users_client(
    state: &AppState,
    call: &AwsCall,
    input: &Value,
    username: &str,
) -> Result<(UserPool, AppClient), AwsError> {
    let client_id = required(input, "ClientId")?;
    let secret_hash = optional(input, "SecretHash")?;
    let (pool, client) = client_of(state, call, client_id).await?;
    if !client.takes_own_users() {
        return Err(not_authorized(format!(
            "Client {} does not take the user pool's own users (COGNITO is not among its identity providers).",
            client.id
        )));
    }
    // Only a client with a secret checks it (Cognito ignores SecretHash otherwise).
    if client.is_confidential() {
        check_secret_hash(state, &client, username, secret_hash)?;
    }
    // ClientMetadata goes to the triggers of the calls that have them; its shape is
    // checked here so a mistyped request is told.
    super::super::client_metadata(input)?;
    Ok((pool, client))
}

fn is_legacy(client: &AppClient) -> bool {
    client.prevent_user_existence_errors == UserExistenceErrors::Legacy
}

/// For a LEGACY client: the user `username` names, or Cognito's `UserNotFoundException`.
async fn legacy_user(
    state: &AppState,
    call: &AwsCall,
    pool: &UserPool,
    username: &str,
) -> Result<User, AwsError> {
    match state
        .accounts
        .directory()
        .find_user(pool, username.trim())
        .await
    {
        Ok(Some(user)) => Ok(user),
        Ok(None) => Err(AwsError::bad_request(
            "UserNotFoundException",
            LEGACY_NOT_FOUND,
        )),
        Err(e) => Err(super::super::directory_error(call, e)),
    }
}

/// The triggers' view of the caller: the app client and the request's `ClientMetadata`.
fn caller_of(input: &Value, client: &AppClient) -> Result<TriggerCaller, AwsError> {
    Ok(TriggerCaller {
        client_id: Some(client.id.clone()),
        client_metadata: super::super::client_metadata(input)?,
        validation_data: Default::default(),
    })
}

/// Cognito's `CodeDeliveryDetailsType`.
pub fn delivery_out(delivery: &CodeDelivery) -> Value {
    json!({
        "Destination": delivery.destination,
        "DeliveryMedium": delivery.medium,
        "AttributeName": delivery.attribute_name,
    })
}

/// `SignUp`: an UNCONFIRMED user and, when the pool verifies email, a mailed code.
/// `ValidationData` and `ClientMetadata` go to the pool's pre sign-up webhook, as to
/// Cognito's Lambda trigger.
pub async fn sign_up(state: &AppState, call: &AwsCall, input: Value) -> Result<Value, AwsError> {
    let username = required(&input, "Username")?;
    let password = SecretString::new(required(&input, "Password")?);
    let mut attributes = super::super::attributes_in(&input, "UserAttributes", false)?;
    let validation_data = super::super::attributes_in(&input, "ValidationData", false)?;
    let (pool, client) = own_users_client(state, call, &input, username).await?;
    let caller = TriggerCaller {
        client_id: Some(client.id.clone()),
        client_metadata: super::super::client_metadata(&input)?,
        validation_data,
    };
    check_client_writes(&client, attributes.keys()).map_err(|e| account_error(call, e))?;
    // An empty value sets nothing at sign-up (Cognito stores no empty attribute).
    attributes.retain(|_, v| !v.is_empty());
    let outcome = state
        .accounts
        .sign_up_with(
            &pool,
            username,
            &password,
            attributes,
            LANG,
            call.client_ip,
            &caller,
            &call.event_context(Some(&client.id)),
            call.now,
        )
        .await
        .map_err(|e| account_error(call, e))?;
    let mut out = json!({
        "UserConfirmed": outcome.user.status == UserStatus::Confirmed,
        "UserSub": outcome.user.sub,
    });
    if let Some(delivery) = &outcome.delivery {
        out["CodeDeliveryDetails"] = delivery_out(delivery);
    }
    Ok(out)
}

/// `ConfirmSignUp`: the mailed code confirms the user and verifies the address.
/// `ForceAliasCreation` (moving a verified alias away from the user who holds it) is
/// refused when true: Cognate keeps Cognito's default, AliasExistsException.
pub async fn confirm_sign_up(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let username = required(&input, "Username")?;
    let code = required(&input, "ConfirmationCode")?;
    if optional_bool(&input, "ForceAliasCreation")? == Some(true) {
        return Err(invalid(
            "ForceAliasCreation is not supported: an address verified by another user stays theirs (AliasExistsException); resolve it, then confirm.",
        ));
    }
    let (pool, client) = own_users_client(state, call, &input, username).await?;
    if is_legacy(&client) {
        let user = legacy_user(state, call, &pool, username).await?;
        if user.status != UserStatus::Unconfirmed {
            return Err(not_authorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
    }
    state
        .accounts
        .confirm_sign_up_with(
            &pool,
            username,
            code,
            call.client_ip,
            &caller_of(&input, &client)?,
            &call.event_context(Some(&client.id)),
            call.now,
        )
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({}))
}

/// `ResendConfirmationCode`: a new code for an unconfirmed user.
pub async fn resend_confirmation_code(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let username = required(&input, "Username")?;
    let (pool, client) = own_users_client(state, call, &input, username).await?;
    if is_legacy(&client) {
        let user = legacy_user(state, call, &pool, username).await?;
        if user.status != UserStatus::Unconfirmed {
            return Err(invalid("User is already confirmed."));
        }
    }
    let delivery = state
        .accounts
        .resend_confirmation_code(
            &pool,
            username,
            LANG,
            &call.event_context(Some(&client.id)),
            call.now,
        )
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({ "CodeDeliveryDetails": delivery_out(&delivery) }))
}

/// `ForgotPassword`: a reset code to the user's verified email.
pub async fn forgot_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let username = required(&input, "Username")?;
    let (pool, client) = own_users_client(state, call, &input, username).await?;
    if is_legacy(&client) {
        let user = legacy_user(state, call, &pool, username).await?;
        if user.attribute("email_verified") != Some("true") || user.attribute("email").is_none() {
            return Err(invalid(
                "Cannot reset password for the user as there is no registered/verified email or phone_number",
            ));
        }
    }
    let caller = caller_of(&input, &client)?;
    let delivery = state
        .accounts
        .forgot_password_with(
            &pool,
            username,
            LANG,
            call.client_ip,
            &caller,
            &call.event_context(Some(&client.id)),
            call.now,
        )
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({ "CodeDeliveryDetails": delivery_out(&delivery) }))
}

/// `ConfirmForgotPassword`: the code and a new password; the user is signed out
/// everywhere.
pub async fn confirm_forgot_password(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let username = required(&input, "Username")?;
    let code = required(&input, "ConfirmationCode")?;
    let password = SecretString::new(required(&input, "Password")?);
    let (pool, client) = own_users_client(state, call, &input, username).await?;
    if is_legacy(&client) {
        legacy_user(state, call, &pool, username).await?;
    }
    state
        .accounts
        .confirm_forgot_password_with(
            &pool,
            username,
            code,
            &password,
            call.client_ip,
            &caller_of(&input, &client)?,
            &call.event_context(Some(&client.id)),
            call.now,
        )
        .await
        .map_err(|e| account_error(call, e))?;
    Ok(json!({}))
}
