//! Builds the mail senders from the configuration (the core's [`MailRouter`] knows
//! nothing of the configuration file).

use std::sync::Arc;

use super::Config;
use crate::core::mail::{DevMailer, MailError, MailRouter, Mailer, SmtpMailer};

/// The senders the configuration describes: a pool's `email` settings with the SMTP
/// URL from its `smtp_url_env` variable (read by [`Config::load`]), else
/// `[server.smtp]` with the pool's sender address; pools without settings use
/// `[server.smtp]`; without any SMTP, the development sender. Logs a warning when the
/// development sender is in use.
pub fn mail_router(config: &Config) -> Result<MailRouter, MailError> {
    let server = config.server.smtp.as_ref();
    let default: Arc<dyn Mailer> = match server {
        Some(smtp) => {
            let mailer = SmtpMailer::from_url(&smtp.url, &smtp.from)?;
            tracing::info!(server = mailer.server(), "codes are mailed by SMTP");
            Arc::new(mailer)
        }
        None => Arc::new(DevMailer::default()),
    };
    let mut router = MailRouter::new(default);
    let mut dev_pools = Vec::new();
    for pool in &config.pools {
        let Some(email) = &pool.email else {
            continue;
        };
        let url = email.smtp_url.as_ref().or(server.map(|s| &s.url));
        let mailer: Arc<dyn Mailer> = match url {
            Some(url) => Arc::new(SmtpMailer::from_url(url, &email.from)?),
            None => {
                dev_pools.push(pool.name.clone());
                Arc::new(DevMailer {
                    from: Some(email.from.clone()),
                })
            }
        };
        match &pool.id {
            Some(id) => router.per_pool.insert(id.clone(), mailer),
            None => router.per_pool_name.insert(pool.name.clone(), mailer),
        };
    }
    if router.default.is_development() {
        tracing::warn!(
            "no SMTP server is configured: confirmation and password reset codes are \
             WRITTEN TO THIS LOG (target cognate::dev_mail) instead of being mailed. Fine \
             for trying Cognate; for real users set [server.smtp] or COGNATE_SMTP_URL and \
             COGNATE_SMTP_FROM"
        );
    } else if !dev_pools.is_empty() {
        tracing::warn!(
            pools = ?dev_pools,
            "these pools have no SMTP server: their codes are written to the log"
        );
    }
    Ok(router)
}
