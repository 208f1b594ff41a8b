//! Plumbing shared by the hosted UI's pages (the sign-in path in [`hosted`](super),
//! the account pages, the upstream IdP pages and the demo app): the page language, rendering
//! with the hosted pages' security headers, the friendly error page, form fields, the
//! login flow a page or form belongs to (this browser's, with its CSRF token), notices
//! after a redirect, and OAuth error redirects to the client.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Query, Request};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::ui::{Chrome, ErrorPage, Lang, Page};
use crate::core::model::{AppClient, UserPool};
use crate::core::now;
use crate::core::oauth::authorize::{error_redirect, AuthorizeRequest, ResponseType};
use crate::core::oauth::OAuthError;
use crate::core::session::LoginFlow;
use crate::web::cookies;
use crate::web::AppState;

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

/// The hosted pages' Content-Security-Policy: no script at all (the pages work without
/// JavaScript), no plugins, no `<base>`, never framed (clickjacking).
pub const PAGE_CSP: &str =
    "script-src 'none'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
/// The policy of a page offering a passkey: the one script WebAuthn needs, served by this
/// server (`/static/passkey.js`), and still no inline script.
pub const PASSKEY_PAGE_CSP: &str =
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// Renders a page, or a plain error if the template itself fails. Hosted pages may not be
/// framed by other sites (clickjacking), run no script, and send no Referer (their URLs
/// carry flow ids).
pub fn html<P: Page>(state: &AppState, status: StatusCode, lang: Lang, page: &P) -> Response {
    render(state, status, lang, page, PAGE_CSP)
}

/// [`html`] for a page that may offer a passkey ceremony: its policy allows this server's
/// own scripts (the passkey script), nothing inline.
pub fn html_with_scripts<P: Page>(
    state: &AppState,
    status: StatusCode,
    lang: Lang,
    page: &P,
) -> Response {
    render(state, status, lang, page, PASSKEY_PAGE_CSP)
}

fn render<P: Page>(
    state: &AppState,
    status: StatusCode,
    lang: Lang,
    page: &P,
    policy: &'static str,
) -> Response {
    match state.ui.page(lang, page) {
        Ok(body) => (
            status,
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
                (header::X_FRAME_OPTIONS, "DENY"),
                (header::CONTENT_SECURITY_POLICY, policy),
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

/// Whether cookies get the `Secure` attribute (the public URL is HTTPS).
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
    let browser = cookies::browser(headers, &state.node.master, secure(state));
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
    let browser = cookies::browser(headers, &state.node.master, secure(state));
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
    let flow = flow_of(state, headers, flow_id).await;
    flow_parts(state, headers, query_lang, flow, StatusCode::BAD_REQUEST).await
}

/// A found flow's language, pool and client, or the error page: `missing` (the status for
/// no live flow of this browser's) with "expired", 400 for a flow whose client is gone.
async fn flow_parts(
    state: &AppState,
    headers: &HeaderMap,
    query_lang: Option<&str>,
    flow: Option<LoginFlow>,
    missing: StatusCode,
) -> Result<(Lang, LoginFlow, UserPool, AppClient), Response> {
    let Some(flow) = flow else {
        let lang = lang_of(headers, query_lang);
        return Err(error_page(state, missing, lang, "error.session_expired"));
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

/// The client's OAuth error on its redirect URI (RFC 6749 section 4.1.2.1), or the error
/// page when no redirect can be built from that URI.
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

/// [`redirect_error`] answering a validated authorization request.
pub(super) fn redirect_request_error(
    state: &AppState,
    lang: Lang,
    request: &AuthorizeRequest,
    error: &OAuthError,
) -> Response {
    redirect_error(
        state,
        lang,
        &request.redirect_uri,
        &state.node.issuer(&request.pool_id),
        request.state.as_deref(),
        error,
        request.response_type == ResponseType::Token,
    )
}

/// The query of a hosted page: its flow and language, the notice a redirect left for it,
/// and (on `/login`) the `client_id` of an authorization request.
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

/// Percent-encodes a query value.
pub fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A hosted page's form POST, checked: the submitted fields, this browser's live flow (by
/// its `flow` and `_csrf` fields), its language, pool and client.
pub struct SubmittedForm {
    pub lang: Lang,
    pub flow: LoginFlow,
    pub pool: UserPool,
    pub client: AppClient,
    pub form: HashMap<String, String>,
}

/// A hosted form POST as a handler's argument: the query's `lang`, the headers and the
/// body, read and checked by [`submitted_form`]; a refused one answers with its page.
impl FromRequest<AppState> for SubmittedForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        #[derive(serde::Deserialize)]
        struct LangOnly {
            lang: Option<String>,
        }
        let query_lang = Query::<LangOnly>::try_from_uri(request.uri())
            .ok()
            .and_then(|Query(q)| q.lang);
        let headers = request.headers().clone();
        // A body over the server's limit is refused as axum refuses it (413).
        let body = Bytes::from_request(request, state)
            .await
            .map_err(IntoResponse::into_response)?;
        submitted_form(state, &headers, query_lang.as_deref(), &body).await
    }
}

/// Reads and checks a hosted page's form POST ([`SubmittedForm`]), or the error page to
/// answer with: 403 for a flow that is not this browser's live one, 400 for a flow whose
/// client is gone.
pub async fn submitted_form(
    state: &AppState,
    headers: &HeaderMap,
    query_lang: Option<&str>,
    body: &[u8],
) -> Result<SubmittedForm, Response> {
    let form = form_fields(body);
    let flow = submitted_flow(state, headers, &form).await;
    let (lang, flow, pool, client) =
        flow_parts(state, headers, query_lang, flow, StatusCode::FORBIDDEN).await?;
    Ok(SubmittedForm {
        lang,
        flow,
        pool,
        client,
        form,
    })
}
