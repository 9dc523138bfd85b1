//! What a physical restore point records about its base backup.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tablespace {
    pub oid: String,
    /// Where it lived on the server.
    pub location: String,
}

/// The `meta` of a `postgres-physical` restore point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhysicalMeta {
    /// The log archive's cluster name in the repository.
    pub cluster: String,
    pub system_identifier: String,
    /// `server_version_num` (150014).
    pub server_version: u32,
    pub seg_size: u64,
    /// Timeline and WAL location where the backup started (its redo point).
    pub timeline: u32,
    pub start_lsn: String,
    /// Where recovery becomes consistent.
    pub stop_lsn: String,
    pub stop_timeline: u32,
    pub started_at: String,
    /// Times before this cannot be reached from this backup.
    pub stopped_at: String,
    pub tablespaces: Vec<Tablespace>,
    /// Directories, `data/...` or `tablespaces/<oid>/...`, in tar order.
    pub dirs: Vec<String>,
}

impl PhysicalMeta {
    pub fn major(&self) -> u32 {
        self.server_version / 10000
    }
}
