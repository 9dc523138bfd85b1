//! The MariaDB tests, one binary: they share one private server (see
//! `mariadb_common`), each in databases of its own, so the server starts
//! once and the helpers are built once. The standby test keeps a binary of
//! its own: its replica must see no other test's writes.

#[path = "../common/mod.rs"]
mod common;
#[path = "../mariadb_common/mod.rs"]
mod mariadb_common;

mod discover;
mod roundtrip;
mod rows;
mod snapshot;
mod tls;
