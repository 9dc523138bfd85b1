//! SIGTERM stops a backup (during its staging copy, once a pack is stored)
//! and a restore with exit 130, and cleans up: no staging copy, no
//! temporary file, no restore point, a repository that verifies, and
//! every earlier point still restorable. What `kill -9` leaves is part of
//! the engine contract, tested for every engine in
//! tests/engine_conformance.rs.
//!
//! The repository here is unencrypted so that a ~60 MB backup takes long
//! enough in a debug build for the signal to land in the phase it aims at.

use crate::common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

const BIG: usize = 60 << 20;

/// A child still running after this fails the test.
const HANGS: Duration = Duration::from_secs(60);

fn kill_when(child: Child, fire: impl Fn(Duration) -> bool) -> Ended {
    signal_when(child, libc::SIGKILL, HANGS, fire)
}

/// `verify` passes: no errors (warnings about leftovers are fine).
#[track_caller]
fn assert_verify_ok(vault: &Vault, after: &str) {
    let out = vault.verify(false);
    assert_eq!(
        out.code, 0,
        "verify after {after} failed:\n{}\n{}",
        out.stdout, out.stderr
    );
    let r = out.json();
    assert_eq!(r["status"], "ok", "after {after}: {r:#}");
    assert!(
        r.get("errors")
            .is_none_or(|e| e.as_array().unwrap().is_empty())
    );
}

fn point_ids(vault: &Vault) -> Vec<String> {
    vault
        .points()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

/// How much of the restore temporary in `dir` is written, 0 to 1 (None:
/// there is none). The file is sized first and filled in, so count the
/// blocks it really holds.
fn temporary_written(dir: &Path, name: &str, size: u64) -> Option<f64> {
    use std::os::unix::fs::MetadataExt;
    let prefix = format!(".{name}.sqlvault-");
    let f = std::fs::read_dir(dir).ok()?.find_map(|e| {
        let e = e.ok()?;
        e.file_name()
            .to_string_lossy()
            .starts_with(&prefix)
            .then(|| e.path())
    })?;
    let m = std::fs::metadata(f).ok()?;
    Some((m.blocks() * 512) as f64 / size as f64)
}

fn staging_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| {
            f.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("sqlvault-staging-")
        })
        .collect()
}

#[test]
fn sigterm_stops_backup_and_restore_with_exit_130_and_cleans_up() {
    let s = Scratch::new();
    let vault = Vault::init_unencrypted(&s, s.join("repo"));
    let small = s.join("small.db");
    make_fixture(&small, "delete", 4);
    let small_fp = fingerprint(&small);
    let p0 = vault.backup_one(&small);
    let big = s.join("big.db");
    make_blob_db(&big, "delete", BIG, 5);
    let big_fp = fingerprint(&big);
    let staging = s.join("staging");
    std::fs::create_dir(&staging).unwrap();

    // During the staging copy, and once the first pack is stored.
    for round in ["staging copy", "first pack"] {
        let packs = objects(&vault.repo, "packs").len();
        let mut c = vault.cmd();
        c.arg("--json")
            .arg("backup")
            .arg(&big)
            .args(["--staging", "copy", "--staging-dir"])
            .arg(&staging);
        let ended = signal_when(spawn(c), libc::SIGTERM, HANGS, |_| match round {
            "staging copy" => !staging_files(&staging).is_empty(),
            _ => objects(&vault.repo, "packs").len() > packs,
        });
        assert_eq!(
            ended.out.code, 130,
            "SIGTERM during the {round}: {}",
            ended.out.stderr
        );
        assert!(
            ended.out.stderr.contains("interrupted"),
            "{}",
            ended.out.stderr
        );
        assert_eq!(
            staging_files(&staging),
            Vec::<PathBuf>::new(),
            "staging copy left after SIGTERM during the {round}"
        );
        assert_eq!(point_ids(&vault), vec![p0.clone()]);
        assert_eq!(objects(&vault.repo, "tmp"), Vec::<PathBuf>::new());
        assert_verify_ok(&vault, &format!("SIGTERM during the {round}"));
    }
    assert!(staging_files(&s.tmpdir()).is_empty());

    let pb = vault.backup_one(&big);
    let size = std::fs::metadata(&big).unwrap().len();
    let dir = s.join("restore-here");
    std::fs::create_dir(&dir).unwrap();
    let target = dir.join("restored.db");
    let mut c = vault.cmd();
    c.arg("restore").arg(&pb).arg("--to").arg(&target);
    let ended = signal_when(spawn(c), libc::SIGTERM, HANGS, |_| {
        temporary_written(&dir, "restored.db", size).is_some_and(|w| w >= 0.3)
    });
    assert_eq!(ended.out.code, 130, "{}", ended.out.stderr);
    assert!(!target.exists(), "interrupted restore left the target");
    assert_eq!(
        files_under(&dir),
        Vec::<PathBuf>::new(),
        "interrupted restore left its temporary file"
    );

    for (p, fp) in [(&p0, &small_fp), (&pb, &big_fp)] {
        let t = dir.join("check.db");
        vault.restore(p, &t);
        assert_same_db(&t, fp);
        std::fs::remove_file(&t).unwrap();
    }
}

// ---------------------------------------------------------------------------
// Leftovers of killed runs: named so that the next run of the same kind finds
// them, and removed only when no running process holds them.

/// Hold an exclusive `flock` on `path` (created if needed), as a running
/// sqlvault holds the temporary files it is writing; released when dropped.
struct Held(#[allow(dead_code)] std::fs::File);

impl Held {
    fn new(path: &Path, content: &[u8]) -> Held {
        use std::os::fd::AsRawFd;
        std::fs::write(path, content).unwrap();
        let f = std::fs::File::open(path).unwrap();
        // SAFETY: flock on a descriptor we own.
        let rc = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        assert_eq!(rc, 0, "cannot lock {path:?}");
        Held(f)
    }
}

/// Restore temporaries (`.NAME.sqlvault-XXXXXX` and SQLite's files beside them) in `dir`.
fn restore_temporaries(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| {
            let n = f.file_name().unwrap().to_string_lossy().into_owned();
            n.starts_with('.') && n.contains(".sqlvault-")
        })
        .collect()
}

fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// Run `cmd`, SIGKILL it once `left` finds something, until a kill leaves
/// something behind (at most `tries` runs); returns what it left.
fn kill_until_left(
    tries: usize,
    cmd: impl Fn() -> Command,
    left: impl Fn() -> Vec<PathBuf>,
) -> Vec<PathBuf> {
    for _ in 0..tries {
        let ended = kill_when(spawn(cmd()), |_| !left().is_empty());
        let found = left();
        eprintln!("killed: {}, left: {found:?}", ended.killed);
        if ended.killed && !found.is_empty() {
            return found;
        }
    }
    panic!("no kill out of {tries} left anything behind");
}

fn warnings(report: &serde_json::Value) -> String {
    report["warnings"].to_string()
}

#[test]
fn the_next_restore_removes_what_a_killed_restore_left() {
    let s = Scratch::new();
    let vault = Vault::init_unencrypted(&s, s.join("repo"));
    let big = s.join("big.db");
    make_blob_db(&big, "delete", BIG, 6);
    let expected = fingerprint(&big);
    let size = std::fs::metadata(&big).unwrap().len();
    let point = vault.backup_one(&big);
    let dir = s.join("restores");
    std::fs::create_dir(&dir).unwrap();
    let target = dir.join("restored.db");
    let restore_cmd = || {
        let mut c = vault.cmd();
        c.arg("restore").arg(&point).arg("--to").arg(&target);
        c
    };
    let live = dir.join(".other.db.sqlvault-L1ve00");
    let written = || {
        if temporary_written(&dir, "restored.db", size).is_some_and(|w| w >= 0.3) {
            let mut t = restore_temporaries(&dir);
            t.retain(|f| *f != live);
            t
        } else {
            Vec::new()
        }
    };
    let stale = kill_until_left(3, restore_cmd, written);
    // A restore that is running now (its file held) must keep its file.
    let held = Held::new(&live, b"being written");

    // A restore to another target in the same directory removes them, and says so.
    let other = dir.join("other.db");
    let r = vault.restore(&point, &other);
    assert_same_db(&other, &expected);
    let w = warnings(&r);
    for n in names(&stale) {
        assert!(w.contains(&n), "no warning names {n}: {r:#}");
    }
    assert_eq!(restore_temporaries(&dir), vec![live.clone()]);
    assert_eq!(std::fs::read(&live).unwrap(), b"being written");

    // A restore to the same target does too.
    let stale = kill_until_left(3, restore_cmd, written);
    let r = vault.restore(&point, &target);
    assert_same_db(&target, &expected);
    for n in names(&stale) {
        assert!(warnings(&r).contains(&n), "no warning names {n}: {r:#}");
    }
    assert_eq!(restore_temporaries(&dir), vec![live.clone()]);

    // Once its holder is gone, it is stale too.
    drop(held);
    let third = dir.join("third.db");
    let r = vault.restore(&point, &third);
    assert!(warnings(&r).contains(".other.db.sqlvault-L1ve00"), "{r:#}");
    assert_eq!(restore_temporaries(&dir), Vec::<PathBuf>::new());
}

#[test]
fn the_next_backup_first_removes_a_staging_copy_a_killed_backup_left() {
    let s = Scratch::new();
    let vault = Vault::init_unencrypted(&s, s.join("repo"));
    let big = s.join("big.db");
    make_blob_db(&big, "delete", BIG, 7);
    // The default staging directory: the temp directory.
    let staging = s.tmpdir();
    let stale = kill_until_left(
        3,
        || {
            let mut c = vault.cmd();
            c.arg("backup").arg(&big).args(["--staging", "copy"]);
            c
        },
        || staging_files(&staging),
    );
    assert!(vault.points().is_empty());
    // Another backup's copy, in use right now.
    let live = staging.join("sqlvault-staging-L1ve00.db");
    let held = Held::new(&live, b"another backup's copy");

    // Even a backup that fails removes them first: they hold data unencrypted.
    let missing = s.join("missing.db");
    let out = vault.backup_with(&[&missing], &[]);
    out.expect_code(1);
    let r = out.json();
    for n in names(&stale) {
        assert!(warnings(&r).contains(&n), "no warning names {n}: {r:#}");
    }
    assert!(warnings(&r).contains("unencrypted"), "{r:#}");
    assert_eq!(staging_files(&staging), vec![live.clone()]);

    // With --staging-dir, that directory is the one cleaned.
    let dir = s.join("staging");
    std::fs::create_dir(&dir).unwrap();
    let stale = kill_until_left(
        3,
        || {
            let mut c = vault.cmd();
            c.arg("backup")
                .arg(&big)
                .args(["--staging", "copy", "--staging-dir"])
                .arg(&dir);
            c
        },
        || staging_files(&dir),
    );
    let small = s.join("small.db");
    make_fixture(&small, "wal", 8);
    let out = vault.backup_with(&[&small], &["--staging-dir", dir.to_str().unwrap()]);
    out.expect_code(0);
    for n in names(&stale) {
        assert!(warnings(&out.json()).contains(&n), "{}", out.stdout);
    }
    assert_eq!(staging_files(&dir), Vec::<PathBuf>::new());
    assert_eq!(staging_files(&staging), vec![live.clone()]);
    drop(held);
    let expected = fingerprint(&big);
    let point = vault.backup_one(&big);
    assert_eq!(staging_files(&staging), Vec::<PathBuf>::new());
    let t = s.join("restored.db");
    vault.restore(&point, &t);
    assert_same_db(&t, &expected);
}

#[test]
fn prune_and_backup_remove_tmp_files_killed_writers_left() {
    let s = Scratch::new();
    let vault = Vault::init_unencrypted(&s, s.join("repo"));
    let big = s.join("big.db");
    make_blob_db(&big, "delete", BIG, 9);
    let dbs = s.join("dbs");
    std::fs::create_dir(&dbs).unwrap();
    let policy = s.join("p.toml");
    std::fs::write(
        &policy,
        format!(
            r#"
[repository]
path = "{repo}"
password-env = "SQLVAULT_PASSWORD"

[[source]]
name = "local"
engine = "sqlite"
directory = "{dbs}"
auto-protect = true

[schedule]
time-zone = "UTC"
full = {{ frequency = "daily", at = "00:00" }}

[retention]
daily = 1
"#,
            repo = vault.repo.display(),
            dbs = dbs.display()
        ),
    )
    .unwrap();
    let tmp = vault.repo.join("tmp");
    let backup_cmd = || {
        let mut c = vault.cmd();
        c.arg("backup").arg(&big);
        c
    };
    let stale = kill_until_left(5, backup_cmd, || objects(&vault.repo, "tmp"));
    assert!(
        names(&stale).iter().all(|n| n.starts_with("put-")),
        "{stale:?}"
    );
    // An object being written right now.
    let live = tmp.join("put-L1ve00");
    let held = Held::new(&live, b"being written");

    let out = run(vault
        .cmd()
        .args(["--json", "prune", "--policy"])
        .arg(&policy));
    out.expect_code(0);
    assert!(
        out.json()["notes"].to_string().contains("tmp/"),
        "{}",
        out.stdout
    );
    assert_eq!(objects(&vault.repo, "tmp"), vec![live.clone()]);

    let _ = kill_until_left(5, backup_cmd, || {
        objects(&vault.repo, "tmp")
            .into_iter()
            .filter(|p| *p != live)
            .collect()
    });
    let small = s.join("small.db");
    make_fixture(&small, "delete", 10);
    vault.backup_one(&small);
    assert_eq!(objects(&vault.repo, "tmp"), vec![live.clone()]);
    drop(held);
    assert_verify_ok(&vault, "removing leftovers");
}
