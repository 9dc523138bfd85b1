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
        self.add_file_where(file, |_| true);
    }

    /// [`Self::add_file`] for the packs `keep` accepts.
    pub fn add_file_where(&mut self, file: &IndexFile, keep: impl Fn(&PackId) -> bool) {
        for p in file.packs.iter().filter(|p| keep(&p.id)) {
            self.add_pack(p.id, &p.blobs);
        }
    }

    /// How many chunks the index reads from each pack (by pack number).
    fn located_counts(&self) -> Vec<u32> {
        let mut out = vec![0u32; self.packs.len()];
        for l in self.chunks.values() {
            out[l.pack as usize] += 1;
        }
        out
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
    /// A chunk also held by a pack on record as damaged is read from its
    /// other copy.
    pub fn load_index(&self) -> Result<Index> {
        let damaged = self.damaged_packs()?;
        let (mut index, files) = self.read_index_files()?;
        for f in &files {
            index.add_file_where(f, |p| !damaged.contains(p));
        }
        for f in &files {
            index.add_file_where(f, |p| damaged.contains(p));
        }
        Ok(index)
    }

    /// The index a backup deduplicates against: without any pack on record
    /// as damaged, missing from storage, or shorter than the blobs the index
    /// places in it (those are recorded now), so that their chunks are
    /// stored again rather than named by a point that cannot be restored.
    pub fn load_index_for_backup(&self) -> Result<Index> {
        let mut damaged = self.damaged_packs()?;
        let (mut index, files) = self.read_index_files()?;
        for f in &files {
            index.add_file(f);
        }
        let sizes: HashMap<PackId, u64> = self
            .storage()
            .list("packs/")?
            .into_iter()
            .filter_map(|i| Some((i.name.rsplit('/').next()?.parse().ok()?, i.size)))
            .collect();
        let counts = index.located_counts();
        let mut found = Vec::new();
        for (n, id) in index.packs().iter().enumerate() {
            // Header, blobs, then at least 40 footer bytes a blob, its
            // length and the checksum.
            let least =
                index.pack_ends[n] + 40 * counts[n] as u64 + 4 + super::format::TRAILER_LEN as u64;
            let sound = sizes.get(id).is_some_and(|&size| size >= least);
            if !sound && !damaged.contains(id) {
                found.push(*id);
            }
        }
        if found.is_empty() && damaged.is_empty() {
            return Ok(index);
        }
        if !found.is_empty() {
            // Best effort: the backup stores the chunks again either way.
            let _ = self.record_damage("backup", &found);
            damaged.extend(found);
        }
        let mut index = Index {
            damaged: index.damaged,
            notes: index.notes,
            ..Index::default()
        };
        for f in &files {
            index.add_file_where(f, |p| !damaged.contains(p));
        }
        Ok(index)
    }

    /// Every index object that can be read, and an empty index noting the
    /// damaged ones.
    fn read_index_files(&self) -> Result<(Index, Vec<IndexFile>)> {
        let mut index = Index::default();
        let mut files = Vec::new();
        for id in self.list_indexes()? {
            match self.read_index_file(&id) {
                Ok(file) => files.push(file),
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
        Ok((index, files))
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
