//! Exporting the page image of a live SQLite database.

use super::{DATABASE_STREAM, Sqlite, SqliteMeta, sqlite_error};
use crate::engine::{Exported, fingerprint};
use crate::error::{Error, Result, show_path};
use crate::progress::Progress;
use crate::repo::point::Fingerprints;
use crate::repo::writer::BackupWriter;
use rusqlite::{Connection, OpenFlags};
use std::io::{Read, Write};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StagingMode {
    /// `direct` for WAL databases, `copy` for rollback-journal ones.
    Auto,
    /// Read pages from the live database in one read transaction.
    Direct,
    /// Copy the database with the online backup API into a staging file
    /// first, then read that; the staging file is removed afterwards.
    Copy,
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// A staging copy is `sqlvault-staging-XXXXXX.db` in the staging directory.
const STAGING_PREFIX: &str = "sqlvault-staging-";
const STAGING_SUFFIX: &str = ".db";

/// The staging copy `name` belongs to (itself, or the one SQLite's
/// `-journal`, `-wal` or `-shm` file sits beside), if it is one.
fn staging_owner(name: &str) -> Option<String> {
    let main = crate::leftovers::sqlite_main_name(name);
    let random = main
        .strip_prefix(STAGING_PREFIX)?
        .strip_suffix(STAGING_SUFFIX)?;
    crate::leftovers::is_random_part(random).then(|| main.to_string())
}

/// Remove the staging copies killed backups left in `cfg`'s staging
/// directory: they hold a database unencrypted. Says so for each.
pub(super) fn remove_leftovers(cfg: &Sqlite) -> Vec<String> {
    let dir = cfg.staging_dir.clone().unwrap_or_else(std::env::temp_dir);
    let r = crate::leftovers::remove_stale(&dir, staging_owner);
    let removed = r.removed.iter().map(|p| {
        format!(
            "removed {}, a staging copy left by an interrupted backup (it held a database unencrypted)",
            show_path(p)
        )
    });
    let failed = r.failed.iter().map(|(p, e)| {
        format!(
            "cannot remove {}, a staging copy left by an interrupted backup that holds a database unencrypted ({e}): remove it by hand",
            show_path(p)
        )
    });
    removed.chain(failed).collect()
}

fn check_file(path: &Path) -> Result<()> {
    let p = show_path(path);
    let mut f = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::database(format!("{p} does not exist"))
            .with_hint("check the path of the database to back up"),
        std::io::ErrorKind::PermissionDenied => {
            Error::database(format!("permission denied on {p}"))
        }
        _ => Error::database(format!("cannot open {p}: {e}")),
    })?;
    if f.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(Error::database(format!(
            "{p} is a directory, not a SQLite database"
        ))
        .with_hint(
            "give the database files in it (`sqlvault backup DIR/*.db`), or protect every SQLite file in a directory with a policy source (`directory = ...`, `auto-protect = true`)",
        ));
    }
    let mut head = [0u8; 16];
    if f.read_exact(&mut head).is_err() || &head != SQLITE_MAGIC {
        return Err(Error::database(format!("{p} is not a SQLite database"))
            .with_hint("check the path; sqlvault backs up SQLite database files"));
    }
    Ok(())
}

fn open(path: &Path, cfg: &Sqlite) -> Result<Connection> {
    // Read-write so that a WAL database can be read without its -shm being
    // created by someone else first; nothing is ever written.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags)
        .map_err(|e| sqlite_error(path, e, cfg.busy_timeout))?;
    conn.busy_timeout(cfg.busy_timeout)
        .map_err(|e| sqlite_error(path, e, cfg.busy_timeout))?;
    Ok(conn)
}

pub(super) fn run(
    cfg: &Sqlite,
    writer: &BackupWriter,
    progress: &dyn Progress,
) -> Result<Exported> {
    let path = &cfg.path;
    check_file(path)?;
    let conn = open(path, cfg)?;
    let err = |e| sqlite_error(path, e, cfg.busy_timeout);
    let journal_mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .map_err(err)?;
    let staging = match cfg.staging {
        StagingMode::Auto if journal_mode.eq_ignore_ascii_case("wal") => StagingMode::Direct,
        StagingMode::Auto => StagingMode::Copy,
        m => m,
    };
    let (mut meta, fingerprints) = match staging {
        StagingMode::Copy => {
            progress.phase("staging copy");
            let dir = cfg.staging_dir.clone().unwrap_or_else(std::env::temp_dir);
            // Removed when dropped, on success and on failure alike; held
            // while it exists, so that the next backup removes it only if
            // this one was killed.
            let staged =
                crate::leftovers::create(&dir, STAGING_PREFIX, STAGING_SUFFIX).map_err(|e| {
                    crate::error::local_io_error("creating a staging copy in", &dir, e).with_hint(
                        "choose another --staging-dir, or --staging direct for a WAL database",
                    )
                })?;
            copy_all(&conn, staged.path()).map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::DiskFull) => Error::new(
                    crate::error::Kind::Storage,
                    format!(
                        "disk full while writing the staging copy in {}",
                        show_path(&dir)
                    ),
                )
                .with_hint("free space there, or choose another --staging-dir"),
                _ => err(e),
            })?;
            drop(conn);
            let staged_conn = open(staged.path(), cfg)?;
            progress.phase("reading pages");
            export_pages(&staged_conn, staged.path(), true, cfg, writer, progress)?
        }
        _ => {
            progress.phase("reading pages");
            export_pages(&conn, path, false, cfg, writer, progress)?
        }
    };
    meta.journal_mode = journal_mode;
    meta.staging = match staging {
        StagingMode::Copy => "copy",
        _ => "direct",
    }
    .into();
    let database = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "database".into());
    let source = source_of(path);
    Ok(Exported {
        database,
        source,
        meta: serde_json::to_value(meta).expect("meta serialises"),
        fingerprints,
        note: None,
    })
}

/// The absolute path, as restore points record it.
pub fn source_of(path: &Path) -> String {
    std::fs::canonicalize(path)
        .unwrap_or_else(|_| path.to_path_buf())
        .display()
        .to_string()
}

/// Copy the whole database in one step of the online backup API: one read
/// lock for the whole copy, so a busy writer cannot make it start over
/// (which copying in small steps would, again and again).
fn copy_all(src: &Connection, dst_path: &Path) -> rusqlite::Result<()> {
    use rusqlite::backup::{Backup, StepResult};
    let mut dst = Connection::open(dst_path)?;
    let backup = Backup::new(src, &mut dst)?;
    match backup.step(-1)? {
        StepResult::Done => Ok(()),
        _ => Err(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
            Some("database is locked".into()),
        )),
    }
}

/// Stream every page of one committed state into the writer.
fn export_pages(
    conn: &Connection,
    path: &Path,
    private: bool,
    cfg: &Sqlite,
    writer: &BackupWriter,
    progress: &dyn Progress,
) -> Result<(SqliteMeta, Fingerprints)> {
    let err = |e| sqlite_error(path, e, cfg.busy_timeout);
    conn.execute_batch("BEGIN DEFERRED").map_err(err)?;
    // The first read fixes the snapshot every later statement sees.
    let page_size: i64 = conn
        .query_row("PRAGMA page_size", [], |r| r.get(0))
        .map_err(err)?;
    let page_count: i64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .map_err(err)?;
    let (page_size, page_count) = (page_size as u64, page_count as u64);
    let sqlite_version: String = conn
        .query_row("SELECT sqlite_version()", [], |r| r.get(0))
        .map_err(err)?;
    progress.set_total(page_size * page_count);
    // The rows of exactly these pages, read beside them where possible.
    let beside = super::scan::scan_beside(
        conn,
        path,
        private,
        crate::util::cores(),
        err_owned(path, cfg),
    );
    let mut stream = writer.stream_of_pages(DATABASE_STREAM, page_size as usize)?;
    let write_err = |e: std::io::Error| match e.into_inner() {
        Some(inner) => match inner.downcast::<Error>() {
            Ok(e) => *e,
            Err(other) => Error::database(other.to_string()),
        },
        None => Error::database("backup stream failed"),
    };
    // Pages go out in batches: fewer writes, and BLAKE3 hashes long runs
    // far faster than single pages.
    let mut image = ImageWriter {
        stream: &mut stream,
        hasher: blake3::Hasher::new(),
        buf: Vec::with_capacity(BATCH),
    };
    let zero = vec![0u8; page_size as usize];
    let mut expected = 1u64;
    {
        let mut stmt = conn
            .prepare("SELECT pgno, data FROM sqlite_dbpage('main')")
            .map_err(err)?;
        let mut rows = stmt.query([]).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            let pgno = row.get::<_, i64>(0).map_err(err)? as u64;
            let data = row.get_ref(1).map_err(err)?.as_blob().unwrap_or(&[]);
            // Pages sqlite_dbpage skips (the lock-byte page) are zeros on disk too.
            while expected < pgno {
                image.write(&zero).map_err(write_err)?;
                expected += 1;
            }
            if data.len() as u64 != page_size {
                return Err(Error::database(format!(
                    "page {pgno} of {} has {} bytes, expected {page_size}",
                    show_path(path),
                    data.len()
                )));
            }
            image.write(data).map_err(write_err)?;
            progress.advance(page_size);
            expected += 1;
        }
    }
    while expected <= page_count {
        image.write(&zero).map_err(write_err)?;
        expected += 1;
    }
    let image_blake3 = image.finish().map_err(write_err)?;
    progress.phase("fingerprinting tables");
    let tables = match beside {
        Some(scan) => scan
            .join()
            .unwrap_or_else(|_| Err(Error::database("the fingerprint thread panicked")))?,
        // Same read transaction: the rows of exactly the pages stored.
        None => super::fingerprint::tables(conn, err)?,
    };
    conn.execute_batch("COMMIT").map_err(err)?;
    stream.finish()?;
    let fingerprints = fingerprint::new_set(tables, Some(image_blake3));
    let meta = SqliteMeta {
        page_size,
        page_count,
        journal_mode: String::new(),
        sqlite_version,
        staging: String::new(),
    };
    Ok((meta, fingerprints))
}

/// An error mapper a thread can own.
fn err_owned(
    path: &Path,
    cfg: &Sqlite,
) -> impl Fn(rusqlite::Error) -> Error + Send + Sync + 'static {
    let path = path.to_path_buf();
    let busy = cfg.busy_timeout;
    move |e| sqlite_error(&path, e, busy)
}

const BATCH: usize = 1 << 20;

/// Writes the page image to its stream and hashes it on the way.
struct ImageWriter<'a, W: Write> {
    stream: &'a mut W,
    hasher: blake3::Hasher,
    buf: Vec<u8>,
}

impl<W: Write> ImageWriter<'_, W> {
    fn write(&mut self, page: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(page);
        if self.buf.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.hasher.update(&self.buf);
        self.stream.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> std::io::Result<String> {
        self.flush()?;
        Ok(self.hasher.finalize().to_hex().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_copies_are_recognised_by_name() {
        assert_eq!(
            staging_owner("sqlvault-staging-Ab12cD.db").as_deref(),
            Some("sqlvault-staging-Ab12cD.db")
        );
        assert_eq!(
            staging_owner("sqlvault-staging-Ab12cD.db-journal").as_deref(),
            Some("sqlvault-staging-Ab12cD.db")
        );
        for not in [
            "sqlvault-staging-Ab12c.db",
            "sqlvault-staging-Ab12cD.db.bak",
            "sqlvault-staging-Ab12cD",
            "my.db",
            "sqlvault-verify-Ab12cD",
        ] {
            assert_eq!(staging_owner(not), None, "{not}");
        }
    }
}
