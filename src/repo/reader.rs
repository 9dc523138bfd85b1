//! Reading streams back out of the repository.
//!
//! Chunks of a stream that lie close together in one pack are fetched with
//! one ranged read (few requests on object stores): seal workers finish
//! chunks slightly out of order, so neighbours in a stream are neighbours in
//! the pack but not always in the same order. Reads, decryption and
//! decompression run on several threads (as many as the storage wants
//! reads in flight), and the caller writes the results in order. At most
//! twice as many reads as threads are in flight, so memory stays bounded.

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

/// One ranged read and the chunks in it.
struct ReadGroup {
    pack: PackId,
    offset: u64,
    length: u64,
    /// Bytes of the range that the chunks use; the rest is read and skipped.
    used: u64,
    /// What the chunks decompress to.
    raw: u64,
    /// (chunk id, offset in the pack, stored length, raw length), in stream order.
    blobs: Vec<(ChunkId, u64, u32, u32)>,
}

impl ReadGroup {
    fn new(pack: PackId, blob: (ChunkId, u64, u32, u32)) -> Self {
        ReadGroup {
            pack,
            offset: blob.1,
            length: blob.2 as u64,
            used: blob.2 as u64,
            raw: blob.3 as u64,
            blobs: vec![blob],
        }
    }

    /// Take `blob` (id, offset in the pack, stored and raw length) into this
    /// read when it is in the same pack, the chunks decompress to at most
    /// `limit` bytes (the storage's read size), and the range skips no more
    /// bytes than it uses (streams written side by side share packs), so it
    /// spans at most about twice `limit`.
    fn try_add(&mut self, pack: &PackId, blob: (ChunkId, u64, u32, u32), limit: u64) -> bool {
        let (_, start, len, raw_len) = blob;
        if self.pack != *pack {
            return false;
        }
        let lo = self.offset.min(start);
        let hi = (self.offset + self.length).max(start + len as u64);
        let used = self.used + len as u64;
        let raw = self.raw + raw_len as u64;
        if raw > limit || (hi - lo).saturating_sub(used) > used {
            return false;
        }
        self.offset = lo;
        self.length = hi - lo;
        self.used = used;
        self.raw = raw;
        self.blobs.push(blob);
        true
    }
}

fn plan(index: &Index, stream: &StreamEntry, limit: u64) -> Result<Vec<ReadGroup>> {
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
        let blob = (*id, loc.offset as u64, loc.length, loc.raw_length);
        if !groups
            .last_mut()
            .is_some_and(|g| g.try_add(&pack, blob, limit))
        {
            groups.push(ReadGroup::new(pack, blob));
        }
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
        let mut out = Vec::with_capacity(g.raw as usize);
        for (id, at, len, raw) in &g.blobs {
            let off = (at - g.offset) as usize;
            let sealed = &bytes[off..off + *len as usize];
            out.extend_from_slice(&self.open_blob(id, sealed, *raw, dz, Some(index))?);
        }
        Ok(out)
    }

    /// Write a stream's content into `file` (from offset 0), checking every
    /// chunk. Workers write their pieces at their own offsets, so writing
    /// runs in parallel too; the file is sized first. `write_error` says
    /// what a failed write means to the caller (which file, what to do).
    pub fn restore_stream_to_file(
        &self,
        index: &Index,
        stream: &StreamEntry,
        file: &std::fs::File,
        write_error: &(dyn Fn(std::io::Error) -> Error + Sync),
        progress: &dyn Progress,
    ) -> Result<u64> {
        use std::os::unix::fs::FileExt;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let groups = plan(index, stream, self.storage().read_size())?;
        let mut offsets = Vec::with_capacity(groups.len());
        let mut end = 0u64;
        for g in &groups {
            offsets.push(end);
            end += g.raw;
        }
        file.set_len(end).map_err(write_error)?;
        let next = AtomicUsize::new(0);
        let failed = std::sync::Mutex::new(None);
        let workers = self.storage().read_concurrency();
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
                                    .map_err(write_error)
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
        let groups = plan(index, stream, self.storage().read_size())?;
        let workers = self.storage().read_concurrency();
        let window = workers * 2;
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

#[cfg(test)]
mod tests {
    use super::*;

    const P: PackId = PackId([1; 32]);
    const LIMIT: u64 = 4 << 20;

    /// A blob of `len` stored bytes at `start`, decompressing to twice that.
    fn blob(start: u64, len: u32) -> (ChunkId, u64, u32, u32) {
        (ChunkId([0; 32]), start, len, len * 2)
    }

    fn span(g: &ReadGroup) -> (u64, u64, u64) {
        (g.offset, g.length, g.used)
    }

    #[test]
    fn neighbours_in_any_order_share_one_read() {
        // Stored as c2 c1 c4 c3 (seal workers finished them out of order).
        let mut g = ReadGroup::new(P, blob(100, 100));
        assert!(g.try_add(&P, blob(0, 100), LIMIT));
        assert!(g.try_add(&P, blob(300, 100), LIMIT));
        assert!(g.try_add(&P, blob(200, 100), LIMIT));
        assert_eq!(span(&g), (0, 400, 400));
        let starts: Vec<u64> = g.blobs.iter().map(|b| b.1).collect();
        assert_eq!(starts, [100, 0, 300, 200], "kept in stream order");
    }

    #[test]
    fn a_read_skips_at_most_as_much_as_it_uses() {
        // Two streams interleaved in one pack: every other blob is skipped.
        let mut g = ReadGroup::new(P, blob(0, 100));
        assert!(g.try_add(&P, blob(200, 100), LIMIT));
        assert!(g.try_add(&P, blob(400, 100), LIMIT));
        assert_eq!(span(&g), (0, 500, 300));
        // Three streams: two of every three blobs would be skipped.
        let mut g = ReadGroup::new(P, blob(0, 100));
        assert!(g.try_add(&P, blob(300, 100), LIMIT));
        assert!(!g.try_add(&P, blob(600, 100), LIMIT));
        assert_eq!(span(&g), (0, 400, 200));
    }

    #[test]
    fn reads_stay_within_one_pack_and_the_size_limit() {
        let mut g = ReadGroup::new(P, blob(0, 100));
        assert!(!g.try_add(&PackId([2; 32]), blob(100, 100), LIMIT));
        // Well-compressed chunks: what they decompress to bounds the read.
        let mib = 1 << 20;
        let mut g = ReadGroup::new(P, (ChunkId([0; 32]), 0, 1000, mib));
        let n = LIMIT / mib as u64;
        for i in 1..n {
            assert!(g.try_add(&P, (ChunkId([0; 32]), i * 1000, 1000, mib), LIMIT));
        }
        assert!(!g.try_add(&P, (ChunkId([0; 32]), n * 1000, 1000, 1), LIMIT));
        assert_eq!((g.raw, g.length), (LIMIT, n * 1000));
    }
}
