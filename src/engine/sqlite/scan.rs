//! Fingerprinting a database's tables on other connections while the
//! backup reads its pages, each pinned to the very state those pages come
//! from: a private staging copy (nothing writes it), or, for a WAL
//! database, SQLite's snapshot API (the backup's connection stays inside
//! its read transaction meanwhile, which also keeps the WAL frames of that
//! snapshot from being checkpointed away). Large rowid tables are cut into
//! rowid ranges scanned side by side; a table's digest is a sum, so the
//! ranges add up to the whole.

use super::fingerprint::{digest_rows, quote, select_all, table_names};
use crate::engine::fingerprint::RowDigest;
use crate::error::{Error, Result};
use crate::repo::point::{FingerprintKind, TableFingerprint};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;

/// Rowid spans below this are scanned whole.
const SPLIT_ROWS: i64 = 200_000;

/// One piece of work: a table, or a rowid range of one.
struct Unit {
    table: usize,
    range: Option<(i64, i64)>,
}

/// Start scanning on `workers` connections that see what `conn` sees;
/// None when they cannot be pinned to it (the caller then scans on `conn`
/// after the pages, in the same transaction).
pub(super) fn scan_beside(
    conn: &Connection,
    path: &Path,
    private: bool,
    workers: usize,
    err: impl Fn(rusqlite::Error) -> Error + Send + Sync + 'static,
) -> Option<JoinHandle<Result<Vec<TableFingerprint>>>> {
    let mut conns = Vec::new();
    for _ in 0..workers.max(1) {
        let c = pinned(conn, path, private)?;
        conns.push(c);
    }
    let (names, units) = plan(&conns[0]).ok()?;
    Some(std::thread::spawn(move || {
        let digests = Mutex::new(vec![RowDigest::default(); names.len()]);
        let next = AtomicUsize::new(0);
        let failed: Mutex<Option<Error>> = Mutex::new(None);
        std::thread::scope(|s| {
            for c in conns {
                let (digests, next, failed, units, names, err) =
                    (&digests, &next, &failed, &units, &names, &err);
                s.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(u) = units.get(i) else { break };
                        if failed.lock().unwrap().is_some() {
                            break;
                        }
                        let sql = match u.range {
                            None => select_all(&names[u.table]),
                            Some((lo, hi)) => format!(
                                "{} WHERE rowid BETWEEN {lo} AND {hi}",
                                select_all(&names[u.table])
                            ),
                        };
                        match digest_rows(&c, &sql, err) {
                            Ok(d) => digests.lock().unwrap()[u.table].merge(&d),
                            Err(e) => {
                                failed.lock().unwrap().get_or_insert(e);
                            }
                        }
                    }
                    let _ = c.execute_batch("COMMIT");
                });
            }
        });
        if let Some(e) = failed.into_inner().unwrap() {
            return Err(e);
        }
        Ok(names
            .into_iter()
            .zip(digests.into_inner().unwrap())
            .map(|(n, d)| d.entry(n, FingerprintKind::Table))
            .collect())
    }))
}

/// The tables, and the work: large rowid tables in ranges, largest first.
fn plan(c: &Connection) -> rusqlite::Result<(Vec<String>, Vec<Unit>)> {
    let names = table_names(c)?;
    let mut units = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let span = rowid_span(c, name)?;
        match span {
            Some((lo, hi, rows)) if rows > SPLIT_ROWS => {
                let parts = 8;
                let step = (hi - lo) / parts + 1;
                for p in 0..parts {
                    let a = lo + p * step;
                    let b = if p + 1 == parts { hi } else { a + step - 1 };
                    units.push((
                        rows / parts,
                        Unit {
                            table: i,
                            range: Some((a, b)),
                        },
                    ));
                }
            }
            Some((_, _, rows)) => units.push((
                rows,
                Unit {
                    table: i,
                    range: None,
                },
            )),
            None => units.push((
                i64::MAX,
                Unit {
                    table: i,
                    range: None,
                },
            )),
        }
    }
    units.sort_by_key(|(w, _)| std::cmp::Reverse(*w));
    Ok((names, units.into_iter().map(|(_, u)| u).collect()))
}

/// (min rowid, max rowid, rows) of a table that has a rowid no column
/// shadows; None for WITHOUT ROWID tables and those (scanned whole).
fn rowid_span(c: &Connection, name: &str) -> rusqlite::Result<Option<(i64, i64, i64)>> {
    let sql: String = c.query_row(
        "SELECT coalesce(sql, '') FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [name],
        |r| r.get(0),
    )?;
    if sql.to_ascii_uppercase().contains("WITHOUT ROWID") {
        return Ok(None);
    }
    let mut stmt = c.prepare(&format!(
        "SELECT name FROM pragma_table_info({})",
        quote_literal(name)
    ))?;
    let shadowed = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .filter_map(|n| n.ok())
        .any(|n| n.eq_ignore_ascii_case("rowid"));
    if shadowed {
        return Ok(None);
    }
    c.query_row(
        &format!(
            "SELECT min(rowid), max(rowid), max(rowid) - min(rowid) + 1 FROM {}",
            quote(name)
        ),
        [],
        |r| {
            Ok(
                match (r.get::<_, Option<i64>>(0)?, r.get::<_, Option<i64>>(1)?) {
                    (Some(lo), Some(hi)) => {
                        Some((lo, hi, r.get::<_, Option<i64>>(2)?.unwrap_or(i64::MAX)))
                    }
                    _ => Some((0, 0, 0)),
                },
            )
        },
    )
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A read-only connection inside a read transaction on what `first` reads.
fn pinned(first: &Connection, path: &Path, private: bool) -> Option<Connection> {
    let c = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .ok()?;
    // One read first, so that the connection knows the database is in WAL
    // mode (a snapshot can only be opened on a WAL pager); then a read
    // transaction that has read nothing yet, for the snapshot to pin.
    c.query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
        .ok()?;
    c.execute_batch("BEGIN DEFERRED").ok()?;
    if !private && !same_snapshot(first, &c) {
        return None;
    }
    Some(c)
}

/// Put `second` (in a read transaction that has read nothing yet) on the
/// state `first` reads.
fn same_snapshot(first: &Connection, second: &Connection) -> bool {
    use rusqlite::ffi;
    let main = c"main";
    let mut snap: *mut ffi::sqlite3_snapshot = std::ptr::null_mut();
    // SAFETY: both handles are open connections owned by this thread for
    // the duration of the calls; a snapshot is freed exactly once.
    unsafe {
        if ffi::sqlite3_snapshot_get(first.handle(), main.as_ptr(), &mut snap) == ffi::SQLITE_OK {
            let rc = ffi::sqlite3_snapshot_open(second.handle(), main.as_ptr(), snap);
            ffi::sqlite3_snapshot_free(snap);
            return rc == ffi::SQLITE_OK;
        }
        // SQLite takes no snapshot of an empty WAL: `first` reads the
        // database file alone. While it does, no checkpoint can copy frames
        // into that file, so if the WAL is still empty once `second` reads,
        // nothing was committed in between and both see the same state.
        if second
            .query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))
            .is_err()
        {
            return false;
        }
        if ffi::sqlite3_snapshot_get(second.handle(), main.as_ptr(), &mut snap) == ffi::SQLITE_OK {
            ffi::sqlite3_snapshot_free(snap);
            return false;
        }
        true
    }
}
