//! Tests of edit scripts and their composition.

use super::*;
use std::io::Write;

/// xorshift64*: deterministic test data without crates.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// Compressible text shaped like PostgreSQL COPY output.
fn copy_text(rng: &mut Rng, len: usize) -> Vec<u8> {
    const WORDS: [&str; 8] = [
        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "\\N", "golf",
    ];
    let mut out = Vec::with_capacity(len + 80);
    let mut id = rng.below(1000);
    while out.len() < len {
        id += 1 + rng.below(3);
        writeln!(
            out,
            "{id}\t{}\t{}.{:02}\t2024-{:02}-{:02}\t{}",
            WORDS[rng.below(WORDS.len())],
            rng.below(100_000),
            rng.below(100),
            1 + rng.below(12),
            1 + rng.below(28),
            rng.below(2) == 0,
        )
        .unwrap();
    }
    out.truncate(len);
    out
}

/// Overwrite `count` random ranges of `len.0 ..= len.1` bytes with
/// random bytes.
fn edit_in_place(rng: &mut Rng, data: &mut [u8], count: usize, len: (usize, usize)) {
    for _ in 0..count {
        let n = len.0 + rng.below(len.1 - len.0 + 1);
        let at = rng.below(data.len() - n);
        for b in &mut data[at..at + n] {
            *b = rng.next() as u8;
        }
    }
}

/// Diff, serialise, parse, apply and compose; the parsed script.
fn round_trip(base: &[u8], target: &[u8]) -> Script {
    let script = Script::diff(base, target);
    assert_eq!(script.output_len(), target.len() as u64);
    let bytes = script.to_bytes();
    let parsed = Script::from_bytes(&bytes, base.len(), target.len()).unwrap();
    assert_eq!(parsed, script);
    assert!(parsed.apply(base) == target);
    let pieces = Pieces::root(base.len()).then(&parsed, 0).unwrap();
    assert_eq!(pieces.len(), target.len() as u64);
    assert_eq!(pieces.is_empty(), target.is_empty());
    // Appends to what the buffer holds.
    let mut out = vec![1, 2, 3];
    pieces.materialise(base, &[&parsed.literals], &mut out);
    assert_eq!(out.drain(..3).collect::<Vec<u8>>(), [1, 2, 3]);
    assert!(out == target);
    // Merged on the way in: no two neighbours of the same kind that
    // could have been one op.
    for w in script.ops.windows(2) {
        match (w[0], w[1]) {
            (Op::Add { .. }, Op::Add { .. }) => panic!("unmerged adds"),
            (Op::Copy { from, len }, Op::Copy { from: next, .. }) => {
                assert_ne!(from + len, next, "unmerged copies")
            }
            _ => {}
        }
    }
    parsed
}

fn literal_bytes(script: &Script) -> usize {
    script.literals.len()
}

#[test]
fn round_trips() {
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let base = copy_text(&mut rng, 256 * 1024);

    let same = round_trip(&base, &base);
    assert_eq!(
        same.ops,
        [Op::Copy {
            from: 0,
            len: base.len() as u32
        }]
    );

    round_trip(&[], &base[..1000]);
    round_trip(&base[..1000], &[]);
    round_trip(&[], &[]);
    round_trip(b"abc", b"abd");
    round_trip(b"abcdefg", b"abcdefg");
    round_trip(&base[..5], &base[..100]);
    round_trip(&base[..100], &base[..5]);
    round_trip(&base[..20], &base[..20]);

    let mut edited = base.clone();
    edit_in_place(&mut rng, &mut edited, 20, (50, 200));
    round_trip(&base, &edited);

    // One insertion, one deletion: each costs only its own bytes, also
    // near the end, where the hash table is built for the final run.
    for at in [1000, 100_000, base.len() - 1000] {
        let mut inserted = base.clone();
        inserted.splice(at..at, rng.bytes(100));
        let s = round_trip(&base, &inserted);
        assert_eq!((s.ops.len(), literal_bytes(&s)), (3, 100), "{at}");
        let mut deleted = base.clone();
        deleted.drain(at..at + 100);
        let s = round_trip(&base, &deleted);
        assert_eq!((s.ops.len(), literal_bytes(&s)), (2, 0), "{at}");
    }

    // A rewrite longer than the window before the hash table is built.
    let mut rewritten = base.clone();
    let fresh = rng.bytes(10_000);
    rewritten[50_000..60_000].copy_from_slice(&fresh);
    rewritten.splice(70_000..70_000, fresh);
    let s = round_trip(&base, &rewritten);
    assert_eq!((s.ops.len(), literal_bytes(&s)), (5, 20_000));

    // Insertions and deletions.
    let mut shifted = base.clone();
    for _ in 0..10 {
        let at = rng.below(shifted.len());
        let n = 1 + rng.below(300);
        let new = rng.bytes(n);
        shifted.splice(at..at, new);
        let at = rng.below(shifted.len() - 500);
        let n = 1 + rng.below(400);
        shifted.drain(at..at + n);
    }
    let s = round_trip(&base, &shifted);
    assert!(literal_bytes(&s) < 4000, "{}", literal_bytes(&s));

    // Blocks moved around: rows relocated within the chunk.
    let mut moved = Vec::new();
    for k in [3, 0, 7, 5, 1, 6, 2, 4] {
        moved.extend_from_slice(&base[k * 32768..(k + 1) * 32768]);
    }
    let s = round_trip(&base, &moved);
    assert!(literal_bytes(&s) < 100, "{}", literal_bytes(&s));

    // Unrelated data, either way round.
    let noise = rng.bytes(100_000);
    round_trip(&base, &noise);
    round_trip(&noise, &base);
    let other = copy_text(&mut Rng(99), 200_000);
    round_trip(&base, &other);

    // Longer and shorter targets.
    let mut longer = base.clone();
    longer.extend_from_slice(&rng.bytes(5000));
    let s = round_trip(&base, &longer);
    assert_eq!(literal_bytes(&s), 5000);
    let s = round_trip(&base, &base[1000..200_000]);
    assert_eq!(s.ops.len(), 1);
    round_trip(&longer, &base);

    // Zero fill, as in database pages.
    let mut page = vec![0u8; 8192];
    page[..300].copy_from_slice(&base[..300]);
    let mut page2 = page.clone();
    page2[100..120].copy_from_slice(&rng.bytes(20));
    page2.copy_within(0..4000, 64);
    round_trip(&page, &page2);
}

#[test]
fn in_place_edits_cost_about_the_edited_bytes() {
    let mut rng = Rng(7);
    let base = copy_text(&mut rng, 256 * 1024);
    let mut target = base.clone();
    edit_in_place(&mut rng, &mut target, 20, (100, 100));
    let script = round_trip(&base, &target);
    let bytes = script.to_bytes();
    assert!(script.literals.len() <= 2500, "{}", script.literals.len());
    assert!(bytes.len() <= 3000, "{}", bytes.len());
}

/// Random edits of every kind, keeping the size near `len`.
fn mutate(rng: &mut Rng, data: &[u8], len: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..1 + rng.below(12) {
        match rng.below(6) {
            0 | 1 => edit_in_place(rng, &mut out, 1, (1, 300)),
            2 => {
                let at = rng.below(out.len());
                let n = 1 + rng.below(600);
                let new = copy_text(rng, n);
                out.splice(at..at, new);
            }
            3 if out.len() > len / 2 => {
                let at = rng.below(out.len() - 1000);
                out.drain(at..at + 1 + rng.below(999));
            }
            4 => {
                // Move a block elsewhere.
                let n = 1 + rng.below(4000);
                let at = rng.below(out.len() - n);
                let block: Vec<u8> = out.drain(at..at + n).collect();
                let to = rng.below(out.len());
                out.splice(to..to, block);
            }
            _ => {
                let at = rng.below(out.len());
                out[at] ^= 1 + rng.below(255) as u8;
            }
        }
    }
    if out.len() > 2 * len {
        out.truncate(len);
    }
    out
}

#[test]
fn chain_of_forty_versions() {
    let mut rng = Rng(0xdead_beef);
    let root = copy_text(&mut rng, 128 * 1024);
    let mut versions = vec![root.clone()];
    let mut scripts = Vec::new();
    for _ in 0..40 {
        let prev = versions.last().unwrap();
        let next = mutate(&mut rng, prev, root.len());
        let script = Script::diff(prev, &next);
        let bytes = script.to_bytes();
        scripts.push(Script::from_bytes(&bytes, prev.len(), next.len()).unwrap());
        versions.push(next);
    }

    let mut pieces = Pieces::root(root.len());
    let mut stepped = root.clone();
    let mut out = Vec::new();
    for (n, script) in scripts.iter().enumerate() {
        pieces = pieces.then(script, n as u32).unwrap();
        stepped = script.apply(&stepped);
        assert!(stepped == versions[n + 1]);
        let literals: Vec<&[u8]> = scripts[..=n].iter().map(|s| &s.literals[..]).collect();
        out.clear();
        pieces.materialise(&root, &literals, &mut out);
        assert!(out == versions[n + 1], "version {}", n + 1);
    }
    let ops: usize = scripts.iter().map(|s| s.ops.len()).sum();
    assert!(pieces.count() <= ops + 1, "{} pieces", pieces.count());
}

#[test]
fn pieces_reject_copies_past_the_end() {
    let script = Script {
        ops: vec![Op::Copy { from: 90, len: 11 }],
        literals: Vec::new(),
    };
    let root = Pieces::root(100);
    assert!(root.then(&script, 0).is_err());
    let short = Script {
        ops: vec![Op::Add { len: 4 }],
        literals: vec![1, 2, 3],
    };
    assert!(root.then(&short, 0).is_err());
    assert!(Pieces::root(0).is_empty());
    assert_eq!(Pieces::root(0).count(), 0);
}

#[test]
fn from_bytes_rejects_damage() {
    let mut rng = Rng(3);
    let base = copy_text(&mut rng, 10_000);
    let mut target = base.clone();
    edit_in_place(&mut rng, &mut target, 5, (20, 40));
    let good = Script::diff(&base, &target).to_bytes();
    assert!(Script::from_bytes(&good, base.len(), target.len()).is_ok());

    for cut in 0..good.len() {
        assert!(Script::from_bytes(&good[..cut], base.len(), target.len()).is_err());
    }
    let mut trailing = good.clone();
    trailing.push(0);
    let err = Script::from_bytes(&trailing, base.len(), target.len()).unwrap_err();
    assert!(err.contains("trailing"), "{err}");
    assert!(Script::from_bytes(&good, base.len(), target.len() + 1).is_err());
    assert!(Script::from_bytes(&good, base.len(), target.len() - 1).is_err());

    // A copy one byte past the end of its base.
    let past = Script {
        ops: vec![Op::Copy { from: 5, len: 6 }],
        literals: Vec::new(),
    };
    let err = Script::from_bytes(&past.to_bytes(), 10, 6).unwrap_err();
    assert_eq!(err, "a copy reaches past the end of its base");
    assert!(Script::from_bytes(&past.to_bytes(), 11, 6).is_ok());
    // Before the start of the base: zigzag(-1) from an expected 0.
    assert!(Script::from_bytes(&[1, 12, 1], 100, 6).is_err());

    // A huge op count must fail before allocating.
    let mut huge = Vec::new();
    put_varint(&mut huge, u64::MAX);
    huge.extend_from_slice(&[3, 7]);
    assert!(Script::from_bytes(&huge, 0, 1).is_err());
    let mut huge = Vec::new();
    put_varint(&mut huge, 1 << 40);
    assert!(Script::from_bytes(&huge, 0, 0).is_err());

    // Overflowing varints.
    assert!(Script::from_bytes(&[0xff; 11], 0, 0).is_err());
    assert!(
        Script::from_bytes(
            &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02],
            0,
            0
        )
        .is_err()
    );
    // Zero-length ops, and lengths past u32.
    assert!(Script::from_bytes(&[1, 1], 0, 0).is_err());
    assert!(Script::from_bytes(&[1, 0, 0], 10, 0).is_err());
    let mut long = vec![1];
    put_varint(&mut long, (1 << 33) | 1);
    assert!(Script::from_bytes(&long, 0, 1 << 32).is_err());

    // An empty script for an empty chunk.
    assert_eq!(Script::from_bytes(&[0], 5, 0), Ok(Script::default()));
}

#[test]
fn in_place_copies_cost_one_offset_byte() {
    let script = Script {
        ops: vec![
            Op::Copy { from: 0, len: 1000 },
            Op::Add { len: 3 },
            Op::Copy {
                from: 1003,
                len: 1000,
            },
        ],
        literals: vec![1, 2, 3],
    };
    let bytes = script.to_bytes();
    // count, (op, 0), op, (op, 0), literals
    assert_eq!(bytes.len(), 1 + 3 + 1 + 3 + 3, "{bytes:?}");
    assert_eq!(Script::from_bytes(&bytes, 2003, 2003), Ok(script));
}

/// Composition against replaying; run with
/// `cargo test --release --lib bench_pieces -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: run in release"]
fn bench_pieces() {
    use std::time::Instant;
    let mut rng = Rng(5);
    let root = copy_text(&mut rng, 256 * 1024);
    let mut prev = root.clone();
    let mut scripts = Vec::new();
    for _ in 0..64 {
        let next = mutate(&mut rng, &prev, root.len());
        scripts.push(Script::diff(&prev, &next));
        prev = next;
    }
    let literals: Vec<&[u8]> = scripts.iter().map(|s| &s.literals[..]).collect();
    let rounds = 200;
    let mut out = Vec::new();
    let (mut composed, mut replayed, mut materialised) = (f64::MAX, f64::MAX, f64::MAX);
    let mut count = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let mut pieces = Pieces::root(root.len());
        for (n, script) in scripts.iter().enumerate() {
            pieces = pieces.then(script, n as u32).unwrap();
        }
        let m = Instant::now();
        out.clear();
        pieces.materialise(&root, &literals, &mut out);
        materialised = materialised.min(m.elapsed().as_secs_f64());
        composed = composed.min(t.elapsed().as_secs_f64());
        count = pieces.count();

        let t = Instant::now();
        let mut bytes = root.clone();
        for script in &scripts {
            bytes = script.apply(&bytes);
        }
        replayed = replayed.min(t.elapsed().as_secs_f64());
        assert!(bytes == out);
    }
    assert!(out == prev);
    println!(
        "64 links: composed {:.0} us ({count} pieces, materialised in {:.0} us), replayed {:.0} us",
        composed * 1e6,
        materialised * 1e6,
        replayed * 1e6
    );
}

/// Diff speed; run with
/// `cargo test --release --lib bench_diff -- --ignored --nocapture`.
#[test]
#[ignore = "benchmark: run in release"]
fn bench_diff() {
    use std::time::Instant;
    let mut rng = Rng(42);
    let base = copy_text(&mut rng, 256 * 1024);
    let mut edited = base.clone();
    edit_in_place(&mut rng, &mut edited, 20, (50, 200));
    let noise = rng.bytes(base.len());
    let other = copy_text(&mut Rng(4242), base.len());
    let mut shifted = base.clone();
    for _ in 0..20 {
        let at = rng.below(shifted.len());
        let n = 50 + rng.below(150);
        let new = copy_text(&mut rng, n);
        shifted.splice(at..at, new);
    }
    shifted.truncate(base.len());
    for (name, target) in [
        ("in-place edits", &edited),
        ("identical", &base),
        ("20 insertions", &shifted),
        ("unrelated random bytes", &noise),
        ("unrelated COPY text", &other),
    ] {
        let rounds = 300;
        let mut best = f64::MAX;
        let mut script = Script::default();
        for _ in 0..rounds {
            let t = Instant::now();
            script = Script::diff(&base, target);
            best = best.min(t.elapsed().as_secs_f64());
        }
        let t = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(Script::diff(&base, target));
        }
        let mean = t.elapsed().as_secs_f64() / rounds as f64;
        let mb = target.len() as f64 / 1e6;
        println!(
            "{name:24} best {:7.0} MB/s  mean {:7.0} MB/s  ops {:5}  literals {:6}  script {:6}",
            mb / best,
            mb / mean,
            script.ops.len(),
            script.literals.len(),
            script.to_bytes().len()
        );
    }
}
