//! One table of a package as CSV (RFC 4180: UTF-8, a header row, CRLF line
//! ends; NULL is an empty field, an empty string is `""`) or as JSON lines
//! (one object per row, NULL as null). No SQL Server is needed.

use super::bcp::RowReader;
use super::package;
use super::restore::{meta_of, read_model, restore_error, restore_read};
use super::value::{Rendered, render};
use super::{Bacpac, TableFormat, part_stream};
use crate::engine::fingerprint::{self, RowDigest};
use crate::engine::{CheckLevel, RestoreOptions, Restored, file_target};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::{FingerprintKind, RestorePoint};
use std::io::{BufRead, Write};

/// The table `wanted` names: `schema.table`, or a table name that only one
/// schema has.
fn find<'a>(tables: &'a [super::model::Table], wanted: &str) -> Result<&'a super::model::Table> {
    if let Some(t) = tables.iter().find(|t| t.key() == wanted) {
        return Ok(t);
    }
    let by_name: Vec<_> = tables.iter().filter(|t| t.name == wanted).collect();
    match by_name.as_slice() {
        [one] => Ok(one),
        [] => Err(Error::usage(format!("the package has no table `{wanted}`"))
            .with_hint("name it as schema.table; `sqlvault show POINT` lists the tables")),
        many => Err(Error::usage(format!(
            "`{wanted}` names {} tables ({})",
            many.len(),
            many.iter().map(|t| t.key()).collect::<Vec<_>>().join(", ")
        ))
        .with_hint("name it as schema.table")),
    }
}

fn csv_field(out: &mut Vec<u8>, v: &Rendered) {
    match v {
        Rendered::Null => {}
        Rendered::Number(n) => out.extend_from_slice(n.as_bytes()),
        Rendered::Bool(b) => out.push(if *b { b'1' } else { b'0' }),
        Rendered::Text(s) => csv_text(out, s),
    }
}

fn csv_text(out: &mut Vec<u8>, s: &str) {
    if !s.is_empty() && !s.contains(['"', ',', '\r', '\n']) {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
    out.push(b'"');
}

fn json_value(out: &mut Vec<u8>, v: &Rendered) {
    match v {
        Rendered::Null => out.extend_from_slice(b"null"),
        Rendered::Number(n) => out.extend_from_slice(n.as_bytes()),
        Rendered::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Rendered::Text(s) => out.extend_from_slice(
            serde_json::to_string(s)
                .expect("a string serialises")
                .as_bytes(),
        ),
    }
}

/// Writes the rows of one table in the chosen format.
struct TableWriter<'a> {
    out: std::io::BufWriter<&'a std::fs::File>,
    format: TableFormat,
    names: Vec<String>,
    line: Vec<u8>,
}

impl TableWriter<'_> {
    fn header(&mut self) -> std::io::Result<()> {
        if self.format == TableFormat::Csv {
            self.line.clear();
            for (i, n) in self.names.iter().enumerate() {
                if i > 0 {
                    self.line.push(b',');
                }
                csv_text(&mut self.line, n);
            }
            self.line.extend_from_slice(b"\r\n");
            self.out.write_all(&self.line)?;
        }
        Ok(())
    }

    fn row(&mut self, values: impl Iterator<Item = Rendered>) -> std::io::Result<()> {
        self.line.clear();
        match self.format {
            TableFormat::Csv => {
                for (i, v) in values.enumerate() {
                    if i > 0 {
                        self.line.push(b',');
                    }
                    csv_field(&mut self.line, &v);
                }
                self.line.extend_from_slice(b"\r\n");
            }
            TableFormat::Jsonl => {
                self.line.push(b'{');
                for (i, v) in values.enumerate() {
                    if i > 0 {
                        self.line.push(b',');
                    }
                    json_value(&mut self.line, &Rendered::Text(self.names[i].clone()));
                    self.line.push(b':');
                    json_value(&mut self.line, &v);
                }
                self.line.extend_from_slice(b"}\n");
            }
        }
        self.out.write_all(&self.line)
    }
}

enum PartError {
    Decode(super::bcp::DecodeError),
    Write(std::io::Error),
}

pub(super) fn run(
    cfg: &Bacpac,
    wanted: &str,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Restored> {
    let target = &cfg.path;
    let meta = meta_of(point)?;
    let (tables, _) = read_model(repo, index, point, progress)?;
    let table = find(&tables, wanted)?;
    let key = table.key();
    let layouts = super::backup::layouts(std::slice::from_ref(table));
    let columns = match &layouts[&key] {
        Ok(c) => c,
        Err(why) => {
            return Err(
                Error::database(format!("table {key} cannot be read: {why}"))
                    .with_hint("restore the whole package with --to FILE.bacpac and import it"),
            );
        }
    };
    let mut parts: Vec<_> = meta
        .entries
        .iter()
        .filter(|e| package::part_table(&e.name).as_deref() == Some(key.as_str()))
        .collect();
    parts.sort_by(|a, b| a.name.cmp(&b.name));
    let tmp = file_target::start(target, std::slice::from_ref(target), opts.force)?;
    progress.set_total(parts.iter().map(|e| e.size).sum());
    progress.phase(&format!("writing {key}"));
    let format = opts
        .table_format
        .unwrap_or_else(|| TableFormat::for_path(target));
    let write_err = |e: std::io::Error| file_target::io_error("writing", target, e);
    let mut w = TableWriter {
        out: std::io::BufWriter::with_capacity(1 << 16, tmp.as_file()),
        format,
        names: table.columns.iter().map(|c| c.name.clone()).collect(),
        line: Vec::new(),
    };
    w.header().map_err(write_err)?;
    let mut digest = RowDigest::default();
    for part in parts {
        crate::interrupt::check()?;
        let stream = point.stream(&part_stream(&part.name))?;
        let read = |r: &mut dyn BufRead| -> std::result::Result<RowDigest, PartError> {
            let mut rows = RowReader::new(r, columns, true);
            let mut d = RowDigest::default();
            while rows.next_row().map_err(PartError::Decode)? {
                d.add_hashed(rows.row_hash());
                let values = rows.values().zip(columns).map(|(v, c)| match v {
                    None => Rendered::Null,
                    Some(b) => render(c.ty.kind, b),
                });
                w.row(values).map_err(PartError::Write)?;
            }
            Ok(d)
        };
        let d = restore_read(repo, index, stream, &mut std::io::sink(), progress, read)
            .map_err(|e| restore_error(e, write_err))?
            .map_err(|e| match e {
                PartError::Write(io) => write_err(io),
                PartError::Decode(err) => Error::repository(format!(
                    "restored data part `{}` cannot be read: {err}",
                    part.name
                )),
            })?;
        digest.merge(&d);
    }
    w.out.flush().map_err(write_err)?;
    drop(w);
    let bytes_written = tmp.as_file().metadata().map(|m| m.len()).unwrap_or(0);
    let check = match point.fingerprints.as_ref() {
        Some(expected) if opts.check != CheckLevel::None => {
            let actual = [digest.entry(key.clone(), FingerprintKind::Table)];
            let n = fingerprint::compare(expected, &actual, opts.check, true)
                .into_result("the restored table")?;
            fingerprint::describe(opts.check, Some(n), "")
        }
        _ => fingerprint::describe(opts.check, None, ""),
    };
    file_target::put_in_place(tmp, target)?;
    Ok(Restored {
        target: format!("{} ({key}, {} rows)", target.display(), digest.rows),
        bytes_written,
        check,
    })
}
