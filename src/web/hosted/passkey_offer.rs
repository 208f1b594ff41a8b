//! "Add a passkey" after sign-up (issue 13, `passkeys.register_at_sign_up`): a user who
//! signed up (or confirmed their sign-up) in this login flow, in a pool with passkeys and
//! the setting, is offered a passkey once their first sign-in is complete (after any
//! second factor), before the code goes to the client. "Add a passkey" is the usual
//! registration ceremony (`POST /login/passkey/options`, purpose `register`, and
//! `/static/passkey.js`); "Not now" is a plain form, so the page works without script.
//! Both end in the normal completion.
//!
//! While the page is shown the flow holds [`LoginFlow::passkey_offer`] (who signed in
//! and what they proved) instead of a pending second factor, so none of the
//! second-factor handlers acts on it.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::completion::finish_sign_in_now;
use super::mfa::{enrol, log_refusal};
use super::plumbing::{error_page, html, html_with_scripts, SubmittedForm};
use super::ui::{Chrome, Lang, PasskeyButton, PasskeyOfferPage, RecoveryCodesPage};
use crate::core::mfa::{self, MfaError, AMR_MFA};
use crate::core::model::{AppClient, MfaFactor, User, UserPool, UserStatus};
use crate::core::now;
use crate::core::session::{LoginFlow, PendingMfa};
use crate::core::storage::UserRef;
use crate::core::UnixTime;
use crate::web::AppState;

/// Where the offer's forms post.
pub const REGISTER_PATH: &str = "/login/passkey-offer";
pub const CONTINUE_PATH: &str = "/login/passkey-offer/continue";

/// Whether `user`, signing in through `flow` in `pool`, is offered a passkey: they signed
/// up in this flow, the pool has passkeys and `register_at_sign_up`, the flow returns to
/// the client (not the account page's own sign-in), and they hold no passkey yet.
pub fn offered(pool: &UserPool, flow: &LoginFlow, user: &User) -> bool {
    flow.after.is_none()
        && flow.passkey_offer.is_none()
        && flow.signed_up.as_deref() == Some(user.sub.as_str())
        && pool.factors.passkeys_enabled()
        && pool.factors.passkeys.register_at_sign_up
        && user.status != UserStatus::ExternalProvider
        && !user.mfa.has(MfaFactor::Passkey)
}

/// Called by [`super::completion::finish_sign_in`] before it completes: the offer page
/// when the user is offered a passkey, with the completed sign-in kept on the flow; `None`
/// to complete now. A flow that cannot be saved completes now: the offer never stands in
/// the way of a sign-in.
pub async fn offer(
    state: &AppState,
    flow: &LoginFlow,
    client: &AppClient,
    user: &User,
    amr: &[&str],
    lang: Lang,
    now: UnixTime,
) -> Option<Response> {
    if flow.signed_up.as_deref() != Some(user.sub.as_str()) {
        return None;
    }
    let pool = state
        .node
        .directory
        .pool(&flow.request.pool_id)
        .await
        .ok()?;
    if !offered(&pool, flow, user) {
        return None;
    }
    let mut flow = flow.clone();
    flow.pending_mfa = None;
    flow.passkey_offer = Some(PendingMfa {
        sub: user.sub.clone(),
        amr: amr.iter().map(|a| a.to_string()).collect(),
        since: now,
        setup: false,
        risk_factors: Vec::new(),
    });
    if !matches!(state.node.sessions.save_flow(&flow, now).await, Ok(true)) {
        return None;
    }
    Some(render(state, lang, &flow, client, None, StatusCode::OK))
}

fn render(
    state: &AppState,
    lang: Lang,
    flow: &LoginFlow,
    client: &AppClient,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let mut chrome = Chrome::new(&client.branding, &flow.csrf, &flow.id);
    if let Some(key) = error {
        chrome = chrome.with_error(state.ui.message(lang, key));
    }
    let page = PasskeyOfferPage {
        chrome,
        form_action: REGISTER_PATH.into(),
        skip_action: CONTINUE_PATH.into(),
        passkey: Some(PasskeyButton::new(
            "/login/passkey/options",
            "register",
            "passkey.register",
        )),
    };
    html_with_scripts(state, status, lang, &page)
}

/// The flow's offer, still live, and its user as stored now (still enabled); `None` when
/// there is none (no offer on this flow, too old, or the user gone).
pub async fn offered_user(
    state: &AppState,
    flow: &LoginFlow,
    pool: &UserPool,
    now: UnixTime,
) -> Option<(PendingMfa, User)> {
    let offer = flow
        .passkey_offer
        .clone()
        .filter(|o| now.saturating_sub(o.since) <= mfa::PENDING_SECS)?;
    let user = state
        .node
        .store
        .get_user(&pool.id, &UserRef::Sub(offer.sub.clone()))
        .await
        .ok()
        .flatten()
        .filter(|u| u.enabled)?;
    Some((offer, user))
}

/// The live offer and its user, or the page to answer with.
#[allow(clippy::result_large_err)]
async fn live_offer(
    state: &AppState,
    flow: &LoginFlow,
    pool: &UserPool,
    lang: Lang,
    now: UnixTime,
) -> Result<(PendingMfa, User), Response> {
    match (
        &flow.passkey_offer,
        offered_user(state, flow, pool, now).await,
    ) {
        (_, Some(v)) => Ok(v),
        (None, None) => Err(error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.invalid_request",
        )),
        (Some(_), None) => Err(error_page(
            state,
            StatusCode::BAD_REQUEST,
            lang,
            "error.mfa_expired",
        )),
    }
}

/// `POST /login/passkey-offer` (`ceremony`, `credential`, `name`): stores the passkey
/// made by the registration ceremony, then completes the sign-in (a first factor's
/// recovery codes are shown first). A refused credential shows the offer again.
pub async fn register(
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
    let (mut offer, user) = match live_offer(&state, &flow, &pool, lang, now).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let address =
        crate::web::net::client_ip(peer, &headers, &state.node.config.server.trusted_proxies);
    let enrolled = match enrol(
        &state,
        &pool,
        &user.sub,
        MfaFactor::Passkey,
        &form,
        address,
        now,
    )
    .await
    {
        Ok(e) => e,
        Err(e) => {
            log_refusal(&e, "passkey at sign-up refused");
            let (key, status) = match e {
                MfaError::Internal(_) | MfaError::Delivery => {
                    ("error.generic", StatusCode::SERVICE_UNAVAILABLE)
                }
                MfaError::FactorNotAllowed => ("error.factor_not_allowed", StatusCode::BAD_REQUEST),
                _ => ("error.passkey_failed", StatusCode::OK),
            };
            return render(&state, lang, &flow, &client, Some(key), status);
        }
    };
    // As at enrolment during sign-in: the ceremony verified the user on the device.
    for a in [MfaFactor::Passkey.amr(), AMR_MFA] {
        if !offer.amr.iter().any(|x| x == a) {
            offer.amr.push(a.to_string());
        }
    }
    offer.since = now;
    flow.passkey_offer = Some(offer.clone());
    let Some(codes) = enrolled.recovery_codes else {
        return complete(
            &state,
            &headers,
            &flow,
            &client,
            &enrolled.user,
            &offer,
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
        continue_action: Some(CONTINUE_PATH.into()),
        back_url: None,
    };
    html(&state, StatusCode::OK, lang, &page)
}

/// `POST /login/passkey-offer/continue`: "Not now" (or on, past the recovery codes of a
/// passkey just added): the sign-in completes as it would have without the offer.
pub async fn continue_sign_in(
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
    let (offer, user) = match live_offer(&state, &flow, &pool, lang, now).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    complete(&state, &headers, &flow, &client, &user, &offer, lang, now).await
}

#[allow(clippy::too_many_arguments)]
async fn complete(
    state: &AppState,
    headers: &HeaderMap,
    flow: &LoginFlow,
    client: &AppClient,
    user: &User,
    offer: &PendingMfa,
    lang: Lang,
    now: UnixTime,
) -> Response {
    let amr: Vec<&str> = offer.amr.iter().map(String::as_str).collect();
    finish_sign_in_now(state, headers, flow, client, user, &amr, lang, now).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::model::{Origin, PasswordPolicy};
    use crate::core::oauth::authorize::sample_request;

    fn pool(passkeys: bool, register_at_sign_up: bool) -> UserPool {
        let mut pool = UserPool {
            id: "us-east-1_Offer".into(),
            name: "offer".into(),
            origin: Origin::Api,
            username_case_sensitive: false,
            username_attributes: Vec::new(),
            alias_attributes: Vec::new(),
            auto_verified_attributes: Vec::new(),
            required_attributes: Vec::new(),
            custom_attributes: Vec::new(),
            password_policy: PasswordPolicy::default(),
            admin_create_user_only: false,
            mfa: Default::default(),
            userinfo_string_values: false,
            link_federated_users_by_email: false,
            deletion_protection: false,
            tags: Default::default(),
            code_limits: Default::default(),
            threat_protection: Default::default(),
            triggers: Default::default(),
            identity_providers: Vec::new(),
            saml_sp_entity_id: None,
            created_at: 1,
            updated_at: 1,
            version: 0,
            factors: Default::default(),
        };
        if passkeys {
            pool.factors.mfa.push(MfaFactor::Passkey);
        }
        pool.factors.passkeys.register_at_sign_up = register_at_sign_up;
        pool
    }

    fn user(sub: &str) -> User {
        serde_json::from_value(serde_json::json!({
            "pool_id": "us-east-1_Offer",
            "sub": sub,
            "username": "nina",
            "attributes": {},
            "status": "CONFIRMED",
            "enabled": true,
            "lookup": { "username": "nina" },
            "created_at": 0,
            "updated_at": 0,
        }))
        .expect("user")
    }

    fn flow(signed_up: Option<&str>) -> LoginFlow {
        LoginFlow {
            id: "flow".into(),
            request: sample_request("st", "nonce"),
            browser: "b".into(),
            csrf: "c".into(),
            expires_at: 10,
            pending_new_password: None,
            username: None,
            pending_mfa: None,
            after: None,
            signed_up: signed_up.map(String::from),
            passkey_offer: None,
        }
    }

    #[test]
    fn only_the_user_who_signed_up_in_the_flow_is_offered_a_passkey_where_the_pool_says_so() {
        let nina = user("sub-nina");
        assert!(offered(&pool(true, true), &flow(Some("sub-nina")), &nina));
        // Another user signing in through the flow, or a flow with no sign-up.
        assert!(!offered(&pool(true, true), &flow(Some("sub-other")), &nina));
        assert!(!offered(&pool(true, true), &flow(None), &nina));
        // Pools without the setting, or without passkeys.
        assert!(!offered(&pool(true, false), &flow(Some("sub-nina")), &nina));
        assert!(!offered(&pool(false, true), &flow(Some("sub-nina")), &nina));
        // The account page's own sign-in, and a flow already showing the offer.
        let mut f = flow(Some("sub-nina"));
        f.after = Some("/account/security".into());
        assert!(!offered(&pool(true, true), &f, &nina));
        let mut f = flow(Some("sub-nina"));
        f.passkey_offer = Some(PendingMfa {
            sub: "sub-nina".into(),
            amr: vec!["pwd".into()],
            since: 1,
            setup: false,
            risk_factors: Vec::new(),
        });
        assert!(!offered(&pool(true, true), &f, &nina));
    }
}
