//! `wal push` (the server's `archive_command`) and `wal fetch` (its
//! `restore_command`): one WAL file into or out of the repository's log
//! archive.

use super::wal::{self, WalFile};
use crate::error::{Error, Result, local_io_error};
use crate::repo::Repository;
use crate::repo::logs::Stored;
use std::io::Write;
use std::path::Path;

/// The default cluster name when `--cluster` is not given.
pub const DEFAULT_CLUSTER: &str = "main";

/// The cluster's identity for a file that does not carry one: from the
/// data directory's `pg_control`. `archive_command` runs in the data
/// directory, and `%p` is `pg_wal/<file>` below it.
fn identity_from_control(path: &Path) -> Option<u64> {
    let candidates = [
        path.parent()
            .and_then(|p| p.parent())
            .map(|d| d.join("global/pg_control")),
        Some(Path::new("global/pg_control").to_path_buf()),
    ];
    candidates
        .into_iter()
        .flatten()
        .find_map(|p| std::fs::read(p).ok())
        .and_then(|b| wal::control_system_identifier(&b))
}

/// Archive the WAL file at `path`; returns whether it was new.
pub fn push(repo: &Repository, cluster: &str, path: &Path) -> Result<Stored> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::usage(format!("`{}` names no file", path.display())))?;
    let kind = WalFile::parse(name, 16 << 20).ok_or_else(|| {
        Error::usage(format!("`{name}` is not a WAL file name")).with_hint(
            "archive_command must pass %p: a WAL segment, .partial, .history or .backup file",
        )
    })?;
    let data = std::fs::read(path).map_err(|e| local_io_error("reading", path, e))?;
    let mut facts = serde_json::Map::new();
    let sysid = match kind {
        WalFile::Segment { timeline, .. } | WalFile::Partial { timeline, .. } => {
            let h = wal::read_segment_header(&data).ok_or_else(|| {
                Error::usage(format!(
                    "`{}` is not a WAL segment (no segment header)",
                    path.display()
                ))
            })?;
            // The first segment of a timeline begins with the parent's pages
            // (copied up to the fork), so an older timeline is allowed.
            if h.timeline > timeline && kind_is_segment(kind) {
                return Err(Error::usage(format!(
                    "`{name}` holds timeline {} but is named for timeline {timeline}",
                    h.timeline
                )));
            }
            facts.insert("timeline".into(), timeline.into());
            facts.insert("seg_size".into(), h.seg_size.into());
            facts.insert("start_lsn".into(), h.page_addr.to_string().into());
            let commits = super::records::commits(&data);
            if let (Some(first), Some(last)) = (commits.first, commits.last) {
                facts.insert("first_commit".into(), first.to_string().into());
                facts.insert("last_commit".into(), last.to_string().into());
                facts.insert("commits".into(), commits.count.into());
            }
            Some(h.system_identifier)
        }
        WalFile::History { timeline } => {
            facts.insert("timeline".into(), timeline.into());
            identity_from_control(path)
        }
        WalFile::BackupLabel => identity_from_control(path),
    };
    match sysid {
        Some(id) => {
            facts.insert("system_identifier".into(), id.to_string().into());
            repo.bind_cluster(cluster, &id.to_string())?;
        }
        None => {
            if repo.cluster_record(cluster)?.is_none() {
                return Err(Error::usage(format!(
                    "cannot tell which cluster `{name}` belongs to, and cluster `{cluster}` has no archive yet"
                ))
                .with_hint("run wal push from the data directory (as archive_command does), or push a WAL segment first"));
            }
        }
    }
    repo.put_log(cluster, name, &data, serde_json::Value::Object(facts))
}

fn kind_is_segment(k: WalFile) -> bool {
    matches!(k, WalFile::Segment { .. })
}

/// Restore archived `file` to `dest`; false when the archive lacks it
/// (the end of the archive, for the server).
pub fn fetch(repo: &Repository, cluster: &str, file: &str, dest: &Path) -> Result<bool> {
    if WalFile::parse(file, 16 << 20).is_none() {
        return Err(Error::usage(format!("`{file}` is not a WAL file name"))
            .with_hint("restore_command must pass %f and %p"));
    }
    // Fetched ahead by an earlier call: already checked, same file system.
    let spooled = spool_dir(dest).join(file);
    if spooled.is_file() && std::fs::rename(&spooled, dest).is_ok() {
        return Ok(true);
    }
    let Some((_, data)) = repo.get_log(cluster, file)? else {
        return Ok(false);
    };
    write_atomically(dest, &data)?;
    Ok(true)
}

/// Where segments fetched ahead wait: a directory beside the file the
/// server asked for (in `pg_wal`), so taking one is a rename.
pub fn spool_dir(dest: &Path) -> std::path::PathBuf {
    dest.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(SPOOL_DIR)
}

pub const SPOOL_DIR: &str = ".sqlvault-prefetch";

/// Remove the spool of a data directory once recovery is over, after the
/// prefetch still running (if any) has finished.
pub fn remove_spool(data: &Path) {
    let spool = data.join("pg_wal").join(SPOOL_DIR);
    if let Ok(lock) = std::fs::File::open(spool.join(".lock")) {
        let _ = lock.lock();
    }
    let _ = std::fs::remove_dir_all(&spool);
}

/// Fetch the `count` segments after `file` on its timeline into the spool
/// beside `dest`, `count` at a time, stopping at the end of the archive.
/// Only one prefetch runs per spool; the others return at once.
pub fn prefetch(
    repo: &Repository,
    cluster: &str,
    file: &str,
    dest: &Path,
    count: u64,
) -> Result<usize> {
    // The segment size from the file just fetched (names number segments
    // by it); the default when the server has already taken it.
    let mut head = [0u8; 40];
    let seg_size = std::fs::File::open(dest)
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
        .ok()
        .and_then(|_| wal::read_segment_header(&head))
        .map_or(16 << 20, |h| u64::from(h.seg_size));
    let Some(WalFile::Segment { timeline, segno }) = WalFile::parse(file, seg_size) else {
        return Ok(0);
    };
    let spool = spool_dir(dest);
    std::fs::create_dir_all(&spool).map_err(|e| local_io_error("creating", &spool, e))?;
    let lock_path = spool.join(".lock");
    let lock =
        std::fs::File::create(&lock_path).map_err(|e| local_io_error("creating", &lock_path, e))?;
    if lock.try_lock().is_err() {
        return Ok(0);
    }
    // Segments the server has taken are gone from the spool; older ones
    // left behind (a timeline switch) are not needed again.
    if let Ok(rd) = std::fs::read_dir(&spool) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if let Some(WalFile::Segment { segno: s, .. }) = WalFile::parse(&name, seg_size)
                && s <= segno
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    let wanted: Vec<String> = (segno + 1..=segno + count)
        .map(|s| wal::segment_name(timeline, s, seg_size))
        .filter(|n| !spool.join(n).exists())
        .collect();
    let fetched = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for name in &wanted {
            let (spool, fetched) = (&spool, &fetched);
            scope.spawn(move || {
                if let Ok(Some((_, data))) = repo.get_log(cluster, name)
                    && write_atomically(&spool.join(name), &data).is_ok()
                {
                    fetched.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
    });
    Ok(fetched.into_inner())
}

/// Write through a temporary file beside `dest`, then rename: the server
/// never sees half a segment.
fn write_atomically(dest: &Path, data: &[u8]) -> Result<()> {
    let dir = dest
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".sqlvault-fetch-")
        .tempfile_in(dir)
        .map_err(|e| local_io_error("creating a file in", dir, e))?;
    tmp.write_all(data)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| local_io_error("writing", dest, e))?;
    tmp.persist(dest)
        .map_err(|e| local_io_error("writing", dest, e.error))?;
    Ok(())
}
