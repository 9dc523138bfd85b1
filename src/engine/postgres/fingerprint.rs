//! PostgreSQL fingerprints: per table from the COPY stream the backup
//! reads anyway (each row of COPY output is hashed as it passes), per
//! sequence its value, and the large objects as one entry. A restore
//! recomputes them from the restored database with the same COPY, in the
//! same format and session settings, before it is put in place.

use super::ConnSpec;
use super::backup::{
    FirstError, SESSION, copy_source, divisible, format_clause, holds_large_share,
};
use super::catalog::qualified;
use super::connect::{connect, query_error};
use super::copy_out::CopyConnection;
use super::split_load::{SIGNATURE, TRAILER, row_end};
use super::{CopyFormat, PgMeta, SequenceValue, TableInfo, catalog, largeobjects};
use crate::engine::CheckLevel;
use crate::engine::fingerprint::{self, RowDigest};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::point::{FingerprintKind, Fingerprints, TableFingerprint};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Hashes each row of a COPY output stream as it arrives in pieces.
pub(super) struct CopyDigest {
    format: CopyFormat,
    /// The start of a row whose end has not arrived yet.
    carry: Vec<u8>,
    header_done: bool,
    ended: bool,
    pub digest: RowDigest,
}

impl CopyDigest {
    pub fn new(format: CopyFormat) -> Self {
        CopyDigest {
            format,
            carry: Vec::new(),
            header_done: format == CopyFormat::Text,
            ended: false,
            digest: RowDigest::default(),
        }
    }

    pub fn feed(&mut self, mut data: &[u8]) -> Result<()> {
        // Finish the row that straddles the last piece with as few bytes
        // of this one as it needs (doubling, so a long row stays linear),
        // then hash the rest where it lies instead of copying it.
        while !self.carry.is_empty() {
            if data.is_empty() {
                return Ok(());
            }
            let before = self.carry.len();
            let take = data.len().min(before.max(4096));
            let mut buf = std::mem::take(&mut self.carry);
            buf.extend_from_slice(&data[..take]);
            let used = self.parse(&buf)?;
            if used >= before {
                data = &data[used - before..];
                buf.clear();
                self.carry = buf;
                break;
            }
            buf.drain(..used);
            self.carry = buf;
            data = &data[take..];
        }
        let used = self.parse(data)?;
        self.carry.extend_from_slice(&data[used..]);
        Ok(())
    }

    /// Hash the whole rows at the front of `buf`; how many bytes they took.
    fn parse(&mut self, buf: &[u8]) -> Result<usize> {
        let mut at = 0;
        if !self.header_done {
            if buf.len() < 19 {
                return Ok(0);
            }
            if &buf[..11] != SIGNATURE {
                return Err(Error::database("binary COPY data lacks its header"));
            }
            let ext = u32::from_be_bytes(buf[15..19].try_into().unwrap()) as usize;
            if buf.len() < 19 + ext {
                return Ok(0);
            }
            at = 19 + ext;
            self.header_done = true;
        }
        while !self.ended {
            if self.format == CopyFormat::Binary && buf[at..].starts_with(&TRAILER) {
                self.ended = true;
                at += TRAILER.len();
                break;
            }
            match row_end(buf, at, self.format)? {
                Some(end) => {
                    self.digest.add_row(&buf[at..end]);
                    at = end;
                }
                None => break,
            }
        }
        Ok(at)
    }

    /// The digest, once the stream is known to have ended on a row boundary.
    pub fn finish(self, what: &str) -> Result<RowDigest> {
        let whole = match self.format {
            CopyFormat::Text => self.carry.is_empty(),
            CopyFormat::Binary => self.ended && self.carry.is_empty(),
        };
        if !whole {
            return Err(Error::database(format!(
                "{what}: the COPY data ends in the middle of a row"
            )));
        }
        Ok(self.digest)
    }
}

/// How a table is named in fingerprints and messages.
pub(super) fn table_name(t: &TableInfo) -> String {
    format!("{}.{}", t.schema, t.name)
}

pub(super) fn sequence_entry(s: &SequenceValue) -> TableFingerprint {
    let mut d = RowDigest::default();
    d.add_row(format!("{}:{}", s.last_value, s.is_called).as_bytes());
    d.entry(
        format!("{}.{}", s.schema, s.name),
        FingerprintKind::Sequence,
    )
}

/// The fingerprints of a backup: one per table (its parts' digests
/// merged), each sequence, the large objects.
pub(super) fn backup_set(
    tables: &[TableInfo],
    digests: Vec<RowDigest>,
    sequences: &[SequenceValue],
    large_objects: Option<RowDigest>,
) -> Fingerprints {
    let mut out: Vec<TableFingerprint> = tables
        .iter()
        .zip(digests)
        .map(|(t, d)| d.entry(table_name(t), FingerprintKind::Table))
        .collect();
    out.extend(sequences.iter().map(sequence_entry));
    if let Some(lo) = large_objects {
        out.push(lo.entry("large objects", FingerprintKind::LargeObjects));
    }
    fingerprint::new_set(out, None)
}

/// Recompute the fingerprints of the restored database `spec` (all of
/// it, or only table `only`) and compare them with the point's. Returns
/// the description the report shows.
#[allow(clippy::too_many_arguments)]
pub(super) fn check(
    spec: &ConnSpec,
    meta: &PgMeta,
    expected: Option<&Fingerprints>,
    level: CheckLevel,
    jobs: usize,
    only: Option<&TableInfo>,
    progress: &dyn Progress,
) -> Result<String> {
    let tables: Vec<&TableInfo> = match only {
        Some(t) => vec![t],
        None => meta.tables.iter().collect(),
    };
    if fingerprint::alter_row_fault() {
        alter_one_row(spec, &tables)?;
    }
    let Some(expected) = expected.filter(|_| level != CheckLevel::None) else {
        return Ok(fingerprint::describe(level, None, ""));
    };
    progress.phase(match level {
        CheckLevel::Full => "checking fingerprints",
        _ => "checking row counts",
    });
    let mut actual = table_digests(spec, &tables, level, jobs)?;
    let mut c = connect(spec)?;
    for s in meta.sequences.iter().filter(|s| {
        only.is_none_or(|t| s.schema == t.schema && t.owned_sequences.contains(&s.name))
    }) {
        let row = c
            .query_one(
                &format!(
                    "SELECT last_value, is_called FROM {}",
                    qualified(&s.schema, &s.name)
                ),
                &[],
            )
            .map_err(|e| query_error(&format!("reading sequence {}.{}", s.schema, s.name), &e))?;
        actual.push(sequence_entry(&SequenceValue {
            schema: s.schema.clone(),
            name: s.name.clone(),
            last_value: row.get(0),
            is_called: row.get(1),
        }));
    }
    let has_lo = expected
        .tables
        .iter()
        .any(|t| t.kind == FingerprintKind::LargeObjects);
    if only.is_none() {
        let oids = catalog::large_objects(&mut c)?;
        if has_lo || !oids.is_empty() {
            let d = largeobjects::digest(&mut c, &oids)?;
            actual.push(d.entry("large objects", FingerprintKind::LargeObjects));
        }
    }
    let compared = fingerprint::compare(expected, &actual, level, only.is_some())
        .into_result("the restored database")?;
    Ok(fingerprint::describe(level, Some(compared), ""))
}

/// Each table's fingerprint (or row count), `jobs` connections at a time.
/// A table holding a large share of the data is read back by every
/// connection at once, each a block range, as the backup read it: one
/// COPY keeps only one server process busy.
fn table_digests(
    spec: &ConnSpec,
    tables: &[&TableInfo],
    level: CheckLevel,
    jobs: usize,
) -> Result<Vec<TableFingerprint>> {
    let tables = read_plan(
        spec,
        tables,
        if level == CheckLevel::Full { jobs } else { 1 },
    )?;
    let mut units: Vec<(usize, u32)> = (0..tables.len())
        .flat_map(|i| (0..tables[i].parts).map(move |p| (i, p)))
        .collect();
    units.sort_by_key(|&(i, _)| std::cmp::Reverse(tables[i].bytes / tables[i].parts as u64));
    let next = AtomicUsize::new(0);
    let failed = FirstError::new();
    let digests = Mutex::new(vec![RowDigest::default(); tables.len()]);
    let counted = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.max(1).min(units.len()) {
            s.spawn(|| {
                let r = (|| -> Result<()> {
                    let mut c = CopyConnection::open(spec)?;
                    c.batch_execute(SESSION)
                        .map_err(|e| query_error("setting up the session", &e))?;
                    loop {
                        crate::interrupt::check()?;
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(&(ti, part)) = units.get(i) else {
                            return Ok(());
                        };
                        if failed.is_set() {
                            return Ok(());
                        }
                        let t = &tables[ti];
                        match level {
                            CheckLevel::Full => {
                                let d = digest_table(&mut c, t, part)?;
                                digests.lock().unwrap()[ti].merge(&d);
                            }
                            _ => counted.lock().unwrap().push(count_rows(&mut c, t)?),
                        }
                    }
                })();
                if let Err(e) = r {
                    failed.set(e);
                }
            });
        }
    });
    if let Some(e) = failed.take() {
        return Err(e);
    }
    Ok(match level {
        CheckLevel::Full => digests
            .into_inner()
            .unwrap()
            .into_iter()
            .zip(&tables)
            .map(|(d, t)| d.entry(table_name(t), FingerprintKind::Table))
            .collect(),
        _ => counted.into_inner().unwrap(),
    })
}

/// How the check reads the tables: whole, except that those holding a
/// large share of the data are divided into `jobs` block ranges of their
/// restored heap (the parts they were backed up in do not matter here).
fn read_plan(spec: &ConnSpec, tables: &[&TableInfo], jobs: usize) -> Result<Vec<TableInfo>> {
    let total: u64 = tables.iter().map(|t| t.bytes).sum();
    let mut c = None;
    let mut out = Vec::with_capacity(tables.len());
    for &t in tables {
        let mut t = t.clone();
        t.parts = 1;
        if holds_large_share(&t, total, jobs) {
            let c = match &mut c {
                Some(c) => c,
                None => c.insert(connect(spec)?),
            };
            let what = format!("sizing {}.{}", t.schema, t.name);
            let blocks: i64 = c
                .query_one(
                    "SELECT pg_catalog.pg_relation_size($1::text::regclass) \
                     / current_setting('block_size')::bigint",
                    &[&qualified(&t.schema, &t.name)],
                )
                .map_err(|e| query_error(&what, &e))?
                .get(0);
            t.blocks = blocks.max(0) as u64;
            if divisible(&t, jobs) {
                t.parts = jobs as u32;
            }
        }
        out.push(t);
    }
    Ok(out)
}

fn digest_table(c: &mut CopyConnection, t: &TableInfo, part: u32) -> Result<RowDigest> {
    let what = format!("checking {}.{}", t.schema, t.name);
    let sql = format!(
        "COPY {} TO STDOUT{}",
        copy_source(t, Some(part)),
        format_clause(t.format)
    );
    let mut digest = CopyDigest::new(t.format);
    c.copy_out(&sql, |piece| digest.feed(piece), |e| query_error(&what, e))?;
    digest.finish(&what)
}

fn count_rows(c: &mut CopyConnection, t: &TableInfo) -> Result<TableFingerprint> {
    let what = format!("counting the rows of {}.{}", t.schema, t.name);
    let sql = format!(
        "SELECT count(*) FROM ONLY {} {}",
        qualified(&t.schema, &t.name),
        t.filter.as_deref().unwrap_or("")
    );
    let rows: i64 = c
        .query_one(&sql)
        .map_err(|e| query_error(&what, &e))?
        .get(0);
    Ok(TableFingerprint {
        name: table_name(t),
        kind: FingerprintKind::Table,
        rows: rows as u64,
        digest: String::new(),
    })
}

/// The test-only fault: delete one row of the first table that lets it.
fn alter_one_row(spec: &ConnSpec, tables: &[&TableInfo]) -> Result<()> {
    let mut c = connect(spec)?;
    for t in tables {
        let name = qualified(&t.schema, &t.name);
        let sql =
            format!("DELETE FROM ONLY {name} WHERE ctid = (SELECT ctid FROM ONLY {name} LIMIT 1)");
        if matches!(c.execute(&sql, &[]), Ok(1)) {
            return Ok(());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A binary COPY stream of `rows` (fields of the given lengths) and
    /// the digest of its rows computed directly.
    fn stream(rows: &[Vec<usize>]) -> (Vec<u8>, RowDigest) {
        let mut out = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0".to_vec();
        let mut want = RowDigest::default();
        for (i, fields) in rows.iter().enumerate() {
            let mut row = (fields.len() as i16).to_be_bytes().to_vec();
            for (j, &len) in fields.iter().enumerate() {
                row.extend_from_slice(&(len as i32).to_be_bytes());
                row.extend((0..len).map(|k| (i * 31 + j * 7 + k) as u8));
            }
            want.add_row(&row);
            out.extend_from_slice(&row);
        }
        out.extend_from_slice(&TRAILER);
        (out, want)
    }

    #[test]
    fn rows_hash_the_same_however_the_stream_is_cut() {
        let rows: Vec<Vec<usize>> = (0..300)
            .map(|i| match i % 50 {
                0 => vec![3, 200_000],
                7 => vec![],
                _ => vec![i % 13, 8, (i * 17) % 90],
            })
            .collect();
        let (bytes, want) = stream(&rows);
        let mut seed = 12345u64;
        for round in 0..20 {
            let mut d = CopyDigest::new(CopyFormat::Binary);
            let mut at = 0;
            while at < bytes.len() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let max = if round % 2 == 0 { 70 } else { 300_000 };
                let n = ((seed >> 33) as usize % max + 1).min(bytes.len() - at);
                d.feed(&bytes[at..at + n]).unwrap();
                at += n;
            }
            assert_eq!(d.finish("t").unwrap(), want, "round {round}");
        }
        let mut cut = CopyDigest::new(CopyFormat::Binary);
        cut.feed(&bytes[..bytes.len() - 5]).unwrap();
        assert!(cut.finish("t").is_err());
        let mut text = CopyDigest::new(CopyFormat::Text);
        for piece in [&b"a\tb\nc"[..], b"d\te\n", b"x\n"] {
            text.feed(piece).unwrap();
        }
        let mut direct = RowDigest::default();
        for r in [&b"a\tb\n"[..], b"cd\te\n", b"x\n"] {
            direct.add_row(r);
        }
        assert_eq!(text.finish("t").unwrap(), direct);
    }
}
