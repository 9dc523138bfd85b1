//! SQLite under the engine contract: databases are files in the test's
//! scratch directory (label `x` is `db/x.db`), compared with the common
//! fingerprint helpers; temporaries are hidden `.NAME.sqlvault-*` files
//! beside a target and `sqlvault-*` files in the binary's TMPDIR.

use crate::common::{self, Fingerprint, Rng, Scratch};
use crate::support::{Mover, file_temporaries, file_unchanged, named, occupy_file, remove_paths};
use crate::{Bank, Busy, Harness, Milestone, Probe};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

const ACCOUNTS: i64 = 100;
const OPENING: i64 = 1_000;
/// Text in the bank so that a backup takes a moment.
const FILLER: usize = 20 << 20;
/// Incompressible blobs in the big database: about a second to back up
/// in a debug build.
const BIG: usize = 48 << 20;

pub struct Sqlite {
    scratch: Scratch,
}

impl Sqlite {
    fn path(&self, db: &str) -> PathBuf {
        self.scratch.join("db").join(format!("{db}.db"))
    }

    fn staging_dir(&self) -> PathBuf {
        self.scratch.join("staging")
    }
}

/// A file and the ones SQLite keeps beside it.
fn with_companions(path: &Path) -> Vec<PathBuf> {
    let mut out = vec![path.to_path_buf()];
    for s in ["-wal", "-shm", "-journal"] {
        let mut p = path.as_os_str().to_owned();
        p.push(s);
        out.push(PathBuf::from(p));
    }
    out
}

/// How much of a restore temporary of `name` in `dir` is written, 0 to 1
/// (None: there is none). The file is sized first and filled in, so count
/// the blocks it really holds.
fn temporary_written(dir: &Path, name: &str, size: u64) -> Option<f64> {
    use std::os::unix::fs::MetadataExt;
    let f = named(dir, &format!(".{name}.sqlvault-"))
        .into_iter()
        .next()?;
    let m = std::fs::metadata(f).ok()?;
    Some((m.blocks() * 512) as f64 / size as f64)
}

impl Harness for Sqlite {
    const ENGINE: &'static str = "sqlite";
    const REPLACE_FLAG: &'static str = "--force";
    const BANK_TOTAL: i64 = ACCOUNTS * OPENING;
    type Snapshot = Fingerprint;

    fn new(_test: &str) -> Self {
        let scratch = Scratch::new();
        std::fs::create_dir_all(scratch.join("db")).unwrap();
        std::fs::create_dir_all(scratch.join("staging")).unwrap();
        Sqlite { scratch }
    }

    fn scratch(&self) -> &Scratch {
        &self.scratch
    }

    fn secrets(&self) -> Vec<String> {
        vec![common::PASSWORD.to_string()]
    }

    fn source(&self, db: &str) -> String {
        self.path(db).display().to_string()
    }

    fn shown_source(&self, db: &str) -> String {
        std::fs::canonicalize(self.path(db))
            .unwrap()
            .display()
            .to_string()
    }

    fn database_name(&self, db: &str) -> String {
        db.rsplit('/').next().unwrap().to_string()
    }

    fn target(&self, db: &str) -> String {
        self.source(db)
    }

    fn create_fixture(&self, db: &str) {
        common::make_fixture(&self.path(db), "wal", 1);
    }

    fn create_small(&self, db: &str) {
        let c = common::open(&self.path(db));
        c.execute_batch(
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
             INSERT INTO t SELECT i, 'v' || i FROM n;",
        )
        .unwrap();
    }

    fn row_counts(&self, db: &str) -> BTreeMap<String, u64> {
        common::fingerprint(&self.path(db))
            .tables
            .into_iter()
            .map(|(name, (rows, _))| (name, rows))
            .collect()
    }

    fn snapshot(&self, db: &str) -> Fingerprint {
        common::fingerprint(&self.path(db))
    }

    #[track_caller]
    fn assert_same(&self, expected: &Fingerprint, db: &str) {
        common::assert_same_db(&self.path(db), expected);
    }

    fn expected_check(&self, level: &str, n: usize) -> String {
        match level {
            "full" => format!("full: {n} fingerprints match, file identical, integrity check ok"),
            _ => format!("quick: {n} row counts match, integrity check ok"),
        }
    }

    fn check_show(&self, shown: &serde_json::Value) {
        let image = shown["fingerprints"]["image_blake3"].as_str().unwrap();
        assert_eq!(image.len(), 64, "{shown:#}");
        assert!(shown["versions"]["sqlite"].is_string(), "{shown:#}");
    }

    fn exists(&self, db: &str) -> bool {
        with_companions(&self.path(db)).iter().any(|p| p.exists())
    }

    fn remove(&self, db: &str) {
        for p in with_companions(&self.path(db)) {
            let _ = std::fs::remove_file(p);
        }
    }

    fn leftovers(&self) -> Vec<String> {
        let mut out = file_temporaries(&self.scratch.join("db"), &self.scratch.tmpdir());
        out.extend(self.staging_files());
        out.iter().map(|p| p.display().to_string()).collect()
    }

    fn remove_leftovers(&self) {
        remove_paths(&self.leftovers());
    }

    fn create_occupied(&self, db: &str) {
        occupy_file(&self.path(db));
    }

    fn occupied_unchanged(&self, db: &str) -> bool {
        file_unchanged(&self.path(db))
    }

    fn occupied_message(&self, db: &str) -> String {
        format!("`{}` already exists", self.source(db))
    }

    fn missing_message(&self, db: &str) -> String {
        self.source(db)
    }

    fn busy_variants(&self) -> Vec<Busy> {
        let staging = self.staging_dir().display().to_string();
        [("wal", "direct", false), ("delete", "copy", true)]
            .into_iter()
            .map(|(journal, mode, expect_staging)| Busy {
                label: if journal == "wal" {
                    "WAL database, direct staging"
                } else {
                    "rollback-journal database, copy staging"
                },
                setup: journal,
                backup_args: ["--staging", mode, "--staging-dir", &staging]
                    .map(String::from)
                    .to_vec(),
                movers: 1,
                rounds: 3,
                expect_staging,
                min_commits_during: 0,
            })
            .collect()
    }

    fn create_bank(&self, db: &str, variant: &Busy) {
        let mut c = common::open(&self.path(db));
        common::set_journal_mode(&c, variant.setup);
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
            tx.execute("INSERT INTO accounts VALUES (?1, ?2)", [id, OPENING])
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

    fn mover(&self, db: &str, seed: u64) -> Mover {
        let c = rusqlite::Connection::open(self.path(db)).unwrap();
        c.busy_timeout(Duration::from_secs(5)).unwrap();
        // Commits without fsync: a writer waiting on the disk holds the
        // lock nearly all the time, and under the I/O of the other tests a
        // rollback-journal backup would starve for its read lock.
        c.execute_batch("PRAGMA synchronous = OFF").unwrap();
        let mut rng = Rng::new(seed);
        Box::new(move || {
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
                Ok(()) => true,
                Err(e) => {
                    // SQLITE_BUSY after the timeout: give this one up.
                    assert!(
                        matches!(
                            e.sqlite_error_code(),
                            Some(rusqlite::ErrorCode::DatabaseBusy)
                                | Some(rusqlite::ErrorCode::DatabaseLocked)
                        ),
                        "writer failed: {e}"
                    );
                    let _ = c.execute_batch("ROLLBACK");
                    false
                }
            }
        })
    }

    #[track_caller]
    fn bank(&self, db: &str) -> Bank {
        let path = self.path(db);
        common::assert_integrity_ok(&path);
        let c = common::open(&path);
        let (n, total): (i64, i64) = c
            .query_row("SELECT count(*), sum(balance) FROM accounts", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(n, ACCOUNTS, "accounts in {path:?}");
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
        let transfers = c
            .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
            .unwrap();
        Bank { total, transfers }
    }

    fn staging_files(&self) -> Vec<PathBuf> {
        let mut out = common::files_under(&self.staging_dir());
        out.extend(named(&self.scratch.tmpdir(), "sqlvault-staging-"));
        out
    }

    fn create_big(&self, db: &str) {
        common::make_blob_db(&self.path(db), "wal", BIG, 2);
    }

    fn change_big(&self, db: &str, round: u64) {
        common::churn_blobs(&self.path(db), 250, 100 + round);
    }

    fn restore_milestones(&self, db: &str) -> Vec<Milestone> {
        let size = self.snapshot_size();
        let dir = self.scratch.join("db");
        let name = format!("{db}.db");
        let at = move |share: f64| -> Probe {
            let (dir, name) = (dir.clone(), name.clone());
            Box::new(move || temporary_written(&dir, &name, size).is_some_and(|w| w >= share))
        };
        vec![
            ("as the temporary file appears", at(0.0)),
            ("with the temporary half written", at(0.5)),
            ("with the temporary fully written", at(1.0)),
        ]
    }
}

impl Sqlite {
    /// The size of the big database, which its restores write.
    fn snapshot_size(&self) -> u64 {
        std::fs::metadata(self.path("big")).unwrap().len()
    }
}
