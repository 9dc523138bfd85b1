//! Large objects, as one stream. pg_dump's pre-data section recreates
//! them empty (with owners, grants and comments); this stream carries
//! their content: per object its OID (u32 BE), then pieces of
//! `length (u32 BE) ‖ bytes`, ended by a zero length.

use super::backup::FirstError;
use super::connect::query_error;
use super::{LARGE_OBJECTS_STREAM, from_io};
use crate::engine::fingerprint::RowDigest;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use crate::repo::writer::BackupWriter;
use postgres::Client;
use std::io::Write;

/// Read in pieces so that memory stays bounded for objects of any size.
const PIECE: i32 = 1024 * 1024;

pub(super) fn export(
    c: &mut Client,
    oids: &[u32],
    writer: &BackupWriter,
    failed: &FirstError,
) -> Result<Option<RowDigest>> {
    if oids.is_empty() {
        return Ok(None);
    }
    let mut stream = writer.stream(LARGE_OBJECTS_STREAM)?;
    let digest = read_all(c, oids, Some(failed), &mut stream)?;
    stream.finish()?;
    Ok(Some(digest))
}

/// The fingerprint of the large objects `oids` of a database, as a backup
/// records it: one "row" per object, its OID and content.
pub(super) fn digest(c: &mut Client, oids: &[u32]) -> Result<RowDigest> {
    read_all(c, oids, None, &mut std::io::sink())
}

/// Write the objects in the stream's layout to `out`, fingerprinting each.
fn read_all(
    c: &mut Client,
    oids: &[u32],
    failed: Option<&FirstError>,
    out: &mut dyn Write,
) -> Result<RowDigest> {
    let what = "reading large objects";
    let mut digest = RowDigest::default();
    let stmt = c
        .prepare("SELECT lo_get($1, $2, $3)")
        .map_err(|e| query_error(what, &e))?;
    for &oid in oids {
        crate::interrupt::check()?;
        if failed.is_some_and(|f| f.is_set()) {
            return Ok(digest);
        }
        let mut hash = xxhash_rust::xxh3::Xxh3::new();
        hash.update(&oid.to_be_bytes());
        out.write_all(&oid.to_be_bytes())
            .map_err(|e| from_io(e, what))?;
        let mut offset = 0i64;
        loop {
            let piece: Vec<u8> = c
                .query_one(&stmt, &[&oid, &offset, &PIECE])
                .map_err(|e| query_error(what, &e))?
                .get(0);
            if piece.is_empty() {
                break;
            }
            hash.update(&piece);
            out.write_all(&(piece.len() as u32).to_be_bytes())
                .and_then(|_| out.write_all(&piece))
                .map_err(|e| from_io(e, what))?;
            offset += piece.len() as i64;
            if piece.len() < PIECE as usize {
                break;
            }
        }
        out.write_all(&0u32.to_be_bytes())
            .map_err(|e| from_io(e, what))?;
        digest.add_hashed(hash.digest128());
    }
    Ok(digest)
}

/// Parses the stream as it arrives and writes each piece with `lo_put`.
struct Loader<'a> {
    c: &'a mut Client,
    stmt: postgres::Statement,
    buf: Vec<u8>,
    oid: Option<u32>,
    offset: i64,
    error: Option<Error>,
}

impl Loader<'_> {
    /// Consume whole records from the front of the buffer.
    fn drain(&mut self) -> Result<()> {
        let mut at = 0;
        loop {
            let rest = &self.buf[at..];
            match self.oid {
                None => {
                    if rest.len() < 4 {
                        break;
                    }
                    self.oid = Some(u32::from_be_bytes(rest[..4].try_into().unwrap()));
                    self.offset = 0;
                    at += 4;
                }
                Some(oid) => {
                    if rest.len() < 4 {
                        break;
                    }
                    let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
                    if len == 0 {
                        self.oid = None;
                        at += 4;
                        continue;
                    }
                    if rest.len() < 4 + len {
                        break;
                    }
                    let piece = &rest[4..4 + len];
                    self.c
                        .execute(&self.stmt, &[&oid, &self.offset, &piece])
                        .map_err(|e| query_error(&format!("writing large object {oid}"), &e))?;
                    self.offset += len as i64;
                    at += 4 + len;
                }
            }
        }
        self.buf.drain(..at);
        Ok(())
    }
}

impl Write for Loader<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if let Err(e) = self.drain() {
            let msg = e.message.clone();
            self.error = Some(e);
            return Err(std::io::Error::other(msg));
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub(super) fn import(
    c: &mut Client,
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    progress: &dyn Progress,
) -> Result<()> {
    let Some(entry) = point
        .streams
        .iter()
        .find(|s| s.name == LARGE_OBJECTS_STREAM)
    else {
        return Ok(());
    };
    progress.phase("large objects");
    let stmt = c
        .prepare("SELECT lo_put($1, $2, $3)")
        .map_err(|e| query_error("writing large objects", &e))?;
    let mut loader = Loader {
        c,
        stmt,
        buf: Vec::new(),
        oid: None,
        offset: 0,
        error: None,
    };
    let r = repo.restore_stream(index, entry, &mut loader, progress);
    if let Some(e) = loader.error.take() {
        return Err(e);
    }
    r?;
    if loader.oid.is_some() || !loader.buf.is_empty() {
        return Err(Error::repository(
            "the large-objects stream ends in the middle of an object",
        ));
    }
    Ok(())
}
