//! The built-in demo app: `/demo` starts a real authorization-code + PKCE sign-in with the
//! demo app client, and `/demo/callback` exchanges the code and shows the decoded tokens.
//! It is an ordinary public client of the demo pool: nothing here bypasses the OAuth
//! endpoints' rules.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::cookies;
use super::hosted::plumbing::{error_page, html, lang_of, urlencode};
use super::hosted::ui::{Chrome, DemoPage};
use super::AppState;
use crate::config::apply::DEMO_CLIENT_META;
use crate::core::now;
use crate::core::oauth::grants::pkce_challenge;
use crate::core::secrets::random_token;

async fn demo_client(state: &AppState) -> Option<crate::core::model::AppClient> {
    let id = state
        .node
        .store
        .get_meta(DEMO_CLIENT_META)
        .await
        .ok()
        .flatten()?;
    state.node.store.get_client(&id).await.ok().flatten()
}

fn callback_url(state: &AppState) -> String {
    format!("{}/demo/callback", state.node.config.public_url())
}

fn secure(state: &AppState) -> bool {
    state.node.config.public_url().starts_with("https://")
}

/// `GET /demo`: redirects to the authorization endpoint as a single-page app would.
pub async fn start(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let lang = lang_of(&headers, None);
    let Some(client) = demo_client(&state).await else {
        return error_page(&state, StatusCode::NOT_FOUND, lang, "error.unknown_client");
    };
    let st = random_token::<16>();
    let verifier = random_token::<32>();
    let nonce = random_token::<16>();
    let url = format!(
        "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}&state={st}&nonce={nonce}&code_challenge={}&code_challenge_method=S256",
        urlencode(&client.id),
        urlencode(&callback_url(&state)),
        urlencode(&client.allowed_oauth_scopes.join(" ")),
        pkce_challenge(&verifier),
    );
    let value = state
        .node
        .master
        .sign_cookie(cookies::DEMO, &format!("{st}~{verifier}"));
    let mut response = Redirect::to(&url).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(cookies::DEMO, &value, "/demo", Some(600), secure(&state)),
    );
    response
}

#[derive(serde::Deserialize, Default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /demo/callback`: checks `state`, exchanges the code with the PKCE verifier, shows
/// the tokens.
pub async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let lang = lang_of(&headers, None);
    if q.error.is_some() {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.invalid_request",
        );
    }
    let Some(client) = demo_client(&state).await else {
        return error_page(&state, StatusCode::NOT_FOUND, lang, "error.unknown_client");
    };
    let saved = cookies::get(&headers, cookies::DEMO)
        .and_then(|c| state.node.master.verify_cookie(cookies::DEMO, &c));
    let Some((expected_state, verifier)) = saved
        .as_deref()
        .and_then(|s| s.split_once('~'))
        .map(|(a, b)| (a.to_string(), b.to_string()))
    else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        );
    };
    if q.state.as_deref() != Some(expected_state.as_str()) {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        );
    }
    let Some(code) = q.code.as_deref() else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.invalid_request",
        );
    };
    let tokens = match state
        .node
        .tokens
        .exchange_code(
            &client,
            code,
            Some(&callback_url(&state)),
            Some(&verifier),
            now(),
        )
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::info!(error = %e, "demo code exchange failed");
            return error_page(
                &state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.session_expired",
            );
        }
    };
    let public = state.node.config.public_url();
    let mut page = DemoPage::new(
        Chrome::new(&client.branding, "", ""),
        tokens.id_token.as_deref().unwrap_or(""),
        &tokens.access_token,
        tokens.refresh_token.as_deref(),
    );
    page.expires_in = u64::try_from(tokens.expires_in).ok();
    page.sign_out_url = Some(format!(
        "/logout?client_id={}&logout_uri={}",
        urlencode(&client.id),
        urlencode(&format!("{public}/demo"))
    ));
    page.sign_in_url = Some("/demo".into());
    let mut response = html(&state, StatusCode::OK, lang, &page);
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear(cookies::DEMO, "/demo", secure(&state)),
    );
    response
}
