//! Writing streams into the repository.
//!
//! ```text
//! stream bytes ─► chunker + keyed hash ─► dedupe ─► N workers: zstd + seal ─► packer ─► uploaders
//! ```
//! The calling threads chunk and hash (cheap), known chunks are skipped
//! before any compression, and the expensive work runs on one worker per
//! core. Every queue is bounded, so memory stays flat whatever the size of
//! the database. Nothing becomes visible until [`BackupWriter::commit`]
//! writes the index and then the restore point.

use super::Repository;
use super::delta;
use super::ids::{ChunkId, PackId, PointId};
use super::index::{Index, IndexFile, IndexedPack};
use super::level::{self, LevelChoice, RESAMPLE_EVERY};
use super::pack::BlobEntry;
use super::pack::PackBuilder;
use super::patch::Script;
use super::point::{PointStats, RestorePoint, StreamEntry};
use crate::error::{Error, Kind, Result};
use crossbeam_channel::{Receiver, Sender, bounded};
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

/// Blob type byte, first byte of every blob's plaintext.
pub const BLOB_RAW: u8 = 0;
pub const BLOB_ZSTD: u8 = 1;
/// Formats 1-2: followed by the base chunk id (32 bytes) and a zstd frame
/// using the base's plaintext as prefix (see `delta.rs`); no longer written.
pub const BLOB_DELTA: u8 = 2;
/// Format 3: followed by the base chunk id, the edit script's length (u32
/// LE) and a zstd frame of the script (see `delta.rs`, `patch.rs`).
pub const BLOB_PATCH: u8 = 3;

/// Where each chunk of the previous restore point's streams starts: new
/// chunks are delta-encoded against the old chunk at the same offset.
type ParentLayout = HashMap<String, Arc<Vec<(u64, ChunkId)>>>;

struct Job {
    id: ChunkId,
    data: Vec<u8>,
    /// The level its stream compresses at, and whether this chunk is one
    /// to compare the levels on.
    level: Arc<LevelChoice>,
    sample: bool,
    /// The previous point's chunk at this place, a candidate delta base.
    near: Option<ChunkId>,
    /// Where in its chains' period of cuts this place of the stream is.
    phase: usize,
}

struct Sealed {
    id: ChunkId,
    blob: Vec<u8>,
    raw_len: usize,
    base: Option<ChunkId>,
}

#[derive(Default)]
struct Counters {
    bytes_read: AtomicU64,
    bytes_new: AtomicU64,
    bytes_stored: AtomicU64,
    chunks: AtomicU64,
    chunks_new: AtomicU64,
}

struct Shared {
    repo: Arc<Repository>,
    known: Index,
    pending: Mutex<HashSet<ChunkId>>,
    jobs: Mutex<Option<Sender<Job>>>,
    failed: Mutex<Option<Error>>,
    counters: Counters,
    streams: Mutex<Vec<StreamEntry>>,
    parent: ParentLayout,
}

impl Shared {
    fn fail(&self, e: Error) {
        let mut f = self.failed.lock().unwrap();
        if f.is_none() {
            *f = Some(e);
        }
    }

    fn check(&self) -> Result<()> {
        match &*self.failed.lock().unwrap() {
            Some(e) => Err(Error {
                kind: e.kind,
                message: e.message.clone(),
                hint: e.hint.clone(),
            }),
            None => Ok(()),
        }
    }
}

/// One backup in progress: open streams with [`Self::stream`], then commit.
pub struct BackupWriter {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    packs: Arc<Mutex<Vec<IndexedPack>>>,
    started: Instant,
}

impl BackupWriter {
    /// `parent`: the database's previous restore point, if any; changed
    /// chunks are stored as deltas against its chunks.
    pub fn new(
        repo: Arc<Repository>,
        compression_level: i32,
        parent: Option<&RestorePoint>,
    ) -> Result<Self> {
        let known = repo.load_index_for_backup()?;
        let parent: ParentLayout = parent
            .map(|p| {
                p.streams
                    .iter()
                    .map(|s| {
                        let mut off = 0u64;
                        let layout = s
                            .chunks
                            .iter()
                            .map(|(id, len)| {
                                let at = off;
                                off += *len as u64;
                                (at, *id)
                            })
                            .collect();
                        (s.name.clone(), Arc::new(layout))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let workers = crate::util::cores();
        let (job_tx, job_rx) = bounded::<Job>(workers * 4);
        let (sealed_tx, sealed_rx) = bounded::<Sealed>(workers * 4);
        let (pack_tx, pack_rx) = bounded::<FinishedPack>(1);
        let shared = Arc::new(Shared {
            repo: repo.clone(),
            known,
            pending: Mutex::new(HashSet::new()),
            jobs: Mutex::new(Some(job_tx)),
            failed: Mutex::new(None),
            counters: Counters::default(),
            streams: Mutex::new(Vec::new()),
            parent,
        });
        let packs = Arc::new(Mutex::new(Vec::new()));
        let mut threads = Vec::new();
        for _ in 0..workers {
            let (rx, tx, sh) = (job_rx.clone(), sealed_tx.clone(), shared.clone());
            threads.push(std::thread::spawn(move || {
                seal_worker(rx, tx, &sh, compression_level)
            }));
        }
        drop(sealed_tx);
        {
            let sh = shared.clone();
            threads.push(std::thread::spawn(move || packer(sealed_rx, pack_tx, &sh)));
        }
        for _ in 0..2 {
            let (rx, sh, out) = (pack_rx.clone(), shared.clone(), packs.clone());
            threads.push(std::thread::spawn(move || uploader(rx, &sh, &out)));
        }
        Ok(BackupWriter {
            shared,
            threads,
            packs,
            started: Instant::now(),
        })
    }

    /// The repository this backup goes into.
    pub fn repository(&self) -> &Arc<Repository> {
        &self.shared.repo
    }

    /// Start a named stream; it may be written from any thread.
    pub fn stream(&self, name: &str) -> Result<StreamWriter> {
        self.stream_cut(name, None)
    }

    /// Start a stream of fixed-position pages (a database file image), cut
    /// into chunks of whole pages, about the chunker's average size. Content-defined cuts move when an edit
    /// touches the bytes that decide them, and a chunk that then spans two
    /// old ones patches only one of them; pages never move, so fixed cuts
    /// keep every chunk over exactly its previous version.
    pub fn stream_of_pages(&self, name: &str, page_size: usize) -> Result<StreamWriter> {
        let avg = self.shared.repo.config().chunker.avg_size;
        let page_size = page_size.max(1);
        self.stream_cut(name, Some((avg / page_size).max(1) * page_size))
    }

    fn stream_cut(&self, name: &str, fixed: Option<usize>) -> Result<StreamWriter> {
        let jobs = self
            .shared
            .jobs
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| Error::new(Kind::Storage, "backup writer is already finished"))?;
        let chunker = self.shared.repo.chunker();
        let cap = chunker.max_size() * 4;
        Ok(StreamWriter {
            fixed,
            parent: self.shared.parent.get(name).cloned(),
            shared: self.shared.clone(),
            jobs,
            chunker,
            buf: Vec::with_capacity(cap),
            start: 0,
            entry: StreamEntry {
                name: name.to_string(),
                size: 0,
                chunks: Vec::new(),
            },
            level: Arc::default(),
            sent: 0,
        })
    }

    /// Wait for every blob to be stored, write the index, then the restore
    /// point. Returns the point's id, its statistics, and the bytes the
    /// manifest itself took.
    pub fn commit(mut self, mut point: RestorePoint) -> Result<(PointId, PointStats, u64)> {
        let packs = match self.drain() {
            Ok(p) => p,
            Err(e) => {
                self.remove_unindexed_packs();
                return Err(e);
            }
        };
        let c = &self.shared.counters;
        point.streams = std::mem::take(&mut *self.shared.streams.lock().unwrap());
        point.streams.sort_by(|a, b| a.name.cmp(&b.name));
        if !packs.is_empty() {
            let ids: Vec<PackId> = packs.iter().map(|p| p.id).collect();
            match self.shared.repo.write_index_file(&IndexFile { packs }) {
                Ok((_, size)) => c.bytes_stored.fetch_add(size, Relaxed),
                Err(e) => {
                    self.packs
                        .lock()
                        .unwrap()
                        .extend(ids.into_iter().map(|id| IndexedPack { id, blobs: vec![] }));
                    self.remove_unindexed_packs();
                    return Err(e);
                }
            };
        }
        point.stats = PointStats {
            bytes_read: c.bytes_read.load(Relaxed),
            bytes_new: c.bytes_new.load(Relaxed),
            bytes_stored: c.bytes_stored.load(Relaxed),
            chunks: c.chunks.load(Relaxed),
            chunks_new: c.chunks_new.load(Relaxed),
            duration_secs: self.started.elapsed().as_secs_f64(),
        };
        // Once the index is stored, another backup may already dedupe
        // against these packs: from here on nothing is deleted, and a failed
        // point write leaves only unreferenced objects (removed by prune).
        let (id, size) = self.shared.repo.write_point(&point)?;
        Ok((id, point.stats, size))
    }

    /// Stop the pipeline without writing a restore point (the source or the
    /// storage failed).
    pub fn abandon(mut self) {
        self.shared
            .fail(Error::new(Kind::Interrupted, "backup abandoned"));
        let _ = self.drain();
        self.remove_unindexed_packs();
    }

    /// Delete the packs this backup stored before any index named them:
    /// nothing can refer to them (pack names include random nonces, so no
    /// other backup stores the same pack), and on a full disk they would
    /// hold the space the next backup needs.
    fn remove_unindexed_packs(&self) {
        for p in self.packs.lock().unwrap().drain(..) {
            let _ = self.shared.repo.storage().delete(&pack_name(&p.id));
        }
    }

    /// Close the job queue and wait for every thread; all stream writers
    /// must be finished or dropped before.
    fn drain(&mut self) -> Result<Vec<IndexedPack>> {
        self.shared.jobs.lock().unwrap().take();
        for t in self.threads.drain(..) {
            if t.join().is_err() {
                self.shared
                    .fail(Error::new(Kind::Storage, "a backup thread panicked"));
            }
        }
        self.shared.check()?;
        let packs = std::mem::take(&mut *self.packs.lock().unwrap());
        Ok(packs)
    }
}

impl Drop for BackupWriter {
    fn drop(&mut self) {
        if !self.threads.is_empty() {
            // Dropped on an error path: stop the threads, which end once the
            // last stream writer is gone too.
            self.shared
                .fail(Error::new(Kind::Interrupted, "backup abandoned"));
            self.shared.jobs.lock().unwrap().take();
        }
    }
}

/// Writes one stream; call [`StreamWriter::finish`] at the end.
pub struct StreamWriter {
    /// Fixed chunk size (page images), else content-defined cuts.
    fixed: Option<usize>,
    parent: Option<Arc<Vec<(u64, ChunkId)>>>,
    shared: Arc<Shared>,
    jobs: Sender<Job>,
    chunker: super::chunker::Chunker,
    buf: Vec<u8>,
    start: usize,
    entry: StreamEntry,
    level: Arc<LevelChoice>,
    /// New chunks sent so far: the first, and every RESAMPLE_EVERY-th,
    /// are samples for the level.
    sent: u64,
}

impl StreamWriter {
    /// Cut and dispatch chunks while more than `keep` bytes are buffered.
    fn cut(&mut self, keep: usize) -> Result<()> {
        crate::interrupt::check()?;
        while self.buf.len() - self.start > keep {
            let data = &self.buf[self.start..];
            let n = match self.fixed {
                Some(size) => data.len().min(size),
                None => self.chunker.next_cut(data),
            };
            let chunk = &data[..n];
            let id = self.shared.repo.chunk_id(chunk);
            let c = &self.shared.counters;
            c.bytes_read.fetch_add(n as u64, Relaxed);
            c.chunks.fetch_add(1, Relaxed);
            self.entry.chunks.push((id, n as u32));
            self.entry.size += n as u64;
            let is_new =
                !self.shared.known.contains(&id) && self.shared.pending.lock().unwrap().insert(id);
            if is_new {
                c.bytes_new.fetch_add(n as u64, Relaxed);
                c.chunks_new.fetch_add(1, Relaxed);
                let job = Job {
                    id,
                    data: chunk.to_vec(),
                    level: self.level.clone(),
                    sample: self.sent.is_multiple_of(RESAMPLE_EVERY),
                    near: self.near(self.entry.size - n as u64 + n as u64 / 2),
                    phase: self.phase(self.entry.size - n as u64),
                };
                self.sent += 1;
                if self.jobs.send(job).is_err() {
                    self.shared.check()?;
                    return Err(Error::new(Kind::Storage, "backup pipeline stopped"));
                }
            }
            self.start += n;
        }
        if self.start > self.buf.capacity() / 2 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        Ok(())
    }

    /// The phase of the chunk starting at `at` (see [`cut`]): neighbours get
    /// successive phases, and each stream starts at its own.
    fn phase(&self, at: u64) -> usize {
        let avg = self.shared.repo.config().chunker.avg_size.max(1) as u64;
        let name = blake3::hash(self.entry.name.as_bytes()).as_bytes()[0] as u64;
        ((name + at / avg) % CUT_SPREAD as u64) as usize
    }

    /// The previous point's chunk covering stream offset `at`.
    fn near(&self, at: u64) -> Option<ChunkId> {
        let layout = self.parent.as_ref()?;
        let i = layout.partition_point(|(start, _)| *start <= at);
        i.checked_sub(1).map(|i| layout[i].1)
    }

    /// Cut the last chunk; the stream becomes part of the restore point at commit.
    pub fn finish(mut self) -> Result<u64> {
        self.cut(0)?;
        self.shared.check()?;
        let size = self.entry.size;
        self.shared.streams.lock().unwrap().push(std::mem::replace(
            &mut self.entry,
            StreamEntry {
                name: String::new(),
                size: 0,
                chunks: Vec::new(),
            },
        ));
        Ok(size)
    }
}

impl Write for StreamWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        let keep = self.chunker.max_size();
        if self.buf.len() - self.start >= keep * 2 {
            self.cut(keep).map_err(std::io::Error::other)?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn seal_worker(rx: Receiver<Job>, tx: Sender<Sealed>, sh: &Shared, level: i32) {
    let mut zc = match zstd::bulk::Compressor::new(level) {
        Ok(z) => z,
        Err(e) => {
            sh.fail(Error::new(
                Kind::Usage,
                format!("cannot start zstd at level {level}: {e}"),
            ));
            return;
        }
    };
    // Only the default level is adapted: a level the user chose is kept.
    let mut fast = (level == super::config::DEFAULT_COMPRESSION)
        .then(|| zstd::bulk::Compressor::new(1).expect("zstd level 1"));
    let sealer = sh.repo.sealer().clone();
    let mut dz = zstd::bulk::Decompressor::new().expect("zstd context");
    let mut ahead = super::chain::ReadAhead::default();
    // One buffer for the life of the worker: type byte, then the zstd frame.
    let mut plain =
        vec![0u8; 1 + zstd::zstd_safe::compress_bound(sh.repo.config().chunker.max_size)];
    for job in rx {
        if sh.failed.lock().unwrap().is_some() {
            continue;
        }
        let need = 1 + zstd::zstd_safe::compress_bound(job.data.len());
        if plain.len() < need {
            plain.resize(need, 0);
        }
        // A changed chunk is first tried as a patch of the previous point's
        // chunk at the same place; when that is small (the usual case for
        // pages changed in a few rows) plain compression is skipped.
        let patch = job
            .near
            .and_then(|near| {
                sh.repo
                    .read_version(&sh.known, &near, &mut dz, &mut ahead)
                    .ok()
            })
            .and_then(|v| {
                let (base_id, base) = match cut(job.phase, &v) {
                    Cut::Extend => (job.near.expect("near"), &v.data),
                    Cut::ToRoot => (v.root, &v.root_data),
                    Cut::Whole => return None,
                };
                let script = Script::diff(base, &job.data);
                delta::encode_patch(&base_id, &script, &mut zc).map(|p| (base_id, p))
            });
        let small = patch
            .as_ref()
            .is_some_and(|(_, p)| p.len() * 8 < job.data.len());
        let mut blob_plain: &[u8] = &[];
        if !small {
            let compressed = level::compress(
                &job.data,
                &job.level,
                job.sample,
                (&mut zc, level),
                fast.as_mut(),
                &mut plain[1..],
            );
            // Incompressible data is stored as it is: smaller, and faster to restore.
            blob_plain = match compressed {
                Some(n) if n < job.data.len() => {
                    plain[0] = BLOB_ZSTD;
                    &plain[..1 + n]
                }
                _ => {
                    plain[0] = BLOB_RAW;
                    plain.truncate(1);
                    plain.extend_from_slice(&job.data);
                    &plain[..]
                }
            };
        }
        let mut base = None;
        if let Some((base_id, p)) = &patch
            && (small || p.len() < blob_plain.len())
        {
            blob_plain = p;
            base = Some(*base_id);
        }
        let blob = sealer.seal(blob_plain);
        let sealed = Sealed {
            id: job.id,
            blob,
            raw_len: job.data.len(),
            base,
        };
        if tx.send(sealed).is_err() {
            return;
        }
    }
}

/// Chains are cut once between `CUT_AFTER` and `CUT_AFTER + CUT_SPREAD`
/// links, at a depth set by the chunk's place in the stream (its phase), so
/// that each backup cuts about one chain in `CUT_SPREAD`, evenly, even when
/// every chain of a database started with the same backup: the new version
/// then patches the chain's root (all changes since), or is stored whole
/// when that is smaller. Reading a chunk so takes at most
/// `CUT_AFTER + CUT_SPREAD` links, and a cut costs its chain's changes once
/// more, spread over the backups.
const CUT_AFTER: usize = 32;
const CUT_SPREAD: usize = 32;

/// What the next version of a chunk is stored against.
enum Cut {
    /// The previous version: the chain grows by one link.
    Extend,
    /// The chain's root, or whole if that is smaller.
    ToRoot,
    /// Whole: the chain's patches outweigh its root (or an eighth of the
    /// chunk, for a root that compresses very well), so reading a chunk
    /// never costs much more than reading it whole.
    Whole,
}

fn cut(phase: usize, v: &super::chain::Version) -> Cut {
    let depth = v.depth + 1;
    if v.chain_bytes > v.root_bytes.max(v.data.len() as u64 / 8) {
        Cut::Whole
    } else if depth >= CUT_AFTER + CUT_SPREAD
        || depth >= CUT_AFTER && (depth + phase).is_multiple_of(CUT_SPREAD)
    {
        Cut::ToRoot
    } else {
        Cut::Extend
    }
}

type FinishedPack = (PackId, Vec<u8>, Vec<BlobEntry>);

fn packer(rx: Receiver<Sealed>, tx: Sender<FinishedPack>, sh: &Shared) {
    let repo = &sh.repo;
    let target = repo.config().pack_size;
    let encrypted = repo.sealer().is_encrypted();
    let mut pack = PackBuilder::new(encrypted, target + target / 8);
    for s in rx {
        pack.add(s.id, &s.blob, s.raw_len, s.base);
        if pack.len() >= target {
            let full =
                std::mem::replace(&mut pack, PackBuilder::new(encrypted, target + target / 8));
            if tx.send(full.finish(repo.sealer())).is_err() {
                return;
            }
        }
    }
    if !pack.is_empty() && sh.failed.lock().unwrap().is_none() {
        let _ = tx.send(pack.finish(repo.sealer()));
    }
}

fn uploader(rx: Receiver<FinishedPack>, sh: &Shared, out: &Mutex<Vec<IndexedPack>>) {
    for (id, bytes, blobs) in rx {
        if sh.failed.lock().unwrap().is_some() {
            continue;
        }
        let name = pack_name(&id);
        match sh.repo.storage().put_if_absent(&name, &bytes) {
            Ok(_) => {
                sh.counters
                    .bytes_stored
                    .fetch_add(bytes.len() as u64, Relaxed);
                out.lock().unwrap().push(IndexedPack { id, blobs });
            }
            Err(e) => sh.fail(e.into()),
        }
    }
}

/// Packs are spread over 256 folders so no directory grows too large.
pub fn pack_name(id: &PackId) -> String {
    let hex = id.to_hex();
    format!("packs/{}/{}", &hex[..2], hex)
}
