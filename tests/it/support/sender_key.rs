//! The receiving side of the custom senders' encrypted codes, written with OpenSSL
//! (independent of Cognate's aws-lc-rs code): an RSA key pair whose public half the pool
//! is configured with, and the decryption of a compact JWE (RSA-OAEP-256, A256GCM) as
//! RFC 7516 section 5.2 describes it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::md::Md;
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::{Padding, Rsa};
use openssl::symm::{decrypt_aead, Cipher};
use serde_json::Value;

pub struct SenderKeyPair {
    private: PKey<Private>,
    /// The public key, PEM (`-----BEGIN PUBLIC KEY-----`), as the pool is given it.
    pub public_pem: String,
}

impl SenderKeyPair {
    pub fn generate() -> SenderKeyPair {
        let private = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let public_pem = String::from_utf8(private.public_key_to_pem().unwrap()).unwrap();
        SenderKeyPair {
            private,
            public_pem,
        }
    }

    /// The plaintext of a compact JWE; panics on anything but RSA-OAEP-256 / A256GCM or a
    /// failed authentication.
    pub fn decrypt(&self, jwe: &str) -> String {
        let parts: Vec<&str> = jwe.split('.').collect();
        assert_eq!(parts.len(), 5, "not a compact JWE: {jwe}");
        let b64 = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap();
        let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
        assert_eq!(header["alg"], "RSA-OAEP-256", "{header}");
        assert_eq!(header["enc"], "A256GCM", "{header}");
        let mut ctx = PkeyCtx::new(&self.private).unwrap();
        ctx.decrypt_init().unwrap();
        ctx.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
        ctx.set_rsa_oaep_md(Md::sha256()).unwrap();
        ctx.set_rsa_mgf1_md(Md::sha256()).unwrap();
        let mut cek = Vec::new();
        ctx.decrypt_to_vec(&b64(parts[1]), &mut cek).unwrap();
        assert_eq!(cek.len(), 32);
        let plain = decrypt_aead(
            Cipher::aes_256_gcm(),
            &cek,
            Some(&b64(parts[2])),
            parts[0].as_bytes(),
            &b64(parts[3]),
            &b64(parts[4]),
        )
        .expect("the JWE authenticates");
        String::from_utf8(plain).unwrap()
    }
}
