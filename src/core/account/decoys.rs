//! Simulated answers, so that confirmation, resend and password recovery answer alike for
//! unknown, unconfirmed and confirmed users (Cognito's PreventUserExistenceErrors).
//!
//! Where nothing is mailed, a simulated code that no input matches is stored under the
//! login as typed (id `<pool>:login:<hash of the login>`), so tries against it take the
//! same budgets and get the same answers as tries against a real code, and the answer
//! names a destination:
//! - the user's own address masked, when the login is a user with an email address (what
//!   the same request would show if a code went out);
//! - the typed login masked, when it is an email address (what a real user signing in by
//!   email sees);
//! - else a mask drawn from the pool's own users' verified addresses, so a simulated
//!   destination comes from exactly the distribution real ones do. The draw is
//!   deterministic, so repeating a request gives the same answer on every node: an HMAC,
//!   with a secret key shared by the nodes (node metadata), of the pool and the login,
//!   read as a point among the users' subs (random UUIDs, so every user is as likely to
//!   follow a point); the first user after the point with a verified email, among the
//!   next few (else among the first of the ring, wrapping around), is the one whose mask
//!   is shown. Adding or removing a user changes only the answers whose point falls just
//!   before it (about one in N for a pool of N users). With fewer than
//!   [`MIN_USERS_TO_SAMPLE`] users (or none with a verified email near the point), the
//!   few real masks would be recognisable, so the mask is drawn instead from a fixed
//!   spread shaped like real addresses (the big mail providers' domains, then any letter
//!   or digit and the common top-level domains, country codes included).

use super::{AccountResult, AccountService, CodeDelivery};
use crate::core::attributes::validate_email;
use crate::core::model::{PageRequest, User, UserPool};
use crate::core::oauth::token_hash;
use crate::core::secrets::random_bytes;
use crate::core::throttle::login_key;

/// Node metadata key of the secret that shapes the simulated destinations.
const DECOY_KEY_META: &str = "account_decoy_key";
/// Under this many users, simulated destinations come from the fixed spread.
pub const MIN_USERS_TO_SAMPLE: u64 = 50;
/// Users read after the point to find one with a verified email.
const SAMPLE_PAGE: u32 = 20;

/// The id of a simulated code, keyed by what was typed (no user behind it).
pub(super) fn decoy_id(pool: &UserPool, login: &str) -> String {
    format!("{}:login:{}", pool.id, token_hash(&login_key(pool, login)))
}

impl AccountService {
    /// The destination shown for a request that mails nothing (see the module's
    /// documentation).
    pub(super) async fn simulated_delivery(
        &self,
        pool: &UserPool,
        login: &str,
        user: Option<&User>,
    ) -> AccountResult<CodeDelivery> {
        let sms = crate::core::delivery::sms_available(pool);
        if let Some(email) = user.and_then(|u| u.attribute("email")) {
            return Ok(CodeDelivery::email(email));
        }
        // A phone number (the user's, or the login typed) where the real code would go by
        // SMS: answered as a real request would be.
        if let Some(phone) = user
            .and_then(|u| u.attribute("phone_number"))
            .filter(|_| sms)
        {
            return Ok(CodeDelivery::phone(phone));
        }
        if sms
            && crate::core::attributes::validate_phone(&crate::core::delivery::normalize_phone(
                login,
            ))
            .is_ok()
        {
            return Ok(CodeDelivery::phone(login));
        }
        if validate_email(login).is_ok() {
            return Ok(CodeDelivery::email(login));
        }
        let tag = self.decoy_tag(pool, login).await?;
        Ok(match self.sampled_mask(pool, &tag).await? {
            Some(delivery) => delivery,
            None => CodeDelivery {
                medium: "EMAIL",
                attribute_name: "email",
                destination: spread_mask(&tag),
            },
        })
    }

    /// The HMAC of the pool and the login, with the nodes' shared decoy key.
    async fn decoy_tag(&self, pool: &UserPool, login: &str) -> AccountResult<[u8; 32]> {
        let key = self.decoy_key().await?;
        let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
        let tag = aws_lc_rs::hmac::sign(
            &hmac_key,
            format!("{}\n{}", pool.id, login_key(pool, login)).as_bytes(),
        );
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        Ok(out)
    }

    /// The masked verified address of the first user at or after the tag's point among
    /// the subs, wrapping around; `None` when the pool is too small or none is found.
    /// Two bounded reads (no count of a large pool's users).
    async fn sampled_mask(
        &self,
        pool: &UserPool,
        tag: &[u8; 32],
    ) -> AccountResult<Option<CodeDelivery>> {
        let limit = u32::try_from(MIN_USERS_TO_SAMPLE).unwrap_or(u32::MAX);
        let start = PageRequest { limit, after: None };
        let first = self.store().list_users(&pool.id, &start).await?;
        if first.next.is_none() && first.items.len() < limit as usize {
            return Ok(None);
        }
        let mut point = [0u8; 16];
        point.copy_from_slice(&tag[..16]);
        let point = uuid::Builder::from_random_bytes(point)
            .into_uuid()
            .to_string();
        let after = PageRequest::after_key(&point, SAMPLE_PAGE);
        let after = self.store().list_users(&pool.id, &after).await?;
        // Past the last sub, the ring wraps around to the first ones. The delivery a
        // recovery code of that user would have (its verified email, else by SMS its
        // verified phone number in a pool that sends SMS), so a pool whose users recover
        // by SMS answers simulated requests by SMS too.
        let verified = after
            .items
            .iter()
            .chain(&first.items)
            .find_map(|u| super::recovery_destination(pool, u));
        Ok(verified.as_ref().map(super::delivered_to))
    }

    /// A secret shared by every node (node metadata), created on first use.
    async fn decoy_key(&self) -> AccountResult<[u8; 32]> {
        let key = self
            .decoy_key
            .get_or_try_init(|| async {
                use base64::Engine;
                let engine = base64::engine::general_purpose::STANDARD;
                let ours = engine.encode(random_bytes::<32>());
                let stored = self
                    .store()
                    .put_meta_if_absent(DECOY_KEY_META, &ours)
                    .await?;
                let bytes = engine
                    .decode(stored.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        super::AccountError::Internal(format!(
                            "node metadata {DECOY_KEY_META} is corrupt"
                        ))
                    })?;
                Ok::<_, super::AccountError>(bytes)
            })
            .await?;
        Ok(*key)
    }
}

/// Picks from `(item, weight)` with the 16-bit value `roll`.
fn weighted<'a>(table: &[(&'a str, u16)], roll: u16) -> &'a str {
    let total: u32 = table.iter().map(|(_, w)| u32::from(*w)).sum();
    let mut at = u32::from(roll) % total.max(1);
    for (item, weight) in table {
        if at < u32::from(*weight) {
            return item;
        }
        at -= u32::from(*weight);
    }
    table.first().map_or("", |(item, _)| item)
}

/// A mask shaped like real addresses, for pools too small to sample: the big providers'
/// domains about half the time (as in most consumer pools), else any first letter or digit
/// and a spread of generic and country top-level domains. First letters of local parts
/// follow the spread of first names' initials.
fn spread_mask(tag: &[u8; 32]) -> String {
    let roll = |i: usize| u16::from_le_bytes([tag[i], tag[i + 1]]);
    #[rustfmt::skip]
    const LOCAL: &[(&str, u16)] = &[
        ("a", 60), ("b", 35), ("c", 50), ("d", 45), ("e", 30), ("f", 20), ("g", 25),
        ("h", 25), ("i", 12), ("j", 70), ("k", 35), ("l", 40), ("m", 80), ("n", 25),
        ("o", 8), ("p", 30), ("q", 2), ("r", 40), ("s", 60), ("t", 40), ("u", 3),
        ("v", 12), ("w", 15), ("x", 2), ("y", 5), ("z", 5), ("0", 1), ("1", 2), ("2", 1),
        ("3", 1), ("4", 1), ("5", 1), ("6", 1), ("7", 1), ("8", 1), ("9", 1),
    ];
    #[rustfmt::skip]
    const PROVIDERS: &[(&str, u16)] = &[
        ("g***.com", 300), ("h***.com", 50), ("y***.com", 50), ("o***.com", 40),
        ("i***.com", 30), ("a***.com", 10), ("p***.me", 8), ("g***.de", 8), ("w***.de", 6),
        ("h***.fr", 5), ("o***.fr", 5), ("y***.fr", 4), ("l***.fr", 5), ("m***.com", 6),
        ("q***.com", 6), ("n***.com", 6), ("", 560),
    ];
    #[rustfmt::skip]
    const TLDS: &[(&str, u16)] = &[
        ("com", 450), ("net", 40), ("org", 40), ("io", 25), ("co", 15), ("de", 40),
        ("uk", 35), ("fr", 30), ("ca", 20), ("au", 20), ("nl", 15), ("es", 12), ("it", 12),
        ("edu", 20), ("br", 12), ("in", 12), ("jp", 10), ("ch", 8), ("se", 8), ("be", 8),
        ("pl", 8), ("me", 6), ("dev", 5), ("ai", 4), ("us", 6), ("info", 5), ("app", 3),
        ("tech", 3), ("mx", 5), ("nz", 4), ("ie", 4), ("at", 5), ("dk", 4), ("no", 4),
        ("fi", 3), ("pt", 4), ("cz", 3), ("za", 3), ("sg", 3), ("kr", 3),
    ];
    #[rustfmt::skip]
    const DOMAIN: &[(&str, u16)] = &[
        ("a", 40), ("b", 35), ("c", 50), ("d", 30), ("e", 30), ("f", 25), ("g", 25),
        ("h", 20), ("i", 25), ("j", 10), ("k", 15), ("l", 25), ("m", 45), ("n", 25),
        ("o", 15), ("p", 35), ("q", 3), ("r", 20), ("s", 50), ("t", 40), ("u", 15),
        ("v", 15), ("w", 15), ("x", 3), ("y", 5), ("z", 5), ("1", 2), ("2", 1), ("3", 1),
        ("4", 1), ("5", 1), ("6", 1), ("7", 1), ("8", 1), ("9", 1),
    ];
    let local = weighted(LOCAL, roll(0));
    match weighted(PROVIDERS, roll(2)) {
        "" => format!(
            "{local}***@{}***.{}",
            weighted(DOMAIN, roll(4)),
            weighted(TLDS, roll(6))
        ),
        provider => format!("{local}***@{provider}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_spread_looks_like_real_masks_and_reaches_past_four_tlds() {
        let mut tlds = std::collections::BTreeSet::new();
        let mut digits = false;
        for i in 0..2000u32 {
            let tag = *aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &i.to_le_bytes())
                .as_ref()
                .first_chunk::<32>()
                .unwrap();
            let mask = spread_mask(&tag);
            let (local, domain) = mask.split_once("***@").unwrap();
            assert_eq!(local.chars().count(), 1, "{mask}");
            assert!(domain.contains("***."), "{mask}");
            digits |= local.chars().all(|c| c.is_ascii_digit());
            tlds.insert(domain.rsplit_once('.').unwrap().1.to_string());
        }
        assert!(tlds.len() > 20, "{tlds:?}");
        assert!(digits);
    }
}
