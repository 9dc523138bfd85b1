//! PostgreSQL under the engine contract: databases live on the test
//! binary's private cluster (label `x` of test `t` is the database
//! `t x ü`, a name that needs quoting and encoding), compared with
//! `pg_common::compare` (schema dump, every table's rows, large objects,
//! sequences); temporaries are `sqlvault_restore_*` and `sqlvault_verify_*`
//! databases and `sqlvault-*` files in the binary's TMPDIR.
//!
//! The tests of this engine take turns: they share one server, and a
//! temporary database of one would count as a leftover of another.

use crate::common::{self, Rng, Scratch};
use crate::pg_common::compare::{Contents, assert_same_contents, assert_same_schema, contents};
use crate::pg_common::{PG_PASSWORD, cluster, quote_ident};
use crate::support::{Mover, shown_name};
use crate::{Bank, Busy, Credentials, Harness, Milestone, Probe};
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

const ACCOUNTS: i64 = 500;
const START_BALANCE: i64 = 1_000;

static TURNS: Mutex<()> = Mutex::new(());

pub struct Postgres {
    scratch: Scratch,
    test: String,
    _turn: MutexGuard<'static, ()>,
}

impl Postgres {
    fn name(&self, db: &str) -> String {
        format!("{} {db} ü", self.test)
    }

    fn client(&self, db: &str) -> postgres::Client {
        cluster().client(&self.name(db))
    }

    fn temporaries(&self) -> Vec<String> {
        let pg = cluster();
        let mut out = pg.databases_like("sqlvault_restore_");
        out.extend(pg.databases_like("sqlvault_verify_"));
        out
    }
}

/// Wait until the server sessions of killed runs have ended. A session
/// busy with a statement when its client died (a `CREATE DATABASE`, say)
/// finishes it first: what it leaves exists only from then on, and only
/// then can the next run be expected to find and remove it.
fn settle() {
    let mut c = cluster().client("postgres");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let busy: i64 = c
            .query_one(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = 'sqlvault' AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        if busy == 0 || std::time::Instant::now() > deadline {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

impl Harness for Postgres {
    const ENGINE: &'static str = "postgres";
    const REPLACE_FLAG: &'static str = "--clean";
    const BANK_TOTAL: i64 = 2 * ACCOUNTS * START_BALANCE;
    type Snapshot = (String, Contents);

    fn new(test: &str) -> Self {
        let turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        // Fails the test when the server cannot start.
        let pg = cluster();
        let h = Postgres {
            scratch: Scratch::new(),
            test: test.to_string(),
            _turn: turn,
        };
        // What an earlier, failed test left is not this test's.
        for d in h.temporaries() {
            pg.drop_db(&d);
        }
        h
    }

    fn scratch(&self) -> &Scratch {
        &self.scratch
    }

    fn env(&self, cmd: &mut Command) {
        cluster().env(cmd);
    }

    fn secrets(&self) -> Vec<String> {
        vec![common::PASSWORD.to_string(), PG_PASSWORD.to_string()]
    }

    /// With the password in it: it must never be shown.
    fn source(&self, db: &str) -> String {
        cluster().url_with_password(&self.name(db))
    }

    fn shown_source(&self, db: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{}",
            cluster().port,
            shown_name(&self.name(db))
        )
    }

    fn database_name(&self, db: &str) -> String {
        self.name(db)
    }

    /// With the password in it too.
    fn target(&self, db: &str) -> String {
        cluster().url_with_password(&self.name(db))
    }

    fn verify_args(&self) -> Vec<String> {
        vec!["--pg-server".into(), cluster().url("postgres")]
    }

    /// One of everything a logical backup commonly gets wrong.
    fn create_fixture(&self, db: &str) {
        cluster().create_db(&self.name(db));
        self.client(db)
            .batch_execute(include_str!("../pg_common/fixture.sql"))
            .unwrap();
        let c = contents(&mut self.client(db));
        assert!(c.keys().any(|k| k.starts_with("large object")));
        assert!(c.contains_key("r public.measurements_2025_other"));
    }

    fn create_small(&self, db: &str) {
        cluster().create_db(&self.name(db));
        self.client(db)
            .batch_execute(
                "CREATE TABLE t (id int PRIMARY KEY, v text);
                 INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 100) i;",
            )
            .unwrap();
    }

    fn row_counts(&self, db: &str) -> BTreeMap<String, u64> {
        let mut c = self.client(db);
        let tables = c
            .query(
                "SELECT n.nspname::text, c.relname::text FROM pg_class c \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
                 AND n.nspname NOT LIKE 'pg\\_%'",
                &[],
            )
            .unwrap();
        tables
            .iter()
            .map(|t| {
                let (schema, name): (String, String) = (t.get(0), t.get(1));
                let sql = format!(
                    "SELECT count(*) FROM ONLY {}.{}",
                    quote_ident(&schema),
                    quote_ident(&name)
                );
                let n: i64 = c.query_one(&sql, &[]).unwrap().get(0);
                (format!("{schema}.{name}"), n as u64)
            })
            .collect()
    }

    fn snapshot(&self, db: &str) -> Self::Snapshot {
        (
            cluster().schema_dump(&self.name(db)),
            contents(&mut self.client(db)),
        )
    }

    #[track_caller]
    fn assert_same(&self, expected: &Self::Snapshot, db: &str) {
        assert_same_schema(&expected.0, &cluster().schema_dump(&self.name(db)));
        assert_same_contents(&expected.1, &contents(&mut self.client(db)));
    }

    fn expected_check(&self, level: &str, n: usize) -> String {
        match level {
            "full" => format!("full: {n} fingerprints match"),
            _ => format!("quick: {n} row counts match"),
        }
    }

    fn check_show(&self, shown: &serde_json::Value) {
        assert!(shown["versions"]["server"].is_string(), "{shown:#}");
        assert!(shown["versions"]["pg_dump"].is_string(), "{shown:#}");
        let entries = shown["fingerprints"]["tables"].as_array().unwrap();
        assert!(entries.iter().any(|e| e["kind"] == "sequence"));
        assert!(entries.iter().any(|e| e["kind"] == "large-objects"));
    }

    fn exists(&self, db: &str) -> bool {
        cluster().db_exists(&self.name(db))
    }

    fn remove(&self, db: &str) {
        cluster().drop_db(&self.name(db));
    }

    fn leftovers(&self) -> Vec<String> {
        settle();
        let mut out = self.temporaries();
        for e in std::fs::read_dir(self.scratch.tmpdir()).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with("sqlvault-") {
                out.push(e.path().display().to_string());
            }
        }
        out
    }

    fn remove_leftovers(&self) {
        for d in self.leftovers() {
            if d.starts_with('/') {
                let _ = std::fs::remove_file(&d);
            } else {
                cluster().drop_db(&d);
            }
        }
    }

    fn create_occupied(&self, db: &str) {
        cluster().create_db(&self.name(db));
        self.client(db)
            .batch_execute("CREATE TABLE precious (x int); INSERT INTO precious VALUES (42);")
            .unwrap();
    }

    fn occupied_unchanged(&self, db: &str) -> bool {
        self.exists(db)
            && self
                .client(db)
                .query("SELECT x FROM precious", &[])
                .is_ok_and(|r| r.len() == 1 && r[0].get::<_, i32>(0) == 42)
    }

    const TEMPORARY_DATABASE: bool = true;

    fn end_sessions(&self) -> usize {
        let n: i64 = cluster()
            .client("postgres")
            .query_one(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
                 WHERE application_name IN ('sqlvault', 'pg_dump', 'pg_restore') \
                   AND pid <> pg_backend_pid()",
                &[],
            )
            .unwrap()
            .get(0);
        n as usize
    }

    fn hold_temporaries(&self, stop: &std::sync::atomic::AtomicBool) -> usize {
        let mut held: Vec<(String, postgres::Client)> = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            for name in cluster().databases_like("sqlvault_restore_") {
                if held.iter().any(|(n, _)| *n == name) {
                    continue;
                }
                if let Ok(c) = postgres::Config::new()
                    .host("127.0.0.1")
                    .port(cluster().port)
                    .user("postgres")
                    .password(crate::pg_common::PG_PASSWORD)
                    .dbname(&name)
                    .application_name("monitoring")
                    .connect(postgres::NoTls)
                {
                    held.push((name, c));
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        held.len()
    }

    fn occupied_message(&self, db: &str) -> String {
        format!("database `{}` already exists", self.name(db))
    }

    fn missing_message(&self, db: &str) -> String {
        format!("database `{}` does not exist", self.name(db))
    }

    fn busy_variants(&self) -> Vec<Busy> {
        vec![Busy {
            label: "one snapshot shared by 4 connections",
            setup: "",
            backup_args: vec!["--jobs".into(), "4".into()],
            movers: 3,
            rounds: 2,
            expect_staging: false,
            min_commits_during: 20,
        }]
    }

    /// Accounts in two tables, each move logged in a third, and a filler
    /// large enough that the copy takes a while (copied first, largest
    /// first).
    fn create_bank(&self, db: &str, _variant: &Busy) {
        cluster().create_db(&self.name(db));
        self.client(db)
            .batch_execute(&format!(
                "CREATE TABLE accounts_a (id int PRIMARY KEY, balance bigint NOT NULL);
                 CREATE TABLE accounts_b (id int PRIMARY KEY, balance bigint NOT NULL);
                 CREATE TABLE transfers (id bigserial PRIMARY KEY, from_a bool NOT NULL, amount bigint NOT NULL);
                 CREATE TABLE filler (id int PRIMARY KEY, body text);
                 INSERT INTO accounts_a SELECT i, {START_BALANCE} FROM generate_series(1, {ACCOUNTS}) i;
                 INSERT INTO accounts_b SELECT i, {START_BALANCE} FROM generate_series(1, {ACCOUNTS}) i;
                 INSERT INTO filler SELECT i, repeat(md5(i::text), 6) FROM generate_series(1, 150000) i;"
            ))
            .unwrap();
    }

    fn mover(&self, db: &str, seed: u64) -> Mover {
        let mut c = self.client(db);
        let mut rng = Rng::new(seed);
        Box::new(move || {
            let id = 1 + rng.below(ACCOUNTS as u64) as i32;
            let amount = 1 + rng.below(50) as i64;
            let from_a = rng.below(2) == 0;
            // Out of account a, or into it; always a's row first, so that
            // two movers never wait for each other in a deadlock (whose
            // detection would stall them all for a second).
            let out_of_a = if from_a { amount } else { -amount };
            let r = (|| -> Result<(), postgres::Error> {
                let mut tx = c.transaction()?;
                tx.execute(
                    "UPDATE accounts_a SET balance = balance - $1 WHERE id = $2",
                    &[&out_of_a, &id],
                )?;
                tx.execute(
                    "UPDATE accounts_b SET balance = balance + $1 WHERE id = $2",
                    &[&out_of_a, &id],
                )?;
                tx.execute(
                    "INSERT INTO transfers (from_a, amount) VALUES ($1, $2)",
                    &[&from_a, &amount],
                )?;
                tx.commit()
            })();
            match r {
                Ok(()) => true,
                // The server refused this one (a serialization or lock
                // failure); the mover tries another.
                Err(e) if e.code().is_some() => false,
                Err(e) => panic!("transfer failed: {e}"),
            }
        })
    }

    #[track_caller]
    fn bank(&self, db: &str) -> Bank {
        let r = self
            .client(db)
            .query_one(
                "SELECT (SELECT sum(balance) FROM accounts_a)::bigint, \
                        (SELECT sum(balance) FROM accounts_b)::bigint, \
                        (SELECT coalesce(sum(CASE WHEN from_a THEN amount ELSE -amount END), 0) \
                         FROM transfers)::bigint, \
                        (SELECT count(*) FROM transfers)",
                &[],
            )
            .unwrap();
        let (a, b, net_from_a, transfers): (i64, i64, i64, i64) =
            (r.get(0), r.get(1), r.get(2), r.get(3));
        // The accounts and the log come from the same instant.
        assert_eq!(
            a,
            ACCOUNTS * START_BALANCE - net_from_a,
            "accounts_a disagrees with the log"
        );
        assert_eq!(
            b,
            ACCOUNTS * START_BALANCE + net_from_a,
            "accounts_b disagrees with the log"
        );
        Bank {
            total: a + b,
            transfers,
        }
    }

    fn create_big(&self, db: &str) {
        cluster().create_db(&self.name(db));
        self.client(db)
            .batch_execute(
                "CREATE TABLE big (id bigint PRIMARY KEY, v text, b bytea);
                 INSERT INTO big SELECT i, md5(i::text) || md5((i * 7)::text),
                                        decode(md5((i * 3)::text), 'hex')
                 FROM generate_series(1, 60000) i;
                 CREATE TABLE side (id int PRIMARY KEY, note text);
                 INSERT INTO side SELECT i, 'note ' || i FROM generate_series(1, 20000) i;
                 CREATE INDEX big_v ON big (v);",
            )
            .unwrap();
    }

    fn change_big(&self, db: &str, round: u64) {
        self.client(db)
            .batch_execute(&format!(
                "UPDATE big SET v = md5(v) WHERE id % 4 = {};
                 INSERT INTO side SELECT 100000 * {} + i, 'round' FROM generate_series(1, 100) i;",
                round % 4,
                round + 1
            ))
            .unwrap();
    }

    fn restore_milestones(&self, _db: &str) -> Vec<Milestone> {
        let pg = cluster();
        let (src_size, empty_size): (i64, i64) = {
            let r = pg
                .client("postgres")
                .query_one(
                    "SELECT pg_database_size($1), pg_database_size('template0')",
                    &[&self.name("big")],
                )
                .unwrap();
            (r.get(0), r.get(1))
        };
        let at = |share: f64| -> Probe {
            let mut c = cluster().client("postgres");
            let want = empty_size + ((src_size - empty_size) as f64 * share) as i64;
            Box::new(move || {
                c.query(
                    "SELECT 1 FROM pg_database WHERE datname LIKE 'sqlvault\\_restore\\_%' \
                     AND pg_database_size(oid) >= $1",
                    &[&want],
                )
                .is_ok_and(|r| !r.is_empty())
            })
        };
        vec![
            ("as the temporary database appears", at(0.0)),
            ("with the temporary database half loaded", at(0.5)),
            ("with the temporary database fully loaded", at(0.95)),
        ]
    }
}

impl Credentials for Postgres {
    const REFUSED: &'static str = "refused the login";

    fn wrong_credentials(&self, source: &str, target: &str) -> (String, String, String) {
        let wrong = "not-the-Password-77";
        let port = cluster().port;
        let url = |db: &str| {
            format!(
                "postgres://postgres:{wrong}@127.0.0.1:{port}/{}",
                crate::pg_common::encode(&self.name(db))
            )
        };
        (url(source), url(target), wrong.to_string())
    }
}
