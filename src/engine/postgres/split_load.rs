//! Loading one large table through several connections at once.
//!
//! One COPY into one table keeps one server process busy however many
//! cores the server has, so a database whose data sits mostly in one
//! table would restore no faster with `--jobs`. The table's stream is cut
//! at row boundaries into batches that `jobs` connections load side by
//! side, each with its own COPY (and, for binary, its own header and
//! trailer). Runs of rows stay together, so the physical order changes
//! only at batch edges.

use super::CopyFormat;
use super::backup::FirstError;
use super::connect::{connect, query_error};
use super::restore::LOAD_SESSION;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::StreamEntry;
use crossbeam_channel::{Receiver, Sender, bounded};
use std::io::Write;

/// Rows per batch, by size.
const BATCH: usize = 1024 * 1024;
pub(super) const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Signature, flags 0, no header extension.
const HEADER: [u8; 19] = *b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";
pub(super) const TRAILER: [u8; 2] = [0xff, 0xff];

/// Where the next complete row ends in `buf` (from `at`), if it is all there.
pub(super) fn row_end(buf: &[u8], at: usize, format: CopyFormat) -> Result<Option<usize>> {
    match format {
        CopyFormat::Text => Ok(buf[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map(|i| at + i + 1)),
        CopyFormat::Binary => {
            let Some(n) = buf.get(at..at + 2) else {
                return Ok(None);
            };
            let fields = i16::from_be_bytes([n[0], n[1]]);
            if fields == -1 {
                return Err(Error::repository(
                    "binary COPY data goes on after its trailer",
                ));
            }
            let mut p = at + 2;
            for _ in 0..fields {
                let Some(l) = buf.get(p..p + 4) else {
                    return Ok(None);
                };
                let len = i32::from_be_bytes(l.try_into().unwrap());
                p += 4 + len.max(0) as usize;
                if p > buf.len() {
                    return Ok(None);
                }
            }
            Ok(Some(p))
        }
    }
}

/// Receives the stream and hands out batches of whole rows.
struct Splitter<'a> {
    format: CopyFormat,
    buf: Vec<u8>,
    /// `buf[start..parsed]` are whole rows not sent yet.
    start: usize,
    parsed: usize,
    header_done: bool,
    ended: bool,
    tx: Sender<Vec<u8>>,
    failed: &'a FirstError,
}

impl Splitter<'_> {
    fn parse(&mut self) -> Result<()> {
        if self.format == CopyFormat::Binary && !self.header_done {
            if self.buf.len() < 19 {
                return Ok(());
            }
            if &self.buf[..11] != SIGNATURE {
                return Err(Error::repository(
                    "a binary table stream lacks its COPY header",
                ));
            }
            let ext = u32::from_be_bytes(self.buf[15..19].try_into().unwrap()) as usize;
            if self.buf.len() < 19 + ext {
                return Ok(());
            }
            self.start = 19 + ext;
            self.parsed = self.start;
            self.header_done = true;
        }
        while !self.ended {
            if self.format == CopyFormat::Binary
                && self.buf.get(self.parsed..self.parsed + 2) == Some(&TRAILER[..])
            {
                self.ended = true;
                break;
            }
            match row_end(&self.buf, self.parsed, self.format)? {
                Some(end) => {
                    self.parsed = end;
                    if self.parsed - self.start >= BATCH {
                        self.send()?;
                    }
                }
                None => break,
            }
        }
        if self.ended {
            self.send()?;
        }
        // Keep only what is not sent yet.
        self.buf.drain(..self.start);
        self.parsed -= self.start;
        self.start = 0;
        Ok(())
    }

    fn send(&mut self) -> Result<()> {
        if self.parsed == self.start {
            return Ok(());
        }
        let batch = self.buf[self.start..self.parsed].to_vec();
        self.start = self.parsed;
        self.tx
            .send(batch)
            .map_err(|_| Error::database("the table loaders stopped"))
    }

    /// At the end of the stream: send the rest, which must be whole rows.
    fn finish(&mut self, what: &str) -> Result<()> {
        if self.format == CopyFormat::Text && self.buf.last().is_none_or(|&b| b == b'\n') {
            self.parsed = self.buf.len();
            self.ended = true;
        }
        if !self.ended || self.parsed != self.buf.len() && self.format == CopyFormat::Text {
            return Err(Error::repository(format!(
                "{what}: the table stream ends in the middle of a row"
            )));
        }
        self.send()
    }
}

impl Write for Splitter<'_> {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        if self.failed.is_set() {
            return Err(std::io::Error::other("a table loader failed"));
        }
        self.buf.extend_from_slice(data);
        self.parse().map_err(std::io::Error::other)?;
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn loader(
    spec: &super::ConnSpec,
    sql: &str,
    format: CopyFormat,
    rx: Receiver<Vec<u8>>,
    what: &str,
) -> Result<()> {
    let mut c = connect(spec)?;
    c.batch_execute(LOAD_SESSION)
        .map_err(|e| query_error("setting up the session", &e))?;
    let mut w = c.copy_in(sql).map_err(|e| query_error(what, &e))?;
    let io = |e: std::io::Error| Error::database(format!("{what}: {e}"));
    if format == CopyFormat::Binary {
        w.write_all(&HEADER).map_err(io)?;
    }
    for batch in rx {
        w.write_all(&batch).map_err(io)?;
    }
    if format == CopyFormat::Binary {
        w.write_all(&TRAILER).map_err(io)?;
    }
    w.finish().map_err(|e| query_error(what, &e))?;
    Ok(())
}

/// Load `entry` into the table `sql` (a `COPY ... FROM STDIN`) with `jobs`
/// connections.
#[allow(clippy::too_many_arguments)]
pub(super) fn load(
    spec: &super::ConnSpec,
    repo: &Repository,
    index: &Index,
    entry: &StreamEntry,
    sql: &str,
    format: CopyFormat,
    jobs: usize,
    what: &str,
    progress: &dyn Progress,
) -> Result<()> {
    let failed = FirstError::new();
    let (tx, rx) = bounded::<Vec<u8>>(jobs * 2);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            let rx = rx.clone();
            let failed = &failed;
            s.spawn(move || {
                if let Err(e) = loader(spec, sql, format, rx, what) {
                    failed.set(e);
                }
            });
        }
        drop(rx);
        let mut split = Splitter {
            format,
            buf: Vec::with_capacity(2 * BATCH),
            start: 0,
            parsed: 0,
            header_done: false,
            ended: false,
            tx,
            failed: &failed,
        };
        let r = repo
            .restore_stream(index, entry, &mut split, progress)
            .and_then(|_| split.finish(what));
        // Closing the channel lets the loaders finish their COPY.
        drop(split);
        if let Err(e) = r {
            failed.set(e);
        }
    });
    match failed.take() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_binary_row_ends_only_when_whole() {
        // Two fields: NULL, then 3 bytes.
        let row: Vec<u8> = [
            &2i16.to_be_bytes()[..],
            &(-1i32).to_be_bytes(),
            &3i32.to_be_bytes(),
            b"abc",
        ]
        .concat();
        assert_eq!(
            row_end(&row, 0, CopyFormat::Binary).unwrap(),
            Some(row.len())
        );
        for cut in 0..row.len() {
            assert_eq!(
                row_end(&row[..cut], 0, CopyFormat::Binary).unwrap(),
                None,
                "{cut}"
            );
        }
        assert_eq!(row_end(b"a\tb\nc", 0, CopyFormat::Text).unwrap(), Some(4));
        assert_eq!(row_end(b"a\tb", 0, CopyFormat::Text).unwrap(), None);
    }
}
