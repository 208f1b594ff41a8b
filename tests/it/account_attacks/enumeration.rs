//! Answers that never tell who exists (issue 8, hole 6).

use super::on_both_engines;

on_both_engines!();
