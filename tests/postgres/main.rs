//! The PostgreSQL tests that share one private cluster (see `pg_common`),
//! one binary, so the cluster starts once and the helpers are built once.
//! Discovery and auto-protection, which count every database of the
//! cluster, keep binaries of their own.

#[path = "../common/mod.rs"]
mod common;
#[path = "../pg_common/mod.rs"]
mod pg_common;

mod bad_input;
mod disk_full;
mod pitr;
mod roundtrip;
mod standby;
