//! The second step of a sign-in (issue 13): the challenge page of a user who must pass a
//! second factor (`/login/mfa`), and enrolment at sign-in for a user of an `ON` pool who
//! has none (`/login/mfa-setup`, Cognito's `MFA_SETUP`: no token, session or code until
//! a factor is enrolled), with the recovery codes shown once.
//!
//! The flow's [`PendingMfa`] says who passed the first factor and when; a step older than
//! [`mfa::PENDING_SECS`] is refused. The codes, assertions and enrolments are the core's
//! ([`crate::core::mfa`]); this module renders the outcome. The passkey ceremonies'
//! options (`POST /login/passkey/options`) are answered here for every sign-in purpose.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};

use super::completion::finish_sign_in;
use super::plumbing::{error_page, form_text, html, html_with_scripts, page_flow, SubmittedForm};
use super::ui::{
    Chrome, FactorLink, Lang, MfaChallengePage, MfaSetupPage, PasskeyButton, RecoveryCodesPage,
    TotpView,
};
use crate::core::mfa::otp::{Channel, EmailCodePurpose};
use crate::core::mfa::{self, requirement_after, MfaError, Requirement, AMR_MFA};
use crate::core::model::{AppClient, FirstFactor, MfaFactor, User, UserPool};
use crate::core::now;
use crate::core::session::{LoginFlow, PendingMfa};
use crate::core::storage::UserRef;
use crate::core::UnixTime;
use crate::web::AppState;

/// The query of the second-factor pages.
#[derive(serde::Deserialize, Default)]
pub struct MfaQuery {
    pub flow: Option<String>,
    pub lang: Option<String>,
    pub factor: Option<String>,
}

/// What the challenge page asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Proof {
    Factor(MfaFactor),
    Recovery,
}

impl Proof {
    pub(crate) fn parse(text: &str) -> Option<Proof> {
        match text {
            "recovery" => Some(Proof::Recovery),
            other => factor_of(other).map(Proof::Factor),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Proof::Factor(f) => factor_str(f),
            Proof::Recovery => "recovery",
        }
    }
}

/// The form spelling of a factor: `totp`, `email`, `passkey`.
pub(crate) fn factor_str(f: MfaFactor) -> &'static str {
    match f {
        MfaFactor::Totp => "totp",
        MfaFactor::Email => "email",
        MfaFactor::Passkey => "passkey",
        MfaFactor::Sms => "sms",
    }
}

pub(crate) fn factor_of(text: &str) -> Option<MfaFactor> {
    match text {
        "totp" => Some(MfaFactor::Totp),
        "email" => Some(MfaFactor::Email),
        "passkey" => Some(MfaFactor::Passkey),
        "sms" => Some(MfaFactor::Sms),
        _ => None,
    }
}

/// The flow's pending step, still live; or the page to answer with (400).
#[allow(clippy::result_large_err)]
fn live_pending(
    state: &AppState,
    flow: &LoginFlow,
    lang: Lang,
    now: UnixTime,
) -> Result<PendingMfa, Response> {
    let Some(pending) = flow.pending_mfa.clone() else {
        return Err(error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        ));
    };
    if now.saturating_sub(pending.since) > mfa::PENDING_SECS {
        return Err(error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.mfa_expired",
        ));
    }
    Ok(pending)
}

/// The pending user, as stored now (still enabled); or the page to answer with.
async fn pending_user(
    state: &AppState,
    pool: &UserPool,
    pending: &PendingMfa,
    lang: Lang,
) -> Result<User, Response> {
    match state
        .node
        .store
        .get_user(&pool.id, &UserRef::Sub(pending.sub.clone()))
        .await
    {
        Ok(Some(user)) if user.enabled => Ok(user),
        Ok(_) => Err(error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        )),
        Err(e) => {
            tracing::error!(error = %e, "loading the user of a second factor");
            Err(error_page(
                state,
                StatusCode::SERVICE_UNAVAILABLE,
                lang,
                "error.generic",
            ))
        }
    }
}

/// What remains of the pool's rule for the pending user ([`requirement_after`]).
pub(crate) fn remaining(pool: &UserPool, user: &User, pending: &PendingMfa) -> Requirement {
    match requirement_after(pool, user, &pending.amr) {
        // Threat protection's `mfa` response asked a factor the rule alone does not.
        Requirement::None if !pending.risk_factors.is_empty() => Requirement::Challenge {
            factors: pending.risk_factors.clone(),
        },
        other => other,
    }
}

/// The session's `amr`: what the first step proved, then `extra`, each once.
fn amr_with(pending: &PendingMfa, extra: &[&str]) -> Vec<String> {
    let mut amr = pending.amr.clone();
    for a in extra {
        if !amr.iter().any(|x| x == a) {
            amr.push(a.to_string());
        }
    }
    amr
}

#[allow(clippy::too_many_arguments)]
async fn finish_with(
    state: &AppState,
    headers: &HeaderMap,
    flow: &LoginFlow,
    client: &AppClient,
    user: &User,
    amr: &[String],
    lang: Lang,
    now: UnixTime,
) -> Response {
    let refs: Vec<&str> = amr.iter().map(String::as_str).collect();
    finish_sign_in(state, headers, flow, client, user, &refs, lang, now).await
}

/// Everything a challenge page is drawn from.
struct Challenge<'a> {
    flow: &'a LoginFlow,
    client: &'a AppClient,
    user: &'a User,
    factors: &'a [MfaFactor],
    proof: Proof,
}

fn render_challenge(
    state: &AppState,
    lang: Lang,
    c: &Challenge<'_>,
    code_sent: bool,
    destination: Option<String>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let mut chrome = Chrome::new(&c.client.branding, &c.flow.csrf, &c.flow.id);
    if let Some(key) = error {
        chrome = chrome.with_error(state.ui.message(lang, key));
    }
    let link = |proof: Proof, label: &str| FactorLink {
        factor: proof.as_str().to_string(),
        label_key: label.to_string(),
        url: format!("/login/mfa?flow={}&factor={}", c.flow.id, proof.as_str()),
    };
    let mut others: Vec<FactorLink> = c
        .factors
        .iter()
        .filter(|f| Proof::Factor(**f) != c.proof)
        .map(|f| link(Proof::Factor(*f), &format!("mfa.use_{}", factor_str(*f))))
        .collect();
    if c.proof != Proof::Recovery && c.user.mfa.unused_recovery_codes() > 0 {
        others.push(link(Proof::Recovery, "mfa.use_recovery"));
    }
    let passkey = (c.proof == Proof::Factor(MfaFactor::Passkey))
        .then(|| PasskeyButton::new("/login/passkey/options", "mfa", "passkey.verify"));
    let page = MfaChallengePage {
        chrome,
        form_action: "/login/mfa".into(),
        factor: c.proof.as_str().into(),
        code_sent,
        destination,
        email_code_action: match c.proof {
            Proof::Factor(MfaFactor::Sms) => "/login/mfa/sms-code",
            _ => "/login/mfa/email-code",
        }
        .into(),
        passkey,
        others,
    };
    if page.passkey.is_some() {
        html_with_scripts(state, status, lang, &page)
    } else {
        html(state, status, lang, &page)
    }
}

/// The page and status for a refused proof.
fn refusal(e: &MfaError, proof: Proof) -> (&'static str, StatusCode) {
    match e {
        MfaError::CodeMismatch => match proof {
            Proof::Factor(MfaFactor::Passkey) => ("error.passkey_failed", StatusCode::OK),
            _ => ("error.code_invalid", StatusCode::OK),
        },
        MfaError::Expired => match proof {
            Proof::Factor(MfaFactor::Passkey) => ("error.passkey_failed", StatusCode::OK),
            _ => ("error.code_expired", StatusCode::OK),
        },
        MfaError::Passkey(_) => ("error.passkey_failed", StatusCode::OK),
        MfaError::Locked { .. } => ("error.mfa_locked", StatusCode::TOO_MANY_REQUESTS),
        MfaError::LimitExceeded => ("error.too_many_requests", StatusCode::TOO_MANY_REQUESTS),
        MfaError::FactorNotAllowed => ("error.factor_not_allowed", StatusCode::BAD_REQUEST),
        MfaError::NotPossible(why) => (not_possible_key(why), StatusCode::BAD_REQUEST),
        MfaError::LastFactor => ("error.last_factor", StatusCode::CONFLICT),
        MfaError::NotFound => ("error.enrolment_expired", StatusCode::BAD_REQUEST),
        MfaError::Delivery => ("error.code_delivery", StatusCode::SERVICE_UNAVAILABLE),
        MfaError::Internal(_) => ("error.generic", StatusCode::SERVICE_UNAVAILABLE),
    }
}

/// Logs what the user is not shown.
pub(crate) fn log_refusal(e: &MfaError, what: &str) {
    match e {
        MfaError::Internal(_) | MfaError::Delivery => tracing::error!(error = %e, "{what}"),
        MfaError::Passkey(_) => tracing::info!(error = %e, "{what}"),
        _ => tracing::debug!(error = %e, "{what}"),
    }
}

/// The browser's `PublicKeyCredential` posted as JSON text (`credential`).
pub(crate) fn credential_of(
    form: &std::collections::HashMap<String, String>,
) -> Option<serde_json::Value> {
    let text = form.get("credential")?;
    if text.is_empty() || text.len() > 64 * 1024 {
        return None;
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .filter(serde_json::Value::is_object)
}

/// `GET /login/mfa?flow=F[&factor=totp|email|passkey|recovery]`: the challenge page for
/// the preferred factor (or the one chosen), with links to the others.
pub async fn challenge_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<MfaQuery>,
) -> Response {
    let (lang, flow, pool, client) =
        match page_flow(&state, &headers, q.flow.as_deref(), q.lang.as_deref()).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    let now = now();
    let pending = match live_pending(&state, &flow, lang, now) {
        Ok(p) => p,
        Err(r) => return r,
    };
    if pending.setup {
        return Redirect::to(&format!("/login/mfa-setup?flow={}", flow.id)).into_response();
    }
    let user = match pending_user(&state, &pool, &pending, lang).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let factors = match remaining(&pool, &user, &pending) {
        Requirement::Challenge { factors } => factors,
        Requirement::Setup { .. } => {
            return error_page(
                &state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.session_expired",
            )
        }
        // The rule no longer asks anything (the pool changed): the first factor suffices.
        Requirement::None => {
            let amr = pending.amr.clone();
            return finish_with(&state, &headers, &flow, &client, &user, &amr, lang, now).await;
        }
    };
    let proof = q
        .factor
        .as_deref()
        .and_then(Proof::parse)
        .filter(|p| match p {
            Proof::Factor(f) => factors.contains(f),
            Proof::Recovery => user.mfa.unused_recovery_codes() > 0,
        })
        .unwrap_or(Proof::Factor(factors[0]));
    let c = Challenge {
        flow: &flow,
        client: &client,
        user: &user,
        factors: &factors,
        proof,
    };
    render_challenge(&state, lang, &c, false, None, None, StatusCode::OK)
}

/// The pending sign-in of a challenge form (a live second step that is not an enrolment)
/// and its user.
async fn challenge_context(
    state: &AppState,
    flow: &LoginFlow,
    pool: &UserPool,
    lang: Lang,
    now: UnixTime,
) -> Result<(PendingMfa, User), Response> {
    let pending = match live_pending(state, flow, lang, now)? {
        p if !p.setup => p,
        _ => {
            return Err(error_page(
                state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.invalid_request",
            ))
        }
    };
    let user = pending_user(state, pool, &pending, lang).await?;
    Ok((pending, user))
}

/// `POST /login/mfa` (`factor`, `code` or `ceremony` + `credential`): the proof checked by
/// the core; right completes the sign-in (the session's `amr`: the first factor, the
/// factor's, and `mfa`), wrong shows the page again.
pub async fn challenge_submit(
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
    let now = now();
    let (pending, user) = match challenge_context(&state, &flow, &pool, lang, now).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Requirement::Challenge { factors } = remaining(&pool, &user, &pending) else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        );
    };
    let proof = Proof::parse(&form_text(&form, "factor")).filter(|p| match p {
        Proof::Factor(f) => factors.contains(f),
        Proof::Recovery => true,
    });
    let Some(proof) = proof else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.factor_not_allowed",
        );
    };
    let address =
        crate::web::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    let code = form_text(&form, "code");
    let sub = pending.sub.as_str();
    let result = match proof {
        Proof::Factor(MfaFactor::Totp) => {
            state.mfa.verify_totp(&pool, sub, &code, address, now).await
        }
        Proof::Factor(f @ (MfaFactor::Email | MfaFactor::Sms)) => {
            let channel = if f == MfaFactor::Sms {
                Channel::Sms
            } else {
                Channel::Email
            };
            state
                .mfa
                .verify_factor_code(
                    channel,
                    &pool,
                    sub,
                    EmailCodePurpose::SecondFactor,
                    &code,
                    address,
                    now,
                )
                .await
        }
        Proof::Recovery => {
            state
                .mfa
                .use_recovery_code(&pool, sub, &code, lang.code(), address, now)
                .await
        }
        Proof::Factor(MfaFactor::Passkey) => match credential_of(&form) {
            Some(credential) => {
                let ceremony = form_text(&form, "ceremony");
                state
                    .mfa
                    .finish_passkey_authentication(&pool, &ceremony, &credential, address, now)
                    .await
                    // Another user's passkey proves nothing about this one.
                    .and_then(|v| {
                        if v.user.sub == sub {
                            Ok(v)
                        } else {
                            Err(MfaError::CodeMismatch)
                        }
                    })
            }
            None => Err(MfaError::Passkey("no credential posted".into())),
        },
    };
    let context = super::event_context(&state, &headers, &pool, &client, address);
    let factor = match proof {
        Proof::Factor(f) => Some(f),
        Proof::Recovery => None,
    };
    state
        .mfa
        .record_second_factor(&pool, sub, &context, factor, &result, now)
        .await;
    match result {
        Ok(verified) => {
            let amr = amr_with(&pending, &[verified.amr, AMR_MFA]);
            finish_with(
                &state,
                &headers,
                &flow,
                &client,
                &verified.user,
                &amr,
                lang,
                now,
            )
            .await
        }
        Err(e) => {
            log_refusal(&e, "second factor refused");
            let (key, status) = refusal(&e, proof);
            let c = Challenge {
                flow: &flow,
                client: &client,
                user: &user,
                factors: &factors,
                proof,
            };
            let code_sent = matches!(proof, Proof::Factor(MfaFactor::Email | MfaFactor::Sms));
            render_challenge(&state, lang, &c, code_sent, None, Some(key), status)
        }
    }
}

/// `POST /login/mfa/email-code`: mails the second-factor code, then shows the code form.
pub async fn challenge_email_code(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: SubmittedForm,
) -> Response {
    challenge_code(state, peer, headers, form, Channel::Email).await
}

/// `POST /login/mfa/sms-code`: texts the second-factor code to the verified phone number
/// (through the pool's custom SMS sender), then shows the code form.
pub async fn challenge_sms_code(
    state: State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: SubmittedForm,
) -> Response {
    challenge_code(state, peer, headers, form, Channel::Sms).await
}

/// Sends the second-factor code over `channel`, then shows the code form.
async fn challenge_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    SubmittedForm {
        lang,
        flow,
        pool,
        client,
        ..
    }: SubmittedForm,
    channel: Channel,
) -> Response {
    let now = now();
    let (pending, user) = match challenge_context(&state, &flow, &pool, lang, now).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let factors = match remaining(&pool, &user, &pending) {
        Requirement::Challenge { factors } if factors.contains(&channel.factor()) => factors,
        _ => {
            return error_page(
                &state,
                StatusCode::BAD_REQUEST,
                lang,
                "error.factor_not_allowed",
            )
        }
    };
    let address =
        crate::web::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    let proof = Proof::Factor(channel.factor());
    let c = Challenge {
        flow: &flow,
        client: &client,
        user: &user,
        factors: &factors,
        proof,
    };
    let sent = if pending.risk_factors.contains(&channel.factor()) {
        // Asked by threat protection, enrolled or not.
        state
            .mfa
            .send_asked_code(channel, &pool, &user, lang.code(), address, now)
            .await
    } else {
        state
            .mfa
            .send_factor_code(
                channel,
                &pool,
                &user,
                EmailCodePurpose::SecondFactor,
                lang.code(),
                address,
                now,
            )
            .await
    };
    match sent {
        Ok(sent) => render_challenge(
            &state,
            lang,
            &c,
            true,
            Some(sent.destination),
            None,
            StatusCode::OK,
        ),
        Err(e) => {
            log_refusal(&e, "second-factor code not sent");
            let (key, status) = refusal(&e, proof);
            render_challenge(&state, lang, &c, false, None, Some(key), status)
        }
    }
}

/// The factors a pending `MFA_SETUP` may enrol; or the page to answer with.
async fn setup_context(
    state: &AppState,
    flow: &LoginFlow,
    pool: &UserPool,
    lang: Lang,
    now: UnixTime,
) -> Result<(PendingMfa, User, Vec<MfaFactor>), Response> {
    let pending = live_pending(state, flow, lang, now)?;
    if !pending.setup {
        return Err(Redirect::to(&format!("/login/mfa?flow={}", flow.id)).into_response());
    }
    let user = pending_user(state, pool, &pending, lang).await?;
    match remaining(pool, &user, &pending) {
        // `ON`, and no factor the pool allows can be enrolled by this user (email only,
        // and no verified address): said plainly, never signed in.
        Requirement::Setup { factors } if factors.is_empty() => Err(error_page(
            state,
            StatusCode::FORBIDDEN,
            lang,
            "error.no_factor_to_enrol",
        )),
        Requirement::Setup { factors } => Ok((pending, user, factors)),
        _ => Err(error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.session_expired",
        )),
    }
}

/// What the enrolment page shows for one factor.
pub(crate) struct SetupView {
    pub step: MfaFactor,
    pub totp: Option<TotpView>,
    pub code_sent: bool,
    pub destination: Option<String>,
}

/// Starts what the enrolment page of `step` needs: a TOTP key (pending in the store).
pub(crate) async fn setup_view(
    state: &AppState,
    pool: &UserPool,
    user: &User,
    step: MfaFactor,
    now: UnixTime,
) -> Result<SetupView, MfaError> {
    let totp = if step == MfaFactor::Totp {
        let e = state.mfa.start_totp(pool, user, now).await?;
        Some(TotpView {
            enrolment: e.id.clone(),
            secret: e.secret_base32.expose().to_string(),
            uri: e.uri.expose().to_string(),
            qr_svg: e.qr_svg.clone(),
        })
    } else {
        None
    };
    Ok(SetupView {
        step,
        totp,
        code_sent: false,
        destination: None,
    })
}

#[allow(clippy::too_many_arguments)]
fn render_setup(
    state: &AppState,
    lang: Lang,
    flow: &LoginFlow,
    client: &AppClient,
    factors: &[MfaFactor],
    view: Option<SetupView>,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let mut chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id);
    if let Some(key) = error {
        chrome = chrome.with_error(state.ui.message(lang, key));
    }
    let choices = factors
        .iter()
        .map(|f| FactorLink {
            factor: factor_str(*f).into(),
            label_key: format!("setup.choice_{}", factor_str(*f)),
            url: format!(
                "/login/mfa-setup?flow={}&factor={}",
                flow.id,
                factor_str(*f)
            ),
        })
        .collect();
    let step = view.as_ref().map(|v| v.step);
    let page = MfaSetupPage {
        chrome,
        client_id: None,
        step: step.map(factor_str).unwrap_or("choose").into(),
        required: true,
        choices,
        form_action: "/login/mfa-setup".into(),
        code_sent: view.as_ref().is_some_and(|v| v.code_sent),
        destination: view.as_ref().and_then(|v| v.destination.clone()),
        totp: view.and_then(|v| v.totp),
        email_code_action: "/login/mfa-setup/email-code".into(),
        passkey: (step == Some(MfaFactor::Passkey))
            .then(|| PasskeyButton::new("/login/passkey/options", "register", "passkey.register")),
        // Back to the choice, or (one factor) the factor's page again: a new start.
        back_url: step.map(|_| format!("/login/mfa-setup?flow={}", flow.id)),
    };
    if page.passkey.is_some() {
        html_with_scripts(state, status, lang, &page)
    } else {
        html(state, status, lang, &page)
    }
}

/// `GET /login/mfa-setup?flow=F[&factor=totp|email|passkey]`: choose a factor to enrol
/// (the only one possible is shown at once), or enrol the chosen one.
pub async fn setup_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<MfaQuery>,
) -> Response {
    let (lang, flow, pool, client) =
        match page_flow(&state, &headers, q.flow.as_deref(), q.lang.as_deref()).await {
            Ok(v) => v,
            Err(r) => return r,
        };
    let now = now();
    let (_, user, factors) = match setup_context(&state, &flow, &pool, lang, now).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let chosen = q
        .factor
        .as_deref()
        .and_then(factor_of)
        .filter(|f| factors.contains(f))
        .or_else(|| (factors.len() == 1).then(|| factors[0]));
    let Some(step) = chosen else {
        return render_setup(
            &state,
            lang,
            &flow,
            &client,
            &factors,
            None,
            None,
            StatusCode::OK,
        );
    };
    match setup_view(&state, &pool, &user, step, now).await {
        Ok(view) => render_setup(
            &state,
            lang,
            &flow,
            &client,
            &factors,
            Some(view),
            None,
            StatusCode::OK,
        ),
        Err(e) => {
            log_refusal(&e, "starting an enrolment");
            let (key, status) = refusal(&e, Proof::Factor(step));
            render_setup(
                &state,
                lang,
                &flow,
                &client,
                &factors,
                None,
                Some(key),
                status,
            )
        }
    }
}

/// `POST /login/mfa-setup` (`factor`, and `enrolment` + `code` + `name`, `code`, or
/// `ceremony` + `credential` + `name`): enrols the factor; the page then lists the ten
/// recovery codes with a form to continue.
pub async fn setup_submit(
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
    let now = now();
    let (mut pending, user, factors) = match setup_context(&state, &flow, &pool, lang, now).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(kind) = factor_of(&form_text(&form, "factor")).filter(|f| factors.contains(f)) else {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.factor_not_allowed",
        );
    };
    let address =
        crate::web::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    let enrolled = enrol(&state, &pool, &user.sub, kind, &form, address, now).await;
    let enrolled = match enrolled {
        Ok(e) => e,
        Err(e) => {
            log_refusal(&e, "enrolment at sign-in refused");
            let (key, status) = refusal(&e, Proof::Factor(kind));
            let view = retry_view(&state, &pool, &user, kind, &form, &e, now).await;
            return render_setup(
                &state,
                lang,
                &flow,
                &client,
                &factors,
                view,
                Some(key),
                status,
            );
        }
    };
    pending.setup = false;
    pending.amr = amr_with(&pending, &[kind.amr(), AMR_MFA]);
    pending.since = now;
    flow.pending_mfa = Some(pending.clone());
    let Some(codes) = enrolled.recovery_codes else {
        return finish_with(
            &state,
            &headers,
            &flow,
            &client,
            &enrolled.user,
            &pending.amr,
            lang,
            now,
        )
        .await;
    };
    if !matches!(state.node.sessions.save_flow(&flow, now).await, Ok(true)) {
        return error_page(&state, StatusCode::CONFLICT, lang, "error.session_expired");
    }
    let page = RecoveryCodesPage {
        chrome: Chrome::new(&client.branding, &flow.csrf, &flow.id),
        codes,
        continue_action: Some("/login/mfa-setup/done".into()),
        back_url: None,
    };
    html(&state, StatusCode::OK, lang, &page)
}

/// The enrolment step again after a refused proof: a wrong TOTP code keeps its pending
/// enrolment (the key was scanned already: only the code form, with a way to start
/// again), an expired one draws a new key; an emailed code can be typed again.
pub(crate) async fn retry_view(
    state: &AppState,
    pool: &UserPool,
    user: &User,
    kind: MfaFactor,
    form: &std::collections::HashMap<String, String>,
    error: &MfaError,
    now: UnixTime,
) -> Option<SetupView> {
    match (kind, error) {
        (MfaFactor::Email, _) => Some(SetupView {
            step: kind,
            totp: None,
            code_sent: true,
            destination: None,
        }),
        (MfaFactor::Totp, MfaError::CodeMismatch | MfaError::Locked { .. }) => Some(SetupView {
            step: kind,
            totp: Some(TotpView {
                enrolment: form_text(form, "enrolment").chars().take(64).collect(),
                secret: String::new(),
                uri: String::new(),
                qr_svg: String::new(),
            }),
            code_sent: false,
            destination: None,
        }),
        _ => setup_view(state, pool, user, kind, now).await.ok(),
    }
}

/// Enrols `kind` from a posted form (TOTP: `enrolment`, `code`, `name`; email: `code`;
/// passkey: `ceremony`, `credential`, `name`).
pub(crate) async fn enrol(
    state: &AppState,
    pool: &UserPool,
    sub: &str,
    kind: MfaFactor,
    form: &std::collections::HashMap<String, String>,
    address: std::net::IpAddr,
    now: UnixTime,
) -> Result<mfa::Enrolled, MfaError> {
    let code = form_text(form, "code");
    let name: String = form_text(form, "name").chars().take(64).collect();
    match kind {
        MfaFactor::Totp => {
            let enrolment = form_text(form, "enrolment");
            state
                .mfa
                .confirm_totp(pool, sub, &enrolment, &code, &name, address, now)
                .await
        }
        MfaFactor::Email => {
            state
                .mfa
                .confirm_email_factor(pool, sub, &code, address, now)
                .await
        }
        MfaFactor::Passkey => {
            let Some(credential) = credential_of(form) else {
                return Err(MfaError::Passkey("no credential posted".into()));
            };
            let ceremony = form_text(form, "ceremony");
            state
                .mfa
                .finish_passkey_registration(
                    pool,
                    sub,
                    &ceremony,
                    &credential,
                    &name,
                    &crate::core::threat::EventContext::new(None, Some(address), None),
                    now,
                )
                .await
        }
        // SMS is switched on for a verified number, never enrolled in a setup step.
        MfaFactor::Sms => Err(MfaError::FactorNotAllowed),
    }
}

/// `POST /login/mfa-setup/email-code`: mails an enrolment code to the verified address,
/// then shows the code form.
pub async fn setup_email_code(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    SubmittedForm {
        lang,
        flow,
        pool,
        client,
        ..
    }: SubmittedForm,
) -> Response {
    let now = now();
    let (_, user, factors) = match setup_context(&state, &flow, &pool, lang, now).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !factors.contains(&MfaFactor::Email) {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.factor_not_allowed",
        );
    }
    let address =
        crate::web::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    match state
        .mfa
        .send_email_code(
            &pool,
            &user,
            EmailCodePurpose::Enrol,
            lang.code(),
            address,
            now,
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
            render_setup(
                &state,
                lang,
                &flow,
                &client,
                &factors,
                Some(view),
                None,
                StatusCode::OK,
            )
        }
        Err(e) => {
            log_refusal(&e, "enrolment code not sent");
            let (key, status) = refusal(&e, Proof::Factor(MfaFactor::Email));
            let view = SetupView {
                step: MfaFactor::Email,
                totp: None,
                code_sent: false,
                destination: None,
            };
            render_setup(
                &state,
                lang,
                &flow,
                &client,
                &factors,
                Some(view),
                Some(key),
                status,
            )
        }
    }
}

/// `POST /login/mfa-setup/done`: the recovery codes were shown; the sign-in completes
/// with the enrolled factor's `amr`.
pub async fn setup_done(
    State(state): State<AppState>,
    headers: HeaderMap,
    SubmittedForm {
        lang,
        flow,
        pool,
        client,
        ..
    }: SubmittedForm,
) -> Response {
    let now = now();
    let pending = match live_pending(&state, &flow, lang, now) {
        Ok(p) => p,
        Err(r) => return r,
    };
    // Only an enrolment at this flow sets `mfa` in a pending step.
    if pending.setup || !pending.amr.iter().any(|a| a == AMR_MFA) {
        return error_page(
            &state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.invalid_request",
        );
    }
    let user = match pending_user(&state, &pool, &pending, lang).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    finish_with(
        &state,
        &headers,
        &flow,
        &client,
        &user,
        &pending.amr,
        lang,
        now,
    )
    .await
}

/// `POST /login/passkey/options` (`_csrf`, `flow`, `purpose` = `signin` | `mfa` |
/// `register`[, `username`]): starts a ceremony and answers
/// `{"ceremony": "...", "publicKey": {...}}` for `navigator.credentials`.
pub async fn passkey_options(
    State(state): State<AppState>,
    SubmittedForm {
        lang,
        flow,
        pool,
        form,
        ..
    }: SubmittedForm,
) -> Response {
    let now = now();
    let refused = |status: StatusCode, key: &str| {
        (
            status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(serde_json::json!({ "error": state.ui.message(lang, key) })),
        )
            .into_response()
    };
    let started = match form_text(&form, "purpose").as_str() {
        "signin" => {
            if !pool.factors.allows_first(FirstFactor::Passkey) {
                return refused(StatusCode::FORBIDDEN, "error.factor_not_allowed");
            }
            // Always the discoverable ceremony (the passkey names its user), whatever
            // username is typed: a ceremony narrowed to a user's passkeys would list their
            // credential ids to anyone, and tell who has passkeys.
            state
                .mfa
                .start_passkey_authentication(&pool, None, now)
                .await
        }
        // The passkey offered after sign-up (`passkeys.register_at_sign_up`).
        "register" if flow.passkey_offer.is_some() => {
            match super::passkey_offer::offered_user(&state, &flow, &pool, now).await {
                Some((_, user)) => {
                    state
                        .mfa
                        .start_passkey_registration(&pool, &user, now)
                        .await
                }
                None => return refused(StatusCode::BAD_REQUEST, "error.mfa_expired"),
            }
        }
        purpose @ ("mfa" | "register") => {
            let Some(pending) = flow
                .pending_mfa
                .clone()
                .filter(|p| now.saturating_sub(p.since) <= mfa::PENDING_SECS)
            else {
                return refused(StatusCode::BAD_REQUEST, "error.mfa_expired");
            };
            let user = match state
                .node
                .store
                .get_user(&pool.id, &UserRef::Sub(pending.sub.clone()))
                .await
            {
                Ok(Some(u)) if u.enabled => u,
                _ => return refused(StatusCode::BAD_REQUEST, "error.session_expired"),
            };
            let allowed = match (purpose, remaining(&pool, &user, &pending)) {
                ("mfa", Requirement::Challenge { factors }) => {
                    !pending.setup && factors.contains(&MfaFactor::Passkey)
                }
                ("register", Requirement::Setup { factors }) => {
                    pending.setup && factors.contains(&MfaFactor::Passkey)
                }
                _ => false,
            };
            if !allowed {
                return refused(StatusCode::BAD_REQUEST, "error.factor_not_allowed");
            }
            if purpose == "mfa" {
                state
                    .mfa
                    .start_passkey_authentication(&pool, Some(&user), now)
                    .await
            } else {
                state
                    .mfa
                    .start_passkey_registration(&pool, &user, now)
                    .await
            }
        }
        _ => return refused(StatusCode::BAD_REQUEST, "error.invalid_request"),
    };
    ceremony_json(&state, lang, started)
}

/// A started ceremony as the passkey script reads it, or its refusal.
pub(crate) fn ceremony_json(
    state: &AppState,
    lang: Lang,
    started: Result<mfa::passkeys::Ceremony, MfaError>,
) -> Response {
    match started {
        Ok(c) => (
            StatusCode::OK,
            [(header::CACHE_CONTROL, "no-store")],
            Json(serde_json::json!({ "ceremony": c.id, "publicKey": c.options })),
        )
            .into_response(),
        Err(e) => {
            log_refusal(&e, "passkey ceremony not started");
            let (key, status) = refusal(&e, Proof::Factor(MfaFactor::Passkey));
            let status = if status == StatusCode::OK {
                StatusCode::BAD_REQUEST
            } else {
                status
            };
            (
                status,
                [(header::CACHE_CONTROL, "no-store")],
                Json(serde_json::json!({ "error": state.ui.message(lang, key) })),
            )
                .into_response()
        }
    }
}

/// The page's message for a factor the account cannot use: the email factor's own when
/// the address is the reason, a general one otherwise (a passkey on an IP-address public
/// URL, a federated user's factor).
pub(crate) fn not_possible_key(why: &str) -> &'static str {
    if why.to_ascii_lowercase().contains("email") {
        "error.email_not_verified"
    } else {
        "error.factor_not_possible"
    }
}
