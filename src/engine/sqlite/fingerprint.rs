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
fn table_names(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' \
         AND coalesce(sql, '') NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
    )?;
    let names: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names)
}

fn quote(name: &str) -> String {
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
    let mut row_bytes = Vec::with_capacity(4096);
    for name in table_names(conn).map_err(&err)? {
        crate::interrupt::check()?;
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {}", quote(&name)))
            .map_err(&err)?;
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).map_err(&err)?;
        let mut digest = RowDigest::default();
        while let Some(row) = rows.next().map_err(&err)? {
            row_bytes.clear();
            for i in 0..columns {
                encode(row.get_ref(i).map_err(&err)?, &mut row_bytes);
            }
            digest.add_row(&row_bytes);
        }
        out.push(digest.entry(name, FingerprintKind::Table));
    }
    Ok(out)
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
