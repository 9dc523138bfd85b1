//! sqlvault: backups of SQL databases into an encrypted, deduplicating
//! repository, and proven restores.
//!
//! Dependencies point one way: `cli` → [`pipeline`] → ([`engine`], [`repo`]);
//! [`repo`] → [`storage`].

pub mod engine;
pub mod error;
pub mod interrupt;
pub mod leftovers;
pub mod pipeline;
pub mod policy;
pub mod progress;
pub mod repo;
pub mod storage;
pub mod util;
pub mod worker;

pub use error::{Error, Kind, Result};
