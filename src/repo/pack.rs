//! Pack files: many sealed blobs in one object, so that storage requests
//! stay few (each request costs time locally and money on object stores).
//!
//! ```text
//! header(8) | blob… | sealed footer | footer_len:u32 LE | blake3(32)
//! footer = n × (chunk id:32, stored length:u32, raw length:u32)
//! ```
//! Blob offsets follow from the footer, so a pack can be re-indexed on its own.

use super::crypto::Sealer;
use super::format::{self, FLAG_ENCRYPTED, HEADER_LEN, ObjectKind};
use super::ids::{ChunkId, PackId};
use crate::error::{Error, Result};

const FOOTER_ENTRY: usize = 32 + 4 + 4;

/// Where one blob lives inside a pack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlobEntry {
    pub id: ChunkId,
    pub offset: u32,
    pub length: u32,
    pub raw_length: u32,
    /// The chunk a delta blob is encoded against (kept in the index so that
    /// pruning can keep bases alive without opening blobs; not in the footer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<ChunkId>,
}

pub struct PackBuilder {
    buf: Vec<u8>,
    entries: Vec<BlobEntry>,
    flags: u8,
}

impl PackBuilder {
    pub fn new(encrypted: bool, capacity: usize) -> Self {
        let flags = if encrypted { FLAG_ENCRYPTED } else { 0 };
        let mut buf = Vec::with_capacity(capacity);
        buf.extend_from_slice(&format::header(ObjectKind::Pack, flags));
        PackBuilder {
            buf,
            entries: Vec::new(),
            flags,
        }
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Header byte 6: how many times `repair` rewrote this pack (readers
    /// ignore it). A rewrite of a pack whose only damage was its header or
    /// checksum would otherwise have the very bytes, and so the name, of
    /// the damaged object it replaces.
    pub fn set_generation(&mut self, generation: u8) {
        self.buf[6] = generation;
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn add(&mut self, id: ChunkId, sealed: &[u8], raw_length: usize, base: Option<ChunkId>) {
        self.entries.push(BlobEntry {
            id,
            offset: self.buf.len() as u32,
            length: sealed.len() as u32,
            raw_length: raw_length as u32,
            base,
        });
        self.buf.extend_from_slice(sealed);
    }

    /// Seal the footer, append the trailer; returns the pack's id, bytes and blobs.
    pub fn finish(mut self, sealer: &Sealer) -> (PackId, Vec<u8>, Vec<BlobEntry>) {
        let mut footer = Vec::with_capacity(self.entries.len() * FOOTER_ENTRY);
        for e in &self.entries {
            footer.extend_from_slice(&e.id.0);
            footer.extend_from_slice(&e.length.to_le_bytes());
            footer.extend_from_slice(&e.raw_length.to_le_bytes());
        }
        let start = self.buf.len();
        sealer.seal_into(&footer, &mut self.buf);
        let sealed_len = (self.buf.len() - start) as u32;
        self.buf.extend_from_slice(&sealed_len.to_le_bytes());
        let h = blake3::hash(&self.buf);
        self.buf.extend_from_slice(h.as_bytes());
        debug_assert_eq!(self.flags & FLAG_ENCRYPTED != 0, sealer.is_encrypted());
        let id = PackId(format::content_hash(&self.buf));
        (id, self.buf, self.entries)
    }
}

/// Check a whole pack (name, trailer, footer) and list its blobs.
pub fn read_footer(
    name: &str,
    id: &PackId,
    data: &[u8],
    sealer: &Sealer,
) -> Result<Vec<BlobEntry>> {
    if format::content_hash(data) != id.0 {
        return Err(Error::repository(format!(
            "pack `{name}` is corrupt: its content does not match its name"
        )));
    }
    format::unframe(name, ObjectKind::Pack, data)?;
    parse_footer(name, data, sealer)
}

/// Where a pack's blobs are. The footer says, unless the pack's own
/// checksum is wrong (`frame_damaged`) and the index objects, checked on
/// their own, know the pack (`known`): an unencrypted footer is protected
/// by that checksum alone. The index's account also serves when the footer
/// cannot be read. The flag says whether the footer was passed over.
pub fn locate_blobs(
    name: &str,
    data: &[u8],
    frame_damaged: bool,
    known: Vec<BlobEntry>,
    sealer: &Sealer,
) -> Result<(Vec<BlobEntry>, bool)> {
    if frame_damaged && !known.is_empty() {
        return Ok((known, true));
    }
    match parse_footer(name, data, sealer) {
        Ok(entries) => Ok((entries, false)),
        Err(_) if !known.is_empty() => Ok((known, true)),
        Err(e) => Err(e),
    }
}

/// List a pack's blobs from its footer alone, without the whole-pack
/// checks: a pack whose header byte or trailing hash was damaged still
/// says what it holds (the footer and each blob are sealed on their own).
pub fn parse_footer(name: &str, data: &[u8], sealer: &Sealer) -> Result<Vec<BlobEntry>> {
    let corrupt = || Error::repository(format!("pack `{name}` is corrupt: bad footer"));
    if data.len() < HEADER_LEN + format::TRAILER_LEN + 4 {
        return Err(corrupt());
    }
    let body = &data[HEADER_LEN..data.len() - format::TRAILER_LEN];
    let len_at = body.len() - 4;
    let footer_len = u32::from_le_bytes(body[len_at..].try_into().unwrap()) as usize;
    if footer_len > len_at {
        return Err(corrupt());
    }
    let footer = sealer.open(
        &body[len_at - footer_len..len_at],
        &format!("pack `{name}` footer"),
    )?;
    if footer.len() % FOOTER_ENTRY != 0 {
        return Err(corrupt());
    }
    let mut offset = HEADER_LEN as u64;
    let limit = (HEADER_LEN + len_at - footer_len) as u64;
    let mut out = Vec::with_capacity(footer.len() / FOOTER_ENTRY);
    for e in footer.chunks_exact(FOOTER_ENTRY) {
        let length = u32::from_le_bytes(e[32..36].try_into().unwrap());
        let raw_length = u32::from_le_bytes(e[36..40].try_into().unwrap());
        if offset + length as u64 > limit {
            return Err(corrupt());
        }
        out.push(BlobEntry {
            id: ChunkId(e[..32].try_into().unwrap()),
            offset: offset as u32,
            length,
            raw_length,
            base: None,
        });
        offset += length as u64;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::crypto::MasterKey;

    #[test]
    fn footer_lists_what_was_added() {
        let k = MasterKey::generate();
        for sealer in [Sealer::new(Some(&k.encrypt)), Sealer::Plain] {
            let mut p = PackBuilder::new(sealer.is_encrypted(), 0);
            let a = sealer.seal(b"alpha");
            let b = sealer.seal(b"beta!!");
            p.add(ChunkId([1; 32]), &a, 5, None);
            p.add(ChunkId([2; 32]), &b, 6, None);
            let (id, bytes, entries) = p.finish(&sealer);
            let read = read_footer("p", &id, &bytes, &sealer).unwrap();
            assert_eq!(read, entries);
            let e = read[1];
            let blob = &bytes[e.offset as usize..(e.offset + e.length) as usize];
            assert_eq!(sealer.open(blob, "b").unwrap(), b"beta!!");
            let mut bad = bytes.clone();
            bad[10] ^= 1;
            assert!(read_footer("p", &id, &bad, &sealer).is_err());
        }
    }
}
