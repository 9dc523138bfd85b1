//! Shared helpers for the black-box tests: run the real `sqlvault` binary
//! with a clean environment, build SQLite fixture databases, and compare
//! databases by schema and row content.

#![allow(dead_code)]

use assert_cmd::cargo::CommandCargoExt;
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use tempfile::TempDir;

/// A password distinctive enough that finding it in any output is a leak.
pub const PASSWORD: &str = "Quokka-vermilion-8841-zephyr-PW";

/// A string stored in fixture databases; it must never be readable in an
/// encrypted repository.
pub const MARKER: &str = "CANARY-plaintext-7f3a9c1e-do-not-leak";

/// Variables that would change what the binary does; removed from every run.
const ENV_TO_CLEAR: &[&str] = &[
    "SQLVAULT_PASSWORD",
    "SQLVAULT_PASSWORD_FILE",
    "SQLVAULT_KEY_FILE",
    "SQLVAULT_REPOSITORY",
    "XDG_DATA_HOME",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "TMPDIR",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_SAS_TOKEN",
    "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_ACCOUNT",
    "AZURE_STORAGE_BLOB_ENDPOINT",
    "AZURE_STORAGE_QUEUE_ENDPOINT",
    "SQLVAULT_AZURE_REQUEST_LOG",
    "SQLVAULT_NOW",
];

/// Path of the binary under test (for spawning children directly).
pub fn bin_path() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_sqlvault"))
}

/// The binary with no SQLVAULT_* or XDG variables, and HOME, the XDG
/// directories and TMPDIR all inside `home`.
pub fn bare_command(home: &Path) -> Command {
    let mut c = Command::cargo_bin("sqlvault").expect("the sqlvault binary is built");
    for v in ENV_TO_CLEAR {
        c.env_remove(v);
    }
    let tmp = home.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    c.env("HOME", home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("TMPDIR", &tmp);
    c
}

/// What one run of the binary did.
#[derive(Debug)]
pub struct Out {
    /// Exit code; -1 when ended by a signal.
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// What a finished child wrote; the password must not be in it.
    pub fn from_output(o: std::process::Output) -> Out {
        let out = Out {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        assert_no_password(&out);
        out
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "expected exit code {code}, got {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// The `sqlvault: error:` lines of stderr.
    pub fn error_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("sqlvault: error:"))
            .collect()
    }
}

/// Run to completion and check that the password never shows up.
pub fn run(cmd: &mut Command) -> Out {
    Out::from_output(cmd.output().expect("the binary runs"))
}

/// Run to completion and fail if `secret` shows up in stdout or stderr.
#[track_caller]
pub fn run_hiding(cmd: &mut Command, secret: &str) -> Out {
    let out = run(cmd);
    assert_hidden(&out, secret);
    out
}

/// Fail if `secret` shows up in stdout or stderr.
#[track_caller]
pub fn assert_hidden(out: &Out, secret: &str) {
    for (name, text) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !text.contains(secret),
            "the password appears in {name}:\n{text}"
        );
    }
}

#[track_caller]
pub fn assert_no_password(out: &Out) {
    assert_hidden(out, PASSWORD);
}

/// A test's scratch directory with a home for the binary.
pub struct Scratch {
    pub dir: TempDir,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::Builder::new()
            .prefix("sqlvault-it-")
            .tempdir()
            .unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Scratch { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// The binary's temp directory (TMPDIR) for this scratch.
    pub fn tmpdir(&self) -> PathBuf {
        self.home().join("tmp")
    }

    pub fn command(&self) -> Command {
        bare_command(&self.home())
    }
}

impl Default for Scratch {
    fn default() -> Self {
        Scratch::new()
    }
}

/// A repository at a path, with how to open it.
pub struct Vault {
    pub repo: PathBuf,
    pub home: PathBuf,
    pub password: Option<String>,
}

impl Vault {
    /// `init` an encrypted repository (password [`PASSWORD`]) at `repo`.
    pub fn init(scratch: &Scratch, repo: PathBuf) -> Vault {
        let v = Vault {
            repo,
            home: scratch.home(),
            password: Some(PASSWORD.to_string()),
        };
        v.run(&["init"]).expect_code(0);
        assert!(v.repo.join("config").is_file(), "init wrote no config");
        v
    }

    /// `init --no-encryption` at `repo`.
    pub fn init_unencrypted(scratch: &Scratch, repo: PathBuf) -> Vault {
        let v = Vault {
            repo,
            home: scratch.home(),
            password: None,
        };
        v.run(&["init", "--no-encryption"]).expect_code(0);
        v
    }

    /// The binary with --repo, the password in the environment and no progress.
    pub fn cmd(&self) -> Command {
        let mut c = bare_command(&self.home);
        c.arg("--repo").arg(&self.repo).arg("--no-progress");
        if let Some(p) = &self.password {
            c.env("SQLVAULT_PASSWORD", p);
        }
        c
    }

    pub fn run(&self, args: &[&str]) -> Out {
        run(self.cmd().args(args))
    }

    pub fn run_os<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Out {
        run(self.cmd().args(args))
    }

    /// `backup --json` of the given databases plus extra flags.
    pub fn backup_with(&self, dbs: &[&Path], extra: &[&str]) -> Out {
        let mut c = self.cmd();
        c.arg("--json").arg("backup");
        for d in dbs {
            c.arg(d);
        }
        c.args(extra);
        run(&mut c)
    }

    /// Back up and require success; returns the report.
    #[track_caller]
    pub fn backup(&self, dbs: &[&Path]) -> Value {
        let out = self.backup_with(dbs, &[]);
        out.expect_code(0);
        let r = out.json();
        assert_eq!(r["command"], "backup");
        assert_eq!(r["status"], "ok", "report: {r:#}");
        assert_eq!(r["databases"].as_array().unwrap().len(), dbs.len());
        r
    }

    /// Back up one database and return its new restore point id.
    #[track_caller]
    pub fn backup_one(&self, db: &Path) -> String {
        let r = self.backup(&[db]);
        point_of(&r["databases"][0])
    }

    /// `restore POINT --to TARGET --json` plus extra flags.
    pub fn restore_with(&self, point: &str, to: &Path, extra: &[&str]) -> Out {
        let mut c = self.cmd();
        c.arg("--json")
            .arg("restore")
            .arg(point)
            .arg("--to")
            .arg(to)
            .args(extra);
        run(&mut c)
    }

    /// Restore and require success; returns the report.
    #[track_caller]
    pub fn restore(&self, point: &str, to: &Path) -> Value {
        let out = self.restore_with(point, to, &[]);
        out.expect_code(0);
        let r = out.json();
        assert_eq!(r["command"], "restore");
        assert_eq!(r["status"], "ok", "report: {r:#}");
        assert!(to.is_file(), "restore reported ok but {to:?} is missing");
        r
    }

    /// `points --json`.
    #[track_caller]
    pub fn points(&self) -> Vec<Value> {
        let out = self.run(&["--json", "points"]);
        out.expect_code(0);
        out.json().as_array().expect("points is an array").clone()
    }

    /// `verify --json` (with `--restore` when asked); returns the run.
    pub fn verify(&self, restore: bool) -> Out {
        if restore {
            self.run(&["--json", "verify", "--restore"])
        } else {
            self.run(&["--json", "verify"])
        }
    }
}

/// The restore point id of one report item, checked to be a full id.
#[track_caller]
pub fn point_of(item: &Value) -> String {
    let id = item["restore_point"]
        .as_str()
        .unwrap_or_else(|| panic!("no restore point in {item:#}"))
        .to_string();
    assert_eq!(id.len(), 64, "restore point id {id} is not 64 hex digits");
    assert!(id.chars().all(|c| c.is_ascii_hexdigit()));
    id
}

// ---------------------------------------------------------------------------
// Deterministic pseudo-random data.

/// xorshift64*: small, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            let x = self.next_u64();
            v.extend_from_slice(&x.to_le_bytes());
        }
        v.truncate(n);
        v
    }

    /// Lowercase words: compressible, text-like.
    pub fn words(&mut self, n: usize) -> String {
        const W: &[&str] = &[
            "ledger", "invoice", "north", "harbor", "copper", "delta", "maple", "signal", "orbit",
            "quartz", "river", "tango", "amber", "cinder", "falcon", "garnet",
        ];
        let mut s = String::with_capacity(n * 7);
        for i in 0..n {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(W[self.below(W.len() as u64) as usize]);
        }
        s
    }
}

// ---------------------------------------------------------------------------
// Fixture databases.

pub fn open(path: &Path) -> Connection {
    let c = Connection::open(path).unwrap();
    c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
    c
}

/// Set the journal mode and check it took.
pub fn set_journal_mode(c: &Connection, mode: &str) {
    let got: String = c
        .query_row(&format!("PRAGMA journal_mode={mode}"), [], |r| r.get(0))
        .unwrap();
    assert_eq!(got.to_ascii_lowercase(), mode.to_ascii_lowercase());
}

const FIXTURE_SCHEMA: &str = r#"
CREATE TABLE customers(
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT UNIQUE,
    note TEXT,
    score REAL
);
CREATE TABLE orders(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER NOT NULL REFERENCES customers(id),
    amount_cents INTEGER NOT NULL,
    payload BLOB,
    created TEXT NOT NULL
);
CREATE TABLE documents(id INTEGER PRIMARY KEY, title TEXT, body TEXT);
CREATE TABLE settings(key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE audit(id INTEGER PRIMARY KEY, what TEXT NOT NULL, at INTEGER NOT NULL);
CREATE INDEX orders_by_customer ON orders(customer_id, created);
CREATE INDEX customers_by_name ON customers(name COLLATE NOCASE);
CREATE VIEW customer_totals AS
    SELECT c.id, c.name, count(o.id) AS n, coalesce(sum(o.amount_cents), 0) AS total
    FROM customers c LEFT JOIN orders o ON o.customer_id = c.id GROUP BY c.id;
CREATE TRIGGER orders_audit AFTER INSERT ON orders BEGIN
    INSERT INTO audit(what, at) VALUES ('order ' || NEW.id, NEW.amount_cents);
END;
"#;

/// A database with several tables, an index, a view, a trigger, blobs with
/// NUL bytes, NULLs, unicode, large TEXT values on overflow pages, a
/// WITHOUT ROWID table and [`MARKER`]. `journal` is `wal` or `delete`.
pub fn make_fixture(path: &Path, journal: &str, seed: u64) {
    let mut c = open(path);
    set_journal_mode(&c, journal);
    c.execute_batch(FIXTURE_SCHEMA).unwrap();
    c.execute_batch("PRAGMA user_version = 42; PRAGMA application_id = 1234567;")
        .unwrap();
    add_fixture_rows(&mut c, seed, 0, 300);
}

/// Insert customers `from..to` with their orders and documents.
pub fn add_fixture_rows(c: &mut Connection, seed: u64, from: i64, to: i64) {
    let mut rng = Rng::new(seed ^ from as u64);
    let names = [
        "Zoë Ångström",
        "Дмитрий Кузнецов",
        "山田 太郎",
        "O'Brien; DROP TABLE x",
        "emoji 🦀🐘",
        "plain",
    ];
    let tx = c.transaction().unwrap();
    for id in from..to {
        let name = format!("{} #{id}", names[id as usize % names.len()]);
        let email: Option<String> = (id % 7 != 0).then(|| format!("user{id}@example.org"));
        let note: Option<String> = (id % 3 == 0).then(|| rng.words(5));
        let score: Option<f64> = (id % 5 != 0).then(|| (rng.below(1_000_000) as f64) / 7.0);
        tx.execute(
            "INSERT INTO customers(id, name, email, note, score) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![id, name, email, note, score],
        )
        .unwrap();
        for k in 0..3 {
            // Blobs with NUL bytes in them, some empty, some NULL.
            let payload: Option<Vec<u8>> = match (id + k) % 4 {
                0 => None,
                1 => Some(Vec::new()),
                2 => Some(vec![0u8, 1, 0, 0, 255, 0]),
                _ => {
                    let n = 200 + rng.below(3000) as usize;
                    let mut b = rng.bytes(n);
                    b[0] = 0;
                    b[n / 2] = 0;
                    Some(b)
                }
            };
            tx.execute(
                "INSERT INTO orders(customer_id, amount_cents, payload, created) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![
                    id,
                    rng.below(100_000) as i64 - 500,
                    payload,
                    format!("2026-01-{:02}T10:{:02}:00Z", 1 + id % 28, k * 7)
                ],
            )
            .unwrap();
        }
        if id % 10 == 0 {
            // Large TEXT: several pages, so it lives on overflow pages.
            let body = format!("{MARKER} {} {MARKER}", rng.words(2000 + id as usize * 3));
            tx.execute(
                "INSERT INTO documents(id, title, body) VALUES (?1, ?2, ?3)",
                rusqlite::params![id, format!("Dokument № {id} — ünïcødé"), body],
            )
            .unwrap();
        }
        let value: rusqlite::types::Value = match id % 4 {
            0 => rusqlite::types::Value::Integer(id * 1000),
            1 => rusqlite::types::Value::Real(id as f64 + 0.25),
            2 => rusqlite::types::Value::Text(format!("välue-{id}")),
            _ => rusqlite::types::Value::Null,
        };
        tx.execute(
            "INSERT INTO settings(key, value) VALUES (?1, ?2)",
            rusqlite::params![format!("k{id:05}"), value],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// A database of `approx_bytes` of incompressible blobs (table `blobs`),
/// plus a small table `meta(k, v)`. `journal` is `wal` or `delete`.
pub fn make_blob_db(path: &Path, journal: &str, approx_bytes: usize, seed: u64) {
    let mut c = open(path);
    set_journal_mode(&c, journal);
    c.execute_batch(
        "CREATE TABLE blobs(id INTEGER PRIMARY KEY, data BLOB NOT NULL);
         CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT);",
    )
    .unwrap();
    fill_blobs(&mut c, approx_bytes, seed);
}

/// Append about `bytes` of random blobs (4-16 KiB each) to table `blobs`.
pub fn fill_blobs(c: &mut Connection, bytes: usize, seed: u64) {
    let mut rng = Rng::new(seed);
    let tx = c.transaction().unwrap();
    {
        let mut st = tx.prepare("INSERT INTO blobs(data) VALUES (?1)").unwrap();
        let mut done = 0usize;
        while done < bytes {
            let n = 4096 + rng.below(12 * 1024) as usize;
            st.execute([rng.bytes(n)]).unwrap();
            done += n;
        }
    }
    tx.commit().unwrap();
}

/// Rewrite a share (`per_mille`/1000) of the rows of `blobs` with new random data.
pub fn churn_blobs(path: &Path, per_mille: u64, seed: u64) {
    let mut c = open(path);
    let mut rng = Rng::new(seed);
    let ids: Vec<i64> = {
        let mut st = c.prepare("SELECT id FROM blobs ORDER BY id").unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let tx = c.transaction().unwrap();
    for id in ids {
        if rng.below(1000) < per_mille {
            let len: i64 = tx
                .query_row("SELECT length(data) FROM blobs WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .unwrap();
            tx.execute(
                "UPDATE blobs SET data = ?1 WHERE id = ?2",
                rusqlite::params![rng.bytes(len as usize), id],
            )
            .unwrap();
        }
    }
    tx.commit().unwrap();
}

/// Add rows to `blobs` whose random bytes carry [`MARKER`] in the middle:
/// incompressible around it, so an unencrypted repository stores it as is.
pub fn plant_marker(path: &Path, seed: u64) {
    let c = open(path);
    let mut rng = Rng::new(seed);
    for _ in 0..4 {
        let mut b = rng.bytes(6000);
        b[3000..3000 + MARKER.len()].copy_from_slice(MARKER.as_bytes());
        c.execute("INSERT INTO blobs(data) VALUES (?1)", [b])
            .unwrap();
    }
}

// ---------------------------------------------------------------------------
// Comparing databases.

/// Schema rows plus, per table, the row count and a hash of every row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub schema: Vec<(String, String, String, Option<String>)>,
    pub tables: BTreeMap<String, (u64, String)>,
    pub user_version: i64,
    pub application_id: i64,
}

fn hash_value(h: &mut blake3::Hasher, v: ValueRef<'_>) {
    match v {
        ValueRef::Null => {
            h.update(&[0]);
        }
        ValueRef::Integer(i) => {
            h.update(&[1]);
            h.update(&i.to_le_bytes());
        }
        ValueRef::Real(f) => {
            h.update(&[2]);
            h.update(&f.to_bits().to_le_bytes());
        }
        ValueRef::Text(t) => {
            h.update(&[3]);
            h.update(&(t.len() as u64).to_le_bytes());
            h.update(t);
        }
        ValueRef::Blob(b) => {
            h.update(&[4]);
            h.update(&(b.len() as u64).to_le_bytes());
            h.update(b);
        }
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Count and hash the rows of one table in rowid (or primary key) order.
fn table_digest(c: &Connection, table: &str) -> (u64, String) {
    let q = quote(table);
    let sql = match c.prepare(&format!("SELECT rowid, * FROM {q} ORDER BY rowid")) {
        Ok(_) => format!("SELECT rowid, * FROM {q} ORDER BY rowid"),
        Err(_) => {
            // WITHOUT ROWID: order by the primary key columns.
            let mut st = c.prepare(&format!("PRAGMA table_info({q})")).unwrap();
            let mut pk: Vec<(i64, String)> = st
                .query_map([], |r| Ok((r.get::<_, i64>(5)?, r.get::<_, String>(1)?)))
                .unwrap()
                .map(|r| r.unwrap())
                .filter(|(k, _)| *k > 0)
                .collect();
            pk.sort();
            let cols: Vec<String> = pk.iter().map(|(_, n)| quote(n)).collect();
            assert!(!cols.is_empty(), "table {table} has neither rowid nor key");
            format!("SELECT * FROM {q} ORDER BY {}", cols.join(", "))
        }
    };
    let mut st = c.prepare(&sql).unwrap();
    let n = st.column_count();
    let mut rows = st.query([]).unwrap();
    let mut h = blake3::Hasher::new();
    let mut count = 0u64;
    while let Some(r) = rows.next().unwrap() {
        for i in 0..n {
            hash_value(&mut h, r.get_ref(i).unwrap());
        }
        count += 1;
    }
    (count, h.finalize().to_hex().to_string())
}

/// Schema and content of a database.
pub fn fingerprint(path: &Path) -> Fingerprint {
    assert!(path.is_file(), "{path:?} does not exist");
    let c = open(path);
    let schema: Vec<(String, String, String, Option<String>)> = {
        let mut st = c
            .prepare(
                "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name, tbl_name",
            )
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect()
    };
    let mut tables = BTreeMap::new();
    for (ty, name, _, _) in &schema {
        if ty == "table" {
            tables.insert(name.clone(), table_digest(&c, name));
        }
    }
    let user_version = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let application_id = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    Fingerprint {
        schema,
        tables,
        user_version,
        application_id,
    }
}

/// `PRAGMA integrity_check` must say exactly `ok`.
#[track_caller]
pub fn assert_integrity_ok(path: &Path) {
    let c = open(path);
    let mut st = c.prepare("PRAGMA integrity_check").unwrap();
    let lines: Vec<String> = st
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(lines, vec!["ok".to_string()], "integrity_check of {path:?}");
}

/// A restored database must have the expected schema and rows, and be sound.
#[track_caller]
pub fn assert_same_db(restored: &Path, expected: &Fingerprint) {
    assert_integrity_ok(restored);
    let got = fingerprint(restored);
    assert_eq!(
        got.schema, expected.schema,
        "schema differs in {restored:?}"
    );
    assert_eq!(got.tables, expected.tables, "rows differ in {restored:?}");
    assert_eq!(got.user_version, expected.user_version);
    assert_eq!(got.application_id, expected.application_id);
}

/// BLAKE3 of a whole file.
pub fn file_hash(path: &Path) -> String {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("read {path:?}: {e}"));
    blake3::hash(&data).to_hex().to_string()
}

/// Every regular file below `dir`.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// Files below `repo/<sub>` (e.g. `packs`, `index`, `points`).
pub fn objects(repo: &Path, sub: &str) -> Vec<PathBuf> {
    files_under(&repo.join(sub))
}

pub fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Files below `dir` whose content contains `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|f| contains_bytes(&std::fs::read(f).unwrap(), needle))
        .collect()
}

// ---------------------------------------------------------------------------
// File systems.

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// A tmpfs mounted on a directory; unmounted when dropped.
pub struct TmpfsMount {
    path: PathBuf,
}

impl TmpfsMount {
    /// `mount -t tmpfs -o OPTIONS tmpfs PATH` (creates PATH).
    pub fn new(path: &Path, options: &str) -> Result<TmpfsMount, String> {
        std::fs::create_dir_all(path).map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", options, "tmpfs"])
            .arg(path)
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs -o {options} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(TmpfsMount {
            path: path.to_path_buf(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `mount -o remount,OPTIONS PATH`.
    pub fn remount(&self, options: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.path)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "remount {options}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for TmpfsMount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.path)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}

// ---------------------------------------------------------------------------
// Runs that are signalled midway.

/// How a spawned run ended.
pub struct Ended {
    /// Ended by our SIGKILL (not on its own).
    pub killed: bool,
    pub out: Out,
}

pub fn spawn(mut cmd: Command) -> std::process::Child {
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .stdin(std::process::Stdio::null())
        .spawn()
        .expect("spawn sqlvault")
}

/// Poll until `fire` says so (or the child exits), then send `signal` to
/// the child if it still runs. `fire` gets the time since the child
/// started; a child still running after `limit` fails the test.
pub fn signal_when(
    mut child: std::process::Child,
    signal: i32,
    limit: std::time::Duration,
    mut fire: impl FnMut(std::time::Duration) -> bool,
) -> Ended {
    use std::os::unix::process::ExitStatusExt;
    let t0 = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() && !fire(t0.elapsed()) {
        assert!(t0.elapsed() < limit, "the child hangs");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    if child.try_wait().unwrap().is_none() {
        // SAFETY: a signal to our own child, not reaped yet.
        unsafe { libc::kill(child.id() as i32, signal) };
    }
    let o = child.wait_with_output().unwrap();
    let killed = o.status.signal() == Some(libc::SIGKILL);
    Ended {
        killed,
        out: Out::from_output(o),
    }
}
