//! WAL file names, log sequence numbers, and the identity stamped on every
//! segment (the long page header at its start).

use crate::error::{Error, Result};
use std::fmt;

/// A log sequence number, `16/B374D848` as PostgreSQL writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(pub u64);

impl Lsn {
    pub fn parse(s: &str) -> Result<Lsn> {
        let bad = || {
            Error::usage(format!(
                "`{s}` is not a WAL location (write it as 0/3000028)"
            ))
        };
        let (hi, lo) = s.trim().split_once('/').ok_or_else(bad)?;
        let hi = u32::from_str_radix(hi, 16).map_err(|_| bad())?;
        let lo = u32::from_str_radix(lo, 16).map_err(|_| bad())?;
        Ok(Lsn(((hi as u64) << 32) | lo as u64))
    }

    /// The segment holding this location.
    pub fn segment(self, seg_size: u64) -> u64 {
        self.0 / seg_size
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// What an archived WAL file is, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WalFile {
    /// `000000010000000000000003`: timeline, segment number.
    Segment { timeline: u32, segno: u64 },
    /// The same with `.partial`: the last segment of a timeline a promotion ended.
    Partial { timeline: u32, segno: u64 },
    /// `00000002.history`: how a timeline forked from its parent.
    History { timeline: u32 },
    /// `000000010000000000000002.00000028.backup`: a base backup's label.
    BackupLabel,
}

fn hex32(s: &str) -> Option<u32> {
    (s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| u32::from_str_radix(s, 16).ok())
        .flatten()
}

/// `segno` from the two 8-digit parts of a segment name.
fn segno_of(log: u32, seg: u32, seg_size: u64) -> u64 {
    (log as u64) * (0x1_0000_0000 / seg_size) + seg as u64
}

impl WalFile {
    /// Classify an archive file name; anything else is refused.
    pub fn parse(name: &str, seg_size: u64) -> Option<WalFile> {
        if let Some(tli) = name.strip_suffix(".history") {
            return hex32(tli).map(|timeline| WalFile::History { timeline });
        }
        if let Some(base) = name.strip_suffix(".backup") {
            let (seg, off) = base.split_once('.')?;
            return (Self::parse(seg, seg_size).is_some() && hex32(off).is_some())
                .then_some(WalFile::BackupLabel);
        }
        let (base, partial) = match name.strip_suffix(".partial") {
            Some(b) => (b, true),
            None => (name, false),
        };
        if base.len() != 24 {
            return None;
        }
        let timeline = hex32(&base[0..8])?;
        let segno = segno_of(hex32(&base[8..16])?, hex32(&base[16..24])?, seg_size);
        Some(if partial {
            WalFile::Partial { timeline, segno }
        } else {
            WalFile::Segment { timeline, segno }
        })
    }
}

/// The file name of segment `segno` on `timeline`.
pub fn segment_name(timeline: u32, segno: u64, seg_size: u64) -> String {
    let per_log = 0x1_0000_0000 / seg_size;
    format!(
        "{timeline:08X}{:08X}{:08X}",
        segno / per_log,
        segno % per_log
    )
}

pub fn history_name(timeline: u32) -> String {
    format!("{timeline:08X}.history")
}

/// Identity from a segment's first page (`XLogLongPageHeaderData`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    pub timeline: u32,
    /// The location of the segment's first byte.
    pub page_addr: Lsn,
    pub system_identifier: u64,
    pub seg_size: u32,
}

/// Flag of `xlp_info`: the page starts with the long header.
const XLP_LONG_HEADER: u16 = 0x0002;

pub fn read_segment_header(data: &[u8]) -> Option<SegmentHeader> {
    if data.len() < 40 {
        return None;
    }
    let u16le = |at: usize| u16::from_le_bytes(data[at..at + 2].try_into().unwrap());
    let u32le = |at: usize| u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
    let u64le = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
    if u16le(2) & XLP_LONG_HEADER == 0 {
        return None;
    }
    Some(SegmentHeader {
        timeline: u32le(4),
        page_addr: Lsn(u64le(8)),
        system_identifier: u64le(24),
        seg_size: u32le(32),
    })
}

/// The cluster's `system_identifier`: the first field of `global/pg_control`.
pub fn control_system_identifier(pg_control: &[u8]) -> Option<u64> {
    pg_control
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
}

/// The timelines a `.history` file names as ancestors, with the location
/// where each ended: `1\t0/3000158\tno recovery target specified`.
pub fn parse_history(text: &str) -> Vec<(u32, Lsn)> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let tli = f.next()?.parse().ok()?;
            let lsn = Lsn::parse(f.next()?).ok()?;
            Some((tli, lsn))
        })
        .collect()
}

/// Where a timeline forked, in time, when recovery stopped at a commit:
/// the last line of its `.history` file says `before <commit time>` (that
/// commit was not replayed) or `after <commit time>` (it was); true for
/// `after`. PostgreSQL writes the time as `2026-12-08 10:15:30.123456+00`.
pub fn parse_fork_time(text: &str) -> Option<(bool, jiff::Timestamp)> {
    let line = text.lines().rfind(|l| !l.trim().is_empty())?;
    let reason = line.splitn(3, '\t').nth(2)?.trim();
    let (after, time) = if let Some(t) = reason.strip_prefix("before ") {
        (false, t)
    } else {
        (true, reason.strip_prefix("after ")?)
    };
    Some((after, super::target::parse_time(time).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    const SEG: u64 = 16 << 20;

    #[test]
    fn fork_times_come_from_the_history_reason() {
        let (after, t) =
            parse_fork_time("1\t0/3000158\tbefore 2026-12-08 10:15:30.5+00\n").unwrap();
        assert!(!after);
        assert_eq!(t.to_string(), "2026-12-08T10:15:30.5Z");
        let (after, _) = parse_fork_time("1\t0/3000158\tafter 2026-12-08 10:15:30+01\n").unwrap();
        assert!(after);
        assert!(parse_fork_time("1\t0/3000158\tno recovery target specified\n").is_none());
    }

    #[test]
    fn lsn_round_trip() {
        let l = Lsn::parse("16/B374D848").unwrap();
        assert_eq!(l.0, 0x16_B374_D848);
        assert_eq!(l.to_string(), "16/B374D848");
        assert!(Lsn::parse("nonsense").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(segment_name(1, 3, SEG), "000000010000000000000003");
        assert_eq!(segment_name(2, 256 + 5, SEG), "000000020000000100000005");
        assert_eq!(
            WalFile::parse("000000020000000100000005", SEG),
            Some(WalFile::Segment {
                timeline: 2,
                segno: 261
            })
        );
        assert_eq!(
            WalFile::parse("000000010000000000000007.partial", SEG),
            Some(WalFile::Partial {
                timeline: 1,
                segno: 7
            })
        );
        assert_eq!(
            WalFile::parse("00000002.history", SEG),
            Some(WalFile::History { timeline: 2 })
        );
        assert_eq!(
            WalFile::parse("000000010000000000000002.00000028.backup", SEG),
            Some(WalFile::BackupLabel)
        );
        assert_eq!(WalFile::parse("../../etc/passwd", SEG), None);
        assert_eq!(WalFile::parse("00000001000000000000000G", SEG), None);
        assert_eq!(Lsn(3 * SEG + 40).segment(SEG), 3);
    }

    #[test]
    fn history() {
        let h = "1\t0/3000158\tno recovery target specified\n\n2\t0/5000000\tbefore 2026-01-01\n";
        assert_eq!(
            parse_history(h),
            vec![(1, Lsn(0x3000158)), (2, Lsn(0x5000000))]
        );
    }
}
