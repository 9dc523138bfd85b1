//! Which pack objects a restore point needs: the packs of its chunks, of
//! every delta base below them, and of the points it depends on. Used to
//! bring exactly those back from an archive tier.

use super::Repository;
use super::ids::{ChunkId, PackId, PointId};
use super::index::unknown_chunk;
use super::writer::pack_name;
use crate::error::Result;
use std::collections::{BTreeSet, HashMap};

impl Repository {
    /// Names of the pack objects restoring `point` reads, sorted.
    pub fn packs_needed(&self, point: &PointId) -> Result<Vec<String>> {
        // The index files, not the in-memory index: they also name the base
        // of each delta, which the restore reads too.
        let mut chunks: HashMap<ChunkId, (PackId, Option<ChunkId>)> = HashMap::new();
        for id in self.list_indexes()? {
            for p in self.read_index_file(&id)?.packs {
                for b in p.blobs {
                    chunks.entry(b.id).or_insert((p.id, b.base));
                }
            }
        }
        let mut packs = BTreeSet::new();
        let mut next = Some(*point);
        let mut seen = BTreeSet::new();
        while let Some(id) = next.take() {
            if !seen.insert(id) {
                break;
            }
            let p = self.read_point(&id)?;
            for s in &p.streams {
                for (c, _) in &s.chunks {
                    // The chunk and every link of its chain.
                    let mut at = Some(*c);
                    let mut links = 0;
                    while let Some(id) = at.take() {
                        let (pack, base) = chunks.get(&id).ok_or_else(|| unknown_chunk(&id))?;
                        packs.insert(*pack);
                        links += 1;
                        at = base.filter(|_| links < super::chain::MAX_CHAIN);
                    }
                }
            }
            next = p.depends_on;
        }
        Ok(packs.iter().map(pack_name).collect())
    }
}
