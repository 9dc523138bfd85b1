//! Two `sqlvault backup` processes writing into one repository at the same
//! time both succeed, and every point they make restores correctly.

use crate::common;

use common::*;
use std::path::Path;
use std::process::{Child, Stdio};

fn spawn_backup(vault: &Vault, db: &Path) -> Child {
    let mut c = vault.cmd();
    c.arg("--json")
        .arg("backup")
        .arg(db)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    c.spawn().expect("spawn sqlvault")
}

/// Wait for a backup child; it must succeed. Returns its restore point.
fn finish(child: Child) -> String {
    let out = Out::from_output(child.wait_with_output().unwrap());
    out.expect_code(0);
    let r = out.json();
    assert_eq!(r["status"], "ok", "{r:#}");
    point_of(&r["databases"][0])
}

/// Run two backups at once; returns their points.
fn both_at_once(vault: &Vault, a: &Path, b: &Path) -> (String, String) {
    let ca = spawn_backup(vault, a);
    let cb = spawn_backup(vault, b);
    (finish(ca), finish(cb))
}

#[test]
fn two_backups_of_different_databases_at_once() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    // Similar databases: both processes find and store the same chunks.
    let a = s.join("orders.db");
    let b = s.join("orders_copy.db");
    make_blob_db(&a, "wal", 6 << 20, 1);
    make_fixture(&b, "delete", 2);
    {
        let mut c = open(&b);
        c.execute_batch("CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            .unwrap();
        fill_blobs(&mut c, 6 << 20, 1);
    }
    let fa = fingerprint(&a);
    let fb = fingerprint(&b);
    let (pa, pb) = both_at_once(&vault, &a, &b);
    assert_ne!(pa, pb);

    let points = vault.points();
    assert_eq!(points.len(), 2);
    let out = vault.verify(true);
    out.expect_code(0);
    let r = out.json();
    assert_eq!(r["status"], "ok");
    assert_eq!(r["databases"].as_array().unwrap().len(), 2);

    for (p, fp, name) in [(&pa, &fa, "a.db"), (&pb, &fb, "b.db")] {
        let t = s.join(name);
        vault.restore(p, &t);
        assert_same_db(&t, fp);
    }

    // Later backups dedupe against what both stored.
    let r = vault.backup(&[&a]);
    assert_eq!(r["databases"][0]["bytes_new"].as_u64().unwrap(), 0);
}

#[test]
fn two_backups_of_the_same_database_at_once() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let db = s.join("shared.db");
    make_fixture(&db, "wal", 3);
    {
        let mut c = open(&db);
        c.execute_batch("CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            .unwrap();
        fill_blobs(&mut c, 8 << 20, 3);
    }
    let expected = fingerprint(&db);
    let (p1, p2) = both_at_once(&vault, &db, &db);

    let ids: Vec<String> = vault
        .points()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    assert!(ids.contains(&p1) && ids.contains(&p2), "{ids:?}");
    let out = vault.verify(true);
    out.expect_code(0);
    assert_eq!(out.json()["status"], "ok");
    for (i, p) in [&p1, &p2].into_iter().enumerate() {
        let t = s.join(&format!("restored-{i}.db"));
        vault.restore(p, &t);
        assert_same_db(&t, &expected);
    }
}
