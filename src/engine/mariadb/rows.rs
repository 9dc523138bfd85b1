//! Table data as streams: each row one line in the format `LOAD DATA`
//! reads by default (fields separated by a tab, lines ended by a newline,
//! `\N` for NULL, and a backslash before a tab, newline, backslash or NUL
//! byte inside a value), written from the text protocol's values as they
//! are, so a restore loads the stream unchanged. Values travel in each
//! column's own character set (the connection asks for `binary` results),
//! so no conversion happens on the way out or in. The same bytes are the
//! row's canonical form for its fingerprint.

use super::connect::query_error;
use crate::engine::fingerprint::RowDigest;
use crate::error::{Error, Result};
use mysql::prelude::Queryable;
use mysql::{Conn, Value};
use std::io::Write;

/// The escape of a byte `LOAD DATA` reads specially, if it is one.
fn escape(c: u8) -> Option<&'static [u8]> {
    match c {
        b'\\' => Some(b"\\\\"),
        b'\t' => Some(b"\\t"),
        b'\n' => Some(b"\\n"),
        b'\r' => Some(b"\\r"),
        0 => Some(b"\\0"),
        _ => None,
    }
}

/// Append one value, escaped, to `line`.
fn push_value(line: &mut Vec<u8>, v: &Value) {
    match v {
        Value::NULL => line.extend_from_slice(b"\\N"),
        Value::Bytes(b) => {
            // Most values need no escape: copy the runs between the bytes
            // that do, rather than byte by byte.
            let mut rest = &b[..];
            while let Some(i) = rest.iter().position(|&c| escape(c).is_some()) {
                line.extend_from_slice(&rest[..i]);
                line.extend_from_slice(escape(rest[i]).unwrap_or_default());
                rest = &rest[i + 1..];
            }
            line.extend_from_slice(rest);
        }
        // The text protocol sends every other value as bytes; a value in
        // another form is written as the server would print it.
        other => line.extend_from_slice(other.as_sql(true).trim_matches('\'').as_bytes()),
    }
}

/// One row as a line, newline included; a value already taken is NULL.
pub fn encode_row(values: &[Option<Value>], line: &mut Vec<u8>) {
    line.clear();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            line.push(b'\t');
        }
        push_value(line, v.as_ref().unwrap_or(&Value::NULL));
    }
    line.push(b'\n');
}

/// Stream the rows `select` returns into `out`, one line each, and
/// return their fingerprint. Rows are read as they arrive, so memory does
/// not grow with the table.
pub fn export(conn: &mut Conn, select: &str, out: &mut dyn Write) -> Result<RowDigest> {
    let mut digest = RowDigest::default();
    let mut line = Vec::with_capacity(256);
    conn.query_drop("SET character_set_results = binary")
        .map_err(|e| query_error("asking for values as stored", &e))?;
    let mut result = conn
        .query_iter(select)
        .map_err(|e| query_error("reading a table", &e))?;
    let set = result
        .iter()
        .ok_or_else(|| Error::database(format!("`{select}` returned no rows")))?;
    // Rows are short: hand them on in batches, so that what `out` does
    // per write (progress, the stream's bookkeeping) is not done per row.
    let mut out = std::io::BufWriter::with_capacity(256 << 10, out);
    let written = |e: std::io::Error| Error::database(format!("writing a table's rows: {e}"));
    for row in set {
        let row = row.map_err(|e| query_error("reading a table", &e))?;
        encode_row(&row.unwrap_raw(), &mut line);
        digest.add_row(&line);
        out.write_all(&line).map_err(written)?;
    }
    out.flush().map_err(written)?;
    Ok(digest)
}

/// Load a stream of [`export`]ed rows into `table` (a quoted name) with
/// `LOAD DATA LOCAL INFILE`, the client sending `data` as the file; the
/// values fill `columns` (a quoted list; empty: every column). Returns
/// the rows the server loaded.
pub fn load(
    conn: &mut Conn,
    table: &str,
    columns: &str,
    data: Box<dyn std::io::Read + Send>,
) -> Result<u64> {
    let source = std::sync::Arc::new(std::sync::Mutex::new(Some(data)));
    let handler = mysql::LocalInfileHandler::new(move |_, file| {
        if let Some(mut r) = source.lock().unwrap().take() {
            std::io::copy(&mut r, file)?;
        }
        Ok(())
    });
    conn.set_local_infile_handler(Some(handler));
    // `CHARACTER SET binary`: the bytes go in as they came out, whatever
    // each column's character set.
    let columns = if columns.is_empty() {
        String::new()
    } else {
        format!(" ({columns})")
    };
    let loaded = conn
        .query_drop(format!(
            "LOAD DATA LOCAL INFILE 'sqlvault-stream' INTO TABLE {table} CHARACTER SET binary{columns}"
        ))
        .map(|_| conn.affected_rows())
        .map_err(|e| query_error(&format!("loading {table}"), &e));
    conn.set_local_infile_handler(None);
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_as_load_data_reads_them() {
        let mut line = Vec::new();
        encode_row(
            &[
                Some(Value::Bytes(b"plain".to_vec())),
                Some(Value::NULL),
                Some(Value::Bytes(b"a\tb\nc\\d\0e\rf".to_vec())),
                Some(Value::Bytes(Vec::new())),
                Some(Value::Bytes("𝄞 ünï".as_bytes().to_vec())),
                None,
                Some(Value::Bytes(b"\\\\end\\".to_vec())),
            ],
            &mut line,
        );
        assert_eq!(
            line,
            "plain\t\\N\ta\\tb\\nc\\\\d\\0e\\rf\t\t𝄞 ünï\t\\N\t\\\\\\\\end\\\\\n".as_bytes()
        );
    }
}
