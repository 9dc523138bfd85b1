//! MariaDB under the engine contract: databases live on the test binary's
//! private server (label `x` of test `t` is the database `t x ü`, a name
//! that needs quoting and encoding), compared by their `mariadb-dump`
//! schema (sequence states included) and every base table's rows, sorted,
//! generated and invisible columns included. Temporaries are
//! `sqlvault_verify_*` (and `sqlvault_restore_*`) databases and
//! `sqlvault-*` files in the binary's TMPDIR. A restore builds its target
//! under the target's own name (MariaDB cannot rename a database), so a
//! half target is what `exists` sees: a restore killed between creating
//! the target and finishing it leaves one, and the kill -9 item of the
//! contract fails for this engine until restores stop building in place.
//!
//! The tests of this engine take turns: they share one server, and a
//! temporary database of one would count as a leftover of another.

use crate::common::{self, Rng, Scratch};
use crate::mariadb_common::{
    Contents, MARIADB_PASSWORD, assert_same_contents, encode, quote_ident, server,
};
use crate::pg_common::compare::assert_same_schema;
use crate::support::{Mover, shown_name};
use crate::{Bank, Busy, Credentials, Harness, Milestone, Probe};
use mysql::prelude::Queryable;
use std::collections::BTreeMap;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

const ACCOUNTS: i64 = 500;
const START_BALANCE: i64 = 1_000;

static TURNS: Mutex<()> = Mutex::new(());

/// Tables with NULLs, blobs holding NUL bytes and what trips the LOAD
/// DATA format, 4-byte characters, exact decimals, microseconds, JSON,
/// ENUM/SET/BIT, AUTO_INCREMENT keys, generated and invisible columns, a
/// foreign key and a check constraint, a table without a key, a
/// system-versioned table, an Aria table with an odd name, a used
/// sequence, a view, a function, a procedure and a trigger (whose rows are
/// already in `audit`: a restore must not fire it again).
const FIXTURE: &str = r#"
SET NAMES utf8mb4;
CREATE TABLE customers (
  id INT AUTO_INCREMENT PRIMARY KEY,
  name VARCHAR(100) NOT NULL,
  email VARCHAR(200) NULL,
  balance DECIMAL(20,6) NULL,
  joined DATETIME(6) NOT NULL,
  prefs JSON NULL,
  name_upper VARCHAR(400) AS (UPPER(name)) VIRTUAL,
  name_chars INT AS (CHAR_LENGTH(name)) PERSISTENT,
  secret_note VARCHAR(50) INVISIBLE DEFAULT 'hidden',
  KEY by_email (email)
) ENGINE=InnoDB;
INSERT INTO customers (name, email, balance, joined, prefs, secret_note)
SELECT CONCAT(ELT(1 + seq % 6, 'Zoë', 'Łukasz 😀', '李小龙', 'O''Brien', 'tab\there', 'back\\slash'), ' ', seq),
       IF(seq % 7 = 0, NULL, CONCAT('user', seq, '@example.org')),
       IF(seq % 11 = 0, NULL, seq * 1234.567891 - 50000),
       TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq * 3607 SECOND + INTERVAL seq * 13 MICROSECOND,
       IF(seq % 5 = 0, NULL, JSON_OBJECT('n', seq, 'tags', JSON_ARRAY('a', CONCAT('𝄞', seq)), 'nul', NULL)),
       IF(seq % 3 = 0, NULL, CONCAT('note ', seq))
FROM seq_1_to_400;
DELETE FROM customers WHERE id > 390;

CREATE TABLE orders (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  customer_id INT NOT NULL,
  amount DECIMAL(12,2) NOT NULL,
  placed DATE NOT NULL,
  status ENUM('new', 'paid', 'shipped') NOT NULL DEFAULT 'new',
  flags SET('gift', 'rush', 'fragile') NULL,
  CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id),
  CONSTRAINT positive CHECK (amount >= 0)
) ENGINE=InnoDB;

CREATE TABLE audit (
  id INT AUTO_INCREMENT PRIMARY KEY,
  order_id BIGINT NOT NULL,
  what VARCHAR(20) NOT NULL,
  at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
) ENGINE=InnoDB;

CREATE TRIGGER orders_logged AFTER INSERT ON orders FOR EACH ROW
  INSERT INTO audit (order_id, what) VALUES (NEW.id, CONCAT('new ', NEW.status));

INSERT INTO orders (customer_id, amount, placed, status, flags)
SELECT 1 + seq % 390, (seq * 37 % 100000) / 100, DATE('2023-06-01') + INTERVAL seq % 500 DAY,
       ELT(1 + seq % 3, 'new', 'paid', 'shipped'),
       IF(seq % 4 = 0, NULL, ELT(1 + seq % 4, '', 'gift', 'rush,fragile', 'gift,rush'))
FROM seq_1_to_1500;

CREATE TABLE blobs (
  id BIGINT PRIMARY KEY,
  body LONGBLOB NULL,
  bits BIT(12) NULL,
  tiny TINYBLOB NULL,
  label VARCHAR(40) CHARACTER SET latin1 NULL,
  doc MEDIUMTEXT NULL
) ENGINE=InnoDB;
INSERT INTO blobs
SELECT seq,
       CASE seq % 5 WHEN 0 THEN NULL WHEN 1 THEN X''
         ELSE CONCAT(X'00', UNHEX(SHA2(seq, 512)), X'0A0D5C09004E00', REPEAT(UNHEX(MD5(seq)), seq % 40)) END,
       IF(seq % 6 = 0, NULL, seq % 4096),
       IF(seq % 2 = 0, X'5C4E', X'000000'),
       IF(seq % 9 = 0, NULL, CONCAT('café ', seq)),
       CASE seq % 4 WHEN 0 THEN NULL WHEN 1 THEN '\\N' WHEN 2 THEN 'NULL'
         ELSE CONCAT('line one\nline two\ttabbed \\ ', seq, ' 🦀\r') END
FROM seq_1_to_300;

CREATE TABLE no_key (a INT NULL, b VARCHAR(10) NULL) ENGINE=InnoDB;
INSERT INTO no_key SELECT seq % 10, IF(seq % 3 = 0, NULL, 'dup') FROM seq_1_to_60;

CREATE TABLE prices (
  id INT PRIMARY KEY,
  price DECIMAL(10,2) NOT NULL
) ENGINE=InnoDB WITH SYSTEM VERSIONING;
INSERT INTO prices SELECT seq, seq * 1.5 FROM seq_1_to_50;
UPDATE prices SET price = price + 1 WHERE id <= 10;

CREATE TABLE `odd name ü` (`key` INT PRIMARY KEY, `select` VARCHAR(10)) ENGINE=Aria;
INSERT INTO `odd name ü` VALUES (1, 'a'), (2, NULL), (3, '');

CREATE SEQUENCE ticket_numbers START WITH 100 INCREMENT BY 5;
SELECT NEXTVAL(ticket_numbers), NEXTVAL(ticket_numbers), NEXTVAL(ticket_numbers);

CREATE VIEW customer_totals AS
  SELECT c.id, c.name, COUNT(o.id) AS orders, SUM(o.amount) AS total
  FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id, c.name;

CREATE FUNCTION with_tax(amount DECIMAL(12,2)) RETURNS DECIMAL(12,2) DETERMINISTIC
  RETURN amount * 1.2;

CREATE PROCEDURE mark_paid(IN order_id BIGINT)
BEGIN
  UPDATE orders SET status = 'paid' WHERE id = order_id;
END;
"#;

pub struct MariaDb {
    scratch: Scratch,
    test: String,
    _turn: MutexGuard<'static, ()>,
}

impl MariaDb {
    fn name(&self, db: &str) -> String {
        format!("{} {db} ü", self.test)
    }

    fn url(&self, db: &str) -> String {
        format!("{}{}", server().url_with_password(), encode(&self.name(db)))
    }

    fn create(&self, db: &str, sql: &str) {
        let name = self.name(db);
        server().create_db(&name, "utf8mb4");
        server().exec(Some(&name), sql);
    }

    fn temporaries(&self) -> Vec<String> {
        let s = server();
        let mut out = s.databases_like("sqlvault_restore_");
        out.extend(s.databases_like("sqlvault_verify_"));
        out
    }

    fn incomplete_name(&self, name: &str) -> bool {
        let comment: Option<String> = server()
            .client()
            .exec_first(
                "SELECT SCHEMA_COMMENT FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                (name,),
            )
            .unwrap();
        comment.is_some_and(|c| c.starts_with(sqlvault::engine::mariadb::leftovers::MARK))
    }

    /// Every database of this test.
    fn own_databases(&self) -> Vec<String> {
        server().databases_like(&format!("{} ", self.test))
    }
}

impl Drop for MariaDb {
    /// A passing test's databases go; a failing one's stay to look at
    /// (until the server stops with the test binary, or the next test of
    /// this name).
    fn drop(&mut self) {
        if !std::thread::panicking() {
            for d in self.own_databases() {
                server().drop_db(&d);
            }
        }
    }
}

impl Harness for MariaDb {
    const ENGINE: &'static str = "mariadb";
    const REPLACE_FLAG: &'static str = "--clean";
    const BANK_TOTAL: i64 = 2 * ACCOUNTS * START_BALANCE;
    type Snapshot = (String, Contents);

    fn new(test: &str) -> Self {
        let turn = TURNS.lock().unwrap_or_else(|e| e.into_inner());
        // Fails the test when the server cannot start.
        let s = server();
        let h = MariaDb {
            scratch: Scratch::new(),
            test: test.to_string(),
            _turn: turn,
        };
        // What an earlier, failed test (or an earlier harness of this
        // test) left is not this one's.
        for d in h.temporaries().into_iter().chain(h.own_databases()) {
            s.drop_db(&d);
        }
        h
    }

    fn scratch(&self) -> &Scratch {
        &self.scratch
    }

    /// The password for URLs without one (`--mariadb-server`).
    fn env(&self, cmd: &mut Command) {
        server().env(cmd);
        cmd.env("MYSQL_PWD", MARIADB_PASSWORD);
    }

    fn secrets(&self) -> Vec<String> {
        vec![common::PASSWORD.to_string(), MARIADB_PASSWORD.to_string()]
    }

    /// With the password in it: it must never be shown.
    fn source(&self, db: &str) -> String {
        self.url(db)
    }

    fn shown_source(&self, db: &str) -> String {
        format!(
            "mariadb://root@127.0.0.1:{}/{}",
            server().port,
            shown_name(&self.name(db))
        )
    }

    fn database_name(&self, db: &str) -> String {
        self.name(db)
    }

    /// With the password in it too.
    fn target(&self, db: &str) -> String {
        self.url(db)
    }

    /// No password: that comes from MYSQL_PWD.
    fn verify_args(&self) -> Vec<String> {
        vec!["--mariadb-server".into(), server().url()]
    }

    fn create_fixture(&self, db: &str) {
        self.create(db, FIXTURE);
        let c = server().contents(&self.name(db));
        assert_eq!(c["audit"].len(), 1500, "the trigger did not fire");
        // 50 current rows and the 10 past ones the update left in history.
        assert_eq!(c["prices"].len(), 60);
    }

    fn create_small(&self, db: &str) {
        self.create(
            db,
            "CREATE TABLE t (id INT PRIMARY KEY, v TEXT) ENGINE=InnoDB;
             INSERT INTO t SELECT seq, CONCAT('v', seq) FROM seq_1_to_100;",
        );
    }

    fn row_counts(&self, db: &str) -> BTreeMap<String, u64> {
        let name = self.name(db);
        let mut c = server().client();
        server()
            .tables(&name)
            .into_iter()
            .map(|t| {
                // A system-versioned table holds its past rows too.
                let versioned: Option<String> = c
                    .exec_first(
                        "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? \
                         AND TABLE_NAME = ? AND TABLE_TYPE = 'SYSTEM VERSIONED'",
                        (&name, &t),
                    )
                    .unwrap();
                let sql = format!(
                    "SELECT COUNT(*) FROM {}.{}{}",
                    quote_ident(&name),
                    quote_ident(&t),
                    if versioned.is_some() {
                        " FOR SYSTEM_TIME ALL"
                    } else {
                        ""
                    }
                );
                let n: u64 = c.query_first(&sql).unwrap().unwrap();
                (t, n)
            })
            .collect()
    }

    fn snapshot(&self, db: &str) -> Self::Snapshot {
        let name = self.name(db);
        (server().schema_dump(&name), server().contents(&name))
    }

    #[track_caller]
    fn assert_same(&self, expected: &Self::Snapshot, db: &str) {
        let name = self.name(db);
        assert_same_schema(&expected.0, &server().schema_dump(&name));
        assert_same_contents(&expected.1, &server().contents(&name));
    }

    fn expected_check(&self, level: &str, n: usize) -> String {
        match level {
            "full" => format!("full: {n} fingerprints match"),
            _ => format!("quick: {n} row counts match"),
        }
    }

    /// The server's version and the schema's two streams; views and
    /// sequences have no fingerprint: they are schema.
    fn check_show(&self, shown: &serde_json::Value) {
        let server = shown["versions"]["server"].as_str().unwrap_or_default();
        assert!(server.contains("MariaDB"), "{shown:#}");
        let streams: Vec<&str> = shown["streams"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["name"].as_str())
            .collect();
        for schema in ["schema/pre-data", "schema/post-data"] {
            assert!(streams.contains(&schema), "no {schema}: {shown:#}");
        }
        let entries = shown["fingerprints"]["tables"].as_array().unwrap();
        for not_a_table in ["customer_totals", "ticket_numbers"] {
            assert!(
                !entries.iter().any(|e| e["name"] == not_a_table),
                "{not_a_table} has a fingerprint: {shown:#}"
            );
        }
        assert!(entries.iter().all(|e| e["kind"] == "table"), "{shown:#}");
    }

    fn exists(&self, db: &str) -> bool {
        server().db_exists(&self.name(db))
    }

    fn incomplete(&self, db: &str) -> bool {
        self.incomplete_name(&self.name(db))
    }

    fn remove(&self, db: &str) {
        server().drop_db(&self.name(db));
    }

    fn leftovers(&self) -> Vec<String> {
        let mut out = self.temporaries();
        // A target a killed restore left incomplete counts too.
        out.extend(
            self.own_databases()
                .into_iter()
                .filter(|d| self.incomplete_name(d)),
        );
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
                server().drop_db(&d);
            }
        }
    }

    fn create_occupied(&self, db: &str) {
        self.create(
            db,
            "CREATE TABLE precious (x INT) ENGINE=InnoDB; INSERT INTO precious VALUES (42);",
        );
    }

    fn occupied_unchanged(&self, db: &str) -> bool {
        if !self.exists(db) {
            return false;
        }
        let sql = format!("SELECT x FROM {}.precious", quote_ident(&self.name(db)));
        server()
            .client()
            .query::<i32, _>(sql)
            .is_ok_and(|r| r == [42])
    }

    fn occupied_message(&self, db: &str) -> String {
        format!(
            "database `{}` already exists on `mariadb://root@127.0.0.1:{}` and is not empty",
            self.name(db),
            server().port
        )
    }

    fn missing_message(&self, db: &str) -> String {
        format!(
            "database `{}` does not exist on `mariadb://root@127.0.0.1:{}`",
            self.name(db),
            server().port
        )
    }

    fn busy_variants(&self) -> Vec<Busy> {
        let variant = |label, jobs: &str| Busy {
            label,
            setup: "",
            backup_args: vec!["--jobs".into(), jobs.into()],
            movers: 3,
            rounds: 2,
            expect_staging: false,
            min_commits_during: 20,
        };
        vec![
            variant("one connection, no lock", "1"),
            variant("one snapshot shared by 4 connections", "4"),
        ]
    }

    /// Accounts in two InnoDB tables, each move logged in a third, and a
    /// filler large enough that the copy takes a while.
    fn create_bank(&self, db: &str, _variant: &Busy) {
        self.create(
            db,
            &format!(
                "CREATE TABLE accounts_a (id INT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB;
                 CREATE TABLE accounts_b (id INT PRIMARY KEY, balance BIGINT NOT NULL) ENGINE=InnoDB;
                 CREATE TABLE transfers (id BIGINT AUTO_INCREMENT PRIMARY KEY,
                                         from_a BOOL NOT NULL, amount BIGINT NOT NULL) ENGINE=InnoDB;
                 CREATE TABLE filler (id INT PRIMARY KEY, body TEXT) ENGINE=InnoDB;
                 INSERT INTO accounts_a SELECT seq, {START_BALANCE} FROM seq_1_to_{ACCOUNTS};
                 INSERT INTO accounts_b SELECT seq, {START_BALANCE} FROM seq_1_to_{ACCOUNTS};
                 INSERT INTO filler SELECT seq, REPEAT(MD5(seq), 6) FROM seq_1_to_150000;"
            ),
        );
    }

    fn mover(&self, db: &str, seed: u64) -> Mover {
        let mut c = server().client();
        c.query_drop(format!("USE {}", quote_ident(&self.name(db))))
            .unwrap();
        let mut rng = Rng::new(seed);
        Box::new(move || {
            let id = 1 + rng.below(ACCOUNTS as u64) as i32;
            let amount = 1 + rng.below(50) as i64;
            let from_a = rng.below(2) == 0;
            // Out of account a, or into it; always a's row first, so that
            // two movers never wait for each other in a deadlock.
            let out_of_a = if from_a { amount } else { -amount };
            let r = (|| -> Result<(), mysql::Error> {
                let mut tx = c.start_transaction(mysql::TxOpts::default())?;
                tx.exec_drop(
                    "UPDATE accounts_a SET balance = balance - ? WHERE id = ?",
                    (out_of_a, id),
                )?;
                tx.exec_drop(
                    "UPDATE accounts_b SET balance = balance + ? WHERE id = ?",
                    (out_of_a, id),
                )?;
                tx.exec_drop(
                    "INSERT INTO transfers (from_a, amount) VALUES (?, ?)",
                    (from_a, amount),
                )?;
                tx.commit()
            })();
            match r {
                Ok(()) => true,
                // The server refused this one (a lock wait timeout or a
                // deadlock); the mover tries another.
                Err(mysql::Error::MySqlError(_)) => false,
                Err(e) => panic!("transfer failed: {e}"),
            }
        })
    }

    #[track_caller]
    fn bank(&self, db: &str) -> Bank {
        let mut c = server().client();
        c.query_drop(format!("USE {}", quote_ident(&self.name(db))))
            .unwrap();
        let (a, b, net_from_a, transfers): (i64, i64, i64, i64) = c
            .query_first(
                "SELECT CAST((SELECT SUM(balance) FROM accounts_a) AS SIGNED), \
                        CAST((SELECT SUM(balance) FROM accounts_b) AS SIGNED), \
                        CAST((SELECT COALESCE(SUM(IF(from_a, amount, -amount)), 0) \
                              FROM transfers) AS SIGNED), \
                        (SELECT COUNT(*) FROM transfers)",
            )
            .unwrap()
            .unwrap();
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

    /// About 20 MB of rows: a backup takes most of a second.
    fn create_big(&self, db: &str) {
        self.create(
            db,
            "CREATE TABLE big (id BIGINT PRIMARY KEY, v VARCHAR(64), b VARBINARY(16), body TEXT)
               ENGINE=InnoDB;
             INSERT INTO big SELECT seq, CONCAT(MD5(seq), MD5(seq * 7)), UNHEX(MD5(seq * 3)),
                                    REPEAT(MD5(seq * 11), 6)
             FROM seq_1_to_60000;
             CREATE TABLE side (id INT PRIMARY KEY, note TEXT) ENGINE=InnoDB;
             INSERT INTO side SELECT seq, CONCAT('note ', seq) FROM seq_1_to_20000;
             CREATE INDEX big_v ON big (v);",
        );
    }

    fn change_big(&self, db: &str, round: u64) {
        server().exec(
            Some(&self.name(db)),
            &format!(
                "UPDATE big SET v = MD5(v) WHERE id % 4 = {};
                 INSERT INTO side SELECT 100000 * {} + seq, 'round' FROM seq_1_to_100;",
                round % 4,
                round + 1
            ),
        );
    }

    /// The target appears, gets its tables, and fills: rows are counted
    /// uncommitted, as the loads write them.
    fn end_sessions(&self) -> usize {
        let mut c = server().client();
        let ids: Vec<u64> = c
            .query(
                "SELECT ID FROM information_schema.PROCESSLIST \
                 WHERE ID <> CONNECTION_ID() AND COMMAND NOT IN ('Daemon', 'Binlog Dump') \
                   AND USER NOT IN ('system user', 'event_scheduler')",
            )
            .unwrap();
        ids.iter()
            .filter(|id| c.query_drop(format!("KILL CONNECTION {id}")).is_ok())
            .count()
    }

    fn restore_milestones(&self, db: &str) -> Vec<Milestone> {
        let name = self.name(db);
        let big_rows = |at_least: u64| -> Probe {
            let mut c = server().client();
            c.query_drop("SET SESSION TRANSACTION ISOLATION LEVEL READ UNCOMMITTED")
                .unwrap();
            let sql = format!("SELECT COUNT(*) FROM {}.big", quote_ident(&name));
            Box::new(move || {
                c.query_first::<u64, _>(&sql)
                    .is_ok_and(|n| n.is_some_and(|n| n >= at_least))
            })
        };
        let appears: Probe = {
            let mut c = server().client();
            let name = name.clone();
            Box::new(move || {
                c.exec_first::<u64, _, _>(
                    "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?",
                    (&name,),
                )
                .is_ok_and(|n| n == Some(1))
            })
        };
        let has_tables: Probe = {
            let mut c = server().client();
            let name = name.clone();
            Box::new(move || {
                c.exec_first::<u64, _, _>(
                    "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
                    (&name,),
                )
                .is_ok_and(|n| n == Some(2))
            })
        };
        vec![
            ("as the target database appears", appears),
            ("once the target's tables exist", has_tables),
            ("with the first rows of `big` loaded", big_rows(1)),
            ("with `big` half loaded", big_rows(30_000)),
            ("with `big` fully loaded", big_rows(60_000)),
        ]
    }
}

impl Credentials for MariaDb {
    const REFUSED: &'static str = "refused the login";

    fn wrong_credentials(&self, source: &str, target: &str) -> (String, String, String) {
        let wrong = "not-the-Password-77";
        let port = server().port;
        let url = |db: &str| {
            format!(
                "mariadb://root:{wrong}@127.0.0.1:{port}/{}",
                encode(&self.name(db))
            )
        };
        (url(source), url(target), wrong.to_string())
    }
}
