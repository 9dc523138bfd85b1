//! The job format: what a dispatcher puts on the queue and a worker takes
//! off it. JSON, versioned, and free of secrets by construction: sources
//! travel as their policy entry (which names where a password is, never the
//! password), and a URL that holds a password is refused.

use crate::engine::CheckLevel;
use crate::error::{Error, Result};
use crate::policy::BackupKind;
use crate::policy::file::SourceSpec;
use serde::{Deserialize, Serialize};

/// The job format this build writes and reads. A worker leaves a job of a
/// newer format on the queue for a newer worker.
pub const JOB_FORMAT: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Job {
    pub format: u32,
    /// What makes a job done once: a worker that finds this id on a
    /// restore point (or a recorded result) does not do it again.
    pub id: String,
    /// The dispatching run, whose results the dispatcher waits for.
    pub dispatch: String,
    /// The id of the repository the job is for; a worker on another one
    /// leaves the job to others.
    pub repository: String,
    /// Failed tries before the poison queue.
    pub max_attempts: u32,
    /// Tries that failed so far, and the last error.
    #[serde(default)]
    pub failures: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Times a worker gave it back untried (stopping, or bound to another
    /// repository), which are neither failures nor lost workers.
    #[serde(default)]
    pub releases: u32,
    /// How a report names it (the database's label).
    pub label: String,
    pub task: Task,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Task {
    /// Back up one database of a policy source.
    Backup {
        source: Box<SourceSpec>,
        database: String,
        backup_kind: BackupKind,
        #[serde(default)]
        compression: Option<i32>,
        /// For a physical source's log backup: the objective in minutes.
        #[serde(default)]
        log_every_minutes: Option<u32>,
    },
    /// Move points older than `after_days` into the archive repository.
    Archive {
        archive: ArchiveTarget,
        /// The time the dispatcher decided at (RFC 3339).
        now: String,
    },
    /// Restore a point into a new database.
    Restore {
        point: String,
        target: String,
        #[serde(default)]
        force: bool,
        #[serde(default)]
        clean: bool,
        #[serde(default)]
        jobs: usize,
        #[serde(default)]
        table: Option<String>,
        check: CheckLevel,
    },
}

/// The archive repository as the worker opens it: where the key is, never
/// the key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct ArchiveTarget {
    pub path: std::path::PathBuf,
    #[serde(default)]
    pub tier: Option<String>,
    pub after_days: u32,
    #[serde(default)]
    pub key_file: Option<std::path::PathBuf>,
    #[serde(default)]
    pub password_file: Option<std::path::PathBuf>,
    #[serde(default)]
    pub password_env: Option<String>,
}

impl Task {
    pub fn kind(&self) -> &'static str {
        match self {
            Task::Backup { .. } => "backup",
            Task::Archive { .. } => "archive",
            Task::Restore { .. } => "restore",
        }
    }
}

/// Why a message could not be taken as a job.
#[derive(Debug)]
pub enum Unreadable {
    /// Not a job at all (bad JSON, unknown kind, missing fields): poison.
    Malformed(String),
    /// A job for a newer worker: leave it on the queue.
    Newer(u32),
}

impl Job {
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).expect("a job serialises")
    }

    pub fn parse(text: &str) -> std::result::Result<Job, Unreadable> {
        let v: serde_json::Value = serde_json::from_str(text)
            .map_err(|e| Unreadable::Malformed(format!("not JSON: {e}")))?;
        let format = v
            .get("format")
            .and_then(|f| f.as_u64())
            .ok_or_else(|| Unreadable::Malformed("no job format number".into()))?;
        if format > u64::from(JOB_FORMAT) {
            return Err(Unreadable::Newer(format as u32));
        }
        serde_json::from_value(v).map_err(|e| Unreadable::Malformed(format!("not a job: {e}")))
    }
}

/// Refuse to put a URL holding a password on a queue.
pub fn check_no_secret(what: &str, url: &str) -> Result<()> {
    if crate::engine::postgres::redact(url) != url {
        return Err(Error::usage(format!(
            "{what} holds a password, which would travel in the queue message"
        ))
        .with_hint(
            "take the password out of the URL: give the workers PGPASSWORD or ~/.pgpass (MariaDB: MYSQL_PWD or ~/.my.cnf), or the source's password-env / password-file",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job() -> Job {
        Job {
            format: JOB_FORMAT,
            id: "run:s/d/full/2026-12-03T00:00:00Z".into(),
            dispatch: "abc".into(),
            repository: "r".into(),
            max_attempts: 3,
            failures: 0,
            last_error: None,
            releases: 0,
            label: "d".into(),
            task: Task::Restore {
                point: "0123".into(),
                target: "/tmp/x.db".into(),
                force: false,
                clean: false,
                jobs: 0,
                table: None,
                check: CheckLevel::Full,
            },
        }
    }

    #[test]
    fn round_trips_and_refuses_newer_or_malformed() {
        let j = Job::parse(&job().to_text()).unwrap();
        assert_eq!(j.id, job().id);
        let mut v: serde_json::Value = serde_json::from_str(&job().to_text()).unwrap();
        v["format"] = 2.into();
        assert!(matches!(
            Job::parse(&v.to_string()),
            Err(Unreadable::Newer(2))
        ));
        v["format"] = 1.into();
        v["task"]["kind"] = "explode".into();
        assert!(matches!(
            Job::parse(&v.to_string()),
            Err(Unreadable::Malformed(_))
        ));
        assert!(matches!(
            Job::parse("{not json"),
            Err(Unreadable::Malformed(_))
        ));
    }

    #[test]
    fn urls_with_passwords_are_refused() {
        assert!(check_no_secret("url", "postgres://u:pw@h/db").is_err());
        assert!(check_no_secret("url", "postgres://u@h/db").is_ok());
    }
}
