//! A restore whose target is a local file (a SQLite database, a package):
//! written under a temporary name beside the target, checked, then renamed,
//! so a failed or killed restore never leaves a half-written target.

use crate::error::{Error, Kind, Result, show_path};
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// A restore writes `.NAME.sqlvault-XXXXXX` beside its target `NAME`.
fn temp_prefix(target_name: &str) -> String {
    format!(".{target_name}.sqlvault-")
}

/// The restore temporary `name` belongs to (itself, or the one SQLite's
/// `-journal`, `-wal` or `-shm` file sits beside), if it is one.
fn temp_owner(name: &str) -> Option<String> {
    let main = crate::leftovers::sqlite_main_name(name);
    let (target, random) = main.strip_prefix('.')?.rsplit_once(".sqlvault-")?;
    (!target.is_empty() && crate::leftovers::is_random_part(random)).then(|| main.to_string())
}

/// The directory a target goes in (`.` for a bare name).
pub fn parent_of(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Remove the temporaries killed restores left in the target's directory
/// (of any target there), and say so.
pub fn remove_leftovers(target: &Path) -> Vec<String> {
    let dir = parent_of(target);
    let r = crate::leftovers::remove_stale(&dir, temp_owner);
    let removed = r
        .removed
        .iter()
        .map(|p| format!("removed {}, left by an interrupted restore", show_path(p)));
    let failed = r.failed.iter().map(|(p, e)| {
        format!(
            "cannot remove {}, left by an interrupted restore: {e}",
            show_path(p)
        )
    });
    removed.chain(failed).collect()
}

/// A local file error of the restore: a full disk or a refused write is a
/// storage error (5) that says what to do; nothing is put in place.
pub fn io_error(what: &str, path: &Path, e: std::io::Error) -> Error {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        parent_of(path)
    };
    let full = matches!(
        e.kind(),
        std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
    );
    let err = crate::error::local_io_error(what, path, e);
    if err.kind != Kind::Storage {
        err
    } else if full {
        err.with_hint(
            "free space on the target's disk, or give another --to; nothing was put in place",
        )
    } else {
        err.with_hint(format!(
            "{} cannot be written (a read-only file system, or no permission for the user running sqlvault): make it writable, or give another --to",
            show_path(&dir)
        ))
    }
}

/// Refuse a target that exists (any of `existing`) without `force`, a
/// directory, or one in a directory that does not exist; then create the
/// temporary file beside it. The temporary is removed when dropped, so a
/// failed restore leaves nothing behind; it is held while it exists, so a
/// killed restore's file can be told from a running one's.
pub fn start(target: &Path, existing: &[PathBuf], force: bool) -> Result<NamedTempFile> {
    if let Some(first) = existing.iter().find(|p| p.exists())
        && !force
    {
        return Err(Error::usage(format!("{} already exists", show_path(first)))
            .with_hint("choose another --to, or add --force to replace it"));
    }
    if target.is_dir() {
        return Err(
            Error::usage(format!("{} is a directory", show_path(target)))
                .with_hint("give the path of the file to create"),
        );
    }
    let parent = parent_of(target);
    if !parent.is_dir() {
        return Err(
            Error::usage(format!("directory {} does not exist", show_path(&parent)))
                .with_hint("create it first, or choose another --to"),
        );
    }
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::leftovers::create(&parent, &temp_prefix(&name), "")
        .map_err(|e| io_error("creating a temporary file in", &parent, e))
}

/// Sync the checked temporary and rename it to the target.
pub fn put_in_place(tmp: NamedTempFile, target: &Path) -> Result<()> {
    tmp.as_file()
        .sync_all()
        .map_err(|e| io_error("syncing", tmp.path(), e))?;
    tmp.persist(target)
        .map_err(|e| io_error("renaming the restored file to", target, e.error))?;
    if let Ok(d) = std::fs::File::open(parent_of(target)) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporaries_are_recognised_by_name() {
        let t = |n: &str| temp_owner(n);
        assert_eq!(
            t(".app.db.sqlvault-a1B2c3").as_deref(),
            Some(".app.db.sqlvault-a1B2c3")
        );
        assert_eq!(
            t(".app.db.sqlvault-a1B2c3-journal").as_deref(),
            Some(".app.db.sqlvault-a1B2c3")
        );
        assert_eq!(
            t(".x.sqlvault-y.sqlvault-Zz9900-wal").as_deref(),
            Some(".x.sqlvault-y.sqlvault-Zz9900")
        );
        for not in [
            "app.db",
            ".app.db",
            "..sqlvault-a1B2c3",
            ".app.db.sqlvault-a1B2c",
            ".app.db.sqlvault-a1B2c3x",
            ".app.db.sqlvault-a1-2c3",
            "app.db.sqlvault-a1B2c3",
        ] {
            assert_eq!(t(not), None, "{not}");
        }
        assert!(temp_owner(&format!("{}abcdef", temp_prefix("t.db"))).is_some());
    }
}
