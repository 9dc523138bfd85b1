//! Checking a repository: every pack re-read and every blob opened, every
//! restore point's chunks accounted for, and each problem reported where
//! it is, with what it costs.
//!
//! The verdict on a point depends only on whether each of its chunks can
//! be read back from some pack: a damaged index object, or a flipped byte
//! in a pack's header, footer or checksum that leaves its blobs intact,
//! costs no point (they are reported with the way to fix them). A delta
//! whose base is damaged is reported against the base's pack.

use super::Repository;
use super::chain::Link;
use super::ids::{ChunkId, PackId, PointId};
use super::index::{INDEX_DIR, Index};
use super::pack::{BlobEntry, locate_blobs};
use super::writer::pack_name;
use crate::error::Result;
use crate::progress::Progress;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

#[derive(Debug, Default, Serialize)]
pub struct RepoCheck {
    pub packs_checked: usize,
    pub blobs_checked: usize,
    pub bytes_checked: u64,
    /// Problems with stored objects, one line each.
    pub errors: Vec<String>,
    /// Harmless leftovers (packs no index refers to, from interrupted backups).
    pub warnings: Vec<String>,
    /// Restore points with every chunk present and sound.
    pub points_ok: Vec<PointId>,
    /// Restore points that cannot be restored completely, with why.
    pub points_damaged: Vec<PointId>,
    pub why_damaged: HashMap<PointId, String>,
    /// Packs with any damage (their frame, or some blobs).
    #[serde(skip)]
    pub damaged_packs: Vec<PackId>,
    /// Blobs found damaged, by pack: a chunk sound in one pack may be
    /// damaged in another.
    #[serde(skip)]
    pub bad_blobs: HashSet<(PackId, ChunkId)>,
    /// Packs an index object names that storage does not hold.
    #[serde(skip)]
    pub missing_packs: Vec<PackId>,
    /// Every chunk that can be read back from some pack.
    #[serde(skip)]
    pub sound_chunks: HashSet<ChunkId>,
}

/// A delta blob: its chunk, its base, and where it is.
type Delta = (ChunkId, ChunkId, PackId, BlobEntry);

/// Deltas found sound, and those found damaged with why.
#[derive(Default)]
struct Judged {
    ok: Vec<ChunkId>,
    failed: Vec<(ChunkId, String)>,
}

/// What reading one pack found.
#[derive(Default)]
struct PackFindings {
    /// Chunks whose blob opened and matched its id (deltas: see `deltas`).
    sound: Vec<ChunkId>,
    /// Delta chunks whose blob opened: (chunk, base, entry).
    deltas: Vec<(ChunkId, ChunkId, BlobEntry)>,
    /// Chunks whose blob is damaged, with the first reason.
    bad: Vec<(ChunkId, String)>,
    /// The pack's own checksum or header is wrong (its blobs may be fine).
    frame_damaged: bool,
    /// The pack could not be read or listed at all.
    unreadable: Option<String>,
    /// The blobs it lists.
    entries: Vec<BlobEntry>,
}

impl Repository {
    pub fn check(&self, progress: &dyn Progress) -> Result<RepoCheck> {
        let mut report = RepoCheck::default();
        let pack_infos = self.storage().list("packs/")?;
        let total: u64 = pack_infos.iter().map(|p| p.size).sum();
        progress.set_total(total);

        // Index objects: each read and checked on its own.
        let mut index = Index::default();
        let mut index_damaged = false;
        for id in self.list_indexes()? {
            match self.read_index_file(&id) {
                Ok(f) => index.add_file(&f),
                Err(e) => {
                    index_damaged = true;
                    report.errors.push(format!(
                        "index object `{INDEX_DIR}{id}` is damaged ({}); the packs still say what they hold: `sqlvault repair` rebuilds the index",
                        e.message
                    ));
                }
            }
        }
        let indexed: HashSet<PackId> = index.packs().iter().copied().collect();
        let mut present: HashMap<PackId, String> = HashMap::new();
        for info in &pack_infos {
            match info.name.rsplit('/').next().unwrap_or("").parse::<PackId>() {
                Ok(id) => {
                    present.insert(id, info.name.clone());
                }
                Err(_) => report
                    .warnings
                    .push(format!("unexpected object `{}`", info.name)),
            }
        }

        // Packs: read whole, check, open every blob; in parallel.
        let ids: Vec<PackId> = present.keys().copied().collect();
        let findings: Mutex<HashMap<PackId, PackFindings>> = Mutex::new(HashMap::new());
        let next = AtomicUsize::new(0);
        let workers = self.storage().read_concurrency();
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| {
                    let mut dz = zstd::bulk::Decompressor::new().expect("zstd context");
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(id) = ids.get(i) else { break };
                        let f = self.check_pack(id, &index, &mut dz, progress);
                        findings.lock().unwrap().insert(*id, f);
                    }
                });
            }
        });
        let mut findings = findings.into_inner().unwrap();
        report.packs_checked = present.len();
        report.bytes_checked = total;

        // Where each chunk can be read from, and why the others cannot.
        let mut sound: HashSet<ChunkId> = HashSet::new();
        let mut bad: HashMap<ChunkId, String> = HashMap::new();
        let mut deltas = Vec::new();
        for (id, f) in &findings {
            if !indexed.contains(id) {
                index.add_pack(*id, &f.entries);
            }
        }
        for (id, f) in &mut findings {
            let name = pack_name(id);
            report.blobs_checked += f.sound.len() + f.deltas.len() + f.bad.len();
            sound.extend(f.sound.iter().copied());
            if f.unreadable.is_some() || !f.bad.is_empty() || f.frame_damaged {
                report.damaged_packs.push(*id);
            }
            if let Some(why) = &f.unreadable {
                report
                    .errors
                    .push(format!("pack `{name}` cannot be read: {why}"));
            } else if let Some((_, first)) = f.bad.first() {
                report.errors.push(format!(
                    "pack `{name}` has {} damaged chunk(s) (first: {first})",
                    f.bad.len()
                ));
            } else if f.frame_damaged {
                report.errors.push(format!(
                    "pack `{name}` is damaged outside its data (header, footer or checksum); all {} of its chunks are intact and restore as they are: `sqlvault repair --read-data` rewrites it",
                    f.sound.len() + f.deltas.len()
                ));
            }
            for (c, why) in f.bad.drain(..) {
                report.bad_blobs.insert((*id, c));
                bad.entry(c).or_insert(format!(
                    "chunk {} in pack `{name}` is damaged: {why}",
                    c.short()
                ));
            }
            deltas.extend(f.deltas.drain(..).map(|(c, base, e)| (c, base, *id, e)));
        }
        // Deltas can be judged once their bases are: each chain is walked
        // up from its root, every link applied once to the bytes below it,
        // and a delta whose base is damaged is charged to the base.
        self.check_deltas(&index, &deltas, &mut sound, &mut bad);

        for id in present.keys() {
            if !indexed.contains(id) {
                report.warnings.push(format!(
                    "pack `{}` is in no index object ({}): `sqlvault repair` indexes it or removes it",
                    pack_name(id),
                    if index_damaged {
                        "its index object may be the damaged one"
                    } else {
                        "left by an interrupted backup or prune"
                    }
                ));
            }
        }
        for id in &indexed {
            if !present.contains_key(id) {
                report.missing_packs.push(*id);
                report
                    .errors
                    .push(format!("pack `{}` is missing", pack_name(id)));
            }
        }

        report.sound_chunks = sound.clone();
        // Restore points: every chunk readable from some pack.
        for pid in self.list_points()? {
            let point = match self.read_point(&pid) {
                Ok(p) => p,
                Err(e) => {
                    report
                        .why_damaged
                        .insert(pid, format!("its manifest is damaged: {}", e.message));
                    report.points_damaged.push(pid);
                    continue;
                }
            };
            let lost: Vec<&ChunkId> = point
                .streams
                .iter()
                .flat_map(|s| s.chunks.iter().map(|(c, _)| c))
                .filter(|c| !sound.contains(c))
                .collect();
            if lost.is_empty() {
                report.points_ok.push(pid);
                continue;
            }
            let first = lost[0];
            let why = bad
                .get(first)
                .cloned()
                .unwrap_or_else(|| match index.get(first) {
                    Some((pack, _)) if !present.contains_key(&pack) => {
                        format!(
                            "chunk {} is in pack `{}`, which is missing",
                            first.short(),
                            pack_name(&pack)
                        )
                    }
                    _ => format!("chunk {} is in no pack", first.short()),
                });
            let why = format!("{} missing or damaged chunk(s); first: {why}", lost.len());
            report.why_damaged.insert(pid, why);
            report.points_damaged.push(pid);
        }
        Ok(report)
    }

    fn check_pack(
        &self,
        id: &PackId,
        index: &Index,
        dz: &mut zstd::bulk::Decompressor,
        progress: &dyn Progress,
    ) -> PackFindings {
        let mut f = PackFindings::default();
        let name = pack_name(id);
        let data = match self.storage().get(&name) {
            Ok(d) => d,
            Err(e) => {
                f.unreadable = Some(e.to_string());
                return f;
            }
        };
        progress.advance(data.len() as u64);
        f.frame_damaged = super::format::content_hash(&data) != id.0
            || super::format::unframe(&name, super::format::ObjectKind::Pack, &data).is_err();
        // The footer lists the blobs; if it is damaged, the index objects
        // still know where they are.
        let entries = match locate_blobs(
            &name,
            &data,
            f.frame_damaged,
            index.entries_of(id),
            self.sealer(),
        ) {
            Ok((entries, footer_passed_over)) => {
                f.frame_damaged |= footer_passed_over;
                entries
            }
            Err(e) => {
                f.unreadable = Some(e.message);
                return f;
            }
        };
        f.entries = entries.clone();
        for b in entries {
            let end = (b.offset as usize).saturating_add(b.length as usize);
            let Some(sealed) = data.get(b.offset as usize..end) else {
                f.bad.push((b.id, "the pack ends before it".into()));
                continue;
            };
            match self.open_link(&b.id, sealed, b.raw_length, dz) {
                Ok(link) => match link.base() {
                    // Judged once its base is (see `check_deltas`).
                    Some(base) => f.deltas.push((b.id, base, b)),
                    None => f.sound.push(b.id),
                },
                Err(e) => f.bad.push((b.id, e.message)),
            }
        }
        f
    }

    /// Judge every delta (chunk, base, pack, entry): walk each chain up
    /// from a sound root, on several threads, applying each link once.
    fn check_deltas(
        &self,
        index: &Index,
        deltas: &[Delta],
        sound: &mut HashSet<ChunkId>,
        bad: &mut HashMap<ChunkId, String>,
    ) {
        let mut children: HashMap<ChunkId, Vec<usize>> = HashMap::new();
        for (i, (c, base, _, _)) in deltas.iter().enumerate() {
            if !sound.contains(c) {
                children.entry(*base).or_default().push(i);
            }
        }
        let roots: Vec<ChunkId> = children
            .keys()
            .filter(|b| sound.contains(b))
            .copied()
            .collect();
        let found: Mutex<Judged> = Mutex::default();
        let next = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..self.storage().read_concurrency() {
                s.spawn(|| {
                    let mut dz = zstd::bulk::Decompressor::new().expect("zstd context");
                    let mut judged = Judged::default();
                    while let Some(root) = roots.get(next.fetch_add(1, Ordering::Relaxed)) {
                        if let Ok(Link::Whole(data)) = self.fetch_link(index, root, &mut dz) {
                            let chains = (deltas, &children);
                            self.walk_chain(root, data, chains, &mut dz, &mut judged);
                        }
                    }
                    let mut f = found.lock().unwrap();
                    f.ok.extend(judged.ok);
                    f.failed.extend(judged.failed);
                });
            }
        });
        let Judged { ok, failed } = found.into_inner().unwrap();
        sound.extend(ok);
        for (c, why) in failed {
            bad.entry(c).or_insert(why);
        }
        // What is left hangs below a damaged or missing link.
        let base_of: HashMap<ChunkId, ChunkId> = deltas.iter().map(|d| (d.0, d.1)).collect();
        for (c, base, _, _) in deltas {
            if sound.contains(c) || bad.contains_key(c) {
                continue;
            }
            let mut at = *base;
            let mut steps = 0;
            let why = loop {
                if let Some(why) = bad.get(&at) {
                    break why.clone();
                }
                match base_of.get(&at) {
                    Some(b) if steps < super::chain::MAX_CHAIN => at = *b,
                    _ => break format!("chunk {} is in no pack", at.short()),
                }
                steps += 1;
            };
            let why = format!(
                "chunk {} is a delta of chunk {}, which cannot be read ({why})",
                c.short(),
                base.short()
            );
            bad.insert(*c, why);
        }
    }

    /// Apply every delta above `root`, depth first.
    fn walk_chain(
        &self,
        root: &ChunkId,
        root_data: Vec<u8>,
        (deltas, children): (&[Delta], &HashMap<ChunkId, Vec<usize>>),
        dz: &mut zstd::bulk::Decompressor,
        judged: &mut Judged,
    ) {
        let mut stack = vec![(*root, root_data)];
        while let Some((id, data)) = stack.pop() {
            for &i in children.get(&id).map(Vec::as_slice).unwrap_or(&[]) {
                let (c, _, pack, e) = &deltas[i];
                let r = self
                    .storage()
                    .get_range(&pack_name(pack), e.offset as u64, e.length as u64)
                    .map_err(crate::Error::from)
                    .and_then(|sealed| self.open_link(c, &sealed, e.raw_length, dz))
                    .and_then(|link| {
                        link.apply(&data, e.raw_length as usize).map_err(|why| {
                            super::delta::corrupt(&format!("chunk {}", c.short()), why)
                        })
                    })
                    .and_then(|bytes| {
                        if bytes.len() == e.raw_length as usize && self.chunk_id(&bytes) == *c {
                            Ok(bytes)
                        } else {
                            Err(super::delta::corrupt(
                                &format!("chunk {}", c.short()),
                                "content does not match its id",
                            ))
                        }
                    });
                match r {
                    Ok(bytes) => {
                        judged.ok.push(*c);
                        stack.push((*c, bytes));
                    }
                    Err(err) => judged.failed.push((*c, err.message)),
                }
            }
        }
    }
}
