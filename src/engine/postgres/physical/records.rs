//! Commit times in a WAL segment: enough of the record format to find
//! transaction commit records and read their timestamps, the times that
//! `recovery_target_time` compares. `wal push` records the first and last
//! of each segment, so `points` can say which times the archive reaches
//! without reading it again.
//!
//! Reading stops at the first page or record that does not belong to this
//! segment (the unused, zeroed or recycled end of a switched segment). A
//! commit record cut at the segment's end is not counted.

use super::wal::read_segment_header;

const PAGE: usize = 8192;
const SHORT_PAGE_HEADER: usize = 24;
const LONG_PAGE_HEADER: usize = 40;
const PAGE_MAGIC_MIN: u16 = 0xD000;
const FIRST_IS_CONTRECORD: u16 = 0x0001;
const LONG_HEADER: u16 = 0x0002;
const RECORD_HEADER: usize = 24;
const RM_XACT: u8 = 1;
const XACT_OPMASK: u8 = 0x70;
const XACT_COMMIT: u8 = 0x00;
const XACT_COMMIT_PREPARED: u8 = 0x30;
/// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// The commit times a segment holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commits {
    pub first: Option<jiff::Timestamp>,
    pub last: Option<jiff::Timestamp>,
    pub count: u64,
}

/// Reads the record stream of one segment, stepping over page headers.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
    /// The LSN of the segment's first byte, to tell this segment's pages
    /// from recycled ones.
    base: u64,
}

impl Cursor<'_> {
    /// Step over the page header at a page boundary; false at a page that
    /// is not part of this segment's stream.
    fn enter_page(&mut self, continuing: bool) -> bool {
        if !self.pos.is_multiple_of(PAGE) {
            return true;
        }
        let Some(h) = self.data.get(self.pos..self.pos + SHORT_PAGE_HEADER) else {
            return false;
        };
        let magic = u16::from_le_bytes([h[0], h[1]]);
        let info = u16::from_le_bytes([h[2], h[3]]);
        let addr = u64::from_le_bytes(h[8..16].try_into().unwrap());
        if magic < PAGE_MAGIC_MIN || addr != self.base + self.pos as u64 {
            return false;
        }
        if continuing != (info & FIRST_IS_CONTRECORD != 0) {
            return false;
        }
        self.pos += if info & LONG_HEADER != 0 {
            LONG_PAGE_HEADER
        } else {
            SHORT_PAGE_HEADER
        };
        true
    }

    /// The next `n` bytes of the record stream (copied when they span
    /// pages); `None` at the end of the segment's valid part.
    fn take(&mut self, n: usize, keep: bool) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let mut left = n;
        while left > 0 {
            // Records start past a page header (the caller steps over it),
            // so any page entered here continues the record.
            if !self.enter_page(true) {
                return None;
            }
            let room = PAGE - self.pos % PAGE;
            let k = left.min(room);
            let bytes = self.data.get(self.pos..self.pos + k)?;
            if keep {
                out.extend_from_slice(bytes);
            }
            self.pos += k;
            left -= k;
        }
        Some(out)
    }

    fn align(&mut self) {
        self.pos = self.pos.next_multiple_of(8);
    }
}

/// The commit times of the records that start in this segment.
pub fn commits(data: &[u8]) -> Commits {
    let mut out = Commits::default();
    let Some(h) = read_segment_header(data) else {
        return out;
    };
    if data.len() < LONG_PAGE_HEADER {
        return out;
    }
    let info = u16::from_le_bytes([data[2], data[3]]);
    let rem_len = u32::from_le_bytes(data[16..20].try_into().unwrap()) as usize;
    let mut c = Cursor {
        data,
        pos: LONG_PAGE_HEADER,
        base: h.page_addr.0,
    };
    // The tail of a record that began in the previous segment.
    if info & FIRST_IS_CONTRECORD != 0 && rem_len > 0 {
        c.pos = 0;
        if c.take(rem_len, false).is_none() {
            return out;
        }
        c.align();
    }
    while c.pos + RECORD_HEADER <= data.len() {
        // A record header never starts in a page header.
        if c.pos.is_multiple_of(PAGE) && !c.enter_page(false) {
            break;
        }
        let Some(head) = c.take(RECORD_HEADER, true) else {
            break;
        };
        let tot_len = u32::from_le_bytes(head[0..4].try_into().unwrap()) as usize;
        if tot_len < RECORD_HEADER {
            break;
        }
        let (info, rmid) = (head[16], head[17]);
        let is_commit =
            rmid == RM_XACT && matches!(info & XACT_OPMASK, XACT_COMMIT | XACT_COMMIT_PREPARED);
        let Some(rest) = c.take(tot_len - RECORD_HEADER, is_commit) else {
            break;
        };
        if is_commit && let Some(t) = commit_time(&rest) {
            out.first.get_or_insert(t);
            out.last = Some(t);
            out.count += 1;
        }
        c.align();
    }
    out
}
/// The commit time in a commit record's body: the first field of its main
/// data, which follows the block headers (none, for a commit, but an
/// origin or top-level xid may precede it).
fn commit_time(body: &[u8]) -> Option<jiff::Timestamp> {
    let mut i = 0;
    loop {
        match *body.get(i)? {
            // Main data, short form: one length byte.
            255 => {
                i += 2;
                break;
            }
            // Main data, long form: four length bytes.
            254 => {
                i += 5;
                break;
            }
            // Replication origin.
            253 => i += 3,
            // Top-level transaction id.
            252 => i += 5,
            // A block reference: not expected in a commit record.
            _ => return None,
        }
    }
    let t = i64::from_le_bytes(body.get(i..i + 8)?.try_into().ok()?);
    jiff::Timestamp::from_microsecond(t.checked_add(PG_EPOCH_MICROS)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_time_reads_the_main_data_after_block_headers() {
        let micros: i64 = 1_000_000;
        let mut body = vec![252, 1, 0, 0, 0, 255, 8];
        body.extend_from_slice(&micros.to_le_bytes());
        let t = commit_time(&body).unwrap();
        assert_eq!(t.as_microsecond(), PG_EPOCH_MICROS + micros);
        assert_eq!(commit_time(&[0, 1, 2]), None);
    }

    #[test]
    fn a_segment_without_a_header_has_no_commits() {
        assert_eq!(commits(&[0u8; 100]), Commits::default());
    }
}
