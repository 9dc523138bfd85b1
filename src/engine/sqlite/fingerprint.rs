//! SQLite fingerprints: per table, its rows as typed values, read inside
//! the backup's read transaction (so they describe exactly the page image
//! that was stored), and recomputed from a restored file the same way.

use crate::engine::fingerprint::RowDigest;
use crate::error::{Error, Result};
use crate::repo::point::{FingerprintKind, TableFingerprint};
use rusqlite::Connection;
use rusqlite::types::ValueRef;

/// Every ordinary table (virtual tables hold no rows of their own; their
/// shadow tables are ordinary tables and are counted).
pub(super) fn table_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' \
         AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
    )?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

pub(super) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A value's canonical bytes: a type tag, then the value (numbers little
/// endian, text and blobs with their length).
fn encode(v: ValueRef<'_>, out: &mut Vec<u8>) {
    match v {
        ValueRef::Null => out.push(0),
        ValueRef::Integer(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_le_bytes());
        }
        ValueRef::Real(f) => {
            out.push(2);
            out.extend_from_slice(&f.to_bits().to_le_bytes());
        }
        ValueRef::Text(t) => {
            out.push(3);
            out.extend_from_slice(&(t.len() as u64).to_le_bytes());
            out.extend_from_slice(t);
        }
        ValueRef::Blob(b) => {
            out.push(4);
            out.extend_from_slice(&(b.len() as u64).to_le_bytes());
            out.extend_from_slice(b);
        }
    }
}

/// The fingerprint of every table, as `conn` sees the database now.
pub(super) fn tables(
    conn: &Connection,
    err: impl Fn(rusqlite::Error) -> Error,
) -> Result<Vec<TableFingerprint>> {
    let mut out = Vec::new();
    for name in table_names(conn).map_err(&err)? {
        let digest = digest_rows(conn, &select_all(&name), &err)?;
        out.push(digest.entry(name, FingerprintKind::Table));
    }
    Ok(out)
}

/// `SELECT * FROM "name"`: the rows whose values are hashed.
pub(super) fn select_all(name: &str) -> String {
    format!("SELECT * FROM {}", quote(name))
}

/// The digest of the rows `sql` returns.
pub(super) fn digest_rows(
    conn: &Connection,
    sql: &str,
    err: &impl Fn(rusqlite::Error) -> Error,
) -> Result<RowDigest> {
    crate::interrupt::check()?;
    let mut row_bytes = Vec::with_capacity(4096);
    let mut stmt = conn.prepare(sql).map_err(err)?;
    let columns = stmt.column_count();
    let mut rows = stmt.query([]).map_err(err)?;
    let mut digest = RowDigest::default();
    while let Some(row) = rows.next().map_err(err)? {
        row_bytes.clear();
        for i in 0..columns {
            encode(row.get_ref(i).map_err(err)?, &mut row_bytes);
        }
        digest.add_row(&row_bytes);
    }
    Ok(digest)
}

/// Row counts only (`--check quick`).
pub(super) fn row_counts(conn: &Connection) -> rusqlite::Result<Vec<TableFingerprint>> {
    let mut out = Vec::new();
    for name in table_names(conn)? {
        let rows: i64 =
            conn.query_row(&format!("SELECT count(*) FROM {}", quote(&name)), [], |r| {
                r.get(0)
            })?;
        out.push(TableFingerprint {
            name,
            kind: FingerprintKind::Table,
            rows: rows as u64,
            digest: String::new(),
        });
    }
    Ok(out)
}

/// The test-only fault: change one value of the first table with rows.
pub(super) fn alter_one_row(conn: &Connection) -> rusqlite::Result<()> {
    for name in table_names(conn)? {
        if name.starts_with("sqlite_") {
            continue;
        }
        let q = quote(&name);
        let n = conn.execute(
            &format!("DELETE FROM {q} WHERE rowid = (SELECT min(rowid) FROM {q})"),
            [],
        );
        if matches!(n, Ok(1)) {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_second_connection_sees_the_first_ones_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = wal; CREATE TABLE t (a); INSERT INTO t VALUES (1), (2);",
            )
            .unwrap();
        let reader = Connection::open(&path).unwrap();
        reader.execute_batch("BEGIN").unwrap();
        let n: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        // A commit after the reader's snapshot was taken.
        writer.execute_batch("INSERT INTO t VALUES (3)").unwrap();
        let err = |e: rusqlite::Error| Error::database(e.to_string());
        let beside = super::super::scan::scan_beside(&reader, &path, false, 2, err)
            .expect("a snapshot scan");
        let seen = beside.join().unwrap().unwrap();
        assert_eq!(seen, tables(&reader, err).unwrap());
        assert_eq!(seen[0].rows, 2);
    }

    #[test]
    fn an_empty_wal_pins_too_unless_a_commit_came_between() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        let writer = Connection::open(&path).unwrap();
        writer
            .execute_batch(
                "PRAGMA journal_mode = wal; CREATE TABLE t (a); INSERT INTO t VALUES (1), (2);\
                 PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .unwrap();
        let err = |e: rusqlite::Error| Error::database(e.to_string());
        let start = || {
            let reader = Connection::open(&path).unwrap();
            reader.execute_batch("BEGIN").unwrap();
            reader
                .query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))
                .unwrap();
            reader
        };
        // Nothing committed since the reader began: the scan pins to it.
        let reader = start();
        let seen = super::super::scan::scan_beside(&reader, &path, false, 2, err)
            .expect("an empty WAL still pins")
            .join()
            .unwrap()
            .unwrap();
        assert_eq!(seen, tables(&reader, err).unwrap());
        reader.execute_batch("COMMIT").unwrap();
        writer
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
        // A commit after the reader began: the scan either sees what the
        // reader sees, or declines (the caller then scans on the reader).
        let reader = start();
        writer.execute_batch("INSERT INTO t VALUES (3)").unwrap();
        if let Some(scan) = super::super::scan::scan_beside(&reader, &path, false, 2, err) {
            let seen = scan.join().unwrap().unwrap();
            assert_eq!(seen, tables(&reader, err).unwrap());
            assert_eq!(seen[0].rows, 2);
        }
    }
}
