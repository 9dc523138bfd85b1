//! Deciding which data no restore point needs, and rebuilding the index
//! from the packs on the way (used by `prune`, `archive` and `repair`).
//!
//! The rule that keeps a running backup's data safe: packs that no index
//! object names are only ever deleted by a holder of the exclusive
//! repository lock, which no backup holds (backups take it shared), so any
//! such pack was left by a backup that died. A pack whose footer cannot be
//! read is never deleted: what it holds is unknown.

use super::Repository;
use super::ids::{ChunkId, IndexId, PackId};
use super::index::{INDEX_DIR, IndexFile, IndexedPack};
use super::pack::{BlobEntry, locate_blobs, parse_footer};
use super::writer::pack_name;
use crate::error::{Kind, Result};
use std::collections::{HashMap, HashSet};

/// What a collection would do, and why.
#[derive(Debug, Default)]
pub struct GcPlan {
    /// The index to write: every pack that holds a chunk a point needs.
    pub keep: IndexFile,
    /// Packs nothing needs, with their size and why they go.
    pub dead: Vec<(PackId, u64, &'static str)>,
    /// Index objects read, and those that were damaged.
    pub indexes: Vec<IndexId>,
    pub damaged_indexes: Vec<(IndexId, String)>,
    /// Packs no readable index object named, read to learn what they hold.
    pub scanned: usize,
    /// Packs whose footer could not be read (kept), with the reason.
    pub unreadable: Vec<(String, String)>,
    /// Chunks that points need and that were found only by reading packs.
    pub recovered: usize,
}

impl GcPlan {
    /// Whether the index objects need rewriting even if nothing is dead.
    pub fn index_needs_rebuild(&self) -> bool {
        !self.damaged_indexes.is_empty() || self.recovered > 0
    }

    /// The chunks the new index lists.
    pub fn chunks(&self) -> HashSet<ChunkId> {
        self.keep
            .packs
            .iter()
            .flat_map(|p| p.blobs.iter().map(|b| b.id))
            .collect()
    }
}

impl Repository {
    /// Plan a collection: live chunks come from every readable restore
    /// point (and the bases of live deltas); index objects are read where
    /// they can be, and packs that none names are read from their footers.
    pub fn plan_gc(&self) -> Result<GcPlan> {
        self.plan_gc_replacing(&HashSet::new())
    }

    /// Like [`Self::plan_gc`], with `replaced` packs counted as dead: their
    /// sound chunks were copied into new packs (`repair --read-data`).
    pub fn plan_gc_replacing(&self, replaced: &HashSet<PackId>) -> Result<GcPlan> {
        let mut plan = GcPlan::default();
        let mut live: HashSet<ChunkId> = HashSet::new();
        for (_, p) in self.points()? {
            for s in &p.streams {
                live.extend(s.chunks.iter().map(|(id, _)| *id));
            }
        }
        let mut files = Vec::new();
        for id in self.list_indexes()? {
            match self.read_index_file(&id) {
                Ok(f) => files.push(f),
                Err(e) if e.kind == Kind::Repository => {
                    plan.damaged_indexes.push((id, e.message));
                    continue;
                }
                Err(e) => return Err(e),
            }
            plan.indexes.push(id);
        }
        let sizes: HashMap<PackId, (String, u64)> = self
            .storage()
            .list("packs/")?
            .into_iter()
            .filter_map(|o| {
                let id = o.name.rsplit('/').next()?.parse::<PackId>().ok()?;
                Some((id, (o.name, o.size)))
            })
            .collect();
        // Every pack with its blobs, from the index objects first.
        let mut packs: HashMap<PackId, Vec<BlobEntry>> = HashMap::new();
        for f in files {
            for p in f.packs {
                if sizes.contains_key(&p.id) {
                    packs.entry(p.id).or_insert(p.blobs);
                }
            }
        }
        let indexed: HashSet<PackId> = packs.keys().copied().collect();
        let mut scanned_chunks: HashSet<ChunkId> = HashSet::new();
        for (id, (name, _)) in &sizes {
            if indexed.contains(id) {
                continue;
            }
            plan.scanned += 1;
            let data = self.storage().get(name)?;
            match parse_footer(name, &data, self.sealer()) {
                Ok(mut blobs) => {
                    // The index records each delta's base; only the blob
                    // itself says what it is (any blob may be a link of a
                    // live chain).
                    for b in blobs.iter_mut() {
                        let sealed = &data[b.offset as usize..(b.offset + b.length) as usize];
                        b.base = self.blob_base(&b.id, sealed).unwrap_or(None);
                        if live.contains(&b.id) {
                            scanned_chunks.insert(b.id);
                        }
                    }
                    packs.insert(*id, blobs);
                }
                Err(e) => plan.unreadable.push((name.clone(), e.message)),
            }
        }
        let indexed_chunks: HashSet<ChunkId> = indexed
            .iter()
            .flat_map(|p| packs[p].iter().map(|b| b.id))
            .collect();
        plan.recovered = scanned_chunks
            .iter()
            .filter(|c| !indexed_chunks.contains(c))
            .count();
        // A live delta keeps its base alive, and so on down its chain.
        let mut bases: HashMap<ChunkId, Vec<ChunkId>> = HashMap::new();
        for b in packs.values().flat_map(|b| b.iter()) {
            if let Some(base) = b.base {
                bases.entry(b.id).or_default().push(base);
            }
        }
        let mut todo: Vec<ChunkId> = live.iter().copied().collect();
        while let Some(c) = todo.pop() {
            for b in bases.get(&c).into_iter().flatten() {
                if live.insert(*b) {
                    todo.push(*b);
                }
            }
        }
        let mut ids: Vec<PackId> = packs.keys().copied().collect();
        ids.sort();
        for id in ids {
            let blobs = packs.remove(&id).expect("listed");
            if replaced.contains(&id) {
                plan.dead.push((
                    id,
                    sizes[&id].1,
                    "damaged; its intact chunks were copied into a new pack",
                ));
            } else if blobs.iter().any(|b| live.contains(&b.id)) {
                plan.keep.packs.push(IndexedPack { id, blobs });
            } else {
                let why = if indexed.contains(&id) {
                    "holds no chunk a restore point needs"
                } else {
                    "left by an interrupted backup or prune; in no index"
                };
                plan.dead.push((id, sizes[&id].1, why));
            }
        }
        Ok(plan)
    }

    /// Carry out a plan: the new index first, then the old index objects,
    /// then the dead packs, so a process killed at any step leaves every
    /// point restorable. Returns the bytes freed.
    pub fn apply_gc(&self, plan: &GcPlan, rewrite_index: bool) -> Result<u64> {
        if plan.dead.is_empty() && !rewrite_index && !plan.index_needs_rebuild() {
            return Ok(0);
        }
        let (new_id, _) = self.write_index_file(&plan.keep)?;
        let old = plan
            .indexes
            .iter()
            .chain(plan.damaged_indexes.iter().map(|(id, _)| id));
        for id in old {
            if *id != new_id {
                self.storage().delete(&format!("{INDEX_DIR}{id}"))?;
            }
        }
        let mut freed = 0;
        for (id, size, _) in &plan.dead {
            self.storage().delete(&pack_name(id))?;
            freed += size;
        }
        Ok(freed)
    }

    /// Copy the sound blobs of damaged `packs` into new packs (blobs are
    /// sealed one by one, so their bytes move as they are; all of them, as
    /// a chunk no point lists may be the base of one that is). The next
    /// collection drops what nothing needs. Returns the packs replaced and
    /// how many chunks were saved.
    pub fn repack(
        &self,
        packs: &[PackId],
        sound: &HashSet<ChunkId>,
        bad: &HashSet<(PackId, ChunkId)>,
    ) -> Result<(HashSet<PackId>, usize)> {
        // What the index objects place in each pack: every blob, also those
        // a loaded index would read from another pack's copy.
        let mut listed: HashMap<PackId, Vec<BlobEntry>> = HashMap::new();
        for id in self.list_indexes()? {
            if let Ok(f) = self.read_index_file(&id) {
                for p in f.packs.into_iter().filter(|p| packs.contains(&p.id)) {
                    listed.entry(p.id).or_insert(p.blobs);
                }
            }
        }
        let mut replaced = HashSet::new();
        let mut saved = 0;
        let encrypted = self.sealer().is_encrypted();
        for id in packs {
            let name = pack_name(id);
            let Ok(data) = self.storage().get(&name) else {
                continue;
            };
            // A pack whose blobs cannot be located is never removed: what
            // it holds is unknown.
            let Ok((entries, _)) = locate_blobs(
                &name,
                &data,
                true,
                listed.remove(id).unwrap_or_default(),
                self.sealer(),
            ) else {
                continue;
            };
            let mut sound_blobs = Vec::new();
            for b in &entries {
                let end = b.offset as usize + b.length as usize;
                let Some(sealed) = data.get(b.offset as usize..end) else {
                    continue;
                };
                if sound.contains(&b.id) && !bad.contains(&(*id, b.id)) {
                    let base = self.blob_base(&b.id, sealed).unwrap_or(None);
                    sound_blobs.push((b, sealed, base));
                }
            }
            saved += sound_blobs.len();
            let mut generation = data.get(6).copied().unwrap_or(0);
            while !sound_blobs.is_empty() {
                generation = generation.wrapping_add(1);
                let mut builder = super::pack::PackBuilder::new(encrypted, data.len());
                builder.set_generation(generation);
                for (b, sealed, base) in &sound_blobs {
                    builder.add(b.id, sealed, b.raw_length as usize, *base);
                }
                let (new_id, bytes, _) = builder.finish(self.sealer());
                if new_id != *id {
                    self.storage().put_if_absent(&pack_name(&new_id), &bytes)?;
                    break;
                }
            }
            replaced.insert(*id);
        }
        Ok((replaced, saved))
    }

    /// The base a delta blob names, or None for a whole chunk.
    fn blob_base(&self, id: &ChunkId, sealed: &[u8]) -> Result<Option<ChunkId>> {
        let plain = self
            .sealer()
            .open(sealed, &format!("chunk {}", id.short()))?;
        Ok(super::delta::base_of(&plain))
    }
}
