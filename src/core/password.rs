//! Password hashing: Argon2id for everything Cognate writes, and verification of hashes
//! imported from other systems (bcrypt, PBKDF2-SHA256, scrypt), which are upgraded to
//! Argon2id at the next successful sign-in.
//!
//! Hashing is CPU- and memory-heavy (19 MiB per Argon2id hash), so it runs on the blocking
//! pool behind a semaphore of about one hash per core: a burst of sign-ins queues instead
//! of starving the async workers or exhausting memory.

use std::sync::Arc;

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use password_hash::{PasswordHash, PasswordVerifier};

use super::model::PasswordPolicy;
use super::secrets::{constant_time_eq, random_bytes, SecretString};

/// OWASP's Argon2id baseline, as the issue fixes it: m = 19456 KiB, t = 2, p = 1.
pub const ARGON2_M_KIB: u32 = 19_456;
pub const ARGON2_T: u32 = 2;
pub const ARGON2_P: u32 = 1;

/// Upper bounds on the cost parameters of imported hashes, so a hostile import file cannot
/// make one sign-in run for hours or allocate gigabytes.
const MAX_PBKDF2_ROUNDS: u32 = 10_000_000;
const MAX_SCRYPT_LOG_N: u8 = 20;
const MAX_BCRYPT_COST: u32 = 16;
const MAX_ARGON2_M_KIB: u32 = 1 << 20;
const MAX_ARGON2_T: u32 = 20;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("unsupported password hash format: {0}")]
    Unsupported(String),
    #[error("malformed password hash: {0}")]
    Malformed(String),
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub ok: bool,
    /// The hash is not Argon2id with Cognate's parameters: store a fresh hash.
    pub needs_rehash: bool,
}

/// The kinds of stored hash Cognate can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashKind {
    Argon2,
    Bcrypt,
    Pbkdf2Sha256,
    /// Django's `pbkdf2_sha256$<rounds>$<salt>$<base64 hash>`.
    DjangoPbkdf2Sha256,
    Scrypt,
}

/// Recognizes a stored hash and checks that its cost parameters are within bounds. The
/// import command runs this on every record, so a bad hash is refused at import time with
/// its line number rather than failing a sign-in later.
pub fn inspect(stored: &str) -> Result<HashKind, PasswordError> {
    let malformed = |m: &str| PasswordError::Malformed(m.to_string());
    if stored.starts_with("$2a$")
        || stored.starts_with("$2b$")
        || stored.starts_with("$2y$")
        || stored.starts_with("$2x$")
    {
        let cost: u32 = stored
            .get(4..6)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| malformed("bcrypt cost"))?;
        if !(4..=MAX_BCRYPT_COST).contains(&cost) || stored.len() != 60 {
            return Err(malformed(
                "bcrypt hash must be 60 characters with cost 4..=16",
            ));
        }
        return Ok(HashKind::Bcrypt);
    }
    if let Some(rest) = stored.strip_prefix("pbkdf2_sha256$") {
        let mut parts = rest.split('$');
        let rounds: u32 = parts
            .next()
            .and_then(|r| r.parse().ok())
            .ok_or_else(|| malformed("pbkdf2_sha256 rounds"))?;
        let (Some(_salt), Some(hash), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed("pbkdf2_sha256$<rounds>$<salt>$<hash>"));
        };
        if rounds == 0 || rounds > MAX_PBKDF2_ROUNDS {
            return Err(malformed("pbkdf2 rounds out of range"));
        }
        let len = base64::engine::general_purpose::STANDARD
            .decode(hash)
            .map_err(|_| malformed("pbkdf2_sha256 hash is not base64"))?
            .len();
        if !(16..=64).contains(&len) {
            return Err(malformed("pbkdf2_sha256 hash length"));
        }
        return Ok(HashKind::DjangoPbkdf2Sha256);
    }
    let phc = PasswordHash::new(stored).map_err(|e| {
        if stored.starts_with('$') {
            PasswordError::Malformed(e.to_string())
        } else {
            PasswordError::Unsupported("expected a PHC string ($argon2id$..., $pbkdf2-sha256$..., $scrypt$...), bcrypt ($2b$...) or Django pbkdf2_sha256$...".into())
        }
    })?;
    let param = |name: &str| phc.params.get_decimal(name);
    match phc.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => {
            let m = param("m").ok_or_else(|| malformed("argon2 m"))?;
            let t = param("t").ok_or_else(|| malformed("argon2 t"))?;
            if m > MAX_ARGON2_M_KIB || t > MAX_ARGON2_T {
                return Err(malformed("argon2 parameters out of range"));
            }
            Ok(HashKind::Argon2)
        }
        "pbkdf2-sha256" => {
            let rounds = param("i").ok_or_else(|| malformed("pbkdf2 i"))?;
            if rounds == 0 || rounds > MAX_PBKDF2_ROUNDS {
                return Err(malformed("pbkdf2 rounds out of range"));
            }
            Ok(HashKind::Pbkdf2Sha256)
        }
        "scrypt" => {
            let ln = param("ln").ok_or_else(|| malformed("scrypt ln"))?;
            if ln > u32::from(MAX_SCRYPT_LOG_N) {
                return Err(malformed("scrypt ln out of range"));
            }
            Ok(HashKind::Scrypt)
        }
        other => Err(PasswordError::Unsupported(other.to_string())),
    }
}

/// Hashes and verifies passwords. The production implementation is [`StandardHasher`];
/// tests wrap it to count calls (an unknown user must cost exactly one verification).
pub trait PasswordHasher: Send + Sync + 'static {
    /// A new Argon2id PHC string.
    fn hash(&self, password: &str) -> Result<String, PasswordError>;
    /// Checks `password` against a stored hash of any supported kind.
    fn verify(&self, password: &str, stored: &str) -> Result<Verification, PasswordError>;
}

/// Argon2id with Cognate's parameters; verifies every [`HashKind`].
#[derive(Debug, Default, Clone, Copy)]
pub struct StandardHasher;

thread_local! {
    /// Argon2's working memory (19 MiB), allocated once per hashing thread and reused, so
    /// the allocator never accumulates freed 19 MiB blocks in per-thread arenas (which
    /// made resident memory grow to hundreds of megabytes under load).
    static SCRATCH: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs Argon2 with `params` into `out`, using this thread's reusable working memory.
fn argon2_into(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), PasswordError> {
    let blocks = params.block_count();
    let context = Argon2::new(algorithm, version, params);
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        if scratch.len() < blocks {
            scratch.resize(blocks, argon2::Block::default());
        }
        context
            .hash_password_into_with_memory(password, salt, out, &mut scratch[..blocks])
            .map_err(|e| PasswordError::Internal(e.to_string()))
    })
}

/// PHC strings use standard base64 without padding.
const PHC_B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

impl PasswordHasher for StandardHasher {
    fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let salt = random_bytes::<16>();
        let mut out = [0u8; 32];
        let params = Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, Some(32))
            .map_err(|e| PasswordError::Internal(e.to_string()))?;
        argon2_into(
            Algorithm::Argon2id,
            Version::V0x13,
            params,
            password.as_bytes(),
            &salt,
            &mut out,
        )?;
        Ok(format!(
            "$argon2id$v=19$m={ARGON2_M_KIB},t={ARGON2_T},p={ARGON2_P}${}${}",
            PHC_B64.encode(salt),
            PHC_B64.encode(out)
        ))
    }

    fn verify(&self, password: &str, stored: &str) -> Result<Verification, PasswordError> {
        let kind = inspect(stored)?;
        let pw = password.as_bytes();
        let ok = match kind {
            HashKind::Argon2 => {
                let phc = PasswordHash::new(stored)
                    .map_err(|e| PasswordError::Malformed(e.to_string()))?;
                let ok = verify_argon2(pw, &phc)?;
                let current = phc.algorithm.as_str() == "argon2id"
                    && phc.params.get_decimal("m") == Some(ARGON2_M_KIB)
                    && phc.params.get_decimal("t") == Some(ARGON2_T)
                    && phc.params.get_decimal("p") == Some(ARGON2_P);
                return Ok(Verification {
                    ok,
                    needs_rehash: ok && !current,
                });
            }
            // bcrypt reads at most 72 bytes of the password; longer ones are truncated by
            // the systems that made these hashes, so the same truncation applies here.
            HashKind::Bcrypt => {
                let truncated = &pw[..pw.len().min(72)];
                bcrypt::verify(truncated, stored).unwrap_or(false)
            }
            HashKind::Pbkdf2Sha256 => {
                let phc = PasswordHash::new(stored)
                    .map_err(|e| PasswordError::Malformed(e.to_string()))?;
                pbkdf2::Pbkdf2.verify_password(pw, &phc).is_ok()
            }
            HashKind::DjangoPbkdf2Sha256 => verify_django_pbkdf2(pw, stored)?,
            HashKind::Scrypt => {
                let phc = PasswordHash::new(stored)
                    .map_err(|e| PasswordError::Malformed(e.to_string()))?;
                scrypt::Scrypt.verify_password(pw, &phc).is_ok()
            }
        };
        Ok(Verification {
            ok,
            needs_rehash: ok,
        })
    }
}

/// Verifies an Argon2 PHC string (any variant and parameters within [`inspect`]'s bounds)
/// by recomputing the hash into the thread's working memory and comparing in constant time.
fn verify_argon2(password: &[u8], phc: &PasswordHash<'_>) -> Result<bool, PasswordError> {
    let malformed = |m: &str| PasswordError::Malformed(m.to_string());
    let algorithm = Algorithm::try_from(phc.algorithm).map_err(|_| malformed("argon2 variant"))?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).map_err(|_| malformed("argon2 version"))?,
        None => Version::V0x13,
    };
    let params = Params::try_from(phc).map_err(|e| PasswordError::Malformed(e.to_string()))?;
    let expected = phc.hash.ok_or_else(|| malformed("argon2 hash"))?;
    let mut salt_buf = [0u8; 64];
    let salt = phc
        .salt
        .ok_or_else(|| malformed("argon2 salt"))?
        .decode_b64(&mut salt_buf)
        .map_err(|e| PasswordError::Malformed(e.to_string()))?;
    let mut out = vec![0u8; expected.len()];
    argon2_into(algorithm, version, params, password, salt, &mut out)?;
    Ok(constant_time_eq(&out, expected.as_bytes()))
}

fn verify_django_pbkdf2(password: &[u8], stored: &str) -> Result<bool, PasswordError> {
    let malformed = || PasswordError::Malformed("pbkdf2_sha256".into());
    let mut parts = stored.split('$').skip(1);
    let rounds: u32 = parts
        .next()
        .and_then(|r| r.parse().ok())
        .ok_or_else(malformed)?;
    let salt = parts.next().ok_or_else(malformed)?;
    let expected = base64::engine::general_purpose::STANDARD
        .decode(parts.next().ok_or_else(malformed)?)
        .map_err(|_| malformed())?;
    let mut out = vec![0u8; expected.len()];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt.as_bytes(), rounds, &mut out);
    Ok(constant_time_eq(&out, &expected))
}

/// The policy a password broke, listing everything that is missing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Password does not conform to policy: {}", missing.join("; "))]
pub struct PolicyViolation {
    pub missing: Vec<String>,
    /// The password is otherwise fine but compromised (too common, or in the breached
    /// password corpus): the hosted UI says so in words of its own.
    pub compromised: bool,
}

/// What a compromised password is told (InvalidPasswordException's message follows
/// "Password does not conform to policy: ").
pub const COMPROMISED_MESSAGE: &str =
    "Password has been found in a data breach or is too common; choose another";

impl PolicyViolation {
    /// A password refused by the compromised-password check (threat protection).
    pub fn compromised() -> Self {
        PolicyViolation {
            missing: vec![COMPROMISED_MESSAGE.to_string()],
            compromised: true,
        }
    }
}

/// Checks a password against a pool's policy (Cognito's `PasswordPolicyType`). Symbols are
/// Cognito's set: `^ $ * . [ ] { } ( ) ? " ! @ # % & / \ , > < ' : ; | _ ~ ` = + -` and space.
pub fn check_policy(policy: &PasswordPolicy, password: &str) -> Result<(), PolicyViolation> {
    const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";
    let mut missing = Vec::new();
    let len = password.chars().count();
    if len < policy.minimum_length as usize {
        missing.push(format!("at least {} characters", policy.minimum_length));
    }
    if len > 256 {
        missing.push("at most 256 characters".to_string());
    }
    if policy.require_uppercase && !password.chars().any(char::is_uppercase) {
        missing.push("an uppercase letter".to_string());
    }
    if policy.require_lowercase && !password.chars().any(char::is_lowercase) {
        missing.push("a lowercase letter".to_string());
    }
    if policy.require_numbers && !password.chars().any(|c| c.is_ascii_digit()) {
        missing.push("a number".to_string());
    }
    if policy.require_symbols && !password.chars().any(|c| SYMBOLS.contains(c)) {
        missing.push("a symbol".to_string());
    }
    if missing.is_empty() {
        Ok(())
    } else {
        Err(PolicyViolation {
            missing,
            compromised: false,
        })
    }
}

/// A job for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of hashing threads (about one per core). Hashing runs here, off the async
/// workers; the number of threads is the semaphore: at most that many hashes run at once
/// and the rest wait in the queue. Each thread keeps its Argon2 working memory, so memory
/// stays at threads x 19 MiB however many sign-ins arrive.
struct HashPool {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashPool {
    fn new(threads: usize) -> Result<Self, PasswordError> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = Arc::new(std::sync::Mutex::new(rx));
        for i in 0..threads.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("cognate-hash-{i}"))
                .spawn(move || loop {
                    let job = match rx.lock() {
                        Ok(guard) => guard.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return, // the pool was dropped
                    }
                })
                .map_err(|e| PasswordError::Internal(e.to_string()))?;
        }
        Ok(HashPool {
            jobs: std::sync::Mutex::new(tx),
        })
    }

    fn submit(&self, job: Job) -> Result<(), PasswordError> {
        self.jobs
            .lock()
            .map_err(|_| PasswordError::Internal("hash pool poisoned".into()))?
            .send(job)
            .map_err(|_| PasswordError::Internal("hash pool stopped".into()))
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.submit(Box::new(move || {
            let _ = tx.send(f());
        }))?;
        rx.await
            .map_err(|_| PasswordError::Internal("hash job lost".into()))
    }

    /// For start-up work outside an async context.
    fn run_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, PasswordError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.submit(Box::new(move || {
            let _ = tx.send(f());
        }))?;
        rx.recv()
            .map_err(|_| PasswordError::Internal("hash job lost".into()))
    }
}

/// The async face of password hashing: runs the hasher on the hashing threads, and
/// verifies unknown users against a dummy hash so they cost the same.
#[derive(Clone)]
pub struct Passwords {
    hasher: Arc<dyn PasswordHasher>,
    pool: Arc<HashPool>,
    threads: usize,
    dummy_hash: Arc<String>,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("threads", &self.threads)
            .finish()
    }
}

impl Passwords {
    /// `concurrency` hashes may run at once (about one per core).
    pub fn new(hasher: Arc<dyn PasswordHasher>, concurrency: usize) -> Result<Self, PasswordError> {
        let pool = HashPool::new(concurrency)?;
        // A hash of a random password nobody knows: verifying against it costs exactly what
        // verifying a real user's password costs.
        let dummy = {
            let hasher = hasher.clone();
            let secret = super::secrets::random_token::<24>();
            pool.run_blocking(move || hasher.hash(&secret))??
        };
        Ok(Passwords {
            hasher,
            pool: Arc::new(pool),
            threads: concurrency.max(1),
            dummy_hash: Arc::new(dummy),
        })
    }

    /// The standard hasher with one thread per available core.
    pub fn standard() -> Result<Self, PasswordError> {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Self::new(Arc::new(StandardHasher), cores)
    }

    pub async fn hash(&self, password: &SecretString) -> Result<SecretString, PasswordError> {
        let hasher = self.hasher.clone();
        let password = password.clone();
        self.pool
            .run(move || hasher.hash(password.expose()))
            .await?
            .map(SecretString::new)
    }

    /// Verifies `password` against `stored`, or against the dummy hash when there is no
    /// stored hash (unknown user, or a user without a password), so every path costs one
    /// verification. With no stored hash the answer is always "no".
    pub async fn verify(
        &self,
        password: &SecretString,
        stored: Option<&SecretString>,
    ) -> Result<Verification, PasswordError> {
        let hasher = self.hasher.clone();
        let password = password.clone();
        let real = stored.is_some();
        let target = match stored {
            Some(s) => s.expose().to_string(),
            None => self.dummy_hash.as_str().to_string(),
        };
        let result = self
            .pool
            .run(move || hasher.verify(password.expose(), &target))
            .await??;
        Ok(if real {
            result
        } else {
            Verification {
                ok: false,
                needs_rehash: false,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use password_hash::PasswordHasher as _;

    #[test]
    fn argon2id_round_trip_with_fixed_parameters() {
        let h = StandardHasher.hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        let v = StandardHasher.verify("correct horse", &h).unwrap();
        assert_eq!(
            v,
            Verification {
                ok: true,
                needs_rehash: false
            }
        );
        assert!(!StandardHasher.verify("wrong", &h).unwrap().ok);
        // The PHC string is the standard one: the reference implementation accepts it.
        let phc = PasswordHash::new(&h).unwrap();
        assert!(Argon2::default()
            .verify_password(b"correct horse", &phc)
            .is_ok());
        assert!(Argon2::default().verify_password(b"wrong", &phc).is_err());
        // And hashes made by the reference implementation verify here.
        let salt = password_hash::SaltString::encode_b64(b"reference-salt!!").unwrap();
        let reference = Argon2::default()
            .hash_password(b"other pw", &salt)
            .unwrap()
            .to_string();
        assert!(StandardHasher.verify("other pw", &reference).unwrap().ok);
    }

    #[test]
    fn legacy_formats_verify_and_ask_for_upgrade() {
        let bcrypt = bcrypt::hash("pw-bcrypt", 4).unwrap();
        let v = StandardHasher.verify("pw-bcrypt", &bcrypt).unwrap();
        assert!(v.ok && v.needs_rehash);
        assert!(!StandardHasher.verify("nope", &bcrypt).unwrap().ok);

        let salt = password_hash::SaltString::encode_b64(b"0123456789abcdef").unwrap();
        let pbkdf2 = pbkdf2::Pbkdf2
            .hash_password_customized(
                b"pw-pbkdf2",
                Some(pbkdf2::Algorithm::Pbkdf2Sha256.ident()),
                None,
                pbkdf2::Params {
                    rounds: 1000,
                    output_length: 32,
                },
                &salt,
            )
            .unwrap()
            .to_string();
        assert_eq!(inspect(&pbkdf2).unwrap(), HashKind::Pbkdf2Sha256);
        assert!(StandardHasher.verify("pw-pbkdf2", &pbkdf2).unwrap().ok);
        assert!(!StandardHasher.verify("nope", &pbkdf2).unwrap().ok);

        let scrypt = scrypt::Scrypt
            .hash_password_customized(
                b"pw-scrypt",
                None,
                None,
                scrypt::Params::new(10, 8, 1, 32).unwrap(),
                &salt,
            )
            .unwrap()
            .to_string();
        assert_eq!(inspect(&scrypt).unwrap(), HashKind::Scrypt);
        assert!(StandardHasher.verify("pw-scrypt", &scrypt).unwrap().ok);
        assert!(!StandardHasher.verify("nope", &scrypt).unwrap().ok);

        // Django's format, computed independently here.
        let mut out = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(b"pw-django", b"saltsalt", 1000, &mut out);
        let django = format!(
            "pbkdf2_sha256$1000$saltsalt${}",
            base64::engine::general_purpose::STANDARD.encode(out)
        );
        assert!(StandardHasher.verify("pw-django", &django).unwrap().ok);
        assert!(!StandardHasher.verify("nope", &django).unwrap().ok);
    }

    #[test]
    fn hostile_hashes_are_refused() {
        assert!(inspect("plaintext").is_err());
        assert!(inspect("$md5$abc").is_err());
        assert!(inspect("pbkdf2_sha256$999999999$salt$AAAA").is_err());
        assert!(inspect("$scrypt$ln=30,r=8,p=1$c2FsdA$AAAA").is_err());
    }

    #[test]
    fn policy_lists_everything_missing() {
        let p = PasswordPolicy::default();
        let e = check_policy(&p, "abc").unwrap_err();
        assert_eq!(
            e.missing,
            vec![
                "at least 8 characters",
                "an uppercase letter",
                "a number",
                "a symbol"
            ]
        );
        assert!(e.to_string().contains("an uppercase letter"));
        assert!(check_policy(&p, "Abcdefg1!").is_ok());
    }
}
