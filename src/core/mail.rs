//! Mail delivery of confirmation and reset codes, and of AdminCreateUser's invitations
//! ([`invitation_mail`]).
//!
//! - [`Mailer`] is the narrow interface the account service sends through.
//! - [`SmtpMailer`] delivers through an SMTP server (lettre, TLS by rustls on aws-lc-rs),
//!   configured by an `smtp://` / `smtps://` URL.
//! - [`DevMailer`] is the development sender: it writes the whole message, code included,
//!   to the log (target `cognate::dev_mail`) so a newcomer without a mail server can read
//!   the confirmation code in the terminal.
//! - [`MailRouter`] picks a pool's sender: its own SMTP URL, else the server's, else the
//!   development sender; and writes the code mails ([`MailRouter::code_mail`]).
//! - [`code_mail`] writes a code mail from the template `mail/code.txt` and the catalog
//!   keys `mail.signup.*` / `mail.reset.*` of the shared [`crate::text::Texts`], which the
//!   operator's `templates_dir` overrides as it does the hosted UI's pages.
//!
//! **The development sender is the only place in Cognate where a code reaches a log.** A
//! deployment that sends real users' mail must configure SMTP (`[server.smtp]` or
//! `COGNATE_SMTP_URL`); Cognate warns at start while the development sender is in use.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Serialize;

use super::model::{Origin, UserPool};
use super::secrets::SecretString;
use crate::core::secrets::REDACTED;
use crate::text::{EmbeddedTemplates, Lang, TextError, Texts};

/// How long one SMTP conversation may take (connect, each command, the message).
pub const SMTP_TIMEOUT: Duration = Duration::from_secs(15);

/// A plain-text message to one recipient. `Debug` leaves out the body, which carries a
/// code.
#[derive(Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
}

impl fmt::Debug for Mail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mail")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .field("text", &REDACTED)
            .finish()
    }
}

/// Why a message was not sent. No variant carries the SMTP URL or its password.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid SMTP URL: {0}")]
    BadUrl(String),
    #[error("invalid sender address {0:?}")]
    BadFrom(String),
    #[error("invalid recipient address")]
    BadRecipient,
    #[error("could not build the message: {0}")]
    Message(String),
    #[error("sending mail through {server} failed: {reason}")]
    Send { server: String, reason: String },
    #[error("sending mail through {server} timed out")]
    Timeout { server: String },
}

/// Sends mail. Implementations: [`SmtpMailer`], [`DevMailer`]; tests record messages.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;

    /// Whether this is the development sender (codes go to the log).
    fn is_development(&self) -> bool {
        false
    }
}

// ------------------------------------------------------------------------------------------
// Message texts
// ------------------------------------------------------------------------------------------

/// The mail templates compiled into the binary, by name; the hosted UI builds the shared
/// [`Texts`] with them so that `templates_dir` overrides them like its pages. A unit test
/// checks this list names every file under `templates/mail/`.
pub const MAIL_TEMPLATES: EmbeddedTemplates = &[
    (
        "mail/code.txt",
        include_str!("../../templates/mail/code.txt"),
    ),
    (
        "mail/notice.txt",
        include_str!("../../templates/mail/notice.txt"),
    ),
    (
        "mail/invitation.txt",
        include_str!("../../templates/mail/invitation.txt"),
    ),
];

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// Confirming a sign-up (verifies the email address); valid 24 hours.
    Verification,
    /// Resetting a forgotten password; valid 1 hour.
    PasswordReset,
    /// A second factor after a password (issue 13); valid 5 minutes.
    MfaCode,
    /// Proving the address receives mail, to enrol email as a second factor.
    MfaEnrol,
    /// A passwordless sign-in (Cognito's `EMAIL_OTP` first factor).
    SignIn,
}

impl CodePurpose {
    /// The name the mail template and the catalog keys (`mail.<name>.subject`,
    /// `mail.<name>.body`) know the purpose by.
    pub fn name(self) -> &'static str {
        match self {
            CodePurpose::Verification => "signup",
            CodePurpose::PasswordReset => "reset",
            CodePurpose::MfaCode => "mfa",
            CodePurpose::MfaEnrol => "mfa_enrol",
            CodePurpose::SignIn => "signin",
        }
    }
}

/// The language a mail is written in, by the primary subtag of `tag` (`fr`, `fr-FR`,
/// `fr_CA`... are French); English for any language the catalogs lack.
fn mail_lang(tag: &str) -> Lang {
    let primary = tag.split(['-', '_']).next().unwrap_or("");
    Lang::ALL
        .into_iter()
        .find(|l| l.code().eq_ignore_ascii_case(primary))
        .unwrap_or_default()
}

/// The texts built into the binary, for a [`MailRouter`] not given the server's (tests,
/// tools).
pub fn built_in_texts() -> Arc<Texts> {
    static BUILT_IN: LazyLock<Arc<Texts>> =
        LazyLock::new(|| Arc::new(Texts::built_in(&[MAIL_TEMPLATES])));
    BUILT_IN.clone()
}

/// The message carrying `code` to `to`, in `lang` (a language tag; one the catalogs lack
/// is English): the subject is the catalog's `mail.<purpose>.subject`, the body the
/// template `mail/code.txt`, both as `texts` has them (the operator's overrides included).
pub fn code_mail(
    texts: &Texts,
    purpose: CodePurpose,
    to: &str,
    code: &str,
    lang: &str,
) -> Result<Mail, TextError> {
    #[derive(Serialize)]
    struct CodeMail<'a> {
        purpose: &'static str,
        code: &'a str,
        to: &'a str,
    }
    let lang = mail_lang(lang);
    let subject = texts.tr(
        lang,
        &format!("mail.{}.subject", purpose.name()),
        &[("code", code)],
    );
    let text = texts.render(
        "mail/code.txt",
        lang,
        &CodeMail {
            purpose: purpose.name(),
            code,
            to,
        },
    )?;
    Ok(Mail {
        to: to.to_string(),
        subject,
        text,
    })
}

/// The notice mail `notice` (a [`crate::core::mfa::manage::Notice`] name:
/// `factor_added`, `factor_removed`, `recovery_code_used`, `recovery_codes_regenerated`)
/// to `to`, in `lang`: the subject is the catalog's `mail.notice.<notice>.subject`, the body
/// the template `mail/notice.txt`. `factor` (`TOTP`, `EMAIL`, `PASSKEY`) is named in the
/// user's language by the catalog's `mail.factor.<factor in lowercase>`.
pub fn notice_mail(
    texts: &Texts,
    notice: &str,
    factor: Option<&str>,
    to: &str,
    lang: &str,
) -> Result<Mail, TextError> {
    #[derive(Serialize)]
    struct NoticeMail<'a> {
        notice: &'a str,
        factor: String,
        to: &'a str,
    }
    let lang = mail_lang(lang);
    let factor = factor
        .map(|f| {
            texts.tr(
                lang,
                &format!("mail.factor.{}", f.to_ascii_lowercase()),
                &[],
            )
        })
        .unwrap_or_default();
    let subject = texts.tr(
        lang,
        &format!("mail.notice.{notice}.subject"),
        &[("factor", &factor)],
    );
    let text = texts.render("mail/notice.txt", lang, &NoticeMail { notice, factor, to })?;
    Ok(Mail {
        to: to.to_string(),
        subject,
        text,
    })
}

/// The invitation AdminCreateUser mails to a new user (Cognito's "Your username is
/// {username} and temporary password is {####}."): the subject is the catalog's
/// `mail.invitation.subject`, the body the template `mail/invitation.txt`, in `lang`.
pub fn invitation_mail(
    texts: &Texts,
    to: &str,
    username: &str,
    password: &SecretString,
    lang: &str,
) -> Result<Mail, TextError> {
    #[derive(Serialize)]
    struct Invitation<'a> {
        username: &'a str,
        password: &'a str,
        to: &'a str,
    }
    let lang = mail_lang(lang);
    let subject = texts.tr(lang, "mail.invitation.subject", &[("username", username)]);
    let text = texts.render(
        "mail/invitation.txt",
        lang,
        &Invitation {
            username,
            password: password.expose(),
            to,
        },
    )?;
    Ok(Mail {
        to: to.to_string(),
        subject,
        text,
    })
}

// ------------------------------------------------------------------------------------------
// The development sender
// ------------------------------------------------------------------------------------------

/// The development sender: writes each message, **code included**, to the log with
/// `tracing::info!(target: "cognate::dev_mail")`. This is deliberately the one place a
/// code is logged, so that the first run without a mail server works end to end. Never use
/// it for real users: anyone who reads the log can confirm their accounts and reset their
/// passwords.
#[derive(Debug, Clone, Default)]
pub struct DevMailer {
    /// The sender the message would have had (shown in the log).
    pub from: Option<String>,
}

#[async_trait]
impl Mailer for DevMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        tracing::info!(
            target: "cognate::dev_mail",
            from = self.from.as_deref().unwrap_or("(development sender)"),
            to = %mail.to,
            subject = %mail.subject,
            "development mail sender (no SMTP configured), message not sent, here it is:\n\
             To: {}\nSubject: {}\n\n{}",
            mail.to,
            mail.subject,
            mail.text
        );
        Ok(())
    }

    fn is_development(&self) -> bool {
        true
    }
}

// ------------------------------------------------------------------------------------------
// SMTP
// ------------------------------------------------------------------------------------------

/// Delivers through an SMTP server. One connection per message (codes are rare).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// `host:port`, for errors and logs (never the credentials).
    server: String,
    /// The URL's password, scrubbed from any error text a server or library produces.
    password: Option<SecretString>,
}

impl fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl SmtpMailer {
    /// Builds a sender from an SMTP URL, as lettre reads it:
    /// `smtps://user:pass@host[:465]` (TLS), `smtp://user:pass@host[:587]?tls=required`
    /// (STARTTLS), or `smtp://host[:25]` (unencrypted; for a local relay or tests).
    /// Percent-encode special characters of the user name and password.
    pub fn from_url(url: &SecretString, from: &str) -> Result<SmtpMailer, MailError> {
        Self::from_url_with_timeout(url, from, SMTP_TIMEOUT)
    }

    pub fn from_url_with_timeout(
        url: &SecretString,
        from: &str,
        timeout: Duration,
    ) -> Result<SmtpMailer, MailError> {
        let text = url.expose().trim();
        check_smtp_url(text).map_err(MailError::BadUrl)?;
        let parsed = url::Url::parse(text).map_err(|e| MailError::BadUrl(e.to_string()))?;
        let password = parsed.password().map(|p| SecretString::new(p.to_string()));
        let host = parsed.host_str().unwrap_or_default();
        let server = match parsed.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        };
        let scrub = |reason: String| redact(&reason, password.as_ref());
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(text)
            .map_err(|e| MailError::BadUrl(scrub(e.to_string())))?
            .timeout(Some(timeout))
            .build();
        let from: Mailbox = from
            .trim()
            .parse()
            .map_err(|_| MailError::BadFrom(from.to_string()))?;
        Ok(SmtpMailer {
            transport,
            from,
            server,
            password,
        })
    }

    /// `host:port` of the server (for logs).
    pub fn server(&self) -> &str {
        &self.server
    }
}

/// Removes `secret` (and its percent-encoded form) from `text`.
fn redact(text: &str, secret: Option<&SecretString>) -> String {
    let Some(secret) = secret.map(SecretString::expose).filter(|s| !s.is_empty()) else {
        return text.to_string();
    };
    let mut out = text.replace(secret, REDACTED);
    if let Ok(decoded) = urlencoding_decode(secret) {
        if !decoded.is_empty() {
            out = out.replace(&decoded, REDACTED);
        }
    }
    out
}

/// Percent-decodes `s` (URL passwords are stored encoded, RFC 3986 section 2.1); a `%`
/// not followed by two hex digits stays as written.
fn urlencoding_decode(s: &str) -> Result<String, std::str::Utf8Error> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(Cow::into_owned)
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        // Exactly the stored string, as a bare address: a display name or angle brackets
        // in it (stored before validation refused them) must not route the mail to an
        // address other than the one shown and verified.
        let address: lettre::Address = mail.to.parse().map_err(|_| MailError::BadRecipient)?;
        if address.as_ref() != mail.to {
            return Err(MailError::BadRecipient);
        }
        let to = Mailbox::new(None, address);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| MailError::Message(e.to_string()))?;
        // lettre's timeout covers each network step; this bounds the whole conversation.
        match tokio::time::timeout(SMTP_TIMEOUT * 4, self.transport.send(message)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(MailError::Send {
                server: self.server.clone(),
                reason: redact(&e.to_string(), self.password.as_ref()),
            }),
            Err(_) => Err(MailError::Timeout {
                server: self.server.clone(),
            }),
        }
    }
}

// ------------------------------------------------------------------------------------------
// Routing
// ------------------------------------------------------------------------------------------

/// Picks the sender of each pool.
#[derive(Clone)]
pub struct MailRouter {
    /// The server-wide sender: SMTP from `[server.smtp]`, else the development sender.
    pub default: Arc<dyn Mailer>,
    /// Senders of pools with their own `email` settings, by pool id.
    pub per_pool: HashMap<String, Arc<dyn Mailer>>,
    /// Senders of declared pools without a pinned id, by pool name (such pools are found
    /// by name when the file is applied, so their id is known only then).
    pub per_pool_name: HashMap<String, Arc<dyn Mailer>>,
    /// The templates and catalogs the mails are written with: the server's (with the
    /// operator's `templates_dir`) after [`MailRouter::with_texts`], else the built-in ones.
    texts: Arc<Texts>,
}

impl fmt::Debug for MailRouter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailRouter")
            .field("development", &self.default.is_development())
            .field("per_pool", &self.per_pool.keys().collect::<Vec<_>>())
            .field(
                "per_pool_name",
                &self.per_pool_name.keys().collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl MailRouter {
    /// Every pool sends through `default`.
    pub fn new(default: Arc<dyn Mailer>) -> MailRouter {
        MailRouter {
            default,
            per_pool: HashMap::new(),
            per_pool_name: HashMap::new(),
            texts: built_in_texts(),
        }
    }

    /// Writes the mails with `texts` (the server's, built at start with the operator's
    /// overrides, see `web::hosted::ui::Ui::texts`).
    pub fn with_texts(mut self, texts: Arc<Texts>) -> MailRouter {
        self.texts = texts;
        self
    }

    /// The message carrying `code` to `to` ([`code_mail`] with this router's texts). An
    /// operator's template compiles at start but may still fail on these values (an
    /// undefined name): the error goes to the log and the mail falls back to the catalog's
    /// body, which is what the built-in template writes, so the user still gets the code.
    pub fn code_mail(&self, purpose: CodePurpose, to: &str, code: &str, lang: &str) -> Mail {
        code_mail(&self.texts, purpose, to, code, lang).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the mail template failed; sending the catalog's text");
            let lang = mail_lang(lang);
            let key = |part: &str| format!("mail.{}.{part}", purpose.name());
            let args = [("code", code)];
            Mail {
                to: to.to_string(),
                subject: self.texts.tr(lang, &key("subject"), &args),
                text: self.texts.tr(lang, &key("body"), &args),
            }
        })
    }

    /// The notice mail ([`notice_mail`] with this router's texts); a failing operator
    /// template falls back to the catalog's body, as [`MailRouter::code_mail`] does.
    pub fn notice_mail(&self, notice: &str, factor: Option<&str>, to: &str, lang: &str) -> Mail {
        notice_mail(&self.texts, notice, factor, to, lang).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the mail template failed; sending the catalog's text");
            let lang = mail_lang(lang);
            let factor = factor
                .map(|f| {
                    self.texts.tr(
                        lang,
                        &format!("mail.factor.{}", f.to_ascii_lowercase()),
                        &[],
                    )
                })
                .unwrap_or_default();
            let key = |part: &str| format!("mail.notice.{notice}.{part}");
            let args = [("factor", factor.as_str())];
            Mail {
                to: to.to_string(),
                subject: self.texts.tr(lang, &key("subject"), &args),
                text: self.texts.tr(lang, &key("body"), &args),
            }
        })
    }

    /// A notice about the account's email address (`email_change_requested`,
    /// `email_changed`), mailed to the OLD verified address `to` and naming the new one
    /// already masked (`address`): the catalog's `mail.notice.<notice>.subject|body`.
    pub fn address_notice_mail(&self, notice: &str, address: &str, to: &str, lang: &str) -> Mail {
        let lang = mail_lang(lang);
        let key = |part: &str| format!("mail.notice.{notice}.{part}");
        let args = [("address", address)];
        Mail {
            to: to.to_string(),
            subject: self.texts.tr(lang, &key("subject"), &args),
            text: self.texts.tr(lang, &key("body"), &args),
        }
    }

    /// Threat protection's "was this you?" notice about a sign-in (the catalog's
    /// `mail.notice.new_sign_in.subject|body`): `args` name the time, the client address,
    /// the browser and the single-use `link` to the page that answers it.
    pub fn sign_in_notice_mail(&self, to: &str, lang: &str, args: &[(&str, &str)]) -> Mail {
        let lang = mail_lang(lang);
        Mail {
            to: to.to_string(),
            subject: self.texts.tr(lang, "mail.notice.new_sign_in.subject", args),
            text: self.texts.tr(lang, "mail.notice.new_sign_in.body", args),
        }
    }

    /// The invitation mail ([`invitation_mail`] with this router's texts); a failing
    /// operator template falls back to the catalog's body, as [`MailRouter::code_mail`]
    /// does.
    pub fn invitation_mail(
        &self,
        to: &str,
        username: &str,
        password: &SecretString,
        lang: &str,
    ) -> Mail {
        invitation_mail(&self.texts, to, username, password, lang).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the mail template failed; sending the catalog's text");
            let lang = mail_lang(lang);
            let args = [("username", username), ("password", password.expose())];
            Mail {
                to: to.to_string(),
                subject: self.texts.tr(lang, "mail.invitation.subject", &args),
                text: self.texts.tr(lang, "mail.invitation.body", &args),
            }
        })
    }

    /// The sender of a pool, by id.
    pub fn for_pool(&self, pool_id: &str) -> Arc<dyn Mailer> {
        self.per_pool.get(pool_id).unwrap_or(&self.default).clone()
    }

    /// The sender of a pool, by id, or for a config-owned pool declared without an id, by
    /// its name.
    pub fn for_user_pool(&self, pool: &UserPool) -> Arc<dyn Mailer> {
        if let Some(mailer) = self.per_pool.get(&pool.id) {
            return mailer.clone();
        }
        if pool.origin == Origin::Config {
            if let Some(mailer) = self.per_pool_name.get(&pool.name) {
                return mailer.clone();
            }
        }
        self.default.clone()
    }
}

/// Checks an SMTP URL (`smtp://` or `smtps://`, a host, and `tls=required|opportunistic`
/// only on `smtp://`). The message never repeats the URL: it may hold a password.
pub fn check_smtp_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text.trim())
        .map_err(|e| format!("the SMTP URL is not an absolute URL ({e})"))?;
    if !matches!(url.scheme(), "smtp" | "smtps") {
        return Err(format!(
            "the SMTP URL has scheme {:?}; use smtps:// (TLS) or smtp://",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("the SMTP URL has no host".to_string());
    }
    for (key, value) in url.query_pairs() {
        match (key.as_ref(), value.as_ref(), url.scheme()) {
            ("tls", "required" | "opportunistic", "smtp") => {}
            ("tls", _, "smtps") => {
                return Err("smtps:// is TLS already; remove the tls parameter".to_string())
            }
            ("tls", other, _) => {
                return Err(format!(
                    "tls={other:?} is not a TLS mode; use tls=required (STARTTLS) or \
                     tls=opportunistic"
                ))
            }
            (other, _, _) => {
                return Err(format!(
                    "the SMTP URL has an unknown parameter {other:?} (only tls is known)"
                ))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts() -> Texts {
        Texts::new(None, &[MAIL_TEMPLATES]).expect("built-in mail texts")
    }

    #[test]
    fn texts_in_english_and_french() {
        let texts = texts();
        let code_mail =
            |purpose, to, code, lang| code_mail(&texts, purpose, to, code, lang).unwrap();
        let en = code_mail(CodePurpose::Verification, "a@example.com", "123456", "en");
        assert_eq!(en.subject, "Your verification code");
        assert!(en.text.contains("123456"));
        let fr = code_mail(
            CodePurpose::PasswordReset,
            "a@example.com",
            "654321",
            "fr-CA",
        );
        assert_eq!(fr.subject, "Votre code de réinitialisation du mot de passe");
        assert!(fr.text.contains("654321"));
        let other = code_mail(CodePurpose::PasswordReset, "a@example.com", "1", "de");
        assert_eq!(other.subject, "Your password reset code");
        assert!(!format!("{fr:?}").contains("654321"));
    }

    /// The texts as they were written in Rust before they moved to the catalogs, byte for
    /// byte.
    #[test]
    fn texts_are_unchanged_by_the_move_to_templates() {
        let texts = texts();
        let code = "123456";
        let cases = [
            (
                CodePurpose::Verification,
                "en",
                "Your verification code",
                format!(
                    "Your verification code is {code}.\n\n\
                     Enter it on the confirmation page to finish signing up. It expires in 24 \
                     hours.\n\n\
                     If you did not sign up, you can ignore this message.\n"
                ),
            ),
            (
                CodePurpose::Verification,
                "fr",
                "Votre code de vérification",
                format!(
                    "Votre code de vérification est {code}.\n\n\
                     Saisissez-le sur la page de confirmation pour terminer votre inscription. Il \
                     expire dans 24 heures.\n\n\
                     Si vous n'êtes pas à l'origine de cette inscription, ignorez ce message.\n"
                ),
            ),
            (
                CodePurpose::PasswordReset,
                "en-GB",
                "Your password reset code",
                format!(
                    "Your password reset code is {code}.\n\n\
                     Enter it with your new password to reset your password. It expires in 1 \
                     hour.\n\n\
                     If you did not ask to reset your password, you can ignore this message: your \
                     password has not changed.\n"
                ),
            ),
            (
                CodePurpose::PasswordReset,
                "FR_be",
                "Votre code de réinitialisation du mot de passe",
                format!(
                    "Votre code de réinitialisation du mot de passe est {code}.\n\n\
                     Saisissez-le avec votre nouveau mot de passe pour le réinitialiser. Il expire \
                     dans 1 heure.\n\n\
                     Si vous n'avez pas demandé à réinitialiser votre mot de passe, ignorez ce \
                     message : votre mot de passe n'a pas changé.\n"
                ),
            ),
        ];
        for (purpose, lang, subject, text) in cases {
            let mail = code_mail(&texts, purpose, "a@example.com", code, lang).unwrap();
            assert_eq!(mail.to, "a@example.com");
            assert_eq!(mail.subject, subject, "{purpose:?} in {lang}");
            assert_eq!(mail.text, text, "{purpose:?} in {lang}");
        }
        // A tag the old code did not trim is English still.
        let padded = code_mail(&texts, CodePurpose::Verification, "a@b.c", code, " fr").unwrap();
        assert_eq!(padded.subject, "Your verification code");
        assert_eq!(
            code_mail(
                &built_in_texts(),
                CodePurpose::Verification,
                "a@b.c",
                code,
                "fr"
            )
            .unwrap()
            .subject,
            "Votre code de vérification"
        );
    }

    #[test]
    fn every_mail_template_file_is_embedded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/mail");
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .expect("templates/mail")
            .filter_map(|e| e.ok())
            .map(|e| format!("mail/{}", e.file_name().to_string_lossy()))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = MAIL_TEMPLATES.iter().map(|(n, _)| n.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn an_operator_directory_overrides_the_mail_texts() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("mail")).unwrap();
        std::fs::create_dir_all(dir.path().join("i18n")).unwrap();
        // The body template of the operator, the subject from the operator's catalog; the
        // other language and the other keys keep their built-in text.
        std::fs::write(
            dir.path().join("mail/code.txt"),
            "ACME ({{ lang }}, {{ purpose }}) for {{ to }}: {{ code }}\n\
             {{ t(\"mail.signup.body\", code=code) }}\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("i18n/fr.toml"),
            "[mail.signup]\nsubject = \"ACME : votre code {code}\"\nbody = \"Code : {code}\"\n",
        )
        .unwrap();
        let texts = Texts::new(Some(dir.path()), &[MAIL_TEMPLATES]).expect("overrides");
        let fr = code_mail(&texts, CodePurpose::Verification, "a@b.c", "42", "fr").unwrap();
        assert_eq!(fr.subject, "ACME : votre code 42");
        assert_eq!(fr.text, "ACME (fr, signup) for a@b.c: 42\nCode : 42");
        let en = code_mail(&texts, CodePurpose::PasswordReset, "a@b.c", "7", "en").unwrap();
        assert_eq!(en.subject, "Your password reset code");
        assert!(en
            .text
            .starts_with("ACME (en, reset) for a@b.c: 7\nYour verification code is 7."));

        // A template that does not compile is refused when the texts are built (at start),
        // naming the file, as a broken page template is.
        std::fs::write(dir.path().join("mail/code.txt"), "{% if %}").unwrap();
        let err = Texts::new(Some(dir.path()), &[MAIL_TEMPLATES])
            .unwrap_err()
            .to_string();
        assert!(err.contains("mail/code.txt"), "{err}");
    }

    #[test]
    fn the_router_writes_with_its_texts_and_falls_back_to_the_catalog() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("mail")).unwrap();
        // Compiles, but fails when rendered: printing an undefined name is an error.
        std::fs::write(dir.path().join("mail/code.txt"), "{{ no_such_name }}").unwrap();
        let texts = Arc::new(Texts::new(Some(dir.path()), &[MAIL_TEMPLATES]).unwrap());
        assert!(code_mail(&texts, CodePurpose::PasswordReset, "a@b.c", "5", "fr").is_err());
        let built_in = code_mail(
            &built_in_texts(),
            CodePurpose::PasswordReset,
            "a@b.c",
            "5",
            "fr",
        )
        .unwrap();
        let router = MailRouter::new(Arc::new(DevMailer::default()));
        assert_eq!(
            router.code_mail(CodePurpose::PasswordReset, "a@b.c", "5", "fr"),
            built_in
        );
        let router = router.with_texts(texts);
        assert_eq!(
            router.code_mail(CodePurpose::PasswordReset, "a@b.c", "5", "fr"),
            built_in
        );
    }

    #[test]
    fn errors_never_show_the_password() {
        let url = SecretString::new("smtp://user:hunter2@[bad host");
        let err = SmtpMailer::from_url(&url, "a@example.com").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let url = SecretString::new("http://user:hunter2@example.com");
        let err = SmtpMailer::from_url(&url, "a@example.com").unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert_eq!(
            redact(
                "auth failed for hunter%21 / hunter!",
                Some(&SecretString::new("hunter%21"))
            ),
            "auth failed for <redacted> / <redacted>"
        );
        let ok = SmtpMailer::from_url(
            &SecretString::new("smtps://user:hunter2@smtp.example.com"),
            "Shop <no-reply@example.com>",
        )
        .unwrap();
        assert!(!format!("{ok:?}").contains("hunter2"));
        assert!(matches!(
            SmtpMailer::from_url(&SecretString::new("smtp://h"), "not an address"),
            Err(MailError::BadFrom(_))
        ));
    }
}
