//! Risk scoring of sign-ins and the per-level responses (Cognito's adaptive
//! authentication, computed on this machine only; the README's "Risk-based responses"
//! documents every signal).
//!
//! A sign-in whose first factor was proven is [`Risk::assess`]ed for its user:
//! - `new_device`: the hosted UI's device cookie (hashed) was never seen in the user's
//!   sign-in history within the retention ([`AuthEvent::counts_as_history`]; only for a
//!   user with such history, and only where the edge has a device: the AWS API sends
//!   none);
//! - `new_network`: the client address's network (IPv4 /24, IPv6 /48) was never seen in
//!   them (only with history);
//! - `failure_burst`: failed sign-ins from the client's address (IPv6: its /64) across
//!   every account of the pool in the current 10-minute window reached
//!   `tuning.burst_failures` (a store counter, so it holds across nodes);
//! - `impossible_travel`: with `[server] geoip_database`, the distance from the user's last
//!   successful sign-in's location over the time since is faster than
//!   `tuning.max_travel_kmh`.
//!
//! The score is the sum of the fired signals' weights; the level is `high` from
//! `tuning.high_at`, `medium` from `tuning.medium_at`, `low` above 0. The history is read
//! with one indexed listing of the user's events; nothing is written beyond the event
//! itself (the event row is the history).
//!
//! The notify response mails a "was this you?" link naming a single-use token (an
//! ephemeral, 7 days, stored under its hash): [`Risk::answer`] takes it, and "not me"
//! signs the user out everywhere, requires a password reset and records the feedback.

use std::net::IpAddr;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::events::{AuthEvents, EventContext};
use super::geo::{distance_km, GeoIp};
use crate::core::directory::Directory;
use crate::core::mail::MailRouter;
use crate::core::mfa::has_verified_email;
use crate::core::model::{
    AuthEvent, EventFeedback, EventRisk, GeoPoint, RiskLevel, User, UserPool, UserStatus,
};
use crate::core::secrets::random_token;
use crate::core::signout;
use crate::core::storage::{Store, StoreError};
use crate::core::UnixTime;

/// The window of the failure-burst count, in seconds.
pub const BURST_WINDOW_SECS: i64 = 600;
/// How many of the user's latest events the history holds.
pub const HISTORY: i64 = 50;
/// How long a "not me" link works, in seconds (7 days).
pub const NOT_ME_TTL_SECS: i64 = 7 * 86_400;
/// The ephemeral kind of "not me" tokens.
pub const NOT_ME_KIND: &str = "risk_not_me";
/// Distances below this (km) never count as travel: GeoIP places an address only
/// roughly (a city, often a region).
pub const MIN_TRAVEL_KM: f64 = 100.0;

/// The names of the signals, as logged and recorded.
pub mod signals {
    pub const NEW_DEVICE: &str = "new_device";
    pub const NEW_NETWORK: &str = "new_network";
    pub const FAILURE_BURST: &str = "failure_burst";
    pub const IMPOSSIBLE_TRAVEL: &str = "impossible_travel";
}

/// A scored sign-in: the risk (level, score, signals; the decision is the caller's) and
/// where the address is, for the event.
#[derive(Debug, Clone, Default)]
pub struct Assessment {
    pub risk: EventRisk,
    pub location: Option<GeoPoint>,
}

/// Why a "not me" answer was refused.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// Unknown, already used or expired.
    #[error("This link expired or was already used.")]
    Expired,
    #[error("{0}")]
    Internal(String),
}

impl From<StoreError> for AnswerError {
    fn from(e: StoreError) -> Self {
        AnswerError::Internal(e.to_string())
    }
}

/// The user's answer on the "was this you?" page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    ItWasMe,
    NotMe,
}

/// What a "not me" token names.
#[derive(Serialize, Deserialize)]
struct NotMeToken {
    pool_id: String,
    sub: String,
    event_id: String,
    /// When the link stops working (it is given back until then if an answer fails).
    #[serde(default)]
    expires_at: UnixTime,
}

/// Risk scoring and responses over the store, the event log and the GeoIP file. Cheap to
/// clone.
#[derive(Clone)]
pub struct Risk {
    directory: Directory,
    events: AuthEvents,
    geo: Option<Arc<GeoIp>>,
    mail: MailRouter,
    /// The public base URL, for the "not me" link.
    public_url: String,
}

impl std::fmt::Debug for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Risk")
            .field("geo", &self.geo.is_some())
            .finish()
    }
}

/// The store counter of failed sign-ins from `address` in `pool_id` (IPv6 by /64: one
/// host gets a whole /64).
pub fn burst_key(pool_id: &str, address: IpAddr) -> String {
    // An IPv4 client on a dual-stack listener arrives as `::ffff:a.b.c.d`: its own key,
    // not the whole IPv4 Internet's shared /64.
    let net = match address.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    };
    format!("risk_fail:{pool_id}:{net}")
}

/// The network an address belongs to for `new_network`: IPv4 /24, IPv6 /48.
pub fn network_of(address: IpAddr) -> String {
    match address.to_canonical() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.0/24", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2])
        }
    }
}

/// A device cookie's value as the event stores it: hashed with the pool id, so the log
/// never holds a value that could be replayed as a cookie, and one browser's id differs
/// from pool to pool.
pub fn device_id(pool_id: &str, cookie: &str) -> String {
    let digest = Sha256::digest(format!("cognate-device:{pool_id}:{cookie}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The level of `score` by the pool's thresholds.
pub fn level_of(pool: &UserPool, score: u32) -> RiskLevel {
    level_by(&pool.threat_protection.tuning, score)
}

/// The level of `score` by thresholds `t`.
pub fn level_by(t: &crate::core::model::RiskTuning, score: u32) -> RiskLevel {
    if score == 0 {
        RiskLevel::None
    } else if score >= t.high_at {
        RiskLevel::High
    } else if score >= t.medium_at {
        RiskLevel::Medium
    } else {
        RiskLevel::Low
    }
}

impl Risk {
    pub fn new(
        directory: Directory,
        events: AuthEvents,
        geo: Option<Arc<GeoIp>>,
        mail: MailRouter,
        public_url: String,
    ) -> Self {
        Risk {
            directory,
            events,
            geo,
            mail,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.directory.store()
    }

    /// The event log.
    pub fn events(&self) -> &AuthEvents {
        &self.events
    }

    /// Counts a failed sign-in from `address` toward the failure burst (one counter write;
    /// a failure to count is logged, never a reason to answer differently).
    pub async fn record_failure(&self, pool: &UserPool, address: Option<IpAddr>, now: UnixTime) {
        let Some(address) = address else { return };
        if pool.threat_protection.tuning.failure_burst == 0 {
            return;
        }
        let key = burst_key(&pool.id, address);
        if let Err(e) = self
            .store()
            .increment_counter(&key, now + BURST_WINDOW_SECS, now)
            .await
        {
            tracing::warn!(error = %e, "the failure-burst count was not raised");
        }
    }

    /// Scores a sign-in of `user` (first factor proven) from `context` (see the module
    /// doc). A store failure leaves the signals it needed silent (logged): scoring never
    /// refuses a sign-in by itself.
    pub async fn assess(
        &self,
        pool: &UserPool,
        user: &User,
        context: &EventContext,
        now: UnixTime,
    ) -> Assessment {
        let tuning = &pool.threat_protection.tuning;
        let mut fired: Vec<(&'static str, u32)> = Vec::new();
        let since = now - self.events.retention_secs();
        let history: Vec<AuthEvent> = match self
            .store()
            .list_sign_in_history(&pool.id, &user.sub, since, HISTORY)
            .await
        {
            Ok(events) => events,
            Err(e) => {
                tracing::warn!(error = %e, "sign-in history unreadable; its signals are silent");
                Vec::new()
            }
        };
        if !history.is_empty() {
            let new_device = match &context.device {
                Some(device) => !history.iter().any(|e| e.device.as_ref() == Some(device)),
                // A hosted sign-in whose browser dropped (or forged) the cookie it was
                // given is a device never seen.
                None => context.expects_device,
            };
            if new_device {
                fired.push((signals::NEW_DEVICE, tuning.new_device));
            }
            if let Some(address) = context.address {
                let net = network_of(address);
                if !history
                    .iter()
                    .any(|e| e.address.is_some_and(|a| network_of(a) == net))
                {
                    fired.push((signals::NEW_NETWORK, tuning.new_network));
                }
            }
        }
        if let Some(address) = context.address {
            if tuning.failure_burst > 0 {
                match self
                    .store()
                    .get_counter(&burst_key(&pool.id, address), now)
                    .await
                {
                    Ok(Some((count, _))) if count >= i64::from(tuning.burst_failures) => {
                        fired.push((signals::FAILURE_BURST, tuning.failure_burst));
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "failure-burst count unreadable"),
                }
            }
        }
        let location = match (&self.geo, context.address) {
            (Some(geo), Some(address)) => geo.locate(address),
            _ => None,
        };
        if let Some(here) = &location {
            // The latest successful sign-in with a location (the history is newest first).
            if let Some((there, at)) = history
                .iter()
                .find_map(|e| e.location.as_ref().map(|l| (l, e.created_at)))
            {
                let km = distance_km(there, here);
                let hours = (now - at).max(0) as f64 / 3600.0;
                if km >= MIN_TRAVEL_KM && km > f64::from(tuning.max_travel_kmh) * hours {
                    fired.push((signals::IMPOSSIBLE_TRAVEL, tuning.impossible_travel));
                }
            }
        }
        let score = fired.iter().map(|(_, w)| *w).sum();
        Assessment {
            risk: EventRisk {
                level: level_of(pool, score),
                score,
                signals: fired.iter().map(|(s, _)| s.to_string()).collect(),
                decision: String::new(),
                compromised_credentials: false,
            },
            location,
        }
    }

    /// Mails `user` the "was this you?" notice about `event`, with a single-use link to
    /// the page that answers it. Runs off the request path; a user without a verified
    /// email gets none (logged).
    pub fn notify(&self, pool: &UserPool, user: &User, event: &AuthEvent, now: UnixTime) {
        let (Some(to), true) = (user.attribute("email"), has_verified_email(user)) else {
            tracing::info!(pool = %pool.id, sub = %user.sub, "no verified email: the sign-in notice is not sent");
            return;
        };
        let to = to.to_string();
        let this = self.clone();
        let pool = pool.clone();
        let lang = crate::core::mfa::manage::user_lang(user).to_string();
        let token = NotMeToken {
            pool_id: pool.id.clone(),
            sub: user.sub.clone(),
            event_id: event.id.clone(),
            expires_at: now + NOT_ME_TTL_SECS,
        };
        let when = chrono::DateTime::from_timestamp(event.created_at, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .unwrap_or_default();
        let address = event.address.map(|a| a.to_string()).unwrap_or_default();
        let browser = browser_name(event.user_agent.as_deref().unwrap_or(""));
        tokio::spawn(async move {
            let secret = random_token::<32>();
            let Ok(value) = serde_json::to_string(&token) else {
                return;
            };
            if let Err(e) = this
                .store()
                .put_ephemeral(
                    NOT_ME_KIND,
                    &token_id(&secret),
                    &value,
                    now + NOT_ME_TTL_SECS,
                    now,
                )
                .await
            {
                tracing::warn!(error = %e, "the sign-in notice's link was not stored; no notice sent");
                return;
            }
            let token: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
            let link = format!("{}/security/not-me?token={token}", this.public_url);
            let mail = this.mail.sign_in_notice_mail(
                &to,
                &lang,
                &[
                    ("time", &when),
                    ("address", &address),
                    ("browser", &browser),
                    ("link", &link),
                ],
            );
            if let Err(e) = this.mail.for_user_pool(&pool).send(&mail).await {
                tracing::warn!(error = %e, "the sign-in notice was not sent");
            }
        });
    }

    /// Whether `secret` names a live "not me" link (the GET shows the page; nothing
    /// changes).
    pub async fn link_is_live(&self, secret: &str, now: UnixTime) -> Result<bool, AnswerError> {
        if secret.is_empty() || secret.len() > 128 {
            return Ok(false);
        }
        Ok(self
            .store()
            .get_ephemeral(NOT_ME_KIND, &token_id(secret), now)
            .await?
            .is_some())
    }

    /// "Not me": the password reset is required first (a sign-in between the two steps
    /// then gets nothing: its password no longer works), then every session, refresh
    /// token and earlier access token of the user is signed out.
    async fn lock_down(&self, token: &NotMeToken, now: UnixTime) -> Result<(), AnswerError> {
        let pool = self
            .store()
            .get_pool(&token.pool_id)
            .await?
            .ok_or(AnswerError::Expired)?;
        self.directory
            .modify_user(&pool, &token.sub, |u| {
                if u.status != UserStatus::ExternalProvider {
                    u.status = UserStatus::ResetRequired;
                    u.temporary_password_expires_at = None;
                }
                u.updated_at = now;
                Ok(())
            })
            .await
            .map_err(|e| AnswerError::Internal(e.to_string()))?;
        signout::sign_out_everywhere(self.store().as_ref(), &pool.id, &token.sub, now).await?;
        tracing::warn!(pool = %pool.id, sub = %token.sub, event = %token.event_id,
            "a user answered 'not me': password reset required, signed out everywhere");
        Ok(())
    }

    /// The user's answer through the link (single use across nodes): `NotMe` signs the
    /// user out everywhere (sessions, refresh tokens, earlier access tokens), requires a
    /// password reset (`RESET_REQUIRED`) and records `Invalid` on the event; `ItWasMe`
    /// records `Valid`.
    pub async fn answer(
        &self,
        secret: &str,
        answer: Answer,
        now: UnixTime,
    ) -> Result<(), AnswerError> {
        if secret.is_empty() || secret.len() > 128 {
            return Err(AnswerError::Expired);
        }
        // Taken first, so one answer wins across nodes and parallel posts.
        let Some(stored) = self
            .store()
            .take_ephemeral(NOT_ME_KIND, &token_id(secret), now)
            .await?
        else {
            return Err(AnswerError::Expired);
        };
        let token: NotMeToken =
            serde_json::from_str(&stored).map_err(|e| AnswerError::Internal(e.to_string()))?;
        let value = match answer {
            Answer::NotMe => {
                if let Err(e) = self.lock_down(&token, now).await {
                    // The lock-down did not happen: the link is given back for another try.
                    let expires_at = token.expires_at.max(now + 60);
                    let id = token_id(secret);
                    let back = self
                        .store()
                        .put_ephemeral(NOT_ME_KIND, &id, &stored, expires_at, now)
                        .await;
                    if let Err(put) = back {
                        tracing::error!(error = %put, "a 'not me' link could not be given back");
                    }
                    return Err(e);
                }
                "Invalid"
            }
            Answer::ItWasMe => "Valid",
        };
        let feedback = EventFeedback {
            value: value.to_string(),
            provider: "User".to_string(),
            at: now,
        };
        self.events
            .set_feedback(&token.pool_id, &token.sub, &token.event_id, feedback, now)
            .await?;
        Ok(())
    }
}

/// The browser a notice names: a family and a system picked from known tokens of the
/// user agent, never its text (whoever signed in chose it, and a mail quoting "reset at
/// https://..." from it would carry their link in a genuine security notice).
fn browser_name(user_agent: &str) -> String {
    const BROWSERS: [(&str, &str); 9] = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("FxiOS/", "Firefox"),
        ("CriOS/", "Chrome"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
        ("curl/", "curl"),
        ("python-requests/", "Python requests"),
    ];
    const SYSTEMS: [(&str, &str); 7] = [
        ("Windows", "Windows"),
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ];
    let pick = |table: &[(&str, &'static str)]| {
        table
            .iter()
            .find(|(token, _)| user_agent.contains(token))
            .map(|(_, name)| *name)
    };
    match (pick(&BROWSERS), pick(&SYSTEMS)) {
        (Some(b), Some(os)) => format!("{b}, {os}"),
        (Some(b), None) => b.to_string(),
        (None, Some(os)) => os.to_string(),
        (None, None) => "?".to_string(),
    }
}

/// A "not me" token's id in the store: its hash (a database reader cannot use it).
fn token_id(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_name_the_browser_never_quote_the_user_agent() {
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        assert_eq!(browser_name(firefox), "Firefox, Linux");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edg/120.0";
        assert_eq!(browser_name(edge), "Edge, Windows");
        let hostile = "x). If this was not you, reset at https://evil.example/r";
        assert_eq!(browser_name(hostile), "?");
        assert_eq!(browser_name(""), "?");
    }

    #[test]
    fn ipv4_mapped_addresses_are_their_ipv4_selves() {
        let mapped: IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        let plain: IpAddr = "203.0.113.7".parse().unwrap();
        let other: IpAddr = "::ffff:198.51.100.7".parse().unwrap();
        assert_eq!(burst_key("p", mapped), burst_key("p", plain));
        assert_ne!(burst_key("p", mapped), burst_key("p", other));
        assert_eq!(network_of(mapped), "203.0.113.0/24");
        assert_ne!(network_of(mapped), network_of(other));
    }

    #[test]
    fn networks_group_neighbours_and_burst_keys_group_a_host() {
        let a: IpAddr = "203.0.113.7".parse().unwrap();
        let b: IpAddr = "203.0.113.250".parse().unwrap();
        let c: IpAddr = "203.0.114.7".parse().unwrap();
        assert_eq!(network_of(a), network_of(b));
        assert_ne!(network_of(a), network_of(c));
        let v6a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let v6b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let v6c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(burst_key("p", v6a), burst_key("p", v6b));
        assert_ne!(burst_key("p", v6a), burst_key("p", v6c));
        assert_eq!(network_of(v6a), network_of(v6c), "one /48");
        assert_ne!(burst_key("p", a), burst_key("q", a), "per pool");
    }

    #[test]
    fn device_ids_are_hashed_per_pool() {
        let one = device_id("pool-a", "cookie-value");
        assert_eq!(one, device_id("pool-a", "cookie-value"));
        assert_ne!(one, device_id("pool-b", "cookie-value"));
        assert!(!one.contains("cookie"));
    }

    #[test]
    fn levels_follow_the_thresholds() {
        let t = crate::core::model::RiskTuning::default();
        assert_eq!(level_by(&t, 0), RiskLevel::None);
        assert_eq!(level_by(&t, t.medium_at - 1), RiskLevel::Low);
        assert_eq!(level_by(&t, t.medium_at), RiskLevel::Medium);
        assert_eq!(level_by(&t, t.high_at - 1), RiskLevel::Medium);
        assert_eq!(level_by(&t, t.high_at), RiskLevel::High);
    }
}
