//! Restoring a package: the same entries in the same order, each with its
//! original bytes, compression method and time; every data part's rows
//! fingerprinted as they are written and model.xml's checksum recomputed,
//! before the file is put in place.

use super::backup::layouts;
use super::bcp::{self, Column};
use super::package::{self, MODEL};
use super::{Bacpac, PackageMeta, part_stream};
use crate::engine::fingerprint::{self, RowDigest};
use crate::engine::{CheckLevel, RestoreOptions, Restored, file_target};
use crate::error::{Error, Result, show_path};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::{FingerprintKind, RestorePoint, StreamEntry};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

pub fn meta_of(point: &RestorePoint) -> Result<PackageMeta> {
    serde_json::from_value(point.meta.clone())
        .map_err(|e| Error::repository(format!("restore point has malformed package facts: {e}")))
}

/// Writes restored bytes to `out` and, for a reader on another thread, to
/// a pipe; keeps the first error of `out` for the caller to name.
struct TeeWriter<'a> {
    out: &'a mut dyn Write,
    pipe: std::io::PipeWriter,
    failed: Option<std::io::Error>,
}

impl Write for TeeWriter<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if let Err(e) = self.out.write_all(b) {
            let msg = e.to_string();
            self.failed.get_or_insert(e);
            return Err(std::io::Error::other(msg));
        }
        self.pipe.write_all(b)?;
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

/// Restore `entry` into `out` while `read` reads the same bytes on another
/// thread. `out`'s own write error comes back as `Err(Ok(io))`.
pub fn restore_read<T: Send>(
    repo: &Repository,
    index: &Index,
    entry: &StreamEntry,
    out: &mut dyn Write,
    progress: &dyn Progress,
    read: impl FnOnce(&mut dyn BufRead) -> T + Send,
) -> std::result::Result<T, std::result::Result<std::io::Error, Error>> {
    let (r, w) =
        std::io::pipe().map_err(|e| Err(Error::database(format!("cannot open a pipe: {e}"))))?;
    std::thread::scope(|s| {
        let reader = s.spawn(move || {
            let mut br = BufReader::with_capacity(1 << 16, r);
            let t = read(&mut br);
            // The writer must never block on a reader that stopped early.
            let _ = std::io::copy(&mut br, &mut std::io::sink());
            t
        });
        let mut tee = TeeWriter {
            out,
            pipe: w,
            failed: None,
        };
        let fed = repo.restore_stream(index, entry, &mut tee, progress);
        let failed = tee.failed.take();
        drop(tee);
        let t = reader.join().expect("the reading thread does not panic");
        match (failed, fed) {
            (Some(io), _) => Err(Ok(io)),
            (None, Err(e)) => Err(Err(e)),
            (None, Ok(_)) => Ok(t),
        }
    })
}

/// The error of [`restore_read`]: the repository's, or the output's as
/// `write_err` names it.
pub fn restore_error(
    e: std::result::Result<std::io::Error, Error>,
    write_err: impl FnOnce(std::io::Error) -> Error,
) -> Error {
    match e {
        Ok(io) => write_err(io),
        Err(e) => e,
    }
}

/// The tables of the point's model.xml, and its SHA-256.
pub fn read_model(
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    progress: &dyn Progress,
) -> Result<(Vec<super::model::Table>, String)> {
    let entry = point.stream(&part_stream(MODEL))?;
    let mut sha = Sha256::new();
    let mut hashing = HashWrite(&mut sha);
    let parsed = restore_read(repo, index, entry, &mut hashing, progress, |r| {
        super::model::read_tables(r)
    })
    .map_err(|e| restore_error(e, |io| Error::database(io.to_string())))?;
    let tables = parsed
        .map_err(|e| Error::repository(format!("the point's {MODEL} cannot be read: {e}")))?;
    Ok((tables, hex::encode_upper(sha.finalize())))
}

struct HashWrite<'a>(&'a mut Sha256);

impl Write for HashWrite<'_> {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.update(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn options(e: &package::Entry) -> zip::write::SimpleFileOptions {
    let method = match e.method.as_str() {
        "stored" => zip::CompressionMethod::Stored,
        _ => zip::CompressionMethod::Deflated,
    };
    // Level 3 deflates 2.5 times as fast as zlib's default 6 for about 7%
    // more bytes: the entries' contents are what must be the same.
    let level = (method == zip::CompressionMethod::Deflated).then_some(3);
    let mut o = zip::write::SimpleFileOptions::default()
        .compression_method(method)
        .compression_level(level)
        .large_file(e.size >= u32::MAX as u64);
    if let Ok(t) = zip::DateTime::try_from_msdos(e.modified[0], e.modified[1]) {
        o = o.last_modified_time(t);
    }
    o
}

pub(super) fn run(
    cfg: &Bacpac,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    opts: &RestoreOptions,
    progress: &dyn Progress,
) -> Result<Restored> {
    let target = &cfg.path;
    let table_file = ["csv", "jsonl", "ndjson"].iter().any(|e| {
        target
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case(e))
    });
    if table_file {
        return Err(Error::usage(format!(
            "{} would receive a whole package",
            show_path(target)
        ))
        .with_hint(
            "add --table SCHEMA.NAME to write one table, or restore the package to a .bacpac file",
        ));
    }
    let meta = meta_of(point)?;
    let tmp = file_target::start(target, std::slice::from_ref(target), opts.force)?;
    let size: u64 = meta.entries.iter().map(|e| e.size).sum();
    progress.set_total(size);
    let checking = opts.check != CheckLevel::None;
    // The test fault drops the last row of the first data part with rows.
    let mut fault = fingerprint::alter_row_fault();
    let layouts = if checking || fault {
        progress.phase("reading model.xml");
        let (tables, sha) = read_model(repo, index, point, progress)?;
        if sha != meta.model_sha256 {
            return Err(Error::database(format!(
                "the restored {MODEL} has SHA-256 {}…, not the {}… that was backed up",
                &sha[..16],
                &meta.model_sha256[..meta.model_sha256.len().min(16)]
            ))
            .with_hint("nothing was put in place; run `sqlvault verify` and report this"));
        }
        Some((
            tables.iter().map(|t| t.key()).collect::<Vec<_>>(),
            layouts(&tables),
        ))
    } else {
        None
    };
    let write_err = |e: std::io::Error| file_target::io_error("writing", target, e);
    progress.phase("writing the package");
    let mut digests: BTreeMap<String, RowDigest> = BTreeMap::new();
    let mut zw = zip::ZipWriter::new(tmp.as_file());
    for e in &meta.entries {
        crate::interrupt::check()?;
        zw.start_file(e.name.as_str(), options(e))
            .map_err(|z| zip_error(target, z))?;
        let stream = point.stream(&part_stream(&e.name))?;
        let columns: Option<(String, &Vec<Column>)> = match (&layouts, package::part_table(&e.name))
        {
            (Some((_, l)), Some(table)) => match l.get(&table) {
                Some(Ok(cols)) => Some((table, cols)),
                _ => None,
            },
            _ => None,
        };
        if fault && let Some((table, cols)) = &columns {
            let mut part = Vec::new();
            repo.restore_stream(index, stream, &mut part, progress)?;
            if let Ok(Some(last)) = bcp::last_row_start(&part, cols) {
                part.truncate(last);
                fault = false;
            }
            zw.write_all(&part).map_err(write_err)?;
            let d = bcp::digest(&part[..], cols).map_err(|err| Error::database(err.to_string()))?;
            digests.entry(table.clone()).or_default().merge(&d);
            continue;
        }
        let d = restore_read(repo, index, stream, &mut zw, progress, |r| {
            columns.as_ref().map(|(_, cols)| bcp::digest(r, cols))
        })
        .map_err(|e| restore_error(e, write_err))?;
        if let (Some((table, _)), Some(d)) = (columns, d) {
            let d = d.map_err(|err| {
                Error::repository(format!(
                    "restored data part `{}` cannot be read: {err}",
                    e.name
                ))
            })?;
            digests.entry(table).or_default().merge(&d);
        }
    }
    zw.finish().map_err(|z| zip_error(target, z))?;
    let check = match (&layouts, point.fingerprints.as_ref()) {
        (Some((keys, _)), Some(expected)) if checking => {
            let skipped: Vec<&str> = meta
                .not_fingerprinted
                .iter()
                .map(|n| n.table.as_str())
                .collect();
            let actual: Vec<_> = keys
                .iter()
                .filter(|k| !skipped.contains(&k.as_str()))
                .map(|k| {
                    let d = digests.get(k).copied().unwrap_or_default();
                    d.entry(k.clone(), FingerprintKind::Table)
                })
                .collect();
            let n = fingerprint::compare(expected, &actual, opts.check, false)
                .into_result("the restored package")?;
            let entries_ok = check_entries(tmp.path(), &meta)?;
            fingerprint::describe(
                opts.check,
                Some(n),
                &format!(", {MODEL} checksum ok, {entries_ok} entries' CRC-32 match"),
            )
        }
        _ => fingerprint::describe(opts.check, None, ""),
    };
    file_target::put_in_place(tmp, target)?;
    Ok(Restored {
        target: target.display().to_string(),
        bytes_written: size,
        check,
    })
}

fn zip_error(target: &Path, e: zip::result::ZipError) -> Error {
    match e {
        zip::result::ZipError::Io(io) => file_target::io_error("writing", target, io),
        other => Error::database(format!("cannot write {}: {other}", show_path(target))),
    }
}

/// Read back the written package's directory: the same entries, in the same
/// order, with the sizes and CRC-32s the backup recorded.
fn check_entries(path: &Path, meta: &PackageMeta) -> Result<usize> {
    let mut zip = zip::ZipArchive::new(
        std::fs::File::open(path).map_err(|e| file_target::io_error("reading", path, e))?,
    )
    .map_err(|e| Error::database(format!("the restored package cannot be read back: {e}")))?;
    let written = package::entries(&mut zip, &show_path(path))?;
    for (want, got) in meta.entries.iter().zip(&written) {
        if (&want.name, want.size, want.crc32) != (&got.name, got.size, got.crc32) {
            return Err(Error::database(format!(
                "restored entry `{}` ({} bytes, CRC-32 {:08x}) differs from the backed-up `{}` ({} bytes, CRC-32 {:08x})",
                got.name, got.size, got.crc32, want.name, want.size, want.crc32
            ))
            .with_hint("nothing was put in place; run `sqlvault verify` and report this"));
        }
    }
    if written.len() != meta.entries.len() {
        return Err(Error::database(format!(
            "the restored package has {} entries, not {}",
            written.len(),
            meta.entries.len()
        )));
    }
    Ok(written.len())
}
