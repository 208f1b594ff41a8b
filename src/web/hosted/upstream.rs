//! The HTTP edge of federated sign-in: sending the browser to an upstream IdP
//! (`identity_provider=` or `idp_identifier=` on `/oauth2/authorize`, a button of the
//! sign-in page through `GET /oauth2/idp`, or its work email field through
//! `POST /oauth2/idp`, a form of the sign-in page handled in [`hosted`](super)) and
//! its return to the provider's own callback `/oauth2/idpresponse/<pool id>/<provider>`
//! (or the bare `/oauth2/idpresponse` where that is safe); for SAML IdPs, the
//! auto-submitting form of the HTTP-POST binding and the assertion consumer service
//! (`POST /saml2/idpresponse`, continued by a same-site `GET`). The protocol work is in
//! [`crate::federation::flow`]; this module reads cookies and queries and renders, and
//! leaves completing the sign-in to [`completion`](super::completion). It does not use
//! [`hosted`](super)'s sign-in path.

use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, Query, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::completion::{complete, session_cookie};
use super::plumbing::{error_page, form_fields, html, lang_of, page_flow, redirect_request_error};
use super::ui::{
    Chrome, ErrorPage, HiddenField, Lang, ProviderButton, UpstreamPostPage, UPSTREAM_POST_SCRIPT,
};
use crate::core::model::{AppClient, UserPool, OWN_USERS};
use crate::core::now;
use crate::core::oauth::authorize::AuthorizeRequest;
use crate::core::oauth::{ErrorCode, OAuthError};
use crate::core::session::{LoginFlow, SessionExtras};
use crate::core::threat::EventContext;
use crate::core::UnixTime;
use crate::federation::error::{missing_description, CallbackFailure, FederationError};
use crate::federation::flow::provider_for_identifier;
use crate::federation::flow::{SignedIn, Started};
use crate::federation::oauth::flow::{CallbackParams, CallbackRoute, PostedFields};
use crate::web::cookies;
use crate::web::net::{client_ip, user_agent};
use crate::web::AppState;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

/// The browser-binding cookie of the browser being sent upstream, and the `Set-Cookie`
/// that creates it when it is new.
pub struct BrowserCookie {
    pub value: String,
    pub set: Option<HeaderValue>,
}

/// Starts an upstream flow for `provider` and redirects the browser to the IdP.
pub async fn redirect_upstream(
    state: &AppState,
    request: AuthorizeRequest,
    provider: &str,
    browser: BrowserCookie,
    login_flow: Option<String>,
    lang: Lang,
    now: UnixTime,
) -> Response {
    let pool = match state.node.directory.pool(&request.pool_id).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "loading the pool of a federated sign-in");
            return error_page(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                lang,
                "error.generic",
            );
        }
    };
    let started = state
        .federation
        .start(&pool, provider, request, &browser.value, login_flow, now)
        .await;
    let mut response = match started {
        Ok(Started {
            url,
            form: Some(fields),
            ..
        }) => post_page(state, lang, url, fields),
        Ok(started) => Redirect::to(&started.url).into_response(),
        Err(FederationError::UnknownProvider(_) | FederationError::UnsupportedProtocol(_)) => {
            error_page(
                state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.invalid_request",
            )
        }
        Err(e) => {
            tracing::warn!(provider, error = %e, "could not start a federated sign-in");
            error_page(
                state,
                StatusCode::BAD_GATEWAY,
                lang,
                "error.federation_failed",
            )
        }
    };
    if let Some(c) = browser.set {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// The auto-submitting form that POSTs `fields` to the IdP at `action` (SAML's HTTP-POST
/// binding). Its policy runs only its own inline script and lets the form go only to
/// the IdP's origin.
fn post_page(
    state: &AppState,
    lang: Lang,
    action: String,
    fields: Vec<(String, String)>,
) -> Response {
    let origin = url::Url::parse(&action)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "'none'".to_string());
    let page = UpstreamPostPage {
        chrome: Chrome::plain(),
        action,
        fields: fields
            .into_iter()
            .map(|(name, value)| HiddenField { name, value })
            .collect(),
    };
    let mut response = html(state, StatusCode::OK, lang, &page);
    let script_hash = STANDARD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        UPSTREAM_POST_SCRIPT.as_bytes(),
    ));
    let policy = format!(
        "script-src 'sha256-{script_hash}'; form-action {origin}; base-uri 'none'; \
         object-src 'none'; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// Whether the sign-in page offers "sign in with your work email": some IdP the client
/// enables claims identifiers (email domains).
pub fn routes_work_email(pool: &UserPool, client: &AppClient) -> bool {
    client
        .supported_identity_providers
        .iter()
        .filter_map(|name| pool.identity_provider(name))
        .any(|p| !p.identifiers.is_empty() && crate::federation::flow::supported(p))
}

/// The sign-in page's buttons: one per IdP the client enables that Cognate can sign in
/// with (OpenID Connect, Sign in with Apple and plain OAuth 2.0).
pub fn provider_buttons(
    flow: &LoginFlow,
    pool: &UserPool,
    client: &AppClient,
) -> Vec<ProviderButton> {
    client
        .supported_identity_providers
        .iter()
        .filter_map(|name| pool.identity_provider(name))
        .filter(|p| crate::federation::flow::supported(p))
        .map(|p| {
            let query = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("flow", &flow.id)
                .append_pair("provider", &p.name)
                .finish();
            ProviderButton {
                name: p.name.clone(),
                display_name: p.display_name.clone(),
                url: format!("/oauth2/idp?{query}"),
            }
        })
        .collect()
}

/// The query of `/oauth2/idp`: the login flow, the button's provider, the page language.
#[derive(serde::Deserialize, Default)]
pub struct IdpQuery {
    pub flow: Option<String>,
    pub provider: Option<String>,
    pub lang: Option<String>,
}

/// `GET /oauth2/idp?flow=<id>&provider=<name>`: a button of the sign-in page; sends this
/// browser's login flow on to the IdP.
pub async fn start_from_login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<IdpQuery>,
) -> Response {
    let (lang, flow, _, client) =
        match page_flow(&state, &headers, q.flow.as_deref(), q.lang.as_deref()).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    let provider = q.provider.unwrap_or_default();
    // A flow that returns to the account security page (`after`) signs the pool's own
    // user in again; an IdP's sign-in would not come back there.
    if provider == OWN_USERS || !client.supports(&provider) || flow.after.is_some() {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.invalid_request",
        );
    }
    // `flow_of` found this browser's cookie.
    let Some(value) = cookies::browser(
        &headers,
        &state.node.master,
        super::plumbing::secure(&state),
    ) else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        );
    };
    let browser = BrowserCookie { value, set: None };
    redirect_upstream(
        &state,
        flow.request.clone(),
        &provider,
        browser,
        Some(flow.id.clone()),
        lang,
        now(),
    )
    .await
}

/// `idp_identifier` (without `identity_provider`) becomes the name of the enterprise IdP
/// whose identifiers claim it; one that no IdP enabled for the client claims is the
/// client's `invalid_request` (its redirect URI was validated already).
pub async fn route_idp_identifier(
    state: &AppState,
    mut request: AuthorizeRequest,
    client: &AppClient,
    lang: Lang,
) -> Result<AuthorizeRequest, Response> {
    let Some(identifier) = request
        .idp_identifier
        .clone()
        .filter(|_| request.identity_provider.is_none())
    else {
        return Ok(request);
    };
    let pool = match state.node.directory.pool(&request.pool_id).await {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "loading the pool of an idp_identifier");
            return Err(error_page(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                lang,
                "error.generic",
            ));
        }
    };
    let routed = provider_for_identifier(&pool, &client.supported_identity_providers, &identifier);
    match routed {
        Some(provider) => {
            request.identity_provider = Some(provider.name.clone());
            Ok(request)
        }
        None => Err(redirect_request_error(
            state,
            lang,
            &request,
            &OAuthError::new(
                ErrorCode::InvalidRequest,
                "idp_identifier matches no identity provider enabled for this app client",
            ),
        )),
    }
}

/// `GET /oauth2/idpresponse`: the bare (Cognito) callback, accepted only where it is
/// safe (see [`crate::federation::oauth::flow::CallbackRoute`]).
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(raw): RawQuery,
) -> Response {
    answer(state, headers, peer, raw, CallbackRoute::Bare).await
}

/// `GET /oauth2/idpresponse/<pool id>/<provider name>`: one provider's own callback.
pub async fn provider_callback(
    State(state): State<AppState>,
    Path((pool_id, provider)): Path<(String, String)>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    RawQuery(raw): RawQuery,
) -> Response {
    answer(
        state,
        headers,
        peer,
        raw,
        CallbackRoute::Provider { pool_id, provider },
    )
    .await
}

/// The IdP's answer at `route`. Success signs the user in (session cookie and the
/// client's code); failure shows a page, or for an error the IdP reported tells the
/// client on its redirect URI.
async fn answer(
    state: AppState,
    headers: HeaderMap,
    peer: SocketAddr,
    raw: Option<String>,
    route: CallbackRoute,
) -> Response {
    let params: CallbackParams =
        serde_urlencoded::from_str(raw.as_deref().unwrap_or_default()).unwrap_or_default();
    let browser = cookies::browser(
        &headers,
        &state.node.master,
        super::plumbing::secure(&state),
    );
    let now = now();
    let outcome = state
        .federation
        .callback(
            &params,
            &route,
            browser.as_deref(),
            &event_context(&state, &headers, peer),
            now,
        )
        .await;
    finish(&state, &headers, outcome, now).await
}

/// The request as the auth event log records a federated sign-in (the flow adds the
/// client).
fn event_context(state: &AppState, headers: &HeaderMap, peer: SocketAddr) -> EventContext {
    let address = client_ip(peer, headers, &state.node.config.server.trusted_proxies);
    EventContext::new(None, Some(address), user_agent(headers).as_deref())
}

/// The end of every federated sign-in: the session and the client's code, or the page
/// (or client error) that says why it failed.
async fn finish(
    state: &AppState,
    headers: &HeaderMap,
    outcome: Result<SignedIn, CallbackFailure>,
    now: UnixTime,
) -> Response {
    let state = state.clone();
    let signed_in = match outcome {
        Ok(s) => s,
        Err(failure) => {
            let lang = lang_of(
                headers,
                failure.request.as_ref().and_then(|r| r.lang.as_deref()),
            );
            return failure_response(&state, lang, failure.request.as_deref(), &failure.error);
        }
    };
    let request = signed_in.request;
    let lang = lang_of(headers, request.lang.as_deref());
    let client = match state.node.store.get_client(&request.client_id).await {
        Ok(Some(c)) => c,
        _ => {
            return error_page(
                &state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.unknown_client",
            )
        }
    };
    if let Some(id) = &signed_in.login_flow {
        // The sign-in page this started from is done.
        let _ = state.node.sessions.finish_flow(id, now).await;
    }
    let auth_time = now;
    let cookie = session_cookie(
        &state,
        &request.pool_id,
        &signed_in.user.sub,
        &signed_in.provider,
        SessionExtras {
            only_client: signed_in.unsolicited.then(|| request.client_id.clone()),
            saml: signed_in.saml.clone(),
            amr: Vec::new(),
        },
        auth_time,
        now,
    )
    .await;
    complete(
        &state,
        &request,
        &client,
        &signed_in.user,
        auth_time,
        now,
        cookie,
    )
    .await
}

/// `POST /oauth2/idpresponse`: a `form_post` IdP's answer at the bare callback (see
/// `posted_answer`).
pub async fn callback_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    posted_answer(state, headers, body, CallbackRoute::Bare).await
}

/// `POST /oauth2/idpresponse/<pool id>/<provider name>`: a `form_post` IdP's answer at
/// its own callback.
pub async fn provider_callback_post(
    State(state): State<AppState>,
    Path((pool_id, provider)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    posted_answer(
        state,
        headers,
        body,
        CallbackRoute::Provider { pool_id, provider },
    )
    .await
}

/// A `form_post` IdP's answer (Apple's auto-submitted form: `code`, `state`, `id_token`
/// and, on the first authorization, `user`). The POST is cross-site, so it carries no
/// SameSite=Lax cookie: the fields are stored for this attempt (if `route` is its own
/// callback) and the browser is sent, by a top-level same-site GET that does carry the
/// cookie, to the same callback with `?state=..&posted=<token>` (the token only this
/// browser receives: see `Federation::keep_posted`), where the flow is checked and
/// consumed (303 See Other, RFC 9110 section 15.4.4, turns the POST into a GET).
async fn posted_answer(
    state: AppState,
    headers: HeaderMap,
    body: Bytes,
    route: CallbackRoute,
) -> Response {
    let form = form_fields(&body);
    let field = |name: &str| form.get(name).filter(|v| v.len() <= 16 * 1024).cloned();
    let fields = PostedFields {
        state: field("state"),
        code: field("code"),
        error: field("error"),
        error_description: field("error_description"),
        iss: field("iss"),
        user: field("user"),
    };
    let lang = lang_of(&headers, None);
    let accepted = state.federation.accept_post(&fields, &route, now()).await;
    let continue_at = accepted.and_then(|continuation| {
        let mut url = state.federation.route_url(&route)?;
        url.query_pairs_mut()
            .append_pair("state", &continuation.flow_id)
            .append_pair("posted", &continuation.token);
        Ok(url)
    });
    match continue_at {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(e) => failure_response(&state, lang, None, &e),
    }
}

/// `POST /saml2/idpresponse`: the SAML ACS (HTTP-POST binding). The IdP's page posts
/// `SAMLResponse` and `RelayState` cross-site, without Cognate's SameSite=Lax cookies:
/// the response is kept for its flow and the browser continues, by a same-site GET that
/// carries the cookie, at `GET /saml2/idpresponse?flow=<request id>&posted=<token>` (303
/// See Other; the token goes only to the browser that posted). Without a RelayState (or
/// with an empty one) the response is unsolicited: IdP-initiated sign-in, completed here
/// when its IdP enabled it ([`crate::federation::saml::unsolicited`]), refused otherwise.
pub async fn saml_acs(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    let form = form_fields(&body);
    let lang = lang_of(&headers, None);
    let Some(saml_response) = form.get("SAMLResponse") else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.invalid_request",
        );
    };
    let relay_state = form
        .get("RelayState")
        .map(String::as_str)
        .filter(|r| !r.is_empty());
    if relay_state.is_none() {
        // No RelayState names a flow: an unsolicited (IdP-initiated) response, signed in
        // here when its IdP enabled that (see `federation::saml::unsolicited`), with no
        // browser to bind (there was no request).
        let now = now();
        let outcome = state
            .federation
            .saml_unsolicited(saml_response, &event_context(&state, &headers, peer), now)
            .await;
        return finish(&state, &headers, outcome, now).await;
    }
    let accepted = state
        .federation
        .accept_saml_post(saml_response, relay_state, now())
        .await;
    match accepted {
        Ok(continuation) => {
            let mut url = match url::Url::parse(&state.federation.acs_url()) {
                Ok(url) => url,
                Err(_) => {
                    return failure_response(&state, lang, None, &FederationError::BadPublicUrl)
                }
            };
            url.query_pairs_mut()
                .append_pair("flow", &continuation.flow_id)
                .append_pair("posted", &continuation.token);
            Redirect::to(url.as_str()).into_response()
        }
        Err(e) => failure_response(&state, lang, None, &e),
    }
}

/// The query of the ACS's continuation.
#[derive(serde::Deserialize, Default)]
pub struct SamlContinue {
    pub flow: Option<String>,
    pub posted: Option<String>,
}

/// `GET /saml2/idpresponse?flow=<request id>`: the same-site continuation of the ACS,
/// where the flow is checked against this browser, the response verified and the user
/// signed in.
pub async fn saml_continue(
    State(state): State<AppState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<SamlContinue>,
) -> Response {
    let browser = cookies::browser(
        &headers,
        &state.node.master,
        super::plumbing::secure(&state),
    );
    let now = now();
    let outcome = state
        .federation
        .saml_callback(
            q.flow.as_deref().unwrap_or_default(),
            q.posted.as_deref().unwrap_or_default(),
            browser.as_deref(),
            &event_context(&state, &headers, peer),
            now,
        )
        .await;
    finish(&state, &headers, outcome, now).await
}

/// A new federated user lacks attributes the pool requires: no user is created (Cognito
/// answers `invalid_request`, "Invalid user attributes: email: Attribute is required.").
/// The page says which attribute the provider did not share, and its button takes the
/// browser back to the client with that OAuth error on its redirect URI.
fn missing_attributes_page(
    state: &AppState,
    lang: Lang,
    request: Option<&AuthorizeRequest>,
    provider: &str,
    attributes: &[String],
) -> Response {
    let names: Vec<String> = attributes
        .iter()
        .map(|name| {
            let key = format!("attribute.{name}");
            if state.ui.catalogs().contains(lang, &key)
                || state.ui.catalogs().contains(Lang::En, &key)
            {
                state.ui.message(lang, &key)
            } else {
                name.clone()
            }
        })
        .collect();
    let back_url = request.and_then(|request| {
        let description = format!(
            "Invalid user attributes: {}",
            missing_description(attributes)
        );
        request.error_redirect(
            &state.node.issuer(&request.pool_id),
            &OAuthError::new(ErrorCode::InvalidRequest, description),
        )
    });
    let page = ErrorPage {
        chrome: Chrome::plain(),
        title: state.ui.message(lang, "error.title"),
        message: state.ui.tr(
            lang,
            "error.federation_attribute_missing",
            &[("provider", provider), ("attributes", &names.join(", "))],
        ),
        back_url,
    };
    html(state, StatusCode::BAD_REQUEST, lang, &page)
}

/// What the browser sees when a federated sign-in fails. An error the IdP itself reported
/// goes back to the client (the flow was this browser's, so the redirect URI and state
/// are the client's own); anything else is a page, the detail only in the log, whose
/// button brings the client its OAuth error when the flow was this browser's.
fn failure_response(
    state: &AppState,
    lang: Lang,
    request: Option<&AuthorizeRequest>,
    error: &FederationError,
) -> Response {
    tracing::warn!(error = %error, "federated sign-in failed");
    match error {
        FederationError::Upstream { error: code, .. } => {
            if let Some(request) = request {
                let (code, description) = match code.as_str() {
                    "access_denied"
                    | "consent_required"
                    | "login_required"
                    | "interaction_required"
                    // Apple's form_post when the user cancels.
                    | "user_cancelled_authorize" => (
                        ErrorCode::AccessDenied,
                        "The user did not sign in at the identity provider.",
                    ),
                    "temporarily_unavailable" => (
                        ErrorCode::TemporarilyUnavailable,
                        "The identity provider is temporarily unavailable.",
                    ),
                    _ => (
                        ErrorCode::ServerError,
                        "The identity provider refused the sign-in.",
                    ),
                };
                let issuer = state.node.issuer(&request.pool_id);
                if let Some(url) =
                    request.error_redirect(&issuer, &OAuthError::new(code, description))
                {
                    return Redirect::to(&url).into_response();
                }
            }
            error_page(
                state,
                StatusCode::BAD_GATEWAY,
                lang,
                "error.federation_failed",
            )
        }
        FederationError::MissingState
        | FederationError::AlreadyPosted
        | FederationError::UnknownState
        | FederationError::WrongBrowser => error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.federation_expired",
        ),
        // A relayed answer (RFC 9700 section 4.4): nothing was exchanged and the flow is
        // left for its own callback.
        FederationError::WrongCallback => error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.federation_wrong_callback",
        ),
        FederationError::BareCallbackRefused(url) => {
            let page = ErrorPage {
                chrome: Chrome::plain(),
                title: state.ui.message(lang, "error.title"),
                message: state
                    .ui
                    .tr(lang, "error.federation_bare_callback", &[("url", url)]),
                back_url: None,
            };
            html(state, StatusCode::BAD_REQUEST, lang, &page)
        }
        FederationError::IssuerChanged(_) => page_back_to_client(
            state,
            (
                StatusCode::FORBIDDEN,
                lang,
                "error.federation_issuer_changed",
            ),
            request,
            OAuthError::new(
                ErrorCode::AccessDenied,
                "The identity provider changed; an administrator must relink this account.",
            ),
        ),
        FederationError::UserDisabled => page_back_to_client(
            state,
            (StatusCode::FORBIDDEN, lang, "error.user_disabled"),
            request,
            OAuthError::new(ErrorCode::AccessDenied, "User is disabled."),
        ),
        FederationError::MissingAttributes {
            provider,
            attributes,
        } => missing_attributes_page(state, lang, request, provider, attributes),
        // A SAML response Cognate refuses (forged, replayed, unsolicited, malformed) is the
        // poster's fault: a page, and the client's error when the flow was this browser's.
        FederationError::Saml(_)
        | FederationError::SamlReplay
        | FederationError::SamlUnsolicited
        | FederationError::IdpInitiatedTarget(_) => page_back_to_client(
            state,
            (StatusCode::BAD_REQUEST, lang, "error.federation_failed"),
            request,
            OAuthError::new(
                ErrorCode::AccessDenied,
                "The identity provider's answer was refused.",
            ),
        ),
        _ => page_back_to_client(
            state,
            (StatusCode::BAD_GATEWAY, lang, "error.federation_failed"),
            request,
            OAuthError::new(
                ErrorCode::ServerError,
                "Signing in with the identity provider failed.",
            ),
        ),
    }
}

/// An error page for a failure of this browser's own flow: the user reads what happened,
/// and its button takes the client's OAuth error (RFC 6749 section 4.1.2.1) to the
/// client's redirect URI, so the app learns the sign-in ended. Without the flow's request
/// (an unknown, spent or foreign attempt) there is no client to tell.
fn page_back_to_client(
    state: &AppState,
    (status, lang, message_key): (StatusCode, Lang, &str),
    request: Option<&AuthorizeRequest>,
    error: OAuthError,
) -> Response {
    let back_url = request
        .and_then(|request| request.error_redirect(&state.node.issuer(&request.pool_id), &error));
    let page = ErrorPage {
        chrome: Chrome::plain(),
        title: state.ui.message(lang, "error.title"),
        message: state.ui.message(lang, message_key),
        back_url,
    };
    html(state, status, lang, &page)
}
