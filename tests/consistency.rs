//! A backup taken while a writer keeps committing is one committed state:
//! money moved between 100 accounts always adds up, and the transfer log
//! written in the same transactions agrees with every balance.

mod common;

use common::*;
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const ACCOUNTS: i64 = 100;
const OPENING: i64 = 1_000;
const FILLER: usize = 20 << 20;

/// The bank: accounts, the transfer log, and a filler table so that a
/// backup takes a moment.
fn make_bank(path: &Path, journal: &str) {
    let mut c = open(path);
    set_journal_mode(&c, journal);
    c.execute_batch(
        "CREATE TABLE accounts(id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
         CREATE TABLE log(id INTEGER PRIMARY KEY, from_id INTEGER NOT NULL,
                          to_id INTEGER NOT NULL, amount INTEGER NOT NULL, note TEXT);
         CREATE INDEX log_from ON log(from_id);
         CREATE TABLE filler(id INTEGER PRIMARY KEY, text TEXT NOT NULL);",
    )
    .unwrap();
    let tx = c.transaction().unwrap();
    for id in 1..=ACCOUNTS {
        tx.execute(
            "INSERT INTO accounts(id, balance) VALUES (?1, ?2)",
            [id, OPENING],
        )
        .unwrap();
    }
    {
        let mut rng = Rng::new(77);
        let mut st = tx.prepare("INSERT INTO filler(text) VALUES (?1)").unwrap();
        let mut done = 0;
        while done < FILLER {
            let n = 400 + rng.below(800) as usize;
            let t = rng.words(n);
            done += t.len();
            st.execute([t]).unwrap();
        }
    }
    tx.commit().unwrap();
}

/// A thread moving money between random accounts until told to stop.
struct Writer {
    stop: Arc<AtomicBool>,
    commits: Arc<AtomicU64>,
    handle: Option<JoinHandle<u64>>,
}

impl Writer {
    fn start(path: &Path, seed: u64) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let commits = Arc::new(AtomicU64::new(0));
        let (st, cm, path) = (stop.clone(), commits.clone(), path.to_path_buf());
        let handle = std::thread::spawn(move || {
            let c = Connection::open(&path).unwrap();
            c.busy_timeout(Duration::from_secs(5)).unwrap();
            let mut rng = Rng::new(seed);
            let mut failures = 0u64;
            while !st.load(Ordering::Relaxed) {
                let from = 1 + rng.below(ACCOUNTS as u64) as i64;
                let to = 1 + (from + rng.below(ACCOUNTS as u64 - 1) as i64) % ACCOUNTS;
                let amount = 1 + rng.below(500) as i64;
                let note = rng.words(20);
                let r = (|| -> rusqlite::Result<()> {
                    c.execute_batch("BEGIN IMMEDIATE")?;
                    c.execute(
                        "UPDATE accounts SET balance = balance - ?1 WHERE id = ?2",
                        [amount, from],
                    )?;
                    c.execute(
                        "UPDATE accounts SET balance = balance + ?1 WHERE id = ?2",
                        [amount, to],
                    )?;
                    c.execute(
                        "INSERT INTO log(from_id, to_id, amount, note) VALUES (?1, ?2, ?3, ?4)",
                        rusqlite::params![from, to, amount, note],
                    )?;
                    c.execute_batch("COMMIT")
                })();
                match r {
                    Ok(()) => {
                        cm.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        // SQLITE_BUSY after the timeout: give up this one.
                        assert!(
                            matches!(
                                e.sqlite_error_code(),
                                Some(rusqlite::ErrorCode::DatabaseBusy)
                                    | Some(rusqlite::ErrorCode::DatabaseLocked)
                            ),
                            "writer failed: {e}"
                        );
                        let _ = c.execute_batch("ROLLBACK");
                        failures += 1;
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
            failures
        });
        let w = Writer {
            stop,
            commits,
            handle: Some(handle),
        };
        // Running before any backup starts.
        let t0 = Instant::now();
        while w.commits() < 20 {
            assert!(t0.elapsed() < Duration::from_secs(20), "writer is stuck");
            std::thread::sleep(Duration::from_millis(5));
        }
        w
    }

    fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Stop; returns how many transactions gave up on a busy database.
    fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.take().unwrap().join().expect("writer panicked")
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Check the bank's invariants; returns the number of transfers logged.
#[track_caller]
fn assert_bank_consistent(path: &Path) -> i64 {
    assert_integrity_ok(path);
    let c = open(path);
    let (n, total): (i64, i64) = c
        .query_row("SELECT count(*), sum(balance) FROM accounts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(n, ACCOUNTS, "accounts in {path:?}");
    assert_eq!(total, ACCOUNTS * OPENING, "money in {path:?}");
    // Every balance is the opening balance plus what the log says moved.
    let wrong: i64 = c
        .query_row(
            "WITH moves(id, x) AS (
                 SELECT to_id, amount FROM log UNION ALL SELECT from_id, -amount FROM log),
             net(id, s) AS (SELECT id, sum(x) FROM moves GROUP BY id)
             SELECT count(*) FROM accounts a LEFT JOIN net ON net.id = a.id
             WHERE a.balance != ?1 + coalesce(net.s, 0)",
            [OPENING],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(wrong, 0, "balances disagree with the log in {path:?}");
    c.query_row("SELECT count(*) FROM log", [], |r| r.get(0))
        .unwrap()
}

fn staging_leftovers(dir: &Path) -> Vec<PathBuf> {
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

fn backups_under_load(journal: &str, staging: &str) {
    let s = Scratch::new();
    let vault = Vault::init(&s, s.join("repo"));
    let db = s.join("bank.db");
    make_bank(&db, journal);
    let staging_dir = s.join("staging");
    std::fs::create_dir(&staging_dir).unwrap();

    let writer = Writer::start(&db, 11);
    let mut points = Vec::new();
    let mut during = 0;
    let mut staged = 0;
    for _ in 0..3 {
        // Watch the staging directory while the backup runs.
        let done = Arc::new(AtomicBool::new(false));
        let watcher = {
            let (done, dir) = (done.clone(), staging_dir.clone());
            std::thread::spawn(move || {
                let mut seen = false;
                while !done.load(Ordering::Relaxed) {
                    seen |= !staging_leftovers(&dir).is_empty();
                    std::thread::sleep(Duration::from_millis(1));
                }
                seen
            })
        };
        let c0 = writer.commits();
        let out = vault.backup_with(
            &[&db],
            &[
                "--staging",
                staging,
                "--staging-dir",
                staging_dir.to_str().unwrap(),
            ],
        );
        let c1 = writer.commits();
        done.store(true, Ordering::Relaxed);
        staged += watcher.join().unwrap() as u32;
        out.expect_code(0);
        let r = out.json();
        assert_eq!(r["status"], "ok", "{r:#}");
        points.push((point_of(&r["databases"][0]), c0, c1));
        during += c1 - c0;
        assert_eq!(
            staging_leftovers(&staging_dir),
            Vec::<PathBuf>::new(),
            "staging file left behind"
        );
    }
    let gave_up = writer.stop();
    if staging == "copy" {
        assert!(staged > 0, "no staging copy was ever seen in --staging-dir");
    } else {
        assert_eq!(staged, 0, "--staging {staging} wrote a staging copy");
    }
    assert!(
        during > 0,
        "the writer committed nothing while backups ran: no concurrency tested"
    );
    eprintln!("{journal}/{staging}: {during} commits during backups, {gave_up} busy");
    assert_bank_consistent(&db);

    // Each point holds one state from the backup's own run time; at least
    // one from the middle of it, with commits before and after.
    let mut last = -1;
    let mut inside = 0;
    for (i, (p, c0, c1)) in points.iter().enumerate() {
        let t = s.join(&format!("restored-{i}.db"));
        vault.restore(p, &t);
        let logged = assert_bank_consistent(&t);
        let (c0, c1) = (*c0 as i64, *c1 as i64);
        assert!(
            c0 <= logged && logged <= c1,
            "point {i} holds {logged} transfers, outside its backup's run ({c0}..{c1})"
        );
        if c0 < logged && logged < c1 {
            inside += 1;
        }
        assert!(logged > last, "point {i} is not newer than the one before");
        last = logged;
    }
    assert!(inside > 0, "no backup ran while the writer committed");
    assert!(files_under(&staging_dir).is_empty());
    assert!(staging_leftovers(&s.tmpdir()).is_empty());
}

#[test]
fn wal_database_with_direct_staging_under_a_busy_writer() {
    backups_under_load("wal", "direct");
}

#[test]
fn rollback_journal_database_with_copy_staging_under_a_busy_writer() {
    backups_under_load("delete", "copy");
}
