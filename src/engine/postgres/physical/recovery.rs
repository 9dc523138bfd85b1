//! Recovering a restored data directory on a private server and proving
//! the result: the target reached, the WAL replayed, `pg_amcheck` clean.

use super::PhysicalOptions;
use super::meta::PhysicalMeta;
use super::server::{Private, RunAs, ServerBin};
use super::target::RecoveryTarget;
use crate::error::{Error, Result};
use crate::progress::Progress;
use std::path::Path;
use std::time::Duration;

/// Refuse a target the base backup cannot reach.
pub fn check_target(meta: &PhysicalMeta, target: &RecoveryTarget) -> Result<()> {
    match target {
        RecoveryTarget::Time(t) => {
            let stopped: jiff::Timestamp = meta
                .stopped_at
                .parse()
                .map_err(|_| Error::repository("restore point has a malformed backup end time"))?;
            if *t < stopped {
                return Err(Error::usage(format!(
                    "time {t} is before this base backup ended ({stopped}); it cannot be recovered from it"
                ))
                .with_hint("choose a later time, or an older base backup (`sqlvault points` shows the restorable window)"));
            }
        }
        RecoveryTarget::Lsn(l) => {
            let stop = super::wal::Lsn::parse(&meta.stop_lsn)?;
            if *l < stop {
                return Err(Error::usage(format!(
                    "LSN {l} is before this base backup became consistent ({stop})"
                ))
                .with_hint("choose a later LSN, or an older base backup"));
            }
        }
        _ => {}
    }
    Ok(())
}

/// What recovery did, from the server's own log.
#[derive(Debug, Clone, Default)]
pub struct Recovered {
    /// The server's line saying where it stopped, if a target stopped it.
    pub stopped: Option<String>,
    pub last_commit: Option<String>,
    pub redo_done: Option<String>,
    pub timeline: Option<u32>,
    pub segments: usize,
    pub amcheck: String,
}

impl Recovered {
    fn from_log(log: &str) -> Recovered {
        let mut r = Recovered::default();
        for line in log.lines() {
            let msg = line.split_once("LOG:").map(|(_, m)| m.trim()).unwrap_or("");
            if msg.starts_with("restored log file") && !msg.contains(".history") {
                r.segments += 1;
            } else if let Some(rest) = msg.strip_prefix("recovery stopping ") {
                r.stopped = Some(rest.to_string());
            } else if let Some(rest) =
                msg.strip_prefix("last completed transaction was at log time ")
            {
                r.last_commit = Some(rest.to_string());
            } else if let Some(rest) = msg.strip_prefix("redo done at ") {
                r.redo_done = rest.split_whitespace().next().map(str::to_string);
            } else if let Some(rest) = msg.strip_prefix("selected new timeline ID: ") {
                r.timeline = rest.split_whitespace().next().and_then(|t| t.parse().ok());
            }
        }
        r
    }

    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        match &self.stopped {
            Some(s) => parts.push(format!("recovery stopped {s}")),
            None => parts.push("recovered to the end of the archive".into()),
        }
        if let Some(t) = &self.last_commit {
            parts.push(format!("last transaction at {t}"));
        }
        if let Some(l) = &self.redo_done {
            parts.push(format!("redo done at {l}"));
        }
        if let Some(t) = self.timeline {
            parts.push(format!("promoted to timeline {t}"));
        }
        parts.push(format!("{} WAL segments replayed", self.segments));
        parts.push(self.amcheck.clone());
        parts.join("; ")
    }
}

/// Start the restored cluster, let recovery reach its target and promote,
/// check it, and stop it cleanly.
pub fn recover(
    bin: &ServerBin,
    data: &Path,
    run_as: Option<RunAs>,
    user: &str,
    meta: &PhysicalMeta,
    opts: &PhysicalOptions,
    progress: &dyn Progress,
) -> Result<Recovered> {
    let log_dir = tempfile::Builder::new()
        .prefix("sqlvault-recovery-log-")
        .tempdir()
        .map_err(|e| crate::error::local_io_error("creating", Path::new("/tmp"), e))?;
    if let Some(r) = run_as {
        super::server::chown(log_dir.path(), r)?;
    }
    let mut srv = Private::start(bin, data, run_as, user, log_dir.path())?;
    let mut shown = 0;
    loop {
        crate::interrupt::check()?;
        if let Some(st) = srv.exited() {
            return Err(recovery_failed(&srv, meta, opts, &format!("{st}")));
        }
        let log = srv.log_text();
        let seen = Recovered::from_log(&log).segments;
        if seen != shown {
            progress.phase(&format!("replaying WAL: {seen} segments"));
            shown = seen;
        }
        if let Ok(mut c) = srv.connect("postgres")
            && let Ok(row) = c.query_one("SELECT pg_is_in_recovery()", &[])
            && !row.get::<_, bool>(0)
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut out = Recovered::from_log(&srv.log_text());
    if out.stopped.is_none() && opts.target != RecoveryTarget::End {
        return Err(Error::database(format!(
            "recovery ended without reaching {}",
            opts.target.describe()
        ))
        .with_hint(
            "the archive may end before the target; `sqlvault points` shows the restorable window",
        ));
    }
    progress.phase("checking with pg_amcheck");
    out.amcheck = amcheck(bin, &srv)?;
    srv.stop()?;
    Ok(out)
}

fn recovery_failed(
    srv: &Private,
    meta: &PhysicalMeta,
    opts: &PhysicalOptions,
    status: &str,
) -> Error {
    let fatal = srv
        .fatal_line()
        .unwrap_or_else(|| format!("the server exited ({status})"));
    let err = Error::database(format!(
        "recovery of cluster `{}` to {} failed: {fatal}",
        meta.cluster,
        opts.target.describe()
    ));
    if fatal.contains("before configured recovery target") {
        return err.with_hint(
            "the archive ends before the target (a segment may be missing): `sqlvault points` shows the window that can be restored",
        );
    }
    if fatal.contains("could not locate required checkpoint record")
        || fatal.contains("not present in archive")
    {
        return err.with_hint(
            "a WAL segment the base backup needs is missing from the archive; `sqlvault verify` checks the chain",
        );
    }
    err.with_hint("the lines before it in the server log say more; run with --check none to keep the directory and start it yourself")
}

/// `pg_amcheck` over every database; the extension is removed again from
/// databases that did not have it.
fn amcheck(bin: &ServerBin, srv: &Private) -> Result<String> {
    let tool = bin.dir.join("pg_amcheck");
    if !tool.is_file() {
        return Ok("pg_amcheck not found beside the server: not run".into());
    }
    let mut admin = srv
        .connect("postgres")
        .map_err(|e| Error::database(format!("cannot connect to the recovered server: {e}")))?;
    let dbs: Vec<String> = admin
        .query(
            "SELECT datname::text FROM pg_database WHERE datallowconn ORDER BY 1",
            &[],
        )
        .map_err(|e| Error::database(format!("listing recovered databases: {e}")))?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut without = Vec::new();
    for db in &dbs {
        if let Ok(mut c) = srv.connect(db)
            && c.query("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'", &[])
                .map(|r| r.is_empty())
                .unwrap_or(false)
        {
            without.push(db.clone());
        }
    }
    let out = std::process::Command::new(&tool)
        .arg("-h")
        .arg(srv.socket_dir.path())
        .args(["-p", &srv.port.to_string(), "-U", &srv.user])
        .args(["--all", "--install-missing", "--no-strict-names"])
        .output()
        .map_err(|e| Error::database(format!("cannot run `{}`: {e}", tool.display())))?;
    for db in &without {
        if let Ok(mut c) = srv.connect(db) {
            let _ = c.batch_execute("DROP EXTENSION IF EXISTS amcheck");
        }
    }
    if !out.status.success() {
        let text = String::from_utf8_lossy(&out.stdout);
        let first = text
            .lines()
            .chain(String::from_utf8_lossy(&out.stderr).lines())
            .find(|l| !l.trim().is_empty())
            .unwrap_or("")
            .to_string();
        return Err(Error::database(format!(
            "pg_amcheck found damage in the recovered cluster: {first}"
        ))
        .with_hint("the base backup or the WAL is damaged; run `sqlvault verify`, and try an older base backup"));
    }
    Ok(format!("pg_amcheck clean over {} databases", dbs.len()))
}
