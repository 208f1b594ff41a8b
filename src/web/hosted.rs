//! The hosted UI's sign-in path: `/oauth2/authorize`, `/login`, `/logout`.
//!
//! `/oauth2/authorize` validates the request, answers at once from a session when it can,
//! and otherwise starts a stored login flow and sends the browser to `/login?flow=<id>`.
//! Every form carries the flow id and its CSRF token, and only the browser that started
//! the flow (its `cognate_browser` cookie) may submit it. Completing sign-in consumes the
//! flow exactly once and redirects to the client with a code (or tokens, implicit flow).

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::cookies;
use super::ui::{
    Chrome, ErrorPage, Lang, LoggedOutPage, LoginPage, NewPasswordPage, Page, UsernameKind,
};
use super::AppState;
use crate::core::directory::DirectoryError;
use crate::core::model::{AppClient, User, UserPool, UserStatus};
use crate::core::now;
use crate::core::oauth::authorize::{
    self, error_redirect, issue_code, success_redirect, AuthorizeError, AuthorizeParams,
    AuthorizeRequest, Prompt, ResponseType,
};
use crate::core::oauth::{ErrorCode, OAuthError};
use crate::core::secrets::{random_token, SecretString};
use crate::core::session::LoginFlow;
use crate::core::storage::UserRef;
use crate::core::throttle::Verdict;
use crate::core::UnixTime;

/// The language of a page: `lang` in the query wins over `Accept-Language`.
pub fn lang_of(headers: &HeaderMap, query_lang: Option<&str>) -> Lang {
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    Lang::negotiate(query_lang, accept)
}

/// The language of a page in a flow: `lang` in the query, else the one the authorization
/// request asked for, else `Accept-Language`.
pub fn flow_lang(headers: &HeaderMap, query_lang: Option<&str>, flow: &LoginFlow) -> Lang {
    lang_of(headers, query_lang.or(flow.request.lang.as_deref()))
}

/// Renders a page, or a plain error if the template itself fails. Hosted pages may not be
/// framed by other sites (clickjacking) and send no Referer (their URLs carry flow ids).
pub fn html<P: Page>(state: &AppState, status: StatusCode, lang: Lang, page: &P) -> Response {
    match state.ui.page(lang, page) {
        Ok(body) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_FRAME_OPTIONS, "DENY"),
                (header::CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
                (header::REFERRER_POLICY, "no-referrer"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page could not be rendered.",
            )
                .into_response()
        }
    }
}

/// A friendly error page (never a redirect).
pub fn error_page(state: &AppState, status: StatusCode, lang: Lang, message_key: &str) -> Response {
    let page = ErrorPage {
        chrome: Chrome::plain(),
        title: state.ui.message(lang, "error.title"),
        message: state.ui.message(lang, message_key),
        back_url: None,
    };
    html(state, status, lang, &page)
}

pub(crate) fn secure(state: &AppState) -> bool {
    state.node.config.public_url().starts_with("https://")
}

/// Form fields of a hosted page (first value of each name wins).
pub fn form_fields(body: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        out.entry(k.to_string()).or_insert_with(|| v.to_string());
    }
    out
}

/// The flow a page or form belongs to, if it is live and this browser's.
pub async fn flow_of(state: &AppState, headers: &HeaderMap, id: Option<&str>) -> Option<LoginFlow> {
    let id = id.filter(|i| !i.is_empty() && i.len() <= 64)?;
    let flow = state.node.sessions.flow(id, now()).await.ok().flatten()?;
    let browser = cookies::get(headers, cookies::BROWSER);
    flow.belongs_to(browser.as_deref()).then_some(flow)
}

/// A form submission's flow: live, this browser's, with the right CSRF token.
pub async fn submitted_flow(
    state: &AppState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Option<LoginFlow> {
    let flow = flow_of(state, headers, form.get("flow").map(String::as_str)).await?;
    let csrf = form.get("_csrf").map(String::as_str).unwrap_or("");
    let browser = cookies::get(headers, cookies::BROWSER);
    flow.accepts(browser.as_deref(), csrf).then_some(flow)
}

/// The pool and client of a flow.
pub async fn flow_context(state: &AppState, flow: &LoginFlow) -> Option<(UserPool, AppClient)> {
    let store = &state.node.store;
    let pool = store.get_pool(&flow.request.pool_id).await.ok().flatten()?;
    let client = store
        .get_client(&flow.request.client_id)
        .await
        .ok()
        .flatten()?;
    Some((pool, client))
}

/// The flow a page (GET) belongs to, with its language, pool and app client; or the
/// error page to answer with.
pub async fn page_flow(
    state: &AppState,
    headers: &HeaderMap,
    flow_id: Option<&str>,
    query_lang: Option<&str>,
) -> Result<(Lang, LoginFlow, UserPool, AppClient), Response> {
    let lang = lang_of(headers, query_lang);
    let Some(flow) = flow_of(state, headers, flow_id).await else {
        return Err(error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        ));
    };
    let lang = flow_lang(headers, query_lang, &flow);
    let Some((pool, client)) = flow_context(state, &flow).await else {
        return Err(error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.unknown_client",
        ));
    };
    Ok((lang, flow, pool, client))
}

/// A form field, trimmed (empty when absent).
pub fn form_text(form: &HashMap<String, String>, name: &str) -> String {
    form.get(name)
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// The username a form names, else the one the flow remembers.
pub fn form_username(form: &HashMap<String, String>, flow: &LoginFlow) -> String {
    Some(form_text(form, "username"))
        .filter(|s| !s.is_empty())
        .or_else(|| flow.username.clone())
        .unwrap_or_default()
}

/// `GET /oauth2/authorize` (and `GET /login` with authorization parameters, as Cognito's
/// hosted UI accepts).
pub async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let params: AuthorizeParams = match serde_urlencoded::from_str(&query) {
        Ok(p) => p,
        Err(_) => {
            let lang = lang_of(&headers, None);
            return error_page(
                &state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.invalid_request",
            );
        }
    };
    let lang = lang_of(&headers, params.lang.as_deref());
    let (request, client) = match authorize::validate(state.node.store.as_ref(), &params).await {
        Ok(v) => v,
        Err(AuthorizeError::Page(kind)) => {
            return error_page(&state, StatusCode::BAD_REQUEST, lang, kind.message_key())
        }
        Err(AuthorizeError::Redirect {
            redirect_uri,
            pool_id,
            state: st,
            error,
            fragment,
        }) => {
            let issuer = state.node.issuer(&pool_id);
            return redirect_error(
                &state,
                lang,
                &redirect_uri,
                &issuer,
                st.as_deref(),
                &error,
                fragment,
            );
        }
    };
    let request =
        match super::federation::route_idp_identifier(&state, request, &client, lang).await {
            Ok(r) => r,
            Err(response) => return response,
        };
    let now = now();
    // An existing session signs the user in without a password, unless prompt=login.
    if request.prompt != Prompt::Login {
        if let Some((user, auth_time)) = session_user(&state, &headers, &request.pool_id, now).await
        {
            return complete(&state, &request, &client, &user, auth_time, now, None).await;
        }
    }
    if request.prompt == Prompt::None {
        let error = OAuthError::new(ErrorCode::LoginRequired, "The user is not signed in.");
        return redirect_error(
            &state,
            lang,
            &request.redirect_uri,
            &state.node.issuer(&request.pool_id),
            request.state.as_deref(),
            &error,
            request.response_type == ResponseType::Token,
        );
    }
    let (browser, new_cookie) = match cookies::get(&headers, cookies::BROWSER) {
        Some(b) if b.len() >= 32 && b.len() <= 64 => (b, None),
        _ => {
            let b = random_token::<32>();
            (
                b.clone(),
                Some(cookies::set(
                    cookies::BROWSER,
                    &b,
                    "/",
                    None,
                    secure(&state),
                )),
            )
        }
    };
    // `identity_provider=<name>` goes straight to that IdP (Cognito's shortcut past the
    // sign-in page); COGNITO means the page itself.
    if let Some(name) = request
        .identity_provider
        .clone()
        .filter(|name| name != "COGNITO")
    {
        let browser = super::federation::BrowserCookie {
            value: browser,
            set: new_cookie,
        };
        return super::federation::redirect_upstream(
            &state, request, &name, browser, None, lang, now,
        )
        .await;
    }
    let flow = match state.node.sessions.start_flow(request, &browser, now).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "starting a login flow");
            return error_page(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                lang,
                "error.generic",
            );
        }
    };
    let mut location = format!("/login?flow={}", flow.id);
    if let Some(l) = params.lang.as_deref().and_then(Lang::parse) {
        location.push_str(&format!("&lang={}", l.code()));
    }
    let mut response = Redirect::to(&location).into_response();
    if let Some(c) = new_cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

pub(super) fn redirect_error(
    state: &AppState,
    lang: Lang,
    redirect_uri: &str,
    issuer: &str,
    st: Option<&str>,
    error: &OAuthError,
    fragment: bool,
) -> Response {
    match error_redirect(redirect_uri, issuer, st, error, fragment) {
        Some(url) => Redirect::to(&url).into_response(),
        None => error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.invalid_redirect_uri",
        ),
    }
}

/// The signed-in user of this browser in `pool_id`, if the session is live and the user
/// still active.
async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
    pool_id: &str,
    now: UnixTime,
) -> Option<(User, UnixTime)> {
    let signed = cookies::get(headers, cookies::SESSION)?;
    let sid = state.node.master.verify_cookie(cookies::SESSION, &signed)?;
    let session = state
        .node
        .sessions
        .session(&sid, now)
        .await
        .ok()
        .flatten()?;
    if session.pool_id != pool_id {
        return None;
    }
    let user = state
        .node
        .store
        .get_user(pool_id, &UserRef::Sub(session.sub.clone()))
        .await
        .ok()
        .flatten()?;
    (user.enabled && user.status != UserStatus::ForceChangePassword)
        .then_some((user, session.auth_time))
}

/// Finishes a sign-in: the code (or the tokens) on the client's redirect URI, plus the
/// session cookie when a new session was started.
pub async fn complete(
    state: &AppState,
    request: &AuthorizeRequest,
    client: &AppClient,
    user: &User,
    auth_time: UnixTime,
    now: UnixTime,
    session_cookie: Option<HeaderValue>,
) -> Response {
    let issuer = state.node.issuer(&request.pool_id);
    let url = match request.response_type {
        ResponseType::Code => {
            match issue_code(
                state.node.store.as_ref(),
                request,
                &user.sub,
                auth_time,
                client.token_validity.auth_code_secs,
                now,
            )
            .await
            {
                Ok(code) => success_redirect(request, &issuer, &[("code", &code)]),
                Err(e) => Err(e),
            }
        }
        ResponseType::Token => {
            match state
                .node
                .tokens
                .user_tokens_for_sign_in(
                    client,
                    user,
                    &request.scopes,
                    auth_time,
                    request.nonce.as_deref(),
                    now,
                )
                .await
            {
                Ok(t) => {
                    let expires = t.expires_in.to_string();
                    let mut pairs = vec![
                        ("access_token", t.access_token.as_str()),
                        ("token_type", "Bearer"),
                        ("expires_in", expires.as_str()),
                    ];
                    if let Some(id) = t.id_token.as_deref() {
                        pairs.push(("id_token", id));
                    }
                    success_redirect(request, &issuer, &pairs)
                }
                Err(e) => Err(e),
            }
        }
    };
    let url = match url {
        Ok(u) => u,
        Err(e) => error_redirect(
            &request.redirect_uri,
            &issuer,
            request.state.as_deref(),
            &e,
            request.response_type == ResponseType::Token,
        )
        .unwrap_or_else(|| request.redirect_uri.clone()),
    };
    let mut response = Redirect::to(&url).into_response();
    if let Some(c) = session_cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    pub flow: Option<String>,
    pub lang: Option<String>,
    pub notice: Option<String>,
    pub sent: Option<String>,
    pub client_id: Option<String>,
}

/// Notices a page may show after a redirect (a whitelist, so the query cannot inject text).
pub fn notice_text(state: &AppState, lang: Lang, q: &PageQuery) -> Option<String> {
    match q.notice.as_deref()? {
        "confirmed" => Some(state.ui.message(lang, "notice.account_confirmed")),
        "password_changed" => Some(state.ui.message(lang, "notice.password_changed")),
        "code_sent" => Some(match q.sent.as_deref().filter(|s| s.len() <= 100) {
            Some(d) => state.ui.tr(lang, "notice.code_sent", &[("destination", d)]),
            None => state.ui.message(lang, "notice.code_sent_generic"),
        }),
        _ => None,
    }
}

/// `GET /login`: the sign-in page of a flow (or, with `client_id`, the authorize request
/// itself).
pub async fn login_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(q): Query<PageQuery>,
) -> Response {
    if q.flow.is_none() && q.client_id.is_some() {
        return authorize(State(state), headers, RawQuery(raw)).await;
    }
    let (lang, flow, pool, client) =
        match page_flow(&state, &headers, q.flow.as_deref(), q.lang.as_deref()).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    let mut chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id);
    chrome.notice = notice_text(&state, lang, &q);
    let page = login_page_for(
        &flow,
        &pool,
        &client,
        chrome,
        flow.username.clone().unwrap_or_default(),
    );
    html(&state, StatusCode::OK, lang, &page)
}

pub(super) fn login_page_for(
    flow: &LoginFlow,
    pool: &UserPool,
    client: &AppClient,
    chrome: Chrome,
    username: String,
) -> LoginPage {
    LoginPage {
        chrome,
        form_action: "/login".into(),
        username_kind: UsernameKind::for_sign_in(pool),
        username,
        password_login: true,
        signup_allowed: !pool.admin_create_user_only,
        // Flow ids are base64url tokens: safe in a query as they are.
        signup_url: format!("/signup?flow={}", flow.id),
        forgot_url: format!("/forgot-password?flow={}", flow.id),
        providers: super::federation::provider_buttons(flow, pool, client),
        work_email: super::federation::routes_work_email(pool, client),
        work_email_value: String::new(),
    }
}

/// `POST /login`: checks the credentials with brute-force protection, then completes the
/// flow.
pub async fn login_submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let lang = lang_of(&headers, q.lang.as_deref());
    let Some(mut flow) = submitted_flow(&state, &headers, &form).await else {
        return error_page(&state, StatusCode::FORBIDDEN, lang, "error.session_expired");
    };
    let lang = flow_lang(&headers, q.lang.as_deref(), &flow);
    let Some((pool, client)) = flow_context(&state, &flow).await else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.unknown_client",
        );
    };
    let username = form_text(&form, "username");
    let password = SecretString::new(form.get("password").cloned().unwrap_or_default());
    let now = now();
    let again = |state: &AppState, flow: &LoginFlow, key: &str, status: StatusCode| {
        let chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id)
            .with_error(state.ui.message(lang, key));
        html(
            state,
            status,
            lang,
            &login_page_for(flow, &pool, &client, chrome, username.clone()),
        )
    };
    if username.is_empty() || username.len() > 256 || password.expose().len() > 1024 {
        return again(&state, &flow, "error.bad_credentials", StatusCode::OK);
    }
    let ip = super::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    let login_key = crate::core::throttle::login_key(&pool, &username);
    match state.throttle.check(&pool.id, &login_key, ip, now).await {
        Ok(Verdict::Allow { delay }) => {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
        }
        Ok(Verdict::Locked { .. }) => {
            return again(
                &state,
                &flow,
                "error.account_locked",
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "brute-force check");
            return again(
                &state,
                &flow,
                "error.generic",
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    }
    let user = match state
        .node
        .directory
        .authenticate(&pool, &username, &password, now)
        .await
    {
        Ok(user) => {
            let _ = state
                .throttle
                .record_success(&pool.id, &login_key, ip)
                .await;
            user
        }
        Err(DirectoryError::NotAuthorized) => {
            let _ = state
                .throttle
                .record_failure(&pool.id, &login_key, ip, now)
                .await;
            return again(&state, &flow, "error.bad_credentials", StatusCode::OK);
        }
        Err(DirectoryError::UserNotConfirmed) => {
            flow.username = Some(username.clone());
            let _ = state.node.sessions.save_flow(&flow, now).await;
            let sent = state
                .accounts
                .resend_confirmation_code(&pool, &username, lang.code(), now)
                .await
                .ok()
                .map(|d| d.destination);
            let mut url = format!("/confirm?flow={}&notice=code_sent", flow.id);
            if let Some(d) = sent {
                url.push_str(&format!("&sent={}", urlencode(&d)));
            }
            return Redirect::to(&url).into_response();
        }
        Err(DirectoryError::PasswordResetRequired) => {
            flow.username = Some(username.clone());
            let _ = state.node.sessions.save_flow(&flow, now).await;
            return Redirect::to(&format!("/forgot-password?flow={}", flow.id)).into_response();
        }
        Err(DirectoryError::UserDisabled) => {
            return again(&state, &flow, "error.user_disabled", StatusCode::OK)
        }
        Err(DirectoryError::TemporaryPasswordExpired) => {
            return again(
                &state,
                &flow,
                "error.temporary_password_expired",
                StatusCode::OK,
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "sign-in failed");
            return again(
                &state,
                &flow,
                "error.generic",
                StatusCode::SERVICE_UNAVAILABLE,
            );
        }
    };
    if user.status == UserStatus::ForceChangePassword {
        // NEW_PASSWORD_REQUIRED: the flow remembers who proved the temporary password.
        flow.pending_new_password = Some(user.sub.clone());
        let _ = state.node.sessions.save_flow(&flow, now).await;
        let page = NewPasswordPage {
            chrome: Chrome::new(&client.branding, &flow.csrf, &flow.id),
            form_action: "/login/new-password".into(),
            password_rules: state.ui.password_rules(lang, &pool.password_policy),
        };
        return html(&state, StatusCode::OK, lang, &page);
    }
    finish_sign_in(&state, &headers, &flow, &client, &user, lang, now).await
}

/// Starts the session and completes the flow (once).
pub async fn finish_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    flow: &LoginFlow,
    client: &AppClient,
    user: &User,
    lang: Lang,
    now: UnixTime,
) -> Response {
    let _ = headers;
    let Ok(Some(flow)) = state.node.sessions.finish_flow(&flow.id, now).await else {
        // Already completed (a double submit): nothing more to do for this flow.
        return error_page(state, StatusCode::CONFLICT, lang, "error.session_expired");
    };
    let auth_time = now;
    let cookie = match state
        .node
        .sessions
        .start_session(&flow.request.pool_id, &user.sub, auth_time, now)
        .await
    {
        Ok(sid) => Some(cookies::set(
            cookies::SESSION,
            &state.node.master.sign_cookie(cookies::SESSION, &sid),
            "/",
            Some(crate::core::session::SESSION_TTL_SECS),
            secure(state),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "could not start a session");
            None
        }
    };
    complete(state, &flow.request, client, user, auth_time, now, cookie).await
}

/// `POST /login/new-password`: the user who signed in with a temporary password sets a
/// permanent one, then the flow completes.
pub async fn new_password_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let lang = lang_of(&headers, q.lang.as_deref());
    let Some(flow) = submitted_flow(&state, &headers, &form).await else {
        return error_page(&state, StatusCode::FORBIDDEN, lang, "error.session_expired");
    };
    let lang = flow_lang(&headers, q.lang.as_deref(), &flow);
    let Some(sub) = flow.pending_new_password.clone() else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        );
    };
    let Some((pool, client)) = flow_context(&state, &flow).await else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.unknown_client",
        );
    };
    let password = form.get("password").cloned().unwrap_or_default();
    let confirm = form.get("password_confirm").cloned().unwrap_or_default();
    let again = |key: String| {
        let chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id).with_error(key);
        let page = NewPasswordPage {
            chrome,
            form_action: "/login/new-password".into(),
            password_rules: state.ui.password_rules(lang, &pool.password_policy),
        };
        html(&state, StatusCode::OK, lang, &page)
    };
    if password != confirm {
        return again(state.ui.message(lang, "error.passwords_mismatch"));
    }
    let now = now();
    match state
        .accounts
        .complete_new_password(&pool, &sub, &SecretString::new(password), now)
        .await
    {
        Ok(user) => finish_sign_in(&state, &headers, &flow, &client, &user, lang, now).await,
        Err(crate::core::account::AccountError::InvalidPassword(_)) => {
            again(state.ui.message(lang, "error.password_policy"))
        }
        Err(e) => {
            tracing::warn!(error = %e, "new password refused");
            again(state.ui.message(lang, "error.generic"))
        }
    }
}

#[derive(serde::Deserialize, Default)]
pub struct LogoutQuery {
    client_id: Option<String>,
    logout_uri: Option<String>,
    redirect_uri: Option<String>,
    response_type: Option<String>,
    lang: Option<String>,
}

/// `GET /logout`: ends the session, then redirects to a registered `logout_uri`, or (with
/// `redirect_uri` and `response_type`) starts a new sign-in, as Cognito's does.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let raw = raw.unwrap_or_default();
    let q: LogoutQuery = serde_urlencoded::from_str(&raw).unwrap_or_default();
    let lang = lang_of(&headers, q.lang.as_deref());
    let client = match q.client_id.as_deref() {
        Some(id) => state.node.store.get_client(id).await.ok().flatten(),
        None => None,
    };
    let Some(client) = client else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.unknown_client",
        );
    };
    let target = if let Some(uri) = q.logout_uri.as_deref() {
        // Exact match against the registered sign-out URLs.
        if !client.logout_urls.iter().any(|u| u == uri) {
            return error_page(
                &state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.invalid_redirect_uri",
            );
        }
        Some(uri.to_string())
    } else if q.redirect_uri.is_some() && q.response_type.is_some() {
        // Sign in again: the authorize endpoint validates the rest.
        Some(format!("/oauth2/authorize?{raw}"))
    } else {
        None
    };
    if let Some(signed) = cookies::get(&headers, cookies::SESSION) {
        if let Some(sid) = state.node.master.verify_cookie(cookies::SESSION, &signed) {
            let _ = state.node.sessions.end_session(&sid).await;
        }
    }
    let clear = cookies::clear(cookies::SESSION, "/", secure(&state));
    let mut response = match target {
        Some(url) => Redirect::to(&url).into_response(),
        None => {
            let page = LoggedOutPage {
                chrome: Chrome::new(&client.branding, "", ""),
                login_url: None,
            };
            html(&state, StatusCode::OK, lang, &page)
        }
    };
    response.headers_mut().append(header::SET_COOKIE, clear);
    response
}

/// Percent-encodes a query value.
pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
