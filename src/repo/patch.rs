//! Edit scripts between versions of a chunk, and their composition.
//!
//! A changed chunk is stored as a [`Script`] against the previous version of
//! the same chunk: copies of base ranges and literal bytes for the rest.
//! Versions form chains (a full root, then one script per version). Reading
//! the newest version does not replay every script over a full copy of the
//! chunk: [`Pieces`] composes the scripts into a list of ranges of the root's
//! bytes and of the scripts' literal bytes, and the bytes are written once.
//!
//! # Serialised form
//!
//! ```text
//! script = varint(op count) ‖ op × count ‖ literals
//! op     = varint(len << 1 | 0) ‖ zigzag(from − expected)    Copy
//!        | varint(len << 1 | 1)                              Add
//! ```
//!
//! - `varint` is unsigned LEB128: seven bits a byte, least significant group
//!   first, high bit set on every byte but the last. A value must fit in 64
//!   bits (at most ten bytes).
//! - `zigzag(n)` is the varint of `2n` for `n ≥ 0` and of `−2n − 1` for
//!   `n < 0`, computed in wrapping 64-bit arithmetic.
//! - `len` is 1 ..= 2³² − 1 for both kinds; a Copy's `from` is a base offset
//!   in 0 ..= 2³² − 1.
//! - `expected` is the base offset that lines up with the Copy's output
//!   position under the previous Copy's shift:
//!   `expected = out_pos + (prev_from − prev_out_pos)`, where `out_pos` is
//!   the output offset at which this Copy starts and `prev_from`,
//!   `prev_out_pos` are those of the last Copy before it. Before the first
//!   Copy the shift is 0 (`expected = out_pos`). A chunk edited in place
//!   thus spends one zero byte on each Copy's offset.
//! - `literals` are the bytes of the Add ops, concatenated in op order; the
//!   data ends exactly where they end.
//!
//! [`Script::from_bytes`] rejects anything else: truncated data, trailing
//! bytes, varints over 64 bits, zero-length ops, lengths over 2³² − 1, an op
//! count larger than the remaining bytes could hold, a Copy outside the base,
//! and an output length other than the one expected.

/// One instruction of an edit script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Copy `len` bytes of the base, starting at base offset `from`.
    Copy { from: u32, len: u32 },
    /// Take the next `len` bytes of the script's literals.
    Add { len: u32 },
}

/// An edit script: ops, and the literal bytes the Add ops take in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Script {
    pub ops: Vec<Op>,
    pub literals: Vec<u8>,
}

/// Shortest match on the shift of one of the last two Copies (a "repeat"
/// match, as an in-place edit resynchronises). Such a Copy costs about four
/// bytes of script (op, a one-byte offset, the Add op it splits off) and a
/// piece in every later composition of the chain, so it must save clearly
/// more than that in literals, which are base bytes the compressor of the
/// script cannot otherwise find.
const MIN_REP_MATCH: usize = 16;

/// Shortest match found through the hash table, at an arbitrary offset.
/// Longer than repeat matches: in COPY text, 16..31-byte repeats (dates,
/// flags, common values) are everywhere, and copying them chops literal
/// runs into many ops and pieces while zstd would have found the same
/// repeats among the literals themselves. On unrelated COPY text a
/// 16-byte minimum made 14 000 ops and a 15 % larger compressed script
/// than this one.
const MIN_MATCH: usize = 32;

/// Largest scan step through a long literal run. A match of
/// `MIN_REP_MATCH` bytes holds `MIN_REP_MATCH - 7` starting positions of an
/// 8-byte window, so no match can be stepped over.
const MAX_STEP: usize = MIN_REP_MATCH - 8;

/// The scan step grows by one every `1 << SKIP_LOG` literal bytes, so
/// unrelated data is not hashed at every byte.
const SKIP_LOG: u32 = 6;

/// Literal bytes scanned with the shift checks alone before the hash table
/// is built and the run rescanned with it. Building the table costs about a
/// nanosecond per base byte, ten times the rest of diffing a chunk edited in
/// place, and in-place edits (the usual change to a database page)
/// resynchronise on the same shift within their own length. Insertions and
/// deletions lose nothing: the run is rescanned with the table.
const DEFER_TABLE: usize = 4096;

/// At most 2²⁰ hash slots (4 MiB): chunks are at most 1 MiB.
const MAX_TABLE_BITS: u32 = 20;

/// Fibonacci hashing multiplier (2⁶⁴ / φ).
const HASH_MUL: u64 = 0x9E37_79B9_7F4A_7C15;

const COPY_PAST_END: &str = "a copy reaches past the end of its base";

impl Script {
    /// An edit script turning `base` into `target`.
    ///
    /// Greedy match finding: at each target position, first the shifts of
    /// the last two Copies (an in-place edit resynchronises at once, and a
    /// short detour elsewhere does not lose the main alignment), then a hash
    /// table of every 8-byte window of the base, built the first time a
    /// literal run gets long or reaches the end. Matches extend forward a
    /// word at a time and backward into the pending literals, so the
    /// literals are the changed bytes, not whole blocks around them. Bases
    /// past 4 GiB are matched only within their first 4 GiB.
    pub fn diff(base: &[u8], target: &[u8]) -> Script {
        let base = &base[..base.len().min(u32::MAX as usize)];
        let mut script = Script::default();
        let mut lit_start = 0;
        if base.len() >= 8 && target.len() >= MIN_REP_MATCH {
            let mut finder = Finder {
                base,
                target,
                table: None,
                shifts: [0, 0],
            };
            let mut i = 0;
            loop {
                while i + 8 <= target.len() {
                    match finder.find(i, lit_start) {
                        Some((from, start, end)) => {
                            script.push_add(&target[lit_start..start]);
                            script.push_copy(from as u32, (end - start) as u32);
                            finder.note_shift(from as i64 - start as i64);
                            i = end;
                            lit_start = end;
                        }
                        None if finder.table.is_none() && i - lit_start >= DEFER_TABLE => {
                            finder.table = Some(build_table(base));
                            i = lit_start;
                        }
                        None => i += (1 + ((i - lit_start) >> SKIP_LOG)).min(MAX_STEP),
                    }
                }
                // A literal run at the end never reached the window: look
                // for moved content in it too.
                if finder.table.is_some()
                    || target.len() - lit_start < MIN_MATCH
                    || base.len() < MIN_MATCH
                {
                    break;
                }
                finder.table = Some(build_table(base));
                i = lit_start;
            }
        }
        script.push_add(&target[lit_start..]);
        script
    }

    /// Serialised form (uncompressed): see the module documentation.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + 4 * self.ops.len() + self.literals.len());
        put_varint(&mut out, self.ops.len() as u64);
        let mut out_pos: u64 = 0;
        let mut shift: i64 = 0;
        for op in &self.ops {
            match *op {
                Op::Copy { from, len } => {
                    put_varint(&mut out, u64::from(len) << 1);
                    let expected = (out_pos as i64).wrapping_add(shift);
                    let delta = i64::from(from).wrapping_sub(expected);
                    put_varint(&mut out, ((delta << 1) ^ (delta >> 63)) as u64);
                    shift = i64::from(from).wrapping_sub(out_pos as i64);
                    out_pos += u64::from(len);
                }
                Op::Add { len } => {
                    put_varint(&mut out, (u64::from(len) << 1) | 1);
                    out_pos += u64::from(len);
                }
            }
        }
        out.extend_from_slice(&self.literals);
        out
    }

    /// Parse and validate a serialised script: every Copy lies within
    /// `base_len`, the Add lengths sum to the literals' length, and the
    /// output is `target_len` bytes long.
    pub fn from_bytes(data: &[u8], base_len: usize, target_len: usize) -> Result<Script, String> {
        let mut reader = Reader { data, pos: 0 };
        let count = reader.varint()?;
        // Every op takes at least one byte: a larger count is corrupt, and
        // the allocation below stays within the size of the data.
        if count > reader.remaining() as u64 {
            return Err("the edit script claims more operations than it holds".into());
        }
        let mut ops = Vec::with_capacity(count as usize);
        let (base_len, target_len) = (base_len as u64, target_len as u64);
        let mut out_pos: u64 = 0;
        let mut shift: i64 = 0;
        let mut literals_len: u64 = 0;
        for _ in 0..count {
            let head = reader.varint()?;
            let len = head >> 1;
            if len == 0 {
                return Err("the edit script has an empty operation".into());
            }
            if len > u64::from(u32::MAX) {
                return Err("an operation of the edit script is too long".into());
            }
            if head & 1 == 0 {
                let zz = reader.varint()?;
                let delta = (zz >> 1) as i64 ^ -((zz & 1) as i64);
                let from = (out_pos as i64).wrapping_add(shift).wrapping_add(delta);
                if from < 0 || from > i64::from(u32::MAX) || from as u64 + len > base_len {
                    return Err(COPY_PAST_END.into());
                }
                shift = from.wrapping_sub(out_pos as i64);
                ops.push(Op::Copy {
                    from: from as u32,
                    len: len as u32,
                });
            } else {
                literals_len += len;
                ops.push(Op::Add { len: len as u32 });
            }
            out_pos += len;
            if out_pos > target_len {
                return Err("the edit script makes more bytes than the chunk holds".into());
            }
        }
        if out_pos < target_len {
            return Err("the edit script makes fewer bytes than the chunk holds".into());
        }
        let rest = reader.remaining() as u64;
        if rest < literals_len {
            return Err("the edit script is truncated".into());
        }
        if rest > literals_len {
            return Err("the edit script has trailing bytes".into());
        }
        Ok(Script {
            ops,
            literals: data[reader.pos..].to_vec(),
        })
    }

    /// Length of what the script produces.
    pub fn output_len(&self) -> u64 {
        self.ops
            .iter()
            .map(|op| match *op {
                Op::Copy { len, .. } | Op::Add { len } => u64::from(len),
            })
            .sum()
    }

    /// Apply to bytes: the reference for [`Pieces`].
    ///
    /// # Panics
    ///
    /// If a Copy reaches past the end of `base` or the Adds need more
    /// literals than the script has; [`Script::from_bytes`] rules both out.
    pub fn apply(&self, base: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.output_len() as usize);
        let mut lit = 0;
        for op in &self.ops {
            match *op {
                Op::Copy { from, len } => {
                    out.extend_from_slice(&base[from as usize..from as usize + len as usize]);
                }
                Op::Add { len } => {
                    out.extend_from_slice(&self.literals[lit..lit + len as usize]);
                    lit += len as usize;
                }
            }
        }
        out
    }

    /// Append literal bytes, merging with a preceding Add.
    fn push_add(&mut self, bytes: &[u8]) {
        for part in bytes.chunks(u32::MAX as usize) {
            let len = part.len() as u32;
            match self.ops.last_mut() {
                Some(Op::Add { len: last }) if u32::MAX - *last >= len => *last += len,
                _ => self.ops.push(Op::Add { len }),
            }
            self.literals.extend_from_slice(part);
        }
    }

    /// Append a Copy, merging with a preceding Copy that ends where it starts.
    fn push_copy(&mut self, from: u32, len: u32) {
        if let Some(Op::Copy {
            from: last_from,
            len: last_len,
        }) = self.ops.last_mut()
            && u64::from(*last_from) + u64::from(*last_len) == u64::from(from)
            && u32::MAX - *last_len >= len
        {
            *last_len += len;
            return;
        }
        self.ops.push(Op::Copy { from, len });
    }
}

/// Match finding state for one [`Script::diff`] call.
struct Finder<'a> {
    base: &'a [u8],
    target: &'a [u8],
    /// First base position of each hashed 8-byte window; built only once a
    /// literal run outlasts `DEFER_TABLE` bytes (or ends the target), so
    /// chunks edited in place never pay for it.
    table: Option<(Vec<u32>, u32)>,
    /// Base offset minus target offset of the last two distinct Copies.
    shifts: [i64; 2],
}

impl Finder<'_> {
    /// A match through target position `i` of at least the minimum for its
    /// kind, repeat shifts first, extended
    /// backward no further than `lit_start`: (base start, target start,
    /// target end).
    fn find(&self, i: usize, lit_start: usize) -> Option<(usize, usize, usize)> {
        let word = read8(self.target, i);
        for (k, &shift) in self.shifts.iter().enumerate() {
            if k == 1 && shift == self.shifts[0] {
                break;
            }
            let b = i as i64 + shift;
            if b >= 0
                && (b as usize) + 8 <= self.base.len()
                && read8(self.base, b as usize) == word
                && let Some(m) = self.extend(i, b as usize, lit_start, MIN_REP_MATCH)
            {
                return Some(m);
            }
        }
        let (table, bits) = self.table.as_ref()?;
        let b = table[hash(word, *bits)] as usize;
        if b + 8 <= self.base.len() && read8(self.base, b) == word {
            return self.extend(i, b, lit_start, MIN_MATCH);
        }
        None
    }

    /// Extend a match of target `i` with base `b` both ways; `None` when
    /// it stays shorter than `min`.
    fn extend(
        &self,
        i: usize,
        b: usize,
        lit_start: usize,
        min: usize,
    ) -> Option<(usize, usize, usize)> {
        let fwd = common_prefix(&self.target[i..], &self.base[b..]);
        let mut back = 0;
        let limit = (i - lit_start).min(b);
        while back < limit && self.target[i - back - 1] == self.base[b - back - 1] {
            back += 1;
        }
        (back + fwd >= min).then_some((b - back, i - back, i + fwd))
    }

    fn note_shift(&mut self, shift: i64) {
        if shift != self.shifts[0] {
            self.shifts = [shift, self.shifts[0]];
        }
    }
}

/// A hash table of the base's 8-byte windows, keeping each slot's first
/// position (for runs such as zero fill, the one with the longest match
/// ahead), and its size in bits.
fn build_table(base: &[u8]) -> (Vec<u32>, u32) {
    let bits = (base.len() as u64)
        .next_power_of_two()
        .trailing_zeros()
        .clamp(4, MAX_TABLE_BITS);
    let mut table = vec![0u32; 1 << bits];
    // Backwards, so the first position of a window is the one kept.
    for (i, w) in base.windows(8).enumerate().rev() {
        table[hash(u64::from_le_bytes(w.try_into().unwrap()), bits)] = i as u32;
    }
    (table, bits)
}

fn hash(word: u64, bits: u32) -> usize {
    (word.wrapping_mul(HASH_MUL) >> (64 - bits)) as usize
}

fn read8(data: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(data[at..at + 8].try_into().unwrap())
}

/// Length of the common prefix of `a` and `b`, compared a word at a time.
fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut done = 0;
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        let diff =
            u64::from_le_bytes(x.try_into().unwrap()) ^ u64::from_le_bytes(y.try_into().unwrap());
        if diff != 0 {
            return done + (diff.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    done + a[done..]
        .iter()
        .zip(&b[done..])
        .take_while(|(x, y)| x == y)
        .count()
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut v: u64 = 0;
        for shift in (0..64).step_by(7) {
            let Some(&byte) = self.data.get(self.pos) else {
                return Err("the edit script is truncated".into());
            };
            self.pos += 1;
            // The tenth byte holds bit 63 only.
            if shift == 63 && byte > 1 {
                break;
            }
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number in the edit script is too large".into())
    }
}

/// Where a piece of a composed version comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The root version's bytes.
    Root,
    /// The literals of the script given this number in [`Pieces::then`].
    Literals(u32),
}

/// A range of a source's bytes, at output offset `out`.
#[derive(Debug, Clone, Copy)]
struct Piece {
    out: u64,
    src: Source,
    from: u64,
    len: u64,
}

/// One version of a chunk described as pieces of the root chunk's bytes and of
/// scripts' literal bytes, so a chain of scripts is applied without rewriting
/// bytes at every link.
#[derive(Debug, Clone)]
pub struct Pieces {
    /// Non-empty, in output order, each starting where the last ends.
    pieces: Vec<Piece>,
    len: u64,
}

impl Pieces {
    /// The root version: all of the root's `len` bytes.
    pub fn root(len: usize) -> Pieces {
        let mut pieces = Pieces {
            pieces: Vec::with_capacity(1),
            len: 0,
        };
        pieces.push(Source::Root, 0, len as u64);
        pieces
    }

    /// The version `script` makes of this one; the script's literals are
    /// source `Literals(n)`. Errors if a Copy reaches past this version's
    /// length or the Add lengths do not sum to the literals' length.
    ///
    /// Each Copy finds its first piece by binary search over the output
    /// offsets, so this costs O(ops × log pieces) plus the pieces made; no
    /// bytes are copied.
    pub fn then(&self, script: &Script, n: u32) -> Result<Pieces, String> {
        let mut next = Pieces {
            pieces: Vec::with_capacity(script.ops.len()),
            len: 0,
        };
        let mut lit: u64 = 0;
        for op in &script.ops {
            match *op {
                Op::Copy { from, len } => {
                    let (mut from, mut left) = (u64::from(from), u64::from(len));
                    if from + left > self.len {
                        return Err(COPY_PAST_END.into());
                    }
                    if left == 0 {
                        continue;
                    }
                    let mut k = self.pieces.partition_point(|p| p.out + p.len <= from);
                    while left > 0 {
                        let p = self.pieces[k];
                        let skip = from - p.out;
                        let take = (p.len - skip).min(left);
                        next.push(p.src, p.from + skip, take);
                        from += take;
                        left -= take;
                        k += 1;
                    }
                }
                Op::Add { len } => {
                    let len = u64::from(len);
                    if lit + len > script.literals.len() as u64 {
                        return Err("the edit script adds more bytes than its literals".into());
                    }
                    next.push(Source::Literals(n), lit, len);
                    lit += len;
                }
            }
        }
        if lit != script.literals.len() as u64 {
            return Err("the edit script adds fewer bytes than its literals".into());
        }
        Ok(next)
    }

    /// Length of this version in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether this version is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of pieces (for tests and diagnostics).
    pub fn count(&self) -> usize {
        self.pieces.len()
    }

    /// Append the bytes to `out`. `literals[n]` are the
    /// literals of source `Literals(n)`.
    ///
    /// # Panics
    ///
    /// If `root` or a `literals[n]` is shorter than the pieces need, or
    /// `literals` has no entry `n`: pass the root these pieces were made
    /// from and each script's literals at the index given to [`Pieces::then`].
    pub fn materialise(&self, root: &[u8], literals: &[&[u8]], out: &mut Vec<u8>) {
        out.reserve(self.len as usize);
        for p in &self.pieces {
            let src = match p.src {
                Source::Root => root,
                Source::Literals(n) => literals[n as usize],
            };
            out.extend_from_slice(&src[p.from as usize..(p.from + p.len) as usize]);
        }
    }

    /// Append a range, merging it with the last piece when it continues it.
    fn push(&mut self, src: Source, from: u64, len: u64) {
        if len == 0 {
            return;
        }
        self.len += len;
        if let Some(last) = self.pieces.last_mut()
            && last.src == src
            && last.from + last.len == from
        {
            last.len += len;
            return;
        }
        self.pieces.push(Piece {
            out: self.len - len,
            src,
            from,
            len,
        });
    }
}

#[cfg(test)]
#[path = "patch_tests.rs"]
mod tests;
