//! Identifier formats, as Cognito shapes them.

use super::secrets::random_bytes;

const ALPHANUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const CLIENT_ID_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Draws `len` characters uniformly from `alphabet` (rejection sampling, no modulo bias).
fn random_string(alphabet: &[u8], len: usize) -> String {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes::<32>() {
            if (b as usize) < limit && out.len() < len {
                out.push(alphabet[b as usize % alphabet.len()] as char);
            }
        }
    }
    out
}

/// A pool id like Cognito's: `<region>_<9 alphanumerics>`.
pub fn new_pool_id(region: &str) -> String {
    format!("{region}_{}", random_string(ALPHANUM, 9))
}

/// Whether `id` has the shape `<region>_<alphanumerics>` (Cognito's pattern
/// `[\w-]+_[0-9a-zA-Z]+`).
pub fn is_valid_pool_id(id: &str) -> bool {
    let Some((region, rest)) = id.split_once('_') else {
        return false;
    };
    !region.is_empty()
        && region.len() <= 40
        && region
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !rest.is_empty()
        && rest.len() <= 40
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
}

/// An app client id like Cognito's: 26 lowercase alphanumerics.
pub fn new_client_id() -> String {
    random_string(CLIENT_ID_CHARS, 26)
}

/// Whether `id` is a plausible client id (Cognito: `[\w+]+`, 1 to 128 characters).
pub fn is_valid_client_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '+' || c == '-')
}

/// An app client secret: 51 alphanumerics (about 300 bits), like Cognito's.
pub fn new_client_secret() -> String {
    random_string(CLIENT_ID_CHARS, 51)
}

/// A user's `sub`: a random (v4) UUID, never reused.
pub fn new_sub() -> String {
    uuid::Builder::from_random_bytes(random_bytes::<16>())
        .into_uuid()
        .to_string()
}

/// A signing key id: 20 random bytes, base64url.
pub fn new_kid() -> String {
    super::secrets::random_token::<20>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let pool = new_pool_id("us-east-1");
        assert!(is_valid_pool_id(&pool), "{pool}");
        assert_eq!(pool.len(), "us-east-1_".len() + 9);
        assert!(!is_valid_pool_id("nounderscore"));
        assert!(!is_valid_pool_id("us-east-1_bad/char"));
        let client = new_client_id();
        assert_eq!(client.len(), 26);
        assert!(is_valid_client_id(&client));
        let sub = new_sub();
        let parsed = uuid::Uuid::parse_str(&sub).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
        assert_ne!(new_sub(), sub);
    }
}
