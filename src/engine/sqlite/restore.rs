//! Rebuilding a SQLite file from its page image, checked before it is put
//! in place: written under a temporary name beside the target, fsynced,
//! `PRAGMA integrity_check`ed, then renamed.

use super::{DATABASE_STREAM, Sqlite, SqliteMeta, sqlite_error};
use crate::engine::{CheckLevel, RestoreOptions, Restored, file_target, fingerprint};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use std::path::{Path, PathBuf};

/// The target and the files SQLite keeps beside it: any of them existing
/// makes the target exist.
fn companions_too(path: &Path) -> Vec<PathBuf> {
    std::iter::once(path.to_path_buf())
        .chain(companions(path))
        .collect()
}

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

/// Remove the temporaries killed restores left in the target's directory.
pub(super) fn remove_leftovers(target: &Path) -> Vec<String> {
    file_target::remove_leftovers(target)
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
    let stream = point.stream(DATABASE_STREAM)?;
    let tmp = file_target::start(target, &companions_too(target), opts.force)?;
    progress.set_total(stream.size);
    let written = repo.restore_stream_to_file(
        index,
        stream,
        tmp.as_file(),
        &|e| file_target::io_error("writing", target, e),
        progress,
    )?;
    if written != meta.page_size * meta.page_count {
        return Err(Error::repository(format!(
            "restore point holds {written} bytes, expected {} pages of {}",
            meta.page_count, meta.page_size
        )));
    }
    if fingerprint::alter_row_fault() {
        let conn = rusqlite::Connection::open(tmp.path())
            .map_err(|e| sqlite_error(tmp.path(), e, cfg.busy_timeout))?;
        super::fingerprint::alter_one_row(&conn)
            .map_err(|e| sqlite_error(tmp.path(), e, cfg.busy_timeout))?;
    }
    let check = check_restored(tmp.path(), cfg, point, opts.check, progress)?;
    if opts.force {
        for p in companions(target) {
            let _ = std::fs::remove_file(p);
        }
    }
    file_target::put_in_place(tmp, target)?;
    Ok(Restored {
        target: target.display().to_string(),
        bytes_written: stream.size,
        check,
    })
}

/// Prove the restored file is the one that was backed up, before it is put
/// in place: its BLAKE3 against the image's, every table's fingerprint, and
/// SQLite's own integrity check, side by side.
fn check_restored(
    path: &Path,
    cfg: &Sqlite,
    point: &RestorePoint,
    level: CheckLevel,
    progress: &dyn Progress,
) -> Result<String> {
    if level == CheckLevel::None {
        return Ok(fingerprint::describe(level, None, ""));
    }
    let expected = point.fingerprints.as_ref();
    let err = |e| sqlite_error(path, e, cfg.busy_timeout);
    progress.phase(match level {
        CheckLevel::Full => "checking fingerprints and integrity",
        _ => "checking row counts",
    });
    let (image, tables, integrity) = std::thread::scope(|s| {
        let image = s.spawn(|| match expected.and_then(|f| f.image_blake3.as_ref()) {
            Some(want) if level == CheckLevel::Full => hash_file(path).map(|got| Some((got, want))),
            _ => Ok(None),
        });
        let integrity = s.spawn(|| {
            let pragma = match level {
                CheckLevel::Full => "integrity_check",
                _ => "quick_check",
            };
            integrity_check(path, cfg, pragma)
        });
        let tables = expected.map(|_| {
            let conn = open_immutable(path, cfg)?;
            match level {
                CheckLevel::Full => super::fingerprint::tables(&conn, err),
                _ => super::fingerprint::row_counts(&conn).map_err(err),
            }
        });
        (joined(image.join()), tables, joined(integrity.join()))
    });
    let Some(expected) = expected else {
        integrity?;
        return Ok(fingerprint::describe(level, None, ", integrity check ok"));
    };
    let compared = fingerprint::compare(expected, &tables.expect("computed")?, level, false)
        .into_result("the restored database")?;
    let mut extra = String::new();
    if let Some((got, want)) = image? {
        if &got != want {
            return Err(Error::database(format!(
                "the restored file's BLAKE3 {} differs from the backed-up image's {}",
                &got[..16],
                &want[..16]
            ))
            .with_hint("nothing was put in place; run `sqlvault verify` and report this"));
        }
        extra.push_str(", file identical");
    }
    integrity?;
    extra.push_str(", integrity check ok");
    Ok(fingerprint::describe(level, Some(compared), &extra))
}

fn joined<T>(r: std::thread::Result<Result<T>>) -> Result<T> {
    r.unwrap_or_else(|_| Err(Error::database("a check thread panicked")))
}

fn hash_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| file_target::io_error("reading", path, e))?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = std::io::Read::read(&mut f, &mut buf)
            .map_err(|e| file_target::io_error("reading", path, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

/// Open a restored file that nothing else uses, read-only and `immutable`:
/// no locks, and no `-wal` or `-shm` beside it that two checks closing at
/// once could leave behind (the rename moves only the database file).
fn open_immutable(path: &Path, cfg: &Sqlite) -> Result<rusqlite::Connection> {
    use rusqlite::OpenFlags;
    let mut uri = String::from("file:");
    for b in path.as_os_str().as_encoded_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'/' | b'.' | b'-' | b'_' | b'~' => {
                uri.push(*b as char)
            }
            _ => uri.push_str(&format!("%{b:02X}")),
        }
    }
    uri.push_str("?immutable=1");
    rusqlite::Connection::open_with_flags(
        &uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| sqlite_error(path, e, cfg.busy_timeout))
}

/// `PRAGMA integrity_check` (or `quick_check`) must answer exactly `ok`.
pub fn integrity_check(path: &Path, cfg: &Sqlite, pragma: &str) -> Result<()> {
    let conn = open_immutable(path, cfg)?;
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
