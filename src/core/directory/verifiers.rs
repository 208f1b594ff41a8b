//! The SRP verifier's lifecycle (`USER_SRP_AUTH`, see [`crate::core::srp`]): made with
//! every password write and every password proven in clear, sealed under the master key,
//! replaced with the password.

use std::sync::Arc;

use num_bigint::BigUint;

use super::{Directory, DirectoryResult};
use crate::core::model::{SrpVerifier, User, UserPool};
use crate::core::secrets::{srp_verifier_context, MasterKey, SecretString};
use crate::core::srp;

impl Directory {
    /// The directory, making and sealing an SRP verifier under `master` whenever a
    /// password is set or checked in clear (`USER_SRP_AUTH` needs one per user).
    pub fn with_srp_key(mut self, master: Arc<MasterKey>) -> Self {
        self.srp_key = Some(master);
        self
    }

    /// The key SRP state is sealed under, if the directory has one.
    pub fn srp_key(&self) -> Option<&Arc<MasterKey>> {
        self.srp_key.as_ref()
    }

    /// A fresh SRP verifier of `password` for the user `sub` named `username` (Cognito's
    /// `USER_ID_FOR_SRP`): a new random salt, `v` sealed under the master key bound to the
    /// pool, the user and the salt. `None` without the master key. One 3072-bit modular
    /// exponentiation, done only for a password just set or proven, never for an unknown
    /// user.
    pub fn srp_verifier(
        &self,
        pool: &UserPool,
        sub: &str,
        username: &str,
        password: &SecretString,
    ) -> Option<SrpVerifier> {
        let master = self.srp_key.as_ref()?;
        let salt = srp::new_salt();
        let v = srp::verifier(&pool.id, username, password.expose(), &salt)?;
        let context = srp_verifier_context(&pool.id, sub, &salt);
        Some(SrpVerifier {
            verifier: master.seal(&context, &v.to_bytes_be()),
            salt,
        })
    }

    /// The user's SRP salt and opened verifier, if they have one this node can open.
    pub fn open_srp_verifier(&self, pool: &UserPool, user: &User) -> Option<(String, BigUint)> {
        let master = self.srp_key.as_ref()?;
        let srp = user.srp.as_ref()?;
        let context = srp_verifier_context(&pool.id, &user.sub, &srp.salt);
        let v = master.open(&context, &srp.verifier).ok()?;
        Some((srp.salt.clone(), BigUint::from_bytes_be(&v)))
    }

    /// What a password write stores: the hash and the SRP verifier of `password` for the
    /// user `sub` named `username`. Every password writer goes through here, so the
    /// verifier always matches the hash (a new password replaces the old verifier).
    pub(super) async fn password_record(
        &self,
        pool: &UserPool,
        sub: &str,
        username: &str,
        password: &SecretString,
    ) -> DirectoryResult<(SecretString, Option<SrpVerifier>)> {
        let hash = self.passwords.hash(password).await?;
        Ok((hash, self.srp_verifier(pool, sub, username, password)))
    }
}
