//! Packages for the tests: the real BACPAC and DACPAC files of
//! `../shared/bacpac/` (a test fails when they are missing), copies of them
//! with entries rewritten, a large package built from one of them, what a
//! package holds entry by entry, and the rows per table an independent
//! decoder (`tests/fixtures/bcp_rows.py`) counts.

#![allow(dead_code)]

use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// A shared package by file name.
pub fn shared(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bacpac");
    let p = dir.join(name);
    assert!(
        p.is_file(),
        "{} is missing: the BACPAC tests need the shared packages beside the project",
        p.display()
    );
    p
}

/// The BACPACs and the DACPAC of `../shared/bacpac/`.
pub const PACKAGES: [&str; 6] = [
    "adventureworkslt2019.bacpac",
    "northwind.bacpac",
    "pubs.bacpac",
    "started.bacpac",
    "small-dacfx162.bacpac",
    "adventureworkslt.dacpac",
];

/// One entry as a package stores it: name, method, CRC-32, content SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryFacts {
    pub name: String,
    pub method: String,
    pub modified: (u16, u16),
    pub crc32: u32,
    pub sha256: String,
}

pub fn entries(path: &Path) -> Vec<EntryFacts> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut b = Vec::new();
            f.read_to_end(&mut b).unwrap();
            let t = f.last_modified().unwrap();
            EntryFacts {
                name: f.name().unwrap().to_string(),
                method: format!("{:?}", f.compression()),
                modified: (t.datepart(), t.timepart()),
                crc32: f.crc32(),
                sha256: hex::encode(Sha256::digest(&b)),
            }
        })
        .collect()
}

/// The content of one entry.
pub fn read_entry(path: &Path, name: &str) -> Vec<u8> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut f = z.by_name(name).unwrap();
    let mut b = Vec::new();
    f.read_to_end(&mut b).unwrap();
    b
}

/// What a rewrite does with one entry.
pub enum Edit {
    Keep,
    Drop,
    Replace(Vec<u8>),
}

/// Copy package `src` to `dst`, entry by entry in order, letting `edit`
/// change or drop each, then adding `extra` entries (stored, as DacFx
/// stores some; large generated parts are written quickly so).
pub fn rewrite(
    src: &Path,
    dst: &Path,
    mut edit: impl FnMut(&str, &[u8]) -> Edit,
    extra: Vec<(String, Vec<u8>)>,
) {
    let mut z = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut w = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let method = f.compression();
        let mut b = Vec::new();
        f.read_to_end(&mut b).unwrap();
        let data = match edit(&name, &b) {
            Edit::Keep => b,
            Edit::Drop => continue,
            Edit::Replace(new) => new,
        };
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(method)
            .large_file(data.len() as u64 >= u32::MAX as u64);
        w.start_file(name.as_str(), o).unwrap();
        w.write_all(&data).unwrap();
    }
    for (name, data) in extra {
        let o = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(data.len() as u64 >= u32::MAX as u64);
        w.start_file(name.as_str(), o).unwrap();
        w.write_all(&data).unwrap();
    }
    w.finish().unwrap();
}

/// Origin.xml with another `TableRowCountTotalTag`.
pub fn with_total_rows(origin: &[u8], total: u64) -> Vec<u8> {
    let s = String::from_utf8(origin.to_vec()).unwrap();
    let (a, rest) = s.split_once("<TableRowCountTotalTag>").unwrap();
    let (_, b) = rest.split_once("</TableRowCountTotalTag>").unwrap();
    format!("{a}<TableRowCountTotalTag>{total}</TableRowCountTotalTag>{b}").into_bytes()
}

/// Origin.xml recording `model`'s SHA-256.
pub fn with_model_checksum(origin: &[u8], model: &[u8]) -> Vec<u8> {
    let s = String::from_utf8(origin.to_vec()).unwrap();
    let (a, rest) = s.split_once("<Checksum Uri=\"/model.xml\">").unwrap();
    let (_, b) = rest.split_once("</Checksum>").unwrap();
    let sum = hex::encode_upper(Sha256::digest(model));
    format!("{a}<Checksum Uri=\"/model.xml\">{sum}</Checksum>{b}").into_bytes()
}

/// Northwind's `Order Details` rows: OrderID int, ProductID int, UnitPrice
/// money, Quantity smallint, Discount real, all NOT NULL: 22 bytes a row.
pub const ORDER_DETAILS: &str = "Data/dbo.Order%20Details/";
pub const ORDER_DETAIL_ROW: usize = 22;

/// `rows` pseudo-random Order Details rows; rows `from..` differ by `seed`.
pub fn order_details(rows: usize, changed_from: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(rows * ORDER_DETAIL_ROW);
    let mut base = crate::common::Rng::new(1);
    let mut changed = crate::common::Rng::new(seed);
    for i in 0..rows {
        let r = if i >= changed_from {
            &mut changed
        } else {
            &mut base
        };
        out.extend((10_000 + i as u32).to_le_bytes());
        out.extend((r.below(77) as u32 + 1).to_le_bytes());
        // money: the high half, then the low half.
        out.extend(0u32.to_le_bytes());
        out.extend((r.below(1_000_000) as u32).to_le_bytes());
        out.extend((r.below(100) as u16 + 1).to_le_bytes());
        out.extend(((r.below(25) as f32) / 100.0).to_le_bytes());
    }
    out
}

/// Northwind with its Order Details replaced by `rows` generated rows in
/// parts of at most `per_part` rows (stored, as large parts can be),
/// `changed_from..` varying with `seed`; Origin.xml counts them.
pub fn big_northwind(dst: &Path, rows: usize, per_part: usize, changed_from: usize, seed: u64) {
    let src = shared("northwind.bacpac");
    let theirs: u64 = 2155;
    let data = order_details(rows, changed_from, seed);
    let mut extra = Vec::new();
    for (i, part) in data.chunks(per_part * ORDER_DETAIL_ROW).enumerate() {
        extra.push((
            format!("{ORDER_DETAILS}TableData-{i:03}-00000.BCP"),
            part.to_vec(),
        ));
    }
    rewrite(
        &src,
        dst,
        |name, b| {
            if name.starts_with(ORDER_DETAILS) {
                Edit::Drop
            } else if name == "Origin.xml" {
                Edit::Replace(with_total_rows(b, 3308 - theirs + rows as u64))
            } else {
                Edit::Keep
            }
        },
        extra,
    );
}

/// Rows per `schema.table`, counted by the independent decoder.
pub fn rows_by_table(path: &Path) -> BTreeMap<String, u64> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bcp_rows.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(path)
        .output()
        .expect("python3 runs the independent BCP decoder");
    assert!(
        out.status.success(),
        "bcp_rows.py {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// `TableRowCountTotalTag` of a package's Origin.xml.
pub fn origin_total(path: &Path) -> Option<u64> {
    let o = String::from_utf8_lossy(&read_entry(path, "Origin.xml")).into_owned();
    let (_, rest) = o.split_once("<TableRowCountTotalTag>")?;
    rest.split_once('<')?.0.parse().ok()
}
