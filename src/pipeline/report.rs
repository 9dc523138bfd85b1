//! The session report every run ends with: a table for people, JSON for scripts.

use serde::{Deserialize, Serialize};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    /// Some databases or points failed, others succeeded.
    Partial,
    Failed,
}

/// One database (backup, restore) or restore point (verify) of a session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ItemReport {
    pub database: String,
    pub status: Status,
    pub restore_point: Option<String>,
    /// Bytes read from the source (backup) or written to the target (restore).
    pub bytes_read: u64,
    /// Bytes of chunks the repository did not hold yet.
    pub bytes_new: u64,
    /// Bytes written to the repository, after compression and encryption.
    pub bytes_stored: u64,
    /// Share of the bytes read that the repository already held (0 to 1).
    pub dedupe_ratio: f64,
    pub duration_secs: f64,
    pub throughput_mib_s: f64,
    pub error: Option<String>,
    /// What kind of failure it was (`database`, `storage`, `repository`,
    /// `usage`, `auth`): decides the exit code, as the README's table says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<crate::Kind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// Where the restore went (restore only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Full, differential or log (backup only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::policy::BackupKind>,
    /// Where the database is, as restore points record it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Pack bytes a restore read from the repository (egress, on object
    /// storage), and in how many requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_fetched: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fetches: Option<u64>,
    /// Which check a restore or test-restore ran on the restored data, and
    /// what it found ("full: 12 fingerprints match, file identical").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// Something worth knowing ("newly protected", "not due").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The worker that did it, for jobs run through a queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<WorkerInfo>,
}

/// Who ran a queued job: enough to find the machine and the exact build.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct WorkerInfo {
    pub host: String,
    pub pid: u32,
    pub version: String,
    /// SHA-256 of the worker's executable.
    pub binary_sha256: String,
}

impl std::fmt::Display for WorkerInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pid {} (sqlvault {})",
            self.host, self.pid, self.version
        )
    }
}

impl ItemReport {
    pub fn new(database: impl Into<String>) -> Self {
        ItemReport {
            database: database.into(),
            status: Status::Ok,
            restore_point: None,
            bytes_read: 0,
            bytes_new: 0,
            bytes_stored: 0,
            dedupe_ratio: 0.0,
            duration_secs: 0.0,
            throughput_mib_s: 0.0,
            error: None,
            error_kind: None,
            hint: None,
            target: None,
            kind: None,
            source: None,
            bytes_fetched: None,
            fetches: None,
            check: None,
            note: None,
            worker: None,
        }
    }

    pub fn failed(mut self, e: &crate::Error) -> Self {
        self.status = Status::Failed;
        self.error = Some(e.message.clone());
        self.error_kind = Some(e.kind);
        self.hint = e.hint.clone();
        self
    }

    pub fn timed(mut self, started: Instant) -> Self {
        self.duration_secs = started.elapsed().as_secs_f64();
        self.throughput_mib_s = crate::util::throughput_mib_s(self.bytes_read, self.duration_secs);
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionReport {
    pub command: String,
    pub status: Status,
    pub started_at: String,
    pub duration_secs: f64,
    pub repository: String,
    pub databases: Vec<ItemReport>,
    /// Whole-repository findings (verify): one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// What the run did as a whole (prune: what was freed).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// A worker's record of one queued job: the job's id and the run that
    /// dispatched it, which waits for this record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatch: Option<String>,
}

impl SessionReport {
    pub fn new(command: &str, repository: String) -> (Self, Instant) {
        (
            SessionReport {
                command: command.into(),
                status: Status::Ok,
                started_at: crate::util::now_rfc3339(),
                duration_secs: 0.0,
                repository,
                databases: Vec::new(),
                errors: Vec::new(),
                warnings: Vec::new(),
                notes: Vec::new(),
                job: None,
                dispatch: None,
            },
            Instant::now(),
        )
    }

    /// Settle the overall status from the items and repository errors.
    pub fn finish(mut self, started: Instant) -> Self {
        self.duration_secs = started.elapsed().as_secs_f64();
        let failed = self
            .databases
            .iter()
            .filter(|d| d.status != Status::Ok)
            .count();
        self.status = if failed == 0 && self.errors.is_empty() {
            Status::Ok
        } else if failed == self.databases.len() && !self.databases.is_empty() || failed == 0 {
            Status::Failed
        } else {
            Status::Partial
        };
        self
    }

    /// 0 when everything succeeded. Otherwise 1 (a database or restore
    /// point failed), unless what failed a database was the repository's
    /// storage (5: disk full, permission denied, I/O) or damage in the
    /// repository (4), which the user must fix there; in that order when
    /// several databases failed differently. `verify` judges restore points
    /// and always says 1.
    pub fn exit_code(&self) -> i32 {
        use crate::Kind;
        if self.status == Status::Ok {
            return 0;
        }
        if self.command.starts_with("verify") {
            return 1;
        }
        let kinds: Vec<Kind> = self
            .databases
            .iter()
            .filter(|d| d.status != Status::Ok)
            .filter_map(|d| d.error_kind)
            .collect();
        [Kind::Storage, Kind::Repository]
            .into_iter()
            .find(|k| kinds.contains(k))
            .map_or(1, Kind::exit_code)
    }
}
