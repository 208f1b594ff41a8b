use super::*;

/// A sorted single-file corpus of `lines`, in a fresh directory.
fn sorted_file(lines: &[String]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pwned.txt");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (dir, path)
}

/// Hashes of `n` made-up passwords, sorted, as `HASH:count` lines (count i + 1).
fn sample(format: CorpusFormat, n: usize) -> (Vec<String>, Vec<String>) {
    let mut hashes: Vec<String> = (0..n)
        .map(|i| format.hash_hex(&format!("pw-{i}")))
        .collect();
    hashes.sort();
    let lines = hashes
        .iter()
        .enumerate()
        .map(|(i, h)| format!("{h}:{}", i + 1))
        .collect();
    (hashes, lines)
}

#[test]
fn known_hashes_of_both_formats() {
    // SHA-1("password") and NTLM("password"), as published.
    assert_eq!(
        CorpusFormat::Sha1.hash_hex("password"),
        "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8"
    );
    assert_eq!(
        CorpusFormat::Ntlm.hash_hex("password"),
        "8846F7EAEE8FB117AD06BDD830B7586C"
    );
}

#[test]
fn every_line_of_a_sorted_file_is_found_first_and_last_included() {
    for n in [1, 2, 3, 7, 500] {
        let (hashes, lines) = sample(CorpusFormat::Sha1, n);
        let (_dir, path) = sorted_file(&lines);
        let corpus = Corpus::open(&path, CorpusFormat::Sha1).unwrap();
        for h in &hashes {
            assert!(corpus.contains_hash(h).unwrap(), "{n}: {h}");
            assert!(corpus.contains_hash(&h.to_lowercase()).unwrap());
        }
        for miss in [
            "0".repeat(40),
            "F".repeat(40),
            format!("{}0", &hashes[0][..39]),
        ] {
            if !hashes.contains(&miss) {
                assert!(!corpus.contains_hash(&miss).unwrap(), "{n}: {miss}");
            }
        }
        assert!(corpus.contains_password(&format!("pw-{}", n - 1)).unwrap());
        assert!(!corpus.contains_password("not in it").unwrap());
    }
}

#[test]
fn crlf_lines_no_final_newline_and_zero_counts() {
    let (hashes, _) = sample(CorpusFormat::Sha1, 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crlf.txt");
    // Count 0 (the range API's padding) is no hit; no newline after the last line.
    let text = format!(
        "{}:3\r\n{}:0\r\n{}:12\r\n{}:1",
        hashes[0], hashes[1], hashes[2], hashes[3]
    );
    std::fs::write(&path, text).unwrap();
    let corpus = Corpus::open(&path, CorpusFormat::Sha1).unwrap();
    assert!(corpus.contains_hash(&hashes[0]).unwrap());
    assert!(!corpus.contains_hash(&hashes[1]).unwrap());
    assert!(corpus.contains_hash(&hashes[2]).unwrap());
    assert!(corpus.contains_hash(&hashes[3]).unwrap());
}

#[test]
fn garbage_lines_neither_panic_nor_match() {
    let (hashes, mut lines) = sample(CorpusFormat::Sha1, 50);
    lines.insert(20, "not a hash at all".into());
    lines.insert(30, "x".repeat(1000));
    lines.insert(40, String::new());
    let (_dir, path) = sorted_file(&lines);
    let corpus = Corpus::open(&path, CorpusFormat::Sha1).unwrap();
    // A search may be misled by garbage in a sorted file, but it ends and never invents a
    // hit; the lines away from the garbage are still found.
    assert!(corpus.contains_hash(&hashes[0]).unwrap());
    assert!(corpus.contains_hash(&hashes[49]).unwrap());
    assert!(!corpus.contains_hash("Z".repeat(40).as_str()).unwrap());
    assert!(!corpus.contains_hash("short").unwrap());
}

#[test]
fn ntlm_single_file() {
    let (hashes, lines) = sample(CorpusFormat::Ntlm, 100);
    let (_dir, path) = sorted_file(&lines);
    let corpus = Corpus::open(&path, CorpusFormat::Ntlm).unwrap();
    assert!(hashes.iter().all(|h| corpus.contains_hash(h).unwrap()));
    assert!(corpus.contains_password("pw-42").unwrap());
    assert!(!corpus.contains_password("pw-100").unwrap());
    // An NTLM corpus is not a SHA-1 one: the first line says so.
    let err = Corpus::open(&path, CorpusFormat::Sha1).unwrap_err();
    assert!(err.to_string().contains("40 hex digits"), "{err}");
}

#[test]
fn range_directory_opens_only_the_prefix_file() {
    let (hashes, _) = sample(CorpusFormat::Sha1, 30);
    let dir = tempfile::tempdir().unwrap();
    let mut files: std::collections::BTreeMap<String, String> = Default::default();
    for (i, h) in hashes.iter().enumerate() {
        let count = if i == 5 { 0 } else { i + 1 };
        files
            .entry(h[..5].to_string())
            .or_default()
            .push_str(&format!("{}:{count}\r\n", &h[5..]));
    }
    for (prefix, text) in &files {
        std::fs::write(dir.path().join(format!("{prefix}.txt")), text).unwrap();
    }
    let corpus = Corpus::open(dir.path(), CorpusFormat::Sha1).unwrap();
    for (i, h) in hashes.iter().enumerate() {
        assert_eq!(corpus.contains_hash(h).unwrap(), i != 5, "{h}");
    }
    // A prefix without a file is simply absent.
    let missing = (0..=0xFFFFFu32)
        .map(|p| format!("{p:05X}"))
        .find(|p| !files.contains_key(p))
        .unwrap();
    assert!(!corpus
        .contains_hash(&format!("{missing}{}", "0".repeat(35)))
        .unwrap());
    // Lower-case file names are read too.
    let lower = tempfile::tempdir().unwrap();
    let (prefix, text) = files.iter().next().unwrap();
    std::fs::write(
        lower.path().join(format!("{}.txt", prefix.to_lowercase())),
        text,
    )
    .unwrap();
    let corpus = Corpus::open(lower.path(), CorpusFormat::Sha1).unwrap();
    let first = hashes
        .iter()
        .find(|h| h.starts_with(prefix.as_str()))
        .unwrap();
    assert!(corpus.contains_hash(first).unwrap());
}

#[test]
fn unusable_corpora_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let err = Corpus::open(&dir.path().join("nope"), CorpusFormat::Sha1).unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    // A directory with no range file.
    std::fs::write(dir.path().join("README"), "hi").unwrap();
    let err = Corpus::open(dir.path(), CorpusFormat::Sha1).unwrap_err();
    assert!(err.to_string().contains("no range file"), "{err}");
    // An empty file, and a file of something else.
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    assert!(Corpus::open(&empty, CorpusFormat::Sha1).is_err());
    let other = dir.path().join("other.txt");
    std::fs::write(&other, "hello world\n").unwrap();
    let err = Corpus::open(&other, CorpusFormat::Sha1).unwrap_err();
    assert!(err.to_string().contains("first line"), "{err}");
}
