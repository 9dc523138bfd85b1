//! Reading the rows of a BCP data part, one at a time, in bounded memory.
//!
//! A row's fingerprint is the XXH3-128 of its bytes exactly as the part
//! holds them (length prefixes included): the package is restored byte for
//! byte, so the rows read back must be these bytes, and no decoding choice
//! can make two different rows look alike.

use super::types::{ColumnType, Framing};
use std::io::{BufRead, ErrorKind, Read};
use std::ops::Range;
use xxhash_rust::xxh3::Xxh3;

/// A value larger than this is hashed in pieces and not kept, unless the
/// caller asks for values (a table exported to CSV).
const KEEP_AT_MOST: u64 = 1 << 20;
/// No single value of a real package comes near this; a larger length is a
/// damaged part, not a reason to allocate.
const LARGEST_VALUE: u64 = 1 << 31;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    #[error("the part ends inside row {row}, column `{column}`")]
    Truncated { row: u64, column: String },
    #[error("row {row}, column `{column}` has a value of {len} bytes, which its type cannot have")]
    BadLength { row: u64, column: String, len: u64 },
    #[error("cannot read the part: {0}")]
    Io(String),
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub ty: ColumnType,
}

/// Reads rows from one part. `values()` gives the current row's values
/// when they were kept.
pub struct RowReader<'c, R> {
    r: R,
    columns: &'c [Column],
    keep: bool,
    rows: u64,
    /// Bytes read so far.
    pos: u64,
    buf: Vec<u8>,
    spans: Vec<Option<Range<usize>>>,
    hash: Xxh3,
}

impl<'c, R: BufRead> RowReader<'c, R> {
    /// `keep`: keep every value of a row, however large, for `values()`.
    pub fn new(r: R, columns: &'c [Column], keep: bool) -> Self {
        RowReader {
            r,
            columns,
            keep,
            rows: 0,
            pos: 0,
            buf: Vec::new(),
            spans: Vec::with_capacity(columns.len()),
            hash: Xxh3::new(),
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Bytes of the part read so far: where the next row starts.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The current row's fingerprint hash.
    pub fn row_hash(&self) -> u128 {
        self.hash.digest128()
    }

    /// The current row's values, `None` for NULL (and for a large value not
    /// kept).
    pub fn values(&self) -> impl Iterator<Item = Option<&[u8]>> {
        self.spans
            .iter()
            .map(|s| s.as_ref().map(|r| &self.buf[r.clone()]))
    }

    /// Read the next row; false at the end of the part.
    pub fn next_row(&mut self) -> Result<bool, DecodeError> {
        self.hash.reset();
        self.buf.clear();
        self.spans.clear();
        match self.r.fill_buf() {
            Ok([]) => return Ok(false),
            Ok(_) => {}
            Err(e) => return Err(DecodeError::Io(e.to_string())),
        }
        for i in 0..self.columns.len() {
            let len = self.length(i)?;
            let span = match len {
                None => None,
                Some(n) if self.keep || n <= KEEP_AT_MOST => Some(self.keep_value(i, n)?),
                Some(n) => {
                    self.hash_value(i, n)?;
                    None
                }
            };
            self.spans.push(span);
        }
        self.rows += 1;
        Ok(true)
    }

    /// The value's length from its prefix, `None` for NULL.
    fn length(&mut self, i: usize) -> Result<Option<u64>, DecodeError> {
        let len = match self.columns[i].ty.framing {
            Framing::Fixed(n) => return Ok(Some(n as u64)),
            Framing::Byte { width } => {
                let b = self.prefix::<1>(i)?[0];
                if b == 0xFF {
                    return Ok(None);
                }
                if width.is_some_and(|w| w != b) {
                    return Err(self.bad_length(i, b as u64));
                }
                b as u64
            }
            Framing::Short => match u16::from_le_bytes(self.prefix::<2>(i)?) {
                u16::MAX => return Ok(None),
                n => n as u64,
            },
            Framing::Long => match u32::from_le_bytes(self.prefix::<4>(i)?) {
                u32::MAX => return Ok(None),
                n => n as u64,
            },
            Framing::Huge => match u64::from_le_bytes(self.prefix::<8>(i)?) {
                u64::MAX => return Ok(None),
                n => n,
            },
        };
        if len > LARGEST_VALUE {
            return Err(self.bad_length(i, len));
        }
        Ok(Some(len))
    }

    fn prefix<const N: usize>(&mut self, i: usize) -> Result<[u8; N], DecodeError> {
        let mut b = [0u8; N];
        self.read_exact(i, &mut b)?;
        self.hash.update(&b);
        Ok(b)
    }

    fn keep_value(&mut self, i: usize, n: u64) -> Result<Range<usize>, DecodeError> {
        let start = self.buf.len();
        self.buf.resize(start + n as usize, 0);
        let mut tmp = std::mem::take(&mut self.buf);
        let r = self.read_exact(i, &mut tmp[start..]);
        self.buf = tmp;
        r?;
        self.hash.update(&self.buf[start..]);
        Ok(start..self.buf.len())
    }

    fn hash_value(&mut self, i: usize, mut n: u64) -> Result<(), DecodeError> {
        while n > 0 {
            let got = match self.r.fill_buf() {
                Ok([]) => return Err(self.truncated(i)),
                Ok(b) => {
                    let take = b.len().min(n as usize);
                    self.hash.update(&b[..take]);
                    take
                }
                Err(e) => return Err(DecodeError::Io(e.to_string())),
            };
            self.r.consume(got);
            self.pos += got as u64;
            n -= got as u64;
        }
        Ok(())
    }

    fn read_exact(&mut self, i: usize, b: &mut [u8]) -> Result<(), DecodeError> {
        self.r.read_exact(b).map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => self.truncated(i),
            _ => DecodeError::Io(e.to_string()),
        })?;
        self.pos += b.len() as u64;
        Ok(())
    }

    fn truncated(&self, i: usize) -> DecodeError {
        DecodeError::Truncated {
            row: self.rows + 1,
            column: self.columns[i].name.clone(),
        }
    }

    fn bad_length(&self, i: usize, len: u64) -> DecodeError {
        DecodeError::BadLength {
            row: self.rows + 1,
            column: self.columns[i].name.clone(),
            len,
        }
    }
}

/// Count and fingerprint every row of a part.
pub fn digest<R: Read>(
    part: R,
    columns: &[Column],
) -> Result<crate::engine::fingerprint::RowDigest, DecodeError> {
    let mut rows = RowReader::new(
        std::io::BufReader::with_capacity(1 << 16, part),
        columns,
        false,
    );
    let mut d = crate::engine::fingerprint::RowDigest::default();
    while rows.next_row()? {
        d.add_hashed(rows.row_hash());
    }
    Ok(d)
}

/// Where the last row of a part starts (None: it has no rows).
pub fn last_row_start(part: &[u8], columns: &[Column]) -> Result<Option<usize>, DecodeError> {
    let mut rows = RowReader::new(part, columns, false);
    let mut last = None;
    loop {
        let at = rows.position() as usize;
        if !rows.next_row()? {
            return Ok(last);
        }
        last = Some(at);
    }
}

#[cfg(test)]
mod tests {
    use super::super::types::Kind;
    use super::*;

    fn col(name: &str, kind: Kind, framing: Framing) -> Column {
        Column {
            name: name.into(),
            ty: ColumnType { kind, framing },
        }
    }

    fn columns() -> Vec<Column> {
        vec![
            col("id", Kind::Int, Framing::Fixed(4)),
            col("ok", Kind::Bit, Framing::Byte { width: Some(1) }),
            col("name", Kind::Text, Framing::Short),
            col("photo", Kind::Binary, Framing::Huge),
        ]
    }

    fn row(id: u32, name: Option<&str>) -> Vec<u8> {
        let mut b = id.to_le_bytes().to_vec();
        b.extend([1, 1]);
        match name {
            None => b.extend([0xFF, 0xFF]),
            Some(s) => {
                let u: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
                b.extend((u.len() as u16).to_le_bytes());
                b.extend(u);
            }
        }
        b.extend(u64::MAX.to_le_bytes());
        b
    }

    #[test]
    fn rows_are_read_with_their_values_and_hashed_whole() {
        let cols = columns();
        let mut part = row(7, Some("Zoë"));
        part.extend(row(8, None));
        let mut r = RowReader::new(&part[..], &cols, true);
        assert!(r.next_row().unwrap());
        let v: Vec<_> = r.values().collect();
        assert_eq!(v[0], Some(&7u32.to_le_bytes()[..]));
        assert_eq!(v[2].unwrap().len(), 6);
        assert_eq!(v[3], None);
        assert_eq!(
            r.row_hash(),
            xxhash_rust::xxh3::xxh3_128(&row(7, Some("Zoë")))
        );
        assert!(r.next_row().unwrap());
        assert_eq!(r.values().nth(2).unwrap(), None);
        assert!(!r.next_row().unwrap());
        assert_eq!(r.rows(), 2);
        assert_eq!(r.position(), part.len() as u64);
        assert_eq!(
            last_row_start(&part, &cols).unwrap(),
            Some(row(7, Some("Zoë")).len())
        );
    }

    #[test]
    fn a_cut_part_names_the_row_and_column() {
        let cols = columns();
        let mut part = row(7, Some("abc"));
        part.extend(&row(8, Some("abc"))[..9]);
        let e = digest(&part[..], &cols).unwrap_err();
        assert_eq!(
            e,
            DecodeError::Truncated {
                row: 2,
                column: "name".into()
            }
        );
    }

    #[test]
    fn a_length_the_type_cannot_have_is_refused() {
        let cols = columns();
        let mut part = row(7, None);
        part[4] = 2;
        assert!(matches!(
            digest(&part[..], &cols),
            Err(DecodeError::BadLength { len: 2, .. })
        ));
    }

    #[test]
    fn order_of_rows_does_not_change_the_digest() {
        let cols = columns();
        let (a, b) = (row(1, Some("x")), row(2, None));
        let ab = digest(&[a.clone(), b.clone()].concat()[..], &cols).unwrap();
        let ba = digest(&[b, a].concat()[..], &cols).unwrap();
        assert_eq!(ab, ba);
        assert_eq!(ab.rows, 2);
    }
}
