//! Fingerprints: what each table held when it was read, so that a restore
//! can prove it brought back the same data and not only data that loads.
//!
//! A table's fingerprint is its row count and the sum (mod 2^128) of the
//! XXH3-128 hashes of its rows in a canonical encoding. A sum does not
//! depend on the order rows arrive in, so a restore that loads them in
//! another physical order (parallel loads, block-range parts) still
//! matches, and parts of one table add up to the whole. The engines decide
//! what a row's canonical bytes are (SQLite: typed values; PostgreSQL: one
//! row of COPY output); the same code computes them at backup and at
//! restore.

use crate::engine::CheckLevel;
use crate::error::{Error, Result};
use crate::repo::point::{FingerprintKind, Fingerprints, TableFingerprint};

/// How digests are computed; stored in every point so a later version can
/// change it and still check older points.
pub const ALGORITHM: &str = "xxh3-128-sum";

/// The running fingerprint of one table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RowDigest {
    pub rows: u64,
    sum: u128,
}

impl RowDigest {
    pub fn add_row(&mut self, canonical: &[u8]) {
        self.rows += 1;
        self.sum = self
            .sum
            .wrapping_add(xxhash_rust::xxh3::xxh3_128(canonical));
    }

    /// Add a row whose hash the caller computed (content read in pieces).
    pub fn add_hashed(&mut self, hash: u128) {
        self.rows += 1;
        self.sum = self.sum.wrapping_add(hash);
    }

    /// Fold in the rows of another part of the same table.
    pub fn merge(&mut self, other: &RowDigest) {
        self.rows += other.rows;
        self.sum = self.sum.wrapping_add(other.sum);
    }

    pub fn hex(&self) -> String {
        format!("{:032x}", self.sum)
    }

    pub fn entry(&self, name: impl Into<String>, kind: FingerprintKind) -> TableFingerprint {
        TableFingerprint {
            name: name.into(),
            kind,
            rows: self.rows,
            digest: self.hex(),
        }
    }
}

/// Fingerprints as a new restore point stores them.
pub fn new_set(tables: Vec<TableFingerprint>, image_blake3: Option<String>) -> Fingerprints {
    Fingerprints {
        algorithm: ALGORITHM.into(),
        image_blake3,
        tables,
    }
}

/// What a check found: nothing wrong, or the objects that differ.
#[derive(Debug, Default)]
pub struct Comparison {
    pub differences: Vec<String>,
    pub compared: usize,
}

/// Compare what was recomputed from a restored database with what the
/// restore point recorded. `Full` compares digests and row counts, `Quick`
/// row counts only. Only names in `actual` that the caller computed are
/// compared when `subset` is set (a one-table restore).
pub fn compare(
    expected: &Fingerprints,
    actual: &[TableFingerprint],
    level: CheckLevel,
    subset: bool,
) -> Comparison {
    let mut out = Comparison::default();
    for want in &expected.tables {
        let got = actual
            .iter()
            .find(|a| a.name == want.name && a.kind == want.kind);
        let Some(got) = got else {
            if !subset {
                out.differences
                    .push(format!("{} `{}` is missing", want.kind.noun(), want.name));
            }
            continue;
        };
        out.compared += 1;
        if got.rows != want.rows {
            out.differences.push(format!(
                "{} `{}` has {} rows, expected {}",
                want.kind.noun(),
                want.name,
                got.rows,
                want.rows
            ));
        } else if level == CheckLevel::Full && got.digest != want.digest {
            out.differences.push(format!(
                "{} `{}` holds other data than was backed up ({} rows, fingerprint {} instead of {})",
                want.kind.noun(),
                want.name,
                got.rows,
                short(&got.digest),
                short(&want.digest)
            ));
        }
    }
    if !subset {
        for got in actual {
            if !expected
                .tables
                .iter()
                .any(|w| w.name == got.name && w.kind == got.kind)
            {
                out.differences.push(format!(
                    "{} `{}` was not in the backup",
                    got.kind.noun(),
                    got.name
                ));
            }
        }
    }
    out
}

/// Differences named in one message; the rest are counted.
const SHOWN: usize = 10;

fn short(d: &str) -> &str {
    &d[..d.len().min(12)]
}

impl Comparison {
    /// An error naming the first differences, or Ok.
    pub fn into_result(self, what: &str) -> Result<usize> {
        if self.differences.is_empty() {
            return Ok(self.compared);
        }
        let n = self.differences.len();
        let mut msg = format!(
            "{what} differs from what was backed up: {}",
            self.differences
                .iter()
                .take(SHOWN)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        );
        if n > SHOWN {
            msg.push_str(&format!(" (and {} more)", n - SHOWN));
        }
        Err(Error::database(msg).with_hint(
            "nothing was put in place; run `sqlvault verify` and restore an earlier point, \
             or report this if the repository verifies",
        ))
    }
}

/// A one-line description of the check a restore ran, for its report.
pub fn describe(level: CheckLevel, compared: Option<usize>, extra: &str) -> String {
    match (level, compared) {
        (CheckLevel::None, _) => "none".into(),
        (_, None) => format!(
            "{}: no fingerprints (written by an earlier version){extra}",
            level_name(level)
        ),
        (CheckLevel::Full, Some(n)) => format!("full: {n} fingerprints match{extra}"),
        (CheckLevel::Quick, Some(n)) => format!("quick: {n} row counts match{extra}"),
    }
}

fn level_name(level: CheckLevel) -> &'static str {
    match level {
        CheckLevel::Full => "full",
        CheckLevel::Quick => "quick",
        CheckLevel::None => "none",
    }
}

/// A test-only fault: when `SQLVAULT_TEST_FAULT=alter-row` is set in a
/// debug build, restores change one row after loading, so tests can prove
/// that the check catches it; with `alter-row-once`, only the first restore
/// of the process (a failed restore that puts back what it replaced).
/// Release builds never do.
pub fn alter_row_fault() -> bool {
    static FIRED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    cfg!(debug_assertions)
        && match std::env::var("SQLVAULT_TEST_FAULT").as_deref() {
            Ok("alter-row") => true,
            Ok("alter-row-once") => !FIRED.swap(true, std::sync::atomic::Ordering::Relaxed),
            _ => false,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_does_not_matter_and_parts_add_up() {
        let rows: Vec<&[u8]> = vec![b"a", b"bb", b"ccc", b"bb"];
        let mut forward = RowDigest::default();
        rows.iter().for_each(|r| forward.add_row(r));
        let mut backward = RowDigest::default();
        rows.iter().rev().for_each(|r| backward.add_row(r));
        assert_eq!(forward, backward);
        let (mut p1, mut p2) = (RowDigest::default(), RowDigest::default());
        p1.add_row(b"bb");
        p1.add_row(b"a");
        p2.add_row(b"ccc");
        p2.add_row(b"bb");
        p1.merge(&p2);
        assert_eq!(p1, forward);
        let mut changed = RowDigest::default();
        [b"a" as &[u8], b"bb", b"ccd", b"bb"]
            .iter()
            .for_each(|r| changed.add_row(r));
        assert_eq!(changed.rows, forward.rows);
        assert_ne!(changed.hex(), forward.hex());
    }

    fn set(entries: &[(&str, u64, &str)]) -> Fingerprints {
        new_set(
            entries
                .iter()
                .map(|(n, r, d)| TableFingerprint {
                    name: n.to_string(),
                    kind: FingerprintKind::Table,
                    rows: *r,
                    digest: d.to_string(),
                })
                .collect(),
            None,
        )
    }

    #[test]
    fn comparison_names_each_difference() {
        let want = set(&[("a", 1, "x"), ("b", 2, "y"), ("c", 3, "z")]);
        let got = set(&[("a", 1, "x"), ("b", 2, "q"), ("d", 0, "w")]).tables;
        let c = compare(&want, &got, CheckLevel::Full, false);
        assert_eq!(c.differences.len(), 3, "{:?}", c.differences);
        assert!(c.differences[0].contains("`b` holds other data"));
        assert!(c.differences[1].contains("`c` is missing"));
        assert!(c.differences[2].contains("`d` was not in the backup"));
        let quick = compare(&want, &got[..2], CheckLevel::Quick, true);
        assert!(quick.differences.is_empty());
        assert_eq!(quick.compared, 2);
        let err = compare(&want, &got, CheckLevel::Full, false)
            .into_result("the restored database")
            .unwrap_err();
        assert!(err.message.contains("`b`"), "{}", err.message);
    }
}
