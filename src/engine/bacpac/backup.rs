//! Storing a package: every entry decompressed as its own stream (so a
//! table that did not change between two exports is stored once), model.xml
//! checked against Origin.xml, and every row of every data part decoded,
//! counted and fingerprinted on the way in.

use super::bcp::{self, Column, DecodeError};
use super::model::{self, Table};
use super::package::{self, DATA_PREFIX, Entry, METADATA, MODEL, ORIGIN};
use super::{Bacpac, NotFingerprinted, PackageMeta, part_stream};
use crate::engine::Exported;
use crate::engine::fingerprint::{self, RowDigest};
use crate::error::{Error, Kind, Result};
use crate::progress::Progress;
use crate::repo::point::FingerprintKind;
use crate::repo::writer::BackupWriter;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufReader, Read, Write};

/// Origin.xml and DacMetadata.xml are a few kilobytes; more is not a package.
const SMALL_ENTRY: u64 = 16 << 20;

/// Copies everything read through it into the stream (and a hash).
struct Tee<'a, R> {
    inner: R,
    out: &'a mut crate::repo::writer::StreamWriter,
    sha: Option<&'a mut Sha256>,
    progress: &'a dyn Progress,
    /// The repository's own error when writing to it failed, or the
    /// interruption that stopped the read.
    failed: Option<Error>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // A part can take minutes: Ctrl-C must not wait for its end.
        if let Err(e) = crate::interrupt::check() {
            self.failed = Some(e);
            return Err(std::io::Error::other("interrupted"));
        }
        let n = self.inner.read(buf)?;
        if let Err(e) = self.out.write_all(&buf[..n]) {
            let err = match e.downcast::<Error>() {
                Ok(e) => e,
                Err(e) => Error::new(
                    Kind::Storage,
                    format!("cannot write to the repository: {e}"),
                ),
            };
            self.failed = Some(err);
            return Err(std::io::Error::other("repository write failed"));
        }
        if let Some(h) = self.sha.as_mut() {
            h.update(&buf[..n]);
        }
        self.progress.advance(n as u64);
        Ok(n)
    }
}

/// How the rows of one table's parts are read, or why they are not.
type Layout = std::result::Result<Vec<Column>, String>;

pub fn layouts(tables: &[Table]) -> BTreeMap<String, Layout> {
    tables
        .iter()
        .map(|t| {
            let cols = t
                .columns
                .iter()
                .map(|c| {
                    super::types::column_type(&c.spec)
                        .map(|ty| Column {
                            name: c.name.clone(),
                            ty,
                        })
                        .map_err(|why| format!("column `{}`: {why}", c.name))
                })
                .collect::<std::result::Result<Vec<_>, String>>();
            (t.key(), cols)
        })
        .collect()
}

pub(super) fn run(
    cfg: &Bacpac,
    writer: &BackupWriter,
    progress: &dyn Progress,
) -> Result<Exported> {
    let p = cfg.shown();
    let mut zip = package::open(cfg)?;
    let entries = package::entries(&mut zip, &p)?;
    let find = |name: &str| entries.iter().position(|e| e.name == name);
    let (Some(model_at), Some(origin_at)) = (find(MODEL), find(ORIGIN)) else {
        return Err(Error::database(format!(
            "{p} is not a BACPAC or DACPAC package: it holds no {}",
            if find(MODEL).is_none() { MODEL } else { ORIGIN }
        ))
        .with_hint("give a package exported by SqlPackage, SSMS or the Azure portal"));
    };
    let origin = package::read_origin(&small_entry(&mut zip, &p, origin_at)?)
        .map_err(|e| package::damaged(&p, format!("{ORIGIN} is not valid XML: {e}")))?;
    let database = find(METADATA)
        .and_then(|i| small_entry(&mut zip, &p, i).ok())
        .and_then(|b| package::read_metadata_name(&b))
        .or_else(|| {
            cfg.path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "database".into());
    progress.set_total(entries.iter().map(|e| e.size).sum());

    // model.xml first, whatever its place: it says how to read the parts.
    progress.phase("reading model.xml");
    let mut sha = Sha256::new();
    let tables = {
        let mut out = writer.stream(&part_stream(MODEL))?;
        let file = zip
            .by_index(model_at)
            .map_err(|e| package::zip_damaged(&p, e))?;
        let mut tee = Tee {
            inner: file,
            out: &mut out,
            sha: Some(&mut sha),
            progress,
            failed: None,
        };
        let parsed = model::read_tables(BufReader::with_capacity(1 << 16, &mut tee));
        // Whatever the parser left unread still belongs to the stream.
        let drained = std::io::copy(&mut tee, &mut std::io::sink());
        if let Some(e) = tee.failed.take() {
            return Err(e);
        }
        drained.map_err(|e| package::io_damaged(&p, e))?;
        out.finish()?;
        parsed.map_err(|e| package::damaged(&p, format!("{MODEL} is not a valid model: {e}")))?
    };
    let got = hex::encode_upper(sha.finalize());
    match &origin.model_checksum {
        Some(want) if *want != got => {
            return Err(Error::database(format!(
                "{p}: the SHA-256 of {MODEL} is {}…, but {ORIGIN} records {}…: the package was altered after it was exported",
                &got[..16],
                &want[..want.len().min(16)]
            ))
            .with_hint("take the package as it was exported (a copy that converts line endings or re-saves model.xml changes it), or export it again"));
        }
        _ => {}
    }
    let layouts = layouts(&tables);
    let mut digests: BTreeMap<String, RowDigest> = BTreeMap::new();
    let mut skipped: BTreeMap<String, String> = BTreeMap::new();

    progress.phase("reading table data");
    for (i, e) in entries.iter().enumerate() {
        if i == model_at {
            continue;
        }
        crate::interrupt::check()?;
        let layout = match package::part_table(&e.name) {
            Some(table) => match layouts.get(&table) {
                Some(l) => Some((table, l)),
                None => {
                    return Err(Error::database(format!(
                        "{p}: data part `{}` belongs to no table of {MODEL}",
                        e.name
                    ))
                    .with_hint("the package was altered after it was exported; export it again"));
                }
            },
            None if e.name.starts_with(DATA_PREFIX) => {
                return Err(Error::database(format!(
                    "{p}: `{}` is not a table data part (Data/<schema>.<table>/<part>.BCP)",
                    e.name
                ))
                .with_hint("the package was altered after it was exported; export it again"));
            }
            None => None,
        };
        let mut out = writer.stream(&part_stream(&e.name))?;
        let file = zip.by_index(i).map_err(|e| package::zip_damaged(&p, e))?;
        let mut tee = Tee {
            inner: file,
            out: &mut out,
            sha: None,
            progress,
            failed: None,
        };
        let decoded = match layout {
            Some((table, Ok(columns))) => Some((table, bcp::digest(&mut tee, columns))),
            Some((table, Err(why))) => {
                skipped.entry(table).or_insert_with(|| why.clone());
                None
            }
            None => None,
        };
        let drained = std::io::copy(&mut tee, &mut std::io::sink());
        if let Some(err) = tee.failed.take() {
            return Err(err);
        }
        drained.map_err(|err| package::io_damaged(&p, err))?;
        if let Some((table, d)) = decoded {
            let d = d.map_err(|err| part_error(&p, e, &table, err))?;
            digests.entry(table).or_default().merge(&d);
        }
        out.finish()?;
    }

    let fingerprinted: Vec<_> = tables
        .iter()
        .map(|t| t.key())
        .filter(|k| !skipped.contains_key(k))
        .map(|k| {
            let d = digests.get(&k).copied().unwrap_or_default();
            d.entry(k, FingerprintKind::Table)
        })
        .collect();
    let rows: u64 = fingerprinted.iter().map(|f| f.rows).sum();
    if skipped.is_empty()
        && let Some(want) = origin.total_rows
        && want != rows
    {
        return Err(Error::database(format!(
            "{p} holds {rows} rows, but {ORIGIN} counts {want}: data parts are missing or were added"
        ))
        .with_hint("the package is incomplete or was altered; export it again"));
    }
    let kind = if origin.contains_data || entries.iter().any(|e| e.name.starts_with(DATA_PREFIX)) {
        "bacpac"
    } else {
        "dacpac"
    };
    let not_fingerprinted: Vec<NotFingerprinted> = skipped
        .into_iter()
        .map(|(table, reason)| NotFingerprinted { table, reason })
        .collect();
    let note = note(kind, &not_fingerprinted);
    let meta = PackageMeta {
        package: kind.into(),
        exporter_version: origin.exporter.clone(),
        server_version: origin.server_version.clone(),
        model_sha256: got,
        total_rows: origin.total_rows,
        entries,
        not_fingerprinted,
    };
    Ok(Exported {
        database,
        source: crate::engine::Engine::source(cfg),
        meta: serde_json::to_value(meta).expect("meta serialises"),
        fingerprints: fingerprint::new_set(fingerprinted, None),
        note,
    })
}

fn note(kind: &str, skipped: &[NotFingerprinted]) -> Option<String> {
    if kind == "dacpac" {
        return Some("a DACPAC: the package holds the schema only, no data".into());
    }
    let first = skipped.first()?;
    let more = match skipped.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    Some(format!(
        "stored whole; not fingerprinted: table {} ({}){more}",
        first.table, first.reason
    ))
}

fn part_error(shown: &str, e: &Entry, table: &str, err: DecodeError) -> Error {
    Error::database(format!(
        "{shown}: data part `{}` does not match the columns {MODEL} gives table {table}: {err}",
        e.name
    ))
    .with_hint("the package is damaged or was altered after it was exported; export it again")
}

fn small_entry(zip: &mut package::Archive, shown: &str, i: usize) -> Result<Vec<u8>> {
    let f = zip
        .by_index(i)
        .map_err(|e| package::zip_damaged(shown, e))?;
    let mut b = Vec::new();
    f.take(SMALL_ENTRY)
        .read_to_end(&mut b)
        .map_err(|e| package::io_damaged(shown, e))?;
    Ok(b)
}
