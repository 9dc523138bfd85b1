//! The compression level of each stream. At the default level (3), a
//! stream is compressed at level 1 when a sample of its chunks shows that
//! level 3 saves under [`FAST_TOLERANCE`]: on much real data (hex digests,
//! dates and numbers as text) level 1 is as small and twice as fast, while
//! prose and repetitive rows still get level 3. Any other level the user
//! chose is kept as it is. Readers need not know: a zstd frame decodes the
//! same whatever level wrote it.

use std::sync::atomic::{AtomicI32, Ordering::Relaxed};

/// The share of level 1's size that level 3 must save to be kept.
pub const FAST_TOLERANCE: f64 = 0.01;

/// A stream's level is checked again on every this many new chunks, as its
/// data changes character (another table, another kind of column).
pub const RESAMPLE_EVERY: u64 = 64;

/// The level a stream's chunks are compressed at: 0 until a sample decided.
#[derive(Default)]
pub struct LevelChoice(AtomicI32);

impl LevelChoice {
    pub fn get(&self, default: i32) -> i32 {
        match self.0.load(Relaxed) {
            0 => default,
            l => l,
        }
    }
}

/// Compress `data` into `out` (a compress bound long) at its stream's
/// level: with `zc` (at `level`), or with `fast` (level 1, given only when
/// the level may adapt), deciding between them when `sample`. Returns the
/// compressed length, None if zstd failed.
pub fn compress(
    data: &[u8],
    choice: &LevelChoice,
    sample: bool,
    (zc, level): (&mut zstd::bulk::Compressor, i32),
    fast: Option<&mut zstd::bulk::Compressor>,
    out: &mut [u8],
) -> Option<usize> {
    let Some(fast) = fast else {
        return zc.compress_to_buffer(data, out).ok();
    };
    if !sample {
        return match choice.get(level) {
            1 => fast.compress_to_buffer(data, out).ok(),
            _ => zc.compress_to_buffer(data, out).ok(),
        };
    }
    let n = zc.compress_to_buffer(data, out).ok();
    let mut quick = Vec::with_capacity(out.len());
    let q = fast.compress_to_buffer(data, &mut quick).ok();
    let use_fast = match (q, n) {
        (Some(q), Some(n)) => q as f64 <= n as f64 * (1.0 + FAST_TOLERANCE),
        _ => false,
    };
    choice.0.store(if use_fast { 1 } else { level }, Relaxed);
    match (use_fast, q) {
        (true, Some(q)) => {
            out[..q].copy_from_slice(&quick);
            Some(q)
        }
        _ => n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(data: &[u8]) -> (i32, Vec<u8>) {
        let mut zc = zstd::bulk::Compressor::new(3).unwrap();
        let mut fast = zstd::bulk::Compressor::new(1).unwrap();
        let choice = LevelChoice::default();
        let mut out = vec![0u8; zstd::zstd_safe::compress_bound(data.len())];
        let n = compress(data, &choice, true, (&mut zc, 3), Some(&mut fast), &mut out).unwrap();
        out.truncate(n);
        (choice.get(3), out)
    }

    /// Rows of hex digests: level 1 is no larger, so the stream takes it.
    #[test]
    fn digests_take_level_1() {
        let mut data = Vec::new();
        for i in 0..20_000u32 {
            let h = blake3::hash(&i.to_le_bytes()).to_hex();
            data.extend_from_slice(
                format!("{i}\t2020-01-17 01:39:{:02}\t{}\n", i % 60, &h[..32]).as_bytes(),
            );
        }
        let (level, out) = run(&data);
        assert_eq!(level, 1);
        assert_eq!(zstd::bulk::decompress(&out, data.len()).unwrap(), data);
    }

    /// Prose (this project's README): level 3 saves several percent, so
    /// it stays.
    #[test]
    fn prose_keeps_level_3() {
        let data = include_bytes!("../../README.md");
        let (level, out) = run(data);
        let l1 = zstd::bulk::Compressor::new(1)
            .unwrap()
            .compress(data)
            .unwrap()
            .len();
        assert!(
            (l1 as f64) > out.len() as f64 * (1.0 + FAST_TOLERANCE),
            "level 1: {l1} bytes, chosen: {}",
            out.len()
        );
        assert_eq!(level, 3);
        assert_eq!(zstd::bulk::decompress(&out, data.len()).unwrap(), data);
    }

    /// Outside a sample, the stream's decision holds.
    #[test]
    fn a_decided_stream_keeps_its_level() {
        let choice = LevelChoice::default();
        assert_eq!(choice.get(3), 3);
        choice.0.store(1, Relaxed);
        assert_eq!(choice.get(3), 1);
    }
}
