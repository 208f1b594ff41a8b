//! Passwordless first factors (issue 13), offered on the sign-in page only when the
//! pool's first factors allow them: an emailed sign-in code (Cognito's `EMAIL_OTP`,
//! `/login/email`) and a passkey alone (Cognito's `WEB_AUTHN`, `POST /login/passkey`;
//! user verification makes it two factors). The passkey script is served here too
//! (`GET /static/passkey.js`).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::completion::finish_sign_in;
use super::mfa::{credential_of, log_refusal, remaining};
use super::plumbing::{error_page, form_username, html, page_flow, PageQuery, SubmittedForm};
use super::ui::{Chrome, EmailSignInPage, Lang, UsernameKind};
use super::{login_html, login_page_for, to_second_factor, to_second_factor_asking};
use crate::core::mfa::{Answered, MfaError, Requirement, AMR_MFA};
use crate::core::model::{AppClient, FirstFactor, MfaFactor, UserPool, UserStatus};
use crate::core::now;
use crate::core::session::{LoginFlow, PendingMfa};
use crate::core::signin::SignInOutcome;
use crate::core::threat::Subject;
use crate::web::AppState;

/// The passkey script: base64url and `ArrayBuffer` conversions, the WebAuthn calls, and
/// the `credential` posted with its form. The only script the hosted pages run.
pub const PASSKEY_JS: &str = include_str!("../../../static/passkey.js");

/// `GET /static/passkey.js`.
pub async fn passkey_js() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        PASSKEY_JS,
    )
        .into_response()
}

#[allow(clippy::too_many_arguments)]
fn email_page(
    state: &AppState,
    lang: Lang,
    flow: &LoginFlow,
    pool: &UserPool,
    client: &AppClient,
    step: &str,
    username: String,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let mut chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id);
    if let Some(key) = error {
        chrome = chrome.with_error(state.ui.message(lang, key));
    }
    let page = EmailSignInPage {
        chrome,
        step: step.into(),
        username_kind: UsernameKind::for_sign_in(pool),
        username,
        form_action: if step == "code" {
            "/login/email/verify".into()
        } else {
            "/login/email".into()
        },
        login_url: format!("/login?flow={}", flow.id),
    };
    html(state, status, lang, &page)
}

fn email_allowed(pool: &UserPool, client: &AppClient) -> bool {
    pool.factors.allows_first(FirstFactor::EmailOtp) && client.takes_own_users()
}

/// The page refusing the email sign-in pages where the pool or the client does not offer
/// them (`None`: go on).
fn email_refused(
    state: &AppState,
    pool: &UserPool,
    client: &AppClient,
    lang: Lang,
) -> Option<Response> {
    (!email_allowed(pool, client)).then(|| {
        error_page(
            state,
            StatusCode::NOT_FOUND,
            lang,
            "error.factor_not_allowed",
        )
    })
}

/// `GET /login/email?flow=F`: the account to mail a sign-in code to.
pub async fn email_page_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Response {
    let (lang, flow, pool, client) =
        match page_flow(&state, &headers, q.flow.as_deref(), q.lang.as_deref()).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    if let Some(refused) = email_refused(&state, &pool, &client, lang) {
        return refused;
    }
    let username = flow.username.clone().unwrap_or_default();
    email_page(
        &state,
        lang,
        &flow,
        &pool,
        &client,
        "username",
        username,
        None,
        StatusCode::OK,
    )
}

/// `POST /login/email` (`username`): mails a sign-in code if the account exists (the
/// answer is the same either way), then the code page.
pub async fn email_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    SubmittedForm {
        lang,
        mut flow,
        pool,
        client,
        form,
    }: SubmittedForm,
) -> Response {
    if let Some(refused) = email_refused(&state, &pool, &client, lang) {
        return refused;
    }
    let username: String = form_username(&form, &flow).chars().take(256).collect();
    if username.is_empty() {
        return email_page(
            &state,
            lang,
            &flow,
            &pool,
            &client,
            "username",
            username,
            Some("error.invalid_request"),
            StatusCode::BAD_REQUEST,
        );
    }
    let now = now();
    let address =
        crate::web::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    if let Err(e) = state
        .mfa
        .send_sign_in_code(&pool, &username, lang.code(), address, now)
        .await
    {
        log_refusal(&e, "sign-in code not sent");
        let (key, status) = match e {
            MfaError::LimitExceeded | MfaError::Locked { .. } => {
                ("error.too_many_requests", StatusCode::TOO_MANY_REQUESTS)
            }
            _ => ("error.code_delivery", StatusCode::SERVICE_UNAVAILABLE),
        };
        return email_page(
            &state,
            lang,
            &flow,
            &pool,
            &client,
            "username",
            username,
            Some(key),
            status,
        );
    }
    flow.username = Some(username.clone());
    if !matches!(state.node.sessions.save_flow(&flow, now).await, Ok(true)) {
        return error_page(&state, StatusCode::CONFLICT, lang, "error.session_expired");
    }
    email_page(
        &state,
        lang,
        &flow,
        &pool,
        &client,
        "code",
        username,
        None,
        StatusCode::OK,
    )
}

/// `POST /login/email/verify` (`code`): the emailed code as the first factor; then the
/// pool's rule without email (a second factor other than email, or enrolment of one; a
/// user whose only factor is email passes).
pub async fn email_verify(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    SubmittedForm {
        lang,
        mut flow,
        pool,
        client,
        form,
    }: SubmittedForm,
) -> Response {
    if let Some(refused) = email_refused(&state, &pool, &client, lang) {
        return refused;
    }
    let Some(username) = flow.username.clone() else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        );
    };
    let code = super::plumbing::form_text(&form, "code");
    let now = now();
    let address =
        crate::web::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    let result = state
        .mfa
        .verify_sign_in_code(&pool, &username, &code, address, now)
        .await;
    let context = super::event_context(&state, &headers, &pool, &client, address);
    // A refusal is recorded here; a proven code by the risk step below.
    if result.is_err() {
        let subject = Subject::Login(&username);
        state
            .mfa
            .record_answer(&pool, subject, &context, Answered::SignInCode, &result, now)
            .await;
    }
    let user = match result {
        Ok(u) => u,
        Err(e) => {
            log_refusal(&e, "sign-in code refused");
            let (key, status) = match e {
                MfaError::Locked { .. } => ("error.mfa_locked", StatusCode::TOO_MANY_REQUESTS),
                MfaError::LimitExceeded => {
                    ("error.too_many_requests", StatusCode::TOO_MANY_REQUESTS)
                }
                MfaError::Expired => ("error.code_expired", StatusCode::OK),
                MfaError::Internal(_) => ("error.generic", StatusCode::SERVICE_UNAVAILABLE),
                _ => ("error.code_invalid", StatusCode::OK),
            };
            return email_page(
                &state,
                lang,
                &flow,
                &pool,
                &client,
                "code",
                username,
                Some(key),
                status,
            );
        }
    };
    let email_amr = MfaFactor::Email.amr();
    let pending = PendingMfa {
        sub: user.sub.clone(),
        amr: vec![email_amr.to_string()],
        since: now,
        setup: false,
        risk_factors: Vec::new(),
    };
    let outcome = match remaining(&pool, &user, &pending) {
        Requirement::None => SignInOutcome::SignedIn(user),
        Requirement::Challenge { factors } => SignInOutcome::MfaRequired { user, factors },
        Requirement::Setup { factors } => SignInOutcome::MfaSetup { user, factors },
    };
    // Scored as a password sign-in is: the `mfa` action asks a factor other than email,
    // `block` refuses.
    let outcome = state
        .signin
        .respond_to_passwordless_risk(&pool, outcome, MfaFactor::Email, &context, now)
        .await;
    match outcome {
        Ok(SignInOutcome::SignedIn(user)) => {
            finish_sign_in(
                &state,
                &headers,
                &flow,
                &client,
                &user,
                &[email_amr],
                lang,
                now,
            )
            .await
        }
        Ok(SignInOutcome::MfaRequired { user, factors }) => {
            to_second_factor_asking(&state, &mut flow, &user, (email_amr, false), factors, now)
                .await
        }
        Ok(SignInOutcome::MfaSetup { user, .. }) => {
            to_second_factor(&state, &mut flow, &user, email_amr, true, now).await
        }
        // A code never asks a new password; a refusal is the risk's block.
        Ok(SignInOutcome::NewPasswordRequired(_)) | Err(_) => {
            let chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id)
                .with_error(state.ui.message(lang, "error.blocked_by_risk"));
            let page = login_page_for(&flow, &pool, &client, chrome, username);
            login_html(&state, StatusCode::FORBIDDEN, lang, &page)
        }
    }
}

/// `POST /login/passkey` (`ceremony`, `credential`): a passkey alone signs the user in
/// (user verification required, so it counts as both factors: `amr` `hwk` and `mfa`).
pub async fn passkey_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    SubmittedForm {
        lang,
        flow,
        pool,
        client,
        form,
    }: SubmittedForm,
) -> Response {
    if !pool.factors.allows_first(FirstFactor::Passkey) || !client.takes_own_users() {
        return error_page(
            &state,
            StatusCode::NOT_FOUND,
            lang,
            "error.factor_not_allowed",
        );
    }
    let now = now();
    let address =
        crate::web::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    let result = match credential_of(&form) {
        Some(credential) => {
            let ceremony = super::plumbing::form_text(&form, "ceremony");
            state
                .mfa
                .finish_passkey_authentication(&pool, &ceremony, &credential, address, now)
                .await
        }
        None => Err(MfaError::Passkey("no credential posted".into())),
    };
    let context = super::event_context(&state, &headers, &pool, &client, address);
    // A refusal is recorded here; a proven passkey of an account that may sign in by the
    // risk step below.
    match &result {
        Ok(v) if v.user.enabled && v.user.status == UserStatus::Confirmed => {}
        Ok(v) => {
            let refused: Result<(), MfaError> =
                Err(MfaError::NotPossible("The account may not sign in yet."));
            let subject = Subject::User(&v.user);
            state
                .mfa
                .record_answer(&pool, subject, &context, Answered::Passkey, &refused, now)
                .await;
        }
        Err(_) => {
            let typed = flow.username.as_deref().unwrap_or_default();
            let subject = Subject::Login(typed);
            state
                .mfa
                .record_answer(&pool, subject, &context, Answered::Passkey, &result, now)
                .await;
        }
    }
    let refused = |key: &str, status: StatusCode| {
        let chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id)
            .with_error(state.ui.message(lang, key));
        let username = flow.username.clone().unwrap_or_default();
        let page = login_page_for(&flow, &pool, &client, chrome, username);
        login_html(&state, status, lang, &page)
    };
    match result {
        Ok(v) if v.user.enabled && v.user.status == UserStatus::Confirmed => {
            // Scored as any sign-in: a block refuses it (a passkey already is two
            // factors, so the `mfa` action asks nothing more).
            let outcome = state
                .signin
                .respond_to_passwordless_risk(
                    &pool,
                    SignInOutcome::SignedIn(v.user),
                    MfaFactor::Passkey,
                    &context,
                    now,
                )
                .await;
            match outcome {
                Ok(outcome) => {
                    finish_sign_in(
                        &state,
                        &headers,
                        &flow,
                        &client,
                        outcome.user(),
                        &[v.amr, AMR_MFA],
                        lang,
                        now,
                    )
                    .await
                }
                Err(_) => refused("error.blocked_by_risk", StatusCode::FORBIDDEN),
            }
        }
        // The passkey is the user's, but the account may not sign in yet: said as the
        // password sign-in says it.
        Ok(v) if !v.user.enabled => refused("error.user_disabled", StatusCode::OK),
        Ok(v) if v.user.status == UserStatus::Unconfirmed => {
            refused("error.user_not_confirmed", StatusCode::OK)
        }
        // FORCE_CHANGE_PASSWORD, RESET_REQUIRED: the password's own steps come first.
        Ok(_) => refused("error.password_step_first", StatusCode::OK),
        Err(e) => {
            log_refusal(&e, "passkey sign-in refused");
            match e {
                MfaError::Locked { .. } => {
                    refused("error.mfa_locked", StatusCode::TOO_MANY_REQUESTS)
                }
                MfaError::Internal(_) => refused("error.generic", StatusCode::SERVICE_UNAVAILABLE),
                _ => refused("error.passkey_failed", StatusCode::OK),
            }
        }
    }
}
