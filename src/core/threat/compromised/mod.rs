//! Compromised passwords (NIST SP 800-63B 5.1.1.2: a new password is checked against
//! "passwords obtained from previous breach corpuses" and "commonly-used passwords"), as
//! Cognito's compromised-credentials detection does for a pool with threat protection:
//!
//! - the built-in list of the 30,000 most common passwords ([`is_common`]), matched
//!   without regard to case (after NFKC normalisation);
//! - optionally the operator's breached-password corpus ([`corpus`], `[server]
//!   breached_password_corpus`), looked up on tokio's blocking pool.
//!
//! The list is zxcvbn's password frequency list (the `zxcvbn` crate 3.1.1, MIT licence,
//! Copyright (c) 2016 Joshua Holmer; the list is Dropbox's zxcvbn's, MIT), extracted once by
//! `make-common-passwords.sh` into `common-passwords.txt.gz`, embedded and decompressed on
//! first use (30,000 entries, about 2 MB in memory).
//!
//! Where the pool's `compromised_passwords` applies it is the directory's business
//! ([`Directory::check_new_password`](crate::core::directory::Directory::check_new_password)
//! and [`Directory::reset_if_compromised`](crate::core::directory::Directory::reset_if_compromised)).

pub mod corpus;

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use unicode_normalization::UnicodeNormalization;

use crate::core::secrets::SecretString;

pub use corpus::{Corpus, CorpusError, CorpusFormat};

/// The gzip-compressed list, one lower-case password a line.
static COMMON_GZ: &[u8] = include_bytes!("common-passwords.txt.gz");

fn common() -> &'static HashSet<String> {
    static LIST: OnceLock<HashSet<String>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut text = String::new();
        // The embedded file is part of the build: a failure here is a broken build, and
        // an empty list only weakens the check (the test below guards the size).
        if flate2::read::GzDecoder::new(COMMON_GZ)
            .read_to_string(&mut text)
            .is_err()
        {
            tracing::error!("the embedded common-password list does not decompress");
        }
        text.lines()
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect()
    })
}

/// Whether `password` is one of the common passwords, ignoring case (after NFKC, so a
/// full-width or compatibility spelling of a listed password matches too).
pub fn is_common(password: &str) -> bool {
    let normalized: String = password.nfkc().collect::<String>().to_lowercase();
    common().contains(&normalized)
}

/// The number of entries in the built-in list.
pub fn common_list_len() -> usize {
    common().len()
}

/// The compromised-password check of a node: the built-in list and, when the operator
/// configured one, the breached-password corpus.
#[derive(Debug, Clone, Default)]
pub struct CompromisedCheck {
    corpus: Option<Arc<Corpus>>,
}

impl CompromisedCheck {
    /// The built-in list and the corpus at `path`, when there is one (checked now: a
    /// missing path or a file that does not read as `format` is an error).
    pub fn open(path: Option<&Path>, format: CorpusFormat) -> Result<Self, CorpusError> {
        let corpus = match path {
            Some(path) => Some(Arc::new(Corpus::open(path, format)?)),
            None => None,
        };
        Ok(CompromisedCheck { corpus })
    }

    /// Whether a corpus is configured.
    pub fn has_corpus(&self) -> bool {
        self.corpus.is_some()
    }

    /// Whether `password` is common or in the corpus. A corpus that cannot be read is
    /// logged and counts as "not found" (the list still applies): a broken disk must not
    /// stop every sign-up.
    pub async fn is_compromised(&self, password: &SecretString) -> bool {
        if is_common(password.expose()) {
            return true;
        }
        let Some(corpus) = self.corpus.clone() else {
            return false;
        };
        let password = password.clone();
        match tokio::task::spawn_blocking(move || corpus.contains_password(password.expose())).await
        {
            Ok(Ok(found)) => found,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "breached password corpus lookup failed");
                false
            }
            Err(e) => {
                tracing::error!(error = %e, "breached password corpus lookup did not finish");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_embedded_whole() {
        assert!(common_list_len() >= 30_000, "{}", common_list_len());
    }

    #[test]
    fn common_passwords_match_without_regard_to_case_or_width() {
        assert!(is_common("password"));
        assert!(is_common("PassWord1"));
        assert!(is_common("qwerty123"));
        // Full-width letters fold to ASCII under NFKC.
        assert!(is_common("ｐａｓｓｗｏｒｄ"));
        assert!(!is_common("correct horse battery staple 9431"));
        assert!(!is_common(""));
    }
}
