//! The black-box tests of the binary on SQLite databases and local
//! repositories, one binary, so that their helpers are built once.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod concurrent;
mod crash;
mod delta_chains;
mod format_compat;
mod policy;
mod repair;
mod roundtrip;
mod trust;
