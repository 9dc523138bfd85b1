//! The index: which pack holds each chunk.
//!
//! Every backup writes one index object for the packs it added; readers load
//! all of them into one in-memory map. Entries point at packs by a small
//! number so the map stays compact (about 60 bytes per chunk).

use super::Repository;
use super::format::ObjectKind;
use super::ids::{ChunkId, IndexId, PackId};
use super::pack::BlobEntry;
use super::pack::parse_footer;
use crate::error::{Error, Kind, Result};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub const INDEX_DIR: &str = "index/";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pack: u32,
    pub offset: u32,
    pub length: u32,
    pub raw_length: u32,
}

/// The body of one index object.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexFile {
    pub packs: Vec<IndexedPack>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexedPack {
    pub id: PackId,
    pub blobs: Vec<BlobEntry>,
}

#[derive(Debug, Default)]
pub struct Index {
    packs: Vec<PackId>,
    /// Where the last blob the index knows of ends, per pack.
    pack_ends: Vec<u64>,
    pack_numbers: HashMap<PackId, u32>,
    chunks: HashMap<ChunkId, Location>,
    /// The base of each delta the index lists (from the index objects;
    /// a pack read by its footer does not say).
    bases: HashMap<ChunkId, ChunkId>,
    /// Index objects that could not be read (damaged), left out.
    pub damaged: Vec<IndexId>,
    /// What loading had to work around, for the session report.
    pub notes: Vec<String>,
    /// Whether the packs no index object names were read already.
    scanned: bool,
}

impl Index {
    pub fn contains(&self, id: &ChunkId) -> bool {
        self.chunks.contains_key(id)
    }

    pub fn get(&self, id: &ChunkId) -> Option<(PackId, Location)> {
        self.chunks
            .get(id)
            .map(|l| (self.packs[l.pack as usize], *l))
    }

    /// The chunk a delta is stored against, when the index knows it.
    pub fn base(&self, id: &ChunkId) -> Option<ChunkId> {
        self.bases.get(id).copied()
    }

    /// `id` and the bases below it, as far as the index knows them
    /// (bounded: a loop of bases can only come from damage).
    pub fn chain(&self, id: &ChunkId) -> Vec<ChunkId> {
        let mut out = vec![*id];
        while let Some(b) = self.base(out.last().unwrap()) {
            if out.len() > super::chain::MAX_CHAIN || out.contains(&b) {
                break;
            }
            out.push(b);
        }
        out
    }

    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    /// Where the last blob of `pack` that the index knows of ends.
    pub fn data_end(&self, pack: &PackId) -> Option<u64> {
        let n = *self.pack_numbers.get(pack)?;
        Some(self.pack_ends[n as usize])
    }

    pub fn packs(&self) -> &[PackId] {
        &self.packs
    }

    /// The blobs this index places in `pack`.
    pub fn entries_of(&self, pack: &PackId) -> Vec<BlobEntry> {
        let Some(&n) = self.pack_numbers.get(pack) else {
            return Vec::new();
        };
        let mut out: Vec<BlobEntry> = self
            .chunks
            .iter()
            .filter(|(_, l)| l.pack == n)
            .map(|(id, l)| BlobEntry {
                id: *id,
                offset: l.offset,
                length: l.length,
                raw_length: l.raw_length,
                base: self.base(id),
            })
            .collect();
        out.sort_by_key(|b| b.offset);
        out
    }

    pub fn add_pack(&mut self, pack: PackId, blobs: &[BlobEntry]) {
        let next = self.packs.len() as u32;
        let n = *self.pack_numbers.entry(pack).or_insert_with(|| {
            self.packs.push(pack);
            self.pack_ends.push(0);
            next
        });
        for b in blobs {
            let end = &mut self.pack_ends[n as usize];
            *end = (*end).max(b.offset as u64 + b.length as u64);
            // The first location seen wins; duplicates from concurrent backups are equally valid.
            if let std::collections::hash_map::Entry::Vacant(e) = self.chunks.entry(b.id) {
                e.insert(Location {
                    pack: n,
                    offset: b.offset,
                    length: b.length,
                    raw_length: b.raw_length,
                });
                if let Some(base) = b.base {
                    self.bases.insert(b.id, base);
                }
            }
        }
    }

    pub fn add_file(&mut self, file: &IndexFile) {
        for p in &file.packs {
            self.add_pack(p.id, &p.blobs);
        }
    }
}

impl Repository {
    pub fn list_indexes(&self) -> Result<Vec<IndexId>> {
        self.list_ids(INDEX_DIR)
    }

    pub fn read_index_file(&self, id: &IndexId) -> Result<IndexFile> {
        let name = format!("{INDEX_DIR}{id}");
        self.read_json_object(&name, ObjectKind::Index, &id.0)
    }

    /// Load every index object into one map. An index is a cache of what
    /// the packs hold: a damaged object is left out and noted rather than
    /// failing the caller, and [`Self::complete_index`] finds its chunks in
    /// the packs. Storage errors (unreachable, permission) still fail.
    pub fn load_index(&self) -> Result<Index> {
        let mut index = Index::default();
        for id in self.list_indexes()? {
            match self.read_index_file(&id) {
                Ok(file) => index.add_file(&file),
                Err(e) if e.kind == Kind::Repository => {
                    index.notes.push(format!(
                        "index object `{INDEX_DIR}{id}` is damaged ({}); its chunks are looked up in the packs (`sqlvault repair` rebuilds the index)",
                        e.message
                    ));
                    index.damaged.push(id);
                }
                Err(e) => return Err(e.context("cannot load the repository index")),
            }
        }
        Ok(index)
    }

    /// The index a restore of `points` reads through: every index object
    /// that can be read, completed from the packs when it lacks a chunk.
    pub fn index_for(&self, points: &[&super::point::RestorePoint]) -> Result<Index> {
        let mut index = self.load_index()?;
        // Every link of every chain: a missing base is as bad as a missing chunk.
        let wanted: Vec<ChunkId> = points
            .iter()
            .flat_map(|p| p.streams.iter())
            .flat_map(|s| s.chunks.iter().flat_map(|(c, _)| index.chain(c)))
            .collect();
        self.complete_index(&mut index, &wanted)?;
        Ok(index)
    }

    /// Make sure the index lists every chunk of `wanted`: when some are
    /// missing, or an index object was damaged, read the footers of the
    /// packs no index object names (each pack says what it holds) and add
    /// them. Says what it did in `index.notes`.
    pub fn complete_index<'a>(
        &self,
        index: &mut Index,
        wanted: impl IntoIterator<Item = &'a ChunkId>,
    ) -> Result<()> {
        let missing = wanted.into_iter().filter(|c| !index.contains(c)).count();
        if index.scanned || missing == 0 && index.damaged.is_empty() {
            return Ok(());
        }
        index.scanned = true;
        let known: HashSet<PackId> = index.packs().iter().copied().collect();
        let mut read = 0;
        let mut found = 0;
        for info in self.storage().list("packs/")? {
            let Some(id) = info
                .name
                .rsplit('/')
                .next()
                .and_then(|n| n.parse::<PackId>().ok())
            else {
                continue;
            };
            if known.contains(&id) {
                continue;
            }
            let data = self.storage().get(&info.name)?;
            read += 1;
            // The blobs are checked when read; a pack whose own checksum
            // is damaged may still hold sound ones.
            if let Ok(blobs) = parse_footer(&info.name, &data, self.sealer()) {
                let before = index.len();
                index.add_pack(id, &blobs);
                found += index.len() - before;
            }
        }
        let why = if missing > 0 {
            format!("{missing} chunk(s) are in no readable index object")
        } else {
            "an index object is damaged".to_string()
        };
        index.notes.push(format!(
            "{why}: read the footers of {read} pack(s) that no index names and found {found} chunk(s) there (`sqlvault repair` rebuilds the index)"
        ));
        Ok(())
    }

    pub fn write_index_file(&self, file: &IndexFile) -> Result<(IndexId, u64)> {
        let (id, size) = self.write_json_object(INDEX_DIR, ObjectKind::Index, file)?;
        Ok((IndexId(id), size))
    }
}

pub(crate) fn unknown_chunk(id: &ChunkId) -> Error {
    Error::repository(format!(
        "chunk {} is in no index object and no pack",
        id.short()
    ))
    .with_hint("run `sqlvault verify` to list the damaged restore points, and `sqlvault repair` to rebuild the index")
}
