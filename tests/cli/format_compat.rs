//! A repository written by format version 1 (before fingerprints), kept
//! in tests/fixtures/v1-repo, still shows, restores, verifies and takes new
//! backups. The fixture was made with the sqlvault of that version:
//! `sqlvault init` (password in tests/fixtures/v1-password) and two backups
//! of tests/fixtures/v1-source.db, the second after a change.

use crate::common;

use common::{Scratch, Vault, assert_same_db, fingerprint};
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A writable copy of the version 1 repository.
fn v1_vault(s: &Scratch) -> Vault {
    let to = s.join("repo");
    let st = Command::new("cp")
        .arg("-r")
        .arg(fixtures().join("v1-repo"))
        .arg(&to)
        .status()
        .unwrap();
    assert!(st.success());
    let password = std::fs::read_to_string(fixtures().join("v1-password")).unwrap();
    Vault {
        repo: to,
        home: s.home(),
        password: Some(password.trim().to_string()),
    }
}

#[test]
fn version_1_points_show_restore_and_verify_without_fingerprints() {
    let s = Scratch::new();
    let v = v1_vault(&s);
    let points = v.points();
    assert_eq!(points.len(), 2, "{points:?}");
    // Objects are of version 1.
    let point_file = common::objects(&v.repo, "points").pop().unwrap();
    assert_eq!(std::fs::read(point_file).unwrap()[4], 1);

    let out = v.run(&["--json", "show", "latest"]);
    out.expect_code(0);
    let shown = out.json();
    assert!(shown["fingerprints"].is_null(), "{shown:#}");
    assert_eq!(
        shown["note"],
        "no fingerprints (written by an earlier version)"
    );
    assert_eq!(shown["engine"], "sqlite");
    assert!(shown["versions"]["sqlite"].is_string());
    let out = v.run(&["show", "latest"]);
    out.expect_code(0);
    assert!(
        out.stdout
            .contains("no fingerprints (written by an earlier version)")
    );

    // The first point restores to exactly the source as it was then.
    let first = points[0]["id"].as_str().unwrap();
    let to = s.join("first.db");
    let r = v.restore(first, &to);
    let check = r["databases"][0]["check"].as_str().unwrap();
    assert!(
        check.starts_with("full: no fingerprints (written by an earlier version)"),
        "{check}"
    );
    assert_same_db(&to, &fingerprint(&fixtures().join("v1-source.db")));

    let out = v.verify(true);
    out.expect_code(0);
    let r = out.json();
    assert_eq!(r["status"], "ok", "{r:#}");

    // A new backup into the old repository writes version 2 points with
    // fingerprints, and deduplicates against the version 1 data.
    let db = s.join("v1-source.db");
    std::fs::copy(fixtures().join("v1-source.db"), &db).unwrap();
    let report = v.backup(&[&db]);
    let new = report["databases"][0]["bytes_new"].as_u64().unwrap();
    let read = report["databases"][0]["bytes_read"].as_u64().unwrap();
    assert!(new * 2 < read, "stored {new} of {read} bytes again");
    let out = v.run(&["--json", "show", "latest"]);
    let shown = out.json();
    assert!(
        !shown["fingerprints"]["tables"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let out = v.verify(true);
    out.expect_code(0);
    assert_eq!(out.json()["databases"].as_array().unwrap().len(), 3);
}
