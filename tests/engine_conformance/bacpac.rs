//! BACPAC packages under the engine contract: a database is a package file
//! in the test's scratch directory (label `x` is `db/x.bacpac`); the
//! fixture is the shared Northwind package, the big one Northwind with a
//! generated Order Details of some 48 MiB. Rows are counted by the
//! independent decoder of `tests/fixtures/bcp_rows.py`, and packages are
//! compared entry by entry. A package has no writers and no logins, so the
//! busy-writer and credential items do not apply.

use crate::bacpac_common::{self, EntryFacts};
use crate::common::{self, Scratch};
use crate::support::{Mover, file_temporaries, file_unchanged, named, occupy_file, remove_paths};
use crate::{Bank, Busy, Harness, Milestone, Probe};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Rows of the big package's Order Details: 22 bytes each, about 48 MiB.
const BIG_ROWS: usize = 2_300_000;
const PER_PART: usize = 250_000;

pub struct Bacpac {
    scratch: Scratch,
    /// Entries of the last fixture created, for the check a restore reports.
    fixture_entries: AtomicUsize,
}

impl Bacpac {
    fn path(&self, db: &str) -> PathBuf {
        self.scratch.join("db").join(format!("{db}.bacpac"))
    }
}

impl Harness for Bacpac {
    const ENGINE: &'static str = "bacpac";
    const REPLACE_FLAG: &'static str = "--force";
    const BANK_TOTAL: i64 = 0;
    type Snapshot = Vec<EntryFacts>;

    fn new(_test: &str) -> Self {
        let scratch = Scratch::new();
        std::fs::create_dir_all(scratch.join("db")).unwrap();
        Bacpac {
            scratch,
            fixture_entries: AtomicUsize::new(0),
        }
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
        // DacMetadata.xml names the database.
        match db {
            "src" | "dst" | "big" => "Northwind".into(),
            _ => "StoredProc".into(),
        }
    }

    fn target(&self, db: &str) -> String {
        self.source(db)
    }

    fn create_fixture(&self, db: &str) {
        let src = bacpac_common::shared("northwind.bacpac");
        std::fs::copy(&src, self.path(db)).unwrap();
        self.fixture_entries
            .store(bacpac_common::entries(&src).len(), Ordering::Relaxed);
    }

    fn create_small(&self, db: &str) {
        std::fs::copy(
            bacpac_common::shared("small-dacfx162.bacpac"),
            self.path(db),
        )
        .unwrap();
    }

    fn row_counts(&self, db: &str) -> BTreeMap<String, u64> {
        bacpac_common::rows_by_table(&self.path(db))
    }

    fn snapshot(&self, db: &str) -> Vec<EntryFacts> {
        bacpac_common::entries(&self.path(db))
    }

    #[track_caller]
    fn assert_same(&self, expected: &Vec<EntryFacts>, db: &str) {
        assert_eq!(&bacpac_common::entries(&self.path(db)), expected);
    }

    fn expected_check(&self, level: &str, n: usize) -> String {
        let entries = self.fixture_entries.load(Ordering::Relaxed);
        let tail = format!("model.xml checksum ok, {entries} entries' CRC-32 match");
        match level {
            "full" => format!("full: {n} fingerprints match, {tail}"),
            _ => format!("quick: {n} row counts match, {tail}"),
        }
    }

    fn check_show(&self, shown: &serde_json::Value) {
        assert!(shown["versions"]["DacFx"].is_string(), "{shown:#}");
        assert!(shown["versions"]["server"].is_string(), "{shown:#}");
    }

    fn exists(&self, db: &str) -> bool {
        self.path(db).exists()
    }

    fn remove(&self, db: &str) {
        let _ = std::fs::remove_file(self.path(db));
    }

    fn leftovers(&self) -> Vec<String> {
        let out = file_temporaries(&self.scratch.join("db"), &self.scratch.tmpdir());
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
        unreachable!("a package has no writers")
    }

    fn create_bank(&self, _db: &str, _variant: &Busy) {
        unreachable!("a package has no writers")
    }

    fn mover(&self, _db: &str, _seed: u64) -> Mover {
        unreachable!("a package has no writers")
    }

    fn bank(&self, _db: &str) -> Bank {
        unreachable!("a package has no writers")
    }

    fn create_big(&self, db: &str) {
        bacpac_common::big_northwind(&self.path(db), BIG_ROWS, PER_PART, BIG_ROWS, 1);
    }

    fn change_big(&self, db: &str, round: u64) {
        bacpac_common::big_northwind(
            &self.path(db),
            BIG_ROWS,
            PER_PART,
            BIG_ROWS * 3 / 4,
            100 + round,
        );
    }

    fn restore_milestones(&self, db: &str) -> Vec<Milestone> {
        let size = std::fs::metadata(self.path("big")).unwrap().len();
        let dir = self.scratch.join("db");
        let prefix = format!(".{db}.bacpac.sqlvault-");
        let at = move |share: f64| -> Probe {
            let (dir, prefix) = (dir.clone(), prefix.clone());
            Box::new(move || {
                named(&dir, &prefix).first().is_some_and(|f| {
                    std::fs::metadata(f).is_ok_and(|m| m.len() as f64 >= share * size as f64)
                })
            })
        };
        vec![
            ("as the temporary file appears", at(0.0)),
            ("with the temporary half written", at(0.5)),
            ("with the temporary nearly written", at(0.95)),
        ]
    }
}
