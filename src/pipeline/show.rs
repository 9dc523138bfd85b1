//! What `sqlvault show` tells about one restore point: where it came from,
//! what it depends on, which versions wrote it, its streams and the
//! fingerprint of every table.

use crate::policy::BackupKind;
use crate::repo::ids::PointId;
use crate::repo::point::{Fingerprints, RestorePoint};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Serialize)]
pub struct PointDescription {
    pub id: String,
    pub created_at: String,
    pub hostname: String,
    pub engine: String,
    pub database: String,
    pub source: String,
    pub kind: BackupKind,
    pub depends_on: Option<String>,
    /// Bytes of all streams (what a restore writes).
    pub size: u64,
    /// Bytes the backup added to the repository.
    pub bytes_stored: u64,
    /// Engine and tool versions: `sqlite`; `server`, `pg_dump`; `sqlvault`.
    pub versions: BTreeMap<String, String>,
    pub streams: Vec<StreamDescription>,
    /// Absent for points written before fingerprints existed.
    pub fingerprints: Option<Fingerprints>,
    /// Where a MariaDB backup's snapshot stands in the server's binary log
    /// (`file`, `position`, `gtid`): where point-in-time recovery goes on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binlog: Option<serde_json::Value>,
    /// A package's tables whose rows were stored but not fingerprinted,
    /// and why (`table`, `reason`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_fingerprinted: Vec<crate::engine::bacpac::NotFingerprinted>,
    /// "no fingerprints (written by an earlier version)" for those.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct StreamDescription {
    pub name: String,
    pub size: u64,
    pub chunks: usize,
}

pub const NO_FINGERPRINTS: &str = "no fingerprints (written by an earlier version)";

pub fn describe(id: &PointId, p: &RestorePoint) -> PointDescription {
    let mut versions = BTreeMap::new();
    let text = |k: &str| p.meta.get(k).and_then(|v| v.as_str()).map(str::to_string);
    for (key, name) in [
        ("sqlite_version", "sqlite"),
        ("server_version", "server"),
        ("pg_dump_version", "pg_dump"),
        ("dump_version", "mariadb-dump"),
        ("exporter_version", "DacFx"),
    ] {
        if let Some(v) = text(key) {
            versions.insert(name.to_string(), v);
        }
    }
    if let Some(w) = &p.written_by {
        versions.insert(
            "sqlvault".into(),
            w.trim_start_matches("sqlvault ").to_string(),
        );
    }
    PointDescription {
        id: id.to_hex(),
        created_at: p.created_at.clone(),
        hostname: p.hostname.clone(),
        engine: p.engine.clone(),
        database: p.database.clone(),
        source: p.source.clone(),
        kind: p.kind,
        depends_on: p.depends_on.as_ref().map(|d| d.to_hex()),
        size: p.size(),
        bytes_stored: p.stats.bytes_stored,
        versions,
        streams: p
            .streams
            .iter()
            .map(|s| StreamDescription {
                name: s.name.clone(),
                size: s.size,
                chunks: s.chunks.len(),
            })
            .collect(),
        fingerprints: p.fingerprints.clone(),
        binlog: p.meta.get("binlog").filter(|b| b.is_object()).cloned(),
        not_fingerprinted: p
            .meta
            .get("not_fingerprinted")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default(),
        note: p
            .fingerprints
            .is_none()
            .then(|| NO_FINGERPRINTS.to_string()),
    }
}
