//! The hosted UI's account pages, all inside a login flow: sign up, confirm with a code,
//! forgot password, reset password. Each GET renders a page; each POST checks the flow and
//! its CSRF token, calls [`AccountService`](crate::core::account::AccountService), and
//! either re-renders with a clear message or moves the flow on.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::plumbing::{
    error_page, form_text, form_username, html, notice_text, page_flow, urlencode, PageQuery,
    SubmittedForm,
};
use super::ui::{
    AttributeField, Chrome, ConfirmPage, ForgotPasswordPage, Lang, ResetPasswordPage, SignupPage,
    UsernameKind,
};
use crate::core::account::AccountError;
use crate::core::model::{AliasAttribute, AppClient, UserPool};
use crate::core::now;
use crate::core::secrets::SecretString;
use crate::core::session::LoginFlow;
use crate::core::threat::EventContext;
use crate::core::triggers::TriggerCaller;
use crate::web::net::client_ip;
use crate::web::AppState;

/// The message key for an account error (the message never says whether a user exists,
/// beyond what Cognito's own hosted UI says).
fn error_key(e: &AccountError) -> &'static str {
    match e {
        AccountError::UsernameExists | AccountError::AliasExists => "error.username_exists",
        AccountError::InvalidPassword(_) => "error.password_policy",
        AccountError::InvalidParameter { field, .. } if field == "email" => "error.invalid_email",
        AccountError::InvalidParameter { field, .. } if field == "phone_number" => {
            "error.invalid_phone"
        }
        AccountError::InvalidParameter { .. } => "error.invalid_request",
        AccountError::CodeMismatch => "error.code_invalid",
        AccountError::ExpiredCode => "error.code_expired",
        AccountError::LimitExceeded => "error.too_many_requests",
        AccountError::SignUpDisabled => "error.signup_disabled",
        AccountError::NotAuthorized(_) => "error.bad_credentials",
        _ => "error.generic",
    }
}

/// The page's message for an account error: what a refused password lacks, which attribute
/// is at fault, or the error's general message.
pub(super) fn message_for(state: &AppState, lang: Lang, e: &AccountError) -> String {
    match e {
        // Name the attribute at fault, or say what the password lacks.
        AccountError::InvalidParameter { field, reason } if !field.is_empty() => {
            format!("{field}: {reason}")
        }
        // The webhook's own words (Cognito's "PreSignUp failed with error ...").
        AccountError::TriggerRefused(why) => {
            format!("{} {why}", state.ui.message(lang, "error.trigger_refused"))
        }
        // A compromised password: words of its own, not a requirement list.
        AccountError::InvalidPassword(v) if v.compromised => {
            state.ui.message(lang, "error.password_compromised")
        }
        AccountError::InvalidPassword(v) => {
            let mut m = state.ui.message(lang, "error.password_policy");
            if !v.missing.is_empty() {
                m.push_str(" (");
                m.push_str(&v.missing.join(", "));
                m.push(')');
            }
            m
        }
        other => {
            if matches!(other, AccountError::Internal(_)) {
                tracing::error!(error = %other, "account flow failed");
            }
            state.ui.message(lang, error_key(other))
        }
    }
}

/// The attribute inputs of the sign-up page: the pool's required attributes, except the
/// one that is the username itself.
fn signup_fields(pool: &UserPool, values: &BTreeMap<String, String>) -> Vec<AttributeField> {
    let as_username = |name: &str| {
        pool.username_attributes
            .iter()
            .any(|a| a.attribute_name() == name)
    };
    let mut names: Vec<String> = pool
        .required_attributes
        .iter()
        .filter(|n| !as_username(n))
        .cloned()
        .collect();
    // Pools that sign in by email alias ask for it even when not required.
    if pool.alias_attributes.contains(&AliasAttribute::Email) && !names.iter().any(|n| n == "email")
    {
        names.push("email".into());
    }
    names
        .iter()
        .map(|n| {
            let required = pool.required_attributes.contains(n);
            AttributeField::standard(n, required, values.get(n).map(String::as_str).unwrap_or(""))
        })
        .collect()
}

fn login_url(flow: &LoginFlow) -> String {
    format!("/login?flow={}", flow.id)
}

/// The flow a page belongs to, with its pool and app client.
type FlowParts<'a> = (&'a LoginFlow, &'a UserPool, &'a AppClient);

fn signup_page(
    state: &AppState,
    lang: Lang,
    (flow, pool, client): FlowParts<'_>,
    username: &str,
    values: &BTreeMap<String, String>,
    error: Option<String>,
) -> SignupPage {
    let mut chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id);
    if let Some(e) = error {
        chrome = chrome.with_error(e);
    }
    SignupPage {
        chrome,
        form_action: "/signup".into(),
        username_kind: UsernameKind::for_sign_up(pool),
        username: username.to_string(),
        attributes: signup_fields(pool, values),
        password_rules: state.ui.password_rules(lang, &pool.password_policy),
        login_url: login_url(flow),
    }
}

/// The account pages (sign-up, confirmation, password reset) serve the pool's own users: a
/// client that signs in only through identity providers offers none of them. Their pages
/// find their flow with [`account_page_flow`] and their forms arrive as [`AccountForm`],
/// which both answer with this refusal.
fn own_users_refused(state: &AppState, lang: Lang, client: &AppClient) -> Option<Response> {
    (!client.takes_own_users()).then(|| {
        error_page(
            state,
            StatusCode::FORBIDDEN,
            lang,
            "error.own_accounts_disabled",
        )
    })
}

/// [`page_flow`] for an account page: also refused when the client takes no own users.
async fn account_page_flow(
    state: &AppState,
    headers: &HeaderMap,
    q: &PageQuery,
) -> Result<(Lang, LoginFlow, UserPool, AppClient), Response> {
    let parts = page_flow(state, headers, q.flow.as_deref(), q.lang.as_deref()).await?;
    match own_users_refused(state, parts.0, &parts.3) {
        Some(refused) => Err(refused),
        None => Ok(parts),
    }
}

/// A form POST to an account page: the checked [`SubmittedForm`], refused when the client
/// takes no own users, and the client address the account service counts its code
/// budgets under (the peer, or the address a trusted proxy forwarded, as for `/login`).
pub struct AccountForm(SubmittedForm, IpAddr, Option<String>);

impl FromRequest<AppState> for AccountForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| *peer);
        let address = peer.map(|peer| {
            client_ip(
                peer,
                request.headers(),
                &state.node.config.server.trusted_proxies,
            )
        });
        let user_agent = crate::web::net::user_agent(request.headers());
        let form = SubmittedForm::from_request(request, state).await?;
        if let Some(refused) = own_users_refused(state, form.lang, &form.client) {
            return Err(refused);
        }
        match address {
            Some(address) => Ok(AccountForm(form, address, user_agent)),
            // The server always runs with connection info; without it no budget could
            // be counted, so nothing is done.
            None => Err(error_page(
                state,
                StatusCode::INTERNAL_SERVER_ERROR,
                form.lang,
                "error.generic",
            )),
        }
    }
}

/// `GET /signup`.
pub async fn signup_page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (lang, flow, pool, client) = match account_page_flow(&state, &headers, &q).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if pool.admin_create_user_only {
        return error_page(&state, StatusCode::FORBIDDEN, lang, "error.signup_disabled");
    }
    let parts = (&flow, &pool, &client);
    let page = signup_page(&state, lang, parts, "", &BTreeMap::new(), None);
    html(&state, StatusCode::OK, lang, &page)
}

/// `POST /signup`.
pub async fn signup_submit(
    State(state): State<AppState>,
    AccountForm(
        SubmittedForm {
            lang,
            mut flow,
            pool,
            client,
            form,
        },
        address,
        user_agent,
    ): AccountForm,
) -> Response {
    if pool.admin_create_user_only {
        return error_page(&state, StatusCode::FORBIDDEN, lang, "error.signup_disabled");
    }
    let username = form_text(&form, "username");
    let password = form.get("password").cloned().unwrap_or_default();
    let confirm = form.get("password_confirm").cloned().unwrap_or_default();
    let values: BTreeMap<String, String> = signup_fields(&pool, &BTreeMap::new())
        .iter()
        .filter_map(|f| {
            form.get(&f.name)
                .map(|v| (f.name.clone(), v.trim().to_string()))
                .filter(|(_, v)| !v.is_empty())
        })
        .collect();
    let again = |error: String| {
        let page = signup_page(
            &state,
            lang,
            (&flow, &pool, &client),
            &username,
            &values,
            Some(error),
        );
        html(&state, StatusCode::OK, lang, &page)
    };
    if password != confirm {
        return again(state.ui.message(lang, "error.passwords_mismatch"));
    }
    let now = now();
    match state
        .accounts
        .sign_up_with(
            &pool,
            &username,
            &SecretString::new(password),
            values.clone(),
            lang.code(),
            address,
            &TriggerCaller::client(&client.id),
            &EventContext::new(Some(&client.id), Some(address), user_agent.as_deref()),
            now,
        )
        .await
    {
        Ok(outcome) => {
            flow.username = Some(username.clone());
            flow.signed_up = Some(outcome.user.sub.clone());
            let _ = state.node.sessions.save_flow(&flow, now).await;
            // A pre sign-up webhook's autoConfirmUser: no code to type, sign in.
            if outcome.user.status == crate::core::model::UserStatus::Confirmed {
                return Redirect::to(&format!("/login?flow={}&notice=confirmed", flow.id))
                    .into_response();
            }
            let mut url = format!("/confirm?flow={}&notice=code_sent", flow.id);
            if let Some(d) = outcome.delivery {
                url.push_str(&format!("&sent={}", urlencode(&d.destination)));
            }
            Redirect::to(&url).into_response()
        }
        Err(e) => again(message_for(&state, lang, &e)),
    }
}

fn confirm_page(
    client: &AppClient,
    flow: &LoginFlow,
    chrome: Chrome,
    destination: Option<String>,
) -> ConfirmPage {
    let _ = client;
    ConfirmPage {
        chrome,
        form_action: "/confirm".into(),
        resend_action: "/confirm/resend".into(),
        username: flow.username.clone().unwrap_or_default(),
        destination,
        login_url: login_url(flow),
    }
}

/// `GET /confirm`.
pub async fn confirm_page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (lang, flow, _pool, client) = match account_page_flow(&state, &headers, &q).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id);
    chrome.notice = notice_text(&state, lang, &q);
    let destination = q.sent.clone().filter(|s| s.len() <= 100);
    html(
        &state,
        StatusCode::OK,
        lang,
        &confirm_page(&client, &flow, chrome, destination),
    )
}

/// `POST /confirm`: the code confirms the account; the user then signs in.
pub async fn confirm_submit(
    State(state): State<AppState>,
    AccountForm(
        SubmittedForm {
            lang,
            mut flow,
            pool,
            client,
            form,
        },
        address,
        user_agent,
    ): AccountForm,
) -> Response {
    let username = form_username(&form, &flow);
    let code = form_text(&form, "code");
    let now = now();
    match state
        .accounts
        .confirm_sign_up_with(
            &pool,
            &username,
            &code,
            address,
            &TriggerCaller::client(&client.id),
            &EventContext::new(Some(&client.id), Some(address), user_agent.as_deref()),
            now,
        )
        .await
    {
        Ok(user) => {
            flow.username = Some(username);
            flow.signed_up = Some(user.sub);
            let _ = state.node.sessions.save_flow(&flow, now).await;
            Redirect::to(&format!("/login?flow={}&notice=confirmed", flow.id)).into_response()
        }
        Err(e) => {
            flow.username = Some(username);
            let chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id)
                .with_error(message_for(&state, lang, &e));
            html(
                &state,
                StatusCode::OK,
                lang,
                &confirm_page(&client, &flow, chrome, None),
            )
        }
    }
}

/// `POST /confirm/resend`.
pub async fn confirm_resend(
    State(state): State<AppState>,
    AccountForm(
        SubmittedForm {
            lang,
            flow,
            pool,
            client,
            form,
        },
        address,
        user_agent,
    ): AccountForm,
) -> Response {
    let username = form_username(&form, &flow);
    match state
        .accounts
        .resend_confirmation_code(
            &pool,
            &username,
            lang.code(),
            &EventContext::new(Some(&client.id), Some(address), user_agent.as_deref()),
            now(),
        )
        .await
    {
        Ok(d) => Redirect::to(&format!(
            "/confirm?flow={}&notice=code_sent&sent={}",
            flow.id,
            urlencode(&d.destination)
        ))
        .into_response(),
        Err(e) => {
            let chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id)
                .with_error(message_for(&state, lang, &e));
            html(
                &state,
                StatusCode::OK,
                lang,
                &confirm_page(&client, &flow, chrome, None),
            )
        }
    }
}

/// `GET /forgot-password`.
pub async fn forgot_page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (lang, flow, pool, client) = match account_page_flow(&state, &headers, &q).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let page = ForgotPasswordPage {
        chrome: Chrome::new(&client.branding, &flow.csrf, &flow.id),
        form_action: "/forgot-password".into(),
        username_kind: UsernameKind::for_sign_in(&pool),
        username: flow.username.clone().unwrap_or_default(),
        login_url: login_url(&flow),
    };
    html(&state, StatusCode::OK, lang, &page)
}

/// `POST /forgot-password`: sends a reset code. Known and unknown users get the same
/// answer.
pub async fn forgot_submit(
    State(state): State<AppState>,
    AccountForm(
        SubmittedForm {
            lang,
            mut flow,
            pool,
            client,
            form,
        },
        address,
        user_agent,
    ): AccountForm,
) -> Response {
    let username = form_text(&form, "username");
    let now = now();
    match state
        .accounts
        .forgot_password_with(
            &pool,
            &username,
            lang.code(),
            address,
            &TriggerCaller::client(&client.id),
            &EventContext::new(Some(&client.id), Some(address), user_agent.as_deref()),
            now,
        )
        .await
    {
        Ok(d) => {
            flow.username = Some(username);
            let _ = state.node.sessions.save_flow(&flow, now).await;
            Redirect::to(&format!(
                "/reset-password?flow={}&notice=code_sent&sent={}",
                flow.id,
                urlencode(&d.destination)
            ))
            .into_response()
        }
        Err(e) => {
            let page = ForgotPasswordPage {
                chrome: Chrome::new(&client.branding, &flow.csrf, &flow.id)
                    .with_error(message_for(&state, lang, &e)),
                form_action: "/forgot-password".into(),
                username_kind: UsernameKind::for_sign_in(&pool),
                username,
                login_url: login_url(&flow),
            };
            html(&state, StatusCode::OK, lang, &page)
        }
    }
}

fn reset_page(
    state: &AppState,
    lang: Lang,
    flow: &LoginFlow,
    pool: &UserPool,
    chrome: Chrome,
    destination: Option<String>,
) -> ResetPasswordPage {
    ResetPasswordPage {
        chrome,
        form_action: "/reset-password".into(),
        resend_action: None,
        username: flow.username.clone().unwrap_or_default(),
        destination,
        password_rules: state.ui.password_rules(lang, &pool.password_policy),
        login_url: login_url(flow),
    }
}

/// `GET /reset-password`.
pub async fn reset_page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (lang, flow, pool, client) = match account_page_flow(&state, &headers, &q).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id);
    chrome.notice = notice_text(&state, lang, &q);
    let destination = q.sent.clone().filter(|s| s.len() <= 100);
    let page = reset_page(&state, lang, &flow, &pool, chrome, destination);
    html(&state, StatusCode::OK, lang, &page)
}

/// `POST /reset-password`: the code and a new password; then back to sign-in.
pub async fn reset_submit(
    State(state): State<AppState>,
    AccountForm(
        SubmittedForm {
            lang,
            mut flow,
            pool,
            client,
            form,
        },
        address,
        user_agent,
    ): AccountForm,
) -> Response {
    let username = form_username(&form, &flow);
    flow.username = Some(username.clone());
    let code = form_text(&form, "code");
    let password = form.get("password").cloned().unwrap_or_default();
    let confirm = form.get("password_confirm").cloned().unwrap_or_default();
    let again = |message: String| {
        let chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id).with_error(message);
        html(
            &state,
            StatusCode::OK,
            lang,
            &reset_page(&state, lang, &flow, &pool, chrome, None),
        )
    };
    if password != confirm {
        return again(state.ui.message(lang, "error.passwords_mismatch"));
    }
    let now = now();
    match state
        .accounts
        .confirm_forgot_password_with(
            &pool,
            &username,
            &code,
            &SecretString::new(password),
            address,
            &TriggerCaller::client(&client.id),
            &EventContext::new(Some(&client.id), Some(address), user_agent.as_deref()),
            now,
        )
        .await
    {
        Ok(_) => {
            let _ = state.node.sessions.save_flow(&flow, now).await;
            Redirect::to(&format!("/login?flow={}&notice=password_changed", flow.id))
                .into_response()
        }
        Err(e) => again(message_for(&state, lang, &e)),
    }
}
