//! A reset by code signs the user out everywhere (issue 8, hole 9).

use super::on_both_engines;

on_both_engines!();
