//! Reading streams back out of the repository.
//!
//! Consecutive chunks stored side by side in one pack are fetched with one
//! ranged read (few requests on object stores); reads, decryption and
//! decompression run on one thread per core, and the caller writes the
//! results in order. At most `WINDOW` reads are in flight, so memory stays
//! bounded.

use super::Repository;
use super::delta::{self, corrupt};
use super::ids::{ChunkId, PackId};
use super::index::{Index, unknown_chunk};
use super::point::StreamEntry;
use super::writer::{BLOB_DELTA, BLOB_RAW, BLOB_ZSTD, pack_name};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crossbeam_channel::{bounded, unbounded};
use std::collections::BTreeMap;
use std::io::Write;

/// Largest single ranged read.
const MAX_READ: u64 = 8 * 1024 * 1024;

/// One ranged read and the chunks in it.
struct ReadGroup {
    pack: PackId,
    offset: u64,
    length: u64,
    /// (chunk id, offset within the read, stored length, raw length)
    blobs: Vec<(ChunkId, u32, u32, u32)>,
}

fn plan(index: &Index, stream: &StreamEntry) -> Result<Vec<ReadGroup>> {
    let mut groups: Vec<ReadGroup> = Vec::new();
    for (id, len) in &stream.chunks {
        let (pack, loc) = index.get(id).ok_or_else(|| unknown_chunk(id))?;
        if loc.raw_length != *len {
            return Err(Error::repository(format!(
                "chunk {} has length {} in the index but {} in the restore point",
                id.short(),
                loc.raw_length,
                len
            )));
        }
        if let Some(g) = groups.last_mut()
            && g.pack == pack
            && g.offset + g.length == loc.offset as u64
            && g.length + loc.length as u64 <= MAX_READ
        {
            g.blobs
                .push((*id, g.length as u32, loc.length, loc.raw_length));
            g.length += loc.length as u64;
            continue;
        }
        groups.push(ReadGroup {
            pack,
            offset: loc.offset as u64,
            length: loc.length as u64,
            blobs: vec![(*id, 0, loc.length, loc.raw_length)],
        });
    }
    Ok(groups)
}

impl Repository {
    /// Open, decompress and check one blob read from storage. A delta blob
    /// needs `index` to find its base (a base is never a delta).
    pub fn open_blob(
        &self,
        id: &ChunkId,
        sealed: &[u8],
        raw_len: u32,
        dz: &mut zstd::bulk::Decompressor,
        index: Option<&Index>,
    ) -> Result<Vec<u8>> {
        let what = format!("chunk {}", id.short());
        let plain = self.sealer().open(sealed, &what)?;
        let data = match plain.split_first() {
            Some((&BLOB_RAW, rest)) => rest.to_vec(),
            Some((&BLOB_ZSTD, rest)) => dz
                .decompress(rest, raw_len as usize)
                .map_err(|e| corrupt(&what, e))?,
            Some((&BLOB_DELTA, rest)) if rest.len() >= 32 => {
                let base = ChunkId(rest[..32].try_into().unwrap());
                let index =
                    index.ok_or_else(|| corrupt(&what, "a delta where a base was expected"))?;
                let base_data = self.read_chunk_nondelta(index, &base, dz)?;
                delta::decode(&base_data, &rest[32..], raw_len as usize)
                    .map_err(|e| corrupt(&what, e))?
            }
            _ => return Err(corrupt(&what, "unknown blob type")),
        };
        if data.len() != raw_len as usize || self.chunk_id(&data) != *id {
            return Err(corrupt(&what, "content does not match its id"));
        }
        Ok(data)
    }

    /// A delta's base, which must not be a delta itself.
    pub(crate) fn read_chunk_nondelta(
        &self,
        index: &Index,
        id: &ChunkId,
        dz: &mut zstd::bulk::Decompressor,
    ) -> Result<Vec<u8>> {
        let (pack, loc) = index.get(id).ok_or_else(|| unknown_chunk(id))?;
        let sealed =
            self.storage()
                .get_range(&pack_name(&pack), loc.offset as u64, loc.length as u64)?;
        self.open_blob(id, &sealed, loc.raw_length, dz, None)
    }

    fn read_group(
        &self,
        index: &Index,
        g: &ReadGroup,
        dz: &mut zstd::bulk::Decompressor,
    ) -> Result<Vec<u8>> {
        let name = pack_name(&g.pack);
        let bytes = self.storage().get_range(&name, g.offset, g.length)?;
        let mut out = Vec::with_capacity(g.blobs.iter().map(|b| b.3 as usize).sum());
        for (id, off, len, raw) in &g.blobs {
            let sealed = &bytes[*off as usize..(*off + *len) as usize];
            out.extend_from_slice(&self.open_blob(id, sealed, *raw, dz, Some(index))?);
        }
        Ok(out)
    }

    /// Write a stream's content into `file` (from offset 0), checking every
    /// chunk. Workers write their pieces at their own offsets, so writing
    /// runs in parallel too; the file is sized first.
    pub fn restore_stream_to_file(
        &self,
        index: &Index,
        stream: &StreamEntry,
        file: &std::fs::File,
        progress: &dyn Progress,
    ) -> Result<u64> {
        use std::os::unix::fs::FileExt;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let groups = plan(index, stream)?;
        let mut offsets = Vec::with_capacity(groups.len());
        let mut end = 0u64;
        for g in &groups {
            offsets.push(end);
            end += g.blobs.iter().map(|b| b.3 as u64).sum::<u64>();
        }
        let write_err =
            |e: std::io::Error| Error::database(format!("cannot write restored data: {e}"));
        file.set_len(end).map_err(write_err)?;
        let next = AtomicUsize::new(0);
        let failed = std::sync::Mutex::new(None);
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    let mut dz = zstd::bulk::Decompressor::new().expect("zstd context");
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= groups.len() || failed.lock().unwrap().is_some() {
                            return;
                        }
                        let r = crate::interrupt::check()
                            .and_then(|_| self.read_group(index, &groups[i], &mut dz))
                            .and_then(|data| {
                                file.write_all_at(&data, offsets[i])
                                    .map(|_| data.len())
                                    .map_err(write_err)
                            });
                        match r {
                            Ok(n) => progress.advance(n as u64),
                            Err(e) => {
                                failed.lock().unwrap().get_or_insert(e);
                                return;
                            }
                        }
                    }
                });
            }
        });
        match failed.into_inner().unwrap() {
            Some(e) => Err(e),
            None => Ok(end),
        }
    }

    /// Write a stream's content to `out` in order, checking every chunk.
    pub fn restore_stream(
        &self,
        index: &Index,
        stream: &StreamEntry,
        out: &mut dyn Write,
        progress: &dyn Progress,
    ) -> Result<u64> {
        let groups = plan(index, stream)?;
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let window = workers * 4;
        let (job_tx, job_rx) = unbounded::<(usize, &ReadGroup)>();
        let (res_tx, res_rx) = bounded::<(usize, Result<Vec<u8>>)>(window);
        let mut written = 0u64;
        std::thread::scope(|s| -> Result<()> {
            for _ in 0..workers {
                let (rx, tx) = (job_rx.clone(), res_tx.clone());
                s.spawn(move || {
                    let mut dz = zstd::bulk::Decompressor::new().expect("zstd context");
                    for (seq, g) in rx {
                        if tx.send((seq, self.read_group(index, g, &mut dz))).is_err() {
                            return;
                        }
                    }
                });
            }
            drop(res_tx);
            let mut issued = 0;
            let mut next = 0;
            let mut ready: BTreeMap<usize, Vec<u8>> = BTreeMap::new();
            let result = (|| {
                while next < groups.len() {
                    while issued < groups.len() && issued - next < window {
                        job_tx
                            .send((issued, &groups[issued]))
                            .expect("workers alive");
                        issued += 1;
                    }
                    let (seq, data) = res_rx.recv().expect("a worker answers");
                    ready.insert(seq, data?);
                    while let Some(data) = ready.remove(&next) {
                        out.write_all(&data).map_err(|e| {
                            Error::database(format!("cannot write restored data: {e}"))
                        })?;
                        written += data.len() as u64;
                        progress.advance(data.len() as u64);
                        next += 1;
                    }
                }
                Ok(())
            })();
            drop(job_tx);
            // Let workers finish what they hold so the scope can end.
            for _ in res_rx.iter() {}
            result
        })?;
        Ok(written)
    }
}
