//! Brute-force protection of password sign-in.
//!
//! Attempts are counted in the shared store (so every node sees them; each is reserved
//! before its password is verified, see below), in fixed [`WINDOW_SECS`] windows, under
//! two keys:
//! - per **account**: a known user is counted under its username whichever identifier
//!   was typed (username, email, phone or preferred username alias), so aliases do not
//!   multiply an attacker's guesses; an unknown login is counted under the login as typed,
//!   normalized ([`login_key`]), exactly like a known one, so a lock (or a delay) on a
//!   login never tells whether it exists ([`account_login_key`]). The price of one count
//!   per account, as with Cognito's per-user lockout: someone who fails on one identifier
//!   sees the delay or lock on the account's other identifiers too, and so learns that
//!   they belong together, which only a guesser who already holds both can test. From [`DELAY_FROM_FAILURES`] failures each attempt waits
//!   [`DELAY_PER_FAILURE`] per failure beyond the fourth (at most [`MAX_DELAY`]); at
//!   [`ACCOUNT_LOCK_FAILURES`] the account is locked until its window ends.
//! - per **account and address**: locked at [`PAIR_LOCK_FAILURES`], so one attacking
//!   address is stopped on that account long before the account itself locks, while the
//!   real user, from another address, is only slowed down. IPv6 addresses count per /64
//!   (one subscriber's prefix).
//!
//! There is deliberately no per-address lock: users behind one NAT would lock each other
//! out. Spreading guesses over many addresses still meets the account lock.
//!
//! Counter keys are `bf:acct:<pool>:<key>:` and `bf:pair:<pool>:<key>:<address>:`, with
//! the pool, key and address percent-escaped (no `:` survives), so a `:` in a username
//! cannot collide with another key and the trailing `:` makes each account's prefix its
//! own. A key whose escaped form exceeds [`MAX_ESCAPED_KEY`] bytes is stored as `#` and
//! its hash.
//!
//! Every attempt is **reserved** before its password is verified ([`Throttle::reserve`]):
//! both counts are raised with the store's atomic [`Store::increment_counter`] (one upsert
//! returning the new value, on SQLite and on PostgreSQL alike, so every node shares it),
//! and an attempt whose reserved number is over a limit is refused without verifying. So
//! at most [`PAIR_LOCK_FAILURES`] passwords are verified per account and address, and at
//! most [`ACCOUNT_LOCK_FAILURES`] per account, per window, however many requests arrive at
//! once and on however many nodes: counting after the verification (check, verify, record)
//! let a parallel burst through whole. A reserved attempt counts as a failure unless the
//! password proves right ([`Throttle::record_success`] clears the account's and that
//! address's counts). The delay is chosen from the reserved number and waited after the
//! reservation, so a burst cannot slip in under an old count.
//!
//! The pair is reserved first and the account only when the pair is within its limit, so
//! one address's refused attempts never raise the account's count (one address cannot lock
//! the account for everyone). A count already at its limit is refused on a read, reserving
//! nothing, so attempts against a lock in force do not stretch the other count; only the
//! attempts that race the account to its limit raise their pair once without being verified.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::directory::{normalize_email, normalize_username};
use super::model::{User, UserPool};
use super::oauth::token_hash;
use super::storage::{Store, StoreError};
use super::UnixTime;

/// Length of a counting window (15 minutes); a lock lasts until its window ends.
pub const WINDOW_SECS: i64 = 15 * 60;
/// Failures of one account from which each attempt is delayed.
pub const DELAY_FROM_FAILURES: i64 = 5;
/// Delay per failure beyond `DELAY_FROM_FAILURES - 1`.
pub const DELAY_PER_FAILURE: Duration = Duration::from_secs(1);
/// The longest delay.
pub const MAX_DELAY: Duration = Duration::from_secs(5);
/// Failures of one account (from any addresses) that lock it.
pub const ACCOUNT_LOCK_FAILURES: i64 = 20;
/// Failures of one account from one address that lock that address out of it.
pub const PAIR_LOCK_FAILURES: i64 = 10;
/// Escaped keys longer than this are hashed. Every valid login fits (a username of 128
/// characters of 4 UTF-8 bytes escapes to 1536 bytes, an email of 254 bytes to 762), so
/// only logins that cannot exist, and so never need unlocking by hand, are hashed.
pub const MAX_ESCAPED_KEY: usize = 1536;
/// At most this many counters are read by [`Throttle::list_locked`].
const LIST_LIMIT: u32 = 10_000;

/// The key a sign-in attempt is counted under: the login as typed, normalized as the
/// directory would look it up (an email address case-folded as an email, anything else as
/// the pool's usernames). An account reachable by several identifiers (username, email
/// alias) has one count per identifier.
pub fn login_key(pool: &UserPool, typed: &str) -> String {
    let typed = typed.trim();
    if typed.contains('@') {
        normalize_email(typed)
    } else {
        normalize_username(pool, typed)
    }
}

/// The key a sign-in attempt is counted under: the username of the user the typed login
/// resolves to (one count per account, whichever alias was typed), or, when it resolves to
/// nobody, the typed login's [`login_key`].
pub fn account_login_key(pool: &UserPool, typed: &str, user: Option<&User>) -> String {
    match user {
        Some(user) => user.lookup.username.clone(),
        None => login_key(pool, typed),
    }
}

/// What to do with a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead (the attempt is reserved), after waiting `delay` (zero when there were few
    /// failures).
    Allow { delay: Duration },
    /// Refuse without checking the password, until `until` (seconds since the epoch).
    Locked { until: UnixTime },
}

/// A lock in force, for `cognate users lockouts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    /// The login key (`#<hash>` for a very long one).
    pub login_key: String,
    /// `None` for an account lock; the address (or IPv6 /64) for an account-and-address
    /// lock.
    pub address: Option<String>,
    pub failures: i64,
    pub until: UnixTime,
}

/// Sign-in failure counting. Cheap to clone.
#[derive(Clone)]
pub struct Throttle {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle").finish()
    }
}

impl Throttle {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Throttle { store }
    }

    /// Reserves an attempt on `login_key` from `ip`: the account-and-address count, then
    /// the account's, are raised atomically, and the attempt goes ahead (after the delay)
    /// only when both reserved numbers are within their limits; otherwise it is refused
    /// without verifying (see the [module doc](self) for why in this order). The reserved
    /// attempt stays counted as a failure unless [`Throttle::record_success`] clears it.
    pub async fn reserve(
        &self,
        pool_id: &str,
        login_key: &str,
        ip: IpAddr,
        now: UnixTime,
    ) -> Result<Verdict, StoreError> {
        let account = account_key(pool_id, login_key);
        let pair = pair_key(pool_id, login_key, ip);
        // A lock in force refuses on a read, counting nothing more.
        for (key, limit) in [
            (&account, ACCOUNT_LOCK_FAILURES),
            (&pair, PAIR_LOCK_FAILURES),
        ] {
            if let Some((failures, until)) = self.store.get_counter(key, now).await? {
                if failures >= limit {
                    return Ok(Verdict::Locked { until });
                }
            }
        }
        let window_end = now + WINDOW_SECS;
        let reserved = self.store.increment_counter(&pair, window_end, now).await?;
        if reserved > PAIR_LOCK_FAILURES {
            return Ok(Verdict::Locked {
                until: self.window_end(&pair, now).await?,
            });
        }
        let reserved = self
            .store
            .increment_counter(&account, window_end, now)
            .await?;
        if reserved > ACCOUNT_LOCK_FAILURES {
            return Ok(Verdict::Locked {
                until: self.window_end(&account, now).await?,
            });
        }
        // The failures before this attempt choose its delay.
        Ok(Verdict::Allow {
            delay: delay_for(reserved - 1),
        })
    }

    /// When the window of a counter just raised ends (a whole window from now, should it
    /// have been cleared since).
    async fn window_end(&self, key: &str, now: UnixTime) -> Result<UnixTime, StoreError> {
        let counter = self.store.get_counter(key, now).await?;
        Ok(counter.map_or(now + WINDOW_SECS, |(_, until)| until))
    }

    /// A password proven right clears the account's count and that address's count (the
    /// attempt's own reservation with them); other addresses' locks on the account stay.
    pub async fn record_success(
        &self,
        pool_id: &str,
        login_key: &str,
        ip: IpAddr,
    ) -> Result<(), StoreError> {
        self.store
            .delete_counters(&account_key(pool_id, login_key))
            .await?;
        self.store
            .delete_counters(&pair_key(pool_id, login_key, ip))
            .await?;
        Ok(())
    }

    /// The locks in force in a pool (account locks and account-and-address locks), by key.
    pub async fn list_locked(
        &self,
        pool_id: &str,
        now: UnixTime,
    ) -> Result<Vec<Lockout>, StoreError> {
        let mut out = Vec::new();
        let prefix = format!("bf:acct:{}:", escape(pool_id));
        for (key, failures, until) in self.store.list_counters(&prefix, now, LIST_LIMIT).await? {
            if failures < ACCOUNT_LOCK_FAILURES {
                continue;
            }
            let Some(rest) = key.strip_prefix(&prefix).and_then(|r| r.strip_suffix(':')) else {
                continue;
            };
            out.push(Lockout {
                login_key: unescape(rest),
                address: None,
                failures,
                until,
            });
        }
        let prefix = format!("bf:pair:{}:", escape(pool_id));
        for (key, failures, until) in self.store.list_counters(&prefix, now, LIST_LIMIT).await? {
            if failures < PAIR_LOCK_FAILURES {
                continue;
            }
            let Some((login, address)) = key
                .strip_prefix(&prefix)
                .and_then(|r| r.split_once(':'))
                .map(|(login, address)| (login, address.trim_end_matches(':')))
            else {
                continue;
            };
            out.push(Lockout {
                login_key: unescape(login),
                address: Some(unescape(address)),
                failures,
                until,
            });
        }
        out.sort_by(|a, b| (&a.login_key, &a.address).cmp(&(&b.login_key, &b.address)));
        Ok(out)
    }

    /// Clears every count of `login_key` (the account's and each address's); returns how
    /// many counters were removed.
    pub async fn unlock(&self, pool_id: &str, login_key: &str) -> Result<u64, StoreError> {
        let account = self
            .store
            .delete_counters(&account_key(pool_id, login_key))
            .await?;
        let pairs = self
            .store
            .delete_counters(&pair_prefix(pool_id, login_key))
            .await?;
        Ok(account + pairs)
    }
}

/// Wrong second-factor codes (TOTP, emailed, recovery) of one account that lock its
/// second factor until the window ends (Cognito locks a user after five failed MFA
/// attempts).
pub const MFA_LOCK_FAILURES: i64 = 5;

/// What a second-factor counter counts: codes after a first factor, or passwordless
/// sign-in codes (their own count, so that an anonymous guesser of sign-in codes cannot
/// lock the second factor of a user who holds the password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MfaScope {
    /// TOTP, emailed second-factor and enrolment codes, recovery codes.
    SecondFactor,
    /// Passwordless sign-in codes (Cognito's `EMAIL_OTP` first factor).
    SignIn,
}

impl MfaScope {
    /// `mfa` or `signin`, as the counters and `cognate users lockouts` name the scope.
    pub fn name(self) -> &'static str {
        match self {
            MfaScope::SecondFactor => "mfa",
            MfaScope::SignIn => "signin",
        }
    }
}

/// The counter of an account's second-factor codes: `mfa:<scope>:<pool>:<key>:`.
fn mfa_key(scope: MfaScope, pool_id: &str, key: &str) -> String {
    format!(
        "mfa:{}:{}:{}:",
        scope.name(),
        escape(pool_id),
        escape_key(key)
    )
}

impl Throttle {
    /// Reserves one second-factor code comparison for the account `key` (its `sub`, or
    /// for an unknown passwordless login the login's [`login_key`]) BEFORE the comparison:
    /// the count is raised atomically in the shared store, and a reserved number over
    /// [`MFA_LOCK_FAILURES`] is refused without comparing. So however many requests
    /// arrive at once, on however many nodes, at most five codes are compared per account
    /// and window. The reservation counts as a failure unless
    /// [`Throttle::mfa_success`] clears it.
    pub async fn reserve_mfa(
        &self,
        scope: MfaScope,
        pool_id: &str,
        key: &str,
        now: UnixTime,
    ) -> Result<Verdict, StoreError> {
        let counter = mfa_key(scope, pool_id, key);
        // A lock in force refuses on a read, without stretching the count.
        if let Some((failures, until)) = self.store.get_counter(&counter, now).await? {
            if failures >= MFA_LOCK_FAILURES {
                return Ok(Verdict::Locked { until });
            }
        }
        let reserved = self
            .store
            .increment_counter(&counter, now + WINDOW_SECS, now)
            .await?;
        if reserved > MFA_LOCK_FAILURES {
            return Ok(Verdict::Locked {
                until: self.window_end(&counter, now).await?,
            });
        }
        Ok(Verdict::Allow {
            delay: Duration::ZERO,
        })
    }

    /// A code proven right clears the account's second-factor count of `scope`.
    pub async fn mfa_success(
        &self,
        scope: MfaScope,
        pool_id: &str,
        key: &str,
    ) -> Result<(), StoreError> {
        self.store
            .delete_counters(&mfa_key(scope, pool_id, key))
            .await?;
        Ok(())
    }

    /// Second-factor locks in force in a pool, as (scope, account key, failures, until);
    /// the account key is the user's `sub` (or, for passwordless sign-in codes of an
    /// unknown login, the login's key).
    pub async fn list_mfa_locked(
        &self,
        pool_id: &str,
        now: UnixTime,
    ) -> Result<Vec<(MfaScope, String, i64, UnixTime)>, StoreError> {
        let mut out = Vec::new();
        for scope in [MfaScope::SecondFactor, MfaScope::SignIn] {
            let prefix = format!("mfa:{}:{}:", scope.name(), escape(pool_id));
            for (key, failures, until) in self.store.list_counters(&prefix, now, LIST_LIMIT).await?
            {
                if failures < MFA_LOCK_FAILURES {
                    continue;
                }
                if let Some(rest) = key.strip_prefix(&prefix).and_then(|r| r.strip_suffix(':')) {
                    out.push((scope, unescape(rest), failures, until));
                }
            }
        }
        Ok(out)
    }

    /// Clears both second-factor counts of an account (the administrator's reset);
    /// returns how many counters were removed.
    pub async fn mfa_unlock(&self, pool_id: &str, key: &str) -> Result<u64, StoreError> {
        let mut cleared = 0;
        for scope in [MfaScope::SecondFactor, MfaScope::SignIn] {
            cleared += self
                .store
                .delete_counters(&mfa_key(scope, pool_id, key))
                .await?;
        }
        Ok(cleared)
    }
}

/// The delay before an attempt on an account with `failures` failures in its window.
pub fn delay_for(failures: i64) -> Duration {
    if failures < DELAY_FROM_FAILURES {
        return Duration::ZERO;
    }
    let beyond = u32::try_from(failures - (DELAY_FROM_FAILURES - 1)).unwrap_or(u32::MAX);
    DELAY_PER_FAILURE.saturating_mul(beyond).min(MAX_DELAY)
}

fn account_key(pool_id: &str, login_key: &str) -> String {
    format!("bf:acct:{}:{}:", escape(pool_id), escape_key(login_key))
}

fn pair_prefix(pool_id: &str, login_key: &str) -> String {
    format!("bf:pair:{}:{}:", escape(pool_id), escape_key(login_key))
}

/// The trailing `:` ends the address, so clearing one address's count (a prefix delete)
/// never clears another's that starts with the same characters (`1.2.3.4` vs `1.2.3.45`).
fn pair_key(pool_id: &str, login_key: &str, ip: IpAddr) -> String {
    format!(
        "{}{}:",
        pair_prefix(pool_id, login_key),
        escape(&address_key(ip))
    )
}

/// An address as counted: IPv4 as is (IPv4-mapped IPv6 too), IPv6 by its /64.
pub(crate) fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
    }
}

/// The ASCII bytes [`escape`] encodes: all but `A-Z a-z 0-9 . _ @ + -` (so `:` is; the
/// crate encodes every non-ASCII byte too).
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'.')
    .remove(b'_')
    .remove(b'@')
    .remove(b'+')
    .remove(b'-');

/// Percent-escapes every byte but `A-Z a-z 0-9 . _ @ + -` (upper-case hex digits).
fn escape(text: &str) -> String {
    utf8_percent_encode(text, ESCAPED).to_string()
}

/// [`escape`], or `#<hash>` when the result would be too long.
fn escape_key(text: &str) -> String {
    let escaped = escape(text);
    if escaped.len() <= MAX_ESCAPED_KEY {
        escaped
    } else {
        format!("#{}", token_hash(text))
    }
}

/// Reverses [`escape`]; bytes that are not UTF-8 (never produced by it) become U+FFFD.
fn unescape(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteStore;

    async fn throttle() -> (tempfile::TempDir, Throttle) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        (dir, Throttle::new(Arc::new(store)))
    }

    const POOL: &str = "us-east-1_Test";

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn delays_grow_then_cap() {
        assert_eq!(delay_for(0), Duration::ZERO);
        assert_eq!(delay_for(4), Duration::ZERO);
        assert_eq!(delay_for(5), Duration::from_secs(1));
        assert_eq!(delay_for(7), Duration::from_secs(3));
        assert_eq!(delay_for(9), Duration::from_secs(5));
        assert_eq!(delay_for(19), Duration::from_secs(5));
    }

    #[test]
    fn keys_escape_colons_and_round_trip() {
        assert_ne!(account_key(POOL, "a:b"), account_key(POOL, "a%3Ab"));
        assert!(!escape("a:b").contains(':'));
        assert_eq!(unescape(&escape("ünï:cödé %")), "ünï:cödé %");
        // One account's prefix never covers another's ("al" vs "alice").
        assert!(!account_key(POOL, "alice").starts_with(&account_key(POOL, "al")));
        assert!(!pair_key(POOL, "alice", ip("1.2.3.4")).starts_with(&pair_prefix(POOL, "al")));
        let longest_username = "\u{1F600}".repeat(128);
        assert!(!escape_key(&longest_username).starts_with('#'));
        let long = "x".repeat(2000);
        assert!(escape_key(&long).starts_with('#'));
        assert_eq!(
            address_key(ip("2001:db8:1:2:3:4:5:6")),
            address_key(ip("2001:db8:1:2:ffff::1"))
        );
        assert_eq!(address_key(ip("::ffff:10.0.0.1")), "10.0.0.1");
    }

    #[tokio::test]
    async fn account_and_pair_locks() {
        let (_dir, t) = throttle().await;
        let now = 1_000_000;
        let (attacker, user) = (ip("203.0.113.9"), ip("198.51.100.7"));
        for i in 0..PAIR_LOCK_FAILURES {
            let verdict = t.reserve(POOL, "alice", attacker, now + i).await.unwrap();
            assert!(matches!(verdict, Verdict::Allow { .. }), "attempt {i}");
        }
        // The attacking address is locked out of alice until the window ends...
        assert_eq!(
            t.reserve(POOL, "alice", attacker, now + 20).await.unwrap(),
            Verdict::Locked {
                until: now + WINDOW_SECS
            }
        );
        // ...while alice herself, elsewhere, is only slowed down (this attempt is the
        // account's eleventh reservation).
        assert_eq!(
            t.reserve(POOL, "alice", user, now + 20).await.unwrap(),
            Verdict::Allow { delay: MAX_DELAY }
        );
        // Other accounts from the attacking address are untouched (no per-address lock).
        assert_eq!(
            t.reserve(POOL, "bob", attacker, now + 20).await.unwrap(),
            Verdict::Allow {
                delay: Duration::ZERO
            }
        );
        // Nine more failures from other addresses lock the account for everyone.
        for i in 0..(ACCOUNT_LOCK_FAILURES - PAIR_LOCK_FAILURES - 1) {
            let from = IpAddr::from([192, 0, 2, u8::try_from(i).unwrap()]);
            let verdict = t.reserve(POOL, "alice", from, now + 30).await.unwrap();
            assert!(matches!(verdict, Verdict::Allow { .. }), "attempt {i}");
        }
        assert!(matches!(
            t.reserve(POOL, "alice", user, now + 40).await.unwrap(),
            Verdict::Locked { .. }
        ));
        let locks = t.list_locked(POOL, now + 40).await.unwrap();
        assert_eq!(locks.len(), 2, "{locks:?}");
        assert_eq!(locks[0].login_key, "alice");
        assert_eq!(locks[0].address, None);
        assert_eq!(locks[0].failures, ACCOUNT_LOCK_FAILURES);
        assert_eq!(locks[1].address.as_deref(), Some("203.0.113.9"));
        assert_eq!(locks[1].failures, PAIR_LOCK_FAILURES);
        // The window ends: everything is allowed again.
        assert_eq!(
            t.reserve(POOL, "alice", attacker, now + WINDOW_SECS)
                .await
                .unwrap(),
            Verdict::Allow {
                delay: Duration::ZERO
            }
        );
        // Unlock clears the account and every address's count (the attacker's, the
        // user's and the nine others).
        assert_eq!(t.unlock(POOL, "alice").await.unwrap(), 12);
        assert!(t.list_locked(POOL, now + 40).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_parallel_burst_reserves_at_most_the_limits() {
        let (_dir, t) = throttle().await;
        let now = 2_000_000;
        let burst = |key: &'static str, addresses: u8| {
            let t = t.clone();
            async move {
                let tasks: Vec<_> = (0..200u8)
                    .map(|i| {
                        let t = t.clone();
                        let from = IpAddr::from([10, 0, 0, i % addresses]);
                        tokio::spawn(async move { t.reserve(POOL, key, from, now).await })
                    })
                    .collect();
                let mut allowed = Vec::new();
                for task in tasks {
                    if let Verdict::Allow { delay } = task.await.unwrap().unwrap() {
                        allowed.push(delay);
                    }
                }
                allowed
            }
        };
        // From one address: the pair's ten, and the refused ones never reach the account's
        // count (so one address cannot lock the account for everyone).
        let allowed = burst("alice", 1).await;
        assert_eq!(allowed.len(), 10);
        let account = t.store.get_counter(&account_key(POOL, "alice"), now).await;
        assert_eq!(account.unwrap().map(|c| c.0), Some(PAIR_LOCK_FAILURES));
        // Each allowed attempt waits for the failures reserved before it: 0,0,0,0,0,1,..,5 s.
        let mut delays: Vec<u64> = allowed.iter().map(Duration::as_secs).collect();
        delays.sort_unstable();
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 3, 4, 5]);
        // From twenty addresses: the account's twenty.
        assert_eq!(burst("bob", 20).await.len(), 20);
        // A locked attempt reserves nothing more.
        assert!(matches!(
            t.reserve(POOL, "bob", ip("192.0.2.1"), now).await.unwrap(),
            Verdict::Locked { .. }
        ));
        let pair = pair_key(POOL, "bob", ip("192.0.2.1"));
        assert_eq!(t.store.get_counter(&pair, now).await.unwrap(), None);
        // A success clears the reservations of the account and that address: the next
        // attempt is the first again.
        t.record_success(POOL, "alice", ip("10.0.0.0"))
            .await
            .unwrap();
        assert_eq!(
            t.reserve(POOL, "alice", ip("10.0.0.0"), now).await.unwrap(),
            Verdict::Allow {
                delay: Duration::ZERO
            }
        );
    }

    #[tokio::test]
    async fn a_parallel_burst_of_codes_reserves_at_most_five() {
        let (_dir, t) = throttle().await;
        let now = 1_000_000;
        let mut tasks = Vec::new();
        for _ in 0..30 {
            let t = t.clone();
            tasks.push(tokio::spawn(async move {
                t.reserve_mfa(MfaScope::SecondFactor, POOL, "sub-1", now)
                    .await
                    .unwrap()
            }));
        }
        let mut allowed = 0;
        for task in tasks {
            if matches!(task.await.unwrap(), Verdict::Allow { .. }) {
                allowed += 1;
            }
        }
        assert_eq!(allowed, MFA_LOCK_FAILURES);
        // Passwordless sign-in codes have their own count; a success clears the lock.
        assert!(matches!(
            t.reserve_mfa(MfaScope::SignIn, POOL, "sub-1", now)
                .await
                .unwrap(),
            Verdict::Allow { .. }
        ));
        let locked = t.list_mfa_locked(POOL, now).await.unwrap();
        assert_eq!(locked.len(), 1, "{locked:?}");
        assert_eq!(locked[0].1, "sub-1");
        t.mfa_success(MfaScope::SecondFactor, POOL, "sub-1")
            .await
            .unwrap();
        assert!(matches!(
            t.reserve_mfa(MfaScope::SecondFactor, POOL, "sub-1", now)
                .await
                .unwrap(),
            Verdict::Allow { .. }
        ));
    }

    #[tokio::test]
    async fn success_clears_the_account_and_that_address() {
        let (_dir, t) = throttle().await;
        let now = 5_000;
        let (a, b) = (ip("203.0.113.9"), ip("198.51.100.7"));
        for _ in 0..PAIR_LOCK_FAILURES {
            t.reserve(POOL, "a:b", a, now).await.unwrap();
        }
        for _ in 0..3 {
            t.reserve(POOL, "a:b", b, now).await.unwrap();
            // A user "a" is not touched by "a:b"'s counts.
            t.reserve(POOL, "a", b, now).await.unwrap();
        }
        t.record_success(POOL, "a:b", b).await.unwrap();
        assert_eq!(
            t.reserve(POOL, "a:b", b, now).await.unwrap(),
            Verdict::Allow {
                delay: Duration::ZERO
            }
        );
        // The attacking address stays locked out.
        assert!(matches!(
            t.reserve(POOL, "a:b", a, now).await.unwrap(),
            Verdict::Locked { .. }
        ));
        let a_count = t
            .store
            .get_counter(&account_key(POOL, "a"), now)
            .await
            .unwrap();
        assert_eq!(a_count.map(|c| c.0), Some(3));
    }

    /// Clearing one address's count on success leaves an address that merely starts with
    /// the same characters locked (`1.2.3.4` against `1.2.3.45`).
    #[tokio::test]
    async fn success_from_one_address_never_clears_a_longer_one() {
        let (_dir, t) = throttle().await;
        let now = 7_000;
        let (short, long) = (ip("1.2.3.4"), ip("1.2.3.45"));
        for _ in 0..PAIR_LOCK_FAILURES {
            t.reserve(POOL, "carol", long, now).await.unwrap();
        }
        t.record_success(POOL, "carol", short).await.unwrap();
        assert!(matches!(
            t.reserve(POOL, "carol", long, now).await.unwrap(),
            Verdict::Locked { .. }
        ));
        let locks = t.list_locked(POOL, now).await.unwrap();
        assert!(
            locks
                .iter()
                .any(|l| l.address.as_deref() == Some("1.2.3.45")),
            "{locks:?}"
        );
    }
}
