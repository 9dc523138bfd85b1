//! Delta blobs: a changed chunk stored as the difference from an older
//! chunk at the same place in the stream (a database page whose rows
//! changed in a few bytes costs a few bytes, not a page).
//!
//! Format 3 writes *patches*: an edit script (`patch.rs`) against the
//! previous version of the chunk, so each backup stores only its own
//! changes. Versions form chains; `chain.rs` reads them. Formats 1 and 2
//! wrote *prefix deltas* (a zstd frame using the base as dictionary, the
//! base never a delta); they are still read.

use super::ids::ChunkId;
use super::patch::Script;
use super::writer::{BLOB_DELTA, BLOB_PATCH};
use crate::error::{Error, Result};

/// Undo a format 1-2 prefix delta: `frame` decompressed with `base` as prefix.
pub fn decode_prefix(base: &[u8], frame: &[u8], raw_len: usize) -> Result<Vec<u8>, String> {
    let mut dctx: zstd::zstd_safe::DCtx<'_> = zstd::zstd_safe::DCtx::create();
    dctx.ref_prefix(base)
        .map_err(|c| zstd::zstd_safe::get_error_name(c).to_string())?;
    let mut out = Vec::with_capacity(raw_len);
    dctx.decompress(&mut out, frame)
        .map_err(|c| zstd::zstd_safe::get_error_name(c).to_string())?;
    Ok(out)
}

/// A patch blob's plaintext: type, base id, script length, zstd frame of
/// the script. `None` when compression fails (the caller stores the chunk whole).
pub fn encode_patch(
    base_id: &ChunkId,
    script: &Script,
    zc: &mut zstd::bulk::Compressor,
) -> Option<Vec<u8>> {
    let bytes = script.to_bytes();
    let frame = zc.compress(&bytes).ok()?;
    let mut out = Vec::with_capacity(37 + frame.len());
    out.push(BLOB_PATCH);
    out.extend_from_slice(&base_id.0);
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(&frame);
    Some(out)
}

/// Parse a patch blob's body (after the type byte and base id): the script
/// turning `base_len` bytes into `raw_len` bytes.
pub fn decode_patch(
    body: &[u8],
    base_len: usize,
    raw_len: usize,
    dz: &mut zstd::bulk::Decompressor,
) -> Result<Script, String> {
    let Some((len, frame)) = body.split_first_chunk::<4>() else {
        return Err("the patch is cut short".into());
    };
    let len = u32::from_le_bytes(*len) as usize;
    // A script never needs more than its literals (at most the chunk) and
    // a few bytes per op; refuse anything larger before allocating it.
    if len > 4 * raw_len + 4096 {
        return Err(format!("the patch claims {len} bytes"));
    }
    let bytes = dz.decompress(frame, len).map_err(|e| e.to_string())?;
    if bytes.len() != len {
        return Err("the patch has the wrong length".into());
    }
    Script::from_bytes(&bytes, base_len, raw_len)
}

/// The base chunk an opened blob names, if it is a delta of either kind.
pub fn base_of(plain: &[u8]) -> Option<ChunkId> {
    match plain.split_first() {
        Some((&(BLOB_DELTA | BLOB_PATCH), rest)) if rest.len() >= 32 => {
            Some(ChunkId(rest[..32].try_into().unwrap()))
        }
        _ => None,
    }
}

pub(super) fn corrupt(what: &str, why: impl std::fmt::Display) -> Error {
    Error::repository(format!("{what} is corrupt: {why}"))
        .with_hint("run `sqlvault verify` to list the damaged restore points")
}
