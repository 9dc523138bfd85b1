//! SIGTERM stops a backup (during its staging copy, once a pack is stored)
//! and a restore with exit 130, and cleans up: no staging copy, no
//! temporary file, no restore point, a repository that verifies, and
//! every earlier point still restorable. What `kill -9` leaves is part of
//! the engine contract, tested for every engine in
//! tests/engine_conformance.rs.
//!
//! The repository here is unencrypted so that a ~60 MB backup takes long
//! enough in a debug build for the signal to land in the phase it aims at.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIG: usize = 60 << 20;

fn spawn(mut cmd: Command) -> Child {
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sqlvault")
}

/// How a child run ended.
struct Ended {
    code: Option<i32>,
    stderr: String,
}

/// Poll until `fire` says so (or the child exits), then send `signal` to
/// the child if it still runs.
fn signal_when(mut child: Child, signal: i32, fire: impl Fn(Duration) -> bool) -> Ended {
    let t0 = Instant::now();
    while child.try_wait().unwrap().is_none() && !fire(t0.elapsed()) {
        assert!(t0.elapsed() < Duration::from_secs(60), "child hangs");
        std::thread::sleep(Duration::from_millis(1));
    }
    if child.try_wait().unwrap().is_none() {
        // SAFETY: sending a signal to our own, not yet reaped, child.
        unsafe { libc::kill(child.id() as i32, signal) };
    }
    let o = child.wait_with_output().unwrap();
    let out = Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    };
    assert_no_password(&out);
    Ended {
        code: o.status.code(),
        stderr: out.stderr,
    }
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
        let ended = signal_when(spawn(c), libc::SIGTERM, |_| match round {
            "staging copy" => !staging_files(&staging).is_empty(),
            _ => objects(&vault.repo, "packs").len() > packs,
        });
        assert_eq!(
            ended.code,
            Some(130),
            "SIGTERM during the {round}: {}",
            ended.stderr
        );
        assert!(ended.stderr.contains("interrupted"), "{}", ended.stderr);
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
    let ended = signal_when(spawn(c), libc::SIGTERM, |_| {
        temporary_written(&dir, "restored.db", size).is_some_and(|w| w >= 0.3)
    });
    assert_eq!(ended.code, Some(130), "{}", ended.stderr);
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
