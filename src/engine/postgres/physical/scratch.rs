//! A base backup recovered to a target in a temporary directory and left
//! running on a private socket, so one database can be read from it at
//! that point in time. Removed when dropped: on success, failure or
//! Ctrl-C; a killed run's directory is removed by the next one.

use super::PhysicalOptions;
use super::restore::{self, meta_of};
use super::server::{self, Private};
use crate::engine::CheckLevel;
use crate::error::{Error, Result, local_io_error};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use std::time::{Duration, Instant};

const PREFIX: &str = "sqlvault-pitr-";

pub struct ScratchCluster {
    // Dropped first: the server stops before its directory goes.
    server: Option<Private>,
    _lock: std::fs::File,
    _dir: tempfile::TempDir,
    /// What recovery reached, for the report.
    pub recovered: String,
}

/// Recover `point` to the target of `opts` in a new temporary directory
/// and start it.
pub fn start(
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    opts: &PhysicalOptions,
    progress: &dyn Progress,
) -> Result<ScratchCluster> {
    let tmp = std::env::temp_dir();
    let _ = crate::leftovers::remove_stale_dirs(&tmp, PREFIX);
    let (dir, lock) = crate::leftovers::create_dir(&tmp, PREFIX)
        .map_err(|e| local_io_error("creating a directory in", &tmp, e))?;
    let run_as = restore::owner(opts)?;
    if let Some(r) = run_as {
        server::chown(dir.path(), r)?;
    }
    let data = dir.path().join("data");
    let restored = restore::run(repo, index, point, &data, opts, CheckLevel::Full, progress)?;
    let meta = meta_of(point)?;
    let bin = server::find(meta.major(), opts.pg_bin.as_deref())?;
    progress.phase("starting the recovered cluster");
    let user = opts.owner.clone().unwrap_or_else(restore::default_owner);
    let srv = Private::start(&bin, &data, run_as, &user, dir.path())?;
    let mut scratch = ScratchCluster {
        server: Some(srv),
        _lock: lock,
        _dir: dir,
        recovered: restored.check,
    };
    scratch.wait_ready()?;
    Ok(scratch)
}

impl ScratchCluster {
    fn server(&mut self) -> &mut Private {
        self.server.as_mut().expect("running until dropped")
    }

    fn wait_ready(&mut self) -> Result<()> {
        let began = Instant::now();
        loop {
            crate::interrupt::check()?;
            if self.server().connect("postgres").is_ok() {
                return Ok(());
            }
            if let Some(st) = self.server().exited() {
                return Err(Error::database(format!(
                    "the recovered cluster stopped at start ({st}): {}",
                    self.server().fatal_line().unwrap_or_default()
                )));
            }
            if began.elapsed() > Duration::from_secs(120) {
                return Err(Error::database(
                    "the recovered cluster did not accept connections within 2 minutes",
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A URL for `database` on the private socket.
    pub fn url(&mut self, database: &str) -> String {
        let s = self.server();
        let enc = |t: &str| url::form_urlencoded::byte_serialize(t.as_bytes()).collect::<String>();
        format!(
            "postgres://{}@/{}?host={}&port={}",
            enc(&s.user),
            enc(database),
            enc(&s.socket_dir.path().to_string_lossy()),
            s.port
        )
    }

    /// A directory inside the scratch one, removed with it: where a copy
    /// taken from the recovered cluster can be staged.
    pub fn staging_dir(&self) -> std::path::PathBuf {
        self._dir.path().join("staging")
    }

    /// Stop the server cleanly; the directory goes when this is dropped.
    pub fn stop(&mut self) -> Result<()> {
        match self.server.take() {
            Some(s) => s.stop(),
            None => Ok(()),
        }
    }
}

/// Restore `point` into a temporary directory, recovered to the target of
/// `opts` and checked on a private server; the check's report. The
/// directory goes when this returns.
pub fn test_restore(
    repo: &Repository,
    index: &Index,
    point: &RestorePoint,
    opts: &PhysicalOptions,
    progress: &dyn Progress,
) -> Result<String> {
    let tmp = std::env::temp_dir();
    let _ = crate::leftovers::remove_stale_dirs(&tmp, PREFIX);
    let (dir, _lock) = crate::leftovers::create_dir(&tmp, PREFIX)
        .map_err(|e| local_io_error("creating a directory in", &tmp, e))?;
    if let Some(r) = restore::owner(opts)? {
        server::chown(dir.path(), r)?;
    }
    let data = dir.path().join("data");
    let restored = restore::run(repo, index, point, &data, opts, CheckLevel::Full, progress)?;
    Ok(restored.check)
}
