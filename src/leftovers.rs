//! Temporary files that say whether they are still in use, so that the next
//! run can remove what a killed one left behind.
//!
//! sqlvault writes three kinds of temporary files: a restore's file beside
//! its target (`.NAME.sqlvault-XXXXXX`), a staging copy of a SQLite
//! database (`sqlvault-staging-XXXXXX.db`), and a local repository's
//! objects being written (`tmp/put-XXXXXX`). Each is held with an exclusive
//! `flock` from the moment it is created until it is renamed or linked into
//! place or removed. The kernel drops the lock when the process ends,
//! however it ends, so a temporary whose lock can be taken belongs to no
//! running process and can go, and one whose lock cannot be taken is left
//! alone: a concurrent run never loses its file. (A lock is what tells
//! them apart, not an age: a slow run's file can be old, a killed run's
//! file new.)
//!
//! The race between creating a file and locking it is closed on the
//! creating side: once locked, the creator checks that its name still
//! names its file, and starts over if a cleaner removed it meanwhile.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// Random characters in every temporary name (letters and digits).
pub const RANDOM_LEN: usize = 6;

/// Whether `s` is the random part of a temporary name.
pub fn is_random_part(s: &str) -> bool {
    s.len() == RANDOM_LEN && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Create `dir/{prefix}XXXXXX{suffix}` and hold its lock for as long as the
/// file is open (the lock stays with the file when it is renamed).
pub fn create(dir: &Path, prefix: &str, suffix: &str) -> io::Result<NamedTempFile> {
    for _ in 0..16 {
        let tmp = tempfile::Builder::new()
            .prefix(prefix)
            .suffix(suffix)
            .rand_bytes(RANDOM_LEN)
            .tempfile_in(dir)?;
        tmp.as_file().lock()?;
        if names(tmp.path(), tmp.as_file())? {
            return Ok(tmp);
        }
        // A cleaner removed it before the lock was taken: the name is no
        // longer ours to remove, so forget it rather than delete it.
        let _ = tmp.keep();
    }
    Err(io::Error::other(format!(
        "temporary files in `{}` keep disappearing",
        dir.display()
    )))
}

/// Whether `path` still names the open `file`.
fn names(path: &Path, file: &File) -> io::Result<bool> {
    let open = file.metadata()?;
    match std::fs::symlink_metadata(path) {
        Ok(m) => Ok(m.dev() == open.dev() && m.ino() == open.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// What [`remove_stale`] did.
#[derive(Debug, Default)]
pub struct Removed {
    pub removed: Vec<PathBuf>,
    /// Stale files that could not be removed (a read-only directory).
    pub failed: Vec<(PathBuf, io::Error)>,
}

/// Remove the stale temporaries in `dir`. `owner` recognises them: for a
/// file name, the name of the temporary it belongs to (itself, or for a
/// file SQLite keeps beside one, like `-journal`, that one), or None for
/// files that are not temporaries. A temporary is stale when no process
/// holds its lock; its companions go with it, and companions whose
/// temporary is gone are stale too.
pub fn remove_stale(dir: &Path, owner: impl Fn(&str) -> Option<String>) -> Removed {
    let mut out = Removed::default();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(_) => return out,
    };
    let mut groups: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(main) = owner(&name) else { continue };
        if entry.file_type().is_ok_and(|t| t.is_file()) {
            groups.entry(main).or_default().push(entry.path());
        }
    }
    for (main, mut files) in groups {
        let main_path = dir.join(&main);
        // Held while its files are removed, so no one can start using them.
        let _held = match File::open(&main_path) {
            Ok(f) => match f.try_lock() {
                Ok(()) if names(&main_path, &f).unwrap_or(false) => Some(f),
                // In use, or renamed into place meanwhile: not ours to touch.
                _ => continue,
            },
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => {
                out.failed.push((main_path, e));
                continue;
            }
        };
        // The companions first, the file they belong to last.
        files.sort_by_key(|p| *p == main_path);
        for f in files {
            match std::fs::remove_file(&f) {
                Ok(()) => out.removed.push(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => out.failed.push((f, e)),
            }
        }
    }
    out
}

/// Files SQLite keeps beside a database: `name` without the suffix of
/// one, or `name` itself.
pub fn sqlite_main_name(name: &str) -> &str {
    ["-journal", "-wal", "-shm"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name)
}

/// A scratch directory `parent/{prefix}XXXXXX`, marked in use by a locked
/// `.in-use` file inside for as long as the returned lock is held.
pub fn create_dir(parent: &Path, prefix: &str) -> io::Result<(tempfile::TempDir, File)> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .rand_bytes(RANDOM_LEN)
        .tempdir_in(parent)?;
    let lock = File::create(dir.path().join(".in-use"))?;
    lock.lock()?;
    Ok((dir, lock))
}

/// Remove the scratch directories `parent/{prefix}XXXXXX` whose `.in-use`
/// lock no process holds (or that have none: killed before taking it).
pub fn remove_stale_dirs(parent: &Path, prefix: &str) -> Removed {
    let mut out = Removed::default();
    let Ok(entries) = std::fs::read_dir(parent) else {
        return out;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = name.strip_prefix(prefix).is_some_and(is_random_part);
        if !ours || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        let held = match File::open(path.join(".in-use")) {
            Ok(f) => match f.try_lock() {
                Ok(()) => Some(f),
                Err(_) => continue,
            },
            Err(_) => None,
        };
        match std::fs::remove_dir_all(&path) {
            Ok(()) => out.removed.push(path),
            Err(e) => out.failed.push((path, e)),
        }
        drop(held);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner(name: &str) -> Option<String> {
        let main = sqlite_main_name(name);
        main.strip_prefix("t-")
            .filter(|r| is_random_part(r))
            .map(|_| main.to_string())
    }

    #[test]
    fn only_files_no_one_holds_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let live = create(dir.path(), "t-", "").unwrap();
        let stale = create(dir.path(), "t-", "").unwrap();
        let (file, stale_path) = stale.keep().unwrap();
        drop(file); // as if its process had been killed
        let companion = PathBuf::from(format!("{}-journal", stale_path.display()));
        std::fs::write(&companion, b"j").unwrap();
        let orphan = dir.path().join("t-gone01-wal");
        std::fs::write(&orphan, b"w").unwrap();
        let other = dir.path().join("t-notours-at-all");
        std::fs::write(&other, b"x").unwrap();

        let r = remove_stale(dir.path(), owner);
        let mut removed = r.removed.clone();
        removed.sort();
        let mut want = vec![stale_path, companion, orphan];
        want.sort();
        assert_eq!(removed, want);
        assert!(r.failed.is_empty());
        assert!(live.path().exists() && other.exists());
        // Once its holder closes it, it is stale too.
        let live_path = live.path().to_path_buf();
        let (file, _) = live.keep().unwrap();
        drop(file);
        assert_eq!(remove_stale(dir.path(), owner).removed, vec![live_path]);
    }

    #[test]
    fn a_file_removed_before_its_lock_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        // Remove every unlocked temporary while another thread creates them.
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    remove_stale(dir.path(), owner);
                }
            });
            for _ in 0..200 {
                let t = create(dir.path(), "t-", "").unwrap();
                assert!(names(t.path(), t.as_file()).unwrap());
                assert!(t.path().exists());
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    }
}
