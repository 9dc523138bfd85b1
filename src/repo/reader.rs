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
use super::chain::{Link, materialise, missing_link};
use super::ids::{ChunkId, PackId};
use super::index::{Index, unknown_chunk};
use super::point::StreamEntry;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crossbeam_channel::{bounded, unbounded};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

/// One ranged read of a pack and the blobs in it.
struct ReadRange {
    pack: PackId,
    offset: u64,
    length: u64,
    /// Bytes of the range that the blobs use; the rest is read and skipped.
    used: u64,
    /// (chunk id, offset in the pack, stored length, raw length).
    blobs: Vec<(ChunkId, u64, u32, u32)>,
}

impl ReadRange {
    fn new(pack: PackId, blob: (ChunkId, u64, u32, u32)) -> Self {
        ReadRange {
            pack,
            offset: blob.1,
            length: blob.2 as u64,
            used: blob.2 as u64,
            blobs: vec![blob],
        }
    }

    /// Take `blob` (id, offset in the pack, stored and raw length) into
    /// this read when it is in the same pack and the range skips no more
    /// bytes than it uses (streams written side by side share packs).
    fn try_add(&mut self, pack: &PackId, blob: (ChunkId, u64, u32, u32)) -> bool {
        let (_, start, len, _) = blob;
        if self.pack != *pack {
            return false;
        }
        let lo = self.offset.min(start);
        let hi = (self.offset + self.length).max(start + len as u64);
        let used = self.used + len as u64;
        if (hi - lo).saturating_sub(used) > used {
            return false;
        }
        self.offset = lo;
        self.length = hi - lo;
        self.used = used;
        self.blobs.push(blob);
        true
    }
}

/// Consecutive chunks of a stream that are read and written out together,
/// with the reads that fetch every blob their chains need: the chunks of
/// one backup lie side by side in its packs, so each pack a chain passes
/// through costs one read per unit, not one per chunk.
#[derive(Default)]
struct Unit {
    chunks: Vec<ChunkId>,
    /// What the chunks add up to.
    raw: u64,
    reads: Vec<ReadRange>,
}

/// Cut `stream` into units of about `limit` bytes (the storage's read size).
fn plan(index: &Index, stream: &StreamEntry, limit: u64) -> Result<Vec<Unit>> {
    let mut units = Vec::new();
    let mut unit = Unit::default();
    let mut blobs: BTreeMap<PackId, Vec<(ChunkId, u64, u32, u32)>> = BTreeMap::new();
    let mut seen: HashSet<ChunkId> = HashSet::new();
    for (id, len) in &stream.chunks {
        let (_, loc) = index.get(id).ok_or_else(|| unknown_chunk(id))?;
        if loc.raw_length != *len {
            return Err(Error::repository(format!(
                "chunk {} has length {} in the index but {} in the restore point",
                id.short(),
                loc.raw_length,
                len
            )));
        }
        if unit.raw + *len as u64 > limit && !unit.chunks.is_empty() {
            units.push(finish_unit(std::mem::take(&mut unit), &mut blobs));
            seen.clear();
        }
        unit.chunks.push(*id);
        unit.raw += *len as u64;
        // The chain as far as the index knows it; links it does not know
        // (a pack found by its footer) are fetched when they turn up.
        let mut at = Some(*id);
        while let Some(c) = at.filter(|c| seen.insert(*c)) {
            let Some((pack, loc)) = index.get(&c) else {
                break;
            };
            blobs
                .entry(pack)
                .or_default()
                .push((c, loc.offset as u64, loc.length, loc.raw_length));
            at = index.base(&c);
        }
    }
    if !unit.chunks.is_empty() {
        units.push(finish_unit(unit, &mut blobs));
    }
    Ok(units)
}

fn finish_unit(
    mut unit: Unit,
    blobs: &mut BTreeMap<PackId, Vec<(ChunkId, u64, u32, u32)>>,
) -> Unit {
    for (pack, mut list) in std::mem::take(blobs) {
        list.sort_by_key(|b| b.1);
        for b in list {
            if !unit.reads.last_mut().is_some_and(|r| r.try_add(&pack, b)) {
                unit.reads.push(ReadRange::new(pack, b));
            }
        }
    }
    unit
}

impl Repository {
    /// Read one unit: its ranges, then each chunk composed from its chain.
    fn read_unit(
        &self,
        index: &Index,
        unit: &Unit,
        dz: &mut zstd::bulk::Decompressor,
    ) -> Result<Vec<u8>> {
        let mut links: HashMap<ChunkId, Link> = HashMap::new();
        for r in &unit.reads {
            let bytes = self.read_pack_range(&r.pack, r.offset, r.length)?;
            for (id, at, len, raw) in &r.blobs {
                let off = (at - r.offset) as usize;
                let sealed = &bytes[off..off + *len as usize];
                let link = self.open_link(id, sealed, *raw, dz).inspect_err(|_| {
                    self.note_damaged(&r.pack);
                })?;
                links.insert(*id, link);
            }
        }
        let mut out = Vec::with_capacity(unit.raw as usize);
        for c in &unit.chunks {
            while let Some(m) = missing_link(c, &links)? {
                let link = self.fetch_link(index, &m, dz)?;
                links.insert(m, link);
            }
            materialise(self, index, c, &links, &mut out)?;
        }
        Ok(out)
    }

    /// Write a stream's content into `file` (from offset 0), checking every
    /// chunk. Workers write their pieces at their own offsets, one at a
    /// time: the kernel holds the file's lock through a buffered write, and
    /// a second writer spun on it (4% of a SQLite restore's CPU) where it
    /// can read and decompress the next piece instead. The file is sized
    /// first. `write_error` says what a failed write means to the caller
    /// (which file, what to do).
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
        let writing = std::sync::Mutex::new(());
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
                            .and_then(|_| self.read_unit(index, &groups[i], &mut dz))
                            .and_then(|data| {
                                let _one = writing.lock().unwrap();
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
        let (job_tx, job_rx) = unbounded::<(usize, &Unit)>();
        let (res_tx, res_rx) = bounded::<(usize, Result<Vec<u8>>)>(window);
        let mut written = 0u64;
        std::thread::scope(|s| -> Result<()> {
            for _ in 0..workers {
                let (rx, tx) = (job_rx.clone(), res_tx.clone());
                s.spawn(move || {
                    let mut dz = zstd::bulk::Decompressor::new().expect("zstd context");
                    for (seq, g) in rx {
                        if tx.send((seq, self.read_unit(index, g, &mut dz))).is_err() {
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

    fn blob(start: u64, len: u32) -> (ChunkId, u64, u32, u32) {
        (ChunkId([0; 32]), start, len, len * 2)
    }

    fn span(g: &ReadRange) -> (u64, u64, u64) {
        (g.offset, g.length, g.used)
    }

    #[test]
    fn neighbours_share_one_read() {
        let mut g = ReadRange::new(P, blob(0, 100));
        assert!(g.try_add(&P, blob(100, 100)));
        assert!(g.try_add(&P, blob(200, 100)));
        assert_eq!(span(&g), (0, 300, 300));
    }

    #[test]
    fn a_read_skips_at_most_as_much_as_it_uses() {
        // Two streams interleaved in one pack: every other blob is skipped.
        let mut g = ReadRange::new(P, blob(0, 100));
        assert!(g.try_add(&P, blob(200, 100)));
        assert!(g.try_add(&P, blob(400, 100)));
        assert_eq!(span(&g), (0, 500, 300));
        // Three streams: two of every three blobs would be skipped.
        let mut g = ReadRange::new(P, blob(0, 100));
        assert!(g.try_add(&P, blob(300, 100)));
        assert!(!g.try_add(&P, blob(600, 100)));
        assert_eq!(span(&g), (0, 400, 200));
    }

    #[test]
    fn reads_stay_within_one_pack() {
        let mut g = ReadRange::new(P, blob(0, 100));
        assert!(!g.try_add(&PackId([2; 32]), blob(100, 100)));
    }
}
