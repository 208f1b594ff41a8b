#!/usr/bin/env bash
# Fuzz the SAML response verifier and the IdP metadata parser with AFL++ (cargo-afl, stable
# toolchain), then print executions and findings.
#
#   fuzz/run.sh [minutes]      # default 10; both targets run side by side that long
#
# Needs: `cargo install cargo-afl && cargo afl config --build` (once per toolchain).
# Targets (fuzz_targets/): `response` feeds each input to response::verify base64-encoded
# and as the form value itself; `metadata` feeds it to metadata::parse (fuzz/src/lib.rs).
# Seeds: corpus/<target>/ (python3 fuzz/make_corpus.py regenerates them with xmlsec1).
# Each run writes AFL's state to out/<UTC stamp>/ (not committed) and copies every crash
# and hang to crashes/<target>/, which `cargo test --test it saml::fuzz_corpus` replays:
# commit them with the fix.
#
# Environment: AFL_OPT_LEVEL (default 1 here: the targets pull in all of Cognate, and a
# build at 3 with cargo-afl's single codegen unit takes long on a small machine);
# FUZZ_TIMEOUT_MS (default 5000: one input taking longer is saved as a hang).
set -euo pipefail

minutes="${1:-10}"
case "$minutes" in
    '' | *[!0-9]*) echo "usage: $0 [minutes]" >&2; exit 2 ;;
esac
[ "$minutes" -ge 1 ] || { echo "minutes must be at least 1" >&2; exit 2; }
cd "$(dirname "$0")"

if ! cargo afl --version >/dev/null 2>&1; then
    echo "cargo-afl is missing: cargo install cargo-afl && cargo afl config --build" >&2
    exit 2
fi

targets=(response metadata)
echo "== building the targets (cargo afl build --release)"
AFL_OPT_LEVEL="${AFL_OPT_LEVEL:-1}" cargo afl build --release --bins

secs=$((minutes * 60))
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
out="out/$stamp"
mkdir -p "$out"
# No CPU pinning (shared machines), no curses UI, no core-dump handler required.
export AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1

echo "== fuzzing ${targets[*]} for $minutes minute(s) each, side by side; logs in fuzz/$out"
pids=()
for t in "${targets[@]}"; do
    cargo afl fuzz -V "$secs" -t "${FUZZ_TIMEOUT_MS:-5000}" \
        -i "corpus/$t" -o "$out/$t" -- "target/release/$t" >"$out/$t.log" 2>&1 &
    pids+=("$!")
done
status=0
for p in "${pids[@]}"; do
    wait "$p" || status=$?
done

stat() { sed -n "s/^$2 *: *//p" "$out/$1/default/fuzzer_stats" 2>/dev/null; }
findings=0
echo "== results ($stamp)"
for t in "${targets[@]}"; do
    if [ ! -f "$out/$t/default/fuzzer_stats" ]; then
        echo "$t: afl-fuzz did not run; see fuzz/$out/$t.log:"
        tail -n 20 "$out/$t.log"
        status=1
        continue
    fi
    printf '%s: %s executions in %s s (%s/s), corpus %s, coverage %s, crashes %s, hangs %s\n' \
        "$t" "$(stat "$t" execs_done)" "$(stat "$t" run_time)" "$(stat "$t" execs_per_sec)" \
        "$(stat "$t" corpus_count)" "$(stat "$t" bitmap_cvg)" \
        "$(stat "$t" saved_crashes)" "$(stat "$t" saved_hangs)"
    for kind in crashes hangs; do
        for f in "$out/$t/default/$kind"/id:*; do
            [ -e "$f" ] || continue
            mkdir -p "crashes/$t"
            id="$(basename "$f" | sed 's/^id:\([0-9]*\).*/\1/')"
            dest="crashes/$t/$kind-$stamp-$id"
            cp "$f" "$dest"
            echo "  finding: fuzz/$dest"
            findings=$((findings + 1))
        done
    done
done
echo "== $findings finding(s)"
[ "$findings" -eq 0 ] || status=1
exit "$status"
