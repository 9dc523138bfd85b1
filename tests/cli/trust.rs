//! Regression tests of what must never lose or misstate data: closed
//! output pipes, a `latest` that cannot fall back silently, backups after
//! damage, archive reruns and auto-protected databases that go bad.

use crate::common::*;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

/// Run `cmd` with stdout (and stderr when asked) a pipe whose reader is
/// already gone, as `sqlvault … | true` gives; the exit status.
fn run_into_closed_pipe(
    mut cmd: std::process::Command,
    close_stderr: bool,
) -> std::process::ExitStatus {
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    cmd.stderr(if close_stderr {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().unwrap();
    drop(child.stdout.take());
    drop(child.stderr.take());
    child.wait().unwrap()
}

#[test]
fn a_closed_output_pipe_neither_kills_a_backup_nor_loses_its_session() {
    let s = Scratch::new();
    let v = Vault::init(&s, s.join("repo"));
    let db = s.join("app.db");
    make_fixture(&db, "wal", 1);
    for close_stderr in [false, true] {
        let before = v.points().len();
        let mut c = v.cmd();
        c.args(["--json", "backup"]).arg(&db);
        let status = run_into_closed_pipe(c, close_stderr);
        assert_eq!(status.signal(), None, "backup died of a signal: {status:?}");
        assert_eq!(status.code(), Some(0), "{status:?}");
        assert_eq!(v.points().len(), before + 1, "the backup made no point");
    }
    let sessions = v.run(&["--json", "sessions"]);
    sessions.expect_code(0);
    let backups = sessions
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["command"] == "backup")
        .count();
    assert_eq!(backups, 2, "{}", sessions.stdout);

    // Data commands that print a lot end by their exit code, not SIGPIPE.
    for args in [&["points"][..], &["--json", "points"], &["sessions"]] {
        let mut c = v.cmd();
        c.args(args);
        let status = run_into_closed_pipe(c, false);
        assert_eq!(status.signal(), None, "{args:?} died of a signal");
        assert_eq!(status.code(), Some(0), "{args:?}: {status:?}");
    }

    // A restore into a closed pipe still puts the database in place.
    let to = s.join("restored.db");
    let mut c = v.cmd();
    c.args(["--json", "restore", "latest", "--to"]).arg(&to);
    let status = run_into_closed_pipe(c, true);
    assert_eq!(status.signal(), None, "restore died of a signal");
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert_same_db(&to, &fingerprint(&db));
}

/// Two backups of `beta` and one of `alpha`; the ids (alpha, beta1, beta2).
fn three_points(s: &Scratch, v: &Vault) -> (String, String, String) {
    let alpha = s.join("alpha.db");
    let beta = s.join("beta.db");
    make_fixture(&alpha, "wal", 2);
    make_fixture(&beta, "wal", 3);
    let a = v.backup_one(&alpha);
    let b1 = v.backup_one(&beta);
    add_fixture_rows(&mut open(&beta), 4, 10_000, 10_050);
    let b2 = v.backup_one(&beta);
    (a, b1, b2)
}

#[test]
fn latest_refuses_when_the_newest_manifest_of_its_database_is_gone() {
    for damage in ["delete", "flip"] {
        let s = Scratch::new();
        let v = Vault::init(&s, s.join("repo"));
        let (a, b1, b2) = three_points(&s, &v);
        let manifest = v.repo.join("points").join(&b2);
        if damage == "delete" {
            std::fs::remove_file(&manifest).unwrap();
        } else {
            let mut bytes = std::fs::read(&manifest).unwrap();
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x01;
            std::fs::write(&manifest, &bytes).unwrap();
        }
        let to = s.join("beta-restored.db");
        let out = v.restore_with("latest", &to, &["--database", "beta"]);
        out.expect_code(4);
        let err = out.error_lines().join("\n");
        assert!(
            err.contains(&b2[..8]),
            "{damage}: names the lost point: {err}"
        );
        assert!(
            out.stderr.contains(&b1[..8]),
            "{damage}: names the usable one: {}",
            out.stderr
        );
        assert!(!to.exists(), "{damage}: restored an older point");

        // The newest point of all is the lost one too.
        let out = v.restore_with("latest", &to, &[]);
        out.expect_code(4);
        assert!(!to.exists());

        // `points` flags it and says so by its exit code, with and without --json.
        for args in [
            &["points"][..],
            &["--json", "points"],
            &["points", "--database", "beta"],
        ] {
            let out = v.run(args);
            out.expect_code(4);
            assert!(out.stderr.contains(&b2[..8]), "{args:?}: {}", out.stderr);
        }
        // Other databases, and the older point by its id, still restore.
        v.run(&["points", "--database", "alpha"]).expect_code(0);
        let to_a = s.join("a.db");
        let out = v.restore_with("latest", &to_a, &["--database", "alpha"]);
        out.expect_code(0);
        assert_eq!(out.json()["databases"][0]["restore_point"], a.as_str());
        v.restore(&b1, &to);
    }
}

/// The largest pack of a repository.
fn largest_pack(repo: &std::path::Path) -> std::path::PathBuf {
    objects(repo, "packs")
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).unwrap().len())
        .expect("a pack")
}

#[test]
fn a_backup_after_pack_damage_stores_the_lost_chunks_again() {
    // (damage, what finds it first: the backup itself, verify or a restore)
    for (how, found_by) in [
        ("delete", "backup"),
        ("truncate", "backup"),
        ("flip", "verify"),
        ("flip", "restore"),
    ] {
        let s = Scratch::new();
        let v = Vault::init(&s, s.join("repo"));
        let db = s.join("app.db");
        make_blob_db(&db, "wal", 1 << 20, 7);
        let expected = fingerprint(&db);
        let first = v.backup_one(&db);
        let pack = largest_pack(&v.repo);
        let mut data = std::fs::read(&pack).unwrap();
        match how {
            "delete" => std::fs::remove_file(&pack).unwrap(),
            "truncate" => {
                data.truncate(data.len() / 2);
                std::fs::write(&pack, &data).unwrap();
            }
            _ => {
                let mid = data.len() / 2;
                data[mid] ^= 0x5a;
                std::fs::write(&pack, &data).unwrap();
            }
        }
        // Found once, and remembered.
        match found_by {
            "verify" => {
                v.verify(false).expect_code(1);
            }
            "restore" => {
                v.restore_with(&first, &s.join("failed.db"), &[])
                    .expect_code(4);
            }
            _ => {}
        }
        let second = v.backup_one(&db);
        let to = s.join("restored.db");
        v.restore(&second, &to);
        assert_same_db(&to, &expected);
        // The chunks stored again serve the first point too.
        let old = s.join("old.db");
        v.restore(&first, &old);
        assert_same_db(&old, &expected);
        // Once repair has dealt with the pack, the record goes with it, and
        // the repository verifies clean.
        v.run(&["repair", "--read-data", "--forget-damaged"]);
        assert!(
            objects(&v.repo, "damage").is_empty(),
            "{how}/{found_by}: damage record kept after repair"
        );
        let out = v.verify(false);
        out.expect_code(0);
        let to2 = s.join("restored2.db");
        v.restore(&second, &to2);
        assert_same_db(&to2, &expected);
    }
}
