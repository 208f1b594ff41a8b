//! Typed contexts of the multi-factor pages (issue 13): the second-factor challenge, the
//! enrolment (at sign-in, Cognito's `MFA_SETUP`, and on the account security page), the
//! recovery codes shown once, the emailed sign-in code, and the account security page.
//!
//! Forms of a sign-in carry `_csrf` and `flow` ([`Chrome`]); forms of the account
//! security page carry `_csrf` (the session's own token) and `client_id` instead.

use serde::Serialize;

use super::{Chrome, Page, UsernameKind};

/// A link to another way of passing the step ("Use your authenticator app instead").
#[derive(Debug, Clone, Serialize)]
pub struct FactorLink {
    /// `totp`, `email`, `passkey` or `recovery`.
    pub factor: String,
    /// The catalog key of the link's text.
    pub label_key: String,
    pub url: String,
}

/// Where the passkey script asks for a ceremony's options, and for what.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyButton {
    /// `POST` target answering `{"ceremony", "publicKey"}`.
    pub options_url: String,
    /// `signin`, `mfa` or `register`.
    pub purpose: String,
    /// The catalog key of the button's text.
    pub label_key: String,
}

impl PasskeyButton {
    pub fn new(options_url: &str, purpose: &str, label_key: &str) -> Self {
        PasskeyButton {
            options_url: options_url.into(),
            purpose: purpose.into(),
            label_key: label_key.into(),
        }
    }
}

/// The second-factor page, `mfa_challenge.html`. The code form posts `_csrf`, `flow`,
/// `factor`, `code` to `form_action`; the passkey form posts `factor=passkey`,
/// `ceremony`, `credential`; the email form posts `_csrf`, `flow` to `email_code_action`.
#[derive(Debug, Clone, Serialize)]
pub struct MfaChallengePage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub form_action: String,
    /// `totp`, `email`, `passkey` or `recovery`.
    pub factor: String,
    /// For `email`: the code was mailed, show the code form (else the send button).
    pub code_sent: bool,
    /// Where the emailed code went, masked.
    pub destination: Option<String>,
    /// The action that sends the code of an `email` or `sms` factor.
    pub email_code_action: String,
    pub passkey: Option<PasskeyButton>,
    /// The user's other factors, and the recovery code.
    pub others: Vec<FactorLink>,
}

impl Page for MfaChallengePage {
    const TEMPLATE: &'static str = "mfa_challenge.html";
}

/// A TOTP enrolment as the page shows it: the key as text (`id="totp-secret"`), the URI
/// as a link (`id="totp-uri"`) and as an inline SVG QR code. No `Debug`: the key is
/// secret.
#[derive(Clone, Serialize)]
pub struct TotpView {
    /// The pending enrolment's id (a hidden `enrolment` field).
    pub enrolment: String,
    pub secret: String,
    pub uri: String,
    /// Rendered on the server by a QR crate; printed with `|safe`.
    pub qr_svg: String,
}

impl std::fmt::Debug for TotpView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpView")
            .field("enrolment", &self.enrolment)
            .finish_non_exhaustive()
    }
}

/// Enrolling a factor, `mfa_setup.html`: at sign-in (forms carry `flow`) or from the
/// account security page (forms carry `client_id`). `step` is `choose`, `totp`,
/// `email` or `passkey`. The enrolment form posts `factor`, and `enrolment`, `code`,
/// `name` (TOTP), `code` (email) or `ceremony`, `credential`, `name` (passkey) to
/// `form_action`.
#[derive(Debug, Clone, Serialize)]
pub struct MfaSetupPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    /// The account security page's client (a hidden `client_id` field), if there.
    pub client_id: Option<String>,
    pub step: String,
    /// At sign-in: the pool asks for a factor before signing in (shows why).
    pub required: bool,
    /// The factors one may enrol (step `choose`).
    pub choices: Vec<FactorLink>,
    pub form_action: String,
    pub totp: Option<TotpView>,
    /// For `email`: where the mail goes / went (masked), and whether it was sent.
    pub code_sent: bool,
    pub destination: Option<String>,
    pub email_code_action: String,
    pub passkey: Option<PasskeyButton>,
    /// Back (the account page, or the choice of factors).
    pub back_url: Option<String>,
}

impl Page for MfaSetupPage {
    const TEMPLATE: &'static str = "mfa_setup.html";
}

/// The ten recovery codes, shown once, `recovery_codes.html`: each in a
/// `<li class="recovery-code">`. At sign-in a form posts `_csrf`, `flow` to
/// `continue_action`; on the account page a link goes back.
#[derive(Clone, Serialize)]
pub struct RecoveryCodesPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub codes: Vec<String>,
    pub continue_action: Option<String>,
    pub back_url: Option<String>,
}

impl std::fmt::Debug for RecoveryCodesPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryCodesPage")
            .field("chrome", &self.chrome)
            .finish_non_exhaustive()
    }
}

impl Page for RecoveryCodesPage {
    const TEMPLATE: &'static str = "recovery_codes.html";
}

/// Passwordless sign-in with an emailed code, `email_login.html`: `step` `username`
/// (posts `_csrf`, `flow`, `username` to `/login/email`) or `code` (posts `_csrf`,
/// `flow`, `code` to `/login/email/verify`).
#[derive(Debug, Clone, Serialize)]
pub struct EmailSignInPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub step: String,
    pub username_kind: UsernameKind,
    pub username: String,
    pub form_action: String,
    pub login_url: String,
}

impl Page for EmailSignInPage {
    const TEMPLATE: &'static str = "email_login.html";
}

/// One enrolled factor on the account security page.
#[derive(Debug, Clone, Serialize)]
pub struct FactorView {
    pub id: String,
    /// `TOTP`, `EMAIL`, `PASSKEY`.
    pub kind: String,
    /// The catalog key naming the kind.
    pub kind_key: String,
    pub name: String,
    /// When it was added, `YYYY-MM-DD` (UTC).
    pub created: String,
    pub preferred: bool,
}

/// The account security page, `account_security.html`. Every form posts `_csrf` and
/// `client_id`.
#[derive(Debug, Clone, Serialize)]
pub struct SecurityPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub client_id: String,
    /// Who is signed in (the username).
    pub username: String,
    pub factors: Vec<FactorView>,
    pub recovery_codes_left: usize,
    /// Kinds of factor the pool allows and the user may add (`TOTP`, `EMAIL`, `PASSKEY`).
    pub can_add_totp: bool,
    pub can_add_email: bool,
    /// SMS codes can be switched on: the pool allows and can send them, the user has a
    /// verified phone number and has not switched them on.
    pub can_add_sms: bool,
    pub passkey: Option<PasskeyButton>,
    /// Kinds the user holds, for "prefer" buttons (more than one kind held).
    pub preferable: Vec<String>,
    /// Whether the pool requires a factor (`ON`).
    pub required: bool,
}

impl Page for SecurityPage {
    const TEMPLATE: &'static str = "account_security.html";
}

/// "Add a passkey", `passkey_offer.html`: offered once, after sign-up, before the first
/// sign-in completes (`passkeys.register_at_sign_up`). The passkey form posts `_csrf`,
/// `flow`, `ceremony`, `credential`, `name` to `form_action`; the "Not now" form posts
/// `_csrf`, `flow` to `skip_action` (no script needed).
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyOfferPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub form_action: String,
    pub skip_action: String,
    /// Always set by the handler; `None` draws the page without its script (template
    /// tests).
    pub passkey: Option<PasskeyButton>,
}

impl Page for PasskeyOfferPage {
    const TEMPLATE: &'static str = "passkey_offer.html";
}
