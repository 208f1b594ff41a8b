//! Cognate's integration tests: one binary (each extra file under tests/ is another slow
//! link), modules by area. Tests drive the real server over real HTTP on 127.0.0.1 and the
//! real `cognate` binary; PostgreSQL tests run when `COGNATE_TEST_DATABASE_URL` is set.

mod conformance;
mod support;
mod server;
mod keys;
mod passwords;
mod multinode;
mod secrets;
mod cli;
