//! Everything that can go wrong around a backup fails with the documented
//! exit code and a one-line message, and leaves what was there intact:
//! bad sources, locked databases, wrong or missing passwords, paths that are
//! not repositories, existing restore targets, damaged repositories,
//! read-only and full file systems. No output ever shows the password.
//! A missing source and a target that exists are part of the engine
//! contract in tests/engine_conformance.rs.

use crate::common;

use common::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The one `sqlvault: error:` line, checked to be the only one, with at
/// most a `  hint:` line after it.
#[track_caller]
fn single_error(out: &Out) -> String {
    let errors = out.error_lines();
    assert_eq!(errors.len(), 1, "stderr:\n{}", out.stderr);
    for l in out.stderr.lines() {
        assert!(
            l.starts_with("sqlvault: error:") || l.starts_with("  hint:"),
            "unexpected stderr line {l:?} in:\n{}",
            out.stderr
        );
    }
    errors[0].to_string()
}

/// The `  hint:` line after the error, which must be there.
#[track_caller]
fn hint(out: &Out) -> String {
    out.stderr
        .lines()
        .find_map(|l| l.strip_prefix("  hint: "))
        .unwrap_or_else(|| panic!("no hint in:\n{}", out.stderr))
        .to_string()
}

fn set(paths: Vec<PathBuf>) -> BTreeSet<PathBuf> {
    paths.into_iter().collect()
}

/// A backup report item that failed, with no restore point.
#[track_caller]
fn failed_item(report: &Value, i: usize) -> &Value {
    let item = &report["databases"][i];
    assert_eq!(item["status"], "failed", "report: {report:#}");
    assert!(item["restore_point"].is_null());
    assert!(item["error"].is_string());
    item
}

#[test]
fn one_bad_source_does_not_stop_the_others() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let good = s.join("good.db");
    make_fixture(&good, "delete", 1);
    let expected = fingerprint(&good);
    let missing = s.join("missing.db");
    let out = vault.backup_with(&[&missing, &good], &[]);
    out.expect_code(1);
    let report = out.json();
    assert_eq!(report["status"], "partial");
    failed_item(&report, 0);
    assert_eq!(report["databases"][1]["status"], "ok");
    let point = point_of(&report["databases"][1]);
    assert_eq!(vault.points().len(), 1);
    let t = s.join("restored.db");
    vault.restore(&point, &t);
    assert_same_db(&t, &expected);
}

#[test]
fn files_that_are_not_sqlite_databases_are_refused() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let text = s.join("notes.txt");
    std::fs::write(&text, "just some text, not a database\n".repeat(200)).unwrap();
    // The right magic, then garbage.
    let fake = s.join("fake.db");
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(Rng::new(5).bytes(8192));
    std::fs::write(&fake, &bytes).unwrap();
    let empty = s.join("empty.db");
    std::fs::write(&empty, b"").unwrap();
    for (path, words) in [
        (&text, "not a SQLite database"),
        (&fake, ""),
        (&empty, "not a SQLite database"),
    ] {
        let before = std::fs::read(path).unwrap();
        let out = vault.backup_with(&[path], &[]);
        out.expect_code(1);
        let report = out.json();
        assert_eq!(report["status"], "failed");
        let item = failed_item(&report, 0);
        let line = single_error(&out);
        assert!(line.contains(path.to_str().unwrap()), "{line}");
        assert!(item["error"].as_str().unwrap().contains(words), "{line}");
        assert_eq!(std::fs::read(path).unwrap(), before, "source was modified");
    }
    let dir = s.join("a-directory.db");
    std::fs::create_dir(&dir).unwrap();
    let out = vault.backup_with(&[&dir], &[]);
    out.expect_code(1);
    let report = out.json();
    let item = failed_item(&report, 0);
    assert!(single_error(&out).contains("directory"));
    // What to give instead: a database file, or a policy for a directory.
    let h = hint(&out);
    assert!(h.contains("file") && h.contains("directory"), "{h}");
    assert_eq!(item["hint"].as_str(), Some(h.as_str()));
    assert!(vault.points().is_empty());
}

#[test]
fn locked_database_fails_after_the_busy_timeout() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let db = s.join("locked.db");
    make_fixture(&db, "delete", 2);
    let holder = open(&db);
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let t0 = Instant::now();
    let out = vault.backup_with(&[&db], &["--busy-timeout", "1"]);
    let took = t0.elapsed();
    out.expect_code(1);
    let report = out.json();
    assert_eq!(report["status"], "failed");
    failed_item(&report, 0);
    let line = single_error(&out);
    assert!(line.contains("locked"), "{line}");
    assert!(line.contains(db.to_str().unwrap()), "{line}");
    assert!(
        took >= Duration::from_millis(900),
        "gave up after {took:?}, before the 1 s busy timeout"
    );
    assert!(took < Duration::from_secs(8), "waited {took:?}");
    holder.execute_batch("COMMIT").unwrap();
    drop(holder);
    // Once the lock is gone the same backup works.
    let expected = fingerprint(&db);
    let point = vault.backup_one(&db);
    let t = s.join("restored.db");
    vault.restore(&point, &t);
    assert_same_db(&t, &expected);
}

#[test]
fn wrong_password_exits_3_with_one_line() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let db = s.join("app.db");
    make_fixture(&db, "wal", 3);
    let point = vault.backup_one(&db);
    let wrong = "Wrong-horse-battery-0000-staple";
    let before = set(files_under(&vault.repo));
    let target = s.join("restored.db");

    let with_wrong = |args: &[&str]| {
        let mut c = vault.cmd();
        c.env("SQLVAULT_PASSWORD", wrong).args(args);
        run(&mut c)
    };
    let mut outs = vec![
        with_wrong(&["points"]),
        with_wrong(&["verify"]),
        with_wrong(&["backup", db.to_str().unwrap()]),
        with_wrong(&["restore", &point, "--to", target.to_str().unwrap()]),
    ];
    let pw_file = s.join("wrong-password.txt");
    std::fs::write(&pw_file, format!("{wrong}\nsecond line ignored\n")).unwrap();
    let mut c = vault.cmd();
    c.env_remove("SQLVAULT_PASSWORD")
        .arg("--password-file")
        .arg(&pw_file)
        .arg("points");
    outs.push(run(&mut c));
    let key_file = s.join("wrong.key");
    std::fs::write(&key_file, "00".repeat(32)).unwrap();
    let mut c = vault.cmd();
    c.env_remove("SQLVAULT_PASSWORD")
        .arg("--key-file")
        .arg(&key_file)
        .arg("points");
    outs.push(run(&mut c));
    for out in &outs {
        out.expect_code(3);
        let line = single_error(out);
        assert!(line.contains("password") || line.contains("key"), "{line}");
        assert!(out.stdout.is_empty(), "stdout: {}", out.stdout);
        for text in [&out.stdout, &out.stderr] {
            assert!(!text.contains(wrong), "the wrong password was echoed");
        }
    }
    assert!(!target.exists());
    assert_eq!(
        set(files_under(&vault.repo)),
        before,
        "a command with the wrong password changed the repository"
    );

    // The right password from a file (first line only) works.
    let pw_file = s.join("password.txt");
    std::fs::write(&pw_file, format!("{PASSWORD}\nignored\n")).unwrap();
    let mut c = vault.cmd();
    c.env_remove("SQLVAULT_PASSWORD")
        .arg("--password-file")
        .arg(&pw_file)
        .args(["--json", "points"]);
    let out = run(&mut c);
    out.expect_code(0);
    assert_eq!(out.json().as_array().unwrap().len(), 1);
}

#[test]
fn no_password_and_no_terminal_exits_3() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let nopw = |args: &[&str], repo: &Path| {
        let mut c = s.command();
        c.arg("--repo").arg(repo).args(args);
        run(&mut c)
    };
    let out = nopw(&["points"], &vault.repo);
    out.expect_code(3);
    assert!(single_error(&out).contains("password"));
    let fresh = s.join("fresh-repo");
    let out = nopw(&["init"], &fresh);
    out.expect_code(3);
    single_error(&out);
    assert!(!fresh.join("config").exists());
    // An empty password is no password.
    let mut c = vault.cmd();
    c.env("SQLVAULT_PASSWORD", "").arg("points");
    let out = run(&mut c);
    out.expect_code(3);
    single_error(&out);
}

#[test]
fn path_that_is_not_a_repository_exits_2() {
    let s = Scratch::new();
    let db = s.join("app.db");
    make_fixture(&db, "delete", 4);
    let empty = s.join("empty-dir");
    std::fs::create_dir(&empty).unwrap();
    let cluttered = s.join("cluttered");
    std::fs::create_dir_all(cluttered.join("packs")).unwrap();
    std::fs::write(cluttered.join("README"), "not a repository").unwrap();
    let nowhere = s.join("does-not-exist");
    // A plain file is not a repository either (not a storage error).
    let plain = s.join("plain-file");
    std::fs::write(&plain, "just a file").unwrap();
    for dir in [&empty, &cluttered, &nowhere, &plain] {
        let before = set(files_under(dir));
        let vault = Vault {
            repo: dir.clone(),
            home: s.home(),
            password: Some(PASSWORD.into()),
        };
        let target = s.join("restored.db");
        for args in [
            vec!["points"],
            vec!["verify"],
            vec!["backup", db.to_str().unwrap()],
            vec!["restore", "latest", "--to", target.to_str().unwrap()],
        ] {
            let out = vault.run(&args);
            out.expect_code(2);
            let line = single_error(&out);
            assert!(line.contains("not a sqlvault repository"), "{line}");
        }
        assert!(!target.exists());
        assert_eq!(set(files_under(dir)), before, "{dir:?} was changed");
        assert_eq!(dir.exists(), dir != &nowhere);
    }
    assert_eq!(std::fs::read(&plain).unwrap(), b"just a file");
    // `init` cannot make a repository of a file: a usage error, the file untouched.
    let vault = Vault {
        repo: plain.clone(),
        home: s.home(),
        password: Some(PASSWORD.into()),
    };
    for args in [vec!["init"], vec!["init", "--no-encryption"]] {
        let out = vault.run(&args);
        out.expect_code(2);
        let line = single_error(&out);
        assert!(
            line.contains("plain-file") && line.contains("not a directory"),
            "{line}"
        );
        hint(&out);
    }
    assert_eq!(std::fs::read(&plain).unwrap(), b"just a file");
}

#[test]
fn init_twice_exits_2_and_keeps_the_repository() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let config = std::fs::read(vault.repo.join("config")).unwrap();
    let keys = set(objects(&vault.repo, "keys"));
    for args in [vec!["init"], vec!["init", "--no-encryption"]] {
        let out = vault.run(&args);
        out.expect_code(2);
        assert!(single_error(&out).contains("already"));
    }
    assert_eq!(std::fs::read(vault.repo.join("config")).unwrap(), config);
    assert_eq!(set(objects(&vault.repo, "keys")), keys);
    // Bad levels are usage errors too.
    let out = run(bare_command(&s.home())
        .env("SQLVAULT_PASSWORD", PASSWORD)
        .arg("--repo")
        .arg(s.join("other"))
        .args(["init", "--compression", "0"]));
    out.expect_code(2);
    assert!(!s.join("other").join("config").exists());
    let db = s.join("x.db");
    make_fixture(&db, "delete", 5);
    let out = vault.backup_with(&[&db], &["--compression", "23"]);
    out.expect_code(2);
    assert!(vault.points().is_empty());
}

#[test]
fn companion_files_belong_to_the_target() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let db = s.join("app.db");
    make_fixture(&db, "delete", 6);
    let expected = fingerprint(&db);
    let point = vault.backup_one(&db);

    // Stale companions of the old file must not survive a forced restore.
    let target = s.join("precious.db");
    std::fs::write(&target, b"precious data").unwrap();
    let wal = s.join("precious.db-wal");
    let shm = s.join("precious.db-shm");
    let journal = s.join("precious.db-journal");
    for f in [&wal, &shm, &journal] {
        std::fs::write(f, Rng::new(7).bytes(4096)).unwrap();
    }
    let out = vault.restore_with(&point, &target, &["--force"]);
    out.expect_code(0);
    assert_eq!(out.json()["status"], "ok");
    for f in [&wal, &shm, &journal] {
        assert!(!f.exists(), "stale {f:?} left beside the restored database");
    }
    assert_same_db(&target, &expected);

    // A lone stale -wal is an existing database too.
    let other = s.join("other.db");
    let other_wal = s.join("other.db-wal");
    std::fs::write(&other_wal, b"stale").unwrap();
    let out = vault.restore_with(&point, &other, &[]);
    out.expect_code(2);
    assert!(single_error(&out).contains("already exists"));
    assert!(!other.exists());
    assert_eq!(std::fs::read(&other_wal).unwrap(), b"stale");

    // A directory is not a place to restore to, even with --force.
    let dir = s.join("dir.db");
    std::fs::create_dir(&dir).unwrap();
    vault
        .restore_with(&point, &dir, &["--force"])
        .expect_code(2);
    assert!(dir.is_dir());
}

#[test]
fn unknown_or_malformed_point_ids_exit_2() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let target = s.join("t.db");
    // Nothing to restore yet.
    vault.restore_with("latest", &target, &[]).expect_code(2);
    let db = s.join("app.db");
    make_fixture(&db, "delete", 8);
    let point = vault.backup_one(&db);
    let absent = if point.starts_with("deadbeef") {
        "feedface"
    } else {
        "deadbeef"
    };
    let full_absent = format!("{absent}{}", &point[8..]);
    for spec in [absent, full_absent.as_str(), "abc", "zzzz", &point[..3], ""] {
        let out = vault.restore_with(spec, &target, &[]);
        out.expect_code(2);
        single_error(&out);
        assert!(!target.exists(), "restore of {spec:?} created the target");
    }
}

#[test]
fn latest_of_a_database_without_points_names_the_databases_that_have_some() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let target = s.join("t.db");
    let out = vault.restore_with("latest", &target, &["--database", "nosuch"]);
    out.expect_code(2);
    assert!(single_error(&out).contains("no restore points yet"));
    for (name, seed) in [("app", 10), ("billing", 11)] {
        let db = s.join(&format!("{name}.db"));
        make_fixture(&db, "delete", seed);
        vault.backup_one(&db);
    }
    let out = vault.restore_with("latest", &target, &["--database", "nosuch"]);
    out.expect_code(2);
    let line = single_error(&out);
    assert!(line.contains("`nosuch`"), "{line}");
    assert!(!line.contains("no restore points yet"), "{line}");
    let h = hint(&out);
    assert!(h.contains("app") && h.contains("billing"), "{h}");
    assert!(!target.exists());
}

/// The report of a restore that failed: one failed item, the error in it.
#[track_caller]
fn failed_restore_report(out: &Out, error_words: &str) -> Value {
    let report = out.json();
    assert_eq!(report["command"], "restore", "{report:#}");
    assert_eq!(report["status"], "failed", "{report:#}");
    let items = report["databases"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{report:#}");
    assert_eq!(items[0]["status"], "failed");
    let error = items[0]["error"].as_str().unwrap();
    assert!(error.contains(error_words), "{error}");
    let line = single_error(out);
    assert!(line.contains(error_words), "{line}");
    report
}

#[test]
fn a_failed_restore_ends_with_its_report_and_keeps_its_exit_code() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let db = s.join("app.db");
    make_fixture(&db, "delete", 12);
    let point = vault.backup_one(&db);
    let target = s.join("existing.db");
    std::fs::write(&target, b"keep me").unwrap();

    // The target exists: usage error (2), with the report on stdout.
    let out = vault.restore_with(&point, &target, &[]);
    out.expect_code(2);
    let report = failed_restore_report(&out, "already exists");
    let item = &report["databases"][0];
    assert_eq!(item["database"], "app");
    assert_eq!(item["restore_point"].as_str(), Some(point.as_str()));
    assert!(item["hint"].as_str().unwrap().contains("--force"));
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");

    // No such point: still a report, still 2.
    let out = vault.restore_with("latest", &s.join("new.db"), &["--database", "nosuch"]);
    out.expect_code(2);
    failed_restore_report(&out, "nosuch");

    // As a table for people, the error line after it.
    let out = vault.run_os(&[
        "restore".as_ref(),
        point.as_ref(),
        "--to".as_ref(),
        target.as_os_str(),
    ]);
    out.expect_code(2);
    assert!(out.stdout.contains("restore FAILED"), "{}", out.stdout);
    assert!(out.stdout.contains("already exists"), "{}", out.stdout);
    assert!(single_error(&out).contains("already exists"));

    // Damaged data: 4, with the report.
    for pack in objects(&vault.repo, "packs") {
        let mut bytes = std::fs::read(&pack).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x10;
        std::fs::write(&pack, &bytes).unwrap();
    }
    let fresh = s.join("fresh.db");
    let out = vault.restore_with(&point, &fresh, &[]);
    out.expect_code(4);
    failed_restore_report(&out, "corrupt");
    assert!(!fresh.exists());

    // The failed runs are in the history too.
    let out = vault.run(&["--json", "sessions"]);
    out.expect_code(0);
    let failed = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["command"] == "restore" && r["status"] == "failed")
        .count();
    assert_eq!(failed, 4, "{}", out.stdout);
}

#[test]
fn init_refuses_a_key_file_shorter_than_32_bytes() {
    let s = Scratch::new();
    let repo = s.join("repo");
    let init_with = |key: &Path| {
        let mut c = s.command();
        c.arg("--repo")
            .arg(&repo)
            .arg("--key-file")
            .arg(key)
            .arg("init");
        run(&mut c)
    };
    let short = s.join("short.key");
    std::fs::write(&short, b"abcde").unwrap();
    let out = init_with(&short);
    out.expect_code(2);
    let line = single_error(&out);
    assert!(line.contains("short.key") && line.contains("32"), "{line}");
    assert!(
        hint(&out).contains("head -c 32 /dev/urandom"),
        "{}",
        out.stderr
    );
    assert!(!repo.join("config").exists());
    // One byte short is short.
    std::fs::write(&short, Rng::new(12).bytes(31)).unwrap();
    init_with(&short).expect_code(2);
    assert!(!repo.join("config").exists());

    // 32 random bytes, as the hint makes them, whatever bytes they end with.
    let good = s.join("good.key");
    let mut key = Rng::new(13).bytes(32);
    key[31] = b'\n';
    std::fs::write(&good, &key).unwrap();
    init_with(&good).expect_code(0);
    let mut c = s.command();
    c.arg("--repo")
        .arg(&repo)
        .arg("--key-file")
        .arg(&good)
        .args(["--json", "points"]);
    run(&mut c).expect_code(0);
}

/// A repository with two points whose data lives in separate packs.
struct TwoPoints {
    s: Scratch,
    vault: Vault,
    a: String,
    b: String,
    a_expected: Fingerprint,
    b_db: PathBuf,
    /// Objects the second backup added.
    b_packs: Vec<PathBuf>,
    b_index: Vec<PathBuf>,
}

fn two_points(encrypted: bool) -> TwoPoints {
    let s = Scratch::new();
    let vault = if encrypted {
        Vault::init(&s, s.join("repo"))
    } else {
        Vault::init_unencrypted(&s, s.join("repo"))
    };
    let a_db = s.join("a.db");
    let b_db = s.join("b.db");
    make_blob_db(&a_db, "delete", 1 << 20, 100);
    make_blob_db(&b_db, "delete", 1 << 20, 200);
    let a_expected = fingerprint(&a_db);
    let a = vault.backup_one(&a_db);
    let packs = set(objects(&vault.repo, "packs"));
    let index = set(objects(&vault.repo, "index"));
    let b = vault.backup_one(&b_db);
    let b_packs: Vec<PathBuf> = set(objects(&vault.repo, "packs"))
        .difference(&packs)
        .cloned()
        .collect();
    let b_index: Vec<PathBuf> = set(objects(&vault.repo, "index"))
        .difference(&index)
        .cloned()
        .collect();
    assert!(!b_packs.is_empty() && b_index.len() == 1);
    TwoPoints {
        s,
        vault,
        a,
        b,
        a_expected,
        b_db,
        b_packs,
        b_index,
    }
}

impl TwoPoints {
    /// Restoring the damaged point fails with exit 4 and leaves nothing.
    fn assert_b_unrestorable(&self) -> String {
        let out_dir = self.s.join("out-b");
        std::fs::create_dir_all(&out_dir).unwrap();
        let target = out_dir.join("b.db");
        let out = self.vault.restore_with(&self.b, &target, &[]);
        out.expect_code(4);
        let line = single_error(&out);
        assert!(!target.exists(), "a damaged point was restored");
        assert!(
            files_under(&out_dir).is_empty(),
            "failed restore left {:?}",
            files_under(&out_dir)
        );
        line
    }

    /// `verify` fails on the damaged point only, and names it.
    fn assert_verify_names_b(&self) -> Value {
        let out = self.vault.verify(false);
        out.expect_code(1);
        let report = out.json();
        assert_ne!(report["status"], "ok");
        let items = report["databases"].as_array().unwrap();
        let status = |id: &str| {
            items
                .iter()
                .find(|i| i["restore_point"] == id)
                .unwrap_or_else(|| panic!("verify does not list {id}: {report:#}"))["status"]
                .clone()
        };
        assert_eq!(status(&self.b), "failed");
        assert_eq!(status(&self.a), "ok");
        // The failed point's item says why; nothing charges the intact one.
        let b_item = items.iter().find(|i| i["restore_point"] == self.b).unwrap();
        assert!(
            b_item["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{report:#}"
        );
        assert!(!report["errors"].to_string().contains(&self.a[..8]));
        report
    }

    /// The undamaged point still restores exactly.
    fn assert_a_restores(&self) {
        let t = self.s.join("a-restored.db");
        let _ = std::fs::remove_file(&t);
        self.vault.restore(&self.a, &t);
        assert_same_db(&t, &self.a_expected);
    }
}

#[test]
fn corrupted_pack_is_detected_and_contained() {
    for encrypted in [true, false] {
        let tp = two_points(encrypted);
        let pack = &tp.b_packs[0];
        let mut bytes = std::fs::read(pack).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x40;
        std::fs::write(pack, &bytes).unwrap();

        let line = tp.assert_b_unrestorable();
        assert!(line.contains("corrupt"), "{line}");
        let report = tp.assert_verify_names_b();
        let pack_id = pack.file_name().unwrap().to_str().unwrap();
        assert!(
            report["errors"].to_string().contains(pack_id),
            "verify does not name the damaged pack: {report:#}"
        );
        tp.assert_a_restores();
        // The deeper check agrees.
        let out = tp.vault.verify(true);
        out.expect_code(1);
    }
}

#[test]
fn deleted_pack_is_detected_and_contained() {
    let tp = two_points(true);
    let pack = &tp.b_packs[0];
    std::fs::remove_file(pack).unwrap();
    let line = tp.assert_b_unrestorable();
    let pack_id = pack.file_name().unwrap().to_str().unwrap();
    assert!(
        line.contains(pack_id) || line.contains("missing") || line.contains("does not exist"),
        "{line}"
    );
    let report = tp.assert_verify_names_b();
    assert!(report["errors"].to_string().contains("missing"));
    tp.assert_a_restores();
}

#[test]
fn truncated_pack_is_damage_not_a_storage_error() {
    let tp = two_points(true);
    let pack = &tp.b_packs[0];
    let len = std::fs::metadata(pack).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(pack)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let out_dir = tp.s.join("out-b");
    std::fs::create_dir_all(&out_dir).unwrap();
    let target = out_dir.join("b.db");
    let out = tp.vault.restore_with(&tp.b, &target, &[]);
    // Damaged (4), not a storage error (5) that trying again would fix.
    out.expect_code(4);
    let line = single_error(&out);
    let pack_id = pack.file_name().unwrap().to_str().unwrap();
    assert!(line.contains(pack_id), "{line}");
    assert!(
        line.contains("truncated") || line.contains("shorter"),
        "{line}"
    );
    let h = hint(&out);
    assert!(!h.contains("try again"), "{h}");
    assert!(h.contains("verify"), "{h}");
    assert!(files_under(&out_dir).is_empty());
    tp.assert_verify_names_b();
    tp.assert_a_restores();
}

#[test]
fn deleted_index_is_detected_and_the_repository_stays_usable() {
    let tp = two_points(true);
    std::fs::remove_file(&tp.b_index[0]).unwrap();
    // An index is a cache of what the packs hold: B still restores, found
    // through its packs' footers, and verify names no point.
    let t = tp.s.join("b-from-packs.db");
    let r = tp.vault.restore(&tp.b, &t);
    assert!(
        r["warnings"].to_string().contains("sqlvault repair"),
        "{r:#}"
    );
    std::fs::remove_file(&t).unwrap();
    let out = tp.vault.verify(false);
    out.expect_code(0);
    let report = out.json();
    assert_eq!(report["status"], "ok", "{report:#}");
    // B's packs are now in no index: reported, with what to do.
    let warnings = report["warnings"].to_string();
    for p in &tp.b_packs {
        assert!(
            warnings.contains(p.file_name().unwrap().to_str().unwrap()),
            "{warnings}"
        );
    }
    tp.assert_a_restores();
    // Backing up the same database again stores it afresh.
    let expected = fingerprint(&tp.b_db);
    let again = tp.vault.backup_one(&tp.b_db);
    let t = tp.s.join("b-again.db");
    tp.vault.restore(&again, &t);
    assert_same_db(&t, &expected);
}

#[test]
fn damage_to_an_older_point_is_reported_for_every_point_that_needs_it() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let db = s.join("app.db");
    make_blob_db(&db, "delete", 2 << 20, 400);
    let p1 = vault.backup_one(&db);
    let p1_packs = objects(&vault.repo, "packs");
    // One byte changed in every row: no chunk of the new point is an old
    // chunk, each at most differs from one by a few bytes.
    open(&db)
        .execute(
            "UPDATE blobs SET data = CAST(substr(data, 1, 100) || X'00' || substr(data, 102) AS BLOB)",
            [],
        )
        .unwrap();
    let expected = fingerprint(&db);
    let p2 = vault.backup_one(&db);
    let t = s.join("p2.db");
    vault.restore(&p2, &t);
    assert_same_db(&t, &expected);
    std::fs::remove_file(&t).unwrap();

    for pack in &p1_packs {
        let mut bytes = std::fs::read(pack).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x20;
        std::fs::write(pack, &bytes).unwrap();
    }
    let out = vault.verify(false);
    out.expect_code(1);
    let report = out.json();
    assert_eq!(report["status"], "failed", "{report:#}");
    for p in [&p1, &p2] {
        let item = report["databases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["restore_point"] == p.as_str())
            .unwrap_or_else(|| panic!("verify does not list {p}"));
        assert_eq!(item["status"], "failed", "{report:#}");
    }
    for p in [&p1, &p2] {
        let out = vault.restore_with(p, &t, &[]);
        out.expect_code(4);
        assert!(single_error(&out).contains("corrupt"));
        assert!(!t.exists());
    }

    // Backing up again (every row changed again) makes a sound point: it
    // must not build on the damaged data.
    open(&db)
        .execute(
            "UPDATE blobs SET data = CAST(substr(data, 1, 200) || X'01' || substr(data, 202) AS BLOB)",
            [],
        )
        .unwrap();
    let expected = fingerprint(&db);
    let p3 = vault.backup_one(&db);
    vault.restore(&p3, &t);
    assert_same_db(&t, &expected);
}

/// Flip one byte in the middle of point B's manifest.
fn damage_manifest_of_b(tp: &TwoPoints) {
    let manifest = tp.vault.repo.join("points").join(&tp.b);
    let mut bytes = std::fs::read(&manifest).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&manifest, &bytes).unwrap();
}

#[test]
fn damaged_manifest_blocks_only_its_own_point() {
    let tp = two_points(true);
    damage_manifest_of_b(&tp);
    let line = tp.assert_b_unrestorable();
    assert!(line.contains("corrupt"), "{line}");
    tp.assert_verify_names_b();
    // A's manifest and data are intact: restoring it by its id must work.
    tp.assert_a_restores();
}

#[test]
fn backup_still_works_when_another_manifest_is_damaged() {
    let tp = two_points(true);
    damage_manifest_of_b(&tp);
    let c = tp.s.join("c.db");
    make_blob_db(&c, "delete", 512 << 10, 300);
    let expected = fingerprint(&c);
    let point = tp.vault.backup_one(&c);
    let t = tp.s.join("c-restored.db");
    tp.vault.restore(&point, &t);
    assert_same_db(&t, &expected);
}

#[test]
fn read_only_repository_location_exits_5() {
    let s = Scratch::new();
    let ro = s.join("ro");
    let _mount;
    if is_root() {
        _mount = Some(
            TmpfsMount::new(&ro, "ro,size=1m")
                .unwrap_or_else(|e| panic!("running as root, but {e}")),
        );
    } else {
        _mount = None;
        std::fs::create_dir(&ro).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    for repo in [ro.clone(), ro.join("sub")] {
        let vault = Vault {
            repo: repo.clone(),
            home: s.home(),
            password: Some(PASSWORD.into()),
        };
        for args in [vec!["init"], vec!["init", "--no-encryption"]] {
            let out = vault.run(&args);
            out.expect_code(5);
            let line = single_error(&out);
            assert!(
                line.contains("permission") || line.contains("read-only"),
                "{line}"
            );
        }
        assert!(!repo.join("config").exists());
    }
}

#[test]
fn repository_on_a_read_only_mount_can_be_read_but_not_written() {
    if !is_root() {
        eprintln!("skipped: remounting read-only needs root");
        return;
    }
    let s = Scratch::new();
    let mount = TmpfsMount::new(&s.join("mnt"), "size=16m").unwrap();
    let vault = Vault::init(&s, mount.path().join("repo"));
    let db = s.join("app.db");
    make_fixture(&db, "delete", 9);
    let expected = fingerprint(&db);
    let point = vault.backup_one(&db);
    mount.remount("ro");
    assert_eq!(vault.points().len(), 1);
    vault.verify(true).expect_code(0);
    let t = s.join("restored.db");
    vault.restore(&point, &t);
    assert_same_db(&t, &expected);
    {
        let mut c = open(&db);
        add_fixture_rows(&mut c, 9, 400, 420);
    }
    let out = vault.backup_with(&[&db], &[]);
    // Like a full disk: a storage error (5), and the report says which database.
    out.expect_code(5);
    assert_eq!(out.json()["status"], "failed");
    let line = single_error(&out);
    assert!(
        line.contains("permission") || line.contains("read-only"),
        "{line}"
    );
    mount.remount("rw");
    let expected = fingerprint(&db);
    let point = vault.backup_one(&db);
    let t = s.join("restored-2.db");
    vault.restore(&point, &t);
    assert_same_db(&t, &expected);
}

/// A repository on a `size_mib` tmpfs: a small point, then a 30 MB backup
/// that cannot fit, then a backup of `next_bytes` that must fit again.
fn full_disk(size_mib: u32, next_bytes: usize) {
    let s = Scratch::new();
    let mount = TmpfsMount::new(&s.join("small-disk"), &format!("size={size_mib}m")).unwrap();
    let vault = Vault::init_unencrypted(&s, mount.path().join("repo"));
    let small = s.join("small.db");
    make_blob_db(&small, "delete", 300 << 10, 1);
    let small_expected = fingerprint(&small);
    let first = vault.backup_one(&small);
    let packs_before = set(objects(&vault.repo, "packs"));

    let big = s.join("big.db");
    make_blob_db(&big, "delete", 30 << 20, 2);
    let out = vault.backup_with(&[&big], &[]);
    // A storage error (5), as the README's table says, not a database's (1).
    out.expect_code(5);
    let report = out.json();
    assert_eq!(report["status"], "failed");
    let item = failed_item(&report, 0);
    assert_eq!(item["error_kind"], "storage", "{report:#}");
    let line = single_error(&out).to_lowercase();
    assert!(
        line.contains("no space") || line.contains("disk full"),
        "{line}"
    );
    assert!(hint(&out).contains("free space"), "{}", out.stderr);
    // Nothing half-written stays behind to hold the space.
    assert_eq!(set(objects(&vault.repo, "packs")), packs_before);
    assert_eq!(objects(&vault.repo, "tmp"), Vec::<PathBuf>::new());
    assert_eq!(vault.points().len(), 1);

    let out = vault.verify(false);
    out.expect_code(0);
    assert_eq!(out.json()["status"], "ok");
    let t = s.join("small-restored.db");
    vault.restore(&first, &t);
    assert_same_db(&t, &small_expected);

    // The space is free again: the next backup succeeds.
    let next = s.join("next.db");
    make_blob_db(&next, "delete", next_bytes, 3);
    let next_expected = fingerprint(&next);
    let point = vault.backup_one(&next);
    let t = s.join("next-restored.db");
    vault.restore(&point, &t);
    assert_same_db(&t, &next_expected);
    vault.verify(false).expect_code(0);
}

#[test]
fn full_disk_fails_the_backup_and_keeps_the_repository_usable() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    // No room for even one 16 MiB pack.
    full_disk(8, 1 << 20);
    // Room for one pack but not a second: the first must not stay behind,
    // or a backup needing most of the disk would fail.
    full_disk(20, 12 << 20);
}

#[test]
fn one_database_failing_on_a_full_disk_makes_the_run_a_storage_error() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let s = Scratch::new();
    let mount = TmpfsMount::new(&s.join("small-disk"), "size=8m").unwrap();
    let vault = Vault::init_unencrypted(&s, mount.path().join("repo"));
    let missing = s.join("missing.db");
    let big = s.join("big.db");
    make_blob_db(&big, "delete", 20 << 20, 4);
    let out = vault.backup_with(&[&missing, &big], &[]);
    // One database is missing (1), the other hit the full disk (5): the
    // storage error decides, and the report says which failed how.
    out.expect_code(5);
    let report = out.json();
    assert_eq!(failed_item(&report, 0)["error_kind"], "database");
    assert_eq!(failed_item(&report, 1)["error_kind"], "storage");
}

#[test]
fn restore_to_a_full_disk_exits_5_with_a_hint_and_leaves_nothing() {
    if !is_root() {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    }
    let s = Scratch::new();
    let vault = Vault::init_unencrypted(&s, s.join("repo"));
    let db = s.join("big.db");
    make_blob_db(&db, "delete", 12 << 20, 5);
    let expected = fingerprint(&db);
    let point = vault.backup_one(&db);
    let mount = TmpfsMount::new(&s.join("small-disk"), "size=4m").unwrap();
    let target = mount.path().join("restored.db");
    let out = vault.restore_with(&point, &target, &[]);
    out.expect_code(5);
    let line = single_error(&out).to_lowercase();
    assert!(
        line.contains("no space") || line.contains("disk full"),
        "{line}"
    );
    assert!(line.contains("restored.db"), "{line}");
    assert!(hint(&out).contains("free space"), "{}", out.stderr);
    failed_restore_report(&out, "");
    assert!(!target.exists());
    assert_eq!(files_under(mount.path()), Vec::<PathBuf>::new());
    // Somewhere with room it restores.
    let t = s.join("restored.db");
    vault.restore(&point, &t);
    assert_same_db(&t, &expected);
}

#[test]
fn restore_into_a_read_only_directory_exits_5() {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let db = s.join("app.db");
    make_fixture(&db, "delete", 14);
    let point = vault.backup_one(&db);
    let ro = s.join("ro");
    let _mount;
    if is_root() {
        _mount = Some(
            TmpfsMount::new(&ro, "ro,size=1m")
                .unwrap_or_else(|e| panic!("running as root, but {e}")),
        );
    } else {
        _mount = None;
        std::fs::create_dir(&ro).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    }
    let target = ro.join("restored.db");
    let out = vault.restore_with(&point, &target, &[]);
    out.expect_code(5);
    let line = single_error(&out);
    assert!(
        line.contains("permission") || line.contains("read-only"),
        "{line}"
    );
    assert!(line.contains("`"), "{line}");
    hint(&out);
    failed_restore_report(&out, "");
    assert!(!target.exists());
}
