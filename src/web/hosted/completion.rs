//! Completing a sign-in, whichever way the user proved who they are (a password or a new
//! password on the hosted pages, an upstream IdP) or was found already signed in (a live
//! session at `/oauth2/authorize`): the login flow is consumed once, a session is started,
//! and the code (or the tokens, implicit flow) goes to the client's redirect URI.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::plumbing::{error_page, secure};
use super::ui::Lang;
use crate::core::mfa;
use crate::core::model::{AppClient, User, UserStatus, OWN_USERS};
use crate::core::oauth::authorize::{issue_code, success_redirect, AuthorizeRequest, ResponseType};
use crate::core::session::{LoginFlow, Session, SessionExtras};
use crate::core::storage::UserRef;
use crate::core::UnixTime;
use crate::web::cookies;
use crate::web::AppState;

/// The signed-in user of this browser in the client's pool, if the session is live, the
/// user still active, and the way the session was signed in (`COGNITO` or an IdP) one
/// that `client` takes: an app that takes only its corporate IdP is not entered with a
/// password session, nor with another IdP's.
///
/// The session must also satisfy the pool's MFA rule as it is now
/// ([`mfa::session_satisfies`]): a password session made before the user enrolled a
/// factor (or before the pool turned `ON`) does not pass.
pub async fn session_user(
    state: &AppState,
    headers: &HeaderMap,
    client: &AppClient,
    now: UnixTime,
) -> Option<(User, UnixTime)> {
    let pool_id = client.pool_id.as_str();
    let (_, session) = current_session(state, headers, pool_id, now).await?;
    if session.pool_id != pool_id
        || session
            .only_client
            .as_ref()
            .is_some_and(|c| c != &client.id)
        || !session
            .method
            .as_deref()
            .is_some_and(|m| client.supports(m))
    {
        return None;
    }
    let user = state
        .node
        .store
        .get_user(pool_id, &UserRef::Sub(session.sub.clone()))
        .await
        .ok()
        .flatten()?;
    if !(user.enabled && user.status != UserStatus::ForceChangePassword) {
        return None;
    }
    // A federated sign-in's IdP asked its own factors (as Cognito leaves them to it).
    if session.method.as_deref() != Some(OWN_USERS) {
        return Some((user, session.auth_time));
    }
    let pool = state.node.directory.pool(pool_id).await.ok()?;
    mfa::session_satisfies(&pool, &user, &session.amr).then_some((user, session.auth_time))
}

/// This browser's live session in `pool_id` (its id and record), from the signed cookie.
pub async fn current_session(
    state: &AppState,
    headers: &HeaderMap,
    pool_id: &str,
    now: UnixTime,
) -> Option<(String, Session)> {
    let name = cookies::session(pool_id);
    let signed = cookies::get(headers, &cookies::name(&name, secure(state)))?;
    let sid = state.node.master.verify_cookie(&name, &signed)?;
    let session = state
        .node
        .sessions
        .session(&sid, now)
        .await
        .ok()
        .flatten()?;
    (session.pool_id == pool_id).then_some((sid, session))
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
        Err(e) => request
            .error_redirect(&issuer, &e)
            .unwrap_or_else(|| request.redirect_uri.clone()),
    };
    let mut response = Redirect::to(&url).into_response();
    if let Some(c) = session_cookie {
        response.headers_mut().append(header::SET_COOKIE, c);
    }
    response
}

/// Starts the session (recording `amr`, what the sign-in proved) and completes the flow
/// (once). A flow with `after` (the account security page's own sign-in) goes there
/// instead of the client: no code is issued.
#[allow(clippy::too_many_arguments)]
pub async fn finish_sign_in(
    state: &AppState,
    headers: &HeaderMap,
    flow: &LoginFlow,
    client: &AppClient,
    user: &User,
    amr: &[&str],
    lang: Lang,
    now: UnixTime,
) -> Response {
    // A user who signed up in this flow may be offered a passkey first (issue 13).
    if let Some(page) = super::passkey_offer::offer(state, flow, client, user, amr, lang, now).await
    {
        return page;
    }
    finish_sign_in_now(state, headers, flow, client, user, amr, lang, now).await
}

/// [`finish_sign_in`] without the passkey offer: the offer's own forms end here.
#[allow(clippy::too_many_arguments)]
pub async fn finish_sign_in_now(
    state: &AppState,
    headers: &HeaderMap,
    flow: &LoginFlow,
    client: &AppClient,
    user: &User,
    amr: &[&str],
    lang: Lang,
    now: UnixTime,
) -> Response {
    let _ = headers;
    // A sign-in that a second factor must still complete never reaches here without its
    // proof: the handlers call this only after the pool's rule is met.
    let Ok(Some(flow)) = state.node.sessions.finish_flow(&flow.id, now).await else {
        // Already completed (a double submit): nothing more to do for this flow.
        return error_page(state, StatusCode::CONFLICT, lang, "error.session_expired");
    };
    let auth_time = now;
    let cookie = session_cookie(
        state,
        &flow.request.pool_id,
        &user.sub,
        OWN_USERS,
        SessionExtras {
            amr: amr.iter().map(|a| a.to_string()).collect(),
            ..SessionExtras::default()
        },
        auth_time,
        now,
    )
    .await;
    if let Some(after) = flow.after.as_deref().filter(|a| is_local_path(a)) {
        let mut response = Redirect::to(after).into_response();
        if let Some(c) = cookie {
            response.headers_mut().append(header::SET_COOKIE, c);
        }
        return response;
    }
    complete(state, &flow.request, client, user, auth_time, now, cookie).await
}

/// A path on this server (`/account/security?...`), never another site (`//evil`, `/\evil`).
fn is_local_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains('\\')
}

/// Starts a session for `sub` in `pool_id`, signed in by `method` (`COGNITO` or the IdP's
/// name; a SAML IdP's subject in `saml`), and returns its signed cookie; a session that cannot be stored is logged and the
/// sign-in goes on without one.
pub async fn session_cookie(
    state: &AppState,
    pool_id: &str,
    sub: &str,
    method: &str,
    extras: SessionExtras,
    auth_time: UnixTime,
    now: UnixTime,
) -> Option<HeaderValue> {
    let name = cookies::session(pool_id);
    match state
        .node
        .sessions
        .start_session(pool_id, sub, method, extras, auth_time, now)
        .await
    {
        Ok(sid) => Some(cookies::set(
            &cookies::name(&name, secure(state)),
            &state.node.master.sign_cookie(&name, &sid),
            "/",
            Some(crate::core::session::SESSION_TTL_SECS),
            secure(state),
        )),
        Err(e) => {
            tracing::warn!(error = %e, "could not start a session");
            None
        }
    }
}
