//! The byte layout every stored object shares (docs/FORMAT.md, "Object frame").
//!
//! ```text
//! "SQV" kind:u8 version:u8 flags:u8 0:u8 0:u8 | body | blake3(header ‖ body):32
//! ```
//! The trailing hash is checked on every whole-object read; content-addressed
//! objects are additionally named by the hash of all their bytes.

use crate::error::{Error, Result};

/// The repository format version this build writes.
pub const FORMAT_VERSION: u8 = 4;
/// The oldest version this build still reads.
pub const MIN_READ_VERSION: u8 = 1;

pub const HEADER_LEN: usize = 8;
pub const TRAILER_LEN: usize = 32;
const MAGIC: &[u8; 3] = b"SQV";

/// Flag bit: the body (or each blob in it) is encrypted.
pub const FLAG_ENCRYPTED: u8 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ObjectKind {
    Config = 1,
    Key = 2,
    Pack = 3,
    Index = 4,
    Point = 5,
    Session = 6,
    /// An archived log file (WAL segment), format version 4.
    Log = 7,
    /// The identity a log archive's cluster name is bound to, version 4.
    Cluster = 8,
    /// Packs found damaged (`damage/`), added in format version 4 and
    /// ignored by readers that predate it.
    Damage = 9,
}

impl ObjectKind {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => ObjectKind::Config,
            2 => ObjectKind::Key,
            3 => ObjectKind::Pack,
            4 => ObjectKind::Index,
            5 => ObjectKind::Point,
            6 => ObjectKind::Session,
            7 => ObjectKind::Log,
            8 => ObjectKind::Cluster,
            9 => ObjectKind::Damage,
            _ => return None,
        })
    }
}

pub fn header(kind: ObjectKind, flags: u8) -> [u8; HEADER_LEN] {
    [
        MAGIC[0],
        MAGIC[1],
        MAGIC[2],
        kind as u8,
        FORMAT_VERSION,
        flags,
        0,
        0,
    ]
}

/// Frame a body: header, body, trailing hash.
pub fn frame(kind: ObjectKind, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len() + TRAILER_LEN);
    out.extend_from_slice(&header(kind, flags));
    out.extend_from_slice(body);
    let h = blake3::hash(&out);
    out.extend_from_slice(h.as_bytes());
    out
}

/// Check magic, kind, version and trailing hash; return flags and the body.
pub fn unframe<'a>(name: &str, kind: ObjectKind, data: &'a [u8]) -> Result<(u8, &'a [u8])> {
    let corrupt = |why: &str| {
        Error::repository(format!("object `{name}` is corrupt: {why}"))
            .with_hint("run `sqlvault verify` to list the damaged restore points")
    };
    if data.len() < HEADER_LEN + TRAILER_LEN || &data[..3] != MAGIC {
        return Err(corrupt("not a sqlvault object"));
    }
    check_header(name, kind, &data[..HEADER_LEN])?;
    let (content, trailer) = data.split_at(data.len() - TRAILER_LEN);
    if blake3::hash(content).as_bytes() != trailer {
        return Err(corrupt("checksum mismatch"));
    }
    Ok((data[5], &content[HEADER_LEN..]))
}

/// Validate a header on its own (packs are often read by range).
pub fn check_header(name: &str, kind: ObjectKind, h: &[u8]) -> Result<u8> {
    if h.len() < HEADER_LEN || &h[..3] != MAGIC {
        return Err(Error::repository(format!(
            "object `{name}` is corrupt: not a sqlvault object"
        )));
    }
    if ObjectKind::from_byte(h[3]) != Some(kind) {
        return Err(Error::repository(format!(
            "object `{name}` is corrupt: wrong object kind {}",
            h[3]
        )));
    }
    let version = h[4];
    if !(MIN_READ_VERSION..=FORMAT_VERSION).contains(&version) {
        return Err(Error::repository(format!(
            "object `{name}` has format version {version}, this sqlvault reads {MIN_READ_VERSION} to {FORMAT_VERSION}"
        ))
        .with_hint("upgrade sqlvault"));
    }
    Ok(h[5])
}

/// Name of a content-addressed object: the hash of all its stored bytes.
pub fn content_hash(data: &[u8]) -> [u8; 32] {
    *blake3::hash(data).as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_round_trip_and_tamper() {
        let f = frame(ObjectKind::Index, FLAG_ENCRYPTED, b"hello");
        let (flags, body) = unframe("x", ObjectKind::Index, &f).unwrap();
        assert_eq!((flags, body), (FLAG_ENCRYPTED, &b"hello"[..]));
        assert!(unframe("x", ObjectKind::Point, &f).is_err());
        let mut bad = f.clone();
        bad[9] ^= 1;
        let err = unframe("x", ObjectKind::Index, &bad).unwrap_err();
        assert!(err.message.contains("checksum"), "{}", err.message);
        let mut newer = f;
        newer[4] = FORMAT_VERSION + 1;
        assert!(check_header("x", ObjectKind::Index, &newer).is_err());
    }
}
