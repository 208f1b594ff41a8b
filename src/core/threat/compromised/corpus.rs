//! The operator's breached-password corpus, in the Pwned Passwords formats
//! (<https://haveibeenpwned.com/API/v3#PwnedPasswords> and the PwnedPasswordsDownloader):
//!
//! - a directory of range files `<5 hex prefix>.txt` whose lines are
//!   `<rest of the hash>:<count>` (the range API's answer, the downloader's per-prefix mode);
//! - one file of `<whole hash>:<count>` lines sorted by hash (the downloader's single-file
//!   mode).
//!
//! Hashes are SHA-1 (40 hex digits) or NTLM (MD4 of the UTF-16LE password, 32 hex digits),
//! upper case as published (lower case is read too). Nothing is loaded into memory: a
//! lookup opens only its prefix's range file, or binary-searches the single file with
//! positioned reads (about 30 reads of 256 bytes for a billion-line file). A count of 0
//! (the range API's padding lines) is not a hit.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The hash the corpus holds (`[server] breached_password_corpus_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CorpusFormat {
    /// SHA-1 of the UTF-8 password (Pwned Passwords' default).
    #[default]
    Sha1,
    /// NTLM: MD4 of the UTF-16LE password (the downloader's `-n`).
    Ntlm,
}

impl CorpusFormat {
    /// The hash of `password` in upper-case hex, as the corpus spells it.
    pub fn hash_hex(self, password: &str) -> String {
        use sha1::Digest;
        let bytes: Vec<u8> = match self {
            CorpusFormat::Sha1 => sha1::Sha1::digest(password.as_bytes()).to_vec(),
            CorpusFormat::Ntlm => {
                let utf16: Vec<u8> = password.encode_utf16().flat_map(u16::to_le_bytes).collect();
                md4::Md4::digest(&utf16).to_vec()
            }
        };
        let mut hex = String::with_capacity(bytes.len() * 2);
        for b in bytes {
            hex.push_str(&format!("{b:02X}"));
        }
        hex
    }

    /// Hex digits in a whole hash.
    pub fn hex_len(self) -> usize {
        match self {
            CorpusFormat::Sha1 => 40,
            CorpusFormat::Ntlm => 32,
        }
    }
}

/// Hex digits naming a range file.
const PREFIX_LEN: usize = 5;
/// Bytes read at a time when searching the single file (a line is at most 32 + 1 + 20 + 2).
const CHUNK: usize = 256;

/// Why the corpus cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("breached password corpus {path}: {reason}")]
    Unusable { path: String, reason: String },
    #[error("reading the breached password corpus: {0}")]
    Io(#[from] std::io::Error),
}

fn unusable(path: &Path, reason: impl Into<String>) -> CorpusError {
    CorpusError::Unusable {
        path: path.display().to_string(),
        reason: reason.into(),
    }
}

/// An opened corpus.
#[derive(Debug)]
pub struct Corpus {
    format: CorpusFormat,
    layout: Layout,
}

#[derive(Debug)]
enum Layout {
    Ranges(PathBuf),
    Sorted { file: File, len: u64 },
}

impl Corpus {
    /// Opens the corpus at `path` and checks that it reads as `format` (a clear error for
    /// check-config and start-up otherwise).
    pub fn open(path: &Path, format: CorpusFormat) -> Result<Corpus, CorpusError> {
        let meta = std::fs::metadata(path).map_err(|e| unusable(path, e.to_string()))?;
        let layout = if meta.is_dir() {
            Layout::Ranges(path.to_path_buf())
        } else {
            let file = File::open(path).map_err(|e| unusable(path, e.to_string()))?;
            Layout::Sorted {
                file,
                len: meta.len(),
            }
        };
        let corpus = Corpus { format, layout };
        corpus.check(path)?;
        Ok(corpus)
    }

    /// Reads one sample line and checks its shape.
    fn check(&self, path: &Path) -> Result<(), CorpusError> {
        let (sample, key_len, shown) = match &self.layout {
            Layout::Ranges(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|e| unusable(path, e.to_string()))?;
                let mut found = None;
                for entry in entries.flatten() {
                    let name = entry.file_name();
                    let name = name.to_string_lossy();
                    if range_file_prefix(&name).is_some() {
                        found = Some(entry.path());
                        break;
                    }
                }
                let Some(file) = found else {
                    return Err(unusable(
                        path,
                        "the directory holds no range file (<5 hex digits>.txt)",
                    ));
                };
                let mut text = String::new();
                File::open(&file)
                    .and_then(|f| f.take(4096).read_to_string(&mut text))
                    .map_err(|e| unusable(&file, e.to_string()))?;
                let first = text.lines().next().unwrap_or("").to_string();
                (
                    first,
                    self.format.hex_len() - PREFIX_LEN,
                    file.display().to_string(),
                )
            }
            Layout::Sorted { file, len } => {
                if *len == 0 {
                    return Err(unusable(path, "the file is empty"));
                }
                let mut buf = [0u8; CHUNK];
                let n = read_at_most(file, &mut buf, 0)?;
                let first = String::from_utf8_lossy(line_of(&buf[..n])).into_owned();
                (first, self.format.hex_len(), path.display().to_string())
            }
        };
        match parse_line(sample.as_bytes()) {
            Some((key, _)) if key.len() == key_len && key.iter().all(u8::is_ascii_hexdigit) => {
                Ok(())
            }
            _ => Err(CorpusError::Unusable {
                path: shown,
                reason: format!(
                    "the first line is not `<{key_len} hex digits>:<count>` ({} hashes are {} hex digits; \
                     set breached_password_corpus_format to match the corpus)",
                    match self.format {
                        CorpusFormat::Sha1 => "SHA-1",
                        CorpusFormat::Ntlm => "NTLM",
                    },
                    self.format.hex_len()
                ),
            }),
        }
    }

    pub fn format(&self) -> CorpusFormat {
        self.format
    }

    /// Whether `password` is in the corpus with a count above 0. Blocking file reads: run
    /// it off the async workers.
    pub fn contains_password(&self, password: &str) -> Result<bool, CorpusError> {
        self.contains_hash(&self.format.hash_hex(password))
    }

    /// Whether the upper-case hex `hash` is in the corpus with a count above 0.
    pub fn contains_hash(&self, hash: &str) -> Result<bool, CorpusError> {
        let hash = hash.as_bytes();
        if hash.len() != self.format.hex_len() {
            return Ok(false);
        }
        match &self.layout {
            Layout::Ranges(dir) => range_lookup(dir, hash),
            Layout::Sorted { file, len } => sorted_lookup(file, *len, hash),
        }
    }
}

/// `ABCDE` for `ABCDE.txt` (or `abcde.txt`).
fn range_file_prefix(name: &str) -> Option<&str> {
    let prefix = name.strip_suffix(".txt")?;
    (prefix.len() == PREFIX_LEN && prefix.bytes().all(|b| b.is_ascii_hexdigit())).then_some(prefix)
}

/// Looks the hash up in its prefix's range file (a few hundred lines; absent means no
/// hash has that prefix).
fn range_lookup(dir: &Path, hash: &[u8]) -> Result<bool, CorpusError> {
    let (prefix, suffix) = hash.split_at(PREFIX_LEN);
    let prefix = String::from_utf8_lossy(prefix);
    let mut text = Vec::new();
    let mut opened = false;
    for name in [prefix.to_uppercase(), prefix.to_lowercase()] {
        match File::open(dir.join(format!("{name}.txt"))) {
            Ok(mut f) => {
                f.read_to_end(&mut text)?;
                opened = true;
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e.into()),
        }
    }
    if !opened {
        return Ok(false);
    }
    Ok(text
        .split(|&b| b == b'\n')
        .filter_map(parse_line)
        .any(|(key, count)| key.eq_ignore_ascii_case(suffix) && count > 0))
}

/// Binary search over byte offsets of the sorted file. Invariant: the line holding `hash`,
/// if any, starts in `[lo, hi)`. Each step reads the first line starting at or after the
/// middle offset; lines are at most [`CHUNK`] bytes (longer ones are garbage and compare
/// by their first bytes).
fn sorted_lookup(file: &File, len: u64, hash: &[u8]) -> Result<bool, CorpusError> {
    let mut lo = 0u64;
    let mut hi = len;
    let mut buf = [0u8; CHUNK];
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let Some(start) = line_start_at_or_after(file, mid, len, &mut buf)? else {
            hi = mid;
            continue;
        };
        if start >= hi {
            hi = mid;
            continue;
        }
        let n = read_at_most(file, &mut buf, start)?;
        let line = line_of(&buf[..n]);
        let key = line.split(|&b| b == b':').next().unwrap_or(line);
        match compare_hex(key, hash) {
            std::cmp::Ordering::Equal => {
                return Ok(parse_line(line).is_some_and(|(_, count)| count > 0));
            }
            std::cmp::Ordering::Less => lo = start + line.len() as u64 + 1,
            std::cmp::Ordering::Greater => hi = mid,
        }
    }
    Ok(false)
}

/// The offset of the first line starting at or after `pos` (a line starts at 0 or after a
/// newline), or `None` at the end of the file.
fn line_start_at_or_after(
    file: &File,
    pos: u64,
    len: u64,
    buf: &mut [u8; CHUNK],
) -> Result<Option<u64>, CorpusError> {
    if pos == 0 {
        return Ok(Some(0));
    }
    // The byte before `pos` may be the newline that ends the previous line.
    let mut at = pos - 1;
    while at < len {
        let n = read_at_most(file, buf, at)?;
        if n == 0 {
            break;
        }
        if let Some(i) = buf[..n].iter().position(|&b| b == b'\n') {
            let start = at + i as u64 + 1;
            return Ok((start < len).then_some(start));
        }
        at += n as u64;
    }
    Ok(None)
}

/// Reads up to `buf.len()` bytes at `offset` (fewer only at the end of the file).
fn read_at_most(file: &File, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The bytes up to the first newline.
fn line_of(bytes: &[u8]) -> &[u8] {
    match bytes.iter().position(|&b| b == b'\n') {
        Some(i) => &bytes[..i],
        None => bytes,
    }
}

/// `<hex>:<count>` (a trailing `\r` allowed), or `None` for anything else.
fn parse_line(line: &[u8]) -> Option<(&[u8], u64)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let colon = line.iter().position(|&b| b == b':')?;
    let (key, count) = (&line[..colon], &line[colon + 1..]);
    if key.is_empty() || !key.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let count = std::str::from_utf8(count).ok()?.trim().parse().ok()?;
    Some((key, count))
}

/// Compares hex digits case-insensitively (the corpus is sorted in upper case).
fn compare_hex(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    a.iter()
        .map(u8::to_ascii_uppercase)
        .cmp(b.iter().map(u8::to_ascii_uppercase))
}

#[cfg(test)]
mod tests;
