//! Threat protection's "was this you?" page (`/security/not-me?token=...`), linked from
//! the notice mailed about a risky sign-in. The GET only shows two buttons (mail scanners
//! fetch links; nothing changes); the POST answers, once: "not me" signs the user out
//! everywhere, requires a password reset and records `Invalid` feedback on the event
//! ([`Risk::answer`](crate::core::threat::Risk::answer)); "it was me" records `Valid`.
//! The token in the form is the CSRF guard: a forged POST must already know it.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::plumbing::{error_page, form_fields, html, lang_of};
use super::ui::{Chrome, NotMePage};
use crate::core::now;
use crate::core::threat::risk::{Answer, AnswerError};
use crate::web::AppState;

#[derive(Deserialize)]
pub struct NotMeQuery {
    token: Option<String>,
    lang: Option<String>,
}

/// `GET /security/not-me`: the question, or the link's expiry.
pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NotMeQuery>,
) -> Response {
    let lang = lang_of(&headers, q.lang.as_deref());
    let Some(risk) = state.signin.risk() else {
        return error_page(&state, StatusCode::NOT_FOUND, lang, "error.generic");
    };
    let token = q.token.unwrap_or_default();
    let live = match risk.link_is_live(&token, now()).await {
        Ok(live) => live,
        Err(e) => {
            tracing::error!(error = %e, "reading a 'not me' link");
            return error_page(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                lang,
                "error.generic",
            );
        }
    };
    let page = NotMePage {
        chrome: Chrome::plain(),
        token: if live { token } else { String::new() },
        live,
        done: None,
    };
    let status = if live {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    html(&state, status, lang, &page)
}

/// `POST /security/not-me`: the answer (single use across nodes).
pub async fn submit(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let form = form_fields(&body);
    let lang = lang_of(&headers, form.get("lang").map(String::as_str));
    let Some(risk) = state.signin.risk() else {
        return error_page(&state, StatusCode::NOT_FOUND, lang, "error.generic");
    };
    let answer = match form.get("answer").map(String::as_str) {
        Some("not_me") => Answer::NotMe,
        Some("me") => Answer::ItWasMe,
        _ => {
            return error_page(
                &state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.invalid_request",
            )
        }
    };
    let token = form.get("token").cloned().unwrap_or_default();
    let (status, live, done) = match risk.answer(&token, answer, now()).await {
        Ok(()) => {
            let key = match answer {
                Answer::NotMe => "not_me.done_not_me",
                Answer::ItWasMe => "not_me.done_me",
            };
            (StatusCode::OK, false, Some(state.ui.message(lang, key)))
        }
        Err(AnswerError::Expired) => (StatusCode::GONE, false, None),
        Err(AnswerError::Internal(e)) => {
            tracing::error!(error = %e, "answering a 'not me' link");
            return error_page(
                &state,
                StatusCode::SERVICE_UNAVAILABLE,
                lang,
                "error.generic",
            );
        }
    };
    let page = NotMePage {
        chrome: Chrome::plain(),
        token: String::new(),
        live,
        done,
    };
    html(&state, status, lang, &page)
}
