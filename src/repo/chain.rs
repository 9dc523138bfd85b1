//! Reading a chunk through its chain of deltas.
//!
//! A chunk is stored whole (a *root*), as a format 1-2 prefix delta of a
//! root, or as a patch of any earlier version, so versions form chains
//! `root ← v1 ← v2 ← …`. Patches are not replayed byte by byte: their
//! edit scripts are composed into one piece list over the root and the
//! patches' literals, and the chunk is written out once, so a long chain
//! costs little more to read than its root.

use super::Repository;
use super::delta::{self, corrupt};
use super::ids::ChunkId;
use super::index::{Index, unknown_chunk};
use super::patch::{Pieces, Script};
use super::writer::{BLOB_DELTA, BLOB_PATCH, BLOB_RAW, BLOB_ZSTD};
use crate::error::Result;
use std::collections::HashMap;

/// Longer chains than this can only come from damage (a loop of bases);
/// backups cut chains far sooner (see `writer.rs`).
pub(crate) const MAX_CHAIN: usize = 4096;

/// One opened blob, before its base is applied.
pub enum Link {
    /// The chunk itself, checked against its id.
    Whole(Vec<u8>),
    /// Format 1-2: a zstd frame with the base's bytes as prefix.
    Prefix { base: ChunkId, frame: Vec<u8> },
    /// An edit script against the base.
    Patch { base: ChunkId, script: Script },
}

impl Link {
    pub fn base(&self) -> Option<ChunkId> {
        match self {
            Link::Whole(_) => None,
            Link::Prefix { base, .. } | Link::Patch { base, .. } => Some(*base),
        }
    }

    /// The chunk this link makes of its base's bytes (one step; `verify`
    /// walks chains this way, each blob once).
    pub fn apply(&self, base: &[u8], raw_len: usize) -> Result<Vec<u8>, String> {
        match self {
            Link::Whole(d) => Ok(d.clone()),
            Link::Prefix { frame, .. } => delta::decode_prefix(base, frame, raw_len),
            Link::Patch { script, .. } => {
                Pieces::root(base.len()).then(script, 0)?;
                Ok(script.apply(base))
            }
        }
    }
}

/// How far past a wanted blob a backup reads, and how many such windows it
/// keeps: a backup reads the previous version of chunk after chunk, and
/// their links lie side by side in each earlier backup's packs, so one read
/// per pack serves many chunks (one request per link would cost a round
/// trip each on object storage).
const AHEAD_WINDOW: u64 = 128 << 10;
const AHEAD_WINDOWS: usize = 64;

/// Recently read pack ranges (see [`AHEAD_WINDOW`]).
#[derive(Default)]
pub struct ReadAhead {
    windows: std::collections::VecDeque<(super::ids::PackId, u64, Vec<u8>)>,
}

impl ReadAhead {
    fn get(&self, pack: &super::ids::PackId, offset: u64, len: u64) -> Option<&[u8]> {
        self.windows
            .iter()
            .find(|(p, start, b)| {
                p == pack && offset >= *start && offset + len <= start + b.len() as u64
            })
            .map(|(_, start, b)| &b[(offset - start) as usize..(offset - start + len) as usize])
    }

    fn keep(&mut self, pack: super::ids::PackId, offset: u64, bytes: Vec<u8>) {
        self.windows.push_front((pack, offset, bytes));
        self.windows.truncate(AHEAD_WINDOWS);
    }
}

/// What a chain is made of, for choosing the next version's base.
pub struct Version {
    /// The chunk's bytes.
    pub data: Vec<u8>,
    /// Deltas between it and its root (0 for a root).
    pub depth: usize,
    /// Stored bytes of those deltas, and of the root.
    pub chain_bytes: u64,
    pub root_bytes: u64,
    pub root: ChunkId,
    pub root_data: Vec<u8>,
}

impl Repository {
    /// Open one sealed blob of chunk `id` (`raw_len` bytes once applied).
    pub fn open_link(
        &self,
        id: &ChunkId,
        sealed: &[u8],
        raw_len: u32,
        dz: &mut zstd::bulk::Decompressor,
    ) -> Result<Link> {
        let what = format!("chunk {}", id.short());
        let plain = self.sealer().open(sealed, &what)?;
        let whole = match plain.split_first() {
            Some((&BLOB_RAW, rest)) => rest.to_vec(),
            Some((&BLOB_ZSTD, rest)) => dz
                .decompress(rest, raw_len as usize)
                .map_err(|e| corrupt(&what, e))?,
            Some((&kind @ (BLOB_DELTA | BLOB_PATCH), rest)) if rest.len() >= 32 => {
                let base = ChunkId(rest[..32].try_into().unwrap());
                if base == *id {
                    return Err(corrupt(&what, "a delta of itself"));
                }
                return Ok(if kind == BLOB_DELTA {
                    Link::Prefix {
                        base,
                        frame: rest[32..].to_vec(),
                    }
                } else {
                    // Copies are checked against the base as the chain is composed.
                    let script = delta::decode_patch(&rest[32..], usize::MAX, raw_len as usize, dz)
                        .map_err(|e| corrupt(&what, e))?;
                    Link::Patch { base, script }
                });
            }
            _ => return Err(corrupt(&what, "unknown blob type")),
        };
        if whole.len() != raw_len as usize || self.chunk_id(&whole) != *id {
            return Err(corrupt(&what, "content does not match its id"));
        }
        Ok(Link::Whole(whole))
    }

    /// Read and open the blob of `id` on its own (one storage request).
    pub fn fetch_link(
        &self,
        index: &Index,
        id: &ChunkId,
        dz: &mut zstd::bulk::Decompressor,
    ) -> Result<Link> {
        let (pack, loc) = index.get(id).ok_or_else(|| unknown_chunk(id))?;
        let sealed = self.read_pack_range(&pack, loc.offset as u64, loc.length as u64)?;
        self.open_link(id, &sealed, loc.raw_length, dz)
            .inspect_err(|_| self.note_damaged(&pack))
    }

    /// Like [`Self::fetch_link`], through `ahead`.
    fn fetch_link_ahead(
        &self,
        index: &Index,
        id: &ChunkId,
        dz: &mut zstd::bulk::Decompressor,
        ahead: &mut ReadAhead,
    ) -> Result<Link> {
        let (pack, loc) = index.get(id).ok_or_else(|| unknown_chunk(id))?;
        let (offset, len) = (loc.offset as u64, loc.length as u64);
        if let Some(sealed) = ahead.get(&pack, offset, len) {
            return self
                .open_link(id, sealed, loc.raw_length, dz)
                .inspect_err(|_| self.note_damaged(&pack));
        }
        let end = index.data_end(&pack).unwrap_or(0).max(offset + len);
        let n = (offset + len.max(AHEAD_WINDOW)).min(end) - offset;
        let bytes = self.read_pack_range(&pack, offset, n)?;
        let link = self
            .open_link(id, &bytes[..len as usize], loc.raw_length, dz)
            .inspect_err(|_| self.note_damaged(&pack));
        ahead.keep(pack, offset, bytes);
        link
    }

    /// Read chunk `id` and what its chain is made of, fetching each link
    /// on its own (a backup reads the previous version this way).
    pub fn read_version(
        &self,
        index: &Index,
        id: &ChunkId,
        dz: &mut zstd::bulk::Decompressor,
        ahead: &mut ReadAhead,
    ) -> Result<Version> {
        let mut links = HashMap::new();
        while let Some(m) = missing_link(id, &links)? {
            links.insert(m, self.fetch_link_ahead(index, &m, dz, ahead)?);
        }
        let ids = chain_ids(id, &links)?;
        let stored = |c: &ChunkId| index.get(c).map_or(0, |(_, l)| l.length as u64);
        let root = *ids.last().expect("a chain has a root");
        let mut data = Vec::new();
        materialise(self, index, id, &links, &mut data)?;
        let Some(Link::Whole(root_data)) = links.remove(&root) else {
            unreachable!("a chain ends at a whole chunk")
        };
        Ok(Version {
            data,
            depth: ids.len() - 1,
            chain_bytes: ids[..ids.len() - 1].iter().map(stored).sum(),
            root_bytes: stored(&root),
            root,
            root_data,
        })
    }
}

/// The first link of `id`'s chain that `links` lacks, if any.
pub fn missing_link(id: &ChunkId, links: &HashMap<ChunkId, Link>) -> Result<Option<ChunkId>> {
    let mut at = *id;
    for _ in 0..MAX_CHAIN {
        match links.get(&at) {
            None => return Ok(Some(at)),
            Some(l) => match l.base() {
                None => return Ok(None),
                Some(b) => at = b,
            },
        }
    }
    Err(looped(id))
}

/// `id`, its base, its base's base, … down to the root; all must be in `links`.
fn chain_ids(id: &ChunkId, links: &HashMap<ChunkId, Link>) -> Result<Vec<ChunkId>> {
    let mut ids = vec![*id];
    while let Some(b) = links.get(ids.last().unwrap()).and_then(Link::base) {
        if ids.len() >= MAX_CHAIN {
            return Err(looped(id));
        }
        ids.push(b);
    }
    Ok(ids)
}

fn looped(id: &ChunkId) -> crate::Error {
    corrupt(
        &format!("chunk {}", id.short()),
        "its chain of deltas does not end",
    )
}

/// Append chunk `id` to `out`, composing its chain from `links` (which must
/// hold every link: see [`missing_link`]), and check it against its id.
pub fn materialise(
    repo: &Repository,
    index: &Index,
    id: &ChunkId,
    links: &HashMap<ChunkId, Link>,
    out: &mut Vec<u8>,
) -> Result<()> {
    let ids = chain_ids(id, links)?;
    let what = |c: &ChunkId| format!("chunk {}", c.short());
    let raw_len = |c: &ChunkId| index.get(c).map(|(_, l)| l.raw_length as usize);
    let root_id = ids.last().expect("a chain has a root");
    let Link::Whole(root) = &links[root_id] else {
        unreachable!("a chain ends at a whole chunk")
    };
    if ids.len() == 1 {
        out.extend_from_slice(root);
        return Ok(());
    }
    // Bytes a prefix delta produced become the root of what follows it.
    let mut owned: Option<Vec<u8>> = None;
    let mut pieces: Option<Pieces> = None;
    let mut literals: Vec<&[u8]> = Vec::new();
    for c in ids[..ids.len() - 1].iter().rev() {
        match &links[c] {
            Link::Whole(_) => unreachable!("only a root is whole"),
            Link::Prefix { frame, .. } => {
                let base = match pieces.take() {
                    Some(p) => {
                        let mut b = Vec::new();
                        p.materialise(owned.as_deref().unwrap_or(root), &literals, &mut b);
                        b
                    }
                    None => owned.take().unwrap_or_else(|| root.clone()),
                };
                let len = raw_len(c).unwrap_or(usize::MAX >> 8).min(64 << 20);
                let data =
                    delta::decode_prefix(&base, frame, len).map_err(|e| corrupt(&what(c), e))?;
                literals.clear();
                owned = Some(data);
            }
            Link::Patch { script, .. } => {
                let prev = match pieces.take() {
                    Some(p) => p,
                    None => Pieces::root(owned.as_deref().unwrap_or(root).len()),
                };
                let next = prev
                    .then(script, literals.len() as u32)
                    .map_err(|e| corrupt(&what(c), e))?;
                literals.push(&script.literals);
                pieces = Some(next);
            }
        }
    }
    let start = out.len();
    match pieces {
        Some(p) => p.materialise(owned.as_deref().unwrap_or(root), &literals, out),
        None => out.extend_from_slice(owned.as_deref().unwrap_or(root)),
    }
    let got = &out[start..];
    if raw_len(id).is_some_and(|n| n != got.len()) || repo.chunk_id(got) != *id {
        out.truncate(start);
        return Err(corrupt(&what(id), "content does not match its id"));
    }
    Ok(())
}
