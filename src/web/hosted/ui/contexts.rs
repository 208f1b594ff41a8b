//! Typed contexts of the hosted pages: one struct per template, so a handler cannot
//! forget a field. Strings are plain text (the templates escape them); messages in
//! `errors`, `notice`, `title` and `message` are already translated (see
//! [`super::Ui::message`]).
//!
//! Every form carries two hidden inputs from [`Chrome`]: `_csrf` and `flow`. The fields
//! each form posts are listed on its page struct.

use base64::Engine as _;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::Page;
use crate::core::model::{AliasAttribute, Branding, UserPool};

/// The default primary colour: white text on it has a contrast of 6.7:1 (WCAG AA).
pub const DEFAULT_PRIMARY: &str = "#1d4ed8";
/// The default page background behind the card.
pub const DEFAULT_BACKGROUND: &str = "#f3f4f6";
const DARK_TEXT: &str = "#111827";
const LIGHT_TEXT: &str = "#ffffff";

/// Fields every page shares. Build with [`Chrome::new`].
#[derive(Clone, Serialize)]
pub struct Chrome {
    /// The client's look, sanitized.
    pub branding: BrandingView,
    /// The anti-forgery token, posted back by every form as the hidden input `_csrf`.
    pub csrf_token: String,
    /// The opaque id of the sign-in flow this page belongs to, posted back by every form
    /// as the hidden input `flow`. Links the handler builds (`signup_url`, ...) must
    /// carry it too.
    pub flow: String,
    /// Translated messages shown in an alert region (`role="alert"`) above the form.
    pub errors: Vec<String>,
    /// A translated informational message (`role="status"`), e.g. "We sent a code".
    pub notice: Option<String>,
}

impl Chrome {
    /// The chrome of a page in a flow: branding of the app client, CSRF token, flow id.
    pub fn new(
        branding: &Branding,
        csrf_token: impl Into<String>,
        flow: impl Into<String>,
    ) -> Self {
        Chrome {
            branding: BrandingView::from(branding),
            csrf_token: csrf_token.into(),
            flow: flow.into(),
            errors: Vec::new(),
            notice: None,
        }
    }

    /// The chrome of a page outside any flow (an error before the client is known, the
    /// signed-out page): default look, no form state.
    pub fn plain() -> Self {
        Chrome::new(&Branding::default(), "", "")
    }

    /// Adds a translated error message.
    pub fn with_error(mut self, message: impl Into<String>) -> Self {
        self.errors.push(message.into());
        self
    }

    /// Sets the translated notice.
    pub fn with_notice(mut self, message: impl Into<String>) -> Self {
        self.notice = Some(message.into());
        self
    }
}

impl std::fmt::Debug for Chrome {
    /// Leaves out the CSRF token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chrome")
            .field("branding", &self.branding)
            .field("flow", &self.flow)
            .field("errors", &self.errors)
            .field("notice", &self.notice)
            .finish_non_exhaustive()
    }
}

/// An app client's [`Branding`], checked again at render time (clients also arrive
/// through the API, not only through `check-config`): colours are `#rrggbb` or the
/// defaults, the logo is an http(s) URL or absent, `extra_css` cannot leave its
/// `<style>` element. Text colours are derived so text keeps WCAG AA contrast whatever
/// colours the operator picks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrandingView {
    /// The application's name, shown above the form and in the page title.
    pub display_name: Option<String>,
    /// The logo's URL (`https:`, `http:` or a root-relative path).
    pub logo_url: Option<String>,
    /// Buttons and focus rings, `#rrggbb`.
    pub primary_color: String,
    /// Text on primary buttons: white or near-black, whichever contrasts more.
    pub on_primary_color: String,
    /// Links on the white card: the primary colour when it reaches 4.5:1 on white,
    /// else the default primary.
    pub link_color: String,
    /// The page behind the card, `#rrggbb`.
    pub background_color: String,
    /// Text placed directly on the background.
    pub on_background_color: String,
    /// The operator's CSS with every `<` removed (the only way out of a `<style>`
    /// element is `</style`). Templates print it with `|safe`: HTML escaping would
    /// break CSS such as `a > b`.
    pub extra_css: Option<String>,
}

impl From<&Branding> for BrandingView {
    fn from(b: &Branding) -> Self {
        let primary = b
            .primary_color
            .as_deref()
            .and_then(parse_hex)
            .unwrap_or_else(|| parse_hex(DEFAULT_PRIMARY).unwrap_or((29, 78, 216)));
        let background = b
            .background_color
            .as_deref()
            .and_then(parse_hex)
            .unwrap_or_else(|| parse_hex(DEFAULT_BACKGROUND).unwrap_or((243, 244, 246)));
        let white = (255, 255, 255);
        let link_color = if contrast(primary, white) >= 4.5 {
            to_hex(primary)
        } else {
            DEFAULT_PRIMARY.to_string()
        };
        BrandingView {
            display_name: b
                .display_name
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|n| n.chars().take(128).collect()),
            logo_url: b
                .logo_url
                .as_deref()
                .filter(|u| safe_logo_url(u))
                .map(String::from),
            primary_color: to_hex(primary),
            on_primary_color: text_on(primary).to_string(),
            link_color,
            background_color: to_hex(background),
            on_background_color: text_on(background).to_string(),
            extra_css: b
                .extra_css
                .as_deref()
                .map(|css| css.replace('<', ""))
                .filter(|css| !css.trim().is_empty()),
        }
    }
}

/// `#rgb` or `#rrggbb`.
fn parse_hex(text: &str) -> Option<(u8, u8, u8)> {
    let hex = text.trim().strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |s: &str| u8::from_str_radix(s, 16).ok();
    match hex.len() {
        3 => {
            let d = |i: usize| channel(&hex[i..i + 1]).map(|v| v * 17);
            Some((d(0)?, d(1)?, d(2)?))
        }
        6 => Some((
            channel(&hex[0..2])?,
            channel(&hex[2..4])?,
            channel(&hex[4..6])?,
        )),
        _ => None,
    }
}

fn to_hex((r, g, b): (u8, u8, u8)) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Relative luminance (WCAG 2.2, definition "relative luminance").
fn luminance((r, g, b): (u8, u8, u8)) -> f64 {
    let lin = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// Contrast ratio (WCAG 2.2, definition "contrast ratio"), from 1 to 21.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// White or near-black, whichever contrasts more with `background`.
fn text_on(background: (u8, u8, u8)) -> &'static str {
    if contrast(background, (255, 255, 255)) >= contrast(background, (17, 24, 39)) {
        LIGHT_TEXT
    } else {
        DARK_TEXT
    }
}

fn safe_logo_url(text: &str) -> bool {
    if text.starts_with('/') && !text.starts_with("//") {
        return true;
    }
    url::Url::parse(text).is_ok_and(|u| matches!(u.scheme(), "https" | "http"))
}

/// What the sign-in identifier is, which sets its label and input type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameKind {
    Username,
    Email,
    Phone,
    EmailOrPhone,
    UsernameOrEmail,
    UsernameOrPhone,
    UsernameOrEmailOrPhone,
}

impl UsernameKind {
    pub const ALL: [UsernameKind; 7] = [
        UsernameKind::Username,
        UsernameKind::Email,
        UsernameKind::Phone,
        UsernameKind::EmailOrPhone,
        UsernameKind::UsernameOrEmail,
        UsernameKind::UsernameOrPhone,
        UsernameKind::UsernameOrEmailOrPhone,
    ];

    /// What users of `pool` type to sign in: the username attributes when the pool has
    /// them (email-as-username), else the username or any sign-in alias.
    pub fn for_sign_in(pool: &UserPool) -> Self {
        let has = |list: &[AliasAttribute], a| list.contains(&a);
        let (ua, aliases) = (&pool.username_attributes, &pool.alias_attributes);
        if !ua.is_empty() {
            return Self::for_sign_up(pool);
        }
        match (
            has(aliases, AliasAttribute::Email),
            has(aliases, AliasAttribute::PhoneNumber),
        ) {
            (false, false) => UsernameKind::Username,
            (true, false) => UsernameKind::UsernameOrEmail,
            (false, true) => UsernameKind::UsernameOrPhone,
            (true, true) => UsernameKind::UsernameOrEmailOrPhone,
        }
    }

    /// What a new user of `pool` chooses as identifier: the username, or the email
    /// and/or phone number when the pool uses them as username.
    pub fn for_sign_up(pool: &UserPool) -> Self {
        let ua = &pool.username_attributes;
        match (
            ua.contains(&AliasAttribute::Email),
            ua.contains(&AliasAttribute::PhoneNumber),
        ) {
            (true, false) => UsernameKind::Email,
            (false, true) => UsernameKind::Phone,
            (true, true) => UsernameKind::EmailOrPhone,
            (false, false) => UsernameKind::Username,
        }
    }

    /// The catalog key of the field's label.
    pub fn label_key(self) -> &'static str {
        match self {
            UsernameKind::Username => "field.username",
            UsernameKind::Email => "field.email",
            UsernameKind::Phone => "field.phone",
            UsernameKind::EmailOrPhone => "field.email_or_phone",
            UsernameKind::UsernameOrEmail => "field.username_or_email",
            UsernameKind::UsernameOrPhone => "field.username_or_phone",
            UsernameKind::UsernameOrEmailOrPhone => "field.username_email_or_phone",
        }
    }

    /// The `<input type>`: `email` and `tel` bring the right phone keyboards.
    pub fn input_type(self) -> &'static str {
        match self {
            UsernameKind::Email => "email",
            UsernameKind::Phone => "tel",
            _ => "text",
        }
    }
}

impl Serialize for UsernameKind {
    /// Templates see `{label_key, input_type}`.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("UsernameKind", 2)?;
        st.serialize_field("label_key", self.label_key())?;
        st.serialize_field("input_type", self.input_type())?;
        st.end()
    }
}

/// A federated identity provider's button on the sign-in page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProviderButton {
    /// The provider's name in the pool (Cognito's `ProviderName`), e.g. `Google`.
    pub name: String,
    /// The text on the button, e.g. `Google` or the operator's label.
    pub display_name: String,
    /// Where the button leads (a GET link that starts the upstream redirect).
    pub url: String,
}

/// The sign-in page, `login.html`. Its form posts `_csrf`, `flow`, `username`, `password`
/// to `form_action`.
#[derive(Debug, Clone, Serialize)]
pub struct LoginPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    /// Where the form posts.
    pub form_action: String,
    /// Label and input type of the identifier field.
    pub username_kind: UsernameKind,
    /// Prefilled identifier: `login_hint`, or what the user typed before an error.
    pub username: String,
    /// Show the username/password form (false when the client allows only federated
    /// providers).
    pub password_login: bool,
    /// Show the "Create an account" link (false when the pool allows only admin-created
    /// users).
    pub signup_allowed: bool,
    /// The sign-up page, with the flow.
    pub signup_url: String,
    /// The forgot-password page, with the flow.
    pub forgot_url: String,
    /// Buttons for the client's federated providers, in display order.
    pub providers: Vec<ProviderButton>,
    /// Show the "sign in with your work email" field (some enterprise IdP the client
    /// enables claims email domains).
    pub work_email: bool,
    /// What the user typed in that field before an error.
    pub work_email_value: String,
    /// "Sign in with a passkey" (the pool's first factors include `PASSKEY`).
    pub passkey: Option<super::PasskeyButton>,
    /// "Email me a sign-in code" (the pool's first factors include `EMAIL_OTP`).
    pub email_url: Option<String>,
}

impl Page for LoginPage {
    const TEMPLATE: &'static str = "login.html";
}

/// The `<input type>` of a sign-up attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputType {
    Text,
    Email,
    Tel,
    Url,
    Date,
    Number,
}

/// One attribute input on the sign-up page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttributeField {
    /// The attribute's name, also the posted form field's name (`email`,
    /// `given_name`, `custom:team`).
    pub name: String,
    /// The catalog key of the label (`attribute.email`); a key without a catalog entry
    /// is shown as is, so `custom:team` may be its own label.
    pub label_key: String,
    /// The `<input type>`.
    pub input_type: InputType,
    /// The HTML `autocomplete` token (`email`, `tel`, `given-name`, ...), if any.
    pub autocomplete: Option<String>,
    /// Marks the input `required`.
    pub required: bool,
    /// The value typed before an error, or empty.
    pub value: String,
}

impl AttributeField {
    /// The field of a standard attribute (OIDC Core section 5.1 names), with its label
    /// key `attribute.<name>`, input type and autocomplete token (WHATWG HTML
    /// "autofill").
    pub fn standard(name: &str, required: bool, value: &str) -> Self {
        let (input_type, autocomplete) = match name {
            "email" => (InputType::Email, Some("email")),
            "phone_number" => (InputType::Tel, Some("tel")),
            "birthdate" => (InputType::Date, Some("bday")),
            "website" | "profile" | "picture" => (InputType::Url, Some("url")),
            "name" => (InputType::Text, Some("name")),
            "given_name" => (InputType::Text, Some("given-name")),
            "family_name" => (InputType::Text, Some("family-name")),
            "middle_name" => (InputType::Text, Some("additional-name")),
            "nickname" => (InputType::Text, Some("nickname")),
            "gender" => (InputType::Text, Some("sex")),
            "locale" => (InputType::Text, Some("language")),
            "address" => (InputType::Text, Some("street-address")),
            _ => (InputType::Text, None),
        };
        AttributeField {
            name: name.to_string(),
            label_key: format!("attribute.{name}"),
            input_type,
            autocomplete: autocomplete.map(String::from),
            required,
            value: value.to_string(),
        }
    }

    /// The field of a `custom:` attribute, labelled by its name.
    pub fn custom(name: &str, input_type: InputType, required: bool, value: &str) -> Self {
        AttributeField {
            name: name.to_string(),
            label_key: name.to_string(),
            input_type,
            autocomplete: None,
            required,
            value: value.to_string(),
        }
    }
}

/// The sign-up page, `signup.html`. Its form posts `_csrf`, `flow`, `username`,
/// `password`, `password_confirm` and one field per attribute (named as the attribute).
#[derive(Debug, Clone, Serialize)]
pub struct SignupPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub form_action: String,
    /// Label and input type of the identifier (see [`UsernameKind::for_sign_up`]).
    pub username_kind: UsernameKind,
    /// The identifier typed before an error.
    pub username: String,
    /// The pool's required attributes (and any optional ones offered), in order.
    pub attributes: Vec<AttributeField>,
    /// Translated policy lines shown under the password ([`super::Ui::password_rules`]).
    pub password_rules: Vec<String>,
    /// Back to the sign-in page, with the flow.
    pub login_url: String,
}

impl Page for SignupPage {
    const TEMPLATE: &'static str = "signup.html";
}

/// The confirm-account page, `confirm.html`. The main form posts `_csrf`, `flow`,
/// `username`, `code` to `form_action`; the resend form posts `_csrf`, `flow`, `username`
/// to `resend_action`.
#[derive(Debug, Clone, Serialize)]
pub struct ConfirmPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub form_action: String,
    pub resend_action: String,
    /// The account being confirmed (a hidden input; shown to the user).
    pub username: String,
    /// Where the code went, masked (`a***@e***.com`, `+*******0123`), if known.
    pub destination: Option<String>,
    /// Back to the sign-in page, with the flow.
    pub login_url: String,
}

impl Page for ConfirmPage {
    const TEMPLATE: &'static str = "confirm.html";
}

/// The forgot-password page, `forgot_password.html`. Its form posts `_csrf`, `flow`,
/// `username`.
#[derive(Debug, Clone, Serialize)]
pub struct ForgotPasswordPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub form_action: String,
    pub username_kind: UsernameKind,
    /// The identifier typed before, or from the sign-in page.
    pub username: String,
    /// Back to the sign-in page, with the flow.
    pub login_url: String,
}

impl Page for ForgotPasswordPage {
    const TEMPLATE: &'static str = "forgot_password.html";
}

/// The reset-password page, `reset_password.html`. Its form posts `_csrf`, `flow`,
/// `username`, `code`, `password`, `password_confirm`; the resend form (when
/// `resend_action` is set) posts `_csrf`, `flow`, `username`.
#[derive(Debug, Clone, Serialize)]
pub struct ResetPasswordPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub form_action: String,
    /// Sends a new code; `None` hides the button.
    pub resend_action: Option<String>,
    /// The account (a hidden input).
    pub username: String,
    /// Where the code went, masked, if known.
    pub destination: Option<String>,
    /// Translated policy lines shown under the new password.
    pub password_rules: Vec<String>,
    /// Back to the sign-in page, with the flow.
    pub login_url: String,
}

impl Page for ResetPasswordPage {
    const TEMPLATE: &'static str = "reset_password.html";
}

/// The page where a user who signed in with a temporary password chooses their own
/// (Cognito's `NEW_PASSWORD_REQUIRED` challenge), `new_password.html`. Its form posts
/// `_csrf`, `flow`, `password`, `password_confirm`.
#[derive(Debug, Clone, Serialize)]
pub struct NewPasswordPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    pub form_action: String,
    /// Translated policy lines shown under the password.
    pub password_rules: Vec<String>,
}

impl Page for NewPasswordPage {
    const TEMPLATE: &'static str = "new_password.html";
}

/// An error page, `error.html`: shown instead of redirecting when the client or the
/// redirect URI cannot be trusted, and for failures a user cannot fix in a form.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    /// Translated heading, e.g. "Something went wrong".
    pub title: String,
    /// Translated explanation.
    pub message: String,
    /// A safe place to go back to (e.g. the sign-in page of the flow), if any.
    pub back_url: Option<String>,
}

impl Page for ErrorPage {
    const TEMPLATE: &'static str = "error.html";
}

/// The auto-submitting form that takes the browser to an IdP by POST,
/// `upstream_post.html` (SAML's HTTP-POST binding).
#[derive(Debug, Clone, Serialize)]
pub struct UpstreamPostPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    /// The IdP's endpoint the form posts to.
    pub action: String,
    pub fields: Vec<HiddenField>,
}

/// A hidden form field.
#[derive(Debug, Clone, Serialize)]
pub struct HiddenField {
    pub name: String,
    pub value: String,
}

impl Page for UpstreamPostPage {
    const TEMPLATE: &'static str = "upstream_post.html";
}

/// The inline script of `upstream_post.html`, whose hash its Content-Security-Policy
/// allows (and no other script).
pub const UPSTREAM_POST_SCRIPT: &str = "document.forms[0].submit();";

/// The signed-out page, `logged_out.html` (`/logout` without a redirect).
#[derive(Debug, Clone, Serialize)]
pub struct LoggedOutPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    /// Where to sign in again, if known.
    pub login_url: Option<String>,
}

impl Page for LoggedOutPage {
    const TEMPLATE: &'static str = "logged_out.html";
}

/// Threat protection's "was this you?" page, `not_me.html`: two POST buttons carrying
/// the link's token (the GET changes nothing), or the answer's result.
#[derive(Clone, Serialize)]
pub struct NotMePage {
    #[serde(flatten)]
    pub chrome: Chrome,
    /// The link's token, posted back with the answer (it is the form's CSRF guard: only
    /// the mail's reader knows it).
    pub token: String,
    /// Whether the link is still unused and unexpired.
    pub live: bool,
    /// The translated result, after an answer.
    pub done: Option<String>,
}

impl Page for NotMePage {
    const TEMPLATE: &'static str = "not_me.html";
}

/// The demo client's callback, `demo.html`: the tokens it received, raw and decoded.
/// Build with [`DemoPage::new`]. No `Debug`: it holds live tokens.
#[derive(Clone, Serialize)]
pub struct DemoPage {
    #[serde(flatten)]
    pub chrome: Chrome,
    /// The raw ID token (a JWT).
    pub id_token: String,
    /// The raw access token (a JWT).
    pub access_token: String,
    /// The raw refresh token (opaque), if one was issued.
    pub refresh_token: Option<String>,
    /// The ID token's JOSE header as indented JSON.
    pub id_token_header: String,
    /// The ID token's claims as indented JSON.
    pub id_token_claims: String,
    /// The access token's JOSE header as indented JSON.
    pub access_token_header: String,
    /// The access token's claims as indented JSON.
    pub access_token_claims: String,
    /// Seconds until the access token expires (`expires_in`), if known.
    pub expires_in: Option<u64>,
    /// Signs out (the hosted `/logout` for the demo client), if set.
    pub sign_out_url: Option<String>,
    /// Starts a new sign-in, if set.
    pub sign_in_url: Option<String>,
}

impl DemoPage {
    /// Decodes both JWTs for display. Nothing is verified here: the demo page shows what
    /// the token endpoint returned; a part that is not base64url JSON is shown as a
    /// placeholder.
    pub fn new(
        chrome: Chrome,
        id_token: &str,
        access_token: &str,
        refresh_token: Option<&str>,
    ) -> Self {
        let (id_token_header, id_token_claims) = decode_jwt(id_token);
        let (access_token_header, access_token_claims) = decode_jwt(access_token);
        DemoPage {
            chrome,
            id_token: id_token.to_string(),
            access_token: access_token.to_string(),
            refresh_token: refresh_token.map(String::from),
            id_token_header,
            id_token_claims,
            access_token_header,
            access_token_claims,
            expires_in: None,
            sign_out_url: None,
            sign_in_url: None,
        }
    }
}

impl Page for DemoPage {
    const TEMPLATE: &'static str = "demo.html";
}

/// The header and claims of a compact JWS as indented JSON.
fn decode_jwt(token: &str) -> (String, String) {
    let mut parts = token.split('.');
    let mut part = || {
        parts
            .next()
            .and_then(|p| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(p.trim_end_matches('='))
                    .ok()
            })
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| "(not a JWT)".to_string())
    };
    let header = part();
    let claims = part();
    (header, claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branding_is_sanitized() {
        let view = BrandingView::from(&Branding {
            display_name: Some("  ".into()),
            logo_url: Some("javascript:alert(1)".into()),
            primary_color: Some("red;}</style>".into()),
            background_color: Some("#FFF".into()),
            extra_css: Some("a > b { color: red } </style><script>x</script>".into()),
        });
        assert_eq!(view.display_name, None);
        assert_eq!(view.logo_url, None);
        assert_eq!(view.primary_color, DEFAULT_PRIMARY);
        assert_eq!(view.on_primary_color, LIGHT_TEXT);
        assert_eq!(view.background_color, "#ffffff");
        assert_eq!(view.on_background_color, DARK_TEXT);
        let css = view.extra_css.expect("css kept");
        assert!(!css.contains('<') && css.contains("a > b"));
    }

    #[test]
    fn light_primary_gets_dark_text_and_safe_links() {
        let view = BrandingView::from(&Branding {
            primary_color: Some("#fde047".into()),
            logo_url: Some("/static/logo.svg".into()),
            ..Branding::default()
        });
        assert_eq!(view.on_primary_color, DARK_TEXT);
        assert_eq!(view.link_color, DEFAULT_PRIMARY);
        assert_eq!(view.logo_url.as_deref(), Some("/static/logo.svg"));
        assert!(!safe_logo_url("//evil.example/x.png"));
        assert!(contrast((255, 255, 255), (0, 0, 0)) > 20.9);
        assert!(contrast(parse_hex(DEFAULT_PRIMARY).unwrap(), (255, 255, 255)) >= 4.5);
    }

    #[test]
    fn username_kinds() {
        assert_eq!(UsernameKind::Email.input_type(), "email");
        assert_eq!(UsernameKind::UsernameOrEmail.input_type(), "text");
        let json = serde_json::to_value(UsernameKind::Phone).unwrap();
        assert_eq!(json["label_key"], "field.phone");
        assert_eq!(json["input_type"], "tel");
    }

    #[test]
    fn jwt_decoding_for_display() {
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let token = format!(
            "{}.{}.sig",
            enc(r#"{"alg":"RS256"}"#),
            enc(r#"{"sub":"x"}"#)
        );
        let (h, c) = decode_jwt(&token);
        assert!(h.contains("\"alg\": \"RS256\""));
        assert!(c.contains("\"sub\": \"x\""));
        assert_eq!(decode_jwt("garbage").1, "(not a JWT)");
    }
}
