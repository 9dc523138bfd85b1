//! Workers and dispatchers for the tests: a private Azurite with Blob and
//! Queue, an Azure repository in it, worker processes that are stopped
//! (and their logs kept) when dropped, and the test's own view of the
//! queue to read messages as they are.

#![allow(dead_code)]

use crate::azurite::{Azurite, KEY};
use crate::azurite_cli::AzVault;
use crate::common::*;
use sqlvault::worker::queue::{JobQueue, Which};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const QUEUE: &str = "jobs";

pub struct Fleet {
    pub az: Azurite,
    pub s: Scratch,
    pub vault: AzVault,
    workers: Vec<Worker>,
}

pub struct Worker {
    pub child: Child,
    pub log: PathBuf,
}

impl Worker {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Wait until the log holds `needle`.
    #[track_caller]
    pub fn wait_for(&mut self, needle: &str, within: Duration) {
        let t0 = Instant::now();
        while !self.log_text().contains(needle) {
            if let Some(st) = self.child.try_wait().unwrap() {
                panic!(
                    "worker exited ({st}) before `{needle}`:\n{}",
                    self.log_text()
                );
            }
            assert!(
                t0.elapsed() < within,
                "no `{needle}` in the worker's log within {within:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn signal(&self, sig: i32) {
        // SAFETY: signalling our own child, not yet reaped.
        unsafe { libc::kill(self.child.id() as i32, sig) };
    }

    /// Wait for the exit code.
    #[track_caller]
    pub fn wait_exit(&mut self, within: Duration) -> i32 {
        let t0 = Instant::now();
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                return st.code().unwrap_or(-1);
            }
            assert!(
                t0.elapsed() < within,
                "the worker did not exit within {within:?}:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Fleet {
    /// Azurite with Blob and Queue, and an initialised repository `vault`.
    pub fn new() -> Fleet {
        let az = Azurite::start_with_queue();
        let s = Scratch::new();
        let vault = AzVault::new(&s, &az, "vault");
        vault.run(&["init"]).expect_code(0);
        let f = Fleet {
            az,
            s,
            vault,
            workers: Vec::new(),
        };
        // As an administrator would (or the first worker does).
        f.queue().ensure_exists().unwrap();
        f
    }

    pub fn queue_url(&self) -> String {
        self.az.queue_url(QUEUE)
    }

    /// The binary as the dispatcher runs it: the repository's password
    /// in `REPO_PW` (named by the policy), the Azure credentials.
    pub fn dispatcher(&self) -> Command {
        let mut c = bare_command(&self.s.home());
        c.arg("--no-progress")
            .env(
                "AZURE_STORAGE_CONNECTION_STRING",
                self.az.connection_string(),
            )
            .env("REPO_PW", PASSWORD)
            .env("SQLVAULT_DISPATCH_POLL_MS", "200");
        c
    }

    pub fn dispatch(&self, args: &[&str]) -> Out {
        run(self.dispatcher().args(args))
    }

    /// A policy file over the repository with the given sources (TOML).
    pub fn policy(&self, name: &str, extra: &str) -> PathBuf {
        let p = self.s.join(name);
        std::fs::write(
            &p,
            format!(
                r#"
[repository]
path = "{}"
password-env = "REPO_PW"

{extra}

[schedule]
time-zone = "UTC"
full = {{ frequency = "daily", at = "01:00" }}

[retention]
daily = 7
"#,
                self.az.url("vault")
            ),
        )
        .unwrap();
        p
    }

    /// A policy backing up `dbs` (source `files`), with `extra` TOML.
    pub fn sqlite_policy(&self, dbs: &[PathBuf], extra: &str) -> PathBuf {
        self.policy(
            "p.toml",
            &format!(
                "[[source]]\nname = \"files\"\nengine = \"sqlite\"\ndatabases = {}\n\n{extra}",
                toml_list(dbs)
            ),
        )
    }

    /// `backup --policy --dispatch --no-wait`: the jobs wait on the queue.
    pub fn queue_backups(&self, policy: &Path) {
        let q = self.queue_url();
        let mut c = self.dispatcher();
        c.args([
            "--json",
            "backup",
            "--policy",
            policy.to_str().unwrap(),
            "--dispatch",
            &q,
            "--no-wait",
        ]);
        run(&mut c).expect_code(0);
    }

    /// A worker on the jobs queue; `env` adds to (or overrides) its environment.
    pub fn worker(&mut self, env: &[(&str, &str)], args: &[&str]) -> &mut Worker {
        let w = self.spawn_worker(&self.queue_url(), env, args);
        self.workers.push(w);
        self.workers.last_mut().unwrap()
    }

    pub fn spawn_worker(&self, queue: &str, env: &[(&str, &str)], args: &[&str]) -> Worker {
        let n = std::fs::read_dir(self.s.path()).unwrap().count();
        let log = self.s.join(&format!("worker-{n}.log"));
        let mut c = self.vault.cmd();
        c.args(["worker", "--queue", queue, "--idle-max", "1"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            c.env(k, v);
        }
        Worker {
            child: c.spawn().unwrap(),
            log,
        }
    }

    pub fn workers(&mut self) -> &mut Vec<Worker> {
        &mut self.workers
    }

    /// The test's own client of the queue.
    pub fn queue(&self) -> JobQueue {
        let cs = self.az.connection_string();
        JobQueue::open_with(
            &self.queue_url(),
            &move |k| (k == "AZURE_STORAGE_CONNECTION_STRING").then(|| cs.clone()),
            5,
        )
        .unwrap()
    }

    /// Every message's text on a queue (up to 32), as it travels.
    pub fn messages(&self, which: Which) -> Vec<String> {
        self.queue()
            .peek(which)
            .unwrap()
            .into_iter()
            .map(|m| m.text)
            .collect()
    }

    pub fn status(&self) -> serde_json::Value {
        let out = self.dispatch(&["--json", "worker", "status", "--queue", &self.queue_url()]);
        out.expect_code(0);
        out.json()
    }
}

/// No secret of the test travels in `texts`.
#[track_caller]
pub fn assert_no_secrets(texts: &[String], secrets: &[&str]) {
    for t in texts {
        for s in secrets.iter().chain([&PASSWORD, &KEY]) {
            assert!(!t.contains(s), "a secret travels in a queue message: {t}");
        }
    }
}

/// `n` small SQLite databases `db00.db`.. in `dir`, each with its own rows.
pub fn small_databases(dir: &Path, n: usize) -> Vec<PathBuf> {
    std::fs::create_dir_all(dir).unwrap();
    (0..n)
        .map(|i| {
            let p = dir.join(format!("db{i:02}.db"));
            let c = rusqlite::Connection::open(&p).unwrap();
            c.execute_batch(&format!(
                "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT);
                 WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {})
                 INSERT INTO t(v) SELECT 'row ' || x || ' of db {i}' FROM n;",
                100 + i * 10
            ))
            .unwrap();
            p
        })
        .collect()
}

/// `databases = [...]` for a list of files.
pub fn toml_list(paths: &[PathBuf]) -> String {
    let items: Vec<String> = paths
        .iter()
        .map(|p| format!("{:?}", p.display().to_string()))
        .collect();
    format!("[{}]", items.join(", "))
}
