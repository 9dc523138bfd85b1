//! Machinery the contract shares across engines: writers that move money
//! while a backup runs, children killed at a chosen moment, the one-line
//! error check, and reading a fingerprint difference out of a message.

pub use crate::common::{Ended, spawn};
use crate::common::{Out, Rng, signal_when};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// One transfer of money between accounts in its own transaction: true
/// when it committed, false when the database made it give up (busy,
/// deadlock); panics on anything else.
pub type Mover = Box<dyn FnMut() -> bool + Send>;

/// Threads running movers until stopped.
pub struct Writer {
    stop: Arc<AtomicBool>,
    commits: Arc<AtomicU64>,
    handles: Vec<JoinHandle<u64>>,
}

impl Writer {
    /// Start the movers and wait until they have committed a few
    /// transfers, so that they run before any backup starts.
    pub fn start(movers: Vec<Mover>) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let commits = Arc::new(AtomicU64::new(0));
        let handles = movers
            .into_iter()
            .map(|mut mover| {
                let (stop, commits) = (stop.clone(), commits.clone());
                std::thread::spawn(move || {
                    let mut gave_up = 0;
                    while !stop.load(Ordering::Relaxed) {
                        if mover() {
                            commits.fetch_add(1, Ordering::Relaxed);
                        } else {
                            gave_up += 1;
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                    gave_up
                })
            })
            .collect();
        let w = Writer {
            stop,
            commits,
            handles,
        };
        let t0 = Instant::now();
        while w.commits() < 20 {
            assert!(
                t0.elapsed() < Duration::from_secs(20),
                "the writer is stuck"
            );
            assert!(
                !w.handles.iter().any(|h| h.is_finished()),
                "a writer thread died"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        w
    }

    /// Transfers committed so far.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Stop; returns how many transfers gave up on a busy database.
    pub fn stop(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.handles
            .drain(..)
            .map(|h| h.join().expect("a writer panicked"))
            .sum()
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Poll until `fire` says so (or the child exits), then SIGKILL the child
/// if it still runs. `fire` gets the time since the child started.
pub fn kill_when(child: Child, fire: impl FnMut(Duration) -> bool) -> Ended {
    signal_when(child, libc::SIGKILL, Duration::from_secs(120), fire)
}

/// Random kill delays: from `SQLVAULT_CONFORMANCE_SEED` when set (to
/// repeat a run), else from the clock; the seed is printed either way.
pub fn delay_rng(what: &str) -> Rng {
    let seed = std::env::var("SQLVAULT_CONFORMANCE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{what}: kill delays from SQLVAULT_CONFORMANCE_SEED={seed}");
    Rng::new(seed)
}

/// A random moment between 5% and 90% of `d`.
pub fn within(rng: &mut Rng, d: Duration) -> Duration {
    let ms = d.as_millis().max(20) as u64;
    Duration::from_millis(ms / 20 + rng.below(ms * 17 / 20))
}

/// The one `sqlvault: error:` line, checked to be the only one, with at
/// most `  hint:` lines after it.
#[track_caller]
pub fn single_error(out: &Out) -> String {
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

/// The first "table `NAME` has GOT rows, expected WANT" in a message.
pub fn row_difference(msg: &str) -> Option<(String, u64, u64)> {
    let rest = &msg[msg.find("table `")? + "table `".len()..];
    let (name, rest) = rest.split_once("` has ")?;
    let (got, rest) = rest.split_once(" rows, expected ")?;
    let want: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    Some((name.to_string(), got.parse().ok()?, want.parse().ok()?))
}

#[test]
fn row_differences_are_read_from_messages() {
    let m = "sqlvault: error: the restored database differs from what was backed up: \
             table `orders` has 19999 rows, expected 20000; table `b` is missing";
    assert_eq!(
        row_difference(m),
        Some(("orders".to_string(), 19999, 20000))
    );
    assert_eq!(
        row_difference("table `Sales Dept.Order \"Lines\"` has 1 rows, expected 2"),
        Some(("Sales Dept.Order \"Lines\"".to_string(), 1, 2))
    );
    assert_eq!(row_difference("table `a` holds other data"), None);
}

/// How sqlvault writes a database name into a URL it shows.
pub fn shown_name(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "-._~".contains(c) || !c.is_ascii() {
            out.push(c);
        } else {
            for b in c.to_string().bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Names in `dir` starting with `prefix`.
pub fn named(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path())
        .collect();
    out.sort();
    out
}

/// What a target file in use holds (engines whose databases are files).
const PRECIOUS: &[u8] = b"precious data";

/// Put something precious where a file target would go.
pub fn occupy_file(path: &Path) {
    std::fs::write(path, PRECIOUS).unwrap();
}

/// Whether a file target still holds what [`occupy_file`] put there.
pub fn file_unchanged(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|b| b == PRECIOUS)
}

/// Temporaries of file engines: hidden files beside the targets in
/// `targets`, and `sqlvault-*` files or directories in the binary's TMPDIR.
pub fn file_temporaries(targets: &Path, tmpdir: &Path) -> Vec<PathBuf> {
    let mut out = named(targets, ".");
    out.extend(named(tmpdir, "sqlvault-"));
    out
}

/// Remove files or directories named by path.
pub fn remove_paths(paths: &[String]) {
    for p in paths {
        let p = Path::new(p);
        let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir_all(p));
    }
}
