//! The engine contract: what every database engine of sqlvault must do,
//! tested the same way for each through a small per-engine [`Harness`].
//!
//! The contract, for every engine:
//!
//! 1. **Round trip.** A backup's restore point says where it came from;
//!    `show --json` lists every table with the row count the source holds;
//!    a restore reports a `full:` check in which every fingerprint matches,
//!    and the restored database equals the source (schema and contents).
//!    Secrets never show, an unchanged database stores almost nothing new,
//!    and `verify --restore` test-restores every point.
//! 2. **Busy writers.** Backups taken while writers move money between
//!    accounts each hold one committed state: the money adds up, the
//!    transfer log agrees with the balances, and the state lies within the
//!    backup's own run; restoring it passes the fingerprint check.
//! 3. **Altered row.** A restore whose data changed after loading (the
//!    debug-build fault `SQLVAULT_TEST_FAULT=alter-row`) fails with exit 1,
//!    names the table, and leaves neither target nor temporaries;
//!    `verify --restore` fails the point naming the table; without the
//!    fault the same restore works, and `--check none` lets the altered
//!    data through (so the check is what caught it).
//! 4. **Quick check.** `--check quick` restores and says `quick:`.
//! 5. **kill -9.** Killing a backup at random moments leaves a repository
//!    that verifies and in which every earlier point restores; killing a
//!    restore leaves no half target and no temporaries.
//! 6. **Bad input.** A missing source (exit 1), wrong database credentials
//!    where an engine has them (backup 1, restore 3), an existing target
//!    without `--force`/`--clean` (exit 2): one `sqlvault: error:` line,
//!    no secret in any output, nothing half-written.
//!
//! 7. **Replacing never loses** and 8. **dropped connections**
//!    (`engine_conformance/faults.rs`).
//!
//! An item that cannot apply to an engine (busy writers and logins, for a
//! package file) leaves that engine out of its list.
//!
//! A new engine (MariaDB, BACPAC) plugs in with one file in
//! `tests/engine_conformance/`: a type implementing [`Harness`] (and
//! [`Credentials`] if its databases have logins), declared as a module
//! here and added to each item's list in the `contract!` invocation at the
//! end of this file (`mariadb: crate::mariadb_harness::MariaDb`). The
//! harness names databases by short labels ("src", "dst", "bank"), maps
//! them to files or server databases private to its test, creates the
//! fixtures, compares databases with the engine's own tools, and says what
//! counts as a leftover. Everything the contract asserts lives here, so
//! every engine is held to the same rules. Tests needing a server fail,
//! never skip, when it cannot be started.

mod bacpac_common;
mod common;
mod mariadb_common;
mod pg_common;

#[path = "engine_conformance/bacpac.rs"]
mod bacpac_harness;
#[path = "engine_conformance/faults.rs"]
mod faults;
#[path = "engine_conformance/mariadb.rs"]
mod mariadb_harness;
#[path = "engine_conformance/postgres.rs"]
mod postgres_harness;
#[path = "engine_conformance/sqlite.rs"]
mod sqlite_harness;
#[path = "engine_conformance/support.rs"]
mod support;

use common::{Out, Scratch, Vault, point_of};
use faults::{dropped_connections_fail_cleanly, replacing_never_loses_the_target};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::{Mover, Writer, kill_when, row_difference, single_error, spawn, within};

/// The fault that makes every restore drop one row after loading.
const FAULT: (&str, &str) = ("SQLVAULT_TEST_FAULT", "alter-row");

/// One way to back up a database under busy writers.
pub struct Busy {
    pub label: &'static str,
    /// Engine-specific set-up of the bank (e.g. a SQLite journal mode).
    pub setup: &'static str,
    pub backup_args: Vec<String>,
    /// Writer threads.
    pub movers: usize,
    /// Backups taken while they write.
    pub rounds: usize,
    /// Whether the backups must be seen writing a staging copy.
    pub expect_staging: bool,
    /// Transfers that must commit while each backup runs, at least.
    pub min_commits_during: u64,
}

/// What a bank database holds, its invariants already checked.
pub struct Bank {
    /// The sum of every balance.
    pub total: i64,
    /// Transfers logged.
    pub transfers: i64,
}

/// Says when a moment has come; polled every millisecond or so.
pub type Probe = Box<dyn FnMut() -> bool>;

/// A moment of a restore worth a kill: what it is, and its probe.
pub type Milestone = (&'static str, Probe);

/// When to kill a run.
enum Moment {
    After(Duration),
    When(Probe),
}

/// One engine as the contract drives it.
pub trait Harness: Sized + Sync {
    /// `engine` of its restore points.
    const ENGINE: &'static str;
    /// The flag that lets a restore replace an existing target.
    const REPLACE_FLAG: &'static str;
    /// The sum of all balances of a bank.
    const BANK_TOTAL: i64;

    /// A fresh harness for one test (`test` is a short, unique label).
    fn new(test: &str) -> Self;
    fn scratch(&self) -> &Scratch;
    /// Give a command what it needs to reach the databases.
    fn env(&self, _cmd: &mut Command) {}
    /// Strings that must never appear in any output.
    fn secrets(&self) -> Vec<String> {
        Vec::new()
    }

    /// The backup argument for database `db`.
    fn source(&self, db: &str) -> String;
    /// The `source` its restore points record.
    fn shown_source(&self, db: &str) -> String;
    /// The `database` reports name it by.
    fn database_name(&self, db: &str) -> String;
    /// The `--to` argument restoring into database `db`.
    fn target(&self, db: &str) -> String;
    /// Extra flags `verify --restore` needs to test-restore this engine.
    fn verify_args(&self) -> Vec<String> {
        Vec::new()
    }

    /// A database with a few tables (NULLs, blobs, unicode), a few hundred
    /// to a few thousand rows.
    fn create_fixture(&self, db: &str);
    /// A database with one small table.
    fn create_small(&self, db: &str);
    /// Rows per table, named as fingerprints name them.
    fn row_counts(&self, db: &str) -> BTreeMap<String, u64>;
    type Snapshot;
    /// Schema and contents, to compare a restored database with.
    fn snapshot(&self, db: &str) -> Self::Snapshot;
    #[track_caller]
    fn assert_same(&self, expected: &Self::Snapshot, db: &str);
    /// The check a restore reports when `n` fingerprints (`full`) or row
    /// counts (`quick`) matched.
    fn expected_check(&self, level: &str, n: usize) -> String;
    /// Engine-specific things `show --json` of a fixture point must say.
    fn check_show(&self, _shown: &Value) {}

    /// Whether database `db` (or any part of it) exists.
    fn exists(&self, db: &str) -> bool;
    /// Whether `db` is a target marked as still being restored. Only an
    /// engine that cannot rename a database (MariaDB) builds a target
    /// under its own name; the mark tells every later restore that a
    /// killed one left it, and the next restore replaces it.
    fn incomplete(&self, _db: &str) -> bool {
        false
    }
    fn remove(&self, db: &str);
    /// Temporaries a backup, restore or verify left behind.
    fn leftovers(&self) -> Vec<String>;
    fn remove_leftovers(&self);
    /// A target that is in use: not empty, with something precious in it.
    fn create_occupied(&self, db: &str);
    fn occupied_unchanged(&self, db: &str) -> bool;
    /// What the error refusing occupied target `db` must contain.
    fn occupied_message(&self, db: &str) -> String;
    /// What the error for a missing source `db` must contain.
    fn missing_message(&self, db: &str) -> String;

    fn busy_variants(&self) -> Vec<Busy>;
    fn create_bank(&self, db: &str, variant: &Busy);
    fn mover(&self, db: &str, seed: u64) -> Mover;
    /// Check the bank's invariants; what it holds.
    #[track_caller]
    fn bank(&self, db: &str) -> Bank;
    /// Staging copies present now.
    fn staging_files(&self) -> Vec<PathBuf> {
        Vec::new()
    }

    /// A database large enough that its backup and restore take a moment.
    fn create_big(&self, db: &str);
    /// Change a good part of it.
    fn change_big(&self, db: &str, round: u64);
    /// Moments of a restore into `db` worth a kill.
    fn restore_milestones(&self, db: &str) -> Vec<Milestone>;

    /// End every server session of sqlvault (and its client tools), as a
    /// DBA's `pg_terminate_backend` or `KILL CONNECTION` would; how many.
    fn end_sessions(&self) -> usize {
        0
    }

    /// Whether a restore builds a temporary database on the server.
    const TEMPORARY_DATABASE: bool = false;
    /// Hold a session on every temporary database a restore creates, as a
    /// monitoring agent would, until `stop`; how many it held.
    fn hold_temporaries(&self, _stop: &AtomicBool) -> usize {
        0
    }
}

/// Engines whose databases have logins.
pub trait Credentials: Harness {
    /// A backup argument for database `source` and a restore target for
    /// database `target`, both with a wrong password, and that password.
    fn wrong_credentials(&self, source: &str, target: &str) -> (String, String, String);
    /// What the error for a refused login says.
    const REFUSED: &'static str;
}

// ---------------------------------------------------------------------------
// Running the binary.

/// The vault's command with the engine's environment.
fn cmd<H: Harness>(h: &H, v: &Vault) -> Command {
    let mut c = v.cmd();
    h.env(&mut c);
    c
}

/// Run; no password of the repository or the engine in any output.
fn run<H: Harness>(h: &H, c: &mut Command) -> Out {
    let out = common::run(c);
    for secret in h.secrets() {
        for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            assert!(
                !text.contains(&secret),
                "a secret leaked in {name}:\n{text}"
            );
        }
    }
    out
}

fn backup<H: Harness>(h: &H, v: &Vault, db: &str, extra: &[String]) -> Out {
    run(
        h,
        cmd(h, v)
            .args(["--json", "backup"])
            .arg(h.source(db))
            .args(extra),
    )
}

/// Back up and require success; the new point.
#[track_caller]
fn backup_ok<H: Harness>(h: &H, v: &Vault, db: &str) -> String {
    let out = backup(h, v, db, &[]);
    out.expect_code(0);
    let r = out.json();
    assert_eq!(r["status"], "ok", "{r:#}");
    point_of(&r["databases"][0])
}

fn restore<H: Harness>(h: &H, v: &Vault, point: &str, db: &str, extra: &[&str]) -> Out {
    run(
        h,
        cmd(h, v)
            .args(["--json", "restore", point, "--to"])
            .arg(h.target(db))
            .args(extra),
    )
}

/// Restore and require success; the check the report says ran.
#[track_caller]
fn restore_ok<H: Harness>(h: &H, v: &Vault, point: &str, db: &str, extra: &[&str]) -> String {
    let out = restore(h, v, point, db, extra);
    out.expect_code(0);
    let r = out.json();
    assert_eq!(r["status"], "ok", "{r:#}");
    assert_eq!(r["databases"][0]["restore_point"], point, "{r:#}");
    r["databases"][0]["check"]
        .as_str()
        .unwrap_or_else(|| panic!("no check in {r:#}"))
        .to_string()
}

fn verify<H: Harness>(h: &H, v: &Vault, restore: bool, engine_args: bool) -> Out {
    let mut c = cmd(h, v);
    c.args(["--json", "verify"]);
    if restore {
        c.arg("--restore");
    }
    if engine_args {
        c.args(h.verify_args());
    }
    run(h, &mut c)
}

fn point_ids<H: Harness>(h: &H, v: &Vault) -> Vec<String> {
    let out = run(h, cmd(h, v).args(["--json", "points"]));
    out.expect_code(0);
    out.json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

#[track_caller]
fn assert_no_leftovers<H: Harness>(h: &H, after: &str) {
    assert_eq!(
        h.leftovers(),
        Vec::<String>::new(),
        "temporaries left after {after}"
    );
}

// ---------------------------------------------------------------------------
// 1. Round trip.

pub fn round_trip<H: Harness>() {
    let h = H::new("round_trip");
    let s = h.scratch();
    let v = Vault::init(s, s.join("repo"));
    h.create_fixture("src");
    let counts = h.row_counts("src");
    assert!(counts.len() >= 4, "fixture has too few tables: {counts:?}");
    assert!(counts.values().sum::<u64>() >= 500, "fixture: {counts:?}");
    let expected = h.snapshot("src");

    let out = backup(&h, &v, "src", &[]);
    out.expect_code(0);
    let report = out.json();
    assert_eq!(report["status"], "ok", "{report:#}");
    let item = &report["databases"][0];
    assert_eq!(item["database"], h.database_name("src"), "{report:#}");
    let point = point_of(item);

    let out = run(&h, cmd(&h, &v).args(["--json", "points"]));
    out.expect_code(0);
    let points = out.json();
    assert_eq!(points.as_array().unwrap().len(), 1, "{points:#}");
    assert_eq!(points[0]["engine"], H::ENGINE);
    assert_eq!(points[0]["source"], h.shown_source("src"), "{points:#}");

    // `show` lists every table with the rows the source holds.
    let out = run(&h, cmd(&h, &v).args(["--json", "show", &point]));
    out.expect_code(0);
    let shown = out.json();
    assert_eq!(shown["id"], point);
    assert_eq!(shown["engine"], H::ENGINE);
    assert_eq!(shown["database"], h.database_name("src"));
    assert_eq!(shown["source"], h.shown_source("src"));
    assert_eq!(shown["kind"], "full", "{shown:#}");
    assert!(shown["depends_on"].is_null(), "{shown:#}");
    assert!(shown["size"].as_u64().unwrap() > 0, "{shown:#}");
    assert!(shown["bytes_stored"].as_u64().unwrap() > 0, "{shown:#}");
    assert!(shown["versions"]["sqlvault"].is_string(), "{shown:#}");
    assert!(!shown["streams"].as_array().unwrap().is_empty());
    let entries = shown["fingerprints"]["tables"]
        .as_array()
        .unwrap_or_else(|| panic!("no fingerprints in {shown:#}"));
    for (name, rows) in &counts {
        let e = entries
            .iter()
            .find(|e| e["kind"] == "table" && e["name"] == name.as_str())
            .unwrap_or_else(|| panic!("show lacks table {name}: {shown:#}"));
        assert_eq!(e["rows"], *rows, "rows of {name}");
        let digest = e["digest"].as_str().unwrap();
        assert_eq!(digest.len(), 32, "digest of {name}");
        assert!(digest.chars().all(|c| c.is_ascii_hexdigit()));
    }
    let listed = entries.iter().filter(|e| e["kind"] == "table").count();
    assert_eq!(listed, counts.len(), "show lists other tables: {shown:#}");
    h.check_show(&shown);

    let check = restore_ok(&h, &v, &point, "dst", &[]);
    assert_eq!(check, h.expected_check("full", entries.len()));
    h.assert_same(&expected, "dst");
    assert_no_leftovers(&h, "a restore");

    // The repository's history holds no secret either.
    run(&h, cmd(&h, &v).args(["--json", "sessions"])).expect_code(0);

    // A second backup of the unchanged database stores almost nothing new.
    let out = backup(&h, &v, "src", &[]);
    out.expect_code(0);
    let second = out.json();
    let read = second["databases"][0]["bytes_read"].as_u64().unwrap();
    let new = second["databases"][0]["bytes_new"].as_u64().unwrap();
    assert!(
        read > 0 && new * 10 < read,
        "stored {new} new of {read} bytes"
    );

    // verify --restore test-restores both points with the engine's
    // arguments; without them, an engine that needs some only warns.
    let out = verify(&h, &v, true, false);
    out.expect_code(0);
    let r = out.json();
    let untested = r["warnings"].to_string().contains("not test-restored");
    assert_eq!(untested, !h.verify_args().is_empty(), "{r:#}");
    let out = verify(&h, &v, true, true);
    out.expect_code(0);
    let r = out.json();
    assert_eq!(r["status"], "ok", "{r:#}");
    assert!(!r["warnings"].to_string().contains("not test-restored"));
    let items = r["databases"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{r:#}");
    for i in items {
        assert_eq!(i["status"], "ok", "{r:#}");
        let check = i["check"].as_str().unwrap_or_default();
        assert!(check.starts_with("full: "), "{r:#}");
        assert!(check.contains("fingerprints match"), "{r:#}");
    }
    assert_no_leftovers(&h, "verify --restore");
}

// ---------------------------------------------------------------------------
// 2. Busy writers.

pub fn busy_writers<H: Harness>() {
    let variants = H::new("busy_writers").busy_variants().len();
    for i in 0..variants {
        // A fresh harness (and repository) for each way of backing up.
        let h = H::new("busy_writers");
        let variant = h.busy_variants().swap_remove(i);
        busy_writers_with(&h, &variant);
    }
}

fn busy_writers_with<H: Harness>(h: &H, variant: &Busy) {
    let s = h.scratch();
    let v = Vault::init(s, s.join("repo"));
    h.create_bank("bank", variant);
    let writer = Writer::start(
        (0..variant.movers)
            .map(|i| h.mover("bank", 11 + i as u64))
            .collect(),
    );
    let mut points = Vec::new();
    let mut during = 0;
    let mut staged = 0;
    for _ in 0..variant.rounds {
        // Watch for staging copies while the backup runs.
        let c0 = writer.commits();
        let done = AtomicBool::new(false);
        let (out, seen) = std::thread::scope(|sc| {
            let watcher = sc.spawn(|| {
                let mut seen = false;
                while !done.load(Ordering::Relaxed) {
                    seen |= !h.staging_files().is_empty();
                    std::thread::sleep(Duration::from_millis(1));
                }
                seen
            });
            let out = backup(h, &v, "bank", &variant.backup_args);
            done.store(true, Ordering::Relaxed);
            (out, watcher.join().unwrap())
        });
        let c1 = writer.commits();
        staged += seen as u32;
        out.expect_code(0);
        let r = out.json();
        assert_eq!(r["status"], "ok", "{r:#}");
        points.push((point_of(&r["databases"][0]), c0 as i64, c1 as i64));
        assert!(
            c1 - c0 >= variant.min_commits_during,
            "{}: only {} transfers committed while a backup ran ({c0}..{c1})",
            variant.label,
            c1 - c0
        );
        during += c1 - c0;
        assert_eq!(
            h.staging_files(),
            Vec::<PathBuf>::new(),
            "{}: staging copy left behind",
            variant.label
        );
    }
    let gave_up = writer.stop();
    eprintln!(
        "{}: {during} transfers during backups, {gave_up} gave up",
        variant.label
    );
    if variant.expect_staging {
        assert!(staged > 0, "{}: no staging copy was seen", variant.label);
    } else {
        assert_eq!(staged, 0, "{}: a staging copy was written", variant.label);
    }
    assert!(
        during > 0,
        "{}: the writer committed nothing while backups ran: no concurrency tested",
        variant.label
    );
    assert_eq!(h.bank("bank").total, H::BANK_TOTAL);

    // Each point holds one state from its backup's own run time, newer
    // than the one before; at least one from the middle of a run.
    let mut last = -1;
    let mut inside = 0;
    for (i, (p, c0, c1)) in points.iter().enumerate() {
        let target = format!("restored{i}");
        let check = restore_ok(h, &v, p, &target, &[]);
        assert!(check.starts_with("full: "), "{check}");
        assert!(check.contains("fingerprints match"), "{check}");
        let bank = h.bank(&target);
        assert_eq!(bank.total, H::BANK_TOTAL, "money appeared or vanished");
        assert!(
            *c0 <= bank.transfers && bank.transfers <= *c1,
            "{}: point {i} holds {} transfers, outside its backup's run ({c0}..={c1})",
            variant.label,
            bank.transfers
        );
        if *c0 < bank.transfers && bank.transfers < *c1 {
            inside += 1;
        }
        assert!(
            bank.transfers > last,
            "{}: point {i} holds {} transfers, the one before {last}: not newer (runs: {points:?})",
            variant.label,
            bank.transfers
        );
        last = bank.transfers;
    }
    assert!(
        inside > 0,
        "{}: no backup ran while the writer committed",
        variant.label
    );
    assert_no_leftovers(h, "backups and restores");
}

// ---------------------------------------------------------------------------
// 3. Altered row, 4. quick check.

pub fn altered_row<H: Harness>() {
    let h = H::new("altered_row");
    let s = h.scratch();
    let v = Vault::init(s, s.join("repo"));
    h.create_fixture("src");
    let counts = h.row_counts("src");
    let expected = h.snapshot("src");
    let point = backup_ok(&h, &v, "src");

    let mut c = cmd(&h, &v);
    c.env(FAULT.0, FAULT.1)
        .args(["restore", &point, "--to"])
        .arg(h.target("dst"));
    let out = run(&h, &mut c);
    out.expect_code(1);
    let line = single_error(&out);
    assert!(line.contains("differs from what was backed up"), "{line}");
    let (table, got, want) =
        row_difference(&line).unwrap_or_else(|| panic!("names no table's rows: {line}"));
    assert_eq!(counts.get(&table), Some(&want), "{line}");
    assert_eq!(got + 1, want, "{line}");
    assert!(!h.exists("dst"), "a failed restore left its target");
    assert_no_leftovers(&h, "a failed check");

    // verify --restore fails that point, naming the table.
    let mut c = cmd(&h, &v);
    c.env(FAULT.0, FAULT.1)
        .args(["--json", "verify", "--restore"])
        .args(h.verify_args());
    let out = run(&h, &mut c);
    out.expect_code(1);
    let r = out.json();
    assert_eq!(r["status"], "failed", "{r:#}");
    let item = &r["databases"][0];
    assert_eq!(item["restore_point"], point.as_str(), "{r:#}");
    assert_eq!(item["status"], "failed", "{r:#}");
    let error = item["error"].as_str().unwrap_or_default();
    assert_eq!(
        row_difference(error),
        Some((table.clone(), got, want)),
        "{r:#}"
    );
    assert!(!out.error_lines().is_empty(), "{}", out.stderr);
    assert_no_leftovers(&h, "a failed verify --restore");

    // Without the fault the same restore works.
    let check = restore_ok(&h, &v, &point, "dst", &[]);
    assert!(check.starts_with("full: "), "{check}");
    h.assert_same(&expected, "dst");

    // With the check off, the fault's damage gets through: the check is
    // what caught it.
    let mut c = cmd(&h, &v);
    c.env(FAULT.0, FAULT.1)
        .args(["--json", "restore", &point, "--check", "none", "--to"])
        .arg(h.target("unchecked"));
    let out = run(&h, &mut c);
    out.expect_code(0);
    assert_eq!(out.json()["databases"][0]["check"], "none");
    let mut damaged = counts.clone();
    *damaged.get_mut(&table).unwrap() -= 1;
    assert_eq!(h.row_counts("unchecked"), damaged);
    assert_no_leftovers(&h, "restores");
}

pub fn quick_check<H: Harness>() {
    let h = H::new("quick_check");
    let s = h.scratch();
    let v = Vault::init(s, s.join("repo"));
    h.create_fixture("src");
    let expected = h.snapshot("src");
    let point = backup_ok(&h, &v, "src");
    let out = run(&h, cmd(&h, &v).args(["--json", "show", &point]));
    out.expect_code(0);
    let n = out.json()["fingerprints"]["tables"]
        .as_array()
        .unwrap()
        .len();
    let check = restore_ok(&h, &v, &point, "dst", &["--check", "quick"]);
    assert_eq!(check, h.expected_check("quick", n));
    h.assert_same(&expected, "dst");
    assert_no_leftovers(&h, "a quick restore");
}

// ---------------------------------------------------------------------------
// 5. kill -9.

/// `verify` passes: no errors (warnings about leftover packs are fine).
#[track_caller]
fn assert_verify_ok<H: Harness>(h: &H, v: &Vault, after: &str) {
    let out = verify(h, v, false, false);
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

/// Kill backups at random moments and as their first pack and their
/// index appear (the index is written just before the restore point).
/// Each round: the repository verifies, a point exists completely or not
/// at all, and the next backup works and restores. At the end every point
/// restores to what it held (backups never rewrite or delete objects, so
/// a point that restores then restored after every earlier round too).
pub fn kill_during_backup<H: Harness>() {
    let h = H::new("kill_backup");
    let s = h.scratch();
    let v = Vault::init_unencrypted(s, s.join("repo"));
    h.create_big("big");
    let mut known = vec![];
    let t0 = Instant::now();
    let first = backup_ok(&h, &v, "big");
    let full = t0.elapsed();
    eprintln!("a whole backup takes {full:?}");
    known.push((first, h.snapshot("big")));

    let mut rng = support::delay_rng("kill during backup");
    let mut rounds: Vec<(String, Option<Duration>, &str)> = (0..3)
        .map(|_| {
            let d = within(&mut rng, full);
            (format!("after {d:?}"), Some(d), "")
        })
        .collect();
    rounds.push(("as the first pack appears".into(), None, "packs"));
    rounds.push(("as the index appears".into(), None, "index"));
    let mut killed_mid_run = 0;
    for (round, (what, delay, folder)) in rounds.iter().enumerate() {
        // New data, so the killed backup has work to lose.
        h.change_big("big", round as u64);
        let expected = h.snapshot("big");
        let before = point_ids(&h, &v);
        let objects = |f: &str| common::objects(&v.repo, f).len();
        let (packs, indexes) = (objects("packs"), objects("index"));
        let mut c = cmd(&h, &v);
        c.args(["--json", "backup"]).arg(h.source("big"));
        let ended = kill_when(spawn(c), |t| match (delay, *folder) {
            (Some(d), _) => t >= *d,
            (None, "packs") => objects("packs") > packs,
            _ => objects("index") > indexes,
        });
        if ended.killed {
            killed_mid_run += 1;
        } else {
            ended.out.expect_code(0);
        }
        for secret in h.secrets() {
            assert!(!ended.out.stderr.contains(&secret));
        }
        // A restore point exists completely or not at all.
        let after = point_ids(&h, &v);
        assert!(after.starts_with(&before), "kill {what}: points were lost");
        assert!(after.len() <= before.len() + 1, "kill {what}");
        if let Some(p) = after.get(before.len()) {
            known.push((p.clone(), h.snapshot("big")));
        }
        eprintln!(
            "backup killed {what}: while running: {}, committed a point: {}",
            ended.killed,
            after.len() > before.len()
        );
        assert_verify_ok(&h, &v, &format!("kill {what}"));

        // The next backup works and restores.
        let p = backup_ok(&h, &v, "big");
        let check = restore_ok(&h, &v, &p, "next", &[]);
        assert!(check.starts_with("full: "), "{check}");
        h.assert_same(&expected, "next");
        h.remove("next");
        if !known.iter().any(|(k, _)| *k == p) {
            known.push((p, expected));
        }
    }
    assert!(
        killed_mid_run >= 3,
        "only {killed_mid_run} kills landed while a backup ran"
    );
    for (i, (p, expected)) in known.iter().enumerate() {
        let target = format!("known{i}");
        restore_ok(&h, &v, p, &target, &[]);
        h.assert_same(expected, &target);
        h.remove(&target);
    }
    assert_no_leftovers(&h, "restores");
}

/// Kill restores at random moments and at the engine's milestones (its
/// temporary appears, is half and fully written). No target may appear
/// unless whole (or, for an engine that builds it under its own name,
/// marked incomplete), nothing temporary may remain, and a fresh restore
/// to the same target works without `--force`/`--clean`.
pub fn kill_during_restore<H: Harness>() {
    let h = H::new("kill_restore");
    let s = h.scratch();
    let v = Vault::init_unencrypted(s, s.join("repo"));
    h.create_big("big");
    let expected = h.snapshot("big");
    let point = backup_ok(&h, &v, "big");
    let t0 = Instant::now();
    restore_ok(&h, &v, &point, "target", &[]);
    let full = t0.elapsed();
    eprintln!("a whole restore takes {full:?}");
    h.remove("target");

    let mut rng = support::delay_rng("kill during restore");
    let mut rounds: Vec<(String, Moment)> = (0..3)
        .map(|_| {
            let d = within(&mut rng, full);
            (format!("after {d:?}"), Moment::After(d))
        })
        .collect();
    for (what, probe) in h.restore_milestones("target") {
        rounds.push((what.to_string(), Moment::When(probe)));
    }
    let mut killed_mid_run = 0;
    let mut left = Vec::new();
    for (what, mut moment) in rounds {
        let mut c = cmd(&h, &v);
        c.args(["restore", &point, "--to"]).arg(h.target("target"));
        let ended = kill_when(spawn(c), |t| match &mut moment {
            Moment::After(d) => t >= *d,
            Moment::When(probe) => probe(),
        });
        eprintln!(
            "restore killed {what}: while running: {}, target exists: {}, leftovers: {:?}",
            ended.killed,
            h.exists("target"),
            h.leftovers()
        );
        let leftovers = h.leftovers();
        let marked = h.exists("target") && h.incomplete("target");
        if ended.killed {
            killed_mid_run += 1;
            if h.exists("target") && !marked {
                // Killed after it was put in place: whole, then.
                h.assert_same(&expected, "target");
            }
            if !leftovers.is_empty() {
                left.push(format!("killed {what}: {leftovers:?}"));
            }
        } else {
            ended.out.expect_code(0);
            h.assert_same(&expected, "target");
            assert_eq!(
                leftovers,
                Vec::<String>::new(),
                "a restore left temporaries"
            );
        }
        // A target marked incomplete is left for the next restore to replace.
        if h.exists("target") && !marked {
            h.remove("target");
        }
        // A fresh restore to the same target works, and removes what the
        // killed one left (its temporaries are named so it finds them).
        restore_ok(&h, &v, &point, "target", &[]);
        h.assert_same(&expected, "target");
        assert_eq!(
            h.leftovers(),
            Vec::<String>::new(),
            "the restore after one killed {what} did not remove its temporaries"
        );
        h.remove("target");
    }
    assert!(
        killed_mid_run >= 3,
        "only {killed_mid_run} kills landed while a restore ran"
    );
    eprintln!(
        "what the killed restores left until the next one: {}",
        left.join("; ")
    );
}

// ---------------------------------------------------------------------------
// 6. Bad input.

pub fn missing_source<H: Harness>() {
    let h = H::new("missing_source");
    let s = h.scratch();
    let v = Vault::init(s, s.join("repo"));
    let db = "no-such-dir/missing";
    let out = backup(&h, &v, db, &[]);
    out.expect_code(1);
    let report = out.json();
    assert_eq!(report["status"], "failed", "{report:#}");
    let item = &report["databases"][0];
    assert_eq!(item["status"], "failed", "{report:#}");
    assert!(item["restore_point"].is_null());
    let named = h.missing_message(db);
    assert!(
        item["error"].as_str().unwrap().contains(&named),
        "{report:#}"
    );
    let line = single_error(&out);
    assert!(line.contains(&named), "{line}");
    assert!(!h.exists(db), "the backup created the missing source");
    assert!(point_ids(&h, &v).is_empty());
    assert!(common::objects(&v.repo, "packs").is_empty());
}

pub fn occupied_target<H: Harness>() {
    let h = H::new("occupied_target");
    let s = h.scratch();
    let v = Vault::init(s, s.join("repo"));
    h.create_small("src");
    let expected = h.snapshot("src");
    let point = backup_ok(&h, &v, "src");
    h.create_occupied("dst");
    let out = restore(&h, &v, &point, "dst", &[]);
    out.expect_code(2);
    let line = single_error(&out);
    assert!(line.contains(&h.occupied_message("dst")), "{line}");
    assert!(out.stderr.contains(H::REPLACE_FLAG), "{}", out.stderr);
    assert!(
        h.occupied_unchanged("dst"),
        "the existing target was changed"
    );
    assert_no_leftovers(&h, "a refused restore");

    // The flag replaces it.
    let check = restore_ok(&h, &v, &point, "dst", &[H::REPLACE_FLAG]);
    assert!(check.starts_with("full: "), "{check}");
    h.assert_same(&expected, "dst");
    assert_no_leftovers(&h, "a replacing restore");
}

pub fn wrong_credentials<H: Credentials>() {
    let h = H::new("credentials");
    let s = h.scratch();
    let v = Vault::init(s, s.join("repo"));
    h.create_small("src");
    let (source, target, wrong) = h.wrong_credentials("src", "dst");
    let no_wrong = |out: &Out| {
        assert!(
            !out.stdout.contains(&wrong) && !out.stderr.contains(&wrong),
            "the wrong password is shown:\n{}{}",
            out.stdout,
            out.stderr
        );
    };
    // A backup fails that database: 1.
    let out = run(&h, cmd(&h, &v).args(["--json", "backup"]).arg(&source));
    no_wrong(&out);
    out.expect_code(1);
    assert_eq!(out.json()["databases"][0]["status"], "failed");
    assert!(single_error(&out).contains(H::REFUSED), "{}", out.stderr);
    assert!(point_ids(&h, &v).is_empty());

    // A restore stops before touching anything: 3.
    let point = backup_ok(&h, &v, "src");
    let out = run(
        &h,
        cmd(&h, &v).args(["restore", &point, "--to"]).arg(&target),
    );
    no_wrong(&out);
    out.expect_code(3);
    assert!(single_error(&out).contains(H::REFUSED), "{}", out.stderr);
    assert!(!h.exists("dst"));
    assert_no_leftovers(&h, "a refused login");
}

// ---------------------------------------------------------------------------
// The engines.

/// One test per contract item and engine, named `ITEM::ENGINE`: libtest
/// runs tests in name order, so the engines alternate, and the tests of
/// one engine that take turns on a shared server do not line up behind
/// each other.
macro_rules! contract {
    ($($item:ident => $contract:ident [$($engine:ident: $harness:ty),+];)+) => {$(
        mod $item {
            $(
                #[test]
                fn $engine() {
                    super::$contract::<$harness>();
                }
            )+
        }
    )+};
}

contract! {
    round_trip_restores_what_show_lists => round_trip
        [sqlite: crate::sqlite_harness::Sqlite, postgres: crate::postgres_harness::Postgres,
         mariadb: crate::mariadb_harness::MariaDb,
         bacpac: crate::bacpac_harness::Bacpac];
    backups_under_busy_writers_hold_one_committed_state => busy_writers
        [sqlite: crate::sqlite_harness::Sqlite, postgres: crate::postgres_harness::Postgres,
         mariadb: crate::mariadb_harness::MariaDb];
    an_altered_row_fails_the_check_and_leaves_nothing => altered_row
        [sqlite: crate::sqlite_harness::Sqlite, postgres: crate::postgres_harness::Postgres,
         mariadb: crate::mariadb_harness::MariaDb,
         bacpac: crate::bacpac_harness::Bacpac];
    quick_check_round_trips => quick_check
        [sqlite: crate::sqlite_harness::Sqlite, postgres: crate::postgres_harness::Postgres,
         mariadb: crate::mariadb_harness::MariaDb,
         bacpac: crate::bacpac_harness::Bacpac];
    kill_during_backup_leaves_a_valid_repository => kill_during_backup
        [sqlite: crate::sqlite_harness::Sqlite, postgres: crate::postgres_harness::Postgres,
         mariadb: crate::mariadb_harness::MariaDb,
         bacpac: crate::bacpac_harness::Bacpac];
    kill_during_restore_leaves_no_half_target => kill_during_restore
        [sqlite: crate::sqlite_harness::Sqlite, postgres: crate::postgres_harness::Postgres,
         mariadb: crate::mariadb_harness::MariaDb,
         bacpac: crate::bacpac_harness::Bacpac];
    a_missing_source_fails_with_1 => missing_source
        [sqlite: crate::sqlite_harness::Sqlite, postgres: crate::postgres_harness::Postgres,
         mariadb: crate::mariadb_harness::MariaDb,
         bacpac: crate::bacpac_harness::Bacpac];
    an_occupied_target_is_refused_with_2 => occupied_target
        [sqlite: crate::sqlite_harness::Sqlite, postgres: crate::postgres_harness::Postgres,
         mariadb: crate::mariadb_harness::MariaDb,
         bacpac: crate::bacpac_harness::Bacpac];
    replacing_never_loses_the_target => replacing_never_loses_the_target
        [sqlite: crate::sqlite_harness::Sqlite, postgres: crate::postgres_harness::Postgres,
         mariadb: crate::mariadb_harness::MariaDb,
         bacpac: crate::bacpac_harness::Bacpac];
    dropped_connections_fail_cleanly => dropped_connections_fail_cleanly
        [postgres: crate::postgres_harness::Postgres, mariadb: crate::mariadb_harness::MariaDb];
    wrong_database_credentials_are_refused => wrong_credentials
        [postgres: crate::postgres_harness::Postgres, mariadb: crate::mariadb_harness::MariaDb];
}
