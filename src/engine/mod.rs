//! Database engines: each makes a transactionally consistent view of a
//! database, exports it as named streams, and consumes the same streams to
//! restore. Engines know nothing about chunks, packs or storage.

pub mod azuresql;
pub mod bacpac;
pub mod file_target;
pub mod fingerprint;
pub mod mariadb;
pub mod parallel;
pub mod postgres;
pub mod sqlite;

use crate::error::Result;
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use crate::repo::writer::BackupWriter;
use std::path::PathBuf;

/// What an engine hands back after exporting one database.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The name a DBA calls the database by.
    pub database: String,
    /// Where it came from, safe to show and store (no secrets).
    pub source: String,
    pub meta: serde_json::Value,
    /// Per-table fingerprints taken while the data was read.
    pub fingerprints: crate::repo::point::Fingerprints,
    /// Something the report must say about this backup (tables read
    /// without a consistent snapshot).
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RestoreOptions {
    /// Replace an existing target.
    pub force: bool,
    pub check: CheckLevel,
    /// Parallel connections (PostgreSQL); 0 for the engine's default.
    pub jobs: usize,
    /// Replace a non-empty target database (PostgreSQL).
    pub clean: bool,
    /// Restore only this table, `schema.name` (PostgreSQL).
    pub table: Option<String>,
    /// MariaDB: write the restore to the server's binary log, so replicas
    /// replay it (by default it is left out when the user may).
    pub binlog: bool,
    /// A package's table restored to a file: CSV or JSON lines (default:
    /// from the file's extension).
    pub table_format: Option<bacpac::TableFormat>,
    /// A restore to Azure SQL: the staging container and the SQL login.
    pub azure: azuresql::AzureOptions,
    /// Recovery of a base backup (PostgreSQL physical points).
    pub physical: postgres::physical::PhysicalOptions,
}

/// How thoroughly a restored database is checked before it is put in place.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum CheckLevel {
    /// Recompute every table's fingerprint from the restored database and
    /// compare it with the one taken at backup (SQLite also: the whole file's
    /// hash and `PRAGMA integrity_check`).
    #[default]
    Full,
    /// Compare row counts only (SQLite also: `PRAGMA quick_check`).
    Quick,
    /// No check beyond the per-chunk checksums every restore verifies.
    None,
}

#[derive(Debug, Clone)]
pub struct Restored {
    pub target: String,
    pub bytes_written: u64,
    /// Which check ran and what it found, for the report.
    pub check: String,
}

/// The operations every engine offers.
pub trait Engine: Send + Sync {
    /// Short name stored in restore points (`sqlite`).
    fn name(&self) -> &'static str;

    /// Where the data comes from, as stored in restore points (no secrets).
    fn source(&self) -> String;

    /// Export one database into `writer` as named streams.
    fn backup(&self, writer: &BackupWriter, progress: &dyn Progress) -> Result<Exported>;

    /// Recreate a database from a restore point written by this engine.
    fn restore(
        &self,
        repo: &Repository,
        index: &Index,
        point: &RestorePoint,
        opts: &RestoreOptions,
        progress: &dyn Progress,
    ) -> Result<Restored>;

    /// Remove what a killed backup of this database left outside the
    /// repository (a staging copy), before anything else: one warning per
    /// removal. Only files no running process holds are removed.
    fn remove_backup_leftovers(&self) -> Vec<String> {
        Vec::new()
    }

    /// Remove what killed restores left beside this target (temporary
    /// files): one warning per removal. Only files no running process
    /// holds are removed.
    fn remove_restore_leftovers(&self) -> Vec<String> {
        Vec::new()
    }

    /// Whether a failed restore leaves a target it was to replace exactly
    /// as it was (the restore is built aside and put in place last).
    fn keeps_target_on_failure(&self) -> bool {
        true
    }

    /// Whether the restore target exists now (asked only of engines that
    /// do not keep it on failure, before a replacing restore).
    fn target_exists(&self) -> Result<bool> {
        Ok(true)
    }
}

/// A source or target as typed on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    SqliteFile(PathBuf),
    /// A `postgres://` or `postgresql://` URL, as typed (it may hold a password).
    Postgres(String),
    /// A `mariadb://` or `mysql://` URL, as typed.
    MariaDb(String),
    /// A BACPAC or DACPAC package file.
    Package(PathBuf),
    /// An `azuresql://SERVER.database.windows.net/DB` URL.
    AzureSql(String),
    /// A package in Azure Storage: `azure://ACCOUNT/CONTAINER/path/NAME.bacpac`.
    PackageBlob(String),
}

impl Location {
    pub fn parse(s: &str) -> Result<Location> {
        if self::postgres::url::is_postgres_url(s) {
            return Ok(Location::Postgres(s.to_string()));
        }
        if self::mariadb::is_mariadb_url(s) {
            return Ok(Location::MariaDb(s.to_string()));
        }
        if azuresql::is_azuresql_url(s) {
            return Ok(Location::AzureSql(s.to_string()));
        }
        if crate::storage::azure::is_azure(s)
            && self::bacpac::is_package_path(s.split('?').next().unwrap_or(s))
        {
            return Ok(Location::PackageBlob(s.to_string()));
        }
        if let Some((scheme, _)) = s.split_once("://") {
            return Err(crate::error::Error::usage(format!(
                "`{scheme}://` sources are not supported by this version"
            ))
            .with_hint(
                "give the path of a SQLite database file or of a .bacpac package, or a postgres://, mariadb:// or azuresql:// URL",
            ));
        }
        if self::bacpac::is_package_path(s) {
            return Ok(Location::Package(PathBuf::from(s)));
        }
        Ok(Location::SqliteFile(PathBuf::from(s)))
    }
}
