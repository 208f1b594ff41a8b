//! Sign-in over the user pools API: InitiateAuth and AdminInitiateAuth
//! (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_SRP_AUTH, REFRESH_TOKEN_AUTH), their
//! challenges (RespondToAuthChallenge, AdminRespondToAuthChallenge), and in
//! [`tokens`] GetTokensFromRefreshToken and RevokeToken, in [`software_token`] the
//! software-token enrolment of MFA_SETUP (AssociateSoftwareToken, VerifySoftwareToken).
//!
//! Thin edges: the flow checks, the sign-in (with its throttle), the challenges and the
//! tokens are the core's ([`crate::core::challenge`], [`crate::core::signin`]); here the
//! input is read and the answer rendered in botocore's shapes.

mod software_token;
mod tokens;

use std::collections::BTreeMap;

use serde_json::{json, Value};

pub use software_token::{associate_software_token, verify_software_token};
pub use tokens::{get_tokens_from_refresh_token, revoke_token};

use super::{
    check_secret_hash, check_secret_hash_any, client_metadata, client_of, invalid, not_authorized,
    pool_client, required, sign_in_error, string_map,
};
use crate::core::challenge::custom::{CustomAnswer, CustomStart};
use crate::core::challenge::steps::{Answer, Started};
use crate::core::challenge::{
    check_flow, existence_error, first_factor_challenges, ApiSignIn, ChallengeError, ChallengeName,
    RequestedFlow, Step,
};
use crate::core::mfa::MfaError;
use crate::core::model::{AppClient, UserPool};
use crate::core::oauth::grants::TokenResponse;
use crate::core::secrets::SecretString;
use crate::core::signin::{PasswordSignIn, SignInError, SrpStart, SrpVerify};
use crate::core::threat::EventContext;
use crate::web::aws::{AwsCall, AwsError};
use crate::web::AppState;

/// The core's API sign-in over this node's services.
pub(crate) fn api(state: &AppState) -> ApiSignIn {
    ApiSignIn::new(
        state.node.directory.clone(),
        state.node.tokens.clone(),
        state.mfa.clone(),
        state.accounts.clone(),
        state.signin.clone(),
    )
}

/// A member of `AuthParameters` / `ChallengeResponses` (Cognito: "Missing required
/// parameter USERNAME").
fn param<'a>(params: &'a BTreeMap<String, String>, name: &str) -> Result<&'a str, AwsError> {
    match params.get(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(invalid(format!("Missing required parameter {name}"))),
    }
}

/// A refused step in Cognito's terms; internal detail goes to the log.
pub(crate) fn challenge_error(call: &AwsCall, e: ChallengeError) -> AwsError {
    match e {
        ChallengeError::SignIn(e) => sign_in_error(call, e),
        ChallengeError::UserNotFound => {
            AwsError::bad_request("UserNotFoundException", "User does not exist.")
        }
        e @ ChallengeError::SessionExpired => not_authorized(e.to_string()),
        ChallengeError::InvalidParameter(m) => invalid(m),
        ChallengeError::Mfa(e) => match e {
            MfaError::CodeMismatch => AwsError::bad_request("CodeMismatchException", e.to_string()),
            MfaError::Expired => AwsError::bad_request("ExpiredCodeException", e.to_string()),
            MfaError::Locked { .. } => not_authorized("Too many failed attempts"),
            MfaError::LimitExceeded => {
                AwsError::bad_request("LimitExceededException", e.to_string())
            }
            MfaError::Delivery => {
                AwsError::bad_request("CodeDeliveryFailureException", e.to_string())
            }
            MfaError::NotFound => {
                not_authorized("Invalid session for the user, session is expired.")
            }
            MfaError::Internal(detail) => AwsError::internal(call.protocol, detail),
            e @ (MfaError::FactorNotAllowed
            | MfaError::NotPossible(_)
            | MfaError::LastFactor
            | MfaError::Passkey(_)) => invalid(e.to_string()),
        },
        ChallengeError::Account(e) => super::account_error(call, e),
        ChallengeError::MfaMethodNotFound(m) => {
            AwsError::bad_request("MFAMethodNotFoundException", m)
        }
        ChallengeError::NotAuthorized(m) => not_authorized(m),
        ChallengeError::InvalidLambdaResponse(m) => {
            AwsError::bad_request("InvalidLambdaResponseException", m)
        }
        ChallengeError::Internal(detail) => AwsError::internal(call.protocol, detail),
    }
}

/// Cognito's `AuthenticationResultType`.
pub(crate) fn authentication_result(tokens: &TokenResponse) -> Value {
    let mut out = json!({
        "AccessToken": tokens.access_token,
        "ExpiresIn": tokens.expires_in,
        "TokenType": tokens.token_type,
    });
    if let Some(id) = &tokens.id_token {
        out["IdToken"] = json!(id);
    }
    if let Some(refresh) = &tokens.refresh_token {
        out["RefreshToken"] = json!(refresh);
    }
    out
}

/// InitiateAuth's (and RespondToAuthChallenge's) answer for a step.
fn render(step: Step) -> Value {
    match step {
        Step::Tokens(tokens) => json!({
            "AuthenticationResult": authentication_result(&tokens),
            "ChallengeParameters": {},
        }),
        Step::Challenge {
            name,
            parameters,
            session,
            available,
        } => {
            let mut out = json!({
                "ChallengeName": name.as_str(),
                "ChallengeParameters": parameters,
                "Session": session,
            });
            if !available.is_empty() {
                out["AvailableChallenges"] = json!(available);
            }
            out
        }
    }
}

/// `InitiateAuth` (public).
pub async fn initiate_auth(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    initiate(state, call, input, false).await
}

/// `AdminInitiateAuth` (signed): names the pool as well as the client.
pub async fn admin_initiate_auth(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let call = with_context_data(call, &input)?;
    initiate(state, &call, input, true).await
}

/// The admin calls' `ContextData` (Cognito's `ContextDataType`): the app server, which
/// signs the call with an operator key, names the end user's address (`IpAddress`) and
/// passes the user's request headers (`HttpHeaders`, of which `User-Agent` is read). The
/// sign-in is then counted, scored and recorded as the user's, not as the server's.
/// `ServerName`, `ServerPath` and `EncodedData` (Cognito's own fingerprint) are not read.
fn with_context_data(call: &AwsCall, input: &Value) -> Result<AwsCall, AwsError> {
    let Some(context) = input.get("ContextData").filter(|c| !c.is_null()) else {
        return Ok(call.clone());
    };
    let address = context
        .get("IpAddress")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("ContextData.IpAddress is required (the end user's address)."))?;
    let address: std::net::IpAddr = address.trim().parse().map_err(|_| {
        invalid("ContextData.IpAddress must be an IPv4 or IPv6 address.".to_string())
    })?;
    let headers = match context.get("HttpHeaders") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            return Err(invalid(
                "ContextData.HttpHeaders must be a list.".to_string(),
            ))
        }
    };
    let user_agent = headers.iter().find_map(|h| {
        let name = h.get("headerName").and_then(Value::as_str)?;
        let value = h.get("headerValue").and_then(Value::as_str)?;
        name.eq_ignore_ascii_case("user-agent")
            .then(|| value.to_string())
    });
    let mut call = call.clone();
    call.client_ip = address.to_canonical();
    call.user_agent = user_agent
        .map(|ua| EventContext::new(None, None, Some(&ua)))
        .and_then(|c| c.user_agent);
    Ok(call)
}

async fn pool_and_client(
    state: &AppState,
    call: &AwsCall,
    input: &Value,
    admin: bool,
) -> Result<(UserPool, AppClient), AwsError> {
    if admin {
        let pool_id = required(input, "UserPoolId")?;
        let client_id = required(input, "ClientId")?;
        pool_client(state, call, pool_id, client_id).await
    } else {
        let client_id = required(input, "ClientId")?;
        client_of(state, call, client_id).await
    }
}

async fn initiate(
    state: &AppState,
    call: &AwsCall,
    input: Value,
    admin: bool,
) -> Result<Value, AwsError> {
    let flow_name = required(&input, "AuthFlow")?;
    let flow = RequestedFlow::parse(flow_name, admin).ok_or_else(|| {
        invalid(format!(
            "1 validation error detected: Value '{}' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: {}",
            flow_name.chars().take(64).collect::<String>(),
            RequestedFlow::names(admin)
        ))
    })?;
    let params = string_map(&input, "AuthParameters")?;
    let metadata = client_metadata(&input)?;
    let (pool, client) = pool_and_client(state, call, &input, admin).await?;
    check_flow(&client, flow).map_err(|e| challenge_error(call, e))?;
    let api = api(state).with_client_metadata(metadata.clone());
    let fail = |e| challenge_error(call, e);
    match flow {
        RequestedFlow::UserPassword | RequestedFlow::AdminUserPassword => {
            let username = param(&params, "USERNAME")?;
            check_secret_hash(state, &client, username, secret_hash_of(&params))?;
            let password = param(&params, "PASSWORD")?;
            password_first(
                state,
                call,
                &api,
                (&pool, &client),
                username,
                password,
                metadata,
            )
            .await
        }
        RequestedFlow::UserSrp => {
            let username = param(&params, "USERNAME")?;
            check_secret_hash(state, &client, username, secret_hash_of(&params))?;
            let srp_a = param(&params, "SRP_A")?;
            srp_first(state, call, &api, &pool, &client, username, srp_a).await
        }
        RequestedFlow::Custom => {
            let username = param(&params, "USERNAME")?;
            check_secret_hash(state, &client, username, secret_hash_of(&params))?;
            if let Some(first) = params.get("CHALLENGE_NAME") {
                // Cognito's variant that proves the password by SRP before the custom
                // challenges (define sees SRP_A and PASSWORD_VERIFIER in its session).
                return Err(invalid(format!(
                    "CUSTOM_AUTH with CHALLENGE_NAME {} is not supported: Cognate's custom flow starts with USERNAME only (no SRP_A step before the custom challenges).",
                    first.chars().take(64).collect::<String>()
                )));
            }
            api.custom_start(
                &state.signin,
                CustomStart {
                    pool: &pool,
                    client: &client,
                    login: username,
                    address: call.client_ip,
                    now: call.now,
                },
            )
            .await
            .map(render)
            .map_err(fail)
        }
        RequestedFlow::UserAuth => {
            let username = param(&params, "USERNAME")?;
            check_secret_hash(state, &client, username, secret_hash_of(&params))?;
            let available = first_factor_challenges(&pool, &client);
            if available.is_empty() {
                return Err(sign_in_error(call, SignInError::PasswordsNotTaken));
            }
            // A preference the pool does not offer is answered with the choice, as
            // Cognito does.
            let preferred = params
                .get("PREFERRED_CHALLENGE")
                .map(String::as_str)
                .filter(|p| available.contains(p));
            match preferred {
                Some(choice) => {
                    first_factor(state, call, &api, &pool, &client, username, choice, &params).await
                }
                None => api
                    .select_challenge(&pool, &client, username, available, call.now)
                    .await
                    .map(render)
                    .map_err(fail),
            }
        }
        RequestedFlow::RefreshToken => {
            let token = param(&params, "REFRESH_TOKEN")?;
            if client.secret.is_some() {
                // Cognito's clients hash the token user's username (or, where the sign-in
                // used an alias, its sub).
                let owner = api
                    .tokens()
                    .refresh_owner(token, call.now)
                    .await
                    .map_err(|e| fail(e.into()))?;
                let Some((_, sub)) = owner else {
                    return Err(not_authorized("Invalid Refresh Token"));
                };
                let username = state
                    .node
                    .store
                    .get_user(&pool.id, &crate::core::storage::UserRef::Sub(sub.clone()))
                    .await
                    .map_err(|e| AwsError::internal(call.protocol, e))?
                    .map(|u| u.username)
                    .unwrap_or_default();
                check_secret_hash_any(
                    state,
                    &client,
                    &[username.as_str(), sub.as_str()],
                    params.get("SECRET_HASH").map(String::as_str),
                )?;
            }
            let tokens = api
                .refresh(&client, token, true, call.now)
                .await
                .map_err(fail)?;
            Ok(json!({
                "AuthenticationResult": authentication_result(&tokens),
                "ChallengeParameters": {},
            }))
        }
    }
}

/// Where an API sign-in comes from, for the auth event log. The API has no device
/// cookie (Cognito reads `UserContextData` there): its sign-ins carry no device signal.
fn event_context(call: &AwsCall, client: &AppClient) -> EventContext {
    EventContext::new(
        Some(&client.id),
        Some(call.client_ip),
        call.user_agent.as_deref(),
    )
}

fn secret_hash_of(params: &BTreeMap<String, String>) -> Option<&str> {
    params.get("SECRET_HASH").map(String::as_str)
}

/// A password sign-in (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH's
/// PASSWORD) through the sign-in operation, then the next step. `metadata` is the
/// request's `ClientMetadata` (the user migration webhook's `validationData`).
async fn password_first(
    state: &AppState,
    call: &AwsCall,
    api: &ApiSignIn,
    (pool, client): (&UserPool, &AppClient),
    username: &str,
    password: &str,
    metadata: BTreeMap<String, String>,
) -> Result<Value, AwsError> {
    let fail = |e| challenge_error(call, e);
    let password = SecretString::new(password);
    let attempt = PasswordSignIn {
        pool,
        client,
        login: username,
        password: &password,
        address: call.client_ip,
        now: call.now,
        validation_data: metadata,
        context: Some(event_context(call, client)),
    };
    let outcome = match state.signin.password(attempt).await {
        Ok(outcome) => outcome,
        Err(e) => return Err(fail(refusal(api, pool, client, username, e).await)),
    };
    let started = Started::password(username, call.now);
    let step = api
        .proceed(pool, client, started, outcome, call.client_ip, call.now)
        .await
        .map_err(fail)?;
    Ok(render(step))
}

/// SRP's first step (USER_SRP_AUTH, USER_AUTH's PASSWORD_SRP): the core's
/// `PASSWORD_VERIFIER` challenge.
async fn srp_first(
    state: &AppState,
    call: &AwsCall,
    api: &ApiSignIn,
    pool: &UserPool,
    client: &AppClient,
    username: &str,
    srp_a: &str,
) -> Result<Value, AwsError> {
    let fail = |e| challenge_error(call, e);
    // LEGACY tells at once that the user does not exist, as Cognito does; the default
    // answers an unknown user with a fake challenge (the core's).
    if client.prevent_user_existence_errors == crate::core::model::UserExistenceErrors::Legacy
        && !api.user_exists(pool, username).await.map_err(fail)?
    {
        return Err(fail(ChallengeError::UserNotFound));
    }
    let challenge = state
        .signin
        .srp_start(SrpStart {
            pool,
            client,
            login: username,
            srp_a,
            address: call.client_ip,
            now: call.now,
        })
        .await
        .map_err(|e| sign_in_error(call, e))?;
    Ok(json!({
        "ChallengeName": "PASSWORD_VERIFIER",
        "ChallengeParameters": {
            "SALT": challenge.salt,
            "SRP_B": challenge.srp_b,
            "SECRET_BLOCK": challenge.secret_block,
            "USER_ID_FOR_SRP": challenge.user_id_for_srp,
            "USERNAME": challenge.username,
        },
    }))
}

/// USER_AUTH's chosen first factor (`PREFERRED_CHALLENGE` or SELECT_CHALLENGE's
/// `ANSWER`), one of [`first_factor_challenges`]; `params` carry its `PASSWORD` or
/// `SRP_A`.
#[allow(clippy::too_many_arguments)]
async fn first_factor(
    state: &AppState,
    call: &AwsCall,
    api: &ApiSignIn,
    pool: &UserPool,
    client: &AppClient,
    username: &str,
    choice: &str,
    params: &BTreeMap<String, String>,
) -> Result<Value, AwsError> {
    match choice {
        "PASSWORD" => {
            let password = param(params, "PASSWORD")?;
            let metadata = api.client_metadata().clone();
            password_first(
                state,
                call,
                api,
                (pool, client),
                username,
                password,
                metadata,
            )
            .await
        }
        "PASSWORD_SRP" => {
            let srp_a = param(params, "SRP_A")?;
            srp_first(state, call, api, pool, client, username, srp_a).await
        }
        "EMAIL_OTP" => api
            .email_sign_in(pool, client, username, "en", call.client_ip, call.now)
            .await
            .map(render)
            .map_err(|e| challenge_error(call, e)),
        "WEB_AUTHN" => api
            .passkey_sign_in(pool, client, username, call.now)
            .await
            .map(render)
            .map_err(|e| challenge_error(call, e)),
        other => Err(invalid(format!(
            "{other} is not a challenge this user pool offers."
        ))),
    }
}

/// A refused password in the client's terms: LEGACY clients say when the login names
/// no user (Cognito's `UserNotFoundException`); the default answers exactly as for a
/// wrong password.
async fn refusal(
    api: &ApiSignIn,
    pool: &UserPool,
    client: &AppClient,
    login: &str,
    e: SignInError,
) -> ChallengeError {
    let legacy =
        client.prevent_user_existence_errors == crate::core::model::UserExistenceErrors::Legacy;
    if legacy && matches!(e, SignInError::NotAuthorized) {
        match api.user_exists(pool, login).await {
            Ok(exists) => existence_error(client, e, exists),
            Err(internal) => internal,
        }
    } else {
        ChallengeError::SignIn(e)
    }
}

/// `RespondToAuthChallenge` (public).
pub async fn respond_to_auth_challenge(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    respond(state, call, input, false).await
}

/// `AdminRespondToAuthChallenge` (signed).
pub async fn admin_respond_to_auth_challenge(
    state: &AppState,
    call: &AwsCall,
    input: Value,
) -> Result<Value, AwsError> {
    let call = with_context_data(call, &input)?;
    respond(state, &call, input, true).await
}

async fn respond(
    state: &AppState,
    call: &AwsCall,
    input: Value,
    admin: bool,
) -> Result<Value, AwsError> {
    let name = required(&input, "ChallengeName")?;
    let responses = string_map(&input, "ChallengeResponses")?;
    let metadata = client_metadata(&input)?;
    let (pool, client) = pool_and_client(state, call, &input, admin).await?;
    let fail = |e| challenge_error(call, e);
    let username = param(&responses, "USERNAME")?;
    check_secret_hash(
        state,
        &client,
        username,
        responses.get("SECRET_HASH").map(String::as_str),
    )?;
    let api = api(state).with_client_metadata(metadata.clone());
    if name == "CUSTOM_CHALLENGE" {
        check_flow(&client, RequestedFlow::Custom).map_err(fail)?;
        let session = required(&input, "Session")?;
        let answer = param(&responses, "ANSWER")?;
        let step = api
            .custom_answer(
                &state.signin,
                CustomAnswer {
                    pool: &pool,
                    client: &client,
                    session,
                    username,
                    answer,
                    address: call.client_ip,
                    now: call.now,
                },
            )
            .await
            .map_err(fail)?;
        return Ok(render(step));
    }
    if name == "PASSWORD_VERIFIER" {
        // SRP's second step, of USER_SRP_AUTH or of USER_AUTH's PASSWORD_SRP.
        if !client.allows_flow(crate::core::model::AuthFlow::AllowUserAuth) {
            check_flow(&client, RequestedFlow::UserSrp).map_err(fail)?;
        }
        // The state is the SECRET_BLOCK's (the core's, single use); a `Session` Amplify
        // echoes back is not needed.
        let outcome = state
            .signin
            .srp_verify(SrpVerify {
                pool: &pool,
                client: &client,
                username,
                secret_block: param(&responses, "PASSWORD_CLAIM_SECRET_BLOCK")?,
                signature: param(&responses, "PASSWORD_CLAIM_SIGNATURE")?,
                timestamp: param(&responses, "TIMESTAMP")?,
                address: call.client_ip,
                now: call.now,
                client_metadata: metadata,
                context: event_context(call, &client),
            })
            .await
            .map_err(|e| sign_in_error(call, e))?;
        let started = Started::password(username, call.now);
        let step = api
            .proceed(&pool, &client, started, outcome, call.client_ip, call.now)
            .await
            .map_err(fail)?;
        return Ok(render(step));
    }
    if name == "SELECT_CHALLENGE" {
        let session = required(&input, "Session")?;
        let answer = param(&responses, "ANSWER")?;
        let available = first_factor_challenges(&pool, &client);
        if !available.contains(&answer) {
            return Err(invalid(format!(
                "ANSWER {} is not a challenge this user pool offers.",
                answer.chars().take(64).collect::<String>()
            )));
        }
        let login = api
            .choose(&pool, &client, session, username, call.now)
            .await
            .map_err(fail)?;
        return first_factor(
            state, call, &api, &pool, &client, &login, answer, &responses,
        )
        .await;
    }
    let Some(challenge) = ChallengeName::parse(name) else {
        return Err(invalid(format!(
            "ChallengeName {} is not a challenge this user pool asks.",
            name.chars().take(64).collect::<String>()
        )));
    };
    let session = required(&input, "Session")?;
    let context = event_context(call, &client);
    let step = api
        .answer(Answer {
            pool: &pool,
            client: &client,
            session,
            challenge,
            responses: &responses,
            address: call.client_ip,
            context: &context,
            now: call.now,
        })
        .await
        .map_err(fail)?;
    Ok(render(step))
}
