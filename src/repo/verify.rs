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
use super::delta::base_of;
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
    /// Every chunk that can be read back from some pack.
    #[serde(skip)]
    pub sound_chunks: HashSet<ChunkId>,
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
                bad.entry(c).or_insert(format!(
                    "chunk {} in pack `{name}` is damaged: {why}",
                    c.short()
                ));
            }
            deltas.extend(f.deltas.drain(..).map(|(c, base, e)| (c, base, *id, e)));
        }
        // Deltas can be judged once every base is: a delta whose base is
        // damaged is charged to the base, not to the delta's intact pack.
        let mut dz = zstd::bulk::Decompressor::new().expect("zstd context");
        for (c, base, pack, e) in deltas {
            if sound.contains(&c) {
                continue;
            }
            if !sound.contains(&base) {
                let why = bad
                    .get(&base)
                    .cloned()
                    .unwrap_or_else(|| format!("its base chunk {} is in no pack", base.short()));
                bad.entry(c).or_insert(format!(
                    "chunk {} is a delta of chunk {}, which cannot be read ({why})",
                    c.short(),
                    base.short()
                ));
                continue;
            }
            let r = self
                .storage()
                .get_range(&pack_name(&pack), e.offset as u64, e.length as u64)
                .map_err(crate::Error::from)
                .and_then(|sealed| {
                    self.open_blob(&c, &sealed, e.raw_length, &mut dz, Some(&index))
                });
            match r {
                Ok(_) => {
                    sound.insert(c);
                }
                Err(err) => {
                    bad.entry(c).or_insert(err.message);
                }
            }
        }

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
            match self
                .sealer()
                .open(sealed, &format!("chunk {}", b.id.short()))
            {
                Ok(plain) => match base_of(&plain) {
                    // Judged once every base is known (see `check`).
                    Some(base) => f.deltas.push((b.id, base, b)),
                    None => match self.open_blob(&b.id, sealed, b.raw_length, dz, None) {
                        Ok(_) => f.sound.push(b.id),
                        Err(e) => f.bad.push((b.id, e.message)),
                    },
                },
                Err(e) => f.bad.push((b.id, e.message)),
            }
        }
        f
    }
}
