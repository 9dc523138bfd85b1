//! Restoring a base backup into a data directory, set up to recover to a
//! target from the WAL archive, and (with a check) recovered and proven
//! on a private server before it is declared done.

use super::PhysicalOptions;
use super::meta::PhysicalMeta;
use super::recovery::{self, Recovered};
use super::server::{self, RunAs};
use super::target::{RecoveryTarget, conf_quote};
use crate::engine::{CheckLevel, Restored};
use crate::error::{Error, Result, local_io_error};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

pub fn meta_of(point: &RestorePoint) -> Result<PhysicalMeta> {
    serde_json::from_value(point.meta.clone()).map_err(|e| {
        Error::repository(format!(
            "restore point has malformed base backup facts: {e}"
        ))
    })
}

/// A directory that does not exist or is empty.
fn check_empty(dir: &Path, what: &str) -> Result<()> {
    match std::fs::read_dir(dir) {
        Ok(mut rd) => {
            if rd.next().is_some() {
                return Err(Error::usage(format!(
                    "{what} `{}` is not empty",
                    dir.display()
                ))
                .with_hint("restore into a new or empty directory; sqlvault never overwrites a data directory"));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(local_io_error("reading", dir, e)),
    }
}

fn mkdir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| local_io_error("creating", dir, e))
}

/// Where each tablespace goes: its old location, unless mapped.
fn tablespace_dirs(meta: &PhysicalMeta, map: &[(String, String)]) -> Vec<(String, PathBuf)> {
    meta.tablespaces
        .iter()
        .map(|t| {
            let to = map
                .iter()
                .find(|(old, _)| old == &t.location)
                .map(|(_, new)| PathBuf::from(new))
                .unwrap_or_else(|| PathBuf::from(&t.location));
            (t.oid.clone(), to)
        })
        .collect()
}

/// The file a stream is restored to.
fn path_of(name: &str, data: &Path, spaces: &[(String, PathBuf)]) -> Option<PathBuf> {
    if let Some(rel) = name.strip_prefix("data/") {
        return Some(data.join(rel));
    }
    let rest = name.strip_prefix("tablespaces/")?;
    let (oid, rel) = rest.split_once('/')?;
    let (_, dir) = spaces.iter().find(|(o, _)| o == oid)?;
    Some(dir.join(rel))
}

pub fn run(
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    to: &Path,
    opts: &PhysicalOptions,
    check: CheckLevel,
    progress: &dyn Progress,
) -> Result<Restored> {
    let meta = meta_of(point)?;
    recovery::check_target(&meta, &opts.target)?;
    let archive = super::window::Archive::load(repo, &meta.cluster, meta.seg_size)?;
    if let (None, RecoveryTarget::Time(t)) = (&opts.timeline, &opts.target) {
        let covering = archive.covering(repo, &meta, *t)?;
        if covering.len() > 1 {
            let list: Vec<String> = covering.iter().map(|b| b.to_string()).collect();
            return Err(Error::usage(format!(
                "time {t} is reached by {} timelines that hold different data: {}",
                covering.len(),
                list.join(", ")
            ))
            .with_hint(format!(
                "say which history to restore with --timeline {}; `sqlvault points` shows the timelines",
                covering
                    .iter()
                    .map(|b| b.timeline.to_string())
                    .collect::<Vec<_>>()
                    .join(" or --timeline ")
            )));
        }
    }
    let timeline = archive.recovery_timeline(&meta, opts.timeline.as_deref())?;
    check_reachable(&archive.window_on(repo, &meta, timeline)?, &opts.target)?;
    let run_as = owner(opts)?;
    // Found before anything is written: without them there is no check.
    let bin = match check {
        CheckLevel::None => None,
        _ => Some(server::find(meta.major(), opts.pg_bin.as_deref())?),
    };
    check_empty(to, "the target directory")?;
    let spaces = tablespace_dirs(&meta, &opts.tablespace_map);
    for (_, dir) in &spaces {
        check_empty(dir, "tablespace directory")?;
    }
    let mut undo = Undo::default();
    undo.claim(to)?;
    for (_, dir) in &spaces {
        undo.claim(dir)?;
    }
    for d in &meta.dirs {
        if let Some(p) = path_of(&format!("{d}/"), to, &spaces) {
            mkdir(&p)?;
        }
    }
    progress.set_total(point.size());
    progress.phase("writing files");
    let written = write_files(repo, index, point, to, &spaces, progress)?;
    write_tablespace_map(to, &spaces)?;
    write_recovery_settings(to, &meta, opts)?;
    if let Some(r) = run_as {
        server::chown_tree(to, r)?;
        for (_, dir) in &spaces {
            server::chown_tree(dir, r)?;
        }
    }
    // One sync of each file system at the end instead of one per file: a
    // data directory is thousands of small files.
    progress.phase("syncing");
    sync_file_system(to)?;
    for (_, dir) in &spaces {
        sync_file_system(dir)?;
    }
    let check_text = match bin {
        None => format!(
            "not checked; recovery to {} runs when the server starts",
            opts.target.describe()
        ),
        Some(bin) => {
            progress.phase("recovering");
            let user = opts.owner.clone().unwrap_or_else(default_owner);
            let r = recovery::recover(&bin, to, run_as, &user, &meta, opts, progress);
            super::archive::remove_spool(to);
            let r: Recovered = r?;
            if opts.keep_archiving {
                mark_history_ready(to)?;
            }
            r.describe()
        }
    };
    undo.disarm();
    Ok(Restored {
        target: to.display().to_string(),
        bytes_written: written,
        check: check_text,
    })
}

/// Refuse, before writing anything, a target the archived WAL cannot
/// reach: recovery would stop at the gap and promote there.
fn check_reachable(w: &super::window::Window, target: &RecoveryTarget) -> Result<()> {
    if !w.consistent {
        return Err(Error::repository(format!(
            "the WAL this base backup needs up to its end ({}) is not all archived",
            w.from_lsn
        ))
        .with_hint("restore another base backup; `sqlvault points` shows which can be restored"));
    }
    let Some(missing) = &w.missing else {
        if let RecoveryTarget::Time(t) = target
            && w.to.parse::<jiff::Timestamp>().is_ok_and(|to| *t > to)
        {
            return Err(Error::usage(format!(
                "time {t} is after the last commit in the archive ({})",
                w.to
            ))
            .with_hint("choose an earlier time; to reach later commits, archive the server's current segment first (SELECT pg_switch_wal() on it)"));
        }
        return Ok(());
    };
    let beyond = match target {
        RecoveryTarget::Time(t) => w.to.parse::<jiff::Timestamp>().is_ok_and(|to| *t > to),
        RecoveryTarget::End => true,
        _ => false,
    };
    if beyond {
        return Err(Error::repository(format!(
            "WAL segment {missing} is missing from the archive: the latest time this base backup reaches is {}",
            w.to
        ))
        .with_hint("restore to a time up to then with --time, or restore a base backup taken after the gap"));
    }
    Ok(())
}

/// Every file of the base backup, several at a time: most are small, so
/// one at a time would leave the cores idle between them.
fn write_files(
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    to: &Path,
    spaces: &[(String, PathBuf)],
    progress: &dyn Progress,
) -> Result<u64> {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    let next = AtomicUsize::new(0);
    let written = AtomicU64::new(0);
    let failed = std::sync::Mutex::new(None);
    let one = |s: &crate::repo::point::StreamEntry| -> Result<u64> {
        let Some(path) = path_of(&s.name, to, spaces) else {
            return Ok(0);
        };
        if let Some(parent) = path.parent() {
            mkdir(parent)?;
        }
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| local_io_error("creating", &path, e))?;
        let werr = |e: std::io::Error| local_io_error("writing", &path, e);
        repo.restore_stream_to_file(index, s, &file, &werr, progress)
    };
    std::thread::scope(|scope| {
        for _ in 0..crate::util::cores().clamp(2, 8) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(s) = point.streams.get(i) else {
                        return;
                    };
                    if failed.lock().unwrap().is_some() {
                        return;
                    }
                    match one(s) {
                        Ok(n) => {
                            written.fetch_add(n, Ordering::Relaxed);
                        }
                        Err(e) => {
                            failed.lock().unwrap().get_or_insert(e);
                            return;
                        }
                    }
                }
            });
        }
    });
    match failed.into_inner().unwrap() {
        Some(e) => Err(e),
        None => Ok(written.into_inner()),
    }
}

/// `syncfs(2)` of the file system holding `dir`: everything written there
/// is on disk when it returns.
fn sync_file_system(dir: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let d = std::fs::File::open(dir).map_err(|e| local_io_error("opening", dir, e))?;
    // SAFETY: a valid open descriptor for the call's duration.
    if unsafe { libc::syncfs(d.as_raw_fd()) } != 0 {
        return Err(local_io_error(
            "syncing",
            dir,
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// What a failed or interrupted restore removes again: the directories it
/// made, and what it wrote into the empty ones it was given.
#[derive(Default)]
struct Undo {
    made: Vec<PathBuf>,
    filled: Vec<PathBuf>,
    done: bool,
}

impl Undo {
    fn claim(&mut self, dir: &Path) -> Result<()> {
        if dir.exists() {
            self.filled.push(dir.to_path_buf());
        } else {
            self.made.push(dir.to_path_buf());
        }
        mkdir(dir)
    }

    fn disarm(&mut self) {
        self.done = true;
    }
}

impl Drop for Undo {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        for d in &self.made {
            let _ = std::fs::remove_dir_all(d);
        }
        for d in &self.filled {
            if let Ok(rd) = std::fs::read_dir(d) {
                for e in rd.flatten() {
                    let p = e.path();
                    let _ = if e.file_type().is_ok_and(|t| t.is_dir()) {
                        std::fs::remove_dir_all(&p)
                    } else {
                        std::fs::remove_file(&p)
                    };
                }
            }
        }
    }
}

/// The check promoted the copy with archiving off, so the new timeline's
/// history file was never marked for the archiver. A copy that keeps
/// archiving into the same archive must push it, or later restores cannot
/// follow the timeline: mark it ready, and the archiver sends it first.
fn mark_history_ready(to: &Path) -> Result<()> {
    let wal = to.join("pg_wal");
    let status = wal.join("archive_status");
    let rd = std::fs::read_dir(&wal).map_err(|e| local_io_error("reading", &wal, e))?;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".history") || status.join(format!("{name}.done")).exists() {
            continue;
        }
        let ready = status.join(format!("{name}.ready"));
        std::fs::write(&ready, "").map_err(|e| local_io_error("writing", &ready, e))?;
        if let Ok(meta) = std::fs::metadata(&wal) {
            use std::os::unix::fs::MetadataExt;
            let _ = std::os::unix::fs::chown(&ready, Some(meta.uid()), Some(meta.gid()));
        }
    }
    Ok(())
}

pub(super) fn default_owner() -> String {
    if server::is_root() && server::user("postgres").is_some() {
        "postgres".into()
    } else {
        super::super::url::os_user()
    }
}

/// Root must hand the files to a user: the server refuses to run as root.
pub(super) fn owner(opts: &PhysicalOptions) -> Result<Option<RunAs>> {
    if !server::is_root() {
        if opts.owner.is_some() {
            return Err(Error::usage("--owner needs sqlvault to run as root")
                .with_hint("leave it out: the files belong to the user running the restore"));
        }
        return Ok(None);
    }
    let name = opts.owner.clone().unwrap_or_else(default_owner);
    let r = server::user(&name).ok_or_else(|| {
        Error::usage(format!("user `{name}` does not exist on this machine"))
            .with_hint("give --owner USER, the user the PostgreSQL server runs as")
    })?;
    if r.uid == 0 {
        return Err(Error::usage(
            "a restored data directory cannot belong to root: PostgreSQL refuses to run as root",
        )
        .with_hint("give --owner USER, the user the PostgreSQL server runs as"));
    }
    Ok(Some(r))
}

/// The map PostgreSQL reads at start to recreate `pg_tblspc` links.
fn write_tablespace_map(to: &Path, spaces: &[(String, PathBuf)]) -> Result<()> {
    let path = to.join("tablespace_map");
    if spaces.is_empty() {
        return Ok(());
    }
    let text: String = spaces
        .iter()
        .map(|(oid, dir)| format!("{oid} {}\n", dir.display()))
        .collect();
    std::fs::write(&path, text).map_err(|e| local_io_error("writing", &path, e))
}

/// `recovery.signal`, and the settings that fetch WAL from this repository
/// and stop at the target, appended to `postgresql.auto.conf`.
fn write_recovery_settings(to: &Path, meta: &PhysicalMeta, opts: &PhysicalOptions) -> Result<()> {
    let signal = to.join("recovery.signal");
    std::fs::write(&signal, "").map_err(|e| local_io_error("writing", &signal, e))?;
    let _ = std::fs::remove_file(to.join("standby.signal"));
    let mut lines = vec![
        String::new(),
        format!(
            "# Added by sqlvault: recover base backup of cluster `{}` (system identifier {}) to {}.",
            meta.cluster,
            meta.system_identifier,
            opts.target.describe()
        ),
        format!(
            "restore_command = {}",
            conf_quote(&format!(
                "{} --cluster {}",
                opts.restore_command, meta.cluster
            ))
        ),
    ];
    for (k, v) in opts.target.settings(!opts.exclusive) {
        lines.push(format!("{k} = {}", conf_quote(&v)));
    }
    lines.push(format!(
        "recovery_target_timeline = {}",
        conf_quote(opts.timeline.as_deref().unwrap_or("latest"))
    ));
    if opts.target != RecoveryTarget::End {
        lines.push("recovery_target_action = 'promote'".into());
    }
    if !opts.keep_archiving {
        // A copy must never push into the archive it was restored from.
        lines.push("archive_mode = 'off'".into());
    }
    let path = to.join("postgresql.auto.conf");
    let mut text = std::fs::read_to_string(&path).unwrap_or_default();
    text.push_str(&lines.join("\n"));
    text.push('\n');
    std::fs::write(&path, text).map_err(|e| local_io_error("writing", &path, e))
}
