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
//! The big-number arithmetic is `num-bigint`'s; hashing, HKDF and HMAC are RustCrypto's.
//! Nothing here touches the store: [`crate::core::signin::SignIn::srp_start`] and
//! [`crate::core::signin::SignIn::srp_verify`] keep the server's state.

// Issue 14 H1 fills this module in.
