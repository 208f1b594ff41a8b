//! Facebook's quirk: Graph API calls carry `appsecret_proof`, the hex HMAC-SHA256 of the
//! access token keyed with the app secret, so a stolen access token is useless without the
//! secret ("Securing Graph API Requests"; apps can be set to require it).

use crate::core::secrets::SecretString;

/// `appsecret_proof` for a Graph call made with `access_token`.
pub fn appsecret_proof(app_secret: &SecretString, access_token: &str) -> String {
    let key =
        aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, app_secret.expose().as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, access_token.as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appsecret_proof_is_lowercase_hex_hmac_sha256() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            appsecret_proof(&SecretString::new("Jefe"), "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let proof = appsecret_proof(&SecretString::new("app-secret"), "EAAB...token");
        assert_eq!(proof.len(), 64);
        assert_ne!(
            proof,
            appsecret_proof(&SecretString::new("other-secret"), "EAAB...token")
        );
    }
}
