//! Issue 17's figure: the breached-password corpus lookup's latency. Writes a sorted
//! single-file SHA-1 corpus of `BENCH_CORPUS_ENTRIES` (default 10,000,000) random
//! `<40 hex>:<count>` lines, in the Pwned Passwords downloader's single-file format, to a
//! temporary directory (about 45 bytes a line), then times 100,000 lookups (half hits,
//! half misses, shuffled) through the same reader the server uses, and prints p50, p99,
//! max and the file size. The file is generated sorted (increasing random gaps in the top
//! 64 bits), so nothing is held in memory but the sampled hits.

use std::io::{BufWriter, Write};
use std::time::Instant;

use cognate::core::threat::compromised::{Corpus, CorpusFormat};

const LOOKUPS: usize = 100_000;

/// xorshift64*: test data, not security.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn hex_hash(top: u64, mid: u64, low: u32) -> String {
    format!("{top:016X}{mid:016X}{low:08X}")
}

pub fn figures() {
    let entries: u64 = std::env::var("BENCH_CORPUS_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("pwned-passwords-sha1-ordered-by-hash.txt");
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let step = u64::MAX / entries;
    let every = (entries / (LOOKUPS as u64 / 2)).max(1);
    let mut hits = Vec::with_capacity(LOOKUPS / 2);
    let started = Instant::now();
    {
        let file = std::fs::File::create(&path).expect("corpus file");
        let mut out = BufWriter::with_capacity(1 << 20, file);
        for i in 0..entries {
            let top = i * step + rng.next() % step;
            let hash = hex_hash(top, rng.next(), rng.next() as u32);
            writeln!(out, "{hash}:{}", 1 + rng.next() % 1000).expect("write");
            if i % every == 0 && hits.len() < LOOKUPS / 2 {
                hits.push(hash);
            }
        }
        out.flush().expect("flush");
    }
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!(
        "corpus: {entries} entries, {:.1} MB, written in {:.1} s",
        size as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let corpus = Corpus::open(&path, CorpusFormat::Sha1).expect("the corpus opens");
    // Misses: random hashes (a collision with 10^7 random 160-bit values is impossible in
    // practice; each is checked anyway).
    let mut queries: Vec<(String, bool)> = hits.into_iter().map(|h| (h, true)).collect();
    while queries.len() < LOOKUPS {
        let h = hex_hash(rng.next(), rng.next(), rng.next() as u32);
        queries.push((h, false));
    }
    for i in (1..queries.len()).rev() {
        let j = (rng.next() % (i as u64 + 1)) as usize;
        queries.swap(i, j);
    }
    // One pass to warm the page cache (the server's steady state), then the timed pass.
    for (hash, _) in queries.iter().take(1000) {
        let _ = corpus.contains_hash(hash);
    }
    let mut times = Vec::with_capacity(queries.len());
    let mut wrong = 0;
    for (hash, expected) in &queries {
        let t = Instant::now();
        let found = corpus.contains_hash(hash).expect("lookup");
        times.push(t.elapsed());
        if found != *expected {
            wrong += 1;
        }
    }
    assert_eq!(wrong, 0, "lookups answered wrongly");
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "corpus lookup ({} lookups, half hits): p50 {:.1} us, p99 {:.1} us, max {:.1} us",
        times.len(),
        pct(0.50).as_secs_f64() * 1e6,
        pct(0.99).as_secs_f64() * 1e6,
        times.last().map(|d| d.as_secs_f64() * 1e6).unwrap_or(0.0)
    );
}
