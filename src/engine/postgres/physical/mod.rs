//! Physical backups of a whole PostgreSQL cluster: base backups over the
//! replication protocol, the WAL archive (`wal push` / `wal fetch`), and
//! recovery to a point in time.

pub mod archive;
mod basebackup;
pub mod meta;
pub mod objective;
mod records;
mod recovery;
pub mod replication;
mod restore;
pub mod retention;
pub mod scratch;
pub mod server;
pub mod target;
pub mod wal;
pub mod window;

use super::url::ConnSpec;
use crate::engine::{Engine, Exported, RestoreOptions, Restored};
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::repo::Repository;
use crate::repo::ids::PointId;
use crate::repo::index::Index;
use crate::repo::point::RestorePoint;
use crate::repo::writer::BackupWriter;
use std::path::PathBuf;
use std::time::Duration;
pub use target::RecoveryTarget;

/// The engine name physical restore points are stored under.
pub const ENGINE: &str = "postgres-physical";

/// How a physical restore recovers.
#[derive(Debug, Clone, Default)]
pub struct PhysicalOptions {
    pub target: RecoveryTarget,
    /// Stop just before the target instead of just after it.
    pub exclusive: bool,
    /// `recovery_target_timeline`; default `latest`.
    pub timeline: Option<String>,
    /// Old tablespace location → new one.
    pub tablespace_map: Vec<(String, String)>,
    /// Leave `archive_mode` as the backup had it.
    pub keep_archiving: bool,
    /// The user the files belong to (when run as root).
    pub owner: Option<String>,
    /// The directory holding the server binaries.
    pub pg_bin: Option<PathBuf>,
    /// The shell command the server runs to fetch WAL (`wal fetch %f %p ...`).
    pub restore_command: String,
    /// Which cluster's base backups `latest` picks from.
    pub cluster: Option<String>,
}

impl PhysicalOptions {
    /// The command recovery fetches WAL with; `--cluster` is added for the
    /// point being restored.
    pub fn with_restore_command(mut self, cmd: &str) -> Self {
        self.restore_command = cmd.to_string();
        self
    }
}

/// A whole cluster, as a base backup source or a data directory to restore.
#[derive(Debug, Clone)]
pub struct Physical {
    /// The server to read the base backup from (a primary or a standby).
    pub spec: Option<ConnSpec>,
    /// The primary, when `spec` is a standby of it: named as the source,
    /// and asked to switch WAL.
    pub primary: Option<ConnSpec>,
    /// The log archive's cluster name.
    pub cluster: String,
    /// How long a base backup waits for its WAL to be archived.
    pub wal_timeout: Duration,
    /// Where a restore writes the data directory.
    pub to: Option<PathBuf>,
}

impl Physical {
    pub fn source(spec: ConnSpec, cluster: &str) -> Result<Physical> {
        crate::repo::logs::check_cluster_name(cluster)?;
        Ok(Physical {
            spec: Some(spec),
            primary: None,
            cluster: cluster.to_string(),
            wal_timeout: Duration::from_secs(300),
            to: None,
        })
    }

    pub fn target(dir: PathBuf) -> Physical {
        Physical {
            spec: None,
            primary: None,
            cluster: String::new(),
            wal_timeout: Duration::ZERO,
            to: Some(dir),
        }
    }
}

impl Engine for Physical {
    fn name(&self) -> &'static str {
        ENGINE
    }

    fn source(&self) -> String {
        let server = self
            .primary
            .as_ref()
            .or(self.spec.as_ref())
            .map(|s| s.server())
            .unwrap_or_default();
        format!("{server} cluster {}", self.cluster)
    }

    fn backup(&self, writer: &BackupWriter, progress: &dyn Progress) -> Result<Exported> {
        let spec = self
            .spec
            .as_ref()
            .ok_or_else(|| Error::usage("no server to back up"))?;
        // Reading a standby: the primary archives, and switches WAL at the end.
        let mut primary = match &self.primary {
            Some(p) => Some(super::connect::connect(&p.with_dbname("postgres"))?),
            None => None,
        };
        let archive_mode = match &mut primary {
            Some(c) => Some(
                c.query_one("SHOW archive_mode", &[])
                    .map_err(|e| super::connect::query_error("reading archive_mode", &e))?
                    .get::<_, String>(0),
            ),
            None => None,
        };
        let mut conn = replication::Replication::connect(spec)?;
        let facts = basebackup::identify(&mut conn, archive_mode.as_deref())?;
        let repo = writer.repository();
        repo.bind_cluster(&self.cluster, &facts.system_identifier)?;
        let mut meta = basebackup::run(&mut conn, &facts, writer, progress)?;
        meta.cluster = self.cluster.clone();
        // A standby does not switch WAL at the end of a base backup, and
        // only the primary archives: ask it to close the segment now.
        if let Some(c) = &mut primary {
            c.batch_execute("SELECT pg_switch_wal()")
                .map_err(|e| super::connect::query_error("switching WAL on the primary", &e))?;
        }
        basebackup::wait_for_wal(repo, &meta, self.wal_timeout, progress)?;
        Ok(Exported {
            database: self.cluster.clone(),
            source: self.source(),
            meta: serde_json::to_value(&meta).expect("meta serialises"),
            fingerprints: crate::engine::fingerprint::new_set(Vec::new(), None),
            note: None,
        })
    }

    fn restore(
        &self,
        repo: &Repository,
        index: &Index,
        point: &RestorePoint,
        opts: &RestoreOptions,
        progress: &dyn Progress,
    ) -> Result<Restored> {
        let to = self
            .to
            .as_ref()
            .ok_or_else(|| Error::usage("no directory to restore into"))?;
        restore::run(repo, index, point, to, &opts.physical, opts.check, progress)
    }
}

/// The base backup a physical restore starts from: `point_spec` if it
/// names one, else (for `latest`) the newest of `cluster` that ended
/// before the target.
pub fn choose_base(
    repo: &Repository,
    point_spec: &str,
    cluster: Option<&str>,
    target: &RecoveryTarget,
) -> Result<(PointId, RestorePoint)> {
    if point_spec != "latest" {
        return repo.resolve_point(point_spec, None);
    }
    let points: Vec<(PointId, RestorePoint)> = repo
        .points()?
        .into_iter()
        .filter(|(_, p)| p.engine == ENGINE && cluster.is_none_or(|c| p.database == c))
        .collect();
    let clusters: std::collections::BTreeSet<&str> =
        points.iter().map(|(_, p)| p.database.as_str()).collect();
    if clusters.len() > 1 {
        return Err(Error::usage(format!(
            "the repository holds base backups of several clusters: {}",
            clusters.into_iter().collect::<Vec<_>>().join(", ")
        ))
        .with_hint("name one with --cluster"));
    }
    let newest_first = points.iter().rev();
    let mut candidates = newest_first.filter(|(_, p)| {
        let Ok(m) = restore::meta_of(p) else {
            return false;
        };
        match target {
            RecoveryTarget::Time(t) => m
                .stopped_at
                .parse::<jiff::Timestamp>()
                .is_ok_and(|s| s <= *t),
            RecoveryTarget::Lsn(l) => wal::Lsn::parse(&m.stop_lsn).is_ok_and(|s| s <= *l),
            _ => true,
        }
    });
    match candidates.next() {
        Some((id, p)) => Ok((*id, p.clone())),
        None if points.is_empty() => Err(Error::usage(match cluster {
            Some(c) => format!("the repository holds no base backup of cluster `{c}`"),
            None => "the repository holds no base backup".to_string(),
        })
        .with_hint("take one with `sqlvault backup postgres://... --physical`")),
        None => Err(
            Error::usage(format!("no base backup ended before {}", target.describe())).with_hint(
                "choose a later target; `sqlvault points` shows when each base backup ended",
            ),
        ),
    }
}
