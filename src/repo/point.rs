//! Restore point manifests: which streams make up one backup, and their
//! chunks. Written last, so a restore point exists completely or not at all.

use super::Repository;
use super::format::ObjectKind;
use super::ids::{ChunkId, PointId};
use crate::error::{Error, Result};
use crate::policy::BackupKind;
use serde::{Deserialize, Serialize};

pub const POINTS_DIR: &str = "points/";

/// One named stream of a backup (a database file, a schema part, a table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamEntry {
    pub name: String,
    pub size: u64,
    /// Chunk ids with their plaintext lengths, in stream order.
    pub chunks: Vec<(ChunkId, u32)>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointStats {
    pub bytes_read: u64,
    pub bytes_new: u64,
    pub bytes_stored: u64,
    pub chunks: u64,
    pub chunks_new: u64,
    pub duration_secs: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestorePoint {
    pub created_at: String,
    pub hostname: String,
    /// Engine that wrote it (`sqlite`).
    pub engine: String,
    /// The database's name, as the user would call it (file stem for SQLite).
    pub database: String,
    /// Where it came from, with any password removed.
    pub source: String,
    /// Engine-specific facts needed to restore (page size, versions).
    pub meta: serde_json::Value,
    pub streams: Vec<StreamEntry>,
    pub stats: PointStats,
    /// Full, differential or log, as the policy scheduled it.
    #[serde(default = "full")]
    pub kind: BackupKind,
    /// The point a differential or log backup is restored together with
    /// (retention keeps it as long as this one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depends_on: Option<PointId>,
    /// Per-table fingerprints taken while the data was read; absent in
    /// points written before format version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprints: Option<Fingerprints>,
    /// The sqlvault that wrote it (`sqlvault 0.2.0`); absent before version 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_by: Option<String>,
    /// The id of the queued job a worker made it for, so that a job taken
    /// twice still makes one point; absent in points made in-process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
}

/// What kind of object a fingerprint covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FingerprintKind {
    /// A table (SQLite table, PostgreSQL table or leaf partition).
    Table,
    /// All large objects of a PostgreSQL database, as one entry.
    LargeObjects,
    /// A sequence's value.
    Sequence,
}

impl FingerprintKind {
    pub fn noun(self) -> &'static str {
        match self {
            FingerprintKind::Table => "table",
            FingerprintKind::LargeObjects => "large objects",
            FingerprintKind::Sequence => "sequence",
        }
    }
}

/// One table's fingerprint: its rows and an order-independent digest of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableFingerprint {
    pub name: String,
    pub kind: FingerprintKind,
    pub rows: u64,
    pub digest: String,
}

/// What the data looked like as the backup read it (format version 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fingerprints {
    /// How the digests were computed (`xxh3-128-sum`).
    pub algorithm: String,
    /// BLAKE3 of the whole file image (SQLite), hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_blake3: Option<String>,
    pub tables: Vec<TableFingerprint>,
}

fn full() -> BackupKind {
    BackupKind::Full
}

impl RestorePoint {
    pub fn size(&self) -> u64 {
        self.streams.iter().map(|s| s.size).sum()
    }

    pub fn stream(&self, name: &str) -> Result<&StreamEntry> {
        self.streams
            .iter()
            .find(|s| s.name == name)
            .ok_or_else(|| Error::repository(format!("restore point lacks its `{name}` stream")))
    }
}

impl Repository {
    pub fn list_points(&self) -> Result<Vec<PointId>> {
        self.list_ids(POINTS_DIR)
    }

    pub fn read_point(&self, id: &PointId) -> Result<RestorePoint> {
        self.read_json_object(&format!("{POINTS_DIR}{id}"), ObjectKind::Point, &id.0)
    }

    pub fn write_point(&self, point: &RestorePoint) -> Result<(PointId, u64)> {
        let (id, size) = self.write_json_object(POINTS_DIR, ObjectKind::Point, point)?;
        Ok((PointId(id), size))
    }

    /// Every restore point with its manifest, oldest first.
    /// A damaged manifest is left out here rather than failing the caller:
    /// one bad point must not block restores of the others or new backups
    /// (`verify` names it; [`Self::points_lenient`] shows it).
    pub fn points(&self) -> Result<Vec<(PointId, RestorePoint)>> {
        let mut out: Vec<_> = self
            .points_lenient()?
            .into_iter()
            .filter_map(|(id, p)| Some((id, p?)))
            .collect();
        out.sort_by(|a, b| a.1.created_at.cmp(&b.1.created_at).then(a.0.cmp(&b.0)));
        Ok(out)
    }

    /// Every restore point id, with its manifest when it could be read.
    pub fn points_lenient(&self) -> Result<Vec<(PointId, Option<RestorePoint>)>> {
        Ok(self
            .list_points()?
            .into_iter()
            .map(|id| {
                let p = self.read_point(&id).ok();
                (id, p)
            })
            .collect())
    }

    /// Resolve what a user typed: a full id, a unique prefix, or `latest`
    /// (optionally the latest of one database).
    pub fn resolve_point(
        &self,
        spec: &str,
        database: Option<&str>,
    ) -> Result<(PointId, RestorePoint)> {
        if spec == "latest" {
            let mut points = self.points()?;
            if points.is_empty() {
                return Err(Error::usage("the repository has no restore points yet")
                    .with_hint("run `sqlvault backup` first"));
            }
            let mut names: Vec<String> = points.iter().map(|(_, p)| p.database.clone()).collect();
            points.retain(|(_, p)| database.is_none_or(|d| p.database == d));
            return points.pop().ok_or_else(|| {
                names.sort();
                names.dedup();
                let more = names.len().saturating_sub(10);
                let mut names: Vec<String> =
                    names.iter().take(10).map(|n| format!("`{n}`")).collect();
                if more > 0 {
                    names.push(format!("{more} more"));
                }
                Error::usage(format!(
                    "the repository has no restore point of database `{}`",
                    database.unwrap_or_default()
                ))
                .with_hint(format!(
                    "it has restore points of {}; `sqlvault points` lists them",
                    names.join(", ")
                ))
            });
        }
        if spec.len() < 4 || !spec.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(
                Error::usage(format!("`{spec}` is not a restore point id")).with_hint(
                    "give `latest` or at least 4 hex digits of an id from `sqlvault points`",
                ),
            );
        }
        // By id, damaged manifests count too: naming one says it is damaged.
        let prefix = spec.to_ascii_lowercase();
        let mut matching: Vec<PointId> = self
            .list_points()?
            .into_iter()
            .filter(|id| id.to_hex().starts_with(&prefix))
            .collect();
        match matching.len() {
            1 => {
                let id = matching.pop().unwrap();
                Ok((id, self.read_point(&id)?))
            }
            0 => Err(Error::usage(format!("no restore point matches `{spec}`"))
                .with_hint("list them with `sqlvault points`")),
            n => Err(Error::usage(format!("`{spec}` matches {n} restore points"))
                .with_hint("give more digits of the id")),
        }
    }
}
