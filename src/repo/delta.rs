//! Delta blobs: a changed chunk stored as a zstd frame that refers to an
//! older chunk at the same place in the stream (a database page whose rows
//! changed in a few bytes costs a few bytes, not a page).
//!
//! A delta's base is never itself a delta, so reading any chunk takes at
//! most two blob reads, and a base stays needed only while deltas refer to
//! it (the index records each delta's base for that reason).

use super::Repository;
use super::ids::ChunkId;
use super::index::{Index, unknown_chunk};
use super::writer::{BLOB_DELTA, pack_name};
use crate::error::{Error, Result};

/// Compress `data` with `base` as a raw-content prefix.
pub fn encode(base: &[u8], data: &[u8], level: i32) -> Option<Vec<u8>> {
    let mut cctx: zstd::zstd_safe::CCtx<'_> = zstd::zstd_safe::CCtx::create();
    cctx.set_parameter(zstd::zstd_safe::CParameter::CompressionLevel(level))
        .ok()?;
    cctx.ref_prefix(base).ok()?;
    let mut out = Vec::with_capacity(zstd::zstd_safe::compress_bound(data.len()));
    cctx.compress2(&mut out, data).ok()?;
    Some(out)
}

/// Undo [`encode`].
pub fn decode(base: &[u8], frame: &[u8], raw_len: usize) -> Result<Vec<u8>, String> {
    let mut dctx: zstd::zstd_safe::DCtx<'_> = zstd::zstd_safe::DCtx::create();
    dctx.ref_prefix(base)
        .map_err(|c| zstd::zstd_safe::get_error_name(c).to_string())?;
    let mut out = Vec::with_capacity(raw_len);
    dctx.decompress(&mut out, frame)
        .map_err(|c| zstd::zstd_safe::get_error_name(c).to_string())?;
    Ok(out)
}

impl Repository {
    /// A base for a new delta near chunk `id`: the chunk itself, or, when it
    /// is a delta, its own base (so that deltas never chain).
    pub fn read_delta_base(
        &self,
        index: &Index,
        id: &ChunkId,
        dz: &mut zstd::bulk::Decompressor,
    ) -> Result<(ChunkId, Vec<u8>)> {
        let (pack, loc) = index.get(id).ok_or_else(|| unknown_chunk(id))?;
        let sealed =
            self.storage()
                .get_range(&pack_name(&pack), loc.offset as u64, loc.length as u64)?;
        let plain = self
            .sealer()
            .open(&sealed, &format!("chunk {}", id.short()))?;
        if let Some(base) = base_of(&plain) {
            let data = self.read_chunk_nondelta(index, &base, dz)?;
            return Ok((base, data));
        }
        Ok((*id, self.open_blob(id, &sealed, loc.raw_length, dz, None)?))
    }
}

/// The base chunk an opened blob names, if it is a delta.
pub fn base_of(plain: &[u8]) -> Option<ChunkId> {
    match plain.split_first() {
        Some((&BLOB_DELTA, rest)) if rest.len() >= 32 => {
            Some(ChunkId(rest[..32].try_into().unwrap()))
        }
        _ => None,
    }
}

pub(super) fn corrupt(what: &str, why: impl std::fmt::Display) -> Error {
    Error::repository(format!("{what} is corrupt: {why}"))
        .with_hint("run `sqlvault verify` to list the damaged restore points")
}
