//! SRP-6a exactly as Amazon Cognito and Amplify compute it (`USER_SRP_AUTH`), server side.
//!
//! Cognito's variant: the RFC 5054 3072-bit group with `g = 2`; hex strings padded as
//! `amazon-cognito-identity-js`'s `padHex` does (an odd length gets a leading `0`, a first
//! digit of 8 or more a leading `00`, so the number reads as positive); SHA-256 throughout;
//! `k = H(PAD(N) | PAD(g))`, `u = H(PAD(A) | PAD(B))`,
//! `x = H(PAD(salt) | H(<pool id after '_'> | USER_ID_FOR_SRP | ':' | password))`,
//! `v = g^x mod N`, `B = (k·v + g^b) mod N`, `S = (A·v^u)^b mod N`, the session key
//! `HKDF-SHA256(ikm = PAD(S), salt = PAD(u), info = "Caldera Derived Key")[..16]`, and the
//! claim `HMAC-SHA256(key, <pool id after '_'> | USER_ID_FOR_SRP | SECRET_BLOCK bytes |
//! TIMESTAMP)`, base64.
//!
//! Every formula was checked against `AuthenticationHelper.js` (amazon-cognito-identity-js:
//! `padHex`, `calculateU`, `calculateS`, `computehkdf`, `getPasswordAuthenticationKey`) and
//! against the `aws-cognito-srp` crate, which the unit tests use as an independent client.
//! Both clients read a number's hex as the number (leading zero bytes dropped) before
//! padding it, so the server pads numbers, never strings; the one value both clients take
//! as a string is the salt, and ours never starts with a zero byte (see [`new_salt`]), so the
//! two readings agree.
//!
//! The big-number arithmetic is `num-bigint`'s; hashing, HKDF and HMAC are RustCrypto's.
//! Nothing here touches the store: [`crate::core::signin::SignIn::srp_start`] and
//! [`crate::core::signin::SignIn::srp_verify`] keep the server's state.
//!
//! # Unknown users
//!
//! A login nobody has, and a user without a verifier (an imported bcrypt hash, a user from
//! before SRP), get a challenge of exactly the real shape: a salt and a verifier derived
//! with a keyed hash ([`fake_verifier`], HKDF under a key derived from the master key) from
//! the pool and the login (or the user's `sub`), so asking twice gives the same salt as a
//! real user's stable salt does, and `B` made with a fresh `b` as for anyone. Their proof
//! always fails. `USER_ID_FOR_SRP` (and `USERNAME`) for an unknown login is the login as
//! typed, except in a pool whose usernames are `sub`s (email or phone number as username),
//! where it is a UUID derived the same way ([`fake_user_id`]). What remains visible is what
//! Cognito shows too: a real user signing in by an alias gets the real username back in
//! `USERNAME`/`USER_ID_FOR_SRP`, an unknown alias gets itself back.

use std::sync::LazyLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{DateTime, NaiveDateTime, Utc};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use num_bigint::BigUint;
use sha2::{Digest, Sha256};

use super::secrets::random_bytes;
use super::UnixTime;

#[cfg(test)]
mod tests;

/// The RFC 5054 (appendix A) and RFC 3526 (section 4) 3072-bit safe prime.
const N_HEX: &str = concat!(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74",
    "020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F1437",
    "4FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED",
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF05",
    "98DA48361C55D39A69163FA8FD24CF5F83655D23DCA3AD961C62F356208552BB",
    "9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B",
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF695581718",
    "3995497CEA956AE515D2261898FA051015728E5A8AAAC42DAD33170D04507A33",
    "A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7",
    "ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864",
    "D87602733EC86A64521F2B18177B200CBBE117577A615D6C770988C0BAD946E2",
    "08E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF",
);

/// The group's modulus `N`.
pub static N: LazyLock<BigUint> = LazyLock::new(|| {
    BigUint::parse_bytes(N_HEX.as_bytes(), 16).expect("the RFC 5054 prime is valid hex")
});

/// The group's generator, `g = 2`.
static G: LazyLock<BigUint> = LazyLock::new(|| BigUint::from(2u32));

/// SRP-6a's multiplier `k = H(PAD(N) | PAD(g))` (`AuthenticationHelper`'s `this.k`).
static K: LazyLock<BigUint> = LazyLock::new(|| hash_to_int(&[&pad(&N), &pad(&G)]));

/// The HKDF `info` of Cognito's session key (`AuthenticationHelper`'s `infoBits`).
const DERIVED_KEY_INFO: &[u8] = b"Caldera Derived Key";

/// Bytes of a verifier's salt. Cognito's `SALT` is 16 random bytes (`generateRandomSmallA`
/// uses 128 bytes for `a`; the device-verifier salt, `getSaltDevices`, 16).
pub const SALT_BYTES: usize = 16;

/// Bytes of the server's secret exponent `b`: 256 bits, twice the 128-bit strength of the
/// 3072-bit group (RFC 3526, section 8: an exponent of twice the strength suffices).
pub const SERVER_SECRET_BYTES: usize = 32;

/// The longest `SRP_A` worth reading, in hex digits: twice a padded 3072-bit number and
/// some slack. An honest `A` is below `N` (384 bytes); anything longer is refused before
/// any arithmetic.
pub const MAX_A_HEX_DIGITS: usize = 1024;

/// How far the client's `TIMESTAMP` may be from the server's clock, either way, in seconds.
/// Five minutes, the skew AWS tolerates for SigV4 requests: the claim's timestamp only
/// binds the proof to a moment (the state it answers lives 3 minutes anyway), so the window
/// need only absorb clock drift between a device and the server.
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

/// Cognito's `TIMESTAMP` layout for chrono: `EEE MMM d HH:mm:ss UTC yyyy`, the day of the
/// month NOT zero-padded (`Sun Dec 6 04:00:00 UTC 2026`), as Amplify's `getNowString` and
/// `aws-cognito-srp`'s `get_timestamp` write it.
const TIMESTAMP_FORMAT: &str = "%a %b %-d %H:%M:%S UTC %Y";

/// A value no honest client sends (Cognito's `InvalidParameterException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct SrpRefusal {
    /// The parameter at fault (`SRP_A`, `TIMESTAMP`, ...).
    pub field: &'static str,
    pub reason: String,
}

fn refuse(field: &'static str, reason: &str) -> SrpRefusal {
    SrpRefusal {
        field,
        reason: reason.to_string(),
    }
}

/// A number's big-endian bytes as `padHex` reads them: minimal, with a leading zero byte
/// when the first bit is set (so the hex reads as a positive number), and `[0]` for zero.
pub fn pad(n: &BigUint) -> Vec<u8> {
    let bytes = n.to_bytes_be();
    if bytes.first().is_some_and(|b| *b >= 0x80) {
        let mut padded = Vec::with_capacity(bytes.len() + 1);
        padded.push(0);
        padded.extend_from_slice(&bytes);
        padded
    } else {
        bytes
    }
}

fn hash_to_int(parts: &[&[u8]]) -> BigUint {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part);
    }
    BigUint::from_bytes_be(&hash.finalize())
}

/// Lowercase hex of `bytes`, two digits each.
pub fn to_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// A number as `SRP_B` carries it: lowercase hex of its minimal bytes.
pub fn int_to_hex(n: &BigUint) -> String {
    to_hex(&n.to_bytes_be())
}

/// Reads hex digits (either case; an odd count reads as if it had a leading `0`).
pub fn int_from_hex(hex: &str) -> Option<BigUint> {
    if hex.is_empty() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    BigUint::parse_bytes(hex.as_bytes(), 16)
}

/// The pool's name as both clients hash it: the pool id's part after `_` (Amplify's
/// `userPoolId.split('_')[1]`).
pub fn pool_name(pool_id: &str) -> &str {
    pool_id.split('_').nth(1).unwrap_or(pool_id)
}

/// A fresh random salt, hex. Its first byte is never zero: Amplify reads the salt as a
/// number (dropping leading zero bytes) and `aws-cognito-srp` as bytes (keeping them), so
/// only a salt without a leading zero byte gives both the same `x`.
pub fn new_salt() -> String {
    let mut salt = random_bytes::<SALT_BYTES>();
    if salt[0] == 0 {
        salt[0] = 1;
    }
    to_hex(&salt)
}

/// `x = H(PAD(salt) | H(<pool name> | USER_ID_FOR_SRP | ':' | password))`.
fn private_key(pool_id: &str, user_id_for_srp: &str, password: &str, salt: &BigUint) -> BigUint {
    let identity = Sha256::new()
        .chain_update(pool_name(pool_id))
        .chain_update(user_id_for_srp)
        .chain_update(":")
        .chain_update(password)
        .finalize();
    hash_to_int(&[&pad(salt), &identity])
}

/// The verifier `v = g^x mod N` of `password` for `user_id_for_srp` (the username) in
/// `pool_id`, with `salt` (hex, as [`new_salt`] makes it). `None` if the salt is not hex.
pub fn verifier(
    pool_id: &str,
    user_id_for_srp: &str,
    password: &str,
    salt: &str,
) -> Option<BigUint> {
    let salt = int_from_hex(salt)?;
    let x = private_key(pool_id, user_id_for_srp, password, &salt);
    Some(G.modpow(&x, &N))
}

/// Reads the client's `SRP_A`, refusing one with `A mod N = 0`: with it the shared secret
/// is 0 whatever the password (RFC 5054, section 2.5.4: "the host MUST abort").
pub fn parse_a(srp_a: &str) -> Result<BigUint, SrpRefusal> {
    if srp_a.len() > MAX_A_HEX_DIGITS {
        return Err(refuse("SRP_A", "SRP_A is too long."));
    }
    let a = int_from_hex(srp_a).ok_or_else(|| refuse("SRP_A", "SRP_A must be hexadecimal."))?;
    if (&a % &*N) == BigUint::ZERO {
        return Err(refuse("SRP_A", "SRP_A must not be zero modulo N."));
    }
    Ok(a)
}

/// The server's public value `B = (k·v + g^b) mod N` for the secret exponent `b`
/// (big-endian bytes).
pub fn server_public(v: &BigUint, b: &[u8]) -> BigUint {
    let b = BigUint::from_bytes_be(b);
    (&*K * v + G.modpow(&b, &N)) % &*N
}

/// The scrambler `u = H(PAD(A) | PAD(B))`.
pub fn scrambler(a: &BigUint, b_pub: &BigUint) -> BigUint {
    hash_to_int(&[&pad(a), &pad(b_pub)])
}

/// The 16-byte key both sides derive: `S = (A·v^u)^b mod N`, then
/// `HKDF-SHA256(ikm = PAD(S), salt = PAD(u), info = "Caldera Derived Key")[..16]`
/// (`getPasswordAuthenticationKey`). A `u` of 0 is refused (RFC 5054, section 2.6: the
/// client aborts on it; so does the server here, since `S` would not depend on `v`).
pub fn session_key(
    a: &BigUint,
    b_pub: &BigUint,
    b: &[u8],
    v: &BigUint,
) -> Result<[u8; 16], SrpRefusal> {
    key_for_scrambler(&scrambler(a, b_pub), a, b, v)
}

/// [`session_key`] for a given `u` (apart so the refusal of `u = 0`, which needs a
/// SHA-256 preimage of zero to reach through [`session_key`], can be tested).
fn key_for_scrambler(
    u: &BigUint,
    a: &BigUint,
    b: &[u8],
    v: &BigUint,
) -> Result<[u8; 16], SrpRefusal> {
    if *u == BigUint::ZERO {
        return Err(refuse(
            "SRP_A",
            "SRP_A gives a scrambling parameter of zero.",
        ));
    }
    let b = BigUint::from_bytes_be(b);
    let s = ((a * v.modpow(u, &N)) % &*N).modpow(&b, &N);
    let hkdf = Hkdf::<Sha256>::new(Some(&pad(u)), &pad(&s));
    let mut key = [0u8; 16];
    hkdf.expand(DERIVED_KEY_INFO, &mut key)
        .expect("16 bytes is a valid HKDF-SHA256 output length");
    Ok(key)
}

/// The password claim `HMAC-SHA256(key, <pool name> | USER_ID_FOR_SRP | SECRET_BLOCK bytes
/// | TIMESTAMP)`.
pub fn claim(
    key: &[u8; 16],
    pool_id: &str,
    user_id_for_srp: &str,
    secret_block: &[u8],
    timestamp: &str,
) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(pool_name(pool_id).as_bytes());
    mac.update(user_id_for_srp.as_bytes());
    mac.update(secret_block);
    mac.update(timestamp.as_bytes());
    mac.finalize().into_bytes().into()
}

/// Reads `PASSWORD_CLAIM_SIGNATURE` (base64 of the 32-byte claim).
pub fn parse_signature(signature: &str) -> Result<Vec<u8>, SrpRefusal> {
    if signature.len() > 128 {
        return Err(refuse(
            "PASSWORD_CLAIM_SIGNATURE",
            "PASSWORD_CLAIM_SIGNATURE is too long.",
        ));
    }
    STANDARD.decode(signature).map_err(|_| {
        refuse(
            "PASSWORD_CLAIM_SIGNATURE",
            "PASSWORD_CLAIM_SIGNATURE must be base64.",
        )
    })
}

/// `now` as Cognito's `TIMESTAMP` (`Sun Dec 6 04:00:00 UTC 2026`).
pub fn format_timestamp(now: UnixTime) -> String {
    DateTime::<Utc>::from_timestamp(now, 0)
        .unwrap_or_default()
        .format(TIMESTAMP_FORMAT)
        .to_string()
}

/// Reads a `TIMESTAMP` written exactly as Amplify and `aws-cognito-srp` write it (day not
/// zero-padded, English names, `UTC`): it must read back to the same string, so a padded
/// day, a wrong weekday or stray spaces are refused. The string is also what the claim
/// signs, so it is checked as sent.
pub fn parse_timestamp(timestamp: &str) -> Result<UnixTime, SrpRefusal> {
    let bad = || {
        refuse(
            "TIMESTAMP",
            "TIMESTAMP is not in the format EEE MMM d HH:mm:ss UTC yyyy.",
        )
    };
    if timestamp.len() > 64 {
        return Err(bad());
    }
    let parsed = NaiveDateTime::parse_from_str(timestamp, "%a %b %d %H:%M:%S UTC %Y")
        .map_err(|_| bad())?
        .and_utc()
        .timestamp();
    if format_timestamp(parsed) != timestamp {
        return Err(bad());
    }
    Ok(parsed)
}

/// Whether a claim made at `timestamp` may be accepted at `now`
/// ([`TIMESTAMP_WINDOW_SECS`] either way).
pub fn timestamp_is_fresh(timestamp: UnixTime, now: UnixTime) -> bool {
    (timestamp - now).abs() <= TIMESTAMP_WINDOW_SECS
}

/// The deterministic salt (hex) and verifier answered for `seed` (a login nobody has, or
/// a user without a verifier) in `pool_id`: HKDF-SHA256 under `key` (derived from the
/// master key, never the master key itself), so every node answers alike, nobody without
/// the key can tell them from real ones, and asking twice gives the same salt. The
/// verifier is a number below `N` no password is known to give.
pub fn fake_verifier(key: &[u8; 32], pool_id: &str, seed: &str) -> (String, BigUint) {
    // 16 bytes of salt, then 384 + 16 bytes reduced mod N (the 16 extra bytes make the
    // reduction's bias negligible, as in FIPS 186-5's "extra random bits" method).
    let mut okm = [0u8; SALT_BYTES + 400];
    expand(key, &["srp-fake-verifier-v1", pool_id, seed], &mut okm);
    let (salt, v) = okm.split_at_mut(SALT_BYTES);
    if salt[0] == 0 {
        salt[0] = 1;
    }
    (to_hex(salt), BigUint::from_bytes_be(v) % &*N)
}

/// The deterministic UUID answered as `USERNAME` and `USER_ID_FOR_SRP` for an unknown
/// login in a pool whose usernames are `sub`s (a real user's would be their `sub`).
pub fn fake_user_id(key: &[u8; 32], pool_id: &str, seed: &str) -> String {
    let mut okm = [0u8; 16];
    expand(key, &["srp-fake-user-id-v1", pool_id, seed], &mut okm);
    uuid::Builder::from_random_bytes(okm)
        .into_uuid()
        .to_string()
}

/// HKDF-SHA256-Expand under `key` with the length-prefixed `parts` as `info`, so no two
/// lists of parts share an `info`.
fn expand(key: &[u8; 32], parts: &[&str], out: &mut [u8]) {
    let mut info = Vec::new();
    for part in parts {
        info.extend_from_slice(&(part.len() as u64).to_be_bytes());
        info.extend_from_slice(part.as_bytes());
    }
    Hkdf::<Sha256>::from_prk(key)
        .expect("a 32-byte key is a valid HKDF-SHA256 pseudorandom key")
        .expand(&info, out)
        .expect("at most 255 blocks of HKDF-SHA256 output");
}
