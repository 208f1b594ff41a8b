//! Mail delivery of confirmation and reset codes.
//!
//! - [`Mailer`] is the narrow interface the account service sends through.
//! - [`SmtpMailer`] delivers through an SMTP server (lettre, TLS by rustls on aws-lc-rs),
//!   configured by an `smtp://` / `smtps://` URL.
//! - [`DevMailer`] is the development sender: it writes the whole message, code included,
//!   to the log (target `cognate::dev_mail`) so a newcomer without a mail server can read
//!   the confirmation code in the terminal.
//! - [`MailRouter`] picks a pool's sender: its own SMTP URL, else the server's, else the
//!   development sender.
//!
//! **The development sender is the only place in Cognate where a code reaches a log.** A
//! deployment that sends real users' mail must configure SMTP (`[server.smtp]` or
//! `COGNATE_SMTP_URL`); Cognate warns at start while the development sender is in use.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::model::{Origin, UserPool};
use super::secrets::SecretString;
use crate::core::secrets::REDACTED;

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

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodePurpose {
    /// Confirming a sign-up (verifies the email address); valid 24 hours.
    Verification,
    /// Resetting a forgotten password; valid 1 hour.
    PasswordReset,
}

/// The languages mail is written in: French for `fr`, `fr-FR`, `fr_CA`...; English
/// otherwise.
fn is_french(lang: &str) -> bool {
    let primary = lang.split(['-', '_']).next().unwrap_or("");
    primary.eq_ignore_ascii_case("fr")
}

/// The message carrying `code` to `to`, in `lang` ("en" or "fr"; anything else is
/// English).
pub fn code_mail(purpose: CodePurpose, to: &str, code: &str, lang: &str) -> Mail {
    let (subject, text) = match (purpose, is_french(lang)) {
        (CodePurpose::Verification, false) => (
            "Your verification code".to_string(),
            format!(
                "Your verification code is {code}.\n\n\
                 Enter it on the confirmation page to finish signing up. It expires in 24 \
                 hours.\n\n\
                 If you did not sign up, you can ignore this message.\n"
            ),
        ),
        (CodePurpose::Verification, true) => (
            "Votre code de vérification".to_string(),
            format!(
                "Votre code de vérification est {code}.\n\n\
                 Saisissez-le sur la page de confirmation pour terminer votre inscription. Il \
                 expire dans 24 heures.\n\n\
                 Si vous n'êtes pas à l'origine de cette inscription, ignorez ce message.\n"
            ),
        ),
        (CodePurpose::PasswordReset, false) => (
            "Your password reset code".to_string(),
            format!(
                "Your password reset code is {code}.\n\n\
                 Enter it with your new password to reset your password. It expires in 1 \
                 hour.\n\n\
                 If you did not ask to reset your password, you can ignore this message: your \
                 password has not changed.\n"
            ),
        ),
        (CodePurpose::PasswordReset, true) => (
            "Votre code de réinitialisation du mot de passe".to_string(),
            format!(
                "Votre code de réinitialisation du mot de passe est {code}.\n\n\
                 Saisissez-le avec votre nouveau mot de passe pour le réinitialiser. Il expire \
                 dans 1 heure.\n\n\
                 Si vous n'avez pas demandé à réinitialiser votre mot de passe, ignorez ce \
                 message : votre mot de passe n'a pas changé.\n"
            ),
        ),
    };
    Mail {
        to: to.to_string(),
        subject,
        text,
    }
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

/// Percent-decodes `s` (URL passwords are stored encoded).
fn urlencoding_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                // Two hex digits make at most 255.
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to: Mailbox = mail.to.parse().map_err(|_| MailError::BadRecipient)?;
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
        }
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

    #[test]
    fn texts_in_english_and_french() {
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
