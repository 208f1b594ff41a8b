#!/bin/sh
# Makes common-passwords.txt.gz from the zxcvbn crate's password frequency list (MIT
# licence, Copyright (c) 2016 Joshua Holmer; the list itself comes from Dropbox's zxcvbn,
# MIT). Run once, from this directory, after `cargo fetch` of any project depending on
# zxcvbn 3.1.1 (the crate is not a dependency of Cognate).
set -eu
src=$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/zxcvbn-3.1.1 | head -n 1)
grep '^const PASSWORDS: &str = "' "$src/src/frequency_lists.rs" \
  | sed -e 's/^const PASSWORDS: &str = "//' -e 's/";$//' -e "s/\\\\'/'/g" \
  | tr ',' '\n' | LC_ALL=C sort -u | gzip -9n > common-passwords.txt.gz
