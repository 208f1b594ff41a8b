//! The budgets of mailed codes ([`CodeLimits`]), so that an attacker's requests and
//! guesses cost the attacker, not the owner of the address they aim at.
//!
//! Each send or try is reserved with [`Store::increment_counter`] (atomic, shared by every
//! node) BEFORE the work, in fixed one-hour windows, against up to three budgets, in this
//! order, stopping at the first one spent:
//! 1. the **client address** (an IPv6 /64, as the sign-in throttle counts it):
//!    `sends_per_client_address` code requests (resend, forgot password; sign-ups are not
//!    counted, so people behind one NAT can all sign up) and `tries_per_client_address`
//!    tries;
//! 2. the **client address and destination** pair: half (rounded up) of the destination's
//!    budget, so one attacking address can never spend a destination's whole budget and
//!    the owner, from another address, keeps the rest;
//! 3. the **destination** (the address a code is mailed to, across every account that
//!    carries it, its domain in IDNA ASCII form so every spelling of one domain is one
//!    destination: `destination_key`): `sends_per_destination` codes mailed and
//!    `tries_per_destination` tries.
//!
//! A refused reservation spends nothing further down the list: an attacker past their
//! own address's budget no longer eats into the victim's.
//!
//! The bound on guessing: every comparison with a code mailed to one address takes one of
//! that address's `tries_per_destination` tries an hour (10 by default) whichever account,
//! code or client it comes from, and a code is one of a million; so the chance that any
//! guess hits a code mailed to a given address is at most `tries_per_destination` in a
//! million per hour (1 in 100,000 by default, under 0.03% a day; a sign-up code, valid 24
//! hours, meets at most 240 tries by default, odds under 1 in 4,000).
//!
//! What remains: an attacker holding at least two client addresses (two IPv6 /64s) can
//! spend a destination's whole hourly budget, so its owner may have to wait for the next
//! window; the code last mailed stays valid meanwhile (a refused request replaces
//! nothing, and a wrong try destroys nothing), so an owner who already has a code can
//! still use it unless the tries are spent too. Raising `tries_per_destination` buys
//! owners room at the price of a proportionally weaker guess bound.
//!
//! Counter keys are `code:<send|try>:<addr|pair|dest>:<pool>:<hash>`, where the hash
//! covers the destination and/or the client address, so no typed text reaches a key.
//!
//! [`Store::increment_counter`]: crate::core::storage::Store::increment_counter

use std::net::IpAddr;

use super::{AccountError, AccountResult, AccountService};
use crate::core::directory::{normalize_email, normalize_phone};
use crate::core::model::{CodeLimits, UserPool};
use crate::core::oauth::token_hash;
use crate::core::throttle::address_key;
use crate::core::UnixTime;

/// The length of a budget's window.
pub const BUDGET_WINDOW_SECS: i64 = 3600;

/// What a reservation is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Spend {
    /// A code mailed at sign-up: counted per destination and per pair only.
    SignUpSend,
    /// A code requested again (resend, forgot password).
    Send,
    /// A code compared with a stored one.
    Try,
}

impl Spend {
    fn name(self) -> &'static str {
        match self {
            Spend::SignUpSend | Spend::Send => "send",
            Spend::Try => "try",
        }
    }

    /// (per client address, per destination); `None`: not counted per client address.
    fn limits(self, limits: &CodeLimits) -> (Option<u32>, u32) {
        match self {
            Spend::SignUpSend => (None, limits.sends_per_destination),
            Spend::Send => (
                Some(limits.sends_per_client_address),
                limits.sends_per_destination,
            ),
            Spend::Try => (
                Some(limits.tries_per_client_address),
                limits.tries_per_destination,
            ),
        }
    }
}

/// The budget key of a destination: the mailbox a code is (or, for a simulated code, would
/// be) mailed to. The local part is normalized as stored keys are; the domain is keyed by
/// its IDNA ASCII form (UTS #46, lowercase), the name the mail is delivered to, so every
/// spelling of one domain (`xn--exmple-cua.test` and `exämple.test`, full-width or
/// ideographic dots, ...) shares one budget. A domain IDNA refuses is keyed normalized,
/// as it was typed. A phone number (`+` first: SMS codes) is keyed in E.164
/// ([`normalize_phone`]), so every way of typing one number is one destination, across
/// every account that carries it: text messages cost the operator money (SMS pumping).
/// A login that is not an email address (a simulated code for a username) is keyed as
/// typed, normalized by the caller.
pub(crate) fn destination_key(address: &str) -> String {
    if address.trim_start().starts_with('+') {
        return normalize_phone(address);
    }
    let normalized = normalize_email(address);
    let Some((local, domain)) = normalized.rsplit_once('@') else {
        return address.to_string();
    };
    match url::Host::parse(domain) {
        Ok(url::Host::Domain(ascii)) => format!("{local}@{}", ascii.to_ascii_lowercase()),
        _ => normalized,
    }
}

/// The share of a destination's budget one client address may spend: half, rounded up.
fn pair_limit(destination_limit: u32) -> u32 {
    destination_limit.div_ceil(2)
}

impl AccountService {
    /// Reserves one send or try for `destination` from `client` (see the module's
    /// documentation); `LimitExceeded` when a budget is spent.
    pub(crate) async fn reserve(
        &self,
        pool: &UserPool,
        spend: Spend,
        destination: &str,
        client: IpAddr,
        now: UnixTime,
    ) -> AccountResult<()> {
        let (per_client, per_destination) = spend.limits(&pool.code_limits);
        let what = spend.name();
        let client = address_key(client);
        let destination = destination_key(destination);
        let mut budgets = Vec::with_capacity(3);
        if let Some(limit) = per_client {
            budgets.push(("addr", token_hash(&client), limit));
        }
        let pair = token_hash(&format!("{destination}\n{client}"));
        budgets.push(("pair", pair, pair_limit(per_destination)));
        budgets.push(("dest", token_hash(&destination), per_destination));
        for (budget, hash, limit) in budgets {
            let counter = format!("code:{what}:{budget}:{}:{hash}", pool.id);
            let spent = self
                .store()
                .increment_counter(&counter, now + BUDGET_WINDOW_SECS, now)
                .await?;
            if spent > i64::from(limit) {
                return Err(AccountError::LimitExceeded);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_gets_at_most_half_a_destination() {
        assert_eq!(pair_limit(10), 5);
        assert_eq!(pair_limit(5), 3);
        assert_eq!(pair_limit(1), 1);
    }

    #[test]
    fn destinations_are_keyed_normalized() {
        assert_eq!(destination_key("CEO@Victim.test"), "ceo@victim.test");
        assert_eq!(destination_key("bob"), "bob");
        assert_eq!(destination_key(" +1 (555) 555-1234"), "+15555551234");
    }

    #[test]
    fn every_spelling_of_a_domain_is_one_destination() {
        let ascii = destination_key("josé@xn--exmple-cua.test");
        assert_eq!(ascii, "josé@xn--exmple-cua.test");
        for spelling in [
            "josé@exämple.test",
            "José@EXÄMPLE.test",
            "josé@XN--EXMPLE-CUA.TEST",
            "josé@exämple\u{3002}test",
            "josé@exa\u{308}mple.test",
        ] {
            assert_eq!(destination_key(spelling), ascii, "{spelling}");
        }
        // What IDNA maps away would be one destination too, were it let through.
        assert_eq!(destination_key("ceo@vic\u{ad}tim.test"), "ceo@victim.test");
        assert_eq!(destination_key("ceo@victim.test"), "ceo@victim.test");
    }
}
