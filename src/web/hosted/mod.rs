//! The hosted UI: the pages and forms a browser signs in with, under the paths Cognito's
//! hosted UI uses.
//!
//! This module is the sign-in path: `/oauth2/authorize`, `/login` (with its work email
//! form, `POST /oauth2/idp`), `/login/new-password`, `/logout`.
//! `/oauth2/authorize` validates the request, answers at once from a session when it can,
//! and otherwise starts a stored login flow and sends the browser to `/login?flow=<id>`.
//! Every form carries the flow id and its CSRF token, and only the browser that started
//! the flow (its `cognate_browser` cookie) may submit it. The password itself is checked
//! by the core ([`crate::core::signin`]); this module renders the outcome.
//!
//! Beside it:
//! - [`account`]: sign up, confirm, forgot and reset password;
//! - [`upstream`]: the upstream IdP buttons, `GET /oauth2/idp` and the callback
//!   `/oauth2/idpresponse/<pool id>/<provider>` (and the bare `/oauth2/idpresponse`
//!   where it is safe; the OAuth/OIDC protocol work is [`crate::federation`]'s).
//!   The SAML service provider's endpoints will sit here too: the assertion consumer
//!   service `POST /saml2/idpresponse` (Cognito's path), taking the IdP's `SAMLResponse`
//!   and `RelayState`, and the SP metadata;
//! - [`completion`]: completing a sign-in, however the user proved who they are: the login
//!   flow consumed once, a session started, the code (or tokens) sent to the client;
//! - [`plumbing`]: what every page shares: its language, rendering with the hosted pages'
//!   security headers, the error page, form fields, the login flow a page or form belongs
//!   to (this browser's, with its CSRF token), notices, OAuth error redirects;
//! - [`ui`]: the templates, their typed contexts and the message catalogs.
//!
//! Dependencies run one way: this module uses `account` and `upstream`, and all of them
//! use `completion`, `plumbing` and `ui`.

pub mod account;
pub mod completion;
pub mod mfa;
pub mod not_me;
pub mod passkey_offer;
pub mod passwordless;
pub mod plumbing;
pub mod security;
pub mod ui;
pub mod upstream;

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::cookies;
use super::AppState;
use crate::core::mfa::AMR_PASSWORD;
use crate::core::model::{AppClient, FirstFactor, UserPool, OWN_USERS};
use crate::core::now;
use crate::core::oauth::authorize::{self, AuthorizeError, AuthorizeParams, PageError, Prompt};
use crate::core::oauth::{ErrorCode, OAuthError};
use crate::core::secrets::SecretString;
use crate::core::session::{LoginFlow, PendingMfa};
use crate::core::signin::{PasswordSignIn, SignInError, SignInOutcome};
use crate::core::threat::EventContext;
use crate::federation::flow::provider_for_identifier;
use completion::{complete, finish_sign_in, session_user};
use plumbing::{
    error_page, form_text, html, lang_of, notice_text, page_flow, redirect_error,
    redirect_request_error, secure, urlencode, PageQuery, SubmittedForm,
};
use ui::{Chrome, Lang, LoggedOutPage, LoginPage, NewPasswordPage, UsernameKind};
use upstream::{
    provider_buttons, redirect_upstream, route_idp_identifier, routes_work_email, BrowserCookie,
};

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
            return error_page(&state, StatusCode::BAD_REQUEST, lang, page_error_key(kind))
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
    let request = match route_idp_identifier(&state, request, &client, lang).await {
        Ok(r) => r,
        Err(response) => return response,
    };
    let now = now();
    // An existing session signs the user in without a password, unless prompt=login, when
    // it was signed in a way this client takes, meets the pool's MFA rule, and is recent
    // enough for `max_age` (OIDC Core 3.1.2.1; else the user signs in again, second factor
    // included).
    if request.prompt != Prompt::Login {
        if let Some((user, auth_time)) = session_user(&state, &headers, &client, now).await {
            if request.session_fresh_enough(auth_time, now) {
                return complete(&state, &request, &client, &user, auth_time, now, None).await;
            }
        }
    }
    if request.prompt == Prompt::None {
        let error = OAuthError::new(ErrorCode::LoginRequired, "The user is not signed in.");
        return redirect_request_error(&state, lang, &request, &error);
    }
    // Only a binding value this server issued is adopted (signed); a planted one is
    // replaced, so the attacker's flow is never this browser's.
    let master = &state.node.master;
    let (browser, new_cookie) = match cookies::browser(&headers, master, secure(&state)) {
        Some(b) => (b, None),
        None => {
            let (b, cookie) = cookies::issue_browser(master, secure(&state));
            (b, Some(cookie))
        }
    };
    // `identity_provider=<name>` goes straight to that IdP (Cognito's shortcut past the
    // sign-in page); COGNITO means the page itself.
    if let Some(name) = request
        .identity_provider
        .clone()
        .filter(|name| name != OWN_USERS)
    {
        let browser = BrowserCookie {
            value: browser,
            set: new_cookie,
        };
        return redirect_upstream(&state, request, &name, browser, None, lang, now).await;
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
    // The long-lived device cookie the risk signals recognise this browser by.
    if cookies::device(&headers, secure(&state)).is_none() {
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies::issue_device(secure(&state)));
    }
    response
}

/// The error page's message for an authorization request that cannot be answered on the
/// client's redirect URI.
fn page_error_key(kind: PageError) -> &'static str {
    match kind {
        PageError::MissingClient | PageError::UnknownClient => "error.unknown_client",
        PageError::MissingRedirectUri | PageError::UnregisteredRedirectUri => {
            "error.invalid_redirect_uri"
        }
        PageError::Unavailable => "error.too_many_requests",
        PageError::Internal => "error.generic",
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
    login_html(&state, StatusCode::OK, lang, &page)
}

/// Renders the sign-in page; one offering a passkey may run the passkey script.
pub(crate) fn login_html(
    state: &AppState,
    status: StatusCode,
    lang: Lang,
    page: &LoginPage,
) -> Response {
    if page.passkey.is_some() {
        plumbing::html_with_scripts(state, status, lang, page)
    } else {
        html(state, status, lang, page)
    }
}

pub(crate) fn login_page_for(
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
        password_login: client.takes_own_users(),
        signup_allowed: !pool.admin_create_user_only,
        // Flow ids are base64url tokens: safe in a query as they are.
        signup_url: format!("/signup?flow={}", flow.id),
        forgot_url: format!("/forgot-password?flow={}", flow.id),
        // The account security page's own sign-in (`after`) is the pool's own user's.
        providers: if flow.after.is_some() {
            Vec::new()
        } else {
            provider_buttons(flow, pool, client)
        },
        work_email: flow.after.is_none() && routes_work_email(pool, client),
        work_email_value: String::new(),
        passkey: pool
            .factors
            .allows_first(FirstFactor::Passkey)
            .then(|| ui::PasskeyButton::new("/login/passkey/options", "signin", "login.passkey")),
        email_url: pool
            .factors
            .allows_first(FirstFactor::EmailOtp)
            .then(|| format!("/login/email?flow={}", flow.id)),
    }
}

/// `POST /oauth2/idp` (the sign-in page's "sign in with your work email" form, `_csrf`,
/// `flow`, `identifier`): routes like `idp_identifier` to the IdP whose identifiers claim
/// the email's domain; a domain none claims shows the page again with an error.
pub async fn work_email_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    SubmittedForm {
        lang,
        flow,
        pool,
        client,
        form,
    }: SubmittedForm,
) -> Response {
    let identifier = form.get("identifier").map(String::as_str).unwrap_or("");
    let routed = provider_for_identifier(&pool, &client.supported_identity_providers, identifier)
        .filter(|_| flow.after.is_none());
    let Some(provider) = routed else {
        return login_page_work_email_error(&state, &flow, &pool, &client, lang, identifier);
    };
    // `submitted_flow` checked this browser's cookie.
    let Some(value) = cookies::browser(&headers, &state.node.master, secure(&state)) else {
        return error_page(&state, StatusCode::FORBIDDEN, lang, "error.session_expired");
    };
    redirect_upstream(
        &state,
        flow.request.clone(),
        &provider.name.clone(),
        BrowserCookie { value, set: None },
        Some(flow.id.clone()),
        lang,
        now(),
    )
    .await
}

/// The sign-in page again, with an error for the work email field (a domain no IdP
/// claims): the user stays on the page instead of losing the flow.
fn login_page_work_email_error(
    state: &AppState,
    flow: &LoginFlow,
    pool: &UserPool,
    client: &AppClient,
    lang: Lang,
    typed: &str,
) -> Response {
    let chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id)
        .with_error(state.ui.message(lang, "error.unknown_work_domain"));
    let mut page = login_page_for(
        flow,
        pool,
        client,
        chrome,
        flow.username.clone().unwrap_or_default(),
    );
    page.work_email_value = typed.chars().take(256).collect();
    login_html(state, StatusCode::BAD_REQUEST, lang, &page)
}

/// `POST /login`: the core's password sign-in ([`SignIn::password`]: the brute-force
/// count, verification, the next step by the user's status), rendered: the code on the
/// client's redirect URI, the new-password page, the confirmation or reset page, or the
/// sign-in page again with the refusal's message.
///
/// [`SignIn::password`]: crate::core::signin::SignIn::password
pub async fn login_submit(
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
    let username = form_text(&form, "username");
    let password = SecretString::new(form.get("password").cloned().unwrap_or_default());
    let now = now();
    let address = super::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    let attempt = PasswordSignIn {
        pool: &pool,
        client: &client,
        login: &username,
        password: &password,
        address,
        now,
        validation_data: Default::default(),
        context: Some(event_context(&state, &headers, &pool, &client, address)),
    };
    let user = match state.signin.password(attempt).await {
        Ok(SignInOutcome::SignedIn(user)) => user,
        Ok(SignInOutcome::MfaRequired { user, factors }) => {
            // The factors asked stay asked (threat protection's `mfa` response may ask
            // one the pool's rule alone would not).
            return to_second_factor_asking(
                &state,
                &mut flow,
                &user,
                (AMR_PASSWORD, false),
                factors,
                now,
            )
            .await;
        }
        Ok(SignInOutcome::MfaSetup { user, .. }) => {
            return to_second_factor(&state, &mut flow, &user, AMR_PASSWORD, true, now).await
        }
        Ok(SignInOutcome::NewPasswordRequired(user)) => {
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
        Err(SignInError::PasswordsNotTaken) => {
            // The page offered no password form: a posted one is forged.
            return error_page(
                &state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.invalid_request",
            );
        }
        Err(SignInError::UserNotConfirmed) => {
            flow.username = Some(username.clone());
            let _ = state.node.sessions.save_flow(&flow, now).await;
            let sent = state
                .accounts
                .resend_confirmation_code(
                    &pool,
                    &username,
                    lang.code(),
                    &crate::core::threat::EventContext::new(
                        Some(&client.id),
                        Some(address),
                        super::net::user_agent(&headers).as_deref(),
                    ),
                    now,
                )
                .await
                .ok()
                .map(|d| d.destination);
            let mut url = format!("/confirm?flow={}&notice=code_sent", flow.id);
            if let Some(d) = sent {
                url.push_str(&format!("&sent={}", urlencode(&d)));
            }
            return Redirect::to(&url).into_response();
        }
        Err(SignInError::PasswordResetRequired) => {
            flow.username = Some(username.clone());
            let _ = state.node.sessions.save_flow(&flow, now).await;
            return Redirect::to(&format!("/forgot-password?flow={}", flow.id)).into_response();
        }
        Err(e) => {
            if let SignInError::Internal { .. } = e {
                tracing::error!(error = %e, "password sign-in");
            }
            let (key, status) = sign_in_refusal(&e);
            let mut message = state.ui.message(lang, key);
            // The webhook's own words (Cognito's "PreAuthentication failed with error ...").
            if let SignInError::TriggerRefused(why) = &e {
                message = format!("{} {why}", state.ui.message(lang, "error.trigger_refused"));
            }
            let chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id).with_error(message);
            let page = login_page_for(&flow, &pool, &client, chrome, username);
            return login_html(&state, status, lang, &page);
        }
    };
    finish_sign_in(
        &state,
        &headers,
        &flow,
        &client,
        &user,
        &[AMR_PASSWORD],
        lang,
        now,
    )
    .await
}

/// Where a hosted sign-in comes from, for the auth event log: the client, the address,
/// the browser's user agent and its device cookie (hashed with the pool id).
fn event_context(
    state: &AppState,
    headers: &HeaderMap,
    pool: &UserPool,
    client: &AppClient,
    address: std::net::IpAddr,
) -> EventContext {
    let mut context = EventContext::new(
        Some(&client.id),
        Some(address),
        super::net::user_agent(headers).as_deref(),
    );
    context.device = cookies::device(headers, secure(state))
        .map(|value| crate::core::threat::risk::device_id(&pool.id, &value));
    context.expects_device = true;
    context
}

/// A first factor proven (`first_amr`: a password, an emailed sign-in code), and the pool
/// asks a second factor (or enrolment first): the flow remembers who is half signed in,
/// and the browser goes to the second-factor page.
pub(crate) async fn to_second_factor(
    state: &AppState,
    flow: &mut LoginFlow,
    user: &crate::core::model::User,
    first_amr: &str,
    setup: bool,
    now: crate::core::UnixTime,
) -> Response {
    to_second_factor_asking(state, flow, user, (first_amr, setup), Vec::new(), now).await
}

/// [`to_second_factor`] remembering the factors the sign-in asked (`risk_factors`).
async fn to_second_factor_asking(
    state: &AppState,
    flow: &mut LoginFlow,
    user: &crate::core::model::User,
    (first_amr, setup): (&str, bool),
    risk_factors: Vec<crate::core::model::MfaFactor>,
    now: crate::core::UnixTime,
) -> Response {
    flow.pending_mfa = Some(PendingMfa {
        sub: user.sub.clone(),
        amr: vec![first_amr.to_string()],
        since: now,
        setup,
        risk_factors,
    });
    flow.pending_new_password = None;
    if !matches!(state.node.sessions.save_flow(flow, now).await, Ok(true)) {
        let lang = Lang::default();
        return error_page(state, StatusCode::CONFLICT, lang, "error.session_expired");
    }
    let page = if setup {
        "/login/mfa-setup"
    } else {
        "/login/mfa"
    };
    Redirect::to(&format!("{page}?flow={}", flow.id)).into_response()
}

/// The sign-in page's message and status for a refused password sign-in that shows the
/// page again.
fn sign_in_refusal(e: &SignInError) -> (&'static str, StatusCode) {
    match e {
        SignInError::NotAuthorized => ("error.bad_credentials", StatusCode::OK),
        SignInError::Locked { .. } => ("error.account_locked", StatusCode::TOO_MANY_REQUESTS),
        SignInError::UserDisabled => ("error.user_disabled", StatusCode::OK),
        SignInError::TemporaryPasswordExpired => {
            ("error.temporary_password_expired", StatusCode::OK)
        }
        SignInError::TriggerRefused(_) => ("error.trigger_refused", StatusCode::OK),
        SignInError::BlockedByRisk => ("error.blocked_by_risk", StatusCode::FORBIDDEN),
        // The other refusals are answered by a page of their own; reaching here is an
        // internal failure.
        SignInError::PasswordsNotTaken
        | SignInError::UserNotConfirmed
        | SignInError::PasswordResetRequired
        | SignInError::InvalidParameter { .. }
        | SignInError::SessionExpired
        | SignInError::Internal { .. } => ("error.generic", StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// `POST /login/new-password`: the user who signed in with a temporary password sets a
/// permanent one, then the flow completes.
pub async fn new_password_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    SubmittedForm {
        lang,
        flow,
        pool,
        client,
        form,
    }: SubmittedForm,
) -> Response {
    let Some(sub) = flow.pending_new_password.clone() else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
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
        Ok(user) => match SignInOutcome::after_first_factor(&pool, user) {
            SignInOutcome::MfaRequired { user, .. } => {
                let mut flow = flow;
                to_second_factor(&state, &mut flow, &user, AMR_PASSWORD, false, now).await
            }
            SignInOutcome::MfaSetup { user, .. } => {
                let mut flow = flow;
                to_second_factor(&state, &mut flow, &user, AMR_PASSWORD, true, now).await
            }
            SignInOutcome::SignedIn(user) | SignInOutcome::NewPasswordRequired(user) => {
                finish_sign_in(
                    &state,
                    &headers,
                    &flow,
                    &client,
                    &user,
                    &[AMR_PASSWORD],
                    lang,
                    now,
                )
                .await
            }
        },
        // Says what the password lacks, as the sign-up and reset pages do.
        Err(e @ crate::core::account::AccountError::InvalidPassword(_)) => {
            again(account::message_for(&state, lang, &e))
        }
        Err(e) => {
            tracing::warn!(error = %e, "new password refused");
            again(state.ui.message(lang, "error.generic"))
        }
    }
}

/// The IdP's single logout URL for a session that ended, if it was signed in through a
/// SAML IdP that has a SingleLogoutService (a failure is logged: the browser then goes
/// straight to `target`).
async fn idp_logout_url(
    state: &AppState,
    session: &crate::core::session::Session,
    target: Option<String>,
    now: crate::core::UnixTime,
) -> Option<String> {
    let subject = session.saml.as_ref()?;
    let provider = session.method.as_deref()?;
    let pool = state.node.directory.pool(&session.pool_id).await.ok()?;
    match state
        .federation
        .start_logout(&pool, provider, subject, target, now)
        .await
    {
        Ok(url) => url,
        Err(e) => {
            tracing::warn!(provider, error = %e, "could not start the SAML single logout");
            None
        }
    }
}

/// `GET /saml2/logout`: the single logout service (HTTP-Redirect binding). A
/// `SAMLResponse` answers the LogoutRequest `/logout` sent (the browser then goes where
/// `/logout` was asked to send it); a `SAMLRequest` is the IdP's own logout of a user,
/// who is signed out everywhere, and the browser goes back to the IdP with the signed
/// answer. Anything unsigned, forged, stale or replayed is refused with a page.
pub async fn saml_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    use crate::federation::error::FederationError;
    use crate::federation::saml::logout::{read_redirect, MessageKind};
    let lang = lang_of(&headers, None);
    let now = now();
    let refused = |e: &FederationError| {
        tracing::warn!(error = %e, "SAML single logout refused");
        let (status, key) = match e {
            FederationError::Store(_) | FederationError::Directory(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "error.generic")
            }
            FederationError::SpKey(_) | FederationError::SamlRequest(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "error.generic")
            }
            _ => (StatusCode::BAD_REQUEST, "error.invalid_request"),
        };
        error_page(&state, status, lang, key)
    };
    let message = match read_redirect(raw.as_deref().unwrap_or_default()) {
        Ok(m) => m,
        Err(e) => return refused(&e.into()),
    };
    let signed_out_page = |state: &AppState| {
        let page = LoggedOutPage {
            chrome: Chrome::plain(),
            login_url: None,
        };
        html(state, StatusCode::OK, lang, &page)
    };
    match message.kind {
        MessageKind::Response => match state.federation.finish_logout(&message, now).await {
            Ok(Some(target)) => Redirect::to(&target).into_response(),
            Ok(None) => signed_out_page(&state),
            Err(e) => refused(&e),
        },
        MessageKind::Request => match state.federation.idp_logout(&message, now).await {
            Ok(done) => match done.redirect {
                Some(url) => Redirect::to(&url).into_response(),
                None => signed_out_page(&state),
            },
            Err(e) => refused(&e),
        },
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
    // Signs out of the client's pool only.
    let name = cookies::session(&client.pool_id);
    let sent_as = cookies::name(&name, secure(&state));
    let now = now();
    let mut ended = None;
    if let Some(signed) = cookies::get(&headers, &sent_as) {
        if let Some(sid) = state.node.master.verify_cookie(&name, &signed) {
            ended = state.node.sessions.session(&sid, now).await.ok().flatten();
            let _ = state.node.sessions.end_session(&sid).await;
        }
    }
    // A session signed in through a SAML IdP with a SingleLogoutService: the browser
    // goes to the IdP with a LogoutRequest first, and to `target` when the IdP answers at
    // `/saml2/logout`. Cognate's own session has ended whatever the IdP does.
    let idp_logout = match ended {
        Some(session) if session.pool_id == client.pool_id => {
            idp_logout_url(&state, &session, target.clone(), now).await
        }
        _ => None,
    };
    let clear = cookies::clear(&sent_as, "/", secure(&state));
    let mut response = match idp_logout.or(target) {
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
