//! SQLite: a consistent image of the database pages.
//!
//! Backups read every page through `sqlite_dbpage` inside one read
//! transaction: the pages form the exact file of one committed state, and in
//! WAL mode writers carry on meanwhile. No staging copy of the whole file is
//! written unless asked for (`--staging copy`), which shortens the time a
//! rollback-journal database blocks its writers to a local file copy.

mod backup;
mod fingerprint;
mod restore;
mod scan;

use crate::error::{Error, Result, show_path};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use backup::{StagingMode, source_of};

/// The single stream of a SQLite restore point: the database file.
pub const DATABASE_STREAM: &str = "database";

#[derive(Debug, Clone)]
pub struct Sqlite {
    pub path: PathBuf,
    pub busy_timeout: Duration,
    pub staging: StagingMode,
    /// Where a staging copy goes (defaults to the system temp directory).
    pub staging_dir: Option<PathBuf>,
}

impl Sqlite {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Sqlite {
            path: path.into(),
            busy_timeout: Duration::from_secs(10),
            staging: StagingMode::Auto,
            staging_dir: None,
        }
    }
}

/// Facts stored in the restore point, needed to rebuild and check the file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SqliteMeta {
    pub page_size: u64,
    pub page_count: u64,
    pub journal_mode: String,
    pub sqlite_version: String,
    pub staging: String,
}

/// Map a SQLite error on `path` to a message a DBA can act on.
pub(crate) fn sqlite_error(path: &Path, e: rusqlite::Error, busy_timeout: Duration) -> Error {
    use rusqlite::ErrorCode as C;
    let p = show_path(path);
    match e.sqlite_error_code() {
        Some(C::NotADatabase) => Error::database(format!("{p} is not a SQLite database"))
            .with_hint("check the path; sqlvault backs up SQLite database files"),
        Some(C::DatabaseBusy) | Some(C::DatabaseLocked) => Error::database(format!(
            "{p} is locked by another process (waited {}s)",
            busy_timeout.as_secs()
        ))
        .with_hint("retry when the writer has finished, or raise --busy-timeout"),
        Some(C::CannotOpen) => Error::database(format!("cannot open {p}"))
            .with_hint("check that the file exists and is readable"),
        Some(C::PermissionDenied) | Some(C::ReadOnly) => {
            Error::database(format!("permission denied on {p}"))
        }
        Some(C::DatabaseCorrupt) => Error::database(format!("{p} is corrupt: {e}"))
            .with_hint("run `PRAGMA integrity_check` on it; restore an earlier point if needed"),
        Some(C::DiskFull) => Error::new(
            crate::error::Kind::Storage,
            format!("disk full while writing {p}"),
        )
        .with_hint("free space on that disk, or choose another place, and run the command again"),
        _ => Error::database(format!("SQLite error on {p}: {e}")),
    }
}

pub use restore::integrity_check;

impl crate::engine::Engine for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn source(&self) -> String {
        backup::source_of(&self.path)
    }

    fn backup(
        &self,
        writer: &crate::repo::writer::BackupWriter,
        progress: &dyn crate::progress::Progress,
    ) -> Result<crate::engine::Exported> {
        backup::run(self, writer, progress)
    }

    fn restore(
        &self,
        repo: &crate::repo::Repository,
        index: &crate::repo::index::Index,
        point: &crate::repo::point::RestorePoint,
        opts: &crate::engine::RestoreOptions,
        progress: &dyn crate::progress::Progress,
    ) -> Result<crate::engine::Restored> {
        restore::run(self, repo, index, point, opts, progress)
    }

    fn remove_backup_leftovers(&self) -> Vec<String> {
        backup::remove_leftovers(self)
    }

    fn remove_restore_leftovers(&self) -> Vec<String> {
        restore::remove_leftovers(&self.path)
    }
}
