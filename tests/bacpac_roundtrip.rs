//! BACPAC and DACPAC packages end to end, on the real packages of
//! `../shared/bacpac/`: every one backed up with each table's rows counted
//! as an independent decoder counts them, restored as a package with the
//! same entries and byte-identical contents that `unzip -t` accepts, one
//! table restored as CSV and JSON lines, an unchanged table stored once,
//! and damaged or altered packages refused with a clear error.

mod bacpac_common;
mod common;

use bacpac_common::{Edit, entries, origin_total, read_entry, rewrite, rows_by_table, shared};
use common::{Scratch, Vault, point_of};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn show(v: &Vault, point: &str) -> Value {
    let out = v.run(&["--json", "show", point]);
    out.expect_code(0);
    out.json()
}

fn fingerprint_rows(shown: &Value) -> BTreeMap<String, u64> {
    shown["fingerprints"]["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["kind"], "table");
            (
                t["name"].as_str().unwrap().to_string(),
                t["rows"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_shared_package_round_trips_byte_for_byte() {
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let paths: Vec<_> = bacpac_common::PACKAGES.iter().map(|p| shared(p)).collect();
    let refs: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let report = v.backup(&refs);
    for (i, path) in paths.iter().enumerate() {
        let item = &report["databases"][i];
        let point = point_of(item);
        let shown = show(&v, &point);
        assert_eq!(shown["engine"], "bacpac", "{shown:#}");
        assert_eq!(
            shown["source"],
            std::fs::canonicalize(path).unwrap().display().to_string()
        );
        assert!(shown["versions"]["DacFx"].is_string(), "{shown:#}");
        let rows = fingerprint_rows(&shown);
        let dacpac = path.extension().unwrap() == "dacpac";
        if dacpac {
            let note = item["note"].as_str().unwrap_or_default();
            assert!(note.contains("schema only"), "{item:#}");
            assert!(rows.values().all(|&n| n == 0), "{rows:?}");
        } else {
            // Every table, with the rows the independent decoder counts,
            // adding up to what the exporter counted.
            assert_eq!(rows, rows_by_table(path), "{}", path.display());
            assert_eq!(
                Some(rows.values().sum::<u64>()),
                origin_total(path),
                "{}",
                path.display()
            );
        }

        let to = s.join(&format!(
            "restored-{i}.{}",
            path.extension().unwrap().to_string_lossy()
        ));
        let r = v.restore(&point, &to);
        let check = r["databases"][0]["check"].as_str().unwrap();
        let n = entries(path).len();
        assert_eq!(
            check,
            format!(
                "full: {} fingerprints match, model.xml checksum ok, {n} entries' CRC-32 match",
                rows.len()
            )
        );
        // The same entries in the same order, same methods, times and bytes.
        assert_eq!(entries(&to), entries(path), "{}", path.display());
        let t = std::process::Command::new("unzip")
            .arg("-tq")
            .arg(&to)
            .output()
            .expect("unzip runs");
        assert!(t.status.success(), "unzip -t {}: {:?}", to.display(), t);
    }
    let out = v.verify(true);
    out.expect_code(0);
}

/// CSV fields of one line (RFC 4180, as the restore writes them).
fn csv_fields(line: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        break;
                    }
                } else {
                    field.push(c);
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                field.push(c);
                chars.next();
            }
        }
        out.push((quoted || !field.is_empty()).then_some(field));
        if chars.next().is_none() {
            return out;
        }
    }
}

#[test]
fn one_table_restores_as_csv_or_json_lines() {
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let nw = shared("northwind.bacpac");
    let pubs = shared("pubs.bacpac");
    let r = v.backup(&[&nw, &pubs]);
    let (nw_point, pubs_point) = (point_of(&r["databases"][0]), point_of(&r["databases"][1]));
    let counts = rows_by_table(&nw);

    // A table split over four parts, in full, with a header row.
    let csv = s.join("order-details.csv");
    let out = v.restore_with(&nw_point, &csv, &["--table", "dbo.Order Details"]);
    out.expect_code(0);
    assert_eq!(
        out.json()["databases"][0]["check"],
        "full: 1 fingerprints match"
    );
    let text = std::fs::read_to_string(&csv).unwrap();
    assert!(text.ends_with("\r\n"));
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines[0], "OrderID,ProductID,UnitPrice,Quantity,Discount");
    assert_eq!(lines.len() as u64 - 1, counts["dbo.Order Details"]);
    // Order 10248, as every copy of Northwind has it.
    for want in [
        "10248,11,14.0000,12,0",
        "10248,42,9.8000,10,0",
        "10248,72,34.8000,5,0",
    ] {
        assert!(lines.contains(&want), "{want} missing");
    }

    // NULLs are empty fields, text with commas is quoted, images are hex.
    let customers = s.join("customers.csv");
    v.restore_with(&nw_point, &customers, &["--table", "Customers"])
        .expect_code(0);
    let text = std::fs::read_to_string(&customers).unwrap();
    let rows: Vec<_> = text.split_terminator("\r\n").map(csv_fields).collect();
    assert_eq!(rows.len() as u64 - 1, counts["dbo.Customers"]);
    let alfki = rows
        .iter()
        .find(|r| r[0].as_deref() == Some("ALFKI"))
        .unwrap();
    assert_eq!(alfki[1].as_deref(), Some("Alfreds Futterkiste"));
    assert_eq!(alfki[6], None, "Region of ALFKI is NULL: {alfki:?}");
    assert!(
        rows.iter().all(|r| r.len() == 11),
        "every row has 11 fields"
    );
    let employees = s.join("employees.csv");
    v.restore_with(&nw_point, &employees, &["--table", "dbo.Employees"])
        .expect_code(0);
    let text = std::fs::read_to_string(&employees).unwrap();
    assert!(text.contains(",0x151C2F00"), "photos are hex");

    // JSON lines: one object per row, bit as a boolean, names as keys.
    let jsonl = s.join("authors.jsonl");
    let out = v.restore_with(&pubs_point, &jsonl, &["--table", "dbo.authors"]);
    out.expect_code(0);
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len() as u64, rows_by_table(&pubs)["dbo.authors"]);
    let white = rows.iter().find(|r| r["au_id"] == "172-32-1176").unwrap();
    assert_eq!(white["au_lname"], "White");
    assert_eq!(white["phone"], "408 496-7223");
    assert_eq!(white["contract"], true);

    // A whole package is not written where a table is expected.
    let out = v.restore_with(&nw_point, &s.join("all.csv"), &[]);
    out.expect_code(2);
    assert!(out.stderr.contains("--table"), "{}", out.stderr);
    assert!(!s.join("all.csv").exists());

    // An unknown or existing target is refused, and leaves what was there.
    let out = v.restore_with(&nw_point, &s.join("x.csv"), &["--table", "dbo.Nope"]);
    out.expect_code(2);
    assert!(out.stderr.contains("no table `dbo.Nope`"), "{}", out.stderr);
    let out = v.restore_with(&nw_point, &csv, &["--table", "dbo.Orders"]);
    out.expect_code(2);
    assert!(out.stderr.contains("already exists"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(&csv).unwrap().lines().count() as u64,
        counts["dbo.Order Details"] + 1
    );
}

#[test]
fn a_table_that_did_not_change_is_stored_once() {
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let first = s.join("shop-1.bacpac");
    let second = s.join("shop-2.bacpac");
    bacpac_common::big_northwind(&first, 200_000, 50_000, 200_000, 1);
    // The next export: the same, but for one changed part of Order Details.
    bacpac_common::big_northwind(&second, 200_000, 50_000, 150_000, 2);
    let changed = format!("{}TableData-003-00000.BCP", bacpac_common::ORDER_DETAILS);
    assert_ne!(read_entry(&first, &changed), read_entry(&second, &changed));
    let r1 = v.backup(&[&first]);
    let r2 = v.backup(&[&second]);
    let stored = |r: &Value| r["databases"][0]["bytes_stored"].as_u64().unwrap();
    let part = zstd::encode_all(&read_entry(&second, &changed)[..], 3).unwrap();
    assert!(
        stored(&r2) < part.len() as u64 * 12 / 10 + 64 * 1024,
        "the second package stored {} bytes; its changed part compresses to {}",
        stored(&r2),
        part.len()
    );
    assert!(stored(&r1) > 3 * part.len() as u64, "{r1:#}");
    let to = s.join("again.bacpac");
    v.restore(&point_of(&r2["databases"][0]), &to);
    assert_eq!(entries(&to), entries(&second));
}

/// Back up `pkg` and expect it refused with exit 1 and `words` in the one
/// error line; nothing is added to the repository.
#[track_caller]
fn refused(v: &Vault, pkg: &Path, words: &[&str]) {
    let before = v.points().len();
    let out = v.backup_with(&[pkg], &[]);
    out.expect_code(1);
    let errors = out.error_lines();
    assert_eq!(errors.len(), 1, "{}", out.stderr);
    for w in words {
        assert!(errors[0].contains(w), "`{w}` is not in: {}", errors[0]);
    }
    assert_eq!(v.points().len(), before, "a refused package left a point");
}

#[test]
fn damaged_and_altered_packages_are_refused() {
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let nw = shared("northwind.bacpac");

    refused(&v, &s.join("missing.bacpac"), &["does not exist"]);
    let text = s.join("notes.bacpac");
    std::fs::write(&text, "not a package").unwrap();
    refused(&v, &text, &["not a BACPAC or DACPAC package"]);

    let no_model = s.join("no-model.bacpac");
    rewrite(
        &nw,
        &no_model,
        |n, _| {
            if n == "model.xml" {
                Edit::Drop
            } else {
                Edit::Keep
            }
        },
        vec![],
    );
    refused(&v, &no_model, &["holds no model.xml"]);

    // A copy that converted model.xml's line endings.
    let lf = s.join("lf.bacpac");
    rewrite(
        &nw,
        &lf,
        |n, b| match n {
            "model.xml" => Edit::Replace(
                String::from_utf8_lossy(b)
                    .replace("\r\n", "\n")
                    .into_bytes(),
            ),
            _ => Edit::Keep,
        },
        vec![],
    );
    refused(
        &v,
        &lf,
        &["SHA-256 of model.xml", "altered after it was exported"],
    );

    // A part cut in the middle of a row, and a part put under another table.
    let cut = s.join("cut.bacpac");
    rewrite(
        &nw,
        &cut,
        |n, b| match n {
            "Data/dbo.Orders/TableData-000-00000.BCP" => Edit::Replace(b[..b.len() - 7].to_vec()),
            _ => Edit::Keep,
        },
        vec![],
    );
    refused(
        &v,
        &cut,
        &[
            "`Data/dbo.Orders/TableData-000-00000.BCP`",
            "dbo.Orders",
            "ends inside row 830",
        ],
    );
    let moved = s.join("moved.bacpac");
    let region = read_entry(&nw, "Data/dbo.Region/TableData-000-00000.BCP");
    rewrite(
        &nw,
        &moved,
        |n, _| match n {
            "Data/dbo.Shippers/TableData-000-00000.BCP" => Edit::Replace(region.clone()),
            _ => Edit::Keep,
        },
        vec![],
    );
    refused(&v, &moved, &["does not match the columns", "dbo.Shippers"]);

    // A part left out: the rows no longer add up to Origin.xml's count.
    let short = s.join("short.bacpac");
    rewrite(
        &nw,
        &short,
        |n, _| match n {
            "Data/dbo.Customers/TableData-001-00000.BCP" => Edit::Drop,
            _ => Edit::Keep,
        },
        vec![],
    );
    refused(&v, &short, &["holds 3307 rows", "counts 3308"]);

    // A package that is fine still goes in after all that.
    v.backup(&[&nw]);
}

#[test]
fn a_column_type_not_decoded_stores_the_table_whole_and_says_so() {
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let nw = shared("northwind.bacpac");
    // The same package with real columns declared as sql_variant, which
    // the decoder does not read yet; Origin.xml records the new model.
    let model = String::from_utf8(read_entry(&nw, "model.xml"))
        .unwrap()
        .replace("Name=\"[real]\"", "Name=\"[sql_variant]\"")
        .into_bytes();
    let origin = bacpac_common::with_model_checksum(&read_entry(&nw, "Origin.xml"), &model);
    let pkg = s.join("variant.bacpac");
    rewrite(
        &nw,
        &pkg,
        |n, _| match n {
            "model.xml" => Edit::Replace(model.clone()),
            "Origin.xml" => Edit::Replace(origin.clone()),
            _ => Edit::Keep,
        },
        vec![],
    );
    let r = v.backup(&[&pkg]);
    let item = &r["databases"][0];
    let note = item["note"].as_str().unwrap();
    assert!(
        note.contains("not fingerprinted: table dbo.Order Details"),
        "{note}"
    );
    assert!(note.contains("sql_variant"), "{note}");
    let point = point_of(item);
    let shown = show(&v, &point);
    assert_eq!(
        shown["not_fingerprinted"][0]["table"], "dbo.Order Details",
        "{shown:#}"
    );
    let rows = fingerprint_rows(&shown);
    assert!(!rows.contains_key("dbo.Order Details"));
    assert_eq!(rows["dbo.Orders"], 830);

    let to = s.join("variant-restored.bacpac");
    v.restore(&point, &to);
    assert_eq!(entries(&to), entries(&pkg));
    let out = v.restore_with(&point, &s.join("od.csv"), &["--table", "dbo.Order Details"]);
    out.expect_code(1);
    assert!(out.stderr.contains("sql_variant"), "{}", out.stderr);
}
