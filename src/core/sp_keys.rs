//! The SAML 2.0 service provider's key pair, one per pool: RSA-2048, generated with
//! aws-lc-rs like the token keys ([`super::keys`]), its private part sealed under the
//! master key ([`sp_key_context`]), its public part carried by a self-signed X.509
//! certificate in the pool's SP metadata (`KeyDescriptor use="signing"`).
//!
//! The certificate is only a key carrier: SAML metadata trust comes from the metadata
//! exchange, not from a CA (SAML V2.0 Metadata Interoperability Profile, section 2.5.1:
//! "a KeyInfo ... is used only to carry the key"; validity dates are not checked), so it
//! is self-signed and valid for ten years, and it is made once, when its key is, with
//! rcgen over aws-lc-rs (no second crypto stack).
//!
//! A pool gets its first key on demand ([`SpKeyService::active`]); nodes racing to make
//! it converge on one through the store's one-active-key rule. A rotation retires the
//! active key but keeps its certificate in the metadata for a grace period, so an IdP that
//! refreshes the metadata late still accepts what the SP signed before. Keys are cached
//! per pool for [`SP_KEY_CACHE_TTL`] (as token keys are): a rotation made by another node
//! or the CLI is signed with within that time, and its certificate is published at once
//! (the metadata is read from the store on every request).

use std::sync::Arc;
use std::time::Duration;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeySize, PrivateDecryptingKey};
use aws_lc_rs::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::ids::new_kid;
use super::keys::{KeyError, KEY_CACHE_TTL};
use super::model::SpKeyRecord;
use super::secrets::{random_bytes, sp_key_context, MasterKey};
use super::storage::Store;
use super::UnixTime;

/// How long a node trusts its cached copy of a pool's active SP key.
pub const SP_KEY_CACHE_TTL: Duration = KEY_CACHE_TTL;

/// How long an SP certificate is valid: ten years (a key carrier, see the module doc;
/// a rotation, not the expiry, replaces it).
pub const SP_CERT_VALIDITY_SECS: i64 = 3_652 * 86_400;

/// How far before its creation an SP certificate's validity starts, so an IdP whose
/// clock lags does not see a certificate from the future.
pub const SP_CERT_BACKDATE_SECS: i64 = 86_400;

/// The default grace period of a rotated-out SP certificate (`keys rotate-saml`).
pub const DEFAULT_SP_GRACE_DAYS: u32 = 30;

/// The longest grace period `keys rotate-saml` accepts.
pub const MAX_SP_GRACE_DAYS: u32 = 365;

/// Generates a pool's SAML SP key pair and its self-signed certificate, sealing the
/// private key under the master key. CPU-heavy (0.1 to 0.4 s): call it from a blocking
/// task.
pub fn generate_sp_key(
    master: &MasterKey,
    pool_id: &str,
    now: UnixTime,
) -> Result<SpKeyRecord, KeyError> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| KeyError::Generation)?;
    let pkcs8 = pair.as_der().map_err(|_| KeyError::Generation)?;
    let certificate = self_signed_certificate(pool_id, pkcs8.as_ref(), now)?;
    let kid = new_kid();
    Ok(SpKeyRecord {
        pool_id: pool_id.to_string(),
        private_pkcs8: master.seal(&sp_key_context(pool_id, &kid), pkcs8.as_ref()),
        kid,
        certificate: STANDARD.encode(certificate),
        created_at: now,
        retired_at: None,
        published_until: None,
    })
}

/// A self-signed certificate (sha256WithRSAEncryption) for the RSA key in `pkcs8`, its
/// subject and issuer `CN=Cognate SAML SP <poolId>, O=Cognate`, valid from a day before
/// `now` for [`SP_CERT_VALIDITY_SECS`], with a random 127-bit serial number (RFC 5280
/// section 4.1.2.2: positive, at most 20 octets, unique per issuer), its key usage
/// digitalSignature and keyEncipherment.
fn self_signed_certificate(
    pool_id: &str,
    pkcs8: &[u8],
    now: UnixTime,
) -> Result<Vec<u8>, KeyError> {
    let failed = |e: rcgen::Error| KeyError::Certificate(e.to_string());
    let key = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(
        &rustls::pki_types::PrivatePkcs8KeyDer::from(pkcs8),
        &rcgen::PKCS_RSA_SHA256,
    )
    .map_err(failed)?;
    let at = |t: UnixTime| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .map_err(|e| KeyError::Certificate(format!("time {t} out of range: {e}")))
    };
    let mut params = rcgen::CertificateParams::default();
    let mut name = rcgen::DistinguishedName::new();
    name.push(
        rcgen::DnType::CommonName,
        format!("Cognate SAML SP {pool_id}"),
    );
    name.push(rcgen::DnType::OrganizationName, "Cognate");
    params.distinguished_name = name;
    params.not_before = at(now.saturating_sub(SP_CERT_BACKDATE_SECS))?;
    params.not_after = at(now.saturating_add(SP_CERT_VALIDITY_SECS))?;
    let mut serial = random_bytes::<16>();
    serial[0] = (serial[0] & 0x7f) | 0x40;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
    params.is_ca = rcgen::IsCa::ExplicitNoCa;
    // Signing (AuthnRequests) and RSA key transport (IdPs encrypt assertions to it).
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::DigitalSignature,
        rcgen::KeyUsagePurpose::KeyEncipherment,
    ];
    let certificate = params.self_signed(&key).map_err(failed)?;
    Ok(certificate.der().to_vec())
}

/// A pool's SP key, parsed and ready to sign.
pub struct SpKey {
    kid: String,
    pair: RsaKeyPair,
    decrypting: PrivateDecryptingKey,
    certificate_der: Vec<u8>,
}

impl std::fmt::Debug for SpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpKey").field("kid", &self.kid).finish()
    }
}

impl SpKey {
    pub(crate) fn from_record(master: &MasterKey, record: &SpKeyRecord) -> Result<Self, KeyError> {
        let bad = |reason: String| KeyError::BadKey {
            kid: record.kid.clone(),
            reason,
        };
        let der = master.open(
            &sp_key_context(&record.pool_id, &record.kid),
            &record.private_pkcs8,
        )?;
        let pair = RsaKeyPair::from_pkcs8(&der).map_err(|e| bad(e.to_string()))?;
        let decrypting = PrivateDecryptingKey::from_pkcs8(&der).map_err(|e| bad(e.to_string()))?;
        let certificate_der = certificate_der(record)?;
        Ok(SpKey {
            kid: record.kid.clone(),
            pair,
            decrypting,
            certificate_der,
        })
    }

    /// The key's id (the `kid` column; `keys list` shows it).
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The self-signed certificate carrying the public key (DER).
    pub fn certificate_der(&self) -> &[u8] {
        &self.certificate_der
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `msg` (`rsa-sha256`, RFC 6931 section 2.3.2):
    /// the signature of the HTTP-Redirect binding's query (SAML 2.0 Bindings section
    /// 3.4.4.1) and of XML signatures the SP makes.
    pub fn sign_rsa_sha256(&self, msg: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut signature = vec![0u8; self.pair.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.pair
            .sign(&RSA_PKCS1_SHA256, &rng, msg, &mut signature)
            .map_err(|_| KeyError::Signing)?;
        Ok(signature)
    }

    /// The same key for RSA-OAEP key transport: what an IdP that encrypts its assertions
    /// to this key's certificate is decrypted with
    /// ([`crate::federation::saml::response::Expectations::decryption_keys`]).
    pub fn decryption_key(&self) -> &PrivateDecryptingKey {
        &self.decrypting
    }

    /// The public key as PKCS#1 `RSAPublicKey` DER (what aws-lc-rs verifies with).
    pub fn public_key_der(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }
}

/// The DER of a record's certificate.
fn certificate_der(record: &SpKeyRecord) -> Result<Vec<u8>, KeyError> {
    STANDARD
        .decode(&record.certificate)
        .map_err(|_| KeyError::BadKey {
            kid: record.kid.clone(),
            reason: "the stored certificate is not base64".into(),
        })
}

/// The keys whose certificates the SP metadata publishes at `now`: the active one, then
/// the retired ones still in their grace period, in the store's order.
fn published(records: &[SpKeyRecord], now: UnixTime) -> impl Iterator<Item = &SpKeyRecord> {
    let active = records.iter().filter(|k| k.retired_at.is_none());
    let in_grace = records.iter().filter(move |k| {
        k.retired_at.is_some() && k.published_until.is_some_and(|until| until > now)
    });
    active.chain(in_grace)
}

/// Loads, caches, creates and rotates pools' SAML SP keys. Any node may do any of it.
#[derive(Clone)]
pub struct SpKeyService {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    cache: moka::future::Cache<String, Arc<SpKey>>,
}

impl SpKeyService {
    pub fn new(store: Arc<dyn Store>, master: Arc<MasterKey>) -> Self {
        SpKeyService {
            store,
            master,
            cache: moka::future::Cache::builder()
                .time_to_live(SP_KEY_CACHE_TTL)
                .max_capacity(10_000)
                .build(),
        }
    }

    /// The pool's active SP key, from the cache or the store; the pool's first key is
    /// made here. Concurrent misses on this node share one load; nodes making the first
    /// key at once each generate one, and the store keeps exactly one of them, which every
    /// node then uses. The pool must exist (`Store(MissingParent)` otherwise).
    pub async fn active(&self, pool_id: &str, now: UnixTime) -> Result<Arc<SpKey>, KeyError> {
        self.cache
            .try_get_with_by_ref(pool_id, async {
                self.load_active(pool_id, now).await.map(Arc::new)
            })
            .await
            .map_err(|shared| Arc::try_unwrap(shared).unwrap_or_else(KeyError::Load))
    }

    async fn load_active(&self, pool_id: &str, now: UnixTime) -> Result<SpKey, KeyError> {
        let records = self.store.list_sp_keys(pool_id).await?;
        let record = match records.into_iter().find(|k| k.retired_at.is_none()) {
            Some(record) => record,
            None => {
                let fresh = self.generate(pool_id, now).await?;
                self.store.insert_sp_key_if_none_active(&fresh).await?
            }
        };
        SpKey::from_record(&self.master, &record)
    }

    /// The certificates (DER) the pool's SP metadata publishes: the active key's first,
    /// then those of retired keys whose grace period has not ended at `now`, last retired
    /// first. Read from the store on every call (no private key is opened), so a rotation
    /// made anywhere is published at once. Makes the pool's first key if it has none.
    pub async fn published_certificates(
        &self,
        pool_id: &str,
        now: UnixTime,
    ) -> Result<Vec<Vec<u8>>, KeyError> {
        let mut records = self.store.list_sp_keys(pool_id).await?;
        if !records.iter().any(|k| k.retired_at.is_none()) {
            self.active(pool_id, now).await?;
            records = self.store.list_sp_keys(pool_id).await?;
        }
        published(&records, now).map(certificate_der).collect()
    }

    /// The private keys of every published certificate (see
    /// [`Self::published_certificates`]): the active key's first, then the retired keys
    /// still in their grace period, so an IdP that encrypted to the previous certificate
    /// is still read. Opened from the store on every call (no cache: a response is
    /// decrypted only with what is published at `now`). Makes no key: a pool without one
    /// has published no certificate to encrypt to. Only a store failure is an error.
    pub async fn decryption_keys(
        &self,
        pool_id: &str,
        now: UnixTime,
    ) -> Result<Vec<PrivateDecryptingKey>, KeyError> {
        let records = self.store.list_sp_keys(pool_id).await?;
        // A key that cannot be opened (a corrupt record) is left out with a warning rather
        // than failing every SAML sign-in of the pool: a response encrypted to it then
        // fails like any undecryptable one.
        Ok(published(&records, now)
            .filter_map(|record| match SpKey::from_record(&self.master, record) {
                Ok(key) => Some(key.decrypting),
                Err(e) => {
                    tracing::warn!(pool = %pool_id, kid = %record.kid, error = %e,
                        "SAML SP key cannot be opened; left out of the decryption keys");
                    None
                }
            })
            .collect())
    }

    /// Makes a new active SP key for the pool; the retired one stays published for
    /// `grace_secs` (none if negative). Returns the new key's id.
    pub async fn rotate(
        &self,
        pool_id: &str,
        grace_secs: i64,
        now: UnixTime,
    ) -> Result<String, KeyError> {
        let key = self.generate(pool_id, now).await?;
        let published_until = now.saturating_add(grace_secs.max(0));
        self.store.rotate_sp_key(&key, now, published_until).await?;
        self.cache.invalidate(pool_id).await;
        Ok(key.kid)
    }

    async fn generate(&self, pool_id: &str, now: UnixTime) -> Result<SpKeyRecord, KeyError> {
        let master = self.master.clone();
        let pool_id = pool_id.to_string();
        tokio::task::spawn_blocking(move || generate_sp_key(&master, &pool_id, now))
            .await
            .map_err(|_| KeyError::Generation)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lc_rs::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

    const NOW: UnixTime = 1_780_000_000;

    #[test]
    fn generated_key_signs_and_is_sealed_to_its_pool() {
        let (master, _) = MasterKey::generate();
        let record = generate_sp_key(&master, "us-east-1_Sp", NOW).unwrap();
        let key = SpKey::from_record(&master, &record).unwrap();
        assert_eq!(key.kid(), record.kid);
        assert!(!format!("{key:?}").contains("pair"));
        let signature = key.sign_rsa_sha256(b"SAMLRequest=abc").unwrap();
        assert_eq!(signature.len(), 256, "RSA-2048");
        let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key_der());
        public.verify(b"SAMLRequest=abc", &signature).unwrap();
        assert!(public.verify(b"SAMLRequest=abd", &signature).is_err());
        // The certificate is DER (a SEQUENCE) and carries the same public key.
        let der = key.certificate_der();
        assert_eq!(der.first(), Some(&0x30));
        assert!(der
            .windows(key.public_key_der().len())
            .any(|w| w == key.public_key_der()));
        // Sealed for this pool and this kid only, and under this master key only.
        let mut moved = record.clone();
        moved.pool_id = "us-east-1_Other".into();
        assert!(SpKey::from_record(&master, &moved).is_err());
        let mut renamed = record.clone();
        renamed.kid = "another".into();
        assert!(SpKey::from_record(&master, &renamed).is_err());
        let (other, _) = MasterKey::generate();
        assert!(SpKey::from_record(&other, &record).is_err());
        // A token key's context does not open it.
        let token_context = crate::core::secrets::signing_key_context(&record.pool_id, &record.kid);
        assert!(master.open(&token_context, &record.private_pkcs8).is_err());
    }

    #[test]
    fn the_key_decrypts_what_is_encrypted_to_its_certificate() {
        use aws_lc_rs::rsa::{
            OaepPrivateDecryptingKey, OaepPublicEncryptingKey, PublicEncryptingKey,
            OAEP_SHA1_MGF1SHA1,
        };
        let (master, _) = MasterKey::generate();
        let record = generate_sp_key(&master, "us-east-1_Sp", NOW).unwrap();
        let key = SpKey::from_record(&master, &record).unwrap();
        use x509_cert::der::{asn1::ObjectIdentifier, Decode, Encode};
        let cert = x509_cert::Certificate::from_der(key.certificate_der()).unwrap();
        let tbs = &cert.tbs_certificate;
        let key_usage = ObjectIdentifier::new_unwrap("2.5.29.15");
        let extension = tbs
            .extensions
            .iter()
            .flatten()
            .find(|e| e.extn_id == key_usage)
            .expect("a key usage");
        let usage =
            x509_cert::ext::pkix::KeyUsage::from_der(extension.extn_value.as_bytes()).unwrap();
        assert!(usage.digital_signature() && usage.key_encipherment());
        let spki = tbs.subject_public_key_info.to_der().unwrap();
        let public = PublicEncryptingKey::from_der(&spki).unwrap();
        let public = OaepPublicEncryptingKey::new(public).unwrap();
        let mut wrapped = vec![0u8; public.ciphertext_size()];
        let wrapped = public
            .encrypt(&OAEP_SHA1_MGF1SHA1, b"session key", &mut wrapped, None)
            .unwrap()
            .to_vec();
        let private = OaepPrivateDecryptingKey::new(key.decryption_key().clone()).unwrap();
        let mut out = vec![0u8; private.min_output_size()];
        let session = private
            .decrypt(&OAEP_SHA1_MGF1SHA1, &wrapped, &mut out, None)
            .unwrap();
        assert_eq!(session, b"session key");
    }

    #[test]
    fn a_corrupt_certificate_is_an_error_not_a_panic() {
        let (master, _) = MasterKey::generate();
        let mut record = generate_sp_key(&master, "us-east-1_Sp", NOW).unwrap();
        record.certificate = "%%% not base64".into();
        let err = SpKey::from_record(&master, &record).unwrap_err();
        assert!(matches!(err, KeyError::BadKey { .. }), "{err:?}");
    }
}
