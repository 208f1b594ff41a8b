//! The account security page (issue 13), `/account/security?client_id=C`: with the
//! pool's session, a user sees their factors and recovery codes left, adds a factor (TOTP,
//! email, passkey), removes one (the last one of an `ON` pool is refused), prefers one,
//! and draws new recovery codes.
//!
//! - No session: the browser goes through a login flow of its own (its `after` is this
//!   page) and comes back signed in.
//! - Forms carry the session's own CSRF token (an HMAC of the session id under the master
//!   key, so the page never shows the session id) and `client_id`.
//! - Adding or removing needs a sign-in within [`mfa::FRESH_SIGN_IN_SECS`]; an older
//!   session goes through a `prompt=login` flow back to the page.
//! - A factor enrolled here adds its `amr` and `mfa` to the session, so single sign-on
//!   keeps working under the pool's rule; each change mails a notice.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};

use super::completion::current_session;
use super::mfa::{
    ceremony_json, enrol, log_refusal, not_possible_key, retry_view, setup_view, SetupView,
};
use super::plumbing::{
    error_page, form_fields, form_text, html, html_with_scripts, lang_of, secure, urlencode,
};
use super::ui::{
    Chrome, FactorView, Lang, MfaSetupPage, PasskeyButton, RecoveryCodesPage, SecurityPage,
};
use crate::core::mfa::email::EmailCodePurpose;
use crate::core::mfa::manage::MfaPreference;
use crate::core::mfa::{self, MfaError, AMR_MFA};
use crate::core::model::{AppClient, MfaFactor, User, UserPool, OWN_USERS};
use crate::core::now;
use crate::core::oauth::authorize::{AuthorizeRequest, Prompt, ResponseType};
use crate::core::secrets::constant_time_eq;
use crate::core::session::Session;
use crate::core::storage::UserRef;
use crate::core::UnixTime;
use crate::web::cookies;
use crate::web::AppState;

/// The page's path for a client.
fn page_url(client_id: &str) -> String {
    format!("/account/security?client_id={}", urlencode(client_id))
}

/// The session's own CSRF token: the HMAC tag of its id under the master key (the id
/// itself stays out of the page).
fn csrf_of(state: &AppState, sid: &str) -> String {
    let signed = state.node.master.sign_cookie("cognate_security_csrf", sid);
    signed
        .rsplit_once('.')
        .map(|(_, tag)| tag.to_string())
        .unwrap_or_default()
}

/// A signed-in user of the page.
pub struct Signed {
    pub lang: Lang,
    pub client: AppClient,
    pub pool: UserPool,
    pub sid: String,
    pub session: Session,
    pub user: User,
}

impl Signed {
    fn fresh(&self, now: UnixTime) -> bool {
        now.saturating_sub(self.session.auth_time) <= mfa::FRESH_SIGN_IN_SECS
    }
}

/// Starts a login flow for `client` that comes back to the page (`prompt=login` when
/// the session is too old for a change), and sends the browser to it.
async fn sign_in_again(
    state: &AppState,
    headers: &HeaderMap,
    client: &AppClient,
    prompt_login: bool,
    lang: Lang,
    now: UnixTime,
) -> Response {
    let request = AuthorizeRequest {
        pool_id: client.pool_id.clone(),
        client_id: client.id.clone(),
        // Never used: the flow's `after` takes the browser back to the page, no code.
        redirect_uri: client.callback_urls.first().cloned().unwrap_or_default(),
        response_type: ResponseType::Code,
        scopes: Vec::new(),
        state: None,
        nonce: None,
        code_challenge: None,
        prompt: if prompt_login {
            Prompt::Login
        } else {
            Prompt::Default
        },
        login_hint: None,
        identity_provider: None,
        idp_identifier: None,
        lang: Some(lang.code().to_string()),
        max_age: None,
    };
    let master = &state.node.master;
    let (browser, new_cookie) = match cookies::browser(headers, master, secure(state)) {
        Some(b) => (b, None),
        None => {
            let (b, cookie) = cookies::issue_browser(master, secure(state));
            (b, Some(cookie))
        }
    };
    let mut flow = match state.node.sessions.start_flow(request, &browser, now).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "starting the security page's login flow");
            return error_page(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                lang,
                "error.generic",
            );
        }
    };
    flow.after = Some(page_url(&client.id));
    if !matches!(state.node.sessions.save_flow(&flow, now).await, Ok(true)) {
        return error_page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            lang,
            "error.generic",
        );
    }
    let mut response = Redirect::to(&format!("/login?flow={}", flow.id)).into_response();
    if let Some(c) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// The signed-in user of `client_id`'s pool, or the response to answer with (the login
/// flow, or an error page).
async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
    client_id: Option<&str>,
    lang: Lang,
    now: UnixTime,
) -> Result<Signed, Response> {
    let client = match client_id.filter(|c| !c.is_empty() && c.len() <= 128) {
        Some(id) => state.node.store.get_client(id).await.ok().flatten(),
        None => None,
    };
    let Some(client) = client.filter(AppClient::takes_own_users) else {
        return Err(error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.unknown_client",
        ));
    };
    let Some((sid, session)) = current_session(state, headers, &client.pool_id, now).await else {
        return Err(sign_in_again(state, headers, &client, false, lang, now).await);
    };
    if session.method.as_deref() != Some(OWN_USERS) {
        return Err(error_page(
            state,
            StatusCode::FORBIDDEN,
            lang,
            "error.security_federated",
        ));
    }
    let Ok(pool) = state.node.directory.pool(&client.pool_id).await else {
        return Err(error_page(
            state,
            StatusCode::SERVICE_UNAVAILABLE,
            lang,
            "error.generic",
        ));
    };
    let user = match state
        .node
        .store
        .get_user(&pool.id, &UserRef::Sub(session.sub.clone()))
        .await
    {
        Ok(Some(u)) if u.enabled => u,
        _ => return Err(sign_in_again(state, headers, &client, true, lang, now).await),
    };
    // A session the pool's rule no longer accepts (a factor enrolled elsewhere since)
    // signs in again, second factor included.
    if session.method.as_deref() == Some(OWN_USERS)
        && !mfa::session_satisfies(&pool, &user, &session.amr)
    {
        return Err(sign_in_again(state, headers, &client, true, lang, now).await);
    }
    Ok(Signed {
        lang,
        client,
        pool,
        sid,
        session,
        user,
    })
}

/// A form POST of the page, checked: the session's CSRF token, and the signed-in user.
pub struct SecurityForm {
    pub signed: Signed,
    pub form: HashMap<String, String>,
    pub address: std::net::IpAddr,
    pub headers: HeaderMap,
}

impl SecurityForm {
    /// The request as the auth event log records it.
    pub fn event_context(&self) -> crate::core::threat::EventContext {
        crate::core::threat::EventContext::new(
            Some(&self.signed.client.id),
            Some(self.address),
            crate::web::net::user_agent(&self.headers).as_deref(),
        )
    }
}

impl FromRequest<crate::web::AppState> for SecurityForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let headers = request.headers().clone();
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let form = form_fields(&body);
        let lang = lang_of(&headers, None);
        let now = now();
        let signed = signed_in(
            state,
            &headers,
            form.get("client_id").map(String::as_str),
            lang,
            now,
        )
        .await?;
        let csrf = form.get("_csrf").map(String::as_str).unwrap_or("");
        if !constant_time_eq(csrf_of(state, &signed.sid).as_bytes(), csrf.as_bytes()) {
            return Err(error_page(
                state,
                StatusCode::FORBIDDEN,
                lang,
                "error.session_expired",
            ));
        }
        let address =
            crate::web::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
        Ok(SecurityForm {
            signed,
            form,
            address,
            headers,
        })
    }
}

#[derive(serde::Deserialize, Default)]
pub struct SecurityQuery {
    pub client_id: Option<String>,
    pub lang: Option<String>,
    pub notice: Option<String>,
}

/// `YYYY-MM-DD` (UTC) of a time.
fn date_of(t: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .map(|d| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()))
        .unwrap_or_default()
}

fn chrome_of(state: &AppState, s: &Signed) -> Chrome {
    Chrome::new(&s.client.branding, csrf_of(state, &s.sid), "")
}

fn render_page(
    state: &AppState,
    s: &Signed,
    notice: Option<String>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = s.lang;
    let mut chrome = chrome_of(state, s);
    chrome.notice = notice;
    if let Some(key) = error {
        chrome = chrome.with_error(state.ui.message(lang, key));
    }
    let mfa = &s.user.mfa;
    let factors = mfa
        .factors
        .iter()
        .map(|f| FactorView {
            id: f.id.clone(),
            kind: f.kind.as_str().into(),
            kind_key: format!("factor.{}", f.kind.as_str()),
            name: f.name.clone(),
            created: date_of(f.created_at),
            preferred: mfa.preferred == Some(f.kind) && mfa.kinds().len() > 1,
        })
        .collect();
    let allows = |k| s.pool.factors.allows_mfa(k);
    let preferable: Vec<String> = mfa
        .kinds()
        .into_iter()
        .filter(|k| allows(*k))
        .map(|k| k.as_str().to_string())
        .collect();
    let passkey = s.pool.factors.passkeys_enabled().then(|| {
        PasskeyButton::new(
            "/account/security/passkey/options",
            "register",
            "passkey.register",
        )
    });
    let page = SecurityPage {
        chrome,
        client_id: s.client.id.clone(),
        username: s.user.username.clone(),
        factors,
        recovery_codes_left: mfa.unused_recovery_codes(),
        can_add_totp: allows(MfaFactor::Totp),
        can_add_email: allows(MfaFactor::Email)
            && !mfa.has(MfaFactor::Email)
            && mfa::has_verified_email(&s.user),
        can_add_sms: allows(MfaFactor::Sms)
            && !mfa.has(MfaFactor::Sms)
            && mfa::has_verified_phone(&s.user),
        passkey,
        preferable,
        required: s.pool.mfa == crate::core::model::MfaSetting::On,
    };
    if page.passkey.is_some() {
        html_with_scripts(state, status, lang, &page)
    } else {
        html(state, status, lang, &page)
    }
}

fn notice_of(state: &AppState, lang: Lang, notice: Option<&str>) -> Option<String> {
    let key = match notice? {
        "factor_added" => "notice.factor_added",
        "factor_removed" => "notice.factor_removed",
        "preferred_set" => "notice.preferred_set",
        _ => return None,
    };
    Some(state.ui.message(lang, key))
}

fn back_to_page(client_id: &str, notice: &str) -> Response {
    Redirect::to(&format!("{}&notice={notice}", page_url(client_id))).into_response()
}

/// `GET /account/security?client_id=C`.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SecurityQuery>,
) -> Response {
    let lang = lang_of(&headers, q.lang.as_deref());
    let now = now();
    let s = match signed_in(&state, &headers, q.client_id.as_deref(), lang, now).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let notice = notice_of(&state, lang, q.notice.as_deref());
    render_page(&state, &s, notice, None, StatusCode::OK)
}

/// A change needs a recent sign-in: an older session signs in again (`prompt=login`).
async fn require_fresh(state: &AppState, f: &SecurityForm) -> Option<Response> {
    let now = now();
    if f.signed.fresh(now) {
        return None;
    }
    Some(
        sign_in_again(
            state,
            &f.headers,
            &f.signed.client,
            true,
            f.signed.lang,
            now,
        )
        .await,
    )
}

fn render_enrolment(
    state: &AppState,
    s: &Signed,
    view: SetupView,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let mut chrome = chrome_of(state, s);
    if let Some(key) = error {
        chrome = chrome.with_error(state.ui.message(s.lang, key));
    }
    let form_action = match view.step {
        MfaFactor::Totp => "/account/security/totp/confirm",
        MfaFactor::Email | MfaFactor::Sms => "/account/security/email/confirm",
        MfaFactor::Passkey => "/account/security/passkey/register",
    };
    let page = MfaSetupPage {
        chrome,
        client_id: Some(s.client.id.clone()),
        step: super::mfa::factor_str(view.step).into(),
        required: false,
        choices: Vec::new(),
        form_action: form_action.into(),
        totp: view.totp,
        code_sent: view.code_sent,
        destination: view.destination,
        email_code_action: "/account/security/email/send".into(),
        passkey: None,
        back_url: Some(page_url(&s.client.id)),
    };
    html(state, status, s.lang, &page)
}

/// The answer to a refused change: the page (or the enrolment step) with its message.
fn refused_status(e: &MfaError) -> (&'static str, StatusCode) {
    match e {
        MfaError::CodeMismatch => ("error.code_invalid", StatusCode::OK),
        MfaError::Expired => ("error.enrolment_expired", StatusCode::OK),
        MfaError::Passkey(_) => ("error.passkey_failed", StatusCode::OK),
        MfaError::Locked { .. } => ("error.mfa_locked", StatusCode::TOO_MANY_REQUESTS),
        MfaError::LimitExceeded => ("error.too_many_requests", StatusCode::TOO_MANY_REQUESTS),
        MfaError::FactorNotAllowed => ("error.factor_not_allowed", StatusCode::BAD_REQUEST),
        MfaError::NotPossible(why) => (not_possible_key(why), StatusCode::BAD_REQUEST),
        MfaError::LastFactor => ("error.last_factor", StatusCode::CONFLICT),
        MfaError::NotFound => ("error.enrolment_expired", StatusCode::NOT_FOUND),
        MfaError::Delivery => ("error.code_delivery", StatusCode::SERVICE_UNAVAILABLE),
        MfaError::Internal(_) => ("error.generic", StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// `POST /account/security/totp/start`: the TOTP enrolment page.
pub async fn totp_start(State(state): State<AppState>, f: SecurityForm) -> Response {
    if let Some(r) = require_fresh(&state, &f).await {
        return r;
    }
    let s = &f.signed;
    match setup_view(&state, &s.pool, &s.user, MfaFactor::Totp, now()).await {
        Ok(view) => render_enrolment(&state, s, view, None, StatusCode::OK),
        Err(e) => {
            log_refusal(&e, "TOTP enrolment not started");
            let (key, status) = refused_status(&e);
            render_page(&state, s, None, Some(key), status)
        }
    }
}

/// What follows an enrolment on the page: the session records the factor, a notice is
/// mailed, and the first factor's recovery codes are shown once.
async fn enrolled(
    state: &AppState,
    f: &SecurityForm,
    kind: MfaFactor,
    result: Result<mfa::Enrolled, MfaError>,
) -> Response {
    let s = &f.signed;
    let e = match result {
        Ok(e) => e,
        Err(e) => {
            log_refusal(&e, "enrolment on the security page refused");
            let (key, status) = refused_status(&e);
            let retry = match kind {
                MfaFactor::Passkey => None,
                _ => retry_view(state, &s.pool, &s.user, kind, &f.form, &e, now()).await,
            };
            return match retry {
                Some(view) => render_enrolment(state, s, view, Some(key), status),
                None => render_page(state, s, None, Some(key), status),
            };
        }
    };
    let now = now();
    if let Err(err) = state
        .node
        .sessions
        .update_session(&s.sid, now, |session| {
            for a in [kind.amr(), AMR_MFA] {
                if !session.amr.iter().any(|x| x == a) {
                    session.amr.push(a.to_string());
                }
            }
        })
        .await
    {
        tracing::warn!(error = %err, "could not record the new factor in the session");
    }
    match e.recovery_codes {
        Some(codes) => {
            let page = RecoveryCodesPage {
                chrome: chrome_of(state, s),
                codes,
                continue_action: None,
                back_url: Some(format!("{}&notice=factor_added", page_url(&s.client.id))),
            };
            html(state, StatusCode::OK, s.lang, &page)
        }
        None => back_to_page(&s.client.id, "factor_added"),
    }
}

/// Finishes adding a factor of `kind` from the page's form (a fresh sign-in required):
/// the enrolment through the core, then the page (with recovery codes for a first factor).
async fn confirm_factor(state: &AppState, f: &SecurityForm, kind: MfaFactor) -> Response {
    if let Some(r) = require_fresh(state, f).await {
        return r;
    }
    let s = &f.signed;
    let result = enrol(state, &s.pool, &s.user.sub, kind, &f.form, f.address, now()).await;
    enrolled(state, f, kind, result).await
}

/// `POST /account/security/totp/confirm` (`enrolment`, `code`, `name`).
pub async fn totp_confirm(State(state): State<AppState>, f: SecurityForm) -> Response {
    confirm_factor(&state, &f, MfaFactor::Totp).await
}

/// `POST /account/security/email/send`: mails an enrolment code, then the code form.
pub async fn email_send(State(state): State<AppState>, f: SecurityForm) -> Response {
    if let Some(r) = require_fresh(&state, &f).await {
        return r;
    }
    let s = &f.signed;
    match state
        .mfa
        .send_email_code(
            &s.pool,
            &s.user,
            EmailCodePurpose::Enrol,
            s.lang.code(),
            f.address,
            now(),
        )
        .await
    {
        Ok(sent) => {
            let view = SetupView {
                step: MfaFactor::Email,
                totp: None,
                code_sent: true,
                destination: Some(sent.destination),
            };
            render_enrolment(&state, s, view, None, StatusCode::OK)
        }
        Err(e) => {
            log_refusal(&e, "enrolment code not sent");
            let (key, status) = refused_status(&e);
            render_page(&state, s, None, Some(key), status)
        }
    }
}

/// `POST /account/security/sms/enable`: switches SMS codes on for the verified phone
/// number (a fresh sign-in required; as Cognito's SMSMfaSettings, the number was proven
/// when it was verified). Removed like any factor.
pub async fn sms_enable(State(state): State<AppState>, f: SecurityForm) -> Response {
    if let Some(r) = require_fresh(&state, &f).await {
        return r;
    }
    let s = &f.signed;
    let change = MfaPreference {
        factor: MfaFactor::Sms,
        enabled: Some(true),
        preferred: None,
    };
    match state
        .mfa
        .set_mfa_preferences(&s.pool, &s.user.sub, &[change], &f.event_context(), now())
        .await
    {
        Ok(_) => back_to_page(&s.client.id, "factor_added"),
        Err(e) => {
            log_refusal(&e, "SMS codes not switched on");
            let (key, status) = refused_status(&e);
            render_page(&state, s, None, Some(key), status)
        }
    }
}

/// `POST /account/security/email/confirm` (`code`).
pub async fn email_confirm(State(state): State<AppState>, f: SecurityForm) -> Response {
    confirm_factor(&state, &f, MfaFactor::Email).await
}

/// `POST /account/security/passkey/options`: a registration ceremony's options (JSON).
/// A session too old for a change answers 401 with where to sign in again.
pub async fn passkey_options(State(state): State<AppState>, f: SecurityForm) -> Response {
    let s = &f.signed;
    let now = now();
    if !s.fresh(now) {
        let r = sign_in_again(&state, &f.headers, &s.client, true, s.lang, now).await;
        let login = r
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("/")
            .to_string();
        let mut json = (
            StatusCode::UNAUTHORIZED,
            [(header::CACHE_CONTROL, "no-store")],
            Json(serde_json::json!({ "error": state.ui.message(s.lang, "error.session_expired"), "login": login })),
        )
            .into_response();
        for c in r.headers().get_all(header::SET_COOKIE) {
            json.headers_mut().append(header::SET_COOKIE, c.clone());
        }
        return json;
    }
    let started = state
        .mfa
        .start_passkey_registration(&s.pool, &s.user, now)
        .await;
    ceremony_json(&state, s.lang, started)
}

/// `POST /account/security/passkey/register` (`ceremony`, `credential`, `name`).
pub async fn passkey_register(State(state): State<AppState>, f: SecurityForm) -> Response {
    confirm_factor(&state, &f, MfaFactor::Passkey).await
}

/// `POST /account/security/remove` (`factor`: its id). The last factor of an `ON` pool
/// is refused (409).
pub async fn remove(State(state): State<AppState>, f: SecurityForm) -> Response {
    if let Some(r) = require_fresh(&state, &f).await {
        return r;
    }
    let s = &f.signed;
    let id = form_text(&f.form, "factor");
    match state
        .mfa
        .remove_factor(
            &s.pool,
            &s.user.sub,
            &id,
            s.lang.code(),
            &f.event_context(),
            now(),
        )
        .await
    {
        Ok(_) => back_to_page(&s.client.id, "factor_removed"),
        Err(e) => {
            log_refusal(&e, "factor not removed");
            let (key, status) = match e {
                MfaError::NotFound => ("error.invalid_request", StatusCode::NOT_FOUND),
                ref e => refused_status(e),
            };
            render_page(&state, s, None, Some(key), status)
        }
    }
}

/// `POST /account/security/prefer` (`kind`: `TOTP`, `EMAIL`, `PASSKEY`).
pub async fn prefer(State(state): State<AppState>, f: SecurityForm) -> Response {
    if let Some(r) = require_fresh(&state, &f).await {
        return r;
    }
    let s = &f.signed;
    let kind = match form_text(&f.form, "kind").as_str() {
        "TOTP" => MfaFactor::Totp,
        "EMAIL" => MfaFactor::Email,
        "SMS" => MfaFactor::Sms,
        "PASSKEY" => MfaFactor::Passkey,
        _ => {
            return render_page(
                &state,
                s,
                None,
                Some("error.invalid_request"),
                StatusCode::BAD_REQUEST,
            )
        }
    };
    match state
        .mfa
        .set_preferred(&s.pool, &s.user.sub, kind, &f.event_context(), now())
        .await
    {
        Ok(_) => back_to_page(&s.client.id, "preferred_set"),
        Err(e) => {
            log_refusal(&e, "preferred factor not set");
            let (key, status) = match e {
                MfaError::NotFound => ("error.no_factor", StatusCode::BAD_REQUEST),
                ref e => refused_status(e),
            };
            render_page(&state, s, None, Some(key), status)
        }
    }
}

/// `POST /account/security/recovery-codes`: ten new recovery codes, shown once.
pub async fn recovery_codes(State(state): State<AppState>, f: SecurityForm) -> Response {
    if let Some(r) = require_fresh(&state, &f).await {
        return r;
    }
    let s = &f.signed;
    match state
        .mfa
        .regenerate_recovery_codes(&s.pool, &s.user.sub, now())
        .await
    {
        Ok(codes) => {
            // (The core mails the notice.)
            let page = RecoveryCodesPage {
                chrome: chrome_of(&state, s),
                codes,
                continue_action: None,
                back_url: Some(page_url(&s.client.id)),
            };
            html(&state, StatusCode::OK, s.lang, &page)
        }
        Err(e) => {
            log_refusal(&e, "recovery codes not regenerated");
            let (key, status) = match e {
                MfaError::NotFound | MfaError::NotPossible(_) => {
                    ("error.no_factor", StatusCode::BAD_REQUEST)
                }
                ref e => refused_status(e),
            };
            render_page(&state, s, None, Some(key), status)
        }
    }
}
