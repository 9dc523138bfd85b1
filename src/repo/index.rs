//! The index: which pack holds each chunk.
//!
//! Every backup writes one index object for the packs it added; readers load
//! all of them into one in-memory map. Entries point at packs by a small
//! number so the map stays compact (about 60 bytes per chunk).

use super::Repository;
use super::format::ObjectKind;
use super::ids::{ChunkId, IndexId, PackId};
use super::pack::BlobEntry;
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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
    pack_numbers: HashMap<PackId, u32>,
    chunks: HashMap<ChunkId, Location>,
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

    pub fn len(&self) -> usize {
        self.chunks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.chunks.is_empty()
    }

    pub fn packs(&self) -> &[PackId] {
        &self.packs
    }

    pub fn add_pack(&mut self, pack: PackId, blobs: &[BlobEntry]) {
        let next = self.packs.len() as u32;
        let n = *self.pack_numbers.entry(pack).or_insert_with(|| {
            self.packs.push(pack);
            next
        });
        for b in blobs {
            // The first location seen wins; duplicates from concurrent backups are equally valid.
            self.chunks.entry(b.id).or_insert(Location {
                pack: n,
                offset: b.offset,
                length: b.length,
                raw_length: b.raw_length,
            });
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

    /// Load every index object into one map.
    pub fn load_index(&self) -> Result<Index> {
        let mut index = Index::default();
        for id in self.list_indexes()? {
            let file = self
                .read_index_file(&id)
                .map_err(|e| e.context("cannot load the repository index"))?;
            index.add_file(&file);
        }
        Ok(index)
    }

    pub fn write_index_file(&self, file: &IndexFile) -> Result<(IndexId, u64)> {
        let (id, size) = self.write_json_object(INDEX_DIR, ObjectKind::Index, file)?;
        Ok((IndexId(id), size))
    }
}

pub(crate) fn unknown_chunk(id: &ChunkId) -> Error {
    Error::repository(format!("chunk {} is not in any index", id.short()))
        .with_hint("run `sqlvault verify` to list the damaged restore points")
}
