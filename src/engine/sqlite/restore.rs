//! Rebuilding a SQLite file from its page image, checked before it is put
//! in place: written under a temporary name beside the target, fsynced,
//! `PRAGMA integrity_check`ed, then renamed.

use super::{DATABASE_STREAM, Sqlite, SqliteMeta, sqlite_error};
use crate::engine::{CheckLevel, RestoreOptions, Restored};
use crate::error::{Error, Kind, Result, show_path};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use std::path::{Path, PathBuf};

/// Files SQLite keeps beside a database; a stale one would corrupt the restored file.
fn companions(path: &Path) -> Vec<PathBuf> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|s| {
            let mut p = path.as_os_str().to_owned();
            p.push(s);
            PathBuf::from(p)
        })
        .collect()
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    let p = show_path(path);
    match e.kind() {
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => {
            Error::new(Kind::Storage, format!("disk full while {what} {p}"))
                .with_hint("free space on the target's disk and run the restore again")
        }
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            Error::database(format!("permission denied while {what} {p}"))
        }
        _ => Error::database(format!("error while {what} {p}: {e}")),
    }
}

pub(super) fn run(
    cfg: &Sqlite,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Restored> {
    let target = &cfg.path;
    let meta: SqliteMeta = serde_json::from_value(point.meta.clone())
        .map_err(|e| Error::repository(format!("restore point has malformed SQLite facts: {e}")))?;
    let existing: Vec<PathBuf> = std::iter::once(target.clone())
        .chain(companions(target))
        .filter(|p| p.exists())
        .collect();
    if !existing.is_empty() && !opts.force {
        return Err(
            Error::usage(format!("{} already exists", show_path(&existing[0])))
                .with_hint("choose another --to, or add --force to replace it"),
        );
    }
    if target.is_dir() {
        return Err(
            Error::usage(format!("{} is a directory", show_path(target)))
                .with_hint("give the path of the database file to create"),
        );
    }
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(
            Error::usage(format!("directory {} does not exist", show_path(&parent)))
                .with_hint("create it first, or choose another --to"),
        );
    }
    let stream = point.stream(DATABASE_STREAM)?;
    progress.set_total(stream.size);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Removed when dropped, so a failed restore leaves nothing behind.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.sqlvault-"))
        .tempfile_in(&parent)
        .map_err(|e| io_error("creating a temporary file in", &parent, e))?;
    let written = repo.restore_stream_to_file(index, stream, tmp.as_file(), progress)?;
    if written != meta.page_size * meta.page_count {
        return Err(Error::repository(format!(
            "restore point holds {written} bytes, expected {} pages of {}",
            meta.page_count, meta.page_size
        )));
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| io_error("syncing", tmp.path(), e))?;
    match opts.check {
        CheckLevel::Full => {
            progress.phase("integrity check");
            integrity_check(tmp.path(), cfg, "integrity_check")?;
        }
        CheckLevel::Quick => {
            progress.phase("quick check");
            integrity_check(tmp.path(), cfg, "quick_check")?;
        }
        CheckLevel::None => {}
    }
    if opts.force {
        for p in companions(target) {
            let _ = std::fs::remove_file(p);
        }
    }
    tmp.persist(target)
        .map_err(|e| io_error("renaming the restored file to", target, e.error))?;
    if let Ok(d) = std::fs::File::open(&parent) {
        let _ = d.sync_all();
    }
    Ok(Restored {
        target: target.display().to_string(),
        bytes_written: stream.size,
    })
}

/// `PRAGMA integrity_check` (or `quick_check`) must answer exactly `ok`.
pub fn integrity_check(path: &Path, cfg: &Sqlite, pragma: &str) -> Result<()> {
    let conn =
        rusqlite::Connection::open(path).map_err(|e| sqlite_error(path, e, cfg.busy_timeout))?;
    let mut stmt = conn
        .prepare(&format!("PRAGMA {pragma}"))
        .map_err(|e| sqlite_error(path, e, cfg.busy_timeout))?;
    let lines: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| sqlite_error(path, e, cfg.busy_timeout))?;
    if lines.len() == 1 && lines[0] == "ok" {
        Ok(())
    } else {
        Err(Error::database(format!(
            "restored database fails its integrity check: {}",
            lines.into_iter().take(3).collect::<Vec<_>>().join("; ")
        ))
        .with_hint("the source was damaged when it was backed up; try an earlier restore point"))
    }
}
