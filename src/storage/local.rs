//! A repository in a local directory.
//!
//! Objects are written to `tmp/` first, fsynced, then hard-linked into place:
//! `link(2)` fails when the target exists, which gives put-if-absent without
//! a lock, and a process killed mid-write leaves only a file in `tmp/` that
//! nothing refers to. Each file in `tmp/` is held (`flock`) while it is
//! written, so the next run can tell a killed writer's file from a running
//! one's and remove it ([`crate::leftovers`]).

use super::{ObjectInfo, PutOutcome, Storage, StorageError};
use std::fs::{self, File};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: PathBuf,
    /// Who new files and directories go to (see [`LocalStorage::owner`]).
    owner: std::sync::OnceLock<Option<(u32, u32)>>,
}

const TMP_DIR: &str = "tmp";
const TMP_PREFIX: &str = "put-";

/// `put-XXXXXX`: an object being written (or left by a killed writer).
fn tmp_owner(name: &str) -> Option<String> {
    name.strip_prefix(TMP_PREFIX)
        .filter(|r| crate::leftovers::is_random_part(r))
        .map(|_| name.to_string())
}

impl LocalStorage {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalStorage {
            root: root.into(),
            owner: std::sync::OnceLock::new(),
        }
    }

    /// Run as root in a repository whose directory belongs to another user
    /// (the `postgres` user whose `archive_command` pushes WAL into it),
    /// what root creates goes to that user, so both can go on writing.
    fn owner(&self) -> Option<(u32, u32)> {
        *self.owner.get_or_init(|| {
            use std::os::unix::fs::MetadataExt;
            // SAFETY: geteuid has no preconditions.
            if unsafe { libc::geteuid() } != 0 {
                return None;
            }
            let m = fs::metadata(&self.root).ok()?;
            (m.uid() != 0).then(|| (m.uid(), m.gid()))
        })
    }

    /// Give `path`, and the directories between it and the root, to the
    /// repository's owner.
    fn hand_over(&self, path: &Path) {
        use std::os::unix::fs::MetadataExt;
        let Some((uid, gid)) = self.owner() else {
            return;
        };
        let mut p = Some(path);
        while let Some(cur) = p.filter(|c| c.starts_with(&self.root) && *c != self.root) {
            if fs::symlink_metadata(cur).is_ok_and(|m| m.uid() != uid) {
                let _ = std::os::unix::fs::lchown(cur, Some(uid), Some(gid));
            }
            p = cur.parent();
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    fn sync_dir(dir: &Path) {
        // Durability of the new directory entry; failure here is not fatal
        // on file systems that do not support syncing directories.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
}

impl Storage for LocalStorage {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    fn create(&self) -> Result<(), StorageError> {
        let name = self.location();
        if self.root.exists() && !self.root.is_dir() {
            return Err(StorageError::NotADirectory(name));
        }
        let tmp = self.root.join(TMP_DIR);
        fs::create_dir_all(&tmp).map_err(|e| StorageError::from_io(&name, e))?;
        self.hand_over(&tmp);
        Ok(())
    }

    fn put_if_absent(&self, name: &str, data: &[u8]) -> Result<PutOutcome, StorageError> {
        let target = self.path(name);
        if target.exists() {
            return Ok(PutOutcome::AlreadyExists);
        }
        let parent = target.parent().expect("object names have a parent");
        fs::create_dir_all(parent).map_err(|e| StorageError::from_io(name, e))?;
        self.hand_over(parent);
        let tmp_dir = self.root.join(TMP_DIR);
        fs::create_dir_all(&tmp_dir).map_err(|e| StorageError::from_io(name, e))?;
        self.hand_over(&tmp_dir);
        let mut tmp = crate::leftovers::create(&tmp_dir, TMP_PREFIX, "")
            .map_err(|e| StorageError::from_io(name, e))?;
        self.hand_over(tmp.path());
        tmp.write_all(data)
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| StorageError::from_io(name, e))?;
        let outcome = match fs::hard_link(tmp.path(), &target) {
            Ok(()) => PutOutcome::Created,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => PutOutcome::AlreadyExists,
            Err(e) => return Err(StorageError::from_io(name, e)),
        };
        // Dropping `tmp` unlinks the temporary name.
        drop(tmp);
        Self::sync_dir(parent);
        Ok(outcome)
    }

    fn get(&self, name: &str) -> Result<Vec<u8>, StorageError> {
        fs::read(self.path(name)).map_err(|e| StorageError::from_io(name, e))
    }

    fn get_range(&self, name: &str, offset: u64, len: u64) -> Result<Vec<u8>, StorageError> {
        let io = |e| StorageError::from_io(name, e);
        let mut f = File::open(self.path(name)).map_err(io)?;
        f.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut buf = vec![0u8; len as usize];
        f.read_exact(&mut buf).map_err(|e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                StorageError::Truncated(name.to_string())
            } else {
                StorageError::from_io(name, e)
            }
        })?;
        Ok(buf)
    }

    fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>, StorageError> {
        // Prefixes are folders in this layout ("packs/", "points/").
        let dir = self.path(prefix.trim_end_matches('/'));
        let mut out = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            let entries = match fs::read_dir(&d) {
                Ok(e) => e,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StorageError::from_io(prefix, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| StorageError::from_io(prefix, e))?;
                let meta = entry
                    .metadata()
                    .map_err(|e| StorageError::from_io(prefix, e))?;
                if meta.is_dir() {
                    stack.push(entry.path());
                } else if let Ok(rel) = entry.path().strip_prefix(&self.root) {
                    let name = rel.to_string_lossy().replace('\\', "/");
                    out.push(ObjectInfo {
                        name,
                        size: meta.len(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn delete(&self, name: &str) -> Result<(), StorageError> {
        match fs::remove_file(self.path(name)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(StorageError::from_io(name, e)),
        }
    }

    fn exists(&self, name: &str) -> Result<bool, StorageError> {
        Ok(self.path(name).exists())
    }

    fn remove_stale_temporaries(&self) -> Result<Vec<String>, StorageError> {
        let r = crate::leftovers::remove_stale(&self.root.join(TMP_DIR), tmp_owner);
        if let Some((path, e)) = r.failed.into_iter().next() {
            let name = path.strip_prefix(&self.root).unwrap_or(&path);
            return Err(StorageError::from_io(&name.to_string_lossy(), e));
        }
        Ok(r.removed
            .iter()
            .map(|p| {
                p.strip_prefix(&self.root)
                    .unwrap_or(p)
                    .to_string_lossy()
                    .into_owned()
            })
            .collect())
    }

    /// An advisory lock on `locks/<name>.lock` (flock): released by the
    /// kernel when the process ends, so a killed run never leaves it held.
    fn lock(&self, name: &str, shared: bool) -> Result<Box<dyn Send>, StorageError> {
        let dir = self.root.join("locks");
        let lock_name = format!("locks/{name}.lock");
        fs::create_dir_all(&dir).map_err(|e| StorageError::from_io(&lock_name, e))?;
        let path = dir.join(format!("{name}.lock"));
        let f = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StorageError::from_io(&lock_name, e))?;
        self.hand_over(&path);
        if shared { f.lock_shared() } else { f.lock() }
            .map_err(|e| StorageError::from_io(&lock_name, e))?;
        Ok(Box::new(f))
    }
}
